"""A demo database with enough people per country to hold some out, embedded, scored on the axes and with the default
preference-model run stored (``python -m analysis prefs``'s path), built once per test session.

The demo is cut to its first few template topics (``build_demo(topics=...)``): 4,000 conversations by 500 people, but
only about 700 distinct texts, so the real default model embeds them in well under a minute. Nothing is mocked; tests
that write copy the file first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CONVERSATIONS = int(os.environ.get("CAE_PREFS_TEST_CONVERSATIONS", "4000"))
TOPICS = 4


def build_prefs_demo(path: Path, conversations: int = CONVERSATIONS, topics: int = TOPICS) -> Path:
    """Demo (few topics), embed, axes score-db, then the default prefs run: the functions the CLI calls."""
    from analysis.lab import prefs_store
    from analysis.lab.preferences import PrefsConfig
    from analysis.pipeline import axes_store, embed
    from analysis.pipeline.demo import build_demo

    tmp = path.with_name(path.name + ".building")
    for p in (tmp, Path(str(tmp) + ".wal")):
        if p.exists():
            p.unlink()
    build_demo(tmp, conversations=conversations, seed=0, topics=topics)
    embed.embed_db(tmp)
    axes_store.score_db(tmp)
    prefs_store.prefs_db(tmp, PrefsConfig())
    tmp.replace(path)
    return path


@pytest.fixture(scope="session")
def prefs_demo_db(tmp_path_factory) -> Path:
    """Path of the demo with a stored preference run (read it; copy it before writing)."""
    prebuilt = os.environ.get("CAE_PREFS_TEST_DB")  # a database built by build_prefs_demo, to iterate quickly
    if prebuilt:
        return Path(prebuilt)
    path = tmp_path_factory.getbasetemp() / "prefs_demo" / "demo.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build_prefs_demo(path)
    return path


def writable_copy(src: Path, dest_dir: Path) -> Path:
    dest = dest_dir / "prefs.duckdb"
    shutil.copy(src, dest)
    return dest
