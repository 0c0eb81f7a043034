"""The demo's shipped embeddings and map (analysis/content/demo/) stay in step with the demo generator and the model:
a fresh default demo loads them and every step of the pipeline is then done; anything else loads nothing."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import store
from analysis.pipeline import demo_artifacts, embed, steps
from analysis.pipeline.demo import build_demo
from analysis.pipeline.models import DEFAULT_MODEL

REWRITE = "python -m analysis demo --write-artifacts --db /tmp/demo.duckdb"


@pytest.fixture(scope="module")
def fresh_demo(tmp_path_factory):
    db = tmp_path_factory.mktemp("shipped") / "demo.duckdb"
    build_demo(db, derived=True)
    return db


def test_the_shipped_artifacts_match_the_demo_generator(fresh_demo):
    meta = demo_artifacts.shipped_meta()
    assert meta is not None, f"no shipped demo artifacts for {DEFAULT_MODEL}: run `{REWRITE}`"
    con = store.connect(fresh_demo)
    try:
        digest = demo_artifacts.texts_digest(con)
    finally:
        con.close()
    assert digest == meta["texts_digest"], (
        f"the demo generator and the shipped artifacts drifted apart: run `{REWRITE}`"
    )


def test_a_fresh_demo_has_every_step_done_without_embedding(fresh_demo):
    con = store.connect(fresh_demo)
    try:
        ready = steps.readiness(con)
        n_texts = store.scalar(con, f"SELECT count(*) FROM ({store.text_hashes_sql(con)})")
        assert ready.commands == () and ready.n_embedded == ready.n_scored == ready.n_candidates
        assert ready.n_projected == n_texts and ready.n_llm_scored == ready.n_llm > 0
        hashes = store.embedded_hashes(con, DEFAULT_MODEL)[:5]
        stored = store.load_vectors(con, DEFAULT_MODEL, hashes)
        texts = dict(con.execute(f"SELECT text_hash, text FROM ({store.text_sources_sql(con)})").fetchall())
    finally:
        con.close()
    fresh = embed.embed_texts([texts[h] for h in hashes])  # the model itself: the shipped vectors are its own
    assert np.all(np.sum(fresh * stored, axis=1) > 0.999)


def test_another_demo_loads_nothing_and_the_pipeline_stays_to_run(tmp_path):
    db = tmp_path / "small.duckdb"
    build_demo(db, conversations=60, derived=True)
    con = store.connect(db)
    try:
        ready = steps.readiness(con)
    finally:
        con.close()
    assert ready.n_embedded == 0 and any("embed" in c for c in ready.commands)
    assert demo_artifacts.load(db)["reason"] == "the database's texts are not the default demo's"
