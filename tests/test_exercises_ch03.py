"""Tests of the chapter 3 (ReLU and dead neurons) exercise checks: right answers pass,
typical wrong answers fail with the message that names the mistake, unfinished answers
say so, and the student's inputs are never modified."""

import numpy as np
import pytest

from helpers import diagnostics
from helpers.exercises import ExerciseError, NotAnsweredYet, ch03

# ------------------------------------------------------------------ exercise 1: leaky relu


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha=0.01):
    return np.where(x > 0, 1.0, alpha)


def leaky_relu_max(x, alpha=0.01):
    return np.maximum(x, alpha * x)  # equal for 0 <= alpha < 1


def leaky_relu_grad_ge(x, alpha=0.01):
    return np.where(x >= 0, 1.0, alpha)  # wrong convention at 0


def relu_forward(x, alpha=0.01):
    return np.maximum(x, 0)


def relu_grad(x, alpha=0.01):
    return (x > 0).astype(float)


def fixed_alpha(x, alpha=0.01):
    return np.where(x > 0, x, 0.01 * x)


def swapped(x, alpha=0.01):
    return np.where(x > 0, alpha * x, x)


def grad_is_forward(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)


def loop_leaky(x, alpha=0.01):
    return np.array([v if v > 0 else alpha * v for v in np.ravel(x)]).reshape(np.shape(x))


def in_place_leaky(x, alpha=0.01):
    x[x < 0] *= alpha
    return x


def unfinished(*args, **kwargs):
    raise NotImplementedError()


def no_return(x, alpha=0.01):
    np.where(x > 0, x, alpha * x)


def flat_only(x, alpha=0.01):
    x = np.ravel(x)
    return np.where(x > 0, x, alpha * x)


def test_leaky_relu_right_answers_pass(capsys):
    ch03.check_leaky_relu(leaky_relu, leaky_relu_grad)
    ch03.check_leaky_relu(leaky_relu_max, leaky_relu_grad)
    assert capsys.readouterr().out.startswith("\u2705")


@pytest.mark.parametrize(
    ("forward", "grad", "message"),
    [
        (relu_forward, leaky_relu_grad, "that is plain ReLU"),
        (fixed_alpha, leaky_relu_grad, "alpha is ignored"),
        (swapped, leaky_relu_grad, "branches swapped"),
        (leaky_relu, relu_grad, "ReLU's derivative"),
        (leaky_relu, grad_is_forward, "not its slope"),
        (leaky_relu, leaky_relu_grad_ge, "at x = 0"),
        (loop_leaky, leaky_relu_grad, "Python loop"),
        (in_place_leaky, leaky_relu_grad, "in place"),
        (no_return, leaky_relu_grad, "returned None"),
        (flat_only, leaky_relu_grad, "shape"),
    ],
)
def test_leaky_relu_wrong_answers_fail(forward, grad, message):
    with pytest.raises(ExerciseError, match=message):
        ch03.check_leaky_relu(forward, grad)


def test_leaky_relu_unfinished():
    with pytest.raises(NotAnsweredYet, match="^`leaky_relu` is not answered yet"):
        ch03.check_leaky_relu(unfinished, unfinished)
    with pytest.raises(NotAnsweredYet, match="^`leaky_relu_grad` is not answered yet"):
        ch03.check_leaky_relu(leaky_relu, unfinished)


# ------------------------------------------------------------------ exercise 2: dead units


def dead_units(A):
    return np.all(A == 0, axis=0)


def dead_units_any(A):
    return ~np.any(A, axis=0)


def wrong_axis(A):
    return np.all(A == 0, axis=1)


def some_zero(A):
    return np.any(A == 0, axis=0)


def non_positive(A):
    return np.all(A <= 0, axis=0)


def with_tolerance(A):
    return np.all(np.isclose(A, 0), axis=0)


def as_ints(A):
    return np.all(A == 0, axis=0).astype(int)


def count_instead(A):
    return np.sum(A == 0, axis=0)


def loop_dead(A):
    return np.array([np.all(A[:, j] == 0) for j in range(A.shape[1])])


def zeroing_dead(A):
    A[A < 0] = 0
    return np.all(A == 0, axis=0)


def test_dead_units_right_answers_pass(capsys):
    ch03.check_dead_units(dead_units)
    ch03.check_dead_units(dead_units_any)
    ch03.check_dead_units(diagnostics.dead_units)
    assert "\u2705" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (wrong_axis, "one value per sample"),
        (some_zero, "some"),
        (non_positive, "negative outputs"),
        (with_tolerance, "tiny positive output"),
        (as_ints, "boolean"),
        (count_instead, "boolean"),
        (loop_dead, "Python loop"),
        (zeroing_dead, "in place"),
    ],
)
def test_dead_units_wrong_answers_fail(answer, message):
    with pytest.raises(ExerciseError, match=message):
        ch03.check_dead_units(answer)


