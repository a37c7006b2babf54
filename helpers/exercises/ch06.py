"""Checks for chapter 06, the capstone: design your own activation.

The student's activation is their own design, so these checks do not compare it with
a fixed answer. They test what every good activation must satisfy: vectorised,
elementwise, nonlinear, a derivative that agrees with finite differences, a
truthful output range, and numerical stability for inputs up to 1e4 in float32 and
float64. The checks of the tools the student writes (a gradient checker, a
gradient-flow report, a comparison table) do compare with a reference.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import textwrap
import warnings

import numpy as np

from .. import activations, data, diagnostics, nn
from ._core import (
    ExerciseError,
    NotAnsweredYet,
    call_answer,
    check_array,
    check_keys,
    check_vectorised,
    exercise_check,
    passed,
    require_callable,
)

__all__ = [
    "check_forward",
    "check_derivative",
    "check_registration",
    "check_gradient_check_function",
    "check_stability",
    "check_gradient_flow",
    "check_comparison_table",
    "reference_max_gradient_error",
    "reference_gradient_flow",
    "STABILITY_INPUTS",
]

# Inputs for the stability check: huge, large, moderate and tiny, both signs, and 0.
STABILITY_INPUTS = np.array([-1e4, -1e3, -100.0, -50.0, -20.0, -1.0, -1e-3, 0.0, 1e-3, 1.0,
                             20.0, 50.0, 100.0, 1e3, 1e4])
# Where the derivative is compared with finite differences: a grid, points near 0, large |x|.
_DERIV_GRID = np.concatenate([
    np.linspace(-5.0, 5.0, 41),
    [-1e-3, -1e-6, 1e-6, 1e-3],
    [-100.0, -50.0, -20.0, -10.0, 10.0, 20.0, 50.0, 100.0],
])
_FORWARD_GRID = np.linspace(-6.0, 6.0, 121)


def _quiet_call(fn, x, what):
    """call_answer with floating-point warnings silenced (overflow is check_stability's job)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return call_answer(fn, x, what=what)


def _as_output(out, x, what) -> np.ndarray:
    if out is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    arr = np.asarray(out)
    if arr.shape != x.shape:
        raise ExerciseError(
            f"{what} returned shape {arr.shape} for an input of shape {x.shape}.",
            "an activation works elementwise: use numpy operations on the whole array "
            "(np.exp, np.tanh, np.where, ...) and never reduce over an axis.",
        )
    if arr.dtype.kind not in "fiu":
        raise ExerciseError(f"{what} returned an array of dtype {arr.dtype}, expected floats.",
                            "return a numpy float array.")
    return arr.astype(float)


# --------------------------------------------------------------------------------------
# Source checks shared by several parts
# --------------------------------------------------------------------------------------


def _source(fn) -> str | None:
    """The function's source if it can be read and parsed on its own (a lambda inside a
    longer expression may not), else None: then there is nothing to judge."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    return source


def _names_used(fn) -> set[str]:
    """Every name and attribute the function's source mentions (``np.vectorize`` -> vectorize)."""
    source = _source(fn)
    if source is None:
        return set()
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found



def _check_no_hidden_loop(fn, what: str) -> None:
    """No Python loop, nor a loop in disguise (np.vectorize, np.apply_along_axis, map)."""
    try:
        check_vectorised(fn, what)
    except ExerciseError as err:
        raise ExerciseError(err.problem, _VECTORISED_HINT) from None


_VECTORISED_HINT = ("write the formula with numpy operations on the whole array (np.exp, "
                    "np.tanh, np.where, ...), so numpy does the looping in C.")


def _check_own_work(fn, what: str, reference, name: str) -> None:
    """'Write it yourself': the course's reference answer does not count as an answer."""
    if fn is reference or name in _names_used(fn):
        raise ExerciseError(f"{what} uses the check's own `{name}`; this part asks you to "
                            "write it yourself.",
                            "build it from the definition in the task, step by step.")


# --------------------------------------------------------------------------------------
# Parts 1-3: forward, derivative, registration
# --------------------------------------------------------------------------------------


def _same_values(a, b) -> bool:
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))


def _matching_builtin(x, out):
    """(label, max difference) of a built-in activation that ``out`` reproduces on ``x``, or None.

    Parametrised built-ins are matched with the parameter read off the curve: a leaky ReLU
    with slope 0.2 is still the registry's leaky_relu. x = 0 is left out, where a kink or
    a step may take any value.
    """
    keep = x != 0
    xs, ys = x[keep], out[keep]
    candidates = []
    for name in activations.builtin_names():
        if name == "identity":
            continue  # affine: rejected before, as a straight line
        candidates.append(activations.get(name))
    minus_one = float(out[np.argmin(np.abs(x + 1))])
    for name, alpha in (("leaky_relu", -minus_one), ("elu", minus_one / np.expm1(-1.0))):
        if np.isfinite(alpha) and alpha != activations.get(name).params["alpha"]:
            with contextlib.suppress(ValueError, TypeError):
                candidates.append(activations.get(name, alpha=float(alpha)))
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
        gap, a, b, c, d = _transformed_fit(act, xs, ys)
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


