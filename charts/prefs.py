"""Plotly figures for the Preferences page: the pooled model's gap per group as bars with 95% intervals, the transfer
matrix as a heatmap, and each model's axis reading as an arrow on the Inglehart-Welzel plane. Importable without
Streamlit; the frames come from ``analysis.lab.prefs_report`` (``group_table``, ``transfer_table``, ``axis_table``).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from analysis import schema
from analysis.lab.preferences import POOLED
from analysis.lab.prefs_report import METRIC_LABELS
from charts import plane
from charts.colours import LLM_COLOUR, country_colour, language_colour, stable_colour

POOLED_LABEL = "pooled model"


def group_colour(name: str, grouping: str) -> str:
    if name == POOLED:
        return LLM_COLOUR
    if grouping == "country":
        return country_colour(name)
    if grouping == "language":
        return language_colour(name)
    return stable_colour(name)


def _errors(table: pl.DataFrame, name: str, scale: float = 1.0) -> dict:
    mid, lo, hi = (table[c].to_numpy() * scale for c in (name, f"{name}_lo", f"{name}_hi"))
    return dict(type="data", symmetric=False, array=np.nan_to_num(hi - mid), arrayminus=np.nan_to_num(mid - lo))


def gap_figure(groups: pl.DataFrame, grouping: str) -> go.Figure:
    """Own model minus pooled model, top-1 accuracy in points, per group, with 95% intervals; largest gap on top."""
    t = groups.sort("gap")
    text = [
        f"own {100 * a:.1f}% · pooled {100 * p:.1f}%"
        for a, p in zip(t["accuracy"].to_list(), t["pooled_accuracy"].to_list())
    ]
    fig = go.Figure(
        go.Bar(
            x=(t["gap"] * 100).to_list(), y=t["group"].to_list(), orientation="h", error_x=_errors(t, "gap", 100.0),
            marker_color=[group_colour(g, grouping) for g in t["group"].to_list()], customdata=text,
            hovertemplate="%{y}: gap %{x:+.1f} points<br>%{customdata}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_vline(x=0, line=dict(width=1, color="#888"))
    fig.update_layout(
        height=120 + 44 * t.height, margin=dict(l=10, r=10, t=30, b=40), showlegend=False,
        xaxis_title="own model − pooled model, top-1 accuracy on held-out people (points; bars: 95% interval)",
    )  # fmt: skip
    return fig


def transfer_figure(transfer: pl.DataFrame, groups: pl.DataFrame, metric: str = "accuracy") -> go.Figure:
    """Rows: the model (fitted on that group's training people; first row the pooled model); columns: the group whose
    held-out people it is scored on."""
    names = groups["group"].to_list() if groups.height else sorted(set(transfer["test"]))
    names = sorted(names)
    rows = [POOLED_LABEL] + names
    z, text = [], []
    pooled = {r["group"]: r[f"pooled_{metric}"] for r in groups.iter_rows(named=True)} if groups.height else {}
    cell = {(r["train"], r["test"]): r[metric] for r in transfer.iter_rows(named=True)}
    for row in rows:
        values = [pooled.get(c) if row == POOLED_LABEL else cell.get((row, c)) for c in names]
        z.append([np.nan if v is None else v for v in values])
        text.append(["" if v is None else (f"{100 * v:.1f}%" if metric == "accuracy" else f"{v:.3f}") for v in values])
    reverse = metric == "log_loss"  # lower is better
    fig = go.Figure(
        go.Heatmap(
            z=z, x=names, y=rows, text=text, texttemplate="%{text}", colorscale="Viridis", reversescale=reverse,
            colorbar=dict(title=METRIC_LABELS[metric]),
            hovertemplate="model of %{y}<br>on held-out %{x} people<br>" + METRIC_LABELS[metric] + ": %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        height=140 + 46 * len(rows), margin=dict(l=10, r=10, t=30, b=40),
        xaxis_title="scored on the held-out people of", yaxis_title="model fitted on", yaxis_autorange="reversed",
    )  # fmt: skip
    return fig


def _arrow(fig: go.Figure, x: float, y: float, colour: str, dash: bool = False) -> None:
    fig.add_annotation(
        x=x, y=y, ax=0, ay=0, xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2, arrowsize=1.2,
        arrowwidth=1.5 if dash else 2.5, arrowcolor=colour, opacity=0.5 if dash else 1.0, text="",
    )  # fmt: skip


def axis_figure(axes: pl.DataFrame, grouping: str, show_pooled_on_group: bool = True) -> go.Figure:
    """Each model's reading as an arrow from the centre: x = change in log-odds of being chosen per unit toward
    self-expression, y = per unit toward secular-rational; crosses at the tips: 95% intervals. Faint arrows: the
    pooled model read on the same group's texts."""
    X, Y = schema.AXIS_X, schema.AXIS_Y
    fig = go.Figure()
    own = axes.filter(~pl.col("is_pooled") | (pl.col("texts_of") == POOLED))
    xs = own[X].to_list() + own[f"{X}_lo"].to_list() + own[f"{X}_hi"].to_list()
    ys = own[Y].to_list() + own[f"{Y}_lo"].to_list() + own[f"{Y}_hi"].to_list()
    limit = plane.plane_limit(np.array(xs, dtype=float), np.array(ys, dtype=float), minimum=0.5, q=1.0, pad=1.15)
    for row in own.iter_rows(named=True):
        name = POOLED_LABEL if row["is_pooled"] else row["model"]
        colour = group_colour(row["model"], grouping)
        _arrow(fig, row[X], row[Y], colour)
        if show_pooled_on_group and not row["is_pooled"] and row.get(f"pooled_{X}") is not None:
            _arrow(fig, row[f"pooled_{X}"], row[f"pooled_{Y}"], colour, dash=True)
        fig.add_trace(
            go.Scatter(
                x=[row[X]], y=[row[Y]], mode="markers+text", name=name, text=[name], textposition="top center",
                marker=dict(color=colour, size=7, symbol="x" if row["is_pooled"] else "circle"),
                error_x=dict(type="data", symmetric=False, array=[row[f"{X}_hi"] - row[X]],
                             arrayminus=[row[X] - row[f"{X}_lo"]], color=colour, thickness=1),
                error_y=dict(type="data", symmetric=False, array=[row[f"{Y}_hi"] - row[Y]],
                             arrayminus=[row[Y] - row[f"{Y}_lo"]], color=colour, thickness=1),
                hovertemplate=f"{name}<br>self-expression %{{x:+.2f}}<br>secular-rational %{{y:+.2f}}<extra></extra>",
            )
        )  # fmt: skip
    plane.square_axes(fig, limit)
    plane.pole_names(fig, limit)
    fig.update_layout(
        height=560, margin=dict(l=10, r=10, t=30, b=40), showlegend=False,
        xaxis_title="← rewards survival · rewards self-expression → (log-odds per unit)",
        yaxis_title="← rewards traditional · rewards secular-rational → (log-odds per unit)",
    )  # fmt: skip
    return fig
