"""The Values map's findings from a sample: estimates on hand-built data, stratum weights, repeated slots, and
intervals that cover the truth about as often as they say."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from analysis.explore import findings

H = ("a_hash", "b_hash", "c_hash", "d_hash")


def _frames(rows: list[tuple], positions: dict[str, tuple[float, float]]):
    """rows: (annotator, country, chosen_hash, [4 hashes], weight)."""
    comps = pl.DataFrame(
        {
            "comparison_id": [f"c{i}" for i in range(len(rows))],
            "annotator_id": [r[0] for r in rows],
            "country": [r[1] for r in rows],
            "chosen_hash": [r[2] for r in rows],
            **{h: [r[3][i] for r in rows] for i, h in enumerate(H)},
            "weight": [float(r[4]) for r in rows],
        }
    )
    scores = pl.DataFrame(
        {
            "text_hash": list(positions),
            "self_expression": [p[0] for p in positions.values()],
            "secular": [p[1] for p in positions.values()],
        }  # fmt: skip
    )
    return comps, scores


POS = {"E": (1.0, 0.0), "W": (-1.0, 0.0), "N": (0.0, 1.0), "S": (0.0, -1.0)}


def _value(table: pl.DataFrame, group: str, stat: str) -> float:
    return table.filter((pl.col("group") == group) & (pl.col("statistic") == stat))["value"][0]


def test_estimates_match_a_hand_computation():
    # country A always chooses E from {E, W, N, S}: revealed (1, 0); B chooses S: revealed (0, -1)
    rows = [(f"a{i}", "A", "E", ("E", "W", "N", "S"), 1) for i in range(6) for _ in range(3)]
    rows += [(f"b{i}", "B", "S", ("E", "W", "N", "S"), 1) for i in range(4) for _ in range(3)]
    table = findings.country_findings(findings.build_sample(*_frames(rows, POS)), llm_quadrant=(1, 1))
    assert _value(table, "A", "revealed_x") == pytest.approx(1.0) and _value(table, "A", "revealed_y") == 0
    assert _value(table, "B", "revealed_y") == pytest.approx(-1.0)
    assert _value(table, "All countries", "revealed_x") == pytest.approx(6 / 10)  # people count once each
    assert _value(table, "A", "people_spread") == pytest.approx(0.0)
    # chosen answers: A all at E (spread 0); everyone: 18 at E, 12 at S, centre (0.6, -0.4)
    centre = np.array([0.6, -0.4])
    expected = (18 * np.linalg.norm(np.array([1, 0]) - centre) + 12 * np.linalg.norm(np.array([0, -1]) - centre)) / 30
    assert _value(table, "All countries", "chosen_spread") == pytest.approx(expected)
    assert _value(table, "A", "share_in_llm_quadrant") == 1.0  # E = (1, 0) lies in (+, +): an axis counts as +
    assert _value(table, "B", "share_in_llm_quadrant") == 0.0
    for pole in ("traditional", "secular", "survival", "self_expression"):
        assert _value(table, "A", f"coverage_{pole}") == 1.0  # every set holds all four poles
    n = table.filter(pl.col("statistic") == "revealed_x").select("group", "n_people", "n_comparisons").rows()
    assert set(n) == {("A", 6, 18), ("B", 4, 12), ("All countries", 10, 30)}


def test_a_repeated_slot_is_one_offered_text_and_coverage_counts_sets():
    # offered {E, E, W, N}: distinct texts E, W, N -> mean (0, 1/3); choosing E reveals (1, -1/3)
    rows = [("p", "A", "E", ("E", "E", "W", "N"), 1), ("p", "A", "E", ("E", "W", "N", "S"), 1)]
    table = findings.country_findings(findings.build_sample(*_frames(rows, POS)), llm_quadrant=None)
    assert _value(table, "A", "revealed_y") == pytest.approx((-1 / 3 + 0) / 2)
    assert _value(table, "A", "coverage_traditional") == pytest.approx(0.5)  # S is offered in one set of two
    assert "share_in_llm_quadrant" not in table["statistic"].to_list()


def test_stratum_weights_count_comparisons_as_the_data_does():
    # one person: a weight-3 comparison choosing E, a weight-1 one choosing W (offered mean 0): revealed x = 0.5
    rows = [("p", "A", "E", ("E", "W", "N", "S"), 3), ("p", "A", "W", ("E", "W", "N", "S"), 1)]
    table = findings.country_findings(findings.build_sample(*_frames(rows, POS)), llm_quadrant=(1, 1))
    assert _value(table, "A", "revealed_x") == pytest.approx((3 * 1 + 1 * -1) / 4)
    assert _value(table, "A", "share_in_llm_quadrant") == pytest.approx(0.75)


def test_intervals_cover_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(5)
    covered, sims = 0, 120
    for sim in range(sims):
        # 80 people, each with 5 comparisons; a person chooses E with their own probability ~ Beta(3, 3)
        p = rng.beta(3, 3, size=80)
        rows = []
        for i, pi in enumerate(p):
            for _ in range(5):
                rows.append((f"p{i}", "A", "E" if rng.random() < pi else "W", ("E", "W", "N", "S"), 1))
        table = findings.country_findings(findings.build_sample(*_frames(rows, POS)), None, b=300, seed=sim)
        row = table.filter((pl.col("group") == "A") & (pl.col("statistic") == "revealed_x")).row(0, named=True)
        truth = 2 * 0.5 - 1  # E(revealed x) = E(2p - 1) with p ~ Beta(3, 3): 0
        covered += row["lo"] <= truth <= row["hi"]
    assert 0.88 <= covered / sims <= 0.99


def test_more_people_give_narrower_intervals():
    def width(n_people: int) -> float:
        rng = np.random.default_rng(1)
        rows = [(f"p{i}", "A", "E" if rng.random() < 0.6 else "W", ("E", "W", "N", "S"), 1)
                for i in range(n_people) for _ in range(4)]  # fmt: skip
        t = findings.country_findings(findings.build_sample(*_frames(rows, POS)), None)
        r = t.filter((pl.col("group") == "A") & (pl.col("statistic") == "revealed_x")).row(0, named=True)
        return r["hi"] - r["lo"]

    assert width(400) < width(100) / 1.5


def test_llm_spread_and_the_headline_follow_the_numbers():
    llm = np.array([[0.5, 0.5], [0.6, 0.4], [0.4, 0.6], [0.5, 0.55]] * 10)
    out = findings.llm_findings(llm)
    assert out["quadrant"] == (1, 1) and out["n"] == 40
    v, lo, hi = out["llm_spread"]
    assert lo <= v <= hi and v == pytest.approx(np.linalg.norm(llm - llm.mean(axis=0), axis=1).mean())
    assert findings.spread_sentence((0.8, 0.7, 0.9), (0.2, 0.1, 0.3), 100).startswith("People's choices spread further")
    assert findings.spread_sentence((0.2, 0.1, 0.3), (0.8, 0.7, 0.9), 100).startswith("The LLMs' answers spread")
    assert findings.spread_sentence((0.5, 0.3, 0.7), (0.6, 0.4, 0.8), 100).startswith("No clear difference")
    assert "Not enough" in findings.spread_sentence((math.nan,) * 3, (0.2, 0.1, 0.3), 0)
    assert findings.llm_findings(np.zeros((1, 2)))["quadrant"] is None


def test_no_comparisons_give_an_empty_table():
    empty = pl.DataFrame(schema={"annotator_id": pl.String, "country": pl.String, "chosen_hash": pl.String,
                                 **{h: pl.String for h in H}})  # fmt: skip
    sample = findings.build_sample(empty, pl.DataFrame(schema={"text_hash": pl.String, "self_expression": pl.Float64,
                                                              "secular": pl.Float64}))  # fmt: skip
    assert findings.country_findings(sample, None).is_empty()
