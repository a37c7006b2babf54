"""Checks for chapter 1: linear vs nonlinear models.

One spec per exercise (``_spec``): the cases are drawn afresh at every check, edge cases
first; the student's function runs on all of them, and only then are the references computed
and the results judged, with a message that says what differs on which case.
"""

from __future__ import annotations

import numpy as np

from .. import data, nn
from ._contract import expect_ndarray, pair, show
from ._core import ExerciseError, exercise_check
from ._plain import Other, TensorData
from ._spec import Case, Spec
from ._trace import Forbidden

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

# The recipe the width exercise asks for; the check trains with exactly this.
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
_LINEAR_LOOP_HINT = ("the exercise asks for matrix operations with no Python loop at all (over "
                     "samples, units or inputs): one matrix product computes every neuron on "
                     "every sample at once.")
COURSE_NN = Forbidden(("helpers.nn:*", "torch*:*"),
                      why="the task asks you to write the layer yourself, with numpy's matrix "
                          "operations")


def _layer_inputs(rng, n: int, d_in: int, d_out: int, dtype=np.float64, scale=(1.0, 1.0, 1.0)):
    X = (rng.normal(0.0, scale[0], (n, d_in))).astype(dtype)
    W = (rng.normal(0.0, scale[1], (d_in, d_out))).astype(dtype)
    b = (rng.normal(0.0, scale[2], d_out)).astype(dtype)
    return X, W, b


def _whole_numbers(rng, n: int, d_in: int, d_out: int):
    """Small whole numbers (as floats); the biases differ in size, so none is 0 and no sum or
    difference of them is 0 either: a case to show."""
    X = rng.integers(-3, 4, (n, d_in)).astype(float)
    W = rng.integers(-2, 3, (d_in, d_out)).astype(float)
    b = rng.choice([1.0, 2.0, 4.0, 8.0], size=d_out, replace=False) * rng.choice([-1, 1], d_out)
    return X, W, b


def _draw_linear(rng) -> list[Case]:
    n, d_in, d_out = _distinct(rng, 3)
    cases = [
        Case("a small batch of whole numbers (n = 4, d_in = 3, d_out = 2)",
             _whole_numbers(rng, 4, 3, 2), note={"show": True}),
        Case("one sample (n = 1)", _layer_inputs(rng, 1, d_in, d_out)),
        Case("one output unit (d_out = 1)", _layer_inputs(rng, n, d_in, 1)),
        Case("one input (d_in = 1)", _layer_inputs(rng, n, 1, d_out)),
        Case("an empty batch (n = 0)", _layer_inputs(rng, 0, d_in, d_out)),
        Case("a square case (n = d_in = d_out = 3)", _layer_inputs(rng, 3, 3, 3)),
        Case(f"float32 inputs (n = {n}, d_in = {d_in}, d_out = {d_out})",
             _layer_inputs(rng, n, d_in, d_out, np.float32)),
        Case(f"an integer X (int64) with float64 W and b (n = {d_out}, d_in = {n}, "
             f"d_out = {d_in})",
             (rng.integers(-50, 51, (d_out, n)),) + _layer_inputs(rng, d_out, n, d_in)[1:]),
        Case("inputs of very different sizes (X about 1e5, W about 1e-3, b about 1e2)",
             _layer_inputs(rng, d_in, n, d_out, scale=(1e5, 1e-3, 1e2))),
    ]
    for _ in range(2):
        n, d_in, d_out = _distinct(rng, 3, 2, 9)
        cases.append(Case(f"random float64 inputs (n = {n}, d_in = {d_in}, d_out = {d_out})",
                          _layer_inputs(rng, n, d_in, d_out)))
    # Loops over samples, units or inputs all grow from the small case to the large one.
    cases += [Case("a batch of 3 samples, 4 inputs, 2 units", _layer_inputs(rng, 3, 4, 2),
                   work="small", size=2, elements=6),
              Case("a batch of 43 samples, 44 inputs, 45 units", _layer_inputs(rng, 43, 44, 45),
                   work="large", size=43, elements=43 * 45)]
    return cases


def _linear_reference(X, W, b):
    return np.asarray(X) @ W + b


def _shown(case: Case) -> str:
    X, W, b = case.args
    return f" on X = {show(X, 3)}, W = {show(W, 3)}, b = {show(b, 3)}" \
        if case.note.get("show") else ""


