"""Pure maths on the Inglehart-Welzel plane: revealed offsets, quadrants, dispersion, covariance ellipses, and the
2-D histogram the Values map draws when it shows every point.

Coordinates: x = ``self_expression`` (survival < 0 < self-expression), y = ``secular``
(traditional < 0 < secular-rational), as written by ``analysis.pipeline.axes`` (typical statements of each pole sit near -1/+1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ELLIPSE_COVERAGE = 0.95

QUADRANTS: dict[tuple[int, int], str] = {
    (1, 1): "self-expression / secular-rational",
    (1, -1): "self-expression / traditional",
    (-1, 1): "survival / secular-rational",
    (-1, -1): "survival / traditional",
}


def revealed_offsets(chosen: np.ndarray, offered: np.ndarray) -> np.ndarray:
    """Per comparison: chosen position minus the mean of the offered positions.

    ``chosen`` is (m, 2); ``offered`` is (m, k, 2) with NaN rows for candidates without a position
    (they are left out of that comparison's mean). Returns (m, 2); NaN where nothing was offered.
    """
    chosen = np.asarray(chosen, dtype=float)
    offered = np.asarray(offered, dtype=float)
    if chosen.ndim != 2 or chosen.shape[1] != 2 or offered.ndim != 3 or offered.shape[2] != 2:
        raise ValueError("chosen must be (m, 2) and offered (m, k, 2)")
    if offered.shape[0] != chosen.shape[0]:
        raise ValueError("chosen and offered must hold the same number of comparisons")
    valid = ~np.isnan(offered).any(axis=2)  # (m, k)
    counts = valid.sum(axis=1)
    sums = np.where(valid[:, :, None], offered, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts[:, None]
    mean[counts == 0] = np.nan
    return chosen - mean


def quadrant_key(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Quadrant code per point: 0 (+,+), 1 (+,-), 2 (-,+), 3 (-,-); a point on an axis counts as positive."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return (x < 0).astype(int) * 2 + (y < 0).astype(int)


_CODE_TO_SIGNS = {0: (1, 1), 1: (1, -1), 2: (-1, 1), 3: (-1, -1)}


def quadrant_name(signs: tuple[int, int]) -> str:
    return QUADRANTS[signs]


def dominant_quadrant(x: np.ndarray, y: np.ndarray) -> tuple[tuple[int, int], float]:
    """The quadrant holding the most points, and the share of points in it. Ties go to the first in
    the order (+,+), (+,-), (-,+), (-,-)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    if not keep.any():
        raise ValueError("no positions to find a quadrant for")
    codes = quadrant_key(x[keep], y[keep])
    counts = np.bincount(codes, minlength=4)
    best = int(np.argmax(counts))
    return _CODE_TO_SIGNS[best], float(counts[best] / keep.sum())


def share_in_quadrant(x: np.ndarray, y: np.ndarray, signs: tuple[int, int]) -> float:
    """Share of (non-NaN) points in the quadrant with the given signs; NaN when there are no points."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    if not keep.any():
        return float("nan")
    sx = np.where(x[keep] < 0, -1, 1)
    sy = np.where(y[keep] < 0, -1, 1)
    return float(np.mean((sx == signs[0]) & (sy == signs[1])))


def chi2_2d_quantile(coverage: float) -> float:
    """Quantile of the chi-square distribution with 2 degrees of freedom (closed form)."""
    if not 0 < coverage < 1:
        raise ValueError("coverage must be in (0, 1)")
    return float(-2.0 * np.log(1.0 - coverage))


@dataclass(frozen=True)
class Dispersion:
    n: int
    centroid: tuple[float, float]
    mean_distance: float  # mean Euclidean distance to the centroid
    cov: np.ndarray  # 2x2 sample covariance (ddof=1); NaN when n < 2

    def as_row(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "centroid_x": self.centroid[0],
            "centroid_y": self.centroid[1],
            "mean_dist": self.mean_distance,
            "sd_x": float(np.sqrt(self.cov[0, 0])) if self.n > 1 else float("nan"),
            "sd_y": float(np.sqrt(self.cov[1, 1])) if self.n > 1 else float("nan"),
            "cov_xy": float(self.cov[0, 1]),
            "ellipse_area": ellipse_area(self.cov),
        }


def dispersion(points: np.ndarray) -> Dispersion:
    """Centroid, mean distance to it and covariance of an (n, 2) array (rows with NaN dropped)."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    p = p[~np.isnan(p).any(axis=1)]
    n = len(p)
    if n == 0:
        return Dispersion(0, (float("nan"), float("nan")), float("nan"), np.full((2, 2), np.nan))
    c = p.mean(axis=0)
    dist = float(np.linalg.norm(p - c, axis=1).mean())
    cov = np.cov(p, rowvar=False, ddof=1) if n > 1 else np.full((2, 2), np.nan)
    return Dispersion(n, (float(c[0]), float(c[1])), dist, np.asarray(cov, dtype=float))


def ellipse_area(cov: np.ndarray, coverage: float = ELLIPSE_COVERAGE) -> float:
    """Area of the coverage ellipse of a 2-D normal with covariance ``cov``."""
    cov = np.asarray(cov, dtype=float)
    if np.isnan(cov).any():
        return float("nan")
    det = max(float(np.linalg.det(cov)), 0.0)
    return float(np.pi * chi2_2d_quantile(coverage) * np.sqrt(det))


def ellipse(
    center: tuple[float, float], cov: np.ndarray, coverage: float = ELLIPSE_COVERAGE, n_points: int = 73
) -> np.ndarray:
    """A closed polyline (n_points, 2) of the ellipse that holds ``coverage`` of a 2-D normal
    N(center, cov): the points p with (p - c)' cov^-1 (p - c) = chi2_2(coverage)."""
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (2, 2) or np.isnan(cov).any():
        return np.full((0, 2), np.nan)
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    vals = np.clip(vals, 0.0, None)
    r = np.sqrt(chi2_2d_quantile(coverage))
    t = np.linspace(0, 2 * np.pi, n_points)
    unit = np.stack([np.cos(t), np.sin(t)], axis=1)  # (n, 2)
    pts = unit * (r * np.sqrt(vals))[None, :] @ vecs.T
    return pts + np.asarray(center, dtype=float)[None, :]


# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DensityGrid:
    """Counts of points on a regular grid (aggregated on the server, so the browser draws bins, not points)."""

    x: np.ndarray  # bin centres along x (nx,)
    y: np.ndarray  # bin centres along y (ny,)
    counts: np.ndarray  # (ny, nx)


def density_grid(x: np.ndarray, y: np.ndarray, bins: int = 80, q: float = 0.995, symmetric: bool = True) -> DensityGrid:
    """A 2-D histogram of the points. ``symmetric`` (the value axes): a square window about 0 holding the central
    ``q`` of the coordinates, so the origin stays in the middle; otherwise (UMAP) each axis spans its own
    [1 - q, q] quantile range. Points outside the window are left out of the bins."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if not len(x):
        return DensityGrid(np.zeros(0), np.zeros(0), np.zeros((0, 0)))
    if symmetric:
        lim = float(max(np.quantile(np.abs(np.concatenate([x, y])), q), 1e-9)) * 1.02
        xe = ye = np.linspace(-lim, lim, bins + 1)
    else:
        lo = min(1.0 - q, q)
        xe = np.linspace(*_span(x, lo), bins + 1)
        ye = np.linspace(*_span(y, lo), bins + 1)
    counts, _, _ = np.histogram2d(x, y, bins=[xe, ye])
    return DensityGrid((xe[:-1] + xe[1:]) / 2, (ye[:-1] + ye[1:]) / 2, counts.T)


def _span(v: np.ndarray, lo: float) -> tuple[float, float]:
    a, b = float(np.quantile(v, lo)), float(np.quantile(v, 1.0 - lo))
    pad = max((b - a) * 0.02, 1e-9)
    return a - pad, b + pad
