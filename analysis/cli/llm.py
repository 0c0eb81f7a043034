"""python -m analysis llm: load a CSV of LLM answers (model, prompt, response), or the synthetic demo profiles, then
embed, score and place them (the pipeline's steps, without fitting a new map)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from analysis import store
from analysis.pipeline.llm_synthetic import SYNTHETIC_PROFILES, add_synthetic_llm_responses
from analysis.pipeline.llm_upload import MAX_BYTES, UPLOAD_RULES, load_upload, validate_upload
from analysis.pipeline.steps import run_steps


def _jsonable(obj: Any) -> Any:
    if obj is None or isinstance(obj, (int, float, str, bool)):
        return obj
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "__dict__"):
        return {k: _jsonable(v) for k, v in vars(obj).items() if not k.startswith("_")}
    return str(obj)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="the DuckDB database (default: $CAE_DB, else data/demo.duckdb)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--csv", help="a UTF-8 CSV with columns model, prompt, response (answers to the dataset's prompts)"
    )
    src.add_argument("--synthetic", action="store_true", help="(re)write the SYNTHETIC demo LLM profiles instead")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic profiles' answers")
    p.add_argument("--model", help="embedding model (name or path; default: the project's default model)")
    p.add_argument(
        "--no-embed", action="store_true", help="load only; embed and score later with `embed` and `axes score-db`"
    )
    p.add_argument("--max-mb", type=float, default=MAX_BYTES / 1e6, help="largest CSV accepted, in MB")
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome")
    p.epilog = UPLOAD_RULES


def run(args: argparse.Namespace) -> int:
    db_path = store.resolve_db_path(args.db)
    out: dict[str, Any] = {"db": str(db_path)}
    try:
        if args.synthetic:
            con = store.connect(db_path, read_only=False)
            try:
                out["synthetic_rows"] = add_synthetic_llm_responses(con, seed=args.seed)
                con.execute("CHECKPOINT")
            finally:
                con.close()
            out["ok"] = True
        else:
            path = Path(args.csv)
            if not path.is_file():
                out.update(ok=False, errors=[f"No file at {path}."])
                return _report(out, args.json, 2)
            con = store.connect(db_path, read_only=True)
            try:
                result = validate_upload(path.read_bytes(), path.name, con, max_bytes=int(args.max_mb * 1e6))
            finally:
                con.close()
            out.update(result.to_dict())
            if not result.ok:
                return _report(out, args.json, 1)
            out["loaded"] = load_upload(db_path, result)
        if not args.no_embed:
            say = None if args.json else (lambda m: print(m, file=sys.stderr))
            steps = run_steps(
                db_path, model=args.model, progress=say, embed_progress=None if args.json else True, fit_map=False
            )
            out["pipeline"] = _jsonable(steps)
    except store.DatabaseError as exc:
        out.update(ok=False, errors=[str(exc)])
        return _report(out, args.json, 2)
    return _report(out, args.json, 0)


def _report(out: dict[str, Any], as_json: bool, code: int) -> int:
    if as_json:
        print(json.dumps(out, ensure_ascii=False, default=str))
        return code
    if out.get("ok") is False:
        for e in out.get("errors", []):
            print(f"error: {e}", file=sys.stderr)
        for w in out.get("warnings", []):
            print(f"note: {w}", file=sys.stderr)
        return code
    for w in out.get("warnings", []):
        print(f"note: {w}")
    if "synthetic_rows" in out:
        print(
            f"Wrote {out['synthetic_rows']} SYNTHETIC LLM answers (profiles {', '.join(p.name for p in SYNTHETIC_PROFILES)}) to {out['db']}."
        )
    if "loaded" in out:
        models = ", ".join(f"{m} ({n})" for m, n in out.get("models", {}).items())
        print(f"Loaded {out['loaded']} answers into {out['db']}: {models}.")
    if "pipeline" in out:
        print("Embedded and scored; the Values map shows them.")
    return code