def _judge_linear(case: Case, obs, expected) -> None:
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
        raise ExerciseError(
            f"{what} returned dtype {got.dtype}, expected {want}"
            + (" for an integer X with float64 W and b." if integer else "."),
            "the weights are floats, so the result is too: do not cast it back to X's dtype."
            if integer else "keep the dtype of the inputs: converting to another type is not "
            "needed.")
    if got.size == 0:
        return
    scale = np.abs(X.astype(float)) @ np.abs(W.astype(float)) + np.abs(b.astype(float))
    rtol = 1e-5 if want == np.float32 else 1e-12
    diff = _scaled_gap(got, expected.astype(float), scale, rtol)
    if diff is None:
        return
    (k, j), n_bad = diff
    X64, W64, b64 = X.astype(float), W.astype(float), b.astype(float)
    value = got.astype(float)
    no_bias = X64 @ W64
    if np.allclose(value, no_bias, rtol=1e-6, atol=1e-9 * scale.max()):
        raise ExerciseError(
            f"{what} returned X W without the bias: row {k}, column {j} is "
            f"{pair(value[k, j], expected[k, j])[0]} where X W + b is "
            f"{pair(value[k, j], expected[k, j])[1]}.",
            "each neuron adds its own bias b_j to its weighted sum, on every sample.")
    if np.allclose(value, no_bias - b64, rtol=1e-6, atol=1e-9 * scale.max()):
        raise ExerciseError(f"{what} subtracts the bias b instead of adding it.", _LINEAR_HINT)
    shown, wanted = pair(value[k, j], expected[k, j])
    raise ExerciseError(
        f"{what} differs from the answer in {n_bad} of {got.size} values; the largest "
        f"difference is at row {k}, column {j} (sample {k}, unit {j}): got {shown}, expected "
        f"{wanted}.", _LINEAR_HINT)


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
    reference=_linear_reference, judge=_judge_linear, explain_error=_explain_linear_error,
    forbidden=COURSE_NN, vectorised=True, loop_hint=_LINEAR_LOOP_HINT,
    passed="`linear_layer(X, W, b)` computes X W + b for every batch and layer size tried, "
           "one sample, one unit and an empty batch included, keeps float32 as float32, and "
           "runs no Python loop.")


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
LIFT_TARGET = 0.95


def _logistic_accuracy(F: np.ndarray, y: np.ndarray) -> float:
    """Training accuracy of a logistic regression on features F (Newton's method, a small
    ridge so that separable data gives finite weights; columns standardised first)."""
    F = F.astype(float)
    spread = F.std(axis=0)
    keep = spread > 1e-12 * (np.abs(F).max(axis=0) + 1e-300)
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


def _xor_sample(rng, n: int):
    seed = int(rng.integers(2**31))
    X, y = data.xor(n, seed=seed)
    return X, y, f"the XOR sample data.xor({n}, seed={seed})"


def _draw_lift(rng) -> list[Case]:
    n_a = int(rng.integers(60, 201))
    X_a, y_a, name_a = _xor_sample(rng, n_a)
    perm = rng.permutation(n_a)
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
        Case(f"one row of {name_a} alone (row {r}, shape (1, 2))", (X_a[r:r + 1],),
             note={"of": name_a, "rows": [r], "name": f"row {r} alone (X[{r}:{r + 1}])"}),
        Case("an empty X of shape (0, 2)", (np.zeros((0, 2)),), note={"empty": True}),
        Case("points on the axes (x1 or x2 exactly 0)", (np.array(
            [[0.0, rng.uniform(0.3, 1)], [-rng.uniform(0.3, 1), 0.0], [0.0, 0.0],
             [rng.uniform(0.3, 1), -rng.uniform(0.3, 1)]]),), note={"axes": True}),
    ]
    for dtype in (np.float64, np.float32):
        X, y, name = _xor_sample(rng, int(rng.integers(60, 201)))
        if dtype == np.float32:
            X, name = X.astype(np.float32), name + " as float32"
        cases.append(Case(name, (X,),
                          note={"labels": y.tolist(), "sample": name}))
    return cases


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
        raise ExerciseError(f"{what} returned NaN or inf.",
                            "use a feature that is finite for every input.")
    y = np.asarray(case.note["labels"])
    acc = _logistic_accuracy(F, y)
    if acc < LIFT_TARGET:
        raise ExerciseError(
            f"a linear classifier (logistic regression) on your features reaches only "
            f"{acc:.1%} on {case.note['sample']} (the goal is at least 95%).",
            _LIFT_HINT)


