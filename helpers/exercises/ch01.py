"""Checks for chapter 1: linear vs nonlinear models.

One spec per exercise (``_spec``): the cases are drawn afresh at every check, edge cases
first; the student's function runs on all of them, and only then are the references computed
and the results judged, with a message that says what differs on which case.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from fractions import Fraction

import numpy as np

from .. import activations, data, nn
from .._blas import one_blas_thread
from ._contract import expect_ndarray, pair, show
from ._core import ExerciseError, exercise_check
from ._plain import Other, TensorData
from ._spec import Case, Spec, driver
from ._trace import Forbidden, Stopped, call_armed, tracing

__all__ = [
    "COLLAPSE",
    "LIFT",
    "LINEAR_LAYER",
    "XOR_RECIPE",
    "XOR_WIDTH",
    "check_collapse",
    "check_lift_xor",
    "check_linear_layer",
    "check_smallest_xor_width",
    "xor_width_accuracy",
]

# The recipe xor_width_accuracy trains (Exercise 4's task prints it as code).
XOR_RECIPE = {"activation": "tanh", "seed": 0, "epochs": 200, "lr": 0.05, "optimizer": "adam",
              "target": 0.95}


def _kind(value) -> str:
    """A value's type for a message: ``ndarray``, ``list``, ``NoneType``..."""
    if isinstance(value, Other):
        return value.type_name
    if isinstance(value, TensorData):
        return "torch.Tensor"
    return type(value).__name__


def _distinct(rng, count: int, low: int = 2, high: int = 7) -> list[int]:
    """``count`` different whole numbers in [low, high]: shapes where a transpose shows."""
    return [int(v) for v in rng.choice(np.arange(low, high + 1), size=count, replace=False)]


def _integer_difference(got: np.ndarray, exact: np.ndarray):
    """(index, count) of the first value of ``got`` that is not the exact whole number, or
    None: integer results compared as integers (floats hold them only up to 2**53)."""
    bad = got != exact
    if not np.any(bad):
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0]), int(np.sum(bad))


def _capped(got: np.ndarray, exact: np.ndarray) -> str:
    """A note when every integer value that differs is smaller in size than the exact one and
    all have one size: results capped (clipped) there; else ""."""
    bad = got != exact
    sizes = np.unique(np.abs(got[bad].astype(object)))
    if bad.sum() < 2 or sizes.size != 1 or sizes[0] == 0 or not np.all(
            np.abs(got[bad].astype(object)) < np.abs(exact[bad].astype(object))):
        return ""
    return (f"Every value that differs is {int(sizes[0])} in size, less than the exact one: "
            "the results are capped there, but int64 holds whole numbers up to 2**63 - 1 "
            "(about 9.2e18), and the exact result is within it.")


def _zeroed(got: np.ndarray, expected: np.ndarray, bad: np.ndarray) -> str:
    """A note when every value that differs is 0 where the answer is a nonzero value of at
    most ``1e-3`` in size: small results set to 0 (a flush of small or subnormal values)."""
    with np.errstate(all="ignore"):
        got, expected = got.astype(float), expected.astype(float)
        wanted = expected[bad]
        if not (np.any(bad) and np.all(got[bad] == 0) and np.all(wanted != 0)
                and np.all(np.abs(wanted) <= 1e-3)):
            return ""
    largest = float(np.max(np.abs(wanted)))
    return (f" Every value that differs is 0 where numpy's result is a small nonzero number "
            f"(up to {largest:.3g} in size): small results were set to 0 (a flush of small "
            "or subnormal values), but numpy keeps them, to their last digits.")


def _scaled_gap(got: np.ndarray, expected: np.ndarray, scale: np.ndarray, rtol: float):
    """(index, count) of the worst value outside ``rtol * scale`` (NaN worst), or None.

    ``scale`` bounds the size of the terms summed into each value (|X| @ |W| + |b|), so a
    value that cancels to about 0 is still allowed the rounding of its terms."""
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(got.astype(float) - expected)
        bad = ~(gap <= rtol * scale)
    if not np.any(bad):
        return None
    gap = np.where(bad, np.nan_to_num(gap, nan=np.inf), 0.0)
    index = np.unravel_index(int(np.argmax(gap)), gap.shape)
    return tuple(int(i) for i in index), int(np.sum(bad))


# --------------------------------------------------------------------------------------
# Exercise 1: the forward pass of a linear layer
# --------------------------------------------------------------------------------------

_LINEAR_WHAT = "`linear_layer(X, W, b)`"
_LINEAR_HINT = ("Z_kj = sum_i X_ki W_ij + b_j: sample k's inputs weighted by neuron j's weights, "
                "plus neuron j's bias.")
_LINEAR_LOOP_HINT = ("the exercise asks for matrix operations whose Python work does not grow "
                     "with the number of samples, inputs or units (no loop over them, one at a "
                     "time or in chunks of a fixed size): one matrix product computes every "
                     "neuron on every sample at once.")
_PRECISION_HINT = ("compute X @ W + b in the dtype numpy's arithmetic gives for these inputs: a "
                   "cast of the inputs or of the result to a lower precision (float32, float16), "
                   "or a rounding step, loses digits.")
COURSE_NN = Forbidden(("helpers.nn:*", "torch*:*"),
                      why="the task asks you to write the layer yourself, with numpy's matrix "
                          "operations")
# The growth cases, one pair per axis a loop could run over: the same layer with GROWN times
# as many samples, inputs or units. A loop over chunks of a fixed size runs more often on the
# larger input; a right answer (numpy's einsum path finder, a fixed number of chunks) does the
# same Python work on both. Both are also timed: a loop driven from C (map, a deque, reduce)
# makes one call per index, about a microsecond each, far beyond numpy's time. (At 100,000
# units an answer that broadcasts units against units, b[:, None] + X @ W, asks for 80 GB
# and fails at once; at a third of that it could fill the machine's memory.)
TIMED = 100_000
GROWN = 3
_GROWTH_AXES = (("samples", lambda m: (m, 2, 1)), ("inputs", lambda m: (1, m, 2)),
                ("units", lambda m: (1, 2, m)))
# Python lines and calls the larger input of a pair may add: a right answer adds none (numpy's
# einsum path finder works more on its first call, fewer lines after); a loop over chunks of
# 50,000 runs 4 more times, one event or more each.
_GROWTH_WORK = 3


@driver("ch01.one_blas_thread")
def _one_blas_thread(answers, X, W, b):
    """Call the answer with numpy's BLAS on one thread (restored after). The timed cases run
    here: on a busy machine a second BLAS thread spins while it waits to be scheduled, and
    that CPU time (up to tens of milliseconds) would count against an honest product."""
    with one_blas_thread():
        return answers[0](X, W, b)


def _layer_inputs(rng, n: int, d_in: int, d_out: int, dtype=np.float64, scale=(1.0, 1.0, 1.0)):
    X = (rng.normal(0.0, scale[0], (n, d_in))).astype(dtype)
    W = (rng.normal(0.0, scale[1], (d_in, d_out))).astype(dtype)
    b = (rng.normal(0.0, scale[2], d_out)).astype(dtype)
    return X, W, b


def _positive_inputs(rng, n: int, d_in: int, d_out: int, dtypes=(np.float32,) * 3):
    """Positive X, W and b: every term of every sum has the same sign, so each result is as
    large as its terms allow, and a relative error in it is that large against the scale."""
    return tuple(rng.uniform(0.5, 2.0, shape).astype(dtype)
                 for shape, dtype in zip(((n, d_in), (d_in, d_out), (d_out,)), dtypes))


def _whole_numbers(rng, n: int, d_in: int, d_out: int):
    """Small whole numbers (as floats); the biases differ in size, so none is 0 and no sum or
    difference of them is 0 either: a case to show."""
    X = rng.integers(-3, 4, (n, d_in)).astype(float)
    W = rng.integers(-2, 3, (d_in, d_out)).astype(float)
    b = rng.choice([1.0, 2.0, 4.0, 8.0], size=d_out, replace=False) * rng.choice([-1, 1], d_out)
    return X, W, b


def _other_values(rng, args):
    """Inputs of the same shapes and dtypes as ``args`` whose result differs in every value:
    an answer that remembers results by shape (a cache) shows."""
    X, W, b = args
    while True:
        other = _whole_numbers(rng, *X.shape, W.shape[1])
        if np.all(other[0] @ other[1] + other[2] != X @ W + b):
            return other


def _large_integer_x(rng, n: int, d_in: int, d_out: int):
    """An int64 X of values up to 1e8, one of them odd and above 2**24 (so float32 cannot hold
    it, and float16 overflows), with float64 W and b."""
    X = rng.integers(-10**8, 10**8 + 1, (n, d_in))
    X[0, 0] = 2 * int(rng.integers(2**23 + 1, 5 * 10**7)) + 1
    return (X,) + _layer_inputs(rng, n, d_in, d_out)[1:]


def _large_integer_x_float32(rng, n: int, d_in: int, d_out: int):
    """The same int64 X with float32 W and b: numpy's arithmetic gives float64 all the same
    (an int64 with a float32 is float64), so X cast to the weights' float32 rounds."""
    X, W, b = _large_integer_x(rng, n, d_in, d_out)
    return X, W.astype(np.float32), b.astype(np.float32)


def _integer_layer(rng, n: int, d_in: int, d_out: int):
    """int64 X, W and b: X and W positive and even, b odd and above 2**24, so every result is
    an odd whole number above 2**24, which float32 cannot hold (and float16 overflows); every
    sum stays below 2**53 and far inside int64."""
    X = 2 * rng.integers(1, 5 * 10**5, (n, d_in))
    W = 2 * rng.integers(1, 5 * 10**5, (d_in, d_out))
    b = 2 * rng.integers(2**23 + 1, 2**24, d_out) + 1
    return X, W, b


def _huge_integer_layer(rng, n: int, d_out: int):
    """int64 X, W and b for 3 inputs: X and W odd and near 2**26, b even, so every result is
    an odd whole number beyond 2**53, exact in int64 only (float64 rounds it; the sums stay
    below 2**56, inside int64)."""
    X = 2 * rng.integers(2**25, 2**26, (n, 3)) + 1
    W = 2 * rng.integers(2**25, 2**26, (3, d_out)) + 1
    b = 2 * rng.integers(-1000, 1000, d_out)
    return X, W, b


def _integer_layer_beyond_2_62(rng, n: int, d_out: int):
    """int64 X, W and b for 3 inputs whose results lie between 2**62 and 2**63 in size, of
    both signs: X and W odd, from 1.2 to 1.5 times 2**30 in size (each product 1.44 to 2.25
    times 2**60, three of them 1.08 to 1.69 times 2**62), the first row of X positive and
    the second negative, b even and small. Every result is an odd whole number, exact in int64
    only (a clip at 1e17 or 2**62 shows), and none overflows."""
    X = 2 * rng.integers(int(0.6 * 2**30), int(0.75 * 2**30), (n, 3)) + 1
    signs = rng.choice([-1, 1], (n, 1))
    signs[:2, 0] = (1, -1)
    W = 2 * rng.integers(int(0.6 * 2**30), int(0.75 * 2**30), (3, d_out)) + 1
    b = 2 * rng.integers(-1000, 1000, d_out)
    return X * signs, W, b


def _big(rng, low: float = 1.0, high: float = 2.0, size: float = 1e200) -> float:
    return float(rng.uniform(low, high)) * size


def _overflowing_layer(rng, n: int, d_in: int, d_out: int):
    """float64 X, W and b of ordinary sizes (n >= 2, d_in >= 3, d_out >= 2) but for a few
    entries near 1e200, which take two results beyond float64's range: at row 0, column 0 two
    products of opposite signs (inf, -inf or NaN by the order of the sum: numpy's matmul, whose
    fused multiply-adds never round a product to inf, gives one, its einsum another; their
    exact sum is beyond the range too), at row 1, column 1 one product (+-inf in any order).
    Every other result is a sum of terms up to about 1e200, finite in any order."""
    X, W, b = _layer_inputs(rng, n, d_in, d_out)
    same = _big(rng)
    sign = float(rng.choice([-1.0, 1.0]))
    X[0, 0] = X[0, 1] = same
    W[0, 0], W[1, 0] = sign * _big(rng), -sign * _big(rng, 3.0, 4.0)
    X[1, 2], W[2, 1] = float(rng.choice([-1.0, 1.0])) * _big(rng), _big(rng)
    return X, W, b


def _non_finite_layer(rng, n: int, d_in: int, d_out: int):
    """float64 X, W and b with a NaN and an inf in X: row 0 of the result is NaN in every
    column, row 1 is +-inf (the sign of W's first row, which holds no 0), in any order of the
    sums."""
    X, W, b = _layer_inputs(rng, n, d_in, d_out)
    X[0, int(rng.integers(d_in))] = np.nan
    X[1, 0] = float(rng.choice([-1.0, 1.0])) * np.inf
    W[0] = np.where(W[0] == 0, 1.0, W[0])
    return X, W, b


def _overflowing_float32_layer(rng, n: int, d_in: int, d_out: int):
    """float32 X, W and b of ordinary sizes but for one product near 1e40, beyond float32's
    range (about 3.4e38): the result at row 0, column 0 is +-inf in float32."""
    X, W, b = _layer_inputs(rng, n, d_in, d_out, np.float32)
    X[0, 0] = float(rng.choice([-1.0, 1.0])) * _big(rng, size=1e20)
    W[0, 0] = _big(rng, size=1e20)
    return X, W, b


def _exact_layer(rng, n: int, d_in: int, d_out: int, dtype=np.float64):
    """X, W and b of ``dtype`` whose every sum is exact in it, in any order: positive whole
    numbers (the products below a quarter of 2**p for p bits of mantissa, b from half of 2**p
    up), so every result is a whole number between 2**(p-1) and 2**p, each bit of its
    mantissa in use; then scaled by powers of two (X by 2**-s, W by 2**-t, b by 2**-(s+t)),
    which keeps every sum exact, and some columns negated. Every right order of the arithmetic
    gives these values to the last bit: a rounded or truncated result shows."""
    p = np.finfo(dtype).nmant + 1
    bits = (p - 2 - int(np.ceil(np.log2(d_in)))) // 2      # d_in products below 2**(p-2)
    X = rng.integers(2**(bits - 1), 2**bits, (n, d_in)).astype(dtype)
    W = rng.integers(2**(bits - 1), 2**bits, (d_in, d_out)).astype(dtype)
    b = rng.integers(2**(p - 1), 2**(p - 1) + 2**(p - 2), d_out).astype(dtype)
    signs = rng.choice([-1, 1], d_out).astype(dtype)
    s, t = (int(v) for v in rng.integers(0, 12 if p < 30 else 40, 2))
    return (X * dtype(2.0**-s), W * signs * dtype(2.0**-t), b * signs * dtype(2.0**-(s + t)))


def _tiny_layer(rng, n: int, d_in: int, d_out: int, dtype=np.float64):
    """X, W and b of small sizes: each row of X and each column of W scaled by its own power
    of ten, drawn over the dtype's range down to near its smallest normal numbers (float64
    results from about 1 to 1e-280 in size, float32 to 1e-30), b as small as its column's
    smallest row. A result set to 0 below some size (a flush of small values) shows, and is
    judged against the size of its own terms."""
    top = 280.0 if np.dtype(dtype) == np.float64 else 30.0
    rows, columns = rng.uniform(0.0, top / 2, n), rng.uniform(0.0, top / 2, d_out)
    # one row and one column at full size, one row near the bottom: results of every size
    low, high = rng.choice(n, 2, replace=False) if n > 1 else (0, 0)
    rows[high], columns[int(rng.integers(d_out))] = 0.0, 0.0
    rows[low] = top / 2 * rng.uniform(0.9, 1.0)
    X = rng.normal(0.0, 1.0, (n, d_in)) * 10.0 ** -rows[:, None]
    W = rng.normal(0.0, 1.0, (d_in, d_out)) * 10.0 ** -columns[None, :]
    b = rng.normal(0.0, 1.0, d_out) * 10.0 ** -(rows.max() + columns)
    return X.astype(dtype), W.astype(dtype), b.astype(dtype)


def _subnormal_layer(rng, n: int, d_in: int, d_out: int, dtype=np.float64):
    """X and b subnormal (whole multiples of the dtype's smallest step, below its smallest
    normal number), W small whole numbers, each column of one sign: every product and sum is
    a subnormal number, exact in any order, and none is 0 (a flush to zero shows)."""
    info = np.finfo(dtype)
    step = info.smallest_subnormal
    x_bits, w_bits = {52: (20, 8), 23: (10, 6), 10: (3, 2)}[info.nmant]
    X = rng.integers(1, 2**x_bits + 1, (n, d_in)).astype(dtype) * step
    W = rng.integers(1, 2**w_bits + 1, (d_in, d_out)).astype(dtype)
    b = rng.integers(0, 2**x_bits + 1, d_out).astype(dtype) * step
    signs = rng.choice([-1, 1], d_out).astype(dtype)
    return X, W * signs, b * signs


# Integer dtypes narrower than int64: numpy's arithmetic in them wraps around (modulo 2**bits)
# where a sum leaves the range (as it does in int64 and uint64, drawn on their own).
_NARROW_INTEGERS = (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32)


def _wrapping_layer(rng, n: int, d_in: int, d_out: int, dtypes):
    """X, W and b of narrow integer dtypes, with values over the whole range of each, so that
    most sums leave the result's range and wrap around."""
    def draw(shape, dtype):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    return draw((n, d_in), dtypes[0]), draw((d_in, d_out), dtypes[1]), draw((d_out,), dtypes[2])


# The dtypes numpy's arithmetic takes in: each of X, W and b is drawn from them on its own.
_DTYPES = (np.int32, np.int64, np.float16, np.float32, np.float64)


