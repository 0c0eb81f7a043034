"""The Values map's findings from what is embedded so far: the stratified sample, its weights, and the statistics with
their intervals (analysis.explore.findings), over the database under the filters.

The findings use the longest prefix of the sample's order (analysis.pipeline.sample) whose comparisons have all their
texts (the chosen one and every offered one) placed: the embedding job embeds whole comparisons in that order, so the
prefix grows as it goes, and a prefix is a stratified random sample of the comparisons under the filters. Each comparison is weighted by its stratum's size over the number of its
stratum's comparisons that are in (N_h / n_h), so a stratum counts as it does in the data however far the job has got.
When everything is embedded every weight is 1 and the figures are the full data's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.explore import findings, positions
from analysis.filters import Filters
from analysis.pipeline import sample


@dataclass(frozen=True)
class SampleFindings:
    table: pl.DataFrame  # findings.COLUMNS: group, statistic, value, lo, hi, n_people, n_comparisons
    llm: dict  # findings.llm_findings
    n_comparisons: int  # under the filters
    n_in_sample: int  # with every text positioned
    n_texts: int  # texts the pipeline embeds (candidates, prompts, LLM answers)
    n_placed: int  # of those, with a position
    sentence: str

    @property
    def fraction_placed(self) -> float:
        return self.n_placed / self.n_texts if self.n_texts else 0.0

    @property
    def fraction_in_sample(self) -> float:
        return self.n_in_sample / self.n_comparisons if self.n_comparisons else 0.0


def _ordered_sql(filters: Filters | None) -> tuple[str, list]:
    facts, params = (filters or Filters()).facts_sql("f")
    hashes = ", ".join(schema.HASH_COLUMNS)
    facts = f"SELECT comparison_id, annotator_id, country, assigned_lang, turn, {hashes}, chosen_hash FROM ({facts})"
    cols = f"comparison_id, annotator_id, country, stratum, stratum_n, sample_order, {hashes}, chosen_hash"
    return f"SELECT {cols} FROM ({sample.ordered_comparisons_sql(facts=facts)})", params


def ordered_comparisons(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """The comparisons under the filters in the sample's order, with stratum and stratum size."""
    sql, params = _ordered_sql(filters)
    return store.query_pl(con, f"{sql} ORDER BY sample_order", params)


def placed_prefix(
    con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, filters: Filters | None = None
) -> tuple[pl.DataFrame, int]:
    """(the comparisons of the longest prefix of the order with every text placed, how many comparisons the filters
    hold), worked out in the database so that only the prefix is read (the release has 233,000 comparisons)."""
    sql, params = _ordered_sql(filters)
    placed = "(SELECT text_hash FROM _cae_placed)"
    complete = " AND ".join(
        [f"coalesce(chosen_hash IN {placed}, FALSE)"]
        + [f"({c} IS NULL OR coalesce({c} IN {placed}, FALSE))" for c in schema.HASH_COLUMNS]
    )
    con.register("_cae_placed", scores.select("text_hash"))
    try:
        query = f"""
            WITH o AS ({sql}), flagged AS (SELECT *, {complete} AS complete FROM o)
            SELECT * EXCLUDE (complete), (SELECT count(*) FROM o) AS n_all FROM flagged
            WHERE sample_order < (SELECT coalesce(min(sample_order), 9223372036854775807) FROM flagged
                                  WHERE NOT complete)
            ORDER BY sample_order"""
        rows = store.query_pl(con, query, params)
        n_all = (
            int(rows["n_all"][0]) if rows.height else int(store.scalar(con, f"SELECT count(*) FROM ({sql})", params))
        )
    finally:
        con.unregister("_cae_placed")
    return rows.drop("n_all"), n_all