def _judge_lift_rows(cases, observations, expected) -> None:
    base = next(i for i, c in enumerate(cases) if c.note.get("base"))
    F = np.asarray(observations[base].result)
    X = cases[base].args[0]
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
        with np.errstate(invalid="ignore"):
            same = np.isclose(got.astype(float), want, rtol=1e-9, atol=1e-12)
        if np.all(same):
            continue
        row = int(np.argmax(~np.all(same, axis=1)))
        x = np.round(X[rows][row].astype(float), 3).tolist()
        shown = [float(f"{v:.6g}") for v in want[row]]
        seen = [float(f"{v:.6g}") for v in got[row].astype(float)]
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
    judge_all=_judge_lift_rows,
    passed="on your features a linear classifier separates every XOR sample tried (at least "
           "95% on each), and each sample's features depend on its own x1 and x2 alone.")


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


def _draw_collapse(rng) -> list[Case]:
    d = _distinct(rng, 2, 2, 6)
    deep = [int(v) for v in rng.integers(2, 6, 9)]
    cases = [
        Case("three square layers, sizes [3, 3, 3, 3]", _stack(rng, [3, 3, 3, 3]),
             note={"sizes": [3, 3, 3, 3]}),
        Case(f"one layer (L = 1), sizes {d}", _stack(rng, d), note={"sizes": d}),
        Case("one input and one output, sizes [1, 4, 1]", _stack(rng, [1, 4, 1]),
             note={"sizes": [1, 4, 1]}),
        Case("integer layers (int64), sizes [2, 3, 4, 2]",
             _stack(rng, [2, 3, 4, 2], integers=True), note={"sizes": [2, 3, 4, 2]}),
        Case(f"a deep stack of 8 layers, sizes {deep}", _stack(rng, deep), note={"sizes": deep}),
    ]
    f32 = [int(v) for v in _distinct(rng, 4, 1, 6)]
    cases.append(Case(f"float32 layers, sizes {f32}", _stack(rng, f32, np.float32),
                      note={"sizes": f32}))
    for _ in range(2):
        sizes = [int(v) for v in rng.integers(1, 7, int(rng.integers(3, 6)))]
        cases.append(Case(f"random layers, sizes {sizes}", _stack(rng, sizes),
                          note={"sizes": sizes}))
    return cases


def _collapse_reference(weights, biases):
    W, b = np.asarray(weights[0], float), np.asarray(biases[0], float)
    W_abs, b_abs = np.abs(W), np.abs(b)
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W_next, b_next = np.asarray(W_next, float), np.asarray(b_next, float)
        W, b = W @ W_next, b @ W_next + b_next
        W_abs, b_abs = W_abs @ np.abs(W_next), b_abs @ np.abs(W_next) + np.abs(b_next)
    return {"W": W, "b": b, "W_scale": W_abs, "b_scale": b_abs}


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
    integer = all(np.asarray(w).dtype.kind in "iu" for w in weights)
    single = weights[0].dtype == np.float32
    rtol = 0.0 if integer else 1e-4 if single else 1e-10
    diff = _scaled_gap(W_got, W_ref, expected["W_scale"], rtol)
    square = all(w.shape[0] == w.shape[1] for w in weights)
    if diff is not None:
        if len(weights) > 1 and square and np.allclose(
                W_got.astype(float), np.linalg.multi_dot([np.asarray(w, float)
                                                          for w in weights[::-1]])):
            raise ExerciseError(f"W from {label} is the product of the weight matrices in "
                                "reverse order (last layer first).", _ORDER_HINT)
        index, n_bad = diff
        shown, wanted = pair(W_got[index], W_ref[index])
        raise ExerciseError(f"W from {label} differs from the answer in {n_bad} of "
                            f"{W_ref.size} values; the largest difference is at index {index}: "
                            f"got {shown}, expected {wanted}.", _ORDER_HINT)
    b_got = _part(b_got, "b", b_ref.shape, label,
                  "b has one entry per output unit, shape (d_out,), like every bias.")
    diff = _scaled_gap(b_got, b_ref, expected["b_scale"], rtol)
    if diff is None:
        return
    if len(biases) > 1 and len({np.shape(v) for v in biases}) == 1 and np.allclose(
            b_got.astype(float), np.sum([np.asarray(v, float) for v in biases], axis=0)):
        raise ExerciseError(f"b from {label} is the sum of the biases, but the biases of the "
                            "earlier layers also pass through the weight matrices after them.",
                            _BIAS_HINT)
    index, n_bad = diff
    shown, wanted = pair(b_got[index], b_ref[index])
    raise ExerciseError(f"b from {label} differs from the answer in {n_bad} of {b_ref.size} "
                        f"values; the largest difference is at index {index[0]}: got {shown}, "
                        f"expected {wanted}.", _BIAS_HINT)


