"""Text from data made safe for st.markdown, checked by rendering it with a CommonMark parser that passes raw HTML
through (markdown-it-py with html=True, stricter than Streamlit's renderer, which drops raw HTML): whatever the data
holds, the HTML has no image, script, frame or event handler, and plain() text reads exactly as written."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.markdown_check import RENDER, assert_loads_nothing
from ui import safe_text

ATTACKS = [
    "![x](http://127.0.0.1:9/x.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "\\![x](http://127.0.0.1:9/e.png)",
    "\\\\![x](http://127.0.0.1:9/ee.png)",
    "[![i](http://127.0.0.1:9/i.png)](http://127.0.0.1:9/l)",
    "![r][ref]\n\n[ref]: http://127.0.0.1:9/r.png",
    "<iframe src=http://127.0.0.1:9/f></iframe>",
    "<svg onload=alert(1)>",
    "<http://127.0.0.1:9/auto>",
    "<a href='x' onclick=alert(1)>x</a>",
    '<div style="background:url(http://127.0.0.1:9/bg.png)">',
]
PIECES = st.one_of(
    st.sampled_from(ATTACKS),
    st.sampled_from(["`", "```\n", "\n", "\n\n", "    ", "**", "# ", "| a |\n|---|\n", "\\", "!", "[", "](", ")", "<"]),
    st.text(max_size=8),
)


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_in_a_response_renders_as_text(attack):
    assert_loads_nothing(safe_text.markdown(attack))


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=10).map("".join))
def test_no_mix_of_markdown_and_html_loads_anything(raw):
    assert_loads_nothing(safe_text.markdown(raw))
    assert_loads_nothing(safe_text.plain(raw))


def test_the_markdown_llms_write_still_renders():
    answer = (
        "### Three views\n\n**Bold** and *italic*.\n\n* one\n* two\n\n1. first\n2. second\n\n"
        "| country | share |\n|---|---|\n| India | 40% |\n\n```python\nprint('<b>hi</b>')\n```\n\n"
        "See [the paper](https://arxiv.org/abs/2507.09650) and `x < y`."
    )
    rendered = RENDER(safe_text.markdown(answer))
    for tag in (
        "<h6>Three views</h6>",
        "<strong>",
        "<em>",
        "<ul>",
        "<ol>",
        "<table>",
        '<code class="language-python">',
    ):
        assert tag in rendered
    assert "print(&#x27;&lt;b&gt;hi&lt;/b&gt;&#x27;)" in rendered or "print('&lt;b&gt;hi&lt;/b&gt;')" in rendered
    assert '<a href="https://arxiv.org/abs/2507.09650">the paper</a>' in rendered
    assert "<code>x &lt; y</code>" in rendered  # code spans are left exactly as written


def test_headers_from_data_sit_below_the_pages_own():
    rendered = RENDER(safe_text.markdown("# One\n\n## Two\n\n### Three\n\nA `x` # not a header\n\n```\n# code\n```"))
    assert "<h4>One</h4>" in rendered and "<h5>Two</h5>" in rendered and "<h6>Three</h6>" in rendered
    assert "# not a header" in rendered and "# code" in rendered
    assert "<h1>" not in rendered and "<h2>" not in rendered and "<h3>" not in rendered


def test_an_image_keeps_its_alt_text_and_link_and_html_shows_as_written():
    rendered = RENDER(safe_text.markdown("Look: ![a chart](http://127.0.0.1:9/x.png) <b>now</b> $5 and $6"))
    assert '!<a href="http://127.0.0.1:9/x.png">a chart</a>' in rendered
    assert "&lt;b&gt;now&lt;/b&gt;" in rendered
    assert "$5 and $6" in rendered  # no maths from data


def _visible(rendered: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rendered)).split())


@settings(max_examples=400, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=40))
def test_plain_text_reads_exactly_as_written(raw):
    rendered = RENDER(safe_text.plain(raw))
    assert re.sub(r"<(/?p|br /|/?strong|/?em)>", "", rendered).count("<") == 0, rendered
    assert _visible(rendered) == " ".join(raw.split())


def test_none_is_empty():
    assert safe_text.plain(None) == "" and safe_text.markdown(None) == ""


LITERALS = ATTACKS + [
    "http://127.0.0.1:9/bare",
    "www.example.com/x",
    ":red[x] :material/home: $x$",
    "a `tick` and ``two``",
    "`edge`",
    " spaced ",
    "line one\nline two",
    "",
    None,
    42,
]


@pytest.mark.parametrize("value", LITERALS)
def test_literal_shows_the_value_exactly_as_code_and_links_nothing(value):
    from tests.markdown_check import bare_urls

    out = safe_text.literal(value)
    rendered = assert_loads_nothing(out)
    assert "<a " not in rendered and bare_urls(out) == []
    expected = "" if value is None else re.sub(r"[\r\n]+", " ", str(value))
    if expected.strip():
        code = re.fullmatch(r"<p><code>(.*)</code></p>\n", rendered, re.S)
        assert code, rendered
        assert html.unescape(code.group(1)) == expected


def test_plain_text_still_autolinks_which_is_why_fields_use_literal():
    from tests.markdown_check import bare_urls

    assert bare_urls(safe_text.plain("see http://127.0.0.1:9/x")) == ["http://127.0.0.1:9/x"]
    assert bare_urls(safe_text.literal("see http://127.0.0.1:9/x")) == []


def test_quoting_escapes_the_sentence_and_shows_each_name_as_code():
    from tests.markdown_check import bare_urls

    names = ["![g](http://127.0.0.1:9/g.png)", "![g](http://127.0.0.1:9/g.png) 2", "http://127.0.0.1:9/x **b**"]
    sentence = f"Nearest {names[1]} (0.8 away), then {names[0]} and {names[2]}; **not bold** either."
    out = safe_text.quoting(sentence, names)
    rendered = assert_loads_nothing(out)
    assert "<strong>" not in rendered and "<a " not in rendered and bare_urls(out) == []
    codes = [html.unescape(c) for c in re.findall(r"<code>(.*?)</code>", rendered)]
    assert codes == [names[1], names[0], names[2]]
    assert safe_text.quoting("plain words", []) == safe_text.plain("plain words")
