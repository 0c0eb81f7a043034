"""The explorer in Chromium on a database built from a release-format file it has never seen: the README's
first-tour links, canonical countries with their fixed colours, Markdown answers rendered as formatted text, and no
request from the browser to anything the data names (a local recorder, ``probe``, stands where a remote image would).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pytest

from analysis.explore import agreement_queries
from charts import colours

ROOT = Path(__file__).resolve().parents[2]
TOUR = re.compile(r"<http://localhost:8501(/[^>]*)>")


def _main(page):
    return page.locator('[data-testid="stMain"]')


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()


@pytest.fixture
def watched(page, release_server_url, probe):
    """The page with every request it makes recorded; the probe's own log emptied first."""
    probe.requests.clear()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    yield page, seen
    own = urlparse(release_server_url).netloc
    foreign = [u for u in seen if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != own]
    assert not foreign, f"the browser fetched from elsewhere: {foreign[:5]}"
    assert probe.requests == [], f"the data's URLs were fetched: {probe.requests}"


def _tour_links() -> list[str]:
    links = TOUR.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(links) >= 5, "the README's first tour lost its links"
    return links


def test_the_readme_tour_links_work_on_release_format_data(watched, release_server_url, app_ready, save_screenshot):
    page, _ = watched
    for i, link in enumerate(_tour_links()):
        page.goto(release_server_url + link)
        app_ready(page)
        _no_exception(page)
        assert "Ignored filter values" not in page.inner_text("body"), link
        if "country=India" in link:
            box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]', has_text="Country").first
            assert "India" in box.inner_text() and "France" not in box.inner_text(), (link, box.inner_text())
        save_screenshot(page, f"release_tour_{i + 1}")


def test_country_colours_follow_the_name_not_the_filter(watched, release_server_url, app_ready):
    page, _ = watched

    def india_colours() -> set[str]:
        traces = page.evaluate(
            """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => (p.data || []).map(
                t => [t.name, (t.marker && typeof t.marker.color === 'string') ? t.marker.color : null]))"""
        )
        return {c.lower() for name, c in traces if name == "India" and c}

    page.goto(release_server_url)
    app_ready(page)
    unfiltered = india_colours()
    page.goto(release_server_url + "/?country=India")
    app_ready(page)
    assert unfiltered == india_colours() == {colours.COUNTRY_COLOURS["India"].lower()}


def test_a_markdown_answer_renders_formatted_and_loads_nothing(
    watched, release_server_url, release_file, app_ready, save_screenshot
):
    page, _ = watched
    page.goto(f"{release_server_url}/browse?br_conv={release_file.hostile_conversation}")
    app_ready(page)
    _no_exception(page)
    main = _main(page)
    assert main.locator("h6", has_text="A safe answer").count() >= 1  # ### renders as a header, below the page's own
    assert main.locator("strong", has_text="Bold").count() >= 1
    assert main.locator("table").count() + main.locator("pre code").count() + main.locator("li").count() > 0
    assert main.locator("img").count() == 0 and main.locator("script").count() == 0
    text = main.inner_text()
    assert "<img src=" in text and "<script>" in text  # raw HTML shows as what it is: text
    assert "probe" in text  # the image's alt text, shown as a link
    assert "<|end_of_text|>" not in page.inner_text("body")
    page.wait_for_timeout(1500)  # time for any stray fetch to reach the recorder
    save_screenshot(page, "release_browse_markdown")


def test_agreement_reads_a_shared_set_in_full_and_loads_nothing(
    watched, release_server_url, release_file, release_db, app_ready, save_screenshot
):
    page, _ = watched
    with duckdb.connect(str(release_db), read_only=True) as con:
        set_id = con.execute(
            "SELECT set_id FROM comparisons WHERE conversation_id = ? AND turn = 1",
            [release_file.hostile_conversation],
        ).fetchall()[0][0]
    page.goto(f"{release_server_url}/agreement?ag_open={set_id}")
    app_ready(page)
    _no_exception(page)
    assert "were shown to more than one annotator" in _main(page).inner_text()
    page.get_by_text("Read the candidates in full").click()
    app_ready(page)
    main = _main(page)
    assert main.locator("h6", has_text="A safe answer").count() >= 1
    assert main.locator("img").count() == 0
    page.wait_for_timeout(1500)
    save_screenshot(page, "release_agreement_set")
