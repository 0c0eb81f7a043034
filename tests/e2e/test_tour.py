"""Browser test of the Tour: the real server in facilitator mode (the join address and its QR code shown), headless
Chromium walking the four steps with the Next button (each step's sentence on screen, its address in the URL), then
the handout downloaded and opened offline: every request the browser makes for it is refused, and its figures still
draw."""

from __future__ import annotations

import re

import pytest

from ui import tour as tour_ui

JOIN = "http://10.9.8.7:8501/tour"
SMALL = "tour_rw_per=5"  # the reward step's smallest setting keeps the browser test quick


@pytest.fixture(scope="module")
def workshop_url(e2e_db, tmp_path_factory):
    """A server as `make workshop` starts it (the join address in its environment)."""
    from tests.e2e.conftest import _require_browser, streamlit_server

    _require_browser()
    log = tmp_path_factory.mktemp("tour_server") / "streamlit.log"
    with streamlit_server(e2e_db, log, env={"CAE_WORKSHOP_URL": JOIN}) as url:
        yield url


def test_walk_the_tour_and_take_the_handout_home(workshop_url, page, app_ready, save_screenshot, tmp_path):
    page.goto(f"{workshop_url}/tour?{SMALL}")
    app_ready(page)
    main = page.get_by_test_id("stMainBlockContainer")
    assert page.get_by_role("heading", name="A guided tour").is_visible()
    # Facilitator mode: the address to join, as text and as a QR code, on the Tour (expanded) and in the sidebar.
    assert JOIN in main.inner_text()
    assert main.get_by_test_id("stImage").count() >= 1
    assert "Join this workshop" in page.get_by_test_id("stSidebar").inner_text()
    for i, step in enumerate(tour_ui.STEPS):
        assert main.get_by_role(
            "heading", name=re.compile(rf"^{i + 1}\. {re.escape(tour_ui.TITLES[step])}")
        ).is_visible()
        text = main.inner_text()
        assert "SYNTHETIC demo data" in text, step
        if step == "people":  # the e2e database is never embedded: the step says what to run
            assert "no value-axis scores" in text and "Values map" in text
        else:
            assert main.get_by_test_id("stAlertContentSuccess").count() >= 1, step
            page.locator(".js-plotly-plot").first.wait_for(state="attached", timeout=120_000)  # drawn after the run
            assert page.locator(".js-plotly-plot").count() >= 1, step
        if i + 1 < len(tour_ui.STEPS):
            page.get_by_role("button", name="Next →").click()
            app_ready(page)
            assert f"tour_step={tour_ui.STEPS[i + 1]}" in page.url  # the step is in the address
    save_screenshot(page, "tour_rewards")

    page.get_by_role("button", name="Make the handout").click()
    app_ready(page)
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Download the handout")).click()
    handout = tmp_path / "handout.html"
    info.value.save_as(handout)
    html = handout.read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|<img[^>]+src=\"?https?:", html, re.I)
    for step in tour_ui.STEPS:
        assert tour_ui.TITLES[step] in html

    # Offline: refuse every request that is not the file itself; the figures must still draw.
    offline = page.context.browser.new_context()
    asked: list[str] = []

    def refuse(route):
        asked.append(route.request.url)
        route.abort()

    offline.route(re.compile(r"^(?!file:).*"), refuse)
    try:
        view = offline.new_page()
        view.goto(handout.as_uri())
        view.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        assert view.locator(".js-plotly-plot").count() >= 3  # steps 2, 3 and 4 (step 1 has no scores here)
        assert "SYNTHETIC demo data" in view.inner_text("body")
        assert asked == [], f"the handout asked the network for {asked[:5]}"
    finally:
        offline.close()
