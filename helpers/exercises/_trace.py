"""What runs while a student's function runs: forbidden calls, and work that grows with the input.

Two questions a check cannot answer from a function's text, because the same code can hide
behind an alias, a ``functools.partial``, a wrapper or a lambda:

- *Did it call the course's own implementation (or a library function the task forbids)?*
  :func:`tracing` installs a profiler (``sys.setprofile``) for the duration of the call and
  records every Python function and every builtin that actually runs, by the module and
  qualified name of the code that runs, whatever name the student called it by.
- *Is it vectorised?* A Python loop over the elements (a ``for``, a comprehension,
  ``np.vectorize``, ``map`` with a Python function, recursion) executes Python lines and
  calls in proportion to the input's size; a loop in C over Python objects
  (``list(map(math.exp, x))``, ``np.frompyfunc``) keeps one Python object per element alive.
  :func:`tracing` counts both (line and call events through ``sys.settrace``, and the peak
  of ``sys.getallocatedblocks()`` above the start), so a check can run the function on a
  small and a large input and compare: vectorised code does the same Python work for both.
  One form escapes both counters: builtins consuming a ``map`` of builtins one element at a
  time (``sum(map(math.exp, x))``, ``deque(map(out.__setitem__, ...))``) run no Python line
  and keep nothing alive. The two numpy builtins made for that (``np.fromiter``,
  ``np.frompyfunc``) are caught by what runs; the rest by time: a *timed* case runs the answer
  and the reference on one large input, and a loop over Python objects takes tens of times
  longer than numpy's loops in C (``_spec`` compares the two).
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import gc
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Forbidden", "Stopped", "Trace", "call_armed", "tracing"]

# Builtins that build an array element by element from Python objects, one at a time: a loop
# in disguise whose per-element work the counters below cannot see, since the objects are
# consumed one by one (np.vectorize calls frompyfunc too). Generic consumers (sum, min,
# sorted...) are not listed: numpy calls them on shapes, and a student on short lists.
PER_ELEMENT_BUILTINS = frozenset({"numpy.fromiter", "numpy.frompyfunc"})
# numpy's Python functions that loop over slices in Python (one call of the function per
# slice): loops in disguise too, whatever the shape of the input.
PER_SLICE_FUNCTIONS = frozenset({"apply_along_axis", "apply_over_axes"})
SAMPLES = 256
# A builtin method run on a list (or tuple) this long, or ndarray.tolist on an array this
# large, goes over every element as a Python object: a loop in disguise. The block counter
# below cannot see it when the objects are shared (the two booleans of a mask's tolist, then
# list.index over them). Results and small inputs stay well below this size.
PER_ELEMENT_SIZE = 10_000


class Stopped(BaseException):
    """Raised inside the student's call once what it ran settles the verdict (its Python work
    passed the loop limit, or a loop in disguise ran): a loop over a million values need not
    run to the end under the tracer (tens of seconds) to be called a loop. A BaseException,
    so an answer's ``except Exception`` does not swallow it."""


def _per_element_method(method) -> str | None:
    """The name of ``method`` when it is a builtin method that goes over each element of a
    large list, tuple or array as a Python object (None otherwise)."""
    owner = getattr(method, "__self__", None)
    kind = type(owner)
    if kind is list or kind is tuple:
        if len(owner) >= PER_ELEMENT_SIZE:
            return f"{kind.__name__}.{method.__name__}"
    elif (kind.__name__ == "ndarray" and method.__name__ == "tolist"
          and kind.__module__ == "numpy" and owner.size >= PER_ELEMENT_SIZE):
        return "numpy.ndarray.tolist"
    return None


@dataclass(frozen=True)
class Forbidden:
    """Functions a task forbids, as ``module:qualname`` patterns (``fnmatch`` wildcards).

    ``"helpers.activations:*"`` is every function of that module; ``"torch:softmax"`` the
    builtin ``torch.softmax``; ``"torch.nn.functional:softmax"`` the Python one.
    """

    patterns: tuple[str, ...]
    why: str = "the task asks you to write it yourself"
    # What to do instead: the message's second line.
    hint: str = ("write the computation out with numpy arithmetic; the names you import it "
                 "under do not matter, the check sees what runs.")

    def matches(self, module: str, qualname: str) -> bool:
        full = f"{module}:{qualname}"
        return any(fnmatch.fnmatchcase(full, p) for p in self.patterns)


