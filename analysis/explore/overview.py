"""The Overview page's queries and the sidebar's filter options: each takes a DuckDB connection (or cursor) and the
global Filters and returns Polars frames. Filters apply to ``comparison_facts`` (one row per loaded turn), so every
figure counts what the current filters select.
"""

from __future__ import annotations

import math

import duckdb
import polars as pl

from analysis import schema
from analysis.filters import Filters
from analysis.schema import NOT_GIVEN
from analysis.store import query_pl

DEMOGRAPHICS: dict[str, str] = {  # comparison_facts column -> label
    "age": "Age",
    "gender": "Gender",
    "education": "Education",
    "political": "Political leaning",
    "ethnicity": "Ethnicity",
}
FILTER_COLUMNS: dict[str, str] = {  # Filters field -> column whose distinct values are the options
    "countries": "country",
    "languages": "assigned_lang",
    "ages": "age",
    "genders": "gender",
    "educations": "education",
    "politicals": "political",
}


# ---- sidebar ----------------------------------------------------------------------------------------------------
def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The values each list filter can take, from the data (NULLs left out), sorted."""
    out: dict[str, list[str]] = {}
    sources = {
        "country": schema.T_ANNOTATORS,
        "age": schema.T_ANNOTATORS,
        "gender": schema.T_ANNOTATORS,
        "education": schema.T_ANNOTATORS,
        "political": schema.T_ANNOTATORS,
        "assigned_lang": schema.T_CONVERSATIONS,
    }
    for field, column in FILTER_COLUMNS.items():
        table = sources[column]
        rows = con.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1").fetchall()
        out[field] = [r[0] for r in rows]
    return out


# ---- overview ---------------------------------------------------------------------------------------------------
# A turn whose set shows one text in two (or more) slots: two of its slots hold the same hash (pairwise tests are
# much cheaper than building a list per row).
REPEATED_SLOT_SQL = " OR ".join(
    f"{a} = {b}" for i, a in enumerate(schema.HASH_COLUMNS) for b in schema.HASH_COLUMNS[i + 1 :]
)


def totals(con: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, int | float]:
    """Headline counts over the filtered turns."""
    body, params = filters.facts_sql()
    row = con.execute(
        f"""
        WITH f AS ({body})
        SELECT count(*), count(DISTINCT conversation_id), count(DISTINCT annotator_id),
               count(DISTINCT prompt_hash), count(feedback), count(*) FILTER (WHERE {REPEATED_SLOT_SQL})
        FROM f
        """,
        params,
    ).fetchall()[0]
    comparisons, conversations, annotators, prompts, with_feedback, repeated = (int(v or 0) for v in row)
    return {
        "comparisons": comparisons,
        "conversations": conversations,
        "annotators": annotators,
        "prompts": prompts,
        "with_feedback": with_feedback,
        "with_repeated_candidate": repeated,
        "feedback_share": (with_feedback / comparisons) if comparisons else math.nan,
    }


def by_country_language(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Comparisons, conversations and annotators per (country, assigned language)."""
    body, params = filters.facts_sql()
    return query_pl(
        con,
        f"""
        WITH f AS ({body})
        SELECT coalesce(country, '{NOT_GIVEN}') AS country, coalesce(assigned_lang, '{NOT_GIVEN}') AS language,
               count(*) AS comparisons, count(DISTINCT conversation_id) AS conversations,
               count(DISTINCT annotator_id) AS annotators
        FROM f GROUP BY ALL ORDER BY country, language
        """,
        params,
    )


def demographics(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Annotators per value of each demographic column (long: dimension, value, annotators, share)."""
    body, params = filters.facts_sql()
    unions = " UNION ALL ".join(
        f"SELECT '{label}' AS dimension, coalesce({col}, '{NOT_GIVEN}') AS value, count(*) AS annotators "
        f"FROM a GROUP BY ALL"
        for col, label in DEMOGRAPHICS.items()
    )
    frame = query_pl(
        con,
        f"""
        WITH f AS ({body}),
        a AS (SELECT annotator_id, any_value(age) AS age, any_value(gender) AS gender,
                     any_value(education) AS education, any_value(political) AS political,
                     any_value(ethnicity) AS ethnicity
              FROM f GROUP BY annotator_id)
        {unions}
        """,
        params,
    )
    return frame.with_columns(share=pl.col("annotators") / pl.col("annotators").sum().over("dimension")).sort(
        ["dimension", "annotators", "value"], descending=[False, True, False]
    )


def conversations_per_annotator(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """One row per annotator: how many (filtered) conversations they did, and their country."""
    body, params = filters.facts_sql()
    return query_pl(
        con,
        f"""
        WITH f AS ({body})
        SELECT annotator_id, coalesce(any_value(country), '{NOT_GIVEN}') AS country,
               count(DISTINCT conversation_id) AS conversations
        FROM f GROUP BY annotator_id ORDER BY conversations DESC, annotator_id
        """,
        params,
    )


def turns_per_conversation(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """How many conversations have 1, 2, 3 or 4 loaded turns (counting the filtered turns)."""
    body, params = filters.facts_sql()
    return query_pl(
        con,
        f"""
        WITH f AS ({body}), c AS (SELECT conversation_id, count(*) AS turns FROM f GROUP BY 1)
        SELECT turns, count(*) AS conversations FROM c GROUP BY turns ORDER BY turns
        """,
        params,
    ).with_columns(share=pl.col("conversations") / pl.col("conversations").sum())


def feedback_share(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Share of turns with written feedback, per country and turn."""
    body, params = filters.facts_sql()
    return query_pl(
        con,
        f"""
        WITH f AS ({body})
        SELECT coalesce(country, '{NOT_GIVEN}') AS country, turn, count(*) AS turns,
               count(feedback) AS with_feedback, count(feedback) / count(*) AS share
        FROM f GROUP BY ALL ORDER BY country, turn
        """,
        params,
    )


def position_bias(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Share of choices per shown position a-d, overall ('All countries') and per country; 0.25 is no bias."""
    body, params = filters.facts_sql()
    frame = query_pl(
        con,
        f"""
        WITH f AS ({body}),
        g AS (
            SELECT 'All countries' AS country, chosen, count(*) AS n FROM f GROUP BY chosen
            UNION ALL
            SELECT coalesce(country, '{NOT_GIVEN}'), chosen, count(*) FROM f GROUP BY ALL
        )
        SELECT country, chosen, n, n / sum(n) OVER (PARTITION BY country) AS share,
               CAST(sum(n) OVER (PARTITION BY country) AS BIGINT) AS total
        FROM g ORDER BY country = 'All countries' DESC, country, chosen
        """,
        params,
    )
    return frame
