"""The SQL console's first layer: which statements it runs at all, decided with DuckDB's own parser.

Exactly one statement; only SELECT-like statements (SELECT, FROM-first, VALUES, SHOW, DESCRIBE, SUMMARIZE, PIVOT with
an IN list, EXPLAIN of a SELECT) and a short list of informational PRAGMAs. The SELECT's syntax tree
(``json_serialize_sql``) is walked: functions that read files or URLs (read_csv, read_parquet, glob, ...), functions
that show the server's file paths (duckdb_databases, duckdb_settings, current_setting), scans of a quoted file name
(``FROM 'x.csv'``) and data-modifying CTEs are refused, each with a message saying why. A query that is not UTF-8 text,
cannot be parsed, or is nested too deeply to check is refused with one line, never a traceback.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import duckdb

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

# Informational PRAGMAs that only read the catalogue (database_list is not one: it shows the server's file path).
_SAFE_PRAGMAS = {
    "version", "platform", "show_tables", "show_tables_expanded", "table_info", "show", "database_size",
    "storage_info", "functions", "collations",
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
# Functions whose answer holds the server's file paths (the database file, the worker's folder, allowed paths).
_PATH_FUNCTIONS = {
    "duckdb_databases", "pragma_database_list", "duckdb_settings", "current_setting", "duckdb_temporary_files",
    "duckdb_extensions", "duckdb_logs", "duckdb_log_contexts",
}  # fmt: skip
_FILE_FUNCTION_PATTERNS = (re.compile(r"^read_"), re.compile(r"_scan$"), re.compile(r"^(http|s3|gcs|azure)_"))
_FILE_LIKE_NAME = re.compile(r"[./\\:~]|\.(csv|tsv|parquet|json|jsonl|ndjson|txt|gz|zst|xlsx|db|duckdb)$", re.I)
_ALLOWED_QUERY_NODES = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"}
# EXPLAIN, EXPLAIN ANALYZE, EXPLAIN (FORMAT JSON, ANALYZE) ... : what precedes the explained statement.
_EXPLAIN_PREFIX = re.compile(r"^\s*explain\s+(?:analy[sz]e\s+)?(?:\((?:[^()'\"]|'[^']*')*\)\s*)?", re.I)
MAX_QUERY_CHARS = 100_000


class RefusedQuery(ValueError):
    """The query is not allowed in the console; the message says why and what to do instead."""


@dataclass(frozen=True)
class Checked:
    """A statement the console may run: its text (no trailing semicolon) and kind (SELECT, EXPLAIN or PRAGMA)."""

    text: str
    kind: str


def _parser() -> duckdb.DuckDBPyConnection:
    """A throwaway in-memory connection for json_serialize_sql (parsing only; no data)."""
    return duckdb.connect(":memory:", config={"enable_external_access": False})


def _file_function(name: str) -> bool:
    low = name.lower()
    return low in _FILE_FUNCTIONS or any(p.search(low) for p in _FILE_FUNCTION_PATTERNS)


def _function_problem(name: str) -> str | None:
    if _file_function(name):
        return f"{name}() is refused: the console does not read files, URLs or other databases."
    if name.lower() in _PATH_FUNCTIONS:
        return (
            f"{name}() is refused: it shows the server's file paths. The database is attached as "
            f"'explorer'; its tables are listed by SHOW TABLES or duckdb_tables()."
        )
    return None


def _node_problems(node: dict) -> list[str]:
    """What is wrong with one node of the syntax tree (not its children)."""
    problems = []
    node_type = node.get("type")
    if isinstance(node_type, str) and node_type.endswith("_NODE") and node_type not in _ALLOWED_QUERY_NODES:
        kind = node_type.removesuffix("_QUERY_NODE").removesuffix("_NODE").lower()
        problems.append(f"a data-modifying clause ({kind}) is refused: the console is read-only.")
    names = []
    if node.get("class") == "FUNCTION" or node_type == "FUNCTION":
        names.append(str(node.get("function_name", "")))
    if node_type == "TABLE_FUNCTION":
        names.append(str((node.get("function") or {}).get("function_name", "")))
    problems += [p for p in map(_function_problem, names) if p]
    if node_type == "BASE_TABLE":
        name = str(node.get("table_name", ""))
        if _FILE_LIKE_NAME.search(name):
            problems.append(
                f"FROM '{name}' looks like a file scan and is refused: the console reads only the "
                "database's own tables (see the table list)."
            )
    return problems


def _walk(tree, problems: list[str]) -> None:
    """Every node of the tree, without recursion (a deeply nested query must not exhaust Python's stack)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            problems += _node_problems(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _too_deep() -> RefusedQuery:
    return RefusedQuery(
        "Refused: the query is nested too deeply to be checked (hundreds of levels of brackets or function "
        "calls). Write it with fewer nested levels, for example with a CTE (WITH ...)."
    )


def _check_select(parser: duckdb.DuckDBPyConnection, sql: str) -> None:
    try:
        tree = json.loads(parser.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
    except RecursionError:
        raise _too_deep() from None
    except duckdb.Error as exc:
        raise RefusedQuery(f"Could not check this query: {_first_line(exc)}") from None
    if tree.get("error"):
        message = str(tree.get("error_message", "unsupported syntax"))
        if "depth" in message.lower():
            raise _too_deep()
        raise RefusedQuery(f"Could not check this query: {message}.")
    problems: list[str] = []
    _walk(tree.get("statements", []), problems)
    if problems:
        unique = list(dict.fromkeys(problems))
        raise RefusedQuery("Refused: " + " ".join(unique))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _one_statement(sql: str):
    """The single statement of ``sql``, or RefusedQuery saying why not."""
    if not isinstance(sql, str) or not sql.strip():
        raise RefusedQuery("Type a query first (one SELECT statement), or pick an example.")
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError:
        raise RefusedQuery(
            "Refused: the query holds bytes that are not UTF-8 text (check the terminal's encoding)."
        ) from None
    if len(sql) > MAX_QUERY_CHARS:
        raise RefusedQuery(f"Refused: the query is {len(sql):,} characters long; the limit is {MAX_QUERY_CHARS:,}.")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as exc:
        if "expression depth" in str(exc).lower():
            raise _too_deep() from None
        raise RefusedQuery(f"DuckDB could not parse the query: {_first_line(exc)}") from None
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, duckdb.Error) as exc:  # a statement type this duckdb build cannot name (UPDATE EXTENSIONS)
        raise RefusedQuery(
            f"Refused: this kind of statement is not allowed in the read-only console ({exc})."
        ) from None
    if len(statements) == 0:
        raise RefusedQuery("Type a query first (one SELECT statement), or pick an example.")
    if len(statements) > 1:
        raise RefusedQuery(f"Refused: {len(statements)} statements. The console runs exactly one statement at a time.")
    return statements[0]


def _check_explain(parser: duckdb.DuckDBPyConnection, text: str) -> None:
    inner = _EXPLAIN_PREFIX.sub("", text, count=1)
    try:
        inner_statements = duckdb.extract_statements(inner)
        kinds = [s.type.name for s in inner_statements]
    except (ValueError, duckdb.Error) as exc:
        raise RefusedQuery(f"Refused: EXPLAIN is allowed only for a SELECT ({_first_line(exc)}).") from None
    if kinds != ["SELECT"]:
        raise RefusedQuery("Refused: EXPLAIN is allowed only for a SELECT.")
    _check_select(parser, inner)


def _check_pragma(text: str) -> None:
    m = re.match(r"^\s*pragma\s+([a-z_]+)\s*(\(|$)", text, flags=re.I)
    if not m or m.group(1).lower() not in _SAFE_PRAGMAS:
        raise RefusedQuery(
            "Refused: only informational PRAGMAs are allowed ("
            + ", ".join(sorted(_SAFE_PRAGMAS))
            + "); settings are fixed, IMPORT DATABASE reads files and database_list shows the server's paths."
        )


def check_statement(sql: str) -> Checked:
    """The single statement to run with its kind, or RefusedQuery with a clear one-line message."""
    stmt = _one_statement(sql)
    try:
        kind = stmt.type.name
    except ValueError as exc:  # a statement type this duckdb build cannot name (e.g. UPDATE EXTENSIONS)
        raise RefusedQuery(
            f"Refused: this kind of statement is not allowed in the read-only console ({exc})."
        ) from None
    text = stmt.query.strip().rstrip(";").strip()
    parser = _parser()
    try:
        if kind == "SELECT":
            _check_select(parser, text)
        elif kind == "EXPLAIN":
            _check_explain(parser, text)
        elif kind == "PRAGMA":
            _check_pragma(text)
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
    return Checked(text, kind)


def check_query(sql: str) -> str:
    """The single statement to run, or RefusedQuery with a clear message."""
    return check_statement(sql).text
