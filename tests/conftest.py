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
