"""Reward-model recovery: simulate heterogeneous annotators and see which sampling strategy lets a reward model learn them."""

from __future__ import annotations

import json
from dataclasses import replace

import polars as pl
import streamlit as st

from analysis import population as pp
from analysis import simulate as sm
from analysis.reward_figures import METRICS, ideal_points_figure, learning_curves_figure
from analysis.sampling import STRATEGIES, STRATEGY_LABELS, StrategyParams
from ui.state import ensure_app_shell

ensure_app_shell()

URL = "query-params"
BASE = sm.SimConfig()

st.title("Reward-model recovery")
st.caption(
    "Simulated annotators from five countries (or hidden types) pick one of k candidates by how close it lies to their "
    "own ideal point on the Inglehart-Welzel plane. Reward models are fitted on those k-way choices and scored on "
    "held-out prompts whose candidates are spread uniformly over the plane (the same test set for every strategy). "
    "Does the sampling strategy that produced the candidates decide whose values the reward model learns? "
    "Everything here is simulated: the database and the filters in the sidebar do not enter it."
)
st.warning(
    "**Illustrative simulation.** Country positions, within-country spread, the choice model's rationality and the "
    "sampling strategies' model positions are chosen by us, not measured. Edit them below and watch the effect.",
    icon=":material/science:",
)


@st.cache_data(show_spinner=False, max_entries=32)
def _run(config_json: str, strategy: str, seed: int, sizes: tuple[int, ...]) -> pl.DataFrame:
    return sm.run_once(_config_from_json(config_json), strategy, seed, sizes)


def _config_json(params: dict, temperature: float) -> str:
    return json.dumps({"params": params, "temperature": temperature}, sort_keys=True)


def _config_from_json(text: str) -> sm.SimConfig:
    d = json.loads(text)
    cfg, _ = sm.config_from_params(d["params"])
    return replace(cfg, sampling=StrategyParams(temperature=float(d["temperature"])))


# ---- the experiment's knobs (bound to the URL) ---------------------------------------------------------------
c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
strategies = c1.multiselect(
    "Sampling strategies (one, or two side by side)",
    STRATEGIES,
    default=["iid", "nc"],
    max_selections=2,
    key="rr_strategies",
    bind=URL,
    help="  \n".join(f"**{s}**: {STRATEGY_LABELS[s]}" for s in STRATEGIES),
)
per = c2.select_slider("Comparisons per annotator (N)", options=[2, 5, 10, 20, 40], value=10, key="rr_per", bind=URL)
annotators = c3.select_slider(
    "Annotators (all groups)", options=[100, 250, 500, 1000, 2000], value=500, key="rr_annotators", bind=URL
)
n_seeds = c4.slider("Seeds (bands)", 1, 5, 3, key="rr_seeds", bind=URL)

c5, c6, c7, c8 = st.columns(4)
beta = c5.slider(
    "Rationality β",
    0.5,
    10.0,
    BASE.choice.beta,
    0.5,
    key="rr_beta",
    bind=URL,
    help="P(choose j) ∝ exp(β·u_j). Low β: nearly random choices; high β: always the best candidate.",
)
utility_kind = c6.radio(
    "Utility",
    pp.UTILITIES,
    captions=[pp.UTILITY_LABELS[u] for u in pp.UTILITIES],
    key="rr_utility",
    bind=URL,
    help="Linear utility reads each annotator's point as a direction of preference; there is then "
    "no ideal point to recover.",
)
models = c7.multiselect(
    "Reward models",
    sm.MODELS,
    default=list(sm.MODELS),
    key="rr_models",
    bind=URL,
    help="  \n".join(f"**{m}**: {sm.MODEL_LABELS[m]}" for m in sm.MODELS),
)
temperature = c8.slider(
    "Sampling temperature",
    0.1,
    2.0,
    StrategyParams().temperature,
    0.05,
    key="rr_temp",
    bind=URL,
    help="Scales the spread of the sampling lab's models (all strategies).",
)

