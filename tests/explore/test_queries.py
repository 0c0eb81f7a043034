"""The dashboard's query functions on a real demo database, checked against independent plain SQL / Polars."""

from __future__ import annotations

import math

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis import schema, text
from analysis.explore import agreement_queries, browse, overview
from analysis.filters import Filters
from analysis.text import SPECIAL_TOKENS


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def facts(con) -> pl.DataFrame:
    return con.sql("SELECT * FROM comparison_facts").pl()


INDIA = Filters(countries=("India",))
FR_IT_TURN1 = Filters(countries=("France", "Italy"), turns=(1,))


def _apply(facts: pl.DataFrame, f: Filters) -> pl.DataFrame:
    out = facts
    if f.countries:
        out = out.filter(pl.col("country").is_in(list(f.countries)))
    if f.turns:
        out = out.filter(pl.col("turn").is_in(list(f.turns)))
    return out


def test_clean_text_strips_special_tokens():
    assert text.clean_text("Sure, here it is.<|end_of_text|>") == "Sure, here it is."
    assert text.clean_text("<|begin_of_text|>Olá <|eot_id|>mundo ") == "Olá mundo"
    assert text.clean_text(None) == ""
    assert text.clean_text("नमस्ते <|end_of_text|>") == "नमस्ते"
    frame = pl.DataFrame({"t": ["a<|end_of_text|>", None, "b"]}).with_columns(text.clean_text_expr("t"))
    assert frame["t"].to_list() == ["a", None, "b"]


def test_filter_options_come_from_the_data(con, facts):
    opts = overview.filter_options(con)
    assert opts["countries"] == sorted(facts["country"].drop_nulls().unique().to_list())
    assert opts["languages"] == sorted(facts["assigned_lang"].drop_nulls().unique().to_list())
    assert set(opts) == {"countries", "languages", "ages", "genders", "educations", "politicals"}


@pytest.mark.parametrize("f", [Filters(), INDIA, FR_IT_TURN1])
def test_totals_match_plain_polars(con, facts, f):
    sub = _apply(facts, f)
    t = overview.totals(con, f)
    assert t["comparisons"] == sub.height
    assert t["conversations"] == sub["conversation_id"].n_unique()
    assert t["annotators"] == sub["annotator_id"].n_unique()
    assert t["prompts"] == sub["prompt_hash"].n_unique()
    assert t["with_feedback"] == sub["feedback"].is_not_null().sum()
    assert t["feedback_share"] == pytest.approx(sub["feedback"].is_not_null().mean())
    slots = [[h for h in row if h is not None] for row in sub.select(*schema.HASH_COLUMNS).rows()]
    assert t["with_repeated_candidate"] == sum(len(set(s)) < len(s) for s in slots)


def test_the_demo_shows_some_text_twice_in_a_set(con):
    assert (
        0 < overview.totals(con, Filters())["with_repeated_candidate"] < overview.totals(con, Filters())["comparisons"]
    )


def test_a_filter_changes_the_figures(con):
    assert overview.totals(con, INDIA)["comparisons"] < overview.totals(con, Filters())["comparisons"]
    by = overview.by_country_language(con, INDIA)
    assert by["country"].unique().to_list() == ["India"]


def test_empty_selection_is_not_an_error(con):
    none = Filters(countries=("Atlantis",))
    t = overview.totals(con, none)
    assert t["comparisons"] == 0 and math.isnan(t["feedback_share"])
    assert overview.position_bias(con, none).is_empty()
    frame, total = browse.search_conversations(con, none, "", 1)
    assert frame.is_empty() and total == 0


def test_breakdowns_add_up(con, facts):
    f = FR_IT_TURN1
    total = overview.totals(con, f)
    by = overview.by_country_language(con, f)
    assert by["comparisons"].sum() == total["comparisons"]
    demo = overview.demographics(con, f)
    for dim, sub in demo.group_by("dimension"):
        assert sub["annotators"].sum() == total["annotators"], dim
        assert sub["share"].sum() == pytest.approx(1.0)
    per_ann = overview.conversations_per_annotator(con, f)
    assert per_ann.height == total["annotators"]
    assert per_ann["conversations"].sum() == total["conversations"]  # one annotator per conversation
    turns = overview.turns_per_conversation(con, Filters())
    assert turns["conversations"].sum() == overview.totals(con, Filters())["conversations"]
    assert (turns["turns"] * turns["conversations"]).sum() == facts.height


def test_feedback_share_matches_polars(con, facts):
    fb = overview.feedback_share(con, Filters())
    expected = (
        facts.group_by("country", "turn").agg(share=pl.col("feedback").is_not_null().mean()).sort("country", "turn")
    )
    got = fb.select("country", "turn", "share").sort("country", "turn")
    assert got["share"].to_list() == pytest.approx(expected["share"].to_list())


