"""Checks for chapter 06, the capstone: design your own activation.

One spec per exercise (``_spec``): the cases are drawn afresh at every check, edge cases
first; the student's functions run on all of them, and only then are the results judged,
with a message that says what differs on which case.

The student's activation is their own design, so Parts 1-3 and 5 do not compare it with a
fixed answer: they test what every good activation must satisfy (vectorised, elementwise,
nonlinear, a derivative that agrees with finite differences of the student's *own* forward
pass, a truthful output range, stability for inputs up to 1e4 in float32 and float64). The
judge combines what the student's functions returned at the points the check chose (f at
x, x +- h and x +- 2h, f' at x), so it never calls them itself: under autograding it runs in
another process. The tools the student writes (a gradient checker, a gradient-flow report, a
comparison table) are compared with a reference, on functions, networks and fake training
runs built from recipes drawn at each check.
"""

from __future__ import annotations

import copy
import hashlib
import math
import sys
import warnings

import numpy as np

from .. import activations, data, diagnostics, nn
from ._contract import expect_dict, expect_float, expect_ndarray, pair
from ._core import ExerciseError, _same, exercise_check
from ._plain import Build, describe
from ._spec import Case, Spec, builder, driver
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

# The check's own references, and the helpers that compute what a mistake returns: an answer
# that runs them has not written the tool itself (caught by what runs, under any name).
CHECK_CODE = Forbidden(("helpers.exercises.ch06:reference_*", "helpers.exercises.ch06:_variants_*"),
                       why="the task asks you to write it yourself, and the check's own reference "
                           "does not count")

_ELEMENTWISE_HINT = ("an activation works elementwise: use numpy operations on the whole array "
                     "(np.exp, np.tanh, np.where, ...) and never reduce over an axis.")
_LOOP_HINT = ("write the formula with numpy operations on the whole array (np.exp, np.tanh, "
              "np.where, ...), so numpy does the looping in C.")


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
    ]
    for dtype in (np.float64, np.float32):
        shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)), int(rng.integers(2, 5)))
        pick = rng.choice(grid, size=shape)
        cases.append(Case(f"random points of the grid, shape {shape} ({np.dtype(dtype).name})",
                          (pick.astype(dtype),)))
    return cases + _work_pair(lambda shape: rng.uniform(-6, 6, shape))


def _judge_forward(case: Case, obs, expected) -> None:
    x = case.args[0]
    values = _elementwise(obs.result, x, _F)
    bad = ~np.isfinite(values)
    if bad.any():
        index = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
        raise ExerciseError(f"{_F} returned {values[index]} at x = {float(x[index]):g}.",
                            "an activation must be finite for every finite input.")


def _judge_forward_all(cases, observations, expected) -> None:
    roles = _roles(cases, observations)
    grid = roles["grid"][0].args[0]
    y64 = _elementwise(roles["grid"][1].result, grid, _F)
    y32 = _elementwise(roles["grid32"][1].result, grid.astype(np.float32), _F)
    # Elementwise: the value at an entry depends on that entry only, so every other case
    # gives the values of the grid case at the same points (float32 ones those of float32).
    for case, obs in zip(cases, observations):
        if case.work is not None or case.note.get("role") in ("grid", "grid32"):
            continue
        x = case.args[0]
        if x.size == 0:
            continue
        got = _elementwise(obs.result, x, _F)
        float32 = x.dtype == np.float32
        want = _lookup(grid, y32 if float32 else y64, x)
        index = _first_off(got, want, rtol=1e-5 if float32 else 1e-9,
                           atol=1e-5 if float32 else 1e-12)
        if index is None:
            continue
        at = float(np.asarray(x)[index])
        if case.note.get("role") == "ints":
            raise ExerciseError(
                f"{_F} gives {got[index]:.6g} at x = {at:g} for an integer (int64) input, but "
                f"{want[index]:.6g} for x = {at:g} as a float: an integer array must give the "
                "values of the same numbers as floats.",
                "a result cast back to the input's dtype (.astype(x.dtype)) cuts the fractions "
                "off when x holds integers: let numpy choose the dtype of the result.")
        raise ExerciseError(
            f"{_F} on {case.label} gives {got[index]:.6g} at x = {at:g}, but {want[index]:.6g} "
            f"for the same x in the {grid.size}-point batch of case 1"
            f"{' (float32)' if float32 else ''}: the value at an entry depends on the other "
            "entries.",
            "an activation is applied to each number on its own: no sum, mean, std or max "
            "over the array.")
    index = _first_off(y32, y64, rtol=1e-3, atol=1e-5)
    if index is not None:
        raise ExerciseError(
            f"{_F} gives {y32[index]:.6g} in float32 but {y64[index]:.6g} in float64 at x = "
            f"{grid[index]:g}.",
            "float32 keeps only about 7 digits: a subtraction of two nearly equal numbers, or a "
            "step smaller than the spacing of float32 numbers, loses them all.")
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
        label, gap = match
        raise ExerciseError(
            f"{_F} equals the built-in {label} on [-6, 6] (largest difference {gap:.2g}).",
            "the registry already has it: design a new activation (or a published one the "
            "registry does not have yet).")


