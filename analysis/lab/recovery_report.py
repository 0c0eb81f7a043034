"""Readings of a reward-recovery experiment (``analysis.lab.simulate``): summaries per group and model, learning
curves, and the page's headline sentence, computed from the numbers of the results table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from analysis.lab.population import Population
from analysis.lab.simulate import MODEL_LABELS, SimConfig


def summarise(df: pl.DataFrame) -> pl.DataFrame:
    """Per (strategy, seed, comparisons, model): mean and worst-group accuracy, mean log-lik, mean ideal error, tau."""
    return df.group_by(["strategy", "seed", "per_annotator", "comparisons", "model"], maintain_order=True).agg(
        accuracy=pl.col("accuracy").mean(),
        worst_accuracy=pl.col("accuracy").min(),
        log_lik=pl.col("log_lik").mean(),
        ideal_error=pl.col("ideal_error").mean(),
        kendall_tau=pl.col("kendall_tau").mean(),
    )


def curves(df: pl.DataFrame, metric: str) -> pl.DataFrame:
    """A learning curve: per (strategy, model, comparisons) the mean of ``metric`` over seeds, with min/max band."""
    s = summarise(df)
    return (
        s.group_by(["strategy", "model", "comparisons"], maintain_order=True)
        .agg(mean=pl.col(metric).mean(), lo=pl.col(metric).min(), hi=pl.col(metric).max(), seeds=pl.len())
        .sort(["strategy", "model", "comparisons"])
    )


def group_table(df: pl.DataFrame) -> pl.DataFrame:
    """Per (strategy, model, group) at the largest size: metrics averaged over seeds."""
    top = df.filter(pl.col("per_annotator") == pl.col("per_annotator").max())
    return top.group_by(["strategy", "model", "group"], maintain_order=True).agg(
        accuracy=pl.col("accuracy").mean(),
        log_lik=pl.col("log_lik").mean(),
        ideal_error=pl.col("ideal_error").mean(),
        kendall_tau=pl.col("kendall_tau").mean(),
        rec_x=pl.col("rec_x").mean(),
        rec_y=pl.col("rec_y").mean(),
    )


def nearest_group(population: Population, point: Sequence[float]) -> tuple[str, float]:
    d = np.linalg.norm(population.ideals - np.asarray(point, dtype=float), axis=1)
    i = int(np.argmin(d))
    return population.groups[i].name, float(d[i])


def traditional_survival_groups(population: Population) -> tuple[str, ...]:
    """Groups on the traditional-survival side (x < 0 and y < 0); if none, the one with the lowest x + y."""
    names = tuple(g.name for g in population.groups if g.x < 0 and g.y < 0)
    if names:
        return names
    return (min(population.groups, key=lambda g: g.x + g.y).name,)


def headline(df: pl.DataFrame, population: Population) -> str | None:
    """One sentence, from the numbers, on how far each strategy's models place the traditional/survival groups."""
    if df["ideal_error"].is_null().all():
        return None
    tab = group_table(df).filter(pl.col("model") != "oracle")
    target = traditional_survival_groups(population)
    errs: dict[str, dict[str, float]] = {}
    for strategy in tab["strategy"].unique(maintain_order=True):
        t = tab.filter((pl.col("strategy") == strategy) & pl.col("group").is_in(target))
        errs[strategy] = {
            m: float(t.filter(pl.col("model") == m)["ideal_error"].mean())
            for m in t["model"].unique(maintain_order=True)
        }
    parts = []
    for strategy, e in errs.items():
        bits = ", ".join(f"{MODEL_LABELS[m].split(' (')[0]} {v:.2f}" for m, v in e.items())
        parts.append(f"with {strategy} candidates {bits}")
    text = (
        f"Distance from the true ideal points of {' and '.join(target)} (mean, plane units; the poles sit near "
        "±1): " + "; ".join(parts) + "."
    )
    strategies = list(errs)
    if len(strategies) == 2:
        a, b = strategies
        for m in ("conditional", "mixture", "per_annotator"):
            if m in errs[a] and m in errs[b] and min(errs[a][m], errs[b][m]) > 0:
                ratio = errs[a][m] / errs[b][m]
                better, worse, r = (b, a, ratio) if ratio >= 1 else (a, b, 1 / ratio)
                name = MODEL_LABELS[m].split(" (")[0]
                text += (
                    f" At the same number of comparisons the {name} model places them {r:.1f}× closer with "
                    f"{better} candidates than with {worse} candidates"
                )
                text += _catch_up(df, target, m, better, worse) + "."
                break
    return text


