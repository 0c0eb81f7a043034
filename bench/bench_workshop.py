"""A room of thirty on one laptop: N browser sessions take the Tour and change the filters at once.

One Streamlit server (``streamlit run app.py`` on 127.0.0.1 only, as ``make workshop`` runs it but never on the
network) and one headless Chromium (Debian's /usr/bin/chromium) with one browser context per session, every session
started at the same moment. Each session:
  1. opens the Tour (step 1, people against LLMs, on the loaded database);
  2-4. presses "Next →" three times (the simulated steps 2 and 3, and step 4's simulator and stored preference runs);
  5. changes the filters: opens the Tour with a country filter (each session its own country), as a shared link or
     the sidebar's country box would;
  6. presses "Next →" once more under that filter.
A step's time runs from the action to the page settling (no script running, nothing stale). An error is a Python
exception on the page or a step that does not settle within ``--step-timeout``.

Baseline, measured in the same run on the same server: one session alone, before the room, after a first lone session
that warms the shared caches (as the facilitator's own rehearsal does). The report: errors (target 0), p50/p95 step time of the room
beside the lone session's and their ratio, the server's peak memory (RSS of its process tree, sampled every 0.2 s),
the machine's load average before and at its highest during the room, and the wall time.

    python bench/bench_workshop.py [--sessions 30] [--db PATH] [--timeout 600] [--step-timeout 180]

Bounded: at most 40 sessions, the whole room stopped at ``--timeout`` seconds, localhost only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from deploy_check import CHROMIUM, CHROMIUM_ARGS, GB, free_port, tree_rss, wait_healthy  # noqa: E402

from analysis.schema import COUNTRIES  # noqa: E402

MAX_SESSIONS = 40
SETTLED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') === 'running') return false;
    if (document.querySelector('[data-stale="true"]')) return false;
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    return !!main && main.innerText.trim().length > 0;
}"""


class Sampler(threading.Thread):
    """The server tree's peak RSS and the machine's highest 1-minute load average while running."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.load = pid, 0, 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.load = max(self.load, os.getloadavg()[0])
            time.sleep(0.2)


async def _settle(page, timeout_s: float) -> None:
    await page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    await page.wait_for_function(SETTLED, timeout=timeout_s * 1000)
    await page.wait_for_timeout(300)
    await page.wait_for_function(SETTLED, timeout=timeout_s * 1000)


async def _step(page, name: str, action, timeout_s: float, out: list[dict]) -> bool:
    t0 = time.monotonic()
    problem = None
    try:
        await action()
        await _settle(page, timeout_s)
        exceptions = page.locator('[data-testid="stException"]')
        if await exceptions.count():
            problem = (await exceptions.first.inner_text())[:200]
    except Exception as exc:  # noqa: BLE001 - a step that fails is counted, the session goes on if it can
        problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    out.append({"step": name, "seconds": time.monotonic() - t0, "error": problem})
    return problem is None


async def session(browser, base: str, country: str, timeout_s: float) -> list[dict]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(timeout_s * 1000)  # goto and click too, not only the wait for the page to settle
    page = await context.new_page()
    steps: list[dict] = []

    async def press_next():
        await page.get_by_role("button", name="Next →").click()

    try:
        if await _step(page, "open the Tour", lambda: page.goto(f"{base}/tour", wait_until="commit"), timeout_s, steps):
            for i in range(2, 5):
                if not await _step(page, f"next: step {i}", press_next, timeout_s, steps):
                    break
        await _step(
            page,
            "filter: one country",
            lambda: page.goto(f"{base}/tour?country={country}", wait_until="commit"),
            timeout_s,
            steps,
        )
        await _step(page, "next under the filter", press_next, timeout_s, steps)
    finally:
        await context.close()
    return steps


async def room(base: str, n: int, timeout_s: float, step_timeout_s: float) -> tuple[list[dict], float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            countries = [COUNTRIES[i % len(COUNTRIES)] for i in range(n)]
            t0 = time.monotonic()
            tasks = [session(browser, base, c, step_timeout_s) for c in countries]
            results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout_s)
            wall = time.monotonic() - t0
        finally:
            await browser.close()
    rows = []
    for r in results:
        rows += r if isinstance(r, list) else [{"step": "session", "seconds": np.nan, "error": repr(r)[:200]}]
    return rows, wall


def summary(rows: list[dict]) -> dict:
    times = np.array([r["seconds"] for r in rows if r["error"] is None and np.isfinite(r["seconds"])])
    return {
        "steps": len(rows),
        "errors": sum(r["error"] is not None for r in rows),
        "p50": float(np.percentile(times, 50)) if len(times) else np.nan,
        "p95": float(np.percentile(times, 95)) if len(times) else np.nan,
    }


def _database(path: Path | None, work: Path) -> Path:
    if path:
        return path
    from analysis.pipeline.demo import build_demo

    out = work / "demo.duckdb"
    build_demo(out, seed=0)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--db", type=Path, help="the database to serve (default: a fresh demo, not embedded)")
    p.add_argument("--timeout", type=float, default=600, help="the whole room is stopped after this many seconds")
    p.add_argument("--step-timeout", type=float, default=180)
    args = p.parse_args(argv)
    n = max(1, min(args.sessions, MAX_SESSIONS))
    work = Path(tempfile.mkdtemp(prefix="cae_room_"))
    db = _database(args.db, work)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CAE_DB": str(db), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1", "--server.port",
           str(port), "--server.headless", "true", "--server.fileWatcherType", "none"]  # fmt: skip
    with open(work / "streamlit.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    sampler = Sampler(proc.pid)
    try:
        wait_healthy(base, proc)
        sampler.start()
        asyncio.run(room(base, 1, args.timeout, args.step_timeout))  # warm-up: fills the shared caches
        alone, alone_wall = asyncio.run(room(base, 1, args.timeout, args.step_timeout))
        load_before = os.getloadavg()[0]
        sampler.load = load_before
        rows, wall = asyncio.run(room(base, n, args.timeout, args.step_timeout))
    finally:
        sampler.stop.set()
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    report(db, n, summary(alone), alone_wall, summary(rows), wall, sampler, load_before, rows)
    return 0 if summary(rows)["errors"] == 0 else 1


def report(db, n, one, one_wall, many, wall, sampler, load_before, rows) -> None:
    print(f"Database: {db}; server on 127.0.0.1; {os.cpu_count()} cores")
    print("| sessions | steps | errors | p50 step s | p95 step s | wall s |\n|---|---|---|---|---|---|")
    print(f"| 1 (baseline) | {one['steps']} | {one['errors']} | {one['p50']:.2f} | {one['p95']:.2f} | {one_wall:.0f} |")
    print(f"| {n} | {many['steps']} | {many['errors']} | {many['p50']:.2f} | {many['p95']:.2f} | {wall:.0f} |")
    print(f"ratio {n} sessions / 1: p50 {many['p50'] / one['p50']:.1f}x, p95 {many['p95'] / one['p95']:.1f}x")
    print(f"server peak memory (RSS of its process tree): {sampler.peak / GB:.2f} GB")
    print(f"load average (1 min): {load_before:.1f} before the room, {sampler.load:.1f} at its highest during it")
    for r in [r for r in rows if r["error"]][:10]:
        print(f"  error in '{r['step']}': {r['error']}")


if __name__ == "__main__":
    raise SystemExit(main())
