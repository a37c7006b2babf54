"""Autograding time: the sandboxed grader against today's in-kernel grading, in one run.

    python benchmarks/grading.py [--chapter ch02] [--students 20] [--rounds 3]

Both are `nbgrader autograde`, as `tools/assignments.py autograde` runs it, on the solutions of
one converted chapter submitted by ``--students`` students, in a course folder of its own:

- **in-kernel** (what autograding was before issue 24): nbgrader's own ``Execute`` step runs
  the notebook in a kernel of the instructor's, and the checks decide in that kernel;
- **sandboxed** (tools/grader): every notebook in a fresh bubblewrap sandbox, the verdicts
  computed in nbgrader's process from the plain data the checks collected.

Two measurements, each alternating the two graders so that both see the same machine:
**one chapter** (one student's submission, a whole `nbgrader autograde` command, start-up
included; ``--rounds`` times each, the median) and **a class** (all ``--students`` in one
command; the time per submission is the total over the count). The machine this runs on is
shared and drifts, so only the ratio measured side by side says something.

Target: the sandboxed grader takes at most 2x today's time per submission.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "assignments.py"
TARGET = 2.0
# nbgrader's own list, with its Execute step: autograding as it was before the sandbox.
IN_KERNEL = """\
load_subconfig({config!r})  # noqa: F821
c = get_config()  # noqa: F821
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata"]
"""


def autograde(course: Path, chapter: str, config_dir: Path, student: str | None) -> float:
    """Wall seconds of one `nbgrader autograde` with the nbgrader_config.py of ``config_dir``."""
    args = [sys.executable, "-P", "-m", "nbgrader", "autograde", chapter, "--force", "--create",
            f"--CourseDirectory.root={course}"] + ([f"--student={student}"] if student else [])
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    done = subprocess.run(args, cwd=config_dir, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed:\n{done.stdout}{done.stderr}")
    return took


def scores(course: Path, chapter: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(chapter)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="ch02", help="a chapter whose checks have specs")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grading-bench-"))
    try:
        course = work / "course"
        env = {**os.environ, "NBGRADER_COURSE_DIR": str(course)}
        made = subprocess.run([sys.executable, str(TOOL), "generate", "--only", args.chapter],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        if made.returncode != 0:
            raise SystemExit(made.stdout + made.stderr)
        notebook = next((ROOT / "notebooks").glob(f"{args.chapter[2:]}_*.ipynb"))
        students = [f"s{i:02d}" for i in range(1, args.students + 1)]
        for student in students:
            folder = course / "submitted" / student / args.chapter
            folder.mkdir(parents=True)
            shutil.copy(notebook, folder / notebook.name)
        graders = {"in-kernel": work / "in-kernel", "sandboxed": ROOT}
        graders["in-kernel"].mkdir()
        (graders["in-kernel"] / "nbgrader_config.py").write_text(
            IN_KERNEL.format(config=str(ROOT / "nbgrader_config.py")))

        single: dict[str, list[float]] = {name: [] for name in graders}
        for _ in range(args.rounds):
            for name, config in graders.items():
                single[name].append(autograde(course, args.chapter, config, students[0]))
        whole: dict[str, float] = {}
        full: dict[str, bool] = {}
        for name, config in graders.items():
            whole[name] = autograde(course, args.chapter, config, None)
            got = scores(course, args.chapter)
            full[name] = len(got) == len(students) and len(set(got.values())) == 1
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"Autograding {args.chapter} ({notebook.name}), the solutions; "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%d %B %Y')}")
    print()
    print("| measurement | in-kernel (s) | sandboxed (s) | ratio |")
    print("|-------------|--------------:|--------------:|------:|")
    one = {name: statistics.median(runs) for name, runs in single.items()}
    print(f"| one chapter, one submission (median of {args.rounds}) | {one['in-kernel']:.1f} | "
          f"{one['sandboxed']:.1f} | {one['sandboxed'] / one['in-kernel']:.2f}x |")
    n = len(students)
    per = {name: whole[name] / n for name in graders}
    print(f"| a class of {n}, per submission ({whole['in-kernel']:.0f} s and "
          f"{whole['sandboxed']:.0f} s in all) | {per['in-kernel']:.1f} | {per['sandboxed']:.1f} "
          f"| {per['sandboxed'] / per['in-kernel']:.2f}x |")
    print()
    worst = max(one["sandboxed"] / one["in-kernel"], per["sandboxed"] / per["in-kernel"])
    print(f"Target: at most {TARGET:g}x today's time per submission: "
          f"{'met' if worst <= TARGET else 'MISSED'} (worst {worst:.2f}x). Every submission "
          f"scored the same: in-kernel {full['in-kernel']}, sandboxed {full['sandboxed']}.")


if __name__ == "__main__":
    main()
