"""The plane's maths at its edges: bad shapes, one or no valid point, quadrant codes, the chi-square quantile, the
dispersion row and the density window. Expected values by hand or from scipy/numpy, never from the functions here."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.explore import plane


@pytest.mark.parametrize(
    ("chosen", "offered"),
    [
        (np.zeros((2, 3)), np.zeros((2, 4, 2))),  # chosen has three coordinates
        (np.zeros(2), np.zeros((2, 4, 2))),  # chosen is one-dimensional
        (np.zeros((2, 2)), np.zeros((2, 4))),  # offered has no coordinate axis
        (np.zeros((2, 2)), np.zeros((2, 4, 3))),  # offered has three coordinates
        (np.zeros((2, 2)), np.zeros((3, 4, 2))),  # different numbers of comparisons
    ],
)
def test_revealed_offsets_refuses_each_bad_shape(chosen, offered):
    with pytest.raises(ValueError):
        plane.revealed_offsets(chosen, offered)


def test_revealed_offset_with_a_single_positioned_candidate_is_chosen_minus_that_candidate():
    offered = np.array([[[2.0, -1.0], [np.nan, np.nan], [np.nan, 5.0], [np.nan, np.nan]]])  # one full row
    out = plane.revealed_offsets(np.array([[3.0, 3.0]]), offered)
    np.testing.assert_allclose(out, [[1.0, 4.0]])


@pytest.mark.parametrize(
    ("x", "y", "code", "signs"),
    [(0.5, 0.5, 0, (1, 1)), (0.5, -0.5, 1, (1, -1)), (-0.5, 0.5, 2, (-1, 1)), (-0.5, -0.5, 3, (-1, -1))],
)
def test_each_quadrant_has_its_code_its_signs_and_its_name(x, y, code, signs):
    assert plane.quadrant_key(np.array([x]), np.array([y])).tolist() == [code]
    assert plane.dominant_quadrant(np.array([x, x]), np.array([y, y])) == (signs, 1.0)
    name = plane.quadrant_name(signs)
    assert name.startswith("self-expression" if x > 0 else "survival")
    assert name.endswith("secular-rational" if y > 0 else "traditional")
    assert plane.share_in_quadrant(np.array([x, -x]), np.array([y, -y]), signs) == 0.5


def test_dominant_quadrant_ignores_nan_and_refuses_no_points():
    signs, share = plane.dominant_quadrant(np.array([-1.0, -2.0, 1.0, np.nan]), np.array([-1.0, -1.0, 1.0, 1.0]))
    assert signs == (-1, -1) and share == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        plane.dominant_quadrant(np.array([np.nan]), np.array([1.0]))


@pytest.mark.parametrize("coverage", [0.5, 0.95, 0.99])
def test_chi2_quantile_matches_scipy(coverage):
    assert plane.chi2_2d_quantile(coverage) == pytest.approx(stats.chi2.ppf(coverage, 2), rel=1e-12)


@pytest.mark.parametrize("coverage", [-0.5, 0.0, 1.0, 1.5])
def test_chi2_quantile_refuses_a_coverage_outside_0_1(coverage):
    with pytest.raises(ValueError):
        plane.chi2_2d_quantile(coverage)


def test_dispersion_row_of_a_tilted_cloud_matches_numpy():
    pts = np.array([[0.0, 0.0], [2.0, 1.0], [4.0, 1.0], [1.0, 3.0], [np.nan, 1.0]])  # the NaN row is dropped
    row = plane.dispersion(pts).as_row()
    p = pts[:4]
    c = p.mean(axis=0)
    var_x = ((p[:, 0] - c[0]) ** 2).sum() / 3
    var_y = ((p[:, 1] - c[1]) ** 2).sum() / 3
    cov_xy = ((p[:, 0] - c[0]) * (p[:, 1] - c[1])).sum() / 3
    assert row["n"] == 4
    assert (row["centroid_x"], row["centroid_y"]) == pytest.approx(tuple(c))
    assert row["mean_dist"] == pytest.approx(np.mean(np.hypot(*(p - c).T)))
    assert row["sd_x"] == pytest.approx(np.sqrt(var_x)) and row["sd_y"] == pytest.approx(np.sqrt(var_y))
    assert row["cov_xy"] == pytest.approx(cov_xy)
    det = var_x * var_y - cov_xy**2
    assert row["ellipse_area"] == pytest.approx(np.pi * -2 * np.log(0.05) * np.sqrt(det))


def test_dispersion_of_two_points_has_a_covariance_and_of_one_point_none():
    two = plane.dispersion(np.array([[0.0, 0.0], [2.0, 4.0]]))
    np.testing.assert_allclose(two.cov, [[2.0, 4.0], [4.0, 8.0]])  # ddof 1: (dx dy) / 1
    assert two.as_row()["ellipse_area"] == pytest.approx(0.0, abs=1e-9)  # the points lie on a line
    one = plane.dispersion(np.array([[1.0, 2.0]]))
    assert one.n == 1 and one.cov.shape == (2, 2) and np.isnan(one.cov).all()
    row = one.as_row()
    assert np.isnan(row["sd_x"]) and np.isnan(row["sd_y"]) and np.isnan(row["ellipse_area"])
    assert row["mean_dist"] == 0.0 and (row["centroid_x"], row["centroid_y"]) == (1.0, 2.0)


def test_dispersion_of_no_valid_point():
    d = plane.dispersion(np.array([[np.nan, 1.0]]))
    assert d.n == 0 and d.cov.shape == (2, 2) and np.isnan(d.cov).all() and np.isnan(d.mean_distance)
    assert plane.ellipse((0.0, 0.0), d.cov).shape == (0, 2)


def test_ellipse_area_of_a_degenerate_covariance_is_zero():
    # float rounding can make a singular covariance's determinant slightly negative: the area is 0, not NaN
    a, k = 1.1, 3.0
    cov = np.array([[a, a * k], [a * k, a * k * k]])  # rank one; numpy's determinant is -1.5e-15
    assert np.linalg.det(cov) < 0
    assert plane.ellipse_area(cov) == 0.0


def test_density_grid_defaults_leave_out_the_far_half_percent():
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, 1000)
    y = rng.uniform(-1, 1, 1000)
    x[:4] = 100.0  # 4 of the 2,000 coordinates (0.2%) lie far out: outside the 99.5% window
    g = plane.density_grid(x, y)
    assert g.counts.shape == (80, 80)
    assert g.counts.sum() == 996
    assert g.x[-1] < 1.1 and g.y[0] == pytest.approx(-g.y[-1])


def test_density_grid_of_a_map_has_bins_by_bins_cells_and_counts_the_points_in_each():
    x = np.array([0.0, 0.0, 1.0, 10.0, 10.0, 10.0])
    y = np.array([0.0, 5.0, 5.0, 5.0, 5.0, 10.0])
    g = plane.density_grid(x, y, bins=2, q=1.0, symmetric=False)
    assert g.counts.shape == (2, 2) and g.x.shape == (2,) and g.y.shape == (2,)
    # the window is each axis's range padded by 2%: x [-0.2, 10.2], y [-0.2, 10.2], split at 5
    np.testing.assert_allclose(g.x, [2.4, 7.6])
    # rows are y: y < 5 holds (0, 0); y >= 5 holds (0, 5), (1, 5) on the left and three on the right
    assert g.counts.tolist() == [[1, 0], [2, 3]]


def test_density_grid_of_nothing_is_empty():
    g = plane.density_grid(np.array([np.nan]), np.array([1.0]))
    assert g.counts.shape == (0, 0) and g.x.size == 0


def test_a_point_on_an_axis_counts_as_positive():
    assert plane.quadrant_key(np.array([0.5, 0.0, -0.5]), np.array([0.0, -0.5, 0.0])).tolist() == [0, 1, 2]


def test_a_dispersion_is_a_frozen_result():
    d = plane.dispersion(np.array([[0.0, 0.0], [1.0, 1.0]]))
    with pytest.raises(AttributeError):  # dataclasses.FrozenInstanceError
        d.n = 5


def test_the_density_window_of_a_tight_cloud_is_tight():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-0.1, 0.1, 500), rng.uniform(-0.1, 0.1, 500)
    g = plane.density_grid(x, y, bins=10, q=1.0)
    lim = max(np.abs(x).max(), np.abs(y).max()) * 1.02  # the largest coordinate, padded by 2%
    assert g.x[-1] == pytest.approx(lim - lim / 10)  # the last bin's centre: one half-bin (2 lim / 10 / 2) inside
    assert g.counts.sum() == 500
