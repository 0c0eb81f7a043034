"""Value axes: the labelled statements, held-out accuracy that never scores a fitted text, the shipped fits of the
bundled models, scoring, storage, staleness and the CLI (real models, real DuckDB files, no mocks)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict

from analysis import schema, store
from analysis.pipeline import axes, axes_store, embed, models, steps
from analysis.pipeline import labels as label_sets
from tests.helpers import make_small_db

ROOT = Path(__file__).resolve().parents[2]
N_CANDIDATES = 20
N_PROMPTS = 5


@pytest.fixture(scope="module")
def labels() -> pl.DataFrame:
    return label_sets.load_labels()


@pytest.fixture(scope="module")
def default_fit(labels) -> axes.Fitted:
    return axes.fitted(labels)  # the shipped fit of the default model: nothing is embedded


@pytest.fixture(scope="module")
def default_vectors(labels) -> np.ndarray:
    return axes.label_vectors(labels["text"].to_list())  # the shipped vectors


@pytest.fixture(scope="module")
def embedded_template(demo_db, tmp_path_factory) -> Path:
    db = make_small_db(demo_db, tmp_path_factory.mktemp("axes") / "small.duckdb", N_CANDIDATES, N_PROMPTS)
    embed.embed_db(db, batch_size=16, progress=None)
    return db


@pytest.fixture()
def db(embedded_template, tmp_path) -> Path:
    return Path(shutil.copy(embedded_template, tmp_path / "small.duckdb"))


def _small_labels(labels: pl.DataFrame, per_cell: int = 3) -> pl.DataFrame:
    """A few statements per (language, pole, topic, source): a cheap custom labelled set of real statements."""
    return labels.group_by("language", "pole", "topic", "source", maintain_order=True).head(per_cell)


# ---------------------------------------------------------------------------------------------- the labelled set


def test_the_labelled_set_covers_every_pole_language_register_and_topic(labels):
    counts = labels.group_by("language", "pole", "register").len()
    assert counts.height == len(schema.LANGUAGES) * len(schema.POLES) * 2
    assert counts["len"].min() >= 30  # >= 60 per pole and language, half opinions and half answers
    for axis in (schema.AXIS_X, schema.AXIS_Y):
        part = labels.filter(pl.col("axis") == axis)
        assert part["topic"].n_unique() >= 5
        # every topic is spoken to by both poles in every language (so holding a topic out is fair to both)
        cells = part.group_by("topic", "language", "pole").len()
        assert cells.height == part["topic"].n_unique() * len(schema.LANGUAGES) * 2
    hindi = labels.filter(pl.col("language") == "hi")["text"].to_list()
    assert all(any("\u0900" <= ch <= "\u097f" for ch in t) for t in hindi)  # Devanagari
    assert labels["text"].n_unique() == labels.height


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json\n", "not valid JSON"),
        ('{"language": "en", "pole": "modern", "text": "x"}\n', "is not one of"),
        ('{"language": "en", "pole": "secular", "text": "  "}\n', "'text' is empty"),
        ('{"language": "", "pole": "secular", "text": "a"}\n', "'language' is empty"),
        ('{"language": "en", "pole": "secular", "register": "essay", "text": "a"}\n', "register 'essay'"),
        ('{"language": "en", "pole": "secular", "axis": "self_expression", "text": "a"}\n', "does not match"),
        ('{"language": "en", "pole": "secular", "text": "a"}\n', "needs at least 10"),
    ],
)
def test_malformed_label_files_give_clear_errors(tmp_path, content, message):
    path = tmp_path / "labels.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(label_sets.LabelError, match=message):
        label_sets.load_labels(path)


def test_conflicting_labels_non_utf8_and_missing_files(tmp_path, labels):
    rows = labels.to_dicts()
    rows.append({**rows[0], "pole": "secular"})  # the same text under the other pole
    with pytest.raises(label_sets.LabelError, match="labelled both"):
        label_sets.validate_labels(rows)
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"text": "Fidélité"}'.encode("latin-1"))
    with pytest.raises(label_sets.LabelError, match="UTF-8"):
        label_sets.load_labels(bad)
    with pytest.raises(label_sets.LabelError, match="No labelled set"):
        label_sets.load_labels(tmp_path / "nope.jsonl")


def test_version_follows_content_not_order_and_jsonl_and_csv_round_trip(tmp_path, labels):
    shuffled = labels.sample(fraction=1.0, shuffle=True, seed=1)
    assert label_sets.labels_version(shuffled) == label_sets.labels_version(labels)
    edited = labels.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("Prayer guides our family."))
        .otherwise(pl.col("text"))
        .alias("text")
    )
    assert label_sets.labels_version(edited) != label_sets.labels_version(labels)
    back = label_sets.parse_labels(label_sets.labels_to_jsonl(labels).encode("utf-8"))
    assert label_sets.labels_version(back) == label_sets.labels_version(labels)
    csv_path = tmp_path / "labels.csv"
    labels.write_csv(csv_path)
    assert label_sets.labels_version(label_sets.load_labels(csv_path)) == label_sets.labels_version(labels)


def test_editing_one_language_as_text_blocks(labels):
    blocks = label_sets.labels_as_text(labels, "fr")
    assert set(blocks) == set(schema.POLES)
    same, errors, _ = label_sets.labels_with_text(labels, "fr", blocks)
    assert not errors and label_sets.labels_version(same) == label_sets.labels_version(labels)
    lines = blocks["secular"].splitlines()
    new, errors, warns = label_sets.labels_with_text(
        labels, "fr", {"secular": "\n".join(lines[:-2] + ["La science répond mieux que les dogmes."])}
    )
    assert not errors and any("'added'" in w for w in warns)
    added = new.filter(pl.col("text") == "La science répond mieux que les dogmes.")
    assert added.select("language", "pole", "topic", "register").row(0) == ("fr", "secular", "added", "opinion")
    assert new.height == labels.height - 1
    traditional = blocks["traditional"].splitlines()[0]  # the same statement under the other pole
    kept, errors, _ = label_sets.labels_with_text(labels, "fr", {"secular": blocks["secular"] + "\n" + traditional})
    assert errors and "labelled both" in errors[0] and kept is labels  # a clear error; the input comes back


# ---------------------------------------------------------------------------------------------- held-out accuracy


@pytest.mark.parametrize("axis", axes.AXIS_ORDER)
@pytest.mark.parametrize("scheme", axes.SCHEMES)
def test_no_scored_statement_is_ever_fitted_on(labels, axis, scheme):
    """Fold membership, checked directly: a scored statement is never in the fit, nor is its translation (same
    item), nor (topics) anything on its topic, nor (language) anything in its language, nor (source) anything from
    its set; every statement of the axis is scored exactly once."""
    topics, langs, items, sources = (labels[c].to_numpy() for c in ("topic", "language", "item", "source"))
    scored = []
    for fit_idx, test_idx in axes.held_out_splits(labels, axis, scheme):
        assert not set(fit_idx) & set(test_idx)
        assert not set(items[fit_idx]) & set(items[test_idx])
        if scheme == "topic":
            assert not set(topics[fit_idx]) & set(topics[test_idx])
        elif scheme == "source":
            assert len(set(sources[test_idx])) == 1 and sources[test_idx][0] not in set(sources[fit_idx])
        else:
            assert len(set(langs[test_idx])) == 1 and langs[test_idx][0] not in set(langs[fit_idx])
        scored.extend(test_idx.tolist())
    on_axis = np.flatnonzero(labels["axis"].to_numpy() == axis)
    assert sorted(scored) == sorted(on_axis.tolist())


def _sklearn_mix(X_fit, t_fit, y_fit, X_test, t_test) -> np.ndarray:
    """A second implementation of the axes' method from sklearn's parts: logistic regression on the embeddings,
    mixed with one on TfidfVectorizer's character n-grams (probabilities averaged with weight MIX); the sign."""
    emb = LogisticRegression(C=1.0, max_iter=2000).fit(X_fit, y_fit).predict_proba(X_test)[:, 1]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, max_features=30_000, sublinear_tf=True)
    words = LogisticRegression(C=3.0, max_iter=2000).fit(vec.fit_transform(t_fit), y_fit)
    p = (1 - axes.MIX) * emb + axes.MIX * words.predict_proba(vec.transform(t_test))[:, 1]
    return np.where(p > 0.5, 1, -1)


