"""The course's trusted autograder: each notebook runs in a sandbox, verdicts are made outside.

A student's code is treated as hostile while it is graded. It runs in a bubblewrap sandbox as
an unprivileged user, without network, with the course installation read-only and nothing of
the instructor's in reach; the checks' grading side (inputs drawn at grading time, references,
comparisons) runs here, in nbgrader's process, which the sandbox cannot reach. Only plain data
crosses between them (``helpers.exercises._spec``: the inbox of cases, the outbox of results).

This package lives in ``tools/``, outside ``helpers/``: the sandbox sees ``helpers/`` and the
venv only, so nothing here can be imported, patched or read by the code being graded.

- ``sandbox``: the bubblewrap command line, the limits, the watchdog; runs one notebook;
- ``inside``: the runner inside the sandbox (nbclient); copied in, never imported here;
- ``channel``: the framing of what comes out of the sandbox, read as untrusted bytes;
- ``fontcache``: matplotlib's font cache, built once outside the sandbox;
- ``outputs``: the executed notebook's outputs onto the grader's copy; verdict outputs;
- ``preprocessor``: the nbgrader step (``SandboxedExecute``) that ties them together;
- ``report``: what happened to each notebook, for the instructor;
- ``review``: a submission compared with its release (extra files, changed cells).
"""
