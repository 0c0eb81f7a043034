"""python -m analysis prepare: run the pipeline's steps in order (embed, score on the value axes, map with UMAP) on a
database, each reusing what is stored. The same steps as ``embed``, ``axes score-db`` and ``project`` one by one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from analysis import store
from analysis.pipeline.labels import LabelError
from analysis.pipeline.models import DEFAULT_MODEL, DeviceError, ModelUnavailableError
from analysis.pipeline.steps import STEPS, run_steps


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database path (default: $CAE_DB, else data/demo.duckdb)")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"embedding model name or path (default {DEFAULT_MODEL})"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object with each step's summary")
    parser.epilog = "Steps, in order: " + ", ".join(step.command for step in STEPS) + "."


def run(args: argparse.Namespace) -> int:
    db = store.resolve_db_path(args.db)
    if not Path(db).exists():
        print(f"error: no database at {db}. Build it with `python -m analysis demo --db {db}`.", file=sys.stderr)
        return 2
    say = None if args.json else (lambda m: print(m, file=sys.stderr))
    try:
        out = run_steps(db, model=args.model, progress=say, embed_progress=not args.json, cli=not args.json)
    except (LabelError, LookupError, ModelUnavailableError, DeviceError, ValueError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is stored; run the same command again to resume.", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(out, default=str))
    else:
        e, s, p = out["embed"], out["score"], out["project"]
        print(
            f"{e['model']}: {e['embedded']} texts embedded now ({e['cached']} already), {s['scored']} scored on the "
            f"value axes, {p['n_points']} points on the UMAP map ({'fitted' if p['fitted'] else 'reused'})."
        )
    return 0
