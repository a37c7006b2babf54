"""Chapter 3 exercise checks: catalogues of wrong answers (each rejected, on several draws, with
a message naming its mistake or saying what differs) and of right answers written other ways
(each passes on hundreds of draws), and the same verdicts through the autograding path."""

import array
import copy
import functools
import itertools
import operator

import numpy as np
import pytest
from exercise_support import (
    accepts,
    draws,
    ends_of,
    extremes_of,
    graded,
    kept_by,
    rejects,
    ring_of,
    sum_of,
)

from helpers import activations, data, diagnostics
from helpers.activations import leaky_relu as course_leaky_relu
from helpers.diagnostics import dead_units as course_dead_units
from helpers.exercises import ExerciseError, NotAnsweredYet, ch03


def unfinished(*args, **kwargs):
    raise NotImplementedError()


# ---------------------------------------------------------------- exercise 1: leaky relu
# Task: leaky_relu(x, alpha=0.01) = x where x > 0, alpha x elsewhere; leaky_relu_grad(x,
# alpha=0.01) = 1 where x > 0, alpha elsewhere (x = 0 included). x is a numpy array of any
# shape (0-d and empty included) of float16, float32, float64 or integers, with finite values
# (up to each dtype's largest; no inf or NaN); alpha a Python float in [0, 1), passed by name,
# by position or not at all. A float array keeps its dtype; an integer array gives float64. No
# Python loop (timed on a large input too), no course code, x not modified.


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha=0.01):
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    return np.where(x > 0, 1.0, alpha).astype(dtype)


def cast_back_forward(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x).astype(x.dtype)


def cast_back_grad(x, alpha=0.01):
    return np.where(x > 0, 1.0, alpha).astype(x.dtype)


def loop_leaky(x, alpha=0.01):
    return np.array([v if v > 0 else alpha * v for v in np.ravel(x)],
                    dtype=np.result_type(x, 1.0)).reshape(np.shape(x))


def loop_leaky_grad(x, alpha=0.01):
    out = np.empty(x.shape, dtype=np.result_type(x, 1.0))
    for i, v in np.ndenumerate(x):
        out[i] = 1.0 if v > 0 else alpha
    return out


def in_place_leaky(x, alpha=0.01):
    x[x < 0] *= alpha
    return x


def in_place_grad(x, alpha=0.01):
    x[...] = np.where(x > 0, 1.0, alpha)
    return x


def copy_then_scale(x, alpha=0.01):
    out = x.copy()
    out[x <= 0] *= alpha  # an integer copy cannot hold alpha * x
    return out


def float_copy_then_scale(x, alpha=0.01):
    out = x.astype(np.float64) if x.dtype.kind != "f" else x.copy()
    out[x <= 0] *= alpha
    return out


def no_return(x, alpha=0.01):
    np.where(x > 0, x, alpha * x)


def other_default(x, alpha=0.1):
    return np.where(x > 0, x, alpha * x)


def other_default_grad(x, alpha=0.1):
    return leaky_relu_grad(x, alpha)


def as_float64(x, alpha=0.01):
    x = np.asarray(x, dtype=float)  # defensive, but a float32 input comes back float64
    return np.where(x > 0, x, alpha * x)


def course_forward(x, alpha=0.01):
    return activations.leaky_relu(x, alpha)


def course_forward_imported(x, alpha=0.01):
    return course_leaky_relu(x, alpha)


def course_grad(x, alpha=0.01):
    return activations.get("leaky_relu", alpha=alpha).grad(x)


def flat_only(x, alpha=0.01):
    x = np.ravel(x)
    return np.where(x > 0, x, alpha * x)


def through_float32(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x).astype(np.float32).astype(leaky_relu(x).dtype)


def through_float16(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x).astype(np.float16).astype(leaky_relu(x).dtype)


def old_alphas_only(x, alpha=0.01):
    """Fitted to the old check, which only ever passed 0.01, 0.3, 0.1 and 0.05."""
    slope = alpha if alpha in (0.01, 0.3, 0.1, 0.05) else 0.01
    return np.where(x > 0, x, slope * x)


def tiny_as_zero_grad(x, alpha=0.01):
    return leaky_relu_grad(np.where(np.abs(x) < 1e-12, 0.0, x).astype(x.dtype), alpha)


def tiny_as_zero(x, alpha=0.01):
    return leaky_relu(np.where(np.abs(x) < 1e-12, 0, x), alpha).astype(leaky_relu(x).dtype)


def map_max_in_c(x, alpha=0.01):
    """The newcomer's loop in C: map over the elements into an array.array, no Python line."""
    xf = x.astype(np.float64) if x.dtype.kind != "f" else x
    buf = array.array("d", map(max, xf.flat, (alpha * xf).flat))
    return np.frombuffer(buf).astype(xf.dtype).reshape(xf.shape)


def map_gt_in_c(x, alpha=0.01):
    xf = x.astype(np.float64) if x.dtype.kind != "f" else x
    buf = array.array("d", map(operator.gt, xf.flat, itertools.repeat(0.0)))
    return np.where(np.frombuffer(buf).reshape(xf.shape) > 0, 1.0, alpha).astype(xf.dtype)


def float32_or_float64(x, alpha=0.01):
    """Keeps float32, but float16 (and anything else) comes back float64."""
    if x.dtype != np.float32:
        x = x.astype(np.float64)
    return np.where(x > 0, x, alpha * x)


def float32_or_float64_grad(x, alpha=0.01):
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    return np.where(x > 0, 1.0, alpha).astype(dtype)


def clipped(x, alpha=0.01):
    """Clips to +-1e300: right up to the old check's largest input."""
    x = np.clip(x, -1e300, 1e300)
    return np.where(x > 0, x, alpha * x)


def clipped_float32(x, alpha=0.01):
    """Clips float32 to +-1e38, float32's largest in the old check."""
    x = np.clip(x, -1e38, 1e38).astype(x.dtype) if x.dtype == np.float32 else x
    return np.where(x > 0, x, alpha * x)


def overflowing_sum(x, alpha=0.01):
    """(x + |x|) / 2 + alpha / 2 (x - |x|): alpha x rounded once below 0 (0 plus alpha / 2
    times 2x) and x above, but the sums overflow near the dtype's largest value (integers
    converted first: abs of the smallest integer is another mistake)."""
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    return (x + np.abs(x)) / 2 + alpha / 2 * (x - np.abs(x))


def promoted_to_float16(x, alpha=0.01):
    """Integers promoted with float16 (int8 -> float16, int16 -> float32), not to float64."""
    y = x.astype(np.promote_types(x.dtype, np.float16))
    return np.where(y > 0, y, y * y.dtype.type(alpha))


def promoted_to_float16_grad(x, alpha=0.01):
    return np.where(x > 0, 1, alpha).astype(np.promote_types(x.dtype, np.float16))


def signed_only(x, alpha=0.01):
    """Only signed integers count as integers: uint8 comes back uint8."""
    return np.where(x > 0, x, alpha * x).astype(np.float64 if x.dtype.kind == "i" else x.dtype)


def signed_only_grad(x, alpha=0.01):
    return np.where(x > 0, 1, alpha).astype(np.float64 if x.dtype.kind == "i" else x.dtype)


def negated_parts(x, alpha=0.01):
    """-x overflows at the smallest integer (and wraps for unsigned x)."""
    return (np.maximum(x, 0) - alpha * np.maximum(-x, 0)).astype(leaky_relu(x).dtype)


_CACHE = {}


def cached_by_shape(x, alpha=0.01):
    """A result kept per (shape, dtype, alpha): right once, wrong for other values (kept across
    checks too, so a later check may fail on another case than the twin inputs)."""
    key = (x.shape, x.dtype.str, alpha)
    if key not in _CACHE:
        _CACHE[key] = leaky_relu(x, alpha)
    return _CACHE[key]


def float_sum_and_abs(x, alpha=0.01):
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    return (1 + alpha) / 2 * x + (1 - alpha) / 2 * np.abs(x)


_course_forward_partial = functools.partial(activations.leaky_relu)
_course_grad_partial = functools.partial(activations.Activation.grad,
                                         activations.get("leaky_relu"))

# Wrong answers a student might write: name -> ((forward, grad), regex the feedback must match).
def rows_by_map(x, alpha=0.01):
    """The forward pass row by row, the loop driven from C by map (every element of a 1-D x)."""
    x = x.astype(np.float64) if x.dtype.kind in "iu" else x
    if x.ndim == 0:
        return np.maximum(x, alpha * x)
    return np.array(list(map(np.maximum, x, alpha * x)), dtype=x.dtype).reshape(x.shape)


def negative_side_for_0d(x, alpha=0.01):
    """Right for arrays with axes; a 0-d input always takes the negative branch."""
    return alpha * x if np.ndim(x) == 0 and x.dtype.kind == "f" else leaky_relu(x, alpha)


def _cached_by_first_element():
    cache = {}

    def answer(x, alpha=0.01):
        key = (x.shape, x.dtype.str, alpha, float(x.reshape(-1)[0]) if x.size else None)
        if key not in cache:
            cache[key] = leaky_relu(x, alpha)
        return cache[key].copy()
    return answer


WRONG_LEAKY_RELU = {
    # Confirmation reading: a loop over the first axis; a 0-d branch; a cache.
    "rows by map (every element of a 1-D input)": ((rows_by_map, leaky_relu_grad),
                                                   r"took \d+ ms.*1-D input"),
    "0-d inputs always on the negative side": ((negative_side_for_0d, leaky_relu_grad),
                                               r"positive 0-d"),
    "a cache keyed on shape, dtype, alpha and first element": (
        (_cached_by_first_element(), leaky_relu_grad), r"input 2 of 2|differs"),
    "plain ReLU forward": ((lambda x, alpha=0.01: np.maximum(x, 0), leaky_relu_grad),
                           r"plain ReLU \(at x = -10000 it gives 0, expected -100\)"),
    "alpha ignored in the forward": ((lambda x, alpha=0.01: np.where(x > 0, x, 0.01 * x),
                                      leaky_relu_grad), r"alpha is ignored"),
    "alpha ignored in the derivative": (
        (leaky_relu, lambda x, alpha=0.01: leaky_relu_grad(x)),
        r"slopes for alpha = 0.01: the argument alpha is ignored"),
    "branches swapped": ((lambda x, alpha=0.01: np.where(x > 0, alpha * x, x), leaky_relu_grad),
                         r"branches swapped"),
    "np.minimum instead of np.maximum": (
        (lambda x, alpha=0.01: np.minimum(x, alpha * x), leaky_relu_grad), r"branches swapped"),
    "abs on the negative side": (
        (lambda x, alpha=0.01: np.where(x > 0, x, alpha * np.abs(x)), leaky_relu_grad),
        r"positive for negative inputs"),
    "alpha instead of alpha * x": (
        (lambda x, alpha=0.01: np.where(x > 0, x, alpha + 0 * x), leaky_relu_grad),
        r"differs from the answer .* at x = -10000\.0"),
    "ReLU's derivative": ((leaky_relu, lambda x, alpha=0.01: (x > 0) + 0.0 * x),
                          r"ReLU's derivative"),
    "derivative returns the function": ((leaky_relu, leaky_relu), r"not its slope"),
    "derivative alpha * x on the negative side": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x > 0, 1 + 0 * x, alpha * x)),
        r"alpha \* x, the function's value"),
    "derivative 1 at x = 0 (x >= 0)": (
        (leaky_relu, lambda x, alpha=0.01: leaky_relu_grad(x, alpha) + (x == 0) * (1 - alpha)),
        r"at x = 0 is 1, expected alpha.*\n.*\nHint: .*1 only where x > 0"),
    "derivative 1 at x = 0 (x < 0 test)": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x < 0, alpha, 1 + 0 * x)),
        r"at x = 0 is 1, expected alpha"),
    "derivative 0 at x = 0 (both strict tests)": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x > 0, 1 + 0 * x,
                                                    np.where(x < 0, alpha, 0 * x))),
        r"at x = 0 is 0, expected alpha = 0.01; every other input is right.\n.*\nHint: .*left "
        r"slope is not 0"),
    "derivative 1/2 at x = 0 (np.sign)": (
        (leaky_relu, lambda x, alpha=0.01: alpha + (1 - alpha) * (np.sign(x) + 1) / 2),
        r"at x = 0 is 0\.5"),
    "derivative all ones": ((leaky_relu, lambda x, alpha=0.01: np.ones_like(x, dtype=float)),
                            r"differs from the answer .* at x = -"),
    "a loop in the forward": ((loop_leaky, leaky_relu_grad), r"Python loop"),
    "a loop in the derivative": ((leaky_relu, loop_leaky_grad), r"Python loop"),
    "np.vectorize of a scalar function": (
        (np.vectorize(lambda v, alpha=0.01: v if v > 0 else alpha * v), leaky_relu_grad),
        r"Python loop|element by element|raised|returns float64"),
    "forward changes x in place": ((in_place_leaky, leaky_relu_grad), r"in place"),
    "derivative changes x in place": ((leaky_relu, in_place_grad), r"in place"),
    "no return": ((no_return, leaky_relu_grad), r"returned None"),
    "flattens its input": ((flat_only, leaky_relu_grad),
                           r"returned shape \(12,\) for an input of shape \(2, 6\)|returned "
                           r"shape \(\d+,\) for an input of shape \(\d+, \d+\)"),
    "a list instead of an array": ((lambda x, alpha=0.01: leaky_relu(x, alpha).tolist(),
                                    leaky_relu_grad),
                                   r"returned a Python list, expected a numpy array"),
    "a one-element array for a 0-d input": (
        (lambda x, alpha=0.01: np.atleast_1d(leaky_relu(x, alpha)), leaky_relu_grad),
        r"returned shape \(1,\) for an input of shape \(\), expected \(\)"),
    "another default alpha": ((other_default, other_default_grad),
                              r"with alpha left at its default differs from alpha = 0\.01"),
    "float32 in, float64 out (forward)": ((as_float64, leaky_relu_grad),
                                          r"returns float64 for a float32 input"),
    "float32 in, float64 out (derivative)": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x > 0, 1.0, alpha)),
        r"returns float64 for a float32 input"),
    "float32 in, float64 out (bool arithmetic)": (
        (leaky_relu, lambda x, alpha=0.01: (x > 0) * 1 + (x <= 0) * alpha),
        r"returns float64 for a float32 input"),
    "a bool mask for the derivative": ((leaky_relu, lambda x, alpha=0.01: x > 0),
                                       r"returned dtype bool"),
    # Issue 23: integer input, which the old check never fed.
    "casts the forward back to x's dtype (a ReLU on integers)": (
        (cast_back_forward, leaky_relu_grad),
        r"returned dtype int64 for an int64 input \(at x = -3 it gives 0, expected -0\.03\); "
        r"the task asks for float64"),
    "casts the derivative back to x's dtype": (
        (leaky_relu, cast_back_grad),
        r"`leaky_relu_grad` returned dtype int64 for an int64 input \(at x = -3 it gives 0, "
        r"expected 0\.01\)"),
    "float32 for an integer input": (
        (lambda x, alpha=0.01: leaky_relu(x.astype(np.float32) if x.dtype.kind == "i" else x,
                                          alpha), leaky_relu_grad),
        r"returned dtype float32 for an int64 input"),
    "a copy of x scaled in place (fails on integers)": (
        (copy_then_scale, leaky_relu_grad),
        r"raised UFuncTypeError.*\n.*\nHint: an integer array cannot hold alpha times x"),
    # Issue 23: a round trip through a lower precision, which shows on some values only.
    "through float32 and back": ((through_float32, leaky_relu_grad),
                                 r"differs from the answer .* float64 input.*\n.*\nHint: the "
                                 r"values differ only in their last digits"),
    "through float16 and back": ((through_float16, leaky_relu_grad),
                                 r"differs from the answer|is inf"),
    # Issue 23: the course's own implementation, under any name.
    "the course's leaky_relu": ((course_forward, leaky_relu_grad),
                                r"calls `helpers\.activations\.leaky_relu`"),
    "the course's leaky_relu, imported under another name": (
        (course_forward_imported, leaky_relu_grad), r"calls `helpers\.activations\."),
    "the course's leaky_relu through functools.partial": (
        (_course_forward_partial, leaky_relu_grad), r"calls `helpers\.activations\."),
    "the course's leaky_relu as the function itself": (
        (course_leaky_relu, leaky_relu_grad), r"calls `helpers\.activations\."),
    "the registry's derivative": ((leaky_relu, course_grad), r"calls `helpers\.activations\."),
    "the registry's derivative through functools.partial": (
        (leaky_relu, lambda x, alpha=0.01: _course_grad_partial(x)),
        r"calls `helpers\.activations\."),
    # Issue 23: a threshold near the kink, and values fitted to the old check's alphas.
    "tiny inputs treated as 0 (derivative)": (
        (leaky_relu, tiny_as_zero_grad),
        r"`leaky_relu_grad` differs from the answer .* at x = [\d.e-]+: got 0\.\d+, expected "
        r"1"),
    "tiny inputs treated as 0 (forward)": ((tiny_as_zero, leaky_relu_grad),
                                           r"`leaky_relu` differs from the answer .* at x = "),
    "only the old check's alphas": ((old_alphas_only, leaky_relu_grad), r"alpha is ignored"),
    "alpha rounded to 2 decimals": ((lambda x, alpha=0.01: leaky_relu(x, round(alpha, 2)),
                                     leaky_relu_grad),
                                    r"differs from the answer|units? in the last place "
                                    r"of \w+ off"),
    "a threshold among the smallest numbers (forward)": (
        (lambda x, alpha=0.01: np.where(x > 1e-320, x, alpha * x), leaky_relu_grad),
        r"`leaky_relu` differs from the answer .* at x = (5e-324|1e-322): got "),
    "alpha rounded to one decimal": (
        (lambda x, alpha=0.01: leaky_relu(x, round(alpha, 1) or 0.01), leaky_relu_grad),
        r"differs from the answer|units? in the last place of \w+ off"),
    # Newcomer: a loop over the elements driven from C (map into an array.array) runs no Python
    # line and keeps no object per element alive: the timed case catches it.
    "map(max) into an array.array (forward)": (
        (map_max_in_c, leaky_relu_grad),
        r"took \d+ ms of CPU on `leaky_relu` on an input of 200,000 elements"),
    "map(operator.gt) into an array.array (derivative)": (
        (leaky_relu, map_gt_in_c),
        r"took \d+ ms of CPU on `leaky_relu_grad` on an input of 200,000 elements"),
    # Newcomer: float16 comes back float64 (float32 kept).
    "float16 in, float64 out (forward)": ((float32_or_float64, leaky_relu_grad),
                                          r"returns float64 for a float16 input"),
    "float16 in, float64 out (derivative)": ((leaky_relu, float32_or_float64_grad),
                                             r"`leaky_relu_grad` returns float64 for a float16"),
    # Newcomer: clipping at the old check's largest input; values near each dtype's largest.
    "clipped to 1e300": ((clipped, leaky_relu_grad),
                         r"at x = 1\.7e\+308: got 1e\+300, expected 1\.7e\+308\.[\s\S]*"
                         r"do not clip"),
    "clipped to 1e38 (float32)": ((clipped_float32, leaky_relu_grad),
                                  r"float32 input; the largest difference is at x = "
                                  r"3\.39999\d*e\+38"),
    # Confirmation: integer dtypes beyond int32/int64, at their smallest and largest values;
    # a cache keyed on everything but the values; alpha = 0.0 replaced by the default.
    "integers promoted with float16 (int8 gives float16)": (
        (promoted_to_float16, promoted_to_float16_grad),
        r"`leaky_relu` returned dtype float16 for an int8 input; the task asks for float64"),
    "only signed integers converted (uint8 kept)": (
        (signed_only, signed_only_grad), r"returned dtype uint8 for a uint8 input"),
    "max(x, 0) - alpha max(-x, 0) (overflows at the smallest integer)": (
        (negated_parts, leaky_relu_grad),
        r"int8 input; the largest difference is at x = -128\.0: got 0, expected -[\d.]+\.\n"
        r"[\s\S]*Hint: integer arithmetic wraps around"),
    "the sum and the absolute value on integers (abs(-128) is -128)": (
        (lambda x, alpha=0.01: (1.0 * x + np.abs(x)) / 2 + alpha / 2 * (1.0 * x - np.abs(x)),
         leaky_relu_grad), r"int8 input; the largest difference is at x = -128\.0"),
    "a result cached by shape, dtype and alpha": (
        (cached_by_shape, leaky_relu_grad),
        r"`leaky_relu` differs from the answer in \d+ of \d+ values|a later call changed|"
        r"keeps the array"),
    "alpha or 0.01 (alpha = 0.0 falls back to the default)": (
        (lambda x, alpha=0.01: leaky_relu(x, alpha or 0.01),
         lambda x, alpha=0.01: leaky_relu_grad(x, alpha or 0.01)),
        r"with alpha = 0\.0 gives the values for alpha = 0\.01, the default: alpha = 0\.0 "
        r"falls back[\s\S]*it is falsy"),
    "a sum that overflows near the largest float": (
        (overflowing_sum, leaky_relu_grad),
        r"at x = -?(1\.7e\+308|3\.39999\d*e\+38): got -?inf[\s\S]*Hint: x is finite"),
}

