"""Contracts a result must meet, with messages that say what came and what was expected.

The judges of the exercise specs call these on the *plain* result (``_plain``): a numpy
array, a Python or numpy number, a list, a dict, ``None``, or an ``Other`` standing for
anything else (a generator, a function, an object). Each function returns the value it
checked, or raises ExerciseError; none crashes on a strange value.
"""

from __future__ import annotations

import math

import numpy as np

from ._core import ExerciseError
from ._plain import Other, TensorData, describe

__all__ = ["elementwise_result", "expect_close", "expect_dict", "expect_float", "expect_int",
           "expect_ndarray", "first_difference", "pair", "show"]


def show(a, precision: int = 4) -> str:
    """A compact, one-line rendering of a small array or number for a message."""
    return np.array2string(np.asarray(a), precision=precision, separator=", ",
                           suppress_small=False, threshold=20).replace("\n", "")


def _none(got, what: str) -> None:
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")


def expect_ndarray(got, what: str, *, shape: tuple | None = None, dtype=None,
                   hint: str | None = None, input_shape: tuple | None = None) -> np.ndarray:
    """``got`` must be a numpy array (exactly ``np.ndarray``), of ``shape`` and ``dtype``."""
    _none(got, what)
    if not isinstance(got, np.ndarray):
        if isinstance(got, (list, tuple)):
            came = f"a Python {type(got).__name__}"
            advice = "return the numpy array itself (np.array(...) of a list is not needed " \
                     "when you compute with arrays)."
        elif isinstance(got, np.generic) or isinstance(got, (int, float, complex)):
            came = f"a single number ({describe(got)})"
            advice = "keep the result an array of the input's shape."
        else:
            came = describe(got)
            advice = "return a numpy array."
        expected = f" of shape {shape}" if shape is not None else ""
        raise ExerciseError(f"{what} returned {came}, expected a numpy array{expected}.",
                            hint or advice)
    if shape is not None and got.shape != tuple(shape):
        extra = ""
        if got.size == int(np.prod(shape)) and got.ndim and len(shape):
            extra = " (the same number of values: reshaped, flattened or transposed?)"
        on = f" for an input of shape {input_shape}" if input_shape is not None else ""
        raise ExerciseError(f"{what} returned shape {got.shape}{on}, expected {tuple(shape)}"
                            f"{extra}.",
                            hint or "keep one result per input element, in the same places.")
    if dtype is not None and got.dtype != np.dtype(dtype):
        raise ExerciseError(
            f"{what} returned dtype {got.dtype}, expected {np.dtype(dtype)}.",
            hint or "keep the input's dtype: arithmetic between an array and plain Python "
            "numbers keeps it, while a float64 array or np.float64 number in the expression "
            "changes float32 to float64.")
    return got


def elementwise_result(got, x: np.ndarray, what: str, hint: str | None = None) -> np.ndarray:
    """The result of an elementwise function of ``x``, as an array of x's shape: an
    ``np.ndarray`` of that shape (for a 0-d ``x``, the numpy scalar numpy's arithmetic returns
    is fine too). Its dtype is the judge's to check."""
    if x.ndim == 0 and isinstance(got, np.generic) and got.dtype.kind in "biufc":
        return np.asarray(got)
    return expect_ndarray(got, what, shape=x.shape, input_shape=x.shape,
                          hint=hint or "work elementwise, keeping the input's shape (do not "
                                       "flatten or reshape it).")


