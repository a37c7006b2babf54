"""Tests of the chapter 06 checks: catalogues of wrong answers (each rejected with a message
naming its mistake or saying what differs) and of right answers written other ways (each
accepted), one pair per part. The capstone is open-ended, so the checks test properties of
the student's own design; the wrong answers here are designs and tools that break them."""

import math

import numpy as np
import pytest

from helpers import activations, diagnostics
from helpers.exercises import ExerciseError, NotAnsweredYet, ch06

# ---------------------------------------------------------------- reference answers


def mish(x):
    softplus = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    return x * np.tanh(softplus)


def mish_grad(x):
    e = np.exp(-np.abs(x))
    t = np.tanh(np.maximum(x, 0) + np.log1p(e))
    sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return t + x * (1 - t * t) * sigmoid


def softsign(x):
    return x / (1 + np.abs(x))


def softsign_grad(x):
    return 1 / (1 + np.abs(x)) ** 2


def absolute(x):
    return np.abs(x)


def absolute_grad(x):
    return np.sign(x)


def unfinished(*args, **kwargs):
    raise NotImplementedError()


def mish_info():
    return {"name": "mish", "formula": r"x \tanh(\mathrm{softplus}(x))",
            "output_range": (-0.30885, np.inf)}


def max_gradient_error(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))))


def gradient_flow(net, X, y):
    norms = diagnostics.gradient_norms(net, X, y)
    dead = diagnostics.dead_fraction(net, X)[:-1]
    flat = np.concatenate([(np.abs(a.grad(z)) < 0.01).ravel()
                           for a, z in zip(net.hidden_activations, net.cache["z"][:-1])])
    return {"ratio": float(norms[0] / norms[-1]), "dead": float(dead.mean()),
            "flat": float(flat.mean())}


def comparison_table(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).val_accuracy[-1]) for s in seeds] for n in names}
            for ds in datasets}


def _erf(x):
    """erf without scipy (Abramowitz & Stegun 7.1.26, error < 1.5e-7), vectorised."""
    t = 1 / (1 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                            + t * 1.061405429))))
    return np.sign(x) * (1 - poly * np.exp(-x * x))


def _expect_pass(check, *args, capsys):
    check(*args)
    assert capsys.readouterr().out.startswith("\u2705")


# ================================================================ Part 1: forward

def fwd_list_comprehension(x):
    return np.array([v * np.tanh(np.log1p(np.exp(v))) for v in x.ravel()]).reshape(x.shape)


def fwd_for_loop(x):
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        out[i] = np.sin(v) + v
    return out


def fwd_np_vectorize(x):
    return np.vectorize(lambda v: v * math.tanh(math.log1p(math.exp(-abs(v))) + max(v, 0)))(x)


def fwd_divides_by_batch_std(x):
    return np.tanh(x / x.std()) * x


def fwd_centres_on_batch_mean(x):
    return np.tanh(x - x.mean(axis=-1, keepdims=True))


def fwd_in_place(x):
    x *= np.tanh(np.log1p(np.exp(x)))
    return x


def fwd_affine(x):
    return 2 * x + 1


def fwd_relu(x):
    return np.maximum(x, 0)


def fwd_leaky_02(x):
    return np.where(x > 0, x, 0.2 * x)


def fwd_elu_half(x):
    return np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0)))


def fwd_gelu_erf(x):  # GELU's exact erf form: the registry's gelu within 5e-4
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


def fwd_swish(x):  # the registry's silu under its other name
    return x / (1 + np.exp(-x))


def fwd_step(x):
    return np.where(x > 0, 1.0, 0.0)


def fwd_log_nan(x):
    return np.log(x) * x


def fwd_sinc_nan_at_0(x):
    return np.sin(x) / x


def fwd_sum(x):
    return np.sum(x * np.tanh(x))


WRONG_FORWARD = {
    "a list comprehension": (fwd_list_comprehension, r"Python loop"),
    "a for loop": (fwd_for_loop, r"Python loop \(for"),
    "np.vectorize, a loop in disguise": (fwd_np_vectorize, r"np\.vectorize.*loop in disguise"),
    "divides by the batch's std": (fwd_divides_by_batch_std,
                                   r"part of the batch.*depends on the other entries"),
    "centres on the batch mean": (fwd_centres_on_batch_mean, r"depends on the other entries"),
    "modifies x in place": (fwd_in_place, r"modified its input"),
    "an affine function": (fwd_affine, r"straight line.*2 x \+ 1"),
    "ReLU rewritten": (fwd_relu, r"built-in relu"),
    "Leaky ReLU with alpha 0.2": (fwd_leaky_02, r"built-in leaky_relu\(alpha=0\.2\)"),
    "ELU with alpha 0.5": (fwd_elu_half, r"built-in elu\(alpha=0\.5\)"),
    "GELU in its exact erf form": (fwd_gelu_erf, r"built-in gelu"),
    "SiLU under the name swish": (fwd_swish, r"built-in silu"),
    "the Heaviside step": (fwd_step, r"built-in step"),
    "NaN for x < 0": (fwd_log_nan, r"returned nan at x = -6"),
    "NaN at exactly 0": (fwd_sinc_nan_at_0, r"returned nan at x = 0"),
    "a reduction to one number": (fwd_sum, r"shape \(\) for an input of shape \(121,\)"),
    "a lambda that is the identity": (lambda x: x + 0.0, r"straight line"),
    "returns None": (lambda x: None, r"returned None"),
    # "with any parameter": a built-in up to a scale or shift of its input or output.
    "x sigma(1.702 x), SiLU with beta 1.702": (lambda x: x / (1 + np.exp(-1.702 * x)),
                                               r"built-in silu up to a scale and shift"),
    "x sigma(2 x), Swish with beta 2": (lambda x: x / (1 + np.exp(-2 * x)),
                                        r"built-in silu up to a scale and shift.*b = 2"),
    "LeCun's scaled tanh 1.7159 tanh(2x/3)": (lambda x: 1.7159 * np.tanh(2 * x / 3),
                                              r"built-in (tanh|sigmoid) up to a scale"),
    "ReLU shifted down by 0.5": (lambda x: np.maximum(x, 0) - 0.5,
                                 r"built-in relu up to a scale and shift"),
    "softplus with beta 2": (lambda x: np.logaddexp(0, 2 * x) / 2,
                             r"built-in softplus up to a scale and shift"),
    "a Python list": (lambda x: [float(v) for v in np.tanh(x) * x], r"returned a list"),
}


