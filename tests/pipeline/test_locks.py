"""A database another process holds open (the app, typically): `llm` and the pipeline steps say what holds it and
what to do, in one line (and in the JSON object with --json), instead of DuckDB's lock IOException traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from analysis import store
from tests.pipeline.test_llm_upload import PROMPTS, _csv

ROOT = Path(__file__).resolve().parents[2]
HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); print('ready', flush=True); time.sleep(120)"


@pytest.fixture
def held(tmp_path, demo_db):
    """A copy of the demo database held open read-only by another process, as the app holds it; its command line
    ends like the app's (streamlit run app.py)."""
    db = tmp_path / "held.duckdb"
    shutil.copy(demo_db, db)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), "streamlit", "run", "app.py"],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert holder.stdout.readline().strip() == "ready"
    yield db, holder.pid
    holder.kill()
    holder.wait()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip


def _assert_explained(message: str, db: Path, pid: int) -> None:
    assert f"{db} is open in the explorer app" in message and f"PID {pid}" in message, message
    assert "stop the app" in message and "run this command again" in message, message


def test_llm_csv_into_a_database_the_app_holds_says_what_holds_it(held, tmp_path):
    """It printed a lock IOException traceback, and nothing on stdout with --json."""
    db, pid = held
    answers = tmp_path / "answers.csv"
    answers.write_bytes(_csv([["my-model", PROMPTS[0], "An answer."]]))
    with duckdb.connect(str(db), read_only=True) as con:
        prompt = con.sql("SELECT text FROM prompts LIMIT 1").fetchall()[0][0]
    answers.write_bytes(_csv([["my-model", prompt, "An answer."]]))
    done = _cli("llm", "--db", str(db), "--csv", str(answers), "--json", "--no-embed")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    out = json.loads(done.stdout)
    assert out["ok"] is False
    _assert_explained(out["errors"][0], db, pid)
    plain = _cli("llm", "--db", str(db), "--csv", str(answers), "--no-embed")
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    _assert_explained(plain.stderr, db, pid)


@pytest.mark.parametrize("step", [["project"], ["llm", "--synthetic", "--no-embed"]])
def test_a_pipeline_step_on_a_held_database_says_what_holds_it(held, step):
    db, pid = held
    done = _cli(*step, "--db", str(db))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    _assert_explained(done.stderr, db, pid)


def test_open_db_names_the_holder_and_stays_a_duckdb_error(held, tmp_path):
    db, pid = held
    with pytest.raises(store.DatabaseLocked) as caught:
        store.open_db(db)
    _assert_explained(str(caught.value), db, pid)
    assert isinstance(caught.value, duckdb.IOException)  # code catching DuckDB's errors still catches it
    with pytest.raises(store.DatabaseLocked):
        store.connect(db, read_only=False)
    store.connect(db, read_only=True).close()  # readers alongside the app are fine
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(other)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(store.DatabaseLocked, match=f"open in another process .*PID {holder.pid}"):
            store.open_db(other)
    finally:
        holder.kill()
        holder.wait()
