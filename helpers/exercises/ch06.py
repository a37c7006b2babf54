"""Checks for chapter 06, the capstone: design your own activation.

One spec per exercise (``_spec``): the cases are drawn afresh at every check, edge cases
first; the student's functions run on all of them, and only then are the results judged,
with a message that says what differs on which case.

The student's activation is their own design, so Parts 1-3 and 5 do not compare it with a
fixed answer: they test what every good activation must satisfy (vectorised, elementwise,
nonlinear, a derivative that agrees with finite differences of the student's *own* forward
pass, a truthful output range, stability for inputs up to 1e6 in float32 and float64). The
judge combines what the student's functions returned at the points the check chose (f at
x, x +- h and x +- 2h, f' at x), so it never calls them itself: under autograding it runs in
another process. The tools the student writes (a gradient checker, a gradient-flow report, a
comparison table) are compared with a reference, on functions, networks and fake training
runs built from recipes drawn at each check.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import math
import os
import re
import sys
import time
import types

import numpy as np

from .. import activations, data, diagnostics, nn
from . import _latex
from ._contract import expect_dict, expect_float, expect_ndarray, pair
from ._core import ExerciseError, _same, exercise_check
from ._plain import Build, Other, describe
from ._spec import Case, Spec, builder, driver, random_shape, swapped_inner, work_cases
from ._trace import Forbidden

__all__ = [
    "COMPARISON",
    "DERIVATIVE",
    "FORWARD",
    "GRADIENT_CHECKER",
    "GRADIENT_FLOW",
    "REGISTRATION",
    "STABILITY",
    "STABILITY_INPUTS",
    "check_comparison_table",
    "check_derivative",
    "check_forward",
    "check_gradient_check_function",
    "check_gradient_flow",
    "check_registration",
    "check_stability",
    "reference_gradient_flow",
    "reference_max_gradient_error",
]

_EPS = float(np.finfo(np.float64).eps)
_EPS32 = float(np.finfo(np.float32).eps)

# The check's own references, and the helpers that compute what a mistake returns: an answer
# that runs them has not written the tool itself (caught by what runs, under any name).
CHECK_CODE = Forbidden(("helpers.exercises.ch06:reference_*", "helpers.exercises.ch06:_variants_*"),
                       why="the task asks you to write it yourself, and the check's own reference "
                           "does not count")

_ELEMENTWISE_HINT = ("an activation works elementwise: use numpy operations on the whole array "
                     "(np.exp, np.tanh, np.where, ...) and never reduce over an axis.")
_LOOP_HINT = ("write the formula with numpy operations on the whole array (np.exp, np.tanh, "
              "np.where, ...), so numpy does the looping in C.")


# ------------------------------------------------------------------ the timed cases
# A vectorised formula, however long, makes numpy loop in C over raw numbers; a loop over
# the elements as Python or numpy objects, even driven from C (map, a deque, iterators),
# costs tens to hundreds of ns an element. The timed cases judge that by CPU time on some
# 200,000 elements, against a costly formula of the kind the task suggests (a blend of
# Mish, x sigma(2x) and a sine bump: some 20 numpy operations, sin and exp among them)
# and, for the derivative, against the student's own forward pass on the same input.
_TIMED_SHAPE = (500, 400)
_FORWARD_BUDGET = 1.5  # a forward pass may take 1.5 times the blend
_DERIVATIVE_RATIO = 4.0  # a derivative may take 4 forward passes of the student's own
_TIMED_FLOOR = 0.01  # and always 10 ms of CPU


def _blend(x):
    """0.8 mish(x) + 0.2 x sigma(2x) + 0.05 sin(x) exp(-x^2), stably: the yardstick."""
    e = np.exp(-np.abs(2 * x))
    sigma2 = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    softplus = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    return 0.8 * x * np.tanh(softplus) + 0.2 * x * sigma2 + 0.05 * np.sin(x) * np.exp(-x * x)


def _cpu(fn, x):
    """(CPU seconds, result) of fn(x): process time, so a busy machine does not inflate it."""
    start = time.process_time()
    value = fn(x)
    return time.process_time() - start, value


@driver("ch06.timed")
def _timed(answers, x, which):
    """``answers[which](x)`` on a large input, with its CPU time (the fastest of up to 3 runs,
    run again only while too slow), the blend's time (the fastest of 2), and for the
    derivative the student's own forward pass's time on the same input."""
    x_copy = x.copy()
    with np.errstate(all="ignore"):
        # (the fastest of 2 runs: a disturbed run only makes the yardstick more lenient, and
        # the third run paid for Part 1's float32 twin of this input)
        blend = min(_cpu(_blend, x_copy)[0] for _ in range(2))
        own = 0.0
        if which == 1:
            try:
                own = min(_cpu(answers[0], x_copy.copy())[0] for _ in range(2))
            except Exception:  # Part 1's check reports a failing forward pass
                own = 0.0
    allowed = max(_FORWARD_BUDGET * blend, _DERIVATIVE_RATIO * own, _TIMED_FLOOR)
    seconds, value = _cpu(answers[which], x)
    modified = _modified({"x": x}, {"x": x_copy})
    for _ in range(2):
        if seconds <= allowed:
            break
        seconds = min(seconds, _cpu(answers[which], x_copy.copy())[0])
    return {"value": value, "seconds": seconds, "blend": blend, "own": own,
            "allowed": allowed, "modified": modified}


def _timed_case(rng, points, which: int) -> Case:
    size = int(np.prod(_TIMED_SHAPE))
    return Case(f"an input of {size:,} elements (timed)",
                (rng.choice(points, size=_TIMED_SHAPE), which), driver="ch06.timed",
                note={"role": "timed"})


def _check_timed(case: Case, obs, what: str) -> None:
    """A timed case: within its budget, or too slow for numpy's loops."""
    outcome = obs.result if isinstance(obs.result, dict) else {}
    seconds, allowed = outcome.get("seconds"), outcome.get("allowed")
    if not isinstance(seconds, float) or not isinstance(allowed, float) or seconds <= allowed:
        return
    blend, own = float(outcome.get("blend", 0.0)), float(outcome.get("own", 0.0))
    ms = seconds * 1e3
    if case.args[1] == 1 and own * _DERIVATIVE_RATIO >= _FORWARD_BUDGET * blend:
        against = (f"{seconds / own:.0f} times your own `my_activation` on the same input "
                   f"({own * 1e3:.1f} ms); a derivative written as a formula costs a few "
                   "forward passes")
    else:
        against = (f"{seconds / blend:.0f} times a blend of Mish, x sigma(2x) and a sine bump "
                   f"(about 20 numpy operations, sin and exp among them: {blend * 1e3:.1f} ms)"
                   + ("" if case.args[1] == 0 else
                      f", and {seconds / max(own, 1e-9):.0f} times your own `my_activation`"))
    raise ExerciseError(
        f"{what} took {ms:.0f} ms of CPU on {case.label}, {against}. numpy's operations on "
        "whole float64 or float32 arrays are not that slow: it handles the elements one at "
        "a time (a loop, map or a deque over them, np.frompyfunc), or computes in a slow type "
        "(np.longdouble, Python objects, Decimal).",
        "write the formula with numpy operations on the whole array (np.exp, np.tanh, "
        "np.where, ...) in the input's own dtype, float64 or float32, so numpy does the "
        "looping in C on raw numbers.")


def _refuse_float32_values(up1: np.ndarray, up2: np.ndarray, xs: np.ndarray, where: str,
                           hint_tail: str = "") -> None:
    """Refuse a float64 function whose results at x moved by 1e-6 and 2e-6 (relative), two
    numbers float32 does not hold, differ yet are both numbers float32 holds exactly, at 3
    points or more: a float64 function gives that by chance only (about 1 in 2^58); one
    computed in float32 and cast back always does. ``where`` says which points ``xs`` are."""
    with np.errstate(all="ignore"):
        held = (np.isfinite(up1) & np.isfinite(up2) & (up1 != up2)
                & (up1.astype(np.float32).astype(np.float64) == up1)
                & (up2.astype(np.float32).astype(np.float64) == up2))
    if np.sum(held) >= 3:
        at = xs[held]
        raise ExerciseError(
            f"{_F} on float64 input gives numbers that float32 holds exactly at "
            f"{int(np.sum(held))} of {xs.size} {where} (x from {float(at.min()):g} to "
            f"{float(at.max()):g}): a float64 function gives such numbers there by chance "
            "only. They are the values of a lower precision.",
            "part of your function is computed in float32 or float16 and cast back (an "
            f".astype, a float32 constant or array on the way): keep float64 input in float64"
            f"{hint_tail}.")


def _unwrap(case: Case, obs):
    """The student's result on a case (a timed case's driver wraps it in a dict)."""
    if case.note.get("role") == "timed":
        return obs.result.get("value") if isinstance(obs.result, dict) else None
    return obs.result


def _float32_points(values) -> np.ndarray:
    """Sorted, distinct float64 values that float32 holds exactly: the same numbers in both."""
    return np.unique(np.asarray(values, dtype=np.float64).astype(np.float32)).astype(np.float64)


def _work_pair(make, small=(3, 4), large=(43, 44)) -> list[Case]:
    """Two cases of the same kind, a small and a large input, to measure Python work."""
    def label(shape):
        return f"a {' x '.join(map(str, shape))} input"
    return [Case(label(small), (make(small),), work="small", size=min(small),
                 elements=int(np.prod(small))),
            Case(label(large), (make(large),), work="large", size=min(large),
                 elements=int(np.prod(large)))]


def _elementwise(got, x: np.ndarray, what: str) -> np.ndarray:
    """The result of an elementwise function of ``x`` as float64 values, or ExerciseError.

    Float input: an array of x's shape and dtype (a 0-d x may give the numpy scalar numpy's
    own functions return). Integer input: an array of x's shape with real values (their
    dtype is free; the values are compared with those of the same numbers as floats).
    """
    if x.ndim == 0 and isinstance(got, np.generic) and got.dtype.kind in "biufc":
        got = np.asarray(got)
    if isinstance(got, (list, tuple)):
        raise ExerciseError(
            f"{what} returned a Python {type(got).__name__} for a numpy array input, expected a "
            f"numpy array of shape {x.shape}.",
            "an activation returns an array like its input, so the rest of the network can "
            "keep computing with it: keep numpy's result.")
    if isinstance(got, (bool, int, float)) and x.ndim == 0:
        raise ExerciseError(
            f"{what} returned a Python {type(got).__name__} for a 0-d array input, expected a "
            "numpy array (or the numpy scalar numpy's own functions return).",
            "keep numpy's result as it is: float(...) or .item() turns it into a Python "
            "number, which has no dtype.")
    subclass = None
    if isinstance(got, np.ndarray) and type(got) is not np.ndarray:
        subclass = f"{type(got).__module__}.{type(got).__qualname__}"
    elif isinstance(got, Other) and "array subclass" in got.text:
        subclass = got.type_name  # as it crossed from the student's side
    if subclass is not None:
        raise ExerciseError(
            f"{what} returned a {subclass}, an array subclass, expected a plain numpy array.",
            "compute with plain numpy functions on the array itself; np.asarray(...) of a "
            "subclass (np.ma's masked arrays, np.matrix) gives a plain array.")
    got = expect_ndarray(got, what, shape=x.shape, input_shape=x.shape, hint=_ELEMENTWISE_HINT)
    if got.dtype.kind not in "biuf":
        raise ExerciseError(f"{what} returned an array of dtype {got.dtype}, expected real "
                            "numbers.", "return a numpy float array.")
    if x.dtype.kind == "f" and got.dtype != x.dtype:
        raise ExerciseError(
            f"{what} turned a {x.dtype} input into {got.dtype} output.",
            "keep the input's dtype: Python numbers (1.0, 0.5) keep float32, but numpy float64 "
            "numbers (np.float64(...), an array made with dtype=float) promote it.")
    if x.dtype.kind in "iu" and got.dtype.kind == "b":
        raise ExerciseError(f"{what} returned booleans for an integer input, expected numbers.",
                            "an integer array gives the values of the same numbers as floats.")
    return got.astype(np.float64)


def _lookup(points: np.ndarray, values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``values`` at the entries of ``x``, each of which is one of the sorted ``points``."""
    flat = np.asarray(x, dtype=np.float64).ravel()
    index = np.clip(np.searchsorted(points, flat), 0, points.size - 1)
    return values[index].reshape(np.shape(x))


def _first_off(got: np.ndarray, want: np.ndarray, rtol: float, atol: float):
    """Index of the worst entry where |got - want| > atol + rtol |want| (NaN counts), or None."""
    with np.errstate(invalid="ignore"):
        gap = np.abs(got - want)
        bad = ~(gap <= atol + rtol * np.abs(want))
    if not np.any(bad):
        return None
    gap = np.where(bad, np.nan_to_num(gap, nan=np.inf), -1.0)
    return np.unravel_index(int(np.argmax(gap)), got.shape) if got.ndim else ()


def _roles(cases, observations) -> dict[str, tuple[Case, object]]:
    return {c.note["role"]: (c, o) for c, o in zip(cases, observations)
            if c.note.get("role")}


# A driver's scenario checks itself that the student's function left its inputs alone.
def _modified(inputs: dict, copies: dict) -> list[str]:
    """The names of the ``inputs`` that no longer equal their ``copies`` (made before)."""
    return [f"`{name}`" for name, value in inputs.items() if not _same(copies[name], value)]


def _check_unmodified(outcome, what: str) -> None:
    changed = outcome.get("modified") if isinstance(outcome, dict) else None
    if isinstance(changed, list) and changed:
        raise ExerciseError(
            f"{what} modified its input {str(changed[0])[:40]} in place.",
            "the caller still needs the inputs it passed: compute the result into a new object "
            "instead of assigning into (or appending to) the one you were given.")


# --------------------------------------------------------------------------------------
# Part 1: the forward pass
# --------------------------------------------------------------------------------------

_F = "`my_activation`"
# float32 and float64 give the same numbers to float32's precision: a few units in the
# 7th digit for a formula of a few operations, 1e-5 relative with room to spare (a round
# trip through float16, which keeps 3 digits, is 50 times further off).
_F32_RTOL = 1e-5
# Near 0, float32 keeps the rounding of the terms that cancel there: 2e-7 (some two units of
# float32's last place) of the function's size.
_F32_FLOOR = 2e-7
# float32 holds numbers from 1.2e-38 up with all their digits: a float64 value from 1e-35 up
# (room for a product of two tiny factors) that float32 gives as 0 is a value lost.
_F32_HELD = 1e-35


def _draw_forward(rng) -> list[Case]:
    # The points: a grid of step 1/4 (integers and 0 included) and random ones on [-6, 6],
    # all held exactly by float32, so the float32 and float64 cases see the same numbers.
    grid = _float32_points(np.concatenate([np.linspace(-6, 6, 49), rng.uniform(-6, 6, 72)]))
    n = grid.size
    rows = int(rng.integers(5, 10))
    cols = n // rows
    order = rng.permutation(n)[:rows * cols]
    one, single = (int(i) for i in rng.integers(0, n, 2))
    ints = np.arange(-6, 7)
    cases = [
        Case(f"x: {n} points from -6 to 6 (float64)", (grid,), note={"role": "grid"}),
        Case("the same points in float32", (grid.astype(np.float32),), note={"role": "grid32"}),
        Case(f"the same points shuffled, as a 2-D batch of shape ({rows}, {cols})",
             (grid[order].reshape(rows, cols),)),
        Case("the same points in reverse order, x[::-1]", (grid[::-1].copy(),)),
        Case(f"part of the batch, the first 7 points (x from {grid[0]:g} to {grid[6]:g})",
             (grid[:7].copy(),)),
        Case(f"one point alone, np.array([{grid[one]:g}])", (grid[[one]],)),
        Case(f"one point as a 0-d array, np.array({grid[single]:g})", (np.array(grid[single]),)),
        Case("an empty float64 array of shape (0,)", (np.zeros(0),)),
        Case("an empty float32 array of shape (0, 3)", (np.zeros((0, 3), dtype=np.float32),)),
        Case("the integers -6 to 6 as an int64 array", (rng.permutation(ints).reshape(13, 1),),
             note={"role": "ints"}),
        # (int32 too; not the narrow integers, which numpy computes in float16 or float32
        # and whose negation wraps around for uint8: the task promises no such input.)
        Case("the integers -6 to 6 as an int32 array",
             (rng.permutation(ints).astype(np.int32),), note={"role": "ints"}),
        # A transposed batch (Fortran order): a flat view in memory order is not x's order.
        Case(f"the shuffled points as a transposed batch of shape ({cols}, {rows}), in "
             "Fortran order", (grid[order].reshape(cols, rows),), order="F"),
    ]
    for dtype in (np.float64, np.float32):
        shape = random_shape(rng)
        cases.append(Case(f"random points of the grid, shape {shape} ({np.dtype(dtype).name})",
                          (rng.choice(grid, size=shape).astype(dtype),)))
    four = tuple(int(v) for v in rng.permutation([2, 3, 4, 5]))
    cases.append(Case(f"random points of the grid as a 4-D array of shape {four}",
                      (rng.choice(grid, size=four),)))
    # Small float32 inputs: a 0-d array and 1 to 4 points.
    few = int(rng.integers(1, 5))
    cases += [Case(f"one point as a 0-d float32 array, np.array({grid[single]:g}, "
                   "dtype=np.float32)", (np.array(grid[single], dtype=np.float32),)),
              Case(f"{few} point{'s' * (few > 1)} of the grid in float32",
                   (rng.choice(grid, size=few).astype(np.float32),))]
    # Two inputs of one shape and dtype with other values: nothing may be remembered from an
    # earlier call on the same shape and dtype.
    three = random_shape(rng, max_dims=3, low=2, high=5)
    three = three if len(three) == 3 else (2, 3, 4)
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        first = rng.choice(grid, size=three)
        # The other input is the first one with two inner values swapped: a result kept by
        # shape, dtype, a few places or any symmetric summary (sum, max, min) shows too.
        other = swapped_inner(rng, first)
        cases += [Case(f"random points of the grid, shape {three} ({name})",
                       (first.astype(dtype),)),
                  Case(f"the same points with two of them swapped, the same shape {three} "
                       f"({name})", (other.astype(dtype),))]
    # float64 precision: the grid moved by a step of 1e-6 (and 2e-6) max(1, |x|), numbers
    # float32 does not hold. Differences over the two steps agree for a function computed in
    # float64; one computed in float32 or float16 and cast back moves in jumps.
    step = 1e-6 * np.maximum(1.0, np.abs(grid))
    cases += [Case("the grid moved up by 1e-6 max(1, |x|) (float64)", (grid + step,),
                   note={"role": "grid+1"}),
              Case("the grid moved up by 2e-6 max(1, |x|) (float64)", (grid + 2 * step,),
                   note={"role": "grid+2"})]
    far = _far_points(rng)
    cases += _far_cases(rng, grid, far)
    # The work cases hold points of the grid and beyond 6 too, so their values are checked
    # like the rest; the timed one a few beyond 6 (0.5 %), its first and last entries among them.
    work = work_cases(lambda shape, large: _mixed(rng, grid, far, shape, 0.3))
    timed = _timed_case(rng, grid, 0)
    values = timed.args[0].ravel()
    some = np.concatenate([[0, values.size - 1],
                           rng.choice(values.size, values.size // 200, replace=False)])
    values[some] = rng.choice(far, some.size)
    # The same 200,000 values in float32, in a shape drawn at each run: float32 in gives
    # float32 out, and the same numbers (to float32's precision), at any size.
    shape = _LARGE32_SHAPES[int(rng.integers(len(_LARGE32_SHAPES)))]
    large32 = Case(f"the timed input's {values.size:,} values in float32, shape {shape}",
                   (values.astype(np.float32).reshape(shape),), note={"role": "large32"})
    return cases + [c for c in work if c.work != "timed"] + [timed, large32]


# Shapes of 200,000 entries (the timed input's), one drawn for its float32 twin.
_LARGE32_SHAPES = ((200_000,), (400, 500), (1_000, 200), (8, 125, 200), (50, 4_000))
# Integers float64 holds exactly and float32 does not (odd ones above 2^24): an integer
# array of them gives the float64 values of the same numbers, not float32's.
_BIG_INT_RANGE = (2**24 + 1, 2**31 - 1)


def _far_points(rng) -> np.ndarray:
    """Points beyond [-6, 6], out to |x| = 1e5 (float32 holds them): the same numbers in
    every case that holds some, so their values can be compared between cases."""
    signs = rng.choice([-1, 1], 48)
    floats = signs[:40] * 10 ** rng.uniform(math.log10(6.5), 5, 40)
    # (integers up to 200, whose fourth power int32 still holds: x**4 does not wrap around)
    ints = signs[40:] * np.concatenate([[7, 12, 100, 200], rng.integers(8, 200, 4)])
    return _float32_points(np.concatenate([floats, ints, [2e4, -5e4]]))


def _mixed(rng, grid, far, shape, share: float) -> np.ndarray:
    """An array of ``shape`` of points of the grid and beyond 6 (a ``share`` of them, its first
    and last entries among them), at drawn places."""
    size = int(np.prod(shape))
    values = rng.choice(grid, size)
    beyond = rng.random(size) < share
    beyond[[0, -1]] = True
    values[beyond] = rng.choice(far, int(np.sum(beyond)))
    return values.reshape(shape)


def _far_cases(rng, grid, far) -> list[Case]:
    """Inputs beyond [-6, 6], out to |x| = 1e5, where the values are not judged (a formula
    may overflow there before Part 5), only how they are computed: elementwise (alone, in
    batches of any shape and size with points of the grid, as integers, in float32 as in
    float64), in float64's precision, in the input's dtype."""
    ints = far[(far == np.round(far)) & (np.abs(far) <= 200)]
    step = 1e-6 * np.abs(far)
    mixed = np.concatenate([rng.choice(grid, 30, replace=False), far])[
        rng.permutation(30 + far.size)]
    huge = far[np.abs(far) >= 1e4]
    one, single = (float(v) for v in rng.choice(far, 2))
    two = (int(rng.integers(2, 10)), int(rng.integers(2, 13)))
    three = random_shape(rng, max_dims=3, low=2, high=6)
    three = three if len(three) == 3 else (3, 2, 4)
    four = tuple(int(v) for v in rng.integers(2, 4, 4))
    # One batch of a drawn size, 1 to 3 axes, from 100 to 20,000 entries (the largest batch
    # with points beyond 6 held some 80 until this stop).
    size = int(10 ** rng.uniform(2, math.log10(20_000)))
    dims = int(rng.integers(1, 4))
    shape = (size,) if dims == 1 else (size // 7, 7) if dims == 2 else (size // 15, 3, 5)
    what = "values beyond [-6, 6] are not judged, how they are computed is"
    big_ints = (rng.choice([-1, 1], 4) * (rng.integers(*_BIG_INT_RANGE, 4) | 1)).astype(np.int64)
    f32 = np.float32
    return [
        Case(f"{far.size} points with 6 < |x| <= 1e5 (float64; {what})", (far,),
             note={"role": "far"}),
        Case("the same points moved up by 1e-6 |x| (float64)", (far + step,),
             note={"role": "far+1"}),
        Case("the same points moved up by 2e-6 |x| (float64)", (far + 2 * step,),
             note={"role": "far+2"}),
        Case(f"30 points of the grid and the {far.size} points beyond 6 in one batch, "
             "shuffled (float64)", (mixed,), note={"role": "far-mixed"}),
        Case("that batch reversed, x[::-1] (float64)", (mixed[::-1].copy(),),
             note={"role": "far-mixed"}),
        Case(f"the integers among them, {sorted(int(v) for v in ints)}, as an int64 array",
             (rng.permutation(ints).astype(np.int64),), note={"role": "far-int"}),
        Case("the same integers as an int32 array", (rng.permutation(ints).astype(np.int32),),
             note={"role": "far-int"}),
        Case(f"the {huge.size} points with |x| >= 1e4 alone (float64)", (huge,),
             note={"role": "far-huge"}),
        Case(f"one point beyond 6 alone, np.array([{one:g}])", (np.array([one]),),
             note={"role": "far-one"}),
        Case(f"one point beyond 6 as a 0-d array, np.array({single:g})", (np.array(single),),
             note={"role": "far-one"}),
        Case(f"points of the grid and beyond 6 at drawn places, a 2-D batch of shape {two}",
             (_mixed(rng, grid, far, two, 0.5),), note={"role": "far-mixed"}),
        Case(f"points of the grid and beyond 6 at drawn places, shape {three}",
             (_mixed(rng, grid, far, three, 0.5),), note={"role": "far-mixed"}),
        Case(f"points of the grid and beyond 6 at drawn places, shape {four}",
             (_mixed(rng, grid, far, four, 0.5),), note={"role": "far-mixed"}),
        Case(f"points of the grid and beyond 6 at drawn places, a batch of shape {shape}",
             (_mixed(rng, grid, far, shape, float(rng.uniform(0.1, 0.9))),),
             note={"role": "far-mixed"}),
        # float32 too: the same value for an entry beyond 6 in every float32 array.
        Case(f"the {far.size} points beyond 6 in float32", (far.astype(f32),),
             note={"role": "far32"}),
        Case(f"one point beyond 6 alone in float32, np.array([{single:g}], dtype=np.float32)",
             (np.array([single], dtype=f32),), note={"role": "far-one"}),
        Case(f"one point beyond 6 as a 0-d float32 array, np.array({one:g}, "
             "dtype=np.float32)", (np.array(one, dtype=f32),), note={"role": "far-one"}),
        Case(f"points of the grid and beyond 6 at drawn places in float32, shape {two[::-1]}",
             (_mixed(rng, grid, far, two[::-1], 0.5).astype(f32),),
             note={"role": "far-mixed"}),
        Case(f"the integers {', '.join(str(v) for v in big_ints)}, beyond float32's exact "
             "integers (2^24), as an int64 array", (big_ints.copy(),),
             note={"role": "far-bigint"}),
        Case("the same numbers as a float64 array", (big_ints.astype(np.float64),),
             note={"role": "far-bigint64"}),
    ]


def _judge_far(cases, observations, grid, y64, y32) -> None:
    """The entries beyond [-6, 6], in every case that holds some: the same value for the
    same x as in the 1-D batch of all of them (inf and NaN included), float32 ones as in its
    float32 twin; and float64's precision."""
    roles = _roles(cases, observations)
    far_case, far_obs = roles["far"]
    far = far_case.args[0]
    y_far = _elementwise(far_obs.result, far, _F)
    # float64's precision beyond 6 too: at x + 1e-6 |x| and x + 2e-6 |x|, numbers float32 does
    # not hold, a float64 function that changes there gives numbers float32 holds by chance.
    up1 = _elementwise(_unwrap(*roles["far+1"]), roles["far+1"][0].args[0], _F)
    up2 = _elementwise(_unwrap(*roles["far+2"]), roles["far+2"][0].args[0], _F)
    _refuse_float32_values(up1, up2, far, "points beyond 6, moved by 1e-6 |x|",
                           hint_tail=", for every x")
    far32_case, far32_obs = roles["far32"]
    y_far32 = _elementwise(far32_obs.result, far32_case.args[0], _F)
    tables = {}
    for dtype, y_grid, y_beyond in ((np.float64, y64, y_far), (np.float32, y32, y_far32)):
        points = np.concatenate([grid, far])
        order = np.argsort(points)
        tables[dtype] = (points[order], np.concatenate([y_grid, y_beyond])[order])
    # float32 beyond 6: the same function as float64, where both are finite. (To three digits
    # only: a formula that is not yet stable loses digits there in float32, and Part 5 holds
    # it to float32's precision; a float32 formula of its own differs by far more.)
    with np.errstate(invalid="ignore"):
        off = (np.isfinite(y_far32) & np.isfinite(y_far)
               & (np.abs(y_far32 - y_far) > 1e-3 * (1 + np.abs(y_far))))
    if off.any():
        i = int(np.argmax(off))
        shown = pair(y_far32[i], y_far[i])
        raise ExerciseError(
            f"{_F} gives {shown[0]} at x = {far[i]:g} in float32 but {shown[1]} in float64 "
            f"({int(np.sum(off))} of the {far.size} points beyond 6 differ by more than 1e-3): "
            "float32 and float64 input must give the same function.",
            "compute float32 input with the same formula as float64, in its own dtype: no "
            "branch on x.dtype that changes the formula.")
    index_of = {id(c): i for i, c in enumerate(cases)}
    for case, obs in zip(cases, observations):
        role = str(case.note.get("role", ""))
        x = case.args[0] if case.args else None
        if role in ("far", "far32", "far+1", "far+2", "grid+1", "grid+2", "far-bigint",
                    "far-bigint64") or not isinstance(
                x, np.ndarray) or x.dtype.kind not in "iuf" or x.size == 0:
            continue
        flat = np.asarray(x, dtype=np.float64).ravel()
        beyond = np.abs(flat) > 6
        if not beyond.any():
            continue
        got = _elementwise(_unwrap(case, obs), x, _F).ravel()[beyond]
        float32 = x.dtype == np.float32
        reference = far32_case if float32 else far_case
        want = _lookup(*tables[np.float32 if float32 else np.float64], flat[beyond])
        with np.errstate(invalid="ignore"):
            tol = (1e-5 + 1e-5 * np.abs(want)) if float32 else (1e-12 + 1e-9 * np.abs(want))
            same = (got == want) | (np.isnan(got) & np.isnan(want)) | (np.abs(got - want)
                                                                        <= tol)
        if same.all():
            continue
        i = int(np.argmax(~same))
        at = float(flat[beyond][i])
        shown = pair(got[i], want[i])
        if role == "far-int" or x.dtype.kind in "iu":
            raise ExerciseError(
                f"{_F} gives {shown[0]} at x = {at:g} for an integer ({x.dtype}) input, but "
                f"{shown[1]} for x = {at:g} as a float: an integer array must give the "
                "values of the same numbers as floats.",
                "integer arithmetic wraps around (an int8 holds -128 to 127) and a narrow "
                "integer type gives a narrow float (np.exp of int8 is float16): let numpy "
                "compute on the input as it is, or cast it to float first (x.astype(float)).")
        raise ExerciseError(
            f"{_F} on {case.label} gives {shown[0]} at x = {at:g}, but {shown[1]} for the same "
            f"x in case {index_of[id(reference)] + 1} ({reference.label.split(' (')[0]}): the "
            "value at an entry depends on the array "
            "it is in (its size, shape, dtype, memory layout or other entries).",
            "an activation is applied to each number on its own, the same way for any array: "
            "no sum, mean or max over the array, no branch on its size, shape or layout "
            "(x.ndim, x.size, x.flags), beyond 6 as within.")
    _judge_big_ints(roles)


def _judge_big_ints(roles) -> None:
    """Integers beyond 2^24, which float64 holds and float32 does not: the values of the same
    numbers in float64 (NaN and inf as there), not those of a float32 on the way."""
    ints_case, ints_obs = roles["far-bigint"]
    twin_case, twin_obs = roles["far-bigint64"]
    ints = ints_case.args[0]
    got = _elementwise(ints_obs.result, ints, _F)
    want = _elementwise(twin_obs.result, twin_case.args[0], _F)
    with np.errstate(invalid="ignore"):
        same = ((got == want) | (np.isnan(got) & np.isnan(want))
                | (np.abs(got - want) <= 1e-12 + 1e-9 * np.abs(want)))
    if same.all():
        return
    i = int(np.argmax(~same))
    shown = pair(got[i], want[i])
    lost = float(np.float32(ints[i])) != float(ints[i])
    raise ExerciseError(
        f"{_F} gives {shown[0]} at x = {int(ints[i])} for an integer (int64) input, but "
        f"{shown[1]} for the same number in float64: an integer array must give the float64 "
        "values of the same numbers."
        + (f" float32 cannot hold {int(ints[i])} (it rounds it to "
           f"{int(np.float32(ints[i]))}): integers cast to float32 lose their last digits."
           if lost else ""),
        "cast integer input to float64 first (x.astype(float)): float32 holds integers "
        "exactly only up to 2^24, and integer arithmetic wraps around (x**3 of an int64 "
        "beyond 2^21).")


# Neighbouring points of the (sorted) grid that all move in jumps: a float64 function does so
# at a kink (one or two points), a lower precision on a stretch of the range at every point.
_JUMPY_RUN = 5


def _longest_run(flags: np.ndarray) -> int:
    """The length of the longest stretch of consecutive True values."""
    longest = current = 0
    for flag in flags.tolist():
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


def _judge_forward(case: Case, obs, expected) -> None:
    x = case.args[0]
    if case.note.get("role") == "timed":
        _check_unmodified(obs.result, _F)
    values = _elementwise(_unwrap(case, obs), x, _F)
    if str(case.note.get("role", "")).startswith("far"):
        return  # beyond [-6, 6]: the values may overflow before Part 5
    bad = ~np.isfinite(values) & (np.abs(np.asarray(x, dtype=np.float64)) <= 6)
    if bad.any():
        index = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
        raise ExerciseError(f"{_F} returned {values[index]} at x = {float(x[index]):g}.",
                            "an activation must be finite for every finite input.")


def _judge_large32(roles, scale: float) -> None:
    """The timed input's values in float32 (its dtype checked by the judge of each case):
    within [-6, 6], the timed float64 values to float32's precision (beyond 6: _judge_far)."""
    case, obs = roles["large32"]
    x = case.args[0]
    got = _elementwise(obs.result, x, _F).ravel()
    want = _elementwise(_unwrap(*roles["timed"]), roles["timed"][0].args[0], _F).ravel()
    flat = x.ravel()
    inside = np.abs(flat) <= 6
    with np.errstate(invalid="ignore"):
        off = inside & ~(np.abs(got - want) <= 2 * _F32_RTOL * np.abs(want) + 1e-5 * scale)
    if off.any():
        i = int(np.argmax(off))
        shown = pair(got[i], want[i])
        raise ExerciseError(
            f"{_F} on {case.label} gives {shown[0]} at x = {float(flat[i]):g}, but {shown[1]} "
            "for the same x in float64: a large float32 array must give the same function as "
            "a small one, to float32's precision.",
            "an activation is applied to each number on its own, the same way for any array: "
            "no branch on its size, shape or dtype.")


def _float16_values(y: np.ndarray) -> bool:
    """Every value one that float16 holds: a result that went through float16."""
    with np.errstate(over="ignore"):
        return bool(y.size) and bool(np.all(y.astype(np.float16).astype(np.float64) == y))


def _judge_forward_all(cases, observations, expected) -> None:
    roles = _roles(cases, observations)
    grid = roles["grid"][0].args[0]
    y64 = _elementwise(roles["grid"][1].result, grid, _F)
    y32 = _elementwise(roles["grid32"][1].result, grid.astype(np.float32), _F)
    # Elementwise: the value at an entry depends on that entry only, so every other case
    # (the large and timed ones too) gives the values of the grid case at the same points,
    # float32 ones those of float32.
    for case, obs in zip(cases, observations):
        role = str(case.note.get("role", ""))
        if role in ("grid", "grid32", "grid+1", "grid+2", "far", "far32", "far+1", "far+2",
                    "large32"):
            continue
        x = case.args[0]
        if x.size == 0:
            continue
        flat = np.asarray(x, dtype=np.float64).ravel()
        inside = np.abs(flat) <= 6  # (the entries beyond 6: _judge_far)
        got = _elementwise(_unwrap(case, obs), x, _F).ravel()[inside]
        float32 = x.dtype == np.float32
        want = _lookup(grid, y32 if float32 else y64, flat[inside])
        index = _first_off(got, want, rtol=1e-5 if float32 else 1e-9,
                           atol=1e-5 if float32 else 1e-12)
        if index is None:
            continue
        at = float(flat[inside][index])
        shown = pair(got[index], want[index])
        if case.note.get("role") == "ints":
            raise ExerciseError(
                f"{_F} gives {shown[0]} at x = {at:g} for an integer ({x.dtype}) input, but "
                f"{shown[1]} for x = {at:g} as a float: an integer array must give the "
                "values of the same numbers as floats.",
                "a result cast back to the input's dtype (.astype(x.dtype)) cuts the fractions "
                "off when x holds integers: let numpy choose the dtype of the result.")
        raise ExerciseError(
            f"{_F} on {case.label} gives {shown[0]} at x = {at:g}, but {shown[1]} "
            f"for the same x in the {grid.size}-point batch of case 1"
            f"{' (float32)' if float32 else ''}: the value at an entry depends on the array it "
            "is in (its other entries, its size or its shape).",
            "an activation is applied to each number on its own, the same way for any array: "
            "no sum, mean, std or max over the array, no branch on its size or shape.")
    _check_timed(*roles["timed"], _F)
    scale = 1.0 + float(np.max(np.abs(y64)))
    index = _first_off(y32, y64, rtol=_F32_RTOL, atol=1e-6 * scale)
    if index is not None:
        if _float16_values(y32) and not _float16_values(y64):
            hint = ("your float32 results are all numbers float16 can hold: a round trip "
                    "through float16 keeps only 3 digits. Compute in the input's own dtype.")
        else:
            hint = ("float32 keeps about 7 digits, and a formula of a few operations keeps "
                    "nearly all of them: look for a lower precision on the way (float16), a "
                    "subtraction of two nearly equal numbers, or a step smaller than the "
                    "spacing of float32 numbers.")
        shown = pair(y32[index], y64[index])
        raise ExerciseError(
            f"{_F} gives {shown[0]} in float32 but {shown[1]} in float64 at x = "
            f"{grid[index]:g}: they should agree to float32's precision (1e-5 relative).", hint)
    # float64 precision: the slopes over 1e-6 and 2e-6 (relative) agree for a function
    # computed in float64 (to h f'' and rounding, 1e-9); a lower precision cast back moves
    # in jumps of its own spacing, so they differ wildly at most points.
    step = 1e-6 * np.maximum(1.0, np.abs(grid))
    up1 = _elementwise(_unwrap(*roles["grid+1"]), roles["grid+1"][0].args[0], _F)
    up2 = _elementwise(_unwrap(*roles["grid+2"]), roles["grid+2"][0].args[0], _F)
    with np.errstate(all="ignore"):
        s1, s2 = (up1 - y64) / step, (up2 - y64) / (2 * step)
        jumpy = ~(np.abs(s1 - s2) <= 1e-3 * np.maximum(1.0, np.maximum(np.abs(s1),
                                                                      np.abs(s2))))
        # Or stuck: the same value at x, x + 1e-6 and x + 2e-6 (relative) where the curve
        # slopes on both sides (the chords to the neighbouring grid points): a float64
        # function with a slope above 1e-3 changes there by far more than its rounding.
        chord = np.diff(y64) / np.diff(grid)
        sloped = np.zeros(grid.size, dtype=bool)
        sloped[1:-1] = (np.abs(chord[:-1]) > 1e-3) & (np.abs(chord[1:]) > 1e-3)
        jumpy |= sloped & (up1 == y64) & (up2 == y64)
    # Many jumpy points, or a run of them: a lower precision on part of the range (x > 3,
    # say) shows as neighbours that all jump, where a float64 function jumps at a kink alone.
    if np.sum(jumpy) >= max(5, grid.size // 5) or _longest_run(jumpy) >= _JUMPY_RUN:
        i = int(np.argmax(jumpy))
        if s1[i] == 0 and s2[i] == 0:
            seen = (f"at x = {grid[i]:g} it gives the same value at x + 1e-6 and x + 2e-6 "
                    f"(relative) although the curve slopes there ({chord[i]:.3g})")
        else:
            seen = (f"at x = {grid[i]:g} its slope is {s1[i]:.6g} over 1e-6 and {s2[i]:.6g} "
                    "over 2e-6 (relative)")
        raise ExerciseError(
            f"{_F} on float64 input moves in jumps at {int(np.sum(jumpy))} of {grid.size} "
            f"points: {seen}. A function computed in float64 changes smoothly at that scale; "
            "these are the steps of a lower precision.",
            "it is computed in float32 or float16 and cast back (an .astype, a float32 or "
            "float16 constant or array on the way): keep float64 input in float64.")
    # Values of a lower precision on part of the range: at x + 1e-6 and x + 2e-6 (relative),
    # numbers float32 does not hold, a float64 function that changes there gives two numbers
    # float32 holds by chance only (about 1 in 2^58); one computed in float32 always does.
    _refuse_float32_values(up1, up2, grid, "points moved by 1e-6")
    _judge_large32(roles, scale)
    _judge_far(cases, observations, grid, y64, y32)
    # Nonlinear: the best straight line through the curve must miss it somewhere.
    A = np.column_stack([grid, np.ones_like(grid)])
    coef = np.linalg.lstsq(A, y64, rcond=None)[0]
    residual = float(np.max(np.abs(A @ coef - y64)))
    if residual <= 1e-6 * (1 + float(np.max(np.abs(y64)))):
        raise ExerciseError(
            f"{_F} is a straight line on [-6, 6] (f(x) = {coef[0]:.3g} x + {coef[1]:.3g}).",
            "an affine activation makes a deep network one linear map: bend it somewhere "
            "(chapter 01).")
    match = _matching_builtin(grid, y64)
    if match is not None:
        label, a, b, c, d, gap = match
        if _plain_transform(a, b, c, d):
            problem = f"{_F} equals the built-in {label} on [-6, 6]"
        else:
            problem = (f"{_F} equals the built-in {label} up to a scale and shift on [-6, 6]: "
                       f"a f(bx + c) + d with a = {a:.4g}, b = {b:.4g}, c = {c:.4g}, "
                       f"d = {d:.4g}")
        raise ExerciseError(
            f"{problem} (largest difference {gap:.2g}).",
            "the registry already has it, with any parameter it allows, stretched, shifted, "
            "reflected or scaled: design a new activation (a published one the registry does "
            "not have is fine).")


# ------------------------------------------------------------------ the built-ins' families
# "Not a built-in" covers a f(b x + c) + d for every built-in f, with any parameter the
# registry allows (leaky_relu's alpha in [0, 1), elu's alpha > 0), any a and d, a scale b of
# 1/50 to 50 in size and a shift c that keeps part of f's own [-6, 6] in view on [-6, 6]:
# |c| <= 6 (|b| + 1). relu, leaky_relu and step keep their shape at any scale, so any b and
# c count for them. A curve within 1e-3 (1 + max |f|) of one of these on [-6, 6] is that
# built-in. The kinked ones are found from their shape; the smooth ones by a search over
# (b, c), a and d (and elu's alpha) being solved exactly at every (b, c).

MATCH_SCALES = (0.02, 50.0)
MATCH_WINDOW = 6.0
_GELU_C = math.sqrt(2 / math.pi)


def _fast_sigmoid(u):
    return 0.5 + 0.5 * np.tanh(0.5 * u)


def _fast_softplus(u):
    return np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u)))


