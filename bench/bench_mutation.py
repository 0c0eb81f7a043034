"""Mutation testing of the modules whose bugs would mislead a user, with cosmic-ray: the score per module.

Each module is mutated in a scratch copy of the working tree (tracked and untracked-not-ignored files; the working
tree itself is never touched), one mutant at a time, and the module's own test files run against each mutant
(``pytest -x``: a mutant is killed as soon as one test fails). The operators kept are the plausible slips (+/-,
*//, each comparison flipped to its neighbours, and/or, not, numbers, True/False, break/continue, a loop that never
runs, a removed decorator, an exception handler that catches nothing); cosmic-ray's other replacements (an `+` turned
into `<<`, a variable swapped for another) are left out as noise.

A surviving mutant that cannot change behaviour (for example ``x > ""`` for ``x != ""`` on strings) is an
*equivalent* mutant: bench/mutation_equivalents.txt lists them, each with the reason, and the score leaves them out:

    score = killed / (mutants - equivalent)            target: at least 0.85 per module

The baseline printed beside it is the module's clean test run (seconds), measured in the same run.

    .venv/bin/python bench/bench_mutation.py [--module NAME ...] [--workers 2]    (make mutate)

Writes bench/out/mutation.json (every survivor's diff) for follow-up. Not part of `make test`: it takes a while.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
EQUIVALENTS = ROOT / "bench" / "mutation_equivalents.txt"
TARGET = 0.85

# module -> the test files that own it (fast, unit-level first so a killed mutant stops early)
MODULES: dict[str, list[str]] = {
    "analysis/filters.py": ["tests/test_filters.py"],
    "analysis/pipeline/ingest.py": ["tests/pipeline/test_ingest.py"],
    "analysis/explore/sql_guard.py": ["tests/explore/test_sql_console.py"],
    "analysis/pipeline/axes.py": ["tests/pipeline/test_axes.py"],
    "analysis/explore/people.py": ["tests/explore/test_positions.py"],
    "analysis/explore/plane.py": ["tests/explore/test_positions.py"],
    "analysis/lab/diversity.py": ["tests/lab/test_diversity.py", "tests/lab/test_strategies.py", "-k", "not pasted"],
    "analysis/lab/reward_models.py": ["tests/lab/test_reward_models.py"],
}
PLAUSIBLE = [
    r"ReplaceBinaryOperator_(Add_Sub|Sub_Add|Mul_Div|Div_Mul|Add_Mul|Mul_Add|FloorDiv_Div|Div_FloorDiv|Pow_Mul|Mod_FloorDiv)$",
    r"ReplaceComparisonOperator_(Eq_NotEq|NotEq_Eq|Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Lt_Gt|Gt_Lt|LtE_GtE|GtE_LtE)$",
    r"ReplaceComparisonOperator_(Is_IsNot|IsNot_Is|In_NotIn|NotIn_In)$",
    r"ReplaceUnaryOperator_(USub_UAdd|Not_Delete|UAdd_USub)$",
    r"(ReplaceAndWithOr|ReplaceOrWithAnd|AddNot|NumberReplacer|ReplaceTrueWithFalse|ReplaceFalseWithTrue)$",
    r"(ReplaceBreakWithContinue|ReplaceContinueWithBreak|ZeroIterationForLoop|RemoveDecorator|ExceptionReplacer)$",
]


def _cosmic(*args: str) -> str:
    exe = Path(sys.executable).parent / args[0]
    return str(exe) if exe.exists() else args[0]


def scratch_copy() -> Path:
    """A copy of the working tree (what git tracks, and untracked files it does not ignore)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")  # fmt: skip
    dest = Path(tempfile.mkdtemp(prefix="cae-mutation-"))
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / "data").mkdir(exist_ok=True)
    return dest


def _operators_to_exclude() -> list[str]:
    names = subprocess.run([_cosmic("cosmic-ray"), "operators"], capture_output=True, text=True, check=True).stdout
    keep = [re.compile(p) for p in PLAUSIBLE]
    return [re.escape(n) + "$" for n in names.split() if not any(k.search(n) for k in keep)]


