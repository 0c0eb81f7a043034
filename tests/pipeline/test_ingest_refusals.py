"""Ingest refuses, before building anything, what it cannot do (exit code 2, one line, a JSON error under --json):
a file without data rows, a --db that is the source, a --db it cannot create; it names the likely cause of a CSV
DuckDB cannot read; Ctrl-C and SIGTERM end with one line and no temporary files; the temporary files of a killed
ingest are removed by the next one."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis import schema
from analysis.pipeline import ingest_checks
from tests.pipeline.test_ingest import make_row, write_csv

ROOT = Path(__file__).resolve().parents[2]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ingest(source: Path, db: Path | str, cwd: Path = ROOT) -> tuple[int, dict, str]:
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "ingest", str(source), "--db", str(db), "--json"],
        capture_output=True, text=True, cwd=cwd, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # one JSON object, whatever happened
    return done.returncode, json.loads(lines[0]), done.stderr


def _assert_refused(code: int, out: dict, err: str, *words: str) -> None:
    assert code == 2, (code, out, err)
    assert out["exit_code"] == 2 and "Nothing was changed" in out["error"], out
    for word in words:
        assert word in out["error"], (word, out["error"])
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.fixture
def good_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "release.csv", [make_row(f"c{i}", f"a{i}", turns=2) for i in range(12)])


@pytest.fixture
def existing_db(tmp_path, good_csv) -> Path:
    db = tmp_path / "existing.duckdb"
    code, out, err = _ingest(good_csv, db)
    assert code == 0, err
    return db


def test_a_file_with_a_header_and_no_rows_never_replaces_a_database(tmp_path, existing_db):
    """It exited 0 and replaced the database with an empty one."""
    header_only = write_csv(tmp_path / "header_only.csv", [])
    before = _sha(existing_db)
    _assert_refused(*_ingest(header_only, existing_db), "no data rows")
    assert _sha(existing_db) == before
    fresh = tmp_path / "fresh.duckdb"
    _assert_refused(*_ingest(header_only, fresh), "no data rows")
    assert not fresh.exists()
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n\n")
    _assert_refused(*_ingest(blank, existing_db), "blank lines")
    assert _sha(existing_db) == before


def test_a_db_that_is_or_resolves_to_the_source_is_refused(tmp_path, good_csv):
    """--db pointing at the source CSV overwrote the CSV with a database."""
    before = _sha(good_csv)
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.duckdb"
    link.symlink_to(good_csv)
    hard = tmp_path / "hard.duckdb"
    os.link(good_csv, hard)
    for db, cwd in ((good_csv, ROOT), (Path("release.csv"), tmp_path), (Path("sub/../release.csv"), tmp_path),
                    (link, ROOT), (hard, ROOT)):  # fmt: skip
        _assert_refused(*_ingest(good_csv, db, cwd=cwd), "is the source file itself")
        assert _sha(good_csv) == before, db


@pytest.mark.parametrize("where", ["directory", "file_as_folder", "proc", "device"])
def test_a_db_that_cannot_be_created_is_refused_before_building(tmp_path, good_csv, where):
    """A directory, a missing parent that cannot be made, /proc or a device gave a raw traceback and no JSON
    (for a directory only after the whole build)."""
    db = {
        "directory": tmp_path,
        "file_as_folder": good_csv / "x.duckdb",
        "proc": Path("/proc/1/explorer.duckdb"),
        "device": Path("/dev/null"),
    }[where]
    words = {"directory": "is a directory", "file_as_folder": "is a file, not a folder", "proc": "Cannot create",
             "device": "not a regular file"}[where]  # fmt: skip
    started = time.perf_counter()
    _assert_refused(*_ingest(good_csv, db), words)
    assert time.perf_counter() - started < 60
    assert not list(tmp_path.glob(".*.tmp-*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_without_write_permission_is_refused(tmp_path, good_csv):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        _assert_refused(*_ingest(good_csv, locked / "x.duckdb"), "Permission denied")
    finally:
        locked.chmod(0o700)


def _write_rows(path: Path, rows: list[dict], **fmt) -> Path:
    with open(path, "w", newline="", encoding=fmt.pop("encoding", "utf-8")) as f:
        w = csv.DictWriter(f, list(schema.RELEASE_COLUMNS), **fmt)
        w.writeheader()
        w.writerows(rows)
    return path


def _dialect_file(kind: str, tmp_path: Path) -> Path:
    rows = [make_row(f"c{i}", f"a{i}", turns=2) for i in range(12)]
    good = _write_rows(tmp_path / "good.csv", rows)
    text = good.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    path = tmp_path / f"{kind}.csv"
    if kind == "semicolons":
        _write_rows(path, rows, delimiter=";")
    elif kind == "tabs":
        _write_rows(path, rows, delimiter="\t")
    elif kind == "utf16":
        path.write_text(text, encoding="utf-16")
    elif kind == "latin1":
        path.write_bytes(text.replace("answer a", "rèponse a").encode("latin-1"))
    elif kind == "gzip":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    elif kind == "quoting":
        path.write_text(lines[0] + lines[1].replace("c0 prompt 1", '"c0 prompt 1', 1) + "".join(lines[2:]))
    elif kind == "ragged":
        path.write_text(lines[0] + lines[1] + lines[2].rstrip("\r\n") + ",extra,more\r\n" + "".join(lines[3:]))
    return path


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("semicolons", ["separated by semicolons", "comma-separated"]),
        ("tabs", ["separated by tabs"]),
        ("utf16", ["UTF-16", "iconv"]),
        ("latin1", ["not UTF-8", "line 2", "iconv"]),
        ("gzip", ["gzip-compressed", ".csv.gz"]),
        ("quoting", ["quoting problem", '("")']),
        ("ragged", ["line 3 has 43 fields", "header has 41"]),
    ],
)
def test_a_csv_dialect_failure_names_the_likely_cause_and_what_to_do(tmp_path, existing_db, kind, words):
    """They all got DuckDB's generic "could not detect the CSV dialect" with options the CLI cannot set."""
    before = _sha(existing_db)
    code, out, err = _ingest(_dialect_file(kind, tmp_path), existing_db)
    _assert_refused(code, out, err, *words)
    assert "sniffing" not in out["error"] and "strict_mode" not in out["error"]
    assert _sha(existing_db) == before


