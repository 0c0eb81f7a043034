"""Inglehart-Welzel value axes from anchor statements, and how far each axis can be trusted.

Each of the four poles (traditional, secular-rational, survival, self-expression) is defined by anchor statements in
five languages (``analysis/content/anchors.json``, read by ``analysis.pipeline.anchors``). For each axis a direction in embedding space is fitted from the
anchors of its two poles, and a text's coordinate is where its embedding falls along that direction, scaled so that
the mean of each pole's anchors sits at -1 and +1 (0 is the midpoint between the poles):

- x = ``self_expression``: > 0 leans self-expression, < 0 survival;
- y = ``secular``: > 0 leans secular-rational, < 0 traditional.

The direction is the difference of the two poles' mean anchor embeddings (each pole's anchors are balanced
across the same topics and languages, so topic and language cancel in the difference). A shrinkage-LDA probe was
tried as well: it scored a little higher on the anchors' own leave-one-out check but placed the demo's template
responses worse (it fits the anchors' wording), so the plain difference is used.

Validity is reported the way the research reports its LLM judge's accuracy (85.8% traditional/secular-rational,
78.3% survival/self-expression): leave-one-out accuracy of the anchors (hold one anchor out, refit the axis from the
rest, check that its coordinate has its pole's sign), per axis and per language, plus an 'all' row. The anchors are
written in topic pairs: statement i of a pole and statement i of the opposite pole, in the same language, take the
two sides of one topic. Leaving only the held-out statement out would leave its twin, the nearest text to it, on the
other side of the refit axis, so the check would measure topic similarity rather than stance (a sentence-embedding
model then scores below chance). The held-out statement's twin is therefore left out of the refit as well
(``scheme='pair'``, the default); ``scheme='single'`` gives the literal one-statement version.

The anchors themselves: ``analysis.pipeline.anchors``. CLI: ``python -m analysis axes score --text-file F --json`` |
``axes validity`` | ``axes score-db --db PATH``
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.pipeline.anchors import AnchorError, anchor_rows, anchors_to_json, anchors_version, as_anchors
from analysis.pipeline.embed import embed_texts
from analysis.pipeline.models import DEFAULT_MODEL, model_key

AXIS_X = schema.AXIS_X  # "self_expression"
AXIS_Y = schema.AXIS_Y  # "secular"
AXIS_ORDER: tuple[str, str] = (AXIS_X, AXIS_Y)
# axis -> (negative pole, positive pole)
AXIS_POLES: dict[str, tuple[str, str]] = {AXIS_X: ("survival", "self_expression"), AXIS_Y: ("traditional", "secular")}
AXIS_LABELS: dict[str, str] = {AXIS_X: "survival / self-expression", AXIS_Y: "traditional / secular-rational"}
# The research's LLM judge, measured against people (arXiv 2507.09650): for orientation next to our validity.
REFERENCE_ACCURACY: dict[str, float] = {AXIS_Y: 0.858, AXIS_X: 0.783}
METHOD = "centroid-difference"
TRUST_THRESHOLD = 0.7  # below this leave-one-out accuracy, positions on that axis in that language are not trusted

T_AXIS_SCORES = schema.T_AXIS_SCORES
T_AXIS_VALIDITY = schema.T_AXIS_VALIDITY
T_AXIS_RUNS = schema.T_AXIS_RUNS

VALIDITY_COLUMNS = {"axis": pl.String, "language": pl.String, "accuracy": pl.Float64, "n": pl.Int64}
SCORE_COLUMNS = {"text_hash": pl.String, AXIS_X: pl.Float64, AXIS_Y: pl.Float64}


# --------------------------------------------------------------------------------------------------
# Anchor embeddings (cached per process by model and text)
# --------------------------------------------------------------------------------------------------

_ANCHOR_CACHE: dict[tuple[str, str], np.ndarray] = {}
_ANCHOR_LOCK = threading.Lock()


def _embed_anchor_texts(texts: Sequence[str], model: Any, progress: Any = None) -> np.ndarray:
    key = model_key(model)
    with _ANCHOR_LOCK:
        todo = sorted({t for t in texts if (key, t) not in _ANCHOR_CACHE})
    if todo:
        vecs = embed_texts(todo, model=model, progress=progress)
        with _ANCHOR_LOCK:
            for t, v in zip(todo, vecs):
                _ANCHOR_CACHE[(key, t)] = v
    with _ANCHOR_LOCK:
        return np.stack([_ANCHOR_CACHE[(key, t)] for t in texts]) if texts else np.zeros((0, 0), np.float32)


def _axis_data(rows: pl.DataFrame, emb: np.ndarray, axis: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings, labels (+1 positive pole, -1 negative), languages and topic-pair ids of one axis's anchors."""
    neg, pos = AXIS_POLES[axis]
    poles = rows["pole"].to_numpy()
    mask = (poles == neg) | (poles == pos)
    y = np.where(poles[mask] == pos, 1.0, -1.0)
    langs = rows["language"].to_numpy()[mask]
    pairs = np.array([f"{l}\x1f{i}" for l, i in zip(langs, rows["index"].to_numpy()[mask])], dtype=object)
    return emb[mask].astype(np.float64), y, langs, pairs


