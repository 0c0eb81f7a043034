"""The store: where the database lives, opening it, what it holds, vectors and transactions."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from analysis import schema, store
from analysis.pipeline import demo


def test_resolve_db_path_prefers_argument_then_env_then_demo(monkeypatch, tmp_path):
    monkeypatch.delenv(store.ENV_DB, raising=False)
    assert store.resolve_db_path() == store.DEMO_DB
    monkeypatch.setenv(store.ENV_DB, str(tmp_path / "env.duckdb"))
    assert store.resolve_db_path() == tmp_path / "env.duckdb"
    assert store.resolve_db_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"


def test_missing_or_foreign_database_says_what_to_run(tmp_path):
    with pytest.raises(store.DatabaseError, match="python -m analysis demo"):
        store.connect(tmp_path / "none.duckdb")
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(store.DatabaseError, match="python -m analysis"):
        store.connect(junk)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(store.DatabaseError, match="no explorer tables"):
        store.db_info(store.connect(empty))


def test_ensure_demo_builds_once(tmp_path):
    target = tmp_path / "d.duckdb"
    assert demo.ensure_demo(target, conversations=100) == target
    mtime = target.stat().st_mtime_ns
    demo.ensure_demo(target, conversations=100)
    assert target.stat().st_mtime_ns == mtime
    info = store.db_info(store.connect(target))
    assert info["synthetic"] and info["counts"]["conversations"] == 100


def test_query_pl_returns_typed_frames(demo_db):
    con = store.connect(demo_db)
    df = store.query_pl(con, "SELECT country, count(*) AS n FROM comparison_facts WHERE turn = ? GROUP BY 1", [1])
    assert df.columns == ["country", "n"] and df.height == 5 and df["n"].sum() > 0


def test_transaction_rolls_back_on_any_error(tmp_path):
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(KeyboardInterrupt):
        with store.transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
            raise KeyboardInterrupt
    with store.transaction(con):
        con.execute("INSERT INTO t VALUES (2)")
    assert con.execute("SELECT a FROM t").fetchall() == [(2,)]


def test_vectors_come_back_in_the_order_asked_with_nan_for_missing(tmp_path):
    con = duckdb.connect(str(tmp_path / "v.duckdb"))
    con.execute(f"CREATE TABLE {schema.T_EMBEDDINGS} (model VARCHAR, text_hash VARCHAR, vector FLOAT[])")
    con.execute(f"INSERT INTO {schema.T_EMBEDDINGS} VALUES ('m', 'a', [1, 0]), ('m', 'b', [0, 1]), ('n', 'c', [1, 1])")
    out = store.load_vectors(con, "m", ["b", "zz", "a"], missing="nan")
    assert np.array_equal(out[0], [0, 1]) and np.isnan(out[1]).all() and np.array_equal(out[2], [1, 0])
    with pytest.raises(LookupError, match="1 of 2"):
        store.load_vectors(con, "m", ["a", "zz"])
    hashes, vecs = store.vectors_matching(con, "m", "SELECT 'b' AS text_hash UNION ALL SELECT 'a'")
    assert hashes == ["a", "b"] and vecs.shape == (2, 2)
    assert sorted(store.embedded_hashes(con, "m")) == ["a", "b"] and store.vector_dim(con, "n") == 2
