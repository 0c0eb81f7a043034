"""Text that does not come from the project's own code, made safe for st.markdown. Pure functions (no Streamlit).

- ``plain(text)``: data fields, ids, URL parameters, file names, model names, error details. Every Markdown and
  Streamlit directive character is escaped, so the text shows exactly as it is and nothing in it is formatting, an
  image or HTML.
- ``literal(value)``: a short data value where a link makes no sense (a country, an age bucket, an id, a model or
  file name): an inline code span. Nothing in it is Markdown, and unlike escaped text, a URL in it is not turned
  into a link (remark-gfm links bare URLs in text nodes after parsing, never in code); copy-paste gives the value.
- ``quoting(text, values)``: a sentence the project computed that quotes data values: plain, the values literal.
- ``markdown(text)``: prompts, responses and feedback, which LLMs and people write in Markdown. Headers (one size
  below the page's own: # -> ####), emphasis, lists, tables, links written as links and code render; an image is
  shown as a link (``![x](url)`` -> ``!`` and a link, never loaded); raw HTML is shown as text; ``$`` is not read as
  maths. Code spans and fenced blocks are left exactly as written (nothing renders inside them).

  Streamlit's renderer (remark-gfm) turns bare URLs in any text into links after parsing, whatever the escaping: a
  link is followed only on a click; it never loads anything by itself.

  The result is then parsed by a CommonMark parser (markdown-it-py, the same grammar as Streamlit's renderer, with
  raw HTML switched on to be stricter): if any image or HTML survived (Markdown the escaping above misread), the whole
  text is shown as plain text instead.

Streamlit itself escapes raw HTML when unsafe_allow_html is False (the explorer never sets it); these functions make
the rest of the rule hold: no text from data, a link or an upload makes the browser fetch anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markdown_it import MarkdownIt

_PLAIN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|$~!():@+-.{}&"})
# A fence: backticks (an info string without backticks) or tildes, to its closing fence or the end of the text.
_FENCE = re.compile(r"^ {0,3}(`{3,}(?=[^`\n]*\n)|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S)
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)[^\n]*?(?<!`)\1(?!`)")  # on one line, not after a backslash
_HEADER = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)", re.M)
_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_UNSAFE_TOKENS = frozenset({"image", "html_block", "html_inline"})


def plain(text: object) -> str:
    """Any value as literal text for st.markdown: nothing in it is formatting, a link or an image."""
    if text is None:
        return ""
    return "  \n".join(line.translate(_PLAIN_SPECIAL) for line in str(text).splitlines())


def literal(value: object) -> str:
    """A data value as an inline code span, exactly as it is (line breaks become spaces: a span is one line)."""
    if value is None:
        return ""
    text = re.sub(r"[\r\n]+", " ", str(value))
    if not text.strip():
        return plain(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"  # CommonMark strips one space on each side: the value comes back exact


def quoting(text: object, values: Iterable[object]) -> str:
    """A sentence computed by the project that quotes data ``values`` (group or model names): the sentence as plain
    text, each value in it shown as ``literal`` (the longest first, so a name inside another stays whole)."""
    out = plain(text)
    names = sorted({str(v) for v in values if v not in (None, "") and "\n" not in str(v)}, key=len, reverse=True)
    slots: dict[str, str] = {}
    for i, name in enumerate(names):
        slot = f"\x00{i}\x00"
        out = out.replace(plain(name), slot)
        slots[slot] = literal(name)
    for slot, shown in slots.items():
        out = out.replace(slot, shown)
    return out


def _prose(text: str) -> str:
    """Markdown outside code: images become links, HTML shows as text, no maths, no autolinked bare URLs."""
    # ![alt](url) -> "&#33;" and a link, never an image; an odd run of backslashes before "!" already escapes it.
    text = re.sub(r"(\\*)!(?=\s*\[)", lambda m: m.group(0) if len(m.group(1)) % 2 else m.group(1) + "&#33;", text)
    text = text.replace("<", "&lt;")  # raw HTML and <http://...> autolinks show as text
    return text.replace("$", "\\$")  # no LaTeX from data


def _outside(pattern: re.Pattern, text: str, fn) -> str:
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(fn(text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(fn(text[last:]))
    return "".join(out)


def _renders_unsafe(markdown_text: str) -> bool:
    """Whether a CommonMark parser finds an image or raw HTML in ``markdown_text``."""
    for token in _PARSER.parse(markdown_text):
        if token.type in _UNSAFE_TOKENS or any(c.type in _UNSAFE_TOKENS for c in token.children or ()):
            return True
    return False


def _demote_headers(text: str) -> str:
    """Headers from data sit below the page's own: # -> ####, ## -> #####, ### and deeper -> ######."""
    return _HEADER.sub(lambda m: m.group(1) + "#" * min(6, len(m.group(2)) + 3), text)


def markdown(text: object) -> str:
    """Markdown from data, rendered as Markdown but unable to load anything (see the module docstring)."""
    if text is None:
        return ""
    out = _outside(_FENCE, str(text), lambda part: _outside(_CODE_SPAN, _demote_headers(part), _prose))
    return plain(text) if _renders_unsafe(out) else out
