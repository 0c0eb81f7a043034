"""Readings of a stored preference-model run (``analysis.lab.preferences``): per-group scores, the pooled model's gap,
the transfer matrix and the axis readings, each as a mean over the repeated splits with a 95% interval; the CLI's
text and JSON; the page's sentences, computed from the numbers beside them.

Intervals. The splits share most of their people, so the spread of a figure across splits understates its
uncertainty. Scores on held-out people (accuracy, AUC, log-loss, the gap) use the corrected resampled t interval of
Nadeau & Bengio (2003): ``mean +- t(R-1) * sqrt((1/R + n_test/n_train) * s^2)`` with s^2 the variance over the R splits
and n_train, n_test the people on each side. A model's parameters (the axis readings) are read from fits on a fraction
of the people; their interval is the delete-d jackknife's (Shao & Wu 1989) for random subsets, with the same form and
``n_train/n_test`` in place of ``n_test/n_train`` (the spread of estimates from subsets of n_train out of n people is
about n_test/n_train times the spread of the estimate from all n).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import polars as pl
import scipy.stats

from analysis import schema
from analysis.filters import Filters
from analysis.lab.preferences import POOLED
from analysis.lab.prefs_data import GROUPING_LABELS

METRICS: tuple[str, ...] = ("accuracy", "auc", "log_loss")
METRIC_LABELS = {"accuracy": "top-1 accuracy", "auc": "pairwise AUC", "log_loss": "log-loss"}
CHANCE = {"accuracy": 0.25, "auc": 0.5, "log_loss": math.log(4)}  # four candidates
AXES: tuple[str, str] = (schema.AXIS_X, schema.AXIS_Y)
# Published results on this data, for orientation beside the pooled model (different setups: see REFERENCE_NOTE).
REFERENCES: tuple[dict, ...] = (
    {"source": "WIMHF (arXiv 2510.26202)", "what": "frozen embeddings, small commercial embedding model",
     "metric": "auc", "value": 0.710},
    {"source": "WIMHF (arXiv 2510.26202)", "what": "frozen embeddings, 8B embedding model", "metric": "auc",
     "value": 0.736},
    {"source": "WIMHF (arXiv 2510.26202)", "what": "fine-tuned 3B reward model", "metric": "auc", "value": 0.769},
    {"source": "CuMA (arXiv 2601.04885)", "what": "demographic-routed mixture of adapters", "metric": "accuracy",
     "value": 0.572},
)  # fmt: skip
REFERENCE_NOTE = (
    "Published figures on the Community Alignment data, pooled over countries, for orientation only: their setups "
    "differ from this one (larger or fine-tuned models, full embeddings, their own splits by prompt or comparison "
    "rather than by person, pairwise AUC possibly over different pairs; CuMA's accuracy is not necessarily over four "
    "candidates). Here: a linear model on PCA-reduced frozen embeddings of the model named above, split by person."
)


def references_sentence() -> str:
    """The published figures in one line, from REFERENCES."""
    parts = [
        f"{r['source'].split(' ')[0]}: {METRIC_LABELS[r['metric']]} "
        + (f"{r['value']:.3f}" if r["metric"] == "auc" else f"{100 * r['value']:.1f}%")
        + f" ({r['what']})"
        for r in REFERENCES
    ]
    return "Published on this data: " + "; ".join(parts) + "."


ASSOCIATION_NOTE = (
    "These are associations in the data: which texts the people of a group tended to choose, as a linear model of "
    "the texts' embeddings sees them. They are not causes, and the groups differ in more than the grouping (on the "
    "release, country and language mostly coincide)."
)


# ------------------------------------------------------------------------------------------------ intervals
def corrected_interval(values: Sequence[float], ratio: float) -> tuple[float, float, float]:
    """(mean, low, high): ``mean +- t(R-1) * sqrt((1/R + ratio) * var)`` over R split values (ddof 1). ``ratio`` is
    n_test/n_train for held-out scores (Nadeau-Bengio), n_train/n_test for parameters (delete-d jackknife)."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(v.mean())
    if v.size < 2:
        return mean, float("nan"), float("nan")
    half = float(scipy.stats.t.ppf(0.975, v.size - 1) * math.sqrt((1.0 / v.size + ratio) * v.var(ddof=1)))
    return mean, mean - half, mean + half


