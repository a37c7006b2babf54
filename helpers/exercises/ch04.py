"""Checks for chapter 4, softmax: stable softmax, cross-entropy, its gradient, temperature.

Each check calls the student's function on copies of small inputs that it shows in its
messages (non-square batches, mixed signs, rows of very different scale, logits of +-1e4,
float32), compares with a reference computed here, and names the mistake when the result
matches a known wrong formula (a missing max-subtraction, a wrong axis, a sum instead of a
mean, a flipped sign); otherwise it says what differs, on which input. Overflow warnings
raised inside the student's function are caught and reported as part of the feedback,
never left on stderr. Every constraint the task text states is enforced: no Python loop
(nor a numpy call that loops in Python), no call to the course's own softmax where the
task says "write it yourself", float32 in gives float32 out for the softmax.
"""

from __future__ import annotations

import re
import types
import warnings

import numpy as np

from ._core import (
    ExerciseError,
    as_numeric_array,
    call_answer,
    check_array,
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


def _per_sample_losses(logits, y, axis=1) -> np.ndarray:
    return -_log_softmax(logits, axis=axis)[np.arange(len(y)), np.asarray(y)]


def _cross_entropy(logits, y) -> float:
    return float(_per_sample_losses(logits, y).mean())


def _cross_entropy_grad(logits, y) -> np.ndarray:
    logits = np.asarray(logits, dtype=float)
    y = np.asarray(y)
    onehot = np.zeros_like(logits)
    onehot[np.arange(len(y)), y] = 1.0
    return (_softmax(logits, axis=1) - onehot) / len(y)


# --------------------------------------------------------------------------------------
# Shared machinery: calling the answer, reading its code
# --------------------------------------------------------------------------------------


def _call(fn, *args, what: str, call: str, shapes_hint: str | None = None, **kwargs):
    """call_answer, with numpy's floating-point warnings captured instead of printed.

    Returns the result and the first RuntimeWarning message (or None). An error raised by
    the answer is reported on ``call`` (the input it was given, so the student can rerun
    it); a broadcasting error gets ``shapes_hint`` (what the shapes in this exercise are)
    instead of the generic "read the error" hint, and an import of a library that is not
    installed says that the exercise is numpy only.
    """
    with warnings.catch_warnings(record=True) as caught, np.errstate(
        over="warn", invalid="warn", divide="warn", under="ignore"
    ):
        warnings.simplefilter("always", RuntimeWarning)
        try:
            result = call_answer(fn, *args, what=what, **kwargs)
        except ExerciseError as err:
            if not err.problem.startswith(f"{what} raised "):
                raise  # not an error of the answer's own code (e.g. an in-place change)
            problem = call + err.problem[len(what):]
            missing = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", problem)
            if missing:
                raise ExerciseError(
                    problem, f"`{missing.group(1)}` is not installed here, and this exercise "
                    "is numpy only: build the answer from numpy operations.") from None
            if shapes_hint and "broadcast" in err.problem:
                raise ExerciseError(problem, shapes_hint) from None
            raise ExerciseError(problem, err.hint) from None
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return result, (runtime[0] if runtime else None)


def _functions_reached(fn):
    """``fn`` and the functions of the same module (the notebook) that it calls, by name."""
    seen, todo, found = set(), [fn], []
    while todo:
        f = todo.pop()
        code = getattr(f, "__code__", None)
        if not isinstance(code, types.CodeType) or id(f) in seen:
            continue
        seen.add(id(f))
        found.append(f)
        codes = [code]
        while codes:
            co = codes.pop()
            codes.extend(c for c in co.co_consts if isinstance(c, types.CodeType))
            for name in co.co_names:
                g = getattr(f, "__globals__", {}).get(name)
                if isinstance(g, types.FunctionType) and g.__module__ == f.__module__:
                    todo.append(g)
    return found


def _require_no_loop(fn, what: str) -> None:
    """Refuse a Python loop, also one hidden in a helper the answer calls or in np.vectorize."""
    check_vectorised(fn, what)


# Libraries whose softmax an exercise may ask you not to call.
_LIBRARY_MODULES = ("helpers", "scipy", "torch", "jax", "tensorflow", "sklearn")


def _forbid_library(fn, names: set[str], what: str, task: str) -> None:
    """Refuse an answer that calls the course's (or a library's) function named in ``names``."""
    for f in _functions_reached(fn):
        codes = [f.__code__]
        while codes:
            co = codes.pop()
            codes.extend(c for c in co.co_consts if isinstance(c, types.CodeType))
            for name in set(co.co_names) & names:
                obj = getattr(f, "__globals__", {}).get(name)
                own = isinstance(obj, types.FunctionType) and not str(
                    getattr(obj, "__module__", "")).startswith(_LIBRARY_MODULES)
                if own:
                    continue  # the student's own function that happens to share the name
                raise ExerciseError(
                    f"{what} calls `{name}` from a library (the course's helpers, or scipy); "
                    f"{task}",
                    "build it from numpy operations: np.max, np.exp, np.sum, np.log.")


def _fmt(a) -> str:
    """A small array as a compact list, for messages."""
    return str(np.round(np.asarray(a, dtype=float), 4).tolist())


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=1e-9))


