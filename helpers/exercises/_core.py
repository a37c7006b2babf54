"""The shared machinery behind every exercise check.

The pieces a chapter's checks are made of: call the student's function safely
(:func:`call_answer`), compare an array or a number and say precisely what
differs (:func:`check_array`, :func:`check_number`), refuse a Python loop where a
vectorised answer was asked (:func:`check_vectorised`), and report success
(:func:`passed`).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import dis
import functools
import inspect
import os
import textwrap

import numpy as np

__all__ = [
    "as_numeric_array",
    "check_keys",
    "ExerciseError",
    "NotAnsweredYet",
    "call_answer",
    "check_array",
    "check_number",
    "check_vectorised",
    "exercise_check",
    "find_python_loop",
    "grading",
    "needs_answer",
    "passed",
    "require_callable",
]


class ExerciseError(AssertionError):
    """A wrong answer: the message says what differs and gives a hint.

    In Jupyter it is shown as the message alone (no traceback), via IPython's
    ``_render_traceback_`` hook; anywhere else it is a normal AssertionError, so
    nbgrader's autograder scores the cell as failed. ``where`` names the case that failed
    and how to repeat it (a check adds it with :meth:`at`).
    """

    icon = "\u274c"  # red cross

    def __init__(self, problem: str, hint: str | None = None, where: str | None = None):
        self.problem = problem
        self.hint = hint
        self.where = where
        parts = [problem] + ([where] if where else []) + ([f"Hint: {hint}"] if hint else [])
        super().__init__("\n".join(parts))

    def at(self, where: str) -> ExerciseError:
        """The same error, saying in which case (and seed) it happened."""
        return type(self)(self.problem, self.hint, where) if type(self) is ExerciseError \
            else self

    def _render_traceback_(self) -> list[str]:
        lines = [f"{self.icon} {self.problem}"]
        if self.where:
            lines.append(f"   {self.where}")
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return lines


class NotAnsweredYet(ExerciseError):
    """The answer cell still raises NotImplementedError: nothing to check yet."""

    icon = "\u270f\ufe0f"  # pencil

    def __init__(self, what: str):
        super().__init__(
            f"{what} is not answered yet.",
            "replace `raise NotImplementedError()` in the answer cell with your code, "
            "run that cell, then run this check again.",
        )


def grading() -> bool:
    """True while nbgrader autogrades or validates a notebook (it sets NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def exercise_check(check):
    """Decorator for a chapter's check function: an unanswered exercise does not stop the run.

    While a student works, "not answered yet" is printed and the notebook runs on (so Run All
    shows every figure below an exercise). Under nbgrader (autograde, validate) the
    NotAnsweredYet error is raised as before, so the cell fails and scores 0. A wrong answer
    always raises ExerciseError: that is feedback the student must see.
    """

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except NotAnsweredYet as err:
            if grading():
                raise
            print("\n".join(err._render_traceback_()))
            return None

    return wrapper


@contextlib.contextmanager
def needs_answer(what: str):
    """For a cell that uses a student's answer: unanswered, it says so in one line and stops.

    ``with needs_answer("Exercise 2"): ...`` runs the block; if the answer still raises
    NotImplementedError (or a check reports NotAnsweredYet), the rest of the block is
    skipped with one line naming the exercise, instead of a traceback. Other errors pass.
    """
    try:
        yield
    except (NotImplementedError, NotAnsweredYet):
        print(f"\u270f\ufe0f This cell uses your answer to {what}, which is not answered yet: "
              "answer it, then run this cell again.")


def passed(message: str) -> None:
    """Print a clear pass line."""
    print(f"\u2705 {message}")


def require_callable(answer, what: str) -> None:
    """Fail clearly when the student's answer is not a function."""
    if not callable(answer):
        raise ExerciseError(
            f"{what} should be a function, but got {type(answer).__name__} {answer!r:.60}.",
            "define it with `def ...:` in the answer cell and pass the function itself "
            "(without calling it).",
        )


def _snapshot(obj):
    try:
        return copy.deepcopy(obj)
    except Exception:  # an object that cannot be copied cannot be compared either
        return None


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    try:
        return bool(a == b)
    except Exception:
        return True


def call_answer(fn, *args, what: str | None = None, **kwargs):
    """Call the student's ``fn`` on copies of the inputs and return its result.

    Raises NotAnsweredYet for NotImplementedError, and ExerciseError when the
    function raises anything else or modifies its inputs. The caller's arrays
    are never touched: ``fn`` gets copies.
    """
    what = what or f"`{getattr(fn, '__name__', 'your function')}`"
    require_callable(fn, what)
    given = [_snapshot(a) for a in args]
    given_kw = {k: _snapshot(v) for k, v in kwargs.items()}
    sent = [_snapshot(a) for a in args]
    sent_kw = {k: _snapshot(v) for k, v in kwargs.items()}
    try:
        result = fn(*sent, **sent_kw)
    except NotImplementedError:
        raise NotAnsweredYet(what) from None
    except ExerciseError:
        raise
    except Exception as err:
        raise ExerciseError(
            f"{what} raised {type(err).__name__}: {err}",
            "run your function on a small input in a cell of its own and read the error.",
        ) from None
    for i, (before, after) in enumerate(zip(given, sent)):
        if before is not None and not _same(before, after):
            raise ExerciseError(
                f"{what} modified its input {_argument_name(fn, i)} in place.",
                "the caller still needs the inputs it passed: compute the result into a new "
                "object instead of assigning into (or appending to) the one you were given.",
            )
    for key, before in given_kw.items():
        if before is not None and not _same(before, sent_kw[key]):
            raise ExerciseError(
                f"{what} modified its input `{key}` in place.",
                "the caller still needs the inputs it passed: compute the result into a new "
                "object instead of assigning into (or appending to) the one you were given.",
            )
    return result


def _argument_name(fn, i: int) -> str:
    """How to name ``fn``'s argument number ``i`` in a message: `weights`, or argument 2."""
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return f"`{names[i]}`" if i < len(names) else f"argument {i + 1}"


def as_numeric_array(got, what: str, hint: str = "return a numpy array.") -> np.ndarray:
    """The student's result as a float array, or a clear error (None, a string, a dict...)."""
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    try:
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise ExerciseError(f"{what} should return a numeric array, got {type(got).__name__}.",
                            hint) from None


def check_keys(got, expected, what: str, hint: str, normalise=str) -> dict:
    """Check a returned dict has exactly the ``expected`` keys (after ``normalise``).

    Returns the dict with normalised keys; raises ExerciseError naming what is missing
    and what is unexpected.
    """
    if not isinstance(got, dict):
        raise ExerciseError(f"{what} should return a dict, got {type(got).__name__} {got!r:.60}.",
                            hint)
    answers = {normalise(k): v for k, v in got.items()}
    missing = [k for k in expected if k not in answers]
    extra = sorted(set(answers) - set(expected), key=str)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing key(s) {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"unexpected key(s) {', '.join(map(repr, extra))}")
        raise ExerciseError(f"{what} returned keys {sorted(got, key=str)}: {'; '.join(parts)}.",
                            hint)
    return answers


def _where(bad: np.ndarray) -> tuple:
    return tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()


def check_array(got, expected, what: str, *, inputs=None, rtol: float = 1e-6,
                atol: float = 1e-8, hint: str | None = None) -> np.ndarray:
    """Compare the student's array with the expected one; explain the first difference.

    ``inputs`` (an array of the same shape, optional) lets the message name the
    input at which the values differ, e.g. "at x = -2.0".
    """
    if got is None:
        raise ExerciseError(
            f"{what} returned None.",
            "did you forget the `return` statement?",
        )
    try:
        got_arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise ExerciseError(
            f"{what} should be a numeric array, got {type(got).__name__}.",
            hint or "return a numpy array.",
        ) from None
    expected = np.asarray(expected, dtype=float)
    if got_arr.shape != expected.shape:
        extra = ""
        if got_arr.size == expected.size:
            extra = " (same number of elements: check the axis or a reshape)"
        raise ExerciseError(
            f"{what} has shape {got_arr.shape}, expected {expected.shape}{extra}.",
            hint or "check which axis you sum or reduce over, and keepdims.",
        )
    nan_got = np.isnan(got_arr)
    if np.any(nan_got & ~np.isnan(expected)):
        idx = _where(nan_got & ~np.isnan(expected))
        at = _describe_at(idx, inputs)
        raise ExerciseError(
            f"{what} contains NaN{at} where the answer is {expected[idx]:.6g}.",
            hint or "NaN usually comes from inf - inf or 0 * inf: an exp() that overflowed. "
            "Use a numerically stable form.",
        )
    inf_got = np.isinf(got_arr) & np.isfinite(expected)
    if np.any(inf_got):
        idx = _where(inf_got)
        raise ExerciseError(
            f"{what} is infinite{_describe_at(idx, inputs)} where the answer is "
            f"{expected[idx]:.6g}.",
            hint or "an exp() overflowed: rewrite the formula so exp only sees values <= 0.",
        )
    close = np.isclose(got_arr, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not np.all(close):
        err = np.where(close, 0, np.abs(got_arr - expected))
        idx = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
        idx = tuple(int(i) for i in idx)
        n_bad = int(np.sum(~close))
        raise ExerciseError(
            f"{what} differs from the answer in {n_bad} of {close.size} values; the largest "
            f"difference is{_describe_at(idx, inputs)}: got {got_arr[idx]:.6g}, expected "
            f"{expected[idx]:.6g}.",
            hint,
        )
    return got_arr


def _describe_at(idx: tuple, inputs) -> str:
    if inputs is not None:
        inputs = np.asarray(inputs)
        if inputs.shape and idx and len(idx) <= inputs.ndim:
            return f" at x = {inputs[idx]:.6g}"
    return f" at index {idx}" if idx else ""


def check_number(got, expected: float, what: str, *, rtol: float = 1e-6, atol: float = 1e-9,
                 hint: str | None = None, integer: bool = False) -> float:
    """Compare a single number with the expected one."""
    if got is None:
        raise ExerciseError(f"{what} is None.", "did you forget the `return` statement?")
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float, np.number)):
        raise ExerciseError(
            f"{what} should be a single number, got {type(got).__name__} {got!r:.60}.",
            hint or "return a plain number (use float(...) or int(...)).",
        )
    if integer and float(got) != int(got):
        raise ExerciseError(f"{what} should be a whole number, got {got!r}.", hint)
    if not np.isfinite(got):
        raise ExerciseError(f"{what} is {got}, expected {expected:.6g}.",
                            hint or "look for an overflow or a division by zero.")
    if not np.isclose(got, expected, rtol=rtol, atol=atol):
        raise ExerciseError(f"{what} is {got:.6g}, expected {expected:.6g}.", hint)
    return float(got)


