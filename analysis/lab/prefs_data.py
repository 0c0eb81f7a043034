"""The choices a preference model is fitted on, read from the database in one pass.

Every four-way choice in ``comparison_facts`` (under the global filters), with the chooser, the chooser's group under
a grouping (country, language, age, ...), the four candidates as indices into one table of distinct texts, the
chosen slot, the texts' stored embeddings and, where stored, their value-axis coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.filters import Filters
from analysis.pipeline import axes_store
from analysis.pipeline.models import model_key

# grouping name (CLI, URL, stored runs) -> comparison_facts column
GROUPINGS: dict[str, str] = {
    "country": "country",
    "language": "assigned_lang",
    "age": "age",
    "political": "political",
    "gender": "gender",
    "education": "education",
}
GROUPING_LABELS: dict[str, str] = {
    "country": "Country",
    "language": "Language",
    "age": "Age",
    "political": "Political leaning",
    "gender": "Gender",
    "education": "Education",
}


@dataclass(frozen=True)
class ChoiceData:
    """n comparisons of k candidates over N distinct texts of dimension D."""

    annotator: np.ndarray  # (n,) int: index into people
    people: np.ndarray  # (P,) annotator ids
    group: np.ndarray  # (n,) int: index into group_names
    group_names: tuple[str, ...]
    texts: np.ndarray  # (n, k) int: index into hashes
    chosen: np.ndarray  # (n,) int: the chosen slot
    hashes: np.ndarray  # (N,) text hashes
    vectors: np.ndarray  # (N, D) float32 stored embeddings
    axis_scores: np.ndarray  # (N, 2) float64 (self_expression, secular); NaN where a text has no stored score
    model: str  # the embedding model's key
    n_skipped: int  # comparisons left out (a candidate slot without text)

    @property
    def n(self) -> int:
        return int(self.chosen.shape[0])

    @property
    def k(self) -> int:
        return int(self.texts.shape[1])

    def person_group(self) -> np.ndarray:
        """(P,) each person's group: the one most of their comparisons fall in (a person's country or age does
        not change between comparisons; their assigned language might)."""
        counts = np.zeros((len(self.people), len(self.group_names)), dtype=np.int64)
        np.add.at(counts, (self.annotator, self.group), 1)
        return counts.argmax(axis=1)


def _choices_statements(filters: Filters, column: str) -> list[tuple[str, list]]:
    """Temporary tables: the filtered choices, their distinct texts numbered, and the choices as text indices."""
    facts, params = filters.facts_sql("f")
    hashes = ", ".join(schema.HASH_COLUMNS)
    slots = ", ".join(f"'{letter}'" for letter in schema.LETTERS)
    joins = " ".join(f"JOIN _texts t{j} ON t{j}.text_hash = c.{h}" for j, h in enumerate(schema.HASH_COLUMNS))
    cols = ", ".join(f"t{j}.i AS s{j}" for j in range(len(schema.HASH_COLUMNS)))
    return [
        (
            f"CREATE OR REPLACE TEMP TABLE _choices AS SELECT comparison_id, annotator_id, "
            f"coalesce(CAST({column} AS VARCHAR), '{schema.NOT_GIVEN}') AS grp, "
            f"list_position([{slots}], lower(chosen)) - 1 AS chosen, {hashes} FROM ({facts}) f",
            params,
        ),
        (
            "CREATE OR REPLACE TEMP TABLE _texts AS SELECT text_hash, "
            "CAST(row_number() OVER (ORDER BY text_hash) - 1 AS BIGINT) AS i "
            f"FROM (SELECT DISTINCT unnest([{hashes}]) AS text_hash FROM _choices) WHERE text_hash IS NOT NULL",
            [],
        ),
        (
            f"CREATE OR REPLACE TEMP TABLE _rows AS SELECT c.annotator_id, c.grp, c.chosen, {cols} "
            f"FROM _choices c {joins} WHERE c.chosen >= 0 ORDER BY c.comparison_id",
            [],
        ),
    ]


def load_choices(con: duckdb.DuckDBPyConnection, grouping: str, filters: Filters, model: Any = None) -> ChoiceData:
    """The filtered choices grouped by ``grouping``, their texts' vectors under ``model`` and axis scores.

    Raises ValueError for an unknown grouping or no choices, LookupError when a text has no stored embedding (the
    message says which command computes them)."""
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}: use one of {', '.join(GROUPINGS)}")
    key = model_key(model)
    try:
        for sql, params in _choices_statements(filters, GROUPINGS[grouping]):
            con.execute(sql, params)
        total = int(store.scalar(con, "SELECT count(*) FROM _choices") or 0)
        rows = store.query_pl(con, "SELECT * FROM _rows")
        hashes = store.query_pl(con, "SELECT text_hash FROM _texts ORDER BY i")["text_hash"].to_numpy()
        if not rows.height:
            raise ValueError(
                "No choices to fit: the database holds no comparisons under these filters. Widen the filters, or "
                "load data with `python -m analysis demo` / `python -m analysis ingest`."
            )
        vectors = _vectors(con, key, len(hashes))
    finally:
        con.execute("DROP TABLE IF EXISTS _rows; DROP TABLE IF EXISTS _texts; DROP TABLE IF EXISTS _choices")
    people, annotator = np.unique(rows["annotator_id"].to_numpy().astype(str), return_inverse=True)
    names, group = np.unique(rows["grp"].to_numpy().astype(str), return_inverse=True)
    k = len(schema.HASH_COLUMNS)
    return ChoiceData(
        annotator=annotator.astype(np.int64),
        people=people,
        group=group.astype(np.int64),
        group_names=tuple(str(g) for g in names),
        texts=rows.select([f"s{j}" for j in range(k)]).to_numpy().astype(np.int64),
        chosen=rows["chosen"].to_numpy().astype(np.int64),
        hashes=hashes,
        vectors=vectors,
        axis_scores=_axis_scores(con, key, hashes),
        model=key,
        n_skipped=total - rows.height,
    )


def _vectors(con: duckdb.DuckDBPyConnection, key: str, n: int) -> np.ndarray:
    """The vectors of the numbered texts (temporary table _texts), streamed; LookupError naming the command to run
    when some have none."""
    vectors = store.stream_vectors(con, key, "SELECT i, text_hash FROM _texts", n)
    missing = n if vectors.shape[1] == 0 else int(np.isnan(vectors[:, 0]).sum())
    if missing:
        raise LookupError(
            f"{missing:,} of {n:,} candidate texts have no stored embedding for model {key}: run "
            f"`python -m analysis embed --db PATH --model {key}` first (or `python -m analysis prepare --db PATH`)."
        )
    return vectors


def _axis_scores(con: duckdb.DuckDBPyConnection, key: str, hashes: np.ndarray) -> np.ndarray:
    """(N, 2) stored coordinates (self_expression, secular) of the texts, NaN where none is stored."""
    scores = axes_store.load_axis_scores(con, key)
    out = np.full((len(hashes), 2), np.nan)
    if not scores.height:
        return out
    index = pl.DataFrame({"text_hash": hashes, "i": np.arange(len(hashes))})
    found = index.join(scores.unique("text_hash", keep="first"), on="text_hash", how="inner")
    out[found["i"].to_numpy()] = found.select(schema.AXIS_X, schema.AXIS_Y).to_numpy()
    return out