COLLAPSE = Spec(
    "ch01.collapse", check="ch01.check_collapse", grade_id="ch01-collapse-check",
    what=_COLLAPSE_WHAT, answers=("collapse",), draw=_draw_collapse,
    reference=_collapse_reference, judge=_judge_collapse,
    passed="one layer (W, b) reproduces every stack of linear layers tried, one layer and "
           "eight included: depth without an activation adds nothing.")


@exercise_check
def check_collapse(collapse, *, seed: int | None = None) -> None:
    """Check ``collapse(weights, biases)`` returns the single (W, b) of a linear stack."""
    COLLAPSE.check(collapse, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 4: the smallest hidden layer that solves XOR
# --------------------------------------------------------------------------------------

_WIDTH_WHAT = "`smallest_xor_width(X, y, max_width)`"
_TARGET = XOR_RECIPE["target"]


def xor_width_accuracy(X, y, width: int) -> float:
    """Training accuracy of the XOR_RECIPE network with ``width`` hidden units."""
    r = XOR_RECIPE
    net = nn.MLP([2, width, 1], activation=r["activation"], output="sigmoid", seed=r["seed"])
    net.fit(X, y, epochs=r["epochs"], lr=r["lr"], optimizer=r["optimizer"], diagnostics=False)
    return net.accuracy(X, y)


def _blobs_with_repeats(rng, n: int, repeats: int):
    """``n`` points: two blobs with a wide gap between them (random centre and direction), and
    ``repeats`` points in the gap that appear twice, once with each label. No classifier gets
    both copies of such a point right, so no network can score more than (n - repeats) / n."""
    unique = n - 2 * repeats
    angle = rng.uniform(0, 2 * np.pi)
    along, across = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle),
                                                                        np.cos(angle)])
    centre = rng.uniform(-0.5, 0.5, 2)
    label = np.arange(unique) % 2
    side = np.where(label == 1, 1.5, -1.5) + np.clip(rng.normal(0, 0.4, unique), -1.0, 1.0)
    X = centre + side[:, None] * along + rng.normal(0, 0.6, (unique, 1)) * across
    gap = (centre + rng.uniform(-0.3, 0.3, (repeats, 1)) * along
           + rng.normal(0, 0.6, (repeats, 1)) * across)
    X = np.vstack([X, gap, gap])
    y = np.concatenate([label, np.zeros(repeats, dtype=np.int64),
                        np.ones(repeats, dtype=np.int64)])
    order = rng.permutation(n)
    return X[order], y[order].astype(np.int64)


