"""The Values map's frames from the demo database (analysis.explore.positions): who is kept, where people are drawn,
the density view, the slot letters and the texts. Expected values from plain SQL over the same database."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl
import pytest

from analysis.explore import positions
from analysis.filters import Filters


def _hash_scores(con) -> pl.DataFrame:
    """Deterministic stand-in positions for every candidate text: derived from its md5 (not a model)."""
    return con.sql(
        """SELECT text_hash,
                  (('x' || substr(text_hash, 1, 6))::BIT::INTEGER % 2001) / 1000.0 - 1.0 AS self_expression,
                  (('x' || substr(text_hash, 7, 6))::BIT::INTEGER % 2001) / 1000.0 - 1.0 AS secular
           FROM candidates
           UNION ALL SELECT text_hash, 0.5, 0.5 FROM llm_responses"""
    ).pl()


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def scores(con):
    return _hash_scores(con)


def _annotators_with_at_least(con, n: int) -> list[str]:
    rows = con.sql(f"SELECT annotator_id FROM comparison_facts GROUP BY 1 HAVING count(*) >= {n} ORDER BY 1")
    return [r[0] for r in rows.fetchall()]


def test_people_with_exactly_the_minimum_number_of_comparisons_are_kept(con, scores):
    # the demo has annotators with 2 and with exactly 3 comparisons: 3 is kept by default, 2 is not
    assert _annotators_with_at_least(con, 3) != _annotators_with_at_least(con, 4)
    default = positions.people_data(con, Filters(), scores=scores)
    assert sorted(default.people["annotator_id"]) == _annotators_with_at_least(con, 3)
    two = positions.people_data(con, Filters(), scores=scores, min_comparisons=2)
    assert sorted(two.people["annotator_id"]) == _annotators_with_at_least(con, 2)


def test_people_are_drawn_at_the_centre_of_what_was_offered_plus_their_offset(con, scores):
    con.register("sc", scores)
    want = con.execute(  # the centre: the mean position over every distinct text offered in each comparison
        """WITH o AS (SELECT DISTINCT comparison_id, unnest([a_hash, b_hash, c_hash, d_hash]) AS h
                      FROM comparison_facts WHERE country = 'Italy')
           SELECT avg(s.self_expression), avg(s.secular) FROM o JOIN sc s ON s.text_hash = o.h"""
    ).fetchall()[0]
    con.unregister("sc")
    got = positions.people_data(con, Filters(countries=("Italy",)), scores=scores, frame="revealed")
    assert got.origin == pytest.approx(want)
    p = got.people
    np.testing.assert_allclose(p["x"].to_numpy(), p["self_expression"].to_numpy() + want[0])
    np.testing.assert_allclose(p["y"].to_numpy(), p["secular"].to_numpy() + want[1])


def test_no_comparison_under_the_filters_gives_an_origin_at_zero_and_no_people(con, scores):
    got = positions.people_data(con, Filters(countries=("Nowhere",)), scores=scores)
    assert got.origin == (0.0, 0.0) and got.people.height == 0 and got.quadrant is None


def test_the_chosen_responses_share_in_the_llm_quadrant_is_given_per_country(con, scores):
    got = positions.people_data(con, Filters(), scores=scores, frame="revealed")
    assert got.quadrant is not None and got.quadrant.quadrant == (1, 1)  # every LLM response sits at (0.5, 0.5)
    con.register("sc", scores)
    want = dict(  # the share of chosen texts (one per comparison) with both coordinates >= 0
        con.sql(
            """SELECT f.country, avg(CASE WHEN s.self_expression >= 0 AND s.secular >= 0 THEN 1 ELSE 0 END)
               FROM comparison_facts f JOIN sc s ON s.text_hash = f.chosen_hash GROUP BY 1"""
        ).fetchall()
    )
    con.unregister("sc")
    chosen = got.table.filter(pl.col("kind") == "chosen responses (absolute)")
    assert dict(chosen.select("group", "share_in_llm_quadrant").iter_rows()) == pytest.approx(want)
    people = got.table.filter(pl.col("kind") == "people: revealed position (difference)")
    assert people["share_in_llm_quadrant"].null_count() == people.height  # an offset has no quadrant of its own


def test_offered_points_carry_the_slot_letter_the_text_was_shown_in(con, scores):
    pts = positions.offered_points(con, Filters(countries=("Brazil",)), scores=scores)
    assert set(pts["letter"]) == {"a", "b", "c", "d"}
    slots = con.sql("SELECT comparison_id, a_hash, b_hash, c_hash, d_hash FROM comparison_facts").pl()
    joined = pts.join(slots, on="comparison_id")
    for letter in "abcd":
        rows = joined.filter(pl.col("letter") == letter)
        assert (rows["text_hash"] == rows[f"{letter}_hash"]).all()


def test_the_density_view_bins_every_point_in_a_window_centred_on_the_origin(con, scores):
    md = positions.map_data(con, Filters(), scores=scores, density=True)
    pts = positions.offered_points(con, Filters(), scores=scores)
    assert md.grid is not None and md.grid.x[0] == pytest.approx(-md.grid.x[-1])  # the value axes: symmetric
    assert md.grid.y[0] == pytest.approx(-md.grid.y[-1])
    assert 0.98 * pts.height <= md.grid.counts.sum() <= pts.height  # the window holds the central 99.5%
    assert md.points.height == 0 and not md.sampled and md.n_total == pts.height
    assert {"rid", "text", "prompt", "x", "y"} <= set(md.points.columns)


def test_the_sample_is_seeded_with_seed_0_by_default(con, scores):
    a = positions.map_data(con, Filters(), scores=scores, max_points=300, color_by="country")
    b = positions.map_data(con, Filters(), scores=scores, max_points=300, color_by="country", seed=0)
    c = positions.map_data(con, Filters(), scores=scores, max_points=300, color_by="country", seed=1)
    assert a.points["text_hash"].to_list() == b.points["text_hash"].to_list()
    assert a.points["text_hash"].to_list() != c.points["text_hash"].to_list()


def test_texts_attach_to_a_frame_without_prompt_hashes(con):
    th = con.sql("SELECT text_hash, text FROM candidates ORDER BY text_hash LIMIT 3").pl()
    out = positions.attach_texts(con, th.select("text_hash"))
    assert out["text"].to_list() == th["text"].to_list() and "prompt" not in out.columns
    empty = positions.attach_texts(con, th.select("text_hash", prompt_hash=pl.lit("x")).head(0))
    assert empty.height == 0 and {"text", "prompt"} <= set(empty.columns)


def test_every_llm_response_with_a_position_is_a_point(con, scores):
    llm = positions.llm_points(con, scores=scores)
    assert llm.height == con.execute("SELECT count(*) FROM llm_responses").fetchall()[0][0]
    assert (llm["x"] == 0.5).all() and (llm["y"] == 0.5).all()
    assert positions.llm_points(con, scores=scores.head(0)).height == 0  # no position, no point
