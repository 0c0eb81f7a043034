"""Text as the explorer stores and shows it: special tokens that some released responses still carry removed (at
ingest, before hashing, so an answer with and without a token is one text), spellings folded to a key, hashes,
one-line previews."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import polars as pl

# End-of-sequence and chat-template tokens that some released responses still carry, removed at ingest:
# <|end_of_text|>, <|eot_id|>, <|endoftext|>, <|im_end|>, <|im_start|> and any other <|name|>; </s> and <s>;
# [INST] and [/INST]; <eos> and <bos>; <end_of_turn> and <start_of_turn>. The pattern is RE2- and Python-compatible
# (DuckDB runs it at ingest, Python on uploads and display).
SPECIAL_TOKENS = r"<\|[A-Za-z0-9_]+\|>|</?s>|\[/?INST\]|<(?:eos|bos|end_of_turn|start_of_turn)>"
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


_MARKDOWN_MARKS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern, re.M), repl)
    for pattern, repl in (
        (r"!?\[([^\]]*)\]\([^)]*\)", r"\1"),  # images and links -> their text
        (r"^ {0,3}#{1,6}[ \t]+", ""),  # header marks
        (r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+", ""),  # list marks
        (r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", ""),  # table rules
        (r"\*\*|__|~~|`+|(?<!\w)[*_]|[*_](?!\w)", ""),  # emphasis and code marks (snake_case kept)
        (r"[ \t]*\|[ \t]*", " · "),  # table cells
    )
)


def markdown_label(text: str | None, max_chars: int = 60) -> str:
    """A Markdown text as a one-line plain label (charts, lists): marks removed, links and images as their text."""
    if text is None:
        return ""
    for pattern, repl in _MARKDOWN_MARKS:
        text = pattern.sub(repl, text)
    return truncate(text.strip(" ·"), max_chars)


def md5_hex(text: str) -> str:
    """The text hash used everywhere (equal to DuckDB's md5() of the same string)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def normalise_space(text: str) -> str:
    """Whitespace runs collapsed to one space and trimmed (how uploaded prompts are matched to the dataset's)."""
    return " ".join(str(text).split())


def spelling_key(text: str | None) -> str:
    """How a spelling of a country or language is compared: lower case, only its letters, marks and digits (spaces,
    dots and hyphens dropped, so "U.S.A.", "u s a" and "USA" are one key; accents kept). ``spelling_key_sql`` does
    the same in DuckDB."""
    if text is None:
        return ""
    return "".join(ch for ch in str(text).lower() if unicodedata.category(ch)[0] in "LMN")


def spelling_key_sql(column: str) -> str:
    """The same key as :func:`spelling_key`, as a DuckDB expression over ``column``."""
    return f"regexp_replace(lower({column}), '[^\\p{{L}}\\p{{M}}\\p{{N}}]+', '', 'g')"


# What Python's str.strip() removes, as an RE2 class (DuckDB's trim() removes only spaces).
_EDGE_SPACE = r"[\s\v\x{1c}-\x{1f}\x{85}\p{Z}]"
# Every special token holds one of these; texts without them skip the token pattern (most texts, at ingest speed).
TOKEN_MARKERS = ("<", "INST]")


def _may_hold_token_sql(column: str) -> str:
    return "(" + " OR ".join(f"contains({column}, '{m}')" for m in TOKEN_MARKERS) + ")"


def _edge_trim_sql(expr: str) -> str:
    """Surrounding whitespace removed, with two anchored patterns (RE2 runs an end-anchored one backwards)."""
    return f"regexp_replace(regexp_replace({expr}, '^{_EDGE_SPACE}+', ''), '{_EDGE_SPACE}+$', '')"


def clean_text_sql(column: str) -> str:
    """:func:`clean_text` as a DuckDB expression over ``column``: special tokens removed, surrounding whitespace
    trimmed. Used at ingest, before any text is hashed; the cheap checks first, so a text with nothing to clean
    costs two substring tests and two anchored matches."""
    tokens = SPECIAL_TOKENS.replace("'", "''")
    removed = f"regexp_replace({column}, '{tokens}', '', 'g')"
    return (
        f"CASE WHEN {_may_hold_token_sql(column)} THEN {_edge_trim_sql(removed)} "
        f"WHEN regexp_matches({column}, '^{_EDGE_SPACE}') OR regexp_matches({column}, '{_EDGE_SPACE}$') "
        f"THEN {_edge_trim_sql(column)} ELSE {column} END"
    )


def has_token_sql(column: str) -> str:
    """1 when ``column`` holds a special token, else 0 (NULL too), as a DuckDB expression."""
    tokens = SPECIAL_TOKENS.replace("'", "''")
    return f"coalesce(({_may_hold_token_sql(column)} AND regexp_matches({column}, '{tokens}'))::INTEGER, 0)"
