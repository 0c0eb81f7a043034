"""Users' own models' answers to the dataset's prompts, uploaded as CSV into ``llm_responses``.

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

CLI: ``python -m analysis llm --db PATH --csv FILE [--json]`` validates, loads, embeds and scores (``analysis.cli.llm``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from analysis import schema, store
from analysis.pipeline.llm_synthetic import RESERVED_PREFIX
from analysis.pipeline.llm_table import TABLE, ensure_table, table_exists
from analysis.text import clean_text, md5_hex, normalise_space, truncate

REQUIRED = ("model", "prompt", "response")
MAX_BYTES = 20 * 1024 * 1024
MAX_LISTED = 20  # problems named in the error messages (all of them are in UploadResult.problems)

UPLOAD_RULES = (
    "A UTF-8 CSV with the columns model, prompt, response (one row per answer; other columns are ignored). "
    "Every prompt must be one of this dataset's prompts, word for word (whitespace differences are ignored); "
    "answering only some of them is fine. Responses and model names must not be empty, and model names must not "
    "start with 'synthetic-'. If any row fails a check, nothing is loaded and the failing rows are listed, so you "
    "can fix the file and upload it again. Uploading a model name again replaces that model's earlier answers."
)


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
        f"SELECT prompt_hash, text FROM {schema.T_PROMPTS} ORDER BY prompt_hash"
    ).fetchall():
        out.setdefault(normalise_space(text), prompt_hash)
    return out


def _short(text: str, n: int = 70) -> str:
    return truncate(text, n)


def _s(n: int) -> str:
    return "s" if n != 1 else ""


class _Refused(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


def _records(file_bytes: bytes, filename: str, max_bytes: int) -> list[list[str]]:
    """The file's non-blank CSV records, or _Refused saying why it cannot be read."""
    size = len(file_bytes)
    if size > max_bytes:
        raise _Refused(
            f"{filename} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB. "
            "Split the file (for example one file per model) and upload the parts one by one."
        )
    empty = f"{filename} is empty. Upload a CSV with a header row model,prompt,response and one row per answer."
    if size == 0 or not file_bytes.strip():
        raise _Refused(empty)
    try:
        text = file_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = file_bytes[: exc.start].count(b"\n") + 1
        raise _Refused(
            f"{filename} is not UTF-8 text (byte {exc.start}, line {line}: {file_bytes[exc.start : exc.start + 4]!r}). "
            "Save it as UTF-8 (in Excel: 'CSV UTF-8'; in pandas: to_csv(..., encoding='utf-8')) and upload it again."
        ) from None
    if "\x00" in text:
        raise _Refused(f"{filename} holds NUL bytes, so it is not a text CSV. Export it as a UTF-8 CSV.")
    records = [r for r in _parse(text, filename) if any(c.strip() for c in r)]  # blank lines
    if not records:
        raise _Refused(empty)
    return records


