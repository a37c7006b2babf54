"""Shared test setup: a non-interactive matplotlib backend and common fixtures."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import activations  # noqa: E402

BUILTIN_NAMES = [
    "identity", "step", "sigmoid", "tanh", "arctan", "relu", "leaky_relu", "elu", "softplus",
    "gelu", "silu",
]


@pytest.fixture
def rng():
    """A seeded random generator, fresh for each test."""
    return np.random.default_rng(1234)


@pytest.fixture(params=BUILTIN_NAMES)
def act(request):
    """Every built-in activation, one test each."""
    return activations.get(request.param)


@pytest.fixture(autouse=True)
def as_the_autograder(request, monkeypatch):
    """The exercise-check tests run the checks as nbgrader's autograder runs them.

    Under NBGRADER_EXECUTION an unanswered exercise raises NotAnsweredYet (0 points); in a
    student's session it only prints. tests/test_exercises_core.py tests both modes.
    """
    if request.module.__name__.rsplit(".", 1)[-1].startswith("test_exercises_ch"):
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
