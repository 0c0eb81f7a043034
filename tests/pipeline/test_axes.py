"""Value axes: anchors, their leave-one-out validity with the real default model, scoring, storage and the CLI."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from analysis import schema
from analysis.pipeline import anchors as anchor_sets
from analysis.pipeline import axes, embed, models
from tests.helpers import make_small_db

N_CANDIDATES = 20
N_PROMPTS = 5


@pytest.fixture(scope="module")
def anchors() -> dict:
    return anchor_sets.load_anchors()


@pytest.fixture(scope="module")
def validity(anchors) -> pl.DataFrame:
    return axes.anchor_validity(anchors)


@pytest.fixture(scope="module")
def embedded_template(demo_db, tmp_path_factory) -> Path:
    db = make_small_db(demo_db, tmp_path_factory.mktemp("axes") / "small.duckdb", N_CANDIDATES, N_PROMPTS)
    embed.embed_db(db, batch_size=16, progress=None)
    return db


@pytest.fixture()
def db(embedded_template, tmp_path) -> Path:
    return Path(shutil.copy(embedded_template, tmp_path / "small.duckdb"))


# ---------------------------------------------------------------------------------------------- anchors


def test_the_shipped_anchor_set_covers_every_pole_in_every_language(anchors):
    for pole in schema.POLES:
        for lang in schema.LANGUAGES:
            assert len(anchors["poles"][pole][lang]) >= 12, (pole, lang)
    assert len(anchor_sets.anchors_version(anchors)) == 12


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "not valid JSON"),
        (json.dumps([1, 2]), "expected a JSON object"),
        (json.dumps({"poles": {"traditional": {"en": ["a", "b"]}}}), "missing"),
        (json.dumps({"poles": {p: {"en": ["a", "b"]} for p in (*schema.POLES, "modern")}}), "unknown pole"),
        (json.dumps({"poles": {p: {"en": ["a", "  "]} for p in schema.POLES}}), "poles.traditional.en[1] is empty"),
        (json.dumps({"poles": {p: {"en": "a statement"} for p in schema.POLES}}), "must be a list"),
        (json.dumps({"poles": {p: {"en": ["only one"]} for p in schema.POLES}}), "at least 2"),
    ],
)
def test_malformed_anchor_files_give_clear_errors(tmp_path, content, message):
    path = tmp_path / "anchors.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(anchor_sets.AnchorError, match=message.replace("[", r"\[").replace("]", r"\]")):
        anchor_sets.load_anchors(path)


def test_non_utf8_and_missing_anchor_files(tmp_path):
    bad = tmp_path / "latin1.json"
    bad.write_bytes('{"poles": {"traditional": {"fr": ["Fidélité"]}}}'.encode("latin-1"))
    with pytest.raises(anchor_sets.AnchorError, match="UTF-8"):
        anchor_sets.load_anchors(bad)
    with pytest.raises(anchor_sets.AnchorError, match="No anchor file"):
        anchor_sets.load_anchors(tmp_path / "nope.json")


def test_editing_a_statement_changes_the_version_and_nothing_else_does(anchors):
    same = copy.deepcopy(anchors)
    same["version"] = "something else"  # the label is not content
    assert anchor_sets.anchors_version(same) == anchor_sets.anchors_version(anchors)
    edited = copy.deepcopy(anchors)
    edited["poles"]["secular"]["en"][0] = "Decisions should rest on evidence and reason."
    assert anchor_sets.anchors_version(edited) != anchor_sets.anchors_version(anchors)


# ---------------------------------------------------------------------------------------------- validity


def test_validity_has_a_row_per_axis_and_language_plus_all(validity, anchors):
    assert validity.columns == ["axis", "language", "accuracy", "n"]
    assert set(validity["axis"]) == {schema.AXIS_X, schema.AXIS_Y}
    for axis, (neg, pos) in axes.AXIS_POLES.items():
        part = validity.filter(pl.col("axis") == axis)
        assert part["language"].to_list() == [*schema.LANGUAGES, "all"]
        for lang in schema.LANGUAGES:
            n = len(anchors["poles"][neg][lang]) + len(anchors["poles"][pos][lang])
            assert part.filter(pl.col("language") == lang)["n"].item() == n
        assert (
            part.filter(pl.col("language") == "all")["n"].item() == part.filter(pl.col("language") != "all")["n"].sum()
        )
        assert ((part["accuracy"] >= 0) & (part["accuracy"] <= 1)).all()


def test_leave_one_out_accuracy_reaches_the_issue_target_of_0_8(validity):
    """Issue 4: at least 0.8 on each axis with the default model (all-MiniLM-L6-v2). Measured: 1.00 on both axes in
    English, French, Italian and Portuguese, about 0.9 over all five languages; Hindi sits near chance (0.43/0.50),
    which the app reports as a warning rather than plotting it as a finding."""
    overall = dict(validity.filter(pl.col("language") == "all").select("axis", "accuracy").iter_rows())
    assert overall[schema.AXIS_X] >= 0.8 and overall[schema.AXIS_Y] >= 0.8
    for lang in ("en", "fr", "it", "pt"):
        per_lang = dict(validity.filter(pl.col("language") == lang).select("axis", "accuracy").iter_rows())
        assert per_lang[schema.AXIS_X] >= 0.8 and per_lang[schema.AXIS_Y] >= 0.8, (lang, per_lang)


def test_the_english_only_model_is_flagged_on_hindi(validity):
    """The default model cannot place Hindi: its anchors stay near chance, and the warnings name it."""
    hindi = validity.filter(pl.col("language") == "hi")["accuracy"]
    assert (hindi < axes.TRUST_THRESHOLD).any()
    notes = axes.validity_warnings(validity, models.DEFAULT_MODEL)
    assert any(schema.LANGUAGE_NAMES["hi"] in note for note in notes)


def test_single_statement_leave_one_out_is_available_and_no_better(anchors, validity):
    single = axes.anchor_validity(anchors, scheme="single")
    assert single.columns == validity.columns and single.height == validity.height
    both = validity.join(single, on=["axis", "language"], suffix="_single").filter(pl.col("language") == "all")
    # leaving the topic twin in the refit can only pull the held-out statement towards the other pole
    assert (both["accuracy_single"] <= both["accuracy"] + 1e-9).all()


def test_warnings_name_exactly_the_languages_below_the_threshold(validity):
    notes = axes.validity_warnings(validity, models.DEFAULT_MODEL)
    weak = validity.filter((pl.col("language") != "all") & (pl.col("accuracy") < axes.TRUST_THRESHOLD))
    assert len(notes) == weak.height
    for axis, lang, _acc, _n in weak.iter_rows():
        assert any(schema.LANGUAGE_NAMES[lang] in note and axes.AXIS_LABELS[axis] in note for note in notes)
    hand = pl.DataFrame(
        [(schema.AXIS_X, "hi", 0.5, 30), (schema.AXIS_X, "en", 0.9, 30), (schema.AXIS_X, "all", 0.55, 60)],
        schema=axes.VALIDITY_COLUMNS,
        orient="row",
    )
    (note,) = axes.validity_warnings(hand)
    assert "Hindi" in note and "close to chance" in note


# ---------------------------------------------------------------------------------------------- scoring


def test_each_poles_anchors_sit_around_minus_one_and_plus_one(anchors):
    model = axes.fit_axes(anchors)
    rows = anchor_sets.anchor_rows(anchors)
    xy = axes.score_embeddings(model, axes._embed_anchor_texts(rows["text"].to_list(), None))  # cached anchor vectors
    for pole in schema.POLES:
        axis, sign = schema.POLE_AXIS[pole]
        col = axes.AXIS_ORDER.index(axis)
        mask = (rows["pole"] == pole).to_numpy()
        assert xy[mask, col].mean() == pytest.approx(sign, abs=1e-6)
        english = mask & (rows["language"] == "en").to_numpy()
        assert np.sign(xy[english, col].mean()) == sign


def test_score_texts_returns_the_frame_in_input_order():
    texts = ["God and the family come before everything else.", "Decisions should rest on evidence.", "Ok"]
    df = axes.score_texts(texts)
    assert df.columns == ["text", schema.AXIS_X, schema.AXIS_Y]
    assert df["text"].to_list() == texts
    again = axes.score_texts(list(reversed(texts)))
    np.testing.assert_allclose(again[schema.AXIS_Y].to_numpy()[::-1], df[schema.AXIS_Y].to_numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="dimensions"):
        axes.score_embeddings(axes.fit_axes(), np.zeros((2, 10)))


def test_score_db_writes_scores_from_stored_vectors_and_versions_edited_anchors(db, anchors):
    con = duckdb.connect(str(db), read_only=True)
    assert axes.load_axis_scores(con).height == 0  # nothing stored yet: an empty frame, not an error
    con.close()

    summary = axes.score_db(db)
    assert summary["scored"] == N_CANDIDATES + N_PROMPTS and summary["not_embedded"] == 0
    assert summary["anchors_version"] == anchor_sets.anchors_version(anchors)

    con = duckdb.connect(str(db), read_only=True)
    scores = axes.load_axis_scores(con)
    assert scores.columns == ["text_hash", schema.AXIS_X, schema.AXIS_Y] and scores.height == summary["scored"]
    vectors = embed.load_embeddings(con, None, scores["text_hash"].to_list())
    expected = axes.score_embeddings(axes.fit_axes(anchors), vectors)
    np.testing.assert_allclose(scores.select(schema.AXIS_X, schema.AXIS_Y).to_numpy(), expected, atol=1e-6)
    stored_validity = axes.load_axis_validity(con)
    con.close()
    assert stored_validity.equals(axes.anchor_validity(anchors))

    again = axes.score_db(db)  # replaces, does not duplicate
    assert again["scored"] == summary["scored"]
    edited = copy.deepcopy(anchors)
    edited["poles"]["traditional"]["en"][0] = "Prayer and the church should guide a family's choices."
    other = axes.score_db(db, anchors=edited)
    assert other["anchors_version"] != summary["anchors_version"]
    con = duckdb.connect(str(db), read_only=True)
    counts = dict(con.execute("SELECT anchors_version, count(*) FROM axis_scores GROUP BY ALL").fetchall())
    default_again = axes.load_axis_scores(con)  # the shipped anchors' version is preferred
    edited_scores = axes.load_axis_scores(con, anchors_version=other["anchors_version"])
    con.close()
    assert counts == {summary["anchors_version"]: summary["scored"], other["anchors_version"]: summary["scored"]}
    assert default_again.sort("text_hash").equals(scores.sort("text_hash"))
    assert not edited_scores.sort("text_hash").equals(scores.sort("text_hash"))


def test_score_db_without_embeddings_says_what_to_run(demo_db, tmp_path):
    bare = make_small_db(demo_db, tmp_path / "bare.duckdb", 5, 1)
    with pytest.raises(LookupError, match="python -m analysis embed"):
        axes.score_db(bare)


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_score_prints_one_json_object_per_line(tmp_path, capsys):
    from analysis.__main__ import main

    texts = [
        "Tradition and faith keep families together.",
        "",
        "Je choisis ma vie librement.",
        "मेहनत और बचत सबसे ज़रूरी हैं।",
    ]
    f = tmp_path / "texts.txt"
    f.write_text("\n".join(texts) + "\n", encoding="utf-8")
    assert main(["axes", "score", "--text-file", str(f), "--json"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0] == "[" and lines[-1] == "]"
    objects = [json.loads(line.rstrip(",")) for line in lines[1:-1]]
    assert [o["text"] for o in objects] == [t for t in texts if t]  # blank lines skipped, order and script kept
    assert all(set(o) == {"text", "self_expression", "secular"} for o in objects)
    assert json.loads(out) == objects
    assert all(isinstance(o["secular"], float) for o in objects)

    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Fidélité".encode("latin-1"))
    assert main(["axes", "score", "--text-file", str(bad), "--json"]) == 2
    assert "UTF-8" in capsys.readouterr().err


def test_cli_validity_and_score_db(db, capsys):
    from analysis.__main__ import main

    assert main(["axes", "validity", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["model"] == models.DEFAULT_MODEL and payload["scheme"] == "pair"
    assert {r["language"] for r in payload["validity"]} == {*schema.LANGUAGES, "all"}
    assert payload["reference_accuracy"] == {"secular": 0.858, "self_expression": 0.783}

    assert main(["axes", "score-db", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"scored {N_CANDIDATES + N_PROMPTS} texts" in out and "paper's LLM judge" in out
