"""The synthetic demo: release schema, determinism, and the structure the later pages rely on."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analysis import schema
from analysis.pipeline.demo import generate_frame, write_demo_csv
from analysis.store import connect, db_info

ROOT = Path(__file__).resolve().parents[2]


def one(con, sql):
    return con.execute(sql).fetchone()[0]


def test_the_demo_is_in_exactly_the_release_schema():
    frame = generate_frame(200, seed=1)
    assert frame.columns == list(schema.RELEASE_COLUMNS)
    prefs = set(frame["first_turn_preferred_response"].unique().to_list())
    assert prefs <= {"response_a", "response_b", "response_c", "response_d", ""}
    assert set(frame["is_pregenerated_first_prompt"].unique().to_list()) == {"true", "false"}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = write_demo_csv(tmp_path / "a.csv", 400, seed=7)
    b = write_demo_csv(tmp_path / "b.csv", 400, seed=7)
    c = write_demo_csv(tmp_path / "c.csv", 400, seed=8)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_demo_database_is_labelled_synthetic_and_reconciles(demo_db):
    con = connect(demo_db)
    info = db_info(con)
    assert info["synthetic"] is True and info["source_kind"] == "demo"
    s = info["summary"]
    assert s["rows_read"] == s["conversations"] + s["duplicate_rows"] + s["rejected_rows"]
    assert s["turns_with_prompt"] == s["comparisons"] + s["rejected_turns"]
    assert s["conversations"] == 600 and s["duplicate_rows"] >= 1


def test_demo_carries_the_structure_the_pages_need(demo_db_full):
    con = duckdb.connect(str(demo_db_full), read_only=True)
    pairs = set(con.execute("SELECT DISTINCT country, assigned_lang FROM comparison_facts").fetchall())
    assert {(c, schema.COUNTRY_LANG[c]) for c in schema.COUNTRIES} <= pairs
    assert one(con, "SELECT count(*) FROM conversations") == 3000
    # Annotators with several conversations each.
    assert one(con, "SELECT median(n_conversations) FROM annotators") >= 3
    # Multi-turn conversations, some ending early, a few skipping a middle turn.
    turns = dict(con.execute("SELECT n_turns, count(*) FROM conversations GROUP BY 1").fetchall())
    assert set(turns) >= {1, 2, 3, 4}
    skipped = one(
        con,
        """SELECT count(*) FROM (SELECT conversation_id, max(turn) AS mx, count(*) AS n
                          FROM comparisons GROUP BY 1) WHERE n < mx""",
    )
    assert skipped >= 5
    # A few prompts answered by many annotators, some of them across several countries.
    assert one(con, "SELECT count(*) FROM prompts WHERE n_annotators >= 10") >= 10
    multi_country = one(
        con,
        """SELECT count(*) FROM (SELECT prompt_hash FROM comparison_facts GROUP BY 1
                                HAVING count(DISTINCT country) >= 4 AND count(DISTINCT annotator_id) >= 10)""",
    )
    assert multi_country >= 3
    # Written feedback on some turns (around 44%, as in the release).
    share = one(con, "SELECT avg((feedback IS NOT NULL)::INT) FROM comparisons")
    assert 0.35 < share < 0.55
    # Non-English text in all four other languages, Devanagari included.
    assert one(con, "SELECT count(*) FROM candidates WHERE regexp_matches(text, '[\u0900-\u097f]')") > 0
    for lang in ("fr", "it", "pt", "hi"):
        assert one(con, f"SELECT count(*) FROM comparison_facts WHERE assigned_lang = '{lang}'") > 500


def test_choices_follow_the_country_preference_model(demo_db_full):
    """Choices come from country ideal points: France chooses more secular-rational texts than India, the
    United States more self-expression than India, as the generator's illustrative positions say."""
    from analysis.pipeline.demo import COUNTRY_IDEALS, response_pool
    from analysis.pipeline.templates import load_templates
    from analysis.text import clean_text

    texts, cells = response_pool(load_templates())
    n_cells, variants = len(cells), 3
    cell_of_text = {clean_text(t): (i // variants) % n_cells for i, t in enumerate(texts)}  # stored texts are cleaned
    con = duckdb.connect(str(demo_db_full), read_only=True)
    rows = con.execute(
        "SELECT f.country, k.text FROM comparison_facts f JOIN candidates k ON k.text_hash = f.chosen_hash"
    ).fetchall()
    by_country: dict[str, list] = {}
    for country, text in rows:
        by_country.setdefault(country, []).append(cells[cell_of_text[text]])
    mean = {c: np.mean(v, axis=0) for c, v in by_country.items()}
    assert COUNTRY_IDEALS["France"][1] > COUNTRY_IDEALS["India"][1]
    assert mean["France"][1] - mean["India"][1] > 0.2
    assert mean["United States"][0] - mean["India"][0] > 0.2
    # A small first-position bias, as annotators show in the real data.
    shares = dict(con.execute("SELECT chosen, count(*) / sum(count(*)) OVER () FROM comparisons GROUP BY 1").fetchall())
    assert shares["a"] > shares["d"]


def test_demo_cli_builds_and_reports(tmp_path):
    db = tmp_path / "d.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "demo", "--db", str(db), "--conversations", "150", "--seed", "3", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["synthetic"] is True and out["conversations"] == 150
    assert db.exists()


def test_conversations_must_be_positive():
    with pytest.raises(ValueError):
        generate_frame(0)