def test_position_bias(con, facts):
    pb = overview.position_bias(con, Filters())
    overall = pb.filter(pl.col("country") == "All countries")
    assert overall["chosen"].to_list() == ["a", "b", "c", "d"]
    assert overall["n"].sum() == facts.height
    assert overall["share"].sum() == pytest.approx(1.0)
    india = pb.filter(pl.col("country") == "India")
    expected = facts.filter(pl.col("country") == "India").group_by("chosen").len().sort("chosen")
    assert india["n"].to_list() == expected["len"].to_list()
    assert pb["country"][0] == "All countries"


# ---- browse -----------------------------------------------------------------------------------------------------
def test_search_is_a_case_insensitive_text_match_over_all_turns(con, facts):
    prompts = con.sql("SELECT prompt_hash, text FROM prompts").pl()
    word = "boss"
    hashes = prompts.filter(pl.col("text").str.to_lowercase().str.contains(word, literal=True))["prompt_hash"]
    expected = facts.filter(pl.col("prompt_hash").is_in(hashes.implode()))["conversation_id"].n_unique()
    assert expected > 0
    frame, total = browse.search_conversations(con, Filters(), "BoSs", page=1, page_size=500)
    assert total == expected == frame.height
    assert browse.count_conversations(con, Filters(), "boss") == expected


def test_search_handles_hindi_and_wildcards_literally(con):
    hindi = con.sql("SELECT text FROM prompts WHERE text SIMILAR TO '.*[\u0900-\u097f].*' LIMIT 1").fetchall()
    assert hindi, "the demo should hold Hindi prompts"
    word = hindi[0][0].split()[0]
    _, total = browse.search_conversations(con, Filters(), word)
    assert total > 0
    # '%' and '_' are literal characters, not wildcards; quotes are data, not SQL.
    assert browse.search_conversations(con, Filters(), "%")[1] == browse.count_conversations(con, Filters(), "%")
    assert browse.count_conversations(con, Filters(), "%") < browse.count_conversations(con, Filters(), "")
    assert browse.count_conversations(con, Filters(), "'; DROP TABLE prompts; --") == 0
    assert con.sql("SELECT count(*) FROM prompts").fetchall()[0][0] > 0


def test_paging(con):
    total = browse.count_conversations(con, INDIA)
    p1, t1 = browse.search_conversations(con, INDIA, "", page=1, page_size=10)
    p2, _ = browse.search_conversations(con, INDIA, "", page=2, page_size=10)
    assert t1 == total and p1.height == 10 and p2.height == 10
    assert set(p1["conversation_id"]).isdisjoint(set(p2["conversation_id"]))
    assert p1["conversation_id"].to_list() == sorted(p1["conversation_id"].to_list())
    assert set(p1["country"]) == {"India"}
    last = browse.page_count(total, 10)
    tail, _ = browse.search_conversations(con, INDIA, "", page=last, page_size=10)
    assert 1 <= tail.height <= 10
    past, t_past = browse.search_conversations(con, INDIA, "", page=last + 5, page_size=10)
    assert past.is_empty() and t_past == total
    assert browse.page_count(0) == 1 and browse.page_count(26, 25) == 2


def test_conversation_reader(con, facts):
    cid = facts.group_by("conversation_id").len().filter(pl.col("len") >= 3)["conversation_id"].sort()[0]
    conv = browse.conversation(con, cid)
    assert conv is not None
    turns = conv["turns"]
    assert turns["turn"].to_list() == sorted(turns["turn"].to_list())
    raw = facts.filter(pl.col("conversation_id") == cid).sort("turn")
    assert turns["chosen"].to_list() == raw["chosen"].to_list()
    assert conv["info"]["country"] == raw["country"][0]
    assert browse.conversation(con, "no-such-conversation") is None


def test_no_special_token_reaches_the_reader(con):
    """The release carries tokens such as <|end_of_text|> on some answers; ingest removes them (the demo has them)."""
    assert (
        con.execute("SELECT count(*) FROM candidates WHERE regexp_matches(text, ?)", [SPECIAL_TOKENS]).fetchall()[0][0]
        == 0
    )
    cid = con.execute("SELECT conversation_id FROM comparisons ORDER BY 1 LIMIT 1").fetchall()[0][0]
    conv = browse.conversation(con, cid)
    for letter in "abcd":
        assert not conv["turns"][letter].str.contains("<|", literal=True).any()


# ---- agreement --------------------------------------------------------------------------------------------------
def _set_ids(facts: pl.DataFrame) -> pl.DataFrame:
    """Each comparison's candidate set, computed here from the hashes (a prompt and its distinct texts)."""
    return facts.with_columns(
        set_key=pl.concat_str([pl.col("prompt_hash"), pl.concat_list(["a_hash", "b_hash", "c_hash", "d_hash"])
                               .list.unique().list.sort().list.join(",")], separator=":")
    )  # fmt: skip


