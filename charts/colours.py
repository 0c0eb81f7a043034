"""Colours, keyed by name so that a country, language or model keeps its colour whatever the filters leave on screen.
Names outside the fixed sets get a colour from a palette chosen by a stable hash of the name (never by position)."""

from __future__ import annotations

import hashlib

from analysis import schema

PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
OTHER_COLOURS: tuple[str, ...] = ("#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
COUNTRY_COLOURS: dict[str, str] = dict(zip(schema.COUNTRIES, ("#1f77b4", "#9467bd", "#2ca02c", "#ff7f0e", "#d62728")))
LANGUAGE_COLOURS: dict[str, str] = {schema.COUNTRY_LANG[c]: colour for c, colour in COUNTRY_COLOURS.items()}
CHOSEN_COLOURS: dict[str, str] = {"chosen": "#d62728", "not chosen": "#9aa5b1"}
ALL_COLOUR = "#444444"  # the "All countries" bar or line beside the countries
LLM_COLOUR = "#111111"
NEUTRAL = "#4c78a8"


def stable_colour(name: str, palette: tuple[str, ...] = OTHER_COLOURS) -> str:
    """A colour for a name outside the fixed sets: the same name always gets the same colour."""
    digest = hashlib.md5(str(name).encode("utf-8")).digest()
    return palette[digest[0] % len(palette)]


def country_colour(name: str) -> str:
    if name == "All countries":
        return ALL_COLOUR
    return COUNTRY_COLOURS.get(name) or stable_colour(name)


def language_colour(code: str) -> str:
    return LANGUAGE_COLOURS.get(code) or stable_colour(code)


def colour_of(group: str, by: str) -> str:
    """The colour of a group when points are coloured ``by`` country, language or chosen-or-not."""
    if by == "country":
        return country_colour(group)
    if by == "language":
        return language_colour(group)
    return CHOSEN_COLOURS.get(group) or stable_colour(group)


def rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def country_order(names: list[str]) -> list[str]:
    """The study's countries in their fixed order first, then any others alphabetically."""
    known = [c for c in schema.COUNTRIES if c in names]
    return known + sorted(n for n in names if n not in known)
