"""Reward-model recovery: simulate heterogeneous annotators choosing among sampled candidates, fit reward models,
and score how well each model recovers each group's values.

One run (``run_once``): draw annotators from a population (``analysis.lab.population``); give each one
``comparisons_per_annotator`` prompts whose k candidates come from a sampling strategy
(``analysis.lab.strategies.draw_sets``); draw their choices from the choice model; fit the reward models
(``analysis.lab.reward_models``) on the first n comparisons of every annotator for each n of a learning curve; score
each fit on a held-out test set whose candidates are spread uniformly over the plane - the same test set for every
strategy and seed (``TEST_SEED``), so strategies are compared fairly.

Scores, per group (country or hidden type), for the training annotators answering the held-out prompts:

``accuracy``      expected choice accuracy: the probability that the annotator picks the candidate the model
                  ranks first (computed exactly from the true choice probabilities, not sampled);
``log_lik``       expected held-out log-likelihood per choice, sum_j P_true(j) log P_model(j);
``ideal_error``   distance between the group's recovered ideal point and its true one (the optimum of the
                  group's reward; for the pooled model, its one optimum against every group);
``kendall_tau``   rank agreement between the group's reward and the group's true utility on a grid over the plane.

The population, the choice model and the sampling strategies' parameters are ILLUSTRATIVE unless the user sets
them; every output says so (``"illustrative": true``).

Readings of the results (summaries, curves, the headline) are in ``analysis.lab.recovery_report``.
CLI: ``python -m analysis simulate --strategy nc --comparisons 20000 --seed 0 --json``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.stats
from threadpoolctl import threadpool_limits

from analysis.lab import reward_models
from analysis.lab.population import (
    ChoiceModel,
    Population,
    choice_probabilities,
    default_population,
    sample_annotators,
    sample_choices,
    utility,
)
from analysis.lab.strategies import STRATEGIES, StrategyParams, draw_sets

MODELS: tuple[str, ...] = ("pooled", "conditional", "mixture", "per_annotator")
MODEL_LABELS: dict[str, str] = {
    "pooled": "pooled (one reward for all)",
    "conditional": "group-conditioned (one per country)",
    "mixture": "latent mixture (EM)",
    "per_annotator": "per-annotator (shrunk to group)",
    "oracle": "oracle (true utilities)",
}
TEST_SEED = 20250709  # the held-out test set is the same for every strategy and seed
TEST_BOX = 1.25  # test candidates ~ uniform on [-TEST_BOX, TEST_BOX]^2
GRID_N = 15  # Kendall tau grid: GRID_N x GRID_N points on the same box


@dataclass(frozen=True)
class SimConfig:
    """Everything that defines a simulation, except the strategy and the seed. Defaults are ILLUSTRATIVE."""

    population: Population = field(default_factory=default_population)
    choice: ChoiceModel = field(default_factory=ChoiceModel)
    k: int = 4
    n_annotators: int = 1000
    comparisons_per_annotator: int = 20
    n_components: int = 0  # mixture types; 0 = as many as the population has groups
    shrinkage: float = 1.0  # per-annotator prior precision toward the group fit
    test_prompts: int = 100
    models: tuple[str, ...] = MODELS
    sampling: StrategyParams | None = None  # None = the sampling lab's illustrative defaults

    def __post_init__(self) -> None:
        problems = validate_config(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def components(self) -> int:
        return self.n_components or len(self.population.groups)

    @property
    def active_models(self) -> tuple[str, ...]:
        """The requested models that apply: a group-conditioned model needs observed groups (country mode)."""
        return tuple(m for m in self.models if not (m == "conditional" and self.population.mode == "latent"))


def validate_config(c: SimConfig) -> list[str]:
    out = []
    if int(c.k) < 2:
        out.append(f"k (candidates per prompt) must be at least 2 (got {c.k})")
    if int(c.n_annotators) < 1:
        out.append(f"the number of annotators must be at least 1 (got {c.n_annotators})")
    if int(c.comparisons_per_annotator) < 1:
        out.append(f"comparisons per annotator must be at least 1 (got {c.comparisons_per_annotator})")
    if int(c.n_components) < 0:
        out.append(f"mixture components must be >= 1, or 0 for one per group (got {c.n_components})")
    if not (math.isfinite(c.shrinkage) and c.shrinkage > 0):
        out.append(f"shrinkage must be a number > 0 (got {c.shrinkage})")
    if int(c.test_prompts) < 1:
        out.append(f"test prompts must be at least 1 (got {c.test_prompts})")
    unknown = [m for m in c.models if m not in MODELS]
    if unknown:
        out.append(f"unknown model(s) {', '.join(unknown)}: choose from {', '.join(MODELS)}")
    if not c.models:
        out.append("choose at least one reward model")
    return out


# ------------------------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class Dataset:
    candidates: np.ndarray  # (A * N, k, 2), annotator a owns rows a*N .. a*N + N - 1
    chosen: np.ndarray  # (A * N,)
    annotator: np.ndarray  # (A * N,)
    position: np.ndarray  # (A * N,) index of the comparison within its annotator's list
    ann_group: np.ndarray  # (A,)
    ann_ideal: np.ndarray  # (A, 2)


def _streams(seed: int) -> tuple[np.random.Generator, int, np.random.Generator, np.random.Generator]:
    ss = np.random.SeedSequence(int(seed))
    a, c, ch, fit = ss.spawn(4)
    return (
        np.random.default_rng(a),
        int(c.generate_state(1)[0]),
        np.random.default_rng(ch),
        np.random.default_rng(fit),
    )


def collect(config: SimConfig, strategy: str, seed: int) -> Dataset:
    """Annotators, their prompts' candidates (from the strategy) and their choices. Deterministic by seed.

    With one seed every strategy sees the same annotators and the same random numbers, so differences between
    strategies come from the candidates alone.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    rng_a, cand_seed, rng_ch, _ = _streams(seed)
    ann = sample_annotators(config.population, config.n_annotators, rng_a)
    A, N = ann.n, int(config.comparisons_per_annotator)
    cands = draw_sets(strategy, A * N, config.k, cand_seed, config.sampling)
    annotator = np.repeat(np.arange(A), N)
    chosen = sample_choices(cands, ann.ideal[annotator], config.choice, rng_ch)
    return Dataset(cands, chosen, annotator, np.tile(np.arange(N), A), ann.group, ann.ideal)


