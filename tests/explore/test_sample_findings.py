"""Which comparisons the findings use while the job is part-way, and their weights, on hand-built frames."""

from __future__ import annotations

import polars as pl
import pytest

from analysis.explore import sample_findings


def _comps() -> pl.DataFrame:
    # stratum A: 4 comparisons in the data; stratum B: 2
    return pl.DataFrame(
        {
            "comparison_id": ["a1", "a2", "a3", "a4", "b1", "b2"],
            "annotator_id": ["p1", "p1", "p2", "p3", "p4", "p4"],
            "country": ["X", "X", "X", "X", "Y", "Y"],
            "stratum": ["A", "A", "A", "A", "B", "B"],
            "stratum_n": [4, 4, 4, 4, 2, 2],
            "sample_order": [1, 3, 5, 6, 2, 4],
            "a_hash": ["t1", "t1", "t5", "t7", "t1", "t9"],
            "b_hash": ["t2", "t3", "t6", "t8", "t2", "t2"],
            "c_hash": [None, "t4", None, None, None, None],
            "d_hash": [None, None, None, None, None, None],
            "chosen_hash": ["t1", "t3", "t5", "t7", "t2", "t9"],
        }
    )


def _scores(hashes: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"text_hash": hashes, "self_expression": [0.1] * len(hashes), "secular": [0.2] * len(hashes)})


def test_the_findings_use_the_longest_complete_prefix_of_the_order_with_strata_weighted_by_size():
    # order: a1 (1), b1 (2), a2 (3), b2 (4), a3 (5), a4 (6). a2 misses t4 (an offered text): the prefix stops before it
    # although b2 and a3 are complete too (counting them would over-represent what happens to share placed texts)
    used = sample_findings.in_sample(_comps(), _scores(["t1", "t2", "t3", "t5", "t6", "t9"]))
    assert used["comparison_id"].to_list() == ["a1", "b1"]
    weights = dict(zip(used["comparison_id"].to_list(), used["weight"].to_list(), strict=True))
    assert weights == pytest.approx({"a1": 4.0, "b1": 2.0})  # N_h / n_h: 4/1 in A, 2/1 in B
    used = sample_findings.in_sample(_comps(), _scores(["t1", "t2", "t3", "t4", "t5", "t6", "t9"]))
    assert used["comparison_id"].to_list() == ["a1", "b1", "a2", "b2", "a3"]  # a4 (t7, t8) is the first incomplete
    weights = dict(zip(used["comparison_id"].to_list(), used["weight"].to_list(), strict=True))
    assert weights == pytest.approx({"a1": 4 / 3, "a2": 4 / 3, "a3": 4 / 3, "b1": 1.0, "b2": 1.0})


def test_when_everything_is_placed_every_weight_is_one():
    used = sample_findings.in_sample(_comps(), _scores([f"t{i}" for i in range(1, 10)]))
    assert used.height == 6 and set(used["weight"].to_list()) == {1.0}


def test_the_wide_table_shows_each_statistic_with_its_interval():
    table = pl.DataFrame(
        {"group": ["X", "X"], "statistic": ["chosen_spread", "coverage_secular"], "value": [0.5, 0.25],
         "lo": [0.4, 0.2], "hi": [0.61, 0.3], "n_people": [12, 12], "n_comparisons": [40, 40]}
    )  # fmt: skip
    row = sample_findings.wide(table).row(0, named=True)
    assert row == {"group": "X", "people": 12, "comparisons": 40, "chosen_spread": "+0.50 [+0.40–+0.61]",
                   "coverage_secular": "25% [20%–30%]"}  # fmt: skip


def test_a_group_of_too_few_people_shows_no_interval():
    table = pl.DataFrame(
        {"group": ["Z"], "statistic": ["chosen_spread"], "value": [0.5], "lo": [0.5], "hi": [0.5], "n_people": [1],
         "n_comparisons": [4]}
    )  # fmt: skip
    assert sample_findings.wide(table)["chosen_spread"][0] == "+0.50 (n<5 people)"
