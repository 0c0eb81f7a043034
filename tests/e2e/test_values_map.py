"""The Values map in a real browser, on a demo taken through embed, axes score-db and project: the map, a colour
switch bound to the URL, a box selection listing the selected texts, people against LLMs. Screenshots go to
tests/e2e/screenshots/values_map*.png (look at them).

The shared ``server_url`` serves a demo without embeddings (the page then only names the commands to run), so this
module starts its own server on the scored demo database from tests/values_fixtures.py.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import _require_browser, streamlit_server
from tests.values_fixtures import scored_demo_db  # noqa: F401  (session fixture)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def values_server(scored_demo_db, tmp_path_factory):  # noqa: F811
    _require_browser()  # with CI=true a missing browser fails, never skips
    db = tmp_path_factory.mktemp("values_e2e_db") / "demo.duckdb"
    shutil.copy(scored_demo_db, db)  # the upload test writes to it
    with streamlit_server(db, tmp_path_factory.mktemp("values_server") / "streamlit.log") as url:
        yield url


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _no_exception(page) -> None:
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()


def test_values_map_colour_switch_selection_and_people(values_server, page, app_ready, save_screenshot):
    # A deep link as the server's very first session: it must open through app.py (sidebar filters present).
    page.goto(f"{values_server}/values_map")
    app_ready(page)
    assert "Filters" in page.locator('[data-testid="stSidebar"]').inner_text()
    _no_exception(page)
    text = _main_text(page)
    assert "Values map" in text and "Synthetic demo data" in text
    assert "Reported in the paper" in text and "41%" in text
    assert "Can these axes be trusted here?" in text
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 2
    save_screenshot(page, "values_map")

    # Colour by the chooser's country: the URL records it.
    page.locator('[data-testid="stButtonGroup"]', has_text="Chosen or not").get_by_role("radio", name="Country").click()
    app_ready(page)
    assert parse_qs(urlparse(page.url).query).get("vm_color") == ["Country"]

    # Box-select the middle of the map: the selected responses are listed with their prompts.
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.scroll_into_view_if_needed()
    plot = chart.locator(".nsewdrag").first
    box = plot.bounding_box()
    assert box, "plot area not visible"
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    x1, y1 = box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.7
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    app_ready(page)
    _no_exception(page)
    assert "selected responses" in _main_text(page)
    save_screenshot(page, "values_map_selection")


def test_upload_answers_and_see_them_placed(values_server, page, app_ready, save_screenshot, tmp_path):
    import duckdb

    page.goto(f"{values_server}/values_map")
    app_ready(page)
    db = Path(page.locator('[data-testid="stSidebar"]').inner_text().split("Database:")[-1].split()[0])
    con = duckdb.connect(str(db), read_only=True)
    prompts = [r[0] for r in con.execute("SELECT text FROM prompts ORDER BY n_comparisons DESC LIMIT 2").fetchall()]
    con.close()
    body = io.StringIO()
    w = csv.writer(body)
    w.writerow(["model", "prompt", "response"])
    w.writerow(["browser-model", prompts[0], "Keep to the family's traditions and let faith guide the decision."])
    w.writerow(["browser-model", prompts[1], "Put security first and be careful about whom you trust."])
    page.get_by_text("Upload a CSV of your models' answers").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "answers.csv", "mimeType": "text/csv", "buffer": body.getvalue().encode("utf-8")}]
    )
    app_ready(page)
    assert "2 answers pass the checks: browser-model (2)" in _main_text(page)
    page.get_by_role("button", name="Load, embed and score them").click()
    # Loading, embedding, scoring and placing on the UMAP map run under st.status; then the page reruns.
    page.locator('[data-testid="stPlotlyChart"]').nth(1).get_by_text("browser-model").wait_for(timeout=300_000)
    app_ready(page, timeout_ms=300_000)
    _no_exception(page)
    table_text = page.locator('[data-testid="stDataFrame"]').last.inner_text()
    legend = page.locator('[data-testid="stPlotlyChart"]').nth(1).inner_text()
    assert "browser-model" in legend or "browser-model" in table_text
    save_screenshot(page, "values_map_upload")
