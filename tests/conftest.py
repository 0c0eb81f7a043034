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


def pytest_configure(config):
    os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
