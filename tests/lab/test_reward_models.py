"""Reward-model fits on k-way choices: agreement with choix and with L-BFGS, recovery, shrinkage, EM."""

from __future__ import annotations

import itertools

import choix
import numpy as np
import pytest

from analysis.lab import population, reward_models


def _top1_case(n_items, n, k, seed):
    rng = np.random.default_rng(seed)
    items = np.array([rng.choice(n_items, k, replace=False) for _ in range(n)])
    true = rng.normal(size=n_items)
    p = population.softmax(true[items])
    chosen = np.array([rng.choice(k, p=pi) for pi in p])
    data = [
        (int(items[i, chosen[i]]), tuple(int(x) for j, x in enumerate(items[i]) if j != chosen[i])) for i in range(n)
    ]
    return items, chosen, data


@pytest.mark.parametrize("n_items, k", [(6, 3), (9, 4)])  # 9 items: the many-feature Hessian path
def test_pooled_luce_fit_agrees_with_choix(n_items, k):
    items, chosen, data = _top1_case(n_items, 250, k, seed=n_items)
    alpha = 0.01
    ref = choix.opt_top1(n_items, data, alpha=alpha)
    phi = reward_models.one_hot_features(items, n_items)
    ours = reward_models.fit_mnl(phi, chosen, prior_prec=2 * alpha).theta[0]  # choix's penalty is alpha * ||theta||^2
    # the same optimum: equal parameters, and ours is no worse on choix's own objective
    assert np.allclose(ours, ref, atol=1e-5)
    fcts = choix.opt.Top1Fcts(data, alpha)
    assert fcts.objective(ours) <= fcts.objective(ref) + 1e-9
    assert np.linalg.norm(fcts.gradient(ours)) < 1e-5
    lbfgs = reward_models.fit_mnl(phi, chosen, prior_prec=2 * alpha, solver="lbfgs").theta[0]
    assert np.allclose(lbfgs, ours, atol=1e-4)
    # and the log-likelihoods agree (no penalty)
    assert np.isclose(
        choix.log_likelihood_top1(data, ours),
        -reward_models.fit_mnl(phi, chosen, prior_prec=2 * alpha, theta0=ours[None], max_iter=0).objective
        + alpha * np.sum(ours**2),
        atol=1e-6,
    )


def _ideal_point_data(ideal, beta, n, k, seed, box=1.25):
    rng = np.random.default_rng(seed)
    cands = rng.uniform(-box, box, size=(n, k, 2))
    chosen = population.sample_choices(
        cands, np.broadcast_to(ideal, (n, 2)), population.ChoiceModel("ideal", beta), rng
    )
    return cands, chosen


def test_quadratic_reward_recovers_an_ideal_point_and_beta():
    ideal, beta = np.array([-0.6, 0.3]), 3.0
    cands, chosen = _ideal_point_data(ideal, beta, 8000, 4, seed=1)
    theta = reward_models.fit_pooled(reward_models.quad_features(cands), chosen)
    assert np.allclose(theta, [2 * beta * ideal[0], 2 * beta * ideal[1], beta], atol=0.25)
    assert np.linalg.norm(reward_models.ideal_from_theta(theta) - ideal) < 0.05


def test_newton_and_lbfgs_agree_on_grouped_fits():
    cands, chosen = _ideal_point_data(np.array([0.2, 0.1]), 2.0, 3000, 4, seed=2)
    group = np.arange(3000) % 3
    phi = reward_models.quad_features(cands)
    a = reward_models.fit_mnl(phi, chosen, group=group, n_groups=3, prior_prec=1e-3)
    b = reward_models.fit_mnl(phi, chosen, group=group, n_groups=3, prior_prec=1e-3, solver="lbfgs")
    assert a.converged
    assert np.allclose(a.theta, b.theta, atol=1e-3)
    for g in range(3):  # a block fit equals fitting that group alone
        alone = reward_models.fit_mnl(phi[group == g], chosen[group == g], prior_prec=1e-3).theta[0]
        assert np.allclose(a.theta[g], alone, atol=1e-6)


def test_ideal_from_theta_reads_the_optimum_and_clips_when_there_is_none():
    assert np.allclose(reward_models.ideal_from_theta(np.array([2.0, -1.0, 2.0])), [0.5, -0.25])
    far = reward_models.ideal_from_theta(np.array([3.0, 4.0, -1.0]))  # no optimum: R_MAX along w
    assert np.allclose(far, [0.6 * reward_models.R_MAX, 0.8 * reward_models.R_MAX])
    assert np.linalg.norm(reward_models.ideal_from_theta(np.array([10.0, 0.0, 0.01]))) == pytest.approx(
        reward_models.R_MAX
    )


