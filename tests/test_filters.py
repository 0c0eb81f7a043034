"""The global filters: to SQL over comparison_facts (checked against plain SQL) and to/from the URL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import store
from analysis.filters import Filters


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
        (Filters(balanced="balanced"), "in_balanced_subset"),
        (Filters(ages=("18-34",), genders=("Female",)), "age = '18-34' AND gender = 'Female'"),
        (Filters(educations=("Post-secondary graduate",)), "education = 'Post-secondary graduate'"),
        (Filters(politicals=("Very left-leaning", "Prefer not to say")),
         "political IN ('Very left-leaning', 'Prefer not to say')"),
        (Filters(countries=("Brazil", "Italy"), turns=(1, 3), pregenerated_only=True),
         "country IN ('Brazil', 'Italy') AND turn IN (1, 3) AND is_pregenerated_first_prompt"),
    ]  # fmt: skip
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


def test_every_list_filter_reads_its_own_column(demo_db):
    """Each list field filters on the column it names: a value of that column keeps rows, the same value given to
    another field keeps none."""
    con = store.connect(demo_db)
    fields = {"countries": "country", "languages": "assigned_lang", "ages": "age", "genders": "gender",
              "educations": "education", "politicals": "political"}  # fmt: skip
    for field, column in fields.items():
        value = con.execute(f"SELECT {column} FROM comparison_facts WHERE {column} IS NOT NULL LIMIT 1").fetchall()[0][
            0
        ]
        where, params = Filters(**{field: (value,)}).where()
        got = con.execute(f"SELECT count(*) FROM comparison_facts WHERE {where}", params).fetchall()[0][0]
        want = con.execute(f"SELECT count(*) FROM comparison_facts WHERE {column} = ?", [value]).fetchall()[0][0]
        assert got == want > 0, field


def test_facts_sql_selects_the_filtered_turns(demo_db):
    con = store.connect(demo_db)
    body, params = Filters(countries=("India",), turns=(1,)).facts_sql()
    got = con.execute(f"SELECT count(*) FROM ({body})", params).fetchall()[0][0]
    want = con.execute("SELECT count(*) FROM comparison_facts WHERE country = 'India' AND turn = 1").fetchall()[0][0]
    assert got == want > 0


def test_url_keys_name_every_key_the_filters_write():
    f = Filters(countries=("a",), languages=("en",), ages=("x",), genders=("y",), educations=("z",),
                politicals=("w",), pregenerated_only=True, balanced="balanced", turns=(1,))  # fmt: skip
    written = set(f.to_query_params())
    assert Filters().url_keys() == Filters.url_keys()  # a static method: callable from an instance too
    assert written == set(Filters.url_keys()) == {"country", "lang", "age", "gender", "edu", "pol", "pregen",
                                                  "balanced", "turn"}  # fmt: skip


def test_empty_filters_write_nothing_and_know_they_are_empty():
    assert Filters().to_query_params() == {} and Filters().is_empty()
    assert not Filters(balanced="balanced").is_empty() and not Filters(turns=(2,)).is_empty()


def test_lists_become_tuples_so_filters_are_hashable_cache_keys():
    f = Filters(countries=["India"], turns=[1, 2])
    assert f == Filters(countries=("India",), turns=(1, 2)) and isinstance(hash(f), int)


def test_balanced_values_from_a_url_are_compared_by_value():
    # strings read from a URL are new objects, not the interned literals in the code
    balanced = "".join(["balanced", "_10"])
    f = Filters.from_query_params({"balanced": balanced})
    assert f.where() == ("in_balanced_subset_10", [])
    assert f.to_query_params() == {"balanced": "balanced_10"}
    assert Filters(balanced="".join(["bal", "anced"])).where() == ("in_balanced_subset", [])
