"""Preference models fitted on the data's own choices: one for everyone (pooled) and one per group, held-out people.

A conditional logit over each k-way set (``analysis.lab.conditional_logit``): a candidate's utility is ``w . x`` with x
its stored embedding reduced by PCA to ``dims`` dimensions (fitted on the training people's texts only), optionally
the two value-axis coordinates as named features, plus one offset per slot shown (the data's position bias), which
is not a property of the text and is left out of every reading below.

For each of ``splits`` repeated splits (seeded): people, not comparisons, are split into training and test (stratified
by group, ``test_fraction`` held out); the L2 strength of each model is chosen among ``lams`` on a quarter of the
training people (inner validation, never the test people), then the model is refitted on all its training people.
Fitted: the pooled model (all training people) and one model per group with at least ``min_people`` people. Scored
on every group's test people: top-1 accuracy, pairwise AUC and log-loss; the pooled model on each group; each group's
model on each other group (the transfer matrix).

Read off each model: its text utility ``u(t) = w . e(t)`` (w mapped back to the full embedding space) regressed on
the texts' stored axis coordinates over the texts a group was shown, giving the change in log-odds of being chosen
per unit toward each pole (``axis_reading``); and the texts that a group's model ranks most differently from the
pooled one (``examples``). Summaries with intervals: ``analysis.lab.prefs_report``; storage: ``prefs_store``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from analysis.filters import Filters
from analysis.lab import conditional_logit as cl
from analysis.lab.prefs_data import GROUPINGS, ChoiceData
from analysis.schema import AXIS_X, AXIS_Y

POOLED = "(pooled)"  # the name of the pooled model in tables (its rows also carry is_pooled = true)
FEATURES = ("embedding", "axes", "embedding+axes")
DEFAULT_LAMS: tuple[float, ...] = (1e4, 1e3, 1e2, 1e1, 1.0, 0.1, 0.01)
INNER_FRACTION = 0.25  # of the training people, to choose the L2 strength on
Progress = Callable[[int, int], object]


@dataclass(frozen=True)
class PrefsConfig:
    grouping: str = "country"
    seed: int = 0
    splits: int = 5
    test_fraction: float = 0.2
    dims: int = 64  # PCA dimensions of the embedding (0: the full embedding)
    features: str = "embedding"
    position: bool = True  # one offset per slot shown
    lams: tuple[float, ...] = DEFAULT_LAMS
    min_people: int = 10  # a group needs this many people to get its own model
    pca_sample: int = 20_000  # training texts the PCA is fitted on (a seeded sample when there are more)
    n_examples: int = 5  # texts per group and direction

    def __post_init__(self) -> None:
        if self.grouping not in GROUPINGS:
            raise ValueError(f"unknown grouping {self.grouping!r}: use one of {', '.join(GROUPINGS)}")
        if self.features not in FEATURES:
            raise ValueError(f"unknown features {self.features!r}: use one of {', '.join(FEATURES)}")
        if self.splits < 2:
            raise ValueError(f"at least 2 splits are needed for an interval (got {self.splits})")
        if not 0.05 <= self.test_fraction <= 0.5:
            raise ValueError(f"test_fraction must lie in [0.05, 0.5] (got {self.test_fraction})")
        if self.dims < 0:
            raise ValueError(f"dims must be 0 (no reduction) or positive (got {self.dims})")
        if not self.lams or min(self.lams) <= 0:
            raise ValueError("the L2 strengths must be positive numbers")
        if self.min_people < 4:
            raise ValueError(f"min_people must be at least 4 (got {self.min_people})")

    def params(self) -> dict:
        out = asdict(self)
        out["lams"] = list(self.lams)
        return out


@dataclass
class PrefsResult:
    """Frames of one run: per split and model, scores on each test group, weights, axis readings; examples."""

    config: PrefsConfig
    model: str
    filters: Filters
    groups: tuple[str, ...]  # groups with their own model
    dropped: dict[str, int]  # groups without one -> their number of people
    scores: pl.DataFrame
    weights: pl.DataFrame
    readings: pl.DataFrame
    examples: pl.DataFrame
    summary: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ splits
def split_people(person_group: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """(P,) bool: held out. Within each group ``round(fraction * size)`` people (at least one when the group has two
    or more), drawn by ``rng``."""
    out = np.zeros(len(person_group), dtype=bool)
    for g in np.unique(person_group):
        idx = np.flatnonzero(person_group == g)
        n_out = int(round(fraction * len(idx)))
        if len(idx) >= 2:
            n_out = min(max(n_out, 1), len(idx) - 1)
        out[rng.choice(idx, size=n_out, replace=False)] = True
    return out


# ------------------------------------------------------------------------------------------------ features
@dataclass(frozen=True)
class TextFeatures:
    """Per-text features and how to map a weight vector on them back to the full embedding (and the axes)."""

    F: np.ndarray  # (N, d_text) float32
    basis: np.ndarray  # (D, d_emb) embedding weights = basis @ theta[:d_emb]
    n_axis: int  # the last n_axis columns of F are the axis coordinates


def pca_sample(data: ChoiceData, train_rows: np.ndarray, size: int, rng) -> np.ndarray:
    """Distinct texts of the training comparisons: all of them when there are at most ``size`` comparisons' worth,
    else those of a seeded sample of ``size`` / k training comparisons (each text is shown about once on the release,
    so this is a uniform sample of the training texts without listing them all)."""
    rows = np.flatnonzero(train_rows)
    per = data.texts.shape[1]
    if len(rows) * per > size:
        rows = rng.choice(rows, size=max(size // per, 1), replace=False)
    return np.unique(data.texts[rows])


def text_features(data: ChoiceData, config: PrefsConfig, sample: np.ndarray) -> TextFeatures:
    """PCA of the embeddings fitted on ``sample`` (training texts only), scaled to unit mean variance per dimension,
    and/or the axis coordinates."""
    parts: list[np.ndarray] = []
    D = data.vectors.shape[1]
    basis = np.zeros((D, 0))
    if config.features != "axes":
        X = data.vectors[sample].astype(np.float64)
        mean = X.mean(axis=0)
        X -= mean
        d = D if config.dims == 0 else min(config.dims, D, max(len(sample) - 1, 1))
        vals, vecs = np.linalg.eigh(X.T @ X / max(len(X) - 1, 1))
        V = vecs[:, ::-1][:, :d]
        scale = float(np.sqrt(max(vals[::-1][:d].mean(), 1e-12)))
        basis = V / scale
        Z = data.vectors @ basis.astype(np.float32)  # every text, one product; centred in place
        Z -= (mean @ basis).astype(np.float32)
        parts.append(Z)
    if config.features != "embedding":
        parts.append(data.axis_scores.astype(np.float32))
    F = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
    return TextFeatures(np.ascontiguousarray(F, dtype=np.float32), basis, 2 if config.features != "embedding" else 0)


def candidate_features(tf: TextFeatures, texts: np.ndarray, position: bool) -> np.ndarray:
    """(k, n, d) float32 candidate-major features: the texts' features plus one indicator per slot but the last.
    (Not centred within each set: the likelihood, its gradient and Hessian only see differences inside a set.)"""
    k, n = texts.shape[1], texts.shape[0]
    d_text = tf.F.shape[1]
    X = np.empty((k, n, d_text + (k - 1 if position else 0)), dtype=np.float32)
    for j in range(k):
        np.take(tf.F, texts[:, j], axis=0, out=X[j, :, :d_text], mode="clip")  # indices are valid by construction
    if position:
        X[..., d_text:] = 0.0
        for j in range(k - 1):
            X[j, :, d_text + j] = 1.0
    return X


# ------------------------------------------------------------------------------------------------ one split
@dataclass(frozen=True)
class Layout:
    """Rows ordered by segment (0: inner training, 1: inner validation, 2: test) then group, with slice bounds."""

    order: np.ndarray
    bounds: np.ndarray  # (3 * G + 1,) start of each (segment, group) block

    def rows(self, segment: int, group: int | None = None) -> slice:
        G = (len(self.bounds) - 1) // 3
        if group is None:
            return slice(int(self.bounds[segment * G]), int(self.bounds[(segment + 1) * G]))
        return slice(int(self.bounds[segment * G + group]), int(self.bounds[segment * G + group + 1]))


def layout(data: ChoiceData, test: np.ndarray, inner: np.ndarray) -> Layout:
    seg = np.where(test[data.annotator], 2, np.where(inner[data.annotator], 1, 0))
    G = len(data.group_names)
    key = seg * G + data.group
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(3 * G + 1))
    return Layout(order, bounds)


def _part(X: np.ndarray, chosen: np.ndarray, rows: slice) -> cl.Part:
    return cl.Part(X[:, rows], chosen[rows])


def _fit_model(X, chosen, lay: Layout, group: int | None, lams) -> tuple[cl.Fit, list[tuple[float, float]]]:
    """Choose the L2 strength on the inner validation people, then refit on all training people."""
    train = [_part(X, chosen, lay.rows(0, group))]
    valid = [_part(X, chosen, lay.rows(1, group))]
    if valid[0].n == 0 or train[0].n == 0:  # too few people to hold any out: the middle strength, stated
        lam = sorted(lams)[len(lams) // 2]
        return cl.fit(train + valid, lam), []
    lam, path, theta = cl.fit_path(train, valid, lams)
    return cl.fit(train + valid, lam, theta0=theta), path


def _score_rows(X, chosen, lay: Layout, theta, names, counts) -> list[dict]:
    out = []
    for h, name in enumerate(names):
        part = _part(X, chosen, lay.rows(2, h))
        if part.n == 0:
            continue
        m = cl.per_comparison(part, theta)
        out.append(
            {"test_group": name, "n_test": part.n, "n_test_people": int(counts[h]), "accuracy": m["top1"].mean(),
             "auc": m["auc"].mean(), "log_loss": m["log_loss"].mean()}
        )  # fmt: skip
    return out


def text_weights(tf: TextFeatures, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A fit's text utility as (weights on the full embedding (D,), weights on the axis coordinates (n_axis,))."""
    d_emb = tf.basis.shape[1]
    return tf.basis @ theta[:d_emb], theta[d_emb : d_emb + tf.n_axis]


