"""Simulated annotator populations on the Inglehart-Welzel value plane, and the choice model they answer with.

The plane is the one of ``analysis.lab.strategies``: x = ``self_expression`` (survival -1 .. +1 self-expression),
y = ``secular`` (traditional -1 .. +1 secular-rational).

A population is a list of groups. In *country* mode the groups are the study's five countries (names from
``analysis.schema.COUNTRIES``) and a reward model may condition on them; in *latent* mode they are K hidden
types that no model is told about. Each group has an ideal point, a within-group spread (the s.d. of its
members' ideal points around it, per axis) and a share of the annotators.

ILLUSTRATIVE: the default country positions are not measurements. They follow the qualitative picture of
the published Inglehart-Welzel map (India and Brazil lower and further left - more traditional and
survival - than France and Italy; the United States comparatively traditional for a rich country but high on
self-expression), and, as the Community Alignment human study found, people differ more within a country
than countries differ from each other: the within-country spread is larger than the distances between
country ideal points (``spread_summary`` measures both).

Choice model: an annotator with ideal point ``m`` shown k candidates picks candidate j with probability
proportional to ``exp(beta * u_j)``, where ``u = -||x - m||^2`` (ideal-point utility) or ``u = m . x``
(linear utility: the annotator's point read as a direction of preference). ``beta`` is the rationality.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from analysis.illustrative import COUNTRY_POSITIONS

MODES: tuple[str, ...] = ("country", "latent")
UTILITIES: tuple[str, ...] = ("ideal", "linear")
UTILITY_LABELS: dict[str, str] = {
    "ideal": "ideal point: u = -||x - ideal||^2",
    "linear": "linear: u = w . x",
}

ILLUSTRATIVE_NOTE = (
    "Illustrative parameters, not measurements: country positions follow the qualitative Inglehart-Welzel map "
    "and the within-country spread is set larger than the distances between countries, as the human study found."
)


@dataclass(frozen=True)
class Group:
    """One country (or hidden type): ideal point on the plane, within-group spread (s.d. per axis), share."""

    name: str
    x: float
    y: float
    spread: float
    share: float

    @property
    def ideal(self) -> np.ndarray:
        return np.array([self.x, self.y], dtype=float)


# ILLUSTRATIVE default positions (see the module docstring and analysis.illustrative).
DEFAULT_GROUPS: tuple[Group, ...] = tuple(Group(name, *values) for name, values in COUNTRY_POSITIONS.items())


@dataclass(frozen=True)
class Population:
    groups: tuple[Group, ...] = DEFAULT_GROUPS
    mode: str = "country"  # "country": models may condition on the group; "latent": the group is hidden
    illustrative: bool = True

    def __post_init__(self) -> None:
        problems = validate_population(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.groups)

    @property
    def ideals(self) -> np.ndarray:
        return np.array([[g.x, g.y] for g in self.groups], dtype=float)

    @property
    def spreads(self) -> np.ndarray:
        return np.array([g.spread for g in self.groups], dtype=float)

    @property
    def shares(self) -> np.ndarray:
        s = np.array([g.share for g in self.groups], dtype=float)
        return s / s.sum()


@dataclass(frozen=True)
class ChoiceModel:
    utility: str = "ideal"
    # ILLUSTRATIVE rationality. Chosen high enough that choices are mostly decided by the values on offer: that is
    # where homogeneous (i.i.d.) candidate sets lose most against NC sets. The gap narrows at low beta (at beta = 1
    # the group model's error on Brazil and India was 0.19 with iid vs 0.15 with NC candidates; at 6, 0.19 vs 0.07).
    beta: float = 6.0

    def __post_init__(self) -> None:
        if self.utility not in UTILITIES:
            raise ValueError(f"unknown utility {self.utility!r}: choose one of {', '.join(UTILITIES)}")
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta (rationality) must be a number >= 0 (got {self.beta})")


def validate_population(pop: Population) -> list[str]:
    """Plain-language problems with a population (empty when fine)."""
    out: list[str] = []
    if pop.mode not in MODES:
        out.append(f"unknown mode {pop.mode!r}: choose one of {', '.join(MODES)}")
    if not pop.groups:
        out.append("the population is empty: add at least one group row")
        return out
    names = [g.name for g in pop.groups]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        out.append(f"group names must be distinct (repeated: {', '.join(dupes)})")
    for g in pop.groups:
        if not all(math.isfinite(float(v)) for v in (g.x, g.y, g.spread, g.share)):
            out.append(f"group {g.name!r}: x, y, spread and share must be finite numbers")
            continue
        if g.spread < 0:
            out.append(f"group {g.name!r}: spread must be >= 0 (got {g.spread})")
        if g.share < 0:
            out.append(f"group {g.name!r}: share must be >= 0 (got {g.share})")
    if not out and sum(g.share for g in pop.groups) <= 0:
        out.append("the shares add up to 0: give at least one group a positive share")
    return out


def default_population() -> Population:
    """The five countries at their ILLUSTRATIVE default positions."""
    return Population(DEFAULT_GROUPS, mode="country", illustrative=True)


def latent_population(n_types: int = 3, radius: float = 0.7, spread: float = 0.25, seed: int = 0) -> Population:
    """K hidden types, evenly spaced on a circle (random rotation by seed), equal shares. ILLUSTRATIVE."""
    n_types = int(n_types)
    if n_types < 1:
        raise ValueError(f"the number of hidden types must be at least 1 (got {n_types})")
    rot = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    angles = rot + 2 * np.pi * np.arange(n_types) / n_types
    groups = tuple(
        Group(f"type {i + 1}", round(float(radius * np.cos(a)), 3), round(float(radius * np.sin(a)), 3), spread, 1.0)
        for i, a in enumerate(angles)
    )
    return Population(groups, mode="latent", illustrative=True)


# ----------------------------------------------------------------------------------------------- table round trip
def groups_to_rows(groups: Iterable[Group]) -> list[dict]:
    return [{"name": g.name, "x": g.x, "y": g.y, "spread": g.spread, "share": g.share} for g in groups]


def groups_from_rows(rows: Iterable[Mapping]) -> tuple[Group, ...]:
    """Groups from table rows {name, x, y, spread, share}; a ValueError names the bad row and what to fix."""
    out = []
    for i, r in enumerate(rows, start=1):
        name = str(r.get("name") or "").strip() or f"group {i}"
        vals = []
        for key in ("x", "y", "spread", "share"):
            v = r.get(key)
            try:
                f = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"row {i} ({name}): {key} must be a number (got {v!r})") from None
            if not math.isfinite(f):
                raise ValueError(f"row {i} ({name}): {key} must be a finite number (got {v!r})")
            vals.append(f)
        out.append(Group(name, *vals))
    if not out:
        raise ValueError("the population table is empty: add at least one row")
    return tuple(out)


# ------------------------------------------------------------------------------------------------------ annotators
@dataclass(frozen=True)
class Annotators:
    group: np.ndarray  # (A,) int index into population.groups
    ideal: np.ndarray  # (A, 2) each annotator's own ideal point (or preference direction, linear utility)
    names: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return int(self.group.shape[0])


def allocate(n_total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``n_total`` annotators by share (largest remainder), deterministic."""
    shares = np.asarray(shares, dtype=float)
    raw = shares / shares.sum() * int(n_total)
    counts = np.floor(raw).astype(int)
    rest = int(n_total) - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def sample_annotators(pop: Population, n_annotators: int, rng: np.random.Generator) -> Annotators:
    """Draw annotators: a group by share, an ideal point ~ N(group ideal, spread^2 I)."""
    n_annotators = int(n_annotators)
    if n_annotators < 1:
        raise ValueError(f"the number of annotators must be at least 1 (got {n_annotators})")
    counts = allocate(n_annotators, pop.shares)
    group = np.repeat(np.arange(len(pop.groups)), counts)
    ideal = pop.ideals[group] + rng.standard_normal((n_annotators, 2)) * pop.spreads[group, None]
    return Annotators(group=group, ideal=ideal, names=pop.names)


