"""Plotly figures for the Sampling lab: example candidate sets on the Inglehart-Welzel plane and coverage bars.
Importable without Streamlit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.schema import POLE_LABELS
from charts import plane
from charts.colours import NEUTRAL, rgba

LIMIT = 1.6
SET_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")  # one per set


def _decorate_plane(fig, row: int, col: int, threshold: float, lim: float = LIMIT) -> None:
    """The plane with the pole thresholds dotted, the minority poles' regions shaded and the quadrants named."""
    plane.pole_thresholds(fig, threshold, lim, row, col)
    plane.square_axes(fig, lim, row, col)
    plane.corner_labels(fig, lim, row, col)


def _limit(arrays) -> float:
    m = max((float(np.max(np.abs(a))) for a in arrays if np.size(a)), default=0.0)
    return max(LIMIT, m + 0.15)


def example_sets_figure(
    sets: Mapping[str, np.ndarray],
    titles: Mapping[str, str],
    model_centers: Sequence[tuple[str, tuple[float, float]]],
    threshold: float,
):
    """One panel per strategy: a few example candidate sets (n_sets, k, 2), each set in its own colour and
    joined by a closed outline, the illustrative model positions as grey crosses, pole thresholds dotted and the
    traditional and survival regions shaded."""
    names = list(sets)
    lim = _limit([np.asarray(v) for v in sets.values()] + [np.asarray([c for _, c in model_centers])])
    n = max(1, len(names))
    cols = min(2, n)
    rows = (n + cols - 1) // cols
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[titles.get(s, s) for s in names],
        horizontal_spacing=0.1,
        vertical_spacing=0.14,
    )
    for i, s in enumerate(names):
        r, c = i // cols + 1, i % cols + 1
        _decorate_plane(fig, r, c, threshold, lim=lim)
        fig.add_trace(
            go.Scatter(
                x=[p[1][0] for p in model_centers],
                y=[p[1][1] for p in model_centers],
                mode="markers",
                marker=dict(
                    symbol="x",
                    size=[13] + [9] * (len(model_centers) - 1),
                    color=["#333"] + ["#999"] * (len(model_centers) - 1),
                ),
                text=[p[0] + (" (used by iid, persona, nc)" if n == 0 else "") for n, p in enumerate(model_centers)],
                hovertemplate="%{text}<br>default position (illustrative)<extra></extra>",
                name="model default (illustrative)",
                legendgroup="models",
                showlegend=(i == 0),
            ),
            row=r,
            col=c,
        )
        for j, pts in enumerate(np.asarray(sets[s])):
            colour = SET_COLOURS[j % len(SET_COLOURS)]
            ring = plane.hull_ring(pts)
            if ring is not None:
                fig.add_trace(
                    go.Scatter(
                        x=ring[:, 0],
                        y=ring[:, 1],
                        mode="lines",
                        line=dict(color=colour, width=1),
                        fill="toself",
                        fillcolor=rgba(colour, 0.06),
                        opacity=0.6,
                        hoverinfo="skip",
                        showlegend=False,
                    ),
                    row=r,
                    col=c,
                )
            fig.add_trace(
                go.Scatter(
                    x=pts[:, 0],
                    y=pts[:, 1],
                    mode="markers",
                    marker=dict(size=9, color=colour),
                    name=f"prompt {j + 1}",
                    legendgroup=f"set{j}",
                    showlegend=(i == 0),
                    hovertemplate=f"prompt {j + 1}<br>self-expression %{{x:.2f}}<br>secular %{{y:.2f}}<extra></extra>",
                ),
                row=r,
                col=c,
            )
    fig.update_layout(height=430 * rows, margin=dict(l=10, r=10, t=70, b=10), legend=dict(orientation="h", y=-0.08))
    return fig


def candidates_figure(points: np.ndarray, texts: Sequence[str], threshold: float, on_pole_labels: Sequence[str]):
    """Pasted candidates placed on the plane, hover shows the text and the poles it reaches."""
    fig = make_subplots(rows=1, cols=1)
    pts = np.asarray(points, dtype=float)
    _decorate_plane(fig, 1, 1, threshold, lim=_limit([pts]))
    short = [t if len(t) <= 80 else t[:77] + "..." for t in texts]
    fig.add_trace(
        go.Scatter(
            x=pts[:, 0],
            y=pts[:, 1],
            mode="markers+text",
            text=[str(i + 1) for i in range(len(pts))],
            textposition="top center",
            marker=dict(size=11, color="#1f77b4"),
            customdata=np.array([[s, p] for s, p in zip(short, on_pole_labels)], dtype=object),
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>(%{x:.2f}, %{y:.2f})<extra></extra>",
            name="your candidates",
        )
    )
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=20, b=10), showlegend=False)
    return fig


def coverage_figure(
    table, reported: Mapping[str, Mapping[str, float]], poles: Sequence[str] = ("traditional", "survival")
):
    """One panel per pole: coverage@k per strategy (bars, with the interval over seeds when there is one);
    black diamonds: the values reported in the paper (coverage@4) where the paper gives one."""
    strategies = list(dict.fromkeys(table["strategy"].to_list()))
    fig = make_subplots(
        rows=1, cols=len(poles), subplot_titles=[f"{POLE_LABELS[p]} pole" for p in poles], shared_yaxes=True
    )
    for i, pole in enumerate(poles, start=1):
        sub = {r["strategy"]: r for r in table.filter(table["metric"] == f"coverage_{pole}").iter_rows(named=True)}
        means = [sub[s]["mean"] for s in strategies]
        lo = [sub[s]["low"] for s in strategies]
        hi = [sub[s]["high"] for s in strategies]
        err = None
        if all(v is not None for v in lo + hi):
            err = dict(
                type="data",
                symmetric=False,
                array=[h - m for h, m in zip(hi, means)],
                arrayminus=[m - lo_ for m, lo_ in zip(means, lo)],
            )
        fig.add_trace(
            go.Bar(
                x=strategies,
                y=means,
                error_y=err,
                marker_color=NEUTRAL,
                name="simulated (illustrative positions)",
                showlegend=(i == 1),
                hovertemplate="%{x}: %{y:.1%} (simulated)<extra></extra>",
            ),
            row=1,
            col=i,
        )
        xs = [s for s in strategies if pole in reported.get(s, {})]
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[reported[s][pole] for s in xs],
                    mode="markers",
                    marker=dict(symbol="diamond", size=13, color="black"),
                    name="reported in the paper (coverage@4)",
                    showlegend=(i == 1),
                    hovertemplate="reported in the paper: %{y:.0%}<extra></extra>",
                ),
                row=1,
                col=i,
            )
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title_text="coverage@k (share of prompts)", row=1, col=1)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=60, b=10), legend=dict(orientation="h", y=-0.15))
    return fig
