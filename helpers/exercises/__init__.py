"""Check functions for the exercise cells: friendly feedback, never silent, never fooled.

Each chapter has its own module (``helpers.exercises.ch01`` ...); a check cell calls one of its
functions with the student's answer. Behind each check is a spec (``_spec``): the exercise's
contract, a reference, and cases drawn afresh at every call, edge cases first. The answer runs
on every case, on copies of the inputs, while what it calls is traced (``_trace``); only then
are the references computed and the results judged (``_contract``). A right answer gets a tick
(the same line for every draw); a wrong one an :class:`ExerciseError` that names the case, the
seed that repeats the draw, and one hint. An answer that still raises ``NotImplementedError``
gets a short "not answered yet" line and the notebook runs on (:func:`exercise_check`); under
nbgrader it raises :class:`NotAnsweredYet`.

Under autograding the same specs serve the trusted grader (``tools/grader``): the check cell
only records what the answer returned on the grader's cases, as plain data (``_plain``), and
the grader judges it in its own process.
"""

from ._core import (
    ExerciseError,
    NotAnsweredYet,
    check_keys,
    exercise_check,
    grading,
    needs_answer,
    passed,
    require_callable,
)
from ._spec import case

__all__ = [
    "ExerciseError",
    "NotAnsweredYet",
    "case",
    "check_keys",
    "exercise_check",
    "grading",
    "needs_answer",
    "passed",
    "require_callable",
]
