"""The map at release size: UMAP fitted on a sample and the rest placed with transform, against a full fit.

    .venv/bin/python bench/bench_project_size.py [--compare 40000] [--full 736000] [--fit-sample 20000] [--dim 384]

Vectors: SYNTHETIC unit vectors from a mixture of Gaussian clusters (``--dim`` dimensions, 45 clusters like the
demo's topic x cell grid), so the figures do not wait for 700,000 texts to be embedded; the bench says so where it
prints. Both parts run the project's own path (``project_db``) on a DuckDB file holding those vectors, each in its
own process so peak RSS is the run's own; numba's compilation is done by a small warm-up fit before the clock starts.

1. ``--compare`` points, a size both can do: a full fit (``fit_sample`` = all) against fit-on-sample plus
   ``transform`` of the rest (ratio of wall times), and what the sample costs in quality: the share of each point's
   10 nearest neighbours in the original space that are among its 10 nearest on the map (kNN preservation, over
   2,000 random points; higher is better), for both.
2. ``--full`` points: fit on ``--fit-sample`` and place the rest in committed batches; wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CLUSTERS = 45

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import numpy as np, umap
from analysis.pipeline import project
db, fit_sample = sys.argv[1], int(sys.argv[2])
w = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)  # numba compiles fit and transform once
umap.UMAP(n_neighbors=15, metric="cosine", random_state=1).fit(w[:200]).transform(w[200:])
t0 = time.perf_counter()
out = project.project_db(db, model="synthetic-vectors", fit_sample=fit_sample, progress=None, refit=True)
out["wall_seconds"] = time.perf_counter() - t0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out, default=str))
"""


def synthetic_db(path: Path, n: int, dim: int, seed: int = 0) -> None:
    """A database whose candidates table holds n texts with stored synthetic vectors (model 'synthetic-vectors')."""
    import duckdb
    import numpy as np
    import polars as pl

    from analysis import schema

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLUSTERS, dim))
    X = centres[rng.integers(0, CLUSTERS, size=n)] + rng.normal(scale=0.6, size=(n, dim))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    hashes = [f"{i:032x}" for i in range(n)]
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE {schema.T_CANDIDATES} (text_hash VARCHAR PRIMARY KEY, text VARCHAR, n_chars INTEGER)")
    con.execute(f"CREATE TABLE {schema.T_PROMPTS} (prompt_hash VARCHAR PRIMARY KEY, text VARCHAR, n_chars INTEGER)")
    con.execute(
        f"CREATE TABLE {schema.T_EMBEDDINGS} (text_hash VARCHAR, model VARCHAR, dim INTEGER, vector FLOAT[], "
        "PRIMARY KEY (text_hash, model))"
    )
    frame = pl.DataFrame({"text_hash": hashes, "vector": list(X)})
    con.register("f", frame)
    con.execute(f"INSERT INTO {schema.T_CANDIDATES} SELECT text_hash, '', 0 FROM f")
    con.execute(f"INSERT INTO {schema.T_EMBEDDINGS} SELECT text_hash, 'synthetic-vectors', {dim}, vector FROM f")
    con.close()
    np.save(path.with_suffix(".npy"), X)


def run(db: Path, fit_sample: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT)), str(db), str(fit_sample)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])


def knn_preservation(db: Path, k: int = 10, probes: int = 2000) -> float:
    """Mean share of each probe's k nearest neighbours (cosine, original space) kept among its k nearest on the map."""
    import duckdb
    import numpy as np

    X = np.load(db.with_suffix(".npy"))
    con = duckdb.connect(str(db), read_only=True)
    pts = con.execute(
        "SELECT text_hash, x, y FROM projection_points WHERE projection_id = (SELECT max(projection_id) FROM "
        "projections) ORDER BY text_hash"
    ).fetchall()
    con.close()
    Y = np.array([[p[1], p[2]] for p in pts])  # hashes are the row numbers in hex, so this order is X's order
    rng = np.random.default_rng(1)
    kept = []
    for i in rng.choice(len(X), size=min(probes, len(X)), replace=False):
        hi = np.argsort(-(X @ X[i]))[1 : k + 1]
        lo = np.argsort(((Y - Y[i]) ** 2).sum(axis=1))[1 : k + 1]
        kept.append(len(set(hi) & set(lo)) / k)
    return float(np.mean(kept))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", type=int, default=40_000)
    ap.add_argument("--full", type=int, default=736_000, help="points at release size (0 to skip)")
    ap.add_argument("--fit-sample", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=384)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    print(f"SYNTHETIC vectors: {CLUSTERS} Gaussian clusters in {args.dim} dimensions, unit length", flush=True)

    small = OUT / f"umap_synthetic_{args.compare}.duckdb"
    synthetic_db(small, args.compare, args.dim)
    full = run(small, args.compare)
    full_q = knn_preservation(small)
    sampled = run(small, args.fit_sample)
    sampled_q = knn_preservation(small)
    print(f"\n{args.compare:,} points                      wall s   peak RSS MB   kNN kept (k=10)")
    print(
        f"full fit (fit_sample = all)          {full['wall_seconds']:7.1f}   {full['peak_rss_mb']:11.0f}   {full_q:.3f}"
    )
    print(
        f"fit {args.fit_sample:,} + transform {sampled['placed']:,}   {sampled['wall_seconds']:7.1f}   "
        f"{sampled['peak_rss_mb']:11.0f}   {sampled_q:.3f}"
    )
    print(f"ratio full / sampled: {full['wall_seconds'] / sampled['wall_seconds']:.2f}x", flush=True)
    if args.full:
        big = OUT / f"umap_synthetic_{args.full}.duckdb"
        t0 = time.perf_counter()
        synthetic_db(big, args.full, args.dim)
        print(f"\nbuilt {args.full:,} synthetic vectors in {time.perf_counter() - t0:.0f} s", flush=True)
        res = run(big, args.fit_sample)
        print(
            f"{args.full:,} points: fit {res['n_fit']:,} + transform {res['placed']:,}: {res['wall_seconds']:.0f} s, "
            f"peak RSS {res['peak_rss_mb']:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
