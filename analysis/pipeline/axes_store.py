"""The value axes in the database: scores of every embedded text, the held-out accuracy and the fit that made them,
each keyed by (model, axes_version); and which stored scores are stale.

- ``axis_scores(model, axes_version, text_hash, self_expression, secular)``
- ``axis_validity(model, axes_version, axis, scheme, language, n, correct, accuracy, ci_low, ci_high, flagged)``
- ``axis_runs(model, axes_version, labels_version, method_version, labels_source, params, fit, labels, n_scored,
  created_at)``

A run is stale when it was made by another method version, or from an older version of the project's labelled set;
stale runs are never read as current: ``steps.readiness`` lists ``axes score-db`` for them and the pipeline
(``python -m analysis prepare``) recomputes them. A run from a user's own labelled set (``--labels FILE``) is current
for as long as the method is. Tables of the earlier anchor-based axes (keyed by ``anchors_version``) are dropped and
rebuilt the first time the axes are scored.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from analysis import schema, store
from analysis.pipeline import axes, shards
from analysis.pipeline.models import DEFAULT_MODEL, model_key

T_AXIS_SCORES = schema.T_AXIS_SCORES
T_AXIS_VALIDITY = schema.T_AXIS_VALIDITY
T_AXIS_RUNS = schema.T_AXIS_RUNS
PROJECT_LABELS = "project"  # labels_source of a run on the project's labelled set


def _old_layout(con: duckdb.DuckDBPyConnection) -> bool:
    if not store.table_exists(con, T_AXIS_RUNS):
        return False
    cols = {r[0] for r in con.execute(f"DESCRIBE {T_AXIS_RUNS}").fetchall()}
    return "anchors_version" in cols


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    if _old_layout(con):  # the anchor-based axes: derived data, made by a method no longer used
        for table in (T_AXIS_SCORES, T_AXIS_VALIDITY, T_AXIS_RUNS):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {T_AXIS_SCORES} (model VARCHAR NOT NULL, axes_version VARCHAR NOT NULL, "
        f"text_hash VARCHAR NOT NULL, {axes.AXIS_X} DOUBLE, {axes.AXIS_Y} DOUBLE, "
        "PRIMARY KEY (model, axes_version, text_hash))"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {T_AXIS_VALIDITY} (model VARCHAR NOT NULL, axes_version VARCHAR NOT NULL, "
        "axis VARCHAR NOT NULL, scheme VARCHAR NOT NULL, language VARCHAR NOT NULL, n INTEGER, correct INTEGER, "
        "accuracy DOUBLE, ci_low DOUBLE, ci_high DOUBLE, flagged BOOLEAN, "
        "PRIMARY KEY (model, axes_version, axis, scheme, language))"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {T_AXIS_RUNS} (model VARCHAR NOT NULL, axes_version VARCHAR NOT NULL, "
        "labels_version VARCHAR, method_version VARCHAR, labels_source VARCHAR, params JSON, fit JSON, labels JSON, "
        "n_scored INTEGER, created_at TIMESTAMP, PRIMARY KEY (model, axes_version))"
    )


def _write_run(con: duckdb.DuckDBPyConnection, fit: axes.Fitted, source: str, scores: pl.DataFrame) -> None:
    """Replace the stored scores, validity and run record of (model, axes_version) in one transaction."""
    m = fit.axis_model
    ensure_tables(con)
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    labels_json = None if source == PROJECT_LABELS else json.dumps(fit.labels.to_dicts(), ensure_ascii=False)
    run = [m.model, m.axes_version, m.labels_version, axes.METHOD_VERSION, source, json.dumps(m.params),
           json.dumps(m.to_json()), labels_json, scores.height, now]  # fmt: skip
    con.register("_cae_scores", scores)
    con.register("_cae_validity", fit.validity)
    try:
        with store.transaction(con):
            for table in (T_AXIS_SCORES, T_AXIS_VALIDITY, T_AXIS_RUNS):
                con.execute(f"DELETE FROM {table} WHERE model = ? AND axes_version = ?", [m.model, m.axes_version])
            con.execute(
                f"INSERT INTO {T_AXIS_SCORES} SELECT ?, ?, text_hash, {axes.AXIS_X}, {axes.AXIS_Y} FROM _cae_scores",
                [m.model, m.axes_version],
            )
            con.execute(
                f"INSERT INTO {T_AXIS_VALIDITY} SELECT ?, ?, axis, scheme, language, n, correct, accuracy, ci_low, "
                "ci_high, flagged FROM _cae_validity",
                [m.model, m.axes_version],
            )
            con.execute(f"INSERT INTO {T_AXIS_RUNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", run)
    finally:
        con.unregister("_cae_scores")
        con.unregister("_cae_validity")


def _score_stored(
    con: duckdb.DuckDBPyConnection, axis_model: axes.AxisModel, hashes: list[str], chunk: int = 50_000, say: Any = None
):
    """Scores of the stored texts ``hashes`` (their vectors and, for the n-gram reader, their texts), a chunk at a
    time; ``say(message)`` after each chunk with the count and the time left (the reader takes about 2 ms per
    long answer: minutes for the full release)."""
    parts = []
    start_t = time.perf_counter()
    for start in range(0, len(hashes), chunk):
        part = hashes[start : start + chunk]
        texts = store.texts_for(con, part) if axis_model.reads_texts else None
        xy = axis_model.score(store.load_vectors(con, axis_model.model, part), texts)
        parts.append(pl.DataFrame({"text_hash": part, axes.AXIS_X: xy[:, 0], axes.AXIS_Y: xy[:, 1]}))
        done = start + len(part)
        if say is not None and done < len(hashes):
            left = (time.perf_counter() - start_t) / done * (len(hashes) - done)
            say(f"Re-scored {done:,} of {len(hashes):,} stored texts; about {left / 60:.0f} min left…")
    return pl.concat(parts) if parts else pl.DataFrame(schema=axes.SCORE_COLUMNS)


def score_db(
    db_path: str | Path | duckdb.DuckDBPyConnection, model: Any = None, labels: Any = None, progress: Any = None
) -> dict:
    """Score every embedded text (candidates, prompts, llm_responses) from its stored vector and write
    ``axis_scores``, ``axis_validity`` and ``axis_runs`` for (model, axes_version), replacing an earlier run of the
    same pair. Returns {"model", "axes_version", "labels_version", "scored", "not_embedded", "validity": [rows],
    "seconds"}."""
    start = time.perf_counter()
    key = model_key(model)
    source = PROJECT_LABELS if labels is None else (str(labels) if isinstance(labels, (str, Path)) else "custom")
    con, owned = store.open_db(db_path)
    try:
        if not store.table_exists(con, schema.T_EMBEDDINGS):
            raise LookupError(
                f"No embeddings in {db_path}: run `python -m analysis embed --db {db_path} --model {key}` first."
            )
        wanted = store.scalar(con, f"SELECT count(*) FROM ({store.text_hashes_sql(con)})")
        hashes = [
            r[0]
            for r in con.execute(
                f"SELECT e.text_hash FROM {schema.T_EMBEDDINGS} e SEMI JOIN ({store.text_hashes_sql(con)}) t "
                "ON e.text_hash = t.text_hash WHERE e.model = ? ORDER BY e.text_hash",
                [key],
            ).fetchall()
        ]
        if not hashes:
            raise LookupError(
                f"No stored embeddings for model {key} in {db_path}: run "
                f"`python -m analysis embed --db {db_path} --model {key}` first."
            )
        fit = axes.fitted(labels, model, progress)
        scores = _score_stored(con, fit.axis_model, hashes)
        _write_run(con, fit, source, scores)
        return {
            "model": key,
            "axes_version": fit.axis_model.axes_version,
            "labels_version": fit.axis_model.labels_version,
            "scored": int(scores.height),
            "not_embedded": int(wanted - len(hashes)),
            "validity": fit.validity.to_dicts(),
            "seconds": round(time.perf_counter() - start, 3),
        }
    finally:
        if owned:
            con.close()


def rescore_stored(
    con: duckdb.DuckDBPyConnection, labels: Any, model: str | None = None, progress: Any = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Re-fit the axes from (edited) labels and re-score every STORED embedding of the model, without re-embedding
    the data: only labelled statements new to this model are embedded. Returns (scores: text_hash,
    self_expression, secular; validity: VALIDITY_COLUMNS). ``progress(message)`` is called between steps."""
    say = progress or (lambda _m: None)
    say("Embedding the new labelled statements, fitting the two axes and their held-out accuracy…")
    fit = axes.fitted(labels, model)
    hashes = store.embedded_hashes(con, model_key(model))
    say(f"Re-scoring {len(hashes):,} stored embeddings…")
    return _score_stored(con, fit.axis_model, hashes, say=say), fit.validity


