"""Checks for chapter 2: sigmoid, tanh and vanishing gradients.

One spec per exercise (``_spec``): the cases are drawn afresh at every check, edge cases
first; the student's function runs on all of them, and only then are the references computed
and the results judged, with a message that says what differs on which case.
"""

from __future__ import annotations

import itertools
import math
import types

import numpy as np

from .. import activations, diagnostics
from ._contract import elementwise_result, expect_float, pair, show
from ._core import ExerciseError, exercise_check
from ._plain import Build
from ._spec import WORK_SHAPES, Case, Spec, builder, driver, random_shape, swapped_inner, work_cases
from ._trace import Forbidden

__all__ = [
    "MAX_SATURATED",
    "MIN_LAST_STD",
    "SHRINK_BOUND",
    "SIGMOID_PRIME",
    "TANH_INIT",
    "check_sigmoid_prime_from_output",
    "check_sigmoid_shrink_bound",
    "check_tanh_init_std",
    "tanh_network_stats",
]

# The course's own code, and the libraries' sigmoids: "write it yourself" means none of them.
COURSE_CODE = Forbidden(
    ("helpers.activations:*", "helpers.nn:*", "helpers.diagnostics:*", "scipy.special*:*",
     "torch*:*"),
    why="the task asks you to write sigma'(x) yourself, as arithmetic on s")


# The timed input of the elementwise exercises is tall, 100,000 rows of 2: a loop over its
# rows run from C (map over the rows) makes 100,000 calls, which shows in time. Exercise 1's
# has 135,000 rows (270,000 values, more than 2**18): an answer that does something else on
# large inputs only (zeros above 250,000 values, a loop over chunks of 2**18 that misses the
# last value) meets it, and every one of its values is compared.
TALL_WORK_SHAPES = (WORK_SHAPES[0], WORK_SHAPES[1], (135_000, 2))
SHRINK_WORK_SHAPES = (WORK_SHAPES[0], WORK_SHAPES[1], (100_000, 2))

_OTHER_WORK = {
    "three axes": lambda rng, shape: _sigmoid_outputs(rng, shape),
    "four axes": lambda rng, shape: _sigmoid_outputs(rng, shape),
    "one axis": lambda rng, shape: _sigmoid_outputs(rng, shape),
    "Fortran order": lambda rng, shape: _sigmoid_outputs(rng, shape),
    "values outside [0, 1]": lambda rng, shape: (rng.choice([-1.0, 1.0], shape)
                                                 * 10.0 ** rng.uniform(-3, 6, shape)),
    "float32": lambda rng, shape: _sigmoid_outputs(rng, shape, np.float32),
    "float16": lambda rng, shape: _sigmoid_outputs(rng, shape, np.float16),
    "integers": lambda rng, shape: rng.integers(0, 2, shape),
    "int32": lambda rng, shape: rng.integers(0, 2, shape).astype(np.int32),
    "uint8": lambda rng, shape: rng.integers(0, 2, shape).astype(np.uint8),
}
#: The shapes of each kind's work pair (the small and the large case): a loop kept for one
#: number of axes shows on its pair.
_KIND_SHAPES = {"three axes": ((2, 3, 4), (12, 13, 14)), "four axes": ((2, 2, 2, 2), (6, 6, 6, 6)),
                "one axis": ((12,), (1892,))}


def _rows_beyond(rng, rows: int) -> int:
    """A number of rows drawn log-uniformly above ``rows``, up to half as many again."""
    return int(10 ** rng.uniform(math.log10(rows + 1), math.log10(1.5 * rows)))


def _kind_work_cases(rng, make_kind: dict, name_of=lambda kind: kind) -> list[Case]:
    """A work pair of each kind of input (a loop kept for one dtype, number of axes, memory
    order or range of values is measured too)."""
    cases = []
    for kind, make in make_kind.items():
        pair = work_cases(lambda shape, large, make=make: make(rng, shape),
                          shapes=_KIND_SHAPES.get(kind, WORK_SHAPES[:2]), name=f"{kind}: ")
        if kind == "Fortran order":
            for c in pair:
                c.order = "F"
        cases += pair
    return cases

# --------------------------------------------------------------------------------------
# Exercise 1: sigmoid's derivative written with its output
# --------------------------------------------------------------------------------------

_S_HINT = ("differentiate 1 / (1 + e^-x) and write every e^-x part with s: section 1 shows "
           "that sigma' needs nothing but the output.")


def _sigmoid_outputs(rng, shape, dtype=np.float64) -> np.ndarray:
    # (1 / (1 + e^-x) directly: x is never near -709, where e^-x overflows, and the draw
    # of the timed input costs a quarter of the overflow-safe form's time)
    # (in place, one array: the same values as 1 / (1 + np.exp(-x)), bit for bit)
    x = rng.normal(0.0, 4.0, shape)
    np.negative(x, out=x)
    with np.errstate(over="ignore"):
        np.exp(x, out=x)
    x += 1
    np.reciprocal(x, out=x)
    return x.astype(dtype, copy=False)


@builder("ch02.view")
def _view(base, step=1, how="step", rows=3):
    """A view of ``base``, as a caller slices an array: every ``step``-th column (strided:
    neither C nor Fortran contiguous) or, for a step of 1, the whole array (a view that owns
    no data); or, as ``how`` says, "reversed" (base[::-1, -2::-2]: negative strides, every
    other column, starting inside the array) or "broadcast" (``base`` repeated ``rows``
    times along a new first axis by np.broadcast_to: read-only, a stride of 0)."""
    if how == "reversed":
        return base[::-1, -2::-2]
    if how == "broadcast":
        return np.broadcast_to(base, (rows, *base.shape))
    return base[:, ::step] if step > 1 else base[...]


#: Shapes of 0 to 4 axes for the integer cases of one dtype each: every draw hands each
#: number of axes to some dtype, and each dtype meets every number of axes over a few draws.
#: (Three values at most: sigma' of 0s and 1s is 0 wherever they are, so no twin of them with
#: two values swapped has another right result.)
_NDIM_SHAPES = ((), (3,), (1, 3), (3, 1, 1), (1, 1, 3, 1))


def _zeros_and_ones(rng, shape, dtype) -> np.ndarray:
    """Integer outputs 0 and 1 of ``shape`` (both, where there are two places or more)."""
    size = int(np.prod(shape))
    values = rng.integers(0, 2, size)
    if size >= 2:
        values[:2] = (0, 1)
    return rng.permutation(values).astype(dtype).reshape(shape)


def _in_axes(values: np.ndarray, ndim: int) -> np.ndarray:
    """``values`` (1-D) as an array of ``ndim`` axes (1 to 3), padded with 1/2 (an output of
    an exact result) to fill it."""
    if ndim == 1:
        return values
    rows = (2, 3)[: ndim - 1]
    per = int(np.prod(rows))
    padded = np.concatenate([values, np.full(-values.size % per, 0.5, dtype=values.dtype)])
    return padded.reshape(*rows, -1)