def _fast_silu(u):
    return u * _fast_sigmoid(u)


def _fast_gelu(u):
    return 0.5 * u * (1 + np.tanh(_GELU_C * (u + 0.044715 * (u * u * u))))


# The smooth built-ins, searched with fast formulas (the registry's own activation confirms a
# match): (name, formula, how often its curve turns at most, the u of its extremum, searched
# on -x too since a f(-u) is no a f(u) + d for it). elu's formula is None: its alpha is
# solved with a and d. tanh is sigmoid's family, tanh(u) = 2 sigmoid(2u) - 1: searched with
# b and c doubled.
_SMOOTH = (
    ("sigmoid", _fast_sigmoid, 0, None, False),
    ("arctan", np.arctan, 0, None, False),
    ("softplus", _fast_softplus, 0, None, True),
    ("elu", None, 0, None, True),
    ("silu", _fast_silu, 1, -1.2784645427610738, True),
    ("gelu", _fast_gelu, 1, -0.7517915241, True),
)
_STEEP = 8.0  # from this scale on, a transition may lie between two points
_LOG_B = np.linspace(math.log(MATCH_SCALES[0]), math.log(2 * MATCH_SCALES[1]), 19)


def _plain_transform(a, b, c, d) -> bool:
    return max(abs(a - 1), abs(b - 1), abs(c), abs(d)) < 1e-4


def _allowed(b, c) -> bool:
    return MATCH_SCALES[0] <= abs(b) <= MATCH_SCALES[1] and abs(c) <= MATCH_WINDOW * (abs(b) + 1)


def _turns(y, gap: float) -> tuple[int, int | None]:
    """How often y turns (rises, then falls by more than ``gap``, or the reverse), and the
    index of its first turning point. A curve within gap / 2 of a monotone one never turns."""
    count, direction, pivot = 0, 0, None
    hi = lo = float(y[0])
    i_hi = i_lo = 0
    for i, v in enumerate(y.tolist()):
        if direction == 0:
            if v > hi:
                hi, i_hi = v, i
            if v < lo:
                lo, i_lo = v, i
            if v - lo > gap:
                direction, hi, i_hi = 1, v, i
            elif hi - v > gap:
                direction, lo, i_lo = -1, v, i
        elif direction > 0:
            if v > hi:
                hi, i_hi = v, i
            elif hi - v > gap:
                count, direction, lo, i_lo = count + 1, -1, v, i
                pivot = i_hi if pivot is None else pivot
        else:
            if v < lo:
                lo, i_lo = v, i
            elif v - lo > gap:
                count, direction, hi, i_hi = count + 1, 1, v, i
                pivot = i_lo if pivot is None else pivot
    return count, pivot


def _fit2(G, y):
    """Per row g of G: the least-squares a, d of y ~ a g + d, and the sum of squared residuals."""
    yc = y - y.mean()
    gm = G.mean(axis=1)
    Gc = G - gm[:, None]
    var = np.einsum("ij,ij->i", Gc, Gc)
    cov = Gc @ yc
    ok = var > 1e-300
    a = np.where(ok, cov / np.where(ok, var, 1.0), 0.0)
    sse = yc @ yc - a * cov
    return np.where(np.isfinite(sse), sse, np.inf), a, y.mean() - a * gm


def _elu_basis(b, c, x):
    """a elu_alpha(u) + d, u = b x + c, is A relu(u) + B exp(min(u, 0)) + D (alpha = B / A)."""
    u = b[:, None] * x[None, :] + c[:, None]
    return np.maximum(u, 0), np.exp(np.minimum(u, 0))


def _fit3(P, Q, y):
    """Per row: the least squares y ~ A p + B q + D: (sum of squared residuals, A, B, D)."""
    yc = y - y.mean()
    pm, qm = P.mean(axis=1), Q.mean(axis=1)
    Pc, Qc = P - pm[:, None], Q - qm[:, None]
    pp, qq, pq = (np.einsum("ij,ij->i", u, v) for u, v in ((Pc, Pc), (Qc, Qc), (Pc, Qc)))
    py, qy = Pc @ yc, Qc @ yc
    det = pp * qq - pq * pq
    ok = det > 1e-12 * pp * qq
    det = np.where(ok, det, 1.0)
    A = np.where(ok, (qq * py - pq * qy) / det, 0.0)
    B = np.where(ok, (pp * qy - pq * py) / det, 0.0)
    sse = yc @ yc - A * py - B * qy
    return np.where(ok & np.isfinite(sse), sse, np.inf), A, B, y.mean() - A * pm - B * qm


def _family_residuals(fn, b, c, x, y):
    """y minus its least-squares fit by the family at each (b, c), one row each."""
    if fn is None:
        P, Q = _elu_basis(b, c, x)
        _, A, B, D = _fit3(P, Q, y)
        r = y - (A[:, None] * P + B[:, None] * Q + D[:, None])
    else:
        G = fn(b[:, None] * x[None, :] + c[:, None])
        _, a, d = _fit2(G, y)
        r = y - (a[:, None] * G + d[:, None])
    return np.where(np.isfinite(r), r, 1e150)


def _family_sse(fn, b, c, x, y):
    if fn is None:
        return _fit3(*_elu_basis(b, c, x), y)[0]
    return _fit2(fn(b[:, None] * x[None, :] + c[:, None]), y)[0]


def _search_limits(name):
    """(smallest b, largest b, w): the search covers |c| <= 6 (b + w). The sigmoid search covers
    tanh too, whose b and c are doubled in sigmoid's terms."""
    if name == "sigmoid":
        return MATCH_SCALES[0], 2 * MATCH_SCALES[1], 2.0
    return MATCH_SCALES[0], MATCH_SCALES[1], 1.0


def _search_nodes(name, u_ext, x, y, pivot):
    """Where to start: [(b, c, points to score them on)]. With a turn (silu, gelu), f's extremum
    at b x + c = u_ext lies within a spacing of the curve's. Else a grid of (b, c) scored on a
    subset of the points, and, for transitions narrower than the spacing, every place around
    the curve's largest jumps and bends."""
    lo, hi, w = _search_limits(name)
    bs = np.exp(_LOG_B[_LOG_B <= math.log(hi) + 1e-9])
    if pivot is not None and u_ext is not None:
        xm = np.linspace(x[max(pivot - 1, 0)], x[min(pivot + 1, x.size - 1)], 9)
        return [(np.repeat(bs, xm.size), (u_ext - bs[:, None] * xm).ravel(), np.arange(x.size))]
    subset = np.unique(np.linspace(0, x.size - 1, 32).round().astype(int))
    grid_b, grid_c = [], []
    for b in bs[bs < _STEEP]:
        c = np.arange(-MATCH_WINDOW * (b + w), MATCH_WINDOW * (b + w) + 1e-9, 0.25)
        grid_b.append(np.full(c.size, b))
        grid_c.append(c)
    nodes = [(np.concatenate(grid_b), np.concatenate(grid_c), subset)]
    jumps = np.argsort(-np.abs(np.diff(y)))[:2]
    bends = 1 + np.argsort(-np.abs(np.diff(np.diff(y) / np.diff(x))))[:2]
    gaps = np.unique(np.concatenate([jumps, bends - 1, bends]))
    gaps = gaps[(gaps >= 0) & (gaps < x.size - 1)]
    steep_b, steep_c = [], []
    for b in bs[bs >= _STEEP]:
        for g in gaps:
            c = -b * np.arange(x[g], x[g + 1], 0.5 / b)
            steep_b.append(np.full(c.size, b))
            steep_c.append(c)
    if steep_b:
        nodes.append((np.concatenate(steep_b), np.concatenate(steep_c), np.arange(x.size)))
    return nodes


def _search(name, fn, u_ext, x, y, pivot, tol):
    """The closest a f(b x + c) + d of one family (b > 0): (b, c). The best nodes of a coarse
    search start a Levenberg-Marquardt descent on (log b, t), t = c / (b + w) the place of
    f's window, in which the valley of a steep transition (c = -b s, s fixed) is straight."""
    B, C = [], []
    for b, c, pick in _search_nodes(name, u_ext, x, y, pivot):
        best = np.argsort(_family_sse(fn, b, c, x[pick], y[pick]))[:12]
        B.append(b[best])
        C.append(c[best])
    B, C = np.concatenate(B), np.concatenate(C)
    chosen: list[tuple[float, float]] = []
    for _, b0, c0 in sorted(zip(_family_sse(fn, B, C, x, y).tolist(), B.tolist(), C.tolist())):
        if all(abs(math.log(b0 / b1)) > 0.3 or abs(c0 - c1) > 0.5 for b1, c1 in chosen):
            chosen.append((b0, c0))  # the four best starts that lie apart
        if len(chosen) == 4:
            break
    lo, hi, w = _search_limits(name)

    def residuals(lb, t):
        return _family_residuals(fn, np.exp(lb), t * (np.exp(lb) + w), x, y)

    lb = np.log([b for b, _ in chosen])
    t = np.array([c for _, c in chosen]) / (np.exp(lb) + w)
    r = residuals(lb, t)
    sse = np.einsum("ij,ij->i", r, r)
    lam = np.full(lb.size, 1e-2)
    history = []
    for k in range(30):
        h = 1e-7
        both = residuals(np.concatenate([lb + h, lb]), np.concatenate([t, t + h]))
        J1, J2 = (both[:lb.size] - r) / h, (both[lb.size:] - r) / h
        a11, a12, a22 = (np.einsum("ij,ij->i", u, v) for u, v in ((J1, J1), (J1, J2), (J2, J2)))
        g1, g2 = np.einsum("ij,ij->i", J1, r), np.einsum("ij,ij->i", J2, r)
        m11, m22 = a11 * (1 + lam) + 1e-300, a22 * (1 + lam) + 1e-300
        det = m11 * m22 - a12 * a12
        det = np.where(det > 0, det, np.inf)
        new_lb = np.clip(lb - (m22 * g1 - a12 * g2) / det, math.log(lo), math.log(hi))
        new_t = np.clip(t - (m11 * g2 - a12 * g1) / det, -MATCH_WINDOW, MATCH_WINDOW)
        new_r = residuals(new_lb, new_t)
        new_sse = np.einsum("ij,ij->i", new_r, new_r)
        better = new_sse < sse
        lb, t = np.where(better, new_lb, lb), np.where(better, new_t, t)
        r, sse = np.where(better[:, None], new_r, r), np.where(better, new_sse, sse)
        lam = np.where(better, lam / 3, lam * 5)
        history.append(float(sse.min()))
        if history[-1] <= 1e-12 * tol * tol or (history[-1] <= 0.25 * tol * tol and k >= 3
                                                  and history[-1] > 0.9 * history[-4]):
            break  # a match, found to several digits (or as close as it gets)
        # a match keeps shrinking its residual; another function stalls well above tol
        if k >= 6 and history[-1] > 4 * x.size * tol * tol and history[-1] > 0.95 * history[-4]:
            break
    j = int(np.argmin(sse))
    return float(math.exp(lb[j])), float(t[j] * (math.exp(lb[j]) + w))


def _registry_fit(name, params, b, c, x, y, tol):
    """The registry's own activation at (b, c), a and d by least squares: (label, a, b, c, d,
    gap) when within tol, else None."""
    try:
        act = activations.get(name, **params)
    except (ValueError, TypeError):
        return None
    with np.errstate(all="ignore"):
        g = np.asarray(act(b * x + c), dtype=float)
        _, a, d = _fit2(g[None], y)
        gap = float(np.max(np.abs(a[0] * g + d[0] - y)))
    return (act.label, float(a[0]), float(b), float(c), float(d[0]), gap) if gap <= tol else None


def _confirm(name, b, c, x, y, tol):
    """A smooth family's best (b, c), confirmed with the registry's activation in the allowed
    range (elu's alpha read off the fit, with as few digits as fit about as well)."""
    params = {}
    if name == "elu":
        sign = 1.0 if b > 0 else -1.0
        _, A, B, _ = _fit3(*_elu_basis(np.array([abs(b)]), np.array([c]), sign * x), y)
        if not (A[0] != 0 and B[0] / A[0] > 0):
            return None
        alpha = float(B[0] / A[0])
        # The fewest digits that fit about as well (a tenth of tol), else the fit's own.
        for digits, within in ((2, 0.1 * tol), (3, 0.1 * tol), (4, 0.1 * tol), (8, tol)):
            found = _registry_fit(name, {"alpha": float(f"{alpha:.{digits}g}")}, b, c, x, y,
                                  within)
            if found is not None:
                return found
        return None
    # tanh(u) = 2 sigmoid(2u) - 1: the sigmoid search finds tanh too. Of the two forms that
    # fit, the plainer one (a nearer 1, d nearer 0) names it.
    forms = [(name, b, c)] + ([("tanh", b / 2, c / 2)] if name == "sigmoid" else [])
    fits = [_registry_fit(n, params, bn, cn, x, y, tol) for n, bn, cn in forms
            if _allowed(bn, cn)]
    fits = [f for f in fits if f is not None and f[1] != 0]
    return min(fits, key=lambda f: abs(math.log(abs(f[1]))) + abs(f[4])) if fits else None