# Right answers written other ways: every one must pass.
RIGHT_LEAKY_RELU = {
    "np.where": (leaky_relu, leaky_relu_grad),
    "np.maximum (alpha < 1)": (lambda x, alpha=0.01: np.maximum(x, alpha * x), leaky_relu_grad),
    "x >= 0 in the forward": (lambda x, alpha=0.01: np.where(x >= 0, x, alpha * x),
                              leaky_relu_grad),
    "split into positive and negative parts": (
        lambda x, alpha=0.01: np.maximum(x, 0) + alpha * np.minimum(x, 0),
        lambda x, alpha=0.01: alpha + (1 - alpha) * np.heaviside(x, 0.0)),
    "masks times x": (lambda x, alpha=0.01: x * (x > 0) + alpha * x * (x <= 0),
                      lambda x, alpha=0.01: np.where(x > 0, np.ones_like(x),
                                                     alpha * np.ones_like(x))),
    "clip": (lambda x, alpha=0.01: x.clip(min=0) + alpha * x.clip(max=0),
             lambda x, alpha=0.01: alpha + (1 - alpha) * (x > 0).astype(leaky_relu(x).dtype)),
    "slope times x": (lambda x, alpha=0.01: x * np.where(x > 0, 1, alpha).astype(
        leaky_relu(x).dtype), lambda x, alpha=0.01: np.where(x > 0, 1, alpha).astype(
        leaky_relu(x).dtype)),
    "float copy, then scaled in place": (float_copy_then_scale, leaky_relu_grad),
    "np.result_type for the dtype": (
        leaky_relu,
        lambda x, alpha=0.01: np.where(x > 0, 1.0, alpha).astype(np.result_type(x, 1.0))),
}


@pytest.mark.parametrize("name", WRONG_LEAKY_RELU)
def test_leaky_relu_rejects(name):
    answers, message = WRONG_LEAKY_RELU[name]
    rejects(ch03.check_leaky_relu, answers, message)


@pytest.mark.parametrize("name", RIGHT_LEAKY_RELU)
def test_leaky_relu_accepts_on_every_draw(name):
    accepts(ch03.check_leaky_relu, RIGHT_LEAKY_RELU[name], draws())


def test_leaky_relu_pass_message_is_the_same_for_every_draw(capsys):
    for seed in (1, 2):
        ch03.check_leaky_relu(leaky_relu, leaky_relu_grad, seed=seed)
    first, second = capsys.readouterr().out.splitlines()
    assert first == second and first.startswith("\u2705")


def test_leaky_relu_unfinished():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch03.check_leaky_relu(unfinished, unfinished)
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch03.check_leaky_relu(leaky_relu, unfinished)


def test_leaky_relu_default_is_the_registry_default():
    assert activations.get("leaky_relu").params["alpha"] == ch03.DEFAULT_ALPHA == 0.01


def test_leaky_relu_cases_cover_the_contract():
    cases = ch03.LEAKY_RELU.draw(0)
    xs = [c.args[0] for c in cases]
    assert {x.dtype for x in xs} >= {np.dtype(np.float64), np.dtype(np.float32),
                                     np.dtype(np.float16), np.dtype(np.int64),
                                     np.dtype(np.int32)}
    assert any(x.ndim == 0 for x in xs) and any(x.size == 0 for x in xs)
    assert any(x.shape == (1,) for x in xs)
    assert any(np.any(np.signbit(x) & (x == 0)) for x in xs if x.dtype.kind == "f")
    assert any(np.any((x > 0) & (x < 1e-300)) for x in xs)   # a subnormal just above the kink
    assert any(float(np.abs(x).max(initial=0)) >= 1.7e308 for x in xs)   # near float64's max
    assert any(x.dtype == np.float32 and np.abs(x).max(initial=0) >= np.float32(3.4e38)
               for x in xs)
    assert any(x.dtype == np.float16 and np.abs(x).max(initial=0) >= 6e4 for x in xs)
    assert any(x.dtype == np.float16 and np.any((x > 0) & (x < 1e-7)) for x in xs)
    assert all(np.all(np.isfinite(x)) for x in xs)   # the task's inputs are finite
    assert any(np.array_equal(x, np.arange(-3, 4)) for x in xs)
    for dtype in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                  np.uint64):
        info = np.iinfo(dtype)   # every integer dtype, at its smallest and largest values
        assert any(x.dtype == dtype and x.min() == info.min and x.max() == info.max
                   for x in xs), dtype
    twins = [c for c in cases if "with the same shape, dtype and alpha" in c.label
             and "swapped" not in c.label]
    assert len(twins) == 4 and len({ch03._alpha_of(c) for c in twins}) == 1
    assert twins[0].args[0].shape == twins[2].args[0].shape
    # The second shares the first's first row, and differs in every other value.
    first, second = twins[0].args[0], twins[2].args[0]
    assert np.all(first[0] == second[0]) and np.all(first[1:] != second[1:])
    alphas = {ch03._alpha_of(c) for c in cases}
    assert 0.0 in alphas and ch03.DEFAULT_ALPHA in alphas and len(alphas) >= 5
    called = {(len(c.args), tuple(c.kwargs)) for c in cases if c.work is None}
    assert called == {(1, ()), (1, ("alpha",)), (2, ())}   # default, by name, by position
    assert {c.answer for c in cases} == {0, 1}
    timed = [c for c in cases if c.work == "timed"]   # each answer timed on large inputs:
    assert sorted(c.answer for c in timed) == [0] * 4 + [1] * 4  # 2-D, 1-D, 3-D, integers
    assert sorted(c.args[0].ndim for c in timed) == [1, 1, 2, 2, 2, 2, 3, 3]
    zero_d = {(c.args[0].dtype.kind, bool(c.args[0] > 0)) for c in cases if c.args[0].ndim == 0}
    assert {("f", True), ("f", False), ("i", False)} <= zero_d   # 0-d of both signs, integers
    assert all(c.elements == c.args[0].size >= 200_000 for c in timed)
    # float16 powers of two with a power-of-two alpha, large ones too: exact in every form.
    exact = [c for c in cases if c.note.get("exact")]
    assert sorted(c.answer for c in exact) == [0, 1]
    for c in exact:
        x, alpha = c.args[0], ch03._alpha_of(c)
        assert x.dtype == np.float16 and np.log2(alpha) == round(np.log2(alpha))
        assert x.min() <= -1000 and np.all(x.astype(np.float64) * alpha
                                           == (x * np.float16(alpha)).astype(np.float64))


def test_leaky_relu_check_does_not_modify_the_students_arrays():
    seen = []

    def keeps(x, alpha=0.01):
        seen.append(x)
        return leaky_relu(x, alpha)

    ch03.check_leaky_relu(keeps, leaky_relu_grad, seed=3)
    assert all(x is not case.args[0] for x, case in zip(seen, ch03.LEAKY_RELU.draw(3)))


def test_leaky_relu_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch03.LEAKY_RELU, RIGHT_LEAKY_RELU["clip"], tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch03.LEAKY_RELU, (cast_back_forward, leaky_relu_grad), tmp_path / "w",
                   monkeypatch)
    assert not wrong.passed and "float64 when x is an integer array" in wrong.message
    course = graded(ch03.LEAKY_RELU, (course_forward_imported, leaky_relu_grad),
                    tmp_path / "c", monkeypatch)
    assert not course.passed and "helpers.activations" in course.message


# ---------------------------------------------------------------- exercise 2: dead units
# Task: dead_units(A) for A of shape (n_samples, n_units), both at least 1, float64 or
# float32, any sign: a numpy bool array of shape (n_units,), True where the unit's output is
# exactly 0 on every sample. No Python loop (timed on a wide and a tall input too), no course
# code, A not modified.


def loop_dead(A):
    return np.array([np.all(A[:, j] == 0) for j in range(A.shape[1])])


def loop_dead_for(A):
    mask = np.zeros(A.shape[1], dtype=bool)
    for j in range(A.shape[1]):
        mask[j] = not A[:, j].any()
    return mask


def zeroing_dead(A):
    A[A < 0] = 0
    return np.all(A == 0, axis=0)


def _dead_ref(A):
    return ~np.any(A, axis=0)


_OLD_MASKS = {(7, 12): _dead_ref(ch03.DEAD_UNITS_BATCH),
              (200, 7): _dead_ref(ch03.DEAD_UNITS_TALL_BATCH)}


def fitted_to_old_batches(A):
    """Right on the old check's two fixed batches (looked up by shape), wrong elsewhere."""
    known = _OLD_MASKS.get(A.shape)
    return known.copy() if known is not None else A.max(axis=0) <= 0


