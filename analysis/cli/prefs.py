"""python -m analysis prefs: fit preference models on the database's own choices (pooled and per group, split by
person), store them with their parameters, and print the report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb
from tqdm import tqdm

from analysis import store
from analysis.filters import Filters
from analysis.lab import prefs_report, prefs_store
from analysis.lab.preferences import DEFAULT_LAMS, FEATURES, PrefsConfig
from analysis.lab.prefs_data import GROUPINGS
from analysis.pipeline.models import DEFAULT_MODEL, ModelUnavailableError, model_key

DEFAULTS = PrefsConfig()


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database path (default: $CAE_DB, else data/demo.duckdb)")
    parser.add_argument(
        "--group", choices=tuple(GROUPINGS), default=DEFAULTS.grouping, help="the grouping (default country)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="seed of the splits (default 0)")
    parser.add_argument(
        "--splits", type=int, default=DEFAULTS.splits, help=f"repeated splits by person (default {DEFAULTS.splits})"
    )
    parser.add_argument(
        "--test-fraction", type=float, default=DEFAULTS.test_fraction, help="people held out per split (default 0.2)"
    )
    parser.add_argument(
        "--dims",
        type=int,
        default=DEFAULTS.dims,
        help=f"PCA dimensions of the embeddings, 0 = all (default {DEFAULTS.dims})",
    )
    parser.add_argument(
        "--features",
        choices=FEATURES,
        default=DEFAULTS.features,
        help="what a candidate's utility reads (default embedding)",
    )
    parser.add_argument("--no-position", action="store_true", help="no per-slot offsets (the position bias)")
    parser.add_argument(
        "--min-people",
        type=int,
        default=DEFAULTS.min_people,
        help=f"people a group needs for its own model (default {DEFAULTS.min_people})",
    )
    parser.add_argument(
        "--lams", default=",".join(f"{x:g}" for x in DEFAULT_LAMS), help="L2 strengths to choose from (comma-separated)"
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"whose stored embeddings (default {DEFAULT_MODEL})")
    parser.add_argument(
        "--where", default="", help="global filters as in the app's URL, e.g. 'country=India|France&turn=1'"
    )
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1; 0 = the library's choice)")
    parser.add_argument(
        "--refit", action="store_true", help="fit again even when a run with these parameters is stored"
    )
    parser.add_argument("--show", action="store_true", help="print the stored run only; fit nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.epilog = (
        "The run is stored in the database (pref_* tables), replacing an earlier run of the same model, grouping and "
        "filters; the app's Preferences page reads it."
    )  # fmt: skip


def _config(args: argparse.Namespace) -> PrefsConfig:
    try:
        lams = tuple(float(x) for x in args.lams.split(",") if x.strip())
    except ValueError as exc:
        raise ValueError(f"--lams must be comma-separated numbers ({exc})") from exc
    return PrefsConfig(
        grouping=args.group, seed=args.seed, splits=args.splits, test_fraction=args.test_fraction, dims=args.dims,
        features=args.features, position=not args.no_position, lams=lams, min_people=args.min_people,
    )  # fmt: skip


def _filters(where: str) -> Filters:
    params = {}
    for part in (p for p in where.split("&") if p.strip()):
        if "=" not in part:
            raise ValueError(f"--where: {part!r} is not key=value (keys: {', '.join(Filters.url_keys())})")
        key, value = part.split("=", 1)
        if key.strip() not in Filters.url_keys():
            raise ValueError(f"--where: unknown key {key!r} (keys: {', '.join(Filters.url_keys())})")
        params[key.strip()] = value.strip()
    return Filters.from_query_params(params)


def _fit(db: Path, config: PrefsConfig, args: argparse.Namespace, filters: Filters) -> dict:
    quiet = args.json
    with tqdm(total=config.splits, file=sys.stderr, desc=f"prefs by {config.grouping}", unit="split",
              disable=True if quiet else None) as bar:  # fmt: skip
        return prefs_store.prefs_db(
            db, config, model=args.model, filters=filters, refit=args.refit, threads=args.threads or None,
            progress=lambda done, total: bar.update(done - bar.n),
        )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    db = store.resolve_db_path(args.db)
    if not Path(db).exists():
        print(f"error: no database at {db}. Build it with `python -m analysis demo --db {db}`.", file=sys.stderr)
        return 2
    try:
        config, filters = _config(args), _filters(args.where)
        if not args.show:
            done = _fit(db, config, args, filters)
            how = (
                "reused (same parameters and choices; --refit to fit again)"
                if done["reused"]
                else (f"fitted and stored in {done['seconds']:.1f} s")
            )
            print(f"run {done['run_id']}: {how}", file=sys.stderr)
        con = store.connect(db, read_only=True)
        try:
            stored = prefs_store.load_run(con, model_key(args.model), config.grouping, filters)
        finally:
            con.close()
    except (LookupError, ValueError, ModelUnavailableError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if stored is None:
        print(f"error: no stored run for {args.model} by {config.grouping} with these filters: run without --show.",
              file=sys.stderr)  # fmt: skip
        return 2
    run_record = {k: (str(v) if k == "created_at" else v) for k, v in stored.run.items()}
    report = prefs_report.report_json(run_record, stored.scores, stored.readings)
    if args.json:
        print(json.dumps(report))
    else:
        print("\n".join(prefs_report.report_text(report)))
    return 0
