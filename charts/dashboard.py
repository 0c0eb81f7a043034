"""Plotly figures for the overview and agreement pages, built with graph_objects (plotly.express costs ~30-100 ms per
figure in argument processing; these take a few ms, which keeps a filter change well under half a second).

Each function takes a frame from analysis.explore (overview, agreement) and returns a go.Figure; no Streamlit here.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl

from analysis import schema
from analysis.text import markdown_label
from charts.colours import NEUTRAL, country_colour, country_order, language_colour

ALL = "All countries"


def _layout(fig: go.Figure, height: int, **kwargs) -> go.Figure:
    kwargs.setdefault("legend_title_text", "")
    fig.update_layout(height=height, margin=dict(t=30, b=10, l=10, r=10), **kwargs)
    return fig


def country_language_bars(by_cl: pl.DataFrame, measure: str) -> go.Figure:
    """Stacked bars: ``measure`` per country, split by assigned language."""
    fig = go.Figure()
    countries = country_order(by_cl["country"].unique().to_list())
    for lang in sorted(by_cl["language"].unique().to_list()):
        sub = by_cl.filter(pl.col("language") == lang)
        values = dict(zip(sub["country"].to_list(), sub[measure].to_list(), strict=True))
        fig.add_bar(
            x=countries, y=[values.get(c, 0) for c in countries], name=f"{schema.LANGUAGE_NAMES.get(lang, lang)}",
            marker_color=language_colour(lang),
        )  # fmt: skip
    return _layout(
        fig, 360, barmode="stack", xaxis_title="Annotator country", yaxis_title=measure.capitalize(),
        legend_title_text="Assigned language",
    )  # fmt: skip


def share_bars_h(sub: pl.DataFrame, label: str) -> go.Figure:
    """Horizontal bars of annotators per value, labelled with shares (largest on top)."""
    s = sub.sort("annotators")
    fig = go.Figure(
        go.Bar(
            x=s["annotators"].to_list(), y=s["value"].to_list(), orientation="h",
            text=[f"{v:.0%}" for v in s["share"].to_list()], textposition="auto", marker_color=NEUTRAL,
        )
    )  # fmt: skip
    return _layout(fig, max(220, 34 * s.height + 60), xaxis_title="Annotators", yaxis_title=label)


def histogram(values: pl.Series, title: str, y_title: str, median_line: bool = True, nbins: int = 40) -> go.Figure:
    fig = go.Figure(go.Histogram(x=values.to_list(), nbinsx=nbins, marker_color=NEUTRAL))
    if median_line and len(values):
        median = float(values.median())
        fig.add_vline(x=median, line_dash="dash", annotation_text=f"median {median:.3g}")
    return _layout(fig, 320, xaxis_title=title, yaxis_title=y_title, bargap=0.05)


def count_bars(frame: pl.DataFrame, x: str, y: str, x_title: str, y_title: str) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=frame[x].to_list(), y=frame[y].to_list(), marker_color=NEUTRAL,
            text=[f"{v:.0%}" for v in frame["share"].to_list()] if "share" in frame.columns else None,
        )
    )  # fmt: skip
    return _layout(fig, 320, xaxis_title=x_title, yaxis_title=y_title, xaxis=dict(dtick=1))


def feedback_lines(fb: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    for country in country_order(fb["country"].unique().to_list()):
        sub = fb.filter(pl.col("country") == country).sort("turn")
        fig.add_scatter(
            x=sub["turn"].to_list(), y=sub["share"].to_list(), mode="lines+markers", name=country,
            marker_color=country_colour(country),
        )  # fmt: skip
    return _layout(
        fig, 320, xaxis_title="Turn", yaxis_title="Share of turns with feedback", yaxis_tickformat=".0%",
        yaxis_rangemode="tozero", xaxis=dict(dtick=1),
    )  # fmt: skip


def position_bias_bars(pb: pl.DataFrame) -> go.Figure:
    """Grouped bars: share of choices per position a-d, all countries first, with the 25% no-bias line."""
    fig = go.Figure()
    countries = pb["country"].unique(maintain_order=True).to_list()
    for country in countries:
        sub = pb.filter(pl.col("country") == country).sort("chosen")
        fig.add_bar(
            x=[c.upper() for c in sub["chosen"].to_list()], y=sub["share"].to_list(), name=country,
            marker_color=country_colour(country),
            text=[f"{v:.0%}" for v in sub["share"].to_list()], textposition="outside",
        )  # fmt: skip
    fig.add_hline(y=0.25, line_dash="dash", line_color="grey", annotation_text="25% = no position bias")
    top = max(0.3, float(pb["share"].max() or 0) + 0.05)
    return _layout(
        fig, 360, barmode="group", xaxis_title="Position chosen", yaxis_title="Share of choices",
        yaxis_tickformat=".0%", yaxis_range=[0, top],
    )  # fmt: skip


def box_by_country(frame: pl.DataFrame, y: str, y_title: str) -> go.Figure:
    fig = go.Figure()
    for country in country_order(frame["country"].unique().to_list()):
        sub = frame.filter(pl.col("country") == country)
        fig.add_box(
            y=sub[y].to_list(), name=country, boxpoints="all", jitter=0.4, pointpos=0,
            marker_color=country_colour(country), marker_size=4,
        )  # fmt: skip
    return _layout(fig, 320, yaxis_title=y_title, yaxis_tickformat=".0%", showlegend=False)


def jsd_heatmap(pairs: pl.DataFrame) -> go.Figure:
    """Mean JSD between countries (from agreement.country_pair_matrix), diagonal left empty."""
    order = country_order(sorted(set(pairs["c1"].to_list()) | set(pairs["c2"].to_list())))
    lookup = {(a, b): (v, n) for a, b, v, n in pairs.select("c1", "c2", "mean_jsd", "prompts").iter_rows()}
    z = [[lookup.get((a, b), (None, 0))[0] for b in order] for a in order]
    text = [
        [f"{lookup[(a, b)][0]:.2f}<br>n={lookup[(a, b)][1]}" if (a, b) in lookup else "" for b in order] for a in order
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=order, y=order, zmin=0, zmax=1, colorscale="Reds", text=text, texttemplate="%{text}",
            colorbar_title="mean JSD", hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>",
        )
    )  # fmt: skip
    return _layout(fig, 360, yaxis_autorange="reversed")


def candidate_share_bars(chosen: pl.DataFrame, share_cols: list[str], label_chars: int = 60) -> go.Figure:
    """For one prompt: per chosen candidate text (rows, most chosen on top), each country's share of its choices."""
    labels = [  # plain text (Markdown marks removed), escaped: plotly renders tags in labels
        f"#{i + 1} {html.escape(markdown_label(t, label_chars))}" for i, t in enumerate(chosen["text"].to_list())
    ]
    fig = go.Figure()
    for col in share_cols:
        fig.add_bar(
            y=labels[::-1], x=chosen[col].to_list()[::-1], name=col, orientation="h",
            marker_color=country_colour(col),
        )  # fmt: skip
    height = max(300, 16 * len(labels) * max(1, len(share_cols)) + 80)
    return _layout(
        fig, min(height, 2400), barmode="group", xaxis_title="Share of the country's choices", xaxis_tickformat=".0%",
    )  # fmt: skip
