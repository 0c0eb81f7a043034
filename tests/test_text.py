"""Text helpers: the cleaning and spelling keys the ingest runs in DuckDB equal the Python ones used on uploads and
display, character for character."""

from __future__ import annotations

import re

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import text

TOKENS = ["<|end_of_text|>", "<|eot_id|>", "</s>", "<s>", "[INST]", "[/INST]", "<eos>", "<|im_end|>"]
PIECES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(TOKENS),
    st.sampled_from([" ", "\n", "\t", "\u00a0", "\u3000", "\u2028", "\x1c", "\x85", "**", "# ", "é", "भारत"]),
)


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as c:
        yield c


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=8).map("".join))
def test_clean_text_in_duckdb_equals_python(con, raw):
    assert con.execute(f"SELECT {text.clean_text_sql('$1')}", [raw]).fetchall()[0][0] == text.clean_text(raw)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cn", "Cs"]), max_size=30))  # assigned in Python's Unicode too
def test_spelling_key_in_duckdb_equals_python(con, raw):
    assert con.execute(f"SELECT {text.spelling_key_sql('$1')}", [raw]).fetchall()[0][0] == text.spelling_key(raw)


@pytest.mark.parametrize(
    "raw, key",
    [("United States", "unitedstates"), ("U.S.A.", "usa"), ("u s a", "usa"), ("  ÉTATS-UNIS ", "étatsunis"),
     ("भारत", "भारत"), ("", "")],
)  # fmt: skip
def test_spelling_key_folds_case_spaces_and_punctuation_but_keeps_letters(raw, key):
    assert text.spelling_key(raw) == key


def test_clean_text_removes_tokens_anywhere_and_the_space_around_the_text():
    assert text.clean_text("  **Yes**.<|end_of_text|>\n") == "**Yes**."
    assert text.clean_text("<s>[INST] hi [/INST]</s>") == "hi"
    assert text.clean_text("<|eot_id|>") == ""
    assert text.clean_text("a <b>bold</b> <|x|> word") == "a <b>bold</b>  word"  # HTML is not a token
    assert text.clean_text(None) == ""


@pytest.mark.parametrize(
    "raw, label",
    [("### **Tradition** first", "Tradition first"), ("See ![chart](http://x/a.png) and [paper](http://y)", "See chart and paper"),
     ("* one\n* two", "one two"), ("| a | b |\n|---|---|\n| 1 | 2 |", "a · b · · 1 · 2"), ("snake_case `code`", "snake_case code"),
     (None, "")],
)  # fmt: skip
def test_markdown_label_is_the_plain_words(raw, label):
    assert text.markdown_label(raw, 200) == label


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=8).map("".join))
def test_has_token_in_duckdb_is_whether_python_finds_a_token(con, raw):
    found = con.execute(f"SELECT {text.has_token_sql('$1')}", [raw]).fetchall()[0][0]
    assert found == int(bool(re.search(text.SPECIAL_TOKENS, raw)))


def test_every_documented_token_holds_a_marker_the_fast_path_looks_for():
    for token in TOKENS:
        assert re.fullmatch(text.SPECIAL_TOKENS, token)
        assert any(m in token for m in text.TOKEN_MARKERS), token
