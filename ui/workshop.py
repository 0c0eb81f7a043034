"""Facilitator mode in the app: when the explorer was started by ``python -m analysis workshop`` (``make workshop``),
the address students join is in $CAE_WORKSHOP_URL; it is shown as text and as a QR code drawn here (segno, pure
Python, no network), in the sidebar and at the top of the Tour."""

from __future__ import annotations

import io
import os
from urllib.parse import urlsplit

import segno
import streamlit as st

from analysis.cli.workshop import ENV_URL


def join_url() -> str | None:
    """The address to join, when the app runs in facilitator mode."""
    url = os.environ.get(ENV_URL, "").strip()
    return url or None


def base_url() -> str:
    """scheme://host:port that others can open: the workshop address when there is one, else the browser's own."""
    url = join_url() or st.context.url or ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def qr_png(text: str, scale: int = 6) -> bytes:
    """A QR code of ``text`` as PNG bytes (error correction M, a quiet zone of 4 modules)."""
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def join_panel(expanded: bool = False, container=None) -> None:
    """The address and its QR code in an expander (nothing outside facilitator mode); in the main area the code sits
    beside the address, in the sidebar under it."""
    url = join_url()
    if not url:
        return
    box = (container or st).expander(":material/qr_code_2: Join this workshop", expanded=expanded)
    text, code = box.columns([3, 1]) if container is None else (box, box)
    text.markdown("Open this address on a phone or laptop on the same network:")
    text.code(url, language=None)
    code.image(qr_png(url), width=200, caption="Scan to join")
