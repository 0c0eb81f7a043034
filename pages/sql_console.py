"""SQL console: read-only queries over the explorer database, each in a worker process with hard limits."""

from __future__ import annotations

import streamlit as st

from analysis.explore import sql_console
from ui import db, safe_text, state, widgets

ROW_LIMITS = [100, 1_000, 10_000, 50_000]
TIMEOUTS = [5, 10, 30, 60]
LIMITS = sql_console.Limits()
INTRO = (
    "Read-only DuckDB SQL over this database (tables: `comparison_facts`, `comparisons`, `conversations`, "
    "`annotators`, `prompts`, `candidates`, `rejected`, `meta`, …). One statement at a time; writes, ATTACH, COPY, "
    "INSTALL/LOAD, settings and functions that read files or URLs are refused. The sidebar filters do not apply here."
)
LIMITS_NOTE = (
    f"Each query runs in a process of its own with at most {LIMITS.memory_mb:,} MB of memory, "
    f"{LIMITS.threads} threads and its time limit; it is stopped when it goes past any of them. "
    "A query opened from a link fills the editor and runs only when you click Run query, so a link costs the "
    "server nothing."
)
STOPPED_ICONS = {"timeout": ":material/timer_off:", "memory": ":material/memory:", "cpu": ":material/speed:",
                 "too_large": ":material/content_cut:", "busy": ":material/hourglass_top:"}  # fmt: skip


def _choice(key: str, default: int, choices: list[int]) -> int:
    value = state.read_int(key, default)
    return value if value in choices else default


def _use_example() -> None:
    name = st.session_state.get("sql_example")
    if name:
        st.session_state["sql_q"] = sql_console.EXAMPLES[name]
        st.session_state["sql_run"] = True


def _run() -> None:
    st.session_state["sql_run"] = True


def editor() -> tuple[str, int, int]:
    """The example picker, the query and its limits (all but the example in the URL)."""
    st.selectbox("Examples", list(sql_console.EXAMPLES), index=None, key="sql_example", on_change=_use_example,
                 placeholder="Pick an example query…")  # fmt: skip
    default_q = sql_console.EXAMPLES["Comparisons by country and language"]
    sql = state.url_widget(st.text_area, "Query", key="sql_q", default=default_q, height=180)
    state.write("sql_q", sql.strip(), default="")
    cols = st.columns([1, 1, 1.4, 2.6], vertical_alignment="bottom")
    limit = state.url_widget(
        cols[0].selectbox, "Row limit", key="sql_limit", default=sql_console.DEFAULT_ROW_LIMIT, read=_choice,
        read_args={"choices": ROW_LIMITS}, options=ROW_LIMITS, format_func=lambda n: f"{n:,} rows",
    )  # fmt: skip
    timeout = state.url_widget(
        cols[1].selectbox, "Time limit", key="sql_timeout", default=int(sql_console.DEFAULT_TIMEOUT_S), read=_choice,
        read_args={"choices": TIMEOUTS}, options=TIMEOUTS, format_func=lambda s: f"{s} s",
    )  # fmt: skip
    cols[2].button("Run query", type="primary", on_click=_run, key="sql_run_btn", shortcut="ctrl+enter")
    st.caption(LIMITS_NOTE)
    return sql, limit, timeout


def result_view(result: sql_console.ConsoleResult) -> None:
    """What happened, in one line (messages quote the query and DuckDB: shown as plain text), then the table."""
    message = safe_text.plain(result.message)
    if result.status == "refused":
        st.error(message, icon=":material/block:")
    elif result.stopped:
        st.warning(message, icon=STOPPED_ICONS.get(result.status, ":material/block:"))
    elif result.status == "error":
        st.error(message, icon=":material/error:")
    else:
        st.caption(f"{result.frame.height:,} rows × {result.frame.width} columns in {result.elapsed_s:.2f} s")
        if result.truncated:
            st.warning(message, icon=":material/content_cut:")
        if result.text_columns:
            names = ", ".join(safe_text.literal(c) for c in result.text_columns)
            st.caption(f"Shown as text (a type the table and the downloads cannot hold as it is): {names}")
        widgets.table(result.frame, "query_result", key="sql_result_table", formats=("csv", "parquet", "json"))


def main() -> None:
    state.page_start("sql_")
    st.title("SQL console")
    st.caption(INTRO)
    sql, limit, timeout = editor()
    # Only an explicit click (or picking an example) runs a query: opening a link never does.
    if st.session_state.pop("sql_run", False):
        with st.spinner("Running the query in a worker process…"):
            result = sql_console.run_query(db.db_path(), sql, row_limit=limit, timeout_s=timeout, limits=LIMITS)
        st.session_state["sql_result"] = result
    result = st.session_state.get("sql_result")
    if result is not None:
        result_view(result)


main()