# ---- stopping and killed ingests --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    """A release-format file that takes a few seconds to ingest (about 130 MB)."""
    from analysis.pipeline.demo import write_demo_csv

    return write_demo_csv(tmp_path_factory.mktemp("big") / "big.csv", conversations=30_000, seed=3)


def _start(source: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "analysis", "ingest", str(source), "--db", str(db), "--json"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def _temporaries(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.glob(f".{db.name}.tmp-*"))


def _stop_midway(proc: subprocess.Popen, db: Path, sig: int) -> tuple[str, str]:
    deadline = time.monotonic() + 120
    while not _temporaries(db):
        assert proc.poll() is None, "the ingest ended before it could be stopped"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "the ingest ended before it could be stopped"
    proc.send_signal(sig)
    return proc.communicate(timeout=120)


@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_ctrl_c_and_sigterm_end_with_one_line_and_no_temporary_files(big_csv, tmp_path, sig, code, word):
    """Ctrl-C printed a traceback; SIGTERM left .NAME.duckdb.tmp-PID files of up to 21 MB."""
    db = tmp_path / "stopped.duckdb"
    proc = _start(big_csv, db)
    out, err = _stop_midway(proc, db, sig)
    assert proc.returncode == code, (proc.returncode, err[-2000:])
    assert json.loads(out)["exit_code"] == code
    assert word in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert _temporaries(db) == [] and not db.exists()


def test_the_temporary_files_of_a_killed_ingest_are_removed_by_the_next(big_csv, good_csv, tmp_path):
    db = tmp_path / "killed.duckdb"
    proc = _start(big_csv, db)
    _stop_midway(proc, db, signal.SIGKILL)
    left = _temporaries(db)
    assert left, "SIGKILL leaves the build's files behind"
    # Another ingest's files, whose process is alive, are left alone.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        alive = db.with_name(f".{db.name}.tmp-{sleeper.pid}")
        alive.write_bytes(b"in progress")
        code, out, err = _ingest(good_csv, db)
        assert code == 0, err
        assert _temporaries(db) == [alive.name]
    finally:
        sleeper.kill()
        sleeper.wait()
    code, out, err = _ingest(good_csv, db)
    assert code == 0 and _temporaries(db) == []


def test_stale_temporaries_are_recognised_by_their_process(tmp_path):
    db = tmp_path / "x.duckdb"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    files = [f".x.duckdb.tmp-{dead}", f".x.duckdb.tmp-{dead}.wal", f".x.duckdb.tmp-{os.getpid()}", ".y.duckdb.tmp-1"]
    for name in files:
        (tmp_path / name).write_text("x")
    (tmp_path / f".x.duckdb.tmp-{dead}.spill").mkdir()
    (tmp_path / f".x.duckdb.tmp-{dead}.spill" / "duckdb_temp_block").write_text("x")
    removed = {p.name for p in ingest_checks.remove_stale_temporaries(db)}
    assert removed == {f".x.duckdb.tmp-{dead}", f".x.duckdb.tmp-{dead}.wal", f".x.duckdb.tmp-{dead}.spill"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f".x.duckdb.tmp-{os.getpid()}", ".y.duckdb.tmp-1"])
