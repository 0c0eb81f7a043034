"""A read-only SQL console over the explorer database that cannot change anything or reach outside it.

Three layers, each enough on its own for the common cases (defence in depth):

1. Parsing, with DuckDB's own parser: exactly one statement; only SELECT-like statements (SELECT, FROM-first, VALUES,
   SHOW, DESCRIBE, SUMMARIZE, EXPLAIN of a SELECT) and a short list of informational PRAGMAs. The SELECT's syntax tree
   (``json_serialize_sql``) is walked: functions that read files or URLs (read_csv, read_parquet, glob, ...), scans
   of a quoted file name (``FROM 'x.csv'``) and data-modifying CTEs are refused, each with a message saying why.
2. A separate DuckDB instance for the console: an in-memory database that ATTACHes the explorer file READ_ONLY, with
   ``enable_external_access = false`` (no file system, no network, no extension install/load),
   extension autoloading off, a memory limit, and ``lock_configuration = true`` so no statement can undo any of it.
3. Limits on each run: rows fetched in batches up to a cap (the result is never materialised beyond it) and a timer
   thread that interrupts a query running past the time limit.

The CLI: ``python -m analysis sql --db PATH "SELECT ..."`` (``analysis.cli.sql``).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

DEFAULT_ROW_LIMIT = 1_000
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_LIMIT = "1GB"
CATALOG = "explorer"  # the name the database is attached under in the console instance

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

# Statement types that are refused outright, grouped for the message.
_WRITE_TYPES = {
    "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "CREATE_FUNC", "MERGE_INTO", "VACUUM", "ANALYZE",
    "COPY_DATABASE", "TRANSACTION", "PREPARE", "EXECUTE", "LOGICAL_PLAN", "RELATION",
}  # fmt: skip
_REFUSAL_BY_TYPE = {
    "ATTACH": "ATTACH and DETACH are refused: the console reads only the explorer database.",
    "DETACH": "ATTACH and DETACH are refused: the console reads only the explorer database.",
    "COPY": "COPY is refused: the console neither reads nor writes files. Use the download buttons under a result.",
    "EXPORT": "EXPORT DATABASE is refused: the console writes no files. Use the download buttons under a result.",
    "LOAD": "INSTALL and LOAD are refused: the console uses no extensions.",
    "EXTENSION": "Extension statements are refused: the console uses no extensions.",
    "SET": "SET, RESET and USE are refused: the console's settings are fixed.",
    "VARIABLE_SET": "SET VARIABLE is refused: the console's settings are fixed.",
    "CALL": "CALL is refused: use SELECT * FROM function(...) for table functions.",
    "MULTI": (
        "this statement expands into several (a PIVOT without an IN list creates a type first). "
        "Name the pivot values: PIVOT t ON col IN ('a', 'b') USING count(*)."
    ),
}

# Informational PRAGMAs that only read the catalogue.
_SAFE_PRAGMAS = {
    "version", "platform", "show_tables", "show_tables_expanded", "table_info", "show", "database_size",
    "storage_info", "database_list", "functions", "collations",
}  # fmt: skip

# Functions that read files, URLs or other databases, or run SQL given as a string.
_FILE_FUNCTIONS = {
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto", "read_json_objects",
    "read_json_objects_auto", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_text", "read_blob",
    "glob", "sniff_csv", "parquet_metadata", "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata",
    "parquet_bloom_probe", "read_xlsx", "iceberg_scan", "iceberg_metadata", "iceberg_snapshots", "delta_scan",
    "sqlite_scan", "sqlite_attach", "postgres_scan", "postgres_attach", "postgres_query", "mysql_scan",
    "mysql_query", "httpfs", "http_get", "http_post", "load_aws_credentials", "query", "query_table",
    "read_duckdb", "checkpoint", "force_checkpoint", "duckdb_secrets", "which_secret",
}  # fmt: skip
_FILE_FUNCTION_PATTERNS = (re.compile(r"^read_"), re.compile(r"_scan$"), re.compile(r"^(http|s3|gcs|azure)_"))
_FILE_LIKE_NAME = re.compile(r"[./\\:~]|\.(csv|tsv|parquet|json|jsonl|ndjson|txt|gz|zst|xlsx|db|duckdb)$", re.I)
_ALLOWED_QUERY_NODES = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"}


class RefusedQuery(ValueError):
    """The query is not allowed in the console; the message says why and what to do instead."""


@dataclass
class ConsoleResult:
    status: str  # "ok" | "refused" | "timeout" | "error"
    message: str = ""
    frame: pl.DataFrame = field(default_factory=pl.DataFrame)
    truncated: bool = False
    row_limit: int = DEFAULT_ROW_LIMIT
    elapsed_s: float = 0.0
    statement: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# ---- layer 1: parsing -------------------------------------------------------------------------------------------
def _parser() -> duckdb.DuckDBPyConnection:
    """A throwaway in-memory connection for json_serialize_sql (parsing only; no data)."""
    con = duckdb.connect(":memory:", config={"enable_external_access": False})
    return con


def _file_function(name: str) -> bool:
    low = name.lower()
    return low in _FILE_FUNCTIONS or any(p.search(low) for p in _FILE_FUNCTION_PATTERNS)


def _walk(node, problems: list[str]) -> None:
    if isinstance(node, dict):
        node_type = node.get("type")
        if isinstance(node_type, str) and node_type.endswith("_NODE") and node_type not in _ALLOWED_QUERY_NODES:
            kind = node_type.removesuffix("_QUERY_NODE").removesuffix("_NODE").lower()
            problems.append(f"a data-modifying clause ({kind}) is refused: the console is read-only.")
        if node.get("class") == "FUNCTION" or node_type == "FUNCTION":
            name = str(node.get("function_name", ""))
            if _file_function(name):
                problems.append(f"{name}() is refused: the console does not read files, URLs or other databases.")
        if node_type == "TABLE_FUNCTION":
            fn = node.get("function") or {}
            name = str(fn.get("function_name", ""))
            if _file_function(name):
                problems.append(f"{name}() is refused: the console does not read files, URLs or other databases.")
        if node_type == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            if _FILE_LIKE_NAME.search(name):
                problems.append(
                    f"FROM '{name}' looks like a file scan and is refused: the console reads only the "
                    "database's own tables (see the table list)."
                )
        for value in node.values():
            _walk(value, problems)
    elif isinstance(node, list):
        for value in node:
            _walk(value, problems)


def _check_select(parser: duckdb.DuckDBPyConnection, sql: str) -> None:
    tree = json.loads(parser.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise RefusedQuery(f"Could not check this query: {tree.get('error_message', 'unsupported syntax')}.")
    problems: list[str] = []
    _walk(tree.get("statements", []), problems)
    if problems:
        unique = list(dict.fromkeys(problems))
        raise RefusedQuery("Refused: " + " ".join(unique))


def check_query(sql: str) -> str:
    """Return the single statement to run, or raise RefusedQuery with a clear message."""
    if not sql or not sql.strip():
        raise RefusedQuery("Type a query first (one SELECT statement), or pick an example.")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise RefusedQuery(f"DuckDB could not parse the query: {_first_line(exc)}") from exc
    except ValueError as exc:  # a statement type this duckdb build cannot name (e.g. UPDATE EXTENSIONS)
        raise RefusedQuery(f"Refused: this kind of statement is not allowed in the read-only console ({exc}).") from exc
    if len(statements) == 0:
        raise RefusedQuery("Type a query first (one SELECT statement), or pick an example.")
    if len(statements) > 1:
        raise RefusedQuery(f"Refused: {len(statements)} statements. The console runs exactly one statement at a time.")
    stmt = statements[0]
    try:
        kind = stmt.type.name
    except ValueError as exc:  # a statement type this duckdb build cannot name (e.g. UPDATE EXTENSIONS)
        raise RefusedQuery(f"Refused: this kind of statement is not allowed in the read-only console ({exc}).") from exc
    text = stmt.query.strip().rstrip(";").strip()
    parser = _parser()
    try:
        if kind == "SELECT":
            _check_select(parser, text)
        elif kind == "EXPLAIN":
            inner = re.sub(r"^\s*explain\s+(analy[sz]e\s+)?", "", text, flags=re.I)
            inner_statements = duckdb.extract_statements(inner)
            if len(inner_statements) != 1 or inner_statements[0].type.name != "SELECT":
                raise RefusedQuery("Refused: EXPLAIN is allowed only for a SELECT.")
            _check_select(parser, inner)
        elif kind == "PRAGMA":
            m = re.match(r"^\s*pragma\s+([a-z_]+)\s*(\(|$)", text, flags=re.I)
            if not m or m.group(1).lower() not in _SAFE_PRAGMAS:
                raise RefusedQuery(
                    "Refused: only informational PRAGMAs are allowed ("
                    + ", ".join(sorted(_SAFE_PRAGMAS))
                    + "); settings are fixed, and IMPORT DATABASE reads files."
                )
        elif kind in _REFUSAL_BY_TYPE:
            raise RefusedQuery("Refused: " + _REFUSAL_BY_TYPE[kind])
        elif kind in _WRITE_TYPES:
            raise RefusedQuery(
                f"Refused: {kind.replace('_', ' ')} statements change the database; the console is read-only. "
                "Use SELECT to read."
            )
        else:
            raise RefusedQuery(f"Refused: {kind} statements are not allowed in the read-only console.")
    finally:
        parser.close()
    return text


def _to_polars(table: pa.Table) -> pl.DataFrame:
    """Arrow -> Polars; a column of a type Polars cannot import (e.g. INTERVAL) comes across as its text form."""
    try:
        frame = pl.from_arrow(table)
        return frame if isinstance(frame, pl.DataFrame) else frame.to_frame()
    except Exception:  # noqa: BLE001 - fall back column by column
        pass
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            series = pl.from_arrow(column)
            series = series if isinstance(series, pl.Series) else series.to_series()
            columns.append(series.alias(name))
        except Exception:  # noqa: BLE001
            values = column.to_pylist()
            columns.append(pl.Series(name, [None if v is None else str(v) for v in values], dtype=pl.String))
    return pl.DataFrame(columns)


def _unique_names(names: list[str]) -> list[str]:
    """Result columns may repeat a name (SELECT 1, 1); a frame needs unique ones: 1, 1_2."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        candidate = name if seen[name] == 1 else f"{name}_{seen[name]}"
        while candidate in names and seen[name] > 1 and candidate != name:
            seen[name] += 1
            candidate = f"{name}_{seen[name]}"
        out.append(candidate)
    return out


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# ---- layer 2: the locked-down instance --------------------------------------------------------------------------
def open_console(db_path: str | Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """A separate DuckDB instance that sees the database read-only and nothing else, its settings locked."""
    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"No database at {path}. Build the demo with `python -m analysis demo --db {path}`.")
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        },
    )
    try:
        escaped = str(path.resolve()).replace("'", "''")
        con.execute(f"ATTACH '{escaped}' AS {CATALOG} (READ_ONLY)")
        con.execute(f"USE {CATALOG}")
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except Exception:
        con.close()
        raise
    return con


