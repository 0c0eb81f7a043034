"""Values map: candidate responses on the Inglehart-Welzel plane and the UMAP map; people against LLMs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from analysis import schema
from analysis.explore import people, positions, sample_findings, validity
from analysis.filters import Filters
from analysis.pipeline import axes, axes_store, embed, embed_job, labels, llm_table, llm_upload, models, steps
from charts import values as values_charts
from ui import background, db, safe_text, sidebar, state, widgets

# The URL carries the labels of these choices (as links made before have them); the page uses the values.
VIEWS = {"Value axes": "iw", "UMAP": "umap"}
COLOURS = {"Chosen or not": "chosen", "Country": "country", "Language": "language"}
RENDERS = {"Points": "points", "Density": "density"}
FRAMES = {"Revealed": "revealed", "Mean chosen": "chosen"}
MAX_POINTS = [1000, 2000, 5000, 10000, 20000]
HOW_TO_READ = """
- **Revealed position** = the mean, over a person's comparisons, of *(the position of the response they chose −
  the mean position of the four they were offered)*. It measures what they prefer, not what they were shown:
  someone who picks at random has an expected revealed position of zero, wherever the candidates sat.
- **Scale.** A revealed position is a *difference*. One choice among four can move a person only as far as those
  four differ, so revealed positions are narrower than the positions of responses. To draw people on the same
  plane as the LLMs, each revealed offset is placed at the centre of all responses offered under the current
  filters (the ✕). Compare spreads *between countries*; do not compare the width of a people cloud with the spread of
  LLM answers. *Mean of what they chose* is an absolute position (comparable with LLM answers) but it also
  reflects what each person happened to be shown.