def _transformed_fit(act, x, y):
    """The best a f(b x + c) + d for ``act``: (largest residual, a, b, c, d).

    A coarse grid over b (both signs, 0.2 to 5) and c, then a shrinking local grid; a and d
    are solved exactly for each (b, c). One call of ``act`` per grid, on a 2-D array.
    """
    bs = np.concatenate([-np.logspace(-0.7, 0.7, 15), np.logspace(-0.7, 0.7, 15)])
    B, C = (v.ravel() for v in np.meshgrid(bs, np.linspace(-1.5, 1.5, 21), indexing="ij"))
    best = None
    for k in range(16):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            g = np.asarray(act(B[:, None] * x + C[:, None]), dtype=float)
        residual, a, d = _affine_fit(g, y)
        i = int(np.argmin(residual))
        if best is None or residual[i] < best[0]:
            best = (float(residual[i]), float(a[i]), float(B[i]), float(C[i]), float(d[i]))
        step_b, step_c = 0.08 * abs(best[2]) / 2**k, 0.08 / 2**k  # the grid shrinks by half
        B, C = (v.ravel() for v in np.meshgrid(best[2] + step_b * np.linspace(-1, 1, 7),
                                               best[3] + step_c * np.linspace(-1, 1, 7),
                                               indexing="ij"))
    return best


@exercise_check
def check_forward(forward) -> None:
    """Your activation: vectorised, elementwise, finite, nonlinear, not a built-in."""
    what = "`my_activation`"
    require_callable(forward, what)
    x = _FORWARD_GRID.copy()
    raw = _quiet_call(forward, x, what)
    if isinstance(raw, (list, tuple)):
        raise ExerciseError(f"{what} returned a {type(raw).__name__} for a numpy array input.",
                            "an activation returns an array like its input, so the rest of "
                            "the network can keep computing with it: keep numpy's result.")
    out = _as_output(raw, x, what)
    _check_no_hidden_loop(forward, what)
    bad = ~np.isfinite(out)
    if bad.any():
        at = float(x[np.argmax(bad)])
        raise ExerciseError(f"{what} returned {out[bad][0]} at x = {at:g}.",
                            "an activation must be finite for every finite input.")
    # Elementwise: the value at an entry may depend on that entry only, so a 2-D batch, the
    # batch in reverse, a part of it and one entry alone must give the same values. (A
    # reduction over the whole array, such as dividing by x.std(), survives a reshape but
    # not a smaller batch.)
    grid2d = x.reshape(11, 11)
    batches = [
        ("a 2-D batch x.reshape(11, 11)", grid2d, out.reshape(11, 11)),
        ("the batch in reverse order x[::-1]", x[::-1].copy(), out[::-1]),
        ("part of the batch x[:7] (x from -6 to -5.4)", x[:7].copy(), out[:7]),
        ("one entry alone np.array([2.0])", x[80:81].copy(), out[80:81]),
    ]
    for label, xb, expected in batches:
        got = _as_output(_quiet_call(forward, xb, what), xb, what)
        if not _same_values(got, expected):
            diff = np.abs(got - expected)
            j = np.unravel_index(int(np.argmax(diff)), diff.shape)
            raise ExerciseError(
                f"{what} on {label} gives {got[j]:.6g} at x = {xb[j]:g}, but {expected[j]:.6g} "
                "for the same x in x = np.linspace(-6, 6, 121): the value at an entry depends "
                "on the other entries.",
                "an activation is applied to each number on its own: no sum, mean, std or "
                "max over the array.")
    # Nonlinear: the best straight line through the curve must miss it somewhere.
    A = np.column_stack([x, np.ones_like(x)])
    coef = np.linalg.lstsq(A, out, rcond=None)[0]
    residual = float(np.max(np.abs(A @ coef - out)))
    if residual <= 1e-6 * (1 + float(np.max(np.abs(out)))):
        raise ExerciseError(
            f"{what} is a straight line on [-6, 6] (f(x) = {coef[0]:.3g} x + {coef[1]:.3g}).",
            "an affine activation makes a deep network one linear map: bend it somewhere "
            "(chapter 01).",
        )
    match = _matching_builtin(x, out)
    if match is not None:
        label, gap = match
        raise ExerciseError(
            f"{what} equals the built-in {label} on [-6, 6] (largest difference {gap:.2g}).",
            "the registry already has it: design a new activation (or a published one "
            "the registry does not have yet).",
        )
    passed(f"{what} is vectorised, elementwise, finite and nonlinear: f(-1) = {out[50]:.4g}, "
           f"f(0) = {out[60]:.4g}, f(1) = {out[70]:.4g}.")


def _one_sided(forward, x):
    h = 1e-5 * np.maximum(1.0, np.abs(x))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        f0 = np.asarray(forward(x.copy()), dtype=float)
        fp = np.asarray(forward(x + h), dtype=float)
        fm = np.asarray(forward(x - h), dtype=float)
    return (fp - fm) / (2 * h), (f0 - fm) / h, (fp - f0) / h


def _numerical_derivative_in(derivative, forward) -> str | None:
    """How ``derivative`` differentiates numerically (a shifted call of f, np.gradient), or None."""
    source = _source(derivative)
    if source is None:
        return None
    forward_name = getattr(forward, "__name__", None)
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in ("gradient", "diff"):
            return f"np.{name}"
        shifted = any(isinstance(arg, ast.BinOp) and isinstance(arg.op, (ast.Add, ast.Sub))
                      for arg in node.args)
        if name == forward_name and shifted:
            return f"{forward_name}(x ± h)"
    return None


