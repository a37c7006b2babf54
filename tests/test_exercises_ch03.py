"""Tests of the chapter 3 (ReLU and dead neurons) exercise checks, as catalogues: for every
exercise, wrong answers a student might write (each must be rejected with feedback that names
its mistake or says what differs) and right answers written other ways (each must pass).
Unfinished answers say so, and the student's inputs are never modified."""

import numpy as np
import pytest

from helpers import activations, data, diagnostics
from helpers.activations import leaky_relu as course_leaky_relu
from helpers.exercises import ExerciseError, NotAnsweredYet, ch03


def unfinished(*args, **kwargs):
    raise NotImplementedError()


# ------------------------------------------------------------------ exercise 1: leaky relu
# The right pair, and the pieces the catalogue combines with it.


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha=0.01):
    return np.where(x > 0, 1.0, alpha).astype(x.dtype)


def loop_leaky(x, alpha=0.01):
    return np.array([v if v > 0 else alpha * v for v in np.ravel(x)]).reshape(np.shape(x))


def loop_leaky_grad(x, alpha=0.01):
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        out[i] = 1.0 if v > 0 else alpha
    return out


def in_place_leaky(x, alpha=0.01):
    x[x < 0] *= alpha
    return x


def in_place_grad(x, alpha=0.01):
    x[...] = np.where(x > 0, 1.0, alpha)
    return x


def no_return(x, alpha=0.01):
    np.where(x > 0, x, alpha * x)


def other_default(x, alpha=0.1):
    return np.where(x > 0, x, alpha * x)


def other_default_grad(x, alpha=0.1):
    return np.where(x > 0, 1.0, alpha).astype(x.dtype)


def as_float64(x, alpha=0.01):
    x = np.asarray(x, dtype=float)  # defensive, but a float32 input comes back float64
    return np.where(x > 0, x, alpha * x)


def course_forward(x, alpha=0.01):
    return activations.leaky_relu(x, alpha)


def course_forward_imported(x, alpha=0.01):
    return course_leaky_relu(x, alpha)


def course_grad(x, alpha=0.01):
    return activations.get("leaky_relu", alpha=alpha).grad(x)


def flat_only(x, alpha=0.01):
    x = np.ravel(x)
    return np.where(x > 0, x, alpha * x)


# Wrong answers a student might write: name -> ((forward, grad), regex the feedback must match).
WRONG_LEAKY_RELU = {
    "plain ReLU forward": ((lambda x, alpha=0.01: np.maximum(x, 0), leaky_relu_grad),
                           r"plain ReLU"),
    "alpha ignored in the forward": ((lambda x, alpha=0.01: np.where(x > 0, x, 0.01 * x),
                                      leaky_relu_grad), r"alpha is ignored"),
    "alpha ignored in the derivative": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x > 0, 1.0, 0.01).astype(x.dtype)),
        r"slopes for alpha = 0.01: the argument alpha is ignored"),
    "branches swapped": ((lambda x, alpha=0.01: np.where(x > 0, alpha * x, x), leaky_relu_grad),
                         r"branches swapped"),
    "np.minimum instead of np.maximum": (
        (lambda x, alpha=0.01: np.minimum(x, alpha * x), leaky_relu_grad), r"branches swapped"),
    "abs on the negative side": (
        (lambda x, alpha=0.01: np.where(x > 0, x, alpha * np.abs(x)), leaky_relu_grad),
        r"positive for negative inputs"),
    "alpha instead of alpha * x": (
        (lambda x, alpha=0.01: np.where(x > 0, x, alpha), leaky_relu_grad),
        r"differs from the answer .* at x = -10000"),
    "ReLU's derivative": ((leaky_relu, lambda x, alpha=0.01: (x > 0).astype(x.dtype)),
                          r"ReLU's derivative"),
    "derivative returns the function": ((leaky_relu, leaky_relu), r"not its slope"),
    "derivative alpha * x on the negative side": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x > 0, 1.0, alpha * x).astype(x.dtype)),
        r"alpha \* x, the function's value"),
    "derivative 1 at x = 0 (x >= 0)": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x >= 0, 1.0, alpha).astype(x.dtype)),
        r"at x = 0 is 1, expected alpha.*\nHint: .*1 only where x > 0"),
    "derivative 1 at x = 0 (x < 0 test)": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x < 0, alpha, 1.0).astype(x.dtype)),
        r"at x = 0 is 1, expected alpha"),
    "derivative 0 at x = 0 (both strict tests)": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x > 0, 1.0, np.where(x < 0, alpha, 0.0))
         .astype(x.dtype)),
        r"at x = 0 is 0, expected alpha = 0.01; every other input is right.\nHint: .*left "
        r"slope is not 0"),
    "derivative all ones": ((leaky_relu, lambda x, alpha=0.01: np.ones_like(x)),
                            r"differs from the answer .* at x = -10000"),
    "a loop in the forward": ((loop_leaky, leaky_relu_grad), r"Python loop"),
    "a loop in the derivative": ((leaky_relu, loop_leaky_grad), r"Python loop"),
    "np.vectorize of a scalar function": (
        (np.vectorize(lambda v, alpha=0.01: v if v > 0 else alpha * v), leaky_relu_grad),
        r"np.vectorize.*loop in disguise"),
    "forward changes x in place": ((in_place_leaky, leaky_relu_grad), r"in place"),
    "derivative changes x in place": ((leaky_relu, in_place_grad), r"in place"),
    "no return": ((no_return, leaky_relu_grad), r"returned None"),
    "flattens its input": ((flat_only, leaky_relu_grad), r"shape \(8,\), expected \(2, 4\)"),
    "another default alpha": ((other_default, other_default_grad),
                              r"alpha left at its default.* differs from alpha = 0.01"),
    "float32 in, float64 out (forward)": ((as_float64, leaky_relu_grad),
                                          r"returns float64 for a float32 input"),
    "float32 in, float64 out (derivative)": (
        (leaky_relu, lambda x, alpha=0.01: np.where(x > 0, 1.0, alpha)),
        r"returns float64 for a float32 input"),
    "float32 in, float64 out (bool arithmetic)": (
        (leaky_relu, lambda x, alpha=0.01: (x > 0) * 1 + (x <= 0) * alpha),
        r"returns float64 for a float32 input"),
    "the course's leaky_relu": ((course_forward, leaky_relu_grad),
                                r"uses the course's own code \(`activations`\)"),
    "the course's leaky_relu, imported by name": (
        (course_forward_imported, leaky_relu_grad),
        r"uses the course's own code \(`course_leaky_relu`\)"),
    "the registry's derivative": ((leaky_relu, course_grad), r"uses the course's own code"),
}

