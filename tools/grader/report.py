"""What the grader did with one notebook, for the instructor.

The nbgrader step writes one JSON report per graded notebook in the course folder,
``grader_reports/<assignment>/<student>/<notebook>.json`` (next to ``gradebook.db``, where
students never reach; not under ``autograded/``, which feedback is made from), and logs the
same facts through nbgrader's log. ``tools/assignments.py autograde`` reads them back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["CheckResult", "NotebookReport", "read_reports", "report_path"]

FOLDER = "grader_reports"


@dataclass
class CheckResult:
    """The grader's verdict on one check cell."""

    grade_id: str
    passed: bool
    message: str


@dataclass
class NotebookReport:
    """One notebook: how its sandboxed run ended and each check's verdict."""

    student: str
    assignment: str
    notebook: str
    ending: str                      # the sandbox's ending: finished, timeout, memory, ...
    reason: str = ""                 # why nothing could be graded ("" when it ran to the end)
    uid: int = -1                    # the user the sandbox ran as (outside it)
    seconds: float = 0.0
    peak_memory_mb: float = 0.0
    peak_tasks: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    no_spec: list[str] = field(default_factory=list)    # check cells without an exercise spec
    problems: list[str] = field(default_factory=list)   # outputs that could not be kept, ...
    log: str = ""            # the end of the sandbox's own output, when the run went wrong

    @property
    def graded(self) -> bool:
        """True when the notebook ran to the end and every check cell had a spec."""
        return self.ending == "finished" and not self.no_spec

    def summary(self) -> str:
        """One line for a log."""
        passed = sum(c.passed for c in self.checks)
        head = (f"{self.assignment}/{self.student}/{self.notebook}: {passed} of "
                f"{len(self.checks)} checks passed")
        if self.reason:
            head += f"; NOT GRADED: {self.reason}"
        if self.no_spec:
            head += f"; no exercise spec for {', '.join(self.no_spec)} (scored 0)"
        return head

    def write(self, course_root: Path) -> Path:
        path = report_path(course_root, self.assignment, self.student, self.notebook)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, text: str) -> NotebookReport:
        data = json.loads(text)
        data["checks"] = [CheckResult(**c) for c in data.get("checks", [])]
        return cls(**data)


def report_path(course_root: Path, assignment: str, student: str, notebook: str) -> Path:
    return Path(course_root) / FOLDER / assignment / student / f"{notebook}.json"


def read_reports(course_root: Path, assignment: str, student: str) -> list[NotebookReport]:
    """The reports of one student's assignment (none if it was not graded by this grader)."""
    folder = Path(course_root) / FOLDER / assignment / student
    return [NotebookReport.from_json(p.read_text(encoding="utf-8"))
            for p in sorted(folder.glob("*.json"))]
