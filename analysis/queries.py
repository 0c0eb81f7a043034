"""The dashboard's queries: each takes a DuckDB connection (or cursor) and the global Filters, returns Polars frames.

All SQL of the overview, browse and agreement pages lives here; the pages only lay out what these return. Filters
apply to ``comparison_facts`` (one row per loaded turn), so every figure counts what the current filters select.
User text (search terms, ids) always travels as a parameter, never inside the SQL string.
"""

from __future__ import annotations

import math
import re
from typing import Any

import duckdb
import polars as pl

from analysis import agreement as A
from analysis import schema as S
from analysis.filters import Filters
from analysis.store import query_pl

NOT_GIVEN = "(not given)"
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
DEFAULT_PAGE_SIZE = 25

# End-of-text and chat-template tokens that some released responses still carry (e.g. <|end_of_text|>).
_SPECIAL_TOKENS = r"<\|[A-Za-z0-9_]+\|>|</s>|<s>|\[/?INST\]"
_SPECIAL_TOKENS_RE = re.compile(_SPECIAL_TOKENS)


def clean_text(text: str | None) -> str:
    """Text for display: special tokens removed, surrounding whitespace trimmed."""
    if text is None:
        return ""
    return _SPECIAL_TOKENS_RE.sub("", text).strip()


def clean_text_expr(column: str) -> pl.Expr:
    """The same cleaning as a Polars expression (vectorised, for whole columns)."""
    return pl.col(column).str.replace_all(_SPECIAL_TOKENS, "").str.strip_chars().alias(column)


def _facts(filters: Filters, alias: str = "f") -> tuple[str, list]:
    """A CTE body selecting the filtered turns."""
    where, params = filters.where(alias)
    return f"SELECT * FROM {S.V_FACTS} {alias} WHERE {where}", params


# ---- sidebar ----------------------------------------------------------------------------------------------------
def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The values each list filter can take, from the data (NULLs left out), sorted."""
    out: dict[str, list[str]] = {}
    sources = {
        "country": S.T_ANNOTATORS,
        "age": S.T_ANNOTATORS,
        "gender": S.T_ANNOTATORS,
        "education": S.T_ANNOTATORS,
        "political": S.T_ANNOTATORS,
        "assigned_lang": S.T_CONVERSATIONS,
    }
    for field, column in FILTER_COLUMNS.items():
        table = sources[column]
        rows = con.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1").fetchall()
        out[field] = [r[0] for r in rows]
    return out


# ---- overview ---------------------------------------------------------------------------------------------------
def totals(con: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, int | float]:
    """Headline counts over the filtered turns."""
    body, params = _facts(filters)
    row = con.execute(
        f"""
        WITH f AS ({body})
        SELECT count(*), count(DISTINCT conversation_id), count(DISTINCT annotator_id),
               count(DISTINCT prompt_hash), count(feedback)
        FROM f
        """,
        params,
    ).fetchall()[0]
    comparisons, conversations, annotators, prompts, with_feedback = (int(v or 0) for v in row)
    return {
        "comparisons": comparisons,
        "conversations": conversations,
        "annotators": annotators,
        "prompts": prompts,
        "with_feedback": with_feedback,
        "feedback_share": (with_feedback / comparisons) if comparisons else math.nan,
    }


def by_country_language(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Comparisons, conversations and annotators per (country, assigned language)."""
    body, params = _facts(filters)
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
    body, params = _facts(filters)
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
    body, params = _facts(filters)
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
    body, params = _facts(filters)
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
    body, params = _facts(filters)
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
    body, params = _facts(filters)
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