# ---- layer 3: running with limits -------------------------------------------------------------------------------
def _fetch(cursor: duckdb.DuckDBPyConnection, statement: str, row_limit: int) -> tuple[pl.DataFrame, bool]:
    """Run the statement and read at most ``row_limit`` rows in batches (never materialising more): (frame, cut)."""
    cursor.execute(f"USE {CATALOG}")
    reader = cursor.sql(statement).to_arrow_reader(min(max(row_limit, 1), 10_000) + 1)
    batches: list[pa.RecordBatch] = []
    n = 0
    truncated = False
    for batch in reader:
        batches.append(batch)
        n += batch.num_rows
        if n > row_limit:
            truncated = True
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    table = table.rename_columns(_unique_names(table.column_names))
    if truncated:
        table = table.slice(0, row_limit)
    return _to_polars(table), truncated


def _failure(exc: BaseException, timed_out: bool, timeout_s: float) -> tuple[str, str]:
    """(status, message) for a query that raised."""
    if isinstance(exc, duckdb.InterruptException):
        return "timeout", (
            f"Interrupted after {timeout_s:g} s: the query ran past the time limit. Add a filter or LIMIT, "
            "or aggregate before joining."
        )
    if isinstance(exc, duckdb.PermissionException):
        return "refused", (
            f"Refused by the database: {_first_line(exc)} (the console cannot reach files, URLs or settings)."
        )
    if timed_out:
        return "timeout", f"Interrupted after {timeout_s:g} s: the query ran past the time limit."
    what = "DuckDB error" if isinstance(exc, duckdb.Error) else "Could not read the result"
    return "error", f"{what}: {str(exc).strip()}"


