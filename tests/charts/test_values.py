"""The Values map's figures: candidates (points or density), people against LLMs; hover texts escape the data."""

from __future__ import annotations

import numpy as np
import polars as pl

from analysis.explore import plane as plane_maths
from charts import plane, values


def _points() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "rid": [0, 1, 2, 3],
            "x": [0.5, -0.4, 0.1, 0.9],
            "y": [0.2, -0.6, 0.3, -0.1],
            "chosen": [True, False, False, True],
            "country": ["India", "France", None, "India"],
            "language": ["hi", "fr", "en", "hi"],
            "text": ["<b>bold</b> answer", "second", "third", "fourth"],
            "prompt": ["p", "p", "q", "q"],
        }
    )


def _llm() -> pl.DataFrame:
    return pl.DataFrame(
        {"llm": ["m<i>"], "synthetic": [False], "x": [0.7], "y": [0.8], "text": ["an answer"], "prompt": ["p"]}
    )


def test_candidates_figure_one_trace_per_group_plus_llms():
    fig = values.candidates_figure(_points(), "country", "iw", note="note", llm=_llm())
    names = [t.name for t in fig.data]
    assert names[:3] == ["France", "India", "(unknown)"]  # the study's order first, then the rest
    assert names[-1].startswith("LLM answers (1 model")
    india = fig.data[names.index("India")]
    assert list(india.customdata[:, 0]) == [0, 3]  # row ids, so a selection maps back to rows
    assert fig.layout.xaxis.title.text == plane.X_TITLE and fig.layout.title.text == "note"


def test_hover_escapes_html_in_data():
    fig = values.candidates_figure(_points(), "chosen", "iw", llm=_llm())
    hovers = " ".join(str(h) for t in fig.data for h in np.asarray(t.customdata)[:, 1])
    assert "&lt;b&gt;bold&lt;/b&gt;" in hovers and "<b>bold</b>" not in hovers
    assert "m&lt;i&gt;" in " ".join(str(v) for v in fig.data[-1].customdata[:, 2])


def test_density_figure_draws_bins_not_points():
    pts = _points()
    grid = plane_maths.density_grid(pts["x"].to_numpy(), pts["y"].to_numpy(), bins=4)
    fig = values.candidates_figure(pts.head(0), "chosen", "iw", grid=grid)
    assert [t.type for t in fig.data] == ["heatmap"]
    assert np.nansum(np.asarray(fig.data[0].z, dtype=float)) == 4


def test_umap_view_has_no_plane_decoration():
    fig = values.candidates_figure(_points(), "language", "umap")
    assert fig.layout.xaxis.title.text == "UMAP 1" and not fig.layout.shapes
    assert {t.name for t in fig.data} == {"English", "French", "Hindi"}


def test_people_figure_clouds_ellipses_llms_and_quadrant():
    people = pl.DataFrame(
        {"annotator_id": ["a", "b", "c"], "country": ["India", "India", "France"], "x": [0.1, -0.2, 0.3],
         "y": [0.0, 0.1, -0.3], "n": [5, 6, 7]}
    )  # fmt: skip
    ellipse = plane_maths.ellipse((0.0, 0.0), np.eye(2) * 0.01)
    models = pl.DataFrame({"llm": ["m1"], "synthetic": [True], "n": [3], "x": [0.8], "y": [0.9]})
    fig = values.people_figure(people, {"India": ellipse}, models, quadrant=(1, 1), quadrant_label="LLMs",
                               origin=(0.05, 0.0))  # fmt: skip
    names = [t.name for t in fig.data]
    assert "France (people)" in names and "India (people)" in names and "India 95% ellipse" in names
    assert "m1 (synthetic)" in names and names[-1] == "centre of what was offered"
    assert any(s.type == "rect" for s in fig.layout.shapes)
