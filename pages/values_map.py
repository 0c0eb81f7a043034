"""Values map: candidate responses on the Inglehart-Welzel plane and the UMAP map; people against LLMs."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from analysis import llm_responses as llm_mod
from analysis import schema as S
from analysis import values as V
from analysis import values_figures as F
from ui import db, sidebar, widgets
from ui.state import ensure_app_shell

ensure_app_shell()  # a deep link on a fresh server opens through app.py (navigation, sidebar, filters)

URL = "query-params"


def _release_connection() -> None:
    """Close the app's read-only connection so a short-lived writer can open the file; the next call reopens."""
    db.close_connection()


# ---- cached computations (keys: database version, filters, model, anchors) ----------------------------
@st.cache_data(show_spinner="Placing the responses…", max_entries=16)
def _map(_con, _scores, db_version, filters, model, anchors_key, view, color_by, max_points, density):
    return V.map_data(_con, filters, model, _scores, view, color_by, max_points, density=density)


@st.cache_data(show_spinner="Computing revealed positions…", max_entries=16)
def _people(_con, _scores, db_version, filters, model, anchors_key, frame):
    return V.people_data(_con, filters, model, _scores, frame)


@st.cache_data(show_spinner=False, max_entries=8)
def _readiness(_con, db_version, model, db_label):
    return V.readiness(_con, model, db_label)


# ---- page ---------------------------------------------------------------------------------------------------------
st.title("Values map")
st.caption(
    "Where the candidate responses sit on the Inglehart-Welzel plane (x: survival → self-expression, "
    "y: traditional → secular-rational, as on the published map) and on a UMAP map of their embeddings; "
    "where people's choices put them, country by country; and where LLMs answer from."
)

db_path = db.db_path()
info = db.open_database()  # stops the page with what to run when the database is missing or unreadable
con = db.get_connection()
if info["synthetic"]:
    st.warning(
        "**Synthetic demo data.** The responses, people and choices are generated (not the Community Alignment "
        "release), and so are the LLMs named 'synthetic-model-…': they are placed at the secular-rational / "
        "self-expression corner by construction, as the research found for real LLMs.",
        icon=":material/science:",
    )
filters = sidebar.current_filters()
version = db.db_key(db_path)

from analysis import embeddings as emb  # noqa: E402  (light: torch is imported only when a model runs)

stored = [m["model"] for m in emb.stored_models(con)]
model_options = list(dict.fromkeys([emb.DEFAULT_MODEL] + stored))
model = st.selectbox(
    "Embedding model",
    model_options,
    key="vm_emb",
    bind=URL,
    help="Positions come from this model's stored embeddings. Embed with another model on the command line "
    "(`python -m analysis embed --model NAME`) to add it here.",
)
ready = _readiness(con, version, model, str(db_path))
if ready.commands:
    lines = "\n".join(ready.commands)
    msg = (
        f"Some of the pipeline has not run for **{ready.model}** on this database "
        f"({ready.n_embedded:,} of {ready.n_candidates:,} responses embedded, {ready.n_scored:,} scored on the axes, "
        f"{ready.n_projected:,} points on the UMAP map, {ready.n_llm_scored:,} of {ready.n_llm:,} LLM answers scored). "
        "The page never computes these on load; run, in this order:"
    )
    (st.info if ready.can_plane else st.error)(msg)
    st.code(lines, language="bash")
    todo = ready.n_candidates - ready.n_embedded
    if st.button(f"Run these steps now ({todo:,} responses to embed: minutes on a small machine)", key="vm_pipeline"):
        with st.status("Embedding, scoring and mapping the responses…", expanded=True) as status:
            _release_connection()
            bar = st.progress(0.0, text="Embedding…")

            def _embed_progress(done: int, total: int) -> None:
                bar.progress(done / max(total, 1), text=f"Embedding {done:,} of {total:,} texts")

            V.run_pipeline(db_path, ready.model, progress=status.write, embed_progress=_embed_progress)
            status.update(label="Done: the map is ready.", state="complete")
        for cached in (_map, _people, _readiness):
            cached.clear()
        st.rerun()