def _matching_builtin(x, out):
    """(label, max difference) of a built-in activation that ``out`` reproduces on ``x``, or None.

    Parametrised built-ins are matched with the parameter read off the curve: a leaky ReLU
    with slope 0.2 is still the registry's leaky_relu. x = 0 is left out, where a kink or
    a step may take any value.
    """
    keep = x != 0
    xs, ys = x[keep], out[keep]
    candidates = [activations.get(name) for name in activations.builtin_names()
                  if name != "identity"]  # affine: rejected before, as a straight line
    minus_one = float(out[np.argmin(np.abs(x + 1))])
    for name, alpha in (("leaky_relu", -minus_one), ("elu", minus_one / np.expm1(-1.0))):
        if np.isfinite(alpha) and alpha != activations.get(name).params["alpha"]:
            try:
                candidates.append(activations.get(name, alpha=float(alpha)))
            except (ValueError, TypeError):
                pass
    for act in candidates:
        ref = act(xs)
        # 1e-3 of the curve's size: close enough to be the same function written another
        # way (GELU's erf form and its tanh approximation differ by 5e-4), far below the
        # 0.1 that separates genuinely different designs such as Mish and SiLU.
        gap = float(np.max(np.abs(ys - ref)))
        if gap <= 1e-3 * (1 + float(np.max(np.abs(ref)))):
            return act.label, gap
    # "With any parameter" includes a scale or shift of the input or the output:
    # x sigmoid(2x) is SiLU(2x)/2, 1.7159 tanh(2x/3) is a scaled tanh.
    tol = 1e-3 * (1 + float(np.max(np.abs(ys))))
    for act in candidates:
        gap, a, b, c, d = _transformed_fit(act, xs, ys, tol)
        if gap <= tol:
            return (f"{act.label} up to a scale and shift, a·f(b·x + c) + d with "
                    f"a = {a:.4g}, b = {b:.4g}, c = {c:.3g}, d = {d:.3g}"), gap
    return None


def _affine_fit(g, y):
    """Per row of ``g``: the least-squares a, d of y ~ a g + d and the largest residual."""
    centred = g - g.mean(axis=1, keepdims=True)
    var = np.sum(centred * centred, axis=1)
    a = np.where(var > 0, centred @ (y - y.mean()) / np.where(var > 0, var, 1.0), 0.0)
    d = y.mean() - a * g.mean(axis=1)
    residual = np.max(np.abs(a[:, None] * g + d[:, None] - y), axis=1)
    return np.where(np.isfinite(residual), residual, np.inf), a, d


def _transformed_fit(act, x, y, tol: float = 0.0):
    """The best a f(b x + c) + d for ``act``: (largest residual, a, b, c, d).

    A coarse grid over b (both signs, 0.2 to 5) and c, then a shrinking local grid; a and d
    are solved exactly for each (b, c). One call of ``act`` per grid, on a 2-D array. The
    refinement stops early once the fit is within ``tol`` or clearly cannot get there.
    """
    bs = np.concatenate([-np.logspace(-0.7, 0.7, 15), np.logspace(-0.7, 0.7, 15)])
    B, C = (v.ravel() for v in np.meshgrid(bs, np.linspace(-1.5, 1.5, 21), indexing="ij"))
    best, history = None, []
    for k in range(16):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            g = np.asarray(act(B[:, None] * x + C[:, None]), dtype=float)
        residual, a, d = _affine_fit(g, y)
        i = int(np.argmin(residual))
        if best is None or residual[i] < best[0]:
            best = (float(residual[i]), float(a[i]), float(B[i]), float(C[i]), float(d[i]))
        history.append(best[0])
        # A match keeps halving its residual as the grid shrinks; a different function stalls.
        if best[0] <= tol or (k >= 4 and best[0] > 2 * tol and best[0] > 0.9 * history[k - 2]):
            break
        step_b, step_c = 0.08 * abs(best[2]) / 2**k, 0.08 / 2**k  # the grid shrinks by half
        B, C = (v.ravel() for v in np.meshgrid(best[2] + step_b * np.linspace(-1, 1, 7),
                                               best[3] + step_c * np.linspace(-1, 1, 7),
                                               indexing="ij"))
    return best


FORWARD = Spec(
    "ch06.my_activation", check="ch06.check_forward", grade_id="ch06-forward-check",
    what=_F, answers=("my_activation",), draw=_draw_forward,
    reference_case=lambda case: None, judge=_judge_forward, judge_all=_judge_forward_all,
    vectorised=True, loop_hint=_LOOP_HINT,
    passed="`my_activation` is vectorised, elementwise, finite and nonlinear, keeps float32 "
           "and float64, gives an integer array the values of the same numbers as floats, and "
           "is not a built-in.")


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


def _shift(t, x) -> float | None:
    """How far ``t`` lies from ``x`` relative to max(1, |x|), when it is a tiny step away."""
    try:
        t = np.asarray(t)
        if t.shape != x.shape or t.dtype.kind not in "fc" or np.array_equal(t, x):
            return None
        with np.errstate(all="ignore"):
            gap = np.abs(t - x) / np.maximum(1.0, np.abs(x))
        worst = float(np.max(gap))
        return worst if np.all(np.isfinite(gap)) and 0 < worst < 1e-2 else None
    except Exception:  # anything odd the student passed: not a finite-difference step
        return None


@driver("ch06.derivative_watched")
def _derivative_watched(answers, x):
    """``my_derivative(x)``, recording whether it ran ``my_activation`` a tiny step away from
    x: the code of the student's forward function is watched, whatever name calls it (an
    alias, a closure, a lambda, a partial, a helper)."""
    forward, derivative = answers
    x_copy = x.copy()
    code = getattr(forward, "__code__", None)
    if code is None or code.co_argcount < 1:
        d = derivative(x)
        return {"d": d, "shift": None, "modified": _modified({"x": x}, {"x": x_copy})}
    argument = code.co_varnames[0]
    shifts: list[float] = []
    previous = sys.getprofile()

    def watch(frame, event, arg):
        if event == "call" and frame.f_code is code:
            found = _shift(frame.f_locals.get(argument), x)
            if found is not None:
                shifts.append(found)
        if previous is not None:
            previous(frame, event, arg)

    sys.setprofile(watch)
    try:
        d = derivative(x)
    finally:
        sys.setprofile(previous)
    return {"d": d, "shift": max(shifts) if shifts else None,
            "modified": _modified({"x": x}, {"x": x_copy})}