def _smooth_match(x, y, tol, count, pivot):
    """The smooth built-in closest to the points, if within tol."""
    best = None
    for name, fn, most, u_ext, reflect in _SMOOTH:
        if count > most:
            continue
        for r in ((1, -1) if reflect else (1,)):
            xr, yr = (x, y) if r > 0 else (-x[::-1], y[::-1])
            piv = None if pivot is None else (pivot if r > 0 else x.size - 1 - pivot)
            with np.errstate(all="ignore"):
                b, c = _search(name, fn, u_ext, xr, yr, piv, tol)
            found = _confirm(name, r * b, c, x, y, tol)
            if found is not None and (best is None or found[-1] < best[-1]):
                best = found
    return best


def _line_splits(x, y):
    """For each split of the sorted points into x[:i] and x[i:] (two or more on each side):
    each side's least-squares line (slope, intercept, summed squared residuals)."""
    n = x.size

    def cum(v):
        return np.concatenate([[0.0], np.cumsum(v)])
    sums = [cum(v) for v in (np.ones(n), x, y, x * x, x * y, y * y)]
    i = np.arange(2, n - 1)

    def line(k, sx, sy, sxx, sxy, syy):
        vx, cxy, vy = sxx - sx * sx / k, sxy - sx * sy / k, syy - sy * sy / k
        m = np.where(vx > 0, cxy / np.where(vx > 0, vx, 1.0), 0.0)
        return m, (sy - m * sx) / k, np.maximum(vy - m * cxy, 0.0)
    return i, line(*(s[i] for s in sums)), line(*(s[n] - s[i] for s in sums))


def _kinked_match(x, y, tol):
    """step, relu or leaky_relu (alpha in [0, 1)), at any scale, shifted or reflected: two
    levels with a jump, or two straight pieces meeting at a kink whose slopes have the same
    sign (or one is 0)."""
    n = x.size
    if n < 4:
        return None
    # step: two levels; the one point at the jump is free (a step may take any value there)
    hi_l, lo_l = np.maximum.accumulate(y), np.minimum.accumulate(y)
    hi_r, lo_r = np.maximum.accumulate(y[::-1])[::-1], np.minimum.accumulate(y[::-1])[::-1]
    for skip in (0, 1):
        i = np.arange(1, n - skip)  # left y[:i], right y[i + skip:]
        spread = np.maximum(hi_l[i - 1] - lo_l[i - 1], hi_r[i + skip] - lo_r[i + skip]) / 2
        k = int(np.argmin(spread))
        j = int(i[k])
        low, high = (hi_l[j - 1] + lo_l[j - 1]) / 2, (hi_r[j + skip] + lo_r[j + skip]) / 2
        if spread[k] <= tol and abs(high - low) > 2 * tol:
            at = float(x[j]) if skip else float(x[j - 1] + x[j]) / 2
            return "step", float(high - low), 1.0, -at, float(low), float(spread[k])
    i, (m_l, q_l, e_l), (m_r, q_r, e_r) = _line_splits(x, y)
    for k in np.argsort(e_l + e_r)[:3]:
        j = int(i[k])
        if m_l[k] == m_r[k]:
            continue
        kink = float(np.clip((q_r[k] - q_l[k]) / (m_l[k] - m_r[k]), x[j - 1], x[j]))
        steep_right = abs(m_r[k]) >= abs(m_l[k])
        ratio = m_l[k] / m_r[k] if steep_right else m_r[k] / m_l[k]
        b = 1.0 if steep_right else -1.0  # leaky_relu's steep side is its right one
        tries = [("relu", {})]
        if 0 < ratio < 1:
            tries.append(("leaky_relu", {"alpha": float(f"{ratio:.6g}")}))
        for name, params in tries:
            found = _registry_fit(name, params, b, -b * kink, x, y, tol)
            if found is not None:
                return found
    return None


def _matching_builtin(x, out):
    """(label, a, b, c, d, largest difference) of a built-in that ``out`` reproduces on ``x``
    as a f(b x + c) + d, or None. x = 0 is left out, where a step may take any value."""
    order = np.argsort(x, kind="stable")
    x, y = np.asarray(x, dtype=float)[order], np.asarray(out, dtype=float)[order]
    keep = x != 0
    x, y = x[keep], y[keep]
    tol = 1e-3 * (1 + float(np.max(np.abs(y))))
    for name in activations.builtin_names():  # as they are first: the plainest message
        if name != "identity":
            act = activations.get(name)
            gap = float(np.max(np.abs(np.asarray(act(x), dtype=float) - y)))
            if gap <= tol:
                return act.label, 1.0, 1.0, 0.0, 0.0, gap
    found = _kinked_match(x, y, tol)
    if found is not None:
        return found
    count, pivot = _turns(y, 2 * tol * (1 + 1e-9))
    return None if count > 1 else _smooth_match(x, y, tol, count, pivot)


FORWARD = Spec(
    "ch06.my_activation", check="ch06.check_forward", grade_id="ch06-forward-check",
    what=_F, answers=("my_activation",), draw=_draw_forward,
    reference_case=lambda case: None, judge=_judge_forward, judge_all=_judge_forward_all,
    vectorised=True, reuse_calls=64, loop_hint=_LOOP_HINT,
    passed="`my_activation` is vectorised, elementwise, finite and nonlinear, keeps float32 "
           "and float64 (agreeing to float32's precision), gives an integer array the values "
           "of the same numbers as floats, and is no built-in, stretched or shifted.")


@exercise_check
def check_forward(forward, *, seed: int | None = None) -> None:
    """Your activation: vectorised, elementwise, finite, nonlinear, dtype kept, not a built-in."""
    FORWARD.check(forward, seed=seed)


# --------------------------------------------------------------------------------------
# Part 2: the derivative, against finite differences of the student's own forward pass
# --------------------------------------------------------------------------------------

_D = "`my_derivative`"
# The finite-difference step at x: relative for large |x|, so f(x + h) - f(x) keeps digits.
_H = 1e-5


def _step(x):
    return _H * np.maximum(1.0, np.abs(x))


def _distance_from(t, points: np.ndarray) -> float | None:
    """How far the farthest value of ``t`` lies from the sorted ``points`` (None: all of them
    are points, or ``t`` holds no real numbers)."""
    try:
        t = np.asarray(t)
        if t.dtype.kind not in "fiu" or t.size == 0:
            return None
        v = t.astype(np.float64).ravel()
        v = v[np.isfinite(v)]
        if not v.size:
            return None
        i = np.clip(np.searchsorted(points, v), 1, max(points.size - 1, 1))
        upper = points[np.minimum(i, points.size - 1)]
        gap = np.minimum(np.abs(v - points[i - 1]), np.abs(v - upper))
        worst = float(np.max(gap))
        return worst if worst > 0 else None
    except Exception:  # anything odd the student passed: not a point to compare
        return None


def _complex_local(frame) -> str | None:
    """The name of a complex number or array among a frame's local variables, if any."""
    try:
        for name, value in frame.f_locals.items():
            if (isinstance(value, np.ndarray) and value.dtype.kind == "c") or isinstance(
                    value, (complex, np.complexfloating)):
                code = frame.f_code
                return f"`{name}` in `{getattr(code, 'co_qualname', code.co_name)}`"[:120]
    except Exception:  # a frame whose locals cannot be read: nothing to report
        return None
    return None


# Where the student's own code lives: not numpy's, the course's or Python's own files.
_LIBRARY = tuple(sorted({os.path.dirname(os.path.abspath(np.__file__)) + os.sep,
                         os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
                         os.path.abspath(sys.prefix) + os.sep,
                         os.path.abspath(sys.base_prefix) + os.sep,
                         os.path.abspath(sys.exec_prefix) + os.sep} - {os.sep}))


def _own_code(code) -> bool:
    name = code.co_filename
    return not name.startswith(_LIBRARY) and not name.startswith("<frozen")


# How far a copy of x may be moved and still count as a finite difference's step (the task:
# "up to a quarter of max(1, |x|)").
_SMALL_STEP = 0.25


def _shift_of(value, x: np.ndarray) -> str | None:
    """How ``value`` is ``x`` moved by a small step, as a finite difference moves it (x + c or
    x + c max(1, |x|) or x (1 + c) with 0 < |c| <= 0.25, or any step of at most a quarter of
    max(1, |x|)), or None. (A quarter, not the 0.1 of an earlier stop: an eighth-order
    stencil with h = 0.105 is accurate to eight digits.)"""
    try:
        if (not isinstance(value, np.ndarray) or value.shape != x.shape or x.size < 2
                or value.dtype.kind != "f"):
            return None
        diff = value.astype(np.float64) - x
        if not np.all(np.isfinite(diff)) or not np.any(diff):
            return None
        size = np.maximum(1.0, np.abs(x))
        for scale, text, most in ((np.ones_like(x), "x {:+.3g}", _SMALL_STEP),
                                  (size, "x {:+.3g} max(1, |x|)", _SMALL_STEP),
                                  (x, "x (1 {:+.3g})", _SMALL_STEP)):
            used = scale != 0
            if not used.any() or np.any(diff[~used]):
                continue
            c = float(np.median(diff[used] / scale[used]))
            if c != 0 and abs(c) <= most and np.all(
                    np.abs(diff - c * scale) <= 1e-6 * abs(c) * np.abs(scale) + 1e-12 * size):
                return text.format(c)
        # Any other small step: every point moved by at most a quarter of max(1, |x|), some
        # by more than 1e-9 of it (a step of any shape, c (1 + |x|) or sqrt(1 + x^2) among
        # them; a tiny guard such as x + 1e-12 is no finite difference).
        moved = float(np.max(np.abs(diff) / size))
        if 1e-9 <= moved <= _SMALL_STEP:
            return f"x moved by up to {moved:.2g} max(1, |x|)"
    except Exception:  # anything odd the student passed: not a shifted copy
        return None
    return None


# Objects whose attributes are no student's data: modules, classes, functions and methods.
_NOT_HOLDERS = (types.ModuleType, type, types.FunctionType, types.MethodType,
                types.BuiltinFunctionType, functools.partial)


def _shifted_items(value, x: np.ndarray) -> list[np.ndarray]:
    """:func:`_arrays_like_x`, and nothing (never an error) for anything odd."""
    try:
        return _arrays_like_x(value, x)
    except Exception:  # the student's locals can be anything: not a shifted copy
        return []


def _arrays_like_x(value, x: np.ndarray) -> list[np.ndarray]:
    """The arrays of x's size that ``value`` holds, in x's shape: the array itself (any
    shape of that size), the slices of a stack along its first or last axis, the pieces of a
    flat concatenation, or the items of a list, tuple or dict (at most 16 of each)."""
    if isinstance(value, dict):
        value = list(value.values())
    elif isinstance(value, types.SimpleNamespace) or (
            hasattr(value, "__dict__") and not isinstance(value, _NOT_HOLDERS)):
        # an object of the student's holding arrays as attributes (one level deep)
        value = [v for v in list(vars(value).values())[:64] if isinstance(v, np.ndarray)]
    if isinstance(value, (list, tuple)):
        return [item for v in value[:16] if isinstance(v, np.ndarray)
                for item in _arrays_like_x(v, x)]
    if (not isinstance(value, np.ndarray) or value.dtype.kind != "f" or x.size < 2
            or value.size == 0):
        return []
    if value.size == x.size:
        return [value.reshape(x.shape)]
    if value.ndim == x.ndim + 1 and value.shape[1:] == x.shape:
        return list(value[:16])
    if value.ndim == x.ndim + 1 and value.shape[:-1] == x.shape:
        return [value[..., k] for k in range(min(value.shape[-1], 16))]
    if value.ndim == 1 and value.size % x.size == 0 and value.size // x.size <= 16:
        return [piece.reshape(x.shape) for piece in np.split(value, value.size // x.size)]
    return []


def _shifted_local(value, x: np.ndarray, known=()) -> str | None:
    """How a value in the student's code holds x moved by a finite difference's step, or
    None. Every point moved, by at least 1e-7 of max(1, |x|) at some point: a clip moves only
    the points beyond it, and a guard such as x + 1e-12 is too small to be a step (smaller
    steps show as rounding noise). A shift that ``my_activation`` itself makes (``known``:
    mish(x + 0.03) is a function of its own) is no finite difference."""
    for item in _shifted_items(value, x):
        how = _shift_of(item, x)
        if how is None:
            continue
        try:
            diff = item.astype(np.float64) - x
            moved = np.abs(diff) / np.maximum(1.0, np.abs(x))
            if (np.mean(diff != 0) >= 0.9 and float(np.max(moved)) >= 1e-7
                    and not any(np.allclose(diff, k, rtol=1e-9, atol=0) for k in known)):
                return how
        except Exception:  # anything odd in the student's locals: not a shifted copy
            continue
    return None


def _forward_shifts(forward, x: np.ndarray) -> list[np.ndarray]:
    """The shifts of x that ``forward(x)`` itself computes (x + 0.03 in mish(x + 0.03)), seen
    among its local variables: part of the function, not a finite difference."""
    shifts: list[np.ndarray] = []
    previous = sys.getprofile()

    def scan(frame):
        try:
            named = list(frame.f_locals.values())
        except Exception:  # a frame whose locals cannot be read
            return
        for value in named:
            for item in _shifted_items(value, x):
                if len(shifts) < 32 and _shift_of(item, x) is not None:
                    shifts.append(item.astype(np.float64) - x)

    def watch(frame, event, arg):
        if event in ("return", "c_call") and _own_code(frame.f_code):
            scan(frame)
        if previous is not None:
            previous(frame, event, arg)

    sys.setprofile(watch)
    try:
        forward(x.copy())
    except Exception:  # the forward pass's own failures are Part 1's (and this case's) to name
        pass
    finally:
        sys.setprofile(previous)
    return shifts


@driver("ch06.derivative_watched")
def _derivative_watched(answers, x):
    """``my_derivative(x)``, recording where it ran ``my_activation`` (at x itself is fine, as
    SiLU's f' = f + sigma (1 - f) does; anywhere else is a finite difference, whatever the
    step) and whether any Python function it ran held complex numbers (a complex step). The
    student's forward function is recognised by its code, whatever name calls it (an alias,
    a closure, a lambda, a partial, a helper)."""
    forward, derivative = answers
    x_copy = x.copy()
    code = getattr(forward, "__code__", None)
    argument = code.co_varnames[0] if code is not None and code.co_argcount >= 1 else None
    points = np.unique(x_copy)
    away: list[float] = []
    complex_seen: list[str] = []
    shifted: list[str] = []
    known = _forward_shifts(forward, x_copy)
    previous = sys.getprofile()

    def watch(frame, event, arg):
        if event in ("call", "return"):
            if event == "call" and argument is not None and frame.f_code is code:
                far = _distance_from(frame.f_locals.get(argument), points)
                if far is not None:
                    away.append(far)
            elif event == "call" and not shifted and _own_code(frame.f_code):
                # A function of the student's own (a copy of the forward pass, a helper) at
                # a shifted copy of x: a finite difference, whatever its step or stencil.
                f_code = frame.f_code
                for name in f_code.co_varnames[:f_code.co_argcount + f_code.co_kwonlyargcount]:
                    how = _shifted_local(frame.f_locals.get(name), x_copy, known)
                    if how is not None:
                        qualname = getattr(f_code, "co_qualname", f_code.co_name)
                        shifted.append(f"`{qualname}` at {how}"[:120])
                        break
            if event == "return" and not shifted and _own_code(frame.f_code):
                _scan_locals(frame)
            if not complex_seen:
                found = _complex_local(frame)
                if found is None and event == "return" and (
                        (isinstance(arg, np.ndarray) and arg.dtype.kind == "c")
                        or isinstance(arg, (complex, np.complexfloating))):
                    code_ = frame.f_code
                    found = (f"the value `{getattr(code_, 'co_qualname', code_.co_name)}` "
                             "returns")[:120]
                if found is not None:
                    complex_seen.append(found)
        elif event == "c_call" and not shifted and _own_code(frame.f_code):
            _scan_locals(frame)  # a numpy call from the student's code: its locals so far
        if previous is not None:
            previous(frame, event, arg)

    def _scan_locals(frame) -> None:
        # The stencil written inline, calling no function of the student's: its shifted
        # copies of x are local variables (a1 = x + h), seen before each call and at return.
        try:
            named = list(frame.f_locals.items())
        except Exception:  # a frame whose locals cannot be read
            return
        for name, value in named:
            how = _shifted_local(value, x_copy, known)
            if how is not None:
                qualname = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
                shifted.append(f"`{name}` in `{qualname}` is {how}"[:120])
                return

    sys.setprofile(watch)
    try:
        d = derivative(x)
    finally:
        sys.setprofile(previous)
    return {"d": d, "away": max(away) if away else None,
            "complex": complex_seen[0] if complex_seen else None,
            "shifted": shifted[0] if shifted else None,
            "modified": _modified({"x": x}, {"x": x_copy})}


# Tiny inputs, both signs: float32 ones (1e-45 is float32's smallest subnormal) and float64
# ones float32 does not hold (5e-324 is float64's smallest subnormal).
_TINY32 = _float32_points(np.array([1e-30, -1e-30, 1e-38, -1e-38, 1e-40, -1e-40, 1e-45,
                                    -1e-45]))
_TINY64 = np.array([1e-200, -1e-200, 1e-310, -1e-310, 5e-324, -5e-324])


def _dense_points(rng) -> np.ndarray:
    """Random points out to |x| = 100, one in each cell of width 1e-4 on [-5, 5] and of
    2e-4 |x| beyond (0.02 at 100): a derivative wrong on any stretch twice that wide is wrong
    at one of them, wherever the stretch lies (a grid of fixed points left gaps)."""
    inner = (np.arange(-50_000, 50_000) + rng.random(100_000)) * 1e-4
    cells = int(math.log(20) / 2e-4)
    outer = 5 * np.exp((np.arange(cells) + rng.random(cells)) * (math.log(20) / cells))
    return np.concatenate([-outer[::-1], inner, outer])


def _in_blocks(fn, x, size: int = 8192):
    """``fn(x)`` for an elementwise ``fn``, on blocks of x that stay in the CPU's cache (four
    times faster on 130,000 points); on the whole of x if the blocks' results do not join."""
    try:
        return np.concatenate([np.asarray(fn(x[i:i + size].copy())).reshape(-1)
                               for i in range(0, x.size, size)])
    except (TypeError, ValueError):
        return fn(x.copy())


def _blocks(n: int, size: int = 8192):
    """(start, stop) of consecutive blocks covering range(n): numpy's work on each stays in
    the CPU's cache."""
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def _jump_scores(x, f0, fp, fm, d) -> np.ndarray:
    """For each pair of neighbouring points, how far the slope of f (its central difference)
    or the derivative d changes between them beyond what f's curvature explains, in units of
    what is allowed (over 1: a jump, a kink of f or a threshold of d between them); 2 for a
    pair beside a point whose own stencil straddles a kink."""
    h = _step(x)
    with np.errstate(all="ignore"):
        slope = (fp - fm) / (2 * h)
        bend = (fp - 2 * f0 + fm) / h**2
        gap = x[1:] - x[:-1]
        expected = gap * (bend[:-1] + bend[1:]) / 2
        scale = np.maximum(1.0, np.maximum(np.abs(slope[:-1]), np.abs(slope[1:])))
        allowed = 1e-3 * scale + gap * np.abs(bend[1:] - bend[:-1])
        jump = np.maximum(np.abs(slope[1:] - slope[:-1] - expected),
                          np.abs(d[1:] - d[:-1] - expected))
        corner = np.abs((fp - f0) - (f0 - fm)) / h > 1e-2 * np.maximum(1.0, np.abs(slope))
        score = np.where(np.isfinite(jump / allowed), jump / allowed, 0.0)
        return np.maximum(score, (corner[:-1] | corner[1:]) * 2.0)


@driver("ch06.dense")
def _dense(answers, x):
    """``my_activation`` at x, x + h and x - h and ``my_derivative`` at x, for the dense
    points x (sorted); then, around every place where the activation's slope or the
    derivative jumps between neighbouring points (a kink, or a threshold of the
    derivative's), both again at 40 more points, with x +- 2h too, to judge there with the
    full stencil: a threshold a little off beside a kink shows wherever the kink lies."""
    forward, derivative = answers
    h = _step(x)
    f0, fp, fm = _in_blocks(forward, x), _in_blocks(forward, x + h), _in_blocks(forward, x - h)
    d = _in_blocks(derivative, x)
    record = {"f0": f0, "f+h": fp, "f-h": fm, "d": d}
    try:
        values = [np.asarray(v, dtype=np.float64).reshape(x.shape) for v in (f0, fp, fm, d)]
    except (TypeError, ValueError):
        return record  # the judge says what came back
    score = np.concatenate([_jump_scores(x[a:b + 1], *(v[a:b + 1] for v in values))
                            for a, b in _blocks(x.size - 1)])
    flagged = np.flatnonzero(score > 1)
    flagged = flagged[np.argsort(-score[flagged])][:24]
    if flagged.size:
        lo = x[np.maximum(flagged - 1, 0)]
        hi = x[np.minimum(flagged + 2, x.size - 1)]
        q = np.unique((lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, 42)[None, 1:-1])
                      .ravel())
        hq = _step(q)
        record.update({"q": q, "q f0": forward(q.copy()), "q f+h": forward(q + hq),
                       "q f-h": forward(q - hq), "q f+2h": forward(q + 2 * hq),
                       "q f-2h": forward(q - 2 * hq), "q d": derivative(q.copy())})
    return record


def _draw_derivative(rng) -> list[Case]:
    # A grid (step 1/200) and random points, judged to 8 digits; the dense case below puts
    # a point in every stretch of 1e-4 (2e-4 |x| beyond 5) and judges coarser wrong values.
    grid = np.concatenate([np.linspace(-5, 5, 2001), rng.uniform(-5, 5, 1000)])
    near = np.concatenate([[-1e-6, 1e-6, -1e-3, 1e-3],
                           rng.choice([-1, 1], 2) * rng.uniform(1e-7, 1e-5, 2)])
    # |x| from 5 to 20, step 1/50, from 20 to 100, step 1/10, and random ones out to 100: a
    # term wrong only on a band of moderate or large |x| shows (a tail formula taken over from
    # |x| = 12.5, a sign flipped on 20 < x < 30, say).
    band = np.concatenate([np.linspace(5, 20, 751), np.linspace(20, 100, 801)])
    large = np.concatenate([[-100, -50, -20, 20, 50, 100], band, -band,
                            rng.choice([-1, 1], 300) * rng.uniform(5, 100, 300)])
    # Points 1e-3 and 1e-6 either side of the places a kink usually sits (every 1/4 out to
    # |x| = 20, every 1/10 on [-5, 5]): a threshold written a little off (x < 7.005 for a
    # kink at 7) is wrong between the kink and the typo, closer than the grid's step.
    places = np.unique(np.round(np.concatenate([np.arange(-80, 81) / 4, np.arange(-50, 51) / 10]),
                                12))
    offsets = np.array([-1e-3, -1e-6, 1e-6, 1e-3])
    kinks = (places[:, None] + offsets[None, :]).ravel()
    x = _float32_points(np.concatenate([grid, near, large, kinks, _TINY32]))
    # Tiny ones float32 does not hold (float64's subnormals among them), in float64 only: a
    # formula guarded at x == 0 alone may give 0 / 0 or lose its digits there.
    x = np.unique(np.concatenate([x, _TINY64]))
    n, h = x.size, _step(x)
    after = x.copy()
    for _ in range(4):  # four floating-point numbers further: a formula hardly changes there
        after = np.nextafter(after, np.inf)
    probe = x[(np.abs(x) >= 0.1) | np.isin(x, _TINY32)]
    shape = random_shape(rng, max_dims=2, low=3, high=7)
    tall = (int(rng.integers(4, 9)), int(rng.integers(2, 4)))
    three = tuple(int(v) for v in rng.integers(2, 6, 3))
    # (from the points with 0.1 <= |x| <= 5: two tiny ones or two far ones swapped, whose
    # derivatives agree to 1e-16, would make a twin no kept result could fail)
    first3 = rng.choice(x[(np.abs(x) >= 0.1) & (np.abs(x) <= 5)], size=three)
    other3 = swapped_inner(rng, first3)
    four = tuple(int(v) for v in rng.permutation([2, 3, 4, 5]))
    one = float(rng.choice(x))
    fd = "for the finite differences"
    cases = [
        Case(f"your `my_activation` at the {n} points x (float64)", (x,),
             note={"role": "f0"}),
        Case(f"your `my_activation` at x + h, h = 1e-5 max(1, |x|) ({fd})", (x + h,),
             note={"role": "f+h"}),
        Case(f"your `my_activation` at x - h ({fd})", (x - h,), note={"role": "f-h"}),
        Case(f"your `my_activation` at x + 2h ({fd})", (x + 2 * h,), note={"role": "f+2h"}),
        Case(f"your `my_activation` at x - 2h ({fd})", (x - 2 * h,), note={"role": "f-2h"}),
        Case(f"x: {n} points (a grid of step 1/200 on [-5, 5] and random ones, points within "
             "1e-6 of 0 and tiny ones down to 5e-324, |x| up to 100 every 1/50 or 1/10, and "
             "1e-3 and 1e-6 either side of every multiple of 1/4), float64", (x,),
             driver="ch06.derivative_watched", note={"role": "d"}),
        Case("the same points, each moved four floating-point numbers up", (after,), answer=1,
             note={"role": "d_after"}),
        Case(f"the {probe.size} points with |x| >= 0.1 and tiny ones (1e-30 to 1e-45) in "
             "float32", (probe.astype(np.float32),),
             answer=1, note={"role": "d32"}),
        Case(f"some of the points as an array of shape {shape}",
             (rng.choice(x, size=shape),), answer=1, note={"role": "same"}),
        Case(f"some of the points as a 3-D array of shape {three}",
             (first3,), answer=1, note={"role": "same"}),
        Case(f"the same points with two of them swapped, the same shape {three} and dtype "
             "(nothing may be remembered from an earlier call)",
             (other3,), answer=1,
             note={"role": "same"}),
        Case(f"some of the points as a 4-D array of shape {four}",
             (rng.choice(x, size=four),), answer=1, note={"role": "same"}),
        Case(f"one point as a 0-d array, np.array({one:g})", (np.array(one),), answer=1,
             note={"role": "same"}),
        Case("the integers -5 to 5 as an int64 array", (rng.permutation(np.arange(-5, 6)),),
             answer=1, note={"role": "same"}),
        Case("the integers -5 to 5 as an int32 array",
             (rng.permutation(np.arange(-5, 6)).astype(np.int32),), answer=1,
             note={"role": "same"}),
        Case(f"some of the points as a transposed array of shape {tall} (Fortran order)",
             (rng.choice(x, size=tall),), answer=1, note={"role": "same"}, order="F"),
        Case("an empty float32 array of shape (0,)", (np.zeros(0, dtype=np.float32),),
             answer=1),
        # Negative zero, an ordinary float (-1.0 * 0.0, a negated zero bias): its derivative
        # is the one at 0 (np.unique above keeps only one of the two zeros).
        *(Case(f"negative zero, np.full({k}, -0.0) ({np.dtype(t).name})",
               (np.full(k, -0.0, dtype=t),), answer=1, note={"role": f"negzero{bits}"})
          for k, t, bits in ((int(rng.integers(1, 6)), np.float64, 64),
                             (int(rng.integers(1, 6)), np.float32, 32))),
        Case("dense random points out to |x| = 100 (one in every 1e-4 on [-5, 5], every "
             "2e-4 |x| beyond): your `my_activation` at x and x +- h, `my_derivative` at x, "
             "and both again close around every jump of the slope or the derivative",
             (_dense_points(rng),), driver="ch06.dense", note={"role": "dense"}),
    ]
    # The work cases hold some of the points too: their values are those of the main case.
    work = [c for c in work_cases(lambda shape, large: rng.choice(x, size=shape), answer=1)
            if c.work != "timed"]
    for c in work:
        c.note = {"role": "same"}
    return cases + work + [_timed_case(rng, x, 1)]


def _judge_derivative(case: Case, obs, expected) -> None:
    role = case.note.get("role", "")
    x = case.args[0]
    if role == "dense":
        return  # judged with the rest (_judge_dense)
    if role.startswith("f"):
        values = _elementwise(obs.result, x, _F)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.argmax(bad))
            raise ExerciseError(f"your `my_activation` is not finite near x = {x[i]:g} "
                                f"({values[i]}), so its derivative cannot be checked there.",
                                "fix Part 1 first.")
        return
    result = obs.result
    if role == "d":
        _check_unmodified(result, _D)
        _check_watched(result)
        result = result.get("d") if isinstance(result, dict) else None
    elif role == "timed":
        _check_unmodified(result, _D)
        result = _unwrap(case, obs)
    _elementwise(result, x, _D)


