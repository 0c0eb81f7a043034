"""The ``llm_responses`` table: one row per answer of an LLM to one of the dataset's prompts, written by the
synthetic demo profiles (``analysis.pipeline.llm_synthetic``) and by users' uploads (``analysis.pipeline.llm_upload``).
``text_hash`` is md5(text) (lowercase hex, as DuckDB computes it), so the embedding cache and the axis scores cover
these texts like any other.
"""

from __future__ import annotations

import duckdb
import polars as pl

from analysis import schema, store

TABLE = schema.T_LLM_RESPONSES
CREATE_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    model VARCHAR NOT NULL,
    prompt_hash VARCHAR NOT NULL,
    text_hash VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    synthetic BOOLEAN NOT NULL,
    uploaded_at TIMESTAMP
)"""


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(CREATE_SQL)


def table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return store.table_exists(con, TABLE)


def summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per model: n responses, n prompts, synthetic, last upload time. Empty when the table is absent."""
    if not table_exists(con):
        return pl.DataFrame(
            schema={
                "model": pl.String,
                "synthetic": pl.Boolean,
                "n_responses": pl.Int64,
                "n_prompts": pl.Int64,
                "uploaded_at": pl.Datetime,
            }
        )
    return con.sql(
        f"""SELECT model, bool_and(synthetic) AS synthetic, count(*) AS n_responses,
                   count(DISTINCT prompt_hash) AS n_prompts, max(uploaded_at) AS uploaded_at
            FROM {TABLE} GROUP BY model ORDER BY model"""
    ).pl()


# --------------------------------------------------------------------------------------------------
