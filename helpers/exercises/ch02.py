"""Checks for chapter 2: sigmoid, tanh and vanishing gradients.

Each check calls the student's function on copies of its inputs (``call_answer``), prints a
line starting with a tick when the answer is right, and otherwise raises ``ExerciseError``
saying what differs, on inputs the message shows, with one hint that names the idea.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import math
import sys
import textwrap

import numpy as np

from .. import activations, diagnostics, nn
from ._core import (
    ExerciseError,
    NotAnsweredYet,
    call_answer,
    check_vectorised,
    exercise_check,
    passed,
    require_callable,
)

__all__ = [
    "check_sigmoid_prime_from_output",
    "check_sigmoid_shrink_bound",
    "check_tanh_init_std",
]


# --------------------------------------------------------------------------------------
# Shared pieces: what a function's source calls, and whether it calls the course's code
# --------------------------------------------------------------------------------------

def _code_objects(fn):
    """``fn``'s code object and every one nested in it (comprehensions, inner functions)."""
    stack = [getattr(fn, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is not None:
            yield code
            stack.extend(c for c in code.co_consts if hasattr(c, "co_code"))


def _source_tree(fn):
    """The parsed source of ``fn``, or None (a lambda inside a larger expression, no source)."""
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _called_names(fn) -> list[tuple[str, int | None]]:
    """(name, line) of every call in ``fn``: `np.log(...)` gives ('log', line).

    Read from the source; where the source cannot be parsed on its own, from the names the
    compiled code uses (without line numbers).
    """
    tree = _source_tree(fn)
    if tree is None:
        return [(name, None) for code in _code_objects(fn) for name in code.co_names]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                names.append((func.id, node.lineno))
            elif isinstance(func, ast.Attribute):
                names.append((func.attr, node.lineno))
    return names


def _where_line(line: int | None) -> str:
    return f" (line {line} of the function)" if line else ""


def _check_loop_free(fn, what: str) -> None:
    """No Python loop, nor a loop in disguise (np.vectorize, map); a hint with no code to copy."""
    try:
        check_vectorised(fn, what)
    except ExerciseError as err:
        raise ExerciseError(err.problem, "arithmetic operators and numpy's functions work "
                            "on a whole array at once.") from None


@contextlib.contextmanager
def _record_course_calls(seen: list):
    """While active, append the name of every helpers.activations function that runs."""
    course_file = activations.__file__
    previous = sys.getprofile()

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == course_file:
            seen.append(getattr(frame.f_code, "co_qualname", frame.f_code.co_name))

    sys.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _quiet_call(fn, *args, what: str, course_calls: list | None = None):
    """call_answer with numpy's warnings off (the check reports inf and NaN itself)."""
    recorder = (_record_course_calls(course_calls) if course_calls is not None
                else contextlib.nullcontext())
    with np.errstate(all="ignore"), recorder:
        return call_answer(fn, *args, what=what)


def _worst(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float):
    """Index of the largest mismatch (NaN counts as the worst), or None if all close."""
    close = np.isclose(got, expected, rtol=rtol, atol=atol)
    if np.all(close):
        return None
    err = np.where(close, 0.0, np.abs(got - expected))
    err = np.where(np.isnan(err), np.inf, err)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape)), int(
        np.sum(~close))


# --------------------------------------------------------------------------------------
# Exercise 1: sigmoid's derivative written with its output
# --------------------------------------------------------------------------------------

# Recovering x from s (log, arctanh, logit) or evaluating a sigmoid again (exp, tanh, expit)
# is what "use only s" rules out; s (1 - s) needs none of them.
_NOT_ONLY_S = {"log", "log1p", "log2", "log10", "logit", "exp", "expm1", "exp2", "expit",
               "arctanh", "atanh", "tanh", "sigmoid"}


