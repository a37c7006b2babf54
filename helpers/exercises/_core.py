"""The small pieces every exercise check shares.

A wrong answer raises :class:`ExerciseError` (shown in Jupyter as its message alone); an
unanswered one :class:`NotAnsweredYet` (:func:`exercise_check` turns it into one printed line
while a student works, and lets it fail the cell under nbgrader). :func:`passed` prints the
tick; :func:`needs_answer` lets a later cell that uses an answer say, in one line, that the
answer is missing. The checks themselves are specs (``_spec``).
"""

from __future__ import annotations

import contextlib
import functools
import os

import numpy as np

__all__ = [
    "ExerciseError",
    "NotAnsweredYet",
    "check_keys",
    "exercise_check",
    "grading",
    "needs_answer",
    "passed",
    "require_callable",
]


class ExerciseError(AssertionError):
    """A wrong answer: the message says what differs and gives a hint.

    In Jupyter it is shown as the message alone (no traceback), via IPython's
    ``_render_traceback_`` hook; anywhere else it is a normal AssertionError, so
    nbgrader's autograder scores the cell as failed. ``where`` names the case that failed
    and how to repeat it (a check adds it with :meth:`at`).
    """

    icon = "\u274c"  # red cross

    def __init__(self, problem: str, hint: str | None = None, where: str | None = None):
        self.problem = problem
        self.hint = hint
        self.where = where
        parts = [problem] + ([where] if where else []) + ([f"Hint: {hint}"] if hint else [])
        super().__init__("\n".join(parts))

    def at(self, where: str) -> ExerciseError:
        """The same error, saying in which case (and seed) it happened."""
        return type(self)(self.problem, self.hint, where) if type(self) is ExerciseError \
            else self

    def _render_traceback_(self) -> list[str]:
        lines = [f"{self.icon} {self.problem}"]
        if self.where:
            lines.append(f"   {self.where}")
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return lines


class NotAnsweredYet(ExerciseError):
    """The answer cell still raises NotImplementedError: nothing to check yet."""

    icon = "\u270f\ufe0f"  # pencil

    def __init__(self, what: str):
        super().__init__(
            f"{what} is not answered yet.",
            "replace `raise NotImplementedError()` in the answer cell with your code, "
            "run that cell, then run this check again.",
        )


def grading() -> bool:
    """True while nbgrader autogrades or validates a notebook (it sets NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def exercise_check(check):
    """Decorator for a chapter's check function: an unanswered exercise does not stop the run.

    While a student works, "not answered yet" is printed and the notebook runs on (so Run All
    shows every figure below an exercise). Under nbgrader (autograde, validate) the
    NotAnsweredYet error is raised as before, so the cell fails and scores 0. A wrong answer
    always raises ExerciseError: that is feedback the student must see.
    """

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except NotAnsweredYet as err:
            if grading():
                raise
            print("\n".join(err._render_traceback_()))
            return None

    return wrapper


@contextlib.contextmanager
def needs_answer(what: str):
    """For a cell that uses a student's answer: unanswered, it says so in one line and stops.

    ``with needs_answer("Exercise 2"): ...`` runs the block; if the answer still raises
    NotImplementedError (or a check reports NotAnsweredYet), the rest of the block is
    skipped with one line naming the exercise, instead of a traceback. Other errors pass.
    """
    try:
        yield
    except (NotImplementedError, NotAnsweredYet):
        print(f"\u270f\ufe0f This cell uses your answer to {what}, which is not answered yet: "
              "answer it, then run this cell again.")


def passed(message: str) -> None:
    """Print a clear pass line."""
    print(f"\u2705 {message}")


def require_callable(answer, what: str) -> None:
    """Fail clearly when the student's answer is not a function."""
    if not callable(answer):
        raise ExerciseError(
            f"{what} should be a function, but got {type(answer).__name__} {answer!r:.60}.",
            "define it with `def ...:` in the answer cell and pass the function itself "
            "(without calling it).",
        )


def check_keys(got, expected, what: str, hint: str, normalise=str) -> dict:
    """Check a returned dict has exactly the ``expected`` keys (after ``normalise``).

    Returns the dict with normalised keys; raises ExerciseError naming what is missing
    and what is unexpected.
    """
    if not isinstance(got, dict):
        raise ExerciseError(f"{what} should return a dict, got {type(got).__name__} {got!r:.60}.",
                            hint)
    answers = {normalise(k): v for k, v in got.items()}
    missing = [k for k in expected if k not in answers]
    extra = sorted(set(answers) - set(expected), key=str)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing key(s) {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"unexpected key(s) {', '.join(map(repr, extra))}")
        raise ExerciseError(f"{what} returned keys {sorted(got, key=str)}: {'; '.join(parts)}.",
                            hint)
    return answers


def _same(a, b) -> bool:
    """Equal contents: arrays of the same shape, dtype and values; lists and tuples item by
    item; anything else by ==. For a driver that checks the answer changed nothing."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    try:
        return bool(a == b)
    except Exception:
        return True
