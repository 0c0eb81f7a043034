"""Plotly figures for the Values map page: candidate responses on the Inglehart-Welzel plane or the UMAP map,
and people (revealed positions, per country) against LLMs. Importable without Streamlit.

Hover texts are built here from the frames' ``text`` and ``prompt`` columns (the page's data carries no HTML).
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
import polars as pl

from analysis import schema
from analysis.explore.plane import DensityGrid
from analysis.text import truncate
from charts import plane
from charts.colours import LLM_COLOUR, colour_of, country_order

LLM_SYMBOLS = ("diamond", "star", "square", "triangle-up", "pentagon", "hexagon", "cross", "x")
COLOR_BY = ("chosen", "country", "language")
COLOR_LABELS = {"chosen": "chosen or not", "country": "chooser's country", "language": "language"}


def _wrap(text: str, width: int = 60) -> str:
    return "<br>".join(html.escape(line) for line in textwrap.wrap(text, width)) if text else ""


def hover_text(text: str | None, prompt: str | None, head: str = "", chars: int = 160) -> str:
    """A point's hover: an optional bold head line, the text (cut to ``chars``), the prompt in italics. Data is
    HTML-escaped (plotly renders a hover's tags)."""
    first = f"<b>{html.escape(head)}</b><br>" if head else ""
    return first + _wrap(truncate(text, chars)) + "<br><i>" + _wrap(truncate(prompt, 90)) + "</i>"


def _candidate_hovers(points: pl.DataFrame) -> list[str]:
    out = []
    for r in points.select("text", "prompt", "country", "chosen").iter_rows(named=True):
        head = f"{'chosen' if r['chosen'] else 'not chosen'} · {r['country'] or '?'}"
        out.append(hover_text(r["text"], r["prompt"], head))
    return out


def colour_column(points: pl.DataFrame, by: str) -> pl.DataFrame:
    """Add ``group``: the label a point is coloured by."""
    if by == "chosen":
        return points.with_columns(
            pl.when(pl.col("chosen")).then(pl.lit("chosen")).otherwise(pl.lit("not chosen")).alias("group")
        )
    if by == "country":
        return points.with_columns(pl.col("country").fill_null("(unknown)").alias("group"))
    if by == "language":
        return points.with_columns(pl.col("language").fill_null("(unknown)").alias("group"))
    raise ValueError(f"colour by one of {COLOR_BY}")


def _group_order(groups: list[str], by: str) -> list[str]:
    if by == "country":
        return country_order(groups)
    known = [g for g in (schema.LANGUAGES if by == "language" else ("not chosen", "chosen")) if g in groups]
    return known + sorted(g for g in groups if g not in known)


def _density_trace(grid: DensityGrid) -> go.Heatmap:
    z = np.where(grid.counts > 0, grid.counts, np.nan)  # empty bins stay blank
    return go.Heatmap(
        x=grid.x, y=grid.y, z=z, colorscale="Blues", colorbar=dict(title="responses", thickness=12),
        hovertemplate="%{z:.0f} responses<extra></extra>", hoverongaps=False,
    )  # fmt: skip


def _point_traces(points: pl.DataFrame, by: str) -> list[go.Scattergl]:
    pts = colour_column(points, by)
    traces = []
    for g in _group_order(pts["group"].unique().to_list(), by):
        sub = pts.filter(pl.col("group") == g)
        hovers = np.array(_candidate_hovers(sub), dtype=object)
        traces.append(
            go.Scattergl(
                x=sub["x"].to_numpy(), y=sub["y"].to_numpy(), mode="markers",
                name=schema.LANGUAGE_NAMES.get(g, g) if by == "language" else g,
                marker=dict(size=6 if by != "chosen" or g == "chosen" else 5, color=colour_of(g, by),
                            opacity=0.75 if g != "not chosen" else 0.45, line=dict(width=0)),
                customdata=np.stack([sub["rid"].to_numpy(), hovers], axis=1) if sub.height else None,
                hovertemplate="%{customdata[1]}<extra></extra>",
            )
        )  # fmt: skip
    return traces


def _llm_trace(llm: pl.DataFrame) -> go.Scattergl:
    n_models = llm["llm"].n_unique()
    synthetic = bool(llm["synthetic"].all())
    label = f"LLM answers ({n_models} {'synthetic ' if synthetic else ''}model{'s' if n_models != 1 else ''})"
    hovers = [hover_text(t, p) for t, p in llm.select("text", "prompt").iter_rows()]
    names = [html.escape(str(m)) for m in llm["llm"].to_list()]
    return go.Scattergl(
        x=llm["x"].to_numpy(), y=llm["y"].to_numpy(), mode="markers", name=label,
        marker=dict(size=8, symbol="diamond", color=LLM_COLOUR, opacity=0.6, line=dict(width=1, color="white")),
        customdata=np.stack([np.full(llm.height, -1), np.array(hovers, dtype=object), np.array(names)], axis=1),
        hovertemplate="<b>%{customdata[2]}</b><br>%{customdata[1]}<extra></extra>",
    )  # fmt: skip


def candidates_figure(
    points: pl.DataFrame,
    by: str,
    view: str = "iw",
    note: str | None = None,
    llm: pl.DataFrame | None = None,
    grid: DensityGrid | None = None,
    height: int = 620,
) -> go.Figure:
    """The candidate responses (one marker per offered candidate) coloured by ``by``; customdata holds the row id
    (``rid``) so a selection maps back to rows. ``grid``: draw binned counts of all points instead of markers.
    ``llm``: LLM responses overlaid (black symbols)."""
    fig = go.Figure()
    if grid is not None:
        fig.add_trace(_density_trace(grid))
    else:
        fig.add_traces(_point_traces(points, by))
    if llm is not None and llm.height:
        fig.add_trace(_llm_trace(llm))
    if view == "iw":
        xs = [points["x"].to_numpy(), points["y"].to_numpy()]
        if grid is not None and len(grid.x):
            xs += [grid.x, grid.y]
        if llm is not None:
            xs += [llm["x"].to_numpy(), llm["y"].to_numpy()]
        limit = plane.plane_limit(*xs)
        plane.square_axes(fig, limit)
        plane.pole_names(fig, limit)
    else:
        fig.update_xaxes(title_text="UMAP 1", showticklabels=False, zeroline=False)
        fig.update_yaxes(title_text="UMAP 2", showticklabels=False, zeroline=False)
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=40 if note else 10, b=10), dragmode="select" if grid is None else "zoom",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, title=None),
        title=dict(text=note, font=dict(size=12, color="#555"), x=0.01, y=0.995) if note else None,
    )  # fmt: skip
    return fig


