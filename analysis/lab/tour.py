"""The Tour's simulated findings, with small, fast settings: the numbers and the sentences computed from them.

- Step 2, *independent sampling yields homogeneous candidates*: the Sampling lab's evaluation (``evaluation.evaluate``,
  its default 1,000 prompts and 5 seeds) of i.i.d. temperature sampling, one draw from each of several models, and NC
  sampling; the sentence compares the sets' Vendi scores (effective number of distinct candidates, 1..k).
- Step 3, *NC sampling covers the minority poles*: the same table's coverage@k of the traditional and survival poles.
- Step 4, *what reward models then learn* (the simulator's half): the reward-recovery simulator (``simulate.run_once``)
  with 1,000 annotators, pooled and group-conditioned reward models, i.i.d. against NC candidates, 5 seeds; the sentence
  compares how far the group-conditioned model places the traditional and survival groups from their true ideal points,
  and names the group the one pooled reward represents. The other half (the data's own choices) reads the stored
  preference runs: ``prefs_sentence`` over ``analysis.lab.prefs_report.group_table``.

Every number is simulated from ILLUSTRATIVE positions (``analysis.lab.strategies``, ``analysis.lab.population``);
the page says so. Intervals are 95% t-intervals over seeds (``diversity.mean_interval``). For the sampling steps a sentence says one
strategy does better only when the two intervals do not overlap; for the reward step, only when the interval of the
difference paired by seed excludes zero; "no clear difference" otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from analysis.lab import prefs_report, recovery_report, sampling_report
from analysis.lab.diversity import mean_interval
from analysis.lab.population import Population, default_population
from analysis.lab.simulate import SimConfig
from analysis.lab.strategies import StrategyParams

SAMPLING_STRATEGIES: tuple[str, ...] = ("iid", "multi", "nc")
SAMPLING_PROMPTS = 1_000  # the Sampling lab's defaults, so its cache and its page agree with the Tour
SAMPLING_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)
RECOVERY_STRATEGIES: tuple[str, ...] = ("iid", "nc")
RECOVERY_MODELS: tuple[str, ...] = ("pooled", "conditional")
RECOVERY_ANNOTATORS = 1_000
RECOVERY_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)
STRATEGY_WORDS = {
    "iid": "i.i.d. temperature sampling",
    "multi": "one draw from each of several models",
    "nc": "NC sampling",
}


@dataclass(frozen=True)
class Estimate:
    mean: float
    lo: float
    hi: float

    def apart_above(self, other: Estimate) -> bool:
        """This estimate's interval lies wholly above the other's."""
        return self.lo > other.hi

    def text(self, fmt: str, sep: str = "–") -> str:
        if np.isnan(self.lo):
            return f"{self.mean:{fmt}}"
        return f"{self.mean:{fmt}} (95% CI {self.lo:{fmt}}{sep}{self.hi:{fmt}})"


def sampling_params(temperature: float = 1.0, nc_strength: float | None = None) -> StrategyParams:
    """The strategies' illustrative parameters with the Tour's two knobs (the rest at the Sampling lab's defaults)."""
    default = StrategyParams()
    return StrategyParams(
        temperature=float(temperature),
        nc_strength=default.nc_strength if nc_strength is None else float(nc_strength),
    )


def estimates(table: pl.DataFrame, metric: str) -> dict[str, Estimate]:
    """Per strategy, one metric of an ``evaluation.evaluate`` table as an Estimate (NaN bounds with one seed)."""
    rows = table.filter(pl.col("metric") == metric)
    nan = float("nan")
    return {
        r["strategy"]: Estimate(
            r["mean"], nan if r["low"] is None else r["low"], nan if r["high"] is None else r["high"]
        )
        for r in rows.iter_rows(named=True)
    }


def _compare(a: Estimate, b: Estimate) -> int:
    """+1 when a's interval lies above b's, -1 when below, 0 when they overlap (or are missing)."""
    if a.apart_above(b):
        return 1
    if b.apart_above(a):
        return -1
    return 0


def homogeneity_sentence(table: pl.DataFrame, k: int) -> str | None:
    """Step 2's takeaway: the Vendi scores of i.i.d., multi-model and NC sets, and whether i.i.d. sets are clearly the
    most alike. None when i.i.d. or NC is missing from the table."""
    v = estimates(table, "vendi")
    if "iid" not in v or "nc" not in v:
        return None
    listed = "; ".join(f"{STRATEGY_WORDS[s]} {v[s].text('.2f')}" for s in SAMPLING_STRATEGIES if s in v)
    lead = f"Simulated, illustrative positions: a set of {k} candidates holds the equivalent of so many distinct ones "
    lead += f"(Vendi score, at most {k}): {listed}. "
    verdict = _compare(v["nc"], v["iid"])
    if verdict > 0:
        return lead + (
            f"Independently drawn sets are the more homogeneous: NC sets hold {v['nc'].mean - v['iid'].mean:.2f} more "
            "distinct candidates, and their intervals do not overlap."
        )
    if verdict < 0:
        return lead + "With these settings i.i.d. sets are the more varied: their interval lies above NC's."
    return lead + "No clear difference between i.i.d. and NC sets with these settings: the intervals overlap."


def _pole_clause(pole: str, cov: dict[str, Estimate]) -> str:
    nc, iid = cov["nc"], cov["iid"]
    verdict = _compare(nc, iid)
    numbers = f"NC {nc.text('.0%')}, i.i.d. {iid.text('.0%')}"
    if verdict > 0:
        times = "where i.i.d. sets never do" if iid.mean == 0 else f"{nc.mean / iid.mean:.1f}× as often"
        return f"NC sets reach the {pole} pole {times} ({numbers})"
    if verdict < 0:
        return f"i.i.d. sets reach the {pole} pole more often than NC sets ({numbers})"
    return f"no clear difference on the {pole} pole ({numbers}; the intervals overlap)"


def coverage_sentence(table: pl.DataFrame, k: int) -> str | None:
    """Step 3's takeaway: coverage@k of the traditional and survival poles, NC against i.i.d., with the paper's
    coverage@4 beside it when k is 4. None when i.i.d. or NC is missing."""
    poles = {p: estimates(table, f"coverage_{p}") for p in ("traditional", "survival")}
    if any("iid" not in c or "nc" not in c for c in poles.values()):
        return None
    clauses = [_pole_clause(p, c) for p, c in poles.items()]
    text = f"Simulated, illustrative positions, share of prompts whose {k} candidates reach a pole: " + "; ".join(
        clauses
    )
    reported = sampling_report.REPORTED_COVERAGE_AT_4
    if int(k) == 4:
        text += (
            f". The paper reports coverage@4 of about {reported['nc']['traditional']:.0%} and "
            f"{reported['nc']['survival']:.0%} for NC sampling against {reported['iid']['traditional']:.0%} and "
            f"{reported['iid']['survival']:.0%} for temperature sampling (the positions here were tuned toward it, so "
            "agreement is by construction)"
        )
    return text + "."


def recovery_config(per_annotator: int) -> SimConfig:
    """The simulator's small, fast setting for the Tour (illustrative population and sampling parameters)."""
    return SimConfig(
        n_annotators=RECOVERY_ANNOTATORS, comparisons_per_annotator=int(per_annotator), models=RECOVERY_MODELS
    )


@dataclass(frozen=True)
class Recovery:
    """Step 4's simulated numbers: per strategy, the group-conditioned model's distance from the traditional and
    survival groups' true ideal points (mean over those groups, interval over seeds); the i.i.d.-minus-NC difference,
    paired by seed (a seed draws the same annotators for both strategies, so only the candidates differ); and whom the
    pooled reward represents (the group nearest its optimum, with the distance)."""

    groups: tuple[str, ...]
    error: dict[str, Estimate]
    difference: Estimate | None  # error with i.i.d. minus error with NC candidates, per seed
    pooled_nearest: dict[str, tuple[str, float]]
    comparisons: int
    seeds: int


def _t_estimate(values: np.ndarray, lo_bound: float = -np.inf) -> Estimate:
    lo, hi = mean_interval(values, lo_bound=lo_bound)
    return Estimate(float(values.mean()), lo, hi)


def recovery_numbers(df: pl.DataFrame, population: Population | None = None) -> Recovery:
    """The numbers of ``simulate.run_once`` frames (several strategies and seeds, one size)."""
    population = population or default_population()
    target = recovery_report.traditional_survival_groups(population)
    cond = df.filter((pl.col("model") == "conditional") & pl.col("group").is_in(list(target)))
    per_seed = cond.group_by(["strategy", "seed"]).agg(pl.col("ideal_error").mean()).sort("seed")
    error = {}
    for strategy in df["strategy"].unique(maintain_order=True):
        values = per_seed.filter(pl.col("strategy") == strategy)["ideal_error"].to_numpy()
        error[strategy] = _t_estimate(values, lo_bound=0.0)
    difference = None
    wide = per_seed.pivot(on="strategy", index="seed", values="ideal_error").drop_nulls()
    if {"iid", "nc"} <= set(wide.columns) and wide.height:
        difference = _t_estimate((wide["iid"] - wide["nc"]).to_numpy())
    nearest = {s: (name, dist) for s, (name, dist, _) in recovery_report.pooled_represents(df, population).items()}
    return Recovery(target, error, difference, nearest, int(df["comparisons"].max()), df["seed"].n_unique())


def _names(groups: Sequence[str]) -> str:
    return groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " and " + groups[-1]


def recovery_sentence(r: Recovery) -> str | None:
    """Step 4's simulated takeaway. None when i.i.d. or NC is missing."""
    if "iid" not in r.error or "nc" not in r.error:
        return None
    nc, iid = r.error["nc"], r.error["iid"]
    who = _names(r.groups)
    text = (
        f"Simulated, illustrative population ({r.comparisons:,} choices, {r.seeds} seeds): a reward model per country "
        f"places {who} {nc.text('.2f')} from their true ideal points when trained on NC candidates, "
        f"{iid.text('.2f')} on i.i.d. candidates (plane units; the poles sit near ±1). "
    )
    d = r.difference
    paired = "" if d is None else f"i.i.d. minus NC, paired by seed: {d.text('+.2f', ' to ')}"
    if d is not None and d.lo > 0:
        text += (
            f"NC candidates let it learn their values {iid.mean / max(nc.mean, 1e-9):.1f}× more closely ({paired}). "
        )
    elif d is not None and d.hi < 0:
        text += f"With these settings i.i.d. candidates do better ({paired}). "
    else:
        text += "No clear difference between the two with these settings" + (
            f" ({paired}, which includes 0)" if d else ""
        )
        text += ". "
    pooled = [f"{name} ({dist:.2f} away) with {STRATEGY_WORDS[s]}" for s, (name, dist) in r.pooled_nearest.items()]
    if pooled:
        text += "One pooled reward's optimum lies nearest " + "; ".join(pooled) + "."
    return text.strip()


def prefs_sentence(groups: pl.DataFrame, grouping_label: str) -> str:
    """Step 4's takeaway from the data's own choices (``prefs_report.group_table``), plain text: the group one pooled
    model serves worst when its gap's interval lies above zero, otherwise that no group is clearly worse served."""
    if not groups.height:
        return f"No group by {grouping_label} has a model of its own in the stored run."
    top = prefs_report.worst_served(groups)
    if top is None:
        top = groups.sort("gap", descending=True).row(0, named=True)
        return (
            f"No group by {grouping_label} is clearly served worse by one pooled reward model: the largest gap, "
            f"{top['group']}'s {100 * top['gap']:+.1f} points (95% CI {100 * top['gap_lo']:+.1f} to "
            f"{100 * top['gap_hi']:+.1f}), is not separated from zero."
        )
    return (
        f"From the data's own choices: one pooled reward model serves {top['group']} worst. On held-out "
        f"{top['group']} people it picks the chosen response {top['pooled_accuracy']:.1%} of the time (95% CI "
        f"{top['pooled_accuracy_lo']:.1%}–{top['pooled_accuracy_hi']:.1%}), a model of their own "
        f"{top['accuracy']:.1%} ({top['accuracy_lo']:.1%}–{top['accuracy_hi']:.1%}): a gap of "
        f"{100 * top['gap']:+.1f} points (95% CI {100 * top['gap_lo']:+.1f} to {100 * top['gap_hi']:+.1f})."
    )
