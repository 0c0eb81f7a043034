"""One source of truth for names shared across layers: release columns, tables, poles, countries."""

from __future__ import annotations

TURNS: tuple[str, ...] = ("first", "second", "third", "fourth")
LETTERS: tuple[str, ...] = ("a", "b", "c", "d")

# Columns of the release's wide CSV (one row per conversation), matched by name.
BASE_COLUMNS: tuple[str, ...] = ("conversation_id", "annotator_id", "assigned_lang", "wave")
TURN_FIELDS: tuple[str, ...] = (
    "prompt",
    "response_a",
    "response_b",
    "response_c",
    "response_d",
    "preferred_response",
    "feedback",
)
ANNOTATOR_COLUMNS: tuple[str, ...] = (
    "annotator_age",
    "annotator_gender",
    "annotator_education_level",
    "annotator_political",
    "annotator_ethnicity",
    "annotator_country",
)
FLAG_COLUMNS: tuple[str, ...] = (
    "is_pregenerated_first_prompt",
    "in_balanced_subset",
    "in_balanced_subset_10",
)


def turn_column(turn: str, field: str) -> str:
    return f"{turn}_turn_{field}"


RELEASE_COLUMNS: tuple[str, ...] = (
    BASE_COLUMNS + tuple(turn_column(t, f) for t in TURNS for f in TURN_FIELDS) + ANNOTATOR_COLUMNS + FLAG_COLUMNS
)

# Columns without which a row cannot be placed at all. Turn feedback and the demographic and flag
# columns are optional: when absent they load as NULL.
REQUIRED_COLUMNS: tuple[str, ...] = ("conversation_id", "annotator_id") + tuple(
    turn_column(t, f)
    for t in TURNS
    for f in ("prompt", "response_a", "response_b", "response_c", "response_d", "preferred_response")
)
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(c for c in RELEASE_COLUMNS if c not in REQUIRED_COLUMNS)

# Tables of the normalised database (documented in docs/tables.md).
T_META = "meta"
T_ANNOTATORS = "annotators"
T_CONVERSATIONS = "conversations"
T_COMPARISONS = "comparisons"
T_CANDIDATES = "candidates"
T_PROMPTS = "prompts"
T_REJECTED = "rejected"
V_FACTS = "comparison_facts"  # view: comparisons joined with conversation and annotator columns

# Tables the pipeline adds (documented in docs/tables.md), each stored with the parameters that made it.
T_EMBEDDINGS = "embeddings"  # (model, text_hash, vector)
T_PROJECTIONS = "projections"  # one row per fitted UMAP, with its pickled reducer
T_PROJECTION_POINTS = "projection_points"  # (projection_id, text_hash, x, y, fitted)
T_AXIS_SCORES = "axis_scores"  # (model, axes_version, text_hash, self_expression, secular)
T_AXIS_VALIDITY = (
    "axis_validity"  # (model, axes_version, axis, scheme, language, n, correct, accuracy, ci_low, ci_high, flagged)
)
T_AXIS_RUNS = (
    "axis_runs"  # (model, axes_version, labels_version, method_version, labels_source, params, fit, labels, ...)
)
T_LLM_RESPONSES = "llm_responses"  # (model, prompt_hash, text_hash, text, synthetic, uploaded_at)
# Preference models fitted on the choices (python -m analysis prefs), one run per (model, grouping, filters).
T_PREF_RUNS = "pref_runs"  # (run_id, model, grouping, filters, params, summary, created_at)
T_PREF_SCORES = "pref_scores"  # per run, split, fitted model and test group: accuracy, auc, log_loss, sizes
T_PREF_WEIGHTS = "pref_weights"  # per run, split and fitted model: the L2 strength and the weight vectors
T_PREF_READINGS = "pref_readings"  # per run, split, fitted model and text set: slopes of utility on the two axes
T_PREF_EXAMPLES = "pref_examples"  # per run and group: the texts its model ranks most unlike the pooled model

