"""Candidate-sampling strategies on the Inglehart-Welzel value plane (the Sampling lab).

Every position here is a point on the plane: x = ``self_expression`` (survival -1 .. +1 self-expression),
y = ``secular`` (traditional -1 .. +1 secular-rational); the poles' anchors sit around -1/+1 and points
mostly fall in [-1.5, 1.5].

ILLUSTRATIVE: the model positions, spreads, persona positions and knob defaults below are not measurements.
They were chosen so that, with the defaults, the *qualitative* result reported by the Community Alignment
paper (arXiv 2507.09650) appears: candidate sets drawn independently from models that sit near the
secular-rational / self-expression corner rarely reach the traditional and survival poles, while
negatively-correlated (NC) sets do. Users can edit all of them.

Strategies (``draw_sets``):

``iid``
    k independent draws from one model (the first of ``params.models``) around its default position, with
    a spread that scales with the sampling temperature.
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
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field, replace

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
    parser.add_argument("--persona-pull", type=float, default=d.persona_pull, help="how far a persona moves a model, [0, 1]")
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


def run(args: argparse.Namespace) -> int:
    from analysis.diversity import METRIC_LABELS

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
    print(f"strategy {res['strategy']} ({STRATEGY_LABELS[res['strategy']]}), k = {res['k']}, "
          f"{res['prompts']} prompts, seeds {seeds[0]}..{seeds[-1]}, threshold {res['threshold']}")
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


def comparison_table(df, k: int):
    """The page's metric table: one row per metric, one column per strategy ("mean [low, high]"), and the
    paper's reported coverage@4 for temperature (iid) and NC sampling beside it (blank where it reports none,
    and for k != 4 flagged as not directly comparable)."""
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
        for s, col in (("iid", "paper: temperature sampling"), ("nc", "paper: NC sampling")):
            v = REPORTED_COVERAGE_AT_4[s].get(pole) if pole else None
            row[col] = "" if v is None else f"~{v:.2f}{note}"
        rows.append(row)
    return pl.DataFrame(rows)


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
