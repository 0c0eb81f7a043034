"""Agreement metrics against hand-computed cases (and scipy as an independent check)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy as scipy_entropy

from analysis.explore import agreement


# ---- one distribution -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "counts, bits",
    [
        ([5], 0.0),
        ([1, 1], 1.0),
        ([3, 3, 3, 3], 2.0),
        ([2, 1, 1], 1.5),  # -(1/2 log 1/2 + 2 * 1/4 log 1/4) = 0.5 + 1
        ([4, 0, 0, 4], 1.0),  # zeros do not count
    ],
)
def test_entropy_hand_computed(counts, bits):
    assert agreement.entropy_bits(counts) == pytest.approx(bits)
    assert agreement.effective_choices(counts) == pytest.approx(2**bits)


def test_entropy_matches_scipy_on_random_counts():
    rng = np.random.default_rng(1)
    for _ in range(20):
        counts = rng.integers(0, 9, size=rng.integers(1, 8)).astype(float)
        if counts.sum() == 0:
            continue
        assert agreement.entropy_bits(counts) == pytest.approx(scipy_entropy(counts, base=2))


@pytest.mark.parametrize("counts, share", [([7], 1.0), ([2, 1, 1], 0.5), ([1, 1, 1, 1], 0.25), ([0, 3, 1], 0.75)])
def test_top1_agreement(counts, share):
    assert agreement.top1_agreement(counts) == pytest.approx(share)


def test_jsd_hand_computed():
    assert agreement.js_divergence([1, 0], [1, 0]) == pytest.approx(0.0)
    assert agreement.js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)  # disjoint: the maximum, 1 bit
    # p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4); KL(p||m) = log2(4/3); KL(q||m) = 1/2 log2(2/3) + 1/2 log2(2)
    expected = 0.5 * math.log2(4 / 3) + 0.5 * (0.5 * math.log2(2 / 3) + 0.5)
    assert expected == pytest.approx(0.311278, abs=1e-6)
    assert agreement.js_divergence([2, 0], [5, 5]) == pytest.approx(expected)
    assert agreement.js_divergence([5, 5], [2, 0]) == pytest.approx(expected)  # symmetric


def test_jsd_matches_scipy_on_random_counts():
    rng = np.random.default_rng(2)
    for _ in range(20):
        p = rng.integers(0, 6, size=5).astype(float) + np.array([1, 0, 0, 0, 0])
        q = rng.integers(0, 6, size=5).astype(float) + np.array([0, 0, 0, 0, 1])
        assert agreement.js_divergence(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2, abs=1e-9)


def test_bad_distributions_are_refused():
    with pytest.raises(ValueError):
        agreement.entropy_bits([])
    with pytest.raises(ValueError):
        agreement.entropy_bits([0, 0])
    with pytest.raises(ValueError):
        agreement.js_divergence([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        agreement.top1_agreement([1, -1])


def test_pairwise_jsd_uses_the_union_of_texts():
    pairs = agreement.pairwise_jsd({"France": {"t1": 2}, "India": {"t2": 1}, "Italy": {"t1": 1, "t2": 1}})
    got = {(a, b): v for a, b, v in pairs}
    assert got[("France", "India")] == pytest.approx(1.0)
    assert got[("France", "Italy")] == pytest.approx(0.311278, abs=1e-6)
    assert got[("India", "Italy")] == pytest.approx(0.311278, abs=1e-6)


# ---- many prompts at once ---------------------------------------------------------------------------------------
def _choices(rows):
    return pl.DataFrame(rows, schema=["unit_id", "country", "chosen_hash", "n"], orient="row")


def test_prompt_metrics_hand_computed():
    ch = _choices(
        [
            # P1: everyone in both countries chose t1: full agreement, no divergence.
            ("P1", "France", "t1", 4),
            ("P1", "India", "t1", 3),
            # P2: France all t1, India all t2: overall 50/50 (1 bit), countries fully divided (JSD 1).
            ("P2", "France", "t1", 3),
            ("P2", "India", "t2", 3),
            # P3: France t1 x2, Italy t1 x1 + t2 x1 (Italy below min_per_country=3 when it has 2 choices).
            ("P3", "France", "t1", 2),
            ("P3", "France", "t3", 2),
            ("P3", "Italy", "t1", 1),
            ("P3", "Italy", "t2", 1),
        ]
    )
    m = {r["unit_id"]: r for r in agreement.prompt_metrics(ch, min_per_country=3).iter_rows(named=True)}
    assert m["P1"]["n_choices"] == 7
    assert m["P1"]["top1_share"] == pytest.approx(1.0)
    assert m["P1"]["entropy_bits"] == pytest.approx(0.0)
    assert m["P1"]["n_countries"] == 2
    assert m["P1"]["jsd_mean"] == pytest.approx(0.0)

    assert m["P2"]["top1_share"] == pytest.approx(0.5)
    assert m["P2"]["entropy_bits"] == pytest.approx(1.0)
    assert m["P2"]["jsd_mean"] == pytest.approx(1.0)
    assert m["P2"]["jsd_max"] == pytest.approx(1.0)
    assert m["P2"]["most_divided_pair"] == "France vs India"

    # P3 overall: t1 3/6, t3 2/6, t2 1/6.
    expected_h = -(0.5 * math.log2(0.5) + (1 / 3) * math.log2(1 / 3) + (1 / 6) * math.log2(1 / 6))
    assert m["P3"]["entropy_bits"] == pytest.approx(expected_h)
    assert m["P3"]["top1_hash"] == "t1"
    assert m["P3"]["n_texts_chosen"] == 3
    assert m["P3"]["n_countries"] == 1  # Italy has 2 < 3 choices
    assert m["P3"]["jsd_mean"] is None


def test_prompt_metrics_three_countries_mean_and_max():
    ch = _choices(
        [
            ("P", "France", "t1", 4),
            ("P", "India", "t2", 4),
            ("P", "Italy", "t1", 2),
            ("P", "Italy", "t2", 2),
        ]
    )
    row = agreement.prompt_metrics(ch, min_per_country=1).row(0, named=True)
    # France-India 1.0, France-Italy 0.3113, India-Italy 0.3113
    assert row["jsd_max"] == pytest.approx(1.0)
    assert row["jsd_mean"] == pytest.approx((1.0 + 2 * 0.311278) / 3, abs=1e-6)
    assert row["n_countries"] == 3
    assert row["most_divided_pair"] == "France vs India"


def test_prompt_metrics_agrees_with_the_scalar_functions():
    rng = np.random.default_rng(3)
    rows = []
    for p in range(15):
        for country in ("Brazil", "France", "India"):
            for t in range(4):
                n = int(rng.integers(0, 4))
                if n:
                    rows.append((f"P{p}", country, f"P{p}t{t}", n))
    ch = _choices(rows)
    metrics = agreement.prompt_metrics(ch, min_per_country=1)
    for r in metrics.iter_rows(named=True):
        sub = ch.filter(pl.col("unit_id") == r["unit_id"])
        overall = sub.group_by("chosen_hash").agg(pl.col("n").sum())["n"].to_numpy()
        assert r["entropy_bits"] == pytest.approx(agreement.entropy_bits(overall))
        assert r["top1_share"] == pytest.approx(agreement.top1_agreement(overall))
        groups: dict[str, dict[str, float]] = {}
        for c, h, n in sub.select("country", "chosen_hash", "n").iter_rows():
            groups.setdefault(c, {})[h] = groups.get(c, {}).get(h, 0) + n
        pairs = agreement.pairwise_jsd(groups)
        if len(pairs):
            assert r["jsd_mean"] == pytest.approx(np.mean([v for *_, v in pairs]))
            assert r["jsd_max"] == pytest.approx(max(v for *_, v in pairs))


def test_prompt_metrics_empty_and_bad_input():
    empty = agreement.prompt_metrics(_choices([]).cast({"n": pl.Int64}))
    assert empty.is_empty() and empty.columns == list(agreement.METRIC_SCHEMA)
    with pytest.raises(ValueError, match="missing"):
        agreement.prompt_metrics(pl.DataFrame({"unit_id": ["P"], "n": [1]}))


def test_sort_prompts_orders_by_the_chosen_measure():
    m = pl.DataFrame(
        {
            "unit_id": ["a", "b", "c"],
            "entropy_bits": [0.5, 2.0, 1.0],
            "jsd_mean": [0.9, None, 0.1],
            "top1_share": [0.8, 0.2, 0.5],
            "n_annotators": [10, 12, 30],
        }
    )
    assert agreement.sort_prompts(m, "contested")["unit_id"].to_list() == ["b", "c", "a"]
    assert agreement.sort_prompts(m, "divided")["unit_id"].to_list() == ["a", "c", "b"]  # nulls last
    assert agreement.sort_prompts(m, "agreed")["unit_id"].to_list() == ["a", "c", "b"]
    assert agreement.sort_prompts(m, "answered")["unit_id"].to_list() == ["c", "b", "a"]
    with pytest.raises(ValueError, match="unknown sort"):
        agreement.sort_prompts(m, "loudest")


def test_country_shares():
    ch = _choices([("P", "France", "t1", 3), ("P", "France", "t2", 1), ("P", "India", "t2", 2)])
    s = {(r["country"], r["chosen_hash"]): r["share"] for r in agreement.country_shares(ch).iter_rows(named=True)}
    assert s[("France", "t1")] == pytest.approx(0.75)
    assert s[("India", "t2")] == pytest.approx(1.0)
    assert s[("All countries", "t2")] == pytest.approx(0.5)


def test_pair_divergences_and_country_matrix():
    ch = _choices(
        [
            ("P", "France", "t1", 4),
            ("P", "India", "t2", 4),
            ("P", "Italy", "t1", 2),
            ("P", "Italy", "t2", 2),
            ("Q", "France", "t1", 3),
            ("Q", "India", "t1", 3),
            ("Q", "Italy", "t1", 1),  # below min_per_country=2 on Q
        ]
    )
    pairs = agreement.pair_divergences(ch, min_per_country=2)
    got = {(r["unit_id"], r["c1"], r["c2"]): r for r in pairs.iter_rows(named=True)}
    assert got[("P", "France", "India")]["jsd"] == pytest.approx(1.0)
    assert got[("P", "France", "India")]["n1"] == 4
    assert got[("Q", "France", "India")]["jsd"] == pytest.approx(0.0)
    assert ("Q", "France", "Italy") not in got and len(got) == 4
    matrix = {(r["c1"], r["c2"]): r for r in agreement.country_pair_matrix(ch, min_per_country=2).iter_rows(named=True)}
    assert matrix[("France", "India")]["mean_jsd"] == pytest.approx(0.5)  # (1.0 + 0.0) / 2
    assert matrix[("India", "France")]["prompts"] == 2
    assert matrix[("France", "Italy")]["mean_jsd"] == pytest.approx(0.311278, abs=1e-6)


def test_country_metrics():
    ch = _choices([("P", "France", "t1", 3), ("P", "France", "t2", 1), ("P", "India", "t2", 1)])
    m = {r["country"]: r for r in agreement.country_metrics(ch, min_per_country=2).iter_rows(named=True)}
    assert set(m) == {"France"}
    assert m["France"]["n"] == 4
    assert m["France"]["top1_share"] == pytest.approx(0.75)
    assert m["France"]["entropy_bits"] == pytest.approx(agreement.entropy_bits([3, 1]))