def _calls_forward_nearby(derivative, forward, x) -> bool:
    """Does ``derivative(x)`` call ``forward`` at points shifted slightly from x?

    Behaviour, not names: every global or closure name of the derivative (and of the
    functions it calls by name) bound to the forward function is replaced, for this one
    call, by a spy that records its inputs. f(x) itself is allowed (sigmoid' = s (1 - s)).
    """
    shifted = []

    def spy(t, *args, **kwargs):
        t_arr = np.asarray(t)
        if t_arr.shape == x.shape and not np.array_equal(t_arr, x):
            with np.errstate(all="ignore"):
                gap = np.abs(t_arr - x) / np.maximum(1.0, np.abs(x))
            if np.all(np.isfinite(gap)) and 0 < np.max(gap) < 1e-2:
                shifted.append(True)
        return forward(t, *args, **kwargs)

    namespaces = []
    seen = set()
    todo = [derivative]
    while todo:  # the derivative and any helper it reaches through its globals
        fn = todo.pop()
        code = getattr(fn, "__code__", None)
        if code is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        namespace = fn.__globals__
        for name in code.co_names:
            value = namespace.get(name)
            if value is forward:
                namespaces.append((namespace, name))
            elif inspect.isfunction(value) and value.__module__ == fn.__module__:
                todo.append(value)
        for cell in fn.__closure__ or ():
            with contextlib.suppress(ValueError):
                if cell.cell_contents is forward:
                    namespaces.append((cell, None))
    def bind(value) -> None:
        """Make every place that names the student's forward function name ``value``."""
        for where, name in namespaces:
            if name is None:
                where.cell_contents = value
            else:
                where[name] = value

    try:
        bind(spy)
        _quiet_call(derivative, x.copy(), "`my_derivative`")
    finally:
        bind(forward)
    return bool(shifted)


# float32 points where a difference quotient of f loses its digits to rounding: the
# rounding error of f(x +- h) in float32 (about 6e-8 |f|) divided by h is 1e-3 or more for
# any h below 1e-4, while a derivative from a formula keeps about 7 digits.
_FLOAT32_PROBE = np.array([-20.0, -7.3, -2.9, -0.77, 0.61, 1.9, 3.7, 8.1, 20.0, 50.0])


def _float32_gap(forward, derivative) -> tuple[float, float] | None:
    """(x, relative gap) where derivative in float32 differs most from itself in float64."""
    x32 = _FLOAT32_PROBE.astype(np.float32)
    d32 = _as_output(_quiet_call(derivative, x32.copy(), "`my_derivative`"), x32,
                     "`my_derivative`")
    d64 = _as_output(_quiet_call(derivative, x32.astype(np.float64), "`my_derivative`"), x32,
                     "`my_derivative`")
    ok = np.isfinite(d32) & np.isfinite(d64)  # overflow is Part 5's job
    gap = np.where(ok, np.abs(d32 - d64) / np.maximum(1.0, np.abs(d64)), 0.0)
    i = int(np.argmax(gap))
    return float(x32[i]), float(gap[i])


@exercise_check
def check_derivative(forward, derivative) -> None:
    """Your derivative agrees with central finite differences of your forward pass."""
    what = "`my_derivative`"
    require_callable(derivative, what)
    require_callable(forward, "`my_activation`")
    x = _DERIV_GRID.copy()
    got = _as_output(_quiet_call(derivative, x, what), x, what)
    _check_no_hidden_loop(derivative, what)
    numerical = _numerical_derivative_in(derivative, forward)
    if numerical is None and _calls_forward_nearby(derivative, forward, x):
        numerical = "it calls `my_activation` at points a tiny step away from x"
    if numerical is not None:
        raise ExerciseError(
            f"{what} computes a finite difference ({numerical}) instead of the derivative "
            "worked out by hand; the check would then only compare finite differences "
            "with themselves.",
            "differentiate the formula with the product and chain rules and write the "
            "resulting expression.")
    _as_output(_quiet_call(forward, x, "`my_activation`"), x, "`my_activation`")
    central, left, right = _one_sided(forward, x)
    if not np.all(np.isfinite(central)):
        at = float(x[np.argmax(~np.isfinite(central))])
        raise ExerciseError(f"`my_activation` is not finite near x = {at:g}, so its derivative "
                            "cannot be checked there.", "fix Part 1 first.")
    scale = np.maximum(1.0, np.abs(central))
    tol = 1e-5 * scale
    lo = np.minimum(left, right) - tol
    hi = np.maximum(left, right) + tol
    # At a kink (ReLU at 0) any value between the one-sided slopes is a valid subgradient.
    ok = (np.abs(got - central) <= tol) | ((got >= lo) & (got <= hi))
    ok &= np.isfinite(got)
    if ok.all():
        at, gap = _float32_gap(forward, derivative)
        if gap > 1e-3:
            probe = ", ".join(f"{v:g}" for v in _FLOAT32_PROBE)
            raise ExerciseError(
                f"{what} on float32 input gives values that differ from its own float64 "
                f"values by {gap:.2g} (relative) at x = {at:g} (x = np.array([{probe}], "
                "dtype=np.float32)); a derivative written as a formula agrees to about 1e-6.",
                "a difference quotient of f loses its digits to rounding in float32; the "
                "task asks for the derivative worked out by hand with the product and chain "
                "rules.")
        passed(f"{what} matches central finite differences at all {x.size} points, from "
               f"x = {x.min():g} to {x.max():g} (including x = ±1e-6 and |x| = 100).")
        return
    i = int(np.argmax(np.where(ok, -np.inf, np.abs(got - central) / scale)))
    hint = None
    smooth = ~ok & (np.abs(left - right) <= 1e-3 * scale)
    if smooth.any() and np.allclose(-got[smooth], central[smooth], rtol=1e-4, atol=1e-6):
        hint = "it looks like the sign is flipped: check each term's sign."
    elif smooth.any():
        ratio = got[smooth] / np.where(np.abs(central[smooth]) > 1e-3, central[smooth], np.nan)
        ratio = ratio[np.isfinite(ratio)]
        if ratio.size > 3 and np.allclose(ratio, ratio[0], rtol=1e-3) and abs(ratio[0]) > 0:
            hint = (f"your derivative is {ratio[0]:.3g} times the finite differences everywhere: "
                    "a constant factor is off (a chain-rule factor, or a 2 or 1/2).")
    if hint is None:
        hint = ("differentiate term by term with the product and chain rules, and compare "
                "each term at this x with (f(x + h) - f(x - h)) / (2h), h = 1e-5.")
    n_bad = int(np.sum(~ok))
    raise ExerciseError(
        f"{what} disagrees with finite differences at {n_bad} of {x.size} points; the worst is "
        f"x = {x[i]:g}: got {got[i]:.6g}, finite differences give {central[i]:.6g}.",
        hint,
    )


