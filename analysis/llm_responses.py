"""The LLM responses table: synthetic demo profiles, and users' own models' answers uploaded as CSV.

Table ``llm_responses(model, prompt_hash, text_hash, text, synthetic, uploaded_at)``: one row per answer of an LLM
to one of the dataset's prompts. ``text_hash`` is md5(text) (lowercase hex, as DuckDB computes it), so the
embedding cache (``analysis.embeddings``) and the axis scores (``analysis.axes``) cover these texts like any other.

Uploads (``validate_upload`` then ``load_upload``):

- a UTF-8 CSV, comma-separated, with a header holding the columns ``model``, ``prompt`` and ``response``
  (names matched case-insensitively; other columns are ignored);
- every row's prompt must be one of the dataset's prompts (the exact text, ignoring differences in whitespace),
  every response and model name non-empty, and model names must not start with ``synthetic-`` (reserved for the
  demo's synthetic profiles);
- if any row fails a check, NOTHING is loaded: the problems are listed (row number, model, prompt, problem) so the
  file can be fixed and uploaded again. Answering only some of the dataset's prompts is fine;
- exact duplicate rows are loaded once; uploading a model name that is already in the table replaces that model's
  earlier upload (in one transaction).

CLI: ``python -m analysis llm --db PATH --csv FILE [--json]`` validates, loads, embeds and scores;
``python -m analysis llm --db PATH --synthetic`` (re)writes the synthetic demo profiles.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from analysis import schema as S

TABLE = "llm_responses"
REQUIRED = ("model", "prompt", "response")
MAX_BYTES = 20 * 1024 * 1024
RESERVED_PREFIX = "synthetic-"
MAX_LISTED = 20  # problems named in the error messages (all of them are in UploadResult.problems)

CREATE_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    model VARCHAR NOT NULL,
    prompt_hash VARCHAR NOT NULL,
    text_hash VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    synthetic BOOLEAN NOT NULL,
    uploaded_at TIMESTAMP
)"""

UPLOAD_RULES = (
    "A UTF-8 CSV with the columns model, prompt, response (one row per answer; other columns are ignored). "
    "Every prompt must be one of this dataset's prompts, word for word (whitespace differences are ignored); "
    "answering only some of them is fine. Responses and model names must not be empty, and model names must not "
    "start with 'synthetic-'. If any row fails a check, nothing is loaded and the failing rows are listed, so you "
    "can fix the file and upload it again. Uploading a model name again replaces that model's earlier answers."
)


def md5_hex(text: str) -> str:
    """The text hash used everywhere (equal to DuckDB's md5() of the same string)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def normalise_prompt(text: str) -> str:
    return " ".join(str(text).split())


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(CREATE_SQL)


def table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [TABLE]).fetchall()[0]
    return bool(row and row[0])


def summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per model: n responses, n prompts, synthetic, last upload time. Empty when the table is absent."""
    if not table_exists(con):
        return pl.DataFrame(
            schema={
                "model": pl.String,
                "synthetic": pl.Boolean,
                "n_responses": pl.Int64,
                "n_prompts": pl.Int64,
                "uploaded_at": pl.Datetime,
            }
        )
    return con.sql(
        f"""SELECT model, bool_and(synthetic) AS synthetic, count(*) AS n_responses,
                   count(DISTINCT prompt_hash) AS n_prompts, max(uploaded_at) AS uploaded_at
            FROM {TABLE} GROUP BY model ORDER BY model"""
    ).pl()


# --------------------------------------------------------------------------------------------------
# Synthetic profiles
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticProfile:
    """A SYNTHETIC LLM: how often its answers take each stance on each axis (illustrative, not measured).

    ``x``: probabilities of (self_expression, neutral_x, survival); ``y``: of (secular, neutral_y, traditional).
    """

    name: str
    x: tuple[float, float, float]
    y: tuple[float, float, float]


