"""The two modes of every exercise check: a student's session and nbgrader's autograder.

A student who runs a chapter top to bottom with nothing answered sees "not answered yet"
and the notebook goes on; nbgrader (autograde, validate) sets NBGRADER_EXECUTION and gets
NotAnsweredYet, a failing cell worth 0 points. A wrong answer raises in both modes.
"""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import helpers.exercises as exercises
from helpers.exercises import ExerciseError, NotAnsweredYet, needs_answer

CHAPTER_MODULES = [importlib.import_module(f"helpers.exercises.{m.name}")
                   for m in pkgutil.iter_modules(exercises.__path__) if m.name.startswith("ch")]
CHECKS = [fn for module in CHAPTER_MODULES for name, fn in vars(module).items()
          if name.startswith("check_") and inspect.isfunction(fn)
          and fn.__module__ == module.__name__]


def unfinished(*args, **kwargs):
    raise NotImplementedError()


def all_unfinished(check):
    """Call ``check`` with an unanswered stub for every answer it takes."""
    n = len(inspect.signature(check).parameters)
    return check(*([unfinished] * n))


def test_every_chapter_has_checks():
    assert len(CHAPTER_MODULES) >= 6 and len(CHECKS) >= 20, [m.__name__ for m in CHAPTER_MODULES]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.__module__[-4:]}.{c.__name__}")
def test_unanswered_prints_and_lets_the_notebook_run_on(check, monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert all_unfinished(check) is None
    out = capsys.readouterr().out
    assert "not answered yet" in out and out.startswith("\u270f\ufe0f"), out


@pytest.mark.parametrize("mode", ["autograde", "validate"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.__module__[-4:]}.{c.__name__}")
def test_unanswered_fails_under_nbgrader(check, mode, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", mode)
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        all_unfinished(check)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.__module__[-4:]}.{c.__name__}")
def test_a_wrong_answer_raises_in_a_students_session_too(check, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    n = len(inspect.signature(check).parameters)
    with pytest.raises(ExerciseError) as info:
        check(*([np.zeros(3)] * n))  # not even a function
    assert not isinstance(info.value, NotAnsweredYet)


def test_needs_answer_says_so_in_one_line(capsys):
    ran = []
    with needs_answer("Exercise 2"):
        ran.append("before")
        unfinished()
        ran.append("after")
    out = capsys.readouterr().out
    assert ran == ["before"]
    assert out.count("\n") == 1 and "Exercise 2" in out and "not answered yet" in out


def test_needs_answer_lets_other_errors_through():
    with pytest.raises(ZeroDivisionError), needs_answer("Exercise 1"):
        _ = 1 / 0