def test_topic_held_out_accuracy_matches_an_independent_implementation_and_is_below_the_fitted_one(
    labels, default_vectors, default_fit
):
    """sklearn's own parts, leaving one topic out at a time, give the same per-language figures as ours (within
    a few statements: sklearn breaks ties among equally frequent n-grams differently and we round the stored
    weights); scoring the statements the axis was fitted on (the leak the scheme prevents) would give a clearly
    higher one."""
    table = default_fit.validity.filter(pl.col("scheme") == "topic")
    for axis in axes.AXIS_ORDER:
        part = labels.with_row_index("i").filter(pl.col("axis") == axis)
        X = default_vectors[part["i"].to_numpy()].astype(np.float64)
        texts = np.asarray(part["text"].to_list(), dtype=object)
        y = np.where(part["pole"].to_numpy() == axes.AXIS_POLES[axis][1], 1, -1)
        topics = part["topic"].to_numpy()
        pred = np.zeros_like(y)
        for topic in set(topics):
            test = topics == topic
            pred[test] = _sklearn_mix(X[~test], texts[~test], y[~test], X[test], texts[test])
        for lang in schema.LANGUAGES:
            m = part["language"].to_numpy() == lang
            ours = table.filter((pl.col("axis") == axis) & (pl.col("language") == lang))
            assert ours["n"].item() == m.sum()
            assert abs(ours["correct"].item() - int((pred[m] == y[m]).sum())) <= max(3, 0.01 * m.sum())
        fitted_acc = (_sklearn_mix(X, texts, y, X, texts) == y).mean()
        held_out = table.filter((pl.col("axis") == axis) & (pl.col("language") == axes.ALL))["accuracy"].item()
        assert fitted_acc > held_out + 0.1, (axis, fitted_acc, held_out)


