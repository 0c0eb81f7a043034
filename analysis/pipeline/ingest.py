"""Ingest the release's wide file (one row per conversation) into the normalised DuckDB tables.

Everything is set-based SQL run by DuckDB on its own readers; no Python loop touches a row.
The database is built in a temporary file beside the target and swapped in only when the whole
build succeeded, so a failure at any point leaves an existing database exactly as it was.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from tqdm import tqdm

from analysis import schema
from analysis.pipeline.ingest_checks import (
    TargetError,
    check_target,
    diagnose_csv,
    likely_cause,
    remove,
    remove_stale_temporaries,
    temporaries,
)
from analysis.store import scalar
from analysis.text import clean_text_sql, has_token_sql, spelling_key, spelling_key_sql

EXIT_BAD_INPUT = 2
HF_REPO = "facebook/community-alignment-dataset"
HF_PAGE = f"https://huggingface.co/datasets/{HF_REPO}"
SCHEMA_VERSION = "1"
# Large responses exist: allow 8 MB per conversation row (the default is 2 MB); larger costs memory per thread.
CSV_OPTIONS = "header=true, all_varchar=true, delim=',', quote='\"', escape='\"', max_line_size=8388608"


class IngestError(Exception):
    """Bad input or a failed build. ``code`` is the process exit code."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT):
        super().__init__(message)
        self.code = code


@dataclass
class IngestResult:
    summary: dict
    db_path: Path
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def source_relation(source: Path) -> str:
    """The DuckDB table function that reads ``source`` (CSV, gzipped CSV or Parquet)."""
    name = source.name.lower()
    if name.endswith(".parquet"):
        return f"read_parquet({_lit(str(source))})"
    if name.endswith(".csv") or name.endswith(".csv.gz"):
        return f"read_csv({_lit(str(source))}, {CSV_OPTIONS})"
    raise IngestError(
        f"Unsupported source {source.name!r}: give a .csv, .csv.gz or .parquet file of the release, or 'hf'."
    )


def source_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as exc:
        raise IngestError(f"Could not read the source: {exc}") from exc
    return [r[0] for r in rows]


def check_columns(columns: list[str]) -> list[str]:
    """Required release columns that are absent (matched by exact name; extra columns are ignored)."""
    present = set(columns)
    return [c for c in schema.REQUIRED_COLUMNS if c not in present]


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    return tqdm(total=total, desc="ingest", unit="step", file=sys.stderr, leave=False)


