"""python -m analysis sample: evaluate a candidate-sampling strategy on the value plane (simulated, illustrative), or
the selection methods on a database's real texts (--pool)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from tqdm import tqdm

from analysis import store
from analysis.lab.diversity import DEFAULT_THRESHOLD, METRIC_LABELS
from analysis.lab.evaluation import evaluate
from analysis.lab.pool import POOL_METHODS, POOL_SOURCE_LABELS, POOL_SOURCES, PoolUnavailable, evaluate_pool, load_pool
from analysis.lab.strategies import STRATEGIES, STRATEGY_LABELS, StrategyParams, models_to_rows
from analysis.schema import POLES


def configure(parser: argparse.ArgumentParser) -> None:
    d = StrategyParams()
    parser.add_argument("--strategy", choices=STRATEGIES, default="iid", help="sampling strategy (default: iid)")
    parser.add_argument("--k", type=int, default=4, help="candidates per prompt (default: 4)")
    parser.add_argument("--prompts", type=int, default=1000, help="number of simulated prompts (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="evaluate over this many seeds (seed, seed+1, ...) and report a 95%% interval (default: 1)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"a response is on a pole when its coordinate passes +/- this (default: {DEFAULT_THRESHOLD})",
    )
    parser.add_argument("--temperature", type=float, default=d.temperature, help="scales every model's spread")
    parser.add_argument("--nc-strength", type=float, default=d.nc_strength, help="NC repulsion strength in [0, 1]")
    parser.add_argument(
        "--persona-pull", type=float, default=d.persona_pull, help="how far a persona moves a model, [0, 1]"
    )
    parser.add_argument(
        "--pool",
        choices=POOL_SOURCES,
        default=None,
        help="instead of simulating, choose k real responses per prompt from the database's pool "
        "(needs stored embeddings and axis scores) with every method: " + ", ".join(POOL_METHODS),
    )
    parser.add_argument("--db", default=None, help="database for --pool (default: $CAE_DB, else the demo database)")
    parser.add_argument("--model", default=None, help="embedding model for --pool (default: the project default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def result_dict(
    strategy: str,
    k: int,
    n_prompts: int,
    seeds: list[int],
    params: StrategyParams,
    threshold: float,
    progress=None,
) -> dict:
    """The CLI's JSON object (also what the page offers for download of one strategy)."""
    df = evaluate(strategy, n_prompts, k, seeds, params, threshold, progress=progress)
    by = {r["metric"]: r for r in df.iter_rows(named=True)}

    def interval(m: str):
        lo, hi = by[m]["low"], by[m]["high"]
        return None if lo is None else [lo, hi]

    out = {
        "strategy": strategy,
        "k": int(k),
        "prompts": int(n_prompts),
        "seeds": list(seeds),
        "threshold": float(threshold),
        "coverage": {p: by[f"coverage_{p}"]["mean"] for p in POLES},
        "vendi": by["vendi"]["mean"],
        "mean_pairwise_distance": by["mean_pairwise_distance"]["mean"],
        "hull_area": by["hull_area"]["mean"],
        "illustrative": True,
        "note": "simulated sets from illustrative model positions, not measurements; hull_area is our own measure",
        "params": {
            "temperature": params.temperature,
            "nc_strength": params.nc_strength,
            "persona_pull": params.persona_pull,
            "models": models_to_rows(params.models),
        },
    }
    if len(seeds) > 1:
        out["intervals"] = {
            **{f"coverage_{p}": interval(f"coverage_{p}") for p in POLES},
            "vendi": interval("vendi"),
            "mean_pairwise_distance": interval("mean_pairwise_distance"),
            "hull_area": interval("hull_area"),
        }
    return out


