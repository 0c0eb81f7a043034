"""Ingest's options: the DuckDB memory limit is applied (a limit DuckDB cannot read is refused, none is left unset),
and the progress bar counts every step of the build."""

from __future__ import annotations

import duckdb
import pytest

from analysis.pipeline.ingest import IngestError, ingest
from tests.pipeline.test_ingest import make_row, write_csv


@pytest.fixture
def small_csv(tmp_path):
    return write_csv(tmp_path / "x.csv", [make_row("c1"), make_row("c2", "ann-2", turns=2)])


def test_the_memory_limit_reaches_duckdb(small_csv, tmp_path):
    db = tmp_path / "x.duckdb"
    with pytest.raises((IngestError, duckdb.Error), match="(?i)memory"):  # DuckDB parses it: it was applied
        ingest(small_csv, db, memory_limit="not-a-size")
    assert not db.exists()  # and a refused build leaves nothing behind
    ingest(small_csv, db, memory_limit=None)  # no limit asked for: none set (DuckDB's default), the build completes
    assert db.exists()


def test_the_progress_bar_counts_every_step(small_csv, tmp_path, capsys):
    ingest(small_csv, tmp_path / "p.duckdb", progress=True)
    err = capsys.readouterr().err
    assert "ingest" in err and "7/7" in err  # seven build steps, each counted once
