"""AppTest for the app shell and the dashboard pages (overview, browse, agreement, SQL console) on the demo database."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from analysis.explore import agreement_queries
from tests.pages.harness import APP, TIMEOUT, app_on
from tests.pages.harness import metrics as _metrics
from tests.pages.harness import text as _text
from tests.values_fixtures import scored_demo_db  # noqa: F401  (session fixture)
from ui import registry

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("navigation_mode")
PAGES = ["pages/overview.py", "pages/browse.py", "pages/agreement.py", "pages/sql_console.py"]


@pytest.fixture
def app(demo_db, monkeypatch):
    return app_on(demo_db, monkeypatch)


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---- the shell --------------------------------------------------------------------------------------------------
def test_every_page_renders_without_exception(app):
    at = app()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert at.title, page


def test_sidebar_labels_the_synthetic_demo_with_counts(app, demo_db):
    at = app()
    side = "\n".join(w.value for w in at.sidebar.warning) + "\n".join(c.value for c in at.sidebar.caption)
    assert "SYNTHETIC" in side
    with duckdb.connect(str(demo_db), read_only=True) as con:
        n_conv = con.sql("SELECT count(*) FROM conversations").fetchall()[0][0]
    assert f"{n_conv:,} conversations" in side
    for key in ("f_country", "f_lang", "f_age", "f_gender", "f_edu", "f_pol"):
        assert at.sidebar.multiselect(key=key).options, key
    assert at.sidebar.toggle(key="f_pregen") is not None
    assert at.sidebar.selectbox(key="f_balanced").options == [
        "All conversations",
        "Balanced subset",
        "Balanced subset (10)",
    ]


def test_filters_round_trip_through_the_url_and_survive_page_changes(app):
    at = app()
    at.sidebar.multiselect(key="f_country").select("India").select("Brazil")
    at.sidebar.toggle(key="f_pregen").set_value(True)
    at.sidebar.selectbox(key="f_balanced").set_value("balanced")
    at.run()
    params = dict(at.query_params)
    assert params["country"] == "India|Brazil" or params["country"] == "Brazil|India"
    assert params["pregen"] == "1" and params["balanced"] == "balanced"
    before = _metrics(at)
    at.switch_page("pages/agreement.py").run()
    assert dict(at.query_params)["country"] == params["country"]
    assert set(at.sidebar.multiselect(key="f_country").value) == {"India", "Brazil"}  # the filter survives the move
    at.switch_page("pages/overview.py").run()
    assert set(at.sidebar.multiselect(key="f_country").value) == {"India", "Brazil"}
    assert _metrics(at) == before
    # A fresh session opened from the link shows the same view.
    again = app(**params)
    assert set(again.sidebar.multiselect(key="f_country").value) == {"India", "Brazil"}
    assert again.sidebar.toggle(key="f_pregen").value is True
    assert _metrics(again) == before


def test_unknown_filter_values_in_a_link_are_reported_not_fatal(app):
    at = app(country="Atlantis|India")
    assert at.sidebar.multiselect(key="f_country").value == ["India"]
    assert any("Atlantis" in i.value for i in at.sidebar.info)


def test_missing_and_corrupt_database_say_what_to_run(monkeypatch, tmp_path):
    monkeypatch.setenv("CAE_DB", str(tmp_path / "absent.duckdb"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("python -m analysis demo" in re.sub(r"\\(.)", r"\1", e.value) for e in at.error)
    bad = tmp_path / "corrupt.duckdb"
    bad.write_bytes(b"this is not a duckdb file" * 100)
    monkeypatch.setenv("CAE_DB", str(bad))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("python -m analysis" in re.sub(r"\\(.)", r"\1", e.value) for e in at.error)


# ---- overview ---------------------------------------------------------------------------------------------------
def test_overview_figures_follow_the_filters(app):
    at = app()
    all_ = _metrics(at)
    assert int(all_["Comparisons"].replace(",", "")) > 0
    assert len(at.caption) >= 6  # reading aids under the charts
    at.sidebar.multiselect(key="f_country").select("India").run()
    india = _metrics(at)
    assert int(india["Comparisons"].replace(",", "")) < int(all_["Comparisons"].replace(",", ""))
    assert india["Annotators"] != all_["Annotators"]
    at.sidebar.pills(key="f_turn").set_value(["1"]).run()
    assert _metrics(at)["Comparisons"] != india["Comparisons"]
    assert dict(at.query_params)["turn"] == "1"


def test_overview_measure_lives_in_the_url(app):
    at = app(ov_measure="annotators")
    assert at.segmented_control(key="ov_measure").value == "annotators"
    at.segmented_control(key="ov_measure").set_value("conversations").run()
    assert dict(at.query_params)["ov_measure"] == "conversations"
    at.switch_page("pages/browse.py").run()
    assert "ov_measure" not in dict(at.query_params)  # another page's state leaves the link


def test_overview_tables_can_be_downloaded(app):
    at = app()
    assert len(at.dataframe) >= 5
    assert len(at.get("download_button")) >= 2 * len(at.dataframe)


# ---- browse -----------------------------------------------------------------------------------------------------
def test_browse_search_page_and_reader(app, demo_db):
    at = app("pages/browse.py")
    heading = at.subheader[0].value
    total = int(heading.split()[0].replace(",", ""))
    assert total > 0
    at.text_input(key="br_q").input("boss").run()
    assert not at.exception
    assert int(at.subheader[0].value.split()[0].replace(",", "")) < total
    assert dict(at.query_params)["br_q"] == "boss"
    with duckdb.connect(str(demo_db), read_only=True) as con:
        cid, n_turns = con.sql(
            "SELECT conversation_id, count(*) FROM comparisons GROUP BY 1 HAVING count(*) = 4 ORDER BY 1 LIMIT 1"
        ).fetchall()[0]
        hindi = con.sql(
            "SELECT conversation_id FROM conversations WHERE assigned_lang = 'hi' ORDER BY 1 LIMIT 1"
        ).fetchall()[0][0]
    reader = app("pages/browse.py", br_conv=cid)
    text = re.sub(r"\\(.)", r"\1", _text(reader))  # as the reader sees it, Markdown escapes undone
    assert f"Conversation ` {cid} `" in text  # the id as code: text, never a link
    assert text.count("✔ chosen") == n_turns
    assert "Annotator" in text and "Country" in text
    reader.button(key="br_close").click().run()
    assert "br_conv" not in dict(reader.query_params)
    hi = app("pages/browse.py", br_conv=hindi)
    assert any("\u0900" <= ch <= "\u097f" for ch in _text(hi))  # Devanagari reaches the page as text
    missing = app("pages/browse.py", br_conv="no-such-id")
    assert any("No conversation" in e.value for e in missing.error)


def test_browse_filter_changes_the_list_and_paging_is_in_the_url(app):
    at = app("pages/browse.py")
    total = at.subheader[0].value
    at.sidebar.multiselect(key="f_country").select("France").run()
    assert at.subheader[0].value != total
    paged = app("pages/browse.py", br_page="2")
    assert "Page 2 of" in _text(paged)
    assert dict(paged.query_params)["br_page"] == "2"


# ---- agreement --------------------------------------------------------------------------------------------------
def test_agreement_threshold_sort_and_unit_detail(app, demo_db):
    at = app("pages/agreement.py", ag_min="400")  # no candidate set of the demo is answered by 400 people
    assert any("No candidate set is answered by 400" in w.value for w in at.warning)
    at.number_input(key="ag_min").set_value(3).run()
    assert not at.exception
    m3 = _metrics(at)
    assert int(m3["Candidate sets"]) > 0
    assert dict(at.query_params)["ag_min"] == "3"
    at.selectbox(key="ag_sort").set_value("divided").run()
    assert dict(at.query_params)["ag_sort"] == "divided"
    at.sidebar.multiselect(key="f_country").select("India").select("Brazil").run()
    assert _metrics(at)["Candidate sets"] != m3["Candidate sets"]
    # Pooling a prompt's sets is a choice in the URL and comes with a warning.
    pooled = app("pages/agreement.py", ag_min="3", ag_by="prompt")
    assert any("Pooling every candidate set" in w.value for w in pooled.warning)
    assert "Prompts" in _metrics(pooled)
    # Click-through by link: the set's prompt, its candidates with per-country shares.
    with duckdb.connect(str(demo_db), read_only=True) as con:
        set_id = con.sql(
            "SELECT set_id FROM comparisons GROUP BY set_id ORDER BY count(DISTINCT annotator_id) DESC, set_id LIMIT 1"
        ).fetchall()[0][0]
    detail = app("pages/agreement.py", ag_min="3", ag_open=set_id)
    assert "The prompt" in _text(detail)
    cands = [df.value for df in detail.dataframe if "chosen_when_shown" in df.value.columns]
    assert cands and "All countries" in cands[0].columns
    assert dict(detail.query_params)["ag_open"] == set_id
    detail.button(key="ag_close").click().run()
    assert "ag_open" not in dict(detail.query_params)
    missing = app("pages/agreement.py", ag_min="3", ag_open="not-a-set")
    assert any("No candidate set ` not-a-set `" in e.value for e in missing.error)


# ---- SQL console ------------------------------------------------------------------------------------------------
def test_sql_console_runs_refuses_and_keeps_the_database(app, demo_db):
    before = _sha(demo_db)
    at = app("pages/sql_console.py")
    assert not at.dataframe  # nothing runs until a click
    at.text_area(key="sql_q").input("SELECT count(*) AS n FROM comparisons").run()
    at.button(key="sql_run_btn").click().run()
    assert at.dataframe[0].value["n"][0] > 0
    assert "count(*)" in dict(at.query_params)["sql_q"]
    for sql in ("DROP TABLE comparisons", "SELECT * FROM read_csv('/etc/passwd')", "ATTACH ':memory:' AS x",
                "SET threads = 1", "COPY comparisons TO '/tmp/x.csv'", "INSTALL httpfs", "SELECT 1; SELECT 2"):  # fmt: skip
        at.text_area(key="sql_q").input(sql).run()
        at.button(key="sql_run_btn").click().run()
        assert not at.exception
        assert any("Refused" in e.value or "refused" in e.value for e in at.error), sql
    at.text_area(key="sql_q").input("SELECT * FROM comparisons").run()
    at.selectbox(key="sql_limit").set_value(100).run()
    at.button(key="sql_run_btn").click().run()
    assert at.dataframe[0].value.shape[0] == 100
    assert any("first 100 rows" in w.value for w in at.warning)
    assert len(at.get("download_button")) >= 3  # CSV, Parquet, JSON
    assert _sha(demo_db) == before


def test_a_shared_sql_link_fills_the_editor_and_runs_only_on_a_click(app):
    """/sql_console?sql_q=...&sql_timeout=30 ran its query on every open (31 s of server CPU per open)."""
    shared = app("pages/sql_console.py", sql_q="SELECT 41 + 1 AS answer", sql_timeout="30")
    assert shared.text_area(key="sql_q").value == "SELECT 41 + 1 AS answer"
    assert not shared.dataframe and not shared.main.error and not shared.main.warning
    assert any("runs only when you click" in c.value for c in shared.caption)
    shared.button(key="sql_run_btn").click().run()
    assert shared.dataframe[0].value["answer"][0] == 42


def test_sql_console_shows_every_type_and_the_errors_as_plain_text(app):
    """test_all_types() displays (59 columns, extreme values included) and an error quoting the query shows as
    text: nothing from the query becomes Markdown, a link or an image."""
    from tests.markdown_check import assert_loads_nothing

    at = app("pages/sql_console.py")
    at.text_area(key="sql_q").input("SELECT * FROM test_all_types()").run()
    at.button(key="sql_run_btn").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.dataframe[0].value.shape == (3, 59)
    assert any("Shown as text" in c.value and "interval" in c.value for c in at.caption)
    at.text_area(key="sql_q").input('SELECT * FROM "![x](http://127.0.0.1:9/x.png) **bold**"').run()
    at.button(key="sql_run_btn").click().run()
    assert at.error, "an unknown table is an error"
    for element in at.error:
        html = assert_loads_nothing(element.value)
        assert "<strong>" not in html and "<a " not in html


# ---- no heavy imports -------------------------------------------------------------------------------------------
HEAVY_SCRIPT = """
import json, sys
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
original = PagesManager.__init__
def init(self, *a, **k):
    original(self, *a, **k)
    PagesManager.uses_pages_directory = False
