"""Populations and the choice model: the illustrative defaults, editing, and the choice probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.lab import codecs, population
from analysis.schema import COUNTRIES


def test_default_countries_follow_the_qualitative_map():
    pop = population.default_population()
    assert pop.names == COUNTRIES
    assert pop.illustrative
    g = {x.name: x for x in pop.groups}
    for low in ("India", "Brazil"):
        for high in ("France", "Italy"):
            assert g[low].x < g[high].x and g[low].y < g[high].y  # more survival and more traditional
    us = g["United States"]
    assert us.y < g["France"].y and us.y < g["Italy"].y  # comparatively traditional for a rich country
    assert us.x >= max(g["France"].x, g["Italy"].x)  # high on self-expression


def test_default_spread_within_a_country_exceeds_distance_between_countries():
    s = population.spread_summary(population.default_population())
    assert s["within"] > s["between"] > 0


def test_rows_round_trip_and_url_round_trip():
    groups = population.default_population().groups
    assert population.groups_from_rows(population.groups_to_rows(groups)) == groups
    assert codecs.groups_from_param(codecs.groups_to_param(groups)) == groups


@pytest.mark.parametrize(
    "rows, fragment",
    [
        ([{"name": "A", "x": "left", "y": 0, "spread": 0.1, "share": 1}], "x must be a number"),
        ([{"name": "A", "x": 0, "y": 0, "spread": 0.1, "share": float("nan")}], "finite"),
        ([], "empty"),
    ],
)
def test_bad_rows_say_what_is_wrong(rows, fragment):
    with pytest.raises(ValueError, match=fragment):
        population.groups_from_rows(rows)


def test_invalid_population_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="spread must be >= 0"):
        population.Population((population.Group("A", 0, 0, -1, 1),))
    with pytest.raises(ValueError, match="distinct"):
        population.Population((population.Group("A", 0, 0, 0.1, 1), population.Group("A", 1, 0, 0.1, 1)))
    with pytest.raises(ValueError, match="shares add up to 0"):
        population.Population((population.Group("A", 0, 0, 0.1, 0),))
    with pytest.raises(ValueError, match="beta"):
        population.ChoiceModel("ideal", -1)


def test_allocation_by_share_and_annotator_draws():
    assert population.allocate(10, np.array([1, 1, 1])).tolist() == [4, 3, 3]
    assert population.allocate(1000, np.array([0.5, 0.25, 0.25])).tolist() == [500, 250, 250]
    pop = population.Population((population.Group("A", 1.0, 0.0, 0.1, 3), population.Group("B", -1.0, 0.0, 0.1, 1)))
    ann = population.sample_annotators(pop, 4000, np.random.default_rng(0))
    assert (ann.group == 0).sum() == 3000
    assert np.allclose(ann.ideal[ann.group == 0].mean(0), [1, 0], atol=0.01)
    assert np.isclose(ann.ideal[ann.group == 1].std(0).mean(), 0.1, atol=0.01)


def test_latent_population_has_k_hidden_types():
    pop = population.latent_population(4, radius=0.5, seed=1)
    assert pop.mode == "latent" and len(pop.groups) == 4
    assert np.allclose(np.linalg.norm(pop.ideals, axis=1), 0.5, atol=1e-3)


def test_choice_frequencies_follow_the_logit_probabilities():
    rng = np.random.default_rng(0)
    cands = np.array([[[0, 0], [1, 0], [0, 1], [-1, -1]]], dtype=float)
    ideal = np.array([[0.4, 0.1]])
    model = population.ChoiceModel("ideal", 2.0)
    p = population.choice_probabilities(cands, ideal, model)[0]
    u = -np.sum((cands[0] - ideal[0]) ** 2, axis=1)
    assert np.allclose(p, np.exp(2 * u) / np.exp(2 * u).sum())
    n = 40000
    picks = population.sample_choices(np.repeat(cands, n, 0), np.repeat(ideal, n, 0), model, rng)
    freq = np.bincount(picks, minlength=4) / n
    assert np.allclose(freq, p, atol=0.01)


def test_beta_controls_rationality_and_linear_utility_points_a_direction():
    cands = np.array([[[0, 0], [1, 0], [2, 0]]], dtype=float)
    ideal = np.array([[1.0, 0.0]])
    assert np.allclose(population.choice_probabilities(cands, ideal, population.ChoiceModel("ideal", 0.0)), 1 / 3)
    assert population.choice_probabilities(cands, ideal, population.ChoiceModel("ideal", 50.0))[0, 1] > 0.99
    lin = population.choice_probabilities(cands, ideal, population.ChoiceModel("linear", 5.0))[0]
    assert lin[2] > lin[1] > lin[0]  # linear: further along w is always better