def _sigmoid_cases() -> dict[str, np.ndarray]:
    """Sigmoid outputs s, in the shapes and values where wrong answers show.

    Non-square 2-D (a transposed or flattened answer shows), 1-D and 3-D (any shape), seeded
    random pre-activations of both signs and two deep in saturation (s within 1e-13 of 0 and
    1, where s - s^2 must still be right), and the exact values 0.0 and 1.0 a float reaches.
    """
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(0.0, 4.0, 34), [-30.0, 30.0]])
    return {
        "main": activations.sigmoid(x).reshape(4, 9),
        "exact": np.array([[0.0, 0.5, 1.0], [1.0, 0.25, 0.0]]),
        "exact float32": np.array([[0.0, 0.5, 1.0], [1.0, 0.25, 0.0]], dtype=np.float32),
        "1-D": activations.sigmoid(rng.normal(0.0, 3.0, 7)),
        "3-D": activations.sigmoid(rng.normal(0.0, 3.0, (2, 3, 5))),
    }


def _as_array_result(got, s: np.ndarray, what: str) -> np.ndarray:
    """The student's result as an array of s's shape, or a clear error."""
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    if not isinstance(got, np.ndarray):
        raise ExerciseError(
            f"{what} returned a {type(got).__name__}, not a numpy array, for an input array "
            f"of shape {s.shape}.",
            "keep the result an array: arithmetic on a numpy array returns one.")
    if got.shape != s.shape:
        extra = " (the same values reshaped?)" if got.size == s.size else ""
        raise ExerciseError(
            f"{what} returned shape {got.shape} for an input of shape {s.shape}{extra}; the "
            "derivative belongs at the same places as s.",
            "work elementwise on s, without flattening or reshaping it.")
    if got.dtype.kind != "f":
        raise ExerciseError(f"{what} returned dtype {got.dtype}, expected floats.",
                            "derivatives are real numbers: keep the float dtype of s.")
    return got


def _sigmoid_prime_values(answer, s: np.ndarray, what: str, rtol: float, atol: float) -> None:
    """Compare answer(s) with s (1 - s) and say where (s and x) they differ."""
    got = _as_array_result(_quiet_call(answer, s, what=what), s, what)
    if got.dtype != s.dtype:
        raise ExerciseError(
            f"{what} turned a {s.dtype} input into {got.dtype}.",
            "arithmetic between an array and plain Python numbers keeps the array's dtype; a "
            "float64 array or np.float64 number in the expression changes it.")
    s64 = s.astype(float)
    expected = s64 * (1 - s64)
    worst = _worst(got.astype(float), expected, rtol, atol)
    if worst is None:
        return
    idx, n_bad = worst
    with np.errstate(divide="ignore"):
        x = np.log(s64[idx]) - np.log1p(-s64[idx])
    hint = ("differentiate 1 / (1 + e^-x) and write every e^-x part with s: section 1 shows "
            "that sigma' needs nothing but the output.")
    bad = ~np.isclose(got.astype(float), expected, rtol=rtol, atol=atol)
    if np.all((s64[bad] == 0) | (s64[bad] == 1)):
        hint = ("only the values at s = 0 and s = 1 differ: there the curve is flat and "
                "sigma'(x) is exactly 0, which the formula in s gives without any change.")
    raise ExerciseError(
        f"{what} differs from sigma'(x) in {n_bad} of {s.size} values of this {s.dtype} "
        f"input of shape {s.shape}; the largest difference is at s = {float(s64[idx])!r} "
        f"(x = {x:.4g}): got {got[idx]:.6g}, expected {expected[idx]:.6g}.", hint)


