"""The demo's derived data, shipped: its texts' embeddings and its UMAP map, so that a fresh deploy shows every page,
the Values map included, seconds after the demo is built (embedding the demo's 4,000 texts with the multilingual
default takes about a quarter of an hour on two cores).

    analysis/content/demo/<model>.vectors.parquet     text_hash, vector (float16 bytes: about 3 MB)
    analysis/content/demo/<model>.map.parquet         text_hash, x, y, fitted (the UMAP map's points)
    analysis/content/demo/<model>.json                the texts' digest, the map's parameters, how it was made

``build_demo`` loads them when the database's texts are exactly the ones they were made from (the digest of every
text hash: the default demo, same generator, same cleaning); otherwise nothing is loaded and the pipeline computes
everything as for any database. The axis scores are not shipped: they are computed from the loaded vectors in about a
second (``axes_store.score_db``), so they always follow the current axes. The map is shipped without its fitted UMAP
model (7 MB): texts added later (an upload of LLM answers) are placed once the map is refitted
(``python -m analysis project --refit``).

``python -m analysis demo --write-artifacts --db PATH`` rewrites the files from a prepared default demo; a test fails
when the generator and the files drift apart.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.pipeline import project
from analysis.pipeline.models import DEFAULT_MODEL, model_key

DIR = Path(__file__).resolve().parent.parent / "content" / "demo"


def paths(key: str) -> dict[str, Path]:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key)
    return {
        "vectors": DIR / f"{slug}.vectors.parquet",
        "map": DIR / f"{slug}.map.parquet",
        "meta": DIR / f"{slug}.json",
    }


def texts_digest(con: duckdb.DuckDBPyConnection) -> str:
    """A digest of every text hash the pipeline embeds (candidates, prompts, LLM answers)."""
    rows = con.execute(f"SELECT text_hash FROM ({store.text_hashes_sql(con)}) ORDER BY text_hash").fetchall()
    return hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()


def write(db_path: str | Path, model: Any = None) -> dict:
    """Write the files from a prepared demo database (embedded and mapped for ``model``)."""
    key = model_key(model if model is not None else DEFAULT_MODEL)
    con = store.connect(db_path, read_only=True)
    try:
        hashes = store.embedded_hashes(con, key)
        vectors = store.load_vectors(con, key, hashes)
        points = project.load_projection(con, key)
        info = project.projection_info(con, key)
        if not len(hashes) or info is None:
            raise LookupError(f"{db_path} is not embedded and mapped for {key}: run `python -m analysis prepare` first")
        flags = store.query_pl(con, f"SELECT text_hash, fitted FROM {schema.T_PROJECTION_POINTS} "
                               "WHERE projection_id = ?", [info["projection_id"]])  # fmt: skip
        meta = {"model": key, "texts_digest": texts_digest(con), "n_vectors": len(hashes),
                "map_params": info["params"], "n_fit": info["n_fit"], "fit_seconds": info["fit_seconds"],
                "written_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()}  # fmt: skip
    finally:
        con.close()
    p = paths(key)
    DIR.mkdir(parents=True, exist_ok=True)
    half = vectors.astype(np.float16)
    pl.DataFrame({"text_hash": hashes, "vector16": [row.tobytes() for row in half]}).write_parquet(
        p["vectors"], compression="zstd"
    )
    points.join(flags, on="text_hash").write_parquet(p["map"], compression="zstd")
    p["meta"].write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def shipped_meta(model: Any = None) -> dict | None:
    p = paths(model_key(model if model is not None else DEFAULT_MODEL))
    if not all(f.exists() for f in p.values()):
        return None
    return json.loads(p["meta"].read_text())


def _insert_vectors(con: duckdb.DuckDBPyConnection, key: str, frame: pl.DataFrame) -> int:
    from analysis.pipeline import embed

    embed.ensure_table(con)
    raw = np.frombuffer(b"".join(frame["vector16"].to_list()), dtype=np.float16).reshape(frame.height, -1)
    vectors = raw.astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    con.register("_cae_shipped", pl.DataFrame({"text_hash": frame["text_hash"], "vector": vectors}))
    try:
        before = store.scalar(con, f"SELECT count(*) FROM {schema.T_EMBEDDINGS} WHERE model = ?", [key])
        con.execute(f"INSERT INTO {schema.T_EMBEDDINGS} SELECT ?, text_hash, vector::FLOAT[] FROM _cae_shipped "
                    "ON CONFLICT DO NOTHING", [key])  # fmt: skip
        return int(store.scalar(con, f"SELECT count(*) FROM {schema.T_EMBEDDINGS} WHERE model = ?", [key]) - before)
    finally:
        con.unregister("_cae_shipped")


def _insert_map(con: duckdb.DuckDBPyConnection, key: str, meta: dict, points: pl.DataFrame) -> None:
    project.ensure_tables(con)
    if project.projection_info(con, key) is not None:
        return
    pid = int(store.scalar(con, f"SELECT coalesce(max(projection_id), 0) + 1 FROM {project.T_PROJECTIONS}"))
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    con.execute(
        f"INSERT INTO {project.T_PROJECTIONS} VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
        [
            pid,
            key,
            project.canonical_params(meta["map_params"]),
            points.height,
            meta["n_fit"],
            now,
            meta["fit_seconds"],
        ],
    )
    con.register("_cae_shipped_map", points)
    try:
        con.execute(f"INSERT INTO {project.T_PROJECTION_POINTS} SELECT ?, text_hash, x, y, fitted FROM _cae_shipped_map",
                    [pid])  # fmt: skip
    finally:
        con.unregister("_cae_shipped_map")


def load(db_path: str | Path, model: Any = None) -> dict:
    """Load the shipped vectors and map into ``db_path`` when its texts are the ones they were made from, then score
    the axes. Returns {"loaded": bool, "reason" | "vectors", "points"}."""
    key = model_key(model if model is not None else DEFAULT_MODEL)
    meta = shipped_meta(key)
    if meta is None:
        return {"loaded": False, "reason": f"no shipped artifacts for {key}"}
    con = store.connect(db_path, read_only=False)
    try:
        if texts_digest(con) != meta["texts_digest"]:
            return {"loaded": False, "reason": "the database's texts are not the default demo's"}
        p = paths(key)
        points = pl.read_parquet(p["map"])
        with store.transaction(con):
            n = _insert_vectors(con, key, pl.read_parquet(p["vectors"]))
            _insert_map(con, key, meta, points)
    finally:
        con.close()
    from analysis.pipeline import axes_store

    axes_store.score_db(db_path, model=key)
    return {"loaded": True, "vectors": n, "points": points.height}
