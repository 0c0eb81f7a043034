"""The app notices when its database file was replaced (an ingest swaps a new file in) and shows the new data:
the replaced file stayed open in the server, so the dashboard kept showing the old data while the SQL console (a
process of its own) showed the new."""

from __future__ import annotations

import os
import shutil

import pytest

from analysis.pipeline.demo import build_demo
from tests.pages.harness import app_on, metrics

pytestmark = pytest.mark.usefixtures("navigation_mode")


def test_a_replaced_database_is_reopened_and_the_caches_cleared(demo_db, tmp_path, monkeypatch):
    path = tmp_path / "live.duckdb"
    shutil.copy(demo_db, path)
    smaller = tmp_path / "smaller.duckdb"
    build_demo(smaller, conversations=200, seed=5)
    make = app_on(path, monkeypatch)
    at = make()
    before = metrics(at)["Conversations"]
    assert before == "600"
    os.replace(smaller, path)  # what ingest does: an atomic swap while the app has the old file open
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert metrics(at)["Conversations"] == "200"
    assert "200 conversations" in "\n".join(c.value for c in at.sidebar.caption)
    fresh = make()  # a new session sees the new file too
    assert metrics(fresh)["Conversations"] == "200"
