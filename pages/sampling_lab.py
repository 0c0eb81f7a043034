"""Sampling lab: trial candidate-sampling strategies and measure how much of the values space each covers."""

from __future__ import annotations

import numpy as np
import polars as pl
import streamlit as st

from analysis import diversity as dv
from analysis import sampling as sp
from analysis.sampling_figures import candidates_figure, coverage_figure, example_sets_figure
from analysis.schema import POLE_LABELS, POLES
from ui import db as uidb
from ui import state as uistate
from ui.state import ensure_app_shell
from ui.widgets import chart_config

ensure_app_shell()

DEFAULTS = sp.StrategyParams()
URL = "query-params"
uistate.own_page("sl_")

st.title("Sampling lab")
st.caption(
    "How much of the values space do candidate sets cover? Independent draws (temperature sampling from one model, "
    "or one draw from each of several models) cluster where the models sit; negatively-correlated (NC) sampling "
    "asks for deliberately different answers. Each simulated prompt gets k candidates placed on the "
    "Inglehart-Welzel plane; coverage@k is the share of prompts whose set reaches a pole."
)
st.warning(
    "**Illustrative model positions.** The model positions, spreads, personas and knob defaults are chosen by us to "
    "show the research's qualitative result and tuned to land near its reported coverage@4, so agreement with the "
    "paper's numbers is by construction, not evidence. They are not measurements. Edit them below and watch the effect.",
    icon=":material/science:",
)


@st.cache_data(show_spinner=False, max_entries=64)
def _evaluate(strategy: str, n_prompts: int, k: int, seeds: tuple[int, ...], params_json: str, threshold: float):
    params = sp.params_from_json(params_json)
    return dv.evaluate(strategy, n_prompts, k, list(seeds), params, threshold)


@st.cache_data(show_spinner=False, max_entries=16)
def _score(texts: tuple[str, ...], threshold: float) -> dict:
    return sp.score_candidates(list(texts), threshold)


# ---- knobs (every one bound to the URL) -------------------------------------------------------------
strategies = st.multiselect(
    "Strategies",
    sp.STRATEGIES,
    default=list(sp.STRATEGIES),
    key="sl_strategies",
    bind=URL,
    help="  \n".join(f"**{s}**: {sp.STRATEGY_LABELS[s]}" for s in sp.STRATEGIES),
)
size_k, size_prompts, size_seeds, size_threshold = st.columns(4)
k = size_k.slider("Candidates per prompt (k)", 2, 12, 4, key="sl_k", bind=URL)
n_prompts = size_prompts.select_slider(
    "Prompts", options=[100, 250, 500, 1000, 2000, 5000], value=1000, key="sl_prompts", bind=URL
)
n_seeds = size_seeds.slider("Seeds (for the interval)", 1, 10, 5, key="sl_seeds", bind=URL)
threshold = size_threshold.slider(
    "Pole threshold",
    0.1,
    1.5,
    dv.DEFAULT_THRESHOLD,
    0.05,
    key="sl_threshold",
    bind=URL,
    help="A response is on the traditional pole when secular <= -threshold, on survival when "
    "self_expression <= -threshold (and likewise + for the other two poles).",
)

knob_temp, knob_nc, knob_pull = st.columns(3)
temperature = knob_temp.slider(
    "Temperature",
    0.1,
    2.0,
    DEFAULTS.temperature,
    0.05,
    key="sl_temp",
    bind=URL,
    help="Scales every model's spread.",
)
nc_strength = knob_nc.slider(
    "NC strength",
    0.0,
    1.0,
    DEFAULTS.nc_strength,
    0.05,
    key="sl_nc",
    bind=URL,
    help="0: the NC set is drawn i.i.d.; 1: its members are pushed fully apart.",
)
persona_pull = knob_pull.slider(
    "Persona pull",
    0.0,
    1.0,
    DEFAULTS.persona_pull,
    0.01,
    key="sl_pull",
    bind=URL,
    help="How far a persona moves the model from its default (0: not at all, 1: all the way).",
)