def _typed_layer(rng, n: int, d_in: int, d_out: int, dtypes):
    """X, W and b of the given dtypes: integers even and up to 2**12 in size (b odd), so an
    all-integer result is an odd whole number beyond float32's 2**24 and inside int32; floats
    of ordinary sizes."""
    def draw(shape, dtype, odd=False):
        if np.dtype(dtype).kind == "f":
            return rng.normal(0.0, 1.0, shape).astype(dtype)
        values = 2 * rng.integers(2**10, 2**11, shape) * rng.choice([-1, 1], shape)
        if odd:
            values = (2**24 + 1 + 2 * rng.integers(0, 2**20, shape)) * rng.choice([-1, 1], shape)
        return values.astype(dtype)
    return (draw((n, d_in), dtypes[0]), draw((d_in, d_out), dtypes[1]),
            draw((d_out,), dtypes[2], odd=True))


def _typed_cases(rng) -> list[Case]:
    """Integer and float dtypes of every width numpy's arithmetic takes (int32, float16 and
    uint64 too), for X, W and b on their own: named mixes, then random ones."""
    mixes = [(np.int32,) * 3, (np.float16,) * 3, (np.int64, np.int64, np.float32),
             (np.int32, np.float32, np.float32)]
    mixes += [tuple(_DTYPES[i] for i in rng.integers(len(_DTYPES), size=3)) for _ in range(2)]
    cases = []
    # A uint64 X beyond int64's range with int64 W and b: numpy's arithmetic gives float64
    # (no integer dtype holds both), and a detour through int64 wraps X around.
    n, d_in, d_out = (int(v) for v in rng.integers(1, 6, 3))
    cases.append(Case(f"a uint64 X of values above 2**63 with int64 W and b: numpy gives "
                      f"float64 (n = {n}, d_in = {d_in}, d_out = {d_out})",
                      (rng.integers(2**63, 2**64 - 1, (n, d_in), dtype=np.uint64, endpoint=True),
                       rng.integers(1, 1000, (d_in, d_out)) * rng.choice([-1, 1], d_out),
                       rng.integers(-1000, 1000, d_out))))
    for dtypes in mixes:
        n, d_in, d_out = (int(v) for v in rng.integers(1, 10, 3))
        names = ", ".join(f"{a} {np.dtype(t).name}" for a, t in zip("XWb", dtypes))
        cases.append(Case(f"{names}: numpy gives {np.result_type(*dtypes).name} (n = {n}, "
                          f"d_in = {d_in}, d_out = {d_out})",
                          _typed_layer(rng, n, d_in, d_out, dtypes)))
    return cases


def _draw_linear(rng) -> list[Case]:
    n, d_in, d_out = _distinct(rng, 3)
    shown = _whole_numbers(rng, 4, 3, 2)
    cases = [
        Case("a small batch of whole numbers (n = 4, d_in = 3, d_out = 2)", shown,
             note={"show": True}),
        Case("the same shapes and dtypes with other values (n = 4, d_in = 3, d_out = 2)",
             _other_values(rng, shown), note={"show": True}),
        Case("one sample (n = 1)", _layer_inputs(rng, 1, d_in, d_out)),
        Case("one output unit (d_out = 1)", _layer_inputs(rng, n, d_in, 1)),
        Case("one input (d_in = 1)", _layer_inputs(rng, n, 1, d_out)),
        Case(f"no output units (d_out = 0) (n = {n}, d_in = {d_in})",
             _layer_inputs(rng, n, d_in, 0)),
        Case("an empty float32 batch (n = 0)", _layer_inputs(rng, 0, d_in, d_out, np.float32)),
        Case("a square case (n = d_in = d_out = 3)", _layer_inputs(rng, 3, 3, 3)),
        Case(f"float32 inputs (n = {n}, d_in = {d_in}, d_out = {d_out})",
             _layer_inputs(rng, n, d_in, d_out, np.float32)),
        Case(f"float32 inputs of positive values, where float32 rounding shows (n = {d_out}, "
             f"d_in = {n}, d_out = {d_in})", _positive_inputs(rng, d_out, n, d_in)),
        Case(f"an integer X (int64, values up to 1e8) with float64 W and b (n = {d_out}, "
             f"d_in = {n}, d_out = {d_in})", _large_integer_x(rng, d_out, n, d_in)),
        Case(f"an integer X (int64, values up to 1e8) with float32 W and b: float64 results "
             f"(n = {d_in}, d_in = {n}, d_out = {d_out})",
             _large_integer_x_float32(rng, d_in, n, d_out)),
        Case(f"integer X, W and b (int64, results above 1e7) (n = {d_in}, d_in = {d_out}, "
             f"d_out = {n})", _integer_layer(rng, d_in, d_out, n)),
        Case(f"a float32 X with float64 W and b, positive values (n = {n}, d_in = {d_out}, "
             f"d_out = {d_in})", _positive_inputs(rng, n, d_out, d_in,
                                                 (np.float32, np.float64, np.float64))),
        Case(f"float32 X and W with a float64 b, positive values (n = {d_in}, d_in = {n}, "
             f"d_out = {d_out})", _positive_inputs(rng, d_in, n, d_out,
                                                  (np.float32, np.float32, np.float64))),
        Case(f"float32 X and W with a float64 b of large values (1e6 to 1e7, more digits than "
             f"float32 holds) (n = {n}, d_in = {d_in}, d_out = {d_out})",
             (*_positive_inputs(rng, n, d_in, d_out)[:2], rng.uniform(1e6, 1e7, d_out))),
        Case(f"a float64 X with float32 W and b, positive values (n = {d_out}, d_in = {d_in}, "
             f"d_out = {n})", _positive_inputs(rng, d_out, d_in, n,
                                               (np.float64, np.float32, np.float32))),
        Case("inputs of very different sizes (X about 1e5, W about 1e-3, b about 1e2)",
             _layer_inputs(rng, d_in, n, d_out, scale=(1e5, 1e-3, 1e2))),
        Case(f"integer X, W and b (int64) whose results pass 2**53, beyond float64's whole "
             f"numbers (n = {n}, d_in = 3, d_out = {d_out})",
             _huge_integer_layer(rng, n, d_out)),
        Case(f"integer X, W and b (int64) whose results lie between 2**62 and 2**63 in size, "
             f"both signs, still inside int64 (n = {d_in}, d_in = 3, d_out = {d_out})",
             _integer_layer_beyond_2_62(rng, d_in, d_out)),
        Case(f"X and a square W handed over in Fortran order, as a transpose (X.T of an "
             f"array) is (n = {d_out}, d_in = d_out = {d_in})",
             _layer_inputs(rng, d_out, d_in, d_in), order="F"),
        Case(f"integer X, W and b (int64) whose results pass 2**53, handed over as strided "
             f"views (n = {n}, d_in = 3, d_out = {d_out})",
             _huge_integer_layer(rng, n, d_out), order="S"),
    ]
    # Sums that are exact in any order (whole numbers scaled by powers of two): every right
    # answer gives them to the last bit, so they are compared exactly. Few inputs, and more
    # than the work cases' 47 (a rounding kept for wide layers only shows).
    for dtype, low, high in ((np.float64, 1, 9), (np.float64, 48, 401), (np.float32, 1, 65)):
        n, d_in, d_out = int(rng.integers(1, 8)), int(rng.integers(low, high)), \
            int(rng.integers(1, 8))
        cases.append(Case(f"{np.dtype(dtype).name} inputs whose sums are exact in any order, "
                          f"each bit of the results in use (n = {n}, d_in = {d_in}, "
                          f"d_out = {d_out})", _exact_layer(rng, n, d_in, d_out, dtype),
                          note={"exact": True}))
    cases += _typed_cases(rng)
    # Finite inputs whose sums leave the dtype's range: numpy gives inf, or NaN for
    # inf - inf; a result keeps them (np.nan_to_num or a clip hides them).
    n, d_in, d_out = (int(v) for v in rng.integers((2, 3, 2), (6, 6, 5)))
    cases += [
        Case(f"float64 inputs with a few entries near 1e200: products beyond float64's range, "
             f"two of opposite signs at row 0, column 0 (inf, -inf or NaN), one at row 1, "
             f"column 1 (inf) (n = {n}, d_in = {d_in}, d_out = {d_out})",
             _overflowing_layer(rng, n, d_in, d_out)),
        Case(f"float64 inputs with a NaN in row 0 of X and an inf in row 1 (n = {n}, d_in = "
             f"{d_in}, d_out = {d_out})", _non_finite_layer(rng, n, d_in, d_out)),
        Case(f"float32 inputs with one product near 1e40, beyond float32's range: inf at row "
             f"0, column 0 (n = {d_out}, d_in = {d_in}, d_out = {n})",
             _overflowing_float32_layer(rng, d_out, d_in, n)),
    ]
    for _ in range(2):
        n, d_in, d_out = _distinct(rng, 3, 2, 9)
        cases.append(Case(f"random float64 inputs (n = {n}, d_in = {d_in}, d_out = {d_out})",
                          _layer_inputs(rng, n, d_in, d_out)))
    # Mixed float dtypes the other way round, and an empty float32 batch with float64 weights:
    # the result's dtype is numpy's promotion of all three, whatever the batch holds.
    n, d_in, d_out = _distinct(rng, 3, 2, 9)
    cases += [
        Case(f"a float32 X and b with a float64 W, positive values (n = {n}, d_in = {d_in}, "
             f"d_out = {d_out})", _positive_inputs(rng, n, d_in, d_out,
                                                   (np.float32, np.float64, np.float32))),
        Case("an empty float32 batch (n = 0) with float64 W and b",
             (np.zeros((0, 3), np.float32), *_layer_inputs(rng, 1, 3, 2)[1:])),
    ]
    # Integer weights or biases with float inputs, beyond float32's whole numbers (2**24):
    # numpy gives float64, and a cast of the integers to X's float32 rounds them.
    n, d_in, d_out = _distinct(rng, 3, 2, 9)
    X, W, b = _positive_inputs(rng, n, d_in, d_out)
    W_int = rng.integers(2**25, 2**26, (d_in, d_out)) | 1  # odd: float32 cannot hold them
    cases.append(Case(f"a float32 X and b with an integer W (int64, odd numbers above 2**25) "
                      f"(n = {n}, d_in = {d_in}, d_out = {d_out})", (X, W_int, b)))
    b_int = rng.integers(2**25, 2**26, d_out) | 1
    cases.append(Case(f"float32 X and W with an integer b (int64, odd numbers above 2**25) "
                      f"(n = {n}, d_in = {d_in}, d_out = {d_out})", (X, W, b_int)))
    # Results at every size down to near the dtype's smallest normal numbers, and subnormal
    # ones (compared exactly): a result set to 0 below some size shows.
    for dtype in (np.float64, np.float32):
        n, d_in, d_out = (int(v) for v in rng.integers(2, 10, 3))
        cases.append(Case(f"{np.dtype(dtype).name} inputs of tiny sizes, each row of X and each "
                          f"column of W scaled by its own power of ten (n = {n}, d_in = {d_in}, "
                          f"d_out = {d_out})", _tiny_layer(rng, n, d_in, d_out, dtype)))
    for dtype in (np.float64, np.float32, np.float16):
        n, d_in, d_out = (int(v) for v in rng.integers(1, 9, 3))
        cases.append(Case(f"{np.dtype(dtype).name} inputs whose results are all subnormal "
                          f"numbers, below {np.dtype(dtype).name}'s smallest normal one, exact in "
                          f"any order (n = {n}, d_in = {d_in}, d_out = {d_out})",
                          _subnormal_layer(rng, n, d_in, d_out, dtype), note={"exact": True}))
    # Narrow integer dtypes whose sums leave the range: numpy's arithmetic wraps around.
    # (one case for each width, signed or unsigned as drawn, then a mix)
    widths = [(np.int8, np.uint8), (np.int16, np.uint16), (np.int32, np.uint32)]
    narrow = [(pair[int(rng.integers(2))],) * 3 for pair in widths]
    # (int8 with uint32, say, gives int64, which holds these sums: not wanted. And X @ W in
    # the result's dtype already: where b's dtype is wider, numpy wraps X @ W in the narrower
    # one before it adds b, and an answer that casts every input to the result's dtype first,
    # as right, would wrap elsewhere.)
    while True:
        mixed = tuple(_NARROW_INTEGERS[i] for i in rng.integers(len(_NARROW_INTEGERS), size=3))
        result = np.result_type(*mixed)
        if result.itemsize < 8 and np.result_type(*mixed[:2]) == result:
            break
    # (and int64 or uint64, as drawn: numpy's arithmetic in them wraps modulo 2**64 too)
    wide = (np.int64, np.uint64)[int(rng.integers(2))]
    for dtypes in (*narrow, mixed, (wide,) * 3):
        n, d_in, d_out = (int(v) for v in rng.integers(1, 9, 3))
        names = ", ".join(f"{a} {np.dtype(t).name}" for a, t in zip("XWb", dtypes))
        cases.append(Case(f"{names} over their whole range: sums that leave "
                          f"{np.result_type(*dtypes).name}'s range wrap around in numpy's "
                          f"arithmetic (n = {n}, d_in = {d_in}, d_out = {d_out})",
                          _wrapping_layer(rng, n, d_in, d_out, dtypes)))
    # No inputs (d_in = 0: every result is its unit's bias), in a dtype drawn: an answer that
    # takes X.size == 0 for an empty batch shows.
    dtype = (np.float64, np.float32, np.int64)[int(rng.integers(3))]
    n, d_out = (int(v) for v in rng.integers(2, 6, 2))
    X, W, b = _layer_inputs(rng, n, 0, d_out, dtype)
    b = (b * 8).astype(dtype) if dtype == np.int64 else b
    b[b == 0] = 1
    name = np.dtype(dtype).name
    cases.append(Case(f"no inputs (d_in = 0, {name}): every result is its unit's bias (n = "
                      f"{n}, d_out = {d_out})", (X, W, b)))
    # One draw in four: a layer larger than the timed ones along one axis (its values
    # checked too), of a size drawn up to ten times theirs.
    if rng.random() < 0.25:
        axis, shape = _GROWTH_AXES[int(rng.integers(len(_GROWTH_AXES)))]
        m = int(_log_uniform(rng, GROWN * TIMED + 1, 10 * TIMED))
        n, d_in, d_out = shape(m)
        cases.append(Case(f"a layer of {n:,} sample{'s' if n != 1 else ''}, {d_in:,} input"
                          f"{'s' if d_in != 1 else ''} and {d_out:,} unit"
                          f"{'s' if d_out != 1 else ''}", _layer_inputs(rng, n, d_in, d_out)))
    # Loops over samples, units or inputs one at a time grow from the small case to the large
    # one; a loop over chunks grows within each pair of growth cases, and a loop driven from C
    # shows in their time. The pairs come in float64, int64 and float32: a loop kept for some
    # dtypes only (a branch on X.dtype) is measured too.
    # (The int64 pair holds large whole numbers, results above 1e7 as _integer_layer draws
    # them: a detour through float32 for larger integer batches only shows there too.)
    for dtype, kind in ((np.float64, ""), (np.int64, " (int64, results above 1e7)"),
                        (np.float32, " (float32)")):
        def inputs(n, d_in, d_out, dtype=dtype):
            return _integer_layer(rng, n, d_in, d_out) if dtype == np.int64 else \
                _layer_inputs(rng, n, d_in, d_out, dtype)
        # (11 units: a shape no other case has. numpy's einsum caches its plan by shape, and
        # a plan made on one case of a pair but found ready on the other is work that differs.)
        cases += [Case(f"a batch of 3 samples, 4 inputs, 11 units{kind}",
                       inputs(3, 4, 11), work="small", size=3, elements=33),
                  Case(f"a batch of 43 samples, 47 inputs, 45 units{kind}",
                       inputs(43, 47, 45), work="large", size=43, elements=43 * 45)]
    for axis, shape in _GROWTH_AXES:
        for m in (TIMED, GROWN * TIMED):
            n, d_in, d_out = shape(m)
            counts = ", ".join(f"{v:,} {word}" + ("s" if v != 1 else "") for v, word in
                               ((n, "sample"), (d_in, "input")))
            cases.append(Case(f"a layer of {counts} and {d_out:,} unit{'s' if d_out != 1 else ''} "
                              "(timed against numpy's own loops)",
                              _layer_inputs(rng, n, d_in, d_out), work="timed", size=m,
                              elements=n * d_in * d_out, driver="ch01.one_blas_thread",
                              note={"axis": axis}))
    return cases


def _linear_reference(X, W, b):
    return np.asarray(X) @ W + b


def _shown(case: Case) -> str:
    X, W, b = case.args
    return f" on X = {show(X, 3)}, W = {show(W, 3)}, b = {show(b, 3)}" \
        if case.note.get("show") else ""


def _rounding(dtype, terms: int) -> float:
    """The relative tolerance for a sum of ``terms`` products rounded in ``dtype``: twice the
    worst-case rounding of such a sum (terms ulps), relative to the size of its terms; 0 for
    integers, which are exact."""
    dtype = np.dtype(dtype)
    return 0.0 if dtype.kind in "biu" else float(terms * np.finfo(dtype).eps)


def _beyond_range(products, bias, dtype) -> tuple[bool, Fraction]:
    """For a sum of ``products`` (pairs of numbers) and ``bias`` that numpy's arithmetic in
    ``dtype`` takes out of its range: whether products beyond the range come with both signs
    (then the sum is inf, -inf or NaN depending on its order: numpy's matmul and einsum
    differ), and the exact sum, as a fraction."""
    limit = Fraction(float(np.finfo(dtype).max))
    total, signs = Fraction(np.asarray(bias).item()), set()
    for a, c in products:
        term = Fraction(np.asarray(a).item()) * Fraction(np.asarray(c).item())
        total += term
        if abs(term) > limit:
            signs.add(term > 0)
    return len(signs) > 1, total


