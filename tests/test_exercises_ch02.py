"""Tests of the chapter 2 exercise checks: right answers pass, typical wrong ones fail clearly."""

import numpy as np
import pytest

from helpers import activations
from helpers.exercises import ExerciseError, NotAnsweredYet, ch02

# ---------------------------------------------------------------- exercise 1


def sigmoid_prime_right(s):
    return s * (1 - s)


def sigmoid_prime_sign(s):
    return -s * (1 - s)


def sigmoid_prime_twice(s):
    t = activations.sigmoid(s)
    return t * (1 - t)


def sigmoid_prime_tanh_rule(s):
    return 1 - s**2


def sigmoid_prime_loop(s):
    out = np.empty_like(s)
    for i in range(s.shape[0]):
        out[i] = s[i] * (1 - s[i])
    return out


def sigmoid_prime_flat(s):
    return (s * (1 - s)).ravel()


def sigmoid_prime_float64(s):
    s = np.asarray(s, dtype=np.float64)
    return s * (1 - s)


def sigmoid_prime_in_place(s):
    s *= 1 - s
    return s


def sigmoid_prime_no_return(s):
    s * (1 - s)  # noqa: B018


def unfinished(*args):
    raise NotImplementedError()


def test_sigmoid_prime_right_answer_passes(capsys):
    ch02.check_sigmoid_prime_from_output(sigmoid_prime_right)
    assert capsys.readouterr().out.startswith("\u2705")


@pytest.mark.parametrize("wrong, words", [
    (sigmoid_prime_sign, "sign"),
    (sigmoid_prime_twice, "applied the sigmoid to s again"),
    (sigmoid_prime_tanh_rule, "tanh's rule"),
    (sigmoid_prime_loop, "Python loop"),
    (sigmoid_prime_flat, "shape"),
    (sigmoid_prime_float64, "float32"),
    (sigmoid_prime_in_place, "in place"),
    (sigmoid_prime_no_return, "None"),
])
def test_sigmoid_prime_wrong_answers_fail(wrong, words):
    with pytest.raises(ExerciseError, match=words):
        ch02.check_sigmoid_prime_from_output(wrong)


def test_sigmoid_prime_unfinished():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch02.check_sigmoid_prime_from_output(unfinished)


def test_sigmoid_prime_not_a_function():
    with pytest.raises(ExerciseError, match="should be a function"):
        ch02.check_sigmoid_prime_from_output(np.array([0.25]))


# ---------------------------------------------------------------- exercise 2


def shrink_right(n_layers):
    return 0.25 ** np.asarray(n_layers, dtype=float)


def shrink_right_plain(n_layers):
    return 0.25**n_layers


@pytest.mark.parametrize("right", [shrink_right, shrink_right_plain])
def test_shrink_bound_right_answers_pass(right, capsys):
    ch02.check_sigmoid_shrink_bound(right)
    assert "1.5e-05" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda n: 0.25 * n, "power of 1/4"),
    (lambda n: 0.5**n, "not 1/2"),
    (lambda n: 0.25 ** (n - 1), "count the factors"),
    (lambda n: 1 - 0.25**n, "product itself"),
    (lambda n: 0.25**8, r"np.arange\(13\)"),
    (lambda n: None, "None"),
    (lambda n: "0.25 ** n", "single number"),
])
def test_shrink_bound_wrong_answers_fail(wrong, words):
    with pytest.raises(ExerciseError, match=words):
        ch02.check_sigmoid_shrink_bound(wrong)


def test_shrink_bound_unfinished():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch02.check_sigmoid_shrink_bound(unfinished)


def test_shrink_bound_does_not_modify_the_array():
    seen = []

    def spy(n_layers):
        seen.append(n_layers)
        return 0.25 ** np.asarray(n_layers, dtype=float)

    ch02.check_sigmoid_shrink_bound(spy)
    arrays = [a for a in seen if isinstance(a, np.ndarray)]
    assert arrays and np.array_equal(arrays[0], np.arange(13))


# ---------------------------------------------------------------- exercise 3


@pytest.mark.parametrize("right", [
    lambda fan_in, fan_out: np.sqrt(2 / (fan_in + fan_out)),   # Glorot / Xavier
    lambda fan_in, fan_out: 1 / np.sqrt(fan_in),               # LeCun
])
def test_tanh_init_right_answers_pass(right, capsys):
    ch02.check_tanh_init_std(right)
    out = capsys.readouterr().out
    assert out.startswith("\u2705") and "saturated" in out


@pytest.mark.parametrize("wrong, words", [
    (lambda fan_in, fan_out: 1.0, "too large"),                     # the naive N(0, 1)
    (lambda fan_in, fan_out: 0.18, "wide network"),                 # a constant tuned to width 32
    (lambda fan_in, fan_out: 2 / (fan_in + fan_out), "variance"),   # forgot the square root
    (lambda fan_in, fan_out: 0.01, "too small"),
    (lambda fan_in, fan_out: -0.1, "positive"),
    (lambda fan_in, fan_out: float("nan"), "positive"),
    (lambda fan_in, fan_out: [0.1, 0.2], "one number"),
])
def test_tanh_init_wrong_answers_fail(wrong, words):
    with pytest.raises(ExerciseError, match=words):
        ch02.check_tanh_init_std(wrong)


def test_tanh_init_unfinished():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch02.check_tanh_init_std(unfinished)


def test_tanh_init_stats_match_the_lesson():
    """Xavier keeps 10 tanh layers unsaturated; N(0, 1) saturates them (the chapter's claim)."""
    sizes = ch02._TANH_NETWORKS["narrow"]
    good = ch02.tanh_network_stats(lambda i, o: np.sqrt(2 / (i + o)), sizes)
    bad = ch02.tanh_network_stats(lambda i, o: 1.0, sizes)
    assert good["saturated"][:-1].max() < 0.01 < 0.3 < bad["saturated"][:-1].mean()
