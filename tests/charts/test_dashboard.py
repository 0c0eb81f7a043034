"""The overview/agreement figures carry the data they are given (one trace per group, values unchanged)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from analysis.explore import agreement, overview
from analysis.filters import Filters
from charts import dashboard


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


def test_overview_figures(con):
    f = Filters()
    by = overview.by_country_language(con, f)
    fig = dashboard.country_language_bars(by, "comparisons")
    assert len(fig.data) == by["language"].n_unique()
    assert sum(sum(t.y) for t in fig.data) == by["comparisons"].sum()
    pb = overview.position_bias(con, f)
    fig = dashboard.position_bias_bars(pb)
    assert [t.name for t in fig.data][0] == "All countries"
    assert len(fig.data) == pb["country"].n_unique()
    assert any(s.y0 == 0.25 for s in fig.layout.shapes)
    fb = overview.feedback_share(con, f)
    assert len(dashboard.feedback_lines(fb).data) == fb["country"].n_unique()
    demo = overview.demographics(con, f).filter(pl.col("dimension") == "Age")
    fig = dashboard.share_bars_h(demo, "Age")
    assert sorted(fig.data[0].x) == sorted(demo["annotators"].to_list())
    per_ann = overview.conversations_per_annotator(con, f)
    assert len(dashboard.histogram(per_ann["conversations"], "x", "y").data[0].x) == per_ann.height


def test_agreement_figures():
    ch = pl.DataFrame(
        [("P", "France", "t1", 4), ("P", "India", "t2", 4), ("P", "Italy", "t1", 2), ("P", "Italy", "t2", 2)],
        schema=["unit_id", "country", "chosen_hash", "n"], orient="row",
    )  # fmt: skip
    fig = dashboard.jsd_heatmap(agreement.country_pair_matrix(ch, 1))
    z, order = fig.data[0].z, list(fig.data[0].x)
    assert order == ["France", "Italy", "India"]  # the study's fixed country order, not alphabetical
    assert z[order.index("France")][order.index("India")] == pytest.approx(1.0)
    assert z[0][0] is None  # no diagonal
    cm = agreement.country_metrics(ch, 1)
    assert len(dashboard.box_by_country(cm, "top1_share", "t").data) == 3
    chosen = pl.DataFrame({"text": ["a" * 80, "b"], "All countries": [0.5, 0.5], "France": [1.0, 0.0]})
    fig = dashboard.candidate_share_bars(chosen, ["All countries", "France"])
    assert len(fig.data) == 2 and fig.data[0].y[-1].startswith("#1 ") and fig.data[0].y[-1].endswith("…")
    md = pl.DataFrame({"text": ["### **Yes** <a href='x'>go</a>"], "France": [1.0]})
    label = dashboard.candidate_share_bars(md, ["France"]).data[0].y[0]
    assert label == "#1 Yes &lt;a href=&#x27;x&#x27;&gt;go&lt;/a&gt;"  # marks removed, tags shown as text
