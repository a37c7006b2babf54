"""A whole class on JupyterHub with nbgrader's exchange, end to end (deploy/, `make class`).

The module starts the class exactly as `make class` does (deploy/classroom.py): a Unix group,
local users with private homes, the exchange with its modes, JupyterHub with NativeAuthenticator
and the local spawner on 127.0.0.1, every port from free_port(). Then, in order:

1. the instructor generates chapter 2 (tools/assignments.py) and releases it to the exchange;
2. the instructor's hub account is claimed as `make class` claims it (nobody can sign up under
   that name after); two students sign up on the hub, cannot log in until the instructor
   authorizes them on the hub's page, then log in in headless Chromium, fetch ch02 in the
   Assignments tab, type their answers into the notebook (one all right, one with a wrong
   answer), save and submit;
3. the instructor collects and autogrades in a hub terminal, with the sandboxed grader
   (tools/grader, loaded by the instructor's nbgrader config): 3 of 3 and 1 of 3;
4. feedback is generated and released; each student fetches it in the Assignments tab;
5. the instructor's formgrader lists both submissions with those scores;
6. twenty students submit at once (``nbgrader submit``, in parallel); every submission is
   collected with its own timestamp and content; a resubmission replaces the first one; the
   twenty are autograded in one run, each notebook in a sandbox of its own;
7. a notebook that is not JSON and one with a check cell deleted are collected and autograded
   in one run: the run goes on, the first gets a clear error, the second is graded with the
   check put back;
8. what a student may touch: not the inbound folder's listing, not another student's home or
   submission, not the instructor's course folder (solutions), not the feedback listing.

Everything it starts (hub, proxy, every user's server, the browser) is stopped, and every user,
group, ACL entry and folder it made is removed, also when a step fails. It needs root (it makes
users), the hub packages and proxy (`make class-deps`), setfacl (Debian's `acl`), Chromium and
playwright. Without them it skips with the command to run; under CI (CI=true) it fails.
Screenshots go to ``$BROWSER_ARTIFACTS/classroom`` (default build/browser-screenshots).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # tests/ has no __init__.py
sys.path.insert(0, str(ROOT / "deploy"))
import browser_support as bs  # noqa: E402
import classroom  # noqa: E402
import classroom_support as ui  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", ROOT / "build" / "browser-screenshots"))
SHOTS = ARTIFACTS / "classroom"
VIEWPORT = {"width": 1400, "height": 900}
ASSIGNMENT = "ch02"
NOTEBOOK = "02_sigmoid_tanh_vanishing_gradients"
SOLUTION_LINE = "return s * (1 - s)"   # a line of the source's solution
PASSWORD = "Class-pw-" + secrets.token_hex(6)
LOAD_STUDENTS = 20

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# What the students type into the answer cells of ch02 (each replaces the whole cell). The
# expected scores below are counted from these by hand: 3 checks of 1 point each.
RIGHT = {
    "def sigmoid_prime_from_output(": (
        "def sigmoid_prime_from_output(s):\n    return s * (1 - s)\n"),
    "def sigmoid_shrink_bound(": (
        "def sigmoid_shrink_bound(n_layers):\n"
        "    return 0.25 ** np.asarray(n_layers, dtype=float)\n"),
    "def tanh_init_std(": (
        "def tanh_init_std(fan_in, fan_out):\n    return np.sqrt(2.0 / (fan_in + fan_out))\n"),
}
# Exercise 1 right; exercise 2 wrong (a multiple of 1/4 where the factors multiply); 3 left
# unanswered: 1 point of 3.
PARTLY_WRONG = {
    "def sigmoid_prime_from_output(": RIGHT["def sigmoid_prime_from_output("],
    "def sigmoid_shrink_bound(": (
        "def sigmoid_shrink_bound(n_layers):\n    return 0.25 * n_layers\n"),
}
EXPECTED_SCORES = {"right": (3.0, 3.0), "wrong": (1.0, 3.0)}


def _skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; under CI a missing prerequisite is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the classroom test must not be skipped)")
    pytest.skip(reason)


def _check_prerequisites() -> None:
    if os.geteuid() != 0:
        _skip_or_fail("the classroom test makes local users and starts a hub: run it as root")
    for module, package in (("jupyterhub", "jupyterhub"),
                            ("nativeauthenticator", "jupyterhub-nativeauthenticator"),
                            ("nbgrader", "nbgrader")):
        if importlib.util.find_spec(module) is None:
            _skip_or_fail(f"{package} is not installed: run `make class-deps` "
                          "(deploy/requirements.txt and the instructor extra)")
    if not os.access(classroom.PROXY, os.X_OK):
        _skip_or_fail(f"{classroom.PROXY} is missing: run `make class-deps` (npm ci)")
    for tool, debian in (("setfacl", "acl"), ("useradd", "passwd"), ("runuser", "util-linux")):
        if shutil.which(tool) is None:
            _skip_or_fail(f"{tool} not found: apt-get install {debian}")


# ---------------------------------------------------------------------------------------------
# The class: made and removed by one module fixture
# ---------------------------------------------------------------------------------------------


@dataclass
class Class:
    """The running class and everything the test made, for its steps and for clean-up."""

    settings: classroom.Settings
    base: Path
    tag: str
    hub: classroom.Hub | None = None
    users: list[str] = field(default_factory=list)
    granted: list[Path] = field(default_factory=list)
    group_made: bool = False
    # The two students who work in the browser: "right" and "wrong".
    students: dict[str, str] = field(default_factory=dict)
    instructor_password: str = ""
    # What each browser student's Submitted list showed: timestamp of the submission.
    submitted_at: dict[str, str] = field(default_factory=dict)

    @property
    def instructor(self) -> str:
        return self.settings.instructor

    @property
    def course(self) -> Path:
        return classroom.course_dir(self.instructor)

    @property
    def inbound(self) -> Path:
        return self.settings.exchange / classroom.COURSE_ID / "inbound"

    def user(self, name: str) -> str:
        """Make a class member (instructor or student) and remember to remove them."""
        username = f"{self.tag}-{name}"
        classroom.add_user(username, self.settings.group)
        self.users.append(username)
        return username

    def run_as(self, username: str, *args: str, cwd: Path | None = None, check: bool = True,
               timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
        result = classroom.run_as(username, list(args), self.settings, cwd=cwd,
                                  timeout=timeout, extra_env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} as {username} failed "
                                 f"({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def instructor_nbgrader(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """An nbgrader command as the instructor types it in a hub terminal."""
        return self.run_as(self.instructor, "nbgrader", *args, cwd=self.course, check=check,
                           timeout=600)


@pytest.fixture(scope="module")
def klass():
    _check_prerequisites()
    tag = "c" + secrets.token_hex(3)
    # Under /tmp (not pytest's 0700 tmp_path) so the class's users can reach the exchange.
    base = Path(tempfile.mkdtemp(prefix=f"classroom-{tag}-", dir="/tmp"))
    os.chmod(base, 0o711)
    settings = classroom.Settings(
        port=classroom.free_port(), hub_port=classroom.free_port(),
        proxy_api_port=classroom.free_port(), state=base / "hub", exchange=base / "exchange",
        instructor=f"{tag}-teach", group=tag, venv=Path(sys.prefix))
    k = Class(settings=settings, base=base, tag=tag)
    t0 = time.monotonic()
    try:
        k.group_made = classroom.ensure_group(settings.group)
        k.user("teach")
        k.students = {"right": k.user("ada"), "wrong": k.user("bob")}
        classroom.prepare_exchange(settings.exchange, settings.instructor)
        k.granted = classroom.grant_traversal(classroom.needed_paths(settings), settings.group)
        k.hub = classroom.start_hub(settings, base / "jupyterhub.log")
        print(f"class {tag}: hub at {settings.url} in {time.monotonic() - t0:.1f} s; "
              f"folders under {base}")
        yield k
    finally:
        _tear_down(k)


def _tear_down(k: Class) -> None:
    """Stop the hub (and with it every user's server and the proxy), then remove every user,
    the group, the ACL entries and the folders; report whatever could not be undone."""
    problems = []
    if k.hub is not None:
        try:
            k.hub.stop()
        except Exception as err:  # keep cleaning up; report at the end
            problems.append(f"stopping the hub: {err}")
        if k.hub.proc.poll() is None:
            problems.append("the hub is still running")
        # The hub's log (and every user's server's, which it carries) outlives the clean-up.
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(k.hub.log, SHOTS / "jupyterhub.log")
    uids = {classroom.pwd.getpwnam(u).pw_uid for u in k.users if classroom.user_exists(u)}
    for username in k.users:
        try:
            classroom.remove_user(username)
        except Exception as err:
            problems.append(f"removing {username}: {err}")
    classroom.revoke_traversal(k.granted, k.settings.group)
    for folder in k.granted:
        acl = subprocess.run(["getfacl", "--absolute-names", str(folder)],
                             capture_output=True, text=True).stdout
        if f"group:{k.settings.group}:" in acl:
            problems.append(f"{folder} still grants {k.settings.group}: {acl}")
    if k.group_made:
        try:
            classroom.remove_group(k.settings.group)
        except Exception as err:
            problems.append(f"removing group {k.settings.group}: {err}")
    shutil.rmtree(k.base, ignore_errors=True)
    left = [u for u in k.users if classroom.user_exists(u)]
    if left or k.base.exists():
        problems.append(f"left behind: users {left}, folder exists {k.base.exists()}")
    running = _processes(uids, f"CLASS_STATE={k.settings.state}")
    if running:
        problems.append(f"still running: {running}")
    assert not problems, "clean-up failed: " + "; ".join(problems)


def _processes(uids: set[int], marker: str) -> list[str]:
    """Processes owned by one of ``uids``, or with ``marker`` in their environment (the hub
    and the proxy it starts carry CLASS_STATE)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            status = (proc / "status").read_text()
            environ = (proc / "environ").read_bytes()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended while we looked
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        if uid in uids or marker.encode() in environ.split(b"\0"):
            found.append(f"{proc.name} (uid {uid}): {cmdline[:120]}")
    return found


@pytest.fixture(scope="module")
def browser():
    with bs.chromium(_skip_or_fail) as b:
        yield b


@pytest.fixture(scope="module")
def pages(browser, klass):
    """One browser context (its own cookies) and page per person, made on first use."""
    made: dict[str, object] = {}

    def page_for(username: str):
        if username not in made:
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(ui.UI_TIMEOUT_MS)
            made[username] = context.new_page()
        return made[username]

    yield page_for
    for page in made.values():
        page.context.close()


def _shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _notebook(home: Path) -> Path:
    found = sorted((home / ASSIGNMENT).glob(f"{NOTEBOOK}*.ipynb"))
    assert found, f"no {NOTEBOOK}.ipynb in {home / ASSIGNMENT}"
    return found[0]


def _scores(k: Class, student: str) -> tuple[float, float]:
    """(score, max) of ``student``'s ch02 in the instructor's gradebook, read as the
    instructor with nbgrader's API (the gradebook is theirs, mode 0644 in a 0700 home)."""
    code = ("import json; from nbgrader.api import Gradebook\n"
            f"with Gradebook('sqlite:///{k.course / 'gradebook.db'}') as gb:\n"
            f"    s = gb.find_submission('{ASSIGNMENT}', '{student}')\n"
            "    print(json.dumps([s.score, s.max_score]))")
    out = k.run_as(k.instructor, "python", "-c", code).stdout
    score, total = json.loads(out.strip().splitlines()[-1])
    return score, total


# ---------------------------------------------------------------------------------------------
# 1. release
# ---------------------------------------------------------------------------------------------


def test_instructor_releases_a_chapter_through_the_exchange(klass):
    k = klass
    k.run_as(k.instructor, "python", str(ROOT / "tools" / "assignments.py"), "generate",
             "--only", ASSIGNMENT, cwd=ROOT, env={"NBGRADER_COURSE_DIR": str(k.course)},
             timeout=600)
    result = k.instructor_nbgrader("release_assignment", ASSIGNMENT)
    assert f"Released as: activation-functions {ASSIGNMENT}" in result.stdout + result.stderr
    released = k.settings.exchange / classroom.COURSE_ID / "outbound" / ASSIGNMENT
    notebooks = sorted(p.name for p in released.glob("*.ipynb"))
    assert f"{NOTEBOOK}.ipynb" in notebooks, notebooks
    text = (released / f"{NOTEBOOK}.ipynb").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and SOLUTION_LINE not in text, (
        "the released student version still holds a solution")
    # The source, with solutions, stays in the instructor's 0700 home.
    assert SOLUTION_LINE in (k.course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
                                  ).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# 2. students in the browser
# ---------------------------------------------------------------------------------------------


def test_students_sign_up_and_wait_for_the_instructor(klass, pages):
    k = klass
    teacher = pages(k.instructor)
    # As `make class` does: the instructor's account is claimed before anyone can sign up,
    # so nobody else can register the admin's name (NativeAuthenticator authorizes it at once).
    password = classroom.claim_instructor_account(k.settings)
    assert len(password) >= 12, "the instructor's account was not created"
    message = ui.sign_up(pages("intruder").context, k.settings.url, k.instructor, PASSWORD)
    assert "already in use" in message, f"a second sign-up as the instructor: {message}"
    k.instructor_password = password
    for student in k.students.values():
        message = ui.sign_up(pages(student).context, k.settings.url, student, PASSWORD)
        assert "sent to the admin" in message, f"{student}: {message}"
    # Before the instructor says yes, a student's correct password does not let them in.
    waiting = pages(k.students["right"])
    ui.try_log_in(waiting, k.settings.url, k.students["right"], PASSWORD)
    waiting.locator("p.login_error").wait_for()
    body = waiting.locator("p.login_error").inner_text()
    assert "has not been authorized" in body, body[:500]

    ui.log_in(teacher, k.settings.url, k.instructor, k.instructor_password)
    for student in k.students.values():
        row = ui.authorize(teacher, k.settings.url, student)
        assert "Unauthorize" in row, row
    _shot(teacher, "instructor-authorization-area")


@pytest.mark.parametrize("who", ["right", "wrong"])
def test_student_fetches_answers_and_submits_in_the_browser(klass, pages, who):
    k = klass
    student = k.students[who]
    page = pages(student)
    t0 = time.monotonic()
    ui.log_in(page, k.settings.url, student, PASSWORD)
    ui.open_assignments_tab(page)
    assert "Fetch" in ui.released(page, ASSIGNMENT)
    ui.fetch(page, ASSIGNMENT)
    home = Path(f"/home/{student}")
    notebook = _notebook(home)
    assert notebook.stat().st_uid == os.stat(home).st_uid, "the fetched copy is not the student's"

    ui.open_fetched_notebook(page, ASSIGNMENT, NOTEBOOK)
    answers = RIGHT if who == "right" else PARTLY_WRONG
    marker = f"# answered in the browser by {student}"
    for start, text in answers.items():
        ui.replace_cell(page, start, text.replace("\n", f"  {marker}\n", 1))
    ui.save_and_wait(page, notebook, [marker, *(t.splitlines()[1].strip()
                                                 for t in answers.values())])
    _shot(page, f"student-{who}-notebook")

    k.submitted_at[who] = ui.submit(page, ASSIGNMENT)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ UTC", k.submitted_at[who]), (
        k.submitted_at[who])
    _shot(page, f"student-{who}-assignments-tab")
    print(f"{student}: log in, fetch, answer, submit in {time.monotonic() - t0:.1f} s")

    # The submission is in the exchange's inbound folder, under the student's own name.
    mine = [p for p in k.inbound.iterdir() if p.name.startswith(f"{student}+{ASSIGNMENT}+")]
    assert len(mine) == 1, [p.name for p in k.inbound.iterdir()]
    assert marker in (mine[0] / f"{NOTEBOOK}.ipynb").read_text(encoding="utf-8")
    assert (mine[0] / "timestamp.txt").read_text().strip() == k.submitted_at[who]