@exercise_check
def check_sigmoid_prime_from_output(answer) -> None:
    """Check ``answer(s)`` gives sigma'(x) from s = sigma(x): only s, no loop, shape/dtype kept.

    Rejected: a flipped sign, sigma'(s) (the sigmoid applied again), tanh's rule, recovering x
    (log, arctanh, logit) or re-evaluating a sigmoid (exp), calling the course's activations,
    a Python loop (also np.vectorize), another shape or dtype, anything but exactly 0 at s = 0
    and s = 1 (a clipped answer) and exactly 1/4 at s = 1/2.
    """
    what = "`sigmoid_prime_from_output(s)`"
    require_callable(answer, what)
    cases = _sigmoid_cases()
    s = cases["main"]
    course_calls: list[str] = []
    got = _as_array_result(_quiet_call(answer, s, what=what, course_calls=course_calls), s,
                           what)
    expected = s * (1 - s)
    known = {
        "has the wrong sign: sigma only increases, so sigma'(x) is never negative.": -expected,
        "is sigma'(s), the slope at the point s, not at x: you applied the sigmoid to s again, "
        "but s is already sigma(x).": activations.sigmoid(s) * (1 - activations.sigmoid(s)),
        "is tanh's rule 1 - t^2 applied to s; the sigmoid's derivative is a different "
        "function of its output.": 1 - s**2,
    }
    for problem, value in known.items():
        if np.allclose(got, value, rtol=1e-6, atol=1e-12):
            idx = np.unravel_index(int(np.argmax(np.abs(value - expected))), s.shape)
            raise ExerciseError(
                f"{what} {problem} (At s = {s[idx]:.4g} it returns {got[idx]:.4g}; sigma'(x) "
                f"is {expected[idx]:.4g}.)",
                "sigma'(x) is the slope of the sigmoid at x; section 1 writes it with the "
                "output s alone.")
    if course_calls:
        raise ExerciseError(
            f"{what} calls the course's own activation code (helpers.activations: "
            f"{course_calls[0]}); this exercise asks you to write sigma'(x) yourself.",
            "the derivative is a short formula in s: arithmetic on s is all it takes.")
    for name, line in _called_names(answer):
        if name in _NOT_ONLY_S:
            raise ExerciseError(
                f"{what} calls `{name}`{_where_line(line)}: that recovers x from s "
                "or evaluates a sigmoid again, and the task says to use only s.",
                "sigma'(x) is a polynomial in s = sigma(x): no log or exp is needed.")
    _sigmoid_prime_values(answer, s, what, rtol=1e-6, atol=1e-12)
    # At s = 0, 1/2 and 1 the derivative is 0, 1/4 and 0 exactly, in float64 and float32 alike:
    # no tolerance, so an answer clipped or nudged away from 0 (even by 1e-12) shows.
    for label in ("exact", "exact float32"):
        _sigmoid_prime_values(answer, cases[label], what, rtol=0, atol=0)
    for label in ("1-D", "3-D"):
        _sigmoid_prime_values(answer, cases[label], what, rtol=1e-6, atol=1e-12)
    _check_loop_free(answer, what)
    # float32: the same arithmetic rounds at ~1e-7, and s - s^2 loses digits near s = 1.
    _sigmoid_prime_values(answer, s.astype(np.float32), what, rtol=1e-5, atol=1e-7)
    passed(f"{what} is right: sigma'(x) = s (1 - s), exactly 0 at s = 0 and s = 1, largest "
           f"at s = 1/2 (x = 0) where it is 1/4; float32 stays float32.")


# --------------------------------------------------------------------------------------
# Exercise 2: the upper bound on the gradient after n sigmoid layers
# --------------------------------------------------------------------------------------

_SHRINK_WRONG = [
    (lambda n: 0.25 * n,
     "the factors multiply, one per layer, so the bound is a power of 1/4, not a multiple of "
     "it."),
    (lambda n: 0.5**n, "the largest value of sigma'(x) is 1/4 (at x = 0), not 1/2."),
    (lambda n: 0.25 ** (n - 1),
     "count the factors: n sigmoid layers give n factors of sigma', not n - 1."),
    (lambda n: 0.25 ** (n + 1),
     "count the factors: n sigmoid layers give n factors of sigma', not n + 1."),
    (lambda n: 1 - 0.25**n, "the bound is the product of the factors itself, not one minus it."),
]

