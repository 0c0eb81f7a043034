"""Reward models fitted on k-way choices (the multinomial / Plackett-Luce top-1 likelihood, not reduced to pairs).

Every model here is a multinomial logit: shown candidates with features ``phi_1 .. phi_k`` an annotator picks j
with probability ``softmax(theta . phi)_j``. On the value plane the features are ``phi(x) = (x, y, -||x||^2)``,
so the reward ``r(x) = w . x - c ||x||^2`` is a quadratic whose optimum - the recovered ideal point - is
``w / (2c)`` when ``c > 0``. (The true ideal-point utility ``-beta ||x - m||^2`` is exactly of this form with
``w = 2 beta m`` and ``c = beta``; a linear utility ``w . x`` is the case ``c = 0``.)

Models:

``fit_pooled``         one reward for everyone (the standard RLHF assumption);
``fit_conditional``    one reward per known group (country);
``fit_mixture``        K latent reward types fitted by EM, each annotator's choices sharing one type
                       (the MaxMin-RLHF / EM-DPO family);
``fit_per_annotator``  one reward per annotator, MAP with a Gaussian prior centred on the annotator's group fit
                       (shrinkage toward the group).

The core solver ``fit_mnl`` fits G independent blocks of parameters at once (observation i belongs to block
``group[i]`` with weight ``weights[i]``) with an optional Gaussian prior ``0.5 * prec * ||theta_g - mu_g||^2``.
Two solvers share one objective and its analytic gradient: Newton's method with the analytic block Hessians and
a per-block backtracking line search (the default: each block has only d parameters) and scipy's L-BFGS-B; the
tests check they agree, and that the one-hot case agrees with ``choix.opt_top1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.sparse

R_MAX = 3.0  # recovered ideal points are clipped to this radius (a non-positive curvature has no optimum)
C_MIN = 1e-6


# -------------------------------------------------------------------------------------------------- features
def quad_features(points: np.ndarray) -> np.ndarray:
    """(..., 2) points -> (..., 3) features (x, y, -||x||^2)."""
    points = np.asarray(points, dtype=float)
    return np.concatenate([points, -np.sum(points**2, axis=-1, keepdims=True)], axis=-1)


def one_hot_features(items: np.ndarray, n_items: int) -> np.ndarray:
    """(n, k) item indices -> (n, k, n_items) one-hot features (the discrete Luce model)."""
    return np.eye(n_items)[np.asarray(items, dtype=int)]


def ideal_from_theta(theta: np.ndarray, r_max: float = R_MAX) -> np.ndarray:
    """Optimum ``w / (2c)`` of quadratic rewards theta (..., 3) -> (..., 2), clipped to radius ``r_max``.

    Where ``c <= 0`` the reward keeps rising along ``w`` without end; the point is put at ``r_max`` along ``w``.
    """
    theta = np.asarray(theta, dtype=float)
    w, c = theta[..., :2], theta[..., 2]
    pos = c > C_MIN
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(pos[..., None], w / (2 * np.where(pos, c, 1.0))[..., None], 0.0)
    norm_w = np.linalg.norm(w, axis=-1, keepdims=True)
    direction = np.where(norm_w > 0, w / np.where(norm_w > 0, norm_w, 1.0), 0.0)
    m = np.where(pos[..., None], m, r_max * direction)
    norm = np.linalg.norm(m, axis=-1, keepdims=True)
    return np.where(norm > r_max, m * (r_max / np.where(norm > 0, norm, 1.0)), m)


def rewards(theta: np.ndarray, features: np.ndarray) -> np.ndarray:
    """theta (d,) or (G, d) and features (..., d) -> rewards (...) or (G, ...)."""
    theta = np.asarray(theta, dtype=float)
    if theta.ndim == 1:
        return features @ theta
    return np.einsum("gd,...d->g...", theta, features)


# ------------------------------------------------------------------------------------------------ core solver
def log_softmax(u: np.ndarray) -> np.ndarray:
    m = u.max(axis=-1, keepdims=True)
    return u - m - np.log(np.exp(u - m).sum(axis=-1, keepdims=True))


class _Problem:
    """Negative log-likelihood of G blocks of multinomial-logit parameters, with gradient and block Hessians."""

    def __init__(self, phi, chosen, group, n_groups, weights, prior_mean, prior_prec):
        self.phi = np.asarray(phi, dtype=float)  # (n, k, d)
        n, k, d = self.phi.shape
        self.n, self.k, self.d = n, k, d
        self.chosen = np.asarray(chosen, dtype=int)
        self.group = np.zeros(n, dtype=int) if group is None else np.asarray(group, dtype=int)
        self.G = int(n_groups)
        self.w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        self.mu = (
            np.zeros((self.G, d)) if prior_mean is None else np.broadcast_to(prior_mean, (self.G, d)).astype(float)
        )
        self.prec = np.broadcast_to(np.asarray(prior_prec, dtype=float), (self.G,)).astype(float)
        self.phi_chosen = self.phi[np.arange(n), self.chosen]  # (n, d)
        # sum over the observations of each block, weighted: a sparse (G x n) matrix
        self.S = scipy.sparse.csr_matrix((self.w, (self.group, np.arange(n))), shape=(self.G, n))
        self._pp = None  # per-candidate outer products phi phi^T, built on the first Hessian

    @property
    def pp(self) -> np.ndarray:
        if self._pp is None:
            self._pp = (self.phi[..., :, None] * self.phi[..., None, :]).reshape(self.n, self.k, self.d * self.d)
        return self._pp

    def per_block_objective(self, theta: np.ndarray) -> np.ndarray:
        u = np.einsum("nkd,nd->nk", self.phi, theta[self.group])
        nll = -log_softmax(u)[np.arange(self.n), self.chosen]
        prior = 0.5 * self.prec * np.sum((theta - self.mu) ** 2, axis=1)
        return np.asarray(self.S @ nll).ravel() + prior

    def terms(self, theta: np.ndarray, hessian: bool = False):
        u = np.einsum("nkd,nd->nk", self.phi, theta[self.group])
        logp = log_softmax(u)
        p = np.exp(logp)
        nll = -logp[np.arange(self.n), self.chosen]
        mean_phi = np.einsum("nk,nkd->nd", p, self.phi)
        grad_i = mean_phi - self.phi_chosen  # (n, d)
        diff = theta - self.mu
        f = np.asarray(self.S @ nll).ravel() + 0.5 * self.prec * np.sum(diff**2, axis=1)
        g = np.asarray(self.S @ grad_i) + self.prec[:, None] * diff
        if not hessian:
            return f, g, None
        d = self.d
        if d <= 6:  # per-observation outer products are small: sum them per block with one sparse product
            second = np.einsum("nk,nkf->nf", p, self.pp)
            h_i = second - (mean_phi[:, :, None] * mean_phi[:, None, :]).reshape(self.n, -1)
            h = np.asarray(self.S @ h_i).reshape(self.G, d, d)
        else:  # many features: per block, X^T diag(w p) X - M^T diag(w) M with dense products
            h = np.zeros((self.G, d, d))
            wp = (self.w[:, None] * p).reshape(-1)
            flat = self.phi.reshape(-1, d)
            for gi, (idx, fidx) in enumerate(self.block_index):
                if idx.size == 0:
                    continue
                xf = flat[fidx]
                m = mean_phi[idx]
                h[gi] = (xf * wp[fidx, None]).T @ xf - (m * self.w[idx, None]).T @ m
        h += self.prec[:, None, None] * np.eye(d)[None]
        return f, g, h

    @property
    def block_index(self):
        if getattr(self, "_blocks", None) is None:
            order = np.argsort(self.group, kind="stable")
            bounds = np.searchsorted(self.group[order], np.arange(self.G + 1))
            blocks = []
            for gi in range(self.G):
                idx = order[bounds[gi] : bounds[gi + 1]]
                fidx = (idx[:, None] * self.k + np.arange(self.k)[None]).ravel()
                blocks.append((idx, fidx))
            self._blocks = blocks
        return self._blocks


@dataclass(frozen=True)
class MNLFit:
    theta: np.ndarray  # (G, d)
    objective: float  # penalised negative log-likelihood at theta (summed over blocks)
    iterations: int
    converged: bool


def _lbfgs(prob: _Problem, theta: np.ndarray, max_iter: int, tol: float) -> MNLFit:
    G, d = theta.shape

    def fun(x):
        f, g, _ = prob.terms(x.reshape(G, d))
        return float(f.sum()), g.ravel()

    options = {"maxiter": max_iter * 20, "gtol": tol, "ftol": 1e-15}
    res = scipy.optimize.minimize(fun, theta.ravel(), jac=True, method="L-BFGS-B", options=options)
    return MNLFit(res.x.reshape(G, d), float(res.fun), int(res.nit), bool(res.success))


def _line_search(prob: _Problem, theta, step, f, decrement, active) -> np.ndarray:
    """Per-block backtracking (Armijo) along the Newton step; blocks not ``active`` stay where they are."""
    t = np.ones(len(theta))
    new = theta.copy()
    slack = 1e-12 * (1.0 + np.abs(f))  # round-off: a step that changes f by less than this is fine
    for _ in range(40):
        cand = np.where(active[:, None], theta - t[:, None] * step, new)
        ok = prob.per_block_objective(cand) <= f - 1e-4 * t * decrement + slack
        new[active & ok] = cand[active & ok]
        active = active & ~ok
        if not active.any():
            break
        t[active] *= 0.5
    return new


def _newton(prob: _Problem, theta: np.ndarray, max_iter: int, tol: float) -> MNLFit:
    """Newton's method with the analytic block Hessians; ``iterations`` counts the steps taken."""
    G, d = theta.shape
    f, g, h = prob.terms(theta, hessian=True)
    steps, converged = 0, False
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(h, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h.reshape(-1, d), g.ravel(), rcond=None)[0].reshape(G, d)
        decrement = np.einsum("gd,gd->g", g, step)  # Newton decrement^2 per block
        active = decrement >= 2 * tol  # converged blocks stay where they are
        if not active.any():
            converged = True
            break
        theta = _line_search(prob, theta, step, f, decrement, active)
        steps += 1
        f, g, h = prob.terms(theta, hessian=True)
    return MNLFit(theta, float(f.sum()), steps, converged)