if not ready.can_plane:
    st.stop()

# Session-edited anchors (re-scored stored embeddings) replace the stored scores for this model.
edited = st.session_state.get("vm_edit")
if edited and edited.get("model") != ready.model:
    edited = None
scores = edited["scores"] if edited else None
anchors_key = edited["digest"] if edited else "stored"
if edited:
    st.info(
        f"Positions use **your edited anchors** (this session only, version {edited['digest']}). Reset them in "
        "'Edit the anchor statements' below.",
        icon=":material/edit:",
    )

# ---- the map -------------------------------------------------------------------------------------------------------
st.subheader("Candidate responses")
c1, c2, c3, c4 = st.columns([1.1, 1.8, 1.1, 1])
# Bound widgets keep their shown label in the URL, so the options are the labels themselves.
VIEWS = {"Value axes": "iw", "UMAP": "umap"}
COLOURS = {"Chosen or not": "chosen", "Country": "country", "Language": "language"}
RENDERS = {"Points": "points", "Density": "density"}
FRAMES = {"Revealed": "revealed", "Mean chosen": "chosen"}
view = VIEWS[
    c1.segmented_control(
        "Map",
        list(VIEWS),
        default="Value axes",
        required=True,
        key="vm_view",
        bind=URL,
        help="Value axes: the Inglehart-Welzel plane from the anchor statements. UMAP: a 2-D map of the embeddings "
        "(nearby texts are similar in any respect, not only in values).",
    )
]
color_by = COLOURS[
    c2.segmented_control(
        "Colour by",
        list(COLOURS),
        default="Chosen or not",
        required=True,
        key="vm_color",
        bind=URL,
        help="Country and language are the chooser's.",
    )
]
render = RENDERS[
    c3.segmented_control(
        "Draw",
        list(RENDERS),
        default="Points",
        required=True,
        key="vm_render",
        bind=URL,
        help="Points: at most the chosen number, sampled. Density: a 2-D histogram of all responses.",
    )
]
max_points = c4.select_slider(
    "Most points",
    [1000, 2000, 5000, 10000, 20000],
    value=V.DEFAULT_MAX_POINTS,
    key="vm_max",
    bind=URL,
    help="Beyond this the points are a stratified, seeded sample.",
)
if view == "umap" and not ready.can_umap:
    st.info(
        f"No UMAP map is stored for {ready.model}. Run `python -m analysis project --db {db_path}`; "
        "showing the value axes meanwhile."
    )
    view = "iw"

left, right = st.columns([2.6, 1.2])
with left:
    md = _map(con, scores, version, filters, ready.model, anchors_key, view, color_by, max_points, render == "density")
    if md.n_total == 0:
        st.info("No responses match the filters. Widen them in the sidebar.")
    else:
        if render == "density":
            note = (
                f"Density of all {md.n_total:,} offered responses (counts in bins; LLM answers overlaid); "
                "choose Points to select and read them"
            )
        elif md.sampled:
            note = (
                f"Showing a sample of {md.points.height:,} of {md.n_total:,} offered responses "
                f"(stratified by {F.COLOR_LABELS[color_by]}, seeded); choose Density to see all"
            )
        else:
            note = f"All {md.n_total:,} offered responses"
        fig = F.candidates_figure(md.points, color_by, view, note, md.llm, grid=md.grid)
        event = st.plotly_chart(
            fig,
            key="vm_map_chart",
            on_select="rerun",
            selection_mode=("box", "lasso"),
            config={**widgets.chart_config("values map"), "modeBarButtonsToRemove": []},
            alt="Scatter of candidate responses on the value plane",
        )
        st.caption(
            "Box or lasso-select points to list their texts below. Hover a point to read it. "
            "Black symbols are LLM answers."
        )