# Layer counts in an order and shape where an answer that uses positions instead of values,
# flattens, or overflows integers (4**n passes 2**63 at n = 32) shows.
_SHRINK_COUNTS = np.array([[3, 0, 12, 1], [40, 8, 5, 2]])


def _shrink_hint(n, value) -> str | None:
    """The hint of the known mistake that gives ``value`` at ``n``, if there is one."""
    for fn, hint in _SHRINK_WRONG:
        if np.allclose(value, fn(np.asarray(n, dtype=float)), rtol=1e-9, atol=0):
            return hint
    return None


def _shrink_call(answer, n, what: str, label: str):
    """Call the answer; two errors students meet here get their cause named."""
    try:
        return _quiet_call(answer, n, what=what)
    except NotAnsweredYet:
        raise
    except ExerciseError as err:
        detail = err.problem.split(" raised ", 1)[-1]
        if "negative integer powers" in err.problem:
            raise ExerciseError(
                f"{label} raised {detail}",
                "numpy refuses to raise an integer to a negative integer power, because the "
                "result would not be an integer: the bound is a fraction, so compute it with "
                "floats.") from None
        if "converted to Python scalars" in err.problem or "must be real number" in err.problem:
            raise ExerciseError(
                f"{label} raised {detail}",
                "the math module works on one number at a time; for an array of layer counts "
                "use numpy's functions or arithmetic operators, which work on whole arrays.") \
                from None
        raise


def _shrink_scalar(answer, n: int, what: str) -> None:
    label = f"{what} with n_layers = {n}"
    got = _shrink_call(answer, n, what, label)
    if got is None:
        raise ExerciseError(f"{label} returned None.", "did you forget the `return` statement?")
    if isinstance(got, np.ndarray) and got.ndim > 0:
        raise ExerciseError(
            f"{label} returned an array of shape {got.shape}; for one layer count the bound "
            "is one number.",
            "an operation on a plain number gives a plain number: do not wrap the input in an "
            "array of its own.")
    if isinstance(got, bool) or not isinstance(got, (int, float, np.number, np.ndarray)):
        raise ExerciseError(f"{label} should be a single number, got {type(got).__name__} "
                            f"{got!r:.60}.", "return the number itself, not text or a list.")
    value = float(got)
    expected = 0.25**n
    if not math.isclose(value, expected, rel_tol=1e-9, abs_tol=0):
        raise ExerciseError(f"{label} is {value:.6g}, expected {expected:.6g}.",
                            (_shrink_hint(n, value) if n == 8 else None) or
                            "each sigmoid layer contributes one factor sigma'(z) <= 1/4, and "
                            "no layer at all (n = 0) leaves the gradient as it is: a bound "
                            "of 1.")


@exercise_check
def check_sigmoid_shrink_bound(answer) -> None:
    """Check ``answer(n)`` is (1/4)**n for an int and entrywise for an int array, loop-free."""
    what = "`sigmoid_shrink_bound(n_layers)`"
    require_callable(answer, what)
    for n in (8, 0, 1):
        _shrink_scalar(answer, n, what)
    n = _SHRINK_COUNTS
    label = f"{what} for n_layers = {n.tolist()}"
    got = _shrink_call(answer, n.copy(), what, label)
    if got is None:
        raise ExerciseError(f"{label} returned None.", "did you forget the `return` statement?")
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise ExerciseError(f"{label} should be a numeric array, got {type(got).__name__}.",
                            "return one bound per entry of the array.") from None
    if got.shape != n.shape:
        raise ExerciseError(
            f"{label} has shape {got.shape}, expected {n.shape}: one bound per entry.",
            "apply the formula to the whole array, without flattening or reducing it.")
    expected = 0.25 ** n.astype(float)
    worst = _worst(got, expected, rtol=1e-9, atol=0)
    if worst is not None:
        idx, n_bad = worst
        k = int(n[idx])
        hint = _shrink_hint(n, got)
        if hint is None and (not np.isfinite(got[idx]) or got[idx] == 0) and k >= 32:
            hint = ("an int64 holds numbers up to about 9.2e18; 4**n passes that at n = 32 and "
                    "wraps around silently, so compute with floats.")
        raise ExerciseError(
            f"{label} differs in {n_bad} of {n.size} entries; the largest difference is at "
            f"n_layers = {k}: got {got[idx]:.6g}, expected {expected[idx]:.6g}.",
            hint or "each entry is the bound for that many layers, whatever its position in "
                    "the array.")
    _check_loop_free(answer, what)
    passed(f"{what} is right: after 8 sigmoid layers the gradient is at most "
           f"{0.25**8:.1e} of what it was (one unit per layer with |w| <= 1, or weight "
           "matrices whose spectral norm is at most 1).")


