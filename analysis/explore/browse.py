"""The Browse page's queries: prompt search, conversations page by page, and one conversation turn by turn with its
texts cleaned for display. User text (search terms, ids) always travels as a parameter, never inside the SQL string.
"""

from __future__ import annotations

import math
from typing import Any

import duckdb
import polars as pl

from analysis import schema
from analysis.filters import Filters
from analysis.schema import NOT_GIVEN
from analysis.store import query_pl
from analysis.text import clean_text_expr

DEFAULT_PAGE_SIZE = 25


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
        search_sql = f"AND f.prompt_hash IN (SELECT prompt_hash FROM {schema.T_PROMPTS} WHERE text ILIKE ? ESCAPE '\\')"
        search_params = [_like_pattern(text.strip())]
    where, wparams = filters.where("f")
    frame = query_pl(
        con,
        f"""
        WITH hits AS (
            SELECT conversation_id, min(turn) AS first_turn, count(*) AS turns,
                   any_value(country) AS country, any_value(assigned_lang) AS language,
                   any_value(annotator_id) AS annotator_id
            FROM {schema.V_FACTS} f
            WHERE {where} {search_sql}
            GROUP BY conversation_id
        ),
        paged AS (
            SELECT *, count(*) OVER () AS total FROM hits ORDER BY conversation_id LIMIT ? OFFSET ?
        )
        SELECT paged.conversation_id, coalesce(paged.country, '{NOT_GIVEN}') AS country, paged.language,
               paged.turns, left(p.text, 400) AS prompt, paged.annotator_id, paged.total
        FROM paged
        JOIN {schema.T_COMPARISONS} c ON c.conversation_id = paged.conversation_id AND c.turn = paged.first_turn
        JOIN {schema.T_PROMPTS} p ON p.prompt_hash = c.prompt_hash
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
        search_sql = f"AND f.prompt_hash IN (SELECT prompt_hash FROM {schema.T_PROMPTS} WHERE text ILIKE ? ESCAPE '\\')"
        params = params + [_like_pattern(text.strip())]
    rows = con.execute(
        f"SELECT count(DISTINCT conversation_id) FROM {schema.V_FACTS} f WHERE {where} {search_sql}", params
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
        FROM {schema.T_CONVERSATIONS} c LEFT JOIN {schema.T_ANNOTATORS} a USING (annotator_id)
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
        FROM {schema.T_COMPARISONS} x
        JOIN {schema.T_PROMPTS} p ON p.prompt_hash = x.prompt_hash
        LEFT JOIN {schema.T_CANDIDATES} ca ON ca.text_hash = x.a_hash
        LEFT JOIN {schema.T_CANDIDATES} cb ON cb.text_hash = x.b_hash
        LEFT JOIN {schema.T_CANDIDATES} cc ON cc.text_hash = x.c_hash
        LEFT JOIN {schema.T_CANDIDATES} cd ON cd.text_hash = x.d_hash
        WHERE x.conversation_id = ?
        ORDER BY x.turn
        """,
        [conversation_id],
    ).with_columns(*(clean_text_expr(c) for c in ("prompt", "a", "b", "c", "d")), pl.col("feedback").str.strip_chars())
    return {"info": info.row(0, named=True), "turns": turns}
