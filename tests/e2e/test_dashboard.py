"""The dashboard in a real browser: overview, a filter click, browse and a conversation, agreement, the SQL console.

A screenshot of each page goes to tests/e2e/screenshots/ (look at them: Hindi, French, Italian and Portuguese text
must render cleanly).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest

from analysis.text import clean_text


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has=page.locator('[data-testid="stMetricLabel"]', has_text=label))
    return box.locator('[data-testid="stMetricValue"]').first.inner_text().strip()


def _params(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _click_first_row(page, frame) -> None:
    """Select the first data row of an st.dataframe (a canvas grid): click its row-marker cell."""
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    assert box, "dataframe not visible"
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()


def test_overview_filter_then_browse_a_conversation(server_url, page, app_ready, save_screenshot):
    page.goto(server_url)
    app_ready(page)
    _no_exception(page)
    assert "Dataset overview" in _main_text(page)
    assert "SYNTHETIC" in page.locator('[data-testid="stSidebar"]').inner_text()
    all_comparisons = _metric(page, "Comparisons")
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 5
    save_screenshot(page, "overview")

    # Click a filter: Country = India.
    country = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    country.click()
    page.locator('[role="option"]', has_text="India").first.click()
    page.keyboard.press("Escape")
    app_ready(page)
    assert _params(page).get("country") == ["India"]
    assert _metric(page, "Comparisons") != all_comparisons
    _no_exception(page)
    save_screenshot(page, "overview_india")

    # Navigate: the filter stays, in the URL and in the figures.
    page.locator('[data-testid="stSidebarNavLink"]', has_text="Browse conversations").click()
    app_ready(page)
    assert urlparse(page.url).path.endswith("/browse")
    assert _params(page).get("country") == ["India"]
    _no_exception(page)
    save_screenshot(page, "browse")

    # Open a conversation by selecting its row.
    _click_first_row(page, page.locator('[data-testid="stDataFrame"]').first)
    app_ready(page, text="Turn 1")
    assert "br_conv" in _params(page)
    text = _main_text(page)
    assert "Conversation" in text and "Turn 1" in text and "chosen" in text
    assert "Country:" in text and "India" in text
    assert "<|" not in text
    _no_exception(page)
    save_screenshot(page, "browse_reader")


@pytest.mark.parametrize("lang", ["hi", "fr", "it", "pt"])
def test_conversations_in_every_language_render(server_url, e2e_db, page, app_ready, save_screenshot, lang):
    with duckdb.connect(str(e2e_db), read_only=True) as con:
        cid, prompt = con.sql(
            """SELECT c.conversation_id, p.text FROM conversations c
               JOIN comparisons x ON x.conversation_id = c.conversation_id AND x.turn = 1
               JOIN prompts p ON p.prompt_hash = x.prompt_hash
               WHERE c.assigned_lang = ?
               ORDER BY regexp_matches(p.text, '[^\\x00-\\x7F]') DESC, c.n_turns DESC, c.conversation_id LIMIT 1""",
            params=[lang],
        ).fetchall()[0]
    page.goto(f"{server_url}/browse?br_conv={cid}")
    app_ready(page)
    _no_exception(page)
    text = _main_text(page)
    assert f"Conversation {cid}" in text.replace("`", "")
    assert any(ord(ch) > 127 for ch in prompt), f"want a {lang} prompt with its own letters (accents, Devanagari)"
    first_words = " ".join(clean_text(prompt).split()[:4])
    assert first_words in re.sub(r"\s+", " ", text), (lang, first_words)
    save_screenshot(page, f"browse_reader_{lang}")


def test_agreement_ranking_and_a_contested_set(server_url, page, app_ready, save_screenshot):
    page.goto(f"{server_url}/agreement")
    app_ready(page)
    _no_exception(page)
    assert int(_metric(page, "Candidate sets").replace(",", "")) > 0
    assert "candidate sets under these filters were shown to more than one annotator" in _main_text(page)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 3
    save_screenshot(page, "agreement")

    # Sort by most divided between countries (a selectbox), then click through to the top prompt.
    sort = page.locator('[data-testid="stSelectbox"]', has=page.get_by_text("Sort prompts by"))
    sort.click()
    page.locator('[role="option"]', has_text="Most divided").first.click()
    app_ready(page)
    assert _params(page).get("ag_sort") == ["divided"]
    ranking = page.locator('[data-testid="stDataFrame"]:visible').first
    _click_first_row(page, ranking)
    app_ready(page)
    assert "ag_open" in _params(page)
    text = _main_text(page)
    assert "The prompt" in text and "Candidates" in text and "Choices per country" in text
    _no_exception(page)
    save_screenshot(page, "agreement_prompt")


def test_sql_console_runs_refuses_and_downloads(server_url, page, app_ready, save_screenshot, tmp_path):
    page.goto(f"{server_url}/sql_console")
    app_ready(page)
    _no_exception(page)
    editor = page.locator('[data-testid="stTextArea"] textarea').first
    editor.fill("SELECT country, count(*) AS n FROM comparison_facts GROUP BY country ORDER BY country")
    page.get_by_role("button", name="Run query").click()
    app_ready(page, text="5 rows")
    assert "5 rows" in _main_text(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="⬇ CSV").first.click()
    path = tmp_path / "result.csv"
    info.value.save_as(path)
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    assert lines[0] == "country,n" and len(lines) == 6
    assert "count(*)" in _params(page).get("sql_q", [""])[0]
    save_screenshot(page, "sql_console")

    editor.fill("DROP TABLE comparisons")
    page.get_by_role("button", name="Run query").click()
    app_ready(page)
    assert "Refused" in _main_text(page)
    editor.fill("SELECT * FROM read_csv('/etc/passwd')")
    page.get_by_role("button", name="Run query").click()
    app_ready(page)
    assert "read_csv() is refused" in _main_text(page)
    _no_exception(page)
    save_screenshot(page, "sql_console_refused")


def test_a_shared_link_opens_as_shared_on_a_fresh_server(fresh_server_url, e2e_db, page, app_ready, save_screenshot):
    """The first request a new server gets is a deep link: it must open through app.py (navigation, sidebar,
    filters), not as the bare page file (Streamlit's legacy pages/ router)."""
    with duckdb.connect(str(e2e_db), read_only=True) as con:
        cid = con.sql(
            "SELECT conversation_id FROM comparison_facts WHERE country = 'Italy' ORDER BY 1 LIMIT 1"
        ).fetchall()[0][0]
    page.goto(f"{fresh_server_url}/browse?country=Italy&br_conv={cid}")
    app_ready(page)
    _no_exception(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.locator('[data-testid="stMultiSelect"]').count() >= 6  # the global filters are there
    assert "Italy" in sidebar.locator('[data-testid="stMultiSelect"]').first.inner_text()
    assert "SYNTHETIC" in sidebar.inner_text()
    assert f"Conversation {cid}" in _main_text(page).replace("`", "")
    params = _params(page)
    assert params.get("country") == ["Italy"] and params.get("br_conv") == [cid]
    save_screenshot(page, "browse_deep_link_fresh_server")
