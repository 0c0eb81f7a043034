"""How far the value axes can be trusted, as a table and in plain sentences: held-out accuracy per axis and language
(texts the axes were never fitted on), the cells whose 95% interval reaches down to 0.6 (not findings), and which
countries' clouds inherit that weakness (people choose among texts in their own language).
"""

from __future__ import annotations

import duckdb
import polars as pl

from analysis import schema
from analysis.pipeline import axes, axes_store

X = schema.AXIS_X
Y = schema.AXIS_Y
AXIS_NAMES = axes.AXIS_LABELS
PRIMARY = "topic"  # the scheme the sentences and the country notes speak of


def load_validity(con: duckdb.DuckDBPyConnection, model: str | None = None) -> pl.DataFrame:
    """Stored held-out accuracy of the model's current axes (analysis.pipeline.axes.VALIDITY_COLUMNS)."""
    return axes_store.load_axis_validity(con, model)


def _lang_name(lang: str) -> str:
    return "all languages" if lang == axes.ALL else schema.LANGUAGE_NAMES.get(lang, lang)


def display_table(validity: pl.DataFrame) -> pl.DataFrame:
    """The held-out accuracy for people: axis, held out, language, accuracy, the 95% interval, n, and whether the
    cell may be read as a finding. Beside it (one row per axis): the research's LLM judge."""
    if validity.height == 0:
        return pl.DataFrame(
            schema={"axis": pl.String, "held out": pl.String, "language": pl.String, "accuracy": pl.Float64,
                    "95% interval": pl.String, "n": pl.Int64, "finding?": pl.String}
        )  # fmt: skip
    rows = [
        (
            AXIS_NAMES.get(r["axis"], r["axis"]),
            axes.SCHEME_LABELS.get(r["scheme"], r["scheme"]),
            _lang_name(r["language"]),
            r["accuracy"],
            f"{r['ci_low']:.0%}–{r['ci_high']:.0%}",
            r["n"],
            "no: interval reaches 60%" if r["flagged"] else "yes",
        )
        for r in validity.iter_rows(named=True)
    ]
    rows += [(AXIS_NAMES[a], "the research's LLM judge", "reported", axes.REFERENCE_ACCURACY[a], "", None, "")
             for a in axes.AXIS_ORDER]  # fmt: skip
    return pl.DataFrame(
        rows, schema=["axis", "held out", "language", "accuracy", "95% interval", "n", "finding?"], orient="row"
    )


def validity_notes(validity: pl.DataFrame) -> list[tuple[str, str]]:
    """Plain warnings for the flagged cells (topics held out, per language): [(level 'error', message)]."""
    notes: list[tuple[str, str]] = []
    part = validity.filter((pl.col("scheme") == PRIMARY) & pl.col("flagged")) if validity.height else validity
    for r in part.sort("accuracy").iter_rows(named=True):
        name = _lang_name(r["language"])
        notes.append(
            (
                "error",
                f"{name}, {AXIS_NAMES.get(r['axis'], r['axis'])} axis: held-out accuracy {r['accuracy']:.0%} "
                f"(95% interval {r['ci_low']:.0%}–{r['ci_high']:.0%}, n = {r['n']}) reaches down to 60%: "
                f"don't read {name} positions on this axis as findings.",
            )
        )
    return notes


def weak_summary(validity: pl.DataFrame) -> str | None:
    """One line on the flagged cells of the other scheme (a language left out of the fit), or None."""
    if validity.height == 0:
        return None
    part = validity.filter((pl.col("scheme") != PRIMARY) & pl.col("flagged") & (pl.col("language") != axes.ALL))
    cells = [
        f"{_lang_name(r['language'])} {'x' if r['axis'] == X else 'y'} {r['accuracy']:.0%} "
        f"[{r['ci_low']:.0%}–{r['ci_high']:.0%}]"
        for r in part.sort("accuracy").iter_rows(named=True)
    ]
    if not cells:
        return None
    return "With the language left out of the fit, these cells reach down to 60%: " + "; ".join(cells) + "."


def country_notes(validity: pl.DataFrame, countries: list[str] | tuple[str, ...] = schema.COUNTRIES) -> list[str]:
    """For people drawn per country: the countries whose language has a flagged cell (topics held out)
    (people choose among texts in their own language, so their positions inherit that weakness)."""
    if validity.height == 0:
        return []
    part = validity.filter(pl.col("scheme") == PRIMARY)
    cell = {(r["axis"], r["language"]): r for r in part.iter_rows(named=True)}
    notes = []
    for country in countries:
        lang = schema.COUNTRY_LANG.get(country)
        weak = [
            f"{AXIS_NAMES[a]} {cell[(a, lang)]['accuracy']:.0%} [{cell[(a, lang)]['ci_low']:.0%}–"
            f"{cell[(a, lang)]['ci_high']:.0%}]"
            for a in (X, Y)
            if (a, lang) in cell and cell[(a, lang)]["flagged"]
        ]
        if weak:
            notes.append(
                f"{country}: its people chose among {schema.LANGUAGE_NAMES.get(lang, lang)} texts, which these axes "
                f"place weakly ({'; '.join(weak)} held-out accuracy). Read {country}'s cloud as rough."
            )
    return notes
