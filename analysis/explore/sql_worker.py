"""The SQL console's worker: one process per query, ``python -m analysis.explore.sql_worker WORKDIR``.

Started by analysis.explore.sql_console.run_query in a private folder WORKDIR (its working directory) holding
``request.json``; it writes ``reply.json`` (status and message) and, for a result, ``result.arrow`` (Arrow IPC), and
the parent removes the folder. In order:

1. warm up Polars' writers and open the locked DuckDB instance (sql_console.open_console) with its memory, thread and
   spill limits, its temporary files in WORKDIR/spill;
2. set the hard limits: no core files, address space = the footprint so far + ``memory_mb`` (RLIMIT_AS), CPU time
   (RLIMIT_CPU: the kernel sends SIGXCPU when it runs out); a timer interrupts DuckDB at the deadline (the parent
   kills the process group shortly after, for functions that ignore the interrupt);
3. read the result in batches up to the row cap and the byte cap;
4. check every column displays and writes as CSV, Parquet and JSON (result_files.check_frame; a Polars panic is
   caught); a column that fails is cast to VARCHAR in SQL, by re-running the query wrapped in a SELECT with
   per-column casts (EXPLAIN and PRAGMA cannot be wrapped: their columns are turned into text here);
5. blank the server's paths in any text (the database file, the private folder).
"""

from __future__ import annotations

import sys


class _NotInstalled:
    """pandas and numpy cost the worker most of a second to import and nothing in it uses them (DuckDB hands over
    Arrow, Polars reads it), but pyarrow and Polars probe for them on their first conversion: as a process of its
    own, the worker says they are not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pandas", "numpy"):
            raise ModuleNotFoundError(f"No module named {name!r} (not used by the SQL console's worker)")


if __name__ == "__main__":
    sys.meta_path.insert(0, _NotInstalled())

import json  # noqa: E402  (after the finder above)
import math  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402

from analysis.explore import result_files, sql_console  # noqa: E402
from analysis.explore.result_files import ConversionError, first_line  # noqa: E402
from analysis.explore.sql_console import ConsoleResult, Limits, open_console  # noqa: E402
from analysis.explore.sql_guard import RefusedQuery, check_statement  # noqa: E402

DATABASE_LABEL = "explorer.duckdb"
PRIVATE_LABEL = "(private folder)"


class _TooLarge(Exception):
    """The result passed the byte cap while it was read."""


# ---- start-up and limits ----------------------------------------------------------------------------------------
def _warm_up() -> None:
    """Run Polars' conversion paths once, so the address space they reserve is part of the footprint, not the
    query's budget."""
    frame = pl.from_arrow(pa.table({"a": [1, None], "b": ["x", None], "c": [[1], None]}))
    for fn in (result_files.table_text, result_files.csv_bytes, result_files.parquet_bytes, result_files.json_bytes):
        fn(frame)


def _vm_size() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _set_limit(which: int, soft: int, hard: int) -> None:
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def limit_resources(limits: Limits, timeout_s: float) -> None:
    """Address space: the footprint so far plus the budget; CPU: the time used so far plus the budget."""
    _set_limit(resource.RLIMIT_CORE, 0, 0)
    budget = _vm_size() + limits.memory_mb * 1024 * 1024
    _set_limit(resource.RLIMIT_AS, budget, budget)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(math.ceil(usage.ru_utime + usage.ru_stime + limits.cpu_seconds(timeout_s)))
    _set_limit(resource.RLIMIT_CPU, cpu, cpu + 2)


# ---- reading the result -----------------------------------------------------------------------------------------
def _unique_names(names: list[str]) -> list[str]:
    """Result columns may repeat a name (SELECT 1, 1); a frame needs unique ones: 1, 1_2."""
    seen: dict[str, int] = {}
    taken = set(names)
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        candidate = name
        while seen[name] > 1 and candidate in taken:
            candidate = f"{name}_{seen[name]}"
            seen[name] += 1
        taken.add(candidate)
        out.append(candidate)
    return out


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, row_limit: int, max_bytes: int) -> tuple[pa.Table, bool]:
    """Run ``sql`` and read at most ``row_limit`` rows in batches (never materialising more): (table, cut)."""
    reader = con.sql(sql).to_arrow_reader(min(max(row_limit, 1), 10_000) + 1)
    batches: list[pa.RecordBatch] = []
    n = size = 0
    truncated = False
    for batch in reader:
        batches.append(batch)
        n += batch.num_rows
        size += batch.nbytes
        if size > max_bytes:
            raise _TooLarge()
        if n > row_limit:
            truncated = True
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    table = table.rename_columns(_unique_names(table.column_names))
    return (table.slice(0, row_limit) if truncated else table), truncated


