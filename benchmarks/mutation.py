"""Mutation testing of the exercise checks: does each check reject a broken solution?

    python benchmarks/mutation.py                     # every exercise of every chapter
    python benchmarks/mutation.py --chapter ch02      # one chapter
    python benchmarks/mutation.py --exercise ch02.sigmoid_shrink_bound

For every exercise, the solution in the chapter notebook (the answer cells the check cell
passes to its check) is copied into a module, and cosmic-ray (a mutation-testing tool from PyPI)
mutates it: each mutant flips one operator, number, comparison, boolean or keyword of the
solution. The test is the exercise's own check, run on two fixed draws (seeds 0 and 1): a
mutant the check rejects is *killed*; one it accepts *survives*. A survivor is either a hole in
the check, to be closed, or *equivalent* (it gives the same results on every valid input, like
``x * 1.0`` for ``x``): those are listed, each with its reason, in
``benchmarks/mutation_equivalents.json``, matched by operator, line and mutated line.

Prints a table (mutants generated, killed, equivalent, surviving) and exits 1 if any mutant
survives that is not on the list. Writes the full results to build/mutation/report.json.
Needs the bench extra (`pip install -e ".[bench]"`: cosmic-ray) and, for chapter 7, torch.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "build" / "mutation"
EQUIVALENTS = ROOT / "benchmarks" / "mutation_equivalents.json"
SEEDS = (0, 1)


@dataclass
class Exercise:
    """One check cell and the answer cells it checks, taken from a chapter notebook."""

    chapter: str
    grade_id: str
    check_call: str           # "ch02.check_sigmoid_prime_from_output"
    answer_names: list[str]
    setup: str                # the notebook's setup cell, without IPython magics
    solution: str             # the answer cells, solution markers removed
    spec_id: str = ""
    outcomes: dict = field(default_factory=dict)


def _strip_magics(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def _defined_names(source: str) -> set[str]:
    tree = ast.parse(_strip_magics(source))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def exercises(notebook: Path) -> list[Exercise]:
    """The exercises of one chapter notebook, in order."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    setup = _strip_magics("".join(code[0]["source"]))
    answers = []
    for cell in code:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            source = "".join(cell["source"])
            source = re.sub(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", "", source, flags=re.M)
            answers.append((_defined_names(source), _strip_magics(source)))
    found = []
    for cell in code:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade") or meta.get("solution"):
            continue
        call = ast.parse("".join(cell["source"])).body[0].value
        func = ast.unparse(call.func)
        names = [a.id for a in call.args if isinstance(a, ast.Name)]
        solution = "\n\n".join(src for defined, src in answers if defined & set(names))
        found.append(Exercise(notebook.name[:2], meta["grade_id"], func, names, setup,
                              solution))
    return found


def _write_workdir(ex: Exercise, folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "context.py").write_text(ex.setup + "\n", encoding="utf-8")
    (folder / "solution.py").write_text(
        "from context import *  # noqa: F401,F403 - the notebook's setup cell\n\n\n"
        + ex.solution + "\n", encoding="utf-8")
    module, check = ex.check_call.split(".")
    (folder / "run_check.py").write_text(textwrap.dedent(f"""\
        # The exercise's check as the test of one mutant: exit 0 = accepted (the mutant
        # survives), exit 1 = rejected (killed).
        import contextlib, io, os, sys
        os.environ["NBGRADER_EXECUTION"] = "autograde"   # unanswered raises, as when grading
        os.environ.setdefault("MPLBACKEND", "Agg")
        sys.path.insert(0, {str(folder)!r})
        from helpers.exercises import ExerciseError, {module}
        try:
            import solution
        except Exception as err:          # a mutant that does not even import
            print("import failed:", type(err).__name__, err)
            sys.exit(1)
        for seed in {SEEDS!r}:
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    {module}.{check}({", ".join(f"solution.{n}" for n in ex.answer_names)},
                                     seed=seed)
            except ExerciseError as err:
                print("rejected:", str(err).splitlines()[0][:200])
                sys.exit(1)
        sys.exit(0)
        """), encoding="utf-8")
    (folder / "config.toml").write_text(textwrap.dedent(f"""\
        [cosmic-ray]
        module-path = "solution.py"
        timeout = 120.0
        excluded-modules = []
        test-command = "{sys.executable} run_check.py"

        [cosmic-ray.distributor]
        name = "local"
        """), encoding="utf-8")


def _cosmic_ray(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "cosmic-ray"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True)


def _changed_lines(diff: str) -> tuple[str, str]:
    """(original line, mutated line) of a one-line mutation's unified diff."""
    minus = [ln[1:].strip() for ln in diff.splitlines()
             if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines()
            if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(minus), " / ".join(plus)


def run(ex: Exercise, equivalents: dict) -> dict:
    """Mutate one exercise's solution and run its check on each mutant."""
    folder = WORK / ex.grade_id
    _write_workdir(ex, folder)
    base = subprocess.run([sys.executable, "run_check.py"], cwd=folder, capture_output=True,
                          text=True)
    if base.returncode != 0:
        return {"error": f"the unmutated solution fails its check: {base.stdout}{base.stderr}"}
    for step in (("init", "config.toml", "session.sqlite"),
                 ("exec", "config.toml", "session.sqlite")):
        done = _cosmic_ray(*step, cwd=folder)
        if done.returncode != 0:
            return {"error": f"cosmic-ray {step[0]} failed: {done.stderr[-2000:]}"}
    dump = _cosmic_ray("dump", "session.sqlite", cwd=folder).stdout
    known = equivalents.get(ex.grade_id, [])
    result = {"mutants": 0, "killed": 0, "equivalent": 0, "surviving": []}
    for line in dump.splitlines():
        item, outcome = json.loads(line)
        if outcome is None:
            continue
        mutation = item["mutations"][0]
        result["mutants"] += 1
        if outcome.get("test_outcome") != "survived":
            result["killed"] += 1
            continue
        before, after = _changed_lines(outcome.get("diff") or "")
        entry = {"operator": mutation["operator_name"], "line": before, "mutated": after}
        if any(e["operator"] == entry["operator"] and e["line"] == before
               and e["mutated"] == after for e in known):
            result["equivalent"] += 1
        else:
            result["surviving"].append(entry)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", action="append", help="chNN (repeatable)")
    parser.add_argument("--exercise", action="append", help="a check cell's grade id")
    args = parser.parse_args(argv)
    equivalents = json.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.exists() else {}
    todo = []
    for notebook in sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb")):
        chapter = f"ch{notebook.name[:2]}"
        if args.chapter and chapter not in args.chapter:
            continue
        todo += [ex for ex in exercises(notebook)
                 if not args.exercise or ex.grade_id in args.exercise]
    WORK.mkdir(parents=True, exist_ok=True)
    report, failed = {}, 0
    print(f"{'exercise (check cell)':<36}{'mutants':>8}{'killed':>8}{'equiv.':>8}"
          f"{'surviving':>10}{'s':>6}")
    for ex in todo:
        start = time.perf_counter()
        result = run(ex, equivalents)
        seconds = time.perf_counter() - start
        report[ex.grade_id] = result
        if "error" in result:
            failed += 1
            print(f"{ex.grade_id:<36} error: {result['error'][:300]}")
            continue
        failed += bool(result["surviving"])
        print(f"{ex.grade_id:<36}{result['mutants']:>8}{result['killed']:>8}"
              f"{result['equivalent']:>8}{len(result['surviving']):>10}{seconds:>6.0f}")
        for s in result["surviving"]:
            print(f"    survives: [{s['operator']}] {s['line']!r} -> {s['mutated']!r}")
    totals = {k: sum(r.get(k, 0) for r in report.values() if "error" not in r)
              for k in ("mutants", "killed", "equivalent")}
    totals["surviving"] = sum(len(r.get("surviving", [])) for r in report.values())
    print(f"{'total':<36}{totals['mutants']:>8}{totals['killed']:>8}{totals['equivalent']:>8}"
          f"{totals['surviving']:>10}")
    (WORK / "report.json").write_text(json.dumps({"totals": totals, "exercises": report},
                                                 indent=1))
    print(f"full results: {(WORK / 'report.json').relative_to(ROOT)}; equivalent mutants are "
          f"listed with their reasons in {EQUIVALENTS.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.exit(main())
