"""The background embedding job: its own process, sample first, shards beside the database; killed with SIGKILL and
resumed with no finished batch lost and none embedded twice; one job per database; stop; what the readers see; the
shards moved into the database by a writer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analysis import store
from analysis.pipeline import axes, axes_store, embed, embed_job, sample, shards
from analysis.pipeline.demo import build_demo
from analysis.pipeline.models import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[2]
FLUSH = 8  # texts per shard in these tests (the default is 256)


def _wait(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _shard_rows(db: Path) -> list[tuple[str, str]]:
    """(file name, text_hash) of every row in every finished shard."""
    files = shards.shard_files(db, DEFAULT_MODEL)
    if not files:
        return []
    con = duckdb.connect()
    try:
        lst = "[" + ", ".join(f"'{f}'" for f in files) + "]"
        return con.execute(f"SELECT filename, text_hash FROM read_parquet({lst}, filename = true)").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def job_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("job") / "small.duckdb"
    build_demo(db, conversations=24, seed=0, topics=1)  # about 110 distinct texts
    return db


@pytest.fixture(scope="module")
def order(job_db) -> list[str]:
    con = store.connect(job_db)
    try:
        return sample.texts_in_order(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def killed_then_resumed(job_db, order) -> dict:
    """Start, SIGKILL after two shards, check the leftovers; start again, see a second start refused, run to the end."""
    first = embed_job.start(job_db, flush_texts=FLUSH)
    assert first["state"] == "running", first
    _wait(lambda: len(shards.shard_files(job_db, DEFAULT_MODEL)) >= 2, 240, "two shards")
    os.kill(first["pid"], signal.SIGKILL)
    _wait(lambda: not embed_job.status(job_db)["alive"], 30, "the killed job's lock to go")
    after_kill = {"status": embed_job.status(job_db), "rows": _shard_rows(job_db),
                  "files": {f.name: f.stat().st_mtime_ns for f in shards.shard_files(job_db, DEFAULT_MODEL)}}  # fmt: skip
    second = embed_job.start(job_db, flush_texts=FLUSH)
    with pytest.raises(embed_job.JobRunning, match=f"PID {second['pid']}"):
        embed_job.start(job_db, flush_texts=FLUSH)
    cli = subprocess.run([sys.executable, "-m", "analysis", "embed-job", "start", "--db", str(job_db)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    _wait(lambda: embed_job.status(job_db)["state"] == "done", 400, "the resumed job to finish")
    return {"first": first, "second": second, "after_kill": after_kill, "cli": cli, "final": embed_job.status(job_db)}


def test_a_killed_job_keeps_its_shards_and_says_it_was_interrupted(killed_then_resumed, job_db, order):
    k = killed_then_resumed["after_kill"]
    assert k["status"]["state"] == "interrupted"
    hashes = [h for _, h in k["rows"]]
    assert len(hashes) >= 2 * FLUSH and len(hashes) == len(set(hashes))
    assert set(hashes) == set(order[: len(hashes)])  # sample first: exactly the head of the job's order
    assert not list(shards.shard_dir(job_db, DEFAULT_MODEL).glob(".tmp-*"))  # a half-written shard is cleaned up


def test_resume_loses_no_batch_and_embeds_none_twice(killed_then_resumed, job_db, order):
    rows = _shard_rows(job_db)
    hashes = [h for _, h in rows]
    assert len(hashes) == len(set(hashes)) == len(order)  # every text once
    assert set(hashes) == set(order)
    final_files = {f.name: f.stat().st_mtime_ns for f in shards.shard_files(job_db, DEFAULT_MODEL)}
    for name, mtime in killed_then_resumed["after_kill"]["files"].items():
        assert final_files.get(name) == mtime  # the killed run's shards are kept as they were
    final = killed_then_resumed["final"]
    assert final["done"] == final["total"] == len(order) and final["pid"] == killed_then_resumed["second"]["pid"]
    assert killed_then_resumed["second"]["done"] == len(killed_then_resumed["after_kill"]["rows"])


def test_a_second_start_is_refused_naming_the_running_job(killed_then_resumed):
    cli = killed_then_resumed["cli"]
    assert cli.returncode == 3, cli.stderr
    assert "already running" in cli.stderr and f"PID {killed_then_resumed['second']['pid']}" in cli.stderr


def test_the_pages_read_the_shards_scores_as_an_independent_scoring_gives_them(killed_then_resumed, job_db, order):
    con = store.connect(job_db)
    try:
        scores = axes_store.load_axis_scores(con)  # nothing scored in the database: the shards alone
        assert scores.height == len(order)
        some = order[:6]
        texts = store.texts_for(con, some)
    finally:
        con.close()
    expected = axes.fit_axes(None, DEFAULT_MODEL).score(embed.embed_texts(texts), texts)
    got = scores.filter(scores["text_hash"].is_in(some)).sort("text_hash")
    by_hash = dict(zip(some, expected.tolist(), strict=True))
    for h, x, y in got.iter_rows():
        assert np.allclose([x, y], by_hash[h], atol=1e-4)


def test_stop_writes_what_it_has_and_a_start_resumes(tmp_path):
    db = tmp_path / "stop.duckdb"
    build_demo(db, conversations=24, seed=1, topics=1)
    st = embed_job.start(db, flush_texts=FLUSH)
    _wait(lambda: shards.shard_files(db, DEFAULT_MODEL), 240, "a first shard")
    embed_job.stop(db)
    final = _wait(lambda: (s := embed_job.status(db))["state"] in ("stopped", "done") and s, 120, "the stop")
    assert final["state"] == "stopped" and "request" in final["message"] and final["pid"] == st["pid"]
    n = len(_shard_rows(db))
    assert n == final["done"] and 0 < n < final["total"]
    json.loads((shards.job_dir(db) / "job.json").read_text())  # a whole status file, never half written


def test_a_writer_moves_the_shards_into_the_database(killed_then_resumed, job_db, order, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(job_db.read_bytes())
    src, dst = shards.shard_dir(job_db, DEFAULT_MODEL), shards.shard_dir(copy, DEFAULT_MODEL)
    dst.mkdir(parents=True)
    for f in src.glob("part-*.parquet"):
        (dst / f.name).write_bytes(f.read_bytes())
    summary = embed.embed_db(copy, progress=None)
    assert summary["from_background_job"] == len(order) and summary["embedded"] == 0
    assert not shards.shard_files(copy, DEFAULT_MODEL)
    con = store.connect(copy)
    try:
        assert set(store.embedded_hashes(con, DEFAULT_MODEL)) == set(order)
    finally:
        con.close()
