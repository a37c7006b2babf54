"""Checks for chapter 1, linear vs nonlinear models.

Each ``check_*`` function takes the student's answer (a function), calls it on
copies of fresh inputs through :func:`call_answer`, prints a tick when it is right,
and otherwise raises :class:`ExerciseError` saying what differs, with one hint.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import data, nn
from ._core import (
    ExerciseError,
    call_answer,
    check_array,
    check_number,
    exercise_check,
    passed,
)

__all__ = [
    "XOR_RECIPE",
    "check_linear_layer",
    "check_lift_xor",
    "check_collapse",
    "check_smallest_xor_width",
    "xor_width_accuracy",
]

# The recipe the width exercise asks for; the check trains with exactly this.
XOR_RECIPE = {"activation": "tanh", "seed": 0, "epochs": 200, "lr": 0.05, "optimizer": "adam",
              "target": 0.95}


# --------------------------------------------------------------------------------------
# Exercise 1: the forward pass of a linear layer
# --------------------------------------------------------------------------------------


def _reference_linear(X, W, b):
    return X @ W + b


@exercise_check
def check_linear_layer(linear_layer) -> None:
    """Check ``linear_layer(X, W, b)`` returns ``X @ W + b`` for a batch of inputs."""
    what = "`linear_layer(X, W, b)`"
    rng = np.random.default_rng(101)
    # Non-square shapes, so W.T or a transposed result cannot pass by accident.
    X = rng.normal(size=(5, 3))
    W = rng.normal(size=(3, 2))
    b = rng.normal(size=2)
    got = call_answer(linear_layer, X, W, b, what=what)
    if got is not None and np.shape(got) == (2, 5):
        raise ExerciseError(
            f"{what} has shape (2, 5), expected (5, 2): one row per sample, one column "
            "per output unit.",
            "with X of shape (n, d_in) and W of shape (d_in, d_out), compute X @ W "
            "(not W.T @ X.T).",
        )
    expected = _reference_linear(X, W, b)
    if got is not None and np.shape(got) == expected.shape and np.allclose(got, X @ W):
        raise ExerciseError(
            f"{what} equals X @ W: the bias b is missing.",
            "add the bias vector b; numpy broadcasting adds it to every row.",
        )
    check_array(got, expected, what,
                hint="each output is z_j = sum_i x_i W_ij + b_j, i.e. X @ W + b.")
    # A single sample (a batch of one) and a wider layer must work too.
    X1 = rng.normal(size=(1, 4))
    W1 = rng.normal(size=(4, 6))
    b1 = rng.normal(size=6)
    got1 = call_answer(linear_layer, X1, W1, b1, what=what)
    check_array(got1, _reference_linear(X1, W1, b1), f"{what} for a batch of one sample",
                hint="use matrix operations that work for any n, d_in and d_out.")
    passed("linear_layer computes X @ W + b for any batch and layer size.")


# --------------------------------------------------------------------------------------
# Exercise 2: a feature that makes XOR linearly separable
# --------------------------------------------------------------------------------------


def _linear_accuracy(F: np.ndarray, y: np.ndarray) -> float:
    net = nn.MLP([F.shape[1], 1], output="sigmoid", seed=0)
    net.fit(F, y, epochs=300, lr=0.1, optimizer="adam")
    return net.accuracy(F, y)


@exercise_check
def check_lift_xor(lift) -> None:
    """Check ``lift(X)`` returns features on which a linear classifier solves XOR."""
    what = "`lift(X)`"
    X, y = data.xor(200, seed=7)
    F = call_answer(lift, X, what=what)
    if F is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    try:
        F = np.asarray(F, dtype=float)
    except (TypeError, ValueError):
        raise ExerciseError(f"{what} should return a numeric array, got {type(F).__name__}.",
                            "return a numpy array of shape (n, k).") from None
    if F.ndim != 2 or F.shape[0] != len(X):
        raise ExerciseError(
            f"{what} returned shape {F.shape}; expected ({len(X)}, k): one row per sample.",
            "stack the columns with np.column_stack([X, new_feature]).",
        )
    if not 1 <= F.shape[1] <= 5:
        raise ExerciseError(
            f"{what} returned {F.shape[1]} features; keep it small (1 to 5 columns).",
            "one well-chosen extra column is enough.",
        )
    if not np.all(np.isfinite(F)):
        raise ExerciseError(f"{what} returned NaN or inf.", "use a feature that is finite "
                            "for every input.")
    acc = _linear_accuracy(F, y)
    if acc < 0.95:
        raise ExerciseError(
            f"a linear classifier on your features reaches only {acc:.0%} on XOR "
            "(the goal is at least 95%).",
            "a linear function of x1 and x2 (such as x1 + x2) adds nothing new. XOR's label "
            "depends on whether x1 and x2 have the same sign: which product has that sign?",
        )
    passed(f"a linear classifier on your features reaches {acc:.0%} on XOR.")


# --------------------------------------------------------------------------------------
# Exercise 3: collapse a stack of linear layers into one
# --------------------------------------------------------------------------------------


def _reference_collapse(weights, biases):
    W, b = weights[0], biases[0]
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next, b @ W_next + b_next
    return W, b


def _random_stack(rng, sizes):
    weights = [rng.normal(size=(i, o)) for i, o in zip(sizes, sizes[1:])]
    biases = [rng.normal(size=o) for o in sizes[1:]]
    return weights, biases


def _unpack_pair(result, what):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise ExerciseError(
            f"{what} should return a pair (W, b), got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".",
            "end with `return W, b`.",
        )
    return result


@exercise_check
def check_collapse(collapse) -> None:
    """Check ``collapse(weights, biases)`` returns the single (W, b) of a linear stack."""
    what = "`collapse(weights, biases)`"
    rng = np.random.default_rng(202)
    # Square layers first (so a wrong order or summed biases give their own message), then
    # non-square stacks of several depths, down to a single layer.
    for sizes in ([3, 3, 3, 3], [2, 4, 3, 1], [3, 5, 2], [2, 3], [4, 6, 5, 3, 2, 2]):
        weights, biases = _random_stack(rng, sizes)
        W_ref, b_ref = _reference_collapse(weights, biases)
        label = f"{what} for layer sizes {sizes}"
        W, b = _unpack_pair(call_answer(collapse, weights, biases, what=what), label)
        W_arr = np.asarray(W, dtype=float) if W is not None else None
        if W_arr is not None and W_arr.shape != W_ref.shape and W_arr.shape == W_ref.T.shape:
            raise ExerciseError(
                f"W from {label} has shape {W_arr.shape}, expected {W_ref.shape} (inputs, "
                "outputs).",
                "multiply in the order the data flows: W1 @ W2 @ W3, not W3 @ W2 @ W1.",
            )
        check_array(W, W_ref, f"W from {label}",
                    hint="multiply in the order the data flows: W1 @ W2 @ ... @ WL.")
        b_arr = np.asarray(b, dtype=float) if b is not None else None
        if b_arr is not None and b_arr.shape == b_ref.shape and len(biases) > 1:
            widths = {bias.shape for bias in biases}
            if len(widths) == 1 and np.allclose(b_arr, np.sum(biases, axis=0)):
                raise ExerciseError(
                    f"b from {label} is the sum of the biases, but each bias is also "
                    "multiplied by every weight matrix after it.",
                    "b1 goes through W2, W3, ...: b = (b1 @ W2 + b2) @ W3 + b3 for three layers.",
                )
        check_array(b, b_ref, f"b from {label}",
                    hint="feed the biases forward too: b = (b1 @ W2 + b2) @ W3 + b3 for three "
                    "layers; in general b <- b @ W_next + b_next, layer by layer.")
        # The real test: one layer gives the same outputs as the stack.
        X = rng.normal(size=(7, sizes[0]))
        a = X
        for W_l, b_l in zip(weights, biases):
            a = a @ W_l + b_l
        check_array(X @ np.asarray(W, dtype=float) + np.asarray(b, dtype=float), a,
                    f"X @ W + b with your W, b (sizes {sizes})", rtol=1e-9, atol=1e-12)
    passed("one layer (W, b) reproduces every stack of linear layers: depth without an "
           "activation adds nothing.")


# --------------------------------------------------------------------------------------
# Exercise 4: the smallest hidden layer that solves XOR
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _width_accuracy(data_seed: int, width: int) -> float:
    X, y = data.xor(200, seed=data_seed)
    return xor_width_accuracy(X, y, width)


def xor_width_accuracy(X, y, width: int) -> float:
    """Training accuracy of the XOR_RECIPE network with ``width`` hidden units."""
    r = XOR_RECIPE
    net = nn.MLP([2, width, 1], activation=r["activation"], output="sigmoid", seed=r["seed"])
    net.fit(X, y, epochs=r["epochs"], lr=r["lr"], optimizer=r["optimizer"])
    return net.accuracy(X, y)


def _reference_width(data_seed: int, max_width: int) -> int | None:
    for width in range(1, max_width + 1):
        if _width_accuracy(data_seed, width) >= XOR_RECIPE["target"]:
            return width
    return None


def _accuracy_list(data_seed: int, upto: int) -> str:
    return ", ".join(f"{w}: {_width_accuracy(data_seed, w):.1%}" for w in range(1, upto + 1))


@exercise_check
def check_smallest_xor_width(smallest_xor_width) -> None:
    """Check ``smallest_xor_width(X, y, max_width)`` against the recipe in ``XOR_RECIPE``."""
    what = "`smallest_xor_width(X, y, max_width)`"
    target = XOR_RECIPE["target"]
    # Two XOR samples with different answers, so a hard-coded number cannot pass.
    for data_seed in (0, 5):
        X, y = data.xor(200, seed=data_seed)
        expected = _reference_width(data_seed, 8)
        got = call_answer(smallest_xor_width, X, y, 8, what=what)
        label = f"{what} on XOR sample seed={data_seed}"
        if isinstance(got, float) and 0 < got <= 1 and not float(got).is_integer():
            raise ExerciseError(
                f"{label} returned {got:.3g}, which looks like an accuracy, not a width.",
                "return the number of hidden units h, not the accuracy it reached.",
            )
        got = check_number(got, expected, label, integer=True,
                           hint=f"accuracies by width with the recipe: "
                           f"{_accuracy_list(data_seed, expected + 1)}. Return the first width "
                           f"whose accuracy is >= {target}; widths start at 1, not 0.")
    # When no width up to max_width works, the answer is None.
    X, y = data.xor(200, seed=0)
    got = call_answer(smallest_xor_width, X, y, 1, what=what)
    if got is not None:
        raise ExerciseError(
            f"{what} with max_width=1 returned {got!r}, but one hidden unit reaches only "
            f"{_width_accuracy(0, 1):.1%}: the answer should be None.",
            "try widths 1..max_width only, and return None when none of them is good enough.",
        )
    passed(f"smallest_xor_width finds the first width reaching {target:.0%} "
           f"({_reference_width(0, 8)} hidden units for the notebook's XOR).")
