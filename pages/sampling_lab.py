"""Sampling lab: trial candidate-sampling strategies and measure how much of the values space each covers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import streamlit as st

from analysis.lab import codecs, diversity, evaluation, pasted, pool, sampling_report, strategies
from analysis.schema import POLE_LABELS, POLES
from charts import sampling as sampling_charts
from ui import db, safe_text, state, widgets

DEFAULTS = strategies.StrategyParams()
PLANE_COLUMNS = {
    "x": st.column_config.NumberColumn("x: self-expression", min_value=-1.5, max_value=1.5, step=0.05),
    "y": st.column_config.NumberColumn("y: secular-rational", min_value=-1.5, max_value=1.5, step=0.05),
}
INTRO = (
    "How much of the values space do candidate sets cover? Independent draws (temperature sampling from one model, "
    "or one draw from each of several models) cluster where the models sit; negatively-correlated (NC) sampling "
    "asks for deliberately different answers. Each simulated prompt gets k candidates placed on the "
    "Inglehart-Welzel plane; coverage@k is the share of prompts whose set reaches a pole."
)
ILLUSTRATIVE = (
    "**Illustrative model positions.** The model positions, spreads, personas and knob defaults are chosen by us to "
    "show the research's qualitative result and tuned to land near its reported coverage@4, so agreement with the "
    "paper's numbers is by construction, not evidence. They are not measurements. Edit them below and watch the "
    "effect."
)


@dataclass(frozen=True)
class Knobs:
    strategies: list[str]
    k: int
    n_prompts: int
    n_seeds: int
    threshold: float
    params: strategies.StrategyParams


def _slider(container, label, key, default, lo, hi, step=None, read=state.read_int, **kwargs):
    return state.url_widget(
        container.slider, label, key=key, default=default, read=read, read_args={"lo": lo, "hi": hi},
        min_value=lo, max_value=hi, step=step, **kwargs,
    )  # fmt: skip


def _float_slider(container, label, key, default, lo, hi, step, **kwargs):
    return _slider(container, label, key, default, lo, hi, step, read=state.read_float, **kwargs)


def _table_editor(key: str, from_query, to_rows, to_query, parse, default, columns: dict, title: str):
    """An editable table of positions kept in the URL (``key``); returns what it holds, or the defaults when a row
    is wrong (with a message)."""
    if f"{key}_initial" not in st.session_state:
        start, problem = from_query(st.query_params.get(key))
        st.session_state[f"{key}_initial"] = to_rows(start)
        st.session_state[f"{key}_problem"] = problem
    if st.session_state.get(f"{key}_problem"):
        st.warning(safe_text.plain(st.session_state[f"{key}_problem"]))
    edited = st.data_editor(
        pl.DataFrame(st.session_state[f"{key}_initial"]), num_rows="dynamic", key=f"{key}_editor", column_config=columns
    )
    try:
        value = parse(edited.to_dicts())
    except ValueError as exc:
        st.error(f"The {title} table has a problem: {safe_text.plain(exc)}. Using the defaults until it is fixed.")
        value = default
    state.write(key, None if value == default else to_query(value))
    return value


def knobs() -> Knobs:
    chosen = state.url_widget(
        st.multiselect, "Strategies", key="sl_strategies", default=list(strategies.STRATEGIES), read=state.read_list,
        read_args={"choices": strategies.STRATEGIES}, options=strategies.STRATEGIES,
        help="  \n".join(f"**{s}**: {strategies.STRATEGY_LABELS[s]}" for s in strategies.STRATEGIES),
    )  # fmt: skip
    c_k, c_prompts, c_seeds, c_threshold = st.columns(4)
    k = _slider(c_k, "Candidates per prompt (k)", "sl_k", 4, 2, 12)
    n_prompts = state.url_widget(
        c_prompts.select_slider, "Prompts", key="sl_prompts", default=1000, read=state.read_int,
        options=[100, 250, 500, 1000, 2000, 5000],
    )  # fmt: skip
    n_seeds = _slider(c_seeds, "Seeds (for the interval)", "sl_seeds", 5, 1, 10)
    threshold = _float_slider(
        c_threshold, "Pole threshold", "sl_threshold", diversity.DEFAULT_THRESHOLD, 0.1, 1.5, 0.05,
        help="A response is on the traditional pole when secular <= -threshold, on survival when "
        "self_expression <= -threshold (and likewise + for the other two poles).",
    )  # fmt: skip
    c_temp, c_nc, c_pull = st.columns(3)
    temperature = _float_slider(c_temp, "Temperature", "sl_temp", DEFAULTS.temperature, 0.1, 2.0, 0.05,
                                help="Scales every model's spread.")  # fmt: skip
    nc_strength = _float_slider(c_nc, "NC strength", "sl_nc", DEFAULTS.nc_strength, 0.0, 1.0, 0.05,
                                help="0: the NC set is drawn i.i.d.; 1: its members are pushed fully apart.")  # fmt: skip
    persona_pull = _float_slider(
        c_pull, "Persona pull", "sl_pull", DEFAULTS.persona_pull, 0.0, 1.0, 0.01,
        help="How far a persona moves the model from its default (0: not at all, 1: all the way).",
    )  # fmt: skip
    models, personas = position_tables()
    params = strategies.StrategyParams(
        models=models, personas=personas, temperature=temperature, nc_strength=nc_strength, persona_pull=persona_pull
    )
    ordered = [s for s in strategies.STRATEGIES if s in chosen]
    return Knobs(ordered, int(k), int(n_prompts), int(n_seeds), float(threshold), params)


def position_tables() -> tuple[tuple[strategies.ModelProfile, ...], tuple[tuple[float, float], ...]]:
    with st.expander("Model default positions (illustrative, editable)", expanded=False):
        st.caption(
            "x = self-expression (survival at -1), y = secular-rational (traditional at -1); spread = s.d. of a "
            "model's answers at temperature 1. iid, persona and NC use the first row; multi cycles through all rows. "
            "Illustrative values, not measurements."
        )
        models = _table_editor(
            "sl_models", codecs.models_from_query, strategies.models_to_rows, codecs.models_to_query,
            strategies.models_from_rows, strategies.DEFAULT_MODELS,
            {"name": st.column_config.TextColumn("model (illustrative)"), **PLANE_COLUMNS,
             "spread": st.column_config.NumberColumn("spread", min_value=0.0, max_value=1.5, step=0.05)},
            "model",
        )  # fmt: skip
    with st.expander("Persona positions (illustrative, editable)", expanded=False):
        st.caption(
            "Where each persona would pull an answer (x = self-expression, y = secular-rational). The persona strategy "
            "gives candidate i the i-th persona (cycling) and moves the first model's default 'persona pull' of the "
            "way toward it. Illustrative values, not measurements."
        )
        personas = _table_editor(
            "sl_personas", codecs.personas_from_query, codecs.personas_to_rows, codecs.personas_to_query,
            codecs.personas_from_rows, strategies.DEFAULT_PERSONAS, PLANE_COLUMNS, "persona",
        )  # fmt: skip
    return models, personas


def metrics_section(kn: Knobs) -> None:
    seeds = tuple(range(kn.n_seeds))
    bar = st.progress(0.0, text="Evaluating strategies…")
    parts = []
    for i, s in enumerate(kn.strategies):
        parts.append(db.computed(evaluation.evaluate, s, kn.n_prompts, kn.k, list(seeds), kn.params, kn.threshold))
        bar.progress((i + 1) / len(kn.strategies), text=f"Evaluated {s}")
    bar.empty()
    table = pl.concat(parts)
    st.subheader(f"Coverage of the minority poles, k = {kn.k}")
    sentence = sampling_report.headline(table)
    if sentence:
        st.markdown(f"**{sentence}**")
    if kn.k != 4:
        st.caption("The paper's numbers are coverage@4; with k ≠ 4 they are shown for orientation only.")
    st.plotly_chart(sampling_charts.coverage_figure(table, sampling_report.REPORTED_COVERAGE_AT_4),
                    key="sl_cov_chart", config=widgets.chart_config("sampling lab coverage"))  # fmt: skip
    st.caption(
        "Bars: simulated from the illustrative model positions (mean over seeds, 95% interval). Black diamonds: "
        f"{sampling_report.REPORTED_SOURCE}."
    )
    st.subheader("Metrics per strategy")
    st.dataframe(sampling_report.comparison_table(table, kn.k), hide_index=True, key="sl_table")
    st.caption(
        f"Simulated, {kn.n_prompts} prompts × {len(seeds)} seed(s), pole threshold {kn.threshold}: mean [95% interval "
        "over seeds]. The two 'paper' columns are reported in the paper, not simulated. Vendi: effective number of "
        "distinct candidates (RBF kernel on the plane, bandwidth 0.5). Convex-hull area is our own measure, not the "
        "paper's."
    )
    st.download_button("Download the table (CSV)", sampling_report.download_table(table).write_csv(),
                       file_name=f"sampling_lab_k{kn.k}_t{kn.threshold}.csv", mime="text/csv", key="sl_download")  # fmt: skip


def example_sets_section(kn: Knobs) -> tuple[int, int]:
    st.subheader("Example candidate sets on the values plane")
    ex1, ex2, ex3 = st.columns([1, 1, 2])
    n_examples = _slider(ex1, "Example prompts", "sl_examples", 3, 1, 6)
    example_seed = state.url_widget(
        ex2.number_input, "Example seed", key="sl_example_seed", default=0, read=state.read_int,
        read_args={"lo": 0, "hi": 10_000}, min_value=0, max_value=10_000,
    )  # fmt: skip
    ex3.caption(
        "Each colour is one prompt's candidate set (outlined); crosses are the illustrative model defaults (the dark "
        "one, the first model, is the one iid, persona and NC draw around); the shaded bands are the traditional and "
        "survival regions beyond the pole threshold (dotted lines)."
    )
    sets = {s: strategies.draw_sets(s, int(n_examples), kn.k, int(example_seed), kn.params) for s in kn.strategies}
    fig = sampling_charts.example_sets_figure(
        sets, {s: f"{s}: {strategies.STRATEGY_SHORT[s]}" for s in kn.strategies},
        [(m.name, m.center) for m in kn.params.models], kn.threshold,
    )  # fmt: skip
    st.plotly_chart(fig, key="sl_examples_chart", config=widgets.chart_config("sampling lab example sets"))
    return int(n_examples), int(example_seed)


def _pool_results(kn: Knobs, source: str, n_examples: int, example_seed: int) -> None:
    target = tuple(float(v) for v in kn.params.models[0].center)
    with st.spinner("Choosing k responses per prompt with each method…"):
        try:
            pool_df = db.cached(
                pool.evaluate_pool_db, source, kn.k, list(range(kn.n_seeds)), kn.threshold, None, target
            )
            pool_ex = db.cached(pool.pool_examples_db, source, kn.k, n_examples, example_seed, None, target)
        except pool.PoolUnavailable as exc:
            st.info(f"Not available on this database yet: {safe_text.plain(exc)}.")
            return
    st.dataframe(sampling_report.comparison_table(pool_df, kn.k, paper=False), hide_index=True, key="sl_pool_table")
    st.caption(
        f"{pool_df['n_prompts'][0]} prompts with at least {max(kn.k + 1, 2 * kn.k)} responses; mean [95% interval over "
        "seeds]; 'nearest' and 'dpp' are deterministic. The paper's numbers are about generation strategies "
        "(temperature vs NC sampling), not these selection methods, so they are not repeated here."
    )
    st.download_button("Download the real-text table (CSV)", pool_df.write_csv(),
                       file_name=f"sampling_lab_pool_{source}_k{kn.k}.csv", mime="text/csv", key="sl_pool_download")  # fmt: skip
    fig = sampling_charts.example_sets_figure(
        pool_ex["sets"], {m: f"{m}: {pool.POOL_METHOD_SHORT[m]}" for m in pool.POOL_METHODS},
        [(f"{kn.params.models[0].name}: target of 'nearest'", target)], kn.threshold,
    )  # fmt: skip
    st.plotly_chart(
        fig, key="sl_pool_examples_chart", config=widgets.chart_config("sampling lab real-text example sets")
    )
    st.caption(
        f"{len(pool_ex['prompt_hashes'])} prompts drawn at random (example seed); each colour is one prompt's "
        "k chosen responses, placed by the value-axis scorer. Every method chooses from the same prompts."
    )


def real_texts_section(kn: Knobs, n_examples: int, example_seed: int) -> None:
    st.subheader("The same choice on real texts")
    st.caption(
        "Where a prompt has more responses than k (the dataset's candidates, uploaded LLM responses), choose k of "
        "them: at random (like independent sampling), the k nearest to the first model's default position, by "
        "farthest-point traversal, or by a greedy DPP on the text embeddings. Positions come from the project's "
        "value-axis scorer, so these numbers are measured on the texts, not illustrative — but only as good as the "
        "scorer."
    )
    rt1, rt2 = st.columns([2, 1])
    source = state.url_widget(
        rt1.segmented_control, "Pool", key="sl_pool", default="candidates", read_args={"choices": pool.POOL_SOURCES},
        options=pool.POOL_SOURCES, format_func=lambda s: pool.POOL_SOURCE_SHORT[s], required=True,
        help="  \n".join(f"**{pool.POOL_SOURCE_SHORT[s]}**: {pool.POOL_SOURCE_LABELS[s]}" for s in pool.POOL_SOURCES),
    )  # fmt: skip
    run_pool = state.url_widget(rt2.toggle, "Evaluate on the database's texts", key="sl_pool_on", default=False,
                                read=state.read_bool)  # fmt: skip
    if not run_pool:
        return
    db_path = db.db_path()
    if not db_path.exists():
        st.info(
            f"No database at {safe_text.literal(db_path)}: build the demo with `python -m analysis demo`, or set CAE_DB."
        )
        return
    _pool_results(kn, source or "candidates", n_examples, example_seed)


def _score_pasted(text: str, threshold: float) -> None:
    try:
        texts = pasted.parse_candidates(text)
    except ValueError as exc:
        st.error(f"{safe_text.plain(exc)}.")
        return
    with st.status(f"Embedding and scoring {len(texts)} candidates…", expanded=False) as status:
        try:
            st.session_state["sl_scored"] = db.computed(pasted.score_candidates, texts, threshold)
            st.session_state.pop("sl_score_error", None)
            status.update(label="Scored", state="complete")
        except pasted.ScorerUnavailable as exc:
            st.session_state["sl_scored"] = None
            st.session_state["sl_score_error"] = str(exc)
            status.update(label="Scoring unavailable", state="error")


def _pasted_result(scored: dict, threshold: float) -> None:
    pos = np.asarray(scored["positions"])
    poles_of = diversity.on_pole(pos, threshold)
    reach = [", ".join(POLE_LABELS[p] for p in POLES if poles_of[p][i]) or "no pole" for i in range(len(pos))]
    pc1, pc2 = st.columns([3, 2])
    pc1.plotly_chart(sampling_charts.candidates_figure(pos, scored["texts"], threshold, reach), key="sl_paste_chart",
                     config=widgets.chart_config("sampling lab pasted candidates"))  # fmt: skip
    m = diversity.set_metrics(pos, threshold)
    pc2.metric("Poles covered", f"{m['n_poles_covered']} of 4")
    pc2.metric("Vendi score (plane)", f"{m['vendi']:.2f}", help="Effective number of distinct candidates, 1..k.")
    if "vendi_embedding" in scored["metrics"]:
        pc2.metric("Vendi score (embeddings, cosine)", f"{scored['metrics']['vendi_embedding']:.2f}")
    pc2.dataframe(
        pl.DataFrame({"#": list(range(1, len(pos) + 1)), "response": scored["texts"], "self_expression": pos[:, 0],
                      "secular": pos[:, 1], "poles": reach}),
        hide_index=True,
    )  # fmt: skip


def paste_section(threshold: float) -> None:
    st.subheader("Paste your own candidates")
    st.caption(
        f"One response per line (2 to {pasted.MAX_PASTED}). They are embedded, placed on the value axes fitted on the "
        "project's labelled statements, and measured with the same metrics."
    )
    text = state.url_widget(
        st.text_area, "Candidate responses, one per line", key="sl_paste", default="", height=160,
        placeholder="Family and faith should guide this decision.\nDo what makes you happy; it's your life.",
    )  # fmt: skip
    if st.button("Embed, place and score", key="sl_score_btn", type="primary"):
        _score_pasted(text, threshold)
    if st.session_state.get("sl_score_error") and not st.session_state.get("sl_scored"):
        st.error(safe_text.plain(st.session_state["sl_score_error"]))
    if st.session_state.get("sl_scored"):
        _pasted_result(st.session_state["sl_scored"], threshold)


def main() -> None:
    state.page_start("sl_")
    st.title("Sampling lab")
    st.caption(INTRO)
    st.warning(ILLUSTRATIVE, icon=":material/science:")
    kn = knobs()
    if not kn.strategies:
        st.info("Pick at least one strategy above to see its candidate sets and metrics.")
        return
    metrics_section(kn)
    n_examples, example_seed = example_sets_section(kn)
    real_texts_section(kn, n_examples, example_seed)
    paste_section(kn.threshold)


main()
