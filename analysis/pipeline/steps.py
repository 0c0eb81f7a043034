"""The pipeline after ingest, written once: embed the texts, score them on the value axes, map them with UMAP.

Everything that runs the steps goes through this list: the CLI (``python -m analysis prepare``, which the Makefile's
demo target calls), the Values map's "Run these steps now" button, and the LLM upload (which places its answers on
an existing map but never fits a new one). Each step reuses what is stored, so a rerun costs seconds.
``readiness`` says how far the pipeline has run for a model and lists, in this order, the commands that would
complete it; it never computes anything itself. Scores made by another method or an older version of the
project's labelled statements are stale: they count as missing (``axes score-db`` is listed) until the pipeline
recomputes them; a page never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from analysis import schema, store
from analysis.pipeline import axes_store, embed, project
from analysis.pipeline.models import DEFAULT_MODEL, model_key

Say = Callable[[str], Any]


@dataclass(frozen=True)
class Step:
    name: str
    command: str  # the CLI command that runs it alone: python -m analysis <command> --db PATH
    doing: str  # what a progress display says while it runs


STEPS: tuple[Step, ...] = (
    Step("embed", "embed", "Embedding the texts not embedded yet (the cache skips the rest)…"),
    Step("score", "axes score-db", "Scoring the texts on the value axes…"),
    Step("project", "project", "Placing the texts on the UMAP map (fitted once; later texts placed by transform)…"),
)


def command_line(step: Step, db_label: str, model: str) -> str:
    model_arg = "" if model == DEFAULT_MODEL else f" --model {model}"
    return f"python -m analysis {step.command} --db {db_label}{model_arg}"


@dataclass(frozen=True)
class Readiness:
    """How much of the pipeline has run for one embedding model, and the commands that would complete it."""

    model: str
    n_candidates: int
    n_embedded: int  # candidates with a stored vector
    n_scored: int  # candidates with stored axis scores
    n_projected: int  # points in the stored UMAP projection
    n_llm: int  # rows in llm_responses
    n_llm_scored: int
    commands: tuple[str, ...]
    stale: tuple[str, ...] = ()  # stored axis versions that are out of date (recomputed by the score step)

    @property
    def can_plane(self) -> bool:
        return self.n_scored > 0

    @property
    def can_umap(self) -> bool:
        return self.n_projected > 0


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return int(store.scalar(con, sql, params) or 0)


def _scored_counts(con: duckdb.DuckDBPyConnection, scored: pl.DataFrame) -> tuple[int, int]:
    """(candidates, LLM answers) among the scored text hashes."""
    if not scored.height:
        return 0, 0
    con.register("_steps_scored", scored)
    try:
        n_scored = _count(
            con, f"SELECT count(*) FROM {schema.T_CANDIDATES} c SEMI JOIN _steps_scored s USING (text_hash)"
        )
        n_llm_scored = 0
        if store.table_exists(con, schema.T_LLM_RESPONSES):
            n_llm_scored = _count(
                con, f"SELECT count(*) FROM {schema.T_LLM_RESPONSES} r SEMI JOIN _steps_scored s USING (text_hash)"
            )
    finally:
        con.unregister("_steps_scored")
    return n_scored, n_llm_scored


def readiness(con: duckdb.DuckDBPyConnection, model: str | None = None, db_label: str = "PATH") -> Readiness:
    """Counts of what is stored for ``model`` (default: the project's default model) and the commands, in the order
    of STEPS, that would fill what is missing."""
    key = model_key(model) if model else DEFAULT_MODEL
    n_cand = _count(con, f"SELECT count(*) FROM {schema.T_CANDIDATES}")
    n_emb = 0
    if store.table_exists(con, schema.T_EMBEDDINGS):
        n_emb = _count(
            con,
            f"SELECT count(*) FROM {schema.T_CANDIDATES} c SEMI JOIN {schema.T_EMBEDDINGS} e "
            "ON e.text_hash = c.text_hash AND e.model = ?",
            [key],
        )
    n_scored, n_llm_scored = _scored_counts(con, axes_store.load_axis_scores(con, key).select("text_hash"))
    n_llm = (
        _count(con, f"SELECT count(*) FROM {schema.T_LLM_RESPONSES}")
        if store.table_exists(con, schema.T_LLM_RESPONSES)
        else 0
    )
    n_proj = project.load_projection(con, key).height
    llm_behind = n_llm_scored < n_llm
    missing = {"embed": n_emb < n_cand or llm_behind, "score": n_scored < n_cand or llm_behind, "project": n_proj == 0}
    cmds = tuple(command_line(step, db_label, key) for step in STEPS if missing[step.name])
    stale = tuple(axes_store.stale_versions(con, key)) if n_scored < n_cand else ()
    return Readiness(key, n_cand, n_emb, n_scored, n_proj, n_llm, n_llm_scored, cmds, stale)


def _run_step(step: Step, db_path: str | Path, model: str | None, embed_progress: Any, cli: bool) -> Any:
    if step.name == "embed":
        return embed.embed_db(db_path, model=model, progress=embed_progress)
    if step.name == "score":
        return axes_store.score_db(db_path, model=model, progress=True if cli else None)
    return project.project_db(db_path, model=model, progress=cli)


def _has_projection(db_path: str | Path, model: str | None) -> bool:
    con = store.connect(db_path, read_only=True)
    try:
        return project.load_projection(con, model).height > 0
    finally:
        con.close()


def run_steps(
    db_path: str | Path,
    model: str | None = None,
    progress: Say | None = None,
    embed_progress: Any = None,
    fit_map: bool = True,
    cli: bool = False,
) -> dict[str, Any]:
    """Run STEPS in order on the database; returns {step name: its summary}. ``progress(message)`` is told what
    each step is doing; ``embed_progress`` goes to the embedding (True: a progress bar, a callable: (done, total)).
    ``fit_map=False`` (an upload of LLM answers) places new texts on a stored map but fits none."""
    say = progress or (lambda _msg: None)
    out: dict[str, Any] = {}
    for step in STEPS:
        if step.name == "project" and not fit_map and not _has_projection(db_path, model):
            out[step.name] = None
            continue
        say(step.doing)
        out[step.name] = _run_step(step, db_path, model, embed_progress, cli)
    return out
