"""The conditional logit on embeddings: the same optimum as reward_models.fit_mnl (a second implementation of the same
likelihood), the L2 strength chosen on held-out comparisons, and per-comparison metrics checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.lab import conditional_logit as cl
from analysis.lab import reward_models


def _problem(n=600, k=4, d=7, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(k, n, d)).astype(np.float32)
    theta = rng.normal(size=d) * scale
    u = np.einsum("knd,d->kn", X.astype(float), theta)
    p = np.exp(u - u.max(0)) / np.exp(u - u.max(0)).sum(0)
    chosen = np.array([rng.choice(k, p=p[:, i]) for i in range(n)])
    return X, chosen, theta


@pytest.mark.parametrize("lam", [0.01, 1.0, 50.0])
def test_same_optimum_as_fit_mnl(lam):
    X, chosen, _ = _problem()
    ours = cl.fit([cl.Part(X, chosen)], lam)
    assert ours.converged
    phi = X.transpose(1, 0, 2).astype(float)  # fit_mnl's (n, k, d) layout
    ref = reward_models.fit_mnl(phi, chosen, prior_prec=lam, tol=1e-14).theta[0]
    assert np.allclose(ours.theta, ref, atol=2e-4)


def test_parts_sum_like_one_block_and_the_objective_is_the_penalised_nll():
    X, chosen, _ = _problem(n=400)
    whole = cl.fit([cl.Part(X, chosen)], 1.0)
    split = cl.fit([cl.Part(X[:, :150], chosen[:150]), cl.Part(X[:, 150:], chosen[150:])], 1.0)
    assert np.allclose(whole.theta, split.theta, atol=1e-6)
    u = np.einsum("knd,d->kn", X.astype(float), whole.theta)
    nll = -(u[chosen, np.arange(400)] - np.log(np.exp(u).sum(0))).sum()
    assert whole.objective == pytest.approx(nll + 0.5 * whole.theta @ whole.theta, rel=1e-6)


def test_recovers_the_true_weights_with_enough_data():
    X, chosen, theta = _problem(n=20000, d=5, seed=3)
    fit = cl.fit([cl.Part(X, chosen)], 0.1)
    assert np.allclose(fit.theta, theta, atol=0.08)


def test_the_l2_strength_is_chosen_on_the_held_out_part():
    X, chosen, _ = _problem(n=300, d=40, seed=4, scale=0.05)  # weak signal, many features: strong L2 should win
    train, valid = cl.Part(X[:, :200], chosen[:200]), cl.Part(X[:, 200:], chosen[200:])
    lam, path, theta = cl.fit_path([train], [valid], (1e3, 1e2, 1e1, 1.0, 0.1), patience=10)
    losses = dict(path)
    assert lam == min(losses, key=losses.get)  # the best held-out log-loss
    assert lam >= 10.0
    assert np.allclose(theta, cl.fit([train], lam).theta, atol=1e-5)


def test_per_comparison_metrics_by_hand():
    u = np.array([[2.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 3.0], [-1.0, 0.0, 0.0]])  # (k=4, n=3)
    chosen = np.array([0, 1, 0])
    m = cl.metrics_from_utilities(u, chosen)
    # comparison 0: chosen (2) beats 1, 0, -1 -> top-1, AUC 1
    # comparison 1: all four tie at 0 -> top-1 with probability 1/4, AUC 0.5
    # comparison 2: chosen (1) ties slot 1, loses to slot 2 (3), beats slot 3 (0) -> not top-1, AUC (0.5+0+1)/3
    assert m["top1"].tolist() == pytest.approx([1.0, 0.25, 0.0])
    assert m["auc"].tolist() == pytest.approx([1.0, 0.5, 0.5])
    z0 = math.exp(2) + math.exp(1) + 1 + math.exp(-1)
    assert m["log_loss"].tolist() == pytest.approx(
        [-(2 - math.log(z0)), math.log(4), -(1 - math.log(2 * math.e + math.exp(3) + 1))]
    )


def test_bad_strength_is_refused():
    X, chosen, _ = _problem(n=20)
    with pytest.raises(ValueError, match="positive"):
        cl.fit([cl.Part(X, chosen)], 0.0)


def test_a_subsampled_hessian_reaches_the_same_optimum():
    X, chosen, _ = _problem(n=3000, d=9, seed=5)
    exact = cl.fit([cl.Part(X, chosen)], 0.5)
    sampled = cl.fit([cl.Part(X[:, :1000], chosen[:1000]), cl.Part(X[:, 1000:], chosen[1000:])], 0.5, hessian_rows=150)
    assert exact.converged and sampled.converged
    assert sampled.objective == pytest.approx(exact.objective, rel=1e-7)
    assert np.allclose(exact.theta, sampled.theta, atol=1e-3)