# ---------------------------------------------------------------------------------------------
# 3-5. collect, autograde, feedback, formgrader
# ---------------------------------------------------------------------------------------------


def test_instructor_collects_and_autogrades(klass):
    k = klass
    assert set(k.submitted_at) == {"right", "wrong"}, "the browser submissions did not happen"
    result = k.instructor_nbgrader("collect", ASSIGNMENT)
    for student in k.students.values():
        assert f"Collecting submission: {student} {ASSIGNMENT}" in result.stdout + result.stderr
    for who, student in k.students.items():
        collected = k.course / "submitted" / student / ASSIGNMENT
        assert (collected / "timestamp.txt").read_text().strip() == k.submitted_at[who]
    t0 = time.monotonic()
    result = k.instructor_nbgrader("autograde", ASSIGNMENT)
    print(f"autograde of two students: {time.monotonic() - t0:.1f} s")
    for who, student in k.students.items():
        assert _scores(k, student) == EXPECTED_SCORES[who], f"{who} student {student}"
        _assert_sandboxed(k, student)
    assert "[sandboxed grader]" in result.stdout + result.stderr


def _assert_sandboxed(k: Class, student: str) -> None:
    """The submission was graded by the sandboxed grader, run as the instructor (no root in a
    hub terminal): its report says so, and every check cell holds the grader's verdict."""
    report = json.loads((k.course / "grader_reports" / ASSIGNMENT / student /
                         f"{NOTEBOOK}.json").read_text(encoding="utf-8"))
    assert report["ending"] == "finished", report
    assert report["uid"] == classroom.pwd.getpwnam(k.instructor).pw_uid, report
    graded = json.loads(_notebook(k.course / "autograded" / student).read_text(
        encoding="utf-8"))
    for cell in graded["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell["cell_type"] == "code":
            kinds = [o["output_type"] for o in cell["outputs"]]
            assert kinds in (["stream"], ["error"]), (student, meta["grade_id"], kinds)


def test_students_fetch_their_feedback_in_the_browser(klass, pages):
    k = klass
    k.instructor_nbgrader("generate_feedback", ASSIGNMENT)
    k.instructor_nbgrader("release_feedback", ASSIGNMENT)
    for who, student in k.students.items():
        page = pages(student)
        shown = ui.fetch_feedback(page, ASSIGNMENT)
        assert k.submitted_at[who] in shown, shown
        _shot(page, f"student-{who}-feedback-fetched")
        folder = Path(f"/home/{student}") / ASSIGNMENT / "feedback" / k.submitted_at[who]
        html = (folder / f"{NOTEBOOK}.html").read_text(encoding="utf-8")
        got, total = EXPECTED_SCORES[who]
        # nbgrader's feedback page states the total as "Score: got / total".
        assert re.search(rf"Score:\s*{got:g}(\.0)?\s*/\s*{total:g}(\.0)?", html), (
            f"{student}'s feedback does not say {got:g} / {total:g}")
        assert f"answered in the browser by {student}" in html


def test_formgrader_lists_both_submissions_with_their_scores(klass, pages):
    k = klass
    page = pages(k.instructor)
    # Under JupyterHub without subdomains the hub forbids framing a user's server (CSP
    # frame-ancestors 'none'), so JupyterLab's Formgrader tab stays empty; nbgrader's
    # documentation has the instructor open the formgrader in a browser tab of its own.
    page.goto(f"{k.settings.url}/user/{k.instructor}/formgrader/manage_submissions/"
              f"{ASSIGNMENT}")
    table = page.locator("table")
    for student in k.students.values():
        table.locator("tr", has_text=student).wait_for()
    rows = {s: table.locator("tr", has_text=s).inner_text() for s in k.students.values()}
    _shot(page, "instructor-formgrader-submissions")
    for who, student in k.students.items():
        got, total = EXPECTED_SCORES[who]
        assert f"{got:g} / {total:g}" in rows[student], rows[student]


# ---------------------------------------------------------------------------------------------
# 6. load: twenty at once, and a resubmission
# ---------------------------------------------------------------------------------------------


def _fetch_and_mark(k: Class, student: str, marker: str) -> Path:
    """The student's copy of the released ch02, then a line only they would write in their
    answer to exercise 1. The copy is made as the student with ``cp`` from the exchange's
    outbound folder, which is all ``nbgrader fetch_assignment`` does (the browser students
    fetch with nbgrader; twenty more nbgrader start-ups would only add minutes of CPU)."""
    released = k.settings.exchange / classroom.COURSE_ID / "outbound" / ASSIGNMENT
    home = Path(f"/home/{student}")
    k.run_as(student, "cp", "-r", str(released), str(home / ASSIGNMENT))
    path = _notebook(home)
    _write_answer(path, marker)
    return path


def _write_answer(path: Path, marker: str) -> None:
    """Answer exercise 1 right, with ``marker`` as a comment (written as root into the
    student's own file: its owner and mode do not change)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "ch02-sigmoid-prime-answer":
            cell["source"] = RIGHT["def sigmoid_prime_from_output("] + f"# {marker}\n"
    path.write_text(json.dumps(nb), encoding="utf-8")


def _submitted_timestamp(result: subprocess.CompletedProcess) -> str:
    found = re.search(r"Submitted as: \S+ \S+ (.+ UTC)", result.stdout + result.stderr)
    assert found, f"nbgrader submit printed no timestamp:\n{result.stdout}{result.stderr}"
    return found.group(1).strip()


# Twenty interpreters at once on two cores: more than the suite's 600 s ceiling on a busy
# machine (about a minute on an idle one).
@pytest.mark.timeout(1500)
def test_twenty_students_submit_at_once_and_all_are_collected(klass):
    k = klass
    crowd = [k.user(f"s{i:02d}") for i in range(1, LOAD_STUDENTS + 1)]
    markers = {s: f"load submission of {s} {secrets.token_hex(4)}" for s in crowd}
    with ThreadPoolExecutor(max_workers=LOAD_STUDENTS) as pool:
        list(pool.map(lambda s: _fetch_and_mark(k, s, markers[s]), crowd))

    start = threading.Barrier(LOAD_STUDENTS)

    def submit(student: str) -> tuple[str, float]:
        start.wait()  # all twenty leave together
        t = time.monotonic()
        # A generous limit: twenty interpreters start at once on two (shared) cores.
        result = k.run_as(student, "nbgrader", "submit", ASSIGNMENT, timeout=900)
        return _submitted_timestamp(result), time.monotonic() - t

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=LOAD_STUDENTS) as pool:
        outcome = dict(zip(crowd, pool.map(submit, crowd)))
    wall = time.monotonic() - t0
    stamps = {s: ts for s, (ts, _) in outcome.items()}
    slowest = max(d for _, d in outcome.values())
    assert len(set(stamps.values())) == LOAD_STUDENTS, f"timestamps collide: {stamps}"

    t1 = time.monotonic()
    result = k.instructor_nbgrader("collect", ASSIGNMENT)
    collect_s = time.monotonic() - t1
    print(f"\n{LOAD_STUDENTS} students submitting at once: {wall:.1f} s wall clock for all "
          f"(slowest single submit {slowest:.1f} s); collecting them: {collect_s:.1f} s")
    crossed, lost = [], []
    for student in crowd:
        folder = k.course / "submitted" / student / ASSIGNMENT
        if not folder.is_dir():
            lost.append(student)
            continue
        text = (folder / f"{NOTEBOOK}.ipynb").read_text(encoding="utf-8")
        others = [s for s in crowd if s != student and markers[s] in text]
        if markers[student] not in text or others:
            own = "present" if markers[student] in text else "MISSING"
            crossed.append(f"{student}: own marker {own}, others' markers {others}")
        assert (folder / "timestamp.txt").read_text().strip() == stamps[student], student
    assert not lost, f"not collected: {lost}\n{result.stdout}{result.stderr}"
    assert not crossed, "submissions crossed:\n" + "\n".join(crossed)


def test_a_resubmission_replaces_the_first_one(klass):
    k = klass
    student = f"{k.tag}-s01"
    first = (k.course / "submitted" / student / ASSIGNMENT / "timestamp.txt").read_text().strip()
    path = _notebook(Path(f"/home/{student}"))
    _write_answer(path, f"second attempt of {student}")
    second = _submitted_timestamp(k.run_as(student, "nbgrader", "submit", ASSIGNMENT))
    assert second > first, (first, second)  # same format, so text order is time order

    # Both attempts sit in the exchange; the instructor's collect takes the latest.
    attempts = sorted(p.name for p in k.inbound.iterdir()
                      if p.name.startswith(f"{student}+{ASSIGNMENT}+"))
    assert len(attempts) == 2, attempts
    result = k.instructor_nbgrader("collect", "--update", ASSIGNMENT)
    folder = k.course / "submitted" / student / ASSIGNMENT
    assert (folder / "timestamp.txt").read_text().strip() == second, result.stdout
    text = (folder / f"{NOTEBOOK}.ipynb").read_text(encoding="utf-8")
    assert f"second attempt of {student}" in text and "load submission of" not in text


@pytest.mark.timeout(1500)
def test_the_class_of_twenty_is_autograded_in_the_sandbox(klass):
    """Everyone collected, graded in one `nbgrader autograde` run as the instructor: each of
    the twenty answered exercise 1 right (1 of 3), each in a sandbox of its own."""
    k = klass
    crowd = [f"{k.tag}-s{i:02d}" for i in range(1, LOAD_STUDENTS + 1)]
    t0 = time.monotonic()
    # About 10 s a notebook on an idle 2-core machine; several times that on a busy one.
    k.run_as(k.instructor, "nbgrader", "autograde", ASSIGNMENT, cwd=k.course, timeout=1400)
    wall = time.monotonic() - t0
    print(f"\nautograde of {len(crowd)} submissions (and the two graded before, skipped): "
          f"{wall:.1f} s, {wall / len(crowd):.1f} s a submission")
    wrong = {s: got for s in crowd if (got := _scores(k, s)) != (1.0, 3.0)}
    assert not wrong, f"scores other than 1 / 3: {wrong}"
    for student in crowd:
        _assert_sandboxed(k, student)


# ---------------------------------------------------------------------------------------------
# 7. faults: a notebook that does not parse, a deleted check cell
# ---------------------------------------------------------------------------------------------


def test_broken_submissions_are_noted_and_the_run_goes_on(klass):
    k = klass
    not_json, no_check = k.user("fault-json"), k.user("fault-cell")
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda s: k.run_as(s, "nbgrader", "fetch_assignment", ASSIGNMENT),
                      (not_json, no_check)))
    # A notebook cut off mid-save: not JSON at all.
    _notebook(Path(f"/home/{not_json}")).write_text('{"cells": [{"cell_type": "code", "sou')
    # Exercise 1 answered right, then its check cell deleted (as a student might by mistake).
    path = _notebook(Path(f"/home/{no_check}"))
    _write_answer(path, f"answer of {no_check}")
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")
                   != "ch02-sigmoid-prime-check"]
    path.write_text(json.dumps(nb), encoding="utf-8")
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda s: k.run_as(s, "nbgrader", "submit", ASSIGNMENT),
                      (not_json, no_check)))

    k.instructor_nbgrader("collect", ASSIGNMENT)
    for student in (not_json, no_check):
        assert (k.course / "submitted" / student / ASSIGNMENT).is_dir(), f"{student} lost"
    # One autograde run over both: nbgrader reports the broken one and grades the other.
    result = k.instructor_nbgrader("autograde", ASSIGNMENT, f"--student={k.tag}-fault-*",
                                   check=False)
    log = result.stdout + result.stderr
    print(f"autograde of the two broken submissions exited {result.returncode}; its notes:\n"
          + "\n".join(ln for ln in log.splitlines() if "ERROR" in ln or "Missing grade" in ln))
    assert result.returncode == 1, f"nbgrader autograde exited {result.returncode}:\n{log}"
    assert f"There was an error processing assignment '{ASSIGNMENT}' for student '{not_json}'" \
        in log, log[-3000:]
    assert "Notebook does not appear to be JSON" in log, log[-3000:]
    assert not (k.course / "autograded" / not_json / ASSIGNMENT).exists()
    # The deleted check was put back (OverwriteCells.add_missing_cells in deploy/jupyter) and
    # ran on the student's right answer: 1 point, with a note in the cell.
    assert "Missing grade cell ch02-sigmoid-prime-check" in log, log[-3000:]
    assert _scores(k, no_check) == (1.0, 3.0)
    graded = _notebook(k.course / "autograded" / no_check)
    assert "was missing from the submission" in graded.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# 8. what a student may touch
# ---------------------------------------------------------------------------------------------

PROBE = r"""
import json, os, sys
def attempt(what, f):
    try:
        f()
        return "allowed"
    except PermissionError:
        return "denied"
    except OSError as err:
        return f"error {err.errno}"
tries = json.loads(sys.argv[1])
out = {}
for name, (op, path, *rest) in tries.items():
    if op == "list":
        out[name] = attempt(name, lambda: os.listdir(path))
    elif op == "read":
        out[name] = attempt(name, lambda: open(path, "rb").read(1))
    elif op == "write":
        out[name] = attempt(name, lambda: open(path, "a").close())
    elif op == "rename":
        out[name] = attempt(name, lambda: os.rename(path, rest[0]))
print(json.dumps(out))
"""


def test_a_student_cannot_reach_other_submissions_or_the_solutions(klass):
    k = klass
    ada, bob = k.students["right"], k.students["wrong"]
    ada_sub = next(p for p in k.inbound.iterdir() if p.name.startswith(f"{ada}+"))
    ada_home = Path(f"/home/{ada}")
    source = k.course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    feedback = k.settings.exchange / classroom.COURSE_ID / "feedback"
    outbound = k.settings.exchange / classroom.COURSE_ID / "outbound" / ASSIGNMENT
    tries = {
        "list the inbound folder": ["list", str(k.inbound)],
        "list the feedback folder": ["list", str(feedback)],
        "read the instructor's source (solutions)": ["read", str(source)],
        "list the instructor's course folder": ["list", str(k.course)],
        "read the instructor's gradebook": ["read", str(k.course / "gradebook.db")],
        "read ada's notebook in her home": ["read", str(_notebook(ada_home))],
        "list ada's submission cache": ["list", str(ada_home / ".local")],
        "rename ada's submission in inbound": ["rename", str(ada_sub), str(ada_sub) + "-x"],
        "rename the course folder in the exchange": [
            "rename", str(k.settings.exchange / classroom.COURSE_ID),
            str(k.settings.exchange / "taken")],
        "write into the released assignment": ["write", str(outbound / f"{NOTEBOOK}.ipynb")],
        # Controls: what a student must be able to do.
        "read the released assignment": ["read", str(outbound / f"{NOTEBOOK}.ipynb")],
        "read own notebook": ["read", str(_notebook(Path(f"/home/{bob}")))],
    }
    result = k.run_as(bob, "python", "-c", PROBE, json.dumps(tries))
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {name: "denied" for name in tries}
    expected["read the released assignment"] = "allowed"
    expected["read own notebook"] = "allowed"
    wrong = {n: seen[n] for n in tries if seen[n] != expected[n]}
    assert not wrong, f"{bob} could or could not do (expected the opposite): {wrong}"
    # nbgrader makes a submission's files world-readable (0644) and hides them behind an
    # unlistable inbound folder and a random suffix in the name: 12 characters, 72 bits.
    suffix = ada_sub.name.rsplit("+", 1)[1]
    assert len(suffix) >= 12, ada_sub.name
    assert ada_sub.exists(), "the rename attempt must not have moved ada's submission"