with st.expander("Model default positions (illustrative, editable)", expanded=False):
    st.caption(
        "x = self-expression (survival at -1), y = secular-rational (traditional at -1); spread = s.d. of a "
        "model's answers at temperature 1. iid, persona and NC use the first row; multi cycles through all rows. "
        "Illustrative values, not measurements."
    )
    if "sl_models_initial" not in st.session_state:
        start_models, url_problem = sp.models_from_query(st.query_params.get("sl_models"))
        st.session_state["sl_models_initial"] = sp.models_to_rows(start_models)
        st.session_state["sl_models_problem"] = url_problem
    if st.session_state.get("sl_models_problem"):
        st.warning(st.session_state["sl_models_problem"])
    edited = st.data_editor(
        pl.DataFrame(st.session_state["sl_models_initial"]),
        num_rows="dynamic",
        key="sl_models_editor",
        column_config={
            "name": st.column_config.TextColumn("model (illustrative)"),
            "x": st.column_config.NumberColumn("x: self-expression", min_value=-1.5, max_value=1.5, step=0.05),
            "y": st.column_config.NumberColumn("y: secular-rational", min_value=-1.5, max_value=1.5, step=0.05),
            "spread": st.column_config.NumberColumn("spread", min_value=0.0, max_value=1.5, step=0.05),
        },
    )
    try:
        models = sp.models_from_rows(edited.to_dicts())
    except ValueError as exc:
        st.error(f"The model table has a problem: {exc}. Using the default models until it is fixed.")
        models = sp.DEFAULT_MODELS
    if models == sp.DEFAULT_MODELS:
        st.query_params.pop("sl_models", None)
    else:
        st.query_params["sl_models"] = sp.models_to_query(models)

with st.expander("Persona positions (illustrative, editable)", expanded=False):
    st.caption(
        "Where each persona would pull an answer (x = self-expression, y = secular-rational). The persona strategy "
        "gives candidate i the i-th persona (cycling) and moves the first model's default 'persona pull' of the way "
        "toward it. Illustrative values, not measurements."
    )
    if "sl_personas_initial" not in st.session_state:
        start_personas, url_problem = sp.personas_from_query(st.query_params.get("sl_personas"))
        st.session_state["sl_personas_initial"] = sp.personas_to_rows(start_personas)
        st.session_state["sl_personas_problem"] = url_problem
    if st.session_state.get("sl_personas_problem"):
        st.warning(st.session_state["sl_personas_problem"])
    edited_personas = st.data_editor(
        pl.DataFrame(st.session_state["sl_personas_initial"]),
        num_rows="dynamic",
        key="sl_personas_editor",
        column_config={
            "x": st.column_config.NumberColumn("x: self-expression", min_value=-1.5, max_value=1.5, step=0.05),
            "y": st.column_config.NumberColumn("y: secular-rational", min_value=-1.5, max_value=1.5, step=0.05),
        },
    )
    try:
        personas = sp.personas_from_rows(edited_personas.to_dicts())
    except ValueError as exc:
        st.error(f"The persona table has a problem: {exc}. Using the default personas until it is fixed.")
        personas = sp.DEFAULT_PERSONAS
    if personas == sp.DEFAULT_PERSONAS:
        st.query_params.pop("sl_personas", None)
    else:
        st.query_params["sl_personas"] = sp.personas_to_query(personas)

params = sp.StrategyParams(
    models=models, personas=personas, temperature=temperature, nc_strength=nc_strength, persona_pull=persona_pull
)

if not strategies:
    st.info("Pick at least one strategy above to see its candidate sets and metrics.")
    st.stop()
strategies = [s for s in sp.STRATEGIES if s in strategies]

# ---- metrics ---------------------------------------------------------------------------------------------
seeds = tuple(range(int(n_seeds)))
key = sp.params_to_json(params)
parts = []
bar = st.progress(0.0, text="Evaluating strategies…")
for i, s in enumerate(strategies):
    parts.append(_evaluate(s, int(n_prompts), int(k), seeds, key, float(threshold)))
    bar.progress((i + 1) / len(strategies), text=f"Evaluated {s}")
bar.empty()
table = pl.concat(parts)

st.subheader(f"Coverage of the minority poles, k = {k}")
sentence = sp.headline(table)
if sentence:
    st.markdown(f"**{sentence}**")
