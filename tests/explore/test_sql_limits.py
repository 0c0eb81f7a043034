"""The SQL console's worker process and its hard limits: list and string functions that allocate outside DuckDB's
memory limit and ignore its interrupt (in the app's own process they took the server to 14 GB and ran 70 s past a
10 s limit) end within the time limit plus two seconds, with the app's memory bounded; the limit that stopped a
query is named; temporary files stay in a private folder that is removed; no worker outlives its query.

The probes are sized to need 1.5-8 GB against a 1 GB budget, so a machine with 2 GB free runs them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from analysis.explore import sql_console

ROOT = Path(__file__).resolve().parents[2]
GB = 1024**3
# Allocations the console must survive (the probes, and one that needs 4 GB).
ALLOCATION_PROBES = [
    "SELECT list_sum(range(500000000::BIGINT))",
    "SELECT list_sum(range(200000000::BIGINT))",
    "SELECT length(repeat('x', 2000000000))",
    "SELECT range(1e9::BIGINT)",
    "SELECT generate_series(1, 1e9::BIGINT)",
    "SELECT unnest(range(1e9::BIGINT))",
]
# One that fits in the budget: it may finish or stop, but never past the limits.
FITS = "SELECT list_sum(range(50000000::BIGINT))"
# A single call that ignores DuckDB's interrupt for many seconds while using little memory (about 0.5 GB).
UNINTERRUPTIBLE = "SELECT length(regexp_replace(repeat('ab', 40000000), 'a', 'cc', 'g'))"

PROBE_SCRIPT = """
import json, resource, sys, time
from analysis.explore import sql_console

db, timeout, queries = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
runs = []
for sql in queries:
    started = time.perf_counter()
    result = sql_console.run_query(db, sql, timeout_s=timeout, limits=sql_console.Limits(memory_mb=1024))
    runs.append({"sql": sql, "status": result.status, "message": result.message,
                 "seconds": time.perf_counter() - started})
after = sql_console.run_query(db, "SELECT 42 AS x")
peak = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"runs": runs, "after": after.frame["x"][0] if after.ok else None, "parent_peak": peak,
                  "worker_peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


@pytest.fixture(scope="module")
def db(demo_db, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("limits") / "demo.duckdb"
    shutil.copy(demo_db, path)
    return path


def _workers_of_this_process() -> list[int]:
    """Live processes started from here that run the console's worker."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if sql_console.WORKER_MODULE.encode() in cmdline:
            found.append(int(proc.name))
    return found


def _private_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("cae-sql-*")}


def test_allocation_probes_end_within_the_time_limit_and_the_app_stays_small(db):
    """Run in a fresh Python process that plays the app: its peak memory (VmHWM) and the largest worker's
    (RUSAGE_CHILDREN) stay under 1.5 GB, and every probe ends within the time limit plus two seconds."""
    timeout = 10.0
    done = subprocess.run(
        [sys.executable, "-c", PROBE_SCRIPT, str(db), str(timeout), json.dumps([*ALLOCATION_PROBES, FITS])],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    for run in report["runs"]:
        assert run["seconds"] < timeout + 2, run
        if run["sql"] in ALLOCATION_PROBES:
            assert run["status"] == "memory", run
            assert "memory" in run["message"] and "1,024 MB" in run["message"], run
        else:
            assert run["status"] in ("ok", "memory"), run
    assert report["after"] == 42  # the console still answers
    assert report["parent_peak"] < 1.5 * GB, report["parent_peak"]
    assert report["worker_peak"] < 1.5 * GB, report["worker_peak"]


def test_a_query_that_ignores_the_interrupt_is_killed_at_the_time_limit(db):
    before = _private_folders()
    started = time.perf_counter()
    result = sql_console.run_query(db, UNINTERRUPTIBLE, timeout_s=3)
    elapsed = time.perf_counter() - started
    assert result.status == "timeout", (result.status, result.message)
    assert "did not stop when asked" in result.message
    assert elapsed < 3 + 2, elapsed
    assert _workers_of_this_process() == []
    assert _private_folders() <= before


def test_the_cpu_limit_stops_a_query_and_says_so(db):
    result = sql_console.run_query(db, UNINTERRUPTIBLE, timeout_s=60, limits=sql_console.Limits(cpu_s=1))
    assert result.status == "cpu", (result.status, result.message)
    assert "CPU" in result.message and "1 s" in result.message


def test_the_result_size_limit_stops_a_query_and_says_so(db):
    sql = "SELECT repeat('x', 1000) AS t FROM range(5000)"
    result = sql_console.run_query(db, sql, row_limit=10_000, limits=sql_console.Limits(max_result_mb=1))
    assert result.status == "too_large", (result.status, result.message)
    assert "1 MB" in result.message
    assert sql_console.run_query(db, sql, row_limit=10_000).frame.height == 5000  # under the default limit


def test_a_spilling_sort_writes_only_to_a_private_folder_that_is_removed(db, tmp_path, monkeypatch):
    """DuckDB's default temporary folder is ./.tmp under the working directory (1.3 GB were written there)."""
    monkeypatch.chdir(tmp_path)
    before = _private_folders()
    sql = "SELECT i, h FROM (SELECT range AS i, md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS h FROM range(2500000)) ORDER BY h"
    result = sql_console.run_query(db, sql, row_limit=10, timeout_s=60,
                                   limits=sql_console.Limits(duckdb_memory_mb=64))  # fmt: skip
    assert result.status == "ok", result.message
    assert list(tmp_path.iterdir()) == []
    assert _private_folders() <= before


@pytest.mark.parametrize(
    ("returncode", "status", "words"),
    [
        (-signal.SIGXCPU, "cpu", "CPU time"),
        (-signal.SIGSEGV, "memory", "SIGSEGV"),
        (-signal.SIGABRT, "memory", "memory"),
        (-signal.SIGKILL, "memory", "memory"),
        (1, "error", "exit code 1"),
    ],
)
def test_a_worker_that_ends_without_a_reply_is_explained(returncode, status, words):
    got, message = sql_console._signal_outcome(returncode, b"Traceback\nboom", 10, sql_console.Limits())
    assert got == status and words in message