@dataclass
class Trace:
    """What ran during one call of the student's function."""

    forbidden: list[str] = field(default_factory=list)   # "module.qualname" of each, first 5
    per_element: list[str] = field(default_factory=list)  # per-element C consumers that ran
    lines: int = 0           # Python line events, in any frame below the student's call
    calls: int = 0           # Python and builtin function calls
    peak_blocks: int = 0     # most Python memory blocks alive at once, above the start
    complete: bool = False   # the tracer ran to the end of the call (not replaced midway)
    stopped: bool = False    # the tracer stopped the call (see Stopped): work is a lower bound
    armed: bool = False      # inside the student's call (see call_armed): a stop may come
    seconds: float = 0.0     # a timed case: the fastest of a few calls of the answer
    reference_seconds: float = 0.0  # ... and of the reference, on the same input

    @property
    def work(self) -> int:
        """Python-level work: lines executed plus functions called."""
        return self.lines + self.calls

    def as_plain(self) -> dict:
        return {"forbidden": list(self.forbidden), "per_element": list(self.per_element),
                "lines": int(self.lines), "calls": int(self.calls),
                "peak_blocks": int(self.peak_blocks), "complete": bool(self.complete),
                "stopped": bool(self.stopped),
                "seconds": float(self.seconds),
                "reference_seconds": float(self.reference_seconds)}

    @classmethod
    def from_plain(cls, data) -> Trace:
        if not isinstance(data, dict):
            return cls()
        def ints(key):
            v = data.get(key)
            return v if type(v) is int and v >= 0 else 0
        def names(key):
            v = data.get(key)
            return [str(x)[:120] for x in v[:5]] if isinstance(v, list) else []
        def seconds(key):
            v = data.get(key)
            return v if type(v) is float and 0 <= v < 1e6 else 0.0
        return cls(forbidden=names("forbidden"), per_element=names("per_element"),
                   lines=ints("lines"), calls=ints("calls"), peak_blocks=ints("peak_blocks"),
                   complete=data.get("complete") is True, stopped=data.get("stopped") is True,
                   seconds=seconds("seconds"),
                   reference_seconds=seconds("reference_seconds"))


def _c_name(func) -> tuple[str, str]:
    """(module, qualname) of a builtin function or method being called."""
    module = getattr(func, "__module__", None)
    owner = getattr(func, "__self__", None)
    if module is None and owner is not None:
        module = owner.__name__ if isinstance(owner, type(sys)) else type(owner).__module__
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", "?")
    return str(module or "builtins"), str(qualname)


CHECKS = "helpers.exercises"
_HELPERS_DIR = str(Path(__file__).resolve().parents[1])


def _internal(module: str, qualname: str) -> bool:
    """A private part of the checks: a module-level reference or helper (``ch05._ratio``, a
    module-level lambda), or anything of the machinery (``_spec``, ``_core``...). Not the public
    functions a task hands the student (``ch01.xor_width_accuracy``), and not the functions and
    objects a check builds for a case and hands to the answer (defined inside a function, or
    methods of a class), which the answer is meant to call."""
    if module != CHECKS and not module.startswith(CHECKS + "."):
        return False
    if "<locals>" in qualname:
        return False
    if module.rsplit(".", 1)[-1].startswith("_"):
        return True
    return "." not in qualname and qualname.startswith(("_", "<lambda>"))


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({str(Path(paths[key]).resolve()) for key in ("stdlib", "platstdlib",
                                                              "purelib", "platlib")
                  if key in paths})


_LIBRARIES = _library_dirs()


def _students_code(frame) -> bool:
    """A frame of code the student wrote (a notebook cell, a file of their own): not the
    course's ``helpers``, not the standard library or an installed package (contextlib
    resuming a check's context manager, torch calling a check's hook)."""
    if frame is None:
        return False
    filename = frame.f_code.co_filename
    if not filename.startswith(("/", "\\")) and ":" not in filename[:3]:
        return True  # "<ipython-input-...>", "<string>": code typed in
    resolved = str(Path(filename).resolve())
    return not resolved.startswith((_HELPERS_DIR, *_LIBRARIES))


