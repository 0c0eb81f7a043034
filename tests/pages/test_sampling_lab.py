"""The Sampling lab page, run headless with AppTest (no mocks: the real analysis code runs underneath)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "sampling_lab.py")


def _app(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["sl_prompts"] = "250"  # keep the test fast; the widget reads it from the URL
    at.query_params["sl_seeds"] = "2"
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _metric_table(at: AppTest):
    for df in at.dataframe:
        if "metric" in df.value.columns:
            return df.value.set_index("metric")
    raise AssertionError("the metric table is not on the page")


def test_page_renders_the_metric_table_beside_the_papers_numbers():
    at = _app()
    assert not at.exception
    table = _metric_table(at)
    assert list(table.columns[:4]) == ["iid", "multi", "persona", "nc"]
    assert table.loc["coverage@k, traditional", "paper: temperature sampling"] == "~0.15"
    assert table.loc["coverage@k, survival", "paper: NC sampling"] == "~0.53"
    assert any("Illustrative model positions" in w.value for w in at.warning)
    # The qualitative result is visible with the defaults: NC reaches the traditional pole far more often.
    iid = float(table.loc["coverage@k, traditional", "iid"].split()[0])
    nc = float(table.loc["coverage@k, traditional", "nc"].split()[0])
    assert nc > 2 * iid


def test_changing_nc_strength_changes_the_table_and_zero_matches_iid():
    at = _app()
    before = _metric_table(at).loc["coverage@k, traditional", "nc"]
    at.slider(key="sl_nc").set_value(0.0).run()
    assert not at.exception
    after = _metric_table(at)
    assert after.loc["coverage@k, traditional", "nc"] != before
    # At strength 0 NC sampling is i.i.d. sampling: identical numbers for every metric.
    assert (after["nc"] == after["iid"]).all()


def test_state_comes_from_the_url():
    at = _app(sl_k="6", sl_strategies=["iid", "nc"], sl_threshold="0.8")
    assert not at.exception
    assert at.slider(key="sl_k").value == 6
    table = _metric_table(at)
    assert list(table.columns[:2]) == ["iid", "nc"] and "multi" not in table.columns
    assert "k = 4" in table.loc["coverage@k, traditional", "paper: NC sampling"]  # flagged as not comparable


def test_a_broken_model_table_in_the_link_is_explained():
    at = _app(sl_models="not json")
    assert not at.exception
    assert any("could not be read" in w.value for w in at.warning)
    assert _metric_table(at).shape[0] == 7


def test_edited_models_reach_the_url_and_the_numbers():
    moved = '[["far model",-0.8,-0.8,0.3]]'  # one model in the traditional/survival corner
    at = _app(sl_models=moved)
    assert not at.exception
    table = _metric_table(at)
    assert float(table.loc["coverage@k, traditional", "iid"].split()[0]) > 0.8


def test_pasting_too_few_candidates_says_what_to_do():
    at = _app(sl_paste="only one line")
    at.button(key="sl_score_btn").click().run()
    assert not at.exception
    assert any("at least 2 candidate responses" in e.value for e in at.error)


def test_no_strategy_selected_is_explained():
    at = _app()
    at.multiselect(key="sl_strategies").set_value([]).run()
    assert not at.exception
    assert any("Pick at least one strategy" in i.value for i in at.info)


def test_real_text_pool_on_a_database_without_embeddings_says_what_to_run(demo_db, monkeypatch):
    monkeypatch.setenv("CAE_DB", str(demo_db))
    at = _app(sl_pool_on="true")
    assert not at.exception
    assert at.toggle(key="sl_pool_on").value is True
    assert any("Not available on this database yet" in i.value for i in at.info)


def test_personas_from_the_link_move_the_persona_strategy():
    at = _app(sl_personas="[[0.0,-1.5]]", sl_pull="1.0")  # every persona draw centred deep on the traditional pole
    assert not at.exception
    table = _metric_table(at)
    assert float(table.loc["coverage@k, traditional", "persona"].split()[0]) > 0.95
