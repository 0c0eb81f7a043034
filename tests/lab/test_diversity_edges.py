"""Diversity metrics at their edges: bad input refused with a reason, zero vectors, sets of one, the t-interval and the
metrics' ranges by hand, hull edges with points on them (checked against scipy's ConvexHull)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import ConvexHull

from analysis.lab import diversity


@pytest.mark.parametrize("bandwidth", [0.0, -0.5, float("nan"), float("inf")])
def test_a_bandwidth_that_is_not_a_positive_number_is_refused(bandwidth):
    with pytest.raises(ValueError, match="bandwidth"):
        diversity.similarity(np.zeros((2, 2)), "rbf", bandwidth)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (np.zeros((1, 2, 2, 2)), "one set"),  # four dimensions
        (np.zeros(3), "one set"),
        (np.array([[0.0, np.inf]]), "NaN or infinite"),
    ],
)
def test_bad_point_arrays_are_refused_with_a_reason(points, message):
    with pytest.raises(ValueError, match=message):
        diversity.vendi_batch(points)


def test_plane_metrics_need_two_coordinates():
    with pytest.raises(ValueError, match="2 coordinates"):
        diversity.coverage(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="2 coordinates"):
        diversity.hull_area_batch(np.zeros((1, 4, 3)))
    with pytest.raises(ValueError, match="plane points"):
        diversity.hull_area(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="plane points"):
        diversity.set_metrics(np.zeros((4, 3)))


def test_single_set_functions_refuse_a_batch():
    batch = np.zeros((2, 3, 2))
    with pytest.raises(ValueError, match="one set"):
        diversity.vendi_score(batch)
    with pytest.raises(ValueError, match="one set"):
        diversity.mean_pairwise_cosine_distance(batch)


def test_zero_vectors_are_like_themselves_only():
    pts = np.array([[0.0, 0.0], [1.0, 0.0]])
    k = diversity.similarity(pts, "cosine")[0]
    np.testing.assert_allclose(k, np.eye(2))  # unit diagonal, and no similarity to the other point
    assert diversity.vendi_score(pts, "cosine") == pytest.approx(2.0)
    assert diversity.mean_pairwise_cosine_distance(pts) == pytest.approx(1.0)


def test_rbf_similarity_by_hand():
    pts = np.array([[0.0, 0.0], [0.3, 0.4]])  # distance 0.5
    k = diversity.similarity(pts, "rbf", bandwidth=0.25)[0]
    assert k[0, 1] == pytest.approx(math.exp(-0.25 / (2 * 0.0625)))
    assert k[0, 0] == 1.0


def test_a_set_of_one():
    one = np.array([[0.7, -0.6]])
    assert diversity.mean_pairwise_cosine_distance(one) == 0.0
    assert diversity.vendi_score(one) == pytest.approx(1.0)
    assert diversity.hull_area_batch(one[None]).tolist() == [0.0]
    assert diversity.hull_area_batch(np.array([[[0.0, 0.0], [1.0, 0.0]]])).tolist() == [0.0]


def test_set_metrics_of_one_set_by_hand():
    pts = np.array([[0.0, -0.6], [0.8, 0.0], [0.0, 0.9], [-0.7, 0.0]])  # on all four poles at 0.5
    m = diversity.set_metrics(pts, threshold=0.5)
    assert m["k"] == 4 and m["threshold"] == 0.5 and m["n_poles_covered"] == 4
    assert m["hull_area"] == pytest.approx(0.5 * (0.8 + 0.7) * (0.9 + 0.6))  # a kite: half the diagonals' product
    emb = np.eye(4)
    with_emb = diversity.set_metrics(pts, embeddings=emb)
    assert with_emb["vendi_embedding"] == pytest.approx(4.0)  # four orthogonal embeddings: four distinct answers
    assert with_emb["mean_pairwise_distance_embedding"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="with k = 4; got"):
        diversity.set_metrics(pts, embeddings=np.eye(3))
    with pytest.raises(ValueError, match="embeddings"):
        diversity.set_metrics(pts, embeddings=np.ones(4))


def test_batch_metrics_average_over_the_sets():
    kite = np.array([[0.0, -0.6], [0.8, 0.0], [0.0, 0.9], [-0.7, 0.0]])
    centre = np.zeros((4, 2)) + [[0.01, 0.0], [0.0, 0.01], [-0.01, 0.0], [0.0, -0.01]]
    out = diversity.batch_metrics(np.stack([kite, centre]), threshold=0.5)
    assert set(out) == set(diversity.METRICS)
    assert out["coverage_traditional"] == 0.5 and out["coverage_self_expression"] == 0.5
    area_centre = 0.5 * 0.02 * 0.02
    assert out["hull_area"] == pytest.approx((0.5 * 1.5 * 1.5 + area_centre) / 2)


def test_metric_ranges():
    assert diversity.metric_floor("vendi") == 1.0 and diversity.metric_floor("vendi_embedding") == 1.0
    assert diversity.metric_floor("hull_area") == 0.0 and diversity.metric_floor("coverage_secular") == 0.0
    assert diversity.metric_ceiling("coverage_secular") == 1.0 and diversity.metric_ceiling("vendi") == np.inf


def test_t_interval_by_hand():
    v = np.array([0.2, 0.4, 0.3])  # mean 0.3, sd 0.1
    h = stats.t.ppf(0.975, 2) * 0.1 / math.sqrt(3)
    lo, hi = diversity.mean_interval(v)
    assert (lo, hi) == pytest.approx((0.3 - h, 0.3 + h))
    h90 = stats.t.ppf(0.95, 2) * 0.1 / math.sqrt(3)
    assert diversity.mean_interval(v, level=0.9) == pytest.approx((0.3 - h90, 0.3 + h90))
    assert diversity.mean_interval([0.5, 0.5]) == (0.5, 0.5)
    assert all(math.isnan(x) for x in diversity.mean_interval([0.5]))


@pytest.mark.parametrize(
    "pts",
    [
        [[0, 0], [2, 0], [2, 2], [0, 2], [1, 0]],  # a point in the middle of an edge
        [[0, 0], [2, 0], [2, 2], [0, 2], [1, 0], [0.5, 0], [1.5, 0]],  # several on one edge
        [[0, 0], [1, 0], [2, 0], [1, 1]],  # three collinear on the base of a triangle
        [[0, 0], [4, 0], [2, 1e-7], [2, 3]],  # a point a hair inside the base
        [[0, 0], [4, 0], [2, 3], [2, 3], [0, 0]],  # repeated corners
        [[0, 0], [1, 1], [2, 2], [3, 3]],  # all on one line
    ],
)
def test_hull_edges_with_points_on_them_agree_with_scipy(pts):
    a = np.array(pts, dtype=float)
    try:
        want = ConvexHull(a).volume
    except Exception:  # noqa: BLE001 (scipy refuses a flat set: its area is 0)
        want = 0.0
    assert diversity.hull_area_batch(a[None])[0] == pytest.approx(want, abs=1e-9)


def test_cosine_similarity_stays_within_minus_one_and_one_despite_rounding():
    v = np.array([0.1257302210933933, -0.1321048632913019])  # unit vectors whose products round past +-1
    k = diversity.similarity(np.stack([v, 3.7 * v, -2.3 * v]), "cosine")[0]
    assert k.max() == 1.0 and k.min() == -1.0


def test_a_batch_of_sets_of_one_has_one_distance_per_set():
    assert diversity.mean_pairwise_cosine_distance_batch(np.ones((3, 1, 2))).tolist() == [0.0, 0.0, 0.0]
