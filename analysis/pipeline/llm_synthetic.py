"""SYNTHETIC LLM answers for the demo: five profiles that lean to the secular-rational and self-expression corner,
as the research found for real LLMs, each answering the demo's prompts from the templates. Illustrative, not
measured; their names start with ``synthetic-``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import polars as pl

from analysis import schema, store
from analysis.pipeline.llm_table import TABLE, ensure_table
from analysis.pipeline.templates import load_templates
from analysis.text import md5_hex, normalise_space

RESERVED_PREFIX = "synthetic-"  # model names reserved for these profiles; uploads may not use it


@dataclass(frozen=True)
class SyntheticProfile:
    """A SYNTHETIC LLM: how often its answers take each stance on each axis (illustrative, not measured).

    ``x``: probabilities of (self_expression, neutral_x, survival); ``y``: of (secular, neutral_y, traditional).
    """

    name: str
    x: tuple[float, float, float]
    y: tuple[float, float, float]


# All lean to secular-rational and self-expression, as the research found for 21 real LLMs; each a different mix.
SYNTHETIC_PROFILES: tuple[SyntheticProfile, ...] = (
    SyntheticProfile("synthetic-model-A", x=(0.9, 0.1, 0.0), y=(0.9, 0.1, 0.0)),
    SyntheticProfile("synthetic-model-B", x=(0.95, 0.05, 0.0), y=(0.75, 0.25, 0.0)),
    SyntheticProfile("synthetic-model-C", x=(0.75, 0.25, 0.0), y=(0.95, 0.05, 0.0)),
    SyntheticProfile("synthetic-model-D", x=(0.85, 0.1, 0.05), y=(0.85, 0.1, 0.05)),
    SyntheticProfile("synthetic-model-E", x=(0.85, 0.1, 0.05), y=(0.9, 0.1, 0.0)),
)
_X_POLES = ("self_expression", "neutral_x", "survival")
_Y_POLES = ("secular", "neutral_y", "traditional")


def _prompt_index(templates: dict) -> tuple[dict[str, tuple[int, str]], list[tuple[str, int, str]]]:
    """Template prompt texts -> (topic index, language); plus (normalised first prompt, topic, language) for
    matching prompts that carry a prefix (the demo's 'own prompts')."""
    exact: dict[str, tuple[int, str]] = {}
    firsts: list[tuple[str, int, str]] = []
    for k, topic in enumerate(templates["topics"]):
        for lang in schema.LANGUAGES:
            p = topic.get("prompts", {}).get(lang)
            if p:
                exact.setdefault(normalise_space(p), (k, lang))
                firsts.append((normalise_space(p), k, lang))
            for f in topic.get("followups", {}).get(lang, []) or []:
                exact.setdefault(normalise_space(f), (k, lang))
    return exact, firsts


def match_prompt_to_topic(text: str, templates: dict) -> tuple[int, str] | None:
    """(topic index, language) of a demo prompt text, or None when it is not from the templates."""
    exact, firsts = _prompt_index(templates)
    key = normalise_space(text)
    if key in exact:
        return exact[key]
    for first, k, lang in firsts:
        if key.endswith(first):
            return k, lang
    return None


SENTENCES_PER_AXIS = 2  # stance sentences per axis in one synthetic answer (LLM answers are long and consistent)


def compose_answer(
    templates: dict, topic: int, lang: str, xpoles: list[str], ypoles: list[str], rng: np.random.Generator
) -> str:
    """One synthetic answer: an opener, a topic-specific stance (when the templates have one for the answer's
    leading pole), one stance sentence per drawn pole on each axis (interleaved), a closer."""
    st = templates["stances"]
    topic_id = templates["topics"][topic].get("id")
    specific = templates.get("topic_stances", {}).get(topic_id, {})
    parts = [templates["openers"][lang][int(rng.integers(len(templates["openers"][lang])))]]
    leads = [p for p in ypoles + xpoles if not p.startswith("neutral") and p in specific and lang in specific[p]]
    if leads and rng.random() < 0.7:
        parts.append(specific[leads[int(rng.integers(len(leads)))]][lang])
    used: set[str] = set()

    def sentence(pole: str) -> str:
        pool = [t for t in st[pole][lang] if t not in used] or st[pole][lang]
        text = pool[int(rng.integers(len(pool)))]
        used.add(text)
        return text

    for yp, xp in zip(ypoles, xpoles):
        pair = [sentence(yp), sentence(xp)]
        parts.extend(pair if rng.random() < 0.5 else pair[::-1])
    parts.append(templates["closers"][lang][int(rng.integers(len(templates["closers"][lang])))])
    return " ".join(p.strip() for p in parts)


SYNTHETIC_LANGUAGES: tuple[str, ...] = ("en",)


def synthetic_frame(
    prompts: pl.DataFrame,
    templates: dict,
    seed: int = 0,
    profiles: tuple[SyntheticProfile, ...] = SYNTHETIC_PROFILES,
    all_prompts: bool = False,
    languages: tuple[str, ...] | None = SYNTHETIC_LANGUAGES,
) -> pl.DataFrame:
    """Synthetic answers of each profile to the dataset's prompts (frame with prompt_hash, text).

    By default only the pregenerated opening prompts (the template topics' prompts, word for word) in English are
    answered, one answer per profile and prompt: the paper compared LLMs on English prompts, and it keeps the
    embedding work small.
    ``languages=None`` answers in all five languages; ``all_prompts`` also answers follow-ups and the demo's 'own'
    prompts (matched to their topic). Returns model, prompt_hash, text_hash, text."""
    rng = np.random.default_rng(seed)
    exact, firsts = _prompt_index(templates)
    first_keys = {first: (k, lang) for first, k, lang in firsts}
    rows: list[tuple[str, str, str, str]] = []
    for prompt_hash, text in prompts.select("prompt_hash", "text").sort("prompt_hash").iter_rows():
        key = normalise_space(text)
        if all_prompts:
            hit = exact.get(key) or next(((k, lang) for first, k, lang in firsts if key.endswith(first)), None)
        else:
            hit = first_keys.get(key)
        if hit is None or (languages is not None and hit[1] not in languages):
            continue
        topic, lang = hit
        for prof in profiles:
            px = np.asarray(prof.x) / sum(prof.x)
            py = np.asarray(prof.y) / sum(prof.y)
            xpoles = [_X_POLES[int(i)] for i in rng.choice(3, size=SENTENCES_PER_AXIS, p=px)]
            ypoles = [_Y_POLES[int(i)] for i in rng.choice(3, size=SENTENCES_PER_AXIS, p=py)]
            answer = compose_answer(templates, topic, lang, xpoles, ypoles, rng)
            rows.append((prof.name, prompt_hash, md5_hex(answer), answer))
    return pl.DataFrame(
        rows,
        schema={"model": pl.String, "prompt_hash": pl.String, "text_hash": pl.String, "text": pl.String},
        orient="row",
    )


def add_synthetic_llm_responses(
    con: duckdb.DuckDBPyConnection,
    seed: int = 0,
    templates: dict | None = None,
    all_prompts: bool = False,
    languages: tuple[str, ...] | None = SYNTHETIC_LANGUAGES,
) -> int:
    """(Re)write the SYNTHETIC LLM profiles' answers to the database's prompts on a read-write connection
    (by default the pregenerated opening prompts; see :func:`synthetic_frame`).

    Replaces earlier synthetic rows (uploads are kept), in one transaction. Returns the number of rows written."""
    if templates is None:
        templates = load_templates()
    prompts = store.query_pl(con, f"SELECT prompt_hash, text FROM {schema.T_PROMPTS}")
    frame = synthetic_frame(prompts, templates, seed=seed, all_prompts=all_prompts, languages=languages)
    now = datetime.now(UTC).replace(tzinfo=None)
    con.register("_synthetic_llm", frame.to_arrow())
    try:
        with store.transaction(con):
            ensure_table(con)
            con.execute(f"DELETE FROM {TABLE} WHERE synthetic")
            con.execute(
                f"INSERT INTO {TABLE} SELECT model, prompt_hash, text_hash, text, TRUE, ? FROM _synthetic_llm", [now]
            )
    finally:
        con.unregister("_synthetic_llm")
    return frame.height
