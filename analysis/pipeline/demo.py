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
  the first position shown (the ideal points are the illustrative defaults the simulators share, analysis/illustrative.py);
- pregenerated prompts answered by many annotators (some asked in English across all five countries, so
  countries can be compared on the same text), and written feedback on about 44% of turns;
- a handful of exact duplicate rows and turns without a valid choice, so the accounting has something to show.

Vectorised with NumPy: a 100,000-conversation file builds in seconds.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.illustrative import COUNTRY_POSITIONS
from analysis.pipeline import long_answers
from analysis.pipeline.ingest import IngestResult, ingest
from analysis.pipeline.llm_synthetic import add_synthetic_llm_responses
from analysis.pipeline.templates import load_templates
from analysis.progress import Bar

DEFAULT_CONVERSATIONS = 3000
DEFAULT_SEED = 0

# Illustrative country ideal points and within-country spread, shared with the simulators (analysis.illustrative).
# Qualitative placement after the published map: not measured, not taken from the dataset.
COUNTRY_IDEALS: dict[str, tuple[float, float]] = {c: (x, y) for c, (x, y, _, _) in COUNTRY_POSITIONS.items()}
COUNTRY_SPREAD: dict[str, float] = {c: spread for c, (_, _, spread, _) in COUNTRY_POSITIONS.items()}
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
SHARED_SETS = 1  # fixed candidate sets per pregenerated prompt (topic and language), as in the release
REPEATED_SLOT_SHARE = 0.02  # candidate sets with the same text in two slots
ANSWERS = ("templates", "long")  # the small demo's template answers, or release-like ones (long_answers.py)
RELEASE_SIZE_CONVERSATIONS = 100_000


def _pick(seq: list[str], i: int) -> str:
    return seq[i % len(seq)]


def _markdown_answer(variant: int, opener: str, lead: str, stances: list[str], closer: str) -> str:
    """One answer laid out the way LLMs write them (bold, bullets, numbered points, emphasis), by variant."""
    body = " ".join(p.strip() for p in [lead, *stances] if p)
    if variant % 3 == 0:
        return f"**{opener.strip()}**\n\n{body}\n\n{closer.strip()}"
    if variant % 3 == 1:
        points = "\n".join(f"- {p.strip()}" for p in stances)
        return f"{opener.strip()} {lead.strip()}".strip() + f"\n\n{points}\n\n{closer.strip()}"
    points = "\n".join(f"{i}. {p.strip()}" for i, p in enumerate(stances, start=1))
    return f"{opener.strip()} {lead.strip()}".strip() + f"\n\n{points}\n\n*{closer.strip()}*"


