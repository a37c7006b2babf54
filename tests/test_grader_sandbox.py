"""The grader's sandbox itself (tools/grader/sandbox.py), on small notebooks.

What a notebook can see and do inside: the course installation read-only and nothing else of
the machine (not the course folder with gradebook.db and source/, not the repository's
solutions, not the instructor's home, not the grader), no network, a user of its own; and the
limits: an endless loop, a fork bomb and a memory hog are stopped and named, a dead kernel is
named, and nothing of the sandbox outlives it. Only regular files with safe names come back
from the outbox.
"""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
from grader_support import (
    ROOT,
    cmdline,
    notebook,
    processes,
    require_sandbox,
    sandbox_processes,
    texts,
)

from tools.grader import sandbox

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _sandbox_available():
    require_sandbox()


def run(source: bytes, tmp_path, **limits) -> sandbox.Outcome:
    run_dir = sandbox.new_run_dir()
    inbox = run_dir / "inbox"
    inbox.mkdir(mode=0o755)
    try:
        outcome = sandbox.run(source, "probe.ipynb", inbox, run_dir,
                              sandbox.Limits(**{"seconds": 120.0, **limits}))
        if outcome.outbox is not None:  # keep what came out past the run folder's removal
            kept = tmp_path / "outbox"
            kept.mkdir()
            for path in outcome.outbox.iterdir():
                (kept / path.name).write_bytes(path.read_bytes())
            outcome.outbox = kept
        return outcome
    finally:
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)


PROBE = r"""
import json, os, resource, socket
def attempt(f):
    try:
        f()
        return "allowed"
    except Exception as err:
        return type(err).__name__
def write(path, size=1):
    with open(path, "wb") as f:
        f.write(b"x" * size)
paths = json.loads(PATHS)
seen = {name: attempt(lambda p=p: open(p, "rb").read(1)) for name, p in paths["read"].items()}
seen.update({name: attempt(lambda p=p: os.listdir(p)) for name, p in paths["list"].items()})
seen.update({name: attempt(lambda p=p: write(p)) for name, p in paths["write"].items()})
seen["the internet"] = attempt(lambda: socket.create_connection(("1.1.1.1", 80), timeout=5))
seen["a server on the host's loopback"] = attempt(
    lambda: socket.create_connection(("127.0.0.1", HOST_PORT), timeout=5))
seen["import the grader"] = attempt(lambda: __import__("tools.grader"))
seen["a file over the size limit"] = attempt(lambda: write("/tmp/big", 70 * 2**20))
status = dict(ln.split(":", 1) for ln in open("/proc/self/status").read().splitlines())
print(json.dumps({"seen": seen, "uid": int(status["Uid"].split()[0]),
                  "no_new_privs": status["NoNewPrivs"].strip(),
                  "capabilities": status["CapEff"].strip(),
                  "repository": sorted(os.listdir(REPO)), "root": sorted(os.listdir("/")),
                  "work": sorted(os.listdir(".")), "pids": len([p for p in os.listdir("/proc")
                                                                 if p.isdigit()]),
                  "limits": {k: resource.getrlimit(getattr(resource, k))[1] for k in (
                      "RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE")},
                  "inbox": os.environ.get("AFC_GRADING_INBOX"),
                  "home": os.listdir(HOME) if os.path.isdir(HOME) else None}))
"""


