"""The Values map's findings as statistics of a stratified sample, each with a 95% interval.

The findings are statistics, so they need not wait for the whole release to be embedded: they are computed from the
comparisons whose candidate texts all have a position (the background embedding job embeds a stratified sample of
comparisons first, analysis/pipeline/sample.py), and they tighten as more is embedded.

Input: one row per comparison with ``annotator_id``, ``country``, ``weight`` (the stratum's comparisons per sampled
comparison, N_h / n_h, so strata count as they do in the data; 1 when everything is in), the chosen position
(``chosen_x``, ``chosen_y``) and the offered positions (``pos``: (m, 4, 2), NaN for an empty or repeated slot).

Statistics, per country and for all countries together:
- ``revealed_x``, ``revealed_y``: the mean over people of their revealed position (the weighted mean over their
  comparisons of chosen minus mean offered; analysis.explore.people explains the measure);
- ``people_spread``: the mean distance of people's revealed positions from their country's centre;
- ``chosen_spread``: the mean distance of the chosen responses (absolute positions) from their centre: the scale on
  which people's choices and LLM responses can be compared;
- ``share_in_llm_quadrant``: the share of choices in the quadrant holding most LLM responses;
- ``coverage_<pole>``: the share of candidate sets holding at least one response on the pole (analysis.poles).
For the LLMs: ``llm_spread`` (the same measure as ``chosen_spread``, over LLM responses).

Intervals: a cluster bootstrap over people (Poisson weights, ``B`` draws, seeded; 2.5 and 97.5 percentiles), since a
person's choices are not independent of each other; LLM responses are resampled one by one. The centre a spread is
measured from is held at its estimate within the bootstrap (its own variability is of second order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from analysis import schema
from analysis.explore.people import comparison_offsets, distinct_offered, score_map
from analysis.explore.plane import dominant_quadrant, quadrant_key
from analysis.poles import DEFAULT_THRESHOLD, on_pole
from analysis.schema import HASH_COLUMNS, POLES

B = 400
SEED = 0
ALL = "All countries"
STATISTICS: tuple[str, ...] = (
    "revealed_x",
    "revealed_y",
    "people_spread",
    "chosen_spread",
    "share_in_llm_quadrant",
    *(f"coverage_{p}" for p in POLES),
)
COLUMNS = {
    "group": pl.String,
    "statistic": pl.String,
    "value": pl.Float64,
    "lo": pl.Float64,
    "hi": pl.Float64,
    "n_people": pl.Int64,
    "n_comparisons": pl.Int64,
}


@dataclass(frozen=True)
class Sample:
    """The comparisons a finding is computed from, as arrays (see the module docstring)."""

    annotator: np.ndarray  # (m,) annotator index 0..n-1
    country: np.ndarray  # (n,) country of each annotator
    weight: np.ndarray  # (m,)
    chosen: np.ndarray  # (m, 2)
    pos: np.ndarray  # (m, 4, 2), NaN where a slot has no (distinct) text

    @property
    def n_people(self) -> int:
        return len(self.country)


def build_sample(comps: pl.DataFrame, scores: pl.DataFrame) -> Sample:
    """A Sample from comparisons (annotator_id, country, chosen_hash, a_hash..d_hash, optional weight) and positions
    (text_hash, self_expression, secular). Comparisons whose chosen text has no position are left out; a repeated
    slot counts once (analysis.explore.people)."""
    offsets = comparison_offsets(comps, scores)  # drops comparisons whose chosen text has no position
    sm = score_map(scores)
    dedup = distinct_offered(offsets)
    pos = np.full((dedup.height, len(HASH_COLUMNS), 2), np.nan)
    for i, col in enumerate(HASH_COLUMNS):
        joined = dedup.select(col).join(sm, left_on=col, right_on="text_hash", how="left", maintain_order="left")
        pos[:, i, 0] = joined[schema.AXIS_X].to_numpy()
        pos[:, i, 1] = joined[schema.AXIS_Y].to_numpy()
    people = dedup.select("annotator_id", "country").unique("annotator_id", keep="first", maintain_order=True)
    index = {a: i for i, a in enumerate(people["annotator_id"].to_list())}
    weight = dedup["weight"].to_numpy() if "weight" in dedup.columns else np.ones(dedup.height)
    return Sample(
        annotator=np.array([index[a] for a in dedup["annotator_id"].to_list()], dtype=np.int64),
        country=np.array(people["country"].fill_null("(unknown)").to_list(), dtype=object),
        weight=weight.astype(float),
        chosen=dedup.select("chosen_x", "chosen_y").to_numpy().astype(float),
        pos=pos,
    )


def _percentiles(draws: np.ndarray) -> tuple[float, float]:
    finite = draws[np.isfinite(draws)]
    if finite.size < 10:
        return math.nan, math.nan
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


def _ratio(num: np.ndarray, den: np.ndarray, P: np.ndarray) -> tuple[float, float, float]:
    """sum(num) / sum(den) over people, and its bootstrap interval (``P``: (B, n) Poisson weights over people)."""
    total = den.sum()
    if total <= 0:
        return math.nan, math.nan, math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = (P @ num) / (P @ den)
    return (float(num.sum() / total), *_percentiles(draws))


def _per_person(s: Sample, values: np.ndarray) -> np.ndarray:
    """Weighted sums over each person's comparisons of ``values`` ((m,) or (m, k))."""
    w = s.weight if values.ndim == 1 else s.weight[:, None]
    out = np.zeros((s.n_people,) + values.shape[1:])
    np.add.at(out, s.annotator, values * w)
    return out