c9, c10, c11 = st.columns(3)
k = c9.slider("Candidates per prompt (k)", 2, 8, BASE.k, key="rr_k", bind=URL)
n_components = c10.number_input("Mixture types K (0 = one per group)", 0, 10, 0, key="rr_K", bind=URL)
shrinkage = c11.select_slider(
    "Per-annotator shrinkage (prior precision)",
    options=[0.1, 0.3, 1.0, 3.0, 10.0],
    value=1.0,
    key="rr_shrink",
    bind=URL,
    help="How strongly each annotator's reward is pulled toward their group's.",
)

# ---- the population ---------------------------------------------------------------------------------------------
with st.expander("Population (illustrative, editable)", expanded=False):
    mode = st.radio(
        "Groups",
        pp.MODES,
        key="rr_mode",
        bind=URL,
        horizontal=True,
        captions=["countries: models may condition on them", "hidden types: no model is told the type"],
    )
    if mode == "latent":
        l1, l2, l3 = st.columns(3)
        n_types = l1.slider("Hidden types", 2, 6, 3, key="rr_types", bind=URL)
        radius = l2.slider("Distance from the centre", 0.2, 1.2, 0.7, 0.05, key="rr_radius", bind=URL)
        spread = l3.slider("Spread within a type", 0.0, 0.8, 0.25, 0.05, key="rr_spread", bind=URL)
        default_groups = pp.latent_population(n_types, radius, spread).groups
    else:
        default_groups = pp.DEFAULT_GROUPS
    st.caption(
        "x = self-expression (survival at -1), y = secular-rational (traditional at -1); spread = s.d. of members' "
        "ideal points around the group's; share = the group's part of the annotators. " + pp.ILLUSTRATIVE_NOTE
    )
    editor_key = f"rr_pop_editor_{mode}_{pp.groups_to_param(default_groups)}"
    if editor_key not in st.session_state.get("rr_pop_initial", {}):
        start, problem = default_groups, None
        if st.query_params.get("rr_pop") and not st.session_state.get("rr_pop_url_read"):  # first load only
            try:
                start = pp.groups_from_param(st.query_params["rr_pop"])
            except ValueError as exc:
                problem = f"The population in the link could not be read ({exc}); showing the defaults."
        st.session_state["rr_pop_url_read"] = True
        st.session_state["rr_pop_initial"] = {editor_key: pp.groups_to_rows(start)}
        st.session_state["rr_pop_problem"] = problem
    if st.session_state.get("rr_pop_problem"):
        st.warning(st.session_state["rr_pop_problem"])
    edited = st.data_editor(
        pl.DataFrame(st.session_state["rr_pop_initial"][editor_key]),
        num_rows="dynamic",
        key=editor_key,
        hide_index=True,
        column_config={
            "name": st.column_config.TextColumn("group"),
            "x": st.column_config.NumberColumn("x: self-expression", min_value=-1.5, max_value=1.5, step=0.05),
            "y": st.column_config.NumberColumn("y: secular-rational", min_value=-1.5, max_value=1.5, step=0.05),
            "spread": st.column_config.NumberColumn("spread", min_value=0.0, max_value=1.5, step=0.05),
            "share": st.column_config.NumberColumn("share", min_value=0.0, step=0.05),
        },
    )
    try:
        population = pp.Population(pp.groups_from_rows(edited.to_dicts()), mode=mode)
    except ValueError as exc:
        st.error(f"The population table has a problem: {exc}. Using the defaults until it is fixed.")
        population = pp.Population(default_groups, mode=mode)
    population = replace(population, illustrative=population.groups == default_groups)
    if population.groups == default_groups:
        st.query_params.pop("rr_pop", None)
    else:
        st.query_params["rr_pop"] = pp.groups_to_param(population.groups)
    s = pp.spread_summary(population)
    st.caption(
        f"Typical distance between two members of one group: {s['within']:.2f}; mean distance between group ideal "
        f"points: {s['between']:.2f}"
        + (
            " (people differ more within groups than groups differ, as the human study found)."
            if s["within"] > s["between"]
            else "."
        )
    )

if not strategies:
    st.info("Pick one or two sampling strategies above to run the experiment.")
    st.stop()
if not models:
    st.info("Pick at least one reward model above.")
    st.stop()
strategies = [x for x in STRATEGIES if x in strategies]