def _warned(warning: str | None) -> str:
    return f" (numpy warned: {warning})" if warning else ""


# --------------------------------------------------------------------------------------
# Exercise 1: a numerically stable softmax over any axis
# --------------------------------------------------------------------------------------

_SMALL = np.array([2.0, 1.0, 0.1])
# Non-square, mixed signs, a tie in the last row: a wrong axis or a missing keepdims shows.
_TABLE = np.array([[1.0, 2.0, 3.0, 0.5], [0.0, -1.0, 2.0, 2.0], [3.0, 0.0, -2.0, 1.0]])
_CUBE = np.arange(24, dtype=float).reshape(2, 3, 4) / 5.0 - 2.0
# Extreme rows: every logit large, every logit very negative, and a wide spread within a
# row (subtracting the minimum or the mean instead of the maximum still overflows there).
_EXTREMES = (
    np.array([1000.0, 1001.0, 1002.0]),
    np.array([-1000.0, -1001.0, -1003.0]),
    np.array([1e4, 0.0, -1e4]),
    np.array([90.0, 91.0, 92.0], dtype=np.float32),  # exp(89) overflows float32
    np.array([1e4, 0.0, -1e4], dtype=np.float32),
)
# Rows (and columns) of very different scale: the maximum of the whole array is wrong here.
_MIXED = np.array([[0.0, 1.0, 2.0], [1000.0, 1001.0, 1002.0]])
_RANDOM = np.random.default_rng(4).normal(0.0, 3.0, size=(5, 7))
_WRITE_IT = "this exercise asks you to write the softmax yourself."


