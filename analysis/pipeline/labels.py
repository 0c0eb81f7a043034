"""The labelled statements the value axes are fitted on and validated with (``analysis/content/labelled_values.jsonl``):
reading, checking, versioning, and editing them as text blocks (the Values map's editor).

One JSON object per line: ``language`` (en, fr, it, pt, hi or another code), ``pole`` (traditional, secular,
survival, self_expression; the axis follows from it), ``topic`` (the indicator it speaks to: held out whole by the
grouped cross-validation), ``register`` (``opinion``: a short opinion; ``answer``: an assistant-style answer that
leans to a pole without naming it), ``item`` (optional: statements that say the same thing in several languages
share an item, so a translation of a held-out text is never in the fit), ``source`` (optional: which separately
written set the statement belongs to; the held-out accuracy also scores each set by axes fitted on the others, an
estimate for text by other writers; a statement without one is 'added') and ``text``. A CSV with the same columns
is read as well.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from analysis import schema

DEFAULT_LABELS = Path(__file__).resolve().parent.parent / "content" / "labelled_values.jsonl"
# The 300 anchor statements of the earlier, centroid-based axes (15 per pole and language), written before this
# labelled set and never fitted on: an independent check of the fitted axes (``axes.external_accuracy``).
EXTERNAL_STATEMENTS = Path(__file__).resolve().parent.parent / "content" / "external_statements.json"
REGISTERS: tuple[str, ...] = ("opinion", "answer")
COLUMNS: dict[str, Any] = {
    "language": pl.String,
    "axis": pl.String,
    "pole": pl.String,
    "topic": pl.String,
    "register": pl.String,
    "item": pl.String,
    "source": pl.String,
    "text": pl.String,
}
MAX_TEXT_CHARS = 4000
MIN_PER_POLE = 10  # fewest statements a pole may have
MIN_TOPICS = 2  # an axis needs this many topics for the topic-held-out estimate
ADDED_TOPIC = "added"  # the topic of a statement added without one
ADDED_SOURCE = "added"  # the source of a statement added without one


class LabelError(ValueError):
    """The labelled set is malformed; the message says where and what to fix."""


def _item_of(language: str, text: str) -> str:
    return f"{language}:{hashlib.md5(text.encode('utf-8')).hexdigest()[:12]}"


def _clean_row(row: Any, where: str) -> tuple:
    if not isinstance(row, Mapping):
        raise LabelError(f"{where}: expected an object with language, pole, topic, register and text.")
    text = " ".join(str(row.get("text") or "").split())
    if not text:
        raise LabelError(f"{where}: 'text' is empty.")
    if len(text) > MAX_TEXT_CHARS:
        raise LabelError(f"{where}: the text is {len(text)} characters long; keep a statement under {MAX_TEXT_CHARS}.")
    pole = str(row.get("pole") or "").strip()
    if pole not in schema.POLES:
        raise LabelError(f"{where}: pole {pole!r} is not one of {', '.join(schema.POLES)}.")
    axis = schema.POLE_AXIS[pole][0]
    if row.get("axis") not in (None, "", axis):
        raise LabelError(f"{where}: axis {row.get('axis')!r} does not match pole {pole} (its axis is {axis}).")
    language = str(row.get("language") or "").strip().lower()
    if not language:
        raise LabelError(f"{where}: 'language' is empty (use a code such as en, fr, it, pt, hi).")
    register = str(row.get("register") or "opinion").strip().lower()
    if register not in REGISTERS:
        raise LabelError(f"{where}: register {register!r} is not one of {', '.join(REGISTERS)}.")
    topic = str(row.get("topic") or "").strip().lower() or ADDED_TOPIC
    item = str(row.get("item") or "").strip() or _item_of(language, text)
    source = str(row.get("source") or "").strip() or ADDED_SOURCE
    return language, axis, pole, topic, register, item, source, text


def _check_sizes(df: pl.DataFrame, source: str, topics: bool) -> None:
    for pole in schema.POLES:
        n = df.filter(pl.col("pole") == pole).height
        if n < MIN_PER_POLE:
            raise LabelError(f"{source}: pole {pole} has {n} statement(s); it needs at least {MIN_PER_POLE}.")
    for axis in (schema.AXIS_X, schema.AXIS_Y) if topics else ():
        n = df.filter(pl.col("axis") == axis)["topic"].n_unique()
        if n < MIN_TOPICS:
            raise LabelError(
                f"{source}: the {axis} axis has statements on {n} topic(s); held-out validity needs at least "
                f"{MIN_TOPICS} (give each statement a topic)."
            )


def validate_labels(rows: Any, source: str = "labels", topics: bool = True) -> pl.DataFrame:
    """Check labelled rows (dicts or a DataFrame) and return them as a frame with COLUMNS, one row per distinct
    text. The same text under two poles is an error; an exact repeat is kept once."""
    if isinstance(rows, pl.DataFrame):
        rows = rows.to_dicts()
    cleaned = [_clean_row(r, f"{source}, row {i + 1}") for i, r in enumerate(rows)]
    seen: dict[str, str] = {}
    out = []
    for row in cleaned:
        text, pole = row[-1], row[2]
        if text in seen:
            if seen[text] != pole:
                raise LabelError(f"{source}: the text {text[:60]!r} is labelled both {seen[text]} and {pole}.")
            continue
        seen[text] = pole
        out.append(row)
    df = pl.DataFrame(out, schema=COLUMNS, orient="row")
    _check_sizes(df, source, topics)
    return df


def _rows_from_text(raw: str, name: str) -> list[dict]:
    if name.lower().endswith(".csv"):
        return list(csv.DictReader(io.StringIO(raw)))
    rows = []
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise LabelError(f"{name}, line {lineno}: not valid JSON ({exc.msg}); one object per line.") from exc
    return rows


def parse_labels(data: bytes | str, name: str = "labels.jsonl") -> pl.DataFrame:
    """A labelled set from the bytes of a JSONL (or .csv) file."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LabelError(f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from exc
    return validate_labels(_rows_from_text(data, name), source=name)


