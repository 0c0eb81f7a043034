"""python -m analysis demo: build the SYNTHETIC demo dataset and load it through the same ingest as the release."""

from __future__ import annotations

import argparse
import json
import sys
import time

from analysis.cli.ingest import print_summary
from analysis.pipeline.demo import DEFAULT_CONVERSATIONS, DEFAULT_SEED, build_demo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, help="the DuckDB file to build (replaced atomically)")
    p.add_argument("--conversations", type=int, default=DEFAULT_CONVERSATIONS, help="number of conversations")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same data)")
    p.add_argument("--csv", help="where to write the synthetic CSV (default: beside the database)")
    p.add_argument("--json", action="store_true", help="print the ingest summary as one JSON object")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.conversations < 1:
        print("error: --conversations must be at least 1", file=sys.stderr)
        return 2
    result = build_demo(args.db, args.conversations, args.seed, progress=not args.json, csv_path=args.csv)
    if args.json:
        print(
            json.dumps(
                {
                    **result.summary,
                    "db": str(result.db_path),
                    "synthetic": True,
                    "seconds": round(time.perf_counter() - started, 3),
                }
            )
        )
    else:
        print("SYNTHETIC demo data (not the Community Alignment release):")
        print_summary(result.summary, result.db_path, time.perf_counter() - started)
    return 0
