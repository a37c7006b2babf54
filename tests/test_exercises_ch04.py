"""Tests of the chapter 4 (softmax) exercise checks: right answers pass, typical wrong
answers fail with the message that names the mistake, unfinished answers say so."""

import math

import numpy as np
import pytest

from helpers.exercises import ExerciseError, NotAnsweredYet, ch04

# ---------------------------------------------------------------------------- answers


def stable_softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def naive_softmax(z, axis=-1):
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def global_max_softmax(z, axis=-1):
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


def whole_array_softmax(z, axis=-1):
    e = np.exp(z - z.max())
    return e / e.sum()


def fixed_axis_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def exp_only_softmax(z, axis=-1):
    return np.exp(z)


def in_place_softmax(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def loop_softmax(z, axis=-1):
    def one(v):
        m = max(v)
        e = [math.exp(x - m) for x in v]
        s = sum(e)
        return np.array([x / s for x in e])

    return np.apply_along_axis(one, axis, z)


def no_return_softmax(z, axis=-1):
    np.exp(z)


def unfinished(*args, **kwargs):
    raise NotImplementedError()


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits, y):
    return -_log_softmax(logits)[np.arange(len(y)), y].mean()


def naive_log_cross_entropy(logits, y):
    p = stable_softmax(logits, axis=1)
    return -np.log(p[np.arange(len(y)), y]).mean()


def overflow_cross_entropy(logits, y):
    p = naive_softmax(logits, axis=1)
    return -np.log(p[np.arange(len(y)), y]).mean()


def per_sample_cross_entropy(logits, y):
    return -_log_softmax(logits)[np.arange(len(y)), y]


def summed_cross_entropy(logits, y):
    return -_log_softmax(logits)[np.arange(len(y)), y].sum()


def sign_cross_entropy(logits, y):
    return _log_softmax(logits)[np.arange(len(y)), y].mean()


def all_classes_cross_entropy(logits, y):
    return -_log_softmax(logits).mean()


def loop_cross_entropy(logits, y):
    return -np.mean([_log_softmax(logits)[i, y[i]] for i in range(len(y))])


