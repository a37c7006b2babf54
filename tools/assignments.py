"""The instructor workflow with nbgrader: student versions and autograding.

    python tools/assignments.py generate            # student versions of every chapter
    python tools/assignments.py autograde STUDENT   # grade build/nbgrader/submitted/STUDENT
    python tools/assignments.py selfcheck           # submit the solutions, expect full marks

`generate` copies each chapter (01-06) from notebooks/ into
build/nbgrader/source/chNN/ and runs `nbgrader generate_assignment`; the student
versions (solutions replaced, check cells kept as autograder tests) appear in
build/nbgrader/release/chNN/. Nothing under build/ is committed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where nbgrader works; tests point it at a temporary folder.
COURSE = Path(os.environ.get("NBGRADER_COURSE_DIR", ROOT / "build" / "nbgrader")).resolve()


def chapters() -> dict[str, Path]:
    """Assignment name (ch01, ...) -> chapter notebook, for every chapter with exercises."""
    found = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        number = path.name[:2]
        if number != "00":
            found[f"ch{number}"] = path
    return found


def nbgrader(*args: str) -> None:
    """Run one nbgrader command from the repo root (where nbgrader_config.py lives)."""
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={COURSE}"]
    # nbgrader starts `alembic` (its database migrations) from PATH: put this venv's bin first.
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def generate(only: list[str] | None = None) -> dict[str, Path]:
    """Write the student version of each chapter; return assignment -> release folder."""
    released = {}
    for name, path in chapters().items():
        if only and name not in only:
            continue
        source = COURSE / "source" / name
        if source.exists():
            shutil.rmtree(source)
        source.mkdir(parents=True)
        shutil.copy2(path, source / path.name)
        nbgrader("generate_assignment", name, "--force", "--create")
        released[name] = COURSE / "release" / name
    return released


def autograde(student: str, only: list[str] | None = None) -> None:
    """Autograde every submitted chapter of ``student`` (build/nbgrader/submitted/STUDENT/)."""
    for name in chapters():
        if only and name not in only:
            continue
        if (COURSE / "submitted" / student / name).exists():
            nbgrader("autograde", name, f"--student={student}", "--force", "--create")


def scores(student: str) -> dict[str, tuple[float, float, int]]:
    """assignment -> (autograded score, autogradable points, answers awaiting manual grading)."""
    from nbgrader.api import Gradebook, MissingEntry

    result = {}
    with Gradebook(f"sqlite:///{COURSE / 'gradebook.db'}") as gradebook:
        for assignment in gradebook.assignments:
            try:
                submission = gradebook.find_submission(assignment.name, student)
            except MissingEntry:
                continue
            got = total = 0.0
            manual = 0
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.auto_score is None and grade.manual_score is None:
                        manual += 1  # a written answer: waits for the instructor
                    else:
                        got += grade.score
                        total += grade.max_score
            result[assignment.name] = (got, total, manual)
    return result


def selfcheck(student: str = "solutions", only: list[str] | None = None) -> int:
    """Submit the solution notebooks as a student and autograde them: expect full marks."""
    generate(only)
    for name, path in chapters().items():
        if only and name not in only:
            continue
        target = COURSE / "submitted" / student / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copy2(path, target / path.name)
    autograde(student, only)
    failed = 0
    print(f"{'assignment':<12}{'score':>8}{'of':>6}  manual")
    for name, (got, total, manual) in sorted(scores(student).items()):
        print(f"{name:<12}{got:>8g}{total:>6g}  {manual}")
        failed += got < total
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="student versions of every chapter")
    gen.add_argument("--only", nargs="*", help="assignment names, e.g. ch01 ch03")
    grade = sub.add_parser("autograde", help="autograde one student's submissions")
    grade.add_argument("student")
    check = sub.add_parser("selfcheck", help="autograde the solutions: expect full marks")
    check.add_argument("--only", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "generate":
        for name, folder in generate(args.only).items():
            # Relative to the repository when the course folder is inside it (the default).
            shown = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
            print(f"{name}: {shown}")
        return 0
    if args.command == "autograde":
        autograde(args.student)
        for name, (got, total, manual) in sorted(scores(args.student).items()):
            by_hand = f" (+{manual} to grade by hand)" if manual else ""
            print(f"{name}: {got:g} / {total:g}{by_hand}")
        return 0
    return selfcheck(only=args.only)


if __name__ == "__main__":
    sys.exit(main())