def _ratio(n_train: float, n_test: float, parameters: bool = False) -> float:
    if n_train <= 0 or n_test <= 0:
        return float("nan")
    return n_train / n_test if parameters else n_test / n_train


def _with_interval(row: dict, name: str, values, ratio: float) -> None:
    row[name], row[f"{name}_lo"], row[f"{name}_hi"] = corrected_interval(values, ratio)


# ------------------------------------------------------------------------------------------------ tables
def own_scores(scores: pl.DataFrame) -> pl.DataFrame:
    """Rows of each group's model on its own test people, beside the pooled model's on the same people."""
    own = scores.filter(~pl.col("is_pooled") & (pl.col("model") == pl.col("test_group")))
    pooled = scores.filter(pl.col("is_pooled")).select(
        "split", pl.col("test_group"), *[pl.col(m).alias(f"pooled_{m}") for m in METRICS]
    )
    return own.join(pooled, on=["split", "test_group"], how="left")


def group_table(scores: pl.DataFrame) -> pl.DataFrame:
    """Per group with its own model: sizes, its model's scores, the pooled model's, and the gap (own - pooled
    accuracy), each mean over splits with a 95% interval."""
    rows = []
    paired = own_scores(scores)
    for (group,), g in paired.group_by(["model"], maintain_order=True):
        n_tr, n_te = float(g["n_train_people"].mean()), float(g["n_test_people"].mean())
        ratio = _ratio(n_tr, n_te)
        row = {"group": group, "n_train": float(g["n_train"].mean()), "n_test": float(g["n_test"].mean()),
               "n_train_people": n_tr, "n_test_people": n_te, "splits": g.height}  # fmt: skip
        for m in METRICS:
            _with_interval(row, m, g[m].to_list(), ratio)
            _with_interval(row, f"pooled_{m}", g[f"pooled_{m}"].to_list(), ratio)
        _with_interval(row, "gap", (g["accuracy"] - g["pooled_accuracy"]).to_list(), ratio)
        _with_interval(row, "auc_gap", (g["auc"] - g["pooled_auc"]).to_list(), ratio)
        rows.append(row)
    return pl.DataFrame(rows).sort("gap", descending=True) if rows else pl.DataFrame()


def pooled_overall(scores: pl.DataFrame) -> dict:
    """The pooled model on all test people (comparison-weighted over groups), per metric with its interval."""
    pooled = scores.filter(pl.col("is_pooled"))
    if not pooled.height:
        return {}
    per_split = pooled.group_by("split").agg(
        *[((pl.col(m) * pl.col("n_test")).sum() / pl.col("n_test").sum()).alias(m) for m in METRICS],
        n_test=pl.col("n_test").sum(), n_test_people=pl.col("n_test_people").sum(),
        n_train=pl.col("n_train").first(), n_train_people=pl.col("n_train_people").first(),
    )  # fmt: skip
    out = {k: float(per_split[k].mean()) for k in ("n_train", "n_test", "n_train_people", "n_test_people")}
    ratio = _ratio(out["n_train_people"], out["n_test_people"])
    for m in METRICS:
        _with_interval(out, m, per_split[m].to_list(), ratio)
    return out


def transfer_table(scores: pl.DataFrame) -> pl.DataFrame:
    """(train group, test group): the accuracy of the train group's model on the test group's people, with interval."""
    rows = []
    models = scores.filter(~pl.col("is_pooled"))
    for (train, test), g in models.group_by(["model", "test_group"], maintain_order=True):
        row = {"train": train, "test": test, "n_test": float(g["n_test"].mean())}
        ratio = _ratio(float(g["n_train_people"].mean()), float(g["n_test_people"].mean()))
        for m in METRICS:
            _with_interval(row, m, g[m].to_list(), ratio)
        rows.append(row)
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def _people(scores: pl.DataFrame) -> dict[str, tuple[float, float]]:
    """model -> (its training people, the test people of its own group or, pooled, of all groups)."""
    out = {}
    own = own_scores(scores)
    for (m,), g in own.group_by(["model"]):
        out[m] = (float(g["n_train_people"].mean()), float(g["n_test_people"].mean()))
    pooled = scores.filter(pl.col("is_pooled"))
    if pooled.height:
        per = pooled.group_by("split").agg(tr=pl.col("n_train_people").first(), te=pl.col("n_test_people").sum())
        out[POOLED] = (float(per["tr"].mean()), float(per["te"].mean()))
    return out


