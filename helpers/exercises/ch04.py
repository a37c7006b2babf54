"""Checks for chapter 4, softmax: stable softmax, cross-entropy, its gradient, temperature.

Each check calls the student's function on copies of small, fixed inputs, compares
with a reference computed here, and names the typical mistake when it recognises
one (a missing max-subtraction, a wrong axis, a sum instead of a mean, a flipped
sign). Overflow warnings raised inside the student's function are caught and
reported as part of the feedback, never left on stderr.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._core import (
    ExerciseError,
    as_numeric_array,
    call_answer,
    check_array,
    check_number,
    check_vectorised,
    exercise_check,
    passed,
)

__all__ = [
    "check_stable_softmax",
    "check_cross_entropy",
    "check_cross_entropy_grad",
    "check_temperature_for",
]


# --------------------------------------------------------------------------------------
# References (the same stable formulas as helpers.activations, written out here)
# --------------------------------------------------------------------------------------


def _softmax(z, axis=-1) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(z, axis=-1) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _cross_entropy(logits, y) -> float:
    logits = np.asarray(logits, dtype=float)
    y = np.asarray(y)
    return float(-_log_softmax(logits, axis=1)[np.arange(len(y)), y].mean())


def _cross_entropy_grad(logits, y) -> np.ndarray:
    logits = np.asarray(logits, dtype=float)
    y = np.asarray(y)
    onehot = np.zeros_like(logits)
    onehot[np.arange(len(y)), y] = 1.0
    return (_softmax(logits, axis=1) - onehot) / len(y)


def _call(fn, *args, what: str, **kwargs):
    """call_answer, with numpy's floating-point warnings captured instead of printed.

    Returns the result and the first RuntimeWarning message (or None).
    """
    with warnings.catch_warnings(record=True) as caught, np.errstate(
        over="warn", invalid="warn", divide="warn", under="ignore"
    ):
        warnings.simplefilter("always", RuntimeWarning)
        result = call_answer(fn, *args, what=what, **kwargs)
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return result, (runtime[0] if runtime else None)


def _array_or_fail(got, what: str) -> np.ndarray:
    return as_numeric_array(got, what, "return the array of probabilities.")


def _one_number(got, what: str) -> float:
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    if isinstance(got, bool) or not isinstance(got, (int, float, np.number)):
        raise ExerciseError(f"{what} should return one number, got {type(got).__name__} "
                            f"{got!r:.60}.", "return the temperature T as a float.")
    return float(got)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9))


# --------------------------------------------------------------------------------------
# Exercise 1: a numerically stable softmax over any axis
# --------------------------------------------------------------------------------------

_SMALL = np.array([2.0, 1.0, 0.1])
_TABLE = np.array([[1.0, 2.0, 3.0, 0.5], [0.0, -1.0, 2.0, 2.0], [3.0, 0.0, -2.0, 1.0]])
_CUBE = np.arange(24, dtype=float).reshape(2, 3, 4) / 5.0 - 2.0
_HUGE = np.array([1000.0, 1001.0, 1002.0])
_TINY = np.array([-1000.0, -1001.0, -1003.0])
_MIXED = np.array([[0.0, 1.0, 2.0], [1000.0, 1001.0, 1002.0]])


@exercise_check
def check_stable_softmax(fn) -> None:
    """Exercise: ``stable_softmax(z, axis=-1)``, max-subtracted, over any axis, vectorised."""
    what = "`stable_softmax`"
    got, _ = _call(fn, _SMALL, what=what)
    got = _array_or_fail(got, what)
    expected = _softmax(_SMALL)
    if got.shape == expected.shape and np.allclose(got, np.exp(_SMALL)):
        raise ExerciseError(f"{what}([2, 1, 0.1]) returned exp(z) = {np.round(got, 3)}, which "
                            "does not sum to 1.", "divide by the sum of the exponentials.")
    check_array(got, expected, f"{what}([2, 1, 0.1])",
                hint="softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z).")

    for axis in (-1, 1, 0):
        got, _ = _call(fn, _TABLE, axis=axis, what=what)
        got = _array_or_fail(got, what)
        expected = _softmax(_TABLE, axis=axis)
        if _close(got, expected):
            continue
        call = f"{what}(Z, axis={axis}) for Z of shape {_TABLE.shape}"
        if _close(got, _softmax(_TABLE.ravel()).reshape(_TABLE.shape)):
            raise ExerciseError(
                f"{call} normalised over the whole array (all {_TABLE.size} values sum to 1) "
                f"instead of along axis {axis}.",
                "pass axis=axis and keepdims=True to .max() and .sum(), so each slice along "
                "the axis sums to 1.")
        other = 0 if axis in (-1, 1) else -1
        if _close(got, _softmax(_TABLE, axis=other)):
            raise ExerciseError(
                f"{call} normalised along axis {other} instead of axis {axis}.",
                "use the `axis` argument you were given in .max(...) and .sum(...), "
                "rather than a fixed axis.")
        check_array(got, expected, call,
                    hint="with keepdims=True, z.max(axis=axis, keepdims=True) broadcasts "
                    "back against z.")

    got, _ = _call(fn, _CUBE, axis=1, what=what)
    check_array(_array_or_fail(got, what), _softmax(_CUBE, axis=1),
                f"{what}(Z, axis=1) for Z of shape {_CUBE.shape}",
                hint="nothing in the formula depends on the number of dimensions: reduce "
                "along `axis` with keepdims=True.")

    for z, label in ((_HUGE, "[1000, 1001, 1002]"), (_TINY, "[-1000, -1001, -1003]")):
        got, warning = _call(fn, z, what=what)
        got = _array_or_fail(got, what)
        expected = _softmax(z)
        if warning is not None or not np.all(np.isfinite(got)):
            said = f" (numpy warned: {warning})" if warning else ""
            raise ExerciseError(
                f"{what}({label}) gave {np.round(got, 3)}{said}; the answer is "
                f"{np.round(expected, 3)}.",
                "exp(1000) overflows to inf and exp(-1000) underflows to 0, so inf/inf or 0/0 "
                "gives NaN. Subtract the maximum first: softmax does not change when you add "
                "a constant to every logit, and exp then only sees values <= 0.")
        check_array(got, expected, f"{what}({label})")

    got, warning = _call(fn, _MIXED, axis=1, what=what)
    got = _array_or_fail(got, what)
    expected = _softmax(_MIXED, axis=1)
    if not _close(got, expected):
        raise ExerciseError(
            f"{what}(Z, axis=1) for Z = [[0, 1, 2], [1000, 1001, 1002]] gave "
            f"{np.round(got, 3).tolist()}; expected {np.round(expected, 3).tolist()}.",
            "subtract the maximum of each slice along the axis (z.max(axis=axis, "
            "keepdims=True)), not the maximum of the whole array: the row [0, 1, 2] minus "
            "1002 underflows to 0/0.")

    check_vectorised(fn, what)
    passed(f"{what} is right: each slice along `axis` sums to 1, and logits of +-1000 "
           "give finite probabilities with no warning.")


# --------------------------------------------------------------------------------------
# Exercise 2: cross-entropy from logits
# --------------------------------------------------------------------------------------

_LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 1.0], [-1.0, 0.0, 3.0]])
_LABELS = np.array([0, 1, 2, 0])
_EXTREME = np.array([[1000.0, 0.0, -1000.0], [0.0, 1001.0, 1000.0]])
_EXTREME_LABELS = np.array([2, 2])


@exercise_check
def check_cross_entropy(fn) -> None:
    """Exercise: ``cross_entropy(logits, y)``: mean of -log softmax(logits)[i, y_i], stably."""
    what = "`cross_entropy`"
    got, _ = _call(fn, _LOGITS, _LABELS, what=what)
    expected = _cross_entropy(_LOGITS, _LABELS)
    n = len(_LABELS)
    if isinstance(got, np.ndarray) and got.size == n:
        raise ExerciseError(
            f"{what} returned {n} numbers (one loss per sample); expected their mean, "
            f"{expected:.4f}.", "average over the samples with .mean().")
    if isinstance(got, (int, float, np.number, np.ndarray)) and np.size(got) == 1:
        value = float(np.asarray(got).ravel()[0])
        if np.isclose(value, -expected, rtol=1e-6):
            raise ExerciseError(
                f"{what} is {value:.4f}: the right size but the wrong sign.",
                "the loss is -log p_y: a probability's log is negative, so the loss is >= 0.")
        if np.isclose(value, n * expected, rtol=1e-6):
            raise ExerciseError(
                f"{what} is {value:.4f}, the sum over the {n} samples; expected the mean, "
                f"{expected:.4f}.", "divide by the number of samples (or use .mean()).")
    check_number(got, expected, f"{what} on 4 samples of 3 classes", rtol=1e-6,
                 hint="pick each row's log-probability of its own label: "
                 "log_p[np.arange(n), y], then take minus the mean.")

    got, warning = _call(fn, _EXTREME, _EXTREME_LABELS, what=what)
    expected = _cross_entropy(_EXTREME, _EXTREME_LABELS)
    value = np.asarray(got, dtype=float).ravel() if got is not None else np.array([np.nan])
    if warning is not None or value.size != 1 or not np.isfinite(value[0]):
        said = f" (numpy warned: {warning})" if warning else ""
        shown = f"{value[0]:.4g}" if value.size == 1 else str(np.round(value, 4).tolist())
        raise ExerciseError(
            f"{what} on confident logits such as [1000, 0, -1000] gave {shown}{said}; the "
            f"answer is {expected:.4f}.",
            "exp(1000) overflows, and log(softmax(z)) takes the log of a probability that has "
            "underflowed to 0. Use log-softmax directly: "
            "log p_i = z_i - max(z) - log(sum_j exp(z_j - max(z))).")
    check_number(got, expected, f"{what} on logits of +-1000", rtol=1e-6)

    check_vectorised(fn, what)
    passed(f"{what} is right, and stays finite for confident wrong answers with logits "
           "of +-1000.")


# --------------------------------------------------------------------------------------
# Exercise 3: the gradient of cross-entropy with respect to the logits
# --------------------------------------------------------------------------------------


@exercise_check
def check_cross_entropy_grad(fn) -> None:
    """Exercise: ``cross_entropy_grad(logits, y)`` = (softmax(logits) - onehot(y)) / n."""
    what = "`cross_entropy_grad`"
    got, _ = _call(fn, _LOGITS, _LABELS, what=what)
    got = _array_or_fail(got, what)
    expected = _cross_entropy_grad(_LOGITS, _LABELS)
    n = len(_LABELS)
    if _close(got, -expected):
        raise ExerciseError(f"{what} has the wrong sign everywhere.",
                            "the gradient is p - onehot(y): it pushes the label's logit down "
                            "the loss, so its entry is negative.")
    if _close(got, n * expected):
        raise ExerciseError(
            f"{what} is {n} times too large: it is the gradient of the summed loss.",
            "the loss is the mean over the n samples, so divide p - onehot(y) by n.")
    check_array(got, expected, f"{what} for 4 samples of 3 classes",
                hint="d loss / d z_i = (p_i - [i == y]) / n, with p = softmax(z) of each row.")

    got, warning = _call(fn, _EXTREME, _EXTREME_LABELS, what=what)
    got = _array_or_fail(got, what)
    expected = _cross_entropy_grad(_EXTREME, _EXTREME_LABELS)
    if warning is not None or not np.all(np.isfinite(got)):
        said = f" (numpy warned: {warning})" if warning else ""
        raise ExerciseError(
            f"{what} is not finite for logits of +-1000{said}.",
            "compute p with a max-subtracted softmax: the gradient itself is always between "
            "-1/n and 1/n.")
    check_array(got, expected, f"{what} for logits of +-1000")

    check_vectorised(fn, what)
    passed(f"{what} is right: (softmax(z) - onehot(y)) / n, bounded even for confident "
           "wrong answers.")


# --------------------------------------------------------------------------------------
# Exercise 4: the temperature that gives the top class a target probability
# --------------------------------------------------------------------------------------

_TEMPERATURE_CASES = [
    (np.array([2.0, 1.0, 0.1]), 0.9),
    (np.array([2.0, 1.0, 0.1]), 0.5),
    (np.array([0.5, 2.0, 1.0, -0.3]), 0.99),
    (np.array([0.3, 0.1, 0.2, 0.0, -0.1]), 0.3),
]


def _top_probability(z: np.ndarray, temperature: float) -> float:
    return float(_softmax(z / temperature).max())


@exercise_check
def check_temperature_for(fn) -> None:
    """Exercise: ``temperature_for(logits, target)``: T > 0 where max softmax(z / T) = target."""
    what = "`temperature_for`"
    for z, target in _TEMPERATURE_CASES:
        call = f"{what}({np.round(z, 2).tolist()}, target={target})"
        got, _ = _call(fn, z, target, what=what)
        t = _one_number(got, call)
        if not np.isfinite(t) or t <= 0:
            raise ExerciseError(f"{call} returned T = {t:.4g}; a temperature must be > 0.",
                                "search T in an interval such as [1e-3, 1e3] (T must be finite).")
        p_top = _top_probability(z, t)
        if abs(p_top - target) <= 1e-4:
            continue
        if abs(_top_probability(z, 1.0 / t) - target) <= 1e-4:
            raise ExerciseError(
                f"{call} returned {t:.4g}, which looks like 1/T (the inverse temperature): "
                f"at T = {t:.4g} the top class gets p = {p_top:.4f}.",
                "the logits are divided by T: softmax(z / T).")
        direction = ("too sharp: a larger T flattens the distribution"
                     if p_top > target else "too flat: a smaller T sharpens the distribution")
        raise ExerciseError(
            f"{call} returned T = {t:.4g}, at which the top class gets p = {p_top:.4f}, "
            f"not {target}.",
            f"{direction}. The top probability falls steadily as T grows (from 1 at T -> 0 to "
            "1/k at T -> infinity), so bisection on log T finds the crossing.")
    passed(f"{what} is right: in every case the top class reaches the target probability "
           "(to 1e-4).")