def _check_softmax_case(fn, z, axis, what: str) -> None:
    """One call of the student's softmax: shape, finite, sums to 1, values, float32."""
    call = (f"{what}(z) for z = {_fmt(z)}" if axis is None and z.size <= 4 else
            f"{what}(Z, axis={axis}) for Z of shape {z.shape}" + (
                f" = {_fmt(z)}" if z.size <= 12 else ""))
    kwargs = {} if axis is None else {"axis": axis}
    ax = -1 if axis is None else axis
    got, warning = _call(fn, z, what=what, call=call, shapes_hint=(
        "a reduction along `axis` drops that axis unless you keep it (keepdims=True); only "
        "then does the result line up with z for the subtraction and the division."), **kwargs)
    raw = got
    got = as_numeric_array(got, call, "return the array of probabilities.")
    if getattr(raw, "dtype", None) != z.dtype:
        raise ExerciseError(
            f"{call} returned {getattr(raw, 'dtype', type(raw).__name__)}; for {z.dtype} logits "
            f"the task asks for {z.dtype} probabilities (keep the input's dtype).",
            "numpy keeps an array's dtype as long as every step works on arrays of that dtype; "
            "converting the input (or an intermediate result) to another float type changes "
            "the dtype, and the precision, of everything after it.")
    expected = _softmax(z, axis=ax)
    rtol = 1e-5 if z.dtype == np.float32 else 1e-6
    if got.shape != expected.shape:
        check_array(got, expected, call, hint="the softmax has the shape of its input: "
                    "reduce along `axis` with keepdims=True so the shapes line up.")
    # Slices of very different scale (one row near 0, one near 1000): a constant shared by
    # the whole array suits one slice and leaves the other all 0 (0/0) or all inf.
    mixed_scales = z.ndim > 1 and np.ptp(z.max(axis=ax)) > 100
    if warning is not None or not np.all(np.isfinite(got)):
        raise ExerciseError(
            f"{call} gave {_fmt(got)}{_warned(warning)}; the answer is {_fmt(expected)}.",
            "the slices of this array differ in scale by 1000: the constant you subtract must "
            "come from each slice itself, so that every slice's largest exponent is exactly 0 "
            "(its sum is then >= 1, never 0 or inf)." if mixed_scales else
            "exp of a large logit overflows to inf (above about 709.8 in float64, 88.7 in "
            "float32) and of a very negative one underflows to 0, so inf/inf or 0/0 gives NaN. "
            "Softmax does not change when you add the same constant to every logit of a slice: "
            "choose the constant so that exp only sees values <= 0.")
    if _close(got, expected, rtol):
        return
    if z.ndim > 1 and _close(got, _softmax(z.ravel()).reshape(z.shape), rtol):
        raise ExerciseError(
            f"{call} normalised over the whole array (all {z.size} values sum to 1) instead of "
            f"along axis {ax}.",
            "reduce along `axis` only (keepdims=True), so each slice along the axis sums to 1.")
    if z.ndim > 1:
        for other in range(z.ndim):
            if other != ax % z.ndim and _close(got, _softmax(z, axis=other), rtol):
                raise ExerciseError(
                    f"{call} normalised along axis {other} instead of axis {ax}.",
                    "use the `axis` argument you were given rather than a fixed axis.")
    # Right to two or three digits only: the rounding of a low-precision computation
    # (float16 keeps about 3 significant digits), not a wrong formula.
    if np.allclose(got, expected, rtol=1e-2, atol=1e-3):
        worst = float(np.max(np.abs(got - expected)))
        raise ExerciseError(
            f"{call} gave {_fmt(got)}; expected {_fmt(expected)}: right to about "
            f"{max(1, int(-np.log10(worst)))} decimals only (largest difference {worst:.1e}), "
            f"where {z.dtype} keeps about {np.finfo(z.dtype).precision} digits.",
            "a difference this small is rounding: every step should work in the input's own "
            "precision, not in a lower one.")
    sums = got.sum(axis=ax)
    if not np.allclose(sums, 1.0, rtol=1e-5):
        raise ExerciseError(
            f"{call} gave slices along axis {ax} that sum to {_fmt(sums)}, not 1: got "
            f"{_fmt(got)}, expected {_fmt(expected)}.",
            "softmax divides each exponential by the sum of the exponentials of its slice.")
    if mixed_scales:
        raise ExerciseError(
            f"{call} gave {_fmt(got)}; expected {_fmt(expected)}. The slices differ in scale "
            "by 1000.",
            "the constant subtracted from a slice must come from that slice (its own maximum), "
            "so that every slice has an exponent of exactly 0.")
    check_array(got, expected, call, rtol=rtol,
                hint="softmax(z)_i = exp(z_i) / sum_j exp(z_j) along the axis, computed with "
                "the same constant subtracted from every logit of a slice.")


@exercise_check
def check_stable_softmax(fn) -> None:
    """Exercise: ``stable_softmax(z, axis=-1)``: max-subtracted, any axis, vectorised, float32."""
    what = "`stable_softmax`"
    _check_softmax_case(fn, _SMALL, None, what)
    for axis in (-1, 1, 0):
        _check_softmax_case(fn, _TABLE, axis, what)
    _check_softmax_case(fn, _TABLE.astype(np.float32), 0, what)
    for axis in (1, 0, -1):
        _check_softmax_case(fn, _CUBE, axis, what)
    for z in _EXTREMES:
        _check_softmax_case(fn, z, None, what)
    _check_softmax_case(fn, _MIXED, 1, what)
    _check_softmax_case(fn, _MIXED.T.copy(), 0, what)
    _check_softmax_case(fn, _RANDOM, 0, what)
    _check_softmax_case(fn, _RANDOM, 1, what)
    _require_no_loop(fn, what)
    _forbid_library(fn, {"softmax", "log_softmax", "logsumexp"}, what, _WRITE_IT)
    passed(f"{what} is right: each slice along `axis` sums to 1, logits of +-1e4 give finite "
           "probabilities with no warning, and float32 stays float32.")


# --------------------------------------------------------------------------------------
# Exercise 2: cross-entropy from logits
# --------------------------------------------------------------------------------------

# Each batch is shown in full in any message about it, so the student can rerun it.
_LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 1.0], [-1.0, 0.0, 3.0]])
_LABELS = np.array([0, 1, 2, 0])
_WIDE = np.array([[0.2, -1.0, 3.0, 0.0, 1.5], [2.0, 0.0, -0.5, 1.0, 0.3],
                  [-2.0, 1.0, 0.0, 0.5, 4.0]])
