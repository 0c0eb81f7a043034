"""The database: where it lives, how to open it, and the one place that talks to its catalogue.

Every other module reaches the tables through these helpers: ``connect`` / ``open_db`` to open a file,
``table_exists`` for the catalogue, ``scalar`` and ``query_pl`` to read, ``text_sources_sql`` for the texts the
pipeline embeds, and ``load_vectors`` / ``vectors_matching`` for stored embeddings.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from analysis import schema

ENV_DB = "CAE_DB"


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


DEMO_DB = repo_root() / "data" / "demo.duckdb"


class DatabaseError(RuntimeError):
    """The database is missing or is not an explorer database; the message says what to run."""


class DatabaseLocked(DatabaseError, duckdb.IOException):
    """Another process holds the file (DuckDB lets one process write only while no other has it open); the message
    names it and says what to do. Also a duckdb.IOException, so code that catches DuckDB's errors still does."""


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def _command_line(pid: int) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    words = [Path(a.decode("utf-8", "replace")).name if i == 0 else a.decode("utf-8", "replace")
             for i, a in enumerate(args) if a]  # fmt: skip
    return " ".join(" ".join(words).split())  # one line


def lock_message(path: str | Path, error: BaseException) -> str | None:
    """What to tell a user whose write to ``path`` failed because another process holds it (None: another error)."""
    m = _LOCK_HOLDER.search(str(error))
    if not m:
        return None
    pid = int(m.group("pid"))
    command = _command_line(pid) or Path(m.group("program")).name
    app = "streamlit" in command
    command = command if len(command) <= 80 else command[:79] + "…"
    holder = f"the explorer app ({command}, PID {pid})" if app else f"another process ({command}, PID {pid})"
    then = (
        "stop the app (Ctrl-C in its terminal), run this command again, then start the app again; or do it from the "
        "app itself (the Values map page's upload and its \"Run these steps now\" button close the app's own "
        "connection first)"
        if app
        else "wait for it to finish or stop it, then run this command again"
    )
    return (
        f"{path} is open in {holder}. DuckDB lets a process write to a database only while no other process has it "
        f"open: {then}."
    )


def resolve_db_path(path: str | Path | None = None) -> Path:
    """The database to use: the argument, else $CAE_DB, else the demo database."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    return DEMO_DB


def connect(path: str | Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to the database file; DatabaseLocked when another process holds it, DatabaseError when it is
    missing (read-only) or not a DuckDB file."""
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseError(
            f"No database at {path}. Build the demo with `python -m analysis demo --db {path}` "
            f"or load the real data with `python -m analysis ingest FILE.csv --db {path}`."
        )
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:  # corrupt file, not a DuckDB file, locked by a writer
        locked = lock_message(path, exc)
        if locked:
            raise DatabaseLocked(locked) from None
        raise DatabaseError(
            f"Could not open {path} as a DuckDB database ({exc}). Rebuild it with "
            f"`python -m analysis demo --db {path}` or `python -m analysis ingest FILE --db {path}`."
        ) from exc
    con.execute("SET enable_progress_bar = false")  # DuckDB draws it on stdout for long queries: inside --json output
    return con


def open_db(db: str | Path | duckdb.DuckDBPyConnection) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """A writable connection for a path (owned: the caller closes it), or the given connection as it is (for a
    process that already holds the database open, e.g. the app). A file another process holds raises
    DatabaseLocked, which says what holds it and what to do."""
    if isinstance(db, duckdb.DuckDBPyConnection):
        return db, False
    try:
        return duckdb.connect(str(db)), True
    except duckdb.Error as exc:
        locked = lock_message(db, exc)
        if locked:
            raise DatabaseLocked(locked) from None
        raise


def sql_literal(value: str) -> str:
    """A SQL string literal for ``value`` (single quotes doubled), for the few places a parameter cannot go."""
    return "'" + str(value).replace("'", "''") + "'"


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The single value of a query. Uses fetchall(): in duckdb 2.0 a fetchone() leaves the result open and the
    connection refuses other work until it is finished."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]))