- **LLM quadrant** = the quadrant (split at 0 on both axes, midway between each axis's poles) holding the most LLM
  answers. The share of human choices there counts chosen responses (absolute positions); compare it with the
  share of all offered responses there (the baseline) and, loosely, with the 41% reported in the paper (a
  different measurement: an LLM judge, 21 LLMs, English).
- **Positions** come from a classifier per axis fitted on labelled statements in five languages (short opinions
  and assistant-style answers on the indicators behind the map): a text's coordinate is its signed distance from
  the decision boundary, scaled so that typical statements of each pole sit near −1 and +1. How often it places
  texts it was never fitted on correctly is in the held-out accuracy table; where a cell is flagged, positions of
  texts in that language on that axis are not findings.
"""


def _segmented(container, label: str, options: dict[str, str], key: str, help_text: str = "") -> str:
    """A segmented control over labelled options, bound to the URL; returns the chosen value."""
    labels = list(options)
    chosen = state.url_widget(
        container.segmented_control, label, key=key, default=labels[0], read_args={"choices": labels},
        options=labels, required=True, help=help_text or None,
    )  # fmt: skip
    return options[chosen or labels[0]]


def _clear_caches() -> None:
    db.close_connection()  # also clears every cached query of the page


def header(info: dict) -> None:
    st.title("Values map")
    st.caption(
        "Where the candidate responses sit on the Inglehart-Welzel plane (x: survival → self-expression, "
        "y: traditional → secular-rational, as on the published map) and on a UMAP map of their embeddings; "
        "where people's choices put them, country by country; and where LLMs answer from."
    )
    if info["synthetic"]:
        st.warning(
            "**Synthetic demo data.** The responses, people and choices are generated (not the Community Alignment "
            "release), and so are the LLMs named 'synthetic-model-…': they are placed at the secular-rational / "
            "self-expression corner by construction, as the research found for real LLMs.",
            icon=":material/science:",
        )


def model_picker(con) -> str:
    stored = [m["model"] for m in embed.stored_models(con)]
    options = list(dict.fromkeys([models.DEFAULT_MODEL] + stored))
    return state.url_widget(
        st.selectbox, "Embedding model", key="vm_emb", default=models.DEFAULT_MODEL, read_args={"choices": options},
        options=options,
        help="Positions come from this model's stored embeddings. Embed with another model on the command line "
        "(`python -m analysis embed --model NAME`) to add it here.",
    )  # fmt: skip


WAIT_AT_MOST = 20_000  # texts: more than this and the page offers the background job instead of a wait


def pipeline_status(ready: steps.Readiness, db_path: Path) -> None:
    """What the pipeline has not done yet for this model, the commands, and a button that runs them here."""
    if not ready.commands:
        return
    msg = (
        f"Some of the pipeline has not run for **{ready.model}** on this database "
        f"({ready.n_embedded:,} of {ready.n_candidates:,} responses embedded, {ready.n_scored:,} scored on the axes, "
        f"{ready.n_projected:,} points on the UMAP map, {ready.n_llm_scored:,} of {ready.n_llm:,} LLM answers "
        "scored). The page never computes these on load; run, in this order:"
    )
    if ready.stale:
        msg = (
            f"The stored value-axis scores were made by an earlier version of the axes ({', '.join(ready.stale)}) "
            "and are not shown. " + msg
        )
    todo = ready.n_candidates - ready.n_embedded
    background = todo > WAIT_AT_MOST or embed_job.status(db_path).get("alive")
    (st.info if ready.can_plane or background else st.error)(msg)
    st.code("\n".join(ready.commands), language="bash")
    if background:
        st.caption(
            f"{todo:,} responses are too many to embed while the page waits: the background job above does it (or "
            "run the commands in a terminal). Once it is done, run them to store everything and draw the UMAP map."
            if todo > WAIT_AT_MOST
            else "A background job is embedding this database; the steps can run when it ends."
        )
        return
    if not st.button(
        f"Run these steps now ({todo:,} responses to embed: minutes on a small machine)", key="vm_pipeline"
    ):
        return
    with st.status("Embedding, scoring and mapping the responses…", expanded=True) as status:
        _clear_caches()
        bar = st.progress(0.0, text="Embedding…")

        def _embed_progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Embedding {done:,} of {total:,} texts")

        steps.run_steps(db_path, ready.model, progress=status.write, embed_progress=_embed_progress)
        status.update(label="Done: the map is ready.", state="complete")
    st.rerun()


def edited_labels(model: str) -> dict | None:
    """This session's edited labelled statements for the model (stored embeddings re-scored), or None."""
    edited = st.session_state.get("vm_edit")
    if edited and edited.get("model") != model:
        return None
    if edited:
        st.info(
            f"Positions use **your edited labelled statements** (this session only, version {edited['version']}). "
            "Reset them in 'Edit the labelled statements' below.",
            icon=":material/edit:",
        )
    return edited


def map_controls(ready: steps.Readiness, db_path: Path) -> tuple[str, str, str, int]:
    c1, c2, c3, c4 = st.columns([1.1, 1.8, 1.1, 1])
    view = _segmented(
        c1, "Map", VIEWS, "vm_view",
        "Value axes: the Inglehart-Welzel plane from the labelled statements. UMAP: a 2-D map of the embeddings "
        "(nearby texts are similar in any respect, not only in values).",
    )  # fmt: skip
    color_by = _segmented(c2, "Colour by", COLOURS, "vm_color", "Country and language are the chooser's.")
    render = _segmented(
        c3, "Draw", RENDERS, "vm_render",
        "Points: at most the chosen number, sampled. Density: a 2-D histogram of all responses.",
    )  # fmt: skip
    max_points = state.url_widget(
        c4.select_slider, "Most points", key="vm_max", default=positions.DEFAULT_MAX_POINTS, read=state.read_int,
        options=MAX_POINTS, help="Beyond this the points are a stratified, seeded sample.",
    )  # fmt: skip
    if view == "umap" and not ready.can_umap:
        st.info(
            f"No UMAP map is stored for {ready.model}. Run `python -m analysis project --db {db_path}`; "
            "showing the value axes meanwhile."
        )
        view = "iw"
    return view, color_by, render, int(max_points)


def _map_note(md: positions.MapData, render: str, color_by: str) -> str:
    if render == "density":
        return (
            f"Density of all {md.n_total:,} offered responses (counts in bins; LLM answers overlaid); "
            "choose Points to select and read them"
        )
    if md.sampled:
        return (
            f"Showing a sample of {md.points.height:,} of {md.n_total:,} offered responses "
            f"(stratified by {values_charts.COLOR_LABELS[color_by]}, seeded); choose Density to see all"
        )
    return f"All {md.n_total:,} offered responses"


def candidate_map(md: positions.MapData, view: str, color_by: str, render: str):
    """The map of offered responses; returns the chart's selection event."""
    if md.n_total == 0:
        st.info("No responses match the filters. Widen them in the sidebar.")
        return None
    fig = values_charts.candidates_figure(md.points, color_by, view, _map_note(md, render, color_by), md.llm, md.grid)
    event = st.plotly_chart(
        fig, key="vm_map_chart", on_select="rerun", selection_mode=("box", "lasso"),
        config={**widgets.chart_config("values map"), "modeBarButtonsToRemove": []},
        alt="Scatter of candidate responses on the value plane",
    )  # fmt: skip
    st.caption(
        "Box or lasso-select points to list their texts below. Hover a point to read it. Black symbols are LLM answers."
    )
    return event


def validity_panel(con, table: pl.DataFrame, model: str, db_path: Path) -> None:
    st.markdown("**Can these axes be trusted here?**")
    if table.height:
        st.dataframe(
            validity.display_table(table), hide_index=True, width="stretch",
            column_config={"accuracy": st.column_config.NumberColumn("held-out accuracy", format="percent")},
        )  # fmt: skip
        st.caption(
            "Held-out accuracy: the share of labelled statements the axes were never fitted on that land on their "
            "own pole's side (chance 50%), with n and a 95% interval. 'topics held out': each topic (religion, "
            "authority, divorce, trust, …) scored by axes fitted on the other topics; 'language held out': each "
            "language scored by axes fitted on the other four (translations of a scored text left out too); "
            "'other set held out': each separately written set of statements scored by axes fitted on the other "
            "sets (the closest estimate for text written by other people). "
            f"The research's LLM judge placed text correctly {axes.REFERENCE_ACCURACY[axes.AXIS_Y]:.1%} "
            f"(traditional / secular-rational) and {axes.REFERENCE_ACCURACY[axes.AXIS_X]:.1%} (survival / "
            "self-expression) of the time, as reported in the paper: a different method and text."
        )
        flagged = [t for level, t in validity.validity_notes(table) if level == "error"]
        if flagged:
            st.error("\n".join(f"- {t}" for t in flagged))
        weak = validity.weak_summary(table)
        if weak:
            st.warning(weak)
    else:
        st.info(f"No held-out accuracy is stored for {safe_text.literal(model)}: run "
                f"{safe_text.literal(f'python -m analysis axes score-db --db {db_path}')}.")  # fmt: skip
    lang_warn = models.language_warning(model, models.data_languages(con))
    if lang_warn:
        with st.expander(":material/warning: A model that does not read every language here", expanded=False):
            st.warning(safe_text.plain(lang_warn))


def selected_responses(md: positions.MapData, event) -> None:
    sel = event.selection.points if event and event.selection else []
    rids = sorted({int(p["customdata"][0]) for p in sel if p.get("customdata") and int(p["customdata"][0]) >= 0})
    if not rids:
        st.caption("Nothing selected yet.")
        return
    rows = md.points.filter(pl.col("rid").is_in(rids))
    st.markdown(f"**{rows.height} selected responses**")
    widgets.table(
        rows.select("text", "prompt", "chosen", "country", "language", pl.col("x").round(3), pl.col("y").round(3)),
        "selected responses", key="vm_selected", width="stretch",
        column_config={"text": st.column_config.TextColumn("response", width="large"),
                       "prompt": st.column_config.TextColumn("prompt", width="medium")},
    )  # fmt: skip
    with st.expander("Read the selected responses in full (first 20)"):
        for row in rows.head(20).iter_rows(named=True):
            st.markdown(f"{safe_text.literal(row['country'])} · {'chosen' if row['chosen'] else 'not chosen'}")
            widgets.data_markdown(row["text"])


def candidates_section(con, filters: Filters, ready: steps.Readiness, edited: dict | None, db_path: Path):
    st.subheader("Candidate responses")
    view, color_by, render, max_points = map_controls(ready, db_path)
    scores = edited["scores"] if edited else None
    left, right = st.columns([2.6, 1.2])
    with left:
        md = db.cached(
            positions.map_data, filters, model=ready.model, scores=scores, view=view, color_by=color_by,
            max_points=max_points, density=render == "density",
        )  # fmt: skip
        event = candidate_map(md, view, color_by, render)
    table = edited["validity"] if edited else db.cached(validity.load_validity, ready.model)
    with right:
        validity_panel(con, table, ready.model, db_path)
    if render != "density" and md.n_total:
        selected_responses(md, event)
    return table


def quadrant_metrics(q: people.QuadrantShare | None) -> None:
    if q is None:
        st.info(
            "No LLM answers are scored in this database yet. Load your models' answers to this dataset's prompts "
            "under 'Place your own models' below (or `python -m analysis llm --csv FILE`), then they are embedded, "
            "scored and drawn here."
        )
        return
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Human choices in the LLM quadrant", f"{q.human_share:.0%}",
        help=f"{q.n_choices:,} choices. The LLM quadrant is {q.name}: the quadrant holding most LLM answers "
        f"({q.llm_share:.0%} of {q.n_llm:,}).",
    )  # fmt: skip
    m2.metric(
        "All offered responses in that quadrant", f"{q.offered_share:.0%}",
        help="The baseline: if people chose at random, their choices would land there this often.",
    )  # fmt: skip
    m3.metric("LLM answers in that quadrant", f"{q.llm_share:.0%}")
    m4.metric("Reported in the paper", f"{people.PAPER_LLM_MATCH:.0%}", help=people.PAPER_LLM_MATCH_NOTE)
    st.caption(f"LLM quadrant: **{q.name}**. " + people.PAPER_LLM_MATCH_NOTE)


