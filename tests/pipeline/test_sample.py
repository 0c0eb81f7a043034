"""The stratified sample order: equal allocation across strata, random within, deterministic, and the job's text
order (the sample's texts first, every text once)."""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest

from analysis import schema
from analysis.pipeline import sample


@pytest.fixture(scope="module")
def con(demo_db):
    with duckdb.connect(str(demo_db), read_only=True) as c:
        yield c


@pytest.fixture(scope="module")
def ordered(con):
    return con.execute(
        f"SELECT comparison_id, stratum, rank, stratum_n, sample_order FROM ({sample.ordered_comparisons_sql()}) "
        "ORDER BY sample_order"
    ).fetchall()


def test_every_comparison_is_ordered_once(con, ordered):
    assert len(ordered) == con.execute("SELECT count(*) FROM comparisons").fetchall()[0][0]
    assert [r[4] for r in ordered] == list(range(1, len(ordered) + 1))
    assert len({r[0] for r in ordered}) == len(ordered)


def test_a_prefix_is_an_equal_allocation_over_the_strata(ordered):
    sizes = {r[1]: r[3] for r in ordered}
    for prefix in (len(sizes), 3 * len(sizes), 10 * len(sizes)):
        counts = Counter(r[1] for r in ordered[:prefix])
        k = prefix // len(sizes)
        for stratum, size in sizes.items():
            # every stratum has its k first (or all it has); none runs more than one ahead
            assert min(size, k) <= counts[stratum] <= k + 1, stratum
    strata = {r[1] for r in ordered}
    assert {s.split(" | ")[0] for s in strata} == set(schema.COUNTRIES)
    assert {s.split(" | turn ")[1] for s in strata} == {"1", "2", "3", "4"}


def test_within_a_stratum_the_order_is_a_seeded_shuffle(con, ordered):
    stratum = ordered[0][1]
    ids = [r[0] for r in ordered if r[1] == stratum]
    assert ids != sorted(ids)  # not the id order
    again = con.execute(
        f"SELECT comparison_id FROM ({sample.ordered_comparisons_sql(seed=0)}) WHERE stratum = ? ORDER BY rank",
        [stratum],
    ).fetchall()
    assert [r[0] for r in again] == ids
    other = con.execute(
        f"SELECT comparison_id FROM ({sample.ordered_comparisons_sql(seed=1)}) WHERE stratum = ? ORDER BY rank",
        [stratum],
    ).fetchall()
    assert [r[0] for r in other] != ids


def test_the_job_embeds_the_sample_texts_first_and_every_text_once(con, ordered):
    order = sample.texts_in_order(con)
    total = con.execute("SELECT count(*) FROM (SELECT text_hash FROM candidates UNION SELECT prompt_hash FROM prompts "
                        "UNION SELECT text_hash FROM llm_responses)").fetchall()[0][0]  # fmt: skip
    assert len(order) == len(set(order)) == total
    first = ordered[0][0]
    hashes = con.execute(
        f"SELECT {', '.join(schema.HASH_COLUMNS)} FROM comparisons WHERE comparison_id = ?", [first]
    ).fetchall()[0]
    assert set(h for h in hashes if h) <= set(order[:4])  # the first sampled comparison's texts lead
    prompts = {r[0] for r in con.execute("SELECT prompt_hash FROM prompts").fetchall()}
    candidates = {r[0] for r in con.execute("SELECT text_hash FROM candidates").fetchall()}
    last_candidate = max(i for i, h in enumerate(order) if h in candidates)
    assert all(i > last_candidate for i, h in enumerate(order) if h in prompts - candidates)
