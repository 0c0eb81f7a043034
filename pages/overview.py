"""Overview: what the loaded data holds, under the global filters."""

from __future__ import annotations

import math

import streamlit as st

from analysis.explore import overview
from analysis.filters import Filters
from charts import dashboard
from ui import db, sidebar, state, widgets

MEASURES = ["comparisons", "conversations", "annotators"]


def headline(filters: Filters) -> bool:
    """The six headline counts; False when nothing matches the filters."""
    totals = db.cached(overview.totals, filters)
    if not totals["comparisons"]:
        st.warning("No comparisons match these filters. Widen them in the sidebar (or press **Clear filters**).")
        return False
    cols = st.columns(6)
    cols[0].metric("Comparisons", f"{totals['comparisons']:,}", help="One 4-way choice = one comparison (a turn).")
    cols[1].metric("Conversations", f"{totals['conversations']:,}")
    cols[2].metric("Annotators", f"{totals['annotators']:,}")
    cols[3].metric("Distinct prompts", f"{totals['prompts']:,}")
    share = totals["feedback_share"]
    cols[4].metric("Turns with written feedback", "—" if math.isnan(share) else f"{share:.0%}")
    cols[5].metric(
        "Turns showing a text twice", f"{totals['with_repeated_candidate']:,}",
        help="Candidate sets where two slots hold the identical text. A choice between them is one text: agreement "
        "and positions count it once.",
    )  # fmt: skip
    return True


def countries_and_languages(filters: Filters) -> None:
    st.header("Countries and languages")
    by_cl = db.cached(overview.by_country_language, filters)
    measure = state.url_widget(
        st.segmented_control, "Count", key="ov_measure", default="comparisons",
        read_args={"choices": MEASURES}, options=MEASURES, required=True, format_func=str.capitalize,
    ) or "comparisons"  # fmt: skip
    widgets.chart(
        dashboard.country_language_bars(by_cl, measure), "by_country_language",
        f"Reading: bar height = {measure} per annotator country; colours split it by the language the conversation "
        "was assigned (each country mostly answers in its own language).",
        key="ov_country_chart",
    )  # fmt: skip
    with st.expander("Table: by country and language"):
        widgets.table(by_cl, "by_country_language", key="ov_country_table")


def demographics(filters: Filters) -> None:
    st.header("Annotator demographics")
    demo = db.cached(overview.demographics, filters)
    dims = list(overview.DEMOGRAPHICS.values())
    for tab, dim in zip(st.tabs(dims), dims, strict=True):
        with tab:
            widgets.chart(
                dashboard.share_bars_h(demo.filter(demo["dimension"] == dim), dim), f"demographics_{dim}",
                f"Reading: how many distinct annotators (under the filters) gave each {dim.lower()} answer; "
                "labels are shares of annotators.",
                key=f"ov_demo_{dim}",
            )  # fmt: skip
    with st.expander("Table: demographics"):
        widgets.table(demo, "demographics", key="ov_demo_table")


def effort(filters: Filters) -> None:
    st.header("Effort per annotator and per conversation")
    left, right = st.columns(2)
    with left:
        per_ann = db.cached(overview.conversations_per_annotator, filters)
        median = float(per_ann["conversations"].median()) if per_ann.height else 0.0
        widgets.chart(
            dashboard.histogram(per_ann["conversations"], "Conversations per annotator", "Annotators"),
            "conversations_per_annotator",
            f"Reading: most annotators did a few conversations, some many; the dashed line is the median "
            f"({median:.3g}).",
            key="ov_per_annotator",
        )
        with st.expander("Table: conversations per annotator"):
            widgets.table(per_ann, "conversations_per_annotator", key="ov_per_annotator_table")
    with right:
        turns = db.cached(overview.turns_per_conversation, filters)
        widgets.chart(
            dashboard.count_bars(turns, "turns", "conversations", "Turns in the conversation", "Conversations"),
            "turns_per_conversation",
            "Reading: a conversation has up to four turns (four candidates, one choice each); counts only the turns "
            "the filters keep.",
            key="ov_turns",
        )
        with st.expander("Table: turns per conversation"):
            widgets.table(turns, "turns_per_conversation", key="ov_turns_table")


def feedback(filters: Filters) -> None:
    st.header("Written feedback")
    fb = db.cached(overview.feedback_share, filters)
    widgets.chart(
        dashboard.feedback_lines(fb), "feedback_share",
        "Reading: of the turns in each country, the share where the annotator also wrote why they chose (the release "
        "reports explanations on about 44% of comparisons).",
        key="ov_feedback",
    )  # fmt: skip
    with st.expander("Table: feedback by country and turn"):
        widgets.table(fb, "feedback_share", key="ov_feedback_table")


def position_bias(filters: Filters) -> None:
    st.header("Position bias of choices")
    pb = db.cached(overview.position_bias, filters)
    widgets.chart(
        dashboard.position_bias_bars(pb), "position_bias",
        "Reading: with four candidates shown in random order, an unbiased annotator picks each position 25% of the "
        "time (dashed line); bars above it mean that position is favoured.",
        key="ov_position",
    )  # fmt: skip
    with st.expander("Table: position bias"):
        widgets.table(pb, "position_bias", key="ov_position_table")


def main() -> None:
    state.page_start("ov_")
    filters = sidebar.current_filters()
    st.title("Dataset overview")
    synthetic = db.open_database().get("synthetic")
    st.caption(
        "Who answered, in which language, how much, and how they chose — for the filters in the sidebar. "
        + ("(Synthetic demo data.)" if synthetic else "")
    )
    if not headline(filters):
        return
    countries_and_languages(filters)
    demographics(filters)
    effort(filters)
    feedback(filters)
    position_bias(filters)


main()