def _check_watched(result) -> None:
    """A finite difference or a complex step inside the derivative, seen by what it ran."""
    watched = result if isinstance(result, dict) else {}
    if watched.get("away") is not None:
        raise ExerciseError(
            f"{_D} calls `my_activation` at points other than x (up to "
            f"{float(watched['away']):.2g} from the nearest x): that is a finite difference, "
            "whatever its step, not the derivative worked out by hand, and the check would "
            "only compare finite differences with themselves.", _FD_HINT)
    if watched.get("shifted") is not None:
        raise ExerciseError(
            f"{_D} computes on a shifted copy of x ({str(watched['shifted'])[:120]}): that "
            "is a finite difference (of a copy of `my_activation`, a helper or the formula "
            "written out), whatever its step or stencil, not the derivative worked out by "
            "hand.", _FD_HINT)
    if watched.get("complex") is not None:
        raise ExerciseError(
            f"{_D} computes with complex numbers ({str(watched['complex'])[:120]}): a complex "
            "step, f'(x) = Im f(x + ih) / h, is a numerical derivative too, and the task asks "
            "for the one worked out by hand.", _FD_HINT)


def _result_of(case: Case, obs) -> np.ndarray:
    result = _unwrap(case, obs)
    if case.note.get("role") == "d":
        result = result["d"]
    what = _F if case.note.get("role", "").startswith("f") else _D
    return _elementwise(result, case.args[0], what)


_FD_HINT = ("differentiate the formula with the product and chain rules and write the resulting "
            "expression; a difference quotient (of `my_activation` or of a copy of it) is not "
            "an answer here.")


def _float32_values(y: np.ndarray) -> bool:
    """Every finite value one that float32 holds (and not all of them small integers or
    halves, which any dtype holds): a float64 result that went through float32."""
    y = y[np.isfinite(y)]
    if not y.size or np.all(y * 4 == np.round(y * 4)):
        return False
    return bool(np.all(y.astype(np.float32).astype(np.float64) == y))


def _describe_points(x, bad, significant) -> str:
    """Where ``bad`` holds among the ``significant`` points: everywhere, one side, or some."""
    m = int(np.sum(bad))
    if np.array_equal(bad, significant):
        return f"at every point where the slope is not near 0 ({m} points)"
    for side, mask, other in (("x > 0", x > 0, "x < 0"), ("x < 0", x < 0, "x > 0")):
        if np.array_equal(bad, significant & mask):
            return (f"on the side {side} (all {m} points there), while at {other} it agrees "
                    "with them")
    return (f"at {m} of the {int(np.sum(significant))} points where the slope is not near 0, "
            f"from x = {float(np.min(x[bad])):g} to {float(np.max(x[bad])):g}")


def _judge_derivative_all(cases, observations, expected) -> None:
    roles = _roles(cases, observations)
    x = roles["d"][0].args[0]
    n, h = x.size, _step(x)
    f = {r: _result_of(*roles[r]) for r in ("f0", "f+h", "f-h", "f+2h", "f-2h")}
    d = _result_of(*roles["d"])
    # 1. A numerical derivative inside the derivative, seen three ways: by what it runs (f
    #    anywhere but at x, complex numbers: judged on the "d" case itself, before the timed
    #    case can blame the slowness of complex arithmetic on a loop), by its rounding noise,
    #    by what float32 does to it.
    curvature = (f["f+h"] - 2 * f["f0"] + f["f-h"]) / h**2
    after = roles["d_after"][0].args[0]
    d_after = _result_of(*roles["d_after"])
    with np.errstate(all="ignore"):
        change = np.abs(d_after - d)
        size = np.maximum(1, np.abs(d))
        allowed = 8 * np.abs(curvature) * np.abs(after - x) + 1e-12 * size
        # Rounding noise is small as well as irregular: a jump of the derivative itself (a
        # kink, a wrong value) is left to the comparison below.
        noisy = (change > allowed) & (change < 1e-6 * size)
    if np.sum(noisy) >= max(5, n // 5):
        raise ExerciseError(
            f"{_D} changes by up to {float(np.nanmax(np.where(noisy, change, 0))):.2g} between x "
            f"and a number four floating-point steps above it, at {int(np.sum(noisy))} of {n} "
            "points: that is the rounding noise of a finite difference, where the derivative "
            "written as a formula changes by about 1e-16.", _FD_HINT)
    probe_case, probe_obs = roles["d32"]
    probe = probe_case.args[0]
    d32 = _result_of(probe_case, probe_obs)
    d64 = _lookup(x, d, probe)
    # float32's rounding of a derivative that turns fast (sin(20 x) at |x| = 100: f'' of
    # hundreds) moves it by about eps32 |x f''| as well, with no fault of the formula.
    bend32 = _lookup(x, np.abs(curvature), probe) * np.abs(probe) * 4 * _EPS32
    with np.errstate(all="ignore"):
        gap = np.where(np.isfinite(d32) & np.isfinite(d64),
                       np.abs(d32 - d64) / np.maximum(1.0, np.abs(d64)), 0.0)
        excess = gap - (_F32_RTOL + bend32 / np.maximum(1.0, np.abs(d64)))
    if gap.size and float(np.max(excess)) > 0:
        i = int(np.argmax(excess))
        raise ExerciseError(
            f"{_D} on float32 input gives values that differ from its own float64 values by "
            f"{gap[i]:.2g} (relative) at x = {float(probe[i]):g}: {d32[i]:.6g} in float32, "
            f"{d64[i]:.6g} in float64. A derivative written as a formula agrees to about 1e-6.",
            "look for a lower precision on the way (float16), a difference quotient of f "
            "(which loses its digits to rounding in float32) or a subtraction of two nearly "
            "equal numbers; the task asks for the derivative worked out by hand.")
    # 2. The values: central differences with h and 2h, combined (Richardson), are accurate
    #    to about 1e-10 where f is smooth; at a kink (the one-sided slopes differ) any value
    #    between the left and right slopes is a valid subgradient. The points close around
    #    the jumps the dense case found are judged so too.
    x_main, d_main, n_main = x, d, n
    record = _dense_record(*roles["dense"])
    if "q" in record:
        order = np.argsort(np.concatenate([x, record["q"]]), kind="stable")
        x = np.concatenate([x, record["q"]])[order]
        d = np.concatenate([d, record["q d"]])[order]
        f = {r: np.concatenate([f[r], record[f"q {r}"]])[order] for r in f}
        n, h = x.size, _step(x)
    d1 = (f["f+h"] - f["f-h"]) / (2 * h)
    d2 = (f["f+2h"] - f["f-2h"]) / (4 * h)
    richardson = (4 * d1 - d2) / 3
    left, right = (f["f0"] - f["f-h"]) / h, (f["f+h"] - f["f0"]) / h
    size = np.max(np.abs(np.stack(list(f.values()))), axis=0)
    rounding = 64 * _EPS * size / h
    scale = np.maximum(1.0, np.abs(d1))
    # A kink within 2h of x: the slopes over h and over 2h differ, or the one-sided slopes
    # differ far more than a smooth function's (h f'', 1e-4 for |f''| up to 10).
    kink = (np.abs(d1 - d2) > 1e-6 * scale + 4 * rounding) | (np.abs(left - right)
                                                              > 1e-2 * scale)
    # At a kink, any value between the one-sided slopes: those over h, and the same
    # extrapolated (Richardson, 2 s(h) - s(2h)), which are exact to h^2 where the kink sits at
    # x itself. Beyond both, only rounding: f'(0) = 1 + 1e-6 for |x| is outside [-1, 1].
    with np.errstate(all="ignore"):
        left_r = 2 * left - (f["f0"] - f["f-2h"]) / (2 * h)
        right_r = 2 * right - (f["f+2h"] - f["f0"]) / (2 * h)
    low = np.minimum(np.minimum(left, right), np.minimum(left_r, right_r))
    high = np.maximum(np.maximum(left, right), np.maximum(left_r, right_r))
    band = 1e-8 * scale + 4 * rounding
    # A jump of f'' within 2h of x (f' continuous, its slope not: ELiSH at 0, a smoothed
    # ReLU where its quadratic piece ends): the second differences on the two sides disagree,
    # and the Richardson estimate is off by up to about h times the jump there.
    left2 = (f["f0"] - 2 * f["f-h"] + f["f-2h"]) / h**2
    right2 = (f["f+2h"] - 2 * f["f+h"] + f["f0"]) / h**2
    jump2 = np.abs(right2 - left2)
    bend = jump2 > 1e-3 * (1 + np.abs(left2) + np.abs(right2)) + 4 * rounding / h
    with np.errstate(invalid="ignore"):
        close = np.abs(d - richardson) <= 1e-8 * np.maximum(1.0, np.abs(richardson)) + rounding
        close |= bend & (np.abs(d - richardson) <= 2 * h * jump2 + 1e-8 * scale + rounding)
        between = kink & (d >= low - band) & (d <= high + band)
        ok = (close | between) & np.isfinite(d)
    if ok.all():
        pass
    else:
        shown = np.where(kink, d1, richardson)
        with np.errstate(invalid="ignore"):
            miss = np.where(ok, -np.inf, np.nan_to_num(np.abs(d - shown), nan=np.inf) / scale)
        i = int(np.argmax(miss))
        bad = ~ok
        problem = (f"{_D} disagrees with finite differences at {int(np.sum(bad))} of {n} "
                   f"points; the worst is x = {x[i]:g}: got {pair(d[i], shown[i])[0]}, finite "
                   f"differences give {pair(d[i], shown[i])[1]}"
                   + (f" (a kink: any value from {low[i]:.10g} to {high[i]:.10g} is accepted "
                      f"there, and {d[i]:.10g} is outside)." if kink[i] and np.isfinite(d[i])
                      else "."))
        hint = None
        with np.errstate(invalid="ignore"):
            loose = np.abs(d - d1) <= 1e-3 * scale  # 3 digits or more, not 8
        if _float32_values(f["f+h"]) and _float32_values(f["f-h"]):
            # Only a lower precision gives float32 numbers at x +- h (not float32 numbers).
            hint = ("your `my_activation` gives float64 results that float32 (or float16) "
                    "holds, at x + h and x - h too: it computes in a lower precision and casts "
                    "back, so its finite differences are rounding steps and say nothing about "
                    "your derivative. Keep float64 input in float64 (Part 1's check says "
                    "where).")
        elif np.sum(kink) >= max(5, n // 5):
            rough = (f"your `my_activation` itself is not smooth at the scale of h = 1e-5 at "
                     f"{int(np.sum(kink))} of the {n} points (its slopes over h and over 2h "
                     "differ), so its finite differences there are noise")
            if _float32_values(f["f0"]):
                hint = (f"{rough}: its float64 results are all numbers float32 can hold, so it "
                        "is computed in a lower precision (float32 or float16) and cast back. "
                        "Keep float64 input in float64.")
            else:
                hint = f"{rough}. Make it smooth at that scale in float64."
        elif np.all(loose[bad]) and not np.any(kink[bad]):
            digits = -math.log10(max(float(np.max(np.abs(d - richardson)[bad] / scale[bad])),
                                     1e-16))
            if _float32_values(d):
                hint = (f"your derivative agrees with finite differences to about {digits:.0f} "
                        "digits only, and its float64 results are all numbers float32 can "
                        "hold: it is computed in float32 (an .astype(np.float32), a float32 "
                        "constant) and cast back. For float64 input keep float64 throughout.")
            else:
                lo, hi = float(np.min(x[bad])), float(np.max(x[bad]))
                where = (f"at x = {lo:g}" if lo == hi else
                         f"at {int(np.sum(bad))} points from x = {lo:g} to {hi:g}")
                hint = (f"your derivative agrees with finite differences to about {digits:.0f} "
                        f"digits only {where}, where a formula agrees to 8 or more: a small "
                        "error in a term (a rounded constant, a cut-off, a missing small "
                        "term). Compare each term there.")
        else:
            significant = ~kink & (np.abs(richardson) > 1e-3)
            wrong = bad & significant
            if np.sum(wrong) >= 3:
                ratio = d[wrong] / richardson[wrong]
                k = float(np.median(ratio))
                if np.allclose(ratio, k, rtol=1e-3) and k != 0 and not math.isclose(
                        k, 1, rel_tol=1e-3):
                    where = _describe_points(x, wrong, significant)
                    if math.isclose(k, -1, rel_tol=1e-3):
                        hint = f"the sign is flipped {where}: check each term's sign there."
                    else:
                        hint = (f"your derivative is {k:.3g} times the finite differences "
                                f"{where}: a constant factor is off there (a chain-rule factor, "
                                "or a 2 or 1/2).")
        corners = x[kink & (np.abs(x) > 1e-3)]
        if corners.size and np.sum(kink) < max(5, n // 5) and np.sum(bad):
            # Wrong points right next to the activation's kink, and only there (a few, or the
            # many the points close around it hold): the derivative jumps at a threshold a
            # little away from it. (Said before any other cause.)
            at = x[bad]
            nearest = corners[np.clip(np.searchsorted(corners, at), 0, corners.size - 1)]
            below = corners[np.clip(np.searchsorted(corners, at) - 1, 0, corners.size - 1)]
            gap = np.minimum(np.abs(at - nearest), np.abs(at - below))
            if np.all(gap <= 2e-2):
                c = float(nearest[0] if abs(at[0] - nearest[0]) <= abs(at[0] - below[0])
                          else below[0])
                hint = (f"`my_activation` has a kink near x = {c:.4g}, and your derivative is "
                        "wrong just beside it: its jump sits at another threshold (x < 7.005 "
                        "for a kink at 7, say, or < against <=). Use the same threshold in "
                        "both functions.")
        raise ExerciseError(problem, hint or (
            "differentiate term by term with the product and chain rules, and compare each term "
            "at this x with (f(x + h) - f(x - h)) / (2h), h = 1e-5."))
    _judge_negative_zero(roles, x, d, kink, low, high, band, richardson, rounding, scale,
                         bend, jump2, h)
    _judge_dense(record)
    # 3. The same derivative on other shapes and dtypes: its values at the same points.
    x, d, n = x_main, d_main, n_main
    for case, obs in zip(cases, observations):
        if case.note.get("role") not in ("same", "timed"):
            continue
        got = _result_of(case, obs)
        want = _lookup(x, d, case.args[0])
        index = _first_off(got, want, rtol=1e-9, atol=1e-12)
        if index is not None:
            at = float(np.asarray(case.args[0])[index])
            raise ExerciseError(
                f"{_D} on {case.label} gives {pair(got[index], want[index])[0]} at x = "
                f"{at:g}, but {pair(got[index], want[index])[1]} at the same x among the {n} "
                "points of the main case.",
                "a derivative works elementwise and gives an integer array the values of the "
                "same numbers as floats: no reduction over the array, no cast back to the "
                "input's dtype.")
    _check_timed(*roles["timed"], _D)


def _judge_negative_zero(roles, x, d, kink, left, right, band, richardson, rounding, scale,
                         bend, jump2, h) -> None:
    """The derivative at -0.0 (float64 and float32) is judged as the one at 0: close to the
    finite differences there, or between the one-sided slopes if 0 is a kink."""
    at = np.flatnonzero(x == 0)
    if not at.size:
        return
    i = int(at[0])
    for bits, rtol in ((64, 1e-8), (32, _F32_RTOL)):
        case, obs = roles[f"negzero{bits}"]
        got = _result_of(case, obs).ravel()
        with np.errstate(invalid="ignore"):
            slack = rtol * max(1.0, abs(float(richardson[i]))) + rounding[i]
            close = np.abs(got - richardson[i]) <= slack
            if bend[i]:
                close |= np.abs(got - richardson[i]) <= 2 * h[i] * jump2[i] + slack
            between = kink[i] & (got >= min(left[i], right[i]) - band[i] - rtol * scale[i]) & (
                got <= max(left[i], right[i]) + band[i] + rtol * scale[i])
            ok = (close | between) & np.isfinite(got)
        if not ok.all():
            j = int(np.argmin(ok))
            shown = float(left[i] if kink[i] else richardson[i])
            at_zero = (f"any value from {min(left[i], right[i]):.6g} to "
                       f"{max(left[i], right[i]):.6g} (a kink)"
                       if abs(left[i] - right[i]) > 1e-3 * scale[i] else
                       f"about {shown:.6g}" if kink[i] else
                       f"{pair(got[j], shown)[1]}")
            raise ExerciseError(
                f"{_D} gives {pair(got[j], shown)[0]} at x = -0.0 (negative zero, "
                f"{case.args[0].dtype}), but {float(d[i]):.6g} at x = 0.0, and finite "
                f"differences at 0 give {at_zero}.",
                "-0.0 is an ordinary zero (-1.0 * 0.0, a negated zero bias give it) and equals "
                "0.0: the derivative there is the one at 0. A test that tells the two apart "
                "(np.signbit, 1 / x, np.copysign) picks the wrong branch.")


def _dense_record(case: Case, obs) -> dict:
    """The dense case's values as float64 arrays: at the dense points x, and at the points
    q close around the jumps (if any), each checked as a result of the student's function."""
    record = obs.result if isinstance(obs.result, dict) else {}
    x = case.args[0]
    out = {"x": x}
    for key, what in (("f0", _F), ("f+h", _F), ("f-h", _F), ("d", _D)):
        out[key] = _elementwise(record.get(key), x, what)
    q = record.get("q")
    if isinstance(q, np.ndarray) and q.ndim == 1 and q.dtype == np.float64 and q.size:
        out["q"] = q
        for key in ("f0", "f+h", "f-h", "f+2h", "f-2h", "d"):
            out[f"q {key}"] = _elementwise(record.get(f"q {key}"), q, _D if key == "d" else _F)
    bad = ~np.isfinite(np.concatenate([out["f0"], out["f+h"], out["f-h"]]))
    if bad.any():
        i = int(np.argmax(bad)) % x.size
        raise ExerciseError(f"your `my_activation` is not finite near x = {x[i]:g}, so its "
                            "derivative cannot be checked there.", "fix Part 1 first.")
    return out


def _dense_ok(x, f0, fp, fm, d) -> tuple[np.ndarray, np.ndarray]:
    """Which of the points x (sorted) pass the dense test, and the central differences."""
    h = _step(x)
    with np.errstate(all="ignore"):
        slope = (fp - fm) / (2 * h)
        left, right = (f0 - fm) / h, (fp - f0) / h
        size = np.maximum(np.abs(f0), np.maximum(np.abs(fp), np.abs(fm)))
        # Room for the difference's own error: rounding, and its truncation where the slope
        # turns fast (its change to the neighbouring points, over their distance, times h).
        turn = np.zeros(x.size)
        change = np.abs(slope[1:] - slope[:-1]) / (x[1:] - x[:-1]) * h[1:]
        turn[1:] = change
        turn[:-1] = np.maximum(turn[:-1], change)
        tol = 1e-3 * np.maximum(1.0, np.abs(slope)) + 64 * _EPS * size / h + turn
        close = np.abs(d - slope) <= tol
        between = (d >= np.minimum(left, right) - tol) & (d <= np.maximum(left, right) + tol)
        return (close | between) & np.isfinite(d), slope


def _judge_dense(record: dict) -> None:
    """The dense points: the derivative agrees with the central difference over h to three
    digits (or lies between the one-sided slopes, at a kink), at every one of them. A wrong
    value on any stretch wider than two cells shows."""
    x, d = record["x"], record["d"]
    arrays = (x, record["f0"], record["f+h"], record["f-h"], d)
    ok, slope = (np.ones(x.size, dtype=bool), np.zeros(x.size))
    for a, b in _blocks(x.size):
        lo, hi = max(a - 1, 0), min(b + 1, x.size)
        part_ok, part_slope = _dense_ok(*(v[lo:hi] for v in arrays))
        ok[a:b], slope[a:b] = part_ok[a - lo:a - lo + b - a], part_slope[a - lo:a - lo + b - a]
    if ok.all():
        return
    bad = ~ok
    with np.errstate(invalid="ignore"):
        miss = np.where(ok, -np.inf, np.nan_to_num(np.abs(d - slope), nan=np.inf)
                        / np.maximum(1.0, np.abs(slope)))
    i = int(np.argmax(miss))
    at = x[bad]
    lo, hi = float(at.min()), float(at.max())
    # The wrong points in runs of neighbours: a stretch (or a few) where the derivative is off.
    index = np.flatnonzero(bad)
    runs = int(np.sum(index[1:] - index[:-1] > 1)) + 1
    where = (f"on the stretch from x = {lo:.6g} to {hi:.6g}" if runs == 1 else
             f"on {runs} stretches from x = {lo:.6g} to {hi:.6g}")
    shown = pair(d[i], slope[i])
    raise ExerciseError(
        f"{_D} disagrees with finite differences at {int(np.sum(bad))} of the {x.size} dense "
        f"points, {where}; the worst is x = {x[i]:.8g}: got {shown[0]}, the central "
        f"difference of your `my_activation` gives {shown[1]}.",
        "a derivative wrong on a short stretch: a threshold or a case of a np.where that "
        "differs from the one in `my_activation`, or a term that applies on part of the range "
        "only. Evaluate both there, on a fine grid, and compare.")


DERIVATIVE = Spec(
    "ch06.my_derivative", check="ch06.check_derivative", grade_id="ch06-derivative-check",
    what=_D, answers=("my_activation", "my_derivative"), draw=_draw_derivative,
    reference_case=lambda case: None, judge=_judge_derivative, judge_all=_judge_derivative_all,
    forbidden=Forbidden(("numpy*:gradient", "numpy*:diff", "numpy*:ediff1d", "torch*:*"),
                        why="they compute derivatives for you (finite differences, or "
                            "PyTorch's autograd), and the task asks for the derivative worked "
                            "out by hand"),
    vectorised=True, reuse_calls=64, loop_hint=_LOOP_HINT,
    passed="`my_derivative` matches central finite differences of your `my_activation` at "
           "dense random points out to |x| = 100, within 1e-6 of 0 and at tiny inputs, and "
           "close either side of its kinks, keeps float32 and float64, and is a formula, not a "
           "finite difference.")


@exercise_check
def check_derivative(forward, derivative, *, seed: int | None = None) -> None:
    """Your derivative agrees with central finite differences of your forward pass."""
    DERIVATIVE.check(forward, derivative, seed=seed)


# --------------------------------------------------------------------------------------
# Part 3: name, formula and output range
# --------------------------------------------------------------------------------------

_I = "`my_activation_info()`"


# The range holds every value for |x| up to 1e4, where the values must be numbers; further
# out, to 1e12, the values decide which sides are bounded (and must lie in the range too).
_FINITE_UP_TO = 1e4
_FAR = 1e12


def _draw_registration(rng) -> list[Case]:
    tails = np.logspace(-4, 12, 321)  # every decade exactly: those of the test below
    # Dense out to |x| = 1e4 too (every 1e-2 to 100, then 2,000 points a side): an extreme
    # beyond 10 is met within a few parts in a million, so a bound rounded inwards shows.
    # One point drawn in each cell (not a fixed grid): a narrow dip far out that one draw's
    # points miss lies in no gap every draw has.
    cells = np.arange(9000) + rng.random(9000)
    steps = (np.arange(1999) + rng.random(1999)) / 1999
    middle = np.concatenate([[10.0], 10 + cells * 0.01, [100.0],
                             100 * (_FINITE_UP_TO / 100) ** steps, [_FINITE_UP_TO]])
    x = np.concatenate([-tails[::-1], [0.0], tails, np.linspace(-10, 10, 20001),
                        -middle[::-1], middle, rng.uniform(-10, 10, 1000),
                        rng.choice([-1, 1], 100) * 10 ** rng.uniform(1, 12, 100)])
    return [Case("my_activation_info()"),
            Case(f"your `my_activation` at {x.size} points: every 1e-3 on [-10, 10], one in "
                 "every 1e-2 out to 100, random ones, and out to |x| = 1e12", (x,), answer=1)]


# Words that stand in for a formula not written yet.
_PLACEHOLDER = re.compile(r"\b(todo|to do|tbd|fixme|xxx|your|placeholder|here|n/a)(?!\w)|"
                          r"\.\.\.|\?\?|<[A-Za-z ]+>", re.IGNORECASE)


def _formula_problem(formula: str) -> str | None:
    """What keeps ``formula`` from being a LaTeX formula of f(x), or None."""
    text = formula.strip()
    word = _PLACEHOLDER.search(text)
    if word:
        return f"it holds {word.group(0)!r}, a placeholder"
    plain = re.sub(r"\\[{}()\[\]]", "", text)  # \{ \} \( \) are literal characters
    for opening, closing, name in (("{", "}", "braces"), ("(", ")", "parentheses")):
        depth = 0
        for ch in plain:
            depth += (ch == opening) - (ch == closing)
            if depth < 0:
                return f"its {name} do not balance (a {closing!r} closes nothing)"
        if depth:
            return f"its {name} do not balance ({depth} {opening!r} left open)"
    if re.search(r"\bnp\.|\bmath\.|\*\*", text):
        return "it is Python code (np., math. or **), not LaTeX"
    if not _latex.MENTIONS_X.search(text):
        return "it never mentions x, the input"
    if "=" in text and not _latex.MENTIONS_X.search(text.split("=", 1)[1]):
        return "its right-hand side (after the first =) never mentions x"
    return None


def _judge_registration(case: Case, obs, expected) -> None:
    if case.answer == 1:
        x = case.args[0]
        y = _elementwise(obs.result, x, _F)
        nan = np.isnan(y) & (np.abs(x) <= _FINITE_UP_TO)
        if nan.any():
            i = int(np.argmax(nan))
            raise ExerciseError(
                f"{_F} returned nan at x = {x[i]:g}: no output range holds nan.",
                "the range is checked for |x| up to 1e4; Part 5 shows the stable forms that "
                "keep a formula finite there.")
        return
    info = expect_dict(obs.result, ["name", "formula", "output_range"], _I,
                       hint='return {"name": ..., "formula": ..., "output_range": (lo, hi)}.')
    name, formula, output_range = info["name"], info["formula"], info["output_range"]
    if not isinstance(name, str) or not name.strip().isidentifier():
        raise ExerciseError(f"the name should be a short identifier such as 'mish', got "
                            f"{describe(name)}.",
                            "letters, digits and underscores, not starting with a digit.")
    if name.strip().lower().replace("-", "_") in _builtin_names():
        raise ExerciseError(f"{name!r} is the name of a built-in activation.",
                            "give yours a name of its own.")
    if not isinstance(formula, str) or not formula.strip():
        raise ExerciseError(f"the formula should be a non-empty LaTeX string, got "
                            f"{describe(formula)}.", r'e.g. r"f(x) = x \tanh(x)".')
    problem = _formula_problem(formula)
    if problem is not None:
        raise ExerciseError(f"the formula {formula.strip()[:60]!r} is not yet a LaTeX formula "
                            f"of f(x): {problem}.",
                            r'write your activation in LaTeX, in terms of x, e.g. '
                            r'r"f(x) = x \tanh(\mathrm{softplus}(x))".')
    _range_ends(output_range)


def _range_ends(output_range) -> tuple[float, float]:
    """(lo, hi) of a pair of real numbers (a tuple, a list or an array of two), or an error."""
    pair_hint = "two numbers, lo first; use -np.inf or np.inf for an unbounded side."
    if isinstance(output_range, np.ndarray) and output_range.shape == (2,) \
            and output_range.dtype.kind in "iuf":
        items = [output_range[0], output_range[1]]
    elif isinstance(output_range, (tuple, list)) and len(output_range) == 2:
        items = list(output_range)
    else:
        raise ExerciseError(f"output_range should be a pair of numbers (lo, hi), got "
                            f"{describe(output_range)}.", pair_hint)
    ends = []
    for which, item in zip(("lower", "upper"), items):
        if isinstance(item, (bool, np.bool_)) or not isinstance(
                item, (int, float, np.integer, np.floating)) or math.isnan(float(item)):
            raise ExerciseError(f"output_range should be a pair of numbers (lo, hi); its "
                                f"{which} end is {describe(item)}.", pair_hint)
        ends.append(float(item))
    lo, hi = ends
    if not lo < hi:
        raise ExerciseError(f"output_range must have lo < hi, got ({lo:g}, {hi:g}).",
                            "the lower end comes first.")
    return lo, hi


def _builtin_names() -> set[str]:
    # The registry's own record of what is built in (and the aliases, which are taken too).
    return set(activations.builtin_names()) | set(activations.aliases())


def _side_growth(x, y, sign: int) -> str:
    """How f behaves (sign +1: upwards, -1: downwards) as |x| goes out to 1e12: "bounded",
    "growing", or "either" when the floats cannot tell.

    The gain is the new extreme reached in a decade of |x|. Bounded: the last decade's gain
    is at most half the one before (softsign gains 9e-12 from 1e10 to 1e11, then 9e-13).
    Growing: at least 0.9 of it (log|x| gains 2.3 in each decade, softsign(x) + 1e-9 x 90,
    then 900). In between, the floats out to 1e12 cannot tell a function that nears its
    bound slowly from one that grows slowly (from one decade to the next there, 1/ln|x| keeps
    0.83 of its gain, ln ln|x| 0.91): a bound and an infinite end are both taken.
    """
    ext = [sign * np.max(sign * y[np.abs(x) <= r]) for r in (_FAR / 100, _FAR / 10, _FAR)]
    with np.errstate(invalid="ignore"):
        gain_before, gain_last = sign * (ext[1] - ext[0]), sign * (ext[2] - ext[1])
        if gain_last <= 0.5 * gain_before + 1e-9 * (1 + abs(ext[2])):
            return "bounded"
        if not gain_last < 0.9 * gain_before:  # (NaN gains: inf - inf far out, growing)
            return "growing"
    return "either"


# A piecewise formula (cases, an array of rows): not read, taken as written.
_PIECEWISE = re.compile(r"\\begin\s*\{|&")
_READABLE_HINT = (
    "write it with numbers, x, + - * /, \\frac, \\sqrt, powers, |x| and standard functions "
    "(\\exp, \\ln, \\tanh, \\sigma, \\mathrm{softplus}, ...): a parameter as its number "
    "(1.5), or with its value given at the end (x \\sigma(\\beta x), \\beta = 1.5); a function "
    "of another name written out (x \\tanh(\\ln(1 + e^{x})) for Mish); no subscripts; a "
    "function's argument in parentheses (\\tanh(2x)). A domain at the end (, \\quad x \\in "
    "\\mathbb{R}) is fine.")


def _formula_text(formula: str) -> str:
    """The formula as the student wrote it (single backslashes), shortened to 80 characters."""
    text = " ".join(formula.split())
    return f"`{text if len(text) <= 80 else text[:77] + '...'}`"


# A number with a decimal point as written in a formula: it stands for any value that rounds
# to it (1.7 for 1.702, 0.798 for sqrt(2 / pi)); a whole number is exact.
_DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d+|\.\d+)(?![\w.])")
# How close the formula's values must be beyond what its rounded constants allow: six digits.
_FORMULA_RTOL = 1e-6


def _rounding_room(formula: str, sides: list, x: np.ndarray) -> list[np.ndarray]:
    """For each readable side of ``formula``, how far its values at x may move when each
    decimal constant moves by half a unit of its last written digit, summed over the
    constants: the room its rounded constants allow."""
    values = [_latex.evaluate(fn, x) for fn in sides]
    room = [np.zeros(x.shape) for _ in sides]
    for match in list(_DECIMAL.finditer(formula))[:12]:
        text = match.group(1)
        digits = len(text.split(".")[1])
        value, half = float(text), 0.5 * 10.0 ** -digits
        moved = []
        for other in (value + half, max(value - half, 0.0)):
            variant = f"{formula[:match.start(1)]}{other:.{digits + 2}f}{formula[match.end(1):]}"
            fns = [fn for fn, _ in _latex.read_sides(variant) if fn is not None]
            if len(fns) != len(sides):
                break
            moved.append([_latex.evaluate(fn, x) for fn in fns])
        else:
            for i, base in enumerate(values):
                with np.errstate(invalid="ignore"):
                    shift = np.maximum(np.abs(moved[0][i] - base), np.abs(moved[1][i] - base))
                room[i] += np.where(np.isnan(shift), np.inf, shift)
    return room


def _check_formula_values(formula: str, x: np.ndarray, y: np.ndarray) -> None:
    """Every side of the formula (f(x) = a = b: a and b) must be one the reader can evaluate
    (a domain at its end left out; a piecewise formula is taken as written), and give the
    values of `my_activation` wherever both are finite, out to |x| = 1e12: to six digits, and
    what its rounded constants allow (a constant written 1.7 may be 1.65 to 1.75)."""
    sides = _latex.read_sides(formula)
    unread = [why for fn, why in sides if fn is None]
    if unread and not _PIECEWISE.search(formula):
        raise ExerciseError(
            f"the check cannot read your formula {_formula_text(formula)}: it stops at "
            f"{unread[0]}. So it cannot compare the formula with `my_activation`, and the "
            "formula must describe the function you wrote.", _READABLE_HINT)
    # (every point beyond |x| = 1e4, out to 1e12: a function that leaves its formula far out,
    # a jump to another value at |x| = 2e4 say, shows wherever it leaves it)
    near, out = np.abs(x) <= 5, (np.abs(x) > 5) & (np.abs(x) <= _FINITE_UP_TO)
    pick = np.concatenate([np.flatnonzero(near)[::7], np.flatnonzero(out)[::29],
                           np.flatnonzero(np.abs(x) > _FINITE_UP_TO)])
    x, y = x[pick], y[pick]
    fns = [fn for fn, _ in sides if fn is not None]
    for fn, room in zip(fns, _rounding_room(formula, fns, x)):
        g = _latex.evaluate(fn, x)
        both = np.isfinite(g) & np.isfinite(y)
        if np.sum(both) < 20:  # defined at too few points to say
            continue
        with np.errstate(all="ignore"):
            excess = np.where(both, np.abs(g - y) - room - _FORMULA_RTOL * (1.0 + np.abs(y)),
                              -1.0)
            excess = np.where(np.isnan(excess), -1.0, excess)
        if float(np.max(excess)) > 0:
            # (the worst point on [-5, 5] if there is one: the values a reader checks first)
            near = np.abs(x) <= 5
            pool = near if np.any(excess[near] > 0) else np.ones(x.size, dtype=bool)
            j = int(np.argmax(np.where(pool, excess / (1.0 + np.abs(y)), -np.inf)))
            rounded = bool(_DECIMAL.search(formula))
            raise ExerciseError(
                f"your formula {_formula_text(formula)} gives {g[j]:.8g} at x = {x[j]:.6g}, "
                f"but `my_activation` gives {y[j]:.8g} there: the formula must describe the "
                "function you wrote, at every x"
                + (", and its rounded constants do not allow that difference (a constant "
                   "written 1.01 stands for 1.005 to 1.015, not for 1)." if rounded else "."),
                "write what `my_activation` computes, e.g. r\"f(x) = x \\tanh(\\ln(1 + e^{x}))\" "
                "for Mish, with each constant right to its last digit. The check reads x, "
                "numbers, + - * /, \\frac, \\sqrt, powers, |x| and standard functions (\\exp, "
                "\\ln, \\tanh, \\sigma, \\mathrm{softplus}, ...).")


def _judge_registration_all(cases, observations, expected) -> None:
    lo, hi = _range_ends(observations[0].result["output_range"])
    x = cases[1].args[0]
    y = _elementwise(observations[1].result, x, _F)
    formula = observations[0].result["formula"]
    x, y = x[~np.isnan(y)], y[~np.isnan(y)]  # NaN only beyond |x| = 1e4: no information
    slack = 1e-6 * (1 + np.abs(np.where(np.isfinite(y), y, 0.0)))
    for mask, side, bound in ((y < lo - slack, "below", lo), (y > hi + slack, "above", hi)):
        if mask.any():
            j = int(np.argmin(y) if side == "below" else np.argmax(y))
            raise ExerciseError(
                f"`my_activation` reaches {y[j]:.6g} at x = {x[j]:.4g}, {side} the "
                f"{'lower' if side == 'below' else 'upper'} end {bound:g} of your output_range.",
                "find the minimum (or maximum) by setting f'(x) = 0, or evaluate f on a fine "
                "grid, and round the bound outwards; a side that keeps growing, however "
                "slowly, has no bound.")
    # The range must also be the true one: the diagnostics read "bounded on both sides" as
    # "can saturate", so an infinite end where f is bounded (or a finite one where f keeps
    # growing) misleads them, and a bound far outside the values is not the range.
    for sign, end, label in ((-1, lo, "lower"), (1, hi, "upper")):
        j = int(np.argmax(sign * y))
        extreme, at = float(y[j]), float(x[j])
        growth = _side_growth(x, y, sign)
        if growth == "bounded" and not np.isfinite(end):
            raise ExerciseError(
                f"your output_range has no {label} end ({end:g}), but `my_activation` is "
                f"bounded there: its {'smallest' if sign < 0 else 'largest'} value for |x| up "
                f"to 1e12 is {extreme:.6g} (at x = {at:.4g}), and it gets no "
                f"{'lower' if sign < 0 else 'higher'} out there.",
                "an infinite end is for a side that keeps growing; give the bound, found from "
                "f'(x) = 0 or the limit as |x| grows.")
        if growth == "growing" and np.isfinite(end):
            raise ExerciseError(
                f"your output_range ends at {end:g}, but `my_activation` keeps growing "
                f"{'downwards' if sign < 0 else 'upwards'}: {extreme:.6g} at x = {at:.4g}, and "
                "more at each tenfold |x|.",
                "a side with no bound gets -np.inf or np.inf.")
        gap = sign * (end - extreme)
        if np.isfinite(end) and gap > 0.02 * (1 + abs(extreme)):
            raise ExerciseError(
                f"the {label} end {end:g} of your output_range is {gap:.3g} beyond the "
                f"{'smallest' if sign < 0 else 'largest'} value {extreme:.6g} (at x = "
                f"{at:.4g}): that is not the range.",
                "round the bound outwards only a little (e.g. to 4 significant digits).")
    _check_formula_values(formula, x, y)


REGISTRATION = Spec(
    "ch06.my_activation_info", check="ch06.check_registration", grade_id="ch06-info-check",
    what=_I, answers=("my_activation_info", "my_activation"), draw=_draw_registration,
    reference_case=lambda case: None, judge=_judge_registration,
    judge_all=_judge_registration_all,
    passed="`my_activation_info()` gives a name of your own, a LaTeX formula whose values are "
           "those of `my_activation` (a piecewise formula, with cases, is taken as written: "
           "not compared), and an output range that holds every value of `my_activation` out "
           "to |x| = 1e12 and is tight on each bounded side.")


@exercise_check
def check_registration(info, forward, *, seed: int | None = None) -> None:
    """Your name, formula and output range: the range holds every value, and is the true one."""
    REGISTRATION.check(info, forward, seed=seed)


# --------------------------------------------------------------------------------------
# Part 4: a gradient checker of your own
# --------------------------------------------------------------------------------------

_G = "`max_gradient_error`"


def reference_max_gradient_error(f, df, x, h: float = 1e-5) -> float:
    """max |df(x) - (f(x+h) - f(x-h)) / (2h)| / max(1, |df(x)|, |fd|) over the points x."""
    x = np.asarray(x, dtype=float)
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))))