# Right answers written other ways: every one must pass.
RIGHT_LEAKY_RELU = {
    "np.where": (leaky_relu, leaky_relu_grad),
    "np.maximum (alpha < 1)": (lambda x, alpha=0.01: np.maximum(x, alpha * x), leaky_relu_grad),
    "x >= 0 in the forward": (lambda x, alpha=0.01: np.where(x >= 0, x, alpha * x),
                              leaky_relu_grad),
    "split into positive and negative parts": (
        lambda x, alpha=0.01: np.maximum(x, 0) + alpha * np.minimum(x, 0),
        lambda x, alpha=0.01: alpha + (1 - alpha) * np.heaviside(x, 0.0)),
    "masks times x": (lambda x, alpha=0.01: x * (x > 0) + alpha * x * (x <= 0),
                      lambda x, alpha=0.01: np.where(x > 0, np.ones_like(x),
                                                     alpha * np.ones_like(x))),
    "clip": (lambda x, alpha=0.01: x.clip(min=0) + alpha * x.clip(max=0),
             lambda x, alpha=0.01: (alpha + (1 - alpha) * (x > 0)).astype(x.dtype)),
    "slope times x": (lambda x, alpha=0.01: x * np.where(x > 0, 1, alpha).astype(x.dtype),
                      lambda x, alpha=0.01: np.where(x > 0, 1, alpha).astype(x.dtype)),
}


@pytest.mark.parametrize("name", WRONG_LEAKY_RELU)
def test_leaky_relu_rejects(name):
    (forward, grad), message = WRONG_LEAKY_RELU[name]
    with pytest.raises(ExerciseError, match=message):
        ch03.check_leaky_relu(forward, grad)


