"""nbgrader configuration for instructors (`make assignments`; see README, "For instructors").

The chapters in notebooks/ are the *source* (solution) versions. tools/assignments.py
copies each into build/nbgrader/source/<chNN>/ and runs nbgrader there, so nothing
nbgrader writes (release/, submitted/, autograded/, gradebook.db) lands in the repo.
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "activation-functions"
# tools/assignments.py passes --CourseDirectory.root=<repo>/build/nbgrader (an absolute path).
# What a student sees in place of a solution: the check cell then says "not answered yet".
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Each chapter takes a few seconds; a generous limit keeps a stuck kernel from hanging grading.
c.ExecutePreprocessor.timeout = 300
