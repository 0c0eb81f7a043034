"""python -m analysis ingest: load the release (a local .csv, .csv.gz or .parquet file, or the hub) into DuckDB.

Exit codes: 0 loaded; 2 refused before anything was built (bad source, unusable --db) or a failed build;
3 the hub cannot be reached; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). Whatever happens, one line on
stderr (and one JSON object on stdout with --json), and the previous database is left as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
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


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so the build stops and its temporary files are removed."""


STOPPED = {
    signal.SIGINT: (130, "interrupted (Ctrl-C)"),
    signal.SIGTERM: (143, "terminated (SIGTERM)"),
}


@contextlib.contextmanager
def _stop_on_signals(received: list[int]):
    """Ctrl-C and SIGTERM stop the build with an exception (which removes the temporary files), and are recorded:
    DuckDB turns the exception into its own "Query interrupted" error, so the record says what happened."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated()

    previous = {sig: signal.signal(sig, stop) for sig in STOPPED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    if args.json:
        print(json.dumps({"error": message, "exit_code": code}))
    print(f"error: {message}", file=sys.stderr)
    return code


def _ingest(args: argparse.Namespace):
    if args.source == "hf":
        source, kind = download_from_hub(args.split), "hf"
    else:
        source, kind = Path(args.source), None
    return ingest(source, args.db, source_kind=kind, progress=not args.json and sys.stderr.isatty())


def run(args: argparse.Namespace) -> int:
    received: list[int] = []
    try:
        with _stop_on_signals(received):
            result = _ingest(args)
    except BaseException as exc:
        if received:
            code, what = STOPPED[received[0]]
            return _fail(args, f"{what}: nothing was changed and the temporary files were removed.", code)
        if isinstance(exc, IngestError):
            return _fail(args, str(exc), exc.code)
        raise
    if args.json:
        print(json.dumps({**result.summary, "db": str(result.db_path), "seconds": round(result.seconds, 3)}))
    else:
        print_summary(result.summary, result.db_path, result.seconds)
    return 0