def text_utility(tf: TextFeatures, theta: np.ndarray) -> np.ndarray:
    """u(t) for every text (N,) under a fit: its text features times their weights (slot offsets excluded). Equal to
    the full embedding times ``text_weights``'s vector, up to a constant that no comparison or ranking sees."""
    return (tf.F @ theta[: tf.F.shape[1]].astype(np.float32)).astype(np.float64)


def axis_reading(u: np.ndarray, scores: np.ndarray) -> tuple[float, float, int]:
    """Least-squares slopes of utilities u on the texts' axis coordinates (with an intercept): the change in log-odds
    of being chosen per unit toward self-expression and toward secular-rational. NaN without enough scored texts."""
    ok = np.isfinite(scores).all(axis=1)
    if ok.sum() < 4:
        return float("nan"), float("nan"), int(ok.sum())
    A = np.column_stack([np.ones(ok.sum()), scores[ok]])
    coef = np.linalg.lstsq(A, u[ok], rcond=None)[0]
    return float(coef[1]), float(coef[2]), int(ok.sum())


def group_texts(data: ChoiceData) -> list[np.ndarray]:
    """The distinct texts shown to each group."""
    return [np.unique(data.texts[data.group == g]) for g in range(len(data.group_names))]


@dataclass
class _Split:
    scores: list[dict]
    weights: list[dict]
    readings: list[dict]
    utilities: dict[str, np.ndarray]  # model -> u(t) of every text


