"""python -m analysis axes: score texts on the Inglehart-Welzel value axes, the anchors' validity, or a database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

from analysis import store
from analysis.pipeline.anchors import AnchorError, anchors_version, load_anchors
from analysis.pipeline.axes import (
    AXIS_LABELS,
    AXIS_ORDER,
    REFERENCE_ACCURACY,
    SCHEMES,
    VALIDITY_COLUMNS,
    anchor_validity,
    score_db,
    score_texts,
    validity_warnings,
)
from analysis.pipeline.models import DEFAULT_MODEL, DeviceError, ModelUnavailableError, model_key


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="axes_command", metavar="SUBCOMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"embedding model name or path (default {DEFAULT_MODEL})"
    )
    common.add_argument("--anchors", default=None, help="anchor file (default analysis/content/anchors.json)")

    p = sub.add_parser("score", parents=[common], help="score the texts of a file (one per line)")
    p.add_argument("--text-file", required=True, help="UTF-8 text file, one text per line ('-' for standard input)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per line")

    p = sub.add_parser("validity", parents=[common], help="leave-one-out accuracy of the anchors per axis and language")
    p.add_argument(
        "--scheme",
        choices=SCHEMES,
        default="pair",
        help="pair: leave the held-out statement's topic twin out of the refit too (default); single: only the statement",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "score-db", parents=[common], help="score every embedded text of a database and store the scores"
    )
    p.add_argument("--db", help="database path (default: $CAE_DB, else data/demo.duckdb)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def _read_text_file(path: str) -> list[str]:
    if path == "-":
        raw = sys.stdin.buffer.read()
        where = "standard input"
    else:
        p = Path(path)
        if not p.is_file():
            raise AnchorError(f"No text file at {path}.")
        raw = p.read_bytes()
        where = str(p)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnchorError(f"{where} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


def _print_validity(validity: pl.DataFrame, model: str) -> None:
    print(f"Leave-one-out accuracy of the anchors with {model} (chance 50%):")
    for axis in AXIS_ORDER:
        part = validity.filter(pl.col("axis") == axis)
        cells = "  ".join(f"{l}: {acc:.0%} (n={n})" for _, l, acc, n in part.iter_rows())
        print(f"  {AXIS_LABELS[axis]:32s} {cells}   [paper's LLM judge: {REFERENCE_ACCURACY[axis]:.1%}]")
    for note in validity_warnings(validity, model):
        print(f"warning: {note}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    cmd = getattr(args, "axes_command", None)
    if cmd is None:
        print("usage: python -m analysis axes {score,validity,score-db} ... (see --help)", file=sys.stderr)
        return 2
    try:
        anchors = load_anchors(args.anchors)
        if cmd == "score":
            texts = _read_text_file(args.text_file)
            df = score_texts(texts, model=args.model, anchors=anchors, progress=True if len(texts) > 256 else None)
            if args.json:
                rows = [json.dumps(r, ensure_ascii=False) for r in df.to_dicts()]
                print("[" + (("\n" + ",\n".join(rows) + "\n") if rows else "") + "]")
            else:
                for t, x, y in df.iter_rows():
                    print(f"{x:+.3f}\t{y:+.3f}\t{t}")
            return 0
        if cmd == "validity":
            validity = anchor_validity(anchors, model=args.model, scheme=args.scheme)
            if args.json:
                print(
                    json.dumps(
                        {
                            "model": model_key(args.model),
                            "anchors_version": anchors_version(anchors),
                            "scheme": args.scheme,
                            "reference_accuracy": REFERENCE_ACCURACY,
                            "validity": validity.to_dicts(),
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                _print_validity(validity, model_key(args.model))
            return 0
        if cmd == "score-db":
            db = store.resolve_db_path(args.db)
            if not Path(db).exists():
                print(
                    f"error: no database at {db}. Build it with `python -m analysis demo --db {db}`.", file=sys.stderr
                )
                return 2
            summary = score_db(db, model=args.model, anchors=anchors)
            if args.json:
                print(json.dumps(summary, ensure_ascii=False))
            else:
                print(
                    f"{summary['model']} / anchors {summary['anchors_version']}: scored {summary['scored']} texts "
                    f"in {summary['seconds']:.1f} s"
                    + (
                        f"; {summary['not_embedded']} texts not embedded yet (run `python -m analysis embed`)"
                        if summary["not_embedded"]
                        else ""
                    )
                )
                _print_validity(pl.DataFrame(summary["validity"], schema=VALIDITY_COLUMNS), summary["model"])
            return 0
    except (AnchorError, LookupError, ModelUnavailableError, DeviceError, ValueError, store.DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"unknown axes subcommand {cmd}", file=sys.stderr)
    return 2
