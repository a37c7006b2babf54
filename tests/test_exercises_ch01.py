"""Chapter 1 exercise checks: catalogues of wrong answers (each rejected, on several draws, with
a message naming its mistake or saying what differs) and of right answers written other ways
(each passes on many draws), and the same verdicts through the autograding path."""

import functools
from functools import reduce

import numpy as np
import pytest
from exercise_support import accepts, draws, graded, rejects

from helpers import data, nn
from helpers.exercises import ExerciseError, NotAnsweredYet, ch01

# ----------------------------------------------------------------------------- shared


def unfinished(*args, **kwargs):
    raise NotImplementedError()


ALL_CHECKS = [ch01.check_linear_layer, ch01.check_lift_xor, ch01.check_collapse,
              ch01.check_smallest_xor_width]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_unfinished_answer_is_not_answered_yet(check):
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        check(unfinished)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_not_a_function_is_refused(check):
    with pytest.raises(ExerciseError, match="should be a function"):
        check(np.zeros(3))


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_an_answer_that_crashes_is_reported(check):
    def broken(*args):
        return 1 / 0

    with pytest.raises(ExerciseError, match="ZeroDivisionError"):
        check(broken, seed=0)


# ----------------------------------------------------------------------------- exercise 1
# Task: Z = XW + b for X (n, d_in), W (d_in, d_out), b (d_out,); a numpy array of shape
# (n, d_out), one row per sample, for any n (0 and 1 included); the dtype numpy's arithmetic
# gives (float32 stays float32, an integer X with float64 W and b gives float64); matrix
# operations, no Python loop, not the course's network.


def rows_comprehension(X, W, b):
    return np.array([x @ W + b for x in X])


def triple_loop(X, W, b):
    Z = np.zeros((X.shape[0], W.shape[1]), dtype=X.dtype)
    for k in range(X.shape[0]):
        for j in range(W.shape[1]):
            for i in range(X.shape[1]):
                Z[k, j] += X[k, i] * W[i, j]
            Z[k, j] += b[j]
    return Z


def while_over_samples(X, W, b):
    out, k = [], 0
    while k < len(X):
        out.append(X[k] @ W + b)
        k += 1
    return np.stack(out)


def apply_along_rows(X, W, b):
    return np.apply_along_axis(lambda x: x @ W + b, 1, X)


def map_over_rows(X, W, b):
    return np.array(list(map(lambda x: x @ W + b, X)))


def loop_over_units(X, W, b):
    Z = np.empty((X.shape[0], W.shape[1]), dtype=np.result_type(X, W))
    for j in range(W.shape[1]):           # one neuron at a time: still a Python loop
        Z[:, j] = X @ W[:, j] + b[j]
    return Z


def bias_into_weights_in_place(X, W, b):
    W += b
    return X @ W


def no_return(X, W, b):
    X @ W + b  # noqa: B018


def course_network(X, W, b):
    return nn.MLP.from_weights([W], [b], output="identity").forward(X)


_course_forward = functools.partial(nn.MLP._forward)


def old_shapes_only(X, W, b):
    """Fitted to the old check's three fixed inputs (4x3, one sample of 4, six samples of 5)."""
    return X @ W + b if X.shape in [(4, 3), (1, 4), (6, 5)] else X @ W