@pytest.mark.parametrize("name", RIGHT_LEAKY_RELU)
def test_leaky_relu_accepts(name, capsys):
    ch03.check_leaky_relu(*RIGHT_LEAKY_RELU[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_leaky_relu_unfinished():
    with pytest.raises(NotAnsweredYet, match="^`leaky_relu` is not answered yet"):
        ch03.check_leaky_relu(unfinished, unfinished)
    with pytest.raises(NotAnsweredYet, match="^`leaky_relu_grad` is not answered yet"):
        ch03.check_leaky_relu(leaky_relu, unfinished)


def test_leaky_relu_default_is_the_registry_default():
    assert activations.get("leaky_relu").params["alpha"] == ch03.DEFAULT_ALPHA == 0.01


# ------------------------------------------------------------------ exercise 2: dead units


def loop_dead(A):
    return np.array([np.all(A[:, j] == 0) for j in range(A.shape[1])])


def loop_dead_for(A):
    mask = np.zeros(A.shape[1], dtype=bool)
    for j in range(A.shape[1]):
        mask[j] = not A[:, j].any()
    return mask


def zeroing_dead(A):
    A[A < 0] = 0
    return np.all(A == 0, axis=0)


def course_dead(A):
    return diagnostics.dead_units(A)


# Wrong answers a student might write: name -> (answer, regex the feedback must match).
WRONG_DEAD_UNITS = {
    "sum of the column instead of all-zero": (
        lambda A: A.sum(axis=0) == 0, r"unit 2 is alive \(outputs that cancel"),
    "mean of the column is zero": (lambda A: A.mean(axis=0) == 0, r"outputs that cancel"),
    "largest output is zero": (lambda A: A.max(axis=0) == 0,
                               r"unit 5 is alive \(zeros and small negative outputs"),
    "no positive output": (lambda A: ~np.any(A > 0, axis=0), r"negative outputs"),
    "non-positive instead of zero": (lambda A: np.all(A <= 0, axis=0), r"negative outputs"),
    "constant column (ptp)": (lambda A: np.ptp(A, axis=0) == 0,
                              r"unit 7 is alive \(the same nonzero output"),
    "constant column (std)": (lambda A: A.std(axis=0) == 0, r"unit 9 is alive .*1e-200"),
    "squares underflow": (lambda A: (A**2).sum(axis=0) == 0,
                          r"unit 9 is alive \(a single output of 1e-200"),
    "isclose tolerance": (lambda A: np.all(np.isclose(A, 0), axis=0), r"tiny nonzero output"),
    "a 1e-3 threshold": (lambda A: np.all(np.abs(A) < 1e-3, axis=0),
                         r"treats a tiny nonzero output as zero"),
    "round to 6 decimals": (lambda A: np.all(np.round(A, 6) == 0, axis=0), r"1e-12"),
    "some zero instead of every": (lambda A: np.any(A == 0, axis=0), r"zero on \*some\* sample"),
    "majority of zeros": (lambda A: (A == 0).mean(axis=0) > 0.5,
                          r"differs on 6 of 12 units; the first three:\n.*unit 2 is alive"),
    "skips the last sample": (lambda A: np.all(A[:-1] == 0, axis=0),
                              r"unit 3 is alive \(nonzero only on the last sample"),
    "skips the first sample": (lambda A: np.all(A[1:] == 0, axis=0),
                               r"unit 4 is alive \(nonzero only on the first sample"),
    "counts zeros against the number of units": (
        lambda A: (A == 0).sum(axis=0) == A.shape[1],
        r"unit 1 is dead \(zero on all 7 samples\), but your mask says alive"),
    "wrong axis": (lambda A: np.all(A == 0, axis=1), r"one value per sample"),
    "wrong axis on a square batch": (
        lambda A: np.all(A == 0, axis=1) if A.shape[0] == A.shape[1] else _dead_ref(A),
        r"answers per sample .* not per unit"),
    "no axis": (lambda A: np.all(A == 0), r"a single value for the whole batch"),
    "keepdims": (lambda A: np.all(A == 0, axis=0, keepdims=True), r"an extra axis"),
    "indices instead of a mask": (lambda A: np.flatnonzero(np.all(A == 0, axis=0)),
                                  r"unit indices"),
    "ints instead of booleans": (lambda A: np.all(A == 0, axis=0).astype(int), r"boolean mask"),
    "fraction of zeros": (lambda A: np.mean(A == 0, axis=0), r"boolean mask"),
    "count of zeros": (lambda A: np.sum(A == 0, axis=0), r"boolean mask"),
    "mostly zero (> 90%)": (lambda A: (A == 0).mean(axis=0) > 0.9,
                            r"DEAD_UNITS_TALL_BATCH[\s\S]*unit 0 is alive \(nonzero on 1 of 200"),
    "mostly zero (>= 95%)": (lambda A: (A == 0).mean(axis=0) >= 0.95,
                             r"TALL_BATCH[\s\S]*differs on 4 of 7[\s\S]*"
                             r"unit 2 is alive \(nonzero on 5"),
    "mostly zero (> 99%)": (lambda A: (A == 0).mean(axis=0) > 0.99,
                            r"TALL_BATCH[\s\S]*unit 0 is alive .*nonzero on samples \[150\]"),
    "only the first 7 samples": (lambda A: (A[:7] == 0).all(axis=0),
                                 r"TALL_BATCH[\s\S]*unit 0 is alive \(nonzero on 1 of 200 "
                                 r"samples, a late one"),
    "only the last 10 samples": (lambda A: np.all(A[-10:] == 0, axis=0),
                                 r"TALL_BATCH[\s\S]*unit 0 is alive .*sample 150"),
    "every other sample": (lambda A: np.all(A[::2] == 0, axis=0),
                           r"differs on 1 of 12 units:\n  unit 6 is alive \(a single tiny"),
    "a list comprehension": (loop_dead, r"Python loop"),
    "a for loop": (loop_dead_for, r"Python loop"),
    "apply_along_axis over the columns": (
        lambda A: np.apply_along_axis(lambda col: not col.any(), 0, A),
        r"apply_along_axis.*a loop in disguise"),
    "changes A in place": (zeroing_dead, r"in place"),
    "no return": (lambda A: None, r"returned None"),
    "the course's dead_units": (course_dead, r"uses the course's own code \(`diagnostics`\)"),
}


def _dead_ref(A):
    return ~np.any(A, axis=0)


# Right answers written other ways: every one must pass.
RIGHT_DEAD_UNITS = {
    "np.all": lambda A: np.all(A == 0, axis=0),
    "~np.any": lambda A: ~np.any(A, axis=0),
    "~np.any(A != 0)": lambda A: ~np.any(A != 0, axis=0),
    "count_nonzero": lambda A: np.count_nonzero(A, axis=0) == 0,
    "largest |a| is zero": lambda A: np.abs(A).max(axis=0) == 0,
    "sum of |a| is zero": lambda A: np.abs(A).sum(axis=0) == 0,
    "min and max are zero": lambda A: (A.min(axis=0) == 0) & (A.max(axis=0) == 0),
    "transpose, last axis": lambda A: (A.T == 0).all(axis=-1),
    "np.logical_not of np.any": lambda A: np.logical_not(A.any(axis=0)),
}


@pytest.mark.parametrize("name", WRONG_DEAD_UNITS)
def test_dead_units_rejects(name):
    answer, message = WRONG_DEAD_UNITS[name]
    with pytest.raises(ExerciseError, match=message):
        ch03.check_dead_units(answer)


@pytest.mark.parametrize("name", RIGHT_DEAD_UNITS)
def test_dead_units_accepts(name, capsys):
    ch03.check_dead_units(RIGHT_DEAD_UNITS[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_dead_units_unfinished():
    with pytest.raises(NotAnsweredYet, match="^`dead_units` is not answered yet"):
        ch03.check_dead_units(unfinished)


def test_dead_units_batch_has_the_columns_it_says():
    """The check's main batch: units 1 and 8 are the only dead ones; the traps are in place."""
    A = ch03.DEAD_UNITS_BATCH
    assert A.shape == (7, 12)
    assert np.flatnonzero(~np.any(A, axis=0)).tolist() == [1, 8]
    assert A[:, 2].sum() == 0 and np.count_nonzero(A[:, 2]) == 3  # cancels exactly
    assert A[:, 5].max() == 0 and A[:, 5].min() < 0
    assert np.ptp(A[:, 7]) == 0 and A[0, 7] != 0
    assert (A[:, 9] ** 2).sum() == 0 and A[:, 9].any()  # its square underflows
    assert np.all(A[:, 10] < 0)
    assert np.count_nonzero(A[:, 11] == 0) == 1


# ------------------------------------------------------------------ exercise 3: revive


def test_tall_batch_has_the_columns_it_says():
    """The tall batch: only unit 3 is dead; units 0-2 are nonzero on a handful of samples."""
    A = ch03.DEAD_UNITS_TALL_BATCH
    assert A.shape == (200, 7)
    assert np.flatnonzero(~np.any(A, axis=0)).tolist() == [3]
    assert [np.flatnonzero(A[:, j]).tolist() for j in (0, 1)] == [[150], [2]]
    assert np.count_nonzero(A[:, 2]) == 5 and np.count_nonzero(A[:7, 2]) == 0
    assert np.flatnonzero(A[:, 4]).tolist() == [199] and A[199, 4] < 0
    assert np.all(A[:, 5] > 0)
    assert np.flatnonzero(A[:, 6]).tolist() == list(range(150, 200))


def test_broken_config_is_broken():
    _, history = ch03.train_config(ch03.BROKEN_CONFIG)
    assert history.dead[-1, 1] == 1.0  # the whole second hidden layer is dead
    assert history.accuracy[-1] == 0.5  # so the output is constant: chance level


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


# Wrong answers a student might write: name -> (answer, regex the feedback must match).
WRONG_REVIVE = {
    "nothing changed": (make_reviver(), r"unchanged"),
    "two settings changed": (make_reviver(bias_init=0.0, activation="elu"),
                             r"changes 2 settings"),
    "a larger learning rate": (make_reviver(lr=3.0), r"still dead"),
    "a smaller learning rate": (make_reviver(lr=0.1), r"still dead"),
    "more epochs": (make_reviver(epochs=100), r"still dead"),
    "too many epochs": (make_reviver(epochs=5000), r"at most 300"),
    "zero epochs": (make_reviver(epochs=0), r"positive whole number"),
    "epochs as a float": (make_reviver(epochs=250.5), r"positive whole number"),
    "leaky_relu: alive but slow": (make_reviver(activation="leaky_relu"),
                                   r"alive is not the same as learning: after 300 epochs the "
                                   r"accuracy is 60% .* the loss 0.693"),
    "sigmoid: alive but slow": (make_reviver(activation="sigmoid"),
                                r"no unit is dead, but alive is not the same as learning"),
    "a smaller negative bias": (make_reviver(bias_init=-0.5), r"still dead"),
    "an unknown activation": (make_reviver(activation="relu6"), r"could not be built"),
    "a bias given as text": (make_reviver(bias_init="0"), r"could not be built"),
    "a huge learning rate": (make_reviver(lr=1e6), r"diverged|still dead"),
    "every setting changed": (
        make_reviver(lr=40.0, bias_init=-3.0 + 1, activation="elu", init="xavier", epochs=200),
        r"changes 5 settings"),
    "an array as a setting": (make_reviver(lr=np.array([1.0, 2.0])), r"could not be built"),
    "changes the given dict": (in_place_revive, r"in place"),
    "an extra key": (extra_key, r"unexpected key"),
    "a key dropped": (dropped_key, r"missing key"),
    "returns None": (lambda config: None, r"returned None"),
    "returns a list of pairs": (lambda config: [("bias_init", 0.0)], r"should return a dict"),
}

# Right answers written other ways: every one must pass.
RIGHT_REVIVE = {
    "bias 0": make_reviver(bias_init=0.0),
    "bias 0 as an int": make_reviver(bias_init=0),
    "a small positive bias": make_reviver(bias_init=0.1),
    "ELU": make_reviver(activation="elu"),
    "dict comprehension": lambda config: {k: (0.0 if k == "bias_init" else v)
                                          for k, v in config.items()},
}


@pytest.mark.parametrize("name", WRONG_REVIVE)
def test_revive_rejects(name):
    answer, message = WRONG_REVIVE[name]
    with pytest.raises(ExerciseError, match=message):
        ch03.check_revive(answer)


@pytest.mark.parametrize("name", RIGHT_REVIVE)
def test_revive_accepts(name, capsys):
    ch03.check_revive(RIGHT_REVIVE[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_revive_unfinished():
    with pytest.raises(NotAnsweredYet, match="^`revive` is not answered yet"):
        ch03.check_revive(unfinished)


# ------------------------------------------------------------------ exercise 4: born dead


def born_dead_width1(depth):
    return 1 - 0.5 ** (np.asarray(depth) - 1)


def simulated_born_dead(depth):
    """A Monte Carlo estimate instead of the exact value (the table's way)."""
    rng = np.random.default_rng(0)
    depth = np.asarray(depth)
    signs = rng.normal(size=(2000, int(depth.max()))) > 0  # weights of layers 2.. positive?
    alive = np.cumprod(signs, axis=1)
    p_alive = np.concatenate([[1.0], alive.mean(axis=0)])
    return 1 - p_alive[depth - 1]


TABLE = 1 - 0.5 ** np.arange(20)


def hard_coded_to_20(depth):
    return TABLE[np.asarray(depth) - 1]


def int_reciprocal(depth):
    return 1 - 1 / 2 ** (np.asarray(depth) - 1)  # int64 overflows beyond depth 64


def int_shift(depth):
    return 1 - 1.0 / (1 << (np.asarray(depth) - 1))  # the same overflow, with a bit shift


def list_for_arrays(depth):
    if np.ndim(depth) == 0:
        return 1 - 0.5 ** (depth - 1)
    return [1 - 0.5 ** (d - 1) for d in np.asarray(depth).tolist()]


def int_power(depth):
    return 1 - 2 ** (1 - np.asarray(depth))  # numpy refuses integers to negative powers


def only_arrays(depth):
    return np.array([1 - 0.5 ** (d - 1) for d in depth])


# Wrong answers a student might write: name -> (answer, regex the feedback must match).
WRONG_BORN_DEAD = {
    "probability of being alive": (lambda d: 0.5 ** (np.asarray(d) - 1), r"\*alive\*"),
    "one factor too many": (lambda d: 1 - 0.5 ** np.asarray(d), r"one factor of 1/2 too many"),
    "alive, with one factor too many": (lambda d: 0.5 ** np.asarray(d), r"decreases with depth"),
    "quarter per layer": (lambda d: 1 - 0.25 ** (np.asarray(d) - 1),
                          r"differs from the exact probability at 19 of 20 depths"),
    "one factor too few": (lambda d: 1 - 0.5 ** (np.asarray(d) - 2),
                           r"largest difference is at depth 1: got -1, expected 0"),
    "1 - 1/D": (lambda d: 1 - 1 / np.asarray(d), r"at depth 5: got 0.8, expected 0.9375"),
    "a simulation, not exact": (simulated_born_dead, r"an estimate, not the exact value"),
    "no return": (lambda d: None, r"returned None"),
    "a list for an integer": (lambda d: [1 - 0.5 ** (d - 1)] if np.ndim(d) == 0 else
                              born_dead_width1(d), r"for an integer depth the answer is a single"),
    "numbers only": (lambda d: 1 - 0.5 ** (d - 1) if np.ndim(d) == 0 else [0.5], r"shape"),
    "arrays only (a loop over depths)": (only_arrays, r"raised TypeError"),
    "integer power of a numpy int": (int_power, r"raised ValueError: Integers to negative"),
    "hard-coded table up to depth 20": (hard_coded_to_20, r"raised IndexError"),
    "1 - 1 / 2 ** (D - 1) in integers": (int_reciprocal,
                                         r"at depth 65 gives -inf, expected 1;[\s\S]*overflow"),
    "1 - 1.0 / (1 << (D - 1))": (int_shift, r"at depth (64|65) gives .*expected 1;[\s\S]*overflow"),
    "a list for an array": (list_for_arrays, r"returns a list, not a numpy array"),
    "np.ravel of the result": (lambda d: np.ravel(born_dead_width1(d)),
                               r"has shape \(1,\); for an integer depth"),
}

# Right answers written other ways: every one must pass.
RIGHT_BORN_DEAD = {
    "1 - 0.5 ** (D - 1)": born_dead_width1,
    "1 - 2 ** (1 - D), float": lambda d: 1.0 - 2.0 ** (1 - np.asarray(d)),
    "1 - 2 * 0.5 ** D": lambda d: 1 - 2 * 0.5 ** np.asarray(d),
    "exp2": lambda d: 1 - np.exp2(1 - np.asarray(d)),
    "expm1 of a log": lambda d: -np.expm1((np.asarray(d) - 1) * np.log(0.5)),
    "np.vectorize": np.vectorize(lambda d: 1 - 0.5 ** (d - 1)),
    "1 - 1 / 2.0 ** (D - 1)": lambda d: 1 - 1 / 2.0 ** (np.asarray(d) - 1),
    "Python floats for a number": lambda d: (1 - 0.5 ** (d - 1) if np.ndim(d) == 0
                                             else 1 - 0.5 ** (np.asarray(d) - 1.0)),
}


@pytest.mark.parametrize("name", WRONG_BORN_DEAD)
def test_born_dead_rejects(name):
    answer, message = WRONG_BORN_DEAD[name]
    with pytest.raises(ExerciseError, match=message):
        ch03.check_born_dead_width1(answer)


@pytest.mark.parametrize("name", RIGHT_BORN_DEAD)
def test_born_dead_accepts(name, capsys):
    ch03.check_born_dead_width1(RIGHT_BORN_DEAD[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_born_dead_unfinished():
    with pytest.raises(NotAnsweredYet, match="^`born_dead_width1` is not answered yet"):
        ch03.check_born_dead_width1(unfinished)


def test_born_dead_formula_matches_simulation():
    """Exercise 4's fact: a width-1 ReLU net on a batch around 0 dies like 1 - 2^-(D-1)."""
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
