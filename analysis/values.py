"""Positions on the Inglehart-Welzel plane: revealed human positions, LLM positions, spread, quadrant shares.

Coordinates: x = ``self_expression`` (survival < 0 < self-expression), y = ``secular``
(traditional < 0 < secular-rational), as written by ``analysis.axes`` (each pole's anchors sit near -1/+1).

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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import polars as pl

from analysis import schema

X = schema.AXIS_X  # "self_expression"
Y = schema.AXIS_Y  # "secular"
LETTERS = schema.LETTERS

PAPER_LLM_MATCH = 0.41  # reported in the paper: LLM responses line up with ~41% of human preferences
PAPER_LLM_MATCH_NOTE = (
    "Reported in the paper (arXiv 2507.09650): responses of 21 LLMs line up with about 41% of human "
    "preferences (English prompts, judged by an LLM). Measured differently from the share here; for orientation."
)
DEFAULT_MAX_POINTS = 5_000
ELLIPSE_COVERAGE = 0.95
HUMAN_FRAMES = ("revealed", "chosen")

QUADRANTS: dict[tuple[int, int], str] = {
    (1, 1): "self-expression / secular-rational",
    (1, -1): "self-expression / traditional",
    (-1, 1): "survival / secular-rational",
    (-1, -1): "survival / traditional",
}


# --------------------------------------------------------------------------------------------------
# Pure maths
# --------------------------------------------------------------------------------------------------


def revealed_offsets(chosen: np.ndarray, offered: np.ndarray) -> np.ndarray:
    """Per comparison: chosen position minus the mean of the offered positions.

    ``chosen`` is (m, 2); ``offered`` is (m, k, 2) with NaN rows for candidates without a position
    (they are left out of that comparison's mean). Returns (m, 2); NaN where nothing was offered.
    """
    chosen = np.asarray(chosen, dtype=float)
    offered = np.asarray(offered, dtype=float)
    if chosen.ndim != 2 or chosen.shape[1] != 2 or offered.ndim != 3 or offered.shape[2] != 2:
        raise ValueError("chosen must be (m, 2) and offered (m, k, 2)")
    if offered.shape[0] != chosen.shape[0]:
        raise ValueError("chosen and offered must hold the same number of comparisons")
    valid = ~np.isnan(offered).any(axis=2)  # (m, k)
    counts = valid.sum(axis=1)
    sums = np.where(valid[:, :, None], offered, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts[:, None]
    mean[counts == 0] = np.nan
    return chosen - mean


def quadrant_key(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Quadrant code per point: 0 (+,+), 1 (+,-), 2 (-,+), 3 (-,-); a point on an axis counts as positive."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return (x < 0).astype(int) * 2 + (y < 0).astype(int)


_CODE_TO_SIGNS = {0: (1, 1), 1: (1, -1), 2: (-1, 1), 3: (-1, -1)}


def quadrant_name(signs: tuple[int, int]) -> str:
    return QUADRANTS[signs]


def dominant_quadrant(x: np.ndarray, y: np.ndarray) -> tuple[tuple[int, int], float]:
    """The quadrant holding the most points, and the share of points in it. Ties go to the first in
    the order (+,+), (+,-), (-,+), (-,-)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    if not keep.any():
        raise ValueError("no positions to find a quadrant for")
    codes = quadrant_key(x[keep], y[keep])
    counts = np.bincount(codes, minlength=4)
    best = int(np.argmax(counts))
    return _CODE_TO_SIGNS[best], float(counts[best] / keep.sum())


def share_in_quadrant(x: np.ndarray, y: np.ndarray, signs: tuple[int, int]) -> float:
    """Share of (non-NaN) points in the quadrant with the given signs; NaN when there are no points."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    if not keep.any():
        return float("nan")
    sx = np.where(x[keep] < 0, -1, 1)
    sy = np.where(y[keep] < 0, -1, 1)
    return float(np.mean((sx == signs[0]) & (sy == signs[1])))


def chi2_2d_quantile(coverage: float) -> float:
    """Quantile of the chi-square distribution with 2 degrees of freedom (closed form)."""
    if not 0 < coverage < 1:
        raise ValueError("coverage must be in (0, 1)")
    return float(-2.0 * np.log(1.0 - coverage))


@dataclass(frozen=True)
class Dispersion:
    n: int
    centroid: tuple[float, float]
    mean_distance: float  # mean Euclidean distance to the centroid
    cov: np.ndarray  # 2x2 sample covariance (ddof=1); NaN when n < 2

    def as_row(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "centroid_x": self.centroid[0],
            "centroid_y": self.centroid[1],
            "mean_dist": self.mean_distance,
            "sd_x": float(np.sqrt(self.cov[0, 0])) if self.n > 1 else float("nan"),
            "sd_y": float(np.sqrt(self.cov[1, 1])) if self.n > 1 else float("nan"),
            "cov_xy": float(self.cov[0, 1]),
            "ellipse_area": ellipse_area(self.cov),
        }


def dispersion(points: np.ndarray) -> Dispersion:
    """Centroid, mean distance to it and covariance of an (n, 2) array (rows with NaN dropped)."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    p = p[~np.isnan(p).any(axis=1)]
    n = len(p)
    if n == 0:
        return Dispersion(0, (float("nan"), float("nan")), float("nan"), np.full((2, 2), np.nan))
    c = p.mean(axis=0)
    dist = float(np.linalg.norm(p - c, axis=1).mean())
    cov = np.cov(p, rowvar=False, ddof=1) if n > 1 else np.full((2, 2), np.nan)
    return Dispersion(n, (float(c[0]), float(c[1])), dist, np.asarray(cov, dtype=float))


def ellipse_area(cov: np.ndarray, coverage: float = ELLIPSE_COVERAGE) -> float:
    """Area of the coverage ellipse of a 2-D normal with covariance ``cov``."""
    cov = np.asarray(cov, dtype=float)
    if np.isnan(cov).any():
        return float("nan")
    det = max(float(np.linalg.det(cov)), 0.0)
    return float(np.pi * chi2_2d_quantile(coverage) * np.sqrt(det))


def ellipse(
    center: tuple[float, float], cov: np.ndarray, coverage: float = ELLIPSE_COVERAGE, n_points: int = 73
) -> np.ndarray:
    """A closed polyline (n_points, 2) of the ellipse that holds ``coverage`` of a 2-D normal
    N(center, cov): the points p with (p - c)' cov^-1 (p - c) = chi2_2(coverage)."""
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (2, 2) or np.isnan(cov).any():
        return np.full((0, 2), np.nan)
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    vals = np.clip(vals, 0.0, None)
    r = np.sqrt(chi2_2d_quantile(coverage))
    t = np.linspace(0, 2 * np.pi, n_points)
    unit = np.stack([np.cos(t), np.sin(t)], axis=1)  # (n, 2)
    pts = unit * (r * np.sqrt(vals))[None, :] @ vecs.T
    return pts + np.asarray(center, dtype=float)[None, :]


# --------------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------------


def _score_map(scores: pl.DataFrame) -> pl.DataFrame:
    return scores.select("text_hash", pl.col(X).cast(pl.Float64), pl.col(Y).cast(pl.Float64)).unique(
        "text_hash", keep="first"
    )


def comparison_offsets(comps: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """Per comparison: the chosen candidate's position, the mean offered position and their difference.

    ``comps`` holds comparison_id, annotator_id, chosen_hash and a_hash..d_hash (NULL for a missing
    candidate); ``scores`` holds text_hash, self_expression, secular. Comparisons whose chosen candidate has
    no position are dropped; offered candidates without a position are left out of the mean.
    """
    sm = _score_map(scores)
    out = comps
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
# Database queries
# --------------------------------------------------------------------------------------------------


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0]
    return bool(row and row[0])


def _q(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """A query as a Polars frame (through Arrow, no row loop)."""
    return con.sql(sql, params=params or None).pl()


def _where(filters: Any, alias: str = "f") -> tuple[str, list]:
    if filters is None:
        return "TRUE", []
    return filters.where(alias)


def load_scores(
    con: duckdb.DuckDBPyConnection, model: str | None = None, scores: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Axis scores to use: the given frame, else the stored ones (analysis.axes.load_axis_scores)."""
    if scores is not None:
        return scores
    from analysis import axes

    return axes.load_axis_scores(con, model)


def filtered_comparisons(con: duckdb.DuckDBPyConnection, filters: Any = None) -> pl.DataFrame:
    """Comparisons under the filters with the chooser's country and language."""
    where, params = _where(filters, "f")
    sql = f"""
        SELECT f.comparison_id, f.annotator_id, f.country, f.assigned_lang AS language, f.prompt_hash,
               f.a_hash, f.b_hash, f.c_hash, f.d_hash, f.chosen, f.chosen_hash
        FROM {schema.V_FACTS} f WHERE {where}
    """
    return _q(con, sql, params)


def revealed_positions(
    con: duckdb.DuckDBPyConnection, filters: Any = None, model: str | None = None, scores: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Revealed position per annotator under the filters (axis scores from ``scores`` or the stored ones)."""
    comps = filtered_comparisons(con, filters)
    return revealed_from_comparisons(comps, load_scores(con, model, scores))


def offered_points(
    con: duckdb.DuckDBPyConnection,
    filters: Any = None,
    model: str | None = None,
    scores: pl.DataFrame | None = None,
    coords: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per offered candidate (comparison x letter) under the filters: comparison_id, letter,
    text_hash, prompt_hash, chosen (bool), country, language, x, y. Positions come from ``coords``
    (text_hash, x, y; e.g. the UMAP projection) when given, else from the axis scores (x = self_expression,
    y = secular). Candidates without a position are dropped."""
    comps = filtered_comparisons(con, filters)
    long = comps.unpivot(
        index=["comparison_id", "annotator_id", "country", "language", "prompt_hash", "chosen"],
        on=[f"{l}_hash" for l in LETTERS],
        variable_name="letter",
        value_name="text_hash",
    ).filter(pl.col("text_hash").is_not_null())
    long = long.with_columns(pl.col("letter").str.slice(0, 1))
    long = long.with_columns((pl.col("letter") == pl.col("chosen")).alias("is_chosen"))
    long = long.drop("chosen").rename({"is_chosen": "chosen"})
    if coords is None:
        sc = _score_map(load_scores(con, model, scores)).rename({X: "x", Y: "y"})
    else:
        sc = coords.select("text_hash", pl.col("x").cast(pl.Float64), pl.col("y").cast(pl.Float64)).unique("text_hash")
    return long.join(sc, on="text_hash", how="inner").sort(["comparison_id", "letter"])


def attach_texts(con: duckdb.DuckDBPyConnection, points: pl.DataFrame, max_chars: int | None = None) -> pl.DataFrame:
    """Add ``text`` (candidate) and ``prompt`` (prompt text) to a frame with text_hash and prompt_hash."""
    th = points["text_hash"].unique().to_list() if points.height else []
    ph = (
        points["prompt_hash"].unique().drop_nulls().to_list()
        if points.height and "prompt_hash" in points.columns
        else []
    )
    texts = _q(
        con, f"SELECT text_hash, text FROM {schema.T_CANDIDATES} WHERE text_hash IN (SELECT unnest(?::VARCHAR[]))", [th]
    )
    prompts = _q(
        con,
        f"SELECT prompt_hash, text AS prompt FROM {schema.T_PROMPTS} WHERE prompt_hash IN (SELECT unnest(?::VARCHAR[]))",
        [ph],
    )
    out = points.join(texts, on="text_hash", how="left")
    if "prompt_hash" in points.columns:
        out = out.join(prompts, on="prompt_hash", how="left")
    if max_chars:
        out = out.with_columns(
            pl.col("text").map_elements(lambda s: truncate(s, max_chars), return_dtype=pl.String).alias("text_short")
        )
    return out


def truncate(text: str | None, max_chars: int = 160) -> str:
    if text is None:
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def llm_points(
    con: duckdb.DuckDBPyConnection,
    model: str | None = None,
    scores: pl.DataFrame | None = None,
    coords: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per stored LLM response with its position: llm, synthetic, text_hash, prompt_hash, text,
    prompt, x, y. Empty when there is no llm_responses table. Positions as in :func:`offered_points`."""
    empty = pl.DataFrame(
        schema={
            "llm": pl.String,
            "synthetic": pl.Boolean,
            "text_hash": pl.String,
            "prompt_hash": pl.String,
            "text": pl.String,
            "prompt": pl.String,
            "x": pl.Float64,
            "y": pl.Float64,
        }
    )
    if not _table_exists(con, "llm_responses"):
        return empty
    rows = _q(
        con,
        f"""SELECT r.model AS llm, r.synthetic, r.text_hash, r.prompt_hash, r.text, p.text AS prompt
            FROM llm_responses r LEFT JOIN {schema.T_PROMPTS} p USING (prompt_hash)""",
    )
    if coords is None:
        sc = _score_map(load_scores(con, model, scores)).rename({X: "x", Y: "y"})
    else:
        sc = coords.select("text_hash", pl.col("x").cast(pl.Float64), pl.col("y").cast(pl.Float64)).unique("text_hash")
    out = rows.join(sc, on="text_hash", how="inner")
    return out.select(empty.columns).sort(["llm", "prompt_hash", "text_hash"])


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


# --------------------------------------------------------------------------------------------------
# What the page needs from the pipeline, and how to get it
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Readiness:
    """How much of the pipeline has run for one embedding model, and the commands that would complete it."""

    model: str
    n_candidates: int
    n_embedded: int  # candidates with a stored vector
    n_scored: int  # candidates with stored axis scores
    n_projected: int  # points in the stored UMAP projection
    n_llm: int  # rows in llm_responses
    n_llm_scored: int
    commands: tuple[str, ...]

    @property
    def can_plane(self) -> bool:
        return self.n_scored > 0

    @property
    def can_umap(self) -> bool:
        return self.n_projected > 0


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return int(con.execute(sql, params or []).fetchall()[0][0])


def readiness(con: duckdb.DuckDBPyConnection, model: str | None = None, db_label: str = "PATH") -> Readiness:
    """Counts of what is stored for ``model`` (default: the project's default model) and the commands, in order,
    that would fill what is missing. Never computes anything itself."""
    from analysis import embeddings

    key = embeddings.model_key(model) if model else embeddings.DEFAULT_MODEL
    model_arg = "" if key == embeddings.DEFAULT_MODEL else f" --model {key}"
    n_cand = _count(con, f"SELECT count(*) FROM {schema.T_CANDIDATES}")
    n_emb = n_scored = n_proj = n_llm = n_llm_scored = 0
    if _table_exists(con, "embeddings"):
        n_emb = _count(
            con,
            f"SELECT count(*) FROM {schema.T_CANDIDATES} c SEMI JOIN embeddings e ON e.text_hash = c.text_hash AND e.model = ?",
            [key],
        )
    from analysis import axes

    scored = axes.load_axis_scores(con, key).select("text_hash")  # the run the page will read
    if scored.height:
        con.register("_vm_scored", scored)
        try:
            n_scored = _count(
                con, f"SELECT count(*) FROM {schema.T_CANDIDATES} c SEMI JOIN _vm_scored s ON s.text_hash = c.text_hash"
            )
            if _table_exists(con, "llm_responses"):
                n_llm_scored = _count(
                    con, "SELECT count(*) FROM llm_responses r SEMI JOIN _vm_scored s ON s.text_hash = r.text_hash"
                )
        finally:
            con.unregister("_vm_scored")
    if _table_exists(con, "llm_responses"):
        n_llm = _count(con, "SELECT count(*) FROM llm_responses")
    try:
        from analysis import projection

        n_proj = projection.load_projection(con, key).height
    except (ImportError, duckdb.Error, LookupError):
        n_proj = 0
    cmds: list[str] = []
    if n_emb < n_cand or (n_llm_scored < n_llm):
        cmds.append(f"python -m analysis embed --db {db_label}{model_arg}")
    if n_scored < n_cand or n_llm_scored < n_llm:
        cmds.append(f"python -m analysis axes score-db --db {db_label}{model_arg}")
    if n_proj == 0:
        cmds.append(f"python -m analysis project --db {db_label}{model_arg}")
    return Readiness(key, n_cand, n_emb, n_scored, n_proj, n_llm, n_llm_scored, tuple(cmds))


def load_validity(con: duckdb.DuckDBPyConnection, model: str | None = None) -> pl.DataFrame:
    """Stored leave-one-out anchor accuracy per axis and language (axis, language, accuracy, n) for the model's
    stored axis scores (analysis.axes.load_axis_validity)."""
    from analysis import axes

    return axes.load_axis_validity(con, model)


WEAK_ACCURACY = 0.7  # below this, positions in that language are not trusted (= analysis.axes.TRUST_THRESHOLD)
NOISE_ACCURACY = 0.6  # below this (chance is 0.5), positions in that language are not findings
AXIS_NAMES = {X: "survival / self-expression", Y: "traditional / secular-rational"}


def validity_notes(validity: pl.DataFrame) -> list[tuple[str, str]]:
    """Plain warnings for weak cells of the validity table: [(level 'error'|'warning', message)]."""
    notes: list[tuple[str, str]] = []
    if validity.height == 0:
        return notes
    for row in validity.sort("accuracy").iter_rows(named=True):
        lang = row["language"]
        name = schema.LANGUAGE_NAMES.get(lang, lang)
        if lang in ("all", "*", None):
            name = "all languages"
        axis = AXIS_NAMES.get(row["axis"], row["axis"])
        acc = row["accuracy"]
        if acc is None or np.isnan(acc):
            continue
        if acc < NOISE_ACCURACY:
            notes.append(
                (
                    "error",
                    f"{name}, {axis} axis: anchor accuracy {acc:.0%} (chance is 50%). This model cannot "
                    f"place {name} text on this axis: don't read {name} positions as findings.",
                )
            )
        elif acc < WEAK_ACCURACY:
            notes.append(
                (
                    "warning",
                    f"{name}, {axis} axis: anchor accuracy {acc:.0%}, weak. Read {name} positions "
                    "on this axis as rough.",
                )
            )
    return notes


def weak_summary(validity: pl.DataFrame) -> str | None:
    """One line naming the weak (but above-chance) cells of the validity table, e.g.
    'Weak (below 70%): Hindi y 60%; Portuguese x 67%.' None when there are none."""
    if validity.height == 0:
        return None
    cells = []
    for row in validity.sort("accuracy").iter_rows(named=True):
        acc = row["accuracy"]
        if acc is None or np.isnan(acc) or not (NOISE_ACCURACY <= acc < WEAK_ACCURACY):
            continue
        lang = row["language"]
        name = "all languages" if lang == "all" else schema.LANGUAGE_NAMES.get(lang, lang)
        cells.append(f"{name} {'x' if row['axis'] == X else 'y'} {acc:.0%}")
    if not cells:
        return None
    return f"Weak (below {WEAK_ACCURACY:.0%}, read as rough): " + "; ".join(cells) + "."


def country_notes(validity: pl.DataFrame, countries: list[str] | tuple[str, ...] = schema.COUNTRIES) -> list[str]:
    """For people drawn per country: the countries whose language the model places poorly on an axis
    (people choose among texts in their own language, so their positions inherit that weakness)."""
    notes = []
    if validity.height == 0:
        return notes
    acc = {(r["axis"], r["language"]): r["accuracy"] for r in validity.iter_rows(named=True)}
    for country in countries:
        lang = schema.COUNTRY_LANG.get(country)
        weak = [
            f"{AXIS_NAMES[a]} {acc[(a, lang)]:.0%}"
            for a in (X, Y)
            if (a, lang) in acc and acc[(a, lang)] is not None and acc[(a, lang)] < WEAK_ACCURACY
        ]
        if weak:
            notes.append(
                f"{country}: its people chose among {schema.LANGUAGE_NAMES.get(lang, lang)} texts, which this model "
                f"places weakly ({'; '.join(weak)} anchor accuracy). Read {country}'s cloud as rough."
            )
    return notes


def anchors_digest(anchors: dict | None) -> str:
    """A short stable key for an anchor set (for caches and labels)."""
    import hashlib
    import json

    if anchors is None:
        return "stored"
    return hashlib.md5(json.dumps(anchors, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:10]


def anchors_as_text(anchors: dict, language: str) -> dict[str, str]:
    """One text block per pole for one language: a statement per line (for editing)."""
    poles = anchors.get("poles", anchors)
    return {p: "\n".join(poles.get(p, {}).get(language, [])) for p in schema.POLES}


MIN_ANCHORS = 3


def anchors_with_text(anchors: dict, language: str, texts: Mapping[str, str]) -> tuple[dict, list[str], list[str]]:
    """A copy of ``anchors`` with one language's statements replaced from edited text blocks (one per line).

    Returns (anchors, errors, warnings). With errors, the returned anchors are the unchanged input."""
    import copy

    errors: list[str] = []
    warnings: list[str] = []
    out = copy.deepcopy(anchors)
    poles = out.setdefault("poles", {})
    lname = schema.LANGUAGE_NAMES.get(language, language)
    for pole in schema.POLES:
        if pole not in texts:
            continue
        lines = [ln.strip() for ln in str(texts[pole]).splitlines() if ln.strip()]
        lines = list(dict.fromkeys(lines))
        label = schema.POLE_LABELS[pole]
        if len(lines) < MIN_ANCHORS:
            errors.append(
                f"{label} ({lname}) has {len(lines)} statement(s); give at least {MIN_ANCHORS}, one per line."
            )
        elif len(lines) < 12:
            warnings.append(
                f"{label} ({lname}) has {len(lines)} statements; the project's sets hold at least 12, and fewer make the axis noisier."
            )
        poles.setdefault(pole, {})[language] = lines
    if errors:
        return anchors, errors, warnings
    out["version"] = f"edited-{anchors_digest(out)}"
    return out, errors, warnings


def rescore_with_anchors(
    con: duckdb.DuckDBPyConnection,
    anchors: dict,
    model: str | None = None,
    progress: Any = None,
    chunk: int = 50_000,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Re-fit the axes from (edited) anchors and re-score every STORED embedding of the model, without
    re-embedding the data: only the anchors are embedded. Returns (scores: text_hash, self_expression, secular;
    validity: axis, language, accuracy, n). ``progress(message)`` is called between steps."""
    from analysis import axes, embeddings

    say = progress or (lambda _m: None)
    say("Embedding the anchor statements and fitting the two axes…")
    axis_model = axes.fit_axes(anchors, model=model)
    say("Leave-one-out accuracy of the edited anchors…")
    validity = axes.anchor_validity(anchors, model=model)
    hashes = embeddings.embedded_hashes(con, model)
    parts = []
    for start in range(0, len(hashes), chunk):
        say(f"Re-scoring stored embeddings {start + 1:,}–{min(start + chunk, len(hashes)):,} of {len(hashes):,}…")
        part = hashes[start : start + chunk]
        emb = embeddings.load_embeddings(con, model, part)
        xy = np.asarray(axes.score_embeddings(axis_model, emb), dtype=float)
        parts.append(pl.DataFrame({"text_hash": part, X: xy[:, 0], Y: xy[:, 1]}))
    scores = pl.concat(parts) if parts else pl.DataFrame(schema={"text_hash": pl.String, X: pl.Float64, Y: pl.Float64})
    return scores, validity


# --------------------------------------------------------------------------------------------------
# The page's frames in one call
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DensityGrid:
    """Counts of points on a regular grid (aggregated on the server, so the browser draws bins, not points)."""

    x: np.ndarray  # bin centres along x (nx,)
    y: np.ndarray  # bin centres along y (ny,)
    counts: np.ndarray  # (ny, nx)


def density_grid(x: np.ndarray, y: np.ndarray, bins: int = 80, q: float = 0.995, symmetric: bool = True) -> DensityGrid:
    """A 2-D histogram of the points. ``symmetric`` (the value axes): a square window about 0 holding the central
    ``q`` of the coordinates, so the origin stays in the middle; otherwise (UMAP) each axis spans its own
    [1 - q, q] quantile range. Points outside the window are left out of the bins."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if not len(x):
        return DensityGrid(np.zeros(0), np.zeros(0), np.zeros((0, 0)))
    if symmetric:
        lim = float(max(np.quantile(np.abs(np.concatenate([x, y])), q), 1e-9)) * 1.02
        xe = ye = np.linspace(-lim, lim, bins + 1)
    else:
        lo = min(1.0 - q, q)
        xe = np.linspace(*_span(x, lo), bins + 1)
        ye = np.linspace(*_span(y, lo), bins + 1)
    counts, _, _ = np.histogram2d(x, y, bins=[xe, ye])
    return DensityGrid((xe[:-1] + xe[1:]) / 2, (ye[:-1] + ye[1:]) / 2, counts.T)


def _span(v: np.ndarray, lo: float) -> tuple[float, float]:
    a, b = float(np.quantile(v, lo)), float(np.quantile(v, 1.0 - lo))
    pad = max((b - a) * 0.02, 1e-9)
    return a - pad, b + pad


@dataclass
class MapData:
    points: (
        pl.DataFrame
    )  # rid, comparison_id, letter, text_hash, prompt_hash, chosen, country, language, x, y, text, prompt, hover
    n_total: int
    sampled: bool
    llm: pl.DataFrame  # llm, synthetic, text_hash, prompt_hash, text, prompt, x, y, hover
    grid: DensityGrid | None = None  # when drawn as a density: every point, binned


def map_data(
    con: duckdb.DuckDBPyConnection,
    filters: Any = None,
    model: str | None = None,
    scores: pl.DataFrame | None = None,
    view: str = "iw",
    color_by: str = "chosen",
    max_points: int = DEFAULT_MAX_POINTS,
    seed: int = 0,
    hover_chars: int = 160,
    density: bool = False,
) -> MapData:
    """Candidate responses to draw (stratified by the colour, seeded, at most ``max_points``), with their texts
    and prompts; and the LLM responses. ``view``: 'iw' (axis scores) or 'umap' (the stored projection).
    ``density``: every point, without texts (for a 2-D histogram)."""
    coords = None
    if view == "umap":
        from analysis import embeddings, projection

        key = embeddings.model_key(model) if model else embeddings.DEFAULT_MODEL
        coords = projection.load_projection(con, key)
    pts = offered_points(con, filters, model, scores, coords)
    grid = None
    if density:
        grid = density_grid(pts["x"].to_numpy(), pts["y"].to_numpy(), symmetric=view == "iw")
        sample = (
            pts.head(0)
            .with_row_index("rid")
            .with_columns(
                pl.lit(None, dtype=pl.String).alias("text"),
                pl.lit(None, dtype=pl.String).alias("prompt"),
                pl.lit("", dtype=pl.String).alias("hover"),
            )
        )
        sampled = False
    else:
        strata = {"chosen": "chosen", "country": "country", "language": "language"}.get(color_by)
        sample, sampled = stratified_sample(pts, max_points, strata, seed)
        sample = attach_texts(con, sample).with_row_index("rid")
        sample = sample.with_columns(
            pl.struct("text", "prompt", "country", "chosen")
            .map_elements(lambda r: _hover(r, hover_chars), return_dtype=pl.String)
            .alias("hover")
        )
    llm = llm_points(con, model, scores, coords)
    llm = (
        llm.with_columns(
            pl.struct("text", "prompt")
            .map_elements(lambda r: _hover(r, hover_chars), return_dtype=pl.String)
            .alias("hover")
        )
        if llm.height
        else llm.with_columns(pl.lit(None, dtype=pl.String).alias("hover"))
    )
    return MapData(sample, pts.height, sampled, llm, grid)


def _wrap(text: str, width: int = 60) -> str:
    import textwrap

    return "<br>".join(textwrap.wrap(text, width)) if text else ""


def _hover(r: dict, n: int) -> str:
    head = ""
    if "country" in r:
        head = f"<b>{'chosen' if r.get('chosen') else 'not chosen'}</b> · {r.get('country') or '?'}<br>"
    return head + _wrap(truncate(r.get("text"), n)) + "<br><i>" + _wrap(truncate(r.get("prompt"), 90)) + "</i>"


@dataclass
class PeopleData:
    people: pl.DataFrame  # per annotator: revealed, chosen/offered means, x, y (plotted position)
    origin: tuple[float, float]
    ellipses: dict[str, np.ndarray]
    llm_points: pl.DataFrame
    llm_models: pl.DataFrame
    quadrant: QuadrantShare | None
    table: pl.DataFrame


def people_data(
    con: duckdb.DuckDBPyConnection,
    filters: Any = None,
    model: str | None = None,
    scores: pl.DataFrame | None = None,
    frame: str = "revealed",
    min_comparisons: int = 3,
) -> PeopleData:
    """Everything the people-versus-LLMs section draws: revealed positions per annotator (with at least
    ``min_comparisons`` scored comparisons), their plotted positions, per-country ellipses, LLM positions,
    the LLM-quadrant share and the dispersion table."""
    sc = load_scores(con, model, scores)
    offered = offered_points(con, filters, model, sc)
    comps = filtered_comparisons(con, filters)
    revealed = revealed_from_comparisons(comps, sc).filter(pl.col("n") >= min_comparisons)
    origin = (float(offered["x"].mean()), float(offered["y"].mean())) if offered.height else (0.0, 0.0)
    people = human_plot_positions(revealed, frame, origin)
    llm = llm_points(con, model, sc)
    models = llm_positions(llm)
    q = quadrant_share(offered, llm)
    chosen = offered.filter(pl.col("chosen"))
    table = dispersion_table(people, chosen, llm, q.quadrant if q else None, frame)
    return PeopleData(
        people=people,
        origin=origin,
        ellipses=ellipses_by_group(people.with_columns(pl.col("country").fill_null("(unknown)")), "country"),
        llm_points=llm,
        llm_models=models,
        quadrant=q,
        table=table,
    )


def run_pipeline(db_path: Any, model: str | None = None, progress: Any = None, embed_progress: Any = None) -> dict:
    """The steps ``readiness`` lists, in order, for a user who has no shell (Streamlit Community Cloud, a workshop
    laptop): embed what is not embedded yet, score it on the value axes, and fit the UMAP map once (texts added later
    are placed with the stored reducer's transform). Each step reuses what is stored, so a rerun costs seconds.
    The same as ``python -m analysis embed``, ``axes score-db`` and ``project`` on the command line."""
    from analysis import axes, embeddings, projection

    say = progress or (lambda _msg: None)
    say("Embedding the texts not embedded yet (the cache skips the rest)…")
    embedded = embeddings.embed_db(db_path, model=model, progress=embed_progress)
    say(f"Embedded {embedded.get('embedded', 0):,} texts. Scoring them on the value axes…")
    scored = axes.score_db(db_path, model=model, progress=None)
    say("Fitting the UMAP map (once; later texts are placed by transform)…")
    projected = projection.project_db(db_path, model=model, progress=None)
    return {"embed": embedded, "score": scored, "project": projected}
