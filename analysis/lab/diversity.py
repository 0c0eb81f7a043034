"""Diversity metrics for candidate sets, on the value plane and on text embeddings.

Shapes: one set is an array (k, d); a batch of sets (one per prompt) is (n, k, d). On the plane d = 2 with
columns (self_expression, secular), i.e. x survival(-) .. self-expression(+), y traditional(-) .. secular(+).

Metrics
- ``coverage`` (the research's metric, coverage@k): the share of prompts whose k-candidate set holds at
  least one response "on" a pole (``analysis.poles``: y <= -threshold is traditional, and so on; threshold 0.5).
- ``vendi``: the Vendi score (Friedman & Dieng, 2023): exp of the Shannon entropy of the eigenvalues of K/k,
  K a similarity matrix with unit diagonal; read as the effective number of distinct candidates (1..k).
  On the plane we use an RBF kernel (``DEFAULT_BANDWIDTH = 0.5`` plane units); on embeddings cosine
  similarity. Both kernels are available for both.
- ``mean_pairwise_cosine_distance``: mean of 1 - cos over the k(k-1)/2 pairs. On the plane the cosine is
  taken around the plane's centre (0, 0), so it measures how far apart the sets' value *directions* are.
- ``hull_area``: area of the convex hull of a set on the plane (scipy.spatial.ConvexHull for a single set, an
  exact vectorised equivalent for batches). OUR OWN MEASURE, not one the research reports; 0 for
  degenerate sets (fewer than three distinct points, or all on one line).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.spatial import ConvexHull, QhullError

from analysis.poles import DEFAULT_THRESHOLD, check_threshold, on_pole  # noqa: F401 (the lab's names)
from analysis.schema import POLES

DEFAULT_BANDWIDTH = 0.5
KERNELS = ("rbf", "cosine")

# Metric names (rows of analysis.lab.evaluation.evaluate's table), in display order.
METRICS: tuple[str, ...] = tuple(f"coverage_{p}" for p in POLES) + (
    "vendi",
    "mean_pairwise_distance",
    "hull_area",
)
METRIC_LABELS: dict[str, str] = {
    "coverage_traditional": "coverage@k, traditional",
    "coverage_secular": "coverage@k, secular-rational",
    "coverage_survival": "coverage@k, survival",
    "coverage_self_expression": "coverage@k, self-expression",
    "vendi": "Vendi score (plane, RBF)",
    "mean_pairwise_distance": "mean pairwise cosine distance (plane)",
    "hull_area": "convex-hull area (our own measure)",
}


def _as_batch(points: np.ndarray, d: int | None = None) -> np.ndarray:
    a = np.asarray(points, dtype=float)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"expected one set (k, d) or a batch of sets (n, k, d); got an array of shape {a.shape}")
    if d is not None and a.shape[-1] != d:
        raise ValueError(f"expected points with {d} coordinates; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("points contain NaN or infinite values; drop or fix those rows first")
    return a


def covered(points: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> dict[str, np.ndarray]:
    """Per pole, a boolean per set (n,): does the set hold at least one response on the pole."""
    a = _as_batch(points, 2)
    return {pole: v.any(axis=1) for pole, v in on_pole(a, threshold).items()}


def coverage(points: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> dict[str, float]:
    """coverage@k per pole: the share of sets with at least one response on that pole (keys: schema.POLES)."""
    return {pole: float(v.mean()) for pole, v in covered(points, threshold).items()}


def similarity(points: np.ndarray, kernel: str = "rbf", bandwidth: float = DEFAULT_BANDWIDTH) -> np.ndarray:
    """Similarity matrices (n, k, k) with unit diagonal; kernel 'rbf' exp(-|xi-xj|^2 / (2 h^2)) or 'cosine'."""
    a = _as_batch(points)
    if kernel == "rbf":
        h = float(bandwidth)
        if not (np.isfinite(h) and h > 0):
            raise ValueError(f"bandwidth must be a number > 0 (got {bandwidth})")
        sq = np.sum((a[:, :, None, :] - a[:, None, :, :]) ** 2, axis=-1)
        return np.exp(-sq / (2.0 * h * h))
    if kernel == "cosine":
        u = _unit(a)
        k = u @ np.swapaxes(u, 1, 2)
        idx = np.arange(a.shape[1])
        k[:, idx, idx] = 1.0  # a zero vector is still similar to itself
        return np.clip(k, -1.0, 1.0)
    raise ValueError(f"unknown kernel {kernel!r}: choose one of {', '.join(KERNELS)}")


def _unit(a: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(a, axis=-1, keepdims=True)
    return np.divide(a, norm, out=np.zeros_like(a), where=norm > 1e-12)


def vendi_batch(points: np.ndarray, kernel: str = "rbf", bandwidth: float = DEFAULT_BANDWIDTH) -> np.ndarray:
    """Vendi score of each set (n,): exp(-sum(l log l)) over the eigenvalues l of K/k."""
    k_mat = similarity(points, kernel, bandwidth)
    k = k_mat.shape[1]
    lam = np.linalg.eigvalsh(k_mat / k)
    lam = np.clip(lam, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(lam > 0, lam * np.log(lam), 0.0), axis=-1)
    return np.exp(ent)


def vendi_score(points: np.ndarray, kernel: str = "rbf", bandwidth: float = DEFAULT_BANDWIDTH) -> float:
    """Vendi score of one set (k, d). Plane: kernel='rbf' (default); embeddings: kernel='cosine'."""
    a = np.asarray(points, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"vendi_score takes one set of shape (k, d); got {a.shape} (use vendi_batch for batches)")
    return float(vendi_batch(a, kernel, bandwidth)[0])


def mean_pairwise_cosine_distance_batch(points: np.ndarray) -> np.ndarray:
    """Mean of 1 - cos(xi, xj) over pairs i < j, per set (n,); 0 for sets of one."""
    a = _as_batch(points)
    k = a.shape[1]
    if k < 2:
        return np.zeros(a.shape[0])
    u = _unit(a)
    cos = u @ np.swapaxes(u, 1, 2)
    iu = np.triu_indices(k, 1)
    return np.mean(1.0 - cos[:, iu[0], iu[1]], axis=1)


def mean_pairwise_cosine_distance(points: np.ndarray) -> float:
    a = np.asarray(points, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"takes one set of shape (k, d); got {a.shape}")
    return float(mean_pairwise_cosine_distance_batch(a)[0])


def hull_area(points: np.ndarray) -> float:
    """Convex-hull area of one set on the plane (scipy ConvexHull); 0 for degenerate sets. Our own measure."""
    a = np.asarray(points, dtype=float)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"hull_area takes one set of plane points (k, 2); got {a.shape}")
    if len(np.unique(a, axis=0)) < 3:
        return 0.0
    try:
        return float(ConvexHull(a).volume)  # in 2-D, .volume is the area
    except QhullError:  # all points on one line
        return 0.0


def hull_area_batch(points: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Convex-hull area of each set (n,), exact and vectorised (agrees with scipy's ConvexHull).

    A directed pair i -> j is a hull edge (counter-clockwise) when every other point lies strictly to its
    left or on the segment itself; the area is the shoelace sum over those edges. Repeated points only
    count once; collinear sets give 0.
    """
    a = _as_batch(points, 2)
    n, k, _ = a.shape
    if k < 3:
        return np.zeros(n)
    # Repeated points: only the first copy may be an edge end.
    same = np.all(a[:, :, None, :] == a[:, None, :, :], axis=-1)  # (n, k, k)
    earlier_copy = np.any(np.tril(same, -1), axis=2)  # (n, k): point i equals some j < i
    pi = a[:, :, None, None, :]  # i
    pj = a[:, None, :, None, :]  # j
    pm = a[:, None, None, :, :]  # m
    e = pj - pi  # (n, k, k, 1, 2)
    w = pm - pi  # (n, k, 1, k, 2)
    cross = e[..., 0] * w[..., 1] - e[..., 1] * w[..., 0]  # (n, k, k, k)
    elen2 = np.sum(e * e, axis=-1)  # (n, k, k, 1)
    scale = eps * np.maximum(elen2, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        proj = np.sum(e * w, axis=-1) / elen2  # position of m along i->j
    left = cross > scale
    on_segment = (np.abs(cross) <= scale) & (proj >= -1e-9) & (proj <= 1 + 1e-9)
    ok = np.all(left | on_segment, axis=3)  # (n, k, k)
    valid = (elen2[..., 0] > 0) & ~earlier_copy[:, :, None] & ~earlier_copy[:, None, :]
    edge = ok & valid
    xi, yi = a[:, :, 0][:, :, None], a[:, :, 1][:, :, None]
    xj, yj = a[:, :, 0][:, None, :], a[:, :, 1][:, None, :]
    area = 0.5 * np.sum(np.where(edge, xi * yj - xj * yi, 0.0), axis=(1, 2))
    return np.maximum(area, 0.0)


def set_metrics(
    points: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    embeddings: np.ndarray | None = None,
    bandwidth: float = DEFAULT_BANDWIDTH,
) -> dict:
    """Every metric for ONE set on the plane (k, 2), plus embedding-based ones when embeddings (k, d) are given."""
    a = np.asarray(points, dtype=float)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"set_metrics takes one set of plane points (k, 2); got {a.shape}")
    cov = {p: bool(v[0]) for p, v in covered(a, threshold).items()}
    out = {
        "k": int(a.shape[0]),
        "threshold": float(threshold),
        "covered": cov,
        "n_poles_covered": int(sum(cov.values())),
        "vendi": vendi_score(a, "rbf", bandwidth),
        "mean_pairwise_distance": mean_pairwise_cosine_distance(a),
        "hull_area": hull_area(a),
    }
    if embeddings is not None:
        e = np.asarray(embeddings, dtype=float)
        if e.ndim != 2 or e.shape[0] != a.shape[0]:
            raise ValueError(f"embeddings must be (k, d) with k = {a.shape[0]}; got {e.shape}")
        out["vendi_embedding"] = vendi_score(e, "cosine")
        out["mean_pairwise_distance_embedding"] = mean_pairwise_cosine_distance(e)
    return out


