"""Reward-model recovery: simulate heterogeneous annotators and see which sampling strategy lets a reward model learn them."""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl
import streamlit as st

from analysis.lab import codecs, population, recovery_report, simulate
from analysis.lab.strategies import STRATEGIES, STRATEGY_LABELS, StrategyParams
from charts import reward as reward_charts
from ui import db, safe_text, state

BASE = simulate.SimConfig()
INTRO = (
    "Simulated annotators from five countries (or hidden types) pick one of k candidates by how close it lies to their "
    "own ideal point on the Inglehart-Welzel plane. Reward models are fitted on those k-way choices and scored on "
    "held-out prompts whose candidates are spread uniformly over the plane (the same test set for every strategy). "
    "Does the sampling strategy that produced the candidates decide whose values the reward model learns? "
    "Everything here is simulated: the database and the filters in the sidebar do not enter it."
)
ILLUSTRATIVE = (
    "**Illustrative simulation.** Country positions, within-country spread, the choice model's rationality and the "
    "sampling strategies' model positions are chosen by us, not measured. Edit them below and watch the effect."
)
POPULATION_COLUMNS = {
    "name": st.column_config.TextColumn("group"),
    "x": st.column_config.NumberColumn("x: self-expression", min_value=-1.5, max_value=1.5, step=0.05),
    "y": st.column_config.NumberColumn("y: secular-rational", min_value=-1.5, max_value=1.5, step=0.05),
    "spread": st.column_config.NumberColumn("spread", min_value=0.0, max_value=1.5, step=0.05),
    "share": st.column_config.NumberColumn("share", min_value=0.0, step=0.05),
}


@dataclass(frozen=True)
class Knobs:
    strategies: list[str]
    per: int
    annotators: int
    n_seeds: int
    beta: float
    utility: str
    models: list[str]
    temperature: float
    k: int
    n_components: int
    shrinkage: float


def _select_slider(container, label, key, options, default, read=state.read_int, **kwargs):
    return state.url_widget(container.select_slider, label, key=key, default=default, read=read, options=options,
                            **kwargs)  # fmt: skip


def _slider(container, label, key, default, lo, hi, step=None, read=state.read_int, **kwargs):
    return state.url_widget(container.slider, label, key=key, default=default, read=read,
                            read_args={"lo": lo, "hi": hi}, min_value=lo, max_value=hi, step=step, **kwargs)  # fmt: skip


def knobs() -> Knobs:
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    chosen = state.url_widget(
        c1.multiselect, "Sampling strategies (one, or two side by side)", key="rr_strategies", default=["iid", "nc"],
        read=state.read_list, read_args={"choices": STRATEGIES}, options=STRATEGIES, max_selections=2,
        help="  \n".join(f"**{s}**: {STRATEGY_LABELS[s]}" for s in STRATEGIES),
    )  # fmt: skip
    per = _select_slider(c2, "Comparisons per annotator (N)", "rr_per", [2, 5, 10, 20, 40], 10)
    annotators = _select_slider(c3, "Annotators (all groups)", "rr_annotators", [100, 250, 500, 1000, 2000], 500)
    n_seeds = _slider(c4, "Seeds (bands)", "rr_seeds", 3, 1, 5)
    c5, c6, c7, c8 = st.columns(4)
    beta = _slider(
        c5, "Rationality β", "rr_beta", BASE.choice.beta, 0.5, 10.0, 0.5, read=state.read_float,
        help="P(choose j) ∝ exp(β·u_j). Low β: nearly random choices; high β: always the best candidate.",
    )  # fmt: skip
    utility = state.url_widget(
        c6.radio, "Utility", key="rr_utility", default=population.UTILITIES[0],
        read_args={"choices": population.UTILITIES}, options=population.UTILITIES,
        captions=[population.UTILITY_LABELS[u] for u in population.UTILITIES],
        help="Linear utility reads each annotator's point as a direction of preference; there is then no ideal point "
        "to recover.",
    )  # fmt: skip
    models = state.url_widget(
        c7.multiselect, "Reward models", key="rr_models", default=list(simulate.MODELS), read=state.read_list,
        read_args={"choices": simulate.MODELS}, options=simulate.MODELS,
        help="  \n".join(f"**{m}**: {simulate.MODEL_LABELS[m]}" for m in simulate.MODELS),
    )  # fmt: skip
    temperature = _slider(c8, "Sampling temperature", "rr_temp", StrategyParams().temperature, 0.1, 2.0, 0.05,
                          read=state.read_float, help="Scales the spread of the sampling lab's models (all strategies).")  # fmt: skip
    c9, c10, c11 = st.columns(3)
    k = _slider(c9, "Candidates per prompt (k)", "rr_k", BASE.k, 2, 8)
    n_components = state.url_widget(
        c10.number_input, "Mixture types K (0 = one per group)", key="rr_K", default=0, read=state.read_int,
        read_args={"lo": 0, "hi": 10}, min_value=0, max_value=10,
    )  # fmt: skip
    shrinkage = _select_slider(
        c11, "Per-annotator shrinkage (prior precision)", "rr_shrink", [0.1, 0.3, 1.0, 3.0, 10.0], 1.0,
        read=state.read_float, help="How strongly each annotator's reward is pulled toward their group's.",
    )  # fmt: skip
    ordered = [s for s in STRATEGIES if s in chosen]
    return Knobs(ordered, int(per), int(annotators), int(n_seeds), float(beta), utility, list(models),
                 float(temperature), int(k), int(n_components), float(shrinkage))  # fmt: skip