def _draw_derivative(rng) -> list[Case]:
    grid = np.concatenate([np.linspace(-5, 5, 41), rng.uniform(-5, 5, 16)])
    near = np.concatenate([[-1e-6, 1e-6, -1e-3, 1e-3],
                           rng.choice([-1, 1], 2) * rng.uniform(1e-7, 1e-5, 2)])
    large = np.concatenate([[-100, -50, -20, -10, 10, 20, 50, 100],
                            rng.choice([-1, 1], 4) * rng.uniform(5, 100, 4)])
    x = _float32_points(np.concatenate([grid, near, large]))
    n, h = x.size, _step(x)
    after = x.copy()
    for _ in range(4):  # four floating-point numbers further: a formula hardly changes there
        after = np.nextafter(after, np.inf)
    probe = x[np.abs(x) >= 0.1]
    shape = (int(rng.integers(2, 5)), int(rng.integers(3, 6)))
    block = rng.choice(x, size=shape)
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
        Case(f"x: {n} points (a grid on [-5, 5], points within 1e-6 of 0, |x| up to 100), "
             "float64", (x,), driver="ch06.derivative_watched", note={"role": "d"}),
        Case("the same points, each moved four floating-point numbers up", (after,), answer=1,
             note={"role": "d_after"}),
        Case(f"the {probe.size} points with |x| >= 0.1 in float32", (probe.astype(np.float32),),
             answer=1, note={"role": "d32"}),
        Case(f"some of the points as a 2-D batch of shape {shape}", (block,), answer=1,
             note={"role": "same"}),
        Case(f"one point as a 0-d array, np.array({one:g})", (np.array(one),), answer=1,
             note={"role": "same"}),
        Case("the integers -5 to 5 as an int64 array", (rng.permutation(np.arange(-5, 6)),),
             answer=1, note={"role": "same"}),
        Case("an empty float32 array of shape (0,)", (np.zeros(0, dtype=np.float32),),
             answer=1),
    ]
    work = _work_pair(lambda shape: rng.uniform(-5, 5, shape))
    for c in work:
        c.answer = 1
    return cases + work


def _judge_derivative(case: Case, obs, expected) -> None:
    role = case.note.get("role", "")
    x = case.args[0]
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
        result = result.get("d") if isinstance(result, dict) else None
    _elementwise(result, x, _D)


def _result_of(case: Case, obs) -> np.ndarray:
    result = obs.result
    if case.note.get("role") == "d":
        result = result["d"]
    what = _F if case.note.get("role", "").startswith("f") else _D
    return _elementwise(result, case.args[0], what)


