"""What a test needs to say "this Markdown loads nothing": render it with a CommonMark parser that passes raw HTML
through (markdown-it-py, html=True: stricter than Streamlit's renderer, which drops raw HTML) and look for any tag
that fetches or runs something, or any event handler inside a tag."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

RENDER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render
LOADING_TAGS = re.compile(
    r"<\s*(img|script|iframe|frame|video|audio|source|object|embed|link|style|svg|picture|meta|base|form|input)\b",
    re.I,
)
HANDLER = re.compile(r"<[^>]*\son\w+\s*=", re.I)


def assert_loads_nothing(markdown_text: str) -> str:
    """Fail when ``markdown_text`` renders to HTML that loads or runs anything; return that HTML."""
    rendered = RENDER(markdown_text)
    assert not LOADING_TAGS.search(rendered), rendered
    assert not HANDLER.search(rendered), rendered
    return rendered


BARE_URL = re.compile(r"(https?://|www\.)\S+", re.I)
PARSE = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).parse


def bare_urls(markdown_text: str) -> list[str]:
    """URLs in the text nodes of ``markdown_text``: what Streamlit's renderer (remark-gfm) would turn into links.
    Code spans and fenced code are not text nodes, so a URL there stays text."""
    found = []
    for token in PARSE(markdown_text):
        for child in token.children or ():
            if child.type == "text":
                found += [m.group(0) for m in BARE_URL.finditer(child.content)]
    return found