def run_split(data: ChoiceData, config: PrefsConfig, fitted: list[int], s: int, shown: list[np.ndarray]) -> _Split:
    """Split s: split people, reduce, fit the pooled model and each group's, score them on every test group."""
    rng = np.random.default_rng([config.seed, s])
    person_group = data.person_group()
    test = split_people(person_group, config.test_fraction, rng)
    inner = np.zeros_like(test)
    inner[~test] = split_people(person_group[~test], INNER_FRACTION, rng)
    tf = text_features(data, config, pca_sample(data, ~test[data.annotator], config.pca_sample, rng))
    lay = layout(data, test, inner)
    X = candidate_features(tf, data.texts[lay.order], config.position)
    chosen = data.chosen[lay.order]
    names = data.group_names
    test_people = np.bincount(person_group[test], minlength=len(names))
    train_people = np.bincount(person_group[~test], minlength=len(names))
    models: list[tuple[str, int | None]] = [(POOLED, None)] + [(names[g], g) for g in fitted]
    out = _Split([], [], [], {})
    for name, g in models:
        f, path = _fit_model(X, chosen, lay, g, config.lams)
        n_train = sum(_part(X, chosen, lay.rows(seg, g)).n for seg in (0, 1))
        n_people = int(train_people.sum() if g is None else train_people[g])
        common = {"split": s, "model": name, "is_pooled": g is None, "lam": f.lam}
        for row in _score_rows(X, chosen, lay, f.theta, names, test_people):
            out.scores.append({**common, "n_train": n_train, "n_train_people": n_people, **row})
        w_emb, w_axis = text_weights(tf, f.theta)
        out.weights.append({**common, "iterations": f.iterations, "converged": f.converged,
                            "lam_path": [list(p) for p in path], "weights": w_emb.astype(np.float32),
                            "axis_weights": w_axis, "position": f.theta[tf.F.shape[1]:]})  # fmt: skip
        u = out.utilities[name] = text_utility(tf, f.theta)
        targets = [(POOLED, np.arange(len(data.hashes)))] if g is None else []
        targets += [(names[h], shown[h]) for h in (fitted if g is None else [g])]
        for texts_of, idx in targets:
            x, y, n_texts = axis_reading(u[idx], data.axis_scores[idx])
            out.readings.append({**common, "texts_of": texts_of, AXIS_X: x, AXIS_Y: y, "n_texts": n_texts})
    return out