def test_candidates(k: int, n_prompts: int) -> np.ndarray:
    """The held-out candidate sets: uniform over the plane's box, the same for every strategy and seed."""
    rng = np.random.default_rng(TEST_SEED)
    return rng.uniform(-TEST_BOX, TEST_BOX, size=(int(n_prompts), int(k), 2))


def grid_points(n: int = GRID_N) -> np.ndarray:
    g = np.linspace(-TEST_BOX, TEST_BOX, n)
    xx, yy = np.meshgrid(g, g)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


# ------------------------------------------------------------------------------------------------ fitting
@dataclass(frozen=True)
class Fits:
    """What each model predicts: a reward per annotator (for the held-out choices) and per group (for its ideal)."""

    ann_logp: dict[str, Callable[[np.ndarray], np.ndarray]]  # model -> (test phi (T,k,d)) -> (A, T, k) log probs
    group_theta: dict[str, np.ndarray]  # model -> (G, d): the group's reward
    ann_theta: dict[str, np.ndarray]  # model -> (A, d) where an annotator-level reward exists


def fit_models(config: SimConfig, data: Dataset, n_per: int, rng: np.random.Generator) -> Fits:
    """Fit every active model on the first ``n_per`` comparisons of each annotator."""
    keep = data.position < n_per
    phi = reward_models.quad_features(data.candidates[keep])
    chosen = data.chosen[keep]
    ann = data.annotator[keep]
    A = len(data.ann_group)
    G = len(config.population.groups)
    obs_group = data.ann_group[ann]
    models = config.active_models
    ann_logp, group_theta, ann_theta = {}, {}, {}

    def shared(theta_g: np.ndarray, index: np.ndarray):
        def f(tphi):
            lp = reward_models.log_softmax(np.einsum("tkd,gd->gtk", tphi, theta_g))  # (G, T, k)
            return lp[index]

        return f

    pooled = reward_models.fit_pooled(phi, chosen)
    if "pooled" in models:
        group_theta["pooled"] = np.broadcast_to(pooled, (G, pooled.size)).copy()
        ann_logp["pooled"] = shared(pooled[None], np.zeros(A, dtype=int))
    cond = None
    if config.population.mode == "country" and ("conditional" in models or "per_annotator" in models):
        cond = reward_models.fit_conditional(phi, chosen, obs_group, G)
        if "conditional" in models:
            group_theta["conditional"] = cond
            ann_logp["conditional"] = shared(cond, data.ann_group)
    if "per_annotator" in models or "mixture" in models:
        # toward the pooled fit: the mixture must not see the groups
        toward_pooled = reward_models.fit_per_annotator(
            phi, chosen, ann, A, np.broadcast_to(pooled, (A, pooled.size)), config.shrinkage
        )
    if "per_annotator" in models:
        prior = cond[data.ann_group] if cond is not None else np.broadcast_to(pooled, (A, pooled.size))
        th = (
            toward_pooled
            if cond is None
            else reward_models.fit_per_annotator(phi, chosen, ann, A, prior, config.shrinkage)
        )
        ann_theta["per_annotator"] = th
        group_theta["per_annotator"] = _group_mean(th, data.ann_group, G)
        ann_logp["per_annotator"] = lambda tphi, th=th: reward_models.log_softmax(np.einsum("tkd,ad->atk", tphi, th))
    if "mixture" in models:
        mix = reward_models.fit_mixture(phi, chosen, ann, A, config.components, rng, init_theta=toward_pooled)
        ann_theta["mixture"] = mix.resp @ mix.theta
        group_w = _group_mean(mix.resp, data.ann_group, G)  # (G, K)
        group_theta["mixture"] = group_w @ mix.theta

        def mix_logp(tphi, mix=mix):
            p = np.exp(reward_models.log_softmax(np.einsum("tkd,jd->jtk", tphi, mix.theta)))  # (K, T, k)
            return np.log(np.maximum(np.einsum("aj,jtk->atk", mix.resp, p, optimize=True), 1e-300))

        ann_logp["mixture"] = mix_logp
    return Fits(ann_logp, group_theta, ann_theta)