# --------------------------------------------------------------------------------------
# Exercise 3: an initialisation that keeps a 10-layer tanh network out of saturation
# --------------------------------------------------------------------------------------

_TANH_NETWORKS = {
    "narrow": [32, 48, 32, 64, 32, 40, 32, 48, 32, 32, 32, 1],
    "wide": [256, 256, 192, 256, 320, 256, 256, 192, 256, 256, 256, 1],
}
# Xavier and LeCun reach at most 0.3 %; He's ReLU recipe (twice the variance) 3.8 %.
MAX_SATURATED = 0.01
# Xavier and LeCun end near 0.22; 0.8 x Xavier fades to 0.05 over ten layers.
MIN_LAST_STD = 0.1


# Variances of the usual recipes: a std equal to one of them on every layer forgot a root.
_VARIANCE_RULES = {
    "2 / (fan_in + fan_out)": lambda i, o: 2 / (i + o),
    "1 / fan_in": lambda i, o: 1 / i,
    "1 / fan_out": lambda i, o: 1 / o,
    "2 / fan_in": lambda i, o: 2 / i,
}


def _tanh_network(std_fn, sizes, seed: int = 1) -> nn.MLP:
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, std_fn(i, o), (i, o)) for i, o in zip(sizes, sizes[1:])]
    biases = [np.zeros(o) for o in sizes[1:]]
    return nn.MLP.from_weights(weights, biases, activation="tanh", output="identity")