# A family of known functions, each with its derivative: f and f' of the recipe's parameters.
_FAMILIES = {
    "sin": ("{a:.4g} sin({b:.4g} x + {c:.3g})",
            lambda p, x: p["a"] * np.sin(p["b"] * x + p["c"]),
            lambda p, x: p["a"] * p["b"] * np.cos(p["b"] * x + p["c"])),
    "sinh": ("{a:.4g} sinh(x / {b:.4g})",
             lambda p, x: p["a"] * np.sinh(x / p["b"]),
             lambda p, x: p["a"] / p["b"] * np.cosh(x / p["b"])),
    "exp": ("{a:.4g} exp({b:.4g} x)",
            lambda p, x: p["a"] * np.exp(p["b"] * x),
            lambda p, x: p["a"] * p["b"] * np.exp(p["b"] * x)),
    "cubic": ("{a:.4g} x^3 + {b:.4g} x",
              lambda p, x: p["a"] * x**3 + p["b"] * x,
              lambda p, x: 3 * p["a"] * x**2 + p["b"]),
}
_ERRORS = {  # what a wrong derivative does to the right one
    "add": ("{v:+.3g}", lambda d, x, v, df: d + v),
    "scale": (" times {v:.3g}", lambda d, x, v, df: v * d),
    "shift": (" at x {v:+.3g}", lambda d, x, v, df: df(x + v)),
    # Right everywhere but at one point, x = v, where it is 0.5 too large.
    "spike": (" 0.5 too large at x = {v:.4g} alone", lambda d, x, v, df: d + 0.5 * (
        np.asarray(x) == v)),
    # Right everywhere but at a few points, v = [[x0, by0], [x1, by1], ...], each off by its own
    # amount: the largest error sits at one of them, drawn anywhere in a long array.
    "spikes": (" wrong at {v} points alone", lambda d, x, v, df: d + _spike_sum(x, v)),
    # Broken at one point, x = v: NaN there, or infinite (inf / inf is NaN in the error too).
    "nan": (" NaN at x = {v:.4g} alone", lambda d, x, v, df: np.where(np.asarray(x) == v,
                                                                        np.nan, d)),
    "inf": (" infinite at x = {v:.4g} alone", lambda d, x, v, df: np.where(np.asarray(x) == v,
                                                                             np.inf, d)),
}


def _spike_sum(x, spikes) -> np.ndarray:
    """The amount ``by`` at each point equal to one of the spikes' ``x0``, 0 elsewhere."""
    x = np.asarray(x)
    extra = np.zeros(x.shape)
    for at, by in spikes:
        np.add(extra, by, out=extra, where=x == at)
    return extra


@builder("ch06.function")
def _build_function(family: str, a: float, b: float, c: float = 0.0, derivative: bool = False,
                    error: str | None = None, value: float = 0.0):
    """f of a known family (or its derivative, right or made wrong by ``error``)."""
    params = {"a": a, "b": b, "c": c}
    _, forward, slope = _FAMILIES[family]
    if not derivative:
        if error == "nan beyond":  # f itself broken: NaN for x > value
            def f(x):
                return np.where(np.asarray(x) > value, np.nan, forward(params, x))
            return f
        if error == "inf near":  # f overflows on a window: value = [centre, half-width, sign]
            centre, width, sign = value

            def f(x):
                return np.where(np.abs(np.asarray(x) - centre) < width, sign * np.inf,
                                forward(params, x))
            return f

        def f(x):
            return forward(params, x)
        return f

    def right(x):
        return slope(params, x)

    if error is None:
        return right
    wrong = _ERRORS[error][1]

    def df(x):
        return wrong(right(x), x, value, right)
    return df


def _function_label(family, a, b, c=0.0, derivative=False, error=None, value=0.0) -> str:
    text = _FAMILIES[family][0].format(a=a, b=b, c=c).replace("+ -", "- ")
    if not derivative:
        if error == "inf near":
            centre, width, sign = value
            return (f"f = {text} ({'+' if sign > 0 else '-'}inf, as if it overflowed, for "
                    f"|x - {centre!r}| < {width:.3g})")
        return f"f = {text}" + (f" (NaN for x > {value:.4g})" if error == "nan beyond" else "")
    if error is None:
        return "its right derivative"
    if error == "spikes":
        return f"its derivative wrong at {len(value)} points alone (a wrong one)"
    if error in ("nan", "inf"):
        return f"its derivative{_ERRORS[error][0].format(v=value)} (a broken one)"
    return f"its derivative{_ERRORS[error][0].format(v=value)} (a wrong one)"


def _gc_case(label: str, f: dict, df: dict, x: np.ndarray, h=None, *, positional=False,
             **extra) -> Case:
    args = (Build("ch06.function", f), Build("ch06.function", df), x)
    kwargs = {}
    if h is not None and positional:
        args += (h,)
    elif h is not None:
        kwargs = {"h": h}
    where = "h left at its default" if h is None else (
        f"h = {h:.3g}" + (" passed by position" if positional else ""))
    text = (f"{_function_label(**f)} with {_function_label(**df)}, {where}, x = {label}")
    return Case(text, args, kwargs, **extra)


def _draw_gradient_checker(rng) -> list[Case]:
    def uniform(lo, hi):
        return float(rng.uniform(lo, hi))

    def points(n, lo=-3.0, hi=3.0):
        return np.sort(rng.uniform(lo, hi, n))

    def sine(lo, hi):
        return {"family": "sin", "a": uniform(0.5, 2), "b": uniform(lo, hi), "c": uniform(-1, 1)}

    n = int(rng.integers(9, 16))
    x = np.linspace(-3, 3, n)
    x_label = f"np.linspace(-3, 3, {n})"
    sin_fast, sin_fast2, sin_mid = sine(40, 80), sine(40, 80), sine(20, 40)
    sin_sharp, sin_slow = {**sine(2000, 4000), "c": uniform(-0.3, 0.3)}, sine(0.5, 2)
    sin_flip = {**sine(1, 2), "a": uniform(2, 3)}
    steep = {"family": "sinh", "a": uniform(60, 150), "b": uniform(6, 15)}
    falling = {"family": "sinh", "a": -uniform(60, 150), "b": uniform(6, 15)}
    tiny = {"family": "sin", "a": uniform(5e-4, 2e-3), "b": uniform(0.5, 2), "c": uniform(-1, 1)}
    growth = {"family": "exp", "a": uniform(0.5, 2), "b": uniform(0.5, 1.5)}
    cubic = {"family": "cubic", "a": uniform(0.2, 1), "b": uniform(-2, 2)}

    def deriv(f, error=None, value=0.0):
        return {**f, "derivative": True, "error": error, "value": value}

    big = uniform(0.3, 1.0)
    cases = [
        # Truncation (h^2 f'''/6, f''' of size b^3) dominates: the default h shows, twice.
        _gc_case(x_label, sin_fast, deriv(sin_fast), x),
        _gc_case(f"{n} random points on [-3, 3]", sin_fast2, deriv(sin_fast2), points(n)),
        # The sign flipped where the slope exceeds 1 (a b >= 2): an error of exactly 2, the
        # largest there is (a cap on the error shows).
        _gc_case(x_label, sin_flip, deriv(sin_flip, "scale", -1.0), x, 1e-5),
        # Large slopes, the claimed one above and below: which of |d|, |fd| the scale takes.
        _gc_case(x_label, steep, deriv(steep, "add", big), x, 1e-5),
        _gc_case(x_label, steep, deriv(steep, "add", -big), x, 1e-5),
        # Large negative slopes: the scale compares sizes, not signed values.
        _gc_case(x_label, falling, deriv(falling, "add", big), x, 1e-5),
        # Tiny slopes: the 1 in the denominator.
        _gc_case(x_label, tiny, deriv(tiny, "add", uniform(5e-5, 2e-4)), x, 1e-5),
        # A right derivative of tiny values: the error is rounding alone, about 1e-14.
        _gc_case(x_label, tiny, deriv(tiny), x, 1e-5),
        # A function that is not odd, a large h: the h given, and central vs one-sided.
        _gc_case(x_label, growth, deriv(growth), x, uniform(5e-3, 2e-2)),
        # Large h (0.1 to 0.3, 0.3 to 0.9, 0.9 to 1), used as given: a cap on h shows.
        _gc_case(x_label, sin_slow, deriv(sin_slow), x, uniform(0.1, 0.3)),
        _gc_case(x_label, sin_slow, deriv(sin_slow), x, uniform(0.3, 0.9)),
        _gc_case(x_label, sin_slow, deriv(sin_slow), x, uniform(0.9, 1.0)),
        # h by position, where it changes the error a thousandfold (truncation h^2 b^2 / 6).
        _gc_case(x_label, sin_mid, deriv(sin_mid), x, uniform(1e-3, 1e-2), positional=True),
        _gc_case(x_label, cubic, deriv(cubic, "add", uniform(0.01, 0.1)), x,
                 uniform(1e-4, 1e-3), positional=True),
        # An h of 1e-8 to 2e-8, where truncation still shows (b of a few thousand: h^2 b^2 / 6
        # is 1e-10 to 1e-9, at h = 5e-8 1.7e-9 to 7e-9), on points near 0 (x +- h keeps h to
        # a few digits there, and |b x + c| < 0.7 keeps the slope large at every point, so
        # rounding stays near 2e-10): a floor on h of 5e-8 or more shows.
        _gc_case(f"{n} random points on [-0.0001, 0.0001]", sin_sharp, deriv(sin_sharp),
                 points(n, -1e-4, 1e-4), float(10 ** rng.uniform(-8, -7.7))),
        _gc_case("one point, np.array([x0])", sin_slow, deriv(sin_slow, "shift", 0.05),
                 points(1), 1e-5),
        _gc_case("the integers -3 to 3 (int64)", growth, deriv(growth, "scale", 1.01),
                 np.arange(-3, 4), 1e-4),
    ]
    # A derivative wrong at one point only: the first, the last, and one at an odd index in
    # between, in arrays of a drawn length (a dozen points to hundreds). A checker that leaves
    # any point out (err[:-1], err[1:], err[::2], err[:10]) misses one of them.
    m = int(round(10 ** rng.uniform(np.log10(12), np.log10(400))))
    spread = np.linspace(-3, 3, m)
    for k, where in ((0, "the first point"), (m - 1, "the last point"),
                     (int(rng.choice(np.arange(1, m - 1, 2))), "a point in between")):
        cases.append(_gc_case(f"np.linspace(-3, 3, {m}) (the wrong value at {where}, "
                              f"x[{k}])", sin_slow,
                              deriv(sin_slow, "spike", float(spread[k])), spread, 1e-5))
    # ... at a random point, which float32 does not hold: a checker that rounds the points
    # (to float32, say) moves it away from the wrong value ...
    scattered = points(m)
    k = int(rng.integers(0, m))
    cases.append(_gc_case(f"{m} random points on [-3, 3] (the wrong value at x = "
                          f"{scattered[k]!r})", sin_slow,
                          deriv(sin_slow, "spike", float(scattered[k])), scattered, 1e-5))
    # ... and exactly at x = 0, a kink's place: a checker that leaves out the points near 0
    # (|x| <= h, say) misses it.
    odd = 2 * int(rng.integers(5, 10)) + 1
    cases.append(_gc_case(f"np.linspace(-3, 3, {odd}) (the wrong value at x = 0 exactly)",
                          sin_slow, deriv(sin_slow, "spike", 0.0), np.linspace(-3, 3, odd),
                          1e-5))
    # A broken derivative, NaN or infinite at one point (anywhere but the first, where
    # Python's max would keep it), or a function that is NaN beyond a point: the task's formula
    # gives NaN (inf / inf is NaN too), and a checker that skips non-finite errors (np.nanmax,
    # a mask of finite ones, Python's max) reports a broken derivative as a good one.
    broken = points(m)
    k = int(rng.integers(1, m))
    cases.append(_gc_case(f"{m} random points on [-3, 3] (the derivative NaN at x = "
                          f"{broken[k]!r}, x[{k}])", sin_slow,
                          deriv(sin_slow, "nan", float(broken[k])), broken, 1e-5))
    k = int(rng.integers(0, m))
    cases.append(_gc_case(f"np.linspace(-3, 3, {m}) (the derivative infinite at x[{k}])",
                          sin_mid, deriv(sin_mid, "inf", float(spread[k])), spread, 1e-5))
    cut = uniform(-2.5, 2.5)
    cases.append(_gc_case(f"np.linspace(-3, 3, {m}) (f NaN for x > {cut:.4g})",
                          {**sin_slow, "error": "nan beyond", "value": cut}, deriv(sin_slow),
                          spread, 1e-5))
    # f that overflows to +-inf at x + h or x - h of one point (the first, the last or one in
    # between) and nowhere else: fd is +-inf there while d is finite, and inf / inf makes
    # that point's error NaN. A checker that skips infinite fd, or counts it as 0 or inf,
    # reports a number. (A window of h / 4 round that point's x + h: the other points are
    # 6 / (size - 1) >> h apart.)
    size = int(round(10 ** rng.uniform(np.log10(12), np.log10(2000))))
    grid = np.linspace(-3, 3, size)
    k = int(rng.choice([0, size - 1, int(rng.integers(1, size - 1))]))
    side, sign = float(rng.choice([-1.0, 1.0])), float(rng.choice([-1.0, 1.0]))
    window = [float(grid[k] + side * 1e-5), 2.5e-6, sign]
    cases.append(_gc_case(f"np.linspace(-3, 3, {size}) (f {'+' if sign > 0 else '-'}inf at "
                          f"x[{k}] {'+' if side > 0 else '-'} h alone, d finite there)",
                          {**sin_slow, "error": "inf near", "value": window}, deriv(sin_slow),
                          grid, 1e-5))
    for _ in range(3):
        family = str(rng.choice(list(_FAMILIES)))
        f = {"family": family, "a": uniform(0.5, 3) * float(rng.choice([-1, 1])),
             "b": uniform(0.5, 3), "c": uniform(-1, 1)}
        if family in ("sinh", "exp", "cubic"):
            f.pop("c")
        kind = rng.choice(["right", "add", "scale", "shift"])
        value = {"right": 0.0, "add": uniform(-1, 1), "scale": uniform(0.5, 1.5),
                 "shift": uniform(-0.1, 0.1)}[kind]
        df = deriv(f) if kind == "right" else deriv(f, str(kind), value)
        count = int(rng.integers(5, 30))
        h = float(10 ** rng.uniform(-6, -2))
        cases.append(_gc_case(f"{count} random points on [-2, 2]", f, df,
                              points(count, -2.0, 2.0), h))
    # Long arrays with a derivative wrong at a few drawn points, anywhere (one of them in the
    # last tenth), each by its own amount: a checker that looks at part of a long array (its
    # first 30 or 100 points, a sample, every k-th point) or gives up on it misses the worst.
    # The worst of each sits at a place of its own: one drawn anywhere in the shortest, and the
    # first point, the last and the middle one (len(x) // 2), each in one of the three of
    # 1,000 points and more (drawn which): a checker that leaves out any of them (x[1:],
    # x[:-1], np.delete(x, len(x) // 2)) beyond some length misses one.
    slope = _FAMILIES["sin"][2]

    def spiked(xs, count, worst):
        size = xs.size
        worst = {"first": 0, "last": size - 1, "middle": size // 2,
                 "drawn": int(rng.integers(0, size))}[worst]
        where = {worst, int(rng.integers(0, size)), int(rng.integers(size // 2, size)),
                 int(rng.integers(size - max(1, size // 10), size))}
        while len(where) < count + 1:
            where.add(int(rng.integers(0, size)))
        where = sorted(where)
        spikes = [[float(xs[i]), float(rng.uniform(0.2, 0.9)) * float(rng.choice([-1, 1]))]
                  for i in where]
        # the worst one: an error of 1 to 2 (the others' are at most 0.9), the slope there
        # flipped in sign and moved by 1.5 to 2.5 times max(1, |f'|)
        right = float(slope(sin_slow, xs[worst]))
        size_of = float(rng.uniform(1.5, 2.5)) * max(1.0, abs(right))
        spikes[where.index(worst)][1] = -(1.0 if right >= 0 else -1.0) * size_of
        text = ", ".join(f"x[{i}]" for i in where)
        return (deriv(sin_slow, "spikes", spikes),
                f"(the wrong values at {text}, the worst at x[{worst}])")

    places = ["drawn"] + [str(p) for p in rng.permutation(["first", "last", "middle"])]
    for (lo, hi), worst in zip(((150, 700), (1001, 10_000)), places):
        count = int(round(10 ** rng.uniform(np.log10(lo), np.log10(hi))))
        xs = points(count)
        df, where = spiked(xs, int(rng.integers(3, 6)), worst)
        cases.append(_gc_case(f"{count:,} random points on [-3, 3] {where}", sin_slow, df, xs,
                              1e-5))
    # Last, the work cases: a loop over the points runs with their number, and a loop over
    # Python objects driven from C takes far longer than numpy's loops. Their values count too,
    # and the long ones have a derivative wrong at a few points.
    for role, count, worst in (("small", 5, None), ("large", 2000, places[2]),
                               ("timed", 200_000, places[3])):
        label = f"{count:,} points" + (" (timed against numpy's own loops)"
                                       if role == "timed" else "")
        xs = points(count)
        df, where = (deriv(sin_slow), "") if role == "small" else spiked(xs, 3, worst)
        cases.append(_gc_case(f"{label} {where}".strip(), sin_slow, df, xs, 1e-5,
                              work=role, size=count, elements=count))
    return cases


def _gc_inputs(case: Case):
    args, kwargs = case.inputs()
    f, df, x = args[:3]
    h = args[3] if len(args) > 3 else kwargs.get("h", 1e-5)
    return f, df, np.asarray(x, dtype=float), h


def _variants_max_gradient_error(f, df, x, h) -> dict[str, float]:
    """What each recognisable mistake returns instead of the reference."""
    d = df(x)
    central = (f(x + h) - f(x - h)) / (2 * h)

    def err(fd, denominator="task", reduce=np.max, signed=False):
        diff = d - fd if signed else np.abs(d - fd)
        scale = {"task": np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd))),
                 "none": 1.0,
                 "d only": np.maximum(1.0, np.abs(d)),
                 "fd only": np.maximum(1.0, np.abs(fd)),
                 "no 1": np.maximum(np.abs(d), np.abs(fd)),
                 "no abs": np.maximum(1.0, np.maximum(d, fd))}[denominator]
        with np.errstate(all="ignore"):
            return float(reduce(diff / scale))

    h_fixed = 1e-5
    h_scaled = h * np.maximum(1.0, np.abs(x))
    return {
        "forward": err((f(x + h) - f(x)) / h),
        "backward": err((f(x) - f(x - h)) / h),
        "no 2": err((f(x + h) - f(x - h)) / h),
        "fixed h": err((f(x + h_fixed) - f(x - h_fixed)) / (2 * h_fixed)),
        "scaled h": err((f(x + h_scaled) - f(x - h_scaled)) / (2 * h_scaled)),
        "absolute": err(central, "none"),
        "d only": err(central, "d only"),
        "fd only": err(central, "fd only"),
        "no 1": err(central, "no 1"),
        "no abs": err(central, "no abs"),
        "signed": err(central, signed=True),
        "mean": err(central, reduce=np.mean),
    }


# What each mistake's numbers look like, and the idea behind the right form. A cause is
# named only when the student's numbers match that mistake's on every case.
_GC_MISTAKES = {
    "forward": ("the one-sided difference (f(x + h) - f(x)) / h",
                "the task's difference steps both ways from x; its error shrinks like h^2, "
                "the one-sided one's only like h (see the figure below the check)."),
    "backward": ("the one-sided difference (f(x) - f(x - h)) / h",
                 "the task's difference steps both ways from x; its error shrinks like h^2, "
                 "the one-sided one's only like h."),
    "no 2": ("a difference quotient divided by h instead of 2h",
             "the two points x - h and x + h are 2h apart."),
    "fixed h": ("a step h = 1e-5 whatever h is passed in",
                "the checker must use the h it is given, so a caller can choose it."),
    "scaled h": ("a step that grows with |x| (h max(1, |x|))",
                 "use the h you are given as it is, at every point."),
    "absolute": ("the absolute error |d - fd|, with no denominator",
                 "the task's error is relative where the slope is large: each point's "
                 "error is divided by the largest of 1, |d| and |fd|."),
    "d only": ("an error divided by max(1, |d|), leaving |fd| out",
               "the denominator is the largest of three numbers: 1, |d| and |fd|. np.maximum "
               "compares two arrays only: a third argument is `out`, the array it writes its "
               "result into, so np.maximum(1, |d|, |fd|) is max(1, |d|). Nest two calls."),
    "fd only": ("an error divided by max(1, |fd|), leaving |d| out",
                "the denominator is the largest of three numbers: 1, |d| and |fd|."),
    "no 1": ("an error divided by max(|d|, |fd|), without the 1",
             "where both slopes are tiny the 1 makes the error absolute; without it a slope "
             "of 1e-3 turns an error of 1e-4 into 0.1."),
    "no abs": ("an error divided by max(1, d, fd), with the slopes' signs kept",
               "a slope of -10 is as large as one of +10: the denominator compares sizes."),
    "signed": ("the largest signed difference d - fd, without its absolute value",
               "a derivative that is too small is as wrong as one that is too large."),
    "mean": ("the mean error over the points, not the largest",
             "one bad point is a bug: the checker reports the worst point."),
}


def _gc_reference(case: Case) -> float:
    f, df, x, h = _gc_inputs(case)
    with np.errstate(all="ignore"):
        return reference_max_gradient_error(f, df, x, h)


def _gc_value(obs, case) -> float:
    return expect_float(obs.result, f"{_G} on {case.label}", finite=False,
                        hint="reduce the per-point errors to the largest one: one number "
                             "(float(...) of it), not an array.")


def _gc_rounding(case: Case) -> float:
    """How far an algebraically equal arrangement of the task's arithmetic may land from the
    reference on this case: a few ulps of f(x +- h) / h (the subtraction keeps their absolute
    error), of the step (x + h) - (x - h), which differs from 2h by an ulp of x, and of d and
    fd; each relative to the point's denominator."""
    f, df, x, h = _gc_inputs(case)
    with np.errstate(all="ignore"):
        fp, fm, d = f(x + h), f(x - h), df(x)
        fd = (fp - fm) / (2 * h)
        size = ((np.abs(fp) + np.abs(fm)) / (2 * h) + np.abs(x) * np.abs(fd) / h + np.abs(d)
                + np.abs(fd))
        scale = np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))
        worst = float(np.max(size / scale)) if x.size else 0.0
    return 4 * _EPS * worst if math.isfinite(worst) else math.inf


def _gc_errors(case: Case) -> np.ndarray:
    """The task's error at each point of the case."""
    f, df, x, h = _gc_inputs(case)
    with np.errstate(all="ignore"):
        fd = (f(x + h) - f(x - h)) / (2 * h)
        d = df(x)
        return np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))


