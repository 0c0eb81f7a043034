"""A small demo database taken through the whole values pipeline (embed, axes score-db, project), built once per
test session and shared on disk by the values tests (pages/test_values_map, pipeline/test_llm_upload, e2e).

The real default model runs; nothing is mocked. Tests that write must copy the file first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from analysis.pipeline import steps

CONVERSATIONS = int(os.environ.get("CAE_VALUES_TEST_CONVERSATIONS", "120"))


def build_scored_demo(path: Path, conversations: int = CONVERSATIONS, seed: int = 0) -> Path:
    """Demo, then the pipeline's steps (embed, axes score-db, project) through the function every caller uses."""
    from analysis.pipeline.demo import build_demo

    tmp = path.with_name(path.name + ".building")
    for p in (tmp, Path(str(tmp) + ".wal")):
        if p.exists():
            p.unlink()
    build_demo(tmp, conversations=conversations, seed=seed)
    steps.run_steps(tmp)
    tmp.replace(path)
    return path


@pytest.fixture(scope="session")
def scored_demo_db(tmp_path_factory) -> Path:
    """Path of the scored demo database (read it; copy it before writing)."""
    prebuilt = os.environ.get("CAE_VALUES_SCORED_DB")  # a database built by build_scored_demo, to iterate quickly
    if prebuilt:
        return Path(prebuilt)
    root = tmp_path_factory.getbasetemp()
    path = root / "values_scored" / "demo.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build_scored_demo(path)
    return path


def writable_copy(src: Path, dest_dir: Path) -> Path:
    dest = dest_dir / "demo.duckdb"
    shutil.copy(src, dest)
    return dest