def _group_mean(x: np.ndarray, group: np.ndarray, G: int) -> np.ndarray:
    out = np.zeros((G, x.shape[1]))
    counts = np.bincount(group, minlength=G).astype(float)
    np.add.at(out, group, x)
    return out / np.maximum(counts, 1)[:, None]


# ------------------------------------------------------------------------------------------------ scoring
def score(config: SimConfig, data: Dataset, fits: Fits) -> list[dict]:
    """Per (model, group) held-out scores, plus an 'oracle' row per group (the true utilities)."""
    pop = config.population
    G = len(pop.groups)
    tc = test_candidates(config.k, config.test_prompts)  # (T, k, 2)
    tphi = reward_models.quad_features(tc)
    p_true = choice_probabilities(tc[None], data.ann_ideal[:, None, :], config.choice)  # (A, T, k)
    grid = grid_points()
    gphi = reward_models.quad_features(grid)
    ideal_kind = config.choice.utility == "ideal"
    rows = []

    def per_group(values: np.ndarray) -> np.ndarray:  # (A, T) -> (G,)
        return _group_mean(values.mean(axis=1, keepdims=True), data.ann_group, G)[:, 0]

    true_best = np.argmax(utility(tc[None], data.ann_ideal[:, None, None, :], config.choice.utility), axis=-1)
    oracle_acc = per_group(np.take_along_axis(p_true, true_best[..., None], -1)[..., 0])
    oracle_ll = per_group((p_true * np.log(np.maximum(p_true, 1e-300))).sum(-1))
    for g in range(G):
        rows.append(
            dict(
                model="oracle",
                group=pop.groups[g].name,
                accuracy=float(oracle_acc[g]),
                log_lik=float(oracle_ll[g]),
                ideal_error=0.0 if ideal_kind else None,
                kendall_tau=1.0,
                rec_x=pop.groups[g].x,
                rec_y=pop.groups[g].y,
            )
        )
    for model, logp_fn in fits.ann_logp.items():
        lp = logp_fn(tphi)  # (A, T, k)
        top = np.argmax(lp, axis=-1)
        acc = per_group(np.take_along_axis(p_true, top[..., None], -1)[..., 0])
        ll = per_group((p_true * lp).sum(-1))
        theta_g = fits.group_theta[model]
        rec = reward_models.ideal_from_theta(theta_g)
        greward = theta_g @ gphi.T  # (G, grid)
        for g in range(G):
            true_u = utility(grid, pop.ideals[g], config.choice.utility)
            tau = scipy.stats.kendalltau(greward[g], true_u).statistic
            err = float(np.linalg.norm(rec[g] - pop.ideals[g])) if ideal_kind else None
            rows.append(
                dict(
                    model=model,
                    group=pop.groups[g].name,
                    accuracy=float(acc[g]),
                    log_lik=float(ll[g]),
                    ideal_error=err,
                    kendall_tau=float(tau),
                    rec_x=float(rec[g, 0]),
                    rec_y=float(rec[g, 1]),
                )
            )
    return rows


