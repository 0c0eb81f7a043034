"""Diversity metrics on hand-built sets whose answers are known by hand."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import scipy.stats

from analysis.lab import diversity, evaluation
from analysis.lab.strategies import StrategyParams, draw_sets


def test_coverage_on_a_set_built_to_cover_exactly_two_poles():
    t = 0.5
    two_poles = np.array([[0.0, -0.8], [-0.7, 0.1], [0.2, 0.2], [0.0, 0.0]])  # traditional + survival
    nothing = np.array([[0.1, 0.1], [-0.4, 0.4], [0.49, -0.49], [0.0, 0.0]])  # all inside the threshold
    cov = diversity.coverage(np.stack([two_poles, nothing]), threshold=t)
    assert cov == {"traditional": 0.5, "secular": 0.0, "survival": 0.5, "self_expression": 0.0}
    one = diversity.set_metrics(two_poles, threshold=t)
    assert one["covered"] == {"traditional": True, "secular": False, "survival": True, "self_expression": False}
    assert one["n_poles_covered"] == 2


def test_coverage_threshold_is_inclusive_and_user_settable():
    pts = np.array([[[0.5, -0.5]]])
    assert diversity.coverage(pts, 0.5)["traditional"] == 1.0
    assert diversity.coverage(pts, 0.5)["self_expression"] == 1.0
    assert diversity.coverage(pts, 0.51)["traditional"] == 0.0
    with pytest.raises(ValueError, match="threshold"):
        diversity.coverage(pts, -1)


def test_vendi_against_hand_computed_values():
    # Orthogonal unit vectors: K = I, eigenvalues of K/2 are 1/2, 1/2 -> exp(ln 2) = 2.
    assert diversity.vendi_score(np.array([[1.0, 0.0], [0.0, 1.0]]), kernel="cosine") == pytest.approx(2.0)
    # Two identical and one orthogonal: eigenvalues of K/3 are 2/3, 1/3, 0.
    h = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    x = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert diversity.vendi_score(x, kernel="cosine") == pytest.approx(math.exp(h))
    # RBF, two points at distance d: K = [[1, s], [s, 1]], eigenvalues (1 +- s)/2.
    d, bw = 0.7, 0.5
    s = math.exp(-(d**2) / (2 * bw**2))
    lam = [(1 + s) / 2, (1 - s) / 2]
    expected = math.exp(-sum(v * math.log(v) for v in lam))
    assert diversity.vendi_score(np.array([[0.0, 0.0], [d, 0.0]]), kernel="rbf", bandwidth=bw) == pytest.approx(
        expected
    )
    # All identical: one effective item.
    assert diversity.vendi_score(np.ones((4, 2))) == pytest.approx(1.0)


def test_vendi_batch_matches_single_sets_and_grows_with_spread():
    rng = np.random.default_rng(1)
    pts = rng.standard_normal((20, 5, 2))
    batch = diversity.vendi_batch(pts)
    assert batch == pytest.approx([diversity.vendi_score(p) for p in pts])
    assert diversity.vendi_batch(pts * 3).mean() > diversity.vendi_batch(pts * 0.1).mean()
    assert np.all((batch >= 1 - 1e-9) & (batch <= 5 + 1e-9))


def test_mean_pairwise_cosine_distance_by_hand():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # pair distances 1, 2, 1
    assert diversity.mean_pairwise_cosine_distance(x) == pytest.approx(4 / 3)
    assert diversity.mean_pairwise_cosine_distance(np.array([[1.0, 1.0], [2.0, 2.0]])) == pytest.approx(0.0)
    emb = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    assert diversity.set_metrics(np.zeros((2, 2)), embeddings=emb)["mean_pairwise_distance_embedding"] == pytest.approx(
        1.0
    )


def test_hull_area_by_hand_and_degenerate_sets():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 0.5]])
    assert diversity.hull_area(square) == pytest.approx(1.0)
    triangle = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert diversity.hull_area(triangle) == pytest.approx(3.0)
    line = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    assert diversity.hull_area(line) == 0.0
    assert diversity.hull_area(np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])) == 0.0
    batch = diversity.hull_area_batch(np.stack([square[:4], square[[0, 1, 2, 2]], line, triangle[[0, 1, 2, 0]]]))
    assert batch == pytest.approx([1.0, 0.5, 0.0, 3.0])


def test_vectorised_hull_area_agrees_with_scipy_including_ties():
    rng = np.random.default_rng(7)
    random_sets = rng.standard_normal((200, 6, 2))
    grid_sets = rng.integers(0, 3, (300, 5, 2)).astype(float)  # many duplicate and collinear points
    for sets in (random_sets, grid_sets):
        assert diversity.hull_area_batch(sets) == pytest.approx([diversity.hull_area(s) for s in sets], abs=1e-12)


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="NaN"):
        diversity.coverage(np.array([[[np.nan, 0.0]]]))
    with pytest.raises(ValueError, match="kernel"):
        diversity.vendi_score(np.zeros((2, 2)), kernel="laplace")
    with pytest.raises(ValueError, match="shape"):
        diversity.coverage(np.zeros(3))


def test_evaluate_table_over_seeds():
    df = evaluation.evaluate(["iid", "nc"], n_prompts=300, k=4, seeds=3, params=StrategyParams(), threshold=0.5)
    assert df.height == 2 * len(diversity.METRICS)
    assert set(df["metric"]) == set(diversity.METRICS)
    assert (df["n_seeds"] == 3).all()
    assert ((df["low"] <= df["mean"]) & (df["mean"] <= df["high"])).all()
    cov = df.filter(pl.col("metric") == "coverage_traditional").sort("strategy")
    iid, nc = cov["mean"].to_list()
    assert nc > iid
    # the table's mean is the mean over seeds of the coverage of each seed's sets, computed here directly
    direct = [diversity.coverage(draw_sets("iid", 300, 4, seed))["traditional"] for seed in range(3)]
    assert iid == pytest.approx(np.mean(direct))
    sd = np.std(direct, ddof=1)
    row = cov.row(0, named=True)
    assert row["high"] - row["mean"] == pytest.approx(min(scipy.stats.t.ppf(0.975, 2) * sd / np.sqrt(3), 1 - iid))
    single = evaluation.evaluate("iid", n_prompts=50, k=4, seeds=[5])
    assert single["low"].null_count() == single.height
    with pytest.raises(ValueError, match="strategy"):
        evaluation.evaluate("beam", 10, 4, 1)


def test_intervals_stay_inside_the_metrics_range():
    lo, hi = diversity.mean_interval([0.0, 0.1], hi_bound=1.0, lo_bound=0.0)  # the raw t-interval goes below 0
    assert lo == 0.0 and 0.05 < hi <= 1.0
    lo, hi = diversity.mean_interval([0.2, 0.4, 0.3])
    assert lo < 0.3 < hi
    df = evaluation.evaluate("iid", 100, 4, 2)
    assert (df["low"] >= 0).all()
    cov = df.filter(df["metric"].str.starts_with("coverage_"))
    assert (cov["high"] <= 1).all()