_FD_HINT = ("differentiate the formula with the product and chain rules and write the resulting "
            "expression; a difference quotient (of `my_activation` or of a copy of it) is not "
            "an answer here.")


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
    # 1. A finite difference inside the derivative, seen three ways: by what it runs, by its
    #    rounding noise, by what float32 does to it.
    shift = roles["d"][1].result.get("shift")
    if shift is not None:
        raise ExerciseError(
            f"{_D} computes a finite difference: it calls `my_activation` at points a tiny step "
            f"away from x (up to {float(shift):.2g} relative), instead of using the derivative "
            "worked out by hand; the check would then only compare finite differences with "
            "themselves.", _FD_HINT)
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
    with np.errstate(all="ignore"):
        gap = np.where(np.isfinite(d32) & np.isfinite(d64),
                       np.abs(d32 - d64) / np.maximum(1.0, np.abs(d64)), 0.0)
    if gap.size and float(np.max(gap)) > 1e-3:
        i = int(np.argmax(gap))
        raise ExerciseError(
            f"{_D} on float32 input gives values that differ from its own float64 values by "
            f"{gap[i]:.2g} (relative) at x = {float(probe[i]):g}: {d32[i]:.6g} in float32, "
            f"{d64[i]:.6g} in float64. A derivative written as a formula agrees to about 1e-6.",
            "a difference quotient of f loses its digits to rounding in float32, and so does a "
            "subtraction of two nearly equal numbers; the task asks for the derivative worked "
            "out by hand with the product and chain rules.")
    # 2. The values: central differences with h and 2h, combined (Richardson), are accurate
    #    to about 1e-10 where f is smooth; at a kink (the one-sided slopes differ) any value
    #    between the left and right slopes is a valid subgradient.
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
    band = 1e-5 * scale
    with np.errstate(invalid="ignore"):
        close = np.abs(d - richardson) <= 1e-8 * np.maximum(1.0, np.abs(richardson)) + rounding
        between = kink & (d >= np.minimum(left, right) - band) & (d <= np.maximum(left, right)
                                                                  + band)
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
                   f"differences give {pair(d[i], shown[i])[1]}.")
        hint = None
        with np.errstate(invalid="ignore"):
            loose = np.abs(d - d1) <= band
        if np.sum(kink) >= max(5, n // 5):
            hint = (f"your `my_activation` itself is not smooth at the scale of h = 1e-5 at "
                    f"{int(np.sum(kink))} of the {n} points (its slopes over h and over 2h "
                    "differ): is it computed in a lower precision (float32, float16) and cast "
                    "back? The finite differences of such a function are rounding noise.")
        elif np.all(loose[bad]) and not np.any(kink[bad]):
            digits = -math.log10(max(float(np.max(np.abs(d - richardson)[bad] / scale[bad])),
                                     1e-16))
            hint = (f"your derivative agrees with finite differences to about {digits:.0f} "
                    "digits only, float32's precision: is it computed in float32 (an "
                    ".astype(np.float32), a float32 constant) and cast back? For float64 input "
                    "keep float64 throughout.")
        else:
            significant = ~kink & (np.abs(richardson) > 1e-3)
            wrong = bad & significant
            if np.sum(wrong) >= 3:
                ratio = d[wrong] / richardson[wrong]
                k = float(np.median(ratio))
                if np.allclose(ratio, k, rtol=1e-3) and k != 0:
                    where = _describe_points(x, wrong, significant)
                    if math.isclose(k, -1, rel_tol=1e-3):
                        hint = f"the sign is flipped {where}: check each term's sign there."
                    else:
                        hint = (f"your derivative is {k:.3g} times the finite differences "
                                f"{where}: a constant factor is off there (a chain-rule factor, "
                                "or a 2 or 1/2).")
        raise ExerciseError(problem, hint or (
            "differentiate term by term with the product and chain rules, and compare each term "
            "at this x with (f(x + h) - f(x - h)) / (2h), h = 1e-5."))
    # 3. The same derivative on other shapes and dtypes: its values at the same points.
    for case, obs in zip(cases, observations):
        if case.note.get("role") != "same":
            continue
        got = _result_of(case, obs)
        want = _lookup(x, d, case.args[0])
        index = _first_off(got, want, rtol=1e-9, atol=1e-12)
        if index is not None:
            at = float(np.asarray(case.args[0])[index])
            raise ExerciseError(
                f"{_D} on {case.label} gives {got[index]:.6g} at x = {at:g}, but "
                f"{want[index]:.6g} at the same x among the {n} points of the main case.",
                "a derivative works elementwise and gives an integer array the values of the "
                "same numbers as floats: no reduction over the array, no cast back to the "
                "input's dtype.")


DERIVATIVE = Spec(
    "ch06.my_derivative", check="ch06.check_derivative", grade_id="ch06-derivative-check",
    what=_D, answers=("my_activation", "my_derivative"), draw=_draw_derivative,
    reference_case=lambda case: None, judge=_judge_derivative, judge_all=_judge_derivative_all,
    forbidden=Forbidden(("numpy*:gradient", "numpy*:diff", "numpy*:ediff1d"),
                        why="they compute finite differences, and the task asks for the "
                            "derivative worked out by hand"),
    vectorised=True, loop_hint=_LOOP_HINT,
    passed="`my_derivative` matches central finite differences of your `my_activation` on a "
           "grid on [-5, 5], within 1e-6 of 0 and out to |x| = 100, keeps float32 and float64, "
           "and is a formula, not a finite difference.")


@exercise_check
def check_derivative(forward, derivative, *, seed: int | None = None) -> None:
    """Your derivative agrees with central finite differences of your forward pass."""
    DERIVATIVE.check(forward, derivative, seed=seed)


# --------------------------------------------------------------------------------------
# Part 3: name, formula and output range
# --------------------------------------------------------------------------------------

_I = "`my_activation_info()`"


def _draw_registration(rng) -> list[Case]:
    tails = np.logspace(-4, 4, 161)  # 1e2, 1e3 and 1e4 exactly: the decades of the test below
    x = np.concatenate([-tails[::-1], [0.0], tails, np.linspace(-10, 10, 20001),
                        rng.uniform(-10, 10, 1000),
                        rng.choice([-1, 1], 100) * 10 ** rng.uniform(1, 4, 100)])
    return [Case("my_activation_info()"),
            Case(f"your `my_activation` at {x.size} points: every 1e-3 on [-10, 10], "
                 "random ones, and out to |x| = 1e4", (x,), answer=1)]


def _judge_registration(case: Case, obs, expected) -> None:
    if case.answer == 1:
        x = case.args[0]
        y = _elementwise(obs.result, x, _F)
        nan = np.isnan(y)
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


def _side_is_bounded(x, y, sign: int) -> bool:
    """Does f stop growing (sign +1: upwards, -1: downwards) as |x| goes from 100 to 1e4?

    The new extreme reached in each decade of |x| must shrink: softsign gains 0.009 from
    100 to 1000 and 0.0009 from 1000 to 1e4 (bounded), log|x| gains 2.3 in each (unbounded).
    """
    ext = [sign * np.max(sign * y[np.abs(x) <= r]) for r in (1e2, 1e3, 1e4)]
    with np.errstate(invalid="ignore"):
        gain_before, gain_last = sign * (ext[1] - ext[0]), sign * (ext[2] - ext[1])
        return bool(gain_last <= 0.5 * gain_before + 1e-9 * (1 + abs(ext[2])))


def _judge_registration_all(cases, observations, expected) -> None:
    lo, hi = _range_ends(observations[0].result["output_range"])
    x = cases[1].args[0]
    y = _elementwise(observations[1].result, x, _F)
    slack = 1e-6 * (1 + np.abs(np.where(np.isfinite(y), y, 0.0)))
    for mask, side, bound in ((y < lo - slack, "below", lo), (y > hi + slack, "above", hi)):
        if mask.any():
            j = int(np.argmin(y) if side == "below" else np.argmax(y))
            raise ExerciseError(
                f"`my_activation` reaches {y[j]:.6g} at x = {x[j]:.4g}, {side} the "
                f"{'lower' if side == 'below' else 'upper'} end {bound:g} of your output_range.",
                "find the minimum (or maximum) by setting f'(x) = 0, or evaluate f on a fine "
                "grid, and round the bound outwards.")
    # The range must also be the true one: the diagnostics read "bounded on both sides" as
    # "can saturate", so an infinite end where f is bounded (or a finite one where f keeps
    # growing) misleads them, and a bound far outside the values is not the range.
    for sign, end, label in ((-1, lo, "lower"), (1, hi, "upper")):
        j = int(np.argmax(sign * y))
        extreme, at = float(y[j]), float(x[j])
        bounded = _side_is_bounded(x, y, sign)
        if bounded and not np.isfinite(end):
            raise ExerciseError(
                f"your output_range has no {label} end ({end:g}), but `my_activation` is "
                f"bounded there: its {'smallest' if sign < 0 else 'largest'} value on "
                f"[-1e4, 1e4] is {extreme:.6g} (at x = {at:.4g}), and it gets no "
                f"{'lower' if sign < 0 else 'higher'} from |x| = 100 to 1e4.",
                "an infinite end is for a side that keeps growing; give the bound, found from "
                "f'(x) = 0 or the limit as |x| grows.")
        if not bounded and np.isfinite(end):
            raise ExerciseError(
                f"your output_range ends at {end:g}, but `my_activation` keeps growing "
                f"{'downwards' if sign < 0 else 'upwards'}: {extreme:.6g} at x = {at:.4g}, and "
                "more at each tenfold |x|.",
                "a side with no bound gets -np.inf or np.inf.")
        gap = sign * (end - extreme)
        if bounded and gap > 0.02 * (1 + abs(extreme)):
            raise ExerciseError(
                f"the {label} end {end:g} of your output_range is {gap:.3g} beyond the "
                f"{'smallest' if sign < 0 else 'largest'} value {extreme:.6g} (at x = "
                f"{at:.4g}): that is not the range.",
                "round the bound outwards only a little (e.g. to 4 significant digits).")


REGISTRATION = Spec(
    "ch06.my_activation_info", check="ch06.check_registration", grade_id="ch06-info-check",
    what=_I, answers=("my_activation_info", "my_activation"), draw=_draw_registration,
    reference_case=lambda case: None, judge=_judge_registration,
    judge_all=_judge_registration_all,
    passed="`my_activation_info()` gives a name of your own, a formula, and an output range "
           "that holds every value of `my_activation` for |x| up to 1e4 and is tight on each "
           "bounded side.")


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
}


