"""From a source file to a prepared database: ingest (or the synthetic demo), then the steps in ``steps.py``: embed,
score on the value axes, map with UMAP; plus the LLM answers (uploads and the demo's synthetic profiles)."""
