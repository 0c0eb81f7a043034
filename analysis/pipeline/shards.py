"""What the background embedding job writes: Parquet shards beside the database, read by the app as they arrive.

DuckDB lets several processes read a file, or one process write it; the app keeps its database open read-only, so the
job (analysis.pipeline.embed_job) cannot write into it. It writes each finished batch as a shard instead:

    <db>.d/embed/<model>/part-<sequence>-<pid>.parquet     (text_hash, vector, axes_version, self_expression,
                                                            secular, max_tokens)

A shard is written to a temporary name and renamed into place, so a reader sees whole shards or none, and a job
killed at any moment loses at most the batch it was working on. Every reader takes the union of the database's
tables and the shards (a text in both counts once, the database's copy first):
- ``score_frame``: the shards' axis scores of one axes version (``axes_store.load_axis_scores`` adds them, so every
  page that places texts sees the job's progress);
- ``hashes`` / ``count``: what the job has embedded;
- ``absorb``: a writer (``python -m analysis embed`` / ``prepare``) moves the shards' vectors into the embeddings
  table and removes the shards, never while a job is running.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store

PART = "part-*.parquet"
COLUMNS = {
    "text_hash": pl.String,
    "vector": pl.List(pl.Float32),
    "axes_version": pl.String,
    schema.AXIS_X: pl.Float64,
    schema.AXIS_Y: pl.Float64,
    "max_tokens": pl.Int32,
}


def job_dir(db_path: str | Path) -> Path:
    """The folder beside the database where the embedding job keeps its status, lock and shards."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".d") / "embed"


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("_") or "model"


def shard_dir(db_path: str | Path, key: str) -> Path:
    return job_dir(db_path) / _slug(key)


def shard_files(db_path: str | Path, key: str) -> list[Path]:
    folder = shard_dir(db_path, key)
    return sorted(folder.glob(PART)) if folder.is_dir() else []


def db_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind a connection (None for an in-memory database)."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(rows[0][0]) if rows and rows[0][0] else None


def write(db_path: str | Path, key: str, sequence: int, frame: pl.DataFrame) -> Path:
    """Write one shard atomically (a temporary name, then a rename in the same folder); returns its path."""
    folder = shard_dir(db_path, key)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"part-{sequence:07d}-{os.getpid()}.parquet"
    tmp = folder / f".tmp-{final.name}"
    frame.cast(COLUMNS).write_parquet(tmp, compression="zstd", statistics=False)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


def remove_partial(db_path: str | Path, key: str) -> int:
    """Remove temporary files a killed job left (never a finished shard); returns how many."""
    folder = shard_dir(db_path, key)
    stale = list(folder.glob(".tmp-*")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def stamp(db_path: str | Path) -> str:
    """Changes whenever a shard is added or removed (the number of shard files and the newest one's mtime)."""
    root = job_dir(db_path)
    if not root.is_dir():
        return "0"
    files = list(root.glob(f"*/{PART}"))
    return f"{len(files)}:{max((f.stat().st_mtime_ns for f in files), default=0)}"


def _glob_sql(files: list[Path]) -> str:
    return "[" + ", ".join(store.sql_literal(str(f)) for f in files) + "]"


def _read(con: duckdb.DuckDBPyConnection, files: list[Path], select: str, where: str = "", params=None):
    sql = f"SELECT {select} FROM read_parquet({_glob_sql(files)}) {where}"
    return store.query_pl(con, sql, params)


def score_frame(con: duckdb.DuckDBPyConnection, key: str, axes_version: str) -> pl.DataFrame:
    """The shards' scores of ``axes_version``: (text_hash, self_expression, secular), one row per text."""
    path = db_file(con)
    files = shard_files(path, key) if path else []
    if not files:
        return pl.DataFrame(schema={"text_hash": pl.String, schema.AXIS_X: pl.Float64, schema.AXIS_Y: pl.Float64})
    return _read(
        con,
        files,
        f"text_hash, any_value({schema.AXIS_X}) AS {schema.AXIS_X}, any_value({schema.AXIS_Y}) AS {schema.AXIS_Y}",
        "WHERE axes_version = ? GROUP BY text_hash",
        [axes_version],
    ).cast({schema.AXIS_X: pl.Float64, schema.AXIS_Y: pl.Float64})


def hashes_sql(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """SQL selecting ``text_hash`` of every text in the shards of the connection's database (None when none)."""
    path = db_file(con)
    files = shard_files(path, key) if path else []
    return f"SELECT text_hash FROM read_parquet({_glob_sql(files)})" if files else None


def hashes(con: duckdb.DuckDBPyConnection, db_path: str | Path, key: str) -> set[str]:
    files = shard_files(db_path, key)
    if not files:
        return set()
    return set(_read(con, files, "DISTINCT text_hash")["text_hash"].to_list())


def count(con: duckdb.DuckDBPyConnection, db_path: str | Path, key: str) -> int:
    files = shard_files(db_path, key)
    return int(_read(con, files, "count(DISTINCT text_hash) AS n")["n"][0]) if files else 0


def truncation(con: duckdb.DuckDBPyConnection, db_path: str | Path, key: str) -> list[int]:
    """The distinct ``max_tokens`` the shards were written with (0: full length)."""
    files = shard_files(db_path, key)
    return sorted(_read(con, files, "DISTINCT max_tokens")["max_tokens"].to_list()) if files else []


def absorb(con: duckdb.DuckDBPyConnection, db_path: str | Path, key: str) -> int:
    """Move the shards' vectors into the embeddings table (a text already there keeps its vector) and remove the
    shards; returns how many texts were added. The caller holds the database read-write and has checked that no job
    is running."""
    files = shard_files(db_path, key)
    if not files:
        return 0
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {schema.T_EMBEDDINGS} (model VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, "
        "vector FLOAT[] NOT NULL, PRIMARY KEY (model, text_hash))"
    )
    before = store.scalar(con, f"SELECT count(*) FROM {schema.T_EMBEDDINGS} WHERE model = ?", [key])
    with store.transaction(con):
        con.execute(
            f"INSERT INTO {schema.T_EMBEDDINGS} SELECT ?, text_hash, any_value(vector)::FLOAT[] "
            f"FROM read_parquet({_glob_sql(files)}) GROUP BY text_hash ON CONFLICT DO NOTHING",
            [key],
        )
    added = store.scalar(con, f"SELECT count(*) FROM {schema.T_EMBEDDINGS} WHERE model = ?", [key]) - before
    for f in files:
        f.unlink(missing_ok=True)
    return int(added)


def frame(hashes_: list[str], vectors: np.ndarray, axes_version: str, xy: np.ndarray, max_tokens: int) -> pl.DataFrame:
    """A shard's rows."""
    return pl.DataFrame(
        {
            "text_hash": hashes_,
            "vector": vectors.astype(np.float32),
            "axes_version": [axes_version] * len(hashes_),
            schema.AXIS_X: xy[:, 0],
            schema.AXIS_Y: xy[:, 1],
            "max_tokens": [int(max_tokens)] * len(hashes_),
        }
    )
