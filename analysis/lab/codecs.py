"""The labs' editable tables as URL values and back: the Sampling lab's models and personas, the simulator's
population. A reader that cannot read a value says so (or raises ValueError naming the bad entry) rather than guess.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from analysis.lab.population import Group, groups_from_rows
from analysis.lab.strategies import (
    DEFAULT_MODELS,
    DEFAULT_PERSONAS,
    ModelProfile,
    models_from_rows,
)


# ---- the Sampling lab -------------------------------------------------------------------------------------------
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


# ---- the simulator ----------------------------------------------------------------------------------------------
def groups_to_param(groups: Iterable[Group]) -> str:
    """A compact URL value: ``name:x,y,spread,share;...``."""
    return ";".join(f"{g.name}:{g.x:g},{g.y:g},{g.spread:g},{g.share:g}" for g in groups)


def groups_from_param(value: str) -> tuple[Group, ...]:
    rows = []
    for part in str(value).split(";"):
        if not part.strip():
            continue
        name, sep, nums = part.rpartition(":")
        if not sep:
            raise ValueError(f"population entry {part!r} is not of the form name:x,y,spread,share")
        fields = nums.split(",")
        if len(fields) != 4:
            raise ValueError(f"population entry {part!r} needs four numbers: x,y,spread,share")
        rows.append(dict(zip(("name", "x", "y", "spread", "share"), [name, *fields])))
    return groups_from_rows(rows)
