"""Checks for chapter 06, the capstone: design your own activation.

The student's activation is their own design, so these checks do not compare it with
a fixed answer. They test what every good activation must satisfy: vectorised,
elementwise, nonlinear, a derivative that agrees with finite differences, a
truthful output range, and numerical stability for inputs up to 1e4 in float32 and
float64. The checks of the tools the student writes (a gradient checker, a
gradient-flow report, a comparison table) do compare with a reference.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np

from .. import activations, data, diagnostics, nn
from ._core import (
    ExerciseError,
    NotAnsweredYet,
    call_answer,
    check_array,
    check_number,
    check_vectorised,
    exercise_check,
    passed,
    require_callable,
)

__all__ = [
    "answered",
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


def answered(*functions) -> bool:
    """True unless one of the answer functions is still unfinished (then say which).

    Unfinished means its code still says ``raise NotImplementedError``, as in the student
    version. Other errors are left for the check cells to explain.
    """
    for fn in functions:
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError):
            continue
        if "raise NotImplementedError" in source:
            name = getattr(fn, "__name__", "a function")
            print(f"\u270f\ufe0f `{name}` is not answered yet, so this cell skips what needs "
                  "it. Answer it, then run this cell again.")
            return False
    return True


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
# Parts 1-3: forward, derivative, registration
# --------------------------------------------------------------------------------------


@exercise_check
def check_forward(forward) -> None:
    """Your activation: vectorised, elementwise, finite, nonlinear, not a built-in."""
    what = "`my_activation`"
    require_callable(forward, what)
    x = _FORWARD_GRID.copy()
    out = _as_output(_quiet_call(forward, x, what), x, what)
    check_vectorised(forward, what)
    bad = ~np.isfinite(out)
    if bad.any():
        at = float(x[np.argmax(bad)])
        raise ExerciseError(f"{what} returned {out[bad][0]} at x = {at:g}.",
                            "an activation must be finite for every finite input.")
    grid2d = x.reshape(11, 11)
    out2d = _as_output(_quiet_call(forward, grid2d, what), grid2d, what)
    check_array(out2d.ravel(), out, f"{what} on a 2-D batch", rtol=1e-9, atol=1e-12,
                hint="the value at each entry must depend on that entry only: no sums, means "
                     "or max over the array.")
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
    for name in ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "gelu", "silu",
                 "arctan"):
        if np.allclose(out, activations.get(name)(x), rtol=1e-6, atol=1e-9):
            raise ExerciseError(
                f"{what} equals the built-in {name!r} on [-6, 6].",
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


@exercise_check
def check_derivative(forward, derivative) -> None:
    """Your derivative agrees with central finite differences of your forward pass."""
    what = "`my_derivative`"
    require_callable(derivative, what)
    require_callable(forward, "`my_activation`")
    x = _DERIV_GRID.copy()
    got = _as_output(_quiet_call(derivative, x, what), x, what)
    check_vectorised(derivative, what)
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
        passed(f"{what} matches central finite differences at all {x.size} points, from "
               f"x = {x.min():g} to {x.max():g} (including x = ±1e-6 and |x| = 100).")
        return
    i = int(np.argmax(np.where(ok, -np.inf, np.abs(got - central) / scale)))
    hint = None
    smooth = ~ok & (np.abs(left - right) <= 1e-3 * scale)
    if np.allclose(-got[smooth], central[smooth], rtol=1e-4, atol=1e-6):
        hint = "it looks like the sign is flipped: check each term's sign."
    else:
        ratio = got[smooth] / np.where(np.abs(central[smooth]) > 1e-3, central[smooth], np.nan)
        ratio = ratio[np.isfinite(ratio)]
        if ratio.size > 3 and np.allclose(ratio, ratio[0], rtol=1e-3) and abs(ratio[0]) > 0:
            hint = (f"your derivative is {ratio[0]:.3g} times the finite differences everywhere: "
                    "a constant factor is off (a chain-rule factor, or a 2 or 1/2).")
    if hint is None:
        hint = ("apply the product and chain rules term by term, and test your derivative "
                "at this x with (f(x + h) - f(x - h)) / (2h), h = 1e-5.")
    n_bad = int(np.sum(~ok))
    raise ExerciseError(
        f"{what} disagrees with finite differences at {n_bad} of {x.size} points; the worst is "
        f"x = {x[i]:g}: got {got[i]:.6g}, finite differences give {central[i]:.6g}.",
        hint,
    )


@exercise_check
def check_registration(info, forward) -> None:
    """Your name, formula and output range; the range must hold every value you compute."""
    what = "`my_activation_info()`"
    require_callable(info, what)
    got = call_answer(info, what=what)
    if not isinstance(got, dict):
        raise ExerciseError(f"{what} returned {type(got).__name__}, expected a dict.",
                            'return {"name": ..., "formula": ..., "output_range": (lo, hi)}.')
    missing = [k for k in ("name", "formula", "output_range") if k not in got]
    if missing:
        raise ExerciseError(f"{what} has no key(s) {', '.join(map(repr, missing))}.",
                            'return {"name": ..., "formula": ..., "output_range": (lo, hi)}.')
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
        raise ExerciseError(f"output_range must have lo < hi, got ({lo:g}, {hi:g}).", None)
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
    passed(f"{name!r}: observed values from {y.min():.4g} to {y.max():.4g} lie in your "
           f"output_range ({lo:g}, {hi:g}).")


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


@exercise_check
def check_gradient_check_function(max_gradient_error) -> None:
    """Your checker: central differences, a relative error, the given h, a single number."""
    what = "`max_gradient_error`"
    require_callable(max_gradient_error, what)
    x = np.linspace(-3.0, 3.0, 13)
    cases = [
        ("sin with its derivative cos", np.sin, np.cos, 1e-5,
         "use the central difference (f(x + h) - f(x - h)) / (2h): the one-sided "
         "(f(x + h) - f(x)) / h is ~1e5 times less accurate at h = 1e-5."),
        ("sin with the wrong derivative -cos", np.sin, lambda t: -np.cos(t), 1e-5,
         "compare df(x) with the finite difference of f; take the absolute value of the "
         "difference before the maximum."),
        ("100 sinh(x / 10) with 10 cosh(x / 10) + 0.5", lambda t: 100 * np.sinh(t / 10),
         lambda t: 10 * np.cosh(t / 10) + 0.5, 1e-5,
         "divide by max(1, |df(x)|, |fd|): a relative error where the slope is large, "
         "an absolute one where it is small."),
        ("sin with cos, h = 1e-2", np.sin, np.cos, 1e-2,
         "use the h you are given (do not fix h inside the function)."),
    ]
    for label, f, df, h, hint in cases:
        got = call_answer(max_gradient_error, f, df, x, h=h, what=what)
        expected = reference_max_gradient_error(f, df, x, h)
        check_number(got, expected, f"{what} on {label}", rtol=1e-3, atol=1e-12, hint=hint)
    passed(f"{what} computes the largest relative error of a derivative against central "
           "differences.")


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


@exercise_check
def check_stability(forward, derivative) -> None:
    """No warning, no inf/NaN, dtype kept, for |x| up to 1e4 in float32 and float64."""
    require_callable(forward, "`my_activation`")
    require_callable(derivative, "`my_derivative`")
    for fn, what in ((forward, "`my_activation`"), (derivative, "`my_derivative`")):
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
                raise ExerciseError(
                    f"{what} fails{where} ({np.dtype(dtype).name}): "
                    f"{(problem or err.problem).split(': ', 1)[-1]}",
                    "an exp() of a large number overflows (float32 already at x = 89): rewrite "
                    "so exp only sees values <= 0, e.g. softplus(x) = max(x, 0) + "
                    "log1p(exp(-|x|)), and avoid 0 * inf and inf / inf.",
                ) from None
            arr = np.asarray(out)
            if arr.shape != x.shape:
                raise ExerciseError(f"{what} returned shape {arr.shape} for input shape "
                                    f"{x.shape}.", "work elementwise.")
            if arr.dtype != x.dtype:
                raise ExerciseError(
                    f"{what} turned {np.dtype(dtype).name} input into {arr.dtype} output.",
                    "keep the input's dtype: Python numbers (1.0, 0.5) keep float32, but "
                    "np.float64 constants, np.array(..., dtype=float) or astype(float) promote it.",
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
                "a subtraction of two nearly equal numbers loses float32's 7 digits: "
                "use log1p / expm1 or an algebraically equal form.",
            )
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
    X, y = data.moons(n=64, noise=0.1, seed=3)
    hints = {
        "ratio": "ratio = norm of the first layer's dW divided by the last (output) layer's: "
                 "diagnostics.gradient_norms(net, X, y) gives one norm per layer, first first.",
        "dead": "average diagnostics.dead_fraction(net, X) over the hidden layers only "
                "(leave out the last entry, the output layer).",
        "flat": "use |f'(z)| < 0.01 (the absolute value: silu's and mish's derivatives are "
                "negative for some z) over every hidden layer's pre-activations, not the "
                "output layer's.",
    }
    for act, init, bias in (("relu", "he", -0.1), ("tanh", "normal", 0.0), ("silu", "he", -1.0)):
        net = nn.MLP([2, 12, 12, 12, 1], activation=act, output="sigmoid", init=init,
                     bias_init=bias, seed=1)
        got = _call_on_net(gradient_flow, net, X, y, what)
        expected = reference_gradient_flow(net, X, y)
        if not isinstance(got, dict):
            raise ExerciseError(f"{what} returned {type(got).__name__}, expected a dict.",
                                'return {"ratio": ..., "dead": ..., "flat": ...}.')
        for key, value in expected.items():
            if key not in got:
                raise ExerciseError(f"{what}'s dict has no key {key!r}.",
                                    'return {"ratio": ..., "dead": ..., "flat": ...}.')
            hint = hints[key]
            if key == "ratio" and isinstance(got[key], (int, float, np.number)) and \
                    np.isclose(float(got[key]) * value, 1.0, rtol=1e-6):
                hint = "your ratio is upside down: first layer divided by last layer."
            check_number(got[key], value, f"{what}(...)[{key!r}] for a {act} network", rtol=1e-6,
                         atol=1e-12, hint=hint)
    passed(f"{what} reports the gradient ratio and the dead and flat fractions correctly.")


# --------------------------------------------------------------------------------------
# Part 7: the comparison table
# --------------------------------------------------------------------------------------


class _FakeHistory:
    def __init__(self, val, train):
        self.val_accuracy = np.asarray(val, dtype=float)
        self.accuracy = np.asarray(train, dtype=float)
        self.loss = 1 - self.accuracy
        self.val_loss = 1 - self.val_accuracy


def _fake_train(calls):
    def train(name, dataset, seed):
        """A stand-in for training: a deterministic, recognisable fake History."""
        calls.append((name, dataset, seed))
        base = (len(name) + 3 * len(dataset) + 7 * seed) % 10 / 100
        val = np.array([0.5, 0.9 - base, 0.7 - base])  # best epoch != last epoch
        train_acc = val + 0.05
        return _FakeHistory(val, train_acc)
    return train


@exercise_check
def check_comparison_table(comparison_table) -> None:
    """Your table: {dataset: {activation: [final validation accuracy per seed]}}."""
    what = "`comparison_table`"
    require_callable(comparison_table, what)
    names, datasets, seeds = ["relu", "tanh", "mine"], ["moons", "spirals"], [0, 1, 2]
    calls: list = []
    got = call_answer(comparison_table, _fake_train(calls), names, datasets, seeds, what=what)
    ref_calls: list = []
    ref_train = _fake_train(ref_calls)
    expected = {ds: {n: [float(ref_train(n, ds, s).val_accuracy[-1]) for s in seeds]
                     for n in names} for ds in datasets}
    if not isinstance(got, dict):
        raise ExerciseError(f"{what} returned {type(got).__name__}, expected a dict.",
                            "return {dataset: {activation: [accuracy for each seed]}}.")
    if sorted(calls) != sorted(ref_calls):
        raise ExerciseError(
            f"{what} called train {len(calls)} times; expected once for each of the "
            f"{len(ref_calls)} (activation, dataset, seed) combinations.",
            "three nested loops over datasets, activations and seeds (or a comprehension).",
        )
    if list(got) != datasets:
        raise ExerciseError(f"{what}'s outer keys are {list(got)}, expected the datasets "
                            f"{datasets}.", "the outer dict maps each dataset to a row.")
    for ds in datasets:
        row = got[ds]
        if not isinstance(row, dict) or list(row) != names:
            keys = list(row) if isinstance(row, dict) else type(row).__name__
            raise ExerciseError(f"{what}[{ds!r}] has keys {keys}, expected the activations "
                                f"{names}.", "the inner dict maps each activation to a list.")
        for n in names:
            values = row[n]
            hint = None
            arr = np.asarray(values, dtype=float) if np.ndim(values) == 1 else None
            if arr is not None and arr.shape == (len(seeds),):
                train_last = [float(ref_train(n, ds, s).accuracy[-1]) for s in seeds]
                best = [float(ref_train(n, ds, s).val_accuracy.max()) for s in seeds]
                if np.allclose(arr, train_last):
                    hint = "that is the training accuracy: use history.val_accuracy."
                elif np.allclose(arr, best):
                    hint = ("that is the best epoch's accuracy, chosen by looking at the "
                            "validation set: report the last epoch, history.val_accuracy[-1].")
            check_array(values, expected[ds][n], f"{what}[{ds!r}][{n!r}]", rtol=1e-9,
                        hint=hint or "one entry per seed, in the order of `seeds`: "
                        "history.val_accuracy[-1].")
    passed(f"{what} builds {{dataset: {{activation: [accuracy per seed]}}}} with one training "
           "run per combination.")