@builder("ch06.function")
def _build_function(family: str, a: float, b: float, c: float = 0.0, derivative: bool = False,
                    error: str | None = None, value: float = 0.0):
    """f of a known family (or its derivative, right or made wrong by ``error``)."""
    params = {"a": a, "b": b, "c": c}
    _, forward, slope = _FAMILIES[family]
    if not derivative:
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
    text = _FAMILIES[family][0].format(a=a, b=b, c=c)
    if not derivative:
        return f"f = {text}"
    if error is None:
        return "its right derivative"
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

    n = int(rng.integers(9, 16))
    x = np.linspace(-3, 3, n)
    x_label = f"np.linspace(-3, 3, {n})"
    sin_fast = {"family": "sin", "a": uniform(0.5, 2), "b": uniform(20, 40), "c": uniform(-1, 1)}
    sin_slow = {"family": "sin", "a": uniform(0.5, 2), "b": uniform(0.5, 2), "c": uniform(-1, 1)}
    steep = {"family": "sinh", "a": uniform(60, 150), "b": uniform(6, 15)}
    falling = {"family": "sinh", "a": -uniform(60, 150), "b": uniform(6, 15)}
    tiny = {"family": "sin", "a": uniform(5e-4, 2e-3), "b": uniform(0.5, 2), "c": uniform(-1, 1)}
    growth = {"family": "exp", "a": uniform(0.5, 2), "b": uniform(0.5, 1.5)}
    cubic = {"family": "cubic", "a": uniform(0.2, 1), "b": uniform(-2, 2)}

    def deriv(f, error=None, value=0.0):
        return {**f, "derivative": True, "error": error, "value": value}

    big = uniform(0.3, 1.0)
    cases = [
        # Truncation (h^2/6 f''' with f''' ~ b^3) dominates: the default h shows.
        _gc_case(x_label, sin_fast, deriv(sin_fast), x),
        _gc_case(x_label, sin_slow, deriv(sin_slow, "scale", -1.0), x, 1e-5),
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
        _gc_case(x_label, cubic, deriv(cubic, "add", uniform(0.01, 0.1)), x,
                 uniform(1e-4, 1e-3), positional=True),
        _gc_case("one point, np.array([x0])", sin_slow, deriv(sin_slow, "shift", 0.05),
                 points(1), 1e-5),
        _gc_case("the integers -3 to 3 (int64)", growth, deriv(growth, "scale", 1.01),
                 np.arange(-3, 4), 1e-4),
    ]
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
    work = []
    for role, count in (("small", 5), ("large", 2000)):
        work.append(_gc_case(f"{count} points", sin_slow, deriv(sin_slow), points(count), 1e-5,
                             work=role, size=count, elements=count))
    return cases + work


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


def _gc_agrees(got: float, want: float) -> bool:
    # The errors of right derivatives are rounding noise (1e-11): allow other arrangements
    # of the same arithmetic (an ulp of fd), nothing more.
    return abs(got - want) <= 1e-6 * abs(want) + 1e-13


def _judge_gradient_checker(case: Case, obs, expected) -> None:
    _gc_value(obs, case)


def _judge_gradient_checker_all(cases, observations, expected) -> None:
    results = [(c, _gc_value(o, c), e) for c, o, e in zip(cases, observations, expected)
               if c.work is None]
    wrong = [(c, got, want) for c, got, want in results if not _gc_agrees(got, want)]
    if not wrong:
        return
    case, got, want = wrong[0]
    problem = (f"{_G} on {case.label} returns {pair(got, want)[0]}; the task's formula gives "
               f"{pair(got, want)[1]} ({len(wrong)} of {len(results)} cases differ).")
    with np.errstate(all="ignore"):
        variants = [_variants_max_gradient_error(*_gc_inputs(c)) for c, _, _ in results]
    matches = [m for m in _GC_MISTAKES
               if all(math.isclose(g, v[m], rel_tol=1e-3, abs_tol=1e-12)
                      for (_, g, _), v in zip(results, variants))]
    if len(matches) == 1:
        looks, idea = _GC_MISTAKES[matches[0]]
        raise ExerciseError(f"{problem} On every case your numbers are those of {looks}.", idea)
    if all("default" in c.label for c, _, _ in wrong):
        raise ExerciseError(problem, "only the cases that leave h at its default differ: the "
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
           "tried (right and wrong ones, large and tiny slopes).")


@exercise_check
def check_gradient_check_function(max_gradient_error, *, seed: int | None = None) -> None:
    """Your checker: central differences, a relative error, the given h, a single number."""
    GRADIENT_CHECKER.check(max_gradient_error, seed=seed)


# --------------------------------------------------------------------------------------
# Part 5: numerical stability
# --------------------------------------------------------------------------------------

