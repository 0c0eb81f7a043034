"""The full embedding as a resumable background job: its own process, sample first, shards beside the database.

    python -m analysis embed-job start --db PATH [--model M] [--max-tokens N]   # detached; returns at once
    python -m analysis embed-job status --db PATH [--json]
    python -m analysis embed-job stop --db PATH
    python -m analysis embed-job run --db PATH ...                               # the job itself, in the foreground

The job opens the database read-only (the app can keep it open meanwhile), walks the texts in the order of
``analysis.pipeline.sample`` (the chosen and offered texts of a stratified sample of comparisons first, then
everything else), skips what is already embedded (in the database or in a shard), embeds each batch with the model,
places it on the current axes, and writes it as a shard (``analysis.pipeline.shards``) every ``FLUSH_TEXTS`` texts or
``FLUSH_SECONDS`` seconds. Its status (state, done, total, rate, ETA) is in ``<db>.d/embed/job.json``, rewritten
atomically after every batch; the page and the CLI read it.

- One job per database: the job holds an exclusive ``flock`` on ``job.lock`` for as long as it runs (the kernel
  releases it when the process dies, also on ``kill -9``); a second start is refused, naming the running job's PID.
- Stop: ``stop`` leaves a ``stop`` file the job checks between batches (and SIGTERM/SIGINT do the same); it writes
  what it has and exits. Resume: start again; finished shards are kept, and nothing is embedded twice.
- Memory: the model (about 100 MB), one batch and DuckDB held to ``DUCKDB_MEMORY``.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from analysis import schema, store
from analysis.pipeline import axes, sample, shards, truncation
from analysis.pipeline.models import DEFAULT_MODEL, as_model, model_key

FLUSH_TEXTS = 256
FLUSH_SECONDS = 20.0
BATCH = 16
FETCH = 1024
DUCKDB_MEMORY = "512MB"
START_WAIT_S = 20.0


class JobRunning(RuntimeError):
    """A job is already running on this database."""


def _paths(db_path: str | Path) -> dict[str, Path]:
    d = shards.job_dir(db_path)
    return {"dir": d, "status": d / "job.json", "lock": d / "job.lock", "stop": d / "stop", "log": d / "job.log"}


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def _write_status(db_path: str | Path, status: dict) -> None:
    p = _paths(db_path)
    p["dir"].mkdir(parents=True, exist_ok=True)
    tmp = p["status"].with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(status, ensure_ascii=False))
    os.replace(tmp, p["status"])


def _holder_alive(lock_path: Path) -> bool:
    """True when a process holds the job's lock (tested by trying to take it)."""
    if not lock_path.exists():
        return False
    with open(lock_path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def status(db_path: str | Path) -> dict:
    """The job's last status: {"state": none|starting|running|stopping|stopped|done|failed|interrupted, "done",
    "total", "rate", "eta_s", "pid", "model", "max_tokens", "message", ...}. A status that says running while no
    process holds the lock was left by a job that was killed: "interrupted"."""
    p = _paths(db_path)
    try:
        st = json.loads(p["status"].read_text())
    except (OSError, ValueError):
        st = {"state": "none"}
    alive = _holder_alive(p["lock"])
    st["alive"] = alive
    if st.get("state") in ("starting", "running", "stopping") and not alive:
        st["state"] = "interrupted"
    return st


def start(
    db_path: str | Path, model: Any = None, max_tokens: int = 0, wait_s: float = START_WAIT_S,
    flush_texts: int = FLUSH_TEXTS,
) -> dict:  # fmt: skip
    """Start the job in its own process (a new session: it survives the caller, a page reload or a closed browser).
    Raises JobRunning when one runs. Returns the status once the job has written it (or failed to start)."""
    db_path = Path(db_path).resolve()
    p = _paths(db_path)
    if _holder_alive(p["lock"]):
        raise JobRunning(_running_message(db_path))
    p["dir"].mkdir(parents=True, exist_ok=True)
    p["stop"].unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "analysis", "embed-job", "run", "--db", str(db_path), "--model", model_key(model),
           "--max-tokens", str(int(max_tokens)), "--flush-texts", str(int(flush_texts))]  # fmt: skip
    with open(p["log"], "ab") as log:
        proc = subprocess.Popen(cmd, cwd=store.repo_root(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        st = status(db_path)
        if st.get("pid") == proc.pid and st.get("state") != "starting":
            return st
        if proc.poll() is not None:
            st = status(db_path)
            if st.get("pid") != proc.pid:
                tail = p["log"].read_text(errors="replace")[-600:] if p["log"].exists() else ""
                return {
                    "state": "failed",
                    "pid": proc.pid,
                    "message": f"the job exited at once ({proc.returncode}): {tail}",
                }
            return st
        time.sleep(0.2)
    return status(db_path)


def stop(db_path: str | Path) -> dict:
    """Ask a running job to stop after its current batch (it writes what it has). Returns the status."""
    p = _paths(db_path)
    if not _holder_alive(p["lock"]):
        return status(db_path)
    p["stop"].write_text(_now())
    return status(db_path)


def _running_message(db_path: Path) -> str:
    st = status(db_path)
    return (
        f"An embedding job is already running on {db_path} (PID {st.get('pid', '?')}, {st.get('done', 0):,} of "
        f"{st.get('total', 0):,} texts). Watch it with `python -m analysis embed-job status --db {db_path}`, or "
        f"stop it with `python -m analysis embed-job stop --db {db_path}`."
    )


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "ETA unknown yet"
    h, rem = divmod(int(seconds), 3600)
    return f"ETA {h} h {rem // 60:02d} min" if h else f"ETA {rem // 60} min {rem % 60:02d} s"


def describe(st: dict) -> str:
    """One line for a status."""
    if st.get("state") == "none":
        return "no embedding job has run on this database"
    done, total = int(st.get("done") or 0), int(st.get("total") or 0)
    share = f" ({done / total:.1%})" if total else ""
    rate = f", {st['rate']:.1f} texts/s, {eta_text(st.get('eta_s'))}" if st.get("rate") else ""
    cut = f", texts cut to {st['max_tokens']} tokens" if st.get("max_tokens") else ""
    msg = f": {st['message']}" if st.get("message") else ""
    return f"{st['state']} (PID {st.get('pid', '?')}, {st.get('model', '?')}{cut}): {done:,} of {total:,} texts{share}{rate}{msg}"


# ---- the job itself -------------------------------------------------------------------------------------------


def _todo(con: duckdb.DuckDBPyConnection, db_path: Path, key: str) -> tuple[list[str], int]:
    """Hashes still to embed, in the sample-first order, and the number of texts in all."""
    order = sample.texts_in_order(con)
    done = shards.hashes(con, db_path, key)
    if store.table_exists(con, schema.T_EMBEDDINGS):
        done |= set(store.embedded_hashes(con, key))
    return [h for h in order if h not in done], len(order)


class _Run:
    """One run's bookkeeping: pending rows, shards written, status with rate and ETA."""

    def __init__(self, db_path: Path, key: str, axis_model: axes.AxisModel, max_tokens: int, total: int, done: int):
        self.db_path, self.key, self.axis_model, self.max_tokens = db_path, key, axis_model, max_tokens
        self.total, self.done, self.started = total, done, time.monotonic()
        self.embedded_now, self.sequence = 0, int(time.time() * 1000) % 10_000_000
        self.pending: list[tuple[list[str], np.ndarray, list[str]]] = []
        self.last_flush = time.monotonic()
        self.stop_reason: str | None = None
        self.flush_texts = FLUSH_TEXTS
        self.status = {"state": "running", "pid": os.getpid(), "model": key, "max_tokens": max_tokens,
                       "axes_version": axis_model.axes_version, "started_at": _now(), "total": total,
                       "done": done, "rate": None, "eta_s": None, "message": ""}  # fmt: skip

    def add(self, hashes: list[str], vectors: np.ndarray, texts: list[str]) -> None:
        self.pending.append((hashes, vectors, texts))
        n_pending = sum(len(h) for h, _, _ in self.pending)
        if n_pending >= self.flush_texts or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            hashes = [h for hs, _, _ in self.pending for h in hs]
            vectors = np.concatenate([v for _, v, _ in self.pending])
            xy = self.axis_model.score(vectors, [t for _, _, ts in self.pending for t in ts])
            self.sequence += 1
            shards.write(self.db_path, self.key, self.sequence,
                         shards.frame(hashes, vectors, self.axis_model.axes_version, xy, self.max_tokens))  # fmt: skip
            self.done += len(hashes)
            self.embedded_now += len(hashes)
            self.pending.clear()
        self.last_flush = time.monotonic()
        self.report()

    def report(self, state: str = "running", message: str = "") -> None:
        elapsed = time.monotonic() - self.started
        rate = self.embedded_now / elapsed if elapsed > 0 and self.embedded_now else None
        eta = (self.total - self.done) / rate if rate else None
        self.status.update(state=state, done=self.done, rate=rate, eta_s=eta, updated_at=_now(), message=message)
        _write_status(self.db_path, self.status)


def _encoder(model: Any, max_tokens: int):
    encoder = as_model(model)
    return truncation.Truncated(encoder, max_tokens) if max_tokens else encoder


def _stop_requested(stop_file: Path, run: _Run) -> bool:
    if run.stop_reason is None and stop_file.exists():
        run.stop_reason = "stopped on request"
    return run.stop_reason is not None


def _embed_all(con, run: _Run, todo: list[str], encoder, stop_file: Path, progress: Any) -> None:
    from analysis.progress import Bar

    with Bar(progress, len(todo), f"embedding ({run.key}), sample first", unit="text") as bar:
        for start in range(0, len(todo), FETCH):
            chunk = todo[start : start + FETCH]
            texts = store.texts_for(con, chunk)
            for b in range(0, len(chunk), BATCH):
                if _stop_requested(stop_file, run):
                    return
                run.add(chunk[b : b + BATCH], encoder.encode(texts[b : b + BATCH]), texts[b : b + BATCH])
                bar.update(len(chunk[b : b + BATCH]))


def run_job(
    db_path: str | Path, model: Any = None, max_tokens: int = 0, progress: Any = None, flush_texts: int = FLUSH_TEXTS
) -> dict:
    """The job, in this process: raises JobRunning when another holds the lock. Returns the final status."""
    db_path = Path(db_path).resolve()
    p = _paths(db_path)
    p["dir"].mkdir(parents=True, exist_ok=True)
    key = model_key(model if model is not None else DEFAULT_MODEL)
    with open(p["lock"], "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobRunning(_running_message(db_path)) from None
        _write_status(db_path, {"state": "starting", "pid": os.getpid(), "model": key, "max_tokens": max_tokens,
                                "started_at": _now(), "done": 0, "total": 0, "message": "reading the database"})  # fmt: skip
        p["stop"].unlink(missing_ok=True)
        shards.remove_partial(db_path, key)
        return _locked_run(db_path, key, max_tokens, p["stop"], progress, flush_texts)


def _locked_run(db_path: Path, key: str, max_tokens: int, stop_file: Path, progress: Any, flush_texts: int) -> dict:
    con = store.connect(db_path, read_only=True)
    run: _Run | None = None
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        con.execute("SET enable_progress_bar = false")
        todo, total = _todo(con, db_path, key)
        run = _Run(db_path, key, axes.fit_axes(None, key), max_tokens, total, total - len(todo))
        run.flush_texts = max(1, int(flush_texts))

        def _on_signal(signum, _frame) -> None:
            run.stop_reason = f"stopped by signal {signal.Signals(signum).name}"

        for s in previous:
            signal.signal(s, _on_signal)
        run.report()
        if todo:
            _embed_all(con, run, todo, _encoder(key, max_tokens), stop_file, progress)
        run.flush()
        state = "stopped" if run.stop_reason else "done"
        run.report(state, run.stop_reason or f"all {run.total:,} texts embedded")
        return run.status
    except Exception as exc:
        if run is not None:
            run.flush()
            run.report("failed", f"{type(exc).__name__}: {exc}")
            return run.status
        _write_status(db_path, {"state": "failed", "pid": os.getpid(), "model": key, "message": f"{exc}"})
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        con.close()
