"""What the value axes' n-gram reader costs and buys on release-like answers: scoring time with the reader against
the embeddings' part alone (the baseline, the same fit, measured in the same run), the reader's time against
embedding the same texts, and the accuracy of both on labelled release-like answers.

    .venv/bin/python bench/bench_axis_reader.py [--n-score 2000] [--n-accuracy 90] [--seed 0]

- Texts: release-like Markdown answers of 80-400 words (SYNTHETIC, analysis/pipeline/long_answers.py, as in
  bench_truncation.py), evenly over the five languages and the nine cells of the values grid; an answer's cell is
  its label. The axes were never fitted on them.
- The ratio: the pipeline's time per answer, embedding (the default model, full length, on ``--n-accuracy``
  answers; the baseline) plus the reader, against embedding alone.
- Scoring ``--n-score`` stored answers (random unit vectors: the embeddings' part is a matrix product whatever the
  vectors hold): with the reader against the embeddings' part alone; what re-scoring the release would take.
- Accuracy per axis (n, Wilson 95% interval) on those answers: embeddings alone against the mix.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from bench_axes import best_time  # noqa: E402
from bench_truncation import accuracy, labelled_answers  # noqa: E402

from analysis.pipeline import axes, models  # noqa: E402


def run(n_score: int, n_accuracy: int, seed: int) -> dict:
    full = axes.fit_axes(None, models.DEFAULT_MODEL)
    alone = dataclasses.replace(full, readers=None, mix=0.0)
    texts, _, grid = labelled_answers(max(n_score, n_accuracy), seed)
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n_score, full.weights.shape[1]))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    t_alone = best_time(lambda: alone.score(vecs), 3)
    t_full = best_time(lambda: full.score(vecs, texts[:n_score]), 3)
    encoder = models.as_model(models.DEFAULT_MODEL)
    encoder.encode(texts[:2])  # warm up
    t = time.perf_counter()
    emb = encoder.encode(texts[:n_accuracy])
    t_embed = time.perf_counter() - t
    sub = grid[:n_accuracy]
    return {
        "n_score": n_score,
        "score_alone_s": t_alone,
        "score_with_reader_s": t_full,
        "reader_ms_per_text": 1000 * (t_full - t_alone) / n_score,
        "embed_ms_per_text": 1000 * t_embed / n_accuracy,
        "n_accuracy": n_accuracy,
        "accuracy_alone": accuracy(alone.score(emb), sub),
        "accuracy_mix": accuracy(full.score(emb, texts[:n_accuracy]), sub),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-score", type=int, default=2000)
    ap.add_argument("--n-accuracy", type=int, default=90)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = run(args.n_score, args.n_accuracy, args.seed)
    if args.json:
        print(json.dumps(r, indent=1))
        return
    per_text = r["embed_ms_per_text"] + r["reader_ms_per_text"]
    print(f"pipeline time per release-like answer: embedding alone {r['embed_ms_per_text']:.0f} ms (baseline, default "
          f"model, full length, n={r['n_accuracy']}), embedding + the n-gram reader {per_text:.0f} ms: "
          f"{per_text / r['embed_ms_per_text']:.3f}x")  # fmt: skip
    print(f"scoring {r['n_score']} stored answers: the embeddings' part {r['score_alone_s']:.3f} s, with the reader "
          f"{r['score_with_reader_s']:.2f} s ({r['reader_ms_per_text']:.2f} ms per text: re-scoring the release's "
          f"~930,000 texts after an edit of the statements takes about "
          f"{930_000 * r['reader_ms_per_text'] / 60_000:.0f} min)")  # fmt: skip
    for name in ("accuracy_alone", "accuracy_mix"):
        cells = ", ".join(f"{a}: {v['accuracy']:.2f} [{v['ci'][0]:.2f}-{v['ci'][1]:.2f}] n={v['n']}"
                          for a, v in r[name].items())  # fmt: skip
        print(f"{'embeddings alone' if name == 'accuracy_alone' else 'embeddings + n-grams'}: {cells}")


if __name__ == "__main__":
    main()