def _saturated_outputs(rng, dtype) -> np.ndarray:
    """Outputs of ``dtype`` deep in saturation, shuffled: spread over every power of two from
    the dtype's smallest number (a subnormal) up to 1/16, one in each run of a few, with the
    smallest subnormal and the smallest normal number themselves; 1 - 2**-k for every k down
    to the dtype's last digit below 1, and 1 + 2**-k for every k down to its first number
    above 1; and a few more on each side of 0 and 1, at random distances (tiny negative
    outputs, 1 +- m 2**-k). Each value is compared relative to its own size: a result
    flushed to 0, shifted, or given the wrong sign, below any size shows, and so does a
    formula that loses digits near 0 or 1."""
    info = np.finfo(dtype)
    one = dtype(1)
    lowest = info.minexp - info.nmant  # the smallest subnormal is 2**lowest
    step = max(1, -lowest // 320)
    starts = np.arange(lowest, -4, step)
    exponents = starts + rng.integers(0, step, starts.size)
    mantissas = rng.uniform(1, 2, starts.size).astype(dtype)
    tiny = np.ldexp(mantissas, exponents)
    nearest = np.concatenate([[info.smallest_subnormal, info.smallest_normal], tiny])
    near_one = one - np.ldexp(one, -np.arange(1, info.nmant + 2))
    above_one = one + np.ldexp(one, -np.arange(1, info.nmant + 1))
    outside = np.concatenate([
        -np.ldexp(rng.uniform(1, 2, 3).astype(dtype), rng.integers(lowest, -4, 3)),
        one + np.ldexp(rng.uniform(1, 2, 3).astype(dtype), -rng.integers(2, info.nmant, 3)),
        one - np.ldexp(rng.uniform(1, 2, 3).astype(dtype), -rng.integers(4, info.nmant, 3))])
    return rng.permutation(np.concatenate([nearest, near_one, above_one, outside]
                                          ).astype(dtype))


def _input(case: Case) -> np.ndarray:
    """The array a case hands over (a view built from its recipe, for the view cases)."""
    s = case.args[0]
    return np.asarray(case.inputs()[0][0]) if isinstance(s, Build) else s


def _draw_sigmoid_prime(rng) -> list[Case]:
    # (the cases added since the draw was first laid out come from a stream of their own, so
    # the others, and the CPU time of each seed's draw, stay as they were)
    more = rng.spawn(1)[0]
    dtype_row = more.choice(np.array([np.float64, np.float32, np.float16, np.longdouble],
                                     dtype=object))
    exact = np.array([[0.0, 0.5, 1.0], [1.0, 0.25, 0.0]])
    # In float16 too, at outputs where s (1 - s), s - s^2 and 1/4 - (s - 1/2)^2 are all exact
    # in float16 arithmetic (powers of two down to 1/64, and one minus them up to 31/32: the
    # square of 63/64 needs 12 bits): a result shifted or flushed to 0 by less than the
    # float16 tolerance shows.
    powers = 2.0 ** -np.arange(1, 7)
    exact16 = np.concatenate([[0.0], powers[::-1], 1 - powers[1:5], [1.0]])
    # Outputs just outside [0, 1], as round-off leaves them (the formula holds there too): a
    # "round-off" branch that gives 0 there, or a clip of tiny negative outputs, shows.
    near = 10.0 ** rng.uniform(-8, -3, 4)
    just_outside = np.concatenate([[-5e-5, -5e-4, 1 + 5e-5, 1 + 5e-4], -near[:2],
                                   1 + near[2:]])
    # Far outside [0, 1] too, at magnitudes from 1e-3 to 1e6, both signs: a formula in s holds
    # everywhere, so an answer that only looks right on some range shows.
    # The last two of each dtype sit near the end of its range, where s * (1 - s) is still
    # finite: a clip anywhere short of it shows.
    outside = np.concatenate([[-1e6, -1e3, -50.0, -5.0, -1.5, 1.5, 5.0, 50.0, 1e3, 1e6],
                              rng.choice([-1.0, 1.0], 2) * 10.0 ** rng.uniform(-3, 6, 2),
                              rng.choice([-1.0, 1.0], 2) * 10.0 ** rng.uniform(6, 154, 2),
                              [-1.0, 1.0] * 10.0 ** rng.uniform(154, 154.11, 2)])
    # ... and in the smaller floats, as far out as their range allows (s^2 stays finite).
    outside32 = np.concatenate([rng.choice([-1.0, 1.0], 6) * 10.0 ** rng.uniform(-2, 19, 6),
                                [-1.0, 1.0] * rng.uniform(1e19, 1.8e19, 2)]).astype(np.float32)
    outside16 = np.concatenate([rng.choice([-1.0, 1.0], 4) * 10.0 ** rng.uniform(-1, 2.3, 4),
                                [-1.0, 1.0] * rng.uniform(200, 250, 2)]).astype(np.float16)
    cases = [
        Case("the exact outputs 0, 1/4, 1/2 and 1 (float64)", (exact,)),
        Case("the exact outputs 0, 1/4, 1/2 and 1 (float32)", (exact.astype(np.float32),)),
        Case("the exact outputs 0, 1/64, 1/32, ..., 1/2, 3/4, ..., 31/32 and 1 (float16)",
             (exact16.astype(np.float16),)),
        Case("a 0-d array (one output)", (np.array(rng.uniform(0.05, 0.95)),)),
        Case("a 0-d float32 array", (np.array(rng.uniform(0.05, 0.95), dtype=np.float32),)),
        Case("one output in a 1-D array", (np.array([rng.uniform(0.05, 0.95)]),)),
        Case("an empty array of shape (0, 3)", (np.zeros((0, 3)),)),
        # sigma' down to 3e-16, just above the float64 tolerance: a result flushed to 0 below
        # some small size shows.
        Case("outputs deep in saturation, within 1e-13 of 0 and of 1",
             (np.array([1e-300, 1e-20, 3e-16, 1e-13, 0.5, 1 - 1e-13, 1 - 3 * 2.0**-53,
                        1 - 2.0**-53]),)),
        Case("integer outputs 0 and 1 (int64)", (np.array([[0, 1, 1], [1, 0, 0]]),)),
        # Two fixed values inside [0, 1] too: an answer that is -sigma' only outside (abs of
        # the formula) is then told apart from one with the wrong sign everywhere.
        Case("values outside [0, 1], where sigma' written with s is still that formula",
             (np.concatenate([[0.3, 0.8], rng.uniform(-3.0, 4.0, 2), outside]).reshape(4, 5),)),
        Case("values just outside [0, 1] (within 1e-3 of 0 or 1), where the same formula holds",
             (just_outside.reshape(2, 4),)),
        Case("values outside [0, 1] in float32, some just outside",
             (np.concatenate([[0.3, -1.5, -5e-4, 1 + 5e-4], -10.0 ** rng.uniform(-7, -3, 1),
                              1 + 10.0 ** rng.uniform(-6.5, -3, 1), outside32]
                             ).astype(np.float32),)),
        Case("values outside [0, 1] in float16", (np.concatenate([[0.3, 1.5],
                                                                 outside16]).astype(np.float16),)),
        # Some near 0 and 1, where sigma' is a little above the float16 tolerance (a result
        # flushed to 0 there shows), and some drawn anywhere.
        Case("float16 outputs, some near 0 and 1",
             (np.concatenate([_sigmoid_outputs(rng, 4), [2.0**-10, 1 - 2.0**-10],
                              10.0 ** rng.uniform(-3.1, -2.75, 2),
                              1 - 10.0 ** rng.uniform(-3.0, -2.75, 2)]
                             ).astype(np.float16).reshape(2, 5),)),
        Case("float32 outputs, most deep in saturation (sigma' down to 1e-7)",
             (np.concatenate([[1e-7, 2e-7, 0.5, 1 - 2.0**-23, 1 - 2.0**-22],
                              10.0 ** rng.uniform(-7, -5, 2), 1 - 10.0 ** rng.uniform(-7, -5, 1)]
                             ).astype(np.float32),)),
        # Every dtype the task names: the integer ones (0s and 1s, each in a number of axes
        # drawn from 0 to 4, every number on every draw) and np.longdouble.
        *[Case(f"integer outputs 0 and 1 ({np.dtype(dtype).name}, shape {shape})",
               (_zeros_and_ones(more, shape, dtype),))
          for dtype, shape in zip((np.int8, np.int16, np.uint16, np.uint32, np.uint64),
                                  [_NDIM_SHAPES[k] for k in more.permutation(5)])],
        # With every digit of np.longdouble used (not values a float64 holds): an answer
        # that computes in float64 and casts back shows.
        Case("outputs in np.longdouble (extended precision where the platform has it), with "
             "all their digits",
             ((np.array([0.25, *rng.uniform(0.05, 0.95, 3)], dtype=np.longdouble)
               + np.array([0, *rng.uniform(-1, 1, 3)], dtype=np.longdouble)
               * np.longdouble(2.0) ** -60).reshape(2, 2),)),
        # Deep in saturation, in every float dtype: down to the smallest number of each,
        # near 1 down to its last digit, shuffled; in three axes (float64's drawn from 1 to
        # 3): with the cases above, every float dtype comes in 0, 1, 2 and 3 axes.
        *[Case(f"{np.dtype(dtype).name} outputs deep in saturation: from the dtype's smallest "
               "number up, and 1 -+ 2^-k down to its last digit on each side of 1, shuffled, "
               f"in {ndim} {'axis' if ndim == 1 else 'axes'}",
               (_in_axes(_saturated_outputs(rng, dtype), ndim),))
          for dtype, ndim in zip((np.float64, np.float32, np.float16, np.longdouble),
                                 (int(more.integers(1, 4)), 3, 3, 3))],
        # 0-d arrays of the other float dtypes (the longdouble one with all its digits).
        *[Case(f"a 0-d {np.dtype(dtype).name} array", (np.array(
            np.longdouble(more.uniform(0.05, 0.95))
            + np.longdouble(more.uniform(-1, 1)) * np.longdouble(2.0) ** -60, dtype=dtype),))
          for dtype in (np.float16, np.longdouble)],
        # Views, as a caller slices an array: reversed on both axes, every other column,
        # starting inside the array (negative strides and an offset); and a 2 x 4 array
        # broadcast to 3 x 2 x 4 (read-only, owning no data, a stride of 0), of a float dtype
        # drawn at each check.
        Case("a reversed strided view, x[::-1, -2::-2] of a 3 x 10 array (negative strides, "
             "starting inside the array)",
             (Build("ch02.view", {"base": _sigmoid_outputs(rng, (3, 10)), "how": "reversed"}),)),
        Case(f"a read-only view: a 2 x 4 array broadcast to 3 x 2 x 4 by np.broadcast_to (it "
             f"owns no data; a stride of 0; {np.dtype(dtype_row).name})",
             (Build("ch02.view", {"base": _sigmoid_outputs(rng, (2, 4)).astype(dtype_row),
                                  "how": "broadcast", "rows": 3}),), writeable=False),
        # The shape and dtype of the first case again, other values: a result kept from an
        # earlier call shows.
        Case("random outputs of shape (2, 3) (float64), the first case's shape again",
             (_sigmoid_outputs(rng, (2, 3)),)),
        Case("random outputs of shape (2, 3, 4) (float64): three axes",
             (_sigmoid_outputs(rng, (2, 3, 4)),)),
    ]
    side = int(rng.integers(2, 6))
    shapes = [random_shape(rng), (side, side), random_shape(rng)]
    for shape, dtype in zip(shapes, (np.float64, np.float64, np.float32)):
        cases.append(Case(f"random outputs of shape {shape} ({np.dtype(dtype).name})",
                          (_sigmoid_outputs(rng, shape, dtype),)))
    # A twin of a random case: a result kept by a summary of the input (its sum, ends,
    # extremes) shows.
    twin = swapped_inner(rng, _sigmoid_outputs(rng, (3, 5)))
    cases.append(Case("random outputs of shape (3, 5) (float64)", (twin.copy(),)))
    cases.append(Case("the previous case's outputs with two inner values swapped (the same "
                      "shape, sum, ends, largest and smallest)", (swapped_inner(rng, twin),)))
    # One draw in four, an input larger than the timed one, of a random size up to half as
    # large again, every value compared: an answer that does something else above some size
    # meets it on some draws. (Each value of a case costs the check some 45 ns of CPU: twice
    # as large would take a sixth more CPU time per check, on average, than the budget allows.)
    if rng.integers(4) == 0:
        rows = _rows_beyond(rng, TALL_WORK_SHAPES[-1][0])
        cases.append(Case(f"random outputs of shape ({rows:,}, 2) (float64): more values than "
                          "the timed input", (_sigmoid_outputs(rng, (rows, 2)),)))
    cases += work_cases(lambda shape, large: _sigmoid_outputs(rng, shape),
                        shapes=TALL_WORK_SHAPES)
    # Work pairs on other shapes, dtypes and values: a loop kept for some inputs only (a
    # branch on s.ndim, s.dtype or on values outside [0, 1]) is measured too.
    return cases + _kind_work_cases(rng, _OTHER_WORK)


def _sigmoid_prime_reference(s):
    # (in np.longdouble for a longdouble input, whose digits a float64 would lose; in float64
    # otherwise, which holds s (1 - s) of a float16 or float32 s to far better than their
    # rounding, and costs numpy's own time on the timed cases)
    s = np.asarray(s)
    s = s.astype(np.longdouble if s.dtype == np.longdouble else np.float64)
    return s * (1 - s)


def _ulp(x, dtype) -> np.ndarray:
    """The spacing of ``dtype``'s numbers at |x| (a unit in the last place of x in that dtype,
    the smallest subnormal at 0), computed in x's own dtype."""
    info = np.finfo(dtype)
    x = np.abs(x)
    with np.errstate(all="ignore"):
        _, e = np.frexp(x)  # x = m 2^e, m in [1/2, 1): the spacing there is eps 2^(e - 1)
        spacing = np.ldexp(np.asarray(info.eps, dtype=x.dtype), e - 1)
    spacing = np.maximum(spacing, np.asarray(info.smallest_subnormal, dtype=x.dtype))
    spacing = np.where(x == 0, np.asarray(info.smallest_subnormal, dtype=x.dtype), spacing)
    return np.where(np.isfinite(x), spacing, np.inf)


def _square_rounding(s, dtype) -> np.ndarray:
    """|fl(s * s) - s * s|: how far the dtype's own s * s (one rounding, to ``dtype``) is from
    the exact square, for ``s`` held in the wide dtype (float64 for float16 and float32 inputs,
    whose squares float64 holds exactly; the input's own dtype for float64 and np.longdouble,
    where Dekker's exact product gives the part of s * s that the rounding dropped). Where the
    square overflows, half an ulp of it (no value there is compared more tightly)."""
    wide = s.dtype.type
    with np.errstate(all="ignore"):
        square = s * s
        if dtype in (np.float16, np.float32):
            error = np.abs(square.astype(dtype).astype(s.dtype) - square)
        else:  # (Dekker: s = hi + lo, each half of the digits, so hi * hi, hi * lo are exact)
            split = wide(2.0) ** -((-(np.finfo(dtype).nmant + 1)) // 2) + wide(1)
            c = split * s
            hi = c - (c - s)
            lo = s - hi
            error = np.abs(((hi * hi - square) + 2 * hi * lo) + lo * lo)
        return np.where(np.isfinite(error), error, _ulp(square, dtype) / 2)


def _wide_pair(got, expected) -> tuple[str, str]:
    """Two numbers (of any float dtype, np.longdouble included) for a message, with enough
    digits that they do not print the same."""
    for digits in (5, 9, 16, 21):
        a = np.format_float_scientific(got, precision=digits, trim="-")
        b = np.format_float_scientific(expected, precision=digits, trim="-")
        if a != b:
            return a, b
    return a, b


def _judge_sigmoid_prime(case: Case, obs, expected) -> None:
    # Values near the end of float64's range: the difference of two results of opposite
    # signs overflows to inf, which compares as it should; no warning for the student.
    with np.errstate(over="ignore", invalid="ignore"):
        _judge_sigmoid_prime_values(case, obs, expected)


def _judge_sigmoid_prime_values(case: Case, obs, expected) -> None:
    what = "`sigmoid_prime_from_output(s)`"
    s = _input(case)
    got = elementwise_result(obs.result, s, what,
                             "work elementwise on s, without flattening or reshaping it.")
    if s.dtype.kind == "f" and got.dtype != s.dtype:
        raise ExerciseError(
            f"{what} turned a {s.dtype} input into {got.dtype}.",
            "arithmetic between an array and plain Python numbers keeps the array's dtype; a "
            "float64 array or np.float64 number in the expression changes it.")
    if got.dtype.kind not in "iuf":
        raise ExerciseError(f"{what} returned dtype {got.dtype}, expected real numbers.",
                            "derivatives are real numbers: keep the float dtype of s.")
    if s.size == 0:
        return
    # Compared in np.longdouble for a longdouble input, in float64 otherwise (which holds every
    # float16 and float32 value exactly).
    dtype = s.dtype if s.dtype.kind == "f" else np.dtype(np.float64)
    wide = np.longdouble if dtype == np.longdouble else np.float64
    # (at least 1-D, so that a 0-d input is judged the same way)
    value = np.atleast_1d(got.astype(wide, copy=False))
    s64 = np.atleast_1d(s.astype(wide, copy=False))
    expected = np.atleast_1d(np.asarray(expected, dtype=wide))
    # Each value relative to its own size, in units in the last place (ulps) of the input's
    # dtype: the rounding of s (1 - s) (1 - s, then the product) and of the reference, a few
    # ulps of the result; plus the rounding that the dtype's own s * s makes at this very s
    # (which s - s^2 carries on; computed exactly, not bounded by half an ulp of s^2: next to
    # s = 1, where sigma' is a few eps, s * s is almost exact, and half an ulp of it would be
    # a slack of half the result). Exact where the result is exact: at s = 0 and 1, for a
    # subnormal s (whose s (1 - s) rounds to s) and in the cases labelled so. A result
    # flushed to 0, of the wrong sign or shifted by part of an eps at any size shows, and so
    # does 1/4 - (s - 1/2)^2, whose rounding near 1/4 swamps a small result near s = 0.
    # (First against a bound a little below that, 1.5 eps |result|, which takes a tenth of
    # the time on large inputs; the values it refuses are then judged in ulps.)
    info = np.finfo(dtype)
    exact = (s64 == 0) | (s64 == 1) | (np.abs(s64) < info.smallest_normal)
    if "exact" in case.label:
        exact = np.ones_like(exact)
    if np.any(exact):
        # (there, compared with the reference rounded to the dtype: s for a subnormal s)
        expected = expected.copy()
        expected[exact] = expected[exact].astype(dtype).astype(wide)
    eps = wide(info.eps)
    with np.errstate(all="ignore"):
        error = np.abs(value - expected)
        bad = ~(error <= eps * 1.5 * np.abs(expected))
        bad |= exact & (error != 0)
        if np.any(bad):
            tol = 3 * _ulp(expected[bad], dtype) + _square_rounding(s64[bad], dtype)
            bad[bad] = ~(error[bad] <= np.where(exact[bad], 0, tol))
    if not np.any(bad):
        return
    # The known mistakes, computed only for an answer that differs (a right one skips them).
    known = {
        "has the wrong sign: sigma only increases, so sigma'(x) is never negative":
            lambda: -expected,
        "is sigma'(s), the slope at the point s, not at x: you applied the sigmoid to s "
        "again, but s is already sigma(x)":
            lambda: activations.sigmoid(s64) * (1 - activations.sigmoid(s64)),
        "is tanh's rule 1 - t^2 applied to s; the sigmoid's derivative is a different "
        "function of its output": lambda: 1 - s64**2,
    }
    differs = not np.allclose(value, expected, rtol=1e-6, atol=1e-12)
    for problem, make_wrong in known.items():
        if differs and np.allclose(value, wrong := make_wrong(), rtol=1e-6, atol=1e-12):
            index = np.unravel_index(int(np.argmax(np.abs(wrong - expected))), s64.shape)
            raise ExerciseError(
                f"{what} {problem}. (At s = {float(s64[index]):.4g} it returns "
                f"{float(value[index]):.4g}; sigma'(x) is {float(expected[index]):.4g}.)",
                "sigma'(x) is the slope of the sigmoid at x; section 1 writes it with the "
                "output s alone.")
    n_bad = int(np.sum(bad))
    # The worst value relative to its size (in ulps of the dtype): a tiny value flushed to 0
    # counts as much as a large one.
    with np.errstate(all="ignore"):
        gap = np.where(bad, np.nan_to_num(error / _ulp(expected, dtype), nan=np.inf,
                                          posinf=np.inf), 0.0)
        relative = error[bad] / np.abs(expected[bad])
    index = np.unravel_index(int(np.argmax(gap)), s64.shape)
    hint = _S_HINT
    if s.dtype.kind == "f":
        with np.errstate(all="ignore"):
            half = s.dtype.type(0.5)
            square_form = np.atleast_1d(half * half - (s - half) ** 2).astype(wide)
    else:
        square_form = None
    # A constant added to every value (an epsilon, an offset), up to the rounding of the
    # result: at least 3 values off, all by about the same amount.
    with np.errstate(invalid="ignore", over="ignore"):
        offsets = value[bad] - expected[bad]
        middle = float(np.median(offsets))
        ulps = 2 * _ulp(value[bad], dtype)
        constant = bool(n_bad >= 3 and middle != 0 and np.all(np.isfinite(offsets))
                        and np.all(np.abs(offsets - middle) <= 0.1 * abs(middle) + ulps))
    if np.all((s64[bad] == 0) | (s64[bad] == 1)):
        hint = ("only the values at s = 0 and s = 1 differ: there the curve is flat and "
                "sigma'(x) is exactly 0, which the formula in s gives without any change.")
    elif s.size >= 3 and np.all(value == value.flat[0]) and np.ptp(expected) > 0:
        hint = (f"your function returns {float(value.flat[0]):.4g} for every value of this "
                "input: the same formula in s holds for every array, whatever its size, dtype, "
                "memory layout (a view, strided, read-only) or values; no branch on them.")
    elif n_bad <= 3 and s.size >= 100_000:
        hint = (f"only {n_bad} of the {s.size:,} values differ: a loop over blocks or chunks "
                "of the input that misses one at an edge? The formula applied to the whole "
                "array at once has no edges.")
    elif np.all((value[bad] == -expected[bad]) & (expected[bad] != 0)):
        hint = (f"your values have the wrong sign where sigma'(x) is smallest (here up to "
                f"{_wide_pair(np.abs(expected[bad]).max(), 0)[0]}): sigma only increases, so "
                "sigma'(x) is never negative in [0, 1], however small it is; the formula in s "
                "gives these values as they are, with no test on their size.")
    elif square_form is not None and np.array_equal(value, square_form, equal_nan=True):
        hint = ("your values near s = 0 have lost their digits: 1/4 - (s - 1/2)^2 subtracts two "
                "numbers close to 1/4, whose rounding (about "
                f"{_wide_pair(info.eps / 8, 0)[0]} in {dtype}) is larger than a small result "
                "itself (cancellation). This chapter is about those small values: write "
                "sigma'(x) so that a small value comes out of a product, with all its digits.")
    elif np.all(value[bad] == 0) and np.all(np.abs(expected[bad]) < 0.01):
        hint = ("your values are 0 where sigma'(x) is small but not 0 (s near 0 or 1, or just "
                "outside [0, 1]): the formula in s gives these small values as they are, with "
                "no cutoff, clip or test on s.")
    elif (dtype == np.longdouble and np.all(value[bad] != 0)
          and np.all(relative <= 4 * np.finfo(np.float64).eps)) or (
            not constant and np.all(value[bad] != 0) and np.all(relative < 2e-3)):
        # Close to some digits (a longdouble's to a float64's, whatever the offsets look
        # like): the formula is right, its precision is not.
        digits = max(1, int(-np.log10(float(np.max(relative)))))
        hint = (f"the values agree to about {digits} significant digits only, and a {dtype} "
                f"holds about {info.precision}: as if computed in a lower precision (float64 "
                "for a longdouble, float32 or float16) or rounded, then turned back into "
                f"{dtype}. Compute in the dtype of s, with no .astype, no lower-precision "
                "constant or array on the way and no rounding.")
    elif constant:
        hint = (f"your values are all about {middle:+.2g} away from sigma'(x): a constant is "
                "added somewhere (an epsilon, an offset); the formula in s needs none.")
    elif np.all(error[bad] <= 2 * info.eps):
        hint = ("your small values have lost digits (they are off by about the rounding of "
                "numbers near 1, much more than their own): a difference of two nearly equal "
                "numbers (cancellation) loses the digits of a small result. Write sigma'(x) so "
                "that a small value comes out of a product, with all its digits.")
    elif "outside" in case.label:
        hint = ("sigma'(x) written with s is a short formula in s alone, and the check also "
                "evaluates it at values outside [0, 1]: a route back through x (log, arctanh) "
                "or a clip gives something else there.")
    with np.errstate(divide="ignore", invalid="ignore"):
        x = float(np.log(s64[index]) - np.log1p(-s64[index]))
    at = (repr(float(s64[index])) if wide is np.float64
          else np.format_float_scientific(s64[index], trim="-"))
    where = f"s = {at}" + (f" (x = {x:.4g})" if 0 <= s64[index] <= 1 else "")
    shown, wanted = (pair(value[index], expected[index]) if wide is np.float64
                     else _wide_pair(value[index], expected[index]))
    raise ExerciseError(
        f"{what} differs from sigma'(x) in {n_bad} of {s.size} values of this {s.dtype} input "
        f"of shape {s.shape}; the largest difference is at {where}: got {shown}, expected "
        f"{wanted}.", hint)


SIGMOID_PRIME = Spec(
    "ch02.sigmoid_prime_from_output", check="ch02.check_sigmoid_prime_from_output",
    grade_id="ch02-sigmoid-prime-check",
    what="`sigmoid_prime_from_output(s)`", answers=("sigmoid_prime_from_output",),
    draw=_draw_sigmoid_prime, reference=_sigmoid_prime_reference, judge=_judge_sigmoid_prime,
    forbidden=COURSE_CODE, vectorised=True, reuse_calls=64, twins=6,
    loop_hint="arithmetic operators and numpy's functions work on a whole array at once.",
    passed="`sigmoid_prime_from_output(s)` is right on every case: sigma'(x) = s (1 - s), "
           "exactly 0 at s = 0 and s = 1 and 1/4 at s = 1/2; float16, float32 and longdouble "
           "keep their dtype.")


@exercise_check
def check_sigmoid_prime_from_output(answer, *, seed: int | None = None) -> None:
    """Check ``answer(s)`` gives sigma'(x) from s = sigma(x): a formula in s alone, any shape,
    dtype kept, written without the course's code and without a Python loop."""
    SIGMOID_PRIME.check(answer, seed=seed)


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
_SHRINK_DEFAULT_HINT = ("each sigmoid layer contributes one factor sigma'(z) <= 1/4, and no "
                        "layer at all (n = 0) leaves the gradient as it is: a bound of 1.")


def _shrink_hint(n, value) -> str | None:
    """The hint of the known mistake that gives ``value`` at ``n``, if there is one."""
    n = np.asarray(n, dtype=float)
    if n.ndim == 0 and n > 600:  # (1 - 0.25**n is 1 there, as any rule that gives 1 is)
        return None
    for fn, hint in _SHRINK_WRONG:
        if np.shape(value) == n.shape and np.allclose(value, fn(n), rtol=1e-9, atol=0):
            return hint
    return None


#: The largest layer count the task allows.
MAX_COUNT = 100_000
#: One count at a time, every count up to this one is asked for (the bound is 0 from 538 on).
SINGLE_COUNTS = 600


def _read_only_0d(k, dtype):
    n = np.array(k, dtype=dtype)
    n.setflags(write=False)
    return n


#: The kinds of one count the driver below hands over (the 0-d arrays from _FIRST_0D on).
_COUNT_KINDS = (int, np.int64, np.int32, np.uint32, np.uint64,
                lambda k: _read_only_0d(k, np.int64), lambda k: _read_only_0d(k, np.int32),
                lambda k: _read_only_0d(k, np.int16))
_FIRST_0D = 5
#: The kind of a 0-d int16 array: drawn apart, for one count in eight up to 32,767.
_INT16_0D = 7


@driver("ch02.counts")
def _one_count_at_a_time(answers, counts, kinds):
    """The answer's bound for each count of ``counts``, as the kind of number ``kinds`` says,
    one call each: the values (as floats) and the type of each result (_RESULT_KINDS: 0 for a
    Python float, 1 for a np.float64, 2 for a 0-d float64 array), up to the first result of
    another type (kept as it came, in "odd") or the first error."""
    values, kinds_of, odd, error = [], [], None, ""
    for k, kind in zip(counts, kinds):
        try:
            got = answers[0](_COUNT_KINDS[kind](k))
        except NotImplementedError:
            raise
        except Exception as err:  # the student's code failed: say for which count
            error = f"{type(err).__name__}: {err}"[:600]
            break
        if type(got) is float or type(got) is np.float64:
            kinds_of.append(0 if type(got) is float else 1)
        elif isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype == np.float64:
            kinds_of.append(2)
        else:
            odd = got
            break
        values.append(float(got))
    return {"values": np.array(values, dtype=np.float64),
            "kinds": np.array(kinds_of, dtype=np.int8), "odd": odd, "error": error}


def _int_array(rng, shape, dtype=np.int64, high: int = 60) -> np.ndarray:
    return rng.integers(0, high + 1, size=shape).astype(dtype, copy=False)


def _behind_view(values: np.ndarray) -> np.ndarray:
    """A 2 x 9 array whose view base[::-1, -2::-2] (the "reversed" view) holds the 2 x 4
    ``values``, the other places filled with counts that do not show through it."""
    base = np.full((2, 9), 7, dtype=values.dtype)
    base[::-1, -2::-2] = values
    return base


def _draw_shrink(rng) -> list[Case]:
    random_n = int(rng.integers(2, 61))
    deep_n = int(rng.integers(61, 600))
    # From 64 layers on, (1/4)**n is below float32's normal numbers: an int32 count computed
    # in float32 (as float32 stays float32 in Exercise 1) loses digits, and 0 from 75 on.
    int32_n = int(rng.integers(64, 601))
    huge_n = int(10 ** rng.uniform(3.05, 5))
    cases = [
        Case("n_layers = 8 (an int)", (8,)),
        Case("n_layers = 0 (an int)", (0,)),
        Case("n_layers = 1 (an int)", (1,)),
        Case(f"n_layers = {random_n} (an int)", (random_n,)),
        Case(f"n_layers = {deep_n} (an int: a very deep network)", (deep_n,)),
        Case("n_layers = 100 (an int: below float32's smallest numbers)", (100,)),
        Case("n_layers = 600 (an int: a network deeper than float64's range)", (600,)),
        # Just below float64's smallest normal numbers, one count as an int: a scalar path
        # that gives 0 from some depth on shows.
        Case("n_layers = 505 (an int: 9.1e-305, still a normal float64)", (505,)),
        Case("n_layers = np.int64(510), a numpy integer (8.9e-308)", (np.int64(510),)),
        Case("n_layers = np.int64(5), a numpy integer", (np.int64(5),)),
        # numpy integer scalars wrap around like their arrays: 4**n passes int64 at n = 32 and
        # int32 at n = 16 (an answer that treats only arrays as arrays misses it).
        Case(f"n_layers = np.int64({deep_n}), a numpy integer (a very deep network)",
             (np.int64(deep_n),)),
        Case(f"n_layers = np.int32({int32_n}), a numpy int32 (below float32's range)",
             (np.int32(int32_n),)),
        Case("n_layers = np.int32(100), a numpy int32 (below float32's range)",
             (np.int32(100),)),
        Case(f"n_layers = {huge_n} (an int: a network of more than 1000 layers)", (huge_n,)),
        Case("an int64 array with 0, 1, 32 and 40 (4**32 passes the int64 range)",
             (np.array([[3, 0, 12, 1], [40, 8, 32, 2]]),)),
        # (as a caller's slice: reversed on both axes, every other column, starting inside
        # its array)
        Case("another int64 array of shape (2, 4), other counts, as a reversed strided view "
             "(n[::-1, -2::-2] of a 2 x 9 array: negative strides, starting inside it)",
             (Build("ch02.view", {"base": _behind_view(_int_array(rng, (2, 4))),
                                  "how": "reversed"}),)),
        Case("an int64 array of shape (2, 2, 3): three axes", (_int_array(rng, (2, 2, 3)),)),
        Case("very many layers: 1023, 1024, 16384, 32768 and 40000 (beyond int16)",
             (np.array([1023, 1024, 16384, 32768, 40000]),)),
        Case("very deep networks: 75, 127, 128, 200, 499, 500, 505, 510, 530, 537, 538 and "
             "1000 layers (float32 and the smallest float64 numbers run out)",
             (np.array([75, 127, 128, 200, 499, 500, 505, 510, 530, 537, 538, 1000]),)),
        # int32 counts too: an answer computing an int32 array in float32 (as float32 stays
        # float32 in Exercise 1) is exact up to 74 layers and 0 beyond.
        Case("very deep networks as int32: 75, 100, 200, 499, 1000, 40000 layers and more",
             (np.array([75, 100, 200, 499, 1000, 40000, int(rng.integers(32768, 10**5))],
                       dtype=np.int32),)),
        Case("a 0-d integer array", (np.array(int(rng.integers(2, 20))),)),
        Case("a 0-d integer array of a deep network", (np.array(int(rng.integers(32, 600))),)),
        Case("a 0-d int32 array of a deep network (below float32's range)",
             (np.array(int(rng.integers(64, 601)), dtype=np.int32),)),
        Case("a one-element int16 array [5]", (np.array([5], dtype=np.int16),)),
        Case("an empty integer array", (np.zeros(0, dtype=np.int64),)),
        Case("an empty integer array of shape (0, 3)", (np.zeros((0, 3), dtype=np.int64),)),
    ]
    for dtype in (np.int64, np.int32):
        shape = random_shape(rng)
        cases.append(Case(f"a random {np.dtype(dtype).name} array of shape {shape}",
                          (_int_array(rng, shape, dtype),)))
    # int16 arrays in three axes (in two in the work cases, 0-d in the one-count case
    # below): with counts up to the end of its range, 16383, 16384 and 32767 among them,
    # where -2 * n or 2 * n in int16 wraps around (from 16,384 on). Then int32 in three axes,
    # as a 2 x 5 array broadcast to 3 x 2 x 5 (read-only, a stride of 0). (From a stream of
    # their own, so the other cases stay as they were.)
    more = rng.spawn(1)[0]
    shape = tuple(int(k) for k in more.choice(np.arange(2, 7), 3, replace=False))
    counts = _int_array(more, shape, np.int16)
    at = more.permutation(counts.size)[:counts.size // 2]
    counts.flat[at] = more.integers(16_384, 32_768, at.size)
    counts.flat[at[:3]] = (16_383, 16_384, 32_767)
    cases.append(Case(f"a random int16 array of shape {shape}, half its counts from 16,383 to "
                      "32,767", (counts,)))
    cases.append(Case("a 2 x 5 int32 array broadcast to 3 x 2 x 5 by np.broadcast_to "
                      "(read-only, a stride of 0)",
                      (Build("ch02.view", {"base": _int_array(more, (2, 5), np.int32, high=600),
                                           "how": "broadcast", "rows": 3}),), writeable=False))
    # A numpy integer of every integer dtype, where its own arithmetic wraps around: -n of an
    # unsigned count (-np.uint8(3) is 253), 2 * n beyond half a signed type's range (int8
    # from 64, int16 from 16,384), 4**n beyond it (int32 from 16, int64 from 32: the cases
    # above; no int32 count of a billion layers, which a loop over the layers would not end).
    for dtype in (np.int8, np.int16, np.uint8, np.uint16, np.uint32, np.uint64):
        info = np.iinfo(dtype)
        k = int(rng.integers(2, 61)) if info.min == 0 else int(rng.integers(info.max // 2 + 1,
                                                                         info.max + 1))
        cases.append(Case(f"n_layers = np.{info.dtype.name}({k}), a numpy {info.dtype.name}",
                          (dtype(k),)))
    # Every count from 0 to 1000, and beyond it, up to 100,000 (the task's whole range), one
    # drawn in every run of 256 counts; shuffled, as int32 or int64. A rule that goes wrong in
    # some band of counts shows, and so does a count wrapped around at any size (cast to
    # uint16, n % 65536: wrong for 538 counts just above it, where 1/4**(n - 65536) is not
    # tiny). Then a twin of a random array: a result kept by a summary of the input shows.
    runs = np.arange(1001, MAX_COUNT + 1, 256)
    beyond = np.minimum(runs + rng.integers(0, 256, runs.size), MAX_COUNT)
    counts = rng.permutation(np.concatenate([np.arange(1001), beyond]))
    cases.append(Case("every count from 0 to 1000, then counts up to 100,000 (one in every "
                      "run of 256), in a random order",
                      (counts.astype(rng.choice([np.int32, np.int64])).reshape(4, -1),)))
    # One count as a Python int and as numpy integers, just past where int16 and uint16 wrap
    # (2**15, 2**16): a scalar path that wraps, or takes the count modulo 65,536, shows too.
    for bits, kind in ((16, int), (15, np.int64), (16, np.int32), (16, np.uint32)):
        k = 2**bits + int(rng.integers(0, 538))
        shown = f"{k}" if kind is int else f"np.{np.dtype(kind).name}({k})"
        cases.append(Case(f"n_layers = {shown} (just past 2**{bits})", (kind(k),)))
    # One count at a time, as every kind of number the task allows for one count (a Python
    # int, a numpy integer, a 0-d array), each drawn at random: every count up to
    # SINGLE_COUNTS (past where the bound reaches 0) and counts drawn above it up to 100,000.
    # A path for one count that goes wrong in some band of counts, or for one kind of number,
    # shows (the cases above meet one path at a few counts only). (Twenty above it: a loop
    # over 1..n, which the work cases refuse, runs a second per 300,000 steps here.)
    single = np.concatenate([np.arange(SINGLE_COUNTS + 1), np.unique(
        (10 ** rng.uniform(math.log10(SINGLE_COUNTS + 1), math.log10(MAX_COUNT), 20)
         ).astype(np.int64))])
    single = rng.permutation(single)
    kinds = rng.integers(0, _INT16_0D, single.size)
    # (one count in eight up to 32,767 as a 0-d int16 array, drawn from the stream above)
    kinds[(more.random(single.size) < 1 / 8) & (single <= np.iinfo(np.int16).max)] = _INT16_0D
    cases.append(Case(f"every count from 0 to {SINGLE_COUNTS} and counts drawn up to 100,000, "
                      "one at a time, each as a Python int, a numpy integer (int32, int64, "
                      "uint32 or uint64) or a 0-d array (int16, int32 or int64), in a random "
                      "order",
                      (single.tolist(), kinds.tolist()),
                      driver="ch02.counts"))
    counts = _int_array(rng, (3, 5))
    cases.append(Case("a random int64 array of shape (3, 5)", (counts.copy(),)))
    cases.append(Case("the previous case's counts with two inner values swapped (the same "
                      "shape, sum, ends, largest and smallest)", (swapped_inner(rng, counts),)))
    # The large input also has larger counts, so a loop over 1..max(n) shows as well.
    cases += work_cases(lambda shape, large: _int_array(rng, shape, high=60 if large else 3),
                        shapes=SHRINK_WORK_SHAPES)
    # Other shapes, dtypes and deeper counts: a loop kept for them (counts above 60, say,
    # "to be careful") is measured too.
    kinds = {kind: (lambda rng, shape, dtype=dtype, high=high: _int_array(rng, shape, dtype,
                                                                         high=high))
             for kind, dtype, high in (("three axes", np.int64, 60), ("four axes", np.int64, 60),
                                       ("one axis", np.int64, 60), ("int32", np.int32, 60),
                                       ("int16", np.int16, 60),
                                       ("Fortran order", np.int64, 60),
                                       ("counts up to 1000", np.int64, 1000))}
    return cases + _kind_work_cases(rng, kinds)


# Below about 2.2e-308 float64 numbers are subnormal and lose digits: how many depends on how
# the power is computed (1 / 4.0**n overflows to 1 / inf = 0 there), so any value in that
# range, 0 included, counts as right. Above it the bound is a power of two, which float64
# holds exactly: it is compared exactly.
_TINY = float(np.finfo(np.float64).tiny)
_EXACT_HINT = ("the bound is a power of two, which float64 holds exactly down to about 1e-308, "
               "and the check compares it exactly: your value is off in its last digits, as "
               "exp and log (or a rounding, or a float32 on the way) leave it. Compute the "
               "power itself, in float64.")


def _shrink_close(got, expected) -> np.ndarray:
    """Where ``got`` is the bound: exactly, down to float64's smallest normal number; below
    it, any value from 0 to that number."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(expected >= _TINY, got == expected,
                        (got >= 0) & (got <= _TINY))


def _not_float64(label: str, got) -> ExerciseError:
    return ExerciseError(
        f"{label} returned {got}; the task asks for float64, whatever the "
        "values (a float64 holds every bound down to about 1e-308).",
        "compute in float64: 0.25 ** n with the count as an integer or a float64 gives it; "
        "no .astype to a smaller float on the way.")


def _shrink_reference(n, kinds=None):
    # (for the driver's case, ``n`` is the list of counts it asks for one at a time)
    return 0.25 ** np.asarray(n, dtype=float)


def _judge_counts(case: Case, obs, expected) -> None:
    """The driver's case: each count judged as a case of its own would be, the first that
    differs (or raised) named with its kind of number."""
    what = "`sigmoid_shrink_bound(n_layers)`"
    counts, kinds = case.args
    record = obs.result
    values = np.asarray(record["values"], dtype=float)
    done = len(values)
    labels = np.asarray(record["kinds"], dtype=np.int8)
    expected = np.asarray(expected, dtype=float)

    def one(j):
        return Case(case.label, (_COUNT_KINDS[kinds[j]](counts[j]),))

    # (a 0-d array asks for a 0-d array or a np.float64 back, not a Python float)
    zero_d = np.asarray(kinds[:done], dtype=np.int64) >= _FIRST_0D
    python_float = labels == 0
    wrong = ~_shrink_close(values, expected[:done]) | (zero_d & python_float)
    for j in np.flatnonzero(wrong):
        result = (float(values[j]), np.float64(values[j]), np.array(values[j]))[labels[j]]
        _judge_shrink(one(j), types.SimpleNamespace(result=result), expected[j])
    if done < len(counts) and record["error"]:
        case_j = one(done)
        hint = _explain_shrink_error(case_j, types.SimpleNamespace(error=record["error"]))
        raise ExerciseError(
            f"{what} with n_layers = {_shown_count(case_j.args[0])} raised {record['error']}",
            hint or "run your function on this count in a cell of its own and read the error: "
                    "it must work for every count, one at a time and as an array.")
    if done < len(counts):
        _judge_shrink(one(done), types.SimpleNamespace(result=record["odd"]), expected[done])
        raise ExerciseError(
            f"{what} with n_layers = {_shown_count(one(done).args[0])} returned "
            f"{record['odd']!r} (of type {type(record['odd']).__name__}); for one count the "
            "task asks for a Python float, a np.float64 or a 0-d float64 array.",
            "compute with numpy's operations or Python floats: 0.25 ** n gives one of them.")


def _shown_count(n) -> str:
    """A layer count as a message shows it, with its type: 8, np.uint8(3), np.array(11)."""
    if isinstance(n, np.ndarray) and n.ndim == 0:
        dtype = "" if n.dtype == np.int64 else f", dtype=np.{n.dtype.name}"
        return f"np.array({int(n)}{dtype}) (a 0-d array)"
    if isinstance(n, np.integer):
        return f"np.{n.dtype.name}({int(n)})"
    return show(n)


def _wrap_hint(n) -> str | None:
    """For a numpy integer count: which of -n, 2 * n and 4**n wrap around in its own dtype."""
    if not isinstance(n, np.integer):
        return None
    info, k = np.iinfo(n.dtype), int(n)
    name = n.dtype.name
    wraps = []
    with np.errstate(over="ignore"):
        if info.min == 0 and k:
            wraps.append(f"-n is {int(-n)}")
        if 2 * k > info.max:
            wraps.append(f"2 * n is {int(n * n.dtype.type(2))}")
        if 2 * k >= info.max.bit_length():  # 4**k > info.max
            wraps.append(f"4**n passes it from n = {n.dtype.itemsize * 4}")
    if not wraps:
        return None
    return (f"arithmetic on a numpy {name} stays in {name}, which holds the integers from "
            f"{info.min} to {info.max} and wraps around silently beyond: for this n, "
            f"{', '.join(wraps)}. Compute with floats (turn the count into a float first).")


def _judge_shrink(case: Case, obs, expected) -> None:
    if case.driver == "ch02.counts":
        _judge_counts(case, obs, expected)
        return
    what = "`sigmoid_shrink_bound(n_layers)`"
    n = _input(case)
    label = f"{what} with n_layers = {_shown_count(n)}"
    if not isinstance(n, np.ndarray):  # one layer count: one number (the task allows 0-d)
        got = obs.result
        if isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind == "f":
            got = got[()]
        if isinstance(got, np.ndarray):
            raise ExerciseError(
                f"{label} returned an array of shape {got.shape}; for one layer count the "
                "bound is one number.",
                "an operation on a plain number gives a plain number: do not wrap the input in "
                "an array of its own.")
        value = expect_float(got, label, finite=False,
                             hint="return the number itself, not text or a list.")
        if value < 0:
            raise ExerciseError(f"{label} is {value!r}, a negative bound; expected "
                                f"{pair(value, expected)[1]}.",
                                "a bound on a size is a product of positive factors: it is "
                                "never below 0.")
        if not _shrink_close(value, expected):
            shown, wanted = pair(value, expected)
            hint = _shrink_hint(n, value)
            if hint is None and isinstance(got, np.floating) and got.dtype != np.float64:
                finfo = np.finfo(got.dtype)
                hint = (f"a {got.dtype} holds numbers down to about {finfo.tiny:.0e} only, "
                        "and (1/4)**n falls below that: compute in float64."
                        if float(expected) < finfo.tiny else
                        f"a {got.dtype} keeps about {finfo.precision} significant digits: "
                        "compute in float64.")
            if hint is None:
                hint = _wrap_hint(n)
            if hint is None and float(expected) < _TINY:
                hint = (f"{int(n)} layers take the bound below float64's smallest numbers, "
                        "where 0 (or any tiny value) is right: the formula holds for every "
                        "count, however deep the network, with no test or table on the way.")
            if hint is None and math.isclose(value, float(expected), rel_tol=1e-6):
                hint = _EXACT_HINT
            raise ExerciseError(f"{label} is {shown}, expected {wanted}.",
                                hint or _SHRINK_DEFAULT_HINT)
        if isinstance(got, (int, np.integer)):
            raise ExerciseError(
                f"{label} returned the integer {got!r}; the task asks for a float (the bound is "
                "a fraction, and one type for every count keeps later arithmetic exact).",
                "return 0.25 ** n or 1.0, a float, for every count, n = 0 included.")
        if isinstance(got, np.floating) and got.dtype != np.float64:
            raise _not_float64(label, f"a numpy {got.dtype} ({pair(got, expected)[0]})")
        return
    if n.ndim == 0 and type(obs.result) in (int, float):  # (np.float64 is a float subclass)
        raise ExerciseError(
            f"{label} returned a Python {type(obs.result).__name__} ({obs.result!r}); for a "
            "0-d array the task asks for what numpy's arithmetic on it gives: a 0-d float "
            "array or a numpy float.",
            "compute with numpy's operations on the array itself: float(), int(), math "
            "functions and Python loops turn it into Python numbers.")
    got = elementwise_result(obs.result, n, label,
                             "apply the formula to the whole array, one bound per entry, "
                             "without flattening or reducing it.")
    if got.dtype.kind != "f":
        raise ExerciseError(
            f"{label} returned dtype {got.dtype}; the bounds are fractions, so the result must "
            "be a float array.", "compute with floats: 0.25 ** n, not an integer power.")
    negative = np.flatnonzero(np.asarray(got, dtype=float) < 0)
    if negative.size:
        k = int(n.flat[negative[0]])
        raise ExerciseError(f"{label} is negative at n_layers = {k}: got "
                            f"{pair(got.flat[negative[0]], 0.25 ** k)[0]}.",
                            "a bound on a size is a product of positive factors: it is never "
                            "below 0.")
    close = _shrink_close(got, expected)
    if np.all(close):
        if got.dtype != np.float64:
            raise _not_float64(label, f"an array of shape {got.shape} and dtype {got.dtype}")
        return
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.where(close, 0.0, np.abs(np.asarray(got, dtype=float) - expected))
    gap = np.where(np.isnan(gap), np.inf, gap)
    # (the largest difference, or, when every one is a last-digit one, the largest relative)
    if np.all(gap < 1e-6 * expected + _TINY):
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(expected > 0, gap / expected, 0.0)
    index = np.unravel_index(int(np.argmax(gap)), gap.shape) if gap.ndim else ()
    n_bad = int(np.sum(~close))
    k = int(n[index])
    hint = _shrink_hint(n, got)
    if hint is None and (not np.isfinite(got[index]) or got[index] == 0) and 32 <= k <= 40:
        hint = ("an int64 holds numbers up to about 9.2e18; 4**n passes that at n = 32 and "
                "wraps around silently, so compute with floats.")
    if hint is None and k >= 75 and got.dtype != np.float64:
        hint = (f"a {got.dtype} holds numbers down to about {np.finfo(got.dtype).tiny:.0e} "
                "only, and (1/4)**n falls below that: compute in float64.")
    if hint is None and np.isclose(float(got[index]), float(expected[index]), rtol=1e-6,
                                   atol=0):
        hint = _EXACT_HINT
    if hint is None and n.dtype.kind in "iu" and 2 * k > np.iinfo(n.dtype).max:
        name = n.dtype.name
        with np.errstate(over="ignore"):
            doubled = int(n.dtype.type(k) * n.dtype.type(2))
        hint = (f"arithmetic on a numpy {name} array stays in {name}, which holds the integers "
                f"up to {np.iinfo(n.dtype).max:,} and wraps around silently beyond: for n = "
                f"{k}, 2 * n is {doubled} and -2 * n is {-doubled} in {name}. Compute with "
                "floats (turn the counts into floats first).")
    if hint is None and k > 127:
        hint = ("deep networks have hundreds of layers: a small integer type (int8 holds up "
                "to 127, uint16 to 65,535) wraps around, and a table of precomputed bounds "
                "runs out.")
    raise ExerciseError(
        f"{label} differs in {n_bad} of {n.size} entries; the largest difference is at "
        f"n_layers = {k}: got {pair(got[index], expected[index])[0]}, expected "
        f"{pair(got[index], expected[index])[1]}.",
        hint or "each entry is the bound for that many layers, whatever its position in the "
                "array.")


def _explain_shrink_error(case: Case, obs) -> str | None:
    n = _input(case) if case.driver is None else case.args[0]
    if "out of bounds for" in obs.error and isinstance(n, np.integer):
        return (f"arithmetic on a numpy {n.dtype.name} stays in {n.dtype.name}: a Python int "
                f"outside its range (a negative one, for an unsigned type) cannot take part. "
                "Compute with floats (turn the count into a float first).")
    if "out of bounds for" in obs.error:
        return ("your code turns the count into a small numpy integer type, which cannot hold "
                f"{int(n) if np.ndim(n) == 0 else 'every count'}: counts go up to 100,000 (a "
                "uint16 holds up to 65,535, an int16 up to 32,767). Compute with floats (turn "
                "the count into a float first).")
    if "negative integer powers" in obs.error:
        return ("numpy refuses to raise an integer to a negative integer power, because the "
                "result would not be an integer: the bound is a fraction, so compute it with "
                "floats.")
    if obs.error.startswith("OverflowError"):
        return ("4.0 ** n overflows a float beyond n = 511 (a Python float stops near 1.8e308): "
                "compute the power of 1/4 directly, which can only get small.")
    if "converted to Python scalars" in obs.error or "must be real number" in obs.error:
        return ("the math module works on one number at a time; for an array of layer counts "
                "use numpy's functions or arithmetic operators, which work on whole arrays.")
    return None


SHRINK_BOUND = Spec(
    "ch02.sigmoid_shrink_bound", check="ch02.check_sigmoid_shrink_bound",
    grade_id="ch02-shrink-bound-check",
    what="`sigmoid_shrink_bound(n_layers)`", answers=("sigmoid_shrink_bound",),
    draw=_draw_shrink, reference=_shrink_reference, judge=_judge_shrink,
    explain_error=_explain_shrink_error, vectorised=True, reuse_calls=64, twins=6,
    loop_hint="arithmetic operators and numpy's functions work on a whole array at once.",
    passed="`sigmoid_shrink_bound(n_layers)` is right: (1/4)**n for one count and for every "
           "entry of an array; after 8 sigmoid layers a gradient keeps at most 1.5e-05 of "
           "its size (one unit per layer with |w| <= 1, or weight matrices of spectral norm at "
           "most 1).")


@exercise_check
def check_sigmoid_shrink_bound(answer, *, seed: int | None = None) -> None:
    """Check ``answer(n)`` is (1/4)**n for an int and entrywise for an int array, loop-free."""
    SHRINK_BOUND.check(answer, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 3: an initialisation that keeps a 10-layer tanh network out of saturation
# --------------------------------------------------------------------------------------

# The check follows each network layer by layer the way section 2 does: a unit with n inputs of
# variance v and weights of std sigma_w has a pre-activation z of variance q = n sigma_w^2 v,
# so its output tanh(z) has variance E[tanh(sqrt(q) Z)^2] (Z standard normal; the mean field
# of a wide layer, computed by Gauss-Hermite quadrature), and it is saturated (tanh'(z) < 0.01)
# where |z| > arctanh(sqrt(0.99)) = 2.993, a share erfc(2.993 / sqrt(2 q)) of the time. No
# sampling, so the verdict does not depend on the draw of weights or inputs, and the margins
# are exact: with the criteria below the accepted gains sigma_w sqrt(fan_in) of a layer of
# constant width lie between 0.89 and 1.16 (LeCun's 1 in the middle; He's sqrt(2) and
# PyTorch's 5/3 for tanh are too large, 0.8 x Xavier too small).
MAX_SATURATED = 0.01
MIN_LAST_STD = 0.1
_X_SATURATED = math.atanh(math.sqrt(1 - diagnostics.SATURATION_THRESHOLD))
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(121)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()

# Variances of the usual recipes: a std equal to one of them on every layer forgot a root.
_VARIANCE_RULES = {
    "2 / (fan_in + fan_out)": lambda i, o: 2 / (i + o),
    "1 / fan_in": lambda i, o: 1 / i,
    "1 / fan_out": lambda i, o: 1 / o,
    "2 / fan_in": lambda i, o: 2 / i,
}


def tanh_network_stats(std_fn, sizes) -> dict[str, np.ndarray]:
    """Expected saturated share and std of each hidden layer of a tanh network whose weights
    are N(0, std_fn(fan_in, fan_out)^2), biases 0, on inputs of unit variance.

    ``sizes`` lists the input width and the hidden widths (an output width after them is
    ignored). Layer by layer: q = fan_in * std^2 * v, saturated share erfc(2.993 / sqrt(2 q)),
    next v = E[tanh(sqrt(q) Z)^2] with Z standard normal (the wide-layer mean field).
    """
    v, saturated, spread = 1.0, [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        std = float(std_fn(fan_in, fan_out))
        q = min(std * std * fan_in * v, 1e300)  # (a std of 1e300 saturates; no overflow)
        saturated.append(math.erfc(_X_SATURATED / math.sqrt(2 * q)) if q > 0 else 0.0)
        v = float(_WEIGHTS @ np.square(np.tanh(math.sqrt(q) * _NODES)))
        spread.append(math.sqrt(v))
    return {"saturated": np.array(saturated), "std": np.array(spread)}


# The networks the task promises: ten tanh layers, widths from 2 to 1000, consecutive widths
# at most 1.6 times apart; and wider ones, from 1,000 to 100,000 units and of millions of
# units. (The model above does not depend on the width itself, so LeCun's and Xavier's rules
# pass at any width; a rule that switches or levels off at some width shows.) The layers wider
# than 1000 units are asked for by a driver that stops at the first result that is not one
# number: an answer that returns the weights themselves would fill the memory there.
MIN_WIDTH, MAX_WIDTH, MAX_RATIO, VERY_WIDE = 2, 1000, 1.6, 100_000
#: The square layers the check asks for, one of every width (the "network of that width"),
#: and as many more drawn above it, up to the widest networks.
SQUARE_WIDTHS = range(1, MAX_WIDTH + 1)
#: Networks are drawn up to 10**WIDEST_DECADE units; square layers, layers with fans at most
#: MAX_RATIO apart, layers of one input and single layers of any fans, up to MAX_FAN (two fans
#: and their sum still fit an int64, so np.sqrt(fan_in + fan_out) takes them).
WIDEST_DECADE, MAX_FAN = 7, 2**62


def _log_sweep(rng, low: float, high: float, ratio: float) -> list[int]:
    """Widths from ``low`` to ``high``, one drawn at random in each band of widths ``ratio``
    times wide (log-uniform within it): a rule that goes wrong in a band of widths wider
    than that meets one on every draw, and a narrower band on some draws."""
    n = max(1, math.ceil(math.log(high / low) / math.log(ratio)))
    logs = math.log(low) + (np.arange(n) + rng.uniform(0, 1, n)) * (math.log(high / low) / n)
    return np.unique(np.minimum(np.exp(logs), high).astype(np.int64)).tolist()


def _tanh_networks(rng) -> dict[str, list[int]]:
    """Ten tanh layers each: one that narrows (sharply at first), one that widens, steep ones,
    and four of random widths (each layer 0.8 to 1.25 times a random base, or a walk through
    the widest widths). The networks of one width each are the square layers of the sweep."""
    networks = {
        "narrowing network (256 inputs, then 164 units, each layer 0.8 times the last)":
            [256] + [round(164 * 0.8**k) for k in range(10)],
        "widening network (24 units, then 1.25 times wider a layer)":
            [round(24 * 1.25**k) for k in range(11)],
        # The steepest the task allows (1.6 times a layer), from the widest to the narrowest
        # and back: the first layer of the one and the last of the others show a gain that is
        # a little too large or too small.
        "steep narrowing network (400 units, then 1.6 times narrower a layer)":
            [400, 250, 157, 99, 62, 39, 25, 16, 16, 16, 16],
        "steep early widening network (16 units, 1.6 times wider a layer up to 400)":
            [16, 25, 40, 64, 102, 163, 260, 400, 400, 400, 400],
        "steep late widening network (16 units for four layers, then 1.6 times wider)":
            [16, 16, 16, 16, 25, 39, 62, 99, 157, 250, 400],
        # 1.6 times wider at every layer: the network that fades most (LeCun's rule keeps a
        # last std of 0.23 there, Xavier's 0.106, 0.98 x Xavier's 0.092).
        "steepest widening network (9 units, then 1.6 times wider a layer up to 928)":
            [9, 14, 22, 35, 56, 89, 142, 227, 363, 580, 928],
        "network of widths 3 to 7": [3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 3],
    }
    # One of the usual widths, and two anywhere from 10 to 1000 (log-uniform): a rule that
    # changes within some band of widths meets it on some draws.
    bases = [int(rng.choice([20, 32, 48, 64, 96, 128, 192, 256, 320]))]
    bases += [int(round(10 ** rng.uniform(1, math.log10(800)))) for _ in (2, 3)]
    for j, base in enumerate(bases, start=1):
        sizes = [min(MAX_WIDTH, max(MIN_WIDTH, int(round(base * rng.uniform(0.8, 1.25)))))
                 for _ in range(11)]
        networks[f"random network {j} (widths {min(sizes):,} to {max(sizes):,})"] = sizes
    # And a walk through the widest widths (401 to 1000), each layer 0.7 to 1.4 times the last.
    walk = [int(rng.integers(401, MAX_WIDTH + 1))]
    while len(walk) < 11:
        walk.append(min(MAX_WIDTH, max(401, int(round(walk[-1] * rng.uniform(0.7, 1.4))))))
    networks[f"random network 4 (widths {min(walk):,} to {max(walk):,})"] = walk
    return networks


#: The kinds of step from one width to the next (each at most 1.6 times): every network drawn
#: over the whole range of widths takes each kind once, at a random layer.
_STEPS = {
    "square": lambda rng, w: w,
    "one unit narrower": lambda rng, w: w - 1,
    "one unit wider": lambda rng, w: w + 1,
    "1-2 % narrower": lambda rng, w: w / rng.uniform(1.01, 1.02),
    "1-2 % wider": lambda rng, w: w * rng.uniform(1.01, 1.02),
    "1.2-1.6 times narrower": lambda rng, w: w / rng.uniform(1.2, MAX_RATIO),
    "1.2-1.6 times wider": lambda rng, w: w * rng.uniform(1.2, MAX_RATIO),
    "any": lambda rng, w: w * MAX_RATIO ** rng.uniform(-1, 1),
}


def _drawn_networks(rng) -> dict[str, list[int]]:
    """Four networks of ten layers over the whole range of widths, one starting in each power
    of ten from 1,000 to 10 million units; their ten steps are one of each kind of _STEPS (the
    last kind three times) in a random order."""
    networks = {}
    kinds = [*_STEPS.values(), _STEPS["any"], _STEPS["any"]]
    for decade in range(3, WIDEST_DECADE):
        sizes = [int(10 ** rng.uniform(decade, decade + 1))]
        for k in rng.permutation(len(kinds)):
            w = sizes[-1]
            step = int(round(kinds[k](rng, w)))
            sizes.append(min(int(w * MAX_RATIO), max(math.ceil(w / MAX_RATIO), MIN_WIDTH, step)))
        networks[f"drawn network {decade - 2} (widths {min(sizes):,} to {max(sizes):,}; square, "
                 "slowly and steeply narrowing and widening layers)"] = sizes
    return networks


def _wide_networks(rng) -> dict[str, list[int]]:
    """The networks wider than 1000 units: a walk from 1,000 to 100,000 units (each layer 0.8
    to 1.25 times the last), and one of millions of units that narrows by 8 to 14 % a layer
    (a rule rounded to a few decimals gives 0 or a gain far above 1 there; a gain a little
    too small on gently narrowing layers fades over ten of them)."""
    walk = [int(10 ** rng.uniform(3, 5))]
    while len(walk) < 11:
        walk.append(min(VERY_WIDE, max(1001, int(round(walk[-1] * rng.uniform(0.8, 1.25))))))
    huge = [int(10 ** rng.uniform(6.3, 7))]
    while len(huge) < 11:
        huge.append(int(round(huge[-1] / rng.uniform(1.08, 1.14))))
    # The steepest the task allows above 1,000 units too (each layer 1.6 times wider, or
    # narrower, than the last): a rule that switches to another fan above 1,000 units (the
    # larger one, say) fades there as it would on the narrow steep networks.
    up = [int(10 ** rng.uniform(3, 5))]
    down = [int(10 ** rng.uniform(5.1, 7))]
    while len(up) < 11:
        up.append(int(up[-1] * MAX_RATIO))
        down.append(math.ceil(down[-1] / MAX_RATIO))
    return {f"wide random network (widths {min(walk):,} to {max(walk):,})": walk,
            f"very wide network ({huge[0]:,} units, then 8 to 14 % narrower a layer, down to "
            f"{huge[-1]:,})": huge,
            f"steepest wide widening network ({up[0]:,} units, then 1.6 times wider a layer "
            f"up to {up[-1]:,})": up,
            f"steepest wide narrowing network ({down[0]:,} units, then 1.6 times narrower a "
            f"layer down to {down[-1]:,})": down}


@driver("ch02.stds")
def _stds(answers, pairs):
    """The answer's std for each (fan_in, fan_out) row of ``pairs``, in order, as a float
    array, up to the first result that is not a float (kept as it came, in "odd": an array of
    weights for a layer of millions of units would not fit in memory) or the first error."""
    stds, odd, error = [], None, ""
    for fan_in, fan_out in pairs.tolist():
        try:
            std = answers[0](fan_in, fan_out)
        except NotImplementedError:
            raise
        except Exception as err:  # the student's code failed: say for which fans
            error = f"{type(err).__name__}: {err}"[:600]
            break
        if not isinstance(std, (float, np.floating)):
            odd = std
            break
        stds.append(float(std))
    return {"stds": np.array(stds, dtype=float), "odd": odd, "error": error}


def _draw_tanh_init(rng) -> list[Case]:
    cases = [Case("fan_in = 1, fan_out = 1", (1, 1)),
             Case("fan_in = 1, fan_out = 1000", (1, 1000)),
             Case("fan_in = 1000, fan_out = 1", (1000, 1)),
             Case("fan_in = 100000, fan_out = 100000", (100_000, 100_000))]
    # The layers of the networks up to 1000 units wide, then every square layer from 1 to
    # 1000 units and wider ones, one in every band of widths 1 % wide up to 10 million units
    # and 5 % wide beyond, up to the largest fans (a network of that width: a rule kept for
    # some widths shows), then the layers of the wide networks and of networks drawn over the
    # whole range, all through the driver (one call of the check's own, not one case per
    # layer: thousands of layers are asked for in a few milliseconds). Then layers of fans at
    # most 1.6 times apart beyond 10 million units, layers of one input (1 -> k, k from 2 to
    # the largest fans: fed a unit-variance input, they must keep to the saturation limit
    # too) and of one output, and single layers of any fans (only a positive float is asked
    # of them), up to MAX_FAN: a rule that changes beyond some size, or works in int32,
    # shows.
    narrow = _tanh_networks(rng)
    wide = {**_wide_networks(rng), **_drawn_networks(rng)}
    widest = 10**WIDEST_DECADE
    # (in the bands of 1 % from 1,000 to 10 million units, in turn from a drawn start: a
    # square layer; a layer of that fan_in whose fan_out is up to 1.6 times larger (in every
    # other such band) or smaller, and the same layer back (fan_out -> fan_in); a square
    # layer; none. So every band of widths 4 % wide holds a square layer and such a couple,
    # and one 8 % wide a widening and a narrowing layer of its fan_in: a rule that goes
    # wrong in a band of widths, on square layers, or on narrowing or widening ones only,
    # meets one. First-layer saturation is judged on each, and the couple of smallest gains
    # makes a network that goes there and back five times, which must not fade.)
    sweep = np.asarray(_log_sweep(rng, MAX_WIDTH, widest, 1.01))
    sweep = sweep[sweep > MAX_WIDTH]
    kind = (np.arange(sweep.size) + rng.integers(4)) % 4
    beyond = np.asarray(_log_sweep(rng, widest, MAX_FAN, 1.05))
    squares = [*SQUARE_WIDTHS, *np.unique(np.concatenate([sweep[kind % 2 == 0],
                                                          beyond[beyond > widest]])).tolist()]
    fan_in = sweep[kind == 1]
    sign = np.where((np.arange(fan_in.size) + rng.integers(2)) % 2, 1, -1)
    fan_out = np.clip(np.round(fan_in * MAX_RATIO ** (sign * rng.uniform(0, 1, fan_in.size))),
                      np.ceil(fan_in / MAX_RATIO), np.floor(fan_in * MAX_RATIO)).astype(np.int64)
    couples = np.stack([fan_in, fan_out, fan_out, fan_in], axis=1).reshape(-1, 2)
    first = [[i, o] for sizes in narrow.values() for i, o in zip(sizes[:-1], sizes[1:])]
    layers = [[i, o] for sizes in wide.values() for i, o in zip(sizes[:-1], sizes[1:])]
    near = 2 ** rng.uniform(math.log2(widest), math.log2(MAX_FAN) - 1, 24)
    near = np.stack([near, near * MAX_RATIO ** rng.uniform(-0.98, 0.98, 24)], axis=1)
    one_input = [[1, k] for k in _log_sweep(rng, 2, MAX_FAN, 1.3)]
    one_output = [[k, 1] for k in (2 ** rng.uniform(1, math.log2(MAX_FAN), 24)).astype(np.int64)]
    fans = (2 ** rng.uniform(0, math.log2(MAX_FAN), (16, 2))).astype(np.int64)
    fans[0, 0], fans[1, 1] = rng.integers(2**31, MAX_FAN, 2)
    pairs = np.concatenate([np.array(first, dtype=np.int64),
                            np.repeat(np.array(squares, dtype=np.int64)[:, None], 2, axis=1),
                            np.array(layers, dtype=np.int64), couples,
                            near.astype(np.int64),
                            np.array(one_input + one_output, dtype=np.int64), fans])
    cases.append(Case("the layers of ten-layer networks up to 1,000 units wide (narrowing, "
                      "widening, steep, of random widths), square layers of every width from 1 "
                      "to 1,000 units and of widths drawn beyond, up to billions of billions, "
                      f"the layers of the {' and the '.join(wide)}, then layers of fans at most "
                      "1.6 times apart from 1,000 units on, layers of one input or one output, "
                      "and single layers of fans drawn up to billions of billions",
                      (pairs,), driver="ch02.stds",
                      note={"wide": {**narrow, **wide}, "squares": squares,
                            "squares_at": len(first),
                            "couples": [len(first) + len(squares) + len(layers),
                                        len(couples)]}))
    return cases


def _std_value(value, fan_in, fan_out) -> float:
    """One std as a float, or an ExerciseError saying what is wrong with it."""
    what = "`tanh_init_std(fan_in, fan_out)`"
    where = f"for fan_in={fan_in}, fan_out={fan_out}"
    if isinstance(value, np.ndarray):
        raise ExerciseError(
            f"{what} should return one number (a standard deviation) {where}, got an array of "
            f"shape {value.shape}.",
            "return the spread sigma_w of the weights as a plain number, not an array (not "
            "even of one element) and not the weights themselves: the check draws the weights "
            "from N(0, sigma_w^2).")
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        raise ExerciseError(
            f"{what} returned the integer {value!r} {where}; the task asks for a float.",
            "a standard deviation is a real number: compute it with float arithmetic (the "
            "/ operator, math.sqrt or np.sqrt) for every pair of fans, ones included.")
    value = expect_float(value, f"{what} {where}", finite=False,
                         hint="return the spread sigma_w of the weights: one number.")
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
            "a weight std shrinks as the layer gets wider; rounding, or `//` (integer "
            "division), turns a small fraction into 0.")
    return value


def _driver_pairs(case: Case) -> list:
    return list(map(tuple, np.asarray(case.args[0]).tolist()))


def _judge_one_std(case: Case, obs, expected) -> None:
    if case.driver is None:
        _std_value(obs.result, *case.args)
        return
    record = obs.result
    stds = np.asarray(record["stds"], dtype=float)
    bad = np.flatnonzero(~(stds > 0) | ~np.isfinite(stds))
    if bad.size:
        _std_value(float(stds[bad[0]]), *np.asarray(case.args[0])[bad[0]].tolist())
    if len(stds) == len(case.args[0]):
        return
    pairs = _driver_pairs(case)
    if len(stds) < len(pairs) and not record["error"]:
        fan_in, fan_out = pairs[len(stds)]
        _std_value(record["odd"], fan_in, fan_out)
        raise ExerciseError(
            f"`tanh_init_std(fan_in, fan_out)` returned {record['odd']!r} for fan_in={fan_in}, "
            f"fan_out={fan_out}; the task asks for a float.",
            "return the spread sigma_w of the weights: one float.")
    if record["error"]:
        fan_in, fan_out = pairs[len(stds)]
        raise ExerciseError(
            f"`tanh_init_std(fan_in, fan_out)` raised {record['error']} for fan_in={fan_in}, "
            f"fan_out={fan_out}.",
            "run your function on these fans in a cell of its own and read the error: it "
            "must work for any positive fans.")


def _square_name(width: int) -> str:
    units = "unit" if width == 1 else "units"
    return (f"network of {width:,} {units} a layer (ten square {width:,}->{width:,} layers; "
            f"every width from 1 to {MAX_WIDTH:,} is tried, and wider ones)")


def _judge_tanh_networks(cases, observations, expected) -> None:
    networks: dict[str, dict] = {}
    all_stds: dict[tuple, float] = {}

    def seen(fans, value):
        if fans in all_stds and value != all_stds[fans]:
            raise ExerciseError(
                f"`tanh_init_std({fans[0]}, {fans[1]})` returned {all_stds[fans]!r} once and "
                f"{value!r} another time: the same fans must give the same std.",
                "compute the std from fan_in and fan_out only: no random numbers, no counter "
                "or state kept between calls.")
        all_stds[fans] = value

    square_widths, square_stds = np.zeros(0, dtype=np.int64), np.zeros(0)
    for case, obs in zip(cases, observations):
        if case.driver is not None:
            # (fans asked twice in the driver, found in one sort: the first that gave two
            # stds, in the order asked)
            pairs = np.asarray(case.args[0])
            given = np.asarray(obs.result["stds"], dtype=float)
            order = np.lexsort((pairs[:, 1], pairs[:, 0]))
            twice = np.flatnonzero(np.all(pairs[order][1:] == pairs[order][:-1], axis=1)
                                   & (given[order][1:] != given[order][:-1]))
            if twice.size:
                fans = tuple(int(v) for v in pairs[order[twice[0]]])
                seen(fans, float(given[order[twice[0]]]))
                seen(fans, float(given[order[twice[0] + 1]]))
            values = dict(zip(_driver_pairs(case), given.tolist()))
            for fans in values.keys() & all_stds.keys():
                seen(fans, values[fans])
            all_stds.update(values)
            # (the square layers come after the first networks' layers in the driver's pairs)
            square_widths = np.asarray(case.note["squares"], dtype=np.int64)
            at = case.note["squares_at"]
            square_stds = np.asarray(obs.result["stds"], dtype=float)[at:at + square_widths.size]
            for name, sizes in case.note["wide"].items():
                networks[name] = {"sizes": sizes, "stds": dict(enumerate(
                    values[fans] for fans in zip(sizes[:-1], sizes[1:])))}
            # The couple (a layer and the same layer back) of the smallest gains: a network
            # that goes there and back, ten layers, five of each.
            at, count = case.note.get("couples", (0, 0))
            if count:
                pairs = np.asarray(case.args[0])[at:at + count].reshape(-1, 2, 2)
                both = np.asarray(obs.result["stds"], dtype=float)[at:at + count].reshape(-1, 2)
                with np.errstate(over="ignore"):
                    gains = both[:, 0] * both[:, 1] * np.sqrt(pairs[:, 0, 0] * 1.0) * np.sqrt(
                        pairs[:, 0, 1] * 1.0)
                k = int(np.argmin(gains))
                w, o = (int(v) for v in pairs[k, 0])
                networks[f"network that goes from {w:,} to {o:,} units and back, five times "
                         f"(ten {w:,}->{o:,} and {o:,}->{w:,} layers)"] = {
                    "sizes": [w, o] * 5 + [w], "stds": {j: float(both[k, j % 2])
                                                        for j in range(10)}}
    # The square layers: a network of ten equal layers has one gain, std * sqrt(width), and
    # both criteria are monotonic in it (more saturated and less faded as it grows), so the
    # width of the largest gain and that of the smallest are the two to follow.
    if square_widths.size:
        # (a std near float64's largest gives an infinite gain, the largest: no warning)
        with np.errstate(over="ignore"):
            gains = square_stds * np.sqrt(square_widths.astype(float))
        for k in dict.fromkeys(int(k) for k in (np.argmax(gains), np.argmin(gains))):
            w = int(square_widths[k])
            networks[_square_name(w)] = {"sizes": [w] * 11,
                                         "stds": dict.fromkeys(range(10), float(square_stds[k]))}
    gain_hint = ("each layer should pass on a signal of about the spread it received, forwards "
                 "and backwards: section 2 shows how the weight std and the number of inputs "
                 "set the spread of z, and section 5 balances the forward and the backward "
                 "condition.")
    for name, net in networks.items():
        sizes = net["sizes"]
        stds = [net["stds"][j] for j in range(len(sizes) - 1)]
        by_fans = dict(zip(zip(sizes[:-1], sizes[1:]), stds))
        stats = tanh_network_stats(lambda i, o, by_fans=by_fans: by_fans[i, o], sizes)
        saturated = stats["saturated"]
        worst = int(np.argmax(saturated))
        if saturated[worst] > MAX_SATURATED:
            fan_in, fan_out, std = sizes[worst], sizes[worst + 1], stds[worst]
            raise ExerciseError(
                f"in the {name}, hidden layer {worst + 1} is expected to be "
                f"{saturated[worst]:.1%} saturated (tanh' < 0.01); at most {MAX_SATURATED:.0%} "
                "is allowed. Your std for that "
                f"{fan_in}->{fan_out} layer is {std:.3g}, a gain std * sqrt(fan_in) of "
                f"{std * math.sqrt(fan_in):.2f}: too large.", gain_hint)
        last_std = stats["std"][-1]
        if last_std < MIN_LAST_STD:
            # The layer whose gain is smallest: the one that lets the activations fade most.
            low = int(np.argmin([s * math.sqrt(i) for s, i in zip(stds, sizes[:-1])]))
            fan_in, fan_out, std = sizes[low], sizes[low + 1], stds[low]
            hint = gain_hint
            for rule, variance in _VARIANCE_RULES.items():
                if all(math.isclose(s, variance(i, o), rel_tol=1e-6)
                       for (i, o), s in all_stds.items()):
                    hint = (f"your values equal {rule} for every layer, which is a variance (a "
                            "squared spread); the function returns a standard deviation.")
            raise ExerciseError(
                f"in the {name} the activations fade away: the last hidden layer's expected "
                f"std is {last_std:.2g} (at least {MIN_LAST_STD} is needed). Your std for its "
                f"{fan_in}->{fan_out} layer (layer {low + 1}, the smallest gain) is {std:.3g}, "
                f"a gain std * sqrt(fan_in) of {std * math.sqrt(fan_in):.2f}: too small.", hint)
    # Every layer asked for whose fans are at most 1.6 times apart may be the first layer of
    # a network, fed a unit-variance input: it must keep to the saturation limit there too
    # (a gain too large deep in a network, where the signal has faded, saturates nothing, so
    # the networks alone miss a rule that goes wrong on some layer shapes only).
    # (np.fromiter: np.array of a list of tuples of large ints takes milliseconds)
    fans = np.fromiter(itertools.chain.from_iterable(all_stds), float,
                       2 * len(all_stds)).reshape(-1, 2)
    stds = np.fromiter(all_stds.values(), float, len(all_stds))
    with np.errstate(over="ignore"):  # (inf for a std near float64's largest: the largest)
        gains = stds * np.sqrt(fans[:, 0])
    gains[fans.max(axis=1) > MAX_RATIO * fans.min(axis=1)] = -np.inf
    if gains.size and np.max(gains) > 0:
        (fan_in, fan_out), std = list(all_stds.items())[int(np.argmax(gains))]
        share = tanh_network_stats(lambda i, o, std=std: std, [fan_in, fan_out])["saturated"][0]
        if share > MAX_SATURATED:
            raise ExerciseError(
                f"a {fan_in}->{fan_out} layer (its fans at most {MAX_RATIO} times apart, so it "
                "may be the first layer of a network), fed an input of variance 1, is "
                f"expected to be {share:.1%} saturated (tanh' < 0.01); at most "
                f"{MAX_SATURATED:.0%} is allowed. Your std for it is {std:.3g}, a gain std * "
                f"sqrt(fan_in) of {std * math.sqrt(fan_in):.2f}: too large.", gain_hint)
    # A layer with one input (1 -> 1, 1 -> 1000), fed a unit-variance input, must keep to the
    # saturation limit too: the same model, one layer.
    for case, obs in zip(cases, observations):
        if case.driver is None and case.args[0] == 1:
            std = float(obs.result)
            share = tanh_network_stats(lambda i, o, std=std: std, list(case.args))["saturated"]
            if share[0] > MAX_SATURATED:
                raise ExerciseError(
                    f"a layer with one input ({case.args[0]}->{case.args[1]}), fed an input "
                    f"of variance 1, is expected to be {share[0]:.1%} saturated (tanh' < "
                    f"0.01); at most {MAX_SATURATED:.0%} is allowed. Your std for it is "
                    f"{std:.3g}, a gain std * sqrt(fan_in) of {std:.2f}: too large.",
                    "a layer with one input is a layer like any other: its z has the spread "
                    "std * sqrt(fan_in) when its input has unit variance.")
    # ... and so must every layer of one input the driver asked for (1 -> k, k up to the
    # largest fans): the one of largest std is the most saturated.
    one_input = np.flatnonzero(fans[:, 0] == 1)
    if one_input.size:
        k = int(one_input[np.argmax(stds[one_input])])
        (fan_in, fan_out), std = list(all_stds)[k], float(stds[k])
        share = tanh_network_stats(lambda i, o, std=std: std, [fan_in, fan_out])["saturated"][0]
        if share > MAX_SATURATED:
            raise ExerciseError(
                f"a layer with one input ({fan_in}->{fan_out}), fed an input of variance 1, is "
                f"expected to be {share:.1%} saturated (tanh' < 0.01); at most "
                f"{MAX_SATURATED:.0%} is allowed. Your std for it is {std:.3g}, a gain std * "
                f"sqrt(fan_in) of {std:.2f}: too large.",
                "a layer with one input is a layer like any other, however many outputs it "
                "has: its z has the spread std * sqrt(fan_in) when its input has unit "
                "variance.")


TANH_INIT = Spec(
    "ch02.tanh_init_std", check="ch02.check_tanh_init_std", grade_id="ch02-tanh-init-check",
    what="`tanh_init_std(fan_in, fan_out)`", answers=("tanh_init_std",),
    draw=_draw_tanh_init, reference=lambda *args: None, judge=_judge_one_std,
    judge_all=_judge_tanh_networks,
    passed="`tanh_init_std(fan_in, fan_out)` keeps ten tanh layers in the useful range in every "
           "network tried (narrowing, widening, random widths, every width from 1 to 1000 "
           "units and wider ones, up to millions of units): at most 1% of any hidden layer "
           "saturated, and the last hidden layer's activations keep a std of at least 0.1.")


@exercise_check
def check_tanh_init_std(answer, *, seed: int | None = None) -> None:
    """Check that N(0, answer(fan_in, fan_out)^2) weights keep 10 tanh layers in a useful range
    in networks of several shapes, drawn at each check: no hidden layer more than 1 %
    saturated, the last hidden layer's activations with a std of at least 0.1."""
    TANH_INIT.check(answer, seed=seed)