def _parse(text: str, filename: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return list(reader)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            limit = csv.field_size_limit()
            raise _Refused(
                f"{filename}: a field that ends on line {reader.line_num:,} is longer than {limit:,} characters, the "
                f"longest a field (a model name, prompt or response) may be. Shorten that answer and upload the file "
                "again. (If no answer is that long, a quote that is never closed has joined the lines after it "
                "into one field.)"
            ) from None
        raise _Refused(
            f"{filename} could not be read as CSV ({exc}, line {reader.line_num:,}). Check its quoting, then "
            "upload it again."
        ) from None


def _header(records: list[list[str]], filename: str) -> tuple[list[str], list[str]]:
    """(the lower-cased header, warnings), or _Refused when a required column is missing or repeated."""
    header = [h.strip().lower() for h in records[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in records[0][0] for sep in (";", "\t", "|")):
            hint = " The header looks separated by ';', tab or '|': the file must be comma-separated."
        found = ", ".join(repr(h) for h in header) or "nothing"
        raise _Refused(
            f"{filename} lacks the column{_s(len(missing))} {', '.join(missing)} "
            f"(found: {found}). The header row must name model, prompt and response.{hint}"
        )
    dup_cols = sorted({c for c in REQUIRED if header.count(c) > 1})
    if dup_cols:
        raise _Refused(
            f"{filename} has the column{_s(len(dup_cols))} {', '.join(dup_cols)} more than once; keep one of each."
        )
    extra = [h for h in header if h not in REQUIRED]
    return header, ([f"Ignored column{_s(len(extra))}: {', '.join(extra)}."] if extra else [])


def _row_problems(model: str, prompt: str, prompt_hash: str | None, response: str) -> list[str]:
    out = []
    if not model:
        out.append("empty model name")
    elif model.lower().startswith(RESERVED_PREFIX):
        out.append(f"model names starting with '{RESERVED_PREFIX}' are reserved for the demo's synthetic profiles")
    if not prompt.strip():
        out.append("empty prompt")
    elif prompt_hash is None:
        out.append("prompt is not one of this dataset's prompts")
    if not response:
        out.append("empty response")
    return out


def _check_rows(body: list[list[str]], header: list[str], lookup: dict[str, str]) -> tuple[list, list]:
    """(problems: (row, model, prompt, problem), good: (model, prompt_hash, text_hash, text)). Rows are numbered as
    a spreadsheet shows them: the header is row 1."""
    idx = {c: header.index(c) for c in REQUIRED}
    problems: list[tuple[int, str, str, str]] = []
    good: list[tuple[str, str, str, str]] = []
    for i, rec in enumerate(body, start=2):
        if len(rec) != len(header):
            problems.append(
                (i, "", "", f"has {len(rec)} fields, the header has {len(header)} (check quoting of commas)")
            )
            continue
        # Cleaned as the ingest cleans candidates, so an answer with and without an end-of-text token is one text.
        model, prompt, response = (
            rec[idx["model"]].strip(),
            clean_text(rec[idx["prompt"]]),
            clean_text(rec[idx["response"]]),
        )
        prompt_hash = lookup.get(normalise_space(prompt)) if prompt else None
        found = _row_problems(model, prompt, prompt_hash, response)
        if found:
            problems.append((i, model, _short(prompt), "; ".join(found)))
        else:
            good.append((model, prompt_hash, md5_hex(response), response))
    return problems, good


def _problem_messages(problems: list[tuple[int, str, str, str]], filename: str) -> list[str]:
    """One error per kind of problem with the rows it affects, the unknown prompts named, and what to do."""
    kinds: dict[str, list[int]] = {}
    for row, _, _, problem in problems:
        for p in problem.split("; "):
            kinds.setdefault(p, []).append(row)
    errors = []
    for kind, rows in kinds.items():
        more = f" and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
        listed = ", ".join(str(r) for r in rows[:MAX_LISTED]) + more
        errors.append(f"{len(rows)} row{_s(len(rows))}: {kind} (row{_s(len(rows))} {listed}).")
    unknown = [p for _, _, p, pr in problems if "not one of this dataset's prompts" in pr]
    if unknown:
        names = "; ".join(f"'{p}'" for p in list(dict.fromkeys(unknown))[:5])
        errors.append(
            f"Unknown prompts include {names}. Copy the prompts exactly from the dataset (the Values map page offers "
            "them as a CSV to fill in; or query the prompts table)."
        )
    errors.append(
        f"Nothing was loaded from {filename}: fix the {len(problems)} listed row{_s(len(problems))} and upload "
        "the file again."
    )
    return errors


def _uploaded_models(con: duckdb.DuckDBPyConnection) -> set[str]:
    if not table_exists(con):
        return set()
    return {m for (m,) in con.execute(f"SELECT DISTINCT model FROM {TABLE} WHERE NOT synthetic").fetchall()}


def validate_upload(
    file_bytes: bytes, filename: str, con: duckdb.DuckDBPyConnection, max_bytes: int = MAX_BYTES
) -> UploadResult:
    """Check an uploaded CSV of LLM answers against the dataset's prompts. Reads only; writes nothing.

    The result is ``ok`` only when every row passes; otherwise ``errors`` says what is wrong and what to do, and
    ``problems`` lists every failing row."""
    result = UploadResult(filename=filename)
    try:
        records = _records(file_bytes, filename, max_bytes)
        header, warnings = _header(records, filename)
    except _Refused as exc:
        return _fail(result, str(exc))
    result.warnings.extend(warnings)
    body = records[1:]
    result.n_rows_read = len(body)
    if not body:
        return _fail(result, f"{filename} has a header but no rows. Add one row per answer (model, prompt, response).")
    problems, good = _check_rows(body, header, _prompt_lookup(con))
    result.problems = pl.DataFrame(problems, schema=result.problems.schema, orient="row")
    if problems:
        result.errors.extend(_problem_messages(problems, filename))
        return result
    frame = pl.DataFrame(good, schema=result.rows.schema, orient="row")
    result.rows = frame.unique(maintain_order=True)
    if result.rows.height < frame.height:
        result.warnings.append(f"{frame.height - result.rows.height} exact duplicate row(s) will be loaded once.")
    again = sorted(_uploaded_models(con) & set(result.rows["model"].unique().to_list()))
    if again:
        result.warnings.append(f"Already in the database, will be replaced by this upload: {', '.join(again)}.")
    return result


def load_upload(db_path: str | Path, result: UploadResult) -> int:
    """Write a validated upload (synthetic = false) in one transaction through a short-lived read-write connection.

    The caller must close any other connection to the file first (DuckDB allows one writer and no readers
    alongside it); when another process holds it, store.DatabaseLocked says which and what to do. A model already
    uploaded is replaced. Returns the number of rows written."""
    if not result.ok:
        raise ValueError("this upload did not pass validation; nothing was loaded: " + " ".join(result.errors))
    con = store.connect(db_path, read_only=False)  # DatabaseLocked names what holds the file
    try:
        now = datetime.now(UTC).replace(tzinfo=None)
        models = result.rows["model"].unique().to_list()
        con.register("_upload", result.rows.to_arrow())
        with store.transaction(con):
            ensure_table(con)
            con.execute(f"DELETE FROM {TABLE} WHERE NOT synthetic AND model IN (SELECT unnest(?::VARCHAR[]))", [models])
            con.execute(f"INSERT INTO {TABLE} SELECT model, prompt_hash, text_hash, text, FALSE, ? FROM _upload", [now])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return result.rows.height


def prompts_template_csv(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> bytes:
    """A CSV to fill in: the dataset's prompts (most answered first) with empty model and response columns.
    Uploading it unfilled fails validation (empty responses), so nothing placeholder-like is ever loaded."""
    sql = f"SELECT text FROM {schema.T_PROMPTS} ORDER BY n_comparisons DESC, prompt_hash"
    if limit:
        sql += f" LIMIT {int(limit)}"
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(REQUIRED)
    for (text,) in con.execute(sql).fetchall():
        w.writerow(["", text, ""])
    return buf.getvalue().encode("utf-8")