# The inputs the task names: huge, large, moderate and tiny, both signs, and 0.
STABILITY_INPUTS = np.array([-1e4, -1e3, -100.0, -50.0, -20.0, -1.0, -1e-3, 0.0, 1e-3, 1.0,
                             20.0, 50.0, 100.0, 1e3, 1e4])
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


@driver("ch06.strict")
def _strict(answers, x, which):
    """``answers[which](x)`` with every floating-point warning an error (the spec sets them):
    the result, or the warning and the first input that raises it on its own."""
    fn = answers[which]
    x_copy = x.copy()
    caught: list[str] = []
    silenced: list[str] = []

    def watch(frame, event, arg):
        if event == "call":
            # A silencer the answer calls itself (numpy's own functions may use errstate).
            module = str(frame.f_globals.get("__name__", "?"))
            qualname = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
            caller = frame.f_back
            inside = caller is not None and str(caller.f_globals.get("__name__", "")).startswith(
                ("numpy", "warnings", "contextlib"))
            if not inside and not silenced and SILENCERS.matches(module, qualname):
                silenced.append(f"{module}.{qualname}")
        elif event == "exception" and issubclass(arg[0], (FloatingPointError, Warning)):
            # Raised inside the answer: if it returns all the same, it caught the error
            # (try/except), which hides the warning as errstate would.
            caught.append(f"{arg[0].__name__}: {arg[1]}"[:300])
        return watch

    previous = sys.gettrace()
    sys.settrace(watch)
    try:
        value = fn(x)
    except (FloatingPointError, Warning) as err:
        message = f"{type(err).__name__}: {err}"[:300]
        if silenced:
            return {"silenced": silenced[0]}
    else:
        return {"value": value, "modified": _modified({"x": x}, {"x": x_copy}),
                "caught": caught[0] if caught else None,
                "silenced": silenced[0] if silenced else None}
    finally:
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


def _draw_stability(rng) -> list[Case]:
    # Random values too, with 8 significant bits: float32 holds them (and small multiples of
    # them, such as 3x) exactly, so both dtypes compute on the same numbers, as they do on
    # the round numbers above.
    mantissa, exponent = np.frexp(rng.choice([-1, 1], 8) * 10 ** rng.uniform(-3, 4, 8))
    extra = np.ldexp(np.round(mantissa * 256) / 256, exponent)
    values = np.concatenate([STABILITY_INPUTS, _MODERATE, -_MODERATE, _OVERFLOW_EDGES,
                             -_OVERFLOW_EDGES, extra])
    values = values[rng.permutation(values.size)]
    step = 1e-6 * np.maximum(1.0, np.abs(values))
    cases = []
    for dtype in (np.float32, np.float64):
        for which in (0, 1):
            cases.append(Case(f"{_NAMES[which]} at {values.size} inputs from -1e4 to 1e4 "
                              f"({np.dtype(dtype).name})", (values.astype(dtype), which),
                              driver="ch06.strict",
                              note={"role": f"{which}-{np.dtype(dtype).name}"}))
    for sign, name in ((1, "+"), (-1, "-")):
        cases.append(Case(f"`my_activation` at x {name} h, h = 1e-6 max(1, |x|) (float64), for "
                          "its slope", (values + sign * step, 0),
                          driver="ch06.strict", note={"role": f"slope{name}"}))
    return cases


def _stable_values(case: Case, obs) -> np.ndarray:
    x, which = case.args
    what = _NAMES[which]
    result = obs.result if isinstance(obs.result, dict) else {}
    _check_unmodified(result, what)
    if result.get("silenced"):
        raise ExerciseError(
            f"{what} calls `{str(result['silenced'])[:80]}`: {SILENCERS.why}.",
            "the names you call it by do not matter (an alias, a partial): the check sees "
            "what runs.")
    if result.get("caught"):
        raise ExerciseError(
            f"{what} catches a floating-point error on {x.dtype} input "
            f"({str(result['caught'])[:120]}) and goes on: the overflow still happens, it is "
            "only hidden, as with np.errstate.",
            "rewrite the formula so that no intermediate value overflows; then there is "
            "nothing to catch.")
    if "warning" in result:
        at = result.get("at")
        where = f" at x = {at:g}" if isinstance(at, float) else ""
        problem = str(result["warning"]).split(": ", 1)[-1]
        if "overflow" in problem:
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
        v64 = _stable_values(*roles[f"{which}-float64"])
        index = _first_off(v32, v64, rtol=1e-3, atol=1e-5)
        if index is not None:
            at = float(case32.args[0][index])
            raise ExerciseError(
                f"{what} gives {v32[index]:.6g} in float32 but {v64[index]:.6g} in float64 at "
                f"x = {at:g}.",
                "float32 keeps only about 7 digits: a subtraction of two nearly equal numbers, "
                "or a step smaller than the spacing of float32 numbers, loses them all.")
    # The stable rewrite must compute the same function: at every input the derivative must
    # still be the slope of the forward pass (clipping one of them breaks this). At a kink
    # any value between the one-sided slopes will do, as in Part 2.
    x = roles["1-float64"][0].args[0]
    f = _stable_values(*roles["0-float64"])
    d = _stable_values(*roles["1-float64"])
    plus = _stable_values(*roles["slope+"])
    minus = _stable_values(*roles["slope-"])
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    slope = (plus - minus) / (2 * h)
    left, right = (f - minus) / h, (plus - f) / h
    tol = 1e-3 * np.maximum(1.0, np.abs(slope))
    off = (np.abs(d - slope) > tol) & ~((d >= np.minimum(left, right) - tol)
                                        & (d <= np.maximum(left, right) + tol))
    if off.any():
        j = int(np.argmax(off))
        raise ExerciseError(
            f"at x = {x[j]:g} `my_derivative` gives {d[j]:.6g} but the slope of "
            f"`my_activation` there, (f(x + h) - f(x - h)) / (2h) with h = {h[j]:g}, is "
            f"{slope[j]:.6g}: the two no longer describe the same function.",
            "a stable form must be algebraically equal to the original formula for every x, "
            "and the derivative must stay the derivative of the forward pass.")


