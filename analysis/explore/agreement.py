"""Agreement: how much annotators (and countries) agree on which candidate TEXT is best, unit by unit.

A unit (``unit_id``) is what several annotators chose from: by default one candidate set of a prompt (the same texts
shown to each of them, in any order); or a prompt with all its candidate sets pooled. A comparison's choice is a
position a-d, but the texts behind the positions change from one comparison to the next, so agreement is measured
over the chosen text (``chosen_hash``), never over letters; two identical texts in a set are one text.

Everything here is a pure function over counts or Polars frames; the SQL that produces the counts is in
``analysis.explore.agreement_queries``. Logarithms are base 2: entropy in bits, Jensen-Shannon divergence in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

DEFAULT_THRESHOLD = 10  # units answered by at least this many distinct annotators
DEFAULT_MIN_PER_COUNTRY = 3  # a country enters the between-country divergence with at least this many choices

SORTS: dict[str, tuple[str, bool]] = {
    # URL value -> (column, descending)
    "contested": ("entropy_bits", True),
    "divided": ("jsd_mean", True),
    "agreed": ("top1_share", True),
    "answered": ("n_annotators", True),
}
SORT_LABELS: dict[str, str] = {
    "contested": "Most contested (highest entropy of chosen texts)",
    "divided": "Most divided between countries (mean pairwise JSD)",
    "agreed": "Most agreed (highest top-1 share)",
    "answered": "Most answered (annotators)",
}


# ---- metrics on one distribution --------------------------------------------------------------------------------
def _probabilities(counts: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(counts, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError("a distribution needs at least one count")
    if (arr < 0).any() or not np.isfinite(arr).all():
        raise ValueError("counts must be finite and non-negative")
    total = arr.sum()
    if total <= 0:
        raise ValueError("counts must not all be zero")
    return arr / total


def entropy_bits(counts: Sequence[float] | np.ndarray) -> float:
    """Shannon entropy (bits) of the distribution given by ``counts`` (zeros allowed)."""
    p = _probabilities(counts)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) + 0.0


def effective_choices(counts: Sequence[float] | np.ndarray) -> float:
    """2 ** entropy: the number of equally-chosen texts that would give the same entropy."""
    return float(2.0 ** entropy_bits(counts))


def top1_agreement(counts: Sequence[float] | np.ndarray) -> float:
    """Share of choices that went to the most-chosen text (1.0 = everyone chose the same text)."""
    return float(_probabilities(counts).max())


def js_divergence(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) between two count vectors over the same support."""
    pp, qq = _probabilities(p), _probabilities(q)
    if pp.shape != qq.shape:
        raise ValueError(f"distributions over different supports ({pp.size} vs {qq.size} entries)")
    m = (pp + qq) / 2.0

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float((a[nz] * np.log2(a[nz] / m[nz])).sum())

    return min(1.0, max(0.0, 0.5 * kl(pp) + 0.5 * kl(qq)))


def pairwise_jsd(groups: Mapping[str, Mapping[str, float]]) -> list[tuple[str, str, float]]:
    """JSD between every pair of groups, each given as {text: count}; the support is the union of texts."""
    support = sorted({k for counts in groups.values() for k in counts})
    names = sorted(groups)
    vectors = {g: [float(groups[g].get(k, 0.0)) for k in support] for g in names}
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            out.append((a, b, js_divergence(vectors[a], vectors[b])))
    return out


# ---- metrics over many units at once --------------------------------------------------------------------------
CHOICE_COLUMNS = ("unit_id", "country", "chosen_hash", "n")

METRIC_SCHEMA: dict[str, pl.DataType] = {
    "unit_id": pl.String,
    "n_choices": pl.Int64,
    "n_texts_chosen": pl.Int64,
    "top1_hash": pl.String,
    "top1_share": pl.Float64,
    "entropy_bits": pl.Float64,
    "effective_choices": pl.Float64,
    "n_countries": pl.Int64,
    "jsd_mean": pl.Float64,
    "jsd_max": pl.Float64,
    "most_divided_pair": pl.String,
}


def _check_choices(choices: pl.DataFrame) -> None:
    missing = [c for c in CHOICE_COLUMNS if c not in choices.columns]
    if missing:
        raise ValueError(f"choice counts need columns {CHOICE_COLUMNS}; missing {missing}")


