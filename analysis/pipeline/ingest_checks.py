"""What ingest checks before it builds anything, and what it says when DuckDB cannot read a CSV.

- ``check_target(source, db_path, tmp)``: refuse a ``--db`` that is (or resolves to) the source, a directory,
  something that is not a regular file, or a place where a file cannot be created (no permission, a missing parent
  that cannot be made, /proc...); creating the temporary file is the test, so nothing is built first.
- ``temporaries(db_path, pid)`` / ``remove_stale_temporaries(db_path)``: the files an ingest writes beside the target
  (``.NAME.tmp-PID``, its ``.wal`` and its spill folder ``.NAME.tmp-PID.spill``); those of a process that is gone
  (an ingest killed with SIGKILL) are removed by the next ingest.
- ``diagnose_csv(path, error)``: the likely cause of a CSV DuckDB could not read (compression, encoding,
  delimiter, quoting, a ragged row, no header) and what to do, from the file's first bytes and lines.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

SAMPLE_BYTES = 8 * 1024 * 1024  # what the diagnosis reads of a file
_MAGIC = {
    b"\x1f\x8b": ("gzip", ".csv.gz", "gunzip"),
    b"\x28\xb5\x2f\xfd": ("zstd", None, "unzstd"),
    b"PK\x03\x04": ("zip", None, "unzip"),
    b"BZh": ("bzip2", None, "bunzip2"),
    b"\xfd7zXZ\x00": ("xz", None, "unxz"),
}
_TMP = re.compile(r"\.tmp-(\d+)(?:\.wal|\.spill)?$")


class TargetError(ValueError):
    """The database cannot be written where asked; the message says why and what to do."""


# ---- the target -------------------------------------------------------------------------------------------------
def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_target(source: Path | None, db_path: Path, tmp: Path) -> None:
    """Raise TargetError unless ``db_path`` can be built (through ``tmp``) and replaced without touching ``source``.
    Creates ``db_path``'s folder when missing; leaves no file behind."""
    where = "Choose a --db in a folder you can write to, e.g. data/community_alignment.duckdb."
    if source is not None and _same_file(source, db_path):
        raise TargetError(f"--db {db_path} is the source file itself: ingest would overwrite it. {where}")
    if db_path.is_dir():
        raise TargetError(f"--db {db_path} is a directory, not a database file. {where}")
    if db_path.exists() and not db_path.is_file():
        raise TargetError(f"--db {db_path} exists and is not a regular file. {where}")
    if db_path.parent.exists() and not db_path.parent.is_dir():
        raise TargetError(f"--db {db_path}: {db_path.parent} is a file, not a folder. {where}")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise TargetError(f"Cannot create the folder {db_path.parent} for the database: {reason}. {where}") from None
    try:
        tmp.unlink(missing_ok=True)  # our own leftover (same PID)
        with open(tmp, "xb"):
            pass
        tmp.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise TargetError(f"Cannot create the database at {db_path}: {reason}. {where}") from None


# ---- temporary files --------------------------------------------------------------------------------------------
def temporaries(db_path: Path, pid: int) -> tuple[Path, Path, Path]:
    """(the database being built, its WAL, its spill folder) for the ingest running as ``pid``."""
    tmp = db_path.with_name(f".{db_path.name}.tmp-{pid}")
    return tmp, Path(f"{tmp}.wal"), Path(f"{tmp}.spill")


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_temporaries(db_path: Path) -> list[Path]:
    """Remove the temporary files of ingests into ``db_path`` whose process is gone; return what was removed."""
    removed = []
    try:
        candidates = list(db_path.parent.glob(f".{glob_escape(db_path.name)}.tmp-*"))
    except OSError:
        return removed
    for path in candidates:
        m = _TMP.search(path.name)
        if not m or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
            continue
        try:
            remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


# ---- why a CSV could not be read --------------------------------------------------------------------------------
def _compression(head: bytes, path: Path) -> str | None:
    for magic, (kind, suffix, tool) in _MAGIC.items():
        if head.startswith(magic):
            if suffix and path.name.lower().endswith(suffix):
                return None
            rename = f"rename it to {path.name}.gz (DuckDB reads .csv.gz) or " if kind == "gzip" else ""
            return f"{path.name} is {kind}-compressed, not a plain CSV: {rename}decompress it ({tool}) and run again."
    return None


def _encoding(head: bytes, path: Path) -> str | None:
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2000].count(b"\x00") > 100
    if utf16:
        return (
            f"{path.name} is UTF-16 text, not UTF-8: convert it, e.g. `iconv -f UTF-16 -t UTF-8 {path.name} > "
            f"{path.stem}.utf8.csv` (or in Excel: Save As 'CSV UTF-8'), then ingest the converted file."
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            line = head[: exc.start].count(b"\n") + 1
            return (
                f"{path.name} is not UTF-8 (byte {exc.start:,}, line {line:,}: {head[exc.start : exc.start + 4]!r}): "
                f"convert it, e.g. `iconv -f LATIN1 -t UTF-8 {path.name} > {path.stem}.utf8.csv`, then ingest that."
            )
    return None


def _delimiter(header: str, path: Path) -> str | None:
    counts = {sep: header.count(sep) for sep in (";", "\t", "|")}
    sep, n = max(counts.items(), key=lambda kv: kv[1])
    if n > header.count(","):
        name = {"\t": "tabs", ";": "semicolons", "|": "'|'"}[sep]
        return (
            f"{path.name} is separated by {name}, not commas: export it as a comma-separated CSV (the release's "
            "format) and run again."
        )
    return None


def _records(text: str, path: Path, complete: bool) -> str | None:
    """Quoting and ragged rows, read with Python's csv module over the sample."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        for record in reader:
            if record and len(record) != len(header):
                return (
                    f"{path.name} line {reader.line_num:,} has {len(record)} fields where the header has "
                    f"{len(header)} (a ragged row: a missing or extra comma, or a field with commas that is not "
                    "quoted). Fix that row (quote fields that hold commas) and run again."
                )
    except StopIteration:
        return None
    except csv.Error as exc:
        if not complete and "unexpected end of data" in str(exc):
            return None  # the sample ended inside a long quoted field
        return (
            f"{path.name} has a quoting problem near line {reader.line_num:,} ({exc}): a field that opens a quote "
            'must close it, and a quote inside a field is written twice (""). Fix the quoting and run again.'
        )
    return None


def likely_cause(path: Path) -> str | None:
    """The likely reason ``path`` is not readable as the release's CSV, with what to do; None if none is found."""
    try:
        with open(path, "rb") as f:
            head = f.read(SAMPLE_BYTES)
            complete = not f.read(1)
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}."
    cause = _compression(head, path) or _encoding(head, path)
    if cause:
        return cause
    text = head.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return f"{path.name} holds no header row and no data (only blank lines): expected the release's CSV."
    return _delimiter(lines[0], path) or _records(text, path, complete)


def diagnose_csv(path: Path, error: str = "") -> str:
    """The likely cause of DuckDB's failure to read ``path`` as the release's CSV, and what to do (one paragraph)."""
    cause = likely_cause(path)
    if cause:
        return cause
    first = error.strip().splitlines()[0] if error.strip() else "unknown error"
    return (
        f"{path.name} could not be read as the release's CSV ({first}). Check that it is the comma-separated, "
        "UTF-8 file from the dataset page, not an edited or re-exported copy."
    )