WRONG_LINEAR_LAYER = {
    "bias forgotten": (lambda X, W, b: X @ W, r"without the bias"),
    "bias subtracted": (lambda X, W, b: X @ W - b, r"subtracts the bias"),
    "result transposed": (lambda X, W, b: (X @ W + b).T, r"shape \(2, 4\), expected \(4, 2\)"),
    "samples in columns (W.T @ X.T)": (lambda X, W, b: W.T @ X.T + b[:, None],
                                       r"shape \(2, 4\), expected \(4, 2\)"),
    "W transposed": (lambda X, W, b: X @ W.T + b, r"raised ValueError: matmul"),
    "elementwise product": (lambda X, W, b: X * W + b, r"raised ValueError"),
    "bias broadcast as a column": (lambda X, W, b: X @ W + b[:, None], r"raised ValueError"),
    "one bias for every unit": (lambda X, W, b: X @ W + b[0],
                                r"differs from the answer in 4 of 8 .* column 1"),
    "sum of the bias vector": (lambda X, W, b: X @ W + b.sum(), r"differs from the answer"),
    "bias added to the weights": (lambda X, W, b: X @ (W + b), r"differs from the answer"),
    "einsum that also sums over units": (
        lambda X, W, b: np.einsum("ki,ij->k", X, W)[:, None] + b, r"differs from the answer"),
    "squeezed result (batch of one)": (lambda X, W, b: np.squeeze(X @ W + b),
                                       r"returned shape \(\d,\), expected \(1, \d\)"),
    "converted to float64": (lambda X, W, b: np.asarray(X, dtype=float) @ W + b,
                             r"dtype float64, expected float32"),
    "cast to float32 always": (lambda X, W, b: (X @ W + b).astype(np.float32),
                               r"dtype float32, expected float64"),
    "returns a list": (lambda X, W, b: (X @ W + b).tolist(),
                       r"returned a Python list, expected a numpy array of shape \(4, 2\)"),
    "loop over samples (comprehension)": (rows_comprehension,
                                          r"Python loop|returned shape \(0,\)"),
    "triple-nested loop": (triple_loop, r"Python loop|dtype int64, expected float64"),
    "while loop over samples": (while_over_samples, r"Python loop|raised ValueError"),
    "loop over the units (neurons)": (loop_over_units, r"(?s)runs a Python loop.*no Python "
                                      r"loop at all \(over samples, units or inputs\)"),
    "np.apply_along_axis over rows": (apply_along_rows, r"Python loop|raised ValueError"),
    "map over rows": (map_over_rows, r"Python loop|returned shape \(0,\)"),
    "bias added into W in place": (bias_into_weights_in_place, r"modified its input `W`"),
    "forgot return": (no_return, r"returned None"),
    # issue 23's classes
    "casts back to X's dtype (an integer X)": (lambda X, W, b: (X @ W + b).astype(X.dtype),
                                               r"dtype int64, expected float64 for an integer "
                                               r"X.*\n.*\nHint: the weights are floats"),
    "through float32 and back (a lower precision)": (
        lambda X, W, b: (X.astype(np.float32) @ W.astype(np.float32)
                         + b.astype(np.float32)).astype(np.result_type(X, W, b)),
        r"differs from the answer"),
    "the course's network": (course_network, r"calls `helpers\.nn\."),
    "the course's network behind a lambda": (
        lambda X, W, b: (lambda f: f(X))(nn.MLP.from_weights([W], [b]).logits),
        r"calls `helpers\.nn\."),
    "fitted to the old check's three inputs": (old_shapes_only, r"without the bias"),
    "complex result": (lambda X, W, b: X @ W + b + 0j, r"dtype complex128, expected"),
    "a generator of rows": (lambda X, W, b: (x @ W + b for x in X),
                            r"returned generator .*expected a numpy array"),
    "one number (the sum)": (lambda X, W, b: float(np.sum(X @ W + b)),
                             r"returned a single number"),
}


def add_in_new_array(X, W, b):
    Z = X @ W          # a new array: adding into it leaves the inputs alone
    Z += b
    return Z


RIGHT_LINEAR_LAYER = {
    "@": lambda X, W, b: X @ W + b,
    "np.dot": lambda X, W, b: np.dot(X, W) + b,
    "np.add(np.matmul)": lambda X, W, b: np.add(np.matmul(X, W), b),
    "einsum": lambda X, W, b: np.einsum("ki,ij->kj", X, W) + b,
    "transpose of W.T @ X.T": lambda X, W, b: (W.T @ X.T).T + b,
    "broadcast and sum": lambda X, W, b: (X[:, :, None] * W[None, :, :]).sum(axis=1) + b,
    "tensordot": lambda X, W, b: np.tensordot(X, W, axes=1) + b,
    "bias as an explicit row": lambda X, W, b: X @ W + b[None, :],
    "add into a new array": add_in_new_array,
    "bias as a last row of W (augmented X)": lambda X, W, b: (
        np.column_stack([X, np.ones(len(X), dtype=X.dtype)]) @ np.vstack([W, b])),
}


@pytest.mark.parametrize("name", WRONG_LINEAR_LAYER)
def test_linear_layer_rejects(name):
    answer, message = WRONG_LINEAR_LAYER[name]
    rejects(ch01.check_linear_layer, answer, message)


@pytest.mark.parametrize("name", RIGHT_LINEAR_LAYER)
def test_linear_layer_accepts_on_every_draw(name):
    accepts(ch01.check_linear_layer, RIGHT_LINEAR_LAYER[name], draws())


def test_linear_layer_message_shows_the_small_inputs():
    with pytest.raises(ExerciseError, match=r"on X = \[\[.*\], W = \[\[.*\], b = \["):
        ch01.check_linear_layer(lambda X, W, b: X @ W - b, seed=0)


def test_linear_layer_edge_cases_come_first_and_cover_the_contract():
    cases = ch01.LINEAR_LAYER.draw(0)
    labels = [c.label for c in cases]
    for needed in ("one sample", "one output unit", "one input", "empty", "square", "float32",
                   "integer X", "very different sizes"):
        assert any(needed in label for label in labels[:9]), needed
    shapes = {c.args[0].shape[0] for c in cases}
    assert {0, 1} <= shapes
    assert any(c.args[0].dtype.kind == "i" for c in cases)


def test_linear_layer_pass_message_is_the_same_for_every_draw(capsys):
    for seed in (1, 2):
        ch01.check_linear_layer(RIGHT_LINEAR_LAYER["@"], seed=seed)
    first, second = capsys.readouterr().out.splitlines()
    assert first == second and first.startswith("\u2705")


def test_linear_layer_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch01.LINEAR_LAYER, RIGHT_LINEAR_LAYER["einsum"], tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch01.LINEAR_LAYER, WRONG_LINEAR_LAYER["bias forgotten"][0], tmp_path / "w",
                   monkeypatch)
    assert not wrong.passed and "without the bias" in wrong.message
    course = graded(ch01.LINEAR_LAYER, course_network, tmp_path / "c", monkeypatch)
    assert not course.passed and "helpers.nn" in course.message


