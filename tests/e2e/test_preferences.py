"""The Preferences page in a real browser, on the demo with a stored preference run (tests/prefs_fixtures.py): the
headline and the three charts, the heatmap's score switch and the example group bound to the URL, a shared link
reopening the same view, and a sidebar filter narrowing the groups. Screenshots: tests/e2e/screenshots/preferences*.png.
"""

from __future__ import annotations

import shutil
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import _require_browser, streamlit_server
from tests.prefs_fixtures import prefs_demo_db  # noqa: F401  (session fixture)


@pytest.fixture(scope="module")
def prefs_server(prefs_demo_db, tmp_path_factory):  # noqa: F811
    _require_browser()  # with CI=true a missing browser fails, never skips
    db = tmp_path_factory.mktemp("prefs_e2e_db") / "demo.duckdb"
    shutil.copy(prefs_demo_db, db)
    with streamlit_server(db, tmp_path_factory.mktemp("prefs_server") / "streamlit.log") as url:
        yield url


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _no_exception(page) -> None:
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()


def test_preferences_page_headline_charts_state_and_filters(prefs_server, page, app_ready, save_screenshot):
    page.goto(f"{prefs_server}/preferences")
    app_ready(page)
    _no_exception(page)
    text = _main_text(page)
    assert "Preferences from the data" in text and "Synthetic demo data" in text
    assert "worst" in text and "associations in the data" in text
    assert "0.710" in text and "57.2%" in text  # the published references beside the pooled model
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 3
    save_screenshot(page, "preferences")

    # The heatmap's score: the URL records the value.
    page.locator('[data-testid="stButtonGroup"]', has_text="top-1 accuracy").get_by_role(
        "radio", name="pairwise AUC"
    ).click()
    app_ready(page)
    _no_exception(page)
    assert parse_qs(urlparse(page.url).query).get("pf_metric") == ["pairwise AUC"]

    # The examples of another group, read in full.
    group = page.locator('[data-testid="stRadio"]', has_text="Responses its model")
    group.scroll_into_view_if_needed()
    group.get_by_text("favoured less", exact=True).click()
    app_ready(page)
    assert parse_qs(urlparse(page.url).query).get("pf_dir") == ["favoured less"]
    shared = page.url

    # The shared link reopens the same view in a new session.
    page.goto(shared)
    app_ready(page)
    _no_exception(page)
    assert page.get_by_role("radio", name="favoured less").is_checked()
    assert "favoured less" in parse_qs(urlparse(page.url).query).get("pf_dir", [])

    # A country filter in the link narrows the groups shown and says how it was applied.
    page.goto(f"{prefs_server}/preferences?country=India&country=Brazil")
    app_ready(page)
    _no_exception(page)
    text = _main_text(page)
    assert "picks which groups are shown" in text
    assert "France" not in page.locator('[data-testid="stPlotlyChart"]').first.inner_text()
    save_screenshot(page, "preferences_filtered")
