"""Preferences from the data: does one reward model serve every group? Preference models fitted on the database's
own choices (python -m analysis prefs), read from the stored runs; the page never fits anything on load."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from analysis import schema
from analysis.filters import Filters
from analysis.lab import prefs_report, prefs_store
from analysis.lab.preferences import POOLED, PrefsConfig
from analysis.lab.prefs_data import GROUPING_LABELS, GROUPINGS
from analysis.pipeline import embed, models
from charts import prefs as prefs_charts
from ui import db, sidebar, state, widgets

INTRO = (
    "A reward model learns which responses people choose. Fitted once on everyone's choices (the *pooled* model) it "
    "serves some people better than others. Here one model is fitted per group on the choices of part of its people "
    "and scored on the others (held out, never fitted on): where a group's own model predicts its people's choices "
    "much better than the pooled model, one reward model costs that group accuracy, and the two models' readings on "
    "the value axes say which values the pooled model misreads for them."
)
METHOD = """
- **Model.** A conditional logit over each four-way choice: a response's utility is a weighted sum of its stored
  embedding (reduced by PCA to {dims} dimensions, fitted on the training people's texts only) plus one offset per slot
  shown (position bias). L2 strength chosen among {lams} on a quarter of the training people.
- **Splits.** {splits} repeated splits by person (seed {seed}): {test:.0%} of each group's people held out. Every
  score here is on held-out people.
- **Intervals.** 95%, corrected for the splits' overlap: Nadeau & Bengio's corrected resampled t for scores, the
  delete-d jackknife for the axis readings.
- **Axis reading.** A model's text utility regressed on the texts' value-axis coordinates, over the texts the group
  was shown: the change in log-odds of being chosen per unit toward self-expression (x) and secular-rational (y).
- **Capacity.** The gap compares models of the same size. With more dimensions one pooled model can learn different
  tastes for different kinds of text (languages, say, which mostly coincide with countries) and part of the gap
  closes: on the demo the largest gap (India) is 17 points at 64 dimensions and 8 at all 384 (README, "Preference
  models"). Fit with `--dims 128` or `--dims 0` to check a finding.
"""
METRIC_OPTIONS = {"top-1 accuracy": "accuracy", "pairwise AUC": "auc", "log-loss": "log_loss"}
DIRECTIONS = {"favoured more than the pooled model does": "favoured", "favoured less": "disfavoured"}


def header(info: dict) -> None:
    st.title("Preferences from the data")
    st.caption(INTRO)
    if info["synthetic"]:
        st.warning(
            "**Synthetic demo data.** The people and their choices are generated: each chose by closeness to an "
            "illustrative ideal point around their country's position. The models below should find those leanings "
            "again, from the choices alone.",
            icon=":material/science:",
        )
    st.info(prefs_report.ASSOCIATION_NOTE, icon=":material/info:")


def pickers(con) -> tuple[str, str]:
    stored = [m["model"] for m in embed.stored_models(con)]
    options = list(dict.fromkeys([models.DEFAULT_MODEL] + stored))
    c1, c2 = st.columns(2)
    model = state.url_widget(
        c1.selectbox, "Embedding model", key="pf_emb", default=models.DEFAULT_MODEL, read_args={"choices": options},
        options=options, help="The preference models read this model's stored embeddings of the responses.",
    )  # fmt: skip
    fitted = set(db.cached(prefs_store.stored_runs_summary).filter(pl.col("model") == model)["grouping"].to_list())
    grouping = state.url_widget(
        c2.selectbox, "Groups", key="pf_group", default="country", read_args={"choices": list(GROUPINGS)},
        options=list(GROUPINGS),
        format_func=lambda g: GROUPING_LABELS[g] + ("" if g in fitted else " (not fitted yet)"),
    )  # fmt: skip
    return model, grouping


def fit_button(grouping: str, model: str, filters: Filters, label: str, key: str) -> None:
    """Run the fit from the page, for users without a shell (the same function as the CLI), then reload."""
    if not st.button(label, key=key):
        return
    with st.status("Fitting the preference models…", expanded=True) as status:
        db.close_connection()
        bar = st.progress(0.0, text="Reading the choices and their embeddings…")

        def _progress(done: int, total: int) -> None:
            bar.progress(done / total, text=f"Split {done} of {total} fitted")

        try:
            out = prefs_store.prefs_db(db.db_path(), PrefsConfig(grouping=grouping), model, filters, progress=_progress)
        except (LookupError, ValueError) as exc:  # no embeddings yet, no choices under the filters: say what to run
            status.update(label="Could not fit", state="error")
            st.error(str(exc))
            return
        status.update(label=f"Done in {out['seconds']:.0f} s: run {out['run_id']} stored.", state="complete")
    st.rerun()


def missing(grouping: str, model: str, filters: Filters) -> None:
    cmd = prefs_store.command_line(str(db.db_path()), grouping, model, filters)
    st.info(
        f"No preference models by {GROUPING_LABELS[grouping].lower()} are stored for {model} in this database. The "
        "page never fits on load; compute them with:"
    )
    st.code(cmd, language="bash")
    fit_button(grouping, model, filters, "Fit them now (seconds on the demo, about a minute on the release)", "pf_fit")


def load(model: str, grouping: str, filters: Filters) -> prefs_store.StoredRun | None:
    """The run fitted under exactly these filters, else the one fitted on all the data."""
    run = db.cached(prefs_store.load_run, model, grouping, filters)
    if run is None and not filters.is_empty():
        run = db.cached(prefs_store.load_run, model, grouping, Filters())
    return run


def scope_section(run: prefs_store.StoredRun, grouping: str, model: str, filters: Filters) -> list[str]:
    run_filters = Filters.from_query_params(run.run["filters"])
    shown, note = prefs_report.scope(grouping, run_filters, filters, run.run["summary"]["groups"])
    s = run.run["summary"]
    st.caption(
        f"Fitted on {s['n_comparisons']:,} choices of {s['n_people']:,} people over {s['n_texts']:,} responses "
        f"({model}, run {run.run['run_id']}, {str(run.run['created_at'])[:16]}). "
        + (f"Groups under {run.run['params']['min_people']} people have no model of their own: "
           + ", ".join(f"{g} ({n})" for g, n in s["dropped"].items()) + ". " if s["dropped"] else "")
    )  # fmt: skip
    if note:
        st.info(note)
        if run_filters != filters:
            st.code(prefs_store.command_line(str(db.db_path()), grouping, model, filters), language="bash")
            fit_button(grouping, model, filters, "Fit under these filters now", "pf_fit_filters")
    return shown


def gap_section(groups: pl.DataFrame, grouping: str) -> None:
    st.subheader("Whom one pooled model serves worst")
    st.markdown(prefs_report.headline(groups))
    widgets.chart(
        prefs_charts.gap_figure(groups, grouping), "pooled model gap",
        "Each bar: how many more of a group's held-out choices its own model gets right than the pooled model "
        "(top-1 over four candidates; chance 25%). Whiskers: 95% intervals. A bar whose whisker crosses zero is not "
        "a measured gap.", key="pf_gap_chart",
    )  # fmt: skip
    columns = ["group", "n_train_people", "n_test_people", "n_train", "n_test", "accuracy", "accuracy_lo",
               "accuracy_hi", "pooled_accuracy", "pooled_accuracy_lo", "pooled_accuracy_hi", "gap", "gap_lo", "gap_hi",
               "auc", "auc_lo", "auc_hi", "pooled_auc", "log_loss", "pooled_log_loss"]  # fmt: skip
    widgets.table(groups.select([c for c in columns if c in groups.columns]), "preferences by group", key="pf_groups")


def pooled_section(run: prefs_store.StoredRun) -> None:
    st.subheader("The pooled model, beside published results")
    p = prefs_report.pooled_overall(run.scores)
    m1, m2, m3 = st.columns(3)
    m1.metric("Pairwise AUC (held-out people)", f"{p['auc']:.3f}", help=f"95% CI {p['auc_lo']:.3f}–{p['auc_hi']:.3f}")
    m2.metric("Top-1 accuracy of four", f"{p['accuracy']:.1%}",
              help=f"95% CI {p['accuracy_lo']:.1%}–{p['accuracy_hi']:.1%}; chance 25%")  # fmt: skip
    m3.metric("Log-loss", f"{p['log_loss']:.3f}", help="Chance (a uniform guess over four): 1.386")
    st.caption(
        f"All held-out people, 95% intervals: AUC {p['auc_lo']:.3f}–{p['auc_hi']:.3f}, accuracy "
        f"{p['accuracy_lo']:.1%}–{p['accuracy_hi']:.1%}."
    )
    refs = pl.DataFrame(list(prefs_report.REFERENCES)).with_columns(
        pl.col("metric").replace_strict(prefs_report.METRIC_LABELS, default=pl.col("metric"))
    )
    st.markdown(prefs_report.references_sentence())
    widgets.table(refs, "published references", key="pf_refs")
    st.caption(prefs_report.REFERENCE_NOTE)


def transfer_section(run: prefs_store.StoredRun, groups: pl.DataFrame, shown: list[str]) -> None:
    st.subheader("Transfer: one group's model on another group's people")
    label = state.url_widget(
        st.segmented_control, "Score", key="pf_metric", default="top-1 accuracy",
        read_args={"choices": list(METRIC_OPTIONS)}, options=list(METRIC_OPTIONS), required=True,
    )  # fmt: skip
    metric = METRIC_OPTIONS[label or "top-1 accuracy"]
    transfer = db.computed(prefs_report.transfer_table, run.scores).filter(
        pl.col("train").is_in(shown) & pl.col("test").is_in(shown)
    )
    widgets.chart(
        prefs_charts.transfer_figure(transfer, groups, metric), "transfer matrix",
        "Row: the model (fitted on that group's training people; the first row is the pooled model). Column: the "
        "group whose held-out people it is scored on. A bright diagonal: each group's choices are best predicted by "
        "a model of its own.", key="pf_transfer_chart",
    )  # fmt: skip
    widgets.table(transfer, "transfer matrix", key="pf_transfer")


def axes_section(run: prefs_store.StoredRun, grouping: str, shown: list[str]) -> None:
    st.subheader("Which values each model rewards")
    table = db.computed(prefs_report.axis_table, run.readings, run.scores)
    if not table.height or table[schema.AXIS_X].is_nan().all():
        st.info("No value-axis scores were stored when these models were fitted: run "
                f"`python -m analysis axes score-db --db {db.db_path()}` and fit again.")  # fmt: skip
        return
    table = table.filter(pl.col("is_pooled") & (pl.col("texts_of") == POOLED) | pl.col("model").is_in(shown))
    own = table.filter(~pl.col("is_pooled") | (pl.col("texts_of") == POOLED))
    widgets.chart(
        prefs_charts.axis_figure(own, grouping), "axis reading",
        "Arrows: the change in log-odds of a response being chosen per unit toward self-expression (x) and "
        "secular-rational (y), per group's model over the texts that group was shown; crosses: 95% intervals. Faint "
        "arrows: the pooled model read on the same texts. The pooled model's own arrow is black.", key="pf_axis_chart",
    )  # fmt: skip
    sentences = prefs_report.misread_sentences(own)
    if sentences:
        st.markdown("Where the pooled model misreads a group (95% interval of the difference excludes zero):")
        st.markdown("\n".join(f"- {s}" for s in sentences))
    else:
        st.markdown("No group's reading differs from the pooled model's by more than its 95% interval.")
    widgets.table(own, "axis readings", key="pf_axes")


def _example(row: dict) -> None:
    with st.container(border=True):
        x, y = row[schema.AXIS_X], row[schema.AXIS_Y]
        where = "" if x != x else f" · on the plane: self-expression {x:+.2f}, secular-rational {y:+.2f}"
        st.caption(
            f"#{row['rank']} · ranked above {row['pct_own']:.0%} of this group's texts by its own model, above "
            f"{row['pct_pooled']:.0%} by the pooled model · shown {row['n_shown']}× to this group, chosen "
            f"{row['n_chosen']}×{where}"
        )
        widgets.data_markdown(row["text"], empty="*(text not in this database)*")


def examples_section(run: prefs_store.StoredRun, shown: list[str]) -> None:
    st.subheader("Responses each group's model ranks most unlike the pooled model")
    ex = run.examples.filter(pl.col("group").is_in(shown))
    if not ex.height:
        st.info("No examples for the groups shown.")
        return
    names = sorted(set(ex["group"].to_list()))
    c1, c2 = st.columns(2)
    group = state.url_widget(c1.selectbox, "Group", key="pf_ex", default=names[0], read_args={"choices": names},
                             options=names)  # fmt: skip
    label = state.url_widget(
        c2.radio, "Responses its model", key="pf_dir", default=list(DIRECTIONS)[0],
        read_args={"choices": list(DIRECTIONS)}, options=list(DIRECTIONS), horizontal=True,
    )  # fmt: skip
    rows = ex.filter((pl.col("group") == group) & (pl.col("direction") == DIRECTIONS[label])).sort("rank")
    for row in rows.iter_rows(named=True):
        _example(row)
    widgets.download_buttons(ex, "preference examples", key="pf_examples")


def details(run: prefs_store.StoredRun) -> None:
    with st.expander("How these were computed, and the run's parameters", expanded=False):
        p = run.run["params"]
        st.markdown(METHOD.format(dims=p["dims"] or "all", lams=", ".join(f"{x:g}" for x in p["lams"]),
                                  splits=p["splits"], seed=p["seed"], test=p["test_fraction"]))  # fmt: skip
        st.code(json.dumps({"params": p, "summary": run.run["summary"], "filters": run.run["filters"]}, indent=1),
                language="json")  # fmt: skip
        widgets.download_buttons(run.scores, "preference scores per split", key="pf_scores")
        widgets.download_buttons(run.readings, "axis readings per split", key="pf_readings")


def main() -> None:
    state.page_start("pf_")
    info = db.open_database()
    con = db.get_connection()
    header(info)
    filters = sidebar.current_filters()
    model, grouping = pickers(con)
    run = load(model, grouping, filters)
    if run is None:
        missing(grouping, model, filters)
        return
    shown = scope_section(run, grouping, model, filters)
    groups = db.computed(prefs_report.group_table, run.scores)
    groups = groups.filter(pl.col("group").is_in(shown)) if groups.height else groups
    if not groups.height:
        st.info("No fitted group is selected by the sidebar's filters. Widen them.")
        return
    gap_section(groups, grouping)
    pooled_section(run)
    transfer_section(run, groups, shown)
    axes_section(run, grouping, shown)
    examples_section(run, shown)
    details(run)


main()
