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

After tests are added (and the module itself is unchanged), ``--retest bench/out/mutation.json`` re-runs only the
recorded survivors against the current tests: a killed mutant stays killed, so the score is the same as a full run's
at a fraction of the time.

Writes bench/out/mutation.json (every survivor's diff) for follow-up. Not part of `make test`: it takes a while.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shlex
import shutil
import sqlite3
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

# module -> the fast unit tests that own it (pytest arguments; -k picks the unit-level tests of a file whose other
# tests start processes or load models, so that one mutant takes seconds, not minutes). The listed areas: ingest,
# filters, the SQL console's query checker, the value axes, revealed positions (people, plane, positions), diversity
# metrics and the reward fits.
MODULES: dict[str, list[str]] = {
    "analysis/filters.py": ["tests/test_filters.py"],
    "analysis/explore/sql_guard.py": ["tests/explore/test_sql_console.py", "-k", "layer_1 or listed_statement"],
    "analysis/explore/positions.py": ["tests/explore/test_positions_data.py", "tests/explore/test_positions.py"],
    "analysis/explore/people.py": [
        "tests/explore/test_people.py",
        "tests/explore/test_positions.py",
        "tests/explore/test_positions_data.py",
    ],
    "analysis/pipeline/ingest.py": [
        "tests/pipeline/test_ingest_options.py",
        "tests/pipeline/test_ingest_hub.py",
        "tests/pipeline/test_ingest_refusals.py::test_a_csv_dialect_failure_names_the_likely_cause_and_what_to_do",
        "tests/pipeline/test_ingest.py",
    ],
    "analysis/lab/diversity.py": [
        "tests/lab/test_diversity_edges.py",
        "tests/lab/test_diversity.py",
        "tests/lab/test_strategies.py",
        "-k",
        "not pasted",
    ],
    "analysis/pipeline/axes.py": [
        "tests/pipeline/test_axes.py",
        "-k",
        "not fresh_offline_process and not shipped_vectors_are and not reach_0_8",
    ],
    "analysis/explore/plane.py": ["tests/explore/test_plane.py", "tests/explore/test_positions.py"],
    "analysis/lab/reward_models.py": [
        "tests/lab/test_reward_models_edges.py",
        "tests/lab/test_reward_models.py",
        "tests/lab/test_conditional_logit.py",
    ],
}
# Plugins are not loaded in the mutant runs (the browser plugin alone costs a second per run; no unit test uses one),
# and hypothesis runs without a deadline on fixed examples (tests/conftest.py): on a loaded machine a slow example
# would otherwise fail the test and count the mutant as killed.
QUIET_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "CAE_HYPOTHESIS_PROFILE": "mutation"}
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


