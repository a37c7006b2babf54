"""One spec per exercise: its contract, its reference, and inputs drawn at every check.

A :class:`Spec` says what an exercise asks for: which answers (functions) the student writes,
how to draw the cases to try them on (edge cases first, then random ones, fresh at every
call), the reference the results are compared with, and how to judge one result (type,
shape, dtype, values) with a message that says what differs. The same spec serves two
paths:

- **in the notebook** (:meth:`Spec.check`): the cases are drawn from ``os.urandom``, the
  student's functions run on them, their results become plain data (``_plain``), and only
  then are the references computed and the results judged. A pass prints the same line for
  every draw; a failure names the case and the seed that repeats the draw.
- **under autograding**: the grader draws the cases in its own process and writes them as
  plain data into the sandbox (the *inbox*); the check cell, seeing ``AFC_GRADING_INBOX``,
  only runs the student's functions on them and writes what came back to the *outbox*
  (:func:`collect`). The grader reads that plain data back and judges it in its own process
  (:func:`prepare_inbox`, :func:`verdicts`), so nothing in the student's process decides a
  grade. A check cell that does not write to the outbox scores 0.

Forbidden calls and loops are measured while the student's function runs (``_trace``).

What every call meets, besides the cases a chapter draws:

- inputs handed over read-only (about one case in three writeable, chosen by the case's
  shapes, dtypes and first values, or by the draw): a write into them shows either way;
- results kept to the end and compared again, and checked for memory shared between calls;
  ``reuse_calls`` more calls after the first result bring a ring of kept buffers round;
- ``twins``: a case repeated with two inner values swapped (same shape, dtype, ends, sum
  and extremes, another right result), so a result kept by any summary of its input shows;
- a case may hand its arrays over in Fortran order (``Case.order``), as a transpose is;
- ``layouts``: about one drawn case in four hands its arrays over as strided views (every
  other element of a larger array, ``order="S"``), as a slice ``X[:, ::2]`` is, and one in
  eight in Fortran order: an answer that reads the raw memory, or assumes one layout, shows.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import gc
import hashlib
import inspect
import itertools
import os
import re
import time
import warnings
import weakref
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._blas import one_blas_thread
from . import _plain, _trace
from ._core import ExerciseError, NotAnsweredYet, passed, require_callable
from ._plain import Build, Other
from ._trace import Forbidden, Trace, tracing

__all__ = ["Case", "Observation", "Spec", "builder", "case", "collect", "driver",
           "fresh_seed", "prepare_inbox", "random_shape", "spec_for", "verdicts", "work_cases"]

SPECS: dict[str, Spec] = {}
BUILDERS: dict[str, Callable[..., Any]] = {}
DRIVERS: dict[str, Callable[..., Any]] = {}
# A timed case fails when the answer takes this many times numpy's own time on the input
# (and over TIMED_FLOOR seconds of CPU): numpy's loops over raw numbers take 1-20 ns an
# element, a loop over Python objects, even one driven from C, 50-200 ns.
TIMED_FACTOR = 5
TIMED_FLOOR = 0.01
INBOX_VARIABLE = "AFC_GRADING_INBOX"
OUTBOX_VARIABLE = "AFC_GRADING_OUTBOX"
_GRADE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def fresh_seed() -> int:
    """A seed for one draw of cases, from the operating system's randomness."""
    return int.from_bytes(os.urandom(4), "big")


def builder(kind: str):
    """Register a function that builds an input from a :class:`Build` recipe of this kind."""
    def register(fn):
        BUILDERS[kind] = fn
        return fn
    return register


def driver(name: str):
    """Register a scenario a case runs instead of a plain call: ``fn(answers, *args, **kw)``."""
    def register(fn):
        DRIVERS[name] = fn
        return fn
    return register


def materialise(value):
    """``value`` with every Build recipe built, and arrays copied: fresh inputs for one call."""
    if isinstance(value, Build):
        if value.kind not in BUILDERS:
            raise ExerciseError(f"the check cannot build an input of kind {value.kind!r}.")
        return BUILDERS[value.kind](**materialise(value.params))
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [materialise(v) for v in value]
    if isinstance(value, tuple):
        return tuple(materialise(v) for v in value)
    if isinstance(value, dict):
        return {k: materialise(v) for k, v in value.items()}
    return value


@dataclass
class Case:
    """One call to try the student's answer on.

    ``args``/``kwargs`` are plain data and Build recipes. ``answer`` picks which of the
    student's functions to call, or ``driver`` names a scenario that uses them. A case with
    ``work`` ("small" or "large") is also measured for Python work; ``size`` is how many
    times a loop over it would run (its shortest scaled axis) and ``elements`` how many
    elements it has. A "timed" case (a large input, some 100,000 elements: set ``elements``)
    is also timed against numpy's own loops. Work cases are judged for their values like any other.
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    answer: int = 0
    driver: str | None = None
    work: str | None = None
    size: int = 0
    elements: int = 0
    note: dict = field(default_factory=dict)   # plain facts for the judge (not sent to students)
    writeable: bool | None = None  # inputs handed over writeable? None: _handed_writeable says
    order: str = "C"  # "F": arrays of 2+ axes handed over in Fortran order, as a transpose
    #                   is; "S": arrays of 1+ axes as strided views, as a slice X[:, ::2] is

    def inputs(self) -> tuple[tuple, dict]:
        """Fresh (args, kwargs) for one call: recipes built, arrays copied (in Fortran order
        for an ``order="F"`` case, as strided views for an ``order="S"`` case)."""
        args = materialise(self.args)
        if self.order in LAYOUTS:
            args = tuple(_laid_out(a, self.order) for a in args)
        return args, materialise(self.kwargs)

    def as_plain(self) -> dict:
        return {"label": self.label, "args": list(self.args), "kwargs": dict(self.kwargs),
                "answer": self.answer, "driver": self.driver, "work": self.work,
                "size": self.size, "elements": self.elements, "writeable": self.writeable,
                "order": self.order}

    @classmethod
    def from_plain(cls, data: dict) -> Case:
        if not isinstance(data, dict):
            raise _plain.PlainDataError("a case must be a dict")
        return cls(label=str(data["label"]), args=tuple(data["args"]),
                   kwargs=dict(data["kwargs"]), answer=int(data["answer"]),
                   driver=data["driver"], work=data["work"], size=int(data["size"]),
                   elements=int(data["elements"]),
                   writeable=data.get("writeable") if data.get("writeable") in (True, False)
                   else None,
                   order=data.get("order") if data.get("order") in LAYOUTS else "C")


def strided(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` as a view that is not contiguous: every other element, along the
    last axis, of an array twice as long (as a slice ``X[:, ::2]`` hands them over). The same
    shape, dtype and values; only the memory under them differs."""
    buffer = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    view = buffer[..., ::2]
    view[...] = a
    return view


def _laid_out(a, order: str):
    """``a`` (or each array in a list or tuple of them) in the memory layout ``order``."""
    if isinstance(a, (list, tuple)):
        return type(a)(_laid_out(v, order) for v in a)
    if not isinstance(a, np.ndarray) or a.ndim == 0 or a.size < 2:
        return a
    if order == "F":
        return np.asfortranarray(a) if a.ndim > 1 else a
    return strided(a)


