"""SQL console: read-only queries over the explorer database, capped and timed, downloadable."""

from __future__ import annotations

import streamlit as st

from analysis import sql_console as C
from ui import db, state, widgets

state.ensure_app_shell()
state.own_page("sql_")

st.title("SQL console")
st.caption(
    "Read-only DuckDB SQL over this database (tables: `comparison_facts`, `comparisons`, `conversations`, "
    "`annotators`, `prompts`, `candidates`, `rejected`, `meta`, …). One statement at a time; writes, ATTACH, COPY, "
    "INSTALL/LOAD, settings and functions that read files or URLs are refused. The sidebar filters do not apply here."
)

ROW_LIMITS = [100, 1_000, 10_000, 50_000]
TIMEOUTS = [5, 10, 30, 60]

state.init("sql_q", state.read_str("sql_q", C.EXAMPLES["Comparisons by country and language"]))
state.init("sql_limit", state.read_int("sql_limit", C.DEFAULT_ROW_LIMIT) if state.read_int(
    "sql_limit", C.DEFAULT_ROW_LIMIT) in ROW_LIMITS else C.DEFAULT_ROW_LIMIT)  # fmt: skip
state.init("sql_timeout", state.read_int("sql_timeout", int(C.DEFAULT_TIMEOUT_S)) if state.read_int(
    "sql_timeout", int(C.DEFAULT_TIMEOUT_S)) in TIMEOUTS else int(C.DEFAULT_TIMEOUT_S))  # fmt: skip


def _use_example() -> None:
    name = st.session_state.get("sql_example")
    if name:
        st.session_state["sql_q"] = C.EXAMPLES[name]
        st.session_state["sql_run"] = True


def _run() -> None:
    st.session_state["sql_run"] = True


st.selectbox("Examples", list(C.EXAMPLES), index=None, key="sql_example", on_change=_use_example,
             placeholder="Pick an example query…")  # fmt: skip
sql = st.text_area("Query", key="sql_q", height=180)
cols = st.columns([1, 1, 1.4, 2.6], vertical_alignment="bottom")
limit = cols[0].selectbox("Row limit", ROW_LIMITS, key="sql_limit", format_func=lambda n: f"{n:,} rows")
timeout = cols[1].selectbox("Time limit", TIMEOUTS, key="sql_timeout", format_func=lambda s: f"{s} s")
cols[2].button("Run query", type="primary", on_click=_run, key="sql_run_btn", shortcut="ctrl+enter")
state.write("sql_q", sql.strip(), default="")
state.write("sql_limit", limit, default=C.DEFAULT_ROW_LIMIT)
state.write("sql_timeout", timeout, default=int(C.DEFAULT_TIMEOUT_S))

# Run on an explicit click, and once when the page opens from a link that carries a query.
if "sql_ran_once" not in st.session_state:
    st.session_state["sql_ran_once"] = True
    st.session_state["sql_run"] = True

if st.session_state.pop("sql_run", False):
    st.session_state["sql_result"] = C.run_query(db.console(), sql, row_limit=limit, timeout_s=float(timeout))

result: C.ConsoleResult | None = st.session_state.get("sql_result")
if result is not None:
    if result.status == "refused":
        st.error(result.message, icon=":material/block:")
    elif result.status == "timeout":
        st.warning(result.message, icon=":material/timer_off:")
    elif result.status == "error":
        st.error(result.message)
    else:
        st.caption(f"{result.frame.height:,} rows × {result.frame.width} columns in {result.elapsed_s:.2f} s")
        if result.truncated:
            st.warning(result.message, icon=":material/content_cut:")
        widgets.table(result.frame, "query_result", key="sql_result_table")
