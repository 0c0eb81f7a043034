"""The database: where it lives, how to open it, what it holds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from analysis import schema

ENV_DB = "CAE_DB"


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


DEMO_DB = repo_root() / "data" / "demo.duckdb"


class DatabaseError(RuntimeError):
    """The database is missing or is not an explorer database; the message says what to run."""


def resolve_db_path(path: str | Path | None = None) -> Path:
    """The database to use: the argument, else $CAE_DB, else the demo database."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    return DEMO_DB


def connect(path: str | Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseError(
            f"No database at {path}. Build the demo with `python -m analysis demo --db {path}` "
            f"or load the real data with `python -m analysis ingest FILE.csv --db {path}`."
        )
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:  # corrupt file, not a DuckDB file, locked by a writer
        raise DatabaseError(
            f"Could not open {path} as a DuckDB database ({exc}). Rebuild it with "
            f"`python -m analysis demo --db {path}` or `python -m analysis ingest FILE --db {path}`."
        ) from exc


def ensure_demo(path: str | Path | None = None, conversations: int | None = None) -> Path:
    """Build the synthetic demo database at ``path`` (default: data/demo.duckdb) if it is missing."""
    target = Path(path) if path else DEMO_DB
    if not target.exists():
        from analysis import demo

        demo.build_demo(target, **({"conversations": conversations} if conversations else {}))
    return target


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The single value of a query. Uses fetchall(): in duckdb 2.0 a fetchone() leaves the result open and the
    connection refuses other work until it is finished."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]))


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


def query_pl(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run a query and return a Polars frame (through Arrow, no row loop).

    duckdb 2.0's execute() result has no .pl(); a relation from con.sql() takes parameters and has one.
    """
    return con.sql(sql, params=params or None).pl()
