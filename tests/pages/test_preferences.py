"""The Preferences page, run headless with AppTest on the demo with a stored preference run (real model, real DuckDB
files, no mocks): the gap, the transfer matrix, the axis reading, the examples, URL state, filters, and fitting from
the page when nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from analysis import store
from analysis.lab.prefs_store import TABLES
from tests.prefs_fixtures import prefs_demo_db, writable_copy  # noqa: F401  (session fixture)

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "preferences.py")
pytestmark = pytest.mark.slow


def _app(db: Path, monkeypatch, **query) -> AppTest:
    monkeypatch.setenv("CAE_DB", str(db))
    at = AppTest.from_file(PAGE, default_timeout=300)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


def _table(at: AppTest, column: str):
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def _stored(db: Path) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return store.query_pl(con, "SELECT * FROM pref_scores")
    finally:
        con.close()


def test_page_shows_gap_transfer_axes_examples_and_references(prefs_demo_db, monkeypatch):  # noqa: F811
    at = _app(prefs_demo_db, monkeypatch)
    assert not at.exception, at.exception
    assert "Synthetic demo data" in _texts(at.warning)
    assert "associations in the data" in _texts(at.info)
    # the headline names the group with the largest own-minus-pooled gap, worked out here from the stored rows
    s = _stored(prefs_demo_db)
    own = (
        s.filter(~pl.col("is_pooled") & (pl.col("model") == pl.col("test_group")))
        .group_by("model")
        .agg(pl.col("accuracy").mean())
    )
    pooled = s.filter(pl.col("is_pooled")).group_by("test_group").agg(pooled=pl.col("accuracy").mean())
    gaps = own.join(pooled, left_on="model", right_on="test_group").with_columns(
        gap=pl.col("accuracy") - pl.col("pooled")
    )
    worst = gaps.sort("gap", descending=True).row(0, named=True)
    text = _texts(at.markdown)
    assert f"serves **{worst['model']}** worst" in text
    assert f"{100 * worst['gap']:+.1f} points" in text
    table = _table(at, "gap")
    assert set(table["group"]) == set(gaps["model"].to_list()) and len(table) == 5
    assert len(at.get("plotly_chart")) == 3  # gap bars, transfer heatmap, axis arrows
    refs = _table(at, "source")
    assert {0.71, 0.736, 0.769, 0.572} == set(round(v, 3) for v in refs["value"])
    assert "differ from this one" in _texts(at.caption)
    # the examples are the stored texts, shown in full
    con = duckdb.connect(str(prefs_demo_db), read_only=True)
    try:
        first = con.execute(
            "SELECT c.text FROM pref_examples e JOIN candidates c USING (text_hash) WHERE e.grp = 'Brazil' "
            "AND e.direction = 'favoured' ORDER BY e.rank LIMIT 1"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert first.split()[0] in text and first.split()[-1].replace("<", "\\<").replace(">", "\\>")[:10] in text


def test_view_state_comes_from_the_url(prefs_demo_db, monkeypatch):  # noqa: F811
    at = _app(prefs_demo_db, monkeypatch, pf_metric="pairwise AUC", pf_ex="India", pf_dir="favoured less")
    assert not at.exception, at.exception
    assert at.segmented_control(key="pf_metric").value == "pairwise AUC"
    assert at.selectbox(key="pf_ex").value == "India"
    heat = json.loads(at.get("plotly_chart")[1].proto.spec)
    z = [v for row in heat["data"][0]["z"] for v in row if v is not None]
    assert all(0.3 < v < 1.0 for v in z)  # AUCs, not accuracies over four
    at.selectbox(key="pf_group").set_value("age").run()
    assert not at.exception, at.exception
    assert at.query_params["pf_group"] in ("age", ["age"])
    assert "--group age" in _texts(at.code)


def test_filters_pick_groups_and_say_what_they_do_not_apply(prefs_demo_db, monkeypatch):  # noqa: F811
    at = _app(prefs_demo_db, monkeypatch, country="India|France")
    assert not at.exception, at.exception
    assert set(_table(at, "gap")["group"]) == {"India", "France"}
    assert "picks which groups are shown" in _texts(at.info)
    at = _app(prefs_demo_db, monkeypatch, age="18-34")
    assert "not applied" in _texts(at.info)
    assert "--where 'age=18-34'" in _texts(at.code)


def test_fit_from_the_page_when_nothing_is_stored(prefs_demo_db, monkeypatch, tmp_path):  # noqa: F811
    db = writable_copy(prefs_demo_db, tmp_path)
    con = duckdb.connect(str(db))
    for table in TABLES:
        con.execute(f"DROP TABLE {table}")
    con.close()
    at = _app(db, monkeypatch)
    assert not at.exception, at.exception
    assert "python -m analysis prefs --db" in _texts(at.code)
    assert not at.get("plotly_chart")
    at.button(key="pf_fit").click().run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 3


def test_fit_without_embeddings_says_what_to_run(demo_db, monkeypatch, tmp_path):
    db = tmp_path / "demo.duckdb"
    db.write_bytes(Path(demo_db).read_bytes())  # the plain demo: no embeddings yet
    at = _app(db, monkeypatch)
    assert not at.exception, at.exception
    at.button(key="pf_fit").click().run()
    assert not at.exception, at.exception
    assert "python -m analysis embed" in _texts(at.error)
