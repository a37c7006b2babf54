"""The nbgrader step: grade a notebook in the sandbox, with verdicts computed here.

:class:`SandboxedExecute` replaces nbgrader's ``Execute`` in
``Autograde.autograde_preprocessors`` (``nbgrader_config.py``; nbgrader itself is not
changed). For each notebook it

1. finds the check cells (code cells with ``grade: true``, not answers) and, for each, its
   exercise spec (``helpers.exercises._spec.spec_for``); draws fresh cases for them here, in
   the grader's process, and writes them as plain data to the inbox (``prepare_inbox``). A
   check cell without a spec is graded 0 and reported: nothing else could judge it;
2. runs the notebook in a fresh sandbox (``sandbox.run``), where the check cells only
   collect what the student's functions return on those cases, into the outbox;
3. takes back only the outputs of the executed notebook, onto its own copy (``outputs``);
4. judges the outbox here (``verdicts``: missing or malformed results fail) and replaces
   every check cell's outputs by that verdict. What the sandbox printed in a check cell,
   a pass included, counts for nothing. A notebook that timed out, crashed its kernel or hit
   a limit has every check failed with that reason;
5. writes a report (``report``) and logs a summary line.

nbgrader's next steps then score the cells (``SaveAutoGrades``: an error output is 0) into the
gradebook, as before.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer

from . import outputs, report, sandbox

__all__ = ["SandboxedExecute", "check_cells"]


def check_cells(nb) -> list:
    """The autograded test cells: code, ``grade: true``, not a solution."""
    return [c for c in nb.cells if c.cell_type == "code" and utils.is_grade(c)
            and not utils.is_solution(c)]


class SandboxedExecute(NbGraderPreprocessor):
    """Execute the notebook in a bubblewrap sandbox and grade its checks outside it."""

    time_limit = Float(600.0, help="Wall-clock seconds for one notebook, kernel start "
                       "included; the whole sandbox is killed at this limit.").tag(config=True)
    memory_limit = Integer(sandbox.Limits.memory, help="Bytes of resident memory for all "
                           "of a notebook's processes together.").tag(config=True)
    address_space = Integer(sandbox.Limits.address_space, help="RLIMIT_AS of each process "
                            "in the sandbox (PyTorch maps about 1.7 GB).").tag(config=True)
    task_limit = Integer(sandbox.Limits.tasks, help="Processes and threads of the sandbox "
                         "(RLIMIT_NPROC).").tag(config=True)
    file_size = Integer(sandbox.Limits.file_size, help="RLIMIT_FSIZE: the largest file the "
                        "notebook may write.").tag(config=True)

    def limits(self) -> sandbox.Limits:
        return sandbox.Limits(seconds=self.time_limit, memory=self.memory_limit,
                              address_space=self.address_space, tasks=self.task_limit,
                              file_size=self.file_size)

    def course_root(self) -> Path:
        # nbgrader's converter runs with the course folder as the working directory.
        converter = getattr(self.parent, "parent", None)
        coursedir = getattr(converter, "coursedir", None)
        return Path(coursedir.root if coursedir is not None else ".").resolve()

    def preprocess(self, nb, resources):
        from helpers.exercises import _spec  # the course's own specs, in the grader's process

        info = resources.get("nbgrader", {})
        notebook_id = info.get("notebook", "notebook")
        rep = report.NotebookReport(student=info.get("student", "?"),
                                    assignment=info.get("assignment", "?"),
                                    notebook=notebook_id, ending="")
        checks = check_cells(nb)
        run_dir = sandbox.new_run_dir()
        try:
            inbox = run_dir / "inbox"
            inbox.mkdir(mode=0o755)
            prepared = {}
            for cell in checks:
                grade_id = cell.metadata.nbgrader["grade_id"]
                try:
                    prepared.update(_spec.prepare_inbox([grade_id], inbox))
                except (KeyError, ValueError):  # no spec (chapter not converted), bad id
                    rep.no_spec.append(grade_id)
            for path in inbox.iterdir():
                path.chmod(0o644)
            sent = nbformat.writes(nb).encode("utf-8")
            outcome = sandbox.run(sent, f"{notebook_id}.ipynb", inbox, run_dir, self.limits())
            rep.ending, rep.reason, rep.uid = outcome.ending, outcome.reason, outcome.uid
            rep.seconds = round(outcome.seconds, 2)
            rep.peak_memory_mb = round(outcome.peak_memory / 2**20, 1)
            rep.peak_tasks = outcome.peak_tasks
            if not outcome.finished:
                rep.log = outcome.log[-3000:]
            if outcome.notebook:
                rep.problems += outputs.take_outputs(nb, outcome.notebook)
            else:
                for cell in nb.cells:
                    if cell.cell_type == "code":
                        cell.outputs, cell.execution_count = [], None
            judged = (_spec.verdicts(prepared, outcome.outbox)
                      if outcome.finished and outcome.outbox is not None else {})
            for cell in checks:
                rep.checks.append(self._verdict(cell, judged, rep))
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
        rep.write(self.course_root())
        log = self.log.warning if (rep.reason or rep.no_spec or rep.problems) else self.log.info
        log("[sandboxed grader] %s", rep.summary())
        for problem in rep.problems:
            self.log.warning("[sandboxed grader] %s/%s: %s", rep.assignment, rep.student,
                             problem)
        return nb, resources

    def _verdict(self, cell, judged: dict, rep: report.NotebookReport) -> report.CheckResult:
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id in rep.no_spec:
            passed, message = False, (
                f"\u274c The grader has no exercise spec for the check cell {grade_id!r}, so "
                "it cannot judge it: this check scores 0 (tell your instructor).")
        elif rep.reason:
            passed, message = False, (f"\u274c Not graded: {rep.reason}. Every check of "
                                      "this notebook scores 0.")
        elif grade_id in judged:
            passed, message = judged[grade_id].passed, judged[grade_id].message
        else:
            passed, message = False, f"\u274c No verdict for the check cell {grade_id!r}."
        cell.outputs = [outputs.pass_output(message) if passed else
                        outputs.error_output(message)]
        return report.CheckResult(grade_id, passed, message)