def _judge_beyond(what: str, where: str, got: float, expected: float, both_signs: bool,
                  exact: Fraction, dtype) -> None:
    """One result numpy's arithmetic takes beyond ``dtype``'s range: the answer's ``got``
    must be inf, -inf or NaN where products beyond the range come with both signs (the order
    of the sum decides which), else the inf numpy gives (or that of the exact sum's sign)."""
    largest = float(np.finfo(dtype).max)
    if both_signs or np.isnan(expected):
        if not np.isfinite(got):
            return
        detail = ("products beyond its range of both signs, so numpy gives inf, -inf or NaN "
                  "(inf - inf) here, depending on the order of the sum")
        wanted = "a value that is not finite"
    else:
        signed = np.inf if exact > 0 else -np.inf
        if got == expected or (abs(exact) > Fraction(largest) and got == signed):
            return
        detail = "a product beyond its range, so numpy gives " + repr(expected)
        wanted = repr(expected)
    raise ExerciseError(
        f"{what} returned {got!r} at {where}, expected {wanted}: the sum leaves "
        f"{np.dtype(dtype)}'s range (its largest value is about {largest:.3g}), with {detail}.",
        "keep inf and NaN where numpy's arithmetic gives them: a result made finite "
        "(np.nan_to_num, a clip, NaN set to 0) hides an overflow.")


def _judge_overflow(what: str, X, W, b, want, value, expected, beyond) -> None:
    """The results numpy's `X @ W + b` takes beyond ``want``'s range (inf, or NaN for
    inf - inf): see :func:`_judge_beyond`."""
    product = np.result_type(X, W)
    dtype = product if product.kind == "f" else want
    for k, j in np.argwhere(beyond)[:20]:
        k, j = int(k), int(j)
        got, wanted = float(value[k, j]), float(expected[k, j])
        where = f"row {k}, column {j} (sample {k}, unit {j})"
        if not (np.all(np.isfinite(X[k])) and np.all(np.isfinite(W[:, j]))
                and np.isfinite(b[j])):
            # an inf or NaN among the inputs: numpy's result is the same in any order
            if not (got == wanted or np.isnan(got) and np.isnan(wanted)):
                raise ExerciseError(
                    f"{what} returned {got!r} at {where}, expected {wanted!r}: the inputs of "
                    f"this sum hold {'NaN' if np.isnan(wanted) else 'inf'}, and numpy's "
                    f"arithmetic carries it into the result.",
                    "keep inf and NaN where numpy's arithmetic gives them: a result made "
                    "finite (np.nan_to_num, a clip, NaN set to 0) hides them.")
            continue
        both, exact = _beyond_range(zip(X[k], W[:, j]), 0, dtype)
        exact += Fraction(np.asarray(b[j]).item())
        _judge_beyond(what, where, got, wanted, both, exact, want)


def _judge_linear(case: Case, obs, expected) -> None:
    with np.errstate(all="ignore"):  # (the judge's own arithmetic on huge inputs warns not)
        _judge_linear_values(case, obs, expected)


def _judge_linear_values(case: Case, obs, expected) -> None:
    X, W, b = case.args
    n, d_out = X.shape[0], W.shape[1]
    what = _LINEAR_WHAT + _shown(case)
    got = obs.result
    if isinstance(got, np.ndarray) and got.shape == (d_out, n) and n != d_out:
        raise ExerciseError(
            f"{what} has shape {got.shape}, expected {(n, d_out)}: one row per sample, one "
            "column per output unit.",
            "samples are the rows of X and neurons the columns of W; the result keeps the "
            "samples in its rows.")
    got = expect_ndarray(got, what, shape=(n, d_out), hint=(
        "the result has one row per sample and one column per output unit, even for one "
        "sample or one unit (a 2-D array of one row or one column)."))
    want = np.result_type(X, W, b)
    if got.dtype != want:
        integer = X.dtype.kind in "iu" and W.dtype.kind == "f"
        if integer:
            raise ExerciseError(
                f"{what} returned dtype {got.dtype}, expected {want} for an integer X with "
                f"{W.dtype} W and {b.dtype} b.",
                "the weights are floats, so the result is too: do not cast it back to X's "
                "dtype.")
        raise ExerciseError(
            f"{what} returned dtype {got.dtype}, expected {want}: the dtype numpy's `X @ W + b` "
            f"gives for X of dtype {X.dtype}, W of dtype {W.dtype} and b of dtype {b.dtype}.",
            "keep the dtype numpy's arithmetic gives: float64 as soon as one input is float64 "
            "(b included), float32 when all are float32, an integer dtype when all are "
            "integers (int64 for int64 inputs; float64 for uint64 with signed integers, which "
            "no integer dtype holds both). Do not cast to one input's dtype, or to float.")
    if got.size == 0:
        return
    if case.note.get("exact") and not np.array_equal(got, expected):
        bad = got != expected
        k, j = (int(i) for i in np.argwhere(bad)[0])
        shown, wanted = pair(float(got[k, j]), float(expected[k, j]))
        raise ExerciseError(
            f"{what} differs from the answer in {int(bad.sum())} of {got.size} values; the "
            f"first difference is at row {k}, column {j} (sample {k}, unit {j}): got {shown}, "
            f"expected {wanted}. Every sum here is exact in {want}, in any order of the "
            "arithmetic (whole numbers scaled by powers of two), so numpy's result is exact to "
            "the last bit: some step rounded, truncated or went through a lower precision."
            + _zeroed(got, expected, bad), _PRECISION_HINT)
    # Whole numbers are exact in int64 only: compared as integers, not as floats (a float64
    # detour rounds results beyond 2**53, and so would a comparison in floats).
    if want.kind in "iu" and (diff := _integer_difference(got, expected)) is not None:
        (k, j), n_bad = diff
        with np.errstate(all="ignore"):
            no_bias = np.asarray(X @ W)
        if no_bias.shape == got.shape and np.array_equal(got, no_bias):
            raise ExerciseError(
                f"{what} returned X W without the bias: row {k}, column {j} is "
                f"{int(got[k, j])} where X W + b is {int(expected[k, j])}.",
                "each neuron adds its own bias b_j to its weighted sum, on every sample.")
        capped = _capped(got, expected)
        # (the exact sum of that one value, in Python's integers: int64 and uint64 wrap too)
        exact = sum(int(x) * int(w) for x, w in zip(X[k], W[:, j])) + int(b[j])
        if exact != int(expected[k, j]):
            capped = (f"The exact sum there is {exact}, beyond {want}'s range "
                      f"({np.iinfo(want).min} to {np.iinfo(want).max}): numpy's arithmetic "
                      f"in {want} wraps around there (it keeps the sum modulo "
                      f"2**{8 * want.itemsize}), and so must the answer; a clip or a "
                      "saturation at the limits, or a wider dtype, gives another value.")
        raise ExerciseError(
            f"{what} differs from the answer in {n_bad} of {got.size} values; the "
            f"first difference is at row {k}, column {j} (sample {k}, unit {j}): got "
            f"{int(got[k, j])}, expected {int(expected[k, j])}. " + (capped or (
                "Integer inputs give exact whole numbers (int64): some step went through "
                "floats (float64 holds every whole number only up to 2**53, float32 up to "
                "2**24) or rounded.")), _PRECISION_HINT)
    X64, W64, b64 = X.astype(float), W.astype(float), b.astype(float)
    value, expected = got.astype(float), expected.astype(float)
    with np.errstate(all="ignore"):
        terms = np.abs(X64) @ np.abs(W64)
        no_bias = X64 @ W64
    # Sums beyond the dtype's range: numpy gives inf there (NaN for inf - inf), and so must
    # the answer; they are judged on their own, the finite values as usual.
    beyond = ~np.isfinite(expected)
    if np.any(beyond):
        _judge_overflow(what, X, W, b, want, value, expected, beyond)
        value, expected, terms, no_bias = (np.where(beyond, 0.0, a) for a in
                                           (value, expected, terms, no_bias))
    scale = terms + np.abs(b64)
    # Each value sums d_in products and the bias, each rounded once: numpy computes X W in
    # the dtype of X and W (float32 for float32 X and W, even with a float64 b), then adds b
    # in the result's dtype. So the product's rounding is allowed against the size of its
    # terms, |X| |W|, and the result's rounding against that and |b|: b keeps its digits.
    product = np.result_type(X, W)
    precise = product if product.kind == "f" else want
    rtol_want = _rounding(want, X.shape[1] + 2)
    rtol_product = _rounding(product, X.shape[1] + 2)
    rtol = max(rtol_product, rtol_want)
    allowed = rtol_want * scale + max(rtol_product - rtol_want, 0.0) * terms
    diff = _scaled_gap(value, expected, allowed, 1.0)
    if diff is None:
        return
    (k, j), n_bad = diff
    if product.kind == "f" and product != want:
        # b rounded to the product's dtype (float32), then added: off by b's rounding.
        with np.errstate(all="ignore"):
            rounded = (X @ W + b.astype(product)).astype(float)
            matches = bool(np.all(np.abs(value - rounded) <= rtol_product * scale + 1e-300))
        if matches:
            shown, wanted = pair(value[k, j], expected[k, j])
            raise ExerciseError(
                f"{what} rounds b to {product}: row {k}, column {j} is {shown} where X W + b "
                f"is {wanted}. numpy multiplies X and W in their own dtype ({product}), then "
                f"adds b ({b.dtype}) in {want}: b keeps every digit it has.",
                "add b as it is to the product, X @ W + b: a cast of b to X's dtype rounds it.")
    def near(a, c) -> bool:
        return bool(np.allclose(a, c, rtol=1e-6, atol=1e-9 * scale.max()))

    def named(mistake) -> bool:
        """The answer matches ``mistake``, the right answer does not, and the answer is far
        closer to the mistake than to the right answer (a rounding error is not a mistake)."""
        with np.errstate(all="ignore"):
            closer = np.max(np.abs(value - mistake)) <= 0.01 * np.max(np.abs(value - expected))
        return near(value, mistake) and not near(expected, mistake) and bool(closer)

    # A known mistake is named only when it matches and the right answer does not.
    if named(no_bias):
        raise ExerciseError(
            f"{what} returned X W without the bias: row {k}, column {j} is "
            f"{pair(value[k, j], expected[k, j])[0]} where X W + b is "
            f"{pair(value[k, j], expected[k, j])[1]}.",
            "each neuron adds its own bias b_j to its weighted sum, on every sample.")
    if named(no_bias - b64):
        raise ExerciseError(f"{what} subtracts the bias b instead of adding it.", _LINEAR_HINT)
    shown, wanted = pair(value[k, j], expected[k, j])
    with np.errstate(all="ignore"):
        zeroed = _zeroed(value, expected, ~(np.abs(value - expected) <= allowed))
    if zeroed:
        raise ExerciseError(
            f"{what} differs from the answer in {n_bad} of {got.size} values; the largest "
            f"difference is at row {k}, column {j} (sample {k}, unit {j}): got {shown}, "
            f"expected {wanted}.{zeroed}", _PRECISION_HINT)
    with np.errstate(all="ignore"):  # (against the terms' size: a sum that cancels to near
        # 0 rounds by the step of its terms, not of itself)
        close = bool(np.all(np.abs(value - expected.astype(float)) <= 1e-3 * scale))
    precision, hint = "", _LINEAR_HINT
    if close and want.kind == "f":
        precision = (f" That is more than {precise} rounding of these sums allows (a relative "
                     f"{rtol:.1e} of the terms' size; numpy's arithmetic on these inputs gives "
                     f"{want}): some step went through a lower precision, rounded, or changed "
                     "the values a little.")
        hint = _PRECISION_HINT
    elif close:
        precision = (" Integer inputs give exact whole numbers (int64): some step went through "
                     "a lower precision (float32 or float16 cannot hold every whole number this "
                     "large) or rounded.")
        hint = _PRECISION_HINT
    raise ExerciseError(
        f"{what} differs from the answer in {n_bad} of {got.size} values; the largest "
        f"difference is at row {k}, column {j} (sample {k}, unit {j}): got {shown}, expected "
        f"{wanted}.{precision}", hint)


def _judge_linear_growth(cases, observations, expected) -> None:
    """Each pair of growth cases: the same layer with GROWN times as many samples, inputs or
    units. Python work that grows from one to the other is a loop over that axis (over chunks
    of a fixed size too); a fixed number of steps does not grow."""
    pairs: dict = {}
    for c, o in zip(cases, observations):
        if c.work == "timed" and "axis" in c.note:
            pairs.setdefault(c.note["axis"], []).append((c, o))
    for axis, runs in pairs.items():
        (c1, o1), (c2, o2) = sorted(runs, key=lambda r: r[0].size)[:2]
        if o2.trace.work - o1.trace.work >= _GROWTH_WORK:
            raise ExerciseError(
                f"{_LINEAR_WHAT} runs a Python loop over the {axis}: its Python work grows with "
                f"them. On {c1.label.split(' (')[0]} it executed {o1.trace.work} Python lines "
                f"and calls, on {c2.label.split(' (')[0]} ({c2.size // c1.size} times as many "
                f"{axis}) {o2.trace.work} (a loop over chunks of a fixed size is a loop too).",
                _LINEAR_LOOP_HINT)
        # A loop driven from C (map over slices) runs no Python line, but keeps one array per
        # chunk alive: a right answer holds the same few objects on both.
        if o2.trace.peak_blocks - o1.trace.peak_blocks >= 64:
            raise ExerciseError(
                f"{_LINEAR_WHAT} makes Python objects in proportion to the {axis}: on "
                f"{c1.label.split(' (')[0]} up to {o1.trace.peak_blocks} were alive at once, on "
                f"{c2.label.split(' (')[0]} {o2.trace.peak_blocks} (a list or map of pieces of "
                "the input is a loop in disguise).", _LINEAR_LOOP_HINT)


def _explain_linear_error(case: Case, obs) -> str | None:
    if "matmul" in obs.error or "shapes" in obs.error and "aligned" in obs.error:
        return ("X has shape (n, d_in) and W (d_in, d_out): the product X W pairs X's columns "
                "with W's rows, as written, with no transpose.")
    if "broadcast" in obs.error:
        return ("the bias b has shape (d_out,): added to an (n, d_out) array it reaches every "
                "row by broadcasting, with no reshape. `*` multiplies entry by entry; the "
                "layer needs a matrix product.")
    return None


LINEAR_LAYER = Spec(
    "ch01.linear_layer", check="ch01.check_linear_layer", grade_id="ch01-linear-layer-check",
    what=_LINEAR_WHAT, answers=("linear_layer",), draw=_draw_linear,
    reference=_linear_reference, judge=_judge_linear, judge_all=_judge_linear_growth,
    explain_error=_explain_linear_error, forbidden=COURSE_NN, vectorised=True, reuse_calls=64,
    twins=2,
    # Broadcasting and summing over 2 inputs of 300,000 samples takes about 15 ms (a reduction
    # over a short axis is slow, not a loop); a loop over the rows driven from C (map over
    # W.T.dot) takes 300 ms and more, and chunk loops show by their growing Python work.
    loop_hint=_LINEAR_LOOP_HINT, timed_floor=0.04,
    passed="`linear_layer(X, W, b)` computes X W + b for every batch and layer size tried, "
           "one sample, one unit and an empty batch included, in the dtype numpy's arithmetic "
           "gives, with Python work that does not grow with the input.")


@exercise_check
def check_linear_layer(linear_layer, *, seed: int | None = None) -> None:
    """Check ``linear_layer(X, W, b)`` returns ``X @ W + b`` for any batch, without a loop."""
    LINEAR_LAYER.check(linear_layer, seed=seed)

# --------------------------------------------------------------------------------------
# Exercise 2: a feature that makes XOR linearly separable
# --------------------------------------------------------------------------------------

_LIFT_WHAT = "`lift(X)`"
_ROWS_HINT = ("each sample's features must be computed from its own x1 and x2 only: not from "
              "the other samples of the batch (their mean, spread or number), its position or "
              "stored labels.")
_LIFT_HINT = ("a linear function of x1 and x2 (such as x1 + x2) adds nothing new. XOR's label "
              "depends on whether x1 and x2 have the same sign: which expression of the two has "
              "that sign?")
# Every point: the labels are XOR's rule itself (no noise), which the right features separate
# exactly, and a feature wrong on a band of the plane or on a few per cent of the points is
# wrong.
LIFT_TARGET = 1.0


def _logistic_accuracy(F: np.ndarray, y: np.ndarray) -> float:
    """Training accuracy of a logistic regression on features F (Newton's method, a small
    ridge so that separable data gives finite weights; columns scaled to at most 1 in size,
    so that no square of a huge feature overflows, then standardised)."""
    F = F.astype(float)
    peak = np.abs(F).max(axis=0) if len(F) else np.zeros(F.shape[1])
    F = F / np.where(peak > 0, peak, 1.0)
    spread = F.std(axis=0)
    keep = spread > 1e-12
    Z = (F[:, keep] - F[:, keep].mean(axis=0)) / spread[keep]
    A = np.column_stack([Z, np.ones(len(F))])
    ridge = np.full(A.shape[1], 1e-4 * len(F))
    ridge[-1] = 0.0
    w = np.zeros(A.shape[1])

    def objective(w):
        z = A @ w
        return np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(ridge * w * w)

    value = objective(w)
    for _ in range(100):
        z = A @ w
        p = 0.5 * (1.0 + np.tanh(0.5 * z))          # the sigmoid, without overflow
        grad = A.T @ (p - y) + ridge * w
        hess = (A.T * (p * (1 - p))) @ A + np.diag(ridge) + 1e-9 * np.eye(A.shape[1])
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-6 and objective(w - t * step) > value:
            t /= 2
        w = w - t * step
        new = objective(w)
        if value - new < 1e-10 * (1 + abs(new)):
            value = new
            break
        value = new
    return float(np.mean((A @ w > 0) == (y > 0.5)))