# --------------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------------


def _fit_direction(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and bias of one axis: the difference of the poles' mean embeddings, scaled so that the mean of the
    positive pole's anchors scores +1 and the negative pole's -1 (0 = the midpoint)."""
    pos, neg = X[y > 0], X[y < 0]
    if len(pos) == 0 or len(neg) == 0:
        raise AnchorError("each pole of an axis needs at least one anchor statement")
    mu_p, mu_n = pos.mean(axis=0), neg.mean(axis=0)
    w = mu_p - mu_n
    sp, sn = float(mu_p @ w), float(mu_n @ w)  # mean scores of the poles (linear, so = mean of the anchors' scores)
    if not np.isfinite(sp - sn) or abs(sp - sn) < 1e-12:
        raise AnchorError("the two poles' anchors embed identically; they cannot define an axis")
    scale = 2.0 / (sp - sn)
    return w * scale, -(sp + sn) / (sp - sn)


@dataclass(frozen=True)
class AxisModel:
    """Two fitted axes: coordinates = emb @ weights.T + bias, columns (self_expression, secular)."""

    model: str
    anchors_version: str
    weights: np.ndarray  # (2, d)
    bias: np.ndarray  # (2,)
    method: str = METHOD
    n_anchors: dict = field(default_factory=dict)  # pole -> count

    @property
    def axes(self) -> tuple[str, str]:
        return AXIS_ORDER

    def score(self, emb: np.ndarray) -> np.ndarray:
        return score_embeddings(self, emb)

    def params(self) -> dict:
        return {"method": self.method, "validity": "leave-one-out, scheme 'pair'", "n_anchors": self.n_anchors}


def _fit_from(rows: pl.DataFrame, emb: np.ndarray, key: str, version: str) -> AxisModel:
    weights, bias = [], []
    for axis in AXIS_ORDER:
        X, y, _, _ = _axis_data(rows, emb, axis)
        w, b = _fit_direction(X, y)
        weights.append(w)
        bias.append(b)
    counts = rows.group_by("pole").len()
    n_anchors = {p: int(n) for p, n in counts.iter_rows()}
    return AxisModel(key, version, np.vstack(weights), np.asarray(bias), METHOD, n_anchors)


def fit_axes(anchors: Any = None, model: Any = None, progress: Any = None) -> AxisModel:
    """Fit both axes from the anchors' embeddings under ``model`` (name, path or loaded model; default model)."""
    a = as_anchors(anchors)
    rows = anchor_rows(a)
    emb = _embed_anchor_texts(rows["text"].to_list(), model, progress)
    return _fit_from(rows, emb, model_key(model), anchors_version(a))


def score_embeddings(axis_model: AxisModel, emb: np.ndarray) -> np.ndarray:
    """(n, 2) coordinates, columns (self_expression, secular), for embeddings from the axis model's model."""
    emb = np.asarray(emb, dtype=np.float64)
    if emb.ndim != 2:
        raise ValueError("embeddings must be a 2-D array (n, d)")
    if emb.shape[0] == 0:
        return np.zeros((0, 2))
    if emb.shape[1] != axis_model.weights.shape[1]:
        raise ValueError(
            f"embeddings have {emb.shape[1]} dimensions but the axes were fitted with {axis_model.weights.shape[1]} "
            f"({axis_model.model}): embed with the same model"
        )
    return emb @ axis_model.weights.T + axis_model.bias


def score_texts(texts: Sequence[str], model: Any = None, anchors: Any = None, progress: Any = None) -> pl.DataFrame:
    """Embed texts and place them on the axes: DataFrame(text, self_expression, secular)."""
    texts = [str(t) for t in texts]
    axis_model = fit_axes(anchors, model)
    emb = embed_texts(texts, model=model, progress=progress) if texts else np.zeros((0, axis_model.weights.shape[1]))
    xy = score_embeddings(axis_model, emb)
    return pl.DataFrame(
        {"text": texts, AXIS_X: xy[:, 0], AXIS_Y: xy[:, 1]},
        schema={"text": pl.String, AXIS_X: pl.Float64, AXIS_Y: pl.Float64},
    )


# --------------------------------------------------------------------------------------------------
# Validity
# --------------------------------------------------------------------------------------------------


SCHEMES = ("pair", "single")


def _loo_correct(X: np.ndarray, y: np.ndarray, pairs: np.ndarray, scheme: str = "pair") -> np.ndarray:
    """Leave-one-out: for each anchor, refit without it (and, for scheme 'pair', without its topic twin: the
    opposite pole's statement with the same language and index) and check the sign of its coordinate."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}")
    ok = np.zeros(len(y), dtype=bool)
    idx = np.arange(len(y))
    for i in idx:
        keep = (pairs != pairs[i]) if scheme == "pair" else (idx != i)
        if (y[keep] > 0).sum() == 0 or (y[keep] < 0).sum() == 0:
            continue  # nothing left on one pole: cannot refit (counted as a miss)
        w, b = _fit_direction(X[keep], y[keep])
        ok[i] = np.sign(X[i] @ w + b) == y[i]
    return ok


def _language_order(langs: Sequence[str]) -> list[str]:
    known = [l for l in schema.LANGUAGES if l in set(langs)]
    return known + sorted(set(langs) - set(known))


def anchor_validity(anchors: Any = None, model: Any = None, scheme: str = "pair", progress: Any = None) -> pl.DataFrame:
    """Leave-one-out accuracy of the anchors: DataFrame(axis, language, accuracy, n), per axis and language plus
    an 'all' row per axis. Chance is 0.5. ``scheme``: 'pair' leaves the held-out statement's topic twin out of the
    refit too (the default, see the module docstring); 'single' leaves out the statement alone."""
    a = as_anchors(anchors)
    rows = anchor_rows(a)
    emb = _embed_anchor_texts(rows["text"].to_list(), model, progress)
    return _validity_from(rows, emb, scheme)


def _validity_from(rows: pl.DataFrame, emb: np.ndarray, scheme: str = "pair") -> pl.DataFrame:
    out = []
    for axis in AXIS_ORDER:
        X, y, langs, pairs = _axis_data(rows, emb, axis)
        ok = _loo_correct(X, y, pairs, scheme)
        for lang in _language_order(langs.tolist()):
            m = langs == lang
            out.append((axis, lang, float(ok[m].mean()), int(m.sum())))
        out.append((axis, "all", float(ok.mean()) if len(ok) else float("nan"), int(len(ok))))
    return pl.DataFrame(out, schema=VALIDITY_COLUMNS, orient="row")


def validity_warnings(validity: pl.DataFrame, model: Any = None, threshold: float = TRUST_THRESHOLD) -> list[str]:
    """Plain sentences for the axis/language pairs whose anchors the model does not separate reliably."""
    name = model_key(model) if model is not None else None
    notes = []
    for axis, lang, acc, n in validity.iter_rows():
        if lang == "all" or acc >= threshold:
            continue
        lang_name = schema.LANGUAGE_NAMES.get(lang, lang)
        level = "close to chance (50%)" if acc < 0.6 else f"below {threshold:.0%}"
        notes.append(
            f"{lang_name} on the {AXIS_LABELS[axis]} axis: leave-one-out accuracy {acc:.0%} of {n} anchors, {level}"
            + (f" with {name}" if name else "")
            + f". Do not read positions of {lang_name} texts on this axis as findings."
        )
    return notes


# --------------------------------------------------------------------------------------------------
# The database
# --------------------------------------------------------------------------------------------------


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {T_AXIS_SCORES} (model VARCHAR NOT NULL, anchors_version VARCHAR NOT NULL, "
        f"text_hash VARCHAR NOT NULL, {AXIS_X} DOUBLE, {AXIS_Y} DOUBLE, PRIMARY KEY (model, anchors_version, text_hash))"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {T_AXIS_VALIDITY} (model VARCHAR NOT NULL, anchors_version VARCHAR NOT NULL, "
        "axis VARCHAR NOT NULL, language VARCHAR NOT NULL, accuracy DOUBLE, n INTEGER, "
        "PRIMARY KEY (model, anchors_version, axis, language))"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {T_AXIS_RUNS} (model VARCHAR NOT NULL, anchors_version VARCHAR NOT NULL, "
        "params JSON, anchors JSON, n_scored INTEGER, created_at TIMESTAMP, PRIMARY KEY (model, anchors_version))"
    )


def _write_run(
    con: duckdb.DuckDBPyConnection, axis_model: AxisModel, anchors: dict, scores: pl.DataFrame, validity: pl.DataFrame
) -> None:
    """Replace the stored scores, validity and run record of (model, anchors_version) in one transaction."""
    key, version = axis_model.model, axis_model.anchors_version
    _ensure_tables(con)
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    run = [key, version, json.dumps(axis_model.params()), anchors_to_json(anchors), scores.height, now]
    con.register("_cae_scores", scores)
    con.register("_cae_validity", validity)
    try:
        with store.transaction(con):
            for table in (T_AXIS_SCORES, T_AXIS_VALIDITY, T_AXIS_RUNS):
                con.execute(f"DELETE FROM {table} WHERE model = ? AND anchors_version = ?", [key, version])
            con.execute(
                f"INSERT INTO {T_AXIS_SCORES} SELECT ?, ?, text_hash, {AXIS_X}, {AXIS_Y} FROM _cae_scores",
                [key, version],
            )
            con.execute(
                f"INSERT INTO {T_AXIS_VALIDITY} SELECT ?, ?, axis, language, accuracy, n FROM _cae_validity",
                [key, version],
            )
            con.execute(f"INSERT INTO {T_AXIS_RUNS} VALUES (?, ?, ?, ?, ?, ?)", run)
    finally:
        con.unregister("_cae_scores")
        con.unregister("_cae_validity")


def score_db(
    db_path: str | Path | duckdb.DuckDBPyConnection, model: Any = None, anchors: Any = None, progress: Any = None
) -> dict:
    """Score every embedded text (candidates, prompts, llm_responses) from its stored vector and write
    ``axis_scores`` and ``axis_validity`` for (model, anchors_version), replacing an earlier run of the same pair.
    Returns {"model", "anchors_version", "scored", "not_embedded", "validity": [rows], "seconds"}."""
    start = time.perf_counter()
    key = model_key(model)
    a = as_anchors(anchors)
    con, owned = store.open_db(db_path)
    try:
        if not store.table_exists(con, schema.T_EMBEDDINGS):
            raise LookupError(
                f"No embeddings in {db_path}: run `python -m analysis embed --db {db_path} --model {key}` first."
            )
        hashes, emb = store.vectors_matching(con, key, store.text_hashes_sql(con))
        total = store.scalar(con, f"SELECT count(*) FROM ({store.text_hashes_sql(con)})")
        if not hashes:
            raise LookupError(
                f"No stored embeddings for model {key} in {db_path}: run "
                f"`python -m analysis embed --db {db_path} --model {key}` first."
            )
        rows = anchor_rows(a)
        anchor_emb = _embed_anchor_texts(rows["text"].to_list(), model, progress)
        axis_model = _fit_from(rows, anchor_emb, key, anchors_version(a))
        xy = score_embeddings(axis_model, emb)
        validity = _validity_from(rows, anchor_emb)
        scores = pl.DataFrame({"text_hash": hashes, AXIS_X: xy[:, 0], AXIS_Y: xy[:, 1]})
        _write_run(con, axis_model, a, scores, validity)
        return {
            "model": key,
            "anchors_version": axis_model.anchors_version,
            "scored": int(scores.height),
            "not_embedded": int(total - len(hashes)),
            "validity": validity.to_dicts(),
            "seconds": round(time.perf_counter() - start, 3),
        }
    finally:
        if owned:
            con.close()


def rescore_stored(
    con: duckdb.DuckDBPyConnection,
    anchors: dict,
    model: str | None = None,
    progress: Any = None,
    chunk: int = 50_000,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Re-fit the axes from (edited) anchors and re-score every STORED embedding of the model, without
    re-embedding the data: only the anchors are embedded. Returns (scores: text_hash, self_expression, secular;
    validity: axis, language, accuracy, n). ``progress(message)`` is called between steps."""
    say = progress or (lambda _m: None)
    say("Embedding the anchor statements and fitting the two axes…")
    axis_model = fit_axes(anchors, model=model)
    say("Leave-one-out accuracy of the edited anchors…")
    validity = anchor_validity(anchors, model=model)
    hashes = store.embedded_hashes(con, model_key(model))
    parts = []
    for start in range(0, len(hashes), chunk):
        say(f"Re-scoring stored embeddings {start + 1:,}–{min(start + chunk, len(hashes)):,} of {len(hashes):,}…")
        part = hashes[start : start + chunk]
        emb = store.load_vectors(con, model_key(model), part)
        xy = np.asarray(score_embeddings(axis_model, emb), dtype=float)
        parts.append(pl.DataFrame({"text_hash": part, AXIS_X: xy[:, 0], AXIS_Y: xy[:, 1]}))
    scores = pl.concat(parts) if parts else pl.DataFrame(schema=SCORE_COLUMNS)
    return scores, validity


def _pick_run(con: duckdb.DuckDBPyConnection, model: Any, anchors_version_: str | None) -> tuple[str, str] | None:
    """(model, anchors_version) to read: the given ones; by default the default model (else the latest scored model)
    and the default anchors' version (else the latest run for that model)."""
    if not store.table_exists(con, T_AXIS_RUNS):
        return None
    if model is None:
        models = [r[0] for r in con.execute(f"SELECT model FROM {T_AXIS_RUNS} ORDER BY created_at DESC").fetchall()]
        if not models:
            return None
        key = DEFAULT_MODEL if DEFAULT_MODEL in models else models[0]
    else:
        key = model_key(model)
    if anchors_version_ is None:
        versions = [
            r[0]
            for r in con.execute(
                f"SELECT anchors_version FROM {T_AXIS_RUNS} WHERE model = ? ORDER BY created_at DESC", [key]
            ).fetchall()
        ]
        if not versions:
            return None
        try:
            default_version = anchors_version(None)
        except AnchorError:
            default_version = None
        anchors_version_ = default_version if default_version in versions else versions[0]
    return key, anchors_version_


def load_axis_scores(
    con: duckdb.DuckDBPyConnection, model: Any = None, anchors_version: str | None = None
) -> pl.DataFrame:
    """Stored coordinates: DataFrame(text_hash, self_expression, secular); empty when none were written."""
    run = _pick_run(con, model, anchors_version)
    if run is None:
        return pl.DataFrame(schema=SCORE_COLUMNS)
    return (
        con.sql(
            f"SELECT text_hash, {AXIS_X}, {AXIS_Y} FROM {T_AXIS_SCORES} WHERE model = ? AND anchors_version = ?",
            params=list(run),
        )
        .pl()
        .cast(SCORE_COLUMNS)
    )


def load_axis_validity(
    con: duckdb.DuckDBPyConnection, model: Any = None, anchors_version: str | None = None
) -> pl.DataFrame:
    """Stored validity: DataFrame(axis, language, accuracy, n); empty when none was written."""
    run = _pick_run(con, model, anchors_version)
    if run is None:
        return pl.DataFrame(schema=VALIDITY_COLUMNS)
    df = (
        con.sql(
            f"SELECT axis, language, accuracy, n FROM {T_AXIS_VALIDITY} WHERE model = ? AND anchors_version = ?",
            params=list(run),
        )
        .pl()
        .cast(VALIDITY_COLUMNS)
    )
    order = {a: i for i, a in enumerate(AXIS_ORDER)}
    langs = {l: i for i, l in enumerate((*schema.LANGUAGES, "all"))}
    return df.sort(
        [pl.col("axis").replace_strict(order, default=9), pl.col("language").replace_strict(langs, default=8)]
    )


def axis_runs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Which (model, anchors_version) pairs have been scored, with their parameters."""
    if not store.table_exists(con, T_AXIS_RUNS):
        return pl.DataFrame(
            schema={
                "model": pl.String,
                "anchors_version": pl.String,
                "params": pl.String,
                "n_scored": pl.Int64,
                "created_at": pl.Datetime,
            }
        )
    return con.sql(
        f"SELECT model, anchors_version, params::VARCHAR AS params, n_scored, created_at FROM {T_AXIS_RUNS} ORDER BY created_at DESC"
    ).pl()