def dispersion_table(table: pl.DataFrame, frame: str) -> None:
    st.markdown("**Dispersion per group**")
    number = {
        c: st.column_config.NumberColumn(c, format="%.3f")
        for c in ("centroid_x", "centroid_y", "sd_x", "sd_y", "cov_xy")
    }
    st.dataframe(
        table, hide_index=True, width="stretch", height=min(36 * (table.height + 1) + 4, 700),
        column_order=("group", "kind", "n", "mean_dist", "share_in_llm_quadrant", "centroid_x", "centroid_y",
                      "sd_x", "sd_y", "cov_xy", "ellipse_area"),
        column_config={
            "share_in_llm_quadrant": st.column_config.NumberColumn("share in LLM quadrant", format="percent"),
            "mean_dist": st.column_config.NumberColumn("mean distance to centroid", format="%.3f"),
            "ellipse_area": st.column_config.NumberColumn("95% ellipse area", format="%.3f"),
            **number,
        },
    )  # fmt: skip
    widgets.download_buttons(table, f"dispersion {frame}", key="vm_dispersion")


FINDING_LABELS = {
    "revealed_x": "revealed self-expression",
    "revealed_y": "revealed secular-rational",
    "people_spread": "spread of people",
    "chosen_spread": "spread of choices",
    "share_in_llm_quadrant": "choices in the LLM quadrant",
    "coverage_traditional": "sets covering traditional",
    "coverage_secular": "sets covering secular",
    "coverage_survival": "sets covering survival",
    "coverage_self_expression": "sets covering self-expression",
}


