"""The pipeline's steps, written once: their order, what readiness reports, and one run through them (real model)."""

from __future__ import annotations

import json

import duckdb
import pytest

from analysis.__main__ import main
from analysis.pipeline import project, steps
from analysis.pipeline.models import DEFAULT_MODEL
from tests.helpers import make_small_db

pytestmark = pytest.mark.slow


def test_the_order_is_embed_score_project_and_readiness_lists_it_that_way(demo_db):
    assert [s.name for s in steps.STEPS] == ["embed", "score", "project"]
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        ready = steps.readiness(con, None, "DB")
    finally:
        con.close()
    assert ready.model == DEFAULT_MODEL and ready.n_embedded == 0 and not ready.can_plane
    assert ready.commands == (
        "python -m analysis embed --db DB",
        "python -m analysis axes score-db --db DB",
        "python -m analysis project --db DB",
    )
    assert steps.command_line(steps.STEPS[0], "X", "some/model") == "python -m analysis embed --db X --model some/model"


def test_run_steps_completes_the_pipeline_and_a_rerun_reuses_it(demo_db, tmp_path):
    db = make_small_db(demo_db, tmp_path / "small.duckdb")
    said: list[str] = []
    out = steps.run_steps(db, fit_map=False, progress=said.append)
    assert out["project"] is None  # an upload never fits a map
    assert said == [steps.STEPS[0].doing, steps.STEPS[1].doing]
    out = steps.run_steps(db)
    assert out["embed"]["embedded"] == 0 and out["project"]["fitted"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        ready = steps.readiness(con)
        assert ready.commands == () and ready.can_plane and ready.can_umap
        assert project.load_projection(con).height == ready.n_projected
    finally:
        con.close()
    again = steps.run_steps(db)
    assert not again["project"]["fitted"] and again["embed"]["embedded"] == 0


def test_cli_prepare(demo_db, tmp_path, capsys):
    db = make_small_db(demo_db, tmp_path / "small.duckdb")
    assert main(["prepare", "--db", str(db), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"embed", "score", "project"} and out["project"]["n_points"] > 0
    assert main(["prepare", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert "no database" in capsys.readouterr().err