def _onehot(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


def cross_entropy_grad(logits, y):
    return (stable_softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def sign_grad(logits, y):
    return (_onehot(y, logits.shape[1]) - stable_softmax(logits, axis=1)) / len(y)


def summed_grad(logits, y):
    return stable_softmax(logits, axis=1) - _onehot(y, logits.shape[1])


def overflow_grad(logits, y):
    return (naive_softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def no_onehot_grad(logits, y):
    return stable_softmax(logits, axis=1) / len(y)


def loop_grad(logits, y):
    p = stable_softmax(logits, axis=1)
    for i, label in enumerate(y):
        p[i, label] -= 1.0
    return p / len(y)


def _top(z, t):
    return stable_softmax(z / t).max()


def temperature_for(logits, target):
    lo, hi = math.log(1e-4), math.log(1e4)
    for _ in range(100):
        mid = (lo + hi) / 2
        if _top(logits, math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def inverse_temperature_for(logits, target):
    return 1.0 / temperature_for(logits, target)


def constant_temperature(logits, target):
    return 1.0


def negative_temperature(logits, target):
    return -temperature_for(logits, target)


def string_temperature(logits, target):
    return "0.5"


# ---------------------------------------------------------------------------- helpers


def fails_with(check, answer, *fragments):
    with pytest.raises(ExerciseError) as info:
        check(answer)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# ---------------------------------------------------------------------------- stable softmax


def test_softmax_right_answer_passes(capsys):
    ch04.check_stable_softmax(stable_softmax)
    assert capsys.readouterr().out.startswith("\u2705")


def test_softmax_naive_overflows_and_says_subtract_the_max():
    message = fails_with(ch04.check_stable_softmax, naive_softmax, "[1000, 1001, 1002]",
                         "Subtract the maximum")
    assert "overflow" in message


def test_softmax_global_max_is_caught():
    fails_with(ch04.check_stable_softmax, global_max_softmax, "[[0, 1, 2], [1000, 1001, 1002]]",
               "not the maximum of the whole array")


def test_softmax_whole_array_normalisation_is_caught():
    fails_with(ch04.check_stable_softmax, whole_array_softmax, "over the whole array",
               "keepdims=True")


def test_softmax_ignored_axis_is_caught():
    fails_with(ch04.check_stable_softmax, fixed_axis_softmax, "axis=0",
               "along axis -1 instead of axis 0")


def test_softmax_exp_only_is_caught():
    fails_with(ch04.check_stable_softmax, exp_only_softmax, "does not sum to 1")


def test_softmax_python_loop_is_refused():
    fails_with(ch04.check_stable_softmax, loop_softmax, "Python loop")


def test_softmax_in_place_is_refused_and_inputs_untouched():
    before = ch04._SMALL.copy(), ch04._TABLE.copy(), ch04._MIXED.copy()
    fails_with(ch04.check_stable_softmax, in_place_softmax, "modified its input")
    for original, now in zip(before, (ch04._SMALL, ch04._TABLE, ch04._MIXED)):
        np.testing.assert_array_equal(original, now)


def test_softmax_missing_return():
    fails_with(ch04.check_stable_softmax, no_return_softmax, "returned None")


def test_softmax_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_stable_softmax(unfinished)


def test_softmax_not_a_function():
    fails_with(ch04.check_stable_softmax, np.array([1.0]), "should be a function")


# ---------------------------------------------------------------------------- cross-entropy


def test_cross_entropy_right_answer_passes(capsys):
    ch04.check_cross_entropy(cross_entropy)
    assert "\u2705" in capsys.readouterr().out


def test_cross_entropy_log_of_softmax_is_caught():
    fails_with(ch04.check_cross_entropy, naive_log_cross_entropy, "[1000, 0, -1000]",
               "log-softmax directly", "divide by zero")


def test_cross_entropy_naive_softmax_is_caught():
    fails_with(ch04.check_cross_entropy, overflow_cross_entropy, "[1000, 0, -1000]",
               "overflow")


def test_cross_entropy_per_sample_is_caught():
    fails_with(ch04.check_cross_entropy, per_sample_cross_entropy, "one loss per sample",
               ".mean()")


def test_cross_entropy_sum_is_caught():
    fails_with(ch04.check_cross_entropy, summed_cross_entropy, "the sum over the 4 samples")


def test_cross_entropy_sign_is_caught():
    fails_with(ch04.check_cross_entropy, sign_cross_entropy, "wrong sign")


def test_cross_entropy_wrong_entries_get_a_hint():
    fails_with(ch04.check_cross_entropy, all_classes_cross_entropy, "expected",
               "log_p[np.arange(n), y]")


def test_cross_entropy_python_loop_is_refused():
    fails_with(ch04.check_cross_entropy, loop_cross_entropy, "Python loop")


def test_cross_entropy_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_cross_entropy(unfinished)


def test_cross_entropy_inputs_untouched():
    logits, labels = ch04._LOGITS.copy(), ch04._LABELS.copy()
    ch04.check_cross_entropy(cross_entropy)
    np.testing.assert_array_equal(logits, ch04._LOGITS)
    np.testing.assert_array_equal(labels, ch04._LABELS)


# ---------------------------------------------------------------------------- gradient


def test_grad_right_answer_passes(capsys):
    ch04.check_cross_entropy_grad(cross_entropy_grad)
    assert "\u2705" in capsys.readouterr().out


def test_grad_matches_finite_differences_of_the_loss():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    eps = 1e-6
    numeric = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        dz = np.zeros_like(z)
        dz[idx] = eps
        numeric[idx] = (cross_entropy(z + dz, y) - cross_entropy(z - dz, y)) / (2 * eps)
    np.testing.assert_allclose(ch04._cross_entropy_grad(z, y), numeric, atol=1e-8)


def test_grad_sign_is_caught():
    fails_with(ch04.check_cross_entropy_grad, sign_grad, "wrong sign")


def test_grad_missing_mean_is_caught():
    fails_with(ch04.check_cross_entropy_grad, summed_grad, "4 times too large", "divide")


def test_grad_overflow_is_caught():
    fails_with(ch04.check_cross_entropy_grad, overflow_grad, "not finite", "max-subtracted")


def test_grad_missing_onehot_gets_the_formula():
    fails_with(ch04.check_cross_entropy_grad, no_onehot_grad, "differs", "p_i - [i == y]")


def test_grad_python_loop_is_refused():
    fails_with(ch04.check_cross_entropy_grad, loop_grad, "Python loop")


def test_grad_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_cross_entropy_grad(unfinished)


# ---------------------------------------------------------------------------- temperature


def test_temperature_right_answer_passes(capsys):
    ch04.check_temperature_for(temperature_for)
    assert "\u2705" in capsys.readouterr().out


def test_temperature_cases_are_reachable():
    for z, target in ch04._TEMPERATURE_CASES:
        k = len(z)
        assert 1 / k < target < 1
        assert abs(_top(z, temperature_for(z, target)) - target) < 1e-9


def test_temperature_inverse_is_caught():
    fails_with(ch04.check_temperature_for, inverse_temperature_for, "looks like 1/T",
               "softmax(z / T)")


def test_temperature_constant_says_which_way():
    # At T = 1 the first case, [2, 1, 0.1], gives the top class 0.66 < 0.9: too flat.
    fails_with(ch04.check_temperature_for, constant_temperature, "too flat", "bisection")


def test_temperature_negative_is_refused():
    fails_with(ch04.check_temperature_for, negative_temperature, "must be > 0")


def test_temperature_not_a_number():
    fails_with(ch04.check_temperature_for, string_temperature, "one number")


def test_temperature_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_temperature_for(unfinished)
