"""Plotly figures for the reward-recovery page: learning curves with bands over seeds, and recovered against true
ideal points on the Inglehart-Welzel plane. Importable without Streamlit. The builders draw frames computed by
``analysis.lab.recovery_report`` (``curves``, ``group_table``).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from analysis.lab.population import Population
from analysis.lab.simulate import MODEL_LABELS
from charts import plane
from charts.colours import rgba

MODEL_COLOURS = {
    "pooled": "#d62728",
    "conditional": "#1f77b4",
    "mixture": "#2ca02c",
    "per_annotator": "#9467bd",
    "oracle": "#7f7f7f",
}
MODEL_SYMBOLS = {"pooled": "x", "conditional": "circle", "mixture": "diamond", "per_annotator": "triangle-up"}
METRICS: dict[str, str] = {
    "worst_accuracy": "worst-group accuracy",
    "accuracy": "mean accuracy over groups",
    "ideal_error": "ideal-point error (mean over groups)",
    "kendall_tau": "Kendall tau, reward vs true utility",
    "log_lik": "held-out log-likelihood per choice",
}


def learning_curves_figure(cur: pl.DataFrame, metric: str, strategies: Sequence[str]):
    """One panel per strategy: ``metric`` against the number of comparisons, a line per model, band = min..max over seeds."""
    fig = make_subplots(
        rows=1,
        cols=len(strategies),
        shared_yaxes=True,
        subplot_titles=[f"{s} candidates" for s in strategies],
        horizontal_spacing=0.06,
    )
    models = [m for m in MODEL_COLOURS if m in set(cur["model"])]
    if metric == "ideal_error":
        models = [m for m in models if m != "oracle"]
    for col, strategy in enumerate(strategies, start=1):
        for model in models:
            c = cur.filter((pl.col("strategy") == strategy) & (pl.col("model") == model)).sort("comparisons")
            if c.is_empty() or c["mean"].is_null().all():
                continue
            x = c["comparisons"].to_list()
            colour = MODEL_COLOURS[model]
            fig.add_trace(
                go.Scatter(
                    x=x + x[::-1],
                    y=c["hi"].to_list() + c["lo"].to_list()[::-1],
                    fill="toself",
                    mode="lines",
                    fillcolor=rgba(colour, 0.15),
                    line=dict(width=0),
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=model,
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=c["mean"].to_list(),
                    mode="lines+markers",
                    name=MODEL_LABELS[model],
                    line=dict(color=colour, dash="dot" if model == "oracle" else "solid"),
                    legendgroup=model,
                    showlegend=col == 1,
                    hovertemplate=f"{MODEL_LABELS[model]}<br>%{{x}} comparisons: %{{y:.3f}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="comparisons collected (all annotators)", rangemode="tozero", row=1, col=col)
    fig.update_yaxes(title_text=METRICS.get(metric, metric), row=1, col=1)
    fig.update_layout(height=420, margin=dict(t=40, b=40, l=60, r=20), legend=dict(orientation="h", y=-0.25))
    return fig


def ideal_points_figure(tab: pl.DataFrame, population: Population, strategies: Sequence[str]):
    """One plane per strategy: true group ideal points (labelled) and each model's recovered ones, joined by lines."""
    lim = 1.6
    fig = make_subplots(
        rows=1, cols=len(strategies), subplot_titles=[f"{s} candidates" for s in strategies], horizontal_spacing=0.08
    )
    truth = {g.name: (g.x, g.y) for g in population.groups}
    for col, strategy in enumerate(strategies, start=1):
        t = tab.filter(pl.col("strategy") == strategy)
        for model in MODEL_SYMBOLS:
            m = t.filter(pl.col("model") == model)
            if m.is_empty():
                continue
            if model == "pooled":  # one optimum for everyone
                m = m.head(1)
            xs, ys = [], []
            for r in m.iter_rows(named=True):
                if model != "pooled":
                    tx, ty = truth[r["group"]]
                    xs += [tx, r["rec_x"], None]
                    ys += [ty, r["rec_y"], None]
            if xs:
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=ys,
                        mode="lines",
                        line=dict(color=MODEL_COLOURS[model], width=1),
                        hoverinfo="skip",
                        showlegend=False,
                        legendgroup=model,
                    ),
                    row=1,
                    col=col,
                )
            fig.add_trace(
                go.Scatter(
                    x=m["rec_x"].to_list(),
                    y=m["rec_y"].to_list(),
                    mode="markers",
                    name=MODEL_LABELS[model],
                    marker=dict(
                        symbol=MODEL_SYMBOLS[model],
                        size=12 if model == "pooled" else 9,
                        color=MODEL_COLOURS[model],
                        line=dict(width=1, color="white"),
                    ),
                    text=["everyone" if model == "pooled" else g for g in m["group"].to_list()],
                    hovertemplate=f"{MODEL_LABELS[model]}: %{{text}}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
                    legendgroup=model,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        fig.add_trace(
            go.Scatter(
                x=[v[0] for v in truth.values()],
                y=[v[1] for v in truth.values()],
                mode="markers+text",
                text=list(truth),
                textposition="top center",
                name="true ideal point (illustrative)" if population.illustrative else "true ideal point",
                marker=dict(symbol="star", size=15, color="black"),
                showlegend=col == 1,
                legendgroup="truth",
                hovertemplate="true %{text}: (%{x:.2f}, %{y:.2f})<extra></extra>",
            ),
            row=1,
            col=col,
        )
        plane.square_axes(fig, lim, row=1, col=col, titles=col == 1)
    fig.update_layout(height=480, margin=dict(t=40, b=40, l=60, r=20), legend=dict(orientation="h", y=-0.2))
    return fig
