"""The sidebar on every page: which database is loaded (demo = SYNTHETIC, or real, with counts) and the global filters.

The filters live in the URL (Filters.to_query_params), so a view can be shared; the widgets sit in app.py's sidebar,
so they keep their values when the user moves between pages. Pages read them with ``current_filters()``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from analysis import schema
from analysis.explore import overview
from analysis.filters import BALANCED_CHOICES, Filters
from ui import db, safe_text, state

FILTERS_KEY = "cae_filters"
BALANCED_LABELS = {
    "all": "All conversations",
    "balanced": "Balanced subset",
    "balanced_10": "Balanced subset (10)",
}
_WIDGETS: dict[str, tuple[str, str]] = {  # Filters field -> (widget key, label)
    "countries": ("f_country", "Country"),
    "languages": ("f_lang", "Language"),
    "ages": ("f_age", "Age"),
    "genders": ("f_gender", "Gender"),
    "educations": ("f_edu", "Education"),
    "politicals": ("f_pol", "Political leaning"),
}


def _fmt_count(n: int) -> str:
    return f"{n:,}"


def database_badge(info: dict[str, Any]) -> None:
    counts = info.get("counts", {})
    if info.get("synthetic"):
        st.warning(
            "**SYNTHETIC demo data** — generated for trying the explorer; no finding here is about real people. "
            "Load the real release with `python -m analysis ingest`.",
            icon=":material/science:",
        )
    else:
        kind, source = safe_text.plain(info.get("source_kind", "")), safe_text.literal(info.get("source", ""))
        st.success(f"**Real data** ({kind}): {source}", icon=":material/library_books:")
    st.caption(
        f"{_fmt_count(counts.get(schema.T_CONVERSATIONS, 0))} conversations · "
        f"{_fmt_count(counts.get(schema.T_COMPARISONS, 0))} comparisons · "
        f"{_fmt_count(counts.get(schema.T_ANNOTATORS, 0))} annotators · "
        f"{_fmt_count(counts.get(schema.T_PROMPTS, 0))} prompts"
        + (
            f" · {_fmt_count(counts.get(schema.T_REJECTED, 0))} rejected rows/turns"
            if counts.get(schema.T_REJECTED)
            else ""
        )
    )
    st.caption(f"Database: {safe_text.literal(db.db_path())}")


def _init_from_url(options: dict[str, list[str]]) -> list[str]:
    """Give the filter widgets their URL values on a session's first run; return what was dropped as unknown."""
    if "f_initialised" in st.session_state:
        return []
    url = state.url_filters()
    dropped = []
    for field, (key, _) in _WIDGETS.items():
        wanted = list(getattr(url, field))
        known = [v for v in wanted if v in options.get(field, [])]
        dropped += [f"{key.removeprefix('f_')} {safe_text.literal(v)}" for v in wanted if v not in known]
        st.session_state[key] = known
    st.session_state["f_pregen"] = url.pregenerated_only
    st.session_state["f_balanced"] = url.balanced
    st.session_state["f_turn"] = [str(t) for t in url.turns]
    st.session_state["f_initialised"] = True
    return dropped


def _clear() -> None:
    for key, _ in _WIDGETS.values():
        st.session_state[key] = []
    st.session_state["f_pregen"] = False
    st.session_state["f_balanced"] = "all"
    st.session_state["f_turn"] = []


def filters_panel(options: dict[str, list[str]]) -> Filters:
    dropped = _init_from_url(options)
    st.subheader("Filters")
    if dropped:
        st.info("Ignored filter values from the link that this database does not have: " + ", ".join(dropped))
    values: dict[str, Any] = {}
    for field, (key, label) in _WIDGETS.items():
        fmt = (lambda v: f"{schema.LANGUAGE_NAMES.get(v, v)} ({v})") if field == "languages" else str
        values[field] = tuple(
            st.multiselect(label, options.get(field, []), key=key, format_func=fmt, placeholder="All")
        )
    values["pregenerated_only"] = st.toggle(
        "Pregenerated first prompt only", key="f_pregen",
        help="Only conversations that opened with a prompt written for the study (answered by many annotators).",
    )  # fmt: skip
    values["balanced"] = st.selectbox(
        "Subset", list(BALANCED_CHOICES), key="f_balanced", format_func=lambda v: BALANCED_LABELS[v],
        help="The release's balanced subsets (demographically balanced samples of annotators).",
    )  # fmt: skip
    turns = st.pills("Turn", ["1", "2", "3", "4"], selection_mode="multi", key="f_turn")
    values["turns"] = tuple(sorted(int(t) for t in turns))
    filters = Filters(**values)
    st.button("Clear filters", on_click=_clear, disabled=filters.is_empty(), key="f_clear")
    state.write_filters(filters)
    st.session_state[FILTERS_KEY] = filters
    return filters


def render() -> Filters:
    """The whole sidebar (database badge, then filters); returns the current filters."""
    info = db.open_database()
    options = db.cached(overview.filter_options)
    with st.sidebar:
        database_badge(info)
        return filters_panel(options)


def current_filters() -> Filters:
    """The filters the sidebar set on this run (from the URL when the sidebar has not run, e.g. a bare page test)."""
    filters = st.session_state.get(FILTERS_KEY)
    if isinstance(filters, Filters):
        return filters
    return state.url_filters()