def _country_traces(sub: pl.DataFrame, country: str, ellipse: np.ndarray | None) -> list:
    col = colour_of(country, "country")
    c = html.escape(country)
    traces = [
        go.Scattergl(
            x=sub["x"].to_numpy(), y=sub["y"].to_numpy(), mode="markers", name=f"{c} (people)", legendgroup=country,
            marker=dict(size=5, color=col, opacity=0.45),
            customdata=np.stack([sub["annotator_id"].to_numpy(), sub["n"].to_numpy()], axis=1),
            hovertemplate=f"{c}<br>annotator %{{customdata[0]}}<br>%{{customdata[1]}} comparisons<extra></extra>",
        )
    ]  # fmt: skip
    if ellipse is not None and len(ellipse):
        traces.append(
            go.Scatter(x=ellipse[:, 0], y=ellipse[:, 1], mode="lines", line=dict(color=col, width=2),
                       name=f"{c} 95% ellipse", legendgroup=country, showlegend=False, hoverinfo="skip")
        )  # fmt: skip
    traces.append(
        go.Scatter(x=[sub["x"].mean()], y=[sub["y"].mean()], mode="markers", legendgroup=country, showlegend=False,
                   marker=dict(size=12, color=col, symbol="circle", line=dict(width=2, color="white")),
                   hovertemplate=f"{c}: centroid of {sub.height} people<extra></extra>")
    )  # fmt: skip
    return traces


def _llm_model_traces(llm_models: pl.DataFrame) -> list[go.Scatter]:
    traces = []
    for i, row in enumerate(llm_models.iter_rows(named=True)):
        label = html.escape(str(row["llm"])) + (" (synthetic)" if row.get("synthetic") else "")
        traces.append(
            go.Scatter(
                x=[row["x"]], y=[row["y"]], mode="markers", name=label,
                marker=dict(size=13, symbol=LLM_SYMBOLS[i % len(LLM_SYMBOLS)], color=LLM_COLOUR,
                            line=dict(width=1, color="white")),
                hovertemplate=f"{label}<br>mean of {row['n']} responses<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
            )
        )  # fmt: skip
    return traces


def people_figure(
    people: pl.DataFrame,
    ellipses: Mapping[str, np.ndarray],
    llm_models: pl.DataFrame,
    llm_points: pl.DataFrame | None = None,
    quadrant: tuple[int, int] | None = None,
    quadrant_label: str | None = None,
    origin: tuple[float, float] | None = None,
    height: int = 620,
) -> go.Figure:
    """People as clouds per country (one dot per annotator, 95% covariance ellipse, centroid), LLMs as points
    (mean position per LLM; optionally their individual responses, faint)."""
    fig = go.Figure()
    ppl = people.with_columns(pl.col("country").fill_null("(unknown)"))
    for c in country_order(ppl["country"].unique().to_list()) if people.height else []:
        fig.add_traces(_country_traces(ppl.filter(pl.col("country") == c), c, ellipses.get(c)))
    if llm_points is not None and llm_points.height:
        fig.add_trace(
            go.Scattergl(x=llm_points["x"].to_numpy(), y=llm_points["y"].to_numpy(), mode="markers",
                         name="LLM responses", marker=dict(size=4, color=LLM_COLOUR, opacity=0.18), hoverinfo="skip")
        )  # fmt: skip
    fig.add_traces(_llm_model_traces(llm_models))
    arrays = [people["x"].to_numpy(), people["y"].to_numpy()] if people.height else []
    if llm_models.height:
        arrays += [llm_models["x"].to_numpy(), llm_models["y"].to_numpy()]
    arrays += [e for e in ellipses.values()]
    limit = plane.plane_limit(*arrays, minimum=1.0, q=1.0)
    plane.square_axes(fig, limit)
    plane.pole_names(fig, limit)
    if quadrant is not None:
        plane.shade_quadrant(fig, quadrant, limit, quadrant_label)
    if origin is not None:
        fig.add_trace(
            go.Scatter(x=[origin[0]], y=[origin[1]], mode="markers", name="centre of what was offered",
                       marker=dict(size=10, symbol="x-thin", line=dict(width=2, color="#555")),
                       hovertemplate="centre of the offered candidates: a random chooser lands here<extra></extra>")
        )  # fmt: skip
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, title=None),
    )  # fmt: skip
    return fig
