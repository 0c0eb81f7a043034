"""python -m analysis project: fit (once) and store a 2-D UMAP map of the stored embeddings."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from analysis import store
from analysis.pipeline.models import DEFAULT_MODEL
from analysis.pipeline.project import DEFAULT_FIT_SAMPLE, canonical_params, project_db


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database path (default: $CAE_DB, else data/demo.duckdb)")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"whose stored embeddings to project (default {DEFAULT_MODEL})"
    )
    parser.add_argument("--n-neighbors", type=int, default=15, help="UMAP n_neighbors (default 15)")
    parser.add_argument("--min-dist", type=float, default=0.1, help="UMAP min_dist (default 0.1)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--fit-sample", type=int, default=DEFAULT_FIT_SAMPLE,
        help=f"fit on at most this many texts (a seeded sample) and place the rest with transform "
        f"(default {DEFAULT_FIT_SAMPLE:,})",
    )  # fmt: skip
    parser.add_argument(
        "--refit", action="store_true", help="fit a new projection even if one with these parameters exists"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    db = store.resolve_db_path(args.db)
    if not Path(db).exists():
        print(f"error: no database at {db}. Build it with `python -m analysis demo --db {db}`.", file=sys.stderr)
        return 2
    try:
        summary = project_db(
            db,
            model=args.model,
            n_neighbors=args.n_neighbors,
            min_dist=args.min_dist,
            seed=args.seed,
            progress=True,
            refit=args.refit,
            fit_sample=args.fit_sample,
        )
    except (LookupError, ValueError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        how = f"fitted on {summary['n_fit']} texts" if summary["fitted"] else "reused (no refit)"
        print(
            f"projection {summary['projection_id']} ({summary['model']}, {canonical_params(summary['params'])}): {how}; "
            f"{summary['placed']} texts placed with transform; {summary['n_points']} points; {summary['seconds']:.1f} s"
        )
    return 0
