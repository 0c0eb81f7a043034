"""The LLM responses table: upload validation (clear errors, nothing partial loaded), loading, the CLI,
and the synthetic demo profiles."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from analysis import text
from analysis.explore import people, positions
from analysis.pipeline import axes_store, llm_synthetic, llm_table, llm_upload
from tests.values_fixtures import scored_demo_db  # noqa: F401  (session fixture)

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = [
    "Should parents have the final say over whom their children marry?",
    "Est-ce que l'État devrait protéger l'environnement avant la croissance ?",
    "क्या धर्म को स्कूलों में पढ़ाया जाना चाहिए?",
]


@pytest.fixture()
def db(tmp_path) -> Path:
    """A real DuckDB file holding the documented prompts table (and nothing from this module yet)."""
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE prompts (prompt_hash VARCHAR PRIMARY KEY, text VARCHAR, n_chars INTEGER, n_comparisons INTEGER, n_annotators INTEGER)"
    )
    for p in PROMPTS:
        con.execute("INSERT INTO prompts SELECT md5(?), ?, length(?), 1, 1", [p, p, p])
    con.close()
    return path


def _csv(rows: list[list[str]], header=("model", "prompt", "response")) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _validate(db: Path, data: bytes, name="answers.csv", **kw) -> llm_upload.UploadResult:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return llm_upload.validate_upload(data, name, con, **kw)
    finally:
        con.close()


def _snapshot(db: Path):
    con = duckdb.connect(str(db), read_only=True)
    try:
        if not llm_table.table_exists(con):
            return None
        return con.execute(f"SELECT * FROM {llm_table.TABLE} ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_hash_equals_duckdb_md5():
    con = duckdb.connect()
    for p in PROMPTS + ["", "naïve — ☃"]:
        assert text.md5_hex(p) == con.execute("SELECT md5(?)", [p]).fetchall()[0][0]


def test_valid_upload_loads_every_row_unsynthetic(db):
    data = _csv(
        [
            ["my-model", PROMPTS[0], "No, adult children choose."],
            ["my-model", "  " + PROMPTS[2] + " ", "नहीं।"],
            ["other", PROMPTS[1], "Oui."],
        ]
    )
    res = _validate(db, data)
    assert res.ok, res.errors
    assert res.models == {"my-model": 2, "other": 1}
    assert llm_upload.load_upload(db, res) == 3
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        f"SELECT model, prompt_hash, text_hash, text, synthetic, uploaded_at FROM {llm_table.TABLE} ORDER BY model, text"
    ).fetchall()
    hashes = dict(con.execute("SELECT text, prompt_hash FROM prompts").fetchall())
    con.close()
    assert [r[0] for r in rows] == ["my-model", "my-model", "other"]
    assert all(r[4] is False and r[5] is not None for r in rows)
    assert rows[0][1] == hashes[PROMPTS[0]]  # whitespace around a prompt does not matter
    assert rows[1][1] == hashes[PROMPTS[2]]
    assert all(r[2] == text.md5_hex(r[3]) for r in rows)


def test_an_uploaded_answer_is_cleaned_as_the_ingest_cleans_candidates(db):
    data = _csv(
        [
            ["m", PROMPTS[0] + "<|eot_id|>", "  **No**, adult children choose.<|end_of_text|>\n"],
            ["m", PROMPTS[1], "<|end_of_text|>"],  # nothing left once cleaned
        ]
    )
    res = _validate(db, data)
    assert not res.ok and any("empty response" in e for e in res.errors)
    assert res.problems["row"].to_list() == [3]
    res = _validate(db, _csv([["m", PROMPTS[0] + "<|eot_id|>", "  **No**, adult children choose.<|end_of_text|>\n"]]))
    assert res.ok, res.errors
    assert llm_upload.load_upload(db, res) == 1
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute(f"SELECT text, text_hash, prompt_hash FROM {llm_table.TABLE}").fetchall()
    con.close()
    assert stored == [
        ("**No**, adult children choose.", text.md5_hex("**No**, adult children choose."), text.md5_hex(PROMPTS[0]))
    ]


@pytest.mark.parametrize(
    "data, needle",
    [
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (b"model,prompt,response\n", "header but no rows"),
        (b"model,response\nm,hello\n", "lacks the column prompt"),
        (b"name,question,answer\nm,p,r\n", "lacks the columns model, prompt, response"),
        (b"model;prompt;response\nm;p;r\n", "comma-separated"),
        ("model,prompt,response\nm,{p},caf\xe9\n".encode("latin-1").replace(b"{p}", PROMPTS[0].encode()), "not UTF-8"),
        (b"model,prompt,response,prompt\nm,a,b,c\n", "more than once"),
    ],
)
def test_bad_files_give_clear_errors_and_load_nothing(db, data, needle):
    res = _validate(db, data)
    assert not res.ok
    assert any(needle in e for e in res.errors), res.errors
    assert res.rows.height == 0
    with pytest.raises(ValueError, match="nothing was loaded"):
        llm_upload.load_upload(db, res)
    assert _snapshot(db) is None  # the table was not even created


def test_non_utf8_error_names_line_and_fix(db):
    data = b"model,prompt,response\nm,p,ok\nm,p,caf\xe9\n"
    res = _validate(db, data)
    assert any("line 3" in e and "UTF-8" in e for e in res.errors), res.errors


def test_oversized_file_rejected_before_reading(db):
    data = _csv([["m", PROMPTS[0], "x" * 2000]])
    res = _validate(db, data, max_bytes=1000)
    assert not res.ok and any("limit is" in e and "Split the file" in e for e in res.errors)


def test_unknown_prompts_and_empty_responses_reject_the_whole_file_and_list_the_rows(db):
    # an earlier upload that must survive untouched
    first = _validate(db, _csv([["keep-me", PROMPTS[0], "An earlier answer."]]))
    llm_upload.load_upload(db, first)
    before = _snapshot(db)
    rows = [
        ["m", PROMPTS[0], "fine"],
        ["m", "What is the capital of Mars?", "Olympus."],  # unknown prompt: row 3
        ["m", PROMPTS[1], "   "],  # empty response: row 4
        ["m", "Another invented prompt", "x"],  # row 5
        ["", PROMPTS[2], "y"],  # empty model: row 6
        ["synthetic-model-A", PROMPTS[2], "z"],  # reserved: row 7
        ["keep-me", PROMPTS[1], "would replace keep-me"],
    ]
    res = _validate(db, _csv(rows))
    assert not res.ok and res.rows.height == 0
    errs = " | ".join(res.errors)
    assert "2 rows: prompt is not one of this dataset's prompts (rows 3, 5)" in errs
    assert "1 row: empty response (row 4)" in errs
    assert "empty model name (row 6)" in errs
    assert "reserved" in errs
    assert "Capital of Mars".lower() in errs.lower()  # names the unknown prompt
    assert "Nothing was loaded" in errs
    assert sorted(res.problems["row"].to_list()) == [3, 4, 5, 6, 7]
    with pytest.raises(ValueError):
        llm_upload.load_upload(db, res)
    assert _snapshot(db) == before


def test_ragged_row_is_reported(db):
    data = b'model,prompt,response\nm,"' + PROMPTS[0].encode() + b'",ok,extra\n'
    res = _validate(db, data)
    assert not res.ok and any("has 4 fields, the header has 3" in e for e in res.errors)


def test_a_response_over_the_field_limit_is_named_too_long_with_the_limit(db):
    """A response over 131,072 characters was refused with a hint about quoting."""
    long_answer = "x" * 131_073
    data = _csv([["m", PROMPTS[0], "short"], ["m", PROMPTS[1], long_answer]])
    res = _validate(db, data)
    assert not res.ok
    assert "longer than 131,072 characters" in res.errors[0], res.errors
    assert "line 3" in res.errors[0] and "Shorten that answer" in res.errors[0]
    assert _validate(db, _csv([["m", PROMPTS[1], "x" * 131_072]])).ok  # at the limit: fine


def test_extra_columns_and_duplicates_are_warnings_not_errors(db):
    data = _csv(
        [["m", PROMPTS[0], "same", "x"], ["m", PROMPTS[0], "same", "y"]],
        header=("Model", " Prompt ", "RESPONSE", "notes"),
    )
    res = _validate(db, data)
    assert res.ok and res.rows.height == 1
    assert any("Ignored column: notes" in w for w in res.warnings)
    assert any("duplicate" in w for w in res.warnings)


def test_reupload_replaces_that_model_only(db):
    llm_upload.load_upload(db, _validate(db, _csv([["a", PROMPTS[0], "a1"], ["b", PROMPTS[0], "b1"]])))
    res = _validate(db, _csv([["a", PROMPTS[1], "a2"]]))
    assert any("will be replaced" in w and "a" in w for w in res.warnings)
    llm_upload.load_upload(db, res)
    con = duckdb.connect(str(db), read_only=True)
    got = con.execute(f"SELECT model, text FROM {llm_table.TABLE} ORDER BY model").fetchall()
    con.close()
    assert got == [("a", "a2"), ("b", "b1")]


def test_failed_insert_rolls_back(db):
    """A failure inside the load transaction leaves the table as it was (one transaction)."""
    llm_upload.load_upload(db, _validate(db, _csv([["a", PROMPTS[0], "a1"]])))
    before = _snapshot(db)
    res = _validate(db, _csv([["a", PROMPTS[1], "a2"]]))
    res.rows = res.rows.with_columns(pl.lit(None, dtype=pl.String).alias("text"))  # violates NOT NULL after the DELETE
    with pytest.raises(duckdb.Error):
        llm_upload.load_upload(db, res)
    assert _snapshot(db) == before


def test_cli_rejects_bad_csv_with_json_and_exit_code(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"model,response\nm,x\n")
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "llm", "--db", str(db), "--csv", str(bad), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] is False and "lacks the column prompt" in out["errors"][0]
    assert _snapshot(db) is None


def test_cli_loads_without_embedding(db, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(_csv([["cli-model", PROMPTS[1], "Oui, d'abord l'environnement."]]))
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "llm", "--db", str(db), "--csv", str(good), "--json", "--no-embed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] and out["loaded"] == 1 and out["models"] == {"cli-model": 1}
    assert len(_snapshot(db)) == 1


# ---- synthetic profiles on the demo database -----------------------------------------------------


def test_demo_carries_labelled_synthetic_answers_to_its_prompts(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        s = llm_table.summary(con)
        orphan = con.execute(
            f"SELECT count(*) FROM {llm_table.TABLE} r ANTI JOIN prompts p USING (prompt_hash)"
        ).fetchall()[0][0]
        bad_hash = con.execute(f"SELECT count(*) FROM {llm_table.TABLE} WHERE text_hash <> md5(text)").fetchall()[0][0]
        n_prompts = con.execute("SELECT count(*) FROM prompts").fetchall()[0][0]
    finally:
        con.close()
    assert s["model"].to_list() == [p.name for p in llm_synthetic.SYNTHETIC_PROFILES]
    assert s["synthetic"].all() and all(m.startswith("synthetic-") for m in s["model"])
    assert orphan == 0 and bad_hash == 0
    assert (s["n_prompts"] >= 10).all() and (s["n_prompts"] <= n_prompts).all()


def test_synthetic_rewrite_is_deterministic_and_keeps_uploads(demo_db, tmp_path):
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    con = duckdb.connect(str(db), read_only=True)
    prompt = con.execute("SELECT text FROM prompts ORDER BY prompt_hash LIMIT 1").fetchall()[0][0]
    res = llm_upload.validate_upload(_csv([["mine", prompt, "An uploaded answer."]]), "x.csv", con)
    con.close()
    llm_upload.load_upload(db, res)
    before = _snapshot(db)
    con = duckdb.connect(str(db))
    n = llm_synthetic.add_synthetic_llm_responses(con, seed=0)
    con.close()
    after = _snapshot(db)
    strip = lambda rows: sorted(r[:5] for r in rows)  # noqa: E731  (uploaded_at differs)
    assert strip(after) == strip(before) and n == len(before) - 1
    assert any(r[0] == "mine" and r[4] is False for r in after)


def test_synthetic_profiles_lean_secular_and_self_expression_by_construction():
    # every profile puts most of its weight on the secular-rational and self-expression stances
    for p in llm_synthetic.SYNTHETIC_PROFILES:
        assert p.x[0] >= 0.6 and p.y[0] >= 0.6 and p.x[2] <= 0.1 and p.y[2] <= 0.1


def test_synthetic_llms_land_in_the_secular_self_expression_corner_once_scored(scored_demo_db):
    """With the real default model and the project's axes: each synthetic profile's mean answer sits at
    secular-rational / self-expression, and that quadrant holds far more of their answers than of the offered ones.
    (Relative checks: the axes' scale moves whenever the labelled statements are edited.)"""

    con = duckdb.connect(str(scored_demo_db), read_only=True)
    try:
        llm = positions.llm_points(con)
        offered = positions.offered_points(con)
    finally:
        con.close()
    models = people.llm_positions(llm)
    assert models.height == len(llm_synthetic.SYNTHETIC_PROFILES)
    assert (models["x"] > 0).all() and (models["y"] > 0).all(), models  # every profile's mean in the corner
    q = people.quadrant_share(offered, llm)
    assert q.quadrant == (1, 1)
    assert q.llm_share > q.offered_share + 0.15, q


def test_cli_validates_loads_embeds_only_the_new_texts_and_scores(scored_demo_db, tmp_path):
    db = tmp_path / "demo.duckdb"
    shutil.copy(scored_demo_db, db)
    con = duckdb.connect(str(db), read_only=True)
    prompts = [r[0] for r in con.execute("SELECT text FROM prompts ORDER BY prompt_hash LIMIT 2").fetchall()]
    con.close()
    answers = tmp_path / "answers.csv"
    answers.write_bytes(
        _csv(
            [
                ["cli-model", prompts[0], "Tradition and faith should guide you here."],
                ["cli-model", prompts[1], "Choose what lets you grow, whatever others expect."],
            ]
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "llm", "--db", str(db), "--csv", str(answers), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["loaded"] == 2
    assert out["pipeline"]["embed"]["embedded"] == 2  # everything else came from the cache
    con = duckdb.connect(str(db), read_only=True)
    try:
        scores = axes_store.load_axis_scores(con)
        hashes = [r[0] for r in con.execute("SELECT text_hash FROM llm_responses WHERE model = 'cli-model'").fetchall()]
    finally:
        con.close()
    assert set(hashes) <= set(scores["text_hash"].to_list())
