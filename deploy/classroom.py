"""One class on one server: JupyterHub, local users and nbgrader's exchange.

    sudo .venv/bin/python deploy/classroom.py start     # what `make class` runs

`make class` and tests/test_classroom.py share this module, so the test exercises the very
setup an instructor starts. Everything a class needs from the machine is done here, as root:

- a Unix group for the class (``CLASS_GROUP``); every instructor and student is a member;
- local users with private homes (mode 0700: Debian's default 0755 would let any student read
  the instructor's course folder, solutions included, and every other student's work);
- read-and-traverse access for that group to the course's Python (the venv and the base
  interpreter it links to, which pyenv puts under /root) and to this repository, granted with
  POSIX ACLs on the few directories that lack it and withdrawn on the way out;
- the exchange folder, with the modes nbgrader expects plus sticky bits (see
  ``prepare_exchange``);
- the hub itself (deploy/jupyterhub_config.py), its proxy from deploy/package.json.

Settings come from the environment (``CLASS_*``, see ``Settings``); the defaults are for a real
server: the hub on 127.0.0.1:8000, its state in /var/lib/activation-functions-hub, the
exchange in /srv/nbgrader/exchange (nbgrader's own default).
"""

from __future__ import annotations

import grp
import http.cookiejar
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
# The same course id as the repository's nbgrader_config.py (tools/assignments.py uses it).
COURSE_ID = "activation-functions"
# The instructor's course folder, in their home: source/, release/, submitted/, gradebook.db.
COURSE_FOLDER = "activation-functions"
PROXY = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"