def fwd_softsign_where(x):
    return np.where(x >= 0, x / (1 + x), x / (1 - x))


def fwd_mish_clipped(x):  # clip only inside exp, where it changes nothing visible
    return x * np.tanh(np.log1p(np.exp(np.clip(x, -80, 80))))


RIGHT_FORWARD = {
    "Mish": mish,
    "Mish, clipped inside exp": fwd_mish_clipped,
    "softsign": softsign,
    "softsign per sign with np.where": fwd_softsign_where,
    "absolute value": absolute,
    "np.sin": np.sin,
    "rational Swish x (1 + x / (1 + |x|)) / 2": lambda x: x * (1 + x / (1 + np.abs(x))) / 2,
    "a Gaussian bump exp(-x^2)": lambda x: np.exp(-x * x),
    "clipped ReLU np.clip(x, 0, 2)": lambda x: np.clip(x, 0, 2),
    "Leaky ReLU with a negative slope -0.3 (not a built-in)": lambda x: np.where(x > 0, x,
                                                                                 -0.3 * x),
}


@pytest.mark.parametrize("name", WRONG_FORWARD)
def test_forward_rejects(name):
    answer, message = WRONG_FORWARD[name]
    with pytest.raises(ExerciseError, match=message):
        ch06.check_forward(answer)


@pytest.mark.parametrize("name", RIGHT_FORWARD)
def test_forward_accepts(name, capsys):
    _expect_pass(ch06.check_forward, RIGHT_FORWARD[name], capsys=capsys)


def test_forward_unfinished():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch06.check_forward(unfinished)


# ================================================================ Part 2: derivative

def d_loop(x):
    return np.array([np.cos(v) for v in x])


def d_numerical(x):  # a finite difference of the student's own forward pass
    h = 1e-5
    return (mish(x + h) - mish(x - h)) / (2 * h)


def d_np_gradient(x):
    return np.gradient(mish(x), x)


def d_missing_product_term(x):  # forgot the x (1 - t^2) sigmoid(x) term of the product rule
    return np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))


def d_sigmoid_for_positive_only(x):  # e / (1 + e) used for every x
    e = np.exp(-np.abs(x))
    t = np.tanh(np.maximum(x, 0) + np.log1p(e))
    return t + x * (1 - t * t) * e / (1 + e)


def d_tanh_derivative_wrong(x):  # d tanh(u)/du taken as 1 - tanh(u)
    e = np.exp(-np.abs(x))
    t = np.tanh(np.maximum(x, 0) + np.log1p(e))
    sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return t + x * (1 - t) * sigmoid


def d_zero_at_zero(x):  # a special case at 0 that is not needed and is wrong
    return np.where(x == 0, 0.0, mish_grad(x))


def d_silu_for_mish(x):  # the derivative of a different activation
    s = 1 / (1 + np.exp(-x))
    return s * (1 + x * (1 - s))


def d_shape(x):
    return mish_grad(x).mean()


def _fd(g, x):  # a helper a student might write: the forward pass reaches it as an argument
    return (g(x + 1e-6) - g(x - 1e-6)) / 2e-6


def d_fd_through_helper(x):
    return _fd(mish, x)


mish_alias = mish


def d_fd_of_alias(x):
    return (mish_alias(x + 1e-5) - mish_alias(x - 1e-5)) / 2e-5


def d_fd_of_inline_copy(x):
    g = lambda t: t * np.tanh(np.logaddexp(0, t))  # noqa: E731 (a copy of f, as students write)
    return (g(x + 1e-5) - g(x - 1e-5)) / 2e-5


def _make_closure_fd(f):
    def derivative(x):
        return (f(x + 1e-5) - f(x - 1e-5)) / 2e-5
    return derivative


