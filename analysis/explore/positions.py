"""The Values map's data from the database: offered candidates and LLM answers with their positions (axis scores or
the UMAP map), the filtered comparisons behind people's revealed positions, and the page's frames in one call each
(``map_data``, ``people_data``). The maths is in ``analysis.explore.plane`` and ``analysis.explore.people``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.explore.people import (
    DEFAULT_MAX_POINTS,
    QuadrantShare,
    dispersion_table,
    ellipses_by_group,
    human_plot_positions,
    llm_positions,
    quadrant_share,
    revealed_from_comparisons,
    score_map,
    stratified_sample,
)
from analysis.explore.plane import DensityGrid, density_grid
from analysis.filters import Filters
from analysis.pipeline import axes_store, project
from analysis.pipeline.models import DEFAULT_MODEL, model_key

X = schema.AXIS_X
Y = schema.AXIS_Y
LETTERS = schema.LETTERS

LLM_POINT_SCHEMA = {
    "llm": pl.String,
    "synthetic": pl.Boolean,
    "text_hash": pl.String,
    "prompt_hash": pl.String,
    "text": pl.String,
    "prompt": pl.String,
    "x": pl.Float64,
    "y": pl.Float64,
}


def load_scores(
    con: duckdb.DuckDBPyConnection, model: str | None = None, scores: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Axis scores to use: the given frame (e.g. from edited labelled statements), else the stored ones."""
    return scores if scores is not None else axes_store.load_axis_scores(con, model)


def filtered_comparisons(
    con: duckdb.DuckDBPyConnection,
    filters: Filters | None = None,
    placed: pl.DataFrame | None = None,
    need: str = "chosen",
) -> pl.DataFrame:
    """Comparisons under the filters with the chooser's country and language. With ``placed`` (a frame with
    text_hash: the texts that have a position), only the comparisons whose chosen text (``need="chosen"``) or any
    offered text (``need="any"``) is among them: the rest would be dropped by every caller, and while the
    background job is part-way through the release they are nearly all of its 233,000."""
    where, params = (filters or Filters()).where("f")
    hashes = ", ".join(f"f.{c}" for c in schema.HASH_COLUMNS)
    if placed is not None:
        inside = "(SELECT text_hash FROM _cae_placed_texts)"
        cols = ["chosen_hash"] if need == "chosen" else list(schema.HASH_COLUMNS)
        where += " AND (" + " OR ".join(f"f.{c} IN {inside}" for c in cols) + ")"
        con.register("_cae_placed_texts", placed.select("text_hash"))
    sql = f"""
        SELECT f.comparison_id, f.annotator_id, f.country, f.assigned_lang AS language, f.prompt_hash,
               {hashes}, f.chosen, f.chosen_hash
        FROM {schema.V_FACTS} f WHERE {where}
    """
    try:
        return store.query_pl(con, sql, params)
    finally:
        if placed is not None:
            con.unregister("_cae_placed_texts")