def axis_table(readings: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """Per (model, texts read on): the slope of the model's text utility on each axis, with intervals; for a group,
    also the pooled model read on the same texts and the difference (what the pooled model misreads)."""
    if not readings.height:
        return pl.DataFrame()
    people = _people(scores)
    pooled_on = readings.filter(pl.col("is_pooled")).select(
        "split", "texts_of", *[pl.col(a).alias(f"pooled_{a}") for a in AXES]
    )
    joined = readings.join(pooled_on, on=["split", "texts_of"], how="left")
    rows = []
    for (model, texts_of), g in joined.group_by(["model", "texts_of"], maintain_order=True):
        tr, te = people.get(model, (float("nan"), float("nan")))
        ratio = _ratio(tr, te, parameters=True)
        row = {"model": model, "texts_of": texts_of, "is_pooled": bool(g["is_pooled"][0]),
               "n_texts": float(g["n_texts"].mean())}  # fmt: skip
        for a in AXES:
            _with_interval(row, a, g[a].to_list(), ratio)
            if not row["is_pooled"]:
                _with_interval(row, f"pooled_{a}", g[f"pooled_{a}"].to_list(), ratio)
                _with_interval(row, f"misread_{a}", (g[f"pooled_{a}"] - g[a]).to_list(), ratio)
        rows.append(row)
    return pl.DataFrame(rows)


# ------------------------------------------------------------------------------------------------ the report
def _r(x: float, nd: int = 4) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def _ci(row: dict, name: str) -> list[float | None]:
    return [_r(row[f"{name}_lo"]), _r(row[f"{name}_hi"])]


def report_json(run: dict, scores: pl.DataFrame, readings: pl.DataFrame) -> dict:
    """The CLI's --json object: {"groups": {name: {n_train, n_test, accuracy, auc, log_loss, pooled_accuracy, ...}},
    "transfer": {train: {test: accuracy}}, "axis_weights": {name: {self_expression, secular}}, plus the pooled
    model's scores, intervals (``*_ci``: [low, high]) and the run's parameters."""
    groups = {}
    for row in group_table(scores).iter_rows(named=True):
        entry = {"n_train": round(row["n_train"]), "n_test": round(row["n_test"]),
                 "n_train_people": round(row["n_train_people"]), "n_test_people": round(row["n_test_people"])}  # fmt: skip
        for m in (*METRICS, "pooled_accuracy", "pooled_auc", "pooled_log_loss", "gap"):
            entry[m], entry[f"{m}_ci"] = _r(row[m]), _ci(row, m)
        groups[row["group"]] = entry
    transfer: dict[str, dict[str, float | None]] = {}
    for row in transfer_table(scores).iter_rows(named=True):
        transfer.setdefault(row["train"], {})[row["test"]] = _r(row["accuracy"])
    axis_weights = {}
    for row in axis_table(readings, scores).iter_rows(named=True):
        if row["is_pooled"] and row["texts_of"] != POOLED:
            continue
        entry = {a: _r(row[a]) for a in AXES} | {f"{a}_ci": _ci(row, a) for a in AXES}
        if not row["is_pooled"]:
            entry |= {f"pooled_{a}": _r(row[f"pooled_{a}"]) for a in AXES}
        axis_weights[row["model"]] = entry
    pooled = pooled_overall(scores)
    pooled_out = {m: _r(pooled.get(m, float("nan"))) for m in METRICS} | {
        f"{m}_ci": _ci(pooled, m) for m in METRICS if m in pooled
    }
    return {"groups": groups, "transfer": transfer, "axis_weights": axis_weights, "pooled": pooled_out,
            "references": list(REFERENCES), "run": run}  # fmt: skip


def _pct(x: float) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def _pts(x: float) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:+.1f}"