try:
    config = sm.SimConfig(
        population=population,
        choice=pp.ChoiceModel(utility_kind, float(beta)),
        k=int(k),
        n_annotators=int(annotators),
        comparisons_per_annotator=int(per),
        n_components=int(n_components),
        shrinkage=float(shrinkage),
        models=tuple(models),
    )
except ValueError as exc:
    st.error(f"These settings cannot be simulated: {exc}.")
    st.stop()
config_json = _config_json(sm.config_to_params(config), float(temperature))
if population.mode == "latent" and "conditional" in models:
    st.caption("Hidden types: the group-conditioned model needs observed groups, so it is left out.")

# ---- run (cached by configuration) ------------------------------------------------------------------------------
sizes = tuple(sm.curve_sizes(per))
seeds = list(range(int(n_seeds)))
jobs = [(s, seed) for s in strategies for seed in seeds]
bar = st.progress(0.0, text="Simulating annotators and fitting reward models…")
frames = []
for i, (strategy, seed) in enumerate(jobs):
    frames.append(_run(config_json, strategy, seed, sizes))
    bar.progress((i + 1) / len(jobs), text=f"{strategy}, seed {seed}: done ({i + 1} of {len(jobs)})")
bar.empty()
df = pl.concat(frames)

# ---- recovered ideal points ---------------------------------------------------------------------------------------
st.subheader("Recovered against true ideal points")
text = sm.headline(df, population)
left, right = st.columns([2, 1])
with left:
    if text is None:
        st.info(
            "With a linear utility annotators have a preferred direction, not an ideal point: compare the models "
            "by accuracy and Kendall tau below."
        )
    else:
        st.plotly_chart(ideal_points_figure(df, population, strategies), key="rr_ideal_chart")
with right:
    if text is not None:
        st.markdown(text)
    for strategy, (name, dist, opt) in sm.pooled_represents(df, population).items():
        st.markdown(
            f"With **{strategy}** candidates the pooled reward's optimum ({opt[0]:.2f}, {opt[1]:.2f}) lies "
            f"nearest **{name}** ({dist:.2f} away): its values are the ones a single reward represents."
        )
st.caption(
    f"At {per} comparisons per annotator ({per * config.n_annotators:,} in all), mean over {len(seeds)} seed(s). "
    "Stars: the true (illustrative) group ideal points; lines join each group's recovered point to its truth. "
    "A group's reward is the average of its members' rewards; its ideal point is that reward's optimum. The "
    "latent mixture is never told the groups: its point for a group blends the types that group's annotators "
    "were assigned to."
)

# ---- learning curves ------------------------------------------------------------------------------------------------
st.subheader("Learning curves")
metric_label = st.selectbox("Metric", list(METRICS.values()), key="rr_metric", bind=URL)
metric = {v: k for k, v in METRICS.items()}[metric_label]
st.plotly_chart(learning_curves_figure(df, metric, strategies), key="rr_curve_chart")
st.caption(
    "Lines: mean over seeds; bands: lowest to highest seed. Accuracy is the probability that the annotator "
    "picks the candidate the model ranks first (held-out prompts, uniform candidates); the oracle uses the true "
    "utilities and marks the ceiling set by noisy choices."
)

# ---- per-country table ------------------------------------------------------------------------------------------------
st.subheader("Per group")
table = sm.group_table(df).with_columns(
    pl.col("model").replace_strict(sm.MODEL_LABELS, default=pl.col("model")),
    pl.col(pl.Float64).round(3),
)
st.dataframe(table, hide_index=True, key="rr_table")
st.caption(
    "Illustrative simulation. ideal_error: distance between the recovered and the true group ideal point; "
    "kendall_tau: rank agreement between the group's reward and its true utility on a 15 × 15 grid."
)
d1, d2 = st.columns(2)
d1.download_button(
    "Download the per-group table (CSV)",
    table.write_csv(),
    file_name="reward_recovery_groups.csv",
    mime="text/csv",
    key="rr_download_groups",
)
d2.download_button(
    "Download every run (CSV)",
    df.write_csv(),
    file_name="reward_recovery_runs.csv",
    mime="text/csv",
    key="rr_download_runs",
)
