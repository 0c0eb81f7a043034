"""The Tour's handout: one self-contained HTML document (plotly.js inlined once, nothing loaded from elsewhere), every
text from the data escaped, and the labels on top."""

from __future__ import annotations

import re

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from charts import handout
from charts.tour import TourFigure, TourPart, TourStep

HOSTILE = '<script src="http://evil.example/x.js"></script><img src="https://evil.example/p.png">'


def _doc() -> str:
    figure = TourFigure("bars", go.Figure(go.Bar(x=["a", "b"], y=[1, 2])), f"caption naming {HOSTILE}")
    steps = [
        TourStep("sampling", 2, "Step two", "a claim", (TourPart(None, f"sentence about {HOSTILE}", (figure,)),),
                 ("SYNTHETIC demo data",)),
        TourStep("rewards", 4, "Step four", "another", (TourPart("From the data", None, missing="fit it first"),)),
    ]  # fmt: skip
    meta = handout.HandoutMeta("Title", "made now", ("SYNTHETIC label",), "footer")
    return handout.handout_html(steps, meta, {"sampling": "http://10.0.0.5:8501/tour?tour_step=sampling"})


def test_the_handout_loads_nothing_from_elsewhere_and_inlines_plotly_once():
    doc = _doc()
    assert not re.search(r"<script[^>]*\bsrc=", doc, re.I)
    assert not re.search(r"<link[^>]*\bhref=", doc, re.I)
    assert not re.search(r"<img[^>]*\bsrc=", doc, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", doc, re.I)
    assert doc.count(get_plotlyjs()) == 1
    assert doc.count('class="plotly-graph-div"') == 1


def test_texts_are_escaped_and_labels_and_links_are_shown_as_text():
    doc = _doc()
    assert "evil.example" in doc and "&lt;script src=&quot;http://evil.example/x.js&quot;&gt;" in doc
    assert '<p class="label">SYNTHETIC label</p>' in doc and '<p class="label">SYNTHETIC demo data</p>' in doc
    assert '<p class="missing">fit it first</p>' in doc and "<h3>From the data</h3>" in doc
    assert "<code>http://10.0.0.5:8501/tour?tour_step=sampling</code>" in doc
    assert "<a href" not in doc.replace(get_plotlyjs(), "")  # the addresses are text to copy, never links
