"""The Tour's first step: the spread of people's chosen answers against the LLM answers (the Values map's findings,
analysis.explore.findings), and the sentence that follows the numbers."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import polars as pl
import pytest

from analysis.explore import positions
from analysis.explore.findings import Sample
from analysis.explore.tour import (
    MIN_CHOICES,
    Interval,
    Spread,
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


def _sample(chosen_xy: np.ndarray, choices: int = 1) -> Sample:
    """Person i makes ``choices`` choices, all of the response at chosen_xy[i] (offered alone, so every set holds it)."""
    chosen = np.repeat(chosen_xy, choices, axis=0)
    pos = np.full((len(chosen), 4, 2), np.nan)
    pos[:, 0] = chosen
    return Sample(
        annotator=np.repeat(np.arange(len(chosen_xy)), choices),
        country=np.array(["India"] * len(chosen_xy), dtype=object),
        weight=np.ones(len(chosen)),
        chosen=chosen,
        pos=pos,
    )


def test_person_positions_are_means_of_what_each_chose():
    chosen = pl.DataFrame({"annotator_id": ["a", "a", "b"], "x": [1.0, 0.0, -1.0], "y": [1.0, -0.5, -1.0]})
    assert person_positions(chosen).rows() == [("a", 2, 0.5, 0.25), ("b", 1, -1.0, -1.0)]


def test_choices_on_a_wide_ring_spread_further_than_llm_answers_on_a_narrow_one():
    people = _ring(400, 1.0, phase=0.01)  # every chosen answer 1 from the centre
    llm = _ring(32, 0.25, centre=(0.5, 0.5))  # every LLM answer 0.25 from (0.5, 0.5): all in the (+,+) quadrant
    s = spread_stats(_sample(people, choices=2), llm, n_llm_models=8)
    assert s.people.value == pytest.approx(1.0, abs=1e-9) and s.llm.value == pytest.approx(0.25, abs=1e-9)
    assert s.people.lo > s.llm.hi
    assert s.quadrant == (1, 1) and s.llm_share == 1.0
    # A quarter of the ring lies in x >= 0, y >= 0 (the phase keeps points off the axes); each person chose twice.
    assert s.human_share.value == pytest.approx(np.mean((people[:, 0] >= 0) & (people[:, 1] >= 0)))
    assert (s.n_people, s.n_choices, s.n_llm_models, s.n_llm) == (400, 800, 8, 32)
    assert s.people_centre == pytest.approx((0.0, 0.0), abs=1e-9) and s.llm_centre == pytest.approx((0.5, 0.5))
    sentence = people_sentence(s)
    assert sentence.startswith("People's choices spread further than the LLMs' answers")
    assert "spread 1.00 [" in sentence and "LLM answers 0.25 [0.25–0.25]" in sentence and "400 people" in sentence
    assert "100% of the 32 LLM answers (8 LLMs) sit in the self-expression / secular-rational quadrant" in sentence


def test_equal_spreads_give_no_clear_difference_and_wider_llms_say_so():
    points = np.random.default_rng(1).normal(size=(60, 2))
    same = spread_stats(_sample(points), points, n_llm_models=5)  # the same positions on both sides
    assert same.people.value == pytest.approx(same.llm.value)
    assert people_sentence(same).startswith("No clear difference in spread")
    wider = spread_stats(_sample(_ring(300, 0.2)), _ring(40, 1.0, phase=0.1), n_llm_models=5)
    assert wider.people.hi < wider.llm.lo
    assert people_sentence(wider).startswith("The LLMs' answers spread further")


def test_the_interval_resamples_people_not_choices():
    # Five people, 100 choices each: resampling people can pick the same person several times (a wide interval);
    # resampling choices would hardly move the answer.
    where = np.random.default_rng(3).normal(size=(5, 2))
    s = spread_stats(_sample(where, 100), _ring(20, 0.1, phase=0.3), n_llm_models=5)
    by_hand = np.linalg.norm(where - where.mean(axis=0), axis=1).mean()
    assert s.n_people == 5 and s.n_choices == 500 and s.people.value == pytest.approx(by_hand)
    assert s.people.hi - s.people.lo > 0.25 * s.people.value


def test_too_few_llms_or_people_give_no_numbers():
    assert spread_stats(_sample(_ring(10, 1)), _ring(10, 1), n_llm_models=2) is None  # two LLMs: no spread of LLMs
    assert spread_stats(_sample(_ring(1, 1), 5), _ring(10, 1), n_llm_models=5) is None
    assert spread_stats(_sample(_ring(10, 1)), _ring(1, 1), n_llm_models=5) is None


def test_sentence_branches_follow_the_numbers_fed_to_it():
    base = dict(
        n_people=80, n_choices=1200, n_llm_models=5, n_llm=90, quadrant=(1, 1),
        quadrant_name="self-expression / secular-rational", llm_share=0.9, human_share=Interval(0.35, 0.3, 0.4),
        people_centre=(0.0, 0.0), llm_centre=(0.5, 0.5),
    )  # fmt: skip
    clear = people_sentence(Spread(people=Interval(0.6, 0.55, 0.65), llm=Interval(0.3, 0.27, 0.33), **base))
    assert clear.startswith("People's choices spread further")
    assert "0.60 [0.55–0.65]" in clear and "0.30 [0.27–0.33]" in clear and "80 people" in clear
    assert (
        "90% of the 90 LLM answers (5 LLMs)" in clear
        and "35% of people's 1,200 choices do (95% interval 30%–40%)" in (clear)
    )
    overlap = people_sentence(Spread(people=Interval(0.6, 0.5, 0.7), llm=Interval(0.55, 0.45, 0.65), **base))
    assert overlap.startswith("No clear difference") and "0.55 [0.45–0.65]" in overlap
    below = people_sentence(Spread(people=Interval(0.2, 0.15, 0.25), llm=Interval(0.5, 0.4, 0.6), **base))
    assert below.startswith("The LLMs' answers spread further")
    no_share = people_sentence(
        Spread(people=Interval(0.6, 0.55, 0.65), llm=Interval(0.3, 0.27, 0.33), **base | {"human_share": Interval(
            0.3, math.nan, math.nan)})
    )  # fmt: skip
    assert "quadrant" not in no_share


def test_people_step_on_the_scored_demo_matches_a_second_computation_in_sql(scored_demo_db):  # noqa: F811
    con = duckdb.connect(str(scored_demo_db), read_only=True)
    try:
        step = people_step(con)
        assert step.missing is None and step.spread is not None
        con.register("sc", positions.load_scores(con).unique("text_hash").to_arrow())
        # LLM answers: their mean distance from their centre; the number of LLMs.
        llm_sql = con.execute(
            """WITH a AS (SELECT r.model, s.self_expression AS x, s.secular AS y
                          FROM llm_responses r JOIN sc s USING (text_hash))
               SELECT count(DISTINCT model), count(*),
                      avg(sqrt(power(x - (SELECT avg(x) FROM a), 2) + power(y - (SELECT avg(y) FROM a), 2))) FROM a"""
        ).fetchall()[0]
        # People's chosen answers: their mean distance from their centre; choices and people.
        people_sql = con.execute(
            """WITH c AS (SELECT f.annotator_id, s.self_expression AS x, s.secular AS y FROM comparison_facts f
                          JOIN sc s ON s.text_hash = f.chosen_hash)
               SELECT count(*), count(DISTINCT annotator_id),
                      avg(sqrt(power(x - (SELECT avg(x) FROM c), 2) + power(y - (SELECT avg(y) FROM c), 2))) FROM c"""
        ).fetchall()[0]
        drawn = con.execute(
            f"""SELECT count(*) FROM (SELECT f.annotator_id FROM comparison_facts f JOIN sc s
                ON s.text_hash = f.chosen_hash GROUP BY f.annotator_id HAVING count(*) >= {MIN_CHOICES})"""
        ).fetchone()[0]
    finally:
        con.close()
    s = step.spread
    assert (s.n_llm_models, s.n_llm) == llm_sql[:2] and s.llm.value == pytest.approx(llm_sql[2], rel=1e-6)
    assert (s.n_choices, s.n_people) == people_sql[:2] and s.people.value == pytest.approx(people_sql[2], rel=1e-6)
    assert s.people.lo <= s.people.value <= s.people.hi and s.llm.lo <= s.llm.value <= s.llm.hi
    assert step.people.height == min(drawn, 2000) and step.llm_models.height == s.n_llm_models


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
