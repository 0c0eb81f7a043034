"""The Tour's first step: people's and LLMs' spreads with bootstrap intervals (people and LLMs resampled), and the
sentence that follows the numbers."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import polars as pl
import pytest

from analysis.explore import positions
from analysis.explore.tour import (
    MIN_CHOICES,
    Interval,
    Spread,
    mean_distance,
    people_sentence,
    people_step,
    person_positions,
    spread_stats,
)
from analysis.filters import Filters
from tests.values_fixtures import scored_demo_db  # noqa: F401  (session fixture)


def _ring(n: int, radius: float, centre=(0.0, 0.0), phase: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False) + phase
    return np.column_stack([centre[0] + radius * np.cos(t), centre[1] + radius * np.sin(t)])


def _people(xy: np.ndarray, choices: int = MIN_CHOICES) -> pl.DataFrame:
    """Person i chooses ``choices`` responses, all at xy[i] (so each person's mean position is xy[i])."""
    rows = np.repeat(xy, choices, axis=0)
    ids = np.repeat([f"p{i:04d}" for i in range(len(xy))], choices)
    return pl.DataFrame({"annotator_id": ids, "x": rows[:, 0], "y": rows[:, 1]})


def _llms(xy: np.ndarray, answers: int = 4, jitter: float = 0.0) -> pl.DataFrame:
    """LLM i answers ``answers`` times around xy[i] (symmetric offsets, so its mean is xy[i])."""
    offsets = np.array([[jitter, 0], [-jitter, 0], [0, jitter], [0, -jitter]])[:answers]
    rows = np.vstack([p + offsets for p in xy])
    return pl.DataFrame(
        {"llm": np.repeat([f"m{i}" for i in range(len(xy))], answers), "x": rows[:, 0], "y": rows[:, 1]}
    )


def test_mean_distance_by_hand():
    # (0,0), (2,0), (0,2), (2,2): centre (1,1), every point sqrt(2) away.
    assert mean_distance(np.array([[0, 0], [2, 0], [0, 2], [2, 2]])) == pytest.approx(math.sqrt(2))
    # Three points on a line: centre 1, distances 1, 0, 1.
    assert mean_distance(np.array([[0, 0], [1, 0], [2, 0]])) == pytest.approx(2 / 3)


def test_person_positions_are_means_of_what_each_chose():
    chosen = pl.DataFrame({"annotator_id": ["a", "a", "b"], "x": [1.0, 0.0, -1.0], "y": [1.0, -0.5, -1.0]})
    p = person_positions(chosen, (1, 1))
    assert p.rows() == [("a", 2, 0.5, 0.25, 1), ("b", 1, -1.0, -1.0, 0)]


def test_people_on_a_wide_ring_spread_further_than_llms_on_a_narrow_one():
    people = _ring(400, 1.0, phase=0.01)  # every person 1 from the centre
    llm = _ring(8, 0.25, centre=(0.5, 0.5))  # every LLM 0.25 from (0.5, 0.5): all answers in the (+,+) quadrant
    s = spread_stats(_people(people), _llms(llm, jitter=0.05))
    assert s.people.value == pytest.approx(1.0, abs=1e-9)
    assert s.llm.value == pytest.approx(0.25, abs=1e-9)
    assert s.ratio.value == pytest.approx(4.0, abs=1e-6)
    assert s.ratio.lo > 1
    assert s.quadrant == (1, 1) and s.llm_share == 1.0
    # The share of choices in that quadrant: a quarter of the ring lies in x >= 0, y >= 0 (the phase keeps points
    # off the axes), and every person made the same number of choices.
    assert s.human_share.value == pytest.approx(np.mean((people[:, 0] >= 0) & (people[:, 1] >= 0)))
    assert (s.n_people, s.n_choices, s.n_llm_models, s.n_llm) == (400, 400 * MIN_CHOICES, 8, 32)
    sentence = people_sentence(s)
    assert sentence.startswith("People spread further than LLMs, 4.0× as far across the plane")
    assert "400 people's positions" in sentence and "1.00 (95% CI" in sentence and "8 LLMs' positions" in sentence
    assert "100% of the 32 LLM answers sit in the self-expression / secular-rational quadrant" in sentence


def test_equal_spreads_give_no_clear_difference_and_wider_llms_say_so():
    points = np.random.default_rng(1).normal(size=(40, 2))
    same = spread_stats(_people(points), _llms(points))  # the same positions on both sides: a ratio of exactly 1
    assert same.ratio.value == pytest.approx(1.0)
    assert same.ratio.lo < 1 < same.ratio.hi
    assert people_sentence(same).startswith("No clear difference in spread between people and LLMs")
    wider = spread_stats(_people(_ring(300, 0.2)), _llms(_ring(12, 1.0, phase=0.1)))
    assert wider.ratio.hi < 1
    assert people_sentence(wider).startswith("Here the LLMs spread further than people")


def test_people_with_too_few_choices_have_no_position_but_their_choices_count():
    people = _people(_ring(50, 1.0, phase=0.01))
    few = _people(np.array([[5.0, 5.0]]), choices=MIN_CHOICES - 1).with_columns(pl.lit("few").alias("annotator_id"))
    s = spread_stats(pl.concat([people, few]), _llms(_ring(5, 0.3)))
    assert s.n_people == 50 and s.n_choices == 50 * MIN_CHOICES + MIN_CHOICES - 1
    assert s.people.value == pytest.approx(1.0)  # the far-away person with too few choices is not in the spread


def test_the_interval_resamples_people_not_choices():
    # Five people, 100 choices each: resampling people can pick the same person several times (little spread);
    # resampling choices would hardly move the answer. The interval must show the former.
    where = np.random.default_rng(3).normal(size=(5, 2))
    s = spread_stats(_people(where, 100), _llms(_ring(5, 0.1, phase=0.3)))
    assert s.n_people == 5 and s.n_choices == 500
    assert s.people.value == pytest.approx(mean_distance(where))
    assert s.people.hi - s.people.lo > 0.25 * s.people.value


def test_a_perfectly_symmetric_set_still_gets_an_interval():
    # Every jackknife value of four people at the corners is the same: BCa is undefined, the percentile interval is not.
    s = spread_stats(_people(np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=float), 100), _llms(_ring(5, 0.1)))
    assert s.people.value == pytest.approx(math.sqrt(2))
    assert np.isfinite(s.people.lo) and s.people.lo < s.people.value