def _gc_left_out(case: Case, got: float, want: float) -> int | None:
    """When ``got`` is smaller than the task's largest error ``want`` (or ``want`` is NaN) and
    is the error of another point of the case (or 0, every point left out): that point's
    index (-1 for 0), else None."""
    if not (math.isfinite(got) and got >= 0 and (math.isnan(want) or got < want)):
        return None
    if got == 0:
        return -1
    errors = _gc_errors(case)
    # (within rounding: numpy's sin of a part of an array may differ from that of the whole
    # in its last bit, which moves the tiny errors of right points)
    rounding = _gc_rounding(case)
    close = np.flatnonzero(np.isclose(errors, got, rtol=1e-6,
                                      atol=rounding if math.isfinite(rounding) else 0.0))
    return int(close[0]) if close.size else None


def _gc_agrees(got: float, want: float, rounding: float) -> bool:
    # Right derivatives give errors of rounding or truncation size: an arrangement of the same
    # arithmetic (f(x+h)/(2h) - f(x-h)/(2h), the step (x+h) - (x-h)) moves them by rounding.
    # A NaN (a broken derivative or function) must come back as NaN.
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    return abs(got - want) <= 1e-6 * abs(want) + rounding + 1e-13


def _gc_same(got: float, want: float) -> bool:
    """Two checkers' numbers alike (NaN alike NaN)."""
    if math.isnan(got) or math.isnan(want):
        return math.isnan(got) and math.isnan(want)
    return math.isclose(got, want, rel_tol=1e-3, abs_tol=1e-12)


def _judge_gradient_checker(case: Case, obs, expected) -> None:
    _gc_value(obs, case)


def _gc_h_given(case: Case) -> bool:
    return len(case.args) > 3 or "h" in case.kwargs