def worst_served(groups: pl.DataFrame) -> dict | None:
    """The group whose own model beats the pooled one by the most, when that gap's interval lies above zero."""
    if not groups.height:
        return None
    top = groups.sort("gap", descending=True).row(0, named=True)
    return top if np.isfinite(top["gap_lo"]) and top["gap_lo"] > 0 else None


def headline(groups: pl.DataFrame) -> str:
    """One sentence on which group the pooled model serves worst, from the numbers of ``group_table``."""
    top = worst_served(groups)
    if top is None:
        return (
            "No group's own model beats the pooled model by a margin its 95% interval separates from zero: on these "
            "choices one reward model serves every group about as well as their own would."
        )
    return (
        f"The pooled model serves **{top['group']}** worst: on held-out {top['group']} people it picks the chosen "
        f"response {_pct(top['pooled_accuracy'])} of the time (95% CI {_pct(top['pooled_accuracy_lo'])}–"
        f"{_pct(top['pooled_accuracy_hi'])}), against {_pct(top['accuracy'])} for {top['group']}'s own model: "
        f"a gap of {_pts(top['gap'])} points (95% CI {_pts(top['gap_lo'])} to {_pts(top['gap_hi'])})."
    )


POLE_WORDS = {schema.AXIS_X: ("survival", "self-expression"), schema.AXIS_Y: ("traditional", "secular-rational")}


def _pole(axis: str, value: float) -> str:
    return POLE_WORDS[axis][1] if value > 0 else POLE_WORDS[axis][0]


def misread_sentences(axes_table: pl.DataFrame) -> list[str]:
    """Per group: the axes on which the pooled model's reading differs from the group's own (intervals of the
    difference excluding zero), and which way each points."""
    out = []
    if not axes_table.height:
        return out
    for row in axes_table.filter(~pl.col("is_pooled")).iter_rows(named=True):
        parts = []
        for a in AXES:
            lo, hi = row[f"misread_{a}_lo"], row[f"misread_{a}_hi"]
            if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 <= hi:
                continue
            own, pooled = row[a], row[f"pooled_{a}"]
            parts.append(
                f"on {POLE_WORDS[a][0]} / {POLE_WORDS[a][1]} its choices reward {_pole(a, own)} ({own:+.2f}), the "
                f"pooled model {_pole(a, pooled)} ({pooled:+.2f})"
                if np.sign(own) != np.sign(pooled)
                else f"on {POLE_WORDS[a][0]} / {POLE_WORDS[a][1]} both reward {_pole(a, own)}, the pooled model "
                f"{'less' if abs(pooled) < abs(own) else 'more'} strongly ({pooled:+.2f} against {own:+.2f})"
            )
        if parts:
            out.append(f"**{row['model']}**: " + "; ".join(parts) + ".")
    return out


# ------------------------------------------------------------------------------------------------ as text
def _ci_text(value, ci, fmt) -> str:
    lo, hi = ci
    if value is None:
        return "–"
    return fmt(value) + ("" if lo is None else f" [{fmt(lo)}, {fmt(hi)}]")


