"""The Tour's steps as content (charts.tour.TourStep), built from the loaded database and the lab's functions through
the one caching idiom (ui.db.cached / ui.db.computed): the page draws one step, the handout all of them.

Each step's own state is a small dict of URL keys (prefix ``tour_``); ``deeper_link`` turns it into the URL keys of the
full page that shows the same thing (its own keys, so a change there fails the page test that follows the link), and
``step_address`` into an address that opens exactly that step. Nothing here trains, embeds or fits a stored model:
the first step reads the stored axis scores, the last reads the stored preference runs.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import polars as pl

from analysis.explore import tour as people_tour
from analysis.filters import Filters
from analysis.lab import evaluation, prefs_report, prefs_store, recovery_report, sampling_report, simulate
from analysis.lab import tour as lab_tour
from analysis.lab.prefs_data import GROUPING_LABELS, GROUPINGS
from analysis.lab.strategies import STRATEGY_SHORT, draw_sets
from analysis.pipeline import steps as pipeline_steps
from analysis.pipeline.models import DEFAULT_MODEL
from charts import handout as handout_html
from charts import prefs as prefs_charts
from charts import reward as reward_charts
from charts import sampling as sampling_charts
from charts.tour import TourFigure, TourPart, TourStep, spread_figure
from ui import db, registry
from ui.state import url_text

PAGE = registry.page("pages/tour.py")
STEPS: tuple[str, ...] = ("people", "sampling", "poles", "rewards")
TITLES: dict[str, str] = {
    "people": "People spread further than LLMs",
    "sampling": "Independent sampling yields homogeneous candidates",
    "poles": "NC sampling covers the minority poles",
    "rewards": "What reward models then learn",
}
FINDINGS: dict[str, str] = {
    "people": "people in five countries spread much further across the Inglehart-Welzel value axes than the answers "
    "of 21 LLMs, which sit at the secular-rational and self-expression ends; LLM answers line up with only about 41% "
    "of human preferences (arXiv 2507.09650).",
    "sampling": "the usual way of collecting preference data (several candidates drawn independently: temperature "
    "sampling from one model, or one draw from each of several models) gives homogeneous candidate sets.",
    "poles": "negatively-correlated (NC) sampling, one request for several deliberately different answers, reaches "
    "the traditional and survival poles far more often (coverage@4 about 60% and 53%, against 15% and 30%).",
    "rewards": "alignment methods trained on independently sampled data barely learn the minority values (win rates "
    "near 0.5); trained on NC data they win 0.7-0.96.",
}
# Each step's own state: URL key -> default. The page's widgets read and write exactly these keys.
DEFAULTS: dict[str, dict[str, Any]] = {
    "people": {"tour_pp_llm": True},
    "sampling": {"tour_sa_k": 4, "tour_sa_temp": 1.0},
    "poles": {"tour_po_k": 4, "tour_po_nc": lab_tour.sampling_params().nc_strength},
    "rewards": {"tour_rw_per": 10, "tour_rw_group": "country"},
}
SYNTHETIC_NOTE = (
    "SYNTHETIC demo data: the conversations, people, choices and LLM answers in this database are generated; no "
    "finding here is about real people."
)
REWARDS_NOTE = (
    "The simulator's half is simulated with ILLUSTRATIVE parameters (the population, its choice model and the "
    "sampling strategies are chosen, not measured); the second half reads the database's stored preference models."
)
SIMULATED_NOTE = (
    "Simulated with ILLUSTRATIVE parameters (model positions, spreads and the population are chosen, not measured); "
    "the database plays no part in this step."
)


@dataclass(frozen=True)
class DeepLink:
    page: str  # the page file (registry path)
    label: str
    params: dict[str, str | list[str]]


def step_params(step: str, state: Mapping[str, Any], filters: Filters) -> dict[str, str]:
    """The URL parameters that open exactly this step: the filters, the step, its own state (defaults left out)."""
    out = dict(filters.to_query_params())
    if step != STEPS[0]:
        out["tour_step"] = step
    for key, default in DEFAULTS[step].items():
        value = state.get(key, default)
        if value != default:
            out[key] = url_text(value)
    return out


def step_address(base: str, step: str, state: Mapping[str, Any], filters: Filters) -> str:
    """``base`` (scheme://host:port of the app) + /tour + the step's parameters."""
    parts = urlsplit(base or "")
    root = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "http://localhost:8501"
    query = urlencode(step_params(step, state, filters))
    return f"{root}/{PAGE.url_path}" + (f"?{query}" if query else "")


def deeper_links(step: str, state: Mapping[str, Any], filters: Filters) -> list[DeepLink]:
    """The full pages that show a step with the same state, in their own URL keys (plus the global filters)."""
    s = {**DEFAULTS[step], **state}
    base: dict[str, str | list[str]] = dict(filters.to_query_params())
    if step == "people":
        params = {"vm_color": "Country", "vm_frame": "Mean chosen"} | ({"vm_llmpts": "1"} if s["tour_pp_llm"] else {})
        return [DeepLink("pages/values_map.py", "Look deeper: the Values map", base | params)]
    if step in ("sampling", "poles"):
        strategies = list(lab_tour.SAMPLING_STRATEGIES)
        if step == "sampling":
            params = {"sl_k": url_text(s["tour_sa_k"]), "sl_temp": url_text(float(s["tour_sa_temp"]))}
        else:
            params = {"sl_k": url_text(s["tour_po_k"]), "sl_nc": url_text(float(s["tour_po_nc"]))}
        return [
            DeepLink("pages/sampling_lab.py", "Look deeper: the Sampling lab", {"sl_strategies": strategies} | params)
        ]
    simulator = {
        "rr_strategies": list(lab_tour.RECOVERY_STRATEGIES), "rr_models": list(lab_tour.RECOVERY_MODELS),
        "rr_per": url_text(s["tour_rw_per"]), "rr_annotators": url_text(lab_tour.RECOVERY_ANNOTATORS),
        "rr_seeds": url_text(len(lab_tour.RECOVERY_SEEDS)),
    }  # fmt: skip
    return [
        DeepLink("pages/reward_recovery.py", "Look deeper: Reward recovery (the simulator)", simulator),
        DeepLink(
            "pages/preferences.py", "Look deeper: Preferences from the data", base | {"pf_group": s["tour_rw_group"]}
        ),
    ]


def _notes(info: Mapping[str, Any], simulated: bool) -> tuple[str, ...]:
    notes = [SIMULATED_NOTE] if simulated else []
    if info.get("synthetic"):
        notes.append(SYNTHETIC_NOTE)
    return tuple(notes)


# ------------------------------------------------------------------------------------------------ the steps
def _people_missing(ready: pipeline_steps.Readiness, data: people_tour.PeopleStep | None) -> str | None:
    if not ready.can_plane:
        return (
            f"This database has no value-axis scores for {ready.model} yet ({ready.n_embedded:,} of "
            f"{ready.n_candidates:,} responses embedded), so people and LLMs cannot be placed. The Values map builds "
            "them (its 'Run these steps now' button, minutes on a small machine) or, in a terminal: "
            + " && ".join(ready.commands)
        )
    if data is not None and data.missing == "llm":
        return (
            f"This database holds scored answers of {data.llm_models.height} LLM(s); comparing spreads needs at least "
            f"{people_tour.MIN_LLMS}. Upload your models' answers to its prompts on the Values map ('Place your own "
            "models') or run `python -m analysis llm --csv FILE`."
        )
    if data is not None and data.spread is None:
        return "No scored choices match the filters. Widen them in the sidebar."
    return None


def people(info: Mapping[str, Any], filters: Filters, show_llm: bool = True) -> TourStep:
    ready = db.cached(pipeline_steps.readiness, DEFAULT_MODEL, str(db.db_path()))
    data = db.cached(people_tour.people_step, filters, DEFAULT_MODEL) if ready.can_plane else None
    missing = _people_missing(ready, data)
    if missing or data is None or data.spread is None:
        part = TourPart(None, None, missing=missing)
    else:
        figure = TourFigure(
            "people and LLMs spread",
            spread_figure(data, show_llm),
            f"Coloured dots: people, each at the mean of the responses they chose (those with at least "
            f"{people_tour.MIN_CHOICES} scored choices; at most {people_tour.MAX_DRAWN:,} drawn). Diamonds: each LLM "
            "at the mean of its answers; faint crosses: the answers. Dashed circles: the measured spreads, the mean "
            "distance of people's chosen answers (grey) and of the LLM answers (red) from their centre (+). Positions "
            f"from the value-axis scores of {DEFAULT_MODEL}; statistics as on the Values map (analysis.explore.findings).",
        )
        part = TourPart(None, people_tour.people_sentence(data.spread), (figure,))
    return TourStep("people", 1, TITLES["people"], FINDINGS["people"], (part,), _notes(info, False))


def _sampling_table(k: int, params) -> pl.DataFrame:
    seeds = list(lab_tour.SAMPLING_SEEDS)
    parts = [
        db.computed(evaluation.evaluate, s, lab_tour.SAMPLING_PROMPTS, int(k), seeds, params)
        for s in lab_tour.SAMPLING_STRATEGIES
    ]
    return pl.concat(parts)


def _settings(k: int, params) -> str:
    return (
        f"{lab_tour.SAMPLING_PROMPTS:,} simulated prompts × {len(lab_tour.SAMPLING_SEEDS)} seeds, k = {k}, "
        f"temperature {params.temperature:g}, NC strength {params.nc_strength:g} (illustrative)."
    )


def sampling(info: Mapping[str, Any], k: int = 4, temperature: float = 1.0) -> TourStep:
    params = lab_tour.sampling_params(temperature)
    table = _sampling_table(k, params)
    sets = {s: draw_sets(s, 3, int(k), 0, params) for s in lab_tour.SAMPLING_STRATEGIES}
    figure = TourFigure(
        "example candidate sets",
        sampling_charts.example_sets_figure(
            sets, {s: f"{s}: {STRATEGY_SHORT[s]}" for s in sets}, [(m.name, m.center) for m in params.models], 0.5
        ),
        "Three simulated prompts per strategy; each colour is one prompt's candidate set (outlined). Grey crosses: the "
        "illustrative model positions. " + _settings(k, params),
    )
    part = TourPart(None, lab_tour.homogeneity_sentence(table, int(k)), (figure,))
    return TourStep("sampling", 2, TITLES["sampling"], FINDINGS["sampling"], (part,), _notes(info, True))


def poles(info: Mapping[str, Any], k: int = 4, nc_strength: float | None = None) -> TourStep:
    params = lab_tour.sampling_params(1.0, nc_strength)
    table = _sampling_table(k, params)
    reported = sampling_report.REPORTED_COVERAGE_AT_4 if int(k) == 4 else {}  # the paper's numbers are about k = 4
    figure = TourFigure(
        "coverage of the minority poles",
        sampling_charts.coverage_figure(table, reported),
        "Bars: share of simulated prompts whose candidate set holds a response on the pole (mean over seeds, 95% "
        "interval). Black diamonds: coverage@4 reported in the paper. " + _settings(k, params),
    )
    part = TourPart(None, lab_tour.coverage_sentence(table, int(k)), (figure,))
    return TourStep("poles", 3, TITLES["poles"], FINDINGS["poles"], (part,), _notes(info, True))


def _recovery(per: int) -> pl.DataFrame:
    config = lab_tour.recovery_config(per)
    return pl.concat(
        [
            db.computed(simulate.run_once, config, s, seed, [int(per)])
            for s in lab_tour.RECOVERY_STRATEGIES
            for seed in lab_tour.RECOVERY_SEEDS
        ]
    )


def _prefs_part(grouping: str) -> TourPart:
    """The data's own choices: the stored preference run of the default model on all the data (never fitted here)."""
    heading = "From the data's own choices"
    run = db.cached(prefs_store.load_run, DEFAULT_MODEL, grouping, Filters())
    label = GROUPING_LABELS[grouping].lower()
    if run is None:
        return TourPart(heading, None, missing=(
            f"No preference models by {label} are stored in this database. Fit them on the Preferences page (its "
            f"button) or run `{prefs_store.command_line(str(db.db_path()), grouping)}`; the Tour never fits on load."
        ))  # fmt: skip
    groups = db.computed(prefs_report.group_table, run.scores)
    figure = TourFigure(
        "pooled model gap by group",
        prefs_charts.gap_figure(groups, grouping),
        "How many more of a group's held-out choices its own model gets right than one pooled model (top-1 of four; "
        "whiskers: 95% intervals). A whisker that crosses zero is not a measured gap. Fitted on all the data.",
    )
    return TourPart(heading, lab_tour.prefs_sentence(groups, label), (figure,))


def _simulated_part(per: int) -> TourPart:
    df = _recovery(per)
    figure = TourFigure(
        "recovered ideal points",
        reward_charts.ideal_points_figure(
            recovery_report.group_table(df), lab_tour.recovery_config(per).population,
            list(lab_tour.RECOVERY_STRATEGIES),
        ),
        f"Stars: the true (illustrative) country ideal points; circles: the group-conditioned model's recovered ones; "
        f"crosses: the one pooled reward's optimum ({lab_tour.RECOVERY_ANNOTATORS:,} simulated annotators × {per} "
        f"choices, mean of {len(lab_tour.RECOVERY_SEEDS)} seeds).",
    )  # fmt: skip
    return TourPart("From the simulator", lab_tour.recovery_sentence(lab_tour.recovery_numbers(df)), (figure,))


def rewards(info: Mapping[str, Any], per: int = 10, grouping: str = "country") -> TourStep:
    parts = (_simulated_part(per), _prefs_part(grouping if grouping in GROUPINGS else "country"))
    notes = (REWARDS_NOTE,) + ((SYNTHETIC_NOTE,) if info.get("synthetic") else ())
    return TourStep("rewards", 4, TITLES["rewards"], FINDINGS["rewards"], parts, notes)


def build(step: str, info: Mapping[str, Any], filters: Filters, state: Mapping[str, Any]) -> TourStep:
    """One step's content with its state (URL key -> value; missing keys take the defaults)."""
    s = {**DEFAULTS[step], **state}
    if step == "people":
        return people(info, filters, bool(s["tour_pp_llm"]))
    if step == "sampling":
        return sampling(info, int(s["tour_sa_k"]), float(s["tour_sa_temp"]))
    if step == "poles":
        return poles(info, int(s["tour_po_k"]), float(s["tour_po_nc"]))
    return rewards(info, int(s["tour_rw_per"]), str(s["tour_rw_group"]))


def handout(info: Mapping[str, Any], filters: Filters, states: Mapping[str, Mapping[str, Any]], base: str) -> str:
    """The whole tour as one self-contained HTML document (every step with its state from ``states``)."""
    steps = [build(step, info, filters, states.get(step, {})) for step in STEPS]
    links = {step: step_address(base, step, states.get(step, {}), filters) for step in STEPS}
    kind = "the SYNTHETIC demo database" if info.get("synthetic") else f"real data ({info.get('source', '')})"
    made = f"Made {_dt.datetime.now():%Y-%m-%d %H:%M} from {kind}"
    made += f", filters: {filters.to_query_params() or 'none'}." if not filters.is_empty() else ", no filters."
    labels = (SYNTHETIC_NOTE,) if info.get("synthetic") else ()
    meta = handout_html.HandoutMeta(
        title="Community Alignment Explorer: a guided tour of four findings",
        made=made,
        labels=labels + ("Steps 2 and 3 and the first half of step 4 are simulated with illustrative parameters.",),
        footer="Data: the Community Alignment dataset (Meta, 2025; CC-BY-4.0). Research: arXiv 2507.09650. Every "
        "sentence in this handout was computed from the numbers beside it when it was made.",
    )
    return handout_html.handout_html(steps, meta, links)
