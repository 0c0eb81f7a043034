"""Ingest of a 100,000-conversation release-schema CSV against DuckDB's plain read_csv of the same file.

    python bench/bench_ingest.py [--conversations 100000] [--answers templates|long] [--csv EXISTING.csv]

``--answers long`` writes the release-size benchmark file (release-like Markdown answers, about 735,000 distinct
texts and 1.8 GB at 100,000 conversations; `python -m analysis demo --release-size` writes the same file).
Prints both times, the ratio and each run's peak RSS (each measured in its own process).
Targets: ingest within 1.5x plain read_csv; peak RSS under 2.5 GB (Streamlit Community Cloud gives about 2.7 GB).
Leaves bench/out/bench100k.duckdb (or bench100k-long.duckdb) behind for the page and UMAP benchmarks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
kind, src, db = sys.argv[1:4]
t0 = time.perf_counter()
if kind == "baseline":
    import duckdb
    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{{src}}', header=true, all_varchar=true)")
    con.execute("CHECKPOINT")
    con.close()
else:
    from analysis.pipeline.ingest import ingest
    ingest(src, db)
print(json.dumps({{"seconds": time.perf_counter() - t0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(kind: str, src: Path, db: Path) -> dict:
    db.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT)), kind, str(src), str(db)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best is reported")
    ap.add_argument("--answers", choices=("templates", "long"), default="templates")
    ap.add_argument("--csv", type=Path, help="an existing release-schema CSV to load instead of writing one")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from analysis.pipeline.demo import write_demo_csv

    tag = ("bench100k" if args.conversations == 100_000 else f"bench{args.conversations}") + (
        "-long" if args.answers == "long" else ""
    )
    src = args.csv or OUT / f"{tag}.csv"
    t0 = time.perf_counter()
    if args.csv is None:
        write_demo_csv(src, args.conversations, seed=0, answers=args.answers)
    gen = time.perf_counter() - t0
    size_mb = src.stat().st_size / 1e6
    base = min(
        (measure("baseline", src, OUT / "baseline.duckdb") for _ in range(args.repeat)), key=lambda r: r["seconds"]
    )
    ours = min((measure("ingest", src, OUT / f"{tag}.duckdb") for _ in range(args.repeat)), key=lambda r: r["seconds"])
    (OUT / "baseline.duckdb").unlink(missing_ok=True)
    ratio = ours["seconds"] / base["seconds"]
    print(f"input: {args.conversations:,} conversations, {size_mb:,.0f} MB CSV (generated in {gen:.1f} s)")
    print(f"{'path':<34}{'seconds':>9}{'peak RSS MB':>13}")
    print(f"{'baseline: read_csv into a table':<34}{base['seconds']:>9.2f}{base['peak_rss_mb']:>13.0f}")
    print(f"{'ingest (normalised tables)':<34}{ours['seconds']:>9.2f}{ours['peak_rss_mb']:>13.0f}")
    print(
        f"ratio ingest / read_csv: {ratio:.2f}x (target <= 1.5x); peak RSS {ours['peak_rss_mb']:.0f} MB (target < 2500 MB)"
    )
    print(f"database left at {OUT / (tag + '.duckdb')}")


if __name__ == "__main__":
    main()
