"""A file in the release's format that the project has never seen (tests/release_format.py): exact accounting,
canonical countries and languages, no special token anywhere, and agreement only over shared candidate sets."""

from __future__ import annotations

import json

import duckdb
import pytest

from analysis import schema
from analysis.explore import agreement_queries, overview
from analysis.filters import Filters


@pytest.fixture(scope="module")
def con(release_db):
    with duckdb.connect(str(release_db), read_only=True) as c:
        yield c


def test_the_ingest_accounts_for_every_row_turn_and_cleaned_text(release_file, release_db):
    summary = json.loads(release_db.with_name("ingest_summary.json").read_text())
    assert summary["rows_read"] == release_file.rows
    assert summary["conversations"] == release_file.conversations
    assert summary["comparisons"] == release_file.comparisons
    assert summary["rejected_rows"] == summary["rejected_turns"] == summary["duplicate_rows"] == 0
    assert summary["cleaned_texts"] == release_file.tokens > 0
    assert summary["repeated_candidates"] == release_file.repeated_sets > 0
    assert summary["renamed_values"]["country"]["united states"] == "United States"


def test_countries_and_languages_read_as_the_canonical_names(release_file, con):
    stored = dict(con.execute("SELECT annotator_id, country FROM annotators").fetchall())
    assert stored == release_file.countries
    assert {c for (c,) in con.execute("SELECT DISTINCT country FROM comparison_facts").fetchall()} == set(
        schema.COUNTRIES
    )
    assert {lang for (lang,) in con.execute("SELECT DISTINCT assigned_lang FROM conversations").fetchall()} == set(
        schema.LANGUAGES
    )
    assert set(overview.filter_options(con)["countries"]) == set(schema.COUNTRIES)
    india = Filters.from_query_params({"country": "India"})
    assert overview.totals(con, india)["annotators"] == sum(1 for c in release_file.countries.values() if c == "India")


def test_no_special_token_is_left_in_any_text(con):
    for table, column in [("candidates", "text"), ("prompts", "text"), ("comparisons", "feedback")]:
        n = con.execute(
            f"SELECT count(*) FROM {table} WHERE regexp_matches({column}, ?)", [r"<\|[a-z_]+\|>"]
        ).fetchall()
        assert n == [(0,)], table


def test_agreement_ranks_only_the_shared_sets(release_file, con):
    shared = agreement_queries.shared_sets(con, Filters())
    assert shared["shared"] == release_file.shared_sets
    views = agreement_queries.agreement_views(con, Filters(), threshold=2)
    assert views["table"].height == release_file.shared_sets  # every follow-up set was seen once: none is ranked
    assert views["table"]["n_annotators"].max() == release_file.hostile_set_annotators
    pooled = agreement_queries.agreement_views(con, Filters(), threshold=2, by="prompt")
    assert pooled["table"].height == release_file.shared_sets  # fresh prompts per conversation: one annotator each
