"""People and LLMs on the plane (analysis.explore.people) at the edges: the sample's allocation by hand, LLM spreads by
hand, empty and missing inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from analysis.explore import people


def _counts(frame: pl.DataFrame) -> dict:
    return dict(frame.group_by("g").len().iter_rows())


def test_stratified_sample_allocates_the_floor_then_the_rest_by_share():
    frame = pl.DataFrame({"g": ["big"] * 9900 + ["small"] * 100, "i": list(range(10000))})
    out, sampled = people.stratified_sample(frame, 1000, "g", seed=3)
    # floor 25 each; the other 950 split by what is left: big 9875 / 9950 -> 942, small 75 / 9950 -> 7 (rounded down)
    assert sampled and _counts(out) == {"big": 967, "small": 32}


def test_a_stratum_allocated_a_single_row_keeps_it():
    frame = pl.DataFrame({"g": ["big"] * 99 + ["one"], "i": list(range(100))})
    out, _ = people.stratified_sample(frame, 50, "g")
    assert _counts(out) == {"big": 49, "one": 1}  # floor: 25 + 1; the other 24 all go to big


def test_every_stratum_sample_follows_the_seed():
    frame = pl.DataFrame({"g": ["a"] * 500 + ["b"] * 500, "i": list(range(1000))})
    s0, _ = people.stratified_sample(frame, 100, "g", seed=0)
    s1, _ = people.stratified_sample(frame, 100, "g", seed=1)
    for g in ("a", "b"):
        assert set(s0.filter(pl.col("g") == g)["i"]) != set(s1.filter(pl.col("g") == g)["i"]), g


def test_the_default_cap_is_5000_points():
    frame = pl.DataFrame({"i": list(range(5001))})
    out, sampled = people.stratified_sample(frame)
    assert sampled and out.height == 5000
    same, sampled = people.stratified_sample(frame.head(5000))
    assert not sampled and same.height == 5000


def test_llm_positions_by_hand():
    pts = pl.DataFrame(
        {
            "llm": ["A", "A", "B", "B", "B"],
            "synthetic": [True, True, True, False, True],
            "x": [0.0, 2.0, 1.0, 1.0, 1.0],
            "y": [0.0, 0.0, 1.0, 3.0, 5.0],
        }
    )
    out = {r["llm"]: r for r in people.llm_positions(pts).iter_rows(named=True)}
    assert out["A"]["n"] == 2 and (out["A"]["x"], out["A"]["y"]) == pytest.approx((1.0, 0.0))
    assert out["A"]["mean_dist"] == pytest.approx(1.0) and out["A"]["synthetic"] is True
    assert out["B"]["n"] == 3 and (out["B"]["x"], out["B"]["y"]) == pytest.approx((1.0, 3.0))
    assert out["B"]["mean_dist"] == pytest.approx(4 / 3) and out["B"]["synthetic"] is False  # not all synthetic


def test_llm_positions_of_no_response_is_an_empty_typed_frame():
    out = people.llm_positions(pl.DataFrame())
    assert out.height == 0 and out.columns == ["llm", "synthetic", "n", "x", "y", "mean_dist"]


def test_no_human_choice_gives_no_quadrant_share():
    offered = pl.DataFrame({"country": ["France"] * 2, "chosen": [False, False], "x": [0.1, 0.2], "y": [0.1, 0.2]})
    llm = pl.DataFrame({"x": [0.4], "y": [0.5]})
    assert people.quadrant_share(offered, llm) is None


def test_a_quadrant_share_is_a_frozen_result():
    offered = pl.DataFrame({"country": ["France"], "chosen": [True], "x": [0.1], "y": [0.1]})
    q = people.quadrant_share(offered, pl.DataFrame({"x": [0.4], "y": [0.5]}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.name = "changed"


def test_revealed_positions_without_country_or_language_columns():
    scores = pl.DataFrame({"text_hash": ["s", "t"], "self_expression": [1.0, -1.0], "secular": [0.0, 0.0]})
    comps = pl.DataFrame(
        {"comparison_id": ["c1"], "annotator_id": ["p"], "a_hash": ["s"], "b_hash": ["t"], "chosen_hash": ["s"]}
    )
    row = people.revealed_from_comparisons(comps, scores).row(0, named=True)
    assert row["country"] is None and row["language"] is None
    assert row["self_expression"] == pytest.approx(1.0) and row["n"] == 1  # chosen 1 minus the mean 0


def test_people_are_drawn_at_their_offset_when_no_origin_is_given():
    rev = pl.DataFrame({"self_expression": [0.1], "secular": [-0.2], "chosen_x": [0.5], "chosen_y": [0.7]})
    r = people.human_plot_positions(rev).row(0, named=True)
    assert (r["x"], r["y"]) == pytest.approx((0.1, -0.2))


def test_the_papers_figure_is_the_one_its_note_states():
    assert f"{people.PAPER_LLM_MATCH:.0%}" == "41%" and "about 41%" in people.PAPER_LLM_MATCH_NOTE


def test_dispersion_table_per_llm_and_for_all_llms():
    people_frame = pl.DataFrame({"country": ["France"] * 3, "x": [0.0, 1.0, 2.0], "y": [0.0, 0.0, 0.0]})
    chosen = pl.DataFrame({"country": ["France", None], "x": [0.5, -0.5], "y": [0.5, 0.5]})
    llm = pl.DataFrame({"llm": ["A", "A", "B"], "x": [1.0, 3.0, -1.0], "y": [1.0, 1.0, -1.0]})
    t = people.dispersion_table(people_frame, chosen, llm, (1, 1), "chosen")
    rows = {(r["kind"], r["group"]): r for r in t.iter_rows(named=True)}
    assert rows[("people: mean chosen position", "France")]["share_in_llm_quadrant"] == pytest.approx(1.0)
    assert rows[("chosen responses (absolute)", "(unknown)")]["share_in_llm_quadrant"] == 0.0
    all_llms = rows[("LLM responses (absolute)", "all LLMs")]
    assert all_llms["n"] == 3 and all_llms["centroid_x"] == pytest.approx(1.0)
    assert all_llms["share_in_llm_quadrant"] == pytest.approx(2 / 3)
    assert rows[("LLM responses (absolute)", "A")]["mean_dist"] == pytest.approx(1.0)
    assert np.isnan(rows[("LLM responses (absolute)", "B")]["sd_x"])  # one response: no spread


def test_floors_that_fill_the_cap_exactly_are_kept():
    frame = pl.DataFrame({"g": ["big"] * 100 + ["small"] * 25, "i": list(range(125))})
    out, _ = people.stratified_sample(frame, 50, "g")
    assert _counts(out) == {"big": 25, "small": 25}  # 25 + 25 = 50: nothing left to share out by size


def test_samples_are_shuffled_and_seed_0_is_the_default():
    frame = pl.DataFrame({"g": ["a"] * 500 + ["b"] * 500, "i": list(range(1000))})
    strat, _ = people.stratified_sample(frame, 100, "g")
    assert not strat.filter(pl.col("g") == "a")["i"].is_sorted()  # drawn in random order, not in the frame's
    assert strat["i"].to_list() == people.stratified_sample(frame, 100, "g", seed=0)[0]["i"].to_list()
    plain, sampled = people.stratified_sample(frame, 100)
    assert sampled and not plain["i"].is_sorted()
    assert plain["i"].to_list() == people.stratified_sample(frame, 100, seed=0)[0]["i"].to_list()


def test_strata_that_are_not_a_column_give_a_plain_sample():
    frame = pl.DataFrame({"i": list(range(100))})
    out, sampled = people.stratified_sample(frame, 10, "no_such_column")
    assert sampled and out.height == 10


def test_a_group_of_exactly_three_points_has_an_ellipse():
    frame = pl.DataFrame({"g": ["a"] * 3 + ["b"] * 2, "x": [0.0, 1.0, 0.0, 5.0, 6.0], "y": [0.0, 0.0, 1.0, 5.0, 5.0]})
    assert list(people.ellipses_by_group(frame, "g")) == ["a"]


def test_a_missing_slot_does_not_hide_the_others():
    # slot a is empty (NULL): b, c, d are still offered, and d repeats nothing
    scores = pl.DataFrame({"text_hash": ["s", "t", "u"], "self_expression": [3.0, 0.0, 0.0], "secular": [0.0] * 3})
    comps = pl.DataFrame(
        {"comparison_id": ["c1"], "annotator_id": ["p"], "a_hash": [None], "b_hash": ["s"], "c_hash": ["t"],
         "d_hash": ["u"], "chosen_hash": ["s"]},
        schema_overrides={"a_hash": pl.String},
    )  # fmt: skip
    row = people.revealed_from_comparisons(comps, scores).row(0, named=True)
    assert row["offered_x"] == pytest.approx(1.0) and row["self_expression"] == pytest.approx(2.0)


def test_a_repeat_is_found_across_a_slot_the_frame_does_not_have():
    # no c_hash column: d repeats a, so the offered texts are s and t only
    scores = pl.DataFrame({"text_hash": ["s", "t"], "self_expression": [3.0, 0.0], "secular": [0.0, 0.0]})
    comps = pl.DataFrame(
        {"comparison_id": ["c1"], "annotator_id": ["p"], "a_hash": ["s"], "b_hash": ["t"], "d_hash": ["s"],
         "chosen_hash": ["t"]}
    )  # fmt: skip
    row = people.revealed_from_comparisons(comps, scores).row(0, named=True)
    assert row["offered_x"] == pytest.approx(1.5) and row["self_expression"] == pytest.approx(-1.5)
