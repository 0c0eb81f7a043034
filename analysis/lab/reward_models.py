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
    prob = _Problem(phi, chosen, group, n_groups, weights, prior_mean, prior_prec)
    G, d = prob.G, prob.d
    theta = np.zeros((G, d)) if theta0 is None else np.array(theta0, dtype=float).reshape(G, d)
    if solver == "lbfgs":

        def fun(x):
            f, g, _ = prob.terms(x.reshape(G, d))
            return float(f.sum()), g.ravel()

        res = scipy.optimize.minimize(
            fun,
            theta.ravel(),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter * 20, "gtol": tol, "ftol": 1e-15},
        )
        th = res.x.reshape(G, d)
        return MNLFit(th, float(res.fun), int(res.nit), bool(res.success))
    if solver != "newton":
        raise ValueError(f"unknown solver {solver!r}: 'newton' or 'lbfgs'")
    f, g, h = prob.terms(theta, hessian=True)
    converged = False
    it = 0
    for _it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(h, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h.reshape(-1, d), g.ravel(), rcond=None)[0].reshape(G, d)
        decrement = np.einsum("gd,gd->g", g, step)  # Newton decrement^2 per block
        active = decrement >= 2 * tol  # converged blocks stay where they are
        if not active.any():
            converged = True
            break
        t = np.ones(G)
        new = theta.copy()
        slack = 1e-12 * (1.0 + np.abs(f))  # round-off: a step that changes f by less than this is fine
        for _ in range(40):  # per-block backtracking (Armijo)
            cand = np.where(active[:, None], theta - t[:, None] * step, new)
            fc = prob.per_block_objective(cand)
            ok = fc <= f - 1e-4 * t * decrement + slack
            newly = active & ok
            new[newly] = cand[newly]
            active &= ~ok
            if not active.any():
                break
            t[active] *= 0.5
        theta = new
        f, g, h = prob.terms(theta, hessian=True)
    return MNLFit(theta, float(f.sum()), it, converged)


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
    here when not given); each type starts at its cluster's mean reward. E-step: each annotator's posterior over types from the
    log-likelihood of all their choices. M-step: one Newton step per type on the weighted likelihood with a
    backtracking line search (a generalised EM step: the expected complete-data log-likelihood never decreases),
    all K types at once. Stops when the log-likelihood gains less than ``tol`` per observation, then (``polish``)
    finishes with L-BFGS on the marginal likelihood, which converges where EM would crawl.
    """
    phi = np.asarray(phi, dtype=float)
    chosen = np.asarray(chosen, dtype=int)
    n, k, d = phi.shape
    annotator = np.asarray(annotator, dtype=int)
    A = int(n_annotators)
    K = int(n_components)
    if K < 1:
        raise ValueError(f"the number of mixture components must be at least 1 (got {K})")
    if init_theta is None:
        pooled = fit_pooled(phi, chosen)
        init_theta = fit_per_annotator(phi, chosen, annotator, A, np.broadcast_to(pooled, (A, d)), 1.0)
    feats = init_theta / (init_theta.std(axis=0, keepdims=True) + 1e-12)
    labels = _kmeans(feats, K, rng)
    resp = np.full((A, K), 1e-3)
    resp[np.arange(A), labels] = 1.0
    resp /= resp.sum(1, keepdims=True)
    S = scipy.sparse.csr_matrix((np.ones(n), (annotator, np.arange(n))), shape=(A, n))
    rows = np.arange(n)
    phi_ch = phi[rows, chosen]  # (n, d)
    # candidate-major layout (k, n, .): the k-way reductions become elementwise work on contiguous (n, K) slabs
    phik = np.ascontiguousarray(phi.transpose(1, 0, 2))  # (k, n, d)
    ppk = phik[..., :, None] * phik[..., None, :]  # (k, n, d, d)
    ppk = ppk.reshape(k, n, d * d)
    eye = np.eye(d)

    def log_probs(th):  # (k, n, K): log P(candidate | type)
        u = phik @ th.T
        m = u.max(axis=0)
        return u - (m + np.log(np.exp(u - m).sum(axis=0)))

    def m_objective(lp, W, th):
        return -np.einsum("nj,nj->j", W, lp[chosen, rows]) + 0.5 * RIDGE * np.sum(th**2, axis=1)

    # start each type at the mean reward of its k-means cluster; EM's Newton steps take it from there
    theta = np.array([init_theta[labels == j].mean(0) if np.any(labels == j) else init_theta.mean(0) for j in range(K)])
    lp = log_probs(theta)
    ll_old = -np.inf
    converged = False
    it = 0
    ll = -np.inf
    for _it in range(1, max_iter + 1):
        # E-step
        pi = (resp.sum(0) + 1e-3) / (A + K * 1e-3)
        obs_ll = lp[chosen, rows]  # (n, K)
        log_post = np.asarray(S @ obs_ll) + np.log(pi)[None]
        mx = log_post.max(1, keepdims=True)
        norm = mx[:, 0] + np.log(np.exp(log_post - mx).sum(1))
        resp = np.exp(log_post - norm[:, None])
        ll = float(norm.sum())
        if ll - ll_old < tol * n:
            converged = True
            break
        ll_old = ll
        # M-step: one damped Newton step per type, all types at once
        W = resp[annotator]  # (n, K)
        p = np.exp(lp)  # (k, n, K)
        mean_phi = np.zeros((n, K, d))
        g = RIDGE * theta - W.T @ phi_ch
        h = np.zeros((K, d * d))
        for j in range(k):
            wp = W * p[j]  # (n, K)
            g += wp.T @ phik[j]
            h += wp.T @ ppk[j]
            mean_phi += p[j][:, :, None] * phik[j][:, None, :]
        h = h.reshape(K, d, d) - np.matmul((W[:, :, None] * mean_phi).transpose(1, 2, 0), mean_phi.transpose(1, 0, 2))
        h += RIDGE * eye[None]
        step = np.linalg.solve(h, g[..., None])[..., 0]
        dec = np.einsum("jd,jd->j", g, step)
        f0 = m_objective(lp, W, theta)
        t = np.ones(K)
        active = np.ones(K, dtype=bool)
        new = theta.copy()
        lp_c = lp
        for _ in range(30):
            cand = np.where(active[:, None], theta - t[:, None] * step, new)
            lp_c = log_probs(cand)
            ok = m_objective(lp_c, W, cand) <= f0 - 1e-4 * t * dec
            newly = active & ok
            new[newly] = cand[newly]
            active &= ~ok
            if not active.any():
                break
            t[active] *= 0.5
        lp = lp_c if not active.any() else log_probs(new)
        theta = new
    if polish:
        # EM crawls where types overlap: finish with L-BFGS on the marginal likelihood itself (the gradient is the
        # responsibility-weighted one EM uses), over the rewards and the mixing logits together
        log_pi0 = np.log(np.maximum(resp.mean(0), 1e-12))

        def nll(x):
            th, alpha = x[: K * d].reshape(K, d), x[K * d :]
            log_pi = alpha - np.logaddexp.reduce(alpha)
            lpx = log_probs(th)
            lpost = np.asarray(S @ lpx[chosen, rows]) + log_pi[None]
            mx = lpost.max(1, keepdims=True)
            nrm = mx[:, 0] + np.log(np.exp(lpost - mx).sum(1))
            r = np.exp(lpost - nrm[:, None])
            W = r[annotator]
            p = np.exp(lpx)
            g = RIDGE * th - W.T @ phi_ch
            for j in range(k):
                g += (W * p[j]).T @ phik[j]
            g_alpha = -(r.sum(0) - A * np.exp(log_pi))
            f = -nrm.sum() + 0.5 * RIDGE * np.sum(th**2)
            return f, np.concatenate([g.ravel(), g_alpha])

        res = scipy.optimize.minimize(
            nll,
            np.concatenate([theta.ravel(), log_pi0]),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 500, "gtol": 1e-6 * n, "ftol": 1e-12},
        )
        if -res.fun - 0.5 * RIDGE * np.sum(res.x[: K * d] ** 2) >= ll:
            theta = res.x[: K * d].reshape(K, d)
            alpha = res.x[K * d :]
            log_pi = alpha - np.logaddexp.reduce(alpha)
            lpost = np.asarray(S @ log_probs(theta)[chosen, rows]) + log_pi[None]
            mx = lpost.max(1, keepdims=True)
            nrm = mx[:, 0] + np.log(np.exp(lpost - mx).sum(1))
            resp = np.exp(lpost - nrm[:, None])
            ll = float(nrm.sum())
            it += int(res.nit)
            converged = bool(res.success)
    pi = resp.mean(0)
    return MixtureFit(theta.copy(), pi, resp, ll, it, converged)
