"""The Tour's first finding, "people spread further than LLMs", measured on the loaded database: the numbers and the
sentence computed from them (never a fixed claim).

What is compared: each person's position (the mean position of the responses they chose, people with at least
``MIN_CHOICES`` scored choices: the Values map's "Mean chosen" frame) and each LLM's position (the mean position of its
answers stored in ``llm_responses``), both placed by the same value-axis scores. A side's spread is the mean distance
of its members to their centre. The share of people's choices in the LLM quadrant (the quadrant holding most LLM
answers, as on the Values map) is given beside it.

Intervals are 95% BCa bootstraps (``scipy.stats.bootstrap``: bias-corrected, which matters with a handful of LLMs,
whose resampled spread is biased low): people resampled (a person's choices stay together), LLMs resampled; the
ratio's interval resamples both. The sentence says "further" only when the ratio's interval lies above 1
("less far" only when below 1); otherwise it says there is no clear difference. With fewer than ``MIN_LLMS`` LLMs there
is no spread of LLMs to measure, and the step says so.

The database side reuses the Values map's queries (``analysis.explore.positions``); nothing is embedded or scored
here: with no axis scores or too few LLMs, ``people_step`` says which is missing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl
from scipy import stats

from analysis.explore import positions
from analysis.explore.plane import dominant_quadrant, quadrant_name
from analysis.filters import Filters

N_BOOT = 400
BATCH = 50  # resamples per vectorised call (bounds memory on the release: 50 x 11,000 people x 2 coordinates)
SEED = 0
MIN_CHOICES = 3  # a person's position needs this many scored choices (as on the Values map)
MIN_LLMS = 3  # fewer LLMs have no spread worth an interval
MAX_DRAWN = 2_000  # people and LLM answers handed to the figure (a seeded sample); the numbers use every one
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    value: float
    lo: float
    hi: float


@dataclass(frozen=True)
class Spread:
    """The step's numbers: spreads (mean distance to the centre, plane units), their ratio and the LLM quadrant."""

    people: Interval  # people's positions (mean of what each chose)
    llm: Interval  # LLMs' positions (mean of each one's answers)
    ratio: Interval  # people / llm
    n_people: int  # people with at least MIN_CHOICES scored choices
    n_choices: int  # every scored choice under the filters
    n_llm_models: int
    n_llm: int  # LLM answers
    quadrant: tuple[int, int]
    quadrant_name: str
    llm_share: float  # share of LLM answers in that quadrant
    human_share: Interval  # share of people's choices in it
    people_centre: tuple[float, float]
    llm_centre: tuple[float, float]


@dataclass(frozen=True)
class PeopleStep:
    """What the step shows: the numbers (None when they cannot be computed) and what is missing, if anything."""

    spread: Spread | None
    people: pl.DataFrame  # per person (a seeded sample): annotator_id, country, n, x, y (mean chosen position)
    llm: pl.DataFrame  # LLM answers (a seeded sample): llm, x, y
    llm_models: pl.DataFrame  # per LLM: llm, n, x, y (mean position)
    missing: str | None  # "scores" (nothing scored), "llm" (fewer than MIN_LLMS LLMs), "choices", or None


def mean_distance(xy: np.ndarray) -> float:
    """Mean distance of points (n, 2) to their centre."""
    xy = np.asarray(xy, dtype=float)
    centre = xy.mean(axis=0)
    return float(np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1]).mean())


def _in_quadrant(x: pl.Expr, y: pl.Expr, signs: tuple[int, int]) -> pl.Expr:
    sx = pl.when(x < 0).then(-1).otherwise(1)
    sy = pl.when(y < 0).then(-1).otherwise(1)
    return ((sx == signs[0]) & (sy == signs[1])).cast(pl.Int64)


def person_positions(chosen: pl.DataFrame, signs: tuple[int, int] = (1, 1)) -> pl.DataFrame:
    """Per person: n (scored choices), x, y (mean chosen position), inside (choices in the quadrant ``signs``),
    country (the first one given)."""
    country = [pl.col("country").drop_nulls().first().alias("country")] if "country" in chosen.columns else []
    return (
        chosen.group_by("annotator_id")
        .agg(
            pl.len().alias("n"),
            pl.col("x").mean(),
            pl.col("y").mean(),
            _in_quadrant(pl.col("x"), pl.col("y"), signs).sum().alias("inside"),
            *country,
        )  # fmt: skip
        .sort("annotator_id")
    )


def _llm_means(llm: pl.DataFrame) -> pl.DataFrame:
    """Per LLM: n (answers), x, y (mean position)."""
    return llm.group_by("llm").agg(pl.len().alias("n"), pl.col("x").mean(), pl.col("y").mean()).sort("llm")