@dataclass
class Settings:
    """Where the hub listens and keeps its files, who teaches, which Python the servers run."""

    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8082
    state: Path = Path("/var/lib/activation-functions-hub")
    exchange: Path = Path("/srv/nbgrader/exchange")
    instructor: str = "instructor"
    group: str = "activation-functions"
    # The venv whose jupyterhub-singleuser, nbgrader and kernel every user runs.
    venv: Path = field(default_factory=lambda: Path(sys.prefix))
    proxy: Path = PROXY
    # Create a student's Unix account on first login (`make class`); the test makes its own.
    create_users: bool = False

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        """Read ``CLASS_*`` variables (as jupyterhub_config.py does); defaults otherwise."""
        env = os.environ if env is None else env
        s = cls()
        for name, kind in (("port", int), ("hub_port", int), ("proxy_api_port", int),
                           ("state", Path), ("exchange", Path), ("instructor", str),
                           ("group", str), ("venv", Path), ("proxy", Path)):
            value = env.get(f"CLASS_{name.upper()}")
            if value:
                setattr(s, name, kind(value))
        s.create_users = env.get("CLASS_CREATE_USERS", "") == "1"
        return s

    def to_env(self) -> dict[str, str]:
        """The ``CLASS_*`` variables that make ``from_env`` give these settings back."""
        return {
            "CLASS_PORT": str(self.port),
            "CLASS_HUB_PORT": str(self.hub_port),
            "CLASS_PROXY_API_PORT": str(self.proxy_api_port),
            "CLASS_STATE": str(self.state),
            "CLASS_EXCHANGE": str(self.exchange),
            "CLASS_INSTRUCTOR": self.instructor,
            "CLASS_GROUP": self.group,
            "CLASS_VENV": str(self.venv),
            "CLASS_PROXY": str(self.proxy),
            "CLASS_CREATE_USERS": "1" if self.create_users else "0",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def role(settings: Settings, username: str) -> str:
    """``instructor`` for the course's instructor, ``student`` for everyone else."""
    return "instructor" if username == settings.instructor else "student"


def user_env(settings: Settings, username: str) -> dict[str, str]:
    """The environment of a user's single-user server, and of nbgrader run as that user.

    JUPYTER_CONFIG_PATH picks the role's settings in deploy/jupyter/ (which nbgrader extensions
    show, the course folder) over the shared ones (course id, exchange)."""
    config = DEPLOY / "jupyter"
    home = pwd.getpwnam(username).pw_dir
    return {
        "PATH": f"{settings.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "USER": username,
        "LOGNAME": username,
        "JUPYTER_CONFIG_PATH": f"{config / role(settings, username)}:{config / 'common'}",
        "CLASS_EXCHANGE": str(settings.exchange),
        "CLASS_REPO": str(ROOT),
        "LANG": "C.UTF-8",
    }


def run_as(username: str, args: list[str], settings: Settings, cwd: Path | None = None,
           timeout: float = 300, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command as ``username`` (runuser, a login-free switch) in that user's class env."""
    env = {**user_env(settings, username), **(extra_env or {})}
    cwd = cwd or Path(env["HOME"])
    cmd = ["runuser", "-u", username, "--", "env", "-i",
           *(f"{k}={v}" for k, v in env.items()), *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


# ---------------------------------------------------------------------------------------------
# Unix accounts
# ---------------------------------------------------------------------------------------------


def ensure_group(name: str) -> bool:
    """Create the class's group if it does not exist; True if this call made it."""
    try:
        grp.getgrnam(name)
        return False
    except KeyError:
        subprocess.run(["groupadd", name], check=True, capture_output=True, text=True)
        return True


def add_user(name: str, group: str) -> None:
    """A local user in ``group`` with a home only they can read (0700)."""
    result = subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash",
                             "--groups", group, name], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"useradd {name} failed: {result.stderr.strip()}")
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def remove_user(name: str) -> None:
    """Remove the user, their home and their private group; kill what they still run."""
    if not user_exists(name):
        return
    if shutil.which("pkill"):  # procps; without it userdel --force still removes the account
        subprocess.run(["pkill", "--signal", "KILL", "-u", name], capture_output=True)
    result = subprocess.run(["userdel", "--force", "--remove", name],
                            capture_output=True, text=True)
    # userdel warns (exit 12) when the mail spool is missing; the account is gone all the same.
    if user_exists(name):
        raise RuntimeError(f"userdel {name} failed: {result.stderr.strip()}")


def remove_group(name: str) -> None:
    try:
        grp.getgrnam(name)
    except KeyError:
        return
    subprocess.run(["groupdel", name], check=True, capture_output=True, text=True)


# ---------------------------------------------------------------------------------------------
# What the class may read: the course's Python and this repository
# ---------------------------------------------------------------------------------------------


def needed_paths(settings: Settings) -> list[Path]:
    """Folders every user must reach: the venv, the interpreter it links to, the repository."""
    base = Path(os.path.realpath(settings.venv / "bin" / "python")).parent.parent
    return [settings.venv, base, ROOT]


def grant_traversal(paths: list[Path], group: str) -> list[Path]:
    """Let ``group`` traverse every folder on the way to ``paths`` (ACL ``g:GROUP:--x``).

    Only folders that others may not traverse already get an entry (on this machine: /root,
    0700, where pyenv's Python lives). Returns them, for ``revoke_traversal``."""
    if shutil.which("setfacl") is None:
        raise RuntimeError("setfacl not found: apt-get install acl (POSIX ACLs let the class's "
                           "group reach the course's Python without opening it to everyone)")
    granted: list[Path] = []
    for path in paths:
        path = Path(os.path.realpath(path))
        for folder in [*reversed(path.parents), path]:
            if folder.stat().st_mode & stat.S_IXOTH or folder in granted:
                continue
            subprocess.run(["setfacl", "-m", f"g:{group}:--x", str(folder)], check=True,
                           capture_output=True, text=True)
            granted.append(folder)
    return granted


def revoke_traversal(granted: list[Path], group: str) -> None:
    """Remove the group's ACL entries; a folder left with no named entry at all loses its
    extended ACL too (setfacl keeps a bare mask entry otherwise), as it was before."""
    for folder in granted:
        subprocess.run(["setfacl", "-x", f"g:{group}", str(folder)], capture_output=True)
        acl = subprocess.run(["getfacl", "--absolute-names", "--omit-header", str(folder)],
                             capture_output=True, text=True).stdout
        if not re.search(r"^(user|group):[^:]+:", acl, re.M):
            subprocess.run(["setfacl", "-b", str(folder)], capture_output=True)


# ---------------------------------------------------------------------------------------------
# The exchange and the instructor's course folder
# ---------------------------------------------------------------------------------------------


def prepare_exchange(exchange: Path, instructor: str) -> None:
    """Make the exchange with nbgrader's modes, hardened where nbgrader leaves it open.

    - the root: 1777. nbgrader insists on world-writable (it re-checks 0777 at every release);
      the sticky bit, which that check ignores, stops a student renaming or deleting the
      course folder of the instructor;
    - <course>/ and outbound/: 0755, the instructor's: students read released versions only;
    - inbound/: 3733, the instructor's, setgid as nbgrader makes it (submissions get the
      instructor's group) plus sticky: students may add a submission but neither list the
      folder nor rename or delete another student's submission even if they knew its name;
    - feedback/: 0711: a student reaches only the feedback whose name (a hash of their own
      submitted notebook) they know.

    Pre-creating the course folder also keeps a student from claiming the course id first.
    """
    exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, 0o1777)
    user = pwd.getpwnam(instructor)
    course = exchange / COURSE_ID
    for folder, mode in ((course, 0o755), (course / "outbound", 0o755),
                         (course / "inbound", 0o3733), (course / "feedback", 0o711)):
        folder.mkdir(exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)
        os.chmod(folder, mode)


