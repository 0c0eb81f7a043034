"""The Prompt agreement page's queries: counts of chosen texts per unit and country, the ranked units with their
agreement metrics (``analysis.explore.agreement``), and one unit's candidates with each country's share.

The unit is a candidate set (``by="set"``, the default): one prompt with one set of distinct candidate texts, shown to
every annotator who saw that set, in any order. In the release only some first-turn sets were shown to several
annotators; follow-up turns get freshly generated candidates per conversation, so most sets are seen once and say
nothing about agreement. ``by="prompt"`` pools every set of a prompt (it then also measures which texts each
annotator happened to be shown); the page says so.
"""

from __future__ import annotations

import math

import duckdb
import polars as pl

from analysis import schema
from analysis.explore import agreement
from analysis.filters import Filters
from analysis.schema import NOT_GIVEN
from analysis.store import query_pl, scalar
from analysis.text import clean_text, clean_text_expr

UNITS = ("set", "prompt")


def set_id_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The candidate set's id: the stored column, or the expression on a database built before it was stored."""
    cols = {r[0] for r in con.execute(f"DESCRIBE {schema.T_COMPARISONS}").fetchall()}
    return schema.SET_ID if schema.SET_ID in cols else schema.SET_ID_SQL


def _units(con: duckdb.DuckDBPyConnection, filters: Filters, by: str) -> tuple[str, list]:
    """The filtered turns with ``unit_id``: their candidate set's id (by='set') or their prompt (by='prompt')."""
    if by not in UNITS:
        raise ValueError(f"agreement is measured by one of {UNITS}, not {by!r}")
    body, params = filters.facts_sql()
    unit = set_id_sql(con) if by == "set" else "prompt_hash"
    return f"SELECT *, {unit} AS unit_id FROM ({body}) f", params


def shared_sets(con: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, int]:
    """How many candidate sets the filters keep, and how many of them more than one annotator saw."""
    body, params = _units(con, filters, "set")
    row = con.execute(
        f"""WITH u AS ({body}), n AS (SELECT unit_id, count(DISTINCT annotator_id) AS a FROM u GROUP BY unit_id)
            SELECT count(*), count(*) FILTER (WHERE a > 1) FROM n""",
        params,
    ).fetchall()[0]
    return {"sets": int(row[0] or 0), "shared": int(row[1] or 0)}


def agreement_choices(con: duckdb.DuckDBPyConnection, filters: Filters, threshold: int, by: str = "set"):
    """Counts of chosen texts per (unit, country) for units answered by >= threshold distinct annotators."""
    body, params = _units(con, filters, by)
    return query_pl(
        con,
        f"""
        WITH u AS ({body}),
        keep AS (SELECT unit_id FROM u GROUP BY unit_id HAVING count(DISTINCT annotator_id) >= ?)
        SELECT u.unit_id, coalesce(u.country, '{NOT_GIVEN}') AS country, u.chosen_hash, count(*) AS n
        FROM u JOIN keep USING (unit_id)
        GROUP BY ALL
        """,
        params + [int(threshold)],
    )


def agreement_units(con: duckdb.DuckDBPyConnection, filters: Filters, threshold: int, by: str = "set"):
    """The units answered by >= threshold annotators: the prompt, its language, annotators, distinct texts shown."""
    body, params = _units(con, filters, by)
    hashes = ", ".join(schema.HASH_COLUMNS)
    return query_pl(
        con,
        f"""
        WITH u AS ({body}),
        lang AS (  -- the unit's most frequent language; a tie goes to the first in alphabetical order (mode() is
                   -- arbitrary on ties, so two runs could disagree)
            SELECT unit_id, first(assigned_lang ORDER BY n DESC, assigned_lang) AS language
            FROM (SELECT unit_id, assigned_lang, count(*) AS n FROM u GROUP BY ALL) GROUP BY unit_id
        ),
        keep AS (
            SELECT unit_id, any_value(prompt_hash) AS prompt_hash, count(DISTINCT annotator_id) AS n_annotators,
                   any_value(lang.language) AS language
            FROM u JOIN lang USING (unit_id) GROUP BY unit_id HAVING count(DISTINCT annotator_id) >= ?
        ),
        shown AS (
            SELECT unit_id, count(DISTINCT h) AS n_candidates
            FROM (SELECT unit_id, unnest([{hashes}]) AS h FROM u WHERE unit_id IN (SELECT unit_id FROM keep))
            GROUP BY unit_id
        )
        SELECT keep.unit_id, keep.prompt_hash, pr.text AS prompt, keep.language, keep.n_annotators,
               shown.n_candidates
        FROM keep JOIN shown USING (unit_id) JOIN {schema.T_PROMPTS} pr USING (prompt_hash)
        """,
        params + [int(threshold)],
    ).with_columns(clean_text_expr("prompt"))


def agreement_views(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    threshold: int = agreement.DEFAULT_THRESHOLD,
    sort: str = "contested",
    min_per_country: int = agreement.DEFAULT_MIN_PER_COUNTRY,
    by: str = "set",
) -> dict[str, pl.DataFrame | dict]:
    """Everything the agreement page shows, from one pass over the choices: ``table`` (ranked units),
    ``countries`` (per unit and country: n, top1_share, entropy_bits), ``pairs`` (mean JSD per pair of countries
    over the units both answered) and ``shared`` (how many candidate sets several annotators saw)."""
    choices = agreement_choices(con, filters, threshold, by)
    metrics = agreement.prompt_metrics(choices, min_per_country=min_per_country)
    units = agreement_units(con, filters, threshold, by)
    return {
        "table": agreement.sort_prompts(units.join(metrics, on="unit_id", how="inner"), sort),
        "countries": agreement.country_metrics(choices, min_per_country),
        "pairs": agreement.country_pair_matrix(choices, min_per_country),
        "shared": shared_sets(con, filters),
    }