def pool_result_dict(df, source: str) -> dict:
    """The CLI's JSON object for --pool: per method, the metric means (and intervals over seeds)."""
    out: dict = {"pool": source, "illustrative": False, "methods": {}}
    for m in dict.fromkeys(df["strategy"].to_list()):
        by = {r["metric"]: r for r in df.filter(df["strategy"] == m).iter_rows(named=True)}
        first = next(iter(by.values()))
        out.update(k=first["k"], prompts=first["n_prompts"], threshold=first["threshold"], seeds=first["n_seeds"])
        res = {"coverage": {p: by[f"coverage_{p}"]["mean"] for p in POLES}}
        for key in (
            "vendi",
            "mean_pairwise_distance",
            "hull_area",
            "vendi_embedding",
            "mean_pairwise_distance_embedding",
        ):
            res[key] = by[key]["mean"]
        res["intervals"] = {key: [r["low"], r["high"]] for key, r in by.items() if r["low"] is not None}
        out["methods"][m] = res
    out["note"] = "positions from the project's value-axis scorer; hull_area is our own measure"
    return out


def _run_pool(args: argparse.Namespace) -> int:
    path = store.resolve_db_path(args.db)
    if not path.exists():
        print(f"error: no database at {path}: build one with `python -m analysis demo` or pass --db", file=sys.stderr)
        return 2
    try:
        con = store.connect(path)
        try:
            pool, emb = load_pool(con, args.pool, args.model)
        finally:
            con.close()
        seeds = list(range(args.seed, args.seed + args.seeds))
        df = evaluate_pool(pool, emb, args.k, POOL_METHODS, seeds, args.threshold)
    except (PoolUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    res = pool_result_dict(df, args.pool)
    if args.json:
        print(json.dumps(res))
        return 0
    print(
        f"pool: {POOL_SOURCE_LABELS[args.pool]}, k = {res['k']}, {res['prompts']} prompts, threshold {res['threshold']}"
    )
    names = ["coverage " + p for p in res["methods"][POOL_METHODS[0]]["coverage"]] + [
        "vendi",
        "mean_pairwise_distance",
        "hull_area",
        "vendi_embedding",
        "mean_pairwise_distance_embedding",
    ]
    print(f"  {'metric':<34}" + "".join(f"{m:>10}" for m in res["methods"]))
    for name in names:
        vals = [r["coverage"][name[9:]] if name.startswith("coverage ") else r[name] for r in res["methods"].values()]
        print(f"  {name:<34}" + "".join(f"{v:10.3f}" for v in vals))
    return 0


def run(args: argparse.Namespace) -> int:
    if getattr(args, "pool", None):
        return _run_pool(args)
    try:
        if args.k < 1 or args.prompts < 1 or args.seeds < 1:
            raise ValueError("--k, --prompts and --seeds must all be at least 1")
        params = replace(
            StrategyParams(),
            temperature=args.temperature,
            nc_strength=args.nc_strength,
            persona_pull=args.persona_pull,
        )
        seeds = list(range(args.seed, args.seed + args.seeds))
        bar = None
        progress = None
        if args.seeds > 1:
            bar = tqdm(total=args.seeds, desc=f"sampling {args.strategy}", file=sys.stderr, disable=None)

            def progress(done: int, total: int) -> None:
                bar.n = done
                bar.refresh()

        try:
            res = result_dict(args.strategy, args.k, args.prompts, seeds, params, args.threshold, progress)
        finally:
            if bar is not None:
                bar.close()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(res))
        return 0
    print(
        f"strategy {res['strategy']} ({STRATEGY_LABELS[res['strategy']]}), k = {res['k']}, "
        f"{res['prompts']} prompts, seeds {seeds[0]}..{seeds[-1]}, threshold {res['threshold']}"
    )
    print("ILLUSTRATIVE: simulated from illustrative model positions, not measured.")
    rows = [(METRIC_LABELS[f"coverage_{p}"], v) for p, v in res["coverage"].items()]
    rows += [(METRIC_LABELS[m], res[m]) for m in ("vendi", "mean_pairwise_distance", "hull_area")]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        key = next(m for m, lab in METRIC_LABELS.items() if lab == name)
        iv = res.get("intervals", {}).get(key)
        extra = f"   [{iv[0]:.3f}, {iv[1]:.3f}]" if iv else ""
        print(f"  {name:<{width}}  {value:8.3f}{extra}")
    return 0