def batch_metrics(
    points: np.ndarray, threshold: float = DEFAULT_THRESHOLD, bandwidth: float = DEFAULT_BANDWIDTH
) -> dict[str, float]:
    """Every metric (keys: METRICS) over a batch of sets (n, k, 2), averaged over the sets."""
    a = _as_batch(points, 2)
    cov = coverage(a, threshold)
    out = {f"coverage_{p}": cov[p] for p in POLES}
    out["vendi"] = float(vendi_batch(a, "rbf", bandwidth).mean())
    out["mean_pairwise_distance"] = float(mean_pairwise_cosine_distance_batch(a).mean())
    out["hull_area"] = float(hull_area_batch(a).mean())
    return out


def metric_floor(metric: str) -> float:
    """The smallest value a metric can take (Vendi >= 1; shares, distances and areas >= 0)."""
    return 1.0 if metric.startswith("vendi") else 0.0


def metric_ceiling(metric: str) -> float:
    return 1.0 if metric.startswith("coverage_") else np.inf


def mean_interval(
    values: np.ndarray, level: float = 0.95, lo_bound: float = -np.inf, hi_bound: float = np.inf
) -> tuple[float, float]:
    """A t-interval for the mean over seeds, cut to the metric's range [lo_bound, hi_bound] (a share cannot leave
    [0, 1]); (nan, nan) with a single seed."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return float("nan"), float("nan")
    m = v.mean()
    se = v.std(ddof=1) / np.sqrt(v.size)
    if se == 0:
        return float(m), float(m)  # every seed gave the same value
    h = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * se)
    return float(max(m - h, lo_bound)), float(min(m + h, hi_bound))
