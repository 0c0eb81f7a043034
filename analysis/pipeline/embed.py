"""Sentence embeddings of candidate responses and prompts, cached in the database by (model, content hash).

``python -m analysis embed --db PATH [--model NAME_OR_PATH] [--batch-size N] [--device cpu|cuda]``

- Vectors are L2-normalised float32 and stored in ``embeddings(model, text_hash, vector)``; the text hash is the
  md5 the ingest writes, so a text shared by many comparisons is embedded once. A second run embeds nothing,
  new data embeds only what is new, and an interrupted run keeps every finished batch (written at least every
  few seconds, and always when the run stops on an error or Ctrl-C).
- Texts are batched by token length (longest first), so a batch pads little; results come back in input order.
- Which model, and how it is loaded: ``analysis.pipeline.models``; every backend is an
  ``analysis.pipeline.encoders.Encoder``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.pipeline import encoders, shards
from analysis.pipeline.models import as_model, model_key
from analysis.progress import Bar

# Written at least this often during a run (seconds), and always when the run stops.
COMMIT_EVERY_S = 2.0

Progress = Callable[[int, int], Any]  # progress(done, total)

# --------------------------------------------------------------------------------------------------
# Embedding texts
# --------------------------------------------------------------------------------------------------


def _iter_embedded_batches(
    encoder: encoders.Encoder, texts: Sequence[str], batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (indices into texts, normalised float32 vectors) batch by batch, longest texts first (by token count,
    so a batch pads little)."""
    if batch_size <= 0:
        raise ValueError(f"batch size must be a positive integer, got {batch_size}")
    order = np.argsort(-encoder.token_lengths(texts), kind="stable")
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield idx, encoder.encode([texts[i] for i in idx])


def embed_texts(
    texts: Sequence[str],
    model: Any = None,
    batch_size: int = 64,
    device: str | None = None,
    progress: Any = None,
) -> np.ndarray:
    """Embed texts with a model name, path or loaded model: float32, L2-normalised, (n, d), in input order."""
    texts = [("" if t is None else str(t)) for t in texts]
    encoder = as_model(model, device)
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    bar = Bar(progress, len(texts), "embedding", unit="text")
    try:
        for idx, vecs in _iter_embedded_batches(encoder, texts, batch_size):
            out[idx] = vecs
            bar.update(len(idx))
    finally:
        bar.close()
    return out


# --------------------------------------------------------------------------------------------------
# The database cache
# --------------------------------------------------------------------------------------------------


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {schema.T_EMBEDDINGS} ("
        "model VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, vector FLOAT[] NOT NULL, "
        "PRIMARY KEY (model, text_hash))"
    )


def _insert(con: duckdb.DuckDBPyConnection, key: str, hashes: list[str], vectors: np.ndarray) -> None:
    frame = pl.DataFrame({"text_hash": hashes, "vector": vectors})
    con.register("_cae_new_vectors", frame)
    try:
        con.execute(
            f"INSERT INTO {schema.T_EMBEDDINGS} SELECT ?, text_hash, vector::FLOAT[] FROM _cae_new_vectors "
            "ON CONFLICT DO NOTHING",
            [key],
        )
    finally:
        con.unregister("_cae_new_vectors")


def _absorb_shards(con: duckdb.DuckDBPyConnection, key: str) -> int:
    """Move what the background job wrote (analysis.pipeline.shards) into the table; this connection holds the file
    read-write, so no job (which holds it read-only while it runs) is running."""
    path = shards.db_file(con)
    return shards.absorb(con, path, key) if path is not None else 0


def embed_db(
    db_path: str | Path | duckdb.DuckDBPyConnection,
    model: Any = None,
    batch_size: int = 64,
    device: str | None = None,
    progress: Any = True,
    commit_every_s: float = COMMIT_EVERY_S,
) -> dict:
    """Embed every text in the database not yet embedded for this model, and store the vectors.

    Returns {"model", "total", "cached", "embedded", "seconds"}. ``progress``: True for a tqdm bar, a callable
    ``progress(done, total)`` called after each batch, or None. Finished batches are written at least every
    ``commit_every_s`` seconds and when the run stops (also on an exception or Ctrl-C), so a rerun resumes.
    """
    start = time.perf_counter()
    key = model_key(model)
    con, owned = store.open_db(db_path)
    try:
        ensure_table(con)
        absorbed = _absorb_shards(con, key)
        sources = store.text_sources_sql(con)
        total = con.execute(f"SELECT count(*) FROM ({sources})").fetchall()[0][0]
        todo = con.execute(
            f"SELECT s.text_hash, s.text FROM ({sources}) s "
            f"ANTI JOIN (SELECT text_hash FROM {schema.T_EMBEDDINGS} WHERE model = ?) e ON s.text_hash = e.text_hash "
            "ORDER BY s.text_hash",
            [key],
        ).fetchall()
        summary = {"model": key, "total": int(total), "cached": int(total - len(todo)), "embedded": 0, "seconds": 0.0,
                   "from_background_job": absorbed}  # fmt: skip
        if todo:
            encoder = as_model(model, device)
            hashes = [r[0] for r in todo]
            texts = [r[1] if r[1] is not None else "" for r in todo]
            pending_idx: list[np.ndarray] = []
            pending_vec: list[np.ndarray] = []
            last_commit = time.perf_counter()
            bar = Bar(progress, len(texts), f"embedding ({key})", unit="text")

            def flush() -> None:
                nonlocal last_commit
                if pending_idx:
                    idx = np.concatenate(pending_idx)
                    _insert(con, key, [hashes[i] for i in idx], np.concatenate(pending_vec))
                    summary["embedded"] += len(idx)
                    pending_idx.clear()
                    pending_vec.clear()
                last_commit = time.perf_counter()

            try:
                for idx, vecs in _iter_embedded_batches(encoder, texts, batch_size):
                    pending_idx.append(idx)
                    pending_vec.append(vecs)
                    if time.perf_counter() - last_commit >= commit_every_s:
                        flush()
                    bar.update(len(idx))
            finally:
                flush()  # keep every finished batch, also when stopped by an error or Ctrl-C
                bar.close()
        summary["seconds"] = round(time.perf_counter() - start, 3)
        return summary
    finally:
        if owned:
            con.close()


def load_embeddings(
    con: duckdb.DuckDBPyConnection, model: Any, text_hashes: Sequence[str], missing: str = "raise"
) -> np.ndarray:
    """Stored vectors of ``model`` (a name, path or loaded model) for ``text_hashes`` in their order: (n, d) float32.
    A hash without a vector raises LookupError (``missing='raise'``) or gives a row of NaN (``missing='nan'``)."""
    return store.load_vectors(con, model_key(model), text_hashes, missing)


def embedded_hashes(con: duckdb.DuckDBPyConnection, model: Any = None) -> list[str]:
    """Text hashes with a stored vector for the model."""
    return store.embedded_hashes(con, model_key(model))


def stored_models(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Models with stored vectors: [{"model", "n", "dim"}]."""
    if not store.table_exists(con, schema.T_EMBEDDINGS):
        return []
    rows = con.execute(
        f"SELECT model, count(*), any_value(len(vector)) FROM {schema.T_EMBEDDINGS} GROUP BY model ORDER BY model"
    ).fetchall()
    return [{"model": m, "n": int(n), "dim": int(d)} for m, n, d in rows]
