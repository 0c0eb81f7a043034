"""The release-size benchmark's answers (analysis/pipeline/long_answers.py) and the demo's ``answers="long"``."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import schema
from analysis.pipeline import demo, long_answers
from analysis.pipeline.templates import load_templates
from analysis.text import clean_text

N = 400


@pytest.fixture(scope="module")
def answers():
    rng = np.random.default_rng(3)
    langs = rng.integers(0, len(schema.LANGUAGES), size=N)
    cells = rng.integers(0, len(demo.CELLS), size=N)
    return langs, cells, long_answers.compose(langs, cells, 11, load_templates(), demo.CELLS)


def test_answers_are_release_like_markdown_of_80_to_400_words(answers):
    langs, _, texts = answers
    words = np.array([sum(any(c.isalnum() for c in w) for w in clean_text(t).split()) for t in texts])
    assert words.min() >= long_answers.MIN_WORDS and words.max() <= long_answers.MAX_WORDS
    assert np.median(words) > 150
    assert sum("**" in t for t in texts) > N / 4 and sum("\n* " in t or "\n1. " in t for t in texts) > N / 4
    assert any("|---|---|" in t for t in texts) and any("```" in t for t in texts)
    hindi = [t for t, lg in zip(texts, langs, strict=True) if schema.LANGUAGES[lg] == "hi"]
    assert hindi and all(any("\u0900" <= ch <= "\u097f" for ch in t) for t in hindi)
    tokens = sum(t.endswith(long_answers.END_TOKEN) for t in texts) / N
    assert 0.02 < tokens < 0.14  # about 7%, as in the release


def test_each_answer_carries_its_cells_stances(answers):
    langs, cells, texts = answers
    st = load_templates()["stances"]
    y_pole = {-1: "traditional", 0: "neutral_y", 1: "secular"}
    x_pole = {-1: "survival", 0: "neutral_x", 1: "self_expression"}
    for lg, cell, text in zip(langs, cells, texts, strict=True):
        x, y = demo.CELLS[cell]
        lang = schema.LANGUAGES[lg]
        own = st[y_pole[int(y)]][lang] + st[x_pole[int(x)]][lang]
        assert sum(s in text for s in own) >= 2
        others = [s for pole in ("traditional", "secular") if pole != y_pole[int(y)] for s in st[pole][lang]]
        assert not any(s in text for s in others)  # never the opposite pole's


def test_answers_are_distinct_and_the_same_for_the_same_seed(answers):
    langs, cells, texts = answers
    assert len(set(texts)) == N
    again = long_answers.compose(langs, cells, 11, load_templates(), demo.CELLS)
    assert list(again) == list(texts)
    other = long_answers.compose(langs, cells, 12, load_templates(), demo.CELLS)
    assert sum(a == b for a, b in zip(other, texts, strict=True)) == 0


def test_a_long_demo_keeps_shared_sets_shared_and_repeats_repeated():
    frame = demo.generate_frame(1500, seed=2, answers="long")
    first = [schema.turn_column("first", f"response_{x}") for x in schema.LETTERS]
    pre = frame.filter(frame["is_pregenerated_first_prompt"] == "true")
    sets = {}
    for row in pre.select("first_turn_prompt", *first).iter_rows():
        sets.setdefault(row[0], set()).add(frozenset(clean_text(t) for t in row[1:]))
    assert max(len(v) for v in sets.values()) == 1  # one candidate set per pregenerated prompt, shown to all
    second = [schema.turn_column("second", f"response_{x}") for x in schema.LETTERS]
    texts = [t for c in second for t in frame[c].to_list() if t]
    assert len(set(texts)) > 0.9 * len(texts)  # follow-ups: fresh texts per conversation
    repeats = sum(r[2] == r[3] and r[2] != "" for r in frame.select(*second).iter_rows())
    assert repeats > 0


def test_the_small_demo_is_unchanged_by_the_option():
    assert demo.generate_frame(300, seed=5).equals(demo.generate_frame(300, seed=5, answers="templates"))
    with pytest.raises(ValueError, match="answers"):
        demo.generate_frame(10, answers="short")