def test_wilson_interval_and_the_flag_by_hand():
    lo, hi = axes.wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert axes.wilson(0, 0)[0] != axes.wilson(0, 0)[0]  # NaN when nothing was scored
    # 96 of 120: interval 0.72-0.86, a finding; 80 of 120: 0.58-0.74, reaches down to 0.6, flagged
    cell = axes._cell(schema.AXIS_X, "topic", "en", np.array([True] * 96 + [False] * 24))
    assert cell[3:5] == (120, 96) and cell[-1] is False
    cell = axes._cell(schema.AXIS_X, "topic", "en", np.array([True] * 80 + [False] * 40))
    assert cell[-1] is True and cell[6] == pytest.approx(0.5779, abs=1e-3)


def test_the_default_axes_on_text_by_other_writers(default_fit):
    """'Other set held out' (each separately written set scored by axes fitted on the others) is the closest
    estimate for new text on the map's indicators. Measured 0.825 / 0.798 per axis and 0.78-0.84 per language and
    axis (n = 528 / 668; docs/axes.md); held here at >= 0.78 per axis and >= 0.75 per language, so that a change
    that loses a few points fails."""
    table = default_fit.validity.filter(pl.col("scheme") == "source")
    overall = table.filter(pl.col("language") == axes.ALL)
    assert overall.height == 2 and (overall["n"] >= 2000).all()
    assert (overall["accuracy"] >= 0.78).all(), overall
    per_language = table.filter(pl.col("language") != axes.ALL)
    assert set(per_language["language"]) == set(schema.LANGUAGES)
    assert (per_language["accuracy"] >= 0.75).all(), per_language


@pytest.mark.xfail(
    strict=True,
    reason="Issue 10 asks for >= 0.80 held-out accuracy in every language on the project's own labelled set. Not "
    "in every cell: text by other writers ('other set held out') 0.825 / 0.798, French 0.78 and Hindi 0.79 on the "
    "traditional / secular-rational axis; a topic or a language the statements do not cover 0.73-0.80 (5,980 "
    "statements, n = 528-668 per cell; docs/axes.md). Strict: it fails once met.",
)
def test_the_default_axes_reach_0_8_held_out_in_every_language(default_fit):
    table = default_fit.validity.filter(pl.col("language") != axes.ALL)
    assert set(table["scheme"]) == set(axes.SCHEMES)
    low = table.filter(pl.col("accuracy") < 0.8)
    assert low.height == 0, low.select("axis", "scheme", "language", "accuracy", "n")


