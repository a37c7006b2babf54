"""The instructor workflow with nbgrader: student versions and sandboxed autograding.

    python tools/assignments.py generate               # student versions of every chapter
    python tools/assignments.py autograde STUDENT...   # grade build/nbgrader/submitted/STUDENT
    python tools/assignments.py autograde --all        # grade everyone who submitted
    python tools/assignments.py selfcheck              # submit the solutions, expect full marks

`generate` copies each notebook (the start-here notebook as ch00, each chapter as chNN)
from notebooks/ into build/nbgrader/source/chNN/ and runs `nbgrader generate_assignment`;
the student versions (solutions replaced, check cells kept as autograder tests) appear in
build/nbgrader/release/chNN/. Nothing under build/ is committed.

Links are rewritten on the way: in the release (and after `nbgrader fetch`, which keeps
the same chNN/ folders side by side) a chapter sits one folder deeper than in notebooks/,
so a link to another notebook becomes ../chNN/<notebook>, a link to any other file of the
repository (the README, helpers/nn.py) goes to the course's public copy, and an image
(../docs/*.png) to the raw file there, so that it shows.

`autograde` runs `nbgrader autograde`, whose execution step is the sandboxed grader
(tools/grader, configured in nbgrader_config.py), chapter by chapter, then prints per student:
the score, the checks that failed and why, the chapters that could not be graded (a time-out,
a limit, no results), nbgrader's warnings (a changed checksum, changed points...), files
submitted besides the notebook (listed, never used) and cells outside the answer cells that
were changed. It goes on after a failure and exits 1 if any chapter could not be graded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
from tools.grader import report as grader_report  # noqa: E402
from tools.grader import review as grader_review  # noqa: E402

# Where nbgrader works; tests point it at a temporary folder.
COURSE = Path(os.environ.get("NBGRADER_COURSE_DIR", ROOT / "build" / "nbgrader")).resolve()


# Where students find the files that are not released with the notebooks: a page to read on
# the course's public copy. Images are released with the notebook instead (in IMAGES, next to
# it), so they show offline, on a hub without internet and before the repository is public.
PUBLIC_COPY = "https://github.com/activation-functions-course/activation-functions-course/blob/main/"
IMAGES = "images"
# A Markdown link target that is a path, not a web address or an anchor in the same page;
# an image is the same with `![alt]` in front.
NOT_A_URL = r"(?![a-z][a-z0-9+.-]*:|#)"
RELATIVE_IMAGE_OR_LINK = re.compile(rf"(!?\[[^\]]*\])\({NOT_A_URL}([^)\s]+)\)")


def released() -> dict[str, Path]:
    """Assignment name (ch00, ch01, ...) -> notebook, for every notebook students receive."""
    return {f"ch{path.name[:2]}": path
            for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def chapters() -> dict[str, Path]:
    """Assignment name (ch01, ...) -> chapter notebook, for every chapter with exercises."""
    return {name: path for name, path in released().items() if name != "ch00"}


def released_link(target: str, image: bool = False) -> str:
    """Where a link (or an image) of a notebook in notebooks/ must point from its released
    copy."""
    path, hash_, anchor = target.partition("#")
    by_file = {p.name: name for name, p in released().items()}
    if path in by_file and not image:
        return f"../{by_file[path]}/{path}{hash_}{anchor}"
    in_repo = (ROOT / "notebooks" / path).resolve()
    if not in_repo.is_relative_to(ROOT) or not in_repo.is_file():
        raise SystemExit(f"a notebook links to {target!r}, which is not a file of the course")
    if image:
        return f"{IMAGES}/{in_repo.name}"
    return PUBLIC_COPY + in_repo.relative_to(ROOT).as_posix() + hash_ + anchor


def _release_image(target: str, folder: Path) -> str:
    """Copy the image a notebook shows into ``folder``/IMAGES; return the released link."""
    link = released_link(target, image=True)
    (folder / IMAGES).mkdir(exist_ok=True)
    shutil.copyfile((ROOT / "notebooks" / target).resolve(), folder / link)
    return link


def copy_for_release(notebook: Path, target: Path) -> None:
    """Copy ``notebook`` to ``target`` with its Markdown links rewritten for the release, and
    the images it shows beside it."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            text = RELATIVE_IMAGE_OR_LINK.sub(
                lambda m: f"{m.group(1)}({_release_image(m.group(2), target.parent)})"
                if m.group(1).startswith("!") else f"{m.group(1)}({released_link(m.group(2))})",
                text)
            cell["source"] = text.splitlines(keepends=True)
    target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def nbgrader(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run one nbgrader command from the repo root (where nbgrader_config.py lives)."""
    # -P: nothing from the working folder on the import path, only what is installed.
    cmd = [sys.executable, "-P", "-m", "nbgrader", *args, f"--CourseDirectory.root={COURSE}"]
    # nbgrader starts `alembic` (its database migrations) from PATH: put this venv's bin first.
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    if check and result.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


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


def submitted(assignment: str) -> list[str]:
    """The students with a submission of ``assignment`` in the course folder."""
    folder = COURSE / "submitted"
    return sorted(p.parent.name for p in folder.glob(f"*/{assignment}") if p.is_dir())


# nbgrader's log lines ("[AutogradeApp | WARNING] ...") and the lines that say whose
# submission it is working on.
LOG_LINE = re.compile(r"^\[\w+ \| (WARNING|ERROR|CRITICAL)\] (.*)$")
WORKING_ON = re.compile(r"(?:Sanitizing|Autograding) .*/(?:submitted|autograded)/([^/]+)/[^/]+/")
FAILED = re.compile(r"There was an error processing assignment '([^']+)' for student '([^']+)'")
# Lines that are no news: --force removing an earlier autograde, the grader's own summary
# (its report says more), nbgrader's pointer to the traceback it just printed.
QUIET = ("Removing existing", "[sandboxed grader]", "Please see the",
         "There was an error processing assignment:")


def nbgrader_notes(log: str) -> tuple[dict[str, list[str]], set[str]]:
    """nbgrader's warnings and errors per student, and the students it failed to process.

    An error comes with a traceback: its last line (the exception) is kept."""
    notes: dict[str, list[str]] = {}
    failed: set[str] = set()
    student, pending = "", None
    for line in log.splitlines():
        if found := WORKING_ON.search(line):
            student = found.group(1)
        if found := FAILED.search(line):
            failed.add(found.group(2))
            continue
        match = LOG_LINE.match(line)
        if match:
            level, text = match.groups()
            if pending is not None:
                notes.setdefault(pending[0], []).append(pending[1])
                pending = None
            if any(q in text for q in QUIET):
                continue
            if level == "WARNING":
                notes.setdefault(student, []).append(f"{level.lower()}: {text}")
            else:
                pending = (student, f"{level.lower()}: {text}")
        elif pending is not None and line.strip() and not line.startswith(" "):
            # A traceback ends with the exception's own line: that is the news.
            pending = (pending[0], f"error: {line.strip()[:300]}")
    if pending is not None:
        notes.setdefault(pending[0], []).append(pending[1])
    return notes, failed


@dataclass
class Graded:
    """One student's assignment after autograde: what to tell the instructor."""

    student: str
    assignment: str
    reports: list = field(default_factory=list)   # tools.grader.report.NotebookReport
    nbgrader: list[str] = field(default_factory=list)
    nbgrader_failed: bool = False
    review: grader_review.Review | None = None

    @property
    def failed(self) -> bool:
        """The assignment could not be graded (in full): nothing to trust in its score."""
        return self.nbgrader_failed or not self.reports or not all(
            r.graded for r in self.reports)

    def why(self) -> list[str]:
        lines = []
        if self.nbgrader_failed:
            lines.append("nbgrader could not process it (see its error below)")
        elif not self.reports:
            lines.append("no grader report: it was not graded by the sandboxed grader")
        for r in self.reports:
            if r.reason:
                lines.append(f"{r.notebook}: {r.reason}; every check scored 0")
            if r.no_spec:
                lines.append(f"{r.notebook}: no exercise spec for {', '.join(r.no_spec)} "
                             "(scored 0)")
        return lines


def autograde(students: list[str] | None = None, only: list[str] | None = None,
              time_limit: float | None = None, memory_mb: int | None = None) -> list[Graded]:
    """Autograde the submitted chapters of ``students`` (everyone who submitted when None),
    chapter by chapter; a failure is noted and the next one graded."""
    results = []
    for name in chapters():
        if only and name not in only:
            continue
        who = [s for s in submitted(name) if students is None or s in students]
        if not who:
            continue
        for student in who:  # an earlier run's reports must not stand in for this one's
            shutil.rmtree(COURSE / grader_report.FOLDER / name / student, ignore_errors=True)
        args = ["autograde", name, "--force", "--create"]
        if students is not None and len(who) == 1:
            args.append(f"--student={who[0]}")
        elif students is not None:  # several: everyone who submitted, but for the others
            others = [s for s in submitted(name) if s not in who]
            if others:
                args.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
        if time_limit is not None:
            args.append(f"--SandboxedExecute.time_limit={time_limit:g}")
        if memory_mb is not None:
            args.append(f"--SandboxedExecute.memory_limit={memory_mb * 2**20}")
        run = nbgrader(*args, check=False)
        notes, failed = nbgrader_notes(run.stdout + run.stderr)
        for student in who:
            results.append(Graded(
                student=student, assignment=name,
                reports=grader_report.read_reports(COURSE, name, student),
                nbgrader=notes.get(student, []),
                nbgrader_failed=student in failed or (run.returncode != 0 and len(who) == 1),
                review=grader_review.review_submission(COURSE / "submitted" / student / name,
                                                       COURSE / "release" / name)))
    return results


def _first_line(message: str) -> str:
    line = next((ln for ln in message.splitlines() if ln.strip()), "")
    return line if len(line) <= 160 else line[:157] + "..."


def describe(graded: Graded, indent: str = "  ", review: bool = True) -> list[str]:
    """The lines about one graded assignment, below its score (``review``: with what the
    submission holds besides answers)."""
    lines = [f"NOT GRADED: {why}" for why in graded.why()] if graded.failed else []
    for r in graded.reports:
        if not r.reason:
            lines += [f"failed {c.grade_id}: {_first_line(c.message)}"
                      for c in r.checks if not c.passed and c.grade_id not in r.no_spec]
        lines += [f"grader: {p}" for p in r.problems]
    rev = graded.review if review else None
    if rev is not None:
        lines += [f"missing notebook: {n}" for n in rev.missing_notebooks]
        if rev.extra_files:
            lines.append("extra files (listed, never used): " + ", ".join(rev.extra_files))
        lines += [f"changed outside the answer cells: {c}" for c in rev.changed_cells]
        lines += [f"flag: {f}" for f in rev.flags]
    lines += [f"nbgrader {n}" for n in graded.nbgrader]
    return [indent + ln for ln in lines]


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
    graded = {g.assignment: g for g in autograde([student], only)}
    failed = 0
    print(f"{'assignment':<12}{'score':>8}{'of':>6}  manual")
    for name, (got, total, manual) in sorted(scores(student).items()):
        print(f"{name:<12}{got:>8g}{total:>6g}  {manual}")
        # The solutions are not the released notebooks: no review of their cells.
        for line in describe(graded[name], "    ", review=False) if name in graded else []:
            print(line)
        failed += got < total or (name in graded and graded[name].failed)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="student versions of every chapter")
    gen.add_argument("--only", nargs="*", help="assignment names, e.g. ch01 ch03")
    grade = sub.add_parser("autograde", help="autograde submissions in the sandboxed grader")
    grade.add_argument("students", nargs="*", metavar="STUDENT",
                       help="whose submissions (build/nbgrader/submitted/STUDENT/)")
    grade.add_argument("--all", action="store_true", help="everyone who submitted")
    grade.add_argument("--only", nargs="*", help="assignment names, e.g. ch01 ch03")
    grade.add_argument("--time-limit", type=float, metavar="SECONDS",
                       help="wall-clock limit per notebook (default 600)")
    grade.add_argument("--memory-limit", type=int, metavar="MB",
                       help="memory of all of a notebook's processes together (default 3072)")
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
        if bool(args.students) == args.all:
            parser.error("autograde takes student names or --all (one of the two)")
        graded = autograde(None if args.all else args.students, args.only, args.time_limit,
                           args.memory_limit)
        by_student: dict[str, dict[str, Graded]] = {}
        for g in graded:
            by_student.setdefault(g.student, {})[g.assignment] = g
        if not graded:
            print("nothing submitted to grade", file=sys.stderr)
            return 1
        for student, mine in sorted(by_student.items()):
            if args.all or len(args.students) > 1:
                print(f"== {student}")
            points = scores(student)
            for name, g in sorted(mine.items()):
                got, total, manual = points.get(name, (0.0, 0.0, 0))
                by_hand = f" (+{manual} to grade by hand)" if manual else ""
                print(f"{name}: {got:g} / {total:g}{by_hand}")
                for line in describe(g):
                    print(line)
        failed = [f"{g.student} {g.assignment}" for g in graded if g.failed]
        if failed:
            print(f"not graded in full: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0
    return selfcheck(only=args.only)


if __name__ == "__main__":
    sys.exit(main())