# Key columns shared across tables.
C_TEXT_HASH = "text_hash"  # md5(text), lowercase hex, as DuckDB computes it
C_PROMPT_HASH = "prompt_hash"
HASH_COLUMNS: tuple[str, ...] = tuple(f"{letter}_hash" for letter in LETTERS)  # candidate hashes, in the order shown
# A candidate set: one prompt with the same candidate texts in any order (two identical slots are one text). Stored
# by ingest as comparisons.set_id; the expression is kept for databases built before that column existed.
SET_ID = "set_id"
SET_ID_SQL = (
    "md5(prompt_hash || ':' || array_to_string(list_sort(list_distinct([" + ", ".join(HASH_COLUMNS) + "])), ','))"
)

NOT_GIVEN = "(not given)"  # how a missing category value (NULL) is labelled in tables and charts

# Rejection reasons (the values of rejected.reason).
R_MISSING_CONVERSATION_ID = "missing_conversation_id"
R_MISSING_ANNOTATOR_ID = "missing_annotator_id"
R_CONFLICTING_DUPLICATE = "conflicting_duplicate"
R_MISSING_PREFERRED = "missing_preferred_response"
R_UNKNOWN_PREFERRED = "unknown_preferred_response"
R_EMPTY_CANDIDATE = "empty_candidate"
ROW_REASONS = (R_MISSING_CONVERSATION_ID, R_MISSING_ANNOTATOR_ID, R_CONFLICTING_DUPLICATE)
TURN_REASONS = (R_MISSING_PREFERRED, R_UNKNOWN_PREFERRED, R_EMPTY_CANDIDATE)

# Countries and languages of the study.
COUNTRIES: tuple[str, ...] = ("United States", "France", "Italy", "Brazil", "India")
COUNTRY_LANG: dict[str, str] = {
    "United States": "en",
    "France": "fr",
    "Italy": "it",
    "Brazil": "pt",
    "India": "hi",
}
LANGUAGES: tuple[str, ...] = ("en", "fr", "it", "pt", "hi")
# Other spellings of the countries and languages, as files write them. Keys are compared after
# analysis.text.spelling_key (lower case, letters and digits only: spaces, dots and hyphens dropped); a value
# outside these sets loads as it is.
COUNTRY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "United States": ("united states", "united states of america", "usa", "u s a", "us", "u s", "america", "the us",
                      "the united states", "etats unis", "états unis", "estados unidos", "stati uniti"),
    "France": ("france", "fr", "fra", "french republic", "république française", "francia", "frança"),
    "Italy": ("italy", "it", "ita", "italia", "italie", "itália"),
    "Brazil": ("brazil", "br", "bra", "brasil", "brésil", "brasile"),
    "India": ("india", "in", "ind", "bharat", "bhārat", "inde", "índia", "भारत"),
}  # fmt: skip
LANGUAGE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "en": ("en", "eng", "english", "en us", "en gb", "anglais", "inglese", "inglês"),
    "fr": ("fr", "fra", "fre", "french", "français", "francais", "fr fr", "fr ca"),
    "it": ("it", "ita", "italian", "italiano", "it it"),
    "pt": ("pt", "por", "portuguese", "português", "portugues", "pt br", "pt pt"),
    "hi": ("hi", "hin", "hindi", "hi in", "हिन्दी", "हिंदी"),
}

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "hi": "Hindi",
}

# Inglehart-Welzel value axes. x: survival (-) to self-expression (+); y: traditional (-) to secular-rational (+).
AXIS_X = "self_expression"
AXIS_Y = "secular"
POLES: tuple[str, ...] = ("traditional", "secular", "survival", "self_expression")
POLE_AXIS: dict[str, tuple[str, int]] = {
    "traditional": (AXIS_Y, -1),
    "secular": (AXIS_Y, +1),
    "survival": (AXIS_X, -1),
    "self_expression": (AXIS_X, +1),
}
POLE_LABELS: dict[str, str] = {
    "traditional": "Traditional",
    "secular": "Secular-rational",
    "survival": "Survival",
    "self_expression": "Self-expression",
}
