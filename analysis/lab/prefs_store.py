"""Preference-model runs in the database: computed once by ``python -m analysis prefs``, stored with the parameters
that made them, read by the page (which never fits anything).

One run per (embedding model, grouping, filters): a new run with other parameters replaces it; the same parameters on
the same choices are reused unless ``refit``. Tables (names in ``analysis.schema``): ``pref_runs`` (the parameters and
a summary), ``pref_scores``, ``pref_weights``, ``pref_readings`` and ``pref_examples`` (see docs/tables.md).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.filters import Filters
from analysis.lab import preferences
from analysis.lab.prefs_data import load_choices
from analysis.pipeline.models import model_key

RUNS, SCORES, WEIGHTS = schema.T_PREF_RUNS, schema.T_PREF_SCORES, schema.T_PREF_WEIGHTS
READINGS, EXAMPLES = schema.T_PREF_READINGS, schema.T_PREF_EXAMPLES
TABLES = (RUNS, SCORES, WEIGHTS, READINGS, EXAMPLES)

_DDL = {
    RUNS: "run_id INTEGER PRIMARY KEY, model VARCHAR NOT NULL, grouping VARCHAR NOT NULL, filters VARCHAR NOT NULL, "
    "params VARCHAR NOT NULL, summary VARCHAR NOT NULL, created_at TIMESTAMP",
    SCORES: "run_id INTEGER NOT NULL, split INTEGER, model VARCHAR, is_pooled BOOLEAN, lam DOUBLE, n_train BIGINT, "
    "n_train_people INTEGER, test_group VARCHAR, n_test BIGINT, n_test_people INTEGER, accuracy DOUBLE, auc DOUBLE, "
    "log_loss DOUBLE",
    WEIGHTS: "run_id INTEGER NOT NULL, split INTEGER, model VARCHAR, is_pooled BOOLEAN, lam DOUBLE, iterations INTEGER, "
    "converged BOOLEAN, lam_path VARCHAR, weights FLOAT[], axis_weights DOUBLE[], position DOUBLE[]",
    READINGS: "run_id INTEGER NOT NULL, split INTEGER, model VARCHAR, is_pooled BOOLEAN, lam DOUBLE, texts_of VARCHAR, "
    f"{schema.AXIS_X} DOUBLE, {schema.AXIS_Y} DOUBLE, n_texts INTEGER",
    EXAMPLES: "run_id INTEGER NOT NULL, grp VARCHAR, direction VARCHAR, rank INTEGER, text_hash VARCHAR, "
    f"pct_own DOUBLE, pct_pooled DOUBLE, n_shown INTEGER, n_chosen INTEGER, {schema.AXIS_X} DOUBLE, "
    f"{schema.AXIS_Y} DOUBLE",
}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in _DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")


def filters_key(filters: Filters) -> str:
    """The filters as stored: their URL parameters as sorted JSON ('{}' for none)."""
    return json.dumps(filters.to_query_params(), sort_keys=True)


def _params_json(config: preferences.PrefsConfig) -> str:
    return json.dumps(config.params(), sort_keys=True)


# ------------------------------------------------------------------------------------------------ writing
def _weights_frame(weights: pl.DataFrame) -> pl.DataFrame:
    """Vectors as plain lists and the L2 path as JSON, the way the table holds them."""
    return weights.with_columns(
        pl.Series("lam_path", [json.dumps(p) for p in weights["lam_path"].to_list()], dtype=pl.String),
        pl.Series("weights", [np.asarray(w, dtype=np.float32).tolist() for w in weights["weights"]],
                  dtype=pl.List(pl.Float32)),
        pl.Series("axis_weights", [np.asarray(w, dtype=float).tolist() for w in weights["axis_weights"]],
                  dtype=pl.List(pl.Float64)),
        pl.Series("position", [np.asarray(w, dtype=float).tolist() for w in weights["position"]],
                  dtype=pl.List(pl.Float64)),
    )  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection, table: str, run_id: int, frame: pl.DataFrame) -> None:
    if not frame.height:
        return
    columns = [c.split()[0] for c in _DDL[table].split(", ")][1:]
    frame = frame.rename({"group": "grp"}) if "group" in frame.columns else frame
    con.register("_cae_prefs", frame.select(columns))
    try:
        con.execute(f"INSERT INTO {table} SELECT ?, {', '.join(columns)} FROM _cae_prefs", [run_id])
    finally:
        con.unregister("_cae_prefs")


def write_run(con: duckdb.DuckDBPyConnection, result: preferences.PrefsResult) -> int:
    """Store a run, replacing the earlier one of the same (model, grouping, filters), in one transaction."""
    ensure_tables(con)
    key = [result.model, result.config.grouping, filters_key(result.filters)]
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    with store.transaction(con):
        old = [r[0] for r in con.execute(f"SELECT run_id FROM {RUNS} WHERE model=? AND grouping=? AND filters=?", key)
               .fetchall()]  # fmt: skip
        for table in TABLES:
            for run_id in old:
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        run_id = int(store.scalar(con, f"SELECT coalesce(max(run_id), 0) + 1 FROM {RUNS}"))
        con.execute(
            f"INSERT INTO {RUNS} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [run_id, *key, _params_json(result.config), json.dumps(result.summary), now],
        )
        _insert(con, SCORES, run_id, result.scores)
        _insert(con, WEIGHTS, run_id, _weights_frame(result.weights))
        _insert(con, READINGS, run_id, result.readings)
        _insert(con, EXAMPLES, run_id, result.examples)
    return run_id


# ------------------------------------------------------------------------------------------------ reading
def runs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every stored run: run_id, model, grouping, filters, params, summary (JSON text), created_at."""
    if not store.table_exists(con, RUNS):
        return pl.DataFrame(
            schema={"run_id": pl.Int32, "model": pl.String, "grouping": pl.String, "filters": pl.String,
                    "params": pl.String, "summary": pl.String, "created_at": pl.Datetime}
        )  # fmt: skip
    return store.query_pl(con, f"SELECT * FROM {RUNS} ORDER BY created_at DESC, run_id DESC")