def _threshold_misses(F: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The points on the wrong side of the best threshold on one feature (a mask)."""
    labels = np.asarray(y) > 0.5
    best, miss = -1.0, np.zeros(len(labels), dtype=bool)
    for column in np.asarray(F, dtype=float).T:
        for cut in np.unique(column):
            for above in (column > cut, column >= cut):
                for side in (above, ~above):
                    right = float(np.mean(side == labels))
                    if right > best:
                        best, miss = right, side != labels
    return miss


def _threshold_accuracy(F: np.ndarray, y: np.ndarray) -> float:
    """The best training accuracy of a threshold on one feature (a linear classifier that uses
    one column), found exactly: it depends only on the order of the values, so a feature of
    any size (exp(400 x1 x2), 1e200 x1 x2) counts as well as a well-scaled one."""
    labels = np.asarray(y) > 0.5
    n, best = len(labels), 0.0
    for column in np.asarray(F, dtype=float).T:
        order = np.argsort(column, kind="stable")
        values, ones = column[order], labels[order]
        ones_below = np.concatenate([[0], np.cumsum(ones)])     # before each possible cut
        zeros_below = np.arange(n + 1) - ones_below
        right = (zeros_below + ones.sum() - ones_below) / n      # class 1 above the cut
        cuts = np.ones(n + 1, dtype=bool)
        cuts[1:n] = values[1:] != values[:-1]                    # equal values stay together
        best = max(best, float(np.max(np.maximum(right, 1 - right)[cuts])))
    return best


def _xor_sample(rng, n: int, dtype=np.float64):
    """A sample of data.xor in ``dtype``, labelled by XOR's rule (whether x1 and x2 have
    opposite signs), as every sample of the check is: data.xor labels its points by cluster,
    and its noise takes a point across an axis now and then."""
    seed = int(rng.integers(2**31))
    X = data.xor(n, seed=seed)[0].astype(dtype)
    kind = "" if dtype == np.float64 else f" as {np.dtype(dtype).name}"
    return X, (X[:, 0].astype(float) * X[:, 1] < 0).astype(float), \
        f"the XOR sample data.xor({n}, seed={seed}){kind}"


# Coordinates of the grid case: sizes from near 0 to 1, on both sides of each axis. Features
# that XOR's clusters (which keep away from the axes) let pass, |x1 - x2|, (x1 - x2)**2,
# |x1 + x2| and (min, max), reach at most 75% on it, whatever its scale.
_GRID = (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0)


def _grid_sample(rng, scale: float = 1.0, spread=(0.5, 1.0)):
    """Every pair of the grid's coordinates (both signs), in a random order and scale (0.5 to
    1 times ``scale``, or ``spread``), swapped or negated at random (which keeps each label):
    points near the axes, of uneven sizes."""
    values = np.concatenate([-np.array(_GRID), _GRID])
    X = np.array([(u, v) for u in values for v in values]) * rng.uniform(*spread) * scale
    X = X[rng.permutation(len(X))]
    if rng.random() < 0.5:
        X = X[:, ::-1]
    if rng.random() < 0.5:
        X = -X
    X = np.ascontiguousarray(X)
    return X, (X[:, 0] * X[:, 1] < 0).astype(float)


def _log_uniform(rng, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _labelled(X: np.ndarray, name: str) -> Case:
    """A case of points labelled by XOR's rule: whether x1 and x2 have opposite signs."""
    y = (X[:, 0].astype(float) * X[:, 1] < 0).astype(float)
    return Case(name, (X,), note={"labels": y.tolist(), "sample": name})


def _row_cases(rng, X: np.ndarray, name: str, first: int) -> list[Case]:
    """The first ``first`` rows of a sample, and one row alone: a sample's features must not
    depend on the batch they come in (its size, mean, order)."""
    r = int(rng.integers(len(X)))
    return [Case(f"the first {first} rows of {name}", (X[:first],),
                 note={"of": name, "rows": list(range(first)),
                       "name": f"its first {first} rows (X[0:{first}])"}),
            Case(f"one row of {name} alone (row {r}, shape (1, 2))", (X[r:r + 1],),
                 note={"of": name, "rows": [r], "name": f"row {r} alone (X[{r}:{r + 1}])"})]


# The sizes of the points the check draws, besides XOR's (about 1): from SCALES[0] to
# SCALES[1]. A feature that is right only near the unit square (sin(x1 x2), a wrap, exp of the
# product, float16, a huge factor, zeroing small products) fails there.
SCALES = (1e-3, 1e3)
# The sizes a float64 X's coordinates may have (the task says so): points of every size in
# between are drawn too.
WIDE = (1e-6, 1e6)


