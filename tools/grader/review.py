"""A submission compared with its release: what the instructor should look at.

Nothing here decides a grade (the sandbox and the verdicts do); it tells the instructor what
a student handed in besides answers:

- **extra files**: anything in the submission folder that the release did not have. They are
  listed and never used: only the notebook enters the sandbox, and nothing of a submission is
  on the grader's import path;
- **changed cells**: cells outside the answer cells that differ from the release, were added
  or were deleted (nbgrader restores the locked check cells itself; the others would run as
  the student left them);
- **flags**: lines in the cells the student wrote (answers, added and changed cells) that
  touch what a cheat would: the process environment, IPython's hooks, the checks' internals,
  nbgrader's files, the interpreter's machinery, processes, the network. A flag is a pointer
  for a human, not a verdict: an honest answer never needs these, a cheat does not always
  spell them this way.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FLAGS", "Review", "review_submission"]

# nbgrader's CourseDirectory.ignore (its own folders and caches) and its timestamp file.
IGNORED = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "timestamp.txt")

FLAGS = {
    "the process environment": r"NBGRADER_EXECUTION|AFC_GRADING|os\.environ|putenv|unsetenv"
                               r"|%env\b|%set_env\b",
    "IPython's hooks": r"set_custom_exc|\.events\.|post_run_cell|pre_run_cell|post_execute"
                       r"|pre_execute|showtraceback|_render_traceback_|excepthook"
                       r"|InteractiveShell",
    "the checks' internals": r"\b_spec\b|\bcollect\b|verdict|prepare_inbox|\b_plain\b"
                             r"|\bSPECS\b|\b_trace\b|\b_core\b|\bch\d\d\.\w+\s*=[^=]"
                             r"|exercises\.\w+\s*=[^=]",
    "nbgrader's files": r"gradebook|nbgrader|\bsource/|autograded/|submitted/",
    "the interpreter's machinery": r"setprofile|settrace|sys\.monitoring|sys\.modules"
                                   r"|\bbuiltins\b|__builtins__|__import__|importlib"
                                   r"|sys\.path|meta_path",
    "processes": r"\bsubprocess\b|os\.system|os\.fork|\bmultiprocessing\b|os\.exec|os\.kill"
                 r"|os\.popen",
    "the network": r"\bsocket\b|urllib|\brequests\b|http\.client|ftplib|smtplib",
}
_FLAGS = {label: re.compile(pattern) for label, pattern in FLAGS.items()}


@dataclass
class Review:
    """What one student's submission of one assignment holds besides answers."""

    extra_files: list[str] = field(default_factory=list)
    changed_cells: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    missing_notebooks: list[str] = field(default_factory=list)


def _ignored(relative: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in IGNORED)


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if (p.is_file() or p.is_symlink()) and not _ignored(p.relative_to(folder))}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _meta(cell: dict) -> dict:
    meta = cell.get("metadata", {})
    grader = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return grader if isinstance(grader, dict) else {}


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= 80 else line[:77] + "..."


def _compare(released: list[dict], submitted: list[dict]) -> tuple[list[str], list[int]]:
    """Descriptions of the changed, added and deleted cells outside the answer cells, and the
    indexes of the submitted cells the student wrote (answers, changed and added cells).
    Markdown edits (notes a student keeps) are counted in one line: they run nothing."""
    notes, written, prose = [], [], 0
    by_id = {c.get("id"): i for i, c in enumerate(submitted) if c.get("id")}
    by_source: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(submitted):
        by_source.setdefault((c.get("cell_type", ""), _source(c)), []).append(i)
    used = set()
    for n, cell in enumerate(released):
        answer = bool(_meta(cell).get("solution"))
        i = by_id.get(cell.get("id")) if cell.get("id") else None
        if i is None or i in used:
            same = [j for j in by_source.get((cell.get("cell_type", ""), _source(cell)), [])
                    if j not in used]
            i = same[0] if same else None
        if i is None:
            if answer:
                pass
            elif cell.get("cell_type") == "markdown":
                prose += 1
            else:
                notes.append(f"release cell {n + 1} ({cell.get('cell_type')}) deleted: "
                             f"`{_first_line(_source(cell))}`")
            continue
        used.add(i)
        mine = submitted[i]
        if answer:
            written.append(i)
        elif (mine.get("cell_type"), _source(mine)) != (cell.get("cell_type"), _source(cell)):
            written.append(i)
            if mine.get("cell_type") == cell.get("cell_type") == "markdown":
                prose += 1
                continue
            locked = " (a locked cell: nbgrader puts it back)" if _meta(cell).get("locked") \
                else ""
            notes.append(f"cell {i + 1} ({mine.get('cell_type')}) changed{locked}: "
                         f"`{_first_line(_source(mine))}`")
    for i, mine in enumerate(submitted):
        if i in used:
            continue
        written.append(i)
        if mine.get("cell_type") == "markdown":
            prose += 1
        else:
            notes.append(f"cell {i + 1} ({mine.get('cell_type')}) added: "
                         f"`{_first_line(_source(mine))}`")
    if prose:
        notes.append(f"{prose} markdown cell(s) edited, added or deleted (text only: they run "
                     "nothing)")
    return notes, sorted(written)


def _flags(cells: list[dict], written: list[int]) -> list[str]:
    found = []
    for i in written:
        cell = cells[i]
        if cell.get("cell_type") != "code":
            continue
        grade_id = _meta(cell).get("grade_id")
        where = f"cell {i + 1}" + (f" ({grade_id})" if grade_id else "")
        lines = _source(cell).splitlines()
        for label, pattern in _FLAGS.items():
            hits = [line.strip() for line in lines if pattern.search(line)]
            if not hits:
                continue
            first = hits[0] if len(hits[0]) <= 90 else hits[0][:87] + "..."
            more = f" (and {len(hits) - 1} more line(s))" if len(hits) > 1 else ""
            found.append(f"{where} touches {label}: `{first}`{more}")
    return found


def _cells(path: Path) -> list[dict] | None:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
        return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def review_submission(submitted: Path, release: Path) -> Review:
    """Compare a student's submission folder with the assignment's release folder."""
    review = Review()
    released_files = _files(release)
    review.extra_files = sorted(_files(submitted) - released_files)
    for name in sorted(f for f in released_files if f.endswith(".ipynb")):
        mine = _cells(submitted / name)
        if mine is None:
            if (submitted / name).exists():
                review.changed_cells.append(f"{name}: not a readable notebook")
            else:
                review.missing_notebooks.append(name)
            continue
        theirs = _cells(release / name) or []
        notes, written = _compare(theirs, mine)
        prefix = f"{name}: " if len([f for f in released_files if f.endswith(".ipynb")]) > 1 \
            else ""
        review.changed_cells += [prefix + n for n in notes]
        review.flags += [prefix + f for f in _flags(mine, written)]
    return review
