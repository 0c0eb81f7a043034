"""Sampling strategies: statistical behaviour with the defaults, determinism, pool selection, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analysis.lab import codecs, pasted, sampling_report, strategies
from analysis.lab import pool as pool_lab
from analysis.lab.diversity import coverage, hull_area_batch, mean_pairwise_cosine_distance_batch, vendi_batch
from analysis.pipeline import embed, models

ROOT = Path(__file__).resolve().parents[2]
N = 3000


@pytest.fixture(scope="module")
def cov_by_strategy():
    return {s: coverage(strategies.draw_sets(s, N, 4, seed=11)) for s in strategies.STRATEGIES}


def test_nc_covers_the_minority_poles_more_than_persona_and_multi_more_than_iid(cov_by_strategy):
    c = cov_by_strategy
    for pole in ("traditional", "survival"):
        assert c["nc"][pole] > c["persona"][pole] + 0.1, pole
        assert c["nc"][pole] > c["multi"][pole] + 0.1, pole
        assert c["persona"][pole] > c["iid"][pole] + 0.03, pole
        assert c["multi"][pole] > c["iid"][pole] + 0.03, pole
        assert abs(c["persona"][pole] - c["multi"][pole]) < 0.1, pole  # persona ~ multi
    # NC reaches the traditional pole several times as often as temperature sampling.
    assert c["nc"]["traditional"] > 3 * c["iid"]["traditional"]


def test_the_tuned_defaults_still_give_what_they_were_tuned_to(cov_by_strategy):
    """A regression pin, not evidence: the illustrative defaults were TUNED to land near the paper's coverage@4
    (iid ~15% traditional / ~30% survival; NC ~60% / ~53%), so agreement with the paper is by construction. This
    fails when a change to the strategies moves the lab away from the tuning it documents."""
    c = cov_by_strategy
    assert 0.08 <= c["iid"]["traditional"] <= 0.25
    assert 0.20 <= c["iid"]["survival"] <= 0.40
    assert 0.48 <= c["nc"]["traditional"] <= 0.72
    assert 0.42 <= c["nc"]["survival"] <= 0.65
    # Models sit near the secular-rational / self-expression corner: those poles are covered by everyone.
    for s in strategies.STRATEGIES:
        assert c[s]["secular"] > 0.6 and c[s]["self_expression"] > 0.6


def test_default_models_sit_in_the_secular_self_expression_corner():
    xs = [m.center[0] for m in strategies.DEFAULT_MODELS]
    ys = [m.center[1] for m in strategies.DEFAULT_MODELS]
    assert len(strategies.DEFAULT_MODELS) >= 3
    assert np.mean(xs) > 0 and np.mean(ys) > 0
    assert all(-1.5 <= v <= 1.5 for v in xs + ys)
    assert all("illustrative" in m.name for m in strategies.DEFAULT_MODELS)


def test_shape_and_determinism_by_seed():
    for s in strategies.STRATEGIES:
        a = strategies.draw_sets(s, 50, 6, seed=3)
        assert a.shape == (50, 6, 2)
        assert np.array_equal(a, strategies.draw_sets(s, 50, 6, seed=3))
        assert not np.array_equal(a, strategies.draw_sets(s, 50, 6, seed=4))
        assert np.array_equal(a, strategies.draw_sets(s, 50, 6, seed=np.random.default_rng(3)))


def test_nc_at_strength_zero_equals_iid_and_strength_raises_diversity():
    p0 = replace(strategies.StrategyParams(), nc_strength=0.0)
    assert np.allclose(strategies.draw_sets("nc", 100, 4, 9, p0), strategies.draw_sets("iid", 100, 4, 9))
    lo = vendi_batch(strategies.draw_sets("nc", 500, 4, 9, replace(p0, nc_strength=0.2))).mean()
    hi = vendi_batch(strategies.draw_sets("nc", 500, 4, 9, replace(p0, nc_strength=0.9))).mean()
    assert hi > lo


def test_prompt_offsets_are_shared_by_all_strategies():
    still = tuple(replace(m, spread=0.0) for m in strategies.DEFAULT_MODELS)
    p = replace(strategies.StrategyParams(), models=still, persona_pull=0.0, nc_strength=0.0)
    iid = strategies.draw_sets("iid", 40, 7, 2, p)
    multi = strategies.draw_sets("multi", 40, 7, 2, p)
    off_iid = iid[:, 0] - np.array(still[0].center)
    assert np.std(off_iid) > 0.1  # prompts really do differ
    for j in range(7):
        m = still[j % len(still)]  # multi cycles through the models when k > models
        assert np.allclose(multi[:, j] - np.array(m.center), off_iid)
    assert np.allclose(strategies.draw_sets("persona", 40, 7, 2, p), iid)  # pull 0: personas move nothing


def test_persona_pull_moves_draws_toward_the_persona():
    still = (replace(strategies.DEFAULT_MODELS[0], spread=0.0),)
    p = replace(strategies.StrategyParams(), models=still, personas=((0.0, -1.0),), persona_pull=0.5, prompt_spread=0.0)
    pts = strategies.draw_sets("persona", 5, 2, 0, p)
    c = np.array(still[0].center)
    assert np.allclose(pts, c + 0.5 * (np.array([0.0, -1.0]) - c))


def test_temperature_scales_the_spread():
    cold = strategies.draw_sets("iid", 500, 4, 1, replace(strategies.StrategyParams(), temperature=0.3))
    hot = strategies.draw_sets("iid", 500, 4, 1, replace(strategies.StrategyParams(), temperature=1.5))
    within = lambda a: np.std(a - a.mean(axis=1, keepdims=True))  # noqa: E731
    assert within(hot) == pytest.approx(5 * within(cold), rel=1e-9)


def test_bad_knobs_are_explained():
    with pytest.raises(ValueError, match="unknown strategy"):
        strategies.draw_sets("beam", 10, 4, 0)
    with pytest.raises(ValueError, match="k"):
        strategies.draw_sets("iid", 10, 0, 0)
    with pytest.raises(ValueError, match="nc_strength"):
        strategies.StrategyParams(nc_strength=1.5)
    with pytest.raises(ValueError, match="at least one model"):
        strategies.StrategyParams(models=())
    with pytest.raises(ValueError, match="row 1"):
        strategies.models_from_rows([{"name": "m", "x": "left", "y": 0, "spread": 0.3}])
    rows = strategies.models_to_rows(strategies.DEFAULT_MODELS)
    assert strategies.models_from_rows(rows) == strategies.DEFAULT_MODELS


def _clustered_pool():
    """Three tight clusters of embeddings (directions e0, e1, e2) with matching plane positions."""
    rng = np.random.default_rng(0)
    dirs = np.eye(3)
    emb = np.concatenate([dirs[c] + 0.01 * rng.standard_normal((5, 3)) for c in range(3)])
    where = np.array([[0.5, 0.5], [-1.0, 0.0], [0.0, -1.0]])
    pos = np.concatenate([where[c] + 0.02 * rng.standard_normal((5, 2)) for c in range(3)])
    cluster = np.repeat(np.arange(3), 5)
    return emb, pos, cluster


@pytest.mark.parametrize("method", ["dpp", "farthest"])
def test_diverse_pool_selection_takes_one_from_each_cluster(method):
    emb, pos, cluster = _clustered_pool()
    idx = pool_lab.select_from_pool(method, emb, pos, 3, seed=1)
    assert sorted(cluster[idx]) == [0, 1, 2]


def test_nearest_and_random_pool_selection():
    emb, pos, cluster = _clustered_pool()
    near = pool_lab.select_from_pool("nearest", emb, pos, 3, seed=0, target=(0.5, 0.5))
    assert set(cluster[near]) == {0}
    r1 = pool_lab.select_from_pool("random", emb, pos, 4, seed=5)
    assert len(set(r1.tolist())) == 4 and np.array_equal(r1, pool_lab.select_from_pool("random", emb, pos, 4, seed=5))
    with pytest.raises(ValueError, match="fewer than k"):
        pool_lab.select_from_pool("dpp", emb, pos, 16, seed=0)
    with pytest.raises(ValueError, match="same"):
        pool_lab.select_from_pool("dpp", emb, pos[:3], 2, seed=0)


def test_cli_json_shape():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "sample",
            "--strategy",
            "nc",
            "--k",
            "4",
            "--prompts",
            "400",
            "--seed",
            "2",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    res = json.loads(out.stdout)
    assert res["strategy"] == "nc" and res["k"] == 4 and res["illustrative"] is True
    assert set(res["coverage"]) == {"traditional", "secular", "survival", "self_expression"}
    assert all(0.0 <= v <= 1.0 for v in res["coverage"].values())
    # Same numbers as the library for the same seed, metric by metric.
    sets = strategies.draw_sets("nc", 400, 4, 2)
    assert res["coverage"] == coverage(sets)
    assert res["vendi"] == pytest.approx(float(vendi_batch(sets).mean()))
    assert res["hull_area"] == pytest.approx(float(hull_area_batch(sets).mean()))
    assert res["mean_pairwise_distance"] == pytest.approx(float(mean_pairwise_cosine_distance_batch(sets).mean()))
    assert res["threshold"] == 0.5


def _pool_frame():
    """Six prompts, each with ten responses: five near the model's corner, five spread over the poles."""
    import polars as pl

    rng = np.random.default_rng(3)
    rows, emb = [], []
    corner = np.array([0.5, 0.4])
    spread = np.array([[0.0, -1.0], [-1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [-0.9, -0.9]])
    for p in range(6):
        for j in range(10):
            xy = corner + 0.05 * rng.standard_normal(2) if j < 5 else spread[j - 5] + 0.05 * rng.standard_normal(2)
            rows.append({"prompt_hash": f"p{p}", "text_hash": f"p{p}t{j}", "self_expression": xy[0], "secular": xy[1]})
            e = np.zeros(8)
            e[0 if j < 5 else j - 4] = 1.0  # corner responses share one direction; the others are distinct
            emb.append(e + 0.02 * rng.standard_normal(8))
    return pl.DataFrame(rows), np.array(emb)


def test_pool_methods_rank_as_expected_on_real_shaped_data():
    import polars as pl

    pool, emb = _pool_frame()
    df = pool_lab.evaluate_pool(pool, emb, k=4, seeds=3, threshold=0.5, target=(0.5, 0.4))
    get = lambda m, metric: df.filter((pl.col("strategy") == m) & (pl.col("metric") == metric))["mean"][0]  # noqa: E731
    assert get("nearest", "coverage_traditional") == 0.0  # the four closest to the corner never leave it
    assert get("dpp", "vendi_embedding") > get("random", "vendi_embedding") > get("nearest", "vendi_embedding")
    assert get("dpp", "coverage_traditional") + get("dpp", "coverage_survival") > 1.0
    assert get("farthest", "mean_pairwise_distance_embedding") > get("nearest", "mean_pairwise_distance_embedding")
    assert set(df["n_prompts"]) == {6}
    with pytest.raises(pool_lab.PoolUnavailable, match="at least 12"):
        pool_lab.evaluate_pool(pool, emb, k=6, seeds=1)


def test_load_pool_from_the_demo_database(demo_db, tmp_path):
    """The pool loader's joins on a real demo database: stored vectors (random here: this checks the plumbing, not
    the embedding model) for all but a few texts, positions from a scores frame."""
    import shutil

    import polars as pl

    from analysis.store import connect

    db = tmp_path / "pool.duckdb"
    shutil.copy(demo_db, db)
    con = connect(db, read_only=False)
    hashes = con.sql("SELECT text_hash FROM candidates UNION SELECT text_hash FROM llm_responses").pl()["text_hash"]
    hashes = hashes.sort().to_list()
    rng = np.random.default_rng(0)
    embed.ensure_table(con)
    key = models.model_key(None)
    vec = pl.DataFrame({"text_hash": hashes[5:], "vector": rng.standard_normal((len(hashes) - 5, 6)).tolist()})
    con.register("v", vec)
    con.execute("INSERT INTO embeddings SELECT ?, text_hash, vector::FLOAT[] FROM v", [key]).fetchall()
    con.unregister("v")
    scores = pl.DataFrame(
        {
            "text_hash": hashes,
            "self_expression": rng.uniform(-1, 1, len(hashes)),
            "secular": rng.uniform(-1, 1, len(hashes)),
        }
    )
    sizes = {}
    for source in pool_lab.POOL_SOURCES:
        pool, emb = pool_lab.load_pool(con, source, None, scores=scores)
        assert emb.shape == (pool.height, 6) and not np.isnan(emb).any()
        assert not set(hashes[:5]) & set(pool["text_hash"])  # responses without a vector are left out
        sizes[source] = pool.height
    assert sizes["both"] > sizes["candidates"] and sizes["both"] > sizes["llm"]
    df = pool_lab.evaluate_pool(*pool_lab.load_pool(con, "both", None, scores=scores), k=4, seeds=2)
    assert df["n_prompts"][0] > 10
    con.close()


def test_greedy_dpp_matches_a_naive_log_det_greedy():
    rng = np.random.default_rng(4)
    emb = rng.standard_normal((25, 6))
    pos = rng.uniform(-1, 1, (25, 2))
    target = (0.5, 0.4)
    got = pool_lab.select_from_pool("dpp", emb, pos, 5, seed=0, target=target)
    u = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    kern = u @ u.T + 1e-6 * np.eye(25)
    chosen = [int(np.argmin(np.linalg.norm(pos - np.array(target), axis=1)))]
    while len(chosen) < 5:
        dets = [
            np.linalg.det(kern[np.ix_(chosen + [j], chosen + [j])]) if j not in chosen else -np.inf for j in range(25)
        ]
        chosen.append(int(np.argmax(dets)))
    assert got.tolist() == chosen


@pytest.mark.slow
def test_pasted_candidates_are_embedded_placed_and_scored():
    texts = [
        "God and religion must guide every decision; obey tradition and respect your elders' authority.",
        "Religion has no place in this decision; rely on science, evidence and reason.",
        "Do what makes you happy; express yourself and live your own life.",
    ]
    res = pasted.score_candidates(texts, threshold=0.5)
    pos = res["positions"]
    assert pos.shape == (3, 2) and np.isfinite(pos).all()
    assert pos[1, 1] > pos[0, 1]  # the secular statement sits above the traditional one
    m = res["metrics"]
    assert m["k"] == 3 and 1.0 <= m["vendi"] <= 3.0
    assert 1.0 <= m["vendi_embedding"] <= 3.0  # embeddings were available, so the embedding metrics are there
    with pytest.raises(ValueError, match="at least 2"):
        pasted.parse_candidates("just one\n\n")


def test_headline_sentence_is_computed_from_the_table():
    from analysis.lab.evaluation import evaluate

    df = evaluate(["iid", "nc"], 500, 4, [0])
    text = sampling_report.headline(df)
    get = lambda s, m: df.filter((df["strategy"] == s) & (df["metric"] == m))["mean"][0]  # noqa: E731
    assert f"traditional pole for {get('nc', 'coverage_traditional'):.0%}" in text
    assert f"against {get('iid', 'coverage_traditional'):.0%}" in text
    assert f"{get('nc', 'coverage_traditional') / get('iid', 'coverage_traditional'):.1f}×" in text
    assert sampling_report.headline(evaluate(["iid"], 50, 4, [0])) is None


def test_personas_round_trip():
    p = replace(
        strategies.StrategyParams(),
        temperature=0.7,
        personas=((0.1, -0.9), (-1.2, 0.3)),
        models=(strategies.ModelProfile("a | b", (0.1, 0.2), 0.3),),
    )
    assert codecs.personas_from_query(codecs.personas_to_query(p.personas)) == (p.personas, None)
    personas, problem = codecs.personas_from_query("[[1]]")
    assert personas == strategies.DEFAULT_PERSONAS and "could not be read" in problem


def test_pool_examples_draw_every_method_from_the_same_prompts():
    pool, emb = _pool_frame()
    ex = pool_lab.pool_examples(pool, emb, k=4, n_examples=3, seed=1, target=(0.5, 0.4))
    assert len(ex["prompt_hashes"]) == 3 and len(ex["pool"]) == 3
    assert set(ex["sets"]) == set(pool_lab.POOL_METHODS)
    for m, sets in ex["sets"].items():
        assert sets.shape == (3, 4, 2)
        for chosen, available in zip(sets, ex["pool"]):  # every chosen point comes from that prompt's pool
            assert all(np.any(np.all(np.isclose(available, pt), axis=1)) for pt in chosen), m
    assert np.all(np.linalg.norm(ex["sets"]["nearest"] - np.array([0.5, 0.4]), axis=-1) < 0.3)


def test_cli_bad_input_and_readable_table(capsys):
    from analysis.__main__ import main

    assert main(["sample", "--nc-strength", "2"]) == 2
    assert "nc_strength must lie in [0, 1]" in capsys.readouterr().err
    assert main(["sample", "--pool", "candidates", "--db", "/nonexistent/x.duckdb"]) == 2
    assert "no database at" in capsys.readouterr().err
    assert main(["sample", "--strategy", "multi", "--prompts", "200", "--seeds", "3"]) == 0
    out = capsys.readouterr().out
    assert "ILLUSTRATIVE" in out and "coverage@k, traditional" in out and "[" in out  # intervals over 3 seeds


def test_moving_the_model_toward_a_pole_raises_its_coverage_monotonically():
    """A property of the simulation itself (not of the tuning): the closer the model sits to the traditional pole,
    the more sets reach it, for every strategy."""
    for s in ("iid", "nc"):
        covs = []
        for y in (0.6, 0.2, -0.2, -0.6):
            params = strategies.StrategyParams(models=(strategies.ModelProfile("m", (0.3, y), 0.5),))
            covs.append(coverage(strategies.draw_sets(s, 2000, 4, seed=3, params=params))["traditional"])
        assert covs == sorted(covs) and covs[-1] > covs[0] + 0.3, (s, covs)
