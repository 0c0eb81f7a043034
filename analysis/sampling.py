"""Candidate-sampling strategies on the Inglehart-Welzel value plane (the Sampling lab).

Every position here is a point on the plane: x = ``self_expression`` (survival -1 .. +1 self-expression),
y = ``secular`` (traditional -1 .. +1 secular-rational); the poles' anchors sit around -1/+1 and points
mostly fall in [-1.5, 1.5].

ILLUSTRATIVE: the model positions, spreads, persona positions and knob defaults below are not measurements.
They were chosen so that, with the defaults, the *qualitative* result reported by the Community Alignment
paper (arXiv 2507.09650) appears: candidate sets drawn independently from models that sit near the
secular-rational / self-expression corner rarely reach the traditional and survival poles, while
negatively-correlated (NC) sets do. They were TUNED to land near the paper's reported coverage@4 at the
default pole threshold (0.5): with 3,000 simulated prompts, traditional / survival coverage@4 comes out near
iid 15% / 29%, multi 23% / 34%, persona 23% / 37%, nc 62% / 54% (paper: iid ~15% / ~30%, NC ~60% / ~53%).
Agreement with the paper is therefore by construction, not evidence; what the lab shows is how the
coverage responds when the assumptions change. Users can edit all of them.

Strategies (``draw_sets``):

``iid``
    k independent draws from one model (the first of ``params.models``) around its default position, with
    a spread that scales with the sampling temperature (anisotropic by ``noise_aspect``: answers vary
    more along survival/self-expression than along traditional/secular).
``multi``
    one independent draw from each of several models (cycling through them when k exceeds their number).
``persona``
    one draw per persona position (cycling). A persona only partly moves the model: the draw is centred
    at ``model + persona_pull * (persona - model)``.
``nc``
    negatively correlated: the set is drawn jointly so that its members repel. Each member gets its own
    direction around the model's default, evenly spaced with a random rotation per prompt (stratified /
    antithetic directions); ``nc_strength`` in [0, 1] blends the i.i.d. noise toward that layout:
    ``d_i = sqrt(1 - s^2) * sigma * z_i + s * nc_radius * u_i``. At strength 0 it equals ``iid`` exactly
    (same seed, same points).

Every prompt also gets a random prompt-level offset (some prompts pull every answer toward a different
place), drawn first from the seed, so it is shared by all strategies for the same seed.

On real texts (``select_from_pool``, ``evaluate_pool``, ``load_pool``) the same question is asked of responses
that exist: per prompt, choose k at random, nearest to a model's default, by farthest-point traversal or by a
greedy DPP on the embeddings. CLI: ``python -m analysis sample --strategy nc --k 4 --prompts 1000 --json``
(simulated) or ``python -m analysis sample --pool candidates --db PATH --json`` (real texts).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, replace

import numpy as np

STRATEGIES: tuple[str, ...] = ("iid", "multi", "persona", "nc")
STRATEGY_LABELS: dict[str, str] = {
    "iid": "i.i.d. temperature sampling (one model)",
    "multi": "several models, one i.i.d. draw each",
    "persona": "persona-conditioned (one draw per persona)",
    "nc": "negatively-correlated (jointly drawn, repelling)",
}
STRATEGY_SHORT: dict[str, str] = {
    "iid": "temperature sampling, one model",
    "multi": "one draw from each model",
    "persona": "one draw per persona",
    "nc": "negatively correlated",
}


@dataclass(frozen=True)
class ModelProfile:
    """An (illustrative) LLM: its default position on the plane and the spread of its answers at temperature 1."""

    name: str
    center: tuple[float, float]
    spread: float


# ILLUSTRATIVE positions near the secular-rational / self-expression corner, as the research found for LLMs.
DEFAULT_MODELS: tuple[ModelProfile, ...] = (
    ModelProfile("model A (illustrative)", (0.50, 0.40), 0.55),
    ModelProfile("model B (illustrative)", (0.25, 0.50), 0.55),
    ModelProfile("model C (illustrative)", (0.60, -0.05), 0.50),
    ModelProfile("model D (illustrative)", (0.25, 0.80), 0.50),
    ModelProfile("model E (illustrative)", (0.80, 0.60), 0.50),
)

# ILLUSTRATIVE persona positions spread over the plane: the four poles first, then the four quadrant corners.
DEFAULT_PERSONAS: tuple[tuple[float, float], ...] = (
    (0.0, -1.0),  # traditional
    (-1.0, 0.0),  # survival
    (0.0, 1.0),  # secular-rational
    (1.0, 0.0),  # self-expression
    (-0.8, -0.8),
    (0.8, 0.8),
    (-0.8, 0.8),
    (0.8, -0.8),
)


@dataclass(frozen=True)
class StrategyParams:
    """The knobs of the strategies. Every default is ILLUSTRATIVE, not measured."""

    models: tuple[ModelProfile, ...] = DEFAULT_MODELS
    temperature: float = 1.0  # scales every model's spread
    personas: tuple[tuple[float, float], ...] = DEFAULT_PERSONAS
    persona_pull: float = 0.22  # 0 = personas do nothing, 1 = the draw is centred on the persona
    nc_strength: float = 0.85  # 0 = i.i.d., 1 = fully stratified repelling layout
    nc_radius: float = 1.30  # distance from the model's default the NC members are pushed to
    prompt_spread: float = 0.30  # s.d. of the per-prompt offset shared by every candidate of a prompt
    # Relative spread along (x, y): sampled answers vary more in survival/self-expression tone than on the
    # traditional/secular axis (illustrative; (1, 1) is isotropic).
    noise_aspect: tuple[float, float] = (1.25, 0.80)

    def __post_init__(self) -> None:
        problems = validate_params(self)
        if problems:
            raise ValueError("; ".join(problems))


def validate_params(p: StrategyParams) -> list[str]:
    """Plain-language problems with a parameter set (empty when fine)."""
    out: list[str] = []
    if not p.models:
        out.append("at least one model is needed: add a row to the model table")
    for m in p.models:
        if len(m.center) != 2 or not all(math.isfinite(float(c)) for c in m.center):
            out.append(f"model {m.name!r}: its position must be two finite numbers (x, y)")
        if not (math.isfinite(float(m.spread)) and m.spread >= 0):
            out.append(f"model {m.name!r}: spread must be a number >= 0 (got {m.spread})")
    if not (math.isfinite(p.temperature) and p.temperature >= 0):
        out.append(f"temperature must be >= 0 (got {p.temperature})")
    if not p.personas:
        out.append("at least one persona position is needed")
    for pos in p.personas:
        if len(pos) != 2 or not all(math.isfinite(float(c)) for c in pos):
            out.append(f"persona position {pos!r} must be two finite numbers (x, y)")
    if not (0.0 <= p.persona_pull <= 1.0):
        out.append(f"persona_pull must lie in [0, 1] (got {p.persona_pull})")
    if not (0.0 <= p.nc_strength <= 1.0):
        out.append(f"nc_strength must lie in [0, 1] (got {p.nc_strength})")
    if not (math.isfinite(p.nc_radius) and p.nc_radius >= 0):
        out.append(f"nc_radius must be >= 0 (got {p.nc_radius})")
    if len(p.noise_aspect) != 2 or not all(math.isfinite(float(a)) and a >= 0 for a in p.noise_aspect):
        out.append(f"noise_aspect must be two numbers >= 0 (got {p.noise_aspect!r})")
    if not (math.isfinite(p.prompt_spread) and p.prompt_spread >= 0):
        out.append(f"prompt_spread must be >= 0 (got {p.prompt_spread})")
    return out


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(int(seed))


def draw_sets(
    strategy: str,
    n_prompts: int,
    k: int,
    seed: int | np.random.Generator,
    params: StrategyParams | None = None,
) -> np.ndarray:
    """Candidate sets on the plane: an array of shape (n_prompts, k, 2), columns (self_expression, secular).

    Deterministic by seed. With the same seed every strategy sees the same per-prompt offsets and the
    same standard-normal noise, so differences between strategies come from the strategies themselves.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    n_prompts, k = int(n_prompts), int(k)
    if n_prompts < 1:
        raise ValueError(f"n_prompts must be at least 1 (got {n_prompts})")
    if k < 1:
        raise ValueError(f"k (candidates per prompt) must be at least 1 (got {k})")
    p = params if params is not None else StrategyParams()
    rng = _rng(seed)

    offset = rng.standard_normal((n_prompts, 1, 2)) * p.prompt_spread  # shared by all strategies
    z = rng.standard_normal((n_prompts, k, 2)) * np.asarray(p.noise_aspect, dtype=float)  # shared noise
    base = p.models[0]
    c0 = np.asarray(base.center, dtype=float)
    sigma0 = base.spread * p.temperature

    if strategy == "iid":
        pts = c0 + sigma0 * z
    elif strategy == "multi":
        idx = np.arange(k) % len(p.models)
        centers = np.array([m.center for m in p.models], dtype=float)[idx]  # (k, 2)
        sig = np.array([m.spread for m in p.models], dtype=float)[idx] * p.temperature  # (k,)
        pts = centers[None] + sig[None, :, None] * z
    elif strategy == "persona":
        idx = np.arange(k) % len(p.personas)
        personas = np.asarray(p.personas, dtype=float)[idx]  # (k, 2)
        centers = c0 + p.persona_pull * (personas - c0)
        pts = centers[None] + sigma0 * z
    else:  # nc
        s = float(p.nc_strength)
        theta0 = rng.uniform(0.0, 2.0 * np.pi, size=(n_prompts, 1))
        angles = theta0 + 2.0 * np.pi * np.arange(k)[None, :] / k  # (n, k)
        u = np.stack([np.cos(angles), np.sin(angles)], axis=-1)  # (n, k, 2)
        pts = c0 + math.sqrt(max(0.0, 1.0 - s * s)) * sigma0 * z + s * p.nc_radius * u
    return pts + offset


