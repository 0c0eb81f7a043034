"""The stratified sample the Values map's findings come from, and the order the embedding job follows.

Comparisons are grouped into strata by country x language x turn. Within a stratum they are ranked by a seeded
hash of their id; across strata the order takes every stratum's first comparison, then every stratum's second, and
so on (equal allocation). Any prefix of that order is therefore a stratified random sample, and the embedding job
embeds the texts of the comparisons in that order first (chosen and offered texts), then everything else: the
findings can be computed from the comparisons whose texts all have a position, and they tighten as the job goes on.
Estimates weight a comparison by its stratum's size over the stratum's sampled count (analysis.explore.findings).
"""

from __future__ import annotations

import duckdb

from analysis import schema, store

SEED = 0
STRATUM_SQL = "coalesce(country, '(unknown)') || ' | ' || coalesce(assigned_lang, '?') || ' | turn ' || turn"


def ordered_comparisons_sql(seed: int = SEED, facts: str = schema.V_FACTS) -> str:
    """SQL over ``facts`` (the comparison_facts view, or a filtered query of it): every comparison with its
    ``stratum``, ``rank`` in the stratum (1 first), ``stratum_n`` (the stratum's size) and ``sample_order``."""
    seed = int(seed)
    return f"""
        SELECT *, row_number() OVER (ORDER BY rank, md5(stratum || '{seed}'), comparison_id) AS sample_order
        FROM (
            SELECT f.*, {STRATUM_SQL} AS stratum,
                   row_number() OVER (PARTITION BY {STRATUM_SQL} ORDER BY md5(comparison_id || '{seed}')) AS rank,
                   count(*) OVER (PARTITION BY {STRATUM_SQL}) AS stratum_n
            FROM ({facts if facts.lstrip().upper().startswith("SELECT") else f"SELECT * FROM {facts}"}) f
        )"""


def text_order_sql(con: duckdb.DuckDBPyConnection, seed: int = SEED) -> str:
    """SQL: every text the pipeline embeds with its ``position`` in the job's order: the chosen and offered texts of
    the comparisons in sample order first, then the prompts and the other texts (LLM answers) by hash."""
    slots = ", ".join(schema.HASH_COLUMNS)
    return f"""
        WITH ordered AS ({ordered_comparisons_sql(seed)}),
        sample_texts AS (
            SELECT h AS text_hash, min(sample_order) AS position
            FROM (SELECT sample_order, unnest([{slots}]) AS h FROM ordered)
            WHERE h IS NOT NULL GROUP BY h
        ),
        everything AS ({store.text_hashes_sql(con)})
        SELECT e.text_hash, coalesce(s.position, (SELECT count(*) FROM ordered) + 1) AS position
        FROM everything e LEFT JOIN sample_texts s USING (text_hash)
        ORDER BY position, e.text_hash"""


def texts_in_order(con: duckdb.DuckDBPyConnection, seed: int = SEED) -> list[str]:
    """The text hashes in the job's order (see :func:`text_order_sql`)."""
    return [r[0] for r in con.execute(text_order_sql(con, seed)).fetchall()]