# Wrong answers a student might write: name -> (answer, regex the feedback must match).
WRONG_DEAD_UNITS = {
    "sum of the column instead of all-zero": (
        lambda A: A.sum(axis=0) == 0, r"unit 2 is alive \(outputs that cancel"),
    "mean of the column is zero": (lambda A: A.mean(axis=0) == 0, r"outputs that cancel"),
    "largest output is zero": (lambda A: A.max(axis=0) == 0,
                               r"unit 5 is alive \(zeros and small negative outputs"),
    "no positive output": (lambda A: ~np.any(A > 0, axis=0), r"negative outputs"),
    "non-positive instead of zero": (lambda A: np.all(A <= 0, axis=0), r"negative outputs"),
    "constant column (ptp)": (lambda A: np.ptp(A, axis=0) == 0,
                              r"unit 7 is alive \(the same nonzero output"),
    "constant column (std)": (lambda A: A.std(axis=0) == 0, r"unit 9 is alive .*1e-200"),
    "squares underflow": (lambda A: (A**2).sum(axis=0) == 0,
                          r"unit 9 is alive \(a single output of 1e-200"),
    "isclose tolerance": (lambda A: np.all(np.isclose(A, 0), axis=0),
                          r"marks units dead whose nonzero outputs are all tiny \(the smallest "
                          r"such unit's largest output is 1e-200\)[\s\S]*no tolerance"),
    "a 1e-3 threshold": (lambda A: np.all(np.abs(A) < 1e-3, axis=0),
                         r"nonzero outputs are all tiny"),
    "round to 6 decimals": (lambda A: np.all(np.round(A, 6) == 0, axis=0),
                            r"nonzero outputs are all tiny"),
    # Confirmation: a mean that underflows gives the same mask as a tolerance on the smallest
    # numbers: the message says what differs (the size of the outputs), not which it is.
    "the mean of |a| is zero (underflows at 5e-324)": (
        lambda A: np.abs(A).mean(axis=0) == 0,
        r"nonzero outputs are all tiny \(the smallest such unit's largest output is "
        r"4\.94e-324\)"),
    "some zero instead of every": (lambda A: np.any(A == 0, axis=0), r"zero on \*some\* sample"),
    "majority of zeros": (lambda A: (A == 0).mean(axis=0) > 0.5,
                          r"differs on 6 of 12 units; the first three:\n.*unit 2 is alive"),
    "skips the last sample": (lambda A: np.all(A[:-1] == 0, axis=0),
                              r"unit 3 is alive \(nonzero only on the last sample"),
    "skips the first sample": (lambda A: np.all(A[1:] == 0, axis=0),
                               r"unit 4 is alive \(nonzero only on the first sample"),
    "counts zeros against the number of units": (
        lambda A: (A == 0).sum(axis=0) == A.shape[1],
        r"unit 1 is dead \(zero on all 7 samples\), but your mask says alive"),
    "wrong axis": (lambda A: np.all(A == 0, axis=1), r"one value per sample"),
    "wrong axis on a square batch": (
        lambda A: np.all(A == 0, axis=1) if A.shape[0] == A.shape[1] else _dead_ref(A),
        r"answers per sample .* not per unit"),
    "no axis": (lambda A: np.all(A == 0), r"a single value for the whole batch"),
    "keepdims": (lambda A: np.all(A == 0, axis=0, keepdims=True), r"an extra axis"),
    "indices instead of a mask": (lambda A: np.flatnonzero(np.all(A == 0, axis=0)),
                                  r"unit indices"),
    "ints instead of booleans": (lambda A: np.all(A == 0, axis=0).astype(int), r"boolean mask"),
    "fraction of zeros": (lambda A: np.mean(A == 0, axis=0), r"boolean mask"),
    "count of zeros": (lambda A: np.sum(A == 0, axis=0), r"boolean mask"),
    "mostly zero (> 90%)": (lambda A: (A == 0).mean(axis=0) > 0.9,
                            r"unit 0 is alive \(nonzero on 1 of 200[\s\S]*DEAD_UNITS_TALL_BATCH"),
    "mostly zero (>= 95%)": (lambda A: (A == 0).mean(axis=0) >= 0.95,
                             r"differs on 4 of 7[\s\S]*unit 2 is alive \(nonzero on 5[\s\S]*"
                             r"TALL_BATCH"),
    "mostly zero (> 99%)": (lambda A: (A == 0).mean(axis=0) > 0.99,
                            r"unit 0 is alive .*nonzero on samples \[150\][\s\S]*TALL_BATCH"),
    "only the first 7 samples": (lambda A: (A[:7] == 0).all(axis=0),
                                 r"unit 0 is alive \(nonzero on 1 of 200 samples, a late one"
                                 r"[\s\S]*TALL_BATCH"),
    "only the last 10 samples": (lambda A: np.all(A[-10:] == 0, axis=0),
                                 r"unit 0 is alive .*sample 150[\s\S]*TALL_BATCH"),
    "every other sample": (lambda A: np.all(A[::2] == 0, axis=0),
                           r"differs on 1 of 12 units:\n  unit 6 is alive \(a single tiny"),
    "a list comprehension": (loop_dead, r"Python loop"),
    "a for loop": (loop_dead_for, r"Python loop"),
    "apply_along_axis over the columns": (
        lambda A: np.apply_along_axis(lambda col: not col.any(), 0, A),
        r"Python loop|loop in disguise"),
    "changes A in place": (zeroing_dead, r"modified its input `A` in place"),
    "no return": (lambda A: None, r"returned None"),
    # Issue 23: a list where an array is asked, and a squeezed result for one unit.
    "a list of booleans": (lambda A: np.all(A == 0, axis=0).tolist(),
                           r"returned a Python list, expected a numpy array"),
    "list() of the mask": (lambda A: list(np.all(A == 0, axis=0)), r"returned a Python list"),
    "squeezed (one unit gives a 0-d array)": (lambda A: np.squeeze(np.all(A == 0, axis=0)),
                                              r"returned shape \(\): a single value"),
    # Issue 23: a round trip through a lower precision, which only tiny outputs show.
    "through float32 (1e-200 becomes 0)": (lambda A: np.all(A.astype(np.float32) == 0, axis=0),
                                           r"unit 9 is alive \(a single output of 1e-200"),
    "through float16 (1e-12 becomes 0)": (lambda A: np.all(A.astype(np.float16) == 0, axis=0),
                                          r"nonzero outputs are all tiny[\s\S]*lower "
                                          r"precision"),
    # Issue 23: a threshold just above zero, which the smallest numbers show.
    "below the smallest normal float counts as 0": (
        lambda A: np.all(np.abs(A) < np.finfo(A.dtype).tiny, axis=0),
        r"nonzero outputs are all tiny[\s\S]*smallest size a float64 holds"),
    "below 1e-300 counts as 0": (lambda A: np.all(np.abs(A) < 1e-300, axis=0),
                                 r"nonzero outputs are all tiny[\s\S]*smallest size|unit 1 is "
                                 r"dead[\s\S]*in float32"),
    # Issue 23: the course's own implementation, under any name.
    "the course's dead_units": (lambda A: diagnostics.dead_units(A),
                                r"calls `helpers\.diagnostics\.dead_units`"),
    "the course's dead_units, imported under another name": (
        lambda A: course_dead_units(A), r"calls `helpers\.diagnostics\."),
    "the course's dead_units as the function itself": (course_dead_units,
                                                       r"calls `helpers\.diagnostics\."),
    "the course's dead_units through functools.partial": (
        functools.partial(diagnostics.dead_units), r"calls `helpers\.diagnostics\."),
    # Issue 23: an answer fitted to the old check's two fixed batches.
    "fitted to the old check's batches": (fitted_to_old_batches, r"differs on|negative outputs"),
    # Newcomer: loops driven from C, which run no Python line: over the columns (any() of each)
    # and over the samples (functools.reduce). The wide and the tall timed cases catch them.
    "map(any) over the columns": (
        lambda A: ~np.array(list(map(any, A.T)), dtype=bool),
        r"took \d+ ms of CPU on an input of 200,000 elements"),
    "functools.reduce over the samples": (
        lambda A: ~functools.reduce(np.logical_or, A != 0, np.zeros(A.shape[1], bool)),
        r"took \d+ ms of CPU on a batch of \(100,000 samples, 2 units\)"),
    # Confirmation: only the last 300 samples (every batch but the timed one was shorter), and
    # a loop over the shorter axis (the large cases were long in one axis only).
    "only the last 300 samples": (lambda A: np.all(A[-300:] == 0, axis=0),
                                  r"differs on 5 of 9 units[\s\S]*a long batch"),
    "a loop over the shorter axis": (
        lambda A: (~functools.reduce(np.logical_or, A != 0) if A.shape[0] <= A.shape[1] else
                   np.array([not A[:, j].any() for j in range(A.shape[1])])),
        r"runs a Python loop: on a 3 x 4 input it executed \d+ Python lines and calls, on a "
        r"120 x 60 input"),
    "a loop over the longer axis": (
        lambda A: (~functools.reduce(np.logical_or, A != 0) if A.shape[0] > A.shape[1] else
                   np.array([not A[:, j].any() for j in range(A.shape[1])])),
        r"runs a Python loop|took \d+ ms of CPU"),
}

# Right answers written other ways: every one must pass.
RIGHT_DEAD_UNITS = {
    "np.all": lambda A: np.all(A == 0, axis=0),
    "~np.any": lambda A: ~np.any(A, axis=0),
    "~np.any(A != 0)": lambda A: ~np.any(A != 0, axis=0),
    "count_nonzero": lambda A: np.count_nonzero(A, axis=0) == 0,
    "largest |a| is zero": lambda A: np.abs(A).max(axis=0) == 0,
    "sum of |a| is zero": lambda A: np.abs(A).sum(axis=0) == 0,
    "min and max are zero": lambda A: (A.min(axis=0) == 0) & (A.max(axis=0) == 0),
    "transpose, last axis": lambda A: (A.T == 0).all(axis=-1),
    "np.logical_not of np.any": lambda A: np.logical_not(A.any(axis=0)),
    "zeros counted against the samples": lambda A: (A == 0).sum(axis=0) == A.shape[0],
}


@pytest.mark.parametrize("name", WRONG_DEAD_UNITS)
def test_dead_units_rejects(name):
    answer, message = WRONG_DEAD_UNITS[name]
    rejects(ch03.check_dead_units, answer, message)


@pytest.mark.parametrize("name", RIGHT_DEAD_UNITS)
def test_dead_units_accepts_on_every_draw(name):
    accepts(ch03.check_dead_units, RIGHT_DEAD_UNITS[name], draws())


def test_dead_units_unfinished():
    with pytest.raises(NotAnsweredYet, match="`dead_units` is not answered yet"):
        ch03.check_dead_units(unfinished)


def test_dead_units_batch_has_the_columns_it_says():
    """The check's first batch: units 1 and 8 are the only dead ones; the traps are in place."""
    A = ch03.DEAD_UNITS_BATCH
    assert A.shape == (7, 12)
    assert np.flatnonzero(~np.any(A, axis=0)).tolist() == [1, 8]
    assert A[:, 2].sum() == 0 and np.count_nonzero(A[:, 2]) == 3  # cancels exactly
    assert A[:, 5].max() == 0 and A[:, 5].min() < 0
    assert np.ptp(A[:, 7]) == 0 and A[0, 7] != 0
    assert (A[:, 9] ** 2).sum() == 0 and A[:, 9].any()  # its square underflows
    assert np.all(A[:, 10] < 0)
    assert np.count_nonzero(A[:, 11] == 0) == 1


def test_tall_batch_has_the_columns_it_says():
    """The tall batch: only unit 3 is dead; units 0-2 are nonzero on a handful of samples."""
    A = ch03.DEAD_UNITS_TALL_BATCH
    assert A.shape == (200, 7)
    assert np.flatnonzero(~np.any(A, axis=0)).tolist() == [3]
    assert [np.flatnonzero(A[:, j]).tolist() for j in (0, 1)] == [[150], [2]]
    assert np.count_nonzero(A[:, 2]) == 5 and np.count_nonzero(A[:7, 2]) == 0
    assert np.flatnonzero(A[:, 4]).tolist() == [199] and A[199, 4] < 0
    assert np.all(A[:, 5] > 0)
    assert np.flatnonzero(A[:, 6]).tolist() == list(range(150, 200))


