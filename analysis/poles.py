"""Which responses sit on a pole of the Inglehart-Welzel plane: the one definition the sampling lab's coverage@k and
the Values map's findings share.

A response (x = self_expression, y = secular) is on the traditional pole when y <= -threshold, secular when
y >= threshold, survival when x <= -threshold and self-expression when x >= threshold.
``DEFAULT_THRESHOLD = 0.5``: half-way from the plane's centre to where each pole's typical statements sit (near -1/+1).
"""

from __future__ import annotations

import numpy as np

DEFAULT_THRESHOLD = 0.5

# Column of the plane each pole reads, and the sign of the side it lies on.
POLE_COLUMN: dict[str, tuple[int, int]] = {
    "traditional": (1, -1),
    "secular": (1, +1),
    "survival": (0, -1),
    "self_expression": (0, +1),
}


def check_threshold(threshold: float) -> float:
    t = float(threshold)
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"threshold must be a number >= 0 (got {threshold})")
    return t


def on_pole(points: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> dict[str, np.ndarray]:
    """Per pole, a boolean array (same leading shape as points without the last axis): is the response on it."""
    a = np.asarray(points, dtype=float)
    if a.shape[-1] != 2:
        raise ValueError(f"plane points need 2 coordinates (x self_expression, y secular); got shape {a.shape}")
    t = check_threshold(threshold)
    return {pole: a[..., col] * sign >= t for pole, (col, sign) in POLE_COLUMN.items()}
