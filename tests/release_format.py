"""A small file in the published release's format, written independently of the demo generator, for the tests that
check the explorer on data it has never seen (issue: the real release's format).

What it has that the release has (community-alignment-facts.md): columns in another order than the documented one;
lowercase countries ("india", "united states") and a few other spellings; language codes in any case; LLM answers in
Markdown (headers, bold, bullets, tables, code fences); ``<|end_of_text|>`` tokens on about 7% of answers; a few sets
with the same text in two slots; conversations with a missing middle turn (the full split); booleans as true/false
text; first-turn candidate sets shared by several annotators (pregenerated prompts) and follow-up turns with fresh
candidates per conversation. It also carries hostile text: an image pointing at ``probe_url`` (a local HTTP server the
browser tests watch), raw HTML and a script, in one shared set's candidate and in a feedback.

Everything the tests check is known here by construction (``ReleaseFile``), not read back from the explorer.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from analysis import schema

COUNTRY_FILE_SPELLINGS = {
    "United States": ["united states", "united states", "USA", "United States of America"],
    "France": ["france", "france", "France "],
    "Italy": ["italy", "italy", "ITALY"],
    "Brazil": ["brazil", "brazil", "Brasil"],
    "India": ["india", "india", "India"],
}
LANG_OF = {"United States": "en", "France": "fr", "Italy": "it", "Brazil": "pt", "India": "hi"}
LANG_FILE_SPELLINGS = {"en": ["en", "EN"], "fr": ["fr"], "it": ["it"], "pt": ["pt", "pt-BR"], "hi": ["hi"]}
TOKEN = "<|end_of_text|>"
PROMPTS = {
    "en": ["How strict should parents be about curfews for teenagers?", "Is it fine to skip a family wedding?"],
    "fr": ["Faut-il interdire les voitures dans le centre-ville ?", "Doit-on toujours obéir à ses parents ?"],
    "it": ["È giusto lavorare la domenica?", "Quanto conta la religione nella scuola?"],
    "pt": ["Devo emprestar dinheiro a um amigo?", "A tradição deve guiar o casamento?"],
    "hi": ["क्या बच्चों को माता-पिता की हर बात माननी चाहिए?", "क्या शादी में परंपरा ज़रूरी है?"],
}
STANCES = ["Tradition and family come first", "Personal freedom matters most", "Security before everything",
           "Trust people and experiment"]  # fmt: skip
HOSTILE_ANSWER = (
    "### A safe answer\n\n**Bold** point with an image ![probe]({probe}/answer.png) and "
    "<img src={probe}/html.png onerror=alert(1)> and <script>fetch('{probe}/script')</script> here."
)
HOSTILE_FEEDBACK = "I liked it ![p]({probe}/feedback.png) <img src={probe}/fb.png>"


def _answer(lang: str, stance: str, style: int, salt: str) -> str:
    """An LLM-like Markdown answer; ``style`` picks headers/bullets, a table or a code fence."""
    head = f"### {stance} ({lang})\n\n**In short:** {stance.lower()}, {salt}.\n\n"
    if style == 0:
        return head + "* first, listen\n* then, decide\n\n1. talk\n2. agree"
    if style == 1:
        return head + "| option | why |\n|---|---|\n| wait | " + salt + " |\n| act | now |"
    return head + "```python\nprint('<b>not html</b>')\n```\n\nThat is *all*."


@dataclass
class ReleaseFile:
    path: Path
    rows: int
    conversations: int  # distinct conversation ids = rows here (no duplicates)
    comparisons: int  # turns with a prompt and a valid choice
    tokens: int  # texts written with the end-of-text token
    repeated_sets: int  # turns whose set holds one text twice
    shared_sets: int  # first-turn sets shown to 2+ annotators
    hostile_conversation: str
    hostile_set_annotators: int
    countries: dict[str, str] = field(default_factory=dict)  # annotator -> canonical country


def _columns(rng: random.Random) -> list[str]:
    cols = list(schema.RELEASE_COLUMNS)
    rng.shuffle(cols)  # the release's order is not the documented one
    return cols


def write_release_file(path: Path, probe_url: str = "http://127.0.0.1:9", seed: int = 7) -> ReleaseFile:
    """Write the file and return what is in it. 150 annotators, 3 conversations each."""
    rng = random.Random(seed)
    countries = list(COUNTRY_FILE_SPELLINGS)
    shared = {}  # (lang, prompt index) -> the four texts every pregenerated first turn shows
    for lang, prompts in PROMPTS.items():
        for i in range(len(prompts)):
            texts = [_answer(lang, s, k % 3, f"set {lang}{i}") for k, s in enumerate(STANCES)]
            shared[(lang, i)] = texts
    shared[("en", 0)][2] = HOSTILE_ANSWER.format(probe=probe_url)
    out_rows, facts = [], {"comparisons": 0, "tokens": 0, "repeated": 0, "set_annotators": {}}
    hostile_cid, ann_country = "", {}
    for a in range(150):
        country = countries[a % 5]
        aid = f"ann-{a:04d}"
        ann_country[aid] = country
        spelling = rng.choice(COUNTRY_FILE_SPELLINGS[country])
        lang = LANG_OF[country]
        for c in range(3):
            cid = f"conv-{a:04d}-{c}"
            row = {col: "" for col in schema.RELEASE_COLUMNS}
            row.update(
                conversation_id=cid, annotator_id=aid, assigned_lang=rng.choice(LANG_FILE_SPELLINGS[lang]), wave="1",
                annotator_country=spelling, annotator_age=rng.choice(["18-34", "35-45", "46-54", "55+"]),
                annotator_gender=rng.choice(["Male", "Female"]), annotator_education_level="Some post-secondary",
                annotator_political="Middle-of-the-road/centrist", annotator_ethnicity="Prefer not to say",
                is_pregenerated_first_prompt="true" if c < 2 else "false", in_balanced_subset="false",
                in_balanced_subset_10="false",
            )  # fmt: skip
            turns = [0, 1, 2, 3] if c == 0 else ([0, 2] if c == 1 else [0, 1])  # c == 1: a missing middle turn
            for t in turns:
                _write_turn(rng, row, t, c, cid, lang, shared, facts, probe_url)
            if c == 0 and lang == "en" and not hostile_cid:
                hostile_cid = cid
            out_rows.append(row)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, _columns(rng))
        w.writeheader()
        w.writerows(out_rows)
    return ReleaseFile(
        path=path, rows=len(out_rows), conversations=len(out_rows), comparisons=facts["comparisons"],
        tokens=facts["tokens"], repeated_sets=facts["repeated"],
        shared_sets=sum(1 for v in facts["set_annotators"].values() if len(v) > 1),
        hostile_conversation=hostile_cid, hostile_set_annotators=len(facts["set_annotators"][("en", 0)]),
        countries=ann_country,
    )  # fmt: skip


def _write_turn(rng, row, t, c, cid, lang, shared, facts, probe_url) -> None:
    turn = schema.TURNS[t]
    if t == 0 and c < 2:  # a pregenerated first prompt: the shared set, in an order of its own
        key = (lang, c)
        prompt, texts = PROMPTS[lang][c], list(shared[key])
        rng.shuffle(texts)
        facts["set_annotators"].setdefault(key, set()).add(row["annotator_id"])
    else:  # the annotator's own prompt or a follow-up: fresh candidates for this conversation
        prompt = f"{PROMPTS[lang][1]} ({cid} turn {t + 1})"
        texts = [_answer(lang, s, (k + t) % 3, f"{cid} t{t}") for k, s in enumerate(STANCES)]
        if rng.random() < 0.05:
            texts[3] = texts[1]  # the same text in two slots
    if len(set(texts)) < 4:
        facts["repeated"] += 1
    written = []
    for text in texts:
        if rng.random() < 0.07:
            text += TOKEN
            facts["tokens"] += 1
        written.append(text)
    row[schema.turn_column(turn, "prompt")] = prompt
    for letter, text in zip(schema.LETTERS, written, strict=True):
        row[schema.turn_column(turn, f"response_{letter}")] = text
    row[schema.turn_column(turn, "preferred_response")] = f"response_{rng.choice(schema.LETTERS)}"
    if row["annotator_id"] == "ann-0000" and t == 0:
        row[schema.turn_column(turn, "feedback")] = HOSTILE_FEEDBACK.format(probe=probe_url)
    facts["comparisons"] += 1
