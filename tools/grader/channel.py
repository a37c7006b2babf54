"""What comes out of the sandbox, read as untrusted bytes.

The runner inside the sandbox (``inside.py``) writes its results to one pipe as records: a
header line ``<name> <size>\\n``, then ``size`` bytes. The names are fixed (``status.json``,
``notebook.ipynb``) or ``outbox/<name>`` for a file the checks wrote. The student's code runs
as the same user as the runner and can write into that pipe too, so nothing here assumes the
stream is well formed: a bad header, a duplicate, an unknown name or a record over its size
limit makes the whole stream malformed (the grader then grades nothing from it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ChannelError", "Results", "parse", "save_outbox"]

HEADER = re.compile(rb"^(status\.json|notebook\.ipynb|outbox/[A-Za-z0-9_.-]{1,120}) (\d{1,12})$")
MAX_HEADER = 200
MAX_STATUS = 4_000


class ChannelError(ValueError):
    """The results stream is not what the runner writes."""


@dataclass
class Results:
    """The records of one run: the runner's status (untrusted), the executed notebook (bytes,
    untrusted) and the outbox files (name -> bytes, untrusted)."""

    status: bytes = b""
    notebook: bytes = b""
    outbox: dict[str, bytes] = field(default_factory=dict)


def parse(data: bytes, *, max_notebook: int, max_outbox: int) -> Results:
    """Split the stream into records, refusing anything the runner would not write."""
    results, seen, pos = Results(), set(), 0
    outbox_bytes = 0
    while pos < len(data):
        end = data.find(b"\n", pos, pos + MAX_HEADER)
        if end < 0:
            raise ChannelError("a record header is missing or too long")
        match = HEADER.match(data[pos:end])
        if match is None:
            raise ChannelError("a record header is malformed")
        name, size = match.group(1).decode(), int(match.group(2))
        if name in seen:
            raise ChannelError(f"the record {name} came twice")
        seen.add(name)
        body = data[end + 1:end + 1 + size]
        if len(body) != size:
            raise ChannelError(f"the record {name} is cut short")
        pos = end + 1 + size
        if name == "status.json":
            if size > MAX_STATUS:
                raise ChannelError("the status record is too large")
            results.status = body
        elif name == "notebook.ipynb":
            if size > max_notebook:
                raise ChannelError(f"the executed notebook is larger than {max_notebook} bytes")
            results.notebook = body
        else:
            outbox_bytes += size
            if outbox_bytes > max_outbox:
                raise ChannelError(f"the results are larger than {max_outbox} bytes")
            results.outbox[name.removeprefix("outbox/")] = body
    return results


def save_outbox(results: Results, folder: Path) -> None:
    """Write the outbox records as regular files in ``folder`` (a folder of the grader's own),
    for ``helpers.exercises._plain.read``, which checks their contents."""
    folder.mkdir(mode=0o700, exist_ok=True)
    for name, body in results.outbox.items():
        if name in (".", ".."):
            continue
        (folder / name).write_bytes(body)
