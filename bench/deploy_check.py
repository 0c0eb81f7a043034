"""Streamlit Community Cloud's path, reproduced and checked (``make deploy-check``; minutes).

What Cloud does with this repository, done here the same way:
1. the committed tree only (``git archive HEAD``: no .venv, no data/, nothing untracked), in a fresh directory;
2. a fresh virtual environment with the same Python, from ``requirements.txt`` alone (no Makefile, no apt, no
   requirements-dev.txt);
3. ``streamlit run app.py`` from the repository root, with no CAE_DB (the first visitor builds the demo);
4. the process tree held to 2.7 GB (Cloud's documented memory limit; ``--cap-gb``).

How the cap is held (printed in the report): ``watchdog`` (default) samples the server's process tree every 0.2 s and
stops it the moment its resident memory (RSS, summed over the tree: the SQL console's worker and the embedding job
count too) passes the cap, which is what Cloud's container limit does to a process that grows past it; ``rlimit``
sets RLIMIT_AS (prlimit) on the server instead, a cap on address space, stricter than Cloud's (torch, DuckDB and
threads reserve far more address space than they touch). A cgroup memory limit would be the closest copy; this
machine's cgroup tree is read-only, so it is not offered.

Then headless Chromium visits every page in the menu's order: the first visit times the first page (the first-run
demo build included), the Values map presses "Run these steps now" and waits for the map, and every page is checked
for a Python exception on screen. The report gives the install time, the time to first page, each page's time, and
the server's peak memory. Exit status 0 when every page rendered without an exception and the cap held.

    python bench/deploy_check.py [--cap-gb 2.7] [--cap watchdog|rlimit] [--workdir DIR] [--venv DIR]

``--venv`` reuses a venv made by an earlier run (skips the install: only for re-running the visits).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ui import registry  # noqa: E402  (the menu's pages; no Streamlit import)

CHROMIUM = os.environ.get("CAE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
GB = 1024**3
PAGE_TIMEOUT_S = 300  # one page (the first includes the demo build)
PIPELINE_TIMEOUT_S = 1800  # the Values map's "Run these steps now" (--pipeline-timeout)
START_TIMEOUT_S = 180


@dataclass
class Report:
    cap: str
    cap_bytes: int
    python: str = sys.version.split()[0]
    install_s: float | None = None
    server_start_s: float | None = None
    first_page_s: float | None = None
    pages: list[dict] = field(default_factory=list)
    peak_rss_bytes: int = 0
    killed_at_cap: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.killed_at_cap and all(p["ok"] for p in self.pages)


# ------------------------------------------------------------------------------------------- the deploy
def export_tree(dest: Path) -> Path:
    """The committed tree (what Cloud clones), without anything untracked or ignored."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def make_venv(venv: Path, requirements: Path) -> float:
    """A fresh venv with this Python, from requirements.txt alone; the seconds it took."""
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(requirements)]
    subprocess.run(pip, check=True)
    return time.monotonic() - t0


def server_command(venv: Path, port: int) -> list[str]:
    """What Cloud runs: ``streamlit run app.py`` from the repository root (its .streamlit/config.toml applies)."""
    return [str(venv / "bin" / "python"), "-m", "streamlit", "run", "app.py", "--server.port", str(port),
            "--server.headless", "true"]  # fmt: skip


def server_env(base: dict[str, str]) -> dict[str, str]:
    """Cloud's environment has no CAE_DB (the demo is built on first run) and no proxy to this project's data."""
    return {k: v for k, v in base.items() if not k.startswith("CAE_")}


def _rlimit(cap: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return apply


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant (from /proc; 0 once it is gone)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        todo += children.get(p, [])
    return total


class Watchdog(threading.Thread):
    """Samples the tree's RSS; with ``enforce`` kills the server once it passes the cap."""

    def __init__(self, proc: subprocess.Popen, cap: int, enforce: bool, report: Report):
        super().__init__(daemon=True)
        self.proc, self.cap, self.enforce, self.report = proc, cap, enforce, report
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and self.proc.poll() is None:
            rss = tree_rss(self.proc.pid)
            self.report.peak_rss_bytes = max(self.report.peak_rss_bytes, rss)
            if self.enforce and rss > self.cap:
                self.report.killed_at_cap = True
                self.report.errors.append(f"the server passed the cap ({rss / GB:.2f} GB > {self.cap / GB:.2f} GB)")
                self.proc.kill()
                return
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer in {timeout_s:.0f} s")


# ------------------------------------------------------------------------------------------- the visits
def _settled(page, timeout_s: float) -> None:
    """Streamlit has finished running the page (as tests/e2e/conftest.py's wait_for_app)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app || app.getAttribute('data-test-script-state') === 'running') return false;
            if (document.querySelector('[data-stale="true"]')) return false;
            const main = document.querySelector('[data-testid="stMainBlockContainer"]');
            return !!main && main.innerText.trim().length > 0;
        }""",
        timeout=timeout_s * 1000,
    )
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') !== 'running'",
        timeout=timeout_s * 1000,
    )


def _problems(page) -> list[str]:
    out = page.locator('[data-testid="stException"]')
    return [out.nth(i).inner_text()[:300] for i in range(out.count())]


def visit(page, url: str, name: str, timeout_s: float = PAGE_TIMEOUT_S) -> dict:
    t0 = time.monotonic()
    try:
        page.goto(url)
        _settled(page, timeout_s)
        problems = _problems(page)
    except Exception as exc:  # noqa: BLE001 - a page that never settles is reported, not raised
        problems = [f"{type(exc).__name__}: {str(exc).splitlines()[0]}"]
    return {"page": name, "seconds": round(time.monotonic() - t0, 1), "ok": not problems, "problems": problems}


