"""URL state: every view's state lives in st.query_params, so a view can be shared by link and reloaded as it was.

One idiom for every page. A widget that carries view state is created through ``url_widget``:

    k = state.url_widget(st.slider, "Candidates per prompt", key="sl_k", default=4, read=state.read_int,
                         min_value=2, max_value=12)

On a session's first run the widget takes its value from the URL (``read`` parses and validates it; a bad value
gives the default), the widget owns the value from then on, and every run mirrors it back into the URL (the default
removes the key, so links stay short). The URL holds the value itself, never the widget's label, so a link survives
a change of wording. State that is not a widget's value (the open conversation, a table of edited positions) uses
the same pair by hand: ``read_*`` on the first run, ``write`` on every run.

Each page's keys start with its prefix (ui.registry); ``own_page`` drops the other pages' keys from the URL, so a
shared link carries only the state of the page it shows, plus the global filters (analysis.filters.Filters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import streamlit as st

from analysis.filters import Filters
from ui.registry import PREFIXES


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


def read_float(key: str, default: float, lo: float | None = None, hi: float | None = None) -> float:
    """A number from the URL, clamped to [lo, hi]; the default when absent, malformed or not finite."""
    value = _raw(key)
    try:
        number = float(str(value).strip()) if value is not None else default
    except ValueError:
        number = default
    if number != number or number in (float("inf"), float("-inf")):
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


def read_list(key: str, default: Sequence[str] = (), choices: Iterable[str] | None = None) -> list[str]:
    """Several values from the URL (a repeated key, ``?k=a&k=b``); unknown values dropped, duplicates once."""
    values = st.query_params.get_all(key)
    if not values:
        return list(default)
    allowed = None if choices is None else set(choices)
    return [v for v in dict.fromkeys(values) if allowed is None or v in allowed]


def url_text(value: Any) -> str:
    """A value as the URL writes it (booleans as 1/0, floats in their shortest form)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


def write(key: str, value: Any, default: Any = None) -> None:
    """Mirror a value into the URL; the default (or an empty value) removes the key to keep links short. A list is
    written as a repeated key."""
    if value is None or value == default or value == "" or value == [] or value == ():
        if key in st.query_params:
            del st.query_params[key]
        return
    if isinstance(value, (list, tuple)):
        texts = [url_text(v) for v in value]
        if st.query_params.get_all(key) != texts:
            st.query_params[key] = texts
        return
    text = url_text(value)
    if _raw(key) != text or len(st.query_params.get_all(key)) != 1:
        st.query_params[key] = text


def init(key: str, value: Any) -> None:
    """Give a widget its first value (from the URL) once per session, before the widget is created."""
    if key not in st.session_state:
        st.session_state[key] = value


def url_widget(
    widget: Callable[..., Any],
    label: str,
    *,
    key: str,
    default: Any,
    read: Callable[..., Any] = read_str,
    read_args: dict | None = None,
    **widget_args: Any,
) -> Any:
    """Create ``widget`` (st.slider, a column's selectbox, ...) bound to the URL key ``key``: its first value comes from
    the URL through ``read(key, default, **read_args)``, and its value is mirrored back on every run."""
    init(key, read(key, default, **(read_args or {})))
    value = widget(label, key=key, **widget_args)
    write(key, list(value) if isinstance(value, tuple) else value, default)
    return value


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


def own_page(prefix: str) -> None:
    """Call at the top of a page: drop the other pages' state from the URL."""
    for key in list(st.query_params.keys()):
        if any(key.startswith(p) for p in PREFIXES if p != prefix):
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


def page_start(prefix: str) -> None:
    """The first call of every page: open through app.py (ensure_app_shell) and keep only this page's state."""
    ensure_app_shell()
    own_page(prefix)