@pytest.mark.parametrize("by", ["set", "prompt"])
def test_agreement_choices_keep_units_over_the_threshold(con, facts, by):
    threshold = 3
    ch = agreement_queries.agreement_choices(con, Filters(), threshold, by)
    assert ch.height > 0
    key = "set_key" if by == "set" else "prompt_hash"
    per_unit = _set_ids(facts).group_by(key).agg(n_ann=pl.col("annotator_id").n_unique(), n=pl.len())
    keep = per_unit.filter(pl.col("n_ann") >= threshold)
    assert ch["unit_id"].n_unique() == keep.height and ch["n"].sum() == keep["n"].sum()
    if by == "prompt":
        assert set(ch["unit_id"].unique()) == set(keep["prompt_hash"])
    assert agreement_queries.agreement_choices(con, INDIA, threshold, by)["country"].unique().to_list() in (
        ["India"],
        [],
    )


def test_sets_seen_once_are_counted_and_left_out(con, facts):
    shared = agreement_queries.shared_sets(con, Filters())
    per_set = _set_ids(facts).group_by("set_key").agg(n_ann=pl.col("annotator_id").n_unique())
    assert shared == {"sets": per_set.height, "shared": per_set.filter(pl.col("n_ann") > 1).height}
    assert 0 < shared["shared"] < shared["sets"]  # the demo shares its pregenerated sets, not the rest
    seen_once = agreement_queries.agreement_choices(con, Filters(), 2, "set")["unit_id"].n_unique()
    assert seen_once == shared["shared"]


def test_agreement_views_and_unit_detail(con, facts):
    views = agreement_queries.agreement_views(con, Filters(), 3, "divided", min_per_country=1, by="set")
    table = views["table"]
    assert table.height > 0
    jsd = table["jsd_mean"].to_list()
    non_null = [v for v in jsd if v is not None]
    assert non_null == sorted(non_null, reverse=True)
    assert all(v is None for v in jsd[len(non_null) :])  # units with one country last
    assert (table["n_annotators"] >= 3).all() and (table["n_candidates"] <= 4).all()  # a set holds <= 4 texts
    assert len(non_null) > 0
    assert set(views["pairs"]["c1"]) <= set(overview.filter_options(con)["countries"])

    unit = table["unit_id"][0]
    ph = table["prompt_hash"][0]
    sets = _set_ids(facts)
    key = sets.filter(pl.col("prompt_hash") == ph)["set_key"].mode()[0]
    sub = sets.filter(pl.col("set_key") == key)
    cands = agreement_queries.unit_candidates(con, Filters(), unit)
    assert cands.height == len(key.split(":")[1].split(","))
    assert cands["shown"].to_list() == [sub.height] * cands.height  # every text of a set is shown in each comparison
    assert cands["chosen"].sum() == sub.height
    assert cands["All countries"].sum() == pytest.approx(1.0)
    for country in sub["country"].unique():
        assert cands[country].sum() == pytest.approx(1.0)
    totals = agreement_queries.unit_country_totals(con, Filters(), unit)
    assert totals["choices"].sum() == sub.height
    assert agreement_queries.unit_prompt(con, unit) == agreement_queries.unit_prompt(con, ph, "prompt")
    assert agreement_queries.unit_prompt(con, "nope") is None
    pooled = agreement_queries.unit_candidates(con, Filters(), ph, "prompt")
    assert pooled["chosen"].sum() == facts.filter(pl.col("prompt_hash") == ph).height


def test_the_stored_set_id_is_the_candidate_set_and_older_databases_still_rank(con, demo_db, tmp_path):
    # the stored column equals the definition: the prompt and its distinct candidate texts, in any order
    rows = con.execute(f"SELECT set_id, prompt_hash, {', '.join(schema.HASH_COLUMNS)} FROM comparisons").fetchall()
    ids: dict[tuple, set] = {}
    for set_id, prompt, *hashes in rows:
        ids.setdefault((prompt, frozenset(hashes)), set()).add(set_id)
    assert all(len(v) == 1 for v in ids.values())
    assert len({next(iter(v)) for v in ids.values()}) == len(ids)
    # a database built before the column existed: the same ranking from the expression
    old = tmp_path / "old.duckdb"
    old.write_bytes(demo_db.read_bytes())
    with duckdb.connect(str(old)) as c:
        c.execute("DROP VIEW comparison_facts")
        c.execute("ALTER TABLE comparisons DROP COLUMN set_id")
        c.execute(
            "CREATE VIEW comparison_facts AS SELECT c.*, v.assigned_lang, v.wave, v.is_pregenerated_first_prompt, "
            "v.in_balanced_subset, v.in_balanced_subset_10, a.country, a.age, a.gender, a.education, a.political, "
            "a.ethnicity FROM comparisons c JOIN conversations v USING (conversation_id) "
            "JOIN annotators a ON a.annotator_id = c.annotator_id"
        )
    with duckdb.connect(str(old), read_only=True) as c:
        before = agreement_queries.agreement_views(c, Filters(), threshold=3)["table"]
    now = agreement_queries.agreement_views(con, Filters(), threshold=3)["table"]
    assert before.height > 0
    # equal up to the last bits of the floats: a parallel group-by may sum in another order (this flaked once)
    assert_frame_equal(before.sort("unit_id"), now.sort("unit_id"), check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
