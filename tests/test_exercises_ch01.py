"""Tests of the chapter 1 exercise checks: right answers pass, typical wrong ones fail clearly."""

import numpy as np
import pytest

from helpers import nn
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
        check(broken)


# ----------------------------------------------------------------------------- exercise 1


def linear_layer(X, W, b):
    return X @ W + b


def test_linear_layer_correct_passes(capsys):
    ch01.check_linear_layer(linear_layer)
    assert "\u2705" in capsys.readouterr().out


def test_linear_layer_does_not_modify_inputs():
    seen = []

    def spy(X, W, b):
        seen.append((X, W, b))
        return X @ W + b

    ch01.check_linear_layer(spy)
    # The check passed copies; the arrays our spy saw are the check's, never shared.
    X, W, b = seen[0]
    assert X.shape == (5, 3) and W.shape == (3, 2) and b.shape == (2,)


def test_linear_layer_in_place_modification_is_reported():
    def inplace(X, W, b):
        X += 0.0
        X *= 2
        return X @ W + b

    with pytest.raises(ExerciseError, match="modified its input"):
        ch01.check_linear_layer(inplace)


def test_linear_layer_missing_bias():
    with pytest.raises(ExerciseError, match="bias b is missing"):
        ch01.check_linear_layer(lambda X, W, b: X @ W)


def test_linear_layer_transposed_result():
    with pytest.raises(ExerciseError, match=r"shape \(2, 5\), expected \(5, 2\)"):
        ch01.check_linear_layer(lambda X, W, b: W.T @ X.T + b[:, None])


def test_linear_layer_wrong_bias_sign():
    with pytest.raises(ExerciseError, match="differs from the answer"):
        ch01.check_linear_layer(lambda X, W, b: X @ W - b)


def test_linear_layer_forgot_return():
    def no_return(X, W, b):
        X @ W + b  # noqa: B018

    with pytest.raises(ExerciseError, match="returned None"):
        ch01.check_linear_layer(no_return)


def test_linear_layer_elementwise_product_fails_clearly():
    with pytest.raises(ExerciseError, match="raised ValueError"):
        ch01.check_linear_layer(lambda X, W, b: X * W + b)


def test_linear_layer_python_loop_still_correct_passes():
    # A loop over samples gives the right numbers; this exercise only asks for the values.
    def rows(X, W, b):
        return np.array([x @ W + b for x in X])

    ch01.check_linear_layer(rows)


# ----------------------------------------------------------------------------- exercise 2


@pytest.mark.parametrize("lift", [
    lambda X: np.column_stack([X, X[:, 0] * X[:, 1]]),
    lambda X: (X[:, 0] * X[:, 1])[:, None],
    lambda X: np.column_stack([X, np.sign(X[:, 0] * X[:, 1])]),
], ids=["x1x2-extra", "x1x2-only", "sign"])
def test_lift_correct_passes(lift, capsys):
    ch01.check_lift_xor(lift)
    assert "reaches" in capsys.readouterr().out


@pytest.mark.parametrize("lift", [
    lambda X: X,
    lambda X: np.column_stack([X, X[:, 0] + X[:, 1]]),
    lambda X: np.column_stack([X, 3 * X[:, 0] - X[:, 1]]),
], ids=["identity", "sum", "linear-combination"])
def test_lift_linear_features_fail(lift):
    with pytest.raises(ExerciseError, match="reaches only"):
        ch01.check_lift_xor(lift)


def test_lift_wrong_shape():
    with pytest.raises(ExerciseError, match="one row per sample"):
        ch01.check_lift_xor(lambda X: X[:, 0] * X[:, 1])


def test_lift_too_many_features():
    with pytest.raises(ExerciseError, match="keep it small"):
        ch01.check_lift_xor(lambda X: np.tile(X, 3))


def test_lift_nan_features():
    with pytest.raises(ExerciseError, match="NaN or inf"):
        ch01.check_lift_xor(lambda X: np.column_stack([X, np.where(X[:, 0] > 0, np.nan, 1.0)]))


def test_lift_none():
    with pytest.raises(ExerciseError, match="returned None"):
        ch01.check_lift_xor(lambda X: None)


def test_lift_in_place_modification_is_reported():
    def inplace(X):
        X[:, 0] *= X[:, 1]
        return X

    with pytest.raises(ExerciseError, match="modified its input"):
        ch01.check_lift_xor(inplace)


# ----------------------------------------------------------------------------- exercise 3


def collapse(weights, biases):
    W, b = weights[0], biases[0]
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next, b @ W_next + b_next
    return W, b


def test_collapse_correct_passes(capsys):
    ch01.check_collapse(collapse)
    assert "\u2705" in capsys.readouterr().out


def test_collapse_functools_reduce_passes():
    from functools import reduce

    def by_reduce(weights, biases):
        return reduce(lambda acc, layer: (acc[0] @ layer[0], acc[1] @ layer[0] + layer[1]),
                      zip(weights[1:], biases[1:]), (weights[0], biases[0]))

    ch01.check_collapse(by_reduce)


