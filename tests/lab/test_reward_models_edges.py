"""Reward fits at their edges: rewards and ideal points by hand, a singular Hessian, a far start, k-means on clear
and on identical points, more types than annotators, and the mixture's reported log-likelihood recomputed here."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from analysis.lab import population, reward_models
from tests.lab.test_reward_models import _ideal_point_data


def test_rewards_by_hand_for_one_and_for_several_thetas():
    feats = np.array([[1.0, 2.0, -5.0], [0.0, -1.0, -1.0]])
    assert reward_models.rewards(np.array([1.0, 1.0, 1.0]), feats).tolist() == [-2.0, -2.0]
    both = reward_models.rewards(np.array([[1.0, 1.0, 1.0], [2.0, 0.0, 0.0]]), feats)
    assert both.tolist() == [[-2.0, -2.0], [2.0, 0.0]]


def test_quad_features_by_hand():
    assert reward_models.quad_features(np.array([[3.0, -4.0]])).tolist() == [[3.0, -4.0, -25.0]]


def test_no_optimum_with_a_short_w_still_points_along_w():
    far = reward_models.ideal_from_theta(np.array([0.3, 0.4, -1.0]))  # |w| = 0.5
    assert np.allclose(far, [0.6 * reward_models.R_MAX, 0.8 * reward_models.R_MAX])
    assert np.allclose(reward_models.ideal_from_theta(np.array([0.0, 0.0, -1.0])), [0.0, 0.0])


def test_a_singular_hessian_falls_back_to_least_squares():
    # the third feature is 0 everywhere and there is no prior: the Hessian is singular in that direction
    cands, chosen = _ideal_point_data(np.array([0.3, -0.2]), 2.0, 400, 4, seed=11)
    phi = reward_models.quad_features(cands)
    phi[..., 2] = 0.0
    fit = reward_models.fit_mnl(phi, chosen, prior_prec=0.0, max_iter=50)
    ref = reward_models.fit_mnl(phi[..., :2], chosen, prior_prec=0.0, max_iter=50)  # the same model without it
    assert np.all(np.isfinite(fit.theta)) and fit.theta[0, 2] == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(fit.theta[0, :2], ref.theta[0], atol=1e-6)


def test_a_far_start_reaches_the_same_optimum():
    cands, chosen = _ideal_point_data(np.array([0.4, -0.2]), 2.0, 2000, 4, seed=8)
    phi = reward_models.quad_features(cands)
    near = reward_models.fit_mnl(phi, chosen, prior_prec=1e-3)
    far = reward_models.fit_mnl(phi, chosen, prior_prec=1e-3, theta0=np.array([[40.0, -40.0, -30.0]]))
    assert far.converged and np.allclose(far.theta, near.theta, atol=1e-6)


def test_kmeans_finds_three_clear_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = np.concatenate([c + rng.normal(0, 0.3, size=(30, 2)) for c in centres])
    labels = reward_models._kmeans(x, 3, np.random.default_rng(1))
    truth = np.repeat(np.arange(3), 30)
    for j in range(3):  # each true cluster is one label, and the three labels differ
        assert len(set(labels[truth == j])) == 1
    assert len(set(labels)) == 3


def test_kmeans_of_identical_points():
    labels = reward_models._kmeans(np.ones((5, 3)), 2, np.random.default_rng(0))
    assert labels.shape == (5,) and set(labels) <= {0, 1}


def _mixture_case(seed=5):
    cands, chosen = _ideal_point_data(np.array([0.2, 0.1]), 2.0, 600, 4, seed=seed)
    return reward_models.quad_features(cands), chosen, np.repeat(np.arange(60), 10)


def _marginal_log_likelihood(phi, chosen, ann, theta, weights):
    """log prod_a sum_k pi_k prod_{i of a} softmax(phi_i theta_k)[chosen_i], written out here."""
    u = np.einsum("nkd,jd->njk", phi, theta)  # (n, K, k)
    logp = u - logsumexp(u, axis=2, keepdims=True)
    per_obs = logp[np.arange(len(chosen)), :, chosen]  # (n, K)
    per_ann = np.zeros((ann.max() + 1, theta.shape[0]))
    np.add.at(per_ann, ann, per_obs)
    return float(logsumexp(per_ann + np.log(weights)[None], axis=1).sum())


@pytest.mark.parametrize("polish", [False, True])
def test_the_reported_log_likelihood_is_the_marginal_at_the_reported_fit(polish):
    phi, chosen, ann = _mixture_case()
    fit = reward_models.fit_mixture(phi, chosen, ann, 60, 2, np.random.default_rng(1), polish=polish)
    assert fit.weights.shape == (2,) and fit.weights.sum() == pytest.approx(1.0)
    assert fit.resp.shape == (60, 2) and np.allclose(fit.resp.sum(1), 1.0)
    if polish:  # the polished weights are the mixing proportions the likelihood is computed with
        assert fit.log_likelihood == pytest.approx(
            _marginal_log_likelihood(phi, chosen, ann, fit.theta, fit.weights), rel=1e-6
        )
    else:  # after EM the last E-step used pi = (sum of resp + 1e-3) / (A + K 1e-3), one step behind theta
        assert fit.log_likelihood < 0 and np.isfinite(fit.log_likelihood)


def test_more_types_than_annotators():
    phi, chosen, ann = _mixture_case()
    keep = ann < 2  # two annotators, three types: k-means can fill only two
    fit = reward_models.fit_mixture(phi[keep], chosen[keep], ann[keep], 2, 3, np.random.default_rng(0), polish=False)
    assert fit.theta.shape == (3, 3) and np.all(np.isfinite(fit.theta)) and fit.weights.shape == (3,)


def _planted():
    planted = np.array([[0.8, 0.6], [-0.8, 0.5], [0.0, -0.9]])
    rng = np.random.default_rng(4)
    A, N, k = 90, 12, 4
    types = np.repeat(np.arange(3), A // 3)
    ann = np.repeat(np.arange(A), N)
    cands = rng.uniform(-1.25, 1.25, size=(A * N, k, 2))
    chosen = population.sample_choices(cands, planted[types][ann], population.ChoiceModel("ideal", 3.0), rng)
    return reward_models.quad_features(cands), chosen, ann, A


def test_em_alone_climbs_to_the_optimum_the_polish_reaches():
    phi, chosen, ann, A = _planted()
    rng = np.random.default_rng
    em = reward_models.fit_mixture(phi, chosen, ann, A, 3, rng(0), polish=False, tol=1e-7, max_iter=400)
    polished = reward_models.fit_mixture(phi, chosen, ann, A, 3, rng(0))
    assert em.converged
    # EM's own M-steps (Newton with a line search) must get where L-BFGS on the marginal likelihood gets
    assert em.log_likelihood == pytest.approx(polished.log_likelihood, abs=0.05)
    assert polished.log_likelihood >= em.log_likelihood - 0.05
    # and the reported likelihood is the marginal at the reported rewards, with pi from the responsibilities
    assert em.log_likelihood == pytest.approx(
        _marginal_log_likelihood(phi, chosen, ann, em.theta, em.resp.mean(0)), abs=0.05
    )


def test_grouped_fits_with_many_features_equal_each_group_alone():
    # 9 one-hot items: more than 6 features, the Hessian is built block by block
    rng = np.random.default_rng(3)
    items = np.array([rng.choice(9, 4, replace=False) for _ in range(600)])
    chosen = rng.integers(0, 4, 600)
    group = np.arange(600) % 3
    phi = reward_models.one_hot_features(items, 9)
    both = reward_models.fit_mnl(phi, chosen, group=group, n_groups=3, prior_prec=0.1).theta
    for g in range(3):
        alone = reward_models.fit_mnl(phi[group == g], chosen[group == g], prior_prec=0.1).theta[0]
        assert np.allclose(both[g], alone, atol=1e-6)


def test_the_default_prior_is_weak():
    cands, chosen = _ideal_point_data(np.array([0.4, -0.2]), 2.0, 500, 4, seed=9)
    phi = reward_models.quad_features(cands)
    assert np.allclose(
        reward_models.fit_mnl(phi, chosen).theta, reward_models.fit_mnl(phi, chosen, prior_prec=1e-4).theta
    )


# ------------------------------------------------------------------ the Newton line search, the caps, the mixture's
def _one_block(phi, chosen, prec, mean):
    """A one-block problem and its penalised negative log-likelihood written out here (numpy/scipy only)."""
    prob = reward_models._Problem(phi, chosen, None, 1, None, np.array([mean]), prec)

    def f(theta):
        u = phi @ theta
        return float(
            -(u[np.arange(len(chosen)), chosen] - logsumexp(u, axis=1)).sum() + 0.5 * prec * ((theta - mean) ** 2).sum()
        )

    return prob, f


def test_the_line_search_halves_a_step_that_overshoots_to_the_same_objective():
    """Armijo by hand: a step twice as long as the one to the minimum (along the gradient) ends where f is what it was,
    which is not a sufficient decrease (f - 1e-4 t g.s); half of it is. So the block moves by exactly half the step."""
    from scipy.optimize import brentq

    cands, chosen = _ideal_point_data(np.array([0.3, -0.2]), 2.0, 200, 4, seed=3)
    phi = reward_models.quad_features(cands)
    theta0 = np.array([0.5, 0.5, -0.5])
    prob, f = _one_block(phi, chosen, 1e-3, np.zeros(3))
    h = 1e-6
    g = np.array([(f(theta0 + h * e) - f(theta0 - h * e)) / (2 * h) for e in np.eye(3)])
    c_min = brentq(
        lambda c: g @ np.array([(f(theta0 - c * g + h * e) - f(theta0 - c * g - h * e)) / (2 * h) for e in np.eye(3)]),
        0,
        10,
    )
    c_back = brentq(lambda c: f(theta0 - c * g) - f(theta0), 1.2 * c_min, 10 * c_min)  # past the minimum, back at f
    step = c_back * g
    dec = float(g @ step)
    f0 = f(theta0)
    assert f(theta0 - step) > f0 - 1e-4 * dec and f(theta0 - 0.5 * step) <= f0 - 1e-4 * 0.5 * dec
    new = reward_models._line_search(prob, theta0[None], step[None], np.array([f0]), np.array([dec]), np.array([True]))
    assert np.allclose(new[0], theta0 - 0.5 * step, rtol=0, atol=1e-12)


@pytest.mark.parametrize("prec, mean, rise", [(0.0, 0.0, 5e-13), (2.0, -9.0, 5e-11)])
def test_the_line_search_accepts_a_step_within_round_off_of_f(prec, mean, rise):
    """A step that raises f by less than the round-off allowance 1e-12 (1 + |f|) is taken whole, for f near 0 (one
    clear choice, no prior: f = log(1 + e^-5)) and for f near 100 (a prior 10 away): converged blocks can finish."""
    phi, chosen = np.array([[[5.0], [0.0]]]), np.array([0])
    prob, f = _one_block(phi, chosen, prec, np.array([mean]))
    theta0 = np.array([1.0])
    h = 1e-5
    slope = (f(theta0 + h) - f(theta0 - h)) / (2 * h)
    step = np.array([-rise / slope])  # theta0 - step moves uphill by about `rise`
    f0 = f(theta0)
    assert 0.5 * rise < f(theta0 - step) - f0 < 1.5 * rise and rise < 0.6e-12 * (1 + abs(f0))
    dec = float(slope * step[0])
    new = reward_models._line_search(prob, theta0[None], step[None], np.array([f0]), np.array([dec]), np.array([True]))
    assert np.array_equal(new[0], theta0 - step)


def test_lbfgs_is_capped_at_twenty_iterations_per_newton_iteration():
    """40 one-hot items from a far random start: L-BFGS needs more than 20 iterations; max_iter=1 allows 20, 2 allows 40."""
    rng = np.random.default_rng(3)
    items = np.array([rng.choice(40, 4, replace=False) for _ in range(2000)])
    phi, chosen = reward_models.one_hot_features(items, 40), rng.integers(0, 4, 2000)
    start = rng.normal(0, 50, 40)[None]
    for cap in (1, 2):
        fit = reward_models.fit_mnl(phi, chosen, solver="lbfgs", max_iter=cap, tol=1e-14, theta0=start)
        assert fit.iterations == 20 * cap and not fit.converged


def test_initial_types_ignore_a_feature_every_annotator_shares():
    """A reward column equal for everyone (std 0) must not break the standardisation: the two clear clusters of the
    other columns are found and each type starts at its cluster's mean (numpy)."""
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1], 10)
    init = np.column_stack(
        [np.where(truth, 4.0, -4.0) + rng.normal(0, 0.2, 20), rng.normal(0, 0.2, 20), np.full(20, 0.5)]
    )
    prob = reward_models._MixtureProblem(np.zeros((20, 2, 3)), np.zeros(20, int), np.arange(20), 20)
    theta, resp = reward_models._initial_types(prob, init, 2, np.random.default_rng(1))
    want = sorted(init[truth == j].mean(0).tolist() for j in range(2))
    assert np.allclose(sorted(theta.tolist()), want)
    assert np.allclose(resp.max(1), 1 / (1 + 1e-3)) and len(set(resp.argmax(1)[truth == 0])) == 1


