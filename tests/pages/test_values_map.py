"""The Values map page, run headless with AppTest on a small demo taken through embed, axes score-db and project
(real model, real DuckDB files, no mocks)."""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from analysis.pipeline import axes_store, labels
from tests.values_fixtures import scored_demo_db, writable_copy  # noqa: F401  (session fixture)

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "values_map.py")
FINDINGS = "Findings from the sample placed so far"
pytestmark = pytest.mark.slow


def _app(db: Path, monkeypatch, **query) -> AppTest:
    monkeypatch.setenv("CAE_DB", str(db))
    at = AppTest.from_file(PAGE, default_timeout=300)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _texts(elements) -> str:
    """The elements' text as a reader sees it: Markdown escapes and code-span fences (ui.safe_text) undone."""
    text = " | ".join(str(e.value) for e in elements)
    return re.sub(r"\\(.)", r"\1", re.sub(r"(`+) (.*?) \1", r"\2", text))


def _metric(at: AppTest, label_start: str) -> str:
    for m in at.metric:
        if m.label.startswith(label_start):
            return m.value
    raise AssertionError(f"no metric {label_start!r}: {[m.label for m in at.metric]}")


def _dispersion(at: AppTest):
    for df in at.dataframe:
        if "kind" in df.value.columns and "mean_dist" in df.value.columns:
            return df.value
    raise AssertionError("the dispersion table is not on the page")


def test_page_shows_map_people_llms_dispersion_and_validity(scored_demo_db, monkeypatch):
    at = _app(scored_demo_db, monkeypatch)
    assert not at.exception, at.exception
    assert "Synthetic demo data" in _texts(at.warning)
    assert [s.value for s in at.subheader][:3] == [FINDINGS, "Candidate responses", "People and LLMs"]
    # the paper's figure sits next to the measured share, labelled as reported
    assert _metric(at, "Reported in the paper") == "41%"
    assert _metric(at, "Human choices in the LLM quadrant").endswith("%")
    # held-out accuracy per axis and language, with n, the interval, the flags, and the research's judge beside it
    shown = next(df.value for df in at.dataframe if "held out" in df.value.columns)
    assert {"English", "French", "Italian", "Portuguese", "Hindi", "all languages"} <= set(shown["language"])
    assert {"topics held out", "language held out", "other set held out", "the research's LLM judge"} == set(
        shown["held out"]
    )
    judge = shown[shown["held out"] == "the research's LLM judge"]
    assert sorted(judge["accuracy"].round(3)) == [0.783, 0.858]
    caption = _texts(at.caption)
    assert "85.8%" in caption and "78.3%" in caption and "Held-out accuracy" in caption
    assert "leave-one-out" not in caption.lower() and "anchor" not in caption.lower()
    con = duckdb.connect(str(scored_demo_db), read_only=True)
    try:
        stored = axes_store.load_axis_validity(con)
    finally:
        con.close()
    measured = shown[shown["held out"] != "the research's LLM judge"]
    assert len(measured) == stored.height and list(measured["accuracy"]) == stored["accuracy"].to_list()
    assert (measured["finding?"] != "yes").sum() == stored["flagged"].sum()
    flagged = stored.filter(pl.col("flagged") & (pl.col("scheme") == "topic"))
    errors = _texts(at.error)
    assert errors.count("reaches down to 60%") == flagged.height
    assert "trained on English only" not in _texts(at.warning)  # the default model reads all five languages
    # dispersion: people of the five countries, and the synthetic LLMs
    table = _dispersion(at)
    people = table[table["kind"].str.startswith("people")]
    assert set(people["group"]) == {"United States", "France", "Italy", "Brazil", "India"}
    llm_rows = table[table["group"].str.startswith("synthetic-model-")]
    assert len(llm_rows) == 5
    # nothing to run: the pipeline is complete
    assert "python -m analysis" not in _texts(at.info) + _texts(at.error)


def test_view_colour_and_frame_come_from_the_url(scored_demo_db, monkeypatch):
    at = _app(scored_demo_db, monkeypatch, vm_view="UMAP", vm_color="Country", vm_frame="Mean chosen")
    assert not at.exception, at.exception
    assert at.segmented_control(key="vm_view").value == "UMAP"
    assert at.segmented_control(key="vm_color").value == "Country"
    assert "No UMAP map is stored" not in _texts(at.info)
    table = _dispersion(at)
    assert (table["kind"] == "people: mean chosen position").any()
    at.segmented_control(key="vm_render").set_value("Density").run()
    assert not at.exception, at.exception
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any('"type":"heatmap"' in s.replace(" ", "") for s in specs)  # binned on the server, not raw points


def test_missing_pipeline_names_the_commands(demo_db, monkeypatch):
    """(That the page loads no model is checked in a fresh interpreter: tests/pages/test_dashboard_pages.py.)"""
    at = _app(demo_db, monkeypatch)
    assert not at.exception, at.exception
    shown = _texts(at.code)
    for cmd in (
        "python -m analysis embed --db",
        "python -m analysis axes score-db --db",
        "python -m analysis project --db",
    ):
        assert cmd in shown
    assert [s.value for s in at.subheader] == [FINDINGS]  # nothing drawn from missing data, only the placed share
    assert "No comparison has all its texts placed yet" in _texts(at.info)


