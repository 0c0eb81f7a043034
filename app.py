"""Community Alignment Explorer: the router. Run with `streamlit run app.py` (database: $CAE_DB, else the demo).

It only lays out navigation and the sidebar (which database, global filters); every page lives in pages/ and every
piece of logic in analysis/. To add a page, add one line to PAGES: (file, title, icon).
"""

from __future__ import annotations

import streamlit as st

# (page file, title, icon). The first entry is the landing page. One line per page; order = menu order.
PAGES: list[tuple[str, str, str]] = [
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/browse.py", "Browse conversations", ":material/forum:"),
    ("pages/agreement.py", "Prompt agreement", ":material/how_to_vote:"),
    ("pages/values_map.py", "Values map", ":material/scatter_plot:"),
    ("pages/sampling_lab.py", "Sampling lab", ":material/science:"),
    ("pages/reward_recovery.py", "Reward recovery", ":material/model_training:"),
    ("pages/sql_console.py", "SQL console", ":material/terminal:"),
]


def _pages(entries) -> list:
    """st.Page objects for PAGES; the first one is the default (landing) page."""
    return [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(entries)]


st.set_page_config(page_title="Community Alignment Explorer", page_icon=":material/public:", layout="wide")
page = st.navigation(_pages(PAGES))

from ui import sidebar  # noqa: E402  (after set_page_config)

sidebar.render()
page.run()
