"""The Values map on a database the background job has only partly embedded (its shards, nothing in the database's
tables): the embedded fraction, the findings from the sample with their intervals, the start button, and the figures
that follow the shards only when the reader asks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis import store
from analysis.pipeline import embed_job, shards
from analysis.pipeline.demo import build_demo
from analysis.pipeline.models import DEFAULT_MODEL

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "values_map.py")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Path:
    """A small demo embedded by the job (in this process), 8 texts per shard."""
    db = tmp_path_factory.mktemp("bg") / "full.duckdb"
    build_demo(db, conversations=24, seed=2, topics=1)
    assert embed_job.run_job(db, flush_texts=8)["state"] == "done"
    return db


def _partial(embedded: Path, tmp_path: Path, n_shards: int) -> Path:
    """A copy of the database with only the job's first ``n_shards`` shards (as if it were still running)."""
    db = tmp_path / "partial.duckdb"
    shutil.copy(embedded, db)
    dst = shards.shard_dir(db, DEFAULT_MODEL)
    dst.mkdir(parents=True)
    for f in shards.shard_files(embedded, DEFAULT_MODEL)[:n_shards]:
        shutil.copy(f, dst / f.name)
    return db


def _counts(db: Path) -> tuple[int, int]:
    """(texts placed by the shards, texts in the database), counted without the app's code."""
    con = store.connect(db)
    try:
        files = ", ".join(f"'{f}'" for f in shards.shard_files(db, DEFAULT_MODEL))
        placed = con.execute(f"SELECT count(DISTINCT text_hash) FROM read_parquet([{files}])").fetchall()[0][0]
        total = con.execute(
            "SELECT count(*) FROM (SELECT text_hash FROM candidates UNION SELECT prompt_hash FROM prompts "
            "UNION SELECT text_hash FROM llm_responses)"
        ).fetchall()[0][0]
    finally:
        con.close()
    return placed, total


def _app(db: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("CAE_DB", str(db))
    return AppTest.from_file(PAGE, default_timeout=300).run()


def test_partly_embedded_shows_the_fraction_the_findings_with_intervals_and_a_start_button(
    embedded, tmp_path, monkeypatch
):
    db = _partial(embedded, tmp_path, 4)
    placed, total = _counts(db)
    at = _app(db, monkeypatch)
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert f"{placed:,} of {total:,} texts placed on the axes ({placed / total:.1%})" in captions
    assert "Findings from the sample placed so far" in [s.value for s in at.subheader]
    table = next(df.value for df in at.dataframe if "group" in df.value.columns)
    assert "All countries" in table["group"].to_list()
    interval = re.compile(r"^[+-]?\d+\.\d\d \[[+-]?\d+\.\d\d–[+-]?\d+\.\d\d\]$")
    assert any(interval.match(str(v)) for v in table["spread of choices"].to_list())
    assert any(b.label.startswith(f"Embed the remaining {total - placed:,} texts in the background") for b in at.button)


def test_the_figures_follow_new_shards_only_when_the_reader_asks(embedded, tmp_path, monkeypatch):
    db = _partial(embedded, tmp_path, 2)
    at = _app(db, monkeypatch)
    before = " ".join(c.value for c in at.caption)
    for f in shards.shard_files(embedded, DEFAULT_MODEL)[2:6]:  # the job writes four more shards
        shutil.copy(f, shards.shard_dir(db, DEFAULT_MODEL) / f.name)
    at.run()
    assert " ".join(c.value for c in at.caption) == before  # a rerun keeps the figures the reader was reading
    assert any(b.label.startswith("Update the figures with everything embedded") for b in at.button)
    next(b for b in at.button if b.label.startswith("Update the figures")).click().run()
    placed, total = _counts(db)
    assert f"{placed:,} of {total:,} texts placed" in " ".join(c.value for c in at.caption)
