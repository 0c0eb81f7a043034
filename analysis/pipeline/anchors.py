"""Anchor statements: the labelled texts that define the four poles of the Inglehart-Welzel axes, in five languages
(``analysis/content/anchors.json``), their validation, version, and editing as text blocks (the Values map's editor).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from analysis import schema

DEFAULT_ANCHORS = Path(__file__).resolve().parent.parent / "content" / "anchors.json"
MIN_PER_POLE = 2  # fewest anchors a pole may have (leave-one-out needs one left)
MAX_STATEMENT_CHARS = 2000
MIN_EDITED = 3  # fewest statements per pole an edit may leave
RECOMMENDED_EDITED = 12  # the project's sets hold at least this many per pole and language


class AnchorError(ValueError):
    """The anchor set is malformed; the message says where and what to fix."""


# --------------------------------------------------------------------------------------------------
# Anchors
# --------------------------------------------------------------------------------------------------


def validate_anchors(data: Any, source: str = "anchors") -> dict:
    """Check an anchor set and return it normalised: {"version": str, "poles": {pole: {lang: [statements]}}}."""
    if not isinstance(data, dict):
        raise AnchorError(f"{source}: expected a JSON object with 'version' and 'poles', got {type(data).__name__}.")
    poles = data.get("poles")
    if not isinstance(poles, dict):
        raise AnchorError(
            f"{source}: missing 'poles' (an object mapping each of {', '.join(schema.POLES)} to "
            "{language code: [statements]})."
        )
    unknown = sorted(set(poles) - set(schema.POLES))
    if unknown:
        raise AnchorError(f"{source}: unknown pole(s) {unknown}; the poles are {', '.join(schema.POLES)}.")
    missing = [p for p in schema.POLES if p not in poles]
    if missing:
        raise AnchorError(
            f"{source}: pole(s) {missing} are missing; every one of {', '.join(schema.POLES)} needs statements."
        )
    out: dict[str, dict[str, list[str]]] = {}
    for pole in schema.POLES:
        by_lang = poles[pole]
        if not isinstance(by_lang, dict):
            raise AnchorError(f"{source}: poles.{pole} must map language codes to lists of statements.")
        out[pole] = {}
        for lang, statements in by_lang.items():
            if not isinstance(lang, str) or not lang.strip():
                raise AnchorError(f"{source}: poles.{pole} has an empty language code.")
            if not isinstance(statements, list):
                raise AnchorError(f"{source}: poles.{pole}.{lang} must be a list of statements (strings).")
            clean = []
            for i, s in enumerate(statements):
                if not isinstance(s, str) or not s.strip():
                    raise AnchorError(f"{source}: poles.{pole}.{lang}[{i}] is empty or not a string.")
                if len(s) > MAX_STATEMENT_CHARS:
                    raise AnchorError(
                        f"{source}: poles.{pole}.{lang}[{i}] is {len(s)} characters long; keep a statement under "
                        f"{MAX_STATEMENT_CHARS}."
                    )
                clean.append(" ".join(s.split()))
            if clean:
                out[pole][lang.strip()] = clean
        n = sum(len(v) for v in out[pole].values())
        if n < MIN_PER_POLE:
            raise AnchorError(
                f"{source}: pole {pole} has {n} statement(s); it needs at least {MIN_PER_POLE} "
                "(the project's sets hold at least 12 per language)."
            )
    version = data.get("version", "")
    return {"version": str(version), "poles": out}


def load_anchors(path: str | Path | None = None) -> dict:
    """Read and validate an anchor file (default: analysis/content/anchors.json)."""
    path = Path(path) if path else DEFAULT_ANCHORS
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise AnchorError(f"No anchor file at {path}.") from exc
    except UnicodeDecodeError as exc:
        raise AnchorError(f"{path} is not UTF-8 text ({exc}); save it as UTF-8 JSON.") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AnchorError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from exc
    return validate_anchors(data, source=str(path))


def as_anchors(anchors: Any) -> dict:
    if anchors is None:
        return load_anchors()
    if isinstance(anchors, (str, Path)):
        return load_anchors(anchors)
    return validate_anchors(anchors)


def anchors_version(anchors: Any = None) -> str:
    """A short hash of the anchor statements: edited sets get their own version."""
    poles = as_anchors(anchors)["poles"]
    canon = json.dumps(poles, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:12]


def anchor_rows(anchors: Any = None) -> pl.DataFrame:
    """One row per statement: pole, language, index (its position in that pole's list for that language:
    statements with the same language and index on the two poles of an axis form a topic pair), text."""
    poles = as_anchors(anchors)["poles"]
    rows = [(p, l, i, t) for p in schema.POLES for l, ts in poles[p].items() for i, t in enumerate(ts)]
    return pl.DataFrame(
        rows, schema={"pole": pl.String, "language": pl.String, "index": pl.Int64, "text": pl.String}, orient="row"
    )


def anchors_to_json(anchors: Any) -> str:
    """The anchor set as JSON text (for export)."""
    a = as_anchors(anchors)
    return json.dumps({"version": a["version"], "poles": a["poles"]}, ensure_ascii=False, indent=2)


# ---- editing (the Values map's anchor editor) ------------------------------------------------------------------
def anchors_digest(anchors: dict | None) -> str:
    """A short stable key for an anchor set (for caches and labels)."""
    if anchors is None:
        return "stored"
    return hashlib.md5(json.dumps(anchors, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:10]


def anchors_as_text(anchors: dict, language: str) -> dict[str, str]:
    """One text block per pole for one language: a statement per line (for editing)."""
    poles = anchors.get("poles", anchors)
    return {p: "\n".join(poles.get(p, {}).get(language, [])) for p in schema.POLES}


def anchors_with_text(anchors: dict, language: str, texts: Mapping[str, str]) -> tuple[dict, list[str], list[str]]:
    """A copy of ``anchors`` with one language's statements replaced from edited text blocks (one per line).

    Returns (anchors, errors, warnings). With errors, the returned anchors are the unchanged input."""
    errors: list[str] = []
    warnings: list[str] = []
    out = copy.deepcopy(anchors)
    poles = out.setdefault("poles", {})
    lname = schema.LANGUAGE_NAMES.get(language, language)
    for pole in schema.POLES:
        if pole not in texts:
            continue
        lines = [ln.strip() for ln in str(texts[pole]).splitlines() if ln.strip()]
        lines = list(dict.fromkeys(lines))
        label = schema.POLE_LABELS[pole]
        if len(lines) < MIN_EDITED:
            errors.append(f"{label} ({lname}) has {len(lines)} statement(s); give at least {MIN_EDITED}, one per line.")
        elif len(lines) < RECOMMENDED_EDITED:
            warnings.append(
                f"{label} ({lname}) has {len(lines)} statements; the project's sets hold at least {RECOMMENDED_EDITED}, and fewer make the axis noisier."
            )
        poles.setdefault(pole, {})[language] = lines
    if errors:
        return anchors, errors, warnings
    out["version"] = f"edited-{anchors_digest(out)}"
    return out, errors, warnings
