"""Chapter 4 (softmax) exercise checks: catalogues of wrong answers (each rejected, on several
draws, with a message naming its mistake or saying what differs) and of right answers written
other ways (each passes on hundreds of draws), and the same verdicts through the autograding
path. Expected values here are written out independently of the code under test."""

import functools
import math
import re
import warnings

import numpy as np
import pytest
from exercise_support import (
    accepts,
    draws,
    graded,
    kept_by,
    only_when,
    rejects,
    right_draws,
    ring_of,
    sum_of,
)

from helpers import activations, nn
from helpers.activations import log_softmax, softmax
from helpers.activations import log_softmax as course_lsm
from helpers.activations import softmax as sm
from helpers.exercises import ExerciseError, NotAnsweredYet, ch04

# A result the answer keeps after the call (rings, buffers): one of two messages.
KEPT = r"a later call (overwrites|changed)|keeps the array"


def unfinished(*args, **kwargs):
    raise NotImplementedError()


def passes_once(check, answer, seed=0):
    """The check's printed line for one draw (a tick when it passes)."""
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check(answer, seed=seed)
    return out.getvalue()


# The old check's fixed inputs, written out: answers fitted to them must fail now.
OLD_SOFTMAX_INPUTS = [
    np.array([2.0, 1.0, 0.1]),
    np.array([[1.0, 2.0, 3.0, 0.5], [0.0, -1.0, 2.0, 2.0], [3.0, 0.0, -2.0, 1.0]]),
    np.arange(24, dtype=float).reshape(2, 3, 4) / 5.0 - 2.0,
    np.array([1000.0, 1001.0, 1002.0]), np.array([-1000.0, -1001.0, -1003.0]),
    np.array([1e4, 0.0, -1e4]), np.array([[0.0, 1.0, 2.0], [1000.0, 1001.0, 1002.0]]),
]
OLD_BATCHES = [
    (np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 1.0], [-1.0, 0.0, 3.0]]),
     np.array([0, 1, 2, 0])),
    (np.array([[1000.0, 0.0, -1000.0], [0.0, 1001.0, 1000.0]]), np.array([2, 2])),
    (np.array([[1e4, 0.0, -1e4], [1e4, 0.0, 0.0]]), np.array([2, 0])),
]
OLD_TEMPERATURE_CASES = [
    (np.array([2.0, 1.0, 0.1]), 0.9), (np.array([2.0, 1.0, 0.1]), 0.5),
    (np.array([0.5, 2.0, 1.0, -0.3]), 0.99), (np.array([0.3, 0.1, 0.2, 0.0, -0.1]), 0.3),
    (np.array([0.03, 0.02, 0.0]), 0.9), (np.array([100.0, 0.0, -50.0]), 0.5),
    (np.array([1000.0, 999.0, 990.0]), 0.9),
]


# =========================================================================== Exercise 1
# stable_softmax(z, axis=-1): z a 1-D to 3-D array (float64, float32 or integer; an empty batch
# of shape (0, k) too), any axis, negative included; max-subtracted along the axis, no warning
# and no NaN for logits up to 1e4; the same shape; float32 gives float32, float64 and integer
# logits give float64; written with numpy (not the course's softmax or log_softmax, scipy's or
# PyTorch's), without a Python loop; z not modified.


def ref_softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def naive_softmax(z, axis=-1):
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def global_max_softmax(z, axis=-1):
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


def whole_array_softmax(z, axis=-1):
    e = np.exp(z - z.max())
    return e / e.sum()


def last_axis_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def first_axis_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def default_axis_0_softmax(z, axis=0):
    return ref_softmax(z, axis)


def no_default_axis_softmax(z, axis):
    return ref_softmax(z, axis)


def no_keepdims_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis))
    return e / e.sum(axis=axis)