def _test_command(tests: list[str]) -> str:
    """The command cosmic-ray runs per mutant (it splits it with shlex: a -k expression must stay one argument)."""
    return shlex.join([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not e2e", *tests])


def _config(module: str, tests: list[str], timeout: float) -> str:
    excluded = ",\n    ".join(json.dumps(o) for o in _operators_to_exclude())
    return (
        f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {timeout:.0f}\nexcluded-modules = []\n'
        f'test-command = {json.dumps(_test_command(tests))}\n\n[cosmic-ray.distributor]\nname = "local"\n\n'
        f"[cosmic-ray.filters.operators-filter]\nexclude-operators = [\n    {excluded}\n]\n"
    )


def _clean_run(work: Path, tests: list[str]) -> float:
    """The very command the mutants get, on the unmutated copy: it must pass and run at least one test (a command
    that fails for another reason would count every mutant as killed)."""
    started = time.perf_counter()
    out = subprocess.run(shlex.split(_test_command(tests)), cwd=work, capture_output=True, text=True,
                         env={**os.environ, **QUIET_ENV})  # fmt: skip
    if out.returncode != 0 or " passed" not in out.stdout:
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


def _keep_a_sample(session: str, size: int, seed: int) -> int:
    """Leave ``size`` of the pending mutants, drawn at random (seeded), in the session; returns how many there were."""
    con = sqlite3.connect(session)
    try:
        pending = [r[0] for r in con.execute(
            "SELECT job_id FROM work_items WHERE job_id NOT IN (SELECT job_id FROM work_results) ORDER BY job_id")]  # fmt: skip
        if len(pending) > size:
            drop = sorted(set(pending) - set(random.Random(seed).sample(pending, size)))
            con.executemany("DELETE FROM mutation_specs WHERE job_id = ?", [(j,) for j in drop])
            con.executemany("DELETE FROM work_items WHERE job_id = ?", [(j,) for j in drop])
            con.commit()
        return len(pending)
    finally:
        con.close()


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a share k / n (the score of a sample of mutants)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def run_module(module: str, tests: list[str], sample: int | None = None, seed: int = 0) -> dict:
    work = scratch_copy()
    try:
        clean = _clean_run(work, tests)
        (work / "cr.toml").write_text(_config(module, tests, max(60.0, 10 * clean)), encoding="utf-8")
        session = str(work / "cr.sqlite")
        subprocess.run([_cosmic("cosmic-ray"), "init", "cr.toml", session], cwd=work, check=True, capture_output=True)
        subprocess.run([_cosmic("cr-filter-operators"), session, "cr.toml"], cwd=work, check=True, capture_output=True)
        population = _keep_a_sample(session, sample, seed) if sample else None
        started = time.perf_counter()
        subprocess.run([_cosmic("cosmic-ray"), "exec", "cr.toml", session], cwd=work, check=True, capture_output=True,
                       env={**os.environ, **QUIET_ENV})  # fmt: skip
        seconds = time.perf_counter() - started
        dump = subprocess.run([_cosmic("cosmic-ray"), "dump", session], cwd=work, check=True, capture_output=True,
                              text=True).stdout  # fmt: skip
        out = {"module": module, "tests": tests, "clean_s": round(clean, 1), "seconds": round(seconds, 1),
               **_classify(module, dump, _equivalents())}  # fmt: skip
        if population is not None:
            out["population"] = population
            out["score_95"] = wilson(out["killed"], out["mutants"] - out["equivalent"])
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _apply(text: str, diff: str) -> str:
    """The module's text with one recorded cosmic-ray mutation (a one-hunk diff) applied."""
    lines = text.splitlines(keepends=True)
    body = diff.splitlines()
    at = next(i for i, ln in enumerate(body) if ln.startswith("@@"))
    start = int(re.match(r"@@ -(\d+)", body[at]).group(1)) - 1
    hunk = [ln if ln else " " for ln in body[at + 1 :]]
    old = [ln[1:] for ln in hunk if ln[0] in " -"]
    new = [ln[1:] for ln in hunk if ln[0] in " +"]
    while old and new and old[-1] == new[-1] == "" and start + len(old) > len(lines):
        old, new = old[:-1], new[:-1]  # the blank line difflib shows after the file's last newline
    if [ln.rstrip("\n") for ln in lines[start : start + len(old)]] != old:
        raise RuntimeError("the module changed since that run: run the full mutation test again")
    return "".join(lines[:start] + [ln + "\n" for ln in new] + lines[start + len(old) :])


def retest_survivors(previous: dict) -> dict:
    """Run the module's current tests against each survivor of an earlier full run (the module unchanged).

    Valid when tests were only added since: a mutant a test killed stays killed, so only the survivors can change.
    Survivors now listed in bench/mutation_equivalents.txt move to the equivalent column.
    """
    module, tests = previous["module"], MODULES[previous["module"]]
    work = scratch_copy()
    try:
        clean = _clean_run(work, tests)
        original = (work / module).read_text(encoding="utf-8")
        started, still = time.perf_counter(), []
        for survivor in previous["survivors"]:
            (work / module).write_text(_apply(original, survivor["diff"]), encoding="utf-8")
            try:
                out = subprocess.run(shlex.split(_test_command(tests)), cwd=work, capture_output=True,
                                     env={**os.environ, **QUIET_ENV}, timeout=max(60.0, 10 * clean))  # fmt: skip
                if out.returncode == 0:
                    still.append(survivor)
            except subprocess.TimeoutExpired:
                pass  # an endless loop is a detected change
        (work / module).write_text(original, encoding="utf-8")
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    equivalent = _equivalents()
    now_equivalent = [s for s in still if (module, *_changed_lines(s["diff"])) in equivalent]
    survivors = [s for s in still if s not in now_equivalent]
    killed = previous["killed"] + len(previous["survivors"]) - len(still)
    counts = {"mutants": previous["mutants"], "killed": killed, "survived": len(survivors),
              "equivalent": previous["equivalent"] + len(now_equivalent)}  # fmt: skip
    counts["score"] = killed / max(1, counts["mutants"] - counts["equivalent"])
    if "population" in previous:
        counts["score_95"] = wilson(killed, counts["mutants"] - counts["equivalent"])
    return {**previous, "tests": tests, "clean_s": round(clean, 1), "seconds": round(previous["seconds"] + seconds, 1),
            "retested": time.strftime("%Y-%m-%d %H:%M"), **counts, "survivors": survivors}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", help="one of the modules (repeatable; default: all)")
    parser.add_argument("--workers", type=int, default=1, help="modules tested at once (each in its own copy)")
    parser.add_argument("--out", type=Path, default=OUT / "mutation.json", help="where the survivors' diffs go")
    parser.add_argument("--sample", type=int, help="test a random sample of this many mutants per module (an estimate)")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed")
    parser.add_argument("--retest", type=Path, help="an earlier --out file: re-run only its survivors (tests added)")
    args = parser.parse_args()
    chosen = {m: t for m, t in MODULES.items() if not args.module or any(a in m for a in args.module)}
    if args.retest:
        earlier = [r for r in json.loads(args.retest.read_text(encoding="utf-8")) if r["module"] in chosen]
        with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
            results = list(pool.map(retest_survivors, earlier))
    else:
        with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
            results = list(pool.map(lambda mt: run_module(*mt, args.sample, args.seed), chosen.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"{'module':34} {'mutants':>8} {'killed':>7} {'equiv.':>7} {'survived':>9} {'score':>7} "
          f"{'clean run':>10} {'mutation run':>13}")  # fmt: skip
    worst = 1.0
    for r in results:
        worst = min(worst, r["score"])
        print(f"{r['module']:34} {r['mutants']:>8} {r['killed']:>7} {r['equivalent']:>7} {r['survived']:>9} "
              f"{r['score']:>7.1%} {r['clean_s']:>9.1f}s {r['seconds']:>12.0f}s")  # fmt: skip
        if "population" in r:
            lo, hi = r["score_95"]
            print(
                f"{'':34} a random sample of {r['mutants']} of {r['population']} mutants: 95% interval {lo:.1%}-{hi:.1%}"
            )
    print(f"target: at least {TARGET:.0%} of non-equivalent mutants killed in every module; survivors in {args.out}")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