def run_pipeline_button(page, timeout_s: float = PIPELINE_TIMEOUT_S) -> dict:
    """The Values map's "Run these steps now", then the map (a Plotly chart) on the page."""
    t0 = time.monotonic()
    row = {"page": "values_map: Run these steps now", "ok": False, "problems": []}
    try:
        button = page.get_by_role("button", name="Run these steps now", exact=False)
        if button.count() == 0:  # the demo's shipped embeddings and map: prepared on the first run
            row["page"] = "values_map: ready on the first visit (no steps to run)"
            if page.locator(".js-plotly-plot").count() == 0:
                row["problems"] = ["neither the map nor a 'Run these steps now' button"]
            row["ok"] = not row["problems"]
        else:
            button.first.click()
            page.wait_for_timeout(1000)
            _settled(page, timeout_s)
            row["problems"] = _problems(page)
            if page.get_by_role("button", name="Run these steps now", exact=False).count():
                row["problems"].append("the steps did not finish: the button is still there")
            elif page.locator(".js-plotly-plot").count() == 0:
                row["problems"].append("no map after the steps")
            row["ok"] = not row["problems"]
    except Exception as exc:  # noqa: BLE001
        row["problems"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    row["seconds"] = round(time.monotonic() - t0, 1)
    return row


def visit_every_page(base: str, report: Report, started: float, pipeline_timeout_s: float) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            for spec in registry.PAGES:
                row = visit(page, f"{base}/{'' if spec is registry.PAGES[0] else spec.url_path}", spec.url_path)
                if report.first_page_s is None:
                    report.first_page_s = round(time.monotonic() - started, 1)
                report.pages.append(row)
                if spec.path == "pages/values_map.py" and row["ok"]:
                    report.pages.append(run_pipeline_button(page, pipeline_timeout_s))
            after = visit(page, f"{base}/values_map", "values_map (after the steps)")
            if page.get_by_role("button", name="Run these steps now", exact=False).count():
                after["problems"].append("not prepared: the button is still there")
            elif page.locator(".js-plotly-plot").count() == 0:
                after["problems"].append("no map")
            after["ok"] = not after["problems"]
            report.pages.append(after)
        finally:
            browser.close()


# ------------------------------------------------------------------------------------------- main
def serve_and_visit(repo: Path, venv: Path, report: Report, log: Path, pipeline_timeout_s: float) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    preexec = _rlimit(report.cap_bytes) if report.cap == "rlimit" else None
    t0 = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(server_command(venv, port), cwd=repo, env=server_env(dict(os.environ)), stdout=out,
                                stderr=subprocess.STDOUT, preexec_fn=preexec)  # fmt: skip
    dog = Watchdog(proc, report.cap_bytes, report.cap == "watchdog", report)
    dog.start()
    try:
        wait_healthy(base, proc)
        report.server_start_s = round(time.monotonic() - t0, 1)
        visit_every_page(base, report, t0, pipeline_timeout_s)
    except RuntimeError as exc:
        report.errors.append(str(exc))
    finally:
        dog.stop.set()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        dog.join(timeout=2)
    if proc.returncode not in (0, -15, None) and not report.killed_at_cap:
        report.errors.append(f"the server exited with {proc.returncode}; see {log}")


def print_report(report: Report) -> None:
    print(f"\nDeploy check ({'PASS' if report.ok else 'FAIL'}): Python {report.python}, cap {report.cap_bytes / GB:.1f} "
          f"GB held by {report.cap}")  # fmt: skip
    if report.install_s is not None:
        print(f"  install from requirements.txt: {report.install_s:.0f} s")
    print(f"  server answering: {report.server_start_s} s; first page (incl. the first-run demo build): "
          f"{report.first_page_s} s")  # fmt: skip
    for row in report.pages:
        mark = "ok " if row["ok"] else "ERR"
        print(f"  {mark} {row['page']:<40} {row['seconds']:>7.1f} s  {'; '.join(row['problems'])[:200]}")
    print(f"  peak memory of the server's process tree (RSS): {report.peak_rss_bytes / GB:.2f} GB")
    for error in report.errors:
        print(f"  error: {error}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cap-gb", type=float, default=2.7)
    p.add_argument("--cap", choices=("watchdog", "rlimit"), default="watchdog")
    p.add_argument("--workdir", type=Path, help="where the tree and the venv go (default: a temporary directory)")
    p.add_argument("--venv", type=Path, help="reuse this venv (made by an earlier run) instead of installing")
    p.add_argument("--json", type=Path, help="also write the report here")
    p.add_argument("--pipeline-timeout", type=float, default=PIPELINE_TIMEOUT_S, help="seconds for Run these steps now")
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cae_deploy_"))
    report = Report(cap=args.cap, cap_bytes=int(args.cap_gb * GB))
    repo = export_tree(work / "repo")
    venv = args.venv or work / "venv"
    if args.venv is None:
        print(f"Installing requirements.txt into a fresh venv at {venv} (minutes)…", flush=True)
        report.install_s = make_venv(venv, repo / "requirements.txt")
    print(f"Serving {repo} with {report.cap} at {args.cap_gb} GB; visiting {len(registry.PAGES)} pages…", flush=True)
    serve_and_visit(repo, venv, report, work / "streamlit.log", args.pipeline_timeout)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps({**report.__dict__, "ok": report.ok}, indent=2))
    if args.workdir is None and args.venv is None and report.ok:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