def test_a_notebook_sees_the_course_read_only_and_nothing_else(tmp_path):
    # A course folder as the instructor has it, and a server on the host's loopback.
    course = tmp_path / "course"
    (course / "source" / "ch02").mkdir(parents=True)
    (course / "source" / "ch02" / "02.ipynb").write_text("solutions")
    (course / "gradebook.db").write_text("grades")
    (course / "submitted" / "other").mkdir(parents=True)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    venv = ROOT / ".venv" if (ROOT / ".venv").is_dir() else None
    paths = {
        "read": {"the gradebook": str(course / "gradebook.db"),
                 "the source (solutions)": str(course / "source" / "ch02" / "02.ipynb"),
                 "the repository's solutions": str(next((ROOT / "notebooks").glob("02_*"))),
                 "the grader's code": str(ROOT / "tools" / "grader" / "sandbox.py"),
                 "the course package": str(ROOT / "helpers" / "__init__.py")},
        "list": {"other students' folders": str(course / "submitted")},
        "write": {"the course package (write)": str(ROOT / "helpers" / "planted.py"),
                  "the gradebook (write)": str(course / "gradebook.db"),
                  "the sandbox's root (write)": "/planted",
                  "its own /tmp (write)": "/tmp/scratch"},
    }
    if venv is not None:
        paths["write"]["the venv (write)"] = str(venv / "planted.py")
    cell = (f"PATHS = {json.dumps(json.dumps(paths))}\nHOST_PORT = "
            f"{server.getsockname()[1]}\nREPO = {str(ROOT)!r}\n"
            f"HOME = {os.path.expanduser('~')!r}\n" + PROBE)
    try:
        outcome = run(notebook(cell), tmp_path)
    finally:
        server.close()
    assert outcome.ending == "finished", (outcome.reason, outcome.log)
    report = json.loads(texts(outcome.notebook)[-1])
    seen = report["seen"]
    denied = {name: how for name, how in seen.items() if how == "allowed"
              and name not in ("the course package", "its own /tmp (write)")}
    assert not denied, f"a notebook in the sandbox could do: {denied}"
    assert seen["the course package"] == "allowed"
    assert seen["its own /tmp (write)"] == "allowed"
    for name in ("the gradebook", "the source (solutions)", "the repository's solutions",
                 "the grader's code", "other students' folders"):
        assert seen[name] == "FileNotFoundError", (name, seen[name])
    for name in ("the course package (write)", "the sandbox's root (write)", "the gradebook "
                 "(write)"):
        assert seen[name] in ("OSError", "FileNotFoundError", "PermissionError"), name
    assert seen["the internet"] == "OSError"             # ENETUNREACH: no route at all
    assert seen["a server on the host's loopback"] == "ConnectionRefusedError"
    assert seen["import the grader"] == "ModuleNotFoundError"
    assert seen["a file over the size limit"] == "OSError"   # EFBIG (RLIMIT_FSIZE)
    # Of the repository only the course package and the venv are there; the work folder holds
    # the notebook alone; the sandbox sees its own processes only.
    assert set(report["repository"]) <= {"helpers", ".venv"}, report["repository"]
    assert report["work"] == ["probe.ipynb"]
    assert report["pids"] <= 6, report["pids"]
    assert report["inbox"] == sandbox.INBOX
    # The instructor's home is there only as the way to the course's Python, when that is
    # under it (pyenv's, under /root): nothing else of it.
    assert report["home"] is None or set(report["home"]) <= {".pyenv"}, report["home"]
    expected_uid = sandbox.SANDBOX_ID if os.geteuid() == 0 else os.getuid()
    assert report["uid"] == expected_uid
    assert report["no_new_privs"] == "1" and int(report["capabilities"], 16) == 0
    limits = sandbox.Limits()
    assert report["limits"]["RLIMIT_AS"] == limits.address_space
    assert report["limits"]["RLIMIT_FSIZE"] == limits.file_size
    assert report["limits"]["RLIMIT_NPROC"] >= limits.tasks
    assert not sandbox_processes()


def _host_view(marker: str) -> dict[int, dict[str, str]]:
    """From outside: the status of each process (bubblewrap's own aside) whose command line
    holds ``marker``, and of its children."""
    every = processes()
    found = {pid: st for pid, st in every.items()
             if marker.encode() in cmdline(pid) and st.get("Name") != "bwrap"}
    found.update({pid: st for pid, st in every.items() if int(st.get("PPid", 0)) in found})
    return found