def _config(module: str, tests: list[str], timeout: float) -> str:
    command = " ".join(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "'not e2e'", *tests]
    )
    excluded = ",\n    ".join(json.dumps(o) for o in _operators_to_exclude())
    return (
        f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {timeout:.0f}\nexcluded-modules = []\n'
        f'test-command = {json.dumps(command)}\n\n[cosmic-ray.distributor]\nname = "local"\n\n'
        f"[cosmic-ray.filters.operators-filter]\nexclude-operators = [\n    {excluded}\n]\n"
    )


def _clean_run(work: Path, tests: list[str]) -> float:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not e2e",
                          *tests], cwd=work, capture_output=True, text=True)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"the tests fail before any mutation: {' '.join(tests)}\n{out.stdout[-2000:]}")
    return time.perf_counter() - started


def _equivalents() -> set[tuple[str, str, str]]:
    """(module, original line, mutated line) of the mutants judged equivalent, from bench/mutation_equivalents.txt."""
    out = set()
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            module, old, new = (part.strip() for part in line.split(" | ")[:3])
            out.add((module, old, new))
    return out


def _changed_lines(diff: str) -> tuple[str, str]:
    old = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    new = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return " ".join(old), " ".join(new)


def _classify(module: str, dump: str, equivalent: set) -> dict:
    counts = {"mutants": 0, "killed": 0, "survived": 0, "equivalent": 0, "timeout": 0, "incompetent": 0}
    survivors = []
    for line in filter(None, dump.splitlines()):
        item, result = json.loads(line)
        if result is None or result.get("worker_outcome") == "skipped":
            continue
        counts["mutants"] += 1
        outcome = result.get("test_outcome")
        diff = result.get("diff") or ""
        if result.get("worker_outcome") == "timeout":
            counts["timeout"] += 1  # an endless loop is a detected change: counted as killed below
            counts["killed"] += 1
        elif outcome == "killed":
            counts["killed"] += 1
        elif outcome == "incompetent":
            counts["incompetent"] += 1
            counts["killed"] += 1
        elif (module, *_changed_lines(diff)) in equivalent:
            counts["equivalent"] += 1
        else:
            counts["survived"] += 1
            survivors.append({"operator": item["mutations"][0]["operator_name"], "diff": diff})
    counts["score"] = counts["killed"] / max(1, counts["mutants"] - counts["equivalent"])
    return {**counts, "survivors": survivors}


def run_module(module: str, tests: list[str]) -> dict:
    work = scratch_copy()
    try:
        clean = _clean_run(work, tests)
        (work / "cr.toml").write_text(_config(module, tests, max(60.0, 10 * clean)), encoding="utf-8")
        session = str(work / "cr.sqlite")
        subprocess.run([_cosmic("cosmic-ray"), "init", "cr.toml", session], cwd=work, check=True, capture_output=True)
        subprocess.run([_cosmic("cr-filter-operators"), session, "cr.toml"], cwd=work, check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run([_cosmic("cosmic-ray"), "exec", "cr.toml", session], cwd=work, check=True, capture_output=True)
        seconds = time.perf_counter() - started
        dump = subprocess.run([_cosmic("cosmic-ray"), "dump", session], cwd=work, check=True, capture_output=True,
                              text=True).stdout  # fmt: skip
        return {"module": module, "tests": tests, "clean_s": round(clean, 1), "seconds": round(seconds, 1),
                **_classify(module, dump, _equivalents())}  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", help="one of the modules (repeatable; default: all)")
    parser.add_argument("--workers", type=int, default=1, help="modules tested at once (each in its own copy)")
    args = parser.parse_args()
    chosen = {m: t for m, t in MODULES.items() if not args.module or any(a in m for a in args.module)}
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        results = list(pool.map(lambda mt: run_module(*mt), chosen.items()))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "mutation.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"{'module':34} {'mutants':>8} {'killed':>7} {'equiv.':>7} {'survived':>9} {'score':>7} "
          f"{'clean run':>10} {'mutation run':>13}")  # fmt: skip
    worst = 1.0
    for r in results:
        worst = min(worst, r["score"])
        print(f"{r['module']:34} {r['mutants']:>8} {r['killed']:>7} {r['equivalent']:>7} {r['survived']:>9} "
              f"{r['score']:>7.1%} {r['clean_s']:>9.1f}s {r['seconds']:>12.0f}s")  # fmt: skip
    print(
        f"target: at least {TARGET:.0%} of non-equivalent mutants killed in every module; survivors in "
        f"{OUT / 'mutation.json'}"
    )
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
