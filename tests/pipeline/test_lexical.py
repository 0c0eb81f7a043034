"""The value axes' n-gram reader (analysis.pipeline.lexical), checked against scikit-learn's TfidfVectorizer and by
hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from analysis.pipeline import lexical

CORPUS = [
    "God comes first in our family, and we pray before every meal.",
    "Nous prions chaque dimanche : Dieu passe avant tout.",
    "Decisions should rest on evidence, not on what a priest says.",
    "La scienza, non la fede, deve guidare le leggi.",
    "Respect your elders and obey the law, even when it is hard.",
    "Authority has to earn respect; question it when it is wrong.",
    "भगवान पर भरोसा रखो, सब ठीक होगा।",
    "हर फ़ैसला तर्क और सबूत से होना चाहिए।",
]
LABELS = np.array([-1, -1, 1, 1, -1, 1, -1, 1])


def test_the_features_are_sklearns_tfidf_when_nothing_is_cut(monkeypatch):
    """With every n-gram kept that occurs in two statements, our counts, idf and unit-length sublinear tf-idf are
    scikit-learn's TfidfVectorizer (char_wb, 2-5, min_df 2, sublinear_tf) to rounding."""
    monkeypatch.setattr(lexical, "MAX_FEATURES", 10**9)
    counts = lexical.Counts.of(CORPUS)
    cols, idf = lexical._features(counts.matrix)
    ours = lexical._tfidf(counts.matrix[:, cols], idf).toarray()
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    theirs = vec.fit_transform(CORPUS).toarray()
    assert counts.vocabulary[cols].tolist() == vec.get_feature_names_out().tolist()
    np.testing.assert_allclose(idf, vec.idf_, atol=5e-7)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_max_features_keeps_the_most_frequent_n_grams_and_ties_go_to_the_first(monkeypatch):
    monkeypatch.setattr(lexical, "MAX_FEATURES", 5)
    counts = lexical.Counts.of(CORPUS)
    cols, _ = lexical._features(counts.matrix)
    total = np.asarray(counts.matrix.sum(axis=0)).ravel()
    df = np.asarray((counts.matrix > 0).sum(axis=0)).ravel()
    eligible = [(-total[c], c) for c in range(len(total)) if df[c] >= lexical.MIN_DF]
    assert cols.tolist() == sorted(c for _, c in sorted(eligible)[:5])


def test_a_reader_scores_its_own_rows_as_it_scores_the_texts_and_survives_json():
    counts = lexical.Counts.of(CORPUS)
    rows = np.arange(6)
    reader = lexical.fit_counts(counts, rows, LABELS[:6])
    by_rows = reader.decision_rows(counts, np.arange(len(CORPUS)))
    by_text = reader.decision(CORPUS)
    np.testing.assert_allclose(by_rows, by_text, atol=1e-12)
    again = lexical.AxisReader.from_json(json.loads(json.dumps(reader.to_json())))
    np.testing.assert_array_equal(again.decision(CORPUS), by_text)
    assert reader.to_json()["weights"] == [round(w, lexical.DECIMALS) for w in reader.to_json()["weights"]]
    with pytest.raises(ValueError, match="decision\\(texts\\)"):
        again.decision_rows(counts, rows)
    assert again.decision([]).shape == (0,)


def test_a_text_with_no_known_n_gram_gets_the_bias_alone():
    reader = lexical.fit_reader(CORPUS, LABELS)
    (d,) = reader.decision(["zzzz qqqq"])
    assert d == pytest.approx(reader.bias)
    # and the fitted statements are placed on their own side
    assert (np.sign(reader.decision(CORPUS)) == LABELS).all()
