"""A conditional logit over k-way choice sets, fast on many comparisons and many features.

Each comparison shows k candidates with features ``x_1 .. x_k`` (rows of ``X[:, i, :]``) and the person picks j with
probability ``softmax(theta . x)_j``: the same likelihood as ``analysis.lab.reward_models.fit_mnl`` (the top-1
Plackett-Luce / multinomial logit), with an L2 penalty ``lam / 2 * ||theta||^2``. The tests check the two agree.

``fit_mnl`` holds float64 features per observation and gathers each block's rows on every Newton step, which is right
for the simulator's three features. Here the features are embeddings (tens to hundreds of dimensions) on up to a
quarter of a million comparisons, so the data is laid out once, candidate-major and float32, in ``Part``s: contiguous
slices of rows (a group's training people, say). A fit sums over a list of parts without copying them; the Hessian is
a handful of float32 matrix products, and the gradient's chosen-candidate term is a constant computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Part:
    """A contiguous slice of comparisons: X (k, n, d) float32 candidate features, chosen (n,) the chosen slot."""

    X: np.ndarray
    chosen: np.ndarray

    @property
    def n(self) -> int:
        return int(self.chosen.shape[0])

    def chosen_features(self) -> np.ndarray:
        """(n, d): the features of the chosen candidate of each comparison."""
        return self.X[self.chosen, np.arange(self.n)]


def log_softmax_k(u: np.ndarray) -> np.ndarray:
    """Log-probabilities over the candidates (axis 0) of utilities u (k, n)."""
    m = u.max(axis=0, keepdims=True)
    return u - m - np.log(np.exp(u - m).sum(axis=0, keepdims=True))


def utilities(part: Part, theta: np.ndarray) -> np.ndarray:
    """(k, n) float64 utilities of a part's candidates."""
    t = np.asarray(theta, dtype=np.float32)
    return np.stack([part.X[j] @ t for j in range(part.X.shape[0])]).astype(np.float64)


@dataclass(frozen=True)
class Fit:
    theta: np.ndarray  # (d,) float64
    lam: float
    objective: float  # penalised negative log-likelihood at theta
    iterations: int
    converged: bool


HESSIAN_ROWS = 20_000  # the Hessian is computed on an evenly spaced sample of this many comparisons at most


