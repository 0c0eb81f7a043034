"""Shared fixtures: real demo databases built once per test session through the real ingest path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A small demo database (600 conversations, seed 0). Read it; copy it before writing."""
    from analysis.pipeline.demo import build_demo

    path = tmp_path_factory.mktemp("demo_small") / "demo.duckdb"
    build_demo(path, conversations=600, seed=0)
    return path


@pytest.fixture(scope="session")
def demo_db_full(tmp_path_factory) -> Path:
    """The default-size demo database (3,000 conversations, seed 0)."""
    from analysis.pipeline.demo import build_demo

    path = tmp_path_factory.mktemp("demo_full") / "demo.duckdb"
    build_demo(path, seed=0)
    return path


class _Probe:
    """A local HTTP server that records every request it gets: the hostile texts in the release-format file point
    at it, so a test can prove that the browser fetched nothing they name."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.requests: list[str] = []
        probe = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                probe.requests.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_POST = do_HEAD = do_CONNECT = do_GET  # noqa: N815 (as a proxy too: a CONNECT is a request)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="session")
def probe():
    p = _Probe()
    yield p
    p.server.shutdown()


@pytest.fixture(scope="session")
def release_file(tmp_path_factory, probe):
    """A file in the release's format the explorer has never seen (tests/release_format.py), and what is in it."""
    from tests.release_format import write_release_file

    return write_release_file(tmp_path_factory.mktemp("release") / "community_alignment.csv", probe.url)


@pytest.fixture(scope="session")
def release_db(release_file) -> Path:
    """That file ingested through the CLI a user runs (``python -m analysis ingest``). Read it; copy before writing."""
    import subprocess

    db = release_file.path.with_name("release.duckdb")
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "ingest", str(release_file.path), "--db", str(db), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    db.with_name("ingest_summary.json").write_text(done.stdout)  # the CLI's JSON summary, for the tests to read
    return db


def pytest_configure(config):
    os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