def test_the_default_axes_on_the_independent_statements():
    """The 300 anchor statements of the earlier axes (written before the labelled set, never fitted on): the issue's
    done-when bar, >= 0.80 per axis overall and >= 0.70 in every language, on text the axes have never seen."""
    table = axes.external_accuracy()
    assert table.filter(pl.col("language") == axes.ALL)["n"].to_list() == [150, 150]
    overall = table.filter(pl.col("language") == axes.ALL)
    assert (overall["accuracy"] >= 0.8).all(), overall
    per_language = table.filter(pl.col("language") != axes.ALL)
    assert set(per_language["language"]) == set(schema.LANGUAGES)
    assert (per_language["accuracy"] >= 0.7).all(), per_language


def test_warnings_name_exactly_the_flagged_cells(default_fit):
    notes = axes.validity_warnings(default_fit.validity, models.DEFAULT_MODEL)
    flagged = default_fit.validity.filter(pl.col("flagged") & (pl.col("language") != axes.ALL))
    assert len(notes) == flagged.height
    hand = pl.DataFrame(
        [(schema.AXIS_X, "topic", "hi", 20, 11, 0.55, 0.34, 0.74, True)], schema=axes.VALIDITY_COLUMNS, orient="row"
    )
    (note,) = axes.validity_warnings(hand)
    assert "Hindi" in note and "55%" in note and "not read" in note


# ---------------------------------------------------------------------------------------------- shipped fits


@pytest.mark.parametrize("model", [models.DEFAULT_MODEL, models.MINILM_MODEL])
def test_the_shipped_fit_is_current_and_reproduced_from_its_vectors(labels, model):
    fit_path, vec_path = axes.shipped_paths(model)
    data = json.loads(fit_path.read_text(encoding="utf-8"))
    assert data["labels_version"] == label_sets.labels_version(labels), "run `python -m analysis axes fit --write`"
    assert data["params"]["method_version"] == axes.METHOD_VERSION
    with np.load(vec_path) as shipped:
        texts = shipped["texts"].tolist()
        assert texts[: labels.height] == labels["text"].to_list()  # then the independent statements
        assert set(texts[labels.height :]) == set(label_sets.load_external()["text"])
        vectors = shipped["vectors"][: labels.height]
    refit = axes.fit_from(labels, vectors, model, data["labels_version"])
    np.testing.assert_allclose(refit.weights, np.asarray(data["weights"]), atol=1e-6)
    np.testing.assert_allclose(refit.scale, np.asarray(data["scale"]), rtol=1e-6)
    assert refit.axes_version == data["axes_version"]


def test_the_shipped_vectors_are_what_the_default_model_makes(labels):
    sample = labels.gather(list(range(0, labels.height, 97)))["text"].to_list()
    with np.load(axes.shipped_paths(models.DEFAULT_MODEL)[1]) as shipped:
        where = {t: i for i, t in enumerate(shipped["texts"].tolist())}
        stored = shipped["vectors"][[where[t] for t in sample]]
    np.testing.assert_allclose(embed.embed_texts(sample), stored, atol=1e-5)


# ---------------------------------------------------------------------------------------------- scoring


def test_coordinates_are_signed_scaled_decisions_and_probabilities(labels, default_fit, default_vectors):
    """The probability is sklearn's mix of the two classifiers (embeddings, n-grams) fitted on the axis's
    statements, within the rounding of the stored weights; the coordinate has the probability's sign (0 at 0.5),
    and the poles' mean coordinates are 2 apart around 0."""
    m = default_fit.axis_model
    texts = labels["text"].to_list()
    xy = m.score(default_vectors, texts)
    p = m.probability(default_vectors, texts)
    for axis in axes.AXIS_ORDER:
        col = axes.AXIS_ORDER.index(axis)
        part = labels.with_row_index("i").filter(pl.col("axis") == axis)
        idx = part["i"].to_numpy()
        y = np.where(part["pole"].to_numpy() == axes.AXIS_POLES[axis][1], 1, -1)
        X, t = default_vectors[idx].astype(np.float64), np.asarray(texts, dtype=object)[idx]
        emb = LogisticRegression(C=1.0, max_iter=2000).fit(X, y).predict_proba(X)[:, 1]
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, max_features=30_000, sublinear_tf=True)
        words = LogisticRegression(C=3.0, max_iter=2000).fit(vec.fit_transform(t), y).predict_proba(vec.transform(t))
        expected = (1 - axes.MIX) * emb + axes.MIX * words[:, 1]
        assert np.abs(p[idx, col] - expected).mean() < 0.005
        assert (np.sign(xy[idx, col]) == np.sign(p[idx, col] - 0.5)).all()
        # typical statements of each pole sit near -1 and +1: the poles' means are 2 apart, 0 between them
        pos, neg = xy[idx[y > 0], col].mean(), xy[idx[y < 0], col].mean()
        assert pos - neg == pytest.approx(2.0, abs=1e-6)
        assert pos == pytest.approx(1.0, abs=0.2) and neg == pytest.approx(-1.0, abs=0.2)
    with pytest.raises(ValueError, match="dimensions"):
        m.score(np.zeros((2, 10)), ["a", "b"])
    with pytest.raises(ValueError, match="texts"):
        m.score(default_vectors[:2])
    with pytest.raises(ValueError, match="one text per embedding"):
        m.score(default_vectors[:2], ["only one"])