def _default_groups(mode: str) -> tuple[population.Group, ...]:
    if mode != "latent":
        return population.DEFAULT_GROUPS
    l1, l2, l3 = st.columns(3)
    n_types = _slider(l1, "Hidden types", "rr_types", 3, 2, 6)
    radius = _slider(l2, "Distance from the centre", "rr_radius", 0.7, 0.2, 1.2, 0.05, read=state.read_float)
    spread = _slider(l3, "Spread within a type", "rr_spread", 0.25, 0.0, 0.8, 0.05, read=state.read_float)
    return population.latent_population(n_types, radius, spread).groups


def _population_start(editor_key: str, default_groups) -> None:
    """The editor's first rows: the link's population on the session's first load, else the defaults."""
    if editor_key in st.session_state.get("rr_pop_initial", {}):
        return
    start, problem = default_groups, None
    if st.query_params.get("rr_pop") and not st.session_state.get("rr_pop_url_read"):  # first load only
        try:
            start = codecs.groups_from_param(st.query_params["rr_pop"])
        except ValueError as exc:
            problem = f"The population in the link could not be read ({exc}); showing the defaults."
    st.session_state["rr_pop_url_read"] = True
    st.session_state["rr_pop_initial"] = {editor_key: population.groups_to_rows(start)}
    st.session_state["rr_pop_problem"] = problem


def population_editor() -> population.Population:
    with st.expander("Population (illustrative, editable)", expanded=False):
        mode = state.url_widget(
            st.radio, "Groups", key="rr_mode", default=population.MODES[0], read_args={"choices": population.MODES},
            options=population.MODES, horizontal=True,
            captions=["countries: models may condition on them", "hidden types: no model is told the type"],
        )  # fmt: skip
        default_groups = _default_groups(mode)
        st.caption(
            "x = self-expression (survival at -1), y = secular-rational (traditional at -1); spread = s.d. of "
            "members' ideal points around the group's; share = the group's part of the annotators. "
            + population.ILLUSTRATIVE_NOTE
        )
        editor_key = f"rr_pop_editor_{mode}_{codecs.groups_to_param(default_groups)}"
        _population_start(editor_key, default_groups)
        if st.session_state.get("rr_pop_problem"):
            st.warning(safe_text.plain(st.session_state["rr_pop_problem"]))
        edited = st.data_editor(pl.DataFrame(st.session_state["rr_pop_initial"][editor_key]), num_rows="dynamic",
                                key=editor_key, hide_index=True, column_config=POPULATION_COLUMNS)  # fmt: skip
        try:
            pop = population.Population(population.groups_from_rows(edited.to_dicts()), mode=mode)
        except ValueError as exc:
            st.error(
                f"The population table has a problem: {safe_text.plain(exc)}. Using the defaults until it is fixed."
            )
            pop = population.Population(default_groups, mode=mode)
        pop = replace(pop, illustrative=pop.groups == default_groups)
        state.write("rr_pop", None if pop.groups == default_groups else codecs.groups_to_param(pop.groups))
        s = population.spread_summary(pop)
        more = " (people differ more within groups than groups differ, as the human study found)."
        st.caption(
            f"Typical distance between two members of one group: {s['within']:.2f}; mean distance between group "
            f"ideal points: {s['between']:.2f}" + (more if s["within"] > s["between"] else ".")
        )
    return pop


def build_config(kn: Knobs, pop: population.Population) -> simulate.SimConfig | None:
    try:
        config = simulate.SimConfig(
            population=pop, choice=population.ChoiceModel(kn.utility, kn.beta), k=kn.k, n_annotators=kn.annotators,
            comparisons_per_annotator=kn.per, n_components=kn.n_components, shrinkage=kn.shrinkage,
            models=tuple(kn.models), sampling=StrategyParams(temperature=kn.temperature),
        )  # fmt: skip
    except ValueError as exc:
        st.error(f"These settings cannot be simulated: {safe_text.plain(exc)}.")
        return None
    if pop.mode == "latent" and "conditional" in kn.models:
        st.caption("Hidden types: the group-conditioned model needs observed groups, so it is left out.")
    return config


