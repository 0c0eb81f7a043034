"""The SQL console's worker process: what a query pays for running in a process of its own, and what the app's
process is spared.

1. Start-up cost: each query through ``sql_console.run_query`` (a fresh worker process: Python, DuckDB, pyarrow and
   Polars imported, the locked instance opened, hard limits set) against the same query path run in this process
   (``sql_worker.run_in_process``: the same locked instance and conversions, no process). Best of --repeats, warm
   (this process has imported everything; the page's own process has too).
2. A list allocation that ignores DuckDB's memory limit and its interrupt (``list_sum(range(N))``), run the old way
   (in the app's process) and through the worker, each from a fresh Python process that plays the app: wall time, the
   app process's peak RSS (VmHWM), the worker's peak RSS (RUSAGE_CHILDREN), and the status. N defaults to 20 million
   (the in-process run then needs about 1.8 GB); the issue's 200 million needs about 14 GB in-process, so it is run
   through the worker only.

    .venv/bin/python bench/bench_sql_console.py [--repeats 5] [--n 20000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.explore import sql_console, sql_worker  # noqa: E402

OUT = ROOT / "bench" / "out"
DB = OUT / "bench_sql_demo.duckdb"
QUERIES = {
    "SELECT 42 (start-up alone)": "SELECT 42 AS x",
    "example: comparisons by country and language": sql_console.EXAMPLES["Comparisons by country and language"],
    "10,000 rows of candidates (result transfer)": "SELECT * FROM candidates LIMIT 10000",
}
APP_SCRIPT = """
import json, resource, sys, time
from analysis.explore import sql_console, sql_worker
db, sql, how = sys.argv[1], sys.argv[2], sys.argv[3]
run = sql_worker.run_in_process if how == "in-process" else sql_console.run_query
started = time.perf_counter()
result = run(db, sql, timeout_s=10)
seconds = time.perf_counter() - started
peak = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"status": result.status, "seconds": seconds, "app_peak": peak,
                  "worker_peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
        assert result.ok, result.message
    return min(times)


def startup(repeats: int) -> list[dict]:
    rows = []
    for name, sql in QUERIES.items():
        worker = _best(lambda sql=sql: sql_console.run_query(DB, sql, row_limit=10_000), repeats)
        here = _best(lambda sql=sql: sql_worker.run_in_process(DB, sql, row_limit=10_000), repeats)
        rows.append({"query": name, "worker_s": worker, "in_process_s": here})
        print(f"{name:48} worker {worker:6.3f} s   in-process {here:6.3f} s   ratio {worker / here:5.1f}x   "
              f"cost {worker - here:5.3f} s", flush=True)  # fmt: skip
    return rows


def allocation(n: int) -> list[dict]:
    rows = []
    probes = [(f"SELECT list_sum(range({n}::BIGINT))", how) for how in ("in-process", "worker")]
    probes.append(("SELECT list_sum(range(200000000::BIGINT))", "worker"))
    for sql, how in probes:
        done = subprocess.run([sys.executable, "-c", APP_SCRIPT, str(DB), sql, how], capture_output=True, text=True,
                              cwd=ROOT, timeout=600)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        r = {"query": sql, "how": how, **json.loads(done.stdout)}
        rows.append(r)
        print(f"{sql:45} {how:10} {r['status']:7} {r['seconds']:6.2f} s   app peak {r['app_peak'] / 2**20:7,.0f} MB   "
              f"worker peak {r['worker_peak'] / 2**20:7,.0f} MB", flush=True)  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=20_000_000, help="list length of the in-process allocation probe")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not DB.exists():
        from analysis.pipeline.demo import build_demo

        build_demo(DB, seed=0)
    results = {"startup": startup(args.repeats), "allocation": allocation(args.n)}
    (OUT / "bench_sql_console.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
