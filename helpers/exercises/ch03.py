"""Checks for chapter 3, ReLU and dead neurons: Leaky ReLU and its derivative, a dead-unit
detector, reviving a dead network, and the born-dead probability of a width-1 network.

One spec per exercise (``_spec``): the cases are drawn afresh at every check, edge cases
first; the student's functions run on all of them, and only then are the references computed
and the results judged. When the judge recognises the mistake (alpha ignored, ReLU's
derivative, the wrong axis, "some zero" instead of "all zero", an off-by-one in the depth, an
integer result for an integer input) it names the idea, but only on a unique match (the
result is that mistake's, at the precision the task asks for, and no other's); otherwise it
says what differs, on which case, and how to repeat the draw.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import time
import warnings

import numpy as np

from .. import activations, diagnostics
from ._contract import elementwise_result, expect_dict, expect_ndarray, first_difference, pair, show
from ._core import ExerciseError, exercise_check
from ._plain import Other, describe
from ._spec import WORK_SHAPES, Case, Spec, _read_only, driver, random_shape, work_cases
from ._trace import Forbidden

__all__ = [
    "BORN_DEAD",
    "BROKEN_CONFIG",
    "DEAD_UNITS",
    "DEAD_UNITS_BATCH",
    "DEAD_UNITS_TALL_BATCH",
    "DEFAULT_ALPHA",
    "LEAKY_RELU",
    "MAX_EPOCHS",
    "REVIVE",
    "TARGET_ACCURACY",
    "check_born_dead_width1",
    "check_dead_units",
    "check_leaky_relu",
    "check_revive",
    "train_config",
]

# The course's own code (and PyTorch's): "write it yourself" means none of it runs.
COURSE_CODE = ("helpers.activations:*", "helpers.nn:*", "helpers.diagnostics:*", "torch*:*")


def _shown(value) -> str:
    """An input as a student would write it: 5, np.int64(5), np.array(5), [1, 2]."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"np.array({value.item()!r})"
        return show(value)
    if isinstance(value, np.generic):
        return f"np.{value.dtype.name}({value.item()!r})"
    return repr(value)


# --------------------------------------------------------------------------------------
# Exercise 1: Leaky ReLU forward and derivative
# --------------------------------------------------------------------------------------

#: Inputs of the first cases: both signs, exact zeros (0.0 and -0.0), tiny and extreme values.
LEAKY_X = np.array([-1e4, -5.0, -2.0, -0.5, -1e-3, -0.0, 0.0, 1e-3, 0.5, 2.0, 5.0, 1e4])
DEFAULT_ALPHA = 0.01  # the registry's default (activations.get("leaky_relu").params)
_LEAKY = ("leaky_relu", "leaky_relu_grad")
# Values on both sides of the kink at 0: the smallest subnormal numbers (a few units of the
# smallest, and more), the smallest normal number, 1e-300 (1e-30 in float32, 1e-3 in float16).
_KINK64 = np.array([-1e-300, -2.2250738585072014e-308, -1e-315, -5e-324, -0.0, 0.0, 5e-324,
                    1e-322, 1e-315, 2.2250738585072014e-308, 1e-300])
_KINK32 = np.array([-1e-30, -1.1754944e-38, -1e-40, -1e-45, -0.0, 0.0, 1e-45, 1e-44, 1e-40,
                    1.1754944e-38, 1e-30], dtype=np.float32)
_KINK16 = np.array([-1e-3, -6.1035e-05, -1e-6, -5.96e-08, -0.0, 0.0, 5.96e-08, 1.2e-07, 1e-6,
                    6.1035e-05, 1e-3], dtype=np.float16)
# Values near each float dtype's largest (float64 1.8e308, float32 3.4e38, float16 65504), with
# a margin of rounding: an answer that clips, or overflows on the way, shows. The task's
# inputs are finite: no inf or NaN.
_EXTREME64 = np.array([-1.7e308, -1e300, -1e30, -1e4, 1e4, 1e30, 1e300, 1.7e308])
_EXTREME32 = np.array([-3.4e38, -1e38, -1e30, -1e4, 1e4, 1e30, 1e38, 3.4e38], dtype=np.float32)
_EXTREME16 = np.array([-6e4, -1e4, -100.0, -1.0, 1.0, 100.0, 1e4, 6e4], dtype=np.float16)


def _alpha_of(case: Case) -> float:
    if len(case.args) > 1:
        return float(case.args[1])
    return float(case.kwargs.get("alpha", DEFAULT_ALPHA))


def _leaky_cases(label: str, x: np.ndarray, alpha=None, *, positional: bool = False) -> list:
    """The same input for ``leaky_relu`` and ``leaky_relu_grad``: alpha left at its default
    (None), passed by name, or passed by position."""
    cases = []
    for answer, name in enumerate(_LEAKY):
        if alpha is None:
            call, args, kwargs = f"{name}(x)", (x,), {}
        elif positional:
            call, args, kwargs = f"{name}(x, {alpha!r})", (x, alpha), {}
        else:
            call, args, kwargs = f"{name}(x, alpha={alpha!r})", (x,), {"alpha": alpha}
        cases.append(Case(f"`{call}` for {label}", args, kwargs, answer=answer))
    return cases


def _draw_alpha(rng) -> float:
    """A slope in [0.05, 0.95] with all its digits (so rounding alpha shows), never the
    default (so ignoring alpha shows)."""
    return float(rng.uniform(0.05, 0.95))


def _draw_any_alpha(rng) -> float:
    """A slope anywhere in the task's 0 <= alpha < 1, for the random arrays: as
    ``_draw_alpha`` mostly; one in four just below 1, the task's bound, at a random distance
    from 2**-5 down to float64's resolution (1 - 2**-53); one in eight small, from 1e-4 to
    0.05 (log-uniform; a smaller one is not a slope float16 holds to its digits). A rule that
    does something else near either end of the range meets it. (The edge cases keep a slope
    in the middle, where each known mistake shows.)"""
    u = rng.random()
    if u < 0.25:
        return float(1.0 - 2.0 ** -rng.uniform(5.0, 53.0))
    if u < 0.375:
        return float(10.0 ** rng.uniform(-4.0, math.log10(0.05)))
    return _draw_alpha(rng)


def _both_signs(rng, shape) -> np.ndarray:
    """Random values with at least one below 0 and one above, at random places: on values of
    one sign only, some slopes cannot be told apart (one draw in 64 of six values)."""
    values = np.abs(rng.normal(0.0, 3.0, shape)) * rng.choice([-1.0, 1.0], shape)
    first, second = rng.choice(values.size, 2, replace=False)
    values.flat[first], values.flat[second] = -abs(values.flat[first]), abs(values.flat[second])
    return values