def response_pool(templates: dict, variants: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """All template responses: texts[topic, lang, cell, variant] (flattened) and their (x, y) cell positions."""
    topics = templates["topics"]
    st = templates["stances"]
    topic_st = templates.get("topic_stances", {})
    texts: list[str] = []
    for k, topic in enumerate(topics):
        for lang in schema.LANGUAGES:
            for c, (xl, yl) in enumerate(CELLS):
                ypole = {-1: "traditional", 0: "neutral_y", 1: "secular"}[int(yl)]
                xpole = {-1: "survival", 0: "neutral_x", 1: "self_expression"}[int(xl)]
                for v in range(variants):
                    specific = topic_st.get(topic["id"], {})
                    lead_pole = ypole if yl != 0 else (xpole if xl != 0 else None)
                    lead = specific[lead_pole][lang] if lead_pole and lead_pole in specific and v != 1 else ""
                    ys = _pick(st[ypole][lang], 5 * k + 2 * v)
                    xs = _pick(st[xpole][lang], 7 * k + 3 * v)
                    opener = _pick(templates["openers"][lang], 3 * k + v)
                    closer = _pick(templates["closers"][lang], k + v)
                    text = _markdown_answer(v, opener, lead, [ys, xs] if v % 2 == 0 else [xs, ys], closer)
                    if (k * 31 + c * 7 + v) % 41 == 0:
                        text += END_TOKEN  # the release carries such tokens on some responses
                    texts.append(text)
    return np.array(texts, dtype=object), CELLS


def _choice(rng: np.random.Generator, options: tuple[str, ...], p: list[float], n: int) -> np.ndarray:
    p_arr = np.asarray(p, dtype=float)
    return np.array(options, dtype=object)[rng.choice(len(options), size=n, p=p_arr / p_arr.sum())]


def _annotators(rng: np.random.Generator, n_ann: int) -> dict[str, np.ndarray]:
    """A country each (and its ideal point plus individual variation), demographics, balanced-subset flags."""
    country_idx = rng.choice(len(schema.COUNTRIES), size=n_ann, p=COUNTRY_SHARES)
    country = np.array(schema.COUNTRIES, dtype=object)[country_idx]
    ideals = np.array([COUNTRY_IDEALS[c] for c in schema.COUNTRIES])[country_idx]
    spread = np.array([COUNTRY_SPREAD[c] for c in schema.COUNTRIES])[country_idx]
    ideals = ideals + rng.normal(0.0, 1.0, size=(n_ann, 2)) * spread[:, None]
    out = {
        "country": country,
        "ideal": ideals,
        "age": _choice(rng, AGES, [0.38, 0.27, 0.17, 0.18], n_ann),
        "gender": _choice(rng, GENDERS, [0.49, 0.48, 0.015, 0.015], n_ann),
        "education": _choice(rng, EDUCATIONS, [0.25, 0.2, 0.3, 0.2, 0.05], n_ann),
        "political": _choice(rng, POLITICALS, [0.08, 0.2, 0.3, 0.18, 0.08, 0.1, 0.06], n_ann),
    }
    ethnicity = np.empty(n_ann, dtype=object)
    for c in schema.COUNTRIES:
        mask = country == c
        ethnicity[mask] = _choice(rng, ETHNICITIES[c], [1.0] * len(ETHNICITIES[c]), int(mask.sum()))
    out["ethnicity"] = ethnicity
    out["balanced"] = rng.random(n_ann) < 0.4
    out["balanced10"] = out["balanced"] & (rng.random(n_ann) < 0.5)
    return out


def _conversation_owners(rng: np.random.Generator, n_ann: int, conversations: int) -> np.ndarray:
    """The annotator of each conversation: skewed (a few prolific annotators), every annotator at least one."""
    weights = rng.lognormal(0.0, 0.8, size=n_ann)
    extra = rng.choice(n_ann, size=max(0, conversations - n_ann), p=weights / weights.sum())
    owners = np.sort(np.concatenate([np.arange(n_ann), extra])[:conversations])
    rng.shuffle(owners)
    return owners


def _conversation_shape(rng: np.random.Generator, n: int, lang_idx: np.ndarray, n_topics: int) -> dict:
    """Per conversation: pregenerated or own first prompt, topic, the language of its texts (some shared prompts are
    asked in English everywhere), and which of the four turns are present (some stop early, a few skip a middle
    turn, as in the full split)."""
    pregenerated = rng.random(n) < 0.69
    topic = rng.integers(0, n_topics, size=n)
    text_lang = lang_idx.copy()
    shared_english = pregenerated & (lang_idx != 0) & (rng.random(n) < 0.15)
    text_lang[shared_english] = 0
    n_turns = rng.choice([1, 2, 3, 4], size=n, p=[0.25, 0.25, 0.2, 0.3])
    present = np.arange(4)[None, :] < n_turns[:, None]
    skip = (n_turns >= 3) & (rng.random(n) < 0.03)
    skip_turn = rng.integers(1, np.maximum(n_turns - 1, 2), size=n)
    present[skip, skip_turn[skip]] = False
    return {"pregenerated": pregenerated, "topic": topic, "text_lang": text_lang, "present": present,
            "n_topics": n_topics}  # fmt: skip


def _shared_first_turns(rng: np.random.Generator, shape: dict, n_topics: int, variants: int, cell_of, variant):
    """A pregenerated first prompt shows one of SHARED_SETS fixed candidate sets of its (topic, language), as in the
    release, where those sets were shown to many annotators; the slots are shuffled per conversation. Own prompts and
    follow-up turns keep candidates drawn for that conversation alone."""
    n_lang = len(schema.LANGUAGES)
    n_keys = n_topics * n_lang * SHARED_SETS
    weight = np.where(np.abs(CELLS).sum(axis=1) == 2, 1.3, 1.0)
    shared_cells = np.argsort(-(rng.random((n_keys, len(CELLS))) ** (1.0 / weight)), axis=1)[:, :4]
    shared_variants = rng.integers(0, variants, size=(n_keys, 4))
    n = len(shape["topic"])
    key = (shape["topic"] * n_lang + shape["text_lang"]) * SHARED_SETS + rng.integers(0, SHARED_SETS, size=n)
    order = rng.permuted(np.tile(np.arange(4), (n, 1)), axis=1)
    pre = shape["pregenerated"]
    cell_of[pre, 0] = np.take_along_axis(shared_cells[key[pre]], order[pre], axis=1)
    variant[pre, 0] = np.take_along_axis(shared_variants[key[pre]], order[pre], axis=1)


def _repeat_slots(rng: np.random.Generator, shape: dict, cell_of, variant) -> np.ndarray:
    """A few candidate sets hold the same text in two slots, as some of the release's do; returns which (n, turn)."""
    n = len(shape["topic"])
    repeat = rng.random((n, 4)) < REPEATED_SLOT_SHARE
    repeat[shape["pregenerated"], 0] = False  # the shared sets stay as they are
    cell_of[repeat, 3] = cell_of[repeat, 2]
    variant[repeat, 3] = variant[repeat, 2]
    return repeat


def _candidates_and_choices(rng: np.random.Generator, shape: dict, ideals: np.ndarray, variants: int) -> dict:
    """Four distinct grid cells per turn (negatively correlated; corners a little more likely), the template text of
    each, and the choice: Gumbel-max over beta * ideal-point utility plus a small first-position bias."""
    n = len(shape["topic"])
    n_lang = len(schema.LANGUAGES)
    cell_weight = np.where(np.abs(CELLS).sum(axis=1) == 2, 1.3, 1.0)
    keys = rng.random((n, 4, len(CELLS))) ** (1.0 / cell_weight)
    cell_of = np.argsort(-keys, axis=2)[:, :, :4]  # (n, turn, slot)
    variant = rng.integers(0, variants, size=(n, 4, 4))
    _shared_first_turns(rng, shape, shape["n_topics"], variants, cell_of, variant)
    repeat = _repeat_slots(rng, shape, cell_of, variant)
    base = (shape["topic"][:, None, None] * n_lang + shape["text_lang"][:, None, None]) * len(CELLS)
    text_idx = (base + cell_of) * variants + variant
    utility = -((CELLS[cell_of] - ideals[:, None, None, :]) ** 2).sum(axis=-1)
    noisy = BETA * utility + POSITION_BIAS[None, None, :] + rng.gumbel(size=utility.shape)
    chosen = noisy.argmax(axis=2)  # (n, turn)
    best_u = np.take_along_axis(utility, chosen[:, :, None], axis=2)[:, :, 0]
    return {"text_idx": text_idx, "chosen": chosen, "best_u": best_u, "cell_of": cell_of, "repeat": repeat}


def _long_texts(shape: dict, cands: dict, pool: np.ndarray, seed: int, t: dict, progress=None) -> np.ndarray:
    """Candidate texts (n, turn, slot) written afresh per slot (analysis.pipeline.long_answers), except that a shared
    first-turn set shows the same texts to everyone it is shared with and a repeated slot repeats its neighbour."""
    n = len(shape["topic"])
    texts = np.full((n, 4, 4), "", dtype=object)
    present = np.broadcast_to(shape["present"][:, :, None], (n, 4, 4)).copy()
    shared = np.zeros((n, 4, 4), dtype=bool)
    shared[shape["pregenerated"], 0, :] = True
    repeated_slot = np.zeros((n, 4, 4), dtype=bool)
    repeated_slot[:, :, 3] = cands["repeat"]
    fresh = present & ~shared & ~repeated_slot
    langs = np.broadcast_to(shape["text_lang"][:, None, None], (n, 4, 4))
    texts[fresh] = long_answers.compose(langs[fresh], cands["cell_of"][fresh], seed, t, CELLS, progress)
    # one long text per distinct template index among the shared sets
    idx = cands["text_idx"][shared & present]
    uniq, inverse = np.unique(idx, return_inverse=True)
    variants = len(pool) // (len(t["topics"]) * len(schema.LANGUAGES) * len(CELLS))  # text_idx's layout: see above
    cells, lang_of = (uniq // variants) % len(CELLS), (uniq // (variants * len(CELLS))) % len(schema.LANGUAGES)
    shared_texts = long_answers.compose(lang_of, cells, seed + 1, t, CELLS)
    texts[shared & present] = shared_texts[inverse]
    rep = repeated_slot & present
    texts[rep] = texts[:, :, 2][rep[:, :, 3]]
    return texts


def _prompts(rng: np.random.Generator, t: dict, shape: dict, ti: int) -> np.ndarray:
    """The prompt of turn ``ti`` per conversation: a topic's opening prompt (own prompts get a personal prefix) or
    one of its follow-ups."""
    topics, topic, text_lang = t["topics"], shape["topic"], shape["text_lang"]
    n = len(topic)
    if ti == 0:
        base = np.array([[tp["prompts"][lang] for lang in schema.LANGUAGES] for tp in topics], dtype=object)
        prompt = base[topic, text_lang]
        own = ~shape["pregenerated"]
        prefix_idx = rng.integers(0, 3, size=n)
        prefixes = np.array([OWN_PROMPT_PREFIXES[lang] for lang in schema.LANGUAGES], dtype=object)
        prompt[own] = prefixes[text_lang[own], prefix_idx[own]] + " " + prompt[own]
        return prompt
    max_f = max(len(tp["followups"][lang]) for tp in topics for lang in schema.LANGUAGES)
    fu = np.array(
        [[[_pick(tp["followups"][lang], j) for j in range(max_f)] for lang in schema.LANGUAGES] for tp in topics],
        dtype=object,
    )
    return fu[topic, text_lang, (ti - 1 + rng.integers(0, 2, size=n)) % max_f]


def _feedback(rng: np.random.Generator, t: dict, mask: np.ndarray, best_u: np.ndarray, lang_codes: np.ndarray):
    """Written feedback on about 44% of turns, its kind following the choice."""
    n = len(mask)
    kind = np.where(best_u > -0.6, "liked", "disliked_all")
    r = rng.random(n)
    kind = np.where(r < 0.1, "too_long", np.where(r < 0.2, "wanted_more_balance", kind))
    pick = rng.integers(0, 1000, size=n)
    has = mask & (rng.random(n) < 0.44)
    fb = t["feedback"]
    return np.array(
        [_pick(fb[k][lg], j) if h else "" for k, lg, j, h in zip(kind, lang_codes, pick, has)], dtype=object
    )


def _turn_columns(rng: np.random.Generator, t: dict, shape: dict, cands: dict, texts: np.ndarray, lang_idx) -> dict:
    """The release's per-turn columns (prompt, four responses, preferred response, feedback) for every turn;
    ``texts`` holds the candidate texts (conversation, turn, slot)."""
    cols: dict[str, object] = {}
    letters = np.array(schema.LETTERS, dtype=object)
    lang_codes = np.array(schema.LANGUAGES)[lang_idx]
    for ti, tname in enumerate(schema.TURNS):
        mask = shape["present"][:, ti]
        cols[schema.turn_column(tname, "prompt")] = np.where(mask, _prompts(rng, t, shape, ti), "")
        for s, letter in enumerate(schema.LETTERS):
            cols[schema.turn_column(tname, f"response_{letter}")] = np.where(mask, texts[:, ti, s], "")
        pref = np.where(mask, "response_" + letters[cands["chosen"][:, ti]], "")
        pref[mask & (rng.random(len(mask)) < 0.003)] = ""  # a few turns without a valid choice, for the accounting
        cols[schema.turn_column(tname, "preferred_response")] = pref
        cols[schema.turn_column(tname, "feedback")] = _feedback(rng, t, mask, cands["best_u"][:, ti], lang_codes)
    return cols


def generate_frame(
    conversations: int = DEFAULT_CONVERSATIONS,
    seed: int = DEFAULT_SEED,
    topics: int | None = None,
    answers: str = "templates",
    progress=None,
) -> pl.DataFrame:
    """The synthetic release as a wide frame, one row per conversation, release column names and value formats.
    ``topics`` keeps only the first so many template topics (fewer distinct texts, hence faster embedding: used by
    tests that need many people but few texts); None keeps them all. ``answers``: "templates" (the small demo's pool,
    few distinct texts) or "long" (release-like Markdown answers of 80-400 words, written afresh per candidate: the
    release-size benchmark); ``progress(done, total)`` for "long"."""
    if conversations < 1:
        raise ValueError("conversations must be at least 1")
    if topics is not None and topics < 1:
        raise ValueError("topics must be at least 1")
    if answers not in ANSWERS:
        raise ValueError(f"answers is one of {ANSWERS}, not {answers!r}")
    rng = np.random.default_rng(seed)
    t = load_templates()
    pool, _ = response_pool(t)
    variants = len(pool) // (len(t["topics"]) * len(schema.LANGUAGES) * len(CELLS))
    n_ann = max(5, conversations // 8)
    ann = _annotators(rng, n_ann)
    owner = _conversation_owners(rng, n_ann, conversations)
    n = len(owner)
    country = ann["country"][owner]
    lang_idx = np.array([schema.LANGUAGES.index(schema.COUNTRY_LANG[c]) for c in country])
    n_topics = len(t["topics"]) if topics is None else min(topics, len(t["topics"]))
    shape = _conversation_shape(rng, n, lang_idx, n_topics)
    cands = _candidates_and_choices(rng, shape, ann["ideal"][owner], variants)
    cols: dict[str, object] = {
        "conversation_id": np.array([f"demo-{seed}-{i:06d}" for i in range(n)], dtype=object),
        "annotator_id": np.array([f"demo-annotator-{a:05d}" for a in owner], dtype=object),
        "assigned_lang": np.array(schema.LANGUAGES, dtype=object)[lang_idx],
        "wave": np.where(rng.random(n) < 0.7, "1", "2").astype(object),
    }
    if answers == "long":
        texts = _long_texts(shape, cands, pool, seed, t, progress)
    else:
        texts = pool[cands["text_idx"]]
    cols.update(_turn_columns(rng, t, shape, cands, texts, lang_idx))
    flag = lambda v: np.where(v, "true", "false").astype(object)  # noqa: E731
    cols.update(
        {
            "annotator_age": ann["age"][owner],
            "annotator_gender": ann["gender"][owner],
            "annotator_education_level": ann["education"][owner],
            "annotator_political": ann["political"][owner],
            "annotator_ethnicity": ann["ethnicity"][owner],
            "annotator_country": np.array([c.lower() for c in country], dtype=object),  # as the release writes
            "is_pregenerated_first_prompt": flag(shape["pregenerated"]),
            "in_balanced_subset": flag(ann["balanced"][owner]),
            "in_balanced_subset_10": flag(ann["balanced10"][owner]),
        }
    )
    frame = pl.DataFrame(
        {c: pl.Series(c, np.asarray(cols[c]).astype(str), dtype=pl.String) for c in schema.RELEASE_COLUMNS}
    )
    # A handful of exact duplicate rows, as exports sometimes carry them.
    n_dup = min(5, max(1, n // 600))
    dups = frame.gather(rng.choice(n, size=n_dup, replace=False).tolist())
    return pl.concat([frame, dups])


def write_demo_csv(
    path: str | Path,
    conversations: int = DEFAULT_CONVERSATIONS,
    seed: int = DEFAULT_SEED,
    topics: int | None = None,
    answers: str = "templates",
    progress=None,
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    generate_frame(conversations, seed, topics, answers, progress).write_csv(path)
    return path


def build_demo(
    db_path: str | Path,
    conversations: int = DEFAULT_CONVERSATIONS,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    csv_path: str | Path | None = None,
    topics: int | None = None,
    answers: str = "templates",
) -> IngestResult:
    """Write the synthetic CSV and load it through the same ingest path as the real data (``topics``: see
    ``generate_frame``)."""
    db_path = Path(db_path)
    csv_path = Path(csv_path) if csv_path else db_path.with_name(f"{db_path.stem}.synthetic.csv")
    with Bar(progress if answers == "long" else None, 0, "writing answers", unit="text") as bar:
        write_demo_csv(csv_path, conversations, seed, topics, answers, bar.set)
    result = ingest(csv_path, db_path, synthetic=True, source_kind="demo", progress=progress)
    add_demo_extras(db_path, seed)
    return result


def add_demo_extras(db_path: Path, seed: int) -> None:
    """Tables only the demo carries: the synthetic LLM answers to the demo prompts."""
    con = duckdb.connect(str(db_path))
    try:
        add_synthetic_llm_responses(con, seed=seed)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def ensure_demo(path: str | Path | None = None, conversations: int | None = None) -> Path:
    """Build the synthetic demo database at ``path`` (default: data/demo.duckdb) if it is missing."""
    target = Path(path) if path else store.DEMO_DB
    if not target.exists():
        build_demo(target, **({"conversations": conversations} if conversations else {}))
    return target