WRONG_DERIVATIVE = {
    "sign flipped": ((mish, lambda x: -mish_grad(x)), r"sign is flipped"),
    "a factor 2": ((softsign, lambda x: 2 * softsign_grad(x)), r"2 times the finite differences"),
    "a factor 1/2": ((np.sin, lambda x: 0.5 * np.cos(x)), r"0\.5 times the finite differences"),
    "missing product-rule term": ((mish, d_missing_product_term), r"worst is x = "),
    "sigmoid's x < 0 form for every x": ((mish, d_sigmoid_for_positive_only),
                                         r"disagrees with finite differences"),
    "tanh' as 1 - tanh": ((mish, d_tanh_derivative_wrong), r"disagrees.*worst is x = "),
    "wrong special case at 0": ((mish, d_zero_at_zero), r"at 1 of 53 points; the worst is x = 0"),
    "the derivative of another function": ((mish, d_silu_for_mish), r"disagrees"),
    "softsign' without the square": ((softsign, lambda x: 1 / (1 + np.abs(x))), r"disagrees"),
    "abs' with a wrong kink side": ((absolute, lambda x: np.where(x > 0, 1.0, 1.0)),
                                    r"worst is x = -"),
    "a Python loop": ((np.sin, d_loop), r"Python loop"),
    "a finite difference of f": ((mish, d_numerical), r"finite difference \(mish\(x ± h\)\)"),
    "np.gradient": ((mish, d_np_gradient), r"np\.gradient"),
    "a reduction to one number": ((mish, d_shape), r"returned shape \(\)"),
    "a finite difference in a helper": ((mish, d_fd_through_helper),
                                        r"calls `my_activation` at points a tiny step away"),
    "a finite difference of an alias f2 = f": ((mish, d_fd_of_alias),
                                               r"finite difference|tiny step away"),
    "a finite difference of an inline copy of f": ((mish, d_fd_of_inline_copy),
                                                   r"float32 input gives values that differ"),
    "a finite difference of f from a closure": ((mish, _make_closure_fd(mish)),
                                                r"tiny step away"),
}


def d_softsign_power(x):
    return np.power(1 + np.abs(x), -2.0)


def d_abs_where(x):
    return np.where(x > 0, 1.0, -1.0)  # at the kink 0 any value in [-1, 1] is right


def d_mish_via_sigmoid_of_softplus(x):  # tanh(softplus) = (e^2s - 1)/(e^2s + 1), expanded
    sp = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    t = np.tanh(sp)
    return t + x * (1 - t ** 2) * (1 - np.exp(-sp))  # sigmoid(x) = 1 - e^-softplus(x)


RIGHT_DERIVATIVE = {
    "Mish": (mish, mish_grad),
    "Mish, sigmoid written as 1 - exp(-softplus)": (mish, d_mish_via_sigmoid_of_softplus),
    "softsign": (softsign, softsign_grad),
    "softsign with np.power": (softsign, d_softsign_power),
    "abs with np.sign": (absolute, absolute_grad),
    "abs with np.where (-1 at the kink)": (absolute, d_abs_where),
    "sin": (np.sin, np.cos),
    "Gaussian bump": (lambda x: np.exp(-x * x), lambda x: -2 * x * np.exp(-x * x)),
    "clipped ReLU": (lambda x: np.clip(x, 0, 2),
                     lambda x: ((x > 0) & (x < 2)).astype(x.dtype)),
    "SiLU via f(x) itself (calls f at x, not nearby)": (
        lambda x: x / (1 + np.exp(-x)),
        lambda x: 1 / (1 + np.exp(-x)) * (1 + x * (1 - 1 / (1 + np.exp(-x))))),
}


@pytest.mark.parametrize("name", WRONG_DERIVATIVE)
def test_derivative_rejects(name):
    (forward, answer), message = WRONG_DERIVATIVE[name]
    with pytest.raises(ExerciseError, match=message):
        ch06.check_derivative(forward, answer)


@pytest.mark.parametrize("name", RIGHT_DERIVATIVE)
def test_derivative_accepts(name, capsys):
    _expect_pass(ch06.check_derivative, *RIGHT_DERIVATIVE[name], capsys=capsys)


def test_derivative_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_derivative(mish, unfinished)


# ================================================================ Part 3: registration

def _info(**changes):
    def info():
        return {**mish_info(), **changes}
    return info


WRONG_REGISTRATION = {
    "range too tight": ((_info(output_range=(-0.3, np.inf)), mish), r"below the lower end -0\.3"),
    "lower end at 0 (ignores the dip)": ((_info(output_range=(0, np.inf)), mish),
                                         r"reaches -0\.30\d+ at x = -1\.19"),
    "unbounded below, though Mish has a minimum": ((_info(output_range=(-np.inf, np.inf)), mish),
                                                   r"no lower end.*bounded there.*-0\.3088"),
    "a loose lower end": ((_info(output_range=(-1.0, np.inf)), mish),
                          r"lower end -1 .*0\.691 beyond the smallest value"),
    "a finite upper end where f keeps growing": ((_info(output_range=(-0.31, 1e4)), mish),
                                                 r"ends at 10000.*keeps growing upwards"),
    "softsign claimed unbounded": ((_info(name="softsign", output_range=(-np.inf, np.inf)),
                                    softsign), r"no lower end.*bounded"),
    "sin claimed (-2, 2)": ((_info(name="my_sin", output_range=(-2, 2)), np.sin),
                            r"lower end -2 .*beyond the smallest value -1"),
    "reversed range": ((_info(output_range=(np.inf, -0.31)), mish), r"lo < hi"),
    "range as a string": ((_info(output_range="(-0.31, inf)"), mish), r"pair of numbers"),
    "three numbers": ((_info(output_range=(-0.31, 0, np.inf)), mish), r"pair of numbers"),
    "a built-in name": ((_info(name="relu"), mish), r"built-in"),
    "a built-in alias": ((_info(name="swish"), mish), r"'swish' is the name of a built-in"),
    "a built-in name in capitals": ((_info(name="GELU"), mish), r"built-in"),
    "a name with a space": ((_info(name="my mish"), mish), r"short identifier"),
    "an empty formula": ((_info(formula=""), mish), r"non-empty LaTeX string"),
    "a missing key": ((lambda: {"name": "mish", "output_range": (0, 1)}, mish),
                      r"missing key\(s\) 'formula'"),
    "a misspelt key": ((lambda: {"name": "mish", "formula": "f", "range": (-0.31, np.inf)},
                        mish), r"missing key\(s\) 'output_range'; unexpected key\(s\) 'range'"),
    "a tuple instead of a dict": ((lambda: ("mish", "f", (-0.31, np.inf)), mish),
                                  r"should return a dict"),
}

