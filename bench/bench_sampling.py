"""Benchmark: evaluate 1,000 prompts under all four sampling strategies (draw the sets and compute every metric:
coverage@k per pole, Vendi, mean pairwise cosine distance, convex-hull area), beside a plain NumPy baseline that
only draws the same number of points (rng.standard_normal). Prints both medians and the ratio.

    .venv/bin/python bench/bench_sampling.py [--prompts 1000] [--k 4] [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from analysis.lab.diversity import batch_metrics  # noqa: E402
from analysis.lab.strategies import (
    STRATEGIES,  # noqa: E402
    StrategyParams,  # noqa: E402
    draw_sets,  # noqa: E402
)


def evaluate_all(n_prompts: int, k: int, seed: int, params: StrategyParams) -> dict:
    return {s: batch_metrics(draw_sets(s, n_prompts, k, seed, params)) for s in STRATEGIES}


def baseline(n_prompts: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((len(STRATEGIES), n_prompts, k, 2))


def _median_time(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=1000)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args(argv)
    params = StrategyParams()
    evaluate_all(50, args.k, 0, params)  # warm up imports (scipy for intervals is not used here)
    t_ours = _median_time(lambda i: evaluate_all(args.prompts, args.k, i, params), args.repeats)
    t_base = _median_time(lambda i: baseline(args.prompts, args.k, i), args.repeats)
    n_points = len(STRATEGIES) * args.prompts * args.k
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), numpy {np.__version__}")
    print(
        f"{args.prompts} prompts x {len(STRATEGIES)} strategies x k={args.k} = {n_points} points; "
        f"median of {args.repeats} runs"
    )
    print(f"evaluate (draw + all metrics), all four strategies: {t_ours * 1e3:8.2f} ms   (target < 1000 ms)")
    print(f"baseline: plain NumPy draw of {n_points} points:    {t_base * 1e3:8.2f} ms")
    print(f"ratio evaluate / baseline: {t_ours / t_base:.1f}x")
    return 0 if t_ours < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