def _shift_data(seed: int, shift: float, angle: float, n: int = 30):
    """Two classes on either side of the line x1 = shift, far from the origin, turned by
    ``angle``: a single tanh unit has to travel to reach them, so whether it gets there in the
    recipe's training depends on every setting of the recipe."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(shift - 1, shift + 1, n), rng.uniform(-1, 1, n)
    c, s = np.cos(angle), np.sin(angle)
    X = np.column_stack([x1, x2]) @ np.array([[c, s], [-s, c]])
    return X, (x1 > shift).astype(np.int64)


# Data sets (seed, shift, angle) on which a changed recipe gives another answer than the recipe
# with max_width=1, also on copies with the rows shuffled and every point moved a little (about
# 1e-3 for _FAST and _SLOW, 1e-6 for _EDGE): found by a search over random ones;
# tests/test_exercises_ch01.py checks them. A draw takes one of each.
# _FAST: another seed, ReLU, 100 epochs, lr 0.1 or 0.01.
_FAST = ((26157413, 6.22, 2.26), (481093125, 5.45, 1.12), (534648754, 8.51, 1.16),
         (609055771, 8.03, 2.23), (893911684, 5.33, 2.19), (524070008, 8.38, 2.75),
         (607793551, 7.57, 0.69), (214200641, 3.33, 2.9))
# _SLOW: 400 epochs, seed=h, a sigmoid.
_SLOW = ((782543437, 7.79, 1.48), (895651838, 6.74, 2.02), (574982411, 3.6, 0.93),
         (1046708638, 7.96, 1.26), (1019303802, 5.22, 2.85), (871254477, 7.62, 2.57))
# _EDGE: one epoch more or fewer (199 or 201), MSE.
_EDGE = ((1023420360, 10.13, 6.07), (74105004, 10.51, 1.2), (157838476, 8.33, 1.51),
         (105753058, 10.28, 0.82), (86816814, 11.1, 2.41), (500292008, 9.31, 0.2))
_SENSITIVE = ((_FAST, 1e-3), (_SLOW, 1e-3), (_EDGE, 1e-6))

# XOR samples data.xor(n, seed) on which, with max_width=2, a search that goes past max_width
# gives another answer (also on perturbed copies; the tests check them).
_XOR_PAST_MAX = ((32, 549564284), (36, 1020552622), (24, 154790205), (40, 1018604587),
                 (40, 454543313), (28, 888738892), (28, 439374227), (36, 590121728))


def _perturbed(rng, X, y, scale: float = 1e-3):
    """The rows shuffled and every point moved by about ``scale``: the same problem, new
    numbers."""
    order = rng.permutation(len(X))
    return X[order] + rng.normal(0, scale, X.shape), y[order]


def _draw_width(rng) -> list[Case]:
    n = int(rng.choice([20, 40, 60]))
    exact_width = int(rng.integers(2, 5))
    X, y = _blobs_with_repeats(rng, n, n // 20)
    cases = [Case(f"{n} points: two blobs and {n // 20} points between them that appear with "
                  f"both labels (no network can score more than exactly 0.95), "
                  f"max_width={exact_width}",
                  (X, y, exact_width))]
    n = int(rng.choice([59, 79, 99]))
    X, y = _blobs_with_repeats(rng, n, (n + 1) // 20)
    cases.append(Case(f"{n} points: two blobs and {(n + 1) // 20} points between them that "
                      f"appear with both labels (no network can score more than "
                      f"{(n - (n + 1) // 20)}/{n} "
                      f"= {1 - ((n + 1) // 20) / n:.4f}, just below 0.95), max_width=1",
                      (X, y, 1)))
    n, seed = _XOR_PAST_MAX[int(rng.integers(len(_XOR_PAST_MAX)))]
    X, y = _perturbed(rng, *data.xor(n, seed=seed))
    cases.append(Case(f"{n} points of XOR, max_width=2", (X, y, 2)))
    for group, scale in _SENSITIVE:
        seed, shift, angle = group[int(rng.integers(len(group)))]
        X, y = _perturbed(rng, *_shift_data(seed, shift, angle), scale=scale)
        cases.append(Case(f"{len(X)} points far from the origin, where the training recipe "
                          "decides whether one unit is enough, max_width=1", (X, y, 1)))
    return cases


def _ceiling(X: np.ndarray, y: np.ndarray) -> float:
    """The best accuracy any classifier can reach on (X, y): a point that appears with both
    labels costs one mistake per copy of its rarer label."""
    if len(X) == 0:
        return 1.0
    _, group = np.unique(X, axis=0, return_inverse=True)
    group = group.ravel()
    ones = np.bincount(group, weights=(y == 1).astype(float))
    total = np.bincount(group).astype(float)
    return 1.0 - float(np.minimum(ones, total - ones).sum()) / len(X)


def _width_reference(case: Case) -> dict:
    """The recipe's first width (trained here, only the widths needed), with its accuracies."""
    X, y, max_width = case.inputs()[0]
    accs: dict[int, float] = {}
    answer = None
    if _ceiling(X, y) >= _TARGET:   # below it, no width can reach the target: nothing to train
        for width in range(1, max_width + 1):
            accs[width] = xor_width_accuracy(X, y, width)
            if accs[width] >= _TARGET:
                answer = width
                break
    return {"answer": answer, "accs": accs}


