"""The Sampling lab's and Reward recovery's figures, built from the frames the lab modules return."""

from __future__ import annotations

import numpy as np

from analysis.lab import evaluation, recovery_report, sampling_report, simulate, strategies
from analysis.lab.population import default_population
from charts import plane, reward, sampling


def test_example_sets_one_panel_per_strategy_with_outlines():
    sets = {s: strategies.draw_sets(s, 2, 4, 0) for s in ("iid", "nc")}
    fig = sampling.example_sets_figure(sets, {"iid": "iid", "nc": "nc"}, [("m", (0.5, 0.4))], 0.5)
    assert [a.text for a in fig.layout.annotations[:2]] == ["iid", "nc"]  # subplot titles
    assert sum(1 for t in fig.data if t.name == "prompt 1") == 2  # one per panel
    assert any(t.fill == "toself" for t in fig.data)  # a set's outline
    assert fig.layout.xaxis.title.text == plane.X_TITLE


def test_coverage_bars_with_the_papers_diamonds():
    table = evaluation.evaluate(["iid", "nc"], 50, 4, [0, 1])
    fig = sampling.coverage_figure(table, sampling_report.REPORTED_COVERAGE_AT_4)
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 2 and list(bars[0].x) == ["iid", "nc"]
    diamonds = [t for t in fig.data if t.type == "scatter"]
    assert list(diamonds[0].y) == [0.15, 0.60]


def test_pasted_candidates_figure():
    pts = np.array([[0.5, -0.6], [-0.9, 0.2]])
    fig = sampling.candidates_figure(pts, ["a", "b" * 100], 0.5, ["Traditional", "Survival"])
    assert list(fig.data[-1].text) == ["1", "2"]
    assert fig.data[-1].customdata[1][0].endswith("...")


def test_reward_figures_from_report_frames():
    config = simulate.SimConfig(n_annotators=60, comparisons_per_annotator=4, test_prompts=10,
                                models=("pooled", "conditional"))  # fmt: skip
    df = simulate.run_once(config, "iid", 0, [2, 4])
    fig = reward.learning_curves_figure(recovery_report.curves(df, "accuracy"), "accuracy", ["iid"])
    names = {t.name for t in fig.data if t.showlegend is not False}
    assert {"pooled (one reward for all)", "group-conditioned (one per country)"} <= names
    fig = reward.ideal_points_figure(recovery_report.group_table(df), default_population(), ["iid"])
    truth = next(t for t in fig.data if (t.name or "").startswith("true ideal point"))
    assert list(truth.text) == [g.name for g in default_population().groups]
    assert fig.layout.xaxis.title.text == plane.X_TITLE