def _inside_the_check(module: str, qualname: str, caller) -> bool:
    """A call from the student's code into the checks' internals: an answer that borrows the
    check's own result. What the checks call themselves (a driver, a recipe's internals), and
    what a library calls back (a hook, a context manager resumed), is fine."""
    return _internal(module, qualname) and _students_code(caller)


def borrowed(answer) -> str | None:
    """The checks' own function handed in as an answer (itself, in a ``functools.partial`` or
    as a bound method), which the call tracer cannot tell from the check calling itself."""
    for _ in range(20):
        if isinstance(answer, functools.partial):
            answer = answer.func
        elif getattr(answer, "__func__", None) is not None:
            answer = answer.__func__
        else:
            break
    qualname = getattr(answer, "__qualname__", None)
    code = getattr(answer, "__code__", None)
    homes = [getattr(answer, "__module__", None),  # and where its code was written:
             _module_of_file(code.co_filename) if hasattr(code, "co_filename") else None]
    for module in homes:
        if isinstance(module, str) and isinstance(qualname, str) and _internal(module, qualname):
            return f"{module}.{qualname}"
    return None


_FILE_MODULES: dict[str, str] = {}


def _module_of_file(filename: str) -> str:
    """The course module a code object was compiled from (``helpers/activations.py`` ->
    ``helpers.activations``), whatever globals it runs with now: a function re-hosted with
    ``types.FunctionType(code, {...})`` keeps its file. "" outside ``helpers``."""
    module = _FILE_MODULES.get(filename)
    if module is None:
        module = ""
        if filename.startswith(_HELPERS_DIR) and filename.endswith(".py"):
            parts = Path(filename[len(_HELPERS_DIR):].lstrip("/\\")).with_suffix("").parts
            module = ".".join(("helpers", *(p for p in parts if p != "__init__")))
        _FILE_MODULES[filename] = module
    return module


_TORCH_COUNTER = None