_WIDE_LABELS = np.array([4, 0, 2])
_RNG = np.random.default_rng(7)
_RANDOM_LOGITS = _RNG.normal(0.0, 2.0, size=(6, 4))
_RANDOM_LABELS = _RNG.integers(0, 4, size=6)
_ORDINARY = ((_LOGITS, _LABELS), (_WIDE, _WIDE_LABELS), (_RANDOM_LOGITS, _RANDOM_LABELS))
# Confident answers: wrong (loss about 2000), rows of very different scale, +-1e4, float32.
_EXTREME = np.array([[1000.0, 0.0, -1000.0], [0.0, 1001.0, 1000.0]])
_EXTREME_LABELS = np.array([2, 2])
_LARGE = ((_EXTREME, _EXTREME_LABELS),
          (_MIXED, np.array([0, 1])),
          (np.array([[1e4, 0.0, -1e4], [1e4, 0.0, 0.0]]), np.array([2, 0])),
          (np.array([[90.0, 0.0, -90.0], [1.0, 2.0, 3.0]], dtype=np.float32), np.array([2, 1])))
_CE_SHAPES = ("in this exercise `logits` has shape (n, k) and `y` holds n integer labels, "
              "shape (n,), not one-hot rows; a reduction over the classes keeps its axis "
              "(keepdims=True) so it lines up with the logits.")


def _batch(logits, y) -> str:
    return f"logits = {_fmt(logits)}, y = {np.asarray(y).tolist()}"


def _loss_value(got, call: str, n: int, expected: float) -> float:
    if isinstance(got, np.ndarray) and got.size == n and n > 1:
        raise ExerciseError(
            f"{call} returned {n} numbers (one loss per sample); expected their mean, "
            f"{expected:.4f}.", "the loss of a batch is one number: the average over samples.")
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if got is None:
        raise ExerciseError(f"{call} returned None.", "did you forget the `return` statement?")
    if isinstance(got, bool) or not isinstance(got, (int, float, np.number)):
        raise ExerciseError(f"{call} should return one number, got {type(got).__name__} "
                            f"{got!r:.60}.", "return the mean loss as a float.")
    return float(got)


@exercise_check
def check_cross_entropy(fn) -> None:
    """Exercise: ``cross_entropy(logits, y)``: mean of -log softmax(logits)[i, y_i], stably."""
    what = "`cross_entropy`"
    for logits, y in _ORDINARY:
        n = len(y)
        call = f"{what} on the batch {_batch(logits, y)}"
        got, _ = _call(fn, logits, y, what=what, call=call, shapes_hint=_CE_SHAPES)
        expected = _cross_entropy(logits, y)
        value = _loss_value(got, call, n, expected)
        if np.isclose(value, expected, rtol=1e-6, atol=1e-9):
            continue
        per_sample = _per_sample_losses(logits, y)
        if np.isclose(value, -expected, rtol=1e-6):
            raise ExerciseError(
                f"{call} is {value:.4f}: the right size but the wrong sign.",
                "the loss is minus the log-probability: a probability's log is negative, so "
                "the loss is >= 0.")
        if np.isclose(value, n * expected, rtol=1e-6):
            raise ExerciseError(
                f"{call} is {value:.4f}, the sum over the {n} samples; expected the mean, "
                f"{expected:.4f}.", "the loss of a batch is the average of the per-sample losses.")
        if np.isclose(value, float(_per_sample_losses(logits, y, axis=0).mean()), rtol=1e-6):
            raise ExerciseError(
                f"{call} is {value:.4f}, expected {expected:.4f}: your log-probabilities are "
                "normalised down the columns (over the samples, axis 0), not along each row.",
                "each sample's probabilities are over its k classes: normalise each row.")
        if np.isclose(value, float(-_log_softmax(logits)[:, y].mean()), rtol=1e-6):
            raise ExerciseError(
                f"{call} is {value:.4f}, expected {expected:.4f}: that is the mean of a "
                f"{n} x {n} table, every row's log-probability at every sample's label.",
                "each sample contributes one entry: row i at column y_i (pair the row index "
                "with the label, element by element).")
        raise ExerciseError(
            f"{call} is {value:.4f}, expected {expected:.4f} (the per-sample losses "
            f"-log p_(i, y_i) are {_fmt(per_sample)}).",
            "the loss is the mean over the rows of minus the log-probability of the row's own "
            "label, with the log-probabilities normalised along each row.")

    for logits, y in _LARGE:
        call = f"{what} on the batch {_batch(logits, y)}"
        if logits.dtype == np.float32:
            call += " (float32)"
        got, warning = _call(fn, logits, y, what=what, call=call, shapes_hint=_CE_SHAPES)
        expected = _cross_entropy(logits, y)
        value = _loss_value(got, call, len(y), expected)
        rtol = 1e-5 if logits.dtype == np.float32 else 1e-6
        if warning is None and np.isclose(value, expected, rtol=rtol, atol=1e-6):
            continue
        per_sample = _per_sample_losses(logits, y)
        raise ExerciseError(
            f"{call} gave {value:.6g}{_warned(warning)}; the answer is {expected:.4f} (the "
            f"per-sample losses are {_fmt(per_sample)}). Your loss is right on ordinary logits, "
            "so what goes wrong is the size of these logits.",
            "with logits this large, exp overflows and probabilities round to 0 in floating "
            "point: once a probability is 0 (or floored), its log is lost. Compute log p from the "
            "logits in one expression, log p_i = z_i - m - log(sum_j exp(z_j - m)) with m "
            "the row's largest logit.")

    _require_no_loop(fn, what)
    _forbid_library(fn, {"softmax", "log_softmax", "logsumexp"}, what,
                    "this exercise asks you to write the log-sum-exp yourself.")
    passed(f"{what} is right, and stays finite for confident wrong answers with logits "
           "of +-1e4.")


