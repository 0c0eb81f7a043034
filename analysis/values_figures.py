"""Plotly figures for the Values map page: candidate responses on the Inglehart-Welzel plane or the UMAP map,
and people (revealed positions, per country) against LLMs.

Importable without Streamlit; plotly is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from analysis import schema as S

X_TITLE = "← survival · self-expression →"
Y_TITLE = "← traditional · secular-rational →"
COUNTRY_COLOURS = {
    "United States": "#1f77b4",
    "France": "#9467bd",
    "Italy": "#2ca02c",
    "Brazil": "#ff7f0e",
    "India": "#d62728",
}
LANGUAGE_COLOURS = {"en": "#1f77b4", "fr": "#9467bd", "it": "#2ca02c", "pt": "#ff7f0e", "hi": "#d62728"}
CHOSEN_COLOURS = {"chosen": "#d62728", "not chosen": "#9aa5b1"}
OTHER_COLOURS = ("#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
LLM_COLOUR = "#111111"
LLM_SYMBOLS = ("diamond", "star", "square", "triangle-up", "pentagon", "hexagon", "cross", "x")
COLOR_BY = ("chosen", "country", "language")
COLOR_LABELS = {"chosen": "chosen or not", "country": "chooser's country", "language": "language"}


def colour_of(group: str, by: str, i: int = 0) -> str:
    if by == "country":
        return COUNTRY_COLOURS.get(group, OTHER_COLOURS[i % len(OTHER_COLOURS)])
    if by == "language":
        return LANGUAGE_COLOURS.get(group, OTHER_COLOURS[i % len(OTHER_COLOURS)])
    return CHOSEN_COLOURS.get(group, OTHER_COLOURS[i % len(OTHER_COLOURS)])


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
        known = [c for c in S.COUNTRIES if c in groups]
    elif by == "language":
        known = [l for l in S.LANGUAGES if l in groups]
    else:
        known = [g for g in ("not chosen", "chosen") if g in groups]
    return known + sorted(g for g in groups if g not in known)


def _iw_axes(fig, limit: float, quadrant: tuple[int, int] | None = None, quadrant_label: str | None = None) -> None:
    line = dict(width=1, color="#bbb")
    fig.add_shape(type="line", x0=0, x1=0, y0=-limit, y1=limit, line=line, layer="below")
    fig.add_shape(type="line", x0=-limit, x1=limit, y0=0, y1=0, line=line, layer="below")
    if quadrant is not None:
        sx, sy = quadrant
        fig.add_shape(
            type="rect",
            x0=0,
            x1=sx * limit,
            y0=0,
            y1=sy * limit,
            fillcolor="rgba(17,17,17,0.05)",
            line=dict(width=1, dash="dot", color="#555"),
            layer="below",
        )
        if quadrant_label:
            fig.add_annotation(
                x=sx * limit * 0.97,
                y=sy * limit * 0.97,
                text=quadrant_label,
                showarrow=False,
                xanchor="right" if sx > 0 else "left",
                yanchor="top" if sy > 0 else "bottom",
                font=dict(size=10, color="#333"),
            )
    pole = dict(showarrow=False, font=dict(size=11, color="#666"))
    fig.add_annotation(x=limit, y=0, text="Self-expression", xanchor="right", yanchor="bottom", **pole)
    fig.add_annotation(x=-limit, y=0, text="Survival", xanchor="left", yanchor="bottom", **pole)
    fig.add_annotation(x=0, y=limit, text="Secular-rational", xanchor="left", yanchor="top", **pole)
    fig.add_annotation(x=0, y=-limit, text="Traditional", xanchor="left", yanchor="bottom", **pole)
    fig.update_xaxes(range=[-limit, limit], title_text=X_TITLE, zeroline=False)
    fig.update_yaxes(range=[-limit, limit], title_text=Y_TITLE, zeroline=False)


def plane_limit(*arrays: np.ndarray, minimum: float = 1.2, q: float = 0.995) -> float:
    vals = [np.abs(np.asarray(a, dtype=float)) for a in arrays if a is not None and len(a)]
    if not vals:
        return minimum
    v = np.concatenate(vals)
    v = v[~np.isnan(v)]
    if not len(v):
        return minimum
    return float(max(minimum, np.quantile(v, q) * 1.08))


def candidates_figure(
    points: pl.DataFrame,
    by: str,
    view: str = "iw",
    note: str | None = None,
    llm: pl.DataFrame | None = None,
    grid=None,
    height: int = 620,
):
    """The candidate responses (one marker per offered candidate) coloured by ``by``; customdata holds the row id
    (``rid``) so a selection maps back to rows. ``grid`` (analysis.values.DensityGrid): draw binned counts of all
    points instead of markers.
    ``llm``: LLM responses overlaid (black symbols per LLM)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if grid is not None:
        z = np.where(grid.counts > 0, grid.counts, np.nan)  # empty bins stay blank
        fig.add_trace(
            go.Heatmap(
                x=grid.x,
                y=grid.y,
                z=z,
                colorscale="Blues",
                colorbar=dict(title="responses", thickness=12),
                hovertemplate="%{z:.0f} responses<extra></extra>",
                hoverongaps=False,
            )
        )
    else:
        pts = colour_column(points, by)
        groups = _group_order(pts["group"].unique().to_list(), by)
        for i, g in enumerate(groups):
            sub = pts.filter(pl.col("group") == g)
            fig.add_trace(
                go.Scattergl(
                    x=sub["x"].to_numpy(),
                    y=sub["y"].to_numpy(),
                    mode="markers",
                    name=S.LANGUAGE_NAMES.get(g, g) if by == "language" else g,
                    marker=dict(
                        size=6 if by != "chosen" or g == "chosen" else 5,
                        color=colour_of(g, by, i),
                        opacity=0.75 if g != "not chosen" else 0.45,
                        line=dict(width=0),
                    ),
                    customdata=np.stack([sub["rid"].to_numpy(), sub["hover"].to_numpy()], axis=1)
                    if sub.height
                    else None,
                    hovertemplate="%{customdata[1]}<extra></extra>",
                )
            )
    if llm is not None and llm.height:
        n_models = llm["llm"].n_unique()
        synthetic = bool(llm["synthetic"].all())
        label = f"LLM answers ({n_models} {'synthetic ' if synthetic else ''}model{'s' if n_models != 1 else ''})"
        fig.add_trace(
            go.Scattergl(
                x=llm["x"].to_numpy(),
                y=llm["y"].to_numpy(),
                mode="markers",
                name=label,
                marker=dict(size=8, symbol="diamond", color=LLM_COLOUR, opacity=0.6, line=dict(width=1, color="white")),
                customdata=np.stack(
                    [np.full(llm.height, -1), llm["hover"].fill_null("").to_numpy(), llm["llm"].to_numpy()], axis=1
                ),
                hovertemplate="<b>%{customdata[2]}</b><br>%{customdata[1]}<extra></extra>",
            )
        )
    if view == "iw":
        xs = [points["x"].to_numpy(), points["y"].to_numpy()]
        if grid is not None and len(grid.x):
            xs += [grid.x, grid.y]
        if llm is not None:
            xs += [llm["x"].to_numpy(), llm["y"].to_numpy()]
        limit = plane_limit(*xs)
        _iw_axes(fig, limit)
    else:
        fig.update_xaxes(title_text="UMAP 1", showticklabels=False, zeroline=False)
        fig.update_yaxes(title_text="UMAP 2", showticklabels=False, zeroline=False)
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40 if note else 10, b=10),
        dragmode="select" if grid is None else "zoom",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, title=None),
        title=dict(text=note, font=dict(size=12, color="#555"), x=0.01, y=0.995) if note else None,
    )
    return fig