def _pct(acc: float) -> str:
    text = f"{acc:.1%}"
    return f"{acc:.2%}" if acc < _TARGET and text == f"{_TARGET:.1%}" else text


def _accuracy(case: Case, expected: dict, width: int) -> float:
    """The recipe's accuracy at ``width`` (trained now when the reference did not need it)."""
    if width not in expected["accs"]:
        X, y, _ = case.inputs()[0]
        expected["accs"][width] = xor_width_accuracy(X, y, width)
    return expected["accs"][width]


def _judge_width(case: Case, obs, expected) -> None:
    X, y, max_width = case.args
    what = f"{_WIDTH_WHAT} with max_width={max_width}"
    answer, got = expected["answer"], obs.result
    hint = (f"try every width 1, 2, ..., max_width in turn with exactly the recipe of the task, "
            f"and stop at the first whose accuracy is at least {_TARGET} (exactly {_TARGET} "
            "counts).")

    def table() -> str:
        return "accuracies by width with the recipe: " + ", ".join(
            f"h={w}: {_pct(_accuracy(case, expected, w))}" for w in range(1, max_width + 1))

    if isinstance(got, (float, np.floating)) and 0 < got <= 1 and not float(got).is_integer():
        raise ExerciseError(f"{what} returned {float(got):.3g}, which looks like an accuracy, "
                            "not a width.",
                            "return the number of hidden units h, not the accuracy it reached.")
    if got is None:
        if answer is None:
            return
        acc = _accuracy(case, expected, answer)
        notes = []
        if acc == _TARGET:
            notes.append(f"exactly {_TARGET}, which is 'at least {_TARGET}'")
        if answer == max_width:
            notes.append("h = max_width itself")
        raise ExerciseError(
            f"{what} returned None, but h={answer} reaches {_pct(acc)}"
            + (f" ({'; '.join(notes)})" if notes else "") + f"; {table()}.", hint)
    if isinstance(got, (list, tuple, np.ndarray)):
        shown = show(got) if isinstance(got, np.ndarray) else f"{got!r:.40}"
        raise ExerciseError(f"{what} should return one width (an int) or None, got "
                            f"{_kind(got)} {shown}.",
                            "return the first width that reaches the target, not all of them.")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        if isinstance(got, (float, np.floating)) and float(got).is_integer():
            raise ExerciseError(f"{what} returned the float {float(got)!r}, expected an int.",
                                "a number of hidden units is a whole number: return h itself.")
        raise ExerciseError(f"{what} should return a width (an int) or None, got "
                            f"{_kind(got)} {got!r:.40}.", "return h, the number of hidden units.")
    h = int(got)
    if answer is None:
        raise ExerciseError(
            f"{what} returned {h}, but no width up to {max_width} reaches {_TARGET} "
            f"({table()}): the answer should be None.",
            "when none of the widths 1..max_width is good enough, say so with None.")
    if h == answer:
        return
    if 1 <= h <= max_width:
        acc = _accuracy(case, expected, h)
        reason = (f"h={h} reaches {_pct(acc)}, below {_TARGET}" if acc < _TARGET else
                  f"h={answer} already reaches {_pct(_accuracy(case, expected, answer))}")
        raise ExerciseError(f"{what} returned {h}, expected {answer}: {reason}; {table()}.",
                            hint)
    raise ExerciseError(f"{what} returned {h}, expected {answer}: the widths to try are 1 to "
                        f"max_width = {max_width}; {table()}.", hint)


XOR_WIDTH = Spec(
    "ch01.xor_width", check="ch01.check_smallest_xor_width", grade_id="ch01-xor-width-check",
    what=_WIDTH_WHAT, answers=("smallest_xor_width",), draw=_draw_width,
    reference_case=_width_reference, judge=_judge_width,
    passed="`smallest_xor_width(X, y, max_width)` returns the first width whose recipe network "
           "reaches 95% on every data set tried (exactly 0.95 counts), and None when no width "
           "up to max_width does.")


@exercise_check
def check_smallest_xor_width(smallest_xor_width, *, seed: int | None = None) -> None:
    """Check ``smallest_xor_width(X, y, max_width)`` against the recipe in ``XOR_RECIPE``, on
    data sets drawn at each check."""
    XOR_WIDTH.check(smallest_xor_width, seed=seed)
