"""The instructor's nbgrader settings: the course folder in their home, and the repository's
own grading settings (solution stubs, kernel timeout, and the sandboxed grader that replaces
nbgrader's execution step), so `nbgrader autograde` in a hub terminal grades exactly as
`tools/assignments.py` does: each notebook in a bubblewrap sandbox run as the instructor
(unprivileged), the verdicts computed in nbgrader's own process (tools/grader)."""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

repo = os.environ.get("CLASS_REPO", "")
settings = os.path.join(repo, "nbgrader_config.py")
if not (repo and os.path.isfile(settings)
        and os.path.isfile(os.path.join(repo, "tools", "grader", "preprocessor.py"))):
    # Without the repository's settings nbgrader would autograde with its own Execute step:
    # the student's code in the instructor's process, able to decide its own grade. Refuse.
    raise RuntimeError(f"CLASS_REPO={repo!r} is not this course's repository (no "
                       "nbgrader_config.py and tools/grader/ there): the sandboxed grader's "
                       "settings are missing, so nbgrader will not run")
load_subconfig(settings)  # noqa: F821 - from traitlets

c.CourseDirectory.root = os.path.expanduser("~/activation-functions")
# A submission whose student deleted a check cell is graded with the check put back (and a note
# in the cell saying so), instead of silently losing that cell's points.
c.OverwriteCells.add_missing_cells = True