# ------------------------------------------------------------------------------------------------ examples
def examples(data: ChoiceData, utilities: dict, fitted: list[int], shown: list[np.ndarray], n: int) -> pl.DataFrame:
    """Per group: the ``n`` texts its model ranks highest relative to the pooled model (``favoured``) and the ``n``
    it ranks lowest (``disfavoured``), by the difference of percentile ranks among the texts the group was shown.
    ``utilities``: each model's text utilities averaged over the splits."""
    rows = []
    pooled = utilities[POOLED]
    for g in fitted:
        name, idx = data.group_names[g], shown[g]
        if len(idx) < 2:
            continue
        own_pct = _percentile(utilities[name][idx])
        pool_pct = _percentile(pooled[idx])
        diff = own_pct - pool_pct
        in_group = data.group == g
        shown_n = np.bincount(data.texts[in_group].ravel(), minlength=len(data.hashes))
        chosen_t = data.texts[in_group][np.arange(int(in_group.sum())), data.chosen[in_group]]
        chosen_n = np.bincount(chosen_t, minlength=len(data.hashes))
        order = np.argsort(-diff, kind="stable")
        picks = [("favoured", order[:n]), ("disfavoured", order[::-1][:n])]
        for direction, which in picks:
            for rank, i in enumerate(which, start=1):
                t = idx[i]
                rows.append(
                    {"group": name, "direction": direction, "rank": rank, "text_hash": str(data.hashes[t]),
                     "pct_own": float(own_pct[i]), "pct_pooled": float(pool_pct[i]), "n_shown": int(shown_n[t]),
                     "n_chosen": int(chosen_n[t]), AXIS_X: float(data.axis_scores[t, 0]),
                     AXIS_Y: float(data.axis_scores[t, 1])}
                )  # fmt: skip
    return pl.DataFrame(rows, schema=EXAMPLE_SCHEMA)


EXAMPLE_SCHEMA = {
    "group": pl.String, "direction": pl.String, "rank": pl.Int64, "text_hash": pl.String, "pct_own": pl.Float64,
    "pct_pooled": pl.Float64, "n_shown": pl.Int64, "n_chosen": pl.Int64, AXIS_X: pl.Float64, AXIS_Y: pl.Float64,
}  # fmt: skip


