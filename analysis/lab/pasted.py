"""Candidates a user pastes into the Sampling lab: embedded, placed on the value plane and measured as one set."""

from __future__ import annotations

import numpy as np

from analysis.lab.diversity import DEFAULT_THRESHOLD, set_metrics
from analysis.pipeline import axes, embed, models

MAX_PASTED = 20


class ScorerUnavailable(RuntimeError):
    """The embedding model behind the value axes cannot be loaded or run here; the message says what to do."""


def parse_candidates(text: str | None) -> list[str]:
    """One candidate per non-empty line; raises ValueError with what to do when there are too few or many."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    if len(lines) < 2:
        raise ValueError(
            f"paste at least 2 candidate responses, one per line (found {len(lines)}); a set of one has no diversity"
        )
    if len(lines) > MAX_PASTED:
        raise ValueError(f"paste at most {MAX_PASTED} responses, one per line (found {len(lines)})")
    return lines


def score_candidates(texts: list[str], threshold: float | None = None, model: str | None = None, progress=None) -> dict:
    """Place pasted candidates on the plane (the project's axes for ``model``, ``analysis.pipeline.axes``) and
    measure the set.

    Returns {"texts", "positions" (k, 2), "metrics" (diversity.set_metrics, with the embedding-based Vendi and
    distance), "embedding_model"}. Raises ScorerUnavailable with a plain message when the model cannot be loaded.
    """
    t = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    texts = list(texts)
    try:
        axis_model = axes.fit_axes(None, model)
        emb = np.asarray(embed.embed_texts(texts, model=model, progress=progress), dtype=float)
    except (OSError, RuntimeError, ImportError, ValueError) as exc:
        raise ScorerUnavailable(
            f"The embedding model could not be loaded or run ({type(exc).__name__}: {exc}). "
            "Check that the model files are installed (see README: python -m analysis embed), then try again."
        ) from exc
    pos = axis_model.score(emb, texts).astype(float)
    return {
        "texts": texts,
        "positions": pos,
        "metrics": set_metrics(pos, t, embeddings=emb),
        "embedding_model": models.model_key(model),
    }
