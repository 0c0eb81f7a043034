"""A read-only SQL console over the explorer database that cannot change anything, reach outside it, or take the
server down with it.

Four layers, each enough on its own for the common cases (defence in depth):

1. The guard (analysis.explore.sql_guard): DuckDB's own parser decides which statements run at all.
2. A worker process per query (analysis.explore.sql_worker), started fresh and ended afterwards, with hard limits set
   by the operating system: address space (``RLIMIT_AS``: list and string functions that allocate outside DuckDB's
   memory limit fail there, not in the app), CPU time (``RLIMIT_CPU``), no core files, and a SIGKILL of its whole
   process group at the time limit plus a short grace, for the functions that ignore DuckDB's interrupt. Its
   temporary files go to a private folder (``tempfile.mkdtemp``) that is removed afterwards. At most
   ``MAX_WORKERS`` run at once.
3. In the worker, a separate DuckDB instance: an in-memory database that ATTACHes the explorer file READ_ONLY, with
   ``enable_external_access = false`` (no file system, no network, no extension install/load), extension
   autoloading off, memory, thread and spill limits, and ``lock_configuration = true`` so no statement can undo any
   of it (``open_console``).
4. Limits on the result: rows read in batches up to a cap (never materialised beyond it), a cap on its bytes, and
   every column checked to display and download; a column that cannot is cast to text in SQL. The result comes back
   as an Arrow IPC file in the private folder, never as pickled objects.

The app and the CLI get a ``ConsoleResult`` whatever the query does; its status says which limit stopped it.
The CLI: ``python -m analysis sql --db PATH "SELECT ..."`` (``analysis.cli.sql``).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from analysis.explore.result_files import first_line
from analysis.explore.sql_guard import Checked, RefusedQuery, check_query, check_statement

__all__ = ["RefusedQuery", "check_query", "check_statement", "run_query", "open_console", "Limits", "ConsoleResult"]

DEFAULT_ROW_LIMIT = 1_000
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_LIMIT = "512MB"  # DuckDB's own buffer limit inside the worker
CATALOG = "explorer"  # the name the database is attached under in the console instance
WORKER_MODULE = "analysis.explore.sql_worker"
MAX_WORKERS = 2  # console queries running at once in this process; a third waits for a slot
STOPPED = ("timeout", "memory", "cpu", "too_large", "busy")

EXAMPLES: dict[str, str] = {
    "Tables and their sizes": (
        "SELECT table_name, estimated_size AS rows, column_count\nFROM duckdb_tables()\nORDER BY table_name"
    ),
    "Comparisons by country and language": (
        "SELECT country, assigned_lang, count(*) AS comparisons,\n"
        "       count(DISTINCT annotator_id) AS annotators\n"
        "FROM comparison_facts\nGROUP BY ALL\nORDER BY comparisons DESC"
    ),
    "Position bias (share of choices a-d)": (
        "SELECT chosen, count(*) AS n,\n       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct\n"
        "FROM comparisons\nGROUP BY chosen\nORDER BY chosen"
    ),
    "Most-answered prompts": (
        "SELECT n_annotators, n_comparisons, left(text, 120) AS prompt\n"
        "FROM prompts\nORDER BY n_annotators DESC\nLIMIT 20"
    ),
    "Share of turns with written feedback, by country": (
        "SELECT country,\n       round(100.0 * avg((feedback IS NOT NULL)::INT), 1) AS pct_with_feedback\n"
        "FROM comparison_facts\nGROUP BY country\nORDER BY pct_with_feedback DESC"
    ),
    "Longest chosen responses": (
        "SELECT c.comparison_id, t.n_chars, left(t.text, 160) AS chosen_text\n"
        "FROM comparisons c JOIN candidates t ON t.text_hash = c.chosen_hash\n"
        "ORDER BY t.n_chars DESC\nLIMIT 10"
    ),
}

_SLOTS = threading.BoundedSemaphore(MAX_WORKERS)


@dataclass(frozen=True)
class Limits:
    """What one query may use. The defaults fit a 2.7 GB Streamlit Community Cloud box beside the app."""

    memory_mb: int = 1024  # address space the worker may add to its start-up footprint (RLIMIT_AS)
    duckdb_memory_mb: int = 512  # DuckDB's buffers; larger sorts and joins spill to the private folder
    threads: int = 2
    cpu_s: float | None = None  # CPU seconds (RLIMIT_CPU); None: time limit x threads + 5
    max_result_mb: int = 100  # the result handed back to the app
    max_temp_mb: int = 1024  # what DuckDB may spill to the private folder
    grace_s: float = 1.0  # the hard kill comes this long after the time limit

    def cpu_seconds(self, timeout_s: float) -> float:
        return self.cpu_s if self.cpu_s is not None else timeout_s * self.threads + 5


@dataclass
class ConsoleResult:
    status: str  # "ok" | "refused" | "error" | one of STOPPED (which limit stopped it)
    message: str = ""
    frame: pl.DataFrame = field(default_factory=pl.DataFrame)
    truncated: bool = False
    row_limit: int = DEFAULT_ROW_LIMIT
    elapsed_s: float = 0.0
    statement: str = ""
    text_columns: tuple[str, ...] = ()  # columns cast to text because they could not be shown or downloaded

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def stopped(self) -> bool:
        return self.status in STOPPED


# ---- the locked-down instance (runs in the worker) --------------------------------------------------------------
def open_console(
    db_path: str | Path,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int | None = None,
    temp_directory: str | Path | None = None,
    max_temp_size: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """A separate DuckDB instance that sees the database read-only and nothing else, its settings locked."""
    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"No database at {path}. Build the demo with `python -m analysis demo --db {path}`.")
    config: dict[str, object] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "memory_limit": memory_limit,
    }
    if threads:
        config["threads"] = int(threads)
    if temp_directory:
        config["temp_directory"] = str(temp_directory)
    if max_temp_size:
        config["max_temp_directory_size"] = max_temp_size
    con = duckdb.connect(":memory:", config=config)
    try:
        escaped = str(path.resolve()).replace("'", "''")
        con.execute(f"ATTACH '{escaped}' AS {CATALOG} (READ_ONLY)")
        con.execute(f"USE {CATALOG}")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


# ---- the parent: one worker per query ---------------------------------------------------------------------------
def _worker_env(limits: Limits) -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    env.update(
        MALLOC_ARENA_MAX="2",  # glibc reserves 64 MB of address space per arena: keep the footprint small
        RUST_BACKTRACE="0",  # a Polars panic prints one line, not a backtrace
        POLARS_MAX_THREADS=str(max(1, limits.threads)),
        OMP_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker leads its own process group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


def _start(workdir: Path, request: dict, limits: Limits) -> subprocess.Popen:
    (workdir / "request.json").write_text(json.dumps(request), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", WORKER_MODULE, str(workdir)], cwd=workdir, env=_worker_env(limits),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def _wait(proc: subprocess.Popen, deadline: float, grace_s: float) -> tuple[bytes, bool]:
    """Wait for the worker until the deadline plus the grace, then kill it: (its stderr, whether it was killed)."""
    try:
        _, err = proc.communicate(timeout=max(0.05, deadline + grace_s - time.time()))
        return err or b"", False
    except subprocess.TimeoutExpired:
        _kill(proc)
        _, err = proc.communicate()
        return err or b"", True
    except BaseException:  # the app stopped the script, Ctrl-C in the CLI: the worker must not outlive us
        _kill(proc)
        proc.wait()
        raise


def _signal_outcome(returncode: int, stderr: bytes, timeout_s: float, limits: Limits) -> tuple[str, str]:
    """(status, message) for a worker that ended without a reply."""
    if returncode < 0:
        sig = signal.Signals(-returncode) if -returncode in signal.valid_signals() else None
        name = sig.name if sig else f"signal {-returncode}"
        if sig == signal.SIGXCPU:
            return "cpu", (
                f"Stopped: the query used more than {limits.cpu_seconds(timeout_s):g} s of CPU time (the CPU limit). "
                "Add a filter or LIMIT, or aggregate before joining."
            )
        return "memory", (
            f"Stopped: the query's worker ended abruptly ({name}), which happens when a query needs more memory "
            f"than the console's limit of {limits.memory_mb:,} MB. Aggregate before building lists or long strings, "
            "or add a LIMIT."
        )
    tail = stderr.decode("utf-8", "replace").strip().splitlines()
    return "error", f"The query's worker failed (exit code {returncode}): {tail[-1] if tail else 'no message'}"


def _read_result(workdir: Path, reply: dict, limits: Limits) -> ConsoleResult:
    path = workdir / "result.arrow"
    size = path.stat().st_size
    if size > limits.max_result_mb * 1024 * 1024:
        return ConsoleResult("too_large", _too_large_message(limits))
    try:
        frame = pl.read_ipc(io.BytesIO(path.read_bytes()))  # a copy: the folder is removed next
    except BaseException as exc:  # noqa: BLE001 - a Polars panic is a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return ConsoleResult("error", f"Could not read the result: {first_line(exc)}")
    return ConsoleResult(
        "ok", reply.get("message", ""), frame, bool(reply.get("truncated")), text_columns=tuple(reply.get("text", ()))
    )


def _too_large_message(limits: Limits) -> str:
    return (
        f"Stopped: the result is larger than {limits.max_result_mb:,} MB (the result limit). Select fewer or "
        "shorter columns (left(text, 200)), or lower the row limit."
    )


def result_from_reply(workdir: Path, reply: dict, limits: Limits) -> ConsoleResult:
    """The ConsoleResult a worker's reply (and its result file in ``workdir``) stands for."""
    if reply["status"] != "ok":
        return ConsoleResult(reply["status"], reply["message"])
    return _read_result(workdir, reply, limits)