def _revealed(s: Sample) -> tuple[np.ndarray, np.ndarray]:
    """Each person's revealed position (n, 2) and whether they have one."""
    offered = np.nanmean(s.pos, axis=1)
    diff = s.chosen - offered
    weight_sum = _per_person(s, np.ones(len(s.weight)))
    with np.errstate(invalid="ignore", divide="ignore"):
        revealed = _per_person(s, diff) / weight_sum[:, None]
    return revealed, weight_sum > 0


def _spread_rows(s: Sample, people: np.ndarray, w: np.ndarray, P: np.ndarray) -> list[tuple]:
    """people_spread (revealed positions of the group's people) and chosen_spread (its chosen responses)."""
    revealed, has = _revealed(s)
    sel = people & has
    r, Pr = revealed[sel], P[:, sel]
    if len(r):
        dist = np.linalg.norm(r - r.mean(axis=0), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):  # a draw without any of these people
            people_spread = (float(dist.mean()), *_percentiles((Pr @ dist) / Pr.sum(axis=1)))
    else:
        people_spread = (math.nan, math.nan, math.nan)
    centre = (s.chosen * w[:, None]).sum(axis=0) / max(w.sum(), 1e-12)
    sub = Sample(s.annotator, s.country, w, s.chosen, s.pos)
    cdist = _per_person(sub, np.linalg.norm(s.chosen - centre, axis=1))
    return [("people_spread", *people_spread), ("chosen_spread", *_ratio(cdist, _per_person(sub, np.ones(len(w))), P))]