def find_run(con: duckdb.DuckDBPyConnection, model: Any, grouping: str, filters: Filters) -> dict | None:
    """The stored run of (model, grouping, filters) as a dict (params and summary parsed), or None."""
    key = [model_key(model), grouping, filters_key(filters)]
    found = runs(con).filter(
        (pl.col("model") == key[0]) & (pl.col("grouping") == key[1]) & (pl.col("filters") == key[2])
    )
    if not found.height:
        return None
    row = found.row(0, named=True)
    return row | {"params": json.loads(row["params"]), "summary": json.loads(row["summary"]),
                  "filters": json.loads(row["filters"])}  # fmt: skip


def _frame(con: duckdb.DuckDBPyConnection, table: str, run_id: int, order: str) -> pl.DataFrame:
    return store.query_pl(con, f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? ORDER BY {order}", [run_id])


@dataclass(frozen=True)
class StoredRun:
    run: dict
    scores: pl.DataFrame
    readings: pl.DataFrame
    examples: pl.DataFrame  # with the full text of each example (column ``text``)


def load_run(con: duckdb.DuckDBPyConnection, model: Any, grouping: str, filters: Filters) -> StoredRun | None:
    """What the page and the CLI show: the run's record, scores, readings and examples with their texts."""
    run = find_run(con, model, grouping, filters)
    if run is None:
        return None
    rid = run["run_id"]
    examples = store.query_pl(
        con,
        f"SELECT e.* EXCLUDE (run_id), c.text FROM {EXAMPLES} e LEFT JOIN {schema.T_CANDIDATES} c USING (text_hash) "
        "WHERE e.run_id = ? ORDER BY e.grp, e.direction DESC, e.rank",
        [rid],
    ).rename({"grp": "group"})
    return StoredRun(
        run,
        _frame(con, SCORES, rid, "split, is_pooled DESC, model, test_group"),
        _frame(con, READINGS, rid, "split, is_pooled DESC, model, texts_of"),
        examples,
    )


def stored_runs_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One line per stored run: model, grouping, filters, splits, dims, comparisons, people, when."""
    out = []
    for row in runs(con).iter_rows(named=True):
        p, s = json.loads(row["params"]), json.loads(row["summary"])
        out.append({"model": row["model"], "grouping": row["grouping"], "filters": row["filters"],
                    "splits": p.get("splits"), "dims": p.get("dims"), "features": p.get("features"),
                    "comparisons": s.get("n_comparisons"), "people": s.get("n_people"),
                    "fit_seconds": s.get("fit_seconds"), "created_at": row["created_at"]})  # fmt: skip
    if not out:
        return pl.DataFrame(schema={"model": pl.String, "grouping": pl.String, "filters": pl.String})
    return pl.DataFrame(out)


# ------------------------------------------------------------------------------------------------ the command
def axis_digest(scores: np.ndarray) -> str:
    """A short fingerprint of the axis coordinates a run read (they may be re-scored later)."""
    return hashlib.sha1(np.ascontiguousarray(np.nan_to_num(scores, nan=-999.0)).tobytes()).hexdigest()[:12]


def prefs_db(
    db_path: str | Path | duckdb.DuckDBPyConnection,
    config: preferences.PrefsConfig,
    model: Any = None,
    filters: Filters | None = None,
    refit: bool = False,
    progress: Callable[[int, int], object] | None = None,
    threads: int | None = 1,
) -> dict:
    """Fit (or reuse) and store the run of (model, grouping, filters). Returns {"run_id", "reused", "seconds"}."""
    filters = filters or Filters()
    con, owned = store.open_db(db_path)
    try:
        start = _dt.datetime.now()
        data = load_choices(con, config.grouping, filters, model)
        stored = find_run(con, data.model, config.grouping, filters)
        same = (
            stored is not None
            and stored["params"] == json.loads(_params_json(config))
            and stored["summary"].get("n_comparisons") == data.n
            and stored["summary"].get("axis_digest") == axis_digest(data.axis_scores)
        )
        if same and not refit:
            return {"run_id": stored["run_id"], "reused": True, "seconds": 0.0}
        result = preferences.fit_with_limits(data, config, filters, progress, threads)
        result.summary["axis_digest"] = axis_digest(data.axis_scores)
        run_id = write_run(con, result)
        return {"run_id": run_id, "reused": False, "seconds": (_dt.datetime.now() - start).total_seconds()}
    finally:
        if owned:
            con.close()


def command_line(db_label: str, grouping: str, model: Any = None, filters: Filters | None = None) -> str:
    """The CLI command that computes (or reuses) the run of (model, grouping, filters)."""
    key = model_key(model)
    parts = [f"python -m analysis prefs --db {db_label} --group {grouping}"]
    if key != model_key(None):
        parts.append(f"--model {key}")
    where = "&".join(f"{k}={v}" for k, v in (filters or Filters()).to_query_params().items())
    if where:
        parts.append(f"--where '{where}'")
    return " ".join(parts)
