"""URL state: every view's state lives in st.query_params so a view can be shared by link and reloaded as it was.

The pattern for a widget bound to the URL:

    state.init("br_q", state.read_str("br_q", ""))      # first render in this session: take the value from the URL
    q = st.text_input("Search", key="br_q")             # the widget owns the value from then on
    state.write("br_q", q, default="")                  # and mirrors it back into the URL (default -> removed)

Filters use the contract's own encoding (analysis.filters.Filters.to_query_params / from_query_params).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from analysis.filters import Filters


def _raw(key: str) -> str | None:
    values = st.query_params.get_all(key)
    return values[-1] if values else None


def read_str(key: str, default: str = "", choices: Iterable[str] | None = None) -> str:
    """A string from the URL; the default when absent or not one of ``choices``."""
    value = _raw(key)
    if value is None:
        return default
    if choices is not None and value not in set(choices):
        return default
    return value


def read_int(key: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
    """An integer from the URL, clamped to [lo, hi]; the default when absent or malformed."""
    value = _raw(key)
    try:
        number = int(str(value).strip()) if value is not None else default
    except ValueError:
        number = default
    if lo is not None:
        number = max(lo, number)
    if hi is not None:
        number = min(hi, number)
    return number


def read_bool(key: str, default: bool = False) -> bool:
    value = _raw(key)
    if value is None:
        return default
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def write(key: str, value: Any, default: Any = None) -> None:
    """Mirror a value into the URL; the default (or an empty value) removes the key to keep links short."""
    if value is None or value == default or value == "" or value == [] or value == ():
        if key in st.query_params:
            del st.query_params[key]
        return
    if isinstance(value, bool):
        text = "1" if value else "0"
    else:
        text = str(value)
    if _raw(key) != text or len(st.query_params.get_all(key)) != 1:
        st.query_params[key] = text


def init(key: str, value: Any) -> None:
    """Give a widget its first value (from the URL) once per session, before the widget is created."""
    if key not in st.session_state:
        st.session_state[key] = value


def url_filters() -> Filters:
    """The global filters as written in the URL."""
    mapping: dict[str, str] = {}
    for key in Filters.url_keys():
        values = st.query_params.get_all(key)
        if values:  # a repeated key (?country=a&country=b) counts like the contract's a|b
            mapping[key] = "|".join(values) if len(values) > 1 else values[0]
    return Filters.from_query_params(mapping)


def write_filters(filters: Filters) -> None:
    """Mirror the global filters into the URL (only the keys that changed)."""
    wanted = filters.to_query_params()
    for key in Filters.url_keys():
        if key not in wanted and key in st.query_params:
            del st.query_params[key]
    for key, value in wanted.items():
        if _raw(key) != value or len(st.query_params.get_all(key)) != 1:
            st.query_params[key] = value


def share_params(filters: Filters, **page_state: Any) -> dict[str, str]:
    """Query parameters for a link to a view: the filters plus a page's own state (None/'' left out)."""
    out = dict(filters.to_query_params())
    for key, value in page_state.items():
        if value is None or value == "":
            continue
        out[key] = str(value)
    return out


# URL-key prefixes of the dashboard pages' own state. A page's keys are dropped from the URL when another page is
# shown, so a shared link carries only the state of the page it shows (and the filters, which every page shares).
PAGE_PREFIXES: tuple[str, ...] = ("ov_", "br_", "ag_", "sql_")


def own_page(prefix: str) -> None:
    """Call at the top of a page: drop the other dashboard pages' state from the URL."""
    for key in list(st.query_params.keys()):
        if any(key.startswith(p) for p in PAGE_PREFIXES if p != prefix):
            del st.query_params[key]


def ensure_app_shell() -> None:
    """Call first on every page. With a pages/ folder beside app.py, a fresh server answers its very first request
    with the legacy pages-folder router: a shared link such as /browse?country=India would run pages/browse.py alone,
    without app.py's navigation, sidebar and filters. Switch that router off (as st.navigation does once app.py has
    run) and rerun, so the link opens through app.py, as it was shared."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
