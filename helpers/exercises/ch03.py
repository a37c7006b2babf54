"""Checks for chapter 3, ReLU and dead neurons: Leaky ReLU, a dead-unit detector,
reviving a dead network, and the born-dead probability of a width-1 network.

Each check calls the student's function on copies of fixed inputs chosen so that the
plausible wrong answers and the right one disagree (mixed signs, exact zeros, tiny and
extreme values, non-square shapes, float32) and on a seeded random case, compares with a
reference computed here, and says what differs on the inputs it shows. When it recognises
the mistake (alpha ignored, ReLU's derivative, the wrong axis, "some zero" instead of
"all zero", an off-by-one in the depth) it names the idea; otherwise it says what differs
without guessing a cause.
"""

from __future__ import annotations

import dis
import types
import warnings

import numpy as np

from ._core import (
    ExerciseError,
    NotAnsweredYet,
    as_numeric_array,
    call_answer,
    check_array,
    check_keys,
    check_vectorised,
    exercise_check,
    passed,
)

__all__ = [
    "BROKEN_CONFIG",
    "DEAD_UNITS_BATCH",
    "DEAD_UNITS_TALL_BATCH",
    "train_config",
    "check_leaky_relu",
    "check_dead_units",
    "check_revive",
    "check_born_dead_width1",
]


def _call(fn, *args, what: str, name: str, **kwargs):
    """call_answer, with a plain "`name` is not answered yet" for an unfinished answer."""
    try:
        return call_answer(fn, *args, what=what, **kwargs)
    except NotAnsweredYet:
        raise NotAnsweredYet(name) from None


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _globals_loaded(code: types.CodeType):
    """The global names a function's code (and the code nested in it) loads."""
    for c in _code_objects(code):
        for ins in dis.get_instructions(c):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                yield ins.argval