def test_one_type_without_polish_reports_the_plain_log_likelihood():
    """K = 1: the mixing proportion is exactly 1, so the reported log-likelihood is sum log softmax at theta (scipy)."""
    phi, chosen, ann = _mixture_case()
    fit = reward_models.fit_mixture(phi, chosen, ann, 60, 1, np.random.default_rng(0), polish=False, tol=1e-8)
    assert fit.converged and fit.weights.tolist() == [1.0]
    u = phi @ fit.theta[0]
    plain = float((u[np.arange(len(chosen)), chosen] - logsumexp(u, axis=1)).sum())
    assert fit.log_likelihood == pytest.approx(plain, rel=0, abs=1e-9)


@pytest.mark.parametrize("tol", [1e-3, 1e-7])
def test_the_polished_mixture_is_a_stationary_point_of_the_penalised_marginal_likelihood(tol):
    """At the polished fit the penalised marginal likelihood (written out here) is flat in every reward coefficient
    and in the mixing logits (central differences), to within L-BFGS's tolerance (1e-6 per observation). Also after
    a tight EM (tol 1e-7), whose small remaining gain the polish used to throw away (it subtracted the ridge penalty
    twice before comparing with EM's log-likelihood), returning a worse, non-stationary fit than the default tol."""
    phi, chosen, ann = _mixture_case()
    fit = reward_models.fit_mixture(phi, chosen, ann, 60, 2, np.random.default_rng(1), tol=tol, max_iter=400)
    K, d = fit.theta.shape

    def objective(x):
        theta, alpha = x[: K * d].reshape(K, d), x[K * d :]
        weights = np.exp(alpha - logsumexp(alpha))
        return (
            -_marginal_log_likelihood(phi, chosen, ann, theta, weights) + 0.5 * reward_models.RIDGE * (theta**2).sum()
        )

    x0 = np.concatenate([fit.theta.ravel(), np.log(fit.weights)])
    h = 1e-5
    grad = np.array([(objective(x0 + h * e) - objective(x0 - h * e)) / (2 * h) for e in np.eye(len(x0))])
    assert fit.converged
    assert np.abs(grad).max() < 1e-6 * len(chosen), grad