def _torch_counter():
    """A torch function mode whose handler, a Python function, runs at every torch call: the
    profiler then sees torch's functions called from C too (``functools.reduce(torch.logical_or,
    rows)``, ``map(torch.any, columns)``), which it otherwise cannot. Only built once torch is
    loaded (the checks never import torch themselves)."""
    global _TORCH_COUNTER
    if _TORCH_COUNTER is None:
        from torch.overrides import TorchFunctionMode

        class TorchCalls(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                return func(*args, **(kwargs or {}))

        _TORCH_COUNTER = TorchCalls
    return _TORCH_COUNTER


def call_armed(trace: Trace, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, with ``trace`` armed meanwhile: its tracer stops the student's
    call only, never the check's own lines around it, which run traced too."""
    trace.armed = True
    try:
        return fn(*args, **kwargs)
    finally:
        trace.armed = False


@contextlib.contextmanager
def tracing(forbidden: Forbidden | None = None, *, count_work: bool = False,
            work_limit: int | None = None, stop_per_element: bool = False):
    """Trace the block: yields a :class:`Trace` that fills in while the block runs.

    With ``count_work``, line events are counted too (slower: use it for small functions).
    The traced call is stopped (:class:`Stopped` raised in it, ``trace.stopped`` set) once its
    work reaches ``work_limit``, or, with ``stop_per_element``, once a loop in disguise runs.
    The tracers in place before (a debugger's, a coverage tool's) are put back afterwards.
    """
    trace = Trace()
    getblocks = sys.getallocatedblocks
    start = getblocks()
    peak = start
    # sys.getallocatedblocks walks every memory arena (tens of microseconds once matplotlib or
    # torch is loaded), so it is sampled at the first SAMPLES events only: an answer that
    # builds one object per element in C does so in a handful of events, and one with
    # thousands of events is a Python loop the line count already shows.
    samples = SAMPLES

    def sample():
        nonlocal peak, samples
        if samples > 0:
            samples -= 1
            blocks = getblocks()
            if blocks > peak:
                peak = blocks
    own_code = {tracing.__wrapped__.__code__}  # its own generator, resumed on exit
    # With torch loaded, every torch call runs the counter's handler: one call of work each.
    counter = _torch_counter()() if count_work and "torch" in sys.modules else None
    handler = counter.__torch_function__.__func__.__code__ if counter is not None else None
    limit = work_limit if work_limit is not None else float("inf")

    def stop(frame):
        # (raising in a tracer makes the interpreter drop it: `complete` says it was ours;
        # never in this generator's own lines, which put the tracers back. Once only: the
        # check's lines the exception passes on its way out must not be stopped again.)
        if trace.armed and frame.f_code not in own_code:
            trace.stopped, trace.armed = True, False
            raise Stopped()

    def note_python(frame):
        trace.calls += 1
        if len(trace.forbidden) < 5:
            code = frame.f_code
            module = str(frame.f_globals.get("__name__", "?"))
            qualname = getattr(code, "co_qualname", code.co_name)
            home = _module_of_file(code.co_filename)
            if home and home != module and (  # course code run under other globals
                    (forbidden is not None and forbidden.matches(home, qualname))
                    or _inside_the_check(home, qualname, frame.f_back)):
                trace.forbidden.append(f"{home}.{qualname}")
            elif (forbidden is not None and forbidden.matches(module, qualname)) or \
                    _inside_the_check(module, qualname, frame.f_back):
                trace.forbidden.append(f"{module}.{qualname}")

    def profiler(frame, event, arg):
        if event == "c_call":
            trace.calls += 1
            module, qualname = _c_name(arg)
            full = f"{module}.{qualname}"
            if full in PER_ELEMENT_BUILTINS and full not in trace.per_element:
                trace.per_element.append(full)
            elif not trace.per_element:
                method = _per_element_method(arg)
                if method is not None:
                    trace.per_element.append(method)
            if forbidden is not None and len(trace.forbidden) < 5 and forbidden.matches(
                    module, qualname):
                trace.forbidden.append(full)
            if count_work:
                sample()
        elif event == "call":
            if frame.f_code is handler:
                trace.calls += 1
                return
            name = frame.f_code.co_name
            if name in PER_SLICE_FUNCTIONS and str(frame.f_globals.get(
                    "__name__", "")).startswith("numpy") and f"numpy.{name}" not in \
                    trace.per_element:
                trace.per_element.append(f"numpy.{name}")
            if frame.f_code not in own_code:
                note_python(frame)
        else:
            return
        if trace.lines + trace.calls >= limit or (stop_per_element and trace.per_element):
            stop(frame)

    def line_tracer(frame, event, arg):
        if event == "line":
            trace.lines += 1
            sample()
            if trace.lines + trace.calls >= limit:
                stop(frame)
        return line_tracer

    def global_tracer(frame, event, arg):
        return None if frame.f_code is handler else line_tracer

    previous_profile, previous_trace = sys.getprofile(), sys.gettrace()
    # No garbage collection while work is counted: it would run the finalizers of earlier
    # garbage (a generator's `finally`, a `__del__`) inside the call, as the answer's lines.
    collecting = gc.isenabled()
    if count_work:
        gc.disable()
    if counter is not None:
        counter.__enter__()
    sys.setprofile(profiler)
    if count_work:
        sys.settrace(global_tracer)
    try:
        yield trace
    finally:
        if count_work and collecting:
            gc.enable()
        still_ours = sys.getprofile() is profiler and (not count_work
                                                       or sys.gettrace() is global_tracer)
        if count_work:
            sys.settrace(previous_trace)
        try:
            sys.setprofile(previous_profile)
        except TypeError:  # a C profiler (cProfile, %prun) cannot be put back from Python
            sys.setprofile(None)
        if counter is not None:  # after the tracers: its exit is no call of the answer's
            with contextlib.suppress(Exception):  # the answer left a mode of its own on top
                counter.__exit__(None, None, None)
        trace.peak_blocks = max(0, peak - start)
        trace.complete = still_ours or trace.stopped