with right:
    st.markdown("**Can this model be trusted here?**")
    validity = edited["validity"] if edited else V.load_validity(con, ready.model)
    if validity.height:
        table = validity.with_columns(
            pl.col("axis").replace_strict({S.AXIS_X: "x: self-expr.", S.AXIS_Y: "y: secular"}, default=pl.col("axis")),
            pl.col("language").replace_strict(S.LANGUAGE_NAMES, default=pl.col("language")),
        ).pivot(on="axis", index="language", values="accuracy")
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(c, format="percent") for c in table.columns if c != "language"
            },
        )
        st.caption(
            "Leave-one-out accuracy of the anchor statements (x: survival ↔ self-expression, y: traditional ↔ "
            "secular-rational): how often an anchor left out lands on its own pole's side; chance is 50%. The paper's "
            "LLM judge scored 85.8% (y) and 78.3% (x) against people — reported in the paper, a different method."
        )
        chance = [t for lv, t in V.validity_notes(validity) if lv == "error"]
        if chance:
            st.error("\n".join(f"- {t}" for t in chance))
        weak = V.weak_summary(validity)
        if weak:
            st.warning(weak)
    else:
        st.info(
            f"No anchor validity is stored for {ready.model}: run `python -m analysis axes score-db --db {db_path}`."
        )
    lang_warn = emb.language_warning(ready.model, emb.data_languages(con))
    if lang_warn:
        with st.expander(":material/warning: English-only model, non-English text", expanded=False):
            st.warning(lang_warn)

if render != "density" and md.n_total:
    sel = event.selection.points if event and event.selection else []
    rids = sorted({int(p["customdata"][0]) for p in sel if p.get("customdata") and int(p["customdata"][0]) >= 0})
    if rids:
        chosen_rows = md.points.filter(pl.col("rid").is_in(rids))
        st.markdown(f"**{chosen_rows.height} selected responses**")
        widgets.table(
            chosen_rows.select(
                "text", "prompt", "chosen", "country", "language", pl.col("x").round(3), pl.col("y").round(3)
            ),
            "selected responses",
            key="vm_selected",
            width="stretch",
            column_config={
                "text": st.column_config.TextColumn("response", width="large"),
                "prompt": st.column_config.TextColumn("prompt", width="medium"),
            },
        )
    else:
        st.caption("Nothing selected yet.")

# ---- people against LLMs ---------------------------------------------------------------------------------------
st.subheader("People and LLMs")
frame = FRAMES[
    st.segmented_control(
        "People's position",
        list(FRAMES),
        default="Revealed",
        required=True,
        key="vm_frame",
        bind=URL,
        help="Revealed: mean of (chosen − mean offered) over a person's comparisons, placed at the centre of what was "
        "offered. Mean chosen: the mean position of the responses they chose. See 'How to read this'.",
    )
]
pdata = _people(con, scores, version, filters, ready.model, anchors_key, frame)
q = pdata.quadrant
m1, m2, m3, m4 = st.columns(4)
if q is not None:
    m1.metric(
        "Human choices in the LLM quadrant",
        f"{q.human_share:.0%}",
        help=f"{q.n_choices:,} choices. The LLM quadrant is {q.name}: the quadrant holding most LLM answers "
        f"({q.llm_share:.0%} of {q.n_llm:,}).",
    )
    m2.metric(
        "All offered responses in that quadrant",
        f"{q.offered_share:.0%}",
        help="The baseline: if people chose at random, their choices would land there this often.",
    )
    m3.metric("LLM answers in that quadrant", f"{q.llm_share:.0%}")
    m4.metric("Reported in the paper", f"{V.PAPER_LLM_MATCH:.0%}", help=V.PAPER_LLM_MATCH_NOTE)
    st.caption(f"LLM quadrant: **{q.name}**. " + V.PAPER_LLM_MATCH_NOTE)