def course_dir(username: str) -> Path:
    """The instructor's nbgrader course folder (``CourseDirectory.root``)."""
    return Path(pwd.getpwnam(username).pw_dir) / COURSE_FOLDER


# ---------------------------------------------------------------------------------------------
# The hub
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Hub:
    """A running ``jupyterhub`` with its proxy; ``stop()`` ends both and every user's server."""

    proc: subprocess.Popen
    settings: Settings
    log: Path

    def log_tail(self, n: int = 6000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return "(no hub log)"

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM: the hub stops the single-user servers and the proxy it started
        (cleanup_servers, cleanup_proxy); kill the process group if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def check_proxy(settings: Settings) -> None:
    if not os.access(settings.proxy, os.X_OK):
        raise RuntimeError(f"{settings.proxy} not found: run `make class-deps` (npm ci of "
                           "deploy/package.json into .venv/node)")


def start_hub(settings: Settings, log: Path, timeout: float = 120.0) -> Hub:
    """Start the hub (as root: the local spawner switches to each user); return once it
    answers ``/hub/api/`` through the proxy."""
    check_proxy(settings)
    settings.state.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state, 0o700)  # the hub's database and cookie secret
    env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}
    env.pop("JUPYTER_CONFIG_PATH", None)
    env["PATH"] = f"{settings.venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    cmd = [str(settings.venv / "bin" / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")]
    out = log.open("ab")
    # A process group of its own, so a hung hub can be killed with all it started.
    proc = subprocess.Popen(cmd, cwd=settings.state, env=env, stdout=out,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    out.close()
    hub = Hub(proc=proc, settings=settings, log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyterhub exited ({proc.returncode}); its log:\n"
                               f"{hub.log_tail()}")
        try:
            with urllib.request.urlopen(f"{settings.url}/hub/api/", timeout=5) as resp:
                if resp.status == 200:
                    return hub
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    hub.stop()
    raise RuntimeError(f"the hub did not answer within {timeout:.0f} s; its log:\n"
                       f"{hub.log_tail()}")


def sign_up(settings: Settings, username: str, password: str) -> str:
    """Sign ``username`` up on the hub's own sign-up page, as a browser would (GET for the
    form's xsrf token, then POST); return the message the page answers with."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = f"{settings.url}/hub/signup"
    with opener.open(url, timeout=30) as resp:
        form = resp.read().decode()
    token = re.search(r'name="_xsrf" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError(f"no xsrf token in the sign-up form at {url}")
    data = urllib.parse.urlencode({
        "_xsrf": token.group(1), "username": username, "signup_password": password,
        "signup_password_confirmation": password}).encode()
    with opener.open(url, data=data, timeout=30) as resp:
        page = resp.read().decode()
    alert = re.search(r'<div class="alert[^"]*"[^>]*>\s*(.*?)\s*</div>', page, re.S)
    return re.sub(r"<[^>]+>|\s+", " ", alert.group(1)).strip() if alert else page[:500]


def claim_instructor_account(settings: Settings) -> str:
    """Sign the instructor up with a random password before anyone else can.

    NativeAuthenticator authorizes an admin's name at sign-up: whoever signs up first under
    the instructor's name would be the class's admin. Returns the password; ``""`` when the
    account exists already (a restarted hub keeps it)."""
    password = secrets.token_urlsafe(12)
    message = sign_up(settings, settings.instructor, password)
    if "successful" in message:
        return password
    if "already in use" in message:
        return ""
    raise RuntimeError(f"signing the instructor up failed: {message}")


def main(argv: list[str] | None = None) -> int:
    """`start`: the class on 127.0.0.1 until Ctrl-C (what `make class` runs)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["start"]:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("error: run as root (sudo): the hub starts each user's server as that user",
              file=sys.stderr)
        return 1
    # Ctrl-C or a SIGTERM (systemd, kill) both stop the hub and undo the ACLs; a shell that
    # started this in the background may have set SIGINT to be ignored, so set both here.
    def _stop(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    settings = Settings.from_env()
    if "CLASS_CREATE_USERS" not in os.environ:
        settings.create_users = True  # students sign up; their account is made on first login
    ensure_group(settings.group)
    if not user_exists(settings.instructor):
        add_user(settings.instructor, settings.group)
        print(f"made the local user {settings.instructor!r} (the instructor)")
    else:
        subprocess.run(["usermod", "-aG", settings.group, settings.instructor], check=True)
    prepare_exchange(settings.exchange, settings.instructor)
    granted = grant_traversal(needed_paths(settings), settings.group)
    settings.state.mkdir(parents=True, exist_ok=True)
    log = settings.state / "jupyterhub.log"
    hub = None
    try:
        hub = start_hub(settings, log)
        password = claim_instructor_account(settings)
    except (RuntimeError, OSError) as err:
        if hub is not None:
            hub.stop()
        revoke_traversal(granted, settings.group)
        print(f"error: {err}", file=sys.stderr)
        return 1
    login = (f"password {password!r} (change it at {settings.url}/hub/change-password)"
             if password else "the password chosen before (the account exists)")
    print(f"""
The class is up: {settings.url}/hub/login
  1. Log in as {settings.instructor!r} (the only admin) with {login}.
  2. Students sign up at {settings.url}/hub/signup; authorize each at {settings.url}/hub/authorize.
  3. In your JupyterLab, File > New > Terminal, then release chapter 1:
       cd {ROOT}
       NBGRADER_COURSE_DIR=~/{COURSE_FOLDER} python tools/assignments.py generate --only ch01
       cd ~/{COURSE_FOLDER} && nbgrader release_assignment ch01
  4. Grade in the same terminal (each notebook in a bubblewrap sandbox, run as you):
       cd ~/{COURSE_FOLDER} && nbgrader collect --update ch01 && nbgrader autograde ch01
  5. The formgrader: {settings.url}/user/{settings.instructor}/formgrader
Hub log: {log}. Ctrl-C stops the hub and every user's server.""", flush=True)
    if shutil.which("bwrap") is None:
        print("warning: bubblewrap (bwrap) is not installed: `nbgrader autograde` will refuse to "
              "grade until it is (apt-get install bubblewrap)", file=sys.stderr, flush=True)
    try:
        hub.proc.wait()
    except KeyboardInterrupt:
        print("stopping the hub ...", flush=True)
    finally:
        hub.stop()
        revoke_traversal(granted, settings.group)
    return 0


if __name__ == "__main__":
    sys.exit(main())