RIGHT_REGISTRATION = {
    "Mish, rounded outwards": (mish_info, mish),
    "Mish, -0.31 as a list": (_info(output_range=[-0.31, math.inf]), mish),
    "softsign (-1, 1)": (_info(name="softsign", output_range=(-1, 1)), softsign),
    "abs (0, inf)": (_info(name="absolute", output_range=(0.0, float("inf"))), absolute),
    "sin (-1, 1) as numpy numbers": (_info(name="sine", output_range=np.array([-1.0, 1.0])),
                                     np.sin),
}


@pytest.mark.parametrize("name", WRONG_REGISTRATION)
def test_registration_rejects(name):
    (info, forward), message = WRONG_REGISTRATION[name]
    with pytest.raises(ExerciseError, match=message):
        ch06.check_registration(info, forward)


@pytest.mark.parametrize("name", RIGHT_REGISTRATION)
def test_registration_accepts(name, capsys):
    _expect_pass(ch06.check_registration, *RIGHT_REGISTRATION[name], capsys=capsys)


def test_registration_unfinished_and_does_not_register(capsys):
    with pytest.raises(NotAnsweredYet):
        ch06.check_registration(unfinished, mish)
    before = activations.names()
    ch06.check_registration(mish_info, mish)
    assert activations.names() == before


# ================================================================ Part 4: gradient checker

def _scaled(d, fd):
    return np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))


def gc_forward_difference(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x)) / h
    d = df(x)
    return float(np.max(np.abs(d - fd) / _scaled(d, fd)))


def gc_backward_difference(f, df, x, h=1e-5):
    fd = (f(x) - f(x - h)) / h
    d = df(x)
    return float(np.max(np.abs(d - fd) / _scaled(d, fd)))


def gc_divides_by_h(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / h
    d = df(x)
    return float(np.max(np.abs(d - fd) / _scaled(d, fd)))


def gc_precedence(f, df, x, h=1e-5):
    fd = f(x + h) - f(x - h) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / _scaled(d, fd)))


def gc_fixed_h(f, df, x, h=1e-5):
    return max_gradient_error(f, df, x, 1e-5)


def gc_scaled_h(f, df, x, h=1e-5):
    step = h * np.maximum(1.0, np.abs(x))
    fd = (f(x + step) - f(x - step)) / (2 * step)
    d = df(x)
    return float(np.max(np.abs(d - fd) / _scaled(d, fd)))


def gc_absolute(f, df, x, h=1e-5):
    return float(np.max(np.abs(df(x) - (f(x + h) - f(x - h)) / (2 * h))))


def gc_d_only(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.abs(d))))


def gc_fd_only(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.abs(fd))))


def gc_no_one(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(np.abs(d), np.abs(fd))))


def gc_signed(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max((d - fd) / _scaled(d, fd)))


def gc_mean(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.mean(np.abs(d - fd) / _scaled(d, fd)))


def gc_per_point(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return np.abs(d - fd) / _scaled(d, fd)


def gc_loop(f, df, x, h=1e-5):
    worst = 0.0
    for xi in x:
        fd = (f(xi + h) - f(xi - h)) / (2 * h)
        d = df(xi)
        worst = max(worst, abs(d - fd) / max(1.0, abs(d), abs(fd)))
    return float(worst)


def gc_uses_reference(f, df, x, h=1e-5):
    return ch06.reference_max_gradient_error(f, df, x, h)


def gc_mutates(f, df, x, h=1e-5):
    x[0] = 1.0
    return max_gradient_error(f, df, x, h)


def gc_no_return(f, df, x, h=1e-5):
    max_gradient_error(f, df, x, h)


def gc_global_scale(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd)) / max(1.0, np.max(np.abs(d)), np.max(np.abs(fd))))


def gc_no_abs_in_denominator(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1, np.maximum(d, fd))))


def gc_np_gradient(f, df, x, h=1e-5):
    fd = np.gradient(f(x), x)
    d = df(x)
    return float(np.max(np.abs(d - fd) / _scaled(d, fd)))