STABILITY = Spec(
    "ch06.stability", check="ch06.check_stability", grade_id="ch06-stability-check",
    what=_S, answers=("my_activation", "my_derivative"), draw=_draw_stability,
    reference_case=lambda case: None, judge=_judge_stability, judge_all=_judge_stability_all,
    numpy_errors="raise",
    passed="`my_activation` and `my_derivative` are stable: no warning, no inf or NaN, "
           "float32 stays float32 and agrees with float64, inputs untouched, nothing silenced, "
           "the derivative still the slope of the activation, for |x| up to 1e4.")


@exercise_check
def check_stability(forward, derivative, *, seed: int | None = None) -> None:
    """No warning, no inf/NaN, dtype kept, for |x| up to 1e4 in float32 and float64."""
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


def _variants_gradient_flow(net, X, y) -> dict[str, dict[str, float]]:
    """What each recognisable mistake of Part 6 returns, key by key."""
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
            "per layer": float(np.mean([np.mean(np.abs(g) < t) for g in grads]))}
    if net.output != "softmax":
        out_act = activations.get(net.output)
        flat["with output"] = pooled([np.abs(g) < t for g in grads]
                                     + [np.abs(out_act.grad(zs[-1])) < t])
    return {
        "ratio": {"upside down": float(norms[-1] / norms[0]),
                  "last hidden": float(norms[0] / norms[-2]) if len(norms) > 2 else math.nan},
        "dead": {"with output": float(np.mean(dead)),
                 "pooled": float(np.sum(dead[:-1] * widths) / np.sum(widths))},
        "flat": flat,
    }


