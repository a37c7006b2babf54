"""Runs inside the sandbox, as the sandbox's user: execute one notebook, send back the results.

This file is not imported by the grader: the sandbox (``sandbox.py``) copies its text into the
sandbox and runs it with the course's Python, where only ``helpers/`` and the venv are visible.
It trusts nothing and is trusted by nothing: the student's kernel runs beside it, as the same
user, and may kill it or write into its results. The grader treats whatever comes out as
untrusted data.

It executes the notebook with nbclient (the kernel is the venv's ``python3``), stops at the
soft deadline it is given (the sandbox kills everything at the hard one), then writes to
the results pipe (the file descriptor it is given), in the framing ``channel.py`` reads (a
header line ``<name> <size>``, then that many bytes, per record): ``status.json`` (how the
run ended), ``notebook.ipynb`` (the executed notebook) and ``outbox/<name>`` (each regular
file the checks wrote).
"""

import json
import os
import re
import sys
import time
import traceback

SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")


def _records(notebook_bytes: bytes, status: dict, outbox: str, max_file: int):
    yield "status.json", json.dumps(status).encode()
    yield "notebook.ipynb", notebook_bytes
    try:
        entries = sorted(os.scandir(outbox), key=lambda e: e.name)
    except OSError:
        entries = []
    for entry in entries:
        if not SAFE_NAME.match(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        if entry.stat(follow_symlinks=False).st_size > max_file:
            continue
        with open(entry.path, "rb") as f:
            yield f"outbox/{entry.name}", f.read(max_file + 1)[:max_file]


def main() -> int:
    settings = json.loads(os.environ.pop("AFC_SANDBOX_RUN"))
    deadline = time.monotonic() + float(settings["seconds"])
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = settings["notebook"]
    nb = nbformat.read(path, as_version=4)
    status = {"status": "finished"}
    running = {"cell": None}

    def time_left(cell) -> int:
        running["cell"] = cell
        return max(1, int(deadline - time.monotonic()))

    client = NotebookClient(
        nb, kernel_name="python3", timeout_func=time_left, allow_errors=True,
        interrupt_on_timeout=False, startup_timeout=60, record_timing=False,
        shutdown_kernel="immediate", resources={"metadata": {"path": os.path.dirname(path)}},
        extra_arguments=["--HistoryManager.hist_file=:memory:"])
    try:
        client.execute()
    except CellTimeoutError:
        status = {"status": "timeout"}
    except DeadKernelError as err:
        status = {"status": "kernel-died", "detail": str(err)[:300]}
    except BaseException as err:  # anything else: say what, still send the notebook back
        status = {"status": "error", "detail": "".join(
            traceback.format_exception_only(type(err), err))[-600:]}
    if status["status"] != "finished" and running["cell"] is not None:
        try:
            status["cell"] = nb.cells.index(running["cell"])
        except ValueError:
            pass
    out = os.fdopen(int(settings["results_fd"]), "wb")
    for name, data in _records(nbformat.writes(nb).encode(), status, settings["outbox"],
                               int(settings["max_file"])):
        out.write(f"{name} {len(data)}\n".encode() + data)
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