def revealed_positions(
    con: duckdb.DuckDBPyConnection,
    filters: Filters | None = None,
    model: str | None = None,
    scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Revealed position per annotator under the filters (axis scores from ``scores`` or the stored ones)."""
    sc = load_scores(con, model, scores)
    return revealed_from_comparisons(filtered_comparisons(con, filters, sc, "chosen"), sc)


def _positions(
    con: duckdb.DuckDBPyConnection, model: str | None, scores: pl.DataFrame | None, coords: pl.DataFrame | None
) -> pl.DataFrame:
    """text_hash, x, y: from ``coords`` (e.g. the UMAP projection) when given, else from the axis scores."""
    if coords is None:
        return score_map(load_scores(con, model, scores)).rename({X: "x", Y: "y"})
    return coords.select("text_hash", pl.col("x").cast(pl.Float64), pl.col("y").cast(pl.Float64)).unique("text_hash")


def offered_points(
    con: duckdb.DuckDBPyConnection,
    filters: Filters | None = None,
    model: str | None = None,
    scores: pl.DataFrame | None = None,
    coords: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per distinct offered candidate text (comparison x text) under the filters: comparison_id, letter,
    text_hash, prompt_hash, chosen (bool), country, language, x, y. Positions come from ``coords``
    (text_hash, x, y; e.g. the UMAP projection) when given, else from the axis scores (x = self_expression,
    y = secular). Candidates without a position are dropped."""
    sc = _positions(con, model, scores, coords)
    comps = filtered_comparisons(con, filters, sc, "any")
    long = comps.unpivot(
        index=["comparison_id", "annotator_id", "country", "language", "prompt_hash", "chosen_hash"],
        on=list(schema.HASH_COLUMNS),
        variable_name="letter",
        value_name="text_hash",
    ).filter(pl.col("text_hash").is_not_null())
    long = long.with_columns(pl.col("letter").str.slice(0, 1), chosen=pl.col("text_hash") == pl.col("chosen_hash"))
    # a text offered in two slots is one offered text (chosen when either slot was)
    long = long.sort(["comparison_id", "letter"]).unique(
        ["comparison_id", "text_hash"], keep="first", maintain_order=True
    )
    long = long.drop("chosen_hash")
    return long.join(sc, on="text_hash", how="inner").sort(["comparison_id", "letter"])


def attach_texts(con: duckdb.DuckDBPyConnection, points: pl.DataFrame) -> pl.DataFrame:
    """Add ``text`` (candidate) and ``prompt`` (prompt text) to a frame with text_hash and prompt_hash."""
    th = points["text_hash"].unique().to_list() if points.height else []
    has_prompt = "prompt_hash" in points.columns
    ph = points["prompt_hash"].unique().drop_nulls().to_list() if points.height and has_prompt else []
    texts = store.query_pl(
        con, f"SELECT text_hash, text FROM {schema.T_CANDIDATES} WHERE text_hash IN (SELECT unnest(?::VARCHAR[]))", [th]
    )
    out = points.join(texts, on="text_hash", how="left")
    if has_prompt:
        prompts = store.query_pl(
            con,
            f"SELECT prompt_hash, text AS prompt FROM {schema.T_PROMPTS} "
            "WHERE prompt_hash IN (SELECT unnest(?::VARCHAR[]))",
            [ph],
        )
        out = out.join(prompts, on="prompt_hash", how="left")
    return out


def llm_points(
    con: duckdb.DuckDBPyConnection,
    model: str | None = None,
    scores: pl.DataFrame | None = None,
    coords: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per stored LLM response with its position: llm, synthetic, text_hash, prompt_hash, text,
    prompt, x, y. Empty when there is no llm_responses table. Positions as in :func:`offered_points`."""
    if not store.table_exists(con, schema.T_LLM_RESPONSES):
        return pl.DataFrame(schema=LLM_POINT_SCHEMA)
    rows = store.query_pl(
        con,
        f"""SELECT r.model AS llm, r.synthetic, r.text_hash, r.prompt_hash, r.text, p.text AS prompt
            FROM {schema.T_LLM_RESPONSES} r LEFT JOIN {schema.T_PROMPTS} p USING (prompt_hash)""",
    )
    out = rows.join(_positions(con, model, scores, coords), on="text_hash", how="inner")
    return out.select(list(LLM_POINT_SCHEMA)).sort(["llm", "prompt_hash", "text_hash"])


@dataclass
class MapData:
    points: (
        pl.DataFrame
    )  # rid, comparison_id, letter, text_hash, prompt_hash, chosen, country, language, x, y, text, prompt
    n_total: int
    sampled: bool
    llm: pl.DataFrame  # llm, synthetic, text_hash, prompt_hash, text, prompt, x, y
    grid: DensityGrid | None = None  # when drawn as a density: every point, binned


def map_data(
    con: duckdb.DuckDBPyConnection,
    filters: Filters | None = None,
    model: str | None = None,
    scores: pl.DataFrame | None = None,
    view: str = "iw",
    color_by: str = "chosen",
    max_points: int = DEFAULT_MAX_POINTS,
    seed: int = 0,
    density: bool = False,
) -> MapData:
    """Candidate responses to draw (stratified by the colour, seeded, at most ``max_points``), with their texts
    and prompts; and the LLM responses. ``view``: 'iw' (axis scores) or 'umap' (the stored projection).
    ``density``: every point, without texts (for a 2-D histogram)."""
    coords = None
    if view == "umap":
        coords = project.load_projection(con, model_key(model) if model else DEFAULT_MODEL)
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
            )
        )
        sampled = False
    else:
        strata = {"chosen": "chosen", "country": "country", "language": "language"}.get(color_by)
        sample, sampled = stratified_sample(pts, max_points, strata, seed)
        sample = attach_texts(con, sample).with_row_index("rid")
    llm = llm_points(con, model, scores, coords)
    return MapData(sample, pts.height, sampled, llm, grid)


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
    filters: Filters | None = None,
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
    comps = filtered_comparisons(con, filters, sc, "chosen")
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