_LOOP_NODES = (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
# numpy/builtin calls that run a Python function once per element or slice: loops in disguise.
PER_SLICE_CALLS = {"vectorize": "np.vectorize", "apply_along_axis": "np.apply_along_axis",
                   "apply_over_axes": "np.apply_over_axes", "frompyfunc": "np.frompyfunc",
                   "fromiter": "np.fromiter", "map": "map"}
_COMPREHENSION_CODE = {"<genexpr>": "generator", "<listcomp>": "list comprehension",
                       "<setcomp>": "set comprehension", "<dictcomp>": "dict comprehension"}


def _code_objects(fn) -> list:
    """Every code object ``fn`` runs: its own, those nested in it (comprehensions, inner defs),
    and those of the functions of the same module it calls by name (a student's own helper)."""
    module = getattr(fn, "__module__", None)
    functions, seen, found = [fn], set(), []
    while functions:
        f = functions.pop()
        code = getattr(f, "__code__", None)
        if code is None or id(code) in seen:
            continue
        todo = [code]
        while todo:
            co = todo.pop()
            seen.add(id(co))
            found.append(co)
            todo.extend(c for c in co.co_consts if hasattr(c, "co_code"))
            for name in co.co_names:
                g = getattr(f, "__globals__", {}).get(name)
                if inspect.isfunction(g) and g.__module__ == module and id(g.__code__) not in seen:
                    functions.append(g)
    return found


def _loop_in_source(fn) -> str | None:
    """The first loop in ``fn``'s source ("for loop on line 3"), or None; None if unreadable."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        # No source (typed at a prompt), or a lambda inside a longer expression whose source
        # line does not parse on its own: the bytecode below still tells.
        return None
    for node in ast.walk(tree):
        if isinstance(node, _LOOP_NODES):
            kind = type(node).__name__.replace("Comp", " comprehension").replace("Exp", "")
            return f"{kind.lower()} loop on line {node.lineno} of the function".replace(
                "comprehension loop", "comprehension").replace("generator loop", "generator")
    return None


def _loop_in_bytecode(fn) -> str | None:
    """A loop compiles to a backward jump (FOR_ITER, JUMP_BACKWARD...): found in any function."""
    for co in _code_objects(fn):
        if co.co_name in _COMPREHENSION_CODE:
            return _COMPREHENSION_CODE[co.co_name]
        for ins in dis.get_instructions(co):
            backward = (ins.opcode in _JUMPS and isinstance(ins.argval, int)
                        and ins.argval < ins.offset)
            if ins.opname == "FOR_ITER" or backward:
                return "for or while loop" if ins.opname == "FOR_ITER" else "loop"
    return None


_JUMPS = set(dis.hasjrel) | set(dis.hasjabs)


def find_python_loop(fn) -> str | None:
    """Describe the first Python loop in ``fn`` ("for loop on line 3 of the function", "list
    comprehension", "`np.vectorize`, which calls a Python function once per element or
    slice"), or None when it has none. Reads the source when it parses, else the bytecode."""
    if isinstance(fn, np.vectorize):
        return ("`np.vectorize`, which calls a Python function once per element or slice: a "
                "loop in disguise")
    loop = _loop_in_source(fn) or _loop_in_bytecode(fn)
    if loop is not None:
        return loop
    for co in _code_objects(fn):
        for ins in dis.get_instructions(co):
            if ins.opname.startswith("LOAD_") and ins.argval in PER_SLICE_CALLS:
                return (f"`{PER_SLICE_CALLS[ins.argval]}`, which calls a Python function once "
                        "per element or slice: a loop in disguise")
    return None


def check_vectorised(fn, what: str) -> None:
    """Fail when ``fn`` contains a Python loop (for, while, a comprehension) or a loop in
    disguise (np.vectorize, np.apply_along_axis, map, ...)."""
    loop = find_python_loop(fn)
    if loop is None:
        return
    if "disguise" in loop:
        raise ExerciseError(
            f"{what} uses {loop}; this exercise asks for a vectorised answer.",
            "numpy operations work on whole arrays at once, and its reductions take an axis: "
            "one call handles every slice.",
        )
    raise ExerciseError(
        f"{what} uses a Python loop ({loop}); this exercise asks for a vectorised answer.",
        "numpy operations work on whole arrays at once, and its reductions take an axis: "
        "apply them to the array instead of looping over its entries.",
    )
