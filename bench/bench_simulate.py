"""Benchmark: the reward-recovery default run (5 countries x 200 annotators x 20 comparisons, k = 4, all four reward
models, 5 seeds: collect, fit, score), beside choix fitting the pooled model on the same data, and how the run's time
grows with the comparisons per annotator and with the number of annotators.

The choix baseline needs discrete items, so each candidate is binned into a cell of a 12 x 12 grid over the plane
and ``choix.ilsr_top1`` (its fastest top-1 Luce fitter) fits one strength per cell on the same top-1 choices (a
loser sharing the winner's cell is dropped). Our pooled fit (Newton on the quadratic reward) is timed on the same data.

    .venv/bin/python bench/bench_simulate.py [--seeds 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import choix  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from analysis.lab import reward_models, simulate  # noqa: E402

CELLS = 12


def choix_pooled(data: simulate.Dataset) -> np.ndarray:
    """Bin candidates into grid cells and fit one Luce strength per cell with choix.ilsr_top1."""
    edges = np.linspace(-simulate.TEST_BOX, simulate.TEST_BOX, CELLS + 1)[1:-1]
    ix = np.digitize(data.candidates[..., 0], edges)
    iy = np.digitize(data.candidates[..., 1], edges)
    items = ix * CELLS + iy  # (n, k)
    top1 = []
    for row, c in zip(items, data.chosen):
        w = int(row[c])
        losers = tuple(sorted({int(x) for x in row if x != w}))
        if losers:
            top1.append((w, losers))
    return choix.ilsr_top1(CELLS * CELLS, top1, alpha=0.01)


class _T(float):
    """Wall seconds, carrying the process CPU seconds as ``.cpu`` (robust when other work shares the cores)."""

    cpu: float = 0.0

    def __format__(self, spec: str) -> str:
        return f"{float(self):{spec}} s wall, {self.cpu:{spec}} s CPU"


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    t = _T(time.perf_counter() - t0)
    t.cpu = time.process_time() - c0
    return t, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--strategy", default="nc")
    ap.add_argument("--quick", action="store_true", help="skip the scaling tables")
    args = ap.parse_args(argv)
    cfg = simulate.SimConfig()  # 1000 annotators (5 countries x 200) x 20 comparisons, k = 4, all models
    seeds = list(range(args.seeds))
    simulate.run_once(
        simulate.SimConfig(n_annotators=50, comparisons_per_annotator=4), args.strategy, 0
    )  # warm up imports

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), numpy {np.__version__}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"default run: {cfg.n_annotators} annotators x {cfg.comparisons_per_annotator} comparisons, k={cfg.k}, "
        f"models {', '.join(cfg.models)}, strategy {args.strategy}, {len(seeds)} seeds"
    )
    t_run, _ = _timed(lambda: [simulate.run_once(cfg, args.strategy, s) for s in seeds])
    datasets = [simulate.collect(cfg, args.strategy, s) for s in seeds]
    t_collect, _ = _timed(lambda: [simulate.collect(cfg, args.strategy, s) for s in seeds])
    with threadpool_limits(limits=1, user_api="blas"):  # the same BLAS setting as run_once, for a fair baseline
        t_ours_pooled, _ = _timed(
            lambda: [reward_models.fit_pooled(reward_models.quad_features(d.candidates), d.chosen) for d in datasets]
        )
        t_choix, _ = _timed(lambda: [choix_pooled(d) for d in datasets])
    print(f"  full run (collect + 4 models + scoring), {len(seeds)} seeds: {t_run:7.2f}   (target < 5 s)")
    print(f"    of which collecting the data:                  {t_collect:7.2f}")
    print(f"  baseline: choix.ilsr_top1 pooled fit, {len(seeds)} seeds:  {t_choix:7.2f}")
    print(f"  our pooled fit alone (Newton), {len(seeds)} seeds:         {t_ours_pooled:7.2f}")
    print(
        f"  ratio full run / choix pooled fit: {t_run / t_choix:.2f}x wall, {t_run.cpu / t_choix.cpu:.2f}x CPU; "
        f"our pooled / choix pooled: {t_ours_pooled / t_choix:.2f}x wall, {t_ours_pooled.cpu / t_choix.cpu:.2f}x CPU"
    )
    if args.quick:
        return 0

    print("\nscaling, one seed, all models (seconds per run_once):")
    print("  comparisons per annotator (1000 annotators):")
    for per in (5, 10, 20, 40):
        c = replace(cfg, comparisons_per_annotator=per)
        t, _ = _timed(lambda c=c: simulate.run_once(c, args.strategy, 0))
        print(f"    N = {per:3d} ({per * c.n_annotators:6d} comparisons): {t:6.2f}")
    print("  annotators (20 comparisons each):")
    for a in (250, 500, 1000, 2000):
        c = replace(cfg, n_annotators=a)
        t, _ = _timed(lambda c=c: simulate.run_once(c, args.strategy, 0))
        print(f"    A = {a:5d} ({20 * a:6d} comparisons): {t:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