WRONG_GRADIENT_CHECKER = {
    "one-sided forward difference": (gc_forward_difference,
                                     r"numbers are those of the one-sided difference "
                                     r"\(f\(x \+ h\) - f\(x\)\) / h"),
    "one-sided backward difference": (gc_backward_difference,
                                      r"one-sided difference \(f\(x\) - f\(x - h\)\) / h"),
    "divides by h, not 2h": (gc_divides_by_h, r"divided by h instead of 2h"),
    "operator precedence": (gc_precedence, r"returns .*the task's formula gives"),
    "ignores the h given": (gc_fixed_h, r"h = 1e-5 whatever h is passed in"),
    "h scaled by |x|": (gc_scaled_h, r"step that grows with \|x\|"),
    "absolute error only": (gc_absolute, r"absolute error \|d - fd\|, with no denominator"),
    "denominator leaves |fd| out": (gc_d_only, r"max\(1, \|d\|\), leaving \|fd\| out"),
    "denominator leaves |d| out": (gc_fd_only, r"max\(1, \|fd\|\), leaving \|d\| out"),
    "denominator without the 1": (gc_no_one, r"max\(\|d\|, \|fd\|\), without the 1"),
    "no absolute value": (gc_signed, r"signed difference d - fd"),
    "mean instead of max": (gc_mean, r"the mean error over the points"),
    "per-point errors, not one number": (gc_per_point,
                                         r"single number, got a ndarray of shape \(13,\)"),
    "a loop over the points": (gc_loop, r"Python loop"),
    "calls the check's reference": (gc_uses_reference, r"reference_max_gradient_error.*yourself"),
    "the reference itself": (ch06.reference_max_gradient_error, r"write it yourself"),
    "modifies x": (gc_mutates, r"modified its input"),
    "no return": (gc_no_return, r"returned None"),
    "one scale for all points": (gc_global_scale, r"returns .*the task's formula gives"),
    "no abs in the denominator": (gc_no_abs_in_denominator,
                                  r"-100 \* np\.sinh.*max\(1, d, fd\), with the slopes' signs"),
    "np.gradient on the grid, not h": (gc_np_gradient, r"returns .*the task's formula gives"),
}


def gc_einsum_free_stack(f, df, x, h=1e-5):
    fd = 0.5 * (f(x + h) - f(x - h)) / h
    d = df(x)
    scale = np.max(np.stack([np.ones_like(d), np.abs(d), np.abs(fd)]), axis=0)
    return np.max(np.abs(fd - d) / scale)  # a numpy float is a number too


def gc_maximum_reduce(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2.0 * h)
    d = df(x)
    err = np.abs(d - fd) / np.maximum.reduce([np.ones_like(d), np.abs(d), np.abs(fd)])
    return err.max().item()


def gc_clip(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.clip(np.maximum(abs(d), abs(fd)), 1.0, None)))


RIGHT_GRADIENT_CHECKER = {
    "as in the solution": max_gradient_error,
    "0.5 (...) / h, np.stack, numpy float": gc_einsum_free_stack,
    "np.maximum.reduce, .item()": gc_maximum_reduce,
    "np.clip for the max with 1": gc_clip,
}


@pytest.mark.parametrize("name", WRONG_GRADIENT_CHECKER)
def test_gradient_checker_rejects(name):
    answer, message = WRONG_GRADIENT_CHECKER[name]
    with pytest.raises(ExerciseError, match=message):
        ch06.check_gradient_check_function(answer)


@pytest.mark.parametrize("name", RIGHT_GRADIENT_CHECKER)
def test_gradient_checker_accepts(name, capsys):
    _expect_pass(ch06.check_gradient_check_function, RIGHT_GRADIENT_CHECKER[name], capsys=capsys)


def test_gradient_checker_names_a_cause_only_when_it_can_tell():
    # The central difference, used correctly, but a wrong denominator that matches no
    # catalogued mistake: the message says what differs and names no cause.
    def odd_scale(f, df, x, h=1e-5):
        fd = (f(x + h) - f(x - h)) / (2 * h)
        d = df(x)
        return float(np.max(np.abs(d - fd) / (1 + np.abs(d))))

    with pytest.raises(ExerciseError) as info:
        ch06.check_gradient_check_function(odd_scale)
    text = str(info.value)
    assert "the task's formula gives" in text and "np.linspace(-3, 3, 13)" in text
    assert "central" not in text and "one-sided" not in text and "those of" not in text


def test_gradient_checker_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_gradient_check_function(unfinished)


# ================================================================ Part 5: stability

def st_naive_softplus(x):
    return x * np.tanh(np.log(1 + np.exp(x)))


def st_paper_derivative(x):  # Misra's closed form: e^x w / d^2, which is inf / inf for large x
    w = 4 * (x + 1) + 4 * np.exp(2 * x) + np.exp(3 * x) + np.exp(x) * (4 * x + 6)
    d = 2 * np.exp(x) + np.exp(2 * x) + 2
    return np.exp(x) * w / d**2


def st_clip_700(x):  # overflows in float32 only: exp(700) is fine in float64
    return x * np.tanh(np.log1p(np.exp(np.minimum(x, 700.0))))


def st_promotes(x):
    return mish(x).astype(np.float64)


def st_float64_constant(x):  # np.float64 scalars promote float32 arrays (NEP 50)
    return mish_grad(x) * np.float64(1.0)


