"""Text as the explorer shows it: special tokens that some released responses still carry removed, whitespace
collapsed for one-line previews."""

from __future__ import annotations

import hashlib
import re

import polars as pl

# End-of-text and chat-template tokens that some released responses still carry (e.g. <|end_of_text|>).
SPECIAL_TOKENS = r"<\|[A-Za-z0-9_]+\|>|</s>|<s>|\[/?INST\]"
_SPECIAL_TOKENS_RE = re.compile(SPECIAL_TOKENS)


def clean_text(text: str | None) -> str:
    """Text for display: special tokens removed, surrounding whitespace trimmed."""
    if text is None:
        return ""
    return _SPECIAL_TOKENS_RE.sub("", text).strip()


def clean_text_expr(column: str) -> pl.Expr:
    """The same cleaning as a Polars expression (vectorised, for whole columns)."""
    return pl.col(column).str.replace_all(SPECIAL_TOKENS, "").str.strip_chars().alias(column)


def truncate(text: str | None, max_chars: int = 160) -> str:
    """One line of at most ``max_chars`` characters (whitespace collapsed, an ellipsis when cut)."""
    if text is None:
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def md5_hex(text: str) -> str:
    """The text hash used everywhere (equal to DuckDB's md5() of the same string)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def normalise_space(text: str) -> str:
    """Whitespace runs collapsed to one space and trimmed (how uploaded prompts are matched to the dataset's)."""
    return " ".join(str(text).split())