def _judge_gradient_checker_all(cases, observations, expected) -> None:
    results = [(c, _gc_value(o, c), e) for c, o, e in zip(cases, observations, expected)]
    # (the rounding room only where the numbers differ: it evaluates f and df once more)
    wrong = [(c, got, want) for c, got, want in results
             if not (got == want or (math.isnan(got) and math.isnan(want))
                     or _gc_agrees(got, want, _gc_rounding(c)))]
    if not wrong:
        return
    hidden = [(c, g, w) for c, g, w in wrong if math.isnan(w) and not math.isnan(g)]
    if len(hidden) == len(wrong):
        # (a case whose f overflows first: it says more than a NaN the answer also skips)
        hidden.sort(key=lambda r: r[0].args[0].params.get("error") != "inf near")
        case, got, _ = hidden[0]
        overflow = case.args[0].params.get("error") == "inf near"
        raise ExerciseError(
            f"{_G} on {case.label} returns {got:.6g}; the task's formula gives nan there "
            f"({len(hidden)} of {len(results)} cases differ, each with a NaN or an infinity "
            "in d or fd): the error at the broken point is NaN, and the largest of a set of "
            "errors with a NaN among them is NaN. "
            + ("Here f is infinite on one side of a point, so fd is infinite there while d is "
               "finite: |d - fd| / max(1, |d|, |fd|) is inf / inf, NaN. Your checker skips that "
               "point or gives it another value (0, inf)"
               if overflow else "Your checker skips it")
            + " and reports a broken derivative as a good one.",
            "take np.max over every point's error, as the formula gives it: np.nanmax, a mask "
            "of the finite errors or of the finite fd, or Python's max (which keeps a NaN only "
            "when it comes first) hide the NaN.")
    case, got, want = wrong[0]
    problem = (f"{_G} on {case.label} returns {pair(got, want)[0]}; the task's formula gives "
               f"{pair(got, want)[1]} ({len(wrong)} of {len(results)} cases differ).")
    with np.errstate(all="ignore"):
        variants = [_variants_max_gradient_error(*_gc_inputs(c)) for c, _, _ in results]
    matches = [m for m in _GC_MISTAKES
               if all(_gc_same(g, v[m]) for (_, g, _), v in zip(results, variants))]
    if len(matches) == 1:
        looks, idea = _GC_MISTAKES[matches[0]]
        raise ExerciseError(f"{problem} On every case your numbers are those of {looks}.", idea)
    left_out = [_gc_left_out(c, got, want) for c, got, want in wrong]
    if all(where is not None for where in left_out) or all(
            np.size(c.args[2]) >= 100 and got < want for c, got, want in wrong):
        # Smaller errors only, each the error of another point (or 0): the worst point was
        # left out.
        case, got, want = wrong[0]
        where = left_out[0]
        x = _gc_inputs(case)[2]
        errors = _gc_errors(case)
        worst = int(np.argmax(np.isnan(errors)) if np.isnan(want) else np.argmax(errors))
        what = ("0" if where == -1 else f"the error at x[{where}]") if where is not None \
            else "smaller"
        raise ExerciseError(
            f"{problem} Your number there is {what}, and the worst point is x[{worst}] "
            f"(x = {float(x[worst])!r}"
            + (", the first point" if worst == 0 else ", the last point" if worst == x.size - 1
               else ", the middle point" if worst == x.size // 2 else "")
            + f", of {x.size:,}): your checker leaves out points of an array (its first or last "
            "one, its middle one, a sample, every k-th one, or all of them beyond some size).",
            "every point counts: compute the error at every point of x, whatever its size, and "
            "return the largest (np.max over the whole array).")
    defaults = [(c, g) for c, g, _ in results if not _gc_h_given(c)]
    if all(not _gc_h_given(c) for c, _, _ in wrong):
        # Only the cases without h differ: another default step, or something else there?
        for other in (1e-6, 1e-4, 1e-3, 1e-7, 1e-8, 1e-2):
            with np.errstate(all="ignore"):
                same = all(_gc_same(g, reference_max_gradient_error(*_gc_inputs(c)[:3], other))
                           for c, g in defaults)
            if same:
                raise ExerciseError(
                    f"{problem} Only the {len(defaults)} cases that leave h out differ, and "
                    f"there your numbers are those of h = {other:g}.",
                    "the task's signature is max_gradient_error(f, df, x, h=1e-5): the "
                    "default step is 1e-5.")
        raise ExerciseError(
            f"{problem} Only the {len(defaults)} cases that leave h out differ.",
            "call your function without h on such a case and print the step it uses: the "
            "task's signature is max_gradient_error(f, df, x, h=1e-5).")
    raise ExerciseError(problem, "run this case in a cell of its own and print fd, d and the "
                        "per-point errors; compare each step with the task's formula.")


def _explain_gradient_checker_error(case: Case, obs) -> str | None:
    if "axis" in obs.error or "integer scalar arrays" in obs.error:
        return ("np.max reduces one array (its second argument is an axis); the largest of 1, "
                "|d| and |fd| at each point is np.maximum, which compares two arrays at a time.")
    return None


GRADIENT_CHECKER = Spec(
    "ch06.max_gradient_error", check="ch06.check_gradient_check_function",
    grade_id="ch06-gradcheck-check", what=_G, answers=("max_gradient_error",),
    draw=_draw_gradient_checker, reference_case=_gc_reference, judge=_judge_gradient_checker,
    judge_all=_judge_gradient_checker_all, explain_error=_explain_gradient_checker_error,
    forbidden=CHECK_CODE, vectorised=True,
    loop_hint="compute fd, d and the per-point errors as whole arrays; np.max gives the worst.",
    passed="`max_gradient_error` computes the largest relative error of a derivative against "
           "central differences with the h it is given, on every function and derivative "
           "tried (right and wrong ones, large and tiny slopes, and NaN for a broken one or "
           "an f that overflows).")


@exercise_check
def check_gradient_check_function(max_gradient_error, *, seed: int | None = None) -> None:
    """Your checker: central differences, a relative error, the given h, a single number."""
    GRADIENT_CHECKER.check(max_gradient_error, seed=seed)


# --------------------------------------------------------------------------------------
# Part 5: numerical stability
# --------------------------------------------------------------------------------------

# The inputs the task names: huge, large, moderate and tiny, both signs, and 0.
STABILITY_INPUTS = np.array([-1e6, -1e5, -1e4, -1e3, -100.0, -50.0, -20.0, -1.0, -1e-3, 0.0,
                             1e-3, 1.0, 20.0, 50.0, 100.0, 1e3, 1e4, 1e5, 1e6])
# Just below and above where exp overflows: 88.72 in float32, 709.78 in float64.
_OVERFLOW_EDGES = np.array([88.5, 89.0, 709.5, 710.0])
# And moderate ones, where the derivative is checked against the activation's slope too.
_MODERATE = np.array([0.25, 0.5, 2.0, 5.0, 10.0])
_S = "Part 5 (`my_activation` and `my_derivative`)"
_NAMES = ("`my_activation`", "`my_derivative`")


# Ways to hide a floating-point warning instead of avoiding it: watched by the driver below,
# which tells the answer's own calls from numpy's (np.isin, np.isclose use errstate inside).
SILENCERS = Forbidden(("numpy*:errstate*", "numpy*:seterr", "warnings:catch_warnings*",
                       "warnings:simplefilter", "warnings:filterwarnings",
                       "contextlib:suppress*"),
                      why="silencing floating-point warnings only hides the overflow, which "
                          "still happens: rewrite the formula so no intermediate value "
                          "overflows, and there is nothing to silence")


def _numpy_error_state():
    """The context variable that holds numpy's floating-point error settings (np.errstate
    sets it; setting it from outside numpy is a silencer too)."""
    try:
        from numpy._core import _ufunc_config
    except ImportError:  # an older numpy: errstate and seterr are watched by name only
        return None
    return getattr(_ufunc_config, "_extobj_contextvar", None)


_WARNING_KINDS = (("all", "every floating-point warning"), ("over", "the overflow warning"),
                  ("divide", "the division-by-zero warning"),
                  ("invalid", "the invalid-value warning (0 / 0, inf - inf, 0 * inf)"),
                  ("under", "the underflow warning"))


def _hidden_by(frame) -> str:
    """Which warnings a silencer the answer calls hides, from its arguments (np.errstate's
    and np.seterr's keywords), or "the warnings" when it does not say."""
    try:
        local = frame.f_locals
        kinds = [text for key, text in _WARNING_KINDS
                 if str(local.get(key, "")) in ("ignore", "call", "log")]
        return " and ".join(kinds[:2]) if kinds else "the warnings"
    except Exception:  # a frame whose locals cannot be read
        return "the warnings"


def _hidden_kind(message: str) -> str:
    """The operation a caught floating-point error is about, from its message."""
    for word, kind in (("overflow", "overflow"), ("divide", "division by zero"),
                       ("invalid", "invalid operation (0 / 0, inf - inf, 0 * inf)"),
                       ("underflow", "underflow")):
        if word in message:
            return kind
    return "operation"


@driver("ch06.strict")
def _strict(answers, x, which):
    """``answers[which](x)`` with every floating-point warning an error (the spec sets them):
    the result, or the warning and the first input that raises it on its own."""
    fn = answers[which]
    x_copy = x.copy()
    caught: list[str] = []
    silenced: list[str] = []
    hidden: list[str] = []
    error_state = _numpy_error_state()

    def outside(frame) -> bool:  # code of the answer's, not numpy's or the library's own
        return not str(frame.f_globals.get("__name__", "")).startswith(
            ("numpy", "warnings", "contextlib"))

    def watch(frame, event, arg):
        if event == "call":
            # A silencer the answer calls itself (numpy's own functions may use errstate).
            module = str(frame.f_globals.get("__name__", "?"))
            qualname = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
            caller = frame.f_back
            if (caller is None or outside(caller)) and not silenced and SILENCERS.matches(
                    module, qualname):
                silenced.append(f"{module}.{qualname}")
                hidden.append(_hidden_by(frame))
        elif event == "exception" and issubclass(arg[0], (FloatingPointError, Warning)):
            # Raised inside the answer: if it returns all the same, it caught the error
            # (try/except), which hides the warning as errstate would.
            caught.append(f"{arg[0].__name__}: {arg[1]}"[:300])
        return watch

    def watch_c(frame, event, arg):
        # numpy's error settings set by the answer's own code, through the private context
        # variable np.errstate uses, whatever name it goes by.
        if (event == "c_call" and error_state is not None and not silenced
                and getattr(arg, "__self__", None) is error_state
                and getattr(arg, "__name__", "") == "set" and outside(frame)):
            silenced.append("numpy's error state (its context variable, set directly)")

    previous, previous_profile = sys.gettrace(), sys.getprofile()
    sys.settrace(watch)
    sys.setprofile(watch_c)
    try:
        value = fn(x)
    except (FloatingPointError, Warning) as err:
        message = f"{type(err).__name__}: {err}"[:300]
        if silenced:
            return {"silenced": silenced[0], "hidden": hidden[0] if hidden else None}
    else:
        return {"value": value, "modified": _modified({"x": x}, {"x": x_copy}),
                "caught": caught[0] if caught else None,
                "silenced": silenced[0] if silenced else None,
                "hidden": hidden[0] if hidden else None}
    finally:
        sys.setprofile(previous_profile)
        sys.settrace(previous)
    at = None
    for value in x_copy.ravel():
        try:
            fn(np.array([value], dtype=x.dtype))
        except (FloatingPointError, Warning):
            at = float(value)
            break
        except Exception:  # another failure: not the one located here
            continue
    return {"warning": message, "at": at}


def _slope_step(x):
    """The step of the slope check: 1e-6 relative, but at most 0.01 (beyond |x| = 1e4 a
    relative step would be as long as a period of sin)."""
    return 1e-6 * np.maximum(1.0, np.minimum(np.abs(x), 1e4))


def _draw_stability(rng) -> list[Case]:
    # Random values too, with 8 significant bits: float32 holds them (and small multiples of
    # them, such as 3x) exactly, so both dtypes compute on the same numbers, as they do on
    # the round numbers above.
    # And |x| from 1 to 1e4 spread evenly on a log scale (a few points in every stretch such
    # as 20 < x < 30), where the derivative must still be the activation's slope.
    def eight_bits(v):
        mantissa, exponent = np.frexp(v)
        return np.ldexp(np.round(mantissa * 256) / 256, exponent)

    def bits(v, n):
        mantissa, exponent = np.frexp(v)
        return np.ldexp(np.round(mantissa * 2.0**n) / 2.0**n, exponent)

    extra = eight_bits(rng.choice([-1, 1], 8) * 10 ** rng.uniform(-3, 6, 8))
    # every scale out to the end of the range, 1e6 (a term wrong on 1e4 < |x| < 1e6 between
    # the round numbers shows), some 20 points a decade
    spread = eight_bits(np.geomspace(1, 1e6, 121) * np.exp(rng.uniform(-0.05, 0.05, 121)))
    spread = spread[(spread >= 1) & (spread <= 1e6)]  # (the range the text names)
    # and drawn ones just below and just above where exp overflows in each dtype (with 12
    # significant bits: float32 holds them, and 3x, exactly)
    edges = np.log([np.finfo(np.float32).max, np.finfo(np.float64).max])
    near = bits(np.concatenate([edges - rng.uniform(0.02, 0.5, 2),
                                edges + rng.uniform(0.02, 0.5, 2)]), 12)
    values = np.unique(np.concatenate([STABILITY_INPUTS, _MODERATE, -_MODERATE,
                                       _OVERFLOW_EDGES, -_OVERFLOW_EDGES, near, -near, extra,
                                       spread, -spread, _TINY32]))
    # and negative zero (np.unique keeps one zero): an ordinary input, whose slope is 0's
    values = np.concatenate([values, [-0.0]])
    values = values[rng.permutation(values.size)]
    # float64 gets tiny inputs float32 does not hold too (subnormals among them): a formula
    # guarded at x == 0 alone gives 0 / 0 there.
    values64 = np.concatenate([values, _TINY64[rng.permutation(_TINY64.size)]])
    step = _slope_step(values64)
    cases = []
    for dtype, xs in ((np.float32, values.astype(np.float32)), (np.float64, values64)):
        for which in (0, 1):
            cases.append(Case(f"{_NAMES[which]} at {xs.size} inputs from -1e6 to 1e6, tiny "
                              f"ones among them ({np.dtype(dtype).name})", (xs, which),
                              driver="ch06.strict",
                              note={"role": f"{which}-{np.dtype(dtype).name}"}))
    # An array of large inputs only (float64): the dtype must not depend on the values.
    big = values[np.abs(values) >= 1e5]
    for which in (0, 1):
        cases.append(Case(f"{_NAMES[which]} at the {big.size} inputs with |x| >= 1e5 alone "
                          "(float64)", (big.copy(), which), driver="ch06.strict",
                          note={"role": f"{which}-big"}))
    for sign, name in ((1, "+"), (-1, "-")):
        cases.append(Case(f"`my_activation` at x {name} h and x {name} 2h, h = 1e-6 max(1, "
                          "min(|x|, 1e4)) (float64), for its slope",
                          (np.concatenate([values64 + sign * step, values64 + sign * 2 * step]),
                           0), driver="ch06.strict", note={"role": f"slope{name}"}))
    return cases


def _stable_values(case: Case, obs) -> np.ndarray:
    x, which = case.args
    what = _NAMES[which]
    result = obs.result if isinstance(obs.result, dict) else {}
    _check_unmodified(result, what)
    if result.get("silenced"):
        how = str(result["silenced"])[:80]
        how = f"sets {how}" if how.startswith("numpy's error state") else f"calls `{how}`"
        hidden = str(result.get("hidden") or "the warnings")[:120]
        raise ExerciseError(
            f"{what} {how}, which hides {hidden}: the operation still happens, only its "
            "warning is gone. Rewrite the formula so that no intermediate value overflows or "
            "is undefined (0 / 0), and there is nothing to silence.",
            "the names you call it by do not matter (an alias, a partial): the check sees "
            "what runs. A guard such as np.where(x == 0, ...) still computes both branches: "
            "make the branch it discards safe too (divide by np.where(x == 0, 1, x)).")
    if result.get("caught"):
        caught = str(result["caught"])[:120]
        raise ExerciseError(
            f"{what} catches a floating-point error on {x.dtype} input ({caught}) and goes "
            f"on: the {_hidden_kind(caught)} still happens, it is only hidden, as with "
            "np.errstate.",
            "rewrite the formula so that no intermediate value overflows or is undefined; "
            "then there is nothing to catch.")
    if "warning" in result:
        at = result.get("at")
        where = f" at x = {at:g}" if isinstance(at, float) else ""
        problem = str(result["warning"]).split(": ", 1)[-1]
        if "overflow" in problem and "cast" in problem:
            hint = ("a number too large for the dtype it is cast to: float16 holds numbers up "
                    "to 65504 only (float32 to 3.4e38). Compute in the input's own dtype, "
                    "without a cast to a narrower one (.astype(np.float16)).")
        elif "overflow" in problem:
            hint = ("a number too large for the dtype: exp(x) overflows for x > 88.7 in float32 "
                    "(709.8 in float64). Rewrite so exp only sees values <= 0, as the stable "
                    "softplus in the text above does.")
        else:  # invalid value or division by zero: the result is undefined, not large
            hint = ("an undefined operation (0 / 0, inf - inf, 0 * inf or inf / inf) at this x: "
                    "find the intermediate value that is 0 or inf there and use an "
                    "algebraically equal form that avoids it.")
        raise ExerciseError(f"{what} fails{where} ({x.dtype}): {problem}", hint)
    if "value" not in result:
        raise ExerciseError(f"no result of {what} reached the check for this case.",
                            "the check cell must run to the end, after your answer cell.")
    values = _elementwise(result["value"], x, what)
    bad = ~np.isfinite(values)
    if bad.any():
        j = int(np.argmax(bad))
        raise ExerciseError(f"{what} returned {values[j]} at x = {x[j]:g} ({x.dtype}).",
                            "look for inf - inf, 0 * inf or inf / inf: an overflowed exp or "
                            "cosh.")
    return values


def _judge_stability(case: Case, obs, expected) -> None:
    _stable_values(case, obs)


def _judge_stability_all(cases, observations, expected) -> None:
    roles = _roles(cases, observations)
    for which, what in enumerate(_NAMES):
        case32, obs32 = roles[f"{which}-float32"]
        v32 = _stable_values(case32, obs32)
        case64, obs64 = roles[f"{which}-float64"]
        v64 = _stable_values(case64, obs64)
        big_case, big_obs = roles[f"{which}-big"]
        big = _stable_values(big_case, big_obs)
        want = _lookup(np.sort(case64.args[0]), v64[np.argsort(case64.args[0])],
                       big_case.args[0])
        index = _first_off(big, want, rtol=1e-9, atol=1e-12)
        if index is not None:
            raise ExerciseError(
                f"{what} gives {big[index]:.9g} at x = {float(big_case.args[0][index]):g} in "
                f"an array of large inputs alone, but {want[index]:.9g} for the same x among "
                "the other inputs (float64).",
                "the value at an entry depends on that entry only: no branch on the array's "
                "values as a whole (np.all, np.any, its size).")
        # float32 keeps about 7 digits, and a formula of a few operations nearly all of them:
        # 1e-5 relative (some 80 units of float32's last place) is room enough for a stable
        # one. Near 0 the rounding of the terms that cancel there is what float32 can keep:
        # 2e-7 of the function's size (its largest value for |x| <= 10), not a fixed 1e-5,
        # under which a small slope set to 0 (softsign's 6e-6 at x = 400) would pass.
        v64 = v64[:v32.size]
        x64 = case32.args[0].astype(np.float64)
        moderate = np.abs(v64[np.abs(x64) <= 10])
        size = float(np.max(moderate)) if moderate.size else 1.0
        index = _first_off(v32, v64, rtol=1e-5, atol=_F32_FLOOR * max(size, 1e-30))
        # (and a value float32 holds with all its digits, from 1e-35 up, set to 0 in float32
        # alone: below the floor above, but a wrong value, not rounding)
        zeroed = (v32 == 0) & (np.abs(v64) >= _F32_HELD)
        if index is None and zeroed.any():
            index = int(np.argmax(np.where(zeroed, np.abs(v64), -1.0)))
        if index is not None:
            at = float(case32.args[0][index])
            raise ExerciseError(
                f"{what} gives {v32[index]:.9g} in float32 but {v64[index]:.9g} in float64 at "
                f"x = {at:g}: they should agree to float32's precision (1e-5 relative, and "
                f"near 0 within {_F32_FLOOR:g} of the function's size, {size:.3g} here).",
                ("float32 holds numbers down to about 1e-38: a small value set to 0 in "
                 "float32 alone (a cut-off, a np.where on |x|) is a wrong value, not rounding."
                 if v32[index] == 0 and abs(v64[index]) > 1e-37 else
                 "float32 keeps about 7 digits, and a formula of a few operations keeps nearly "
                 "all of them: look for a subtraction of two nearly equal numbers, a step "
                 "smaller than the spacing of float32 numbers, a division by a number that "
                 "underflowed (x * x at x = 1e-30), or a result scaled or rounded on the way."))
    # The stable rewrite must compute the same function: at every input the derivative must
    # still be the slope of the forward pass (clipping one of them breaks this). At a kink
    # any value between the one-sided slopes will do, as in Part 2.
    x = roles["1-float64"][0].args[0]
    f = _stable_values(*roles["0-float64"])
    d = _stable_values(*roles["1-float64"])
    plus, plus2 = np.split(_stable_values(*roles["slope+"]), 2)
    minus, minus2 = np.split(_stable_values(*roles["slope-"]), 2)
    h = _slope_step(x)
    slope = (plus - minus) / (2 * h)
    slope2 = (plus2 - minus2) / (4 * h)
    left, right = (f - minus) / h, (plus - f) / h
    # Relative where the slope is small too (softsign's is 1e-8 at 1e4: a factor of 2 there
    # is an error of 1e-8), with room for the rounding of f(x +- h) over the step (of its
    # size, or of 1 where it is smaller: sigma as (1 + tanh(x / 2)) / 2 rounds to 1e-17), for the
    # step's truncation error (a third of the slopes' difference over h and 2h: sin(8x) / 8
    # has a third derivative of 64 where its slope is 0, and at |x| = 5000 the step is 0.005)
    # and for differences below 1e-13 (exp(x) clipped at -80 changes Mish by 1e-33 at
    # x = -100; 1 - exp(-softplus(x)) keeps no digit of sigma(x) below x = -37).
    size = np.maximum(np.maximum(np.abs(f), np.maximum(np.abs(plus), np.abs(minus))),
                      np.maximum(np.abs(plus2), np.abs(minus2)))
    tol = (1e-3 * np.abs(slope) + 64 * _EPS * np.maximum(size, 1.0) / h
           + np.abs(slope2 - slope) + 1e-13)
    off = (np.abs(d - slope) > tol) & ~((d >= np.minimum(left, right) - tol)
                                        & (d <= np.maximum(left, right) + tol))
    if off.any():
        j = int(np.argmax(off))
        raise ExerciseError(
            f"at x = {x[j]:g} `my_derivative` gives {d[j]:.6g} but the slope of "
            f"`my_activation` there, (f(x + h) - f(x - h)) / (2h) with h = {h[j]:g}, is "
            f"{slope[j]:.6g}: the two no longer describe the same function"
            + (" (at negative zero, an ordinary zero: np.signbit, 1 / x or np.copysign tell "
               "it apart from 0.0, the formula should not)." if x[j] == 0 and np.signbit(x[j])
               else "."),
            "a stable form must be algebraically equal to the original formula for every x, "
            "and the derivative must stay the derivative of the forward pass.")


STABILITY = Spec(
    "ch06.stability", check="ch06.check_stability", grade_id="ch06-stability-check",
    what=_S, answers=("my_activation", "my_derivative"), draw=_draw_stability,
    reference_case=lambda case: None, judge=_judge_stability, judge_all=_judge_stability_all,
    numpy_errors="raise",
    passed="`my_activation` and `my_derivative` are stable: no warning, no inf or NaN, "
           "float32 stays float32 and agrees with float64 (1e-5 relative, near 0 to float32's "
           "rounding of the function's size), inputs untouched, "
           "nothing silenced, the derivative still the slope of the activation, for |x| up to "
           "1e6 and tiny inputs down to float64's subnormals.")


@exercise_check
def check_stability(forward, derivative, *, seed: int | None = None) -> None:
    """No warning, no inf/NaN, dtype kept, for |x| up to 1e6 in float32 and float64."""
    STABILITY.check(forward, derivative, seed=seed)


# --------------------------------------------------------------------------------------
# Part 6: gradient flow at initialisation
# --------------------------------------------------------------------------------------

_W = "`gradient_flow`"


def reference_gradient_flow(net, X, y) -> dict[str, float]:
    """The reference answer of Part 6 (used by the check)."""
    norms = diagnostics.gradient_norms(net, X, y)
    dead = diagnostics.dead_fraction(net, X)[:-1]
    flat = [np.abs(act.grad(z)) < diagnostics.SATURATION_THRESHOLD
            for act, z in zip(net.hidden_activations, net.cache["z"][:-1])]
    return {
        "ratio": float(norms[0] / norms[-1]),
        "dead": float(np.mean(dead)),
        "flat": float(np.mean(np.concatenate([f.ravel() for f in flat]))),
    }


def _dead_below_a_tolerance(net, number: float) -> float | None:
    """A tolerance t for which the mean over the hidden layers of the share of units whose
    outputs are all below t in size is ``number`` (the network's cache holds the outputs of
    the batch), or None."""
    outputs = net.cache["a"][1:-1]
    if not outputs:
        return None
    largest = [np.max(np.abs(a), axis=0) for a in outputs]
    for t in np.nextafter(np.unique(np.concatenate(largest)), np.inf):
        if t > 0.01:  # (not a tolerance for "tiny": another mistake, named otherwise)
            break
        if t > 0 and math.isclose(float(np.mean([np.mean(m < t) for m in largest])), number,
                                  rel_tol=1e-6, abs_tol=1e-12):
            return float(t)
    return None


def _dead_leaving_out(net, number: float) -> list[int]:
    """The samples s for which the mean over the hidden layers of the share of units that
    output 0 on every sample but s is ``number`` (units alive on s alone counted dead). The
    network's cache holds the outputs of the batch."""
    outputs = net.cache["a"][1:-1]
    found: list[int] = []
    if not outputs:
        return found
    alive = [a != 0 for a in outputs]
    counts = [m.sum(axis=0) for m in alive]
    where = [np.argmax(m, axis=0) for m in alive]  # each unit's first live sample
    for s in np.unique(np.concatenate([w[c == 1] for w, c in zip(where, counts)])):
        share = float(np.mean([np.mean((c == 0) | ((c == 1) & (w == s)))
                               for w, c in zip(where, counts)]))
        if math.isclose(share, number, rel_tol=1e-6, abs_tol=1e-12):
            found.append(int(s))
    return found


def _flat_below_a_threshold(net, number: float) -> tuple[float, float] | None:
    """The interval of thresholds t for which the pooled share of hidden entries with
    |f'(z)| < t is ``number`` (the network's cache holds the batch's z), or None."""
    zs = net.cache["z"][:-1]
    if not zs or not math.isfinite(number):
        return None
    with np.errstate(all="ignore"):
        g = np.sort(np.abs(np.concatenate([act.grad(z).ravel() for act, z in
                                           zip(net.hidden_activations, zs)])))
    k = int(round(number * g.size))
    if not 0 <= k <= g.size or not math.isclose(k / g.size, number, rel_tol=1e-9,
                                                 abs_tol=1e-12):
        return None
    return (float(g[k - 1]) if k else 0.0), (float(g[k]) if k < g.size else math.inf)


def _variants_gradient_flow(net, X, y) -> dict[str, dict[str, float]]:
    """What each recognisable mistake of Part 6 returns, key by key (the network's cache
    holds the whole batch's pass at the end)."""
    # Per-sample quantities averaged: each sample's own gradient norms (a batch of one), first,
    # so that the batch's pass below leaves the cache as the other diagnoses read it.
    alone = np.array([diagnostics.gradient_norms(net, X[i:i + 1], y[i:i + 1])
                      for i in range(X.shape[0])], dtype=np.float64)
    norms = diagnostics.gradient_norms(net, X, y)
    dead = diagnostics.dead_fraction(net, X)
    zs = net.cache["z"]
    widths = np.array([z.shape[1] for z in zs[:-1]])
    grads = [act.grad(z) for act, z in zip(net.hidden_activations, zs[:-1])]
    t = diagnostics.SATURATION_THRESHOLD

    def pooled(masks):
        return float(np.mean(np.concatenate([m.ravel() for m in masks])))

    flat = {"signed": pooled([g < t for g in grads]),
            "<=": pooled([np.abs(g) <= t for g in grads]),
            "per layer": float(np.mean([np.mean(np.abs(g) < t) for g in grads])),
            "dead": float(np.mean(dead[:-1]))}
    if net.output != "softmax":
        out_act = activations.get(net.output)
        flat["with output"] = pooled([np.abs(g) < t for g in grads]
                                     + [np.abs(out_act.grad(zs[-1])) < t])
    outputs = net.cache["a"][1:-1]
    with np.errstate(all="ignore"):
        each = alone[:, 0] / alone[:, -1]
        per_sample = {"per sample": float(np.mean(each)),
                      "per sample nan": float(np.nanmean(each)) if np.isfinite(each).any()
                      else math.inf,
                      "per sample median": float(np.nanmedian(each))
                      if np.isfinite(each).any() else math.inf,
                      "per sample norms": float(np.mean(alone[:, 0]) / np.mean(alone[:, -1]))}
    return {
        "ratio": {"upside down": float(norms[-1] / norms[0]),
                  "last hidden": float(norms[0] / norms[-2]) if len(norms) > 2 else math.nan,
                  **per_sample},
        "dead": {"per sample": float(np.mean([np.mean(a == 0) for a in outputs])),
                 "per sample pooled": float(np.mean(np.concatenate([(a == 0).ravel()
                                                                    for a in outputs]))),
                 "with output": float(np.mean(dead)),
                 "pooled": float(np.sum(dead[:-1] * widths) / np.sum(widths)),
                 "no slope": float(np.mean([np.mean(np.all(g == 0, axis=0)) for g in grads])),
                 "small": float(np.mean([np.mean(np.all(np.abs(a) < 1e-2, axis=0))
                                         for a in outputs]))},
        "flat": flat,
    }


_PER_SAMPLE_HINT = ("the ratio is one number for the whole batch: "
                    "diagnostics.gradient_norms(net, X, y) on all of X, then its first entry "
                    "over its last. A mean of per-sample ratios weighs the samples otherwise "
                    "(and is undefined where one sample's gradient is 0).")

_FLOW_MISTAKES = {
    "ratio": {
        "upside down": ("the last layer's norm over the first's: upside down",
                        "the ratio is the first layer's gradient norm over the last's; near "
                        "1e-6 means the first layers cannot learn."),
        "last hidden": ("the first layer's norm over the last hidden layer's (or over "
                        "another layer's)",
                        "the last layer is the output layer: the last entry of the norms."),
        "per sample": ("the mean over the samples of each sample's own ratio (its gradient "
                       "norms as a batch of one), not the batch's ratio",
                       _PER_SAMPLE_HINT),
        "per sample nan": ("the mean over the samples of each sample's own ratio (its gradient "
                           "norms as a batch of one), the undefined ones (0 / 0) left out",
                           _PER_SAMPLE_HINT),
        "per sample median": ("the median over the samples of each sample's own ratio",
                              _PER_SAMPLE_HINT),
        "per sample norms": ("the mean of the samples' own first-layer norms over the mean of "
                             "their own last-layer norms (each sample as a batch of one)",
                             _PER_SAMPLE_HINT),
    },
    "dead": {
        "per sample": ("the share of (sample, unit) outputs that are 0, a per-sample dead "
                       "fraction averaged over the samples",
                       "a dead unit outputs 0 on every sample of the batch: a unit that is 0 "
                       "on some samples only is alive (diagnostics.dead_fraction(net, X) on "
                       "the whole batch)."),
        "per sample pooled": ("the share of all hidden (sample, unit) outputs that are 0, "
                              "a per-sample dead fraction averaged over the samples",
                              "a dead unit outputs 0 on every sample of the batch: a unit "
                              "that is 0 on some samples only is alive "
                              "(diagnostics.dead_fraction(net, X) on the whole batch)."),
        "with output": ("the mean over every layer, the output layer included",
                        "dead units are a property of the hidden layers: the output layer "
                        "(the last entry) is left out."),
        "pooled": ("the fraction of all hidden units pooled together",
                   "the task asks for the mean over the hidden layers of each layer's dead "
                   "fraction; with layers of unequal width the two differ."),
        "no slope": ("units whose derivative f'(z) is 0 on every sample counted as dead",
                     "a dead unit outputs zero for every sample (diagnostics.dead_fraction). "
                     "A step unit, or a tanh unit saturated at 1, has f' = 0 everywhere but "
                     "still outputs 1: it is flat, not dead."),
        "small": ("units whose outputs are all small (below 0.01) counted as dead",
                  "a dead unit outputs exactly zero for every sample "
                  "(diagnostics.dead_fraction); a sigmoid unit that outputs 3e-4 still "
                  "passes a signal on."),
    },
    "flat": {
        "signed": ("f'(z) < 0.01 without the absolute value",
                   "a derivative of -0.1 passes a tenth of the gradient: flat means close to "
                   "0 on either side."),
        "<=": ("|f'(z)| <= 0.01 instead of < 0.01",
               "the threshold itself is not flat: leaky_relu's slope of exactly 0.01 does not "
               "count."),
        "per layer": ("the mean of the per-layer fractions",
                      "the task asks for the fraction of all hidden (sample, unit) entries "
                      "pooled together; with layers of unequal width the two differ."),
        "with output": ("a fraction that includes the output layer's entries",
                        "only the hidden layers' pre-activations count."),
        "dead": ("the dead fraction (or the larger of the flat and dead fractions)",
                 "flat and dead are two measures: flat is the share of all hidden (sample, "
                 "unit) entries with |f'(z)| < 0.01, pooled; dead is the mean over the hidden "
                 "layers of the share of units that output 0 on every sample."),
    },
}


class _CheckCodeRan(Exception):
    """Raised by the check's own reference when an answer runs it."""


_TRIPPED: list[str] = []


def _tripwire(*args, **kwargs):
    # Runs in place of a guarded function of the check (its code is swapped in): notes the
    # call even if the answer catches the exception.
    _TRIPPED.append("ran")
    raise _CheckCodeRan("the check's own reference does not count as an answer")


def _run_guarded(call, *guarded):
    """``call()`` while the ``guarded`` functions of the check cannot run: an answer that
    reaches one of them, under any name (an alias, a partial, a lambda), is caught without
    tracing every call (which would slow a network's forward and backward passes)."""
    saved = [(fn, fn.__code__) for fn in guarded]
    _TRIPPED.clear()
    try:
        for fn, _ in saved:
            fn.__code__ = _tripwire.__code__
        try:
            return call(), bool(_TRIPPED)
        except _CheckCodeRan:
            return None, True
    finally:
        for fn, code in saved:
            fn.__code__ = code


@builder("ch06.mlp")
def _build_mlp(sizes, activation, output, init, bias_init, seed, biases=None, held=None,
               columns=None):
    """An MLP; ``biases``, if given, one list per hidden layer: each unit's own bias;
    ``held``, if given, one list per hidden layer of units whose incoming weights are 0 (their
    pre-activation is their bias on every sample, exactly); ``columns``, if given, a list of
    [layer, unit, weights]: that unit's own incoming weights."""
    net = nn.MLP(list(sizes), activation=activation, output=output, init=init,
                 bias_init=bias_init, seed=seed)
    for layer, values in enumerate(biases or ()):
        net.biases[layer][:] = values
    for layer, units in enumerate(held or ()):
        net.weights[layer][:, list(units)] = 0.0
    for layer, unit, weights in columns or ():
        net.weights[layer][:, unit] = weights
    return net


@driver("ch06.flow")
def _drive_flow(answers, net, X, y):
    """``gradient_flow(net, X, y)`` on a copy of the network (its cache may change, since a
    forward pass fills it), noting whether the copy's weights or biases changed."""
    twin, copies = net.copy(), {"X": X.copy(), "y": y.copy()}
    result, check_code = _run_guarded(lambda: answers[0](twin, X, y),
                                      reference_gradient_flow, _variants_gradient_flow)
    if check_code:
        return {"check_code": "reference_gradient_flow"}
    same = len(twin.weights) == len(net.weights) and all(
        np.array_equal(a, b) for a, b in zip(twin.weights + twin.biases,
                                             net.weights + net.biases))
    return {"result": result, "weights_changed": not same,
            "modified": _modified({"X": X, "y": y}, copies)}


def _flow_case(rng, label, activation, init, bias, hidden, dataset, n, *, output="sigmoid",
               classes=2, take=None, biases=None, telling=True, held=None,
               alive_once=False) -> Case:
    seed, data_seed = (int(s) for s in rng.integers(0, 10_000, 2))
    kwargs = {"n": n, "seed": data_seed}
    if dataset == "spirals":
        kwargs.update(n_classes=classes, noise=0.2)
    elif dataset == "blobs":
        kwargs.update(centers=2)
    else:
        kwargs.update(noise=float(rng.uniform(0.05, 0.3)))
    X, y = data.load(dataset, **kwargs)
    load = f"data.load({dataset!r}, {', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    if take is not None:  # the first samples only
        X, y, load = X[:take].copy(), y[:take].copy(), f"{load}, then X[:{take}], y[:{take}]"
    sizes = [2, *hidden, 1 if output == "sigmoid" else classes]
    recipe = {"sizes": sizes, "activation": activation, "output": output, "init": init,
              "bias_init": bias, "seed": seed}
    alone = ""
    if alive_once:
        X, y, recipe["columns"], first, alone = _alive_once(rng, X, y, hidden[0], bias)
        biases = [first]
    if biases is not None:
        recipe["biases"] = [[float(b) for b in layer] for layer in biases]
    if held is not None:
        recipe["held"] = [[int(u) for u in layer] for layer in held]
    if telling and "relu" in ([activation] if isinstance(activation, str) else activation):
        # No layer dead on every sample, which would leave no gradient; with three layers,
        # some dead units in unequal shares (so the ways of averaging differ): else redraw.
        for _ in range(200):
            if _telling(_build_mlp(**recipe), X, y, unequal=len(hidden) > 2):
                break
            recipe["seed"] = seed = int(rng.integers(0, 10_000))
    setup = (f"net = nn.MLP({sizes}, activation={activation!r}, output={output!r}, "
             f"init={init!r}, bias_init={bias:g}, seed={seed})"
             + ("" if biases is None else ", then each hidden unit's bias set to "
                + "; ".join("[" + ", ".join(f"{b:.4g}" for b in layer) + "]"
                            for layer in biases))
             + ("" if held is None else ", the incoming weights of units "
                + "; ".join(str(list(layer)) for layer in held) + " of each hidden layer set to 0")
             + f" and X, y = {load}" + alone)
    return Case(f"{label}: {setup}", (Build("ch06.mlp", recipe), X, y), driver="ch06.flow")


def _alive_once(rng, X, y, width: int, bias: float):
    """Four units of the first hidden layer (ReLU), each alive on one sample alone: the
    first, the last, the middle one (n // 2) and one drawn at an odd place. Each unit's weights
    point in a drawn direction and its bias sits halfway between the two largest projections
    of the batch on it, so z > 0 on the sample of the largest alone; that sample is swapped
    into its place. Returns X and y (rows
    swapped), the units' columns, the first layer's biases, and the words for the label."""
    X, y = X.copy(), y.copy()
    n = X.shape[0]
    units = [int(u) for u in rng.choice(width, 4, replace=False)]
    # (the drawn one at an odd place: rows [::2] miss it, as [1::2] miss the first)
    places = [0, n - 1, n // 2, int(rng.choice(np.setdiff1d(np.arange(1, n - 1, 2), [n // 2])))]
    biases = np.full(width, float(bias))
    columns, swaps, words = [], [], []
    for unit, place in zip(units, places):
        for _ in range(1000):
            angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 2.0)
            w = length * np.array([np.cos(angle), np.sin(angle)])
            p = X @ w
            top, second = np.argsort(p)[::-1][:2]
            # (a gap the rounding of X W + b cannot close; the places set before stay put)
            if top not in places[:len(columns)] and p[top] - p[second] > 1e-3 * length:
                break
        X[[top, place]] = X[[place, top]]
        y[[top, place]] = y[[place, top]]
        swaps.append(f"({int(top)}, {place})")
        # (scaled so the output on that sample is 0.2 to 1: not a tiny one, which a test of
        # "all outputs small" would count dead too)
        scale = float(rng.uniform(0.2, 1.0)) / (float(p[top] - p[second]) / 2)
        biases[unit] = -scale * float(p[top] + p[second]) / 2
        columns.append([0, unit, [float(v) for v in scale * w]])
        words.append(f"unit {unit} alive on sample {place} alone")
    return (X, y, columns, biases, ", then rows " + ", ".join(swaps) + " of X and y swapped "
            "in turn, and in the first hidden layer " + "; ".join(
                f"unit {u}'s incoming weights [{c[2][0]:.6g}, {c[2][1]:.6g}] and bias "
                f"{biases[u]:.6g}" for u, c in zip(units, columns))
            + " (" + ", ".join(words) + ")")


def _unequal_widths(rng, count: int, low: int = 3, high: int = 16) -> list[int]:
    """``count`` hidden widths, not all equal (so per-layer and pooled means differ)."""
    while True:
        widths = [int(w) for w in rng.integers(low, high + 1, count)]
        if count < 2 or len(set(widths)) > 1:
            return widths


def _draw_flow(rng) -> list[Case]:
    def moons_or(other):
        return str(rng.choice(["moons", other]))

    def n_samples():
        return int(rng.integers(24, 65))

    # (the ReLU case: a batch of 50 to 500 samples, four units of its first layer alive on one
    # sample alone, the first, the last, the middle one and one drawn: dead means 0 on every
    # sample)
    relu_widths = _unequal_widths(rng, 3, 6)
    return [
        _flow_case(rng, "ReLU with negative biases (dead units, and units alive on one sample "
                   "alone)", "relu", "he", -float(rng.uniform(0.1, 0.4)), relu_widths,
                   moons_or("circles"), int(round(10 ** rng.uniform(np.log10(50), 2.7))),
                   alive_once=True),
        _flow_case(rng, "tanh with N(0, 1) weights (saturated)", "tanh", "normal", 0.0,
                   _unequal_widths(rng, 3), moons_or("xor"), n_samples()),
        _flow_case(rng, "SiLU with biases of -1 (negative slopes)", "silu", "he", -1.0,
                   _unequal_widths(rng, 3), moons_or("blobs"), n_samples()),
        _flow_case(rng, "leaky ReLU (slope exactly 0.01 on its negative side)", "leaky_relu",
                   "he", 0.0, _unequal_widths(rng, 3), moons_or("circles"), n_samples()),
        _flow_case(rng, "two hidden layers, the second of one unit", "relu", "he",
                   -float(rng.uniform(0.3, 0.6)), [int(rng.integers(5, 10)), 1], "xor",
                   n_samples()),
        # Units whose derivative is 0 on every sample but whose output is not 0 (a step,
        # tanh saturated at 1), and units whose output is tiny but never 0: none is dead.
        _flow_case(rng, "a step layer, then tanh, with biases of +30 (f' = 0 everywhere, yet "
                   "every unit outputs 1: flat, not dead)", ["step", "tanh"], "he", 30.0,
                   _unequal_widths(rng, 2, 3, 10), moons_or("xor"), int(rng.integers(8, 25))),
        # Sigmoid units with tiny outputs, from 3e-4 down to 1e-300, never 0: each layer's
        # units spread over every scale, so a test of "all outputs below some tolerance"
        # counts some as dead, whatever the tolerance.
        _tiny_outputs_case(rng),
        # A narrow layer of mostly dead units beside wide live ones: the mean over the layers
        # of the dead fractions exceeds the pooled flat fraction (a flat taken as
        # max(flat, dead), or dead and flat mixed up, shows).
        _narrow_dead_case(rng),
        _five_layers_case(rng),
    ]


def _five_layers_case(rng) -> Case:
    # (with entries just either side of the flat threshold, within 1e-11: units of each
    # layer but the ReLU one held there, as many on each side)
    names = [str(a) for a in rng.permutation(["relu", "sigmoid", "tanh", "elu", "softplus"])]
    while True:  # (one layer but ReLU's of 5 units or more)
        widths = _unequal_widths(rng, 5, 4, 10)
        if any(w >= 5 for name, w in zip(names, widths) if name != "relu"):
            break
    held, biases = _held_near_threshold(rng, names, widths)
    return _flow_case(rng, "five hidden layers, one activation each, three classes, one sample; "
                      "units of each layer but the ReLU one held where |f'(z)| is just below "
                      "or just above 0.01, as many on each side (their incoming weights 0)",
                      names, "xavier",
                      0.0, widths, "spirals", 30, output="softmax", classes=3, take=1,
                      biases=biases, held=held)


def _tiny_outputs_case(rng) -> Case:
    widths = _unequal_widths(rng, 2, 4, 10)
    # The first layer's units from -8 to -690 (its inputs, X W, move z by a few units); the
    # second's, whose inputs are the first's tiny outputs (z within 0.01 of the bias), on to
    # float64's subnormals: one unit at the smallest float, 5e-324, on every sample (a bias
    # from -744.1 to -745: exp(z) rounds to it, not to 0), one at a drawn place among the
    # subnormals, never 0.
    first = -np.geomspace(8, 690, widths[0]) * np.exp(rng.uniform(-0.02, 0.02, widths[0]))
    second = -np.geomspace(8, 700, widths[1]) * np.exp(rng.uniform(-0.02, 0.02, widths[1]))
    second[-1] = -rng.uniform(744.1, 745.0)
    second[-2] = -rng.uniform(709.0, 743.5)
    biases = [b[rng.permutation(b.size)] for b in (first, second)]
    return _flow_case(rng, "sigmoid units with biases from -8 to -745 (tiny outputs, from 3e-4 "
                      "down to float64's smallest subnormal, 5e-324, never 0: alive)", "sigmoid",
                      "xavier", -8.0, widths, str(rng.choice(["moons", "blobs"])),
                      int(rng.integers(8, 25)), biases=biases)


_THRESHOLD_ACTIVATIONS = ("tanh", "sigmoid", "softplus", "elu", "silu")


_CROSSINGS: dict[str, np.ndarray] = {}


def _crossings(name: str) -> np.ndarray:
    """Where |f'| crosses the flat threshold 0.01 on [-12, 12], to within 0.01 (kept)."""
    if name not in _CROSSINGS:
        grid = np.linspace(-12.0, 12.0, 2401)
        with np.errstate(all="ignore"):
            g = np.abs(activations.get(name).grad(grid)) - diagnostics.SATURATION_THRESHOLD
        _CROSSINGS[name] = grid[np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) <= 0)]
    return _CROSSINGS[name]


_EXACT_CROSSINGS: dict[tuple[str, float], float] = {}


