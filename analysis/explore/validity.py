"""How far the value axes can be trusted, in plain sentences: which language and axis cells are weak or at chance,
and which countries' clouds inherit that weakness (people choose among texts in their own language).
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from analysis import schema
from analysis.pipeline import axes

X = schema.AXIS_X
Y = schema.AXIS_Y


def load_validity(con: duckdb.DuckDBPyConnection, model: str | None = None) -> pl.DataFrame:
    """Stored leave-one-out anchor accuracy per axis and language (axis, language, accuracy, n) for the model's
    stored axis scores (analysis.pipeline.axes.load_axis_validity)."""
    return axes.load_axis_validity(con, model)


WEAK_ACCURACY = 0.7  # below this, positions in that language are not trusted (= analysis.pipeline.axes.TRUST_THRESHOLD)
NOISE_ACCURACY = 0.6  # below this (chance is 0.5), positions in that language are not findings
AXIS_NAMES = {X: "survival / self-expression", Y: "traditional / secular-rational"}


def validity_notes(validity: pl.DataFrame) -> list[tuple[str, str]]:
    """Plain warnings for weak cells of the validity table: [(level 'error'|'warning', message)]."""
    notes: list[tuple[str, str]] = []
    if validity.height == 0:
        return notes
    for row in validity.sort("accuracy").iter_rows(named=True):
        lang = row["language"]
        name = schema.LANGUAGE_NAMES.get(lang, lang)
        if lang in ("all", "*", None):
            name = "all languages"
        axis = AXIS_NAMES.get(row["axis"], row["axis"])
        acc = row["accuracy"]
        if acc is None or np.isnan(acc):
            continue
        if acc < NOISE_ACCURACY:
            notes.append(
                (
                    "error",
                    f"{name}, {axis} axis: anchor accuracy {acc:.0%} (chance is 50%). This model cannot "
                    f"place {name} text on this axis: don't read {name} positions as findings.",
                )
            )
        elif acc < WEAK_ACCURACY:
            notes.append(
                (
                    "warning",
                    f"{name}, {axis} axis: anchor accuracy {acc:.0%}, weak. Read {name} positions "
                    "on this axis as rough.",
                )
            )
    return notes


def weak_summary(validity: pl.DataFrame) -> str | None:
    """One line naming the weak (but above-chance) cells of the validity table, e.g.
    'Weak (below 70%): Hindi y 60%; Portuguese x 67%.' None when there are none."""
    if validity.height == 0:
        return None
    cells = []
    for row in validity.sort("accuracy").iter_rows(named=True):
        acc = row["accuracy"]
        if acc is None or np.isnan(acc) or not (NOISE_ACCURACY <= acc < WEAK_ACCURACY):
            continue
        lang = row["language"]
        name = "all languages" if lang == "all" else schema.LANGUAGE_NAMES.get(lang, lang)
        cells.append(f"{name} {'x' if row['axis'] == X else 'y'} {acc:.0%}")
    if not cells:
        return None
    return f"Weak (below {WEAK_ACCURACY:.0%}, read as rough): " + "; ".join(cells) + "."


def country_notes(validity: pl.DataFrame, countries: list[str] | tuple[str, ...] = schema.COUNTRIES) -> list[str]:
    """For people drawn per country: the countries whose language the model places poorly on an axis
    (people choose among texts in their own language, so their positions inherit that weakness)."""
    notes = []
    if validity.height == 0:
        return notes
    acc = {(r["axis"], r["language"]): r["accuracy"] for r in validity.iter_rows(named=True)}
    for country in countries:
        lang = schema.COUNTRY_LANG.get(country)
        weak = [
            f"{AXIS_NAMES[a]} {acc[(a, lang)]:.0%}"
            for a in (X, Y)
            if (a, lang) in acc and acc[(a, lang)] is not None and acc[(a, lang)] < WEAK_ACCURACY
        ]
        if weak:
            notes.append(
                f"{country}: its people chose among {schema.LANGUAGE_NAMES.get(lang, lang)} texts, which this model "
                f"places weakly ({'; '.join(weak)} anchor accuracy). Read {country}'s cloud as rough."
            )
    return notes
