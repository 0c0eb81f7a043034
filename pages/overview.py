"""Overview: what the loaded data holds, under the global filters."""

from __future__ import annotations

import math

import streamlit as st

from analysis import dashboard_figures as F
from analysis import queries as Q
from ui import db, sidebar, state, widgets

state.ensure_app_shell()
state.own_page("ov_")
filters = sidebar.current_filters()

st.title("Dataset overview")
st.caption(
    "Who answered, in which language, how much, and how they chose — for the filters in the sidebar. "
    + ("(Synthetic demo data.)" if db.open_database().get("synthetic") else "")
)

totals = db.cached(Q.totals, filters)
if not totals["comparisons"]:
    st.warning("No comparisons match these filters. Widen them in the sidebar (or press **Clear filters**).")
    st.stop()

cols = st.columns(5)
cols[0].metric("Comparisons", f"{totals['comparisons']:,}", help="One 4-way choice = one comparison (a turn).")
cols[1].metric("Conversations", f"{totals['conversations']:,}")
cols[2].metric("Annotators", f"{totals['annotators']:,}")
cols[3].metric("Distinct prompts", f"{totals['prompts']:,}")
share = totals["feedback_share"]
cols[4].metric("Turns with written feedback", "—" if math.isnan(share) else f"{share:.0%}")

# ---- countries and languages ------------------------------------------------------------------------------------
st.header("Countries and languages")
by_cl = db.cached(Q.by_country_language, filters)
state.init("ov_measure", state.read_str("ov_measure", "comparisons", ["comparisons", "conversations", "annotators"]))
measure = st.segmented_control(
    "Count", ["comparisons", "conversations", "annotators"], key="ov_measure",
    required=True, format_func=str.capitalize,
)  # fmt: skip
measure = measure or "comparisons"
state.write("ov_measure", measure, default="comparisons")
fig = F.country_language_bars(by_cl, measure)
widgets.chart(
    fig, "by_country_language",
    f"Reading: bar height = {measure} per annotator country; colours split it by the language the conversation "
    "was assigned (each country mostly answers in its own language).",
    key="ov_country_chart",
)  # fmt: skip
with st.expander("Table: by country and language"):
    widgets.table(by_cl, "by_country_language", key="ov_country_table")

# ---- demographics -----------------------------------------------------------------------------------------------
st.header("Annotator demographics")
demo = db.cached(Q.demographics, filters)
dims = list(Q.DEMOGRAPHICS.values())
tabs = st.tabs(dims)
for tab, dim in zip(tabs, dims, strict=True):
    with tab:
        sub = demo.filter(demo["dimension"] == dim)
        fig = F.share_bars_h(sub, dim)
        widgets.chart(
            fig, f"demographics_{dim}",
            f"Reading: how many distinct annotators (under the filters) gave each {dim.lower()} answer; "
            "labels are shares of annotators.",
            key=f"ov_demo_{dim}",
        )  # fmt: skip
with st.expander("Table: demographics"):
    widgets.table(demo, "demographics", key="ov_demo_table")

# ---- effort -----------------------------------------------------------------------------------------------------
st.header("Effort per annotator and per conversation")
left, right = st.columns(2)
with left:
    per_ann = db.cached(Q.conversations_per_annotator, filters)
    median = float(per_ann["conversations"].median()) if per_ann.height else 0.0
    fig = F.histogram(per_ann["conversations"], "Conversations per annotator", "Annotators")
    widgets.chart(
        fig, "conversations_per_annotator",
        f"Reading: most annotators did a few conversations, some many; the dashed line is the median ({median:.3g}).",
        key="ov_per_annotator",
    )  # fmt: skip
    with st.expander("Table: conversations per annotator"):
        widgets.table(per_ann, "conversations_per_annotator", key="ov_per_annotator_table")
with right:
    turns = db.cached(Q.turns_per_conversation, filters)
    fig = F.count_bars(turns, "turns", "conversations", "Turns in the conversation", "Conversations")
    widgets.chart(
        fig, "turns_per_conversation",
        "Reading: a conversation has up to four turns (four candidates, one choice each); counts only the turns "
        "the filters keep.",
        key="ov_turns",
    )  # fmt: skip
    with st.expander("Table: turns per conversation"):
        widgets.table(turns, "turns_per_conversation", key="ov_turns_table")

# ---- feedback ---------------------------------------------------------------------------------------------------
st.header("Written feedback")
fb = db.cached(Q.feedback_share, filters)
fig = F.feedback_lines(fb)
widgets.chart(
    fig, "feedback_share",
    "Reading: of the turns in each country, the share where the annotator also wrote why they chose (the release "
    "reports explanations on about 44% of comparisons).",
    key="ov_feedback",
)  # fmt: skip
with st.expander("Table: feedback by country and turn"):
    widgets.table(fb, "feedback_share", key="ov_feedback_table")

# ---- position bias ----------------------------------------------------------------------------------------------
st.header("Position bias of choices")
pb = db.cached(Q.position_bias, filters)
fig = F.position_bias_bars(pb)
widgets.chart(
    fig, "position_bias",
    "Reading: with four candidates shown in random order, an unbiased annotator picks each position 25% of the "
    "time (dashed line); bars above it mean that position is favoured.",
    key="ov_position",
)  # fmt: skip
with st.expander("Table: position bias"):
    widgets.table(pb, "position_bias", key="ov_position_table")