def _draw_lift(rng) -> list[Case]:
    n_a = int(rng.integers(60, 201))
    X_a, y_a, name_a = _xor_sample(rng, n_a)
    perm = rng.permutation(n_a)
    swap = _inner_rows_swapped(rng, X_a)
    m = int(rng.integers(10, n_a - 10))
    r = int(rng.integers(n_a))
    corners = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]] * 2, dtype=np.int64)
    cases = [
        Case("the textbook corners (+-1, +-1), each twice, as an int64 array", (corners,),
             note={"labels": [0, 0, 1, 1] * 2, "sample": "the four XOR corners (+-1, +-1)"}),
        Case(name_a, (X_a,),
             note={"labels": y_a.tolist(), "sample": name_a, "base": True}),
        Case(f"{name_a} with its rows shuffled", (X_a[perm],),
             note={"of": name_a, "rows": perm.tolist(), "name": "its rows shuffled"}),
        Case(f"the first {m} rows of {name_a}", (X_a[:m],),
             note={"of": name_a, "rows": list(range(m)), "name": f"its first {m} rows "
                   f"(X[0:{m}])"}),
        Case(f"{name_a} with two inner rows swapped (the same shape, ends and sums)",
             (X_a[swap],), note={"of": name_a, "rows": swap.tolist(),
                                 "name": "two inner rows swapped"}),
        Case(f"one row of {name_a} alone (row {r}, shape (1, 2))", (X_a[r:r + 1],),
             note={"of": name_a, "rows": [r], "name": f"row {r} alone (X[{r}:{r + 1}])"}),
        Case("an empty X of shape (0, 2)", (np.zeros((0, 2)),), note={"empty": True}),
        Case("points on the axes (x1 or x2 exactly 0)", (np.array(
            [[0.0, rng.uniform(0.3, 1)], [-rng.uniform(0.3, 1), 0.0], [0.0, 0.0],
             [rng.uniform(0.3, 1), -rng.uniform(0.3, 1)]]),), note={"axes": True}),
    ]
    for dtype in (np.float64, np.float32, np.float16):
        X, y, name = _xor_sample(rng, int(rng.integers(60, 201)), dtype)
        cases.append(Case(name, (X,),
                          note={"labels": y.tolist(), "sample": name}))
    # XOR anywhere in the plane: the label is whether x1 and x2 have opposite signs, also for
    # points near an axis and for x1 and x2 of very different sizes.
    X, y = _grid_sample(rng)
    name = (f"a grid of {len(X)} points in the square, many near an axis, labelled by whether "
            "x1 and x2 have opposite signs")
    cases.append(Case(name, (X,), note={"labels": y.tolist(), "sample": name}))
    # The same grid far smaller and far larger, points of other sizes (from SCALES[0] to
    # SCALES[1]) in float64 and float32, and whole numbers other than +-1.
    # (the large one reaches 800 to 1000 in size: a feature wrong far from the origin only, on
    # points both of whose coordinates pass some size, shows)
    for low, high, word in ((SCALES[0], 10 * SCALES[0], "small"),
                            (0.8 * SCALES[1], SCALES[1], "large")):
        scale = _log_uniform(rng, low, high)
        X, _ = _grid_sample(rng, scale, (0.5, 1.0) if word == "small" else (1.0, 1.0))
        cases.append(_labelled(X, f"a grid of {len(X)} points at a {word} scale (coordinates "
                                  f"from {np.abs(X).min():.2g} to {np.abs(X).max():.2g} in size), "
                                  "labelled by whether x1 and x2 have opposite signs"))
    # Points of every size the task allows (float64 coordinates from WIDE[0] to WIDE[1]),
    # some just inside those limits: a feature wrong beyond some size shows.
    n = int(rng.integers(250, 501))
    X = _points_of_every_size(rng, n)
    name = (f"{n} random points whose coordinates have every size from {WIDE[0]:g} to "
            f"{WIDE[1]:g} (some just inside those limits), labelled by whether x1 and x2 have "
            "opposite signs")
    cases.append(_labelled(X, name))
    cases += _row_cases(rng, X, name, int(rng.integers(10, 201)))
    # (float32 samples of more than the 300 points earlier checks drew)
    n, scale = int(rng.integers(301, 1501)), _log_uniform(rng, 0.3 * SCALES[1], SCALES[1])
    cases.append(_labelled(_uniform_points(rng, scale, n).astype(np.float32),
                           f"{n} uniform random points in the square [-{scale:.3g}, "
                           f"{scale:.3g}]^2 as float32, labelled by whether x1 and x2 have "
                           "opposite signs"))
    # Whole numbers of an integer dtype up to the largest whose product x1 x2 fits in it (the
    # task's promise), that one included: int64, and int8, int16 or int32 as drawn; 1 and a
    # small one too. A feature that leaves the dtype's range on the way (a square of x1 + x2,
    # a factor, a cast to a narrower dtype) wraps around.
    for dtype in ((np.int8, np.int16, np.int32)[int(rng.integers(3))], np.int64):
        top = math.isqrt(int(np.iinfo(dtype).max))
        values = np.unique(np.concatenate([[top, 1, rng.integers(2, 6)], rng.integers(6, top, 2),
                                           top - rng.integers(1, max(top // 8, 2), 1)]))
        values = np.concatenate([-values, values])
        X = np.array([(u, v) for u in values for v in values], dtype=dtype)
        shown = ", +-".join(str(v) for v in np.sort(values[len(values) // 2:]))
        case = _labelled(X[rng.permutation(len(X))],
                         f"every pair of the whole numbers +-{shown} ({len(X)} points, "
                         f"{np.dtype(dtype).name}: up to the largest whose products fit in "
                         "it), labelled by whether x1 and x2 have opposite signs")
        case.note["limit"] = True
        cases.append(case)
    # Thousands of points at XOR's own scale: a feature wrong on a small region of the plane
    # (a band, a few per cent of the points) shows on some of them.
    n, scale = int(rng.integers(2000, 4001)), float(rng.uniform(0.8, 1.25))
    cases.append(_labelled(_uniform_points(rng, scale, n),
                           f"{n} uniform random points in the square [-{scale:.3g}, "
                           f"{scale:.3g}]^2, labelled by whether x1 and x2 have opposite signs"))
    return cases


def _points_of_every_size(rng, n: int) -> np.ndarray:
    """``n`` points whose coordinates have random signs and sizes drawn log-uniformly from
    WIDE[0] to WIDE[1]; a sixteenth of them (at random rows) with one or both coordinates
    just inside those limits, at a random distance from them down to float64's resolution."""
    low, high = np.log(WIDE[0]), np.log(WIDE[1])
    X = np.exp(rng.uniform(low, high, (n, 2)))
    k = max(n // 16, 8)
    rows = rng.choice(n, k, replace=False)
    eps = np.finfo(np.float64).eps
    near = 10.0 ** rng.uniform(np.log10(eps), 0.0, (k, 2))       # the distance, relative
    edge = np.where(rng.random((k, 2)) < 0.5, WIDE[0] * (1 + near), WIDE[1] * (1 - near / 2))
    keep = rng.random((k, 2)) < 0.3           # some keep their other coordinate as drawn
    keep[:, 1] &= ~keep[:, 0]
    X[rows] = np.where(keep, X[rows], np.clip(edge, WIDE[0], WIDE[1]))
    return X * rng.choice([-1.0, 1.0], (n, 2))


def _uniform_points(rng, scale: float, n: int) -> np.ndarray:
    """``n`` uniform random points in the square [-scale, scale]^2, none of whose coordinates
    is below a thousandth of ``scale`` in size (where float32 rounding would make x1 and x2
    of very different sizes the same as one of them alone)."""
    X = rng.uniform(-scale, scale, (n, 2))
    small = np.abs(X) < 1e-3 * scale
    X[small] = np.copysign(rng.uniform(1e-3, 1.0, int(small.sum())) * scale, X[small])
    return X


def _inner_rows_swapped(rng, X: np.ndarray) -> np.ndarray:
    """The row order of X with two inner rows swapped, chosen (of up to 40 tries) so that
    numpy's sum of X is the very same float: a result kept by the ends and the sum shows."""
    order = np.arange(len(X))
    for _ in range(40):
        swap = order.copy()
        i, j = rng.choice(np.arange(1, len(X) - 1), 2, replace=False)
        swap[[i, j]] = swap[[j, i]]
        if X[swap].sum() == X.sum():
            break
    return swap


def _features(case: Case, got, what: str) -> np.ndarray:
    """The result as a real 2-D array of one row per sample and 1 to 5 columns, or an error."""
    X = case.args[0]
    n = X.shape[0]
    if isinstance(got, np.ndarray) and got.ndim != 2 and got.size and got.shape[0] == n:
        raise ExerciseError(
            f"{what} for X of shape {X.shape} returned shape {got.shape}; expected ({n}, k): one "
            "row per sample, one column per feature.",
            "a single feature is still one column of a 2-D array.")
    if isinstance(got, np.ndarray) and got.ndim == 2 and got.shape[0] != n:
        raise ExerciseError(
            f"{what} for X of shape {X.shape} returned shape {got.shape}; expected ({n}, k): one "
            "row per sample, one column per feature.",
            "samples are rows: the features of sample i are row i of the result.")
    got = expect_ndarray(got, what, hint="return a numpy array of shape (n, k).")
    if got.ndim != 2:
        raise ExerciseError(
            f"{what} for X of shape {X.shape} returned shape {got.shape}; expected ({n}, k): one "
            "row per sample, one column per feature.",
            "a single feature is still one column of a 2-D array.")
    if got.dtype.kind not in "biuf":
        raise ExerciseError(f"{what} returned dtype {got.dtype}; features are real numbers.",
                            "use real arithmetic on x1 and x2 (no complex numbers).")
    if not 1 <= got.shape[1] <= 5:
        raise ExerciseError(
            f"{what} returned {got.shape[1]} features; keep it small (1 to 5 columns).",
            "one well-chosen extra column is enough.")
    return got


def _judge_lift(case: Case, obs, expected) -> None:
    if "labels" not in case.note:      # the rows-alone cases are judged together, below
        return
    what = f"{_LIFT_WHAT} on {case.note['sample']}"
    F = _features(case, obs.result, what)
    if not np.all(np.isfinite(F)):
        small = case.args[0].dtype == np.float32 and F.dtype == np.float32
        size = float(np.abs(case.args[0]).max(initial=0))
        raise ExerciseError(f"{what} returned NaN or inf (its points reach {size:.3g} in size).", (
            "X is float32 here, and so is arithmetic on it: float32 overflows to inf above "
            "about 3.4e38. Use a feature that is finite for every input, or compute it in "
            "float64.") if small else (
            "float16 holds values only up to 65504: a feature computed in float16 (a large "
            "factor times float16 input, say) overflows there; compute it in float64."
            if F.dtype == np.float16 else
            "use a feature that is finite for every input: the check draws points from 1e-6 "
            "to 1e6 in size, where exp of a product or a huge constant factor overflows."))
    y = np.asarray(case.note["labels"])
    with np.errstate(all="ignore"):     # the judge's arithmetic prints no warning of its own
        acc = _threshold_accuracy(F, y)          # (exact, and fast: first)
        if acc < LIFT_TARGET:
            acc = max(acc, _logistic_accuracy(F, y))
    if acc < LIFT_TARGET:
        wrong = int(round((1 - acc) * len(y)))
        shown = f"{acc:.1%}" if acc < 0.999 else f"{acc:.3%}"
        raise ExerciseError(
            f"a linear classifier (logistic regression) on your features reaches only "
            f"{shown} on {case.note['sample']}: {wrong} of its {len(y)} points come out on "
            "the wrong side (the goal is every point: XOR's label is a rule, whether x1 and "
            "x2 have opposite signs, and the right features separate it exactly)."
            + _misses_note(case.args[0], F, y),
            _wrap_hint(case.args[0], F) if case.note.get("limit") else _LIFT_HINT)


def _wrap_hint(X: np.ndarray, F: np.ndarray) -> str:
    """For whole numbers up to the largest whose product fits in X's dtype (the earlier
    samples separated): integer features wrap around beyond their dtype's range."""
    if F.dtype.kind not in "iu":
        return _LIFT_HINT
    info = np.iinfo(F.dtype)
    return (f"X is {X.dtype} here and your features are {F.dtype}, whose arithmetic wraps "
            f"around beyond {info.max} (a sign flips): x1 x2 fits in X's dtype, but a feature "
            "larger than it, or a cast to a narrower dtype, does not. Keep to x1 x2 itself, or "
            "compute in float64.")


def _misses_note(X: np.ndarray, F: np.ndarray, y: np.ndarray) -> str:
    """For a sample of up to 600 points: where the points a threshold on one feature gets
    wrong lie (their coordinates' sizes), when they lie apart from the others."""
    if len(y) > 600 or F.shape[1] != 1:
        return ""
    with np.errstate(all="ignore"):
        miss = _threshold_misses(F, y)
        if not np.any(miss) or np.all(miss):
            return ""
        size = np.abs(X.astype(float))
        small, large = size.min(axis=1), size.max(axis=1)
        shown = [float(f"{v:.6g}") for v in X[miss][0].astype(float)]
        if small[miss].max() < small[~miss].min():
            where = (f" The points on the wrong side are those with a coordinate below "
                     f"{small[miss].max():.3g} in size, such as x = {shown}:")
        elif large[miss].min() > large[~miss].max():
            where = (f" The points on the wrong side are those with a coordinate above "
                     f"{large[miss].min():.3g} in size, such as x = {shown}:")
        else:
            return f" One point on the wrong side: x = {shown}."
    return where + " a feature right only for some sizes of x1 and x2."


def _judge_lift_rows(cases, observations, expected) -> None:
    base = next(i for i, c in enumerate(cases) if c.note.get("base"))
    samples = {c.note["sample"]: (np.asarray(o.result), c.args[0])
               for c, o in zip(cases, observations) if "labels" in c.note}
    F, X = samples[cases[base].note["sample"]]
    name = cases[base].note["sample"]
    widths = {}
    for c, o in zip(cases, observations):
        if "labels" in c.note:
            widths.setdefault(np.asarray(o.result).shape[1], c.note["sample"])
    for c, o in zip(cases, observations):
        if "of" not in c.note and "empty" not in c.note and "axes" not in c.note:
            continue
        rows = c.note.get("rows", [])
        got = o.result
        if "of" in c.note:
            name = c.note["of"]
            F, X = samples[name]
        if c.note.get("empty") or c.note.get("axes"):
            where = "an empty X" if c.note.get("empty") else "points on the axes"
            got = _features(c, got, f"{_LIFT_WHAT} on {where}")
            if got.shape[1] != F.shape[1]:
                raise ExerciseError(
                    f"{_LIFT_WHAT} returns {got.shape[1]} features for {where} and "
                    f"{F.shape[1]} for {name}.",
                    "the number of features is the same for every X: decide it once.")
            if not np.all(np.isfinite(got.astype(float))):
                raise ExerciseError(
                    f"{_LIFT_WHAT} returns NaN or inf for points on the axes: X = "
                    f"{show(c.args[0], 3)} gives {show(got, 3)}.",
                    "the features must be finite for every x, also where x1 or x2 is 0: a "
                    "division by one of them is not.")
            continue
        if not isinstance(got, np.ndarray) or got.shape != (len(rows), F.shape[1]):
            shape = got.shape if isinstance(got, np.ndarray) else _kind(got)
            raise ExerciseError(
                f"{_LIFT_WHAT} returns features of shape {shape} for {name}, "
                f"{c.note['name']}, and {F.shape} for the whole sample.",
                "each sample's features must be computed from its own x1 and x2 only, not "
                "from its position, other samples or stored labels.")
        want = F[rows].astype(float)
        # The same features to the last digits: a few rounding steps of the feature's dtype,
        # against the size of the sample's own values, its features and its x1 and x2 (an
        # order of the arithmetic that differs with the batch, in a BLAS product say, moves
        # the last bits only; not against the whole sample's largest feature, which for
        # points of very different sizes would let a small point's feature change).
        eps = np.finfo(F.dtype if F.dtype.kind == "f" else np.float64).eps
        with np.errstate(all="ignore"):
            size = np.maximum(np.abs(want).max(axis=1, keepdims=True, initial=0.0),
                              np.abs(X[rows].astype(float)).max(axis=1, keepdims=True))
            same = np.abs(got.astype(float) - want) <= 16 * eps * size
            same |= (got.astype(float) == want) | np.isnan(want) & np.isnan(got.astype(float))
        if np.all(same):
            continue
        row = int(np.argmax(~np.all(same, axis=1)))
        x = np.round(X[rows][row].astype(float), 3).tolist()
        digits = next((d for d in (6, 10, 17) if [f"{v:.{d}g}" for v in want[row]]
                       != [f"{v:.{d}g}" for v in got[row].astype(float)]), 17)
        shown = [float(f"{v:.{digits}g}") for v in want[row]]
        seen = [float(f"{v:.{digits}g}") for v in got[row].astype(float)]
        if c.note["name"] == "its rows shuffled":
            gap = np.abs(got.astype(float) - want).max(axis=1)[row]
            raise ExerciseError(
                f"{_LIFT_WHAT} gives a sample different features when the rows of X are "
                f"shuffled: the sample x = {x} got {shown} in one order and {seen} in "
                f"another (a difference of {gap:.2g}).", _ROWS_HINT)
        raise ExerciseError(
            f"{_LIFT_WHAT} gives the sample x = {x} the features {shown} in {name}, "
            f"but {seen} when called on {c.note['name']}.", _ROWS_HINT)
    if len(widths) > 1:
        (k1, s1), (k2, s2) = list(widths.items())[:2]
        raise ExerciseError(f"{_LIFT_WHAT} returns {k1} features on {s1} and {k2} on {s2}.",
                            "the number of features is the same for every X: decide it once.")


LIFT = Spec(
    "ch01.lift", check="ch01.check_lift_xor", grade_id="ch01-lift-xor-check", what=_LIFT_WHAT,
    answers=("lift",), draw=_draw_lift, reference=lambda X: None, judge=_judge_lift,
    judge_all=_judge_lift_rows, forbidden=Forbidden(()),
    passed="on your features a linear classifier separates every XOR sample tried (every "
           "point of each, points near the axes and points from 1e-6 to 1e6 in size "
           "included), and each sample's features depend on its own x1 and x2 alone.")


@exercise_check
def check_lift_xor(lift, *, seed: int | None = None) -> None:
    """Check ``lift(X)`` returns per-sample features on which a linear classifier solves XOR."""
    LIFT.check(lift, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 3: collapse a stack of linear layers into one
# --------------------------------------------------------------------------------------

_COLLAPSE_WHAT = "`collapse(weights, biases)`"
_ORDER_HINT = ("the data meets W1 first: the product of the weight matrices runs in the order "
               "of the layers, the input side on the left.")
_STACK_PRECISION_HINT = (
    "multiply the layers as they are: numpy's arithmetic gives the dtype the stack calls for. "
    "A cast on the way (to float16 or float32, to one layer's dtype, or of integers to floats) "
    "rounds.")
_BIAS_HINT = ("each bias enters at its own layer and then goes through every weight matrix "
              "after it (and only those).")


def _stack(rng, sizes, dtype=np.float64, integers: bool = False):
    if integers:
        weights = [rng.integers(-3, 4, (i, o)) for i, o in zip(sizes, sizes[1:])]
        biases = [rng.integers(-3, 4, o) for o in sizes[1:]]
    else:
        weights = [rng.normal(size=(i, o)).astype(dtype) for i, o in zip(sizes, sizes[1:])]
        biases = [rng.normal(size=o).astype(dtype) for o in sizes[1:]]
    return weights, biases


def _collapse_rounding(weights, biases, dtype=None) -> float:
    """The relative tolerance for the collapsed layer, against the size of its terms: each
    product of the chain rounds a sum of (inner size + 1) terms once in the stack's dtype (the
    one numpy's arithmetic gives for all its layers, unless ``dtype`` says another), and
    twice that is allowed."""
    terms = sum(w.shape[0] + 1 for w in weights[1:]) + 2
    return _rounding(np.result_type(*weights, *biases) if dtype is None else dtype, terms)


def _half_precision_shows(weights, biases) -> bool:
    """True when a float16 round trip, of the result or of every layer, and a relative change
    of 1e-5, each move some value of (W, b) by more than 4 times the tolerance."""
    def gaps(W, b, ref):
        scale = ref["W_scale"] + ref["b_scale"][None, :]
        return max(np.max(np.abs(W - ref["W"]) / scale),
                   np.max(np.abs(b - ref["b"]) / ref["b_scale"]))

    ref = _collapse_reference(weights, biases)
    half = _collapse_reference([w.astype(np.float16) for w in weights],
                               [v.astype(np.float16) for v in biases])
    limit = 4 * _collapse_rounding(weights, biases)
    return all(gaps(W, b, ref) > limit for W, b in (
        (ref["W"].astype(np.float16), ref["b"].astype(np.float16)),
        (half["W"], half["b"]), (ref["W"] * (1 + 1e-5), ref["b"] * (1 + 1e-5))))


def _positive_stack(rng, sizes):
    """float32 layers of positive values: every product adds terms of one sign, so a relative
    error in a result is that large against the size of its terms, and float16 rounding shows
    (checked: drawn again in the rare draw where it would not)."""
    for _ in range(50):
        weights = [rng.uniform(0.5, 2.0, (i, o)).astype(np.float32)
                   for i, o in zip(sizes, sizes[1:])]
        biases = [rng.uniform(0.5, 2.0, o).astype(np.float32) for o in sizes[1:]]
        if _half_precision_shows(weights, biases):
            break
    return weights, biases


def _large_integer_stack(rng, sizes):
    """int64 layers of positive whole numbers up to 1000, biases even, except the last layer's,
    which are odd and above 2**24: every entry of the collapsed b is then an odd whole number
    above 2**24, which float32 cannot hold (float16 overflows), and every sum stays far below
    2**53 (exact in float64 too) and inside int64."""
    weights = [rng.integers(1, 1001, (i, o)) for i, o in zip(sizes, sizes[1:])]
    biases = [2 * rng.integers(1, 1001, o) for o in sizes[1:-1]]
    biases.append(2 * rng.integers(2**23 + 1, 2**24, sizes[-1]) + 1)
    return weights, biases


def _other_stack(rng, sizes, stack):
    """A float64 stack of the same sizes as ``stack`` whose collapsed W and b differ from its
    own in every entry: an answer that remembers results by shape (a cache) shows."""
    ref = _collapse_reference(*stack)
    while True:
        other = _stack(rng, sizes)
        got = _collapse_reference(*other)
        if np.all(got["W"] != ref["W"]) and np.all(got["b"] != ref["b"]):
            return other


def _huge_integer_stack(rng, depth: int, bits: int = 62):
    """int64 layers, ``depth`` of them, whose collapsed W and b lie between 2**bits and
    2**(bits + 1) in size (bits from 53 to 62): the inner layers have 3 units, the weights and
    the first bias are odd, drawn so that each of the 3**(L-1) products along the paths
    through the stack is between 2**bits / 3**(L-1) and 2**(bits + 1) / 3**(L-1) (times
    0.98), and the later biases are even and small. So every entry of W and b is an odd whole
    number beyond 2**53 (float64 cannot hold it), beyond 2**62 for bits = 62 (a clip there
    shows), exact in int64; the columns of the last layer have random signs, both when there
    are two."""
    sizes = [int(rng.integers(2, 4))] + [3] * (depth - 1) + [2]
    paths = 3 ** (depth - 1)
    low = (2.0**bits / paths) ** (1 / depth)
    high = (0.98 * 2.0**(bits + 1) / paths) ** (1 / depth)

    def odd(shape):
        return 2 * rng.integers(int(low / 2) + 1, int(high / 2) - 1, shape) + 1

    weights = [odd((i, o)) for i, o in zip(sizes, sizes[1:])]
    biases = [odd(sizes[1])] + [2 * rng.integers(-1000, 1000, o) for o in sizes[2:]]
    signs = np.array([1, -1])[rng.permutation(2)]
    weights[-1] = weights[-1] * signs
    return (weights, biases), sizes


def _overflowing_stack(rng):
    """Two float64 layers of 2 to 4 units, of ordinary sizes but for a few weights near 1e200:
    one row of W leaves float64's range (in one column two products of opposite signs, inf,
    -inf or NaN by the order of the sum; in another one product, +-inf in any order); its
    other rows and b stay finite in any order. Rows and columns in a random order."""
    sizes = [int(v) for v in rng.integers(2, 5, 3)]
    weights, biases = _stack(rng, sizes)
    same, sign = _big(rng), float(rng.choice([-1.0, 1.0]))
    weights[0][0, :2] = same
    weights[1][0, 0], weights[1][1, 0] = sign * _big(rng), -sign * _big(rng, 3.0, 4.0)
    weights[1][0, 1] = float(rng.choice([-1.0, 1.0])) * _big(rng)
    rows, inner, columns = (rng.permutation(k) for k in sizes)
    weights = [weights[0][rows][:, inner], weights[1][inner][:, columns]]
    biases = [biases[0][inner], biases[1][columns]]
    return (weights, biases), sizes


def _nan_stack(rng, sizes):
    """float64 layers whose last weight matrix holds a NaN at a random place: the column of W
    and the entry of b it feeds are NaN in any order of the arithmetic, and every other entry
    is finite."""
    weights, biases = _stack(rng, sizes)
    weights[-1][int(rng.integers(sizes[-2])), int(rng.integers(sizes[-1]))] = np.nan
    return weights, biases


def _near_identity_stack(rng):
    """Square layers of one size: an exact identity, layers close to it (I + small values),
    a permutation and ordinary layers, in a random order, each with its bias. Each changes
    the result: a layer taken for the identity and left out shows."""
    d, depth = int(rng.integers(2, 6)), int(rng.integers(4, 8))
    weights, biases = _stack(rng, [d] * (depth + 1))
    weights[0] = np.eye(d)
    weights[1] = np.eye(d)[rng.permutation(d)[::-1] if d > 1 else [0]]
    for k in range(2, depth - 1):
        weights[k] = np.eye(d) + rng.uniform(-0.2, 0.2, (d, d))
    order = rng.permutation(depth)
    return ([weights[k] for k in order], [biases[k] for k in order]), [d] * (depth + 1)


def _draw_collapse(rng) -> list[Case]:
    d = _distinct(rng, 2, 2, 6)
    deep = [int(v) for v in rng.integers(2, 6, 9)]
    square = _stack(rng, [3, 3, 3, 3])
    cases = [
        Case("three square layers, sizes [3, 3, 3, 3]", square, note={"sizes": [3, 3, 3, 3]}),
        Case("the same sizes and dtypes with other values, sizes [3, 3, 3, 3]",
             _other_stack(rng, [3, 3, 3, 3], square), note={"sizes": [3, 3, 3, 3]}),
        Case(f"one layer (L = 1), sizes {d}", _stack(rng, d), note={"sizes": d}),
        Case("one input and one output, sizes [1, 4, 1]", _stack(rng, [1, 4, 1]),
             note={"sizes": [1, 4, 1]}),
        Case("integer layers: a uint64 first layer of values above 2**63, then int64 layers "
             "of small whole numbers (numpy gives float64), sizes [2, 3, 4, 2]",
             _uint64_stack(rng, [2, 3, 4, 2]), note={"sizes": [2, 3, 4, 2]}),
        Case("integer layers (int64) of whole numbers up to 1000, biases of the last layer "
             "above 1e7, sizes [2, 3, 4, 2]", _large_integer_stack(rng, [2, 3, 4, 2]),
             note={"sizes": [2, 3, 4, 2]}),
        Case(f"a deep stack of 8 layers with a NaN in the last weight matrix, sizes {deep}",
             _nan_stack(rng, deep), note={"sizes": deep}),
    ]
    # (float32 layers whose W and b hold values of every size, down to near float32's
    # smallest normal numbers: a value set to 0 below some size shows)
    stack, f32 = _tiny_stack(rng, np.float32, _distinct(rng, 4, 2, 6))
    cases.append(Case(f"float32 layers whose W and b hold values of every size down to near "
                      f"float32's smallest normal numbers, sizes {f32}", stack,
                      note={"sizes": f32}))
    # (early in the draw: the spec's twins go to the latest cases, which an answer that keeps
    # results by a summary of its input meets with values it can sum)
    cases += _small_and_large_stacks(rng)
    f32 = [int(v) for v in _distinct(rng, 3, 2, 6)]
    cases.append(Case(f"float32 layers of positive values, where float32 rounding shows, sizes "
                      f"{f32}", _positive_stack(rng, f32), note={"sizes": f32}))
    # Mixed stacks: numpy's arithmetic gives float64 as soon as one layer is float64.
    mixed = [int(v) for v in rng.integers(2, 6, 4)]
    weights, biases = _stack(rng, mixed)
    first, first_b = _stack(rng, mixed[:2], integers=True)
    cases.append(Case(f"an integer first layer (int64), float64 layers after it, sizes {mixed}",
                      (first + weights[1:], first_b + biases[1:]), note={"sizes": mixed}))
    weights, biases = _stack(rng, mixed)
    first, first_b = _stack(rng, mixed[:2], np.float32)
    cases.append(Case(f"a float32 first layer, float64 layers after it, sizes {mixed}",
                      (first + weights[1:], first_b + biases[1:]), note={"sizes": mixed}))
    # numpy's arithmetic gives float64 however late a float32 layer comes: not the last
    # layer's dtype. Positive values: every sum has terms of one sign, so float32 rounding of a
    # result (or of a step) shows against the size of its terms.
    weights = [rng.uniform(0.5, 2.0, (i, o)) for i, o in zip(mixed, mixed[1:])]
    biases = [rng.uniform(0.5, 2.0, o) for o in mixed[1:]]
    weights[-1], biases[-1] = weights[-1].astype(np.float32), biases[-1].astype(np.float32)
    cases.append(Case(f"float64 layers, then a float32 last layer, positive values, sizes "
                      f"{mixed}", (weights, biases), note={"sizes": mixed}))
    # A float64 layer between float32 ones: the dtype comes from every layer of the stack,
    # not from its ends. (float32 weights with float64 biases tell nothing apart: W is then a
    # float32 product, and a b computed from it carries float32 rounding in any right order.)
    weights, biases = _positive_stack(rng, mixed)
    weights[1], biases[1] = weights[1].astype(np.float64), biases[1].astype(np.float64)
    cases.append(Case(f"float32 layers with a float64 second layer, positive values, sizes "
                      f"{mixed}", (weights, biases), note={"sizes": mixed}))
    # float32 weights with a float64 last bias: b is float64 (numpy's arithmetic), so a dtype
    # taken from the weights alone rounds it, and so does a running b kept in float32 (an
    # in-place b += b2). The first bias is float32 too, and it and W2 hold whole numbers: b1 @
    # W2 is exact in float32, and adds to b2 without rounding.
    sizes = [int(v) for v in rng.integers(1, 6, 3)]
    weights = [rng.normal(size=sizes[:2]).astype(np.float32),
               rng.integers(-4, 5, sizes[1:]).astype(np.float32)]
    biases = [rng.integers(-8, 9, sizes[1]).astype(np.float32), rng.normal(0.0, 4.0, sizes[2])]
    cases.append(Case(f"float32 weights with float64 biases (a float32 first bias, a float64 "
                      f"last one): b is float64, sizes {sizes}", (weights, biases),
                      note={"sizes": sizes}))
    # Two stacks of them: two layers, and three to five (a detour through floats kept for
    # deeper stacks only shows too).
    # (the deeper one at a size drawn from 2**53 to 2**62: exact in int64, beyond float64's
    # whole numbers, below where a clip at 2**62 would show)
    for depth, bits in ((2, 62), (int(rng.integers(3, 6)), int(rng.integers(53, 62)))):
        huge, sizes = _huge_integer_stack(rng, depth, bits)
        cases.append(Case(f"integer layers (int64) whose products pass 2**53, beyond float64's "
                          f"whole numbers, and lie between 2**{bits} and 2**{bits + 1} in size, "
                          f"{depth} layers, sizes {sizes}", huge, note={"sizes": sizes}))
    cases += _uncommon_stacks(rng)
    stack, sizes = _overflowing_stack(rng)
    cases.append(Case(f"float64 layers with a few weights near 1e200: a row of W leaves "
                      f"float64's range (inf, -inf or NaN by the order of the sums in one "
                      f"column, an inf of one sign in another), sizes {sizes}", stack,
                      note={"sizes": sizes}))
    # (handed over in Fortran order, as transposes are: an answer that reads a layer's memory
    # as C-ordered uses it transposed)
    stack, sizes = _near_identity_stack(rng)
    cases.append(Case(f"square layers: an identity, layers close to it (I + small values), a "
                      f"permutation and others, each with a bias, handed over in Fortran order, "
                      f"sizes {sizes}", stack, note={"sizes": sizes}, order="F"))
    # An integer layer of large whole numbers, then a float32 one: numpy gives float64 (a
    # float32 result rounds the large numbers); float64 weights with float32 biases give a
    # float64 b too (a dtype taken from the biases rounds it).
    sizes = [int(v) for v in rng.integers(2, 6, 3)]
    weights, biases = _stack(rng, sizes)
    weights[0] = rng.integers(-10**8, 10**8, (sizes[0], sizes[1]))
    biases[0] = rng.integers(-10**8, 10**8, sizes[1])
    weights[1], biases[1] = (rng.uniform(0.5, 2.0, (sizes[1], sizes[2])).astype(np.float32),
                             rng.uniform(0.5, 2.0, sizes[2]).astype(np.float32))
    cases.append(Case(f"an integer first layer (int64, whole numbers up to 1e8), then a float32 "
                      f"layer: float64 results, sizes {sizes}", (weights, biases),
                      note={"sizes": sizes}))
    # (the first weights integers, odd and above 2**25: W is their product with float64
    # weights, and a cast of them to the biases' float32 rounds them)
    sizes = [int(v) for v in rng.integers(2, 6, 3)]
    weights, biases = _stack(rng, sizes)
    weights[0] = rng.integers(2**25, 2**26, sizes[:2]) | 1
    cases.append(Case(f"float64 weights with float32 biases (the first weights int64, odd "
                      f"numbers above 2**25), sizes {sizes}",
                      (weights, [b.astype(np.float32) for b in biases]), note={"sizes": sizes}))
    # ... and the integer layer after the float32 one.
    sizes = [int(v) for v in rng.integers(2, 6, 3)]
    weights, biases = _stack(rng, sizes)
    weights[0], biases[0] = (rng.uniform(0.5, 2.0, (sizes[0], sizes[1])).astype(np.float32),
                             rng.uniform(0.5, 2.0, sizes[1]).astype(np.float32))
    weights[1] = rng.integers(2**25, 2**26, (sizes[1], sizes[2])) | 1
    biases[1] = rng.integers(2**25, 2**26, sizes[2]) | 1
    cases.append(Case(f"a float32 first layer, then an integer layer (int64, odd numbers above "
                      f"2**25): float64 results, sizes {sizes}", (weights, biases),
                      note={"sizes": sizes}))
    # Deeper than the chapter's 8 layers, and than the 40 of earlier checks, to a drawn depth:
    # an answer that stops at some depth shows. Every layer square (so any layer left out
    # shows, where one of another shape would break the product):
    # signed permutations with factors near 1 and small values elsewhere, whose products stay
    # near 1 in size, and so do the sums of their sizes (the tolerance's scale).
    # (one draw in six: a depth drawn far past that, up to 256 layers)
    depth, d = int(rng.integers(41, 65)), int(rng.integers(3, 6))   # (3+: a twin can swap)
    if rng.random() < 1 / 6:
        depth = int(_log_uniform(rng, 65, 257))
    permuted = np.eye(d)[np.argsort(rng.random((depth, d)), axis=1)]
    layers = (permuted * rng.choice([-1.0, 1.0], (depth, 1, d)) * rng.uniform(0.9, 1.1, (
        depth, 1, d)) + rng.normal(0.0, 0.02, (depth, d, d)))
    weights, biases = list(layers), list(rng.normal(0.0, 1.0, (depth, d)))
    cases.append(Case(f"a deep stack of {depth} square layers of {d} units",
                      (weights, biases), note={"sizes": f"[{d}] * {depth + 1}"}))
    stack, sizes = _tiny_stack(rng)
    cases.append(Case(f"random float64 layers whose W and b hold values of every size down to "
                      f"near float64's smallest normal numbers, sizes {sizes}", stack,
                      note={"sizes": sizes}))
    sizes = [int(v) for v in rng.integers(1, 7, int(rng.integers(3, 6)))]
    sizes[int(rng.integers(len(sizes)))] = int(_log_uniform(rng, 7, 400))  # one far wider
    cases.append(Case(f"random layers, sizes {sizes}", _stack(rng, sizes), note={"sizes": sizes}))
    return cases


def _uncommon_stacks(rng) -> list[Case]:
    """A layer of no units inside a stack, or none in its input (zero-size weight matrices),
    as drawn."""
    sizes = [int(v) for v in rng.integers(2, 6, int(rng.integers(3, 5)))]
    if rng.random() < 0.5:
        sizes[int(rng.integers(1, len(sizes) - 1))] = 0
        label = "a layer of no units inside the stack (an empty weight matrix)"
    else:
        sizes[0] = 0
        label = "a stack with no inputs (d_in = 0: empty weight matrices)"
    return [Case(f"{label}, sizes {sizes}", _stack(rng, sizes), note={"sizes": sizes})]


def _uint64_stack(rng, sizes):
    """A uint64 first layer of values above 2**63 (beyond int64), then int64 layers of small
    whole numbers, the weights positive: numpy's arithmetic gives float64 (no integer dtype
    holds both), and a detour through int64 wraps the first layer to negative values."""
    weights, biases = _stack(rng, sizes, integers=True)
    weights[0] = rng.integers(2**63, 2**64 - 1, sizes[:2], dtype=np.uint64, endpoint=True)
    weights[1:] = [np.abs(w) + 1 for w in weights[1:]]
    return weights, biases


def _tiny_stack(rng, dtype=np.float64, sizes=None):
    """Two or three layers whose collapsed W and b hold values of every size down to near
    the dtype's smallest normal numbers (float64 to about 1e-280, float32 to 1e-30): the rows
    of the first layer and the columns of the last scaled by their own powers of ten (one of
    each at full size, one row near the bottom), the biases as small as the columns they
    feed. A value set to 0 below some size shows."""
    top = 280.0 if np.dtype(dtype) == np.float64 else 30.0
    if sizes is None:
        sizes = [int(v) for v in rng.integers(2, 7, int(rng.integers(3, 5)))]
    weights, biases = _stack(rng, sizes)
    rows, columns = rng.uniform(0.0, top / 2, sizes[0]), rng.uniform(0.0, top / 2, sizes[-1])
    low, high = rng.choice(sizes[0], 2, replace=False)
    rows[high], columns[int(rng.integers(sizes[-1]))] = 0.0, 0.0
    rows[low] = top / 2 * rng.uniform(0.9, 1.0)
    e = float(rng.uniform(0.0, top / 2))
    weights[0] = weights[0] * 10.0 ** -rows[:, None]
    weights[-1] = weights[-1] * 10.0 ** -columns[None, :]
    biases = [v * 10.0 ** -e for v in biases[:-1]] + [biases[-1] * 10.0 ** -(e + columns)]
    return ([w.astype(dtype) for w in weights], [v.astype(dtype) for v in biases]), sizes


def _subnormal_stack(rng, dtype=np.float64):
    """Two layers whose collapsed W and b are subnormal numbers (below the dtype's smallest
    normal one), none 0, exact in any order: the first layer's weights and both biases whole
    multiples of the dtype's smallest step, the second layer's weights small whole numbers,
    each column of one sign."""
    info = np.finfo(dtype)
    step = info.smallest_subnormal
    x_bits, w_bits = {52: (20, 8), 23: (10, 6)}[info.nmant]
    sizes = [int(v) for v in rng.integers(1, 7, 3)]
    W1 = rng.integers(1, 2**x_bits + 1, sizes[:2]).astype(dtype) * step
    b1 = rng.integers(1, 2**x_bits + 1, sizes[1]).astype(dtype) * step
    signs = rng.choice([-1, 1], sizes[2]).astype(dtype)
    W2 = rng.integers(1, 2**w_bits + 1, sizes[1:]).astype(dtype) * signs
    b2 = rng.integers(0, 2**x_bits + 1, sizes[2]).astype(dtype) * step * signs
    return ([W1, W2], [b1, b2]), sizes


def _non_finite_bias_stack(rng):
    """float64 layers with an inf, -inf or NaN in two biases, the first layer's and a random
    later one's (at a random unit): b is inf or NaN where numpy's arithmetic carries them, and
    W, the product of the weights alone, stays finite."""
    sizes = [int(v) for v in rng.integers(1, 6, int(rng.integers(3, 5)))]
    weights, biases = _stack(rng, sizes)
    layers = (0, int(rng.integers(1, len(biases))))
    values = [[np.inf, -np.inf, np.nan][int(i)] for i in rng.integers(3, size=2)]
    for layer, value in zip(layers, values):
        biases[layer][int(rng.integers(len(biases[layer])))] = value
    return (weights, biases), sizes, layers, values


def _small_and_large_stacks(rng) -> list[Case]:
    """Stacks of subnormal values, of an inf or NaN in the biases, and of float weights
    with large integer biases."""
    cases = []
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        stack, sizes = _subnormal_stack(rng, dtype)
        cases.append(Case(f"{name} layers whose W and b are all subnormal numbers, below "
                          f"{name}'s smallest normal one, exact in any order, sizes {sizes}",
                          stack, note={"sizes": sizes}))
    stack, sizes, layers, values = _non_finite_bias_stack(rng)
    cases.append(Case(f"float64 layers with {values[0]!r} in the bias of layer 1 and "
                      f"{values[1]!r} in that of layer {layers[1] + 1}, sizes {sizes}", stack,
                      note={"sizes": sizes}))
    # Float weights (float32 or float64, drawn for each layer) with integer biases far larger
    # (int32 or int64, up to 1e12 in size): numpy's arithmetic gives float results, b
    # included, and W is the product of the weights alone, as precise as that. (Two layers:
    # deeper, a b computed through a product of float32 weights carries its rounding in any
    # right order.)
    sizes = [int(v) for v in rng.integers(1, 6, 3)]
    weights, _ = _stack(rng, sizes)
    weights = [w.astype((np.float32, np.float64)[int(rng.integers(2))]) for w in weights]
    biases = []
    for o in sizes[1:]:
        if rng.random() < 0.5:
            biases.append(rng.integers(-2**31, 2**31, o).astype(np.int32))
        else:
            size = int(10.0 ** rng.uniform(6, 12))   # (b keeps fractions at that size)
            biases.append(rng.integers(-size, size + 1, o).astype(np.int64))
    kinds = ", ".join(f"W{i + 1} {w.dtype}, b{i + 1} {v.dtype}"
                      for i, (w, v) in enumerate(zip(weights, biases)))
    cases.append(Case(f"float weights with large integer biases ({kinds}): float results, "
                      f"sizes {sizes}", (weights, biases), note={"sizes": sizes}))
    return cases


def _collapse_reference(weights, biases):
    W, b = np.asarray(weights[0], float), np.asarray(biases[0], float)
    W_abs, b_abs = np.abs(W), np.abs(b)
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W_next, b_next = np.asarray(W_next, float), np.asarray(b_next, float)
        W, b = W @ W_next, b @ W_next + b_next
        W_abs, b_abs = W_abs @ np.abs(W_next), b_abs @ np.abs(W_next) + np.abs(b_next)
    exact = None
    # (uint64 with signed integers: numpy's arithmetic gives float64, judged as floats)
    if np.result_type(*weights, *biases).kind in "iu":
        # Integer layers: the exact whole numbers too, in int64 (floats hold them only up to
        # 2**53).
        We, be = np.asarray(weights[0], np.int64), np.asarray(biases[0], np.int64)
        for W_next, b_next in zip(weights[1:], biases[1:]):
            W_next = np.asarray(W_next, np.int64)
            We, be = We @ W_next, be @ W_next + np.asarray(b_next, np.int64)
        exact = {"W": We, "b": be}
    return {"W": W, "b": b, "W_scale": W_abs, "b_scale": b_abs, "exact": exact}


def _part(value, name: str, shape: tuple, label: str, hint: str) -> np.ndarray:
    if value is None:
        raise ExerciseError(f"{name} from {label} is None.", "return the array itself.")
    if not isinstance(value, np.ndarray):
        raise ExerciseError(f"{name} from {label} is a {_kind(value)}, expected a numpy array "
                            f"of shape {shape}.", "return numpy arrays: W and b.")
    if value.shape != shape:
        extra = " (inputs, outputs)" if name == "W" else ""
        raise ExerciseError(f"{name} from {label} has shape {value.shape}, expected {shape}"
                            f"{extra}.", hint)
    if value.dtype.kind not in "biuf":
        raise ExerciseError(f"{name} from {label} has dtype {value.dtype}, expected real "
                            "numbers.", hint)
    return value


def _judge_collapse(case: Case, obs, expected) -> None:
    with np.errstate(all="ignore"):  # (the judge's own arithmetic on huge layers warns not)
        _judge_collapse_values(case, obs, expected)


def _judge_collapse_values(case: Case, obs, expected) -> None:
    weights, biases = case.args
    sizes = case.note["sizes"]
    label = f"{_COLLAPSE_WHAT} for layer sizes {sizes}"
    result = obs.result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        length = f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
        raise ExerciseError(
            f"{_COLLAPSE_WHAT} should return a pair (W, b), got {_kind(result)}{length}.",
            "return the weight matrix and the bias vector of the single layer, in that order.")
    W_ref, b_ref = expected["W"], expected["b"]
    W_got, b_got = result
    if (isinstance(W_got, np.ndarray) and W_got.shape == W_ref.T.shape
            and W_got.shape != W_ref.shape):
        raise ExerciseError(f"W from {label} has shape {W_got.shape}, expected {W_ref.shape} "
                            "(inputs, outputs).", _ORDER_HINT)
    W_got = _part(W_got, "W", W_ref.shape, label, _ORDER_HINT)
    dtype = np.result_type(*weights, *biases)
    exact = expected.get("exact")
    if exact is not None:
        # Integer layers: the exact whole numbers, whatever dtype holds them (a float64
        # result passes only while it holds them exactly, up to 2**53).
        _exact_part(_as_whole(W_got), exact["W"], "W", label, _EXACT_HINT)
        b_got = _part(result[1], "b", exact["b"].shape, label,
                      "b has one entry per output unit, shape (d_out,), like every bias.")
        _exact_part(_as_whole(b_got), exact["b"], "b", label, _EXACT_HINT)
        return
    rtol = _collapse_rounding(weights, biases)
    # W is a product of the weight matrices alone, which numpy computes in their own dtype
    # (float32 weights with float64 biases: W in float32, b in float64).
    w_dtype = np.result_type(*weights)
    rtol_W = max(rtol, _collapse_rounding(weights, biases, w_dtype))
    # W is as precise as that product, against the size of its own terms (not the biases':
    # an answer that reads W off the stack's outputs, f(I) - f(0), loses digits to them).
    spoiled = ~np.isfinite(W_got.astype(float)) & np.isfinite(W_ref)
    if np.any(spoiled) and all(np.all(np.isfinite(np.asarray(w, float))) for w in weights):
        index = tuple(int(i) for i in np.argwhere(spoiled)[0])
        raise ExerciseError(
            f"W from {label} holds {float(W_got[index])!r} at index {index}, where numpy's "
            f"product of the weight matrices gives {float(W_ref[index])!r}: "
            + ("the biases hold inf or NaN, but W is the product of the weights alone, which "
               "are finite here." if not all(np.all(np.isfinite(np.asarray(v, float)))
                                            for v in biases) else
               "the weights are finite and so is their product here."),
            "W is the product of the weight matrices alone: a bias (however large, inf or "
            "NaN) does not enter it.")
    W_got, W_ref, W_scale = _collapse_beyond(
        W_got, W_ref, expected["W_scale"], "W", label, w_dtype, case.args)
    diff = _scaled_gap(W_got, W_ref, W_scale, rtol_W)
    square = all(w.shape[0] == w.shape[1] for w in weights)
    if diff is not None:
        reverse = (np.linalg.multi_dot([np.asarray(w, float) for w in weights[::-1]])
                   if len(weights) > 1 and square else None)
        # (atol against the product's own size: tiny values, or 0 for them, are not alike)
        if reverse is not None and np.allclose(
                W_got.astype(float), reverse,
                atol=1e-9 * float(np.nanmax(np.abs(reverse), initial=0.0))):
            raise ExerciseError(f"W from {label} is the product of the weight matrices in "
                                "reverse order (last layer first).", _ORDER_HINT)
        index, n_bad = diff
        shown, wanted = pair(W_got[index], W_ref[index])
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")    # (an all-NaN difference)
            off = np.abs(W_got.astype(float) - W_ref)
            bad = ~(off <= rtol_W * W_scale)
            zeroed = _zeroed(W_got, W_ref, bad)
            # (in the case's memory layout, in the stack's dtype or in float64)
            read_off = any(np.nanmax(np.abs(W_got.astype(float) - mistake)) <= 0.25 * np.nanmax(
                off) for mistake in (_read_off(*case.inputs()[0], dtype=t) for t in (None, float))
                if mistake is not None)
            if read_off and zeroed:
                # (both fit: the values f(I) - f(0) loses to the biases come out as 0)
                zeroed += (" Or W was read off the stack's outputs, f(I) - f(0), whose biases "
                           "swamp these small values: W is the product of the weights alone.")
            elif read_off:
                largest = max(float(np.max(np.abs(np.asarray(v, float)), initial=0.0))
                              for v in biases)
                raise ExerciseError(
                    f"W from {label} differs from the answer in {n_bad} of {W_ref.size} "
                    f"values; the largest difference is at index {index}: got {shown}, "
                    f"expected {wanted}. It is the stack's outputs at the unit vectors minus "
                    "its output at 0, f(I) - f(0): those outputs include the biases (here up "
                    f"to {largest:.3g} in size), and the subtraction loses W's digits to them "
                    "(an inf or NaN bias makes it NaN).",
                    "W is the product of the weight matrices alone: multiply them, and keep "
                    "the biases out of it.")
        note = (zeroed or _integer_cast_note(result[0], w_dtype)
                or _precision_note(W_got, W_ref, w_dtype, rtol_W)
                or _cast_note(result[0], w_dtype))
        raise ExerciseError(f"W from {label} differs from the answer in {n_bad} of "
                            f"{W_ref.size} values; the largest difference is at index {index}: "
                            f"got {shown}, expected {wanted}." + note,
                            _STACK_PRECISION_HINT if note else _ORDER_HINT)
    b_got = _part(b_got, "b", b_ref.shape, label,
                  "b has one entry per output unit, shape (d_out,), like every bias.")
    b_got, b_ref, b_scale = _collapse_beyond(b_got, b_ref, expected["b_scale"], "b", label, dtype,
                                             case.args)
    diff = _scaled_gap(b_got, b_ref, b_scale, rtol)
    if diff is None:
        return
    if len(biases) > 1 and len({np.shape(v) for v in biases}) == 1 and np.allclose(
            b_got.astype(float), np.sum([np.asarray(v, float) for v in biases], axis=0)):
        raise ExerciseError(f"b from {label} is the sum of the biases, but the biases of the "
                            "earlier layers also pass through the weight matrices after them.",
                            _BIAS_HINT)
    index, n_bad = diff
    shown, wanted = pair(b_got[index], b_ref[index])
    with np.errstate(all="ignore"):
        bad = ~(np.abs(b_got.astype(float) - b_ref) <= rtol * b_scale)
    raise ExerciseError(f"b from {label} differs from the answer in {n_bad} of {b_ref.size} "
                        f"values; the largest difference is at index {index[0]}: got {shown}, "
                        f"expected {wanted}." + (note := _zeroed(b_got, b_ref, bad)
                                                 or _integer_cast_note(result[1], dtype)
                                                 or _precision_note(b_got, b_ref, dtype, rtol)
                                                 or _cast_note(result[1], dtype)),
                        _STACK_PRECISION_HINT if note else _BIAS_HINT)


def _read_off(weights, biases, dtype=None):
    """W read off the stack's outputs, f(I) - f(0), in ``dtype`` or the stack's float dtype
    (a known mistake: the biases enter the outputs and cancel in the subtraction), or None
    for integer stacks."""
    if np.result_type(*weights, *biases).kind != "f":
        return None
    dtype = np.result_type(*weights, *biases) if dtype is None else np.dtype(dtype)

    def forward(H):
        for W_l, b_l in zip(weights, biases):
            H = H @ W_l + b_l
        return H

    with np.errstate(all="ignore"):
        d = np.shape(weights[0])[0]
        return (forward(np.eye(d, dtype=dtype)) - forward(np.zeros((1, d), dtype))).astype(float)


def _collapse_beyond(got: np.ndarray, ref: np.ndarray, scale: np.ndarray, name: str,
                     label: str, dtype, stack):
    """The entries numpy's arithmetic on the layers takes beyond the dtype's range (inf, or
    NaN for inf - inf), or makes NaN from a NaN in the layers: the answer holds what some
    order of the arithmetic gives there. A NaN in the layers (the check puts it in the last
    weight matrix) gives NaN in any order. For two layers, each entry is one sum of products:
    an inf of one sign where every product beyond the range has that sign, and inf, -inf or
    NaN where they have both signs (see :func:`_judge_beyond`). Deeper stacks: inf, -inf or
    NaN (the order of the products decides). Returns ``got``, ``ref`` and ``scale`` with
    these entries set to 0, to compare the others as usual."""
    beyond = ~np.isfinite(ref)
    if not np.any(beyond):
        return got, ref, scale
    value = got.astype(float)
    weights, biases = stack
    layers = [np.asarray(a, float) for a in (*weights, *biases)]
    if any(np.isnan(a).any() for a in layers):
        # The entries a NaN of the layers reaches are NaN in any order; the others beyond the
        # range (from inf - inf or inf * 0) may be inf, -inf or NaN, as the order decides.
        reached = _nan_reached(weights, biases, name)
        wrong = beyond & reached & ~np.isnan(value)
        if np.any(wrong):
            index = tuple(int(i) for i in np.argwhere(wrong)[0])
            raise ExerciseError(
                f"{name} from {label} holds {float(value[index])!r} at index {index}, where "
                f"numpy's arithmetic on these layers gives {float(ref[index])!r}: a NaN in the "
                "layers makes every sum it enters NaN, in any order of the arithmetic.",
                "keep inf and NaN where numpy's arithmetic gives them: a result made finite "
                "(np.nan_to_num, a clip, NaN set to 0) or another value hides them.")
    elif len(weights) == 2 and all(np.isfinite(a).all() for a in layers):
        W1, W2 = np.asarray(weights[0]), np.asarray(weights[1])
        for index in np.argwhere(beyond)[:20]:
            index = tuple(int(i) for i in index)
            j = index[-1]
            left = W1[index[0]] if name == "W" else np.asarray(biases[0])
            bias = 0 if name == "W" else np.asarray(biases[1])[j]
            both, exact = _beyond_range(zip(left, W2[:, j]), bias, dtype)
            _judge_beyond(f"{name} from {label}", f"index {index}", float(value[index]),
                          float(ref[index]), both, exact, dtype)
    wrong = beyond & np.isfinite(value)
    if np.any(wrong):
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        raise ExerciseError(
            f"{name} from {label} holds {float(value[index])!r} at index {index}, where numpy's "
            f"arithmetic on these layers gives {float(ref[index])!r}: the product leaves "
            f"{np.dtype(dtype)}'s range (its largest value is about "
            f"{float(np.finfo(dtype).max):.3g}), and inf, -inf or NaN (for inf - inf, by the "
            "order of the products) is kept there.",
            "keep inf and NaN where numpy's arithmetic gives them: a result made finite "
            "(np.nan_to_num, a clip, NaN set to 0) hides an overflow.")
    return (np.where(beyond, 0.0, value), np.where(beyond, 0.0, ref),
            np.where(beyond, 0.0, scale))


def _nan_reached(weights, biases, name: str) -> np.ndarray:
    """Where a NaN in the layers makes W (or b) NaN, whatever the order of the arithmetic:
    every product W @ W_next sums over all k, so a NaN in a row of the left factor, or in a
    column of the right one, reaches its whole row, or column, of the product."""
    W = np.isnan(np.asarray(weights[0], float))
    b = np.isnan(np.asarray(biases[0], float))
    for W_next, b_next in zip(weights[1:], biases[1:]):
        nan_next = np.isnan(np.asarray(W_next, float))
        W = W.any(axis=1, keepdims=True) | nan_next.any(axis=0, keepdims=True)
        b = (b.any() | nan_next.any(axis=0)) | np.isnan(np.asarray(b_next, float))
    return W if name == "W" else b


def _integer_cast_note(got, dtype) -> str:
    """For an integer result where numpy's arithmetic on the layers gives floats: say that a
    cast to integers cuts the fractions off (before any note on precision)."""
    if getattr(got, "dtype", np.dtype(float)).kind in "iu" and np.dtype(dtype).kind == "f":
        return _cast_note(got, dtype)
    return ""


def _cast_note(got, dtype) -> str:
    """For a result in a dtype that cannot hold what numpy's arithmetic on the layers gives
    (``dtype``): say that a cast to it rounds."""
    got_dtype = getattr(got, "dtype", None)
    if got_dtype is None or got_dtype == np.dtype(dtype) or np.can_cast(dtype, got_dtype):
        return ""
    return (f" It has dtype {got_dtype}, where numpy's arithmetic on these layers gives "
            f"{np.dtype(dtype)}: a cast to {got_dtype} (one layer's dtype, say) on the way "
            "rounds the values.")


_EXACT_HINT = ("multiply integer layers as integers (numpy's @ on int64 arrays is exact); a "
               "float in any step, even float64, rounds whole numbers beyond 2**53.")


def _as_whole(got: np.ndarray) -> np.ndarray:
    """A result for integer layers as exact int64 values: integers as they are, floats that
    hold whole numbers converted exactly; any other float is kept (it differs)."""
    if got.dtype.kind in "iu":
        return got
    got = got.astype(np.float64)  # (float16 and float32 hold fewer whole numbers still)
    with np.errstate(all="ignore"):
        whole = np.isfinite(got) & (got == np.round(got)) & (np.abs(got) < 2.0**63)
    if not np.all(whole):
        return got
    return got.astype(np.int64)


def _exact_part(got: np.ndarray, exact: np.ndarray, name: str, label: str, hint: str) -> None:
    """Integer layers collapse to exact whole numbers: compared as integers, not as floats."""
    diff = _integer_difference(got, exact)
    if diff is None:
        return
    index, n_bad = diff
    shown = int(got[index]) if got.dtype.kind in "iu" else repr(float(got[index]))
    capped = _capped(got, exact) if got.dtype.kind in "iu" else ""
    raise ExerciseError(
        f"{name} from {label} differs from the answer in {n_bad} of "
        f"{exact.size} values; the first difference is at index {index}: got {shown}, "
        f"expected {int(exact[index])}. " + (capped or (
            "Integer layers give exact whole numbers (int64): some step went through floats "
            "(float64 holds every whole number only up to 2**53) or rounded.")), hint)


def _precision_note(got: np.ndarray, expected: np.ndarray, dtype, rtol: float) -> str:
    """For values close to the answer but not as close as the stack's dtype allows: say so."""
    with np.errstate(all="ignore"):  # (against the largest value too: a sum near 0 rounds
        # by float16's or float32's step of the terms, not of itself)
        close = np.allclose(got.astype(float), expected, rtol=1e-3,
                            atol=1e-3 * float(np.max(np.abs(expected), initial=0.0)))
    if not close:
        return ""
    if np.dtype(dtype).kind != "f":
        return (" Integer layers give exact whole numbers: some step went through floats "
                "(float32 holds every whole number only up to 2**24, float64 up to 2**53) or "
                "rounded; keep integers as integers.")
    return (f" That is more than {np.dtype(dtype)} rounding allows (a relative {rtol:.1e} of "
            f"the terms' size; numpy's arithmetic on these layers gives {np.dtype(dtype)}): "
            "some step went through a lower precision, or a cast.")


COLLAPSE = Spec(
    "ch01.collapse", check="ch01.check_collapse", grade_id="ch01-collapse-check",
    what=_COLLAPSE_WHAT, answers=("collapse",), draw=_draw_collapse,
    reference=_collapse_reference, judge=_judge_collapse, forbidden=Forbidden(()),
    twins=2,
    passed="one layer (W, b) reproduces every stack of linear layers tried, from a single "
           "layer to stacks of more than 40 layers: depth without an activation adds nothing.")


@exercise_check
def check_collapse(collapse, *, seed: int | None = None) -> None:
    """Check ``collapse(weights, biases)`` returns the single (W, b) of a linear stack."""
    COLLAPSE.check(collapse, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 4: the smallest hidden layer that solves XOR (a search over widths)
# --------------------------------------------------------------------------------------
# The exercise is the search: the student scores each width with xor_width_accuracy, which
# trains the recipe's network. While the check runs a search, xor_width_accuracy serves the
# accuracies of a table the case drew instead of training: any pattern of accuracies can be
# tried (exactly 0.95, drops, a higher score later), fast and the same on every run.

_WIDTH_WHAT = "`smallest_xor_width(X, y, max_width)`"
_TARGET = XOR_RECIPE["target"]
_SCORE = "ch01.xor_width_accuracy(X, y, h)"
_WIDTH_HINT = (f"call {_SCORE} for h = 1, 2, ..., max_width in turn and return the first h whose "
               f"accuracy is at least {_TARGET} (exactly {_TARGET} counts), or None. Accuracy "
               "need not grow with h: a low score at one width says nothing about the next.")
# The widest search most draws hold (one draw in four holds a far wider one). A search is
# stopped after twice as many calls as its table has widths, and 300 more: a loop that never
# ends (a search may ask each width twice, say to print it).
WIDEST = 1100
# Python calls a search may make per width (a right one makes about 10, 30 when it converts
# X at each call) before the check stops it as doing far more than searching.
_SEARCH_WORK = 200
# The recipe trains inside xor_width_accuracy; while the check serves its table nothing
# trains there, so any of these running is the answer's own training.
_OWN_TRAINING = Forbidden(("helpers.nn:MLP.fit", "helpers.nn:MLP.loss_and_grads"),
                          why="the search scores each width with xor_width_accuracy")
# Accuracies just below, at and just above the target: what rounding, a tolerance, a strict
# comparison or a slightly different threshold gets wrong.
_JUST_BELOW = (0.9499, 0.949999999, _TARGET - 1e-12, float(np.nextafter(_TARGET, 0.0)))
_JUST_ABOVE = 0.95000001


def _training_data(X, y):
    """(X, y) as the recipe's network trains on them (X a float array, integers as float64 and
    float16 as float32; y float labels of shape (n,)), or None if it cannot train on them."""
    try:
        X = activations.as_float_array(X, "X")
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            return None
        y = y.astype(float)
        return X, (y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y)
    except Exception:  # anything the network could not train on: not the check's data
        return None


def _data_key(X, y) -> str | None:
    """A digest of what the recipe would train on: equal for a copy of (X, y), for X as a
    list or y as floats; different for any change that trains another network."""
    found = _training_data(X, y)
    if found is None:
        return None
    digest = hashlib.sha256()
    for a in found:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _change(X0, y0, X, y) -> str:
    """How (X, y) differs from the (X0, y0) the search was given, for a message."""
    found = _training_data(X, y)
    if found is None:
        return "an X or y that is not an array of numbers"
    for name, given, now, passed in (("X", X0, found[0], X), ("y", y0.astype(float), found[1],
                                                                y)):
        if now.dtype != given.dtype:
            return f"{name} as {np.asarray(passed).dtype} (it was given {given.dtype})"
        if now.shape != given.shape:
            return f"{name} of shape {now.shape} (it was given {given.shape})"
        if not np.array_equal(now, given):
            gap = float(np.max(np.abs(now - given)))
            return f"{name} with other values (a change of up to {gap:.3g})"
    return "other data"


class _Served:
    """The accuracies the check serves while a student's search runs: one per width, for the
    X and y the search was given; what the search asked for, in order."""

    def __init__(self, X, y, accuracies, numpy_floats: bool):
        self.X, self.y = np.array(X), np.array(y)
        self.key = _data_key(X, y)
        # The arrays handed to the search, and their bytes: a call on these very arrays,
        # unchanged, needs no digest (a search of a thousand widths stays fast under the
        # check's tracer, which sees every call a digest makes).
        self.given = (X, y, X.dtype, y.dtype, X.shape, y.shape, bytes(X.data), bytes(y.data))
        self.accuracies = [float(a) for a in accuracies]
        self.widths = len(self.accuracies)
        # (calls after which the search is stopped: a loop that never ends)
        self.max_calls = 2 * max(self.widths, WIDEST) + 300
        self.numpy_floats = bool(numpy_floats)
        self.asked: list[int] = []
        self.foreign: list[str] = []
        self.calls = 0
        self.max_width: float = float("inf")
        self.past: int | None = None     # the first width asked past max_width, of all calls

    def same(self, X, y) -> bool:
        """Whether X and y are the very arrays the search was given, unchanged."""
        X0, y0, dx, dy, sx, sy, bx, by = self.given
        # (no builtin function or method called: the check's call tracer sees each call, and
        # a search of a thousand widths asks a thousand times)
        return (X is X0 and y is y0 and X.dtype == dx and y.dtype == dy and X.shape == sx
                and y.shape == sy and bytes(X.data) == bx and bytes(y.data) == by)

    def accuracy(self, X, y, width: int):
        self.calls += 1
        if self.calls > self.max_calls:
            raise RuntimeError(f"xor_width_accuracy was called {self.max_calls} times in one "
                               "search: a loop that never ends?")
        if not self.same(X, y) and _data_key(X, y) != self.key:
            change = _change(self.X, self.y, X, y)
            self.foreign.append(change)
            raise ValueError(f"xor_width_accuracy(X, y, h) was called with {change}; during "
                             "the check it scores only the X and y the search was given")
        self.asked += [width]
        if width > self.max_width and self.past is None:
            self.past = width
        # Past the table (far past max_width): what a network that learned nothing scores.
        value = self.accuracies[width - 1] if width <= self.widths else 0.5
        return np.float64(value) if self.numpy_floats else value


# The table of the search being checked, while it runs (a list, so that a search calling
# itself or the check is served by the innermost). A module-level value, not a context
# variable, so that a search that scores widths in threads (a thread pool) is served too.
_SERVING: list[_Served] = []


def xor_width_accuracy(X, y, width) -> float:
    """Training accuracy of the XOR_RECIPE network with ``width`` hidden units on (X, y).

    While the check of Exercise 4 runs a search, it returns the accuracy the check's table
    gives for ``width`` instead of training, under any name it is called by, for the X and y
    the check gave that search (a copy too); for other data it raises ValueError.
    """
    if _SERVING and type(width) is int and width >= 1:
        # The very arrays the search was given, unchanged: served here, with no call of a
        # function of its own (the check's call tracer sees each one, and a search of a
        # thousand widths asks a thousand times). Anything else: by _Served.accuracy.
        served = _SERVING[-1]
        X0, y0, dx, dy, sx, sy, bx, by = served.given
        if (served.calls < served.max_calls and X is X0 and y is y0 and X.dtype == dx
                and y.dtype == dy and X.shape == sx and y.shape == sy and bytes(X.data) == bx
                and bytes(y.data) == by):
            served.calls += 1
            served.asked += [width]
            if width > served.max_width and served.past is None:
                served.past = width
            value = served.accuracies[width - 1] if width <= served.widths else 0.5
            return np.float64(value) if served.numpy_floats else value
        return served.accuracy(X, y, width)
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be a whole number of hidden units, at least 1; got "
                         f"{width!r}")
    if _SERVING:
        return _SERVING[-1].accuracy(X, y, int(width))
    r = XOR_RECIPE
    net = nn.MLP([2, int(width), 1], activation=r["activation"], output="sigmoid",
                 seed=r["seed"])
    net.fit(X, y, loss="bce", epochs=r["epochs"], lr=r["lr"], optimizer=r["optimizer"],
            diagnostics=False)
    return net.accuracy(X, y)


@driver("ch01.width_search")
def _run_search(answers, X, y, max_width, accuracies, numpy_floats):
    """Run the search with xor_width_accuracy serving the case's table; record the widths it
    asked for, its calls on other data, any training of its own, and changes to X and y."""
    served = _Served(X, y, accuracies, numpy_floats)
    served.max_width = max_width
    _SERVING.append(served)
    result = None
    try:
        # A search does a few calls per width; one that trains networks of its own does
        # thousands per network, and is stopped after a dozen or so (not a thousand networks).
        with tracing(_OWN_TRAINING, work_limit=_SEARCH_WORK * (max_width + 1) + 100_000) \
                as trace:
            result = call_armed(trace, answers[0], X, y, max_width)
    except Stopped:
        pass
    finally:
        _SERVING.remove(served)
    mutated = [f"`{name}`" for name, now, before in (("X", X, served.X), ("y", y, served.y))
               if not (isinstance(now, np.ndarray) and now.dtype == before.dtype
                       and now.shape == before.shape and np.array_equal(now, before))]
    return {"result": result, "asked": served.asked[:100], "past": served.past,
            "last": served.asked[-1] if served.asked else None, "count": len(served.asked),
            "calls": served.calls,
            "foreign": served.foreign[:3], "trained": trace.forbidden[:3],
            "complete": trace.complete, "mutated": mutated, "stopped": trace.stopped,
            "work": trace.calls + trace.lines}


def _width_data(rng):
    """A real XOR or moons sample, so that the data a search sees looks right."""
    n, seed = int(rng.integers(24, 81)), int(rng.integers(2**31))
    kind = ("xor", "moons")[int(rng.integers(2))]
    X, y = getattr(data, kind)(n, seed=seed)
    return X, y, f"data.{kind}({n}, seed={seed})"


def _draw_width(rng) -> list[Case]:
    # Failures from 0 to 0.93 (one in four below chance, some exactly 0: a network can score
    # worse than chance), successes from 0.96 to 1 (one in three a perfect 1.0, which the
    # chapter's own XOR gives).
    def fail(k=1):
        return [0.0 if r < 0.05 else round(float(rng.uniform(0.0, 0.5) if r < 0.25
                                                 else rng.uniform(0.5, 0.93)), 3)
                for r in rng.random(k)]

    def success(k=1):
        return [1.0 if r < 1 / 3 else round(float(rng.uniform(0.96, 1.0)), 3)
                for r in rng.random(k)]

    def near():
        """A score just below 0.95: one of _JUST_BELOW, or at a random distance from 1e-2
        down to the float just below 0.95."""
        if rng.random() < 0.5:
            return float(rng.choice(_JUST_BELOW))
        return min(_TARGET - 10.0 ** rng.uniform(-17.0, -2.0), _JUST_BELOW[-1])

    patterns = []
    patterns.append(("width 1 scores exactly 0.95", [_TARGET]))
    patterns.append(("width 1 scores 0.95 - 1e-12, just below 0.95", [_TARGET - 1e-12]))
    patterns.append(("width 1 scores the float just below 0.95 (0.95 less one unit in its "
                     "last place), width 2 exactly 0.95", [_JUST_BELOW[-1], _TARGET]))
    m = int(rng.integers(4, 6))
    patterns.append(("scores just below 0.95, then exactly 0.95",
                     [float(v) for v in rng.permutation(_JUST_BELOW)] + [_TARGET]
                     + fail(m - 4)))
    m, k = int(rng.integers(3, 6)), int(rng.integers(2, 4))
    patterns.append(("a first success of 0.95000001, just above 0.95",
                     fail(k - 2) + [near(), _JUST_ABOVE] + success(m - k)))
    m, k = int(rng.integers(5, 7)), int(rng.integers(3, 5))
    dropping = rng.choice(np.arange(500, 931), k - 1, replace=False)    # no two the same
    patterns.append(("scores that drop before the first success",
                     [float(v) / 1000 for v in np.sort(dropping)[::-1]] + success(1)
                     + fail(m - k)))
    m = int(rng.integers(7, 9))
    patterns.append(("an early success, failures in the middle, a higher score at the end",
                     fail() + [round(float(rng.uniform(0.951, 0.97)), 3)] + fail(m - 3)
                     + [round(float(rng.uniform(0.98, 1.0)), 3)]))
    m = int(rng.integers(3, 7))
    scores = fail(m)
    scores[int(rng.integers(m))] = 0.949999999
    patterns.append(("no width up to max_width reaches 0.95", scores))
    m = int(rng.integers(3, 6))
    patterns.append(("only max_width itself reaches 0.95", fail(m - 1) + success(1)))
    # Long searches: a search that gives up after a run of failures (or of widths with no new
    # best score), or that stops at a width of its own choosing, misses these.
    k = int(rng.integers(8, 12))
    falling = np.sort(rng.choice(np.arange(500, 931), k - 1, replace=False))[::-1]
    patterns.append(("seven or more failures in a row, each lower than the last, then a "
                     "success", [float(v) / 1000 for v in falling] + success(1)
                     + fail(int(rng.integers(0, 4)))))
    m = int(rng.integers(17, 25))
    patterns.append(("a wide search where only max_width itself reaches 0.95",
                     fail(m - 1) + success(1)))
    # A perfect score as the first success, after scores near 0: a search that takes 1.0 for
    # a glitch, or a score near 0 for a flipped classifier, misses it.
    low = [0.0, round(float(rng.uniform(0.0, 0.05)), 3), 0.05] + fail(int(rng.integers(3)))
    patterns.append(("a first success of exactly 1.0, after scores from 0 to 0.05",
                     [float(v) for v in rng.permutation(low)] + [1.0]
                     + fail(int(rng.integers(3)))))
    # Beyond a thousand widths: a search capped at 300 or 1000 widths, or one that calls
    # itself once per width (Python stops at about 1000 nested calls), misses it.
    m = int(rng.integers(WIDEST - 99, WIDEST + 1))
    if rng.random() < 1 / 6:     # (one draw in six: far wider, up to 5,500 widths)
        m = int(_log_uniform(rng, WIDEST + 1, 5 * WIDEST))
    patterns.append(("a very wide search where only max_width itself reaches 0.95",
                     fail(m - 1) + success(1)))
    m = int(rng.integers(WIDEST - 99, WIDEST + 1))
    patterns.append(("a very wide search where no width up to max_width reaches 0.95 (the "
                     "next width does)", fail(m)))
    # No width to try at all: the answer is None, and no network is trained.
    patterns.append(("no width to try (max_width = 0)", []))
    # Chance-level and repeated scores before the first success: a search that gives up at
    # chance (0.5, a network that learned nothing) or on a score it has seen misses these.
    patterns.append(("chance-level scores (exactly 0.5), repeated, then a success",
                     [0.5, 0.5] + fail() + [0.5] + success(1) + fail(int(rng.integers(0, 3)))))
    repeated = fail()
    patterns.append(("the same failing score three times, then a success",
                     repeated * 3 + success(1)))
    for _ in range(2):
        m = int(rng.integers(1, 9))
        scores = [float(rng.choice([_TARGET, _JUST_ABOVE] + success())) if rng.random() < 0.3
                  else (near() if rng.random() < 0.3 else fail()[0]) for _ in range(m)]
        patterns.append(("random scores", scores))
    numpy_floats = bool(rng.integers(2))
    cases = []
    for label, scores in patterns:
        m = len(scores)
        # Past max_width a success at once, then anything: a search that goes on finds it.
        table = scores + success(1) + [float(v) for v in rng.choice(fail(3) + success(2),
                                                                    m + 1)]
        X, y, name = _width_data(rng)
        numpy_floats = not numpy_floats          # Python and numpy floats, in turn
        kind = "numpy float64" if numpy_floats else "Python float"
        cases.append(Case(f"{label}, max_width={m}, on {name} (accuracies from the check's "
                          f"table, as {kind}s)",
                          (X, y, m, table, numpy_floats), driver="ch01.width_search"))
    # The X of an earlier case again, with the other labels: another training problem, with
    # a table of its own (a success at width 1, where the earlier case fails). A search that
    # remembers scores by X alone answers with the earlier case's.
    earlier = next(c for c in cases if c.label.startswith("scores that drop"))
    X, y, m, table, _ = earlier.args
    scores = success(1) + fail(m - 1)
    numpy_floats = not numpy_floats
    cases.append(Case(f"the X of the case with scores that drop again, with the other labels "
                      f"(1 - y) and a success at width 1, max_width={m}",
                      (X, 1 - y, m, scores + success(1) + fail(m + 1), numpy_floats),
                      driver="ch01.width_search"))
    return cases


def _width_reference(case: Case):
    """The first width up to max_width whose served accuracy reaches the target, or None."""
    _, _, max_width, table, _ = case.args
    return next((h for h in range(1, max_width + 1) if table[h - 1] >= _TARGET), None)


def _score(value: float) -> str:
    """An accuracy for a message: to 12 digits, or every digit near 0.95 (where 12 digits
    would show a score just below it as 0.95 itself)."""
    value = float(value)
    return repr(value) if value != _TARGET and abs(value - _TARGET) < 1e-9 else f"{value:.12g}"


def _widths(asked: list[int], last=None, count=None) -> str:
    if not asked:
        return "it asked xor_width_accuracy for no width"
    shown = ", ".join(map(str, asked[:12])) + (", ..." if len(asked) > 12 else "")
    if type(last) is int and type(count) is int and count > 12:
        shown += f", {last} ({count} widths in all)"
    twice = sorted({h for h in asked if asked.count(h) > 1})
    again = f" (width {twice[0]} more than once)" if twice else ""
    return f"it asked for the widths {shown}{again}"


def _judge_width(case: Case, obs, expected) -> None:
    X, y, max_width, table, _ = case.args
    what = f"{_WIDTH_WHAT} with max_width={max_width}"
    record = obs.result
    if not (isinstance(record, dict) and "result" in record):
        raise ExerciseError(f"the check found no record of {what}'s search for this case.",
                            "run the answer cell, then the check cell again.")
    asked = [h for h in record.get("asked") or [] if type(h) is int]
    if record.get("mutated"):
        raise ExerciseError(f"{what} modified its input {str(record['mutated'][0])[:20]} in "
                            "place.", "leave X and y as they are: the search only passes them "
                            "on to xor_width_accuracy.")
    if record.get("complete") is not True:
        raise ExerciseError(f"{what} replaced the check's call tracer (sys.setprofile) while it "
                            "ran, so the check cannot tell what it called.",
                            "leave the interpreter's tracing alone in an answer.")
    if record.get("trained"):
        raise ExerciseError(
            f"{what} trains networks itself (`{str(record['trained'][0])[:60]}` ran), where "
            f"the task asks it to score each width with {_SCORE}.",
            "the exercise is the search: xor_width_accuracy trains the recipe's network for "
            "you (during the check it serves accuracies from the check's table instead), and "
            "the search trains nothing of its own.")
    if record.get("stopped"):
        raise ExerciseError(
            f"{what} was stopped after {record.get('work')} Python calls, far more than a "
            f"search over {max_width} widths needs (a few calls per width).",
            f"score each width with one call of {_SCORE}, in a loop over the widths: the "
            "search itself does little else.")
    if record.get("foreign"):
        raise ExerciseError(
            f"{what} called xor_width_accuracy with {str(record['foreign'][0])[:100]}, not the "
            "X and y it was given.",
            "pass X and y on unchanged: the recipe trains on exactly the data it gets, and a "
            "converted or changed X trains another network.")
    got = record["result"]

    def served() -> str:
        upto = max([max_width] + [h for h in asked if h <= len(table)])
        shown = list(range(1, upto + 1))
        if upto > 24:     # a wide search: its first widths and its last, not a thousand
            shown = shown[:12] + [0] + shown[-6:]
        return "xor_width_accuracy gave " + ", ".join(
            f"h={h}: {_score(table[h - 1])}" if h else "..." for h in shown)

    if isinstance(got, (float, np.floating)) and 0 < got <= 1 and not float(got).is_integer():
        raise ExerciseError(f"{what} returned {float(got):.12g}, which looks like an accuracy, "
                            "not a width.",
                            "return the number of hidden units h, not the accuracy it reached.")
    if isinstance(got, (list, tuple, np.ndarray)):
        shown = show(got) if isinstance(got, np.ndarray) else f"{got!r:.40}"
        raise ExerciseError(f"{what} should return one width (an int) or None, got "
                            f"{_kind(got)} {shown}.",
                            "return the first width that reaches the target, not all of them.")
    if got is not None and (isinstance(got, (bool, np.bool_))
                            or not isinstance(got, (int, np.integer))):
        if isinstance(got, (float, np.floating)) and float(got).is_integer():
            raise ExerciseError(f"{what} returned the float {float(got)!r}, expected an int.",
                                "a number of hidden units is a whole number: return h itself.")
        raise ExerciseError(f"{what} should return a width (an int) or None, got "
                            f"{_kind(got)} {got!r:.40}.", "return h, the number of hidden units.")
    h = None if got is None else int(got)
    past = [w for w in asked if w > max_width]
    if not past and type(record.get("past")) is int:   # (asked after the first 100 calls)
        past = [record["past"]]
    beyond = f" (width {past[0]} is past max_width={max_width})" if past else ""
    if h != expected:
        if h is None:
            notes = []
            if table[expected - 1] == _TARGET:
                notes.append(f"exactly {_TARGET}, which is 'at least {_TARGET}'")
            if expected == max_width:
                notes.append("h = max_width itself")
            reason = (f"h={expected} reaches {_score(table[expected - 1])}"
                      + (f" ({'; '.join(notes)})" if notes else ""))
            problem = f"returned None, but {reason}"
        elif expected is None:
            problem = (f"returned {h}, but no width up to {max_width} reaches {_TARGET}: the "
                       "answer is None")
        elif h > max_width:
            problem = (f"returned {h}, expected {expected}: h={h} is past max_width = "
                       f"{max_width}")
        elif h < 1:
            problem = f"returned {h}, expected {expected}: the widths to try start at 1"
        elif table[h - 1] < _TARGET:
            problem = (f"returned {h}, expected {expected}: h={h} scores "
                       f"{_score(table[h - 1])}, below {_TARGET}")
        else:
            problem = (f"returned {h}, expected {expected}: h={expected} already reaches "
                       f"{_score(table[expected - 1])}, and the first width that does is the "
                       "answer")
        said = _widths(asked, record.get("last"), record.get("count"))
        raise ExerciseError(f"{what} {problem}. {said[0].upper()}{said[1:]}{beyond}; "
                            f"{served()}.",
                            _WIDTH_HINT if asked else
                            f"score each width with {_SCORE}: during the check it serves the "
                            "accuracies above from the check's table.")
    if past:
        raise ExerciseError(
            f"{what} returned the right width, but asked xor_width_accuracy for width "
            f"{past[0]}, past max_width={max_width}; {_widths(asked)}.",
            "max_width is the widest network the search may train: stop there.")


def _explain_width_error(case: Case, obs) -> str | None:
    if "width must be a whole number" in obs.error:
        return "the widths to try are h = 1, 2, ..., max_width: a hidden layer has at least 1 unit."
    if "xor_width_accuracy(X, y, h) was called with" in obs.error:
        return ("pass X and y on unchanged: the recipe trains on exactly the data it gets, and "
                "a converted or changed X trains another network.")
    if "RecursionError" in obs.error:
        return ("a search that calls itself once per width goes one level deeper at each, and "
                "Python stops at about 1000 levels: loop over the widths instead.")
    if "a loop that never ends" in obs.error:
        return "stop at the first width that reaches the target, or after max_width."
    return None


XOR_WIDTH = Spec(
    "ch01.xor_width", check="ch01.check_smallest_xor_width", grade_id="ch01-xor-width-check",
    what=_WIDTH_WHAT, answers=("smallest_xor_width",), draw=_draw_width,
    reference_case=_width_reference, judge=_judge_width, explain_error=_explain_width_error,
    passed="`smallest_xor_width(X, y, max_width)` returns the first width whose accuracy from "
           "xor_width_accuracy reaches 0.95 (exactly 0.95 counts), and None when no width up "
           "to max_width does, asking for no width past max_width.")


@exercise_check
def check_smallest_xor_width(smallest_xor_width, *, seed: int | None = None) -> None:
    """Check the search ``smallest_xor_width(X, y, max_width)`` on accuracy tables drawn at
    each check, served by ``xor_width_accuracy`` while it runs."""
    XOR_WIDTH.check(smallest_xor_width, seed=seed)