# ---------------------------------------------------------------------------------------------------- choice model
def utility(points: np.ndarray, ideal: np.ndarray, utility_kind: str = "ideal") -> np.ndarray:
    """Utility of ``points`` (..., 2) for ideal points broadcastable to them (..., 2) -> (...)."""
    points = np.asarray(points, dtype=float)
    ideal = np.asarray(ideal, dtype=float)
    if utility_kind == "ideal":
        return -np.sum((points - ideal) ** 2, axis=-1)
    if utility_kind == "linear":
        return np.sum(points * ideal, axis=-1)
    raise ValueError(f"unknown utility {utility_kind!r}: choose one of {', '.join(UTILITIES)}")


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def choice_probabilities(candidates: np.ndarray, ideal: np.ndarray, model: ChoiceModel) -> np.ndarray:
    """P(choose j of k) for candidate sets (n, k, 2) and one ideal point per set (n, 2) -> (n, k)."""
    u = utility(candidates, np.asarray(ideal)[..., None, :], model.utility)
    return softmax(model.beta * u, axis=-1)


def sample_choices(
    candidates: np.ndarray, ideal: np.ndarray, model: ChoiceModel, rng: np.random.Generator
) -> np.ndarray:
    """The index (n,) of the chosen candidate of each set, drawn from the choice model."""
    p = choice_probabilities(candidates, ideal, model)
    cum = np.cumsum(p, axis=-1)
    r = rng.random((p.shape[0], 1))
    return np.minimum((r > cum).sum(axis=-1), p.shape[-1] - 1)


# --------------------------------------------------------------------------------------------------- descriptions
def spread_summary(pop: Population) -> dict[str, float]:
    """How far members of one group lie apart compared with how far the group ideal points lie apart.

    ``within``: expected distance between two members of the same group (share-weighted; for isotropic
    Gaussians with s.d. s per axis it is s * sqrt(pi)). ``between``: mean distance between distinct group ideal points.
    """
    ideals = pop.ideals
    g = len(ideals)
    if g > 1:
        d = np.sqrt(((ideals[:, None] - ideals[None]) ** 2).sum(-1))
        between = float(d[np.triu_indices(g, 1)].mean())
    else:
        between = 0.0
    within = float((pop.shares * pop.spreads).sum() * math.sqrt(math.pi))
    return {"within": within, "between": between}
