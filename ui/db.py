"""The database for the app: one read-only DuckDB connection per process, used through a cursor per thread.

- ``db_path()``: the database the app shows (``analysis.store.resolve_db_path``: $CAE_DB, else the demo).
- ``open_database()``: called by app.py on every run; builds the demo on first run (under st.status) and stops the page
  with a message saying what to run when the file is missing or not an explorer database.
- ``get_connection()``: a cursor on the shared read-only connection, one per thread (Streamlit runs each session's
  script in its own thread; DuckDB connections are not shared across threads, cursors are cheap). When the file was
  replaced (an ingest swaps a new one in: another inode, size or modification time), every connection to the old
  file is closed and the caches cleared first: DuckDB hands a new connect() to a path the instance it already has
  open, which would keep showing the replaced file.
- ``cached(fn, *args)``: run a function of the connection (``fn(con, *args)``, from analysis/) through st.cache_data,
  keyed by the database file's identity and the arguments (filters included), so a page rerun with the same
  parameters costs nothing. ``computed(fn, *args)`` does the same for a pure function (no database). These are the
  pages' only caching idiom.
- ``close_connection()``: close everything holding the file, so a short-lived writer (e.g. embedding on demand) can
  open it; the next call reopens. (The SQL console opens nothing here: each query runs in a worker process.)
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from analysis import store
from analysis.pipeline.demo import ensure_demo
from ui import safe_text

_local = threading.local()
_opened: list[duckdb.DuckDBPyConnection] = []  # every connection the caches handed out, to close them on demand
_generation = [0]  # bumped by close_connection so per-thread cursors on a closed connection are not reused
_open_key: list[str | None] = [None]  # the identity of the file the shared connection has open
_reopen_lock = threading.Lock()


def db_path() -> Path:
    return store.resolve_db_path()


def db_key(path: Path | None = None) -> str:
    """The database file's identity: path, device and inode, size and modification time (a file swapped in by an
    ingest, or rebuilt in place, is a new key)."""
    path = Path(path or db_path())
    try:
        stat = path.stat()
        return f"{path.resolve()}:{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        return f"{path}:missing"


@st.cache_resource(show_spinner=False, max_entries=4)
def _shared_connection(key: str, path: str) -> duckdb.DuckDBPyConnection:
    del key  # part of the cache key only
    con = store.connect(path, read_only=True)
    _opened.append(con)
    return con


def _reopen_if_replaced(key: str) -> None:
    """Close every connection to a file that is no longer the one at the path (and clear the caches), once."""
    with _reopen_lock:
        if _open_key[0] not in (None, key):
            close_connection()
        _open_key[0] = key


def get_connection() -> duckdb.DuckDBPyConnection:
    """A cursor on the process-wide read-only connection, one per thread (reused while the database is the same)."""
    path = db_path()
    key = db_key(path)
    cached_key, generation, cursor = getattr(_local, "cursor", (None, None, None))
    if cursor is not None and cached_key == key and generation == _generation[0]:
        return cursor
    _reopen_if_replaced(key)
    cursor = _shared_connection(key, str(path)).cursor()
    _local.cursor = (key, _generation[0], cursor)
    return cursor


def close_connection() -> None:
    """Close the shared connection and clear the caches (a writer can then open the file; the next call reopens)."""
    _generation[0] += 1
    _local.cursor = (None, None, None)
    _shared_connection.clear()
    while _opened:
        try:
            _opened.pop().close()
        except Exception:  # noqa: BLE001 - already closed
            pass
    _cached_call.clear()
    _db_info.clear()


def _key_of(value: Any) -> str:
    """A deterministic cache key for an argument: frames by a hash of their rows (their repr is truncated), the rest
    by repr (filters and parameters are frozen dataclasses, tuples and plain values)."""
    if isinstance(value, pl.DataFrame):
        return f"frame{value.shape}:{int(value.hash_rows().sum()) if value.height else 0}:{value.columns}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_key_of(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_key_of(v)}" for k, v in sorted(value.items())) + "}"
    return repr(value)


def _call_key(args: tuple, kwargs: dict) -> str:
    return _key_of(list(args)) + _key_of(kwargs)


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _cached_call(fn_module: str, fn_name: str, key: str, args_key: str, _args: tuple, _kwargs: dict) -> Any:
    del key, args_key  # cache key only
    fn = getattr(importlib.import_module(fn_module), fn_name)
    return fn(get_connection(), *_args, **_kwargs)


def cached(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(connection, *args, **kwargs)`` through st.cache_data, keyed by database identity and arguments."""
    return _cached_call(fn.__module__, fn.__name__, db_key(), _call_key(args, kwargs), args, kwargs)


@st.cache_data(show_spinner=False, max_entries=256, ttl=3600)
def _computed_call(fn_module: str, fn_name: str, args_key: str, _args: tuple, _kwargs: dict) -> Any:
    del args_key  # cache key only
    return getattr(importlib.import_module(fn_module), fn_name)(*_args, **_kwargs)


def computed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` (a pure function of its arguments, no database) through st.cache_data."""
    return _computed_call(fn.__module__, fn.__name__, _call_key(args, kwargs), args, kwargs)


def open_database() -> dict[str, Any]:
    """Make sure the database is there and readable; return analysis.store.db_info. Stops the page otherwise."""
    path = db_path()
    if not path.exists() and path.resolve() == store.DEMO_DB.resolve():
        with st.status("First run: building the synthetic demo database…", expanded=True) as status:
            st.write(
                f"Writing {path} (a few seconds). The real data can be loaded later with `python -m analysis ingest`."
            )
            try:
                ensure_demo(path)
            except Exception as exc:  # noqa: BLE001 - say what failed and what to run
                status.update(label="Could not build the demo database", state="error")
                st.error(
                    f"Building the demo failed: {safe_text.plain(exc)}. Run "
                    f"{safe_text.literal(f'python -m analysis demo --db {path}')} in a terminal to see the full error."
                )
                st.stop()
            status.update(label="Demo database ready", state="complete", expanded=False)
    try:
        return _db_info(db_key(path))
    except store.DatabaseError as exc:
        _database_problem(path, str(exc))
    except duckdb.Error as exc:
        _database_problem(
            path,
            f"{path} could not be read ({str(exc).splitlines()[0]}). Rebuild it with "
            f"`python -m analysis demo --db {path}` or `python -m analysis ingest FILE --db {path}`.",
        )
    raise AssertionError("unreachable")  # st.stop() raises


@st.cache_data(show_spinner=False, max_entries=8)
def _db_info(key: str) -> dict[str, Any]:
    del key
    return store.db_info(get_connection())


def _database_problem(path: Path, message: str) -> None:
    st.error(f"**The database cannot be opened.** {safe_text.plain(message)}")
    demo = safe_text.literal(f"python -m analysis demo --db {path}")
    real = safe_text.literal(f"python -m analysis ingest path/to/community_alignment.csv --db {path}")
    st.markdown(
        "How to fix it:\n"
        f"- the synthetic demo: {demo}\n"
        f"- the real release: {real}\n"
        "- another database: start the app with `CAE_DB=path/to/file.duckdb streamlit run app.py`"
    )
    st.stop()