# ---- browse -----------------------------------------------------------------------------------------------------
def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_conversations(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    text: str = "",
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> tuple[pl.DataFrame, int]:
    """A page of conversations (filtered, and whose prompts in any turn contain ``text``, case-insensitive).

    Returns (frame, total matching conversations). Page numbers start at 1; a page past the end is empty.
    """
    page = max(1, int(page))
    page_size = max(1, min(int(page_size), 500))
    search_sql = ""
    search_params: list[Any] = []
    if text and text.strip():
        search_sql = f"AND f.prompt_hash IN (SELECT prompt_hash FROM {S.T_PROMPTS} WHERE text ILIKE ? ESCAPE '\\')"
        search_params = [_like_pattern(text.strip())]
    where, wparams = filters.where("f")
    frame = query_pl(
        con,
        f"""
        WITH hits AS (
            SELECT conversation_id, min(turn) AS first_turn, count(*) AS turns,
                   any_value(country) AS country, any_value(assigned_lang) AS language,
                   any_value(annotator_id) AS annotator_id
            FROM {S.V_FACTS} f
            WHERE {where} {search_sql}
            GROUP BY conversation_id
        ),
        paged AS (
            SELECT *, count(*) OVER () AS total FROM hits ORDER BY conversation_id LIMIT ? OFFSET ?
        )
        SELECT paged.conversation_id, coalesce(paged.country, '{NOT_GIVEN}') AS country, paged.language,
               paged.turns, left(p.text, 400) AS prompt, paged.annotator_id, paged.total
        FROM paged
        JOIN {S.T_COMPARISONS} c ON c.conversation_id = paged.conversation_id AND c.turn = paged.first_turn
        JOIN {S.T_PROMPTS} p ON p.prompt_hash = c.prompt_hash
        ORDER BY paged.conversation_id
        """,
        wparams + search_params + [page_size, (page - 1) * page_size],
    )
    if frame.is_empty():
        total = 0
        if page > 1:  # past the end: count without paging
            total = count_conversations(con, filters, text)
        return frame.drop("total"), total
    total = int(frame["total"][0])
    return frame.drop("total").with_columns(clean_text_expr("prompt")), total


def count_conversations(con: duckdb.DuckDBPyConnection, filters: Filters, text: str = "") -> int:
    where, params = filters.where("f")
    search_sql = ""
    if text and text.strip():
        search_sql = f"AND f.prompt_hash IN (SELECT prompt_hash FROM {S.T_PROMPTS} WHERE text ILIKE ? ESCAPE '\\')"
        params = params + [_like_pattern(text.strip())]
    rows = con.execute(
        f"SELECT count(DISTINCT conversation_id) FROM {S.V_FACTS} f WHERE {where} {search_sql}", params
    ).fetchall()
    return int(rows[0][0] or 0)


def page_count(total: int, page_size: int = DEFAULT_PAGE_SIZE) -> int:
    return max(1, math.ceil(total / max(1, page_size)))


def conversation(con: duckdb.DuckDBPyConnection, conversation_id: str) -> dict[str, Any] | None:
    """One conversation for the reader: its metadata, the annotator, and every loaded turn (texts cleaned).

    Returns None when there is no such conversation. Turns: turn, prompt, a, b, c, d, chosen, chosen_text, feedback.
    """
    info = query_pl(
        con,
        f"""
        SELECT c.conversation_id, c.annotator_id, c.assigned_lang, c.wave, c.is_pregenerated_first_prompt,
               c.in_balanced_subset, c.in_balanced_subset_10, c.n_turns, c.n_comparisons,
               a.country, a.age, a.gender, a.education, a.political, a.ethnicity, a.n_conversations
        FROM {S.T_CONVERSATIONS} c LEFT JOIN {S.T_ANNOTATORS} a USING (annotator_id)
        WHERE c.conversation_id = ?
        """,
        [conversation_id],
    )
    if info.is_empty():
        return None
    turns = query_pl(
        con,
        f"""
        SELECT x.turn, p.text AS prompt, ca.text AS a, cb.text AS b, cc.text AS c, cd.text AS d,
               x.chosen, x.feedback
        FROM {S.T_COMPARISONS} x
        JOIN {S.T_PROMPTS} p ON p.prompt_hash = x.prompt_hash
        LEFT JOIN {S.T_CANDIDATES} ca ON ca.text_hash = x.a_hash
        LEFT JOIN {S.T_CANDIDATES} cb ON cb.text_hash = x.b_hash
        LEFT JOIN {S.T_CANDIDATES} cc ON cc.text_hash = x.c_hash
        LEFT JOIN {S.T_CANDIDATES} cd ON cd.text_hash = x.d_hash
        WHERE x.conversation_id = ?
        ORDER BY x.turn
        """,
        [conversation_id],
    ).with_columns(*(clean_text_expr(c) for c in ("prompt", "a", "b", "c", "d")), pl.col("feedback").str.strip_chars())
    return {"info": info.row(0, named=True), "turns": turns}


# ---- agreement --------------------------------------------------------------------------------------------------
def agreement_choices(con: duckdb.DuckDBPyConnection, filters: Filters, threshold: int) -> pl.DataFrame:
    """Counts of chosen texts per (prompt, country) for prompts answered by >= threshold distinct annotators."""
    body, params = _facts(filters)
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
    body, params = _facts(filters)
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
        FROM p JOIN shown USING (prompt_hash) JOIN {S.T_PROMPTS} pr USING (prompt_hash)
        """,
        params + [int(threshold)],
    ).with_columns(clean_text_expr("prompt"))


def agreement_table(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    threshold: int = A.DEFAULT_THRESHOLD,
    sort: str = "contested",
    min_per_country: int = A.DEFAULT_MIN_PER_COUNTRY,
) -> pl.DataFrame:
    """One row per prompt answered by >= threshold annotators, with its agreement metrics, ranked by ``sort``."""
    metrics = A.prompt_metrics(agreement_choices(con, filters, threshold), min_per_country=min_per_country)
    prompts = agreement_prompts(con, filters, threshold)
    table = prompts.join(metrics, on="prompt_hash", how="inner")
    return A.sort_prompts(table, sort)


def agreement_views(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    threshold: int = A.DEFAULT_THRESHOLD,
    sort: str = "contested",
    min_per_country: int = A.DEFAULT_MIN_PER_COUNTRY,
) -> dict[str, pl.DataFrame]:
    """Everything the agreement page shows, from one pass over the choices:
    ``table`` (ranked prompts, as agreement_table), ``countries`` (per prompt and country: n, top1_share,
    entropy_bits) and ``pairs`` (mean JSD per pair of countries over the prompts both answered)."""
    choices = agreement_choices(con, filters, threshold)
    metrics = A.prompt_metrics(choices, min_per_country=min_per_country)
    prompts = agreement_prompts(con, filters, threshold)
    table = A.sort_prompts(prompts.join(metrics, on="prompt_hash", how="inner"), sort)
    return {
        "table": table,
        "countries": A.country_metrics(choices, min_per_country),
        "pairs": A.country_pair_matrix(choices, min_per_country),
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
    body, params = _facts(filters)
    shown = query_pl(
        con,
        f"""
        WITH f AS ({body}),
        s AS (SELECT unnest([a_hash, b_hash, c_hash, d_hash]) AS text_hash FROM f WHERE prompt_hash = ?)
        SELECT s.text_hash, count(*) AS shown, any_value(t.text) AS text
        FROM s JOIN {S.T_CANDIDATES} t USING (text_hash) GROUP BY s.text_hash
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
    shares = A.country_shares(choices)
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
    body, params = _facts(filters)
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
    rows = con.execute(f"SELECT text FROM {S.T_PROMPTS} WHERE prompt_hash = ?", [prompt_hash]).fetchall()
    return clean_text(rows[0][0]) if rows else None