def st_in_place(x):
    np.tanh(x, out=x)
    return x


def st_silenced(x):
    with np.errstate(over="ignore"):
        s = 1 / (1 + np.exp(-x))  # the naive sigmoid: right values, an overflow hidden
    return x * s


def st_silenced_grad(x):
    with np.errstate(over="ignore"):
        s = 1 / (1 + np.exp(-x))
    return s * (1 + x * (1 - s))


def st_clipped_input(x):  # clips x itself: mish(1e4) becomes mish(20) = 20
    return mish(np.clip(x, -20, 20))


def st_derivative_zero_far_out(x):  # "saturates" the derivative for stability
    return np.where(np.abs(x) > 50, 0.0, mish_grad(np.clip(x, -50, 50)))


def st_float32_cancellation(x):  # 1 - e^(-x^2) for tiny x: float32 keeps one digit of it
    return 10 * x * (1 - np.exp(-x * x)) / np.maximum(x * x, 1e-30)


def st_naive_tanh_forward(x):
    e, m = np.exp(x), np.exp(-x)
    return x * (e - m) / (e + m)


def st_div_zero(x):
    return np.sin(x) / x * x


def silu(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, x / (1 + e), x * e / (1 + e))


def silu_grad(x):
    s = np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                 np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
    return s * (1 + x * (1 - s))


WRONG_STABILITY = {
    "naive softplus (float32 overflow)": ((st_naive_softplus, mish_grad),
                                          r"my_activation` fails at x = 100 \(float32\)"
                                          r".*overflow.*\nHint: a number too large"),
    "the paper's derivative": ((mish, st_paper_derivative), r"my_derivative` fails at x = "),
    "exp clipped at 700: float32 only": ((st_clip_700, mish_grad), r"fails at x = 100 \(float32\)"),
    "astype(float64)": ((st_promotes, mish_grad), r"float32 input into float64"),
    "a np.float64 constant": ((mish, st_float64_constant), r"my_derivative` turned float32"),
    "in place": ((st_in_place, mish_grad), r"modified its input"),
    "warnings silenced with errstate": ((st_silenced, silu_grad),
                                        r"my_activation` silences floating-point warnings"),
    "derivative's warnings silenced": ((silu, st_silenced_grad),
                                       r"my_derivative` silences floating-point warnings"),
    "input clipped in the forward pass": ((st_clipped_input, mish_grad),
                                          r"at x = 100 `my_derivative` gives 1 but the slope"),
    "derivative set to 0 far out": ((mish, st_derivative_zero_far_out),
                                    r"at x = 100 `my_derivative` gives 0 but the slope"),
    "float32 cancellation": ((st_float32_cancellation, mish_grad),
                             r"in float32 but .* in float64 at x = "),
    "naive tanh: inf / inf": ((st_naive_tanh_forward, mish_grad), r"fails at x = "),
    "0 / 0 at x = 0": ((st_div_zero, mish_grad), r"fails at x = 0 .*divide\nHint: an undefined"),
}

RIGHT_STABILITY = {
    "Mish": (mish, mish_grad),
    "Mish, exp clipped at 80": (fwd_mish_clipped, mish_grad),
    "softsign": (softsign, softsign_grad),
    "SiLU written per sign": (silu, silu_grad),
    "abs": (absolute, absolute_grad),
}


@pytest.mark.parametrize("name", WRONG_STABILITY)
def test_stability_rejects(name):
    (forward, derivative), message = WRONG_STABILITY[name]
    with pytest.raises(ExerciseError, match=message):
        ch06.check_stability(forward, derivative)


@pytest.mark.parametrize("name", RIGHT_STABILITY)
def test_stability_accepts(name, capsys):
    _expect_pass(ch06.check_stability, *RIGHT_STABILITY[name], capsys=capsys)


def test_stability_unfinished_and_no_global_state(capsys):
    with pytest.raises(NotAnsweredYet):
        ch06.check_stability(unfinished, mish_grad)
    ch06.check_stability(mish, mish_grad)
    assert np.geterr()["over"] == "warn"


# ================================================================ Part 6: gradient flow

def _flat(net, test):
    return np.concatenate([test(a.grad(z)).ravel()
                           for a, z in zip(net.hidden_activations, net.cache["z"][:-1])])


def gf_upside_down(net, X, y):
    r = gradient_flow(net, X, y)
    return {**r, "ratio": 1 / r["ratio"]}


def gf_last_hidden(net, X, y):
    norms = diagnostics.gradient_norms(net, X, y)
    return {**gradient_flow(net, X, y), "ratio": float(norms[0] / norms[-2])}


def gf_dead_with_output(net, X, y):
    r = gradient_flow(net, X, y)
    return {**r, "dead": float(diagnostics.dead_fraction(net, X).mean())}


def gf_dead_pooled(net, X, y):
    r = gradient_flow(net, X, y)
    net.forward(X)
    dead = np.concatenate([diagnostics.dead_units(a) for a in net.cache["a"][1:-1]])
    return {**r, "dead": float(dead.mean())}


def gf_dead_entries(net, X, y):  # zero outputs per (sample, unit), not units dead on every sample
    r = gradient_flow(net, X, y)
    net.forward(X)
    return {**r, "dead": float(np.mean(np.concatenate([(a == 0).ravel()
                                                       for a in net.cache["a"][1:-1]])))}