# All lean to secular-rational and self-expression, as the research found for 21 real LLMs; each a different mix.
SYNTHETIC_PROFILES: tuple[SyntheticProfile, ...] = (
    SyntheticProfile("synthetic-model-A", x=(0.9, 0.1, 0.0), y=(0.9, 0.1, 0.0)),
    SyntheticProfile("synthetic-model-B", x=(0.95, 0.05, 0.0), y=(0.75, 0.25, 0.0)),
    SyntheticProfile("synthetic-model-C", x=(0.75, 0.25, 0.0), y=(0.95, 0.05, 0.0)),
    SyntheticProfile("synthetic-model-D", x=(0.85, 0.1, 0.05), y=(0.85, 0.1, 0.05)),
    SyntheticProfile("synthetic-model-E", x=(0.85, 0.1, 0.05), y=(0.9, 0.1, 0.0)),
)
_X_POLES = ("self_expression", "neutral_x", "survival")
_Y_POLES = ("secular", "neutral_y", "traditional")


def _prompt_index(templates: dict) -> tuple[dict[str, tuple[int, str]], list[tuple[str, int, str]]]:
    """Template prompt texts -> (topic index, language); plus (normalised first prompt, topic, language) for
    matching prompts that carry a prefix (the demo's 'own prompts')."""
    exact: dict[str, tuple[int, str]] = {}
    firsts: list[tuple[str, int, str]] = []
    for k, topic in enumerate(templates["topics"]):
        for lang in S.LANGUAGES:
            p = topic.get("prompts", {}).get(lang)
            if p:
                exact.setdefault(normalise_prompt(p), (k, lang))
                firsts.append((normalise_prompt(p), k, lang))
            for f in topic.get("followups", {}).get(lang, []) or []:
                exact.setdefault(normalise_prompt(f), (k, lang))
    return exact, firsts


def match_prompt_to_topic(text: str, templates: dict) -> tuple[int, str] | None:
    """(topic index, language) of a demo prompt text, or None when it is not from the templates."""
    exact, firsts = _prompt_index(templates)
    key = normalise_prompt(text)
    if key in exact:
        return exact[key]
    for first, k, lang in firsts:
        if key.endswith(first):
            return k, lang
    return None


SENTENCES_PER_AXIS = 2  # stance sentences per axis in one synthetic answer (LLM answers are long and consistent)


def compose_answer(
    templates: dict, topic: int, lang: str, xpoles: list[str], ypoles: list[str], rng: np.random.Generator
) -> str:
    """One synthetic answer: an opener, a topic-specific stance (when the templates have one for the answer's
    leading pole), one stance sentence per drawn pole on each axis (interleaved), a closer."""
    st = templates["stances"]
    topic_id = templates["topics"][topic].get("id")
    specific = templates.get("topic_stances", {}).get(topic_id, {})
    parts = [templates["openers"][lang][int(rng.integers(len(templates["openers"][lang])))]]
    leads = [p for p in ypoles + xpoles if not p.startswith("neutral") and p in specific and lang in specific[p]]
    if leads and rng.random() < 0.7:
        parts.append(specific[leads[int(rng.integers(len(leads)))]][lang])
    used: set[str] = set()

    def sentence(pole: str) -> str:
        pool = [t for t in st[pole][lang] if t not in used] or st[pole][lang]
        text = pool[int(rng.integers(len(pool)))]
        used.add(text)
        return text

    for yp, xp in zip(ypoles, xpoles):
        pair = [sentence(yp), sentence(xp)]
        parts.extend(pair if rng.random() < 0.5 else pair[::-1])
    parts.append(templates["closers"][lang][int(rng.integers(len(templates["closers"][lang])))])
    return " ".join(p.strip() for p in parts)


SYNTHETIC_LANGUAGES: tuple[str, ...] = ("en",)