def _side_is_bounded(x, y, sign: int) -> bool:
    """Does f stop growing (sign +1: upwards, -1: downwards) as |x| goes from 100 to 1e4?

    The new extreme reached in each decade of |x| must shrink: softsign gains 0.009 from
    100 to 1000 and 0.0009 from 1000 to 1e4 (bounded), log|x| gains 2.3 in each (unbounded).
    """
    ext = [sign * np.max(sign * y[np.abs(x) <= r]) for r in (1e2, 1e3, 1e4)]
    gain_before, gain_last = sign * (ext[1] - ext[0]), sign * (ext[2] - ext[1])
    return bool(gain_last <= 0.5 * gain_before + 1e-9 * (1 + abs(ext[2])))


@exercise_check
def check_registration(info, forward) -> None:
    """Your name, formula and output range: the range holds every value, and is the true one."""
    what = "`my_activation_info()`"
    require_callable(info, what)
    got = call_answer(info, what=what)
    shape_hint = 'return {"name": ..., "formula": ..., "output_range": (lo, hi)}.'
    got = check_keys(got, ["name", "formula", "output_range"], what, shape_hint)
    name, formula, rng = got["name"], got["formula"], got["output_range"]
    if not isinstance(name, str) or not name.strip().isidentifier():
        raise ExerciseError(f"the name should be a short identifier such as 'mish', got {name!r}.",
                            "letters, digits and underscores, not starting with a digit.")
    key = name.strip().lower().replace("-", "_")
    if key in _builtin_names():
        raise ExerciseError(f"{name!r} is the name of a built-in activation.",
                            "give yours a name of its own.")
    if not isinstance(formula, str) or not formula.strip():
        raise ExerciseError("the formula should be a non-empty LaTeX string, got "
                            f"{formula!r}.", r'e.g. r"f(x) = x \tanh(x)".')
    try:
        lo, hi = (float(v) for v in rng)
    except (TypeError, ValueError):
        raise ExerciseError(f"output_range should be a pair of numbers (lo, hi), got {rng!r}.",
                            "use -np.inf or np.inf for an unbounded side.") from None
    if not lo < hi:
        raise ExerciseError(f"output_range must have lo < hi, got ({lo:g}, {hi:g}).",
                            "the lower end comes first.")
    x = np.concatenate([-np.logspace(4, -4, 200), [0.0], np.logspace(-4, 4, 200),
                        np.linspace(-10, 10, 20001)])
    y = _as_output(_quiet_call(forward, x, "`my_activation`"), x, "`my_activation`")
    slack = 1e-6 * (1 + np.abs(y))
    below, above = y < lo - slack, y > hi + slack
    for mask, side, bound in ((below, "below", lo), (above, "above", hi)):
        if mask.any():
            j = int(np.argmin(y) if side == "below" else np.argmax(y))
            raise ExerciseError(
                f"`my_activation` reaches {y[j]:.6g} at x = {x[j]:.4g}, {side} the "
                f"{'lower' if side == 'below' else 'upper'} end {bound:g} of your output_range.",
                "find the minimum (or maximum) by setting f'(x) = 0, or evaluate f on a fine "
                "grid, and round the bound outwards.",
            )
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
                "an infinite end is for a side that keeps growing; give the bound, found "
                "from f'(x) = 0 or the limit as |x| grows.")
        if not bounded and np.isfinite(end):
            raise ExerciseError(
                f"your output_range ends at {end:g}, but `my_activation` keeps growing "
                f"{'downwards' if sign < 0 else 'upwards'}: {extreme:.6g} at x = {at:.4g}, "
                "and more at each tenfold |x|.",
                "a side with no bound gets -np.inf or np.inf.")
        gap = sign * (end - extreme)
        if bounded and gap > 0.02 * (1 + abs(extreme)):
            raise ExerciseError(
                f"the {label} end {end:g} of your output_range is {gap:.3g} beyond the "
                f"{'smallest' if sign < 0 else 'largest'} value {extreme:.6g} (at x = "
                f"{at:.4g}): that is not the range.",
                "round the bound outwards only a little (e.g. to 4 significant digits).")
    passed(f"{name!r}: observed values from {y.min():.4g} to {y.max():.4g} lie in your "
           f"output_range ({lo:g}, {hi:g}), which is tight on each bounded side.")