else:
    st.info("No LLM answers are scored in this database yet. Upload some below, or rebuild the demo.")

show_llm_points = st.toggle("Show every LLM answer (faint)", value=False, key="vm_llmpts", bind=URL)
fig2 = F.people_figure(
    pdata.people,
    pdata.ellipses,
    pdata.llm_models,
    pdata.llm_points if show_llm_points else None,
    q.quadrant if q else None,
    f"LLM quadrant: {q.llm_share:.0%} of LLM answers" if q else None,
    pdata.origin if frame == "revealed" else None,
)
st.plotly_chart(
    fig2,
    key="vm_people_chart",
    config=widgets.chart_config("people and LLMs"),
    alt="People per country and LLMs on the value plane",
)
st.caption(
    f"{pdata.people.height:,} people with at least 3 scored choices; one dot each, 95% covariance ellipse and "
    "centroid per country. Black symbols: each LLM's mean position. The sidebar filters apply to people and their "
    "choices; LLM answers are never filtered."
)
weak_countries = V.country_notes(validity)
if weak_countries:
    st.warning("\n".join(f"- {t}" for t in weak_countries))
with st.expander("How to read this", expanded=False):
    st.markdown(
        """
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
- **Positions** come from anchor statements: a text's coordinate is where its embedding falls between the two
  poles' anchors, scaled so that each pole's anchors sit near −1 and +1. Where the validity table is weak for a
  language, positions of texts in that language are noise, not findings.
"""
    )
st.markdown("**Dispersion per group**")
st.dataframe(
    pdata.table,
    hide_index=True,
    width="stretch",
    height=min(36 * (pdata.table.height + 1) + 4, 700),
    column_order=(
        "group",
        "kind",
        "n",
        "mean_dist",
        "share_in_llm_quadrant",
        "centroid_x",
        "centroid_y",
        "sd_x",
        "sd_y",
        "cov_xy",
        "ellipse_area",
    ),
    column_config={
        "share_in_llm_quadrant": st.column_config.NumberColumn("share in LLM quadrant", format="percent"),
        "mean_dist": st.column_config.NumberColumn("mean distance to centroid", format="%.3f"),
        "ellipse_area": st.column_config.NumberColumn("95% ellipse area", format="%.3f"),
        **{
            c: st.column_config.NumberColumn(c, format="%.3f")
            for c in ("centroid_x", "centroid_y", "sd_x", "sd_y", "cov_xy")
        },
    },
)
widgets.download_buttons(pdata.table, f"dispersion {frame}", key="vm_dispersion")