def _spread_of(xy: np.ndarray):
    """A vectorised statistic for scipy's bootstrap: the mean distance to the centre of the rows ``idx`` of ``xy``."""

    def statistic(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        pts = xy[idx]  # (..., n, 2)
        d = pts - pts.mean(axis=-2, keepdims=True)
        return np.hypot(d[..., 0], d[..., 1]).mean(axis=-1)

    return statistic


def _interval(statistic, samples: tuple[np.ndarray, ...], value: float, seed: int) -> Interval:
    """``value`` with its 95% bootstrap interval over ``samples`` (index arrays, each resampled on its own): BCa, or
    the percentile interval where BCa is undefined (every jackknife value equal, as in a perfectly symmetric set)."""
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns before it returns NaN bounds for a degenerate sample
            res = stats.bootstrap(
                samples, statistic, vectorized=True, n_resamples=N_BOOT, confidence_level=LEVEL, method=method,
                batch=BATCH, rng=np.random.default_rng(seed),
            )  # fmt: skip
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(lo) and np.isfinite(hi):
            break
    return Interval(float(value), lo, hi)


def _spreads(persons: pl.DataFrame, models: pl.DataFrame, seed: int) -> tuple[Interval, Interval, Interval, Interval]:
    """People's spread, LLMs' spread, their ratio and the share of choices in the LLM quadrant, with intervals."""
    kept = persons.filter(pl.col("n") >= MIN_CHOICES)
    people_xy, llm_xy = kept.select("x", "y").to_numpy(), models.select("x", "y").to_numpy()
    spread_people, spread_llm = _spread_of(people_xy), _spread_of(llm_xy)
    i_people, i_llm = np.arange(len(people_xy)), np.arange(len(llm_xy))
    value_people, value_llm = float(spread_people(i_people)), float(spread_llm(i_llm))
    n, inside = persons["n"].to_numpy().astype(float), persons["inside"].to_numpy().astype(float)

    def ratio(i: np.ndarray, j: np.ndarray, axis: int = -1) -> np.ndarray:
        return spread_people(i) / spread_llm(j)

    def share(i: np.ndarray, axis: int = -1) -> np.ndarray:
        return inside[i].sum(axis=-1) / n[i].sum(axis=-1)

    return (
        _interval(spread_people, (i_people,), value_people, seed),
        _interval(spread_llm, (i_llm,), value_llm, seed + 1),
        _interval(ratio, (i_people, i_llm), value_people / value_llm if value_llm > 0 else np.inf, seed + 2),
        _interval(share, (np.arange(persons.height),), inside.sum() / n.sum(), seed + 3),
    )


def spread_stats(chosen: pl.DataFrame, llm: pl.DataFrame, seed: int = SEED) -> Spread | None:
    """The spreads of people (``chosen``: annotator_id, x, y, one row per choice) and of LLMs (``llm``: llm, x, y, one
    row per answer) with bootstrap intervals; None with fewer than 2 people of MIN_CHOICES choices or MIN_LLMS LLMs."""
    models = _llm_means(llm)
    if models.height < MIN_LLMS or not chosen.height:
        return None
    signs, llm_share = dominant_quadrant(llm["x"].to_numpy(), llm["y"].to_numpy())
    persons = person_positions(chosen, signs)
    kept = persons.filter(pl.col("n") >= MIN_CHOICES)
    if kept.height < 2:
        return None
    people, llm_spread, ratio, share = _spreads(persons, models, seed)
    return Spread(
        people=people,
        llm=llm_spread,
        ratio=ratio,
        n_people=kept.height,
        n_choices=chosen.height,
        n_llm_models=models.height,
        n_llm=llm.height,
        quadrant=signs,
        quadrant_name=quadrant_name(signs),
        llm_share=llm_share,
        human_share=share,
        people_centre=(float(kept["x"].mean()), float(kept["y"].mean())),
        llm_centre=(float(models["x"].mean()), float(models["y"].mean())),
    )


def _sample(frame: pl.DataFrame, n: int = MAX_DRAWN, seed: int = SEED) -> pl.DataFrame:
    return frame if frame.height <= n else frame.sample(n=n, seed=seed, shuffle=True)


def people_step(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, model: str | None = None) -> PeopleStep:
    """The step's numbers on the database under the global filters (LLM answers are never filtered, as on the
    Values map), from the stored axis scores of ``model`` (default: the project's default model)."""
    scores = positions.load_scores(con, model)
    if not scores.height:
        return PeopleStep(None, pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), "scores")
    chosen = positions.offered_points(con, filters, model, scores).filter(pl.col("chosen"))
    chosen = chosen.select("annotator_id", "country", "x", "y")
    llm = positions.llm_points(con, model, scores).select("llm", "x", "y")
    models = _llm_means(llm)
    spread = spread_stats(chosen, llm)
    missing = "llm" if models.height < MIN_LLMS else "choices" if spread is None else None
    people = person_positions(chosen).filter(pl.col("n") >= MIN_CHOICES).drop("inside")
    return PeopleStep(spread, _sample(people), _sample(llm), models, missing)


def _ci(i: Interval, fmt: str = ".2f") -> str:
    return f"{i.value:{fmt}} (95% CI {i.lo:{fmt}}–{i.hi:{fmt}})"


def people_sentence(s: Spread) -> str:
    """The takeaway, from the numbers: which side spreads further (when the ratio's interval excludes 1), by how
    much, and the share of people's choices in the quadrant holding most LLM answers."""
    measured = (
        f"{s.n_people:,} people's positions (the mean of what each chose) lie {_ci(s.people)} from their centre on "
        f"average, {s.n_llm_models} LLMs' positions (the mean of each one's answers) {_ci(s.llm)}"
    )
    if s.ratio.lo > 1:
        head = (
            f"People spread further than LLMs, {s.ratio.value:.1f}× as far across the plane (95% CI "
            f"{s.ratio.lo:.1f}–{s.ratio.hi:.1f}×): "
        )
    elif s.ratio.hi < 1:
        head = (
            f"Here the LLMs spread further than people (ratio {s.ratio.value:.2f}, 95% CI "
            f"{s.ratio.lo:.2f}–{s.ratio.hi:.2f}): "
        )
    else:
        head = (
            f"No clear difference in spread between people and LLMs (ratio {s.ratio.value:.2f}, 95% CI "
            f"{s.ratio.lo:.2f}–{s.ratio.hi:.2f}, which includes 1): "
        )
    quadrant = (
        f" {s.llm_share:.0%} of the {s.n_llm:,} LLM answers sit in the {s.quadrant_name} quadrant; "
        f"{s.human_share.value:.0%} of people's {s.n_choices:,} choices do (95% CI {s.human_share.lo:.0%}–"
        f"{s.human_share.hi:.0%})."
    )
    return head + measured + "." + quadrant