def min_shift_softmax(z, axis=-1):
    e = np.exp(z - z.min(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def mean_shift_softmax(z, axis=-1):
    e = np.exp(z - z.mean(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def clipped_softmax(z, axis=-1):
    e = np.exp(np.clip(z, -700, 700))  # "fixes" the overflow by clipping the logits
    return e / e.sum(axis=axis, keepdims=True)


def exp_only_softmax(z, axis=-1):
    return np.exp(z - z.max(axis=axis, keepdims=True))


def max_normalised_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.max(axis=axis, keepdims=True)


def unshifted_sum_softmax(z, axis=-1):
    return np.exp(z - z.max(axis=axis, keepdims=True)) / np.exp(z).sum(axis=axis, keepdims=True)


def overflow_then_repair_softmax(z, axis=-1):
    e = np.exp(z)  # tries the naive formula first: overflows on large logits
    if np.all(np.isfinite(e)) and np.all(e.sum(axis=axis) > 0):
        return e / e.sum(axis=axis, keepdims=True)
    return ref_softmax(z, axis)


def silenced_repair_softmax(z, axis=-1):
    """Silences the overflow and repairs NaN and inf, but keeps the naive result where nothing
    overflowed: imprecise where every exp is subnormal (logits near -730, float32 near -95)."""
    with np.errstate(all="ignore"):
        e = np.exp(z)
    if np.all(np.isfinite(e)) and np.all(e.sum(axis=axis) > 0):
        return e / e.sum(axis=axis, keepdims=True)
    return ref_softmax(z, axis)


def in_place_softmax(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def float64_softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def float32_always_softmax(z, axis=-1):
    z = z.astype(np.float32)  # float64 logits come back as float32 probabilities
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def float16_inside_softmax(z, axis=-1):
    e = np.exp((z - z.max(axis=axis, keepdims=True)).astype(np.float16))
    return (e / e.sum(axis=axis, keepdims=True)).astype(z.dtype)  # right dtype, 3 digits


def float32_round_trip_softmax(z, axis=-1):
    p = ref_softmax(z.astype(np.float32), axis)
    return p.astype(z.dtype) if z.dtype.kind == "f" else p.astype(np.float64)


def keeps_the_dtype_softmax(z, axis=-1):
    return ref_softmax(z, axis).astype(z.dtype)  # integer logits: probabilities cast to int


def rounded_softmax(z, axis=-1):
    return np.round(ref_softmax(z, axis), 6)


def list_softmax(z, axis=-1):
    return ref_softmax(z, axis).tolist()


def complex_softmax(z, axis=-1):
    e = np.exp((z - z.max(axis=axis, keepdims=True)) + 0j)
    return e / e.sum(axis=axis, keepdims=True)


def loop_softmax(z, axis=-1):
    moved = np.moveaxis(_as_float(z), axis, -1)
    out = np.empty_like(moved, dtype=np.result_type(moved.dtype, np.float16))
    for index in np.ndindex(*moved.shape[:-1]):
        e = np.exp(moved[index] - moved[index].max())
        out[index] = e / e.sum()
    return np.moveaxis(out, -1, axis)


def apply_along_softmax(z, axis=-1):
    return np.apply_along_axis(lambda v: np.exp(v - v.max()) / np.exp(v - v.max()).sum(), axis, z)


def course_softmax(z, axis=-1):
    return softmax(z, axis=axis)


def course_module_softmax(z, axis=-1):
    return activations.softmax(z, axis=axis)


def aliased_course_softmax(z, axis=-1):
    return sm(z, axis)


def exp_of_course_log_softmax(z, axis=-1):
    return np.exp(log_softmax(z, axis=axis))


def torch_softmax(z, axis=-1):
    import torch
    p = torch.softmax(torch.from_numpy(z.astype(np.float64)), dim=axis).numpy()
    return p.astype(z.dtype) if z.dtype.kind == "f" else p


def scipy_softmax(z, axis=-1):
    from scipy.special import softmax as scipy_sm  # not installed here: numpy only
    return scipy_sm(z, axis=axis)


def old_inputs_softmax(z, axis=-1):
    """Right on the old check's seven arrays (looked up), uniform on anything else."""
    for old in OLD_SOFTMAX_INPUTS:
        if old.shape == z.shape and np.array_equal(old, z):
            return ref_softmax(z, axis)
    return np.full(z.shape, 1.0 / z.shape[axis], dtype=np.result_type(z, np.float64))


def no_return_softmax(z, axis=-1):
    np.exp(z - z.max(axis=axis, keepdims=True))


def float16_ints_softmax(z, axis=-1):
    """The newcomer's: integer logits rounded through float16 (exact only up to 2048)."""
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float16).astype(np.float64)
    return ref_softmax(z, axis)


def int16_ints_softmax(z, axis=-1):
    if z.dtype.kind == "i":
        z = z.astype(np.int16).astype(np.int64)  # wraps beyond +-32767
    return ref_softmax(z, axis)


def int32_ints_softmax(z, axis=-1):
    if z.dtype.kind == "i":
        z = z.astype(np.int32)  # wraps beyond +-2^31; exp of int32 is float64
    return ref_softmax(z, axis)


def float32_ints_softmax(z, axis=-1):
    if z.dtype.kind == "i":
        z = z.astype(np.float32).astype(np.float64)  # exact only up to 2^24
    return ref_softmax(z, axis)


def positive_shift_softmax(z, axis=-1):
    """The newcomer's: shifts only when a slice could overflow (never by a negative max)."""
    m = np.maximum(z.max(axis=axis, keepdims=True), 0)
    e = np.exp(z - m)
    return e / e.sum(axis=axis, keepdims=True)


def errstate_fallback_softmax(z, axis=-1):
    """The newcomer's: the textbook formula with numpy's warnings switched off, and the
    stable one only where it gave NaN or inf."""
    with np.errstate(all="ignore"):
        e = np.exp(z)
        p = e / e.sum(axis=axis, keepdims=True)
    return np.where(np.isfinite(p).all(axis=axis, keepdims=True), p, ref_softmax(z, axis))


def seterr_softmax(z, axis=-1):
    old = np.seterr(all="ignore")
    try:
        return overflow_then_repair_softmax(z, axis)
    finally:
        np.seterr(**old)


def warnings_filter_softmax(z, axis=-1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return overflow_then_repair_softmax(z, axis)


@np.errstate(all="ignore")
def errstate_decorated_softmax(z, axis=-1):
    return overflow_then_repair_softmax(z, axis)


def quiet(z, axis):
    with np.errstate(over="ignore", invalid="ignore"):
        return overflow_then_repair_softmax(z, axis)


def errstate_in_a_helper_softmax(z, axis=-1):
    return quiet(z, axis)


def leaves_the_profiler_softmax(z, axis=-1):
    import sys
    sys.setprofile(None)  # the check can no longer see what runs
    return ref_softmax(z, axis)


_BUFFER = {}


def one_buffer_softmax(z, axis=-1):
    """The newcomer's: every result is a view of one module-level buffer, so an earlier
    result changes on the next call."""
    dtype = z.dtype if z.dtype.kind == "f" else np.dtype(np.float64)
    if _BUFFER.get(dtype) is None or _BUFFER[dtype].size < z.size:
        _BUFFER[dtype] = np.empty(max(z.size, 1 << 18), dtype=dtype)
    out = _BUFFER[dtype][:z.size].reshape(z.shape)
    out[...] = ref_softmax(z, axis)
    return out


def uniform_on_long_slices_softmax(z, axis=-1):
    """The newcomer's sabotage: right on short slices, uniform on slices longer than 60."""
    if z.ndim and z.shape[axis] > 60:
        return np.full(z.shape, 1.0 / z.shape[axis], dtype=ref_softmax(z, axis).dtype)
    return ref_softmax(z, axis)


def axis_ignored_when_large_softmax(z, axis=-1):
    """The newcomer's sabotage: the default axis on arrays of more than 3000 elements."""
    return ref_softmax(_as_float(z), -1 if z.size > 3000 else axis)


def math_exp_map_softmax(z, axis=-1):
    import math as m
    w = _as_float(z)
    shifted = w - w.max(axis=axis, keepdims=True)
    e = np.array(list(map(m.exp, shifted.ravel()))).reshape(z.shape)  # one object per element
    return (e / e.sum(axis=axis, keepdims=True)).astype(z.dtype if z.dtype.kind == "f" else
                                                        np.float64)


WRONG_STABLE_SOFTMAX = {
    "no max subtracted: overflows": (naive_softmax,
                                     r"(?s)overflow.*constant|gave \[nan.*whatever its sign"),
    "maximum of the whole array, not of each slice": (
        global_max_softmax, r"(?s)gave \[\[.*nan.*very different scale.*differ in scale by "
                            r"about 1000.*each slice"),
    "normalised over the whole array": (whole_array_softmax, r"over the whole array"),
    "axis fixed to -1": (last_axis_softmax, r"along axis 1 instead of axis 0"),
    "axis fixed to 0": (first_axis_softmax, r"along axis 0 instead of axis -1"),
    "default axis 0 instead of -1": (default_axis_0_softmax,
                                     r"stable_softmax\(z\)` normalised along axis 0 instead "
                                     r"of axis -1"),
    "no default for axis": (no_default_axis_softmax,
                            r"(?s)raised TypeError.*missing.*Hint: give `axis` the default -1"),
    "no keepdims": (no_keepdims_softmax,
                    r"(?s)raised ValueError.*broadcast.*Hint: .*keepdims"),
    "subtracts the minimum": (min_shift_softmax, r"(?s)\+1e4, 0 and -1e4.*overflow"),
    "subtracts the mean": (mean_shift_softmax, r"(?s)\+1e4, 0 and -1e4.*overflow"),
    "clips the logits": (clipped_softmax, r"differs from the answer|far below the others came "
                                          r"out larger"),
    "exp without the division": (exp_only_softmax, r"sum to \S+, not 1"),
    "divides by the max": (max_normalised_softmax, r"sum to \S+, not 1"),
    "shifted exp over the unshifted sum": (unshifted_sum_softmax, r"sum to .*, not 1"),
    "naive first, repaired after an overflow": (overflow_then_repair_softmax,
                                                r"right probabilities, but numpy warned on the "
                                                r"way: overflow"),
    "naive first, repaired, the warnings silenced": (silenced_repair_softmax,
                                                     r"calls `np\.errstate`"),
    "x -= max in place": (in_place_softmax, r"modified its input `z` in place"),
    "float32 in, float64 out": (float64_softmax, r"returned float64; for float32 logits"),
    "float64 in, float32 out": (float32_always_softmax, r"returned float32; for float64 logits"),
    "computed in float16, cast back": (float16_inside_softmax,
                                       r"(?s)right to about \d decimals only.*precision"),
    "a round trip through float32": (float32_round_trip_softmax,
                                     r"(?s)right to about [789] decimals only.*float64 keeps "
                                     r"about 15 digits.*lower precision"),
    "rounded to 6 decimals": (rounded_softmax, r"right to about [67] decimals only"),
    "cast back to the input's dtype (integer logits)": (
        keeps_the_dtype_softmax, r"returned int(64|32) for integer logits.*rounded down to 0"),
    "a list": (list_softmax, r"returned a Python list, expected a numpy array"),
    "complex numbers": (complex_softmax, r"returned complex128; for float64 logits"),
    "Python loop over slices": (loop_softmax, r"runs a Python loop|took \d+ ms of CPU"),
    "np.apply_along_axis": (apply_along_softmax,
                            r"runs a Python loop|took \d+ ms of CPU|raised ValueError|"
                            r"with `numpy.apply_along_axis`"),
    "calls the course's softmax": (course_softmax,
                                   r"calls `helpers\.activations\.softmax`.*yourself"),
    "calls activations.softmax": (course_module_softmax, r"calls `helpers\.activations\."),
    "the course's softmax imported under another name": (aliased_course_softmax,
                                                          r"calls `helpers\.activations\."),
    "the course's softmax through functools.partial": (
        functools.partial(activations.softmax, axis=-1), r"calls `helpers\.activations\."),
    "the course's softmax in a lambda": (lambda z, axis=-1: sm(z, axis=axis),
                                         r"calls `helpers\.activations\."),
    "exp of the course's log_softmax": (exp_of_course_log_softmax,
                                         r"calls `helpers\.activations\.log_softmax`"),
    "PyTorch's softmax": (torch_softmax, r"calls `torch\."),
    "scipy's softmax": (scipy_softmax, r"(?s)ModuleNotFoundError.*not installed here"),
    "fitted to the old check's inputs": (old_inputs_softmax, r"differs from the answer"),
    "no return": (no_return_softmax, r"returned None"),
    "integer logits rounded through float16": (
        float16_ints_softmax, r"(?s)gave \[.*int32 and float64 hold these integer logits "
                              r"exactly, float16 does not: your result"),
    "integer logits wrapped through int16": (int16_ints_softmax,
                                             r"hold these integer logits exactly"),
    "integer logits wrapped through int32": (int32_ints_softmax,
                                             r"int64 and float64 hold these integer logits"),
    "integer logits rounded through float32": (float32_ints_softmax,
                                               r"int64 and float64 hold these integer logits"),
    "shifted only by a positive maximum": (positive_shift_softmax,
                                           r"(?s)gave \[nan.*whatever its sign"),
    "textbook formula silenced by np.errstate, NaN repaired": (
        errstate_fallback_softmax, r"calls `np\.errstate`, which silences numpy's"),
    "np.seterr(all='ignore'), then restored": (seterr_softmax, r"calls `np\.seterr`"),
    "warnings.catch_warnings and simplefilter('ignore')": (
        warnings_filter_softmax, r"calls `warnings\.catch_warnings`"),
    "decorated with @np.errstate": (errstate_decorated_softmax, r"calls `np\.errstate`"),
    "np.errstate in a helper of its own": (errstate_in_a_helper_softmax,
                                           r"calls `np\.errstate`"),
    "replaces the check's profiler": (leaves_the_profiler_softmax,
                                      r"replaced the check's profiler"),
    "one buffer for every result": (one_buffer_softmax, KEPT),
    "uniform on slices longer than 60": (
        uniform_on_long_slices_softmax,
        r"(?s)shape \((500, 400|200, 100)\).*differs from the answer"),
    "the default axis on arrays of more than 3000 elements": (
        axis_ignored_when_large_softmax, r"shape \(500, 400\).*along axis 1 instead of "
                                         r"axis (0|-2)|along axis 1 instead of axis (0|-2)"),
    "math.exp over the elements through map": (
        math_exp_map_softmax, r"one Python object per element|loop in disguise|took \d+ ms"),
}


def _as_float(z):
    return z if z.dtype.kind == "f" else z.astype(np.float64)


def map_rows_softmax(z, axis=-1):
    """np.maximum.reduce and np.add.reduce mapped over the slices: one call per row, from C."""
    z = _as_float(z)
    s = np.moveaxis(z, axis, -1)
    rows = s.reshape(-1, s.shape[-1])
    if not rows.shape[0]:
        return z.copy()
    m = np.array(list(map(np.maximum.reduce, rows)), dtype=z.dtype).reshape(s.shape[:-1] + (1,))
    e = np.exp(s - m)
    total = np.array(list(map(np.add.reduce, e.reshape(rows.shape))),
                     dtype=z.dtype).reshape(m.shape)
    return np.moveaxis(e / total, -1, axis)


def reduce_over_axis_softmax(z, axis=-1):
    """functools.reduce(np.maximum, ...) over the slices of the axis: one call per class."""
    z = _as_float(z)
    zm = np.moveaxis(z, axis, 0)
    if zm.shape[0] == 0:
        return z.copy()
    e = np.exp(zm - functools.reduce(np.maximum, zm))
    return np.moveaxis(e / functools.reduce(np.add, e), 0, axis)


def builtin_sum_softmax(z, axis=-1):
    """The builtin sum over the classes: one addition per class."""
    z = _as_float(z)
    zm = np.moveaxis(z, axis, 0)
    e = np.exp(zm - np.max(zm, axis=0))
    return np.moveaxis(e / sum(e), 0, axis)


def accumulate_softmax(z, axis=-1):
    """itertools.accumulate over the classes."""
    import itertools
    z = _as_float(z)
    zm = np.moveaxis(z, axis, 0)
    if zm.shape[0] == 0:
        return z.copy()
    *_, m = itertools.accumulate(zm, np.maximum)
    e = np.exp(zm - m)
    *_, total = itertools.accumulate(e, np.add)
    return np.moveaxis(e / total, 0, axis)


def size_switch_softmax(z, axis=-1):
    """The maximum of the whole array on large inputs ("faster")."""
    z = _as_float(z)
    m = z.max() if z.size > 1000 else z.max(axis=axis, keepdims=True)
    e = np.exp(z - m)
    return e / e.sum(axis=axis, keepdims=True)


def shift_when_needed_softmax(z, axis=-1):
    """Shifts a slice only when its maximum is far from 0 (|max| > log(max float) / 2)."""
    z = _as_float(z)
    if z.size == 0:
        return z.copy()
    m = z.max(axis=axis, keepdims=True)
    m = np.where(np.abs(m) > np.log(np.finfo(z.dtype).max) / 2, m, 0).astype(z.dtype)
    e = np.exp(z - m)
    return e / e.sum(axis=axis, keepdims=True)


def float16_promoted_softmax(z, axis=-1):
    """float16 logits computed (and returned) in float32."""
    w = z.astype(np.promote_types(z.dtype, np.float32))
    e = np.exp(w - w.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def epsilon_sum_softmax(z, axis=-1):
    z = _as_float(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / (e.sum(axis=axis, keepdims=True) + 1e-12)


def int32_through_float32_softmax(z, axis=-1):
    w = z.astype(np.float32) if z.dtype == np.int32 else _as_float(z)
    e = np.exp(w - w.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return out.astype(np.float64) if z.dtype.kind == "i" else out


def hook_replaced_softmax(z, axis=-1):
    """Confirmation reading: numpy's warnings hidden by replacing warnings.showwarning (no
    filter call), the textbook formula repaired where it failed."""
    old = warnings.showwarning
    warnings.showwarning = lambda *args, **kwargs: None
    try:
        return overflow_then_repair_softmax(z, axis)
    finally:
        warnings.showwarning = old


def filter_list_edited_softmax(z, axis=-1):
    """Confirmation reading: a filter added by editing warnings.filters directly."""
    warnings.filters.insert(0, ("ignore", None, RuntimeWarning, None, 0))
    warnings._filters_mutated()
    try:
        return overflow_then_repair_softmax(z, axis)
    finally:
        warnings.filters.pop(0)
        warnings._filters_mutated()


_LARGE_BUFFERS = {}


def _in_a_kept_buffer(result: np.ndarray, kind: str) -> np.ndarray:
    """``result`` copied into one buffer kept per shape, for large results only."""
    if result.size < 10_000:
        return result
    out = _LARGE_BUFFERS.setdefault((kind, result.shape, result.dtype.str),
                                    np.empty_like(result))
    out[...] = result
    return out


def large_buffer_softmax(z, axis=-1):
    """Confirmation reading: one buffer per shape, for large inputs only."""
    return _in_a_kept_buffer(ref_softmax(z, axis), "softmax")


def large_buffer_grad(logits, y):
    """Confirmation reading: one buffer per shape, for large inputs only."""
    return _in_a_kept_buffer(ref_grad(logits, y), "grad")


def global_max_in_3d_softmax(z, axis=-1):
    """Confirmation reading: the whole array's maximum for 3-D inputs only."""
    if np.ndim(z) == 3:
        e = np.exp(z - np.max(z))
        return e / e.sum(axis=axis, keepdims=True)
    return ref_softmax(z, axis)


def unshifted_float16_softmax(z, axis=-1):
    """Confirmation reading: no shift for float16 logits."""
    if z.dtype == np.float16:
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)
    return ref_softmax(z, axis)


WRONG_STABLE_SOFTMAX.update({
    "warnings.showwarning replaced, naive formula repaired": (
        hook_replaced_softmax, r"numpy warned on the way: overflow"),
    "a filter added by editing warnings.filters": (
        filter_list_edited_softmax, r"numpy warned on the way: overflow|calls `warnings"),
    "a buffer per shape for large inputs": (large_buffer_softmax,
                                            KEPT),
    "the whole array's maximum in 3-D": (global_max_in_3d_softmax,
                                         r"(?s)near \+1000 and near -1000"),
    "no shift for float16": (unshifted_float16_softmax, r"(?s)12, 0 and -12"),
    "np.maximum.reduce mapped over the rows": (map_rows_softmax, r"took \d+ ms of CPU"),
    "functools.reduce(np.maximum) over the classes": (reduce_over_axis_softmax,
                                                      r"took \d+ ms of CPU"),
    "the builtin sum over the classes": (builtin_sum_softmax, r"took \d+ ms of CPU"),
    "itertools.accumulate over the classes": (accumulate_softmax, r"took \d+ ms of CPU"),
    "the whole array's maximum on large inputs": (
        size_switch_softmax, r"(?s)shape \(100000, 2\) gave \[\[ *nan.*each slice|"
                             r"right to about \d decimals only.*float16: a \d+ x \d+ input"),
    "shifted only when the maximum is large": (
        shift_when_needed_softmax, r"(?s)logits -300 and -800|-40 and -110.*smaller probability "
                                   r"is .*not 0.*not only when"),
    "float16 logits computed and returned in float32": (
        float16_promoted_softmax, r"returned float32; for float16 logits"),
    "1e-12 added to the sum": (epsilon_sum_softmax, r"right to about 1[12] decimals only"),
    "int32 logits computed in float32": (
        int32_through_float32_softmax,
        r"(?s)^(?!.*float16, int16 or int8 do not).*right to about [67] decimals only.*"
        r"int32\) near.*float32 arithmetic"),
})


def lse_softmax(z, axis=-1):
    if z.dtype.kind in "iu":  # integer logits to float64 first: z - max can wrap
        z = z.astype(np.float64)
    m = z.max(axis=axis, keepdims=True)
    return np.exp(z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True)))


def moveaxis_softmax(z, axis=-1):
    if z.dtype.kind in "iu":  # integer logits to float64 first: z - max can wrap
        z = z.astype(np.float64)
    last = np.moveaxis(z, axis, -1)
    e = np.exp(last - last[..., None].max(axis=-2))
    return np.moveaxis(e / e.sum(axis=-1)[..., None], -1, axis)


def expand_dims_softmax(z, axis=-1):
    if z.dtype.kind in "iu":  # integer logits to float64 first: z - max can wrap
        z = z.astype(np.float64)
    e = np.exp(np.subtract(z, np.expand_dims(np.amax(z, axis=axis), axis)))
    return np.divide(e, np.expand_dims(np.sum(e, axis=axis), axis))


def reciprocal_softmax(z, axis=-1):
    if z.dtype.kind in "iu":  # integer logits to float64 first: z - max can wrap
        z = z.astype(np.float64)
    e = np.exp(z - np.max(z, axis, keepdims=True))
    return e * (1.0 / np.sum(e, axis, keepdims=True))


def float64_inside_softmax(z, axis=-1):
    w = z.astype(np.float64)
    e = np.exp(w - w.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return out.astype(z.dtype) if z.dtype.kind == "f" else out


def exact_first(z, axis):
    """Logits ready for a form that adds the maximum back: integers shifted by their maximum
    in float64 (exact below 2^53; in their own dtype a difference may leave its range and
    wrap), float16 in float64; float32 and float64 as they are (there m + log(sum) loses what
    the logits' own precision holds)."""
    if z.dtype.kind in "iu":
        w = z.astype(np.float64)
        return w - w.max(axis=axis, keepdims=True)
    return z.astype(np.float64) if z.dtype == np.float16 else z


def lse_added_back_softmax(z, axis=-1):
    """exp(z - logsumexp(z)), the log-sum-exp written m + log(sum exp(z - m)): right on
    float32 and float64 logits; integer logits shifted first, float16 in float64."""
    w = exact_first(z, axis)
    m = w.max(axis=axis, keepdims=True)
    return np.exp(w - (m + np.log(np.exp(w - m).sum(axis=axis, keepdims=True)))).astype(
        z.dtype if z.dtype.kind == "f" else np.float64)


def plain_added_back_softmax(z, axis=-1):
    """Round 12: exp(z - (m + log sum exp(z - m))) on any logits: m + log(sum) rounds at the
    scale of m (5e-7 on integers near 3e9, 32 on float16 near 60,000)."""
    w = z.astype(np.float64) if z.dtype.kind != "f" else z
    m = w.max(axis=axis, keepdims=True)
    return np.exp(w - (m + np.log(np.exp(w - m).sum(axis=axis, keepdims=True))))


def plain_logaddexp_softmax(z, axis=-1):
    """Round 12: exp(z - np.logaddexp.reduce(z)) on any logits."""
    w = z.astype(np.float64) if z.dtype.kind != "f" else z
    return np.exp(w - np.logaddexp.reduce(w, axis=axis, keepdims=True))


def self_checking_softmax(z, axis=-1):
    """Checks its own sums with np.allclose, which uses np.errstate inside numpy: no
    silencing by the answer."""
    if z.dtype.kind in "iu":  # integer logits to float64 first: z - max can wrap
        z = z.astype(np.float64)
    p = ref_softmax(z, axis)
    assert z.size == 0 or np.allclose(p.sum(axis=axis), 1.0, rtol=1e-3)
    return p


def max_subtracted_softmax(z, axis=-1):
    """The notebook's solution."""
    if z.dtype.kind in "iu":  # integer logits to float64 first: z - max can wrap
        z = z.astype(np.float64)
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def einsum_softmax(z, axis=-1):
    if z.dtype.kind in "iu":  # integer logits to float64 first: z - max can wrap
        z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / np.expand_dims(np.einsum("...i->...", np.moveaxis(e, axis, -1)), axis)


# Right answers written other ways: every one must pass.
RIGHT_STABLE_SOFTMAX = {
    "max-subtracted": max_subtracted_softmax,
    "exp of log-softmax (log-sum-exp)": lse_softmax,
    "moveaxis to the end and back": moveaxis_softmax,
    "expand_dims instead of keepdims": expand_dims_softmax,
    "times the reciprocal, positional axis": reciprocal_softmax,
    "float64 inside, cast back to a float input's dtype": float64_inside_softmax,
    "exp(z - (m + log sum exp(z - m)))": lse_added_back_softmax,
    "checks its sums with np.allclose (numpy's own errstate)": self_checking_softmax,
    "exp(z - np.logaddexp.reduce(z, axis))": lambda z, axis=-1: np.exp(
        exact_first(z, axis) - np.logaddexp.reduce(exact_first(z, axis), axis=axis,
                                                   keepdims=True)).astype(
        z.dtype if z.dtype.kind == "f" else np.float64),
    "einsum for the sums": einsum_softmax,
}


@pytest.mark.parametrize("name", WRONG_STABLE_SOFTMAX)
def test_stable_softmax_rejects(name):
    answer, message = WRONG_STABLE_SOFTMAX[name]
    rejects(ch04.check_stable_softmax, answer, message)


@pytest.mark.parametrize("name", RIGHT_STABLE_SOFTMAX)
def test_stable_softmax_accepts_on_every_draw(name):
    accepts(ch04.check_stable_softmax, RIGHT_STABLE_SOFTMAX[name],
            right_draws(RIGHT_STABLE_SOFTMAX, name))


def test_stable_softmax_pass_message_is_the_same_for_every_draw():
    first, second = (passes_once(ch04.check_stable_softmax, max_subtracted_softmax, s)
                     for s in (1, 2))
    assert first == second and first.startswith("\u2705")


def test_stable_softmax_own_function_named_softmax_is_not_the_course_s():
    namespace = {"np": np}
    exec("def softmax(z, axis):\n"
         "    if z.dtype.kind in 'iu':\n"
         "        z = z.astype(np.float64)\n"
         "    e = np.exp(z - z.max(axis=axis, keepdims=True))\n"
         "    return e / e.sum(axis=axis, keepdims=True)\n"
         "def stable_softmax(z, axis=-1):\n"
         "    return softmax(z, axis)\n", namespace)
    accepts(ch04.check_stable_softmax, namespace["stable_softmax"], draws(20))


def test_stable_softmax_unfinished_and_not_a_function():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_stable_softmax(unfinished)
    with pytest.raises(ExerciseError, match="should be a function"):
        ch04.check_stable_softmax(np.array([1.0, 0.0]))


def _twin_of_work(case) -> bool:
    """A twin of a large work case (it measures no work, and follows its case)."""
    return "inner values of one array swapped" in case.label and " input" in case.label


def test_stable_softmax_edge_cases_come_first_and_cover_the_contract():
    cases = ch04.STABLE_SOFTMAX.draw(0)
    edge = [c for c in cases if not c.label.startswith("random") and c.work is None
            and c.driver != "ch04.softmax_timed" and not _twin_of_work(c)]
    assert cases[:len(edge)] == edge
    assert [c.work for c in cases[-5:-2]] == ["small", "large", "timed"]
    labels = " | ".join(c.label for c in edge)
    for needed in ("-300 and -800", "-40 and -110", "float16", "default axis", "axis=0",
                   "axis=1", "axis=-2", "3-D", "tie", "1e4",
                   "near +1000", "near -1000", "near -730", "near -95", "very different scale",
                   "one sample", "one class", "empty batch", "float32", "int64", "int32",
                   "near +-50,000", "near +-3e9", "two calls in a row"):
        assert needed in labels, needed
    zs = [c.args[0] for c in cases]
    assert {z.ndim for z in zs} == {1, 2, 3}
    assert {np.float64, np.float32, np.int64, np.int32} <= {z.dtype.type for z in zs}
    assert max(float(np.max(np.abs(z))) for z in zs if z.size) >= 1e4
    axes = {c.kwargs.get("axis", -1) for c in cases}
    assert {0, 1, -1, -2} <= axes and (axes & {-3, 0}) and (axes & {1, -2})


def test_stable_softmax_work_cases_are_long_along_a_non_default_axis():
    """The last three cases measure the work and time; their values are judged too, on
    slices of hundreds along axis 0 (or -2), so an answer that changes its ways on a large
    input (uniform on long slices, the default axis on large arrays) shows on every draw."""
    for seed in range(50):
        work = [c for c in ch04.STABLE_SOFTMAX.draw(seed) if c.work]
        timed = work[-1]
        assert timed.work == "timed" and timed.args[0].size == timed.elements == 200_000
        assert timed.kwargs["axis"] in (0, -2) and min(timed.args[0].shape) > 60


def test_timed_cases_have_a_long_axis_and_slices_of_different_scale():
    """Many rows of 2 classes (every other row near 1000) and one row of 600,000 classes: a
    loop over either axis driven from C (map, functools.reduce, sum) is timed; the batches get
    the many rows only (np.eye(k)[y] needs k * k numbers), of 3 classes for the loss (300,000
    logits: an answer that changes its ways above 200,000 shows) and 2 for the gradient."""
    for seed in range(3):
        timed = [c for c in ch04.STABLE_SOFTMAX.draw(seed) if c.driver == "ch04.softmax_timed"]
        assert [c.args[0].shape for c in timed] == [(100_000, 2), (1, 600_000)]
        rows = timed[0].args[0]
        assert rows[1::2].min() > 900 and abs(rows[0::2]).max() < 50
        batch = [c for c in ch04.CROSS_ENTROPY.draw(seed) if c.driver == "ch04.batch_timed"]
        assert [c.args[0].shape for c in batch] == [(100_000, 3)]
        grad = [c for c in ch04.CROSS_ENTROPY_GRAD.draw(seed) if c.driver == "ch04.batch_timed"]
        assert [c.args[0].shape for c in grad] == [(100_000, 2)]


def narrower(z, dtype):
    """z converted to dtype and back, as a lossy answer would (wrapping silently)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return z.astype(dtype).astype(np.float64)


@pytest.mark.parametrize("spec", ["STABLE_SOFTMAX", "CROSS_ENTROPY", "TEMPERATURE"])
def test_integer_cases_change_under_every_narrower_type(spec):
    """Every draw's large integer logits are exact in their own dtype, and a conversion to any
    type its note names (float16, float32, int8, int16, int32) changes their softmax at
    T = 1 by far more than any tolerance (the temperature's by 3 times at least): rounding or
    wrapping shows on every draw."""
    names = {"float16": np.float16, "float32": np.float32, "int8": np.int8, "int16": np.int16,
             "int32": np.int32}
    for seed in range(200):
        # (the wide cases, of every integer dtype: test_gradient_wide_integer_cases_wrap_...)
        cases = [c for c in getattr(ch04, spec).draw(seed) if "ints" in c.note
                 and not c.note.get("wide")]
        assert cases, seed
        for case in cases:
            z = case.args[0]
            assert z.dtype.kind == "i"
            for name in case.note["ints"].replace(" or ", ", ").split(", "):
                lossy = narrower(z, names[name])
                if spec == "TEMPERATURE":  # the T the lossy logits give: another probability
                    with np.errstate(all="ignore"):
                        t = bisect(lambda t, z2=lossy: ref_softmax(z2 / t).max(), case.args[1])
                    assert abs(_top(z, t) - case.args[1]) > 3 * ch04.TEMPERATURE_TOLERANCE, (
                        seed, case.label, name)
                    continue
                with np.errstate(all="ignore"):
                    changed = ref_softmax(lossy, axis=-1)
                assert not np.allclose(changed, ref_softmax(z.astype(float), axis=-1),
                                       atol=0.05), (seed, case.label, name)


def test_stable_softmax_reference_by_hand():
    # a tie shares equally, at any scale; a one-class axis gives 1
    np.testing.assert_array_equal(ch04._softmax(np.full(4, 1e4)), np.full(4, 0.25))
    np.testing.assert_array_equal(ch04._softmax(np.array([[3.0], [-2.0]]), axis=1),
                                  [[1.0], [1.0]])
    # p_i / p_j = e^(z_i - z_j): for (0, log 2, log 3) the shares are 1/6, 2/6, 3/6
    np.testing.assert_allclose(ch04._softmax(np.log([1.0, 2.0, 3.0]) + 1000.0),
                               [1 / 6, 1 / 3, 1 / 2], rtol=1e-12)


def test_stable_softmax_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch04.STABLE_SOFTMAX, lse_softmax, tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch04.STABLE_SOFTMAX, global_max_softmax, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "each slice" in wrong.message
    course = graded(ch04.STABLE_SOFTMAX, aliased_course_softmax, tmp_path / "c", monkeypatch)
    assert not course.passed and "helpers.activations" in course.message
    warned = graded(ch04.STABLE_SOFTMAX, overflow_then_repair_softmax, tmp_path / "o",
                    monkeypatch)
    assert not warned.passed and "overflow" in warned.message


# =========================================================================== Exercise 2
# cross_entropy(logits, y): logits (n, k) float64, float32 or integer, n >= 1, k >= 2; integer
# labels y of shape (n,); one number (not an array, not even of one element): the mean over the
# samples of -log softmax(logits)[i, y_i], from the logits with log-sum-exp written with numpy
# (not the course's softmax, log_softmax or helpers.nn, scipy or PyTorch); finite and right for
# logits up to 1e4 with no warning; no Python loop; inputs not modified.


def _lsm(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def ref_cross_entropy(logits, y):
    return -_lsm(logits)[np.arange(len(y)), y].mean()


def summed_cross_entropy(logits, y):
    return -_lsm(logits)[np.arange(len(y)), y].sum()


def per_sample_cross_entropy(logits, y):
    return -_lsm(logits)[np.arange(len(y)), y]


def sign_cross_entropy(logits, y):
    return _lsm(logits)[np.arange(len(y)), y].mean()


def log_of_softmax_cross_entropy(logits, y):
    p = ref_softmax(logits, axis=1)
    return -np.log(p[np.arange(len(y)), y]).mean()


def naive_cross_entropy(logits, y):
    p = naive_softmax(logits, axis=1)
    return -np.log(p[np.arange(len(y)), y]).mean()


def eps_cross_entropy(logits, y):
    p = ref_softmax(logits, axis=1)
    return -np.log(p[np.arange(len(y)), y] + 1e-12).mean()


def unshifted_lse_cross_entropy(logits, y):
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def global_max_cross_entropy(logits, y):
    shifted = logits - logits.max()
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def all_classes_cross_entropy(logits, y):
    return -_lsm(logits).mean()


def column_index_cross_entropy(logits, y):
    return -_lsm(logits)[:, y].mean()


def axis0_cross_entropy(logits, y):
    shifted = logits - logits.max(axis=0, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def onehot_labels_cross_entropy(logits, y):
    return -(y * _lsm(logits)).sum(axis=1).mean()  # treats y as one-hot rows


def no_keepdims_cross_entropy(logits, y):
    shifted = logits - logits.max(axis=1)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1))
    return -log_p[np.arange(len(y)), y].mean()


def whole_batch_lse_cross_entropy(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum())
    return -log_p[np.arange(len(y)), y].mean()


def log10_cross_entropy(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))) / np.log(10)
    return -log_p[np.arange(len(y)), y].mean()


def loop_cross_entropy(logits, y):
    log_p = _lsm(_as_float(logits))  # once: a loop over the samples picks the entries
    return -np.mean([log_p[i, y[i]] for i in range(len(y))])


def in_place_cross_entropy(logits, y):
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def course_log_softmax_cross_entropy(logits, y):
    return -log_softmax(logits, axis=1)[np.arange(len(y)), y].mean()


def aliased_log_softmax_cross_entropy(logits, y):
    return -course_lsm(logits, 1)[np.arange(len(y)), y].mean()


def nn_cross_entropy(logits, y):
    """The trick the chapter itself uses: a one-layer network whose logits are `logits`."""
    net = nn.MLP.from_weights([logits], [np.zeros(logits.shape[1])], output="softmax")
    loss, _ = net.loss_and_grads(np.eye(len(y)), y, loss="cross_entropy")
    return loss


def torch_cross_entropy(logits, y):
    import torch
    return float(torch.nn.functional.cross_entropy(torch.from_numpy(logits.astype(float)),
                                                   torch.from_numpy(y.astype(np.int64))))


def m_not_added_back_cross_entropy(logits, y):
    m = logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(axis=1))  # log sum exp(z - m): the + m is missing
    return np.mean(lse - logits[np.arange(len(y)), y])


def scipy_cross_entropy(logits, y):
    from scipy.special import logsumexp  # not installed here, and the task says numpy only
    return np.mean(logsumexp(logits, axis=1) - logits[np.arange(len(y)), y])


def string_cross_entropy(logits, y):
    return f"{ref_cross_entropy(logits, y):.4f}"


def one_element_cross_entropy(logits, y):
    return np.atleast_1d(ref_cross_entropy(logits, y))


def one_by_one_cross_entropy(logits, y):
    return np.array(ref_cross_entropy(logits, y)).reshape(1, 1)


def zero_d_cross_entropy(logits, y):
    return np.asarray(ref_cross_entropy(logits, y))


def keeps_the_dtype_cross_entropy(logits, y):
    return np.asarray(ref_cross_entropy(logits, y)).astype(logits.dtype)[()]


def float32_inside_cross_entropy(logits, y):
    return float(ref_cross_entropy(logits.astype(np.float32), y))


def rounded_cross_entropy(logits, y):
    return round(float(ref_cross_entropy(logits, y)), 4)


def overflow_then_repair_cross_entropy(logits, y):
    e = np.exp(logits)  # naive first; the stable form only when it overflowed
    if np.all(np.isfinite(e)) and np.all(e.sum(axis=1) > 0):
        p = e / e.sum(axis=1, keepdims=True)
        if np.all(p[np.arange(len(y)), y] > 0):
            return -np.log(p[np.arange(len(y)), y]).mean()
    return ref_cross_entropy(logits, y)


def old_batches_cross_entropy(logits, y):
    """Right on the old check's batches (looked up), log k on anything else."""
    for old, labels in OLD_BATCHES:
        if old.shape == logits.shape and np.array_equal(old, logits) and np.array_equal(labels, y):
            return ref_cross_entropy(logits, y)
    return math.log(logits.shape[1])


def float16_ints_cross_entropy(logits, y):
    """The newcomer's: integer logits rounded through float16."""
    if not np.issubdtype(logits.dtype, np.floating):
        logits = logits.astype(np.float16).astype(np.float64)
    return ref_cross_entropy(logits, y)


def int16_ints_cross_entropy(logits, y):
    if logits.dtype.kind == "i":
        logits = logits.astype(np.int16).astype(np.int64)  # wraps beyond +-32767
    return ref_cross_entropy(logits, y)


def float32_ints_cross_entropy(logits, y):
    if logits.dtype.kind == "i":
        logits = logits.astype(np.float32).astype(np.float64)  # exact only up to 2^24
    return ref_cross_entropy(logits, y)


def positive_shift_cross_entropy(logits, y):
    """The newcomer's: shifts only a row that could overflow (m = max(row max, 0))."""
    m = np.maximum(logits.max(axis=1, keepdims=True), 0)
    log_p = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def errstate_fallback_cross_entropy(logits, y):
    """The newcomer's: the textbook formula with the warnings switched off, log-sum-exp only
    for rows where it gave inf or NaN."""
    with np.errstate(all="ignore"):
        e = np.exp(logits)
        log_p = np.log(e / e.sum(axis=1, keepdims=True))
    log_p = np.where(np.isfinite(log_p).all(axis=1, keepdims=True), log_p, _lsm(logits))
    return -log_p[np.arange(len(y)), y].mean()


def shift_where_it_breaks(logits):
    """Each row's maximum where exp would overflow (above 700) or vanish (below -745), else 0:
    rows near -740 stay unshifted, and their exponentials subnormal."""
    m = logits.max(axis=1, keepdims=True)
    return np.where((m > 700) | (m < -745), m, 0)


def subnormal_cross_entropy(logits, y):
    shift = shift_where_it_breaks(logits)
    log_p = logits - shift - np.log(np.exp(logits - shift).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


WRONG_CROSS_ENTROPY = {
    "sum instead of mean": (summed_cross_entropy, r"the sum over the \d+ samples"),
    "per-sample losses, no mean": (per_sample_cross_entropy, r"one loss per sample"),
    "wrong sign": (sign_cross_entropy, r"wrong sign"),
    "log of softmax underflows": (log_of_softmax_cross_entropy,
                                  r"(?s)divide by zero.*round to 0"),
    "naive softmax overflows": (naive_cross_entropy,
                                r"(?s)overflow.*round to 0|very negative.*whatever its sign"),
    "log(p + eps) caps the loss": (eps_cross_entropy, r"a small constant added to a sum or a "
                                                      r"logarithm|size of these logits"),
    "log-sum-exp without the max": (unshifted_lse_cross_entropy,
                                    r"(?s)overflow|very negative.*whatever its sign"),
    "maximum of the whole batch": (global_max_cross_entropy,
                                   r"(?s)very different scale.*round to 0|sits far below"),
    "mean over every class, not the label": (
        all_classes_cross_entropy, r"is \S+, expected \S+ \(the per-sample losses|right to "
                                   r"about \d decimals only"),  # (a draw where it lands close)
    "log_p[:, y]: an n x n table": (column_index_cross_entropy, r"\d+ x \d+ table"),
    "normalised over the samples (axis 0)": (axis0_cross_entropy, r"down the columns"),
    "y treated as one-hot": (onehot_labels_cross_entropy, r"(?s)broadcast.*integer labels"),
    "no keepdims": (no_keepdims_cross_entropy, r"(?s)broadcast.*keepdims"),
    "log-sum-exp over the whole batch": (whole_batch_lse_cross_entropy,
                                         r"is \S+, expected \S+ \(the per-sample"),
    "log base 10": (log10_cross_entropy, r"logarithm is in base 10"),
    "Python loop": (loop_cross_entropy, r"runs a Python loop|took \d+ ms of CPU"),
    "logits -= max in place": (in_place_cross_entropy, r"modified its input `logits` in place"),
    "calls the course's log_softmax": (course_log_softmax_cross_entropy,
                                       r"calls `helpers\.activations\.log_softmax`.*log-sum-exp "
                                       r"yourself"),
    "the course's log_softmax imported under another name": (
        aliased_log_softmax_cross_entropy, r"calls `helpers\.activations\.log_softmax`"),
    "the course's log_softmax through functools.partial": (
        lambda logits, y: -functools.partial(log_softmax, axis=1)(logits)[
            np.arange(len(y)), y].mean(), r"calls `helpers\.activations\.log_softmax`"),
    "helpers.nn's loss (a one-layer network)": (nn_cross_entropy, r"calls `helpers\.nn\."),
    "PyTorch's cross_entropy": (torch_cross_entropy, r"calls `torch\."),
    "returns a string": (string_cross_entropy, r"should be one number, got str"),
    "log-sum-exp without adding m back": (
        m_not_added_back_cross_entropy, r"is \S+, expected \S+ \(the per-sample losses"),
    "scipy's logsumexp": (scipy_cross_entropy,
                          r"(?s)raised ModuleNotFoundError.*not installed here"),
    "an array of one element": (one_element_cross_entropy,
                                r"returned an array of shape \(1,\); the task asks for one "
                                r"number"),
    "an array of shape (1, 1)": (one_by_one_cross_entropy, r"array of shape \(1, 1\)"),
    "a 0-d array": (zero_d_cross_entropy, r"array of shape \(\)"),
    "cast to the logits' dtype (integer logits)": (
        keeps_the_dtype_cross_entropy, r"(?s)a whole number; the loss is.*integer logits"),
    "computed in float32": (float32_inside_cross_entropy, r"right to about [5-9] decimals only"),
    "rounded to 4 decimals": (rounded_cross_entropy, r"right to about [45] decimals only"),
    "naive first, repaired after an overflow": (overflow_then_repair_cross_entropy,
                                                r"(?s)right loss, but numpy warned on the way|"
                                                r"near -740.*subnormal"),
    "fitted to the old check's batches": (old_batches_cross_entropy, r"expected"),
    "integer logits rounded through float16": (
        float16_ints_cross_entropy, r"(?s)gave \d\S*; the answer is \d\S*\..*int32 and "
                                    r"float64 hold these integer logits exactly, float16 "
                                    r"does not"),
    "integer logits wrapped through int16": (int16_ints_cross_entropy,
                                             r"int32 and float64 hold these integer logits"),
    "integer logits rounded through float32": (float32_ints_cross_entropy,
                                               r"int64 and float64 hold these integer logits"),
    "shifted only by a positive maximum": (positive_shift_cross_entropy,
                                           r"(?s)very negative.*whatever its sign|sits far "
                                           r"below"),
    "textbook formula silenced by np.errstate, inf and NaN repaired": (
        errstate_fallback_cross_entropy, r"calls `np\.errstate`"),
    "shifted only where a row would overflow or vanish": (
        subnormal_cross_entropy, r"(?s)near -740.*subnormal|sits far below"),
}


def map_rows_cross_entropy(logits, y):
    z = exact_first(logits, 1)
    lse = np.array(list(map(np.logaddexp.reduce, z)))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def reduce_picked_cross_entropy(logits, y):
    """functools.reduce(np.add) over the picked log-probabilities: one call per sample."""
    z = _as_float(logits)
    s = z - z.max(axis=1, keepdims=True)
    losses = np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y]
    return float(functools.reduce(np.add, losses) / len(y))


def size_switch_cross_entropy(logits, y):
    z = _as_float(logits)
    m = z.max() if z.size > 1000 else z.max(axis=1, keepdims=True)
    s = z - m
    return float(np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y]))


def epsilon_in_log_cross_entropy(logits, y):
    z = _as_float(logits)
    s = z - z.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True) + 1e-12)
    return float(-log_p[np.arange(len(y)), y].mean())


def int32_through_float32_cross_entropy(logits, y):
    z = logits.astype(np.float32) if logits.dtype == np.int32 else _as_float(logits)
    return float(-_lsm(z)[np.arange(len(y)), y].mean())


WRONG_CROSS_ENTROPY.update({
    "np.logaddexp.reduce mapped over the rows": (map_rows_cross_entropy, r"took \d+ ms of CPU"),
    "functools.reduce(np.add) over the samples": (reduce_picked_cross_entropy,
                                                  r"took \d+ ms of CPU"),
    "the whole array's maximum on large inputs": (
        size_switch_cross_entropy, r"(?s)shape \(100000, 3\).*gave -?inf"),
    "1e-12 added inside the logarithm": (epsilon_in_log_cross_entropy,
                                         r"right to about 1[12] decimals only"),
    "int32 logits computed in float32": (
        int32_through_float32_cross_entropy,
        r"(?s)^(?!.*float16, int16 or int8 do not).*right to about [67] decimals only.*"
        r"float32 arithmetic"),
})


def expanded_cross_entropy(logits, y):
    if logits.dtype.kind in "iu":  # integers to float64 first: logits - max can wrap
        logits = logits.astype(np.float64)
    n = len(y)
    m = logits.max(axis=1)
    return float(np.mean((m - logits[np.arange(n), y])
                         + np.log(np.sum(np.exp(logits - m[:, None]), axis=1))))


def plain_expanded_cross_entropy(logits, y):
    """Round 12: lse = m + log sum exp(z - m), then lse - z_y: m + log(sum) rounds at the
    scale of m (5e-7 on integers near 3e9)."""
    n = len(y)
    m = logits.max(axis=1)
    lse = m + np.log(np.sum(np.exp(logits - m[:, None]), axis=1))
    return float(np.mean(lse - logits[np.arange(n), y]))


def take_along_cross_entropy(logits, y):
    if logits.dtype.kind in "iu":  # integers to float64 first: logits - max can wrap
        logits = logits.astype(np.float64)
    log_p = _lsm(logits)
    return -np.take_along_axis(log_p, y[:, None], axis=1).mean()


def onehot_sum_cross_entropy(logits, y):
    if logits.dtype.kind in "iu":  # integers to float64 first: logits - max can wrap
        logits = logits.astype(np.float64)
    onehot = np.eye(logits.shape[1])[y]
    return -np.sum(onehot * _lsm(logits)) / len(y)


def own_softmax_then_lse_cross_entropy(logits, y):
    if logits.dtype.kind in "iu":  # integers to float64 first: logits - max can wrap
        logits = logits.astype(np.float64)
    m = np.max(logits, axis=1, keepdims=True)
    log_p = logits - m - np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    return np.mean(-log_p[range(len(y)), y])


def logaddexp_cross_entropy(logits, y):
    w = exact_first(logits, 1)
    return float(np.mean(np.logaddexp.reduce(w, axis=1) - w[np.arange(len(y)), y]))


def plain_logaddexp_cross_entropy(logits, y):
    """Round 12: np.logaddexp.reduce on integer logits as they are (near 3e9)."""
    return float(np.mean(np.logaddexp.reduce(logits, axis=1) - logits[np.arange(len(y)), y]))


def seterr_untouched_cross_entropy(logits, y):
    """Reads numpy's error settings (np.geterr silences nothing) and leaves them alone."""
    assert np.geterr()["over"] in ("warn", "raise", "ignore", "call", "print", "log")
    if logits.dtype.kind in "iu":  # integers to float64 first: logits - max can wrap
        logits = logits.astype(np.float64)
    return ref_cross_entropy(logits, y)


def fancy_index_cross_entropy(logits, y):
    """The notebook's solution."""
    if logits.dtype.kind in "iu":  # integers to float64 first: logits - max can wrap
        logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def take_along_einsum_cross_entropy(logits, y):
    if logits.dtype.kind in "iu":  # integers to float64 first: logits - max can wrap
        logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.einsum("ij->i", np.exp(shifted)))
                         - np.take_along_axis(shifted, y[:, None], axis=1)[:, 0]))


