"""The instructor workflow with nbgrader: student versions and autograding.

    python tools/assignments.py generate            # student versions of every chapter
    python tools/assignments.py autograde STUDENT   # grade build/nbgrader/submitted/STUDENT
    python tools/assignments.py selfcheck           # submit the solutions, expect full marks

`generate` copies each notebook (the start-here notebook as ch00, each chapter as chNN)
from notebooks/ into build/nbgrader/source/chNN/ and runs `nbgrader generate_assignment`;
the student versions (solutions replaced, check cells kept as autograder tests) appear in
build/nbgrader/release/chNN/. Nothing under build/ is committed.

Links are rewritten on the way: in the release (and after `nbgrader fetch`, which keeps
the same chNN/ folders side by side) a chapter sits one folder deeper than in notebooks/,
so a link to another notebook becomes ../chNN/<notebook>, and a link to any other file of
the repository (the README, helpers/nn.py) goes to the course's public copy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where nbgrader works; tests point it at a temporary folder.
COURSE = Path(os.environ.get("NBGRADER_COURSE_DIR", ROOT / "build" / "nbgrader")).resolve()


# Where students find the files that are not released with the notebooks.
PUBLIC_COPY = "https://github.com/activation-functions-course/activation-functions-course/blob/main/"
# A Markdown link target that is a path, not a web address or an anchor in the same page.
RELATIVE_LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s]+)\)")


def released() -> dict[str, Path]:
    """Assignment name (ch00, ch01, ...) -> notebook, for every notebook students receive."""
    return {f"ch{path.name[:2]}": path
            for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def chapters() -> dict[str, Path]:
    """Assignment name (ch01, ...) -> chapter notebook, for every chapter with exercises."""
    return {name: path for name, path in released().items() if name != "ch00"}


def released_link(target: str) -> str:
    """Where a link of a notebook in notebooks/ must point from its released copy."""
    path, hash_, anchor = target.partition("#")
    by_file = {p.name: name for name, p in released().items()}
    if path in by_file:
        return f"../{by_file[path]}/{path}{hash_}{anchor}"
    in_repo = (ROOT / "notebooks" / path).resolve()
    if not in_repo.is_relative_to(ROOT) or not in_repo.exists():
        raise SystemExit(f"a notebook links to {target!r}, which is not a file of the course")
    return PUBLIC_COPY + in_repo.relative_to(ROOT).as_posix() + hash_ + anchor


def copy_for_release(notebook: Path, target: Path) -> None:
    """Copy ``notebook`` to ``target`` with its Markdown links rewritten for the release."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            text = RELATIVE_LINK.sub(lambda m: f"]({released_link(m.group(1))})", text)
            cell["source"] = text.splitlines(keepends=True)
    target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


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
    """Write the student version of each notebook; return assignment -> release folder."""
    folders = {}
    for name, path in released().items():
        if only and name not in only:
            continue
        source = COURSE / "source" / name
        if source.exists():
            shutil.rmtree(source)
        source.mkdir(parents=True)
        copy_for_release(path, source / path.name)
        nbgrader("generate_assignment", name, "--force", "--create")
        folders[name] = COURSE / "release" / name
    return folders


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