def run_all(config: simulate.SimConfig, kn: Knobs) -> pl.DataFrame:
    sizes = tuple(simulate.curve_sizes(kn.per))
    jobs = [(s, seed) for s in kn.strategies for seed in range(kn.n_seeds)]
    bar = st.progress(0.0, text="Simulating annotators and fitting reward models…")
    frames = []
    for i, (strategy, seed) in enumerate(jobs):
        frames.append(db.computed(simulate.run_once, config, strategy, seed, sizes))
        bar.progress((i + 1) / len(jobs), text=f"{strategy}, seed {seed}: done ({i + 1} of {len(jobs)})")
    bar.empty()
    return pl.concat(frames)


def ideal_points_section(df: pl.DataFrame, pop: population.Population, kn: Knobs) -> None:
    st.subheader("Recovered against true ideal points")
    text = recovery_report.headline(df, pop)
    left, right = st.columns([2, 1])
    with left:
        if text is None:
            st.info(
                "With a linear utility annotators have a preferred direction, not an ideal point: compare the models "
                "by accuracy and Kendall tau below."
            )
        else:
            fig = reward_charts.ideal_points_figure(recovery_report.group_table(df), pop, kn.strategies)
            st.plotly_chart(fig, key="rr_ideal_chart")
    with right:
        if text is not None:
            st.markdown(safe_text.quoting(text, [g.name for g in pop.groups]))  # group names come from links
        for strategy, (name, dist, opt) in recovery_report.pooled_represents(df, pop).items():
            st.markdown(
                f"With **{strategy}** candidates the pooled reward's optimum ({opt[0]:.2f}, {opt[1]:.2f}) lies "
                f"nearest {safe_text.literal(name)} ({dist:.2f} away): its values are the ones a single reward "
                "represents."
            )
    st.caption(
        f"At {kn.per} comparisons per annotator ({kn.per * kn.annotators:,} in all), mean over {kn.n_seeds} seed(s). "
        "Stars: the true (illustrative) group ideal points; lines join each group's recovered point to its truth. "
        "A group's reward is the average of its members' rewards; its ideal point is that reward's optimum. The "
        "latent mixture is never told the groups: its point for a group blends the types that group's annotators "
        "were assigned to."
    )


def curves_section(df: pl.DataFrame, kn: Knobs) -> None:
    st.subheader("Learning curves")
    labels = list(reward_charts.METRICS.values())
    metric_label = state.url_widget(st.selectbox, "Metric", key="rr_metric", default=labels[0],
                                    read_args={"choices": labels}, options=labels)  # fmt: skip
    metric = {v: k for k, v in reward_charts.METRICS.items()}[metric_label]
    fig = reward_charts.learning_curves_figure(recovery_report.curves(df, metric), metric, kn.strategies)
    st.plotly_chart(fig, key="rr_curve_chart")
    st.caption(
        "Lines: mean over seeds; bands: lowest to highest seed. Accuracy is the probability that the annotator "
        "picks the candidate the model ranks first (held-out prompts, uniform candidates); the oracle uses the true "
        "utilities and marks the ceiling set by noisy choices."
    )


def groups_section(df: pl.DataFrame) -> None:
    st.subheader("Per group")
    table = recovery_report.group_table(df).with_columns(
        pl.col("model").replace_strict(simulate.MODEL_LABELS, default=pl.col("model")),
        pl.col(pl.Float64).round(3),
    )
    st.dataframe(table, hide_index=True, key="rr_table")
    st.caption(
        "Illustrative simulation. ideal_error: distance between the recovered and the true group ideal point; "
        "kendall_tau: rank agreement between the group's reward and its true utility on a 15 × 15 grid."
    )
    d1, d2 = st.columns(2)
    d1.download_button("Download the per-group table (CSV)", table.write_csv(),
                       file_name="reward_recovery_groups.csv", mime="text/csv", key="rr_download_groups")  # fmt: skip
    d2.download_button("Download every run (CSV)", df.write_csv(), file_name="reward_recovery_runs.csv",
                       mime="text/csv", key="rr_download_runs")  # fmt: skip


def main() -> None:
    state.page_start("rr_")
    st.title("Reward-model recovery")
    st.caption(INTRO)
    st.warning(ILLUSTRATIVE, icon=":material/science:")
    kn = knobs()
    pop = population_editor()
    if not kn.strategies:
        st.info("Pick one or two sampling strategies above to run the experiment.")
        return
    if not kn.models:
        st.info("Pick at least one reward model above.")
        return
    config = build_config(kn, pop)
    if config is None:
        return
    df = run_all(config, kn)
    ideal_points_section(df, pop, kn)
    curves_section(df, kn)
    groups_section(df)


main()
