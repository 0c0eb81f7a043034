"""The Tour's content, as the page shows it and the handout keeps it: one ``TourStep`` per finding (its computed
sentence, figures and labels), and the figure of the first step (people's choices against LLM answers on the plane).
Importable without Streamlit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import polars as pl

from analysis.explore.tour import PeopleStep
from charts import plane
from charts.colours import LLM_COLOUR, country_colour, country_order, rgba


@dataclass(frozen=True)
class TourFigure:
    name: str  # also the PNG's file name
    figure: go.Figure
    caption: str  # how to read it


@dataclass(frozen=True)
class TourPart:
    """One measured part of a step: a computed sentence and its figures, or what is missing here."""

    heading: str | None  # e.g. "From the simulator"; None when the step has one part
    sentence: str | None  # the takeaway, computed from the numbers of the figures beside it (plain text)
    figures: tuple[TourFigure, ...] = ()
    missing: str | None = None  # why the part cannot show its numbers here, and what to run (plain text)


@dataclass(frozen=True)
class TourStep:
    """One step of the tour: the research's claim, what this database (or the simulator) says, and how it was made."""

    key: str  # the step's value in the URL (tour_step)
    number: int
    title: str
    finding: str  # the research's claim, as the paper states it
    parts: tuple[TourPart, ...] = ()
    notes: tuple[str, ...] = ()  # labels: synthetic data, illustrative parameters (plain text)

    @property
    def sentences(self) -> list[str]:
        return [p.sentence for p in self.parts if p.sentence]


def _circle(centre: tuple[float, float], radius: float, n: int = 72) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, n)
    return centre[0] + radius * np.cos(t), centre[1] + radius * np.sin(t)


def _people_traces(people: pl.DataFrame) -> list[go.Scatter]:
    out = []
    for country in country_order([str(c) for c in people["country"].fill_null("(unknown)").unique().to_list()]):
        sub = people.filter(pl.col("country").fill_null("(unknown)") == country)
        out.append(
            go.Scatter(
                x=sub["x"], y=sub["y"], mode="markers", name=f"people in {country}",
                marker=dict(size=7, color=rgba(country_colour(country), 0.6)), customdata=sub["n"],
                hovertemplate=f"a person in {country}: (%{{x:.2f}}, %{{y:.2f}}), %{{customdata}} choices<extra></extra>",
            )
        )  # fmt: skip
    return out


def _spread_ring(centre: tuple[float, float], radius: float, colour: str, name: str) -> list[go.Scatter]:
    cx, cy = centre
    xs, ys = _circle((cx, cy), radius)
    return [
        go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=2, dash="dash"), name=name,
                   hoverinfo="skip"),
        go.Scatter(x=[cx], y=[cy], mode="markers", marker=dict(symbol="cross-thin", size=14, color=colour,
                   line=dict(width=2, color=colour)), showlegend=False, hovertemplate=f"{name}: centre<extra></extra>"),
    ]  # fmt: skip


def spread_figure(step: PeopleStep, show_llm_answers: bool = True) -> go.Figure:
    """People (each at the mean of what they chose, coloured by country), each LLM at the mean of its answers (and,
    faint, every answer), the spreads of people's chosen answers and of the LLM answers (mean distance to their centre) drawn as dashed circles, the quadrant holding most
    LLM answers shaded."""
    fig = go.Figure()
    s = step.spread
    arrays = [step.people["x"].to_numpy(), step.people["y"].to_numpy(), step.llm["x"].to_numpy()]
    limit = plane.plane_limit(*arrays, step.llm["y"].to_numpy())
    if s is not None:
        plane.shade_quadrant(fig, s.quadrant, limit, f"LLM quadrant: {s.llm_share:.0%} of LLM answers")
    for trace in _people_traces(step.people):
        fig.add_trace(trace)
    if show_llm_answers and step.llm.height:
        fig.add_trace(
            go.Scatter(x=step.llm["x"], y=step.llm["y"], mode="markers", name="LLM answers",
                       marker=dict(symbol="x-thin", size=6, line=dict(width=1, color=rgba(LLM_COLOUR, 0.35))),
                       hovertemplate="LLM answer: (%{x:.2f}, %{y:.2f})<extra></extra>")
        )  # fmt: skip
    if step.llm_models.height:
        fig.add_trace(
            go.Scatter(x=step.llm_models["x"], y=step.llm_models["y"], mode="markers", name="each LLM (mean of its answers)",
                       marker=dict(symbol="diamond", size=11, color=LLM_COLOUR, line=dict(width=1, color="white")),
                       text=step.llm_models["llm"], hovertemplate="%{text}: (%{x:.2f}, %{y:.2f})<extra></extra>")
        )  # fmt: skip
    if s is not None:
        for trace in _spread_ring(s.people_centre, s.people.value, "#555555", "spread of people's chosen answers"):
            fig.add_trace(trace)
        for trace in _spread_ring(s.llm_centre, s.llm.value, LLM_COLOUR, "spread of LLM answers"):
            fig.add_trace(trace)
    plane.square_axes(fig, limit)
    plane.pole_names(fig, limit)
    fig.update_layout(
        height=600, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.12),
    )  # fmt: skip
    return fig