def run_once(
    config: SimConfig,
    strategy: str,
    seed: int,
    sizes: Sequence[int] | None = None,
    on_fit: Callable[[], None] | None = None,
) -> pl.DataFrame:
    """One strategy and seed: a row per (comparisons per annotator n, model, group). ``sizes`` default [N].

    BLAS runs single-threaded here: every product is tiny (3 features, k candidates, a few types), and on shared
    cores OpenBLAS's threads cost far more than they save (a (4, 40000, 3) @ (3, 5) product took 35 ms with two
    threads on a busy machine and 1 ms with one).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_once(config, strategy, seed, sizes, on_fit)


def _run_once(
    config: SimConfig, strategy: str, seed: int, sizes: Sequence[int] | None, on_fit: Callable[[], None] | None
) -> pl.DataFrame:
    data = collect(config, strategy, seed)
    sizes = sorted({int(s) for s in (sizes or [config.comparisons_per_annotator])})
    bad = [s for s in sizes if not 1 <= s <= config.comparisons_per_annotator]
    if bad:
        raise ValueError(f"learning-curve sizes must lie in 1..{config.comparisons_per_annotator} (got {bad})")
    _, _, _, rng_fit = _streams(seed)
    frames = []
    for n_per in sizes:
        fits = fit_models(config, data, n_per, np.random.default_rng(rng_fit.integers(2**63)))
        rows = score(config, data, fits)
        for r in rows:
            r.update(strategy=strategy, seed=int(seed), per_annotator=n_per, comparisons=n_per * len(data.ann_group))
        frames.extend(rows)
        if on_fit is not None:
            on_fit()
    return pl.DataFrame(frames, schema=RESULT_SCHEMA)


RESULT_SCHEMA = {
    "strategy": pl.Utf8,
    "seed": pl.Int64,
    "per_annotator": pl.Int64,
    "comparisons": pl.Int64,
    "model": pl.Utf8,
    "group": pl.Utf8,
    "accuracy": pl.Float64,
    "log_lik": pl.Float64,
    "ideal_error": pl.Float64,
    "kendall_tau": pl.Float64,
    "rec_x": pl.Float64,
    "rec_y": pl.Float64,
}


def run_experiment(
    config: SimConfig,
    strategies: Sequence[str],
    seeds: Sequence[int],
    sizes: Sequence[int] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> pl.DataFrame:
    """Every strategy x seed (x learning-curve size): the long results table. ``progress(fraction, text)``."""
    sizes = list(sizes or [config.comparisons_per_annotator])
    total = len(strategies) * len(seeds) * len(set(sizes))
    done = [0]
    frames = []
    for strategy in strategies:
        for seed in seeds:

            def tick(strategy=strategy, seed=seed):
                done[0] += 1
                if progress is not None:
                    progress(done[0] / total, f"{strategy}, seed {seed}: {done[0]} of {total} fits")

            frames.append(run_once(config, strategy, seed, sizes, on_fit=tick))
    return pl.concat(frames)


def curve_sizes(per_annotator: int) -> list[int]:
    """Learning-curve points (comparisons per annotator): about N/8, N/4, N/2 and N."""
    n = int(per_annotator)
    return sorted({max(1, n // 8), max(1, n // 4), max(1, n // 2), n})
