"""Chapter 1 exercise checks: catalogues of wrong answers (each rejected, on several draws, with
a message naming its mistake or saying what differs) and of right answers written other ways
(each passes on many draws), and the same verdicts through the autograding path."""

import functools
import re
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from functools import reduce

import numpy as np
import pytest
from exercise_support import (
    accepts,
    draws,
    ends_of,
    extremes_of,
    graded,
    kept_by,
    rejects,
    right_draws,
    sum_of,
)

from helpers import data, nn
from helpers.exercises import ExerciseError, NotAnsweredYet, _spec, ch01
from helpers.exercises.ch01 import xor_width_accuracy as score

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
# gives (float32 stays float32, float64 as soon as one of X, W, b is float64, an integer X
# with float64 W and b gives float64, all-integer inputs give int64), as precise as that dtype;
# matrix operations whose Python work does not grow with the samples, inputs or units (a fixed
# number of steps is fine), not the course's network, not the check's own functions.


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


def rows_by_map(X, W, b):
    # A loop over the samples driven from C: no Python line runs per sample.
    rows = list(map(W.T.dot, X))
    return np.array(rows, dtype=np.result_type(X, W)).reshape(len(X), W.shape[1]) + b


def units_by_map(X, W, b):
    columns = list(map(X.dot, W.T))     # one output unit at a time, driven from C
    return np.array(columns, dtype=np.result_type(X, W)).reshape(W.shape[1], len(X)).T + b


def rows_into_a_deque(X, W, b):
    Z = np.empty((len(X), W.shape[1]), dtype=np.result_type(X, W, b))
    deque(map(Z.__setitem__, range(len(X)), map(W.T.dot, X)), maxlen=0)
    return Z + b


def inputs_by_reduce(X, W, b):
    # One outer product per input, summed by reduce: a loop over the inputs, driven from C.
    start = np.zeros((len(X), W.shape[1]), dtype=np.result_type(X, W))
    return reduce(np.add, map(np.outer, X.T, W), start) + b


def chunks_of_rows(X, W, b):
    Z = np.empty((len(X), W.shape[1]), dtype=np.result_type(X, W, b))
    for i in range(0, len(X), 1000):          # vectorised within a chunk, a loop over chunks
        Z[i:i + 1000] = X[i:i + 1000] @ W + b
    return Z


def chunks_of(size: int, axis: str):
    """A loop over chunks of ``size`` samples, inputs or units: the newcomer's big chunks."""
    def linear_layer(X, W, b):
        Z = np.zeros((len(X), W.shape[1]), dtype=np.result_type(X, W, b))
        if axis == "samples":
            for s in range(0, X.shape[0], size):
                Z[s:s + size] = X[s:s + size] @ W + b
        elif axis == "inputs":
            for s in range(0, X.shape[1], size):
                Z += X[:, s:s + size] @ W[s:s + size]
            Z += b
        else:
            for s in range(0, W.shape[1], size):
                Z[:, s:s + size] = X @ W[:, s:s + size] + b[s:s + size]
        return Z
    return linear_layer


def cached_by_shape():
    """Remembers each result by the inputs' shapes and dtypes: right the first time only."""
    cache = {}

    def linear_layer(X, W, b):
        key = (X.shape, W.shape, X.dtype, W.dtype, b.dtype)
        if key not in cache:
            cache[key] = X @ W + b
        return cache[key].copy()
    return linear_layer


def integers_through_float32(X, W, b):
    if X.dtype.kind == W.dtype.kind == b.dtype.kind == "i":
        return (X.astype(np.float32) @ W.astype(np.float32)
                + b.astype(np.float32)).astype(np.int64)
    return X @ W + b


def loop_for_large_batches(X, W, b):
    if len(X) > 1000:                        # a loop only where the old check never looked
        return np.array([x @ W + b for x in X])
    return X @ W + b


def first_45_inputs(X, W, b):
    """Fitted to the sizes the old check tried: its largest layer had 44 inputs."""
    return X[:, :45] @ W[:45] + b


def float32_off_by_40_ulps(X, W, b):
    Z = X @ W + b
    return (Z * (1 + 5e-6)).astype(Z.dtype) if Z.dtype == np.float32 else Z


def old_shapes_only(X, W, b):
    """Fitted to the old check's three fixed inputs (4x3, one sample of 4, six samples of 5)."""
    return X @ W + b if X.shape in [(4, 3), (1, 4), (6, 5)] else X @ W


def add_in_new_array(X, W, b):
    Z = X @ W          # a new array: adding into it leaves the inputs alone
    Z += b             # ... but keeps X @ W's dtype: float32 for float32 X and W, b float64
    return Z


def add_in_new_array_of_numpys_dtype(X, W, b):
    Z = (X @ W).astype(np.result_type(X, W, b))
    Z += b
    return Z


_TIMED_OUT = r"took \d+ ms of CPU on .*\(timed against numpy's own loops\)"

def chunks_by_map(rows: int):
    """X @ W + b over chunks of ``rows`` samples, the loop driven from C by map (no Python
    line runs per chunk)."""
    def answer(X, W, b):
        n = len(X)
        parts = list(map(W.__rmatmul__, map(X.__getitem__, map(slice, range(0, n, rows),
                                                                range(rows, n + rows, rows)))))
        return (np.concatenate(parts) if parts else X @ W) + b

    return answer


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
    "triple-nested loop": (triple_loop, r"Python loop|dtype (int64|float32), expected float64"),
    "while loop over samples": (while_over_samples, r"Python loop|raised ValueError"),
    "loop over the units (neurons)": (loop_over_units, r"(?s)runs a Python loop.*Python work "
                                      r"does not grow with the number of samples, inputs or "
                                      r"units \(no loop over them, one at a time or in chunks "
                                      r"of a fixed size\)|returned dtype float32, expected "
                                      r"float64"),
    "np.apply_along_axis over rows": (apply_along_rows, r"Python loop|raised ValueError|"
                                                        r"with `numpy.apply_along_axis`"),
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
        r"(?s)more than float(64|32) rounding.*\nHint: compute X @ W \+ b in the dtype"),
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
    # the newcomer's: loops driven from C, loops where the old check never looked, a fit to
    # its sizes, and a float32 result off by about 40 ulps
    "map over the samples (list(map(W.T.dot, X)))": (rows_by_map, _TIMED_OUT),
    "map over the units (map(X.dot, W.T))": (units_by_map, _TIMED_OUT),
    "a deque of __setitem__ over the samples": (rows_into_a_deque, _TIMED_OUT),
    "reduce over the inputs": (inputs_by_reduce, r"Python loop|" + _TIMED_OUT),
    "a loop over chunks of 1000 samples": (chunks_of_rows,
                                           r"runs a Python loop over the samples: .* \(3 times "
                                           r"as many samples\) .*\(a loop over chunks of a fixed "
                                           r"size is a loop too\)"),
    "a loop only for batches over 1000": (loop_for_large_batches, _TIMED_OUT + r"|Python loop"),
    "only the first 45 inputs": (first_45_inputs, r"differs from the answer"),
    "float32 result scaled by (1 + 5e-6)": (float32_off_by_40_ulps,
                                            r"more than float32 rounding of these sums"),
    # the confirmation reading's: loops over big chunks, dtype mixes never drawn, detours of
    # large integers, a cache by shape, rounding, and the check's own reference
    "chunks of 25,000 samples": (chunks_of(25_000, "samples"),
                                 r"runs a Python loop over the samples: its Python work grows"),
    "chunks of 50,000 samples": (chunks_of(50_000, "samples"),
                                 r"runs a Python loop over the samples: its Python work grows"),
    "chunks of 10,000 inputs": (chunks_of(10_000, "inputs"),
                                r"runs a Python loop over the inputs: its Python work grows"),
    "chunks of 50,000 inputs": (chunks_of(50_000, "inputs"),
                                r"runs a Python loop over the inputs: its Python work grows"),
    "chunks of 25,000 units": (chunks_of(25_000, "units"),
                               r"runs a Python loop over the units: its Python work grows"),
    "W cast to X's dtype (a float32 X with float64 W)": (
        lambda X, W, b: X @ W.astype(X.dtype) + b if X.dtype == np.float32 else X @ W + b,
        r"(?s)more than float64 rounding of these sums.*float32 X with float64 W.*\nHint: "
        r"compute X @ W \+ b in the dtype"),
    "b added in place into X @ W (b's dtype ignored)": (
        add_in_new_array, r"(?s)dtype float32, expected float64: .*b of dtype float64"),
    "b's dtype ignored": (lambda X, W, b: (X @ W + b).astype(np.result_type(X, W)),
                          r"(?s)dtype float32, expected float64: .*b of dtype float64.*float32 "
                          r"X and W with a float64 b"),
    "X's dtype kept (a float64 X with float32 W)": (
        lambda X, W, b: (X.astype(W.dtype) @ W + b),
        r"(?s)dtype float32, expected float64.*(a float64 X|an integer X) with float32 W"),
    "all-integer inputs to float64": (
        lambda X, W, b: (X @ W + b).astype(float) if X.dtype.kind == "i" else X @ W + b,
        r"(?s)dtype float64, expected int64.*integer X, W and b"),
    "an empty batch as float64 zeros": (
        lambda X, W, b: X @ W + b if len(X) else np.zeros((0, W.shape[1])),
        r"(?s)dtype float64, expected float32.*an empty float32 batch"),
    "an integer X through float16": (
        lambda X, W, b: (X.astype(np.float16) if X.dtype.kind == "i" else X) @ W + b,
        r"(?s)differs from the answer.*integer X \(int64, values up to 1e8\)"),
    "an integer X through float32": (
        lambda X, W, b: (X.astype(np.float32) if X.dtype.kind == "i" else X) @ W + b,
        r"(?s)more than float64 rounding.*integer X \(int64, values up to 1e8\)"),
    "integer inputs through float32": (integers_through_float32,
                                       r"(?s)Integer inputs give exact whole numbers.*integer X, "
                                       r"W and b"),
    # Confirmation reading: integers through float64 are exact only up to 2**53.
    "integer inputs through float64, cast back": (
        lambda X, W, b: (X.astype(np.float64) @ W.astype(np.float64)
                         + b.astype(np.float64)).astype(np.result_type(X, W, b)),
        r"(?s)went through floats.*results pass 2\*\*53"),
    "chunks of 64 samples multiplied by map": (chunks_by_map(64),
                                               r"Python objects in proportion to the samples"),
    "rounded to 10 decimals": (lambda X, W, b: np.round(X @ W + b, 10),
                               r"(?s)more than float64 rounding.*\nHint: compute X @ W \+ b"),
    "a cache keyed on the shapes": (cached_by_shape(), r"differs from the answer"),
    "the check's reference": (lambda X, W, b: ch01._linear_reference(X, W, b),
                              r"calls `helpers\.exercises\.ch01\._linear_reference`, a part of "
                              r"the check itself"),
    "the check's reference in a partial": (functools.partial(ch01._linear_reference),
                                           r"a part of the check itself"),
}


def halves_of_the_inputs(X, W, b):
    h = X.shape[1] // 2
    return X[:, :h] @ W[:h] + X[:, h:] @ W[h:] + b