def gf_flat_signed(net, X, y):
    r = gradient_flow(net, X, y)
    return {**r, "flat": float(_flat(net, lambda g: g < 0.01).mean())}


def gf_flat_le(net, X, y):
    r = gradient_flow(net, X, y)
    return {**r, "flat": float(_flat(net, lambda g: np.abs(g) <= 0.01).mean())}


def gf_flat_per_layer(net, X, y):
    r = gradient_flow(net, X, y)
    per_layer = [np.mean(np.abs(a.grad(z)) < 0.01)
                 for a, z in zip(net.hidden_activations, net.cache["z"][:-1])]
    return {**r, "flat": float(np.mean(per_layer))}


def gf_flat_saturated_fraction(net, X, y):  # diagnostics' saturation: NaN for unbounded ones
    r = gradient_flow(net, X, y)
    return {**r, "flat": float(np.mean(diagnostics.saturated_fraction(net, X)[:-1]))}


def gf_trains(net, X, y):
    net.fit(X, y, epochs=1, lr=0.1)
    return gradient_flow(net, X, y)


def gf_uses_reference(net, X, y):
    return ch06.reference_gradient_flow(net, X, y)


def gf_percent(net, X, y):
    r = gradient_flow(net, X, y)
    return {**r, "dead": 100 * r["dead"]}


WRONG_GRADIENT_FLOW = {
    "ratio upside down": (gf_upside_down, r"upside down"),
    "ratio to the last hidden layer": (gf_last_hidden, r"over the last hidden layer's"),
    "dead includes the output layer": (gf_dead_with_output, r"the output layer included"),
    "dead pooled over units": (gf_dead_pooled, r"\['dead'\].*all hidden units pooled"),
    "dead per entry": (gf_dead_entries, r"\['dead'\] is .*expected .*relu"),
    "flat without abs": (gf_flat_signed, r"silu.*without the absolute value"),
    "flat with <=": (gf_flat_le, r"leaky_relu.*<= 0\.01 instead of < 0\.01"),
    "flat per-layer mean": (gf_flat_per_layer, r"mean of the per-layer fractions"),
    "flat from saturated_fraction": (gf_flat_saturated_fraction, r"\['flat'\] is nan.*relu"),
    "trains the network": (gf_trains, r"changed the network's weights"),
    "calls the check's reference": (gf_uses_reference, r"reference_gradient_flow.*yourself"),
    "dead in percent": (gf_percent, r"\['dead'\] is \d+\.?\d*, expected 0\.\d+"),
    "a missing key": (lambda net, X, y: {k: v for k, v in gradient_flow(net, X, y).items()
                                         if k != "flat"}, r"missing key\(s\) 'flat'"),
    "a list, not a dict": (lambda net, X, y: list(gradient_flow(net, X, y).values()),
                           r"should return a dict"),
}


def gf_pooled_by_hand(net, X, y):
    norms = diagnostics.gradient_norms(net, X, y)
    per_layer = diagnostics.dead_fraction(net, X)
    flat = sum(int(np.sum(np.abs(a.grad(z)) < diagnostics.SATURATION_THRESHOLD))
               for a, z in zip(net.hidden_activations, net.cache["z"]))
    total = sum(z.size for z in net.cache["z"][:-1])
    return {"flat": flat / total, "dead": float(np.mean(per_layer[:-1])),
            "ratio": norms[0] / norms[-1]}  # numpy floats, keys in another order


def gf_layer_stats(net, X, y):
    norms = diagnostics.gradient_norms(net, X, y)
    stats = diagnostics.layer_stats(net, X)
    z_hidden = net.cache["z"][:-1]
    flat_counts = [np.count_nonzero(np.abs(a.grad(z)) < 0.01)
                   for a, z in zip(net.hidden_activations, z_hidden)]
    return {"ratio": float(norms[0]) / float(norms[-1]), "dead": float(stats["dead"][:-1].mean()),
            "flat": sum(flat_counts) / sum(z.size for z in z_hidden)}


RIGHT_GRADIENT_FLOW = {
    "as in the solution": gradient_flow,
    "counted by hand, numpy floats": gf_pooled_by_hand,
    "layer_stats and count_nonzero": gf_layer_stats,
}


@pytest.mark.parametrize("name", WRONG_GRADIENT_FLOW)
def test_gradient_flow_rejects(name):
    answer, message = WRONG_GRADIENT_FLOW[name]
    with pytest.raises(ExerciseError, match=message):
        ch06.check_gradient_flow(answer)


@pytest.mark.parametrize("name", RIGHT_GRADIENT_FLOW)
def test_gradient_flow_accepts(name, capsys):
    _expect_pass(ch06.check_gradient_flow, RIGHT_GRADIENT_FLOW[name], capsys=capsys)


def test_gradient_flow_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_gradient_flow(unfinished)


# ================================================================ Part 7: comparison table

def ct_training_accuracy(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).accuracy[-1]) for s in seeds] for n in names}
            for ds in datasets}


def ct_best_epoch(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).val_accuracy.max()) for s in seeds] for n in names}
            for ds in datasets}