def _builtin_names() -> set[str]:
    # The registry's own record of what is built in (and the aliases, which are taken too).
    return set(activations.builtin_names()) | set(activations.aliases())


# --------------------------------------------------------------------------------------
# Part 4: a gradient checker of your own
# --------------------------------------------------------------------------------------


def reference_max_gradient_error(f, df, x, h: float = 1e-5) -> float:
    """max |df(x) - (f(x+h) - f(x-h)) / (2h)| / max(1, |df(x)|, |fd|) over the points x."""
    x = np.asarray(x, dtype=float)
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))))


# The test cases, chosen so that each common mistake changes the result on at least one of
# them: a right derivative (the difference quotient's own error shows), a wrong one, large
# slopes with the claimed derivative above and below the truth (which side the denominator
# takes), tiny slopes (the 1 in the denominator), and a larger h on a function that is not
# odd (the h given is used; forward and backward differences differ).
_GC_X = "np.linspace(-3, 3, 13)"
_GC_CASES = [
    ("f = np.sin, df = np.cos, h = 1e-5", np.sin, np.cos, 1e-5),
    ("f = np.sin, df = lambda x: -np.cos(x) (a wrong derivative), h = 1e-5",
     np.sin, lambda t: -np.cos(t), 1e-5),
    ("f = lambda x: 100 * np.sinh(x / 10), df = lambda x: 10 * np.cosh(x / 10) + 0.5, h = 1e-5",
     lambda t: 100 * np.sinh(t / 10), lambda t: 10 * np.cosh(t / 10) + 0.5, 1e-5),
    ("f = lambda x: 100 * np.sinh(x / 10), df = lambda x: 10 * np.cosh(x / 10) - 0.5, h = 1e-5",
     lambda t: 100 * np.sinh(t / 10), lambda t: 10 * np.cosh(t / 10) - 0.5, 1e-5),
    ("f = lambda x: 1e-3 * np.sin(x), df = lambda x: 1e-3 * np.cos(x) + 1e-4, h = 1e-5",
     lambda t: 1e-3 * np.sin(t), lambda t: 1e-3 * np.cos(t) + 1e-4, 1e-5),
    ("f = lambda x: -100 * np.sinh(x / 10), df = lambda x: -10 * np.cosh(x / 10) + 0.5, "
     "h = 1e-5",
     lambda t: -100 * np.sinh(t / 10), lambda t: -10 * np.cosh(t / 10) + 0.5, 1e-5),
    ("f = np.exp, df = np.exp, h = 1e-2", np.exp, np.exp, 1e-2),
]


def _gc_variants(f, df, x, h) -> dict[str, float]:
    """The reference value and what each recognisable mistake returns instead."""
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
        "reference": err(central),
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
# named only when the student's numbers match that mistake's on every test case.
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
               "the denominator is the largest of three numbers: 1, |d| and |fd|."),
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


def _as_number(got, what: str) -> float:
    """The student's single number as a float (NaN stays NaN), or a clear error."""
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float, np.number)):
        shape = f" of shape {np.shape(got)}" if np.ndim(got) else ""
        raise ExerciseError(f"{what} should return a single number, got a "
                            f"{type(got).__name__}{shape}.",
                            "reduce the per-point errors to the largest one, as a float.")
    return float(got)


@exercise_check
def check_gradient_check_function(max_gradient_error) -> None:
    """Your checker: central differences, a relative error, the given h, a single number."""
    what = "`max_gradient_error`"
    require_callable(max_gradient_error, what)
    _check_own_work(max_gradient_error, what, reference_max_gradient_error,
                    "reference_max_gradient_error")
    x = np.linspace(-3.0, 3.0, 13)
    results = []
    for label, f, df, h in _GC_CASES:
        got = call_answer(max_gradient_error, f, df, x, h=h, what=what)
        variants = _gc_variants(f, df, x, h)
        results.append((label, _as_number(got, f"{what} on {label}"), variants))
    check_vectorised(max_gradient_error, what)
    wrong = [(label, got, v) for label, got, v in results
             if not np.isclose(got, v["reference"], rtol=1e-3, atol=1e-12)]
    if not wrong:
        passed(f"{what} computes the largest relative error of a derivative against central "
               f"differences, on all {len(_GC_CASES)} test cases.")
        return
    label, got, variants = wrong[0]
    matches = [m for m in _GC_MISTAKES
               if all(np.isclose(g, v[m], rtol=1e-3, atol=1e-12) for _, g, v in results)]
    problem = (f"{what} on {label}, x = {_GC_X}, returns {got:.6g}; the task's formula "
               f"gives {variants['reference']:.6g} ({len(wrong)} of {len(_GC_CASES)} test "
               "cases differ).")
    if len(matches) == 1:
        looks, idea = _GC_MISTAKES[matches[0]]
        raise ExerciseError(f"{problem} On every test case your numbers are those of {looks}.",
                            idea)
    raise ExerciseError(problem, "run this case in a cell of its own and print fd, d and the "
                        "per-point errors; compare each step with the task's formula.")


