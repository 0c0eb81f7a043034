"""python -m analysis embed-job start|status|stop|run: the full embedding as a resumable background job."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analysis import store
from analysis.pipeline import embed_job
from analysis.pipeline.models import DEFAULT_MODEL, DeviceError, ModelUnavailableError

ACTIONS = ("start", "status", "stop", "run")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=ACTIONS, help="start (detached), status, stop, or run (in the foreground)")
    parser.add_argument("--db", help="database path (default: $CAE_DB, else data/demo.duckdb)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"embedding model (default {DEFAULT_MODEL})")
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=0,
        help="cut each text to its first N tokens before embedding (faster; its effect on the axes' accuracy is "
        "measured by bench/bench_truncation.py); 0 (the default) embeds full texts",
    )
    parser.add_argument("--flush-texts", type=int, default=embed_job.FLUSH_TEXTS, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the status as JSON")


def run(args: argparse.Namespace) -> int:
    db = store.resolve_db_path(args.db)
    if not Path(db).exists():
        print(f"error: no database at {db}. Build it with `python -m analysis ingest FILE --db {db}`.", file=sys.stderr)
        return 2
    if args.max_tokens and args.max_tokens < 8:
        print(f"error: --max-tokens must be 0 (full texts) or at least 8, got {args.max_tokens}", file=sys.stderr)
        return 2
    try:
        if args.action == "start":
            st = embed_job.start(db, args.model, args.max_tokens, flush_texts=args.flush_texts)
        elif args.action == "stop":
            st = embed_job.stop(db)
        elif args.action == "run":
            st = embed_job.run_job(
                db, args.model, args.max_tokens, progress=not args.json, flush_texts=args.flush_texts
            )
        else:
            st = embed_job.status(db)
    except embed_job.JobRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (ModelUnavailableError, DeviceError, store.DatabaseError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(st, ensure_ascii=False) if args.json else embed_job.describe(st))
    return 1 if st.get("state") == "failed" else 0
