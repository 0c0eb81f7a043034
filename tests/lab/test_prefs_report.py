"""The report's intervals (checked against values worked by hand from t tables) and its sentences, which must follow
the numbers they are written from."""

from __future__ import annotations

import math

import polars as pl
import pytest

from analysis.lab import prefs_report
from analysis.lab.preferences import POOLED


def test_corrected_interval_by_hand():
    # values 1, 2, 3: mean 2, variance 1; ratio 0.25: (1/3 + 0.25) = 0.58333; t(0.975, 2 df) = 4.302653 (t table)
    mean, lo, hi = prefs_report.corrected_interval([1.0, 2.0, 3.0], 0.25)
    half = 4.302653 * math.sqrt(0.5833333)
    assert (mean, lo, hi) == (
        pytest.approx(2.0),
        pytest.approx(2.0 - half, abs=1e-4),
        pytest.approx(2.0 + half, abs=1e-4),
    )
    # one value: no interval; NaN values are ignored
    assert math.isnan(prefs_report.corrected_interval([0.5], 0.25)[1])
    assert prefs_report.corrected_interval([1.0, float("nan"), 3.0], 0.0)[0] == pytest.approx(2.0)


def _scores(own: dict[str, list[float]], pooled: dict[str, list[float]]) -> pl.DataFrame:
    rows = []
    for g in own:
        for s, (a, p) in enumerate(zip(own[g], pooled[g])):
            base = {"split": s, "n_train": 800, "n_train_people": 40, "test_group": g, "n_test": 200,
                    "n_test_people": 10, "auc": 0.6, "log_loss": 1.3, "lam": 1.0}  # fmt: skip
            rows.append(base | {"model": g, "is_pooled": False, "accuracy": a})
            rows.append(base | {"model": POOLED, "is_pooled": True, "accuracy": p, "n_train": 1600,
                                "n_train_people": 80})  # fmt: skip
    return pl.DataFrame(rows)


def test_group_table_gap_is_paired_per_split_and_sorted():
    scores = _scores(
        {"A": [0.50, 0.52, 0.54], "B": [0.40, 0.41, 0.42]}, {"A": [0.30, 0.32, 0.34], "B": [0.39, 0.42, 0.39]}
    )
    table = prefs_report.group_table(scores)
    assert table["group"].to_list() == ["A", "B"]  # the larger gap first
    a = table.row(0, named=True)
    assert a["gap"] == pytest.approx(0.20)
    # the paired differences are all 0.20: no spread, so the interval is the point
    assert a["gap_lo"] == pytest.approx(0.20) and a["gap_hi"] == pytest.approx(0.20)
    # accuracy 0.50, 0.52, 0.54: sd 0.02; ratio 10/40 (test over training people)
    half = 4.302653 * math.sqrt((1 / 3 + 0.25) * 0.02**2)
    assert a["accuracy_hi"] - a["accuracy"] == pytest.approx(half, abs=1e-5)


def test_headline_names_the_worst_served_group_only_when_its_gap_is_clear():
    clear = prefs_report.group_table(_scores({"A": [0.50, 0.52, 0.54]}, {"A": [0.30, 0.31, 0.35]}))
    text = prefs_report.headline(clear)
    assert "**A** worst" in text and "+20.0 points" in text
    unclear = prefs_report.group_table(_scores({"A": [0.50, 0.40, 0.45]}, {"A": [0.42, 0.46, 0.44]}))
    assert unclear["gap_lo"][0] < 0
    assert "No group's own model" in prefs_report.headline(unclear)


def test_misread_sentences_follow_the_signs():
    row = {"model": "A", "is_pooled": False}
    for axis, own, pooled, lo, hi in (("self_expression", -0.8, 0.3, 0.5, 1.7), ("secular", 0.2, 0.25, -0.1, 0.2)):
        row |= {axis: own, f"pooled_{axis}": pooled, f"misread_{axis}_lo": lo, f"misread_{axis}_hi": hi}
    sentences = prefs_report.misread_sentences(pl.DataFrame([row]))
    assert sentences == [
        "**A**: on survival / self-expression its choices reward survival (-0.80), the pooled model self-expression "
        "(+0.30)."
    ]  # the secular difference's interval holds zero: not stated