def test_dead_units_unfinished():
    with pytest.raises(NotAnsweredYet, match="^`dead_units` is not answered yet"):
        ch03.check_dead_units(unfinished)


# ------------------------------------------------------------------ exercise 3: revive


def test_broken_config_is_broken():
    _, history = ch03.train_config(ch03.BROKEN_CONFIG)
    assert history.dead[-1, 1] == 1.0  # the whole second hidden layer is dead
    assert history.accuracy[-1] == 0.5  # so the output is constant: chance level


def revive_bias(config):
    config = dict(config)
    config["bias_init"] = 0.0
    return config


def revive_elu(config):
    new = dict(config)
    new["activation"] = "elu"
    return new


def test_revive_right_answers_pass(capsys):
    ch03.check_revive(revive_bias)
    ch03.check_revive(revive_elu)
    out = capsys.readouterr().out
    assert out.count("\u2705") == 2
    assert "bias_init" in out and "elu" in out


def make_reviver(**changes):
    def revive(config):
        new = dict(config)
        new.update(changes)
        return new

    return revive


def in_place_revive(config):
    config["bias_init"] = 0.0
    return config


def extra_key(config):
    return {**config, "momentum": 0.9}


def dropped_key(config):
    new = dict(config)
    del new["epochs"]
    return new


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (make_reviver(), "unchanged"),
        (make_reviver(bias_init=0.0, activation="elu"), "changes 2 settings"),
        (make_reviver(lr=3.0), "still dead"),
        (make_reviver(epochs=100), "still dead"),
        (make_reviver(epochs=5000), "at most 300"),
        (make_reviver(activation="leaky_relu"), "alive is not the same as learning fast"),
        (make_reviver(bias_init=-0.5), "still dead"),
        (make_reviver(activation="relu6"), "could not be built"),
        (make_reviver(lr=40.0, bias_init=-3.0, activation="relu", init="he", epochs=300),
         "still dead|diverged"),
        (in_place_revive, "in place"),
        (extra_key, "unexpected key"),
        (dropped_key, "missing key"),
        (lambda config: None, "returned None"),
        (lambda config: [("bias_init", 0.0)], "should return a dict"),
    ],
)
def test_revive_wrong_answers_fail(answer, message):
    with pytest.raises(ExerciseError, match=message):
        ch03.check_revive(answer)


def test_revive_unfinished():
    with pytest.raises(NotAnsweredYet, match="^`revive` is not answered yet"):
        ch03.check_revive(unfinished)


# ------------------------------------------------------------------ exercise 4: born dead


def born_dead_width1(depth):
    return 1 - 0.5 ** (np.asarray(depth) - 1)


def born_dead_width1_float(depth):
    return 1.0 - 2.0 ** (1 - depth)


def test_born_dead_right_answers_pass(capsys):
    ch03.check_born_dead_width1(born_dead_width1)
    ch03.check_born_dead_width1(born_dead_width1_float)
    assert "\u2705" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda d: 0.5 ** (np.asarray(d) - 1), r"\*alive\*"),
        (lambda d: 1 - 0.5 ** np.asarray(d), "one factor of 1/2 too many"),
        (lambda d: 0.5 ** np.asarray(d), "decreases with depth"),
        (lambda d: 1 - 0.25 ** (np.asarray(d) - 1), "differs"),
        (lambda d: None, "returned None"),
        (lambda d: 1 - 0.5 ** (d - 1) if np.ndim(d) == 0 else [0.5], "shape"),
    ],
)
def test_born_dead_wrong_answers_fail(answer, message):
    with pytest.raises(ExerciseError, match=message):
        ch03.check_born_dead_width1(answer)


def test_born_dead_unfinished():
    with pytest.raises(NotAnsweredYet, match="^`born_dead_width1` is not answered yet"):
        ch03.check_born_dead_width1(unfinished)


def test_born_dead_formula_matches_simulation():
    """Exercise 4's fact: a width-1 ReLU net on a batch around 0 dies like 1 - 2^-(D-1)."""
    from helpers import data

    X, _ = data.moons(n=200, noise=0.15, seed=0)
    rng = np.random.default_rng(0)
    n_nets, depth = 4000, 6
    a = np.broadcast_to(X, (n_nets, *X.shape))
    fan_in = X.shape[1]
    for _ in range(depth):
        W = rng.normal(0.0, np.sqrt(2 / fan_in), (n_nets, fan_in, 1))
        a = np.maximum(a @ W, 0)
        fan_in = 1
    dead = ~np.any(a, axis=(1, 2))
    assert abs(dead.mean() - (1 - 0.5 ** (depth - 1))) < 0.02