def query_pl(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run a query and return a Polars frame (through Arrow, no row loop).

    duckdb 2.0's execute() result has no .pl(); a relation from con.sql() takes parameters and has one.
    """
    return con.sql(sql, params=params or None).pl()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT, or ROLLBACK when the block raises anything (Ctrl-C included)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not table_exists(con, schema.T_META):
        return {}
    return dict(con.execute(f"SELECT key, value FROM {schema.T_META}").fetchall())


def db_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What the database holds: synthetic or real, its source, and row counts per table."""
    meta = read_meta(con)
    if not meta:
        raise DatabaseError(
            "This file has no explorer tables. Build it with `python -m analysis demo --db PATH` "
            "or `python -m analysis ingest FILE --db PATH`."
        )
    counts = {}
    for table in (
        schema.T_ANNOTATORS,
        schema.T_CONVERSATIONS,
        schema.T_COMPARISONS,
        schema.T_CANDIDATES,
        schema.T_PROMPTS,
        schema.T_REJECTED,
    ):
        counts[table] = scalar(con, f"SELECT count(*) FROM {table}")
    summary = json.loads(meta["summary"]) if meta.get("summary") else {}
    return {
        "synthetic": meta.get("synthetic") == "true",
        "source": meta.get("source", ""),
        "source_kind": meta.get("source_kind", ""),
        "ingested_at": meta.get("ingested_at", ""),
        "counts": counts,
        "summary": summary,
    }


# ---- texts and their vectors ------------------------------------------------------------------------------------
def _text_tables(con: duckdb.DuckDBPyConnection, llm: bool, column: str) -> list[str]:
    """One SELECT of (text_hash[, text]) per table of texts the pipeline embeds; ``column`` is ", text" or ""."""
    parts = []
    if table_exists(con, schema.T_CANDIDATES):
        parts.append(f"SELECT text_hash{column} FROM {schema.T_CANDIDATES}")
    if table_exists(con, schema.T_PROMPTS):
        parts.append(f"SELECT prompt_hash AS text_hash{column} FROM {schema.T_PROMPTS}")
    if llm and table_exists(con, schema.T_LLM_RESPONSES):
        parts.append(f"SELECT text_hash{column} FROM {schema.T_LLM_RESPONSES}")
    if not parts:
        raise ValueError(
            "The database holds no texts (no candidates or prompts table). Build it first with "
            "`python -m analysis demo --db PATH` or `python -m analysis ingest FILE --db PATH`."
        )
    return parts


def text_tables_sql(con: duckdb.DuckDBPyConnection, column: str = ", text", llm: bool = True) -> list[str]:
    """One SELECT of (text_hash[, text]) per table of texts the pipeline embeds (``column``: ", text" or "")."""
    return _text_tables(con, llm, column)


def text_sources_sql(con: duckdb.DuckDBPyConnection, llm: bool = True) -> str:
    """SQL for (text_hash, text) of every text the pipeline embeds: candidates, prompts and, when present (and
    ``llm``), the LLM responses."""
    union = " UNION ALL ".join(_text_tables(con, llm, ", text"))
    return f"SELECT text_hash, any_value(text) AS text FROM ({union}) WHERE text_hash IS NOT NULL GROUP BY text_hash"


def texts_for(con: duckdb.DuckDBPyConnection, hashes: Sequence[str]) -> list[str]:
    """The texts of ``hashes``, in their order ('' for a hash no table holds), each table filtered to the hashes
    before anything is grouped (the texts are most of the file)."""
    con.register(
        "_cae_text_chunk", pl.DataFrame({"text_hash": [str(h) for h in hashes]}, schema={"text_hash": pl.String})
    )
    try:
        parts = " UNION ALL ".join(
            f"SELECT * FROM ({part}) t SEMI JOIN _cae_text_chunk c ON c.text_hash = t.text_hash"
            for part in text_tables_sql(con, ", text")
        )
        found = query_pl(con, f"SELECT text_hash, any_value(text) AS text FROM ({parts}) GROUP BY text_hash")
    finally:
        con.unregister("_cae_text_chunk")
    by_hash = dict(zip(found["text_hash"].to_list(), found["text"].to_list(), strict=True))
    return [by_hash.get(h) or "" for h in hashes]


def text_hashes_sql(con: duckdb.DuckDBPyConnection, llm: bool = True) -> str:
    """SQL for the distinct ``text_hash`` of the same texts as :func:`text_sources_sql`, without reading the texts."""
    union = " UNION ALL ".join(_text_tables(con, llm, ""))
    return f"SELECT DISTINCT text_hash FROM ({union}) WHERE text_hash IS NOT NULL"


def _as_matrix(vectors: pl.Series) -> np.ndarray:
    if not len(vectors):
        return np.zeros((0, 0), dtype=np.float32)
    dim = len(vectors[0])
    return vectors.list.to_array(dim).to_numpy().astype(np.float32, copy=False)


def vector_dim(con: duckdb.DuckDBPyConnection, key: str) -> int:
    """The dimension of a model's stored vectors (0 when it has none)."""
    if not table_exists(con, schema.T_EMBEDDINGS):
        return 0
    rows = con.execute(f"SELECT len(vector) FROM {schema.T_EMBEDDINGS} WHERE model = ? LIMIT 1", [key]).fetchall()
    return int(rows[0][0]) if rows else 0


def load_vectors(
    con: duckdb.DuckDBPyConnection, key: str, text_hashes: Sequence[str], missing: str = "raise"
) -> np.ndarray:
    """Stored vectors of model ``key`` for ``text_hashes`` in their order, (n, d) float32, in one set-based query.
    A hash without a vector raises LookupError (``missing='raise'``) or gives a row of NaN (``missing='nan'``)."""
    hashes = [str(h) for h in text_hashes]
    if not table_exists(con, schema.T_EMBEDDINGS):
        if not hashes:
            return np.zeros((0, 0), dtype=np.float32)
        raise LookupError(f"No embeddings in this database yet: run `python -m analysis embed --model {key}` first.")
    wanted = pl.DataFrame({"i": np.arange(len(hashes), dtype=np.int64), "text_hash": hashes})
    con.register("_cae_wanted", wanted)
    try:
        found = query_pl(
            con,
            f"SELECT w.i, e.vector FROM _cae_wanted w JOIN {schema.T_EMBEDDINGS} e "
            "ON e.text_hash = w.text_hash AND e.model = ? ORDER BY w.i",
            [key],
        )
    finally:
        con.unregister("_cae_wanted")
    dim = len(found["vector"][0]) if found.height else vector_dim(con, key)
    out = np.full((len(hashes), dim), np.nan, dtype=np.float32)
    if found.height:
        out[found["i"].to_numpy()] = _as_matrix(found["vector"])
    n_missing = len(hashes) - found.height
    if n_missing and missing == "raise":
        raise LookupError(
            f"{n_missing} of {len(hashes)} texts have no stored embedding for model {key}: "
            f"run `python -m analysis embed --db PATH --model {key}` first."
        )
    return out


def stream_vectors(
    con: duckdb.DuckDBPyConnection,
    key: str,
    index_sql: str,
    n: int,
    batch_rows: int = 65_536,
    memory_limit: str | None = "1GB",
) -> np.ndarray:
    """Stored vectors of model ``key`` for the texts numbered by the query ``index_sql`` (columns ``i`` in 0..n-1 and
    ``text_hash``) as one (n, d) float32 array, row i for text i; NaN rows for texts without a vector.

    For many texts (the release has about 930,000 candidates): the vectors arrive in Arrow batches straight into the
    array, and DuckDB runs the query under ``memory_limit`` (restored afterwards), so the peak stays near the array
    itself instead of several copies of it (``load_vectors`` builds a frame of lists first)."""
    dim = vector_dim(con, key)
    out = np.full((n, dim), np.nan, dtype=np.float32)
    if not n or not dim:
        return out
    previous = scalar(con, "SELECT current_setting('memory_limit')") if memory_limit else None
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    try:
        sql = (
            f"SELECT w.i, e.vector FROM {schema.T_EMBEDDINGS} e JOIN ({index_sql}) w ON e.text_hash = w.text_hash "
            "WHERE e.model = $key"
        )
        for batch in con.sql(sql, params={"key": key}).to_arrow_reader(batch_rows):
            rows = batch.column(0).to_numpy()
            out[rows] = batch.column(1).flatten().to_numpy().reshape(len(rows), dim)
    finally:
        if previous:
            con.execute(f"SET memory_limit = '{previous}'")
    return out


def vectors_matching(
    con: duckdb.DuckDBPyConnection, key: str, hashes_sql: str, exclude_projection: int | None = None
) -> tuple[list[str], np.ndarray]:
    """Stored vectors of model ``key`` for the texts whose ``text_hash`` the query ``hashes_sql`` selects, ordered
    by hash; minus the texts already placed in projection ``exclude_projection`` when given."""
    extra = ""
    params: list[Any] = [key]
    if exclude_projection is not None:
        extra = f" AND e.text_hash NOT IN (SELECT text_hash FROM {schema.T_PROJECTION_POINTS} WHERE projection_id = ?)"
        params.append(exclude_projection)
    df = query_pl(
        con,
        f"SELECT e.text_hash, e.vector FROM {schema.T_EMBEDDINGS} e SEMI JOIN ({hashes_sql}) s "
        f"ON s.text_hash = e.text_hash WHERE e.model = ?{extra} ORDER BY e.text_hash",
        params,
    )
    return df["text_hash"].to_list(), _as_matrix(df["vector"])


def embedded_hashes(con: duckdb.DuckDBPyConnection, key: str) -> list[str]:
    """Text hashes with a stored vector for model ``key``."""
    if not table_exists(con, schema.T_EMBEDDINGS):
        return []
    sql = f"SELECT text_hash FROM {schema.T_EMBEDDINGS} WHERE model = ?"
    return [r[0] for r in con.execute(sql, [key]).fetchall()]
