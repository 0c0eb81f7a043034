"""The Sampling lab's measurements: each strategy's candidate sets drawn over several seeds and scored with the
diversity metrics, as a long table (one row per strategy and metric) with a 95% interval over seeds.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from analysis.lab.diversity import (
    DEFAULT_BANDWIDTH,
    DEFAULT_THRESHOLD,
    METRIC_LABELS,
    METRICS,
    batch_metrics,
    check_threshold,
    mean_interval,
    metric_ceiling,
    metric_floor,
)
from analysis.lab.strategies import STRATEGIES, draw_sets

RESULT_SCHEMA = {
    "strategy": pl.String,
    "metric": pl.String,
    "label": pl.String,
    "mean": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
    "n_seeds": pl.Int64,
    "n_prompts": pl.Int64,
    "k": pl.Int64,
    "threshold": pl.Float64,
}


def seed_list(seeds: int | Iterable[int]) -> list[int]:
    """``seeds`` as a list: an int means that many seeds, 0..n-1."""
    out = list(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    if not out:
        raise ValueError("at least one seed is needed")
    return out


def summary_rows(
    strategy: str, per_seed: dict[str, list[float]], labels: dict[str, str], n_prompts: int, k: int, threshold: float
) -> list[dict]:
    """One row per metric: the mean over seeds and a 95% t-interval cut to the metric's range (null with one seed)."""
    rows = []
    for name, values in per_seed.items():
        v = np.asarray(values)
        lo, hi = mean_interval(v, lo_bound=metric_floor(name), hi_bound=metric_ceiling(name))
        rows.append(
            {
                "strategy": strategy, "metric": name, "label": labels[name], "mean": float(v.mean()),
                "low": None if np.isnan(lo) else lo, "high": None if np.isnan(hi) else hi, "n_seeds": len(v),
                "n_prompts": int(n_prompts), "k": int(k), "threshold": float(threshold),
            }
        )  # fmt: skip
    return rows


def evaluate(
    strategy: str | Iterable[str],
    n_prompts: int,
    k: int,
    seeds: int | Iterable[int],
    params=None,
    threshold: float = DEFAULT_THRESHOLD,
    bandwidth: float = DEFAULT_BANDWIDTH,
    progress=None,
) -> pl.DataFrame:
    """Metrics per strategy over seeds: a polars DataFrame with one row per (strategy, metric).

    Columns: strategy, metric, label, mean, low, high (a 95% t-interval of the mean over seeds; null with one
    seed), n_seeds, n_prompts, k, threshold. ``seeds`` is an int (that many seeds, 0..n-1) or a list of seeds.
    ``progress(done, total)`` is called after each (strategy, seed) when given.
    """
    strategies = [strategy] if isinstance(strategy, str) else list(strategy)
    for s in strategies:
        if s not in STRATEGIES:
            raise ValueError(f"unknown strategy {s!r}: choose from {', '.join(STRATEGIES)}")
    seeds_ = seed_list(seeds)
    check_threshold(threshold)
    rows = []
    total, done = len(strategies) * len(seeds_), 0
    for s in strategies:
        per_seed: dict[str, list[float]] = {m: [] for m in METRICS}
        for seed in seeds_:
            for m, v in batch_metrics(draw_sets(s, n_prompts, k, seed, params), threshold, bandwidth).items():
                per_seed[m].append(v)
            done += 1
            if progress is not None:
                progress(done, total)
        rows += summary_rows(s, per_seed, METRIC_LABELS, n_prompts, k, threshold)
    return pl.DataFrame(rows, schema=RESULT_SCHEMA)
