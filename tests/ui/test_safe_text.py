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