_FLOW_MISTAKES = {
    "ratio": {
        "upside down": ("the last layer's norm over the first's: upside down",
                        "the ratio is the first layer's gradient norm over the last's; near "
                        "1e-6 means the first layers cannot learn."),
        "last hidden": ("the first layer's norm over the last hidden layer's",
                        "the last layer is the output layer: the last entry of the norms."),
    },
    "dead": {
        "with output": ("the mean over every layer, the output layer included",
                        "dead units are a property of the hidden layers: the output layer "
                        "(the last entry) is left out."),
        "pooled": ("the fraction of all hidden units pooled together",
                   "the task asks for the mean over the hidden layers of each layer's dead "
                   "fraction; with layers of unequal width the two differ."),
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
def _build_mlp(sizes, activation, output, init, bias_init, seed):
    return nn.MLP(list(sizes), activation=activation, output=output, init=init,
                  bias_init=bias_init, seed=seed)


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
               classes=2, take=None) -> Case:
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
    if "relu" in ([activation] if isinstance(activation, str) else activation):
        # No layer dead on every sample, which would leave no gradient; with three layers,
        # some dead units in unequal shares (so the ways of averaging differ): else redraw.
        for _ in range(200):
            if _telling(_build_mlp(**recipe), X, y, unequal=len(hidden) > 2):
                break
            recipe["seed"] = seed = int(rng.integers(0, 10_000))
    setup = (f"net = nn.MLP({sizes}, activation={activation!r}, output={output!r}, "
             f"init={init!r}, bias_init={bias:g}, seed={seed}) and X, y = {load}")
    return Case(f"{label}: {setup}", (Build("ch06.mlp", recipe), X, y), driver="ch06.flow")


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

    return [
        _flow_case(rng, "ReLU with negative biases (dead units)", "relu", "he",
                   -float(rng.uniform(0.1, 0.4)), _unequal_widths(rng, 3), moons_or("circles"),
                   n_samples()),
        _flow_case(rng, "tanh with N(0, 1) weights (saturated)", "tanh", "normal", 0.0,
                   _unequal_widths(rng, 3), moons_or("xor"), n_samples()),
        _flow_case(rng, "SiLU with biases of -1 (negative slopes)", "silu", "he", -1.0,
                   _unequal_widths(rng, 3), moons_or("blobs"), n_samples()),
        _flow_case(rng, "leaky ReLU (slope exactly 0.01 on its negative side)", "leaky_relu",
                   "he", 0.0, _unequal_widths(rng, 3), moons_or("circles"), n_samples()),
        _flow_case(rng, "two hidden layers, the second of one unit", "relu", "he",
                   -float(rng.uniform(0.3, 0.6)), [int(rng.integers(5, 10)), 1], "xor",
                   n_samples()),
        _flow_case(rng, "five hidden layers, one activation each, three classes, one sample",
                   [str(a) for a in rng.permutation(["relu", "sigmoid", "tanh", "elu",
                                                     "softplus"])],
                   "xavier", 0.0, _unequal_widths(rng, 5, 4, 10), "spirals", 30,
                   output="softmax", classes=3, take=1),
    ]


def _telling(net, X, y, unequal: bool) -> bool:
    with np.errstate(all="ignore"):
        numbers = np.array(list(reference_gradient_flow(net, X, y).values()))
        dead = diagnostics.dead_fraction(net, X)[:-1]
    return bool(np.isfinite(numbers).all() and np.all(dead < 1)
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
                   if math.isclose(number, v, rel_tol=1e-6, abs_tol=1e-12)
                   and not math.isclose(v, value, rel_tol=1e-6, abs_tol=1e-12)]
        if len(matches) == 1:
            looks, idea = _FLOW_MISTAKES[key][matches[0]]
            raise ExerciseError(f"{problem} That is {looks}.", idea)
        raise ExerciseError(problem, "build this network in a cell of its own and print the "
                            "per-layer numbers your function combines; compare each step with "
                            "the task's definition.")


GRADIENT_FLOW = Spec(
    "ch06.gradient_flow", check="ch06.check_gradient_flow", grade_id="ch06-flow-check",
    what=_W, answers=("gradient_flow",), draw=_draw_flow, reference_case=_flow_reference,
    judge=_judge_flow,
    passed="`gradient_flow` reports the gradient ratio and the dead and flat fractions "
           "correctly on every network tried (ReLU, tanh, SiLU, leaky ReLU, one activation "
           "per layer; layers of unequal widths, a layer of one unit, a batch of one sample).")


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


def _fake_run(salt: int, epochs: int, name, dataset, seed) -> dict[str, np.ndarray]:
    """The accuracies and losses of one fake run: distinct for every (name, dataset, seed),
    with the best validation epoch before the last, so each wrong epoch shows."""
    key = f"{salt}|{_plain_argument(name)!r}|{_plain_argument(dataset)!r}|" \
          f"{_plain_argument(seed)!r}"
    # 2 epochs + 4 numbers in [0, 1) from the key's hash (the same in every process).
    u = np.frombuffer(hashlib.shake_256(key.encode()).digest(8 * (2 * epochs + 4)),
                      dtype="<u8") * 2.0**-64
    val = np.concatenate([[0.3 + 0.25 * u[0]], 0.6 + 0.35 * u[1:epochs + 1]])
    # The best epoch lies between the first and the one before the last (epochs >= 4).
    val[1 + int(u[epochs + 1] * (epochs - 2))] = val[1:].max() + 0.005 + 0.025 * u[epochs + 2]
    accuracy = np.minimum(val + 0.01 + 0.05 * u[epochs + 3:], 1.0)
    return {"val_accuracy": val, "accuracy": accuracy,
            "loss": -np.log(np.clip(accuracy - 0.02, 0.05, None)),
            "val_loss": -np.log(np.clip(val - 0.03, 0.05, None))}


@builder("ch06.fake_train")
def _build_fake_train(salt: int, epochs: int):
    """A stand-in for the notebook's ``train(name, dataset, seed)``: it returns a real
    ``nn.History`` (every attribute and method of one) filled with drawn numbers, and logs
    its calls in ``train.calls``."""
    def train(name, dataset, seed):
        """One fake training run: the History of a drawn run, at once."""
        train.calls.append([_plain_argument(name), _plain_argument(dataset),
                            _plain_argument(seed)])
        run = _fake_run(salt, epochs, name, dataset, seed)
        label = name if isinstance(name, str) else "?"
        history = nn.History(epochs, [f"hidden 1 ({label})", f"hidden 2 ({label})",
                                      "output (sigmoid)"], np.array([], dtype=int))
        for key, values in run.items():
            getattr(history, key)[:] = values
        history.diagnostics = False
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
        cases.append(Case(f"{label}: names={names}, datasets={datasets}, seeds={seeds} "
                          f"({epochs} epochs a run)", (train, names, datasets, seeds),
                          driver="ch06.table"))
    return cases


def _judge_comparison(case: Case, obs, expected) -> None:
    train, names, datasets, seeds = case.args
    salt, epochs = train.params["salt"], train.params["epochs"]
    args = f"names={names}, datasets={datasets}, seeds={seeds}"
    outcome = obs.result if isinstance(obs.result, dict) else {}
    _check_unmodified(outcome, _T)
    got, calls = outcome.get("table"), outcome.get("calls")

    runs: dict[tuple, dict] = {}

    def run(n, ds, s):
        if (n, ds, s) not in runs:
            runs[n, ds, s] = _fake_run(salt, epochs, n, ds, s)
        return runs[n, ds, s]

    if not isinstance(got, dict):
        raise ExerciseError(f"{_T} returned {describe(got)}, expected a dict.",
                            "return {dataset: {activation: [accuracy for each seed]}}.")
    wanted = [[n, ds, s] for ds in datasets for n in names for s in seeds]
    calls = calls if isinstance(calls, list) else []
    key = repr
    if sorted(map(key, calls)) != sorted(map(key, wanted)):
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
                            "seed).", hint)
    got = np.array([expect_float(v, f"an entry of {what}", finite=False,
                                 hint="each entry is one number: float(...) of the accuracy.")
                    for v in items])
    if np.allclose(got, right, rtol=1e-9, atol=0):
        return
    known = {
        "that is the training accuracy: the table reports validation accuracy.":
            [r["accuracy"][-1] for r in runs],
        "that is the best epoch's accuracy, chosen by looking at the validation set: report "
        "the last epoch's.": [r["val_accuracy"].max() for r in runs],
        "those are the validation accuracies one epoch before the last: the table reports the "
        "last epoch's.": [r["val_accuracy"][-2] for r in runs],
        "those are the accuracies before any training (epoch 0): the table reports the last "
        "epoch's.": [r["val_accuracy"][0] for r in runs],
    }
    for idea, wrong in known.items():
        if np.allclose(got, wrong, rtol=1e-9, atol=0):
            hint = idea
            break
    else:
        if got.size > 1 and np.allclose(np.sort(got), np.sort(right), rtol=1e-9, atol=0):
            hint = "the right numbers in another order: one entry per seed, in the order of " \
                   "`seeds`."
    i = int(np.argmax(np.abs(np.nan_to_num(got - right, nan=np.inf))))
    raise ExerciseError(f"{what} differs from the answer at seed index {i}: got "
                        f"{pair(got[i], right[i])[0]}, expected {pair(got[i], right[i])[1]}.",
                        hint)


COMPARISON = Spec(
    "ch06.comparison_table", check="ch06.check_comparison_table", grade_id="ch06-table-check",
    what=_T, answers=("comparison_table",), draw=_draw_comparison,
    reference_case=lambda case: None, judge=_judge_comparison,
    passed="`comparison_table` builds {dataset: {activation: [accuracy per seed]}} with one "
           "training run per combination, the keys in the order given and the last epoch's "
           "validation accuracy of each run.")


@exercise_check
def check_comparison_table(comparison_table, *, seed: int | None = None) -> None:
    """Your table: {dataset: {activation: [final validation accuracy per seed]}}."""
    COMPARISON.check(comparison_table, seed=seed)