if k != 4:
    st.caption("The paper's numbers are coverage@4; with k ≠ 4 they are shown for orientation only.")
st.plotly_chart(
    coverage_figure(table, sp.REPORTED_COVERAGE_AT_4), key="sl_cov_chart", config=chart_config("sampling lab coverage")
)
st.caption(
    "Bars: simulated from the illustrative model positions (mean over seeds, 95% interval). Black diamonds: "
    f"{sp.REPORTED_SOURCE}."
)

st.subheader("Metrics per strategy")
st.dataframe(sp.comparison_table(table, k), hide_index=True, key="sl_table")
st.caption(
    f"Simulated, {n_prompts} prompts × {len(seeds)} seed(s), pole threshold {threshold}: mean [95% interval over "
    "seeds]. The two 'paper' columns are reported in the paper, not simulated. Vendi: effective number of distinct "
    "candidates (RBF kernel on the plane, bandwidth 0.5). Convex-hull area is our own measure, not the paper's."
)
st.download_button(
    "Download the table (CSV)",
    sp.download_table(table).write_csv(),
    file_name=f"sampling_lab_k{k}_t{threshold}.csv",
    mime="text/csv",
    key="sl_download",
)

# ---- example sets -------------------------------------------------------------------------------------------
st.subheader("Example candidate sets on the values plane")
ex1, ex2, ex3 = st.columns([1, 1, 2])
n_examples = ex1.slider("Example prompts", 1, 6, 3, key="sl_examples", bind=URL)
example_seed = ex2.number_input("Example seed", 0, 10_000, 0, key="sl_example_seed", bind=URL)
ex3.caption(
    "Each colour is one prompt's candidate set (outlined); crosses are the illustrative model defaults (the dark one, "
    "the first model, is the one iid, persona and NC draw around); the shaded bands are the traditional and survival "
    "regions beyond the pole threshold (dotted lines)."
)
example_sets = {s: sp.draw_sets(s, int(n_examples), int(k), int(example_seed), params) for s in strategies}
st.plotly_chart(
    example_sets_figure(
        example_sets,
        {s: f"{s}: {sp.STRATEGY_SHORT[s]}" for s in strategies},
        [(m.name, m.center) for m in models],
        float(threshold),
    ),
    key="sl_examples_chart",
    config=chart_config("sampling lab example sets"),
)

# ---- real texts ----------------------------------------------------------------------------------------------
st.subheader("The same choice on real texts")
st.caption(
    "Where a prompt has more responses than k (the dataset's candidates, uploaded LLM responses), choose k of them: "
    "at random (like independent sampling), the k nearest to the first model's default position, by farthest-point "
    "traversal, or by a greedy DPP on the text embeddings. Positions come from the project's value-axis scorer, "
    "so these numbers are measured on the texts, not illustrative — but only as good as the scorer."
)
rt1, rt2 = st.columns([2, 1])
source = rt1.segmented_control(
    "Pool",
    sp.POOL_SOURCES,
    default="candidates",
    key="sl_pool",
    bind=URL,
    format_func=lambda s: sp.POOL_SOURCE_SHORT[s],
    required=True,
    help="  \n".join(f"**{sp.POOL_SOURCE_SHORT[s]}**: {sp.POOL_SOURCE_LABELS[s]}" for s in sp.POOL_SOURCES),
)
run_pool = rt2.toggle("Evaluate on the database's texts", key="sl_pool_on", bind=URL)
if run_pool:
    db_path = uidb.db_path()
    pool_df = None
    if not db_path.exists():
        st.info(f"No database at {db_path}: build the demo with `python -m analysis demo`, or set CAE_DB.")
    else:
        with st.spinner("Choosing k responses per prompt with each method…"):
            try:
                target = tuple(float(v) for v in models[0].center)
                pool_df = uidb.cached(
                    sp.evaluate_pool_db,
                    source or "candidates",
                    int(k),
                    list(range(int(n_seeds))),
                    float(threshold),
                    None,
                    target,
                )
                pool_ex = uidb.cached(
                    sp.pool_examples_db,
                    source or "candidates",
                    int(k),
                    int(n_examples),
                    int(example_seed),
                    None,
                    target,
                )
            except sp.PoolUnavailable as exc:
                st.info(f"Not available on this database yet: {exc}.")
        if pool_df is not None:
            st.dataframe(sp.comparison_table(pool_df, k, paper=False), hide_index=True, key="sl_pool_table")
            st.caption(
                f"{pool_df['n_prompts'][0]} prompts with at least {max(k + 1, 2 * k)} responses; mean [95% interval "
                "over seeds]; 'nearest' and 'dpp' are deterministic. The paper's numbers are about generation "
                "strategies (temperature vs NC sampling), not these selection methods, so they are not repeated here."
            )
            st.download_button(
                "Download the real-text table (CSV)",
                pool_df.write_csv(),
                file_name=f"sampling_lab_pool_{source}_k{k}.csv",
                mime="text/csv",
                key="sl_pool_download",
            )
            st.plotly_chart(
                example_sets_figure(
                    pool_ex["sets"],
                    {m: f"{m}: {sp.POOL_METHOD_SHORT[m]}" for m in sp.POOL_METHODS},
                    [(f"{models[0].name}: target of 'nearest'", target)],
                    float(threshold),
                ),
                key="sl_pool_examples_chart",
                config=chart_config("sampling lab real-text example sets"),
            )
            st.caption(
                f"{len(pool_ex['prompt_hashes'])} prompts drawn at random (example seed); each colour is one prompt's "
                "k chosen responses, placed by the value-axis scorer. Every method chooses from the same prompts."
            )

