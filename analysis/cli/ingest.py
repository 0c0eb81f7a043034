"""python -m analysis ingest: load the release (a local .csv, .csv.gz or .parquet file, or the hub) into DuckDB."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analysis.pipeline.ingest import IngestError, download_from_hub, ingest


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="a local .csv, .csv.gz or .parquet file of the release, or 'hf' to download it")
    p.add_argument("--db", required=True, help="the DuckDB file to build (replaced atomically on success)")
    p.add_argument("--split", choices=("full", "filtered"), default="full", help="with 'hf': which split")
    p.add_argument("--json", action="store_true", help="print one JSON object with the summary")


def print_summary(summary: dict, db_path: Path, seconds: float) -> None:
    print(f"Loaded {db_path} in {seconds:.1f} s")
    print(f"  rows read        {summary['rows_read']:>10,}")
    print(f"  conversations    {summary['conversations']:>10,}")
    print(f"  comparisons      {summary['comparisons']:>10,}")
    print(f"  annotators       {summary['annotators']:>10,}")
    print(f"  duplicate rows   {summary['duplicate_rows']:>10,}  (loaded once)")
    print(f"  rejected rows    {summary['rejected_rows']:>10,}")
    print(f"  rejected turns   {summary['rejected_turns']:>10,}")
    for reason, n in summary["rejected_reasons"].items():
        print(f"    {reason:<28} {n:>8,}")
    if summary["rejected_reasons"]:
        print("  see: SELECT * FROM rejected  (python -m analysis ingest writes one row per rejection)")
    if summary["ignored_columns"]:
        print(f"  ignored columns: {', '.join(summary['ignored_columns'])}")


def run(args: argparse.Namespace) -> int:
    try:
        if args.source == "hf":
            source = download_from_hub(args.split)
            kind = "hf"
        else:
            source, kind = Path(args.source), None
        result = ingest(source, args.db, source_kind=kind, progress=not args.json and sys.stderr.isatty())
    except IngestError as exc:
        if args.json:
            print(json.dumps({"error": str(exc), "exit_code": exc.code}))
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    if args.json:
        print(json.dumps({**result.summary, "db": str(result.db_path), "seconds": round(result.seconds, 3)}))
    else:
        print_summary(result.summary, result.db_path, result.seconds)
    return 0
