"""Every table a user sees can be downloaded (CSV and Parquet); every chart can be saved (plotly's toImage)."""

from __future__ import annotations

import io
import re
from typing import Any

import polars as pl
import streamlit as st


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


def csv_bytes(frame: pl.DataFrame) -> bytes:
    return _flatten(frame).write_csv().encode("utf-8")


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV cannot hold nested values: lists and structs are written as JSON text."""
    nested = [c for c, t in frame.schema.items() if isinstance(t, (pl.List, pl.Array, pl.Struct))]
    if not nested:
        return frame
    return frame.with_columns(
        pl.col(c).map_elements(lambda v: None if v is None else str(v), return_dtype=pl.String) for c in nested
    )


def download_buttons(frame: pl.DataFrame, name: str, key: str) -> None:
    """CSV and Parquet download buttons for a frame; the bytes are made only when clicked."""
    slug = _slug(name)
    left, right, _ = st.columns([1, 1, 4])
    with left:
        st.download_button(
            "⬇ CSV",
            data=lambda: csv_bytes(frame),
            file_name=f"{slug}.csv",
            mime="text/csv",
            key=f"{key}_csv",
            on_click="ignore",
            help=f"Download these {frame.height:,} rows as CSV",
        )
    with right:
        st.download_button(
            "⬇ Parquet",
            data=lambda: parquet_bytes(frame),
            file_name=f"{slug}.parquet",
            mime="application/vnd.apache.parquet",
            key=f"{key}_parquet",
            on_click="ignore",
            help=f"Download these {frame.height:,} rows as Parquet",
        )


def table(frame: pl.DataFrame, name: str, key: str, **dataframe_kwargs: Any):
    """st.dataframe plus its download buttons. Returns what st.dataframe returns (selection state if asked)."""
    dataframe_kwargs.setdefault("hide_index", True)
    shown = st.dataframe(frame, key=key, **dataframe_kwargs)
    download_buttons(frame, name, key)
    return shown


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|$~"})


def md_escape(text: str | None) -> str:
    """User text shown through st.markdown as it is: markdown/LaTeX characters escaped, line breaks kept."""
    if not text:
        return ""
    return "  \n".join(line.translate(_MD_SPECIAL) for line in str(text).splitlines())
