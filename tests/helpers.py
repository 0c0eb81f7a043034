"""Helpers shared by test modules: small databases cut from the demo (real texts, real schema)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb

N_CANDIDATES = 24
N_PROMPTS = 8


def make_small_db(demo_db: Path, dest: Path, n_candidates: int = N_CANDIDATES, n_prompts: int = N_PROMPTS) -> Path:
    """A copy of the demo database cut down to a few candidate and prompt texts (real texts, real schema)."""
    shutil.copy(demo_db, dest)
    con = duckdb.connect(str(dest))
    con.execute(
        "DELETE FROM candidates WHERE text_hash NOT IN (SELECT text_hash FROM candidates ORDER BY text_hash LIMIT ?)",
        [n_candidates],
    )
    con.execute(
        "DELETE FROM prompts WHERE prompt_hash NOT IN (SELECT prompt_hash FROM prompts ORDER BY prompt_hash LIMIT ?)",
        [n_prompts],
    )
    con.execute("DROP TABLE IF EXISTS llm_responses")
    con.close()
    return dest


def add_candidates(db: Path, texts: list[str]) -> list[str]:
    con = duckdb.connect(str(db))
    hashes = [hashlib.md5(t.encode("utf-8")).hexdigest() for t in texts]
    for h, t in zip(hashes, texts):
        con.execute("INSERT INTO candidates VALUES (?, ?, ?)", [h, t, len(t)])
    con.close()
    return hashes
