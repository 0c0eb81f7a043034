"""No outbound request from the app: a full tour of every page, in Chromium, on a server started the way `make app`
starts it (the repository's .streamlit/config.toml, no --server.address), on the release-format database whose
hostile texts point at a local recorder (``probe``). Every request the browser makes goes to the app's own address,
and the server itself asks nothing of the network: its HTTP(S)_PROXY is the recorder, so a lookup of its external
IP (checkip.amazonaws.com, made at start unless browser.serverAddress is set) would be recorded."""

from __future__ import annotations

from urllib.parse import urlparse

import duckdb
import pytest

from analysis.explore import agreement_queries
from ui import registry


@pytest.fixture(scope="module")
def proxied_server(release_db, probe, tmp_path_factory):
    """A server like `make app`'s (config.toml decides the address), every outbound request of its own sent to the
    recorder; yields (base URL, log path)."""
    from tests.e2e.conftest import _require_browser, streamlit_server

    _require_browser()
    log = tmp_path_factory.mktemp("offline_server") / "streamlit.log"
    proxy = {k: probe.url for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY")}
    probe.requests.clear()  # from here on, whatever the server or the browser asks of the network is recorded
    with streamlit_server(release_db, log, address=None, env={**proxy, "NO_PROXY": "", "no_proxy": ""}) as url:
        yield url, log


def _hostile_set(release_db, release_file) -> str:
    with duckdb.connect(str(release_db), read_only=True) as con:
        return con.execute(
            f"SELECT {agreement_queries.set_id_sql(con)} FROM comparisons WHERE conversation_id = ? AND turn = 1",
            [release_file.hostile_conversation],
        ).fetchall()[0][0]


def _visit(page, url: str, app_ready) -> None:
    page.goto(url)
    app_ready(page)
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, (url, exceptions.first.inner_text())


def test_a_full_tour_makes_no_request_beyond_the_app(proxied_server, probe, page, app_ready, release_db, release_file):
    base, log = proxied_server
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.on("websocket", lambda ws: seen.append(ws.url))
    paths = {p.path: "/" + p.url_path for p in registry.PAGES}
    tour = [
        "/?country=India",
        f"{paths['pages/browse.py']}?br_conv={release_file.hostile_conversation}",
        f"{paths['pages/agreement.py']}?ag_open={_hostile_set(release_db, release_file)}",
        paths["pages/sql_console.py"],
        paths["pages/values_map.py"],
        paths["pages/sampling_lab.py"],
        paths["pages/reward_recovery.py"],
        paths["pages/preferences.py"],
        f"{paths['pages/tour.py']}?tour_step=poles",
    ]
    assert len({p.split("?")[0] for p in tour}) == len(registry.PAGES), "the tour visits every page"
    for step in tour:
        _visit(page, base + step, app_ready)
        if step.startswith(paths["pages/agreement.py"]):
            page.get_by_text("Read the candidates in full").click()
            app_ready(page)
        if step == paths["pages/sql_console.py"]:
            page.locator('[data-testid="stTextArea"] textarea').first.fill("SELECT * FROM candidates LIMIT 50")
            page.get_by_role("button", name="Run query").click()
            app_ready(page)
            assert "50 rows" in page.locator('[data-testid="stMain"]').inner_text()
    page.wait_for_timeout(1500)  # time for any stray fetch to reach the recorder
    own = urlparse(base).netloc
    foreign = [u for u in seen if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != own]
    assert not foreign, f"the browser fetched from elsewhere: {foreign[:5]}"
    assert len(seen) > 20  # the recorder saw the tour
    assert probe.requests == [], f"a request left the app (through the recorder): {probe.requests}"
    banner = log.read_text()
    assert "External URL" not in banner and "URL: http://localhost:" in banner, banner[-2000:]