def fit_mnl(
    phi: np.ndarray,
    chosen: np.ndarray,
    group: np.ndarray | None = None,
    n_groups: int = 1,
    weights: np.ndarray | None = None,
    prior_mean: np.ndarray | None = None,
    prior_prec: float | np.ndarray = 1e-4,
    theta0: np.ndarray | None = None,
    solver: str = "newton",
    max_iter: int = 100,
    tol: float = 1e-10,
) -> MNLFit:
    """MAP fit of G blocks of multinomial-logit parameters on k-way top-1 choices.

    phi (n, k, d) candidate features; chosen (n,) the index of the chosen candidate; group (n,) the block of each
    observation; weights (n,) observation weights; prior N(prior_mean, 1/prior_prec) per block (``prior_prec``
    > 0 keeps a block with no data, or separable data, finite). Returns theta (G, d).
    """
    if solver not in ("newton", "lbfgs"):
        raise ValueError(f"unknown solver {solver!r}: 'newton' or 'lbfgs'")
    prob = _Problem(phi, chosen, group, n_groups, weights, prior_mean, prior_prec)
    theta = np.zeros((prob.G, prob.d)) if theta0 is None else np.array(theta0, dtype=float).reshape(prob.G, prob.d)
    return (_lbfgs if solver == "lbfgs" else _newton)(prob, theta, max_iter, tol)


