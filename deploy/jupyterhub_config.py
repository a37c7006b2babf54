"""JupyterHub for one class on one server (`make class`; tests/test_classroom.py).

Started by deploy/classroom.py, which sets the ``CLASS_*`` variables read here (see its
``Settings``). The pieces:

- NativeAuthenticator: students sign up on the hub's own page; the instructor (the only admin)
  authorizes each account at /hub/authorize before it can log in. No outside identity
  provider is needed, which suits a class on a single server. (native_compat.py closes two
  gaps between its newest release and JupyterHub 6.)
- LocalProcessSpawner: each user's JupyterLab runs as their own Unix user, from the course's
  pinned venv, so the exchange's file permissions separate students from each other and from
  the instructor's course folder.
- configurable-http-proxy from npm (deploy/package.json, installed into .venv/node).
"""

import os
import pwd
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classroom  # noqa: E402
import native_compat  # noqa: E402

c = get_config()  # noqa: F821 - provided by jupyterhub when it loads this file
settings = classroom.Settings.from_env()

# Loopback only: a class on a real server puts TLS and its public name in front (see
# docs/instructors.md, "A whole class"); the hub's API and the proxy's API stay on 127.0.0.1.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = settings.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings.hub_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [str(settings.proxy)]

# The hub's state (sqlite database with the users and their hashed passwords, cookie secret,
# proxy token) in a folder only root can read.
c.JupyterHub.db_url = f"sqlite:///{settings.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(settings.state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(settings.state / "jupyterhub.pid")
# On shutdown, stop every user's server and the proxy: nothing outlives `make class` or a test.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

c.JupyterHub.authenticator_class = native_compat.ClassAuthenticator
c.Authenticator.admin_users = {settings.instructor}
# NativeAuthenticator itself lets in only the accounts the instructor authorized; JupyterHub's
# own allow list on top would have to repeat every student's name.
c.Authenticator.allow_all = True
c.NativeAuthenticator.open_signup = False
c.NativeAuthenticator.minimum_password_length = 8
c.NativeAuthenticator.check_common_password = True
# Unix user names: lower case, start with a letter, no spaces.
c.Authenticator.username_pattern = r"^[a-z][a-z0-9_-]{0,31}$"

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(settings.venv / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
# A shared 2-core machine starts twenty servers slowly; the defaults (60 s, 30 s) are tight.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120
c.LocalProcessSpawner.interrupt_timeout = 5
c.LocalProcessSpawner.term_timeout = 5


def _pre_spawn(spawner) -> None:
    """Give the server its role's environment; make the Unix account on first login when
    the class is set up to (``CLASS_CREATE_USERS=1``, `make class`)."""
    name = spawner.user.name
    if not classroom.user_exists(name):
        if not settings.create_users:
            raise RuntimeError(f"no local user {name!r}: create it (useradd) before logging in")
        classroom.add_user(name, settings.group)
    else:
        groups = subprocess.run(["id", "-nG", name], capture_output=True, text=True).stdout
        if settings.group not in groups.split():
            raise RuntimeError(f"{name!r} is not in the class's group {settings.group!r}")
    env = classroom.user_env(settings, name)
    env.pop("HOME")  # the spawner sets HOME, USER and SHELL from the account itself
    env.pop("USER")
    spawner.environment = env
    spawner.notebook_dir = pwd.getpwnam(name).pw_dir


c.Spawner.pre_spawn_hook = _pre_spawn
# Only what the servers need from the hub's own environment (not its PATH or VIRTUAL_ENV).
c.Spawner.env_keep = ["LANG", "LC_ALL"]
os.environ.setdefault("LANG", "C.UTF-8")
