"""Release-like answers for the release-size benchmark dataset (SYNTHETIC): Markdown answers of about 80-400 words
in the five languages, each carrying its grid cell's value stances (demo_templates.json) among neutral sentences,
headings, bullets, numbered points, tables and the odd code fence (long_answers.json).

The demo's default answers come from a small template pool (a few thousand distinct texts however many
conversations); with ``answers="long"`` every candidate that is not part of a shared first-turn set is written
afresh, as the release's follow-up turns are, so 100,000 conversations carry several hundred thousand distinct texts
and the embedding, mapping and page benchmarks meet the real workload.

Vectorised where it matters: sentence choices are drawn for a chunk of texts at once; only the final join is per text.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from analysis import schema

BANK = Path(__file__).resolve().parent.parent / "content" / "long_answers.json"
MIN_WORDS, MAX_WORDS = 80, 400
END_TOKEN = "<|end_of_text|>"
TOKEN_SHARE = 0.07  # the release carries an end-of-text token on about 7% of its candidates
LAYOUTS = ("paragraphs", "bullets", "numbered", "table", "code")
LAYOUT_P = np.array([0.35, 0.25, 0.2, 0.15, 0.05])
_CHUNK = 50_000
_Y_POLES = {-1: "traditional", 0: "neutral_y", 1: "secular"}
_X_POLES = {-1: "survival", 0: "neutral_x", 1: "self_expression"}


@lru_cache(maxsize=1)
def load_bank() -> dict:
    return json.loads(BANK.read_text(encoding="utf-8"))


def _words(text: str) -> int:
    """Words as a reader counts them: runs between spaces holding a letter or digit (no Markdown marks)."""
    return sum(1 for w in text.split() if any(ch.isalnum() for ch in w))


class _Banks:
    """The sentence banks as arrays indexed by language (and pole), with their mean word counts."""

    def __init__(self, templates: dict, cells: np.ndarray) -> None:
        bank = load_bank()
        langs = schema.LANGUAGES
        self.fillers = [np.array(bank["fillers"][lg], dtype=object) for lg in langs]
        self.filler_words = np.array([np.mean([_words(s) for s in bank["fillers"][lg]]) for lg in langs])
        self.headings = [bank["headings"][lg] for lg in langs]
        self.table = [bank["table"][lg] for lg in langs]
        self.options = [bank["options"][lg] for lg in langs]
        self.openers = [templates["openers"][lg] for lg in langs]
        self.closers = [templates["closers"][lg] for lg in langs]
        st = templates["stances"]
        # stance sentences per (cell, language): the y pole's then the x pole's
        self.stances = [
            [
                st[_Y_POLES[int(y)]][lg] + st[_X_POLES[int(x)]][lg]
                for lg in langs
            ]
            for x, y in cells
        ]  # fmt: skip


def _layout(kind: str, lang: int, b: _Banks, rng: np.random.Generator, opener: str, body: list[str], closer: str):
    """One answer laid out as ``kind``; ``body`` is the ordered list of its sentences."""
    head = b.headings[lang][int(rng.integers(len(b.headings[lang])))]
    half = max(1, len(body) // 2)
    lead, rest = " ".join(body[:half]), body[half:]
    if kind == "paragraphs" or not rest:
        third = max(1, len(rest) // 2)
        paras = [lead, " ".join(rest[:third]), " ".join(rest[third:])]
        return f"**{opener}**\n\n" + "\n\n".join(p for p in paras if p) + f"\n\n{closer}"
    if kind == "bullets":
        return f"{opener} {lead}\n\n### {head}\n\n" + "\n".join(f"* {s}" for s in rest) + f"\n\n{closer}"
    if kind == "numbered":
        return f"{opener} {lead}\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(rest, 1)) + f"\n\n*{closer}*"
    if kind == "table":
        c1, c2 = b.table[lang]
        rows = "\n".join(f"| {o} | {s} |" for o, s in zip(b.options[lang], rest, strict=False))
        tail = " ".join(rest[len(b.options[lang]) :])
        return f"{opener} {lead}\n\n| {c1} | {c2} |\n|---|---|\n{rows}\n\n{tail}\n\n{closer}".replace("\n\n\n", "\n\n")
    return f"{opener} {lead}\n\n```text\n- {head}\n```\n\n" + " ".join(rest) + f"\n\n{closer}"


def _one(rng: np.random.Generator, b: _Banks, lang: int, cell: int, words: int, filler_order: np.ndarray) -> str:
    stances = b.stances[cell][lang]
    n_stance = int(rng.integers(2, 5))
    chosen = [stances[i] for i in rng.choice(len(stances), size=min(n_stance, len(stances)), replace=False)]
    stance_words = sum(_words(s) for s in chosen)
    opener = b.openers[lang][int(rng.integers(len(b.openers[lang])))]
    closer = b.closers[lang][int(rng.integers(len(b.closers[lang])))]
    kind = LAYOUTS[int(rng.choice(len(LAYOUTS), p=LAYOUT_P))]
    room = words - stance_words - _words(opener) - _words(closer) - 4  # headings and labels
    n_fill = int(np.clip(room // b.filler_words[lang], 1, len(filler_order)))
    while True:  # the estimate is close; adjust by a filler until the answer is within MIN_WORDS..MAX_WORDS
        fill = list(b.fillers[lang][filler_order[:n_fill]])
        body = fill[: n_fill // 2] + chosen + fill[n_fill // 2 :]  # stances in the middle, where answers argue
        text = _layout(kind, lang, b, np.random.default_rng(n_fill), opener, body, closer)
        n = _words(text)
        if n > MAX_WORDS and n_fill > 1:
            n_fill -= 1
        elif n < MIN_WORDS and n_fill < len(filler_order):
            n_fill += 1
        else:
            return text


def compose(
    langs: np.ndarray, cells: np.ndarray, seed: int, templates: dict, grid: np.ndarray, progress=None
) -> np.ndarray:
    """One fresh answer per (language index, cell index) pair, deterministic for ``seed``. ``grid`` holds the cells'
    (x, y) levels; ``progress(done, total)`` is called after each chunk."""
    b = _Banks(templates, grid)
    rng = np.random.default_rng(seed)
    n = len(langs)
    out = np.empty(n, dtype=object)
    n_fillers = min(len(f) for f in b.fillers)
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        words = rng.integers(MIN_WORDS, MAX_WORDS + 1, size=stop - start)
        order = np.argsort(rng.random((stop - start, n_fillers), dtype=np.float32), axis=1)
        token = rng.random(stop - start) < TOKEN_SHARE
        for j, i in enumerate(range(start, stop)):
            text = _one(rng, b, int(langs[i]), int(cells[i]), int(words[j]), order[j])
            out[i] = text + END_TOKEN if token[j] else text
        if progress is not None:
            progress(stop, n)
    return out
