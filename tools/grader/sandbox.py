"""The sandbox: one notebook executed by bubblewrap, as an unprivileged user, within limits.

Each notebook runs in a fresh sandbox (:func:`run`); the kernel and the client that executes
it (nbclient, ``inside.py``) are both inside. The command line (:func:`command`) is:

- **who**: as root, ``setpriv`` drops to a dedicated uid and gid (``SANDBOX_ID``, no account
  and no other process uses them; no supplementary groups, no new privileges) *before*
  ``bwrap``, which then runs unprivileged in a user namespace (``bwrap --uid`` alone, run as
  root, would leave the process root outside the namespace). Run as anyone else (the
  classroom's instructor), ``bwrap`` runs unprivileged as that user.
- **namespaces**: ``--unshare-all`` (user, pid, network: only a loopback inside, which the
  kernel's ZMQ sockets use; ipc, uts, cgroup), ``--disable-userns`` (no namespace games
  inside), ``--die-with-parent``, ``--new-session`` (no terminal to inject keystrokes into).
- **files**: a new ``/proc`` and ``/dev``; ``/usr`` and a few ``/etc`` files (fonts, the
  loader cache, the time zone) read-only, and an ``/etc/passwd`` naming only the sandbox's
  user; the course installation read-only at its real paths: the venv, the base Python it
  links to, and the repository's ``helpers/`` folder alone (the venv's editable install points
  there; the rest of the repository, ``tools/`` with this grader included, is not there);
  matplotlib's font cache (``fontcache``), read-only; the inbox, read-only. Writable, all
  tmpfs of a bounded size: ``/tmp``, ``/dev/shm``, the home, the work folder holding a copy
  of the notebook (nothing else a student submitted), and the outbox. ``/`` and ``/dev``
  are remounted read-only.
- **limits** (:class:`Limits`): ``prlimit`` sets the address space of each process
  (RLIMIT_AS), the processes and threads of the sandbox's user (RLIMIT_NPROC), the size of a
  file (RLIMIT_FSIZE) and no core dumps; a watchdog here kills the whole sandbox (SIGKILL to
  ``bwrap``: its pid namespace dies with it) at the wall-time limit, when the resident memory
  of all its processes together passes the memory limit, or when its processes and threads
  reach the task limit.

As root, the sources of the read-only binds may sit below folders the sandbox's user cannot
traverse (pyenv's Python under ``/root``, 0700): they are first bind-mounted by root onto a
staging folder in a private mount namespace (``unshare --mount``), and ``bwrap`` binds them
from there. Nothing on the machine changes (no ACL, no account).

Only the results pipe comes out (``channel``): the runner's status, the executed notebook and
the outbox files, read with a size limit and treated as untrusted data.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import channel, fontcache

__all__ = ["Limits", "Outcome", "SandboxUnavailable", "command", "run"]

MiB = 1024**2
GiB = 1024**3
SANDBOX_ID = 70_000          # uid and gid a root grader drops to (no account uses them)
INSIDE = Path(__file__).with_name("inside.py")
HOME = "/home/grader"
WORK = f"{HOME}/work"
INBOX = "/grader/inbox"
OUTBOX = "/grader/outbox"
RUNNER = "/grader/inside.py"
ETC = ("/etc/fonts", "/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf")
# Each poll of the watchdog reads /proc; 0.2 s keeps a fork bomb or a memory hog short.
POLL = 0.2
STAGE_SCRIPT = """set -e
n=$1; shift
while [ "$n" -gt 0 ]; do mount --bind "$1" "$2"; shift 2; n=$((n - 1)); done
exec "$@"
"""


class SandboxUnavailable(RuntimeError):
    """A tool the sandbox needs is missing, or the sandbox cannot start here."""


@dataclass
class Limits:
    """Per notebook. Honest chapters use a fraction of each: about 10 s, 350 MB resident
    (chapter 7 with PyTorch), 1.7 GB of address space (PyTorch's mappings) and 16 threads."""

    seconds: float = 600.0
    memory: int = 3 * GiB            # resident memory of all the sandbox's processes together
    address_space: int = 6 * GiB     # RLIMIT_AS, per process
    tasks: int = 128                 # processes and threads (RLIMIT_NPROC)
    file_size: int = 64 * MiB        # RLIMIT_FSIZE
    disk: int = 256 * MiB            # each writable tmpfs
    notebook: int = 64 * MiB         # the executed notebook read back
    outbox: int = 256 * MiB          # the outbox read back

    def soft_seconds(self) -> float:
        """The runner's own deadline: it stops, and still reports, a little before the kill."""
        return max(1.0, self.seconds - min(15.0, 0.1 * self.seconds))


@dataclass
class Outcome:
    """How one sandboxed run ended, and what came out of it (untrusted)."""

    ending: str            # finished, timeout, memory, tasks, kernel-died, crashed, no-results
    reason: str            # a sentence for the instructor and the student; "" when finished
    notebook: bytes = b""
    outbox: Path | None = None
    cell: int | None = None          # the cell running when it stopped, as the runner says
    uid: int = -1                    # the user the sandbox ran as
    seconds: float = 0.0
    peak_memory: int = 0
    peak_tasks: int = 0
    log: str = ""                    # the tail of the sandbox's stdout and stderr

    @property
    def finished(self) -> bool:
        return self.ending == "finished"


@dataclass
class Mount:
    """A read-only bind: ``source`` on the host, ``target`` inside (the same path, mostly)."""

    source: Path
    target: str


@dataclass
class Plan:
    """Everything :func:`command` needs for one run."""

    python: Path                     # the venv's interpreter (inside and outside alike)
    mounts: list[Mount]              # read-only, at their real paths
    fontlist: Path
    inbox: Path
    notebook_name: str
    limits: Limits
    uid: int
    gid: int
    fds: dict[str, int] = field(default_factory=dict)   # runner, notebook, passwd, group, results


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def course_mounts() -> tuple[Path, list[Mount]]:
    """The course's Python and package: the venv, the base interpreter it links to, and the
    ``helpers`` folder (only when it lives outside the venv, as with an editable install)."""
    venv = Path(sys.prefix)
    python = venv / "bin" / "python"
    places = [venv, Path(sys.base_prefix)]
    spec = importlib.util.find_spec("helpers")
    if spec is None or not spec.submodule_search_locations:
        raise SandboxUnavailable("the course's helpers package is not installed in this Python")
    helpers = Path(list(spec.submodule_search_locations)[0])
    places.append(helpers)
    mounts: list[Mount] = []
    for place in places:
        if _under(place, Path("/usr")) or any(_under(place, Path(m.target)) for m in mounts):
            continue
        mounts.append(Mount(Path(os.path.realpath(place)), str(place)))
    return python, mounts


def _passwd(uid: int, gid: int) -> tuple[bytes, bytes]:
    return (f"grader:x:{uid}:{gid}:grader:{HOME}:/usr/sbin/nologin\n".encode(),
            f"grader:x:{gid}:\n".encode())


def command(plan: Plan, staged: dict[str, str] | None = None) -> list[str]:
    """The ``prlimit ... bwrap ...`` command line (``staged``: host sources replaced by their
    staging paths, as root)."""
    staged = staged or {}
    lim = plan.limits

    def src(path: Path) -> str:
        return staged.get(str(path), str(path))

    bwrap = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns",
             "--die-with-parent", "--new-session", "--hostname", "grader",
             "--proc", "/proc", "--dev", "/dev",
             "--size", str(lim.disk), "--tmpfs", "/dev/shm",
             "--size", str(lim.disk), "--tmpfs", "/tmp",
             "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink(f"/{name}"):
            bwrap += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
        elif os.path.isdir(f"/{name}"):
            bwrap += ["--ro-bind", f"/{name}", f"/{name}"]
    for path in ETC:
        bwrap += ["--ro-bind-try", path, path]
    bwrap += ["--ro-bind-data", str(plan.fds["passwd"]), "/etc/passwd",
              "--ro-bind-data", str(plan.fds["group"]), "/etc/group"]
    for m in plan.mounts:
        bwrap += ["--ro-bind", src(m.source), m.target]
    mpl = f"{HOME}/.config/matplotlib"
    bwrap += ["--size", str(lim.disk), "--tmpfs", HOME,
              "--size", str(lim.disk), "--tmpfs", WORK,
              "--file", str(plan.fds["notebook"]), f"{WORK}/{plan.notebook_name}",
              "--ro-bind", src(plan.fontlist), f"{mpl}/{plan.fontlist.name}",
              "--ro-bind", src(plan.inbox), INBOX,
              "--size", str(lim.disk), "--tmpfs", OUTBOX,
              "--ro-bind-data", str(plan.fds["runner"]), RUNNER,
              "--remount-ro", "/dev", "--remount-ro", "/",
              "--chdir", WORK, "--clearenv"]
    env = {
        "PATH": f"{plan.python.parent}:/usr/bin:/bin", "HOME": HOME, "USER": "grader",
        "LOGNAME": "grader", "LANG": "C.UTF-8", "TMPDIR": "/tmp", "MPLCONFIGDIR": mpl,
        "JUPYTER_PLATFORM_DIRS": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # Threads count against the task limit: the numerical libraries would otherwise start
        # one per core of the grading machine.
        "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2",
        # As nbgrader's own autograde sets it; the grading protocol of helpers.exercises._spec:
        "NBGRADER_EXECUTION": "autograde", "AFC_GRADING_INBOX": INBOX,
        "AFC_GRADING_OUTBOX": OUTBOX,
        "AFC_SANDBOX_RUN": json.dumps({
            "seconds": lim.soft_seconds(), "notebook": f"{WORK}/{plan.notebook_name}",
            "outbox": OUTBOX, "max_file": lim.file_size, "results_fd": plan.fds["results"]}),
    }
    for key, value in env.items():
        bwrap += ["--setenv", key, value]
    bwrap += ["--", str(plan.python), "-I", RUNNER]
    limits = ["prlimit", f"--as={lim.address_space}", f"--nproc={_nproc(plan.uid, lim)}",
              f"--fsize={lim.file_size}", "--core=0", "--"]
    return limits + bwrap


def _tasks_of(uid: int) -> int:
    """Processes and threads that ``uid`` runs now (RLIMIT_NPROC counts them all)."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return count


def _nproc(uid: int, lim: Limits) -> int:
    """RLIMIT_NPROC counts every task of the user: the sandbox gets ``lim.tasks`` on top of
    what the user runs already (for root's dedicated uid, nothing)."""
    return lim.tasks + _tasks_of(uid)


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)   # inheritable by default: bwrap reads it
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        hint = {"bwrap": "bubblewrap", "setpriv": "util-linux", "prlimit": "util-linux",
                "unshare": "util-linux", "mount": "mount"}
        raise SandboxUnavailable(
            f"{', '.join(missing)} not found: the grader runs every notebook in a bubblewrap "
            "sandbox; install it (apt-get install "
            f"{' '.join(sorted({hint.get(t, t) for t in missing}))})")


def _stage(plan: Plan, run_dir: Path) -> tuple[list[str], dict[str, str]]:
    """As root: the ``unshare ... sh`` prefix that bind-mounts every host source onto a
    staging path the sandbox's user can reach, and the source -> staging path map."""
    stage = run_dir / "stage"
    stage.mkdir(mode=0o711)
    sources = [m.source for m in plan.mounts] + [plan.fontlist, plan.inbox]
    staged, pairs = {}, []
    for i, source in enumerate(sources):
        target = stage / str(i)
        if source.is_dir():
            target.mkdir(mode=0o755)
        else:
            target.touch(mode=0o644)
        staged[str(source)] = str(target)
        pairs += [str(source), str(target)]
    prefix = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
              STAGE_SCRIPT, "sh", str(len(sources)), *pairs,
              "setpriv", f"--reuid={plan.uid}", f"--regid={plan.gid}", "--clear-groups",
              "--no-new-privs", "--"]
    return prefix, staged


