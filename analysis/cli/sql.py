"""python -m analysis sql: run one read-only SQL query against a database, with the console's guard and limits.

The query runs in a worker process with hard limits (analysis.explore.sql_console); whatever it does, this command
prints one line saying what happened. Exit codes: 0 a result, 1 an error in the query, 2 no database,
3 refused or stopped by a limit (time, memory, CPU, result size).
"""

from __future__ import annotations

import argparse
import sys

from analysis import store
from analysis.explore import result_files
from analysis.explore.sql_console import DEFAULT_ROW_LIMIT, DEFAULT_TIMEOUT_S, Limits, run_query

_WRITERS = {
    "csv": result_files.csv_bytes,
    "json": lambda frame: result_files.json_bytes(frame) + b"\n",
    "table": lambda frame: (result_files.table_text(frame, width=_width()) + "\n").encode("utf-8"),
}


def _width() -> int | None:
    """The terminal's width; unbounded when the output goes to a file or a pipe."""
    return None if sys.stdout.isatty() else 65_535


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", help="one SELECT statement (read-only; files, settings and writes are refused)")
    p.add_argument("--db", default=None, help="database (default: $CAE_DB, else data/demo.duckdb)")
    p.add_argument("--limit", type=int, default=DEFAULT_ROW_LIMIT, help="row cap (default %(default)s)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds before the query is stopped")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="memory the query may use (MB)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    path = store.resolve_db_path(args.db)
    if not path.is_file():
        print(
            f"error: No database at {path}. Build the demo with `python -m analysis demo --db {path}`.", file=sys.stderr
        )
        return 2
    result = run_query(path, args.query, row_limit=args.limit, timeout_s=args.timeout,
                       limits=Limits(memory_mb=args.memory_mb))  # fmt: skip
    if not result.ok:
        print(f"{result.status}: {result.message}", file=sys.stderr)
        return 1 if result.status == "error" else 3
    try:
        data = _WRITERS[args.format](result.frame)
    except result_files.ConversionError as exc:
        print(f"error: {exc}. Try another --format.", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    if result.text_columns:
        print(f"note: shown as text (no other form displays and downloads): {', '.join(result.text_columns)}",
              file=sys.stderr)  # fmt: skip
    if result.message:
        print(result.message, file=sys.stderr)
    return 0
