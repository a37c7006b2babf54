"""Checks for chapter 4, softmax: stable softmax, cross-entropy, its gradient, temperature.

One spec per exercise (``_spec``): the cases are drawn afresh at every check, edge cases
first (ties, one sample, one class, an empty batch, logits of +-1e4, slices of very different
scale, float32, integers), then random ones; the student's function runs on all of them, and
only then are the references computed and the results judged, with a message that names the
known mistake (a missing max-subtraction, a wrong axis, a sum instead of a mean, a flipped
sign...) or says what differs on which case. Each call runs through a driver that records
numpy's floating-point warnings (overflow, invalid value, division by zero) as plain data, so
"no overflow" is judged like any other result. "Write it yourself" is enforced by what runs
(``_trace``): an alias, a ``functools.partial`` or a wrapper of the course's softmax is caught
like a direct call.
"""

from __future__ import annotations

import math
import sys
import time
import warnings

import numpy as np

from ._contract import expect_float, expect_ndarray, pair, show
from ._core import ExerciseError, exercise_check
from ._plain import describe
from ._spec import (
    WORK_SHAPES,
    Case,
    Spec,
    _fingerprint,
    _read_only,
    _too_slow,
    driver,
    swapped_inner,
    work_cases,
)
from ._trace import Forbidden

__all__ = [
    "CROSS_ENTROPY",
    "CROSS_ENTROPY_GRAD",
    "STABLE_SOFTMAX",
    "TEMPERATURE",
    "TEMPERATURE_TOLERANCE",
    "check_cross_entropy",
    "check_cross_entropy_grad",
    "check_stable_softmax",
    "check_temperature_for",
]

TEMPERATURE_TOLERANCE = 1e-4   # |max softmax(logits / T) - target| the task allows


def _temperature_tolerance(z, t: float) -> float:
    """What the task allows at T = ``t``: 1e-4, plus for float32 logits what float32
    arithmetic moves the top probability p by: logits / T rounded to float32 move each
    exponent by half a step of float32 at max|z| / T, which moves p by up to p (1 - p) times
    that step (measured on the check's float32 cases: up to 0.91 of it; 1.25 of it allowed,
    and a few eps for exp and the sum)."""
    z = np.asarray(z)
    if z.dtype != np.float32 or z.size == 0 or not (math.isfinite(t) and t > 0):
        return TEMPERATURE_TOLERANCE
    p = _top_probability(z, t)
    with np.errstate(all="ignore"):
        step = float(np.spacing(np.float32(float(np.max(np.abs(z))) / t)))
    if not math.isfinite(step):
        return TEMPERATURE_TOLERANCE
    return TEMPERATURE_TOLERANCE + 1.25 * p * (1.0 - p) * step + 8.0 * float(
        np.finfo(np.float32).eps)


# --------------------------------------------------------------------------------------
# References (the stable formulas, written out here), computed only after the student's calls
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


def _onehot(y, k: int) -> np.ndarray:
    y = np.asarray(y)
    onehot = np.zeros((len(y), k))
    onehot[np.arange(len(y)), y] = 1.0
    return onehot


def _cross_entropy_grad(logits, y) -> np.ndarray:
    logits = np.asarray(logits, dtype=float)
    return (_softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def _top_probability(z, temperature: float) -> float:
    with np.errstate(all="ignore"):
        return float(_softmax(np.asarray(z, dtype=float) / temperature).max())


# --------------------------------------------------------------------------------------
# Running the answer: numpy's warnings, silencers and later changes recorded as plain data
# --------------------------------------------------------------------------------------

# Ways to hide a floating-point warning instead of avoiding it, as module:qualname patterns.
# They count when the answer's own code calls them (np.isclose and numpy.ma use errstate
# inside, which is no silencing by the answer); an answer decorated with @np.errstate runs
# numpy's `inner` wrapper, called by this module's driver, so it counts too.
SILENCERS = Forbidden(
    ("numpy*:errstate.__init__", "numpy*:errstate.__call__.<locals>.inner", "numpy*:seterr",
     "numpy*:seterrcall", "warnings:catch_warnings.__init__", "warnings:simplefilter",
     "warnings:filterwarnings", "warnings:resetwarnings"),
    why="silencing numpy's warnings only hides an overflow, which still happens")
_LIBRARIES = ("numpy", "warnings", "contextlib", "scipy", "torch", "importlib", "helpers")


def _answer_frame(frame) -> bool:
    """True when ``frame`` runs the student's code (not a library's; this module's driver
    calls only the answer)."""
    if frame is None:
        return False
    module = str(frame.f_globals.get("__name__", ""))
    return module.startswith("helpers.exercises") or not module.startswith(_LIBRARIES)


def _silencer_name(module: str, qualname: str) -> str:
    """How the task names a silencer: np.errstate, np.seterr, warnings.simplefilter..."""
    if module.startswith("numpy"):
        return "np." + qualname.split(".")[0]
    return f"{module}.{qualname.split('.')[0]}"


def _run_watched(fn, args, kwargs, watch: dict):
    """``fn(*args, **kwargs)``, noting in ``watch`` the first silencer the answer's own code
    calls ("silenced") and whether the answer replaced the profiler ("replaced"). The
    profiler in place (the core's call tracer) keeps receiving every event."""
    previous = sys.getprofile()
    names: dict = {}

    def profiler(frame, event, arg):
        if previous is not None:
            previous(frame, event, arg)
        if event != "call" or "silenced" in watch:
            return
        code = frame.f_code
        name = names.get(code)
        if name is None:
            module = str(frame.f_globals.get("__name__", "?"))
            qualname = getattr(code, "co_qualname", code.co_name)
            name = names[code] = (_silencer_name(module, qualname)
                                  if SILENCERS.matches(module, qualname) else "")
        if name and _answer_frame(frame.f_back):
            watch["silenced"] = name

    sys.setprofile(profiler)
    try:
        return fn(*args, **kwargs)
    finally:
        if sys.getprofile() is not profiler:
            watch["replaced"] = True
        sys.setprofile(previous)


def _snapshot(value):
    return value.copy() if isinstance(value, np.ndarray) else _fingerprint(value)


def _unchanged(value, snapshot) -> bool:
    if isinstance(snapshot, np.ndarray):
        return (isinstance(value, np.ndarray) and value.shape == snapshot.shape
                and value.dtype == snapshot.dtype
                and bool(np.array_equal(value, snapshot,
                                        equal_nan=snapshot.dtype.kind in "fc")))
    return _fingerprint(value) == snapshot


def _overlap(a, b) -> bool:
    """True when two results are arrays over the same memory (one buffer reused)."""
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10**6))
    except np.exceptions.TooHardError:  # strides too tangled to tell: do not accuse
        return False


# The timed cases: one numpy call per row or per class, even driven from C (map,
# functools.reduce, the builtin sum, itertools.accumulate over the rows or the classes), costs
# about a microsecond, so on 100,000 rows of 2 classes, or 1 row of 400,000 classes, it takes
# a hundred milliseconds or more. numpy's whole-array formulas take a few (np.logaddexp.reduce, the
# slowest right one, about 30 ns a logit; np.longdouble arithmetic 2 to 3 times that).
TIMED_FACTOR = 4.0
TIMED_FLOOR = 0.005


def _cpu(fn, *args, **kwargs) -> float:
    start = time.process_time()
    fn(*args, **kwargs)
    return time.process_time() - start


def _numpy_seconds(z, axis: int) -> float:
    """CPU seconds of numpy's whole-array formulas on ``z`` along ``axis`` (the slower of the
    reference softmax and np.logaddexp.reduce, each the faster of two runs)."""
    zf = np.asarray(z, dtype=float)
    with np.errstate(all="ignore"):
        return max(min(_cpu(_softmax, zf, axis) for _ in range(2)),
                   min(_cpu(np.logaddexp.reduce, zf, axis=axis) for _ in range(2)))


