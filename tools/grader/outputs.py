"""The outputs of the executed notebook, taken back onto the grader's own copy, and verdicts.

The notebook that comes back from the sandbox is untrusted: the student's code could have
rewritten it, cells, metadata and points included. So the grader keeps its own copy (the one
nbgrader sanitized: check cells restored, points from the gradebook) and takes from the other
**only the outputs**, cell by cell, and only where the cell is the same one (same position,
type and id). Each output is rebuilt from known fields; only plain text and PNG/JPEG images
are kept (HTML, JavaScript, SVG, Markdown and LaTeX could run script in the formgrader or in
the feedback page, and no chapter of the course needs them in a graded copy).

Then every check cell's outputs are replaced by the grader's verdict (:func:`verdict_outputs`):
a stream line with the pass message, or an ``error`` output carrying the reason, which
nbgrader's ``SaveAutoGrades`` scores 0 and ``generate_feedback`` shows the student.
"""

from __future__ import annotations

import json
import re

from nbformat import NotebookNode
from nbformat.v4 import new_output

__all__ = ["error_output", "pass_output", "take_outputs"]

KEPT_TYPES = ("text/plain", "image/png", "image/jpeg")
BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
MAX_TEXT = 200_000         # characters of one output's text (LimitOutput trims lines later)
MAX_OUTPUTS = 200          # outputs of one cell


def _text(value) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = "".join(value)
    return value[:MAX_TEXT] if isinstance(value, str) else None


def _data(data) -> dict:
    kept = {}
    if not isinstance(data, dict):
        return kept
    for mime in KEPT_TYPES:
        text = _text(data.get(mime))
        if text is None:
            continue
        if mime != "text/plain" and not BASE64.match(text):
            continue
        kept[mime] = text
    return kept


def clean_output(raw) -> NotebookNode | None:
    """One output rebuilt from its known fields, or None when nothing of it can be kept."""
    if not isinstance(raw, dict):
        return None
    kind = raw.get("output_type")
    if kind == "stream":
        text = _text(raw.get("text"))
        name = raw.get("name")
        if text is None or name not in ("stdout", "stderr"):
            return None
        return new_output("stream", name=name, text=text)
    if kind in ("display_data", "execute_result"):
        data = _data(raw.get("data"))
        if not data:
            return None
        if kind == "display_data":
            return new_output("display_data", data=data)
        count = raw.get("execution_count")
        return new_output("execute_result", data=data,
                          execution_count=count if type(count) is int else None)
    if kind == "error":
        ename, evalue = _text(raw.get("ename")), _text(raw.get("evalue"))
        tb = raw.get("traceback")
        lines = [t[:MAX_TEXT] for t in tb[:200] if isinstance(t, str)] \
            if isinstance(tb, list) else []
        return new_output("error", ename=(ename or "Error")[:200], evalue=evalue or "",
                          traceback=lines)
    return None


def take_outputs(nb: NotebookNode, executed: bytes) -> list[str]:
    """Copy the executed notebook's outputs onto ``nb``'s code cells; return the problems
    found (for the report). Cells that do not match get no outputs."""
    problems = []
    try:
        theirs = json.loads(executed.decode("utf-8"))
        cells = theirs["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError) as err:
        return [f"the executed notebook could not be read ({type(err).__name__}); "
                "no outputs kept"]
    if len(cells) != len(nb.cells):
        problems.append(f"the executed notebook has {len(cells)} cells, {len(nb.cells)} were "
                        "sent; outputs kept only where the cells still match")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        other = cells[i] if i < len(cells) else None
        if not isinstance(other, dict) or other.get("cell_type") != "code" or (
                "id" in cell and other.get("id") != cell.get("id")):
            continue
        outputs = other.get("outputs")
        if not isinstance(outputs, list):
            continue
        cell.outputs = [o for o in map(clean_output, outputs[:MAX_OUTPUTS]) if o is not None]
        count = other.get("execution_count")
        cell.execution_count = count if type(count) is int else None
    return problems


def pass_output(message: str) -> NotebookNode:
    """The verdict of a check that passed: one line, as the check prints it in the notebook."""
    return new_output("stream", name="stdout", text=message.rstrip("\n") + "\n")


def error_output(message: str, ename: str = "ExerciseError") -> NotebookNode:
    """The verdict of a check that failed: an error, which scores the cell 0."""
    lines = message.rstrip("\n").splitlines() or [ename]
    return new_output("error", ename=ename, evalue=lines[0],
                      traceback=[f"\x1b[0;31m{ename}\x1b[0m: {lines[0]}", *lines[1:]])