def _course_object(fn) -> str | None:
    """The name of a course (``helpers``) module or function that ``fn`` refers to, if any.

    "Write it yourself" exercises must not call the course's own implementation; this
    reads the names the function looks up (globals and closure variables) and resolves them.
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    scope = dict(getattr(fn, "__globals__", {}))
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
        try:
            scope[name] = cell.cell_contents
        except ValueError:  # an empty cell: nothing to resolve
            pass
    for name in [*_globals_loaded(code), *code.co_freevars]:
        if name not in scope:
            continue
        obj = scope[name]
        module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(
            obj, "__module__", None)
        if isinstance(module, str) and (module == "helpers" or module.startswith("helpers.")):
            return name
    return None


def _write_it_yourself(fn, what: str, course_name: str) -> None:
    used = _course_object(fn)
    if used is not None:
        raise ExerciseError(
            f"{what} uses the course's own code (`{used}`); this exercise asks you to write "
            f"it yourself with numpy, not to call `{course_name}`.",
            "the point is to build it from comparisons and numpy's elementwise functions; "
            "the course's version is what the check compares you with.",
        )


# --------------------------------------------------------------------------------------
# Exercise 1: Leaky ReLU forward and derivative
# --------------------------------------------------------------------------------------

#: Inputs for exercise 1: both signs, exact zeros (0.0 and -0.0), tiny and extreme values.
LEAKY_X = np.array([-1e4, -5.0, -2.0, -0.5, -1e-3, -0.0, 0.0, 1e-3, 0.5, 2.0, 5.0, 1e4])
DEFAULT_ALPHA = 0.01  # the registry's default (activations.get("leaky_relu").params)


def _leaky(x, alpha):
    return np.where(x > 0, x, alpha * x).astype(np.asarray(x).dtype)


def _leaky_grad(x, alpha):
    return np.where(x > 0, 1.0, alpha).astype(np.asarray(x).dtype)


def _as_array(got, what: str) -> np.ndarray:
    return as_numeric_array(got, what, "return a numpy array of the same shape as x.")


def _same_values(got: np.ndarray, expected: np.ndarray, mask=None) -> bool:
    if got.shape != expected.shape:
        return False
    if mask is not None:
        got, expected = got[mask], expected[mask]
    return bool(np.allclose(got, expected, rtol=1e-6, atol=1e-12))


def _check_dtype(raw, x: np.ndarray, what: str) -> None:
    dtype = getattr(raw, "dtype", None)
    if dtype != x.dtype:
        raise ExerciseError(
            f"{what} returns {dtype if dtype is not None else type(raw).__name__} for a "
            f"{x.dtype} input x = {np.array2string(x, separator=', ')}; the task asks to keep "
            "x's dtype.",
            "a float32 network stays float32, so the course's activations return the dtype "
            "they were given: an expression built from x (and Python numbers) keeps x's dtype; "
            "one built only from Python numbers or from a bool mask is float64, so convert "
            "the result to x's dtype.")


def _check_leaky_forward(leaky_relu, x: np.ndarray, alpha: float, what: str) -> None:
    raw = _call(leaky_relu, x, what=what, name="`leaky_relu`", alpha=alpha)
    got = _as_array(raw, what)
    expected = _leaky(x, alpha)
    if got.shape == x.shape and x.ndim == 1:
        neg, pos = x < 0, x > 0
        if _same_values(got, np.maximum(x, 0)):
            raise ExerciseError(
                f"{what} returns 0 for every negative input: that is plain ReLU (at x = -5 it "
                f"gives {got[x == -5.0][0]:g}, expected {alpha * -5:g}).",
                "Leaky ReLU keeps a small slope on the negative side: its value there is "
                "alpha times x, a small negative number.")
        if alpha != DEFAULT_ALPHA and _same_values(got, _leaky(x, DEFAULT_ALPHA)):
            raise ExerciseError(
                f"{what} gives the values for alpha = {DEFAULT_ALPHA}: the argument alpha is "
                "ignored.",
                "use the parameter `alpha` in your formula, not a fixed number.")
        if _same_values(got, np.where(pos, alpha * x, x), mask=neg | pos):
            raise ExerciseError(
                f"{what} has the two branches swapped: at x = 5 it gives {got[x == 5.0][0]:g} "
                f"(expected 5) and at x = -5 it gives {got[x == -5.0][0]:g} (expected "
                f"{alpha * -5:g}).",
                "positive inputs pass unchanged; only x <= 0 is multiplied by alpha.")
        if _same_values(got, np.where(pos, x, -alpha * x)):
            raise ExerciseError(
                f"{what} is positive for negative inputs (at x = -5 it gives "
                f"{got[x == -5.0][0]:g}, expected {alpha * -5:g}).",
                "for x <= 0 the value is alpha times x itself, which keeps the sign of x.")
    check_array(got, expected, what, inputs=x if got.shape == x.shape else None,
                hint="Leaky ReLU is x where x > 0 and alpha times x elsewhere, elementwise, "
                     "for an array of any shape.")
    _check_dtype(raw, x, what)


def _check_leaky_grad(leaky_relu_grad, x: np.ndarray, alpha: float, what: str) -> None:
    raw = _call(leaky_relu_grad, x, what=what, name="`leaky_relu_grad`", alpha=alpha)
    got = _as_array(raw, what)
    expected = _leaky_grad(x, alpha)
    if got.shape == x.shape and x.ndim == 1:
        neg, pos = x < 0, x > 0
        if _same_values(got, np.where(pos, 1.0, 0.0), mask=neg | pos):
            raise ExerciseError(
                f"{what} is 0 for negative inputs: that is ReLU's derivative, the one that "
                "lets units die.",
                "for x < 0, Leaky ReLU is alpha * x, so its slope there is alpha.")
        if _same_values(got, _leaky(x, alpha)):
            raise ExerciseError(
                f"{what} returns the function's values, not its slope (at x = 5 it gives "
                f"{got[x == 5.0][0]:g}, expected 1).",
                "the derivative is 1 where x > 0 and alpha elsewhere.")
        if _same_values(got, np.where(pos, 1.0, alpha * x), mask=neg | pos):
            raise ExerciseError(
                f"{what} for negative inputs is alpha * x, the function's value there (at "
                f"x = -5 it gives {got[x == -5.0][0]:g}, expected {alpha:g}).",
                "on the negative side Leaky ReLU is a straight line through 0 with slope "
                "alpha: its derivative is the same number for every x < 0.")
        if alpha != DEFAULT_ALPHA and _same_values(got, _leaky_grad(x, DEFAULT_ALPHA)):
            raise ExerciseError(
                f"{what} gives the slopes for alpha = {DEFAULT_ALPHA}: the argument alpha is "
                "ignored.",
                "use the parameter `alpha` in your formula, not a fixed number.")
        at_zero = x == 0
        if _same_values(got, expected, mask=~at_zero) and not _same_values(
                got, expected, mask=at_zero):
            at_0 = float(got[at_zero][0])
            hint = ("at x = 0 take the left slope, as relu'(0) = 0 takes ReLU's left slope: "
                    "the derivative is 1 only where x > 0." if at_0 == 1 else
                    "at x = 0 take the left slope, as relu'(0) = 0 takes ReLU's left slope; "
                    "for Leaky ReLU the left slope is not 0.")
            raise ExerciseError(
                f"{what} at x = 0 is {at_0:g}, expected alpha = {alpha:g}; every other "
                "input is right.", hint)
    check_array(got, expected, what, inputs=x if got.shape == x.shape else None,
                hint="the derivative is 1 where x > 0 and alpha elsewhere (x = 0 included), "
                     "elementwise, for an array of any shape.")
    _check_dtype(raw, x, what)


@exercise_check
def check_leaky_relu(leaky_relu, leaky_relu_grad) -> None:
    """Check ``leaky_relu(x, alpha)`` and ``leaky_relu_grad(x, alpha)`` (vectorised, own code)."""
    check_vectorised(leaky_relu, "`leaky_relu`")
    check_vectorised(leaky_relu_grad, "`leaky_relu_grad`")
    _write_it_yourself(leaky_relu, "`leaky_relu`", "activations.leaky_relu")
    _write_it_yourself(leaky_relu_grad, "`leaky_relu_grad`", "the registry's leaky_relu.grad")
    x = LEAKY_X
    for alpha in (DEFAULT_ALPHA, 0.3):
        _check_leaky_forward(leaky_relu, x, alpha, f"`leaky_relu(x, alpha={alpha})`")
        _check_leaky_grad(leaky_relu_grad, x, alpha, f"`leaky_relu_grad(x, alpha={alpha})`")

    # The default alpha is the registry's 0.01: call without it.
    for fn, ref, name in ((leaky_relu, _leaky, "leaky_relu"),
                          (leaky_relu_grad, _leaky_grad, "leaky_relu_grad")):
        what = f"`{name}(x)` (alpha left at its default)"
        got = _as_array(_call(fn, x, what=what, name=f"`{name}`"), what)
        if got.shape == x.shape and not _same_values(got, ref(x, DEFAULT_ALPHA)):
            raise ExerciseError(
                f"{what} differs from alpha = {DEFAULT_ALPHA}: at x = -5 it gives "
                f"{got[x == -5.0][0]:g}, expected {ref(x, DEFAULT_ALPHA)[x == -5.0][0]:g}.",
                f"keep the default alpha = {DEFAULT_ALPHA} of the given signature; it is the "
                "course's (and PyTorch's) default.")
        check_array(got, ref(x, DEFAULT_ALPHA), what, inputs=x)

    # Any shape, float32 kept, and a seeded random case.
    X32 = np.array([[-3.0, 0.0, 2.0, -0.25], [1.5, -1e-3, -0.0, 7.0]], dtype=np.float32)
    R = np.random.default_rng(3).normal(0.0, 3.0, size=(2, 3, 4))
    for arr, alpha, label in ((X32, 0.1, "a (2, 4) float32 array"),
                              (R, 0.05, "a seeded random (2, 3, 4) array")):
        _check_leaky_forward(leaky_relu, arr, alpha, f"`leaky_relu` on {label}, alpha={alpha}")
        _check_leaky_grad(leaky_relu_grad, arr, alpha,
                          f"`leaky_relu_grad` on {label}, alpha={alpha}")
    passed("Leaky ReLU and its derivative are right: slope alpha for x <= 0, 1 for x > 0, "
           "any shape, dtype kept, vectorised.")


# --------------------------------------------------------------------------------------
# Exercise 2: a vectorised dead-unit detector
# --------------------------------------------------------------------------------------

#: The check's main batch, (7 samples, 12 units): each column is a unit a half-right
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
_COLUMN_NOTES = [note for note, _ in _COLUMNS]


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
_TALL_NOTES = [note for note, _ in _TALL_COLUMNS]


def _dead(A):
    return ~np.any(A != 0, axis=0)


def _describe_unit(A: np.ndarray, j: int, notes) -> str:
    col = A[:, j]
    n = len(col)
    if notes is not None and notes[j] is not None:
        return notes[j]
    if not np.any(col):
        return f"zero on all {n} samples"
    return f"nonzero on {np.count_nonzero(col)} of {n} samples"


def _dead_units_cases():
    rng = np.random.default_rng(7)
    z = rng.normal(0.0, 1.0, size=(40, 13))
    z[:, [2, 9]] -= 8.0  # these two units never fire: dead under ReLU
    z[:, 5] = np.abs(z[:, 5]) + 0.1  # always active
    square = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.5],
                       [0.0, 0.0, 0.0, 0.0]])
    return [
        ("the (7 samples, 12 units) batch `ch03.DEAD_UNITS_BATCH`", DEAD_UNITS_BATCH,
         _COLUMN_NOTES),
        ("the (200 samples, 7 units) batch `ch03.DEAD_UNITS_TALL_BATCH`",
         DEAD_UNITS_TALL_BATCH, _TALL_NOTES),
        ("the same batch in float32 (where 1e-200 becomes exactly 0)",
         DEAD_UNITS_BATCH.astype(np.float32), None),
        ("a (4 samples, 4 units) batch " + np.array2string(square, separator=", ")
         .replace("\n", ""), square, None),
        ("a seeded random ReLU layer, (40 samples, 13 units)", np.maximum(z, 0.0), None),
        ("a seeded random Leaky ReLU layer, (40 samples, 13 units)",
         np.where(z > 0, z, 0.01 * z), None),
    ]


@exercise_check
def check_dead_units(dead_units) -> None:
    """Check ``dead_units(A)``: a boolean mask over the columns (units) of ``A``."""
    check_vectorised(dead_units, "`dead_units`")
    _write_it_yourself(dead_units, "`dead_units`", "diagnostics.dead_units")
    for label, batch, notes in _dead_units_cases():
        what = f"`dead_units` on {label}"
        got = _call(dead_units, batch, what=what, name="`dead_units`")
        expected = _dead(batch)
        n_samples, n_units = batch.shape
        if got is None:
            raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
        got_arr = np.asarray(got)
        if got_arr.shape != expected.shape:
            if got_arr.shape == (n_samples,):
                problem = "one value per sample (a row of A), but we want one per unit"
                hint = "A has shape (n_samples, n_units): reduce over the samples, the rows."
            elif got_arr.shape == (1, n_units):
                problem = "an extra axis of length 1"
                hint = "the mask is 1-D: one entry per unit, nothing else."
            elif got_arr.ndim == 1 and got_arr.dtype.kind in "iu":
                problem = "a list of unit indices, it seems, not a mask"
                hint = "return True or False for every unit, in the units' order."
            elif got_arr.ndim == 0:
                problem = "a single value for the whole batch"
                hint = "answer per unit: reduce over the samples only."
            else:
                problem = "not one value per unit"
                hint = "A has shape (n_samples, n_units); the mask has one entry per unit."
            raise ExerciseError(
                f"{what} has shape {got_arr.shape}: {problem}; expected shape "
                f"{expected.shape}.", hint)
        if got_arr.dtype != bool:
            raise ExerciseError(
                f"{what} has dtype {got_arr.dtype}; the task asks for a boolean mask "
                "(True = dead).",
                "a comparison or a logical reduction already gives booleans; counts or "
                "fractions are not a mask.")
        if np.array_equal(got_arr, expected):
            continue
        patterns = [
            (np.any(batch == 0, axis=0),
             "marks a unit dead when it is zero on *some* sample; a dead unit is zero on "
             "*every* sample.",
             "a single nonzero output keeps the unit alive."),
            (np.all(batch <= 0, axis=0),
             "marks units with negative outputs as dead; dead means exactly zero on every "
             "sample (a leaky unit with negative output still gets a gradient).",
             "compare with zero exactly, not with 'at most zero'."),
            (np.all(np.isclose(batch, 0), axis=0),
             "treats a tiny nonzero output as zero; a unit that outputs 1e-12 is active and "
             "passes gradient 1.",
             "test for exact zeros, with no tolerance."),
        ]
        if n_samples == n_units:
            patterns.append((np.all(batch == 0, axis=1),
                             "answers per sample (the rows of A), not per unit (the columns); "
                             "on a square batch the shapes agree but the values do not.",
                             "A has shape (n_samples, n_units): reduce over the samples."))
        for wrong, problem, hint in patterns:
            if np.array_equal(got_arr, wrong) and not np.array_equal(wrong, expected):
                raise ExerciseError(f"{what} {problem}", hint)
        bad = np.flatnonzero(got_arr != expected)
        lines = []
        for j in bad[:3]:
            col = batch[:, j]
            if n_samples <= 12:
                outputs = "its outputs: " + np.array2string(col, separator=", ", precision=3,
                                                            max_line_width=200)
            else:  # too long to print: the samples where it is nonzero
                nz = np.flatnonzero(col)
                outputs = (f"nonzero on samples {nz[:8].tolist()}"
                           f"{' ...' if nz.size > 8 else ''}" if nz.size else
                           f"zero on all {n_samples} samples")
            if expected[j]:
                lines.append(f"unit {j} is dead ({_describe_unit(batch, j, notes)}), but your "
                             f"mask says alive; {outputs}")
            else:
                lines.append(f"unit {j} is alive ({_describe_unit(batch, j, notes)}), but your "
                             f"mask says dead; {outputs}")
        first = "; the first three:" if len(bad) > 3 else ":"
        raise ExerciseError(
            f"{what}: your mask differs on {len(bad)} of {n_units} units{first}\n  "
            + "\n  ".join(lines),
            "a unit (a column of A) is dead only when every one of its outputs (every row) is "
            "exactly 0; any nonzero output, tiny, negative or constant, keeps it alive.")
    passed("`dead_units` finds exactly the units that are zero on every sample, vectorised.")



# --------------------------------------------------------------------------------------
# Exercise 3: revive the broken network by changing one setting
# --------------------------------------------------------------------------------------

#: The network of section 4 that a large negative bias killed.
BROKEN_CONFIG = {"activation": "relu", "init": "he", "bias_init": -3.0, "lr": 1.0,
                 "epochs": 300}
SIZES = (2, 16, 16, 1)
TARGET_ACCURACY = 0.95
MAX_EPOCHS = 300


def train_config(config: dict, seed: int = 0):
    """Train the chapter's moons network with ``config``; return (net, history)."""
    from .. import data, nn  # local import: exercises stay light until a check runs

    X, y = data.moons(n=200, noise=0.15, seed=0)
    net = nn.MLP(list(SIZES), config["activation"], output="sigmoid", init=config["init"],
                 bias_init=config["bias_init"], seed=seed)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        history = net.fit(X, y, epochs=config["epochs"], lr=config["lr"])
    return net, history


