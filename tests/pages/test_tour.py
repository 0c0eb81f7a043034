"""The Tour page, run headless with AppTest on real demo databases (no mocks): every step renders with its labels,
the step and its settings live in the URL, the sentences follow the numbers and the settings, the "look deeper"
links open the full pages with the same state, and the handout can be made from the page."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import duckdb
import pytest

from analysis.explore import tour as people_tour
from analysis.filters import Filters
from analysis.pipeline.models import DEFAULT_MODEL
from tests.pages.harness import app_on
from tests.pages.harness import text as _text
from tests.values_fixtures import scored_demo_db  # noqa: F401  (session fixture)
from ui import tour as tour_ui

PAGE = "pages/tour.py"
pytestmark = pytest.mark.usefixtures("navigation_mode")


def _unescaped(text: str) -> str:
    """Text from data goes through ui.safe_text.plain, which escapes Markdown with backslashes."""
    return str(text).replace("\\", "")


def _successes(at) -> list[str]:
    return [_unescaped(s.value) for s in at.success]


def _infos(at) -> list[str]:
    return [_unescaped(i.value) for i in at.info]


def test_every_step_renders_on_the_unprepared_demo_labelled_synthetic(demo_db, monkeypatch):
    make = app_on(demo_db, monkeypatch)
    for step in tour_ui.STEPS:
        at = make(PAGE, tour_step=step, tour_rw_per="5")
        assert at.segmented_control(key="tour_step").value == step
        shown = _text(at)
        assert tour_ui.TITLES[step] in shown
        assert any("SYNTHETIC demo data" in _unescaped(w.value) for w in at.warning), step
        if step == "people":  # never embedded: the step says what to run, and links to the Values map
            assert any("no value-axis scores" in i and "Run these steps now" in i for i in _infos(at)), _infos(at)
            assert not at.success
        elif step == "rewards":
            assert any("ILLUSTRATIVE" in _unescaped(w.value) for w in at.warning)
            assert len(_successes(at)) == 1  # the simulator's half; the data's half says how to fit it
            assert any("No preference models by country" in i for i in _infos(at))
        else:
            assert any("ILLUSTRATIVE" in _unescaped(w.value) for w in at.warning) and len(_successes(at)) == 1
        assert [p.proto.page for p in at.page_link][: len(tour_ui.deeper_links(step, {}, Filters()))]


def test_next_and_back_move_the_step_and_the_url_holds_it(demo_db, monkeypatch):
    at = app_on(demo_db, monkeypatch)(PAGE)
    assert at.segmented_control(key="tour_step").value == "people"
    at.button(key="tour_next").click().run()
    assert not at.exception
    assert at.segmented_control(key="tour_step").value == "sampling"
    assert at.query_params["tour_step"] == "sampling"
    at.slider(key="tour_sa_k").set_value(6).run()
    assert at.query_params["tour_sa_k"] == "6"
    assert "a set of 6 candidates" in _successes(at)[0]
    at.button(key="tour_back").click().run()
    assert at.segmented_control(key="tour_step").value == "people"
    assert "tour_step" not in at.query_params  # the first step is the default: a clean address


def test_the_sentence_follows_the_settings(demo_db, monkeypatch):
    make = app_on(demo_db, monkeypatch)
    apart = make(PAGE, tour_step="poles")
    assert "NC sets reach the traditional pole" in _successes(apart)[0]
    # At NC strength 0, NC sampling is i.i.d. sampling: the same coverage, so the page must not claim a difference.
    same = make(PAGE, tour_step="poles", tour_po_nc="0")
    assert at_slider(same, "tour_po_nc") == 0.0
    sentence = _successes(same)[0]
    assert "no clear difference on the traditional pole" in sentence and "no clear difference on the survival pole" in (
        sentence
    )


def at_slider(at, key: str):
    return at.slider(key=key).value


def test_the_first_step_on_the_scored_demo_shows_the_findings_sentence(scored_demo_db, monkeypatch):  # noqa: F811
    at = app_on(scored_demo_db, monkeypatch)(PAGE, tour_pp_llm="0")
    assert at.toggle(key="tour_pp_llm").value is False
    con = duckdb.connect(str(scored_demo_db), read_only=True)
    try:
        data = people_tour.people_step(con, Filters(), DEFAULT_MODEL)
    finally:
        con.close()
    expected = people_tour.people_sentence(data.spread)
    assert _successes(at) == [expected]
    assert f"{data.spread.people.value:.2f} [" in expected and f"{data.spread.n_people:,} people" in expected
    # With a filter the numbers (and so the sentence) change with it.
    india = app_on(scored_demo_db, monkeypatch)(PAGE, country="India")
    assert _successes(india) and _successes(india)[0] != expected


def test_the_step_address_opens_exactly_that_step(demo_db, monkeypatch):
    filters = Filters(countries=("India",))
    address = tour_ui.step_address("http://10.0.0.5:8501", "poles", {"tour_po_k": 6, "tour_po_nc": 0.3}, filters)
    parts = urlsplit(address)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://10.0.0.5:8501/tour"
    params = dict(parse_qsl(parts.query))
    assert params == {"country": "India", "tour_step": "poles", "tour_po_k": "6", "tour_po_nc": "0.3"}
    at = app_on(demo_db, monkeypatch)(PAGE, **params)
    assert at.segmented_control(key="tour_step").value == "poles"
    assert at.slider(key="tour_po_k").value == 6 and at.slider(key="tour_po_nc").value == 0.3
    code = [c.value for c in at.code]
    assert any(c.startswith("http") and "tour_po_k=6" in c and "country=India" in c for c in code)


def test_look_deeper_opens_the_full_page_with_the_same_state(demo_db, monkeypatch):
    make = app_on(demo_db, monkeypatch)
    (link,) = tour_ui.deeper_links("sampling", {"tour_sa_k": 6, "tour_sa_temp": 1.5}, Filters())
    lab = make(link.page, **{k: v for k, v in link.params.items()})
    assert lab.slider(key="sl_k").value == 6 and lab.slider(key="sl_temp").value == 1.5
    assert lab.multiselect(key="sl_strategies").value == ["iid", "multi", "nc"]
    sim, data = tour_ui.deeper_links("rewards", {"tour_rw_per": 5, "tour_rw_group": "language"}, Filters())
    assert make(data.page, **data.params).selectbox(key="pf_group").value == "language"
    assert sim.params["rr_per"] == "5"


def test_the_handout_is_made_on_the_page(demo_db, monkeypatch):
    at = app_on(demo_db, monkeypatch)(PAGE, tour_step="sampling", tour_rw_per="5")
    at.button(key="tour_make").click().run()
    assert not at.exception
    assert at.get("download_button"), "no download button after making the handout"