# --------------------------------------------------------------------------------------------------
# Reading, and what is stale
# --------------------------------------------------------------------------------------------------

_RUN_COLUMNS = {
    "model": pl.String,
    "axes_version": pl.String,
    "labels_version": pl.String,
    "method_version": pl.String,
    "labels_source": pl.String,
    "n_scored": pl.Int64,
    "created_at": pl.Datetime,
    "stale": pl.Boolean,
}


def axis_runs(con: duckdb.DuckDBPyConnection, model: Any = None) -> pl.DataFrame:
    """Stored runs (newest first), with whether each is stale."""
    if not store.table_exists(con, T_AXIS_RUNS) or _old_layout(con):
        if store.table_exists(con, T_AXIS_RUNS):  # the anchor-based layout: every run is stale
            rows = con.execute(f"SELECT model, anchors_version, n_scored, created_at FROM {T_AXIS_RUNS}").fetchall()
            return pl.DataFrame(
                [(m, v, None, "anchors", PROJECT_LABELS, n, c, True) for m, v, n, c in rows],
                schema=_RUN_COLUMNS,
                orient="row",
            ).filter(pl.lit(model is None) | (pl.col("model") == (model_key(model) if model else "")))
        return pl.DataFrame(schema=_RUN_COLUMNS)
    where, params = ("WHERE model = ?", [model_key(model)]) if model is not None else ("", [])
    df = store.query_pl(
        con,
        f"SELECT model, axes_version, labels_version, method_version, labels_source, n_scored, created_at "
        f"FROM {T_AXIS_RUNS} {where} ORDER BY created_at DESC",
        params,
    )
    current = axes.default_axes_version()
    stale = (pl.col("method_version") != axes.METHOD_VERSION) | (
        (pl.col("labels_source") == PROJECT_LABELS) & (pl.col("axes_version") != current)
    )
    return df.with_columns(stale.alias("stale")).cast(_RUN_COLUMNS)