def test_seen_from_outside_the_sandbox_runs_as_an_unprivileged_user(tmp_path):
    import threading

    done = {}
    worker = threading.Thread(target=lambda: done.setdefault(
        "outcome", run(notebook("import time\ntime.sleep(20)"), tmp_path)))
    worker.start()
    seen: dict[int, dict[str, str]] = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and worker.is_alive():
        seen = _host_view(sandbox.RUNNER)
        if len(seen) >= 2:  # the runner and the kernel it started
            break
        time.sleep(0.5)
    worker.join()
    assert done["outcome"].finished, done["outcome"].reason
    assert len(seen) >= 2, f"the runner and its kernel were not seen from outside: {seen}"
    expected = sandbox.SANDBOX_ID if os.geteuid() == 0 else os.getuid()
    for pid, status in seen.items():
        uids = {int(u) for u in status["Uid"].split()}
        gids = {int(g) for g in status["Gid"].split()}
        assert uids == {expected} and (os.geteuid() != 0 or gids == {expected}), (pid, status)
        assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0, (pid, status)
        assert status["Groups"].split() in ([], [str(expected)]), (pid, status["Groups"])


FORK_BOMB = """import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
MEMORY_HOG = """blocks = []
while True:
    blocks.append(b"x" * (32 * 2**20))
"""


@pytest.mark.parametrize("name, cells, limits, ending, words", [
    ("endless loop", ["print('started')", "while True:\n    pass"], {"seconds": 25.0},
     "timeout", "did not finish within 25 s"),
    ("fork bomb", [FORK_BOMB], {"tasks": 64}, "tasks", "64 processes and threads"),
    ("memory hog", [MEMORY_HOG], {"memory": 600 * 2**20}, "memory", "more than 600 MB"),
    ("kernel killed", ["import os\nos.kill(os.getpid(), 9)", "print('never')"], {},
     "kernel-died", "kernel died"),
], ids=["endless-loop", "fork-bomb", "memory-hog", "kernel-killed"])
def test_a_runaway_notebook_is_stopped_and_named(tmp_path, name, cells, limits, ending, words):
    t0 = time.monotonic()
    outcome = run(notebook(*cells), tmp_path, **limits)
    took = time.monotonic() - t0
    assert outcome.ending == ending, (name, outcome.ending, outcome.reason, outcome.log[-2000:])
    assert words in outcome.reason, outcome.reason
    assert took < limits.get("seconds", 120.0) + 30, f"{name} took {took:.0f} s to stop"
    # The whole sandbox is gone: its pid namespace died with it.
    deadline = time.monotonic() + 10
    while sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not sandbox_processes()


def test_an_allocation_over_the_address_space_limit_fails_in_the_kernel(tmp_path):
    outcome = run(notebook("x = bytearray(8 * 2**30)", "print('still running')"), tmp_path)
    assert outcome.finished, outcome.reason
    said = texts(outcome.notebook)
    assert said[0].startswith("MemoryError"), said
    assert said[1] == "still running\n"


OUTBOX = r"""import os
box = os.environ["AFC_GRADING_OUTBOX"]
open(os.path.join(box, "ch02-good.json"), "w").write('{"ok": 1}')
os.symlink("/etc/passwd", os.path.join(box, "ch02-link.json"))
open(os.path.join(box, "bad name.json"), "w").write("x")
os.mkdir(os.path.join(box, "folder"))
print(sorted(os.listdir(box)))
"""


def test_only_regular_files_with_safe_names_come_back_from_the_outbox(tmp_path):
    outcome = run(notebook(OUTBOX), tmp_path)
    assert outcome.finished, outcome.reason
    assert sorted(p.name for p in outcome.outbox.iterdir()) == ["ch02-good.json"]
    assert (outcome.outbox / "ch02-good.json").read_text() == '{"ok": 1}'


def test_results_over_the_size_limit_are_not_read(tmp_path):
    big = ("import os\nopen(os.path.join(os.environ['AFC_GRADING_OUTBOX'], 'ch02-big.npy'), "
           "'wb').write(b'x' * 3_000_000)")
    outcome = run(notebook(big), tmp_path, outbox=1_000_000)
    assert outcome.ending == "no-results", outcome.ending
    assert outcome.outbox is None