def run_query(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    row_limit: int = DEFAULT_ROW_LIMIT,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ConsoleResult:
    """Check and run one query on a console connection (from open_console), capped and timed.

    Never raises for a user's query: the result's status and message say what happened.
    """
    started = time.perf_counter()
    try:
        statement = check_query(sql)
    except RefusedQuery as exc:
        return ConsoleResult("refused", str(exc), row_limit=row_limit)
    cursor = con.cursor()
    timed_out = threading.Event()

    def _interrupt() -> None:
        timed_out.set()
        try:
            cursor.interrupt()
        except Exception:  # noqa: BLE001 - the cursor may be closing
            pass

    timer = threading.Timer(timeout_s, _interrupt)
    timer.daemon = True
    timer.start()
    try:
        frame, truncated = _fetch(cursor, statement, row_limit)
        note = f"Showing the first {row_limit:,} rows; the result has more." if truncated else ""
        return ConsoleResult("ok", note, frame, truncated, row_limit, time.perf_counter() - started, statement)
    except (duckdb.Error, RuntimeError, ValueError, TypeError, pl.exceptions.PolarsError, pa.ArrowException) as exc:
        status, message = _failure(exc, timed_out.is_set(), timeout_s)
        return ConsoleResult(status, message, row_limit=row_limit, elapsed_s=time.perf_counter() - started,
                             statement=statement)  # fmt: skip
    finally:
        timer.cancel()
        try:
            cursor.close()
        except Exception:  # noqa: BLE001
            pass
