"""python -m analysis axes: score texts on the Inglehart-Welzel value axes, their held-out accuracy, a database, or
(re)write the shipped fit of a bundled model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

from analysis import store
from analysis.pipeline import axes, axes_store
from analysis.pipeline import labels as label_sets
from analysis.pipeline.models import DEFAULT_MODEL, DeviceError, ModelUnavailableError, model_key


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="axes_command", metavar="SUBCOMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"embedding model name or path (default {DEFAULT_MODEL})"
    )
    common.add_argument(
        "--labels",
        default=None,
        help="labelled statements, JSONL or CSV (default analysis/content/labelled_values.jsonl)",
    )

    p = sub.add_parser("score", parents=[common], help="score the texts of a file (one per line)")
    p.add_argument("--text-file", required=True, help="UTF-8 text file, one text per line ('-' for standard input)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {text, self_expression, secular}")
    p.add_argument("--probability", action="store_true", help="add p_self_expression and p_secular")

    p = sub.add_parser("validity", parents=[common], help="held-out accuracy per axis and language, with intervals")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("fit", parents=[common], help="fit the axes and print their held-out accuracy")
    p.add_argument(
        "--write", action="store_true", help="write the fit and the statements' vectors to analysis/content/axes/"
    )

    p = sub.add_parser(
        "score-db", parents=[common], help="score every embedded text of a database and store the scores"
    )
    p.add_argument("--db", help="database path (default: $CAE_DB, else data/demo.duckdb)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def _read_text_file(path: str) -> list[str]:
    if path == "-":
        raw, where = sys.stdin.buffer.read(), "standard input"
    else:
        p = Path(path)
        if not p.is_file():
            raise label_sets.LabelError(f"No text file at {path}.")
        raw, where = p.read_bytes(), str(p)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise label_sets.LabelError(f"{where} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


def format_validity(validity: pl.DataFrame, model: str) -> list[str]:
    """The held-out accuracy as lines of text: per axis and scheme, each language with n and its 95% interval; a
    '!' marks a cell whose interval reaches down to 0.6 (not to be read as a finding)."""
    lines = [
        f"Held-out accuracy with {model}, on statements the axes were not fitted on (chance 50%; '!' = the 95% "
        "interval reaches down to 60%: not a finding):"
    ]
    for axis in axes.AXIS_ORDER:
        ref = axes.REFERENCE_ACCURACY[axis]
        lines.append(f"  {axes.AXIS_LABELS[axis]}   [the research's LLM judge: {ref:.1%}]")
        for scheme in (*axes.SCHEMES, "independent"):
            part = validity.filter((pl.col("axis") == axis) & (pl.col("scheme") == scheme))
            if not part.height:
                continue
            cells = "  ".join(
                f"{r['language']} {r['accuracy']:.0%} [{r['ci_low']:.0%}-{r['ci_high']:.0%}] n={r['n']}"
                + ("!" if r["flagged"] else "")
                for r in part.iter_rows(named=True)
            )
            lines.append(f"    {axes.SCHEME_LABELS[scheme]:18s} {cells}")
    return lines


def _print_validity(validity: pl.DataFrame, model: str) -> None:
    print("\n".join(format_validity(validity, model)))
    for note in axes.validity_warnings(validity, model):
        print(f"warning: {note}", file=sys.stderr)


def _score(args: argparse.Namespace, labels) -> int:
    texts = _read_text_file(args.text_file)
    df = axes.score_texts(
        texts, model=args.model, labels=labels, progress=True if len(texts) > 256 else None,
        probability=args.probability,
    )  # fmt: skip
    if args.json:
        rows = [json.dumps(r, ensure_ascii=False) for r in df.to_dicts()]
        print("[" + (("\n" + ",\n".join(rows) + "\n") if rows else "") + "]")
    else:
        for row in df.iter_rows():
            print("\t".join(f"{v:+.3f}" for v in row[1:]) + f"\t{row[0]}")
    return 0


def _validity(args: argparse.Namespace, labels) -> int:
    fit = axes.fitted(labels, args.model, progress=True)
    table = axes_store.sort_validity(fit.validity)
    independent = axes.external_accuracy(args.model, labels)
    if args.json:
        out = {
            "model": model_key(args.model),
            "axes_version": fit.axis_model.axes_version,
            "labels_version": fit.axis_model.labels_version,
            "method": fit.axis_model.params,
            "flag_at": axes.FLAG_AT,
            "reference_accuracy": axes.REFERENCE_ACCURACY,
            "validity": table.to_dicts(),
            "independent": independent.to_dicts(),
        }
        print(json.dumps(out, ensure_ascii=False))
    else:
        _print_validity(pl.concat([table, independent]), model_key(args.model))
        print(
            f"  (independent set: the {independent.filter(pl.col('language') == 'all')['n'].sum()} anchor "
            "statements of the earlier axes, analysis/content/external_statements.json, never fitted on)"
        )
    return 0


def _fit(args: argparse.Namespace, labels) -> int:
    if args.write:
        fit_path, vec_path = axes.write_shipped(labels, args.model, progress=True)
        print(f"wrote {fit_path} and {vec_path}")
    fit = axes.fitted(labels, args.model, progress=True)
    m = fit.axis_model
    n = label_sets.summary(fit.labels)
    print(f"{m.model}: axes {m.axes_version} from labels {m.labels_version} ({n['len'].sum()} statements), {m.params}")
    _print_validity(axes_store.sort_validity(fit.validity), m.model)
    return 0


def _score_db(args: argparse.Namespace, labels) -> int:
    db = store.resolve_db_path(args.db)
    if not Path(db).exists():
        print(f"error: no database at {db}. Build it with `python -m analysis demo --db {db}`.", file=sys.stderr)
        return 2
    summary = axes_store.score_db(db, model=args.model, labels=labels if args.labels else None)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, default=str))
        return 0
    print(
        f"{summary['model']} / axes {summary['axes_version']}: scored {summary['scored']} texts "
        f"in {summary['seconds']:.1f} s"
        + (f"; {summary['not_embedded']} texts not embedded yet (run `python -m analysis embed`)" if summary["not_embedded"] else "")
    )  # fmt: skip
    _print_validity(pl.DataFrame(summary["validity"], schema=axes.VALIDITY_COLUMNS), summary["model"])
    return 0


COMMANDS = {"score": _score, "validity": _validity, "fit": _fit, "score-db": _score_db}


def run(args: argparse.Namespace) -> int:
    cmd = getattr(args, "axes_command", None)
    if cmd not in COMMANDS:
        print("usage: python -m analysis axes {score,validity,fit,score-db} ... (see --help)", file=sys.stderr)
        return 2
    try:
        labels = label_sets.load_labels(args.labels) if args.labels else None
        return COMMANDS[cmd](args, labels)
    except (
        label_sets.LabelError,
        LookupError,
        ModelUnavailableError,
        DeviceError,
        ValueError,
        store.DatabaseError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