# ---- paste your own ------------------------------------------------------------------------------------------
st.subheader("Paste your own candidates")
st.caption(
    f"One response per line (2 to {sp.MAX_PASTED}). They are embedded, placed on the value axes by the project's "
    "anchor-based scorer, and measured with the same metrics."
)
pasted = st.text_area(
    "Candidate responses, one per line",
    key="sl_paste",
    bind=URL,
    height=160,
    placeholder="Family and faith should guide this decision.\nDo what makes you happy; it's your life.",
)
if st.button("Embed, place and score", key="sl_score_btn", type="primary"):
    try:
        texts = sp.parse_candidates(pasted)
    except ValueError as exc:
        st.error(f"{exc}.")
    else:
        with st.status(f"Embedding and scoring {len(texts)} candidates…", expanded=False) as status:
            try:
                st.session_state["sl_scored"] = _score(tuple(texts), float(threshold))
                status.update(label="Scored", state="complete")
            except sp.ScorerUnavailable as exc:
                st.session_state["sl_scored"] = None
                status.update(label="Scoring unavailable", state="error")
                st.session_state["sl_score_error"] = str(exc)
if st.session_state.get("sl_score_error") and not st.session_state.get("sl_scored"):
    st.error(st.session_state["sl_score_error"])
scored = st.session_state.get("sl_scored")
if scored:
    st.session_state.pop("sl_score_error", None)
    pos = np.asarray(scored["positions"])
    poles_of = dv.on_pole(pos, float(threshold))
    reach = [", ".join(POLE_LABELS[p] for p in POLES if poles_of[p][i]) or "no pole" for i in range(len(pos))]
    pc1, pc2 = st.columns([3, 2])
    pc1.plotly_chart(
        candidates_figure(pos, scored["texts"], float(threshold), reach),
        key="sl_paste_chart",
        config=chart_config("sampling lab pasted candidates"),
    )
    m = dv.set_metrics(pos, float(threshold))
    pc2.metric("Poles covered", f"{m['n_poles_covered']} of 4")
    pc2.metric("Vendi score (plane)", f"{m['vendi']:.2f}", help="Effective number of distinct candidates, 1..k.")
    if "vendi_embedding" in scored["metrics"]:
        pc2.metric("Vendi score (embeddings, cosine)", f"{scored['metrics']['vendi_embedding']:.2f}")
    pc2.dataframe(
        pl.DataFrame(
            {
                "#": list(range(1, len(pos) + 1)),
                "response": scored["texts"],
                "self_expression": pos[:, 0],
                "secular": pos[:, 1],
                "poles": reach,
            }
        ),
        hide_index=True,
    )