def _same_setting(a, b) -> bool:
    """Equal settings; an array or another odd value counts as changed, never crashes."""
    try:
        return type(a) is not bool and bool(a == b)
    except (TypeError, ValueError):
        return False


@exercise_check
def check_revive(revive) -> None:
    """Check ``revive(config)``: one setting changed, and the network trains with no dead unit."""
    broken = dict(BROKEN_CONFIG)
    what = "`revive(BROKEN_CONFIG)`"
    got = _call(revive, broken, what=what, name="`revive`")
    if got is None:
        raise ExerciseError(f"{what} returned None.",
                            "return the new settings: a dict like the one you were given.")
    got = check_keys(got, list(broken), what,
                     "copy the dict you were given (`dict(config)`), change one entry, "
                     "return the copy.")
    changed = sorted(k for k in broken if not _same_setting(got[k], broken[k]))
    if not changed:
        raise ExerciseError(f"{what} returned the broken settings unchanged.",
                            "change exactly one of them: which setting made the units dead?")
    if len(changed) > 1:
        raise ExerciseError(
            f"{what} changes {len(changed)} settings ({', '.join(changed)}); the exercise asks "
            "for exactly one.",
            "find the single setting that is enough on its own.")
    key = changed[0]
    if key == "epochs":
        if not isinstance(got["epochs"], (int, np.integer)) or not 0 < got["epochs"]:
            raise ExerciseError(f"epochs must be a positive whole number, got {got['epochs']!r}.")
        if got["epochs"] > MAX_EPOCHS:
            raise ExerciseError(
                f"{what} asks for {got['epochs']} epochs; keep at most {MAX_EPOCHS} so the "
                "check runs quickly.",
                "more epochs cannot help a unit whose gradient is exactly zero anyway.")
    try:
        net, history = train_config(got)
    except (TypeError, ValueError) as err:
        raise ExerciseError(f"the network could not be built or trained with {key} = "
                            f"{got[key]!r}: {err}", None) from None
    if history.diverged_at is not None or not np.isfinite(history.loss[-1]):
        raise ExerciseError(
            f"with {key} = {got[key]!r} training diverged (the loss became inf or NaN).",
            "a step that is too large makes things worse, not better.")
    dead = history.dead[-1, :-1]
    acc = float(history.accuracy[-1])
    worst = int(np.argmax(dead))
    if dead[worst] > 0:
        raise ExerciseError(
            f"with {key} = {got[key]!r}, {dead[worst]:.0%} of the units of hidden layer "
            f"{worst + 1} are still dead after training (accuracy {acc:.0%}).",
            "a unit whose pre-activation is negative on every input gets no gradient, whatever "
            "the step size or the number of epochs: change what puts it there, or what the "
            "activation does for negative inputs.")
    if acc < TARGET_ACCURACY:
        raise ExerciseError(
            f"with {key} = {got[key]!r} no unit is dead, but alive is not the same as "
            f"learning: after {got['epochs']} epochs the accuracy is {acc:.0%} (target "
            f"{TARGET_ACCURACY:.0%}) and the loss {float(history.loss[-1]):.3f} (predicting 0.5 "
            f"everywhere gives log 2 = {np.log(2):.3f}).",
            "try another single change; there is more than one that works.")
    passed(f"Revived by changing {key} from {broken[key]!r} to {got[key]!r}: no dead unit, "
           f"accuracy {acc:.0%}.")