def prompt_metrics(choices: pl.DataFrame, min_per_country: int = DEFAULT_MIN_PER_COUNTRY) -> pl.DataFrame:
    """Per-prompt agreement from counts of chosen texts.

    ``choices``: one row per (unit_id, country, chosen_hash) with ``n`` choices. Returns one row per prompt:
    n_choices, n_texts_chosen, top1_hash/top1_share, entropy_bits, effective_choices, and over the countries with at
    least ``min_per_country`` choices of that prompt: n_countries, jsd_mean and jsd_max (pairwise Jensen-Shannon
    divergence of their chosen-text distributions; null with fewer than two such countries) and most_divided_pair.
    """
    _check_choices(choices)
    if choices.is_empty():
        return pl.DataFrame(schema=METRIC_SCHEMA)
    c = _normalise(choices)

    # Overall distribution of chosen texts per prompt.
    overall = c.group_by("unit_id", "chosen_hash").agg(pl.col("n").sum())
    overall = overall.with_columns(p=pl.col("n") / pl.col("n").sum().over("unit_id"))
    per_prompt = (
        overall.sort(["unit_id", "n", "chosen_hash"], descending=[False, True, False])
        .group_by("unit_id", maintain_order=True)
        .agg(
            n_choices=pl.col("n").sum().round().cast(pl.Int64),
            n_texts_chosen=pl.len().cast(pl.Int64),
            top1_hash=pl.col("chosen_hash").first(),
            top1_share=pl.col("p").max(),
            entropy_bits=-(pl.col("p") * pl.col("p").log(2)).sum(),
        )
        .with_columns(
            entropy_bits=pl.col("entropy_bits").abs(),  # -0.0 -> 0.0
            effective_choices=pl.lit(2.0) ** pl.col("entropy_bits").abs(),
        )
    )

    # Between-country divergence, over countries with enough choices of the prompt.
    eligible = _eligible_countries(c, min_per_country)
    pair_jsd = pair_divergences(choices, min_per_country).sort(
        ["unit_id", "jsd", "c1", "c2"], descending=[False, True, False, False]
    )
    divergence = pair_jsd.group_by("unit_id", maintain_order=True).agg(
        jsd_mean=pl.col("jsd").mean(),
        jsd_max=pl.col("jsd").max(),
        most_divided_pair=(pl.col("c1") + pl.lit(" vs ") + pl.col("c2")).first(),
    )
    n_countries = eligible.group_by("unit_id").agg(n_countries=pl.len().cast(pl.Int64))

    out = (
        per_prompt.join(n_countries, on="unit_id", how="left")
        .join(divergence, on="unit_id", how="left")
        .with_columns(pl.col("n_countries").fill_null(0))
    )
    return out.select(list(METRIC_SCHEMA)).cast(METRIC_SCHEMA)  # type: ignore[arg-type]


def _normalise(choices: pl.DataFrame) -> pl.DataFrame:
    _check_choices(choices)
    return choices.select(
        pl.col("unit_id").cast(pl.String),
        pl.col("country").cast(pl.String).fill_null("(unknown)"),
        pl.col("chosen_hash").cast(pl.String),
        pl.col("n").cast(pl.Float64),
    ).filter(pl.col("n") > 0)


def _eligible_countries(c: pl.DataFrame, min_per_country: int) -> pl.DataFrame:
    return c.group_by("unit_id", "country").agg(tot=pl.col("n").sum()).filter(pl.col("tot") >= min_per_country)


def pair_divergences(choices: pl.DataFrame, min_per_country: int = DEFAULT_MIN_PER_COUNTRY) -> pl.DataFrame:
    """JSD between the chosen-text distributions of every pair of countries (c1 < c2) on each prompt.

    Only countries with at least ``min_per_country`` choices of a prompt take part. Columns: unit_id, c1, c2,
    n1, n2 (their numbers of choices) and jsd (base 2, in [0, 1]).
    """
    c = _normalise(choices)
    eligible = _eligible_countries(c, min_per_country)
    cc = (
        c.join(eligible, on=["unit_id", "country"], how="inner")
        .group_by("unit_id", "country", "chosen_hash")
        .agg(pl.col("n").sum(), pl.col("tot").first())
        .with_columns(p=pl.col("n") / pl.col("tot"))
        .select("unit_id", "country", "chosen_hash", "p")
    )
    pairs = (
        eligible.select("unit_id", c1="country", n1="tot")
        .join(eligible.select("unit_id", c2="country", n2="tot"), on="unit_id")
        .filter(pl.col("c1") < pl.col("c2"))
    )
    support = cc.select("unit_id", "chosen_hash").unique()
    dense = (
        pairs.join(support, on="unit_id")
        .join(cc.rename({"country": "c1", "p": "p1"}), on=["unit_id", "c1", "chosen_hash"], how="left")
        .join(cc.rename({"country": "c2", "p": "p2"}), on=["unit_id", "c2", "chosen_hash"], how="left")
        .with_columns(pl.col("p1").fill_null(0.0), pl.col("p2").fill_null(0.0))
        .with_columns(m=(pl.col("p1") + pl.col("p2")) / 2)
        .with_columns(
            term=0.5
            * (
                pl.when(pl.col("p1") > 0).then(pl.col("p1") * (pl.col("p1") / pl.col("m")).log(2)).otherwise(0.0)
                + pl.when(pl.col("p2") > 0).then(pl.col("p2") * (pl.col("p2") / pl.col("m")).log(2)).otherwise(0.0)
            )
        )
    )
    return (
        dense.group_by("unit_id", "c1", "c2")
        .agg(pl.col("n1").first().cast(pl.Int64), pl.col("n2").first().cast(pl.Int64), jsd=pl.col("term").sum())
        .with_columns(pl.col("jsd").clip(0.0, 1.0))
        .select("unit_id", "c1", "c2", "n1", "n2", "jsd")
    )