def current_run(con: duckdb.DuckDBPyConnection, model: Any = None) -> tuple[str, str] | None:
    """(model, axes_version) to read: for ``model`` (default: the default model if it has runs, else the newest
    scored model) the newest run that is not stale; None when there is none."""
    runs = axis_runs(con)
    if not runs.height:
        return None
    if model is None:
        models = runs["model"].to_list()
        key = DEFAULT_MODEL if DEFAULT_MODEL in models else models[0]
    else:
        key = model_key(model)
    live = runs.filter((pl.col("model") == key) & ~pl.col("stale"))
    return (key, live["axes_version"][0]) if live.height else None


def stale_versions(con: duckdb.DuckDBPyConnection, model: Any = None) -> list[str]:
    """Stored axis versions of ``model`` made by another method or an older version of the project's labels."""
    runs = axis_runs(con, model if model is not None else DEFAULT_MODEL)
    return runs.filter(pl.col("stale"))["axes_version"].to_list()


def load_axis_scores(
    con: duckdb.DuckDBPyConnection, model: Any = None, axes_version: str | None = None
) -> pl.DataFrame:
    """Coordinates of the current run: DataFrame(text_hash, self_expression, secular); empty when none. Texts the
    background embedding job has placed (its shards, analysis.pipeline.shards) are included: those of the current
    run's version, or of the project's axes when nothing has been scored in the database yet."""
    run = (model_key(model), axes_version) if axes_version else current_run(con, model)
    if run is None:
        key = model_key(model if model is not None else DEFAULT_MODEL)
        return shards.score_frame(con, key, axes.default_axes_version()).cast(axes.SCORE_COLUMNS)
    stored = pl.DataFrame(schema=axes.SCORE_COLUMNS)
    if store.table_exists(con, T_AXIS_SCORES):
        stored = store.query_pl(
            con,
            f"SELECT text_hash, {axes.AXIS_X}, {axes.AXIS_Y} FROM {T_AXIS_SCORES} WHERE model = ? AND axes_version = ?",
            list(run),
        ).cast(axes.SCORE_COLUMNS)
    extra = shards.score_frame(con, run[0], run[1]).cast(axes.SCORE_COLUMNS)
    if not extra.height:
        return stored
    return pl.concat([stored, extra.join(stored.select("text_hash"), on="text_hash", how="anti")])


def load_axis_validity(
    con: duckdb.DuckDBPyConnection, model: Any = None, axes_version: str | None = None
) -> pl.DataFrame:
    """Stored held-out accuracy of the current run (VALIDITY_COLUMNS); empty when none was written."""
    run = (model_key(model), axes_version) if axes_version else current_run(con, model)
    if run is None or not store.table_exists(con, T_AXIS_VALIDITY):
        return pl.DataFrame(schema=axes.VALIDITY_COLUMNS)
    df = store.query_pl(
        con,
        f"SELECT axis, scheme, language, n, correct, accuracy, ci_low, ci_high, flagged FROM {T_AXIS_VALIDITY} "
        "WHERE model = ? AND axes_version = ?",
        list(run),
    ).cast(axes.VALIDITY_COLUMNS)
    return sort_validity(df)


def sort_validity(df: pl.DataFrame) -> pl.DataFrame:
    order = {a: i for i, a in enumerate(axes.AXIS_ORDER)}
    schemes = {s: i for i, s in enumerate(axes.SCHEMES)}
    langs = {l: i for i, l in enumerate((*schema.LANGUAGES, axes.ALL))}
    return df.sort(
        pl.col("axis").replace_strict(order, default=9),
        pl.col("scheme").replace_strict(schemes, default=9),
        pl.col("language").replace_strict(langs, default=8),
    )


def stored_fit(con: duckdb.DuckDBPyConnection, model: Any = None) -> axes.AxisModel | None:
    """The fit behind the current run (to place new texts exactly as the stored ones)."""
    run = current_run(con, model)
    if run is None:
        return None
    rows = con.execute(f"SELECT fit FROM {T_AXIS_RUNS} WHERE model = ? AND axes_version = ?", list(run)).fetchall()
    return axes.AxisModel.from_json(json.loads(rows[0][0])) if rows and rows[0][0] else None
