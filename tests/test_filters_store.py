"""The global filters (SQL and URL round trip) and the store (paths, opening, what a database holds)."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import store
from analysis.filters import Filters
from analysis.pipeline import demo


def test_empty_filters_select_everything(demo_db):
    con = store.connect(demo_db)
    where, params = Filters().where()
    assert where == "TRUE" and params == []
    total = con.execute("SELECT count(*) FROM comparisons").fetchone()[0]
    assert con.execute(f"SELECT count(*) FROM comparison_facts WHERE {where}").fetchone()[0] == total


def test_each_filter_narrows_to_what_it_names(demo_db):
    con = store.connect(demo_db)
    cases = [
        (Filters(countries=("India",)), "country = 'India'"),
        (Filters(languages=("fr", "it")), "assigned_lang IN ('fr', 'it')"),
        (Filters(turns=(2,)), "turn = 2"),
        (Filters(pregenerated_only=True), "is_pregenerated_first_prompt"),
        (Filters(balanced="balanced_10"), "in_balanced_subset_10"),
        (Filters(ages=("18-34",), genders=("Female",)), "age = '18-34' AND gender = 'Female'"),
    ]
    total = con.execute("SELECT count(*) FROM comparison_facts").fetchone()[0]
    for f, plain in cases:
        where, params = f.where("x")
        got = con.execute(f"SELECT count(*) FROM comparison_facts x WHERE {where}", params).fetchone()[0]
        want = con.execute(f"SELECT count(*) FROM comparison_facts WHERE {plain}").fetchone()[0]
        assert got == want and 0 < got < total, (f, got, want, total)


def test_filter_values_are_parameters_not_sql(demo_db):
    con = store.connect(demo_db)
    where, params = Filters(countries=("x') OR TRUE --",)).where()
    assert con.execute(f"SELECT count(*) FROM comparison_facts WHERE {where}", params).fetchone()[0] == 0


names = st.text(alphabet=st.characters(blacklist_characters="|", blacklist_categories=("Cs",)), min_size=1, max_size=12)


@given(
    countries=st.lists(names, max_size=3, unique=True),
    langs=st.lists(st.sampled_from(["en", "fr", "it", "pt", "hi"]), max_size=3, unique=True),
    turns=st.lists(st.integers(1, 4), max_size=4, unique=True),
    pregen=st.booleans(),
    balanced=st.sampled_from(["all", "balanced", "balanced_10"]),
)
def test_url_round_trip(countries, langs, turns, pregen, balanced):
    f = Filters(
        countries=tuple(countries),
        languages=tuple(langs),
        turns=tuple(sorted(turns)),
        pregenerated_only=pregen,
        balanced=balanced,
    )
    assert Filters.from_query_params(f.to_query_params()) == f


def test_malformed_url_values_are_ignored_not_fatal():
    f = Filters.from_query_params({"turn": "1|7|x", "balanced": "bogus", "pregen": "maybe", "country": "|France|"})
    assert f == Filters(turns=(1,), countries=("France",))
    with pytest.raises(ValueError):
        Filters(turns=(5,))


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