def test_per_annotator_shrinkage_moves_between_the_group_and_the_annotator():
    cands, chosen = _ideal_point_data(np.array([0.8, -0.5]), 3.0, 200, 4, seed=3)
    phi = reward_models.quad_features(cands)
    ann = np.repeat(np.arange(10), 20)
    prior = np.tile([0.0, 0.0, 1.0], (10, 1))
    strong = reward_models.fit_per_annotator(phi, chosen, ann, 10, prior, shrinkage=1e6)
    assert np.allclose(strong, prior, atol=1e-3)
    weak = reward_models.fit_per_annotator(phi, chosen, ann, 10, prior, shrinkage=1e-3)
    err_weak = np.linalg.norm(reward_models.ideal_from_theta(weak) - [0.8, -0.5], axis=1).mean()
    err_mid = np.linalg.norm(
        reward_models.ideal_from_theta(reward_models.fit_per_annotator(phi, chosen, ann, 10, prior, shrinkage=1.0))
        - [0.8, -0.5],
        axis=1,
    ).mean()
    assert err_mid < np.linalg.norm(reward_models.ideal_from_theta(prior[0]) - [0.8, -0.5])
    assert np.isfinite(err_weak)
    with pytest.raises(ValueError, match="shrinkage"):
        reward_models.fit_per_annotator(phi, chosen, ann, 10, prior, shrinkage=0)


def test_em_recovers_a_planted_mixture():
    planted = np.array([[0.8, 0.6], [-0.8, 0.5], [0.0, -0.9]])
    rng = np.random.default_rng(4)
    A, N, k = 240, 15, 4
    types = np.repeat(np.arange(3), A // 3)
    ann = np.repeat(np.arange(A), N)
    cands = rng.uniform(-1.25, 1.25, size=(A * N, k, 2))
    chosen = population.sample_choices(cands, planted[types][ann], population.ChoiceModel("ideal", 3.0), rng)
    fit = reward_models.fit_mixture(reward_models.quad_features(cands), chosen, ann, A, 3, np.random.default_rng(0))
    rec = reward_models.ideal_from_theta(fit.theta)
    perm = min(itertools.permutations(range(3)), key=lambda p: np.linalg.norm(rec[list(p)] - planted, axis=1).sum())
    assert np.all(np.linalg.norm(rec[list(perm)] - planted, axis=1) < 0.15)
    assigned = np.argmax(fit.resp, axis=1)
    assert np.mean(np.array(perm)[types] == assigned) > 0.95
    assert np.allclose(fit.weights, 1 / 3, atol=0.05)
    # the log-likelihood beats the one-type model
    one = reward_models.fit_mixture(reward_models.quad_features(cands), chosen, ann, A, 1, np.random.default_rng(0))
    assert fit.log_likelihood > one.log_likelihood + 100


def test_mixture_is_deterministic_by_rng():
    cands, chosen = _ideal_point_data(np.array([0.2, 0.1]), 2.0, 600, 4, seed=5)
    ann = np.repeat(np.arange(60), 10)
    a = reward_models.fit_mixture(reward_models.quad_features(cands), chosen, ann, 60, 2, np.random.default_rng(7))
    b = reward_models.fit_mixture(reward_models.quad_features(cands), chosen, ann, 60, 2, np.random.default_rng(7))
    assert np.array_equal(a.theta, b.theta) and np.array_equal(a.resp, b.resp)


def test_newton_counts_its_steps_and_reports_convergence():
    cands, chosen = _ideal_point_data(np.array([0.4, -0.2]), 2.0, 2000, 4, seed=8)
    phi = reward_models.quad_features(cands)
    full = reward_models.fit_mnl(phi, chosen, prior_prec=1e-3)
    assert full.converged and 2 <= full.iterations < 100  # a few Newton steps from zero, then the decrement is ~0
    one = reward_models.fit_mnl(phi, chosen, prior_prec=1e-3, max_iter=1)
    assert one.iterations == 1 and not one.converged
    assert one.objective > full.objective  # one step is not yet the optimum
    # started at the optimum, Newton has nothing to do
    again = reward_models.fit_mnl(phi, chosen, prior_prec=1e-3, theta0=full.theta)
    assert again.converged and again.iterations == 0
    lbfgs = reward_models.fit_mnl(phi, chosen, prior_prec=1e-3, solver="lbfgs")
    assert lbfgs.iterations > 0


def test_mixture_counts_em_and_polish_iterations():
    cands, chosen = _ideal_point_data(np.array([0.2, 0.1]), 2.0, 600, 4, seed=5)
    ann = np.repeat(np.arange(60), 10)
    phi = reward_models.quad_features(cands)
    rng = np.random.default_rng
    plain = reward_models.fit_mixture(phi, chosen, ann, 60, 2, rng(1), polish=False, max_iter=3, tol=-np.inf)
    assert plain.iterations == 3 and not plain.converged  # a tolerance nothing meets: exactly three iterations
    settled = reward_models.fit_mixture(phi, chosen, ann, 60, 2, rng(1), polish=False)
    assert settled.converged and 1 <= settled.iterations < 150
    polished = reward_models.fit_mixture(phi, chosen, ann, 60, 2, rng(1), max_iter=3, tol=-np.inf)
    assert polished.iterations >= 3 and polished.log_likelihood >= plain.log_likelihood - 1e-6