def _draw_leaky(rng) -> list[Case]:
    a1, a2, a3, a4, a5, a6, a7 = (_draw_alpha(rng) for _ in range(7))
    mixed = np.round(rng.normal(0.0, 3.0, 6), 3)
    cases = [
        *_leaky_cases("x = " + show(LEAKY_X), LEAKY_X),
        *_leaky_cases("x = " + show(LEAKY_X), LEAKY_X, a1),
        *_leaky_cases("both sides of the kink at 0 (float64: 1e-300, the smallest normal and "
                      "subnormal numbers, -0.0 and 0.0)", _KINK64, a2),
        *_leaky_cases("both sides of the kink at 0 (float32)", _KINK32, a3),
        *_leaky_cases("both sides of the kink at 0 (float16)", _KINK16, a7),
        *_leaky_cases("the integer array np.arange(-3, 4) (int64)", np.arange(-3, 4)),
        *_leaky_cases("a random int32 array", rng.integers(-50, 51, (3, 5)).astype(np.int32),
                      a4),
        *[case for dtype in _INT_DTYPES
          for case in _leaky_cases(f"{np.dtype(dtype).name} values up to the dtype's smallest "
                                   "and largest", _int_extremes(dtype, rng), _draw_alpha(rng))],
        *_leaky_cases("a (2, 4) float32 array",
                      np.array([[-3.0, 0.0, 2.0, -0.25], [1.5, -1e-3, -0.0, 7.0]],
                               dtype=np.float32), a5, positional=True),
        *_leaky_cases("random values with alpha = 0.0 (the smallest slope the task allows)",
                      _both_signs(rng, (2, 3)), 0.0),
        *_leaky_cases("a 0-d array", np.array(-abs(mixed[0]) - 0.5), a6),
        # 0-d arrays of both signs and of every kind the task allows: a branch for 0-d input
        # is held to the same contract.
        *_leaky_cases("a positive 0-d array", np.array(abs(mixed[2]) + 0.5), a6),
        *_leaky_cases("a 0-d float32 array", np.array(-abs(mixed[3]) - 0.5, np.float32), a3),
        *_leaky_cases("a positive 0-d float16 array", np.array(abs(mixed[4]) + 0.5, np.float16),
                      a7),
        *_leaky_cases("a 0-d integer array", np.array(-int(abs(mixed[5])) - 2), a4),
        *_leaky_cases("one value in a 1-D array", np.array([mixed[1]]), a6),
        # Empty arrays of a narrow float dtype and of an integer dtype, both drawn, of a
        # drawn shape: the dtype rule holds with no values too (a float keeps its dtype, an
        # integer gives float64).
        *_leaky_cases(*_empty_input(rng, (np.float32, np.float16)), a6),
        *_leaky_cases(*_empty_input(rng, _INT_DTYPES), a4),
        *_leaky_cases("extreme values (float64, up to 1.7e308)", _EXTREME64, a1),
        *_leaky_cases("extreme values (float32, up to 3.4e38)", _EXTREME32, a2),
        *_leaky_cases("extreme values (float16, up to 6e4)", _EXTREME16),
        *_exact16_cases(rng),
    ]
    for dtype in (np.float64, np.float32, np.float16):
        shape = random_shape(rng)
        cases += _leaky_cases(f"random values of shape {shape} ({np.dtype(dtype).name})",
                              rng.normal(0.0, 3.0, shape).astype(dtype), _draw_any_alpha(rng))
    # Three and four axes on every draw ("any shape"): an answer right up to 2-D shows.
    for ndim in (3, 4):
        shape = tuple(int(d) for d in rng.integers(2, 5, ndim))
        cases += _leaky_cases(f"random values of shape {shape} ({ndim} axes)",
                              rng.normal(0.0, 3.0, shape), _draw_any_alpha(rng))
    # Two inputs with the same shape, dtype and alpha but other values: a result kept from
    # an earlier call (a cache keyed on anything but the values) shows.
    # The second shares the first's first row (a cache keyed on a first element or row shows).
    twin_alpha, twin = _draw_any_alpha(rng), rng.normal(0.0, 3.0, (3, 4))
    twin[0, :2] = [-2.0, 1.5]
    other = twin.copy()
    other[1:] = -twin[1:][::-1]
    for k, values in enumerate((twin, other)):
        cases += _leaky_cases(f"random values of shape (3, 4), input {k + 1} of 2 with the "
                              "same shape, dtype and alpha", values, twin_alpha)
    # An input in Fortran order, as a transposed array is: an answer that writes through
    # a flattened view (ravel, reshape(-1)) of an output laid out like x writes into a copy.
    fortran = _leaky_cases("random values of shape (4, 6), in Fortran order (a transposed "
                           "array, x.T)", rng.normal(0.0, 3.0, (4, 6)), _draw_any_alpha(rng))
    for c in fortran:
        c.order = "F"
    cases += fortran
    # A large input, of a random size above 2,000,000 values with no set ceiling (ten times
    # the timed ones and more, see ``_large_size``), value-checked: an answer that does
    # something else for large inputs shows. One function a draw, drawn (each such call costs
    # some 40 ms of the check's own work, hashing and copying the arrays, at 2,000,000
    # values); float32 values from -4 to 4, and
    # judged first against the product in float32 (``_judge_leaky``). Last, as a work case
    # ("large", with no small one to pair with: no work is compared on it): a loop stopped
    # on the work cases before it does not run over its millions of values.
    size, cols = _large_size(rng), int(rng.integers(1, 9))
    big = _large_input(rng, (size // cols, cols) if cols > 1 else (size,))
    big_case = _leaky_cases(f"a large float32 input of shape {big.shape} ({big.size:,} "
                            "values)", big, _draw_any_alpha(rng))[int(rng.integers(2))]
    big_case.note = {"large": True}
    big_case.work, big_case.size, big_case.elements = "large", min(big.shape), big.size
    # (values drawn uniformly from -4 to 4: a normal draw of these sizes cost 3 times as
    # much, and the values only need both signs)
    for answer, name in enumerate(_LEAKY):
        cases += work_cases(lambda shape, large: _spread(rng, shape), answer=answer,
                            name=f"`{name}` on ")
        # A 1-D input too: a loop over the first axis (map over the rows) is a loop over every
        # element there.
        cases.append(Case(f"`{name}` on a 1-D input of {_TIMED_1D:,} elements (timed against "
                          "numpy's own loops)", (_spread(rng, _TIMED_1D),),
                          answer=answer, work="timed", size=_TIMED_1D, elements=_TIMED_1D))
        # ... and on three axes, and on integers: a loop kept for some shapes or dtypes only
        # (a branch on x.ndim or x.dtype) is measured too.
        cases += work_cases(lambda shape, large: _spread(rng, shape), answer=answer,
                            name=f"`{name}` on three axes, ",
                            shapes=((2, 3, 4), (12, 13, 14), (2_000, 10, 10)))
        cases += work_cases(lambda shape, large: rng.integers(-50, 50, shape), answer=answer,
                            name=f"`{name}` on integers (int64), ")
        for dtype in (np.float32, np.float16, np.int32):
            cases += work_cases(lambda shape, large, dtype=dtype: (
                _spread(rng, shape) * (10 if dtype == np.int32 else 1)).astype(dtype),
                answer=answer, name=f"`{name}` on {np.dtype(dtype).name}, ",
                shapes=WORK_SHAPES[:2])
    return [*cases, big_case]


#: The large value-checked input of each draw (exercises 1 and 2): more than 2,000,000 values
#: (ten times the timed inputs and more), of a random size; on one draw in four past the old
#: check's largest, 2,300,000, with no ceiling an answer can test for below memory's: a
#: Pareto tail (one such draw in four beyond twice that, one in sixteen beyond four times,
#: ...), cut at 16,000,000 values (64 MB of float32; the autograding path carries at most
#: 20,000,000 values in one case or result, ``_plain.MAX_ELEMENTS``). A larger input costs more
#: (about 20 ns a value in exercise 1, 8 in exercise 2): the tail keeps the mean cost near
#: the old one's, while every size above the timed ones meets a value-checked case.
_LARGE_SIZES = (2_000_001, 2_300_001)
_LARGE_CAP = 16_000_000


def _large_size(rng) -> int:
    """The size of a draw's large input (see ``_LARGE_SIZES``)."""
    if rng.random() < 0.25:
        return int(min(_LARGE_SIZES[1] / math.sqrt(1.0 - rng.random()), _LARGE_CAP))
    return int(rng.integers(*_LARGE_SIZES))


def _spread(rng, shape) -> np.ndarray:
    """float64 values drawn uniformly from -4 to 4."""
    x = rng.random(shape)
    x -= 0.5
    x *= 8
    return x


_TIMED_1D = 200_000


def _large_input(rng, shape: tuple) -> np.ndarray:
    """float32 values from -4 to 4 in runs of one sign (a random run of a thousand to four
    thousand values, its sign drawn for each run), the first and the last values negative,
    zeros at random places. (numpy's where and comparisons run faster on runs, and one run
    of values repeated is cheap to make: the check's cost stays down.)"""
    n = int(np.prod(shape))
    run = rng.random(int(rng.integers(1_000, 4_001)), dtype=np.float32)
    run *= 4
    signs = (rng.integers(0, 2, (-(-n // run.size), 1)) * 2 - 1).astype(np.float32)
    x = np.multiply(signs, run).reshape(-1)[:n]
    x[0], x[-1] = -abs(x[0]) - 0.5, -abs(x[-1]) - 0.5
    x[rng.integers(0, n, 8)] = 0.0
    return x.reshape(shape)


def _exact16_cases(rng) -> list[Case]:
    """float16 powers of two, as large as 2**14 and of both signs, with a slope alpha that is a
    power of two too (2**-1 to 2**-8): alpha times x, and every way of writing Leaky ReLU
    (a sum of x and |x| too), is exact in float16, so the result must be, to one unit in the
    last place. A slope that is off shows however little it is."""
    k = int(rng.integers(1, 9))
    alpha = 2.0 ** -k
    powers = 2.0 ** rng.integers(-6, 15, 10)
    x = np.concatenate([[-16384.0, -1024.0, -8.0, 0.0], -powers[:6], powers[6:],
                        [1024.0]]).astype(np.float16)
    cases = _leaky_cases(f"float16 powers of two with alpha = 2**-{k} (exact in float16), "
                         f"x = {show(x)}", x, alpha)
    for c in cases:
        c.note = {"exact": True}
    return cases


#: Integer dtypes beyond int64 and int32, signed and unsigned, each drawn with its smallest
#: and largest values (where -x or a narrower float overflows).
_INT_DTYPES = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
               np.uint64)


def _empty_input(rng, dtypes) -> tuple[str, np.ndarray]:
    """(label, x): an empty array of a dtype drawn from ``dtypes``, of one to three axes with
    one of them 0 (at a random place)."""
    dtype = np.dtype(dtypes[int(rng.integers(len(dtypes)))])
    shape = [int(n) for n in rng.integers(1, 6, int(rng.integers(1, 4)))]
    shape[int(rng.integers(len(shape)))] = 0
    x = np.zeros(tuple(shape), dtype=dtype)
    return f"an empty {dtype.name} array of shape {x.shape}", x


def _int_extremes(dtype, rng) -> np.ndarray:
    info = np.iinfo(dtype)
    low = max(int(info.min), -100)
    values = [int(info.min), int(info.min) + 1, low, -1 if info.min else 2, 0, 1, 7,
              int(rng.integers(max(low, 0), 101)), int(info.max) - 1, int(info.max)]
    return np.array(values, dtype=dtype).reshape(2, 5)


def _leaky_reference(case: Case, lazy: bool = True):
    """The exact values (float64), or None for a large case (``_judge_leaky`` computes them
    there only when the result is not the float32 product itself)."""
    if lazy and case.note.get("large"):
        return None
    x = case.args[0]
    x64, alpha = x.astype(np.float64, copy=False), _alpha_of(case)
    if case.answer == 0:
        return np.where(x64 > 0, x64, alpha * x64)
    # The derivative's values are exact: 1, and alpha rounded once to x's dtype (float64 for
    # an integer x).
    return np.where(x64 > 0, 1.0, float(_slope_in(x, alpha)))


def _slope_in(x: np.ndarray, alpha: float):
    """alpha rounded once to x's dtype (float64 for an integer x)."""
    return (np.float64 if x.dtype.kind in "iu" else x.dtype.type)(alpha)


def _leaky_tolerance(x: np.ndarray, expected: np.ndarray, answer: int,
                     exact: bool = False, same_dtype: bool = True) -> tuple[float, object]:
    """(rtol, atol) of the comparison with the exact values, for x's dtype. Below 0 the
    forward is alpha x rounded once in x's dtype: half a unit in the last place of the
    result (of the binade above, where the product crosses a power of two), plus what
    rounding alpha to x's dtype first (as numpy's `alpha * x` does) moves it, |alpha x| eps / 2;
    0 exactly where the exact value is 0. Above 0 x passes unchanged: exactly. A difference
    of two terms of x's size (x - (1 - alpha) min(x, 0), or a sum of x and |x|) loses more,
    and is refused. Where every way of writing it is exact (``exact``: float16 powers of two
    and a power-of-two alpha) one unit in the last place is allowed. The derivative, alpha or
    1 in x's dtype, is exact (``_is_slope``, before this, passes alpha rounded to float32 on
    the way to float16 too); in another dtype than x's (refused after the values, for its
    dtype) it is held to a few units in the last place."""
    if answer == 1 and same_dtype:
        return 0.0, 0.0
    if exact:
        return float(np.finfo(x.dtype).eps), 0.0
    dtype = np.dtype(np.float64) if x.dtype.kind in "iu" else x.dtype
    eps = float(np.finfo(dtype).eps)
    if answer == 0:
        size = np.abs(expected)
        with np.errstate(all="ignore"):
            half = 0.5 * np.spacing((size * (1 + eps)).astype(dtype)).astype(np.float64)
        atol = 1.02 * (half + size * eps / 2) + size * 2.0 ** -50   # (a small margin)
        return 0.0, np.where((expected == 0) | (x > 0), 0.0, atol)
    return 4 * eps, (1e-12 if dtype != np.float64 else 1e-15)


class _Matcher:
    """Names a known mistake only on a unique match: ``got`` equals the mistake's values
    (at the tolerance of x's dtype, never looser than 1e-6) where the right values differ
    from them, and no other known mistake fits as well."""

    def __init__(self, got: np.ndarray, expected: np.ndarray, rtol: float):
        self.got, self.expected = got, expected
        self.rtol = max(1e-6, rtol)
        self.hits: list[tuple[str, str]] = []

    def same(self, a: np.ndarray, b: np.ndarray, mask=None) -> bool:
        if mask is not None:
            a, b = a[mask], b[mask]
        with np.errstate(invalid="ignore"):
            return bool(np.allclose(a, b, rtol=self.rtol, atol=1e-12))

    def fits(self, wrong: np.ndarray, mask=None) -> bool:
        return self.same(self.got, wrong, mask) and not self.same(self.got, self.expected, mask)

    def add(self, problem: str, hint: str) -> None:
        self.hits.append((problem, hint))

    def unique(self) -> tuple[str, str] | None:
        return self.hits[0] if len(self.hits) == 1 else None


def _at(x: np.ndarray, got: np.ndarray, expected: np.ndarray, mask=None) -> str:
    """'at x = -10000 it gives 0, expected -100': the input where the values differ most."""
    gap = np.abs(np.nan_to_num(got - expected, nan=np.inf))
    if mask is not None:
        gap = np.where(mask, gap, -1.0)
    i = np.unravel_index(int(np.argmax(gap)), x.shape) if x.ndim else ()
    shown, wanted = pair(got[i], expected[i])
    return f"at x = {float(x[i]):g} it gives {shown}, expected {wanted}"


def _default_alpha_used(alpha: float, what: str) -> tuple[str, str]:
    """(problem, hint) when the result is the default alpha's: with alpha = 0.0 the answer may
    ignore alpha or replace the falsy 0.0 by the default, and the values cannot tell which."""
    if alpha == 0:
        return (f"with alpha = 0.0 gives the {what} for alpha = {DEFAULT_ALPHA}, the default: "
                "alpha = 0.0 falls back to the default (or alpha is not used)",
                "0.0 is a valid slope (the task allows 0 <= alpha < 1), but it is falsy: "
                "`alpha or 0.01` and `if not alpha:` replace it. Use `alpha` as given.")
    return (f"gives the {what} for alpha = {DEFAULT_ALPHA}: the argument alpha is ignored",
            "use the parameter `alpha` in your formula, not a fixed number.")


def _leaky_forward_mistake(x, m: _Matcher, alpha, defaulted) -> tuple[str, str] | None:
    """(problem, hint) of the one known mistake of the forward that ``m.got`` is."""
    got, expected = m.got, m.expected
    neg, pos = x < 0, x > 0
    xf = x.astype(np.float64)
    if alpha > 0 and np.any(neg) and m.fits(np.maximum(xf, 0)):
        m.add(f"returns 0 for every negative input: that is plain ReLU ("
              f"{_at(xf, got, expected, neg)})",
              "Leaky ReLU keeps a small slope on the negative side: its value there is alpha "
              "times x, a small negative number.")
    if np.any(neg) and alpha != DEFAULT_ALPHA and m.fits(np.where(xf > 0, xf,
                                                                  DEFAULT_ALPHA * xf)):
        m.add(*_default_alpha_used(alpha, "values"))
    if alpha > 0 and np.any(neg) and np.any(pos) and m.fits(np.where(xf > 0, alpha * xf, xf),
                                                            mask=neg | pos):
        m.add(f"has the two branches swapped ({_at(xf, got, expected, pos)})",
              "positive inputs pass unchanged; only x <= 0 is multiplied by alpha.")
    if alpha > 0 and np.any(neg) and m.fits(np.where(xf > 0, xf, -alpha * xf)):
        m.add(f"is positive for negative inputs ({_at(xf, got, expected, neg)})",
              "for x <= 0 the value is alpha times x itself, which keeps the sign of x.")
    if defaulted and np.any(neg):
        slope = float(np.median(got[neg] / xf[neg]))
        if 0 < slope < 1 and not math.isclose(slope, alpha, rel_tol=1e-6) and m.fits(
                np.where(xf > 0, xf, slope * xf)):
            narrow = (f" If your default is {DEFAULT_ALPHA}, look at what your code does for "
                      f"{x.dtype} inputs: the slope must be alpha in every dtype."
                      if x.dtype in (np.float16, np.float32) else "")
            m.add(f"with alpha left at its default differs from alpha = {DEFAULT_ALPHA} ("
                  f"{_at(xf, got, expected, neg)}): its default slope is {slope:.6g} for "
                  f"this {x.dtype} input",
                  f"keep the default alpha = {DEFAULT_ALPHA} of the given signature; it is "
                  f"the course's (and PyTorch's) default.{narrow}")
    return m.unique()


def _leaky_grad_mistake(x, m: _Matcher, alpha, defaulted) -> tuple[str, str] | None:
    """(problem, hint) of the one known mistake of the derivative that ``m.got`` is."""
    got, expected = m.got, m.expected
    neg, pos = x < 0, x > 0
    xf = x.astype(np.float64)
    if alpha > 0 and np.any(neg) and m.fits(np.where(pos, 1.0, 0.0), mask=neg | pos):
        m.add("is 0 for negative inputs: that is ReLU's derivative, the one that lets units "
              "die", "for x < 0, Leaky ReLU is alpha * x, so its slope there is alpha.")
    if np.any(pos & (xf != 1)) and m.fits(np.where(pos, xf, alpha * xf)):
        m.add(f"returns the function's values, not its slope ({_at(xf, got, expected, pos)})",
              "the derivative is 1 where x > 0 and alpha elsewhere.")
    if np.any(neg & (xf != -1)) and alpha > 0 and m.fits(np.where(pos, 1.0, alpha * xf),
                                                         mask=neg | pos):
        m.add(f"for negative inputs is alpha * x, the function's value there "
              f"({_at(xf, got, expected, neg)})",
              "on the negative side Leaky ReLU is a straight line through 0 with slope alpha: "
              "its derivative is the same number for every x < 0.")
    if np.any(neg) and alpha != DEFAULT_ALPHA and m.fits(np.where(pos, 1.0, DEFAULT_ALPHA)):
        m.add(*_default_alpha_used(alpha, "slopes"))
    if defaulted and np.any(neg):
        slope = float(np.median(got[neg]))
        if 0 < slope < 1 and not math.isclose(slope, alpha, rel_tol=1e-6) and m.fits(
                np.where(pos, 1.0, slope), mask=neg | pos):
            m.add(f"with alpha left at its default differs from alpha = {DEFAULT_ALPHA} ("
                  f"{_at(xf, got, expected, neg)})",
                  f"keep the default alpha = {DEFAULT_ALPHA} of the given signature; it is "
                  "the course's (and PyTorch's) default.")
    at_zero = x == 0
    if not m.hits and np.any(at_zero) and m.same(got, expected, mask=~at_zero) and not m.same(
            got, expected, mask=at_zero):
        at_0 = float(got[at_zero][np.argmax(np.abs(got[at_zero] - alpha))]) + 0.0
        hint = ("at x = 0 take the left slope, as relu'(0) = 0 takes ReLU's left slope: the "
                "derivative is 1 only where x > 0." if at_0 == 1 else
                "at x = 0 take the left slope, as relu'(0) = 0 takes ReLU's left slope; for "
                "Leaky ReLU the left slope is not 0.")
        m.add(f"at x = 0 is {at_0:g}, expected alpha = {alpha:g}; every other input is right",
              hint)
    return m.unique()


def _judge_leaky(case: Case, obs, expected) -> None:
    x, alpha = case.args[0], _alpha_of(case)
    name = _LEAKY[case.answer]
    what = f"`{name}`"
    got = elementwise_result(obs.result, x, what,
                             "work elementwise on x, keeping its shape (do not flatten it).")
    if got.dtype.kind == "c":
        raise ExerciseError(f"{what} returned complex numbers (dtype {got.dtype}).",
                            "Leaky ReLU and its slope are real numbers.")
    if got.dtype.kind not in "iuf":
        raise ExerciseError(
            f"{what} returned dtype {got.dtype}; the task asks for numbers of x's dtype "
            "(float64 for an integer x).",
            "a comparison gives booleans: turn them into numbers of the right dtype.")
    integer_x = x.dtype.kind in "iu"
    want = np.dtype(np.float64) if integer_x else x.dtype
    if integer_x and got.dtype != want:
        example = ""
        if x.size and got.dtype.kind in "iu" and np.any(x < 0):
            i = np.unravel_index(int(np.argmax(x < 0)), x.shape) if x.ndim else ()
            example = (f" (at x = {int(x[i])} it gives {got[i].item()!r}, expected "
                       f"{float(expected[i]):g})")
        raise ExerciseError(
            f"{what} returned dtype {got.dtype} for {_a(x.dtype)} input{example}; the task asks "
            "for float64 when x is an integer array.",
            "alpha (and alpha times an integer) is not a whole number: converting the result "
            "to x's integer dtype drops it. Keep x's dtype only when x is a float array.")
    if x.size == 0:
        if got.dtype != want:
            raise ExerciseError(f"{what} returned dtype {got.dtype} for {_a(x.dtype)} input; the "
                                "task asks to keep x's dtype.", _DTYPE_HINT)
        return
    # The product alpha * x in x's dtype (alpha rounded to it first, as numpy's `alpha * x`
    # does), or alpha and 1 in it, pass at once: they are within the tolerance below. A large
    # case computes the exact values only if not.
    if got.dtype == want and not integer_x and _is_product(x, got, want.type(alpha),
                                                           case.answer):
        return
    if got.dtype == want and case.answer == 1 and want == np.float16 and _is_product(
            x, got, np.float16(np.float32(alpha)), 1):
        return   # (alpha rounded to float32 on the way: twice, harmlessly, as the forward may)
    if expected is None:
        expected = _leaky_reference(case, lazy=False)
    if got.dtype == want and integer_x and np.array_equal(got, expected):
        return   # (an integer x's exact float64 values: no tolerance to work out)
    with np.errstate(all="ignore"):
        value = got.astype(np.float64)
    rtol, atol = _leaky_tolerance(x, expected, case.answer,
                                  exact=bool(case.note.get("exact")),
                                  same_dtype=got.dtype == want)
    diff = first_difference(value, expected, rtol=rtol, atol=atol)
    if diff is not None:
        finder = _leaky_forward_mistake if case.answer == 0 else _leaky_grad_mistake
        defaulted = len(case.args) == 1 and "alpha" not in case.kwargs
        with np.errstate(all="ignore"):
            mistake = finder(x, _Matcher(value, expected, rtol), alpha, defaulted)
        if mistake is not None:
            raise ExerciseError(f"{what} {mistake[0]}.", mistake[1])
        index, n_bad = diff
        if case.answer == 0:
            _name_lost_digits(x, value, expected, rtol, atol, what, name)
        formula = ("x where x > 0 and alpha times x elsewhere" if case.answer == 0 else
                   "1 where x > 0 and alpha elsewhere (x = 0 included)")
        hint = f"{name} is {formula}, elementwise, for an array of any shape."
        if got.dtype != want:
            hint = _DTYPE_HINT
        elif not np.isfinite(value[index]):
            hint = (f"x is finite, and so is every value of {name}: look for a step that "
                    "overflows (a product or a sum larger than x) or an inf times 0.")
        elif case.answer == 1 and (abs(value[index] - expected[index]) < 1e-3 or math.isclose(
                value[index], expected[index], rel_tol=1e-2)):
            shown, wanted = pair(value[index], expected[index])
            slope = ("exactly 1" if x[index] > 0 else
                     f"alpha = {alpha!r} rounded to {want.name}, exactly {wanted}")
            raise ExerciseError(
                f"{what} is off the exact slope in {n_bad} of {x.size} values of this {x.dtype} "
                f"input: at x = {float(x[index])!r} it gives {shown}, where the slope is "
                f"{slope}.",
                "the derivative takes two values only, and both are exact: 1 itself where "
                "x > 0, and alpha rounded once to x's dtype elsewhere (float64 for an integer "
                "x; 0 for alpha = 0). Return those numbers as they are: any arithmetic or "
                "nudge on them is off.")
        elif integer_x and math.isclose(value[index], expected[index], rel_tol=1e-6):
            hint = (f"the values differ only in their last digits: an integer x asks for "
                    f"float64, and a result that went through float32 (exact for integers up "
                    f"to 2**24 only) or a narrower integer dtype keeps fewer digits than x's "
                    f"{x.dtype} holds. Convert an integer x to float64 itself.")
        elif integer_x and (x.dtype.kind == "u" or int(x[index]) == np.iinfo(x.dtype).min):
            hint = (f"integer arithmetic wraps around: in {x.dtype}, -x (and abs(x)) of the "
                    "smallest value is that value itself, and -x of an unsigned x is a large "
                    "positive number. Convert an integer x to float64 before negating or "
                    "taking abs.")
        elif math.isclose(value[index], expected[index], rel_tol=1e-3):
            hint = (f"the values differ only in their last digits: a result that went through "
                    f"a lower precision (float16 or float32) keeps fewer digits than x's "
                    f"{x.dtype}; compute in x's own dtype.")
        elif abs(float(x[index])) >= 1e30:
            hint = (f"the task's x may hold any finite {x.dtype} value, up to the largest: do "
                    "not clip or rescale x, let numpy's arithmetic work on it as it is.")
        shown, wanted = pair(value[index], expected[index])
        raise ExerciseError(
            f"{what} differs from the answer in {n_bad} of {x.size} values of this {x.dtype} "
            f"input; the largest difference is at x = {float(x[index])!r}: got {shown}, "
            f"expected {wanted}.", hint)
    if got.dtype != want:
        raise ExerciseError(
            f"{what} returns {got.dtype} for a {x.dtype} input; the task asks to keep x's "
            "dtype (float16, float32 and float64 alike).", _DTYPE_HINT)


def _a(dtype) -> str:
    """'an int8', 'a uint8': the dtype's name with its article."""
    name = np.dtype(dtype).name
    return f"{'an' if name[0] in 'aeio' else 'a'} {name}"


def _name_lost_digits(x, value, expected, rtol, atol, what: str, name: str) -> None:
    """Raise when ``value`` is alpha times x to a few digits only, below 0, and right above 0:
    a formula that loses digits (a difference of two terms of x's size), or a slope nudged."""
    dtype = np.dtype(np.float64) if x.dtype.kind in "iu" else x.dtype
    with np.errstate(all="ignore"):
        bad = ~np.isclose(value, expected, rtol=rtol, atol=atol)
        if not np.all(np.isfinite(value)) or np.any(bad & (x >= 0)) or not np.any(bad):
            return
        rel = np.where(bad, np.abs(value - expected) / np.abs(expected), 0.0)
        worst = float(np.max(rel))
        # (a few units in the last place of float16, a few thousand of float64: the last
        # digits; a larger error is another mistake, such as a rounded alpha)
        if not worst < (2e-2 if x.dtype == np.float16 else 1e-4):
            return
        i = np.unravel_index(int(np.argmax(rel)), x.shape) if x.ndim else ()
        step = float(np.spacing(dtype.type(abs(expected[i]))))
        units = abs(float(value[i]) - float(expected[i])) / step
    shown, wanted = pair(value[i], expected[i])
    off = f"{units:.3g} unit{'' if f'{units:.3g}' == '1' else 's'} in the last place"
    raise ExerciseError(
        f"{what} is right above 0, but below 0 it is {off} of {dtype.name} off alpha times x "
        f"(rounded once), in {int(bad.sum())} of {x.size} values of this {x.dtype} input: at "
        f"x = {float(x[i])!r} it gives {shown}, expected {wanted} (the task asks for alpha x "
        "rounded once in x's dtype, to its last digit).",
        f"compute the product alpha * x itself, as in the formula: numpy rounds it once, to "
        f"the last digits of x's dtype. A difference of two terms of x's size, such as x - (1 "
        f"- alpha) * np.minimum(x, 0) or a sum of x and |x|, cancels most of their digits, and "
        f"a slope or a value nudged on the way is off as well. ({name} is alpha * x for "
        f"x <= 0.)")


def _is_product(x: np.ndarray, got: np.ndarray, a, answer: int) -> bool:
    """Whether ``got`` is the forward (max(x, a x), as 0 <= a < 1) or the derivative (1 where
    x > 0, a elsewhere) with alpha ``a`` in x's dtype, exactly: cheap passes over the arrays."""
    with np.errstate(all="ignore"):
        if answer == 0:
            return bool(np.array_equal(got, np.maximum(x, x * a)))
        positive = x > 0
        return bool(np.array_equal(got == 1, positive) and np.all((got == a) | positive))


_DTYPE_HINT = ("a float32 network stays float32, so the course's activations return the dtype "
               "they were given: an expression built from x (and Python numbers) keeps x's "
               "dtype; one built only from Python numbers or from a bool mask is float64, so "
               "convert such a result to x's float dtype.")


def _explain_leaky_error(case: Case, obs) -> str | None:
    if "unexpected keyword argument 'alpha'" in obs.error:
        return ("keep the signature of the task, with the slope named `alpha`: the check "
                "passes it by name, and leaves it out to use the default.")
    if "Cannot cast ufunc" in obs.error and case.args[0].dtype.kind in "iu":
        return ("an integer array cannot hold alpha times x: for an integer x, compute in a "
                "float64 array (the task asks for float64 there).")
    if "positional argument" in obs.error:
        return ("keep the signature of the task, `(x, alpha=0.01)`: the check passes alpha by "
                "name, by position, and not at all.")
    return None


LEAKY_RELU = Spec(
    "ch03.leaky_relu", check="ch03.check_leaky_relu", grade_id="ch03-leaky-relu-check",
    what="`leaky_relu` or `leaky_relu_grad`", answers=_LEAKY,
    draw=_draw_leaky, reference_case=_leaky_reference, judge=_judge_leaky,
    explain_error=_explain_leaky_error,
    forbidden=Forbidden(COURSE_CODE, why="the task asks you to write Leaky ReLU and its "
                                         "derivative yourself, with numpy"),
    vectorised=True, reuse_calls=64, twins=4,
    loop_hint="comparisons, np.where and arithmetic work on a whole array at once.",
    passed="Leaky ReLU and its derivative are right on every case: slope alpha for x <= 0 "
           "(the kink included), 1 for x > 0; any shape, values up to each dtype's largest, "
           "float16/32/64 kept, integers give float64; vectorised.")


@exercise_check
def check_leaky_relu(leaky_relu, leaky_relu_grad, *, seed: int | None = None) -> None:
    """Check ``leaky_relu(x, alpha)`` and ``leaky_relu_grad(x, alpha)`` on inputs drawn at each
    call: any shape, finite values up to each dtype's largest, float16/32/64 kept, integer
    input of any integer dtype (signed or unsigned, its smallest and largest values included)
    gives float64 (empty arrays too), alpha = 0.0 used as given; the derivative exactly 1 or
    alpha rounded to x's dtype; own code, vectorised (timed on a large input too)."""
    LEAKY_RELU.check(leaky_relu, leaky_relu_grad, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 2: a vectorised dead-unit detector
# --------------------------------------------------------------------------------------

#: The check's first batch, (7 samples, 12 units): each column is a unit a half-right
#: detector gets wrong. Print it (``ch03.DEAD_UNITS_BATCH``) to see what the check sees.
_COLUMNS = [
    ("active on every sample", [0.5, 1.2, 0.1, 2.0, 0.4, 0.9, 0.3]),
    (None, [0.0, 0.0, -0.0, 0.0, 0.0, 0.0, 0.0]),
    ("outputs that cancel: they sum to 0, but 3 of its 7 outputs are nonzero",
     [0.5, 0.0, -0.25, 0.0, -0.25, 0.0, 0.0]),
    ("nonzero only on the last sample", [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.7]),
    ("nonzero only on the first sample", [0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
    ("zeros and small negative outputs, as a leaky unit below 0 gives: its largest output "
     "is 0, yet it is not zero everywhere", [-0.01, 0.0, 0.0, -0.03, 0.0, 0.0, 0.0]),
    ("a single tiny positive output, 1e-12", [0.0, 0.0, 0.0, 1e-12, 0.0, 0.0, 0.0]),
    ("the same nonzero output, 0.7, on every sample (constant, but not zero)", [0.7] * 7),
    (None, [0.0] * 7),
    ("a single output of 1e-200: tiny, but not zero", [0.0, 0.0, 1e-200, 0.0, 0.0, 0.0, 0.0]),
    ("negative on every sample (a leaky unit below 0 still passes gradient alpha)",
     [-0.02, -0.01, -0.05, -0.02, -0.01, -0.03, -0.04]),
    ("zero on one sample only, positive on the other six", [0.2, 0.4, 0.0, 0.3, 0.1, 0.2, 0.5]),
]
DEAD_UNITS_BATCH = np.array([col for _, col in _COLUMNS]).T


def _tall_column(n: int, values: dict) -> np.ndarray:
    col = np.zeros(n)
    col[list(values)] = list(values.values())
    return col


#: A tall batch, (200 samples, 7 units): a unit that is nonzero on 1 sample of 200 is alive,
#: so a "mostly zero" threshold or a look at the first rows only gets it wrong.
_TALL = 200
_TALL_COLUMNS = [
    ("nonzero on 1 of 200 samples, a late one (sample 150)", _tall_column(_TALL, {150: 0.4})),
    ("nonzero on 1 of 200 samples, an early one (sample 2)", _tall_column(_TALL, {2: 1.3})),
    ("nonzero on 5 of 200 samples (2.5%)",
     _tall_column(_TALL, {20: 0.2, 60: 0.1, 90: 0.5, 130: 0.3, 170: 0.6})),
    (None, np.zeros(_TALL)),
    ("negative on the last sample only", _tall_column(_TALL, {_TALL - 1: -1e-3})),
    ("active on every sample", 0.5 + np.arange(_TALL) % 7 / 10),
    ("zero on the first 150 samples, active on the last 50", _tall_column(
        _TALL, {n: 0.3 for n in range(150, _TALL)})),
]
DEAD_UNITS_TALL_BATCH = np.array([col for _, col in _TALL_COLUMNS]).T
_NOTES = {"main": [note for note, _ in _COLUMNS], "tall": [note for note, _ in _TALL_COLUMNS]}


def _dead_reference(A):
    return ~np.any(A != 0, axis=0)


def _describe_unit(col: np.ndarray) -> str:
    """What a unit's outputs are like, for a message: 'nonzero on 1 of 60 samples (sample
    47), negative there'."""
    n = len(col)
    nonzero = np.flatnonzero(col)
    if nonzero.size == 0:
        return f"zero on all {n} samples"
    if nonzero.size == n:
        text = f"nonzero on every one of its {n} samples"
    else:
        where = (f" (sample {nonzero[0]})" if nonzero.size == 1 else
                 f" (samples {nonzero[:4].tolist()}{' ...' if nonzero.size > 4 else ''})")
        text = f"nonzero on {nonzero.size} of {n} samples{where}"
    values = col[nonzero]
    if np.all(values < 0):
        text += ", negative there"
    biggest = float(np.max(np.abs(values)))
    if biggest < 1e-6:
        text += f", at most {biggest:.3g} in size: tiny, but not zero"
    elif values.size > 1 and np.ptp(values) == 0 and nonzero.size == n:
        text += f", always {float(values[0]):g}: constant, but not zero"
    elif values.size > 1 and float(values.sum()) == 0:
        text += ": its outputs cancel, they sum to 0"
    return text


def _relu_layer(rng, n_samples: int, n_units: int, leaky: bool = False,
                dtype=np.float64) -> np.ndarray:
    """A ReLU (or Leaky ReLU) layer's outputs with traps (when it has 5 units or more): two
    dead units, one that fires on a single late sample, one whose only output is tiny, one
    that fires on every sample."""
    z = rng.normal(0.0, 1.0, (n_samples, n_units))
    if n_units >= 5:
        units = rng.permutation(n_units)
        dead, late, tiny, busy = units[:2], units[2], units[3], units[4]
        z[:, dead] -= 12.0
        z[:, [late, tiny]] = -12.0
        z[int(rng.integers(n_samples // 2, n_samples)), late] = rng.uniform(0.1, 1.0)
        z[int(rng.integers(0, n_samples)), tiny] = 1e-30 if dtype == np.float32 else 1e-200
        z[:, busy] = np.abs(z[:, busy]) + 0.1
    a = np.where(z > 0, z, 0.01 * z) if leaky else np.maximum(z, 0.0)
    if leaky and n_units >= 5:  # a leaky layer has exact zeros only where a unit was pruned
        a[:, dead[0]] = 0.0
    return a.astype(dtype)


def _cancelling(rng, n_samples: int, n_units: int) -> np.ndarray:
    """Columns whose outputs sum to exactly 0 (a zero sum is not a zero column): 0.5 against
    two -0.25, and pairs +a, -a of as many positive as negative outputs, small (a power of two
    below 1) or not (1 to 64); zeros in some columns, and negative-only columns. The rows
    drawn (the first and the last sample among them), the columns shuffled."""
    A = np.zeros((n_samples, n_units))
    for j in range(n_units):
        kind = j % 5
        rows = rng.choice(n_samples, size=4, replace=False)
        if kind == 0:
            A[rows[:3], j] = [0.5, -0.25, -0.25]
        elif kind == 1:
            A[rows[:2], j] = -rng.integers(1, 8, 2) / 8
        elif kind == 3:   # balanced and small: +a, -a (and +b, -b), all below 1
            a, b = 2.0 ** -rng.integers(1, 11, 2)
            A[rows, j] = [a, -a, b, -b] if rng.random() < 0.5 else [a, -a, 0.0, 0.0]
        elif kind == 4:   # balanced, not small
            a = 2.0 ** int(rng.integers(0, 7))
            A[rows[:2], j] = [a, -a]
    ends = [j for j in range(n_units) if j % 5 in (0, 3)]
    for row, j in zip((0, n_samples - 1), ends[:2]):   # outputs on the first and the last
        nonzero = np.flatnonzero(A[:, j])
        A[[row, nonzero[0]], j] = A[[nonzero[0], row], j]
    return A[:, rng.permutation(n_units)]


def _counted(rng, rows: int = 600) -> np.ndarray:
    """(rows, 5) ReLU outputs: unit 0 dead, unit 1 nonzero on exactly 256 samples, unit 2 on
    exactly 512, unit 3 on every sample, unit 4 on 300 (it has zeros, and 300 is no multiple
    of 256: a wrapped count and "zero on some sample" give other masks); the nonzero places
    drawn."""
    A = np.zeros((rows, 5))
    for unit, count in ((1, 256), (2, 512), (3, rows), (4, 300)):
        where = rng.choice(rows, count, replace=False)
        A[where, unit] = rng.uniform(0.1, 2.0, count)
    return A


#: A unit nonzero on exactly this many samples: a count of the nonzero outputs in int16 or
#: uint16 (or uint8) wraps around to 0 there.
_WRAP16 = 65_536


def _large_batch(rng) -> np.ndarray:
    """A large float32 batch: more than 2,000,000 outputs (a random size, ``_large_size``:
    up to 2,300,000 on most draws, past it with no set ceiling on one in four) in a random
    100,001 to 125,000 samples (more than any other batch; past the 2,300,000 outputs, up to
    a sixteenth of them, drawn log-uniformly), 16 units or more (numpy reduces over the
    samples faster with more units: the check's cost stays down); mostly zeros. Units (in a
    random order): one nonzero on exactly 65,536 samples (a count in a 16-bit integer wraps to 0
    there), one nonzero only once in the second half (the last sample one draw in four), one
    only once in the first half (the first sample one draw in four), one only on the last
    sample, one only on the first, one with small outputs that cancel (+a and -a, one of them
    in the second half), dead ones, and the others alive on one random sample or dead. A look
    at part of the samples, or an answer that does something else for large batches, gets
    one of them wrong."""
    size = _large_size(rng)
    n = int(rng.integers(100_001, 125_001))
    if size >= _LARGE_SIZES[1] and rng.random() < 0.5:  # taller than the old check's too
        n = int(math.exp(rng.uniform(math.log(125_001), math.log(max(size // 16, 125_002)))))
    units = -(-size // n)
    A = np.zeros((n, units), dtype=np.float32)
    roles = rng.permutation(units)
    wrap, late, early, last, first, cancel, dead = roles[:7]
    A[rng.choice(n, _WRAP16, replace=False), wrap] = rng.uniform(0.1, 2.0)
    half = n // 2
    A[n - 1 if rng.random() < 0.25 else int(rng.integers(half, n - 1)), late] = \
        rng.uniform(0.1, 1.0)
    A[0 if rng.random() < 0.25 else int(rng.integers(1, half)), early] = rng.uniform(0.1, 1.0)
    A[n - 1, last] = rng.uniform(0.1, 1.0)
    A[0, first] = rng.uniform(0.1, 1.0)
    a = np.float32(2.0 ** -int(rng.integers(1, 12)))
    A[[int(rng.integers(0, half)), int(rng.integers(half, n))], cancel] = [a, -a]
    for j in roles[7:]:
        if rng.random() < 0.5:
            A[int(rng.integers(0, n)), j] = rng.uniform(0.1, 1.0)
    del dead   # (zero everywhere)
    return A


def _column_twins(rng, n: int = 6, units: int = 5) -> list[Case]:
    base = _relu_layer(rng, n, units, leaky=True)
    base[:, 0] = 0.0
    cancel, negative = base.copy(), base.copy()
    a = float(rng.uniform(0.5, 2.0))
    cancel[1:3, 0] = [a, -a]
    negative[1:-1, 0] = -rng.uniform(0.1, 1.0, n - 2)
    what = f"a Leaky ReLU batch ({n} samples, {units} units) with unit 0 dead"
    return [Case(what, (base,)),
            Case(f"{what}, then alive with outputs that cancel (the same column sum, 0)",
                 (cancel,)),
            Case(what, (base.copy(),)),
            Case(f"{what}, then alive with negative outputs (the same column maximum, 0)",
                 (negative,))]


def _draw_dead_units(rng) -> list[Case]:
    n = int(rng.integers(4, 8))
    square = np.abs(rng.normal(0.0, 1.0, (n, n))) + 0.1
    row, col = rng.choice(n, size=2, replace=False)
    square[:, col] = 0.0   # one dead unit...
    square[row, :] = 0.0   # ... and a sample on which every unit is 0: per sample is not per unit
    one_sample = np.maximum(rng.normal(0.0, 1.0, (1, 9)), 0.0)
    one_unit_dead = np.zeros((int(rng.integers(5, 30)), 1))
    one_unit_alive = np.zeros((int(rng.integers(5, 30)), 1))
    one_unit_alive[-1, 0] = 0.2
    subnormal = np.zeros((6, 5))
    subnormal[int(rng.integers(6)), 0] = 5e-324
    subnormal[int(rng.integers(6)), 1] = -5e-324
    subnormal[:, 3] = 0.5
    subnormal[:, 4] = rng.uniform(0.1, 1.0, 6)
    subnormal[int(rng.integers(6)), 4] = 0.0  # zero on one sample: alive
    tall_rows, tall_units = int(rng.integers(150, 301)), int(rng.integers(6, 12))
    long_rows = int(rng.integers(1000, 5001))
    cancel_rows = int(rng.integers(6, 41))
    cases = [
        Case("the (7 samples, 12 units) batch `ch03.DEAD_UNITS_BATCH`", (DEAD_UNITS_BATCH,),
             note={"notes": "main"}),
        Case("the (200 samples, 7 units) batch `ch03.DEAD_UNITS_TALL_BATCH`",
             (DEAD_UNITS_TALL_BATCH,), note={"notes": "tall"}),
        Case("`ch03.DEAD_UNITS_BATCH` in float32 (where 1e-200 becomes exactly 0)",
             (DEAD_UNITS_BATCH.astype(np.float32),)),
        Case(f"a square ({n} samples, {n} units) ReLU batch", (square,)),
        # The shape and dtype of the first case, other outputs: results kept by shape show.
        Case("a random (7 samples, 12 units) ReLU batch, the shape of "
             "`ch03.DEAD_UNITS_BATCH`", (_relu_layer(rng, 7, 12),)),
        Case("one sample, 9 units", (one_sample,)),
        Case(f"one unit, zero on all {len(one_unit_dead)} samples", (one_unit_dead,)),
        Case(f"one unit, nonzero on the last of its {len(one_unit_alive)} samples only",
             (one_unit_alive,)),
        Case("outputs of the smallest size a float64 holds, 5e-324 and -5e-324",
             (subnormal,)),
        Case("float32 outputs with the smallest float32, 1e-45",
             (np.array([[0.0, 1e-45, 0.0], [0.0, 0.0, -1e-45], [0.0, 0.0, 0.0]],
                       dtype=np.float32),)),
    ]
    shapes = [(int(rng.integers(8, 60)), int(rng.integers(6, 20))) for _ in range(3)]
    shapes = [(s, u + 1 if s == u else u) for s, u in shapes]
    cases += [
        Case(f"a random ReLU layer, ({shapes[0][0]} samples, {shapes[0][1]} units)",
             (_relu_layer(rng, *shapes[0]),)),
        Case(f"a random Leaky ReLU layer, ({shapes[1][0]} samples, {shapes[1][1]} units)",
             (_relu_layer(rng, *shapes[1], leaky=True),)),
        Case(f"a random float32 ReLU layer, ({shapes[2][0]} samples, {shapes[2][1]} units)",
             (_relu_layer(rng, *shapes[2], dtype=np.float32),)),
        Case(f"a tall random ReLU layer, ({tall_rows} samples, {tall_units} units)",
             (_relu_layer(rng, tall_rows, tall_units),)),
        Case(f"outputs that cancel in their column sums (as many positive as negative "
             f"outputs in some), ({cancel_rows} samples, 10 units)",
             (_cancelling(rng, cancel_rows, 10),)),
        Case(f"a long batch, ({long_rows} samples, 9 units), whose live units fire only on "
             "its first samples, one only in its middle, one on all samples but one",
             (_early_layer(rng, long_rows),)),
        # Units nonzero on exactly 256 and 512 samples: a count of the nonzero outputs in a
        # small integer type (uint8, int8) wraps to 0 and calls them dead.
        Case("units nonzero on exactly 256, 300 and 512 of 600 samples, one dead unit",
             (_counted(rng),)),
        Case("a random ReLU layer, (9 samples, 6 units), in Fortran order (a transposed array)",
             (_relu_layer(rng, 9, 6),), order="F"),
        # A dead unit, then the same batch where that unit's outputs cancel (the same column
        # sum, 0) or are all negative (the same column maximum, 0): a result kept by a
        # per-unit summary shows.
        *_column_twins(rng),
    ]
    # Python work that grows with the input (small and large), then time, on inputs of
    # 200,000 values. Two pairs, large in both axes, one taller than wide and one wider than
    # tall: a loop over either axis (the shorter one, say) grows in one of them. Timed: one
    # wide in units (a loop over the columns, any() over each, runs 100,000 times), one tall
    # in samples (a loop over the rows, 100,000 times), and two large in both axes. Mostly
    # zeros, so a scan that stops at the first nonzero value stops late.
    def make(shape, large):
        return _late_layer(rng, shape)

    cases += work_cases(make, shapes=((3, 4), (120, 60), (2, 100_000)))
    cases += work_cases(make, shapes=((4, 3), (60, 120), (500, 400)))
    for shape in ((100_000, 2), (400, 500)):
        cases.append(Case(f"a batch of ({shape[0]:,} samples, {shape[1]} units), timed against "
                          "numpy's own loops", (_late_layer(rng, shape),), work="timed",
                          size=min(shape), elements=shape[0] * shape[1]))
    # After the timed ones (a loop shows there first): a large float32 batch, taller and
    # larger than any other, of a random size (see ``_large_batch``).
    # (a work case, "large", with no small one to pair with: no work is compared on it, but a
    # loop stopped on the cases before it does not run over its millions of values)
    big = _large_batch(rng)
    cases.append(Case(
        f"a large float32 batch, ({big.shape[0]:,} samples, {big.shape[1]} units), "
        f"{big.size:,} outputs: a unit nonzero on exactly 65,536 samples, units nonzero once "
        "(in the second half, in the first half, on the last sample, on the first), one with "
        "outputs that cancel", (big,), work="large", size=min(big.shape), elements=big.size))
    return cases


def _early_layer(rng, n_samples: int) -> np.ndarray:
    """(n_samples, 9) outputs: 3 dead units, 4 that fire only on the first 10 samples, one
    that fires only on the middle sample, and one that fires on every sample but one. A look
    at the last rows sees only zeros in all but the last unit."""
    A = np.zeros((n_samples, 9))
    for j in range(3, 7):
        rows = rng.choice(10, size=int(rng.integers(1, 4)), replace=False)
        A[rows, j] = rng.uniform(0.1, 1.0, rows.size)
    A[n_samples // 2, 7] = rng.uniform(0.1, 1.0)
    A[:, 8] = rng.uniform(0.1, 1.0, n_samples)
    A[int(rng.integers(n_samples)), 8] = 0.0   # zero once: "some zero" is not "dead"
    return A[:, rng.permutation(9)]


def _late_layer(rng, shape: tuple) -> np.ndarray:
    """A layer that is silent almost everywhere: about a third of its units dead, the others
    firing on the last sample and on one random sample of the second half, or (about half of
    them, one at least) on one sample only, any but the last (the first sample of a batch of
    two: a look at the last sample of a wide batch misses them)."""
    n_samples, n_units = shape
    A = np.zeros(shape)
    alive = rng.random(n_units) < 2 / 3
    one_alive, one_dead = rng.choice(n_units, size=2, replace=False)  # at least one of each
    alive[one_alive], alive[one_dead] = True, False
    A[-1, alive] = rng.uniform(0.1, 1.0, int(alive.sum()))
    if n_samples > 1:
        rows = rng.integers(n_samples // 2, n_samples, int(alive.sum()))
        A[rows, np.flatnonzero(alive)] = rng.uniform(0.1, 1.0, rows.size)
        # About half the live units (one at least) fire once only, on any sample but the
        # last: a look at the last rows, or at the second half, misses them. Another live
        # one, if there is one, keeps firing on the last sample (a scan stops late).
        # (boolean masks: a set operation on 100,000 units costs more than the rest)
        once_mask = alive & (rng.random(n_units) < 0.5)
        once_mask[one_alive] = True
        late = np.flatnonzero(alive)
        late = late[late != one_alive]
        once_mask[late[:1]] = False
        once = np.flatnonzero(once_mask)
        A[:, once] = 0.0
        rows = rng.integers(0, n_samples - 1, once.size)
        rows[0] = rng.integers(0, n_samples // 2)  # one in the first half at least
        A[rows, once] = rng.uniform(0.1, 1.0, once.size)
    return A


def _judge_dead_units(case: Case, obs, expected) -> None:
    A = case.args[0]
    n_samples, n_units = A.shape
    what = "`dead_units`"
    got = obs.result
    if isinstance(got, (bool, np.bool_)):
        got = np.asarray(got)
    if isinstance(got, np.ndarray) and got.shape != expected.shape:
        if got.shape == (n_samples,) and n_samples != n_units:
            problem = "one value per sample (a row of A), but we want one per unit"
            hint = "A has shape (n_samples, n_units): reduce over the samples, the rows."
        elif got.shape == (1, n_units):
            problem = "an extra axis of length 1"
            hint = "the mask is 1-D: one entry per unit, nothing else."
        elif got.ndim == 1 and got.dtype.kind in "iu":
            problem = "a list of unit indices, it seems, not a mask"
            hint = "return True or False for every unit, in the units' order."
        elif got.ndim == 0:
            problem = "a single value for the whole batch"
            hint = "answer per unit: reduce over the samples only."
        else:
            problem = "not one value per unit"
            hint = "A has shape (n_samples, n_units); the mask has one entry per unit."
        raise ExerciseError(f"{what} returned shape {got.shape}: {problem}; expected shape "
                            f"{expected.shape}.", hint)
    got = expect_ndarray(got, what, shape=expected.shape,
                         hint="return the boolean mask as a numpy array, one entry per unit.")
    if got.dtype != bool:
        raise ExerciseError(
            f"{what} returned dtype {got.dtype}; the task asks for a boolean mask (True = dead).",
            "a comparison or a logical reduction already gives booleans; counts or fractions "
            "are not a mask.")
    if np.array_equal(got, expected):
        return
    counts = np.count_nonzero(A, axis=0)
    wrongly_dead = got & ~expected
    patterns = []
    # "Some zero" is named only when the mask calls a unit dead that is nonzero on most of its
    # samples (and not on a multiple of 256): a look at part of the samples, or a count that
    # wraps, would not call it dead.
    if np.any(wrongly_dead & (counts > n_samples / 2) & (counts % 256 != 0)):
        patterns.append((np.any(A == 0, axis=0),
                         "marks a unit dead when it is zero on *some* sample; a dead unit is "
                         "zero on *every* sample.", "a single nonzero output keeps the unit "
                                                    "alive."))
    wraps = {bits: (counts % 2**bits == 0) & (counts > 0) for bits in (8, 16)}
    kinds = {8: "uint8 or int8 (where 256 wraps around to 0)",
             16: "uint16 or int16 (where 65,536 wraps around to 0)"}
    if np.array_equal(wraps[8], wraps[16]):
        kinds = {16: "uint16 or int16 (or uint8, int8: 65,536 wraps around to 0 in all four)"}
    for bits, kind in kinds.items():
        if np.any(wraps[bits]):
            j = int(np.flatnonzero(wraps[bits])[0])
            patterns.append((
                wraps[bits] | (counts == 0),
                f"counts each unit's nonzero outputs in a type that wraps around: unit {j} is "
                f"nonzero on exactly {int(counts[j]):,} of its {n_samples:,} samples, and your "
                f"mask says dead, as a count in {kind} gives.",
                "count in numpy's default integer (np.count_nonzero does), or better, test the "
                "outputs directly: any nonzero output keeps the unit alive."))
    patterns.append((np.all(A <= 0, axis=0),
                     "marks units with negative outputs as dead; dead means exactly zero on "
                     "every sample (a leaky unit with negative output still gets a gradient).",
                     "compare with zero exactly, not with 'at most zero'."))
    tiny = np.all(np.isclose(A, 0), axis=0)
    if np.array_equal(got, tiny) and not np.array_equal(tiny, expected):
        # A tolerance, a lower precision or a mean that underflows give this same mask: say
        # what differs, not which of them it is.
        wrong = tiny & ~expected
        smallest = float(np.max(np.abs(A[:, wrong]), axis=0).min())
        patterns.append((tiny,
                         f"marks units dead whose nonzero outputs are all tiny (the smallest "
                         f"such unit's largest output is {smallest:.3g}); a tiny output is "
                         "not zero: the unit is alive and passes gradient.",
                         "compare the outputs themselves with 0, exactly: no tolerance "
                         "(np.isclose), no step through a lower precision (float16, float32), "
                         "no mean or sum, which can round a tiny output to 0."))
    if n_samples == n_units:
        patterns.append((np.all(A == 0, axis=1),
                         "answers per sample (the rows of A), not per unit (the columns); on a "
                         "square batch the shapes agree but the values do not.",
                         "A has shape (n_samples, n_units): reduce over the samples."))
    # A known mistake is named only when the mask is that mistake's and no other's.
    hits = [(problem, hint) for wrong, problem, hint in patterns
            if np.array_equal(got, wrong) and not np.array_equal(wrong, expected)]
    if len(hits) == 1:
        raise ExerciseError(f"{what} {hits[0][0]}", hits[0][1])
    notes = _NOTES.get(case.note.get("notes"))
    bad = np.flatnonzero(got != expected)
    lines = []
    for j in bad[:3]:
        col = A[:, j]
        about = notes[j] if notes is not None and notes[j] is not None else _describe_unit(col)
        if n_samples <= 12:
            outputs = "its outputs: " + np.array2string(col, separator=", ", precision=3,
                                                        max_line_width=200)
        else:  # too long to print: the samples where it is nonzero
            nz = np.flatnonzero(col)
            outputs = (f"nonzero on samples {nz[:8].tolist()}{' ...' if nz.size > 8 else ''}"
                       if nz.size else f"zero on all {n_samples} samples")
        state, says = ("dead", "alive") if expected[j] else ("alive", "dead")
        lines.append(f"unit {j} is {state} ({about}), but your mask says {says}; {outputs}")
    first = "; the first three:" if len(bad) > 3 else ":"
    raise ExerciseError(
        f"{what}: your mask differs on {len(bad)} of {n_units} units{first}\n  "
        + "\n  ".join(lines),
        "a unit (a column of A) is dead only when every one of its outputs (every row) is "
        "exactly 0; any nonzero output, tiny, negative or constant, keeps it alive.")


DEAD_UNITS = Spec(
    "ch03.dead_units", check="ch03.check_dead_units", grade_id="ch03-dead-units-check",
    what="`dead_units`", answers=("dead_units",), draw=_draw_dead_units,
    reference=_dead_reference, judge=_judge_dead_units, twins=3, reuse_calls=64,
    forbidden=Forbidden(COURSE_CODE, why="the task asks you to write the detector yourself, "
                                         "with numpy"),
    vectorised=True,
    loop_hint="numpy's comparisons and reductions take an axis: one call answers for every "
              "unit.",
    passed="`dead_units` finds exactly the units that are zero on every sample, on every batch "
           "tried (tiny, negative, cancelling and late outputs included), vectorised.")


@exercise_check
def check_dead_units(dead_units, *, seed: int | None = None) -> None:
    """Check ``dead_units(A)``: a boolean numpy mask over the columns (units) of ``A``, True
    where a unit is exactly 0 on every sample; own code, vectorised, with no loop over either
    axis (timed on large inputs: wide, tall and large in both axes)."""
    DEAD_UNITS.check(dead_units, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 3: revive a broken network by changing one setting
# --------------------------------------------------------------------------------------

#: The network of section 4 that a large negative bias killed: the first broken settings the
#: check tries (a bias in the middle of the range, lr and epochs at their upper ends). Then,
#: with the same keys: corners of the ranges (the hard one: bias -4, lr 0.5, 150 epochs) and
#: their middle (``_FIXED_SETTINGS``), the mild end of the bias range (-2, with lr and epochs
#: drawn), and settings drawn anywhere in the ranges (bias -4 to -2, lr 0.5 to 1, epochs 150
#: to 300). Every one of them leaves the second hidden layer dead at birth and for good
#: (tests/test_exercises_ch03.py trains the fixed ones).
BROKEN_CONFIG = {"activation": "relu", "init": "he", "bias_init": -3.0, "lr": 1.0,
                 "epochs": 300}
SIZES = (2, 16, 16, 1)
TARGET_ACCURACY = 0.95
MAX_EPOCHS = 300
_NUMBERS = (int, float, np.integer, np.floating)


def train_config(config: dict, seed: int = 0, diagnostics: bool = True):
    """Train the chapter's moons network with ``config``; return (net, history)."""
    from .. import data, nn  # local import: exercises stay light until a check runs

    X, y = data.moons(n=200, noise=0.15, seed=0)
    net = nn.MLP(list(SIZES), config["activation"], output="sigmoid", init=config["init"],
                 bias_init=config["bias_init"], seed=seed)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        history = net.fit(X, y, epochs=config["epochs"], lr=config["lr"],
                          diagnostics=diagnostics)
    return net, history


def _broken_config(rng, bias: tuple, lr: tuple, epochs: tuple, *, odd: bool = False) -> dict:
    """Broken settings anywhere in the ranges, with all their digits (not on a grid of round
    values: a rule right only there shows); with ``odd``, epochs neither even nor a multiple
    of 5."""
    choices = np.arange(epochs[0], epochs[1] + 1)
    if odd:
        choices = choices[(choices % 2 == 1) & (choices % 5 != 0)]
    return {"activation": "relu", "init": "he", "bias_init": float(rng.uniform(*bias)),
            "lr": float(rng.uniform(*lr)), "epochs": int(rng.choice(choices))}


#: The ranges the task states for the broken settings: bias_init, lr, epochs.
BIAS_RANGE, LR_RANGE, EPOCHS_RANGE = (-4.0, -2.0), (0.5, 1.0), (150, 300)


#: The corners and the middle of the ranges every check tries (bias_init, lr, epochs), after
#: the task's settings: a rule fitted to part of the ranges (by the epochs, the lr or the bias)
#: meets a setting where it fails on every draw. A few more are drawn anywhere in the ranges.
_FIXED_SETTINGS = (
    ("the hard corner of the ranges", (BIAS_RANGE[0], LR_RANGE[0], EPOCHS_RANGE[0])),
    ("the lowest bias and lr with the most epochs", (BIAS_RANGE[0], LR_RANGE[0],
                                                     EPOCHS_RANGE[1])),
    ("the lowest bias with the largest lr and the fewest epochs", (BIAS_RANGE[0], LR_RANGE[1],
                                                                   EPOCHS_RANGE[0])),
    ("the mild corner of the ranges", (BIAS_RANGE[1], LR_RANGE[0], EPOCHS_RANGE[0])),
    ("the easy corner of the ranges", (BIAS_RANGE[1], LR_RANGE[1], EPOCHS_RANGE[1])),
    ("the lowest bias with the largest lr and the most epochs", (BIAS_RANGE[0], LR_RANGE[1],
                                                                 EPOCHS_RANGE[1])),
    ("the mild bias with the smallest lr and the most epochs", (BIAS_RANGE[1], LR_RANGE[0],
                                                                EPOCHS_RANGE[1])),
    ("the mild bias with the largest lr and the fewest epochs", (BIAS_RANGE[1], LR_RANGE[1],
                                                                 EPOCHS_RANGE[0])),
    ("the lowest bias with the middle lr and epochs", (BIAS_RANGE[0], 0.75, 220)),
    ("the middle of the ranges", (-3.0, 0.75, 220)),
    ("the middle bias with the smallest lr and the most epochs", (-3.0, LR_RANGE[0],
                                                                  EPOCHS_RANGE[1])),
    # Biases between whole numbers: a rule fitted to the integer biases above that keeps a
    # fraction of the bias leaves a bias of -0.4 (b - round(b) at -3.4, round(b) - b at -2.6),
    # too negative, or of 0.9 (b % 1 at -3.1, int(b) - b at -3.9), too large for the larger
    # learning rates. (A bias outside about -0.28 to 0.6 leaves some units dead.)
    ("a bias of -3.4 with the smallest lr and the fewest epochs", (-3.4, LR_RANGE[0],
                                                                   EPOCHS_RANGE[0])),
    ("a bias of -2.6 with the middle lr and epochs", (-2.6, 0.75, 220)),
    ("a bias of -3.1 with the largest lr and the fewest epochs", (-3.1, LR_RANGE[1],
                                                                  EPOCHS_RANGE[0])),
    ("a bias of -3.9 with the middle lr and epochs", (-3.9, 0.75, 220)),
)
#: How many settings are drawn anywhere in the ranges at each check (the mild end of the bias
#: range with lr and epochs drawn, then anywhere, with every digit: bias, lr and epochs off
#: any grid of round values, the last one's epochs odd and no multiple of 5): each one trains
#: a network (~0.03 s).
_DRAWN_SETTINGS = 3


def _draw_revive(rng) -> list[Case]:
    # Every range's ends every time (corners, the mild bias), the middle, the task's settings,
    # and settings drawn anywhere: a rule fitted to some of the ranges fails deterministically.
    cases = [Case("the broken settings of the task, `ch03.BROKEN_CONFIG`",
                  (dict(BROKEN_CONFIG),))]
    for label, (bias, lr, epochs) in _FIXED_SETTINGS:
        config = {"activation": "relu", "init": "he", "bias_init": bias, "lr": lr,
                  "epochs": epochs}
        cases.append(Case(f"{label}, {config}", (config,)))
    mild = dict(_broken_config(rng, BIAS_RANGE, LR_RANGE, EPOCHS_RANGE),
                bias_init=BIAS_RANGE[1])
    cases.append(Case(f"the mild end of the bias range, {mild}", (mild,)))
    for i in range(_DRAWN_SETTINGS - 1):
        other = _broken_config(rng, BIAS_RANGE, LR_RANGE, EPOCHS_RANGE, odd=i == 0)
        cases.append(Case(f"the broken settings {other}", (other,)))
    # Last: many more broken settings, spread over the ranges, that revive is called on (the
    # same change on all, to the same value: not trained, the cases above trained it).
    cases.append(Case(f"{_PROBES} broken settings spread over the ranges (each one's result "
                      "read: the same setting changed, to the same value, on all)",
                      (_probe_configs(rng),), driver="ch03.revive_many"))
    return cases


def _same_setting(a, b) -> bool:
    """Equal settings; an array or another odd value counts as changed, never crashes."""
    try:
        return type(a) is not bool and bool(a == b)
    except (TypeError, ValueError):
        return False


def _bad_value(key: str, value) -> str | None:
    """Why ``value`` cannot be the setting ``key`` (None when it can)."""
    real = isinstance(value, _NUMBERS) and not isinstance(value, (bool, np.bool_))
    if key == "activation":
        known = activations.builtin_names()
        if not isinstance(value, str) or activations.aliases().get(value, value) not in known:
            return f"it is not one of the course's activations ({', '.join(known)})"
    elif key == "init":
        from .. import nn
        if not isinstance(value, str) or value not in nn.INITS:
            return f"it is not one of the initialisations {', '.join(nn.INITS)}"
    elif key == "epochs":
        if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) \
                or value < 1:
            return "epochs must be a positive whole number (an int)"
    elif not real or not math.isfinite(float(value)):
        return f"{key} must be a finite number"
    elif key == "lr" and value <= 0:
        return "the learning rate must be positive"
    return None


def _one_change(config: dict, result, what: str) -> tuple[str, object, str]:
    """(key, new value, "key = value") of the one setting ``result`` changes from ``config``;
    an ExerciseError when it is no dict of the same keys, or changes none or several."""
    if result is None:
        raise ExerciseError(f"{what} returned None.",
                            "return the new settings: a dict like the one you were given.")
    got = expect_dict(result, list(config), what,
                      hint="copy the dict you were given (`dict(config)`), change one entry and "
                           "return the copy: the same keys, none added, none left out.")
    changed = [k for k in config if not _same_setting(got[k], config[k])]
    if not changed:
        raise ExerciseError(f"{what} returned the broken settings unchanged.",
                            "change exactly one of them: which setting made the units dead?")
    if len(changed) > 1:
        raise ExerciseError(
            f"{what} changes {len(changed)} settings ({', '.join(changed)}); the exercise asks "
            "for exactly one.",
            "start from the config you were given, not from fixed values: the check passes "
            "several broken configs, and only the setting you fix may differ from each.")
    key = changed[0]
    value = got[key]
    shown = f"{key} = {value!r}" if not isinstance(value, Other) else f"{key} = {describe(value)}"
    problem = _bad_value(key, value)
    if problem is not None:
        raise ExerciseError(f"the network could not be built with {shown}: {problem}.",
                            "give the setting a value of the kind the broken config has.")
    if key == "epochs" and value > MAX_EPOCHS:
        raise ExerciseError(
            f"{what} asks for {value} epochs; keep at most {MAX_EPOCHS} so the check runs "
            "quickly.", "more epochs cannot help a unit whose gradient is exactly zero anyway.")
    return key, value, shown


def _judge_trained(config: dict, key: str, value, shown: str, where: str = "") -> None:
    """Train ``config`` with ``key`` set to ``value``: an ExerciseError when training diverges,
    a hidden unit is still dead, or the accuracy stays below the target. ``where`` names the
    config in the message (for one of the probes)."""
    trained = dict(config, **{key: value.item() if isinstance(value, np.generic) else value})
    try:
        net, history = train_config(trained, diagnostics=False)
    except Exception as err:  # a value the network refuses: say so, never crash
        raise ExerciseError(f"the network could not be built or trained with {shown}{where}: "
                            f"{type(err).__name__}: {err}", None) from None
    if history.diverged_at is not None or not np.isfinite(history.loss[-1]):
        raise ExerciseError(
            f"with {shown}{where} training diverged (the loss became inf or NaN).",
            "a step that is too large makes things worse, not better.")
    dead = [float(np.mean(diagnostics.dead_units(a))) for a in net.cache["a"][1:-1]]
    acc = float(history.accuracy[-1])
    worst = int(np.argmax(dead))
    if dead[worst] > 0:
        raise ExerciseError(
            f"with {shown}{where}, {dead[worst]:.0%} of the units of hidden layer {worst + 1} "
            f"are still dead after training (accuracy {acc:.1%}).",
            "a unit whose pre-activation is negative on every input gets no gradient, whatever "
            "the step size or the number of epochs: change what puts it there. (Another "
            "activation, one with a nonzero slope for inputs below zero, keeps the units "
            "alive, but from the hard starts it does not reach 95% in the epochs allowed.)")
    if acc < TARGET_ACCURACY:
        raise ExerciseError(
            f"with {shown}{where} no unit is dead, but alive is not the same as learning: after "
            f"{trained['epochs']} epochs the accuracy is {acc:.1%} (target "
            f"{TARGET_ACCURACY:.0%}) and the loss {float(history.loss[-1]):.3f} (predicting 0.5 "
            f"everywhere gives log 2 = {np.log(2):.3f}).",
            "the same single change must work on every broken config the check draws, the "
            "hard ones included: look for the change that removes the cause.")


def _judge_revive(case: Case, obs, expected) -> None:
    if case.driver is not None:
        _judge_probes(case, obs)
        return
    config = case.args[0]
    key, value, shown = _one_change(config, obs.result, "`revive(config)`")
    _judge_trained(config, key, value, shown)


#: How many broken settings the check hands to ``revive`` without training them: spread
#: over the ranges (one in each 1/200 of the bias range, of the lr range, and every epoch
#: count), so a rule that does something else on any band of the ranges twice as wide as
#: that (a bias from -2.31 to -2.29, say: it holds one of those 1/200ths whole) meets one
#: on every draw. Calls are cheap; training is not:
#: none is trained, but each must change the same setting to the same value as every other
#: config (the trained ones too), so a band with another value is refused, not trained.
_PROBES = 200


def _probe_configs(rng, n: int = _PROBES) -> list[dict]:
    """``n`` broken settings, one in each n-th of the bias and the lr ranges (paired at
    random, with all their digits) and the epochs spread over 150 to 300, each count at least
    once."""
    def spread():
        return (rng.permutation(n) + rng.random(n)) / n

    bias, lr = BIAS_RANGE[0] + 2.0 * spread(), LR_RANGE[0] + 0.5 * spread()
    every = np.arange(EPOCHS_RANGE[0], EPOCHS_RANGE[1] + 1)
    epochs = rng.permutation(np.concatenate([every, rng.choice(every, n - every.size)]))
    return [{"activation": "relu", "init": "he", "bias_init": float(b), "lr": float(r),
             "epochs": int(e)} for b, r, e in zip(bias, lr, epochs)]


@driver("ch03.revive_many")
def _revive_many(answers, configs):
    """``revive`` called on each config in turn: the list of what it returned."""
    return [answers[0](config) for config in configs]


def _judge_probes(case: Case, obs) -> None:
    """The probes: one change on each, the same setting on all, to the same value on all
    (a rule that picks the value from the config's values is refused, whatever the value is
    where: a value that differs on one probe only is never trained, and a network trained
    with the others says nothing about it). One value on all has been trained on the cases
    before (and ``_judge_same_key`` compares it with theirs)."""
    configs, results = case.args[0], obs.result
    if not isinstance(results, list) or len(results) != len(configs):
        raise ExerciseError("`revive(config)` did not return one result per config.", None)
    changes = [_one_change(config, result, f"`revive(config)` on {config}")
               for config, result in zip(configs, results)]
    keys = {}
    for config, (key, _, _) in zip(configs, changes):
        keys.setdefault(key, config)
    _refuse_two_fixes(keys)
    _refuse_two_values([(config, value, shown)
                        for config, (_, value, shown) in zip(configs, changes)])


def _same_value(a, b) -> bool:
    """The same new value, as the task says: equal (0 and 0.0 and -0.0 are; two numbers a
    rounding apart are not)."""
    return _same_setting(a, b)


def _refuse_two_values(changed: list) -> None:
    """Refuse answers that set the one setting they change to a value that depends on the
    config (``changed``: (config, new value, "key = value") of every config, in order)."""
    first_config, first_value, first_shown = changed[0]
    for config, value, shown in changed[1:]:
        if not _same_value(value, first_value):
            raise ExerciseError(
                f"`revive(config)` sets {first_shown} on the broken settings {first_config}, "
                f"but {shown} on {config}: a different value for some settings of the ranges "
                f"(a rule on the config's values){_how_close(value, first_value)}.",
                _SAME_FIX_HINT)


def _how_close(a, b) -> str:
    """', however close (they differ by 1e-09)' for two numbers, or ''."""
    try:
        gap = abs(float(a) - float(b))
    except (TypeError, ValueError, OverflowError):
        return ""
    return f", however close (they differ by {gap:.3g})" if 0 < gap < 1e-3 else ""


_SAME_FIX_HINT = ("the cause of the dead units is the same in every broken config, and so is the "
                  "fix: change the same setting, to the same value, in all of them, whatever "
                  "their values (no rule on the config's values that picks another fix or "
                  "another value for some of them).")


def _judge_same_key(cases, observations, refs) -> None:
    """Every config, trained or probed, has the same setting changed, to the same value."""
    seen: dict = {}
    changed = []
    for c, o in zip(cases, observations):
        if c.driver is not None:
            pairs = zip(c.args[0], o.result)
        else:
            pairs = [(c.args[0], o.result)]
        for config, result in pairs:
            key = next(k for k in config if not _same_setting(result[k], config[k]))
            seen.setdefault(key, config)
            value = result[key]
            shown = (f"{key} = {value!r}" if not isinstance(value, Other) else
                     f"{key} = {describe(value)}")
            changed.append((config, value, shown))
    _refuse_two_fixes(seen)
    _refuse_two_values(changed)


def _refuse_two_fixes(first_config_of: dict) -> None:
    """Refuse answers that change one setting on some configs and another on others
    (``first_config_of``: each changed setting -> the first config it was changed on)."""
    if len(first_config_of) > 1:
        (k1, c1), (k2, c2) = list(first_config_of.items())[:2]
        raise ExerciseError(
            f"`revive(config)` changes {k1} on the broken settings {c1}, but {k2} on {c2}: "
            "a different setting for some settings of the ranges.", _SAME_FIX_HINT)


REVIVE = Spec(
    "ch03.revive", check="ch03.check_revive", grade_id="ch03-revive-check",
    what="`revive(config)`", answers=("revive",), draw=_draw_revive,
    reference_case=lambda case: None, judge=_judge_revive, judge_all=_judge_same_key,
    passed="`revive(config)` revives every broken network tried (the task's and others drawn "
           "at this check): one setting changed, no dead hidden unit after training, training "
           "accuracy at least 95%.")


@exercise_check
def check_revive(revive, *, seed: int | None = None) -> None:
    """Check ``revive(config)`` on nineteen broken configs (the task's, the eight corners of
    the ranges and three middles, four biases between whole numbers, the mild end of the bias
    range with lr and epochs drawn and two drawn anywhere, with all their digits): exactly one
    setting changed, and each revived network trains with no dead hidden unit to at least 95%
    accuracy. Then on 200 more spread over the ranges: the same setting changed, to the same
    value, on every config (the trained ones included)."""
    REVIVE.check(revive, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 4: born dead, width 1
# --------------------------------------------------------------------------------------

# Names the idea, not the formula: what must go right, layer by layer, for the net to live.
_BORN_DEAD_HINT = ("count what must go right, layer by layer, for the network to stay alive; "
                   "the layers' weights are independent, so their probabilities multiply.")


def _born_dead_reference(depth, probe=None):
    return 1.0 - 0.5 ** (np.asarray(depth, dtype=np.float64) - 1)


#: The medium depth a huge single depth is preceded by (see _huge_depth), and the CPU seconds
#: an answer may take on it. An exact Python-integer power, 2 ** (D - 1), has D bits: it takes
#: some 60 ms at this depth (four times more for every doubling of D, a third of a second at
#: 2**26), and at a depth near 2**63 it would never finish, and no limit could stop it (a
#: Python-integer product runs no Python line). numpy's arithmetic takes microseconds.
_PROBE_DEPTH, _PROBE_SECONDS = 2**24 + 1, 0.01


@driver("ch03.huge_depth")
def _huge_depth(answers, depth, probe):
    """The answer on one huge depth (a numpy integer or a 0-d array, past 2**26), unless it is
    slow on ``probe``, a medium depth of the same kind (_PROBE_DEPTH): then a record of that
    time instead, and the huge depth is not run. (Garbage collection is held off while the
    probe is timed, and a slow probe is timed twice: only the answer's own time counts.)"""
    _read_only([depth, probe])
    answer = answers[0]
    seconds = math.inf
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(2):
            start = time.process_time()
            try:
                answer(probe)
            except Exception:
                pass  # (the huge depth's own call says what goes wrong)
            seconds = min(seconds, time.process_time() - start)
            if seconds <= _PROBE_SECONDS:
                break
    finally:
        if enabled:
            gc.enable()
    if seconds > _PROBE_SECONDS:
        return {"slow": float(seconds)}
    return {"result": answer(depth)}


def _probed(case: Case) -> Case:
    """``case`` (one depth, past _PROBE_DEPTH) run through _huge_depth: its probe of the same
    dtype, and of the same kind (a numpy integer, or a 0-d array)."""
    depth = case.args[0]
    if int(depth) <= _PROBE_DEPTH:
        return case  # (an exact integer power finishes in milliseconds there)
    probe = np.array(_PROBE_DEPTH, dtype=np.asarray(depth).dtype)
    probe = probe if isinstance(depth, np.ndarray) else probe[()]
    return dataclasses.replace(case, kwargs={"probe": probe}, driver="ch03.huge_depth")


def _draw_born_dead(rng) -> list[Case]:
    random_depth = int(rng.integers(3, 61))
    shape = random_shape(rng)
    return [
        Case("depths = np.arange(1, 21), the table's depths", (np.arange(1, 21),)),
        Case("depths beyond the table in a 2-D array, [[2, 7, 30], [45, 52, 1]]",
             (np.array([[2, 7, 30], [45, 52, 1]]),)),
        Case("depth = 1 (an int)", (1,)),
        Case("depth = 2 (an int)", (2,)),
        # Depths where float32 (24 bits) is no longer exact and float64 (53 bits) still is.
        Case("depth = 30 (an int)", (30,)),
        Case("depth = 50 (an int)", (50,)),
        Case(f"depth = {random_depth} (an int)", (random_depth,)),
        Case("depth = np.int64(5), a numpy integer", (np.int64(5),)),
        # A large Python int, drawn (see ``_wrap_depth``): a depth wrapped around on the way
        # (taken modulo 256, or cast to 8 or 16 bits) shows.
        _large_number(rng),
        Case("deep networks, depths 63, 64, 65, 100 and 1000 (2**63 passes the int64 range)",
             (np.array([63, 64, 65, 100, 1000]),)),
        Case("a 0-d integer array", (np.array(int(rng.integers(1, 30))),)),
        Case("a 0-d integer array beyond float32's digits, np.array(40)", (np.array(40),)),
        Case("a one-element array [5]", (np.array([5]),)),
        Case("an empty integer array", (np.zeros(0, dtype=np.int64),)),
        Case(f"a random int32 array of shape {shape}",
             (rng.integers(1, 80, size=shape).astype(np.int32),)),
        Case("a random int64 array of shape (2, 3)", (rng.integers(1, 80, size=(2, 3)),)),
        # Three and four axes on every draw ("any shape"): an answer right up to 2-D shows.
        *[Case(f"a random int64 array of shape {s3}", (rng.integers(1, 80, size=s3),))
          for s3 in (tuple(int(d) for d in rng.integers(2, 4, n)) for n in (3, 4))],
        # Depths 45 to 60, where 1 - (1/2)^(D - 1) reaches 1 in float64 (exact up to 54): an
        # answer that rounds to 1 early, or rounds its digits, shows.
        Case("depths 45 to 60, np.arange(45, 61)", (np.arange(45, 61),)),
        # Large numpy integers, where a power of 2 in the depth's own integers overflows.
        Case("depth = np.int64(65), a numpy integer", (np.int64(65),)),
        Case("depth = np.int32(40), a numpy integer", (np.int32(40),)),
        Case("depth = np.int8(100), a numpy integer", (np.int8(100),)),
        Case("depth = np.uint8(200), a numpy integer", (np.uint8(200),)),
        Case("a 0-d integer array, np.array(65)", (np.array(65),)),
        _probed(_single_depth(rng, "a 0-d int32 array", np.int32, zero_d=True)),
        # Narrow integer dtypes, signed and unsigned: the result is float64 all the same.
        *[Case(f"an {np.dtype(dtype).name} array {values}", (np.array(values, dtype=dtype),))
          for dtype, values in ((np.int8, [1, 2, 30, 54, 100, 127]),
                                (np.int16, [1, 5, 53, 1000, 32767]),
                                (np.uint8, [1, 2, 54, 200, 255]),
                                (np.uint16, [1, 3, 52, 65535]),
                                (np.uint32, [1, 5, 40, 70000]),
                                (np.uint64, [1, 5, 40, 1000]))],
        Case("depth = np.uint32(5), a numpy integer", (np.uint32(5),)),
        Case("depth = np.uint64(40), a numpy integer", (np.uint64(40),)),
        # A long array (a random length from 1,001 to 2,000), depths 1 to 2,000 with depth 1
        # and depths where the value reaches 1 at random places, the first and the last
        # entries included: an answer that does something else for long arrays shows. (Before
        # the huge depths: the spec's twins go to the latest arrays of each dtype.)
        _long_depths(rng),
        *_huge_depth_cases(rng),
        # Last, single numpy depths anywhere in their dtype's range, up to its largest (a
        # Python-int power of such a depth would run for ever: other cases show first).
        _probed(_single_depth(rng, "a numpy integer", np.int64)),
        _probed(_single_depth(rng, "a numpy integer past int64's largest", np.uint64)),
    ]


def _wrap_depth(rng, low_bits: int, high_bits: int) -> int:
    """A depth of a bit length drawn from ``low_bits`` to ``high_bits`` (at least 1,025),
    whose low bits read a small depth (2 to 40, where the value is below 1 by more than
    1e-12, so the wrapped value shows at any precision): 8 of them up to
    17 bits, 16 up to 33 bits, 32 beyond. Taken modulo 256, 65,536 or 2**32, or cast to a
    dtype of 8, 16 or 32 bits (whichever the depth passes), it wraps around to that small
    depth, and the probability shows it."""
    bits = int(rng.integers(low_bits, high_bits + 1))
    low = 32 if bits > 33 else 16 if bits > 17 else 8
    high = (1 << (bits - 1 - low)) | int(rng.integers(0, 1 << max(bits - 1 - low, 0),
                                                      dtype=np.uint64))
    return (high << low) | int(rng.integers(2, 41))


#: The bit lengths of the large Python-int depth (11 to 21 bits: 1,025 to 2 million, on one
#: draw in eight up to 26 bits, 67 million). An exact Python-integer power, 2 ** (D - 1),
#: is an answer that works: it costs milliseconds up to 21 bits, a third of a second at 26.
_NUMBER_BITS, _NUMBER_TAIL_BITS = (11, 21), 26


def _large_number(rng) -> Case:
    """One Python int depth above 1,000, drawn (see ``_wrap_depth``)."""
    high = _NUMBER_TAIL_BITS if rng.random() < 0.125 else _NUMBER_BITS[1]
    depth = _wrap_depth(rng, _NUMBER_BITS[0], high)
    return Case(f"depth = {depth} (an int)", (depth,))


def _single_depth(rng, label: str, dtype, zero_d: bool = False) -> Case:
    """One numpy depth (a scalar, or a 0-d array) of ``dtype``, above 1,000 and up to the
    dtype's largest, drawn (see ``_wrap_depth``): uint64 past int64's largest."""
    bits = 8 * np.dtype(dtype).itemsize - (np.dtype(dtype).kind == "i")
    low = bits if dtype == np.uint64 else 11
    depth = np.array(_wrap_depth(rng, low, bits), dtype=dtype)
    value = depth if zero_d else depth[()]
    return Case(f"{label}, {_shown(value)}", (value,))


def _long_depths(rng) -> Case:
    """A 1-D int64 array of a random length from 1,001 to 2,000 (log-uniform), and on one
    draw in four longer, with no set ceiling an answer can test for (a Pareto tail: one such
    draw in ten past 20,000, cut at 1,000,000; cheap here): random depths from 1 to 2,000,
    depth 1 and depths from 55 on (where the value is 1) at random places, one of them first
    and another last."""
    n = int(np.exp(rng.uniform(np.log(1_001), np.log(2_000))))
    if rng.random() < 0.25:
        n = int(min(2_000 / (1.0 - rng.random()), 1_000_000))
    depths = rng.integers(1, 2_001, n)
    depths[rng.integers(0, n, 4)] = 1
    depths[rng.integers(0, n, 4)] = rng.integers(55, 2_001, 4)
    ends = rng.permutation([1, int(rng.integers(2, 61)), int(rng.integers(55, 2_001))])
    depths[0], depths[-1] = ends[0], ends[1]
    return Case(f"a long array of {n:,} depths from 1 to 2,000", (depths,))


def _huge_depth_cases(rng) -> list[Case]:
    """Depths as large as their dtype holds, in arrays: beyond int32 and int64 (uint64 up to
    2**64 - 1), and depths that a narrower dtype wraps around to small ones (257 is 1 in
    uint8, 65,537 is 1 in int16 and uint16, 2**32 + 5 is 5 in int32). A cast of the depth to
    int64, int32 or a narrower dtype shows. (Arrays only: a single depth that large would
    make an exact Python-integer power, 2 ** (D - 1), run for ever instead of failing.)"""
    small = [int(v) for v in rng.integers(1, 60, 4)]
    wraps = [256 * int(rng.integers(1, 2**20)) + small[0],
             65_536 * int(rng.integers(1, 2**20)) + small[1],
             2**32 * int(rng.integers(1, 2**20)) + small[2]]
    int64 = np.array([256, 257, 300, 513, 65_537, 2**31, 2**31 + 3, 2**32 + 5, 2**63 - 1,
                      *wraps], dtype=np.int64)
    beyond = int(rng.integers(2**63, 2**64 - 1, dtype=np.uint64))
    uint64 = np.array([5, 2**63, 2**63 + 1, beyond, 2**63 + small[3], 2**64 - 1],
                      dtype=np.uint64)
    uint32 = np.array([1, 5, 257, 65_537, 2**31 + 3, 2**32 - 1], dtype=np.uint32)
    return [
        Case("int64 depths beyond what a narrower dtype holds (257 is 1 in uint8, 2**32 + 5 is "
             f"5 in int32), {show(int64)}", (int64,)),
        Case(f"uint64 depths beyond int64's largest (2**63 - 1), {show(uint64)}", (uint64,)),
        Case(f"uint32 depths up to the largest, {show(uint32)}", (uint32,)),
        _probed(Case("a 0-d uint64 array, np.array(2**64 - 1, dtype=np.uint64)",
                     (np.array(2**64 - 1, dtype=np.uint64),))),
    ]


#: The integer dtypes a depth may be cast to on the way (the widest last): a depth it cannot
#: hold wraps around.
_CAST_DTYPES = (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64)


def _wrapped_depth(depth: np.ndarray, values: np.ndarray, wanted) -> tuple | None:
    """(dtype, depth, wrapped depth) when ``values`` are the right probabilities of the
    depths cast to a narrower (or signed) integer dtype, where they differ from the right
    ones; of the dtypes that fit, the one that explains the most of the answer."""
    depth = np.asarray(depth)
    if depth.dtype.kind not in "iu" or not np.all(np.isfinite(wanted)):
        return None
    fits = []
    for dtype in _CAST_DTYPES:
        wrapped = depth.astype(dtype)
        with np.errstate(all="ignore"):
            theirs = 1.0 - 0.5 ** (wrapped.astype(np.float64) - 1.0)
        # Every wrong value is the wrapped depth's; arithmetic in the narrow dtype may wrap
        # again on the way, back to a right value: that counts as explained, not as a fit.
        same = np.isclose(values, theirs, rtol=1e-12, atol=1e-12, equal_nan=True)
        right = np.isclose(values, wanted, rtol=1e-12, atol=1e-12)
        if np.all(same | right) and np.any(same & ~right):
            missed = int(np.sum(right & ~np.isclose(theirs, wanted, rtol=1e-12, atol=1e-12)))
            i = int(np.argmax(np.ravel(same & ~right)))
            fits.append((missed, np.dtype(dtype).name, int(np.ravel(depth)[i]),
                         int(np.ravel(wrapped)[i])))
    # (of equal fits, the widest dtype: a huge uint64 depth goes negative in int64 and in
    # int16 alike, and int64 is the cast an answer makes)
    return min(fits, key=lambda f: (f[0], -np.dtype(f[1]).itemsize))[1:] if fits else None


# Known mistakes are matched within a few units in the last place of float64.
_BORN_DEAD_RTOL = 4 * float(np.finfo(np.float64).eps)


def _within_one_ulp(expected) -> np.ndarray:
    """The tolerance of a result: one unit in the last place of the exact value. Up to depth
    54, 1 - (1/2)^(D - 1) is exact in float64, and an answer that rounds to 1 early (or to 15
    decimals) is several units away near depth 52."""
    return np.spacing(np.abs(np.asarray(expected, dtype=np.float64)))


def _born_dead_known(depth: np.ndarray, value: np.ndarray, expected) -> tuple | None:
    """(problem, hint) of the one known mistake that gives ``value`` at the depths ``depth``:
    equal to it to float64 precision (the precision the task asks for, so a result that
    merely lost digits is never taken for a mistake), where the right values differ."""
    d = np.asarray(depth, dtype=np.float64)
    known = [
        (0.5 ** (d - 1), "gives the probability of being *alive*, 2^-(D-1)",
         "born dead is the complement of staying alive."),
        (1 - 0.5 ** d, "is 1 - (1/2)^D: one factor of 1/2 too many (at depth 1 it is not 0)",
         "the first layer sees inputs of both signs around the origin: can it be dead on this "
         "batch?"),
        (0.5 ** d, "decreases with depth, but deeper networks are *more* likely to be born dead",
         "compute the probability of staying alive, then take 1 minus it."),
    ]

    def same(a, b) -> bool:
        return np.shape(a) == np.shape(b) and bool(np.allclose(a, b, rtol=_BORN_DEAD_RTOL,
                                                               atol=0.0))

    with np.errstate(all="ignore"):
        hits = [(problem, hint) for wrong, problem, hint in known
                if same(value, wrong) and not same(value, expected)]
    return hits[0] if len(hits) == 1 else None


_LOW_PRECISION_HINT = ("float32 (or float16) keeps about 7 (or 3) digits, and 1 - (1/2)^(D - 1) "
                       "needs more as D grows: compute in float64, numpy's default float (a "
                       "Python float is float64 too).")


class _Later:
    """Text made only when a message uses it (printing a long array of depths costs more than
    judging it)."""

    __slots__ = ("_make", "_text")

    def __init__(self, make):
        self._make, self._text = make, None

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._make()
        return self._text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __add__(self, other: str) -> str:
        return str(self) + other

    def __radd__(self, other: str) -> str:
        return other + str(self)


def _judge_born_dead(case: Case, obs, expected) -> None:
    depth = case.args[0]
    what = _Later(lambda: f"`born_dead_width1({_shown(depth)})`")
    if case.driver is not None:  # one huge depth, after a medium one (see _huge_depth)
        record = obs.result if isinstance(obs.result, dict) else {}
        if "slow" in record:
            probe = case.kwargs["probe"]
            raise ExerciseError(
                f"`born_dead_width1({_shown(probe)})` took {float(record['slow']):.2f} s of CPU, "
                f"where numpy's arithmetic takes microseconds, and this case's depth is "
                f"{_shown(depth)}: the check did not run it. An exact integer power such as "
                "2 ** (D - 1) has D bits, and its time grows with D: at the depths the task "
                "allows (up to the largest uint64) it would never finish.",
                "compute in floating point: 0.5 ** (D - 1.0), with the depth converted to "
                "float64, takes the same time at any depth.")
        obs = dataclasses.replace(obs, result=record.get("result"))
    if not isinstance(depth, np.ndarray):  # one depth: one float (a 0-d float array counts)
        got = obs.result
        if isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind in "iuf":
            got = got[()]
        if isinstance(got, np.ndarray):
            raise ExerciseError(
                f"{what} returned an array of shape {got.shape}; for an integer depth the answer "
                "is a single number.",
                "the same formula works for a number and an array: no need to wrap the number "
                "in an array of its own.")
        if isinstance(got, (list, tuple)):
            raise ExerciseError(
                f"{what} returned a {type(got).__name__}; for an integer depth the answer is a "
                "single number.", "return the number itself, not a list holding it.")
        if isinstance(got, np.floating) and got.dtype != np.float64:
            raise ExerciseError(
                f"{what} returned a numpy {got.dtype} ({got.item()!r}); the task asks for a "
                "float64 number (a Python float or np.float64).",
                _LOW_PRECISION_HINT if got.dtype.itemsize < 8 else
                "convert it with float(...), or compute with numpy's default float64.")
        if isinstance(got, (bool, np.bool_, int, np.integer)):
            raise ExerciseError(
                f"{what} returned the {type(got).__name__} {got!r}; the task asks for a float "
                "(a Python float or np.float64), even where the probability is a whole number.",
                "compute with floats: 0.5 ** (...) or 2.0 ** (...) gives one.")
        if not isinstance(got, (float, np.floating)):
            raise ExerciseError(f"{what} should be one number, a float, got {describe(got)}.",
                                "return the probability itself: one float.")
        values, wanted = np.array([float(got)]), np.array([float(expected)])
        depths = np.array([depth])
    else:
        hint = ("apply the formula to the whole array, one probability per depth, keeping its "
                "shape.")
        if depth.ndim == 0:
            hint = ("an array of shape () is an array too: it gives a float64 array of shape "
                    "() (numpy's arithmetic on it gives np.float64, which counts), not a Python "
                    "float.")
        got = elementwise_result(obs.result, depth, what, hint)
        if got.dtype.kind not in "iuf":
            raise ExerciseError(f"{what} returned dtype {got.dtype}; probabilities are real "
                                "numbers (float64).", _BORN_DEAD_HINT)
        if depth.size == 0:
            if got.dtype != np.float64:
                raise ExerciseError(f"{what} returned dtype {got.dtype}; the task asks for "
                                    "float64.", "compute in float64, numpy's default float.")
            return
        with np.errstate(all="ignore"):
            values, wanted, depths = got.astype(np.float64), expected, depth
    # A probability stays in [0, 1], exactly: the one unit in the last place allowed never
    # takes it below 0 or above 1 (and at depth 1, where it is 0, none is allowed).
    outside = np.ravel((values < 0) | (values > 1))   # (NaN compares False, silently)
    near = outside.any() and np.ravel(
        np.abs(values - wanted) <= 4 * _within_one_ulp(wanted)) & outside
    if np.any(near):
        i = int(np.argmax(near))
        side = "below 0" if np.ravel(values)[i] < 0 else "above 1"
        raise ExerciseError(
            f"{what} gives {float(np.ravel(values)[i])!r} at depth "
            f"{int(np.ravel(depths)[i])}: a probability {side}, where the exact one is "
            f"{float(np.ravel(wanted)[i])!r}.",
            "a probability lies in [0, 1] exactly: one unit in the last place is allowed "
            "inside [0, 1] only, and at depth 1 the value is 0 itself.")
    atol = _within_one_ulp(wanted)
    if not np.all(wanted):
        atol = np.where(np.asarray(wanted) == 0, 0.0, atol)
    diff = first_difference(values, wanted, rtol=0.0, atol=atol)
    if diff is None:
        # One unit in the last place is allowed, but not a probability of exactly 1 where the
        # exact one is below 1 (up to depth 54 float64 holds it): that is rounding to 1 early.
        early = np.ravel((values == 1.0) & (np.asarray(wanted) < 1.0))
        if early.any():
            i = int(np.argmax(early))
            raise ExerciseError(
                f"{what} gives exactly 1 at depth {int(np.ravel(depths)[i])}, where the "
                f"probability is {float(np.ravel(wanted)[i])!r}, below 1.",
                "float64 holds 1 - (1/2)^(D - 1) below 1 up to depth 54: a result rounded to "
                "1 before that loses the last digit the task asks for.")
        if isinstance(depth, np.ndarray) and got.dtype != np.float64:
            raise ExerciseError(f"{what} returned dtype {got.dtype}; the task asks for float64.",
                                "compute in float64, numpy's default float.")
        return
    index, n_bad = diff
    k = int(np.asarray(depths)[index])
    known = _born_dead_known(depths, values, wanted)
    if known is not None:
        raise ExerciseError(f"{what} {known[0]}.", known[1])
    shown, right = pair(values[index], wanted[index])
    wrapped = _wrapped_depth(depths, values, wanted)
    if wrapped is not None and not isinstance(depth, np.ndarray):
        # One depth (a Python int or a numpy integer) that reads a smaller one: wrapped around.
        # (A negative one is named only where the value is finite: -inf is also what an
        # integer power that overflows gives, or 1 - D wrapped around in an unsigned dtype;
        # the hints below say those.)
        dtype, d, w = wrapped
        holds = ("a Python int, which has no largest value" if isinstance(depth, int) else
                 f"a numpy {np.asarray(depth).dtype}, and may be as large as that holds")
        if w >= 1 or (np.asarray(depth).dtype.kind == "i" and np.isfinite(values[0])):
            of = f", the probability of depth {w}," if w >= 1 else ","
            modulo = " (or taking it modulo a power of 2)" if w >= 1 else ""
            raise ExerciseError(
                f"{what} is {shown}{of} expected {right}: the depth {d} wrapped around to {w}, "
                f"as converting it to {dtype}{modulo} does.",
                f"the depth is {holds}: converting it to a narrower integer dtype, or taking "
                "it modulo a power of 2, wraps it around. Convert it to float64 (float(depth)) "
                "instead.")
    elif wrapped is not None:
        dtype, d, w = wrapped
        raise ExerciseError(
            f"{what} gives the probabilities of the depths converted to {dtype}, which cannot "
            f"hold them all: depth {d} becomes {w} there (got {shown} at depth {k}, expected "
            f"{right}).",
            f"a depth may be as large as its dtype holds ({np.asarray(depth).dtype} here): "
            "converting it to a narrower or a signed integer dtype (int64 cannot hold a uint64 "
            "depth of 2**63 or more) wraps it around. Convert the depth to float64, or compute "
            "in its own dtype.")
    gap = np.abs(values - wanted)
    finite = np.all(np.isfinite(values))
    low = isinstance(depth, np.ndarray) and got.dtype in (np.float16, np.float32)
    if finite and not low and np.all((values >= 0) & (values <= 1)) and values.size > 3 \
            and 1e-6 < float(gap.max()) < 0.1:
        raise ExerciseError(
            f"{what} is close to the exact probability but not equal (largest difference "
            f"{float(gap.max()):.3g}, at depth {k}): an estimate, not the exact value.",
            "a simulation or the table's rounded values are estimates; the task asks for the "
            "exact probability, a formula in D.")
    hint = _BORN_DEAD_HINT
    kind = np.asarray(depth).dtype
    bits = 64 if kind.kind not in "iu" else 8 * kind.itemsize
    out_of_range = not np.isfinite(values[index]) or not 0 <= values[index] <= 1
    if out_of_range and kind.kind == "u":
        hint = (f"the depth is an unsigned integer ({kind}): 1 - D wraps around to a large "
                f"positive number (1 - np.{kind}(200) is not -199). Convert the depth to "
                "float64 before subtracting. A probability stays in [0, 1].")
        if k >= 2**63:
            hint += (" Converting the depth to int64 wraps it around too: int64 cannot hold a "
                     "uint64 depth of 2**63 or more.")
    elif out_of_range and k >= bits - 1:
        hint = (f"numpy integers of dtype {kind} have {bits} bits: a power of 2 computed in "
                "integers overflows for large depths, while a power computed in floating "
                "point does not. A probability stays in [0, 1] at every depth.")
    elif low:
        hint = "the values differ only in their last digits: " + _LOW_PRECISION_HINT
    elif np.isfinite(values[index]) and abs(values[index] - wanted[index]) < 1e-4:
        hint = ("the values differ only in their last digits: float64 holds 1 - (1/2)^(D - 1) "
                "exactly up to depth 54, and the task asks for those digits. A result rounded "
                "on the way (to 1, to some decimals, or through a lower precision) loses "
                "them.")
    where = f"at depth {k}" if isinstance(depth, np.ndarray) else ""
    if isinstance(depth, np.ndarray) and depth.ndim:
        raise ExerciseError(
            f"{what} differs from the exact probability at {n_bad} of {depths.size} depths; the "
            f"largest difference is {where}: got {shown}, expected {right}.", hint)
    raise ExerciseError(f"{what} is {shown}, expected {right}.", hint)


def _explain_born_dead_error(case: Case, obs) -> str | None:
    if "negative integer powers" in obs.error:
        return ("numpy refuses to raise an integer to a negative integer power, because the "
                "result would not be an integer: the probability is a fraction, so compute it "
                "with floats.")
    if "size 0 inputs" in obs.error:
        return ("np.vectorize cannot guess the result's type on an empty array: numpy "
                "arithmetic on the whole array needs no loop at all.")
    if obs.error.startswith("IndexError"):
        return ("the check asks for depths beyond any table: compute the probability from D "
                "itself, for any depth.")
    if obs.error.startswith("TypeError") and not isinstance(case.args[0], np.ndarray):
        return ("for an integer depth the function gets a plain int (not an array): numpy's "
                "arithmetic works on both.")
    return None


BORN_DEAD = Spec(
    "ch03.born_dead_width1", check="ch03.check_born_dead_width1",
    grade_id="ch03-born-dead-check", what="`born_dead_width1(depth)`",
    answers=("born_dead_width1",), draw=_draw_born_dead, reference=_born_dead_reference,
    judge=_judge_born_dead, explain_error=_explain_born_dead_error, twins=2, reuse_calls=64,
    passed="born_dead_width1(D) = 1 - (1/2)^(D - 1), for one depth and for every entry of an "
           "array: depth 2 already kills half the networks, depth 10 all but 0.2%.")


@exercise_check
def check_born_dead_width1(born_dead_width1, *, seed: int | None = None) -> None:
    """Check ``born_dead_width1(depth)`` = 1 - (1/2)^(depth - 1) for depth >= 1, within one
    unit in the last place of float64 and inside [0, 1] (0 exactly at depth 1): one float
    (Python float, np.float64 or a 0-d float64 array) for an integer depth, a float64 array of
    the same shape for an integer array of any integer dtype and length (0-d and empty
    included), up to depths where integer powers overflow; a numpy depth, alone or in an array,
    up to its dtype's largest."""
    BORN_DEAD.check(born_dead_width1, seed=seed)