def _quiet_driver(name: str, params: tuple[str, ...], *, twice: bool = False,
                  timed_axis=None) -> None:
    """Register a driver that calls the answer, records numpy's floating-point warnings, the
    silencers it calls and whether it changed its inputs.

    The result crosses as ``{"result": ..., "warnings": [...], "mutated": [...],
    "silenced": ..., "replaced": ...}``. Underflow is not a warning (exp of a very negative
    number is 0, as it should be). ``params`` names the task's arguments, so an in-place
    change is reported on `z`, `logits` or `y`. With ``twice``, the case's positional
    arguments are two calls' worth (the first call's, then the second's): the answer runs on
    both, and the record tells whether the first result changed during the second call or
    shares memory with the second result ("changed", "shared"). With ``timed_axis`` (a
    function of the call's arguments giving the axis of the classes), the record also holds
    the answer's CPU seconds (the fastest of up to three calls, repeated only while too slow),
    numpy's ("numpy_seconds") and the time allowed ("budget").
    """

    def run(answers, *args, **kwargs):
        calls = [args[:len(args) // 2], args[len(args) // 2:]] if twice else [args]
        names = [f"`{p}`" for p in params[:len(calls[0])]] + [f"`{k}`" for k in kwargs]
        watch: dict = {}
        results = []
        mutated: list[str] = []
        timing: dict = {}
        if timed_axis is not None:
            base = _numpy_seconds(args[0], timed_axis(args, kwargs))
            timing = {"numpy_seconds": base, "budget": TIMED_FACTOR * base + TIMED_FLOOR}
            copies = [[np.array(a, copy=True) for a in args] for _ in range(2)]
        # numpy's floating-point errors are recorded by a call-back, not as warnings: an
        # answer that hides warnings (a filter, a replaced warnings.showwarning) cannot hide
        # them. (np.errstate and np.seterr, which could, are refused while the answer runs.)
        errors: list[str] = []

        def record_error(kind, flag):
            errors.append(f"{kind} encountered")

        with warnings.catch_warnings(record=True) as caught, np.errstate(
                over="call", invalid="call", divide="call", under="ignore", call=record_error):
            warnings.simplefilter("always", RuntimeWarning)
            for call_args in calls:
                given = list(call_args) + list(kwargs.values())
                before = [_snapshot(v) for v in given]
                # handed over read-only: a write into an input fails even when the answer
                # would put the values back before returning
                frozen = _read_only(given)
                start = time.process_time()
                try:
                    results.append(_run_watched(answers[0], call_args, kwargs, watch))
                except ValueError as err:
                    if "read-only" not in str(err):
                        raise
                    mutated += [n for n, v in zip(names, given)
                                if any(v is f for f in frozen)][:1]
                    results.append(None)
                    break
                if timing:
                    timing["seconds"] = time.process_time() - start
                    for again in copies:  # a busy moment should not fail a right answer
                        if not timing["budget"] < timing["seconds"] < 3 * timing["budget"]:
                            break  # fast enough, or far too slow to be a busy moment
                        try:
                            timing["seconds"] = min(timing["seconds"],
                                                    _cpu(answers[0], *again, **kwargs))
                        except Exception:
                            break
                mutated += [n for n, b, v in zip(names, before, given)
                            if not _unchanged(v, b) and n not in mutated]
                if len(calls) == 2 and len(results) == 1:
                    first = _snapshot(results[0])
        said = list(dict.fromkeys(errors)) + [
            str(w.message)[:200] for w in caught if issubclass(w.category, RuntimeWarning)]
        record = {"result": results[0], "warnings": said[:3], "mutated": mutated,
                  "silenced": watch.get("silenced"), "replaced": bool(watch.get("replaced")),
                  **{k: float(v) for k, v in timing.items()}}
        if twice and len(results) == 2:
            again = results[1]
            record["result"] = first if isinstance(first, np.ndarray) else results[0]
            record["changed"] = not _unchanged(results[0], first)
            record["shared"] = _overlap(results[0], again)
        return record

    driver(name)(run)


_quiet_driver("ch04.softmax", ("z", "axis"))
_quiet_driver("ch04.softmax_twice", ("z", "axis"), twice=True)
_quiet_driver("ch04.batch", ("logits", "y"))
_quiet_driver("ch04.batch_twice", ("logits", "y"), twice=True)
_quiet_driver("ch04.temperature", ("logits", "target"))
_quiet_driver("ch04.softmax_timed", ("z", "axis"),
              timed_axis=lambda args, kwargs: kwargs.get("axis", -1))
_quiet_driver("ch04.batch_timed", ("logits", "y"), timed_axis=lambda args, kwargs: 1)


_SLOW_HINT = ("reduce along the axis in one call (np.max, np.sum or np.logaddexp.reduce with "
              "axis=..., keepdims=True) and index all rows at once; compute in float64 (float32 "
              "for float32 logits), not in a slower type such as np.longdouble.")


def _timed_core(case: Case, obs, what: str) -> None:
    """The core's timed case (200,000 elements), judged here first so that the message names
    both causes of slowness: a loop over Python objects, or a slow type."""
    if case.work == "timed" and _too_slow(obs.trace):
        raise ExerciseError(
            f"{what} took {obs.trace.seconds * 1e3:.0f} ms of CPU on this case, where numpy's "
            f"own float64 loops take about {obs.trace.reference_seconds * 1e3:.1f} ms. Either "
            "it handles the elements, rows or classes one at a time (a loop, or map, a deque, "
            "functools.reduce or the builtin sum over them), or it computes in a slow type "
            "such as np.longdouble, whose operations run several times slower than float64's.",
            _SLOW_HINT)


def _unwrap(obs, what: str, case: Case | None = None) -> tuple[object, list[str]]:
    """(what the answer returned, numpy's warnings) from a driver's plain record; an answer
    that changed its inputs, silenced numpy's warnings, replaced the check's profiler,
    returned a result that a later call changes or was too slow on a timed case is refused
    here."""
    if case is not None:
        _timed_core(case, obs, what)
    result = obs.result
    if not (isinstance(result, dict) and "result" in result):
        return result, []
    mutated = result.get("mutated")
    if isinstance(mutated, list) and mutated:
        raise ExerciseError(
            f"{what} modified its input {str(mutated[0])[:40]} in place.",
            "the caller still needs the inputs it passed: compute the result into a new "
            "object instead of assigning into (or subtracting from) the one you were given.")
    if result.get("replaced") is True:
        raise ExerciseError(
            f"{what} replaced the check's profiler (sys.setprofile) while it ran, so the "
            "check cannot tell what it called.",
            "leave the interpreter's tracing alone in an answer.")
    silenced = result.get("silenced")
    if isinstance(silenced, str) and silenced:
        raise ExerciseError(
            f"{what} calls `{silenced[:60]}`, which silences numpy's floating-point warnings; "
            "the task asks for no overflow at all, and a silenced overflow still happens.",
            "remove the silencing and shift the logits so that exp only sees values <= 0: "
            "then there is nothing to silence. The names you call it by do not matter, the "
            "check sees what runs.")
    if result.get("changed") is True or result.get("shared") is True:
        how = ("its values changed during the second call" if result.get("changed") is True
               else "it shares memory with the second call's result")
        raise ExerciseError(
            f"{what} returned an array that a later call overwrites: after a second call, on "
            f"other logits, the first call's result no longer holds its own answer ({how}).",
            "return a new array from every call (e / e.sum(...) makes one), not a buffer "
            "kept between calls: the caller may still be using the first result.")
    seconds, budget, base = (result.get(k) for k in ("seconds", "budget", "numpy_seconds"))
    if all(isinstance(v, float) for v in (seconds, budget, base)) and seconds > budget:
        raise ExerciseError(
            f"{what} took {seconds * 1e3:.0f} ms of CPU on this case, where numpy's whole-array "
            f"formulas take about {base * 1e3:.1f} ms (the check allows "
            f"{budget * 1e3:.0f} ms). One of the axes here is long (many rows of few classes, "
            "or one row of many classes): an answer that makes one numpy call per row or per "
            "class is this slow, even when map, functools.reduce, the builtin sum or "
            "itertools.accumulate drive the loop. A slow type such as np.longdouble also "
            "takes longer than this.", _SLOW_HINT)
    said = result.get("warnings")
    said = [str(s)[:200] for s in said[:3]] if isinstance(said, list) else []
    return result["result"], said


def _warned(said: list[str]) -> str:
    return f" (numpy warned: {said[0]})" if said else ""


def _explain(error: str, shapes: str | None = None) -> str | None:
    """A hint for an exception the answer raised, or None for the generic one."""
    if "ModuleNotFoundError" in error:
        module = error.split("'")[1] if "'" in error else "that library"
        return (f"`{module}` is not installed here (the course's environment has numpy, not "
                "scipy): build the answer from numpy operations.")
    if "broadcast" in error and shapes:
        return shapes
    if "Cannot cast ufunc" in error or "cannot cast" in error.lower():
        return ("an in-place operation (-=, /=, out=...) keeps the dtype of the array it writes "
                "into, and integer logits make an integer array: compute into a new array "
                "instead.")
    return None


#: The absolute tolerance of a result of each float type: a few steps of its subnormal
#: numbers (a tiny result rounds twice there, in exp and in the division), so a tiny
#: probability (or gradient entry) set to 0, or kept at exp(-700) where it is smaller, shows.
_TINY = {np.dtype(np.float16): 1.2e-7, np.dtype(np.float32): 1e-44,
         np.dtype(np.float64): 1e-321}


def _kind_of(z: np.ndarray) -> np.dtype:
    """The float type a right answer computes in for logits ``z``: float16 and float32 stay,
    everything else (float64, integers) is float64."""
    return z.dtype if z.dtype in (np.float16, np.float32) else np.dtype(np.float64)


def _added_back(z: np.ndarray, axis: int) -> np.ndarray:
    """Per slice (its axis kept): the error in the exponent of a form that adds the maximum
    back, exp(z - (m + log sum exp(z - m))) or np.logaddexp.reduce, on float32 and float64
    logits: each significant term after the first (exp(z_i - m) >= eps) rounds the running
    log-sum-exp by at most half a step of its own scale, eps * |z| / 2 (one term more is
    allowed; a slice with one significant term has lse = m exactly).
    Integer logits are exact, and float16's steps (32 near 60,000) would move the answer
    by factors: neither gets any."""
    kind = _kind_of(z)
    if z.dtype.kind != "f" or kind == np.float16 or z.size == 0:
        return np.zeros(())
    eps = float(np.finfo(kind).eps)
    w = z.astype(np.float64, copy=False)
    m = w.max(axis=axis, keepdims=True)
    count = (w >= m + math.log(eps)).sum(axis=axis, keepdims=True)
    # (the significant terms lie within -log(eps) of m: their largest |z| is at most this)
    scale = np.maximum(np.abs(m), np.abs(m + math.log(eps)))
    return eps * scale * np.where(count > 1, count / 2, 0.0)


def _float_tolerance(z: np.ndarray, axis: int = -1) -> tuple[np.ndarray, float]:
    """(rtol per entry, atol) for probabilities computed from the logits ``z`` along ``axis``,
    what each float type's own arithmetic gives: float64 keeps 1e-13 (a sum of many terms
    may lose a few eps each), so a constant of 1e-12 added to a sum of about 1 shows; float32
    2e-5; float16 a few of its steps, more for a long slice (numpy sums a float16 slice
    along a strided axis in float16) and for an exponent z_i - m that float16 rounds. Forms
    that add the maximum back get what they lose on float logits (_added_back); integer
    logits are exact, and none of the logits' size enters otherwise."""
    kind = _kind_of(z)
    eps = float(np.finfo(kind).eps)
    length = z.shape[axis] if z.ndim else 1
    if z.size == 0:
        return np.zeros(()), _TINY[kind]
    if kind == np.float64:
        return max(1e-13, 4.0 * eps * length) + _added_back(z, axis), _TINY[kind]
    w = z.astype(np.float64)
    gap = np.abs(w - w.max(axis=axis, keepdims=True))
    # (gap, not gap / 2: a right exp2(d * log2(e)) rounds both the product and the constant)
    rtol = eps * (1.5 + (length - 1) / 2 + gap + math.log(length) / 2)
    if kind == np.float32:
        rtol = np.maximum(2e-5, rtol)
    return rtol + _added_back(z, axis), _TINY[kind]


def _added_back_forms(z: np.ndarray, axis: int) -> list[np.ndarray]:
    """The log-sum-exp of each slice as the forms that add the maximum back compute it, in the
    type a right answer computes in: m + log(sum exp(z - m)), and np.logaddexp.reduce."""
    w = z.astype(_kind_of(z))
    with np.errstate(all="ignore"):
        m = w.max(axis=axis, keepdims=True)
        return [m + np.log(np.exp(w - m).sum(axis=axis, keepdims=True)),
                np.logaddexp.reduce(w, axis=axis, keepdims=True)]


def _added_back_problem(call: str, z: np.ndarray, axis: int, matches,
                        gives: str = "exp(z - lse)",
                        fix: str = "z - m - log(sum exp(z - m)) rounds only the small "
                                   "numbers (exp(z - m) / sum does the same)") -> None:
    """Raise when the result is what a form that adds the maximum back gives (``matches(lse)``
    for one of _added_back_forms), on logits where that loses digits: integer logits (exact)
    and float16 ones."""
    if z.size == 0 or not (z.dtype.kind in "iu" or z.dtype == np.float16):
        return
    for lse in _added_back_forms(z, axis):
        if not matches(lse):
            continue
        kind = _kind_of(z)
        step = float(np.spacing(kind.type(np.max(np.abs(z)))))
        why = ("these integer logits are exact, and the task asks for float64's precision, "
               "about 1e-13 relative" if z.dtype.kind in "iu" else
               "the probabilities move by far more than float16's own rounding of them")
        raise ExerciseError(
            f"{call} is what {gives} gives with the log-sum-exp lse = m + log(sum "
            f"exp(z - m)) (or np.logaddexp.reduce) computed in {kind.name}: lse is rounded to "
            f"{kind.name}'s step at the size of m, {step:.2g} here, and every probability "
            f"moves with it; {why}.",
            f"subtract the maximum first and keep the log of the sum apart: {fix}.")


#: Per result dtype, the exponent z_i - m below which exp rounds to exactly 0 in every right
#: form (half the smallest subnormal: exp(-745.1) in float64, exp(-104.0) in float32,
#: exp(-17.3) in float16), with a margin for the rounding of z - m: an entry there is 0.
_UNDERFLOW = {np.dtype(np.float16): -19.0, np.dtype(np.float32): -106.0,
              np.dtype(np.float64): -747.0}


def _not_underflowed(values: np.ndarray, z: np.ndarray, axis: int, dtype) -> np.ndarray:
    """Where ``values`` (results of ``dtype``) are not 0 although the exponent z_i - m is
    below ``dtype``'s underflow limit: an exponent clipped from below (at -745, say) keeps
    exp(-745) = 5e-324 there, within any tolerance of 0."""
    limit = _UNDERFLOW.get(np.dtype(dtype))
    # (only tiny values can hide there: a larger one is off by more than any tolerance)
    tiny = (values != 0) & (np.abs(values) <= 1e3 * _TINY.get(np.dtype(dtype), 0.0))
    if limit is None or z.size == 0 or not tiny.any():
        return np.zeros(values.shape, dtype=bool)
    w = z.astype(np.float64)
    return (w - w.max(axis=axis, keepdims=True) < limit) & tiny


def _clip_floor_problem(call: str, values: np.ndarray, z: np.ndarray, axis: int, dtype,
                        right: np.ndarray, kept: np.ndarray,
                        what: str = "probability") -> None:
    """Raise when the only wrong entries are ``kept`` ones, nonzero where exp underflows to 0
    (_not_underflowed): the mark of an exponent clipped from below."""
    if not np.any(kept) or not np.all(right | kept):
        return
    at = tuple(int(i) for i in np.argwhere(kept)[0])
    w = z.astype(np.float64)
    d = float((w - w.max(axis=axis, keepdims=True))[at])
    name = np.dtype(dtype).name
    raise ExerciseError(
        f"{call} gave {values[at]:.3g} at index {at}, where the answer is exactly 0: there "
        f"z_i - m = {d:.6g}, and exp of that underflows to 0 in {name} (below about "
        f"{_UNDERFLOW[np.dtype(dtype)] + 2:g}).",
        f"a {what} of 0 here is right: exponents clipped from below (np.clip(z - m, -745, "
        "None), np.maximum(z - m, -740)...) keep exp(-745) = 5e-324 where exp underflows to "
        "0. Let exp underflow, with nothing clipped.")


def _within(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> bool:
    with np.errstate(invalid="ignore"):
        return got.shape == expected.shape and bool(
            np.all(np.abs(got - expected) <= atol + rtol * np.abs(expected)))


_LOW_HINT = ("unshifted, exp of a logit below about -708 is a subnormal number, with only a "
             "few digits left, and below about -745 it is 0 (then 0 / 0 is NaN and log 0 is "
             "-inf). Subtract each row's own largest logit, whatever its sign, so that the "
             "row's largest exponent is exactly 0.")


_NEGATIVE_MAX_HINT = (
    "every logit of this row is negative and they spread over more than exp's limit (709.8 "
    "in float64, 88.7 in float32): a shift by anything other than the row's largest logit "
    "(its smallest, to bring the logits up, or none) leaves an exponent above that limit, and "
    "exp overflows. Subtract the row's own maximum whatever its sign: then the largest "
    "exponent is exactly 0 and the others are <= 0.")


def _narrow_exp_hint(dtype, got) -> str:
    """The hint for a narrow integer dtype's result (int8 to uint16: numpy's exp gives float16
    or float32, not float64)."""
    name = np.dtype(dtype).name
    return (f"numpy's exp of {'an' if name.startswith('int') else 'a'} {name} array is "
            f"{np.dtype(got).name}, not float64: convert the logits to float64 first (which "
            "also keeps the subtraction of the maximum from wrapping).")


def _int_hint(dtype, narrower: str) -> str:
    """The hint for a temperature that solves the problem for the integer logits converted
    to ``narrower`` (the one type that explains it)."""
    return (f"{np.dtype(dtype).name} and float64 hold these integer logits exactly, {narrower} "
            "does not (it rounds, overflows or wraps them): your T solves the problem for the "
            f"logits converted to {narrower}. Compute with the logits as they are: numpy's exp "
            "of an integer array, or an integer array divided by a float, is float64.")


def _narrower_types(note: str) -> list[str]:
    """The dtype names of a case's "ints" note ("float16, int16 or int8")."""
    return [n.strip() for n in note.replace(" or ", ", ").split(",") if n.strip()]


def _matching_conversion(z: np.ndarray, note: str, fits) -> str | None:
    """The one narrower type in ``note`` whose conversion of ``z`` explains the answer
    (``fits(converted logits as float64)`` is True for it and for no other), else None."""
    found = []
    for name in _narrower_types(note):
        with np.errstate(all="ignore"):
            converted = z.astype(name).astype(np.float64)
            try:
                if fits(converted):
                    found.append(name)
            except (ValueError, FloatingPointError, OverflowError):
                continue
    return found[0] if len(found) == 1 else None


def _shift_in_dtype(z: np.ndarray, axis: int) -> np.ndarray:
    """z - max(z) along ``axis`` computed in the logits' own integer dtype (where a difference
    that leaves the dtype's range wraps), then as float64."""
    with np.errstate(all="ignore"):
        return (z - z.max(axis=axis, keepdims=True)).astype(np.float64)


def _wrapped_softmax(z: np.ndarray, axis: int) -> list[np.ndarray]:
    """The softmax from the shift by the maximum computed in the logits' integer dtype (see
    _shift_in_dtype): exp(d) / sum, and a stable softmax of d (shifted again, in float64)."""
    d = _shift_in_dtype(z, axis)
    e = np.exp(d)
    return [e / e.sum(axis=axis, keepdims=True), _softmax(d, axis=axis)]


def _wrapped_losses(logits: np.ndarray, y) -> list[float]:
    """The loss from the shift by the maximum computed in the logits' integer dtype: log of
    the sum of exp(d) minus d_y, and the stable loss of d (shifted again, in float64)."""
    d = _shift_in_dtype(logits, 1)
    picked = d[np.arange(len(y)), np.asarray(y)]
    # (and with exp in numpy's type for the dtype: float16 for int8, float32 for int16)
    with np.errstate(all="ignore"):
        native = logits - logits.max(axis=1, keepdims=True)
        in_type = np.log(np.exp(native).sum(axis=1)) - native[np.arange(len(y)), np.asarray(y)]
    return [float(np.mean(np.log(np.exp(d).sum(axis=1)) - picked)), _cross_entropy(d, y),
            float(np.mean(in_type, dtype=np.float64))]


def _int_problem(call: str, got, expected, z: np.ndarray, note: str, compute, said,
                 wrapped=None) -> None:
    """Raise for a wrong result on large integer logits: say so when the answer is what the
    shift by the maximum computed in the logits' own dtype gives (one of ``wrapped()``, on
    logits whose differences leave that dtype: see _shift_in_dtype), name a narrower type
    only when the answer is what that type's conversion gives (and no other's), else say
    whether the digits are those of a lower precision, else print enough digits to show the
    difference."""
    got_a, want_a = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if wrapped is not None and z.size:
        def close(a, b) -> bool:
            return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-12,
                                                           equal_nan=True))

        with np.errstate(all="ignore"):
            forms = [np.asarray(w, dtype=float) for w in wrapped()]
            kept = any(close(got_a, w) and not close(w, want_a) for w in forms)
        if kept:
            info = np.iinfo(z.dtype)
            shown = show(np.asarray(got)) if got_a.ndim else pair(got_a, want_a)[0]
            raise ExerciseError(
                f"{call} gave {shown}{_warned(said)}; the answer is "
                f"{show(want_a) if want_a.ndim else pair(got_a, want_a)[1]}. That is what "
                f"z - max gives computed in {z.dtype.name}: {z.dtype.name} holds "
                f"{info.min:,} to {info.max:,}, and the difference of two of these logits "
                "leaves that range and wraps"
                + (" (an unsigned difference below 0 always does)." if info.min == 0 else "."),
                "convert integer logits to float64 before you subtract the maximum: a "
                "subtraction is done in the logits' own dtype (and numpy's exp of int8 or int16 "
                "logits is float16 or float32, not float64).")

    def same(a, b) -> bool:
        with np.errstate(all="ignore"):
            return a.shape == b.shape and bool(np.all(np.abs(a - b) <= 1e-6 + 1e-4 * np.abs(b)))

    name = _matching_conversion(
        z, note, lambda w: same(got_a, c := np.asarray(compute(w), dtype=float))
        and not same(c, want_a))
    if got_a.ndim == 0:
        shown, wanted = pair(got_a, want_a)
    else:
        worst = np.unravel_index(int(np.argmax(np.nan_to_num(np.abs(got_a - want_a),
                                                               nan=np.inf))), got_a.shape)
        shown, wanted = pair(got_a[worst], want_a[worst])
        shown, wanted = (f"{show(np.asarray(got))} (at index {tuple(int(i) for i in worst)}: "
                         f"{shown})", f"{show(want_a)} (there: {wanted})")
    text = f"{call} gave {shown}{_warned(said)}; the answer is {wanted}."
    if name is not None:
        raise ExerciseError(text, (
            f"{z.dtype.name} and float64 hold these integer logits exactly, {name} does not: "
            f"your result is what the logits converted to {name} give. Compute with the logits "
            "as they are: numpy's exp of an integer array, or an integer array divided by a "
            "float, is float64."))
    low = _precision_problem(got_a, want_a, np.float64, call)
    if low is not None:
        raise ExerciseError(low.problem, (
            "integer logits give float64 results: float32 arithmetic (or float16) keeps about 7 "
            "(or 3) digits, too few for the task. Convert integer logits to float64, or let "
            "numpy do it (exp of an integer array is float64)."))
    raise ExerciseError(text, (
        f"{z.dtype.name} and float64 hold these integer logits exactly: compute with them as "
        "they are, in float64. A conversion to a narrower type, or a step in a lower "
        "precision, changes the answer."))


def _precision_problem(got: np.ndarray, expected: np.ndarray, dtype, call: str):
    """An ExerciseError when ``got`` is right to a few digits only (rounding), else None."""
    # (float16 arithmetic is off by a few parts in 1e3; a wrong formula that happens to land
    # within 1 % of the answer on one batch is not rounding)
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=5e-3, atol=1e-3):
        return None
    worst = float(np.max(np.abs(got - expected)))
    if worst < 1e-13:  # a difference among the tiniest values, not rounding of the digits
        return None
    kind = np.dtype(dtype if np.dtype(dtype).kind == "f" else np.float64)
    return ExerciseError(
        f"{call} is right to about {max(1, int(-np.log10(worst)))} decimals only (largest "
        f"difference {worst:.1e}), where {kind.name} keeps about {np.finfo(kind).precision} "
        "digits.",
        "a difference this small comes from rounding: a lower precision (float32 or float16) "
        "somewhere in the computation, a rounded result, or a small constant added to a sum "
        "or a logarithm. Compute in the input's own precision, with nothing added.")


# --------------------------------------------------------------------------------------
# Exercise 1: a numerically stable softmax over any axis
# --------------------------------------------------------------------------------------

_WRITE_SOFTMAX = Forbidden(
    ("helpers.activations:*", "helpers.nn:*", "scipy*:*", "torch*:*"),
    why="the task asks you to write the softmax yourself with numpy (not the course's "
        "softmax or log_softmax, nor scipy's or PyTorch's)")
_SOFTMAX_SHAPES = ("a reduction along `axis` drops that axis unless you keep it (keepdims=True); "
                   "only then does the result line up with z for the subtraction and the "
                   "division.")


def _distinct_shape(rng, ndim: int) -> tuple[int, ...]:
    """``ndim`` different sizes from 2 to 6: a transposed or wrong axis shows."""
    return tuple(int(n) for n in rng.choice(np.arange(2, 7), size=ndim, replace=False))


def _logits(rng, shape, scale: float = 2.0, offset: float = 0.0, dtype=np.float64):
    return (offset + rng.normal(0.0, scale, shape)).astype(dtype)


def _kind_logits(rng, shape, dtype) -> np.ndarray:
    """Logits of a work pair of another kind: integers (-20 to 20) or floats of ``dtype``."""
    if np.dtype(dtype).kind == "i":
        return rng.integers(-20, 21, shape).astype(dtype)
    return _logits(rng, shape, 2.0, dtype=dtype)


#: The other kinds of input measured for Python work (kind, dtype, small and large shapes,
#: softmax's axis): a loop kept for one of them only shows on its pair.
_SOFTMAX_KINDS = (("float32", np.float32, WORK_SHAPES[:2], -1),
                  ("float16", np.float16, WORK_SHAPES[:2], -1),
                  ("integers", np.int64, WORK_SHAPES[:2], -1),
                  ("three axes, the middle one", np.float64, ((2, 3, 4), (12, 13, 14)), 1))
_BATCH_KINDS = (("float32", np.float32), ("integer", np.int64))