RIGHT_CROSS_ENTROPY = {
    "log-sum-exp, fancy index": fancy_index_cross_entropy,
    "expanded: m + log sum exp(z - m) - z_y": expanded_cross_entropy,
    "take_along_axis": take_along_cross_entropy,
    "one-hot matrix and sum": onehot_sum_cross_entropy,
    "range(n) index, np.mean": own_softmax_then_lse_cross_entropy,
    "np.logaddexp.reduce": logaddexp_cross_entropy,
    "reads np.geterr (no silencing)": seterr_untouched_cross_entropy,
    "take_along_axis and einsum": take_along_einsum_cross_entropy,
}


@pytest.mark.parametrize("name", WRONG_CROSS_ENTROPY)
def test_cross_entropy_rejects(name):
    answer, message = WRONG_CROSS_ENTROPY[name]
    rejects(ch04.check_cross_entropy, answer, message)


@pytest.mark.parametrize("name", RIGHT_CROSS_ENTROPY)
def test_cross_entropy_accepts_on_every_draw(name):
    accepts(ch04.check_cross_entropy, RIGHT_CROSS_ENTROPY[name],
            right_draws(RIGHT_CROSS_ENTROPY, name))


def test_cross_entropy_pass_message_is_the_same_for_every_draw():
    first, second = (passes_once(ch04.check_cross_entropy, fancy_index_cross_entropy, s)
                     for s in (1, 2))
    assert first == second and first.startswith("\u2705")


def test_cross_entropy_messages_show_the_batch_they_quote():
    with pytest.raises(ExerciseError) as info:
        ch04.check_cross_entropy(naive_cross_entropy, seed=0)
    message = str(info.value)
    index = int(message.split("In case ")[1].split(" of")[0]) - 1
    (logits, y), _ = ch04.CROSS_ENTROPY.case(0, index)
    assert f"y = {y.tolist()}" in message
    assert ("logits = [[" in message) if logits.size <= 12 else (
        f"logits of shape {logits.shape}" in message)


def test_cross_entropy_extreme_value_by_hand():
    # -log p of (1000, 0, -1000) at the class of -1000 is 2000 + log(1 + e^-1000 + e^-2000).
    logits, y = np.array([[1000.0, 0.0, -1000.0], [0.0, 1001.0, 1000.0]]), np.array([2, 2])
    row2 = 1001.0 + math.log(math.exp(-1001.0) + 1.0 + math.exp(-1.0)) - 1000.0
    assert ch04._cross_entropy(logits, y) == pytest.approx((2000.0 + row2) / 2, rel=1e-12)