def test_the_m_step_halves_a_newton_step_that_overshoots():
    """One type, one feature: the M-step's Newton step s = g/h and its objective written out here. From a start
    where the full step overshoots (f rises by half the decrement g.s: found by bisection on the start), Armijo
    rejects the full step and takes half of it: the type moves by exactly s/2."""
    from scipy.optimize import brentq

    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 3, 1))
    u_true = 1.0 * x[..., 0] + rng.gumbel(size=(300, 3))
    chosen = u_true.argmax(1)
    prob = reward_models._MixtureProblem(x, chosen, np.zeros(300, int), 1)
    R = reward_models.RIDGE

    def f(th):
        u = x[..., 0] * th
        return float(-(u[np.arange(300), chosen] - logsumexp(u, axis=1)).sum() + 0.5 * R * th**2)

    def newton(th):
        u = x[..., 0] * th
        p = np.exp(u - logsumexp(u, axis=1, keepdims=True))
        mean = (p * x[..., 0]).sum(1)
        g = (mean - x[np.arange(300), chosen, 0]).sum() + R * th
        h = ((p * x[..., 0] ** 2).sum(1) - mean**2).sum() + R
        return g / h, g * g / h

    def rise(th):  # (f after the full step - f before) / decrement
        s, dec = newton(th)
        return (f(th - s) - f(th)) / dec

    start = brentq(lambda th: rise(th) - 0.5, 1.5, 50.0)
    s, dec = newton(start)
    assert f(start - 0.5 * s) <= f(start) - 1e-4 * 0.5 * dec  # half the step is a sufficient decrease
    theta = np.array([[start]])
    new, lp = reward_models._newton_step(prob, theta, prob.log_probs(theta), np.ones((1, 1)))
    assert new[0, 0] == pytest.approx(start - 0.5 * s, rel=0, abs=1e-9)


