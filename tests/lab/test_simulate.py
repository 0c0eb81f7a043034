"""The recovery experiment: who wins, NC against i.i.d., determinism, the CLI and the URL round trip."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from analysis.__main__ import main
from analysis.lab import recovery_report, simulate
from analysis.lab.population import ChoiceModel, Group, Population


def _distinct_population() -> Population:
    # four well-separated groups with little spread inside each
    return Population(
        (
            Group("North", 0.0, 0.9, 0.1, 1),
            Group("South", 0.0, -0.9, 0.1, 1),
            Group("East", 0.9, 0.0, 0.1, 1),
            Group("West", -0.9, 0.0, 0.1, 1),
        )
    )


def test_group_and_mixture_models_beat_pooled_on_the_worst_group():
    cfg = simulate.SimConfig(population=_distinct_population(), n_annotators=200, comparisons_per_annotator=10)
    s = recovery_report.summarise(simulate.run_once(cfg, "nc", 0))
    worst = dict(zip(s["model"], s["worst_accuracy"]))
    assert worst["conditional"] > worst["pooled"] + 0.15
    assert worst["mixture"] > worst["pooled"] + 0.15
    assert worst["per_annotator"] > worst["pooled"] + 0.15
    assert worst["oracle"] >= max(worst[m] for m in simulate.MODELS) - 0.01  # nobody beats the true utilities


def test_nc_candidates_recover_ideal_points_better_than_iid_at_equal_n():
    cfg = simulate.SimConfig(n_annotators=500, comparisons_per_annotator=10, models=("pooled", "conditional"))
    df = simulate.run_experiment(cfg, ["iid", "nc"], [0, 1, 2])
    err = df.filter(pl.col("model") == "conditional").group_by("strategy").agg(pl.col("ideal_error").mean())
    e = dict(zip(err["strategy"], err["ideal_error"]))
    assert set(df["comparisons"].unique()) == {5000}
    assert e["nc"] < 0.85 * e["iid"]


def test_runs_are_deterministic_by_seed_and_strategies_share_annotators():
    cfg = simulate.SimConfig(n_annotators=100, comparisons_per_annotator=6)
    a = simulate.run_once(cfg, "iid", 3, sizes=[3, 6])
    b = simulate.run_once(cfg, "iid", 3, sizes=[3, 6])
    assert a.equals(b)
    c = simulate.run_once(cfg, "iid", 4, sizes=[3, 6])
    assert not a.equals(c)
    d_iid, d_nc = simulate.collect(cfg, "iid", 3), simulate.collect(cfg, "nc", 3)
    assert np.array_equal(d_iid.ann_ideal, d_nc.ann_ideal)  # same annotators: only the candidates differ
    assert not np.allclose(d_iid.candidates, d_nc.candidates)
    assert set(a["per_annotator"].unique()) == {3, 6}


def test_test_set_is_uniform_and_shared():
    t1, t2 = simulate.test_candidates(4, 200), simulate.test_candidates(4, 200)
    assert np.array_equal(t1, t2)
    assert t1.min() >= -simulate.TEST_BOX and t1.max() <= simulate.TEST_BOX
    assert abs(t1.mean()) < 0.05


def test_latent_mode_has_no_conditional_model_and_pooled_represents_someone():
    pop = Population((Group("type 1", 0.8, 0.8, 0.1, 3), Group("type 2", -0.8, -0.8, 0.1, 1)), mode="latent")
    cfg = simulate.SimConfig(population=pop, n_annotators=120, comparisons_per_annotator=10)
    df = simulate.run_once(cfg, "nc", 0)
    assert "conditional" not in set(df["model"])
    out = recovery_report.cli_summary(df, cfg, "nc", 1200)
    assert out["models"]["pooled"]["represents"] == "type 1"  # the majority's values win the pooled reward


def test_linear_utility_has_no_ideal_point_error():
    cfg = simulate.SimConfig(
        choice=ChoiceModel("linear", 3.0),
        n_annotators=100,
        comparisons_per_annotator=5,
        models=("pooled", "conditional"),
    )
    df = simulate.run_once(cfg, "iid", 0)
    assert df.filter(pl.col("model") != "oracle")["ideal_error"].is_null().all()
    assert recovery_report.headline(df, cfg.population) is None
    assert df.filter(pl.col("model") == "conditional")["kendall_tau"].mean() > 0.5


def test_headline_is_built_from_the_numbers():
    cfg = simulate.SimConfig(n_annotators=100, comparisons_per_annotator=5, models=("pooled", "conditional"))
    df = simulate.run_experiment(cfg, ["iid", "nc"], [0])
    text = recovery_report.headline(df, cfg.population)
    # expected numbers straight from the runs (one seed, one size), not from the summaries the headline uses
    rows = df.filter((pl.col("model") == "conditional") & pl.col("group").is_in(["Brazil", "India"]))
    err = {s: rows.filter(pl.col("strategy") == s)["ideal_error"].mean() for s in ("iid", "nc")}
    assert "Brazil and India" in text and "closer with" in text
    assert f"{err['iid']:.2f}" in text and f"{err['nc']:.2f}" in text
    better, worse = sorted(err, key=err.get)
    assert f"{err[worse] / err[better]:.1f}× closer with {better} candidates than with {worse}" in text


def test_config_refuses_bad_settings_with_reasons():
    with pytest.raises(ValueError, match="at least 2"):
        simulate.SimConfig(k=1)
    with pytest.raises(ValueError, match="unknown model"):
        simulate.SimConfig(models=("pooled", "bert"))


def test_cli_json(capsys):
    rc = main(["simulate", "--strategy", "nc", "--comparisons", "1000", "--annotators", "100", "--seed", "1", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["strategy"] == "nc" and out["comparisons"] == 1000 and out["illustrative"] is True
    assert set(simulate.MODELS) <= set(out["models"])
    for m in simulate.MODELS:
        M = out["models"][m]
        assert set(M["accuracy_by_country"]) == {"United States", "France", "Italy", "Brazil", "India"}
        assert M["worst_country_accuracy"] == min(M["accuracy_by_country"].values())
        assert M["ideal_point_error"] > 0
    assert out["models"]["pooled"]["represents"] in out["models"]["pooled"]["accuracy_by_country"]


def test_cli_table_and_bad_input(capsys):
    assert main(["simulate", "--strategy", "iid", "--comparisons", "500", "--annotators", "100"]) == 0
    text = capsys.readouterr().out
    assert "ILLUSTRATIVE" in text and "worst" in text and "pooled" in text
    assert main(["simulate", "--comparisons", "50", "--annotators", "100"]) == 2
    assert "at least the number of annotators" in capsys.readouterr().err


def test_catch_up_reads_the_learning_curves():
    rows = []
    for strategy, errs in {"iid": [0.5, 0.4, 0.3], "nc": [0.45, 0.28, 0.1]}.items():
        for n, e in zip([100, 200, 400], errs):
            rows.append(
                dict(
                    strategy=strategy,
                    seed=0,
                    per_annotator=n // 100,
                    comparisons=n,
                    model="conditional",
                    group="India",
                    accuracy=0.5,
                    log_lik=-1.0,
                    ideal_error=e,
                    kendall_tau=0.9,
                    rec_x=0.0,
                    rec_y=0.0,
                )
            )
    df = pl.DataFrame(rows, schema=simulate.RESULT_SCHEMA)
    assert recovery_report._catch_up(df, ["India"], "conditional", "nc", "iid") == (
        "; nc candidates reach the error iid candidates end with (0.30) after 200 of the 400 comparisons"
    )
    assert recovery_report._catch_up(df, ["India"], "conditional", "iid", "nc") == ""