def _to_frame(table: pa.Table) -> tuple[pl.DataFrame, dict[str, str]]:
    """Arrow -> Polars column by column: (the columns that converted, {column: problem} for the others)."""
    columns, problems = [], {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            frame = pl.from_arrow(pa.table({name: column}))
            columns.append(frame.to_series())
        except BaseException as exc:  # noqa: BLE001 - a Polars panic is a BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            problems[name] = first_line(exc)
    frame = pl.DataFrame(columns)
    problems.update(result_files.check_frame(frame))
    return frame, problems


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cast_sql(sql: str, names: list[str], as_text: set[str]) -> str:
    """``sql`` wrapped in a SELECT that casts the columns ``as_text`` to VARCHAR (columns taken by position)."""
    aliases = [f"_c{i}" for i in range(len(names))]
    select = ", ".join(
        (f"CAST({alias} AS VARCHAR)" if name in as_text else alias) + f" AS {_quote(name)}"
        for alias, name in zip(aliases, names, strict=True)
    )
    return f"SELECT {select} FROM ({sql}) AS _cae_q({', '.join(aliases)})"


def _column_text(column: pa.ChunkedArray) -> pa.Array:
    """A column's values as text, value by value (for results that cannot be re-run with casts)."""
    out = []
    for i in range(len(column)):
        try:
            value = column[i].as_py()
            out.append(None if value is None else str(value))
        except BaseException:  # noqa: BLE001
            out.append("(cannot be shown)")
    return pa.array(out, type=pa.string())


def _as_text_here(table: pa.Table, as_text: set[str]) -> pa.Table:
    columns = [_column_text(c) if n in as_text else c for n, c in zip(table.column_names, table.columns, strict=True)]
    return pa.table(columns, names=table.column_names)


def _convertible(
    con: duckdb.DuckDBPyConnection, request: dict, table: pa.Table, truncated: bool, max_bytes: int
) -> tuple[pl.DataFrame, bool, list[str]]:
    """The result as a frame every view and download can take: (frame, truncated, columns shown as text)."""
    frame, problems = _to_frame(table)
    if not problems:
        return frame, truncated, []
    as_text = set(problems)
    if request["kind"] == "SELECT":
        sql = _cast_sql(request["statement"], table.column_names, as_text)
        table, truncated = _fetch(con, sql, request["row_limit"], max_bytes)
    else:
        table = _as_text_here(table, as_text)
    frame, problems = _to_frame(table)
    if problems:  # a cast column that still fails (should not happen): its values one by one
        frame, problems = _to_frame(_as_text_here(table, set(problems)))
    if problems:
        raise ConversionError(
            f"column {next(iter(problems))!r} could not be converted: {next(iter(problems.values()))}"
        )
    return frame, truncated, sorted(as_text, key=table.column_names.index)


# ---- one run ----------------------------------------------------------------------------------------------------
def _redact(text: str, secrets: dict[str, str]) -> str:
    for secret, label in secrets.items():
        text = text.replace(secret, label)
    return text


def _redact_frame(frame: pl.DataFrame, secrets: dict[str, str]) -> pl.DataFrame:
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            expr = pl.col(name)
            for secret, label in secrets.items():
                expr = expr.str.replace_all(secret, label, literal=True)
            exprs.append(expr)
    return frame.with_columns(exprs) if exprs else frame


def _failure(exc: BaseException, request: dict, limits: Limits) -> tuple[str, str]:
    timeout_s = request["timeout_s"]
    if isinstance(exc, duckdb.InterruptException):
        return "timeout", (
            f"Interrupted after {timeout_s:g} s: the query ran past the time limit. Add a filter or LIMIT, "
            "or aggregate before joining."
        )
    if isinstance(exc, (duckdb.OutOfMemoryException, MemoryError)):
        return "memory", (
            f"Stopped: the query needed more memory than the console allows ({limits.memory_mb:,} MB for the "
            f"query, {limits.duckdb_memory_mb:,} MB of it for DuckDB's buffers). Aggregate before building lists "
            f"or long strings, or add a LIMIT. ({first_line(exc)})"
        )
    if isinstance(exc, duckdb.PermissionException):
        return "refused", (
            f"Refused by the database: {first_line(exc)} (the console cannot reach files, URLs or settings)."
        )
    if isinstance(exc, _TooLarge):
        return "too_large", (
            f"Stopped: the result is larger than {limits.max_result_mb:,} MB (the result limit). Select fewer or "
            "shorter columns (left(text, 200)), or lower the row limit."
        )
    if isinstance(exc, ConversionError):
        return "error", f"Could not convert the result: {exc}"
    what = "DuckDB error" if isinstance(exc, duckdb.Error) else "Could not read the result"
    return "error", f"{what}: {str(exc).strip()}"


def _run(con: duckdb.DuckDBPyConnection, request: dict, workdir: Path, limits: Limits) -> dict:
    max_bytes = limits.max_result_mb * 1024 * 1024
    timer = threading.Timer(max(0.0, request["deadline"] - time.time()), con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        table, truncated = _fetch(con, request["statement"], request["row_limit"], max_bytes)
        frame, truncated, text_columns = _convertible(con, request, table, truncated, max_bytes)
    finally:
        timer.cancel()
    frame = _redact_frame(frame, request["_secrets"])
    frame.write_ipc(workdir / "result.arrow", compression="uncompressed")
    return {"status": "ok", "message": "", "truncated": truncated, "text": text_columns, "rows": frame.height}


def _secrets(request: dict, workdir: Path) -> dict[str, str]:
    db = request["db"]
    found = {db: DATABASE_LABEL, str(Path(db).resolve()): DATABASE_LABEL, str(workdir): PRIVATE_LABEL}
    found[str(workdir.resolve())] = PRIVATE_LABEL
    return dict(sorted(found.items(), key=lambda kv: -len(kv[0])))  # longest first


def execute(request: dict, workdir: Path, hard_limits: bool = True) -> dict:
    """Open the locked instance, set the hard limits and run the request: the reply (status, message...)."""
    limits = Limits(**request["limits"])
    request["_secrets"] = _secrets(request, workdir)
    con = None
    try:
        con = open_console(
            request["db"], memory_limit=f"{limits.duckdb_memory_mb}MB", threads=limits.threads,
            temp_directory=workdir / "spill", max_temp_size=f"{limits.max_temp_mb}MB",
        )  # fmt: skip
        con.execute("SELECT 1").fetchall()  # DuckDB's threads start here, inside the footprint
        if hard_limits:
            limit_resources(limits, request["timeout_s"])
        return _run(con, request, workdir, limits)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one line in the reply
        status, message = _failure(exc, request, limits)
        return {"status": status, "message": _redact(message, request["_secrets"])}
    finally:
        if con is not None:
            con.close()


def run_in_process(
    db_path: str | Path, sql: str, row_limit: int = sql_console.DEFAULT_ROW_LIMIT,
    timeout_s: float = sql_console.DEFAULT_TIMEOUT_S, limits: Limits | None = None,
) -> ConsoleResult:  # fmt: skip
    """The same query path in this process, without the worker's hard limits: the benchmark's baseline and a quick
    path for tests of conversions. The app and the CLI never use it (sql_console.run_query)."""
    started = time.perf_counter()
    try:
        checked = check_statement(sql)
    except RefusedQuery as exc:
        return ConsoleResult("refused", str(exc), row_limit=row_limit)
    limits = limits or Limits()
    workdir = Path(tempfile.mkdtemp(prefix="cae-sql-"))
    try:
        request = sql_console.make_request(Path(db_path), checked, row_limit, timeout_s, limits)
        reply = execute(request, workdir, hard_limits=False)
        result = sql_console.result_from_reply(workdir, reply, limits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return sql_console.finish(result, checked, row_limit, started)


def main(argv: list[str]) -> int:
    workdir = Path(argv[0])
    request = json.loads((workdir / "request.json").read_text(encoding="utf-8"))
    _warm_up()
    reply = execute(request, workdir)
    (workdir / "reply.json").write_text(json.dumps(reply), encoding="utf-8")
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)  # the reply is written and the connection closed: skip the interpreter's slow teardown