def _percentile(u: np.ndarray) -> np.ndarray:
    """Rank of each value among all, scaled to [0, 1] (ties share their mean rank)."""
    order = np.argsort(u, kind="stable")
    ranks = np.empty(len(u))
    ranks[order] = np.arange(len(u))
    _, inv, counts = np.unique(u, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    return (sums / counts)[inv] / max(len(u) - 1, 1)


# ------------------------------------------------------------------------------------------------ the run
def fitted_groups(data: ChoiceData, min_people: int) -> tuple[list[int], dict[str, int]]:
    """Groups with at least ``min_people`` people (they get a model) and the others with their number of people."""
    sizes = np.bincount(data.person_group(), minlength=len(data.group_names))
    fitted = [g for g, size in enumerate(sizes) if size >= min_people]
    dropped = {data.group_names[g]: int(size) for g, size in enumerate(sizes) if size < min_people}
    return fitted, dropped


def run_prefs(
    data: ChoiceData, config: PrefsConfig, filters: Filters | None = None, progress: Progress | None = None
) -> PrefsResult:
    """All splits, the examples and the run's summary -> PrefsResult. ``filters``: those the data was read under."""
    filters = filters or Filters()
    if config.features != "embedding" and np.isnan(data.axis_scores).any():
        missing = int(np.isnan(data.axis_scores).any(axis=1).sum())
        raise LookupError(
            f"{missing} of {len(data.hashes)} texts have no stored axis scores, which features={config.features!r} "
            "needs: run `python -m analysis axes score-db --db PATH` first (or use features='embedding')."
        )
    fitted, dropped = fitted_groups(data, config.min_people)
    if not fitted:
        raise ValueError(
            f"No group has {config.min_people} people to fit its own model on (groups: "
            + ", ".join(f"{g} {n}" for g, n in dropped.items())
            + "). Widen the filters or lower min_people."
        )
    t0 = time.perf_counter()
    shown = group_texts(data)
    parts: list[_Split] = []
    sum_u: dict[str, np.ndarray] = {}
    for s in range(config.splits):
        part = run_split(data, config, fitted, s, shown)
        for name, u in part.utilities.items():
            sum_u[name] = sum_u.get(name, 0.0) + u
        part.utilities = {}
        parts.append(part)
        if progress:
            progress(s + 1, config.splits)
    mean_u = {name: u / config.splits for name, u in sum_u.items()}
    result = PrefsResult(
        config=config, model=data.model, filters=filters, groups=tuple(data.group_names[g] for g in fitted),
        dropped=dropped, scores=pl.DataFrame([r for p in parts for r in p.scores]),
        weights=pl.DataFrame([r for p in parts for r in p.weights]),
        readings=pl.DataFrame([r for p in parts for r in p.readings]),
        examples=examples(data, mean_u, fitted, shown, config.n_examples),
    )  # fmt: skip
    result.summary = _summary(data, result, time.perf_counter() - t0)
    return result


def _summary(data: ChoiceData, result: PrefsResult, seconds: float) -> dict:
    sizes = np.bincount(data.person_group(), minlength=len(data.group_names))
    return {
        "n_comparisons": data.n,
        "n_people": len(data.people),
        "n_texts": len(data.hashes),
        "n_skipped": data.n_skipped,
        "embedding_dim": int(data.vectors.shape[1]),
        "n_scored_texts": int(np.isfinite(data.axis_scores).all(axis=1).sum()),
        "people_per_group": {name: int(sizes[g]) for g, name in enumerate(data.group_names)},
        "groups": list(result.groups),
        "dropped": result.dropped,
        "fit_seconds": round(seconds, 3),
    }


def fit_with_limits(
    data: ChoiceData, config: PrefsConfig, filters: Filters | None = None, progress=None, threads: int | None = 1
) -> PrefsResult:
    """``run_prefs`` with BLAS limited to ``threads`` (None: the library's default). One thread by default: on cores
    shared with other work, OpenBLAS's threads spin against it (a 140,000 x 67 product took 0.02 s on one thread and
    0.1-5 s on two on the shared development machine); bench/bench_prefs.py measures both."""
    if threads is None:
        return run_prefs(data, config, filters, progress)
    with threadpool_limits(threads):
        return run_prefs(data, config, filters, progress)