def _group_rows(group: str, s: Sample, people: np.ndarray, llm_quadrant, P: np.ndarray) -> list[tuple]:
    """The statistics of one group of people (``people``: a mask over people)."""
    keep_c = people[s.annotator]
    w = np.where(keep_c, s.weight, 0.0)
    sub = Sample(s.annotator, s.country, w, s.chosen, s.pos)
    per_person_w = _per_person(sub, np.ones(len(w)))
    revealed, has = _revealed(s)
    rows = []
    for axis, name in ((0, "revealed_x"), (1, "revealed_y")):
        rows.append((name, *_ratio(np.where(people & has, revealed[:, axis], 0.0), (people & has).astype(float), P)))
    rows += _spread_rows(s, people, w, P)
    if llm_quadrant is not None:
        inq = (quadrant_key(s.chosen[:, 0], s.chosen[:, 1]) == _code(llm_quadrant)).astype(float)
        rows.append(("share_in_llm_quadrant", *_ratio(_per_person(sub, inq), per_person_w, P)))
    valid = ~np.isnan(s.pos).any(axis=2)
    for pole, on in on_pole(np.nan_to_num(s.pos, nan=0.0), DEFAULT_THRESHOLD).items():
        cov = (on & valid).any(axis=1).astype(float)
        rows.append((f"coverage_{pole}", *_ratio(_per_person(sub, cov), per_person_w, P)))
    n_c = int(keep_c.sum())
    return [(group, name, v, lo, hi, int(people.sum()), n_c) for name, v, lo, hi in rows]


def _code(signs: tuple[int, int]) -> int:
    return int(quadrant_key(np.array([signs[0]]), np.array([signs[1]]))[0])


def country_findings(s: Sample, llm_quadrant: tuple[int, int] | None, b: int = B, seed: int = SEED) -> pl.DataFrame:
    """Long table: one row per (group, statistic) with value, lo, hi, n_people, n_comparisons (groups: each country,
    then ``All countries``)."""
    if s.n_people == 0:
        return pl.DataFrame(schema=COLUMNS)
    P = np.random.default_rng(seed).poisson(1.0, size=(b, s.n_people)).astype(float)
    rows = []
    countries = sorted({c for c in s.country if c is not None})
    for country in [*countries, ALL]:
        people = np.ones(s.n_people, bool) if country == ALL else (s.country == country)
        if people[s.annotator].any():
            rows += _group_rows(country, s, people, llm_quadrant, P)
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


def llm_findings(llm_xy: np.ndarray, b: int = B, seed: int = SEED) -> dict:
    """The LLM responses' spread around their centre with a bootstrap interval over responses, and the quadrant
    holding most of them: {"llm_spread": (value, lo, hi), "n": int, "quadrant": signs or None}."""
    xy = np.asarray(llm_xy, dtype=float).reshape(-1, 2)
    xy = xy[~np.isnan(xy).any(axis=1)]
    if len(xy) < 2:
        return {"llm_spread": (math.nan, math.nan, math.nan), "n": len(xy), "quadrant": None}
    dist = np.linalg.norm(xy - xy.mean(axis=0), axis=1)
    P = np.random.default_rng(seed + 1).poisson(1.0, size=(b, len(xy))).astype(float)
    quadrant, _ = dominant_quadrant(xy[:, 0], xy[:, 1])
    return {"llm_spread": (float(dist.mean()), *_percentiles((P @ dist) / P.sum(axis=1))), "n": len(xy),
            "quadrant": quadrant}  # fmt: skip


def spread_sentence(people: tuple[float, float, float], llm: tuple[float, float, float], n_people: int) -> str:
    """The headline, computed from the two spreads and their intervals (people's chosen responses against LLM
    responses, the same scale)."""
    (p, plo, phi), (m, mlo, mhi) = people, llm
    if any(math.isnan(v) for v in (p, plo, phi, m, mlo, mhi)):
        return "Not enough positioned choices or LLM answers yet to compare their spread."
    numbers = (
        f"people's chosen answers spread {p:.2f} [{plo:.2f}–{phi:.2f}] from their centre, LLM answers "
        f"{m:.2f} [{mlo:.2f}–{mhi:.2f}] (95% intervals; {n_people:,} people)"
    )
    if plo > mhi:
        return f"People's choices spread further than the LLMs' answers: {numbers}."
    if phi < mlo:
        return f"The LLMs' answers spread further than people's choices: {numbers}."
    return f"No clear difference in spread between people's choices and the LLMs' answers: {numbers}."
