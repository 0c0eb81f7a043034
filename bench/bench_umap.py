"""UMAP time on the 100,000-conversation benchmark database, through the project's path and directly.

    .venv/bin/python bench/bench_umap.py [--conversations 100000] [--n-neighbors 15] [--min-dist 0.1]

- Database: bench/out/bench100k.duckdb (built by bench/bench_ingest.py; built here with
  ``python -m analysis demo --conversations N`` if missing). A smaller ``--conversations`` uses bench/out/benchN.duckdb
  for a quick run. The benchmark works on a copy (bench/out/bench_umap_N.duckdb) that keeps its embeddings between
  runs, so only the first run pays for embedding (reported separately, not part of the UMAP figures).
- Baseline: ``umap.UMAP(...).fit_transform`` on the same vectors already in memory, same parameters and seed.
- Project path: ``project_db(..., refit=True)``: reads the vectors from DuckDB, fits, pickles the reducer and stores it
  with its points. Then a second ``project_db`` call with the same parameters (reuse: no fit) and the placement of
  new texts with the stored reducer's ``transform``.
Numba compiles UMAP's kernels on first use: a small warm-up fit runs before anything is timed.
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
import numpy as np  # noqa: E402

from analysis import store  # noqa: E402
from analysis.pipeline import embed, models, project  # noqa: E402

OUT = ROOT / "bench" / "out"


def bench_db(conversations: int) -> Path:
    path = OUT / ("bench100k.duckdb" if conversations == 100_000 else f"bench{conversations}.duckdb")
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"building {path} ({conversations} conversations) ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "analysis", "demo", "--db", str(path), "--conversations", str(conversations)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--n-neighbors", type=int, default=15)
    ap.add_argument("--min-dist", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--new-texts", type=int, default=200, help="texts added after the fit and placed by transform")
    args = ap.parse_args()

    src = bench_db(args.conversations)
    work = OUT / f"bench_umap_{args.conversations}.duckdb"
    if not work.exists():
        shutil.copy(src, work)
        con = duckdb.connect(str(work))
        con.execute("DROP TABLE IF EXISTS llm_responses")
        con.close()
    con = duckdb.connect(str(work), read_only=True)
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("conversations", "comparisons", "candidates", "prompts")
    }
    con.close()
    print(f"{work.name}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()), flush=True)

    t0 = time.perf_counter()
    emb = embed.embed_db(work, progress=True)
    print(
        f"embeddings: {emb['embedded']} embedded now, {emb['cached']} cached ({time.perf_counter() - t0:.1f} s; not part of the UMAP figures)",
        flush=True,
    )

    # Hold back some texts to add after the fit: remove their projection rows' sources by deleting candidates later.
    con = duckdb.connect(str(work))
    for t in ("projection_points", "projections"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    held = [
        h
        for (h,) in con.execute(
            "SELECT text_hash FROM candidates ORDER BY hash(text_hash) LIMIT ?", [args.new_texts]
        ).fetchall()
    ]
    con.execute(
        "CREATE OR REPLACE TABLE _held AS SELECT * FROM candidates WHERE text_hash IN (SELECT unnest(?::VARCHAR[]))",
        [held],
    )
    con.execute("DELETE FROM candidates WHERE text_hash IN (SELECT text_hash FROM _held)")
    con.close()

    import umap

    umap.UMAP(n_neighbors=5, random_state=0, n_jobs=1).fit_transform(
        np.random.default_rng(0).random((300, 16))
    )  # JIT warm-up

    con = duckdb.connect(str(work), read_only=True)
    hashes, X = store.vectors_matching(con, models.DEFAULT_MODEL, project._fit_sources_sql(con))
    con.close()
    t0 = time.perf_counter()
    umap.UMAP(
        n_neighbors=args.n_neighbors,
        min_dist=args.min_dist,
        n_components=2,
        metric=project.METRIC,
        random_state=args.seed,
        n_jobs=1,
    ).fit_transform(X)
    direct = time.perf_counter() - t0
    print(f"baseline fit_transform on {len(hashes):,} vectors: {direct:.1f} s", flush=True)

    kw = dict(n_neighbors=args.n_neighbors, min_dist=args.min_dist, seed=args.seed, progress=None)
    t0 = time.perf_counter()
    fit = project.project_db(work, refit=True, **kw)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    reuse = project.project_db(work, **kw)
    reuse_s = time.perf_counter() - t0
    assert fit["fitted"] and not reuse["fitted"]

    con = duckdb.connect(str(work))
    con.execute("INSERT INTO candidates SELECT * FROM _held")
    con.execute("DROP TABLE _held")
    con.close()
    t0 = time.perf_counter()
    placed = project.project_db(work, **kw)
    place_s = time.perf_counter() - t0
    assert not placed["fitted"] and placed["placed"] == len(held)
    blob, fit_inside = (
        duckdb.connect(str(work), read_only=True)
        .execute(
            "SELECT octet_length(umap_model), fit_seconds FROM projections WHERE projection_id = ?",
            [fit["projection_id"]],
        )
        .fetchall()[0]
    )

    print()
    print("| step | points | seconds |")
    print("|---|---|---|")
    print(f"| baseline: `umap.UMAP.fit_transform` on vectors in memory | {len(hashes):,} | {direct:.1f} |")
    print(
        f"| `project_db --refit` (read vectors, fit, pickle {blob / 1e6:.1f} MB, store) | {fit['n_fit']:,} | {ours:.1f} |"
    )
    print(f"| `project_db` again, same parameters (reuse, no fit) | {reuse['n_points']:,} | {reuse_s:.2f} |")
    print(
        f"| `project_db` after adding texts (stored reducer's transform) | {placed['placed']:,} new | {place_s:.2f} |"
    )
    print(f"ratio (project path / baseline fit): {ours / direct:.2f}x; reuse / fit: {reuse_s / ours:.4f}")
    print(
        f"of the project path, the UMAP fit itself took {fit_inside:.1f} s: reading, pickling and storing "
        f"{ours - fit_inside:.2f} s (the rest of the ratio's distance from 1 is the fit's run-to-run variation)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
