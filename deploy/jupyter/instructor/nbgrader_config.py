"""The instructor's nbgrader settings: the course folder in their home, and the repository's
own grading settings (solution stubs, kernel timeout), so `nbgrader autograde` on the hub
grades exactly as `tools/assignments.py` does."""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

repo = os.environ.get("CLASS_REPO")
if repo and os.path.isfile(os.path.join(repo, "nbgrader_config.py")):
    load_subconfig(os.path.join(repo, "nbgrader_config.py"))  # noqa: F821 - from traitlets

c.CourseDirectory.root = os.path.expanduser("~/activation-functions")
# A submission whose student deleted a check cell is graded with the check put back (and a note
# in the cell saying so), instead of silently losing that cell's points.
c.OverwriteCells.add_missing_cells = True
