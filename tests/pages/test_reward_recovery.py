"""The reward-recovery page, run headless with AppTest (the real simulation runs underneath, at a small size)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from analysis.lab import codecs, population, simulate

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "reward_recovery.py")
SMALL = {"rr_annotators": "100", "rr_per": "5", "rr_seeds": "1"}


def _app(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    for key, value in {**SMALL, **query}.items():
        at.query_params[key] = value
    return at.run()


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _results(at: AppTest):
    for df in at.dataframe:
        if "ideal_error" in df.value.columns:
            return df.value
    raise AssertionError("the per-group table is not on the page")


def test_default_page_compares_iid_and_nc_and_says_so_from_the_numbers():
    at = _app()
    assert not at.exception
    assert any("Illustrative simulation" in w.value for w in at.warning)
    table = _results(at)
    assert set(table["strategy"]) == {"iid", "nc"}
    assert {"Brazil", "India", "France"} <= set(table["group"])
    text = " ".join(m.value for m in at.markdown)
    text = re.sub(r"\\(.)", r"\1", re.sub(r"(`+) (.*?) \1", r"\2", text))  # as read: escapes and code undone
    assert "Brazil and India" in text and "closer with" in text
    # the sentence quotes the numbers of the runs themselves (recomputed here from the simulation, not the table)
    config = simulate.SimConfig(n_annotators=100, comparisons_per_annotator=5)
    for strategy in ("iid", "nc"):
        runs = simulate.run_once(config, strategy, 0, simulate.curve_sizes(5))
        last = runs.filter((pl.col("per_annotator") == 5) & (pl.col("model") == "conditional"))
        v = last.filter(pl.col("group").is_in(["Brazil", "India"]))["ideal_error"].mean()
        assert f"{v:.2f}" in text
    assert "pooled reward's optimum" in text
    assert len(_charts(at)) == 2  # ideal points and learning curves


def test_changing_strategy_changes_the_figures():
    at = _app()
    before = _charts(at)
    at.multiselect(key="rr_strategies").set_value(["iid", "persona"]).run()
    assert not at.exception
    after = _charts(at)
    assert before[0] != after[0] and before[1] != after[1]
    assert set(_results(at)["strategy"]) == {"iid", "persona"}
    titles = [a["text"] for a in after[0]["layout"]["annotations"]]
    assert "persona candidates" in titles


def test_state_comes_from_the_url_and_latent_mode_drops_the_group_model():
    at = _app(rr_strategies=["nc"], rr_mode="latent", rr_beta="5", rr_metric="mean accuracy over groups")
    assert not at.exception
    assert at.slider(key="rr_beta").value == 5.0
    table = _results(at)
    assert set(table["strategy"]) == {"nc"}
    assert {"type 1", "type 2", "type 3"} == set(table["group"])
    assert not table["model"].str.startswith("group-conditioned").any()


def test_an_unreadable_population_link_is_explained():
    at = _app(rr_pop="France:0.1,zero,0.2,1")
    assert not at.exception
    assert any("could not be read" in w.value for w in at.warning)
    assert "India" in set(_results(at)["group"])  # fell back to the defaults


def test_a_population_from_the_link_is_used_and_kept():
    at = _app(rr_pop="North:0,0.9,0.1,1;South:0,-0.9,0.1,1", rr_strategies=["iid"])
    assert not at.exception
    assert set(_results(at)["group"]) == {"North", "South"}
    assert at.query_params["rr_pop"] == "North:0,0.9,0.1,1;South:0,-0.9,0.1,1"


def test_an_edit_in_the_population_table_goes_into_the_url():
    at = _app(rr_strategies=["iid"])
    assert "rr_pop" not in at.query_params  # the illustrative defaults keep the link short
    editor = f"rr_pop_editor_country_{codecs.groups_to_param(population.DEFAULT_GROUPS)}"
    at.session_state[editor] = {"edited_rows": {4: {"x": 0.9, "y": 0.9}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    written = codecs.groups_from_param(at.query_params["rr_pop"])
    india = next(g for g in written if g.name == "India")
    assert (india.x, india.y) == (0.9, 0.9)
    assert [g.name for g in written] == [g.name for g in population.DEFAULT_GROUPS]
    rec = _results(at)
    assert "India" in set(rec["group"])
