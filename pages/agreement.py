"""Prompt agreement: on prompts many annotators answered, how much do people (and countries) agree on the best text?"""

from __future__ import annotations

import math

import polars as pl
import streamlit as st

from analysis.explore import agreement, agreement_queries
from analysis.filters import Filters
from charts import dashboard
from ui import db, sidebar, state, widgets

INTRO = (
    "A choice is a position a–d, but the four texts behind the positions differ between comparisons of the same "
    "prompt, so agreement is measured over the **chosen text** among all candidate texts shown for the prompt. "
    "Entropy: how spread the choices are (0 bits = everyone chose the same text). Top-1: share of the most-chosen "
    "text. JSD: Jensen–Shannon divergence between two countries' choice distributions (0 = same, 1 = disjoint)."
)
TABLE_COLUMNS = (
    "prompt", "language", "n_annotators", "n_choices", "n_candidates", "n_texts_chosen", "top1_share",
    "entropy_bits", "n_countries", "jsd_mean", "jsd_max", "most_divided_pair", "prompt_hash",
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
    st.session_state["ag_prompt"] = ""
    st.session_state["ag_nonce"] = st.session_state.get("ag_nonce", 0) + 1


def controls() -> tuple[int, str, int]:
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
    return int(threshold), sort, int(min_c)


def summary_metrics(table: pl.DataFrame, min_c: int) -> None:
    summary = agreement_queries.overall_choice_spread(table)
    m = st.columns(4)
    m[0].metric("Prompts", f"{summary['prompts']:,}")
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
            dashboard.histogram(views["table"]["entropy_bits"], "Entropy of chosen texts (bits)", "Prompts", nbins=30),
            "agreement_entropy",
            "Reading: each prompt's spread of choices over its candidate texts; further right = more contested "
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
    """The ranked prompts; selecting a row opens that prompt below."""
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
    if rows and shown["prompt_hash"][rows[0]] != st.session_state.get("ag_prompt"):
        st.session_state["ag_prompt"] = shown["prompt_hash"][rows[0]]


def _prompt_caption(table: pl.DataFrame, prompt_hash: str) -> None:
    row = table.filter(pl.col("prompt_hash") == prompt_hash)
    if not row.height:
        return
    r = row.row(0, named=True)
    jsd = (
        f" · mean JSD between countries {r['jsd_mean']:.2f} (most divided: {r['most_divided_pair']})"
        if r["jsd_mean"] is not None
        else ""
    )
    st.caption(
        f"{r['n_annotators']} annotators, {r['n_choices']} choices over {r['n_candidates']} candidate texts · "
        f"entropy {agreement.describe_entropy(r['entropy_bits'])} · top-1 {r['top1_share']:.0%}" + jsd
    )


def one_prompt(filters: Filters, table: pl.DataFrame, prompt_hash: str) -> None:
    """The selected prompt: its text, each country's choices, and every candidate with its shares."""
    text = db.cached(agreement_queries.prompt_text, prompt_hash)
    if text is None:
        st.error(f"No prompt `{prompt_hash}` in this database (the link may come from another database).")
        st.button("Close", on_click=_close, key="ag_close_missing")
        return
    st.divider()
    head = st.columns([5, 1])
    head[0].subheader("The prompt")
    head[1].button("✕ Close", on_click=_close, key="ag_close")
    st.markdown(widgets.md_escape(text))
    _prompt_caption(table, prompt_hash)
    totals = db.cached(agreement_queries.prompt_country_totals, filters, prompt_hash)
    cands = db.cached(agreement_queries.prompt_candidates, filters, prompt_hash)
    share_cols = [c for c in cands.columns if c not in ("text_hash", "text", "shown", "chosen", "chosen_when_shown")]
    per_country = " · ".join(
        f"{t['country']}: {t['choices']} ({t['annotators']} annotators)" for t in totals.iter_rows(named=True)
    )
    st.markdown("**Choices per country** " + per_country)
    chosen_any = cands.filter(pl.col("chosen") > 0)
    if chosen_any.height and share_cols:
        widgets.chart(
            dashboard.candidate_share_bars(chosen_any, share_cols), f"prompt_{prompt_hash[:8]}_shares",
            "Reading: for each chosen candidate text, the share of each country's choices that went to it "
            "(texts ranked by how often they were chosen overall).",
            key="ag_prompt_chart",
        )  # fmt: skip
    st.markdown("**Candidates** (every text shown for this prompt under the filters)")
    widgets.table(
        cands,
        f"prompt_{prompt_hash[:8]}_candidates",
        key="ag_cands",
        column_order=["text", "shown", "chosen", "chosen_when_shown", *share_cols, "text_hash"],
        column_config={
            "text": st.column_config.TextColumn("Candidate text", width="large"),
            "chosen_when_shown": st.column_config.NumberColumn("Chosen when shown", format="percent"),
            **{c: st.column_config.NumberColumn(c, format="percent") for c in share_cols},
        },
    )


def main() -> None:
    state.page_start("ag_")
    filters = sidebar.current_filters()
    st.title("Prompt agreement")
    st.caption(INTRO)
    state.init("ag_prompt", state.read_str("ag_prompt", ""))
    threshold, sort, min_c = controls()
    views = db.cached(agreement_queries.agreement_views, filters, threshold, sort, min_c)
    table: pl.DataFrame = views["table"]
    if table.is_empty():
        st.warning(
            f"No prompt is answered by {threshold} or more annotators under these filters. Lower the threshold "
            "or widen the filters in the sidebar."
        )
        return
    summary_metrics(table, min_c)
    distributions(views, min_c)
    ranking(table, sort, threshold)
    prompt_hash = st.session_state.get("ag_prompt", "")
    state.write("ag_prompt", prompt_hash, default="")
    if prompt_hash:
        one_prompt(filters, table, prompt_hash)


main()