def _outcome(workdir: Path, proc: subprocess.Popen, stderr: bytes, killed: bool, timeout_s: float, limits: Limits):
    if killed:
        return ConsoleResult("timeout", (
            f"Stopped after {timeout_s:g} s: the query ran past the time limit and did not stop when asked, so its "
            "worker was ended. Add a filter or LIMIT, or aggregate before joining."
        ))  # fmt: skip
    reply_path = workdir / "reply.json"
    if not reply_path.exists():
        return ConsoleResult(*_signal_outcome(proc.returncode, stderr, timeout_s, limits))
    return result_from_reply(workdir, json.loads(reply_path.read_text(encoding="utf-8")), limits)


def make_request(path: Path, checked: Checked, row_limit: int, timeout_s: float, limits: Limits) -> dict:
    """What the worker is asked to run (request.json): the deadline is absolute, so the time limit counts from here."""
    return {
        "db": str(path.resolve()), "statement": checked.text, "kind": checked.kind, "row_limit": int(row_limit),
        "timeout_s": float(timeout_s), "deadline": time.time() + timeout_s, "limits": asdict(limits),
    }  # fmt: skip


def _run_in_worker(path: Path, checked: Checked, row_limit: int, timeout_s: float, limits: Limits) -> ConsoleResult:
    workdir = Path(tempfile.mkdtemp(prefix="cae-sql-"))
    try:
        request = make_request(path, checked, row_limit, timeout_s, limits)
        proc = _start(workdir, request, limits)
        stderr, killed = _wait(proc, request["deadline"], limits.grace_s)
        return _outcome(workdir, proc, stderr, killed, timeout_s, limits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_query(
    db_path: str | Path,
    sql: str,
    row_limit: int = DEFAULT_ROW_LIMIT,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    limits: Limits | None = None,
) -> ConsoleResult:
    """Check one query and run it in a worker process over the database at ``db_path``, within ``limits``.

    Never raises for a user's query: the result's status and message say what happened (which limit stopped it)."""
    started = time.perf_counter()
    try:
        checked = check_statement(sql)
    except RefusedQuery as exc:
        return ConsoleResult("refused", str(exc), row_limit=row_limit)
    path = Path(db_path)
    if not path.is_file():
        return ConsoleResult("error", f"No database at {path}.", row_limit=row_limit)
    limits = limits or Limits()
    if not _SLOTS.acquire(timeout=max(timeout_s, 1.0)):
        return ConsoleResult("busy", (
            f"Stopped: {MAX_WORKERS} other queries were running for the whole time limit. Try again in a moment."
        ), row_limit=row_limit)  # fmt: skip
    try:
        result = _run_in_worker(path, checked, row_limit, timeout_s, limits)
    finally:
        _SLOTS.release()
    return finish(result, checked, row_limit, started)


def finish(result: ConsoleResult, checked: Checked, row_limit: int, started: float) -> ConsoleResult:
    if result.ok and result.truncated:
        result.message = f"Showing the first {row_limit:,} rows; the result has more."
    result.row_limit, result.statement = row_limit, checked.text
    result.elapsed_s = time.perf_counter() - started
    return result