# --------------------------------------------------------------------------------------
# Part 5: numerical stability
# --------------------------------------------------------------------------------------


def _strict_call(fn, x, what):
    """Call with every floating-point warning turned into an error."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        return call_answer(fn, x, what=what)


def _locate_failure(fn, x, what):
    for value in x:
        try:
            _strict_call(fn, np.array([value], dtype=x.dtype), what)
        except NotAnsweredYet:
            raise
        except ExerciseError as err:
            return float(value), err.problem
    return None, None


# Ways to hide a floating-point warning instead of avoiding it.
_SILENCERS = {"errstate", "seterr", "filterwarnings", "simplefilter", "catch_warnings",
              "suppress"}


def _check_stable_one(fn, what) -> np.ndarray:
    """fn on STABILITY_INPUTS in float32 and float64: no warning, finite, dtype kept, agreeing."""
    results = {}
    for dtype in (np.float32, np.float64):
        x = STABILITY_INPUTS.astype(dtype)
        try:
            out = _strict_call(fn, x, what)
        except NotAnsweredYet:
            raise
        except ExerciseError as err:
            if "modified its input" in err.problem:
                raise
            at, problem = _locate_failure(fn, x, what)
            where = f" at x = {at:g}" if at is not None else ""
            problem = (problem or err.problem).split(": ", 1)[-1]
            if "overflow" in problem:
                hint = ("a number too large for the dtype: exp(x) overflows for x > 88.7 in "
                        "float32 (709.8 in float64). Rewrite so exp only sees values <= 0, as "
                        "the stable softplus in the text above does.")
            else:  # invalid value or division by zero: the result is undefined, not large
                hint = ("an undefined operation (0 / 0, inf - inf, 0 * inf or inf / inf) at "
                        "this x: find the intermediate value that is 0 or inf there and use an "
                        "algebraically equal form that avoids it.")
            raise ExerciseError(f"{what} fails{where} ({np.dtype(dtype).name}): {problem}",
                                hint) from None
        arr = np.asarray(out)
        if arr.shape != x.shape:
            raise ExerciseError(f"{what} returned shape {arr.shape} for input shape "
                                f"{x.shape}.", "work elementwise.")
        if arr.dtype != x.dtype:
            raise ExerciseError(
                f"{what} turned {np.dtype(dtype).name} input into {arr.dtype} output.",
                "keep the input's dtype: Python numbers (1.0, 0.5) keep float32, but "
                "numpy float64 constants (np.float64, np.pi * 1, arrays made with "
                "dtype=float) promote it.",
            )
        bad = ~np.isfinite(arr)
        if bad.any():
            j = int(np.argmax(bad))
            raise ExerciseError(
                f"{what} returned {arr[j]} at x = {x[j]:g} ({np.dtype(dtype).name}).",
                "look for inf - inf, 0 * inf or inf / inf: an overflowed exp or cosh.",
            )
        results[dtype] = arr.astype(np.float64)
    close = np.isclose(results[np.float32], results[np.float64], rtol=1e-3, atol=1e-5)
    if not close.all():
        j = int(np.argmax(~close))
        raise ExerciseError(
            f"{what} gives {results[np.float32][j]:.6g} in float32 but "
            f"{results[np.float64][j]:.6g} in float64 at x = {STABILITY_INPUTS[j]:g}.",
            "float32 keeps only about 7 digits: a subtraction of two nearly equal numbers, or "
            "a step smaller than the spacing of float32 numbers, loses them all.",
        )
    return results[np.float64]


@exercise_check
def check_stability(forward, derivative) -> None:
    """No warning, no inf/NaN, dtype kept, for |x| up to 1e4 in float32 and float64."""
    require_callable(forward, "`my_activation`")
    require_callable(derivative, "`my_derivative`")
    values = {}
    for fn, what in ((forward, "`my_activation`"), (derivative, "`my_derivative`")):
        values[what] = _check_stable_one(fn, what)
        silencer = _names_used(fn) & _SILENCERS
        if silencer:
            raise ExerciseError(
                f"{what} silences floating-point warnings ({sorted(silencer)[0]}) instead of "
                "avoiding them: the overflow still happens, it is only hidden.",
                "rewrite the formula so that no intermediate value overflows; then there is "
                "nothing to silence.")
    # The stable rewrite must compute the same function: at large |x| the derivative must
    # still be the slope of the forward pass (clipping one of them breaks this).
    x = STABILITY_INPUTS[np.abs(STABILITY_INPUTS) >= 100]
    h = 1e-6 * np.abs(x)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        plus = np.asarray(forward(x + h), dtype=float)
        minus = np.asarray(forward(x - h), dtype=float)
    slope = (plus - minus) / (2 * h)
    d = values["`my_derivative`"][np.abs(STABILITY_INPUTS) >= 100]
    off = np.abs(d - slope) > 1e-3 * np.maximum(1.0, np.abs(slope))
    if off.any():
        j = int(np.argmax(off))
        raise ExerciseError(
            f"at x = {x[j]:g} `my_derivative` gives {d[j]:.6g} but the slope of `my_activation` "
            f"there, (f(x + h) - f(x - h)) / (2h) with h = {h[j]:g}, is {slope[j]:.6g}: the "
            "two no longer describe the same function at large |x|.",
            "a stable form must be algebraically equal to the original formula for every x, "
            "and the derivative must stay the derivative of the forward pass.")
    passed("`my_activation` and `my_derivative` are stable: no warning, no inf or NaN, "
           "float32 stays float32, inputs untouched, for |x| up to 1e4.")


# --------------------------------------------------------------------------------------
# Part 6: gradient flow at initialisation
# --------------------------------------------------------------------------------------


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


def _flow_variants(net, X, y) -> dict[str, dict[str, float]]:
    """What each recognisable mistake of Part 6 returns, key by key."""
    norms = diagnostics.gradient_norms(net, X, y)
    dead = diagnostics.dead_fraction(net, X)
    zs = net.cache["z"]
    widths = np.array([z.shape[1] for z in zs[:-1]])
    grads = [act.grad(z) for act, z in zip(net.hidden_activations, zs[:-1])]
    t = diagnostics.SATURATION_THRESHOLD
    out_act = activations.get(net.output)

    def pooled(masks):
        return float(np.mean(np.concatenate([m.ravel() for m in masks])))

    return {
        "ratio": {"upside down": float(norms[-1] / norms[0]),
                  "last hidden": float(norms[0] / norms[-2])},
        "dead": {"with output": float(np.mean(dead)),
                 "pooled": float(np.sum(dead[:-1] * widths) / np.sum(widths))},
        "flat": {"signed": pooled([g < t for g in grads]),
                 "<=": pooled([np.abs(g) <= t for g in grads]),
                 "per layer": float(np.mean([np.mean(np.abs(g) < t) for g in grads])),
                 "with output": pooled([np.abs(g) < t for g in grads]
                                       + [np.abs(out_act.grad(zs[-1])) < t])},
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

# Networks on which the mistakes show: unequal widths (pooled vs per-layer means), dead
# ReLUs, saturated tanh, SiLU's negative derivatives, leaky_relu's slope of exactly 0.01.
_FLOW_SIZES = [2, 16, 8, 12, 1]
_FLOW_NETS = [("relu", "he", -0.1), ("tanh", "normal", 0.0), ("silu", "he", -1.0),
              ("leaky_relu", "he", 0.0)]


def _call_on_net(fn, net, X, y, what):
    """Call fn(net, X, y) on copies; a network's cache may change, its weights may not."""
    twin, Xc, yc = net.copy(), X.copy(), y.copy()
    try:
        result = fn(twin, Xc, yc)
    except NotImplementedError:
        raise NotAnsweredYet(what) from None
    except ExerciseError:
        raise
    except Exception as err:
        raise ExerciseError(f"{what} raised {type(err).__name__}: {err}",
                            "run it on a small network in a cell of its own and read the "
                            "error.") from None
    same = all(np.array_equal(a, b) for a, b in zip(twin.weights + twin.biases,
                                                      net.weights + net.biases))
    if not (same and np.array_equal(Xc, X) and np.array_equal(yc, y)):
        raise ExerciseError(f"{what} changed the network's weights or the data.",
                            "only measure: no training step, no assignment into X or y.")
    return result