def test_batches_cover_the_contract():
    cases = ch04.CROSS_ENTROPY.draw(0)
    # the gradient gets the same batches, and two calls in a row (its result is an array)
    grad = ch04.CROSS_ENTROPY_GRAD.draw(0)
    twice = [c for c in grad if c.driver == "ch04.batch_twice" and "one array swapped" not in
             c.label]
    assert len(twice) == 2   # a small and a large pair (and maybe a twin of one)
    assert any(c.args[0].shape == (200, 100) for c in twice)
    # the same batches but for twins (drawn for each spec on its own)
    # (but the timed batch: 3 classes for the loss, 2 for the gradient)
    # (the layout each case hands its arrays over in is drawn per spec: not compared)
    def bare(label):
        return re.sub(r", its arrays handed over .*$", "", label)

    plain = [bare(c.label) for c in cases if "one array swapped" not in c.label
             and c.driver != "ch04.batch_timed"]
    assert [bare(c.label) for c in grad if c not in twice and c.driver not in (
        "ch04.batch_twice", "ch04.batch_timed") and "one array swapped" not in c.label] == plain
    labels = " | ".join(c.label for c in cases)
    for needed in ("near -1000", "near -740", "+-1e4", "near +-50,000", "near +-3e9", "int32",
                   "float32"):
        assert needed in labels, needed
    assert [c.work for c in cases[-4:-1]] == ["small", "large", "timed"]
    assert cases[-2].args[0].size == 200_000 and len(cases[-2].args[1]) == 500
    assert cases[-1].driver == "ch04.batch_timed"
    shapes = [c.args[0].shape for c in cases]
    assert any(n == 1 for n, _ in shapes) and any(k == 2 for _, k in shapes)
    assert any(n > k for n, k in shapes) and any(n < k for n, k in shapes)
    assert any(c.args[1].max() < c.args[0].shape[1] - 1 for c in cases)  # a class left out
    dtypes = {c.args[0].dtype.type for c in cases}
    assert {np.float64, np.float32, np.int64} <= dtypes
    assert {c.args[1].dtype.type for c in cases} >= {np.int64, np.int32}
    assert max(float(np.abs(c.args[0]).max()) for c in cases) >= 1e4
    large = [c for c in cases if c.note.get("large")]
    first_large = cases.index(large[0])
    assert all(not c.note.get("large") for c in cases[:first_large])


def test_cross_entropy_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_cross_entropy(unfinished)


def test_cross_entropy_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch04.CROSS_ENTROPY, take_along_cross_entropy, tmp_path / "r",
                  monkeypatch).passed
    wrong = graded(ch04.CROSS_ENTROPY, naive_cross_entropy, tmp_path / "w", monkeypatch)
    # the naive softmax fails first on the batch near -1000 (exp underflows to 0 there)
    assert not wrong.passed and re.search(r"(?s)overflow.*round to 0|very negative.*whatever "
                                          r"its sign", wrong.message)
    course = graded(ch04.CROSS_ENTROPY, nn_cross_entropy, tmp_path / "c", monkeypatch)
    assert not course.passed and "helpers.nn" in course.message


# =========================================================================== Exercise 3
# cross_entropy_grad(logits, y) = (softmax(logits) - onehot(y)) / n: an (n, k) float array
# (float64 for float64 and integer logits; float32 or float64 for float32 logits); the course's
# softmax is allowed for the probabilities, helpers.nn and PyTorch are not; stable; no loop.


def _onehot(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


def ref_grad(logits, y):
    return (softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def summed_grad(logits, y):
    return softmax(logits, axis=1) - _onehot(y, logits.shape[1])


def sign_grad(logits, y):
    return (_onehot(y, logits.shape[1]) - softmax(logits, axis=1)) / len(y)


def by_k_grad(logits, y):
    return (softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / logits.shape[1]


def mse_like_grad(logits, y):
    return 2 * (softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def no_onehot_grad(logits, y):
    return softmax(logits, axis=1) / len(y)


def label_value_grad(logits, y):
    return (softmax(logits, axis=1) - y[:, None]) / len(y)


def column_index_grad(logits, y):
    grad = softmax(logits, axis=1)
    grad[:, y] -= 1.0
    return grad / len(y)


def eye_n_grad(logits, y):
    return (softmax(logits, axis=1) - np.eye(len(y))[y]) / len(y)


def eye_n_cut_grad(logits, y):
    onehot = np.eye(len(y))[y][:, :logits.shape[1]]  # right only while n >= k
    return (softmax(logits, axis=1) - onehot) / len(y)


def k_from_labels_grad(logits, y):
    return (softmax(logits, axis=1) - np.eye(y.max() + 1)[y]) / len(y)


def axis0_grad(logits, y):
    return (softmax(logits, axis=0) - _onehot(y, logits.shape[1])) / len(y)


def naive_grad(logits, y):
    return (naive_softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def global_max_grad(logits, y):
    e = np.exp(logits - logits.max())
    return (e / e.sum(axis=1, keepdims=True) - _onehot(y, logits.shape[1])) / len(y)


def apply_along_grad(logits, y):
    p = np.apply_along_axis(lambda row: np.exp(row - row.max()) / np.exp(row - row.max()).sum(),
                            1, logits)
    return (p - _onehot(y, logits.shape[1])) / len(y)


def label_only_grad(logits, y):
    n = len(y)
    grad = np.zeros(logits.shape)
    grad[np.arange(n), y] = softmax(logits, axis=1)[np.arange(n), y] - 1.0
    return grad / n


def loop_grad(logits, y):
    p = softmax(logits, axis=1)
    for i, label in enumerate(y):
        p[i, label] -= 1.0
    return p / len(y)


def in_place_grad(logits, y):
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True) - _onehot(y, logits.shape[1])) / len(y)


def transposed_grad(logits, y):
    return ref_grad(logits, y).T


def zeros_like_grad(logits, y):
    grad = np.zeros_like(logits)  # integer logits: an integer array
    grad[:] = softmax(logits, axis=1)
    grad[np.arange(len(y)), y] -= 1
    return grad / len(y)


def float32_inside_grad(logits, y):
    return (softmax(logits.astype(np.float32), axis=1) - _onehot(y, logits.shape[1])) / len(y)


def float32_result_grad(logits, y):
    return ref_grad(logits, y).astype(np.float32)


def rounded_grad(logits, y):
    return np.round(ref_grad(logits, y), 6)


def list_grad(logits, y):
    return ref_grad(logits, y).tolist()


def nn_grad(logits, y):
    """The chapter's own check of the gradient: a one-layer network, its dW with x = e_i."""
    net = nn.MLP.from_weights([logits.astype(float)], [np.zeros(logits.shape[1])],
                              output="softmax")
    _, grads = net.loss_and_grads(np.eye(len(y)), y, loss="cross_entropy")
    return grads[0][0]


def torch_grad(logits, y):
    import torch
    z = torch.tensor(logits.astype(float), requires_grad=True)
    torch.nn.functional.cross_entropy(z, torch.from_numpy(y.astype(np.int64))).backward()
    return z.grad.numpy()


def old_batches_grad(logits, y):
    for old, labels in OLD_BATCHES:
        if old.shape == logits.shape and np.array_equal(old, logits) and np.array_equal(labels, y):
            return ref_grad(logits, y)
    return np.zeros(logits.shape)


def overflow_then_repair_grad(logits, y):
    e = np.exp(logits)  # naive first; the stable softmax only when that failed
    p = e / e.sum(axis=1, keepdims=True)
    if not np.all(np.isfinite(p)):
        return ref_grad(logits, y)
    return (p - _onehot(y, logits.shape[1])) / len(y)


def float16_ints_grad(logits, y):
    """The newcomer's: integer logits rounded through float16."""
    if not np.issubdtype(logits.dtype, np.floating):
        logits = logits.astype(np.float16).astype(np.float64)
    return ref_grad(logits, y)


def int16_ints_grad(logits, y):
    """The newcomer's: integer logits wrapped through int16 (+-10000 fitted it)."""
    if logits.dtype.kind == "i":
        logits = logits.astype(np.int16)
    return ref_grad(logits, y)


def int32_ints_grad(logits, y):
    if logits.dtype.kind == "i":
        logits = logits.astype(np.int32)  # wraps beyond +-2^31
    return ref_grad(logits, y)


def positive_shift_grad(logits, y):
    """The newcomer's: shifts only a row that could overflow."""
    e = np.exp(logits - np.maximum(logits.max(axis=1, keepdims=True), 0))
    return (e / e.sum(axis=1, keepdims=True) - _onehot(y, logits.shape[1])) / len(y)


def errstate_fallback_grad(logits, y):
    """The newcomer's: the textbook softmax with the warnings switched off, the course's
    softmax only for rows where it gave NaN."""
    with np.errstate(all="ignore"):
        e = np.exp(logits)
        p = e / e.sum(axis=1, keepdims=True)
    p = np.where(np.isfinite(p).all(axis=1, keepdims=True), p, softmax(logits, axis=1))
    return (p - _onehot(y, logits.shape[1])) / len(y)


def subnormal_grad(logits, y):
    e = np.exp(logits - shift_where_it_breaks(logits))
    return (e / e.sum(axis=1, keepdims=True) - _onehot(y, logits.shape[1])) / len(y)


_GRAD_BUFFER = {}


def one_buffer_grad(logits, y):
    """Every result a view of one module-level buffer: the previous gradient changes."""
    n, k = logits.shape
    if _GRAD_BUFFER.get("b") is None or _GRAD_BUFFER["b"].size < n * k:
        _GRAD_BUFFER["b"] = np.empty(max(n * k, 1 << 18))
    out = _GRAD_BUFFER["b"][:n * k].reshape(n, k)
    out[...] = ref_grad(logits, y)
    return out


WRONG_CROSS_ENTROPY_GRAD = {
    "no division by n": (summed_grad, r"\d+ times too large"),
    "wrong sign": (sign_grad, r"wrong sign"),
    "divided by k, not n": (by_k_grad, r"divided by k = \d+.*n = \d+"),
    "factor 2 from a squared error": (mse_like_grad, r"twice the answer"),
    "no one-hot: p / n": (no_onehot_grad, r"no -1 at the labels"),
    "subtracts the label's value": (label_value_grad, r"label's value y_i"),
    "grad[:, y] -= 1": (column_index_grad, r"every column that is some sample's label"),
    "one-hot of width n": (eye_n_grad, r"(?s)broadcast.*integer labels|IndexError.*one-hot "
                                       r"rows k columns"),
    "one-hot of width n, cut to k columns": (eye_n_cut_grad,
                                             r"(?s)raised (IndexError|ValueError).*one-hot"
                                             r"|differs from the answer"),
    "one-hot of width y.max() + 1": (k_from_labels_grad, r"(?s)broadcast.*not y\.max\(\) \+ 1"
                                                         r"|never use the last class"),
    "softmax down the columns": (axis0_grad, r"normalised down the columns"),
    "naive softmax overflows": (naive_grad, r"(?s)(overflow|invalid value).*(stable softmax|"
                                            r"whatever its sign)"),
    "maximum of the whole batch": (global_max_grad,
                                   r"(?s)nan.*very different scale|one row 1000 below "
                                   r"the others"),
    "np.apply_along_axis over rows": (apply_along_grad, r"runs a Python loop|took \d+ ms of CPU|"
                                                        r"with `numpy.apply_along_axis`"),
    "only the label's entry": (label_only_grad, r"only the label's entries"),
    "Python loop over samples": (loop_grad, r"runs a Python loop|took \d+ ms of CPU"),
    "logits -= max in place": (in_place_grad, r"modified its input `logits` in place"),
    "transposed": (transposed_grad, r"returned shape \(\d+, \d+\) for an input of shape"),
    "np.zeros_like(logits) for integer logits": (zeros_like_grad,
                                                 r"(?s)probabilities are missing.*zeros_like"),
    "probabilities in float32": (float32_inside_grad, r"right to about [6-9] decimals only"),
    "float32 result for float64 logits": (float32_result_grad,
                                          r"returned float32 for float64 logits"),
    "rounded to 6 decimals": (rounded_grad, r"right to about [67] decimals only"),
    "a list": (list_grad, r"returned a Python list, expected a numpy array"),
    "helpers.nn's gradient (a one-layer network)": (nn_grad, r"calls `helpers\.nn\."),
    "PyTorch's autograd": (torch_grad, r"calls `torch\."),
    "fitted to the old check's batches": (old_batches_grad, r"differs from the answer|has only"),
    "naive first, repaired after an overflow": (overflow_then_repair_grad,
                                                r"right gradient, but numpy warned"),
    "not a function": (None, r"should be a function"),
    "integer logits rounded through float16": (
        float16_ints_grad, r"int32 and float64 hold these integer logits exactly"),
    "integer logits wrapped through int16": (int16_ints_grad,
                                             r"int32 and float64 hold these integer logits"),
    "integer logits wrapped through int32": (int32_ints_grad,
                                             r"int64 and float64 hold these integer logits"),
    "shifted only by a positive maximum": (positive_shift_grad,
                                           r"(?s)gave \[\[nan.*whatever its sign|"
                                           r"one row 1000 below the others"),
    "textbook softmax silenced by np.errstate, NaN rows repaired": (
        errstate_fallback_grad, r"calls `np\.errstate`"),
    "shifted only where a row would overflow or vanish": (
        subnormal_grad, r"(?s)near -740.*subnormal|one row 200 below the others"),
    "one buffer for every result": (one_buffer_grad, KEPT),
}


def map_rows_grad(logits, y):
    z = _as_float(logits)
    e = np.exp(z - np.array(list(map(np.maximum.reduce, z)))[:, None])
    g = e / np.array(list(map(np.add.reduce, e)))[:, None]
    g[np.arange(len(y)), y] -= 1
    return g / len(y)


def size_switch_grad(logits, y):
    z = _as_float(logits)
    e = np.exp(z - (z.max() if z.size > 1000 else z.max(axis=1, keepdims=True)))
    g = e / e.sum(axis=1, keepdims=True)
    g[np.arange(len(y)), y] -= 1
    return g / len(y)


def epsilon_mean_grad(logits, y):
    return ref_grad(logits, y) * len(y) / (len(y) + 1e-9)


def int32_through_float32_grad(logits, y):
    z = logits.astype(np.float32) if logits.dtype == np.int32 else _as_float(logits)
    return ref_grad(z, y).astype(np.float64)


WRONG_CROSS_ENTROPY_GRAD.update({
    "a buffer per shape for large inputs": (large_buffer_grad,
                                            KEPT),
    # (both keep float16 logits in float16, which the float16 batch refuses first)
    "np.maximum.reduce mapped over the rows": (
        map_rows_grad, r"took \d+ ms of CPU|returned float16 for float16 logits"),
    "the whole array's maximum on large inputs": (
        size_switch_grad, r"(?s)shape \(100000, 2\).*gave \[\[ *nan|"
                          r"returned float16 for float16 logits"),
    "1e-9 added to n": (epsilon_mean_grad, r"right to about (9|10|11) decimals only|"
                                           r"off by \d\.\de-1[01] at most"),
    "int32 logits computed in float32": (
        int32_through_float32_grad,
        r"(?s)^(?!.*float16, int16 or int8 do not).*right to about [678] decimals only.*"
        r"float32 arithmetic"),
})


def comparison_onehot_grad(logits, y):
    k = logits.shape[1]
    return (softmax(logits, axis=1) - (np.arange(k) == y[:, None])) / len(y)


def put_along_grad(logits, y):
    grad = softmax(logits, axis=1)
    np.put_along_axis(grad, y[:, None], np.take_along_axis(grad, y[:, None], 1) - 1.0, axis=1)
    return grad / len(y)


def exp_log_softmax_grad(logits, y):
    return (np.exp(log_softmax(logits, axis=1)) - np.eye(logits.shape[1])[y]) / len(y)


def own_softmax_grad(logits, y):
    # (integer logits in float64 first: their differences may leave their own dtype; float16
    # ones too: the gradient of float16 logits is float32 or float64)
    logits = logits.astype(np.float64) if logits.dtype.kind in "iu" or (
        logits.dtype == np.float16) else logits
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def aliased_course_softmax_grad(logits, y):
    return (sm(logits, 1) - np.eye(logits.shape[1])[y]) / len(y)


def float32_kept_grad(logits, y):
    p = softmax(logits, axis=1)
    return (p - np.eye(logits.shape[1], dtype=p.dtype)[y]) / np.asarray(len(y), dtype=p.dtype)


def lse_added_back_grad(logits, y):
    """p = exp(z - (m + log sum exp(z - m))): right on float logits; integer ones shifted
    first."""
    z = exact_first(logits, 1).astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    p = np.exp(z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))))
    return (p - np.eye(z.shape[1])[y]) / len(y)


def plain_added_back_grad(logits, y):
    """Round 12: p = exp(z - (m + log sum exp(z - m))) on integer logits as they are."""
    z = logits.astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    p = np.exp(z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))))
    return (p - np.eye(z.shape[1])[y]) / len(y)


RIGHT_CROSS_ENTROPY_GRAD = {
    "p minus one-hot matrix": ref_grad,
    "one-hot by comparison": comparison_onehot_grad,
    "put_along_axis": put_along_grad,
    "exp of log_softmax, eye(k)[y]": exp_log_softmax_grad,
    "own stable softmax, subtract 1 in place on p": own_softmax_grad,
    "the course's softmax under another name (allowed)": aliased_course_softmax_grad,
    "float32 kept for float32 logits": float32_kept_grad,
    "exp(z - (m + log sum exp(z - m)))": lse_added_back_grad,
}


@pytest.mark.parametrize("name", WRONG_CROSS_ENTROPY_GRAD)
def test_cross_entropy_grad_rejects(name):
    answer, message = WRONG_CROSS_ENTROPY_GRAD[name]
    if answer is None:
        with pytest.raises(ExerciseError, match=message):
            ch04.check_cross_entropy_grad(answer)
        return
    rejects(ch04.check_cross_entropy_grad, answer, message)


@pytest.mark.parametrize("name", RIGHT_CROSS_ENTROPY_GRAD)
def test_cross_entropy_grad_accepts_on_every_draw(name):
    accepts(ch04.check_cross_entropy_grad, RIGHT_CROSS_ENTROPY_GRAD[name],
            right_draws(RIGHT_CROSS_ENTROPY_GRAD, name))


def test_grad_reference_matches_finite_differences_of_the_loss():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    eps = 1e-6
    numeric = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        dz = np.zeros_like(z)
        dz[idx] = eps
        numeric[idx] = (ref_cross_entropy(z + dz, y) - ref_cross_entropy(z - dz, y)) / (2 * eps)
    np.testing.assert_allclose(ch04._cross_entropy_grad(z, y), numeric, atol=1e-8)


def test_grad_pass_message_is_the_same_for_every_draw():
    first, second = (passes_once(ch04.check_cross_entropy_grad, ref_grad, s) for s in (1, 2))
    assert first == second and first.startswith("\u2705")


def test_grad_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_cross_entropy_grad(unfinished)


