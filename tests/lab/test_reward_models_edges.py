"""Reward fits at their edges: rewards and ideal points by hand, a singular Hessian, a far start, k-means on clear
and on identical points, more types than annotators, and the mixture's reported log-likelihood recomputed here."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from analysis.lab import population, reward_models


def _ideal_point_data(ideal, beta, n, k, seed, box=1.25):
    rng = np.random.default_rng(seed)
    cands = rng.uniform(-box, box, size=(n, k, 2))
    chosen = population.sample_choices(
        cands, np.broadcast_to(ideal, (n, 2)), population.ChoiceModel("ideal", beta), rng
    )
    return cands, chosen


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