def findings_section(sf: sample_findings.SampleFindings) -> None:
    """The findings as statistics of what is placed so far, each with its 95% interval and its sample size."""
    st.subheader("Findings from the sample placed so far")
    st.caption(
        f"{sf.n_placed:,} of {sf.n_texts:,} texts placed on the axes ({sf.fraction_placed:.1%}); "
        f"the findings use {sf.n_in_sample:,} of {sf.n_comparisons:,} comparisons under the filters "
        f"({sf.fraction_in_sample:.1%}): the first ones of a stratified random order (country × language × turn) "
        "with every text placed, each stratum weighted by its size. 95% intervals: a bootstrap over people (400 "
        "draws); they tighten as more is embedded."
    )
    if not sf.n_in_sample:
        st.info("No comparison has all its texts placed yet: start the embedding above, or run the steps below.")
        return
    st.markdown(safe_text.plain(sf.sentence))
    wide = sample_findings.wide(sf.table)
    wide = wide.rename({k: v for k, v in FINDING_LABELS.items() if k in wide.columns})
    widgets.table(wide, "findings from the sample", key="vm_findings", width="stretch")


def people_section(filters: Filters, model: str, edited: dict | None, validity_table: pl.DataFrame) -> None:
    st.subheader("People and LLMs")
    frame = _segmented(
        st, "People's position", FRAMES, "vm_frame",
        "Revealed: mean of (chosen − mean offered) over a person's comparisons, placed at the centre of what was "
        "offered. Mean chosen: the mean position of the responses they chose. See 'How to read this'.",
    )  # fmt: skip
    scores = edited["scores"] if edited else None
    pdata = db.cached(positions.people_data, filters, model=model, scores=scores, frame=frame)
    q = pdata.quadrant
    quadrant_metrics(q)
    show_points = state.url_widget(
        st.toggle, "Show every LLM answer (faint)", key="vm_llmpts", default=False, read=state.read_bool
    )
    fig = values_charts.people_figure(
        pdata.people, pdata.ellipses, pdata.llm_models, pdata.llm_points if show_points else None,
        q.quadrant if q else None, f"LLM quadrant: {q.llm_share:.0%} of LLM answers" if q else None,
        pdata.origin if frame == "revealed" else None,
    )  # fmt: skip
    st.plotly_chart(fig, key="vm_people_chart", config=widgets.chart_config("people and LLMs"),
                    alt="People per country and LLMs on the value plane")  # fmt: skip
    st.caption(
        f"{pdata.people.height:,} people with at least 3 scored choices; one dot each, 95% covariance ellipse and "
        "centroid per country. Black symbols: each LLM's mean position. The sidebar filters apply to people and "
        "their choices; LLM answers are never filtered."
    )
    weak_countries = validity.country_notes(validity_table)
    if weak_countries:
        st.warning("\n".join(f"- {t}" for t in weak_countries))
    with st.expander("How to read this", expanded=False):
        st.markdown(HOW_TO_READ)
    dispersion_table(pdata.table, frame)


