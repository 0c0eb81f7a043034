"""The values plane drawn once (charts.plane) and colours keyed by name (charts.colours)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from analysis import schema
from charts import colours, plane


def test_square_axes_and_pole_names():
    fig = go.Figure()
    plane.square_axes(fig, 1.5)
    plane.pole_names(fig, 1.5)
    assert fig.layout.xaxis.title.text == plane.X_TITLE and fig.layout.yaxis.title.text == plane.Y_TITLE
    assert tuple(fig.layout.xaxis.range) == (-1.5, 1.5) and tuple(fig.layout.yaxis.range) == (-1.5, 1.5)
    assert {a.text for a in fig.layout.annotations} == set(schema.POLE_LABELS.values())
    assert len(fig.layout.shapes) == 2  # the cross through the centre


def test_shaded_quadrant_and_thresholds():
    fig = go.Figure()
    plane.shade_quadrant(fig, (1, -1), 2.0, "LLMs here")
    rect = fig.layout.shapes[0]
    assert (rect.x0, rect.x1, rect.y0, rect.y1) == (0, 2.0, 0, -2.0)
    assert fig.layout.annotations[0].text == "LLMs here"
    fig = go.Figure()
    plane.pole_thresholds(fig, 0.5, 1.6)
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted({s.x0 for s in lines if s.x0 == s.x1}) == [-0.5, 0.5]
    assert sum(1 for s in fig.layout.shapes if s.type == "rect") == 2  # traditional and survival regions


def test_corner_labels_name_all_four_quadrants():
    fig = go.Figure()
    plane.corner_labels(fig, 1.6)
    texts = {a.text for a in fig.layout.annotations}
    assert texts == set(plane.CORNERS.values())
    for a in fig.layout.annotations:
        assert abs(a.x) < 1.6 and abs(a.y) < 1.6


def test_plane_limit_covers_the_points_and_has_a_floor():
    assert plane.plane_limit(np.array([0.1, -0.2]), minimum=1.2) == 1.2
    assert plane.plane_limit(np.array([3.0, -2.0]), q=1.0, pad=1.0) == pytest.approx(3.0)
    assert plane.plane_limit(np.array([np.nan])) == 1.2


def test_hull_ring_closes_and_rejects_degenerate_sets():
    ring = plane.hull_ring(np.array([[0, 0], [1, 0], [0, 1], [0.2, 0.2]], dtype=float))
    assert ring is not None and np.array_equal(ring[0], ring[-1]) and len(ring) == 4  # 3 hull vertices, closed
    assert plane.hull_ring(np.array([[0, 0], [1, 1], [2, 2]], dtype=float)) is None
    assert plane.hull_ring(np.array([[0, 0], [0, 0]], dtype=float)) is None


def test_colours_are_keyed_by_name_not_position():
    assert colours.country_colour("India") == colours.COUNTRY_COLOURS["India"]
    assert colours.country_colour("All countries") == colours.ALL_COLOUR
    # an unknown name gets the same colour every time, whatever else is on screen
    assert colours.country_colour("Atlantis") == colours.country_colour("Atlantis")
    assert colours.language_colour("hi") == colours.COUNTRY_COLOURS["India"]
    assert colours.colour_of("chosen", "chosen") == colours.CHOSEN_COLOURS["chosen"]
    assert colours.country_order(["Zed", "India", "France"]) == ["France", "India", "Zed"]
    assert colours.rgba("#ff0080", 0.5) == "rgba(255,0,128,0.5)"