def first_difference(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float):
    """(index, number of differing values) of the worst difference, NaN counted as worst;
    None when every value is close (NaN where NaN is expected counts as close)."""
    got = np.asarray(got, dtype=complex if np.iscomplexobj(got) else float)
    expected = np.asarray(expected, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
        if np.all(close):
            return None
        err = np.where(close, 0.0, np.abs(got - expected))
    err = np.where(np.isnan(err), np.inf, err)
    index = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    return tuple(int(i) for i in index), int(np.sum(~close))


def expect_close(got: np.ndarray, expected, what: str, *, rtol: float = 1e-6,
                 atol: float = 1e-12, inputs=None, input_name: str = "x",
                 hint: str | None = None) -> None:
    """Every value of ``got`` close to ``expected``; the message names the worst one (and the
    input there, when ``inputs`` has the same shape)."""
    expected = np.asarray(expected, dtype=float)
    if np.iscomplexobj(got):
        raise ExerciseError(f"{what} returned complex numbers (dtype {got.dtype}).",
                            hint or "the answer is real: a complex value comes from a square "
                            "root or power of a negative number.")
    diff = first_difference(got, expected, rtol, atol)
    if diff is None:
        return
    index, n_bad = diff
    value, right = got[index], expected[index]
    at = ""
    if inputs is not None and np.shape(inputs) == np.shape(got):
        at = f" at {input_name} = {float(np.asarray(inputs)[index])!r}"
    elif index:
        at = f" at index {index}"
    if np.isnan(value):
        problem = f"{what} is NaN{at} where the answer is {right:.6g}"
        default = ("NaN comes from inf - inf, 0 * inf or 0 / 0: often an exp() that "
                   "overflowed. Use a numerically stable form.")
    elif np.isinf(value):
        problem = f"{what} is {value}{at} where the answer is {right:.6g}"
        default = "an exp() or a division overflowed: rewrite the formula so it cannot."
    else:
        shown, wanted = pair(value, right)
        problem = (f"{what} differs from the answer in {n_bad} of {got.size} values; the "
                   f"largest difference is{at}: got {shown}, expected {wanted}")
        default = None
    raise ExerciseError(problem + ".", hint or default)


def pair(got, expected) -> tuple[str, str]:
    """Two numbers for a message, with enough digits that they do not print the same."""
    for digits in (6, 10, 17):
        a, b = f"{float(got):.{digits}g}", f"{float(expected):.{digits}g}"
        if a != b:
            return a, b
    return repr(float(got)), repr(float(expected))


def expect_float(got, what: str, *, hint: str | None = None, finite: bool = True) -> float:
    """A single real number: a Python int or float, or a numpy integer or float scalar.

    Not a bool, not an array (even of one element), not complex, not text.
    """
    _none(got, what)
    if isinstance(got, (bool, np.bool_)) or not isinstance(
            got, (int, float, np.integer, np.floating)):
        if isinstance(got, np.ndarray):
            came = f"an array of shape {got.shape}"
        elif isinstance(got, (list, tuple)):
            came = f"a {type(got).__name__} of length {len(got)}"
        else:
            came = describe(got)
        raise ExerciseError(f"{what} should be one number, got {came}.",
                            hint or "return a plain number: float(...) of a one-element "
                            "result, or the scalar itself.")
    value = float(got)
    if finite and not math.isfinite(value):
        raise ExerciseError(f"{what} is {value}, not a finite number.",
                            hint or "look for an overflow or a division by zero.")
    return value


def expect_int(got, what: str, *, hint: str | None = None, allow_none: bool = False,
               numpy_ok: bool = False) -> int | None:
    """A whole number as a Python ``int`` (``numpy_ok``: a numpy integer too); not a bool, not
    a float that happens to be whole; ``None`` only with ``allow_none``."""
    if got is None and allow_none:
        return None
    _none(got, what)
    ok = type(got) is int or (numpy_ok and isinstance(got, np.integer))
    if not ok:
        if isinstance(got, (float, np.floating)) and float(got).is_integer():
            problem = f"{what} returned the float {got!r}, expected an int."
            default = "return a whole number as int: int(...) of it."
        elif isinstance(got, np.integer):
            problem = f"{what} returned a numpy {got.dtype} ({got!r}), expected a Python int."
            default = "convert it with int(...): the task asks for a plain Python int."
        else:
            problem = f"{what} should be a whole number (an int), got {describe(got)}."
            default = "return an int."
        raise ExerciseError(problem, hint or default)
    return int(got)


def expect_dict(got, keys, what: str, *, hint: str | None = None) -> dict:
    """A dict with exactly ``keys`` (in any order)."""
    _none(got, what)
    if not isinstance(got, dict):
        raise ExerciseError(f"{what} should return a dict, got {describe(got)}.",
                            hint or "return a dict {key: value}.")
    missing = [k for k in keys if k not in got]
    extra = [k for k in got if k not in keys]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"unexpected {', '.join(map(repr, extra))}")
        raise ExerciseError(f"{what} returned keys {sorted(map(repr, got))}: "
                            f"{'; '.join(parts)}.", hint or f"use exactly the keys {list(keys)}.")
    return got


def is_other(value) -> bool:
    """True for a value that is not plain data (a generator, a function, an object...)."""
    return isinstance(value, (Other, TensorData))
