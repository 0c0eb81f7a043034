"""Candidate-sampling strategies on the Inglehart-Welzel value plane (the Sampling lab's simulated sets).

Every position here is a point on the plane: x = ``self_expression`` (survival -1 .. +1 self-expression),
y = ``secular`` (traditional -1 .. +1 secular-rational); typical statements of each pole sit around -1/+1 and points
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

The same question on real texts is asked in ``analysis.lab.pool``; the metrics are in ``analysis.lab.diversity``
and their evaluation over seeds in ``analysis.lab.evaluation``. CLI: ``python -m analysis sample --strategy nc --k 4
--prompts 1000 --json``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def rng_from(seed: int | np.random.Generator) -> np.random.Generator:
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
    rng = rng_from(seed)

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