#: The memory layouts a case may hand its arrays over in, besides numpy's usual ("C").
LAYOUTS = ("F", "S")


def random_shape(rng, max_dims: int = 3, low: int = 2, high: int = 6) -> tuple[int, ...]:
    """A shape of 1 to ``max_dims`` axes of ``low`` to ``high``, never with two equal axes (so
    a transposed or reshaped result shows)."""
    while True:
        shape = tuple(int(n) for n in rng.integers(low, high + 1,
                                                   size=int(rng.integers(1, max_dims + 1))))
        if len(set(shape)) == len(shape):
            return shape


WORK_SHAPES = ((3, 4), (43, 44), (500, 400))


def work_cases(make, *, answer: int = 0, name: str = "", shapes=WORK_SHAPES) -> list[Case]:
    """The three cases that measure whether an answer is vectorised, to put last in a draw:
    a small and a large input (Python work that grows with the input is a loop) and a timed
    one of some 200,000 elements (a loop over Python objects driven from C, map or a deque,
    shows in time alone). ``make(shape, large)`` makes the call's arguments (one array, or a
    tuple of them) for an input of that shape; ``large`` is True for the two big ones (a loop
    over the values, 1..max(n), shows only if they are larger too). ``name`` prefixes the
    labels (for a spec with several answers)."""
    cases = []
    # (two shapes: the small and the large case only, a pair that measures Python work)
    for shape, work, big in zip(shapes, ("small", "large", "timed"), (False, True, True)):
        args = make(shape, big)
        args = args if isinstance(args, tuple) else (args,)
        elements = int(np.prod(shape))
        label = (f"{name}an input of {elements:,} elements (timed against numpy's own loops)"
                 if work == "timed" else f"{name}a {' x '.join(map(str, shape))} input"
                 if len(shape) > 1 else f"{name}a 1-D input of {shape[0]} values")
        cases.append(Case(label, args, answer=answer, work=work, size=min(shape),
                          elements=elements))
    return cases


@dataclass
class Observation:
    """What one call of the student's answer did: plain data only."""

    status: str                      # "returned", "raised", "stopped" (a loop: see _run),
    #                                  "not_answered" or "missing"
    result: Any = None
    error: str = ""                  # "TypeError: ..." when it raised
    mutated: list[str] = field(default_factory=list)
    trace: Trace = field(default_factory=Trace)
    overwritten: bool = False        # a later call changed the result returned here
    retained: bool = False           # the answer kept the memory of its result after the call

    def as_plain(self) -> dict:
        return {"status": self.status, "result": self.result, "error": self.error,
                "mutated": list(self.mutated), "trace": self.trace.as_plain(),
                "overwritten": bool(self.overwritten), "retained": bool(self.retained)}

    @classmethod
    def from_plain(cls, data) -> Observation:
        """An observation read from the outbox: anything malformed is 'missing'."""
        if not isinstance(data, dict) or data.get("status") not in (
                "returned", "raised", "stopped", "not_answered"):
            return cls("missing")
        mutated = data.get("mutated")
        return cls(status=data["status"], result=data.get("result"),
                   error=str(data.get("error", ""))[:600],
                   mutated=[str(m)[:60] for m in mutated[:5]] if isinstance(mutated, list) else [],
                   trace=Trace.from_plain(data.get("trace")),
                   overwritten=data.get("overwritten") is True,
                   retained=data.get("retained") is True)


# ------------------------------------------------------------------ running the answer

def _digest(array: np.ndarray) -> str:
    """A digest of an array's bytes (hashed in place, without a copy of them)."""
    data = np.ascontiguousarray(array)
    if data.dtype.hasobject:
        return repr(data.tolist())
    return hashlib.sha1(memoryview(data.reshape(-1)).cast("B") if data.size else b"").hexdigest()


def _fingerprint(obj, depth: int = 0):
    """A comparable summary of ``obj``'s contents, to tell whether a call changed it."""
    if depth > 6:
        return ("deep",)
    if isinstance(obj, np.ndarray):
        return ("array", obj.dtype.str, obj.shape, _digest(obj))
    if type(obj).__module__.startswith("torch"):
        if hasattr(obj, "state_dict"):
            return ("module", _fingerprint({k: v.detach().cpu().numpy()
                                            for k, v in obj.state_dict().items()}, depth + 1))
        if hasattr(obj, "detach"):
            return ("tensor", _fingerprint(obj.detach().cpu().numpy(), depth + 1))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(_fingerprint(v, depth + 1) for v in obj))
    if isinstance(obj, dict):
        return ("dict", tuple((repr(k), _fingerprint(v, depth + 1)) for k, v in obj.items()))
    if isinstance(obj, float):
        return ("float", obj.hex())
    if obj is None or isinstance(obj, (bool, int, str, complex, np.generic)):
        return ("value", repr(obj))
    if callable(obj):
        return ("callable", id(obj))
    if hasattr(obj, "__dict__"):
        return ("object", type(obj).__name__, _fingerprint(
            {k: v for k, v in vars(obj).items() if not callable(v)}, depth + 1))
    return ("other", id(obj))


def _argument_names(fn, count: int) -> list[str]:
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [f"`{names[i]}`" if i < len(names) else f"argument {i + 1}" for i in range(count)]


def observe(spec: Spec, answers: Sequence, case: Case) -> Observation:
    """Run one case on fresh inputs and record what happened, as plain data."""
    return _run(spec, answers, case)[0]


def observe_all(spec: Spec, answers: Sequence, cases: Sequence[Case]) -> list[Observation]:
    """Run every case in turn. A result the answer returned is kept until the end: one that a
    later call changed came from a buffer the answer reuses (a cache of output arrays), so a
    caller's earlier result would change under it."""
    observations, kept, came_round = [], [], set()
    held: list[tuple[Observation, list, Any]] = []  # (the containers keep their ids unique)
    retained = False
    for i, case in enumerate(cases):
        if case.work in ("large", "timed") and any(o.status == "stopped" for o in observations):
            # A loop is already stopped and settles the verdict: the costly cases need not run
            # (a driven loop over a timed input takes seconds even untraced).
            observations.append(Observation("stopped", trace=Trace(complete=True, stopped=True)))
            continue
        limit = _work_limit(spec, cases[:i], observations, case)
        observation, raw = _run(spec, answers, case, limit)
        observations.append(observation)
        if observation.status == "returned" and not _holds_data(raw):
            parts = _containers_in(raw)
            if parts:
                held.append((observation, parts, _contents(parts)))
        if observation.status == "returned" and _holds_data(raw):
            print_ = _contents(raw)
            if print_ is not None:
                kept.append((observation, raw, print_))
                # (once per answer function, on its first result)
                if case.answer not in came_round and _come_round(spec, answers, case):
                    came_round.add(case.answer)
                # Every result is probed, until one is kept: a buffer or a cache kept for
                # some inputs only (a dtype, a size band, large inputs) shows on its kind.
                if spec.reuse_calls and not retained:
                    observation.retained = retained = _retained(spec, answers, case)
    arrays = [(observation, list(_arrays_in(raw))) for observation, raw, _ in kept]
    for observation, raw, print_ in kept:
        observation.overwritten = _contents(raw) != print_
    # Results made of dicts and lists (of numbers): one that a later call changed, or handed
    # out again (the same dict every call, cleared and refilled), changes under its caller.
    owner: dict[int, Observation] = {}
    for observation, parts, print_ in held:
        observation.overwritten = observation.overwritten or _contents(parts) != print_
        for part in parts:
            if owner.setdefault(id(part), observation) is not observation:
                owner[id(part)].overwritten = True
    # Two calls that return the same memory (a cache handing out the array it keeps): the
    # caller who changes one result changes the other, and every later one.
    for j, (_, mine) in enumerate(arrays):
        for earlier, theirs in arrays[:j]:
            if any(a.size and b.size and np.may_share_memory(a, b)
                   for a in mine for b in theirs):
                earlier.overwritten = True
    return observations