# ------------------------------------------------------------------------------------------------ the models
RIDGE = 1e-3  # a weak prior on every block keeps separable or empty data finite


def fit_pooled(phi, chosen, solver: str = "newton") -> np.ndarray:
    """One reward for everyone -> theta (d,)."""
    return fit_mnl(phi, chosen, prior_prec=RIDGE, solver=solver).theta[0]


def fit_conditional(phi, chosen, group, n_groups: int) -> np.ndarray:
    """One reward per known group -> theta (G, d)."""
    return fit_mnl(phi, chosen, group=group, n_groups=n_groups, prior_prec=RIDGE).theta


def fit_per_annotator(
    phi, chosen, annotator, n_annotators: int, prior_mean: np.ndarray, shrinkage: float
) -> np.ndarray:
    """One reward per annotator, MAP under N(prior_mean[a], I / shrinkage) -> theta (A, d).

    ``prior_mean`` (A, d) is each annotator's group fit (or the pooled fit when groups are unknown); ``shrinkage``
    is the prior precision: large values pull every annotator onto their group, small ones let each speak alone.
    """
    if not shrinkage > 0:
        raise ValueError(f"shrinkage (prior precision) must be > 0 (got {shrinkage})")
    return fit_mnl(
        phi, chosen, group=annotator, n_groups=n_annotators, prior_mean=prior_mean, prior_prec=shrinkage
    ).theta


@dataclass(frozen=True)
class MixtureFit:
    theta: np.ndarray  # (K, d) one reward per latent type
    weights: np.ndarray  # (K,) mixing proportions
    resp: np.ndarray  # (A, K) each annotator's posterior over types
    log_likelihood: float
    iterations: int
    converged: bool


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, n_iter: int = 30) -> np.ndarray:
    """k-means++ seeding then Lloyd iterations -> labels (n,). Deterministic given rng."""
    n = len(x)
    k = min(k, n)
    centers = [x[rng.integers(n)]]
    for _ in range(1, k):
        d2 = np.min(((x[:, None] - np.array(centers)[None]) ** 2).sum(-1), axis=1)
        total = d2.sum()
        idx = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        centers.append(x[idx])
    c = np.array(centers)
    labels = np.zeros(n, dtype=int)
    for _ in range(n_iter):
        labels = np.argmin(((x[:, None] - c[None]) ** 2).sum(-1), axis=1)
        new = np.array([x[labels == j].mean(0) if np.any(labels == j) else c[j] for j in range(k)])
        if np.allclose(new, c):
            break
        c = new
    return labels


