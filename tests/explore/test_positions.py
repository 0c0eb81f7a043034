"""Revealed positions, dispersion and ellipses, quadrant shares: the maths on hand-built cases."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from analysis import text
from analysis.explore import people, plane, positions
from analysis.explore import validity as validity_notes


def _scores(d: dict[str, tuple[float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"text_hash": list(d), "self_expression": [v[0] for v in d.values()], "secular": [v[1] for v in d.values()]}
    )


# ---- revealed positions --------------------------------------------------------------------------


def test_revealed_offset_is_chosen_minus_mean_offered():
    chosen = np.array([[1.0, 0.0], [0.0, 0.0]])
    offered = np.array(
        [
            [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]],  # mean (0, 0)
            [[0.0, 0.0], [2.0, 2.0], [2.0, 2.0], [np.nan, np.nan]],  # mean over 3 = (4/3, 4/3)
        ]
    )
    out = plane.revealed_offsets(chosen, offered)
    np.testing.assert_allclose(out[0], [1.0, 0.0])
    np.testing.assert_allclose(out[1], [-4 / 3, -4 / 3])


def test_revealed_offset_nan_when_nothing_offered():
    out = plane.revealed_offsets(np.array([[1.0, 1.0]]), np.full((1, 4, 2), np.nan))
    assert np.isnan(out).all()


def test_revealed_offsets_rejects_bad_shapes():
    with pytest.raises(ValueError):
        plane.revealed_offsets(np.zeros((2, 2)), np.zeros((3, 4, 2)))


def _comp(cid, aid, hashes, chosen, country="France", language="fr"):
    return {
        "comparison_id": cid,
        "annotator_id": aid,
        "country": country,
        "language": language,
        "a_hash": hashes[0],
        "b_hash": hashes[1],
        "c_hash": hashes[2],
        "d_hash": hashes[3],
        "chosen": chosen,
        "chosen_hash": hashes["abcd".index(chosen)],
    }


def test_revealed_position_per_annotator_hand_built():
    scores = _scores({"s": (0.0, 1.0), "t": (0.0, -1.0), "e": (1.0, 0.0), "v": (-1.0, 0.0), "far": (3.0, 3.0)})
    comps = pl.DataFrame(
        [
            # annotator p1 always takes the secular candidate of a balanced set: revealed (0, +1)
            _comp("c1", "p1", ["s", "t", "e", "v"], "a"),
            _comp("c2", "p1", ["t", "s", "v", "e"], "b"),
            # annotator p2: one secular pick (0, +1) and one self-expression pick (+1, 0): mean (0.5, 0.5)
            _comp("c3", "p2", ["s", "t", "e", "v"], "a", country="India", language="hi"),
            _comp("c4", "p2", ["s", "t", "e", "v"], "c", country="India", language="hi"),
            # annotator p3 picks the candidate at the centre of what was offered: revealed (0, 0), though the
            # absolute position chosen is far from the origin
            _comp("c5", "p3", ["far", "far", "far", "far"], "d", country="Brazil", language="pt"),
        ]
    )
    out = people.revealed_from_comparisons(comps, scores)
    rows = {r["annotator_id"]: r for r in out.iter_rows(named=True)}
    assert rows["p1"]["n"] == 2
    assert rows["p1"]["self_expression"] == pytest.approx(0.0)
    assert rows["p1"]["secular"] == pytest.approx(1.0)
    assert rows["p2"]["self_expression"] == pytest.approx(0.5)
    assert rows["p2"]["secular"] == pytest.approx(0.5)
    assert rows["p2"]["country"] == "India" and rows["p2"]["language"] == "hi"
    assert rows["p3"]["self_expression"] == pytest.approx(0.0)
    assert rows["p3"]["chosen_x"] == pytest.approx(3.0)  # the absolute frame keeps where it was
    assert rows["p3"]["offered_y"] == pytest.approx(3.0)


def test_random_chooser_has_revealed_position_near_zero_wherever_the_candidates_sit():
    rng = np.random.default_rng(1)
    n = 4000
    pts = rng.normal([0.8, 0.6], 0.5, size=(n * 4, 2))  # candidates far from the origin
    scores = _scores({f"h{i}": tuple(p) for i, p in enumerate(pts)})
    picks = rng.integers(0, 4, n)
    comps = pl.DataFrame([_comp(f"c{i}", "p", [f"h{4 * i + j}" for j in range(4)], "abcd"[picks[i]]) for i in range(n)])
    row = people.revealed_from_comparisons(comps, scores).row(0, named=True)
    assert abs(row["self_expression"]) < 0.03 and abs(row["secular"]) < 0.03
    assert row["chosen_x"] == pytest.approx(0.8, abs=0.05)


def test_comparisons_with_unscored_chosen_are_dropped_and_unscored_offered_left_out():
    scores = _scores({"a": (1.0, 1.0), "b": (-1.0, -1.0), "c": (0.0, 0.0)})
    comps = pl.DataFrame(
        [
            _comp("c1", "p", ["a", "b", "c", "zz"], "a"),  # zz unscored: mean over a, b, c = (0, 0)
            _comp("c2", "p", ["a", "b", "c", "zz"], "d"),  # chosen unscored: dropped
        ]
    )
    row = people.revealed_from_comparisons(comps, scores).row(0, named=True)
    assert row["n"] == 1
    assert row["self_expression"] == pytest.approx(1.0) and row["secular"] == pytest.approx(1.0)


def test_human_plot_positions_frames():
    rev = pl.DataFrame({"self_expression": [0.1], "secular": [-0.2], "chosen_x": [0.5], "chosen_y": [0.7]})
    r = people.human_plot_positions(rev, "revealed", origin=(1.0, 2.0)).row(0, named=True)
    assert (r["x"], r["y"]) == pytest.approx((1.1, 1.8))
    c = people.human_plot_positions(rev, "chosen").row(0, named=True)
    assert (c["x"], c["y"]) == pytest.approx((0.5, 0.7))
    with pytest.raises(ValueError):
        people.human_plot_positions(rev, "nonsense")


# ---- dispersion and ellipses ---------------------------------------------------------------------


def test_dispersion_of_known_points():
    pts = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    d = plane.dispersion(pts + [2.0, 3.0])
    assert d.n == 4
    assert d.centroid == pytest.approx((2.0, 3.0))
    assert d.mean_distance == pytest.approx(1.0)
    np.testing.assert_allclose(d.cov, np.array([[2 / 3, 0], [0, 2 / 3]]))


def test_dispersion_recovers_a_known_covariance():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.6], [0.6, 0.5]])
    pts = rng.multivariate_normal([0.3, -0.2], cov, size=20000)
    d = plane.dispersion(pts)
    np.testing.assert_allclose(d.cov, cov, atol=0.03)
    # ~95% of the points lie inside the 95% ellipse
    inv = np.linalg.inv(d.cov)
    diff = pts - np.array(d.centroid)
    m2 = np.einsum("ij,jk,ik->i", diff, inv, diff)
    assert np.mean(m2 <= plane.chi2_2d_quantile(0.95)) == pytest.approx(0.95, abs=0.01)


def test_ellipse_points_lie_on_the_coverage_contour():
    cov = np.array([[4.0, 0.0], [0.0, 1.0]])
    e = plane.ellipse((1.0, -1.0), cov, coverage=0.95, n_points=200)
    q = plane.chi2_2d_quantile(0.95)
    assert q == pytest.approx(5.991, abs=1e-3)
    diff = e - [1.0, -1.0]
    m2 = np.einsum("ij,jk,ik->i", diff, np.linalg.inv(cov), diff)
    np.testing.assert_allclose(m2, q, rtol=1e-9)
    # semi-axes sqrt(q * 4) along x and sqrt(q * 1) along y
    assert np.abs(diff[:, 0]).max() == pytest.approx(np.sqrt(q * 4), rel=1e-3)
    assert np.abs(diff[:, 1]).max() == pytest.approx(np.sqrt(q), rel=1e-3)
    assert np.allclose(e[0], e[-1])  # closed


def test_ellipse_of_a_tilted_covariance():
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    e = plane.ellipse((0.0, 0.0), cov)
    m2 = np.einsum("ij,jk,ik->i", e, np.linalg.inv(cov), e)
    np.testing.assert_allclose(m2, plane.chi2_2d_quantile(0.95), rtol=1e-9)
    # the long axis runs along the diagonal
    far = e[np.argmax(np.linalg.norm(e, axis=1))]
    assert abs(abs(far[0]) - abs(far[1])) < 0.1 and far[0] * far[1] > 0


def test_ellipse_area_matches_formula():
    cov = np.array([[4.0, 0.0], [0.0, 1.0]])
    assert plane.ellipse_area(cov) == pytest.approx(np.pi * plane.chi2_2d_quantile(0.95) * 2.0)


def test_group_dispersion_rows():
    frame = pl.DataFrame(
        {"g": ["a"] * 4 + ["b"] * 2, "x": [1.0, -1.0, 0.0, 0.0, 5.0, 5.0], "y": [0.0, 0.0, 1.0, -1.0, 5.0, 7.0]}
    )
    out = people.group_dispersion(frame, "g", "test", llm_quadrant=(1, 1))
    a = out.filter(pl.col("group") == "a").row(0, named=True)
    b = out.filter(pl.col("group") == "b").row(0, named=True)
    assert a["mean_dist"] == pytest.approx(1.0) and a["share_in_llm_quadrant"] == pytest.approx(0.5)
    assert b["centroid_y"] == pytest.approx(6.0) and b["share_in_llm_quadrant"] == pytest.approx(1.0)
    assert set(people.ellipses_by_group(frame, "g")) == {"a"}  # b has too few points for an ellipse


# ---- quadrants -----------------------------------------------------------------------------------


def test_dominant_quadrant_and_share():
    x = np.array([0.5, 0.2, 0.9, -0.3, 0.4])
    y = np.array([0.5, 0.1, 0.8, 0.2, -0.1])
    signs, share = plane.dominant_quadrant(x, y)
    assert signs == (1, 1) and share == pytest.approx(3 / 5)
    assert plane.quadrant_name(signs) == "self-expression / secular-rational"
    assert plane.share_in_quadrant(x, y, (-1, 1)) == pytest.approx(1 / 5)
    assert plane.share_in_quadrant(np.array([0.0]), np.array([0.0]), (1, 1)) == 1.0  # on an axis counts positive
    assert np.isnan(plane.share_in_quadrant(np.array([]), np.array([]), (1, 1)))


def test_quadrant_share_of_human_choices_hand_built():
    # 4 comparisons; chosen positions: 2 in (+,+), 1 in (-,-), 1 in (+,-) -> human share 0.5
    offered = pl.DataFrame(
        {
            "comparison_id": ["c1"] * 2 + ["c2"] * 2 + ["c3"] * 2 + ["c4"] * 2,
            "country": ["France"] * 4 + ["India"] * 4,
            "chosen": [True, False] * 4,
            "x": [0.5, -0.5, 0.3, -0.2, -0.4, 0.6, 0.2, 0.1],
            "y": [0.5, -0.5, 0.2, -0.9, -0.4, 0.7, -0.3, 0.1],
        }
    )
    llm = pl.DataFrame({"x": [0.4, 0.5, 0.6, -0.1], "y": [0.5, 0.3, 0.2, 0.4]})
    q = people.quadrant_share(offered, llm)
    assert q.quadrant == (1, 1)
    assert q.llm_share == pytest.approx(0.75)
    assert q.human_share == pytest.approx(0.5)
    assert q.offered_share == pytest.approx(4 / 8)
    assert q.by_country == {"France": pytest.approx(1.0), "India": pytest.approx(0.0)}
    assert q.n_choices == 4 and q.n_llm == 4
    assert people.quadrant_share(offered, llm.head(0)) is None


# ---- sampling ------------------------------------------------------------------------------------


def test_stratified_sample_is_seeded_bounded_and_keeps_small_groups():
    frame = pl.DataFrame({"g": ["big"] * 9900 + ["small"] * 100, "i": list(range(10000))})
    a, sampled = people.stratified_sample(frame, 1000, "g", seed=3)
    b, _ = people.stratified_sample(frame, 1000, "g", seed=3)
    assert sampled and a.height <= 1000
    assert a["i"].to_list() == b["i"].to_list()
    counts = dict(a.group_by("g").len().iter_rows())
    assert counts["small"] >= 25  # 1% of 1000 would be 10
    assert a["i"].n_unique() == a.height
    same, sampled = people.stratified_sample(frame.head(50), 1000, "g")
    assert not sampled and same.height == 50


def test_truncate():
    assert text.truncate("a  b\n c") == "a b c"
    assert text.truncate("x" * 300, 10) == "x" * 9 + "…"
    assert text.truncate(None) == ""


# ---- on the demo database (positions from a fixed frame, no model needed) ------------------------


def _hash_scores(con) -> pl.DataFrame:
    """Deterministic stand-in positions for every candidate text: derived from its md5 (not a model)."""
    return con.sql(
        """SELECT text_hash,
                  (('x' || substr(text_hash, 1, 6))::BIT::INTEGER % 2001) / 1000.0 - 1.0 AS self_expression,
                  (('x' || substr(text_hash, 7, 6))::BIT::INTEGER % 2001) / 1000.0 - 1.0 AS secular
           FROM candidates"""
    ).pl()


def test_revealed_positions_on_the_demo_match_an_independent_sql_computation(demo_db):
    import duckdb

    from analysis.filters import Filters

    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        scores = _hash_scores(con)
        got = positions.revealed_positions(con, Filters(countries=("India", "France")), scores=scores)
        con.register("sc", scores)
        want = con.sql(
            """WITH f AS (SELECT * FROM comparison_facts WHERE country IN ('India', 'France')),
               offered AS (  -- a text shown in two slots is one offered text
                 SELECT comparison_id, unnest(list_distinct([a_hash, b_hash, c_hash, d_hash])) AS h FROM f),
               centre AS (
                 SELECT o.comparison_id, avg(s.self_expression) AS mx, avg(s.secular) AS my
                 FROM offered o JOIN sc s ON s.text_hash = o.h GROUP BY 1),
               per AS (
                 SELECT f.annotator_id, ch.self_expression - m.mx AS dx, ch.secular - m.my AS dy
                 FROM f JOIN sc ch ON ch.text_hash = f.chosen_hash JOIN centre m USING (comparison_id))
               SELECT annotator_id, count(*) AS n, avg(dx) AS x, avg(dy) AS y FROM per GROUP BY 1 ORDER BY 1"""
        ).pl()
    finally:
        con.close()
    assert set(got["country"].unique()) == {"India", "France"}
    assert got["annotator_id"].to_list() == want["annotator_id"].to_list()
    assert got["n"].to_list() == want["n"].to_list()
    np.testing.assert_allclose(got["self_expression"].to_numpy(), want["x"].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(got["secular"].to_numpy(), want["y"].to_numpy(), atol=1e-9)


def test_offered_points_and_people_data_on_the_demo(demo_db):
    import duckdb

    from analysis.filters import Filters

    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        scores = _hash_scores(con)
        n_comp = con.execute("SELECT count(*) FROM comparisons").fetchall()[0][0]
        n_offered = con.execute(  # distinct texts per comparison: a repeated slot is one offered text
            "SELECT sum(len(list_distinct([a_hash, b_hash, c_hash, d_hash]))) FROM comparisons"
        ).fetchall()[0][0]
        llm_fixed = con.sql(
            "SELECT text_hash, 0.5::DOUBLE AS self_expression, 0.5::DOUBLE AS secular FROM llm_responses"
        ).pl()
        llm_scores = pl.concat([llm_fixed, scores]).unique("text_hash", keep="first", maintain_order=True)
        pts = positions.offered_points(con, Filters(), scores=llm_scores)
        # one chosen candidate per comparison, each distinct offered text once
        assert pts.filter(pl.col("chosen")).height == n_comp
        assert pts.height == n_offered and n_offered < 4 * n_comp  # the demo has repeated slots
        pdata = positions.people_data(con, Filters(), scores=llm_scores, frame="revealed")
        md = positions.map_data(con, Filters(), scores=llm_scores, max_points=500, color_by="country")
    finally:
        con.close()
    assert pdata.quadrant is not None and pdata.quadrant.quadrant == (1, 1) and pdata.quadrant.llm_share == 1.0
    assert pdata.quadrant.human_share == pytest.approx(
        plane.share_in_quadrant(
            pts.filter(pl.col("chosen"))["x"].to_numpy(), pts.filter(pl.col("chosen"))["y"].to_numpy(), (1, 1)
        )
    )
    assert set(pdata.people["country"]) == {"United States", "France", "Italy", "Brazil", "India"}
    assert (pdata.people["n"] >= 3).all()
    kinds = set(pdata.table["kind"])
    assert {
        "people: revealed position (difference)",
        "chosen responses (absolute)",
        "LLM responses (absolute)",
    } <= kinds
    assert md.sampled and md.points.height <= 500 and md.n_total == pts.height
    assert md.points["text"].null_count() == 0 and md.points["prompt"].null_count() == 0
    assert md.llm.height > 0 and md.llm["synthetic"].all()


def test_density_grid_bins_every_point_in_a_symmetric_window():
    rng = np.random.default_rng(2)
    pts = rng.normal(0.3, 0.5, size=(5000, 2))
    g = plane.density_grid(pts[:, 0], pts[:, 1], bins=40, q=1.0)
    assert g.counts.shape == (40, 40)
    assert g.counts.sum() == 5000  # q=1: the window holds every point
    assert g.x[0] == pytest.approx(-g.x[-1])  # centred on the origin
    # counts are (y, x): the row of the largest y holds points with large y
    top = pts[pts[:, 1] > g.y[-1] - (g.y[1] - g.y[0]) / 2]
    assert g.counts[-1].sum() == len(top)
    g2 = plane.density_grid(pts[:, 0], pts[:, 1], bins=40, q=0.9)
    assert g2.counts.sum() < 5000


def test_validity_notes_and_country_notes_name_the_flagged_cells():
    from analysis.pipeline import axes

    rows = [  # axis, scheme, language, n, correct: accuracy and interval follow (Wilson, checked in test_axes)
        ("self_expression", "topic", "en", 120, 100),
        ("secular", "topic", "en", 120, 96),
        ("self_expression", "topic", "hi", 120, 78),  # 65% [56%-73%]: flagged
        ("secular", "topic", "hi", 120, 100),
        ("secular", "language", "pt", 120, 80),  # 67% [58%-74%]: flagged, the other scheme
        ("self_expression", "topic", "all", 600, 500),
    ]
    validity = pl.DataFrame(
        [axes._cell(a, s, l, np.array([True] * k + [False] * (n - k))) for a, s, l, n, k in rows],
        schema=axes.VALIDITY_COLUMNS,
        orient="row",
    )
    notes = validity_notes.validity_notes(validity)
    assert [lv for lv, _ in notes] == ["error"]
    assert "Hindi, survival / self-expression axis: held-out accuracy 65%" in notes[0][1]
    assert "don't read Hindi positions on this axis as findings" in notes[0][1]
    assert validity_notes.weak_summary(validity) == (
        "With the language left out of the fit, these cells reach down to 60%: Portuguese y 67% [58%–74%]."
    )
    countries = validity_notes.country_notes(validity)
    assert len(countries) == 1 and countries[0].startswith("India:")
    table = validity_notes.display_table(validity)
    assert table["finding?"].to_list()[:6] == ["yes", "yes", "no: interval reaches 60%", "yes",
                                               "no: interval reaches 60%", "yes"]  # fmt: skip
    assert table.filter(pl.col("held out") == "the research's LLM judge")["accuracy"].to_list() == [0.783, 0.858]
    assert (
        validity_notes.validity_notes(validity.head(0)) == [] and validity_notes.country_notes(validity.head(0)) == []
    )


def test_density_grid_for_a_map_away_from_the_origin_spans_the_data():
    rng = np.random.default_rng(3)
    pts = rng.normal([10.0, -4.0], 1.0, size=(2000, 2))  # UMAP-like coordinates
    g = plane.density_grid(pts[:, 0], pts[:, 1], bins=30, q=1.0, symmetric=False)
    assert g.counts.sum() == 2000
    assert g.x.min() > 5 and g.y.max() < 0
