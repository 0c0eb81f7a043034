"""Prompt agreement: on prompts many annotators answered, how much do people (and countries) agree on the best text?"""

from __future__ import annotations

import math

import polars as pl
import streamlit as st

from analysis.explore import agreement, agreement_queries
from analysis.filters import Filters
from charts import dashboard
from ui import db, safe_text, sidebar, state, widgets

INTRO = (
    "Agreement means something where several people chose from the same texts: here the unit is a **candidate set** "
    "(one prompt with the same candidate texts, shown to each annotator in any order). A choice is a position a–d, "
    "but the texts behind the positions move, so agreement is measured over the **chosen text**; two identical texts "
    "in a set are one text. Entropy: how spread the choices are (0 bits = everyone chose the same text). Top-1: share "
    "of the most-chosen text. JSD: Jensen–Shannon divergence between two countries' choice distributions (0 = same, "
    "1 = disjoint)."
)
UNITS = {"set": "each candidate set", "prompt": "each prompt (sets pooled)"}
TABLE_COLUMNS = (
    "prompt", "language", "n_annotators", "n_choices", "n_candidates", "n_texts_chosen", "top1_share",
    "entropy_bits", "n_countries", "jsd_mean", "jsd_max", "most_divided_pair", "unit_id",
)  # fmt: skip
COLUMN_CONFIG = {
    "prompt": st.column_config.TextColumn("Prompt", width="large"),
    "top1_share": st.column_config.ProgressColumn("Top-1", format="percent", min_value=0, max_value=1),
    "entropy_bits": st.column_config.NumberColumn("Entropy (bits)", format="%.2f"),
    "jsd_mean": st.column_config.NumberColumn("JSD mean", format="%.2f"),
    "jsd_max": st.column_config.NumberColumn("JSD max", format="%.2f"),
    "n_annotators": st.column_config.NumberColumn("Annotators"),
    "n_choices": st.column_config.NumberColumn("Choices"),
    "n_countries": st.column_config.NumberColumn("Countries", help="with enough choices for the JSD"),
    "most_divided_pair": st.column_config.TextColumn("Most divided pair"),
    "language": st.column_config.TextColumn("Lang."),
    "n_candidates": st.column_config.NumberColumn("Texts shown"),
    "n_texts_chosen": st.column_config.NumberColumn("Texts chosen"),
}


def _close() -> None:
    st.session_state["ag_open"] = ""
    st.session_state["ag_nonce"] = st.session_state.get("ag_nonce", 0) + 1


def controls() -> tuple[str, int, str, int]:
    by = state.url_widget(
        st.segmented_control, "Agreement over", key="ag_by", default="set", read_args={"choices": list(UNITS)},
        options=list(UNITS), format_func=UNITS.get, required=True,
        help="A candidate set: the same texts shown to several people. Pooling a prompt's sets mixes in who was "
        "shown which texts.",
    ) or "set"  # fmt: skip
    c1, c2, c3 = st.columns([1, 2, 1])
    threshold = state.url_widget(
        c1.number_input, "Answered by at least (annotators)", key="ag_min", default=agreement.DEFAULT_THRESHOLD,
        read=state.read_int, read_args={"lo": 2, "hi": 10_000}, min_value=2, max_value=10_000, step=1,
    )  # fmt: skip
    sort = state.url_widget(
        c2.selectbox, "Sort prompts by", key="ag_sort", default="contested", read_args={"choices": agreement.SORTS},
        options=list(agreement.SORTS), format_func=lambda k: agreement.SORT_LABELS[k],
    )  # fmt: skip
    min_c = state.url_widget(
        c3.number_input, "Min. choices per country (for JSD)", key="ag_minc",
        default=agreement.DEFAULT_MIN_PER_COUNTRY, read=state.read_int, read_args={"lo": 1, "hi": 1_000},
        min_value=1, max_value=1_000, step=1,
        help="A country enters the between-country divergence of a prompt only with at least this many choices of it.",
    )  # fmt: skip
    return by, int(threshold), sort, int(min_c)


