"""Community Alignment Explorer: the product logic, importable without Streamlit.

Heavy libraries (torch, sentence-transformers, umap) are imported lazily inside the functions
that need them, never at module import time.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
