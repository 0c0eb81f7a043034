"""The value axes' second reader: a regularised linear classifier per axis on the words of a text (TF-IDF of
character 2- to 5-grams within words, in any script), fitted on the same labelled statements as the embedding
classifier and mixed with it (``analysis.pipeline.axes``).

Why: the small multilingual embedding model places a text mostly by what it is about; two statements on the same
topic with opposite stances ("more respect for authority would be a good thing" / "authority has to earn its
respect") sit close together. Character n-grams catch the words that carry the stance (must, never, choice, God,
freedom and their inflections in every language). On statements written separately from the ones fitted on, the
mix places more texts on the right side than the embeddings alone (docs/axes.md has the figures).

The features of a fit: the n-grams that occur in at least ``MIN_DF`` of its statements, the ``MAX_FEATURES`` most
frequent of them; tf = 1 + ln(count), idf = ln((1 + n) / (1 + df)) + 1, each row scaled to unit length. The
n-grams of every statement are counted once (:class:`Counts`), so the held-out estimate's many fits only select
and weigh columns. A fitted reader is plain data (its n-grams, their idf, a weight per n-gram and a bias), stored
as JSON with the axes; nothing is pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

ANALYZER = "char_wb"
NGRAMS = (2, 5)
MIN_DF = 2  # an n-gram must occur in at least two of the fitted statements
MAX_FEATURES = 30_000  # the most frequent n-grams kept (bounds the stored fit)
C = 3.0
MAX_ITER = 2000
DECIMALS = 6  # idf and weights are stored rounded to this many decimals
PARAMS = {"analyzer": ANALYZER, "ngrams": list(NGRAMS), "min_df": MIN_DF, "max_features": MAX_FEATURES, "C": C}


def _counter(vocabulary: Sequence[str] | None = None) -> CountVectorizer:
    vocab = {g: i for i, g in enumerate(vocabulary)} if vocabulary is not None else None
    return CountVectorizer(analyzer=ANALYZER, ngram_range=NGRAMS, lowercase=True, vocabulary=vocab, dtype=np.float64)


def _tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear tf times idf, each row scaled to unit length (rows without a known n-gram stay zero)."""
    X = counts.astype(np.float64, copy=True).tocsr()
    X.data = 1.0 + np.log(X.data)
    X = X @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms) @ X


@dataclass
class Counts:
    """The n-gram counts of a set of statements (rows) over every n-gram they contain (columns), made once."""

    matrix: sparse.csr_matrix
    vocabulary: np.ndarray  # column -> n-gram

    @classmethod
    def of(cls, texts: Sequence[str]) -> Counts:
        counter = _counter()
        matrix = counter.fit_transform([str(t) for t in texts]).tocsr()
        vocabulary = np.empty(len(counter.vocabulary_), dtype=object)
        for gram, i in counter.vocabulary_.items():
            vocabulary[i] = gram
        return cls(matrix, vocabulary)


@dataclass
class AxisReader:
    """One axis's fitted n-gram classifier: decision(texts) = tfidf(texts) @ weights + bias."""

    vocabulary: list[str]
    idf: np.ndarray
    weights: np.ndarray
    bias: float
    _counter: Any = field(default=None, repr=False, compare=False)
    _cols: np.ndarray | None = field(default=None, repr=False, compare=False)  # its columns in the fit's Counts

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros(0)
        if self._counter is None:
            self._counter = _counter(self.vocabulary)
        counts = self._counter.transform([str(t) for t in texts])
        return np.asarray(_tfidf(counts, self.idf) @ self.weights).ravel() + self.bias

    def decision_rows(self, counts: Counts, rows: np.ndarray) -> np.ndarray:
        """decision() of rows of the Counts this reader was fitted from (no text is read again)."""
        if self._cols is None:
            raise ValueError("this reader was not fitted from these counts: use decision(texts)")
        return np.asarray(_tfidf(counts.matrix[rows][:, self._cols], self.idf) @ self.weights).ravel() + self.bias

    def to_json(self) -> dict:
        return {"vocabulary": self.vocabulary, "idf": self.idf.tolist(), "weights": self.weights.tolist(),
                "bias": self.bias}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict) -> AxisReader:
        return cls(
            list(data["vocabulary"]),
            np.asarray(data["idf"], dtype=np.float64),
            np.asarray(data["weights"], dtype=np.float64),
            float(data["bias"]),
        )


def _features(counts: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """The columns a fit on these rows uses (df >= MIN_DF, the MAX_FEATURES most frequent; ties by column) and
    their idf."""
    n = counts.shape[0]
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    total = np.asarray(counts.sum(axis=0)).ravel()
    candidates = np.flatnonzero(df >= MIN_DF)
    order = np.lexsort((candidates, -total[candidates]))
    cols = np.sort(candidates[order[:MAX_FEATURES]])
    idf = np.round(np.log((1.0 + n) / (1.0 + df[cols])) + 1.0, DECIMALS)
    return cols, idf


def fit_counts(counts: Counts, rows: np.ndarray, y: np.ndarray) -> AxisReader:
    """Fit one axis's reader on the statements ``rows`` of ``counts`` with labels ``y`` (+1 / -1)."""
    part = counts.matrix[rows]
    cols, idf = _features(part)
    X = _tfidf(part[:, cols], idf)
    clf = LogisticRegression(C=C, max_iter=MAX_ITER).fit(X, y)
    # rounded once here, so the stored JSON (short numbers) scores exactly as the fit in memory
    weights = np.round(clf.coef_[0].astype(np.float64), DECIMALS)
    bias = round(float(clf.intercept_[0]), DECIMALS)
    return AxisReader(counts.vocabulary[cols].tolist(), idf, weights, bias, _cols=cols)


def fit_reader(texts: Sequence[str], y: np.ndarray) -> AxisReader:
    """Fit one axis's reader on statements ``texts`` with labels ``y`` (+1 / -1)."""
    return fit_counts(Counts.of(texts), np.arange(len(texts)), np.asarray(y))
