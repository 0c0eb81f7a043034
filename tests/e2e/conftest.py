"""End-to-end fixtures: the real Streamlit server on a demo database, driven by Debian's headless Chromium.

Reusable by every page's browser test:

- ``server_url`` (session): ``streamlit run app.py`` on a free port with CAE_DB pointing at a demo database built for
  this test session (3,000 conversations, seed 0, then the E2E_PIPELINE steps); the base URL, e.g.
  ``http://127.0.0.1:8765``. ``e2e_db`` (session) is that database's path.
- ``release_server_url`` (session): the same on the database built from a release-format file the project has never
  seen (``release_db``; its hostile texts point at the ``probe`` request recorder of tests/conftest.py).
- ``fresh_server_url`` (function): a server of its own that has served nothing yet (deep links on a new process).
- ``page`` (function): a fresh browser context and page (1400 x 1000), closed after the test.
- ``wait_for_app(page)``: wait until Streamlit has finished running (no running indicator, no stale elements).
- ``screenshot(page, name)``: save ``tests/e2e/screenshots/<name>.png`` (full page) and return its path;
  ``colour_share(path, hex)`` / ``plot_markers(page, i)`` check what a screenshot or chart shows (fixture ``pixels``).

As fixtures for test files: ``app_ready`` (= wait_for_app) and ``save_screenshot`` (= screenshot).

Playwright never downloads a browser here: it drives /usr/bin/chromium. With CI=true the tests must run: a missing
browser is an error, not a skip. Locally they skip when chromium is absent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("CAE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SERVER_START_TIMEOUT_S = 90
# Pipeline steps run on the e2e database after the demo is built, as `python -m analysis <step...> --db PATH`.
# A page that needs more than the demo tables (embeddings, a projection, axis scores) adds its steps here, one line
# each, e.g. ["embed"], ["project"], ["axes", "score-db"].
E2E_PIPELINE: list[list[str]] = []
PIPELINE_TIMEOUT_S = 1200
APP_TIMEOUT_MS = 60_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _require_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"chromium not found at {CHROMIUM} (install Debian's: apt-get install chromium fonts-noto-core)"
    if _in_ci():
        pytest.fail(message + " — CI=true: browser tests must run, never skip")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def e2e_db(tmp_path_factory) -> Path:
    """A demo database for the browser tests (the default size, so the agreement page has prompts with 10+ answers)."""
    from analysis.pipeline.demo import build_demo

    path = tmp_path_factory.mktemp("e2e_db") / "demo.duckdb"
    build_demo(path, seed=0)
    for step in E2E_PIPELINE:
        done = subprocess.run(
            [sys.executable, "-m", "analysis", *step, "--db", str(path)], cwd=ROOT, capture_output=True, text=True,
            timeout=PIPELINE_TIMEOUT_S,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"e2e database step {step} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return path


@contextlib.contextmanager
def streamlit_server(db: Path, log_path: Path, address: str | None = "127.0.0.1", env: dict | None = None):
    """``streamlit run app.py`` on a free port with CAE_DB=db; yields the base URL; stops the server afterwards.
    ``address=None`` leaves the listening address to the repository's .streamlit/config.toml, as `make app` does;
    ``env`` adds to the server's environment."""
    port = _free_port()
    env = {
        **os.environ,
        "CAE_DB": str(db),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "STREAMLIT_SERVER_HEADLESS": "true",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
        **(env or {}),
    }
    streamlit = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    cmd = [
        streamlit, "run", str(ROOT / "app.py"),
        "--server.headless", "true", "--server.port", str(port), "--browser.gatherUsageStats", "false",
        *(["--server.address", address] if address else []),
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                tail = log_path.read_text()[-3000:]
                raise RuntimeError(f"streamlit did not start in {SERVER_START_TIMEOUT_S} s:\n{tail}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def server_url(e2e_db, tmp_path_factory):
    _require_browser()
    with streamlit_server(e2e_db, tmp_path_factory.mktemp("e2e_server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def release_server_url(release_db, tmp_path_factory):
    """A server on the database built from the release-format file (tests/release_format.py, fixture release_db)."""
    _require_browser()
    with streamlit_server(release_db, tmp_path_factory.mktemp("release_server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def fresh_server_url(e2e_db, tmp_path):
    """A server of its own that has served nothing yet (for what only a fresh process shows, e.g. deep links)."""
    _require_browser()
    with streamlit_server(e2e_db, tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def _browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(_browser):
    context = _browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    context.set_default_timeout(APP_TIMEOUT_MS)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def wait_for_app(page, timeout_ms: int = APP_TIMEOUT_MS, text: str | None = None) -> None:
    """Wait until Streamlit has finished running: the app is mounted, no running indicator, no stale elements; with
    ``text``, also until the main area shows it (after a click the rerun may not have started when the first check
    runs, on a loaded machine)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    if text is not None:
        page.wait_for_function(
            """(t) => (document.querySelector('[data-testid="stMainBlockContainer"]')?.innerText || '').includes(t)""",
            arg=text,
            timeout=timeout_ms,
        )
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app) return false;
            const running = document.querySelector('[data-testid="stStatusWidget"]');
            if (running && running.innerText && /running|connecting/i.test(running.innerText)) return false;
            if (app.getAttribute('data-test-script-state') === 'running') return false;
            if (document.querySelector('[data-stale="true"]')) return false;
            if (document.querySelector('[data-testid="stSkeleton"]')) return false;
            const main = document.querySelector('[data-testid="stMainBlockContainer"]');
            return !!main && main.innerText.trim().length > 0;
        }""",
        timeout=timeout_ms,
    )
    # Streamlit may start a follow-up rerun right after a widget's value lands; settle once more.
    page.wait_for_timeout(300)
    page.wait_for_function(
        """() => !document.querySelector('[data-stale="true"]')
                && document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state') !== 'running'""",
        timeout=timeout_ms,
    )


def screenshot(page, name: str, max_height: int = 6000) -> Path:
    """Save the whole page. Streamlit scrolls inside its main container, not the document, so the viewport is grown
    to the content's height for the shot (capped at ``max_height``) and restored afterwards."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 1000}
    height = page.evaluate(
        """() => Math.max(...['[data-testid="stMain"]', '[data-testid="stSidebarContent"]', 'body']
                .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))"""
    )
    page.set_viewport_size({"width": size["width"], "height": int(min(max(height, size["height"]), max_height))})
    try:
        page.wait_for_timeout(400)  # let charts re-layout to the new size
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    return path


def colour_share(path: Path, hex_colour: str, tolerance: int = 12) -> float:
    """The share of a screenshot's pixels within ``tolerance`` (per channel) of ``hex_colour``."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    target = np.array([int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.int16)
    return float((np.abs(rgb - target).max(axis=2) <= tolerance).mean())


def plot_markers(page, chart_index: int) -> int:
    """How many point markers a (non-WebGL) Plotly chart on the page has drawn."""
    return page.locator(".js-plotly-plot").nth(chart_index).locator("path.point").count()


@pytest.fixture
def pixels():
    """``colour_share`` and ``plot_markers`` as a fixture (conftest modules are not importable by name)."""
    return type("Pixels", (), {"share": staticmethod(colour_share), "markers": staticmethod(plot_markers)})


@pytest.fixture
def app_ready():
    """The ``wait_for_app`` helper as a fixture (conftest modules are not importable by name from test files)."""
    return wait_for_app


@pytest.fixture
def save_screenshot():
    """The ``screenshot`` helper as a fixture: save_screenshot(page, "name") -> Path."""
    return screenshot