# ----------------------------------------------------------------------------- exercise 2
# Task: lift(X) for X (n, 2) (float64, float32 or int64; n = 0 and 1 included) returns a numpy
# array (n, k) of real features, the same 1 <= k <= 5 for every X, each row computed from its
# own x1 and x2 only, on which a linear classifier reaches at least 95% on XOR samples drawn
# at each check (and on the four corners).

_Y7 = data.xor(200, seed=7)[1]     # the labels of the old check's sample, in its order


def squares_in_place(X):
    X **= 2
    return X


def standardised_product(X):
    return ((X - X.mean(0)) / X.std(0)).prod(axis=1, keepdims=True)


WRONG_LIFT = {
    "identity": (lambda X: X, r"reaches only"),
    "sum as a feature": (lambda X: np.column_stack([X, X[:, 0] + X[:, 1]]), r"reaches only"),
    "linear combination": (lambda X: np.column_stack([X, 3 * X[:, 0] - X[:, 1]]),
                           r"reaches only"),
    "squares lose the sign": (lambda X: X**2, r"reaches only"),
    "distance from the origin": (lambda X: np.hypot(X[:, :1], X[:, 1:]), r"reaches only"),
    "1-D product": (lambda X: X[:, 0] * X[:, 1], r"one row per sample"),
    "features in rows": (lambda X: np.array([X[:, 0], X[:, 1], X[:, 0] * X[:, 1]]),
                         r"returned shape \(3, 8\).*one row per sample"),
    "3-D array": (lambda X: (X[:, 0] * X[:, 1])[:, None, None], r"one row per sample"),
    "too many features": (lambda X: np.tile(X, 3), r"6 features; keep it small"),
    "no feature at all": (lambda X: X[:, :0], r"0 features; keep it small"),
    "NaN feature": (lambda X: np.column_stack([X, np.where(X[:, 0] > 0, np.nan, 1.0)]),
                    r"NaN or inf"),
    "returns None": (lambda X: None, r"returned None"),
    "squares the input in place": (squares_in_place, r"modified its input"),
    "the labels looked up by row (fitted to the old sample)": (
        lambda X: np.column_stack([X, _Y7[:len(X)]]), r"raised ValueError|reaches only"),
    "the row index": (lambda X: np.column_stack([X, np.arange(len(X))]),
                      r"reaches only|shuffled"),
    "product with another row": (lambda X: np.column_stack([X, X[:, 0] * X[::-1, 1]]),
                                 r"reaches only|shuffled"),
    # How many features depends on the sample in second place: the shapes disagree.
    "columns chosen by the second sample": (
        lambda X: np.column_stack([X, X[:, 0] * X[:, 1]]
                                  + [X[:, 0]] * int(X[min(1, len(X) - 1), 1] > 0)),
        r"features of shape \(\d+, [34]\) for .* and \(\d+, [34]\) for the whole sample|"
        r"returns [34] features on .* and [34] on|raised IndexError"),
    # Fresh noise at every call: the message must show the two feature rows apart.
    "product plus noise": (lambda X: np.column_stack([X, X[:, 0] * X[:, 1] + 1e-3 *
                                                      np.random.default_rng().normal(size=len(X))]),
                           r"shuffled.*got \[-?\d\.\d{3,}.*in another \(a difference of "),
    # Shuffling keeps the batch's mean, spread and size: these pass it, and fail on a part.
    "product of standardised columns": (
        standardised_product,
        r"features \[.*\] in the XOR sample data\.xor.* but \[.*\] when called on its first \d+ "
        r"rows|an empty X"),
    "product scaled by the batch size": (lambda X: X[:, :1] * X[:, 1:] * len(X),
                                         r"when called on its first \d+ rows \(X\[0:\d+\]\)"),
    "product minus its batch mean": (
        lambda X: X[:, :1] * X[:, 1:] - np.mean(X[:, :1] * X[:, 1:]),
        r"when called on its first \d+ rows|an empty X"),
    "product over the batch's largest |x1 x2|": (
        lambda X: X[:, :1] * X[:, 1:] / np.abs(X[:, :1] * X[:, 1:]).max(),
        r"own x1 and x2 only: not from the other samples|raised ValueError"),
    # issue 23's classes
    "a list of rows": (lambda X: np.column_stack([X, X[:, 0] * X[:, 1]]).tolist(),
                       r"returned a Python list, expected a numpy array"),
    "complex features": (lambda X: X[:, :1] + 1j * X[:, 1:],
                         r"dtype complex128; features are real numbers"),
    "a generator": (lambda X: (x[0] * x[1] for x in X), r"returned generator"),
    "one number for the batch": (lambda X: float(np.sum(X[:, 0] * X[:, 1])),
                                 r"returned a single number"),
    "x1 / x2 (the sign of x1 x2, but infinite on an axis)": (
        lambda X: np.column_stack([X, X[:, 0] / X[:, 1]]), r"NaN or inf for points on the axes"),
    "x1 // x2": (lambda X: np.column_stack([X, X[:, 0] // X[:, 1]]),
                 r"NaN or inf for points on the axes|reaches only"),
    "fails on one sample (squeezes)": (lambda X: np.squeeze(X[:, :1] * X[:, 1:])[:, None],
                                       r"one row of .* alone|raised IndexError"),
}

RIGHT_LIFT = {
    "x1 x2 as an extra column": lambda X: np.column_stack([X, X[:, 0] * X[:, 1]]),
    "x1 x2 alone": lambda X: (X[:, 0] * X[:, 1])[:, None],
    "sign of the product": lambda X: np.column_stack([X, np.sign(X[:, 0] * X[:, 1])]),
    "np.prod keepdims": lambda X: np.prod(X, axis=1, keepdims=True),
    "einsum": lambda X: np.einsum("ni,ni->n", X[:, :1], X[:, 1:])[:, None],
    "same-sign indicator": lambda X: ((X[:, 0] * X[:, 1]) > 0).astype(float)[:, None],
    "|x1 + x2| - |x1 - x2|": lambda X: (np.abs(X.sum(axis=1)) - np.abs(X[:, 0] - X[:, 1]))[:, None],
    "all degree-2 monomials": lambda X: np.column_stack([X, X**2, X[:, 0] * X[:, 1]]),
    "a boolean feature": lambda X: (X[:, :1] * X[:, 1:]) < 0,
    "a large, badly scaled product": lambda X: 1e6 * X[:, :1] * X[:, 1:],
    "float16 features": lambda X: (X[:, :1] * X[:, 1:]).astype(np.float16),
}


@pytest.mark.parametrize("name", WRONG_LIFT)
def test_lift_rejects(name):
    answer, message = WRONG_LIFT[name]
    rejects(ch01.check_lift_xor, answer, message)


@pytest.mark.parametrize("name", RIGHT_LIFT)
def test_lift_accepts_on_every_draw(name):
    accepts(ch01.check_lift_xor, RIGHT_LIFT[name], draws())


def test_lift_cases_cover_the_contract():
    cases = ch01.LIFT.draw(0)
    dtypes = {c.args[0].dtype for c in cases}
    assert {np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.float32)} <= dtypes
    assert {0, 1} <= {c.args[0].shape[0] for c in cases}
    assert any(np.any(c.args[0] == 0) and c.args[0].size for c in cases)   # points on an axis
    assert sum("labels" in c.note for c in cases) >= 3
    # the labels stay in the checking process: they are not part of what the student's side gets
    assert all("labels" not in str(c.as_plain()) for c in cases)


def test_lift_classifier_separates_exactly_the_separable():
    """The judge's logistic regression: 100% on separable features, about 75% at best on a line."""
    X, y = data.xor(200, seed=3)
    assert ch01._logistic_accuracy(X[:, :1] * X[:, 1:], y) == 1.0
    assert ch01._logistic_accuracy(np.sign(X[:, :1] * X[:, 1:]), y) == 1.0
    assert ch01._logistic_accuracy(X, y) < 0.8
    assert ch01._logistic_accuracy(X**2, y) < 0.8


def test_lift_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch01.LIFT, RIGHT_LIFT["x1 x2 alone"], tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch01.LIFT, standardised_product, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "own x1 and x2 only" in wrong.message


# ----------------------------------------------------------------------------- exercise 3
# Task: collapse(weights, biases) for L >= 1 layers of any sizes (float64, float32 or
# integer) returns the pair (W, b) of numpy arrays of the single equivalent layer (b of shape
# (d_out,)), any real dtype with the right values; the lists are not to be changed.


def collapse(weights, biases):
    W, b = weights[0], biases[0]
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next, b @ W_next + b_next
    return W, b


def reversed_order(weights, biases):
    W = weights[-1]
    for W_prev in weights[-2::-1]:
        W = W @ W_prev          # W3 @ W2 @ W1: right shapes only for square layers
    return W, collapse(weights, biases)[1]


def bias_not_carried(weights, biases):
    W, b = weights[0], biases[0]
    for W_next, _b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next, b @ W_next          # forgot + b_next
    return W, b


def bias_through_own_layer(weights, biases):
    W, b = weights[0], biases[0]
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next, (b + b_next) @ W_next
    return W, b


def three_layers_only(weights, biases):
    W1, W2, W3 = weights
    b1, b2, b3 = biases
    return W1 @ W2 @ W3, (b1 @ W2 + b2) @ W3 + b3


def multi_dot(weights, biases):
    return np.linalg.multi_dot(weights), collapse(weights, biases)[1]


def skips_last_layer(weights, biases):
    W, b = weights[0], biases[0]
    for W_next, b_next in zip(weights[1:-1], biases[1:-1]):
        W, b = W @ W_next, b @ W_next + b_next
    return W, b


def pops_from_the_lists(weights, biases):
    W, b = weights.pop(0), biases.pop(0)
    while weights:
        W_next, b_next = weights.pop(0), biases.pop(0)
        W, b = W @ W_next, b @ W_next + b_next
    return W, b


def stores_in_biases(weights, biases):
    W = weights[0]
    for k in range(1, len(weights)):
        W = W @ weights[k]
        biases[0] = biases[0] @ weights[k] + biases[k]   # overwrites the caller's list
    return W, biases[0]


def elementwise_product(weights, biases):
    W, b = weights[0], biases[0]
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W * W_next, b @ W_next + b_next
    return W, b


def unrolled_up_to_five(weights, biases):
    """Fitted to the old check, whose deepest stack had five layers."""
    W, b = weights[0], biases[0]
    for W_next, b_next in list(zip(weights[1:], biases[1:]))[:4]:
        W, b = W @ W_next, b @ W_next + b_next
    return W, b


def float32_start(weights, biases):
    W = np.eye(weights[0].shape[0], dtype=np.float32)
    b = np.zeros(weights[0].shape[0], dtype=np.float32)
    for W_l, b_l in zip(weights, biases):
        W, b = (W @ W_l).astype(np.float32), (b @ W_l + b_l).astype(np.float32)
    return W, b


WRONG_COLLAPSE = {
    "reversed order": (reversed_order, r"reverse order"),
    "W transposed": (lambda weights, biases: (collapse(weights, biases)[0].T,
                                              collapse(weights, biases)[1]),
                     r"W from .*\[3, 3, 3, 3\] differs|W from .* has shape"),
    "summed biases": (lambda weights, biases: (collapse(weights, biases)[0], sum(biases)),
                      r"sum of the biases"),
    "last bias only": (lambda weights, biases: (collapse(weights, biases)[0], biases[-1]),
                       r"b from .* differs"),
    "bias not carried forward": (bias_not_carried, r"b from .* differs"),
    "bias also through its own layer": (bias_through_own_layer, r"b from .* differs"),
    "exactly three layers": (three_layers_only, r"raised ValueError"),
    "multi_dot (needs two layers)": (multi_dot, r"raised ValueError.*at least two"),
    "skips the last layer": (skips_last_layer, r"W from .* differs"),
    "elementwise product": (elementwise_product, r"W from .* differs"),
    "returns W only": (lambda weights, biases: collapse(weights, biases)[0],
                       r"pair \(W, b\), got ndarray"),
    "returns (b, W)": (lambda weights, biases: collapse(weights, biases)[::-1],
                       r"W from .* has shape \(3,\), expected \(3, 3\)"),
    "bias as a (1, d_out) row": (lambda weights, biases: (collapse(weights, biases)[0],
                                                          collapse(weights, biases)[1][None]),
                                 r"b from .* shape \(1, 3\), expected \(3,\)"),
    "pops from the lists": (pops_from_the_lists, r"modified its input `weights`"),
    "stores the running bias in biases[0]": (stores_in_biases, r"modified its input `biases`"),
    # issue 23's classes
    "lists instead of arrays": (lambda weights, biases: tuple(
        a.tolist() for a in collapse(weights, biases)), r"W from .* is a list, expected a "
        r"numpy array"),
    "fitted to the old check's depths (up to five layers)": (unrolled_up_to_five,
                                                             r"8 layers.*\n.*|W from .* differs"),
    "float32 all the way (a lower precision)": (float32_start, r"W from .* differs"),
    "a dict": (lambda weights, biases: dict(zip("Wb", collapse(weights, biases))),
               r"pair \(W, b\), got dict"),
    "a generator": (lambda weights, biases: (a for a in collapse(weights, biases)),
                    r"pair \(W, b\), got generator"),
    "complex W": (lambda weights, biases: (collapse(weights, biases)[0] + 0j,
                                           collapse(weights, biases)[1]),
                  r"W from .* has dtype complex128"),
    "NaN in b": (lambda weights, biases: (collapse(weights, biases)[0],
                                          collapse(weights, biases)[1] * np.nan),
                 r"b from .* differs .*got nan"),
    "a triple (W, b, L)": (lambda weights, biases: (*collapse(weights, biases), len(weights)),
                           r"pair \(W, b\), got tuple of length 3"),
}


def from_identity(weights, biases):
    W, b = np.eye(weights[0].shape[0]), np.zeros(weights[0].shape[0])
    for W_l, b_l in zip(weights, biases):
        W, b = W @ W_l, b @ W_l + b_l
    return W, b


def expanded_algebra(weights, biases):
    # b = sum over layers k of b_k times every weight matrix after layer k.
    W = reduce(np.matmul, weights)
    b = sum(reduce(np.matmul, weights[k + 1:], b_k) for k, b_k in enumerate(biases))
    return W, b


def homogeneous_coordinates(weights, biases):
    # Each layer as one matrix [[W, 0], [b, 1]] acting on (x, 1); the product is the stack.
    def augmented(W_l, b_l):
        top = np.column_stack([W_l, np.zeros(len(W_l))])
        return np.vstack([top, np.append(b_l, 1.0)])

    A = reduce(np.matmul, [augmented(W_l, b_l) for W_l, b_l in zip(weights, biases)])
    return A[:-1, :-1], A[-1, :-1]


def recursive(weights, biases):
    if len(weights) == 1:
        return weights[0], biases[0]
    W_rest, b_rest = recursive(weights[1:], biases[1:])
    return weights[0] @ W_rest, biases[0] @ W_rest + b_rest


def probe_the_course_network(weights, biases):
    # The stack as the course's identity network: its output at 0 is b, at the unit vectors W + b.
    net = nn.MLP.from_weights(weights, biases, activation="identity")
    d = weights[0].shape[0]
    b = net.forward(np.zeros((1, d)))[0]
    return net.forward(np.eye(d)) - b, b


RIGHT_COLLAPSE = {
    "loop": collapse,
    "functools.reduce": lambda weights, biases: reduce(
        lambda acc, layer: (acc[0] @ layer[0], acc[1] @ layer[0] + layer[1]),
        zip(weights[1:], biases[1:]), (weights[0], biases[0])),
    "start from the identity": from_identity,
    "expanded algebra": expanded_algebra,
    "homogeneous coordinates": homogeneous_coordinates,
    "recursion from the output side": recursive,
    "a list [W, b]": lambda weights, biases: list(collapse(weights, biases)),
    "probing the course's identity network": probe_the_course_network,
}


@pytest.mark.parametrize("name", WRONG_COLLAPSE)
def test_collapse_rejects(name):
    answer, message = WRONG_COLLAPSE[name]
    rejects(ch01.check_collapse, answer, message)


@pytest.mark.parametrize("name", RIGHT_COLLAPSE)
def test_collapse_accepts_on_every_draw(name):
    accepts(ch01.check_collapse, RIGHT_COLLAPSE[name], draws())


def test_collapse_matches_a_real_identity_network():
    net = nn.MLP([2, 5, 4, 1], activation="identity", seed=3)
    X = np.random.default_rng(0).normal(size=(20, 2))
    W, b = collapse(net.weights, net.biases)
    assert np.max(np.abs(net.forward(X) - (X @ W + b))) < 1e-12


def test_collapse_cases_cover_the_contract():
    cases = ch01.COLLAPSE.draw(0)
    depths = {len(c.args[0]) for c in cases}
    assert 1 in depths and max(depths) >= 8
    kinds = {c.args[0][0].dtype for c in cases}
    assert {np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.int64)} <= kinds