def _work_limit(spec: Spec, before: Sequence[Case], seen: Sequence[Observation],
                case: Case) -> int | None:
    """The Python work (lines and calls) at which ``case``'s call may be stopped: the work
    that :meth:`Spec._judge_work` calls a loop, given the small cases already run (None: no
    limit). A loop over a million values under the tracer takes tens of seconds to run to the
    end; stopped at the limit, its verdict is the same and comes at once."""
    if not spec.vectorised or case.work not in ("large", "timed"):
        return None
    small = [(c, o) for c, o in zip(before, seen) if c.work == "small"]
    if case.work == "large":  # paired in order with the small cases, as the judge pairs them
        k = sum(c.work == "large" for c in before)
        if k >= len(small):
            return None
        cs, os_ = small[k]
        return os_.trace.work + _loop_work(cs, case)
    done = [o.trace.work for c, o in small if c.answer == case.answer and o.trace.complete]
    if case.driver is not None or not done:
        return None
    # (the fewest seen so far: the judge's fewest, over every small case, is no more)
    return min(done) + TIMED_LOOP_WORK


def _containers_in(raw, depth: int = 0) -> list:
    """The dicts and lists of an answer's result (a driver's record: of its "result" or
    "table"), to three levels: the containers a caller holds and could see change."""
    if depth == 0 and isinstance(raw, dict) and ("result" in raw or "table" in raw):
        raw = raw.get("result", raw.get("table"))
    if depth > 2 or not isinstance(raw, (dict, list)):
        return []
    found = [raw]
    for value in (raw.values() if isinstance(raw, dict) else raw[:50]):
        found += _containers_in(value, depth + 1)
    return found


def _come_round(spec: Spec, answers: Sequence, case: Case) -> bool:
    """Call the answer ``spec.reuse_calls`` more times on other values of ``case``'s shape
    (its float arrays flipped and doubled, so the results differ): a ring of output buffers,
    which hands its first slot out again only after N calls of one shape, comes round within
    that many, and the result of ``case``, which the caller keeps, is seen changing. The
    calls' own results are not judged. False when there is nothing to vary (no float array,
    or one that flipping and doubling leaves as it was)."""
    if not spec.reuse_calls:
        return False
    args, kwargs = case.inputs()
    with np.errstate(all="ignore"):
        varied = tuple(np.flip(a) * 2 if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                       else a for a in args)
    if all(v is a or np.array_equal(v, a, equal_nan=True) for v, a in zip(varied, args)):
        return False
    again = Case(case.label, varied, kwargs, answer=case.answer, driver=case.driver,
                 writeable=case.writeable)
    for _ in range(spec.reuse_calls):
        _probe(spec, answers, again)
    return True


def _probe(spec: Spec, answers: Sequence, case: Case) -> Any:
    """The result of one more call of the answer on ``case`` (None if it raised), for the
    probes of kept buffers: the inputs handed over as in the case's own call, but nothing
    traced, timed or fingerprinted (that call was; these only show what the answer keeps)."""
    args, kwargs = case.inputs()
    if case.driver is None:
        _read_only([*args, *kwargs.values()], case.writeable)
    call, call_args = _call_of(answers, case, args)
    handed = _CASE_WRITEABLE.set(case.writeable)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return call(*call_args, **kwargs)
    except Exception:
        return None
    finally:
        _CASE_WRITEABLE.reset(handed)


def _retained(spec: Spec, answers: Sequence, case: Case) -> bool:
    """Whether the answer keeps the memory of a result it returns: ``case`` is run once more,
    the result dropped, and its memory (the array that owns it, under any views) must then be
    freed. A ring of output buffers of any size, a cache handing out what it keeps or one
    buffer per shape keeps it alive, and a caller's result would change under it when that
    memory is handed out again."""
    raw = _probe(spec, answers, case)
    refs = []
    for array in _arrays_in(raw):
        while isinstance(array.base, np.ndarray):
            array = array.base
        if array.size:
            refs.append(weakref.ref(array))
        del array
    del raw
    if all(ref() is None for ref in refs):  # freed at once (the usual case): no collection
        return False
    gc.collect()  # (what only a reference cycle still holds is freed here; ~0.3 s with torch)
    return any(ref() is not None for ref in refs)


def _contents(raw):
    """A fingerprint of a result (a driver's record: of its "result"), or None for one that
    has none (an object array, a strange type: the judge says what came)."""
    try:
        return _fingerprint(raw["result"] if isinstance(raw, dict) else raw)
    except Exception:
        return None


def _arrays_in(result):
    """The numpy arrays in a result (nested lists and tuples, a driver's record)."""
    if isinstance(result, np.ndarray):
        yield result
    elif isinstance(result, (list, tuple)):
        for r in result[:20]:
            yield from _arrays_in(r)
    elif isinstance(result, dict) and "result" in result:
        yield from _arrays_in(result["result"])


def _written(call, case: Case, names: list[str]) -> list[str]:
    """Which inputs ``call`` writes into, found by running it once more on writeable copies
    (after a write into a read-only input failed); [] when none changed in the end."""
    args, kwargs = case.inputs()
    values = [*args, *kwargs.values()]
    before = [_fingerprint(v) for v in values]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            call(*args, **kwargs)
        except Exception:
            pass
    return [name for name, v, b in zip(names, values, before) if _fingerprint(v) != b]


