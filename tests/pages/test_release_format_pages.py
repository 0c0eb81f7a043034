"""The pages on a database built from a release-format file the project has never seen (tests/release_format.py):
the README's ``?country=India`` link works, colours are keyed by the canonical name whatever the filter, Markdown
from data reaches st.markdown unable to load anything, no end-of-text token is shown, and agreement ranks shared
candidate sets. (The browser suite checks the same in Chromium against a request recorder.)"""

from __future__ import annotations

import json
import re

import pytest

from analysis import schema
from analysis.explore import agreement_queries
from charts import colours
from tests.markdown_check import assert_loads_nothing
from tests.pages.harness import app_on, metrics, text

pytestmark = pytest.mark.usefixtures("navigation_mode")


@pytest.fixture
def app(release_db, monkeypatch):
    return app_on(release_db, monkeypatch)


def _every_markdown(at) -> list[str]:
    return [str(m.value) for m in at.markdown] + [str(c.value) for c in at.caption]


def _assert_loads_nothing(at) -> None:
    for body in _every_markdown(at):
        assert_loads_nothing(body)
    assert "<|end_of_text|>" not in text(at)


def _country_colours(at) -> dict[str, set[str]]:
    """Each country's colours over every Plotly chart of the page (trace names and per-point colours)."""
    found: dict[str, set[str]] = {}
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec).get("data", []):
            colour = (trace.get("marker") or {}).get("color")
            if trace.get("name") in schema.COUNTRIES and isinstance(colour, str):
                found.setdefault(trace["name"], set()).add(colour.lower())
    return found


def test_the_readme_country_link_filters_and_colours_stay_with_the_name(app, release_file):
    everyone = app()
    india = app(country="India")
    assert not any("Ignored filter values" in i.value for i in india.info)
    assert india.sidebar.multiselect(key="f_country").value == ["India"]
    n_india = sum(1 for c in release_file.countries.values() if c == "India")
    assert metrics(india)["Annotators"] == f"{n_india:,}"
    for at in (everyone, india):
        seen = _country_colours(at)
        assert seen, "no chart coloured by country"
        for name, found in seen.items():
            assert found == {colours.COUNTRY_COLOURS[name].lower()}, (name, found)
    assert set(_country_colours(india)) == {"India"}


def test_a_hostile_answer_and_feedback_reach_the_page_as_harmless_text(app, release_file):
    at = app("pages/browse.py", br_conv=release_file.hostile_conversation)
    body = "\n".join(_every_markdown(at))
    assert "### " in body and "**Bold**" in body  # the answer's Markdown is passed on as Markdown
    assert "| option | why |" in body or "```python" in body or "* first" in body
    _assert_loads_nothing(at)


def test_agreement_ranks_the_shared_sets_and_opens_one_safely(app, release_file, release_db):
    at = app("pages/agreement.py")
    assert metrics(at)["Candidate sets"] == str(release_file.shared_sets)
    assert "were shown to more than one annotator" in text(at)
    import duckdb

    with duckdb.connect(str(release_db), read_only=True) as con:
        hostile_set = con.execute(
            "SELECT set_id FROM comparisons WHERE conversation_id = ? AND turn = 1",
            [release_file.hostile_conversation],
        ).fetchall()[0][0]
    detail = app("pages/agreement.py", ag_open=hostile_set)
    assert "The prompt" in text(detail)
    _assert_loads_nothing(detail)