def ct_transposed(train, names, datasets, seeds):
    return {n: {ds: [float(train(n, ds, s).val_accuracy[-1]) for s in seeds] for ds in datasets}
            for n in names}


def ct_one_seed(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, seeds[0]).val_accuracy[-1])] for n in names}
            for ds in datasets}


def ct_mean(train, names, datasets, seeds):
    return {ds: {n: float(np.mean([train(n, ds, s).val_accuracy[-1] for s in seeds]))
                 for n in names} for ds in datasets}


def ct_sorted_names(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).val_accuracy[-1]) for s in seeds]
                 for n in sorted(names)} for ds in datasets}


def ct_range_seeds(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).val_accuracy[-1]) for s in range(len(seeds))]
                 for n in names} for ds in datasets}


def ct_twice(train, names, datasets, seeds):
    table = {}
    for ds in datasets:
        table[ds] = {}
        for n in names:
            for s in seeds:
                train(n, ds, s)  # a first run "to warm up"
            table[ds][n] = [float(train(n, ds, s).val_accuracy[-1]) for s in seeds]
    return table


def ct_arguments_swapped(train, names, datasets, seeds):
    return {ds: {n: [float(train(ds, n, s).val_accuracy[-1]) for s in seeds] for n in names}
            for ds in datasets}


def ct_wrong_key(train, names, datasets, seeds):
    runs = {(n, ds): [float(train(n, ds, s).val_accuracy[-1]) for s in seeds]
            for ds in datasets for n in names}
    return {ds: {n: runs[(names[(names.index(n) + 1) % len(names)], ds)] for n in names}
            for ds in datasets}


def ct_seeds_reversed(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).val_accuracy[-1]) for s in reversed(seeds)]
                 for n in names} for ds in datasets}


def ct_first_epoch(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).val_accuracy[0]) for s in seeds] for n in names}
            for ds in datasets}


def ct_epoch_before_last(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).val_accuracy[-2]) for s in seeds] for n in names}
            for ds in datasets}


def ct_train_accuracy_name(train, names, datasets, seeds):  # a Keras-style attribute name
    return {ds: {n: [float(train(n, ds, s).train_accuracy[-1]) for s in seeds] for n in names}
            for ds in datasets}


WRONG_COMPARISON = {
    "training accuracy": (ct_training_accuracy, r"training accuracy"),
    "best epoch": (ct_best_epoch, r"best epoch"),
    "the epoch before the last (off by one)": (ct_epoch_before_last,
                                               r"one epoch before the last"),
    "a History attribute that does not exist": (ct_train_accuracy_name,
                                                r"no attribute 'train_accuracy'; it has "
                                                r"accuracy, val_accuracy, loss and val_loss"),
    "dataset and activation swapped in the nesting": (ct_transposed, r"outer keys"),
    "one seed only": (ct_one_seed, r"never called train\(.*combinations missing"),
    "the mean instead of the list": (ct_mean, r"has shape \(\), expected \(3,\)"),
    "activations sorted": (ct_sorted_names, r"expected the activations \['tanh', 'relu', 'mine'\]"),
    "range(len(seeds)) instead of the seeds": (ct_range_seeds, r"never called train"),
    "two runs per combination": (ct_twice, r"called train 36 times for 18 combinations"),
    "train's arguments swapped": (ct_arguments_swapped, r"called train\('spirals', 'tanh', 3\)"),
    "a run filed under the wrong activation": (ct_wrong_key, r"\['spirals'\]\['tanh'\] differs"),
    "seeds in reverse order": (ct_seeds_reversed, r"right numbers in another order"),
    "the first epoch": (ct_first_epoch, r"differs from the answer"),
    "returns a list": (lambda train, names, datasets, seeds: [], r"returned list"),
}


def ct_loops(train, names, datasets, seeds):
    table = {}
    for ds in datasets:
        row = {}
        for n in names:
            accs = []
            for s in seeds:
                history = train(name=n, dataset=ds, seed=s)
                accs.append(history.val_accuracy[-1])
            row[n] = accs
        table[ds] = row
    return table


def ct_arrays(train, names, datasets, seeds):
    return {ds: {n: np.array([train(n, ds, s).val_accuracy[-1] for s in seeds]) for n in names}
            for ds in datasets}


def ct_setdefault(train, names, datasets, seeds):
    table = {ds: {n: [] for n in names} for ds in datasets}
    for ds in datasets:
        for n in names:
            for s in seeds:
                table[ds][n].append(float(train(n, ds, s).val_accuracy[-1]))
    return table


RIGHT_COMPARISON = {
    "nested comprehensions": comparison_table,
    "three loops, keyword arguments, numpy floats": ct_loops,
    "numpy arrays per seed": ct_arrays,
    "table made first, then filled": ct_setdefault,
}


@pytest.mark.parametrize("name", WRONG_COMPARISON)
def test_comparison_table_rejects(name):
    answer, message = WRONG_COMPARISON[name]
    with pytest.raises(ExerciseError, match=message):
        ch06.check_comparison_table(answer)


@pytest.mark.parametrize("name", RIGHT_COMPARISON)
def test_comparison_table_accepts(name, capsys):
    _expect_pass(ch06.check_comparison_table, RIGHT_COMPARISON[name], capsys=capsys)


def test_comparison_table_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_comparison_table(unfinished)