def models_from_rows(rows: list[dict]) -> tuple[ModelProfile, ...]:
    """Model profiles from table rows {name, x, y, spread} (as edited on the page); raises ValueError on bad rows."""
    out = []
    for i, r in enumerate(rows, start=1):
        name = str(r.get("name") or f"model {i}").strip() or f"model {i}"
        try:
            x, y, sp = float(r["x"]), float(r["y"]), float(r["spread"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"row {i} ({name}): x, y and spread must all be numbers") from None
        if not all(math.isfinite(v) for v in (x, y, sp)):
            raise ValueError(f"row {i} ({name}): x, y and spread must be finite numbers")
        if sp < 0:
            raise ValueError(f"row {i} ({name}): spread must be >= 0 (got {sp})")
        out.append(ModelProfile(name, (x, y), sp))
    if not out:
        raise ValueError("the model table is empty: add at least one model row")
    return tuple(out)


def models_to_rows(models: tuple[ModelProfile, ...]) -> list[dict]:
    return [{"name": m.name, "x": m.center[0], "y": m.center[1], "spread": m.spread} for m in models]


# --------------------------------------------------------------------------------------------------
# Real texts: choose k candidates from a pool of embedded, placed responses.

POOL_METHODS: tuple[str, ...] = ("random", "nearest", "farthest", "dpp")
POOL_METHOD_SHORT: dict[str, str] = {
    "random": "at random",
    "nearest": "nearest to the model",
    "farthest": "farthest-point",
    "dpp": "greedy DPP",
}
POOL_METHOD_LABELS: dict[str, str] = {
    "random": "k at random (like independent sampling)",
    "nearest": "k nearest to the target (a model's default position)",
    "farthest": "farthest-point traversal on the embeddings",
    "dpp": "greedy DPP (most diverse set) on the embeddings",
}


def _cosine_kernel(embeddings: np.ndarray) -> np.ndarray:
    e = np.asarray(embeddings, dtype=float)
    norm = np.linalg.norm(e, axis=1, keepdims=True)
    u = np.divide(e, norm, out=np.zeros_like(e), where=norm > 1e-12)
    k = u @ u.T
    np.fill_diagonal(k, 1.0)
    return k


def select_from_pool(
    method: str,
    embeddings: np.ndarray,
    positions: np.ndarray,
    k: int,
    seed: int | np.random.Generator,
    target: tuple[float, float] | np.ndarray | None = None,
) -> np.ndarray:
    """Indices (k,) into a pool of n responses, chosen by ``method``.

    ``embeddings`` (n, d) are the responses' text embeddings, ``positions`` (n, 2) their places on the plane.
    - random: k distinct at random.
    - nearest: the k closest on the plane to ``target`` (default: the first default model's position).
    - farthest: farthest-point traversal under cosine distance on the embeddings, starting from a random item.
    - dpp: greedy MAP of a DPP with the cosine-similarity kernel (plus a small ridge), starting from the
      item nearest the target; each step adds the item that most increases log det, i.e. the one least
      explained by those already chosen.
    """
    if method not in POOL_METHODS:
        raise ValueError(f"unknown pool method {method!r}: choose one of {', '.join(POOL_METHODS)}")
    emb = np.asarray(embeddings, dtype=float)
    pos = np.asarray(positions, dtype=float)
    if emb.ndim != 2 or pos.ndim != 2 or pos.shape[1] != 2:
        raise ValueError(f"embeddings must be (n, d) and positions (n, 2); got {emb.shape} and {pos.shape}")
    n = emb.shape[0]
    if pos.shape[0] != n:
        raise ValueError(f"embeddings and positions must describe the same {n} responses; got {pos.shape[0]} positions")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")
    if k > n:
        raise ValueError(f"the pool holds only {n} responses, fewer than k = {k}: lower k or add responses")
    rng = _rng(seed)
    tgt = np.asarray(DEFAULT_MODELS[0].center if target is None else target, dtype=float)

    if method == "random":
        return np.sort(rng.choice(n, size=k, replace=False))
    if method == "nearest":
        d = np.linalg.norm(pos - tgt, axis=1)
        return np.argsort(d, kind="stable")[:k]
    kern = _cosine_kernel(emb)
    if method == "farthest":
        chosen = [int(rng.integers(n))]
        min_dist = 1.0 - kern[chosen[0]]
        min_dist[chosen[0]] = -np.inf
        for _ in range(k - 1):
            j = int(np.argmax(min_dist))
            chosen.append(j)
            min_dist = np.minimum(min_dist, 1.0 - kern[j])
            min_dist[chosen] = -np.inf
        return np.asarray(chosen)
    # dpp: greedy MAP via incremental Cholesky (Chen et al., 2018).
    lk = kern + 1e-6 * np.eye(n)
    start = int(np.argmin(np.linalg.norm(pos - tgt, axis=1)))
    chosen = [start]
    c = np.zeros((k, n))
    d2 = np.diag(lk).copy()
    j = start
    for t in range(k - 1):
        e = (lk[j] - c[:t].T @ c[:t, j]) / np.sqrt(max(d2[j], 1e-18))
        c[t] = e
        d2 = d2 - e * e
        d2[chosen] = -np.inf
        j = int(np.argmax(d2))
        chosen.append(j)
    return np.asarray(chosen)


# --------------------------------------------------------------------------------------------------
# CLI: python -m analysis sample --strategy nc --k 4 --prompts 1000 --seed 0 --json


def configure(parser: argparse.ArgumentParser) -> None:
    from analysis.diversity import DEFAULT_THRESHOLD

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
    from analysis.diversity import evaluate
    from analysis.schema import POLES

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
    from analysis.schema import POLES

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
    from analysis.store import connect, resolve_db_path

    path = resolve_db_path(args.db)
    if not path.exists():
        print(f"error: no database at {path}: build one with `python -m analysis demo` or pass --db", file=sys.stderr)
        return 2
    try:
        con = connect(path)
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
    from analysis.diversity import METRIC_LABELS

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
            from tqdm import tqdm

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


# --------------------------------------------------------------------------------------------------
# What the research reports, to read beside the simulated numbers.

# coverage@4 reported in the Community Alignment paper (arXiv 2507.09650), approximate: share of prompts whose
# four-candidate set holds at least one response on the pole. "iid" = temperature sampling; "nc" = NC sampling.
REPORTED_COVERAGE_AT_4: dict[str, dict[str, float]] = {
    "iid": {"traditional": 0.15, "survival": 0.30},
    "nc": {"traditional": 0.60, "survival": 0.53},
}
REPORTED_SOURCE = "reported in the paper (Community Alignment, arXiv 2507.09650; coverage@4, approximate)"


def comparison_table(df, k: int, paper: bool = True):
    """The page's metric table: one row per metric, one column per strategy ("mean [low, high]"), and the
    paper's reported coverage@4 for temperature (iid) and NC sampling beside it (blank where it reports none,
    and for k != 4 flagged as not directly comparable) unless ``paper`` is False."""
    import polars as pl

    strategies = list(dict.fromkeys(df["strategy"].to_list()))
    metrics = list(dict.fromkeys(df["metric"].to_list()))
    cell = {}
    for r in df.iter_rows(named=True):
        txt = f"{r['mean']:.3f}"
        if r["low"] is not None:
            txt += f" [{r['low']:.3f}, {r['high']:.3f}]"
        cell[(r["metric"], r["strategy"])] = txt
    labels = dict(zip(df["metric"], df["label"]))
    note = "" if int(k) == 4 else " (paper: k = 4)"
    rows = []
    for m in metrics:
        row = {"metric": labels[m]}
        for s in strategies:
            row[s] = cell.get((m, s), "")
        pole = m.removeprefix("coverage_") if m.startswith("coverage_") else None
        if not paper:
            rows.append(row)
            continue
        for s, col in (("iid", "paper: temperature sampling"), ("nc", "paper: NC sampling")):
            v = REPORTED_COVERAGE_AT_4[s].get(pole) if pole else None
            row[col] = "" if v is None else f"~{v:.2f}{note}"
        rows.append(row)
    return pl.DataFrame(rows)


def headline(df) -> str | None:
    """One sentence comparing NC with i.i.d. sampling on the traditional and survival poles, computed from an
    evaluate() table; None when either strategy is missing."""
    means = {(r["strategy"], r["metric"]): r["mean"] for r in df.iter_rows(named=True)}
    need = [(s, f"coverage_{p}") for s in ("iid", "nc") for p in ("traditional", "survival")]
    if not all(key in means for key in need):
        return None
    t_iid, s_iid = means[("iid", "coverage_traditional")], means[("iid", "coverage_survival")]
    t_nc, s_nc = means[("nc", "coverage_traditional")], means[("nc", "coverage_survival")]

    def times(a: float, b: float) -> str:
        return "never reached by i.i.d." if b == 0 else f"{a / b:.1f}×"

    return (
        f"Simulated: NC sets reach the traditional pole for {t_nc:.0%} of prompts and the survival pole for "
        f"{s_nc:.0%}, against {t_iid:.0%} and {s_iid:.0%} for i.i.d. temperature sampling "
        f"({times(t_nc, t_iid)} and {times(s_nc, s_iid)} as often)."
    )


def download_table(df):
    """evaluate()'s long table with the paper's reported coverage@4 beside the matching rows (CSV download)."""
    import polars as pl

    def reported(strategy: str, metric: str):
        pole = metric.removeprefix("coverage_")
        return REPORTED_COVERAGE_AT_4.get(strategy, {}).get(pole) if metric.startswith("coverage_") else None

    return df.with_columns(
        pl.struct("strategy", "metric")
        .map_elements(lambda r: reported(r["strategy"], r["metric"]), return_dtype=pl.Float64)
        .alias("reported_in_paper_at_k4"),
        pl.lit(True).alias("illustrative"),
    )


# --------------------------------------------------------------------------------------------------
# Model table <-> URL (the page's data editor state).


def models_to_query(models: tuple[ModelProfile, ...]) -> str:
    """Compact JSON for the URL: [[name, x, y, spread], ...]."""
    return json.dumps([[m.name, m.center[0], m.center[1], m.spread] for m in models], separators=(",", ":"))


def models_from_query(value: str | None) -> tuple[tuple[ModelProfile, ...], str | None]:
    """Models from the URL value; (DEFAULT_MODELS, message) when it is missing or unreadable."""
    if not value:
        return DEFAULT_MODELS, None
    try:
        raw = json.loads(value)
        rows = [{"name": r[0], "x": r[1], "y": r[2], "spread": r[3]} for r in raw]
        return models_from_rows(rows), None
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        return DEFAULT_MODELS, f"The model table in the link could not be read ({exc}); showing the defaults."


def personas_from_rows(rows: list[dict]) -> tuple[tuple[float, float], ...]:
    """Persona positions from table rows {x, y}; raises ValueError on bad rows."""
    out = []
    for i, r in enumerate(rows, start=1):
        try:
            x, y = float(r["x"]), float(r["y"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"persona row {i}: x and y must both be numbers") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"persona row {i}: x and y must be finite numbers")
        out.append((x, y))
    if not out:
        raise ValueError("the persona table is empty: add at least one persona position")
    return tuple(out)


def personas_to_rows(personas: tuple[tuple[float, float], ...]) -> list[dict]:
    return [{"x": float(x), "y": float(y)} for x, y in personas]


def personas_to_query(personas: tuple[tuple[float, float], ...]) -> str:
    return json.dumps([[x, y] for x, y in personas], separators=(",", ":"))


def personas_from_query(value: str | None) -> tuple[tuple[tuple[float, float], ...], str | None]:
    """Persona positions from the URL value; (DEFAULT_PERSONAS, message) when missing or unreadable."""
    if not value:
        return DEFAULT_PERSONAS, None
    try:
        return personas_from_rows([{"x": r[0], "y": r[1]} for r in json.loads(value)]), None
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        return DEFAULT_PERSONAS, f"The persona table in the link could not be read ({exc}); showing the defaults."


def params_to_json(p: StrategyParams) -> str:
    """Every knob as one JSON string (a cache key; params_from_json reads it back exactly)."""
    return json.dumps(
        {
            "models": [[m.name, m.center[0], m.center[1], m.spread] for m in p.models],
            "personas": [list(x) for x in p.personas],
            **{f: getattr(p, f) for f in ("temperature", "persona_pull", "nc_strength", "nc_radius", "prompt_spread")},
            "noise_aspect": list(p.noise_aspect),
        },
        sort_keys=True,
    )


def params_from_json(text: str) -> StrategyParams:
    d = json.loads(text)
    return StrategyParams(
        models=tuple(ModelProfile(n, (float(x), float(y)), float(sd)) for n, x, y, sd in d["models"]),
        personas=tuple((float(x), float(y)) for x, y in d["personas"]),
        noise_aspect=tuple(float(a) for a in d["noise_aspect"]),
        **{f: float(d[f]) for f in ("temperature", "persona_pull", "nc_strength", "nc_radius", "prompt_spread")},
    )


# --------------------------------------------------------------------------------------------------
# Pasted candidates: embedded, placed on the plane and scored.


class ScorerUnavailable(RuntimeError):
    """The value-axis scorer (analysis.axes.score_texts) or its model cannot be used here."""


MAX_PASTED = 20


def parse_candidates(text: str | None) -> list[str]:
    """One candidate per non-empty line; raises ValueError with what to do when there are too few or many."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    if len(lines) < 2:
        raise ValueError(
            f"paste at least 2 candidate responses, one per line (found {len(lines)}); a set of one has no diversity"
        )
    if len(lines) > MAX_PASTED:
        raise ValueError(f"paste at most {MAX_PASTED} responses, one per line (found {len(lines)})")
    return lines


def score_candidates(texts: list[str], threshold: float | None = None, model: str | None = None, progress=None) -> dict:
    """Place pasted candidates on the plane with analysis.axes.score_texts and measure the set.

    Returns {"texts", "positions" (k, 2), "metrics" (diversity.set_metrics), "embedding_model"}; embedding-based
    Vendi and distance are added when analysis.embeddings can embed the texts. Raises ScorerUnavailable with
    a plain message when the scorer is missing or its model cannot be loaded.
    """
    from analysis.diversity import DEFAULT_THRESHOLD, set_metrics

    t = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    try:
        from analysis.axes import score_texts
    except ImportError as exc:
        raise ScorerUnavailable(
            "The value-axis scorer (analysis.axes.score_texts) is not available in this build yet "
            f"({exc}). The simulated strategies above work without it."
        ) from exc
    try:
        scored = score_texts(list(texts), model=model, progress=progress)
    except (OSError, RuntimeError, ImportError, ValueError) as exc:
        raise ScorerUnavailable(
            f"The embedding model could not be loaded or run ({type(exc).__name__}: {exc}). "
            "Check that the model files are installed (see README: python -m analysis embed), then try again."
        ) from exc
    by_text = {r["text"]: (r["self_expression"], r["secular"]) for r in scored.iter_rows(named=True)}
    missing = [x for x in texts if x not in by_text]
    if missing:
        raise ScorerUnavailable(f"The scorer returned no position for {len(missing)} of the pasted responses.")
    pos = np.array([by_text[x] for x in texts], dtype=float)
    emb = None
    emb_model = None
    try:
        from analysis import embeddings as emb_mod

        embed = getattr(emb_mod, "embed_texts", None)
        if embed is not None:
            emb = np.asarray(embed(list(texts), model=model), dtype=float)
            emb_model = model or getattr(emb_mod, "DEFAULT_MODEL", None)
    except Exception:  # noqa: BLE001 - embedding metrics are optional; the plane metrics still stand
        emb = None
    return {
        "texts": list(texts),
        "positions": pos,
        "metrics": set_metrics(pos, t, embeddings=emb),
        "embedding_model": emb_model,
    }


# --------------------------------------------------------------------------------------------------
# The same question on real texts: per prompt, choose k of the responses that exist for it.

POOL_SOURCES: tuple[str, ...] = ("candidates", "llm", "both")
POOL_SOURCE_LABELS: dict[str, str] = {
    "candidates": "the dataset's candidate responses",
    "llm": "uploaded LLM responses (llm_responses)",
    "both": "both, pooled per prompt",
}


POOL_SOURCE_SHORT: dict[str, str] = {"candidates": "dataset candidates", "llm": "LLM responses", "both": "both"}


class PoolUnavailable(RuntimeError):
    """The database lacks what pool selection needs (embeddings, axis scores, enough responses per prompt)."""


def evaluate_pool(
    pool,
    embeddings: np.ndarray,
    k: int = 4,
    methods: tuple[str, ...] | list[str] = POOL_METHODS,
    seeds: int | list[int] = 5,
    threshold: float | None = None,
    target: tuple[float, float] | None = None,
    min_pool: int | None = None,
    progress=None,
):
    """Metrics per selection method on real texts: a polars frame like diversity.evaluate's (strategy = method),
    plus ``vendi_embedding`` and ``mean_pairwise_distance_embedding`` rows (cosine, on the text embeddings).

    ``pool``: a polars frame with one row per (prompt, response): prompt_hash, text_hash, self_expression,
    secular; ``embeddings``: (rows, d) aligned with it. Prompts with fewer than ``min_pool`` responses
    (default 2k) are left out, since choosing k of barely more than k is no choice. For every seed each method
    picks k responses per prompt with :func:`select_from_pool`; the metrics are averaged over prompts, then the
    mean and a 95% interval are taken over seeds ('nearest' and 'dpp' are deterministic, so their interval has
    zero width).
    """
    import polars as pl

    from analysis import diversity as dv
    from analysis.schema import AXIS_X, AXIS_Y

    k = int(k)
    t = dv.DEFAULT_THRESHOLD if threshold is None else float(threshold)
    need = max(k + 1, 2 * k if min_pool is None else int(min_pool))
    for m in methods:
        if m not in POOL_METHODS:
            raise ValueError(f"unknown pool method {m!r}: choose from {', '.join(POOL_METHODS)}")
    emb = np.asarray(embeddings, dtype=float)
    if emb.ndim != 2 or emb.shape[0] != pool.height:
        raise ValueError(f"embeddings must have one row per pool row ({pool.height}); got shape {emb.shape}")
    seed_list = list(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    indexed = pool.with_row_index("_row")
    groups = (
        indexed.group_by("prompt_hash", maintain_order=True)
        .agg(pl.col("_row"))
        .filter(pl.col("_row").list.len() >= need)
        .sort("prompt_hash")
    )
    if groups.height == 0:
        raise PoolUnavailable(
            f"no prompt has at least {need} responses with an embedding and a position; lower k, or load more "
            "responses per prompt (python -m analysis llm) and embed and score them"
        )
    pos_all = pool.select(AXIS_X, AXIS_Y).to_numpy().astype(float)
    rows_per_prompt = [np.asarray(r, dtype=np.int64) for r in groups["_row"].to_list()]
    metric_names = list(dv.METRICS) + ["vendi_embedding", "mean_pairwise_distance_embedding"]
    labels = {
        **dv.METRIC_LABELS,
        "vendi_embedding": "Vendi score (embeddings, cosine)",
        "mean_pairwise_distance_embedding": "mean pairwise cosine distance (embeddings)",
    }
    out = []
    total, done = len(methods) * len(seed_list), 0
    for m in methods:
        per_seed: dict[str, list[float]] = {name: [] for name in metric_names}
        for seed in seed_list:
            rng = np.random.default_rng(seed)
            chosen = np.stack(
                [rows[select_from_pool(m, emb[rows], pos_all[rows], k, rng, target)] for rows in rows_per_prompt]
            )  # (prompts, k) row numbers
            plane = pos_all[chosen]
            vals = dv.batch_metrics(plane, t)
            vals["vendi_embedding"] = float(dv.vendi_batch(emb[chosen], "cosine").mean())
            vals["mean_pairwise_distance_embedding"] = float(dv.mean_pairwise_cosine_distance_batch(emb[chosen]).mean())
            for name in metric_names:
                per_seed[name].append(vals[name])
            done += 1
            if progress is not None:
                progress(done, total)
        for name in metric_names:
            v = np.asarray(per_seed[name])
            lo, hi = dv.mean_interval(v, lo_bound=dv.metric_floor(name), hi_bound=dv.metric_ceiling(name))
            out.append(
                {
                    "strategy": m,
                    "metric": name,
                    "label": labels[name],
                    "mean": float(v.mean()),
                    "low": None if np.isnan(lo) else lo,
                    "high": None if np.isnan(hi) else hi,
                    "n_seeds": len(seed_list),
                    "n_prompts": len(rows_per_prompt),
                    "k": k,
                    "threshold": t,
                }
            )
    return pl.DataFrame(
        out,
        schema={
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
        },
    )


def load_pool(con, source: str = "candidates", model: str | None = None, scores=None):
    """(pool frame, embeddings) for :func:`evaluate_pool` from a database.

    ``source``: 'candidates' (every distinct response offered for a prompt in the comparisons), 'llm' (the
    llm_responses table) or 'both'. Positions come from ``scores`` (text_hash, self_expression, secular) when
    given, else from the stored axis scores (analysis.axes.load_axis_scores); embeddings from the embeddings
    table (analysis.embeddings.load_embeddings). Responses lacking either are left out. Raises PoolUnavailable
    saying which step to run when something is missing.
    """
    import polars as pl

    from analysis import schema
    from analysis.schema import AXIS_X, AXIS_Y
    from analysis.store import query_pl

    if source not in POOL_SOURCES:
        raise ValueError(f"unknown pool source {source!r}: choose one of {', '.join(POOL_SOURCES)}")
    parts = []
    if source in ("candidates", "both"):
        parts.append(
            query_pl(
                con,
                f"""
            SELECT DISTINCT prompt_hash, h AS text_hash
            FROM (SELECT prompt_hash, unnest([a_hash, b_hash, c_hash, d_hash]) AS h FROM {schema.T_COMPARISONS})
            WHERE h IS NOT NULL AND prompt_hash IS NOT NULL""",
            )
        )
    if source in ("llm", "both"):
        if not _has_table(con, "llm_responses"):
            if source == "llm":
                raise PoolUnavailable("this database holds no LLM responses: load some with `python -m analysis llm`")
        else:
            parts.append(
                query_pl(
                    con,
                    "SELECT DISTINCT prompt_hash, text_hash FROM llm_responses "
                    "WHERE prompt_hash IS NOT NULL AND text_hash IS NOT NULL",
                )
            )
    pool = pl.concat(parts).unique(maintain_order=True) if parts else pl.DataFrame()
    if pool.height == 0:
        raise PoolUnavailable(f"no responses found for source {source!r} in this database")
    if scores is None:
        try:
            from analysis.axes import load_axis_scores
        except ImportError as exc:
            raise PoolUnavailable(f"the value-axis scorer (analysis.axes) is not available yet ({exc})") from exc
        try:
            scores = load_axis_scores(con, model)
        except LookupError as exc:
            raise PoolUnavailable(f"no axis scores stored yet: {exc}") from exc
    sc = scores.select("text_hash", pl.col(AXIS_X).cast(pl.Float64), pl.col(AXIS_Y).cast(pl.Float64)).unique(
        "text_hash"
    )
    pool = pool.join(sc, on="text_hash", how="inner").sort(["prompt_hash", "text_hash"])
    if pool.height == 0:
        raise PoolUnavailable(
            "none of these responses has a value-axis score: run `python -m analysis embed --db PATH` and then "
            "`python -m analysis axes score-db --db PATH` first"
        )
    emb = _stored_vectors(con, model, pool["text_hash"].to_list())
    keep = ~np.isnan(emb).any(axis=1) if emb.size else np.zeros(pool.height, dtype=bool)
    if not keep.any():
        raise PoolUnavailable("none of these responses has a stored embedding: run `python -m analysis embed` first")
    return pool.filter(pl.Series(keep)), emb[keep]


def evaluate_pool_db(
    con,
    source: str,
    k: int,
    seeds: int | list[int],
    threshold: float | None = None,
    model: str | None = None,
    target: tuple[float, float] | None = None,
):
    """load_pool then evaluate_pool with every method: the page's real-text table (callable through ui.db.cached)."""
    pool, emb = load_pool(con, source, model)
    return evaluate_pool(pool, emb, k, POOL_METHODS, seeds, threshold, target=target)


def pool_examples(
    pool,
    embeddings: np.ndarray,
    k: int,
    n_examples: int,
    seed: int,
    target: tuple[float, float] | None = None,
    min_pool: int | None = None,
) -> dict:
    """A few prompts' selections, for drawing: {"prompt_hashes": [...], "pool": [(m, 2) positions per prompt],
    "sets": {method: (n_examples, k, 2)}}. The prompts are drawn at random (by seed) among those with enough
    responses; every method chooses from the same prompts."""
    import polars as pl

    from analysis.schema import AXIS_X, AXIS_Y

    need = max(int(k) + 1, 2 * int(k) if min_pool is None else int(min_pool))
    groups = (
        pool.with_row_index("_row")
        .group_by("prompt_hash", maintain_order=True)
        .agg(pl.col("_row"))
        .filter(pl.col("_row").list.len() >= need)
        .sort("prompt_hash")
    )
    if groups.height == 0:
        raise PoolUnavailable(f"no prompt has at least {need} responses with an embedding and a position")
    rng = np.random.default_rng(int(seed))
    pick = np.sort(rng.choice(groups.height, size=min(int(n_examples), groups.height), replace=False))
    pos = pool.select(AXIS_X, AXIS_Y).to_numpy().astype(float)
    emb = np.asarray(embeddings, dtype=float)
    rows = [np.asarray(groups["_row"][int(i)].to_list(), dtype=np.int64) for i in pick]
    sets = {
        m: np.stack([pos[r[select_from_pool(m, emb[r], pos[r], k, rng, target)]] for r in rows]) for m in POOL_METHODS
    }
    return {
        "prompt_hashes": [groups["prompt_hash"][int(i)] for i in pick],
        "pool": [pos[r] for r in rows],
        "sets": sets,
    }


def pool_examples_db(
    con,
    source: str,
    k: int,
    n_examples: int,
    seed: int,
    model: str | None = None,
    target: tuple[float, float] | None = None,
) -> dict:
    pool, emb = load_pool(con, source, model)
    return pool_examples(pool, emb, k, n_examples, seed, target)


def _stored_vectors(con, model: str | None, hashes: list[str]) -> np.ndarray:
    """Stored embeddings for ``hashes`` in order, NaN rows where none is stored (one set-based query)."""
    import polars as pl

    from analysis.embeddings import model_key
    from analysis.store import query_pl

    if not _has_table(con, "embeddings"):
        raise PoolUnavailable("no embeddings stored in this database: run `python -m analysis embed` first")
    key = model_key(model)
    found = query_pl(
        con,
        "SELECT text_hash, vector FROM embeddings WHERE model = ? AND text_hash IN (SELECT unnest(?::VARCHAR[]))",
        [key, hashes],
    )
    if found.height == 0:
        raise PoolUnavailable(
            f"none of these responses has a stored embedding for model {key}: run "
            f"`python -m analysis embed --model {key}` first"
        )
    dim = len(found["vector"][0])
    order = pl.DataFrame({"text_hash": hashes}).with_row_index("i").join(found, on="text_hash", how="inner")
    out = np.full((len(hashes), dim), np.nan)
    out[order["i"].to_numpy()] = order["vector"].list.to_array(dim).to_numpy()
    return out


def _has_table(con, name: str) -> bool:
    # fetchall(), not fetchone(): under duckdb 2.0 a partly fetched result blocks the connection's next query.
    rows = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
    return bool(rows and rows[0][0])