def _catch_up(df: pl.DataFrame, target: Sequence[str], model: str, better: str, worse: str) -> str:
    """Where the better strategy's learning curve first reaches the worse one's final error (a clause, or '')."""
    c = (
        df.filter((pl.col("model") == model) & pl.col("group").is_in(list(target)))
        .group_by(["strategy", "comparisons"])
        .agg(pl.col("ideal_error").mean())
        .sort("comparisons")
    )
    worse_final = c.filter(pl.col("strategy") == worse)["ideal_error"].to_list()[-1]
    b = c.filter(pl.col("strategy") == better)
    reached = b.filter(pl.col("ideal_error") <= worse_final)["comparisons"].to_list()
    total = int(b["comparisons"].max())
    if reached and reached[0] < total:
        return (
            f"; {better} candidates reach the error {worse} candidates end with ({worse_final:.2f}) after "
            f"{reached[0]:,} of the {total:,} comparisons"
        )
    return ""


def pooled_represents(df: pl.DataFrame, population: Population) -> dict[str, tuple[str, float, tuple[float, float]]]:
    """Per strategy: the group whose true ideal point lies nearest the pooled reward's optimum, its distance, the optimum."""
    tab = group_table(df).filter(pl.col("model") == "pooled")
    out = {}
    for strategy in tab["strategy"].unique(maintain_order=True):
        r = tab.filter(pl.col("strategy") == strategy).row(0, named=True)
        name, dist = nearest_group(population, (r["rec_x"], r["rec_y"]))
        out[strategy] = (name, dist, (r["rec_x"], r["rec_y"]))
    return out


def cli_summary(df: pl.DataFrame, config: SimConfig, strategy: str, requested: int) -> dict:
    """The JSON object of the CLI for one strategy (averaged over the seeds in ``df``)."""
    tab = group_table(df)
    out = {
        "strategy": strategy,
        "comparisons": int(df["comparisons"].max()),
        "comparisons_requested": int(requested),
        "annotators": config.n_annotators,
        "per_annotator": config.comparisons_per_annotator,
        "k": config.k,
        "beta": config.choice.beta,
        "utility": config.choice.utility,
        "population_mode": config.population.mode,
        "seeds": sorted(int(s) for s in df["seed"].unique()),
        "models": {},
        "illustrative": True,
    }
    for model in [*config.active_models, "oracle"]:
        t = tab.filter(pl.col("model") == model)
        acc = {r["group"]: round(r["accuracy"], 4) for r in t.iter_rows(named=True)}
        err = t["ideal_error"].mean()
        m = {
            "accuracy_by_country": acc,
            "worst_country_accuracy": round(min(acc.values()), 4),
            "mean_accuracy": round(float(np.mean(list(acc.values()))), 4),
            "log_lik": round(float(t["log_lik"].mean()), 4),
            "ideal_point_error": None if err is None else round(float(err), 4),
            "kendall_tau": round(float(t["kendall_tau"].mean()), 4),
        }
        if model == "pooled":
            row = t.row(0, named=True)
            name, dist = nearest_group(config.population, (row["rec_x"], row["rec_y"]))
            m["optimum"] = [round(row["rec_x"], 4), round(row["rec_y"], 4)]
            m["represents"] = name
            m["represents_distance"] = round(dist, 4)
        out["models"][model] = m
    return out
