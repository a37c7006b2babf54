"""Chapter 2 exercise checks: catalogues of wrong answers (each rejected with a message naming
its mistake or saying what differs) and of right answers written other ways (each passes)."""

import math

import numpy as np
import pytest

from helpers import activations
from helpers.exercises import ExerciseError, NotAnsweredYet, ch02


def unfinished(*args):
    raise NotImplementedError()


# ---------------------------------------------------------------- exercise 1
# Task: take sigmoid outputs s (any shape), return sigma'(x) at the same places; use only s
# (do not recover x), no Python loop, keep the input's shape and dtype.


def sp_recover_x_log(s):
    x = np.log(s / (1 - s))
    return np.exp(-x) / (1 + np.exp(-x)) ** 2


def sp_recover_x_arctanh(s):
    x = 2 * np.arctanh(2 * s - 1)
    return (1 - np.tanh(x / 2) ** 2) / 4


def sp_course_grad_from_output(s):
    return activations.get("sigmoid").grad_from_output(None, s)


def sp_course_grad_of_recovered_x(s):
    return activations.get("sigmoid").grad(-np.log1p(-s) + np.log(s))


def sp_sigmoid_again(s):
    t = 1 / (1 + np.exp(-s))
    return t * (1 - t)


def sp_loop(s):
    out = np.empty_like(s)
    for i in range(s.shape[0]):
        out[i] = s[i] * (1 - s[i])
    return out


def sp_flat_loop(s):
    return np.array([v * (1 - v) for v in s.ravel()], dtype=s.dtype).reshape(s.shape)


def sp_vectorize(s):
    return np.vectorize(lambda v: v * (1 - v))(s)


def sp_in_place(s):
    s *= 1 - s
    return s


def sp_no_return(s):
    s * (1 - s)  # noqa: B018


WRONG_SIGMOID_PRIME = {
    "sign flipped": (lambda s: -s * (1 - s), r"wrong sign"),
    "sign flipped, written s (s - 1)": (lambda s: s * (s - 1), r"wrong sign"),
    "the sigmoid applied to s again": (sp_sigmoid_again, r"applied the sigmoid to s again"),
    "the course's sigmoid applied to s again":
        (lambda s: activations.sigmoid(s) * (1 - activations.sigmoid(s)),
         r"applied the sigmoid to s again"),
    "tanh's rule 1 - t^2": (lambda s: 1 - s**2, r"tanh's rule"),
    "recovers x with log, then the formula in x": (sp_recover_x_log, r"`log`.*use only s"),
    "recovers x with arctanh": (sp_recover_x_arctanh, r"`arctanh`.*use only s"),
    "calls the course's grad_from_output": (sp_course_grad_from_output,
                                            r"course's own activation code"),
    "the course's grad at a recovered x": (sp_course_grad_of_recovered_x,
                                           r"course's own activation code"),
    "four times too large (tanh'(x) = 4 sigma'(2x) mixed up)":
        (lambda s: 4 * s * (1 - s), r"differs from sigma'\(x\) in \d+ of 36 .* at s = "),
    "the peak value 1/4 everywhere": (lambda s: np.full_like(s, 0.25), r"differs .* at s = "),
    "clipped away from 0 (wrong at exact s = 0 and 1)":
        (lambda s: np.clip(s * (1 - s), 1e-7, None), r"differs .* at s = 0\.99999"),
    "rounded to 3 decimals": (lambda s: np.round(s * (1 - s), 3), r"differs .* at s = "),
    "clipped to 1e-12 (not exactly 0 at s = 0 and 1)":
        (lambda s: np.clip(s * (1 - s), 1e-12, None),
         r"at s = 0\.0 \(x = -inf\): got 1e-12, expected 0\.\nHint: only the values at s = 0 "
         r"and s = 1 differ"),
    "kept above the smallest float (np.finfo tiny)":
        (lambda s: np.maximum(s * (1 - s), np.finfo(s.dtype).tiny),
         r"at s = [01]\.0 .*expected 0\.\nHint: only the values at s = 0 and s = 1"),
    "a tiny epsilon added everywhere": (lambda s: s * (1 - s) + 1e-15,
                                        r"(?s)differs .* at s = .*differentiate"),
    "a Python for loop over rows": (sp_loop, r"Python loop"),
    "a list comprehension over elements": (sp_flat_loop, r"Python loop"),
    "np.vectorize": (sp_vectorize, r"vectorize`.*loop in disguise"),
    "flattened": (lambda s: (s * (1 - s)).ravel(), r"shape \(36,\) for an input of shape"),
    "transposed": (lambda s: (s * (1 - s)).T, r"shape \(9, 4\) for an input of shape \(4, 9\)"),
    "a nested list instead of an array": (lambda s: (s * (1 - s)).tolist(), r"not a numpy array"),
    "float32 turned into float64": (lambda s: np.asarray(s, dtype=np.float64) * (1 - s),
                                    r"turned a float32 input into float64"),
    "float64 turned into float32": (lambda s: (s * (1 - s)).astype(np.float32),
                                    r"turned a float64 input into float32"),
    "np.float64(1) - s upcasts float32": (lambda s: s * (np.float64(1.0) - s),
                                          r"turned a float32 input into float64"),
    "modifies s in place": (sp_in_place, r"in place"),
    "no return": (sp_no_return, r"returned None"),
    "a matrix product instead of elementwise": (lambda s: s @ (1 - s).T, r"shape \(4, 4\)"),
}