def report_text(report: dict) -> list[str]:
    """The CLI's plain report: the same numbers as ``report_json``, laid out in tables."""
    run, pooled = report["run"], report["pooled"]
    s = run.get("summary", {})
    pct = lambda x: f"{100 * x:.1f}"  # noqa: E731
    out = [
        f"Preference models by {run.get('grouping')} on {s.get('n_comparisons', 0):,} choices of "
        f"{s.get('n_people', 0):,} people ({run.get('model')} embeddings, {run['params'].get('splits')} splits "
        f"by person, seed {run['params'].get('seed')}; filters: {run.get('filters') or 'none'}). 95% intervals.",
        ASSOCIATION_NOTE,
        "",
        f"pooled model, all held-out people: accuracy {_ci_text(pooled.get('accuracy'), pooled.get('accuracy_ci', [None, None]), pct)}%"
        f"  AUC {_ci_text(pooled.get('auc'), pooled.get('auc_ci', [None, None]), lambda x: f'{x:.3f}')}"
        f"  log-loss {_ci_text(pooled.get('log_loss'), pooled.get('log_loss_ci', [None, None]), lambda x: f'{x:.3f}')}"
        "  (chance: 25%, 0.500, 1.386)",
        "",
        f"{'group':<24}{'n_train':>9}{'n_test':>8}  {'own accuracy %':<22}{'pooled accuracy %':<22}{'gap (points)':<22}{'AUC':>7}",
    ]  # fmt: skip
    for name, g in report["groups"].items():
        out.append(
            f"{name[:23]:<24}{g['n_train']:>9,}{g['n_test']:>8,}  {_ci_text(g['accuracy'], g['accuracy_ci'], pct):<22}"
            f"{_ci_text(g['pooled_accuracy'], g['pooled_accuracy_ci'], pct):<22}"
            f"{_ci_text(g['gap'], g['gap_ci'], pct):<22}{g['auc']:>7.3f}"
        )
    out += ["", "transfer: accuracy % of the model fitted on the row's people, on the column's held-out people"]
    names = list(report["transfer"])
    out.append(f"{'':<24}" + "".join(f"{n[:11]:>12}" for n in names))
    for train in names:
        row = report["transfer"][train]
        out.append(
            f"{train[:23]:<24}" + "".join(f"{pct(row[t]) if row.get(t) is not None else '–':>12}" for t in names)
        )
    out += ["", "axis reading: change in log-odds of being chosen per unit toward self-expression / secular-rational"]
    for name, a in report["axis_weights"].items():
        f3 = lambda x: f"{x:+.2f}"  # noqa: E731
        line = (
            f"{name[:23]:<24}x {_ci_text(a[schema.AXIS_X], a[f'{schema.AXIS_X}_ci'], f3):<24}"
            f"y {_ci_text(a[schema.AXIS_Y], a[f'{schema.AXIS_Y}_ci'], f3):<24}"
        )
        if f"pooled_{schema.AXIS_X}" in a:
            line += (
                f"pooled on the same texts: x {f3(a[f'pooled_{schema.AXIS_X}'])}, y {f3(a[f'pooled_{schema.AXIS_Y}'])}"
            )
        out.append(line)
    out += ["", "published references for a pooled model (different setups):"]
    out += [f"  {r['source']}: {r['what']}: {r['metric']} {r['value']:.3f}" for r in REFERENCES]
    return out


# ------------------------------------------------------------------------------------------------ the page's scope
# grouping -> the Filters field that selects among its groups
_GROUP_FILTER = {"country": "countries", "language": "languages", "age": "ages", "political": "politicals",
                 "gender": "genders", "education": "educations"}  # fmt: skip


def scope(grouping: str, run_filters: Filters, current: Filters, groups: Sequence[str]) -> tuple[list[str], str]:
    """Which groups of a stored run to show under the sidebar's filters, and a plain sentence saying how the filters
    were applied: a run fitted under exactly these filters shows every group; otherwise the run (fitted on all the
    data) shows the groups the grouping's own filter selects, and the other filters are named as not applied."""
    if run_filters == current:
        note = "" if current.is_empty() else "These models were fitted on the comparisons the sidebar's filters select."
        return list(groups), note
    field = _GROUP_FILTER.get(grouping)
    chosen = set(getattr(current, field)) if field else set()
    shown = [g for g in groups if not chosen or g in chosen]
    others = replace(current, **{field: ()}) if field else current
    parts = []
    if chosen:
        parts.append(f"The sidebar's {GROUPING_LABELS[grouping].lower()} filter picks which groups are shown.")
    if not others.is_empty():
        parts.append(
            "The other filters are not applied to these numbers: the stored models were fitted on "
            + ("all the data" if run_filters.is_empty() else "other filters")
            + ". Fitting under these filters is one command (below)."
        )
    return shown, " ".join(parts)