def in_sample(comps: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """The longest prefix of the sample order (by ``sample_order``) whose comparisons have their chosen and offered
    texts all placed, with ``weight`` = N_h / n_h.

    A prefix, not every complete comparison: comparisons that share a candidate set (the release's first turns) are
    complete as soon as one of them is, and taking them all would over-represent the shared sets and the first turn;
    a prefix of the order is a stratified random sample by construction (analysis.pipeline.sample)."""
    placed = scores["text_hash"].implode()
    complete = pl.lit(True)
    for col in (*schema.HASH_COLUMNS, "chosen_hash"):
        ok = pl.col(col).is_in(placed)
        complete = complete & (ok if col == "chosen_hash" else (pl.col(col).is_null() | ok))
    ordered = comps.sort("sample_order").with_columns(complete.fill_null(False).alias("_complete"))
    prefix = ordered.filter(pl.col("_complete").cum_min()).drop("_complete")
    n_h = prefix.group_by("stratum").agg(pl.len().alias("n_h"))
    return (
        prefix.join(n_h, on="stratum", maintain_order="left")
        .with_columns(weight=pl.col("stratum_n") / pl.col("n_h"))
        .drop("n_h")
    )


def _sentence(table: pl.DataFrame, llm: dict) -> str:
    row = table.filter((pl.col("group") == findings.ALL) & (pl.col("statistic") == "chosen_spread"))
    if not row.height:
        return "No comparison has all its texts placed on the axes yet."
    if llm["n"] == 0:
        return ("This database holds no LLM answers placed on the axes: upload your models' answers below (or wait for "
                "the job to reach them) to compare their spread with people's choices.")  # fmt: skip
    people = (row["value"][0], row["lo"][0], row["hi"][0])
    return findings.spread_sentence(people, llm["llm_spread"], int(row["n_people"][0]))


def sample_findings(
    con: duckdb.DuckDBPyConnection,
    filters: Filters | None = None,
    model: str | None = None,
    scores: pl.DataFrame | None = None,
    b: int = findings.B,
) -> SampleFindings:
    """The findings from the comparisons whose texts are all placed so far (see the module docstring)."""
    sc = positions.load_scores(con, model, scores)
    prefix, n_comparisons = placed_prefix(con, sc, filters)
    used = in_sample(prefix, sc)
    llm_pts = positions.llm_points(con, model, sc)
    llm = findings.llm_findings(llm_pts.select("x", "y").to_numpy() if llm_pts.height else np.zeros((0, 2)), b=b)
    table = findings.country_findings(findings.build_sample(used, sc), llm["quadrant"], b=b)
    n_texts = int(store.scalar(con, f"SELECT count(*) FROM ({store.text_hashes_sql(con)})"))
    return SampleFindings(
        table=table,
        llm=llm,
        n_comparisons=n_comparisons,
        n_in_sample=used.height,
        n_texts=n_texts,
        n_placed=min(sc.height, n_texts),
        sentence=_sentence(table, llm),
    )


MIN_PEOPLE = 5


def wide(table: pl.DataFrame) -> pl.DataFrame:
    """One row per group with each statistic as "value [lo–hi]" (for a table on the page); a group of fewer than
    MIN_PEOPLE people shows its value without an interval, marked."""
    if not table.height:
        return pl.DataFrame()

    def fmt(v: float, lo: float, hi: float, share: bool) -> str:
        if v is None or math.isnan(v):
            return "–"
        f = (lambda x: f"{x:.0%}") if share else (lambda x: f"{x:+.2f}" if abs(x) < 10 else f"{x:.1f}")
        return f"{f(v)} [{f(lo)}–{f(hi)}]" if not (math.isnan(lo) or math.isnan(hi)) else f(v)

    rows = []
    for group in table["group"].unique(maintain_order=True).to_list():
        g = table.filter(pl.col("group") == group)
        row = {"group": group, "people": int(g["n_people"][0]), "comparisons": int(g["n_comparisons"][0])}
        few = row["people"] < MIN_PEOPLE  # a bootstrap over fewer people is no interval
        for r in g.iter_rows(named=True):
            share = r["statistic"].startswith(("share", "coverage"))
            lo, hi = (math.nan, math.nan) if few else (r["lo"], r["hi"])
            row[r["statistic"]] = fmt(r["value"], lo, hi, share) + (f" (n<{MIN_PEOPLE} people)" if few else "")
        rows.append(row)
    return pl.DataFrame(rows)
