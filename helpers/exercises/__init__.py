"""Check functions for the exercise cells: friendly feedback, never silent.

Each chapter has its own module (``helpers.exercises.ch01`` ...); a check cell calls
one of its functions with the student's answer. A check prints a line starting
with a tick when the answer is right, and otherwise raises :class:`ExerciseError`
naming what differs and giving one hint. An answer that still raises
``NotImplementedError`` gets a short "not answered yet" line and the notebook runs on
(:func:`exercise_check`); under nbgrader it raises :class:`NotAnsweredYet`, so the
autograder scores it 0. Checks never modify the student's objects.
"""

from ._core import (
    ExerciseError,
    NotAnsweredYet,
    as_numeric_array,
    call_answer,
    check_array,
    check_keys,
    check_number,
    check_vectorised,
    exercise_check,
    find_python_loop,
    grading,
    needs_answer,
    passed,
    require_callable,
)

__all__ = [
    "ExerciseError",
    "NotAnsweredYet",
    "as_numeric_array",
    "call_answer",
    "check_array",
    "check_keys",
    "check_number",
    "check_vectorised",
    "exercise_check",
    "find_python_loop",
    "grading",
    "needs_answer",
    "passed",
    "require_callable",
]
