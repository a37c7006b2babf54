"""nbgrader configuration for instructors (`make assignments`; docs/instructors.md).

The chapters in notebooks/ are the *source* (solution) versions. tools/assignments.py
copies each into build/nbgrader/source/<chNN>/ and runs nbgrader there, so nothing
nbgrader writes (release/, submitted/, autograded/, gradebook.db) lands in the repo.

Autograding runs each notebook in a bubblewrap sandbox and judges the checks outside it
(tools/grader/): nbgrader's own Execute step, which ran the student's code with the
instructor's rights and let it decide its own grade, is replaced. The classroom's instructor
config (deploy/jupyter/instructor/) loads this file, so the hub grades the same way.
"""

import sys
from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "activation-functions"
# tools/assignments.py passes --CourseDirectory.root=<repo>/build/nbgrader (an absolute path).
# What a student sees in place of a solution: the check cell then says "not answered yet".
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# `nbgrader validate` (a student checking a notebook) still runs it in a plain kernel.
c.ExecutePreprocessor.timeout = 300

# The grader (tools/grader) is found from this repository, after everything installed: it is
# never imported from a course folder, and the sandbox never sees it.
ROOT = str(Path(__file__).resolve().parent)  # noqa: F821 - traitlets sets __file__
if ROOT not in sys.path:
    sys.path.append(ROOT)
c.Autograde.autograde_preprocessors = [
    "tools.grader.preprocessor.SandboxedExecute",  # in place of nbgrader's Execute
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Per notebook; each chapter takes about 10 s. tools/assignments.py --time-limit changes it.
c.SandboxedExecute.time_limit = 600
