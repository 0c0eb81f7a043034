"""A 2-D UMAP map of the stored embeddings, fitted once and stored with its parameters.

``python -m analysis project --db PATH [--model NAME] [--n-neighbors 15] [--min-dist 0.1] [--seed 42] [--refit]``

The reducer is fitted on the embeddings of the candidate responses and prompts, pickled into ``projections``
together with the model name and its parameters, and its points are written to ``projection_points``. A later call
with the same model and parameters fits nothing: it places only the texts not yet projected (new data, uploaded LLM
answers) with the stored reducer's ``transform``. ``--refit`` fits a new projection. Pages only read.

umap (and numba) are imported only inside :func:`project_db`.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from analysis import embeddings as E
from analysis import schema

T_PROJECTIONS = "projections"
T_PROJECTION_POINTS = "projection_points"
METRIC = "cosine"
POINT_COLUMNS = {"text_hash": pl.String, "x": pl.Float64, "y": pl.Float64}


def _params(n_neighbors: int, min_dist: float, seed: int) -> dict:
    return {
        "n_neighbors": int(n_neighbors),
        "min_dist": float(min_dist),
        "seed": int(seed),
        "metric": METRIC,
        "n_components": 2,
    }


def _canon(params: dict) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {T_PROJECTIONS} (projection_id INTEGER PRIMARY KEY, model VARCHAR NOT NULL, "
        "params JSON NOT NULL, n_points INTEGER, n_fit INTEGER, created_at TIMESTAMP, fit_seconds DOUBLE, umap_model BLOB)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {T_PROJECTION_POINTS} (projection_id INTEGER NOT NULL, text_hash VARCHAR NOT NULL, "
        "x DOUBLE, y DOUBLE, fitted BOOLEAN, PRIMARY KEY (projection_id, text_hash))"
    )


def _fit_sources_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Texts the reducer is fitted on: candidate responses and prompts."""
    parts = []
    if E._table_exists(con, schema.T_CANDIDATES):
        parts.append(f"SELECT text_hash FROM {schema.T_CANDIDATES}")
    if E._table_exists(con, schema.T_PROMPTS):
        parts.append(f"SELECT prompt_hash AS text_hash FROM {schema.T_PROMPTS}")
    if not parts:
        raise ValueError(
            "The database holds no candidates or prompts: build it with `python -m analysis demo` or `ingest` first."
        )
    return " UNION ".join(parts)


def _vectors(
    con: duckdb.DuckDBPyConnection, key: str, hashes_sql: str, exclude_projection: int | None = None
) -> tuple[list[str], np.ndarray]:
    """Stored vectors of the model for the texts selected by ``hashes_sql`` (minus those already in a projection)."""
    extra = ""
    params: list[Any] = [key]
    if exclude_projection is not None:
        extra = f" AND e.text_hash NOT IN (SELECT text_hash FROM {T_PROJECTION_POINTS} WHERE projection_id = ?)"
        params.append(exclude_projection)
    df = con.sql(
        f"SELECT e.text_hash, e.vector FROM {E.T_EMBEDDINGS} e SEMI JOIN ({hashes_sql}) s ON s.text_hash = e.text_hash "
        f"WHERE e.model = ?{extra} ORDER BY e.text_hash",
        params=params,
    ).pl()
    if df.height == 0:
        return [], np.zeros((0, 0), dtype=np.float32)
    dim = len(df["vector"][0])
    return df["text_hash"].to_list(), df["vector"].list.to_array(dim).to_numpy().astype(np.float32, copy=False)


def _latest(con: duckdb.DuckDBPyConnection, key: str, params: dict | None = None) -> int | None:
    if not E._table_exists(con, T_PROJECTIONS):
        return None
    rows = con.execute(
        f"SELECT projection_id, params::VARCHAR FROM {T_PROJECTIONS} WHERE model = ? ORDER BY created_at DESC, projection_id DESC",
        [key],
    ).fetchall()
    for pid, p in rows:
        if params is None or _canon(json.loads(p)) == _canon(params):
            return int(pid)
    return None


