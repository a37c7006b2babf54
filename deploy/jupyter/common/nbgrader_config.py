"""nbgrader settings every user of the class shares (deploy/classroom.py puts this folder on
JUPYTER_CONFIG_PATH): the course id and the exchange folder."""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

# The same id as the repository's nbgrader_config.py, which tools/assignments.py generates with.
c.CourseDirectory.course_id = "activation-functions"
c.Exchange.root = os.environ.get("CLASS_EXCHANGE", "/srv/nbgrader/exchange")