# ---- upload ------------------------------------------------------------------------------------------------------
st.subheader("Place your own models")
with st.expander("Upload a CSV of your models' answers to this dataset's prompts", expanded=False):
    st.markdown(llm_mod.UPLOAD_RULES)
    in_db = llm_mod.summary(con)
    if in_db.height:
        st.caption("LLM answers in this database (synthetic ones are the demo's, placed by construction):")
        st.dataframe(in_db, hide_index=True, width="stretch")
    st.download_button(
        "The dataset's prompts as a CSV to fill in",
        llm_mod.prompts_template_csv(con),
        file_name="llm_answers_template.csv",
        mime="text/csv",
        key="vm_dl_template",
    )
    upload = st.file_uploader(
        "CSV with columns model, prompt, response",
        type=["csv"],
        key="vm_upload",
        max_upload_size=int(llm_mod.MAX_BYTES / 1024 / 1024),
    )
    if upload is not None:
        result = llm_mod.validate_upload(upload.getvalue(), upload.name, con)
        for w in result.warnings:
            st.warning(w)
        if not result.ok:
            for e in result.errors:
                st.error(e)
            if result.problems.height:
                st.dataframe(result.problems, hide_index=True, width="stretch")
                st.download_button(
                    "Download the failing rows (CSV)",
                    result.problems.write_csv().encode("utf-8"),
                    file_name="upload_problems.csv",
                    mime="text/csv",
                    key="vm_dl_problems",
                )
        else:
            models_txt = ", ".join(f"{m} ({n})" for m, n in result.models.items())
            st.success(f"{result.rows.height:,} answers pass the checks: {models_txt}.")
            if st.button("Load, embed and score them", type="primary", key="vm_load"):
                with st.status("Loading your answers…", expanded=True) as status:
                    _release_connection()
                    n = llm_mod.load_upload(db_path, result)
                    status.write(f"Loaded {n:,} answers (nothing else was changed).")
                    bar = st.progress(0.0, text="Embedding…")

                    def _embed_progress(done: int, total: int) -> None:
                        bar.progress(done / max(total, 1), text=f"Embedding {done:,} of {total:,} new texts")

                    out = llm_mod.embed_and_score(
                        db_path, ready.model, progress=status.write, embed_progress=_embed_progress
                    )
                    status.write(
                        f"Embedded {out['embed'].get('embedded', 0) if isinstance(out['embed'], dict) else '?'} "
                        "new texts; scored on the axes."
                    )
                    status.update(label="Your answers are placed on the map.", state="complete")
                _map.clear()
                _people.clear()
                _readiness.clear()
                st.rerun()

# ---- anchors -------------------------------------------------------------------------------------------------------
with st.expander("Edit the anchor statements (this session only)", expanded=False):
    st.markdown(
        "Each pole is defined by anchor statements in five languages. Edit them (one statement per line) and apply: "
        "the axes are re-fitted from your anchors (only the anchors are embedded) and every stored embedding is "
        "re-scored, so the positions above update. Your edits stay in this browser session; download them as JSON "
        "to keep or share them."
    )
    from analysis import axes  # noqa: E402  (reads JSON; the model is loaded only when applying)

    current = edited["anchors"] if edited else axes.load_anchors()
    lang = st.segmented_control(
        "Language",
        list(S.LANGUAGES),
        default="en",
        required=True,
        key="vm_anchor_lang",
        format_func=lambda l: S.LANGUAGE_NAMES[l],
    )
    blocks = V.anchors_as_text(current, lang)
    with st.form(f"vm_anchor_form_{lang}"):
        cols = st.columns(2)
        texts = {}
        for i, pole in enumerate(("traditional", "secular", "survival", "self_expression")):
            texts[pole] = cols[i % 2].text_area(
                f"{S.POLE_LABELS[pole]} ({S.LANGUAGE_NAMES[lang]})",
                blocks[pole],
                height=220,
                key=f"vm_anchor_{pole}_{lang}",
            )
        apply = st.form_submit_button("Apply: re-fit the axes and re-score", type="primary")
    if apply:
        new, errors, warns = V.anchors_with_text(current, lang, texts)
        for e in errors:
            st.error(e)
        for w in warns:
            st.warning(w)
        if not errors:
            with st.status("Re-fitting the axes from your anchors…", expanded=True) as status:
                new_scores, new_validity = V.rescore_with_anchors(con, new, ready.model, progress=status.write)
                status.update(label=f"Re-scored {new_scores.height:,} stored embeddings.", state="complete")
            st.session_state["vm_edit"] = {
                "model": ready.model,
                "anchors": new,
                "digest": V.anchors_digest(new),
                "scores": new_scores,
                "validity": new_validity,
            }
            st.rerun()
    d1, d2 = st.columns(2)
    d1.download_button(
        "Download these anchors (JSON)",
        json.dumps(current, ensure_ascii=False, indent=2).encode("utf-8"),
        file_name="anchors.json",
        mime="application/json",
        key="vm_dl_anchors",
    )
    if edited and d2.button("Reset to the project's anchors", key="vm_anchor_reset"):
        st.session_state.pop("vm_edit", None)
        st.rerun()