def _exact_crossing(name: str, centre: float) -> float:
    """Where |f'| crosses 0.01 near ``centre`` (one of ``_crossings``), to the last bit
    (kept)."""
    key = (name, float(centre))
    if key not in _EXACT_CROSSINGS:
        act, t = activations.get(name), diagnostics.SATURATION_THRESHOLD
        lo, hi = centre - 0.05, centre + 0.06
        with np.errstate(all="ignore"):
            for _ in range(7):  # zoom in, 256 times closer each time
                points = np.linspace(lo, hi, 257)
                g = np.abs(act.grad(points)) - t
                k = int(np.argmax(np.sign(g[:-1]) * np.sign(g[1:]) <= 0))
                lo, hi = points[k], points[k + 1]
        _EXACT_CROSSINGS[key] = float((lo + hi) / 2)
    return _EXACT_CROSSINGS[key]


def _near_threshold(rng, name: str, below: np.ndarray) -> np.ndarray:
    """Pre-activations z where |f'(z)| is just below (``below``) or above the flat threshold
    0.01, all near one crossing of it, at drawn relative distances from 1e-11 down to 1e-12
    (far within float32's resolution, 6e-8, and beyond the rounding of f', some 1e-14
    relative); one per entry of ``below``."""
    act, t = activations.get(name), diagnostics.SATURATION_THRESHOLD
    distance = 10 ** rng.uniform(-12, -11, below.size)
    target = (t * np.where(below, 1 - distance, 1 + distance))[:, None]
    # (a target 1e-11 off 0.01 moves the crossing by at most 2e-11 for these activations:
    # the zoom starts 1e-7 either side of the exact crossing)
    centre = _exact_crossing(name, float(rng.choice(_crossings(name))))
    lo, hi = np.full(below.size, centre - 1e-7), np.full(below.size, centre + 1e-7)
    rows = np.arange(below.size)
    with np.errstate(all="ignore"):
        for _ in range(5):  # zoom in on each crossing, 128 times closer each time
            points = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, 129)[None, :]
            g = np.abs(act.grad(points)) - target
            k = np.argmax(np.sign(g[:, :-1]) * np.sign(g[:, 1:]) <= 0, axis=1)
            lo, hi = points[rows, k], points[rows, k + 1]
        g_lo = g[rows, k]
    # the end of the last interval on the wanted side: |f'| < target (below) or >= (above)
    use_lo = np.where(below, g_lo < 0, g_lo >= 0)
    return np.where(use_lo, lo, hi)


def _held_near_threshold(rng, names, widths) -> tuple[list, list]:
    """For each hidden layer but ReLU's, c units held (incoming weights 0) at pre-activations
    where |f'| is just below 0.01, the flat threshold, and c just above it, all near one
    crossing, and every unit's bias (0 for the others). A threshold a little off (0.00999,
    <= 0.0100001) counts some of them wrongly. So does z or f' rounded (to float32, to a few
    decimals): the c + c entries of a layer round alike, so the c on one side of the crossing
    are counted wrongly. The c's of the layers add up to an odd number, so the changes of the
    layers (+c or -c each) cannot cancel in the pooled share. Needs a width of 5 or more in
    one such layer."""
    room = {i: (w - 1) // 2 for i, (name, w) in enumerate(zip(names, widths))
            if name in _THRESHOLD_ACTIVATIONS}
    per_side = {i: int(rng.integers(1, most + 1)) for i, most in room.items()}
    if sum(per_side.values()) % 2 == 0:
        i = int(rng.choice([i for i, most in room.items() if most >= 2]))
        per_side[i] += 1 if per_side[i] < room[i] else -1
    held, biases = [], []
    for i, (name, w) in enumerate(zip(names, widths)):
        values = np.zeros(w)
        count = 2 * per_side.get(i, 0)
        units = [int(u) for u in rng.choice(w, count, replace=False)]
        if count:
            values[units] = _near_threshold(rng, name, np.arange(count) % 2 == 0)
        held.append(sorted(units))
        biases.append(values)
    return held, biases


def _narrow_dead_case(rng) -> Case:
    wide = _unequal_widths(rng, 2, 6, 12)
    narrow = int(rng.integers(2, 4))
    dead = rng.permutation(narrow)[:narrow - 1]  # all but one unit: the gradient still flows
    # (the live unit's bias of 3 keeps it live on the batch, |a W| being about 1: the
    # gradient reaches the first layer, so the network needs no redraw)
    last = np.full(narrow, 3.0)
    last[dead] = -30.0
    biases = [np.zeros(wide[0]), np.zeros(wide[1]), last]
    return _flow_case(rng, f"tanh, tanh, then a ReLU layer of {narrow} units, {narrow - 1} of "
                      "them dead (bias -30)", ["tanh", "tanh", "relu"], "he", 0.0,
                      [*wide, narrow], str(rng.choice(["moons", "xor"])),
                      int(rng.integers(16, 33)), biases=biases, telling=False)


def _telling(net, X, y, unequal: bool) -> bool:
    # (the reference's numbers are finite when its ratio is: dead and flat are shares)
    with np.errstate(all="ignore"):
        norms = diagnostics.gradient_norms(net, X, y)
        dead = diagnostics.dead_fraction(net, X)[:-1]
        ratio = norms[0] / norms[-1]
    return bool(np.isfinite(ratio) and np.all(dead < 1)
                and (np.ptp(dead) > 0 if unequal else np.any(dead > 0)))


def _flow_reference(case: Case):
    (net, X, y), _ = case.inputs()
    with np.errstate(all="ignore"):
        return reference_gradient_flow(net, X, y)


def _judge_flow(case: Case, obs, expected) -> None:
    outcome = obs.result if isinstance(obs.result, dict) else {}
    if "check_code" in outcome:
        raise ExerciseError(f"{_W} calls the check's own `reference_gradient_flow`: "
                            f"{CHECK_CODE.why}.",
                            "combine diagnostics.gradient_norms, diagnostics.dead_fraction and "
                            "the activations' .grad yourself, as the task describes.")
    _check_unmodified(outcome, _W)
    if outcome.get("weights_changed") is True:
        raise ExerciseError(f"{_W} changed the network's weights or biases.",
                            "only measure: no training step, no assignment into the weights.")
    got = expect_dict(outcome.get("result"), ["ratio", "dead", "flat"], _W,
                      hint='return {"ratio": ..., "dead": ..., "flat": ...}, three floats.')
    variants = None
    for key, value in expected.items():
        label = f"{_W}(net, X, y)[{key!r}]"
        number = expect_float(got[key], label, finite=False,
                              hint="each entry is one number: float(...) of it.")
        if math.isclose(number, value, rel_tol=1e-6, abs_tol=1e-12):
            continue
        problem = f"{label} is {pair(number, value)[0]}, expected {pair(number, value)[1]}."
        if variants is None:
            (net, X, y), _ = case.inputs()
            with np.errstate(all="ignore"):
                variants = _variants_gradient_flow(net, X, y)
        matches = [m for m, v in variants[key].items()
                   if (math.isclose(number, v, rel_tol=1e-6, abs_tol=1e-12)
                       or (math.isnan(number) and math.isnan(v)))
                   and not math.isclose(v, value, rel_tol=1e-6, abs_tol=1e-12)]
        if "per sample" in matches and "per sample nan" in matches:
            matches.remove("per sample nan")  # (no sample's ratio undefined: the same mean)
        if "per sample" in matches and "per sample pooled" in matches:
            matches.remove("per sample pooled")  # (layers of one width: the same share)
        band = _flat_below_a_threshold(net, number) if key == "flat" else None
        t = diagnostics.SATURATION_THRESHOLD
        if band is not None and not band[0] < t <= band[1] and (
                0.99 * t <= band[1] < t or t < band[0] <= 1.01 * t):
            # (a threshold within 1% of 0.01: said before a variant that happens to agree)
            raise ExerciseError(
                f"{problem} That is the share of entries with |f'(z)| below a threshold "
                f"between {band[0]:.12g} and {band[1]:.12g}, not 0.01: entries just "
                f"{'below' if band[1] < t else 'above'} the flat threshold counted wrongly.",
                "flat means |f'(z)| < 0.01 exactly (diagnostics.SATURATION_THRESHOLD), "
                "tested one entry at a time: no rounding, no other cut-off.")
        # (one sample left out of the dead test: said beside another cause that gives the
        # same number, since the share alone cannot tell them apart)
        left_out = _dead_leaving_out(net, number) if key == "dead" else []
        leave = None
        if left_out:
            n = X.shape[0]

            def sample(s, n=n):
                return f"sample {s}" + (" (the first)" if s == 0 else " (the last)"
                                        if s == n - 1 else "")
            which = (sample(left_out[0]) if len(left_out) == 1 else "one sample")
            other = "" if len(left_out) == 1 else (
                " (" + ", ".join(sample(s) for s in left_out[:4])
                + (", ..." if len(left_out) > 4 else "") + " give that)")
            leave = (f"the share of dead units with {which} of the {n} left out{other}: a "
                     "unit alive on that sample alone counted as dead")
        also = f"; or {leave}" if leave else ""
        if math.isnan(number) and matches == ["per sample"]:
            # (NaN fits more than a mean: a single sample's ratio is 0 / 0 here too)
            raise ExerciseError(
                f"{problem} NaN is a 0 / 0: here some sample alone has gradient norms of 0, so "
                "a ratio taken per sample (averaged over the samples, or of one sample) is "
                "undefined, while the batch's ratio is a number.", _PER_SAMPLE_HINT)
        if len(matches) == 1:
            looks, idea = _FLOW_MISTAKES[key][matches[0]]
            raise ExerciseError(f"{problem} That is {looks}{also}.", idea)
        tolerance = _dead_below_a_tolerance(net, number) if key == "dead" else None
        if tolerance is not None:
            raise ExerciseError(
                f"{problem} That is the share of units whose outputs are all below "
                f"{tolerance:.3g} in size: units whose outputs are tiny but not 0 counted as "
                f"dead{also}.", "a dead unit outputs exactly 0 for every sample "
                "(diagnostics.dead_fraction); a unit whose outputs are tiny, even 1e-300, is "
                "alive (and flat if its slope is small).")
        if leave:
            raise ExerciseError(
                f"{problem} That is {leave}.",
                "a dead unit outputs exactly 0 on every sample of the batch: look at every "
                "row of each hidden layer's outputs (np.all(a == 0, axis=0)), or use "
                "diagnostics.dead_fraction.")
        if band is not None and not band[0] < t <= band[1]:
            raise ExerciseError(
                f"{problem} That is the share of entries with |f'(z)| below a threshold "
                f"between {band[0]:.12g} and {band[1]:.12g}, not 0.01: entries "
                f"{'below' if band[1] < t else 'above'} the flat threshold counted wrongly.",
                "flat means |f'(z)| < 0.01 exactly (diagnostics.SATURATION_THRESHOLD), "
                "tested one entry at a time: no rounding, no other cut-off.")
        raise ExerciseError(problem, "build this network in a cell of its own and print the "
                            "per-layer numbers your function combines; compare each step with "
                            "the task's definition.")


GRADIENT_FLOW = Spec(
    "ch06.gradient_flow", check="ch06.check_gradient_flow", grade_id="ch06-flow-check",
    what=_W, answers=("gradient_flow",), draw=_draw_flow, reference_case=_flow_reference,
    judge=_judge_flow,
    passed="`gradient_flow` reports the gradient ratio and the dead and flat fractions "
           "correctly on every network tried (ReLU, tanh, SiLU, leaky ReLU, a step layer, "
           "saturated tanh, sigmoid with outputs down to the smallest float, entries just "
           "either side of the flat threshold, a narrow layer of dead units, units alive on one "
           "sample alone, one activation per layer; layers of unequal widths, a layer of one "
           "unit, a batch of one sample).")


@exercise_check
def check_gradient_flow(gradient_flow, *, seed: int | None = None) -> None:
    """Your report: first/last gradient-norm ratio, dead and flat fractions of hidden layers."""
    GRADIENT_FLOW.check(gradient_flow, seed=seed)


# --------------------------------------------------------------------------------------
# Part 7: the comparison table
# --------------------------------------------------------------------------------------

_T = "`comparison_table`"


def _plain_argument(value):
    """An argument of a call to train, as plain data for the call log."""
    if isinstance(value, str):
        return value[:40]
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return f"<{type(value).__name__}: {str(value)[:30]}>"


def _diverges(diverged, name, dataset, seed) -> bool | int:
    """Whether the run diverges: False, the number of NaN epochs at its end (an entry of four,
    [name, dataset, seed, tail]) or True (an entry of three: from the middle of the run on)."""
    key = [_plain_argument(name), _plain_argument(dataset), _plain_argument(seed)]
    for d in diverged:
        if list(d)[:3] == key:
            return int(d[3]) if len(d) > 3 else True
    return False


def _fake_run(salt: int, epochs: int, name, dataset, seed,
              diverged: bool | int = False) -> dict[str, np.ndarray]:
    """The accuracies and losses of one fake run: distinct for every (name, dataset, seed),
    with the best validation epoch before the last, so each wrong epoch shows. A diverged run
    stops as nn.fit stops: its loss is inf at the epoch it diverged, and every later row NaN
    (its last epoch's accuracy among them)."""
    key = f"{salt}|{_plain_argument(name)!r}|{_plain_argument(dataset)!r}|" \
          f"{_plain_argument(seed)!r}"
    # 2 epochs + 4 numbers in [0, 1) from the key's hash (the same in every process).
    u = np.frombuffer(hashlib.shake_256(key.encode()).digest(8 * (2 * epochs + 4)),
                      dtype="<u8") * 2.0**-64
    val = np.concatenate([[0.3 + 0.25 * u[0]], 0.6 + 0.35 * u[1:epochs + 1]])
    # The best epoch lies between the first and the one before the last (epochs >= 4).
    val[1 + int(u[epochs + 1] * (epochs - 2))] = val[1:].max() + 0.005 + 0.025 * u[epochs + 2]
    accuracy = np.minimum(val + 0.01 + 0.05 * u[epochs + 3:], 1.0)
    run = {"val_accuracy": val, "accuracy": accuracy,
           "loss": -np.log(np.clip(accuracy - 0.02, 0.05, None)),
           "val_loss": -np.log(np.clip(val - 0.03, 0.05, None))}
    if diverged:  # at an epoch from the middle of the run on, after its best one
        at = max(int(np.argmax(val)) + 1, epochs // 2 + int(u[0] * 1e6) % max(1, epochs // 3))
        at = min(at, epochs - 1)
        if diverged is not True:  # or with the given number of NaN rows at its end
            at = min(max(val.size - 1 - int(diverged), 0), val.size - 2)
        for values in run.values():
            values[at + 1:] = np.nan
        run["loss"][at] = run["val_loss"][at] = np.inf
    return run


@builder("ch06.fake_train")
def _build_fake_train(salt: int, epochs: int, diverged=()):
    """A stand-in for the notebook's ``train(name, dataset, seed)``: it returns a real
    ``nn.History`` (every attribute and method of one) filled with drawn numbers, and logs
    its calls in ``train.calls``."""
    def train(name, dataset, seed):
        """One fake training run: the History of a drawn run, at once."""
        train.calls.append([_plain_argument(name), _plain_argument(dataset),
                            _plain_argument(seed)])
        run = _fake_run(salt, epochs, name, dataset, seed,
                        _diverges(diverged, name, dataset, seed))
        label = name if isinstance(name, str) else "?"
        history = nn.History(epochs, [f"hidden 1 ({label})", f"hidden 2 ({label})",
                                      "output (sigmoid)"], np.array([], dtype=int))
        for key, values in run.items():
            getattr(history, key)[:] = values
        history.diagnostics = False
        stop = np.flatnonzero(np.isinf(run["loss"]))
        history.diverged_at = int(stop[0]) if stop.size else None
        return history
    train.calls = []
    return train


@driver("ch06.table")
def _drive_table(answers, train, names, datasets, seeds):
    """``comparison_table(train, names, datasets, seeds)``, and the calls it made to train."""
    inputs = {"names": names, "datasets": datasets, "seeds": seeds}
    copies = copy.deepcopy(inputs)
    result = answers[0](train, names, datasets, seeds)
    return {"table": result, "calls": list(train.calls), "modified": _modified(inputs, copies)}


def _choose(rng, pool, count: int, *, numbers=False) -> list:
    """``count`` distinct items of ``pool`` in an order that is neither sorted nor 0, 1, 2..."""
    while True:
        items = [pool[int(i)] for i in rng.choice(len(pool), count, replace=False)]
        items = [int(v) for v in items] if numbers else [str(v) for v in items]
        if count < 2 or (items != sorted(items) and items != list(range(count))):
            return items


_NAME_POOL = ["relu", "tanh", "mine", "sigmoid", "elu", "gelu", "silu", "mish", "softsign",
              "leaky_relu", "sine"]
_DATASET_POOL = ["moons", "spirals", "circles", "xor", "blobs"]


def _draw_comparison(rng) -> list[Case]:
    salt, epochs = int(rng.integers(0, 2**31)), int(rng.integers(4, 9))
    train = Build("ch06.fake_train", {"salt": salt, "epochs": epochs})
    seeds_pool = list(range(60))
    shapes = [(3, 2, 3, "three activations, two datasets, three seeds"),
              (1, 1, 1, "one activation, one dataset, one seed"),
              (2, 1, 4, "two activations, one dataset, four seeds"),
              (4, 2, 2, "four activations, two datasets, two seeds")]
    cases = []
    for n_names, n_datasets, n_seeds, label in shapes:
        names = _choose(rng, _NAME_POOL, n_names)
        datasets = _choose(rng, _DATASET_POOL, n_datasets)
        seeds = _choose(rng, seeds_pool, n_seeds, numbers=True)
        if n_seeds == 4:
            # A seed given twice, at drawn places: it gets an entry at each (a table that
            # drops the repeat, dict.fromkeys(seeds) say, has an entry too few).
            seeds = _choose(rng, seeds_pool, 3, numbers=True)
            seeds.insert(int(rng.integers(0, 4)), seeds[int(rng.integers(0, 3))])
            label = "two activations, one dataset, four seeds, one of them given twice"
        cases.append(Case(f"{label}: names={names}, datasets={datasets}, seeds={seeds} "
                          f"({epochs} epochs a run)", (train, names, datasets, seeds),
                          driver="ch06.table"))
    # Long runs (over 100 epochs), one of which diverges: its last epoch's accuracy is NaN.
    long = int(rng.integers(101, 161))
    names, datasets = _choose(rng, _NAME_POOL, 2), _choose(rng, _DATASET_POOL, 1)
    seeds = _choose(rng, seeds_pool, 3, numbers=True)
    # Two runs diverge, at drawn places: one in its last epoch (NaN there only: a table that
    # falls back on an earlier epoch shows, however few back), one with a drawn NaN tail.
    picks = rng.choice(6, 2, replace=False)
    tails = [1, int(round(math.exp(rng.uniform(math.log(2), math.log(long - 2)))))]
    bad = [[names[int(p) // 3], datasets[0], seeds[int(p) % 3], tail]
           for p, tail in zip(picks, tails)]
    cases.append(Case(f"two activations, one dataset, three seeds: names={names}, "
                      f"datasets={datasets}, seeds={seeds} ({long} epochs a run; the runs "
                      + " and ".join(f"train{tuple(b[:3])}" for b in bad) + " diverge: their "
                      f"Histories are NaN in the last epoch only, and in the last {tails[1]} "
                      "epochs)",
                      (Build("ch06.fake_train", {"salt": (salt + 7) % 2**31, "epochs": long,
                                                 "diverged": bad}), names, datasets, seeds),
                      driver="ch06.table"))
    # The first combinations again with another train (other runs, so other numbers): a
    # table remembered from an earlier call, keyed by (name, dataset, seed), shows.
    other = Build("ch06.fake_train", {"salt": (salt + 1 + int(rng.integers(0, 2**20))) % 2**31,
                                      "epochs": epochs})
    first = cases[0].args
    cases.append(Case(f"the first case's names, datasets and seeds again, with another train "
                      f"(other runs, other accuracies): names={first[1]}, datasets={first[2]}, "
                      f"seeds={first[3]}", (other, list(first[1]), list(first[2]),
                                            list(first[3])), driver="ch06.table"))
    return cases


def _judge_comparison(case: Case, obs, expected) -> None:
    train, names, datasets, seeds = case.args
    salt, epochs = train.params["salt"], train.params["epochs"]
    diverged = train.params.get("diverged", ())
    args = f"names={names}, datasets={datasets}, seeds={seeds}"
    outcome = obs.result if isinstance(obs.result, dict) else {}
    _check_unmodified(outcome, _T)
    got, calls = outcome.get("table"), outcome.get("calls")

    runs: dict[tuple, dict] = {}

    def run(n, ds, s):
        if (n, ds, s) not in runs:
            runs[n, ds, s] = _fake_run(salt, epochs, n, ds, s, _diverges(diverged, n, ds, s))
        return runs[n, ds, s]

    if not isinstance(got, dict):
        raise ExerciseError(f"{_T} returned {describe(got)}, expected a dict.",
                            "return {dataset: {activation: [accuracy for each seed]}}.")
    wanted = [[n, ds, s] for ds in datasets for n in names for s in seeds]
    calls = calls if isinstance(calls, list) else []
    key = repr
    # (a seed given twice: one run per entry, or one per distinct combination, used for both)
    once = len(calls) == len({key(c) for c in calls}) and {key(c) for c in calls} == {
        key(c) for c in wanted}
    if sorted(map(key, calls)) != sorted(map(key, wanted)) and not once:
        missing = [c for c in wanted if c not in calls]
        extra = [c for c in calls if c not in wanted]
        repeated = len(calls) - len({key(c) for c in calls})
        parts = []
        if missing:
            parts.append(f"never called train{tuple(missing[0])} ({len(missing)} combinations "
                         "missing)")
        if extra:
            parts.append(f"called train{tuple(extra[0])}, which is not one of the combinations")
        if repeated and not missing and not extra:
            parts.append(f"called train {len(calls)} times for {len(wanted)} combinations "
                         f"({repeated} repeated)")
        raise ExerciseError(
            f"with {args}, {_T} {'; '.join(parts)}. train(name, dataset, seed) must run once "
            f"for each of the {len(wanted)} combinations.",
            "every (dataset, activation, seed) gets exactly one run, and each History is used "
            "for its own entry.")
    if list(got) != datasets:
        raise ExerciseError(f"with {args}, {_T}'s outer keys are {list(got)}, expected the "
                            f"datasets {datasets}, in that order.",
                            "the outer dict maps each dataset to a row, in the order given.")
    for ds in datasets:
        row = got[ds]
        if not isinstance(row, dict) or list(row) != names:
            keys = list(row) if isinstance(row, dict) else describe(row)
            raise ExerciseError(f"with {args}, {_T}[{ds!r}] has keys {keys}, expected the "
                                f"activations {names}, in that order.",
                                "the inner dict maps each activation to a list, in the order "
                                "given.")
        for n in names:
            _judge_table_entry(row[n], [run(n, ds, s) for s in seeds],
                               f"with {args}, {_T}[{ds!r}][{n!r}]")


def _judge_table_entry(values, runs, what: str) -> None:
    """One entry: a list (or 1-D array) of the final validation accuracy of each seed's run."""
    right = np.array([r["val_accuracy"][-1] for r in runs])
    hint = "one entry per seed, in the order of `seeds`: the last epoch's validation accuracy."
    if isinstance(values, np.ndarray):
        if values.ndim != 1 or values.dtype.kind not in "iuf":
            raise ExerciseError(f"{what} is {describe(values)}, expected a list of "
                                f"{right.size} numbers.", hint)
        items = list(values)
    elif isinstance(values, (list, tuple)):
        items = list(values)
    else:
        raise ExerciseError(f"{what} is {describe(values)}, expected a list of {right.size} "
                            "numbers, one per seed.", hint)
    if len(items) != right.size:
        raise ExerciseError(f"{what} has {len(items)} entries, expected {right.size} (one per "
                            "seed).", hint + (" A seed given twice gets an entry at each "
                                              "place." if len(items) < right.size else ""))
    got = np.array([expect_float(v, f"an entry of {what}", finite=False,
                                 hint="each entry is one number: float(...) of the accuracy.")
                    for v in items])
    if np.allclose(got, right, rtol=1e-9, atol=0, equal_nan=True):
        return
    with np.errstate(all="ignore"):
        last_number = [r["val_accuracy"][np.isfinite(r["val_accuracy"])][-1] for r in runs]
        epoch_100 = [r["val_accuracy"][min(100, r["val_accuracy"].size - 1)] for r in runs]
    known = {
        "that is the last accuracy that is not NaN: a run that diverged stops, and its "
        "History is NaN from then on. Its last epoch's accuracy is NaN: report it as it "
        "is, so the table shows the run failed.": last_number,
        "those are the accuracies after epoch 100: the runs here are longer, and the table "
        "reports the last epoch's, val_accuracy[-1].": epoch_100,
        "that is the training accuracy: the table reports validation accuracy.":
            [r["accuracy"][-1] for r in runs],
        "that is the best epoch's accuracy, chosen by looking at the validation set: report "
        "the last epoch's.": [r["val_accuracy"].max() for r in runs],
        "those are the validation accuracies one epoch before the last: the table reports the "
        "last epoch's.": [r["val_accuracy"][-2] for r in runs],
        "those are the accuracies before any training (epoch 0): the table reports the last "
        "epoch's.": [r["val_accuracy"][0] for r in runs],
        "those are the accuracies rounded to float32 (7 digits): keep each as a Python float "
        "or float64, float(...) of it.": [np.float32(r["val_accuracy"][-1]) for r in runs],
    }
    for idea, wrong in known.items():
        if np.allclose(got, wrong, rtol=1e-9, atol=0, equal_nan=True) and not np.allclose(
                wrong, right, rtol=1e-9, atol=0, equal_nan=True):
            hint = idea
            break
    else:
        if got.size > 1 and np.allclose(np.sort(got), np.sort(right), rtol=1e-9, atol=0,
                                        equal_nan=True):
            hint = "the right numbers in another order: one entry per seed, in the order of " \
                   "`seeds`."
        elif np.any(np.isnan(right) & np.isfinite(got)):
            hint = ("a number where the run's last epoch is NaN: that run diverged (its "
                    "History is NaN from then on, however few epochs before the end). Report "
                    "val_accuracy[-1] as it is, NaN, so the table shows the run failed; a "
                    "value from an earlier epoch hides it.")
    with np.errstate(invalid="ignore"):
        gap = np.where(np.isnan(got) & np.isnan(right), 0.0, np.abs(got - right))
    i = int(np.argmax(np.nan_to_num(gap, nan=np.inf)))
    raise ExerciseError(f"{what} differs from the answer at seed index {i}: got "
                        f"{pair(got[i], right[i])[0]}, expected {pair(got[i], right[i])[1]}.",
                        hint)


def _explain_table_error(case: Case, obs) -> str | None:
    if "train() got an unexpected keyword" in obs.error or "train() takes" in obs.error:
        return ("call train(name, dataset, seed) with these three arguments and nothing else: "
                "the check passes a stand-in train that takes only them (the notebook's train "
                "keeps its own number of epochs).")
    return None


COMPARISON = Spec(
    "ch06.comparison_table", check="ch06.check_comparison_table", grade_id="ch06-table-check",
    what=_T, answers=("comparison_table",), draw=_draw_comparison,
    reference_case=lambda case: None, judge=_judge_comparison,
    explain_error=_explain_table_error,
    passed="`comparison_table` builds {dataset: {activation: [accuracy per seed]}} with one "
           "training run per combination, the keys in the order given and the last epoch's "
           "validation accuracy of each run (NaN for a run that diverged), for runs short and "
           "long.")


@exercise_check
def check_comparison_table(comparison_table, *, seed: int | None = None) -> None:
    """Your table: {dataset: {activation: [final validation accuracy per seed]}}."""
    COMPARISON.check(comparison_table, seed=seed)
