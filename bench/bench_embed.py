"""Embedding throughput through the project's path against SentenceTransformer.encode on the same texts.

    .venv/bin/python bench/bench_embed.py [--texts 600] [--batch-size 64] [--device cpu] [--repeats 2] [--model M]

(``--model``: a sentence-transformers model, default all-MiniLM-L6-v2; the default model's throughput against it is
bench/bench_axes.py.)

- Database: a fresh copy of a demo database (built under bench/out/ if missing) cut down to ``--texts`` candidate and
  prompt texts (a seeded random sample, so long and short, all five languages).
- Project path: ``analysis.pipeline.embed.embed_db`` on the fresh copy (reads the texts, sorts by token length, encodes
  batch by batch, writes the vectors to DuckDB).
- Baseline: ``model.encode(texts, batch_size, normalize_embeddings=True)`` on the same texts in their stored order
  (candidates then prompts as the tables hold them), with the same loaded model and batch size.
- Cached re-run: ``embed_db`` again on the embedded copy (nothing to embed).
The model is loaded (and warmed up) once before timing; each path runs ``--repeats`` times alternately on fresh
copies, best time kept. Prints texts/s, the ratio (baseline time / project time: above 1 means the project's path is
faster) and the cached re-run time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from analysis import store  # noqa: E402
from analysis.pipeline import embed, models  # noqa: E402

OUT = ROOT / "bench" / "out"


def source_db(conversations: int) -> Path:
    path = OUT / f"demo{conversations}.duckdb"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "analysis", "demo", "--db", str(path), "--conversations", str(conversations)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def cut_copy(src: Path, dest: Path, n_texts: int, seed: int = 0) -> Path:
    """A copy holding a seeded sample of n_texts candidate and prompt texts (four candidates per prompt)."""
    shutil.copy(src, dest)
    con = duckdb.connect(str(dest))
    n_prompts = max(1, n_texts // 5)
    con.execute(
        "DELETE FROM candidates WHERE text_hash NOT IN "
        "(SELECT text_hash FROM candidates ORDER BY hash(text_hash || ?) LIMIT ?)",
        [str(seed), n_texts - n_prompts],
    )
    con.execute(
        "DELETE FROM prompts WHERE prompt_hash NOT IN "
        "(SELECT prompt_hash FROM prompts ORDER BY hash(prompt_hash || ?) LIMIT ?)",
        [str(seed), n_prompts],
    )
    con.execute("DROP TABLE IF EXISTS llm_responses")
    con.execute("DROP TABLE IF EXISTS embeddings")
    con.close()
    return dest


def stored_order_texts(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(store.text_sources_sql(con)).fetchall()  # what embed_db will embed (distinct hashes)
        cand = [t for (t,) in con.execute("SELECT text FROM candidates").fetchall()]
        prom = [t for (t,) in con.execute("SELECT text FROM prompts").fetchall()]
    finally:
        con.close()
    texts = cand + prom
    assert len(texts) == len(rows), "duplicate texts across tables: the two paths would embed different sets"
    return texts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=600)
    ap.add_argument("--conversations", type=int, default=600, help="size of the demo database sampled from")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument(
        "--model", default=models.MINILM_MODEL, help="a sentence-transformers model (the baseline is its own encode)"
    )
    args = ap.parse_args()

    src = source_db(args.conversations)
    work = OUT / "bench_embed"
    work.mkdir(parents=True, exist_ok=True)
    template = cut_copy(src, work / "template.duckdb", args.texts)
    texts = stored_order_texts(template)
    model = models.load_model(args.model, args.device).model  # the SentenceTransformer inside the Encoder
    model.encode(texts[:16], batch_size=args.batch_size)  # warm-up
    import torch

    print(
        f"{len(texts)} texts (mean {sum(map(len, texts)) / len(texts):.0f} chars), model {models.model_key(args.model)}, "
        f"batch {args.batch_size}, device {args.device}, torch threads {torch.get_num_threads()}"
    )

    direct_times, ours_times = [], []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        direct_times.append(time.perf_counter() - t0)
        db = Path(shutil.copy(template, work / f"run{r}.duckdb"))
        t0 = time.perf_counter()
        summary = embed.embed_db(db, args.model, batch_size=args.batch_size, device=args.device, progress=None)
        ours_times.append(time.perf_counter() - t0)
        assert summary["embedded"] == len(texts), summary
        print(f"  repeat {r + 1}: encode {direct_times[-1]:.2f} s, embed_db {ours_times[-1]:.2f} s")
    t0 = time.perf_counter()
    cached = embed.embed_db(db, args.model, batch_size=args.batch_size, device=args.device, progress=None)
    cached_s = time.perf_counter() - t0
    assert cached["embedded"] == 0

    d, o = min(direct_times), min(ours_times)
    n = len(texts)
    print()
    print("| path | seconds (best) | texts/s |")
    print("|---|---|---|")
    print(f"| baseline: `SentenceTransformer.encode`, stored order | {d:.2f} | {n / d:.1f} |")
    print(f"| `embed_db` (token-length batches, written to DuckDB) | {o:.2f} | {n / o:.1f} |")
    print(f"| `embed_db` again (all cached) | {cached_s:.3f} | - |")
    print(
        f"ratio (baseline / project): {d / o:.2f}x (target >= 1.0x); cached re-run {cached_s / d:.4f} of the baseline"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
