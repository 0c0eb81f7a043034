"""python -m analysis embed: embed the database's texts with a model (cached by model and text hash)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from analysis import store
from analysis.pipeline.embed import embed_db
from analysis.pipeline.models import (
    DEFAULT_MODEL,
    MULTILINGUAL_SUGGESTION,
    DeviceError,
    ModelUnavailableError,
    data_languages,
    language_warning,
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database path (default: $CAE_DB, else data/demo.duckdb)")
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"sentence-transformers model name or local path (default: {DEFAULT_MODEL}, bundled, offline; "
        f"for non-English text use a multilingual model such as {MULTILINGUAL_SUGGESTION})",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="texts per batch (default 64)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present, else cpu)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    db = store.resolve_db_path(args.db)
    if not Path(db).exists():
        print(
            f"error: no database at {db}. Build it with `python -m analysis demo --db {db}` "
            f"or `python -m analysis ingest FILE --db {db}`.",
            file=sys.stderr,
        )
        return 2
    if args.batch_size <= 0:
        print(f"error: --batch-size must be a positive integer, got {args.batch_size}", file=sys.stderr)
        return 2
    try:
        summary = embed_db(db, model=args.model, batch_size=args.batch_size, device=args.device, progress=True)
    except (ModelUnavailableError, DeviceError, ValueError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished batches are stored; run the same command again to resume.", file=sys.stderr)
        return 130
    con = duckdb.connect(str(db), read_only=True)
    try:
        warning = language_warning(args.model, data_languages(con))
    finally:
        con.close()
    if args.json:
        print(json.dumps({**summary, "warning": warning}))
    else:
        rate = summary["embedded"] / summary["seconds"] if summary["seconds"] else 0.0
        print(
            f"{summary['model']}: {summary['total']} texts, {summary['cached']} already embedded, "
            f"{summary['embedded']} embedded now in {summary['seconds']:.1f} s"
            + (f" ({rate:.0f} texts/s)" if summary["embedded"] else "")
        )
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