def test_newton_stops_once_every_decrement_is_below_twice_the_tolerance():
    """One feature, Newton written out here (full steps from 0: each is a sufficient decrease near the optimum).
    With tol = 0.6 x the third step's decrement, that decrement is below 2 tol (stop) but above tol: exactly 3
    steps are taken before it, the rewards are this Newton's third iterate, and the fit is converged."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 3, 1))
    chosen = (1.0 * x[..., 0] + rng.gumbel(size=(300, 3))).argmax(1)
    prec = 1e-3

    def newton(th):
        u = x[..., 0] * th
        p = np.exp(u - logsumexp(u, axis=1, keepdims=True))
        mean = (p * x[..., 0]).sum(1)
        g = (mean - x[np.arange(300), chosen, 0]).sum() + prec * th
        h = ((p * x[..., 0] ** 2).sum(1) - mean**2).sum() + prec
        return g / h, g * g / h

    iterates, decrements, th = [0.0], [], 0.0
    for _ in range(4):
        s, dec = newton(th)
        decrements.append(dec)
        th -= s
        iterates.append(th)
    tol = 0.6 * decrements[3]
    assert decrements[2] > 2 * tol  # the step before is still taken
    fit = reward_models.fit_mnl(x, chosen, prior_prec=prec, tol=tol)
    assert fit.converged and fit.iterations == 3
    assert fit.theta[0, 0] == pytest.approx(iterates[3], rel=0, abs=1e-12)
