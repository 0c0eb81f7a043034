"""python -m analysis sql: run one read-only SQL query against a database, with the console's guard and limits."""

from __future__ import annotations

import argparse
import sys

import duckdb
import polars as pl

from analysis import store
from analysis.explore.sql_console import DEFAULT_ROW_LIMIT, DEFAULT_TIMEOUT_S, open_console, run_query


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", help="one SELECT statement (read-only; files, settings and writes are refused)")
    p.add_argument("--db", default=None, help="database (default: $CAE_DB, else data/demo.duckdb)")
    p.add_argument("--limit", type=int, default=DEFAULT_ROW_LIMIT, help="row cap (default %(default)s)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds before interrupting")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    path = store.resolve_db_path(args.db)
    try:
        con = open_console(path)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_query(con, args.query, row_limit=args.limit, timeout_s=args.timeout)
    finally:
        con.close()
    if not result.ok:
        print(f"{result.status}: {result.message}", file=sys.stderr)
        return 1 if result.status == "error" else 3
    if args.format == "csv":
        sys.stdout.write(result.frame.write_csv())
    elif args.format == "json":
        sys.stdout.write(result.frame.write_json() + "\n")
    else:
        with pl.Config(tbl_rows=min(result.frame.height, 50), tbl_cols=-1, fmt_str_lengths=60):
            print(result.frame)
    if result.message:
        print(result.message, file=sys.stderr)
    return 0
