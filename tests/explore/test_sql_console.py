"""The read-only SQL console: every refused kind of statement, a slow query interrupted, the database unchanged.
(The worker's hard limits are tested in test_sql_limits.py.)"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from analysis.cli import sql as sql_cli
from analysis.explore import sql_console, sql_guard, sql_worker

ROOT = Path(__file__).resolve().parents[2]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def console_db(demo_db, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("console") / "demo.duckdb"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture(scope="module")
def console(console_db):
    con = sql_console.open_console(console_db)
    yield con
    con.close()


@pytest.fixture(scope="module")
def outside_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("outside") / "secret.csv"
    path.write_text("a,b\n1,2\n")
    return path


def _refused_queries(outside: Path) -> dict[str, str]:
    f = str(outside)
    return {
        # writes
        "insert": "INSERT INTO meta VALUES ('x', 'y')",
        "update": "UPDATE meta SET value = 'false' WHERE key = 'synthetic'",
        "delete": "DELETE FROM comparisons",
        "truncate": "TRUNCATE comparisons",
        "create": "CREATE TABLE x AS SELECT 1",
        "create_temp": "CREATE TEMP TABLE x AS SELECT 1",
        "create_view": "CREATE VIEW v AS SELECT 1",
        "create_macro": "CREATE MACRO m(a) AS a + 1",
        "create_secret": "CREATE SECRET (TYPE s3, KEY_ID 'k', SECRET 's')",
        "drop": "DROP TABLE comparisons",
        "alter": "ALTER TABLE meta ADD COLUMN z INTEGER",
        "merge": "MERGE INTO meta USING (SELECT 'k' AS key) s ON meta.key = s.key WHEN MATCHED THEN DELETE",
        "cte_insert": "WITH x AS (INSERT INTO meta VALUES ('a', 'b') RETURNING *) SELECT * FROM x",
        "vacuum": "VACUUM",
        "checkpoint": "CHECKPOINT",
        "begin": "BEGIN TRANSACTION",
        "prepare": "PREPARE p AS SELECT 1",
        # other databases
        "attach": f"ATTACH '{outside.parent / 'other.duckdb'}' AS other",
        "attach_memory": "ATTACH ':memory:' AS scratch",
        "detach": "DETACH explorer",
        # files
        "copy_to": f"COPY comparisons TO '{outside.parent / 'out.csv'}'",
        "copy_from": f"COPY meta FROM '{f}'",
        "copy_query": f"COPY (SELECT 1) TO '{outside.parent / 'q.parquet'}' (FORMAT parquet)",
        "export": f"EXPORT DATABASE '{outside.parent / 'exp'}'",
        "import": f"IMPORT DATABASE '{outside.parent / 'exp'}'",
        # extensions
        "install": "INSTALL httpfs",
        "force_install": "FORCE INSTALL httpfs",
        "load": "LOAD httpfs",
        "update_extensions": "UPDATE EXTENSIONS",
        # settings
        "set": "SET threads = 1",
        "set_external": "SET enable_external_access = true",
        "set_lock": "SET lock_configuration = false",
        "reset": "RESET memory_limit",
        "pragma_set": "PRAGMA threads = 1",
        "pragma_enable": "PRAGMA enable_profiling",
        "set_variable": "SET VARIABLE x = 1",
        "use": "USE memory",
        "call": "CALL pragma_version()",
        # functions that read files or URLs
        "read_csv": f"SELECT * FROM read_csv('{f}')",
        "read_csv_auto": f"SELECT * FROM read_csv_auto('{f}')",
        "read_parquet": f"SELECT * FROM read_parquet('{outside.parent / 'x.parquet'}')",
        "parquet_scan": "SELECT * FROM parquet_scan('x.parquet')",
        "read_json": "SELECT * FROM read_json('x.json')",
        "read_json_auto": "SELECT * FROM read_json_auto('x.json')",
        "read_ndjson": "SELECT * FROM read_ndjson_objects('x.json')",
        "read_text": "SELECT * FROM read_text('/etc/passwd')",
        "read_blob": "SELECT * FROM read_blob('/etc/passwd')",
        "glob": "SELECT * FROM glob('/*')",
        "sniff_csv": f"SELECT * FROM sniff_csv('{f}')",
        "file_literal": f"SELECT * FROM '{f}'",
        "file_literal_quoted_ident": 'SELECT * FROM "data.parquet"',
        "url_literal": "SELECT * FROM 'https://example.com/x.csv'",
        "http_read": "SELECT * FROM read_csv('https://example.com/x.csv')",
        "s3": "SELECT * FROM read_parquet('s3://bucket/x.parquet')",
        "file_in_subquery": f"SELECT count(*) FROM comparisons WHERE turn IN (SELECT a FROM read_csv('{f}'))",
        "file_in_cte": f"WITH x AS (SELECT * FROM read_csv('{f}')) SELECT * FROM x",
        "file_in_union": f"SELECT 'a' UNION ALL SELECT * FROM read_text('{f}')",
        "explain_file": f"EXPLAIN SELECT * FROM read_csv('{f}')",
        "dynamic_sql": "SELECT * FROM query('SELECT 1')",
        # several statements
        "two_statements": "SELECT 1; DROP TABLE comparisons",
        "two_selects": "SELECT 1; SELECT 2",
        # nothing
        "empty": "   ",
        "comment_only": "-- nothing here",
    }


def test_every_refused_kind_is_refused_and_the_database_is_unchanged(console_db, outside_file):
    before = _sha256(console_db)
    queries = _refused_queries(outside_file)
    outcomes = {}
    for name, sql in queries.items():
        result = sql_console.run_query(console_db, sql, timeout_s=5)
        outcomes[name] = (result.status, result.message)
        assert result.status == "refused", f"{name}: {sql!r} was not refused: {result.status} {result.message}"
        assert result.message, name
        assert result.frame.is_empty()
    # Messages say why.
    assert "read-only" in outcomes["insert"][1]
    assert "files" in outcomes["read_csv"][1]
    assert "exactly one statement" in outcomes["two_statements"][1]
    assert "settings" in outcomes["set"][1]
    assert "ATTACH" in outcomes["attach"][1]
    assert "extensions" in outcomes["install"][1]
    assert "file scan" in outcomes["file_literal"][1]
    # Nothing outside was written, and the database file is byte-for-byte the same.
    for leftover in ("out.csv", "q.parquet", "exp", "other.duckdb"):
        assert not (outside_file.parent / leftover).exists(), leftover
    assert _sha256(console_db) == before
    # The console still works afterwards.
    ok = sql_console.run_query(console_db, "SELECT count(*) AS n FROM comparisons")
    assert ok.status == "ok" and ok.frame["n"][0] > 0


def test_the_locked_instance_refuses_even_without_the_parser(console, console_db, outside_file):
    """Layer 2 on its own: statements sent straight to the console connection, skipping check_query."""
    cur = console.cursor()
    cur.execute(f"USE {sql_console.CATALOG}")
    with pytest.raises(duckdb.PermissionException):
        cur.execute(f"SELECT * FROM read_csv('{outside_file}')").fetchall()
    with pytest.raises(duckdb.PermissionException):
        cur.execute(f"SELECT * FROM '{outside_file}'").fetchall()
    with pytest.raises(duckdb.PermissionException):
        cur.execute(f"COPY comparisons TO '{outside_file.parent / 'direct.csv'}'")
    with pytest.raises(duckdb.Error):
        cur.execute("LOAD httpfs")
    with pytest.raises(duckdb.Error, match="locked"):
        cur.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error, match="read-only"):
        cur.execute("CREATE TABLE explorer.main.x AS SELECT 1")
    with pytest.raises(duckdb.Error, match="read-only"):
        cur.execute("DELETE FROM comparisons")
    with pytest.raises(duckdb.Error):
        cur.execute(f"ATTACH '{outside_file.parent / 'direct.duckdb'}' AS d")
    cur.close()
    assert not (outside_file.parent / "direct.csv").exists()
    assert not (outside_file.parent / "direct.duckdb").exists()


def test_a_slow_query_is_interrupted_and_reported(console_db):
    before = _sha256(console_db)
    started = time.perf_counter()
    result = sql_console.run_query(
        console_db,
        "SELECT count(*) FROM comparisons a, comparisons b, comparisons c "
        "WHERE a.chosen_hash || b.chosen_hash < c.prompt_hash",
        timeout_s=3.0,
    )
    elapsed = time.perf_counter() - started
    assert result.status == "timeout", (result.status, result.message)
    assert "time limit" in result.message
    assert elapsed < 30  # interrupted, not run to completion (that would take hours)
    # A huge cross join that streams rows is interrupted too.
    result = sql_console.run_query(
        console_db,
        "SELECT a.range * b.range AS x FROM range(100000000) a, range(100000000) b ORDER BY x DESC",
        1000,
        3.0,
    )
    assert result.status == "timeout"
    # The console is usable afterwards and nothing changed.
    assert sql_console.run_query(console_db, "SELECT 42 AS x").frame["x"][0] == 42
    assert _sha256(console_db) == before


def test_results_are_capped_with_a_note(console_db):
    result = sql_console.run_query(console_db, "SELECT * FROM comparisons", row_limit=50)
    assert result.status == "ok"
    assert result.frame.height == 50 and result.truncated
    assert "first 50 rows" in result.message
    small = sql_console.run_query(console_db, "SELECT * FROM comparisons LIMIT 7", row_limit=50)
    assert small.frame.height == 7 and not small.truncated and small.message == ""
    big = sql_console.run_query(console_db, "SELECT * FROM range(1000000)", row_limit=25_000)
    assert big.frame.height == 25_000 and big.truncated


ALLOWED = [
    "SELECT 1 AS one",
    "FROM comparisons LIMIT 3",
    "SHOW TABLES",
    "DESCRIBE comparisons",
    "SUMMARIZE prompts",
    "VALUES (1), (2)",
    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5) SELECT * FROM r",
    "PIVOT comparisons ON chosen IN ('a', 'b', 'c', 'd') USING count(*) GROUP BY turn",
    "EXPLAIN SELECT count(*) FROM comparisons",
    "EXPLAIN ANALYZE SELECT count(*) FROM comparisons",
    "EXPLAIN (FORMAT JSON) SELECT 1",
    "EXPLAIN (ANALYZE) SELECT 1",
    "EXPLAIN (FORMAT JSON, ANALYZE) SELECT count(*) FROM prompts",
    "PRAGMA table_info('prompts')",
    "PRAGMA storage_info('meta')",
    "PRAGMA version",
    "SELECT 1, 1",  # repeated column names
    "SELECT * FROM comparison_facts WHERE country = 'India' LIMIT 5;",
] + list(sql_console.EXAMPLES.values())


@pytest.mark.parametrize("sql", ALLOWED)
def test_read_only_queries_of_every_allowed_kind_pass_the_guard_and_run(console_db, sql):
    """The guard passes them and they convert (in process: the same query path as the worker, without its
    process; test_every_kind_runs_in_the_worker runs a few through the worker)."""
    sql_console.check_statement(sql)
    result = sql_worker.run_in_process(console_db, sql)
    assert result.status == "ok", (sql, result.message)
    assert result.frame.height >= 1


def test_every_kind_runs_in_the_worker(console_db):
    for sql in ("SHOW TABLES", "EXPLAIN (FORMAT JSON) SELECT 1", "PRAGMA storage_info('meta')", "SELECT 1, 1"):
        result = sql_console.run_query(console_db, sql)
        assert result.status == "ok", (sql, result.message)
    assert sql_console.run_query(console_db, "SHOW TABLES").frame.height >= 7
    assert sql_console.run_query(console_db, "SELECT 1, 1").frame.columns == ["1", "1_2"]


def test_errors_are_reported_not_raised(console_db):
    result = sql_console.run_query(console_db, "SELECT no_such_column FROM comparisons")
    assert result.status == "error" and "no_such_column" in result.message
    result = sql_console.run_query(console_db, "SELEC 1")
    assert result.status == "refused" and "parse" in result.message


def test_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m analysis demo"):
        sql_console.open_console(tmp_path / "nope.duckdb")
    result = sql_console.run_query(tmp_path / "nope.duckdb", "SELECT 1")
    assert result.status == "error" and "No database" in result.message


def _cli(*args, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "sql", *args, "--db", str(db)], capture_output=True, cwd=ROOT, timeout=120
    )


def test_cli(console_db):
    import argparse

    parser = argparse.ArgumentParser()
    sql_cli.configure(parser)
    args = parser.parse_args(["SELECT count(*) AS n FROM conversations", "--db", str(console_db), "--format", "csv"])
    assert sql_cli.run(args) == 0
    args = parser.parse_args(["DROP TABLE conversations", "--db", str(console_db)])
    assert sql_cli.run(args) == 3
    out = _cli("SELECT count(*) AS n FROM conversations", "--format", "csv", db=console_db)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().splitlines()[0] == "n" and int(out.stdout.decode().splitlines()[1]) > 0


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_cli_writes_every_type_in_every_format(console_db, fmt, capsys):
    """`SELECT 'infinity'::DATE` crashed the CLI; MAP, BIT and BLOB crashed --format json; MAP gave a traceback
    with --format csv; PRAGMA storage_info panicked."""
    import argparse

    parser = argparse.ArgumentParser()
    sql_cli.configure(parser)
    for sql, needle in (
        ("SELECT 'infinity'::DATE AS d", "infinity"),
        ("SELECT map(['k'], ['v']) AS m, '101'::BIT AS b, '\\xAA'::BLOB AS x", "101"),
        ("PRAGMA storage_info('meta')", "row_group_id"),
        ("SELECT * FROM test_all_types()", "bool"),
    ):
        assert sql_cli.run(parser.parse_args([sql, "--db", str(console_db), "--format", fmt])) == 0, sql
        out = capsys.readouterr()
        assert needle in out.out, (sql, out.out[:500], out.err)
        assert "Traceback" not in out.err


def test_cli_refuses_a_query_that_is_not_utf8_in_one_line(console_db):
    out = _cli(b"SELECT '\xff\xfe'", db=console_db)
    err = out.stderr.decode()
    assert out.returncode == 3, err
    assert "not UTF-8" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "sql",
    [
        "EXPLAIN (FORMAT JSON) SELECT 1",
        "EXPLAIN (ANALYZE) SELECT 1",
        "EXPLAIN (FORMAT JSON, ANALYZE) SELECT count(*) FROM comparisons",
    ],
)
def test_layer_1_explain_with_options_is_checked_not_a_parser_exception(sql):
    assert sql_console.check_statement(sql).kind == "EXPLAIN"
    with pytest.raises(sql_console.RefusedQuery, match="read_csv"):
        sql_console.check_query(sql.rsplit("SELECT", 1)[0] + "SELECT * FROM read_csv('x.csv')")


@pytest.mark.parametrize(
    "sql",
    ["SELECT " + "abs(" * n + "1" + ")" * n for n in (400, 900)]
    + ["SELECT " + "[" * 500 + "1" + "]" * 500, "SELECT " + "(" * 3000 + "1" + ")" * 3000],
)
def test_layer_1_a_deeply_nested_query_is_refused_in_one_line(sql):
    """400-900 nested abs( or 500 nested [ raised RecursionError in json.loads: a traceback with server paths."""
    with pytest.raises(sql_console.RefusedQuery, match="nested too deeply"):
        sql_console.check_query(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM duckdb_databases()",
        "SELECT path FROM duckdb_databases() WHERE database_name = 'explorer'",
        "SELECT reverse(path) FROM (SELECT * FROM duckdb_databases())",
        "PRAGMA database_list",
        "SELECT * FROM pragma_database_list()",
        "SELECT * FROM duckdb_settings()",
        "SELECT current_setting('allowed_paths')",
        "SELECT * FROM duckdb_temporary_files()",
    ],
)
def test_layer_1_functions_that_show_server_paths_are_refused(sql):
    with pytest.raises(sql_console.RefusedQuery, match="server's (file )?paths"):
        sql_console.check_query(sql)


def test_no_result_or_message_shows_the_database_path(console_db):
    """What the catalogue functions that stay allowed show, and what errors say, never holds the file's path."""
    secret = str(console_db.resolve().parent)
    for sql in (
        "SELECT * FROM duckdb_tables()",
        "SELECT * FROM duckdb_views()",
        "PRAGMA database_size",
        "SELECT * FROM pragma_database_size()",
        "SELECT * FROM explorer.main.no_such_table",
        "SELECT * FROM duckdb_databases()",
    ):
        result = sql_console.run_query(console_db, sql)
        shown = result.message + (_downloads(result.frame)["csv"].decode() if result.ok else "")
        assert secret not in shown, (sql, shown[:300])


def _downloads(frame) -> dict[str, bytes]:
    from analysis.explore import result_files

    return {
        "csv": result_files.csv_bytes(frame),
        "parquet": result_files.parquet_bytes(frame),
        "json": result_files.json_bytes(frame),
        "table": result_files.table_text(frame).encode(),
    }


def test_any_result_type_comes_back_and_downloads(console_db):
    """Every DuckDB type (test_all_types: 59 columns, their extreme values included) displays and downloads as CSV,
    Parquet and JSON; what Polars or a format cannot hold (INTERVAL, UNION, BIT, BLOB, an infinite DATE...) comes
    back as text."""
    import json

    result = sql_console.run_query(console_db, "SELECT * FROM test_all_types()")
    assert result.status == "ok", result.message
    assert result.frame.shape == (3, 59)
    files = _downloads(result.frame)
    assert files["csv"].decode().splitlines()[0].startswith("bool,tinyint")
    assert pl.read_parquet(io.BytesIO(files["parquet"])).shape == (3, 59)
    assert len(json.loads(files["json"])) == 3
    assert {"date", "interval", "union", "blob", "bit"} <= set(result.text_columns)
    assert result.frame["interval"].dtype == pl.String and "1 day" not in result.frame["interval"][0]
    for sql in (
        "SELECT 1::HUGEINT AS h, INTERVAL 1 DAY AS i, [1, 2] AS l, {'a': 1} AS s, map([1], [2]) AS m, "
        "union_value(k := 1) AS u, gen_random_uuid() AS g, 'a'::VARCHAR::ENUM('a', 'b') AS e, DATE '2020-01-01' AS d",
        "SELECT * FROM duckdb_types()",
    ):
        result = sql_worker.run_in_process(console_db, sql)
        assert result.status == "ok", result.message
        assert _downloads(result.frame)["csv"].decode().splitlines()[0].split(",")[0] in ("h", "database_name")
    row = sql_worker.run_in_process(console_db, "SELECT INTERVAL 1 DAY AS i, DATE '2020-01-01' AS d").frame
    assert row["i"][0] == "1 day" and row["d"].dtype == pl.Date  # only what cannot convert becomes text


@pytest.mark.parametrize(
    ("sql", "column", "text"),
    [
        ("SELECT 'infinity'::DATE AS d", "d", "infinity"),
        ("SELECT '-infinity'::TIMESTAMP AS t", "t", "-infinity"),
        ("SELECT '101'::BIT AS b", "b", "101"),
        ("SELECT '\\xAA'::BLOB AS b", "b", "\\xAA"),
        ("SELECT ['infinity'::DATE] AS l", "l", "infinity"),
    ],
)
def test_a_value_polars_cannot_convert_is_shown_and_downloaded_as_text(console_db, sql, column, text):
    """A pyo3 PanicException is a BaseException: `except Exception` missed it, the CLI crashed and the CSV
    download gave nothing. Now the column comes back as DuckDB's text for it, in every format."""
    result = sql_worker.run_in_process(console_db, sql)
    assert result.status == "ok", result.message
    assert column in result.text_columns
    files = _downloads(result.frame)
    for fmt in ("csv", "json", "table"):
        assert text in files[fmt].decode().replace("\\\\", "\\"), (fmt, files[fmt])
    assert pl.read_parquet(io.BytesIO(files["parquet"]))[column][0] == result.frame[column][0]


# ---- the layers one by one ------------------------------------------------------------------------------------
# One example per statement kind the checker lists (a kind added to its lists without an example here fails below).
KIND_EXAMPLES = {
    "INSERT": "INSERT INTO meta VALUES ('x', 'y')",
    "UPDATE": "UPDATE meta SET value = 'x'",
    "DELETE": "DELETE FROM comparisons",
    "CREATE": "CREATE TABLE x AS SELECT 1",
    "DROP": "DROP TABLE comparisons",
    "ALTER": "ALTER TABLE meta ADD COLUMN z INTEGER",
    "CREATE_FUNC": "CREATE MACRO m(a) AS a + 1",
    "MERGE_INTO": "MERGE INTO meta USING (SELECT 'k' AS key) s ON meta.key = s.key WHEN MATCHED THEN DELETE",
    "VACUUM": "VACUUM",
    "ANALYZE": "ANALYZE",
    "COPY_DATABASE": "COPY FROM DATABASE explorer TO memory",
    "TRANSACTION": "BEGIN TRANSACTION",
    "PREPARE": "PREPARE p AS SELECT 1",
    "EXECUTE": "EXECUTE p",
    "ATTACH": "ATTACH ':memory:' AS scratch",
    "DETACH": "DETACH explorer",
    "COPY": "COPY comparisons TO 'out.csv'",
    "EXPORT": "EXPORT DATABASE 'exp'",
    "LOAD": "LOAD httpfs",
    "EXTENSION": "INSTALL httpfs",
    "SET": "SET threads = 1",
    "VARIABLE_SET": "SET VARIABLE x = 1",
    "CALL": "CALL pragma_version()",
    "MULTI": "PIVOT comparisons ON chosen USING count(*)",
}
UNTESTABLE_KINDS = {"LOGICAL_PLAN", "RELATION"}  # no SQL text produces them: they are never seen from a user


def _file_function_calls() -> list[str]:
    """Every named file/URL function, as a table function and as a scalar call, plus names the patterns catch."""
    names = sorted(sql_guard._FILE_FUNCTIONS) + ["read_anything", "mysql_scan", "http_head", "s3_list"]
    return [f"SELECT * FROM {n}('x')" for n in names] + [f"SELECT {n}('x')" for n in names]


def test_every_listed_statement_kind_has_an_example_here():
    listed = set(sql_guard._WRITE_TYPES) | set(sql_guard._REFUSAL_BY_TYPE)
    assert listed - UNTESTABLE_KINDS == set(KIND_EXAMPLES), "add an example for each new kind"


@pytest.mark.parametrize("kind", sorted(KIND_EXAMPLES))
def test_layer_1_the_checker_alone_refuses_every_listed_kind(kind):
    with pytest.raises(sql_console.RefusedQuery, match="Refused"):
        sql_console.check_query(KIND_EXAMPLES[kind])


@pytest.mark.parametrize("sql", _file_function_calls())
def test_layer_1_the_checker_alone_refuses_every_file_and_network_function(sql):
    with pytest.raises(sql_console.RefusedQuery, match="refused"):
        sql_console.check_query(sql)
    with pytest.raises(sql_console.RefusedQuery, match="refused"):  # inside an EXPLAIN too
        sql_console.check_query("EXPLAIN " + sql)
    with pytest.raises(sql_console.RefusedQuery, match="refused"):
        sql_console.check_query("EXPLAIN ANALYZE " + sql)


@pytest.mark.parametrize("kind", ["INSERT", "DELETE", "DROP", "CREATE", "COPY", "ATTACH", "SET"])
def test_layer_1_explain_of_a_refused_statement_is_refused(kind):
    with pytest.raises(sql_console.RefusedQuery, match="EXPLAIN is allowed only for a SELECT|could not parse"):
        sql_console.check_query("EXPLAIN " + KIND_EXAMPLES[kind])


def test_layer_1_passes_plain_reads():
    for sql in (
        "SELECT count(*) FROM comparisons",
        "FROM prompts LIMIT 3",
        "EXPLAIN SELECT 1",
        "DESCRIBE comparisons",
        "PRAGMA table_info('meta')",
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x",
        "VALUES (1), (2)",
    ):
        assert sql_console.check_query(sql + ";") == sql  # fmt: skip


@pytest.mark.parametrize("sql", _file_function_calls()[: len(sql_guard._FILE_FUNCTIONS)])
def test_layer_2_the_locked_instance_alone_refuses_every_file_function(console, outside_file, sql):
    """Straight to the connection (no checker): each function either refuses the file system or does not exist."""
    cur = console.cursor()
    cur.execute(f"USE {sql_console.CATALOG}")
    try:
        with pytest.raises(duckdb.Error):
            cur.execute(sql.replace("'x'", f"'{outside_file}'")).fetchall()
    finally:
        cur.close()


@pytest.mark.parametrize("kind", ["INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "COPY", "EXPORT",
                                  "ATTACH", "LOAD", "EXTENSION", "SET"])  # fmt: skip
def test_layer_2_the_locked_instance_alone_refuses_writes_files_extensions_and_settings(console, console_db, kind):
    before = _sha256(console_db)
    cur = console.cursor()
    cur.execute(f"USE {sql_console.CATALOG}")
    try:
        with pytest.raises(duckdb.Error):
            cur.execute(KIND_EXAMPLES[kind].replace("'out.csv'", "'/tmp/cae-layer2-out.csv'")
                        .replace("'exp'", "'/tmp/cae-layer2-exp'")
                        .replace("':memory:'", "'/tmp/cae-layer2.duckdb'")).fetchall()  # fmt: skip
    finally:
        cur.close()
    assert _sha256(console_db) == before
    for leftover in ("/tmp/cae-layer2-out.csv", "/tmp/cae-layer2-exp", "/tmp/cae-layer2.duckdb"):
        assert not Path(leftover).exists(), leftover
