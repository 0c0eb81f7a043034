"""A 2-D UMAP map of the stored embeddings, fitted once and stored with its parameters.

``python -m analysis project --db PATH [--model NAME] [--n-neighbors 15] [--min-dist 0.1] [--seed 42] [--refit]``

The reducer is fitted on the embeddings of the candidate responses and prompts (at most ``fit_sample`` of them, a
seeded random sample: UMAP's fit grows faster than linearly and runs on one core when seeded), pickled into
``projections`` together with the model name and its parameters, and its points are written to
``projection_points``. Every other embedded text (the rest of the data, texts embedded later, uploaded LLM answers)
is placed with the stored reducer's ``transform`` in batches of ``PLACE_BATCH``, each committed as it finishes, so
an interrupted run resumes where it stopped. A later call with the same model and parameters fits nothing.
``--refit`` fits a new projection. Pages only read.

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
from analysis.progress import Bar

T_PROJECTIONS = schema.T_PROJECTIONS
T_PROJECTION_POINTS = schema.T_PROJECTION_POINTS
METRIC = "cosine"
POINT_COLUMNS = {"text_hash": pl.String, "x": pl.Float64, "y": pl.Float64}


DEFAULT_FIT_SAMPLE = 20_000  # texts the reducer is fitted on; the rest are placed (bench/bench_project.py)
PLACE_BATCH = 20_000  # texts placed per transform call and committed together


def _params(n_neighbors: int, min_dist: float, seed: int, fit_sample: int = DEFAULT_FIT_SAMPLE) -> dict:
    return {
        "n_neighbors": int(n_neighbors),
        "min_dist": float(min_dist),
        "seed": int(seed),
        "metric": METRIC,
        "n_components": 2,
        "fit_sample": int(fit_sample),
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


def _fit_sample_sql(con: duckdb.DuckDBPyConnection, key: str, params: dict) -> str:
    """The embedded candidates and prompts the reducer is fitted on: all of them, or a seeded random sample of
    ``fit_sample`` (ordered by a hash of text and seed, so the same data and seed give the same sample)."""
    seed = int(params["seed"])
    return (
        f"SELECT s.text_hash FROM ({_fit_sources_sql(con)}) s SEMI JOIN {schema.T_EMBEDDINGS} e "
        f"ON e.text_hash = s.text_hash AND e.model = {store.sql_literal(key)} "
        f"ORDER BY md5(s.text_hash || '{seed}') LIMIT {int(params['fit_sample'])}"
    )


def _fit(con: duckdb.DuckDBPyConnection, key: str, params: dict, progress: Any) -> tuple[int, int, Any]:
    """Fit a new UMAP on (a sample of) the candidates and prompts and store it with its points:
    (projection_id, n_fit, reducer)."""
    hashes, X = store.vectors_matching(con, key, _fit_sample_sql(con, key, params))
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


def _unplaced(con: duckdb.DuckDBPyConnection, key: str, pid: int) -> list[str]:
    """Embedded texts (of any source) not in projection ``pid`` yet, in hash order."""
    rows = con.execute(
        f"SELECT e.text_hash FROM {schema.T_EMBEDDINGS} e SEMI JOIN ({store.text_hashes_sql(con)}) s "
        f"ON s.text_hash = e.text_hash WHERE e.model = ? AND e.text_hash NOT IN "
        f"(SELECT text_hash FROM {T_PROJECTION_POINTS} WHERE projection_id = ?) ORDER BY e.text_hash",
        [key, pid],
    ).fetchall()
    return [r[0] for r in rows]


def _load_reducer(con: duckdb.DuckDBPyConnection, pid: int) -> Any:
    blob = store.scalar(con, f"SELECT umap_model FROM {T_PROJECTIONS} WHERE projection_id = ?", [pid])
    import umap  # noqa: F401  (unpickling needs the module)

    return pickle.loads(blob)


def _place_new(con: duckdb.DuckDBPyConnection, key: str, pid: int, reducer: Any, progress: Any = None) -> int:
    """Place every embedded text not in projection ``pid`` yet with the fitted reducer's transform, PLACE_BATCH at
    a time (vectors loaded per batch; each batch committed, so a stopped run resumes); returns how many were placed."""
    todo = _unplaced(con, key, pid)
    if not todo:
        return 0
    reducer = reducer if reducer is not None else _load_reducer(con, pid)
    reducer.verbose = False  # fitted by the CLI with progress on: its transform would print to stdout (--json)
    with Bar(progress, len(todo), "placing texts on the map", unit="text") as bar:
        for start in range(0, len(todo), PLACE_BATCH):
            batch = todo[start : start + PLACE_BATCH]
            xy = reducer.transform(store.load_vectors(con, key, batch))
            with store.transaction(con):
                _insert_points(con, pid, batch, xy, False)
                con.execute(
                    f"UPDATE {T_PROJECTIONS} SET n_points = "
                    f"(SELECT count(*) FROM {T_PROJECTION_POINTS} WHERE projection_id = ?) WHERE projection_id = ?",
                    [pid, pid],
                )
            bar.update(len(batch))
    return len(todo)


def project_db(
    db_path: str | Path | duckdb.DuckDBPyConnection,
    model: Any = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    seed: int = 42,
    progress: Any = True,
    refit: bool = False,
    fit_sample: int = DEFAULT_FIT_SAMPLE,
) -> dict:
    """Fit (once) and store a 2-D UMAP of the stored embeddings; place texts added since with ``transform``.

    Returns {"projection_id", "model", "params", "fitted" (bool), "n_fit", "placed" (points added by transform),
    "n_points", "seconds"}. ``progress``: True prints stages and UMAP's own progress to stderr; a callable gets
    ``progress(done, total)`` per stage."""
    if n_neighbors < 2:
        raise ValueError("n_neighbors must be at least 2")
    if not 0.0 <= min_dist <= 1.0:
        raise ValueError("min_dist must lie between 0 and 1")
    if fit_sample < n_neighbors + 2:
        raise ValueError(f"fit_sample must be at least n_neighbors + 2 ({n_neighbors + 2})")
    start = time.perf_counter()
    key = model_key(model)
    params = _params(n_neighbors, min_dist, seed, fit_sample)
    con, owned = store.open_db(db_path)
    try:
        if not store.table_exists(con, schema.T_EMBEDDINGS):
            raise LookupError(
                f"No embeddings in {db_path}: run `python -m analysis embed --db {db_path} --model {key}` first."
            )
        _ensure_tables(con)
        pid = None if refit else _latest(con, key, params)
        fitted, n_fit, reducer = pid is None, 0, None
        if fitted:
            if progress is True:
                print(f"fitting UMAP on up to {fit_sample:,} candidates and prompts…", file=sys.stderr)
            pid, n_fit, reducer = _fit(con, key, params, progress)
        placed = _place_new(con, key, pid, reducer, progress)
        n_points = store.scalar(con, f"SELECT count(*) FROM {T_PROJECTION_POINTS} WHERE projection_id = ?", [pid])
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