RIGHT_LINEAR_LAYER = {
    "@": lambda X, W, b: X @ W + b,
    "np.dot": lambda X, W, b: np.dot(X, W) + b,
    "np.add(np.matmul)": lambda X, W, b: np.add(np.matmul(X, W), b),
    "einsum": lambda X, W, b: np.einsum("ki,ij->kj", X, W) + b,
    "transpose of W.T @ X.T": lambda X, W, b: (W.T @ X.T).T + b,
    # (np.sum gives int64 for int32 terms: the sum is kept in the product's dtype)
    "broadcast and sum": lambda X, W, b: (X[:, :, None] * W[None, :, :]).sum(
        axis=1, dtype=np.result_type(X, W)) + b,
    "tensordot": lambda X, W, b: np.tensordot(X, W, axes=1) + b,
    "bias as an explicit row": lambda X, W, b: X @ W + b[None, :],
    "add into a new array of numpy's dtype": add_in_new_array_of_numpys_dtype,
    "bias as a last row of W (augmented X)": lambda X, W, b: (
        np.column_stack([X, np.ones(len(X), dtype=X.dtype)]) @ np.vstack([W, b])),
    # numpy's path finder runs more Python lines on a larger input, but not more for a larger
    # one still; a fixed number of chunks does the same Python work at every size
    "einsum(optimize=True)": lambda X, W, b: np.einsum("ki,ij->kj", X, W, optimize=True) + b,
    "einsum(optimize='greedy')": lambda X, W, b: np.einsum("ki,ij->kj", X, W,
                                                           optimize="greedy") + b,
    "four chunks of samples (np.array_split)": lambda X, W, b: np.concatenate(
        [x @ W for x in np.array_split(X, 4)]) + b,
    "two halves of the units (a strided product)": lambda X, W, b: np.hstack(
        [X @ W[:, :W.shape[1] // 2], X @ W[:, W.shape[1] // 2:]]) + b,
    "two halves of the inputs": halves_of_the_inputs,
}


@pytest.mark.parametrize("name", WRONG_LINEAR_LAYER)
def test_linear_layer_rejects(name):
    answer, message = WRONG_LINEAR_LAYER[name]
    rejects(ch01.check_linear_layer, answer, message)


@pytest.mark.parametrize("name", RIGHT_LINEAR_LAYER)
def test_linear_layer_accepts_on_every_draw(name):
    accepts(ch01.check_linear_layer, RIGHT_LINEAR_LAYER[name],
            right_draws(RIGHT_LINEAR_LAYER, name))  # six timed cases a draw


def test_linear_layer_message_shows_the_small_inputs():
    with pytest.raises(ExerciseError, match=r"on X = \[\[.*\], W = \[\[.*\], b = \["):
        ch01.check_linear_layer(lambda X, W, b: X @ W - b, seed=0)


def test_linear_layer_edge_cases_come_first_and_cover_the_contract():
    cases = ch01.LINEAR_LAYER.draw(0)
    labels = [c.label for c in cases]
    for needed in ("one sample", "one output unit", "one input", "empty", "square", "float32",
                   "positive values", "integer X", "very different sizes", "other values",
                   "empty float32", "float32 X with float64", "float64 b", "integer X, W and b"):
        assert any(needed in label for label in labels[:18]), needed
    shapes = {c.args[0].shape[0] for c in cases}
    assert {0, 1} <= shapes
    # every dtype mix the task names, and numpy's dtype for each
    mixes = {tuple(a.dtype.name for a in c.args) for c in cases}
    assert {("float32", "float64", "float64"), ("float32", "float32", "float64"),
            ("float64", "float32", "float32"), ("int64", "float64", "float64"),
            ("int64", "int64", "int64")} <= mixes
    # large integers: one odd X above 2**24 (float32 cannot hold it), all-integer results odd
    # and above 2**24, every sum exact in float64
    big = next(c for c in cases if "values up to 1e8" in c.label).args[0]
    assert big[0, 0] % 2 == 1 and big[0, 0] > 2**24 and big.dtype == np.int64
    X, W, b = next(c for c in cases if "integer X, W and b" in c.label).args
    Z = X @ W + b
    assert np.all(Z % 2 == 1) and np.all(Z > 2**24) and Z.max() < 2**53
    # the first case's shapes again, with other values: no result equal
    first, again = cases[0].args, cases[1].args
    assert [a.shape for a in first] == [a.shape for a in again]
    assert np.all(first[0] @ first[1] + first[2] != again[0] @ again[1] + again[2])
    # The work cases come last: small, large, then a pair per axis a loop can run over
    # (100,000 and 300,000 long), and more inputs than the old check's 44.
    assert [c.work for c in cases[-8:]] == ["small", "large"] + ["timed"] * 6
    timed = [(c.args[0].shape[0], *c.args[1].shape) for c in cases[-6:]]
    assert [max(shape) for shape in timed] == [100_000, 300_000] * 3
    assert [shape.index(max(shape)) for shape in timed] == [0, 0, 1, 1, 2, 2]
    assert cases[-7].args[0].shape[1] > 45


def test_linear_layer_float32_error_of_40_ulps_is_refused_on_every_draw():
    """The positive float32 case: every sum has terms of one sign, so a relative error of
    5e-6 (about 40 ulps) in every value is beyond the tolerance; the exact result is not."""
    for seed in range(200):
        case = next(c for c in ch01.LINEAR_LAYER.draw(seed) if "positive" in c.label)
        X, W, b = case.args
        Z = X @ W + b
        reference = ch01.LINEAR_LAYER.expected(case)
        ch01._judge_linear(case, _spec.Observation("returned", Z), reference)
        with pytest.raises(ExerciseError, match="more than float32 rounding"):
            ch01._judge_linear(case, _spec.Observation("returned", (Z * (1 + 5e-6)).astype(
                np.float32)), reference)


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


# Refused on the grid of 256 points; on about 2% of fresh draws a drawn XOR sample refuses it
# first (test_lift_grid_refuses_features_that_pass_on_xor_clusters_on_every_draw holds the
# grid to it on every draw).
_ON_THE_GRID = (r"reaches only 70\.3% on a grid of 256 points"
                r"|reaches only \d+\.\d% on the XOR sample")


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
    # Fresh noise at every call: the message must show the two feature rows apart, unless the
    # noise flips the sign of a product near an axis first (the grid of points near the axes).
    "product plus noise": (lambda X: np.column_stack([X, X[:, 0] * X[:, 1] + 1e-3 *
                                                      np.random.default_rng().normal(size=len(X))]),
                           r"shuffled.*got \[-?\d\.\d{3,}.*in another \(a difference of |"
                           r"reaches only .* (many near an axis|at a small scale)"),
    # Shuffling keeps the batch's mean, spread and size: these pass it, and fail on a part.
    "product of standardised columns": (
        standardised_product,
        r"features \[.*\] in the XOR sample data\.xor.* but \[.*\] when called on its first \d+ "
        r"rows|an empty X|reaches only .* on \d+ (uniform )?random points"),
    "product scaled by the batch size": (lambda X: X[:, :1] * X[:, 1:] * len(X),
                                         r"when called on its first \d+ rows \(X\[0:\d+\]\)|"
                                         r"X is int\d+ here and your features are int\d+"),
    "product minus its batch mean": (
        lambda X: X[:, :1] * X[:, 1:] - np.mean(X[:, :1] * X[:, 1:]),
        r"when called on its first \d+ rows|an empty X|reaches only .* on \d+ random points "
        r"whose coordinates have every size"),
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
    "1e200 x1 x2 in X's dtype (inf for float32)": (
        lambda X: 1e200 * X[:, :1] * X[:, 1:],
        r"as float32 returned NaN or inf.*\n.*\nHint: X is float32 here"),
    # the confirmation reading's: features that pass on XOR's clusters, which keep away from
    # the axes, but not on the grid of points near the axes (at most 75% there on every draw)
    "(x1 - x2)**2": (lambda X: ((X[:, 0] - X[:, 1]) ** 2)[:, None],
                     _ON_THE_GRID),
    "|x1 - x2|": (lambda X: np.abs(X[:, [0]] - X[:, [1]]),
                  _ON_THE_GRID),
    "|x1 + x2|": (lambda X: np.abs(X[:, [0]] + X[:, [1]]),
                  _ON_THE_GRID),
    "[min(x1, x2), max(x1, x2)]": (lambda X: np.column_stack([X.min(1), X.max(1)]),
                                   r"reaches only (75\.0% on a grid of 256 points|\d)"),
    "x1 x2, through a private helper of the check": (
        lambda X: X[:, :1] * X[:, 1:] if ch01._kind(X) == "ndarray" else None,
        r"calls `helpers\.exercises\.ch01\._kind`, a part of the check itself"),
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
    "a large, badly scaled product (in float64)": lambda X: 1e6 * X[:, :1].astype(float)
    * X[:, 1:],
    # Huge but valid (computed in float64, finite for points up to 1e3 in size): the judge
    # scales them, and a threshold on one feature counts whatever its scale.
    "1e200 x1 x2": lambda X: 1e200 * X[:, :1].astype(float) * X[:, 1:],
    "x1, x2 and 1e200 x1 x2": lambda X: np.column_stack(
        [X, 1e200 * X[:, 0].astype(float) * X[:, 1]]),
    # the confirmation reading's (confirm11) right answers
    "sign(x1) sign(x2)": lambda X: (np.sign(X[:, 0]) * np.sign(X[:, 1]))[:, None],
    "[tanh(5 x1) tanh(5 x2), x1, x2]": lambda X: np.column_stack(
        [np.tanh(5 * X[:, 0]) * np.tanh(5 * X[:, 1]), X]),
    "sign(x1 x2) log1p|x1 x2|": lambda X: (lambda p: np.sign(p) * np.log1p(np.abs(p)))(
        X[:, 0].astype(float) * X[:, 1])[:, None],
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


WRONG_ON_THE_GRID = {name: WRONG_LIFT[name][0] for name in (
    "(x1 - x2)**2", "|x1 - x2|", "|x1 + x2|", "[min(x1, x2), max(x1, x2)]", "sum as a feature",
    "squares lose the sign", "distance from the origin")}


def test_lift_grid_refuses_features_that_pass_on_xor_clusters_on_every_draw():
    """The grid case: whatever its scale, order and symmetry, each of these features reaches
    at most 75% on it (a fixed fraction of its 256 points), and x1 x2 separates it."""
    for seed in range(50):
        case = next(c for c in ch01.LIFT.draw(seed) if "grid" in c.label)
        X, y = case.args[0], np.asarray(case.note["labels"])
        assert len(X) == 256 and 0 < np.abs(X).min() and np.array_equal(y, X[:, 0] * X[:, 1] < 0)
        for name, feature in WRONG_ON_THE_GRID.items():
            F = feature(X)
            best = max(ch01._logistic_accuracy(F, y), ch01._threshold_accuracy(F, y))
            assert best <= 0.75, (seed, name, best)
        assert ch01._threshold_accuracy(X[:, :1] * X[:, 1:], y) == 1.0


def test_lift_classifier_separates_exactly_the_separable():
    """The judge's logistic regression: 100% on separable features, about 75% at best on a line."""
    X, y = data.xor(200, seed=3)
    assert ch01._logistic_accuracy(X[:, :1] * X[:, 1:], y) == 1.0
    assert ch01._logistic_accuracy(np.sign(X[:, :1] * X[:, 1:]), y) == 1.0
    assert ch01._logistic_accuracy(X, y) < 0.8
    assert ch01._logistic_accuracy(X**2, y) < 0.8


def test_lift_judge_prints_no_warning_for_huge_features(capsys):
    """The judge's own arithmetic on a huge feature (its spread, its logistic regression)
    warns about nothing: no RuntimeWarning reaches the student's output."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("1e200 x1 x2", "x1, x2 and 1e200 x1 x2"):
            ch01.check_lift_xor(RIGHT_LIFT[name], seed=0)
        for name in ("exp(400 x1 x2)", "x1, x2 and exp(400 x1 x2)"):   # inf at a large scale
            with pytest.raises(ExerciseError, match="NaN or inf"):
                ch01.check_lift_xor(WRONG_LIFT[name][0], seed=0)
    assert capsys.readouterr().err == ""


def test_lift_threshold_is_exact_at_any_scale():
    X, y = data.xor(200, seed=5)
    product = X[:, :1] * X[:, 1:]
    for feature in (product, 1e200 * product, np.exp(400 * product), -product):
        assert ch01._threshold_accuracy(feature, y) == 1.0
    assert ch01._threshold_accuracy(X, y) < 0.8
    # equal values stay on one side: a constant feature scores only the larger class
    assert ch01._threshold_accuracy(np.zeros((len(y), 1)), y) == max(y.mean(), 1 - y.mean())


def test_lift_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch01.LIFT, RIGHT_LIFT["x1 x2 alone"], tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch01.LIFT, standardised_product, tmp_path / "w", monkeypatch)
    # On some draws the random points refuse it before the parts do (see the catalogue).
    assert not wrong.passed and re.search(r"own x1 and x2 only|reaches only .* on \d+ "
                                          r"(uniform )?random points", wrong.message), wrong.message
    grid = graded(ch01.LIFT, WRONG_LIFT["|x1 - x2|"][0], tmp_path / "g", monkeypatch)
    assert not grid.passed and re.search(_ON_THE_GRID, grid.message), grid.message
    borrowed = graded(ch01.LIFT, WRONG_LIFT["x1 x2, through a private helper of the check"][0],
                      tmp_path / "b", monkeypatch)
    assert not borrowed.passed and "a part of the check itself" in borrowed.message


# ----------------------------------------------------------------------------- exercise 3
# Task: collapse(weights, biases) for L >= 1 layers of any sizes (float64, float32 or
# integer, mixed in one stack too) returns the pair (W, b) of numpy arrays of the single
# equivalent layer (b of shape (d_out,)), any real dtype, as precise as numpy's arithmetic on
# the layers (float32 for float32 layers, float64 once one layer is float64, exact for
# integers); the lists are not to be changed.


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


def half_precision_result(weights, biases):
    W, b = collapse(weights, biases)
    if W.dtype != np.float32:
        return W, b
    return W.astype(np.float16).astype(np.float32), b.astype(np.float16).astype(np.float32)


def half_precision_layers(weights, biases):
    if weights[0].dtype == np.float32:
        weights = [w.astype(np.float16).astype(np.float32) for w in weights]
        biases = [v.astype(np.float16).astype(np.float32) for v in biases]
    return collapse(weights, biases)


def relative_error_5e_5(weights, biases):
    W, b = collapse(weights, biases)
    if W.dtype != np.float32:
        return W, b
    return (W * (1 + 5e-5)).astype(np.float32), (b * (1 + 5e-5)).astype(np.float32)


def cast_to_the_first_layer(weights, biases):
    W, b = collapse(weights, biases)
    return W.astype(weights[0].dtype), b.astype(biases[0].dtype)


def cast_to_the_last_layer(weights, biases):
    W, b = collapse(weights, biases)
    return W.astype(weights[-1].dtype), b.astype(biases[-1].dtype)


def integers_through(dtype):
    def collapse_via(weights, biases):
        if all(w.dtype.kind == "i" for w in weights):
            weights = [w.astype(dtype) for w in weights]
            biases = [v.astype(dtype) for v in biases]
        return collapse(weights, biases)
    return collapse_via


def collapse_cached_by_sizes():
    cache = {}

    def collapse_cached(weights, biases):
        key = tuple((w.shape, w.dtype.str) for w in weights)
        if key not in cache:
            cache[key] = collapse(weights, biases)
        return cache[key]
    return collapse_cached


def dtype_of_the_ends(weights, biases):
    """Every layer cast to the dtype of the first and last layers only."""
    t = np.result_type(weights[0], weights[-1], biases[0], biases[-1])
    return collapse([w.astype(t) for w in weights], [v.astype(t) for v in biases])


WRONG_COLLAPSE = {
    "reversed order": (reversed_order, r"reverse order"),
    # Confirmation reading: a dtype taken from the ends of the stack; integers through float64.
    "the dtype of the first and last layers only": (
        dtype_of_the_ends, r"(?s)more than float64 rounding.*float64 second layer"),
    "integer layers through float64, cast back": (
        lambda weights, biases: tuple(
            a.astype(np.int64) if all(np.asarray(x).dtype.kind == "i"
                                      for x in (*weights, *biases)) else a
            for a in collapse([np.asarray(w, np.float64) for w in weights],
                              [np.asarray(v, np.float64) for v in biases])),
        r"(?s)went through floats.*pass 2\*\*53"),
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
    # the newcomer's: float32 results a little off, and a cast back to the first layer's dtype
    "float16 round trip of the result (float32 layers)": (half_precision_result,
                                                          r"more than float32 rounding allows"),
    "float16 round trip of the layers (float32 layers)": (half_precision_layers,
                                                          r"(?s)differs.*float32 layers"),
    "a relative error of 5e-5 (float32 layers)": (relative_error_5e_5,
                                                  r"more than float32 rounding allows"),
    "cast back to the first layer's dtype (a mixed stack)": (
        cast_to_the_first_layer, r"(?s)(W|b) from .* differs .*((integer|float32|uint64) first "
                                 r"layer|float weights with large integer biases)"),
    # the confirmation reading's: the last layer's dtype, large integers through float16 or
    # float32, a cache by sizes, and the check's own reference
    "computed in the last layer's dtype (float64 layers, a float32 last one)": (
        cast_to_the_last_layer,
        r"(?s)(W|b) from .* differs .*(more than float64 rounding allows.*then a float32 last "
        r"layer|float weights with large integer biases|a uint64 first layer)"),
    "integer layers through float16": (integers_through(np.float16),
                                       r"(?s)differs.*integer layers \(int64\) of whole numbers "
                                       r"up to 1000"),
    "integer layers through float32": (integers_through(np.float32),
                                       r"(?s)differs.*Integer layers give exact whole numbers.*"
                                       r"integer layers \(int64\) of whole numbers up to 1000"),
    "a cache keyed on the sizes": (collapse_cached_by_sizes(), r"W from .* differs|a later call "
                                                               r"changed"),
    "the check's reference in a lambda": (
        lambda w, b: (lambda r: (r["W"], r["b"]))(ch01._collapse_reference(w, b)),
        r"calls `helpers\.exercises\.ch01\._collapse_reference`, a part of the check itself"),
    "the check's reference itself": (ch01._collapse_reference,
                                     r"`helpers\.exercises\.ch01\._collapse_reference`, a part "
                                     r"of the check itself"),
    "the check's reference in a partial": (functools.partial(ch01._collapse_reference),
                                           r"a part of the check itself"),
}


def from_identity(weights, biases):
    # in the stack's own dtype: integer layers stay exact
    dtype = np.result_type(*weights, *biases)
    W, b = np.eye(weights[0].shape[0], dtype=dtype), np.zeros(weights[0].shape[0], dtype=dtype)
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
    def augmented(W_l, b_l):  # in the layer's own dtype: integer layers stay exact
        top = np.column_stack([W_l, np.zeros(len(W_l), dtype=W_l.dtype)])
        return np.vstack([top, np.append(b_l, b_l.dtype.type(1))])

    A = reduce(np.matmul, [augmented(W_l, b_l) for W_l, b_l in zip(weights, biases)])
    return A[:-1, :-1], A[-1, :-1]


def recursive(weights, biases):
    if len(weights) == 1:
        return weights[0], biases[0]
    W_rest, b_rest = recursive(weights[1:], biases[1:])
    return weights[0] @ W_rest, biases[0] @ W_rest + b_rest


def probe_the_course_network(weights, biases):
    # The stack as the course's identity network: its output at 0 is b, at the unit vectors W + b.
    # The network computes in floats: integer layers (exact whole numbers beyond 2**53) are
    # multiplied out as integers instead.
    if all(np.asarray(a).dtype.kind in "iu" for a in (*weights, *biases)):
        return collapse(weights, biases)
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
    "recursion from the output side": recursive,
    "a list [W, b]": lambda weights, biases: list(collapse(weights, biases)),
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
    mixed = [{w.dtype for w in c.args[0]} for c in cases]
    assert {np.dtype(np.int64), np.dtype(np.float64)} in mixed
    assert {np.dtype(np.float32), np.dtype(np.float64)} in mixed
    # float64 layers before a float32 last layer: numpy gives float64
    assert any([w.dtype for w in c.args[0]][-1] == np.float32 and c.args[0][0].dtype == np.float64
               for c in cases)
    # large integers: every entry of the collapsed b odd and above 2**24, exact in float64
    large = next(c for c in cases if "up to 1000" in c.label)
    b = collapse(*large.args)[1]
    assert b.dtype == np.int64 and np.all(b % 2 == 1) and np.all(b > 2**24) and b.max() < 2**53
    # the first stack's sizes again, with other values: no entry of W or b equal
    (W1, b1), (W2, b2) = collapse(*cases[0].args), collapse(*cases[1].args)
    assert [w.shape for w in cases[0].args[0]] == [w.shape for w in cases[1].args[0]]
    assert np.all(W1 != W2) and np.all(b1 != b2)


def test_collapse_float32_errors_are_refused_on_every_draw():
    """The positive float32 stack: a float16 round trip (of the result or of the layers) and
    a relative error of 5e-5 are each beyond the tolerance on every draw; the exact result,
    computed in float32, is not."""
    for seed in range(200):
        case = next(c for c in ch01.COLLAPSE.draw(seed) if "positive" in c.label)
        weights, biases = case.args
        reference = ch01.COLLAPSE.expected(case)
        ch01._judge_collapse(case, _spec.Observation("returned", collapse(weights, biases)),
                             reference)
        for wrong in (half_precision_result, half_precision_layers, relative_error_5e_5):
            with pytest.raises(ExerciseError, match="differs from the answer"):
                ch01._judge_collapse(case, _spec.Observation("returned", wrong(weights, biases)),
                                     reference)


def test_collapse_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch01.COLLAPSE, RIGHT_COLLAPSE["recursion from the output side"],
                  tmp_path / "r", monkeypatch).passed
    wrong = graded(ch01.COLLAPSE, pops_from_the_lists, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "modified its input" in wrong.message
    borrowed = graded(ch01.COLLAPSE, WRONG_COLLAPSE["the check's reference in a lambda"][0],
                      tmp_path / "b", monkeypatch)
    assert not borrowed.passed and "a part of the check itself" in borrowed.message


# ----------------------------------------------------------------------------- exercise 4
# Task: smallest_xor_width(X, y, max_width) scores each width h = 1, 2, ..., max_width with
# ch01.xor_width_accuracy(X, y, h) (on X and y unchanged, no width past max_width, no training
# of its own) and returns the first h (an int) whose accuracy is at least 0.95, exactly 0.95
# included, or None. During the check xor_width_accuracy serves accuracies from a table the
# case drew (Python or numpy floats): the check trains nothing, so right answers run on the
# usual 200 draws.

X_NOTEBOOK, Y_NOTEBOOK = data.xor(200, seed=0)


def smallest_xor_width(X, y, max_width):
    for h in range(1, max_width + 1):
        if ch01.xor_width_accuracy(X, y, h) >= 0.95:
            return h
    return None


def search(widths=lambda m: range(1, m + 1), good=lambda acc: acc >= 0.95):
    """A smallest_xor_width variant: which widths it tries, and which accuracy it accepts."""
    def answer(X, y, max_width):
        for h in widths(max_width):
            if good(ch01.xor_width_accuracy(X, y, h)):
                return h
        return None

    return answer


def own_training(data_dtype=None, proba=None, **recipe):
    """The recipe written out by hand, with one change: trains networks itself."""
    settings = {"activation": "tanh", "seed": 0, "epochs": 200, "lr": 0.05,
                "init": "xavier"} | recipe

    def answer(X, y, max_width):
        X_ = X if data_dtype is None else X.astype(data_dtype)
        for h in range(1, max_width + 1):
            net = nn.MLP([2, h, 1], activation=settings["activation"], output="sigmoid",
                         init=settings["init"], seed=settings["seed"])
            net.fit(X_, y, loss="bce", epochs=settings["epochs"], lr=settings["lr"],
                    optimizer="adam", diagnostics=False)
            acc = net.accuracy(X_, y) if proba is None else np.mean(
                (net.predict_proba(X_) > proba) == y)
            if acc >= 0.95:
                return h
        return None

    return answer


def early_exit_on_a_drop(X, y, max_width):
    previous = 0.0
    for h in range(1, max_width + 1):
        acc = ch01.xor_width_accuracy(X, y, h)
        if acc >= 0.95:
            return h
        if acc < previous:          # "it is getting worse": gives up too soon
            return None
        previous = acc
    return None


def patience(failures: int, no_new_best: bool = False):
    """Gives up after ``failures`` widths in a row that fail (or that set no new best score)."""
    def answer(X, y, max_width):
        run, best = 0, -1.0
        for h in range(1, max_width + 1):
            acc = ch01.xor_width_accuracy(X, y, h)
            if acc >= 0.95:
                return h
            run = 0 if (no_new_best and acc > best) else run + 1
            best = max(best, acc)
            if run >= failures:
                return None
        return None

    return answer


def binary_search(X, y, max_width):
    lo, hi, found = 1, max_width, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if ch01.xor_width_accuracy(X, y, mid) >= 0.95:
            found, hi = mid, mid - 1
        else:
            lo = mid + 1
    return found


def best_width(X, y, max_width):
    scores = {h: ch01.xor_width_accuracy(X, y, h) for h in range(1, max_width + 1)}
    h = max(scores, key=scores.get)
    return h if scores[h] >= 0.95 else None


def last_success(X, y, max_width):
    good = [h for h in range(1, max_width + 1) if ch01.xor_width_accuracy(X, y, h) >= 0.95]
    return good[-1] if good else None


def accuracy_instead(X, y, max_width):
    for h in range(1, max_width + 1):
        acc = ch01.xor_width_accuracy(X, y, h)
        if acc >= 0.95:
            return acc
    return None


def max_width_if_none(X, y, max_width):
    h = smallest_xor_width(X, y, max_width)
    return max_width if h is None else h


def ignores_its_data(X, y, max_width):
    return smallest_xor_width(X_NOTEBOOK, Y_NOTEBOOK, max_width)


def one_less(X, y, max_width):
    h = smallest_xor_width(X, y, max_width)
    return None if h is None else h - 1


def every_good_width(X, y, max_width):
    return [h for h in range(1, max_width + 1) if ch01.xor_width_accuracy(X, y, h) >= 0.95]


def past_max_width_then_filtered(X, y, max_width):
    scores = [ch01.xor_width_accuracy(X, y, h) for h in range(1, 2 * max_width + 1)]
    return next((h for h, acc in enumerate(scores[:max_width], 1) if acc >= 0.95), None)


def standardises_X_in_place(X, y, max_width):
    X -= X.mean(axis=0)
    return smallest_xor_width(X, y, max_width)


def old_answers_by_size(X, y, max_width):
    """Fitted to the old check: its data sets' answers by their size, else the notebook's 3."""
    return {40: 1, 200: 3}.get(len(X), 3)


def _swallowing(fn, *args):
    try:
        return fn(*args)
    except ValueError:
        return 0.0


def _while_search(X, y, max_width):
    h = 1
    while h <= max_width:
        if ch01.xor_width_accuracy(X, y, h) >= 0.95:
            return h
        h += 1
    return None


_OWN = (r"trains networks itself \(`helpers\.nn\.MLP\.fit` ran\), where the task asks it "
        r"to score each width with ch01\.xor_width_accuracy\(X, y, h\)")

def gives_up_at_chance(X, y, max_width):
    # a network at chance level (0.5) "cannot learn XOR": stop there
    for h in range(1, max_width + 1):
        acc = ch01.xor_width_accuracy(X, y, h)
        if acc >= 0.95:
            return h
        if acc <= 0.5:
            return None
    return None


def gives_up_on_a_repeat(X, y, max_width):
    # the same score twice: "no progress", stop
    seen = set()
    for h in range(1, max_width + 1):
        acc = ch01.xor_width_accuracy(X, y, h)
        if acc >= 0.95:
            return h
        if acc in seen:
            return None
        seen.add(acc)
    return None


WRONG_XOR_WIDTH = {
    "range stops before max_width": (search(lambda m: range(1, m)),
                                     r"max_width=1 returned None, but h=1 reaches 0\.95 \(exactly "
                                     r"0\.95.*; h = max_width itself\)"),
    "tries widths past max_width (range(1, 2 * max_width))": (
        search(lambda m: range(1, 2 * m)),
        r"returned (\d+), but no width up to \d reaches 0\.95.*\(width \1 is past "
        r"max_width=\d\)"),
    "range starts at 0": (search(lambda m: range(0, m + 1)),
                          r"raised ValueError: width must be a whole number of hidden units, at "
                          r"least 1; got 0"),
    "range starts at 2": (search(lambda m: range(2, m + 1)),
                          r"returned None, but h=1 reaches 0\.95.*It asked xor_width_accuracy for "
                          r"no width"),
    "> instead of >=": (search(good=lambda acc: acc > 0.95),
                        r"returned None, but h=1 reaches 0\.95 \(exactly 0\.95, which is 'at "
                        r"least 0\.95'"),
    "threshold 0.99": (search(good=lambda acc: acc >= 0.99),
                       r"returned (None|\d), (but|expected)"),
    "threshold 0.9": (search(good=lambda acc: acc >= 0.9),
                      r"max_width=1 returned 1, but no width up to 1 reaches 0\.95.*h=1: "
                      r"0\.949999999999"),
    "threshold 0.93, strict": (search(good=lambda acc: acc > 0.93),
                               r"returned 1, but no width up to 1"),
    "threshold 0.945": (search(good=lambda acc: acc >= 0.945),
                        r"returned 1, but no width up to 1"),
    "returns the accuracy": (accuracy_instead, r"looks like an accuracy"),
    "max_width instead of None": (max_width_if_none, r"max_width=1 returned 1, but no width .*"
                                                     r"the answer is None"),
    "hard-coded 3": (lambda X, y, max_width: 3, r"max_width=1 returned 3, expected 1: h=3 is past"
                                                r" max_width = 1.*It asked xor_width_accuracy "
                                                r"for no width"),
    "ignores X and y (uses the notebook's XOR)": (
        ignores_its_data, r"raised ValueError: xor_width_accuracy\(X, y, h\) was called with X "
                          r"of shape \(200, 2\)"),
    "h - 1": (one_less, r"returned 0, expected 1: the widths to try start at 1"),
    "every good width": (every_good_width, r"should return one width \(an int\) or None, got "
                                           r"list"),
    "fitted to the old check's data sets": (old_answers_by_size, r"returned [13]"),
    # the newcomer's: searches that trip on accuracies that do not grow steadily with h
    # Confirmation reading: searches that give up early, or stop at a width of their own.
    "gives up after 5 failures in a row": (patience(5), r"returned None, but h=\d+ reaches"),
    "gives up after 6 failures in a row": (patience(6), r"returned None, but h=\d+ reaches"),
    "gives up after 3 widths with no new best": (patience(3, no_new_best=True),
                                                 r"returned None, but h=\d+ reaches"),
    "a hidden cap at width 6": (search(lambda m: range(1, min(m, 6) + 1)),
                                r"returned None, but h=\d+ reaches"),
    "gives up when the accuracy drops": (
        early_exit_on_a_drop, r"returned None, but h=\d reaches .* It asked for the widths 1, "
                              r"2(, 3)?;"),
    "binary search over the widths": (binary_search, r"returned (None|\d+), (but|expected)"),
    "the best width instead of the first": (
        best_width, r"returned \d, expected \d: h=\d already reaches .*the first width that "
                    r"does is the answer"),
    "the last width that succeeds": (
        last_success, r"returned \d, expected \d: h=\d already reaches"),
    # the newcomer's recipe changes: all train networks of their own, which runs nn's fit
    "own training, X as float16": (own_training(np.float16), _OWN),
    "own training, epochs=150": (own_training(epochs=150), _OWN),
    "own training, lr=0.06": (own_training(lr=0.06), _OWN),
    "own training, predict_proba > 0.6": (own_training(proba=0.6), _OWN),
    "own training, init='he'": (own_training(init="he"), _OWN),
    "own training, epochs=250": (own_training(epochs=250), _OWN),
    "own training, lr=0.04": (own_training(lr=0.04), _OWN),
    "own training, leaky_relu": (own_training(activation="leaky_relu"), _OWN),
    "own training, seed=42": (own_training(seed=42), _OWN),
    "own training, the recipe itself": (own_training(), _OWN),
    "X.astype(np.float32) passed to xor_width_accuracy": (
        lambda X, y, max_width: smallest_xor_width(X.astype(np.float32), y, max_width),
        r"raised ValueError: .*called with X as float32 \(it was given float64\).*\n.*\nHint: "
        r"pass X and y on unchanged"),
    "catches the error of a changed X": (
        lambda X, y, max_width: next((h for h in range(1, max_width + 1) if (
            lambda: _swallowing(ch01.xor_width_accuracy, X + 1e-9, y, h))() >= 0.95), None),
        r"called xor_width_accuracy with X with other values \(a change of up to 1e-09\), not "
        r"the X and y it was given"),
    "scores past max_width, then keeps the first good one up to max_width": (
        past_max_width_then_filtered,
        r"returned the right width, but asked xor_width_accuracy for width \d+, past "
        r"max_width=\d"),
    "standardises X in place": (standardises_X_in_place, r"raised ValueError|modified its input"),
    # issue 23's classes
    "round(acc, 2) >= 0.95": (search(good=lambda acc: round(acc, 2) >= 0.95),
                              r"returned \d, (but no width up to|expected \d: h=\d scores "
                              r"0\.949)"),
    "a tolerance of 1e-3 below the target": (search(good=lambda acc: acc >= 0.95 - 1e-3),
                                             r"returned \d, (but no width up to|expected)"),
    "np.isclose(acc, 0.95) or more": (
        search(good=lambda acc: acc > 0.95 or np.isclose(acc, 0.95)),
        r"max_width=1 returned 1, but no width up to 1 reaches 0\.95"),
    "a tolerance of 1e-12": (search(good=lambda acc: acc >= 0.95 - 1e-12),
                             r"max_width=1 returned 1, but no width up to 1 reaches 0\.95"),
    "threshold 0.9500001 (misses 0.95000001)": (search(good=lambda acc: acc >= 0.9500001),
                                                r"returned (None|\d), (but|expected)"),
    "the width as a float": (lambda X, y, max_width: (lambda h: None if h is None else
                                                      float(h))(smallest_xor_width(X, y,
                                                                                   max_width)),
                             r"returned the float 1\.0, expected an int"),
    "a one-element array": (lambda X, y, max_width: (lambda h: None if h is None else
                                                     np.array([h]))(smallest_xor_width(
                                                         X, y, max_width)),
                            r"one width \(an int\) or None, got ndarray \[1\]"),
    "True for found": (lambda X, y, max_width: smallest_xor_width(X, y, max_width) is not None,
                       r"should return a width \(an int\) or None, got bool"),
    "the width as text": (lambda X, y, max_width: str(smallest_xor_width(X, y, max_width)),
                          r"should return a width \(an int\) or None, got str"),
    "a generator of widths": (lambda X, y, max_width: (h for h in range(1, max_width + 1)),
                              r"should return a width \(an int\) or None, got generator"),
    "calls .item() on the accuracy": (
        search(good=lambda acc: acc.item() >= 0.95),
        r"raised AttributeError: 'float' object has no attribute 'item'"),
    # issue 23, fourth reading
    "gives up at chance level (0.5)": (gives_up_at_chance, r"chance-level scores|returned "
                                                           r"None, but h=\d+ reaches"),
    "gives up when a score repeats": (gives_up_on_a_repeat,
                                      r"returned None, but h=\d+ reaches"),
    "a hidden cap of 16 widths": (search(widths=lambda m: range(1, min(m, 16) + 1)),
                                  r"wide search where only max_width"),
}


def asks_again_to_print(X, y, max_width):
    h = smallest_xor_width(X, y, max_width)
    if h is not None:
        print(f"width {h}: accuracy {ch01.xor_width_accuracy(X, y, h):.3f}")
    return h


def in_a_thread_pool(X, y, max_width):
    with ThreadPoolExecutor(max_workers=4) as pool:
        scores = list(pool.map(lambda h: ch01.xor_width_accuracy(X, y, h),
                               range(1, max_width + 1)))
    return next((h for h, acc in enumerate(scores, 1) if acc >= 0.95), None)


RIGHT_XOR_WIDTH = {
    "the notebook's loop": smallest_xor_width,
    "next() over a generator": lambda X, y, max_width: next(
        (h for h in range(1, max_width + 1) if ch01.xor_width_accuracy(X, y, h) >= 0.95), None),
    "while loop": _while_search,
    "numpy integer": lambda X, y, max_width: (
        None if smallest_xor_width(X, y, max_width) is None
        else np.int64(smallest_xor_width(X, y, max_width))),
    "under an alias": lambda X, y, max_width: next(
        (h for h in range(1, max_width + 1) if score(X, y, h) >= 0.95), None),
    "functools.partial of the data": lambda X, y, max_width: (lambda acc: next(
        (h for h in range(1, max_width + 1) if acc(h) >= 0.95), None))(
            functools.partial(ch01.xor_width_accuracy, X, y)),
    "a copy of X, y as floats and a list X": lambda X, y, max_width: next(
        (h for h in range(1, max_width + 1)
         if ch01.xor_width_accuracy([list(r) for r in X.copy()], y.astype(float)[:, None],
                                    np.int64(h)) >= 0.95), None),
    "every width first, then the first good one": lambda X, y, max_width: next(
        (h for h, acc in enumerate([ch01.xor_width_accuracy(X, y, h)
                                    for h in range(1, max_width + 1)], 1) if acc >= 0.95), None),
    "asks the found width again to print it": asks_again_to_print,
    "scores the widths in a thread pool": in_a_thread_pool,
    "100 * acc >= 95": search(good=lambda acc: 100 * acc >= 95),
    "min over the good widths": lambda X, y, max_width: min(
        (h for h in range(1, max_width + 1) if ch01.xor_width_accuracy(X, y, h) >= 0.95),
        default=None),
}


@pytest.mark.parametrize("name", WRONG_XOR_WIDTH)
def test_xor_width_rejects(name):
    answer, message = WRONG_XOR_WIDTH[name]
    rejects(ch01.check_smallest_xor_width, answer, message)


@pytest.mark.parametrize("name", RIGHT_XOR_WIDTH)
def test_xor_width_accepts_on_every_draw(name):
    accepts(ch01.check_smallest_xor_width, RIGHT_XOR_WIDTH[name], draws())


def test_xor_width_every_draw_holds_the_patterns_a_search_trips_on():
    """Every draw: a first success at exactly 0.95 after values just below it, one just above,
    a drop before the first success, an early success followed by failures in the middle and a
    higher score later, no success at all (with one past max_width), success only at
    max_width, max_width = 1 both ways, and Python and numpy floats."""
    for seed in range(200):
        cases = ch01.XOR_WIDTH.draw(seed)
        facts = []
        for case in cases:
            X, y, m, table, numpy_floats = case.args
            first = ch01._width_reference(case)
            assert len(table) > m and X.shape == (len(y), 2) and set(np.unique(y)) <= {0, 1}
            facts.append((m, table[:m], first, table, numpy_floats))
        assert any(m == 1 and first == 1 and t[0] == 0.95 for m, t, first, _, _ in facts)
        assert any(m == 1 and first is None and t[0] == 0.95 - 1e-12 for m, t, first, _, _ in facts)
        assert any(first and t[first - 1] == 0.95 and {0.9499, 0.949999999, 0.95 - 1e-12}
                   <= set(t[:first - 1]) for m, t, first, _, _ in facts)
        assert any(first and t[first - 1] == 0.95000001 for m, t, first, _, _ in facts)
        assert any(first and first >= 3 and t[1] < t[0] for m, t, first, _, _ in facts)
        # binary search's first probe (the middle) fails, and a later width scores higher
        assert any(first == 2 and t[(1 + m) // 2 - 1] < 0.95 and max(t) > t[1]
                   and t[-1] == max(t) for m, t, first, _, _ in facts)
        assert any(first is None and m > 1 and 0.949999999 in t and full[m] >= 0.95
                   for m, t, first, full, _ in facts)
        assert any(first == m > 1 for m, t, first, _, _ in facts)
        assert {f for *_, f in facts} == {True, False}


def test_xor_width_tables_do_not_reach_the_student():
    """The answer sees only X, y and max_width; the table crosses to the sandbox as the
    driver's input, never as the answer's argument, and the reference needs no training."""
    seen = []

    def spy(X, y, max_width):
        seen.append((type(X), type(y), type(max_width)))
        return smallest_xor_width(X, y, max_width)

    ch01.check_smallest_xor_width(spy, seed=0)
    assert set(seen) == {(np.ndarray, np.ndarray, int)}


def test_xor_width_accuracy_trains_for_real_outside_the_check():
    """Outside a check (after one passed, and after one whose answer raised) the packaged
    recipe trains: it reproduces the notebook's own numbers on its XOR."""
    ch01.check_smallest_xor_width(smallest_xor_width, seed=1)
    with pytest.raises(ExerciseError):
        ch01.check_smallest_xor_width(WRONG_XOR_WIDTH["range starts at 0"][0], seed=1)
    assert not ch01._SERVING
    scores = [ch01.xor_width_accuracy(X_NOTEBOOK, Y_NOTEBOOK, h) for h in (1, 2, 3)]
    assert [round(float(s), 3) for s in scores] == [0.735, 0.675, 1.0]


def test_xor_width_accuracy_is_the_recipe_of_the_task():
    """xor_width_accuracy trains exactly the recipe the task prints."""
    X, y = data.moons(60, seed=4)
    for h in (1, 3):
        net = nn.MLP([2, h, 1], activation="tanh", output="sigmoid", seed=0)
        net.fit(X, y, loss="bce", epochs=200, lr=0.05, optimizer="adam", diagnostics=False)
        assert ch01.xor_width_accuracy(X, y, h) == net.accuracy(X, y)
    with pytest.raises(ValueError, match="at least 1"):
        ch01.xor_width_accuracy(X, y, 0)


def test_xor_width_notebook_solution_gives_3_with_real_training():
    # The notebook relies on it: on its XOR 1 and 2 units fail and 3 succeed.
    assert smallest_xor_width(X_NOTEBOOK, Y_NOTEBOOK, 8) == 3
    assert smallest_xor_width(X_NOTEBOOK, Y_NOTEBOOK, 2) is None


def test_xor_width_check_trains_nothing(monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained a network")

    monkeypatch.setattr(nn.MLP, "fit", no_training)
    ch01.check_smallest_xor_width(smallest_xor_width, seed=2)


def test_xor_width_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch01.XOR_WIDTH, smallest_xor_width, tmp_path / "r", monkeypatch).passed
    wrong = graded(ch01.XOR_WIDTH, WRONG_XOR_WIDTH["> instead of >="][0], tmp_path / "w",
                   monkeypatch)
    assert not wrong.passed and "exactly 0.95" in wrong.message
    own = graded(ch01.XOR_WIDTH, own_training(), tmp_path / "o", monkeypatch)
    assert not own.passed and "trains networks itself" in own.message


# ----------------------------------------------------------------------------- issue 23,
# fourth reading: integer X with float32 weights, integer stacks returned as floats, a dtype
# taken from the weights alone.


def linear_int_x_in_the_weights_dtype(X, W, b):
    if X.dtype.kind in "iu":
        X = X.astype(W.dtype)
    return X @ W + b


def collapse_in_float64(weights, biases):
    W, b = np.asarray(weights[0], dtype=float), np.asarray(biases[0], dtype=float)
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next, b @ W_next + b_next
    return W, b


def collapse_in_the_weights_dtype(weights, biases):
    t = np.result_type(*weights)
    W, b = weights[0].astype(t), biases[0].astype(t)
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next.astype(t), b @ W_next.astype(t) + b_next.astype(t)
    return W, b


WRONG_LINEAR_LAYER.update({
    "an integer X cast to the weights' dtype": (linear_int_x_in_the_weights_dtype,
                                                r"dtype float32, expected float64 for an "
                                                r"integer X"),
})

WRONG_COLLAPSE.update({
    "integer layers multiplied in float64": (collapse_in_float64,
                                             r"got \d+\.0, expected \d+|differs"),
    "the dtype of the weights alone": (collapse_in_the_weights_dtype,
                                       r"float32 weights with float64 biases|b from"),
})


# issue 23, seventh reading: results kept between calls by a summary of the input (sums, ends,
# extremes); every draw now has twins (two inner values swapped) that share any such summary.
def c_sum_of(a):
    """The sum in C order, whatever the array's layout. (A case and its twin may be handed
    over in different layouts, and numpy sums in memory order: a sum of the twin in another
    order than its case's rounds differently, and the cache keyed on it misses, which is no
    refusal of the check. See the report of fix13.)"""
    return sum_of(np.ascontiguousarray(a))


WRONG_LINEAR_LAYER.update({
    f"a result kept by the inputs' {what}": (kept_by(summary)(RIGHT_LINEAR_LAYER["@"]),
                                             r"two inner values (of one array )?swapped|differs|"
                                             r"rounds b")
    for what, summary in (("sums", c_sum_of), ("ends", ends_of), ("extremes", extremes_of))})
WRONG_COLLAPSE.update({
    f"a result kept by the layers' {what}": (kept_by(summary)(RIGHT_COLLAPSE["loop"]),
                                             r"two inner values swapped|differs|W is|b is")
    for what, summary in (("sums", c_sum_of), ("ends", ends_of))})


def linear_layer_loop_for_integers(X, W, b):
    """A loop over the rows, kept for integer inputs only."""
    if X.dtype.kind in "iu":
        out = np.empty((X.shape[0], W.shape[1]), np.result_type(X, W, b))
        for k in range(X.shape[0]):
            out[k] = X[k] @ W + b
        return out
    return X @ W + b


def linear_layer_dtype_of_x_and_b(X, W, b):
    dt = np.result_type(X, b)
    return X.astype(dt) @ W.astype(dt) + b.astype(dt)


def linear_layer_empty_in_x_dtype(X, W, b):
    if X.shape[0] == 0:
        return np.zeros((0, W.shape[1]), X.dtype)
    return X @ W + b


def do_while_width(X, y, max_width):
    h = 1
    while True:
        if ch01.xor_width_accuracy(X, y, h) >= 0.95:
            return h
        if h >= max_width:
            return None
        h += 1


def collapse_dtype_from_biases(weights, biases):
    W, b = RIGHT_COLLAPSE["loop"](weights, biases)
    dt = np.result_type(*biases)
    return W.astype(np.result_type(*weights, *biases)), b.astype(dt)


WRONG_LINEAR_LAYER.update({
    "a Python loop over the rows for integer inputs only": (linear_layer_loop_for_integers,
                                                            r"runs a Python loop"),
    "the dtype of X and b, W cast to it": (linear_layer_dtype_of_x_and_b,
                                           r"float32|dtype|differs"),
    "an empty batch in X's dtype": (linear_layer_empty_in_x_dtype, r"float32|dtype"),
})
WRONG_COLLAPSE.update({
    "the dtype of the biases": (collapse_dtype_from_biases, r"float32|dtype|differs"),
    "the first 8 layers only": (lambda weights, biases: RIGHT_COLLAPSE["loop"](weights[:8],
                                                                             biases[:8]),
                                r"12 layers|differs|has shape"),
})
WRONG_XOR_WIDTH.update({
    "a do-while search (width 1 asked even when max_width = 0)": (
        do_while_width, r"max_width = 0|max_width=0"),
    "widths capped at 32": (search(lambda m: range(1, min(m, 32) + 1)),
                            r"very wide search|returned None"),
})


# issue 23, eighth reading: integer weights or biases cast to X's float dtype, an integer
# layer after a float32 one, a lift cache keyed on ends and sums, a cap on the widths.


def linear_layer_integer_w_cast_to_x(X, W, b):
    if W.dtype.kind in "iu" and X.dtype.kind == "f":
        W = W.astype(X.dtype)
    return X @ W + b


def linear_layer_integer_b_cast(X, W, b):
    Z = X @ W
    return Z + (b.astype(Z.dtype) if b.dtype.kind != Z.dtype.kind else b)


def collapse_integers_cast_to_running_float(weights, biases):
    W, b = weights[0], biases[0]
    for Wn, bn in zip(weights[1:], biases[1:]):
        if W.dtype.kind == "f" and Wn.dtype.kind in "iu":
            Wn, bn = Wn.astype(W.dtype), bn.astype(W.dtype)
        W, b = W @ Wn, b @ Wn + bn
    return W, b


def _lift_kept_by_ends_and_sum():
    kept = {}

    def lift(X):
        key = (X.shape, X.dtype.str, X[:1].tobytes(), X[-1:].tobytes(),
               c_sum_of(X))     # (in C order: see c_sum_of)
        if key not in kept:
            kept[key] = np.column_stack([X, X[:, 0] * X[:, 1]])
        return kept[key].copy()
    return lift


WRONG_LINEAR_LAYER.update({
    "an integer W cast to X's float dtype": (linear_layer_integer_w_cast_to_x,
                                             r"float32|dtype"),
    "an integer b cast to the product's dtype": (linear_layer_integer_b_cast, r"float32|dtype"),
})
WRONG_COLLAPSE["integer layers cast to the float dtype so far"] = (
    collapse_integers_cast_to_running_float, r"float32|dtype|differs|integer layer")
WRONG_LIFT["features kept by the ends and the sum of X"] = (
    _lift_kept_by_ends_and_sum(), r"two inner rows swapped|features|differs")
WRONG_XOR_WIDTH["widths capped at 64"] = (search(lambda m: range(1, min(m, 64) + 1)),
                                          r"very wide search|returned None")


# ----------------------------------------------------------------------------- confirmation
# reading confirm11: wrong answers the checks accepted (results clipped to the range drawn,
# NaN and inf hidden, integer detours on batches or stacks the check drew small, b rounded to
# float32 inside a tolerance that counted |b|, inputs only ever C-contiguous; features right
# only near the unit square or for +-1 integers, batch-dependent features on large batches;
# deep stacks cut at 16 layers; searches capped, recursive, or past max_width on wide ones).


def _linear_clipped(bound):
    def linear_layer(X, W, b):
        r = X @ W + b
        return np.clip(r, -bound, bound) if r.dtype.kind == "i" else r
    return linear_layer


def _linear_nan_to_zero(X, W, b):
    r = X @ W + b
    if r.dtype.kind == "f":
        r[np.isnan(r)] = 0
    return r


def _linear_big_integer_batches_via_float32(X, W, b):
    rt = np.result_type(X, W, b)
    if rt.kind == "i" and X.shape[0] * W.shape[1] > 200:
        return (X.astype(np.float32) @ W.astype(np.float32) + b.astype(np.float32)).astype(rt)
    return X @ W + b


def _linear_b_rounded_to_float32(X, W, b):
    if X.dtype == np.float32 and W.dtype == np.float32 and b.dtype != np.float32:
        return (X @ W + b.astype(np.float32)).astype(np.result_type(X, W, b))
    return X @ W + b


def _linear_no_bias_unless_c_contiguous(X, W, b):
    return X @ W if not X.flags.c_contiguous else X @ W + b


WRONG_LINEAR_LAYER.update({
    "integer results clipped at +-1e17": (_linear_clipped(10**17),
                                          r"(?s)results are capped there.*2\*\*62"),
    "integer results clipped at +-2**62": (_linear_clipped(2**62),
                                           r"(?s)results are capped there.*2\*\*62"),
    "np.nan_to_num of the result": (lambda X, W, b: np.nan_to_num(X @ W + b),
                                    r"(?s)returned -?1\.79\d*e\+308 at row \d, column \d.*leaves "
                                    r"float64's range.*\nHint: keep inf and NaN"),
    "NaN set to 0": (_linear_nan_to_zero, r"(?s)returned 0\.0 at row 0, column \d.*expected nan: "
                                          r"the inputs of this sum hold NaN"),
    "integer batches of more than 200 values through float32": (
        _linear_big_integer_batches_via_float32,
        r"(?s)Integer inputs give exact whole numbers.*43 samples, 47 inputs, 45 units \(int64"),
    "b rounded to float32 for float32 X and W, cast back": (
        _linear_b_rounded_to_float32, r"(?s)rounds b to float32.*\nHint: add b as it is"),
    "b rounded to float32 (float64 b only), cast back": (
        lambda X, W, b: _linear_b_rounded_to_float32(X, W, b) if b.dtype == np.float64
        else X @ W + b, r"(?s)rounds b to float32.*float64 b of large values"),
    "no bias when X is not C-contiguous": (_linear_no_bias_unless_c_contiguous,
                                           r"(?s)(without the bias|differs|returned dtype)"
                                           r".*(Fortran order|strided views)"),
})


def _linear_float32_via_float64(X, W, b):
    if X.dtype == W.dtype == b.dtype == np.float32:
        return (X.astype(float) @ W.astype(float) + b.astype(float)).astype(np.float32)
    return X @ W + b


RIGHT_LINEAR_LAYER.update({
    "float32 inputs computed in float64, the result cast to float32": _linear_float32_via_float64,
    "every input cast to numpy's result dtype first": lambda X, W, b: (
        lambda t: X.astype(t) @ W.astype(t) + b.astype(t))(np.result_type(X, W, b)),
})


def _product(X):
    X = np.asarray(X, dtype=float)
    return X[:, 0] * X[:, 1]


def _lift_int_branch(feature):
    def lift(X):
        X = np.asarray(X)
        if X.dtype.kind in "iu":
            return feature(X)
        return _product(X)[:, None]
    return lift


def _lift_centred_when_large(X):
    X = np.asarray(X, float)
    if len(X) > 200:
        X = X - X.mean(0)
    return (X[:, 0] * X[:, 1])[:, None]


def _lift_minus_median_when_large(X):
    p = _product(X)
    if len(p) > 200:
        p = p - np.median(p)
    return p[:, None]


_LARGE_SCALE = (r"reaches only \d+\.\d% on (a grid of 256 points at a large scale|\d+ "
                r"(uniform )?random)")
_NOT_FINITE = r"returned NaN or inf \(its points reach"
_BATCH = (r"gives the sample x = .* in \d+ (uniform )?random points .* but .* when called on (its "
          r"first \d+ rows|row \d+ alone)|reaches only \d+\.\d+% on \d+ (uniform )?random points")

WRONG_LIFT.update({
    "float16 features": (lambda X: (X[:, :1] * X[:, 1:]).astype(np.float16),
                         r"(?s)NaN or inf.*float16 holds values only up to 65504|reaches only "
                         r"\d+\.\d% on a grid of 256 points at a small scale"),
    "exp(400 x1 x2)": (lambda X: np.exp(400 * X[:, :1].astype(float) * X[:, 1:]), _NOT_FINITE),
    "x1, x2 and exp(400 x1 x2)": (lambda X: np.column_stack(
        [X, np.exp(400 * X[:, 0].astype(float) * X[:, 1])]), _NOT_FINITE),
    "integers: x1 == x2": (_lift_int_branch(
        lambda X: (X[:, 0] == X[:, 1]).astype(float)[:, None]),
        r"reaches only \d+\.\d% on (every pair of the whole numbers \+-1, |the four XOR "
        r"corners)"),
    "integers: |x1 - x2|": (_lift_int_branch(lambda X: np.abs(X[:, 0] - X[:, 1])[:, None]),
                            r"reaches only \d+\.\d% on every pair of the whole numbers"),
    "sin(x1 x2)": (lambda X: np.sin(_product(X))[:, None], _LARGE_SCALE),
    "sin x1 sin x2": (lambda X: (np.sin(np.asarray(X, float)[:, 0])
                                 * np.sin(np.asarray(X, float)[:, 1]))[:, None], _LARGE_SCALE),
    "cos(x1 - x2) - cos(x1 + x2)": (
        lambda X: (lambda X: (np.cos(X[:, 0] - X[:, 1]) - np.cos(X[:, 0] + X[:, 1]))[:, None])(
            np.asarray(X, float)), _LARGE_SCALE),
    "x1 x2 wrapped into [-2, 2)": (lambda X: np.mod(_product(X) + 2, 4)[:, None] - 2,
                                   _LARGE_SCALE),
    "exp(x1 x2)": (lambda X: np.exp(_product(X))[:, None], _NOT_FINITE),
    "exp(50 x1 x2)": (lambda X: np.exp(50 * _product(X))[:, None], _NOT_FINITE),
    "1e308 x1 x2": (lambda X: (_product(X) * 1e308)[:, None], _NOT_FINITE),
    "x1 x2 set to 0 below 1e-3 in size": (
        lambda X: (lambda p: np.where(np.abs(p) < 1e-3, 0.0, p)[:, None])(_product(X)),
        r"reaches only \d+\.\d% on a grid of 256 points"),
    "float32 input: sin(3 x1 x2)": (
        lambda X: np.sin(3 * _product(X))[:, None] if np.asarray(X).dtype == np.float32
        else _product(X)[:, None], r"reaches only \d+\.\d% on .* as float32"),
    "centred when the batch has more than 200 rows": (_lift_centred_when_large, _BATCH),
    "minus the batch's median when it has more than 200 rows": (
        _lift_minus_median_when_large, _BATCH),
    "centred when the batch has 250 rows or more": (
        lambda X: (lambda X: (X[:, 0] * X[:, 1])[:, None])(
            np.asarray(X, float) - (np.asarray(X, float).mean(0) if len(X) >= 250 else 0)),
        _BATCH),
})


def _collapse_integers_via_float64_from_three_layers(ws, bs):
    if all(w.dtype.kind in "iu" for w in ws + bs) and len(ws) > 2:
        W, b = collapse([w.astype(np.float64) for w in ws],
                               [x.astype(np.float64) for x in bs])
        return W.astype(np.int64), b.astype(np.int64)
    return collapse(ws, bs)


def _collapse_clipped(ws, bs):
    W, b = collapse(ws, bs)
    if W.dtype.kind == "i":
        return np.clip(W, -10**17, 10**17), np.clip(b, -10**17, 10**17)
    return W, b


def _collapse_nan_to_num(ws, bs):
    W, b = collapse(ws, bs)
    return (np.nan_to_num(W), np.nan_to_num(b)) if b.dtype.kind == "f" else (W, b)


_DEEPEST = r"(?s)(differs|has shape).*a deep stack of \d+ square layers"

WRONG_COLLAPSE.update({
    "integer stacks of 3 or more layers through float64": (
        _collapse_integers_via_float64_from_three_layers,
        r"(?s)went through floats.*between 2\*\*\d+ and 2\*\*\d+|a uint64 first layer"),
    "the first 15 layers only": (lambda ws, bs: collapse(ws[:15], bs[:15]),
                                 r"(?s)(differs|has shape).*a deep stack of \d+ (square )?layers"),
    "the first 16 layers only": (lambda ws, bs: collapse(ws[:16], bs[:16]), _DEEPEST),
    "the first 24 layers only": (lambda ws, bs: collapse(ws[:24], bs[:24]), _DEEPEST),
    "integer results clipped at +-1e17": (_collapse_clipped,
                                          r"(?s)results are capped there.*2\*\*62"),
    "np.nan_to_num of W and b": (_collapse_nan_to_num,
                                 r"(?s)W from .* holds (-?1\.79\d*e\+308 at index \(\d, \d\).*"
                                 r"leaves float64's range|0\.0 at index .* gives nan: a NaN in "
                                 r"the layers).*\nHint: keep inf and NaN"),
    # a cast to one layer's dtype is named as a cast (confusion 6), not as an order mistake
    "cast back to the first layer's dtype (a cast, named)": (
        cast_to_the_first_layer, r"(?s)It has dtype (u?int64|int32|float32), where numpy's "
                                 r"arithmetic on these layers gives float64: a cast|float weights "
                                 r"with large integer biases"),
})


def _multi_dot_backward(weights, biases):
    W = weights[0] if len(weights) == 1 else np.linalg.multi_dot(weights)
    b, after = biases[-1], weights[-1]
    for k in range(len(weights) - 2, -1, -1):     # each bias through the layers after it
        b = b + biases[k] @ after
        after = weights[k] @ after
    return W, b


RIGHT_COLLAPSE.update({
    "multi_dot, biases accumulated from the output side": _multi_dot_backward,
})


def _width_recursive(X, y, m):
    def go(h):
        if h > m:
            return None
        if ch01.xor_width_accuracy(X, y, h) >= 0.95:
            return h
        return go(h + 1)
    return go(1)


def _width_past_max_when_wide(X, y, m):
    top = m + 1 if m >= 50 else m
    for h in range(1, top + 1):
        if ch01.xor_width_accuracy(X, y, h) >= 0.95:
            return h
    return None


def _width_memo_on_x_only():
    memo = {}

    def smallest(X, y, m):
        for h in range(1, m + 1):
            key = (X.tobytes(), h)
            if key not in memo:
                memo[key] = ch01.xor_width_accuracy(X, y, h)
            if memo[key] >= 0.95:
                return h
        return None
    return smallest


def _width_asks_past_max_width_late(X, y, m):
    h = smallest_xor_width(X, y, m)
    if m > 100:                       # after more than 100 calls: the old record missed it
        ch01.xor_width_accuracy(X, y, m + 1)
    return h


WRONG_XOR_WIDTH.update({
    "a recursive search": (_width_recursive, r"(?s)raised RecursionError.*\nHint: a search that "
                                             r"calls itself once per width"),
    "widths capped at 300": (search(lambda m: range(1, min(m, 300) + 1)),
                             r"(?s)returned None, but h=1\d{3} reaches .*h = max_width itself.*"
                             r"\.\.\., 300 \(300 widths in all\)"),
    "widths capped at 1000": (search(lambda m: range(1, min(m, 1000) + 1)),
                              r"returned None, but h=1\d{3} reaches"),
    "one width past max_width on searches of 50 widths or more": (
        _width_past_max_when_wide,
        r"returned (\d+), but no width up to \d+ reaches 0\.95: the answer is None.*\(width \1 "
        r"is past max_width=\d+\)"),
    "scores remembered by X alone": (_width_memo_on_x_only(),
                                     r"(?s)returned \d+, expected 1.*the other labels \(1 - y\)"),
    "asks one width past max_width after 100 calls": (
        _width_asks_past_max_width_late,
        r"returned the right width, but asked xor_width_accuracy for width (\d+), past "
        r"max_width=\d+"),
})


def _width_filtered(X, y, max_width):
    scores = [ch01.xor_width_accuracy(X, y, h) for h in range(1, max_width + 1)]
    return next((h for h, a in enumerate(scores, 1) if not a < 0.95), None)


def _width_walrus(X, y, max_width):
    h = 0
    while (h := h + 1) <= max_width:
        if ch01.xor_width_accuracy(X, y, h) >= 0.95:
            return h


RIGHT_XOR_WIDTH.update({
    "every accuracy, then the first not below 0.95": _width_filtered,
    "a walrus while loop, None implied": _width_walrus,
    "copies of X and y": lambda X, y, max_width: next(
        (h for h in range(1, max_width + 1)
         if ch01.xor_width_accuracy(X.copy(), y.copy(), h) >= 0.95), None),
    "width= as a keyword": lambda X, y, max_width: next(
        (h for h in range(1, max_width + 1)
         if ch01.xor_width_accuracy(X, y, width=h) >= 0.95), None),
})


# ----------------------------------------------------------------------------- confirmation
# reading confirm12: wrong answers the checks accepted (a square W in Fortran order used
# transposed, integer detours on non-contiguous inputs, int32 and float16 inputs and an
# integer product cast to b's float32, results with their last bits cleared; features wrong
# for float16, non-contiguous or large float32 samples, for whole numbers beyond int8, on a
# band or a few per cent of the points, or depending on the batch by 1e-12; an inf of the
# wrong sign, inf turned into NaN and NaN into inf, near-identity layers left out, a layer
# left out of deep stacks, Fortran-ordered layers used transposed; a perfect 1.0 or a score
# near 0 misread, max_width instead of None on wide searches).


def _truncated(bits: int, from_inputs: int = 0):
    """The result with its ``bits`` low mantissa bits cleared (when X has at least
    ``from_inputs`` columns)."""
    def linear_layer(X, W, b):
        Z = np.ascontiguousarray(X @ W + b)
        if X.shape[1] < from_inputs or Z.dtype.kind != "f" or Z.dtype == np.float16:
            return Z
        kind = {np.dtype(np.float64): np.uint64, np.dtype(np.float32): np.uint32}[Z.dtype]
        mask = kind(~np.array(2**bits - 1, dtype=kind))
        return (Z.view(kind) & mask).view(Z.dtype)
    return linear_layer


def _linear_fortran_square_w_transposed(X, W, b):
    if W.flags.f_contiguous and not W.flags.c_contiguous and W.shape[0] == W.shape[1]:
        return X @ W.T + b
    return X @ W + b


def _linear_integers_via_float64_unless_c(X, W, b):
    Z = X @ W + b
    if not X.flags.c_contiguous and Z.dtype.kind == "i":
        return (X.astype(float) @ W.astype(float) + b).astype(Z.dtype)
    return Z


def _linear_float32_detour_unless_c(X, W, b):
    t = np.result_type(X, W, b)
    if not (X.flags.c_contiguous and W.flags.c_contiguous) and t != np.float64:
        return (X.astype(np.float32) @ W.astype(np.float32) + b.astype(np.float32)).astype(t)
    return X @ W + b


def _linear_integer_product_in_b_dtype(X, W, b):
    Z = X @ W
    if Z.dtype.kind in "iu" and b.dtype.kind == "f":
        return Z.astype(b.dtype) + b
    return Z + b


_EXACT = r"(?s)(Every sum here is exact in float(64|32)|more than float(64|32) rounding)"

WRONG_LINEAR_LAYER.update({
    "a square W in Fortran order used transposed": (_linear_fortran_square_w_transposed,
                                                   r"(?s)differs from the answer.*Fortran order"),
    "integers through float64 when X is not C-contiguous": (
        _linear_integers_via_float64_unless_c,
        r"(?s)Integer inputs give exact whole numbers.*(strided views|Fortran order)"),
    "a float32 detour when X or W is not C-contiguous": (
        _linear_float32_detour_unless_c,
        r"(?s)(differs|Integer inputs give).*(strided views|Fortran order)"),
    "an integer product cast to b's float dtype": (
        _linear_integer_product_in_b_dtype,
        r"returned dtype float(32|16), expected float64.*X of dtype int\d+, W of dtype int\d+"),
    "int32 results as int64": (lambda X, W, b: (lambda Z: Z.astype(np.int64) if Z.dtype.kind == "i"
                                                else Z)(X @ W + b),
                               r"returned dtype int64, expected int32"),
    "float16 results as float32": (lambda X, W, b: (lambda Z: Z.astype(np.float32)
                                                    if Z.dtype == np.float16 else Z)(X @ W + b),
                                   r"returned dtype float32, expected float16"),
    "broadcast and sum (np.sum gives int64 for int32 terms)": (
        lambda X, W, b: (X[:, :, None] * W[None, :, :]).sum(axis=1) + b,
        r"returned dtype int64, expected int32"),
    "the 2 low mantissa bits cleared": (_truncated(2), _EXACT),
    "the 4 low mantissa bits cleared for 40 inputs or more": (_truncated(4, 40), _EXACT),
})


def _lift_int8(X):
    X = np.asarray(X)
    if X.dtype.kind == "i":
        X = X.astype(np.int8)
    return np.sign(X[:, :1].astype(float) * X[:, 1:])


def _lift_sign(X):
    X = np.asarray(X, float)
    return np.sign(X[:, :1] * X[:, 1:])


def _lift_flipped_where(where):
    def lift(X):
        X = np.asarray(X, float)
        p = np.sign(X[:, :1] * X[:, 1:])
        p[where(X)] *= -1
        return p
    return lift


def _hash_flip(X):
    # about 2% of the points, chosen by a hash of their coordinates
    h = (np.abs(X[:, 0] * 1e6 + X[:, 1] * 7e5).astype(np.int64) % 50) == 7
    return h


_MISSES = r"reaches only \d+\.\d+% on .*: \d+ of its \d+ points come out on the wrong side"
_ROWS = r"gives (a sample different features|the sample x = )"

WRONG_LIFT.update({
    "integers cast to int8": (_lift_int8, r"reaches only \d+\.\d+% on every pair of the whole "
                                          r"numbers"),
    "x1 only for float16 input": (
        lambda X: X[:, :1].astype(float) if X.dtype == np.float16 else _lift_sign(X),
        r"reaches only \d+\.\d+% on the XOR sample .* as float16"),
    "x1 only for float32 samples of more than 300 points": (
        lambda X: X[:, :1].astype(float) if X.dtype == np.float32 and len(X) > 300
        else _lift_sign(X), r"reaches only \d+\.\d+% on \d+ uniform random points .* as float32"),
    "x1 only when X is not C-contiguous": (
        lambda X: X[:, :1].astype(float) if not X.flags.c_contiguous else _lift_sign(X),
        r"reaches only|" + _ROWS),
    "a large, badly scaled product (float16 overflows)": (
        lambda X: 1e6 * X[:, :1] * X[:, 1:], r"float16 holds values only up to 65504"),
    "features that change with the row index by 1e-12": (
        lambda X: _lift_sign(X) + 1e-12 * np.arange(len(X))[:, None], _ROWS),
    "features with random noise of 1e-13": (
        lambda X: _lift_sign(X) + 1e-13 * np.random.default_rng().normal(size=(len(X), 1)),
        _ROWS),
    "flipped where both |x| are in (0.2, 0.25)": (_lift_flipped_where(
        lambda X: ((np.abs(X) > 0.2) & (np.abs(X) < 0.25)).all(axis=1)), _MISSES),
    "2% of the points flipped by a hash": (_lift_flipped_where(_hash_flip), _MISSES),
    "flipped where both |x| pass 500": (_lift_flipped_where(
        lambda X: (np.abs(X) > 500).all(axis=1)), _MISSES),
})


def _collapse_mapped(fn):
    def collapse_(weights, biases):
        W, b = collapse(weights, biases)
        if W.dtype.kind == "f":
            W, b = fn(W), fn(b)
        return W, b
    return collapse_


def _collapse_skips_near_identity(weights, biases):
    keep = [i for i, w in enumerate(weights) if not (
        w.shape[0] == w.shape[1] and np.allclose(w, np.eye(w.shape[0]), atol=0.3))] or [0]
    return collapse([weights[i] for i in keep], [biases[i] for i in keep])


def _collapse_drops_layer_20(weights, biases):
    if len(weights) >= 38 and weights[20].shape[0] == weights[20].shape[1]:
        weights, biases = weights[:20] + weights[21:], biases[:20] + biases[21:]
    return collapse(weights, biases)


def _collapse_fortran_transposed(weights, biases):
    return collapse([w.T if w.flags.f_contiguous and not w.flags.c_contiguous
                     and w.shape[0] == w.shape[1] else w for w in weights], biases)


WRONG_COLLAPSE.update({
    "the sign of every inf flipped": (
        _collapse_mapped(lambda a: np.where(np.isinf(a), -a, a)),
        r"(?s)returned -?inf at index \(\d, \d\), expected -?inf: the sum leaves float64's "
        r"range|holds -?inf at index .* gives -?inf"),
    "every inf and NaN as NaN": (
        _collapse_mapped(lambda a: np.where(np.isfinite(a), a, np.nan)),
        r"returned nan at index \(\d, \d\), expected -?inf|holds nan at index .* gives -?inf"),
    "every NaN as inf": (
        _collapse_mapped(lambda a: np.where(np.isnan(a), np.inf, a)),
        r"holds inf at index .* gives nan: a NaN in the layers"),
    "near-identity layers left out": (_collapse_skips_near_identity,
                                      r"(?s)differs.*an identity, layers close to it"),
    "layer 20 of stacks of 38 layers or more left out": (
        _collapse_drops_layer_20, r"(?s)differs.*a deep stack of \d+ square layers"),
    "Fortran-ordered square layers used transposed": (_collapse_fortran_transposed,
                                                      r"(?s)(differs|returned|holds).*Fortran "
                                                      r"order"),
})


def _width_window(low, high):
    return search(good=lambda acc: low <= acc <= high)


def _width_max_when_wide(X, y, max_width):
    h = smallest_xor_width(X, y, max_width)
    return h if h is not None or max_width < 1000 else max_width


_PERFECT = r"h=\d+ (already )?reaches 1\b"

WRONG_XOR_WIDTH.update({
    "a perfect 1.0 not counted (<= 0.9999999)": (_width_window(0.95, 0.9999999), _PERFECT),
    "a perfect 1.0 not counted (< 1.0)": (search(good=lambda acc: 0.95 <= acc < 1.0), _PERFECT),
    "a score of 0.05 or less read as a flipped success": (
        search(good=lambda acc: acc >= 0.95 or acc <= 0.05),
        r"returned \d+, (expected \d+: h=\d+ scores 0(\.0\d*)?, below 0\.95|but no width up "
        r"to)"),
    "max_width instead of None on searches of 1000 widths or more": (
        _width_max_when_wide, r"max_width=1\d{3} returned 1\d{3}, but no width up to 1\d{3} "
                              r"reaches 0\.95"),
})


def _collapse_zero_input_forward(weights, biases):
    # W from the products, b as the stack's output at x = 0
    W, _ = collapse(weights, biases)
    z = np.zeros((1, weights[0].shape[0]), dtype=weights[0].dtype)
    for W_l, b_l in zip(weights, biases):
        z = z @ W_l + b_l
    return W, z[0]


def _width_reverse_scan(X, y, max_width):
    good = [h for h in range(max_width, 0, -1) if ch01.xor_width_accuracy(X, y, h) >= 0.95]
    return min(good) if good else None


RIGHT_LIFT.update({
    "|x1 + x2| - |x1 - x2| in float64": lambda X: (lambda X: (
        np.abs(X[:, 0] + X[:, 1]) - np.abs(X[:, 0] - X[:, 1]))[:, None])(np.asarray(X, float)),
    "the xor of the signs, as int8": lambda X: ((X[:, :1] > 0) ^ (X[:, 1:] > 0)).astype(np.int8),
    "x1, x2 and tanh(x1 x2)": lambda X: (lambda X: np.hstack([X, np.tanh(X[:, :1] * X[:, 1:])]))(
        np.asarray(X, float)),
})
RIGHT_COLLAPSE.update({
    "b as the stack's output at x = 0": _collapse_zero_input_forward,
})
RIGHT_XOR_WIDTH.update({
    "every width from max_width down, then the smallest good one": _width_reverse_scan,
})


# ----------------------------------------------------------------------------- confirm13

# The thirteenth newcomer reading's accepted wrong answers: small results set to 0 (a flush of
# subnormal or tiny values), narrow integers saturated instead of wrapped, features wrong
# beyond some size of the coordinates, W read off the stack's outputs, integer biases
# truncated, and a tolerance on 0.95 finer than the table's nearest score.
def _linear_zero_below(threshold):
    def linear_layer(X, W, b):
        Z = X @ W + b
        if Z.dtype.kind == "f":
            Z[np.abs(Z) < (np.finfo(Z.dtype).tiny if threshold is None else threshold)] = 0
        return Z
    return linear_layer


def _linear_saturated(dtypes):
    def linear_layer(X, W, b):
        Z = X @ W + b
        if Z.dtype in dtypes:
            exact = X.astype(np.int64) @ W.astype(np.int64) + b.astype(np.int64)
            info = np.iinfo(Z.dtype)
            return np.clip(exact, info.min, info.max).astype(Z.dtype)
        return Z
    return linear_layer


def _linear_through_int64(X, W, b):
    # narrow integers computed in int64 and cast back: the same wrap-around as numpy's
    want = np.result_type(X, W, b)
    if want.kind in "iu":
        return (X.astype(np.int64) @ W.astype(np.int64) + b.astype(np.int64)).astype(want)
    return X @ W + b


def _linear_longdouble(X, W, b):
    want = np.result_type(X, W, b)
    if want.kind == "f":
        return (X.astype(np.longdouble) @ W.astype(np.longdouble) + b).astype(want)
    return X @ W + b


_ZEROED = r"small results were set to 0"
_WRAPS = r"wraps around there"

WRONG_LINEAR_LAYER.update({
    "subnormal results flushed to 0": (_linear_zero_below(None), _ZEROED),
    "results below 1e-30 set to 0": (_linear_zero_below(1e-30), _ZEROED),
    "results below 1e-8 set to 0": (_linear_zero_below(1e-8), _ZEROED),
    "int8 and int16 results saturated instead of wrapped": (
        _linear_saturated((np.int8, np.int16, np.uint8, np.uint16)), _WRAPS),
    "narrow integer results (int32 too) saturated instead of wrapped": (
        _linear_saturated((np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32)),
        _WRAPS),
})

RIGHT_LINEAR_LAYER.update({
    "integers through int64, cast back (the same wrap-around)": _linear_through_int64,
    "through longdouble, cast back": _linear_longdouble,
})


def _lift_flipped(where):
    def lift(X):
        X = np.asarray(X, float)
        p = X[:, 0] * X[:, 1]
        return np.where(where(X, p), -p, p)[:, None]
    return lift


WRONG_LIFT.update({
    "flipped where a coordinate is below 1e-5": (
        _lift_flipped(lambda X, p: np.abs(X).min(axis=1) < 1e-5), _MISSES),
    "flipped where a nonzero coordinate is below 1e-5": (
        _lift_flipped(lambda X, p: (np.abs(X).min(axis=1) > 0)
                      & (np.abs(X).min(axis=1) < 1e-5)), _MISSES),
    "flipped where |x1 x2| passes 1e7": (_lift_flipped(lambda X, p: np.abs(p) > 1e7), _MISSES),
    "flipped where a coordinate passes 5000": (
        _lift_flipped(lambda X, p: np.abs(X).max(axis=1) > 5000), _MISSES),
    "flipped where a coordinate is within 1e-3 of 1e6 in size": (
        _lift_flipped(lambda X, p: np.abs(X).max(axis=1) > 1e6 * (1 - 1e-3)), _MISSES),
})

RIGHT_LIFT.update({
    "tanh of the product (keepdims)": lambda X: np.tanh(np.prod(np.asarray(X, float), axis=1,
                                                                keepdims=True)),
    "points on an axis given -1 (they carry no label)": lambda X: (
        lambda p: np.where(p == 0, -1.0, p)[:, None])(
            np.asarray(X, float)[:, 0] * np.asarray(X, float)[:, 1]),
})


def _collapse_bias_truncated(weights, biases):
    W, b = collapse(weights, biases)
    if all(v.dtype.kind == "i" for v in biases) and b.dtype.kind == "f":
        return W, b.astype(np.int64)
    return W, b


def _collapse_read_off(weights, biases):
    dtype = np.result_type(*weights, *biases)
    d = weights[0].shape[0]

    def forward(H):
        for W_l, b_l in zip(weights, biases):
            H = H @ W_l + b_l
        return H
    z = forward(np.zeros((1, d), dtype))
    return forward(np.eye(d, dtype=dtype)) - z, z[0]


def _collapse_zero_below(threshold):
    def answer(weights, biases):
        W, b = (np.array(a) for a in collapse(weights, biases))
        for a in (W, b):
            if a.dtype.kind == "f":
                a[np.abs(a) < (np.finfo(a.dtype).tiny if threshold is None else threshold)] = 0
        return W, b
    return answer


def _collapse_right_to_left(weights, biases):
    P, b = weights[-1], biases[-1]
    for W_l, b_l in zip(weights[-2::-1], biases[-2::-1]):
        b = b + b_l @ P
        P = W_l @ P
    return P, b


def _collapse_through_int64(weights, biases):
    dtype = np.result_type(*weights, *biases)
    if dtype.kind in "iu":
        W, b = collapse([w.astype(np.int64) for w in weights],
                        [v.astype(np.int64) for v in biases])
        return W.astype(dtype), b.astype(dtype)
    return collapse(weights, biases)


_READ_OFF = r"f\(I\) - f\(0\)|W is the product of the weights alone"

WRONG_COLLAPSE.update({
    "biases truncated to int64 when every bias is an integer": (
        _collapse_bias_truncated, r"(?s)b from .*It has dtype int64, where numpy's arithmetic "
                                  r"on these layers gives float64"),
    "W read off the stack's outputs, f(I) - f(0)": (_collapse_read_off, _READ_OFF),
    # (the course's identity network computes the same f(I) - f(0))
    "probing the course's identity network": (probe_the_course_network, _READ_OFF),
    # 0 times an inf or NaN bias is NaN: a later layer's non-finite bias spoils W
    "homogeneous coordinates": (homogeneous_coordinates, r"W is the product of the weights "
                                                         r"alone"),
    "subnormal values flushed to 0": (_collapse_zero_below(None), _ZEROED),
    "values below 1e-30 set to 0": (_collapse_zero_below(1e-30), _ZEROED),
    "values below 1e-5 set to 0": (_collapse_zero_below(1e-5), _ZEROED),
    "values below 1e-3 set to 0": (_collapse_zero_below(1e-3), _ZEROED),
})

RIGHT_COLLAPSE.update({
    "products from the output side (right to left)": _collapse_right_to_left,
    "integer stacks through int64, cast back": _collapse_through_int64,
})

_JUST_UNDER = r"h=\d+ scores 0\.9499999999\d*, below 0\.95"

WRONG_XOR_WIDTH.update({
    f"a tolerance of {tol:g} on 0.95": (search(good=lambda acc, tol=tol: acc + tol >= 0.95),
                                        _JUST_UNDER)
    for tol in (1e-15, 1e-13, 5e-13)
})


# ----------------------------------------------------------------------------- fix16
# The sixteenth round's items: float inputs computed in float64 (Exercise 1 promises numpy's
# dtype, Exercise 3 any real dtype), uint64 with int64 (numpy gives float64), no inputs and
# layers of no units, integers up to their dtype's limits (int64 and uint64 wrap in Exercise 1;
# Exercise 2's integers up to the largest whose product fits), W and b between 2**53 and 2**62,
# integer weights with float biases.


def _linear_floats_via_float64(X, W, b):
    want = np.result_type(X, W, b)
    if want.kind == "f":
        return (X.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64)).astype(want)
    return X @ W + b


def _linear_integers_exact_to_float(X, W, b):
    # integers that numpy's arithmetic takes to floats (uint64 with int64): exact in Python's
    # integers, rounded once
    want = np.result_type(X, W, b)
    if want.kind == "f" and all(a.dtype.kind in "iu" for a in (X, W, b)):
        return (X.astype(object) @ W.astype(object) + b.astype(object)).astype(want)
    return X @ W + b


def _linear_empty_by_size(X, W, b):
    if X.size == 0:      # (also true for d_in = 0, where every row is b)
        return np.zeros((X.shape[0], W.shape[1]), np.result_type(X, W, b))
    return X @ W + b


def _linear_integers_via_int64(X, W, b):
    want = np.result_type(X, W, b)
    if all(a.dtype.kind in "iu" for a in (X, W, b)):
        return (X.astype(np.int64) @ W.astype(np.int64) + b.astype(np.int64)).astype(want)
    return X @ W + b


def _linear_saturated_64(X, W, b):
    Z = X @ W + b
    if Z.dtype in (np.int64, np.uint64):     # the exact sums, in Python's integers, clipped
        exact = X.astype(object) @ W.astype(object) + b.astype(object)
        info = np.iinfo(Z.dtype)
        return np.clip(exact, int(info.min), int(info.max)).astype(Z.dtype)
    return Z


WRONG_LINEAR_LAYER.update({
    "an empty batch told by X.size (zeros for d_in = 0)": (
        _linear_empty_by_size, r"(?s)without the bias.*no inputs \(d_in = 0"),
    "integers through int64, cast to numpy's dtype (a uint64 X wraps)": (
        _linear_integers_via_int64, r"(?s)differs.*a uint64 X of values above 2\*\*63"),
    "int64 and uint64 results saturated instead of wrapped": (_linear_saturated_64, _WRAPS),
    "float64 results for float32 inputs": (
        lambda X, W, b: X.astype(np.float64) @ W + b if X.dtype.kind == "f" else X @ W + b,
        r"dtype float64, expected float32"),
})
RIGHT_LINEAR_LAYER.update({
    "floats through float64, cast to numpy's dtype": _linear_floats_via_float64,
    "uint64 with int64 exact in Python's integers, then float64": _linear_integers_exact_to_float,
})


def _lift_in_integers(feature):
    """``feature`` for integer X, x1 x2 for float X."""
    def lift(X):
        return feature(X) if X.dtype.kind in "iu" else X[:, :1] * X[:, 1:]
    return lift


_WRAPS_IN_X = r"X is int\d+ here and your features are int\d+, whose arithmetic wraps"

WRONG_LIFT.update({
    "(x1 + x2)**2 - (x1 - x2)**2, in X's dtype": (
        lambda X: ((X[:, 0] + X[:, 1]) ** 2 - (X[:, 0] - X[:, 1]) ** 2)[:, None], _WRAPS_IN_X),
    "10 x1 x2, in X's dtype": (lambda X: 10 * X[:, :1] * X[:, 1:], _WRAPS_IN_X),
    "an integer X cast to int32": (_lift_in_integers(
        lambda X: (lambda Y: Y[:, :1] * Y[:, 1:])(X.astype(np.int32))), _WRAPS_IN_X),
    "an integer X cast to int16": (_lift_in_integers(
        lambda X: (lambda Y: Y[:, :1] * Y[:, 1:])(X.astype(np.int16))), _WRAPS_IN_X),
})
RIGHT_LIFT.update({
    "an integer X through float32": _lift_in_integers(
        lambda X: (lambda Y: Y[:, :1] * Y[:, 1:])(X.astype(np.float32))),
    "an integer X through int64": _lift_in_integers(
        lambda X: (lambda Y: Y[:, :1] * Y[:, 1:])(X.astype(np.int64))),
})


def _collapse_skips_empty_layers(weights, biases):
    kept = [(W, b) for W, b in zip(weights, biases) if W.size]
    return collapse([W for W, _ in kept], [b for _, b in kept])


def _collapse_integers_via_int64(weights, biases):
    if all(a.dtype.kind in "iu" for a in (*weights, *biases)):
        dtype = np.result_type(*weights, *biases)
        W, b = collapse([w.astype(np.int64) for w in weights], [v.astype(np.int64) for v in biases])
        return W.astype(dtype), b.astype(dtype)
    return collapse(weights, biases)


def _collapse_weights_in_float_biases_dtype(weights, biases):
    dtype = np.result_type(*biases)
    if dtype.kind == "f":
        weights = [w.astype(dtype) if w.dtype.kind in "iu" else w for w in weights]
    return collapse(weights, biases)


def _collapse_float64_below_2_62(weights, biases):
    # integer stacks through float64, and exactly only where a value reaches 2**62
    if all(a.dtype.kind == "i" for a in (*weights, *biases)):
        W, b = collapse([w.astype(float) for w in weights], [v.astype(float) for v in biases])
        if max(np.abs(W).max(initial=0), np.abs(b).max(initial=0)) < 2.0**62:
            return W.astype(np.int64), b.astype(np.int64)
    return collapse(weights, biases)


def _collapse_exact_in_python(weights, biases):
    dtype = np.result_type(*weights, *biases)
    if all(a.dtype.kind in "iu" for a in (*weights, *biases)):
        W, b = collapse([w.astype(object) for w in weights], [v.astype(object) for v in biases])
        return np.asarray(W).astype(dtype), np.asarray(b).astype(dtype)
    return collapse(weights, biases)


def _collapse_running_b_in_place(weights, biases):
    W, b = weights[0].copy(), biases[0].copy()
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next, b @ W_next
        b += b_next            # (in place: b keeps its dtype, float32 here)
    return W, b


WRONG_COLLAPSE.update({
    "the running b added to in place (b += b_next)": (
        _collapse_running_b_in_place, r"(?s)b from .* differs.*a float64 last one|raised "
                                      r"UFuncTypeError"),
    "layers of no units skipped": (_collapse_skips_empty_layers,
                                   r"(?s)(has shape|raised IndexError|differs).*(a layer of no "
                                   r"units|no inputs \(d_in = 0)"),
    "integers through int64, cast to numpy's dtype (a uint64 layer wraps)": (
        _collapse_integers_via_int64, r"(?s)differs.*a uint64 first layer of values above "
                                      r"2\*\*63"),
    "integer weights cast to the biases' float dtype": (
        _collapse_weights_in_float_biases_dtype,
        r"(?s)differs.*(float32 biases \(the first weights int64, odd numbers above "
        r"2\*\*25\)|float weights with large integer biases)"),
    "integers through float64 unless a value reaches 2**62": (
        _collapse_float64_below_2_62, r"(?s)went through floats.*lie between 2\*\*\d+ and "
                                      r"2\*\*\d+ in size"),
})
RIGHT_COLLAPSE.update({
    "float stacks in float64": lambda weights, biases: collapse(
        [np.asarray(w, np.float64) for w in weights], [np.asarray(v, np.float64) for v in biases])
    if np.result_type(*weights, *biases).kind == "f" else collapse(weights, biases),
    "integer stacks exact in Python's integers, then numpy's dtype": _collapse_exact_in_python,
})