def tanh_network_stats(std_fn, sizes) -> dict[str, np.ndarray]:
    """Per-layer stats of a tanh network initialised with N(0, std_fn(fan_in, fan_out)^2)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, sizes[0]))
    return diagnostics.layer_stats(_tanh_network(std_fn, sizes), X)


def _one_std(answer, fan_in: int, fan_out: int, what: str) -> float:
    value = _quiet_call(answer, fan_in, fan_out, what=what)   # NaN and inf are reported below
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        shape = f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""
        raise ExerciseError(
            f"{what} should return one number (a standard deviation) for fan_in={fan_in}, "
            f"fan_out={fan_out}, got {type(value).__name__}{shape} {value!r:.60}.",
            "return the spread sigma_w of the weights, not the weights themselves: the check "
            "draws the weights from N(0, sigma_w^2).")
    value = float(value)  # shown as 0.1, not np.float64(0.1)
    where = f"for fan_in={fan_in}, fan_out={fan_out}"
    if math.isnan(value):
        raise ExerciseError(
            f"{what} returned nan {where}: not a number, and a standard deviation must be a "
            "positive number.",
            "NaN comes out of an undefined operation, such as the square root of a negative "
            "number or 0 / 0: print your function's value for these fans and follow it back.")
    if math.isinf(value):
        raise ExerciseError(
            f"{what} returned {value!r} {where}; a standard deviation must be a positive, "
            "finite number.",
            "an infinite value usually comes from dividing by zero: print the parts of your "
            "expression for these fans.")
    if value < 0:
        raise ExerciseError(
            f"{what} returned {value!r} {where}; a standard deviation is never negative.",
            "a spread is a size: the standard deviation is the positive square root of the "
            "variance.")
    if value == 0:
        raise ExerciseError(
            f"{what} returned {value!r} {where}; a standard deviation of 0 makes every weight "
            "0, and a standard deviation must be a positive number.",
            "a weight std shrinks as the layer gets wider; `//` is integer division and "
            "rounds a small fraction down to 0.")
    return value


@exercise_check
def check_tanh_init_std(answer) -> None:
    """Check that N(0, answer(fan_in, fan_out)^2) weights keep 10 tanh layers in a useful range.

    Passes when, in a narrow and in a wide network with widths varying from layer to layer,
    no hidden layer is more than 1 % saturated and the last hidden layer's activations keep a
    std of at least 0.1: Xavier/Glorot sqrt(2 / (fan_in + fan_out)) and LeCun 1 / sqrt(fan_in)
    do; He's sqrt(2 / fan_in), made for ReLU, saturates too many units.
    """
    what = "`tanh_init_std(fan_in, fan_out)`"
    require_callable(answer, what)
    stds = {}
    for sizes in _TANH_NETWORKS.values():
        for key in zip(sizes[:-1], sizes[1:-1]):
            if key not in stds:
                stds[key] = _one_std(answer, *key, what=what)
    gain_hint = ("each layer should pass on a signal of about the spread it received, forwards "
                 "and backwards: section 2 shows how the weight std and the number of inputs "
                 "set the spread of z, and section 5 balances the forward and the backward "
                 "condition.")
    for label, sizes in _TANH_NETWORKS.items():
        stats = tanh_network_stats(lambda i, o: stds.get((i, o), 1.0), sizes)
        saturated = stats["saturated"][:-1]
        worst = int(np.argmax(saturated))
        width = int(np.median(sizes[1:-1]))
        fan_in, fan_out = sizes[worst], sizes[worst + 1]
        example = stds[(fan_in, fan_out)]
        if saturated[worst] > MAX_SATURATED:
            raise ExerciseError(
                f"in the {label} network (about {width} units per layer), hidden layer "
                f"{worst + 1} is {saturated[worst]:.1%} saturated (tanh' < 0.01); at most "
                f"{MAX_SATURATED:.0%} is allowed. Your std for that {fan_in}->{fan_out} layer "
                f"is {example:.3g}, a gain std * sqrt(fan_in) of {example * math.sqrt(fan_in):.2f}"
                ": too large.",
                gain_hint)
        last_std = stats["std"][-2]
        fan_in, fan_out = sizes[-3], sizes[-2]
        example = stds[(fan_in, fan_out)]
        if last_std < MIN_LAST_STD:
            hint = gain_hint
            for rule, variance in _VARIANCE_RULES.items():
                if all(math.isclose(std, variance(i, o), rel_tol=1e-6)
                       for (i, o), std in stds.items()):
                    hint = (f"your values equal {rule} for every layer, which is a variance (a "
                            "squared spread); the function returns a standard deviation.")
            raise ExerciseError(
                f"in the {label} network the activations fade away: the last hidden layer's "
                f"std is {last_std:.2g} (at least {MIN_LAST_STD} is needed). Your std for its "
                f"{fan_in}->{fan_out} layer is {example:.3g}, a gain std * sqrt(fan_in) of "
                f"{example * math.sqrt(fan_in):.2f}: too small.",
                hint)
    narrow = tanh_network_stats(lambda i, o: stds.get((i, o), 1.0), _TANH_NETWORKS["narrow"])
    passed(f"{what} keeps 10 tanh layers in the useful range: at most "
           f"{narrow['saturated'][:-1].max():.1%} saturated, last hidden layer std "
           f"{narrow['std'][-2]:.2f} (narrow network).")