def country_pair_matrix(choices: pl.DataFrame, min_per_country: int = DEFAULT_MIN_PER_COUNTRY) -> pl.DataFrame:
    """Mean JSD for each pair of countries over the prompts both answered (both orders, for a heatmap)."""
    pairs = pair_divergences(choices, min_per_country)
    agg = pairs.group_by("c1", "c2").agg(mean_jsd=pl.col("jsd").mean(), prompts=pl.len().cast(pl.Int64))
    mirrored = agg.select(c1="c2", c2="c1", mean_jsd="mean_jsd", prompts="prompts")
    return pl.concat([agg, mirrored]).sort(["c1", "c2"])


def country_metrics(choices: pl.DataFrame, min_per_country: int = DEFAULT_MIN_PER_COUNTRY) -> pl.DataFrame:
    """Per (prompt, country) with at least ``min_per_country`` choices: n, top1_share and entropy_bits."""
    c = _normalise(choices)
    per = c.group_by("unit_id", "country", "chosen_hash").agg(pl.col("n").sum())
    per = per.with_columns(tot=pl.col("n").sum().over("unit_id", "country")).filter(pl.col("tot") >= min_per_country)
    per = per.with_columns(p=pl.col("n") / pl.col("tot"))
    return (
        per.group_by("unit_id", "country")
        .agg(
            n=pl.col("tot").first().round().cast(pl.Int64),
            top1_share=pl.col("p").max(),
            entropy_bits=(-(pl.col("p") * pl.col("p").log(2)).sum()).abs(),
        )
        .sort(["unit_id", "country"])
    )


def sort_prompts(metrics: pl.DataFrame, sort: str) -> pl.DataFrame:
    """Order prompts for a ranking; ``sort`` is a key of SORTS. Ties break on annotators, then the hash."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; choose one of {sorted(SORTS)}")
    column, descending = SORTS[sort]
    keys = [column] + [k for k in ("n_annotators", "n_choices") if k in metrics.columns and k != column]
    keys.append("unit_id")
    desc = [descending] + [True] * (len(keys) - 2) + [False]
    return metrics.sort(keys, descending=desc, nulls_last=True)


def country_shares(choices: pl.DataFrame) -> pl.DataFrame:
    """Share of each chosen text within each country (and 'All countries') for ONE prompt's choice counts.

    Returns columns country, chosen_hash, n, share; countries are listed with their totals in ``n_country``.
    """
    _check_choices(choices)
    c = choices.with_columns(pl.col("country").fill_null("(unknown)"), pl.col("n").cast(pl.Float64))
    all_rows = c.group_by("chosen_hash").agg(pl.col("n").sum()).with_columns(country=pl.lit("All countries"))
    per = c.group_by("country", "chosen_hash").agg(pl.col("n").sum())
    both = pl.concat([all_rows.select(per.columns), per])
    return (
        both.with_columns(
            n_country=pl.col("n").sum().over("country"),
        )
        .with_columns(share=pl.col("n") / pl.col("n_country"))
        .sort(["country", "share"], descending=[False, True])
    )


def describe_entropy(bits: float | None) -> str:
    """A short reading of an entropy value for the page."""
    if bits is None or (isinstance(bits, float) and math.isnan(bits)):
        return "no choices"
    eff = 2.0**bits
    return f"{bits:.2f} bits (as spread as {eff:.1f} equally-chosen texts)"