def test_sentence_branches_follow_the_numbers_fed_to_it():
    base = dict(
        people=Interval(0.6, 0.55, 0.65), llm=Interval(0.3, 0.27, 0.33), n_people=80, n_choices=1200,
        n_llm_models=5, n_llm=90, quadrant=(1, 1), quadrant_name="self-expression / secular-rational",
        llm_share=0.9, human_share=Interval(0.35, 0.3, 0.4), people_centre=(0.0, 0.0), llm_centre=(0.5, 0.5),
    )  # fmt: skip
    clear = people_sentence(Spread(ratio=Interval(2.0, 1.7, 2.4), **base))
    assert "2.0× as far across the plane (95% CI 1.7–2.4×)" in clear
    assert (
        "80 people's positions" in clear and "0.60 (95% CI 0.55–0.65)" in clear and "0.30 (95% CI 0.27–0.33)" in clear
    )
    assert "90% of the 90 LLM answers" in clear and "35% of people's 1,200 choices do (95% CI 30%–40%)" in clear
    overlap = people_sentence(Spread(ratio=Interval(1.1, 0.95, 1.3), **base))
    assert overlap.startswith("No clear difference") and "0.95–1.30" in overlap
    below = people_sentence(Spread(ratio=Interval(0.5, 0.4, 0.6), **base))
    assert below.startswith("Here the LLMs spread further")


def test_too_few_llms_or_people_give_no_numbers():
    assert spread_stats(_people(_ring(10, 1)), _llms(_ring(2, 1))) is None  # two LLMs have no spread to speak of
    assert spread_stats(_people(_ring(1, 1)), _llms(_ring(5, 1))) is None


def test_people_step_on_the_scored_demo_matches_a_second_computation_in_sql(scored_demo_db):  # noqa: F811
    con = duckdb.connect(str(scored_demo_db), read_only=True)
    try:
        step = people_step(con)
        assert step.missing is None and step.spread is not None
        con.register("sc", positions.load_scores(con).unique("text_hash").to_arrow())
        # Each LLM at the mean of its scored answers; their mean distance to the centre of those means.
        llm_sql = con.execute(
            """WITH m AS (SELECT r.model, avg(s.self_expression) AS x, avg(s.secular) AS y, count(*) AS n
                          FROM llm_responses r JOIN sc s USING (text_hash) GROUP BY r.model)
               SELECT count(*), sum(n), avg(sqrt(power(x - (SELECT avg(x) FROM m), 2)
                                              + power(y - (SELECT avg(y) FROM m), 2))) FROM m"""
        ).fetchall()[0]
        # Each person at the mean of the scored texts they chose, if they chose at least 3.
        people_sql = con.execute(
            f"""WITH c AS (SELECT f.annotator_id, s.self_expression AS x, s.secular AS y FROM comparison_facts f
                           JOIN sc s ON s.text_hash = f.chosen_hash),
                    p AS (SELECT annotator_id, avg(x) AS x, avg(y) AS y FROM c GROUP BY annotator_id
                          HAVING count(*) >= {MIN_CHOICES})
               SELECT (SELECT count(*) FROM c), count(*),
                      avg(sqrt(power(x - (SELECT avg(x) FROM p), 2) + power(y - (SELECT avg(y) FROM p), 2))) FROM p"""
        ).fetchall()[0]
    finally:
        con.close()
    s = step.spread
    assert (s.n_llm_models, s.n_llm) == llm_sql[:2] and s.llm.value == pytest.approx(llm_sql[2], rel=1e-6)
    assert (s.n_choices, s.n_people) == people_sql[:2] and s.people.value == pytest.approx(people_sql[2], rel=1e-6)
    assert s.people.lo <= s.people.value <= s.people.hi and s.llm.lo <= s.llm.value <= s.llm.hi
    assert step.people.height == min(s.n_people, 2000) and step.llm_models.height == s.n_llm_models


def test_people_step_says_what_is_missing(demo_db, scored_demo_db):  # noqa: F811
    con = duckdb.connect(str(demo_db), read_only=True)  # never embedded: no axis scores
    try:
        assert people_step(con).missing == "scores"
    finally:
        con.close()
    con = duckdb.connect(str(scored_demo_db), read_only=True)
    try:
        step = people_step(con, Filters(countries=("Nowhere",)))
        assert step.missing == "choices" and step.spread is None
    finally:
        con.close()
