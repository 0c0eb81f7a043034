"""python -m analysis demo: build the SYNTHETIC demo dataset and load it through the same ingest as the release."""

from __future__ import annotations

import argparse
import json
import sys
import time

from analysis.cli.ingest import print_summary
from analysis.pipeline.demo import ANSWERS, DEFAULT_CONVERSATIONS, DEFAULT_SEED, RELEASE_SIZE_CONVERSATIONS, build_demo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, help="the DuckDB file to build (replaced atomically)")
    p.add_argument("--conversations", type=int, help=f"number of conversations (default {DEFAULT_CONVERSATIONS:,})")
    p.add_argument(
        "--answers", choices=ANSWERS, default=None,
        help="templates: the small demo's answer pool (few distinct texts); long: release-like Markdown answers of "
        "80-400 words written afresh per candidate",
    )  # fmt: skip
    p.add_argument(
        "--release-size", action="store_true",
        help=f"the release-size benchmark dataset: {RELEASE_SIZE_CONVERSATIONS:,} conversations with long answers "
        "(about 700,000 distinct texts; minutes to write, about 1 GB of CSV)",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same data)")
    p.add_argument("--csv", help="where to write the synthetic CSV (default: beside the database)")
    p.add_argument("--json", action="store_true", help="print the ingest summary as one JSON object")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    conversations = args.conversations or (RELEASE_SIZE_CONVERSATIONS if args.release_size else DEFAULT_CONVERSATIONS)
    answers = args.answers or ("long" if args.release_size else "templates")
    if conversations < 1:
        print("error: --conversations must be at least 1", file=sys.stderr)
        return 2
    result = build_demo(args.db, conversations, args.seed, progress=not args.json, csv_path=args.csv, answers=answers)
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