def _read_raw(con: duckdb.DuckDBPyConnection, relation: str, present: set[str]) -> None:
    """The raw rows, every release column as text (NULL where the column is absent), numbered."""
    select_cols = ",\n".join(
        (f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" if c in present else f"CAST(NULL AS VARCHAR) AS {_q(c)}")
        for c in schema.RELEASE_COLUMNS
    )
    con.execute(f"CREATE TEMP TABLE raw AS SELECT row_number() OVER () AS source_row, {select_cols} FROM {relation}")


def _classify_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Each row loaded, an exact duplicate, or rejected. Only rows sharing a conversation_id need a content hash
    (NULL-aware) to tell an exact duplicate from a conflicting one; hashing every row would double the read's cost."""
    hash_parts = ", ".join(f"coalesce(r.{_q(c)}, chr(30))" for c in schema.RELEASE_COLUMNS)
    con.execute(
        f"""
        CREATE TEMP TABLE row_status AS
        WITH ids AS (
            SELECT source_row, NULLIF(trim(conversation_id), '') AS cid, NULLIF(trim(annotator_id), '') AS aid
            FROM raw
        ), repeated AS (
            SELECT cid FROM ids WHERE cid IS NOT NULL AND aid IS NOT NULL GROUP BY cid HAVING count(*) > 1
        ), hashed AS (
            SELECT i.source_row, i.cid, md5(concat_ws(chr(31), {hash_parts})) AS row_hash
            FROM ids i JOIN repeated USING (cid) JOIN raw r USING (source_row)
            WHERE i.aid IS NOT NULL
        ), ranked AS (
            SELECT source_row, cid,
                   row_number() OVER (PARTITION BY cid ORDER BY source_row) AS rn,
                   row_hash = first(row_hash ORDER BY source_row) OVER (PARTITION BY cid) AS same_as_first
            FROM hashed
        )
        SELECT source_row, cid, CASE WHEN rn = 1 THEN 'loaded' WHEN same_as_first THEN 'duplicate'
                                     ELSE '{schema.R_CONFLICTING_DUPLICATE}' END AS status
        FROM ranked
        UNION ALL
        SELECT source_row, cid, 'loaded' FROM ids
        WHERE cid IS NOT NULL AND aid IS NOT NULL AND cid NOT IN (SELECT cid FROM repeated)
        UNION ALL
        SELECT source_row, cid, CASE WHEN cid IS NULL THEN '{schema.R_MISSING_CONVERSATION_ID}'
                                     ELSE '{schema.R_MISSING_ANNOTATOR_ID}' END
        FROM ids WHERE cid IS NULL OR aid IS NULL
        """
    )


def _turn_select(i: int, turn: str) -> str:
    """The SELECT that unpivots turn ``turn`` (number ``i``) of the loaded rows, with its rejection reason. Texts are
    cleaned first (analysis.text.SPECIAL_TOKENS), so a candidate that holds only a token is an empty candidate and an
    answer with and without a token is one text."""
    raw = {f: "r." + _q(schema.turn_column(turn, f)) for f in schema.TURN_FIELDS}
    texts = ["prompt", *(f"response_{x}" for x in schema.LETTERS), "feedback"]
    cleaned = ", ".join(f"{clean_text_sql(raw[f])} AS c_{f}" for f in texts)
    tokens = " + ".join(has_token_sql(raw[f]) for f in texts)
    ra, rb, rc, rd = (f"c_response_{x}" for x in schema.LETTERS)
    pref = f"lower(trim({raw['preferred_response']}))"
    letters = ", ".join(f"'response_{x}'" for x in schema.LETTERS)
    reason = f"""CASE
        WHEN {pref} IS NULL OR {pref} = '' THEN '{schema.R_MISSING_PREFERRED}'
        WHEN {pref} NOT IN ({letters}) THEN '{schema.R_UNKNOWN_PREFERRED}'
        WHEN NULLIF({ra}, '') IS NULL OR NULLIF({rb}, '') IS NULL
          OR NULLIF({rc}, '') IS NULL OR NULLIF({rd}, '') IS NULL THEN '{schema.R_EMPTY_CANDIDATE}'
      END"""
    empty = " || ".join(
        f"(CASE WHEN NULLIF({c}, '') IS NULL THEN 'response_{x} ' ELSE '' END)"
        for c, x in zip((ra, rb, rc, rd), schema.LETTERS)
    )
    detail = f"""CASE
        WHEN {pref} IS NULL OR {pref} = '' THEN 'no preferred response given'
        WHEN {pref} NOT IN ({letters})
          THEN 'preferred response ' || {raw["preferred_response"]} || ' is not response_a..response_d'
        ELSE 'empty: ' || trim({empty})
      END"""
    hashes = ", ".join(f"CASE WHEN reason IS NULL THEN md5(r{x}) END AS h{x}" for x in schema.LETTERS)
    return f"""SELECT source_row, cid, NULLIF(trim(r.annotator_id), '') AS aid, {i} AS turn, reason,
                   CASE WHEN reason IS NULL THEN NULL ELSE {detail} END AS detail,
                   prompt, md5(prompt) AS prompt_hash, ra, rb, rc, rd, {hashes},
                   right({pref}, 1) AS chosen, NULLIF(c_feedback, '') AS feedback, n_tokens
            FROM (SELECT r.*, s.cid, c_prompt AS prompt, {ra} AS ra, {rb} AS rb, {rc} AS rc, {rd} AS rd,
                         {reason} AS reason
                  FROM (SELECT r.*, {cleaned}, {tokens} AS n_tokens FROM raw r) r
                  JOIN row_status s USING (source_row)
                  WHERE s.status = 'loaded' AND NULLIF(c_prompt, '') IS NOT NULL) r"""


def _classify_turns(con: duckdb.DuckDBPyConnection) -> None:
    """Turns of the loaded rows, unpivoted set-wise; a turn without a prompt is absent. Each text is hashed once
    here and the hashes are reused by every table below."""
    selects = [_turn_select(i, t) for i, t in enumerate(schema.TURNS, start=1)]
    con.execute("CREATE TEMP TABLE turns AS " + "\nUNION ALL\n".join(selects))


def _write_choices(con: duckdb.DuckDBPyConnection, step) -> None:
    """rejected, comparisons, candidates and prompts. A candidate text is taken from its first slot (the hashes are
    grouped alone, then each text is fetched once: grouping the texts themselves costs twice as much)."""
    # k numbers every slot: source_row * 16 + (turn - 1) * 4 + slot
    slots = " UNION ALL ".join(
        f"SELECT h{x} AS text_hash, source_row * 16 + (turn - 1) * 4 + {i} AS k FROM turns WHERE reason IS NULL"
        for i, x in enumerate(schema.LETTERS)
    )
    pick = "CASE f.k % 4 " + " ".join(f"WHEN {i} THEN t.r{x}" for i, x in enumerate(schema.LETTERS)) + " END"
    con.execute(
        f"""
        CREATE TABLE {schema.T_REJECTED} AS
        SELECT source_row, cid AS conversation_id, CAST(NULL AS INTEGER) AS turn, status AS reason,
               CASE status
                 WHEN '{schema.R_MISSING_CONVERSATION_ID}' THEN 'row has no conversation_id'
                 WHEN '{schema.R_MISSING_ANNOTATOR_ID}' THEN 'row has no annotator_id'
                 ELSE 'same conversation_id as an earlier row, different content' END AS detail
        FROM row_status WHERE status NOT IN ('loaded', 'duplicate')
        UNION ALL
        SELECT source_row, cid, turn, reason, detail FROM turns WHERE reason IS NOT NULL
        ORDER BY source_row, turn
        """
    )
    con.execute(
        f"""
        CREATE TABLE {schema.T_COMPARISONS} AS
        SELECT cid || ':' || turn AS comparison_id, cid AS conversation_id, aid AS annotator_id, turn,
               prompt_hash, ha AS a_hash, hb AS b_hash, hc AS c_hash, hd AS d_hash, chosen,
               CASE chosen WHEN 'a' THEN ha WHEN 'b' THEN hb WHEN 'c' THEN hc ELSE hd END AS chosen_hash,
               feedback, {schema.SET_ID_SQL} AS {schema.SET_ID}  -- over the aliases just above
        FROM turns WHERE reason IS NULL
        ORDER BY source_row, turn
        """
    )
    step("comparisons")
    con.execute(
        f"""
        CREATE TABLE {schema.T_CANDIDATES} AS
        WITH slots AS ({slots}),
        firsts AS (SELECT text_hash, min(k) AS k FROM slots GROUP BY text_hash)
        SELECT f.text_hash, {pick} AS text, length({pick}) AS n_chars
        FROM firsts f JOIN turns t ON t.source_row = f.k // 16 AND t.turn = (f.k // 4) % 4 + 1
        """
    )
    con.execute(
        f"""
        CREATE TABLE {schema.T_PROMPTS} AS
        SELECT prompt_hash, any_value(prompt) AS text, length(any_value(prompt)) AS n_chars,
               count(*) AS n_comparisons, count(DISTINCT aid) AS n_annotators
        FROM turns WHERE reason IS NULL
        GROUP BY prompt_hash
        """
    )
    step("candidates and prompts")


def _spellings_table(con: duckdb.DuckDBPyConnection) -> None:
    """spellings(kind, key, canonical): every known spelling of a country or language, by its spelling key."""
    rows = [("country", spelling_key(v), c) for c, vs in schema.COUNTRY_SPELLINGS.items() for v in (c, *vs)]
    rows += [("language", spelling_key(v), c) for c, vs in schema.LANGUAGE_SPELLINGS.items() for v in (c, *vs)]
    con.execute("CREATE TEMP TABLE spellings (kind VARCHAR, key VARCHAR, canonical VARCHAR)")
    con.executemany("INSERT INTO spellings VALUES (?, ?, ?)", sorted(set(rows)))


def _canonical(kind: str, value: str) -> str:
    """SQL: the canonical name of a country or language spelled ``value`` (a SQL expression), else the value as
    it is (trimmed)."""
    return (
        f"coalesce((SELECT canonical FROM spellings WHERE kind = '{kind}' AND key = {spelling_key_sql(value)}), "
        f"{value})"
    )


def _write_people(con: duckdb.DuckDBPyConnection) -> None:
    """conversations, annotators and the comparison_facts view. Countries and languages are stored under their
    canonical names (schema.COUNTRIES, schema.LANGUAGES) whatever their spelling in the file, with the raw value
    beside them."""
    _spellings_table(con)

    def flag(col: str) -> str:
        return (
            f"CASE lower(trim({_q(col)})) WHEN 'true' THEN true WHEN '1' THEN true WHEN 'yes' THEN true "
            f"WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false END"
        )

    con.execute(
        f"""
        CREATE TABLE {schema.T_CONVERSATIONS} AS
        SELECT s.cid AS conversation_id, NULLIF(trim(r.annotator_id), '') AS annotator_id,
               {_canonical("language", "NULLIF(trim(r.assigned_lang), '')")} AS assigned_lang,
               NULLIF(trim(r.assigned_lang), '') AS assigned_lang_raw, NULLIF(trim(r.wave), '') AS wave,
               {flag("is_pregenerated_first_prompt")} AS is_pregenerated_first_prompt,
               {flag("in_balanced_subset")} AS in_balanced_subset,
               {flag("in_balanced_subset_10")} AS in_balanced_subset_10,
               coalesce(t.n_turns, 0)::INTEGER AS n_turns, coalesce(t.n_comparisons, 0)::INTEGER AS n_comparisons,
               r.source_row
        FROM row_status s JOIN raw r USING (source_row)
        LEFT JOIN (SELECT source_row, count(*) AS n_turns, count(*) FILTER (WHERE reason IS NULL) AS n_comparisons
                   FROM turns GROUP BY source_row) t USING (source_row)
        WHERE s.status = 'loaded'
        ORDER BY r.source_row
        """
    )

    def demo(col: str) -> str:
        c = _q(col)
        return f"first(NULLIF(trim({c}), '') ORDER BY r.source_row) FILTER (WHERE NULLIF(trim({c}), '') IS NOT NULL)"

    con.execute(
        f"""
        CREATE TABLE {schema.T_ANNOTATORS} AS
        SELECT annotator_id, {_canonical("country", "country_raw")} AS country, country_raw, age, gender, education,
               political, ethnicity, n_conversations
        FROM (
            SELECT NULLIF(trim(r.annotator_id), '') AS annotator_id,
                   {demo("annotator_country")} AS country_raw, {demo("annotator_age")} AS age,
                   {demo("annotator_gender")} AS gender, {demo("annotator_education_level")} AS education,
                   {demo("annotator_political")} AS political, {demo("annotator_ethnicity")} AS ethnicity,
                   count(*)::INTEGER AS n_conversations
            FROM row_status s JOIN raw r USING (source_row)
            WHERE s.status = 'loaded'
            GROUP BY 1)
        ORDER BY 1
        """
    )
    con.execute(
        f"""
        CREATE VIEW {schema.V_FACTS} AS
        SELECT c.*, v.assigned_lang, v.wave, v.is_pregenerated_first_prompt, v.in_balanced_subset,
               v.in_balanced_subset_10, a.country, a.age, a.gender, a.education, a.political, a.ethnicity
        FROM {schema.T_COMPARISONS} c
        JOIN {schema.T_CONVERSATIONS} v USING (conversation_id)
        JOIN {schema.T_ANNOTATORS} a ON a.annotator_id = c.annotator_id
        """
    )


def _summary(con: duckdb.DuckDBPyConnection, columns: list[str]) -> dict:
    """The summary, from the tables themselves, so the accounting is checked on what was written."""
    present = set(columns)
    counts = dict(con.execute("SELECT status, count(*) FROM row_status GROUP BY status").fetchall())
    rows_read = scalar(con, "SELECT count(*) FROM raw")
    reasons = dict(
        con.execute(f"SELECT reason, count(*) FROM {schema.T_REJECTED} GROUP BY reason ORDER BY reason").fetchall()
    )
    turns_with_prompt = scalar(con, "SELECT count(*) FROM turns")
    one = lambda sql: scalar(con, sql)  # noqa: E731
    summary = {
        "rows_read": rows_read,
        "conversations": one(f"SELECT count(*) FROM {schema.T_CONVERSATIONS}"),
        "comparisons": one(f"SELECT count(*) FROM {schema.T_COMPARISONS}"),
        "annotators": one(f"SELECT count(*) FROM {schema.T_ANNOTATORS}"),
        "prompts": one(f"SELECT count(*) FROM {schema.T_PROMPTS}"),
        "candidates": one(f"SELECT count(*) FROM {schema.T_CANDIDATES}"),
        "duplicate_rows": counts.get("duplicate", 0),
        "rejected_rows": sum(v for k, v in counts.items() if k not in ("loaded", "duplicate")),
        "turns_with_prompt": turns_with_prompt,
        "rejected_turns": one(f"SELECT count(*) FROM {schema.T_REJECTED} WHERE turn IS NOT NULL"),
        "rejected_reasons": reasons,
        "ignored_columns": sorted(set(columns) - set(schema.RELEASE_COLUMNS)),
        "absent_optional_columns": [c for c in schema.OPTIONAL_COLUMNS if c not in present],
        "cleaned_texts": int(one("SELECT coalesce(sum(n_tokens), 0) FROM turns")),
        "repeated_candidates": one(
            f"SELECT count(*) FROM {schema.T_COMPARISONS} "
            f"WHERE len(list_distinct([{', '.join(schema.HASH_COLUMNS)}])) < {len(schema.HASH_COLUMNS)}"
        ),
        "renamed_values": _renamed(con),
    }
    assert summary["rows_read"] == summary["conversations"] + summary["duplicate_rows"] + summary["rejected_rows"]
    assert summary["turns_with_prompt"] == summary["comparisons"] + summary["rejected_turns"]
    for t in ("raw", "row_status", "turns", "spellings"):
        con.execute(f"DROP TABLE {t}")
    return summary


def _renamed(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """The spellings the file used that were stored under another (canonical) name, per kind."""
    countries = con.execute(
        f"SELECT DISTINCT country_raw, country FROM {schema.T_ANNOTATORS} WHERE country_raw <> country ORDER BY 1"
    ).fetchall()
    languages = con.execute(
        f"SELECT DISTINCT assigned_lang_raw, assigned_lang FROM {schema.T_CONVERSATIONS} "
        "WHERE assigned_lang_raw <> assigned_lang ORDER BY 1"
    ).fetchall()
    return {"country": dict(countries), "language": dict(languages)}


def _build(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str], step) -> dict:
    _read_raw(con, relation, set(columns))
    step("read")
    _classify_rows(con)
    step("classify rows")
    _classify_turns(con)
    step("classify turns")
    _write_choices(con, step)
    _write_people(con)
    step("conversations and annotators")
    return _summary(con, columns)


def _is_csv(source: Path) -> bool:
    return source.name.lower().endswith((".csv", ".csv.gz"))


def _csv_message(source: Path, exc: Exception, doing: str) -> str:
    """What went wrong reading ``source``: the likely cause for a CSV (ingest_checks.diagnose_csv), else DuckDB's
    first line."""
    if _is_csv(source):
        return f"Could not {doing} {source.name}: {diagnose_csv(source, str(exc))} Nothing was changed."
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"Could not {doing} {source.name} ({first}). Nothing was changed; check that it is a complete release file."


def _check_source(con: duckdb.DuckDBPyConnection, source: Path, relation: str) -> list[str]:
    """The source's columns, once it is known to have the required ones and at least one data row."""
    try:
        columns = source_columns(con, relation)
    except IngestError as exc:
        raise IngestError(_csv_message(source, exc.__cause__ or exc, "read")) from None
    missing = check_columns(columns)
    if missing:
        cause = likely_cause(source) if _is_csv(source) and len(columns) <= 2 else None
        if cause:  # a file DuckDB read as one column: another delimiter, no header...
            raise IngestError(f"Could not read {source.name}: {cause} Nothing was changed.")
        raise IngestError(
            f"{source.name} is missing {len(missing)} required column(s): {', '.join(missing)}. "
            "Columns are matched by name; check that the file is the Community Alignment release "
            f"(see {HF_PAGE}) and that its header row is intact. Nothing was changed."
        )
    try:
        has_rows = con.execute(f"SELECT 1 FROM {relation} LIMIT 1").fetchall()
    except duckdb.Error as exc:
        raise IngestError(_csv_message(source, exc, "read")) from None
    if not has_rows:
        raise IngestError(
            f"{source.name} has a header but no data rows: there is nothing to load, and the database was not "
            "replaced with an empty one. Check that the download finished. Nothing was changed."
        )
    return columns


def _write(con: duckdb.DuckDBPyConnection, source: Path, relation: str, step, meta: dict) -> dict:
    """Build every table in ``con`` from ``source``; return the summary."""
    columns = _check_source(con, source, relation)
    try:
        summary = _build(con, relation, columns, step)
    except duckdb.Error as exc:
        raise IngestError(_csv_message(source, exc, "load")) from None
    meta = {**meta, "summary": json.dumps(summary)}
    con.execute(f"CREATE TABLE {schema.T_META} (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.executemany(f"INSERT INTO {schema.T_META} VALUES (?, ?)", list(meta.items()))
    con.execute("CHECKPOINT")
    return summary


def _prepare_target(source: Path, db_path: Path) -> tuple[Path, Path, Path]:
    """Refuse a target that cannot be built or would overwrite the source; clear stale temporaries."""
    tmp, wal, spill = temporaries(db_path, os.getpid())
    try:
        check_target(source, db_path, tmp)
    except TargetError as exc:
        raise IngestError(str(exc) + " Nothing was changed.") from None
    remove_stale_temporaries(db_path)
    for leftover in (tmp, wal, spill):
        remove(leftover)
    return tmp, wal, spill


def _check_source_file(source: Path) -> str:
    if not source.exists():
        raise IngestError(f"No such file: {source}. Give the path of the release CSV/Parquet, or 'hf'.")
    if not source.is_file():
        raise IngestError(f"{source} is not a file. Give the path of the release CSV/Parquet, or 'hf'.")
    if source.stat().st_size == 0:
        raise IngestError(f"{source} is empty: expected the release's CSV with a header row.")
    return source_relation(source)


def ingest(
    source: str | Path,
    db_path: str | Path,
    *,
    synthetic: bool = False,
    source_kind: str | None = None,
    progress: bool = False,
    memory_limit: str | None = "1500MB",
) -> IngestResult:
    """Build the database at ``db_path`` from ``source``; atomic: on any failure ``db_path`` is untouched.

    Refused before anything is built (IngestError, exit code 2): a source that is missing, empty, of another format,
    without the required columns or without data rows; a ``db_path`` that is the source or cannot be created."""
    started = time.perf_counter()
    source, db_path = Path(source), Path(db_path)
    relation = _check_source_file(source)
    tmp, wal, spill = _prepare_target(source, db_path)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "synthetic": "true" if synthetic else "false",
        "source": str(source),
        "source_kind": source_kind or ("parquet" if source.name.lower().endswith(".parquet") else "csv"),
        "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    bar = _progress(7, progress)

    def step(name: str) -> None:
        if bar is not None:
            bar.set_postfix_str(name)
            bar.update(1)

    con = None
    try:
        con = duckdb.connect(str(tmp))
        if memory_limit:
            con.execute(f"SET memory_limit = {_lit(memory_limit)}")
        con.execute(f"SET temp_directory = {_lit(str(spill))}")
        summary = _write(con, source, relation, step, meta)
        con.close()
        step("write")
        os.replace(tmp, db_path)  # atomic on one filesystem
        Path(str(db_path) + ".wal").unlink(missing_ok=True)
        step("swap")
    except (OSError, duckdb.IOException) as exc:
        raise IngestError(f"Could not write the database at {db_path}: {exc}. Nothing was changed.") from None
    finally:
        if con is not None:
            try:
                con.close()
            except duckdb.Error:
                pass
        for leftover in (tmp, wal, spill):  # after a failure, Ctrl-C or SIGTERM; after a swap only the spill folder
            remove(leftover)
        if bar is not None:
            bar.close()
    return IngestResult(summary=summary, db_path=db_path, seconds=time.perf_counter() - started)


# --- the hub ------------------------------------------------------------------------------------------

OFFLINE_HELP = (
    "Could not reach the Hugging Face hub ({error}).\n"
    "To load the real data on a machine without internet access:\n"
    f"  1. On a machine that is online, download the CSV from {HF_PAGE} (Files and versions; the full or the\n"
    "     filtered split, about 1.9 GB), for example with\n"
    f"     `huggingface-cli download {HF_REPO} --repo-type dataset --local-dir ca-data`.\n"
    "  2. Copy it here and run:  python -m analysis ingest PATH/TO/FILE.csv --db data/community_alignment.duckdb\n"
    "  3. Start the app on it:   CAE_DB=data/community_alignment.duckdb streamlit run app.py"
)


def download_from_hub(split: str = "full", cache_dir: str | Path | None = None) -> Path:
    """Download the release file for ``split`` ('full' or 'filtered'); raises IngestError with the manual route."""
    try:
        from huggingface_hub import HfApi, hf_hub_download

        files = HfApi().list_repo_files(HF_REPO, repo_type="dataset")
    except Exception as exc:  # offline, DNS failure, proxy refusal, hub down
        raise IngestError(OFFLINE_HELP.format(error=type(exc).__name__ + ": " + str(exc)[:200]), code=3) from exc
    data_files = [f for f in files if f.lower().endswith((".csv", ".csv.gz", ".parquet"))]
    wanted = [f for f in data_files if split in Path(f).name.lower()] or data_files
    if not wanted:
        raise IngestError(f"The hub repository {HF_REPO} lists no CSV or Parquet file: {files}", code=3)
    filename = sorted(wanted, key=lambda f: (not f.lower().endswith(".csv"), f))[0]
    try:
        return Path(hf_hub_download(HF_REPO, filename, repo_type="dataset", cache_dir=cache_dir))
    except Exception as exc:
        raise IngestError(OFFLINE_HELP.format(error=type(exc).__name__ + ": " + str(exc)[:200]), code=3) from exc