def load_labels(path: str | Path | None = None) -> pl.DataFrame:
    """Read and check a labelled set (default: analysis/content/labelled_values.jsonl)."""
    path = Path(path) if path else DEFAULT_LABELS
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise LabelError(f"No labelled set at {path}.") from exc
    return parse_labels(raw, str(path))


def as_labels(labels: Any = None) -> pl.DataFrame:
    if labels is None:
        return load_labels()
    if isinstance(labels, (str, Path)):
        return load_labels(labels)
    return validate_labels(labels)


def labels_version(labels: Any = None) -> str:
    """A short hash of the statements and their labels (the order of the rows does not matter)."""
    df = as_labels(labels).sort(["language", "pole", "topic", "register", "item", "source", "text"])
    canon = json.dumps(df.rows(), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:12]


def labels_to_jsonl(labels: Any) -> str:
    """The labelled set as JSONL text (for export); it reads back with parse_labels."""
    df = as_labels(labels)
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in df.to_dicts())


def load_external(path: str | Path | None = None) -> pl.DataFrame:
    """The independent statements (EXTERNAL_STATEMENTS: {"poles": {pole: {language: [texts]}}}) as labelled rows
    (topic 'external', register 'opinion')."""
    data = json.loads(Path(path or EXTERNAL_STATEMENTS).read_text(encoding="utf-8"))
    rows = [
        {
            "language": lang,
            "pole": pole,
            "topic": "external",
            "register": "opinion",
            "source": "independent",
            "text": text,
        }
        for pole, by_lang in data["poles"].items()
        for lang, texts in by_lang.items()
        for text in texts
    ]
    return validate_labels(rows, source=str(path or EXTERNAL_STATEMENTS), topics=False)


def summary(labels: Any) -> pl.DataFrame:
    """Statements per language and pole (the Values map's caption, the CLI)."""
    return as_labels(labels).group_by("language", "pole").len().sort("language", "pole")


# ---- editing (the Values map's editor): one text block per pole and language, a statement per line -----------
SEPARATOR = " | "


def labels_as_text(labels: pl.DataFrame, language: str) -> dict[str, str]:
    """Per pole, one line per statement of ``language``: 'topic | register | text'."""
    part = labels.filter(pl.col("language") == language)
    return {
        pole: "\n".join(
            SEPARATOR.join((t, r, x))
            for t, r, x in part.filter(pl.col("pole") == pole).select("topic", "register", "text").iter_rows()
        )
        for pole in schema.POLES
    }


def _parse_line(line: str, language: str, pole: str, kept: Mapping[str, tuple[str, str]]) -> dict:
    parts = [p.strip() for p in line.split("|")]
    if len(parts) >= 3 and parts[1].lower() in REGISTERS:
        topic, register, text = parts[0], parts[1].lower(), "|".join(parts[2:]).strip()
    else:
        topic, register, text = ADDED_TOPIC, "opinion", line.strip()
    text = " ".join(text.split())
    item, source = kept.get(text, (None, None))
    return {"language": language, "pole": pole, "topic": topic, "register": register, "text": text,
            "item": item, "source": source}  # fmt: skip


def labels_with_text(
    labels: pl.DataFrame, language: str, texts: Mapping[str, str]
) -> tuple[pl.DataFrame, list[str], list[str]]:
    """A copy of ``labels`` with one language's statements replaced from edited text blocks (one per line:
    'topic | register | text', or the text alone for a new opinion under the topic 'added').

    Returns (labels, errors, warnings); with errors, the returned labels are the unchanged input."""
    kept = labels.filter(~((pl.col("language") == language) & pl.col("pole").is_in(list(texts))))
    known = dict(zip(labels["text"].to_list(), zip(labels["item"].to_list(), labels["source"].to_list())))
    rows = kept.to_dicts()
    warnings = []
    for pole, block in texts.items():
        lines = [ln for ln in str(block).splitlines() if ln.strip()]
        parsed = [_parse_line(ln, language, pole, known) for ln in lines]
        rows += parsed
        added = sum(1 for r in parsed if r["topic"] == ADDED_TOPIC)
        if added:
            warnings.append(
                f"{added} {schema.POLE_LABELS[pole]} statement(s) have no topic: they are held out as the topic "
                f"'{ADDED_TOPIC}'. Write 'topic | opinion | text' to put a statement under an indicator."
            )
    try:
        return validate_labels(rows, source="your edit"), [], warnings
    except LabelError as exc:
        return labels, [str(exc)], warnings
