"""Deep links on a fresh server.

A folder named pages/ beside app.py makes Streamlit serve the very first script run of a new server process with
its legacy pages-folder router: a shared link such as /browse?country=India then runs pages/browse.py alone,
without app.py's navigation, sidebar and filters — and the legacy router stays on for every later session until
someone opens the root URL (only a call of st.navigation from app.py switches it off). Every page calls
ensure_app_shell() first; under the legacy router it switches the legacy router off, as app.py's st.navigation
would, and asks for a rerun, which Streamlit then serves through app.py, so the link opens the page as shared.
tests/e2e checks this on a fresh server, so a change in Streamlit's internals shows up as a failing test.
"""

from __future__ import annotations

import sys

import streamlit as st

_LEGACY_ROUTER = "_mpa_v1"  # streamlit.runtime.scriptrunner.script_runner._mpa_v1


def under_legacy_router() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == _LEGACY_ROUTER:
            return True
        frame = frame.f_back
    return False


def ensure_app_shell() -> None:
    if under_legacy_router():
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False  # what st.navigation in app.py does on its first run
        st.rerun()
