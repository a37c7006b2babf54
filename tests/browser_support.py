"""Helpers for tests/test_browser.py: a throw-away JupyterLab server and the page-side probes.

The server is isolated from the developer's own Jupyter setup: temporary config, data, runtime,
workspace and user-settings folders, and a ``python3`` kernelspec that runs *this* interpreter
(``sys.executable``), so the kernel is the current venv's whatever kernelspecs are installed
elsewhere. User settings turn autosave off (running the notebooks in the browser must never
write them back into the repo), attach every cell to the DOM (``windowingMode: none``, so
every output can be inspected and screenshotted) and never fetch news from the internet.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# The flags this machine's notes give for headless Chromium as root on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
INSTALL_HINT = (
    "install Debian's Chromium and the Python driver: `apt-get install chromium` (gives "
    "/usr/bin/chromium) and `pip install playwright` (or `pip install -e '.[test]'`, which pins "
    "it); never `playwright install`, the browser is Debian's"
)

USER_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@contextlib.contextmanager
def chromium(skip_or_fail):
    """Debian's headless Chromium through playwright, closed on exit.

    A missing browser or driver, or one that does not start, goes to ``skip_or_fail(reason)``
    with the install hint: the caller skips on a developer's machine and fails under CI.
    """
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} not found; {INSTALL_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail(f"the playwright package is not installed; {INSTALL_HINT}")
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception as err:
        pw.stop()
        skip_or_fail(f"{CHROMIUM} did not start ({err}); {INSTALL_HINT}")
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A running ``jupyter lab``; ``url(path)`` adds the token."""

    proc: subprocess.Popen
    port: int
    token: str
    log: Path
    home: Path
    env: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, **query: str) -> str:
        parts = [k if v == "" else f"{k}={v}" for k, v in query.items()]
        parts.append(f"token={self.token}")
        return f"{self.base}/{path.lstrip('/')}?{'&'.join(parts)}"

    def api(self, path: str, method: str = "GET", timeout: float = 10.0):
        """Call the REST API; JSON answer or None for an empty body."""
        req = urllib.request.Request(
            f"{self.base}/api/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def trust(self, notebooks) -> None:
        """Sign the notebooks in this server's own (temporary) signature database, as they are
        for the author who ran them: JupyterLab then renders their stored rich outputs, widget
        views included, instead of falling back to text/plain. The files are not changed."""
        subprocess.run([sys.executable, "-m", "jupyter", "trust", *map(str, notebooks)],
                       env=self.env, check=True, capture_output=True, timeout=120)

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return "(no server log)"

    def shutdown_all_sessions(self, timeout: float = 30.0) -> None:
        """Delete every session (and so its kernel); wait until the kernels are gone."""
        for session in self.api("sessions"):
            try:
                self.api(f"sessions/{session['id']}", method="DELETE", timeout=timeout)
            except urllib.error.HTTPError as err:
                if err.code != 404:
                    raise
        deadline = time.monotonic() + timeout
        while self.api("kernels") and time.monotonic() < deadline:
            time.sleep(0.2)

    def stop(self) -> None:
        """Terminate, then kill if it does not go within 10 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _write_kernelspec(data_dir: Path) -> None:
    spec_dir = data_dir / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": True},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))


def start_lab(root_dir: Path, home: Path, timeout: float = 120.0) -> LabServer:
    """Start JupyterLab on a free port with a random token; return once /api/status answers."""
    home.mkdir(parents=True, exist_ok=True)
    dirs = {name: home / name for name in ("config", "data", "runtime", "workspaces", "settings",
                                            "ipython", "checkpoints")}
    for d in dirs.values():
        d.mkdir(exist_ok=True)
    _write_kernelspec(dirs["data"])
    for rel, values in USER_SETTINGS.items():
        target = dirs["settings"] / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))

    env = {k: v for k, v in os.environ.items() if k not in {"JUPYTER_PATH", "MPLBACKEND"}}
    # MPLBACKEND is removed on purpose: tests/conftest.py sets Agg, and a kernel started with it
    # would not show inline figures. ipykernel chooses the inline backend when it is unset.
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        # First on the kernel search path: our python3 spec wins over any installed one.
        JUPYTER_PATH=str(dirs["data"]),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(dirs["ipython"]),
        PYTHONUNBUFFERED="1",
    )
    log = home / "jupyter-lab.log"
    last_error = ""
    for _attempt in range(3):  # a free port can be taken between free_port() and bind
        port, token = free_port(), secrets.token_hex(24)
        cmd = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            f"--ServerApp.runtime_dir={dirs['runtime']}",
            "--ServerApp.allow_root=True",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.workspaces_dir={dirs['workspaces']}",
            f"--LabApp.user_settings_dir={dirs['settings']}",
            # JupyterLab makes a checkpoint when it opens a file: keep it out of the repo.
            f"--FileCheckpoints.root_dir={dirs['checkpoints']}",
            # The extension manager would query PyPI when opened; this test never needs it.
            "--LabApp.extension_manager=readonly",
        ]  # fmt: skip
        out = log.open("wb")
        proc = subprocess.Popen(cmd, cwd=root_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        out.close()
        server = LabServer(proc=proc, port=port, token=token, log=log, home=home, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                server.api("status", timeout=5)
                return server
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                time.sleep(0.25)
        last_error = server.log_tail()
        server.stop()
        if "already in use" not in last_error:
            break
    raise RuntimeError(f"JupyterLab did not start within {timeout:.0f} s; its log:\n{last_error}")


def cleanup(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Page-side probes: JavaScript evaluated in the JupyterLab page (window.jupyterapp).
# ---------------------------------------------------------------------------------------------

# Where the current notebook is: the panel, its kernel, each code cell's count, outputs and
# prompt, and what the DOM shows for widget outputs.
JS_STATE = r"""
() => {
  const app = window.jupyterapp;
  if (!app || !app.shell) return {stage: 'no app'};
  const panel = app.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext
      || !panel.context) return {stage: 'no notebook'};
  const sc = panel.sessionContext;
  const kernel = sc.session ? sc.session.kernel : null;
  const cells = [];
  const widgets = panel.content.widgets;
  for (let i = 0; i < widgets.length; i++) {
    const cell = widgets[i];
    const m = cell.model;
    if (m.type !== 'code') continue;
    const outs = [];
    for (let j = 0; j < m.outputs.length; j++) {
      const o = m.outputs.get(j).toJSON();
      const text = o.output_type === 'error'
        ? (o.ename + ': ' + o.evalue)
        : (o.output_type === 'stream' ? [].concat(o.text).join('') : '');
      outs.push({type: o.output_type, name: o.name || null,
                 mimes: Object.keys(o.data || {}), text: text.slice(0, 3000)});
    }
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    const area = cell.node.querySelector('.jp-OutputArea');
    const outputNodes = area ? Array.from(area.querySelectorAll('.jp-OutputArea-output')) : [];
    // A rendered widget view is a .jupyter-widgets element inside its output; the renderer
    // itself gets .jupyter-widgets plus the text "Error displaying widget..." when it fails.
    // A view whose class fails to load is an ipywidgets "error widget" ("Click to show
    // javascript error."), which is a .jupyter-widgets element too: not a rendered view.
    const isError = el => /Error displaying widget|model not found/.test(el.innerText)
        || el.querySelector('.jupyter-widgets-error-widget') !== null
        || el.classList.contains('jupyter-widgets-error-widget');
    const widgetOutputs = outputNodes.filter(
        el => el.querySelector(':scope > .jupyter-widgets') && !isError(el)).length;
    const widgetErrorViews = outputNodes.filter(isError).length;
    const imgs = area ? Array.from(area.querySelectorAll('img.widget-image')) : [];
    cells.push({
      index: i,
      source: m.sharedModel.getSource().slice(0, 200),
      count: m.executionCount,
      prompt: prompt ? prompt.textContent.trim() : null,
      outs: outs,
      outputText: area ? area.innerText.slice(0, 20000) : '',
      errorNodes: area ? area.querySelectorAll(
          '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"], '
          + '.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]').length : 0,
      widgetOutputs: widgetOutputs,
      widgetErrorViews: widgetErrorViews,
      widgetImages: imgs.filter(im => (im.getAttribute('src') || '').length > 0).length,
    });
  }
  return {
    stage: 'ready',
    path: panel.context.path,
    contextReady: panel.context.isReady,
    sessionReady: sc.isReady,
    kernelName: kernel ? kernel.name : null,
    kernelId: kernel ? kernel.id : null,
    status: kernel ? kernel.status : 'none',
    connection: kernel ? kernel.connectionStatus : 'none',
    runAllError: window.__runAllError || null,
    cells: cells,
  };
}
"""

JS_RUN_ALL = r"""
() => {
  window.__runAllError = null;
  window.jupyterapp.commands.execute('notebook:run-all-cells')
    .catch(e => { window.__runAllError = String(e); });
  return true;
}
"""

# Height of the notebook's content (it scrolls inside its own panel, not the page).
JS_NOTEBOOK_HEIGHT = r"""
() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!nb) return 0;
  const inner = nb.querySelector('.jp-WindowedPanel-inner') || nb;
  return Math.ceil(inner.scrollHeight);
}
"""

# The PNG bytes behind an <img src="blob:..."> as hex of their SHA-256 (so "the figure changed"
# means the picture changed, not only its URL).
JS_IMAGE_DIGEST = r"""
async (img) => {
  const src = img.getAttribute('src') || '';
  if (!src) return '';
  const buf = await (await fetch(src)).arrayBuffer();
  const hash = await crypto.subtle.digest('SHA-256', buf);
  return Array.from(new Uint8Array(hash)).map(b => b.toString(16).padStart(2, '0')).join('');
}
"""

# Give the notebook the whole width (no file browser, no side panels) for the screenshots.
JS_COLLAPSE_SIDES = r"""
() => {
  const shell = window.jupyterapp.shell;
  if (shell.collapseLeft) shell.collapseLeft();
  if (shell.collapseRight) shell.collapseRight();
  return true;
}
"""

JS_SCROLL_TO = r"""
(y) => {
  const outer = document.querySelector(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
  if (!outer) return -1;
  outer.scrollTop = y;
  return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(
      () => r(outer.scrollTop))));
}
"""
