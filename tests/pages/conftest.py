"""AppTest in the navigation mode the real server uses, for the tests that open app.py (pytestmark usefixtures)."""

from __future__ import annotations

import pytest
from streamlit.runtime.pages_manager import PagesManager


@pytest.fixture
def navigation_mode(monkeypatch):
    """AppTest resets PagesManager.uses_pages_directory before every run, so with a pages/ folder beside app.py its
    reruns execute the page file alone (the old multipage mode) and drop app.py's sidebar. The real server sets the
    flag to False for good once st.navigation is called; do the same here."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