def synthetic_frame(
    prompts: pl.DataFrame,
    templates: dict,
    seed: int = 0,
    profiles: tuple[SyntheticProfile, ...] = SYNTHETIC_PROFILES,
    all_prompts: bool = False,
    languages: tuple[str, ...] | None = SYNTHETIC_LANGUAGES,
) -> pl.DataFrame:
    """Synthetic answers of each profile to the dataset's prompts (frame with prompt_hash, text).

    By default only the pregenerated opening prompts (the template topics' prompts, word for word) in English are
    answered, one answer per profile and prompt: the paper compared LLMs on English prompts, and English is what
    the default (English-only) embedding model places reliably; it also keeps the embedding work small.
    ``languages=None`` answers in all five languages; ``all_prompts`` also answers follow-ups and the demo's 'own'
    prompts (matched to their topic). Returns model, prompt_hash, text_hash, text."""
    rng = np.random.default_rng(seed)
    exact, firsts = _prompt_index(templates)
    first_keys = {first: (k, lang) for first, k, lang in firsts}
    rows: list[tuple[str, str, str, str]] = []
    for prompt_hash, text in prompts.select("prompt_hash", "text").sort("prompt_hash").iter_rows():
        key = normalise_prompt(text)
        if all_prompts:
            hit = exact.get(key) or next(((k, lang) for first, k, lang in firsts if key.endswith(first)), None)
        else:
            hit = first_keys.get(key)
        if hit is None or (languages is not None and hit[1] not in languages):
            continue
        topic, lang = hit
        for prof in profiles:
            px = np.asarray(prof.x) / sum(prof.x)
            py = np.asarray(prof.y) / sum(prof.y)
            xpoles = [_X_POLES[int(i)] for i in rng.choice(3, size=SENTENCES_PER_AXIS, p=px)]
            ypoles = [_Y_POLES[int(i)] for i in rng.choice(3, size=SENTENCES_PER_AXIS, p=py)]
            answer = compose_answer(templates, topic, lang, xpoles, ypoles, rng)
            rows.append((prof.name, prompt_hash, md5_hex(answer), answer))
    return pl.DataFrame(
        rows,
        schema={"model": pl.String, "prompt_hash": pl.String, "text_hash": pl.String, "text": pl.String},
        orient="row",
    )


def add_synthetic_llm_responses(
    con: duckdb.DuckDBPyConnection,
    seed: int = 0,
    templates: dict | None = None,
    all_prompts: bool = False,
    languages: tuple[str, ...] | None = SYNTHETIC_LANGUAGES,
) -> int:
    """(Re)write the SYNTHETIC LLM profiles' answers to the database's prompts on a read-write connection
    (by default the pregenerated opening prompts; see :func:`synthetic_frame`).

    Replaces earlier synthetic rows (uploads are kept), in one transaction. Returns the number of rows written."""
    if templates is None:
        from analysis.demo import load_templates

        templates = load_templates()
    prompts = con.sql(f"SELECT prompt_hash, text FROM {S.T_PROMPTS}").pl()
    frame = synthetic_frame(prompts, templates, seed=seed, all_prompts=all_prompts, languages=languages)
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        ensure_table(con)
        con.execute(f"DELETE FROM {TABLE} WHERE synthetic")
        if frame.height:
            con.register("_synthetic_llm", frame.to_arrow())
            con.execute(
                f"INSERT INTO {TABLE} SELECT model, prompt_hash, text_hash, text, TRUE, ? FROM _synthetic_llm", [now]
            )
            con.unregister("_synthetic_llm")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return frame.height


# --------------------------------------------------------------------------------------------------
# Upload
# --------------------------------------------------------------------------------------------------


@dataclass
class UploadResult:
    filename: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"model": pl.String, "prompt_hash": pl.String, "text_hash": pl.String, "text": pl.String}
        )
    )
    problems: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"row": pl.Int64, "model": pl.String, "prompt": pl.String, "problem": pl.String}
        )
    )
    n_rows_read: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and self.rows.height > 0

    @property
    def models(self) -> dict[str, int]:
        if self.rows.height == 0:
            return {}
        return dict(self.rows.group_by("model").len().sort("model").iter_rows())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "filename": self.filename,
            "rows_read": self.n_rows_read,
            "rows_valid": self.rows.height if self.ok else 0,
            "models": self.models if self.ok else {},
            "errors": self.errors,
            "warnings": self.warnings,
            "problems": self.problems.head(200).to_dicts(),
        }


def _fail(result: UploadResult, message: str) -> UploadResult:
    result.errors.append(message)
    result.rows = result.rows.clear()
    return result