def test_dead_units_random_batches_keep_their_traps():
    """Every draw has dead and alive units, a unit alive on one late sample only, tiny and
    negative outputs, a square batch whose zero row and zero column differ, one sample and
    one unit."""
    for seed in range(50):
        cases = {c.label: c.args[0] for c in ch03.DEAD_UNITS.draw(seed) if c.work is None}
        shapes = [A.shape for A in cases.values()]
        assert any(s[0] == 1 for s in shapes) and any(s[1] == 1 for s in shapes)
        square = next(A for A in cases.values() if A.shape[0] == A.shape[1])
        assert not np.array_equal(np.all(square == 0, axis=0), np.all(square == 0, axis=1))
        layers = [A for label, A in cases.items() if "random" in label
                  and "swapped" not in label and "transposed" not in label]
        assert len(layers) == 5  # one of them the shape of DEAD_UNITS_BATCH
        for A in layers:
            dead = ~np.any(A, axis=0)
            assert 1 <= dead.sum() < A.shape[1]
            # one unit nonzero on a single sample in the second half of the batch
            single = np.flatnonzero((A > 0).sum(axis=0) == 1)
            assert any(np.flatnonzero(A[:, j] > 0)[0] >= A.shape[0] // 2 for j in single)
        assert any(np.any((A != 0) & (np.abs(A) < 1e-300)) for A in cases.values())
        assert any(np.any(A < 0) for A in cases.values())


def test_dead_units_timed_cases_are_wide_and_tall():
    """Four timed inputs of 200,000 values: one wide in units and one tall in samples, so a
    loop over either axis runs 100,000 times, and two large in both axes (a loop over the
    shorter one shows too); mostly zeros, with dead and alive units, some alive ones firing on
    the last sample (a scan stops late), some on one other sample only (a look at the last
    samples misses them). The large work cases are large in both axes, one taller than wide
    and one wider than tall."""
    for seed in range(20):
        cases = ch03.DEAD_UNITS.draw(seed)
        timed = [c.args[0] for c in cases if c.work == "timed"]
        assert sorted(A.shape for A in timed) == [(2, 100_000), (400, 500), (500, 400),
                                                  (100_000, 2)]
        for A in timed:
            dead = ~np.any(A, axis=0)
            assert dead.any() and not dead.all()
            last = A[-1] > 0
            assert (last.any() or (~dead).sum() == 1) and np.mean(A == 0) > 0.5
            once = ~dead & ~last
            assert np.all(np.sum(A[:, once] != 0, axis=0) == 1)
            assert once.any()   # the wide batch of two samples too (a unit on row 0 only)
        large = sorted(c.args[0].shape for c in cases if c.work == "large"
                       and "a large float32 batch" not in c.label)
        assert large == [(60, 120), (120, 60)]
        # (the large batch is a work case too, unpaired, so a loop stopped before skips it)
        assert [c.args[0].size > 2_000_000 for c in cases
                if "a large float32 batch" in c.label] == [True]


def test_dead_units_long_batch_fires_early():
    """A batch of more than 300 samples whose live units fire only on its first samples (one
    only in its middle, one everywhere but once): a look at the last rows sees them dead."""
    for seed in range(20):
        A = next(c.args[0] for c in ch03.DEAD_UNITS.draw(seed) if "a long batch" in c.label)
        assert 1000 <= A.shape[0] <= 5000 and A.shape[1] == 9
        dead = ~np.any(A, axis=0)
        assert dead.sum() == 3
        assert np.sum(np.any(A[-300:] != 0, axis=0)) == 1   # one unit fires late
        middle = np.flatnonzero(np.count_nonzero(A, axis=0) == 1)
        assert any(np.flatnonzero(A[:, j]).tolist() == [A.shape[0] // 2] for j in middle)


def test_dead_units_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch03.DEAD_UNITS, RIGHT_DEAD_UNITS["count_nonzero"], tmp_path / "r",
                  monkeypatch).passed
    wrong = graded(ch03.DEAD_UNITS, WRONG_DEAD_UNITS["sum of the column instead of all-zero"][0],
                   tmp_path / "w", monkeypatch)
    assert not wrong.passed and "outputs that cancel" in wrong.message
    course = graded(ch03.DEAD_UNITS, course_dead_units, tmp_path / "c", monkeypatch)
    assert not course.passed and "helpers.diagnostics" in course.message


# ---------------------------------------------------------------- exercise 3: revive
# Task: revive(config) gets broken settings with the keys activation, init, bias_init, lr and
# epochs (the task's, and others in these ranges: bias_init -4 to -2, lr 0.5 to 1, epochs 150 to
# 300; the check tries the corners and the middle of the ranges each time, and two drawn);
# it returns a copy with exactly one setting changed and the same keys (none added, none
# dropped), epochs at most 300; each revived network, trained as in the chapter, must end
# with no dead hidden unit and at least 95% training accuracy. Each check trains 19 networks
# (16 of them the same on every draw, 3 drawn with all their digits), so the right answers run
# on 10 draws and the wrong ones on the usual 4.
REVIVE_SEEDS = 10


def make_reviver(**changes):
    def revive(config):
        new = dict(config)
        new.update(changes)
        return new

    return revive


def in_place_revive(config):
    config["bias_init"] = 0.0
    return config


def extra_key(config):
    return {**config, "momentum": 0.9}


def renamed_key(config):
    new = {k: v for k, v in config.items() if k != "bias_init"}
    new["bias"] = 0.0
    return new


def dropped_key(config):
    new = dict(config)
    del new["epochs"]
    return new


def constant_config(config):
    """Ignores its input: right for the task's config only."""
    return {"activation": "relu", "init": "he", "bias_init": 0.0, "lr": 1.0, "epochs": 300}


def from_the_module(config):
    """Ignores its input too: starts from the chapter's BROKEN_CONFIG."""
    return dict(ch03.BROKEN_CONFIG, bias_init=0.0)


def shifted_bias(config):
    """Fitted to the task's bias of -3: adds 3."""
    return dict(config, bias_init=config["bias_init"] + 3)


def flipped_bias(config):
    return dict(config, bias_init=-config["bias_init"])


def items_list(config):
    return list(dict(config, bias_init=0.0).items())


def fitted_bias_threshold(threshold):
    """The newcomer's fit to the shown settings: the bias fix for biases at or below
    ``threshold``, a smaller learning rate above it (which leaves the units dead)."""
    def revive(config):
        new = dict(config)
        if new["bias_init"] <= threshold:
            new["bias_init"] = 0.0
        else:
            new["lr"] = 0.1
        return new

    return revive


def fitted_epochs(activation):
    """The confirmation reader's fit to the shown settings: the bias fix below 200 epochs,
    another activation from 200 on (right on most settings, not on the lowest bias and lr)."""
    def revive(config):
        if config["epochs"] < 200:
            return dict(config, bias_init=0.0)
        return dict(config, activation=activation)

    return revive


def fitted_lr_end(config):
    """Right only where lr is at the task's upper end: ELU elsewhere."""
    if config["lr"] >= 1.0:
        return dict(config, bias_init=0.0)
    return dict(config, activation="elu")


# Wrong answers a student might write: name -> (answer, regex the feedback must match).
def fitted_to_the_task(config):
    """ELU for the task's lr and epochs, the bias fix elsewhere (fails at bias -4, lr 1, 300)."""
    new = dict(config)
    if config["lr"] == 1.0 and config["epochs"] == 300:
        new["activation"] = "elu"
    else:
        new["bias_init"] = 0.0
    return new


WRONG_REVIVE = {
    "ELU for the task's lr and epochs, bias 0 elsewhere": (fitted_to_the_task,
                                                          r"lowest bias with the largest lr and "
                                                          r"the most epochs|still dead|not the "
                                                          r"same as learning"),
    "nothing changed": (make_reviver(), r"unchanged"),
    "two settings changed": (make_reviver(bias_init=0.0, activation="elu"),
                             r"changes 2 settings"),
    "a larger learning rate": (make_reviver(lr=3.0), r"still dead"),
    "a smaller learning rate": (make_reviver(lr=0.1), r"still dead"),
    "more epochs": (make_reviver(epochs=100), r"still dead"),
    "too many epochs": (make_reviver(epochs=5000), r"at most 300"),
    "one epoch over the limit": (make_reviver(epochs=301), r"asks for 301 epochs; keep at most "
                                                           r"300"),
    "zero epochs": (make_reviver(epochs=0), r"positive whole number"),
    "epochs as a float": (make_reviver(epochs=250.5), r"positive whole number"),
    "leaky_relu: alive but slow": (make_reviver(activation="leaky_relu"),
                                   r"alive is not the same as learning: after 300 epochs the "
                                   r"accuracy is 60\.0% .* the loss 0\.693"),
    "sigmoid: alive but slow": (make_reviver(activation="sigmoid"),
                                r"no unit is dead, but alive is not the same as learning"),
    "ELU: revives the task's network, too slow from a worse start": (
        make_reviver(activation="elu"),
        r"activation = 'elu' no unit is dead, but .*\nIn case 2 of \d+: the hard corner of the "
        r"ranges"),
    "tanh: right for the task's network only": (make_reviver(activation="tanh"),
                                                r"alive is not the same as learning"),
    "a smaller negative bias": (make_reviver(bias_init=-0.5), r"still dead"),
    "a positive bias of 1": (make_reviver(bias_init=1.0), r"still dead"),
    "an unknown activation": (make_reviver(activation="relu6"),
                              r"could not be built with activation = 'relu6': it is not one of"),
    "a bias given as text": (make_reviver(bias_init="0"), r"could not be built"),
    "a huge learning rate": (make_reviver(lr=1e6), r"diverged|still dead"),
    "a negative learning rate": (make_reviver(lr=-1.0), r"must be positive"),
    "an unknown initialisation": (make_reviver(init="zeros"), r"not one of the initial"),
    "every setting changed": (
        make_reviver(lr=40.0, bias_init=-3.0 + 1, activation="elu", init="xavier", epochs=200),
        r"changes 5 settings"),
    "an array as a setting": (make_reviver(lr=np.array([1.0, 2.0])), r"could not be built"),
    "changes the given dict": (in_place_revive, r"modified its input `config` in place"),
    "returns None": (lambda config: None, r"returned None"),
    # Issue 23: structures the check never built: keys added, renamed or dropped.
    "an extra key": (extra_key, r"unexpected 'momentum'"),
    "a key renamed": (renamed_key, r"missing 'bias_init'; unexpected 'bias'"),
    "a key dropped": (dropped_key, r"missing 'epochs'"),
    "a list of pairs": (items_list, r"should return a dict, got a list"),
    "a list with one pair": (lambda config: [("bias_init", 0.0)], r"should return a dict"),
    # Issue 23: answers fitted to the one config the old check used.
    "a constant dict that ignores config": (constant_config,
                                            r"changes 3 settings \(bias_init, lr, epochs\)"),
    "BROKEN_CONFIG with the bias fixed": (from_the_module, r"changes 3 settings"),
    "bias shifted by 3 (fitted to -3)": (shifted_bias, r"still dead"),
    "bias sign flipped": (flipped_bias, r"still dead"),
    # Newcomer: fitted to the biases shown (-3 and below); the mild end, -2, is always tried.
    "bias fix only at -3 and below": (fitted_bias_threshold(-3.0),
                                      r"with lr = 0\.1, 100% of the units of hidden layer 2 are "
                                      r"still dead[\s\S]*the mild corner of the ranges"),
    "bias fix only at -2.1 and below": (fitted_bias_threshold(-2.1),
                                        r"with lr = 0\.1, 100% of the units[\s\S]*In case 5 "
                                        r"of \d+: the mild corner of the ranges"),
    "fitted to lr = 1 (ELU elsewhere)": (fitted_lr_end, r"In case 2 of \d+: the hard corner"),
    # Confirmation: fitted to the shown settings by the epochs (17 of 21 and 11 of 20 draws
    # passed when the check tried one setting drawn in the ranges).
    "bias fix below 200 epochs, arctan from 200 on": (
        fitted_epochs("arctan"),
        r"activation = 'arctan' no unit is dead, but[\s\S]*In case 3 of \d+: the lowest bias "
        r"and lr with the most epochs"),
    "bias fix below 200 epochs, ELU from 200 on": (
        fitted_epochs("elu"), r"In case 3 of \d+: the lowest bias and lr with the most epochs"),
}

# Right answers written other ways: every one must pass.
RIGHT_REVIVE = {
    "bias 0": make_reviver(bias_init=0.0),
    "bias 0 as an int": make_reviver(bias_init=0),
    "a small positive bias": make_reviver(bias_init=0.1),
    "a small negative bias": make_reviver(bias_init=-0.1),
    "bias as a numpy float": make_reviver(bias_init=np.float64(0.01)),
    "dict comprehension": lambda config: {k: (0.0 if k == "bias_init" else v)
                                          for k, v in config.items()},
    "copy.deepcopy": lambda config: {**copy.deepcopy(config), "bias_init": 0.0},
}


@pytest.mark.parametrize("name", WRONG_REVIVE)
def test_revive_rejects(name):
    answer, message = WRONG_REVIVE[name]
    rejects(ch03.check_revive, answer, message)


@pytest.mark.parametrize("name", RIGHT_REVIVE)
def test_revive_accepts_on_every_draw(name):
    accepts(ch03.check_revive, RIGHT_REVIVE[name], draws(REVIVE_SEEDS))


def test_revive_unfinished():
    with pytest.raises(NotAnsweredYet, match="`revive\\(config\\)` is not answered yet"):
        ch03.check_revive(unfinished)


def test_revive_draws_broken_configs_of_the_stated_family():
    """Configs with the task's keys: the task's first (a middle bias, lr and epochs at their
    upper ends), the hard corner, the seven other corners and three middles, the mild end of
    the bias range, one anywhere; every corner and the middle are in every draw."""
    for seed in range(200):
        cases = ch03.REVIVE.draw(seed)
        configs = [c.args[0] for c in cases if c.driver is None]
        assert configs[0] == ch03.BROKEN_CONFIG and len(configs) == 19
        for config in configs:
            assert list(config) == list(ch03.BROKEN_CONFIG)
            assert config["activation"] == "relu" and config["init"] == "he"
            assert -4.0 <= config["bias_init"] <= -2.0 and 0.5 <= config["lr"] <= 1.0
            assert 150 <= config["epochs"] <= 300 and type(config["epochs"]) is int
        assert configs[1] == {"activation": "relu", "init": "he", "bias_init": -4.0,
                              "lr": 0.5, "epochs": 150}
        assert configs[16]["bias_init"] == -2.0  # the mild end, lr and epochs drawn
        # biases between whole numbers, where b - round(b) or round(b) - b is -0.4, and where
        # b % 1 or int(b) - b is 0.9
        assert {c["bias_init"] for c in configs[12:14]} == {-3.4, -2.6}
        assert {c["bias_init"] for c in configs[14:16]} == {-3.1, -3.9}
        # the drawn ones with all their digits: lr and bias off a grid of round values, the
        # epochs of one of them odd and no multiple of 5
        drawn = configs[16:]
        assert all(round(c["lr"], 3) != c["lr"] for c in drawn)
        assert all(round(c["bias_init"], 2) != c["bias_init"] for c in drawn[1:])
        assert drawn[1]["epochs"] % 2 == 1 and drawn[1]["epochs"] % 5 != 0
        for bias, lr, epochs in itertools.product((-4.0, -2.0), (0.5, 1.0), (150, 300)):
            assert {"activation": "relu", "init": "he", "bias_init": bias, "lr": lr,
                    "epochs": epochs} in configs
        assert {"activation": "relu", "init": "he", "bias_init": -3.0, "lr": 0.75,
                "epochs": 220} in configs
        assert {"activation": "relu", "init": "he", "bias_init": -4.0, "lr": 0.5,
                "epochs": 300} in configs
        for key in ("bias_init", "lr", "epochs"):
            values = {c[key] for c in configs}
            assert {min(values), max(values)} == {
                "bias_init": {-4.0, -2.0}, "lr": {0.5, 1.0}, "epochs": {150, 300}}[key]


@pytest.mark.parametrize("config", [
    ch03.BROKEN_CONFIG,
    {"activation": "relu", "init": "he", "bias_init": -4.0, "lr": 0.5, "epochs": 150},
    {"activation": "relu", "init": "he", "bias_init": -2.0, "lr": 1.0, "epochs": 300},
    {"activation": "relu", "init": "he", "bias_init": -2.0, "lr": 0.5, "epochs": 150},
    {"activation": "relu", "init": "he", "bias_init": -4.0, "lr": 1.0, "epochs": 300},
    {"activation": "relu", "init": "he", "bias_init": -4.0, "lr": 0.5, "epochs": 300},
    {"activation": "relu", "init": "he", "bias_init": -4.0, "lr": 1.0, "epochs": 150},
    {"activation": "relu", "init": "he", "bias_init": -3.0, "lr": 0.75, "epochs": 220},
    {"activation": "relu", "init": "he", "bias_init": -3.0, "lr": 0.5, "epochs": 300},
    {"activation": "relu", "init": "he", "bias_init": -2.0, "lr": 0.5, "epochs": 300},
    {"activation": "relu", "init": "he", "bias_init": -2.0, "lr": 1.0, "epochs": 150},
    {"activation": "relu", "init": "he", "bias_init": -4.0, "lr": 0.75, "epochs": 220},
], ids=lambda c: f"bias{c['bias_init']}-lr{c['lr']}-epochs{c['epochs']}")
def test_broken_configs_are_broken(config):
    """The corners of the family: the second hidden layer is dead at birth and stays dead,
    so the output is constant (chance level)."""
    _, history = ch03.train_config(config)
    assert history.dead[0, 1] == 1.0 and history.dead[-1, 1] == 1.0
    assert history.accuracy[-1] == 0.5


def test_the_bias_fix_works_across_the_family():
    """bias_init = 0 revives every corner of the family (the broken bias is what it
    replaces), with a margin on the accuracy."""
    for lr, epochs in itertools.product((0.5, 1.0), (150, 300)):
        config = {"activation": "relu", "init": "he", "bias_init": 0.0, "lr": lr,
                  "epochs": epochs}
        _, history = ch03.train_config(config)
        assert history.dead[-1, :-1].max() == 0 and history.accuracy[-1] >= 0.98, config


def test_revive_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch03.REVIVE, RIGHT_REVIVE["bias 0"], tmp_path / "r", monkeypatch).passed
    wrong = graded(ch03.REVIVE, constant_config, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "changes 3 settings" in wrong.message


# ---------------------------------------------------------------- exercise 4: born dead
# Task: born_dead_width1(depth) = the exact probability 1 - (1/2)^(depth - 1) for depth >= 1,
# within one unit in the last place of float64 (exact where float64 holds it, up to depth 54):
# one float (a Python float, np.float64 or a 0-d float64 array) for an integer depth (Python or
# numpy, of any integer dtype), a float64 array of the same shape for an integer array of any
# shape and integer dtype, signed or unsigned (0-d and empty included: numpy's np.float64 for a
# 0-d array counts too, a Python float does not); any depth, 1000 too.


def born_dead_width1(depth):
    return 1 - 0.5 ** (np.asarray(depth) - 1)


def simulated_born_dead(depth):
    """A Monte Carlo estimate instead of the exact value (the table's way)."""
    rng = np.random.default_rng(0)
    depth = np.asarray(depth)
    # (64 layers simulated: deeper, every one of 2,000 nets is dead, as in the exact value's
    # float64, and the draws' depths of tens of thousands would cost seconds a call)
    signs = rng.normal(size=(2000, min(int(depth.max(initial=1)), 64))) > 0  # layers 2.. on?
    alive = np.cumprod(signs, axis=1)
    p_alive = np.concatenate([[1.0], alive.mean(axis=0)])
    p_alive = np.pad(p_alive, (0, max(0, int(depth.max(initial=1)) - p_alive.size)))
    return 1 - p_alive[depth - 1]


TABLE = 1 - 0.5 ** np.arange(20)


def hard_coded_to_20(depth):
    return TABLE[np.asarray(depth) - 1]


def table_then_one(depth):
    """Fitted to the old check's depths 1-20: the table there, 1 beyond."""
    depth = np.asarray(depth)
    return np.where(depth <= 20, TABLE[np.clip(depth, 1, 20) - 1], 1.0)


def int_reciprocal(depth):
    return 1 - 1 / 2 ** (np.asarray(depth) - 1)  # int64 overflows beyond depth 64


def int_shift(depth):
    return 1 - 1.0 / (1 << (np.asarray(depth) - 1))  # the same overflow, with a bit shift


def list_for_arrays(depth):
    if np.ndim(depth) == 0:
        return 1 - 0.5 ** (depth - 1)
    return [1 - 0.5 ** (d - 1) for d in np.asarray(depth).tolist()]


def int_power(depth):
    return 1 - 2 ** (1 - np.asarray(depth))  # numpy refuses integers to negative powers


def only_arrays(depth):
    return np.array([1 - 0.5 ** (d - 1) for d in depth])


def float32_for_a_number(depth):
    """The newcomer's: np.float32 for an int depth (exact up to depth 25), float64 arrays."""
    p = 1 - 0.5 ** (np.asarray(depth) - 1.0)
    return np.float32(p) if isinstance(depth, (int, np.integer)) else p


def float16_for_a_number(depth):
    p = 1 - 0.5 ** (np.asarray(depth) - 1.0)
    return np.float16(p) if isinstance(depth, (int, np.integer)) else p


def python_float_via_float32(depth):
    """A Python float, but one that went through float32: 1.0 from depth 26 on."""
    p = 1 - 0.5 ** (np.asarray(depth) - 1.0)
    return float(np.float32(p)) if isinstance(depth, (int, np.integer)) else p


def float_for_a_0d_array(depth):
    """The newcomer's: a Python float whenever the result has no axes, 0-d arrays included."""
    p = np.asarray(1 - 0.5 ** (np.asarray(depth) - 1.0))
    return float(p) if p.ndim == 0 else p


def int_power_of_the_depth(depth):
    """Integer powers in the depth's own dtype for one depth (Python ints are exact, numpy
    ints overflow); floats for arrays."""
    if isinstance(depth, np.ndarray):
        return 1 - 0.5 ** (depth - 1.0)
    return 1 - 1 / 2 ** (depth - 1)


def early_one(depth):
    """Rounds to 1 from depth 52 on (float64 still holds 1 - 2^-51 there)."""
    d = np.asarray(depth)
    return np.where(d > 51, 1.0, 1 - 0.5 ** (d - 1.0))[()]


def int_at_depth_1(depth):
    if isinstance(depth, (int, np.integer)) and depth == 1:
        return 0
    return born_dead_width1(depth)


# Wrong answers a student might write: name -> (answer, regex the feedback must match).
WRONG_BORN_DEAD = {
    # Confirmation reading: exactly 1 one depth early (within one ulp of 1 - 2**-53).
    "rounded to 1 from depth 54": (lambda d: np.where(np.asarray(d) > 53, 1.0,
                                                      1.0 - 0.5 ** (np.asarray(d) - 1.0)),
                                   r"gives exactly 1 at depth 54"),
    "probability of being alive": (lambda d: 0.5 ** (np.asarray(d) - 1), r"\*alive\*"),
    "one factor too many": (lambda d: 1 - 0.5 ** np.asarray(d), r"one factor of 1/2 too many"),
    "alive, with one factor too many": (lambda d: 0.5 ** np.asarray(d), r"decreases with depth"),
    "quarter per layer": (lambda d: 1 - 0.25 ** (np.asarray(d) - 1),
                          r"differs from the exact probability at 19 of 20 depths"),
    "one factor too few": (lambda d: 1 - 0.5 ** (np.asarray(d) - 2),
                           r"largest difference is at depth 1: got -1, expected 0"),
    "1 - 1/D": (lambda d: 1 - 1 / np.asarray(d), r"at depth 5: got 0\.8, expected 0\.9375"),
    "a simulation, not exact": (simulated_born_dead, r"an estimate, not the exact value"),
    "no return": (lambda d: None, r"returned None"),
    "arrays only (a loop over depths)": (only_arrays,
                                         r"raised TypeError.*\n.*\nHint: for an integer depth"),
    "integer power of a numpy int": (int_power, r"raised ValueError: Integers to negative"),
    "hard-coded table up to depth 20": (hard_coded_to_20,
                                        r"raised IndexError.*\n.*\nHint: the check asks for "
                                        r"depths beyond"),
    "np.vectorize without otypes": (np.vectorize(lambda d: 1 - 0.5 ** (d - 1)),
                                    r"raised ValueError.*\n.*\nHint: np.vectorize cannot guess"),
    # Issue 23: one number asked, an array (or a list) given.
    "a list for an integer": (lambda d: [1 - 0.5 ** (d - 1)] if np.ndim(d) == 0 else
                              born_dead_width1(d), r"returned a list; for an integer depth"),
    "np.ravel of the result": (lambda d: np.ravel(born_dead_width1(d)),
                               r"returned shape \(6,\) for an input of shape \(2, 3\)"),
    "a (1, 1) array for an integer": (lambda d: born_dead_width1(d) if np.ndim(d) else
                                      np.array([[born_dead_width1(d)]]),
                                      r"returned an array of shape \(1, 1\)"),
    "numbers only": (lambda d: 1 - 0.5 ** (d - 1) if np.ndim(d) == 0 else [0.5],
                     r"returned a Python list"),
    "a list for an array": (list_for_arrays, r"returned a Python list, expected a numpy array"),
    # Issue 23: integers where floats are needed (overflow beyond depth 64).
    "1 - 1 / 2 ** (D - 1) in integers": (int_reciprocal,
                                         r"born_dead_width1\(\d+\)` is -inf, expected 1[\s\S]*"
                                         r"overflow"),
    "1 - 1.0 / (1 << (D - 1))": (int_shift, r"(at depth \d+: got|born_dead_width1\(\d+\)` is) "
                                           r"[\s\S]*overflow"),
    # Issue 23: a lower precision, which shows at large depths only.
    "computed in float32": (lambda d: 1 - (0.5 ** (np.asarray(d) - 1.0)).astype(np.float32),
                            r"returned dtype float32|float32 \(or float16\)"),
    "computed in float16": (lambda d: 1 - np.float16(0.5) ** (np.asarray(d) - 1).astype(
        np.float16), r"differs|float32 \(or float16\)"),
    "rounded to 4 decimals, as in the table": (lambda d: np.round(born_dead_width1(d), 4),
                                               r"an estimate, not the exact value"),
    # Confirmation: numpy integer scalars and narrow integer dtypes; rounding to 1 from depth 52.
    "integer power of the depth itself (numpy integers overflow)": (
        int_power_of_the_depth,
        r"`born_dead_width1\(np\.int64\(65\)\)` is -inf, expected 1\.[\s\S]*Hint: numpy "
        r"integers of dtype int64 have 64 bits"),
    "1 - np.exp2(1 - D) (float16 for int8, wraps for uint8)": (
        lambda d: 1 - np.exp2(1 - np.asarray(d)),
        r"`born_dead_width1\(np\.int8\(100\)\)` returned a numpy float16"),
    "1 - 2.0 ** (1 - D) (1 - D wraps for unsigned depths)": (
        lambda d: 1.0 - 2.0 ** (1 - np.asarray(d)),
        r"`born_dead_width1\(np\.uint8\(200\)\)` is -1\.44115e\+17, expected 1\.[\s\S]*"
        r"Hint: the depth is an unsigned integer \(uint8\): 1 - D wraps around"),
    "np.ldexp(1.0, 1 - D) (wraps for unsigned depths)": (
        lambda d: 1 - np.ldexp(1.0, 1 - np.asarray(d)), r"1 - D wraps around"),
    "1 from depth 52 on (float64 still holds the digits)": (
        early_one,
        r"at depth 52: got 1, expected 0\.99999999999999956\.\n[\s\S]*Hint: the values differ "
        r"only in their last digits: float64 holds"),
    "rounded to 15 decimals": (lambda d: np.round(born_dead_width1(d), 15),
                               r"differs from the exact probability"),
    "1 from depth 45 on (rounds to 1 too early)": (
        lambda d: np.where(np.asarray(d) >= 45, 1.0, 1 - 0.5 ** (np.asarray(d) - 1.0)),
        r"at depth 45: got 1, expected 0\.99999999999994"),
    # Issue 23: fitted to the old check's depths 1-20.
    "the table for depths 1-20, then 1": (table_then_one,
                                          r"at depth 30: got 1, expected 0\.99999999"),
    # Newcomer: a lower precision for one depth, which the old check saw only on deep draws;
    # and no misdiagnosis of the digits it loses as "one factor of 1/2 too many".
    "np.float32 for an integer depth": (
        float32_for_a_number,
        r"`born_dead_width1\(1\)` returned a numpy float32 \(0\.0\); the task asks for a "
        r"float64 number[\s\S]*Hint: float32 \(or float16\) keeps about 7"),
    "np.float16 for an integer depth": (float16_for_a_number,
                                        r"returned a numpy float16 \(0\.0\)"),
    "a Python float through float32": (
        python_float_via_float32,
        r"`born_dead_width1\(30\)` is 1, expected 0\.9999999981\.\n.*\nHint: the values "
        r"differ only in their last digits"),
    "an int where the probability is whole": (
        int_at_depth_1, r"`born_dead_width1\(1\)` returned the int 0; the task asks for a "
                        r"float"),
    # Newcomer (right answers rejected): a Python float for a 0-d array; the message shows the
    # input as the array it is, and the task says what a 0-d array gives.
    "a Python float for a 0-d array": (
        float_for_a_0d_array,
        r"`born_dead_width1\(np\.array\(\d+\)\)` returned a single number \(float [\d.]+\), "
        r"expected a numpy array of shape \(\)\.[\s\S]*Hint: an array of shape \(\) is an "
        r"array too"),
}

# Right answers written other ways: every one must pass.
RIGHT_BORN_DEAD = {
    "1 - 0.5 ** (D - 1)": born_dead_width1,
    "1 - 2 ** (1 - D), float": lambda d: 1.0 - 2.0 ** (1 - np.asarray(d, dtype=np.float64)),
    "1 - 2 * 0.5 ** D": lambda d: 1 - 2 * 0.5 ** np.asarray(d),
    "exp2": lambda d: 1 - np.exp2(1 - np.asarray(d, dtype=np.float64)),
    "expm1 of a log": lambda d: -np.expm1((np.asarray(d) - 1) * np.log(0.5)),
    "np.vectorize with otypes": np.vectorize(lambda d: 1 - 0.5 ** (d - 1), otypes=[float]),
    "1 - 1 / 2.0 ** (D - 1)": lambda d: 1 - 1 / 2.0 ** (np.asarray(d) - 1),
    "Python floats for a number": lambda d: (1 - 0.5 ** (d - 1) if np.ndim(d) == 0
                                             else 1 - 0.5 ** (np.asarray(d) - 1.0)),
    "a 0-d array for an integer": lambda d: np.asarray(1 - 0.5 ** (np.asarray(d) - 1.0)),
    "np.ldexp, the exponent capped in floats": lambda d: 1 - np.ldexp(
        1.0, -np.minimum(np.asarray(d, dtype=np.float64) - 1, 1100).astype(np.int64)),
    "integer power of a Python int": lambda d: (1 - 1 / 2 ** (d - 1) if type(d) is int else
                                                born_dead_width1(d)),
}


@pytest.mark.parametrize("name", WRONG_BORN_DEAD)
def test_born_dead_rejects(name):
    answer, message = WRONG_BORN_DEAD[name]
    rejects(ch03.check_born_dead_width1, answer, message)


@pytest.mark.parametrize("name", RIGHT_BORN_DEAD)
def test_born_dead_accepts_on_every_draw(name):
    accepts(ch03.check_born_dead_width1, RIGHT_BORN_DEAD[name], draws())


def test_born_dead_unfinished():
    with pytest.raises(NotAnsweredYet, match="`born_dead_width1\\(depth\\)` is not answered"):
        ch03.check_born_dead_width1(unfinished)


def test_born_dead_cases_cover_the_contract():
    cases = ch03.BORN_DEAD.draw(5)
    inputs = [c.args[0] for c in cases]
    assert {type(d) for d in inputs} >= {int, np.int64, np.ndarray}
    arrays = [d for d in inputs if isinstance(d, np.ndarray)]
    assert any(a.ndim == 0 for a in arrays) and any(a.size == 0 for a in arrays)
    assert any(a.shape == (1,) for a in arrays) and any(a.dtype == np.int32 for a in arrays)
    assert any(np.any((a > 20) & (a < 41)) for a in arrays)   # beyond the table, below 1 - eps
    numbers = [d for d in inputs if not isinstance(d, np.ndarray)]
    assert any(np.any(a >= 64) for a in arrays) and 1 in numbers
    assert any(type(d) is int and d > 1000 for d in numbers)
    # Depths where float32 is inexact, every draw: one number and a 0-d array.
    assert {30, 50} <= set(numbers) and any(a.ndim == 0 and a > 25 for a in arrays)
    # Large numpy integers (a power in their own dtype overflows), narrow integer dtypes.
    assert {(type(d), int(d)) for d in numbers if isinstance(d, np.integer)} >= {
        (np.int64, 65), (np.int32, 40), (np.int8, 100), (np.uint8, 200)}
    assert any(a.ndim == 0 and a >= 1000 and a.dtype == np.int32 for a in arrays)
    assert {np.int8, np.int16, np.uint8, np.uint16} <= {a.dtype.type for a in arrays}
    assert any(np.array_equal(a, np.arange(45, 61)) for a in arrays)   # where 1 is reached
    # Depths as large as their dtype holds: uint64 from 2**63 to 2**64 - 1, int64 beyond
    # int32, depths a narrower dtype wraps to small ones (257 is 1 in uint8).
    big = [a for a in arrays if a.size and a.dtype.kind in "iu"]
    assert any(a.dtype == np.uint64 and a.min() < 2**63 <= a.max() and a.max() == 2**64 - 1
               for a in big)
    assert any(a.dtype == np.uint64 and a.ndim == 0 and a == 2**64 - 1 for a in big)
    assert any(a.dtype == np.int64 and {257, 2**31, 2**32 + 5} <= set(a.ravel().tolist())
               for a in big)
    assert any(a.dtype == np.uint32 and a.max() == 2**32 - 1 for a in big)
    # A Python int's exact power stays cheap (see ch03._NUMBER_BITS).
    assert all(d < 2**ch03._NUMBER_TAIL_BITS for d in numbers if type(d) is int)


def test_born_dead_precision_loss_is_not_named_a_mistake():
    """Near 1, a float32 result equals 1 - (1/2)^D to float32 precision: the known-mistake
    matcher works at float64 precision and names a mistake only when the right answer does
    not fit as well, so the message says what differs instead of "one factor too many"."""
    def float32_arrays(depth):
        return (1 - 0.5 ** (np.asarray(depth) - 1.0)).astype(np.float32).astype(np.float64)

    for seed in (0, 1, 2):
        with pytest.raises(ExerciseError) as err:
            ch03.check_born_dead_width1(float32_arrays, seed=seed)
        message = str(err.value)
        assert "too many" not in message and "*alive*" not in message
        assert "differ only in their last digits" in message


def test_born_dead_messages_show_a_0d_input_as_an_array():
    assert ch03._shown(np.array(5)) == "np.array(5)"
    assert ch03._shown(np.int64(5)) == "np.int64(5)"
    assert ch03._shown(5) == "5"


def test_born_dead_formula_matches_simulation():
    """Exercise 4's fact: a width-1 ReLU net on a batch around 0 dies like 1 - 2^-(D-1)."""
    X, _ = data.moons(n=200, noise=0.15, seed=0)
    rng = np.random.default_rng(0)
    n_nets, depth = 4000, 6
    a = np.broadcast_to(X, (n_nets, *X.shape))
    fan_in = X.shape[1]
    for _ in range(depth):
        W = rng.normal(0.0, np.sqrt(2 / fan_in), (n_nets, fan_in, 1))
        a = np.maximum(a @ W, 0)
        fan_in = 1
    dead = ~np.any(a, axis=(1, 2))
    assert abs(dead.mean() - (1 - 0.5 ** (depth - 1))) < 0.02


def test_born_dead_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch03.BORN_DEAD, RIGHT_BORN_DEAD["exp2"], tmp_path / "r", monkeypatch).passed
    wrong = graded(ch03.BORN_DEAD, int_reciprocal, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "overflow" in wrong.message


# ---------------------------------------------------------------- every exercise


@pytest.mark.parametrize("check, answers", [
    (ch03.check_leaky_relu, (leaky_relu, leaky_relu_grad)),
    (ch03.check_dead_units, (RIGHT_DEAD_UNITS["np.all"],)),
    (ch03.check_revive, (RIGHT_REVIVE["bias 0"],)),
    (ch03.check_born_dead_width1, (born_dead_width1,)),
], ids=["leaky_relu", "dead_units", "revive", "born_dead"])
def test_no_answer_key_in_reach(check, answers):
    """The module keeps no expected results where a student's code could read them: nothing
    computed before the student's call is stored on the module or the spec."""
    before = {k: id(v) for k, v in vars(ch03).items()}
    check(*answers, seed=11)
    after = {k: id(v) for k, v in vars(ch03).items()}
    assert before == after


# ----------------------------------------------------------------------------- issue 23,
# fourth reading: results kept by shape, a shortcut for large batches, fractional biases,
# answers right up to two axes.


def _dead_units_kept_by_shape():
    kept = {}

    def answer(A):
        key = (A.shape, A.dtype.str)
        if key not in kept:
            kept[key] = np.all(A == 0, axis=0)
        return kept[key].copy()
    return answer


def dead_units_last_sample_when_large(A):
    if A.size >= 50_000:
        return A[-1] == 0
    return np.all(A == 0, axis=0)


def dead_units_second_half_when_tall(A):
    if A.shape[0] > 5000:
        return np.all(A[A.shape[0] // 2:] == 0, axis=0)
    return np.all(A == 0, axis=0)


def _up_to_two_axes(fn):
    """Right on 0-d, 1-D and 2-D inputs; a 3-D input comes back flattened to two axes."""
    def answer(x, *args, **kwargs):
        out = fn(x, *args, **kwargs)
        return out.reshape(out.shape[0], -1) if np.ndim(out) > 2 else out
    return answer


def born_dead_loop_up_to_2d(depth):
    f = lambda d: 1.0 - 0.5 ** (int(d) - 1)  # noqa: E731
    if not isinstance(depth, np.ndarray):
        return float(f(depth))
    if depth.ndim == 0:
        return np.array(f(depth))
    if depth.ndim == 1:
        return np.array([f(d) for d in depth], dtype=np.float64)
    return np.array([[f(d) for d in row] for row in depth], dtype=np.float64)


def keep_the_fraction(config):
    return {**config, "bias_init": config["bias_init"] - round(config["bias_init"])}


WRONG_DEAD_UNITS.update({
    # (kept across check calls too: a stale result may look like another mistake)
    "results kept by shape and dtype": (_dead_units_kept_by_shape(),
                                        r"mask differs|marks a unit|unit \d+ is|answers per "
                                        r"sample"),
    "the last sample only, on large batches": (dead_units_last_sample_when_large,
                                               r"mask differs|unit \d+ is alive"),
    "the second half only, on tall batches": (dead_units_second_half_when_tall,
                                              r"mask differs|unit \d+ is alive|zero on "
                                              r"\*some\* sample"),
})

WRONG_REVIVE.update({
    "keeps only the fraction of the bias (b - round(b))": (
        keep_the_fraction,
        r"bias_init = -0\.\d+.*still dead"),
})

WRONG_LEAKY_RELU.update({
    "results of three axes flattened to two": (
        (_up_to_two_axes(leaky_relu), leaky_relu_grad), r"shape|axes"),
})

WRONG_BORN_DEAD.update({
    "a loop that handles up to two axes": (born_dead_loop_up_to_2d, r"raised|shape|axes"),
})


# issue 23, seventh reading: results kept between calls by a summary of the input (sums, ends,
# extremes); every draw now has twins (two inner values swapped) that share any such summary.
WRONG_LEAKY_RELU.update({
    f"a derivative kept by the input's {what}": (
        (leaky_relu, kept_by(summary)(leaky_relu_grad)), r"two inner values swapped|differs")
    for what, summary in (("sum", sum_of), ("ends", ends_of), ("extremes", extremes_of))})
WRONG_LEAKY_RELU.update({
    "a forward pass kept by the input's sum": (
        (kept_by(sum_of)(leaky_relu), leaky_relu_grad), r"two inner values swapped|differs")})
WRONG_DEAD_UNITS.update({
    f"a mask kept by the batch's {what}": (kept_by(summary)(RIGHT_DEAD_UNITS["np.all"]),
                                           r"two inner values swapped|differs|dead|alive")
    for what, summary in (("sum", sum_of), ("ends", ends_of), ("extremes", extremes_of))})
WRONG_BORN_DEAD.update({
    "a result kept by the depths' sum": (kept_by(sum_of)(born_dead_width1),
                                         r"two inner values swapped|differs|expected|not "
                                         r"equal")})


WRONG_DEAD_UNITS.update({
    "a count of nonzeros in uint8": (
        lambda A: np.count_nonzero(A, axis=0).astype(np.uint8) == 0, r"256|dead|differs"),
    "a count of nonzeros in int8": (
        lambda A: np.sum(A != 0, axis=0, dtype=np.int8) == 0, r"256|dead|differs"),
})


def leaky_relu_through_a_flat_view(x, alpha=0.01):
    """Writes through out.ravel(): a view only while out is C-ordered."""
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    out = np.empty_like(x)
    flat = x.ravel()
    out.ravel()[...] = np.where(flat > 0, flat, alpha * flat)
    return out


def leaky_relu_grad_through_a_flat_view(x, alpha=0.01):
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    out = np.empty_like(x)
    out.reshape(-1)[...] = np.where(x.reshape(-1) > 0, 1.0, alpha)
    return out


WRONG_LEAKY_RELU.update({
    "written through out.ravel() (a copy for a transposed x)": (
        (leaky_relu_through_a_flat_view, leaky_relu_grad), r"Fortran order|differs"),
    "the derivative written through out.reshape(-1)": (
        (leaky_relu, leaky_relu_grad_through_a_flat_view), r"Fortran order|differs"),
})


# issue 23, eighth reading: rings of output buffers (any size: the answer keeps the memory it
# returns), loops kept for narrower dtypes, unsigned depths, a bias that keeps its fraction,
# caches keyed on a per-unit summary.


def leaky_relu_loop_for_narrow_floats(x, alpha=0.01):
    if x.dtype in (np.float16, np.float32):
        return np.array([v if v > 0 else x.dtype.type(alpha) * v for v in x.ravel()],
                        dtype=x.dtype).reshape(x.shape)
    return leaky_relu(x, alpha)


def born_dead_wrong_for_wide_unsigned(depth):
    if isinstance(depth, np.ndarray):
        d = depth.astype(np.int64) if depth.dtype.itemsize < 8 else depth
        return 1.0 - np.power(2.0, 1 - d)
    return 1.0 - 2.0 ** (1 - int(depth))


def _dead_kept_by_columns(summary):
    kept = {}

    def answer(A):
        key = (A.shape, A.dtype.str, summary(A).tobytes())
        if key not in kept:
            kept[key] = ~np.any(A != 0, axis=0)
        return kept[key].copy()
    return answer


WRONG_LEAKY_RELU.update({
    "a ring of 128 output buffers": ((ring_of(leaky_relu, 128), leaky_relu_grad),
                                     r"keeps the array"),
    "a Python loop for float16 and float32 only": ((leaky_relu_loop_for_narrow_floats,
                                                    leaky_relu_grad), r"runs a Python loop"),
})
WRONG_DEAD_UNITS.update({
    "a ring of 8 output buffers": (ring_of(RIGHT_DEAD_UNITS["np.all"], 8), r"keeps the array"),
    "a mask kept by the column sums": (_dead_kept_by_columns(lambda A: A.sum(axis=0)),
                                       r"cancel|negative outputs|differs|dead|alive"),
    "a mask kept by the column maxima": (_dead_kept_by_columns(lambda A: A.max(axis=0)),
                                         r"cancel|negative outputs|differs|dead|alive"),
})
WRONG_BORN_DEAD.update({
    "a ring of 4 output buffers": (ring_of(born_dead_width1, 4),
                                   r"keeps the array|a later call changed"),
    "uint32 and uint64 depths left as they are": (born_dead_wrong_for_wide_unsigned,
                                                  r"uint32|uint64|expected|differs"),
})
WRONG_REVIVE["the bias's fraction kept (b % 1)"] = (
    lambda config: {**config, "bias_init": config["bias_init"] % 1},
    r"-3\.1|-3\.2|still dead|dead")


# issue 23, eleventh reading: depths as large as their dtype holds (uint64 from 2**63, int64
# beyond int32, depths a narrow dtype wraps to small ones: 257 is 1 in uint8).


def _through(dtype):
    def answer(depth):
        d = np.asarray(depth).astype(dtype)
        r = 1.0 - 0.5 ** (d - 1.0)
        return r if isinstance(depth, np.ndarray) else float(r)
    return answer


WRONG_BORN_DEAD.update({
    "the depth converted to int64 (the old hint's advice)": (
        lambda d: 1.0 - 2.0 ** (1 - np.asarray(d, dtype=np.int64)),
        r"converted to int(64|32|16|8), which cannot hold them all: depth \d+ becomes "
        r"-?\d+[\s\S]*Hint: a depth may be as large as its dtype holds \(uint64 here\)"),
    "np.ldexp of an int64 depth": (
        lambda d: 1 - np.ldexp(1.0, 1 - np.asarray(d, dtype=np.int64)),
        r"converted to int(64|32), which cannot hold them all"),
    "the depth's int64 arithmetic after a cast": (
        lambda d: (lambda a: 1.0 - 0.5 ** (a - 1).astype(np.float64))(
            np.asarray(d, dtype=np.int64))[()],
        r"converted to int(64|32), which cannot hold them all"),
    "the depth converted to int32": (_through(np.int32),
                                     r"converted to int32, which cannot hold them all"),
    "the depth converted to uint8": (
        lambda d: (lambda a: 1 - 0.5 ** (a - np.uint8(1)).astype(np.float64))(
            np.asarray(d).astype(np.uint8))[()],
        r"converted to u?int8, which cannot hold them all: depth \d+ becomes \d+ there \(got "
        r"[\d.e-]+ at depth \d+|wrapped around to \d+, as converting it to u?int(8|16)"),
    "the depth converted to int16": (_through(np.int16),
                                     r"convert(ed|ing it) to u?int16|born_dead_width1\(\d+\)` "
                                     r"is -inf, expected 1"),
})



def _float16_slope_off_by(delta):
    """Right but in float16, where the slope is alpha + delta (within the old tolerance of 4
    units of x's last place: 0.0039 |x|)."""
    def answer(x, alpha=0.01):
        x = x if x.dtype.kind == "f" else x.astype(np.float64)
        if x.dtype == np.float16:
            return np.where(x > 0, x, x * np.float16(max(alpha + delta, 0.0)))
        return np.where(x > 0, x, alpha * x)
    return answer


def leaky_relu_uint32_through_float32(x, alpha=0.01):
    """uint32 through float32 (exact up to 2**24 only)."""
    if x.dtype == np.uint32:
        x = x.astype(np.float32).astype(np.float64)
    return leaky_relu(x.astype(np.float64) if x.dtype.kind in "iu" else x, alpha)


def leaky_relu_uint32_as_int32(x, alpha=0.01):
    """uint32 made signed "so that -x works": 2**32 - 1 becomes -1."""
    if x.dtype == np.uint32:
        x = x.astype(np.int32)
    return leaky_relu(x.astype(np.float64) if x.dtype.kind in "iu" else x, alpha)


def _grad_scaled_in(dtype, factor):
    def answer(x, alpha=0.01):
        g = leaky_relu_grad(x, alpha)
        return (g * g.dtype.type(factor)).astype(g.dtype) if x.dtype == dtype else g
    return answer


def dead_units_first_half_when_tall(A):
    """A "speed-up" for very tall batches: the first half of the samples only."""
    if A.shape[0] > 10_000:
        A = A[: A.shape[0] // 2 + 1]
    return ~np.any(A, axis=0)


def dead_units_last_row_when_wide(A):
    if A.shape[1] > 10_000:
        return A[-1] == 0
    return ~np.any(A, axis=0)


def _one_setting(key, rule):
    def revive(config):
        return dict(config, **{key: rule(config)})
    return revive


WRONG_LEAKY_RELU.update({
    "float16 only: slope alpha + 0.0035": (
        (_float16_slope_off_by(0.0035), leaky_relu_grad),
        r"float16 input|its default slope is 0\.01\d+ for this float16 input"),
    "float16 only: slope alpha - 0.0035": (
        (_float16_slope_off_by(-0.0035), leaky_relu_grad),
        r"float16 input|its default slope is 0\.00\d+ for this float16 input"),
    "float16 only: slope alpha + 0.001": (
        (_float16_slope_off_by(0.001), leaky_relu_grad),
        r"`leaky_relu` (differs from the answer|is right above 0, but below 0 it is [\d.e+]+ "
        r"units? in the last place of float16 off alpha times x \(rounded once\),) in \d+ of "
        r"\d+ values of this float16 input"),
    "uint32 through float32": (
        (leaky_relu_uint32_through_float32, leaky_relu_grad),
        r"uint32 input; the largest difference is at x = 42949672\d\d\.0: got 4294967296, "
        r"expected 42949672\d\d\.[\s\S]*Hint: the values differ only in their last digits: an "
        r"integer x asks for float64"),
    "uint32 made signed (int32)": (
        (leaky_relu_uint32_as_int32, leaky_relu_grad),
        r"uint32 input; the largest difference is at x = 4294967295\.0: got -[\d.]+, expected "
        r"4\.29497e\+09[\s\S]*Hint: integer arithmetic wraps around"),
    "float32 derivative 9e-6 too small (75 units in the last place)": (
        (leaky_relu, _grad_scaled_in(np.float32, 1 - 9e-6)),
        r"`leaky_relu_grad` is off the exact slope .* float32 input"),
    "float16 derivative 0.2% too large (2 units in the last place)": (
        (leaky_relu, _grad_scaled_in(np.float16, 1.002)),
        r"`leaky_relu_grad` is off the exact slope .* float16 input"),
})

RIGHT_LEAKY_RELU.update({
    "alpha in x's dtype": (
        lambda x, alpha=0.01: (lambda x: np.where(x > 0, x, x * x.dtype.type(alpha)))(
            x if x.dtype.kind == "f" else x.astype(np.float64)),
        lambda x, alpha=0.01: (lambda x: np.where(x > 0, x.dtype.type(1), x.dtype.type(alpha)))(
            x if x.dtype.kind == "f" else x.astype(np.float64))),
})

WRONG_DEAD_UNITS.update({
    "the first half only, on tall batches": (
        dead_units_first_half_when_tall,
        r"unit \d is alive \(nonzero on 1 of \d+ samples \(sample \d+\)\), but your mask says "
        r"dead[\s\S]*a large float32 batch"),
    "the last sample only, on wide batches": (
        dead_units_last_row_when_wide,
        r"differs on \d+ of 100000 units[\s\S]*nonzero on 1 of 2 samples \(sample 0\)"),
    "a count of nonzeros in int16": (
        lambda A: (A != 0).sum(axis=0, dtype=np.int16) == 0,
        r"counts each unit's nonzero outputs in a type that wraps around: unit \d+ is nonzero on "
        r"exactly 65,536 of its [\d,]+ samples[\s\S]*uint16 or int16"),
    "a count of nonzeros in uint16": (
        lambda A: np.count_nonzero(A, axis=0).astype(np.uint16) == 0,
        r"exactly 65,536 of its [\d,]+ samples"),
    # The message names the wrap, not "zero on some sample" (the reader's misdiagnosis).
    "a count of nonzeros in uint8 (named)": (
        lambda A: (A != 0).sum(axis=0, dtype=np.uint8) == 0,
        r"wraps around: unit \d+ is nonzero on exactly 256 of its 600 samples[\s\S]*uint8 or "
        r"int8"),
    "every other sample of large batches (not 'some zero')": (
        lambda A: ~np.any(A[::2] if A.size > 150_000 else A, axis=0),
        r"^(?![\s\S]*\*some\*)[\s\S]*your mask differs"),
})

WRONG_REVIVE.update({
    "round(b) - b (wrong from -2.6: -0.4)": (
        _one_setting("bias_init", lambda c: round(c["bias_init"]) - c["bias_init"]),
        r"bias_init = -0\.399\d+, \d+% of the units of hidden layer \d are still dead[\s\S]*"
        r"a bias of -2\.6"),
    "int(b) - b (wrong from -3.9: 0.9)": (
        _one_setting("bias_init", lambda c: int(c["bias_init"]) - c["bias_init"]),
        r"bias_init = 0\.899\d+, \d+% of the units[\s\S]*a bias of -3\.9"),
    "the fix only where lr has two decimals": (
        _one_setting("bias_init", lambda c: 0.0 if round(c["lr"], 2) == c["lr"] else -1.0),
        r"bias_init = -1\.0, \d+% of the units[\s\S]*the mild end of the bias range"),
    "the fix only where epochs are a multiple of 10": (
        _one_setting("bias_init", lambda c: 0.0 if c["epochs"] % 10 == 0 else -1.0),
        r"bias_init = -1\.0, \d+% of the units[\s\S]*(the mild end|the broken settings)"),
    "the fix only where the bias has one decimal": (
        _one_setting("bias_init", lambda c: 0.0 if round(c["bias_init"], 1) == c["bias_init"]
                     else -1.0),
        r"bias_init = -1\.0, \d+% of the units[\s\S]*the broken settings"),
})

# (Right answers until fix 14, which made the contract "the same setting to the same value in
# every config": a value picked by a rule on the config's values is refused, as the thirteenth
# reading's band rules below are, whether or not it works where it is used.)
_A_RULE_ON_THE_VALUES = r"but bias_init = .* on \{.*\}: a different value for some settings"
WRONG_REVIVE.update({
    "|b - round(b)| (works, but a rule on the values)": (
        _one_setting("bias_init", lambda c: abs(c["bias_init"] - round(c["bias_init"]))),
        _A_RULE_ON_THE_VALUES),
    "b / 15 (works, but a rule on the values)": (
        _one_setting("bias_init", lambda c: c["bias_init"] / 15), _A_RULE_ON_THE_VALUES),
})


def test_dead_units_large_batch_has_its_traps():
    """The large batch: more than 2,000,000 outputs (a random size), more than 100,000
    samples (a random number), a unit nonzero on exactly 65,536 of them (a 16-bit count wraps
    to 0), units nonzero once only in the second half, in the first half, on the last sample
    and on the first, one whose outputs cancel (+a, -a, one in the second half), dead units."""
    sizes = set()
    for seed in range(12):
        A = next(c.args[0] for c in ch03.DEAD_UNITS.draw(seed) if "a large float32" in c.label)
        n = A.shape[0]
        sizes.add(A.shape)
        assert A.dtype == np.float32 and 100_000 < n and 2_000_000 < A.size
        assert A.size <= ch03._LARGE_CAP + n and A.shape[1] >= 16
        assert n <= 125_000 or A.size > 2_300_000
        counts = np.count_nonzero(A, axis=0)
        assert 65_536 in counts.tolist() and (counts == 0).any()
        once = [int(np.flatnonzero(A[:, j])[0]) for j in np.flatnonzero(counts == 1)]
        assert 0 in once and n - 1 in once
        assert any(0 < r < n // 2 for r in once) or once.count(0) > 1
        assert any(n // 2 <= r < n - 1 for r in once) or once.count(n - 1) > 1
        pairs = np.flatnonzero((counts == 2) & (A.sum(axis=0) == 0))
        assert len(pairs) >= 1 and np.abs(A[:, pairs]).max() < 1
        assert any(np.flatnonzero(A[:, j])[-1] >= n // 2 for j in pairs)
    assert len(sizes) == 12   # drawn afresh


# ---------------------------------------------------------------- fix 13 (confirm round 12)
# The twelfth reading's accepted wrong answers, and the classes they stand for.


def _as_float(x):
    x = np.asarray(x)
    return x.astype(np.float64) if x.dtype.kind in "iu" else x


def _slope_nudged(x, alpha=0.01):
    """The slope scaled by 1 + 5e-13 in float64 and 1 + 5e-6 in float32 (inside the old
    rtol of 1e-12 and 1e-5)."""
    y = _as_float(x)
    scale = {np.dtype(np.float64): 1 + 5e-13, np.dtype(np.float32): 1 + 5e-6}.get(y.dtype, 1.0)
    return np.where(y > 0, y, (y.astype(np.float64) * alpha * scale).astype(y.dtype))


def _float16_one_unit_of_x_low(x, alpha=0.01):
    """float16: alpha x less one unit of x's last place (inside the old allowance of two),
    unless alpha is a power of two (where the old check asked for the exact value)."""
    y = _as_float(x)
    r = np.where(y > 0, y, y * y.dtype.type(alpha))
    if y.dtype == np.float16 and np.frexp(alpha)[0] != 0.5:
        r = np.where(y < 0, r - np.spacing(np.abs(y)), r).astype(np.float16)
    return r


def _relu_when_large(x, alpha=0.01):
    y = _as_float(x)
    return np.maximum(y, y.dtype.type(0)) if y.size > 2_000_000 else leaky_relu(y, alpha)


def _relu_slope_when_large(x, alpha=0.01):
    y = _as_float(x)
    return (y > 0).astype(y.dtype) if y.size > 2_000_000 else leaky_relu_grad(y, alpha)


_LOST_DIGITS = r"below 0 it is [\d.e+]+ units? in the last place of \w+ off alpha times x"

WRONG_LEAKY_RELU.update({
    # Cancellation: a difference of two terms of x's size (right answers until this round).
    "x - (1 - alpha) min(x, 0) (cancels digits)": (
        (lambda x, alpha=0.01: (lambda x: x - (1 - alpha) * np.minimum(x, 0))(_as_float(x)),
         leaky_relu_grad), _LOST_DIGITS + r" \(rounded once\), in \d+ of 12 values of this "
                          r"float64 input"),
    "x + (alpha - 1) min(x, 0) (cancels digits)": (
        (lambda x, alpha=0.01: (lambda x: x + (alpha - 1) * np.minimum(x, 0))(_as_float(x)),
         leaky_relu_grad), _LOST_DIGITS),
    "x - (1 - alpha) min(x, 0) with 1 - alpha in x's dtype (the reader's W7)": (
        (lambda x, alpha=0.01: (lambda y: y - y.dtype.type(1 - alpha) * np.minimum(y, 0))(
            _as_float(x)), leaky_relu_grad), _LOST_DIGITS),
    "(1 + alpha)/2 x + (1 - alpha)/2 |x| (cancels digits)": (
        (float_sum_and_abs, leaky_relu_grad), _LOST_DIGITS),
    "the slope nudged by 5e-13 (float64) and 5e-6 (float32)": (
        (_slope_nudged, leaky_relu_grad),
        r"below 0 it is [\d.e+]+ units in the last place of float64 off alpha times x \(rounded "
        r"once\), in \d+ of 12 values of this float64 input"),
    "float16: one unit of x's last place low": (
        (_float16_one_unit_of_x_low, leaky_relu_grad),
        r"(units? in the last place of float16 off alpha times x \(rounded once\)|differs "
        r"from the answer),? in \d+ of \d+ values of this "
        r"float16 input"),
    "plain ReLU above 2,000,000 values (both functions)": (
        (_relu_when_large, _relu_slope_when_large),
        r"(?s)(plain ReLU|ReLU's derivative).*a large float32 input of shape"),
})
RIGHT_LEAKY_RELU.update({
    "float16 through float32 (rounded twice)": (
        lambda x, alpha=0.01: (lambda y: np.where(
            y > 0, y, (y.astype(np.float32) * np.float32(alpha)).astype(y.dtype))
            if y.dtype == np.float16 else leaky_relu(y, alpha))(_as_float(x)),
        leaky_relu_grad),
    "maximum(x, alpha x) in x's dtype": (
        lambda x, alpha=0.01: (lambda y: np.maximum(y, y * y.dtype.type(alpha)))(_as_float(x)),
        leaky_relu_grad),
})

WRONG_DEAD_UNITS.update({
    "small cancelling outputs of balanced signs called dead (fitted)": (
        lambda A: (np.sign(A).sum(0) == 0) & (np.abs(A).max(0) < 1) | ~A.any(0),
        r"is alive \(nonzero on \d+ of \d+ samples \(samples \[[\d, ]+\]\)(: its outputs "
        r"cancel, they sum to 0|, at most [\d.e-]+ in size: tiny, but not zero)\), but your mask "
        r"says dead"),
    "every unit alive above 2,000,000 outputs": (
        lambda A: np.zeros(A.shape[1], bool) if A.size > 2_000_000 else ~A.any(0),
        r"(?s)is dead \(zero on all [\d,]+ samples\), but your mask says alive.*a large "
        r"float32 batch"),
    "the first half of the samples above 70,000": (
        lambda A: ~A[: (A.shape[0] // 2 if A.shape[0] > 70_000 else A.shape[0])].any(0),
        r"(?s)is alive \(nonzero on \d of \d+ samples.*but your mask says dead.*a large "
        r"float32 batch"),
    "the first 60,000 samples only": (
        lambda A: ~A[:60_000].any(0),
        r"(?s)is alive \(nonzero on \d of \d+ samples.*but your mask says dead.*a large "
        r"float32 batch"),
})


def _band_lr(config):
    """The reader's band exploit: bias fixed everywhere but on biases from -2.31 to -2.29,
    where the learning rate changes instead (the network stays broken there)."""
    if -2.31 < config["bias_init"] < -2.29:
        return dict(config) | {"lr": config["lr"] * 0.999}
    return {**config, "bias_init": 0.0}


def _band_bias(low, high):
    """The same setting everywhere, but a bias that leaves the units dead on one band."""
    def revive(config):
        return dict(config, bias_init=-1.0 if low < config["bias_init"] < high else 0.0)
    return revive


WRONG_REVIVE.update({
    "lr changed on biases from -2.31 to -2.29 (bias fixed elsewhere)": (
        _band_lr, r"changes (bias_init|lr) on the broken settings \{.*\}, but (lr|bias_init) "
                  r"on \{.*\}: a different setting for some settings of the ranges"),
    "a bias of -1 on biases from -3.61 to -3.6 (0 elsewhere)": (
        _band_bias(-3.61, -3.6),
        r"but bias_init = -1\.0 on \{.*'bias_init': -3\.60\d*.*\}: a different value|"
        r"bias_init = -1\.0, \d+% of the units of hidden layer \d are still dead"),
})


def test_revive_probes_spread_over_the_ranges():
    """The last case hands revive 200 broken settings: one in each 200th of the bias range
    and of the lr range, every epoch count from 150 to 300, all with the task's keys."""
    for seed in range(20):
        probe = ch03.REVIVE.draw(seed)[-1]
        assert probe.driver == "ch03.revive_many"
        configs = probe.args[0]
        assert len(configs) == 200
        assert all(list(c) == list(ch03.BROKEN_CONFIG) for c in configs)
        bias = sorted(c["bias_init"] for c in configs)
        lr = sorted(c["lr"] for c in configs)
        for i, (b, r) in enumerate(zip(bias, lr)):
            assert -4 + i / 100 <= b < -4 + (i + 1) / 100
            assert 0.5 + i / 400 <= r < 0.5 + (i + 1) / 400
        assert {c["epochs"] for c in configs} == set(range(150, 301))


WRONG_BORN_DEAD.update({
    "a probability above 1 (1 + 2.2e-16) beyond depth 60": (
        lambda d: _np_out(d, lambda D: np.where(D > 60, np.nextafter(1.0, 2), 1 - np.exp2(1 - D))),
        r"gives 1\.0000000000000002 at depth \d+: a probability above 1"),
    "a negative probability (-5e-324) at depth 1": (
        lambda d: _np_out(d, lambda D: np.where(D == 1, -5e-324, 1 - np.exp2(1 - D))),
        r"gives -5e-324 at depth 1: a probability below 0"),
    "5e-324 at depth 1 (where it is 0 exactly)": (
        lambda d: _np_out(d, lambda D: np.where(D == 1, 5e-324, 1 - np.exp2(1 - D))),
        r"at depth 1: got 4\.94066e-324, expected 0"),
    "zeros for arrays of more than 100 depths": (
        lambda d: born_dead_width1(d) if np.size(d) <= 100 else np.zeros(np.shape(d)),
        r"(?s)differs from the exact probability at \d+ of [\d,]+ depths.*a long array of "
        r"[\d,]+ depths"),
    "zeros for arrays of more than 1,000 depths": (
        lambda d: born_dead_width1(d) if np.size(d) <= 1000 else np.zeros(np.shape(d)),
        r"(?s)a long array of [\d,]+ depths"),
})


def _np_out(d, f):
    a = np.asarray(d)
    r = f(a.astype(np.float64))
    return np.asarray(r, dtype=np.float64) if a.ndim else np.float64(r)


RIGHT_BORN_DEAD.update({
    "1 - exp2(1 - D) in float64, np.float64 for a number": lambda d: _np_out(
        d, lambda D: 1 - np.exp2(1 - D)),
    "-expm1(-(D - 1) ln 2)": lambda d: _np_out(d, lambda D: -np.expm1(-(D - 1) * np.log(2))),
})


# ---------------------------------------------------------------- fix 14 (confirm round 13)
# The thirteenth reading's accepted wrong answers, and the classes they stand for.

def _lr_bands(values):
    """The reader's band rules: ``values`` maps an open lr band to the bias set there (0.0
    elsewhere). A value on a band narrower than 1/200 of the lr range meets one probe a draw,
    never trained when it is neither the smallest nor the largest value (the old check)."""
    def revive(config):
        new = dict(config)
        new["bias_init"] = next((v for (lo, hi), v in values.items() if lo < config["lr"] < hi),
                                0.0)
        return new
    return revive


WRONG_REVIVE.update({
    "bias 0.8 / 0.7 on two lr bands near the ends (the reader's revive_band)": (
        _lr_bands({(0.5, 0.5025): 0.8, (0.9975, 1.0): 0.7}), _A_RULE_ON_THE_VALUES),
    "bias 0.8 / 0.7 on lr bands at 0.5 and 0.95 (the reader's revive_band_mid)": (
        _lr_bands({(0.5, 0.5025): 0.8, (0.95, 0.9525): 0.7}), _A_RULE_ON_THE_VALUES),
    # (1/100 of the lr range: it holds one of the probes' 1/200ths whole, so a probe lands
    # in it on every draw; a band of 1/200 not aligned with them is missed one draw in 25)
    "bias 0.7 on one narrow lr band only (never the smallest or largest value)": (
        _lr_bands({(0.7301, 0.7352): 0.7}), _A_RULE_ON_THE_VALUES),
    "bias scaled down, 0.05 b (works, but a rule on the values)": (
        _one_setting("bias_init", lambda c: 0.05 * c["bias_init"]), _A_RULE_ON_THE_VALUES),
    "a value that differs on the trained configs only": (
        _one_setting("bias_init", lambda c: 0.1 if c["lr"] in (0.5, 0.75, 1.0) else 0.0),
        _A_RULE_ON_THE_VALUES),
})

RIGHT_REVIVE.update({
    "bias 0 computed from the config (b - b)": _one_setting(
        "bias_init", lambda c: c["bias_init"] - c["bias_init"]),
    "bias 0 as np.float32": make_reviver(bias_init=np.float32(0)),
    "bias 0.3 (the same value everywhere)": make_reviver(bias_init=0.3),
})


def _large_case(spec, seed):
    return next(c for c in spec.draw(seed)
                if c.work == "large" and c.args[0].size > 1_000_000)


@pytest.mark.parametrize("spec", [ch03.LEAKY_RELU, ch03.DEAD_UNITS], ids=["leaky", "dead"])
def test_large_inputs_have_no_set_ceiling(spec):
    """Each draw's large value-checked input holds more than 2,000,000 values; on about one
    draw in four more than the old check's largest, 2,300,000 (a Pareto tail, up to the cap);
    the dead-unit batches past it are taller than the old ones on some draws too."""
    sizes, rows = [], []
    for seed in range(40):
        A = _large_case(spec, seed).args[0]
        sizes.append(A.size)
        rows.append(A.shape[0])
        assert 2_000_000 < A.size <= ch03._LARGE_CAP + A.shape[0]
    past = [s for s in sizes if s > 2_300_000 + 200_000]
    assert 4 <= len(past) <= 20 and max(past) > 2_500_000
    if spec is ch03.DEAD_UNITS:
        assert max(rows) > 125_000


def _wrong_above(size, wrong, right):
    return lambda x, *a, **k: (wrong if np.size(x) > size else right)(x, *a, **k)


def test_a_mistake_past_the_old_largest_input_is_refused_where_drawn():
    """Answers wrong only above 2,300,000 values (the old check's largest input, which they
    passed on every draw): refused on every draw whose large input is larger, and such draws
    come often (one in four)."""
    leaky = (_wrong_above(2_300_000, lambda x, alpha=0.01: np.maximum(x, 0), leaky_relu),
             _wrong_above(2_300_000, lambda x, alpha=0.01: (x > 0).astype(x.dtype),
                          leaky_relu_grad))
    dead = _wrong_above(2_300_000, lambda A: np.zeros(A.shape[1], bool),
                        lambda A: ~np.any(A, axis=0))
    for check, spec, answers, pattern in (
            (ch03.check_leaky_relu, ch03.LEAKY_RELU, leaky,
             r"(?s)(plain ReLU|ReLU's derivative).*a large float32 input of shape"),
            (ch03.check_dead_units, ch03.DEAD_UNITS, (dead,),
             r"(?s)but your mask says alive.*a large float32 batch")):
        met = 0
        for seed in range(32):   # (one draw in four: some 8 of these 32)
            if _large_case(spec, seed).args[0].size <= 2_300_000:
                continue
            met += 1
            with pytest.raises(ExerciseError, match=pattern):
                check(*answers, seed=seed)
        assert met >= 2


def test_born_dead_long_arrays_have_no_set_ceiling():
    """The long array of depths: 1,001 to 2,000 depths on most draws, longer on about one in
    four (past 20,000 on some), and an answer wrong only past the old longest is refused there."""
    lengths = [next(c.args[0].size for c in ch03.BORN_DEAD.draw(seed)
                    if c.label.startswith("a long array")) for seed in range(60)]
    assert min(lengths) > 1_000 and 6 <= sum(n > 2_000 for n in lengths) <= 30
    assert max(lengths) > 10_000
    wrong = lambda d: born_dead_width1(d) if np.size(d) <= 2_000 else np.zeros(np.shape(d))  # noqa: E731
    met = 0
    for seed, n in enumerate(lengths[:40]):
        if n > 2_000:
            met += 1
            with pytest.raises(ExerciseError, match=r"a long array of [\d,]+ depths"):
                ch03.check_born_dead_width1(wrong, seed=seed)
    assert met >= 2


def _alphas_of(spec, seed):
    return [ch03._alpha_of(c) for c in spec.draw(seed) if c.answer == 0]


@pytest.mark.parametrize("band", [(0.95, 1.0), (0.0, 0.01)], ids=["near 1", "near 0"])
def test_a_slope_fitted_to_the_old_alpha_range_is_refused_where_drawn(band):
    """The old check drew alpha from 0.05 to 0.95 (and tried 0 and 0.01): an answer that uses
    another slope for an alpha near 1 or below 0.01 (not 0) passed. The random arrays now draw
    alpha near both ends too: refused on every draw that holds such an alpha, and most do."""
    low, high = band

    def forward(x, alpha=0.01):
        slope = 0.5 if low < alpha < high else alpha
        return leaky_relu(x, slope)

    met = 0
    for seed in range(8):
        if not any(low < a < high for a in _alphas_of(ch03.LEAKY_RELU, seed)):
            continue
        met += 1
        with pytest.raises(ExerciseError):
            ch03.check_leaky_relu(forward, leaky_relu_grad, seed=seed)
    assert met >= 4


# ---------------------------------------------------------------- fifteenth fix (reading 14)
# Exercise 1: the derivative's values (1, and alpha rounded once to x's dtype) are compared
# exactly; empty float32/float16 and integer inputs keep the dtype rule.
def _float_of(x):
    return x.astype(np.float64) if x.dtype.kind in "iu" else x


def _grad_alpha_one_ulp_high(x, alpha=0.01):
    """The slope below 0 is the next float above alpha."""
    g = leaky_relu_grad(x, alpha)
    low = g < 1
    g[low] = np.nextafter(g[low], np.asarray(2, g.dtype))
    return g


def _grad_one_minus_ulp(x, alpha=0.01):
    """The slope above 0 is 1 - ulp, not 1."""
    x = _float_of(x)
    return np.where(x > 0, np.nextafter(np.ones((), x.dtype), 0), np.asarray(alpha, x.dtype))


def _grad_offset(x, alpha=0.01, one=False):
    """alpha plus a tiny absolute offset (9e-16 in float64, 9e-13 in float32): not 0 where
    alpha = 0; with ``one``, 1 - 4 eps above 0 too."""
    x = _float_of(x)
    d = {np.dtype(np.float64): 9e-16, np.dtype(np.float32): 9e-13}.get(x.dtype, 0.0)
    top = 1 - 4 * np.finfo(x.dtype).eps if one and x.dtype != np.float16 else 1
    return np.where(x > 0, np.asarray(top, x.dtype), np.asarray(alpha + d, x.dtype))


def _empty_as(make):
    """Right answers, except for an empty x, where ``make(x)`` is returned."""
    def answers(answer):
        def wrapped(x, alpha=0.01):
            return make(x) if x.size == 0 else answer(x, alpha)
        return wrapped
    return answers(leaky_relu), answers(leaky_relu_grad)


_OFF_THE_SLOPE = r"`leaky_relu_grad` is off the exact slope in \d+ of \d+ values"
WRONG_LEAKY_RELU.update({
    "derivative: alpha 1 ulp high": ((leaky_relu, _grad_alpha_one_ulp_high),
                                     _OFF_THE_SLOPE + r".* where the slope is alpha = "),
    "derivative: 1 - ulp above 0": ((leaky_relu, _grad_one_minus_ulp),
                                    _OFF_THE_SLOPE + r".* where the slope is exactly 1\."),
    "derivative: alpha + 9e-16 (not 0 for alpha = 0)": ((leaky_relu, _grad_offset),
                                                        _OFF_THE_SLOPE),
    "derivative: alpha + 9e-16, 1 - 4 eps": (
        (leaky_relu, functools.partial(_grad_offset, one=True)), _OFF_THE_SLOPE),
    "empty input: float64 whatever its dtype": (
        _empty_as(lambda x: np.zeros(x.shape)),
        r"returned dtype float64 for a float(16|32) input; the task asks to keep x's dtype"
        r"[\s\S]*an empty float(16|32) array of shape"),
    "empty input: a copy of x (an integer stays an integer)": (
        _empty_as(lambda x: x.copy()),
        r"returned dtype (u?int\d+) for an? \1 input; the task asks for float64 when x is an "
        r"integer array[\s\S]*an empty \1 array of shape"),
})
RIGHT_LEAKY_RELU.update({
    # alpha rounded to float32 on the way to float16: twice, as the forward may.
    "alpha through float32 for float16": (
        leaky_relu,
        lambda x, alpha=0.01: np.where(
            x > 0, 1.0, np.float32(alpha) if x.dtype == np.float16 else alpha).astype(
            np.result_type(x, 1.0))),
})

# Exercise 3: the same value means equal, however close.
WRONG_REVIVE.update({
    "bias_init = b * 1e-12 (a rule on the values, tiny)": (
        _one_setting("bias_init", lambda c: c["bias_init"] * 1e-12),
        _A_RULE_ON_THE_VALUES + r".*, however close \(they differ by [\d.e-]+\)"),
    "bias_init 0 or 1e-9 by the lr": (
        _one_setting("bias_init", lambda c: 0.0 if c["lr"] < 0.99 else 1e-9),
        _A_RULE_ON_THE_VALUES + r".*, however close \(they differ by 1e-09\)"),
})


# Exercise 4: single depths (a Python int, a numpy integer, a 0-d array) past 1,000, drawn
# where a wrap shows: taken modulo 256, or a uint64 depth made int64.
def _exp2_born_dead(depth):
    r = 1.0 - np.exp2(1.0 - np.asarray(depth).astype(np.float64))
    return r if np.ndim(depth) else r[()]


def _python_int_mod_256(depth):
    if isinstance(depth, int) and not isinstance(depth, bool):
        depth = depth % 256
    return _exp2_born_dead(depth)


def _numpy_integer_mod_256(depth):
    return _exp2_born_dead(int(depth) % 256 if isinstance(depth, np.integer) else depth)


def _numpy_integer_as_int64(depth):
    if isinstance(depth, np.integer):
        depth = np.asarray(depth).astype(np.int64)[()]
    return _exp2_born_dead(depth)


def _0d_mod_256(depth):
    if isinstance(depth, np.ndarray) and depth.ndim == 0:
        return _exp2_born_dead(np.array(int(depth) % 256))
    return _exp2_born_dead(depth)


_WRAPPED = r"expected 1: the depth \d+ wrapped around to \d+, as converting it to u?int(8|16|32)"
WRONG_BORN_DEAD.update({
    "a Python int depth taken mod 256": (
        _python_int_mod_256, r"`born_dead_width1\(\d+\)` is [\d.]+, the probability of depth "
                             r"\d+, " + _WRAPPED),
    "a numpy integer depth taken mod 256": (
        _numpy_integer_mod_256, r"`born_dead_width1\(np\.int64\(\d+\)\)` is [\d.]+, the "
                                r"probability of depth \d+, " + _WRAPPED),
    "a numpy integer depth made int64": (
        _numpy_integer_as_int64,
        r"`born_dead_width1\(np\.uint64\(\d+\)\)` is -inf, expected 1\.[\s\S]*Hint: [\s\S]*"
        r"Converting the depth to int64 wraps it around too"),
    "a 0-d array depth taken mod 256": (
        _0d_mod_256, r"`born_dead_width1\(np\.array\(\d+\)\)` gives the probabilities of the "
                     r"depths converted to u?int(8|16), which cannot hold them all"),
})


def test_born_dead_single_depths_are_drawn_past_1000():
    """Every draw holds a Python int, an int64 scalar, a 0-d int32 array and a uint64 scalar
    above 1,000, whose low bits read a small depth (a wrap shows); the int's bit length has
    no set ceiling below the tail's, the numpy ones reach their dtype's top bits."""
    bits = {"int": set(), "int64": set(), "int32": set()}
    for seed in range(100):
        cases = ch03.BORN_DEAD.draw(seed)
        ints = [c.args[0] for c in cases if type(c.args[0]) is int and c.args[0] > 1000]
        scalars = [c.args[0] for c in cases if isinstance(c.args[0], np.integer)
                   and int(c.args[0]) > 1000]
        zero_d = [c.args[0] for c in cases if isinstance(c.args[0], np.ndarray)
                  and c.args[0].ndim == 0 and c.args[0].dtype == np.int32]
        assert len(ints) == 1 and ints[0] % 256 <= 40 and ints[0] < 2**26
        assert {type(d) for d in scalars} == {np.int64, np.uint64}
        assert any(type(d) is np.uint64 and int(d) >= 2**63 for d in scalars)
        assert any(int(d) > 1000 for d in zero_d)
        bits["int"].add(ints[0].bit_length())
        bits["int64"] |= {int(d).bit_length() for d in scalars if type(d) is np.int64}
        bits["int32"] |= {int(d).bit_length() for d in zero_d}
    assert min(bits["int"]) <= 12 and max(bits["int"]) >= 20
    assert max(bits["int64"]) >= 60 and max(bits["int32"]) >= 29


# Sixteenth round: an exact Python-integer power for a numpy depth (int(D), then 2 ** (D - 1))
# ran for ever at a depth near 2**63 (a Python-integer product cannot be stopped). A huge
# single depth (a numpy integer or a 0-d array past 2**24) now comes after a medium one of its
# kind: an answer slow there is refused, and the huge depth is not run.
def born_dead_exact_for_numpy_integers(depth):
    if isinstance(depth, (int, np.integer)):
        return 1 - 1 / 2 ** (int(depth) - 1)
    return born_dead_width1(depth)


def born_dead_exact_for_0d(depth):
    if np.ndim(depth) == 0:
        return np.float64(1 - 1 / 2 ** (int(depth) - 1))
    return born_dead_width1(depth)


def born_dead_as_a_fraction(depth):
    import fractions
    if isinstance(depth, (int, np.integer)):
        return float(1 - fractions.Fraction(1, 2 ** (int(depth) - 1)))
    return born_dead_width1(depth)


WRONG_BORN_DEAD.update({
    "an exact integer power for numpy integers": (
        born_dead_exact_for_numpy_integers,
        r"took \d+\.\d+ s of CPU.*the check did not run it.*never finish"),
    "an exact integer power for every single depth (0-d arrays too)": (
        born_dead_exact_for_0d, r"took \d+\.\d+ s of CPU.*never finish"),
    "an exact Fraction for a single depth": (
        born_dead_as_a_fraction, r"took \d+\.\d+ s of CPU.*never finish"),
})


def test_born_dead_runs_a_huge_single_depth_only_after_a_medium_one():
    """Every draw: the uint64 depth past int64's largest and the 0-d uint64 depth go through
    the probe (a numpy depth of 2**24 + 1 of the same kind first); the small ones do not."""
    for seed in range(20):
        probed = [c for c in ch03.BORN_DEAD.draw(seed) if c.driver == "ch03.huge_depth"]
        kinds = {(type(c.args[0]).__name__, np.asarray(c.args[0]).dtype.name) for c in probed}
        assert {("uint64", "uint64"), ("ndarray", "uint64")} <= kinds, seed
        for c in probed:
            probe = c.kwargs["probe"]
            assert int(c.args[0]) > int(probe) == 2**24 + 1
            assert type(probe) is type(c.args[0])
            assert np.asarray(probe).dtype == np.asarray(c.args[0]).dtype