# --------------------------------------------------------------------------------------
# Exercise 3: the gradient of cross-entropy with respect to the logits
# --------------------------------------------------------------------------------------

_GRAD_CASES = _ORDINARY + _LARGE


@exercise_check
def check_cross_entropy_grad(fn) -> None:
    """Exercise: ``cross_entropy_grad(logits, y)`` = (softmax(logits) - onehot(y)) / n."""
    what = "`cross_entropy_grad`"
    for logits, y in _GRAD_CASES:
        n, k = logits.shape
        call = f"{what} on the batch {_batch(logits, y)}"
        got, warning = _call(fn, logits, y, what=what, call=call, shapes_hint=_CE_SHAPES)
        got = as_numeric_array(got, call, "return the (n, k) array of gradients.")
        expected = _cross_entropy_grad(logits, y)
        rtol = 1e-5 if logits.dtype == np.float32 else 1e-6
        if got.shape != expected.shape:
            check_array(got, expected, call, hint="the gradient has one entry per logit: the "
                        "shape (n, k) of `logits`.")
        if warning is not None or not np.all(np.isfinite(got)):
            raise ExerciseError(
                f"{call} gave {_fmt(got)}{_warned(warning)}; expected {_fmt(expected)}.",
                "the probabilities need a stable (max-subtracted) softmax: the gradient itself "
                "is always between -1/n and 1/n.")
        if _close(got, expected, rtol):
            continue
        onehot = np.eye(k)[y]
        p = _softmax(logits, axis=1)
        known = (
            (-expected, "has the wrong sign everywhere",
             "the gradient points uphill: the label's logit raises the loss least, so its entry "
             "is negative and the other classes' are positive."),
            (n * expected, f"is {n} times too large: the gradient of the summed loss",
             "the loss is the mean over the n samples, so its gradient carries a 1/n."),
            (n * expected / k, f"is divided by k = {k} (the number of classes) instead of "
             f"n = {n} (the number of samples)",
             "the 1/n comes from averaging the loss over the samples."),
            (2 * expected, "is twice the answer",
             "the factor 2 belongs to a squared error; cross-entropy's gradient has none."),
            (p / n, "has no -1 at the labels: it is p / n",
             "the target enters the gradient: subtract 1 at each row's own label."),
            ((p - np.asarray(y, dtype=float)[:, None]) / n,
             "subtracts the label's value y_i from every entry of row i",
             "the target is a one-hot row (1 at column y_i, 0 elsewhere), not the number y_i."),
            ((p - np.isin(np.arange(k), y)[None, :]) / n,
             "subtracts 1 in every column that is some sample's label, in every row",
             "each row gets a single -1, at its own label (pair the row index with its label)."),
            ((_softmax(logits, axis=0) - onehot) / n,
             "uses probabilities normalised down the columns (axis 0)",
             "each sample's probabilities are over its own k classes: normalise each row."),
        )
        for wrong, problem, hint in known:
            if _close(got, wrong, rtol):
                raise ExerciseError(f"{call} {problem}: got {_fmt(got)}, expected "
                                    f"{_fmt(expected)}.", hint)
        check_array(got, expected, call, rtol=rtol,
                    hint="entry (i, j) is (p_ij - [j == y_i]) / n, with p each row's softmax.")
    _require_no_loop(fn, what)
    passed(f"{what} is right: (softmax(z) - onehot(y)) / n, bounded even for confident "
           "wrong answers.")