def _prompt_lookup(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    out: dict[str, str] = {}
    for prompt_hash, text in con.execute(
        f"SELECT prompt_hash, text FROM {S.T_PROMPTS} ORDER BY prompt_hash"
    ).fetchall():
        out.setdefault(normalise_prompt(text), prompt_hash)
    return out


def _short(text: str, n: int = 70) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def validate_upload(
    file_bytes: bytes, filename: str, con: duckdb.DuckDBPyConnection, max_bytes: int = MAX_BYTES
) -> UploadResult:
    """Check an uploaded CSV of LLM answers against the dataset's prompts. Reads only; writes nothing.

    The result is ``ok`` only when every row passes; otherwise ``errors`` says what is wrong and what to do, and
    ``problems`` lists every failing row."""
    result = UploadResult(filename=filename)
    size = len(file_bytes)
    if size > max_bytes:
        return _fail(
            result,
            f"{filename} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB. "
            "Split the file (for example one file per model) and upload the parts one by one.",
        )
    if size == 0 or not file_bytes.strip():
        return _fail(
            result, f"{filename} is empty. Upload a CSV with a header row model,prompt,response and one row per answer."
        )
    try:
        text = file_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = file_bytes[: exc.start].count(b"\n") + 1
        return _fail(
            result,
            f"{filename} is not UTF-8 text (byte {exc.start}, line {line}: {file_bytes[exc.start : exc.start + 4]!r}). "
            "Save it as UTF-8 (in Excel: 'CSV UTF-8'; in pandas: to_csv(..., encoding='utf-8')) and upload it again.",
        )
    if "\x00" in text:
        return _fail(result, f"{filename} holds NUL bytes, so it is not a text CSV. Export it as a UTF-8 CSV.")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return _fail(result, f"{filename} could not be read as CSV ({exc}). Check its quoting, then upload it again.")
    records = [r for r in records if any(c.strip() for c in r)]  # blank lines
    if not records:
        return _fail(
            result, f"{filename} is empty. Upload a CSV with a header row model,prompt,response and one row per answer."
        )
    header = [h.strip().lower() for h in records[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in records[0][0] for sep in (";", "\t", "|")):
            hint = " The header looks separated by ';', tab or '|': the file must be comma-separated."
        found = ", ".join(repr(h) for h in header) or "nothing"
        return _fail(
            result,
            f"{filename} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(found: {found}). The header row must name model, prompt and response.{hint}",
        )
    dup_cols = sorted({c for c in REQUIRED if header.count(c) > 1})
    if dup_cols:
        return _fail(
            result,
            f"{filename} has the column{'s' if len(dup_cols) > 1 else ''} {', '.join(dup_cols)} more than once; keep one of each.",
        )
    extra = [h for h in header if h not in REQUIRED]
    if extra:
        result.warnings.append(f"Ignored column{'s' if len(extra) > 1 else ''}: {', '.join(extra)}.")
    body = records[1:]
    result.n_rows_read = len(body)
    if not body:
        return _fail(result, f"{filename} has a header but no rows. Add one row per answer (model, prompt, response).")

    idx = {c: header.index(c) for c in REQUIRED}
    lookup = _prompt_lookup(con)
    problems: list[tuple[int, str, str, str]] = []
    good: list[tuple[str, str, str, str]] = []
    # Data rows are numbered as a spreadsheet shows them: the header is row 1.
    for i, rec in enumerate(body, start=2):
        if len(rec) != len(header):
            problems.append(
                (i, "", "", f"has {len(rec)} fields, the header has {len(header)} (check quoting of commas)")
            )
            continue
        model = rec[idx["model"]].strip()
        prompt = rec[idx["prompt"]]
        response = rec[idx["response"]].strip()
        row_problems = []
        if not model:
            row_problems.append("empty model name")
        elif model.lower().startswith(RESERVED_PREFIX):
            row_problems.append(
                f"model names starting with '{RESERVED_PREFIX}' are reserved for the demo's synthetic profiles"
            )
        prompt_hash = lookup.get(normalise_prompt(prompt)) if prompt.strip() else None
        if not prompt.strip():
            row_problems.append("empty prompt")
        elif prompt_hash is None:
            row_problems.append("prompt is not one of this dataset's prompts")
        if not response:
            row_problems.append("empty response")
        if row_problems:
            problems.append((i, model, _short(prompt), "; ".join(row_problems)))
        else:
            good.append((model, prompt_hash, md5_hex(response), response))

    result.problems = pl.DataFrame(problems, schema=result.problems.schema, orient="row")
    if problems:
        kinds: dict[str, list[int]] = {}
        for row, _, _, problem in problems:
            for p in problem.split("; "):
                kinds.setdefault(p, []).append(row)
        for kind, rows in kinds.items():
            listed = ", ".join(str(r) for r in rows[:MAX_LISTED]) + (
                f" and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
            )
            result.errors.append(
                f"{len(rows)} row{'s' if len(rows) > 1 else ''}: {kind} (row{'s' if len(rows) > 1 else ''} {listed})."
            )
        unknown = [p for _, _, p, pr in problems if "not one of this dataset's prompts" in pr]
        if unknown:
            names = "; ".join(f"'{p}'" for p in list(dict.fromkeys(unknown))[:5])
            result.errors.append(
                f"Unknown prompts include {names}. Copy the prompts exactly from the dataset (the Values map page offers them as a CSV to fill in; or query the prompts table)."
            )
        result.errors.append(
            f"Nothing was loaded from {filename}: fix the {len(problems)} listed row{'s' if len(problems) > 1 else ''} and upload the file again."
        )
        return result

    frame = pl.DataFrame(good, schema=result.rows.schema, orient="row")
    deduped = frame.unique(maintain_order=True)
    if deduped.height < frame.height:
        result.warnings.append(f"{frame.height - deduped.height} exact duplicate row(s) will be loaded once.")
    result.rows = deduped
    if table_exists(con):
        existing = {m for (m,) in con.execute(f"SELECT DISTINCT model FROM {TABLE} WHERE NOT synthetic").fetchall()}
        again = sorted(existing & set(deduped["model"].unique().to_list()))
        if again:
            result.warnings.append(f"Already in the database, will be replaced by this upload: {', '.join(again)}.")
    return result


def load_upload(db_path: str | Path, result: UploadResult) -> int:
    """Write a validated upload (synthetic = false) in one transaction through a short-lived read-write connection.

    The caller must close any other connection to the file first (DuckDB allows one writer and no readers
    alongside it). A model already uploaded is replaced. Returns the number of rows written."""
    if not result.ok:
        raise ValueError("this upload did not pass validation; nothing was loaded: " + " ".join(result.errors))
    con = duckdb.connect(str(db_path))
    try:
        now = datetime.now(UTC).replace(tzinfo=None)
        con.execute("BEGIN TRANSACTION")
        try:
            ensure_table(con)
            models = result.rows["model"].unique().to_list()
            con.execute(f"DELETE FROM {TABLE} WHERE NOT synthetic AND model IN (SELECT unnest(?::VARCHAR[]))", [models])
            con.register("_upload", result.rows.to_arrow())
            con.execute(f"INSERT INTO {TABLE} SELECT model, prompt_hash, text_hash, text, FALSE, ? FROM _upload", [now])
            con.unregister("_upload")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return result.rows.height


def embed_and_score(
    db_path: str | Path,
    model: str | None = None,
    progress: Callable[[str], None] | None = None,
    embed_progress: Any = None,
) -> dict[str, Any]:
    """After a load: embed what is new (the cache skips every text already embedded), score it on the value axes,
    and place it on the stored UMAP map when there is one. Imports the heavy libraries only here."""
    from analysis import axes, embeddings

    say = progress or (lambda _msg: None)
    say("Embedding the new texts (texts already embedded are taken from the cache)…")
    embed_out = embeddings.embed_db(db_path, model=model, progress=embed_progress)
    say("Scoring them on the value axes…")
    score_out = axes.score_db(db_path, model=model, progress=None)
    placed = None
    try:
        from analysis import projection

        con = duckdb.connect(str(db_path), read_only=True)
        try:
            has_projection = projection.load_projection(con, model).height > 0
        finally:
            con.close()
        if has_projection:
            say("Placing them on the stored UMAP map (transform, no refit)…")
            placed = projection.project_db(db_path, model=model, progress=None)
    except (ImportError, AttributeError, TypeError) as exc:  # projection module missing or another API
        placed = f"not placed on the UMAP map: {exc}"
    return {"embed": _jsonable(embed_out), "score": _jsonable(score_out), "project": _jsonable(placed)}


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


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------


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
    from analysis import store

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
            out["pipeline"] = embed_and_score(
                db_path, model=args.model, progress=say, embed_progress=None if args.json else True
            )
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


def prompts_template_csv(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> bytes:
    """A CSV to fill in: the dataset's prompts (most answered first) with empty model and response columns.
    Uploading it unfilled fails validation (empty responses), so nothing placeholder-like is ever loaded."""
    sql = f"SELECT text FROM {S.T_PROMPTS} ORDER BY n_comparisons DESC, prompt_hash"
    if limit:
        sql += f" LIMIT {int(limit)}"
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(REQUIRED)
    for (text,) in con.execute(sql).fetchall():
        w.writerow(["", text, ""])
    return buf.getvalue().encode("utf-8")
