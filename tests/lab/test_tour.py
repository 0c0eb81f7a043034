"""The Tour's simulated steps: sentences fed numbers (every branch, including "no clear difference" when intervals
overlap), the recovery numbers computed by hand, and the sentences on a real evaluation follow its table."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from analysis.lab import evaluation, simulate
from analysis.lab import tour as lab_tour
from analysis.lab.evaluation import RESULT_SCHEMA


def _table(rows: dict[tuple[str, str], tuple[float, float | None, float | None]]) -> pl.DataFrame:
    """An evaluate()-shaped table from {(strategy, metric): (mean, low, high)}."""
    out = [
        {"strategy": s, "metric": m, "label": m, "mean": v[0], "low": v[1], "high": v[2], "n_seeds": 5,
         "n_prompts": 1000, "k": 4, "threshold": 0.5}
        for (s, m), v in rows.items()
    ]  # fmt: skip
    return pl.DataFrame(out, schema=RESULT_SCHEMA)


def test_homogeneity_sentence_branches():
    apart = _table(
        {("iid", "vendi"): (2.0, 1.9, 2.1), ("multi", "vendi"): (2.5, 2.4, 2.6), ("nc", "vendi"): (3.5, 3.4, 3.6)}
    )
    text = lab_tour.homogeneity_sentence(apart, 4)
    assert "i.i.d. temperature sampling 2.00 (95% CI 1.90–2.10)" in text and "NC sampling 3.50" in text
    assert "Independently drawn sets are the more homogeneous: NC sets hold 1.50 more distinct candidates" in text
    overlap = _table({("iid", "vendi"): (3.0, 2.8, 3.2), ("nc", "vendi"): (3.1, 2.9, 3.3)})
    assert "No clear difference between i.i.d. and NC sets" in lab_tour.homogeneity_sentence(overlap, 4)
    reversed_ = _table({("iid", "vendi"): (3.5, 3.4, 3.6), ("nc", "vendi"): (2.0, 1.9, 2.1)})
    assert "i.i.d. sets are the more varied" in lab_tour.homogeneity_sentence(reversed_, 4)
    assert lab_tour.homogeneity_sentence(_table({("iid", "vendi"): (2.0, 1.9, 2.1)}), 4) is None


def _coverage(iid_t, nc_t, iid_s, nc_s) -> pl.DataFrame:
    return _table({("iid", "coverage_traditional"): iid_t, ("nc", "coverage_traditional"): nc_t,
                   ("iid", "coverage_survival"): iid_s, ("nc", "coverage_survival"): nc_s})  # fmt: skip


def test_coverage_sentence_branches_and_the_papers_numbers_only_at_k4():
    table = _coverage((0.15, 0.14, 0.16), (0.60, 0.58, 0.62), (0.30, 0.28, 0.32), (0.31, 0.29, 0.33))
    text = lab_tour.coverage_sentence(table, 4)
    assert "NC sets reach the traditional pole 4.0× as often (NC 60% (95% CI 58%–62%), i.i.d. 15%" in text
    assert "no clear difference on the survival pole (NC 31% (95% CI 29%–33%), i.i.d. 30% (95% CI 28%–32%); the intervals overlap)" in text  # fmt: skip
    assert "The paper reports coverage@4 of about 60% and 53% for NC sampling" in text
    assert "paper" not in lab_tour.coverage_sentence(table, 6)
    never = _coverage((0.0, 0.0, 0.0), (0.2, 0.18, 0.22), (0.5, 0.45, 0.55), (0.2, 0.18, 0.22))
    text = lab_tour.coverage_sentence(never, 4)
    assert "reach the traditional pole where i.i.d. sets never do" in text
    assert "i.i.d. sets reach the survival pole more often than NC sets" in text
    assert lab_tour.coverage_sentence(_table({("iid", "coverage_traditional"): (0.1, 0.1, 0.1)}), 4) is None


def test_sentences_on_a_real_evaluation_quote_its_numbers():
    params = lab_tour.sampling_params(1.0)
    table = pl.concat([evaluation.evaluate(s, 200, 4, [0, 1, 2], params) for s in lab_tour.SAMPLING_STRATEGIES])
    cov = {(r["strategy"], r["metric"]): r for r in table.iter_rows(named=True)}
    text = lab_tour.coverage_sentence(table, 4)
    for strategy in ("iid", "nc"):
        r = cov[(strategy, "coverage_traditional")]
        assert f"{r['mean']:.0%} (95% CI {r['low']:.0%}–{r['high']:.0%})" in text
    vendi = cov[("nc", "vendi")]
    assert f"NC sampling {vendi['mean']:.2f} (95% CI {vendi['low']:.2f}–{vendi['high']:.2f})" in (
        lab_tour.homogeneity_sentence(table, 4)
    )


def _runs(errors: dict[str, list[float]], other_group_error: float = 5.0) -> pl.DataFrame:
    """run_once-shaped rows: per strategy and seed, the conditional model's error for India and Brazil (both the
    given value) and for France (a large value that must not enter the mean), and a pooled row per group."""
    rows = []
    for strategy, per_seed in errors.items():
        for seed, err in enumerate(per_seed):
            for group, e in (("India", err), ("Brazil", err), ("France", other_group_error)):
                for model, rec in (("conditional", (0.0, 0.0)), ("pooled", (0.4, 0.45))):
                    rows.append({"strategy": strategy, "seed": seed, "per_annotator": 10, "comparisons": 10_000,
                                 "model": model, "group": group, "accuracy": 0.5, "log_lik": -1.0, "ideal_error": e,
                                 "kendall_tau": 0.5, "rec_x": rec[0], "rec_y": rec[1]})  # fmt: skip
    return pl.DataFrame(rows, schema=simulate.RESULT_SCHEMA)


def _t(values: list[float]) -> tuple[float, float, float]:
    v = np.asarray(values)
    h = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return v.mean(), v.mean() - h, v.mean() + h


def test_recovery_numbers_by_hand_and_the_paired_difference():
    iid, nc = [0.30, 0.20, 0.25, 0.35, 0.40], [0.10, 0.05, 0.08, 0.12, 0.15]
    r = lab_tour.recovery_numbers(_runs({"iid": iid, "nc": nc}))
    assert r.groups == ("Brazil", "India") and r.seeds == 5 and r.comparisons == 10_000
    for strategy, values in (("iid", iid), ("nc", nc)):
        mean, lo, hi = _t(values)
        assert r.error[strategy].mean == pytest.approx(mean)  # France's 5.0 is not in it
        assert r.error[strategy].lo == pytest.approx(max(lo, 0.0)) and r.error[strategy].hi == pytest.approx(hi)
    mean, lo, hi = _t([a - b for a, b in zip(iid, nc)])
    assert (r.difference.mean, r.difference.lo, r.difference.hi) == pytest.approx((mean, lo, hi))
    # The pooled optimum (0.4, 0.45) is nearest France (0.45, 0.55) among the illustrative countries.
    nearest = {
        name: np.hypot(0.4 - x, 0.45 - y)
        for name, (x, y) in {g.name: (g.x, g.y) for g in lab_tour.default_population().groups}.items()
    }
    assert r.pooled_nearest["nc"][0] == min(nearest, key=nearest.get)
    text = lab_tour.recovery_sentence(r)
    assert f"{np.mean(iid) / np.mean(nc):.1f}× more closely" in text
    assert f"i.i.d. minus NC, paired by seed: {mean:+.2f} (95% CI {lo:+.2f} to {hi:+.2f})" in text


def test_recovery_sentence_no_clear_difference_and_reverse():
    same = lab_tour.recovery_numbers(_runs({"iid": [0.2, 0.1, 0.3], "nc": [0.1, 0.3, 0.2]}))
    assert same.difference.lo < 0 < same.difference.hi
    assert "No clear difference between the two with these settings" in lab_tour.recovery_sentence(same)
    worse = lab_tour.recovery_numbers(_runs({"iid": [0.1, 0.12, 0.11], "nc": [0.3, 0.33, 0.31]}))
    assert "i.i.d. candidates do better" in lab_tour.recovery_sentence(worse)
    only = lab_tour.recovery_numbers(_runs({"nc": [0.1, 0.2]}))
    assert lab_tour.recovery_sentence(only) is None


def test_recovery_on_the_simulator_is_small_and_fast_and_names_the_target_groups():
    config = lab_tour.recovery_config(5)
    assert config.n_annotators == lab_tour.RECOVERY_ANNOTATORS and config.models == ("pooled", "conditional")
    df = pl.concat([simulate.run_once(config, s, seed, [5]) for s in ("iid", "nc") for seed in (0, 1)])
    r = lab_tour.recovery_numbers(df)
    assert set(r.error) == {"iid", "nc"} and r.comparisons == 5 * lab_tour.RECOVERY_ANNOTATORS
    assert "Brazil and India" in lab_tour.recovery_sentence(r)


def _groups(rows: list[tuple[str, float, float, float]]) -> pl.DataFrame:
    """A prefs_report.group_table-shaped frame: (group, gap, gap_lo, gap_hi) with accuracies around it."""
    return pl.DataFrame(
        [{"group": g, "gap": gap, "gap_lo": lo, "gap_hi": hi, "accuracy": 0.3 + gap, "accuracy_lo": 0.25 + gap,
          "accuracy_hi": 0.35 + gap, "pooled_accuracy": 0.3, "pooled_accuracy_lo": 0.27, "pooled_accuracy_hi": 0.33}
         for g, gap, lo, hi in rows]
    ).sort("gap", descending=True)  # fmt: skip


def test_prefs_sentence_names_the_worst_served_group_only_when_its_gap_clears_zero():
    clear = lab_tour.prefs_sentence(_groups([("India", 0.15, 0.10, 0.20), ("France", 0.02, -0.01, 0.05)]), "country")
    assert "one pooled reward model serves India worst" in clear
    assert (
        "30.0% of the time (95% CI 27.0%–33.0%)" in clear and "a gap of +15.0 points (95% CI +10.0 to +20.0)" in clear
    )
    unclear = lab_tour.prefs_sentence(_groups([("India", 0.03, -0.01, 0.07), ("France", 0.01, -0.02, 0.04)]), "country")
    assert unclear.startswith("No group by country is clearly served worse")
    assert "India's +3.0 points (95% CI -1.0 to +7.0)" in unclear
    assert "No group by country has a model" in lab_tour.prefs_sentence(pl.DataFrame(), "country")