PagesManager.__init__ = init
at = AppTest.from_file({app!r}, default_timeout={timeout})
at.run()
errors = []
small = {{"sl_prompts": "100", "sl_seeds": "1", "rr_annotators": "100", "rr_per": "2", "rr_seeds": "1"}}
for page in {pages!r}:
    for key, value in small.items():
        at.query_params[key] = value
    at.switch_page(page).run()
    errors += [page + ": " + e.message for e in at.exception]
at.sidebar.multiselect(key="f_country").select("India").run()
errors += [e.message for e in at.exception]
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "sentence_transformers", "umap"))
print(json.dumps({{"heavy": heavy, "errors": errors}}))
"""


def _heavy_imports_after_visiting(db: Path, pages: list[str]) -> dict:
    """Visit the pages in a fresh interpreter (nothing imported before) and list the heavy modules loaded."""
    script = HEAVY_SCRIPT.format(app=APP, timeout=TIMEOUT, pages=pages)
    env = {**__import__("os").environ, "CAE_DB": str(db)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_no_page_imports_torch_sentence_transformers_or_umap(demo_db):
    """Every page, on a database the pipeline has not run on (the Values map then lists the steps to run)."""
    pages = [p.path for p in registry.PAGES]
    result = _heavy_imports_after_visiting(demo_db, pages)
    assert result["errors"] == []
    assert result["heavy"] == []


@pytest.mark.slow
def test_the_values_map_reads_stored_results_without_loading_a_model(scored_demo_db):
    result = _heavy_imports_after_visiting(scored_demo_db, ["pages/values_map.py"])
    assert result["errors"] == []
    assert result["heavy"] == []


def test_first_run_builds_the_demo_under_a_status(monkeypatch, tmp_path):
    from analysis import store

    target = tmp_path / "data" / "demo.duckdb"
    monkeypatch.delenv("CAE_DB", raising=False)
    monkeypatch.setattr(store, "DEMO_DB", target)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    assert target.exists()
    assert any("Demo database ready" in s.label for s in at.status)
    assert int(_metrics(at)["Comparisons"].replace(",", "")) > 0
    again = AppTest.from_file(APP, default_timeout=TIMEOUT).run()  # built once: no status the second time
    assert not again.status and not again.exception
