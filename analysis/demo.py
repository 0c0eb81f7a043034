"""A deterministic SYNTHETIC dataset in exactly the release's wide CSV schema, loaded through ingest.

Nothing here is a measurement. The generator gives the later pages real structure to show:
- the five countries with their languages (United States/en, France/fr, Italy/it, Brazil/pt, India/hi);
- annotators with demographics and several conversations each;
- conversations of one to four turns, some ending early and a few skipping a middle turn;
- four candidate responses per turn, written from templates in all five languages, each placed in one cell of
  the 3 x 3 grid of the two Inglehart-Welzel axes (survival / neutral / self-expression x traditional / neutral /
  secular-rational); the four cells of a turn are distinct, as in negatively-correlated sampling;
- choices drawn from an ideal-point model: each annotator's ideal point is their country's (illustrative)
  position plus individual variation larger than the distances between countries, with a small bias toward
  the first position shown (the ideal points are the simulator's illustrative defaults, analysis/population.py);
- pregenerated prompts answered by many annotators (some asked in English across all five countries, so
  countries can be compared on the same text), and written feedback on about 44% of turns;
- a handful of exact duplicate rows and turns without a valid choice, so the accounting has something to show.

Vectorised with NumPy: a 100,000-conversation file builds in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from analysis import schema as S
from analysis.population import DEFAULT_GROUPS

TEMPLATES = Path(__file__).resolve().parent / "content" / "demo_templates.json"
DEFAULT_CONVERSATIONS = 3000
DEFAULT_SEED = 0

# Illustrative country ideal points and within-country spread: the simulator's defaults (analysis/population.py),
# one source for both. Qualitative placement after the published map: not measured, not taken from the dataset.
COUNTRY_IDEALS: dict[str, tuple[float, float]] = {g.name: (g.x, g.y) for g in DEFAULT_GROUPS}
COUNTRY_SPREAD: dict[str, float] = {g.name: g.spread for g in DEFAULT_GROUPS}
BETA = 2.0  # rationality of the simulated choices
POSITION_BIAS = np.array([0.25, 0.1, 0.0, 0.0])  # utility bonus of the slot shown first
COUNTRY_SHARES = np.array([0.2, 0.2, 0.2, 0.2, 0.2])

OWN_PROMPT_PREFIXES: dict[str, tuple[str, ...]] = {
    "en": ("Personal question:", "I keep thinking about this:", "Asking for my family:"),
    "fr": ("Question personnelle :", "J'y pense souvent :", "Je demande pour ma famille :"),
    "it": ("Domanda personale:", "Ci penso spesso:", "Chiedo per la mia famiglia:"),
    "pt": ("Pergunta pessoal:", "Penso muito nisso:", "Pergunto pela minha família:"),
    "hi": ("निजी सवाल:", "मैं इस बारे में अक्सर सोचता हूँ:", "अपने परिवार के लिए पूछ रहा हूँ:"),
}

AGES = ("18-34", "35-45", "46-54", "55+")
GENDERS = ("Female", "Male", "Non-binary / other", "Prefer not to say")
EDUCATIONS = (
    "(At most) Complete Secondary",
    "Some post-secondary",
    "Post-secondary graduate",
    "Some or complete graduate degree",
    "Other",
)
POLITICALS = (
    "Very left-leaning",
    "Somewhat left-leaning",
    "Middle-of-the-road/centrist",
    "Somewhat right-leaning",
    "Very right-leaning",
    "I don't think of myself in this way",
    "Prefer not to say",
)
ETHNICITIES: dict[str, tuple[str, ...]] = {
    "United States": ("White", "Black or African American", "Hispanic or Latino", "Asian", "Other"),
    "France": ("Prefer not to say", "Other"),
    "Italy": ("Prefer not to say", "Other"),
    "Brazil": ("Branca", "Parda", "Preta", "Amarela", "Indígena"),
    "India": ("Prefer not to say", "Other"),
}

# Grid cells of a candidate: (x level, y level) in {-1, 0, 1}^2.
CELLS = np.array([(x, y) for y in (-1, 0, 1) for x in (-1, 0, 1)], dtype=float)
END_TOKEN = "<|end_of_text|>"


@lru_cache(maxsize=1)
def load_templates(path: str | None = None) -> dict:
    return json.loads(Path(path or TEMPLATES).read_text(encoding="utf-8"))


def _pick(seq: list[str], i: int) -> str:
    return seq[i % len(seq)]


def response_pool(templates: dict, variants: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """All template responses: texts[topic, lang, cell, variant] (flattened) and their (x, y) cell positions."""
    topics = templates["topics"]
    st = templates["stances"]
    topic_st = templates.get("topic_stances", {})
    texts: list[str] = []
    for k, topic in enumerate(topics):
        for lang in S.LANGUAGES:
            for c, (xl, yl) in enumerate(CELLS):
                ypole = {-1: "traditional", 0: "neutral_y", 1: "secular"}[int(yl)]
                xpole = {-1: "survival", 0: "neutral_x", 1: "self_expression"}[int(xl)]
                for v in range(variants):
                    parts = [_pick(templates["openers"][lang], 3 * k + v)]
                    specific = topic_st.get(topic["id"], {})
                    lead_pole = ypole if yl != 0 else (xpole if xl != 0 else None)
                    if lead_pole and lead_pole in specific and v != 1:
                        parts.append(specific[lead_pole][lang])
                    ys = _pick(st[ypole][lang], 5 * k + 2 * v)
                    xs = _pick(st[xpole][lang], 7 * k + 3 * v)
                    parts.extend([ys, xs] if v % 2 == 0 else [xs, ys])
                    parts.append(_pick(templates["closers"][lang], k + v))
                    text = " ".join(p.strip() for p in parts)
                    if (k * 31 + c * 7 + v) % 41 == 0:
                        text += END_TOKEN  # the release carries such tokens on some responses
                    texts.append(text)
    return np.array(texts, dtype=object), CELLS


def _choice(rng: np.random.Generator, options: tuple[str, ...], p: list[float], n: int) -> np.ndarray:
    p_arr = np.asarray(p, dtype=float)
    return np.array(options, dtype=object)[rng.choice(len(options), size=n, p=p_arr / p_arr.sum())]


def generate_frame(conversations: int = DEFAULT_CONVERSATIONS, seed: int = DEFAULT_SEED) -> pl.DataFrame:
    """The synthetic release as a wide frame, one row per conversation, release column names and value formats."""
    if conversations < 1:
        raise ValueError("conversations must be at least 1")
    rng = np.random.default_rng(seed)
    t = load_templates()
    topics = t["topics"]
    n_topics = len(topics)
    n_lang = len(S.LANGUAGES)
    pool, cells = response_pool(t)
    variants = len(pool) // (n_topics * n_lang * len(cells))

    # Annotators: a country each, demographics, an ideal point, several conversations each.
    n_ann = max(5, conversations // 8)
    ann_country_idx = rng.choice(len(S.COUNTRIES), size=n_ann, p=COUNTRY_SHARES)
    ann_country = np.array(S.COUNTRIES, dtype=object)[ann_country_idx]
    ideals = np.array([COUNTRY_IDEALS[c] for c in S.COUNTRIES])[ann_country_idx]
    spread = np.array([COUNTRY_SPREAD[c] for c in S.COUNTRIES])[ann_country_idx]
    ideals = ideals + rng.normal(0.0, 1.0, size=(n_ann, 2)) * spread[:, None]
    ann_age = _choice(rng, AGES, [0.38, 0.27, 0.17, 0.18], n_ann)
    ann_gender = _choice(rng, GENDERS, [0.49, 0.48, 0.015, 0.015], n_ann)
    ann_edu = _choice(rng, EDUCATIONS, [0.25, 0.2, 0.3, 0.2, 0.05], n_ann)
    ann_pol = _choice(rng, POLITICALS, [0.08, 0.2, 0.3, 0.18, 0.08, 0.1, 0.06], n_ann)
    ann_eth = np.empty(n_ann, dtype=object)
    for c in S.COUNTRIES:
        mask = ann_country == c
        ann_eth[mask] = _choice(rng, ETHNICITIES[c], [1.0] * len(ETHNICITIES[c]), int(mask.sum()))
    balanced = rng.random(n_ann) < 0.4
    balanced10 = balanced & (rng.random(n_ann) < 0.5)
    # Conversations per annotator: skewed (a few prolific annotators), every annotator at least one.
    weights = rng.lognormal(0.0, 0.8, size=n_ann)
    conv_ann = np.concatenate(
        [np.arange(n_ann), rng.choice(n_ann, size=max(0, conversations - n_ann), p=weights / weights.sum())]
    )
    conv_ann = np.sort(conv_ann[:conversations])
    rng.shuffle(conv_ann)
    n = len(conv_ann)
    country = ann_country[conv_ann]
    lang_idx = np.array([S.LANGUAGES.index(S.COUNTRY_LANG[c]) for c in country])

    # Prompts: pregenerated (shared, answered by many) or the annotator's own; some shared prompts in English.
    pregenerated = rng.random(n) < 0.69
    topic = rng.integers(0, n_topics, size=n)
    text_lang = lang_idx.copy()
    shared_english = pregenerated & (lang_idx != 0) & (rng.random(n) < 0.15)
    text_lang[shared_english] = 0
    # Turns: 1 to 4; some stop early, a few skip a middle turn (as in the full split).
    n_turns = rng.choice([1, 2, 3, 4], size=n, p=[0.25, 0.25, 0.2, 0.3])
    present = np.arange(4)[None, :] < n_turns[:, None]
    skip = (n_turns >= 3) & (rng.random(n) < 0.03)
    skip_turn = rng.integers(1, np.maximum(n_turns - 1, 2), size=n)
    present[skip, skip_turn[skip]] = False
    # Candidates: four distinct cells per turn (negatively correlated), corners a little more likely.
    cell_weight = np.where(np.abs(cells).sum(axis=1) == 2, 1.3, 1.0)
    keys = rng.random((n, 4, len(cells))) ** (1.0 / cell_weight)
    cell_of = np.argsort(-keys, axis=2)[:, :, :4]  # (n, turn, slot)
    variant = rng.integers(0, variants, size=(n, 4, 4))
    text_idx = (
        ((topic[:, None, None] * n_lang + text_lang[:, None, None]) * len(cells) + cell_of) * variants
    ) + variant
    # Choices: Gumbel-max over beta * utility (ideal point) plus a small first-position bias.
    pos = cells[cell_of]  # (n, 4, 4, 2)
    ideal = ideals[conv_ann][:, None, None, :]
    utility = -((pos - ideal) ** 2).sum(axis=-1)
    noisy = BETA * utility + POSITION_BIAS[None, None, :] + rng.gumbel(size=utility.shape)
    chosen = noisy.argmax(axis=2)  # (n, turn)
    best_u = np.take_along_axis(utility, chosen[:, :, None], axis=2)[:, :, 0]

    cols: dict[str, object] = {
        "conversation_id": np.array([f"demo-{seed}-{i:06d}" for i in range(n)], dtype=object),
        "annotator_id": np.array([f"demo-annotator-{a:05d}" for a in conv_ann], dtype=object),
        "assigned_lang": np.array(S.LANGUAGES, dtype=object)[lang_idx],
        "wave": np.where(rng.random(n) < 0.7, "1", "2").astype(object),
    }
    letters = np.array(S.LETTERS, dtype=object)
    fb = t["feedback"]
    for ti, tname in enumerate(S.TURNS):
        mask = present[:, ti]
        if ti == 0:
            base = np.array([[tp["prompts"][lang] for lang in S.LANGUAGES] for tp in topics], dtype=object)
            prompt = base[topic, text_lang]
            own = ~pregenerated
            prefix_idx = rng.integers(0, 3, size=n)
            prefixes = np.array([OWN_PROMPT_PREFIXES[lang] for lang in S.LANGUAGES], dtype=object)
            prompt[own] = prefixes[text_lang[own], prefix_idx[own]] + " " + prompt[own]
        else:
            max_f = max(len(tp["followups"][lang]) for tp in topics for lang in S.LANGUAGES)
            fu = np.array(
                [[[_pick(tp["followups"][lang], j) for j in range(max_f)] for lang in S.LANGUAGES] for tp in topics],
                dtype=object,
            )
            prompt = fu[topic, text_lang, (ti - 1 + rng.integers(0, 2, size=n)) % max_f]
        prompt = np.where(mask, prompt, "")
        cols[S.turn_column(tname, "prompt")] = prompt
        for s, letter in enumerate(S.LETTERS):
            cols[S.turn_column(tname, f"response_{letter}")] = np.where(mask, pool[text_idx[:, ti, s]], "")
        pref = np.where(mask, "response_" + letters[chosen[:, ti]], "")
        # A few turns arrive without a valid choice (kept, so ingest's accounting shows them).
        broken = mask & (rng.random(n) < 0.003)
        pref[broken] = ""
        cols[S.turn_column(tname, "preferred_response")] = pref
        # Written feedback on about 44% of turns, its kind following the choice.
        fb_kind = np.where(best_u[:, ti] > -0.6, "liked", "disliked_all")
        r = rng.random(n)
        fb_kind = np.where(r < 0.1, "too_long", np.where(r < 0.2, "wanted_more_balance", fb_kind))
        fb_pick = rng.integers(0, 1000, size=n)
        has_fb = mask & (rng.random(n) < 0.44)
        text_lang_codes = np.array(S.LANGUAGES)[lang_idx]
        feedback = np.array(
            [_pick(fb[k][lg], j) if h else "" for k, lg, j, h in zip(fb_kind, text_lang_codes, fb_pick, has_fb)],
            dtype=object,
        )
        cols[S.turn_column(tname, "feedback")] = feedback
    a = conv_ann
    cols.update(
        {
            "annotator_age": ann_age[a],
            "annotator_gender": ann_gender[a],
            "annotator_education_level": ann_edu[a],
            "annotator_political": ann_pol[a],
            "annotator_ethnicity": ann_eth[a],
            "annotator_country": country,
            "is_pregenerated_first_prompt": np.where(pregenerated, "true", "false").astype(object),
            "in_balanced_subset": np.where(balanced[a], "true", "false").astype(object),
            "in_balanced_subset_10": np.where(balanced10[a], "true", "false").astype(object),
        }
    )
    frame = pl.DataFrame({c: pl.Series(c, np.asarray(cols[c]).astype(str), dtype=pl.String) for c in S.RELEASE_COLUMNS})
    # A handful of exact duplicate rows, as exports sometimes carry them.
    n_dup = min(5, max(1, n // 600))
    dups = frame.gather(rng.choice(n, size=n_dup, replace=False).tolist())
    return pl.concat([frame, dups])


def write_demo_csv(path: str | Path, conversations: int = DEFAULT_CONVERSATIONS, seed: int = DEFAULT_SEED) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    generate_frame(conversations, seed).write_csv(path)
    return path


def build_demo(
    db_path: str | Path,
    conversations: int = DEFAULT_CONVERSATIONS,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    csv_path: str | Path | None = None,
):
    """Write the synthetic CSV and load it through the same ingest path as the real data."""
    from analysis.ingest import ingest

    db_path = Path(db_path)
    csv_path = Path(csv_path) if csv_path else db_path.with_name(f"{db_path.stem}.synthetic.csv")
    write_demo_csv(csv_path, conversations, seed)
    result = ingest(csv_path, db_path, synthetic=True, source_kind="demo", progress=progress)
    add_demo_extras(db_path, seed)
    return result


def add_demo_extras(db_path: Path, seed: int) -> None:
    """Tables only the demo carries: the synthetic LLM answers to the demo prompts (when that module exists)."""
    try:
        from analysis import llm_responses
    except ImportError:
        return
    import duckdb

    con = duckdb.connect(str(db_path))
    try:
        llm_responses.add_synthetic_llm_responses(con, seed=seed)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, help="the DuckDB file to build (replaced atomically)")
    p.add_argument("--conversations", type=int, default=DEFAULT_CONVERSATIONS, help="number of conversations")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same data)")
    p.add_argument("--csv", help="where to write the synthetic CSV (default: beside the database)")
    p.add_argument("--json", action="store_true", help="print the ingest summary as one JSON object")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.conversations < 1:
        print("error: --conversations must be at least 1", file=sys.stderr)
        return 2
    result = build_demo(args.db, args.conversations, args.seed, progress=not args.json, csv_path=args.csv)
    if args.json:
        print(
            json.dumps(
                {
                    **result.summary,
                    "db": str(result.db_path),
                    "synthetic": True,
                    "seconds": round(time.perf_counter() - started, 3),
                }
            )
        )
    else:
        from analysis.ingest import print_summary

        print("SYNTHETIC demo data (not the Community Alignment release):")
        print_summary(result.summary, result.db_path, time.perf_counter() - started)
    return 0
