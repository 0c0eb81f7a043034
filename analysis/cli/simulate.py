"""python -m analysis simulate: simulate heterogeneous annotators and score reward-model recovery."""

from __future__ import annotations

import argparse
import json
import sys

from tqdm import tqdm

from analysis.lab.population import ChoiceModel
from analysis.lab.recovery_report import cli_summary
from analysis.lab.simulate import MODELS, SimConfig, run_experiment
from analysis.lab.strategies import STRATEGIES


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strategy", choices=STRATEGIES, default="iid", help="candidate-sampling strategy")
    parser.add_argument(
        "--comparisons",
        type=int,
        default=20000,
        help="total comparisons across all annotators (default 20000 = 1000 x 20)",
    )
    parser.add_argument("--annotators", type=int, default=1000, help="total annotators (split by population share)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, help="average over this many seeds (seed, seed+1, ...)")
    parser.add_argument("--k", type=int, default=4, help="candidates per prompt")
    parser.add_argument("--beta", type=float, default=ChoiceModel().beta, help="rationality of the choice model")
    parser.add_argument("--utility", choices=("ideal", "linear"), default="ideal")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ",".join(MODELS))
    parser.add_argument("--components", type=int, default=0, help="mixture types (0 = one per group)")
    parser.add_argument("--shrinkage", type=float, default=1.0, help="per-annotator prior precision")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    if args.annotators < 1:
        print(f"error: --annotators must be at least 1 (got {args.annotators})", file=sys.stderr)
        return 2
    per = args.comparisons // args.annotators
    if per < 1:
        print(
            f"error: --comparisons ({args.comparisons}) must be at least the number of annotators "
            f"({args.annotators}): every annotator needs one comparison. Raise --comparisons or lower --annotators.",
            file=sys.stderr,
        )
        return 2
    try:
        config = SimConfig(
            choice=ChoiceModel(args.utility, args.beta),
            k=args.k,
            n_annotators=args.annotators,
            comparisons_per_annotator=per,
            n_components=args.components,
            shrinkage=args.shrinkage,
            models=tuple(m.strip() for m in args.models.split(",") if m.strip()),
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seeds = [args.seed + i for i in range(max(1, args.seeds))]
    with tqdm(total=len(seeds), file=sys.stderr, desc=f"simulate {args.strategy}", disable=None) as bar:
        df = run_experiment(config, [args.strategy], seeds, progress=lambda f, t: bar.update(1))
    out = cli_summary(df, config, args.strategy, args.comparisons)
    if args.json:
        print(json.dumps(out))
        return 0
    print(
        f"Reward-model recovery, strategy {args.strategy}: {out['comparisons']} comparisons "
        f"({config.n_annotators} annotators x {per}), k={config.k}, beta={config.choice.beta:g}, "
        f"seeds {seeds[0]}..{seeds[-1]}. ILLUSTRATIVE population and choice model."
    )
    groups = config.population.names
    head = f"{'model':<15}" + "".join(f"{g[:13]:>14}" for g in groups) + f"{'worst':>8}{'ideal err':>11}{'tau':>7}"
    print("held-out expected accuracy per group")
    print(head)
    for model, m in out["models"].items():
        err = "-" if m["ideal_point_error"] is None else f"{m['ideal_point_error']:.3f}"
        print(
            f"{model:<15}"
            + "".join(f"{m['accuracy_by_country'][g]:>14.3f}" for g in groups)
            + f"{m['worst_country_accuracy']:>8.3f}{err:>11}{m['kendall_tau']:>7.3f}"
        )
    if "pooled" in out["models"]:
        p = out["models"]["pooled"]
        print(
            f"The pooled reward's optimum {tuple(p['optimum'])} lies nearest {p['represents']} "
            f"({p['represents_distance']:.3f} away)."
        )
    return 0