def test_collapse_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch01.COLLAPSE, RIGHT_COLLAPSE["recursion from the output side"],
                  tmp_path / "r", monkeypatch).passed
    wrong = graded(ch01.COLLAPSE, pops_from_the_lists, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "modified its input" in wrong.message


# ----------------------------------------------------------------------------- exercise 4
# Task: try h = 1, 2, ..., max_width in turn, return the first h (an int) whose network (the
# given recipe) reaches a training accuracy of at least 0.95 on (X, y), and None if none does.
# The check trains networks: right answers run on 25 draws and a fresh one (each draw trains
# about ten small networks), wrong ones on the usual four.

WIDTH_SEEDS = 25
X_NOTEBOOK, Y_NOTEBOOK = data.xor(200, seed=0)


def width_search(widths, accuracy_ok, **recipe):
    """Build a smallest_xor_width variant: which widths, which test, which recipe."""
    settings = {"activation": "tanh", "seed": 0, "epochs": 200, "lr": 0.05, "loss": "bce"} \
        | recipe

    def answer(X, y, max_width=8):
        for h in widths(max_width):
            seed = h if settings["seed"] == "h" else settings["seed"]
            net = nn.MLP([2, h, 1], activation=settings["activation"], output="sigmoid",
                         seed=seed)
            net.fit(X, y, loss=settings["loss"], epochs=settings["epochs"], lr=settings["lr"],
                    optimizer="adam", diagnostics=False)
            if accuracy_ok(net.accuracy(X, y)):
                return h
        return None

    return answer


def every_width(max_width):
    return range(1, max_width + 1)


def at_least(acc):
    return acc >= 0.95


def smallest_xor_width(X, y, max_width=8):
    for h in range(1, max_width + 1):
        if ch01.xor_width_accuracy(X, y, h) >= 0.95:
            return h
    return None


def accuracy_instead(X, y, max_width=8):
    for h in range(1, max_width + 1):
        acc = ch01.xor_width_accuracy(X, y, h)
        if acc >= 0.95:
            return acc
    return None


def max_width_if_none(X, y, max_width=8):
    h = smallest_xor_width(X, y, max_width)
    return max_width if h is None else h


def ignores_its_data(X, y, max_width=8):
    return smallest_xor_width(X_NOTEBOOK, Y_NOTEBOOK, max_width)


def one_less(X, y, max_width=8):
    h = smallest_xor_width(X, y, max_width)
    return None if h is None else h - 1


def every_good_width(X, y, max_width=8):
    return [h for h in range(1, max_width + 1) if ch01.xor_width_accuracy(X, y, h) >= 0.95]


def old_answers_by_size(X, y, max_width=8):
    """Fitted to the old check: its data sets' answers by their size, else the notebook's 3."""
    return {40: 1, 200: 3}.get(len(X), 3)


WRONG_XOR_WIDTH = {
    "range stops before max_width": (width_search(lambda m: range(1, m), at_least),
                                     r"max_width=1 returned None, but h=1 reaches .*\(h = "
                                     r"max_width itself\)"),
    "tries widths past max_width (range(1, 2 * max_width))": (
        width_search(lambda m: range(1, 2 * m), at_least),
        r"max_width=2 returned 3, but no width up to 2 reaches 0\.95"),
    "range starts at 0": (width_search(lambda m: range(0, m + 1), at_least),
                          r"raised ValueError: sizes"),
    "range starts at 2": (width_search(lambda m: range(2, m + 1), at_least),
                          r"returned 2, expected 1: h=1 already reaches 95\.0%"),
    "> instead of >=": (width_search(every_width, lambda acc: acc > 0.95),
                        r"returned None, but h=1 reaches 95\.0% \(exactly 0\.95"),
    "threshold 0.99": (width_search(every_width, lambda acc: acc >= 0.99),
                       r"returned None, but h=1 reaches 95\.0%"),
    "threshold 0.9": (width_search(every_width, lambda acc: acc >= 0.9),
                      r"max_width=1 returned 1, but no width up to 1 reaches 0\.95 \(.*h=1: "
                      r"94\.9%\)"),
    "threshold 0.93, strict": (width_search(every_width, lambda acc: acc > 0.93),
                               r"returned 1, but no width up to 1"),
    "threshold 0.945": (width_search(every_width, lambda acc: acc >= 0.945),
                        r"returned 1, but no width up to 1"),
    "another seed": (width_search(every_width, at_least, seed=3), r"max_width=[12] returned"),
    "seed=h instead of seed=SEED": (width_search(every_width, at_least, seed="h"),
                                    r"max_width=[12] returned"),
    "mse loss instead of bce": (width_search(every_width, at_least, loss="mse"),
                                r"max_width=[12] returned"),
    "relu instead of tanh": (width_search(every_width, at_least, activation="relu"),
                             r"max_width=[12] returned"),
    "sigmoid instead of tanh": (width_search(every_width, at_least, activation="sigmoid"),
                                r"max_width=[12] returned"),
    "one epoch more": (width_search(every_width, at_least, epochs=201),
                       r"max_width=[12] returned"),
    "one epoch fewer": (width_search(every_width, at_least, epochs=199),
                        r"max_width=[12] returned"),
    "more epochs": (width_search(every_width, at_least, epochs=400),
                    r"max_width=[12] returned"),
    "fewer epochs": (width_search(every_width, at_least, epochs=100),
                     r"max_width=1 returned None, but h=1 reaches"),
    "larger learning rate": (width_search(every_width, at_least, lr=0.1),
                             r"max_width=[12] returned"),
    "smaller learning rate": (width_search(every_width, at_least, lr=0.01),
                              r"max_width=1 returned None, but h=1"),
    "returns the accuracy": (accuracy_instead, r"looks like an accuracy"),
    "max_width instead of None": (max_width_if_none, r"max_width=1 returned 1.*should be None"),
    "hard-coded 3": (lambda X, y, max_width=8: 3, r"returned 3, expected 1"),
    "ignores X and y (uses the notebook's XOR)": (ignores_its_data, r"returned (\d|None)"),
    "h - 1": (one_less, r"returned 0, expected 1: the widths to try are 1 to"),
    "every good width": (every_good_width, r"should return one width \(an int\) or None, got "
                                           r"list"),
    # issue 23's classes
    "round(acc, 2) >= 0.95": (width_search(every_width, lambda acc: round(acc, 2) >= 0.95),
                              r"returned 1, but no width up to 1 reaches 0\.95"),
    "a tolerance of 1e-3 below the target": (
        width_search(every_width, lambda acc: acc >= 0.95 - 1e-3),
        r"returned 1, but no width up to 1 reaches 0\.95"),
    "np.isclose(acc, 0.95) or more": (
        width_search(every_width, lambda acc: acc > 0.95 or np.isclose(acc, 0.95, atol=1e-3)),
        r"returned 1, but no width up to 1 reaches 0\.95"),
    "the width as a float": (lambda X, y, max_width=8: (lambda h: None if h is None else
                                                        float(h))(smallest_xor_width(X, y,
                                                                                     max_width)),
                             r"returned the float 1\.0, expected an int"),
    "a one-element array": (lambda X, y, max_width=8: (lambda h: None if h is None else
                                                       np.array([h]))(smallest_xor_width(
                                                           X, y, max_width)),
                            r"one width \(an int\) or None, got ndarray \[1\]"),
    "True for found": (lambda X, y, max_width=8: smallest_xor_width(X, y, max_width) is not None,
                       r"should return a width \(an int\) or None, got bool"),
    "the width as text": (lambda X, y, max_width=8: str(smallest_xor_width(X, y, max_width)),
                          r"should return a width \(an int\) or None, got str"),
    "fitted to the old check's data sets": (old_answers_by_size, r"returned [13]"),
}

RIGHT_XOR_WIDTH = {
    "the recipe written out": width_search(every_width, at_least),
    "through ch01.xor_width_accuracy": smallest_xor_width,
    "while loop": lambda X, y, max_width=8: next(
        (h for h in range(1, max_width + 1) if ch01.xor_width_accuracy(X, y, h) >= 0.95), None),
    "numpy integer": lambda X, y, max_width=8: (
        None if smallest_xor_width(X, y, max_width) is None
        else np.int64(smallest_xor_width(X, y, max_width))),
    "with diagnostics on (the same training)": lambda X, y, max_width=8: next(
        (h for h in range(1, max_width + 1)
         if (lambda net: (net.fit(X, y, loss="bce", epochs=200, lr=0.05, optimizer="adam"),
                          net.accuracy(X, y))[1])(
            nn.MLP([2, h, 1], activation="tanh", output="sigmoid", seed=0)) >= 0.95), None),
}


@pytest.mark.parametrize("name", WRONG_XOR_WIDTH)
def test_xor_width_rejects(name):
    answer, message = WRONG_XOR_WIDTH[name]
    rejects(ch01.check_smallest_xor_width, answer, message)


@pytest.mark.parametrize("name", RIGHT_XOR_WIDTH)
def test_xor_width_accepts_on_every_draw(name):
    accepts(ch01.check_smallest_xor_width, RIGHT_XOR_WIDTH[name], draws(WIDTH_SEEDS))


def test_xor_width_blobs_sit_exactly_at_and_just_below_the_target():
    """The first two cases of every draw: one tanh unit reaches exactly 0.95, and exactly the
    ceiling (n - repeats) / n, just below it; no classifier can do better."""
    for seed in range(40):
        exact, below = ch01.XOR_WIDTH.draw(seed)[:2]
        X, y, _ = exact.args
        assert ch01._ceiling(X, y) == 0.95 == ch01.xor_width_accuracy(X, y, 1), seed
        X, y, _ = below.args
        ceiling = ch01._ceiling(X, y)
        assert 0.949 <= ceiling < 0.95 and round(ceiling, 2) == 0.95, seed
        assert ch01.xor_width_accuracy(X, y, 1) == ceiling, seed


def test_xor_width_sensitive_sets_separate_the_recipe_from_its_near_misses():
    """Each data set of a group gives the recipe another answer with max_width=1 than each
    near miss that group is there to catch, on the set and on a perturbed copy (as drawn)."""
    catches = {
        "fast": {"another seed": {"seed": 3}, "relu": {"activation": "relu"},
                 "fewer epochs": {"epochs": 100}, "larger lr": {"lr": 0.1},
                 "smaller lr": {"lr": 0.01}},
        "slow": {"more epochs": {"epochs": 400}, "seed=h": {"seed": "h"},
                 "sigmoid": {"activation": "sigmoid"}},
        "edge": {"199 epochs": {"epochs": 199}, "201 epochs": {"epochs": 201},
                 "mse": {"loss": "mse"}},
    }
    rng = np.random.default_rng(0)
    for (group, scale), near_misses in zip(ch01._SENSITIVE, catches.values()):
        for seed, shift, angle in group:
            X, y = ch01._shift_data(seed, shift, angle)
            for X_, y_ in ((X, y), ch01._perturbed(rng, X, y, scale=scale)):
                right = smallest_xor_width(X_, y_, 1)
                for name, recipe in near_misses.items():
                    assert width_search(every_width, at_least, **recipe)(X_, y_, 1) != right, \
                        (seed, name)


def test_xor_width_xor_sets_fail_with_two_units_and_succeed_with_three():
    rng = np.random.default_rng(1)
    for n, seed in ch01._XOR_PAST_MAX:
        X, y = data.xor(n, seed=seed)
        for X_, y_ in ((X, y), ch01._perturbed(rng, X, y)):
            assert ch01.xor_width_accuracy(X_, y_, 2) < 0.95 <= ch01.xor_width_accuracy(X_, y_, 3)


def test_xor_width_reference_needs_no_training_below_the_ceiling(monkeypatch):
    below = ch01.XOR_WIDTH.draw(3)[1]

    def no_training(*args):
        raise AssertionError("trained a network")

    monkeypatch.setattr(ch01, "xor_width_accuracy", no_training)
    assert ch01._width_reference(below)["answer"] is None


def test_xor_width_recipe_facts():
    # The notebook relies on these: on its XOR 2 units fail and 3 succeed.
    assert ch01.xor_width_accuracy(X_NOTEBOOK, Y_NOTEBOOK, 2) < 0.95
    assert ch01.xor_width_accuracy(X_NOTEBOOK, Y_NOTEBOOK, 3) >= 0.95


def test_xor_width_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch01.XOR_WIDTH, smallest_xor_width, tmp_path / "r", monkeypatch).passed
    wrong = graded(ch01.XOR_WIDTH, WRONG_XOR_WIDTH["> instead of >="][0], tmp_path / "w",
                   monkeypatch)
    assert not wrong.passed and "exactly 0.95" in wrong.message