def test_score_texts_keeps_input_order_and_places_unseen_clear_statements():
    texts = [
        "Nothing matters more than faith in God and obeying one's parents.",
        "Moral questions should be settled by evidence and open debate, not by religious authority.",
        "Ok",
    ]
    df = axes.score_texts(texts, probability=True)
    assert df.columns == ["text", schema.AXIS_X, schema.AXIS_Y, f"p_{schema.AXIS_X}", f"p_{schema.AXIS_Y}"]
    assert df["text"].to_list() == texts
    assert df[schema.AXIS_Y][0] < 0 < df[schema.AXIS_Y][1]
    again = axes.score_texts(list(reversed(texts)))
    np.testing.assert_allclose(again[schema.AXIS_Y].to_numpy()[::-1], df[schema.AXIS_Y].to_numpy(), atol=1e-5)


# ---------------------------------------------------------------------------------------------- the database


def test_score_db_stores_scores_validity_and_the_fit_under_the_axes_version(db, default_fit, labels):
    con = duckdb.connect(str(db), read_only=True)
    assert axes_store.load_axis_scores(con).height == 0  # nothing stored yet: an empty frame, not an error
    con.close()
    summary = axes_store.score_db(db)
    assert summary["scored"] == N_CANDIDATES + N_PROMPTS and summary["not_embedded"] == 0
    assert summary["axes_version"] == axes.default_axes_version() == default_fit.axis_model.axes_version

    con = duckdb.connect(str(db), read_only=True)
    scores = axes_store.load_axis_scores(con)
    vectors = embed.load_embeddings(con, None, scores["text_hash"].to_list())
    texts = dict(
        con.execute(f"SELECT text_hash, any_value(text) FROM ({store.text_sources_sql(con)}) GROUP BY 1").fetchall()
    )
    expected = default_fit.axis_model.score(vectors, [texts[h] for h in scores["text_hash"].to_list()])
    np.testing.assert_allclose(scores.select(schema.AXIS_X, schema.AXIS_Y).to_numpy(), expected, atol=1e-6)
    assert axes_store.load_axis_validity(con).equals(axes_store.sort_validity(default_fit.validity))
    assert axes_store.stored_fit(con).axes_version == summary["axes_version"]
    con.close()

    custom = _small_labels(labels)
    other = axes_store.score_db(db, labels=custom)
    assert other["axes_version"] != summary["axes_version"]
    con = duckdb.connect(str(db), read_only=True)
    counts = dict(con.execute("SELECT axes_version, count(*) FROM axis_scores GROUP BY ALL").fetchall())
    runs = axes_store.axis_runs(con)
    con.close()
    assert counts == {summary["axes_version"]: summary["scored"], other["axes_version"]: summary["scored"]}
    assert not runs["stale"].any()  # a user's own labelled set is current, not stale


def test_stale_scores_are_not_read_and_readiness_asks_for_the_score_step(db):
    axes_store.score_db(db)
    con = duckdb.connect(str(db))
    con.execute("UPDATE axis_runs SET method_version = 'an-older-method'")
    con.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert axes_store.load_axis_scores(con).height == 0
        assert axes_store.stale_versions(con) == [axes.default_axes_version()]
        ready = steps.readiness(con, None, "DB")
    finally:
        con.close()
    assert ready.stale and any("axes score-db" in c for c in ready.commands)
    steps.run_steps(db, fit_map=False)  # the pipeline recomputes them
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert axes_store.load_axis_scores(con).height == N_CANDIDATES + N_PROMPTS
    finally:
        con.close()


