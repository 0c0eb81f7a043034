"""The Prompt agreement page's queries: counts of chosen texts per prompt and country, the ranked prompts with their
agreement metrics (``analysis.explore.agreement``), and one prompt's candidates with each country's share.
"""

from __future__ import annotations

import math

import duckdb
import polars as pl

from analysis import schema
from analysis.explore import agreement
from analysis.filters import Filters
from analysis.schema import NOT_GIVEN
from analysis.store import query_pl
from analysis.text import clean_text, clean_text_expr


def agreement_choices(con: duckdb.DuckDBPyConnection, filters: Filters, threshold: int) -> pl.DataFrame:
    """Counts of chosen texts per (prompt, country) for prompts answered by >= threshold distinct annotators."""
    body, params = filters.facts_sql()
    return query_pl(
        con,
        f"""
        WITH f AS ({body}),
        p AS (SELECT prompt_hash FROM f GROUP BY prompt_hash HAVING count(DISTINCT annotator_id) >= ?)
        SELECT f.prompt_hash, coalesce(f.country, '{NOT_GIVEN}') AS country, f.chosen_hash, count(*) AS n
        FROM f JOIN p USING (prompt_hash)
        GROUP BY ALL
        """,
        params + [int(threshold)],
    )


def agreement_prompts(con: duckdb.DuckDBPyConnection, filters: Filters, threshold: int) -> pl.DataFrame:
    """The prompts answered by >= threshold annotators: text, language, annotators, distinct candidate texts shown."""
    body, params = filters.facts_sql()
    return query_pl(
        con,
        f"""
        WITH f AS ({body}),
        p AS (
            SELECT prompt_hash, count(DISTINCT annotator_id) AS n_annotators, mode(assigned_lang) AS language
            FROM f GROUP BY prompt_hash HAVING count(DISTINCT annotator_id) >= ?
        ),
        shown AS (
            SELECT prompt_hash, count(DISTINCT h) AS n_candidates
            FROM (SELECT prompt_hash, unnest([a_hash, b_hash, c_hash, d_hash]) AS h
                  FROM f WHERE prompt_hash IN (SELECT prompt_hash FROM p))
            GROUP BY prompt_hash
        )
        SELECT p.prompt_hash, pr.text AS prompt, p.language, p.n_annotators, shown.n_candidates
        FROM p JOIN shown USING (prompt_hash) JOIN {schema.T_PROMPTS} pr USING (prompt_hash)
        """,
        params + [int(threshold)],
    ).with_columns(clean_text_expr("prompt"))


def agreement_table(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    threshold: int = agreement.DEFAULT_THRESHOLD,
    sort: str = "contested",
    min_per_country: int = agreement.DEFAULT_MIN_PER_COUNTRY,
) -> pl.DataFrame:
    """One row per prompt answered by >= threshold annotators, with its agreement metrics, ranked by ``sort``."""
    metrics = agreement.prompt_metrics(agreement_choices(con, filters, threshold), min_per_country=min_per_country)
    prompts = agreement_prompts(con, filters, threshold)
    table = prompts.join(metrics, on="prompt_hash", how="inner")
    return agreement.sort_prompts(table, sort)


def agreement_views(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    threshold: int = agreement.DEFAULT_THRESHOLD,
    sort: str = "contested",
    min_per_country: int = agreement.DEFAULT_MIN_PER_COUNTRY,
) -> dict[str, pl.DataFrame]:
    """Everything the agreement page shows, from one pass over the choices:
    ``table`` (ranked prompts, as agreement_table), ``countries`` (per prompt and country: n, top1_share,
    entropy_bits) and ``pairs`` (mean JSD per pair of countries over the prompts both answered)."""
    choices = agreement_choices(con, filters, threshold)
    metrics = agreement.prompt_metrics(choices, min_per_country=min_per_country)
    prompts = agreement_prompts(con, filters, threshold)
    table = agreement.sort_prompts(prompts.join(metrics, on="prompt_hash", how="inner"), sort)
    return {
        "table": table,
        "countries": agreement.country_metrics(choices, min_per_country),
        "pairs": agreement.country_pair_matrix(choices, min_per_country),
    }


def overall_choice_spread(table: pl.DataFrame) -> dict[str, float]:
    """Summary of an agreement table: how many prompts, median entropy/top-1, and median between-country JSD."""
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


def prompt_candidates(con: duckdb.DuckDBPyConnection, filters: Filters, prompt_hash: str) -> pl.DataFrame:
    """Every candidate text shown for one prompt (under the filters): shown, chosen, chosen when shown, and the
    share of each country's choices that went to it (one column per country, plus 'All countries')."""
    body, params = filters.facts_sql()
    shown = query_pl(
        con,
        f"""
        WITH f AS ({body}),
        s AS (SELECT unnest([a_hash, b_hash, c_hash, d_hash]) AS text_hash FROM f WHERE prompt_hash = ?)
        SELECT s.text_hash, count(*) AS shown, any_value(t.text) AS text
        FROM s JOIN {schema.T_CANDIDATES} t USING (text_hash) GROUP BY s.text_hash
        """,
        params + [prompt_hash],
    )
    choices = query_pl(
        con,
        f"""
        WITH f AS ({body})
        SELECT prompt_hash, coalesce(country, '{NOT_GIVEN}') AS country, chosen_hash, count(*) AS n
        FROM f WHERE prompt_hash = ? GROUP BY ALL
        """,
        params + [prompt_hash],
    )
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


def prompt_country_totals(con: duckdb.DuckDBPyConnection, filters: Filters, prompt_hash: str) -> pl.DataFrame:
    """How many choices each country made on one prompt (so shares can be read beside their sample size)."""
    body, params = filters.facts_sql()
    return query_pl(
        con,
        f"""
        WITH f AS ({body})
        SELECT coalesce(country, '{NOT_GIVEN}') AS country, count(*) AS choices,
               count(DISTINCT annotator_id) AS annotators
        FROM f WHERE prompt_hash = ? GROUP BY ALL ORDER BY choices DESC, country
        """,
        params + [prompt_hash],
    )


def prompt_text(con: duckdb.DuckDBPyConnection, prompt_hash: str) -> str | None:
    rows = con.execute(f"SELECT text FROM {schema.T_PROMPTS} WHERE prompt_hash = ?", [prompt_hash]).fetchall()
    return clean_text(rows[0][0]) if rows else None