@exercise_check
def check_gradient_flow(gradient_flow) -> None:
    """Your report: first/last gradient-norm ratio, dead and flat fractions of hidden layers."""
    what = "`gradient_flow`"
    require_callable(gradient_flow, what)
    _check_own_work(gradient_flow, what, reference_gradient_flow, "reference_gradient_flow")
    X, y = data.moons(n=64, noise=0.1, seed=3)
    shape_hint = 'return {"ratio": ..., "dead": ..., "flat": ...}, three floats.'
    for act, init, bias in _FLOW_NETS:
        net = nn.MLP(_FLOW_SIZES, activation=act, output="sigmoid", init=init,
                     bias_init=bias, seed=1)
        got = check_keys(_call_on_net(gradient_flow, net, X, y, what), ["ratio", "dead", "flat"],
                         what, shape_hint)
        expected = reference_gradient_flow(net.copy(), X, y)
        variants = _flow_variants(net.copy(), X, y)
        setup = (f"net = nn.MLP({_FLOW_SIZES}, activation={act!r}, output='sigmoid', "
                 f"init={init!r}, bias_init={bias}, seed=1) and X, y = data.moons(n=64, "
                 "noise=0.1, seed=3)")
        for key, value in expected.items():
            label = f"{what}(net, X, y)[{key!r}]"
            number = _as_number(got[key], label)
            if np.isclose(number, value, rtol=1e-6, atol=1e-12):
                continue
            problem = f"{label} is {number:.6g}, expected {value:.6g}, for {setup}."
            matches = [m for m, v in variants[key].items()
                       if np.isclose(number, v, rtol=1e-6, atol=1e-12)
                       and not np.isclose(v, value, rtol=1e-6, atol=1e-12)]
            if len(matches) == 1:
                looks, idea = _FLOW_MISTAKES[key][matches[0]]
                raise ExerciseError(f"{problem} That is {looks}.", idea)
            raise ExerciseError(problem, "build this network in a cell of its own and print "
                                "the per-layer numbers your function combines; compare each "
                                "step with the task's definition.")
    passed(f"{what} reports the gradient ratio and the dead and flat fractions correctly, "
           f"on {len(_FLOW_NETS)} networks ({', '.join(a for a, _, _ in _FLOW_NETS)}).")