class _Objective:
    """The penalised negative log-likelihood of theta over a list of parts, with gradient and Hessian.

    The value and the gradient are exact. Beyond ``hessian_rows`` comparisons the Hessian is estimated from an evenly
    spaced subsample (copied once, contiguous) and scaled to the full count: a subsampled Newton method, whose steps
    cost about two passes over the data; the line search keeps every step a descent on the exact objective."""

    def __init__(self, parts: Sequence[Part], lam: float, hessian_rows: int = HESSIAN_ROWS):
        self.parts = [p for p in parts if p.n]
        self.lam = float(lam)
        self.d = self.parts[0].X.shape[2] if self.parts else 0
        self.n = sum(p.n for p in self.parts)
        stride = max(1, -(-self.n // max(int(hessian_rows), 1)))
        self.sample = [np.ascontiguousarray(p.X[:, ::stride]) for p in self.parts] if stride > 1 else None
        n_sample = sum(x.shape[1] for x in self.sample) if self.sample else self.n
        self.scale = self.n / max(n_sample, 1)
        # sum of the chosen candidates' features: the constant half of the gradient
        self.chosen_sum = sum((p.chosen_features().sum(axis=0, dtype=np.float64) for p in self.parts), np.zeros(self.d))

    def value_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        f = 0.5 * self.lam * float(theta @ theta)
        g = self.lam * theta - self.chosen_sum
        for p in self.parts:
            logp = log_softmax_k(utilities(p, theta))
            f -= float(logp[p.chosen, np.arange(p.n)].sum())
            prob = np.exp(logp).astype(np.float32)  # (k, n)
            for j in range(p.X.shape[0]):
                g += (prob[j] @ p.X[j]).astype(np.float64)
        return f, g

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        h = np.zeros((self.d, self.d))
        t = np.asarray(theta, dtype=np.float32)
        for X in self.sample if self.sample is not None else [p.X for p in self.parts]:
            u = np.stack([X[j] @ t for j in range(X.shape[0])]).astype(np.float64)
            prob = np.exp(log_softmax_k(u)).astype(np.float32)
            mean = np.zeros((X.shape[1], self.d), dtype=np.float32)  # expected features under the model
            for j in range(X.shape[0]):
                weighted = X[j] * prob[j][:, None]
                mean += weighted
                h += (weighted.T @ X[j]).astype(np.float64)
            h -= (mean.T @ mean).astype(np.float64)
        return h * self.scale + self.lam * np.eye(self.d)


def fit(
    parts: Sequence[Part],
    lam: float,
    theta0: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
    hessian_rows: int = HESSIAN_ROWS,
) -> Fit:
    """MAP conditional logit over ``parts``: minimise ``sum -log p(chosen) + lam / 2 ||theta||^2`` by Newton's method
    (subsampled Hessian beyond ``hessian_rows`` comparisons) with a backtracking (Armijo) line search. Stops when the
    Newton decrement falls under ``tol`` per comparison (checked with the last Hessian, which saves computing one at
    the optimum)."""
    if lam <= 0:
        raise ValueError(f"the L2 strength must be positive (got {lam})")
    obj = _Objective(parts, lam, hessian_rows)
    theta = np.zeros(obj.d) if theta0 is None else np.asarray(theta0, dtype=np.float64).copy()
    f, g = obj.value_grad(theta)
    h = None
    limit = tol * max(obj.n, 1)
    for it in range(max_iter):
        if h is not None and float(g @ np.linalg.solve(h, g)) <= limit:
            return Fit(theta, lam, f, it, True)
        h = obj.hessian(theta)
        step = np.linalg.solve(h, g)
        decrement = float(g @ step)
        if decrement <= limit:
            return Fit(theta, lam, f, it, True)
        t = 1.0
        while True:
            cand = theta - t * step
            f_new, g_new = obj.value_grad(cand)
            if f_new <= f - 1e-4 * t * decrement + 1e-12 * abs(f) or t < 1e-10:
                break
            t *= 0.5
        theta, f, g = cand, f_new, g_new
    return Fit(theta, lam, f, max_iter, False)


def fit_path(
    train: Sequence[Part], valid: Sequence[Part], lams: Sequence[float], patience: int = 1
) -> tuple[float, list[tuple[float, float]], np.ndarray]:
    """Choose the L2 strength on held-out comparisons: fit ``train`` along ``lams`` (largest first, each fit warm-started
    from the last) and score the mean log-loss on ``valid``. Stops after ``patience`` strengths without improvement.
    Returns (best lam, [(lam, validation log-loss)], the fit at the best lam)."""
    theta = None
    scores: list[tuple[float, float]] = []
    best: tuple[float, float, np.ndarray] | None = None
    worse = 0
    for lam in sorted(lams, reverse=True):
        theta = fit(train, lam, theta0=theta).theta
        loss = float(np.mean(np.concatenate([per_comparison(p, theta)["log_loss"] for p in valid])))
        scores.append((float(lam), loss))
        if best is None or loss < best[1]:
            best, worse = (float(lam), loss, theta), 0
        else:
            worse += 1
            if worse >= patience:
                break
    assert best is not None
    return best[0], scores, best[2]


def per_comparison(part: Part, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Per comparison of ``part``: top-1 hit (the chosen candidate ranked first; chance 1/k), pairwise AUC (the share of the other
    k - 1 candidates the chosen one out-scores, ties count half; chance 0.5) and log-loss (-log p(chosen); chance
    log k)."""
    return metrics_from_utilities(utilities(part, theta), part.chosen)


def metrics_from_utilities(u: np.ndarray, chosen: np.ndarray) -> dict[str, np.ndarray]:
    """The per-comparison metrics of utilities u (k, n) for the chosen slots (n,)."""
    k, n = u.shape
    rows = np.arange(n)
    u_ch = u[chosen, rows]
    others = np.ones((k, n), dtype=bool)
    others[chosen, rows] = False
    wins = ((u_ch[None] > u) + 0.5 * (u_ch[None] == u)) * others
    top = u.max(axis=0)
    n_top = (u == top[None]).sum(axis=0)
    return {
        "top1": np.where(u_ch == top, 1.0 / n_top, 0.0),  # a tie for first place is broken at random
        "auc": wins.sum(axis=0) / max(k - 1, 1),
        "log_loss": -log_softmax_k(u)[chosen, rows],
    }