def test_grad_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch04.CROSS_ENTROPY_GRAD, put_along_grad, tmp_path / "r", monkeypatch).passed
    wrong = graded(ch04.CROSS_ENTROPY_GRAD, summed_grad, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "times too large" in wrong.message
    course = graded(ch04.CROSS_ENTROPY_GRAD, nn_grad, tmp_path / "c", monkeypatch)
    assert not course.passed and "helpers.nn" in course.message


# =========================================================================== Exercise 4
# temperature_for(logits, target): logits a 1-D array of k >= 2 values (float64, float32 or
# integer; near 1000; ties for the top allowed), a target the top class reaches at some T in
# [1e-3, 1e3]; one number T > 0 with |max softmax(logits / T) - target| <= 1e-4; a loop over
# bisection steps is allowed, and so is the course's softmax.


def _top(z, t):
    return ref_softmax(np.asarray(z, dtype=float) / t).max()


def bisect(top, target, steps=100, lo=1e-3, hi=1e3):
    lo, hi = math.log(lo), math.log(hi)
    for _ in range(steps):
        mid = (lo + hi) / 2
        if top(math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def ref_temperature(logits, target):
    return bisect(lambda t: _top(logits, t), target)


def inverse_temperature(logits, target):
    return 1.0 / ref_temperature(logits, target)


def log_temperature(logits, target):
    return math.log(ref_temperature(logits, target))  # the exp forgotten


def constant_temperature(logits, target):
    return 1.0


def negative_temperature(logits, target):
    return -ref_temperature(logits, target)


def string_temperature(logits, target):
    return "0.5"


def swapped_bisection(logits, target):
    lo, hi = math.log(1e-3), math.log(1e3)
    for _ in range(100):
        mid = (lo + hi) / 2
        if _top(logits, math.exp(mid)) > target:
            hi = mid  # moves the wrong way
        else:
            lo = mid
    return math.exp((lo + hi) / 2)


def few_steps_temperature(logits, target):
    return bisect(lambda t: _top(logits, t), target, steps=8)


def class0_temperature(logits, target):
    return bisect(lambda t: ref_softmax(logits / t)[0], target)  # class 0, not the top class


def two_class_formula(logits, target):
    top2 = np.sort(logits)[-2:]
    return float((top2[1] - top2[0]) / math.log(target / (1 - target)))


def narrow_range_temperature(logits, target):
    return bisect(lambda t: _top(logits, t), target, lo=0.1, hi=10.0)


def naive_exp_temperature(logits, target):
    return bisect(lambda t: naive_softmax(logits / t).max(), target)


def in_place_temperature(logits, target):
    lo, hi = math.log(1e-3), math.log(1e3)
    for _ in range(100):
        mid = (lo + hi) / 2
        scaled = logits
        scaled /= math.exp(mid)  # divides the caller's array
        if ref_softmax(scaled).max() > target:
            lo = mid
        else:
            hi = mid
        scaled *= math.exp(mid)
    return math.exp((lo + hi) / 2)


def probabilities_temperature(logits, target):
    return ref_softmax(logits / ref_temperature(logits, target))


def one_element_temperature(logits, target):
    return np.array([ref_temperature(logits, target)])


def one_by_one_temperature(logits, target):
    return np.array([[ref_temperature(logits, target)]])


def zero_d_temperature(logits, target):
    return np.asarray(ref_temperature(logits, target))


def short_bracket_temperature(logits, target):
    return bisect(lambda t: _top(logits, t), target, hi=999.0)  # misses the top of the range


def high_floor_temperature(logits, target):
    return bisect(lambda t: _top(logits, t), target, lo=1.1e-3)  # misses the bottom


def rounded_2_temperature(logits, target):
    return round(ref_temperature(logits, target), 2)


def rounded_3_temperature(logits, target):
    return round(ref_temperature(logits, target), 3)


def loose_stop_temperature(logits, target, tol=1e-3):
    """Stops as soon as the top probability is within tol of the target."""
    lo, hi = math.log(1e-3), math.log(1e3)
    while True:
        mid = (lo + hi) / 2
        p = _top(logits, math.exp(mid))
        if abs(p - target) < tol:
            return math.exp(mid)
        lo, hi = (mid, hi) if p > target else (lo, mid)


def twice_the_tolerance_temperature(logits, target):
    return loose_stop_temperature(logits, target, tol=2e-4)


def rounded_probability_temperature(logits, target):
    return bisect(lambda t: round(float(_top(logits, t)), 2), target)


def float16_temperature(logits, target):
    return bisect(lambda t: ref_softmax((logits / t).astype(np.float16)).max(), target)


def keeps_the_dtype_temperature(logits, target):
    return bisect(lambda t: ref_softmax((logits / t).astype(logits.dtype)).max(), target)


def old_cases_temperature(logits, target):
    for old, old_target in OLD_TEMPERATURE_CASES:
        if old.shape == logits.shape and np.array_equal(old, logits) and old_target == target:
            return ref_temperature(logits, target)
    return 1.0


def overflow_then_repair_temperature(logits, target):
    def top(t):
        e = np.exp(logits / t)
        if np.all(np.isfinite(e)):
            return (e / e.sum()).max()
        return _top(logits, t)
    return bisect(top, target)


def int8_temperature(logits, target):
    """The newcomer's: integer logits cast to int8 (logits of -5..5 fitted it)."""
    z = logits.astype(np.int8) if logits.dtype.kind == "i" else logits
    return bisect(lambda t: _top(z, t), target)


def int32_temperature(logits, target):
    z = logits.astype(np.int32) if logits.dtype.kind == "i" else logits
    return bisect(lambda t: _top(z, t), target)


def float16_ints_temperature(logits, target):
    """Integer logits through float16, saturated at its largest value (65504), so that no
    cast overflows: B + 1 and B both become 65504, a tie."""
    if logits.dtype.kind == "i":
        logits = np.clip(logits, -65504, 65504).astype(np.float16).astype(float)
    return bisect(lambda t: _top(logits, t), target)


def float32_ints_temperature(logits, target):
    z = logits.astype(np.float32) if logits.dtype.kind == "i" else logits
    return bisect(lambda t: _top(z, t), target)


def positive_shift_temperature(logits, target):
    """The newcomer's: its own softmax shifts only logits / T that could overflow."""
    def top(t):
        s = logits / t
        e = np.exp(s - max(s.max(), 0.0))
        return (e / e.sum()).max()
    return bisect(top, target)


def errstate_fallback_temperature(logits, target):
    """The newcomer's: the textbook softmax with the warnings off, the course's on NaN."""
    def top(t):
        with np.errstate(all="ignore"):
            e = np.exp(logits / t)
            p = e / e.sum()
        return (p if np.all(np.isfinite(p)) else softmax(logits / t)).max()
    return bisect(top, target)


WRONG_TEMPERATURE_FOR = {
    "inverse temperature": (inverse_temperature, r"looks like 1/T"),
    "log T, the exp forgotten": (log_temperature, r"looks like log T"),
    "constant T = 1": (constant_temperature,
                       r"(?s)\[2\.0, 1\.0, 0\.1\].*p = 0\.659001.*too flat"),
    "negative": (negative_temperature, r"must be > 0"),
    "a string": (string_temperature, r"one number"),
    "bisection moves the wrong way": (swapped_bisection, r"(?s)returned T = 1000.*too flat"),
    "too few bisection steps": (few_steps_temperature, r"not \S+ \(to within 0\.0001\)"),
    "class 0 instead of the top class": (
        class0_temperature,
        r"(?s)followed class 0: it is not the top class.*the top class is not class 0"),
    "two-class closed form": (two_class_formula,
                              r"(?s)\[2\.0, 1\.0, 0\.1\], target=0\.9\).*not 0\.900000"),
    "search only in [0.1, 10]": (narrow_range_temperature, r"small temperature|large temperature"),
    "naive exp overflows": (naive_exp_temperature, r"(?s)overflow.*max-subtracted"),
    "divides the logits in place": (in_place_temperature,
                                    r"modified its input `logits` in place"),
    "returns the probabilities": (probabilities_temperature, r"array of shape \(3,\).*one number"),
    "an array of one element": (one_element_temperature, r"array of shape \(1,\)"),
    "an array of shape (1, 1)": (one_by_one_temperature, r"array of shape \(1, 1\)"),
    "a 0-d array": (zero_d_temperature, r"array of shape \(\)"),
    "a bracket that stops at 999": (short_bracket_temperature,
                                    r"(?s)\(to within 0\.0001\).*top of the range"),
    "a bracket that starts at 0.0011": (high_floor_temperature,
                                        r"(?s)\(to within 0\.0001\).*bottom of the range"),
    "T rounded to 2 decimals": (rounded_2_temperature, r"\(to within 0\.0001\)"),
    "T rounded to 3 decimals": (rounded_3_temperature, r"\(to within 0\.0001\)"),
    "stops within 1e-3 of the target": (loose_stop_temperature, r"\(to within 0\.0001\)"),
    "stops within 2e-4 of the target": (twice_the_tolerance_temperature,
                                        r"\(to within 0\.0001\)"),
    "compares a rounded probability": (rounded_probability_temperature,
                                       r"\(to within 0\.0001\)"),
    "probabilities in float16": (float16_temperature, r"\(to within 0\.0001\)|overflow"),
    "logits / T cast back to the logits' dtype (integer logits)": (
        keeps_the_dtype_temperature, r"(?s)\(to within 0\.0001\).*integer logits"),
    "fitted to the old check's cases": (old_cases_temperature, r"\(to within 0\.0001\)"),
    "naive first, repaired after an overflow": (overflow_then_repair_temperature,
                                                r"overflow.*the task asks for no warning"),
    "integer logits cast to int8": (int8_temperature,
                                    r"int64 and float64 hold these integer logits exactly, "
                                    r"int8 does not"),
    "integer logits cast to int32": (int32_temperature,
                                     r"int64 and float64 hold these integer logits"),
    "integer logits through float16": (float16_ints_temperature,
                                       r"int64 and float64 hold these integer logits"),
    "integer logits through float32": (float32_ints_temperature,
                                       r"int64 and float64 hold these integer logits"),
    "shifted only by a positive maximum": (
        positive_shift_temperature,
        r"(?s)near -1000.*whatever the sign|numpy warned.*max-subtracted softmax"),
    "textbook softmax silenced by np.errstate, NaN repaired": (
        errstate_fallback_temperature, r"calls `np\.errstate`"),
}


def _log_bisection(logits, target, steps=None, width=1e-12):
    lo, hi = math.log(1e-3), math.log(1e3)
    done = 0
    while (steps is None and hi - lo > width) or (steps is not None and done < steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _top(logits, math.exp(mid)) > target else (lo, mid)
        done += 1
    return math.exp((lo + hi) / 2)


def grid_20000_temperature(logits, target):
    grid = np.geomspace(1e-3, 1e3, 20_000)
    tops = np.array([_top(logits, t) for t in grid[::50]])  # coarse, then the fine grid near
    near = int(np.argmin(np.abs(tops - target))) * 50
    fine = grid[max(0, near - 60):near + 60]
    return float(fine[np.argmin([abs(_top(logits, t) - target) for t in fine])])


def target_cache():
    """Confirmation reading: T remembered by target."""
    cache = {}

    def answer(logits, target):
        if target not in cache:
            cache[target] = ref_temperature(logits, target)
        return cache[target]
    return answer


def midpoint_after_17_steps(logits, target):
    return _log_bisection(logits, target, steps=17)


WRONG_TEMPERATURE_FOR.update({
    "T remembered by target": (target_cache(), r"\[5, 1, 0\]|returned T = "),
    "17 bisection steps on log T": (midpoint_after_17_steps, r"returned T = "),
    "16 bisection steps on log T": (lambda z, t: _log_bisection(z, t, steps=16),
                                    r"returned T = "),
    "stops at a log-width of 5e-4": (lambda z, t: _log_bisection(z, t, width=5e-4),
                                     r"returned T = "),
    "T rounded to 4 significant digits": (
        lambda z, t: float(f"{ref_temperature(z, t):.4g}"), r"returned T = "),
    "a grid of 20,000 temperatures": (grid_20000_temperature, r"returned T = "),
    "stops within 1.1e-4 of the target": (
        lambda z, t: loose_stop_temperature(z, t, tol=1.1e-4), r"returned T = "),
})


def linear_bisection(logits, target):
    lo, hi = 1e-3, 1e3
    for _ in range(200):
        mid = (lo + hi) / 2
        if _top(logits, mid) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def while_bisection(logits, target):
    lo, hi = 1e-3, 1e3
    while hi / lo > 1 + 1e-12:
        mid = math.sqrt(lo * hi)
        if softmax(logits, temperature=mid).max() > target:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def _tops_on(grid, logits):
    tops = []
    for part in np.array_split(grid, max(1, len(grid) * len(logits) // 4_000_000)):
        z = logits[None, :] / part[:, None]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        tops.append((e / e.sum(axis=1, keepdims=True)).max(axis=1))
    return np.concatenate(tops)


def grid_search(logits, target):
    """A vectorised search without bisection: 2,001 temperatures on the whole range, then
    2,001 between the two neighbours of the best (steps of 3.5e-6 in log T)."""
    logits = np.asarray(logits, dtype=float)
    coarse = np.geomspace(1e-3, 1e3, 2_001)
    best = int(np.argmin(np.abs(_tops_on(coarse, logits) - target)))
    fine = np.geomspace(coarse[max(best - 1, 0)], coarse[min(best + 1, coarse.size - 1)], 2_001)
    return float(fine[np.argmin(np.abs(_tops_on(fine, logits) - target))])


def bracket_then_bisect(logits, target):
    t = 1.0
    while _top(logits, t) < target:  # too flat: sharpen until the target is bracketed
        t /= 2
    while _top(logits, t) > target:
        t *= 2
    lo, hi = t / 2, t
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _top(logits, mid) > target else (lo, mid)
    return mid


def notebook_temperature(logits, target):
    lo, hi = np.log(1e-3), np.log(1e3)
    for _ in range(100):
        mid = (lo + hi) / 2
        if softmax(logits, temperature=np.exp(mid)).max() > target:
            lo = mid
        else:
            hi = mid
    return np.exp((lo + hi) / 2)  # a numpy float64 scalar


def six_digits_temperature(logits, target):
    return float(f"{ref_temperature(logits, target):.6g}")  # rounded, but within 1e-4 in p


def tolerance_stop_temperature(logits, target):
    return loose_stop_temperature(logits, target, tol=1e-6)


RIGHT_TEMPERATURE_FOR = {
    "bisection on log T": ref_temperature,
    "bisection on T": linear_bisection,
    "while loop to a tolerance, course softmax": while_bisection,
    "bracket by doubling, then bisect": bracket_then_bisect,
    "the notebook's solution (a numpy scalar)": notebook_temperature,
    "T to 6 significant digits": six_digits_temperature,
    "stops within 1e-6 of the target": tolerance_stop_temperature,
    "float32 result": lambda logits, target: np.float32(ref_temperature(logits, target)),
}


@pytest.mark.parametrize("name", WRONG_TEMPERATURE_FOR)
def test_temperature_for_rejects(name):
    answer, message = WRONG_TEMPERATURE_FOR[name]
    rejects(ch04.check_temperature_for, answer, message)


@pytest.mark.parametrize("name", RIGHT_TEMPERATURE_FOR)
def test_temperature_for_accepts_on_every_draw(name):
    accepts(ch04.check_temperature_for, RIGHT_TEMPERATURE_FOR[name],
            right_draws(RIGHT_TEMPERATURE_FOR, name))


def test_temperature_for_grid_search_accepts():
    # 4,002 temperatures per case: a few draws are enough to show a vectorised search passes.
    accepts(ch04.check_temperature_for, grid_search, draws(5))


def test_temperature_cases_are_reachable_inside_the_stated_interval():
    for seed in range(100):
        for case in ch04.TEMPERATURE.draw(seed):
            z, target = case.args
            k = len(z)
            ties = int(np.sum(z == z.max()))
            assert k >= 2 and 1 / k < target < 1 / ties, case.label
            t = ref_temperature(z, target)
            # 1e-6: logits of 3e9 divided by T keep about 1e-7 of the top probability
            assert 1e-3 < t < 1e3 and abs(_top(z, t) - target) < 1e-6, case.label



def test_temperature_cases_cover_the_thresholds():
    """Both ends of the stated range, T below and above 1, targets on either side of the top
    probability at T = 1 by twice the tolerance (so T = 1 misses them), a tie, every dtype."""
    for seed in range(20):
        cases = ch04.TEMPERATURE.draw(seed)
        temps = [ref_temperature(*c.args) for c in cases]
        assert min(temps) < 1.1e-3 and max(temps) > 999.0
        near = [c for c in cases if "at T = 1" in c.label]
        assert len(near) == 2
        for case in near:
            z, target = case.args
            assert 1.5e-4 < abs(_top(z, 1.0) - target) < 2.5e-4
        assert {t < 1 for t, c in zip(temps, cases) if c in near} == {True, False}
        assert any(np.sum(c.args[0] == c.args[0].max()) == 2 for c in cases)
        assert {np.float64, np.float32, np.int64} <= {c.args[0].dtype.type for c in cases}


def test_temperature_pass_message_is_the_same_for_every_draw():
    first, second = (passes_once(ch04.check_temperature_for, ref_temperature, s) for s in (1, 2))
    assert first == second and first.startswith("\u2705")


def test_temperature_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_temperature_for(unfinished)


def test_temperature_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch04.TEMPERATURE, notebook_temperature, tmp_path / "r", monkeypatch).passed
    wrong = graded(ch04.TEMPERATURE, rounded_3_temperature, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "to within" in wrong.message


# =========================================================================== all exercises


@pytest.mark.parametrize("catalogue", [WRONG_STABLE_SOFTMAX, WRONG_CROSS_ENTROPY,
                                       WRONG_CROSS_ENTROPY_GRAD, WRONG_TEMPERATURE_FOR])
def test_each_exercise_has_many_wrong_answers(catalogue):
    assert len(catalogue) >= 20


def test_no_warning_reaches_the_student_from_a_check(recwarn):
    for check, answer in ((ch04.check_stable_softmax, naive_softmax),
                          (ch04.check_cross_entropy, naive_cross_entropy),
                          (ch04.check_cross_entropy_grad, naive_grad),
                          (ch04.check_temperature_for, naive_exp_temperature)):
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            with pytest.raises(ExerciseError):
                check(answer, seed=0)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_answer_keys_are_not_in_the_module():
    """Nothing the student's code could read holds an expected result: the module keeps no
    arrays or numbers computed from the cases, and a case carries inputs only."""
    for name, value in vars(ch04).items():
        assert not isinstance(value, np.ndarray), name
    for spec in (ch04.STABLE_SOFTMAX, ch04.CROSS_ENTROPY, ch04.CROSS_ENTROPY_GRAD,
                 ch04.TEMPERATURE):
        for case in spec.draw(0):
            assert set(case.note) <= {"mixed", "large", "tiny", "low", "ints", "spread",
                                      "tight", "negmax", "exact", "nearone", "small",
                                      "wide"}, \
                case.label
            assert all(isinstance(v, (bool, str)) for v in case.note.values()), case.label
            assert isinstance(case.note.get("ints", ""), str)  # the narrower types' names


# ----------------------------------------------------------------------------- issue 23,
# fourth reading: results kept, inputs written and put back, two classes, tiny values.


def _restored(fn):
    """Shifts its input in place, then puts it back before returning."""
    def answer(z, *args, **kwargs):
        keep = z.copy()
        z -= z.max(axis=-1, keepdims=True) if z.dtype.kind == "f" else 0
        out = fn(keep, *args, **kwargs)
        z[...] = keep
        return out
    return answer


def _by_content(fn):
    """Results kept by the input's bytes, handed back themselves."""
    kept = {}

    def answer(z, axis=-1):
        key = (np.asarray(z).tobytes(), np.shape(z), np.asarray(z).dtype.str, axis)
        if key not in kept:
            kept[key] = fn(z, axis)
        return kept[key]
    return answer


def two_class_sigmoid_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.ndim and z.shape[axis] == 2:
        a, b = np.split(z, 2, axis=axis)
        return np.concatenate([1 / (1 + np.exp(b - a)), 1 / (1 + np.exp(a - b))], axis=axis)
    return ref_softmax(z, axis)


def tiny_probabilities_zeroed(z, axis=-1):
    p = ref_softmax(z, axis)
    p[p < 1e-250] = 0.0
    return p


def last_axis_of_3d_taken_as_1(z, axis=-1):
    z = np.asarray(z)
    if z.ndim == 3 and axis in (2, -1):
        axis = 1
    return ref_softmax(z, axis)


def two_class_softplus_loss(logits, y):
    if logits.shape[1] == 2:
        rows = np.arange(len(y))
        d = logits[rows, 1 - y] - logits[rows, y]
        return float(np.log1p(np.exp(d)).mean())
    return ref_cross_entropy(logits, y)


WRONG_STABLE_SOFTMAX.update({
    "shifts z in place and puts it back": (_restored(ref_softmax), r"modified its input `z`"),
    "two output buffers, used in turn": (ring_of(ref_softmax, 2),
                                         KEPT + r"|same memory|no longer holds"),
    "a ring of 16 output buffers": (ring_of(ref_softmax, 16), KEPT),
    "a ring of 48 output buffers": (ring_of(ref_softmax, 48), KEPT),
    "results kept by the input's bytes": (_by_content(ref_softmax),
                                          r"same memory|an array of its own|no longer holds|"
                                          r"keeps the array|shares memory|overwrites"),
    "the sigmoid's two-class form without a shift": (
        two_class_sigmoid_softmax, r"numpy warned|overflow|differs"),
    "probabilities below 1e-250 set to 0": (tiny_probabilities_zeroed,
                                            r"1e-300|differs from the answer|"
                                            r"tiny probability set to 0"),
    "axis 1 for the last axis of a 3-D array": (last_axis_of_3d_taken_as_1,
                                                r"instead of axis (2|-1)"),
})

WRONG_CROSS_ENTROPY.update({
    "shifts the logits in place and puts them back": (_restored(ref_cross_entropy),
                                                      r"modified its input `logits`"),
    "log(1 + exp(d)) for two classes, without a shift": (
        two_class_softplus_loss, r"two classes.*gave inf|overflow|numpy warned"),
})

WRONG_CROSS_ENTROPY_GRAD.update({
    "shifts the logits in place and puts them back": (_restored(ref_grad),
                                                      r"modified its input `logits`"),
    "two output buffers, used in turn": (ring_of(ref_grad, 2),
                                         KEPT + r"|same memory|no longer holds"),
    "a ring of 16 output buffers": (ring_of(ref_grad, 16), KEPT),
    "a ring of 48 output buffers": (ring_of(ref_grad, 48), KEPT),
})


# ----------------------------------------------------------------------------- issue 23,
# fifth round: what the fourth reading still got through (caches keyed on a summary of the
# input, a shift by an end or by the first logit, a bisection on T itself).


def _kept_by(summary):
    """A wrong answer that keeps its results by ``summary(z)`` and its other arguments, handed
    back as a fresh copy: right until two inputs share the summary."""
    def wrap(fn):
        kept = {}

        def answer(z, *rest, **kwargs):
            key = (summary(np.asarray(z)), tuple(np.asarray(r).tobytes() for r in rest),
                   tuple((k, np.asarray(v).tobytes()) for k, v in sorted(kwargs.items())))
            if key not in kept:
                kept[key] = fn(z, *rest, **kwargs)
            value = kept[key]
            return value.copy() if isinstance(value, np.ndarray) else value
        return answer
    return wrap


def _ends_and_sum(a):
    return (a.shape, a.dtype.str, a.size and float(a.flat[0]), a.size and float(a.flat[-1]),
            float(a.sum(dtype=np.float64)) if a.size else 0.0)


def _extremes_and_sum(a):
    return (a.shape, a.dtype.str, float(a.max()) if a.size else 0.0,
            float(a.min()) if a.size else 0.0, float(a.sum(dtype=np.float64)) if a.size else 0.0)


def end_max_softmax(z, axis=-1):
    """Shifted by the larger of each slice's first and last values, not its maximum."""
    z = np.asarray(z, dtype=np.result_type(z, np.float64) if np.asarray(z).dtype.kind in "iu"
                   else np.asarray(z).dtype)
    first = np.take(z, [0], axis=axis)
    last = np.take(z, [-1], axis=axis)
    e = np.exp(z - np.maximum(first, last))
    return e / e.sum(axis=axis, keepdims=True)


def first_logit_temperature(logits, target):
    z = np.asarray(logits, dtype=float)

    def top(t):
        e = np.exp((z - z[0]) / t)  # shifted by the first logit, not the largest
        return float(e.max() / e.sum())
    return bisect(top, target)


def linear_bisection_temperature(logits, target):
    lo, hi = 1e-3, 1e3
    for _ in range(30):  # on T itself: its last steps are 1e3 / 2^30, about 9e-7
        mid = (lo + hi) / 2
        if _top(logits, mid) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


WRONG_STABLE_SOFTMAX.update({
    "results kept by shape, first and last values and sum": (
        _kept_by(_ends_and_sum)(ref_softmax), r"two values swapped|two inner values of one "
                                       r"array swapped|differs from the answer|no longer holds"),
    "shifted by the larger end of each slice": (end_max_softmax,
                                                r"800, is neither|overflow|numpy warned"),
})

WRONG_CROSS_ENTROPY["results kept by shape, first and last logits and sum"] = (
    _kept_by(_ends_and_sum)(ref_cross_entropy), r"two samples swapped|differs")
WRONG_CROSS_ENTROPY_GRAD["results kept by shape, first and last logits and sum"] = (
    _kept_by(_ends_and_sum)(ref_grad), r"two samples swapped|differs|no longer holds")

WRONG_TEMPERATURE_FOR.update({
    "T kept by the logits' sum and the target": (
        _kept_by(lambda a: float(a.sum()))(ref_temperature), r"\[2, 0\.2, 0\.9\]"),
    "the probabilities shifted by the first logit": (first_logit_temperature,
                                                     r"800 below|overflow|warned"),
    "a bisection on T itself, 30 steps": (linear_bisection_temperature,
                                          r"returned T = .*not 0\.\d+ \(to within"),
})


# Fifth reading (round 5): summaries with the max, the textbook loss below exp's limit, a
# shift by the ends in the temperature search.


def textbook_loss_below_700(logits, y):
    z = np.asarray(logits, dtype=float)
    if np.all(np.abs(z) < 700):
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return float(-np.log(p[np.arange(len(y)), y]).mean())
    return ref_cross_entropy(logits, y)


def end_shift_temperature(logits, target):
    z = np.asarray(logits, dtype=float)

    def top(t):
        e = np.exp((z - max(z[0], z[-1])) / t)
        return float(e.max() / e.sum())
    return bisect(top, target)


WRONG_STABLE_SOFTMAX["results kept by shape, max, min and sum"] = (
    _kept_by(_extremes_and_sum)(ref_softmax),
    r"differs from the answer|no longer holds|same memory|the answer is|keeps the array")
WRONG_CROSS_ENTROPY["results kept by shape, max, min and sum"] = (
    _kept_by(_extremes_and_sum)(ref_cross_entropy), r"differs|two samples swapped")
WRONG_CROSS_ENTROPY["the textbook formula while every |logit| is below 700"] = (
    textbook_loss_below_700, r"400, 0, -400|gave inf|overflow|numpy warned|differs")
WRONG_TEMPERATURE_FOR["the probabilities shifted by the larger end"] = (
    end_shift_temperature, r"800|overflow|warned")


def apply_along_unless_2d_softmax(z, axis=-1):
    """Vectorised on 2-D input (the work and timed cases), a loop over slices otherwise."""
    z = _as_float(np.asarray(z))
    if z.ndim == 2:
        return ref_softmax(z, axis)
    return np.apply_along_axis(lambda v: ref_softmax(v), axis, z)


def vectorize_on_3d_softmax(z, axis=-1):
    z = np.asarray(z)
    w = _as_float(z)
    if z.ndim != 3:
        return ref_softmax(w, axis)
    m = np.max(w, axis=axis, keepdims=True)
    e = np.vectorize(math.exp, otypes=[float])(w - m)
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.result_type(z, np.float64)
                                                       if z.dtype.kind in "iu" else z.dtype)


WRONG_STABLE_SOFTMAX.update({
    "np.apply_along_axis on 1-D and 3-D input": (apply_along_unless_2d_softmax,
                                                 r"numpy\.apply_along_axis` on .*loop in "
                                                 r"disguise"),
    "np.vectorize on 3-D input": (vectorize_on_3d_softmax, r"numpy\.frompyfunc` on .*loop in "
                                                           r"disguise|differs|float16"),
})


# Sixth reading (round 6): a copy only when the input is read-only, the top class at index 0,
# a cache keyed on the target, max and min.


def copies_only_when_read_only_softmax(z, axis=-1):
    z = np.require(z, requirements="W")  # the caller's own array whenever it is writeable
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    z -= z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


def copies_only_when_read_only_loss(logits, y):
    z = np.require(logits, requirements="W")
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def class0_shift_temperature(logits, target):
    z = np.asarray(logits, dtype=float)

    def top(t):
        e = np.exp((z - z[0]) / t)
        return float(e[0] / e.sum())  # class 0's probability, not the top class's
    return bisect(top, target)


WRONG_STABLE_SOFTMAX["a copy only when the input is read-only, in place otherwise"] = (
    copies_only_when_read_only_softmax, r"modified its input|in place")
WRONG_CROSS_ENTROPY["a copy only when the input is read-only, in place otherwise"] = (
    copies_only_when_read_only_loss, r"modified its input|in place")
WRONG_TEMPERATURE_FOR.update({
    "class 0's probability, shifted by logits[0]": (class0_shift_temperature,
                                                     r"class 0|returned T|overflow|warned"),
    "T kept by the logits' max and min and the target": (
        _kept_by(lambda a: (float(a.max()), float(a.min())))(ref_temperature),
        r"\[2, 0\.1, 0\.1\]|returned T"),
    "T kept by the two largest logits and the target": (
        _kept_by(lambda a: tuple(np.sort(a.ravel())[-2:].tolist()))(ref_temperature),
        r"\[2, 1, 0\.\d+\]|returned T"),
    "T kept by the ends, max, min and the target": (
        _kept_by(lambda a: (float(a.flat[0]), float(a.flat[-1]), float(a.max()),
                            float(a.min())))(ref_temperature),
        r"\[2, 0\.\d+, 0\.1\]|returned T"),
})



# ---------------------------------------------------------------- round 9 (gated answers)
def _as_float(z):
    z = np.asarray(z)
    return z if z.dtype.kind == "f" else z.astype(float)


def softmax_row_loop(z, axis=-1):
    """Right values, one slice at a time in a Python loop."""
    z = _as_float(z)
    moved = np.moveaxis(z, axis, -1)
    out = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):
        out[index] = ref_softmax(moved[index])
    return np.moveaxis(out, -1, axis)


def cross_entropy_row_loop(logits, y):
    z = _as_float(logits)
    return float(np.mean([ref_cross_entropy(z[i:i + 1], y[i:i + 1]) for i in range(len(y))]))


def grad_row_loop(logits, y):
    z = _as_float(logits)
    return np.concatenate([ref_grad(z[i:i + 1], y[i:i + 1]) for i in range(len(y))]) / len(y)


def _softmax_right(z, axis=-1):
    return ref_softmax(_as_float(z), axis)


def _cross_entropy_right(logits, y):
    return float(ref_cross_entropy(_as_float(logits), y))


def _grad_right(logits, y):
    return ref_grad(_as_float(logits), y)


def _kind(dtype_kind=None, ndim=None):
    def test(z):
        z = np.asarray(z)
        return z.size > 0 and (dtype_kind is None or z.dtype.kind == dtype_kind or
                               str(z.dtype) == dtype_kind) and (ndim is None or z.ndim == ndim)
    return test


def sampled_max_softmax(z, axis=-1):
    """The maximum over every 64th class and the last one, on long axes (round 6)."""
    z = _as_float(z)
    if z.ndim and z.shape[axis] > 1000:
        moved = np.moveaxis(z, axis, -1)
        m = np.maximum(moved[..., ::64].max(-1, keepdims=True), moved[..., -1:])
        e = np.exp(moved - m)
        return np.moveaxis(e / e.sum(-1, keepdims=True), -1, axis)
    return ref_softmax(z, axis)


def in_place_on_large_rows(z, axis=-1):
    """Works in the caller's array when it is long and writeable (to save memory)."""
    z = np.asarray(z)
    if z.dtype.kind == "f" and z.size >= 100_000 and z.flags.writeable:
        z -= z.max(axis=axis, keepdims=True)
        return ref_softmax(z, axis)
    return _softmax_right(z, axis)


def log_with_a_constant(eps):
    def answer(logits, y):
        z = _as_float(logits)
        m = z.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1) + eps)
        return float(np.mean(lse - z[np.arange(len(y)), y]))
    return answer


def temperature_shifting_long_logits(logits, target):
    z = np.asarray(logits)
    if z.dtype == np.float64 and z.size >= 1000 and z.flags.writeable:
        z -= z.max()
    return ref_temperature(z, target)


WRONG_STABLE_SOFTMAX.update({
    "a loop over the slices for float32": (
        only_when(_kind("float32", 2), softmax_row_loop, _softmax_right), r"runs a Python loop"),
    "a loop over the slices for integer logits": (
        only_when(_kind("i", 2), softmax_row_loop, _softmax_right), r"runs a Python loop"),
    "a loop over the slices for 3-D logits": (
        only_when(_kind(ndim=3), softmax_row_loop, _softmax_right), r"runs a Python loop"),
    "a sum-keyed cache for integer logits": (
        only_when(_kind("i"), kept_by(sum_of)(_softmax_right), _softmax_right),
        r"two inner values|gave|differs|sum"),
    "a maximum over every 64th class on long axes": (
        sampled_max_softmax, r"overflow|class \d+ has a logit"),
    "in place on long writeable logits": (in_place_on_large_rows,
                                          r"modified its input `z` in place"),
})
def _gated_batch_answers(loop, right) -> dict:
    """Ex2's and Ex3's mistakes kept for some batches only: a loop over the samples for
    integer or float32 logits, a sum-keyed cache for batches of 10+ samples."""
    return {
        "a loop over the samples for integer logits": (
            only_when(_kind("i", 2), loop, right), r"runs a Python loop"),
        "a loop over the samples for float32 logits": (
            only_when(_kind("float32", 2), loop, right), r"runs a Python loop"),
        "a sum-keyed cache for batches of 10+ samples": (
            only_when(lambda z: len(z) >= 10, kept_by(sum_of)(right), right),
            r"two inner values|returned|differs|runs a Python loop"),
    }


WRONG_CROSS_ENTROPY.update({
    **_gated_batch_answers(cross_entropy_row_loop, _cross_entropy_right),
    "1e-15 added inside the logarithm": (log_with_a_constant(1e-15),
                                         r"label's logit 0, the others"),
    "3e-14 added inside the logarithm": (log_with_a_constant(3e-14),
                                         r"label's logit (0|30)"),
})
WRONG_CROSS_ENTROPY_GRAD.update(_gated_batch_answers(grad_row_loop, _grad_right))
WRONG_TEMPERATURE_FOR["shifts long writeable logits in place"] = (
    temperature_shifting_long_logits, r"modified its input `logits` in place")


# =========================================================================== Eleventh reading
# A newcomer's accepted answers: a shift by the minimum when every logit is negative (all four
# exercises), float16 without a shift computed in float32, an empty float32 batch returned as
# float64, constants at the tolerance (1e-14 in a sum, exponents clipped at -700, 1e-18 or
# 1e-15 added to the gradient), float32 arithmetic above 200,000 or 500,000 values, labels cast
# to 8-bit integers; and a check that crashed (an n x n table on 100,000 samples).


def _bring_up(z, axis):
    """The shift of a slice: its maximum, but its minimum when every logit is negative."""
    m = z.max(axis=axis, keepdims=True)
    return np.where(m < 0, z.min(axis=axis, keepdims=True), m)


def min_shift_when_negative_softmax(z, axis=-1):
    z = _as_float(z)
    if z.size == 0:
        return z.copy()
    e = np.exp(z - _bring_up(z, axis))
    return e / e.sum(axis=axis, keepdims=True)


def float16_unshifted_in_float32_softmax(z, axis=-1):
    if z.dtype == np.float16:
        e = np.exp(z.astype(np.float32))
        return (e / e.sum(axis=axis, keepdims=True)).astype(np.float16)
    return ref_softmax(z, axis)


def empty_as_float64_softmax(z, axis=-1):
    if z.size == 0:
        return np.zeros(z.shape)
    return ref_softmax(z, axis)


def sum_plus_1e14_softmax(z, axis=-1):
    z = _as_float(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / (e.sum(axis=axis, keepdims=True) + 1e-14)


def clipped_exponent_softmax(floor):
    def answer(z, axis=-1):
        z = _as_float(z)
        d = np.maximum(z - z.max(axis=axis, keepdims=True), np.asarray(floor, z.dtype))
        e = np.exp(d)
        return e / e.sum(axis=axis, keepdims=True)
    return answer


def float32_above_500k_softmax(z, axis=-1):
    w = _as_float(z)
    if w.size > 500_000:
        w = w.astype(np.float32)
    e = np.exp(w - w.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def float16_shifted_in_float32_softmax(z, axis=-1):
    """float16 logits shifted and computed in float32, cast back: right."""
    if z.dtype != np.float16:
        return ref_softmax(_as_float(z), axis)
    w = z.astype(np.float32)
    e = np.exp(w - w.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float16)


WRONG_STABLE_SOFTMAX.update({
    "a shift by the minimum when every logit of a slice is negative": (
        min_shift_when_negative_softmax,
        r"(?s)largest logit is negative.*every logit of this slice is negative.*whatever its "
        r"sign"),
    "float16 without a shift, computed in float32": (
        float16_unshifted_in_float32_softmax,
        r"(?s)gave \[nan.*float16 logits near .*beyond float32's exp limit"),
    "an empty float32 batch returned as float64": (
        empty_as_float64_softmax, r"(?s)returned float64; for float32 logits.*empty float32"),
    "1e-14 added to the sum": (sum_plus_1e14_softmax,
                               r"(?s)exactly \[0\.5, 0\.5\].*constant added to the sum"),
    "exponents clipped at -700": (clipped_exponent_softmax(-700.0),
                                  r"(?s)far below the others came out larger.*clipped"),
    "exponents clipped at -100": (clipped_exponent_softmax(-100.0),
                                  r"(?s)far below the others came out larger.*clipped"),
    "float32 arithmetic above 500,000 values": (
        float32_above_500k_softmax, r"(?s)returned float32; for float64 logits.*600,000 "
                                    r"classes"),
})
RIGHT_STABLE_SOFTMAX["float16 shifted in float32, cast back"] = float16_shifted_in_float32_softmax


def min_shift_when_negative_cross_entropy(logits, y):
    z = np.asarray(logits, dtype=float)
    d = z - _bring_up(z, 1)
    log_p = d - np.log(np.exp(d).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def float32_above_200k_cross_entropy(logits, y):
    z = np.asarray(logits).astype(np.float32 if np.size(logits) > 200_000 else np.float64)
    d = z - z.max(axis=1, keepdims=True)
    log_p = d - np.log(np.exp(d).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def every_tenth_sample_when_large_cross_entropy(logits, y):
    """Right but on more than 50,000 samples, where it averages every 10th: the check's
    diagnosis of the wrong value must not build an n x n table (it raised MemoryError)."""
    logits = _as_float(logits)
    if len(y) > 50_000:
        return ref_cross_entropy(logits[::10], y[::10])
    return ref_cross_entropy(logits, y)


def labels_cast_cross_entropy(dtype):
    def answer(logits, y):
        return ref_cross_entropy(_as_float(logits), np.asarray(y).astype(dtype))
    return answer


def float32_kept_cross_entropy(logits, y):
    """float32 logits computed in float32 (integers in float64): allowed."""
    z = logits if logits.dtype == np.float32 else logits.astype(np.float64)
    d = z - z.max(axis=1, keepdims=True)
    log_p = d - np.log(np.exp(d).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


WRONG_CROSS_ENTROPY.update({
    "a shift by the minimum when every logit of a row is negative": (
        min_shift_when_negative_cross_entropy,
        r"(?s)gave inf.*largest logit is negative.*whatever its sign"),
    "float32 arithmetic above 200,000 logits": (
        float32_above_200k_cross_entropy,
        r"(?s)shape \(100000, 3\).*right to about \d+ decimals only"),
    "every 10th sample on 100,000 samples (the diagnosis must not crash)": (
        every_tenth_sample_when_large_cross_entropy, r"shape \(100000, 3\)"),
    "labels cast to uint8": (labels_cast_cross_entropy(np.uint8),
                             r"labels cast to uint8, which wraps the labels above 255"),
    "labels cast to int8": (labels_cast_cross_entropy(np.int8),
                            r"labels cast to int8, which wraps the labels above 127"),
    "1e-15 added inside the log: named": (log_with_a_constant(1e-15),
                                         r"constant added inside the logarithm"),
})
RIGHT_CROSS_ENTROPY["float32 kept for float32 logits"] = float32_kept_cross_entropy


def min_shift_when_negative_grad(logits, y):
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - _bring_up(z, 1))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return p / len(y)


def plus_1e18_grad(logits, y):
    return ref_grad(logits, y) + 1e-18


def smoothed_p_grad(logits, y):
    p = softmax(np.asarray(logits, dtype=float), axis=1)
    n, k = p.shape
    p = (p + 1e-15) / (1.0 + k * 1e-15)
    return (p - _onehot(y, k)) / n


def clipped_exponent_grad(logits, y):
    z = np.asarray(logits, dtype=float)
    e = np.exp(np.maximum(z - z.max(axis=1, keepdims=True), -700.0))
    return (e / e.sum(axis=1, keepdims=True) - _onehot(y, z.shape[1])) / len(y)


def labels_cast_grad(dtype):
    def answer(logits, y):
        return ref_grad(logits, np.asarray(y).astype(dtype))
    return answer


WRONG_CROSS_ENTROPY_GRAD.update({
    "a shift by the minimum when every logit of a row is negative": (
        min_shift_when_negative_grad,
        r"(?s)gave \[\[.*nan.*every logit of this row is negative.*whatever its sign"),
    "1e-18 added to every entry": (plus_1e18_grad, r"small constant added"),
    "p smoothed by 1e-15": (smoothed_p_grad, r"small constant added"),
    "exponents clipped at -700": (clipped_exponent_grad, r"(?s)exact zeros.*clipped"),
    "labels cast to uint8": (labels_cast_grad(np.uint8),
                             r"labels cast to uint8, which wraps the labels above 255"),
    "labels cast to int8": (labels_cast_grad(np.int8),
                            r"labels cast to int8, which wraps the labels above 127"),
})


def min_shift_when_negative_temperature(logits, target):
    def top(t):
        d = np.asarray(logits, dtype=float) / t
        m = d.max()
        e = np.exp(d - (d.min() if m < 0 else m))
        return (e / e.sum()).max()
    return bisect(top, target)


def float32_kept_temperature(logits, target):
    """float32 logits kept in float32 (integers in float64): the rounding of float32 is
    allowed for float32 logits."""
    z = logits if logits.dtype == np.float32 else logits.astype(np.float64)

    def top(t):
        d = z / z.dtype.type(t)
        e = np.exp(d - d.max())
        return (e / e.sum()).max()
    return bisect(top, target)


def course_softmax_temperature(logits, target):
    """The route the text suggests: softmax(logits / T) from the setup cell (float32 stays
    float32)."""
    return bisect(lambda t: softmax(logits / t).max(), target)


WRONG_TEMPERATURE_FOR["a shift by the minimum when every logit is negative"] = (
    min_shift_when_negative_temperature,
    r"(?s)overflow.*every logit here is negative.*subtracts the largest logit")
RIGHT_TEMPERATURE_FOR.update({
    "float32 kept for float32 logits": float32_kept_temperature,
    "softmax(logits / T) from the setup cell": course_softmax_temperature,
})


def test_table_diagnosis_has_no_n_by_n_array():
    """The "every row at every label" diagnosis, per row: equal to the n x n table's mean on a
    small batch, and cheap on 100,000 samples (the table would take 80 GB)."""
    rng = np.random.default_rng(4)
    logits, y = rng.normal(0.0, 2.0, (7, 5)), rng.integers(0, 5, 7)
    table = -_lsm(logits)[:, y].mean()
    assert ch04._table_loss(logits, y) == pytest.approx(table, rel=1e-12)
    big = rng.normal(0.0, 2.0, (100_000, 2))
    assert math.isfinite(ch04._table_loss(big, rng.integers(0, 2, 100_000)))
    with pytest.raises(ExerciseError, match=r"shape \(100000, 3\)"):
        ch04.check_cross_entropy(every_tenth_sample_when_large_cross_entropy, seed=0)


def test_float32_tolerance_of_the_temperature():
    """float32 logits: 1e-4 plus what float32 rounds at that T; float64 and integers: 1e-4."""
    z32 = np.array([1000.0, 999.98, 999.9, 999.0], np.float32)
    p = ch04._top_probability(z32, 0.0144)
    step = float(np.spacing(np.float32(1000.0 / 0.0144)))   # 2^-7 near 69,444
    assert ch04._temperature_tolerance(z32, 0.0144) == pytest.approx(
        1e-4 + 1.25 * p * (1 - p) * step + 8 * float(np.finfo(np.float32).eps))
    assert ch04._temperature_tolerance(z32, 0.0144) < 2.5e-3
    assert ch04._temperature_tolerance(z32.astype(float), 0.0144) == 1e-4
    assert ch04._temperature_tolerance(np.array([3, 1, 0]), 0.5) == 1e-4


# --------------------------------------------------------------------------------------
# Round 12 (newcomer): tolerances that grew with the logits, tiny values flushed, layouts
# --------------------------------------------------------------------------------------

LAID_OUT = r"handed over (as strided views|in Fortran order)"
ADDED_BACK = r"lse = m \+ log\(sum exp\(z - m\)\)"


def _as64(z):
    return z.astype(np.float64) if z.dtype.kind in "iu" else z


def _int_billions(z) -> bool:
    return z.dtype.kind in "iu" and z.size > 0 and float(np.abs(z).max()) > 1e8


def _float32_of_int_shift(z, axis):
    """Integer logits shifted in int64 (exact), then exp and the sum in float32."""
    d = (z - z.max(axis=axis, keepdims=True)).astype(np.float32)
    e = np.exp(d)
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float64)


def float16_uniform_on_nonzero_softmax(z, axis=-1):
    """float16 logits of |z| >= 100: the same share for every non-zero probability."""
    p = ref_softmax(z, axis)
    if z.dtype == np.float16 and z.size and float(np.abs(z).max()) >= 100:
        nonzero = p > 0
        return np.where(nonzero, 1.0 / nonzero.sum(axis=axis, keepdims=True),
                        0.0).astype(np.float16)
    return p


def _far(z, dtype, beyond: float) -> bool:
    """``z`` is of ``dtype`` and (for ``beyond`` > 0) holds a logit of at least ``beyond``
    in size."""
    return z.dtype == dtype and (beyond <= 0 or bool(z.size and np.abs(z).max() >= beyond))


def scaled_softmax(dtype, factor: float, beyond: float = 0.0):
    """A wrong answer: the probabilities times ``factor`` for ``dtype`` logits (of at least
    ``beyond`` in size, when given), in that dtype; right otherwise."""
    dtype = np.dtype(dtype)

    def answer(z, axis=-1):
        p = ref_softmax(z, axis)
        return (p * dtype.type(factor)).astype(dtype) if _far(z, dtype, beyond) else p
    return answer


def int64_billions_in_float32_softmax(z, axis=-1):
    if _int_billions(z):
        return _float32_of_int_shift(z, axis)
    return ref_softmax(_as64(z), axis)


def flushed_below_softmax(z, axis=-1):
    p = ref_softmax(_as64(z), axis).copy()
    p[p < 1e-300] = 0
    return p


def non_contiguous_softmax(z, axis=-1):
    p = ref_softmax(_as64(z), axis)
    return p if z.flags.c_contiguous else p * 1.01


def axis_minus_3_as_1_softmax(z, axis=-1):
    return ref_softmax(_as64(z), 1 if (z.ndim == 3 and axis == -3) else axis)


def exp2_softmax(z, axis=-1):
    """Right: 2 ** (d log2 e) for the shifted logits d."""
    w = _as64(z)
    d = w - w.max(axis=axis, keepdims=True)
    e = np.exp2(d * w.dtype.type(np.log2(np.e)))
    return e / e.sum(axis=axis, keepdims=True)


WRONG_STABLE_SOFTMAX.update({
    "float16 |z| >= 100: uniform over the non-zero entries": (
        float16_uniform_on_nonzero_softmax, r"(?s)differs from the answer.*float16 logits near"),
    "float16 |z| >= 100: p * 50": (scaled_softmax(np.float16, 50, 100), r"sum to \S+, not 1"),
    "float16: p * 1.003": (scaled_softmax(np.float16, 1.003),
                           r"(?s)right to about \d decimals only.*float16 keeps"),
    "float16: p * 1.01": (scaled_softmax(np.float16, 1.01),
                          r"sum to \S+, not 1|right to about \d decimals only"),
    "float32 |z| >= 1000: p * 1.005": (scaled_softmax(np.float32, 1.005, 1000),
                                       r"sum to .*, not 1"),
    "int64 logits in the billions: shifted in int64, then float32": (
        int64_billions_in_float32_softmax,
        r"(?s)right to about [5-8] decimals only.*int64\) near \+-3e9.*float32 arithmetic"),
    "probabilities below 1e-300 set to 0": (flushed_below_softmax,
                                            r"a tiny probability set to 0"),
    "wrong (p * 1.01) on non-contiguous arrays": (non_contiguous_softmax, LAID_OUT),
    "axis=-3 taken as axis 1": (axis_minus_3_as_1_softmax,
                                r"normalised along axis 1 instead of axis -3"),
    "float64 |z| >= 5000: p * (1 + 1e-11)": (scaled_softmax(np.float64, 1 + 1e-11, 5000),
                                             r"right to about 1[01] decimals only"),
    "m + log(sum) added back on integer and float16 logits": (plain_added_back_softmax,
                                                               ADDED_BACK),
    "np.logaddexp.reduce on integer and float16 logits": (plain_logaddexp_softmax, ADDED_BACK),
})
RIGHT_STABLE_SOFTMAX["exp2 of the shifted logits times log2(e)"] = exp2_softmax


def int64_billions_in_float32_cross_entropy(logits, y):
    if _int_billions(logits):
        log_p = np.log(_float32_of_int_shift(logits, 1).astype(np.float32))
        return float(-log_p[np.arange(len(y)), y].astype(np.float64).mean())
    return ref_cross_entropy(logits, y)


def int64_billions_plus_cross_entropy(logits, y):
    return ref_cross_entropy(logits, y) + (1e-6 if _int_billions(logits) else 0.0)


def non_contiguous_cross_entropy(logits, y):
    loss = ref_cross_entropy(logits, y)
    return loss if logits.flags.c_contiguous else loss * 1.01


def far_added_cross_entropy(dtype, beyond: float, amount):
    """A wrong answer: the loss plus ``amount(max |logit|)`` for ``dtype`` logits of at least
    ``beyond`` in size; right otherwise."""
    dtype = np.dtype(dtype)

    def answer(logits, y):
        loss = ref_cross_entropy(logits, y)
        far = _far(logits, dtype, beyond)
        return loss + amount(float(np.abs(logits).max())) if far else loss
    return answer


WRONG_CROSS_ENTROPY.update({
    "int64 logits in the billions: shifted in int64, then float32": (
        int64_billions_in_float32_cross_entropy,
        r"(?s)right to about [4-8] decimals only.*int64\) near \+-3e9"),
    "int64 logits in the billions: 1e-6 added": (
        int64_billions_plus_cross_entropy,
        r"(?s)right to about [4-7] decimals only.*int64\) near \+-3e9"),
    "wrong (x 1.01) on non-contiguous arrays": (non_contiguous_cross_entropy, LAID_OUT),
    "float32 |L| > 50: 0.5e-6 (1 + max|L|) added": (
        far_added_cross_entropy(np.float32, 50, lambda big: 0.5e-6 * (1 + big)),
        r"right to about \d decimals only"),
    "float64 |L| >= 5000: 1e-11 added": (
        far_added_cross_entropy(np.float64, 5000, lambda big: 1e-11),
        r"right to about 1[01] decimals only"),
    "lse = m + log(sum), then lse - z_y, on integer logits": (plain_expanded_cross_entropy,
                                                              ADDED_BACK),
    "np.logaddexp.reduce on integer logits": (plain_logaddexp_cross_entropy, ADDED_BACK),
})


def int64_billions_in_float32_grad(logits, y):
    if _int_billions(logits):
        return (_float32_of_int_shift(logits, 1) - _onehot(y, logits.shape[1])) / len(y)
    return ref_grad(logits, y)


def flushed_grad(threshold):
    def answer(logits, y):
        g = ref_grad(logits, y).copy()
        g[np.abs(g) < threshold] = 0
        return g
    return answer


def non_contiguous_grad(logits, y):
    g = ref_grad(logits, y)
    return g if logits.flags.c_contiguous else g * 1.01


def far_added_grad(dtype, beyond: float, amount):
    """A wrong answer: every entry plus ``amount(max |logit|) / n`` (in ``dtype``) for
    ``dtype`` logits of at least ``beyond`` in size; right otherwise."""
    dtype = np.dtype(dtype)

    def answer(logits, y):
        g = ref_grad(logits, y)
        if not _far(logits, dtype, beyond):
            return g
        return (g + dtype.type(amount(float(np.abs(logits).max())) / len(y))).astype(dtype)
    return answer


def k_from_labels_when_all_there_grad(logits, y):
    """Right (round 12): k from the labels when the largest label is k - 1, else from the
    logits: a branch on the data, no loop."""
    if np.max(y) + 1 == np.shape(logits)[1]:
        p = softmax(logits, axis=1)
        return (p - np.eye(int(np.max(y)) + 1)[y][:, :np.shape(logits)[1]]) / len(y)
    return ref_grad(logits, y) * 1.0


def fortran_result_grad(logits, y):
    """Right: the gradient handed back in Fortran order."""
    return np.asfortranarray(ref_grad(logits, y))


WRONG_CROSS_ENTROPY_GRAD.update({
    "int64 logits in the billions: shifted in int64, then float32": (
        int64_billions_in_float32_grad,
        r"(?s)right to about [5-9] decimals only.*int64\) near \+-3e9"),
    **{f"entries below {t:g} set to 0": (flushed_grad(t), r"a tiny gradient entry set to 0")
       for t in (1e-30, 1e-100, 1e-200, 1e-300)},
    "wrong (x 1.01) on non-contiguous arrays": (non_contiguous_grad, LAID_OUT),
    "float32 |L| >= 500: half the old allowance added": (
        far_added_grad(np.float32, 500, lambda big: 0.5 * 8 * np.finfo(np.float32).eps * big),
        r"right to about \d decimals only"),
    "float64 |L| >= 5000: 1e-11 / n added": (
        far_added_grad(np.float64, 5000, lambda big: 1e-11),
        r"right to about 1[0-2] decimals only|small constant added"),
    "p = exp(z - (m + log sum)) on integer logits": (plain_added_back_grad, ADDED_BACK),
})
RIGHT_CROSS_ENTROPY_GRAD.update({
    "k from the labels when the largest is k - 1 (a branch, no loop)":
        k_from_labels_when_all_there_grad,
    "the gradient in Fortran order": fortran_result_grad,
})


def non_contiguous_temperature(logits, target):
    return ref_temperature(logits, target) if logits.flags.c_contiguous else 1.0


def int32_through_float16_temperature(logits, target):
    z = logits.astype(np.float16) if logits.dtype == np.int32 else logits
    return ref_temperature(z, target)


def float32_far_aimed_off_temperature(logits, target):
    """float32 logits of |L| >= 100: the T of target + 1e-2 (float64 arithmetic)."""
    if logits.dtype == np.float32 and float(np.abs(logits).max()) >= 100:
        return ref_temperature(logits.astype(np.float64), target + 1e-2)
    return ref_temperature(logits, target)


WRONG_TEMPERATURE_FOR.update({
    "1.0 on non-contiguous arrays": (non_contiguous_temperature, LAID_OUT),
    "int32 logits through float16": (int32_through_float16_temperature,
                                     r"(?s)at that T the top class gets p = .*int32\) near"),
    "float32 logits near 1000: aimed 1e-2 off": (float32_far_aimed_off_temperature,
                                                 r"what the task allows for float32 logits"),
})


# Round 14 (the thirteenth reading): probabilities near 1 rounded to 1 (a small loss set to 0)
# in every dtype, a shift by the array's maximum when the slices' maxima are close, targets
# near both ends of what T in [1e-3, 1e3] reaches.
def top_to_one_softmax(kind: str, limit: float):
    """A wrong answer: for logits of ``kind`` (a dtype name, or "int"), every probability
    above ``limit`` set to exactly 1."""
    def answer(z, axis=-1):
        p = ref_softmax(_as64(z), axis).astype(z.dtype if z.dtype.kind == "f" else np.float64)
        if (kind == "int" and z.dtype.kind in "iu") or z.dtype == kind:
            return np.where(p > p.dtype.type(limit), p.dtype.type(1), p).astype(p.dtype)
        return p
    return answer


def global_max_when_close_softmax(z, axis=-1):
    """The reader's: the array's maximum as the shift when the slices' maxima are within 600
    of each other (each slice's own otherwise)."""
    w = _as64(z)
    m = w.max(axis=axis, keepdims=True) if w.size else w
    if w.size and np.ptp(m) < 600:
        m = w.max()
    e = np.exp(w - m)
    return e / e.sum(axis=axis, keepdims=True)


def _losses(logits, y):
    w = _as64(logits)
    return -_lsm(w)[np.arange(len(y)), y]


def losses_changed_cross_entropy(kind: str, low: float, high: float, factor: float):
    """A wrong answer: for logits of ``kind`` (a dtype name, or "int"), each per-sample loss
    in (low, high) times ``factor`` (0: dropped)."""
    def answer(logits, y):
        losses = _losses(logits, y)
        if (kind == "int" and logits.dtype.kind in "iu") or logits.dtype == kind:
            losses = np.where((losses > low) & (losses < high), losses * factor, losses)
        return float(losses.mean())
    return answer


def label_near_one_dropped_cross_entropy(logits, y):
    """The reader's: float32 logits, a sample whose label's probability is above 0.999
    contributes 0."""
    losses = _losses(logits, y)
    if logits.dtype == np.float32:
        losses = np.where(np.exp(-losses) > 0.999, 0.0, losses)
    return float(losses.mean())


def p_to_one_grad(kind: str, low: float, high: float = 2.0):
    """A wrong answer: for logits of ``kind`` (a dtype name, or "int"), the probabilities in
    (low, high) set to 1 before the one-hot is subtracted."""
    def answer(logits, y):
        p = softmax(_as64(logits), axis=1)
        if (kind == "int" and logits.dtype.kind in "iu") or logits.dtype == kind:
            p = np.where((p > low) & (p < high), 1.0, p)
        return (p - _onehot(y, logits.shape[1])) / len(y)
    return answer


def tiny_entries_scaled_grad(logits, y):
    """The reader's: entries of size 1e-20 to 1e-10 times 1.5."""
    g = ref_grad(logits, y)
    return np.where((np.abs(g) > 1e-20) & (np.abs(g) < 1e-10), 1.5 * g, g)


def _top64(z, t):
    w = np.asarray(z, dtype=float) / t
    e = np.exp(w - w.max())
    return float((e / e.sum()).max())


def flattened_end_temperature(end: str):
    """The reader's: a bisection on log T over [1e-3, 1e3] that takes a top probability above
    0.999 for 1 (``end`` "top"), or one within 1e-3 of 1/k for 1/k ("low")."""
    def answer(logits, target):
        k = np.size(logits)

        def top(t):
            p = _top64(logits, t)
            if end == "top":
                return 1.0 if p > 0.999 else p
            return 1.0 / k if p < 1.0 / k + 1e-3 else p
        return bisect(top, target)
    return answer


NEAR_ONE = r"a probability near 1 rounded to 1"
WRONG_STABLE_SOFTMAX.update({
    "float64: probabilities above 1 - 1e-9 set to 1": (top_to_one_softmax("float64", 1 - 1e-9),
                                                      NEAR_ONE),
    "float64: probabilities above 1 - 1e-11 set to 1": (
        top_to_one_softmax("float64", 1 - 1e-11), NEAR_ONE),
    "float32: probabilities above 0.999 set to 1": (top_to_one_softmax("float32", 0.999),
                                                    NEAR_ONE),
    "float16: probabilities above 0.99 set to 1": (top_to_one_softmax("float16", 0.99),
                                                   NEAR_ONE),
    "integer logits: probabilities above 1 - 1e-6 set to 1": (
        top_to_one_softmax("int", 1 - 1e-6), NEAR_ONE),
    "the array's maximum when the slices' maxima are within 600": (
        global_max_when_close_softmax, r"shift by the whole array's largest logit"),
})
DROPPED = r"per-sample losses (\(up to \S+\) |from \S+ to \S+ )set to 0"
WRONG_CROSS_ENTROPY.update({
    "float32: a label's probability above 0.999 gives loss 0": (
        label_near_one_dropped_cross_entropy, DROPPED),
    "float32: losses in (1e-8, 1e-3) set to 0": (
        losses_changed_cross_entropy("float32", 1e-8, 1e-3, 0.0), DROPPED),
    "integer logits: losses below 1e-4 set to 0": (
        losses_changed_cross_entropy("int", -1.0, 1e-4, 0.0), DROPPED),
    "integer logits: losses below 1e-6 set to 0": (
        losses_changed_cross_entropy("int", -1.0, 1e-6, 0.0), DROPPED),
    "float64: losses below 1e-13 set to 0": (
        losses_changed_cross_entropy("float64", -1.0, 1e-13, 0.0), DROPPED),
    "float64: losses in (1e-11, 1e-6) set to 0": (
        losses_changed_cross_entropy("float64", 1e-11, 1e-6, 0.0), DROPPED),
    "float64: losses in (1e-12, 1e-6) times 1.5": (
        losses_changed_cross_entropy("float64", 1e-12, 1e-6, 1.5),
        r"near 1 here|right to about \d+ decimals only|per-sample losses -log p"),
})
WRONG_CROSS_ENTROPY_GRAD.update({
    "float32: probabilities above 0.999 set to 1": (p_to_one_grad("float32", 0.999), NEAR_ONE),
    "integer logits: probabilities above 1 - 1e-6 set to 1": (p_to_one_grad("int", 1 - 1e-6),
                                                              NEAR_ONE),
    "float64: probabilities in (1 - 1e-6, 1 - 1e-11) set to 1": (
        p_to_one_grad("float64", 1 - 1e-6, 1 - 1e-11), NEAR_ONE),
    "float64: probabilities above 1 - 1e-9 set to 1": (p_to_one_grad("float64", 1 - 1e-9),
                                                       NEAR_ONE),
    "entries of size 1e-20 to 1e-10 times 1.5": (
        tiny_entries_scaled_grad,
        # (where every entry is in the band and n / k = 1.5, it is the k-for-n mistake)
        r"each of them is 1\.5 times the answer|right to about \d+ decimals only|divided by k"),
})
WRONG_TEMPERATURE_FOR.update({
    "a top probability above 0.999 taken for 1": (
        flattened_end_temperature("top"), r"(?s)gets p = .*a target near 1"),
    "a top probability within 1e-3 of 1/k taken for 1/k": (
        flattened_end_temperature("low"),
        r"(?s)gets p = .*just above \S+, the top probability at the largest T"),
})


# Round 15 (the fourteenth reading): the maximum subtracted in the logits' own integer dtype
# (wraps where two logits' difference leaves the dtype), 3-D arrays with an axis spelled
# another way (-1 taken for 1, -2 for 0), float16 logits kept in float16 in the gradient, and
# a two-class closed form that takes the first logit for the larger.
def shifted_in_dtype_softmax(z, axis=-1):
    """The reader's: z - max computed in the logits' dtype, then float64."""
    if z.size == 0:
        return np.zeros(z.shape, z.dtype if z.dtype.kind == "f" else np.float64)
    d = z - z.max(axis=axis, keepdims=True)
    e = np.exp(d if d.dtype.kind == "f" else d.astype(np.float64))
    return e / e.sum(axis=axis, keepdims=True)


def shifted_in_dtype_cross_entropy(logits, y):
    """The reader's: z - max in the logits' dtype, then float64."""
    d = logits - logits.max(axis=1, keepdims=True)
    d = d if d.dtype.kind == "f" else d.astype(np.float64)
    return float(np.mean(np.log(np.exp(d).sum(axis=1)) - d[np.arange(len(y)), y]))


def shifted_in_dtype_grad(logits, y):
    """The reader's: z - max in the logits' dtype, then float64."""
    d = logits - logits.max(axis=1, keepdims=True)
    d = d if d.dtype.kind == "f" else d.astype(np.float64)
    return (softmax(d, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def axis_mapped_softmax(mapping: dict):
    """A wrong answer written for 2-D arrays: an axis spelled as a key of ``mapping`` (None:
    the default) is taken for its value."""
    def answer(z, axis=None):
        if z.ndim > 1 and axis in mapping:
            axis = mapping[axis]
        return ref_softmax(_as64(z), -1 if axis is None else axis)
    return answer


def float16_kept_grad(logits, y):
    """The reader's: float16 logits give a float16 gradient."""
    z = _as64(logits)
    shifted = z - z.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return (p - _onehot(y, z.shape[1]).astype(p.dtype)) / np.asarray(len(y), dtype=p.dtype)


def float16_inside_grad(logits, y):
    """float16 logits computed in float16, the gradient returned as float64."""
    return float16_kept_grad(logits, y).astype(np.float64)


def two_class_closed_form(order: str):
    """For two classes, T from the gap d of the logits, log(t / (1 - t)) = d / T, with d taken
    as z[0] - z[1] (``order`` "first"), z[1] - z[0] ("second"), a negative T turned into
    -2 T ("doubled", the reader's), or |z[0] - z[1]| ("abs", right); bisection otherwise."""
    def answer(logits, target):
        z = np.asarray(logits, dtype=float)
        if z.size != 2:
            return ref_temperature(logits, target)
        d = {"first": z[0] - z[1], "second": z[1] - z[0], "doubled": z[0] - z[1],
             "abs": abs(z[0] - z[1])}[order]
        t = d / np.log(target / (1 - target))
        return float(-2 * t if order == "doubled" and t < 0 else t)
    return answer


WRAPS = r"z - max gives computed in u?int\d+: .* wraps|returned float(16|32) for u?int(8|16) logits"
WRONG_STABLE_SOFTMAX.update({
    "3-D: axis -1 taken for 1 (written for 2-D)": (
        axis_mapped_softmax({-1: 1, None: 1}), r"normalised along axis 1 instead of axis -1"),
    "3-D: the default axis taken for 1": (
        axis_mapped_softmax({None: 1}), r"`stable_softmax\(z\)` normalised along axis 1 "
                                        r"instead of axis -1"),
    "3-D: axis -2 taken for 0 (written for 2-D)": (
        axis_mapped_softmax({-2: 0}), r"normalised along axis 0 instead of axis -2"),
    "3-D: axis 2 taken for 1": (
        axis_mapped_softmax({2: 1}), r"normalised along axis 1 instead of axis 2"),
})
WRONG_STABLE_SOFTMAX.update({
    "integer logits shifted by their maximum in their own dtype": (
        shifted_in_dtype_softmax, WRAPS),
    "the notebook's old solution: no conversion of integer logits": (ref_softmax, WRAPS),
})
WRONG_CROSS_ENTROPY.update({
    "integer logits shifted by their maximum in their own dtype": (
        shifted_in_dtype_cross_entropy, WRAPS),
    "the notebook's old solution: no conversion of integer logits": (ref_cross_entropy, WRAPS),
})
WRONG_CROSS_ENTROPY_GRAD.update({
    "integer logits shifted by their maximum in their own dtype": (shifted_in_dtype_grad, WRAPS),
    "float16 logits: a float16 gradient": (float16_kept_grad,
                                           r"returned float16 for float16 logits"),
    "float16 logits computed in float16, returned as float64": (
        float16_inside_grad, r"(?s)right to about \d decimals only.*float32 keeps"),
})
WRONG_TEMPERATURE_FOR.update({
    "two classes: a closed form taking the first logit for the larger, -2 T if negative": (
        two_class_closed_form("doubled"), r"two classes, the larger logit second"),
    "two classes: a closed form taking the first logit for the larger": (
        two_class_closed_form("first"),
        r"(?s)a temperature must be > 0.*two classes, the larger logit second"),
    "two classes: a closed form taking the second logit for the larger": (
        two_class_closed_form("second"),
        r"(?s)a temperature must be > 0.*two classes, the larger logit first"),
})
RIGHT_TEMPERATURE_FOR["two classes: the closed form |z0 - z1| / log(t / (1 - t))"] = (
    two_class_closed_form("abs"))


from helpers.exercises import _spec as ch04_spec  # noqa: E402


def test_gradient_wide_integer_cases_wrap_in_their_dtype():
    """Every draw of the gradient holds an integer batch (signed or unsigned, every kind over
    the draws) whose differences leave the dtype: the shift in the dtype changes the result
    on every draw, and each narrower type the note names changes the softmax by far more
    than any tolerance."""
    names = {n: np.dtype(n) for n in ("float16", "float32", "int8", "int16", "int32", "uint8")}
    kinds = set()
    for seed in range(100):
        wide = [c for c in ch04.CROSS_ENTROPY_GRAD.draw(seed) if c.note.get("wide")
                and ch04_spec.TWIN_LABEL not in c.label]
        assert len(wide) == 1 and wide[0].args[0].dtype.kind in "iu", seed
        kinds.add(wide[0].args[0].dtype.name)
        for case in wide:
            z, y = case.args[:2]
            right = ch04._cross_entropy_grad(z, y)
            with np.errstate(all="ignore"):
                wrapped = shifted_in_dtype_grad(z, y)
            assert not np.allclose(wrapped, right, atol=1e-3, equal_nan=True), (seed, z)
            for name in case.note["ints"].replace(" or ", ", ").split(", "):
                lossy = narrower(z, names[name])
                with np.errstate(all="ignore"):
                    changed = ref_softmax(lossy, axis=-1)
                assert not np.allclose(changed, ref_softmax(z.astype(float), axis=-1),
                                       atol=0.05), (seed, case.label, name)
    assert kinds == set(ch04._WIDE)


def test_wide_integer_cases_for_softmax_and_loss():
    """Exercises 1 and 2 draw wide integer logits on every draw (every signed and unsigned
    kind over the draws), as the gradient does: the shift in the logits' dtype is refused
    (wrapped, or a narrow float from exp), and right answers that convert to float64 first
    pass."""
    for spec in (ch04.STABLE_SOFTMAX, ch04.CROSS_ENTROPY):
        kinds = set()
        for seed in range(60):
            wide = [c for c in spec.draw(seed) if c.note.get("wide")
                    and ch04_spec.TWIN_LABEL not in c.label]
            assert len(wide) == 1 and wide[0].args[0].dtype.kind in "iu", (spec.id, seed)
            kinds.add(wide[0].args[0].dtype.name)
        assert kinds == set(ch04._WIDE), spec.id
    rejects(ch04.check_stable_softmax, shifted_in_dtype_softmax, WRAPS)
    rejects(ch04.check_cross_entropy, shifted_in_dtype_cross_entropy, WRAPS)
    accepts(ch04.check_stable_softmax, lambda z, axis=-1: ref_softmax(_as64(z), axis), draws(3))
    accepts(ch04.check_stable_softmax, float64_inside_softmax, draws(2))
    accepts(ch04.check_cross_entropy, lambda logits, y: ref_cross_entropy(_as64(logits), y),
            draws(3))


# --------------------------------------------------------------------------------------
# Round 16: exponents clipped just above exp's underflow, a maximum clamped at 0 or the whole
# array's for one dtype only, the last axis spelled one way only, empty float16 and integer
# batches, and a search that is sloppy for float32 logits only.
# --------------------------------------------------------------------------------------

def _ints64(z):
    """Integer logits in float64 (a wrong answer's right part, as the task asks)."""
    return z.astype(np.float64) if z.dtype.kind in "iu" else z


def clip_floor_softmax(floor):
    """np.clip(z - m, floor, None): exp(-745) = 5e-324 kept where exp underflows to 0."""
    def answer(z, axis=-1):
        w = _ints64(z)
        e = np.exp(np.clip(w - w.max(axis=axis, keepdims=True), floor, None))
        return e / e.sum(axis=axis, keepdims=True)
    return answer


def clip_floor_grad(floor):
    def answer(logits, y):
        w = logits if logits.dtype == np.float32 else logits.astype(np.float64)
        e = np.exp(np.maximum(w - w.max(axis=1, keepdims=True), w.dtype.type(floor)))
        p = e / e.sum(axis=1, keepdims=True)
        p[np.arange(len(y)), y] -= 1.0
        return p / len(y)
    return answer


def clip_floor_cross_entropy(logits, y):
    w = _ints64(logits)
    d = np.maximum(w - w.max(axis=1, keepdims=True), -745.0)
    log_p = d - np.log(np.exp(d).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


_CLAMPED = {"clamped at 0": lambda w, axis: np.maximum(w.max(axis=axis, keepdims=True), 0),
            "of the whole array": lambda w, axis: w.max() if w.size else 0.0}
_ONLY_FOR = {"integer": lambda z: z.dtype.kind in "iu", "float32": lambda z: z.dtype == np.float32,
             "float16": lambda z: z.dtype == np.float16}


def shift_for_softmax(shift, only):
    """The maximum ``shift`` for the logits ``only`` selects, each slice's own otherwise."""
    def answer(z, axis=-1):
        w = _ints64(z)
        m = _CLAMPED[shift](w, axis) if _ONLY_FOR[only](z) else w.max(axis=axis, keepdims=True)
        e = np.exp(w - m)
        return e / e.sum(axis=axis, keepdims=True)
    return answer


def shift_for_cross_entropy(shift, only):
    def answer(logits, y):
        w = _ints64(logits)
        m = _CLAMPED[shift](w, 1) if _ONLY_FOR[only](logits) else w.max(axis=1, keepdims=True)
        log_p = (w - m) - np.log(np.exp(w - m).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(y)), y].mean())
    return answer


def shift_for_grad(shift, only):
    def answer(logits, y):
        w = logits if logits.dtype == np.float32 else logits.astype(np.float64)
        m = _CLAMPED[shift](w, 1) if _ONLY_FOR[only](logits) else w.max(axis=1, keepdims=True)
        e = np.exp(w - m)
        p = e / e.sum(axis=1, keepdims=True)
        p[np.arange(len(y)), y] -= 1.0
        return p / len(y)
    return answer


def loop_for_axis_1_softmax(z, axis=-1):
    """Vectorised, but for 2-D input along axis spelled 1: a loop over the rows."""
    if z.ndim == 2 and axis == 1:
        return loop_softmax(z, axis)
    return ref_softmax(_ints64(z), axis)


def sentinel_default_softmax(z, axis=None):
    """axis=None as the default: a loop over the rows when no axis is passed."""
    if axis is None and z.ndim == 2:
        return loop_softmax(z, -1)
    return ref_softmax(_ints64(z), -1 if axis is None else axis)


def empty_shortcut_softmax(make):
    """An empty input answered by ``make(z)``, the rest right."""
    def answer(z, axis=-1):
        return make(z) if z.size == 0 else ref_softmax(_ints64(z), axis)
    return answer


def float32_sloppy_temperature(steps=None, digits=None):
    """Right for float64 and integer logits; for float32 logits a bisection of ``steps``
    steps, or T rounded to ``digits`` significant digits."""
    def answer(logits, target):
        z = np.asarray(logits)
        if z.dtype != np.float32:
            return ref_temperature(logits, target)
        t = bisect(lambda t: _top(z, t), target, steps=steps or 100)
        return float(f"{t:.{digits}g}") if digits else t
    return answer


UNDERFLOWED = r"where the answer is exactly 0: there z_i - m = .*underflows to 0"
WRONG_STABLE_SOFTMAX.update({
    "exponents clipped at -745 (np.clip(z - m, -745, None))": (clip_floor_softmax(-745.0),
                                                               UNDERFLOWED),
    "exponents clipped at -740": (clip_floor_softmax(-740.0), UNDERFLOWED),
    **{f"the maximum {shift}, for {only} logits only": (
        shift_for_softmax(shift, only), r"differs|gave|sum to|right to about")
       for shift in _CLAMPED for only in _ONLY_FOR},
    "a loop over the rows for 2-D input along axis=1 only": (
        loop_for_axis_1_softmax, r"runs a Python loop|took \d+ ms of CPU"),
    "axis=None as the default, a loop when no axis is passed": (
        sentinel_default_softmax, r"runs a Python loop|took \d+ ms of CPU"),
    "an empty input returned as a copy of itself": (
        empty_shortcut_softmax(lambda z: z.copy()), r"returned (int64|float(16|32|64))"),
    "an empty float16 input answered in float32": (
        empty_shortcut_softmax(lambda z: np.zeros(z.shape, np.float32 if z.dtype in (
            np.float16, np.float32) else np.float64)), r"returned float32; for float16 logits"),
    "an empty float16 input answered in float64": (
        empty_shortcut_softmax(lambda z: np.zeros(z.shape, z.dtype if z.dtype in (
            np.float32, np.float64) else np.float64)), r"returned float64; for float16 logits"),
})
WRONG_CROSS_ENTROPY.update({
    "exponents clipped at -745": (clip_floor_cross_entropy, r"gave \d"),
    **{f"the maximum {shift}, for {only} logits only": (
        shift_for_cross_entropy(shift, only), r"gave|differs|right to about")
       for shift in _CLAMPED for only in _ONLY_FOR},
})
WRONG_CROSS_ENTROPY_GRAD.update({
    "exponents clipped at -745": (clip_floor_grad(-745.0), UNDERFLOWED),
    "exponents clipped at -740": (clip_floor_grad(-740.0), UNDERFLOWED),
    **{f"the maximum {shift}, for {only} logits only": (
        shift_for_grad(shift, only), r"gave|differs|right to about|exactly 0")
       for shift in _CLAMPED for only in _ONLY_FOR},
})
WRONG_TEMPERATURE_FOR.update({
    "float32 logits: a bisection of 16 steps": (float32_sloppy_temperature(steps=16),
                                                r"float32 logits"),
    "float32 logits: T rounded to 3 digits": (float32_sloppy_temperature(digits=3),
                                              r"float32 logits"),
    "float32 logits: T rounded to 4 digits": (float32_sloppy_temperature(digits=4),
                                              r"float32 logits"),
})


def test_exact_zeros_where_exp_underflows():
    """Below exp's underflow (z_i - m < -747 in float64) a right answer gives 0 exactly; the
    judge asks for it only where the result is tiny (a larger one fails the tolerance)."""
    z = np.array([0.0, -800.0, -700.0])
    values = np.array([1.0, 5e-324, 1e-304])
    kept = ch04._not_underflowed(values, z, -1, np.float64)
    assert kept.tolist() == [False, True, False]
    assert not ch04._not_underflowed(np.array([1.0, 0.0, 1e-304]), z, -1, np.float64).any()