# --------------------------------------------------------------------------------------
# Part 7: the comparison table
# --------------------------------------------------------------------------------------


class _FakeHistory:
    def __init__(self, val, train):
        self.val_accuracy = np.asarray(val, dtype=float)
        self.accuracy = np.asarray(train, dtype=float)
        self.loss = 1 - self.accuracy
        self.val_loss = 1 - self.val_accuracy

    def __getattr__(self, name):
        # Only reached for a missing attribute: say which ones this stand-in History has.
        raise AttributeError(f"the History returned by train has no attribute {name!r}; it has "
                             "accuracy, val_accuracy, loss and val_loss (one entry per epoch)")


def _fake_train(calls):
    def train(name, dataset, seed):
        """A stand-in for training: a deterministic, recognisable fake History."""
        calls.append((name, dataset, seed))
        # Distinct for every (name, dataset, seed), so a value filed under the wrong key shows.
        code = sum(map(ord, name)) + 3 * sum(map(ord, dataset)) + 7 * seed
        base = code % 97 / 1000
        # best epoch (1) != the one before the last (2) != the last (3)
        val = np.array([0.5, 0.9 - base, 0.6 - base, 0.7 - base])
        train_acc = val + 0.05
        return _FakeHistory(val, train_acc)
    return train


@exercise_check
def check_comparison_table(comparison_table) -> None:
    """Your table: {dataset: {activation: [final validation accuracy per seed]}}."""
    what = "`comparison_table`"
    require_callable(comparison_table, what)
    # Not in alphabetical order, so a sorted() shows; seeds not 0, 1, 2, so range() shows.
    names, datasets, seeds = ["tanh", "relu", "mine"], ["spirals", "moons"], [3, 1, 2]
    calls: list = []
    got = call_answer(comparison_table, _fake_train(calls), names, datasets, seeds, what=what)
    ref_calls: list = []
    ref_train = _fake_train(ref_calls)
    expected = {ds: {n: [float(ref_train(n, ds, s).val_accuracy[-1]) for s in seeds]
                     for n in names} for ds in datasets}
    args = f"names={names}, datasets={datasets}, seeds={seeds}"
    if not isinstance(got, dict):
        raise ExerciseError(f"{what} returned {type(got).__name__}, expected a dict.",
                            "return {dataset: {activation: [accuracy for each seed]}}.")
    if sorted(calls) != sorted(ref_calls):
        missing = [c for c in ref_calls if c not in calls]
        extra = [c for c in calls if c not in ref_calls]
        repeated = len(calls) - len(set(calls))
        parts = []
        if missing:
            parts.append(f"never called train{missing[0]} ({len(missing)} combinations missing)")
        if extra:
            parts.append(f"called train{extra[0]}, which is not one of the combinations")
        if repeated and not missing and not extra:
            parts.append(f"called train {len(calls)} times for {len(ref_calls)} combinations "
                         f"({repeated} repeated)")
        raise ExerciseError(
            f"with {args}, {what} {'; '.join(parts)}. train(name, dataset, seed) must run "
            f"once for each of the {len(ref_calls)} combinations.",
            "every (dataset, activation, seed) gets exactly one run, and each History is "
            "used for its own entry.",
        )
    if list(got) != datasets:
        raise ExerciseError(f"with {args}, {what}'s outer keys are {list(got)}, expected the "
                            f"datasets {datasets}, in that order.",
                            "the outer dict maps each dataset to a row, in the order given.")
    for ds in datasets:
        row = got[ds]
        if not isinstance(row, dict) or list(row) != names:
            keys = list(row) if isinstance(row, dict) else type(row).__name__
            raise ExerciseError(f"with {args}, {what}[{ds!r}] has keys {keys}, expected the "
                                f"activations {names}, in that order.",
                                "the inner dict maps each activation to a list, in the order "
                                "given.")
        for n in names:
            values = row[n]
            hint = None
            arr = np.asarray(values, dtype=float) if np.ndim(values) == 1 else None
            if arr is not None and arr.shape == (len(seeds),):
                train_last = [float(ref_train(n, ds, s).accuracy[-1]) for s in seeds]
                best = [float(ref_train(n, ds, s).val_accuracy.max()) for s in seeds]
                before_last = [float(ref_train(n, ds, s).val_accuracy[-2]) for s in seeds]
                if np.allclose(arr, train_last):
                    hint = "that is the training accuracy: the table reports validation accuracy."
                elif np.allclose(arr, best):
                    hint = ("that is the best epoch's accuracy, chosen by looking at the "
                            "validation set: report the last epoch's.")
                elif np.allclose(arr, before_last):
                    hint = ("those are the validation accuracies one epoch before the last: "
                            "the table reports the last epoch's.")
                elif np.allclose(sorted(arr), sorted(expected[ds][n])):
                    hint = "the right numbers in another order: one entry per seed, in the "
                    hint += "order of `seeds`."
            check_array(values, expected[ds][n], f"with {args}, {what}[{ds!r}][{n!r}]",
                        rtol=1e-9, hint=hint or "one entry per seed, in the order of `seeds`: "
                        "the final epoch's validation accuracy of that run.")
    passed(f"{what} builds {{dataset: {{activation: [accuracy per seed]}}}} with one training "
           "run per combination.")