def summary_metrics(table: pl.DataFrame, min_c: int, by: str) -> None:
    summary = agreement_queries.overall_choice_spread(table)
    m = st.columns(4)
    m[0].metric("Candidate sets" if by == "set" else "Prompts", f"{summary['prompts']:,}")
    m[1].metric("Median entropy", f"{summary['median_entropy']:.2f} bits")
    m[2].metric("Median top-1 share", f"{summary['median_top1']:.0%}")
    m[3].metric(
        "Median JSD between countries",
        "—" if math.isnan(summary["median_jsd"]) else f"{summary['median_jsd']:.2f}",
        help=f"Over the {summary.get('with_countries', 0)} prompts with at least two countries of {min_c}+ choices.",
    )


def distributions(views: dict, min_c: int) -> None:
    left, right = st.columns(2)
    with left:
        widgets.chart(
            dashboard.histogram(views["table"]["entropy_bits"], "Entropy of chosen texts (bits)", "Units", nbins=30),
            "agreement_entropy",
            "Reading: each unit's spread of choices over its candidate texts; further right = more contested "
            "(log2 of the number of distinct texts is the ceiling).",
            key="ag_entropy_chart",
        )
    with right:
        countries = views["countries"]
        if countries.is_empty():
            st.info("No country has enough choices of any prompt for a per-country view; lower the minimum.")
        else:
            widgets.chart(
                dashboard.box_by_country(countries, "top1_share", "Top-1 share within the country"),
                "agreement_top1_by_country",
                f"Reading: per prompt (points), the share of a country's choices that went to its most-chosen text; "
                f"only countries with {min_c}+ choices of the prompt.",
                key="ag_top1_chart",
            )
    pairs = views["pairs"]
    if not pairs.is_empty():
        widgets.chart(
            dashboard.jsd_heatmap(pairs), "agreement_jsd_between_countries",
            "Reading: mean Jensen–Shannon divergence of two countries' chosen-text distributions over the prompts "
            "both answered; darker = more divided. With few choices per country JSD is biased upward — read it "
            "beside n.",
            key="ag_jsd_chart",
        )  # fmt: skip
        with st.expander("Table: JSD between countries"):
            widgets.table(pairs, "agreement_country_pairs", key="ag_pairs_table")


def ranking(table: pl.DataFrame, sort: str, threshold: int) -> None:
    """The ranked units; selecting a row opens that unit below."""
    st.subheader(agreement.SORT_LABELS[sort])
    st.caption("Select a row to read the prompt and its candidates with per-country choice shares.")
    shown = table.select(*TABLE_COLUMNS)
    selection = widgets.table(
        shown,
        f"agreement_{sort}_min{threshold}",
        key=f"ag_table_{st.session_state.get('ag_nonce', 0)}",
        on_select="rerun",
        selection_mode="single-row",
        height=380,
        column_config=COLUMN_CONFIG,
    )
    rows = selection.selection.rows if selection is not None else []
    if rows and shown["unit_id"][rows[0]] != st.session_state.get("ag_open"):
        st.session_state["ag_open"] = shown["unit_id"][rows[0]]


def _unit_caption(table: pl.DataFrame, unit_id: str) -> None:
    row = table.filter(pl.col("unit_id") == unit_id)
    if not row.height:
        return
    r = row.row(0, named=True)
    jsd = (
        f" · mean JSD between countries {r['jsd_mean']:.2f} (most divided: {safe_text.literal(r['most_divided_pair'])})"
        if r["jsd_mean"] is not None
        else ""
    )
    st.caption(
        f"{r['n_annotators']} annotators, {r['n_choices']} choices over {r['n_candidates']} candidate texts · "
        f"entropy {agreement.describe_entropy(r['entropy_bits'])} · top-1 {r['top1_share']:.0%}" + jsd
    )


