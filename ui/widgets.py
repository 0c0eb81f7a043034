"""Every table a user sees can be downloaded (CSV and Parquet); every chart can be saved (plotly's toImage)."""

from __future__ import annotations

import io
import re
from typing import Any

import polars as pl
import streamlit as st

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


def csv_bytes(frame: pl.DataFrame) -> bytes:
    try:
        return frame.write_csv().encode("utf-8")
    except Exception:  # noqa: BLE001 - nested or extension types CSV cannot hold: write them as text
        return _as_text(frame).write_csv().encode("utf-8")


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    try:
        frame.write_parquet(buf)
    except Exception:  # noqa: BLE001 - a type Parquet cannot hold: write it as text
        buf = io.BytesIO()
        _as_text(frame, keep_nested=True).write_parquet(buf)
    return buf.getvalue()


_PLAIN = (pl.String, pl.Boolean, pl.Date, pl.Datetime, pl.Time, pl.Duration, pl.Null)


def _plain(dtype: pl.DataType, keep_nested: bool) -> bool:
    if dtype.is_numeric() or isinstance(dtype, _PLAIN) or dtype in _PLAIN:
        return True
    return keep_nested and isinstance(dtype, (pl.List, pl.Array, pl.Struct))


def _as_text(frame: pl.DataFrame, keep_nested: bool = False) -> pl.DataFrame:
    """Columns of types a file format cannot hold (lists, structs, maps, variants...) as their text form."""
    out = {}
    for name, dtype in frame.schema.items():
        col = frame.get_column(name)
        if _plain(dtype, keep_nested):
            out[name] = col
            continue
        try:
            values = col.to_list()
        except Exception:  # noqa: BLE001
            values = [None] * frame.height
        out[name] = pl.Series(name, [None if v is None else str(v) for v in values], dtype=pl.String)
    return pl.DataFrame(out)


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