def people_figure(
    people: pl.DataFrame,
    ellipses: Mapping[str, np.ndarray],
    llm_models: pl.DataFrame,
    llm_points: pl.DataFrame | None = None,
    quadrant: tuple[int, int] | None = None,
    quadrant_label: str | None = None,
    origin: tuple[float, float] | None = None,
    height: int = 620,
):
    """People as clouds per country (one dot per annotator, 95% covariance ellipse, centroid), LLMs as points
    (mean position per LLM; optionally their individual responses, faint)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    countries = (
        _group_order(people["country"].fill_null("(unknown)").unique().to_list(), "country") if people.height else []
    )
    ppl = people.with_columns(pl.col("country").fill_null("(unknown)"))
    for i, c in enumerate(countries):
        sub = ppl.filter(pl.col("country") == c)
        col = colour_of(c, "country", i)
        fig.add_trace(
            go.Scattergl(
                x=sub["x"].to_numpy(),
                y=sub["y"].to_numpy(),
                mode="markers",
                name=f"{c} (people)",
                legendgroup=c,
                marker=dict(size=5, color=col, opacity=0.45),
                customdata=np.stack([sub["annotator_id"].to_numpy(), sub["n"].to_numpy()], axis=1),
                hovertemplate=f"{c}<br>annotator %{{customdata[0]}}<br>%{{customdata[1]}} comparisons<extra></extra>",
            )
        )
        if c in ellipses and len(ellipses[c]):
            e = ellipses[c]
            fig.add_trace(
                go.Scatter(
                    x=e[:, 0],
                    y=e[:, 1],
                    mode="lines",
                    line=dict(color=col, width=2),
                    name=f"{c} 95% ellipse",
                    legendgroup=c,
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=[sub["x"].mean()],
                y=[sub["y"].mean()],
                mode="markers",
                legendgroup=c,
                showlegend=False,
                marker=dict(size=12, color=col, symbol="circle", line=dict(width=2, color="white")),
                hovertemplate=f"{c}: centroid of {sub.height} people<extra></extra>",
            )
        )
    if llm_points is not None and llm_points.height:
        fig.add_trace(
            go.Scattergl(
                x=llm_points["x"].to_numpy(),
                y=llm_points["y"].to_numpy(),
                mode="markers",
                name="LLM responses",
                marker=dict(size=4, color=LLM_COLOUR, opacity=0.18),
                hoverinfo="skip",
            )
        )
    for i, row in enumerate(llm_models.iter_rows(named=True)):
        label = row["llm"] + (" (synthetic)" if row.get("synthetic") else "")
        fig.add_trace(
            go.Scatter(
                x=[row["x"]],
                y=[row["y"]],
                mode="markers",
                name=label,
                marker=dict(
                    size=13,
                    symbol=LLM_SYMBOLS[i % len(LLM_SYMBOLS)],
                    color=LLM_COLOUR,
                    line=dict(width=1, color="white"),
                ),
                hovertemplate=f"{label}<br>mean of {row['n']} responses<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
            )
        )
    xs = [people["x"].to_numpy()] if people.height else []
    ys = [people["y"].to_numpy()] if people.height else []
    if llm_models.height:
        xs.append(llm_models["x"].to_numpy())
        ys.append(llm_models["y"].to_numpy())
    for e in ellipses.values():
        xs.append(e[:, 0])
        ys.append(e[:, 1])
    limit = plane_limit(*(xs + ys), minimum=1.0, q=1.0)
    _iw_axes(fig, limit, quadrant, quadrant_label)
    if origin is not None:
        fig.add_trace(
            go.Scatter(
                x=[origin[0]],
                y=[origin[1]],
                mode="markers",
                name="centre of what was offered",
                marker=dict(size=10, symbol="x-thin", line=dict(width=2, color="#555")),
                hovertemplate="centre of the offered candidates: a random chooser lands here<extra></extra>",
            )
        )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, title=None),
    )
    return fig
