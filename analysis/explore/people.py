"""People and LLMs on the Inglehart-Welzel plane, frame by frame: revealed human positions, LLM positions, spread
per group and quadrant shares. Pure functions over Polars frames; the database side is ``analysis.explore.positions``.

Coordinates: x = ``self_expression`` (survival < 0 < self-expression), y = ``secular``
(traditional < 0 < secular-rational), as written by ``analysis.pipeline.axes`` (typical statements of each pole sit near -1/+1).

Two kinds of human position are computed per annotator, and they live on different scales:

``revealed`` (the default)
    mean over the annotator's comparisons of (position of the chosen candidate - mean position of the
    candidates offered in that comparison). It measures what the person prefers, not what they were shown:
    an annotator who picks at random has an expected revealed position of (0, 0) whatever they were offered.
    It is a *difference*: a choice among four candidates can only move a person as far as those candidates
    differ, so revealed positions are narrower than absolute positions. To draw people next to LLM
    responses (absolute positions), :func:`human_plot_positions` places each revealed offset at the centre of
    all candidates offered under the current filters; the spread is then comparable between people, not
    between people and LLM responses.
``chosen``
    the mean absolute position of the candidates the annotator chose (depends on what they were shown).

The "LLM quadrant" is the quadrant of the plane (split at 0 on both axes, the midpoint between each axis's
poles) holding the most LLM responses. The share of human choices there is the share of chosen candidates
(one per comparison, absolute positions) whose position falls in that quadrant; the share of all offered
candidates in the quadrant is reported beside it as the baseline. The research's figure (about 41% of human
preferences matched by LLM responses, 21 LLMs, judged by an LLM) was measured differently; it is shown as
"reported in the paper", for orientation only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from analysis import schema
from analysis.explore.plane import (
    ELLIPSE_COVERAGE,
    dispersion,
    dominant_quadrant,
    ellipse,
    quadrant_name,
    share_in_quadrant,
)

X = schema.AXIS_X  # "self_expression"
Y = schema.AXIS_Y  # "secular"
LETTERS = schema.LETTERS

PAPER_LLM_MATCH = 0.41  # reported in the paper: LLM responses line up with ~41% of human preferences
PAPER_LLM_MATCH_NOTE = (
    "Reported in the paper (arXiv 2507.09650): responses of 21 LLMs line up with about 41% of human "
    "preferences (English prompts, judged by an LLM). Measured differently from the share here; for orientation."
)
HUMAN_FRAMES = ("revealed", "chosen")
DEFAULT_MAX_POINTS = 5_000


def score_map(scores: pl.DataFrame) -> pl.DataFrame:
    return scores.select("text_hash", pl.col(X).cast(pl.Float64), pl.col(Y).cast(pl.Float64)).unique(
        "text_hash", keep="first"
    )


def distinct_offered(comps: pl.DataFrame) -> pl.DataFrame:
    """The offered hashes with a repeated text kept once (a set that shows one answer twice offers one text)."""
    out, seen = comps, []
    for letter in LETTERS:
        col = f"{letter}_hash"
        if col not in out.columns:
            continue
        if seen:
            repeat = pl.any_horizontal([pl.col(col) == pl.col(s) for s in seen]).fill_null(False)
            out = out.with_columns(pl.when(repeat).then(None).otherwise(pl.col(col)).alias(col))
        seen.append(col)
    return out


def comparison_offsets(comps: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """Per comparison: the chosen candidate's position, the mean offered position and their difference.

    ``comps`` holds comparison_id, annotator_id, chosen_hash and a_hash..d_hash (NULL for a missing
    candidate); ``scores`` holds text_hash, self_expression, secular. Comparisons whose chosen candidate has
    no position are dropped; offered candidates without a position are left out of the mean.
    """
    sm = score_map(scores)
    out = distinct_offered(comps)
    for letter in LETTERS:
        col = f"{letter}_hash"
        if col not in out.columns:
            out = out.with_columns(pl.lit(None, dtype=pl.String).alias(col))
        out = out.join(sm.rename({"text_hash": col, X: f"{letter}_x", Y: f"{letter}_y"}), on=col, how="left")
    out = out.join(sm.rename({"text_hash": "chosen_hash", X: "chosen_x", Y: "chosen_y"}), on="chosen_hash", how="left")
    out = out.filter(pl.col("chosen_x").is_not_null() & pl.col("chosen_y").is_not_null())
    xs = [pl.col(f"{l}_x") for l in LETTERS]
    ys = [pl.col(f"{l}_y") for l in LETTERS]
    out = out.with_columns(
        offered_x=pl.mean_horizontal(xs),
        offered_y=pl.mean_horizontal(ys),
        n_offered=pl.sum_horizontal([c.is_not_null().cast(pl.Int32) for c in xs]),
    )
    out = out.with_columns(
        diff_x=pl.col("chosen_x") - pl.col("offered_x"),
        diff_y=pl.col("chosen_y") - pl.col("offered_y"),
    )
    drop = [f"{l}_{a}" for l in LETTERS for a in ("x", "y")]
    return out.drop(drop)


def revealed_from_comparisons(comps: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """Revealed position per annotator (see the module docstring).

    Returns annotator_id, country, language, n (comparisons used), self_expression, secular (the revealed
    offset), chosen_x, chosen_y (mean chosen position), offered_x, offered_y (mean offered position).
    ``country``/``language`` come from the comps columns of those names when present (language: the most
    frequent one of the annotator's comparisons).
    """
    per = comparison_offsets(comps, scores)
    for col in ("country", "language"):
        if col not in per.columns:
            per = per.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    out = per.group_by("annotator_id").agg(
        pl.col("country").drop_nulls().first().alias("country"),
        pl.col("language").drop_nulls().mode().sort().first().alias("language"),
        pl.len().alias("n"),
        pl.col("diff_x").mean().alias(X),
        pl.col("diff_y").mean().alias(Y),
        pl.col("chosen_x").mean(),
        pl.col("chosen_y").mean(),
        pl.col("offered_x").mean(),
        pl.col("offered_y").mean(),
    )
    return out.sort("annotator_id")


def human_plot_positions(
    revealed: pl.DataFrame, frame: str = "revealed", origin: tuple[float, float] = (0.0, 0.0)
) -> pl.DataFrame:
    """Positions to draw people at: ``revealed`` = origin + revealed offset (origin: the centre of the
    candidates offered under the filters); ``chosen`` = mean chosen position. Adds columns x, y."""
    if frame not in HUMAN_FRAMES:
        raise ValueError(f"frame must be one of {HUMAN_FRAMES}")
    if frame == "revealed":
        return revealed.with_columns(x=pl.col(X) + origin[0], y=pl.col(Y) + origin[1])
    return revealed.with_columns(x=pl.col("chosen_x"), y=pl.col("chosen_y"))


def group_dispersion(
    frame: pl.DataFrame, group: str, kind: str, x: str = "x", y: str = "y", llm_quadrant: tuple[int, int] | None = None
) -> pl.DataFrame:
    """One row per group with n, centroid, mean distance to centroid, sd, covariance, 95% ellipse area,
    and (when ``llm_quadrant`` is given) the share of the group's points in that quadrant."""
    rows = []
    if frame.height:
        for key, sub in frame.group_by(group, maintain_order=True):
            pts = sub.select(x, y).to_numpy()
            row = {"group": str(key[0]), "kind": kind, **dispersion(pts).as_row()}
            if llm_quadrant is not None:
                row["share_in_llm_quadrant"] = share_in_quadrant(pts[:, 0], pts[:, 1], llm_quadrant)
            rows.append(row)
    return (
        pl.DataFrame(rows, schema=_DISPERSION_SCHEMA if llm_quadrant is not None else _DISPERSION_SCHEMA_NOQ)
        if rows
        else pl.DataFrame(schema=_DISPERSION_SCHEMA)
    )


_DISPERSION_SCHEMA_NOQ = {
    "group": pl.String,
    "kind": pl.String,
    "n": pl.Int64,
    "centroid_x": pl.Float64,
    "centroid_y": pl.Float64,
    "mean_dist": pl.Float64,
    "sd_x": pl.Float64,
    "sd_y": pl.Float64,
    "cov_xy": pl.Float64,
    "ellipse_area": pl.Float64,
}
_DISPERSION_SCHEMA = {**_DISPERSION_SCHEMA_NOQ, "share_in_llm_quadrant": pl.Float64}


def ellipses_by_group(
    frame: pl.DataFrame, group: str, x: str = "x", y: str = "y", coverage: float = ELLIPSE_COVERAGE
) -> dict[str, np.ndarray]:
    """The coverage ellipse polyline of each group with at least 3 points."""
    out: dict[str, np.ndarray] = {}
    for key, sub in frame.group_by(group, maintain_order=True):
        pts = sub.select(x, y).to_numpy()
        d = dispersion(pts)
        if d.n >= 3:
            out[str(key[0])] = ellipse(d.centroid, d.cov, coverage)
    return out


def stratified_sample(
    frame: pl.DataFrame, max_points: int = DEFAULT_MAX_POINTS, strata: str | None = None, seed: int = 0
) -> tuple[pl.DataFrame, bool]:
    """At most ``max_points`` rows, sampled without replacement, seeded. With ``strata``, each stratum keeps
    its share of the rows (rounded) and at least min(its size, 25) rows, so small groups stay visible.
    Returns (frame, sampled?)."""
    n = frame.height
    if n <= max_points:
        return frame, False
    if strata is None or strata not in frame.columns:
        return frame.sample(n=max_points, seed=seed, shuffle=True), True
    groups = [sub for _, sub in frame.group_by(strata, maintain_order=True)]
    sizes = np.array([g.height for g in groups])
    base = np.minimum(sizes, 25)
    if base.sum() > max_points:  # too many strata for the floor: plain proportional allocation
        base = np.zeros_like(sizes)
    room = sizes - base
    extra = np.floor(room / max(room.sum(), 1) * (max_points - base.sum())).astype(int)
    want = np.minimum(base + extra, sizes)
    parts = [g.sample(n=int(w), seed=seed + i, shuffle=True) for i, (g, w) in enumerate(zip(groups, want)) if w > 0]
    out = pl.concat(parts)
    return out, True


# --------------------------------------------------------------------------------------------------


def llm_positions(points: pl.DataFrame) -> pl.DataFrame:
    """Per LLM: n responses, mean position (x, y), mean distance of its responses to that mean, synthetic."""
    if points.height == 0:
        return pl.DataFrame(
            schema={
                "llm": pl.String,
                "synthetic": pl.Boolean,
                "n": pl.UInt32,
                "x": pl.Float64,
                "y": pl.Float64,
                "mean_dist": pl.Float64,
            }
        )
    out = points.group_by("llm").agg(
        pl.col("synthetic").all(),
        pl.len().alias("n"),
        pl.col("x").mean(),
        pl.col("y").mean(),
        (((pl.col("x") - pl.col("x").mean()) ** 2 + (pl.col("y") - pl.col("y").mean()) ** 2).sqrt())
        .mean()
        .alias("mean_dist"),
    )
    return out.sort("llm")


@dataclass(frozen=True)
class QuadrantShare:
    quadrant: tuple[int, int]  # signs (x, y)
    name: str
    llm_share: float  # share of LLM responses in that quadrant
    human_share: float  # share of chosen candidates (human choices) in it
    offered_share: float  # share of all offered candidates in it (baseline)
    n_llm: int
    n_choices: int
    by_country: dict[str, float]


def quadrant_share(offered: pl.DataFrame, llm: pl.DataFrame) -> QuadrantShare | None:
    """Share of human choices in the quadrant holding the most LLM responses (absolute positions).

    ``offered``: rows from :func:`offered_points` (axis-score positions); ``llm``: rows from :func:`llm_points`.
    None when there are no LLM responses or no choices."""
    if llm.height == 0 or offered.height == 0:
        return None
    signs, llm_share = dominant_quadrant(llm["x"].to_numpy(), llm["y"].to_numpy())
    chosen = offered.filter(pl.col("chosen"))
    if chosen.height == 0:
        return None
    by_country: dict[str, float] = {}
    for key, sub in chosen.group_by("country", maintain_order=True):
        by_country[str(key[0])] = share_in_quadrant(sub["x"].to_numpy(), sub["y"].to_numpy(), signs)
    return QuadrantShare(
        quadrant=signs,
        name=quadrant_name(signs),
        llm_share=llm_share,
        human_share=share_in_quadrant(chosen["x"].to_numpy(), chosen["y"].to_numpy(), signs),
        offered_share=share_in_quadrant(offered["x"].to_numpy(), offered["y"].to_numpy(), signs),
        n_llm=llm.height,
        n_choices=chosen.height,
        by_country=dict(sorted(by_country.items())),
    )


def dispersion_table(
    people: pl.DataFrame,
    chosen: pl.DataFrame,
    llm: pl.DataFrame,
    llm_quadrant: tuple[int, int] | None,
    frame: str = "revealed",
) -> pl.DataFrame:
    """The dispersion table shown on the page: per country the spread of people's positions (``people``:
    :func:`human_plot_positions` output), per country the spread of the chosen responses (absolute), and
    the spread of LLM responses (all LLMs and per LLM). The share in the LLM quadrant is left empty for revealed
    positions (an offset placed at the centre of what was offered has no quadrant of its own)."""
    kind_people = "people: revealed position (difference)" if frame == "revealed" else "people: mean chosen position"
    # A revealed position is an offset drawn at the centre of what was offered: which quadrant it lands in says
    # more about that centre than about the person, so no quadrant share is given for it.
    people_quadrant = None if frame == "revealed" else llm_quadrant
    parts = [
        group_dispersion(
            people.with_columns(pl.col("country").fill_null("(unknown)")),
            "country",
            kind_people,
            llm_quadrant=people_quadrant,
        ),
        group_dispersion(
            chosen.with_columns(pl.col("country").fill_null("(unknown)")),
            "country",
            "chosen responses (absolute)",
            llm_quadrant=llm_quadrant,
        ),
    ]
    if llm.height:
        parts.append(
            group_dispersion(
                llm.with_columns(pl.lit("all LLMs").alias("g")),
                "g",
                "LLM responses (absolute)",
                llm_quadrant=llm_quadrant,
            )
        )
        parts.append(group_dispersion(llm, "llm", "LLM responses (absolute)", llm_quadrant=llm_quadrant))
    parts = [
        p
        if "share_in_llm_quadrant" in p.columns
        else p.with_columns(pl.lit(None, dtype=pl.Float64).alias("share_in_llm_quadrant"))
        for p in parts
    ]
    return pl.concat(parts, how="vertical_relaxed")
