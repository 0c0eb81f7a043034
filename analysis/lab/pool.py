"""The Sampling lab's question on real texts: per prompt, choose k of the responses that exist for it.

A pool is every embedded, scored response offered for a prompt (the dataset's candidates, uploaded LLM answers, or
both). Selection methods: k at random (like independent sampling), the k nearest a model's default position, a
farthest-point traversal or a greedy DPP on the embeddings. ``evaluate_pool`` measures each method with the
diversity metrics over seeds; ``load_pool`` reads a pool from a database.
CLI: ``python -m analysis sample --pool candidates --db PATH --json``.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.lab import diversity, evaluation
from analysis.lab.strategies import DEFAULT_MODELS, rng_from
from analysis.pipeline import axes_store, models

POOL_METHODS: tuple[str, ...] = ("random", "nearest", "farthest", "dpp")
POOL_METHOD_SHORT: dict[str, str] = {
    "random": "at random",
    "nearest": "nearest to the model",
    "farthest": "farthest-point",
    "dpp": "greedy DPP",
}
POOL_METHOD_LABELS: dict[str, str] = {
    "random": "k at random (like independent sampling)",
    "nearest": "k nearest to the target (a model's default position)",
    "farthest": "farthest-point traversal on the embeddings",
    "dpp": "greedy DPP (most diverse set) on the embeddings",
}


def _cosine_kernel(embeddings: np.ndarray) -> np.ndarray:
    e = np.asarray(embeddings, dtype=float)
    norm = np.linalg.norm(e, axis=1, keepdims=True)
    u = np.divide(e, norm, out=np.zeros_like(e), where=norm > 1e-12)
    k = u @ u.T
    np.fill_diagonal(k, 1.0)
    return k


def select_from_pool(
    method: str,
    embeddings: np.ndarray,
    positions: np.ndarray,
    k: int,
    seed: int | np.random.Generator,
    target: tuple[float, float] | np.ndarray | None = None,
) -> np.ndarray:
    """Indices (k,) into a pool of n responses, chosen by ``method``.

    ``embeddings`` (n, d) are the responses' text embeddings, ``positions`` (n, 2) their places on the plane.
    - random: k distinct at random.
    - nearest: the k closest on the plane to ``target`` (default: the first default model's position).
    - farthest: farthest-point traversal under cosine distance on the embeddings, starting from a random item.
    - dpp: greedy MAP of a DPP with the cosine-similarity kernel (plus a small ridge), starting from the
      item nearest the target; each step adds the item that most increases log det, i.e. the one least
      explained by those already chosen.
    """
    if method not in POOL_METHODS:
        raise ValueError(f"unknown pool method {method!r}: choose one of {', '.join(POOL_METHODS)}")
    emb = np.asarray(embeddings, dtype=float)
    pos = np.asarray(positions, dtype=float)
    if emb.ndim != 2 or pos.ndim != 2 or pos.shape[1] != 2:
        raise ValueError(f"embeddings must be (n, d) and positions (n, 2); got {emb.shape} and {pos.shape}")
    n = emb.shape[0]
    if pos.shape[0] != n:
        raise ValueError(f"embeddings and positions must describe the same {n} responses; got {pos.shape[0]} positions")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")
    if k > n:
        raise ValueError(f"the pool holds only {n} responses, fewer than k = {k}: lower k or add responses")
    rng = rng_from(seed)
    tgt = np.asarray(DEFAULT_MODELS[0].center if target is None else target, dtype=float)

    if method == "random":
        return np.sort(rng.choice(n, size=k, replace=False))
    if method == "nearest":
        d = np.linalg.norm(pos - tgt, axis=1)
        return np.argsort(d, kind="stable")[:k]
    kern = _cosine_kernel(emb)
    if method == "farthest":
        chosen = [int(rng.integers(n))]
        min_dist = 1.0 - kern[chosen[0]]
        min_dist[chosen[0]] = -np.inf
        for _ in range(k - 1):
            j = int(np.argmax(min_dist))
            chosen.append(j)
            min_dist = np.minimum(min_dist, 1.0 - kern[j])
            min_dist[chosen] = -np.inf
        return np.asarray(chosen)
    # dpp: greedy MAP via incremental Cholesky (Chen et al., 2018).
    lk = kern + 1e-6 * np.eye(n)
    start = int(np.argmin(np.linalg.norm(pos - tgt, axis=1)))
    chosen = [start]
    c = np.zeros((k, n))
    d2 = np.diag(lk).copy()
    j = start
    for t in range(k - 1):
        e = (lk[j] - c[:t].T @ c[:t, j]) / np.sqrt(max(d2[j], 1e-18))
        c[t] = e
        d2 = d2 - e * e
        d2[chosen] = -np.inf
        j = int(np.argmax(d2))
        chosen.append(j)
    return np.asarray(chosen)


POOL_SOURCES: tuple[str, ...] = ("candidates", "llm", "both")
POOL_SOURCE_LABELS: dict[str, str] = {
    "candidates": "the dataset's candidate responses",
    "llm": "uploaded LLM responses (llm_responses)",
    "both": "both, pooled per prompt",
}


POOL_SOURCE_SHORT: dict[str, str] = {"candidates": "dataset candidates", "llm": "LLM responses", "both": "both"}


class PoolUnavailable(RuntimeError):
    """The database lacks what pool selection needs (embeddings, axis scores, enough responses per prompt)."""


EMBEDDING_LABELS = {
    "vendi_embedding": "Vendi score (embeddings, cosine)",
    "mean_pairwise_distance_embedding": "mean pairwise cosine distance (embeddings)",
}


def _prompt_rows(pool: pl.DataFrame, need: int) -> list[np.ndarray]:
    """Row numbers of each prompt's responses, for the prompts with at least ``need`` of them (by prompt hash)."""
    groups = (
        pool.with_row_index("_row")
        .group_by("prompt_hash", maintain_order=True)
        .agg(pl.col("_row"))
        .filter(pl.col("_row").list.len() >= need)
        .sort("prompt_hash")
    )
    if groups.height == 0:
        raise PoolUnavailable(
            f"no prompt has at least {need} responses with an embedding and a position; lower k, or load more "
            "responses per prompt (python -m analysis llm) and embed and score them"
        )
    return [np.asarray(r, dtype=np.int64) for r in groups["_row"].to_list()]


def _selection_metrics(method, rows_per_prompt, emb, pos, k, seed, target, threshold) -> dict[str, float]:
    """One seed of one method: k responses chosen per prompt, the set metrics averaged over prompts."""
    rng = np.random.default_rng(seed)
    chosen = np.stack(
        [rows[select_from_pool(method, emb[rows], pos[rows], k, rng, target)] for rows in rows_per_prompt]
    )
    vals = diversity.batch_metrics(pos[chosen], threshold)
    vals["vendi_embedding"] = float(diversity.vendi_batch(emb[chosen], "cosine").mean())
    vals["mean_pairwise_distance_embedding"] = float(diversity.mean_pairwise_cosine_distance_batch(emb[chosen]).mean())
    return vals


def evaluate_pool(
    pool,
    embeddings: np.ndarray,
    k: int = 4,
    methods: tuple[str, ...] | list[str] = POOL_METHODS,
    seeds: int | list[int] = 5,
    threshold: float | None = None,
    target: tuple[float, float] | None = None,
    min_pool: int | None = None,
    progress=None,
) -> pl.DataFrame:
    """Metrics per selection method on real texts: a frame like ``evaluation.evaluate``'s (strategy = method),
    plus ``vendi_embedding`` and ``mean_pairwise_distance_embedding`` rows (cosine, on the text embeddings).

    ``pool``: a polars frame with one row per (prompt, response): prompt_hash, text_hash, self_expression,
    secular; ``embeddings``: (rows, d) aligned with it. Prompts with fewer than ``min_pool`` responses
    (default 2k) are left out, since choosing k of barely more than k is no choice. For every seed each method
    picks k responses per prompt with :func:`select_from_pool`; the metrics are averaged over prompts, then the
    mean and a 95% interval are taken over seeds ('nearest' and 'dpp' are deterministic, so their interval has
    zero width).
    """
    k = int(k)
    t = diversity.DEFAULT_THRESHOLD if threshold is None else float(threshold)
    for m in methods:
        if m not in POOL_METHODS:
            raise ValueError(f"unknown pool method {m!r}: choose from {', '.join(POOL_METHODS)}")
    emb = np.asarray(embeddings, dtype=float)
    if emb.ndim != 2 or emb.shape[0] != pool.height:
        raise ValueError(f"embeddings must have one row per pool row ({pool.height}); got shape {emb.shape}")
    seeds_ = evaluation.seed_list(seeds)
    rows_per_prompt = _prompt_rows(pool, max(k + 1, 2 * k if min_pool is None else int(min_pool)))
    pos = pool.select(schema.AXIS_X, schema.AXIS_Y).to_numpy().astype(float)
    labels = {**diversity.METRIC_LABELS, **EMBEDDING_LABELS}
    out, total, done = [], len(methods) * len(seeds_), 0
    for m in methods:
        per_seed: dict[str, list[float]] = {name: [] for name in labels}
        for seed in seeds_:
            for name, v in _selection_metrics(m, rows_per_prompt, emb, pos, k, seed, target, t).items():
                per_seed[name].append(v)
            done += 1
            if progress is not None:
                progress(done, total)
        out += evaluation.summary_rows(m, per_seed, labels, len(rows_per_prompt), k, t)
    return pl.DataFrame(out, schema=evaluation.RESULT_SCHEMA)


def _pool_rows(con: duckdb.DuckDBPyConnection, source: str) -> pl.DataFrame:
    """Distinct (prompt_hash, text_hash) of the responses offered for each prompt, from ``source``."""
    hashes = ", ".join(schema.HASH_COLUMNS)
    parts = []
    if source in ("candidates", "both"):
        sql = f"""SELECT DISTINCT prompt_hash, h AS text_hash
                  FROM (SELECT prompt_hash, unnest([{hashes}]) AS h FROM {schema.T_COMPARISONS})
                  WHERE h IS NOT NULL AND prompt_hash IS NOT NULL"""
        parts.append(store.query_pl(con, sql))
    if source in ("llm", "both"):
        if store.table_exists(con, schema.T_LLM_RESPONSES):
            sql = (
                f"SELECT DISTINCT prompt_hash, text_hash FROM {schema.T_LLM_RESPONSES} "
                "WHERE prompt_hash IS NOT NULL AND text_hash IS NOT NULL"
            )
            parts.append(store.query_pl(con, sql))
        elif source == "llm":
            raise PoolUnavailable("this database holds no LLM responses: load some with `python -m analysis llm`")
    return pl.concat(parts).unique(maintain_order=True) if parts else pl.DataFrame()


def load_pool(con, source: str = "candidates", model: str | None = None, scores=None):
    """(pool frame, embeddings) for :func:`evaluate_pool` from a database.

    ``source``: 'candidates' (every distinct response offered for a prompt in the comparisons), 'llm' (the
    llm_responses table) or 'both'. Positions come from ``scores`` (text_hash, self_expression, secular) when
    given, else from the stored axis scores; embeddings from the embeddings table. Responses lacking either are
    left out. Raises PoolUnavailable saying which step to run when something is missing.
    """
    if source not in POOL_SOURCES:
        raise ValueError(f"unknown pool source {source!r}: choose one of {', '.join(POOL_SOURCES)}")
    pool = _pool_rows(con, source)
    if pool.height == 0:
        raise PoolUnavailable(f"no responses found for source {source!r} in this database")
    if scores is None:
        scores = axes_store.load_axis_scores(con, model)
    sc = scores.select(
        "text_hash", pl.col(schema.AXIS_X).cast(pl.Float64), pl.col(schema.AXIS_Y).cast(pl.Float64)
    ).unique("text_hash")
    pool = pool.join(sc, on="text_hash", how="inner").sort(["prompt_hash", "text_hash"])
    if pool.height == 0:
        raise PoolUnavailable(
            "none of these responses has a value-axis score: run `python -m analysis embed --db PATH` and then "
            "`python -m analysis axes score-db --db PATH` first"
        )
    key = models.model_key(model)
    if store.vector_dim(con, key) == 0:
        raise PoolUnavailable(
            f"no stored embedding for model {key}: run `python -m analysis embed --model {key}` first"
        )
    emb = store.load_vectors(con, key, pool["text_hash"].to_list(), missing="nan").astype(float)
    keep = ~np.isnan(emb).any(axis=1) if emb.size else np.zeros(pool.height, dtype=bool)
    if not keep.any():
        raise PoolUnavailable("none of these responses has a stored embedding: run `python -m analysis embed` first")
    return pool.filter(pl.Series(keep)), emb[keep]


def evaluate_pool_db(
    con,
    source: str,
    k: int,
    seeds: int | list[int],
    threshold: float | None = None,
    model: str | None = None,
    target: tuple[float, float] | None = None,
):
    """load_pool then evaluate_pool with every method: the page's real-text table (callable through ui.db.cached)."""
    pool, emb = load_pool(con, source, model)
    return evaluate_pool(pool, emb, k, POOL_METHODS, seeds, threshold, target=target)


def pool_examples(
    pool,
    embeddings: np.ndarray,
    k: int,
    n_examples: int,
    seed: int,
    target: tuple[float, float] | None = None,
    min_pool: int | None = None,
) -> dict:
    """A few prompts' selections, for drawing: {"prompt_hashes": [...], "pool": [(m, 2) positions per prompt],
    "sets": {method: (n_examples, k, 2)}}. The prompts are drawn at random (by seed) among those with enough
    responses; every method chooses from the same prompts."""
    need = max(int(k) + 1, 2 * int(k) if min_pool is None else int(min_pool))
    groups = (
        pool.with_row_index("_row")
        .group_by("prompt_hash", maintain_order=True)
        .agg(pl.col("_row"))
        .filter(pl.col("_row").list.len() >= need)
        .sort("prompt_hash")
    )
    if groups.height == 0:
        raise PoolUnavailable(f"no prompt has at least {need} responses with an embedding and a position")
    rng = np.random.default_rng(int(seed))
    pick = np.sort(rng.choice(groups.height, size=min(int(n_examples), groups.height), replace=False))
    pos = pool.select(schema.AXIS_X, schema.AXIS_Y).to_numpy().astype(float)
    emb = np.asarray(embeddings, dtype=float)
    rows = [np.asarray(groups["_row"][int(i)].to_list(), dtype=np.int64) for i in pick]
    sets = {
        m: np.stack([pos[r[select_from_pool(m, emb[r], pos[r], k, rng, target)]] for r in rows]) for m in POOL_METHODS
    }
    return {
        "prompt_hashes": [groups["prompt_hash"][int(i)] for i in pick],
        "pool": [pos[r] for r in rows],
        "sets": sets,
    }


def pool_examples_db(
    con,
    source: str,
    k: int,
    n_examples: int,
    seed: int,
    model: str | None = None,
    target: tuple[float, float] | None = None,
) -> dict:
    pool, emb = load_pool(con, source, model)
    return pool_examples(pool, emb, k, n_examples, seed, target)
