"""The faster embedding path (texts cut to their first N tokens) against full-length embedding: throughput ratio
beside the axes' accuracy on the same labelled release-like answers, so the speed is never bought silently.

    .venv/bin/python bench/bench_truncation.py [--n 90] [--lengths 128 256] [--seed 0]

- Texts: ``--n`` release-like Markdown answers of 80-400 words (SYNTHETIC, analysis/pipeline/long_answers.py: the
  release-size benchmark's generator), spread evenly over the five languages and the nine cells of the values grid;
  each answer carries its cell's stance sentences among neutral ones, so its cell is its label. The axes were fitted
  on the labelled statements (analysis/content/labelled_values.jsonl), never on these answers.
- Accuracy per axis: the share of answers whose cell is not neutral on that axis placed on their cell's side
  (score > 0 for secular / self-expression), with n and a Wilson 95% interval; per language in --json.
- Throughput: the default model (multilingual-e5-small-q4) embedding the same answers at full length (the baseline,
  measured in the same run) and cut to each length; ratio = full time / cut time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from analysis import schema  # noqa: E402
from analysis.pipeline import axes, demo, long_answers, models, truncation  # noqa: E402


def labelled_answers(n: int, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """n answers, languages and cells cycled evenly: (texts, language index, cell (x, y) levels)."""
    langs = np.arange(n) % len(schema.LANGUAGES)
    cells = (np.arange(n) // len(schema.LANGUAGES)) % len(demo.CELLS)
    texts = long_answers.compose(langs, cells, seed, demo.load_templates(), demo.CELLS)
    return [str(t) for t in texts], langs, demo.CELLS[cells]


def accuracy(xy: np.ndarray, grid: np.ndarray) -> dict:
    out = {}
    for col, axis in ((0, axes.AXIS_X), (1, axes.AXIS_Y)):
        labelled = grid[:, col] != 0
        ok = np.sign(xy[labelled, col]) == grid[labelled, col]
        lo, hi = axes.wilson(int(ok.sum()), int(labelled.sum()))
        out[axis] = {"n": int(labelled.sum()), "correct": int(ok.sum()), "accuracy": float(ok.mean()),
                     "ci": [round(lo, 3), round(hi, 3)]}  # fmt: skip
    return out


def run(n: int, lengths: list[int], seed: int) -> dict:
    texts, langs, grid = labelled_answers(n, seed)
    encoder = models.as_model(models.DEFAULT_MODEL)
    axis_model = axes.fit_axes(None, models.DEFAULT_MODEL)
    encoder.encode(texts[:2])  # warm up
    tokens = encoder.token_lengths(texts)
    rows = {}
    for limit in [None, *lengths]:
        enc = encoder if limit is None else truncation.Truncated(encoder, limit)
        t = time.perf_counter()
        emb = enc.encode(texts)
        seconds = time.perf_counter() - t
        name = "full" if limit is None else f"first {limit} tokens"
        rows[name] = {"seconds": seconds, "texts_per_s": n / seconds, **accuracy(axis_model.score(emb, texts), grid)}
    full = rows["full"]["seconds"]
    for r in rows.values():
        r["ratio"] = full / r["seconds"]
    return {"n": n, "median_tokens": float(np.median(tokens)), "model": models.DEFAULT_MODEL, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=90)
    ap.add_argument("--lengths", type=int, nargs="+", default=[128, 256])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = run(args.n, args.lengths, args.seed)
    if args.json:
        print(json.dumps(out))
        return
    print(f"{out['model']}, {out['n']} synthetic release-like answers (median {out['median_tokens']:.0f} tokens)")
    for name, r in out["rows"].items():
        acc = "  ".join(
            f"{a} {r[a]['accuracy']:.2f} [{r[a]['ci'][0]:.2f}, {r[a]['ci'][1]:.2f}] (n={r[a]['n']})"
            for a in (axes.AXIS_Y, axes.AXIS_X)
        )
        print(f"  {name:18s} {r['texts_per_s']:5.2f} texts/s  ratio {r['ratio']:.2f}x   {acc}")


if __name__ == "__main__":
    main()
