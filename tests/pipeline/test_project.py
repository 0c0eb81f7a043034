"""The stored UMAP projection: fitted once, reused, new texts placed with transform, never refitted unasked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from analysis.pipeline import embed, models, project
from tests.helpers import add_candidates, make_small_db

N_CANDIDATES = 30
N_PROMPTS = 6
KW = {"n_neighbors": 5, "min_dist": 0.1, "seed": 7, "progress": None}


@pytest.fixture(scope="module")
def embedded_template(demo_db, tmp_path_factory) -> Path:
    db = make_small_db(demo_db, tmp_path_factory.mktemp("proj") / "small.duckdb", N_CANDIDATES, N_PROMPTS)
    embed.embed_db(db, batch_size=16, progress=None)
    return db


@pytest.fixture()
def db(embedded_template, tmp_path) -> Path:
    return Path(shutil.copy(embedded_template, tmp_path / "small.duckdb"))


def read(db: Path, sql: str, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def forbid_fit(monkeypatch) -> None:
    """From here on any UMAP fit fails loudly (transform stays available)."""
    import umap

    def refuse(self, *a, **k):
        raise AssertionError("UMAP was fitted again")

    monkeypatch.setattr(umap.UMAP, "fit", refuse)
    monkeypatch.setattr(umap.UMAP, "fit_transform", refuse)


def test_projection_is_fitted_once_stored_with_its_parameters_and_reused(db, monkeypatch):
    first = project.project_db(db, **KW)
    assert first["fitted"] and first["n_fit"] == N_CANDIDATES + N_PROMPTS == first["n_points"]
    assert first["placed"] == 0
    ((model, params, n_points, blob_len),) = read(
        db, "SELECT model, params::VARCHAR, n_points, octet_length(umap_model) FROM projections"
    )
    assert model == models.DEFAULT_MODEL and n_points == first["n_points"] and blob_len > 0
    assert json.loads(params) == {
        "n_neighbors": 5,
        "min_dist": 0.1,
        "seed": 7,
        "metric": "cosine",
        "n_components": 2,
        "fit_sample": project.DEFAULT_FIT_SAMPLE,
    }

    con = duckdb.connect(str(db), read_only=True)
    pts = project.load_projection(con)
    info = project.projection_info(con)
    con.close()
    assert pts.columns == ["text_hash", "x", "y"] and pts.height == first["n_points"]
    assert np.isfinite(pts["x"].to_numpy()).all() and pts["x"].std() > 0
    assert info["projection_id"] == first["projection_id"] and info["params"]["n_neighbors"] == 5

    forbid_fit(monkeypatch)
    second = project.project_db(db, **KW)
    assert not second["fitted"] and second["placed"] == 0
    assert second["projection_id"] == first["projection_id"]
    assert read(db, "SELECT count(*) FROM projections")[0][0] == 1
    con = duckdb.connect(str(db), read_only=True)
    again = project.load_projection(con)
    con.close()
    assert again.equals(pts)


def test_new_texts_placed_by_transform(db, monkeypatch):
    first = project.project_db(db, **KW)
    con = duckdb.connect(str(db), read_only=True)
    before = project.load_projection(con)
    con.close()

    con = duckdb.connect(str(db), read_only=True)
    near = con.execute("SELECT text FROM candidates ORDER BY text_hash LIMIT 3").fetchall()
    con.close()
    new_texts = [t + " (asked again)" for (t,) in near]
    new_hashes = add_candidates(db, new_texts)
    assert embed.embed_db(db, batch_size=16, progress=None)["embedded"] == 3

    forbid_fit(monkeypatch)
    second = project.project_db(db, **KW)
    assert not second["fitted"] and second["placed"] == 3
    assert second["n_points"] == first["n_points"] + 3

    con = duckdb.connect(str(db), read_only=True)
    after = project.load_projection(con)
    con.close()
    old = after.filter(pl.col("text_hash").is_in(before["text_hash"].to_list()))
    assert old.equals(before)  # nothing fitted before moved
    placed = after.filter(pl.col("text_hash").is_in(new_hashes))
    assert placed.height == 3 and np.isfinite(placed["x"].to_numpy()).all()
    assert read(db, "SELECT count(*) FROM projection_points WHERE NOT fitted")[0][0] == 3
    # inside the map's extent (transform places near similar texts, it does not invent new space)
    span = lambda c: (before[c].min(), before[c].max())
    for c in ("x", "y"):
        lo, hi = span(c)
        pad = (hi - lo) * 0.5
        assert placed[c].min() >= lo - pad and placed[c].max() <= hi + pad

    third = project.project_db(db, **KW)
    assert not third["fitted"] and third["placed"] == 0


def test_refit_and_other_parameters_make_a_new_projection(db):
    first = project.project_db(db, **KW)
    refit = project.project_db(db, **{**KW, "progress": None}, refit=True)
    assert refit["fitted"] and refit["projection_id"] != first["projection_id"]
    other = project.project_db(db, **{**KW, "n_neighbors": 8})
    assert other["fitted"] and other["projection_id"] not in (first["projection_id"], refit["projection_id"])
    # the latest projection of the model is what load_projection returns
    con = duckdb.connect(str(db), read_only=True)
    assert project.projection_info(con)["projection_id"] == other["projection_id"]
    con.close()


def test_no_projection_gives_an_empty_frame_and_missing_embeddings_a_clear_error(demo_db, tmp_path):
    db = make_small_db(demo_db, tmp_path / "bare.duckdb", 10, 2)
    con = duckdb.connect(str(db), read_only=True)
    empty = project.load_projection(con)
    con.close()
    assert empty.height == 0 and empty.columns == ["text_hash", "x", "y"]
    with pytest.raises(LookupError, match="python -m analysis embed"):
        project.project_db(db, **KW)


def test_cli_project(db, capsys):
    from analysis.__main__ import main

    assert main(["project", "--db", str(db), "--n-neighbors", "5", "--seed", "3", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["fitted"] and summary["n_points"] == N_CANDIDATES + N_PROMPTS
    assert main(["project", "--db", str(db), "--n-neighbors", "5", "--seed", "3"]) == 0
    assert "reused (no refit)" in capsys.readouterr().out
    assert main(["project", "--db", str(db), "--n-neighbors", "1"]) == 2
    assert "n_neighbors" in capsys.readouterr().err


def test_the_reducer_is_fitted_on_a_seeded_sample_and_the_rest_placed_in_committed_batches(db, monkeypatch):
    monkeypatch.setattr(project, "PLACE_BATCH", 5)
    first = project.project_db(db, **KW, fit_sample=20)
    total = N_CANDIDATES + N_PROMPTS
    assert first["fitted"] and first["n_fit"] == 20 and first["placed"] == total - 20 == 16
    assert read(db, "SELECT fitted, count(*) FROM projection_points GROUP BY 1 ORDER BY 1") == [(False, 16), (True, 20)]
    fitted = {h for (h,) in read(db, "SELECT text_hash FROM projection_points WHERE fitted")}
    # the same data and seed draw the same sample
    again = Path(shutil.copy(db, db.with_name("again.duckdb")))
    con = duckdb.connect(str(again))
    con.execute("DELETE FROM projection_points")
    con.execute("DELETE FROM projections")
    con.close()
    project.project_db(again, **KW, fit_sample=20)
    assert {h for (h,) in read(again, "SELECT text_hash FROM projection_points WHERE fitted")} == fitted
    # a run stopped after some batches resumes: what is missing is placed, nothing is fitted again
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM projection_points WHERE NOT fitted AND text_hash IN "
                "(SELECT text_hash FROM projection_points WHERE NOT fitted ORDER BY text_hash LIMIT 7)")  # fmt: skip
    con.close()
    forbid_fit(monkeypatch)
    resumed = project.project_db(db, **KW, fit_sample=20)
    assert not resumed["fitted"] and resumed["placed"] == 7 and resumed["n_points"] == total
    # a different sample size is a different projection
    monkeypatch.undo()
    other = project.project_db(db, **KW, fit_sample=25)
    assert other["fitted"] and other["projection_id"] != first["projection_id"] and other["n_fit"] == 25


def test_a_sample_too_small_for_the_neighbours_is_refused(db):
    with pytest.raises(ValueError, match="fit_sample"):
        project.project_db(db, **KW, fit_sample=3)