RIGHT_SIGMOID_PRIME = {
    "s * (1 - s)": lambda s: s * (1 - s),
    "expanded, s - s**2": lambda s: s - s**2,
    "(1 - s) * s": lambda s: (1 - s) * s,
    "np.multiply and np.subtract": lambda s: np.multiply(s, np.subtract(1, s)),
    "s - np.square(s)": lambda s: s - np.square(s),
    "completed square, 1/4 - (s - 1/2)**2": lambda s: 0.25 - (s - 0.5) ** 2,
    "1.0 - s as a float literal": lambda s: s * (1.0 - s),
    "via a named intermediate": lambda s: (lambda one_minus_s: s * one_minus_s)(1 - s),
}


@pytest.mark.parametrize("name", WRONG_SIGMOID_PRIME)
def test_sigmoid_prime_rejects(name):
    answer, message = WRONG_SIGMOID_PRIME[name]
    with pytest.raises(ExerciseError, match=message):
        ch02.check_sigmoid_prime_from_output(answer)


@pytest.mark.parametrize("name", RIGHT_SIGMOID_PRIME)
def test_sigmoid_prime_accepts(name, capsys):
    ch02.check_sigmoid_prime_from_output(RIGHT_SIGMOID_PRIME[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_sigmoid_prime_unfinished_and_not_a_function():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch02.check_sigmoid_prime_from_output(unfinished)
    with pytest.raises(ExerciseError, match="should be a function"):
        ch02.check_sigmoid_prime_from_output(np.array([0.25]))


def test_sigmoid_prime_cases_reach_exact_0_and_1_and_deep_saturation():
    cases = ch02._sigmoid_cases()
    assert {0.0, 1.0} <= set(cases["exact"].ravel().tolist())
    main = cases["main"]
    assert main.shape[0] != main.shape[1]
    assert main.min() < 1e-12 and 1 - main.max() < 1e-12


def test_sigmoid_prime_hints_do_not_hand_over_the_formula():
    for answer, _ in WRONG_SIGMOID_PRIME.values():
        try:
            ch02.check_sigmoid_prime_from_output(answer)
        except ExerciseError as err:
            assert "s * (1 - s)" not in str(err) and "s*(1-s)" not in str(err)


# ---------------------------------------------------------------- exercise 2
# Task: return the bound (1/4)**n for a single integer and for a numpy array of layer
# counts (one bound per entry), without a Python loop.


def shrink_list_comprehension(n_layers):
    return np.array([0.25**k for k in np.ravel(n_layers)]).reshape(np.shape(n_layers))


def shrink_for_loop(n_layers):
    n = np.asarray(n_layers)
    out = np.ones(n.shape)
    for _ in range(int(n.max())):
        out = np.where(n > _, out * 0.25, out)
    return out


def shrink_vectorize(n_layers):
    return np.vectorize(lambda k: 0.25**k)(n_layers)


WRONG_SHRINK = {
    "a multiple of 1/4, not a power": (lambda n: 0.25 * n, r"power of 1/4"),
    "1/2 per layer": (lambda n: 0.5**n, r"not 1/2"),
    "one factor too few": (lambda n: 0.25 ** (n - 1), r"not n - 1"),
    "one factor too many (the output layer counted)": (lambda n: 0.25 ** (n + 1), r"not n \+ 1"),
    "one minus the product": (lambda n: 1 - 0.25**n, r"product of the factors itself"),
    "a constant": (lambda n: 0.25**8, r"n_layers = 0 is 1.52588e-05, expected 1\b"),
    "0 for no layers": (lambda n: np.where(np.asarray(n) == 0, 0.0, 0.25**n),
                        r"n_layers = 0 is 0, expected 1"),
    "1 / 4**n in int64 overflows at n = 32": (lambda n: 1 / 4**n,
                                              r"(?s)n_layers = 40: got inf.*int64"),
    "an array of one element for a single count": (lambda n: 0.25 ** np.atleast_1d(n),
                                                   r"shape \(1,\); for one layer count"),
    "flattened": (lambda n: np.ravel(0.25 ** np.asarray(n, dtype=float)),
                  r"n_layers = 8 returned an array of shape \(1,\)"),
    "the product over the array": (lambda n: np.prod(0.25 ** np.asarray(n, dtype=float)),
                                   r"has shape \(\), expected \(2, 4\)"),
    "uses positions instead of values": (lambda n: 0.25 ** np.arange(np.size(n)).reshape(
        np.shape(n)), r"n_layers = 8 is 1, expected"),
    "a list comprehension": (shrink_list_comprehension, r"Python loop"),
    "a for loop": (shrink_for_loop, r"Python loop"),
    "np.vectorize": (shrink_vectorize, r"vectorize`"),
    "math.pow, which takes one number only":
        (lambda n: math.pow(0.25, n),
         r"for n_layers = \[\[3, .*raised TypeError.*\nHint: the math module works on one number"),
    "np.power(4, -n), integer to a negative integer power":
        (lambda n: np.power(4, -n),
         r"n_layers = 8 raised ValueError.*\nHint: numpy refuses to raise an integer"),
    "4 ** -n on an integer array": (lambda n: 4 ** -np.asarray(n),
                                    r"raised ValueError.*\nHint: numpy refuses"),
    "None": (lambda n: None, r"returned None"),
    "text": (lambda n: "0.25 ** n", r"single number"),
}

RIGHT_SHRINK = {
    "0.25 ** n": lambda n: 0.25**n,
    "as a float array": lambda n: 0.25 ** np.asarray(n, dtype=float),
    "np.power": lambda n: np.power(0.25, n),
    "np.float_power(4, -n)": lambda n: np.float_power(4, -np.asarray(n)),
    "2.0 ** (-2 n)": lambda n: 2.0 ** (-2 * np.asarray(n)),
    "exp of n log(1/4)": lambda n: np.exp(np.asarray(n) * np.log(0.25)),
    "1 / 4.0**n": lambda n: 1 / 4.0**n,
    "float32 powers (exact for these n)": lambda n: np.float32(0.25) ** n,
    "a 0-d array for one count (counts as one number)": lambda n: 0.25 ** np.asarray(n),
    "math.pow for an int, numpy for an array":
        lambda n: math.pow(0.25, n) if isinstance(n, int) else 0.25 ** np.asarray(n, float),
}


@pytest.mark.parametrize("name", WRONG_SHRINK)
def test_shrink_bound_rejects(name):
    answer, message = WRONG_SHRINK[name]
    with pytest.raises(ExerciseError, match=message):
        ch02.check_sigmoid_shrink_bound(answer)


@pytest.mark.parametrize("name", RIGHT_SHRINK)
def test_shrink_bound_accepts(name, capsys):
    ch02.check_sigmoid_shrink_bound(RIGHT_SHRINK[name])
    out = capsys.readouterr().out
    assert out.startswith("\u2705") and "1.5e-05" in out


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
    assert arrays and np.array_equal(arrays[0], [[3, 0, 12, 1], [40, 8, 5, 2]])
    assert np.array_equal(ch02._SHRINK_COUNTS, [[3, 0, 12, 1], [40, 8, 5, 2]])


# ---------------------------------------------------------------- exercise 3
# Task: return the standard deviation for a tanh layer's weights; passes if, in a narrow and
# a wide 10-layer network, no hidden layer is more than 1 % saturated and the last hidden
# layer's std is at least 0.1.


def tanh_init_weights(fan_in, fan_out):
    return np.random.default_rng(0).normal(0, np.sqrt(2 / (fan_in + fan_out)), (fan_in, fan_out))


WRONG_TANH_INIT = {
    "the naive N(0, 1)": (lambda i, o: 1.0, r"saturated .* too large"),
    "a constant tuned to width 32": (lambda i, o: 0.18, r"wide network .* too large"),
    "a constant tuned to width 256": (lambda i, o: 0.06,
                                      r"narrow network the activations fade away"),
    "Xavier's variance, not its std": (lambda i, o: 2 / (i + o),
                                       r"equal 2 / \(fan_in \+ fan_out\) .* a variance"),
    "He's ReLU recipe sqrt(2 / fan_in)": (lambda i, o: np.sqrt(2 / i),
                                          r"saturated .* gain .* of 1\.41"),
    "the Glorot-uniform limit used as a std": (lambda i, o: np.sqrt(6 / (i + o)),
                                               r"saturated .* too large"),
    "forgot the 2: 1 / sqrt(fan_in + fan_out)": (lambda i, o: 1 / np.sqrt(i + o),
                                                 r"fade away.*gain .* of 0\.71: too small"),
    "1 / fan_in (a variance rule as a std)":
        (lambda i, o: 1 / i, r"(?s)fade away.*too small.*equal 1 / fan_in .* a variance"),
    "inverted: sqrt(fan_in)": (lambda i, o: np.sqrt(i), r"too large"),
    "precedence: sqrt(2 / fan_in + fan_out)": (lambda i, o: np.sqrt(2 / i + o),
                                               r"too large"),
    "a small constant": (lambda i, o: 0.01, r"fade away"),
    "integer division 2 // (fan_in + fan_out)": (lambda i, o: 2 // (i + o),
                                                 r"returned 0\.0 .*\nHint: .*`//` is integer"),
    "negative": (lambda i, o: -0.1, r"returned -0\.1 .*never negative\.\nHint: a spread is a size"),
    "minus sign on the root": (lambda i, o: -np.sqrt(2 / (i + o)), r"never negative"),
    "NaN": (lambda i, o: float("nan"), r"returned nan .*not a number.*\nHint: NaN comes out"),
    "root of a negative variance": (lambda i, o: np.sqrt(-2 / (i + o)),
                                    r"returned nan .*\nHint: NaN comes out of an undefined"),
    "infinite": (lambda i, o: np.float64(1) / np.float64(0), r"returned inf .*finite"),
    "a list": (lambda i, o: [0.1, 0.2], r"one number"),
    "the weights instead of their std": (tanh_init_weights, r"one number .* of shape \(32, 48\)"),
    "None": (lambda i, o: None, r"one number"),
}

RIGHT_TANH_INIT = {
    "Xavier / Glorot": lambda fan_in, fan_out: np.sqrt(2 / (fan_in + fan_out)),
    "LeCun 1 / sqrt(fan_in)": lambda fan_in, fan_out: 1 / np.sqrt(fan_in),
    "Glorot's backward condition 1 / sqrt(fan_out)": lambda fan_in, fan_out: fan_out**-0.5,
    "1 / sqrt of the mean fan": lambda fan_in, fan_out: 1 / math.sqrt((fan_in + fan_out) / 2),
    "sqrt(2) / sqrt(fan_in + fan_out), as float32":
        lambda fan_in, fan_out: np.float32(np.sqrt(2) / np.sqrt(fan_in + fan_out)),
    "a one-element array": lambda fan_in, fan_out: np.array([np.sqrt(1 / fan_in)]),
    "1 / sqrt of the larger fan": lambda fan_in, fan_out: 1 / np.sqrt(max(fan_in, fan_out)),
    "1 / sqrt of the smaller fan": lambda fan_in, fan_out: 1 / np.sqrt(min(fan_in, fan_out)),
    "geometric mean of the fans, (fan_in fan_out)**-1/4": lambda i, o: (i * o) ** -0.25,
}


@pytest.mark.parametrize("name", WRONG_TANH_INIT)
def test_tanh_init_rejects(name):
    answer, message = WRONG_TANH_INIT[name]
    with pytest.raises(ExerciseError, match=message):
        ch02.check_tanh_init_std(answer)


@pytest.mark.parametrize("name", RIGHT_TANH_INIT)
def test_tanh_init_accepts(name, capsys):
    ch02.check_tanh_init_std(RIGHT_TANH_INIT[name])
    out = capsys.readouterr().out
    assert out.startswith("\u2705") and "saturated" in out


def test_tanh_init_unfinished():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch02.check_tanh_init_std(unfinished)


def test_tanh_init_thresholds_leave_room_around_the_right_answers():
    """Xavier and LeCun sit well inside the limits; He and 0.8 x Xavier well outside."""
    worst_right_sat, worst_right_std = 0.0, np.inf
    for std_fn in (RIGHT_TANH_INIT["Xavier / Glorot"], RIGHT_TANH_INIT["LeCun 1 / sqrt(fan_in)"]):
        for sizes in ch02._TANH_NETWORKS.values():
            stats = ch02.tanh_network_stats(std_fn, sizes)
            worst_right_sat = max(worst_right_sat, stats["saturated"][:-1].max())
            worst_right_std = min(worst_right_std, stats["std"][-2])
    assert worst_right_sat < ch02.MAX_SATURATED / 2
    assert worst_right_std > 1.5 * ch02.MIN_LAST_STD
    he = ch02.tanh_network_stats(lambda i, o: np.sqrt(2 / i), ch02._TANH_NETWORKS["narrow"])
    assert he["saturated"][:-1].max() > 2 * ch02.MAX_SATURATED
    small = ch02.tanh_network_stats(lambda i, o: 0.8 * np.sqrt(2 / (i + o)),
                                    ch02._TANH_NETWORKS["narrow"])
    assert small["std"][-2] < ch02.MIN_LAST_STD / 1.5


def test_tanh_init_stats_match_the_lesson():
    """Xavier keeps 10 tanh layers unsaturated; N(0, 1) saturates them (the chapter's claim)."""
    sizes = ch02._TANH_NETWORKS["narrow"]
    good = ch02.tanh_network_stats(lambda i, o: np.sqrt(2 / (i + o)), sizes)
    bad = ch02.tanh_network_stats(lambda i, o: 1.0, sizes)
    assert good["saturated"][:-1].max() < 0.01 < 0.3 < bad["saturated"][:-1].mean()
