"""Community Alignment Explorer: the router. Run with `streamlit run app.py` (database: $CAE_DB, else the demo).

It only lays out navigation and the sidebar (which database, global filters); every page lives in pages/ and every
piece of logic in analysis/. To add a page, add one line to ui/registry.py's PAGES.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.registry import PAGES

# A local favicon: a Material icon here would make every browser fetch it from fonts.gstatic.com.
FAVICON = str(Path(__file__).resolve().parent / "assets" / "favicon.png")
st.set_page_config(page_title="Community Alignment Explorer", page_icon=FAVICON, layout="wide")
page = st.navigation([st.Page(p.path, title=p.title, icon=p.icon, default=i == 0) for i, p in enumerate(PAGES)])

from ui import sidebar, workshop  # noqa: E402  (after set_page_config)

sidebar.render()
workshop.join_panel(container=st.sidebar)  # facilitator mode only: the address to join and its QR code
page.run()
