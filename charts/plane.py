"""The Inglehart-Welzel plane, drawn once for every chart that shows it: axis titles, the cross through the centre,
pole names, quadrant corners, the shaded LLM quadrant, pole thresholds, and the outline of a set of points.

x = self_expression (survival < 0 < self-expression), y = secular (traditional < 0 < secular-rational).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from scipy.spatial import ConvexHull, QhullError

from analysis import schema

X_TITLE = "← survival · self-expression →"
Y_TITLE = "← traditional · secular-rational →"
CORNERS: dict[tuple[int, int], str] = {  # quadrant signs (x, y) -> label
    (-1, 1): "survival +<br>secular-rational",
    (1, 1): "self-expression +<br>secular-rational",
    (-1, -1): "survival +<br>traditional",
    (1, -1): "self-expression +<br>traditional",
}
AXIS_LINE = dict(width=1, color="#bbb")
THRESHOLD_LINE = dict(dash="dot", width=1, color="#999")
MINORITY_FILL = "rgba(214,39,40,0.06)"  # the traditional and survival regions beyond the pole threshold


def _cell(row: int | None, col: int | None) -> dict:
    return {} if row is None else {"row": row, "col": col}


def square_axes(fig: go.Figure, limit: float, row: int | None = None, col: int | None = None, titles: bool = True):
    """Both axes over [-limit, limit] with the plane's titles, and the cross through the centre."""
    kw = _cell(row, col)
    fig.add_shape(type="line", x0=0, x1=0, y0=-limit, y1=limit, line=AXIS_LINE, layer="below", **kw)
    fig.add_shape(type="line", x0=-limit, x1=limit, y0=0, y1=0, line=AXIS_LINE, layer="below", **kw)
    fig.update_xaxes(range=[-limit, limit], title_text=X_TITLE, zeroline=False, **kw)
    fig.update_yaxes(range=[-limit, limit], title_text=Y_TITLE if titles else None, zeroline=False, **kw)


def pole_names(fig: go.Figure, limit: float) -> None:
    """The four poles' names at the ends of the axes."""
    font = dict(showarrow=False, font=dict(size=11, color="#666"))
    names = schema.POLE_LABELS
    fig.add_annotation(x=limit, y=0, text=names["self_expression"], xanchor="right", yanchor="bottom", **font)
    fig.add_annotation(x=-limit, y=0, text=names["survival"], xanchor="left", yanchor="bottom", **font)
    fig.add_annotation(x=0, y=limit, text=names["secular"], xanchor="left", yanchor="top", **font)
    fig.add_annotation(x=0, y=-limit, text=names["traditional"], xanchor="left", yanchor="bottom", **font)


def corner_labels(fig: go.Figure, limit: float, row: int | None = None, col: int | None = None) -> None:
    """The four quadrants named in their corners."""
    for (sx, sy), text in CORNERS.items():
        x, y = sx * limit * 0.84, sy * limit * 0.84
        fig.add_annotation(
            x=x, y=y, text=text, showarrow=False, font=dict(size=9, color="#888"),
            xanchor="left" if x < 0 else "right", yanchor="top" if y > 0 else "bottom", **_cell(row, col),
        )  # fmt: skip


def shade_quadrant(fig: go.Figure, signs: tuple[int, int], limit: float, label: str | None = None) -> None:
    """Shade one quadrant (e.g. the one holding most LLM answers), with an optional label in its corner."""
    sx, sy = signs
    fig.add_shape(
        type="rect", x0=0, x1=sx * limit, y0=0, y1=sy * limit, fillcolor="rgba(17,17,17,0.05)",
        line=dict(width=1, dash="dot", color="#555"), layer="below",
    )  # fmt: skip
    if label:
        fig.add_annotation(
            x=sx * limit * 0.97, y=sy * limit * 0.97, text=label, showarrow=False, font=dict(size=10, color="#333"),
            xanchor="right" if sx > 0 else "left", yanchor="top" if sy > 0 else "bottom",
        )  # fmt: skip


def pole_thresholds(fig: go.Figure, threshold: float, limit: float, row: int | None = None, col: int | None = None):
    """Dotted lines at ±threshold on both axes, and the traditional and survival regions beyond them shaded."""
    t, kw = float(threshold), _cell(row, col)
    for x0, x1, y0, y1 in ((-limit, limit, -limit, -t), (-limit, -t, -limit, limit)):
        fig.add_shape(
            type="rect", x0=x0, x1=x1, y0=y0, y1=y1, fillcolor=MINORITY_FILL, line_width=0, layer="below", **kw
        )
    for v in (-t, t):
        fig.add_shape(type="line", x0=v, x1=v, y0=-limit, y1=limit, line=THRESHOLD_LINE, **kw)
        fig.add_shape(type="line", x0=-limit, x1=limit, y0=v, y1=v, line=THRESHOLD_LINE, **kw)


def plane_limit(*arrays: np.ndarray, minimum: float = 1.2, q: float = 0.995, pad: float = 1.08) -> float:
    """Half the side of a square window holding the central ``q`` of the coordinates (at least ``minimum``)."""
    vals = [np.abs(np.asarray(a, dtype=float)).ravel() for a in arrays if a is not None and np.size(a)]
    v = np.concatenate(vals) if vals else np.zeros(0)
    v = v[~np.isnan(v)]
    if not len(v):
        return minimum
    return float(max(minimum, np.quantile(v, q) * pad))


def hull_ring(pts: np.ndarray) -> np.ndarray | None:
    """The closed convex-hull outline of a set (None for sets of one or two distinct points, or on one line)."""
    if len(np.unique(pts, axis=0)) < 3:
        return None
    try:
        v = ConvexHull(pts).vertices
    except QhullError:
        return None
    return np.vstack([pts[v], pts[v][:1]])
