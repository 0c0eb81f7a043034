"""Shared Streamlit helpers for the explorer's pages: URL state, the sidebar, the cached connection, downloads.

Everything here is thin glue over ``analysis/`` (which holds the logic and is importable without Streamlit).
"""
