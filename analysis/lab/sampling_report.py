"""The Sampling lab's tables and sentence: the metrics beside what the research reports, and a headline computed
from the numbers (never a fixed claim).
"""

from __future__ import annotations

import polars as pl

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

    def reported(strategy: str, metric: str):
        pole = metric.removeprefix("coverage_")
        return REPORTED_COVERAGE_AT_4.get(strategy, {}).get(pole) if metric.startswith("coverage_") else None

    return df.with_columns(
        pl.struct("strategy", "metric")
        .map_elements(lambda r: reported(r["strategy"], r["metric"]), return_dtype=pl.Float64)
        .alias("reported_in_paper_at_k4"),
        pl.lit(True).alias("illustrative"),
    )