def test_tables_of_the_anchor_based_axes_are_stale_and_replaced(db):
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE axis_runs (model VARCHAR, anchors_version VARCHAR, params JSON, anchors JSON, "
        "n_scored INTEGER, created_at TIMESTAMP)"
    )
    con.execute("INSERT INTO axis_runs VALUES (?, 'abc', '{}', '{}', 3, now())", [models.DEFAULT_MODEL])
    con.execute("CREATE TABLE axis_scores (model VARCHAR, anchors_version VARCHAR, text_hash VARCHAR, x DOUBLE)")
    assert axes_store.axis_runs(con)["stale"].to_list() == [True]
    assert axes_store.load_axis_scores(con).height == 0
    con.close()
    assert axes_store.score_db(db)["scored"] == N_CANDIDATES + N_PROMPTS


def test_rescoring_with_edited_labels_embeds_no_data(db, labels):
    axes_store.score_db(db)
    con = duckdb.connect(str(db), read_only=True)
    before = con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0]
    stored = axes_store.load_axis_scores(con)
    scores, validity = axes_store.rescore_stored(con, _small_labels(labels), None)
    after = con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0]
    con.close()
    assert before == after and scores.height == stored.height
    assert not scores.sort("text_hash").equals(stored.sort("text_hash"))
    assert set(validity["scheme"]) == set(axes.SCHEMES)


