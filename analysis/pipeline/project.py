"""A 2-D UMAP map of the stored embeddings, fitted once and stored with its parameters.

``python -m analysis project --db PATH [--model NAME] [--n-neighbors 15] [--min-dist 0.1] [--seed 42] [--refit]``

The reducer is fitted on the embeddings of the candidate responses and prompts, pickled into ``projections``
together with the model name and its parameters, and its points are written to ``projection_points``. A later call
with the same model and parameters fits nothing: it places only the texts not yet projected (new data, uploaded LLM
answers) with the stored reducer's ``transform``. ``--refit`` fits a new projection. Pages only read.

umap (and numba) are imported only inside :func:`project_db`.
"""

from __future__ import annotations

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

from analysis import schema, store
from analysis.pipeline.models import model_key

T_PROJECTIONS = schema.T_PROJECTIONS
T_PROJECTION_POINTS = schema.T_PROJECTION_POINTS
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


def canonical_params(params: dict) -> str:
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
    """Texts the reducer is fitted on: candidate responses and prompts (not the LLM answers, placed later)."""
    return store.text_hashes_sql(con, llm=False)


def _latest(con: duckdb.DuckDBPyConnection, key: str, params: dict | None = None) -> int | None:
    if not store.table_exists(con, T_PROJECTIONS):
        return None
    rows = con.execute(
        f"SELECT projection_id, params::VARCHAR FROM {T_PROJECTIONS} WHERE model = ? ORDER BY created_at DESC, projection_id DESC",
        [key],
    ).fetchall()
    for pid, p in rows:
        if params is None or canonical_params(json.loads(p)) == canonical_params(params):
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


def _fit(con: duckdb.DuckDBPyConnection, key: str, params: dict, progress: Any) -> tuple[int, int, Any]:
    """Fit a new UMAP on the candidates and prompts and store it with its points: (projection_id, n_fit, reducer)."""
    hashes, X = store.vectors_matching(con, key, _fit_sources_sql(con))
    n_neighbors = params["n_neighbors"]
    if len(hashes) < n_neighbors + 2:
        raise LookupError(
            f"Only {len(hashes)} candidate/prompt texts have embeddings for {key}; UMAP with n_neighbors="
            f"{n_neighbors} needs more. Run `python -m analysis embed --db PATH --model {key}` first."
        )
    import umap  # heavy: numba compiles on first use

    t0 = time.perf_counter()
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        min_dist=params["min_dist"],
        n_components=2,
        metric=METRIC,
        random_state=params["seed"],
        n_jobs=1,  # a seed makes UMAP single-threaded anyway; said explicitly to keep it quiet
        verbose=bool(progress is True),
        tqdm_kwds={"disable": progress is not True},
    )
    xy = reducer.fit_transform(X)
    fit_seconds = round(time.perf_counter() - t0, 3)
    blob = pickle.dumps(reducer, protocol=pickle.HIGHEST_PROTOCOL)
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    with store.transaction(con):
        pid = int(store.scalar(con, f"SELECT coalesce(max(projection_id), 0) + 1 FROM {T_PROJECTIONS}"))
        row = [pid, key, canonical_params(params), len(hashes), len(hashes), now, fit_seconds, blob]
        con.execute(f"INSERT INTO {T_PROJECTIONS} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        _insert_points(con, pid, hashes, xy, True)
    return pid, len(hashes), reducer


def _place_new(con: duckdb.DuckDBPyConnection, key: str, pid: int, reducer: Any) -> int:
    """Place every embedded text not in projection ``pid`` yet (LLM answers, data added later) with the fitted
    reducer's transform; returns how many were placed."""
    new_hashes, X_new = store.vectors_matching(con, key, store.text_hashes_sql(con), exclude_projection=pid)
    if not new_hashes:
        return 0
    if reducer is None:
        blob = store.scalar(con, f"SELECT umap_model FROM {T_PROJECTIONS} WHERE projection_id = ?", [pid])
        import umap  # noqa: F401  (unpickling needs the module)

        reducer = pickle.loads(blob)
        reducer.verbose = False  # fitted by the CLI with progress on: its transform would print to stdout (--json)
    xy_new = reducer.transform(X_new)
    with store.transaction(con):
        _insert_points(con, pid, new_hashes, xy_new, False)
        con.execute(
            f"UPDATE {T_PROJECTIONS} SET n_points = "
            f"(SELECT count(*) FROM {T_PROJECTION_POINTS} WHERE projection_id = ?) WHERE projection_id = ?",
            [pid, pid],
        )
    return len(new_hashes)


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
    key = model_key(model)
    params = _params(n_neighbors, min_dist, seed)
    con, owned = store.open_db(db_path)
    try:
        if not store.table_exists(con, schema.T_EMBEDDINGS):
            raise LookupError(
                f"No embeddings in {db_path}: run `python -m analysis embed --db {db_path} --model {key}` first."
            )
        _ensure_tables(con)
        stages = _Stages(progress, 3)
        pid = None if refit else _latest(con, key, params)
        fitted, n_fit, reducer = pid is None, 0, None
        if fitted:
            stages.step("fitting UMAP on the candidates and prompts")
            pid, n_fit, reducer = _fit(con, key, params, progress)
        else:
            stages.step(f"reusing stored projection {pid}")
        placed = _place_new(con, key, pid, reducer)
        stages.step(f"placed {placed} new texts with the fitted reducer")
        n_points = store.scalar(con, f"SELECT count(*) FROM {T_PROJECTION_POINTS} WHERE projection_id = ?", [pid])
        stages.step("stored")
        return {
            "projection_id": pid,
            "model": key,
            "params": params,
            "fitted": fitted,
            "n_fit": n_fit,
            "placed": placed,
            "n_points": int(n_points),
            "seconds": round(time.perf_counter() - start, 3),
        }
    finally:
        if owned:
            con.close()


def projection_info(con: duckdb.DuckDBPyConnection, model: Any = None) -> dict | None:
    """The latest projection for the model: {"projection_id", "model", "params", "n_points", "n_fit", "created_at",
    "fit_seconds"}; None when there is none."""
    key = model_key(model)
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
    pid = _latest(con, model_key(model))
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
