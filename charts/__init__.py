"""Plotly figure builders for the pages, importable without Streamlit. The values plane is drawn once (plane.py)."""