def _sm_case(label: str, z: np.ndarray, *more, twice: bool = False, **extra) -> Case:
    """A case of ``stable_softmax(z[, axis])``; with ``twice``, ``more`` is (z2, axis): two
    calls in a row, the second on z2."""
    again, axis = (more[:1], more[1:]) if twice else ((), more)
    kwargs = {"axis": axis[0]} if axis and axis[0] is not None else {}
    extra.setdefault("driver", "ch04.softmax_twice" if twice else "ch04.softmax")
    return Case(label, (z, *again), kwargs, **extra)


# Integer logits B + 1, B and -B: the notes say what cannot hold them exactly. Large enough
# that 8-, 16- and (for int64) 32-bit integers wrap B to a negative number and -B to a
# positive one, and that float16 (float32 for int64) rounds B + 1 and B alike or overflows.
INT32_NOTE = {"ints": "float16, int16 or int8"}
INT64_NOTE = {"ints": "float32, float16, int32, int16 or int8"}


def _int_logits(rng, dtype, k: int = 3) -> np.ndarray:
    """[B + 1, B, -B] (and k - 3 small integers) in a random order, of ``dtype``: for int32
    B is near 50,000, for int64 above 2^31. B = 128 + j (mod 256) with 0 < j <= 100, and
    B = 2^15 + 128 + j (mod 2^16) for int64, so each narrower integer type flips the signs."""
    j = int(rng.integers(1, 101))
    if np.dtype(dtype) == np.int64:
        big = 2**31 + 2**16 * int(rng.integers(0, 2**15 - 1)) + 2**15 + 128 + j
    else:
        big = 256 * int(rng.integers(157, 233)) + 128 + j
    values = [big + 1, big, -big] + [int(v) for v in rng.integers(-50, 51, size=k - 3)]
    return np.array(values, dtype=dtype)[rng.permutation(k)]


#: The integer dtypes of the wide cases, signed and unsigned: logits whose differences leave
#: the dtype's range (an unsigned difference below 0 always does).
_WIDE = ("int8", "int16", "int32", "uint8", "uint16", "uint32", "uint64")
#: The narrower types that change a wide case's softmax on every draw, rounding its top two
#: logits alike or wrapping its top quarter below its bottom one (for the "ints" diagnosis).
_WIDE_NARROWER = {"int8": "uint8", "int16": "float16", "int32": "float32 or float16",
                  "uint8": "int8", "uint16": "float16 or int16", "uint32": "float32 or int32",
                  "uint64": "float32"}


def _wide_ints(rng, rows: int, k: int, kinds: tuple[str, ...]) -> np.ndarray:
    """Integer logits of shape (rows, k), of a dtype drawn from ``kinds``, whose differences
    leave the dtype's range: a row whose top two logits (1 to 3 apart) sit in the top quarter
    of the dtype's range and the others in the bottom quarter, a row of logits near the
    dtype's minimum (within 30 of one another), the others drawn over the whole range with
    their top two 1 to 3 apart; the rows and each row's classes in a random order. uint64
    logits stay below 2^33 (billions, as the task promises)."""
    dtype = np.dtype(str(rng.choice(kinds)))
    info = np.iinfo(dtype)
    top, low = min(int(info.max), 2**33), int(info.min)
    quarter = (top - low) // 4
    z = np.empty((rows, k), dtype=object)
    for r in range(rows):
        gap = int(rng.integers(1, 4))
        if r == 0:
            hi = top - int(rng.integers(0, quarter))
            rest = [low + int(rng.integers(0, quarter)) for _ in range(k - 2)]
        elif r == 1:
            base = low + int(rng.integers(0, 30))
            hi, rest = base + 30, [base + int(rng.integers(0, 30 - gap)) for _ in range(k - 2)]
        else:
            hi = int(rng.integers(low + quarter, top, endpoint=True))
            rest = [int(rng.integers(low, hi - gap, endpoint=True)) for _ in range(k - 2)]
        z[r] = np.array([hi, hi - gap, *rest], dtype=object)[rng.permutation(k)]
    return z[rng.permutation(rows)].astype(dtype)


def _wide_label(z: np.ndarray) -> str:
    return (f"integer logits ({z.dtype.name}) from {int(z.min()):,} to {int(z.max()):,}: "
            f"their differences do not all fit in {z.dtype.name}")


def _dyadic(z: np.ndarray) -> np.ndarray:
    """``z`` rounded to multiples of 1/64: sums of such logits are exact in any order."""
    return np.round(z * 64) / 64


