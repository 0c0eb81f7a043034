"""The Tour's first finding, "people spread further than LLMs", measured on the loaded database: the numbers and the
sentence computed from them (never a fixed claim).

The statistics are the Values map's findings (``analysis.explore.findings``), not a second implementation: the spread
of people's chosen answers (mean distance of every chosen response from their centre) against the spread of the LLM
answers (the same measure over the stored LLM responses), both placed by the same value-axis scores, and the share of
people's choices in the quadrant holding most LLM answers. Intervals are 95% cluster bootstraps over people (a person's
choices stay together) and over LLM answers. The sentence (``findings.spread_sentence``) says "further" only when the
two intervals do not overlap; otherwise it says there is no clear difference. With fewer than ``MIN_LLMS`` LLMs there
is no spread of LLMs worth comparing, and the step says so.

The database side reuses the Values map's queries (``analysis.explore.positions``); nothing is embedded or scored
here: with no axis scores or too few LLMs, ``people_step`` says which is missing. The figure's people are drawn each at
the mean of what they chose (people with at least ``MIN_CHOICES`` scored choices), as on the Values map's "Mean chosen"
frame; the numbers use every scored choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analysis.explore import findings, positions
from analysis.explore.plane import dominant_quadrant, quadrant_name
from analysis.filters import Filters

MIN_CHOICES = 3  # a person drawn at the mean of what they chose needs this many scored choices (as on the Values map)
MIN_LLMS = 3  # fewer LLMs have no spread worth an interval
MAX_DRAWN = 2_000  # people and LLM answers handed to the figure (a seeded sample); the numbers use every one
SEED = 0


@dataclass(frozen=True)
class Interval:
    value: float
    lo: float
    hi: float

    @classmethod
    def of(cls, triple: tuple[float, float, float]) -> Interval:
        return cls(*(float(v) for v in triple))

    @property
    def triple(self) -> tuple[float, float, float]:
        return (self.value, self.lo, self.hi)


@dataclass(frozen=True)
class Spread:
    """The step's numbers (plane units): the spread of people's chosen answers and of LLM answers, and the LLM
    quadrant."""

    people: Interval  # mean distance of people's chosen answers from their centre (findings' chosen_spread)
    llm: Interval  # mean distance of LLM answers from their centre (findings' llm_spread)
    n_people: int  # people with at least one scored choice
    n_choices: int  # every scored choice under the filters
    n_llm_models: int
    n_llm: int  # scored LLM answers
    quadrant: tuple[int, int]
    quadrant_name: str
    llm_share: float  # share of LLM answers in that quadrant
    human_share: Interval  # share of people's choices in it
    people_centre: tuple[float, float]  # centre of the chosen answers
    llm_centre: tuple[float, float]  # centre of the LLM answers


@dataclass(frozen=True)
class PeopleStep:
    """What the step shows: the numbers (None when they cannot be computed) and what is missing, if anything."""

    spread: Spread | None
    people: pl.DataFrame  # per person (a seeded sample): annotator_id, country, n, x, y (mean chosen position)
    llm: pl.DataFrame  # LLM answers (a seeded sample): llm, x, y
    llm_models: pl.DataFrame  # per LLM: llm, n, x, y (mean position)
    missing: str | None  # "scores" (nothing scored), "llm" (fewer than MIN_LLMS LLMs), "choices", or None


def person_positions(chosen: pl.DataFrame) -> pl.DataFrame:
    """Per person: n (scored choices), x, y (mean chosen position), country (the first one given)."""
    country = [pl.col("country").drop_nulls().first().alias("country")] if "country" in chosen.columns else []
    agg = chosen.group_by("annotator_id").agg(pl.len().alias("n"), pl.col("x").mean(), pl.col("y").mean(), *country)
    return agg.sort("annotator_id")


def llm_means(llm: pl.DataFrame) -> pl.DataFrame:
    """Per LLM: n (answers), x, y (mean position)."""
    return llm.group_by("llm").agg(pl.len().alias("n"), pl.col("x").mean(), pl.col("y").mean()).sort("llm")


def _statistic(table: pl.DataFrame, name: str) -> dict:
    rows = table.filter((pl.col("group") == findings.ALL) & (pl.col("statistic") == name)).to_dicts()
    return rows[0] if rows else {}


def spread_stats(sample: findings.Sample, llm_xy: np.ndarray, n_llm_models: int, seed: int = SEED) -> Spread | None:
    """The step's numbers from the findings of ``sample`` (people's comparisons) and the LLM answers ``llm_xy``
    (n, 2); None with fewer than 2 people, 2 LLM answers or ``MIN_LLMS`` LLMs."""
    llm_xy = np.asarray(llm_xy, dtype=float).reshape(-1, 2)
    if sample.n_people < 2 or len(llm_xy) < 2 or n_llm_models < MIN_LLMS:
        return None
    llm = findings.llm_findings(llm_xy, seed=seed)
    table = findings.country_findings(sample, llm["quadrant"], seed=seed)
    chosen, share = _statistic(table, "chosen_spread"), _statistic(table, "share_in_llm_quadrant")
    if not chosen or not share:
        return None
    signs, llm_share = dominant_quadrant(llm_xy[:, 0], llm_xy[:, 1])  # the quadrant llm_findings chose, and its share
    return Spread(
        people=Interval(chosen["value"], chosen["lo"], chosen["hi"]),
        llm=Interval.of(llm["llm_spread"]),
        n_people=int(chosen["n_people"]),
        n_choices=int(chosen["n_comparisons"]),
        n_llm_models=int(n_llm_models),
        n_llm=int(llm["n"]),
        quadrant=signs,
        quadrant_name=quadrant_name(signs),
        llm_share=llm_share,
        human_share=Interval(share["value"], share["lo"], share["hi"]),
        people_centre=tuple(float(v) for v in sample.chosen.mean(axis=0)),
        llm_centre=tuple(float(v) for v in llm_xy.mean(axis=0)),
    )


def _sample(frame: pl.DataFrame, n: int = MAX_DRAWN, seed: int = SEED) -> pl.DataFrame:
    return frame if frame.height <= n else frame.sample(n=n, seed=seed, shuffle=True)


def people_step(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, model: str | None = None) -> PeopleStep:
    """The step's numbers on the database under the global filters (LLM answers are never filtered, as on the
    Values map), from the stored axis scores of ``model`` (default: the project's default model)."""
    scores = positions.load_scores(con, model)
    if not scores.height:
        return PeopleStep(None, pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), "scores")
    sample = findings.build_sample(positions.filtered_comparisons(con, filters), scores)
    llm = positions.llm_points(con, model, scores).select("llm", "x", "y")
    models = llm_means(llm)
    spread = spread_stats(sample, llm.select("x", "y").to_numpy(), models.height)
    missing = "llm" if models.height < MIN_LLMS else "choices" if spread is None else None
    chosen = pl.DataFrame(
        {
            "annotator_id": sample.annotator,
            "country": sample.country[sample.annotator].astype(str) if sample.n_people else [],
            "x": sample.chosen[:, 0],
            "y": sample.chosen[:, 1],
        },
        schema={"annotator_id": pl.Int64, "country": pl.String, "x": pl.Float64, "y": pl.Float64},
    )
    people = person_positions(chosen).filter(pl.col("n") >= MIN_CHOICES)
    return PeopleStep(spread, _sample(people), _sample(llm), models, missing)


def people_sentence(s: Spread) -> str:
    """The takeaway, from the numbers: the findings' spread sentence (which side spreads further, only when the
    intervals do not overlap) and the share of people's choices in the quadrant holding most LLM answers."""
    head = findings.spread_sentence(s.people.triple, s.llm.triple, s.n_people)
    if any(math.isnan(v) for v in s.human_share.triple):
        return head
    return head + (
        f" {s.llm_share:.0%} of the {s.n_llm:,} LLM answers ({s.n_llm_models} LLMs) sit in the {s.quadrant_name} "
        f"quadrant; {s.human_share.value:.0%} of people's {s.n_choices:,} choices do (95% interval "
        f"{s.human_share.lo:.0%}–{s.human_share.hi:.0%})."
    )