def overall_choice_spread(table: pl.DataFrame) -> dict[str, float]:
    """Summary of an agreement table: how many units, median entropy/top-1, and median between-country JSD."""
    if table.is_empty():
        return {"prompts": 0, "median_entropy": math.nan, "median_top1": math.nan, "median_jsd": math.nan}
    jsd = table["jsd_mean"].drop_nulls()
    return {
        "prompts": table.height,
        "median_entropy": float(table["entropy_bits"].median()),
        "median_top1": float(table["top1_share"].median()),
        "median_jsd": float(jsd.median()) if len(jsd) else math.nan,
        "with_countries": int(len(jsd)),
    }


def _unit_rows(con, filters: Filters, unit_id: str, by: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(texts shown in the unit: text_hash, shown (comparisons that showed it), text; choices per country)."""
    body, params = _units(con, filters, by)
    hashes = ", ".join(schema.HASH_COLUMNS)
    shown = query_pl(
        con,
        f"""
        WITH u AS ({body}),
        s AS (SELECT DISTINCT comparison_id, unnest([{hashes}]) AS text_hash FROM u WHERE unit_id = ?)
        SELECT s.text_hash, count(*) AS shown, any_value(t.text) AS text
        FROM s JOIN {schema.T_CANDIDATES} t USING (text_hash) GROUP BY s.text_hash
        """,
        params + [unit_id],
    )
    choices = query_pl(
        con,
        f"""
        WITH u AS ({body})
        SELECT unit_id, coalesce(country, '{NOT_GIVEN}') AS country, chosen_hash, count(*) AS n
        FROM u WHERE unit_id = ? GROUP BY ALL
        """,
        params + [unit_id],
    )
    return shown, choices


def unit_candidates(con: duckdb.DuckDBPyConnection, filters: Filters, unit_id: str, by: str = "set") -> pl.DataFrame:
    """Every distinct candidate text of one unit (under the filters): shown (in how many comparisons), chosen,
    chosen when shown, and the share of each country's choices that went to it (one column per country, plus
    'All countries')."""
    shown, choices = _unit_rows(con, filters, unit_id, by)
    if shown.is_empty():
        return pl.DataFrame(schema={"text_hash": pl.String, "text": pl.String, "shown": pl.Int64, "chosen": pl.Int64})
    shares = agreement.country_shares(choices)
    wide = (
        shares.pivot(on="country", index="chosen_hash", values="share")
        if not shares.is_empty()
        else pl.DataFrame(schema={"chosen_hash": pl.String})
    )
    chosen = choices.group_by("chosen_hash").agg(chosen=pl.col("n").sum())
    out = (
        shown.join(chosen, left_on="text_hash", right_on="chosen_hash", how="left")
        .join(wide, left_on="text_hash", right_on="chosen_hash", how="left")
        .with_columns(pl.col("chosen").fill_null(0).cast(pl.Int64))
        .with_columns(
            *[pl.col(c).fill_null(0.0) for c in wide.columns if c != "chosen_hash"],
            chosen_when_shown=pl.col("chosen") / pl.col("shown"),
        )
        .with_columns(clean_text_expr("text"))
        .sort(["chosen", "shown", "text_hash"], descending=[True, True, False])
    )
    countries = sorted(c for c in wide.columns if c not in ("chosen_hash", "All countries"))
    lead = ["text_hash", "text", "shown", "chosen", "chosen_when_shown"]
    share_cols = (["All countries"] if "All countries" in out.columns else []) + countries
    return out.select(lead + share_cols)


def unit_country_totals(con: duckdb.DuckDBPyConnection, filters: Filters, unit_id: str, by: str = "set"):
    """How many choices each country made in one unit (so shares can be read beside their sample size)."""
    body, params = _units(con, filters, by)
    return query_pl(
        con,
        f"""
        WITH u AS ({body})
        SELECT coalesce(country, '{NOT_GIVEN}') AS country, count(*) AS choices,
               count(DISTINCT annotator_id) AS annotators
        FROM u WHERE unit_id = ? GROUP BY ALL ORDER BY choices DESC, country
        """,
        params + [unit_id],
    )


def unit_prompt(con: duckdb.DuckDBPyConnection, unit_id: str, by: str = "set") -> str | None:
    """The prompt text of a unit (a candidate set's prompt, or the prompt itself); None when there is no such unit."""
    if by == "prompt":
        rows = con.execute(f"SELECT text FROM {schema.T_PROMPTS} WHERE prompt_hash = ?", [unit_id]).fetchall()
        return clean_text(rows[0][0]) if rows else None
    prompt_hash = scalar(
        con,
        f"SELECT any_value(prompt_hash) FROM (SELECT prompt_hash, {set_id_sql(con)} AS unit_id "
        f"FROM {schema.T_COMPARISONS}) "
        "WHERE unit_id = ?",
        [unit_id],
    )
    return None if prompt_hash is None else unit_prompt(con, prompt_hash, "prompt")