def _label_swap(rng, logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``logits`` with the labelled logits of two samples swapped (two different numbers, not
    the batch's first or last logit): each of those samples' losses changes."""
    z = logits.copy()
    n, k = z.shape
    # not the batch's first or last logit: those stay in place too
    rows = np.array([r for r in range(n) if (r, y[r]) not in ((0, 0), (n - 1, k - 1))])
    for _ in range(20 if rows.size >= 2 else 0):
        r1, r2 = rng.choice(rows, 2, replace=False)
        if z[r1, y[r1]] != z[r2, y[r2]]:
            z[r1, y[r1]], z[r2, y[r2]] = z[r2, y[r2]], z[r1, y[r1]]
            break
    return z


def _draw_softmax(rng) -> list[Case]:
    k = int(rng.integers(3, 7))
    tie = float(rng.choice([-1.0, 1.0]) * rng.uniform(5e3, 1e4))
    two = _distinct_shape(rng, 2)
    three = _distinct_shape(rng, 3)
    n, k2 = two
    shape3 = _distinct_shape(rng, 3)
    same = _dyadic(_logits(rng, two))
    cases = [
        _sm_case(f"1-D logits of length {k}, the default axis", _logits(rng, (k,))),
        _sm_case(f"a 2-D array of shape {two}, the default axis", _logits(rng, two)),
        _sm_case(f"a 2-D array of shape {two}, axis=0", _logits(rng, two), 0),
        _sm_case(f"a 2-D array of shape {two}, axis=1", _logits(rng, two), 1),
        _sm_case(f"a 2-D array of shape {two}, axis=-2", _logits(rng, two), -2),
        # The middle axis of a 3-D array spelled -2 (and 1, below: the (2, 3, 2) case), on
        # every draw: an answer that maps -2 to 0 (written for 2-D arrays) shows.
        _sm_case(f"a 3-D array of shape {three}, axis=-2", _logits(rng, three), -2),
        _sm_case(f"a 3-D array of shape {three}, axis=0", _logits(rng, three), 0),
        _sm_case(f"a 3-D array of shape {three[::-1]}, axis=-3", _logits(rng, three[::-1]), -3),
        _sm_case(f"{k} equal logits of {tie:.6g}: a tie, each gets 1/{k}", np.full(k, tie),
                 note={"low": True} if tie < 0 else {}),
        _sm_case("logits of +1e4, 0 and -1e4 in one slice",
                 rng.permutation(np.array([1e4, 0.0, -1e4, rng.uniform(-10, 10)]))),
        _sm_case("every logit near +1000", _logits(rng, (k,), 1.0, 1000.0)),
        _sm_case("every logit near -1000", _logits(rng, (k,), 1.0, -1000.0),
                 note={"low": True}),
        _sm_case("every logit near -730 (exp of each is below 1e-308, where float64 keeps "
                 "only a few digits)", _logits(rng, (k,), 1.0, -730.0), note={"tiny": True}),
        _sm_case("float32 logits near -95 (exp of each is below 1e-38, where float32 keeps "
                 "only a few digits)", _logits(rng, (k,), 1.0, -95.0, np.float32),
                 note={"tiny": True}),
        _sm_case("logits -300 and -800 (unshifted, exp(-800) underflows to 0, while the "
                 "smaller probability is not 0)",
                 rng.permutation(np.array([-300.0, -800.0])), note={"spread": True}),
        _sm_case("float32 logits -40 and -110 (unshifted, exp(-110) underflows to 0 in "
                 "float32, while the smaller probability is not 0)",
                 rng.permutation(np.array([-40.0, -110.0], dtype=np.float32)),
                 note={"spread": True}),
        # A negative maximum and a spread above exp's limit: a shift by the minimum (or none)
        # when every logit is negative overflows here.
        _sm_case(f"a slice whose largest logit is negative, {(neg := _negative_max(rng))[0]:.4g}, "
                 f"and whose smallest is {neg.min():.4g} (a spread above 709)",
                 rng.permutation(neg), note={"negmax": True}),
        _sm_case(f"float32 logits whose largest is negative, "
                 f"{(neg32 := _negative_max(rng, np.float32))[0]:.4g}, and whose smallest is "
                 f"{neg32.min():.4g} (a spread above 88.7, float32's exp limit)",
                 rng.permutation(neg32), note={"negmax": True}),
        _sm_case(f"float16 logits of length {k} (the result stays float16)",
                 _logits(rng, (k,), 1.0, dtype=np.float16)),
        _sm_case(f"slices of very different scale (a row near 0, the others near 1000), "
                 f"shape {two}, axis=1", _mixed_scales(rng, two), 1, note={"mixed": True}),
        _sm_case(f"slices of very different scale (a column near 0, the others near -1000), "
                 f"shape {two[::-1]}, axis=0", _mixed_scales(rng, two, -1.0).T.copy(), 0,
                 note={"mixed": True}),
        _sm_case(f"one sample: shape (1, {k2}), axis=-1", _logits(rng, (1, k2)), -1),
        _sm_case(f"one sample along axis 0: shape (1, {k2}), axis=0 (every value is 1)",
                 _logits(rng, (1, k2)), 0),
        _sm_case(f"one class: shape ({n}, 1), axis=1 (every value is 1)",
                 _logits(rng, (n, 1), 100.0), 1),
        _sm_case(f"an empty batch: shape (0, {k2}), axis=-1", np.zeros((0, k2))),
        _sm_case(f"an empty float32 batch: shape (0, {k}), axis=-1 (float32 stays float32)",
                 np.zeros((0, k), dtype=np.float32)),
        _sm_case(f"an empty float16 batch: shape (0, {k2}), axis=-1 (float16 stays float16)",
                 np.zeros((0, k2), dtype=np.float16), -1),
        _sm_case(f"an empty integer batch (int64): shape (0, {k}), axis=1 (integers give "
                 "float64)", np.zeros((0, k), dtype=np.int64), 1),
        # Two equal logits: every right form gives 1/2 to a unit in the last place, so a
        # constant of 1e-14 added to the sum (2e-15 of 1/2) shows.
        _sm_case(f"two equal logits of {(c2 := int(rng.integers(-3, 4)))}: each gets exactly 1/2",
                 np.full(2, float(c2)), note={"exact": True}),
        _sm_case("float32 logits of +1e4, 0 and -1e4",
                 np.array([[1e4, 0.0, -1e4], [0.0, -1e4, 1e4]], dtype=np.float32)[
                     :, rng.permutation(3)], -1),
        _sm_case("float32 logits near 90 (exp(89) overflows float32)",
                 _logits(rng, (k,), 1.0, 90.0, np.float32)),
        _sm_case(f"float32 logits of shape {two}, axis=0",
                 _logits(rng, two, 3.0, dtype=np.float32), 0),
        _sm_case(f"integer logits (int64) of shape {two}, axis=1",
                 rng.integers(-8, 9, size=two), 1),
        _sm_case("integer logits (int32) near +-50,000, the top two 1 apart (exact in int32, "
                 "not in float16 or int16)", _int_logits(rng, np.int32, 4), note=INT32_NOTE),
        _sm_case("integer logits (int64) near +-3e9, the top two 1 apart (exact in int64, not "
                 "in float32 or int32)", _int_logits(rng, np.int64, 4), note=INT64_NOTE),
        _sm_case(f"two calls in a row, on two arrays of shape {two}, axis=1 (the first result "
                 "must keep its values)", _logits(rng, two), _logits(rng, two), 1,
                 twice=True),
        # Large ones too: a buffer kept for large inputs only shows here.
        _sm_case("two calls in a row, on two arrays of shape (200, 100), axis=1 (the first "
                 "result must keep its values)", _logits(rng, (200, 100)),
                 _logits(rng, (200, 100)), 1, twice=True),
        # Extremes in 3-D along the middle axis, and in float16: a shift written only for the
        # common cases shows.
        _sm_case("a 3-D array of shape (2, 3, 2), axis=1, slices near +1000 and near -1000",
                 _logits(rng, (2, 3, 2)) + np.array([1000.0, -1000.0])[:, None, None], 1),
        _sm_case("float16 logits 12, 0 and -12 (exp(12) overflows float16)",
                 rng.permutation(np.array([12.0, 0.0, -12.0], dtype=np.float16))),
        _sm_case(f"float16 logits near {(h16 := _float16_far(rng))[0]:.6g} (beyond float32's exp "
                 "limit, 88.7, and within float16's range)", rng.permutation(h16)),
        _sm_case(f"float16 logits near {(c16 := _float16_close(rng))[0]:.6g}, three of them "
                 "within 12 of each other (each probability is a number, not 0)",
                 rng.permutation(c16)),
        # Two classes far apart: an answer that takes the sigmoid's two-class form (section
        # 1's sigmoid is a two-class softmax) without a shift overflows here.
        _sm_case("two classes 1000 apart: rows near [1000, 0] and [0, 1000], axis=-1",
                 np.array([[1000.0, 0.0], [0.0, 1000.0]]) + rng.normal(0.0, 1.0, (2, 2)), -1),
        _sm_case("float32 logits of two classes 100 apart (exp(100) overflows float32)",
                 np.array([[100.0, 0.0], [0.0, 100.0]], dtype=np.float32), -1),
        _sm_case("float16 logits 12 and 0: two classes (exp(12) overflows float16)",
                 rng.permutation(np.array([12.0, 0.0], dtype=np.float16))),
        _sm_case("probabilities from 1 down to about 1e-313 (logits 0 and about -100, -300, "
                 "-500, -600, -690 and -720): the tiny ones are numbers too",
                 rng.permutation(np.array([0.0, -100.0, -300.0, -500.0, -600.0, -690.0, -720.0])
                                 + np.r_[0.0, rng.uniform(-5.0, 5.0, 6)])),
        # ... and of its last axis: 2, -1 and the default (an answer that takes -1 for 1,
        # written for 2-D arrays, shows).
        _sm_case(f"a 3-D array of shape {shape3}, axis=2: the last axis",
                 _logits(rng, shape3), 2),
        _sm_case(f"a 3-D array of shape {shape3}, axis=-1: the last axis",
                 _logits(rng, shape3), -1),
        _sm_case(f"a 3-D array of shape {shape3}, the default axis (the last)",
                 _logits(rng, shape3)),
        _sm_case(f"two calls in a row on equal logits (two arrays of shape {two}, axis=1): "
                 "each result is an array of its own", same, same.copy(), 1, twice=True),
        # The first call here is judged, on the last case's logits with two inner values
        # swapped (the same summaries, the same values at every other place): nothing may be
        # kept from an earlier call.
        _sm_case(f"two calls in a row, on the last case's logits (shape {two}) with two values "
                 "swapped, then on those, axis=1",
                 swapped_inner(rng, same), same.copy(), 1, twice=True),
        # The largest logit inside a slice, neither its first nor its last value: a shift by
        # the larger end overflows.
        _sm_case("one slice whose largest logit, 800, is neither the first nor the last",
                 np.array([rng.uniform(-5, 5), 800.0, rng.uniform(-5, 5), rng.uniform(-5, 5)])),
    ]
    # A long row whose one large logit sits at a drawn place: a maximum taken over part of
    # the row (every 64th class, the ends) misses it, and exp overflows.
    long_row = rng.normal(0.0, 1.0, (1, int(rng.integers(1500, 3000))))
    spot = int(rng.integers(1, long_row.shape[1] - 1))
    spot += 1 if spot % 8 == 0 else 0
    long_row[0, spot] = float(rng.uniform(900, 1000))
    cases.append(_sm_case(f"one row of {long_row.shape[1]:,} classes whose class {spot} has a "
                          f"logit of {long_row[0, spot]:.4g}, the others near 0, axis=1",
                          long_row, 1))
    # Slices whose maxima are a drawn distance apart (51 to 700 in float64, 25 to 85 in
    # float32), the lower one spreading far below its maximum: a shift by the array's
    # maximum when the slices' maxima are "close" (whatever the threshold) loses the lower
    # slice's small probabilities, which its own shift keeps.
    for dtype, name in ((np.float64, "float64"), (np.float32, "float32")):
        apart, spread = _apart_slices(rng, dtype)
        cases.append(_sm_case(f"{name} rows whose largest logits are "
                              f"{float(np.ptp(apart.max(axis=1))):.4g} apart, the lower row "
                              f"spreading {spread:.4g} below its own largest, axis=1",
                              apart, 1, note={"mixed": True}))
    # Probabilities near 1 (1 - p from the dtype's resolution up to 0.2) in every dtype: a
    # top probability set to 1 above a threshold shows, whatever the threshold.
    for dtype, name in ((np.float64, "float64"), (np.float32, "float32"),
                        (np.float16, "float16"), (np.int64, "integer (int64)")):
        rows, kk = int(rng.integers(4, 9)), 3 if dtype == np.float16 else int(rng.integers(3, 7))
        near, _ = _near_one(rng, dtype, rows, kk, far=True)
        near_axis = int(rng.choice([0, 1, -1, -2]))
        near = near if near_axis in (1, -1) else near.T.copy()
        cases.append(_sm_case(f"{name} logits of shape {near.shape}, axis={near_axis}: each "
                              "slice's top probability near 1, from 0.8 to 1 minus a few "
                              f"steps of its dtype, one slice {_far_below(dtype):g} below the "
                              "others", near, near_axis, note={"nearone": True}))
    # Integer logits whose differences leave their dtype's range, of a drawn signed or
    # unsigned dtype: a shift by the maximum computed in that dtype wraps.
    wide = _wide_ints(rng, int(rng.integers(3, 5)), int(rng.integers(3, 6)), _WIDE)
    wide_axis = int(rng.choice([0, 1, -1, -2]))
    wide = wide if wide_axis in (1, -1) else wide.T.copy()
    cases.append(_sm_case(f"{_wide_label(wide)}, axis={wide_axis}", wide, wide_axis,
                          note={"ints": _WIDE_NARROWER[wide.dtype.name], "wide": True}))
    for dtype in (np.float64, np.float64, np.float32):
        ndim = int(rng.integers(1, 4))
        shape = _distinct_shape(rng, ndim)
        axis = int(rng.integers(-ndim, ndim))
        scale, offset = float(rng.choice([0.5, 3.0, 30.0])), float(rng.uniform(-500, 500))
        cases.append(_sm_case(f"random {np.dtype(dtype).name} logits of shape {shape}, "
                              f"axis={axis}", _logits(rng, shape, scale, offset, dtype), axis))
    # A work pair of each other kind of logits (a loop kept for float32, integer or 3-D
    # logits only is measured too); the 2-D ones along their last axis spelled each way on
    # every draw, -1, 1 and the default, in a drawn order (a loop kept for one spelling shows).
    spellings = iter([(-1, 1, None)[int(i)] for i in rng.permutation(3)])
    for kind, dtype, shapes, kind_axis in _SOFTMAX_KINDS:
        spelled = next(spellings) if kind_axis == -1 else kind_axis
        for case in work_cases(lambda shape, large, dtype=dtype: _kind_logits(rng, shape, dtype),
                               shapes=shapes, name=f"{kind}: "):
            case.driver = "ch04.softmax"
            case.kwargs = {} if spelled is None else {"axis": spelled}
            case.label += ", the default axis" if spelled is None else f", axis={spelled}"
            cases.append(case)
    # Vectorised, and right at every size: slices of hundreds along an axis that is not the
    # default one (an answer that changes its ways on a large input shows).
    axis = int(rng.choice([0, -2]))
    for case in work_cases(lambda shape, large: _logits(rng, shape, 3.0 if large else 2.0)):
        case.driver, case.kwargs = "ch04.softmax", {"axis": axis}
        case.label += f", axis={axis}"
        cases.append(case)
    # Timed, with one long axis: a loop over the rows or the classes driven from C shows.
    # (The last axis spelled 1 in one of them and -1 in the other, in a drawn order.)
    many_rows, many_classes = _long_axes(rng)
    lasts = [int(a) for a in rng.permutation([1, -1])]
    for (z, what), last in zip(((many_rows, "100,000 rows of 2 classes, every other row near "
                                             "1000 and the rest near 0"),
                                (many_classes, "one row of 600,000 classes")), lasts):
        cases.append(_sm_case(f"{what}, axis={last} (timed against numpy's whole-array "
                              "formulas)", z, last, driver="ch04.softmax_timed",
                              note={"mixed": True} if z is many_rows else {}))
    return cases


def _long_axes(rng, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Logits of shape (100,000, classes), every other row near 1000 (slices of different
    scale on a large input), and of shape (1, 600,000) (more values than an answer that
    changes its ways above 500,000 expects)."""
    many_rows = rng.normal(0.0, 2.0, (100_000, classes))
    many_rows[1::2] += 1000.0
    return many_rows, rng.normal(0.0, 3.0, (1, 600_000))


def _negative_max(rng, dtype=np.float64) -> np.ndarray:
    """Logits whose largest is negative, [top, near top, far below]: the spread is above exp's
    limit (709.8 in float64, 88.7 in float32), so exp of the difference to the minimum
    overflows. The largest comes first."""
    if np.dtype(dtype) == np.float32:
        top, spread = -float(rng.uniform(1.0, 30.0)), float(rng.uniform(100.0, 200.0))
    else:
        top, spread = -float(rng.uniform(1.0, 300.0)), float(rng.uniform(750.0, 1000.0))
    return np.array([top, top - float(rng.uniform(0.5, 3.0)), top - spread], dtype=dtype)


def _float16_close(rng) -> np.ndarray:
    """float16 logits [B, B - g1, B - g2] with |B| from 100 to 8,000 (either sign) and gaps of
    whole float16 steps up to 12: three distinct probabilities, none 0 (an answer judged
    against a tolerance that grows with |B| could return anything there). The largest comes
    first."""
    big = float(np.float16(rng.choice([-1.0, 1.0]) * np.exp(rng.uniform(np.log(100.0),
                                                                        np.log(8000.0)))))
    step = float(np.spacing(np.float16(abs(big))))
    first = step * int(rng.integers(1, max(1, int(3.0 / step)) + 1))
    second = first + step * int(rng.integers(1, max(1, int(8.0 / step)) + 1))
    return np.array([big, big - first, big - second], dtype=np.float16)


def _float16_far(rng) -> np.ndarray:
    """float16 logits [B, B - 1, B - d] with |B| from 110 to 60,000 (either sign) and d from 20
    to 50: exp(B) overflows float32 (above 88.7) or underflows to 0 (below -103), so float16
    computed in float32 without a shift shows; exp(d) overflows float16, so a shift by the
    minimum does too. The largest comes first."""
    big = float(rng.choice([-1.0, 1.0]) * np.exp(rng.uniform(np.log(110.0), np.log(60_000.0))))
    return np.array([big, big - 1.0, big - float(rng.uniform(20.0, 50.0))], dtype=np.float16)


def _mixed_scales(rng, shape, sign: float = 1.0) -> np.ndarray:
    """Rows of one array at very different scales: the first near 0, the rest near 1000."""
    z = rng.normal(0.0, 1.0, shape)
    z[1:] += sign * rng.uniform(900.0, 1100.0, (shape[0] - 1, 1))
    return z


#: Per dtype, where a right answer's probability near 1 stops being distinguishable from 1
#: (the 1 - p the check still tells apart: a few times its tolerance at the top entry), and the
#: dtype the rows are made in (integer logits: int64, judged as float64).
_NEAR_ONE_FLOOR = {np.dtype(np.float64): 3e-13, np.dtype(np.int64): 5e-13,
                   np.dtype(np.float32): 6e-5, np.dtype(np.float16): 4e-3}


#: How far one row of a near-one case (and of the random float16 batch) sits below the
#: others: exp of every logit of that row underflows, in any precision an answer computes
#: in, unless the row's own maximum is subtracted (a maximum clamped at 0, or the whole
#: array's, shows in every dtype).
def _far_below(dtype) -> float:
    """How far below the others a "far" row sits: exp of its logits underflows in its dtype
    unless the row's own maximum is subtracted (float16's exp underflows below about -17,
    float32's below -104, float64's below -745). float32 gets 200, no more: the rounding of a
    log-sum-exp at the scale of 1000 would widen the loss's tolerance (_added_back) past the
    small losses of the near-one rows beside it."""
    return 200.0 if np.dtype(dtype) == np.float32 else 1000.0


def _near_one(rng, dtype, rows: int, k: int, floor: float | None = None,
              ceiling: float = 0.2, far: bool = False):
    """(logits of shape (rows, k), the top class of each row): rows whose top probability p
    is near 1, 1 - p from ``floor`` (a few times what the dtype tells apart) up to
    ``ceiling``: one row in each of ``rows`` equal steps of log(1 - p), drawn within its step,
    the lowest within twice the floor; the rows in a random order (the first and last
    included). The top class sits at a random column, the others 0 to 2 below
    one another; float logits get a random offset. With ``far``, one drawn row sits
    _far_below(dtype) lower than the others."""
    dtype = np.dtype(dtype)
    floor = _NEAR_ONE_FLOOR[dtype] if floor is None else floor
    edges = np.linspace(np.log(floor), np.log(ceiling), rows + 1)
    q = np.exp(rng.uniform(edges[:-1], edges[1:]))
    q[0] = floor * float(rng.uniform(1.0, 2.0))
    q = q[rng.permutation(rows)]
    integer = dtype.kind in "iu"
    below = (rng.integers(0, 3, (rows, k - 1)) if integer else
             rng.uniform(0.0, 2.0, (rows, k - 1))).astype(np.float64)
    total = np.exp(-below).sum(axis=1)
    gap = np.log(total * (1.0 - q) / q)  # 1 - p = S e^-g / (1 + S e^-g) = q
    if integer:
        # (a whole gap moves 1 - p by up to e^0.5 either way: kept above the floor)
        gap = np.floor(gap)
    offset = 0.0 if integer else float(rng.uniform(-10.0, 10.0) if dtype == np.float16
                                       else rng.uniform(-50.0, 50.0))
    top = rng.integers(0, k, rows)
    z = np.empty((rows, k))
    for r in range(rows):
        others = offset - gap[r] - below[r]
        z[r] = np.insert(others, top[r], offset)
    if far:
        z[int(rng.integers(0, rows))] -= _far_below(dtype)
    return z.astype(dtype), top


def _apart_slices(rng, dtype) -> tuple[np.ndarray, float]:
    """Two rows of 4 logits (in a random order), the second's largest d below the first's
    and its smallest s below its own largest: exp(-s) is a normal number while exp(-(d + s))
    underflows (float64: d log-uniform from 51 to 700, s up to 700; float32: d from 25 to 85,
    s up to 85)."""
    high, low = (745.0, 700.0) if np.dtype(dtype) == np.float64 else (104.0, 85.0)
    d = float(np.exp(rng.uniform(np.log(high + 6.0 - low), np.log(low))))
    s = float(rng.uniform(max(high + 5.0 - d, 10.0), low))
    upper = rng.normal(0.0, 1.0, 4)
    upper[0] = 2.0
    lower = np.array([2.0 - d, 2.0 - d - rng.uniform(0.5, 3.0), 2.0 - d - s / 2, 2.0 - d - s])
    rows = np.array([rng.permutation(upper), rng.permutation(lower)])
    return rows[rng.permutation(2)].astype(dtype), s


def _softmax_reference(case: Case) -> np.ndarray:
    """The softmax of the case's (first) z along its axis."""
    return _softmax(case.args[0], axis=case.kwargs.get("axis", -1))


def _for_z(z: np.ndarray) -> str:
    if z.size <= 12:
        return f" for z = {show(z)}"
    return f" for z of shape {z.shape}"


def _judge_softmax(case: Case, obs, expected) -> None:
    z = case.args[0]
    axis = case.kwargs.get("axis", -1)
    call = "`stable_softmax(z" + (f", axis={axis}" if "axis" in case.kwargs else "") + ")`"
    value, said = _unwrap(obs, "`stable_softmax`", case)
    got = expect_ndarray(value, call)
    if got.shape != z.shape:
        expect_ndarray(got, call, shape=z.shape, input_shape=z.shape, hint=(
            "the softmax has the shape of its input: reduce along `axis` with keepdims=True "
            "so the shapes line up, and return the probabilities of every slice."))
    want = z.dtype if z.dtype.kind == "f" else np.dtype(np.float64)
    if got.dtype != want:
        if z.dtype.kind in "iu" and got.dtype.kind in "iub":
            raise ExerciseError(
                f"{call} returned {got.dtype} for integer logits{_for_z(z)}: probabilities "
                "cast to an integer dtype are all rounded down to 0 (or 1).",
                "the task asks for float64 probabilities from integer logits: keep the input's "
                "dtype only when it is a float dtype.")
        if z.dtype.kind in "iu":
            raise ExerciseError(
                f"{call} returned {got.dtype} for {z.dtype} logits; the task asks for float64 "
                "probabilities from integer logits.",
                "numpy's exp of an int64 or int32 array is float64: no conversion is needed."
                if z.dtype.itemsize >= 4 else
                _narrow_exp_hint(z.dtype, got.dtype))
        raise ExerciseError(
            f"{call} returned {got.dtype}; for {z.dtype} logits the task asks for {z.dtype} "
            "probabilities (keep the input's dtype).",
            "numpy keeps an array's dtype as long as every step works on arrays of that dtype; "
            "converting the input (or an intermediate result) to another float type changes "
            "the dtype, and the precision, of everything after it.")
    if z.size == 0:
        return
    values = got.astype(float)
    mixed = bool(case.note.get("mixed"))
    rtol, atol = _float_tolerance(z, axis)
    if case.note.get("exact"):  # (right forms give 1/2 to a unit in the last place)
        rtol = 1.5e-15
    with np.errstate(invalid="ignore"):
        rest = np.abs(values - expected) <= atol + rtol * np.abs(expected)
    kept = _not_underflowed(values, z, axis, got.dtype)
    _clip_floor_problem(f"{call}{_for_z(z)}", values, z, axis, got.dtype, rest, kept)
    rest &= ~kept
    right = bool(rest.all())
    if not right:
        ones = ~rest & (values == 1.0) & (expected < 1.0)
        if np.any(ones) and np.all(rest | ones):
            at = tuple(int(i) for i in np.argwhere(ones)[0])
            raise ExerciseError(
                f"{call}{_for_z(z)} gave exactly 1 at index {at}, where the answer is 1 - "
                f"{1.0 - expected[at]:.3g}: a probability near 1 rounded to 1 ({z.dtype} "
                "logits).",
                "exp(0) / sum is below 1 whenever another class has a probability that is not "
                "0: keep what the division gives, to the last digit of the dtype, with nothing "
                "rounded to 1.")
        if mixed and z.dtype.kind == "f":
            with np.errstate(all="ignore"):
                e = np.exp(z - z.max())
                whole = (e / e.sum(axis=axis, keepdims=True)).astype(float)
            if _within(values, whole, rtol, atol) and not _within(whole, expected, rtol, atol):
                raise ExerciseError(
                    f"{call}{_for_z(z)} gave {show(got)}; the answer is {show(expected)}. That "
                    "is what a shift by the whole array's largest logit gives: the lower "
                    "slice's small probabilities underflow to 0, which its own maximum keeps.",
                    "the constant subtracted from a slice must come from that slice (its own "
                    "maximum, keepdims=True), however close the slices' maxima are.")
        # (tiny: a flush of small values, not an entry left out, shows here)
        flushed = (values == 0) & (expected > atol) & (expected < 1e-20)
        if np.any(flushed) and np.all(rest | flushed):
            at = tuple(int(i) for i in np.argwhere(flushed)[0])
            raise ExerciseError(
                f"{call}{_for_z(z)} gave 0 at index {at}, where the answer is "
                f"{expected[at]:.6g}: a tiny probability set to 0.",
                "exp(z_i - m) / sum is a number however small (down to subnormal numbers, near "
                "1e-320 in float64): keep what exp and the division give, with nothing flushed "
                "or rounded to 0.")
        with np.errstate(all="ignore"):
            _added_back_problem(f"{call}{_for_z(z)}", z, axis, lambda lse: (lambda ab: _within(
                values, ab, rtol, atol) and not _within(ab, expected, rtol, atol))(
                np.exp(z.astype(_kind_of(z)) - lse).astype(float)))
    if case.note.get("ints") and not right:
        _int_problem(f"{call}{_for_z(z)}", values, expected, z, case.note["ints"],
                     lambda w: _softmax(w, axis=axis), said,
                     wrapped=(lambda: _wrapped_softmax(z, axis)) if case.note.get("wide")
                     else None)
    if not np.all(np.isfinite(values)):
        raise ExerciseError(
            f"{call}{_for_z(z)} gave {show(got)}{_warned(said)}; the answer is "
            f"{show(expected)}.",
            "the slices of this array differ in scale by about 1000: the constant you subtract "
            "must come from each slice itself, so that every slice's largest exponent is "
            "exactly 0 (its sum is then >= 1, never 0 or inf)." if mixed else
            _LOW_HINT.replace("row", "slice") if case.note.get("low") else
            _NEGATIVE_MAX_HINT.replace("row", "slice") if case.note.get("negmax") and any(
                "overflow" in w for w in said) else
            "exp of a large logit overflows to inf (above about 709.8 in float64, 88.7 in "
            "float32) and of a very negative one underflows to 0, so inf/inf or 0/0 gives NaN. "
            "Softmax does not change when you add the same constant to every logit of a slice: "
            "choose the constant so that exp only sees values <= 0.")
    if right:
        if said:
            raise ExerciseError(
                f"{call}{_for_z(z)} gave the right probabilities, but numpy warned on the way: "
                f"{said[0]}.",
                "the task asks for no overflow at all, not a repair after it: shift the logits "
                "of each slice before exp so that exp only sees values <= 0.")
        return
    # (only when the smallest probability differs: the right values in another order are
    # some other mistake, a result kept from an earlier call say)
    if case.note.get("spread") and values.min() != expected.min():
        shown, wanted = pair(values.min(), expected.min())
        raise ExerciseError(
            f"{call}{_for_z(z)} gave {show(got)}; the answer is {show(expected)}: the smaller "
            f"probability is {wanted}, not {shown}.",
            "exp of a logit below about -745 (about -104 in float32) underflows to 0, while "
            "exp of its difference to the slice's maximum need not: subtract each slice's own "
            "maximum always, not only when the logits are large.")
    if case.note.get("exact"):
        worst = float(np.max(np.abs(values - expected)))
        raise ExerciseError(
            f"{call}{_for_z(z)} gave {show(got)}; the answer is exactly [0.5, 0.5], and every "
            f"right way of computing it lands within a few units in the last place (about "
            f"1e-16). Yours is {worst:.1e} off.",
            "a difference this small, on two equal logits, comes from a small constant added "
            "to the sum (e / (sum + 1e-14) is 5e-15 too small here) or from a rounding step: "
            "divide by the plain sum, with nothing added, in the input's own precision.")
    if z.ndim > 1 and z.size > z.shape[axis] and _within(
            values, _softmax(z.ravel()).reshape(z.shape), 1e-6, 1e-12):
        raise ExerciseError(
            f"{call} normalised over the whole array (all {z.size} values sum to 1) instead of "
            f"along axis {axis}.",
            "reduce along `axis` only (keepdims=True), so each slice along the axis sums to 1.")
    for other in range(z.ndim):
        if z.ndim > 1 and other != axis % z.ndim and z.shape[other] > 1 and _within(
                values, _softmax(z, axis=other), 1e-6, 1e-12):
            raise ExerciseError(
                f"{call} normalised along axis {other} instead of axis {axis}.",
                "use the `axis` argument you were given rather than a fixed axis.")
    with np.errstate(all="ignore"):
        sums = values.sum(axis=axis)
        ratio = np.where(expected > 1e-200, values / expected, np.nan)
        spread = np.nanmax(ratio, axis=axis) - np.nanmin(ratio, axis=axis)
        scaled_alike = bool(np.all(spread <= 1e-9 * np.nanmax(np.abs(ratio), axis=axis)))
    # (a float16 sum rounds by 1e-3: the sums are judged to the input's own precision, each
    # entry's tolerance weighted by its probability: the tiny entries' wide ones barely count)
    sum_rtol = float(np.max(np.sum(np.broadcast_to(rtol, expected.shape) * expected, axis=axis)))
    if scaled_alike and not np.allclose(sums, 1.0, rtol=max(1e-6, sum_rtol)):
        raise ExerciseError(
            f"{call}{_for_z(z)} gave slices along axis {axis} that sum to {show(sums)}, not 1"
            f"{_warned(said)}.",
            "softmax divides each exponential by the sum of the exponentials of its slice.")
    low = _precision_problem(values, expected, z.dtype, f"{call}{_for_z(z)}")
    if low is not None and case.note.get("tiny"):
        raise ExerciseError(low.problem, (
            "exp of every logit here is so small that it is a subnormal number, which keeps "
            "only a few digits: the formula must shift each slice so that its largest "
            "exponent is exactly 0."))
    if low is not None:
        raise low
    if not np.allclose(sums, 1.0, rtol=max(1e-5, sum_rtol)):
        raise ExerciseError(
            f"{call}{_for_z(z)} gave slices along axis {axis} that sum to {show(sums)}, not 1"
            f"{_warned(said)}.",
            "softmax divides each exponential by the sum of the exponentials of its slice.")
    with np.errstate(all="ignore"):
        floored = (values > 0) & (values < 1e-20) & (expected < 1e-3 * values)
    if np.any(floored):
        at = tuple(int(i) for i in np.argwhere(floored)[0])
        shown, wanted = pair(values[at], expected[at])
        raise ExerciseError(
            f"{call}{_for_z(z)} gave {shown} at index {at}, where the answer is {wanted}: a "
            "probability far below the others came out larger than it is.",
            "exponents clipped from below (np.maximum(z - m, -700), np.clip...) keep exp(-700) "
            "= 9.9e-305 (exp(-100) = 3.7e-44) where the answer is smaller, or 0: let exp of a "
            "very negative number underflow to 0, as it should, with nothing clipped.")
    if mixed:
        raise ExerciseError(
            f"{call}{_for_z(z)} gave {show(got)}; expected {show(expected)}. The slices differ "
            "in scale by about 1000.",
            "the constant subtracted from a slice must come from that slice (its own maximum), "
            "so that every slice has an exponent of exactly 0.")
    _differs(call + _for_z(z), values, expected, rtol, atol, said,
             "softmax(z)_i = exp(z_i) / sum_j exp(z_j) along the axis, computed with the same "
             "constant subtracted from every logit of a slice.")


def _differs(call: str, got: np.ndarray, expected: np.ndarray, rtol, atol: float,
             said: list[str], hint: str, bad: np.ndarray | None = None) -> None:
    """Raise: ``got`` differs from ``expected`` (beyond rtol and atol, or where ``bad``)."""
    if bad is None:
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(got - expected) <= atol + rtol * np.abs(expected))
    gap = np.where(bad, np.nan_to_num(np.abs(got - expected), nan=np.inf), 0.0)
    index = np.unravel_index(int(np.argmax(gap)), got.shape) if got.ndim else ()
    shown, wanted = pair(got[index], expected[index])
    at = f" at index {tuple(int(i) for i in index)}" if got.ndim else ""
    with np.errstate(all="ignore"):
        ratios = (got / expected)[bad & (expected != 0)]
    common = ""
    if ratios.size and np.all(np.isfinite(ratios)) and np.ptp(ratios) <= 1e-6 * abs(
            float(ratios[0])):
        common = f" (each of them is {float(ratios[0]):.6g} times the answer)"
    raise ExerciseError(
        f"{call} differs from the answer in {int(np.sum(bad))} of {got.size} values"
        f"{common}{_warned(said)}; the largest difference is{at}: got {shown}, expected "
        f"{wanted}.", hint)


def _explain_softmax(case: Case, obs) -> str | None:
    error = obs.error
    if "zero-size array" in error:
        return ("the check also passes an empty batch, of shape (0, k): the maximum of the "
                "whole array does not exist there, while a reduction along `axis` (the k "
                "classes) is fine.")
    if "AxisError" in error or "out of bounds for array of dimension" in error:
        return ("use the `axis` argument you were given: the check tries 1-D to 3-D arrays "
                "along every axis, negative ones too.")
    if "unexpected keyword argument 'axis'" in error:
        return "the function takes the axis too: `def stable_softmax(z, axis=-1):`."
    if "required positional argument" in error:
        return "give `axis` the default -1, as in `def stable_softmax(z, axis=-1):`."
    return _explain(error, _SOFTMAX_SHAPES)


STABLE_SOFTMAX = Spec(
    "ch04.stable_softmax", check="ch04.check_stable_softmax",
    grade_id="ch04-stable-softmax-check", what="`stable_softmax(z, axis)`",
    answers=("stable_softmax",), draw=_draw_softmax, reference_case=_softmax_reference,
    judge=_judge_softmax, explain_error=_explain_softmax, forbidden=_WRITE_SOFTMAX,
    vectorised=True, twins=8, reuse_calls=64,
    loop_hint="numpy's reductions take an axis (np.max, np.sum with axis=..., keepdims=True): "
              "one call handles every slice.",
    passed="`stable_softmax` is right on every case: each slice along `axis` sums to 1, logits "
           "of +-1e4 give finite probabilities with no warning, float32 stays float32 and "
           "integer logits give float64.")


@exercise_check
def check_stable_softmax(fn, *, seed: int | None = None) -> None:
    """Exercise: ``stable_softmax(z, axis=-1)``: max-subtracted, any axis, vectorised, float32."""
    STABLE_SOFTMAX.check(fn, seed=seed)


# --------------------------------------------------------------------------------------
# Exercises 2 and 3: the batches (logits of shape (n, k), integer labels of shape (n,))
# --------------------------------------------------------------------------------------

_CE_SHAPES = ("in this exercise `logits` has shape (n, k) and `y` holds n integer labels, "
              "shape (n,), not one-hot rows; a reduction over the classes keeps its axis "
              "(keepdims=True) so it lines up with the logits.")
_GRAD_SHAPES = ("in this exercise `logits` has shape (n, k) and `y` holds n integer labels, "
                "shape (n,); the one-hot rows have k = logits.shape[1] columns (not n, and "
                "not y.max() + 1: a batch need not contain every class), and a reduction over "
                "the classes keeps its axis (keepdims=True).")


def _labels(rng, n: int, k: int, dtype=np.int64) -> np.ndarray:
    return rng.integers(0, k, size=n).astype(dtype)


def _batch(label: str, logits: np.ndarray, y: np.ndarray, *again, twice: bool = False,
           **extra) -> Case:
    """A case of the answer on (logits, y); with ``twice``, ``again`` is a second (logits, y)
    for a second call right after the first."""
    extra.setdefault("driver", "ch04.batch_twice" if twice else "ch04.batch")
    return Case(label, (logits, y, *again), **extra)


def _draw_batches(rng, twice: bool = False) -> list[Case]:
    """The batches both exercises use: ordinary ones first, then all-negative ones (near
    -1000, and near -740 where exp is subnormal), then confident ones (logits of +-1e4, rows
    of very different scale, large integers, float32 past its exp limit), then random ones
    and the work cases. With ``twice`` (the gradient's), two calls in a row come after the
    ordinary ones."""
    # the first batch tells the factors apart: n >= 3 samples, k classes, n != k, n != 2k
    n, k = [(n, k) for n in range(3, 7) for k in range(3, 7) if n not in (k, 2 * k)][
        int(rng.integers(0, 10))]
    big_n, small_k = max(n, k), min(n, k)
    # labels that leave out the last class: k must come from the logits, not from y
    skip = _labels(rng, big_n, small_k - 1)
    tie = float(rng.choice([-1.0, 1.0]) * rng.uniform(5e3, 1e4))
    off32 = float(rng.choice([-1.0, 1.0]) * rng.uniform(600.0, 1000.0))
    cases = [
        _batch(f"a batch of {n} samples and {k} classes", _dyadic(_logits(rng, (n, k))),
               _labels(rng, n, k)),
        _batch(f"{big_n} samples, {small_k} classes, labels that never use the last class",
               _logits(rng, (big_n, small_k)), skip),
        _batch(f"one sample, {k} classes", _logits(rng, (1, k)), _labels(rng, 1, k)),
        _batch(f"{n} samples, two classes", _logits(rng, (n, 2)), _labels(rng, n, 2)),
        _batch(f"every row a tie at {tie:.6g} (each sample's loss is log {k})",
               np.full((n, k), tie), _labels(rng, n, k), note={"low": True} if tie < 0 else {}),
        _batch(f"integer logits (int64), {n} samples, {k} classes, int32 labels",
               rng.integers(-6, 7, size=(n, k)), _labels(rng, n, k, np.int32)),
        _batch(f"confident right answers: the label's logit 30 above the others, {n} samples",
               *_confident(rng, n, k, 30.0), note={"small": True}),
        # The same with the label's logit at 0: every right form rounds the loss (about 1e-13)
        # to 2e-16 there, so a constant of 1e-15 added inside the logarithm shows.
        _batch(f"confident right answers: the label's logit 0, the others 18 to 36 below, "
               f"{n} samples",
               *_confident_at_zero(rng, n, k), note={"tight": True}),
        # Exact zeros in the gradient: the label's p rounds to exactly 1 (the others are
        # below 1e-13), and exp(-750) is 0: a constant added to p (1e-15, 1e-18) or an
        # exponent clipped at -700 (exp(-700) = 9.9e-305) shows where the answer is 0.
        _batch(f"confident right answers: rows of 0, about -45 and about -800, each labelled "
               f"with its 0 (the label's p is 1 to the last digit, exp(-800) is 0), {n} samples",
               *_exact_rows(rng, n), note={"tight": True, "exact": True}),
    ]
    # Confident right answers in every dtype: the label's probability near 1, 1 - p from the
    # dtype's resolution up to 0.2, the row at the resolution's end at a random place. A
    # probability near 1 rounded to 1 (a small loss set to 0) shows, whatever the threshold.
    for dtype, name in ((np.float64, "float64"), (np.float32, "float32"),
                        (np.int64, "integer (int64)")):
        near, near_y = _near_one(rng, dtype, int(rng.integers(5, 11)), int(rng.integers(3, 7)),
                                 far=True)
        cases.append(_batch(f"confident right answers, {name} logits: each label's "
                            "probability near 1, from 0.8 to 1 minus a few steps of its dtype, "
                            f"one row {_far_below(dtype):g} below the others",
                            near, near_y, note={"nearone": True}))
    # The first batch's twin: its labelled logits of two rows swapped (the same shape,
    # labels, sum, maximum and minimum, and the same logits everywhere else), so a result
    # kept by a summary of the batch shows, in the loss too.
    cases.insert(1, _batch("the first batch again, with the labelled logits of two samples "
                           "swapped (the same shape, labels, sum, largest and smallest logit)",
                           _label_swap(rng, *cases[0].args), cases[0].args[1].copy()))
    again = (_logits(rng, (n, k)), _labels(rng, n, k), _logits(rng, (n, k)), _labels(rng, n, k))
    if twice:
        cases.append(_batch(f"two calls in a row, on two batches of {n} samples and {k} "
                            "classes (the first result must keep its values)", *again,
                            twice=True))
        twice_at = len(cases)
    cases += [
        _batch(f"every logit near -1000, {n} samples and {k} classes",
               _logits(rng, (n, k), 2.0, -1000.0), _labels(rng, n, k), note={"low": True}),
        _batch(f"every logit near -740, {n} samples and {k} classes (exp of each is below "
               "1e-308, where float64 keeps only a few digits)",
               _logits(rng, (n, k), 1.0, -740.0), _labels(rng, n, k),
               note={"low": True, "tiny": True}),
        # A negative maximum and a spread above exp's limit: a shift by the row's minimum
        # when every logit is negative overflows.
        _batch("rows whose largest logit is negative and whose spread is above 709, as "
               "[-1, -1000]", *_negative_rows(rng, n), note={"negmax": True}),
        _batch("float32 rows whose largest logit is negative and whose spread is above 88.7, "
               "as [-1, -150]", *_negative_rows(rng, n, np.float32), note={"negmax": True}),
        _batch("confident wrong answers with logits of 1000, 0 and -1000",
               *_wrong_by(rng, 2 + int(rng.integers(0, 3)), 1000.0), note={"large": True}),
        _batch("rows of very different scale (a row near 0, the others near 1000)",
               _mixed_scales(rng, (n, k)), _labels(rng, n, k), note={"large": True}),
        _batch("confident wrong answers with logits of +-1e4",
               *_wrong_by(rng, 3, 1e4), note={"large": True}),
        _batch("integer logits (int32) near +-50,000, rows of B + 1, B and -B (exact in "
               "int32, not in float16 or int16)", *_int_batch(rng, np.int32),
               note={"large": True, **INT32_NOTE}),
        _batch("integer logits (int64) near +-3e9, rows of B + 1, B and -B (exact in int64, "
               "not in float32 or int32)", *_int_batch(rng, np.int64),
               note={"large": True, **INT64_NOTE}),
        _batch("float32 logits of 90, 0 and -90 (exp(89) overflows float32)",
               *_wrong_by(rng, 2, 90.0, np.float32), note={"large": True}),
        # Two classes: the sigmoid's form log(1 + exp(d)) overflows without a shift.
        _batch("confident wrong answers with two classes: logits [1000, 0] and [0, 1000], "
               "labels 1 and 0", np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([1, 0]),
               note={"large": True}),
        _batch("float32 confident wrong answers with two classes: logits [100, 0] and "
               "[0, 100], labels 1 and 0", np.array([[100.0, 0.0], [0.0, 100.0]], np.float32),
               np.array([1, 0]), note={"large": True}),
        # Confident mistakes where every |logit| is below exp's limit, 709.8: the textbook
        # formula, used only where no logit is that large, overflows or loses the loss.
        _batch("confident wrong answers with every |logit| below 709.8: [400, 0, -400] "
               "labelled 2 and [-400, 0, 400] labelled 0",
               np.array([[400.0, 0.0, -400.0], [-400.0, 0.0, 400.0]]), np.array([2, 0]),
               note={"large": True}),
        # (one sample, and a third class 800 below the top: its gradient entry is p / 1, 0
        # exactly, where an exponent clipped at -745 keeps 5e-324)
        _batch("a confident wrong answer just past exp's limit: [0, 740, -60] labelled 0 "
               "(exp(-800) underflows to 0)", np.array([[0.0, 740.0, -60.0]]), np.array([0]),
               note={"large": True}),
        # Tiny probabilities at random places (gradient entries from 1e-44 down to
        # subnormal ones near 1e-320): each is a number, which a flush to 0 loses.
        _batch(f"rows of 0 and logits from about -100 down to -740 (probabilities from "
               f"1e-44 down to 1e-321), {n} samples", *_tiny_rows(rng, n)),
        # float32 logits near +-1000 with moderate losses: float32's own rounding of them is
        # no excuse for a loss or gradient off by more than float32's arithmetic gives.
        _batch(f"float32 logits near {off32:.4g}, {n} samples of 3 classes (moderate losses)",
               _logits(rng, (n, 3), 1.5, off32, np.float32), _labels(rng, n, 3)),
    ]
    # Integer logits whose differences leave their dtype's range, of a drawn signed or
    # unsigned dtype, each row labelled at random (the loss and the gradient alike).
    wide = _wide_ints(rng, int(rng.integers(3, 5)), int(rng.integers(3, 6)), _WIDE)
    cases.append(_batch(_wide_label(wide), wide, _labels(rng, *wide.shape), note={
        "large": True, "ints": _WIDE_NARROWER[wide.dtype.name], "wide": True}))
    # (float16 too, on every draw: float16 logits may stay float16 in the loss, and give
    # float32 or float64 in the gradient)
    # (the float16 one with a row _far_below(float16) below the others: a maximum clamped at 0, or
    # the whole batch's, shows in float16 too)
    for dtype in (np.float64, np.float16, np.float32):
        n, k = _distinct_shape(rng, 2)
        scale = float(rng.choice([0.5, 2.0, 10.0]))
        random = _logits(rng, (n, k), scale, float(rng.uniform(-50, 50)))
        far = ""
        if dtype == np.float16:
            random[int(rng.integers(0, n))] -= _far_below(dtype)
            far = f", one row {_far_below(dtype):g} below the others"
        cases.append(_batch(f"a random {np.dtype(dtype).name} batch of {n} samples and {k} "
                            f"classes{far}", random.astype(dtype), _labels(rng, n, k)))
    for kind, dtype in _BATCH_KINDS:  # (a loop kept for float32 or integer logits shows too)
        for case in work_cases(lambda shape, large, dtype=dtype: (
                _kind_logits(rng, shape, dtype), _work_labels(rng, *shape)),
                shapes=WORK_SHAPES[:2]):
            case.driver = "ch04.batch"
            case.label = "a batch of {} samples and {} classes, {} logits".format(
                *case.args[0].shape, kind)
            cases.append(case)
    # Vectorised, and right at every size (the timed batch has 500 samples of 400 classes).
    for case in work_cases(lambda shape, large: (_logits(rng, shape, 3.0 if large else 2.0),
                                                 _work_labels(rng, *shape))):
        case.driver = "ch04.batch"
        if case.work != "timed":
            case.label = "a batch of {} samples and {} classes".format(*case.args[0].shape)
        cases.append(case)
    # Timed, with many samples: a loop over the samples driven from C shows. (Not one of
    # many classes: np.eye(k)[y], a right answer, needs k * k numbers.)
    # (3 classes for the loss: 300,000 logits, more than an answer that changes its ways
    # above 200,000 expects; the gradient's stays at 2, its judging costs more per logit)
    many_rows, _ = _long_axes(rng, 2 if twice else 3)
    cases.append(_batch(f"100,000 samples of {many_rows.shape[1]} classes, every other row near "
                        "1000 and the rest near 0 (timed against numpy's whole-array formulas)",
                        many_rows,
                        _labels(rng, *many_rows.shape), driver="ch04.batch_timed",
                        note={"large": True}))
    if twice:
        # Large ones too, after the small pair: a buffer kept for large inputs only shows here.
        # (Drawn last, so the other cases are those of the loss's draw.)
        big = (_logits(rng, (200, 100)), _labels(rng, 200, 100), _logits(rng, (200, 100)),
               _labels(rng, 200, 100))
        cases.insert(twice_at, _batch("two calls in a row, on two batches of 200 samples and "
                                      "100 classes (the first result must keep its values)",
                                      *big, twice=True))
    return cases


def _draw_grad_batches(rng) -> list[Case]:
    """The same batches, with two calls in a row (an array result must keep its values)."""
    return _draw_batches(rng, twice=True)


def _int_batch(rng, dtype, rows: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Rows of [B + 1, B, -B] (see _int_logits), each labelled with B + 1 or B: the loss is
    moderate (about 0.31 or 1.31), so a rounded B + 1 or B shows in it."""
    logits = np.array([_int_logits(rng, dtype) for _ in range(rows)])
    top_two = np.argsort(logits, axis=1)[:, -2:]
    y = top_two[np.arange(rows), np.arange(rows) % 2]
    return logits, y.astype(np.int64)


def _tiny_rows(rng, n: int):
    """n rows of a 0 and four logits drawn from about -100, -300, -600 and -700 to -740, in
    a random order, each labelled at random: probabilities (and gradient entries) from 1e-44
    down to subnormal numbers, at random places."""
    rows = np.array([rng.permutation(np.r_[0.0, -rng.uniform(95.0, 105.0),
                                           -rng.uniform(250.0, 350.0),
                                           -rng.uniform(550.0, 650.0),
                                           -rng.uniform(700.0, 740.0)]) for _ in range(n)])
    return rows, _labels(rng, n, rows.shape[1])


def _work_labels(rng, n: int, k: int) -> np.ndarray:
    """Labels of a work batch: random, with class 0 and class k - 1 at random places, so
    that the small and the large batch alike have y.max() + 1 == k and y.min() == 0 (an
    answer that branches on the labels takes the same branch on both)."""
    y = _labels(rng, n, k)
    first = int(rng.integers(n))
    y[first], y[(first + int(rng.integers(1, n))) % n] = 0, k - 1
    return y


def _confident(rng, n: int, k: int, margin: float):
    y = _labels(rng, n, k)
    logits = rng.normal(0.0, 1.0, (n, k))
    logits[np.arange(n), y] += margin
    return logits, y


def _negative_rows(rng, n: int, dtype=np.float64):
    """n rows from _negative_max (largest logit negative, spread above exp's limit), shuffled,
    each labelled at random."""
    rows = np.array([rng.permutation(_negative_max(rng, dtype)) for _ in range(n)])
    return rows, _labels(rng, n, rows.shape[1])


def _exact_rows(rng, n: int):
    """n rows [0, about -45, about -800] in a random order, each labelled with its 0."""
    rows = np.array([rng.permutation([0.0, -float(rng.uniform(35.0, 55.0)),
                                      -float(rng.uniform(750.0, 900.0))]) for _ in range(n)])
    return rows, np.argmax(rows, axis=1)


def _confident_at_zero(rng, n: int, k: int):
    """Rows whose label's logit is 0 and largest, the losses from 5e-15 to 1e-8 (see
    _near_one; one below 1e-14): a small loss set to 0 shows, even divided by n."""
    logits, y = _near_one(rng, np.float64, n, k, floor=5e-15, ceiling=1e-8)
    return logits - logits[np.arange(n), y][:, None], y


def _wrong_by(rng, n: int, size: float, dtype=np.float64):
    """n rows of three logits, +size, 0 and -size in a random order, each labelled with the
    class of -size or 0 (a confident mistake), and one row labelled with its top class."""
    rows = np.array([rng.permutation([size, 0.0, -size]) for _ in range(n)])
    y = np.array([int(np.argmin(r)) if i % 2 == 0 else int(np.argsort(r)[1])
                  for i, r in enumerate(rows)])
    y[-1] = int(np.argmax(rows[-1]))
    return rows.astype(dtype), y


def _batch_text(logits: np.ndarray, y) -> str:
    if logits.size <= 12:
        return f"logits = {show(logits)}, y = {np.asarray(y).tolist()}"
    return f"logits of shape {logits.shape}, y = {show(np.asarray(y))}"


def _loss_tolerance(logits: np.ndarray) -> tuple[float, float]:
    """(rtol, atol) for the loss: float64 keeps 1e-12 relative and 1e-14 absolute, so a
    constant of 1e-12 added inside the logarithm shows on the small losses of confident right
    answers; float32 2e-5 relative and one of its steps absolute (log of a sum rounded to 1).
    A log-sum-exp written m + log(sum exp(z - m)) rounds at the scale of m: on float logits
    the mean of what each row's may lose is allowed (_added_back), on integer logits
    (exact) nothing."""
    k = logits.shape[1] if logits.ndim == 2 else 1
    lost = float(np.mean(_added_back(logits, 1))) if logits.ndim == 2 and logits.size else 0.0
    if logits.dtype == np.float32:
        return 2e-5, float(np.finfo(np.float32).eps) + lost
    if logits.dtype == np.float16:
        # (computed in float16: the course's solution is within 0.98 eps (|loss| + 1) on the
        # check's float16 batches; float32 or float64 is far inside)
        eps16 = float(np.finfo(np.float16).eps)
        return 2.0 * eps16, 2.0 * eps16
    return max(1e-12, 4.0 * float(np.finfo(np.float64).eps) * k), 1e-14 + lost


# --------------------------------------------------------------------------------------
# Exercise 2: cross-entropy from logits
# --------------------------------------------------------------------------------------

_WRITE_LOG_SUM_EXP = Forbidden(
    ("helpers.activations:*", "helpers.nn:*", "scipy*:*", "torch*:*"),
    why="the task asks you to write the log-sum-exp yourself with numpy (not the course's "
        "softmax, log_softmax or helpers.nn, nor scipy's or PyTorch's functions)")


def _judge_cross_entropy(case: Case, obs, expected) -> None:
    logits, y = case.args[:2]
    n = len(y)
    value, said = _unwrap(obs, "`cross_entropy`", case)
    call = f"`cross_entropy` on the batch {_batch_text(logits, y)}"
    expected = float(expected)
    if isinstance(value, np.ndarray):
        if value.shape == (n,) and n > 1:
            raise ExerciseError(
                f"{call} returned {n} numbers (one loss per sample); expected their mean, "
                f"{expected:.4f}.", "the loss of a batch is one number: the average over "
                "samples.")
        raise ExerciseError(
            f"{call} returned an array of shape {value.shape}; the task asks for one number.",
            "return a plain number, not an array (not even of one element): the mean of the "
            "per-sample losses, as .mean() or np.mean gives it.")
    got = expect_float(value, call, finite=False, hint="return the mean loss as a float.")
    rtol, atol = _loss_tolerance(logits)
    if case.note.get("tight"):  # (right forms round to 2e-16 here: see the case)
        atol = 6e-16
    if math.isfinite(got) and abs(got - expected) <= atol + rtol * abs(expected):
        if said:
            raise ExerciseError(
                f"{call} gave the right loss, but numpy warned on the way: {said[0]}.",
                "the task asks for no overflow at all, not a repair after it: compute log p "
                "from the logits with the row's largest logit subtracted first.")
        return
    if isinstance(value, (int, np.integer)):
        raise ExerciseError(
            f"{call} returned {describe(value)}, a whole number; the loss is {expected:.6g}.",
            "the loss is a real number: for integer logits, casting it to the logits' dtype "
            "(or with int) drops its fraction. Return the float that the mean gives.")
    if math.isfinite(got) and logits.ndim == 2:
        picked = logits.astype(_kind_of(logits))[np.arange(n), np.asarray(y)]
        _added_back_problem(call, logits, 1, lambda lse: (lambda ab: abs(
            got - ab) <= atol + rtol * abs(expected) and abs(ab - expected) > atol + rtol * abs(
                expected))(float(np.mean(lse[:, 0] - picked))),
            gives="the mean of lse - z_y", fix="(m - z_y) + log(sum exp(z - m)) rounds only "
            "the small numbers (m - z_y is exact for integers)")
    if (case.note.get("nearone") or case.note.get("tight") or case.note.get("small")) and \
            math.isfinite(got):
        _dropped_losses(call, got, expected, logits, y, atol, rtol)
    if case.note.get("ints"):
        _int_problem(call, got, expected, logits, case.note["ints"],
                     lambda w: _cross_entropy(w, y), said,
                     wrapped=(lambda: _wrapped_losses(logits, y)) if case.note.get("wide")
                     else None)
    if not math.isfinite(got):
        _loss_too_large(call, got, expected, logits, y, said, case)
    def close(value: float, wrong: float) -> bool:
        """``value`` is the known wrong result ``wrong``, which is not the right one."""
        return (abs(wrong - expected) > 1e-4 * max(1.0, abs(expected))
                and abs(value - wrong) <= 1e-6 * max(1.0, abs(wrong)))

    if close(got, -expected):
        raise ExerciseError(
            f"{call} is {got:.4f}: the right size but the wrong sign.",
            "the loss is minus the log-probability: a probability's log is negative, so the "
            "loss is >= 0.")
    if n > 1 and close(got, n * expected):
        raise ExerciseError(
            f"{call} is {got:.4f}, the sum over the {n} samples; expected the mean, "
            f"{expected:.4f}.", "the loss of a batch is the average of the per-sample losses.")
    with np.errstate(all="ignore"):
        wrong = {
            "axis0": float(_per_sample_losses(logits, y, axis=0).mean()),
            "table": _table_loss(logits, y),
            "log10": expected / math.log(10),
        }
    if n > 1 and close(got, wrong["axis0"]):
        raise ExerciseError(
            f"{call} is {got:.4f}, expected {expected:.4f}: your log-probabilities are "
            "normalised down the columns (over the samples, axis 0), not along each row.",
            "each sample's probabilities are over its k classes: normalise each row.")
    if n > 1 and close(got, wrong["table"]):
        raise ExerciseError(
            f"{call} is {got:.4f}, expected {expected:.4f}: that is the mean of a {n} x {n} "
            "table, every row's log-probability at every sample's label.",
            "each sample contributes one entry: row i at column y_i (pair the row index with "
            "the label, element by element).")
    if expected > 1e-6 and close(got, wrong["log10"]):
        raise ExerciseError(
            f"{call} is {got:.6g}, expected {expected:.6g}: the logarithm is in base 10.",
            "cross-entropy uses the natural logarithm (np.log), the inverse of np.exp.")
    for name, wrapped in _wrapped_labels(y, logits.shape[1]):
        if close(got, _cross_entropy(logits, wrapped)):
            raise ExerciseError(
                f"{call} is {got:.6g}, expected {expected:.6g}: that is the loss for the labels "
                f"cast to {name}, which wraps the labels above {np.iinfo(name).max} (here up "
                f"to {int(np.max(y))}) to other classes.",
                "use the labels as they are, as integer indices (int64 or int32 hold any "
                "class); a cast to a narrower integer type wraps the large ones.")
    if case.note.get("tight") and abs(got - expected) < 1e-12:
        raise ExerciseError(
            f"{call} is {got:.3e}, expected {expected:.3e}: {abs(got - expected):.1e} off, where "
            "every right form is within 6e-16 here (the losses of these confident right "
            "answers are tiny).",
            "a difference this small on tiny losses comes from a constant added inside the "
            "logarithm or to the sum of exponentials (log(s + 1e-15) is 1e-15 too large "
            "here): take the log of the plain sum, with nothing added.")
    low = _precision_problem(np.array(got), np.array(expected), logits.dtype, call)
    if low is not None:
        raise ExerciseError(low.problem, _LOW_HINT) if case.note.get("tiny") else low
    if case.note.get("large") or case.note.get("low") or case.note.get("negmax"):
        _loss_too_large(call, got, expected, logits, y, said, case)
    raise ExerciseError(
        f"{call} is {got:.6g}, expected {expected:.6g} (the per-sample losses -log p_(i, y_i) "
        f"are {show(_per_sample_losses(logits, y))}){_warned(said)}.",
        "the loss is the mean over the rows of minus the log-probability of the row's own "
        "label, with the log-probabilities normalised along each row.")


def _dropped_losses(call: str, got: float, expected: float, logits, y, atol: float,
                    rtol: float) -> None:
    """Raise when the loss is the mean with some per-sample losses set to 0 (the smallest
    ones, or a band of them: a label's probability near 1 rounded to 1)."""
    losses = np.sort(_per_sample_losses(logits, y))
    n = losses.size
    ends = np.concatenate([[0.0], np.cumsum(losses)])
    # the mean with the sorted losses i to j - 1 set to 0 (the smallest ones, or a band)
    found = [(i, j) for i in range(n) for j in range(i + 1, n + 1)
             if losses[j - 1] > 0 and abs(got - (ends[n] - ends[j] + ends[i]) / n)
             <= atol + rtol * abs(expected)]
    if found:
        i, j = found[0]
        which = (f"the {j} smallest per-sample losses (up to {losses[j - 1]:.3g})" if i == 0
                 else f"the per-sample losses from {losses[i]:.3g} to {losses[j - 1]:.3g}")
        raise ExerciseError(
            f"{call} is {got:.6g}, expected {expected:.6g}: that is the mean with {which} "
            "set to 0. Each label's probability here is near 1, not 1 (the per-sample "
            f"losses are {show(_per_sample_losses(logits, y))}).",
            "a small loss is a number too: -log p_y = (m - z_y) + log(sum exp(z - m)) is "
            f"above 0 whenever another class has a probability that is not 0 "
            f"({logits.dtype} logits): nothing rounded to 1 or set to 0.")


def _wrapped_labels(y, k: int) -> list[tuple[str, np.ndarray]]:
    """(type, the labels cast to it and used as indices) for the narrower integer types that
    change some label: int8 wraps labels above 127 to negative ones (which index from the
    end), uint8 those above 255."""
    yy = np.asarray(y)
    found = []
    for name in ("int8", "uint8"):
        if yy.size and int(yy.max()) > np.iinfo(name).max:
            found.append((name, yy.astype(name).astype(np.int64) % k))
    return found


def _table_loss(logits, y) -> float:
    """The mean of the n x n table -log_softmax(logits)[:, y] (every row's log-probability at
    every sample's label), computed per row from the labels' counts: no n x n array, which on
    the timed batch of 100,000 samples would take 80 GB."""
    lsm = _log_softmax(logits)
    yy = np.asarray(y)
    if yy.size == 0 or yy.min() < 0 or yy.max() >= lsm.shape[1]:
        return math.nan
    counts = np.bincount(yy, minlength=lsm.shape[1]).astype(float)
    return float(-(lsm @ counts).sum() / (len(yy) * len(yy)))


def _one_row_far_below(logits) -> bool:
    """Whether a row's largest logit sits so far below the batch's largest that exp of its
    logits shifted by the batch's maximum underflows in the logits' float type (below about
    -17 in float16, -104 in float32, -745 in float64 and for integers)."""
    if not (isinstance(logits, np.ndarray) and logits.ndim == 2 and logits.size):
        return False
    floor = {np.float16: 17.0, np.float32: 104.0}.get(logits.dtype.type, 745.0)
    tops = logits.astype(np.float64).max(axis=1)
    return bool(np.isfinite(tops).all() and tops.max() - tops.min() > floor)


def _loss_too_large(call, got, expected, logits, y, said, case) -> None:
    """The loss on a batch of extreme logits is wrong: say which extreme."""
    losses = f"the per-sample losses are {show(_per_sample_losses(logits, y))}"
    shown, wanted = pair(got, expected)
    if case.note.get("negmax") and any("overflow" in w for w in said):
        raise ExerciseError(
            f"{call} gave {shown}{_warned(said)}; the answer is {wanted} ({losses}).",
            _NEGATIVE_MAX_HINT)
    if case.note.get("low"):
        raise ExerciseError(
            f"{call} gave {shown}{_warned(said)}; the answer is {wanted} ({losses}). "
            "Your loss is right on the ordinary batches before this one: what goes wrong is "
            "that every logit here is very negative.", _LOW_HINT)
    ordinary = (" Your loss is right on the ordinary batches before this one, so what goes "
                "wrong is the size of these logits." if case.note.get("large") else "")
    if _one_row_far_below(logits):
        raise ExerciseError(
            f"{call} gave {shown}{_warned(said)}; the answer is {wanted} ({losses}). One row "
            "of this batch sits far below the others.",
            "a maximum taken over the whole batch, or clamped at 0, leaves that row's "
            "exponents far below 0, where exp underflows to 0 and its log is lost. Subtract "
            "each row's own largest logit: log p_i = z_i - m - log(sum_j exp(z_j - m)).")
    raise ExerciseError(
        f"{call} gave {shown}{_warned(said)}; the answer is {wanted} ({losses}).{ordinary}",
        "with logits this large, exp overflows and probabilities round to 0 in floating point: "
        "once a probability is 0 (or floored), its log is lost. Compute log p from the logits "
        "in one expression, log p_i = z_i - m - log(sum_j exp(z_j - m)) with m the row's "
        "largest logit.")


def _explain_batch(case: Case, obs, shapes: str = _CE_SHAPES) -> str | None:
    if "IndexError" in obs.error:
        return ("each label y_i is a class index from 0 to k - 1, with k = logits.shape[1]; "
                "pair row i with its own label, and give one-hot rows k columns.")
    return _explain(obs.error, shapes)


CROSS_ENTROPY = Spec(
    "ch04.cross_entropy", check="ch04.check_cross_entropy", grade_id="ch04-cross-entropy-check",
    what="`cross_entropy(logits, y)`", answers=("cross_entropy",), draw=_draw_batches,
    reference_case=lambda case: _cross_entropy(*case.args[:2]), judge=_judge_cross_entropy,
    explain_error=_explain_batch,
    forbidden=_WRITE_LOG_SUM_EXP, vectorised=True, twins=8,
    loop_hint="index all rows at once (logits[np.arange(n), y]) and reduce with axis=1.",
    passed="`cross_entropy` is right on every batch, and stays finite for confident wrong "
           "answers with logits of +-1e4.")


@exercise_check
def check_cross_entropy(fn, *, seed: int | None = None) -> None:
    """Exercise: ``cross_entropy(logits, y)``: mean of -log softmax(logits)[i, y_i], stably."""
    CROSS_ENTROPY.check(fn, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 3: the gradient of cross-entropy with respect to the logits
# --------------------------------------------------------------------------------------

_WRITE_GRADIENT = Forbidden(
    ("helpers.nn:*", "torch*:*"),
    why="the task asks you to write the gradient yourself (the course's softmax may give the "
        "probabilities, but helpers.nn and PyTorch compute the whole gradient)")


def _grad_within(got: np.ndarray, expected: np.ndarray, logits: np.ndarray, y,
                 exact: bool = False) -> np.ndarray:
    """Where the gradient ``got`` is right: entry (i, j) may differ from the answer by what
    the probability p_ij may (_float_tolerance, divided by n), plus a few eps of the entry
    itself (the subtraction and the division), plus a few subnormal steps: a tiny entry set
    to 0, or a constant added to every entry, shows."""
    n = max(1, logits.shape[0])
    if logits.dtype == np.float16:  # (float32 at least, as the course's softmax computes them)
        logits = logits.astype(np.float32)
    rtol_p, atol = _float_tolerance(logits, 1)
    if exact:  # (exact zeros and tiny p's: relative precision only)
        rtol_p = np.minimum(rtol_p, 1e-12)
    # (p from the answer's gradient n g + onehot: cheaper than a softmax on large batches)
    p = expected * n
    if p.size:
        p[np.arange(len(y)), np.asarray(y)] += 1.0
    rtol_g = 2e-5 if logits.dtype == np.float32 else max(
        1e-12, 4.0 * float(np.finfo(np.float64).eps) * logits.shape[1])
    with np.errstate(invalid="ignore"):
        return np.abs(got - expected) <= atol + rtol_g * np.abs(expected) + rtol_p * np.abs(p) / n


def _judge_grad(case: Case, obs, expected) -> None:
    logits, y = case.args[:2]
    n, k = logits.shape
    value, said = _unwrap(obs, "`cross_entropy_grad`", case)
    call = f"`cross_entropy_grad` on the batch {_batch_text(logits, y)}"
    got = expect_ndarray(value, call)
    if got.shape != (n, k):
        expect_ndarray(got, call, shape=(n, k), input_shape=logits.shape, hint=(
            "the gradient has one entry per logit: the shape (n, k) of `logits`."))
    if got.dtype.kind != "f":
        raise ExerciseError(
            f"{call} returned dtype {got.dtype}; the gradient is a float array.",
            "an array made with np.zeros_like or np.empty_like of integer logits is an integer "
            "array, which truncates every value written into it: start from the float "
            "probabilities instead.")
    if logits.dtype == np.float16 and got.dtype not in (np.float32, np.float64):
        raise ExerciseError(
            f"{call} returned {got.dtype} for float16 logits; the task asks for float64, or "
            "float32 (the setup cell's softmax computes float16 logits in float32).",
            "float16 keeps about 3 digits: compute the probabilities in float32 or float64, "
            "as the setup cell's softmax does.")
    if logits.dtype not in (np.float16, np.float32) and got.dtype != np.float64:
        raise ExerciseError(
            f"{call} returned {got.dtype} for {logits.dtype} logits; the task asks for float64.",
            "compute in float64 (numpy's default): a float32 step loses half the digits."
            if logits.dtype.kind == "f" or logits.dtype.itemsize >= 4 else
            _narrow_exp_hint(logits.dtype, got.dtype))
    values = got.astype(float)
    right = _grad_within(values, expected, logits, y, bool(case.note.get("exact")))
    # (the label's entries are -1/n there, not 0)
    kept = _not_underflowed(values, logits, 1, got.dtype) & (_onehot(y, k) == 0)
    _clip_floor_problem(call, values, logits, 1, got.dtype, right, kept, "gradient entry")
    right &= ~kept
    all_right = bool(right.all())
    if not all_right:
        flushed = ~right & (values == 0) & (expected != 0) & (np.abs(expected) < 1e-20)
        if np.any(flushed) and np.all(right | flushed):
            at = tuple(int(i) for i in np.argwhere(flushed)[0])
            raise ExerciseError(
                f"{call} gave 0 at index {at}, where the answer is {expected[at]:.6g}: a tiny "
                "gradient entry set to 0.",
                "p_ij / n is a number however small (down to subnormal numbers near 1e-320): "
                "keep what exp and the division give, with nothing flushed or rounded to 0.")
        with np.errstate(all="ignore"):
            _added_back_problem(call, logits, 1, lambda lse: (lambda ab: bool(
                _grad_within(values, ab, logits, y).all()) and not bool(
                _grad_within(ab, expected, logits, y).all()))(
                (np.exp(logits.astype(_kind_of(logits)) - lse) - _onehot(y, k)) / n),
                gives="(exp(z - lse) - onehot) / n")
    if case.note.get("ints") and not all_right:
        _int_problem(call, values, expected, logits, case.note["ints"],
                     lambda w: _cross_entropy_grad(w, y), said,
                     wrapped=(lambda: [(p - _onehot(y, k)) / n for p in _wrapped_softmax(
                         logits, 1)]) if case.note.get("wide") else None)
    if not np.all(np.isfinite(values)):
        raise ExerciseError(
            f"{call} gave {show(got)}{_warned(said)}; expected {show(expected)}.",
            _LOW_HINT if case.note.get("low") else
            _NEGATIVE_MAX_HINT if case.note.get("negmax") and any(
                "overflow" in w for w in said) else
            "the probabilities need a stable softmax (the row's largest logit subtracted "
            "first): the gradient itself is always between -1/n and 1/n.")
    if all_right:
        if said:
            raise ExerciseError(
                f"{call} gave the right gradient, but numpy warned on the way: {said[0]}.",
                "the task asks for no overflow at all: compute the probabilities with a stable "
                "softmax.")
        return
    yy = np.asarray(y)
    onehot = _onehot(yy, k)
    with np.errstate(all="ignore"):
        step = 4.0 * float(np.finfo(got.dtype).eps)
        ones = ~right & (np.abs(values * n + onehot - 1.0) <= step) & (
            expected * n + onehot < 1.0 - step)
    if np.any(ones) and np.all(right | ones):
        at = tuple(int(i) for i in np.argwhere(ones)[0])
        shown, wanted = pair(values[at], expected[at])
        which = "the label's entry" if at[1] == yy[at[0]] else "the entry"
        raise ExerciseError(
            f"{call} gave {shown} at index {at}, {which} of that row, where the answer is "
            f"{wanted}: there p = {expected[at] * n + onehot[at]:.10g}, a probability near 1 "
            f"rounded to 1 ({logits.dtype} logits).",
            "p_ij is below 1 whenever another class has a probability that is not 0: keep what "
            "the softmax gives, to the last digit, with nothing rounded to 1 (or to 0).")
    # (the known mistakes are matched at the batch's own scale: on a batch of tiny entries a
    # fixed 1e-12 would match anything)
    atol_known = min(1e-12, 1e-6 * float(np.max(np.abs(expected)))) / n
    with np.errstate(all="ignore"):
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
            (-onehot / n, "has only the -1/n at the labels: the probabilities are missing",
             "for integer logits, np.zeros_like(logits) or np.empty_like(logits) is an integer "
             "array, which truncates the probabilities written into it to 0: start from the "
             "float probabilities."),
            ((p - yy.astype(float)[:, None]) / n,
             "subtracts the label's value y_i from every entry of row i",
             "the target is a one-hot row (1 at column y_i, 0 elsewhere), not the number y_i."),
            ((p - np.isin(np.arange(k), yy)[None, :]) / n,
             "subtracts 1 in every column that is some sample's label, in every row",
             "each row gets a single -1, at its own label (pair the row index with its label)."),
            ((_softmax(logits, axis=0) - onehot) / n,
             "uses probabilities normalised down the columns (axis 0)",
             "each sample's probabilities are over its own k classes: normalise each row."),
            ((p * onehot - onehot) / n, "has only the label's entries: the other classes' p_j "
             "are missing", "every class's logit gets a gradient, p_j / n for the wrong ones."),
        )
        known += tuple(
            ((p - _onehot(wrapped, k)) / n, f"uses the labels cast to {name}, which wraps the "
             f"labels above {np.iinfo(name).max} (here up to {int(np.max(yy))}) to other "
             "classes", "use the labels as they are, as integer indices (int64 or int32 hold "
             "any class); a cast to a narrower integer type wraps the large ones.")
            for name, wrapped in _wrapped_labels(yy, k))
    for wrong, problem, hint in known:
        if wrong.shape == values.shape and _within(values, wrong, 1e-6, atol_known) and not (
                _within(wrong, expected, 1e-6, atol_known)):
            raise ExerciseError(f"{call} {problem}: got {show(got)}, expected "
                                f"{show(expected)}.", hint)
    if case.note.get("exact"):
        at = tuple(int(i) for i in np.argwhere(~right)[0])
        shown, wanted = pair(values[at], expected[at])
        raise ExerciseError(
            f"{call} gave {shown} at index {at}, where the answer is {wanted}: on these rows "
            "the label's probability is 1 to the last digit and exp(-800) is 0, so the "
            "gradient holds exact zeros, and entries near 1e-22 that every right form gets "
            "to 15 digits.",
            "a difference here comes from a small constant added to the probabilities (or to "
            "the gradient: 1e-15 or 1e-18 shows), or from exponents clipped from below "
            "(np.maximum(z - m, -700) keeps exp(-700) = 9.9e-305 where the answer is 0): "
            "compute p from the plain exponentials, with nothing added or clipped.")
    with np.errstate(all="ignore"):
        off = np.abs(values - expected)
    if np.all(np.isfinite(values)) and np.all(off <= 1e-9 * np.abs(expected) + 1e-15):
        at = tuple(int(i) for i in np.unravel_index(int(np.argmax(off)), off.shape))
        shown, wanted = pair(values[at], expected[at])
        raise ExerciseError(
            f"{call} is off by {off[at]:.1e} at most (at index {at}: got {shown}, expected "
            f"{wanted}), far below any rounding of a lower precision, and more than the few "
            "units in the last place that every right form keeps.",
            "a difference this small comes from a small constant added to the probabilities or "
            "to the gradient (1e-15 or 1e-18 shows), or from exponents clipped from below: "
            "compute p from the plain exponentials, with nothing added or clipped.")
    # (float16 logits: float32's precision at least, as the course's softmax gives)
    low = _precision_problem(values, expected, np.float32 if logits.dtype == np.float16
                             else logits.dtype, call)
    if low is not None:
        raise ExerciseError(low.problem, _LOW_HINT) if case.note.get("tiny") else low
    if case.note.get("low"):
        _differs(call, values, expected, 0.0, 0.0, said, "every logit of this batch is very "
                 "negative. " + _LOW_HINT[0].upper() + _LOW_HINT[1:], ~right)
    _differs(call, values, expected, 0.0, 0.0, said,
             "entry (i, j) is (p_ij - [j == y_i]) / n, with p each row's softmax.", ~right)


CROSS_ENTROPY_GRAD = Spec(
    "ch04.cross_entropy_grad", check="ch04.check_cross_entropy_grad",
    grade_id="ch04-cross-entropy-grad-check", what="`cross_entropy_grad(logits, y)`",
    answers=("cross_entropy_grad",), draw=_draw_grad_batches,
    reference_case=lambda case: _cross_entropy_grad(*case.args[:2]),
    judge=_judge_grad, explain_error=lambda case, obs: _explain_batch(case, obs, _GRAD_SHAPES),
    forbidden=_WRITE_GRADIENT, vectorised=True, twins=8, reuse_calls=64,
    loop_hint="build the one-hot rows at once (np.eye(k)[y], or p[np.arange(n), y] -= 1 on a "
              "copy): no loop over the samples.",
    passed="`cross_entropy_grad` is right on every batch: (softmax(z) - onehot(y)) / n, "
           "bounded even for confident wrong answers.")


@exercise_check
def check_cross_entropy_grad(fn, *, seed: int | None = None) -> None:
    """Exercise: ``cross_entropy_grad(logits, y)`` = (softmax(logits) - onehot(y)) / n."""
    CROSS_ENTROPY_GRAD.check(fn, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 4: the temperature that gives the top class a target probability
# --------------------------------------------------------------------------------------


def _moderate_logits(rng, k: int, *, tie: bool = False, top_not_first: bool = False):
    """Logits whose top probability at T = 1 is moderate (0.45 to 0.85, or below 1/2 for a
    tie), so that a temperature near 1 matters; a tie puts two equal logits on top."""
    while True:
        b = rng.normal(0.0, 1.5, k)
        if tie:
            order = np.argsort(b)
            b[order[-2]] = b[order[-1]]
        if top_not_first and np.argmax(b) == 0:
            b = np.roll(b, int(rng.integers(1, k)))
        p = _top_probability(b, 1.0)
        ok = (1.0 / k + 0.05 < p < 0.45) if tie else (max(0.45, 1.0 / k + 0.1) < p < 0.85)
        if ok:
            return b


def _temperature_of(z, target: float, steps: int = 80) -> float | None:
    """The T at which the top probability of ``z`` is ``target`` (bisection on log T over
    [1e-4, 1e4], ``steps`` halvings), or None when none in that range gives it."""
    lo, hi = math.log(1e-4), math.log(1e4)
    if not _top_probability(z, math.exp(hi)) <= target <= _top_probability(z, math.exp(lo)):
        return None
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _top_probability(z, math.exp(mid)) > target else (lo, mid)
    return math.exp((lo + hi) / 2)


def _int8_misses(z: np.ndarray, target: float) -> bool:
    """Whether the T that solves the problem for ``z`` converted to int8 misses the target on
    ``z`` itself by more than 5 times the tolerance (or there is none)."""
    t8 = _temperature_of(z.astype(np.int8), target, steps=40)
    return t8 is None or abs(_top_probability(z, t8) - target) > 5 * TEMPERATURE_TOLERANCE


def _negative_and_spread(z) -> bool:
    """Every logit negative and spread over more than exp's limit (709): a shift by the
    smallest logit overflows at T = 1 already (the case drawn for it, and others that land
    there)."""
    w = np.asarray(z, dtype=np.float64)
    return bool(w.size and w.max() < 0 and np.ptp(w) > 709.0)


def _temperature_case(label: str, logits: np.ndarray, target: float, **extra) -> Case:
    return Case(label, (logits, float(target)), driver="ch04.temperature", **extra)


def _scaled(rng, label: str, k: int, low: float, high: float, *, offset: float = 0.0,
            dtype=np.float64, note: dict | None = None, **kind) -> Case:
    """Logits b * T + offset with T log-uniform in [low, high]: the answer is about that T,
    and the target is the top probability there."""
    t = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    logits = (_moderate_logits(rng, k, **kind) * t + offset).astype(dtype)
    return _temperature_case(label, logits, _top_probability(logits, t), note=note or {})


def _hundreds(rng, k: int) -> np.ndarray:
    """Integers of a few hundred: the top one from 150 to 250 (an int8 wraps it to a negative
    number), the others from -120 to 100."""
    ints = rng.integers(-120, 101, size=k)
    ints[int(rng.integers(0, k))] = int(rng.integers(150, 251))
    return ints.astype(np.int64)


def _draw_temperature(rng) -> list[Case]:
    k = int(rng.integers(3, 6))
    near = _moderate_logits(rng, k, top_not_first=True)
    p1 = _top_probability(near, 1.0)
    step = 2 * TEMPERATURE_TOLERANCE
    third = round(float(rng.uniform(0.3, 0.9)), 2)
    middle = round(float(rng.uniform(0.3, 0.9)), 2)
    cases = [
        _temperature_case("the cat, dog and bird logits [2, 1, 0.1], target 0.9",
                          np.array([2.0, 1.0, 0.1]), 0.9),
        # The same target on other logits: an answer that remembers T by target shows.
        _temperature_case("the logits [5, 1, 0], target 0.9 (the first case's target again)",
                          np.array([5.0, 1.0, 0.0]), 0.9),
        _temperature_case("the logits [2, 0.2, 0.9], target 0.9 (the first case's first logit, "
                          "sum and target)", np.array([2.0, 0.2, 0.9]), 0.9),
        _temperature_case("the logits [2, 0.1, 0.1], target 0.9 (the first case's first logit, "
                          "largest, smallest and target)", np.array([2.0, 0.1, 0.1]), 0.9),
        # ... and twins of the first case that keep its target, its two largest logits or its
        # ends and extremes, with a third logit drawn: a cache keyed on those shows.
        _temperature_case(f"the logits [2, 1, {third}], target 0.9 (the first case's two "
                          "largest logits and target)", np.array([2.0, 1.0, third]), 0.9),
        _temperature_case(f"the logits [2, {middle}, 0.1], target 0.9 (the first case's ends, "
                          "largest, smallest and target)", np.array([2.0, middle, 0.1]), 0.9),
        _temperature_case("a target just above the top probability at T = 1 (T a little "
                          "below 1; the top class is not class 0)", near, p1 + step),
        _temperature_case("a target just below the top probability at T = 1 (T a little "
                          "above 1)", near, p1 - step),
        _scaled(rng, "a small temperature (below 0.005)", k, 0.002, 0.004),
        _scaled(rng, "a small temperature (below 0.01), float32 logits", k + 1, 0.005, 0.009,
                dtype=np.float32),
        _scaled(rng, "a large temperature (above 50)", k, 50.0, 500.0),
        # Two classes, the larger logit first and second on every draw (a closed form for two
        # classes that takes the first for the larger shows): the first at the top of the
        # range of T, where the top probability moves fast with T, the second at a T drawn
        # over the whole range.
        _temperature_case("two classes, the larger logit first, and a target reached at the "
                          "top of the range of T",
                          top := np.array([1000.0 * rng.uniform(1.2, 2.0), 0.0])
                          + rng.uniform(-50.0, 50.0), _top_probability(top, 1000.0)),
        _temperature_case(
            "two classes, the larger logit second",
            second := np.array([0.0, (t2 := float(np.exp(rng.uniform(np.log(1e-3), np.log(
                1e3))))) * rng.uniform(0.5, 3.0)]) + rng.uniform(-50.0, 50.0),
            _top_probability(second, t2)),
        _scaled(rng, "a target reached at the bottom of the range of T", k, 0.001, 0.001),
        _scaled(rng, "two logits tie for the top (the target is below 1/2)", k + 1, 0.3, 3.0,
                tie=True),
        _scaled(rng, "logits near 1000 (a naive exp overflows)", k, 0.2, 0.8, offset=1000.0),
        _scaled(rng, "logits near -1000 (a naive exp underflows to 0)", k, 0.2, 0.8,
                offset=-1000.0, note={"low": True}),
        # float32 logits near +-1000 at a small T: logits / T near 1e5 keep about 0.01 in
        # float32, which the tolerance for float32 logits allows (a float16 step does not).
        _scaled(rng, f"float32 logits near {(off32 := float(rng.choice([-1000.0, 1000.0]))):g} "
                "and a small temperature (below 0.02)", k, 0.005, 0.02, offset=off32,
                dtype=np.float32, note={"low": True} if off32 < 0 else None),
    ]
    # integers: a few hundred (the top one's probability is moderate at T = its gap to the
    # second, over 0.5 to 2), and B + 1, B, -B with B above 2^31 (at T from 0.5 to 3)
    # (drawn again until an int8 conversion moves the answer's probability well past the
    # tolerance: on some draws the wrapped logits happen to need almost the same T)
    for _ in range(50):
        ints = _hundreds(rng, k)
        gap = float(np.diff(np.sort(ints))[-1])
        int_target = _top_probability(ints, gap / float(rng.uniform(0.5, 2.0)))
        t8 = _temperature_of(ints.astype(np.int8), int_target)
        if t8 is None or abs(_top_probability(ints, t8) - int_target) > (
                5 * TEMPERATURE_TOLERANCE):
            break
    cases.append(_temperature_case("integer logits (int64) of a few hundred", ints, int_target,
                                   note={"ints": "int8"}))
    # (each drawn again, up to 20 times, while the logits converted to int8 happen to need
    # about the same T: of the narrower types only int8 leaves gaps of the logits' size;
    # the others tie the top two or leave gaps of thousands)
    for _ in range(20):
        big = _int_logits(rng, np.int64)
        big_target = _top_probability(big, float(np.exp(rng.uniform(np.log(0.5), np.log(3.0)))))
        if _int8_misses(big, big_target):
            break
    cases.append(_temperature_case(
        "integer logits (int64) near +-3e9, the top two 1 apart (exact in int64, not in float32 "
        "or int32)", big, big_target, note=INT64_NOTE))
    for _ in range(20):
        big32 = _int_logits(rng, np.int32, int(rng.integers(3, 6)))
        target32 = _top_probability(big32, float(np.exp(rng.uniform(np.log(0.5), np.log(3.0)))))
        if _int8_misses(big32, target32):
            break
    cases.append(_temperature_case(
        "integer logits (int32) near +-50,000, the top two 1 apart (exact in int32, not in "
        "float16 or int16)", big32, target32, note=INT32_NOTE))
    # Many classes, [1, 0, ..., 0]: the top probability moves fast with T there, so a T a few
    # 1e-4 off (16 bisection steps on log T, a stop at a log-width of 5e-4 or at
    # |p - target| < 1.1e-4, T rounded to 4 digits, a grid of 20,000 temperatures) misses.
    # The same logits and targets at every draw.
    # (One of them in float32: logits of 0 and 1 at T near 0.2 keep float32's rounding far
    # below the tolerance, so a search that stops early, or rounds T, for float32 logits
    # only shows too.)
    for k_many, many_target, dtype in ((100, 0.625, np.float32), (100, 0.647, np.float64),
                                       (1000, 0.595, np.float64), (100_000, 0.525, np.float64)):
        one_hot = np.zeros(k_many, dtype=dtype)
        one_hot[int(rng.integers(1, k_many))] = 1.0  # not class 0: the top class anywhere
        kind = " (float32 logits)" if dtype == np.float32 else ""
        cases.append(_temperature_case(
            f"{k_many} classes{kind}, one logit 1 (at index {int(np.argmax(one_hot))}) and the "
            f"others 0, target {many_target} (the top probability changes fast with T)",
            one_hot, many_target))
    # ... and one in float32 at a drawn target: a search whose last step happens to land
    # near the fixed one's target still misses here on most draws.
    one_hot = np.zeros(1000, dtype=np.float32)
    one_hot[int(rng.integers(1, 1000))] = 1.0
    drawn_target = round(float(rng.uniform(0.55, 0.65)), 4)
    cases.append(_temperature_case(
        f"1000 classes (float32 logits), one logit 1 (at index {int(np.argmax(one_hot))}) and "
        f"the others 0, target {drawn_target} (the top probability changes fast with T)",
        one_hot, drawn_target))
    # ... and at the bottom of the range of T: logits [0.0125, 0, ..., 0], T near 1e-3, where
    # a step of 1e-6 in T moves p by 3e-3 (a bisection on T itself, not log T, of 30 steps
    # leaves steps of 9e-7).
    for _ in range(2):
        small = np.zeros(100_000)
        small[int(rng.integers(0, 100_000))] = 0.0125
        low_target = round(float(rng.uniform(0.5, 0.65)), 4)
        cases.append(_temperature_case(
            f"100000 classes, one logit 0.0125 and the others 0, target {low_target} (T near "
            "1e-3)",
            small, low_target))
    # The top logit inside the array, far above the others (T of 200 to 800): a shift by an
    # end, the last logit or the median overflows when the search tries a small T.
    inside = rng.normal(0.0, 1.0, 4)
    inside[int(rng.integers(1, 3))] = 800.0
    t_inside = float(rng.uniform(0.5, 2.0))
    inside_target = _top_probability(inside, t_inside * 400.0)
    cases.append(_temperature_case("the top logit, 800, inside the array (neither first nor "
                                   "last)", inside, inside_target))
    # Class 0 far below the others: a shift by the first logit, not the largest, overflows.
    far = _moderate_logits(rng, k, top_not_first=True)
    t_far = float(rng.uniform(0.5, 2.0))
    far = far * t_far
    far[0] = far.max() - 800.0
    cases.append(_temperature_case("class 0 800 below the others (a shift by logits[0] "
                                   "overflows)", far, _top_probability(far, t_far)))
    # Every logit negative and a spread above exp's limit (T from 50 to 500): a shift by the
    # minimum when every logit is negative overflows as soon as the search tries T = 1.
    negative = rng.permutation(_negative_max(rng))
    cases.append(_temperature_case(
        f"every logit negative, the largest {negative.max():.4g}, the smallest "
        f"{negative.min():.4g} (a spread above 709)", negative,
        _top_probability(negative, float(np.exp(rng.uniform(np.log(50.0), np.log(500.0)))))))
    # Targets near both ends of what T in [1e-3, 1e3] reaches, a drawn distance inside, from
    # 1.5 to 5 times the tolerance: near 1 (just below the top probability at T = 1e-3), and
    # just above the top probability at T = 1000 (near 1/k). A search that takes a
    # probability near 1 for 1, or one near 1/k for 1/k, misses (whatever its threshold, up
    # to a few 1e-4 from the end).
    top_end = _moderate_logits(rng, k, top_not_first=True)
    inside = [TEMPERATURE_TOLERANCE * float(np.exp(rng.uniform(np.log(1.5), np.log(5.0))))
              for _ in range(2)]
    near_top = _top_probability(top_end, 1e-3) - inside[0]
    cases.append(_temperature_case(f"a target near 1, {near_top:.6g} (T well below 1)", top_end,
                                   near_top))
    # (logits of a small spread: the top probability at T = 1000 is within a few 1e-4 of
    # 1/k, so a target just above it is too)
    low_end = _moderate_logits(rng, k + 1) * 0.2
    floor_p = _top_probability(low_end, 1e3)
    near_low = floor_p + inside[1]
    cases.append(_temperature_case(
        f"a target near 1/{k + 1}: {near_low:.6g}, just above {floor_p:.6g}, the top "
        "probability at the largest T, 1000", low_end, near_low))
    kk = int(rng.integers(2, 8))
    cases.append(_scaled(rng, f"random logits of {kk} classes", kk, 0.003, 300.0,
                         offset=float(rng.uniform(-100, 100))))
    return cases


def _judge_temperature(case: Case, obs, expected) -> None:
    z, target = case.args
    value, said = _unwrap(obs, "`temperature_for`")
    zs = np.round(np.asarray(z), 6).tolist() if np.size(z) <= 12 else show(np.asarray(z))
    call = f"`temperature_for({zs}, target={target:.6g})`"
    if isinstance(value, np.ndarray):
        raise ExerciseError(
            f"{call} returned an array of shape {value.shape} ({describe(value)}); the task "
            "asks for one number, the temperature T.",
            "return T itself as a number, not an array (not even of one element) and not the "
            "probabilities.")
    t = expect_float(value, call, finite=False, hint="return the temperature T as a float.")
    # Only a T that is wrong itself is diagnosed: on flat cases (two top logits nearly tied)
    # both T and exp(T) can give the target.
    right_itself = math.isfinite(t) and t > 0 and abs(
        _top_probability(z, t) - target) <= _temperature_tolerance(z, t)
    if not right_itself and math.isfinite(t) and abs(t) < 700 and abs(
            _top_probability(z, math.exp(t)) - target) <= TEMPERATURE_TOLERANCE:
        raise ExerciseError(
            f"{call} returned {t:.4g}, which looks like log T: at T = exp({t:.4g}) = "
            f"{math.exp(t):.4g} the top class gets the target {target:.6g}.",
            "a bisection on log T finds log T; the temperature is its exponential.")
    if not math.isfinite(t) or t <= 0:
        raise ExerciseError(f"{call} returned T = {t:.4g}; a temperature must be > 0 (and "
                            "finite).",
                            "search T in the interval [1e-3, 1e3], where the answers lie.")
    p_top = _top_probability(z, t)
    tolerance = _temperature_tolerance(z, t)
    naive = (("the logits here are very negative, and at a small T the logits / T are even "
              "more so: unshifted, exp of them underflows to 0 (and 0 / 0 is NaN). Compute "
              "the probabilities with a max-subtracted softmax, whatever the sign of the "
              "maximum.") if case.note.get("low") else
             ("every logit here is negative and they spread over more than 709: at T = 1 "
              "already, a shift by the smallest logit (or none) leaves exponents above exp's "
              "limit. Compute the probabilities with a softmax that subtracts the largest "
              "logit, whatever its sign.") if _negative_and_spread(z) else
             "at a small T the logits / T are huge and a naive exp overflows: compute the "
             "probabilities with a max-subtracted softmax.")
    if abs(p_top - target) <= tolerance:
        if said:
            raise ExerciseError(
                f"{call} returned T = {t:.4g}{_warned(said)}; the task asks for no warning.",
                naive)
        return
    if case.note.get("ints"):
        zi = np.asarray(z)
        name = _matching_conversion(zi, case.note["ints"], lambda w: abs(
            _top_probability(w, t) - target) <= TEMPERATURE_TOLERANCE)
        raise ExerciseError(
            f"{call} returned T = {t:.6g}{_warned(said)}; at that T the top class gets "
            f"p = {p_top:.6f}, not {target:.6f} (to within {tolerance:g}).",
            _int_hint(zi.dtype, name) if name is not None else (
                f"{zi.dtype.name} and float64 hold these integer logits exactly: compute the "
                "probabilities with them as they are, in float64. A conversion to a narrower "
                "type, or a step in a lower precision, changes the answer."))
    if said:
        raise ExerciseError(
            f"{call} returned T = {t:.4g}{_warned(said)}; at that T the top class gets "
            f"p = {p_top:.6f}, target {target:.6g}.", naive)
    # (Near T = 1, 1/T is T: any nearly right T would look inverted.)
    if abs(math.log(t)) > 0.1 and abs(_top_probability(z, 1.0 / t) - target) \
            <= TEMPERATURE_TOLERANCE:
        raise ExerciseError(
            f"{call} returned {t:.4g}, which looks like 1/T (the inverse temperature): at "
            f"T = {t:.4g} the top class gets p = {p_top:.4f}.",
            "the logits are divided by T.")
    direction = ("too sharp: a larger T flattens the distribution" if p_top > target else
                 "too flat: a smaller T sharpens the distribution")
    zf = np.asarray(z, dtype=float)
    top = int(np.argmax(zf))
    # Class 0 is named when its probability is nearer the target than the top class's, or
    # the top class's is far off (the answer may have followed class 0), not for a T that
    # is merely inaccurate; as a fact about class 0, not as the mistake (a search range too
    # narrow, say, is far off too).
    p0 = float(_softmax(zf / t)[0])
    extra = (", what the task allows for float32 logits at this T"
             if tolerance > TEMPERATURE_TOLERANCE else "")
    followed = abs(p0 - target) < abs(p_top - target) or abs(p_top - target) > 0.05
    class0 = "" if zf[0] == zf[top] or not followed else (
        f" (if your search followed class 0: it is not the top class here, and gets p = "
        f"{p0:.6f})")
    raise ExerciseError(
        f"{call} returned T = {t:.6g}, at which the most probable class, class {top} "
        f"(logit {zf[top]:g}), gets p = {p_top:.6f}, not {target:.6f} (to within "
        f"{tolerance:.2g}{extra}){class0}.",
        f"{direction}. The target is for the most probable class, whichever its index. Its "
        "probability falls steadily as T grows (from 1 at T -> 0 to 1/k at T -> infinity), "
        "so halving an interval around the crossing, often enough, finds it; stop on the "
        "interval's width, not on a rounded probability.")


TEMPERATURE = Spec(
    "ch04.temperature_for", check="ch04.check_temperature_for",
    grade_id="ch04-temperature-check", what="`temperature_for(logits, target)`",
    answers=("temperature_for",), draw=_draw_temperature,
    reference=lambda logits, target: None, judge=_judge_temperature,
    explain_error=lambda case, obs: _explain(obs.error),
    passed="`temperature_for` is right: in every case the top class reaches the target "
           "probability (to within 1e-4, plus float32's rounding for float32 logits), at "
           "temperatures below and above 1.")


@exercise_check
def check_temperature_for(fn, *, seed: int | None = None) -> None:
    """Exercise: ``temperature_for(logits, target)``: T > 0 where max softmax(z / T) = target."""
    TEMPERATURE.check(fn, seed=seed)