def _load_upload(db_path: Path, model: str, result: llm_upload.UploadResult) -> None:
    with st.status("Loading your answers…", expanded=True) as status:
        _clear_caches()
        n = llm_upload.load_upload(db_path, result)
        status.write(f"Loaded {n:,} answers (nothing else was changed).")
        bar = st.progress(0.0, text="Embedding…")

        def _embed_progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Embedding {done:,} of {total:,} new texts")

        out = steps.run_steps(db_path, model, progress=status.write, embed_progress=_embed_progress, fit_map=False)
        status.write(f"Embedded {out['embed'].get('embedded', 0)} new texts; scored on the axes.")
        status.update(label="Your answers are placed on the map.", state="complete")
    st.rerun()


def _upload_result(result: llm_upload.UploadResult, db_path: Path, model: str) -> None:
    for w in result.warnings:  # messages quote the file: its name, columns, models and prompts
        st.warning(safe_text.plain(w))
    if not result.ok:
        for e in result.errors:
            st.error(safe_text.plain(e))
        if result.problems.height:
            st.dataframe(result.problems, hide_index=True, width="stretch")
            st.download_button("Download the failing rows (CSV)", result.problems.write_csv().encode("utf-8"),
                               file_name="upload_problems.csv", mime="text/csv", key="vm_dl_problems")  # fmt: skip
        return
    models_txt = ", ".join(f"{safe_text.literal(m)} ({n})" for m, n in result.models.items())
    st.success(f"{result.rows.height:,} answers pass the checks: {models_txt}.")
    if st.button("Load, embed and score them", type="primary", key="vm_load"):
        _load_upload(db_path, model, result)


def upload_section(con, db_path: Path, model: str) -> None:
    st.subheader("Place your own models")
    with st.expander("Upload a CSV of your models' answers to this dataset's prompts", expanded=False):
        st.markdown(llm_upload.UPLOAD_RULES)
        in_db = llm_table.summary(con)
        if in_db.height:
            st.caption("LLM answers in this database (synthetic ones are the demo's, placed by construction):")
            st.dataframe(in_db, hide_index=True, width="stretch")
        st.download_button("The dataset's prompts as a CSV to fill in", llm_upload.prompts_template_csv(con),
                           file_name="llm_answers_template.csv", mime="text/csv", key="vm_dl_template")  # fmt: skip
        upload = st.file_uploader("CSV with columns model, prompt, response", type=["csv"], key="vm_upload",
                                  max_upload_size=int(llm_upload.MAX_BYTES / 1024 / 1024))  # fmt: skip
        if upload is not None:
            _upload_result(llm_upload.validate_upload(upload.getvalue(), upload.name, con), db_path, model)


