"""Ingest: schema mapping, every bad-input rule, the atomic swap and the accounting, on real DuckDB files."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import schema
from analysis.pipeline.ingest import IngestError, ingest

ROOT = Path(__file__).resolve().parents[2]


def make_row(cid: str, aid: str = "ann-1", turns: int = 1, **overrides) -> dict:
    row = {c: "" for c in schema.RELEASE_COLUMNS}
    row.update(
        conversation_id=cid,
        annotator_id=aid,
        assigned_lang="fr",
        wave="1",
        annotator_country="France",
        annotator_age="35-45",
        annotator_gender="Female",
        annotator_education_level="Post-secondary graduate",
        annotator_political="Middle-of-the-road/centrist",
        annotator_ethnicity="Other",
        is_pregenerated_first_prompt="true",
        in_balanced_subset="false",
        in_balanced_subset_10="false",
    )
    for i, t in enumerate(schema.TURNS[:turns]):
        row[schema.turn_column(t, "prompt")] = f"{cid} prompt {i + 1}"
        for letter in schema.LETTERS:
            row[schema.turn_column(t, f"response_{letter}")] = f"{cid} t{i + 1} answer {letter}"
        row[schema.turn_column(t, "preferred_response")] = "response_b"
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or list(schema.RELEASE_COLUMNS)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def q(db: Path, sql: str, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def assert_reconciles(summary: dict) -> None:
    assert summary["rows_read"] == summary["conversations"] + summary["duplicate_rows"] + summary["rejected_rows"]
    assert summary["turns_with_prompt"] == summary["comparisons"] + summary["rejected_turns"]
    assert sum(summary["rejected_reasons"].values()) == summary["rejected_rows"] + summary["rejected_turns"]


def test_columns_are_matched_by_name_in_any_order_and_extras_are_ignored(tmp_path):
    cols = list(schema.RELEASE_COLUMNS)
    random.Random(3).shuffle(cols)
    cols = ["unexpected_column", *cols, "first_turn_responses"]
    rows = [make_row("c1", turns=2, unexpected_column="zzz"), make_row("c2", aid="ann-2", turns=1)]
    src = write_csv(tmp_path / "shuffled.csv", rows, cols)
    res = ingest(src, tmp_path / "db.duckdb")
    assert res.summary["conversations"] == 2
    assert res.summary["comparisons"] == 3
    assert set(res.summary["ignored_columns"]) == {"unexpected_column", "first_turn_responses"}
    db = tmp_path / "db.duckdb"
    got = q(
        db,
        "SELECT c.turn, c.chosen, p.text, k.text FROM comparisons c JOIN prompts p USING (prompt_hash) "
        "JOIN candidates k ON k.text_hash = c.chosen_hash WHERE conversation_id = 'c1' ORDER BY turn",
    )
    assert got == [(1, "b", "c1 prompt 1", "c1 t1 answer b"), (2, "b", "c1 prompt 2", "c1 t2 answer b")]
    ann = q(db, "SELECT annotator_id, country, age, education, n_conversations FROM annotators ORDER BY 1")
    assert ann[0] == ("ann-1", "France", "35-45", "Post-secondary graduate", 1)
    conv = q(
        db,
        "SELECT assigned_lang, wave, is_pregenerated_first_prompt, in_balanced_subset, n_turns "
        "FROM conversations WHERE conversation_id = 'c1'",
    )
    assert conv == [("fr", "1", True, False, 2)]


def test_missing_required_column_exits_2_names_it_and_leaves_the_database_untouched(tmp_path):
    db = tmp_path / "db.duckdb"
    ingest(write_csv(tmp_path / "good.csv", [make_row("c1")]), db)
    before = file_hash(db)
    cols = [c for c in schema.RELEASE_COLUMNS if c not in ("annotator_id", "second_turn_preferred_response")]
    bad = write_csv(tmp_path / "bad.csv", [make_row("c9")], cols)
    proc = cli("ingest", str(bad), "--db", str(db))
    assert proc.returncode == 2
    assert "annotator_id" in proc.stderr and "second_turn_preferred_response" in proc.stderr
    assert "Nothing was changed" in proc.stderr
    assert file_hash(db) == before
    assert q(db, "SELECT conversation_id FROM conversations") == [("c1",)]
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_failure_midway_leaves_the_previous_database_as_it_was(tmp_path):
    db = tmp_path / "db.duckdb"
    ingest(write_csv(tmp_path / "good.csv", [make_row("c1"), make_row("c2")]), db)
    before = file_hash(db)
    # The header is right, but the body is not valid CSV (an unterminated quote): the read fails after the check.
    bad = tmp_path / "broken.csv"
    good_text = (tmp_path / "good.csv").read_text(encoding="utf-8")
    bad.write_text(good_text + 'c3,"unterminated\n', encoding="utf-8")
    with pytest.raises(IngestError) as err:
        ingest(bad, db)
    assert err.value.code == 2
    assert file_hash(db) == before
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_preferred_response_ignores_case_and_surrounding_whitespace(tmp_path):
    rows = [
        make_row("c1", first_turn_preferred_response="  RESPONSE_C "),
        make_row("c2", first_turn_preferred_response="Response_a"),
    ]
    res = ingest(write_csv(tmp_path / "x.csv", rows), tmp_path / "db.duckdb")
    assert res.summary["rejected_turns"] == 0
    assert q(tmp_path / "db.duckdb", "SELECT chosen FROM comparisons ORDER BY conversation_id") == [("c",), ("a",)]


def test_bad_turns_are_rejected_with_reasons_and_the_other_turns_still_load(tmp_path):
    rows = [
        make_row("c1", turns=3, second_turn_preferred_response=""),
        make_row("c2", turns=2, first_turn_preferred_response="response_e"),
        make_row("c3", turns=2, second_turn_response_d="   "),
        make_row("c4", turns=1, first_turn_preferred_response=None),
    ]
    db = tmp_path / "db.duckdb"
    res = ingest(write_csv(tmp_path / "x.csv", rows), db)
    s = res.summary
    assert s["rejected_reasons"] == {
        "missing_preferred_response": 2,
        "unknown_preferred_response": 1,
        "empty_candidate": 1,
    }
    assert s["conversations"] == 4 and s["comparisons"] == 4 and s["rejected_turns"] == 4
    rej = q(db, "SELECT conversation_id, turn, reason, detail FROM rejected ORDER BY conversation_id, turn")
    assert rej[0][:3] == ("c1", 2, "missing_preferred_response")
    assert rej[1][:3] == ("c2", 1, "unknown_preferred_response") and "response_e" in rej[1][3]
    assert rej[2][:3] == ("c3", 2, "empty_candidate") and "response_d" in rej[2][3]
    loaded = q(db, "SELECT comparison_id FROM comparisons ORDER BY 1")
    assert loaded == [("c1:1",), ("c1:3",), ("c2:2",), ("c3:1",)]
    assert q(db, "SELECT n_turns, n_comparisons FROM conversations WHERE conversation_id='c1'") == [(3, 2)]
    assert_reconciles(s)


@pytest.mark.parametrize("letter", schema.LETTERS)
def test_an_empty_candidate_in_any_slot_is_rejected_and_named(tmp_path, letter):
    for turn, t in enumerate(schema.TURNS, start=1):  # every slot of every turn is checked
        row = make_row("c1", turns=4, **{schema.turn_column(t, f"response_{letter}"): " "})
        db = tmp_path / f"db{turn}.duckdb"
        res = ingest(write_csv(tmp_path / f"x{turn}.csv", [row]), db)
        assert res.summary["rejected_reasons"] == {"empty_candidate": 1}, (letter, t)
        rej = q(db, "SELECT turn, detail FROM rejected")
        assert rej == [(turn, f"empty: response_{letter}")]
        assert res.summary["comparisons"] == 3


@pytest.mark.parametrize("turn", schema.TURNS)
def test_a_duplicate_id_that_differs_in_any_turn_is_a_conflict_not_a_copy(tmp_path, turn):
    a = make_row("c1", turns=4)
    b = dict(a, **{schema.turn_column(turn, "response_c"): "a different answer"})
    res = ingest(write_csv(tmp_path / "x.csv", [a, b]), tmp_path / "db.duckdb")
    assert res.summary["duplicate_rows"] == 0
    assert res.summary["rejected_reasons"] == {"conflicting_duplicate": 1}
    c = dict(a, annotator_age="55+")  # a difference outside the turns counts as well
    res = ingest(write_csv(tmp_path / "y.csv", [a, c]), tmp_path / "db2.duckdb")
    assert res.summary["rejected_reasons"] == {"conflicting_duplicate": 1}


def test_a_turn_without_prompt_is_absent_not_rejected(tmp_path):
    # Turn two skipped in the middle; turns three and four empty: only turns 1 and 3 exist.
    row = make_row("c1", turns=3, second_turn_prompt="", second_turn_preferred_response="")
    res = ingest(write_csv(tmp_path / "x.csv", [row]), tmp_path / "db.duckdb")
    assert res.summary["rejected_turns"] == 0 and res.summary["comparisons"] == 2
    assert res.summary["turns_with_prompt"] == 2
    assert q(tmp_path / "db.duckdb", "SELECT turn FROM comparisons ORDER BY 1") == [(1,), (3,)]


def test_exact_duplicates_load_once_and_conflicting_duplicates_are_rejected(tmp_path):
    a = make_row("c1", turns=2)
    conflicting = make_row("c1", turns=2, first_turn_preferred_response="response_d")
    rows = [a, make_row("c2"), dict(a), conflicting, dict(a)]
    db = tmp_path / "db.duckdb"
    res = ingest(write_csv(tmp_path / "x.csv", rows), db)
    s = res.summary
    assert s["rows_read"] == 5 and s["conversations"] == 2 and s["duplicate_rows"] == 2
    assert s["rejected_reasons"] == {"conflicting_duplicate": 1}
    assert q(db, "SELECT source_row, reason FROM rejected") == [(4, "conflicting_duplicate")]
    assert q(db, "SELECT chosen FROM comparisons WHERE conversation_id='c1' ORDER BY turn") == [("b",), ("b",)]
    assert_reconciles(s)


def test_rows_without_ids_are_rejected(tmp_path):
    rows = [make_row(""), make_row("c2", aid="  "), make_row("c3")]
    res = ingest(write_csv(tmp_path / "x.csv", rows), tmp_path / "db.duckdb")
    assert res.summary["rejected_reasons"] == {"missing_conversation_id": 1, "missing_annotator_id": 1}
    assert res.summary["conversations"] == 1
    assert_reconciles(res.summary)


def test_unseen_category_values_load_as_they_are(tmp_path):
    rows = [
        make_row(
            "c1",
            annotator_age="65-74",
            annotator_country="Atlantis",
            assigned_lang="es",
            annotator_political="Anarcho-syndicalist",
            wave="3b",
        )
    ]
    db = tmp_path / "db.duckdb"
    ingest(write_csv(tmp_path / "x.csv", rows), db)
    assert q(db, "SELECT age, country, political FROM annotators") == [("65-74", "Atlantis", "Anarcho-syndicalist")]
    assert q(db, "SELECT assigned_lang, wave FROM conversations") == [("es", "3b")]


def _variants(spelling: str) -> list[str]:
    """A spelling as files write it: as listed, upper case, title case, padded, dotted or hyphenated."""
    out = [spelling, spelling.upper(), spelling.title(), f"  {spelling}  ", spelling.replace(" ", "-")]
    if " " not in spelling and len(spelling) <= 3 and spelling.isascii():
        out.append(".".join(spelling.upper()) + ".")  # U.S.A.
    return out


def test_every_spelling_of_a_country_or_language_is_stored_under_its_canonical_name(tmp_path):
    rows, want = [], {}
    for canonical, spellings in schema.COUNTRY_SPELLINGS.items():
        for spelling in spellings:
            for v in _variants(spelling):
                aid = f"a{len(rows)}"
                rows.append(make_row(f"c{len(rows)}", aid=aid, annotator_country=v, assigned_lang=""))
                want[aid] = (canonical, v.strip())
    langs = {}
    for code, spellings in schema.LANGUAGE_SPELLINGS.items():
        for spelling in spellings:
            for v in _variants(spelling):
                cid = f"c{len(rows)}"
                rows.append(make_row(cid, aid=f"a{len(rows)}", assigned_lang=v))
                langs[cid] = (code, v.strip())
    db = tmp_path / "db.duckdb"
    res = ingest(write_csv(tmp_path / "x.csv", rows), db)
    assert res.summary["conversations"] == len(rows)
    got = {a: (c, raw) for a, c, raw in q(db, "SELECT annotator_id, country, country_raw FROM annotators")}
    assert {a: got[a] for a in want} == want
    got_lang = {
        c: (lang, raw)
        for c, lang, raw in q(db, "SELECT conversation_id, assigned_lang, assigned_lang_raw FROM conversations")
    }
    assert {c: got_lang[c] for c in langs} == langs
    assert {c for (c,) in q(db, "SELECT DISTINCT country FROM annotators")} == set(schema.COUNTRIES)
    renamed = res.summary["renamed_values"]
    assert renamed["country"]["united states"] == "United States" and renamed["country"]["U.S.A."] == "United States"
    assert "India" not in renamed["country"]  # already canonical: not a renaming
    assert renamed["language"]["Hindi"] == "hi"


def test_a_value_outside_the_known_spellings_keeps_its_own_spelling(tmp_path):
    rows = [
        make_row("c1", aid="a1", annotator_country="  new zealand "),
        make_row("c2", aid="a2", annotator_country="usa!"),
    ]
    db = tmp_path / "db.duckdb"
    res = ingest(write_csv(tmp_path / "x.csv", rows), db)
    assert sorted(q(db, "SELECT country, country_raw FROM annotators")) == [
        ("United States", "usa!"),  # punctuation is not part of a spelling
        ("new zealand", "new zealand"),
    ]
    assert res.summary["renamed_values"]["country"] == {"usa!": "United States"}


@pytest.mark.parametrize(
    "token", ["<|end_of_text|>", "<|eot_id|>", "</s>", "<|im_end|>", "<|endoftext|>", "[/INST]", "<eos>"]
)
def test_a_special_token_is_cleaned_before_hashing_so_both_spellings_are_one_text(tmp_path, token):
    a = schema.turn_column("first", "response_a")
    rows = [
        make_row("c1", aid="a1", **{a: "**Same** answer." + token}),
        make_row("c2", aid="a2", **{a: "  **Same** answer.\n"}),
        make_row("c3", aid="a3", **{schema.turn_column("first", "response_c"): f" {token} "}),  # nothing else in it
    ]
    db = tmp_path / "db.duckdb"
    res = ingest(write_csv(tmp_path / "x.csv", rows), db)
    assert q(db, "SELECT count(*) FROM candidates WHERE text = '**Same** answer.'") == [(1,)]
    assert q(db, "SELECT count(DISTINCT a_hash) FROM comparisons WHERE conversation_id IN ('c1', 'c2')") == [(1,)]
    assert q(db, "SELECT count(*) FROM candidates WHERE contains(text, ?)", [token]) == [(0,)]
    assert res.summary["cleaned_texts"] == 2
    assert res.summary["rejected_reasons"] == {"empty_candidate": 1}
    assert_reconciles(res.summary)


def test_repeated_slots_are_counted_in_the_summary(tmp_path):
    same = {schema.turn_column("first", f"response_{x}"): "one text" for x in "bc"}
    rows = [make_row("c1", aid="a1", **same), make_row("c2", aid="a2")]
    res = ingest(write_csv(tmp_path / "x.csv", rows), tmp_path / "db.duckdb")
    assert res.summary["repeated_candidates"] == 1


def test_optional_columns_may_be_absent(tmp_path):
    cols = [c for c in schema.RELEASE_COLUMNS if c in schema.REQUIRED_COLUMNS]
    res = ingest(write_csv(tmp_path / "x.csv", [make_row("c1", turns=4)], cols), tmp_path / "db.duckdb")
    assert res.summary["comparisons"] == 4
    assert "annotator_country" in res.summary["absent_optional_columns"]
    assert q(tmp_path / "db.duckdb", "SELECT country FROM annotators") == [(None,)]


def test_candidate_texts_are_stored_once_by_content_hash(tmp_path):
    shared = {schema.turn_column("first", f"response_{x}"): f"same text {x}" for x in schema.LETTERS}
    rows = [make_row("c1", **shared), make_row("c2", aid="ann-2", **shared)]
    db = tmp_path / "db.duckdb"
    ingest(write_csv(tmp_path / "x.csv", rows), db)
    assert q(db, "SELECT count(*) FROM candidates") == [(4,)]
    assert q(db, "SELECT count(*) FROM candidates WHERE text_hash = md5(text)") == [(4,)]
    assert q(db, "SELECT n_comparisons, n_annotators FROM prompts WHERE text = 'c1 prompt 1'") == [(1, 1)]


def test_csv_gz_and_parquet_sources_give_the_same_tables(tmp_path):
    rows = [make_row(f"c{i}", aid=f"a{i % 3}", turns=1 + i % 4) for i in range(12)]
    src = write_csv(tmp_path / "x.csv", rows)
    gz = tmp_path / "x.csv.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    pq = tmp_path / "x.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{src}', all_varchar=true)) TO '{pq}' (FORMAT parquet)")
    con.close()
    results = [ingest(p, tmp_path / f"{p.name}.duckdb").summary for p in (src, gz, pq)]
    for key in ("conversations", "comparisons", "annotators", "candidates", "prompts"):
        assert results[0][key] == results[1][key] == results[2][key]
    tables = [q(tmp_path / f"{p.name}.duckdb", "SELECT * FROM comparisons ORDER BY 1") for p in (src, gz, pq)]
    assert tables[0] == tables[1] == tables[2]


def test_json_summary_on_the_cli(tmp_path):
    src = write_csv(tmp_path / "x.csv", [make_row("c1", turns=2), make_row("c1", turns=2)])
    proc = cli("ingest", str(src), "--db", str(tmp_path / "db.duckdb"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in (
        "rows_read",
        "conversations",
        "comparisons",
        "annotators",
        "rejected_turns",
        "duplicate_rows",
        "rejected_reasons",
    ):
        assert key in out
    assert out["rows_read"] == 2 and out["duplicate_rows"] == 1 and out["comparisons"] == 2


def test_unsupported_and_missing_sources_get_clear_messages(tmp_path):
    txt = tmp_path / "data.xlsx"
    txt.write_text("x")
    with pytest.raises(IngestError, match="csv.gz or .parquet"):
        ingest(txt, tmp_path / "db.duckdb")
    with pytest.raises(IngestError, match="No such file"):
        ingest(tmp_path / "nope.csv", tmp_path / "db.duckdb")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(IngestError, match="empty"):
        ingest(empty, tmp_path / "db.duckdb")
    assert not (tmp_path / "db.duckdb").exists()


def test_hub_download_offline_explains_the_manual_route(tmp_path):
    """`ingest hf` on a machine that cannot reach the hub: exit 3, the manual route, no database written.
    Run in a fresh process: huggingface_hub reads HF_HUB_OFFLINE when it is first imported."""
    db = tmp_path / "db.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "ingest", "hf", "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 3
    assert "python -m analysis ingest" in proc.stderr and "facebook/community-alignment-dataset" in proc.stderr
    assert not db.exists()


# --- property: any mixture of valid, invalid and duplicate rows reconciles ---------------------------------

turn_kind = st.sampled_from(["ok", "ok", "no_prompt", "missing_pref", "unknown_pref", "empty_candidate", "odd_case"])
row_kind = st.sampled_from(["new", "new", "new", "exact_dup", "conflict", "no_cid", "no_aid"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=st.lists(st.tuples(row_kind, st.lists(turn_kind, min_size=4, max_size=4)), min_size=1, max_size=25))
def test_random_mixtures_always_reconcile(tmp_path_factory, spec):
    tmp = tmp_path_factory.mktemp("prop")
    rows: list[dict] = []
    loaded: dict[str, dict] = {}
    expect = {"dup": 0, "rej_rows": 0, "comparisons": 0, "rej_turns": 0, "turns": 0}
    for i, (rk, turns) in enumerate(spec):
        base = make_row(f"c{i}", turns=4)
        for t, kind in zip(schema.TURNS, turns):
            if kind == "no_prompt":
                base[schema.turn_column(t, "prompt")] = ""
            elif kind == "missing_pref":
                base[schema.turn_column(t, "preferred_response")] = " "
            elif kind == "unknown_pref":
                base[schema.turn_column(t, "preferred_response")] = "response_z"
            elif kind == "empty_candidate":
                base[schema.turn_column(t, "response_c")] = ""
            elif kind == "odd_case":
                base[schema.turn_column(t, "preferred_response")] = " Response_D"
        if rk in ("exact_dup", "conflict") and loaded:
            cid = sorted(loaded)[i % len(loaded)]
            row = dict(loaded[cid])
            if rk == "conflict":
                row["first_turn_feedback"] = f"changed {i}"
                expect["rej_rows"] += 1
            else:
                expect["dup"] += 1
            rows.append(row)
            continue
        if rk == "no_cid":
            base["conversation_id"] = ""
            expect["rej_rows"] += 1
        elif rk == "no_aid":
            base["annotator_id"] = ""
            expect["rej_rows"] += 1
        else:
            loaded[base["conversation_id"]] = base
            for kind in turns:
                if kind != "no_prompt":
                    expect["turns"] += 1
                    expect["comparisons" if kind in ("ok", "odd_case") else "rej_turns"] += 1
        rows.append(base)
    res = ingest(write_csv(tmp / "x.csv", rows), tmp / "db.duckdb")
    s = res.summary
    assert_reconciles(s)
    assert s["rows_read"] == len(rows)
    assert s["duplicate_rows"] == expect["dup"]
    assert s["rejected_rows"] == expect["rej_rows"]
    assert s["comparisons"] == expect["comparisons"]
    assert s["rejected_turns"] == expect["rej_turns"]
    assert s["turns_with_prompt"] == expect["turns"]
    n_rej = q(tmp / "db.duckdb", "SELECT count(*) FROM rejected")[0][0]
    assert n_rej == s["rejected_rows"] + s["rejected_turns"]


def test_ingest_does_not_import_heavy_libraries(tmp_path):
    src = write_csv(tmp_path / "x.csv", [make_row("c1")])
    code = (
        "import sys; from analysis.pipeline.ingest import ingest; "
        f"ingest({str(src)!r}, {str(tmp_path / 'db.duckdb')!r}); "
        "print([m for m in ('torch', 'sentence_transformers', 'umap', 'streamlit') if m in sys.modules])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