def _insert_points(con: duckdb.DuckDBPyConnection, pid: int, hashes: list[str], xy: np.ndarray, fitted: bool) -> None:
    frame = pl.DataFrame({"text_hash": hashes, "x": xy[:, 0].astype(float), "y": xy[:, 1].astype(float)})
    con.register("_cae_points", frame)
    try:
        con.execute(
            f"INSERT INTO {T_PROJECTION_POINTS} SELECT ?, text_hash, x, y, ? FROM _cae_points ON CONFLICT DO NOTHING",
            [pid, fitted],
        )
    finally:
        con.unregister("_cae_points")


class _Stages:
    def __init__(self, progress: Any, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def step(self, label: str) -> None:
        self.done += 1
        if callable(self.progress):
            self.progress(self.done, self.total)
        elif self.progress:
            print(f"[{self.done}/{self.total}] {label}", file=sys.stderr)


def project_db(
    db_path: str | Path | duckdb.DuckDBPyConnection,
    model: Any = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    seed: int = 42,
    progress: Any = True,
    refit: bool = False,
) -> dict:
    """Fit (once) and store a 2-D UMAP of the stored embeddings; place texts added since with ``transform``.

    Returns {"projection_id", "model", "params", "fitted" (bool), "n_fit", "placed" (points added by transform),
    "n_points", "seconds"}. ``progress``: True prints stages and UMAP's own progress to stderr; a callable gets
    ``progress(done, total)`` per stage."""
    if n_neighbors < 2:
        raise ValueError("n_neighbors must be at least 2")
    if not 0.0 <= min_dist <= 1.0:
        raise ValueError("min_dist must lie between 0 and 1")
    start = time.perf_counter()
    key = E.model_key(model)
    params = _params(n_neighbors, min_dist, seed)
    con, owned = E.open_db(db_path)
    try:
        if not E._table_exists(con, E.T_EMBEDDINGS):
            raise LookupError(
                f"No embeddings in {db_path}: run `python -m analysis embed --db {db_path} --model {key}` first."
            )
        _ensure_tables(con)
        stages = _Stages(progress, 3)
        fit_sql = _fit_sources_sql(con)
        all_sql = E.text_sources_sql(con)
        pid = None if refit else _latest(con, key, params)
        fitted = pid is None
        n_fit = 0
        if fitted:
            hashes, X = _vectors(con, key, fit_sql)
            if len(hashes) < n_neighbors + 2:
                raise LookupError(
                    f"Only {len(hashes)} candidate/prompt texts have embeddings for {key}; UMAP with n_neighbors="
                    f"{n_neighbors} needs more. Run `python -m analysis embed --db {db_path} --model {key}` first."
                )
            stages.step(f"fitting UMAP on {len(hashes)} texts")
            import umap  # heavy: numba compiles on first use

            t0 = time.perf_counter()
            reducer = umap.UMAP(
                n_neighbors=n_neighbors,
                min_dist=min_dist,
                n_components=2,
                metric=METRIC,
                random_state=seed,
                n_jobs=1,  # a seed makes UMAP single-threaded anyway; said explicitly to keep it quiet
                verbose=bool(progress is True),
                tqdm_kwds={"disable": progress is not True},
            )
            xy = reducer.fit_transform(X)
            fit_seconds = time.perf_counter() - t0
            blob = pickle.dumps(reducer, protocol=pickle.HIGHEST_PROTOCOL)
            n_fit = len(hashes)
            con.execute("BEGIN TRANSACTION")
            try:
                pid = int(
                    con.execute(f"SELECT coalesce(max(projection_id), 0) + 1 FROM {T_PROJECTIONS}").fetchall()[0][0]
                )
                con.execute(
                    f"INSERT INTO {T_PROJECTIONS} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        pid,
                        key,
                        _canon(params),
                        n_fit,
                        n_fit,
                        _dt.datetime.now(_dt.UTC).replace(tzinfo=None),
                        round(fit_seconds, 3),
                        blob,
                    ],
                )
                _insert_points(con, pid, hashes, xy, True)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        else:
            stages.step(f"reusing stored projection {pid}")
            reducer = None
        # Place every embedded text not in the projection yet (LLM answers, data added later) with transform.
        new_hashes, X_new = _vectors(con, key, all_sql, exclude_projection=pid)
        stages.step(f"placing {len(new_hashes)} new texts with the fitted reducer")
        if new_hashes:
            if reducer is None:
                blob = con.execute(f"SELECT umap_model FROM {T_PROJECTIONS} WHERE projection_id = ?", [pid]).fetchall()[
                    0
                ][0]
                import umap  # noqa: F401  (unpickling needs the module)

                reducer = pickle.loads(blob)
            xy_new = reducer.transform(X_new)
            con.execute("BEGIN TRANSACTION")
            try:
                _insert_points(con, pid, new_hashes, xy_new, False)
                con.execute(
                    f"UPDATE {T_PROJECTIONS} SET n_points = (SELECT count(*) FROM {T_PROJECTION_POINTS} WHERE projection_id = ?) "
                    "WHERE projection_id = ?",
                    [pid, pid],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        n_points = con.execute(f"SELECT count(*) FROM {T_PROJECTION_POINTS} WHERE projection_id = ?", [pid]).fetchall()[
            0
        ][0]
        stages.step("stored")
        return {
            "projection_id": pid,
            "model": key,
            "params": params,
            "fitted": fitted,
            "n_fit": n_fit,
            "placed": len(new_hashes),
            "n_points": int(n_points),
            "seconds": round(time.perf_counter() - start, 3),
        }
    finally:
        if owned:
            con.close()


def projection_info(con: duckdb.DuckDBPyConnection, model: Any = None) -> dict | None:
    """The latest projection for the model: {"projection_id", "model", "params", "n_points", "n_fit", "created_at",
    "fit_seconds"}; None when there is none."""
    key = E.model_key(model)
    pid = _latest(con, key)
    if pid is None:
        return None
    row = con.execute(
        f"SELECT projection_id, model, params::VARCHAR, n_points, n_fit, created_at, fit_seconds FROM {T_PROJECTIONS} "
        "WHERE projection_id = ?",
        [pid],
    ).fetchall()[0]
    return {
        "projection_id": row[0],
        "model": row[1],
        "params": json.loads(row[2]),
        "n_points": row[3],
        "n_fit": row[4],
        "created_at": row[5],
        "fit_seconds": row[6],
    }


def load_projection(con: duckdb.DuckDBPyConnection, model: Any = None) -> pl.DataFrame:
    """Points of the latest projection for the model: DataFrame(text_hash, x, y); empty when there is none."""
    pid = _latest(con, E.model_key(model))
    if pid is None:
        return pl.DataFrame(schema=POINT_COLUMNS)
    return (
        con.sql(
            f"SELECT text_hash, x, y FROM {T_PROJECTION_POINTS} WHERE projection_id = ? ORDER BY text_hash",
            params=[pid],
        )
        .pl()
        .cast(POINT_COLUMNS)
    )


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database path (default: $CAE_DB, else data/demo.duckdb)")
    parser.add_argument(
        "--model", default=E.DEFAULT_MODEL, help=f"whose stored embeddings to project (default {E.DEFAULT_MODEL})"
    )
    parser.add_argument("--n-neighbors", type=int, default=15, help="UMAP n_neighbors (default 15)")
    parser.add_argument("--min-dist", type=float, default=0.1, help="UMAP min_dist (default 0.1)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--refit", action="store_true", help="fit a new projection even if one with these parameters exists"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from analysis import store

    db = store.resolve_db_path(args.db)
    if not Path(db).exists():
        print(f"error: no database at {db}. Build it with `python -m analysis demo --db {db}`.", file=sys.stderr)
        return 2
    try:
        summary = project_db(
            db,
            model=args.model,
            n_neighbors=args.n_neighbors,
            min_dist=args.min_dist,
            seed=args.seed,
            progress=True,
            refit=args.refit,
        )
    except (LookupError, ValueError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        how = f"fitted on {summary['n_fit']} texts" if summary["fitted"] else "reused (no refit)"
        print(
            f"projection {summary['projection_id']} ({summary['model']}, {_canon(summary['params'])}): {how}; "
            f"{summary['placed']} texts placed with transform; {summary['n_points']} points; {summary['seconds']:.1f} s"
        )
    return 0
