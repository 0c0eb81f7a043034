"""A frame as the files a user downloads (CSV, Parquet, JSON) and as text a terminal prints.

A column a format cannot hold (lists, structs and maps in CSV; an empty struct in Parquet) is written as its text
form. Converting a value can fail inside Polars' Rust code with a ``PanicException`` (for example a DATE of
``infinity``); that is a ``BaseException``, so every conversion here is guarded with ``except BaseException`` and
reported as ``ConversionError`` with one line. The SQL console's worker runs ``check_frame`` on each result and casts
a column that fails to text in SQL (analysis.explore.sql_worker), so what reaches a page or the CLI converts.
"""

from __future__ import annotations

import io

import polars as pl

_PLAIN = (pl.String, pl.Boolean, pl.Date, pl.Datetime, pl.Time, pl.Duration, pl.Null, pl.Categorical, pl.Enum)


class ConversionError(ValueError):
    """A value could not be converted; the message is one line."""


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_plain(dtype: pl.DataType, keep_nested: bool) -> bool:
    if dtype.is_numeric() or isinstance(dtype, _PLAIN) or dtype in _PLAIN:
        return True
    nested = isinstance(dtype, (pl.List, pl.Array)) or (isinstance(dtype, pl.Struct) and len(dtype.fields) > 0)
    return keep_nested and nested


def as_text(frame: pl.DataFrame, keep_nested: bool = False) -> pl.DataFrame:
    """Columns of types a file format cannot hold (lists, structs, maps, binaries...) as their text form.
    Raises ConversionError when a value cannot be turned into text."""
    out = {}
    for name, dtype in frame.schema.items():
        col = frame.get_column(name)
        if _is_plain(dtype, keep_nested):
            out[name] = col
            continue
        try:
            values = col.to_list()
        except BaseException as exc:  # noqa: BLE001 - a pyo3 PanicException is a BaseException
            raise ConversionError(f"column {name!r} could not be written as text: {first_line(exc)}") from None
        out[name] = pl.Series(name, [None if v is None else str(v) for v in values], dtype=pl.String)
    return pl.DataFrame(out)


def _guarded(what: str, fn):
    try:
        return fn()
    except ConversionError:
        raise
    except BaseException as exc:  # noqa: BLE001 - PanicException included
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ConversionError(f"could not write the result as {what}: {first_line(exc)}") from None


def csv_bytes(frame: pl.DataFrame) -> bytes:
    try:
        return frame.write_csv().encode("utf-8")
    except BaseException as exc:  # noqa: BLE001 - nested types CSV cannot hold: write them as text
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
    return _guarded("CSV", lambda: as_text(frame).write_csv().encode("utf-8"))


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    for keep_nested in (None, True, False):  # as it is, then odd types as text, then every nested type as text

        def write(keep_nested=keep_nested) -> bytes:
            buf = io.BytesIO()
            (frame if keep_nested is None else as_text(frame, keep_nested=keep_nested)).write_parquet(buf)
            return buf.getvalue()

        try:
            return _guarded("Parquet", write)
        except ConversionError:
            if keep_nested is False:
                raise
    raise AssertionError("unreachable")


def json_bytes(frame: pl.DataFrame) -> bytes:
    """One JSON array of row objects."""
    return _guarded("JSON", lambda: frame.write_json().encode("utf-8"))


def table_text(frame: pl.DataFrame, max_rows: int = 50, max_chars: int = 60, width: int | None = None) -> str:
    """The frame as the table a terminal shows (``width`` characters wide; None: Polars' default)."""

    def show() -> str:
        with pl.Config(tbl_rows=min(frame.height, max_rows), tbl_cols=-1, fmt_str_lengths=max_chars,
                       tbl_width_chars=width):  # fmt: skip
            return str(frame)

    return _guarded("a table", show)


def check_frame(frame: pl.DataFrame) -> dict[str, str]:
    """The columns that cannot be shown or written to every download format, each with the first problem found."""
    problems: dict[str, str] = {}
    for name in frame.columns:
        one = frame.select(name)
        for fn in (table_text, csv_bytes, parquet_bytes, json_bytes):
            try:
                fn(one)
            except ConversionError as exc:
                problems[name] = str(exc)
                break
    return problems
