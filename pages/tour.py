"""Tour: the research's four findings as a guided sequence, each step a live view with its takeaway computed from the
numbers on screen, a link that opens exactly that step, "look deeper" links into the full pages, and the whole tour
as one HTML handout that works offline."""

from __future__ import annotations

import streamlit as st

from analysis.filters import Filters
from analysis.lab.prefs_data import GROUPING_LABELS, GROUPINGS
from charts.tour import TourStep
from ui import db, safe_text, sidebar, state, widgets, workshop
from ui import tour as tour_ui

INTRO = (
    "Four findings of the Community Alignment research (arXiv 2507.09650), one step at a time. Each step shows the "
    "numbers behind it, here and now: the first and the last read the loaded database, the middle ones run the "
    "simulators with small, illustrative settings. The sentence under each figure is computed from those numbers, "
    "so it changes with the filters and the settings; it is never a fixed claim."
)
K_RANGE = (2, 8)
TEMPERATURES = [0.5, 0.75, 1.0, 1.25, 1.5]
PER_ANNOTATOR = [5, 10, 20]


def _read_option(key: str, default, options: list):
    """A number from the URL when it is one of ``options``; the default otherwise."""
    value = state.read_float(key, float(default))
    return next((o for o in options if float(o) == value), default)


def _go(index: int) -> None:
    st.session_state["tour_step"] = tour_ui.STEPS[index]


def navigator() -> str:
    names = {s: f"{i}. {tour_ui.TITLES[s]}" for i, s in enumerate(tour_ui.STEPS, start=1)}
    step = state.url_widget(
        st.segmented_control, "Step", key="tour_step", default=tour_ui.STEPS[0],
        read_args={"choices": tour_ui.STEPS}, options=tour_ui.STEPS, format_func=names.get, required=True,
    )  # fmt: skip
    return step or tour_ui.STEPS[0]


def step_buttons(step: str) -> None:
    i = tour_ui.STEPS.index(step)
    back, _, forward = st.columns([1, 4, 1])
    if i > 0:
        back.button("← Back", key="tour_back", on_click=_go, args=(i - 1,))
    if i < len(tour_ui.STEPS) - 1:
        forward.button("Next →", key="tour_next", on_click=_go, args=(i + 1,), type="primary")


def people_controls() -> dict:
    show = state.url_widget(
        st.toggle, "Show each LLM answer", key="tour_pp_llm", default=True, read=state.read_bool,
        help="Off: only each LLM's mean position is drawn.",
    )  # fmt: skip
    return {"tour_pp_llm": bool(show)}


def _k(container, key: str) -> int:
    lo, hi = K_RANGE
    return int(
        state.url_widget(
            container.slider, "Candidates per prompt (k)", key=key, default=4, read=state.read_int,
            read_args={"lo": lo, "hi": hi}, min_value=lo, max_value=hi,
        )
    )  # fmt: skip


def sampling_controls() -> dict:
    c1, c2 = st.columns(2)
    k = _k(c1, "tour_sa_k")
    temperature = state.url_widget(
        c2.select_slider, "Temperature", key="tour_sa_temp", default=1.0, read=_read_option,
        read_args={"options": TEMPERATURES}, options=TEMPERATURES, help="Scales the spread of every model's answers.",
    )  # fmt: skip
    return {"tour_sa_k": k, "tour_sa_temp": float(temperature)}


def poles_controls() -> dict:
    c1, c2 = st.columns(2)
    k = _k(c1, "tour_po_k")
    default = tour_ui.DEFAULTS["poles"]["tour_po_nc"]
    nc = state.url_widget(
        c2.slider, "NC strength", key="tour_po_nc", default=default, read=state.read_float,
        read_args={"lo": 0.0, "hi": 1.0}, min_value=0.0, max_value=1.0, step=0.05,
        help="0: the NC set is drawn i.i.d.; 1: its members are pushed fully apart.",
    )  # fmt: skip
    return {"tour_po_k": k, "tour_po_nc": float(nc)}


def rewards_controls() -> dict:
    c1, c2 = st.columns(2)
    per = state.url_widget(
        c1.select_slider, "Choices per simulated annotator", key="tour_rw_per", default=10, read=_read_option,
        read_args={"options": PER_ANNOTATOR}, options=PER_ANNOTATOR,
    )  # fmt: skip
    grouping = state.url_widget(
        c2.selectbox, "Groups (from the data)", key="tour_rw_group", default="country",
        read_args={"choices": list(GROUPINGS)}, options=list(GROUPINGS), format_func=GROUPING_LABELS.get,
    )  # fmt: skip
    return {"tour_rw_per": int(per), "tour_rw_group": grouping}


CONTROLS = {"people": people_controls, "sampling": sampling_controls, "poles": poles_controls,
            "rewards": rewards_controls}  # fmt: skip


def show(step: TourStep) -> None:
    st.subheader(f"{step.number}. {step.title}")
    st.markdown(f"*The research:* {safe_text.plain(step.finding)}")
    for note in step.notes:
        st.warning(note, icon=":material/science:")
    for i, part in enumerate(step.parts):
        if part.heading:
            st.markdown(f"#### {safe_text.plain(part.heading)}")
        if part.missing:
            st.info(safe_text.plain(part.missing), icon=":material/info:")
        if part.sentence:
            st.success(safe_text.plain(part.sentence), icon=":material/lightbulb:")
        for j, figure in enumerate(part.figures):
            widgets.chart(figure.figure, figure.name, figure.caption, key=f"tour_chart_{step.key}_{i}_{j}")


def links(step: str, own: dict, filters: Filters) -> None:
    for link in tour_ui.deeper_links(step, own, filters):
        st.page_link(link.page, label=link.label, icon=":material/open_in_new:", query_params=link.params)
    st.caption("The address that opens exactly this step, with its settings and the sidebar's filters:")
    st.code(tour_ui.step_address(workshop.base_url(), step, own, filters), language=None)


def handout_section(info: dict, filters: Filters, step: str, own: dict) -> None:
    st.subheader("Take the tour home")
    st.caption(
        "Every step, with the settings above for this one and the defaults for the others, as one HTML file: the "
        "figures are embedded and plotly.js is inside, so it opens offline in any browser."
    )
    wanted = repr((filters, step, sorted(own.items())))
    if st.button("Make the handout", key="tour_make"):
        with st.spinner("Computing every step…"):
            html = tour_ui.handout(info, filters, {step: own}, workshop.base_url())
        st.session_state["tour_handout"] = (wanted, html.encode("utf-8"))
    made = st.session_state.get("tour_handout")
    if made and made[0] == wanted:
        st.download_button(
            "⬇ Download the handout (HTML, works offline)", data=made[1], file_name="community_alignment_tour.html",
            mime="text/html", key="tour_download", on_click="ignore",
        )  # fmt: skip


def main() -> None:
    state.page_start("tour_")
    info = db.open_database()
    st.title("A guided tour")
    st.caption(INTRO)
    workshop.join_panel(expanded=True)
    filters = sidebar.current_filters()
    step = navigator()
    own = CONTROLS[step]()
    show(tour_ui.build(step, info, filters, own))
    links(step, own, filters)
    step_buttons(step)
    st.divider()
    handout_section(info, filters, step, own)


main()