# --------------------------------------------------------------------------------------
# Exercise 4: born dead, width 1
# --------------------------------------------------------------------------------------


def _born_dead_width1(depth):
    return 1.0 - 0.5 ** (np.asarray(depth, dtype=float) - 1)


# Names the idea, not the formula: what must go right, layer by layer, for the net to live.
_BORN_DEAD_HINT = ("count what must go right, layer by layer, for the network to stay alive; "
                   "the layers' weights are independent, so their probabilities multiply.")


def _check_born_dead_scalar(born_dead_width1, depth: int) -> None:
    what = f"`born_dead_width1({depth})`"
    got = _call(born_dead_width1, depth, what=what, name="`born_dead_width1`")
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    got_arr = _as_array(got, what)
    if got_arr.shape != ():
        raise ExerciseError(
            f"{what} has shape {got_arr.shape}; for an integer depth the answer is a single "
            "number.",
            "the same formula works for a number and an array: no need to wrap the number "
            "in an array of length 1.")
    check_array(got_arr, _born_dead_width1(depth), what, hint=_BORN_DEAD_HINT)


@exercise_check
def check_born_dead_width1(born_dead_width1) -> None:
    """Check ``born_dead_width1(depth)`` = 1 - (1/2)^(depth - 1), for depth >= 1: an int, and
    an array of any shape (returned as an ndarray), up to depths where integers overflow."""
    depths = np.arange(1, 21)
    what = "`born_dead_width1(depths)` for depths = np.arange(1, 21)"
    raw = _call(born_dead_width1, depths, what=what, name="`born_dead_width1`")
    got_arr = _as_array(raw, what)
    expected = _born_dead_width1(depths)
    if got_arr.shape == depths.shape:
        if np.allclose(got_arr, 1 - expected):
            raise ExerciseError(
                f"{what} gives the probability of being *alive*, 2^-(D-1).",
                "born dead is the complement of staying alive.")
        if np.allclose(got_arr, 1 - 0.5 ** depths):
            raise ExerciseError(
                f"{what} is 1 - (1/2)^D: one factor of 1/2 too many (at depth 1 it gives "
                f"{got_arr[0]:g}, expected 0).",
                "the first layer sees inputs of both signs around the origin: can it be dead "
                "on this batch?")
        if np.allclose(got_arr, 0.5 ** (depths - 1)) or np.allclose(got_arr, 0.5 ** depths):
            raise ExerciseError(f"{what} decreases with depth, but deeper networks are *more* "
                                "likely to be born dead.",
                                "compute the probability of staying alive, then take 1 minus "
                                "it.")
        gap = np.abs(got_arr - expected)
        if np.all(np.diff(got_arr) >= 0) and np.all(got_arr <= 1) and 1e-6 < gap.max() < 0.1:
            raise ExerciseError(
                f"{what} is close to the exact probability but not equal (largest difference "
                f"{gap.max():.3g}, at depth {depths[np.argmax(gap)]}): an estimate, not the exact "
                "value.",
                "a simulation or the table's rounded values are estimates; the task asks for "
                "the exact probability, a formula in D.")
        wrong = ~np.isclose(got_arr, expected, rtol=1e-6, atol=1e-12)
        if np.any(wrong):
            d = int(np.argmax(np.where(wrong, np.abs(got_arr - expected), 0)))
            raise ExerciseError(
                f"{what} differs from the exact probability at {int(wrong.sum())} of "
                f"{depths.size} depths; the largest difference is at depth {depths[d]}: got "
                f"{got_arr[d]:.6g}, expected {expected[d]:.6g}.",
                _BORN_DEAD_HINT)
    check_array(got_arr, expected, what, hint=_BORN_DEAD_HINT)
    if not isinstance(raw, np.ndarray):
        raise ExerciseError(
            f"{what} returns a {type(raw).__name__}, not a numpy array; the task asks for an "
            "array of the same shape as the array of depths.",
            "numpy's arithmetic on an array already gives an array of the same shape.")
    for depth in (1, 5):
        _check_born_dead_scalar(born_dead_width1, depth)
    # Deep networks, as integers: numpy's int64 holds at most 2**63 - 1, so an integer power
    # of 2 overflows beyond depth 64 and the probability leaves [0, 1].
    for depth in (np.array([63, 64, 65, 100, 1000]), 1000):
        what = (f"`born_dead_width1(np.array({depth.tolist()}))`" if np.ndim(depth)
                else f"`born_dead_width1({depth})`")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got_arr = _as_array(_call(born_dead_width1, depth, what=what,
                                      name="`born_dead_width1`"), what)
        expected = _born_dead_width1(depth)
        if got_arr.shape == expected.shape and not np.allclose(got_arr, expected, rtol=1e-6,
                                                               atol=1e-12):
            wrong = np.atleast_1d(~np.isclose(got_arr, expected, rtol=1e-6, atol=1e-12))
            d = int(np.atleast_1d(depth)[np.argmax(wrong)])
            got_d = np.atleast_1d(got_arr)[np.argmax(wrong)]
            raise ExerciseError(
                f"{what} at depth {d} gives {got_d:g}, expected {_born_dead_width1(d):.6g}; "
                "a probability stays in [0, 1] at every depth.",
                "numpy integers have 64 bits: a power of 2 computed in integers overflows "
                "for large depths, while a power computed in floating point does not.")
        check_array(got_arr, expected, what, hint=_BORN_DEAD_HINT)
    # Beyond the table, and an array of another shape.
    grid = np.array([[2, 7, 30], [45, 3, 1]])
    what = f"`born_dead_width1(np.array({grid.tolist()}))`"
    got_arr = _as_array(_call(born_dead_width1, grid, what=what, name="`born_dead_width1`"),
                        what)
    check_array(got_arr, _born_dead_width1(grid), what,
                hint="the same formula must hold at every depth, for an array of any shape.")
    passed("born_dead_width1(D) = 1 - (1/2)^(D - 1): depth 2 already kills half the networks, "
           "depth 10 all but 0.2%.")