def one_unit(filters: Filters, table: pl.DataFrame, unit_id: str, by: str) -> None:
    """The selected unit: its prompt, each country's choices, and every candidate with its shares."""
    text = db.cached(agreement_queries.unit_prompt, unit_id, by)
    if text is None:
        st.error(
            f"No {'candidate set' if by == 'set' else 'prompt'} {safe_text.literal(unit_id)} in this database "
            "(the link may come from another database)."
        )
        st.button("Close", on_click=_close, key="ag_close_missing")
        return
    st.divider()
    head = st.columns([5, 1])
    head[0].subheader("The prompt")
    head[1].button("✕ Close", on_click=_close, key="ag_close")
    widgets.data_markdown(text)
    _unit_caption(table, unit_id)
    totals = db.cached(agreement_queries.unit_country_totals, filters, unit_id, by)
    cands = db.cached(agreement_queries.unit_candidates, filters, unit_id, by)
    share_cols = [c for c in cands.columns if c not in ("text_hash", "text", "shown", "chosen", "chosen_when_shown")]
    per_country = " · ".join(
        f"{safe_text.literal(t['country'])}: {t['choices']} ({t['annotators']} annotators)"
        for t in totals.iter_rows(named=True)
    )
    st.markdown("**Choices per country** " + per_country)
    chosen_any = cands.filter(pl.col("chosen") > 0)
    if chosen_any.height and share_cols:
        widgets.chart(
            dashboard.candidate_share_bars(chosen_any, share_cols), f"unit_{unit_id[:8]}_shares",
            "Reading: for each chosen candidate text, the share of each country's choices that went to it "
            "(texts ranked by how often they were chosen overall).",
            key="ag_prompt_chart",
        )  # fmt: skip
    candidates_table(cands, share_cols, unit_id, by)


def candidates_table(cands: pl.DataFrame, share_cols: list[str], unit_id: str, by: str) -> None:
    what = "this candidate set" if by == "set" else "this prompt, every set pooled"
    st.markdown(f"**Candidates** (every distinct text of {what}, under the filters)")
    widgets.table(
        cands,
        f"unit_{unit_id[:8]}_candidates",
        key="ag_cands",
        column_order=["text", "shown", "chosen", "chosen_when_shown", *share_cols, "text_hash"],
        column_config={
            "text": st.column_config.TextColumn("Candidate text", width="large"),
            "shown": st.column_config.NumberColumn("Shown", help="comparisons that showed this text"),
            "chosen_when_shown": st.column_config.NumberColumn("Chosen when shown", format="percent"),
            **{c: st.column_config.NumberColumn(c, format="percent") for c in share_cols},
        },
    )
    with st.expander("Read the candidates in full"):
        for i, row in enumerate(cands.head(20).iter_rows(named=True), start=1):
            st.markdown(f"**#{i}** · chosen {row['chosen']} of {row['shown']} times")
            widgets.data_markdown(row["text"])


def unit_notes(by: str, shared: dict, threshold: int) -> bool:
    """Say what the unit means on these data; False when there is nothing to rank (no set seen twice)."""
    if by == "prompt":
        st.warning(
            "Pooling every candidate set of a prompt: follow-up turns (and own prompts) show each annotator freshly "
            "generated texts, so a pooled prompt's spread of choices also reflects which texts each person was shown. "
            "Read these rankings with care.",
            icon=":material/warning:",
        )
        return True
    if shared["shared"] == 0:
        st.info(
            f"None of the {shared['sets']:,} candidate sets under these filters was shown to more than one annotator, "
            "so there is no agreement to measure: each person chose among texts nobody else saw. Widen the filters, "
            "or pool the sets of each prompt above (and read the result with care)."
        )
        return False
    st.caption(
        f"{shared['shared']:,} of {shared['sets']:,} candidate sets under these filters were shown to more than one "
        f"annotator; a set seen by one person says nothing about agreement, so only sets seen by {threshold}+ "
        "annotators are ranked."
    )
    return True


def main() -> None:
    state.page_start("ag_")
    filters = sidebar.current_filters()
    st.title("Prompt agreement")
    st.caption(INTRO)
    state.init("ag_open", state.read_str("ag_open", ""))
    by, threshold, sort, min_c = controls()
    views = db.cached(agreement_queries.agreement_views, filters, threshold, sort, min_c, by)
    if not unit_notes(by, views["shared"], threshold):
        return
    table: pl.DataFrame = views["table"]
    if table.is_empty():
        st.warning(
            f"No {'candidate set' if by == 'set' else 'prompt'} is answered by {threshold} or more annotators under "
            "these filters. Lower the threshold or widen the filters in the sidebar."
        )
        return
    summary_metrics(table, min_c, by)
    distributions(views, min_c)
    ranking(table, sort, threshold)
    unit_id = st.session_state.get("ag_open", "")
    state.write("ag_open", unit_id, default="")
    if unit_id:
        one_unit(filters, table, unit_id, by)


main()