class _MixtureProblem:
    """The arrays EM works on, laid out once: candidate-major (k, n, .) so that the k-way reductions are elementwise
    work on contiguous (n, K) slabs, and a sparse annotator-by-observation matrix for the per-annotator sums."""

    def __init__(self, phi: np.ndarray, chosen: np.ndarray, annotator: np.ndarray, n_annotators: int):
        self.n, self.k, self.d = phi.shape
        self.chosen = chosen
        self.annotator = annotator
        self.A = int(n_annotators)
        self.rows = np.arange(self.n)
        self.S = scipy.sparse.csr_matrix((np.ones(self.n), (annotator, self.rows)), shape=(self.A, self.n))
        self.phi_ch = phi[self.rows, chosen]  # (n, d)
        self.phik = np.ascontiguousarray(phi.transpose(1, 0, 2))  # (k, n, d)
        self.ppk = (self.phik[..., :, None] * self.phik[..., None, :]).reshape(self.k, self.n, self.d * self.d)

    def log_probs(self, theta: np.ndarray) -> np.ndarray:
        """(k, n, K): log P(candidate | type)."""
        u = self.phik @ theta.T
        m = u.max(axis=0)
        return u - (m + np.log(np.exp(u - m).sum(axis=0)))

    def posterior(self, lp: np.ndarray, log_pi: np.ndarray) -> tuple[np.ndarray, float]:
        """Each annotator's posterior over types given all their choices, and the marginal log-likelihood."""
        log_post = np.asarray(self.S @ lp[self.chosen, self.rows]) + log_pi[None]
        mx = log_post.max(1, keepdims=True)
        norm = mx[:, 0] + np.log(np.exp(log_post - mx).sum(1))
        return np.exp(log_post - norm[:, None]), float(norm.sum())

    def m_objective(self, lp: np.ndarray, W: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return -np.einsum("nj,nj->j", W, lp[self.chosen, self.rows]) + 0.5 * RIDGE * np.sum(theta**2, axis=1)

    def gradient(self, p: np.ndarray, W: np.ndarray, theta: np.ndarray) -> np.ndarray:
        g = RIDGE * theta - W.T @ self.phi_ch
        for j in range(self.k):
            g += (W * p[j]).T @ self.phik[j]
        return g


def _initial_types(prob: _MixtureProblem, init_theta: np.ndarray, K: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """k-means on the (standardised) per-annotator rewards: each type starts at its cluster's mean reward."""
    labels = _kmeans(init_theta / (init_theta.std(axis=0, keepdims=True) + 1e-12), K, rng)
    resp = np.full((prob.A, K), 1e-3)
    resp[np.arange(prob.A), labels] = 1.0
    resp /= resp.sum(1, keepdims=True)
    theta = np.array([init_theta[labels == j].mean(0) if np.any(labels == j) else init_theta.mean(0) for j in range(K)])
    return theta, resp


def _newton_step(prob: _MixtureProblem, theta: np.ndarray, lp: np.ndarray, resp: np.ndarray):
    """M-step: one damped Newton step per type on the responsibility-weighted likelihood, all types at once, with a
    per-type backtracking line search (a generalised EM step: the expected log-likelihood never decreases)."""
    K, d = theta.shape
    W = resp[prob.annotator]  # (n, K)
    p = np.exp(lp)  # (k, n, K)
    mean_phi = np.zeros((prob.n, K, d))
    h = np.zeros((K, d * d))
    for j in range(prob.k):
        h += (W * p[j]).T @ prob.ppk[j]
        mean_phi += p[j][:, :, None] * prob.phik[j][:, None, :]
    g = prob.gradient(p, W, theta)
    h = h.reshape(K, d, d) - np.matmul((W[:, :, None] * mean_phi).transpose(1, 2, 0), mean_phi.transpose(1, 0, 2))
    h += RIDGE * np.eye(d)[None]
    step = np.linalg.solve(h, g[..., None])[..., 0]
    dec = np.einsum("jd,jd->j", g, step)
    f0 = prob.m_objective(lp, W, theta)
    t, active, new = np.ones(K), np.ones(K, dtype=bool), theta.copy()
    for _ in range(30):
        cand = np.where(active[:, None], theta - t[:, None] * step, new)
        ok = prob.m_objective(prob.log_probs(cand), W, cand) <= f0 - 1e-4 * t * dec
        new[active & ok] = cand[active & ok]
        active &= ~ok
        if not active.any():
            break
        t[active] *= 0.5
    return new, prob.log_probs(new)


def _polish(prob: _MixtureProblem, theta: np.ndarray, resp: np.ndarray, ll: float):
    """EM crawls where types overlap: finish with L-BFGS on the marginal likelihood itself (its gradient is the
    responsibility-weighted one EM uses), over the rewards and the mixing logits together. Keeps the result only
    when it is better. Returns (theta, resp, ll, iterations, converged) or None."""
    K, d = theta.shape

    def nll(x):
        th, alpha = x[: K * d].reshape(K, d), x[K * d :]
        log_pi = alpha - np.logaddexp.reduce(alpha)
        lpx = prob.log_probs(th)
        r, marginal = prob.posterior(lpx, log_pi)
        g = prob.gradient(np.exp(lpx), r[prob.annotator], th)
        g_alpha = -(r.sum(0) - prob.A * np.exp(log_pi))
        return -marginal + 0.5 * RIDGE * np.sum(th**2), np.concatenate([g.ravel(), g_alpha])

    x0 = np.concatenate([theta.ravel(), np.log(np.maximum(resp.mean(0), 1e-12))])
    opts = {"maxiter": 500, "gtol": 1e-6 * prob.n, "ftol": 1e-12}
    res = scipy.optimize.minimize(nll, x0, jac=True, method="L-BFGS-B", options=opts)
    if -res.fun + 0.5 * RIDGE * np.sum(res.x[: K * d] ** 2) < ll:  # the marginal log-likelihood (res.fun is penalised)
        return None
    theta = res.x[: K * d].reshape(K, d)
    alpha = res.x[K * d :]
    resp, ll = prob.posterior(prob.log_probs(theta), alpha - np.logaddexp.reduce(alpha))
    return theta, resp, ll, int(res.nit), bool(res.success)


def fit_mixture(
    phi: np.ndarray,
    chosen: np.ndarray,
    annotator: np.ndarray,
    n_annotators: int,
    n_components: int,
    rng: np.random.Generator,
    init_theta: np.ndarray | None = None,
    max_iter: int = 150,
    tol: float = 1e-3,
    polish: bool = True,
) -> MixtureFit:
    """EM for a mixture of K multinomial-logit rewards; all choices of one annotator share a latent type.

    Initialisation: k-means++ on per-annotator rewards shrunk toward the pooled fit (``init_theta`` (A, d), computed
    here when not given); each type starts at its cluster's mean reward. E-step: each annotator's posterior over
    types from the log-likelihood of all their choices. M-step: one Newton step per type (``_newton_step``). Stops
    when the log-likelihood gains less than ``tol`` per observation, then (``polish``) finishes with L-BFGS on the
    marginal likelihood, which converges where EM would crawl. ``iterations`` counts EM iterations plus L-BFGS's.
    """
    phi = np.asarray(phi, dtype=float)
    chosen = np.asarray(chosen, dtype=int)
    annotator = np.asarray(annotator, dtype=int)
    K = int(n_components)
    if K < 1:
        raise ValueError(f"the number of mixture components must be at least 1 (got {K})")
    prob = _MixtureProblem(phi, chosen, annotator, n_annotators)
    if init_theta is None:
        pooled = fit_pooled(phi, chosen)
        init_theta = fit_per_annotator(phi, chosen, annotator, prob.A, np.broadcast_to(pooled, (prob.A, prob.d)), 1.0)
    theta, resp = _initial_types(prob, init_theta, K, rng)
    lp = prob.log_probs(theta)
    ll_old, ll, iterations, converged = -np.inf, -np.inf, 0, False
    for _ in range(max_iter):
        iterations += 1
        pi = (resp.sum(0) + 1e-3) / (prob.A + K * 1e-3)
        resp, ll = prob.posterior(lp, np.log(pi))
        if ll - ll_old < tol * prob.n:
            converged = True
            break
        ll_old = ll
        theta, lp = _newton_step(prob, theta, lp, resp)
    if polish:
        polished = _polish(prob, theta, resp, ll)
        if polished is not None:
            theta, resp, ll, nit, converged = polished
            iterations += nit
    return MixtureFit(theta.copy(), resp.mean(0), resp, ll, iterations, converged)