def test_score_db_without_embeddings_says_what_to_run(demo_db, tmp_path):
    bare = make_small_db(demo_db, tmp_path / "bare.duckdb", 5, 1)
    with pytest.raises(LookupError, match="python -m analysis embed"):
        axes_store.score_db(bare)


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_score_contract_in_a_fresh_offline_process(tmp_path):
    """`python -m analysis axes score --text-file F --json`: one text per line in, a JSON list of {text,
    self_expression, secular} out, with the default model and axes, and no network."""
    texts = [
        "Tradition and faith keep families together; children must obey their parents.",
        "",
        "Chacun doit pouvoir choisir sa vie librement, et la religion doit rester privée.",
        "मेहनत और बचत सबसे ज़रूरी हैं, बाहर वालों पर भरोसा मत करो।",
    ]
    f = tmp_path / "texts.txt"
    f.write_text("\n".join(texts) + "\n", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"}
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "axes", "score", "--text-file", str(f), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    objects = json.loads(proc.stdout)
    assert [o["text"] for o in objects] == [t for t in texts if t]  # blank lines skipped, order and script kept
    assert all(list(o) == ["text", "self_expression", "secular"] for o in objects)
    assert all(isinstance(o[k], float) and math.isfinite(o[k]) for o in objects for k in ("self_expression", "secular"))
    assert objects[0]["secular"] < 0 < objects[1]["secular"]

    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Fidélité".encode("latin-1"))
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "axes", "score", "--text-file", str(bad), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2 and "UTF-8" in proc.stderr


def test_cli_validity_with_a_labels_file_and_score_db(db, labels, tmp_path, capsys):
    from analysis.__main__ import main

    assert main(["axes", "validity", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["model"] == models.DEFAULT_MODEL and payload["flag_at"] == 0.6
    assert {r["language"] for r in payload["validity"]} == {*schema.LANGUAGES, "all"}
    assert {r["scheme"] for r in payload["validity"]} == set(axes.SCHEMES)
    assert payload["reference_accuracy"] == {"secular": 0.858, "self_expression": 0.783}

    mine = tmp_path / "mine.jsonl"
    mine.write_text(label_sets.labels_to_jsonl(_small_labels(labels)), encoding="utf-8")
    assert main(["axes", "validity", "--labels", str(mine), "--json"]) == 0
    custom = json.loads(capsys.readouterr().out)
    assert custom["labels_version"] != payload["labels_version"]
    assert sum(r["n"] for r in custom["validity"] if r["language"] == "all") < sum(
        r["n"] for r in payload["validity"] if r["language"] == "all"
    )
    (tmp_path / "broken.jsonl").write_text("{nope\n", encoding="utf-8")
    assert main(["axes", "validity", "--labels", str(tmp_path / "broken.jsonl")]) == 2
    assert "not valid JSON" in capsys.readouterr().err

    assert main(["axes", "score-db", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"scored {N_CANDIDATES + N_PROMPTS} texts" in out and "research's LLM judge: 85.8%" in out
    assert "topics held out" in out and "language held out" in out


def _tiny_rows(flipped_de: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Hand-built labelled rows on the self-expression axis only: 16 English and 16 French statements, 8 per pole,
    4 topics, two sources, one item each (no translations). Feature 0 is +3 on the positive pole and -3 on the negative one,
    except for ``flipped_de`` French rows (alternating poles) whose vector points at the other pole, so every
    classifier fitted on the clean majority places exactly those rows on the wrong side. Every row has the same
    text, so the n-gram reader learns nothing and the embeddings decide."""
    neg, pos = axes.AXIS_POLES[schema.AXIS_X]
    rows, vecs = [], []
    rng = np.random.default_rng(0)
    for lang in ("en", "fr"):
        for i in range(16):
            pole = pos if i % 2 else neg
            sign = 1.0 if pole == pos else -1.0
            if lang == "fr" and i < flipped_de:
                sign = -sign
            source = "a" if i < 8 else "b"
            rows.append(
                {"language": lang, "pole": pole, "topic": f"t{i % 4}", "item": f"{lang}{i}", "source": source,
                 "text": "the same words for every statement"}
            )  # fmt: skip
            vecs.append([3.0 * sign, rng.normal(scale=0.1)])
    return pl.DataFrame(rows), np.asarray(vecs)


@pytest.mark.parametrize("scheme", axes.SCHEMES)
def test_held_out_accuracy_per_language_counts_that_language_only(scheme):
    """Every statement is scored once per scheme; English's are all right and exactly two French ones are wrong
    (by construction), so English reads 16 of 16, French 14 of 16 and all 30 of 32: a language's figure is counted
    over its own statements, not the others'."""
    rows, X = _tiny_rows(flipped_de=2)
    table = axes.held_out_validity(rows, X).filter(pl.col("scheme") == scheme)
    assert set(table["axis"]) == {schema.AXIS_X}  # no secular statements: no row for that axis
    got = {r["language"]: (r["n"], r["correct"], r["accuracy"]) for r in table.iter_rows(named=True)}
    assert got == {"en": (16, 16, 1.0), "fr": (16, 14, 14 / 16), axes.ALL: (32, 30, 30 / 32)}
    assert table["language"].to_list() == ["en", "fr", axes.ALL]  # schema.LANGUAGES order, then all
    lo, hi = axes.wilson(14, 16)
    fr = table.filter(pl.col("language") == "fr")
    assert fr["ci_low"].item() == pytest.approx(lo) and fr["ci_high"].item() == pytest.approx(hi)
    assert fr["flagged"].item() is (lo <= axes.FLAG_AT)


def test_seeding_loads_a_bundled_models_shipped_vectors_once_and_nothing_for_other_models(monkeypatch):
    """_seed fills the per-process cache from the shipped .npz (read here with numpy) for a bundled model, only on
    its first call, and leaves the cache empty for a model that ships no vectors."""
    monkeypatch.setattr(axes, "_VECTORS", {})
    monkeypatch.setattr(axes, "_SEEDED", set())
    key = models.model_key(None)
    assert key in models.BUNDLED
    with np.load(axes.shipped_paths(key)[1]) as data:
        texts, vectors = data["texts"].tolist(), data["vectors"]
    axes._seed(key)
    assert len(axes._VECTORS) == len(set(texts)) > 0
    assert np.array_equal(axes._VECTORS[(key, texts[0])], vectors[0])
    axes._VECTORS[(key, texts[0])] = np.zeros(1)  # a second call must not reload (and overwrite) the cache
    axes._seed(key)
    assert axes._VECTORS[(key, texts[0])].shape == (1,)
    axes._seed("not-a-bundled-model")
    assert all(k == key for k, _ in axes._VECTORS)


def test_a_fit_cannot_be_changed_in_place(default_fit):
    """Fits are cached per process and shared by every page: they are frozen."""
    with pytest.raises(AttributeError):
        default_fit.validity = pl.DataFrame()