def swapped_inner(rng, first: np.ndarray) -> np.ndarray:
    """``first`` with two of its inner values (two different numbers, neither the middle one)
    swapped: the same shape, dtype, ends, middle, sum, maximum and minimum, and the same value
    at every other place. A twin of a case: a result kept by any summary or by a few fixed
    places of the input shows on it. (A float sum rounds differently when its terms change
    places, so of the swaps tried the first whose numpy sum is the very same float is taken.)"""
    flat = first.ravel()
    inner = np.setdiff1d(np.arange(1, flat.size - 1), [flat.size // 2])
    with np.errstate(all="ignore"):
        total = first.sum()
    fallback = None
    for _ in range(40):
        if inner.size < 2:
            break
        i, j = rng.choice(inner, 2, replace=False)
        if flat[i] == flat[j]:
            continue
        candidate = flat.copy()
        candidate[i], candidate[j] = flat[j], flat[i]
        candidate = candidate.reshape(first.shape)
        with np.errstate(all="ignore"):
            if candidate.sum() == total:
                return candidate
        fallback = candidate if fallback is None else fallback
    return fallback if fallback is not None else first.copy()


def with_twins(spec, rng, cases: list[Case], count: int) -> list[Case]:
    """``cases`` with ``count`` twins, each right after its case: the same inputs with two
    inner values of *one* of its arrays swapped (:func:`swapped_inner`: the same shape,
    dtype, ends, sum and extremes), drawn until the right result changes. An answer that keeps
    its results by a summary of its input (or by the full bytes of another array) hands the
    first case's result back for the twin, where it is wrong.

    The cases twinned are those that measure no work and hold an array of 4 or more values,
    latest first, one of each answer function and kind of dtypes before a second of any
    kind (a cache kept for float32 or integer input only meets a twin too); the array
    swapped changes from one twin to the next (X, then W, then b), so a key holding one
    array whole meets a twin that swaps in another."""
    eligible = [i for i, c in enumerate(cases) if c.work is None and _leaves(c.args)
                and _total_size(c.args) <= TWIN_SIZE]
    kinds: dict[tuple, list[int]] = {}
    for i in reversed(eligible):  # (by answer function too: each one meets a twin)
        kinds.setdefault((cases[i].answer, _dtype_kind(cases[i].args)), []).append(i)
    order = [(i, turn) for turn, row in enumerate(itertools.zip_longest(*kinds.values()))
             for i in row if i is not None]
    # The first large work case gets a twin too, besides the ``count`` (a cache kept for
    # large inputs only meets it there); the twin measures no work.
    large = [i for i, c in enumerate(cases) if c.work == "large" and _leaves(c.args)
             and _total_size(c.args) <= TWIN_SIZE]
    if large and count > 1:
        order, count = [(large[0], 0), *order], count + 1
    twins: dict[int, Case] = {}
    for i, turn in order:
        if len(twins) == count:
            break
        # (a kind's second twin swaps the next array from its first's: with two arrays, X
        # then y, each kind meets both)
        twin = _twin(spec, rng, cases[i], first_leaf=len(twins) + turn)
        if twin is not None:
            twins[i] = twin
    out = []
    for i, case in enumerate(cases):
        out.append(case)
        if i in twins:
            out.append(twins[i])
    for i, c in enumerate(out):  # a draw that numbers its cases (for messages) keeps true
        if "index" in c.note:
            c.note["index"] = i
    return out


#: What a twin's label adds to its case's.
TWIN_LABEL = ", with two inner values of one array swapped"
#: The most values a twinned case holds: a large timed case is not run twice.
TWIN_SIZE = 20_000
#: Cases with this many values or more are handed over writeable on every draw.
WRITEABLE_SIZE = 10_000


def _total_size(value) -> int:
    if isinstance(value, np.ndarray):
        return value.size
    if isinstance(value, (list, tuple)):
        return sum(_total_size(v) for v in value)
    return 0


def _leaves(value, path=()) -> list[tuple]:
    """The paths (indices into nested lists and tuples) of the arrays of 4 or more numbers."""
    if isinstance(value, np.ndarray):
        return [path] if value.size >= 4 and value.dtype.kind in "iuf" else []
    if isinstance(value, (list, tuple)):
        return [p for k, v in enumerate(value) for p in _leaves(v, (*path, k))]
    return []


def _has_matrix(value) -> bool:
    """Whether ``value`` (nested lists and tuples of arrays) holds an array of 2+ axes."""
    if isinstance(value, np.ndarray):
        return value.ndim > 1
    return isinstance(value, (list, tuple)) and any(_has_matrix(v) for v in value)


def _dtype_kind(value) -> str:
    """The dtypes of the arrays in ``value``, as one string ("float32,int64")."""
    if isinstance(value, np.ndarray):
        return value.dtype.str
    if isinstance(value, (list, tuple)):
        return ",".join(_dtype_kind(v) for v in value)
    return ""


def _swapped_at(rng, value, path: tuple, order: str = "C"):
    """``value`` (nested lists and tuples of arrays) with the array at ``path`` swapped
    (:func:`swapped_inner`); the others are left as they are (a case's inputs are copied at
    every call). For a case handed over in Fortran order the swap is made in that order, so
    numpy's sum, which runs in memory order, stays the same to the last bit."""
    if not path:
        if order == "F" and value.ndim > 1:
            return swapped_inner(rng, np.ascontiguousarray(value.T)).T
        return swapped_inner(rng, value)
    return type(value)(_swapped_at(rng, v, path[1:], order) if k == path[0] else v
                       for k, v in enumerate(value))


def _twin(spec, rng, case: Case, first_leaf: int = 0, tries: int = 12) -> Case | None:
    """A twin of ``case`` whose right result differs from its own: the array swapped is
    leaf ``first_leaf`` (in turn), or the next one where no swap of it changes the result."""
    leaves = _leaves(case.args)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        right = _fingerprint(spec.expected(case))
        for k in range(len(leaves)):
            path = leaves[(first_leaf + k) % len(leaves)]
            for _ in range(tries):
                twin = Case(f"{case.label}{TWIN_LABEL} (the "
                            "same shapes, sums, ends, largest and smallest as the case before)",
                            _swapped_at(rng, case.args, path, case.order), dict(case.kwargs),
                            answer=case.answer, driver=case.driver, note=dict(case.note),
                            order=case.order)  # (numpy's sum runs in memory order)
                if _fingerprint(spec.expected(twin)) != right:
                    return twin
    return None


def _handed_writeable(values) -> bool:
    """Whether a case's inputs go over writeable, as a caller's arrays usually are: about one
    case in three, chosen by the shapes, dtypes and first values of its arrays. An answer that
    copies its input only when it is read-only (np.require(z, requirements="W")) and writes
    into the caller's array otherwise is seen changing it there; on the read-only cases, one
    that writes and puts the values back fails at the write."""
    arrays = [a for v in values for a in (v if isinstance(v, (list, tuple)) else [v])
              if isinstance(a, np.ndarray)]
    if not arrays:
        return False
    # (the first values count too: a drawn case of fixed shape, a large timed one say, is
    # handed over writeable on some draws and read-only on others)
    key = repr([(a.shape, a.dtype.str) for a in arrays]).encode() + b"".join(
        np.ascontiguousarray(a.ravel()[:16]).tobytes() for a in arrays)
    return zlib.crc32(key) % 3 == 0


#: Whether the case a driver runs is handed over writeable (the draw's choice): a driver,
#: which marks its own inputs, reads it here.
_CASE_WRITEABLE: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "case_writeable", default=None)


def _read_only(values, writeable: bool | None = None) -> list[np.ndarray]:
    """Mark the arrays among ``values`` (and in lists or tuples of them) read-only, except in
    the cases handed over writeable (the draw's choice for the case being run; else see
    :func:`_handed_writeable`). The same lines run either way: a driver calls it inside the
    answer's traced call, where Python work that differs from case to case would look like a
    loop of the answer's."""
    if writeable is None:
        writeable = _CASE_WRITEABLE.get()
    keep = writeable if writeable is not None else _handed_writeable(values)
    frozen = []
    for value in values:
        for a in (value if isinstance(value, (list, tuple)) else [value]):
            if isinstance(a, np.ndarray) and a.flags.writeable:
                a.setflags(write=keep)
                frozen += [] if keep else [a]
    return frozen


def _holds_data(result) -> bool:
    """Whether a result holds arrays or tensors whose contents a later call could change."""
    if isinstance(result, np.ndarray):
        return True
    if isinstance(result, (list, tuple)):
        return any(_holds_data(r) for r in result[:20])
    if isinstance(result, dict) and "result" in result:  # a driver's record of the call
        return _holds_data(result["result"])
    return type(result).__module__.startswith("torch") and hasattr(result, "detach")


def _call_of(answers: Sequence, case: Case, args: tuple) -> tuple[Callable, tuple]:
    """What a case calls, and with what: its driver (given the answers), or the answer."""
    if case.driver is not None:
        return DRIVERS[case.driver], (answers, *args)
    return answers[case.answer], args


def _run(spec: Spec, answers: Sequence, case: Case,
         work_limit: int | None = None) -> tuple[Observation, Any]:
    """Run one case: its observation, and the result as returned (not copied). The call is
    stopped (status "stopped") once its Python work reaches ``work_limit``, or once a loop in
    disguise runs in an exercise that asks for vectorised code: the verdict is then settled."""
    args, kwargs = case.inputs()
    # A driver's scenario may change the objects it is given (train a model, register a hook):
    # a driver checks what the student must not change itself.
    watch = case.driver is None
    before = [_fingerprint(a) for a in args] + [_fingerprint(v) for v in kwargs.values()] \
        if watch else []
    # The arrays are handed over read-only: an answer that writes into its input and puts the
    # values back before returning (which the fingerprints cannot see) fails at the write.
    frozen = _read_only([*args, *kwargs.values()], case.writeable) if watch else []
    call, call_args = _call_of(answers, case, args)
    status, result, error = "returned", None, ""
    # A driver hands its inputs over writeable or read-only as the draw says (a hash of their
    # first values made a long input of zeros read-only on every draw).
    handed = _CASE_WRITEABLE.set(case.writeable) if case.driver is not None else None
    # Underflow stays ignored, as numpy's default has it: a tiny result rounding to 0 is no
    # warning, and exp(-|x|), the overflow-safe pattern, relies on it.
    with warnings.catch_warnings(), np.errstate(all=spec.numpy_errors, under="ignore"):
        warnings.simplefilter("error" if spec.numpy_errors == "raise" else "ignore")
        # Nothing to trace (no forbidden calls, no work to count): no profiler either, which
        # would slow an answer that trains networks by a factor of 2 to 3.
        traced = spec.traces(case)
        # A timed case runs on one BLAS thread: a second one spinning while it waits to be
        # scheduled would count CPU time that is no work of the answer's.
        # (BLAS first, outside the tracer: its set-up is no work of the answer's.)
        with (one_blas_thread() if case.work == "timed" else contextlib.nullcontext()), \
                (tracing(spec.forbidden, count_work=case.work is not None,
                         work_limit=work_limit, stop_per_element=spec.vectorised) if traced
                 else contextlib.nullcontext(Trace())) as trace:
            start = time.process_time()
            try:
                result = _trace.call_armed(trace, call, *call_args, **kwargs)
            except _trace.Stopped:
                pass
            except NotImplementedError as err:
                if _raised_by_an_answer(err, answers):   # the answer cell's stub
                    status = "not_answered"
                else:  # a library the answer called does not do this (torch.softmax on ints)
                    status, error = "raised", f"NotImplementedError: {err}"[:600]
            except Exception as err:  # the student's code failed: say how, never crash
                status, error = "raised", f"{type(err).__name__}: {err}"[:600]
            # (before the inputs are compared with their fingerprints: hashing 16 MB of a
            # timed input took 10 ms, counted as the answer's until this stop)
            first = time.process_time() - start
    if trace.stopped:  # (even if the answer caught Stopped and went on)
        status, result, error = "stopped", None, ""
    if case.driver is not None:
        _CASE_WRITEABLE.reset(handed)
    if status != "not_answered":
        handed = [name for name in map(_trace.borrowed, answers) if name]
        trace.forbidden[:0] = handed[:1]
    mutated = []
    if watch:
        after = [_fingerprint(a) for a in args] + [_fingerprint(v) for v in kwargs.values()]
        names = _argument_names(call, len(args)) + [f"`{k}`" for k in kwargs]
        mutated = [name for name, b, a in zip(names, before, after) if b != a]
        if status == "raised" and "read-only" in error and not mutated:
            mutated = _written(call, case, names) or [" or ".join(
                name for name, value in zip(names, [*args, *kwargs.values()])
                if any(value is f or (isinstance(value, (list, tuple))
                                      and any(v is f for v in value)) for f in frozen))]
    if case.work == "timed" and status == "returned":
        trace.seconds, trace.reference_seconds = _timings(spec, call, call_args, kwargs, case,
                                                          first)
    try:
        plain = _plain.to_plain(result)
    except _plain.PlainDataError as err:
        plain = Other(type(result).__name__, f"too large to check ({err})")
    return Observation(status, plain, error, mutated, trace), result


def _raised_by_an_answer(err: BaseException, answers: Sequence) -> bool:
    """True when the innermost frame of ``err`` is one of the student's answer functions: the
    `raise NotImplementedError()` an unanswered cell still holds."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    codes = {getattr(a, "__code__", None) for a in answers}
    return tb is not None and tb.tb_frame.f_code in codes


#: How many times over the timed limit an answer is judged on its first measures alone.
HOPELESS = 10


def _too_slow(trace: Trace, floor: float = TIMED_FLOOR) -> bool:
    return trace.seconds > max(TIMED_FACTOR * trace.reference_seconds, floor)


def _cpu_seconds(fn, *args, **kwargs) -> float:
    """CPU time of one call (process time: a busy machine does not inflate it)."""
    start = time.process_time()
    fn(*args, **kwargs)
    return time.process_time() - start


@functools.lru_cache(maxsize=8)
def _exp_seconds(elements: int) -> float:
    """CPU seconds of np.exp on this many elements (the fastest of 3): numpy's speed on this
    machine, measured once per process."""
    ones = np.ones(elements)
    return min(_cpu_seconds(np.exp, ones) for _ in range(3))


def _timings(spec: Spec, call, call_args, kwargs, case: Case, first: float,
             repeats: int = 4) -> tuple[float, float]:
    """(answer, numpy) CPU seconds on a timed case. numpy's time is the slower of the
    reference (the fastest of three runs) and of np.exp on as many elements (a typical costly
    ufunc); the answer's first run is run again (up to ``repeats`` in all) only while it looks
    too slow, so a passing answer runs once. Each new run of the answer is paired with a new
    measure of the reference (the faster of two runs), taken at once: on a busy machine both
    slow down, and the pair with the smallest ratio is kept, so an answer that is only slowed
    is not mistaken for a loop. A reference measure counts for at most twice the fastest one
    seen: a stall in the reference's runs alone (a page fault, memory compaction, both counted
    as the process's CPU time) cannot lift the limit more than that, and CI saw one lift a
    13-times-slower answer under it."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), one_blas_thread():
        warnings.simplefilter("ignore")
        floor = _exp_seconds(max(case.elements, 1))
        # numpy's time is at least np.exp's: an answer within the limit that gives passes
        # whatever the reference takes, and the reference need not run.
        if not _too_slow(Trace(seconds=first, reference_seconds=floor), spec.timed_floor):
            return first, floor
        # Three runs at first: a passing answer is judged on this one measure alone.
        fastest = min(_cpu_seconds(spec.expected, case) for _ in range(3))
        best = (first, max(fastest, floor))
        for _ in range(repeats - 1):
            if not _too_slow(Trace(seconds=best[0], reference_seconds=best[1]),
                             spec.timed_floor):
                break
            # Far over the limit, no new measure brings it under: a loop from C over a
            # million rows took 0.8 s a run, four runs a check, at 70 times the limit.
            if best[0] > HOPELESS * max(TIMED_FACTOR * best[1], spec.timed_floor):
                break
            args, kw = case.inputs()
            fresh = (call_args[0], *args) if case.driver is not None else args
            try:
                answer = _cpu_seconds(call, *fresh, **kw)
            except Exception:
                break
            measured = min(_cpu_seconds(spec.expected, case) for _ in range(2))
            fastest = min(fastest, measured)
            numpy_time = max(min(measured, 2 * fastest), floor)
            pair = Trace(seconds=answer, reference_seconds=numpy_time)
            if not _too_slow(pair, spec.timed_floor) or answer / numpy_time < best[0] / best[1]:
                best = (answer, numpy_time)
    return best


def _with_layout(c: Case, layout: int) -> Case:
    """``c`` handed over strided (``layout`` 0 or 1 of 0-7), in Fortran order (2, for a case
    with an array of 2+ axes) or as it is; cases that measure work stay as they are."""
    if layout == 2 and not _has_matrix(c.args):
        return c  # (Fortran order changes nothing in a 1-D array)
    if c.order != "C" or c.work is not None or not _leaves(c.args) or layout > 2:
        return c
    strided_ = layout < 2
    # (a copy: a draw may hand out the same Case object every time)
    return dataclasses.replace(
        c, order="S" if strided_ else "F", note=dict(c.note),
        label=c.label + (", its arrays handed over as strided views (every other element of "
                         "a larger array)" if strided_ else
                         ", its arrays handed over in Fortran order"))


# ------------------------------------------------------------------ the spec

class Spec:
    """What one exercise asks for, and how to check it (see the module's docstring).

    - ``answers``: the names of the student's functions, in the order the check takes them;
    - ``check``: the check function's name as a notebook calls it ("ch02.check_..."), for the
      line that tells how to repeat a draw;
    - ``draw(rng) -> list[Case]``: the cases, edge cases first; ``rng`` is seeded per call;
    - ``reference(*args, **kwargs)`` (or ``reference_case(case)`` for driver cases): the
      right result, computed only after every student call;
    - ``judge(case, observation, expected)``: raise ExerciseError when the result is wrong;
    - ``judge_all(cases, observations, expected)``: optional, for what spans several cases;
    - ``explain_error(case, observation) -> hint | None``: optional, for a known exception;
    - ``forbidden``: functions that must not run (by what runs, not by name);
    - ``vectorised``: a Python loop is refused (the cases with ``work`` are compared);
    - ``numpy_errors``: "ignore" (the judge sees inf and NaN) or "raise" (every floating-point
      warning is an error, for the stability exercises);
    - ``fixed_cases``: the exercise has no inputs to draw (its cases are the same every time);
    - ``timed_floor``: CPU seconds a timed case may always take (TIMED_FLOOR unless a right
      answer's honest form is slow on the timed inputs, e.g. a reduction over a short axis);
    - ``reuse_calls``: for a cheap answer that returns an array, how many more calls after the
      first array result, on other values of its shape, to bring round a ring of kept output
      buffers (0: none);
    - ``twins``: how many drawn cases get a twin (see :func:`with_twins`; 0: none, for a spec
      whose draw makes its own);
    - ``layouts``: hand some drawn cases' arrays over as strided views or in Fortran order
      (see :meth:`draw`; False for a spec whose answers take no arrays).
    """

    def __init__(self, id: str, *, grade_id: str, what: str, draw, passed: str, check: str,
                 answers: Sequence[str] = ("answer",), reference=None, reference_case=None,
                 judge=None, judge_all=None, explain_error=None,
                 forbidden: Forbidden | None = None, vectorised: bool = False,
                 loop_hint: str | None = None, numpy_errors: str = "ignore",
                 fixed_cases: bool = False, timed_floor: float = TIMED_FLOOR,
                 reuse_calls: int = 0, twins: int = 0, layouts: bool = True):
        self.id, self.grade_id, self.what, self.check_name = id, grade_id, what, check
        self.answers = tuple(answers)
        self.draw_cases = draw
        self.pass_message = passed
        self.reference, self.reference_case = reference, reference_case
        self.judge, self.judge_all, self.explain_error = judge, judge_all, explain_error
        self.forbidden, self.vectorised, self.loop_hint = forbidden, vectorised, loop_hint
        self.numpy_errors = numpy_errors
        self.fixed_cases = fixed_cases
        self.timed_floor = timed_floor
        self.reuse_calls = reuse_calls
        self.twins = twins
        self.layouts = layouts
        if id in SPECS and SPECS[id].grade_id != grade_id:
            raise ValueError(f"two specs named {id!r}")
        SPECS[id] = self

    def traces(self, case: Case) -> bool:
        """Whether ``case`` runs under the call tracer: the spec forbids calls, or the case
        measures work. (Observing and judging must agree on it.)"""
        return self.forbidden is not None or case.work is not None

    def draw(self, seed: int) -> list[Case]:
        """The cases of one draw (the same seed gives the same cases), with ``twins`` of them
        added (see :func:`with_twins`)."""
        rng = np.random.default_rng(seed)
        cases = list(self.draw_cases(rng))
        # Some cases hand their arrays over in another memory layout: one in four as strided
        # views, one in eight in Fortran order (cases that measure work keep numpy's usual
        # layout: their time is compared with numpy's own on it). Drawn before the twins, so a
        # twin keeps its case's layout: numpy sums in memory order, and a cache keyed by a sum
        # would otherwise tell a twin from its case by the layout alone.
        if self.layouts:
            cases = [_with_layout(c, int(rng.integers(8))) for c in cases]
        if self.twins:
            cases = with_twins(self, rng, cases, self.twins)
        # Each case's inputs go over writeable or read-only as the draw says (one in two): a
        # write into them shows either way, on every kind of case over a few draws. Large
        # inputs (10,000+ values) always go over writeable, as a caller's arrays are: an
        # answer that works in place on large writeable inputs only (to save memory) shows on
        # every draw, not one in two.
        for c in cases:
            drawn = bool(rng.integers(2))
            if c.writeable is None:
                c.writeable = drawn or _total_size(c.args) >= WRITEABLE_SIZE
        return cases

    def case(self, seed: int, index: int) -> tuple[tuple, dict]:
        """The inputs (args, kwargs) of case ``index`` of the draw ``seed``, to try by hand."""
        return self.draw(seed)[index].inputs()

    def expected(self, case: Case):
        """The reference result for one case (in the grader's process under autograding)."""
        if self.reference_case is not None:
            return self.reference_case(case)
        args, kwargs = case.inputs()
        with np.errstate(all="ignore"):
            return self.reference(*args, **kwargs)

    # -------------------------------------------------------------- in the notebook

    def check(self, *answers, seed: int | None = None) -> None:
        """Check the student's answers: print a tick, or raise ExerciseError saying what differs.

        Under autograding (the grader's inbox is set) it only records the answers' results.
        """
        if len(answers) != len(self.answers):
            raise TypeError(f"this check takes {len(self.answers)} answer(s): "
                            f"{', '.join(self.answers)}")
        for fn, name in zip(answers, self.answers):
            require_callable(fn, f"`{name}`")
        if os.environ.get(INBOX_VARIABLE):
            collect(self, answers)
            return
        seed = fresh_seed() if seed is None else int(seed)
        cases = self.draw(seed)
        observations = observe_all(self, answers, cases)
        self.verdict(cases, observations, seed)
        passed(self.pass_message)

    # -------------------------------------------------------------- judging

    def verdict(self, cases: Sequence[Case], observations: Sequence[Observation],
                seed: int) -> None:
        """Judge the observations of one draw; raise ExerciseError (or NotAnsweredYet)."""
        if any(o.status == "not_answered" for o in observations):
            raise NotAnsweredYet(self.what)
        expected: dict[int, Any] = {}

        again = f"`{self.check_name}({', '.join(self.answers)}, seed={seed})`"
        repeat = f"{again} repeats it."

        def where(i: int) -> str:
            return (f"In case {i + 1} of {len(cases)}: {cases[i].label}. {again} repeats it; "
                    f"`helpers.exercises.case(\"{self.id}\", {seed}, {i})` gives its inputs.")

        for i, (c, o) in enumerate(zip(cases, observations)):
            try:
                self._judge_one(c, o, expected, i)
            except ExerciseError as err:
                raise err.at(where(i)) from None
        try:
            if self.vectorised:
                self._judge_work(cases, observations)
            if self.judge_all is not None:
                refs = [expected.get(i) for i in range(len(cases))]
                self.judge_all(cases, observations, refs)
        except ExerciseError as err:
            raise err.at(f"On the cases of the draw with seed {seed}: {repeat}") from None

    def _judge_one(self, c: Case, o: Observation, expected: dict, i: int) -> None:
        what = self.what
        if o.status == "missing":
            raise ExerciseError(f"no result of {what} reached the grader for this case.",
                                "the check cell must run to the end, after your answer cell.")
        if o.mutated:  # (first: a write into a read-only input raises)
            raise ExerciseError(
                f"{what} modified its input {o.mutated[0]} in place.",
                "the caller still needs the inputs it passed: compute the result into a new "
                "object instead of assigning into (or appending to) the one you were given.")
        if o.status == "raised":
            hint = self.explain_error(c, o) if self.explain_error else None
            raise ExerciseError(f"{what} raised {o.error}", hint or (
                "run your function on this case in a cell of its own and read the error."))
        if o.retained:
            raise ExerciseError(
                f"{what} keeps the array it returned (or the buffer under it) after the call: "
                "a later call may hand that memory out again, and a caller's earlier result "
                "would change under it.",
                "return a new array at every call (numpy's operations make one); keep no "
                "output arrays, rings of buffers or caches of results between calls.")
        if o.overwritten:
            raise ExerciseError(
                f"{what} returned a result here (an array, a dict or a list) that a later call "
                "changed or handed out again (the same object): a caller's earlier result "
                "would change under it.",
                "return a new array (or dict, or list) at every call (numpy's operations make "
                "one); do not keep results between calls.")
        traced = self.traces(c)
        if traced and not o.trace.complete:
            raise ExerciseError(
                f"{what} replaced the check's call tracer (sys.setprofile or sys.settrace) "
                "while it ran, so the check cannot tell what it called.",
                "leave the interpreter's tracing alone in an answer.")
        if o.trace.forbidden:
            first = o.trace.forbidden[0]
            if first.startswith("helpers.exercises."):
                raise ExerciseError(
                    f"{what} calls `{first}`, a part of the check itself: an answer computes "
                    "its result, it does not borrow the check's own reference or internals.",
                    "write the computation yourself, from the task's formula.")
            raise ExerciseError(
                f"{what} calls `{first}`, which this exercise does not allow: "
                f"{self.forbidden.why}.", self.forbidden.hint)
        if o.status == "stopped":  # a loop, stopped where the work judge calls it one
            return
        expected[i] = self.expected(c)
        if self.judge is not None:
            self.judge(c, o, expected[i])

    def _judge_work(self, cases: Sequence[Case], observations: Sequence[Observation]) -> None:
        small = [(c, o) for c, o in zip(cases, observations) if c.work == "small"]
        large = [(c, o) for c, o in zip(cases, observations) if c.work == "large"]
        hint = self.loop_hint or ("numpy operations work on whole arrays at once, and its "
                                  "reductions take an axis: one call handles every slice.")
        # A loop in disguise (np.vectorize, np.frompyfunc, np.fromiter, np.apply_along_axis,
        # a list of a large array) on any case: an answer that loops only on some shapes
        # (1-D or 3-D, say) shows too.
        for c, o in zip(cases, observations):
            if o.trace.per_element:
                raise ExerciseError(
                    f"{self.what} works element by element (or slice by slice) with "
                    f"`{o.trace.per_element[0]}` on {c.label}, a loop in disguise (a Python "
                    "list of the elements is one too); this exercise asks for a vectorised "
                    "answer.", hint)
        for (cs, os_), (cl, ol) in zip(small, large):
            grown_work = ol.trace.work - os_.trace.work
            grown_blocks = ol.trace.peak_blocks - os_.trace.peak_blocks
            if grown_work >= _loop_work(cs, cl):
                raise ExerciseError(
                    f"{self.what} runs a Python loop: on {cs.label} it executed "
                    f"{os_.trace.work} Python lines and calls, on {cl.label} "
                    f"{_work_done(ol)}. A vectorised answer runs the same few lines whatever "
                    "the size (np.vectorize, map and comprehensions are loops too).", hint)
            if grown_blocks >= max(64, (cl.elements - cs.elements) // 2):
                raise ExerciseError(
                    f"{self.what} makes one Python object per element: on {cl.label} up to "
                    f"{ol.trace.peak_blocks} objects were alive at once, on {cs.label} "
                    f"{os_.trace.peak_blocks} (a list of the elements, map, or "
                    "np.frompyfunc): a loop in disguise; this exercise asks for a vectorised "
                    "answer.", hint)
        # The timed input is hundreds of times larger than the small work case: a Python loop
        # over blocks of it (a `for` over chunks of a few thousand rows, an early exit from
        # one) runs its lines there, which the pair above, both below 2,000 elements, cannot
        # show. (A driver's own lines run there too: its cases are left to the pair.)
        # (per answer function: two functions of one exercise run different numpy code, and
        # np.select's constant 150 lines are no loop beside a two-line derivative)
        fewest_of = {}
        for c, o in small:
            if o.trace.complete:
                fewest_of[c.answer] = min(o.trace.work, fewest_of.get(c.answer, o.trace.work))
        for c, o in zip(cases, observations):
            fewest = fewest_of.get(c.answer)
            grown = o.trace.work - fewest if fewest is not None else 0
            if (c.work == "timed" and c.driver is None and o.trace.complete
                    and o.status in ("returned", "stopped") and grown >= TIMED_LOOP_WORK):
                raise ExerciseError(
                    f"{self.what} runs a Python loop: on {c.label} it executed "
                    f"{_work_done(o)} Python lines and calls, on the smallest input "
                    f"{fewest}. A vectorised answer runs the same few lines whatever the "
                    "size (a loop over blocks of the input is a loop too).", hint)
        for c, o in zip(cases, observations):
            # numpy's own loops run in C on raw numbers; one over Python objects, even driven
            # from C (map, a deque), takes tens of times longer: a right answer is within a
            # few times the reference.
            if c.work == "timed" and _too_slow(o.trace, self.timed_floor):
                raise ExerciseError(
                    f"{self.what} took {o.trace.seconds * 1e3:.0f} ms of CPU on {c.label}, "
                    f"where numpy's own loops take about {o.trace.reference_seconds * 1e3:.1f} "
                    "ms. Either it handles the elements one at a time (a loop, or "
                    "map/deque/iterators over the elements), or it computes in a slow type "
                    "(np.longdouble, Python objects such as Fraction or Decimal) whose "
                    "arithmetic runs many times slower than float64's, or it calls a costly "
                    "function on every element where a cheaper one does the job "
                    "(np.hypot.reduce for a norm, say); this exercise asks for a vectorised "
                    "answer in float64 (or the input's float type).", hint)


def _loop_work(small: Case, large: Case) -> int:
    """The Python work a large work case may run beyond its small one before it is a loop."""
    return max(8, (large.size - small.size) // 2)


def _work_done(o: Observation) -> str:
    """The Python lines and calls of a call, as a message says them."""
    if o.status == "stopped":
        return f"{o.trace.work} before the check stopped it"
    return str(o.trace.work)


#: Python lines and calls a timed case may run beyond the smallest work case (a branch for
#: large inputs, numpy's own Python wrappers): a loop over blocks of it runs hundreds more.
TIMED_LOOP_WORK = 96


def spec_for(grade_id: str) -> Spec:
    """The spec of the check cell ``grade_id`` (importing its chapter's module)."""
    chapter = grade_id.split("-", 1)[0]
    if re.fullmatch(r"ch\d\d", chapter):
        __import__(f"helpers.exercises.{chapter}")
    for spec in SPECS.values():
        if spec.grade_id == grade_id:
            return spec
    raise KeyError(f"no exercise spec for the grade cell {grade_id!r}")


def case(spec_id: str, seed: int, index: int) -> tuple[tuple, dict]:
    """The inputs of case ``index`` of draw ``seed`` of an exercise, to try your answer on.

    ``helpers.exercises.case("ch02.sigmoid_prime_from_output", 1234, 3)`` gives the
    ``(args, kwargs)`` that a failure message named.
    """
    chapter = spec_id.split(".", 1)[0]
    if re.fullmatch(r"ch\d\d", chapter):
        __import__(f"helpers.exercises.{chapter}")
    return SPECS[spec_id].case(seed, index)


# ------------------------------------------------------------------ autograding

def collect(spec: Spec, answers: Sequence) -> None:
    """Under autograding, in the student's (sandboxed) process: run the grader's cases and
    write what the answers returned to the outbox. Decides nothing."""
    inbox = Path(os.environ[INBOX_VARIABLE])
    outbox = Path(os.environ.get(OUTBOX_VARIABLE, inbox))
    try:
        cases = [Case.from_plain(c) for c in _plain.read(inbox, spec.grade_id)]
    except FileNotFoundError:
        print(f"\U0001f4e8 {spec.what}: the grader sent no cases for this exercise.")
        return
    observations = [o.as_plain() for o in observe_all(spec, answers, cases)]
    _plain.write(outbox, spec.grade_id, observations)
    print(f"\U0001f4e8 {spec.what}: results recorded; the grader judges them after the run.")


@dataclass
class Prepared:
    """What the grader drew for one check cell: kept in the grader's process."""

    spec: Spec
    seed: int
    cases: list[Case]


def prepare_inbox(grade_ids: Sequence[str], inbox: Path) -> dict[str, Prepared]:
    """In the grader's process: draw fresh cases for each check cell and write them to
    ``inbox`` as plain data. Returns what was drawn, for :func:`verdicts`."""
    prepared = {}
    for grade_id in grade_ids:
        if not _GRADE_ID.match(grade_id):
            raise ValueError(f"unexpected grade id {grade_id!r}")
        spec = spec_for(grade_id)
        seed = fresh_seed()
        cases = spec.draw(seed)
        _plain.write(inbox, grade_id, [c.as_plain() for c in cases])
        prepared[grade_id] = Prepared(spec, seed, cases)
    return prepared


@dataclass
class Verdict:
    """The grader's judgement of one check cell."""

    passed: bool
    message: str


def verdicts(prepared: dict[str, Prepared], outbox: Path) -> dict[str, Verdict]:
    """In the grader's process: judge what the sandbox wrote to ``outbox``. Fails closed:
    a missing, malformed or unreadable record is a failure, never a pass."""
    out = {}
    for grade_id, p in prepared.items():
        try:
            records = _plain.read(outbox, grade_id)
        except FileNotFoundError:
            out[grade_id] = Verdict(False, (
                f"{p.spec.what}: no results reached the grader. The check cell did not run "
                "to the end in grading mode (it raised, the kernel stopped, or the grading "
                "setup in the notebook was changed)."))
            continue
        except Exception as err:
            out[grade_id] = Verdict(False, f"{p.spec.what}: the results could not be read "
                                           f"({type(err).__name__}: {err}).")
            continue
        if not isinstance(records, list) or len(records) != len(p.cases):
            out[grade_id] = Verdict(False, f"{p.spec.what}: the results do not match the "
                                           "cases the grader sent.")
            continue
        observations = [Observation.from_plain(r) for r in records]
        try:
            p.spec.verdict(p.cases, observations, p.seed)
        except ExerciseError as err:
            out[grade_id] = Verdict(False, "\n".join(err._render_traceback_()))
            continue
        except Exception as err:  # a judge that cannot read a result fails the exercise
            out[grade_id] = Verdict(False, f"{p.spec.what}: the grader could not judge the "
                                           f"results ({type(err).__name__}: {err}).")
            continue
        out[grade_id] = Verdict(True, f"\u2705 {p.spec.pass_message}")
    return out