class _Drain(threading.Thread):
    """Reads a pipe to its end in the background, keeping at most ``limit`` bytes (the head,
    or the tail), so a flood from the sandbox neither blocks it nor fills the grader's memory."""

    def __init__(self, fd: int, limit: int, keep: str = "head"):
        super().__init__(daemon=True)
        self.fd, self.limit, self.keep = fd, limit, keep
        self.data = bytearray()
        self.overflow = False

    def run(self) -> None:
        with os.fdopen(self.fd, "rb", buffering=0) as f:
            while chunk := f.read(1 << 16):
                if self.keep == "tail":
                    self.data += chunk
                    del self.data[:-self.limit]
                elif len(self.data) < self.limit:
                    self.data += chunk[:self.limit - len(self.data)]
                else:
                    self.overflow = True


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _usage(root: int) -> tuple[int, int, list[int]]:
    """(tasks, resident bytes) of ``root`` and every process below it, and their pids."""
    tasks = rss = 0
    pids = _descendants(root)
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("Threads:"):
                        tasks += int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        rss += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return tasks, rss, pids


def _proportional(pids: list[int]) -> int:
    """Resident memory with shared pages counted once (PSS): a fork shares its parent's."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError):
            continue
    return total


def _reasons(lim: Limits) -> dict[str, str]:
    return {
        "timeout": f"the notebook did not finish within {lim.seconds:g} s (an endless loop, or "
                   "a cell that waits for ever), so the grader stopped it",
        "memory": f"the notebook used more than {lim.memory / MiB:.0f} MB of memory, so the "
                  "grader stopped it",
        "tasks": f"the notebook started {lim.tasks} processes and threads, the limit (a fork "
                 "bomb?), so the grader stopped it",
        "kernel-died": "the notebook's kernel died (it crashed, or ran out of memory)",
        "crashed": "the notebook could not be run to the end in the sandbox",
        "no-results": "no results came back from the sandbox (the run was cut short, or its "
                      "results were damaged)",
    }


def run(notebook: bytes, notebook_name: str, inbox: Path, run_dir: Path,
        limits: Limits | None = None) -> Outcome:
    """Execute ``notebook`` (its JSON) in a fresh sandbox with ``inbox`` as the grading inbox;
    ``run_dir`` is an empty folder of the grader's for this run (the outbox lands there).

    Raises SandboxUnavailable when the sandbox cannot be made at all; anything the notebook
    does (an endless loop, a fork bomb, a dead kernel) is an :class:`Outcome`."""
    lim = limits or Limits()
    root = os.geteuid() == 0
    _require("bwrap", "prlimit", *(["setpriv", "unshare", "mount"] if root else []))
    python, mounts = course_mounts()
    uid, gid = (SANDBOX_ID, SANDBOX_ID) if root else (os.getuid(), os.getgid())
    passwd, group = _passwd(uid, gid)
    plan = Plan(python=python, mounts=mounts, fontlist=fontcache.fontlist(python), inbox=inbox,
                notebook_name=notebook_name, limits=lim, uid=uid, gid=gid)
    results_read, results_write = os.pipe()
    log_read, log_write = os.pipe()
    plan.fds = {"runner": _memfd("runner", INSIDE.read_bytes()),
                "notebook": _memfd("notebook", notebook),
                "passwd": _memfd("passwd", passwd), "group": _memfd("group", group),
                "results": results_write}
    prefix, staged = _stage(plan, run_dir) if root else ([], {})
    cmd = prefix + command(plan, staged)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log_write, stderr=log_write,
            pass_fds=list(plan.fds.values()),
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})
    finally:
        for fd in plan.fds.values():
            os.close(fd)
        os.close(log_write)
    results = _Drain(results_read, lim.notebook + lim.outbox + 1_000_000)
    log = _Drain(log_read, 8000, keep="tail")
    results.start()
    log.start()
    ending, peak_tasks, peak_memory = "", 0, 0
    while proc.poll() is None:
        tasks, rss, pids = _usage(proc.pid)
        peak_tasks = max(peak_tasks, tasks)
        if tasks >= lim.tasks:
            ending = "tasks"
        elif rss > lim.memory and (pss := _proportional(pids)) > lim.memory:
            peak_memory = max(peak_memory, pss)
            ending = "memory"
        elif time.monotonic() - start > lim.seconds:
            ending = "timeout"
        else:
            peak_memory = max(peak_memory, rss)
        if ending:
            # bwrap's pid namespace dies with its init, which --die-with-parent kills with it.
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(POLL)
    proc.wait()
    results.join(30)
    log.join(5)
    outcome = Outcome(ending=ending, reason="", uid=uid, seconds=time.monotonic() - start,
                      peak_memory=peak_memory, peak_tasks=peak_tasks,
                      log=bytes(log.data).decode("utf-8", "replace"))
    if not ending:
        _read_results(outcome, bytes(results.data), results.overflow, run_dir, lim)
    outcome.reason = _reasons(lim).get(outcome.ending, "")
    if outcome.ending in ("kernel-died", "timeout") and outcome.cell is not None:
        outcome.reason += f" (in cell {outcome.cell + 1})"
    return outcome


def _read_results(outcome: Outcome, data: bytes, overflow: bool, run_dir: Path,
                  lim: Limits) -> None:
    """Fill ``outcome`` from the results stream. The runner's status is believed only when it
    says the run failed: a false "finished" gains nothing, since the checks' results are
    judged on their own."""
    if overflow:
        outcome.ending = "no-results"
        return
    try:
        results = channel.parse(data, max_notebook=lim.notebook, max_outbox=lim.outbox)
        status = json.loads(results.status.decode()) if results.status else {}
    except (channel.ChannelError, ValueError):
        outcome.ending = "no-results"
        return
    if not isinstance(status, dict) or not results.notebook:
        outcome.ending = "no-results"
        return
    said = status.get("status")
    outcome.ending = said if said in ("timeout", "kernel-died") else (
        "crashed" if said != "finished" else "finished")
    cell = status.get("cell")
    outcome.cell = cell if type(cell) is int and cell >= 0 else None
    outcome.notebook = results.notebook
    outcome.outbox = run_dir / "outbox"
    channel.save_outbox(results, outcome.outbox)


def new_run_dir() -> Path:
    """A private folder for one run (traversable, not listable, by the sandbox's user)."""
    path = Path(tempfile.mkdtemp(prefix="afc-grade-"))
    os.chmod(path, 0o711)
    return path