def _csv(rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["model", "prompt", "response"])
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _llm_rows(db: Path):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT * FROM llm_responses ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_bad_upload_is_explained_and_loads_nothing(scored_demo_db, tmp_path, monkeypatch):
    db = writable_copy(scored_demo_db, tmp_path)
    before = _llm_rows(db)
    at = _app(db, monkeypatch)
    at.file_uploader(key="vm_upload").upload(
        "answers.csv", _csv([["m", "Not a prompt of this dataset", "An answer"]]), "text/csv"
    )
    at.run()
    assert not at.exception, at.exception
    errors = _texts(at.error)
    assert "prompt is not one of this dataset's prompts (row 2)" in errors
    assert "Nothing was loaded" in errors
    assert not [b for b in at.button if b.key == "vm_load"]
    assert _llm_rows(db) == before


def test_upload_is_loaded_embedded_scored_and_placed(scored_demo_db, tmp_path, monkeypatch):
    db = writable_copy(scored_demo_db, tmp_path)
    con = duckdb.connect(str(db), read_only=True)
    prompts = [r[0] for r in con.execute("SELECT text FROM prompts ORDER BY n_comparisons DESC LIMIT 3").fetchall()]
    con.close()
    answers = [
        ["my-model", prompts[0], "Respect your elders and keep the family traditions; faith should guide this choice."],
        ["my-model", prompts[1], "Security first: protect what you have and be careful whom you trust."],
        [
            "my-model",
            prompts[2],
            "Follow what your parents and your religion teach; duty comes before personal wishes.",
        ],
    ]
    at = _app(db, monkeypatch)
    at.file_uploader(key="vm_upload").upload("mine.csv", _csv(answers), "text/csv")
    at.run()
    assert not at.exception, at.exception
    assert "3 answers pass the checks: my-model (3)" in _texts(at.success)
    at.button(key="vm_load").click().run()
    assert not at.exception, at.exception
    table = _dispersion(at)
    assert "my-model" in set(table["group"])
    con = duckdb.connect(str(db), read_only=True)
    try:
        n_scored = con.execute(
            "SELECT count(*) FROM llm_responses r JOIN axis_scores s USING (text_hash) WHERE r.model = 'my-model'"
        ).fetchall()[0][0]
        synthetic = con.execute("SELECT bool_or(synthetic) FROM llm_responses WHERE model = 'my-model'").fetchall()[0][
            0
        ]
    finally:
        con.close()
    assert n_scored >= 3 and synthetic is False


def test_editing_labelled_statements_refits_revalidates_and_rescores_without_reembedding(scored_demo_db, monkeypatch):
    at = _app(scored_demo_db, monkeypatch)
    before = _dispersion(at)
    before_table = next(df.value for df in at.dataframe if "held out" in df.value.columns)
    area = at.text_area(key="vm_labels_secular_en")
    traditional = at.text_area(key="vm_labels_traditional_en").value.splitlines()[0]
    # the same statement under both poles: a clear error, nothing changes
    area.set_value(area.value + "\n" + traditional)
    at.form_submit_button[0].click().run()
    assert "labelled both" in _texts(at.error)
    assert "edited labelled statements" not in _texts(at.info)
    # a real edit: keep the first twelve secular statements in English, add one without a topic
    at = _app(scored_demo_db, monkeypatch)
    area = at.text_area(key="vm_labels_secular_en")
    area.set_value("\n".join(area.value.splitlines()[:12] + ["Laws should follow evidence, not scripture."]))
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    assert "your edited labelled statements" in _texts(at.info)
    after = _dispersion(at)
    assert not after[["centroid_x", "centroid_y"]].equals(before[["centroid_x", "centroid_y"]])
    after_table = next(df.value for df in at.dataframe if "held out" in df.value.columns)
    english_y = (after_table["language"] == "English") & (after_table["axis"] == "traditional / secular-rational")
    project = labels.load_labels()
    n_traditional = project.filter((pl.col("language") == "en") & (pl.col("pole") == "traditional")).height
    assert set(after_table[english_y]["n"]) == {n_traditional + 13}  # the traditional ones, 13 secular ones now
    assert not after_table["accuracy"].equals(before_table["accuracy"])


def test_a_database_without_embeddings_can_be_completed_from_the_page(tmp_path, monkeypatch):
    """No shell (Streamlit Community Cloud): the page names the commands and offers to run them; after the click
    the map, the people and the LLMs are there, computed by the same functions as the CLI."""
    from analysis.pipeline.demo import build_demo

    db = tmp_path / "bare.duckdb"
    build_demo(db, conversations=60, seed=3)
    at = _app(db, monkeypatch)
    assert not at.exception, at.exception
    assert "python -m analysis embed" in " | ".join(str(c.value) for c in at.code)
    assert not at.subheader or "Candidate responses" not in [s.value for s in at.subheader]
    at.button(key="vm_pipeline").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader][:3] == [FINDINGS, "Candidate responses", "People and LLMs"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        n_cand = con.execute("SELECT count(*) FROM candidates").fetchall()[0][0]
        n_emb = con.execute("SELECT count(*) FROM embeddings e SEMI JOIN candidates c USING (text_hash)").fetchall()[0][
            0
        ]
        n_proj = con.execute("SELECT count(*) FROM projection_points").fetchall()[0][0]
    finally:
        con.close()
    assert n_emb == n_cand and n_proj >= n_cand
