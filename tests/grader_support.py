"""Shared by the sandboxed grader's tests: whether the sandbox can run here, and notebooks.

The grader needs bubblewrap (Debian's ``bubblewrap``) and util-linux's ``prlimit`` (and, as
root, ``setpriv`` and ``unshare``), and user namespaces. Without them a test skips with the
command to run; under CI (``CI=true``) it fails instead, as the other tests do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the grader's tests must not be skipped)")
    pytest.skip(reason)


def require_sandbox() -> None:
    """Skip (fail under CI) unless bubblewrap can make a sandbox on this machine."""
    tools = ["bwrap", "prlimit"] + (["setpriv", "unshare", "mount"] if os.geteuid() == 0 else [])
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not found: apt-get install bubblewrap util-linux")
    trial = subprocess.run(["bwrap", "--unshare-all", "--unshare-user", "--ro-bind", "/usr",
                            "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib",
                            "/lib", "--symlink", "usr/lib64", "/lib64", "true"],
                           capture_output=True, text=True)
    if trial.returncode != 0:
        skip_or_fail(f"bubblewrap cannot make a sandbox here: {trial.stderr.strip()}")


def notebook(*sources: str) -> bytes:
    """A notebook of code cells with the course's kernelspec, as JSON bytes."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(s) for s in sources], metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    return nbformat.writes(nb).encode()


def texts(executed: bytes) -> list[str]:
    """Every output of an executed notebook as text (stream text, error name and value)."""
    import json

    def text(value) -> str:
        return "".join(value) if isinstance(value, list) else str(value)

    found = []
    for cell in json.loads(executed)["cells"]:
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                found.append(text(out["text"]))
            elif out["output_type"] == "error":
                found.append(f"{out['ename']}: {out['evalue']}")
            else:
                found.append(text(out.get("data", {}).get("text/plain", "")))
    return found


def processes() -> dict[int, dict[str, str]]:
    """Every process on the machine: pid -> the fields of its /proc/<pid>/status."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue  # it ended while we looked
        found[int(entry.name)] = {k: v.strip() for k, v in (
            line.split(":", 1) for line in status.splitlines() if ":" in line)}
    return found


def sandbox_processes() -> list[str]:
    """Processes of the root grader's sandbox user that are still alive (zombies aside)."""
    from tools.grader import sandbox

    if os.geteuid() != 0:
        return []
    return [f"{pid} {st.get('Name')}" for pid, st in processes().items()
            if int(st.get("Uid", "-1").split()[0]) == sandbox.SANDBOX_ID
            and not st.get("State", "").startswith("Z")]


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