def test_collapse_matches_a_real_identity_network():
    net = nn.MLP([2, 5, 4, 1], activation="identity", seed=3)
    X = np.random.default_rng(0).normal(size=(20, 2))
    W, b = collapse(net.weights, net.biases)
    assert np.max(np.abs(net.forward(X) - (X @ W + b))) < 1e-12


def test_collapse_reversed_order():
    def reversed_order(weights, biases):
        W = weights[-1]
        for W_prev in weights[-2::-1]:
            W = W @ W_prev          # W3 @ W2 @ W1: right shapes only for square layers
        return W, collapse(weights, biases)[1]

    with pytest.raises(ExerciseError, match="order the data flows"):
        ch01.check_collapse(reversed_order)


def test_collapse_transposed_W():
    with pytest.raises(ExerciseError, match=r"shape \(1, 3\), expected \(3, 1\)|order"):
        ch01.check_collapse(lambda weights, biases: tuple(
            np.asarray(a).T if i == 0 else a for i, a in enumerate(collapse(weights, biases))))


def test_collapse_summed_biases():
    def summed(weights, biases):
        return collapse(weights, biases)[0], sum(biases)

    with pytest.raises(ExerciseError, match="sum of the biases"):
        ch01.check_collapse(summed)


def test_collapse_bias_not_propagated():
    def last_bias_only(weights, biases):
        return collapse(weights, biases)[0], biases[-1]

    with pytest.raises(ExerciseError, match="feed the biases forward"):
        ch01.check_collapse(last_bias_only)


def test_collapse_only_three_layers():
    def three(weights, biases):
        W1, W2, W3 = weights
        b1, b2, b3 = biases
        return W1 @ W2 @ W3, (b1 @ W2 + b2) @ W3 + b3

    with pytest.raises(ExerciseError, match="raised ValueError"):
        ch01.check_collapse(three)


def test_collapse_returns_single_value():
    with pytest.raises(ExerciseError, match=r"pair \(W, b\)"):
        ch01.check_collapse(lambda weights, biases: collapse(weights, biases)[0])


def test_collapse_in_place_modification_is_reported():
    def inplace(weights, biases):
        W, b = collapse(weights, biases)
        biases[0] += 1.0
        return W, b

    with pytest.raises(ExerciseError, match="modified its input"):
        ch01.check_collapse(inplace)


# ----------------------------------------------------------------------------- exercise 4


def smallest_xor_width(X, y, max_width=8):
    for h in range(1, max_width + 1):
        if ch01.xor_width_accuracy(X, y, h) >= 0.95:
            return h
    return None


def test_xor_width_correct_passes(capsys):
    ch01.check_smallest_xor_width(smallest_xor_width)
    assert "3 hidden units" in capsys.readouterr().out


def test_xor_width_the_recipe_written_out_passes():
    def written_out(X, y, max_width=8):
        for h in range(1, max_width + 1):
            net = nn.MLP([2, h, 1], activation="tanh", output="sigmoid", seed=0)
            net.fit(X, y, loss="bce", epochs=200, lr=0.05, optimizer="adam")
            if net.accuracy(X, y) >= 0.95:
                return h
        return None

    ch01.check_smallest_xor_width(written_out)


def test_xor_width_hard_coded_fails():
    with pytest.raises(ExerciseError, match="seed=5"):
        ch01.check_smallest_xor_width(lambda X, y, max_width=8: 3)


def test_xor_width_off_by_one_fails():
    def zero_based(X, y, max_width=8):
        h = smallest_xor_width(X, y, max_width)
        return None if h is None else h - 1

    with pytest.raises(ExerciseError, match="widths start at 1"):
        ch01.check_smallest_xor_width(zero_based)


def test_xor_width_returning_accuracy_fails():
    def accuracy_instead(X, y, max_width=8):
        h = smallest_xor_width(X, y, max_width)
        return None if h is None else ch01.xor_width_accuracy(X, y, h) - 0.001

    with pytest.raises(ExerciseError, match="looks like an accuracy"):
        ch01.check_smallest_xor_width(accuracy_instead)


def test_xor_width_threshold_too_strict_fails():
    def strict(X, y, max_width=8):
        for h in range(1, max_width + 1):
            if ch01.xor_width_accuracy(X, y, h) >= 0.999:
                return h
        return None

    with pytest.raises(ExerciseError, match="accuracies by width"):
        ch01.check_smallest_xor_width(strict)


def test_xor_width_never_none_fails():
    def max_if_none(X, y, max_width=8):
        h = smallest_xor_width(X, y, max_width)
        return max_width if h is None else h

    with pytest.raises(ExerciseError, match="should be None"):
        ch01.check_smallest_xor_width(max_if_none)


def test_xor_width_recipe_facts():
    # The notebook's prose relies on these: 2 units fail with seed 0 on the notebook's XOR,
    # 3 succeed; on the seed-5 sample 2 units suffice.
    from helpers import data

    X, y = data.xor(200, seed=0)
    assert ch01.xor_width_accuracy(X, y, 2) < 0.95 <= ch01.xor_width_accuracy(X, y, 3)
    X2, y2 = data.xor(200, seed=5)
    assert ch01.xor_width_accuracy(X2, y2, 1) < 0.95 <= ch01.xor_width_accuracy(X2, y2, 2)
