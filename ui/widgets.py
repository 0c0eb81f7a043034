"""Every table a user sees can be downloaded (CSV and Parquet; JSON too for the SQL console); every chart can be
saved (plotly's toImage); data Markdown renders in a box of bounded height."""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import streamlit as st

from analysis.explore import result_files
from ui import safe_text


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "table"


def chart_config(name: str) -> dict[str, Any]:
    """Plotly config: the modebar always has 'Download plot as PNG' (2x), named after the chart."""
    return {
        "displaylogo": False,
        "displayModeBar": True,
        "toImageButtonOptions": {"format": "png", "filename": _slug(name), "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }


def chart(fig, name: str, reading: str, key: str | None = None) -> None:
    """A plotly chart with its save button and a one-line reading aid under it."""
    st.plotly_chart(fig, config=chart_config(name), key=key or f"chart_{_slug(name)}")
    st.caption(reading)


# The bytes behind the download buttons (a column a format cannot hold is written as text); kept here by name for
# the pages and tests that use them.
csv_bytes = result_files.csv_bytes
parquet_bytes = result_files.parquet_bytes
json_bytes = result_files.json_bytes
_FORMATS = {
    "csv": ("⬇ CSV", csv_bytes, "text/csv"),
    "parquet": ("⬇ Parquet", parquet_bytes, "application/vnd.apache.parquet"),
    "json": ("⬇ JSON", json_bytes, "application/json"),
}


def _bytes_or_note(fn, frame: pl.DataFrame) -> bytes:
    """The file, or (when a value cannot be converted) a one-line note in its place rather than an empty file."""
    try:
        return fn(frame)
    except result_files.ConversionError as exc:
        return f"Could not write this table: {exc}\n".encode()


def download_buttons(frame: pl.DataFrame, name: str, key: str, formats: tuple[str, ...] = ("csv", "parquet")) -> None:
    """Download buttons for a frame (CSV and Parquet unless ``formats`` says otherwise); the bytes are made only
    when clicked."""
    slug = _slug(name)
    cols = st.columns([1] * len(formats) + [6 - len(formats)])
    for col, fmt in zip(cols, formats, strict=False):
        label, fn, mime = _FORMATS[fmt]
        with col:
            st.download_button(
                label,
                data=lambda fn=fn: _bytes_or_note(fn, frame),
                file_name=f"{slug}.{fmt}",
                mime=mime,
                key=f"{key}_{fmt}",
                on_click="ignore",
                help=f"Download these {frame.height:,} rows as {label.removeprefix('⬇ ')}",
            )


def table(
    frame: pl.DataFrame, name: str, key: str, formats: tuple[str, ...] = ("csv", "parquet"), **dataframe_kwargs: Any
):
    """st.dataframe plus its download buttons. Returns what st.dataframe returns (selection state if asked)."""
    dataframe_kwargs.setdefault("hide_index", True)
    shown = st.dataframe(frame, key=key, **dataframe_kwargs)
    download_buttons(frame, name, key, formats)
    return shown


LONG_TEXT = 1_500  # characters beyond which a text is shown in a box of bounded height


def data_markdown(text: str | None, full: bool = False, empty: str = "_(empty)_") -> None:
    """A prompt, response or feedback from the data, rendered as Markdown that cannot load anything
    (ui.safe_text.markdown); a long text sits in a scrollable box of bounded height unless ``full``."""
    if not text:
        st.markdown(empty)
        return
    if full or len(text) <= LONG_TEXT:
        st.markdown(safe_text.markdown(text))
        return
    with st.container(height=360, border=False):
        st.markdown(safe_text.markdown(text))