def _apply_labels(con, current: pl.DataFrame, lang: str, texts: dict, model: str) -> None:
    new, errors, warns = labels.labels_with_text(current, lang, texts)
    for e in errors:
        st.error(safe_text.plain(e))
    for w in warns:
        st.warning(safe_text.plain(w))
    if errors:
        return
    with st.status("Re-fitting the axes from your labelled statements…", expanded=True) as status:
        new_scores, new_validity = axes_store.rescore_stored(con, new, model, progress=status.write)
        status.update(label=f"Re-scored {new_scores.height:,} stored embeddings.", state="complete")
    st.session_state["vm_edit"] = {"model": model, "labels": new, "version": labels.labels_version(new),
                                   "scores": new_scores, "validity": axes_store.sort_validity(new_validity)}  # fmt: skip
    st.rerun()


def labels_section(con, model: str, edited: dict | None) -> None:
    with st.expander("Edit the labelled statements (this session only)", expanded=False):
        st.markdown(
            "The axes are fitted on labelled statements in five languages. Edit a language's statements, one per "
            "line as `topic | opinion or answer | text` (a line with the text alone is a new opinion under the "
            "topic 'added'), and apply: the axes are re-fitted (only new statements are embedded), their held-out "
            "accuracy recomputed and every stored embedding re-scored, so the map and the table above update. Your "
            "edits stay in this browser session; download them to keep or share them "
            "(`python -m analysis axes validity --labels FILE` reads the file)."
        )
        current = edited["labels"] if edited else labels.load_labels()
        counts = labels.summary(current)
        st.caption(f"{current.height:,} statements; per language and pole: " + ", ".join(
            f"{l}/{p} {n}" for l, p, n in counts.iter_rows()))  # fmt: skip
        lang = st.segmented_control("Language", list(schema.LANGUAGES), default="en", required=True,
                                    key="vm_labels_lang", format_func=lambda code: schema.LANGUAGE_NAMES[code])  # fmt: skip
        blocks = labels.labels_as_text(current, lang)
        with st.form(f"vm_labels_form_{lang}"):
            cols = st.columns(2)
            texts = {
                pole: cols[i % 2].text_area(f"{schema.POLE_LABELS[pole]} ({schema.LANGUAGE_NAMES[lang]})",
                                            blocks[pole], height=260, key=f"vm_labels_{pole}_{lang}")
                for i, pole in enumerate(("traditional", "secular", "survival", "self_expression"))
            }  # fmt: skip
            apply = st.form_submit_button(
                "Apply: re-fit the axes, their held-out accuracy, and re-score", type="primary"
            )
        if apply:
            _apply_labels(con, current, lang, texts, model)
        d1, d2 = st.columns(2)
        d1.download_button("Download these statements (JSONL)", labels.labels_to_jsonl(current).encode("utf-8"),
                           file_name="labelled_values.jsonl", mime="application/jsonl", key="vm_dl_labels")  # fmt: skip
        if edited and d2.button("Reset to the project's statements", key="vm_labels_reset"):
            st.session_state.pop("vm_edit", None)
            st.rerun()


def main() -> None:
    state.page_start("vm_")
    db_path = db.db_path()
    info = db.open_database()  # stops the page with what to run when the database is missing or unreadable
    con = db.get_connection()
    header(info)
    filters = sidebar.current_filters()
    model = model_picker(con)
    ready = db.cached(steps.readiness, model, str(db_path))
    edited = edited_labels(ready.model)
    sf = db.cached(sample_findings.sample_findings, filters, model=ready.model,
                   scores=edited["scores"] if edited else None)  # fmt: skip
    background.job_panel(db_path, ready.model, sf.n_texts, sf.n_placed)
    findings_section(sf)
    pipeline_status(ready, db_path)
    if not ready.can_plane:
        return
    validity_table = candidates_section(con, filters, ready, edited, db_path)
    people_section(filters, ready.model, edited, validity_table)
    upload_section(con, db_path, ready.model)
    labels_section(con, ready.model, edited)


main()
