"""The Preferences page's figures, built from small frames: what each trace and annotation carries."""

from __future__ import annotations

import polars as pl
import pytest

from analysis.lab.preferences import POOLED
from charts import prefs as prefs_charts


def _groups():
    return pl.DataFrame({
        "group": ["India", "France"], "accuracy": [0.5, 0.45], "pooled_accuracy": [0.3, 0.42],
        "gap": [0.2, 0.03], "gap_lo": [0.1, -0.02], "gap_hi": [0.3, 0.08],
        "pooled_auc": [0.55, 0.7], "pooled_log_loss": [1.38, 1.3],
    })  # fmt: skip


def test_gap_bars_in_points_with_asymmetric_intervals_largest_on_top():
    fig = prefs_charts.gap_figure(_groups(), "country")
    bar = fig.data[0]
    assert list(bar.y) == ["France", "India"]  # plotly draws the last category on top
    assert list(bar.x) == pytest.approx([3.0, 20.0])
    assert list(bar.error_x.array) == pytest.approx([5.0, 10.0])
    assert list(bar.error_x.arrayminus) == pytest.approx([5.0, 10.0])


def test_transfer_heatmap_puts_the_pooled_model_first():
    transfer = pl.DataFrame({
        "train": ["India", "India", "France", "France"], "test": ["India", "France", "India", "France"],
        "accuracy": [0.5, 0.2, 0.25, 0.45],
    })  # fmt: skip
    fig = prefs_charts.transfer_figure(transfer, _groups())
    heat = fig.data[0]
    assert list(heat.y) == [prefs_charts.POOLED_LABEL, "France", "India"]
    assert list(heat.x) == ["France", "India"]
    assert [list(r) for r in heat.z] == [[0.42, 0.3], [0.45, 0.25], [0.2, 0.5]]
    assert heat.text[2][1] == "50.0%"


def test_axis_arrows_one_per_model_and_faint_pooled_ones():
    row = {"model": "India", "texts_of": "India", "is_pooled": False, "self_expression": -1.0,
           "self_expression_lo": -1.5, "self_expression_hi": -0.5, "secular": -0.8, "secular_lo": -1.0,
           "secular_hi": -0.6, "pooled_self_expression": 0.4, "pooled_secular": -0.2}  # fmt: skip
    pooled = {k: (None if k.startswith("pooled_") else v) for k, v in row.items()} | {
        "model": POOLED, "texts_of": POOLED, "is_pooled": True, "self_expression": 0.3, "secular": -0.1,
        "self_expression_lo": 0.2, "self_expression_hi": 0.4, "secular_lo": -0.2, "secular_hi": 0.0,
    }  # fmt: skip
    fig = prefs_charts.axis_figure(pl.DataFrame([pooled, row]), "country")
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 3  # the pooled model, India, and the pooled model read on India's texts (faint)
    tips = {(a.x, a.y) for a in arrows}
    assert {(0.3, -0.1), (-1.0, -0.8), (0.4, -0.2)} == tips
    india = next(t for t in fig.data if t.name == "India")
    assert list(india.error_x.arrayminus) == pytest.approx([0.5])