# --------------------------------------------------------------------------------------
# Exercise 4: the temperature that gives the top class a target probability
# --------------------------------------------------------------------------------------

_TEMPERATURE_CASES = [
    (np.array([2.0, 1.0, 0.1]), 0.9),
    (np.array([2.0, 1.0, 0.1]), 0.5),                 # T > 1
    (np.array([0.5, 2.0, 1.0, -0.3]), 0.99),          # the top class is not class 0
    (np.array([0.3, 0.1, 0.2, 0.0, -0.1]), 0.3),
    (np.array([0.03, 0.02, 0.0]), 0.9),               # T about 0.0045: near the interval's end
    (np.array([100.0, 0.0, -50.0]), 0.5),             # T about 178
    (np.array([1000.0, 999.0, 990.0]), 0.9),          # logits / T overflow a naive exp
]


def _top_probability(z: np.ndarray, temperature: float) -> float:
    return float(_softmax(z / temperature).max())


def _one_number(got, what: str) -> float:
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    if isinstance(got, bool) or not isinstance(got, (int, float, np.number)):
        raise ExerciseError(f"{what} should return one number, got {type(got).__name__} "
                            f"{got!r:.60}.", "return the temperature T as a float.")
    return float(got)


@exercise_check
def check_temperature_for(fn) -> None:
    """Exercise: ``temperature_for(logits, target)``: T > 0 where max softmax(z / T) = target."""
    what = "`temperature_for`"
    for z, target in _TEMPERATURE_CASES:
        call = f"{what}({_fmt(z)}, target={target})"
        got, warning = _call(fn, z, target, what=what, call=call)
        t = _one_number(got, call)
        if np.isfinite(t) and abs(t) < 700 and abs(
                _top_probability(z, float(np.exp(t))) - target) <= 1e-4:
            raise ExerciseError(
                f"{call} returned {t:.4g}, which looks like log T: at T = exp({t:.4g}) = "
                f"{np.exp(t):.4g} the top class gets the target {target}.",
                "a bisection on log T finds log T; the temperature is its exponential.")
        if not np.isfinite(t) or t <= 0:
            raise ExerciseError(f"{call} returned T = {t:.4g}; a temperature must be > 0 "
                                "(and finite).",
                                "search T in the interval [1e-3, 1e3], where the answers lie.")
        p_top = _top_probability(z, t)
        if abs(p_top - target) <= 1e-4 and warning is None:
            continue
        if warning is not None:
            raise ExerciseError(
                f"{call} returned T = {t:.4g}{_warned(warning)}; at that T the top class gets "
                f"p = {p_top:.4f}, target {target}.",
                "at a small T the logits / T are huge and a naive exp overflows: compute the "
                "probabilities with a max-subtracted softmax.")
        if abs(_top_probability(z, 1.0 / t) - target) <= 1e-4:
            raise ExerciseError(
                f"{call} returned {t:.4g}, which looks like 1/T (the inverse temperature): "
                f"at T = {t:.4g} the top class gets p = {p_top:.4f}.",
                "the logits are divided by T.")
        direction = ("too sharp: a larger T flattens the distribution"
                     if p_top > target else "too flat: a smaller T sharpens the distribution")
        top = int(np.argmax(z))
        class0 = "" if top == 0 else (
            f" (class 0, not the top class here, gets p = {_softmax(z / t)[0]:.6f})")
        raise ExerciseError(
            f"{call} returned T = {t:.4g}, at which the most probable class, class {top} "
            f"(logit {z[top]:g}), gets p = {p_top:.6f}, not {target} (to within 1e-4){class0}.",
            f"{direction}. The target is for the most probable class, whichever its index. "
            "Its probability falls steadily as T grows (from 1 at T -> 0 to 1/k at "
            "T -> infinity), so halving an interval around the crossing, often enough, "
            "finds it.")
    passed(f"{what} is right: in every case the top class reaches the target probability "
           "(to 1e-4).")
