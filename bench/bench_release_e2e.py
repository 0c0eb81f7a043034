"""From the release-size CSV to every page usable, the Values map's findings shown from the sample with intervals:
wall time on this machine against the 15-minute target (the ratio is elapsed / budget).

    .venv/bin/python bench/bench_release_e2e.py --csv FILE [--budget-min 15] [--min-people 5] [--keep-job]

FILE: the release-size benchmark file (`python -m analysis demo --release-size --db bench/out/release.duckdb` writes
bench/out/release.synthetic.csv beside it: 100,000 conversations, SYNTHETIC). The clock starts before the ingest.

1. `python -m analysis ingest FILE --db bench/out/e2e.duckdb` (a fresh database);
2. `python -m analysis embed-job start --db ...` (the background job: LLM answers, then a stratified sample of
   comparisons, then everything else);
3. every 20 s, the findings the Values map shows (analysis.explore.sample_findings, from a read-only connection while
   the job writes) until every country has at least --min-people people in the sample and the all-countries spread
   has its interval (or the budget is nearly spent);
4. every page of the app rendered once through AppTest on that database (the first render: nothing cached), its time,
   and whether it raised;
5. the job is stopped (unless --keep-job) and the figures printed; bench/out/release_e2e.json keeps them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True)


def _findings(db: Path) -> dict:
    from analysis import store
    from analysis.explore import findings, sample_findings

    con = store.connect(db, read_only=True)
    try:
        sf = sample_findings.sample_findings(con)
    finally:
        con.close()
    t = sf.table
    people = {r["group"]: r["n_people"] for r in t.filter(t["statistic"] == "chosen_spread").iter_rows(named=True)}
    spread = t.filter((t["group"] == findings.ALL) & (t["statistic"] == "chosen_spread"))
    has_interval = spread.height and not math.isnan(spread["lo"][0] if spread["lo"][0] is not None else math.nan)
    return {"n_in_sample": sf.n_in_sample, "n_comparisons": sf.n_comparisons, "n_placed": sf.n_placed,
            "n_texts": sf.n_texts, "people": people, "all_spread_interval": bool(has_interval),
            "sentence": sf.sentence}  # fmt: skip


def _pages(db: Path) -> list[dict]:
    from streamlit.testing.v1 import AppTest

    from ui import registry

    os.environ["CAE_DB"] = str(db)
    rows = []
    for page in registry.PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        start = time.perf_counter()
        at.run()  # the landing page (the first in the registry)
        if page.path != registry.PAGES[0].path:
            start = time.perf_counter()
            at.switch_page(page.path).run()
        seconds = time.perf_counter() - start
        rows.append({"page": page.path, "seconds": round(seconds, 2), "errors": [e.message for e in at.exception]})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--budget-min", type=float, default=15.0)
    ap.add_argument("--min-people", type=int, default=5)
    ap.add_argument("--page-reserve-s", type=float, default=150.0, help="time kept for rendering the pages")
    ap.add_argument("--keep-job", action="store_true")
    args = ap.parse_args()
    db = OUT / "e2e.duckdb"
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    subprocess.run(["rm", "-rf", f"{db}.d"], check=True)
    t0 = time.perf_counter()
    out: dict = {"csv": str(args.csv), "load_avg_start": os.getloadavg()}
    ingest = _cli("ingest", str(args.csv), "--db", str(db), "--json")
    if ingest.returncode:
        print(ingest.stderr)
        return 1
    out["ingest_s"] = round(time.perf_counter() - t0, 1)
    print(f"ingest: {out['ingest_s']} s", flush=True)
    job = _cli("embed-job", "start", "--db", str(db), "--json")
    out["job_start"] = json.loads(job.stdout) if job.stdout.strip() else {"error": job.stderr}
    deadline = t0 + args.budget_min * 60 - args.page_reserve_s
    while True:
        time.sleep(20)
        f = _findings(db)
        elapsed = time.perf_counter() - t0
        print(f"{elapsed:6.0f} s: {f['n_placed']:,} texts placed, {f['n_in_sample']:,} comparisons in the sample, "
              f"people per country {f['people']}", flush=True)  # fmt: skip
        ready = f["all_spread_interval"] and f["people"] and min(f["people"].values()) >= args.min_people
        if ready or time.perf_counter() > deadline:
            break
    out["findings"] = f
    out["findings_at_s"] = round(time.perf_counter() - t0, 1)
    out["pages"] = _pages(db)
    out["total_s"] = round(time.perf_counter() - t0, 1)
    out["load_avg_end"] = os.getloadavg()
    from analysis.pipeline import embed_job

    out["job"] = embed_job.status(db)
    if not args.keep_job:
        embed_job.stop(db)
    OUT.mkdir(exist_ok=True)
    (OUT / "release_e2e.json").write_text(json.dumps(out, indent=1, default=str))
    budget = args.budget_min * 60
    print(f"\nrelease-size CSV to every page with the Values map's findings: {out['total_s']:.0f} s "
          f"(target {budget:.0f} s; ratio {out['total_s'] / budget:.2f})")  # fmt: skip
    print(f"  ingest {out['ingest_s']:.0f} s; findings with intervals at {out['findings_at_s']:.0f} s from "
          f"{f['n_in_sample']:,} comparisons ({f['n_placed']:,} texts placed, job at {out['job'].get('rate') or 0:.1f} texts/s)")  # fmt: skip
    for row in out["pages"]:
        print(
            f"  {row['page']:28s} first render {row['seconds']:6.2f} s  {'ERROR ' + str(row['errors']) if row['errors'] else 'ok'}"
        )
    print(f"  load average {out['load_avg_start'][0]:.1f} at the start, {out['load_avg_end'][0]:.1f} at the end")
    return 0 if not any(r["errors"] for r in out["pages"]) else 1


if __name__ == "__main__":
    sys.exit(main())
