"""Chapter 6 exercise checks: catalogues of wrong answers (each rejected, on several draws, with
a message naming its mistake or saying what differs) and of right answers written other ways
(each passes on many draws), and the same verdicts through the autograding path. The capstone
is open-ended, so Parts 1-3 and 5 test properties of the student's own design; the wrong
answers there are designs and tools that break them."""

import functools
import math

import numpy as np
import pytest
from exercise_support import accepts, draws, graded, rejects, ring_of

from helpers import activations, data, diagnostics, nn
from helpers.activations import silu as course_silu
from helpers.exercises import ExerciseError, NotAnsweredYet, ch06


def unfinished(*args, **kwargs):
    raise NotImplementedError()


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


# The inputs of the old checks, which used one fixed input each: answers fitted to them.
OLD_FORWARD_GRID = np.linspace(-6.0, 6.0, 121)
OLD_DERIVATIVE_GRID = np.concatenate([np.linspace(-5.0, 5.0, 41), [-1e-3, -1e-6, 1e-6, 1e-3],
                                      [-100.0, -50.0, -20.0, -10.0, 10.0, 20.0, 50.0, 100.0]])


# ================================================================ Part 1: forward
# Task: my_activation(x), elementwise on a float array of any shape (0-d and empty included),
# vectorised, input untouched; float32 in gives float32 out and float64 gives float64 (with
# the same values to float32's precision); an integer array gives the values of the same
# numbers as floats; finite on [-6, 6], not a straight line, not a built-in up to a scale or
# shift of its input or output; a numpy array, not a list.

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


def fwd_leaky_02(x):
    return np.where(x > 0, x, 0.2 * x)


def fwd_elu_half(x):
    return np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0)))


def fwd_gelu_erf(x):  # GELU's exact erf form: the registry's gelu within 5e-4
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def fwd_swish(x):  # the registry's silu under its other name
    return x / (1 + np.exp(-x))


def fwd_cast_back(x):  # a design of its own, cast back: an int array loses the fractions
    return np.where(x > 0, x, 0.5 * np.sin(x)).astype(x.dtype)


def fwd_fitted_to_the_old_grid(x):
    return mish(x) if x.shape == (121,) else np.maximum(x, 0) * np.tanh(x + 1)


def fwd_flattens(x):
    return mish(x.ravel())


def fwd_piecewise(x):  # an int array gives int results: piecewise keeps x's dtype
    return np.piecewise(x, [x < 0, x >= 0], [lambda t: t / (1 - t), lambda t: t / (1 + t)])


def fwd_float64_constant(x):
    return x * np.tanh(np.logaddexp(0, x)) * np.float64(1.0)


WRONG_FORWARD = {
    "a list comprehension": (fwd_list_comprehension, r"Python loop|turned a float32 input"),
    "a for loop": (fwd_for_loop, r"Python loop"),
    "np.vectorize, a loop in disguise": (fwd_np_vectorize, r"element by element|Python loop|"
                                                           r"raised ValueError.*vectorize"),
    # A one-point batch drawn at 0 gives 0/0: then the nan is what the check names.
    "divides by the batch's std": (fwd_divides_by_batch_std,
                                   r"depends on the array it is in|returned nan"),
    "centres on the batch mean": (fwd_centres_on_batch_mean,
                                  r"depends on the array it is in|raised AxisError"),
    "fitted to the old check's 121 points": (fwd_fitted_to_the_old_grid,
                                             r"depends on the array it is in"),
    "modifies x in place": (fwd_in_place, r"modified its input `x` in place"),
    "an affine function": (lambda x: 2 * x + 1, r"straight line.*2 x \+ 1"),
    "ReLU rewritten": (lambda x: np.maximum(x, 0), r"built-in relu"),
    "Leaky ReLU with alpha 0.2": (fwd_leaky_02, r"built-in leaky_relu\(alpha=0\.2\)"),
    "ELU with alpha 0.5": (fwd_elu_half, r"built-in elu\(alpha=0\.5\)"),
    "GELU in its exact erf form": (fwd_gelu_erf, r"built-in gelu"),
    "SiLU under the name swish": (fwd_swish, r"built-in silu"),
    "the course's silu imported under another name": (course_silu, r"built-in silu"),
    "the course's leaky_relu through functools.partial":
        (functools.partial(activations.Activation.__call__,
                           activations.get("leaky_relu", alpha=0.3)),
         r"built-in leaky_relu\(alpha=0\.3\)"),
    "the course's ELU in a lambda": (lambda x: activations.get("elu")(x), r"built-in elu"),
    "GELU with a tiny wiggle (within the 1e-3 of a match)":
        (lambda x: activations.get("gelu")(x) + 2e-4 * np.sin(x), r"built-in gelu"),
    "the Heaviside step": (lambda x: (x > 0).astype(x.dtype), r"built-in step"),
    "the Heaviside step with np.where and Python floats (float64 out)":
        (lambda x: np.where(x > 0, 1.0, 0.0), r"turned a float32 input into float64"),
    "NaN for x < 0": (lambda x: np.log(x) * x, r"returned nan at x = -"),
    "NaN at exactly 0": (lambda x: np.sin(x) / x, r"returned nan at x = 0"),
    "a reduction to one number": (lambda x: np.sum(x * np.tanh(x)),
                                  r"returned a single number .*expected a numpy array"),
    "the identity in a lambda": (lambda x: x + 0.0, r"straight line"),
    "returns None": (lambda x: None, r"returned None"),
    "x sigma(1.702 x), SiLU with beta 1.702": (lambda x: x / (1 + np.exp(-1.702 * x)),
                                               r"built-in silu up to a scale and shift"),
    "x sigma(2 x), Swish with beta 2": (lambda x: x / (1 + np.exp(-2 * x)),
                                        r"built-in silu up to a scale and shift.*b = (2|1\.99)"),
    "LeCun's scaled tanh 1.7159 tanh(2x/3)": (lambda x: 1.7159 * np.tanh(2 * x / 3),
                                              r"built-in (tanh|sigmoid) up to a scale"),
    "ReLU shifted down by 0.5": (lambda x: np.maximum(x, 0) - 0.5,
                                 r"built-in relu up to a scale and shift"),
    "softplus with beta 2": (lambda x: np.logaddexp(0, 2 * x) / 2,
                             r"built-in softplus up to a scale and shift"),
    "a Python list": (lambda x: [float(v) for v in np.ravel(np.tanh(x) * x)],
                      r"returned a Python list"),
    "a nested list": (lambda x: (np.tanh(x) * x).tolist(), r"returned a Python list|float"),
    "integer input cast back with .astype(x.dtype)": (fwd_cast_back, r"integer \(int64\) input"),
    "np.piecewise, which keeps an integer array's dtype": (fwd_piecewise,
                                                           r"integer \(int64\) input"),
    "a one-element array for a 0-d input": (lambda x: np.atleast_1d(mish(x)),
                                           r"returned shape \(1,\) .*expected \(\)"),
    "flattened": (fwd_flattens, r"returned shape \(\d+,\) for an input of shape \(\d+, \d+"),
    "float32 turned into float64 by a np.float64 constant":
        (fwd_float64_constant, r"turned a float32 input into float64"),
    "float64 turned into float32": (lambda x: mish(x).astype(np.float32),
                                    r"turned a float64 input into float32"),
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
    "absolute value (an int array stays int)": absolute,
    "np.sin": np.sin,
    "rational Swish x (1 + x / (1 + |x|)) / 2": lambda x: x * (1 + x / (1 + np.abs(x))) / 2,
    "a Gaussian bump exp(-x^2)": lambda x: np.exp(-x * x),
    "clipped ReLU np.clip(x, 0, 2)": lambda x: np.clip(x, 0, 2),
    "Leaky ReLU with a negative slope -0.3 (not a built-in)": lambda x: np.where(x > 0, x,
                                                                                 -0.3 * x),
    "Mish built from the course's softplus and tanh":
        lambda x: x * activations.get("tanh")(activations.softplus(x)),
    "a V, slopes -1 and 1 (np.abs(x) * 1.0: leaky_relu's alpha is in [0, 1))":
        lambda x: np.abs(x) * 1.0,
    "a V with slopes -2 and 1": lambda x: np.where(x > 0, x, -2.0 * x),
    "Mish stretched, shifted and scaled, 1.5 mish(2x - 1) + 0.1":
        lambda x: 1.5 * mish(2 * x - 1) + 0.1,
}


# The newcomer's report: built-ins stretched, shifted, reflected or scaled, with a parameter,
# that the old matcher (b in [0.2, 5], c in [-1.5, 1.5], the parameter read off f(-1)) missed.
def fwd_leaky_scaled(x):
    return 3 * np.where(x > 0, x, 0.2 * x)


def fwd_leaky_reflected(x):
    return -np.where(-x > 0, -x, -0.2 * x)


def fwd_leaky_steep_left(x):  # slope 2 on the left, 1 on the right: leaky_relu(0.5) reflected
    return np.where(x > 0, x, 2.0 * x)


def fwd_elu_scaled(x):
    return 1.5 * np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0)))


def fwd_selu(x):  # SELU (Klambauer et al. 2017): a scaled ELU
    return 1.0507 * np.where(x > 0, x, 1.67326 * (np.exp(np.minimum(x, 0)) - 1))


def fwd_size_switch(x):  # right on every input up to 1,892 entries
    return mish(x) if np.size(x) < 5000 else np.maximum(x, 0)


def fwd_ndim_switch(x):
    return mish(x) if np.ndim(x) <= 3 else np.maximum(x, 0)


def fwd_float16_for_float32(x):  # float32 through float16: 3 digits
    y = mish(x)
    return y.astype(np.float16).astype(np.float32) if x.dtype == np.float32 else y


WRONG_FORWARD.update({
    "3 leaky_relu(0.2)": (fwd_leaky_scaled, r"built-in leaky_relu\(alpha=0\.2\) up to a scale "
                                            r"and shift.*a = 3, b = 1"),
    "leaky_relu(0.2) reflected, -f(-x)": (fwd_leaky_reflected,
                                          r"built-in leaky_relu\(alpha=0\.2\) up to.*b = -1"),
    "slope 2 on the left, leaky_relu(0.5) reflected": (fwd_leaky_steep_left,
                                                       r"built-in leaky_relu\(alpha=0\.5\) up to"),
    "1.5 elu(0.5)": (fwd_elu_scaled, r"built-in elu\(alpha=0\.5\) up to a scale.*a = 1\.5"),
    "SELU, a scaled elu(1.6733)": (fwd_selu, r"built-in elu\(alpha=1\.673\d*\) up to a scale"),
    "sigmoid(x - 4)": (lambda x: activations.sigmoid(x - 4), r"built-in sigmoid up to.*c = -4"),
    "softplus(x - 3)": (lambda x: activations.softplus(x - 3),
                        r"built-in softplus up to.*c = -3"),
    "tanh(x + 2.5)": (lambda x: np.tanh(x + 2.5), r"built-in tanh up to.*c = 2\.5"),
    "silu(x - 3)": (lambda x: activations.silu(x - 3), r"built-in silu up to.*c = -3"),
    "elu(x - 3)": (lambda x: activations.elu(x - 3), r"built-in elu\(alpha=1\) up to"),
    "tanh(8x)": (lambda x: np.tanh(8 * x), r"built-in tanh up to.*b = 8,"),
    "20 arctan(0.05 x)": (lambda x: 20 * np.arctan(0.05 * x),
                          r"built-in arctan up to.*a = 20, b = 0\.05,"),
    "gelu(1 - 2x)": (lambda x: activations.gelu(1 - 2 * x), r"built-in gelu up to.*b = -2,"),
    "a steep tanh between two points, tanh(40 (x - 3.3))":
        (lambda x: np.tanh(40 * (x - 3.3)), r"built-in (tanh|step) up to"),
    "a step at 1.3, from -1 to 2": (lambda x: np.where(x > 1.3, 2.0, -1.0).astype(x.dtype),
                                    r"built-in step up to a scale and shift"),
    "mish on small inputs, relu on 200,000 (np.size)": (fwd_size_switch,
                                                        r"200,000 elements.*depends on the "
                                                        r"array it is in"),
    "mish up to 3-D, relu on 4-D input (np.ndim)": (fwd_ndim_switch, r"4-D array.*depends on "
                                                                     r"the array it is in"),
    "float32 through float16": (fwd_float16_for_float32,
                                r"in float32 but .* in float64 at x = .*\n.*\nHint: your float32 "
                                r"results are all numbers float16 can hold"),
})


# ------------------------------------------------- the confirmation reading's answers, Part 1
def blend(x):  # a costly vectorised design: 0.8 mish + 0.2 x sigma(2x) + 0.05 sin(x) e^(-x^2)
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    e = np.exp(-np.abs(2 * x))
    s2 = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return 0.8 * mish(x) + 0.2 * x * s2 + 0.05 * np.sin(x) * np.exp(-x * x)


def blend_grad(x):
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    e1, e2 = np.exp(-np.abs(x)), np.exp(-np.abs(2 * x))
    s = np.where(x >= 0, 1 / (1 + e1), e1 / (1 + e1))
    s2 = np.where(x >= 0, 1 / (1 + e2), e2 / (1 + e2))
    t = np.tanh(np.maximum(x, 0) + np.log1p(e1))
    g = np.exp(-x * x)
    return (0.8 * (t + x * (1 - t * t) * s) + 0.2 * (s2 + 2 * x * s2 * (1 - s2))
            + 0.05 * (np.cos(x) * g - 2 * x * np.sin(x) * g))


def fwd_float16_both(x):  # float32 and float64 alike through float16: they agree, 3 digits
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    return mish(x.astype(np.float16)).astype(dtype)


def fwd_float32_both(x):  # float64 computed in float32 and cast back
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    return mish(x.astype(np.float32)).astype(dtype)


def fwd_cached_by_shape():
    cache = {}

    def f(x):
        key = (np.shape(x), np.asarray(x).dtype.str)
        if key not in cache:
            cache[key] = mish(x)
        return cache[key]
    return f


def fwd_deque_setitem(x):  # a loop driven from C: math.tanh on each numpy scalar
    import collections
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    flat = x.astype(np.float64).ravel()
    out = np.empty(flat.size)
    collections.deque(map(out.__setitem__, range(flat.size), map(math.tanh, flat)), maxlen=0)
    return (out * flat).astype(dtype).reshape(x.shape)


def fwd_ints_through_float32(x):  # integers computed in float32: 1e-7 off float64's values
    x = np.asarray(x)
    return mish(x.astype(np.float32) if x.dtype.kind in "iu" else x)


WRONG_FORWARD.update({
    "float16 in float32 and float64 alike": (fwd_float16_both, r"moves in jumps"),
    "float64 computed in float32 and cast back": (fwd_float32_both, r"moves in jumps"),
    "a result remembered by shape and dtype": (fwd_cached_by_shape(),
                                               r"depends on the array it is in|a later call "
                                               r"changed|keeps the array it returned"),
    "math.tanh on each element through map and a deque": (fwd_deque_setitem,
                                                           r"took \d+ ms of CPU.*one at a time"),
    "integers computed in float32": (fwd_ints_through_float32,
                                     r"gives (\S+) at x = \S+ for an integer \(int64\) "
                                     r"input, but (?!\1 )\S+ for x"),
})

RIGHT_FORWARD["a costly blend, 0.8 mish + 0.2 x sigma(2x) + 0.05 sin(x) exp(-x^2)"] = blend


def test_forward_rejects_every_stretched_builtin():
    """Any built-in as a f(b x + c) + d in the range the task states (|b| from 1/50 to 50,
    |c| <= 6 (|b| + 1), any parameter the registry allows) is rejected, whatever the draw."""
    rng = np.random.default_rng(2026)
    names = [n for n in activations.builtin_names() if n != "identity"]
    for _ in range(30):
        name = str(rng.choice(names))
        params = {"leaky_relu": {"alpha": float(rng.uniform(0, 0.95))},
                  "elu": {"alpha": float(10 ** rng.uniform(-1, 1))}}.get(name, {})
        act = activations.get(name, **params)
        b = float(np.exp(rng.uniform(np.log(0.02), np.log(50)))) * float(rng.choice([-1, 1]))
        c = float(rng.uniform(-1, 1)) * 6 * (abs(b) + 1)
        a = float(10 ** rng.uniform(-1, 1)) * float(rng.choice([-1, 1]))
        d = float(rng.uniform(-3, 3))
        answer = functools.partial(lambda x, act, a, b, c, d: a * act(b * x + c) + d,
                                   act=act, a=a, b=b, c=c, d=d)
        for seed in (0, 1):
            with pytest.raises(ExerciseError, match=r"built-in|straight line") as info:
                ch06.check_forward(answer, seed=seed)
            assert "built-in" in str(info.value) or "straight" in str(info.value), (
                act.label, a, b, c, d)


@pytest.mark.parametrize("name", WRONG_FORWARD)
def test_forward_rejects(name):
    answer, message = WRONG_FORWARD[name]
    rejects(ch06.check_forward, answer, message)


@pytest.mark.parametrize("name", RIGHT_FORWARD)
def test_forward_accepts_on_every_draw(name):
    accepts(ch06.check_forward, RIGHT_FORWARD[name], draws())


def test_forward_pass_message_is_the_same_for_every_draw(capsys):
    for seed in (1, 2):
        ch06.check_forward(mish, seed=seed)
    first, second = capsys.readouterr().out.splitlines()
    assert first == second and first.startswith("\u2705")


def test_forward_unfinished():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch06.check_forward(unfinished)


def test_forward_edge_cases_come_first_and_cover_the_contract():
    cases = ch06.FORWARD.draw(3)
    arrays = [c.args[0] for c in cases]
    assert any(a.ndim == 0 for a in arrays) and any(a.size == 0 for a in arrays)
    assert {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)} <= {
        a.dtype for a in arrays}
    grid = arrays[0]
    assert grid.min() == -6 and grid.max() == 6 and 0.0 in grid
    assert np.array_equal(grid.astype(np.float32).astype(np.float64), grid)
    assert not np.array_equal(grid, ch06.FORWARD.draw(4)[0].args[0])


def test_forward_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch06.FORWARD, softsign, tmp_path / "r", monkeypatch).passed
    wrong = graded(ch06.FORWARD, fwd_leaky_02, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "leaky_relu" in wrong.message


# ================================================================ Part 2: derivative
# Task: my_derivative(x), the derivative worked out by hand (no finite difference, no
# np.gradient), elementwise and vectorised, any shape, the dtype rule of Part 1; it agrees
# with central finite differences of the student's own my_activation on a grid on [-5, 5],
# within 1e-6 of 0 and out to |x| = 100 (at a kink, any value between the one-sided slopes).

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


def d_fd_of_inline_copy_in_float64(x):  # the copy's difference in float64, cast back
    t = x.astype(np.float64)
    g = lambda u: u * np.tanh(np.logaddexp(0, u))  # noqa: E731
    return ((g(t + 1e-5) - g(t - 1e-5)) / 2e-5).astype(x.dtype)


def _make_closure_fd(f):
    def derivative(x):
        return (f(x + 1e-5) - f(x - 1e-5)) / 2e-5
    return derivative


def d_positive_side_doubled(x):
    g = softsign_grad(x)
    return np.where(x > 0, 2 * g, g)


def d_only_at_the_old_points(x):  # right at the old check's 53 points, 1 elsewhere
    return np.where(np.isin(x, OLD_DERIVATIVE_GRID), mish_grad(x), np.ones_like(x))


def d_float32_inside(x):  # computed in float32, cast back: float32's 7 digits
    return mish_grad(x.astype(np.float32)).astype(x.dtype)


def f_float32_inside(x):  # the forward pass computed in float32 and cast back
    return mish(x.astype(np.float32)).astype(x.dtype)


WRONG_DERIVATIVE = {
    "sign flipped": ((mish, lambda x: -mish_grad(x)), r"sign is flipped at every point"),
    "a factor 2": ((softsign, lambda x: 2 * softsign_grad(x)),
                   r"2 times the finite differences at every point"),
    "a factor 1/2": ((np.sin, lambda x: 0.5 * np.cos(x)), r"0\.5 times the finite differences"),
    "doubled on the side x > 0 only": ((softsign, d_positive_side_doubled),
                                       r"2 times the finite differences on the side x > 0 "
                                       r"\(all \d+ points there\), while at x < 0 it agrees"),
    "missing product-rule term": ((mish, d_missing_product_term), r"worst is x = "),
    "sigmoid's x < 0 form for every x": ((mish, d_sigmoid_for_positive_only),
                                         r"disagrees with finite differences"),
    "tanh' as 1 - tanh": ((mish, d_tanh_derivative_wrong), r"disagrees.*worst is x = "),
    "wrong special case at 0": ((mish, d_zero_at_zero), r"at 1 of \d+ points; the worst is x = 0"),
    "the derivative of another function": ((mish, d_silu_for_mish), r"disagrees"),
    "softsign' without the square": ((softsign, lambda x: 1 / (1 + np.abs(x))), r"disagrees"),
    "abs' with a wrong kink side": ((absolute, lambda x: np.ones_like(x)),
                                    r"worst is x = -.*\n.*\nHint: the sign is flipped on the "
                                    r"side x < 0"),
    "a Python loop": ((np.sin, d_loop), r"Python loop|raised TypeError"),
    "a finite difference of f": ((mish, d_numerical),
                                 r"calls `my_activation` at points other than x"),
    "np.gradient": ((mish, d_np_gradient), r"calls `numpy.*gradient`.*finite differences"),
    "a reduction to one number": ((mish, lambda x: mish_grad(x).mean()),
                                  r"returned a single number"),
    "a finite difference in a helper": ((mish, d_fd_through_helper),
                                        r"calls `my_activation` at points other than x"),
    "a finite difference of an alias f2 = f": ((mish, d_fd_of_alias), r"points other than x"),
    "a finite difference through functools.partial": ((mish, functools.partial(_fd, mish)),
                                                      r"points other than x"),
    "a finite difference of an inline copy of f": ((mish, d_fd_of_inline_copy),
                                                   r"rounding noise of a finite difference|"
                                                   r"shifted copy of x"),
    "the inline copy's difference in float64, cast back":
        ((mish, d_fd_of_inline_copy_in_float64), r"rounding noise of a finite difference|"
                                                  r"shifted copy of x"),
    "a finite difference of f from a closure": ((mish, _make_closure_fd(mish)),
                                                r"points other than x"),
    "fitted to the old check's 53 points": ((mish, d_only_at_the_old_points), r"disagrees"),
    "computed in float32 and cast back (7 digits)": ((mish, d_float32_inside),
                                                     r"float64 results are all numbers float32 "
                                                     r"can hold"),
    "my_activation computed in float32 and cast back": ((f_float32_inside, mish_grad),
                                                        r"your `my_activation` (itself is not "
                                                        r"smooth|.*computes in a lower "
                                                        r"precision and casts back)"),
    "off by one part in a million": ((mish, lambda x: mish_grad(x) * (1 + 1e-6)),
                                     r"agrees with finite differences to about \d digits"),
    "integer input cast back with .astype(x.dtype)": ((mish, lambda x: mish_grad(x).astype(
        x.dtype)), r"integer|the integers -5 to 5"),
    "a list instead of an array": ((mish, lambda x: mish_grad(x).tolist()),
                                   r"returned a Python list"),
    "a one-element array for a 0-d input": ((mish, lambda x: np.atleast_1d(mish_grad(x))),
                                           r"returned shape \(1,\) .*expected \(\)"),
    "flattened": ((mish, lambda x: mish_grad(x.ravel())), r"returned shape \(\d+,\) for an "
                                                          r"input of shape \((\d+(, \d+)+)?\)"),
    "float32 turned into float64": ((mish, lambda x: mish_grad(x) * np.float64(1)),
                                    r"turned a float32 input into float64"),
    "np.where with Python floats (float64 out)": ((absolute, lambda x: np.where(x > 0, 1.0, -1.0)),
                                                  r"turned a float32 input into float64"),
    "modifies x in place": ((mish, lambda x: np.multiply(x, 0, out=x) + mish_grad(x)),
                            r"modified its input `x` in place"),
    "no return": ((mish, lambda x: None), r"returned None"),
}


def d_softsign_power(x):
    return np.power(1 + np.abs(x), -2.0)


def d_abs_where(x):
    return np.where(x > 0, 1, -1).astype(x.dtype)  # at the kink 0 any value in [-1, 1] is right


def d_mish_via_sigmoid_of_softplus(x):  # sigmoid(x) = 1 - e^-softplus(x)
    sp = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    t = np.tanh(sp)
    return t + x * (1 - t ** 2) * (1 - np.exp(-sp))


def silu_fwd(x):
    return x / (1 + np.exp(-x))


def silu_calls_f_at_x(x):  # SiLU' = f(x) + sigma(x) (1 - f(x)): calls f at x itself
    s = 1 / (1 + np.exp(-x))
    return silu_fwd(x) + s * (1 - silu_fwd(x))


RIGHT_DERIVATIVE = {
    "Mish": (mish, mish_grad),
    "Mish, sigmoid written as 1 - exp(-softplus)": (mish, d_mish_via_sigmoid_of_softplus),
    "softsign": (softsign, softsign_grad),
    "softsign with np.power": (softsign, d_softsign_power),
    "abs with np.sign": (absolute, absolute_grad),
    "abs with np.where (-1 at the kink), the input's dtype kept": (absolute, d_abs_where),
    "sin": (np.sin, np.cos),
    "Gaussian bump": (lambda x: np.exp(-x * x), lambda x: -2 * x * np.exp(-x * x)),
    "clipped ReLU": (lambda x: np.clip(x, 0, 2),
                     lambda x: ((x > 0) & (x < 2)).astype(x.dtype)),
    "SiLU calling f at x itself, not nearby": (silu_fwd, silu_calls_f_at_x),
    "a high-frequency design, sin(8x) / 8 + x": (lambda x: np.sin(8 * x) / 8 + x,
                                                lambda x: np.cos(8 * x) + 1),
}


def d_eighth_order_fd(x):  # an 8th-order central difference with a wide step: accurate
    h, weights = 0.05, (4 / 5, -1 / 5, 4 / 105, -1 / 280)
    return sum(w * (mish(x + k * h) - mish(x - k * h)) for k, w in enumerate(weights, 1)) / h


def d_richardson(x):  # central differences with h and 2h, combined: a finite difference too
    h = 1e-3
    d1 = (mish(x + h) - mish(x - h)) / (2 * h)
    d2 = (mish(x + 2 * h) - mish(x - 2 * h)) / (4 * h)
    return (4 * d1 - d2) / 3


def _mish_analytic(z):  # a copy of Mish without abs or max, so complex numbers go through it
    return z * np.tanh(np.log(1 + np.exp(z)))


def d_complex_step(x):
    return np.imag(_mish_analytic(x + 1e-30j)) / 1e-30


def d_complex_step_inline(x):
    z = x + 1e-30j
    return (z * np.tanh(np.log(1 + np.exp(z)))).imag / 1e-30


def d_wrong_on_a_short_interval(x):  # doubled on 0.30 < x < 0.305 only
    g = mish_grad(x)
    return np.where((x > 0.30) & (x < 0.305), 2 * g, g)


def d_one_beyond_5(x):  # f' set to 1 for x > 5, where Mish's slope is 1 + 8e-4 and less
    return np.where(x > 5, 1.0, mish_grad(x))


def d_mish_course_sigmoid(x):  # the right derivative, with the course's own sigmoid
    t = np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))
    return t + x * (1 - t ** 2) * activations.sigmoid(x)


WRONG_DERIVATIVE.update({
    "an 8th-order central difference of f, step 0.05": ((mish, d_eighth_order_fd),
                                                        r"calls `my_activation` at points other "
                                                        r"than x \(up to 0\.2 from"),
    "Richardson's difference of f, h = 1e-3": ((mish, d_richardson),
                                                r"calls `my_activation` at points other than x"),
    "a complex step on a copy of f": ((mish, d_complex_step),
                                      r"computes with complex numbers \(`z` in `_mish_analytic`"),
    "a complex step written inline": ((mish, d_complex_step_inline),
                                      r"computes with complex numbers \(`z` in "
                                      r"`d_complex_step_inline`"),
    "wrong only on 0.30 < x < 0.305": ((mish, d_wrong_on_a_short_interval),
                                       r"disagrees with finite differences|float32 input gives"),
    "f' = 1 for x > 5": ((mish, d_one_beyond_5),
                         r"agrees with finite differences to about \d+ digits only at .*a small "
                         r"error in a term"),
    "off by one part in ten million": ((mish, lambda x: mish_grad(x) * (1 + 1e-7)),
                                       r"digits only at \d+ points from .*a small error"),
})

RIGHT_DERIVATIVE["Mish, with the course's activations.sigmoid"] = (mish, d_mish_course_sigmoid)


def _mish_copy(u):
    return u * np.tanh(np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u))))


def d_fd_on_a_copy(x):
    """Confirmation reading: a central difference of a copy of the activation, with a step of
    1e-4 (1 + |x|), in float64 and cast back."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(float)
    x = x.astype(np.float64)
    h = 1e-4 * (1 + np.abs(x))
    return ((_mish_copy(x + h) - _mish_copy(x - h)) / (2 * h)).astype(dtype)


def d_fd_sqrt_step(x):
    """The same with a step of 1e-3 sqrt(1 + x^2)."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(float)
    x = x.astype(np.float64)
    h = 1e-3 * np.sqrt(1 + x * x)
    return ((_mish_copy(x + h) - _mish_copy(x - h)) / (2 * h)).astype(dtype)


WRONG_DERIVATIVE.update({
    "a central difference of a copy, step 1e-4 (1 + |x|)": (
        (mish, d_fd_on_a_copy), r"computes on a shifted copy of x"),
    "a central difference of a copy, step 1e-3 sqrt(1 + x^2)": (
        (mish, d_fd_sqrt_step), r"computes on a shifted copy of x"),
})


# ------------------------------------------------- the confirmation reading's answers, Part 2
def _mish_helper(x):  # a copy of the forward pass under another name
    return x * np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))


def d_helper_central(x):  # central difference of a helper, h = 1e-4
    x = np.asarray(x, dtype=float)
    h = 1e-4
    return (_mish_helper(x + h) - _mish_helper(x - h)) / (2 * h)


def d_helper_richardson(x):  # Richardson with h = 1e-3: error ~1e-12
    x = np.asarray(x, dtype=float)
    h = 1e-3
    d1 = (_mish_helper(x + h) - _mish_helper(x - h)) / (2 * h)
    d2 = (_mish_helper(x + 2 * h) - _mish_helper(x - 2 * h)) / (4 * h)
    return (4 * d1 - d2) / 3


def d_helper_six_points(x):  # the 6-point stencil, h = 1e-2: error ~h^6
    x = np.asarray(x, dtype=float)
    h, f = 1e-2, _mish_helper
    return (f(x + 3 * h) - 9 * f(x + 2 * h) + 45 * f(x + h) - 45 * f(x - h) + 9 * f(x - 2 * h)
            - f(x - 3 * h)) / (60 * h)


def d_wrong_on_a_band(x):  # 1% too large for 5.5 < |x| < 9.5
    g = mish_grad(x)
    return np.where((np.abs(x) > 5.5) & (np.abs(x) < 9.5), 1.01 * g, g)


def d_scrambled_from_3d(x):  # right up to 2-D, the entries shuffled for 3-D and more
    g = mish_grad(x)
    return g if np.ndim(x) < 3 else g.ravel()[::-1].reshape(g.shape)


def d_cached_by_shape():
    cache = {}

    def d(x):
        key = (np.shape(x), np.asarray(x).dtype.str)
        if key not in cache:
            cache[key] = mish_grad(x)
        return cache[key]
    return d


def d_map_exp(x):  # np.exp on each numpy scalar, driven from C by map
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    e = np.fromiter(map(np.exp, -np.abs(x).ravel()), dtype=x.dtype, count=x.size)
    e = e.reshape(x.shape)
    t = np.tanh(np.maximum(x, 0) + np.log1p(e))
    return t + x * (1 - t * t) * np.where(x >= 0, 1 / (1 + e), e / (1 + e))


WRONG_DERIVATIVE.update({
    "a central difference of a helper, h = 1e-4": ((mish, d_helper_central),
                                                   r"shifted copy of x"),
    "Richardson differences of a helper, h = 1e-3": ((mish, d_helper_richardson),
                                                     r"shifted copy of x"),
    "a 6-point stencil of a helper, h = 1e-2": ((mish, d_helper_six_points),
                                                r"shifted copy of x"),
    "1% wrong for 5.5 < |x| < 9.5": ((mish, d_wrong_on_a_band),
                                     r"disagrees with finite differences"),
    "scrambled for 3-D and 4-D input": ((mish, d_scrambled_from_3d),
                                        r"-D array of shape .* at the same x among"),
    "a result remembered by shape and dtype": ((mish, d_cached_by_shape()),
                                               r"at the same x among|differ from its own "
                                               r"float64 values|a later call changed|keeps the "
                                               r"array it returned"),
    "np.exp on each element through map": ((mish, d_map_exp),
                                           r"took \d+ ms of CPU.*times your own|"
                                           r"element by element"),
})

RIGHT_DERIVATIVE["a costly blend, 0.8 mish + 0.2 x sigma(2x) + 0.05 sin(x) exp(-x^2)"] = (
    blend, blend_grad)


@pytest.mark.parametrize("name", WRONG_DERIVATIVE)
def test_derivative_rejects(name):
    answers, message = WRONG_DERIVATIVE[name]
    rejects(ch06.check_derivative, answers, message)


@pytest.mark.parametrize("name", RIGHT_DERIVATIVE)
def test_derivative_accepts_on_every_draw(name):
    accepts(ch06.check_derivative, RIGHT_DERIVATIVE[name], draws())


def test_derivative_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_derivative(mish, unfinished)


def test_derivative_points_cover_what_the_task_names():
    cases = ch06.DERIVATIVE.draw(5)
    x = next(c.args[0] for c in cases if c.note.get("role") == "d")
    assert x.min() == -100 and x.max() == 100 and 0.0 in x
    assert np.any((np.abs(x) > 0) & (np.abs(x) <= 1.01e-6))
    assert {c.note.get("role") for c in cases} >= {"f0", "f+h", "f-h", "f+2h", "f-2h", "d",
                                                    "d_after", "d32", "timed"}
    band = x[(np.abs(x) >= 5) & (np.abs(x) <= 12)]
    assert np.max(np.diff(np.unique(np.abs(band)))) <= 0.021  # |x| from 5 to 12, densely
    same = [c.args[0] for c in cases if c.note.get("role") == "same"]
    assert {a.ndim for a in same} >= {0, 1, 3, 4}
    assert any(a.shape == b.shape and a.dtype == b.dtype and not np.array_equal(a, b)
               for i, a in enumerate(same) for b in same[i + 1:] if a.ndim == 3)


def test_the_draws_hold_what_the_confirmation_reading_asked_for():
    forward = ch06.FORWARD.draw(3)
    args = [c.args[0] for c in forward]
    assert any(a.dtype == np.float32 and a.ndim == 0 for a in args)
    assert any(a.dtype == np.float32 and 1 <= a.size <= 4 and a.ndim == 1 for a in args)
    assert {"grid+1", "grid+2", "timed"} <= {c.note.get("role") for c in forward}
    checker = ch06.GRADIENT_CHECKER.draw(3)
    spikes = [c for c in checker if c.args[1].params.get("error") == "spike"]
    where = [int(np.flatnonzero(c.args[2] == c.args[1].params["value"])[0]) for c in spikes]
    size = spikes[0].args[2].size
    assert size > 10 and where[:2] == [0, size - 1] and where[2] % 2 == 1
    table = ch06.COMPARISON.draw(3)
    assert table[-1].args[1:] == table[0].args[1:] and table[-1].args[0] != table[0].args[0]


def test_derivative_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch06.DERIVATIVE, (mish, mish_grad), tmp_path / "r", monkeypatch).passed
    wrong = graded(ch06.DERIVATIVE, (softsign, d_positive_side_doubled), tmp_path / "w",
                   monkeypatch)
    assert not wrong.passed and "side x > 0" in wrong.message
    numerical = graded(ch06.DERIVATIVE, (mish, d_fd_through_helper), tmp_path / "n",
                       monkeypatch)
    assert not numerical.passed and "points other than x" in numerical.message


# ================================================================ Part 3: registration
# Task: my_activation_info() returns a dict with exactly "name" (an identifier that is not a
# built-in or an alias), "formula" (a non-empty string) and "output_range" (lo, hi): a pair of
# numbers, lo < hi, +-np.inf for an unbounded side; every value of my_activation for |x| up
# to 1e4 lies in it, an infinite end only where f keeps growing (or cannot be told from
# a slow approach to a bound), a finite end within
# 0.02 (1 + |extreme|) of the extreme value.

def _info(**changes):
    def info():
        return {**mish_info(), **changes}
    return info


WRONG_REGISTRATION = {
    "range too tight": ((_info(output_range=(-0.3, np.inf)), mish), r"below the lower end -0\.3"),
    "lower end rounded inwards to 4 digits": ((_info(output_range=(-0.3088, np.inf)), mish),
                                              r"reaches -0\.30884\d* at x = -1\.19\d*, below the "
                                              r"lower end -0\.3088 "),
    "lower end at 0 (ignores the dip)": ((_info(output_range=(0, np.inf)), mish),
                                         r"reaches -0\.30\d+ at x = -1\.19"),
    "unbounded below, though Mish has a minimum": ((_info(output_range=(-np.inf, np.inf)), mish),
                                                   r"no lower end.*bounded there.*-0\.3088"),
    "a loose lower end": ((_info(output_range=(-1.0, np.inf)), mish),
                          r"lower end -1 .*0\.691 beyond the smallest value"),
    "a finite upper end where f keeps growing": ((_info(output_range=(-0.31, 1e4)), mish),
                                                 r"reaches 1e\+12 at x = 1e\+12, above the upper "
                                                 r"end 10000"),
    "an upper end beyond every value, where f keeps growing":
        ((_info(output_range=(-0.31, 1e13)), mish), r"ends at 1e\+13.*keeps growing upwards"),
    "softsign claimed unbounded": ((_info(name="softsign", output_range=(-np.inf, np.inf)),
                                    softsign), r"no lower end.*bounded"),
    "softsign's range read off [-10, 10]": ((_info(name="softsign", output_range=(-0.91, 0.91)),
                                             softsign), r"below the lower end -0\.91"),
    "sin claimed (-2, 2)": ((_info(name="my_sin", output_range=(-2, 2)), np.sin),
                            r"lower end -2 .*beyond the smallest value -1"),
    "reversed range": ((_info(output_range=(np.inf, -0.31)), mish), r"lo < hi"),
    "range as a string": ((_info(output_range="(-0.31, inf)"), mish), r"pair of numbers"),
    "three numbers": ((_info(output_range=(-0.31, 0, np.inf)), mish), r"pair of numbers"),
    "an end as a one-element array": ((_info(output_range=(np.array([-0.31]), np.inf)), mish),
                                      r"pair of numbers"),
    "the range as an array of shape (1, 2)": ((_info(output_range=np.array([[-0.31, np.inf]])),
                                              mish), r"pair of numbers"),
    "NaN for an end": ((_info(output_range=(np.nan, np.inf)), mish), r"pair of numbers"),
    "a built-in name": ((_info(name="relu"), mish), r"built-in"),
    "a built-in alias": ((_info(name="swish"), mish), r"'swish' is the name of a built-in"),
    "a built-in name in capitals": ((_info(name="GELU"), mish), r"built-in"),
    "a name with a space": ((_info(name="my mish"), mish), r"short identifier"),
    "a name with a hyphen": ((_info(name="my-mish"), mish), r"short identifier"),
    "no name": ((_info(name=None), mish), r"short identifier"),
    "an empty formula": ((_info(formula=""), mish), r"non-empty LaTeX string"),
    "a missing key": ((lambda: {"name": "mish", "output_range": (0, 1)}, mish),
                      r"missing 'formula'"),
    "a misspelt key": ((lambda: {"name": "mish", "formula": "f", "range": (-0.31, np.inf)},
                        mish), r"missing 'output_range'; unexpected 'range'"),
    "an extra key": ((_info(description="smooth"), mish), r"unexpected 'description'"),
    "a tuple instead of a dict": ((lambda: ("mish", "f", (-0.31, np.inf)), mish),
                                  r"should return a dict"),
    "an activation that is NaN at 1e4": ((_info(name="naive"), lambda x: x * (
        np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))), r"returned nan at x = "),
}

RIGHT_REGISTRATION = {
    "Mish, rounded outwards": (mish_info, mish),
    "Mish, -0.31 as a list": (_info(output_range=[-0.31, math.inf]), mish),
    "softsign (-1, 1)": (_info(name="softsign", formula=r"f(x) = \frac{x}{1 + |x|}",
                               output_range=(-1, 1)), softsign),
    "abs (0, inf)": (_info(name="absolute", formula=r"f(x) = |x|",
                           output_range=(0.0, float("inf"))), absolute),
    "sin (-1, 1) as numpy numbers": (_info(name="sine", formula=r"f(x) = \sin(x)",
                                           output_range=np.array([-1.0, 1.0])), np.sin),
    "sin (-1, 1) as numpy scalars in a tuple": (_info(name="sine", formula=r"\sin x", output_range=(
        np.float64(-1), np.int64(1))), np.sin),
    "a name with digits and underscores": (_info(name="mish_v2"), mish),
    "a formula without 'f(x) ='": (_info(formula=r"x \tanh(\ln(1 + e^{x}))"), mish),
    "a piecewise formula with < and >": (
        _info(name="absolute", formula=r"f(x) = \begin{cases} x & x > 0 \\ -x & x < 0 "
                                       r"\\ 0 & x = 0 \end{cases}", output_range=(0, math.inf)),
        absolute),
}


def softsign_drifting(x):  # softsign plus 1e-9 x: unbounded, though it looks bounded to 1e4
    return x / (1 + np.abs(x)) + 1e-9 * x


WRONG_REGISTRATION.update({
    "the formula 'TODO'": ((_info(formula="TODO"), mish), r"'TODO', a placeholder"),
    "an unclosed parenthesis": ((_info(formula=r"\tanh(x"), mish),
                                r"parentheses do not balance"),
    "an unclosed brace": ((_info(formula=r"\frac{x}{1 + |x|"), softsign),
                          r"braces do not balance"),
    "a formula without x": ((_info(formula=r"\mathrm{mish}"), mish), r"never mentions x"),
    # Confirmation reading: placeholders and non-formulas.
    "nothing after f(x) =": ((_info(formula="f(x) ="), mish), r"right-hand side"),
    r"\text{to do}": ((_info(formula=r"f(x) = \text{to do}"), mish), r"'to do', a placeholder"),
    "<formula of x>": ((_info(formula="<formula of x>"), mish), r"a placeholder"),
    r"\text{N/A}": ((_info(formula=r"f(x) = \text{N/A}"), mish), r"'N/A', a placeholder"),
    "Python code": ((_info(formula="x * np.tanh(np.log1p(np.exp(x)))"), mish),
                    r"Python code"),
    "softsign + 1e-9 x claimed (-1, 1)": ((_info(name="drift", output_range=(-1, 1)),
                                          softsign_drifting),
                                         r"reaches .* at x = -?1e\+12, (below|above) the"),
    "softsign + 1e-9 x claimed (-1.02, 1.02)": ((_info(name="drift", output_range=(-1.02, 1.02)),
                                                softsign_drifting), r"reaches .* at x = "),
})

RIGHT_REGISTRATION.update({
    "softsign as a LaTeX fraction": (_info(name="softsign", formula=r"\frac{x}{1 + \lvert x\rvert}",
                                           output_range=(-1, 1)), softsign),
    "abs with cases and escaped braces": (_info(name="absolute", formula=(
        r"f(x) = \left\{ \begin{array}{ll} x & x \ge 0 \\ -x & x < 0 \end{array} \right."),
        output_range=(0, np.inf)), absolute),
})


@pytest.mark.parametrize("name", WRONG_REGISTRATION)
def test_registration_rejects(name):
    answers, message = WRONG_REGISTRATION[name]
    rejects(ch06.check_registration, answers, message)


@pytest.mark.parametrize("name", RIGHT_REGISTRATION)
def test_registration_accepts_on_every_draw(name):
    accepts(ch06.check_registration, RIGHT_REGISTRATION[name], draws())


def test_registration_unfinished_and_does_not_register(capsys):
    with pytest.raises(NotAnsweredYet):
        ch06.check_registration(unfinished, mish)
    before = activations.names()
    ch06.check_registration(mish_info, mish)
    assert activations.names() == before


def test_registration_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch06.REGISTRATION, (mish_info, mish), tmp_path / "r", monkeypatch).passed
    wrong = graded(ch06.REGISTRATION, (_info(output_range=(-0.3, np.inf)), mish),
                   tmp_path / "w", monkeypatch)
    assert not wrong.passed and "below the lower end" in wrong.message


# ================================================================ Part 4: gradient checker
# Task: max_gradient_error(f, df, x, h=1e-5) returns, as one number, the largest over the
# points x (a 1-D array, an integer one included) of |d - fd| / max(1, |d|, |fd|), with
# fd = (f(x + h) - f(x - h)) / (2h) for the h given (by keyword or by position; 1e-5 when
# left out) and d = df(x); vectorised, written without the check's reference.

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


def gc_maximum_with_three_arguments(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.abs(d), np.abs(fd))))


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
    fd = np.gradient(f(x), x) if x.size > 1 else df(x)
    d = df(x)
    return float(np.max(np.abs(d - fd) / _scaled(d, fd)))


def gc_default_h_1e6(f, df, x, h=1e-6):
    return max_gradient_error(f, df, x, h)


def gc_keyword_only_h(f, df, x, *, h=1e-5):
    return max_gradient_error(f, df, x, h)


def gc_empty_like(f, df, x, h=1e-5):  # fd stored in an array of x's dtype: int x truncates it
    fd = np.empty_like(x)
    fd[...] = (f(x + h) - f(x - h)) / (2 * h)
    return max_gradient_error(f, df, x, h) if x.dtype.kind == "f" else float(
        np.max(np.abs(df(x) - fd) / _scaled(df(x), fd)))


def gc_float32(f, df, x, h=1e-5):  # the error computed in float32: 7 digits
    fd = ((f(x + h) - f(x - h)) / (2 * h)).astype(np.float32)
    d = df(x).astype(np.float32)
    return float(np.max(np.abs(d - fd) / np.maximum(1, np.maximum(np.abs(d), np.abs(fd)))))


def gc_old_points(f, df, x, h=1e-5):  # the old check's points, whatever x is
    return max_gradient_error(f, df, np.linspace(-3, 3, 13), h)


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
    "np.maximum with three arguments (the third is `out`)":
        (gc_maximum_with_three_arguments, r"leaving \|fd\| out.*\n.*\nHint: .*a third argument "
                                          r"is `out`"),
    "denominator leaves |d| out": (gc_fd_only, r"max\(1, \|fd\|\), leaving \|d\| out"),
    "denominator without the 1": (gc_no_one, r"max\(\|d\|, \|fd\|\), without the 1"),
    "no absolute value": (gc_signed, r"signed difference d - fd"),
    "mean instead of max": (gc_mean, r"the mean error over the points"),
    "per-point errors, not one number": (gc_per_point, r"one number, got an array of shape"),
    "a list of one number": (lambda f, df, x, h=1e-5: [max_gradient_error(f, df, x, h)],
                             r"one number, got a list of length 1"),
    "an array of shape (1, 1)": (lambda f, df, x, h=1e-5: np.array(
        [[max_gradient_error(f, df, x, h)]]), r"one number, got an array of shape \(1, 1\)"),
    "a loop over the points": (gc_loop, r"Python loop"),
    "calls the check's reference": (gc_uses_reference, r"reference_max_gradient_error.*"
                                                       r"(yourself|a part of the check itself)"),
    "the reference itself": (ch06.reference_max_gradient_error, r"reference_max_gradient_error"),
    "the reference through functools.partial": (functools.partial(
        ch06.reference_max_gradient_error), r"reference_max_gradient_error"),
    "the reference in a lambda": (lambda f, df, x, h=1e-5: ch06.reference_max_gradient_error(
        f, df, x, h), r"reference_max_gradient_error"),
    "modifies x": (gc_mutates, r"modified its input `x` in place"),
    "no return": (gc_no_return, r"returned None"),
    "one scale for all points": (gc_global_scale, r"returns .*the task's formula gives"),
    "no abs in the denominator": (gc_no_abs_in_denominator, r"max\(1, d, fd\), with the slopes' "
                                                            r"signs"),
    "np.gradient on the grid, not h": (gc_np_gradient, r"returns .*the task's formula gives"),
    "a default h of 1e-6": (gc_default_h_1e6, r"h left at its default.*Only the 2 cases that "
                                              r"leave h out differ, and there your numbers are "
                                              r"those of h = 1e-06"),
    "h keyword-only (cannot be passed by position)": (gc_keyword_only_h, r"raised TypeError"),
    "fd kept in an array of x's dtype (integer x)": (gc_empty_like, r"the integers -3 to 3"),
    "computed in float32": (gc_float32, r"the task's formula gives"),
    "rounded to 6 decimals": (lambda f, df, x, h=1e-5: round(max_gradient_error(f, df, x, h), 6),
                              r"the task's formula gives"),
    "never below 1e-10": (lambda f, df, x, h=1e-5: max(max_gradient_error(f, df, x, h), 1e-10),
                          r"the task's formula gives"),
    "the old check's points, whatever x is": (gc_old_points, r"the task's formula gives"),
    "np.max with three arguments": (lambda f, df, x, h=1e-5: float(np.max(np.abs(
        df(x) - (f(x + h) - f(x - h)) / (2 * h)) / np.max(1.0, np.abs(df(x)), np.abs(df(x))))),
        r"raised .*\n.*\nHint: np\.max reduces one array"),
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


def gc_asarray_first(f, df, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return max_gradient_error(f, df, x, h)


RIGHT_GRADIENT_CHECKER = {
    "as in the solution": max_gradient_error,
    "0.5 (...) / h, np.stack, numpy float": gc_einsum_free_stack,
    "np.maximum.reduce, .item()": gc_maximum_reduce,
    "np.clip for the max with 1": gc_clip,
    "x made a float array first": gc_asarray_first,
}


def gc_ignores_positional_h(f, df, x, *args, h=1e-5):  # an h by position lands in args
    return max_gradient_error(f, df, x, h)


def gc_floor_on_h(f, df, x, h=1e-5):
    return max_gradient_error(f, df, x, max(h, 1e-6))


def gc_capped_at_1(f, df, x, h=1e-5):
    return min(max_gradient_error(f, df, x, h), 1.0)


def gc_halves_apart(f, df, x, h=1e-5):  # the same formula, rounded differently
    fd = f(x + h) / (2 * h) - f(x - h) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))))


def gc_representable_step(f, df, x, h=1e-5):  # divides by the step the floats really took
    xp, xm = x + h, x - h
    fd = (f(xp) - f(xm)) / (xp - xm)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))))


def gc_capped_at_10(f, df, x, h=1e-5):  # equivalent: the error is at most 2 by its definition
    return min(max_gradient_error(f, df, x, h), 10.0)


WRONG_GRADIENT_CHECKER.update({
    "ignores an h passed by position (*args)": (gc_ignores_positional_h,
                                                r"h = \S+ passed by position, x = .* returns"),
    "a floor of 1e-6 on h": (gc_floor_on_h, r"h = \S+e-0[78], x = \d+ random points on "
                                            r"\[-0\.0001, 0\.0001\](, its arrays handed over "
                                            r"[^;]*)? returns"),
    "capped at 1": (gc_capped_at_1, r"times -1 \(a wrong one\).* returns 1; the task's "
                                    r"formula gives 2 "),
})

RIGHT_GRADIENT_CHECKER.update({
    "f(x + h) / (2h) - f(x - h) / (2h)": gc_halves_apart,
    "divided by (x + h) - (x - h)": gc_representable_step,
    "capped at 10 (no error exceeds 2)": gc_capped_at_10,
})


# ------------------------------------------------- the confirmation reading's answers, Part 4
def _gc_errors(f, df, x, h):
    x = np.asarray(x, dtype=float)
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))


def _gc_part(cut):
    def max_gradient_error(f, df, x, h=1e-5):
        err = _gc_errors(f, df, x, h)
        return float(np.max(cut(err) if err.size > 1 else err))
    return max_gradient_error


WRONG_GRADIENT_CHECKER.update({
    "the last point left out, np.max(err[:-1])": (_gc_part(lambda e: e[:-1]),
                                                  r"the task's formula gives"),
    "the first point left out, np.max(err[1:])": (_gc_part(lambda e: e[1:]),
                                                  r"the task's formula gives"),
    "every other point, np.max(err[::2])": (_gc_part(lambda e: e[::2]),
                                            r"the task's formula gives"),
    "the first 10 points, np.max(err[:10])": (_gc_part(lambda e: e[:10]),
                                              r"the task's formula gives"),
})


# ------------------------------------------------- the confirm11 reading's answers, Part 4
def gc_random_sample(f, df, x, h=1e-5):  # a random 50 of a long array's points
    x = np.asarray(x, dtype=float)
    if x.size > 50:
        x = x[np.random.default_rng(0).choice(x.size, 50, replace=False)]
    return max_gradient_error(f, df, x, h)


def gc_every_7th(f, df, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return max_gradient_error(f, df, x[::7] if x.size > 40 else x, h)


_LONG_ARRAYS = (r"your checker leaves out points of an array .*\n.*\nHint: every "
                r"point counts")
WRONG_GRADIENT_CHECKER.update({
    "the first 30 points, x[:30]": (lambda f, df, x, h=1e-5: max_gradient_error(
        f, df, np.asarray(x)[:30], h), _LONG_ARRAYS),
    "the first 100 points, x[:100]": (lambda f, df, x, h=1e-5: max_gradient_error(
        f, df, np.asarray(x, dtype=float)[:100], h), _LONG_ARRAYS),
    "0.0 for more than 1000 points": (lambda f, df, x, h=1e-5: 0.0 if np.size(x) > 1000
                                      else max_gradient_error(f, df, x, h), _LONG_ARRAYS),
    "a random 50 of a long array's points": (gc_random_sample, _LONG_ARRAYS),
    "every 7th point of a long array": (gc_every_7th, _LONG_ARRAYS),
})


@pytest.mark.parametrize("name", WRONG_GRADIENT_CHECKER)
def test_gradient_checker_rejects(name):
    answer, message = WRONG_GRADIENT_CHECKER[name]
    rejects(ch06.check_gradient_check_function, answer, message)


@pytest.mark.parametrize("name", RIGHT_GRADIENT_CHECKER)
def test_gradient_checker_accepts_on_every_draw(name):
    accepts(ch06.check_gradient_check_function, RIGHT_GRADIENT_CHECKER[name], draws())


def test_gradient_checker_names_a_cause_only_when_it_can_tell():
    # The central difference, used correctly, but a wrong denominator that matches no
    # catalogued mistake: the message says what differs and names no cause.
    def odd_scale(f, df, x, h=1e-5):
        fd = (f(x + h) - f(x - h)) / (2 * h)
        d = df(x)
        return float(np.max(np.abs(d - fd) / (1 + np.abs(d))))

    for seed in (0, 1, 2):
        with pytest.raises(ExerciseError) as info:
            ch06.check_gradient_check_function(odd_scale, seed=seed)
        text = str(info.value)
        assert "the task's formula gives" in text and "np.linspace(-3, 3, " in text
        assert "one-sided" not in text and "those of" not in text


def test_gradient_checker_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_gradient_check_function(unfinished)


def test_gradient_checker_functions_are_built_from_recipes():
    cases = ch06.GRADIENT_CHECKER.draw(0)
    (f, df, x), kwargs = cases[0].inputs()
    assert callable(f) and callable(df) and kwargs == {}  # the default h
    assert any(len(c.args) == 4 for c in cases)  # h by position
    assert any(np.asarray(c.args[2]).dtype.kind == "i" for c in cases)
    assert any(np.asarray(c.args[2]).size == 1 for c in cases)


def test_gradient_checker_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch06.GRADIENT_CHECKER, gc_clip, tmp_path / "r", monkeypatch).passed
    wrong = graded(ch06.GRADIENT_CHECKER, gc_forward_difference, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "one-sided" in wrong.message
    course = graded(ch06.GRADIENT_CHECKER, gc_uses_reference, tmp_path / "c", monkeypatch)
    assert not course.passed and "reference_max_gradient_error" in course.message


# ================================================================ Part 5: stability
# Task: my_activation and my_derivative at 0, +-1e-3, +-1, +-20, +-50, +-100, +-1e3, +-1e4 (and
# more values, around exp's overflow limits too), in float32 and float64, every floating-point
# warning an error: finite, the input's dtype back, float32 agreeing with float64, the input
# untouched, no silencing; at |x| >= 100 the derivative is still the activation's slope.

def st_naive_softplus(x):
    return x * np.tanh(np.log(1 + np.exp(x)))


def st_paper_derivative(x):  # Misra's closed form: e^x w / d^2, which is inf / inf for large x
    w = 4 * (x + 1) + 4 * np.exp(2 * x) + np.exp(3 * x) + np.exp(x) * (4 * x + 6)
    d = 2 * np.exp(x) + np.exp(2 * x) + 2
    return np.exp(x) * w / d**2


def st_clip_700(x):  # overflows in float32 only: exp(700) is fine in float64
    return x * np.tanh(np.log1p(np.exp(np.minimum(x, 700.0))))


def st_clip_89(x):  # just above float32's limit of 88.72: exp(89) overflows there
    return x * np.tanh(np.log1p(np.exp(np.minimum(x, 89.0))))


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


quiet = np.errstate  # the silencer under another name


def st_silenced_by_alias(x):
    with quiet(over="ignore"):
        s = 1 / (1 + np.exp(-x))
    return x * s


ignore_overflow = functools.partial(np.errstate, over="ignore")


def st_silenced_by_partial(x):
    with ignore_overflow():
        s = 1 / (1 + np.exp(-x))
    return x * s


def st_silenced_by_warnings(x):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = 1 / (1 + np.exp(-x))
    return x * s


def st_falls_back_on_error(x):  # the naive form, and the stable one only when it raises
    try:
        return x * np.tanh(np.log1p(np.exp(x)))
    except FloatingPointError:
        return mish(x)


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


def st_exp_in_float32(x):  # float64 input too goes through float32's exp
    return x * np.tanh(np.log1p(np.exp(x.astype(np.float32)))).astype(x.dtype)


def st_stable_only_at_the_old_inputs(x):
    return np.where(np.isin(x, ch06.STABILITY_INPUTS), mish(x), x * np.tanh(np.log1p(np.exp(x))))


def silu(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, x / (1 + e), x * e / (1 + e))


def silu_grad(x):
    s = np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                 np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
    return s * (1 + x * (1 - s))


WRONG_STABILITY = {
    "naive softplus (float32 overflow)": ((st_naive_softplus, mish_grad),
                                          r"my_activation` fails at x = \S+ \(float32\): "
                                          r"overflow.*\n.*\nHint: a number too large"),
    "the paper's derivative": ((mish, st_paper_derivative), r"my_derivative` fails at x = "),
    "exp clipped at 700: float32 only": ((st_clip_700, mish_grad),
                                         r"fails at x = \S+ \(float32\)"),
    "exp clipped at 89, just above float32's limit": ((st_clip_89, mish_grad),
                                                      r"fails at x = \S+ \(float32\): overflow"),
    "exp computed in float32 for every input": ((st_exp_in_float32, mish_grad),
                                                r"fails at x = \S+ \(float32\)|float64"),
    "stable only at the old check's 15 inputs": ((st_stable_only_at_the_old_inputs, mish_grad),
                                                 r"my_activation` fails at x = "),
    "astype(float64)": ((lambda x: mish(x).astype(np.float64), mish_grad),
                        r"float32 input into float64"),
    "a np.float64 constant": ((mish, lambda x: mish_grad(x) * np.float64(1.0)),
                              r"my_derivative` turned a float32"),
    "in place": ((st_in_place, mish_grad), r"my_activation` modified its input `x`"),
    "warnings silenced with errstate": ((st_silenced, silu_grad),
                                        r"calls `numpy.*errstate.*, which hides the overflow "
                                        r"warning: the operation still happens"),
    "derivative's warnings silenced": ((silu, st_silenced_grad), r"errstate"),
    "errstate under another name": ((st_silenced_by_alias, silu_grad), r"errstate"),
    "errstate through functools.partial": ((st_silenced_by_partial, silu_grad), r"errstate"),
    "warnings.catch_warnings and simplefilter": ((st_silenced_by_warnings, silu_grad),
                                                 r"calls `warnings\."),
    "catches FloatingPointError and falls back": ((st_falls_back_on_error, mish_grad),
                                                  r"catches a floating-point error"),
    # (the first point judged may lie just beyond -20, where Mish's slope is some 1e-8)
    "input clipped in the forward pass": ((st_clipped_input, mish_grad),
                                          r"at x = \S+ `my_derivative` gives \S+ but the slope"),
    "a stable derivative of another function (wrong at moderate x)":
        ((mish, d_sigmoid_for_positive_only), r"no longer describe the same function"),
    "derivative set to 0 far out": ((mish, st_derivative_zero_far_out),
                                    r"`my_derivative` gives 0 but the slope"),
    "float32 cancellation": ((st_float32_cancellation, mish_grad),
                             r"in float32 but .* in float64 at x = "),
    "naive tanh: inf / inf": ((st_naive_tanh_forward, mish_grad), r"fails at x = "),
    "0 / 0 at x = 0": ((st_div_zero, mish_grad),
                       r"fails at x = -?0 .*divide.*\n.*\nHint: an undefined"),
    "a list": ((lambda x: mish(x).tolist(), mish_grad), r"returned a Python list"),
}

RIGHT_STABILITY = {
    "Mish": (mish, mish_grad),
    "Mish, exp clipped at 80": (lambda x: x * np.tanh(np.log1p(np.exp(np.clip(x, -80, 80)))),
                                mish_grad),
    "softsign": (softsign, softsign_grad),
    "SiLU written per sign": (silu, silu_grad),
    "abs": (absolute, absolute_grad),
    "Mish with np.logaddexp": (lambda x: x * np.tanh(np.logaddexp(0, x)), mish_grad),
}


def st_longdouble(x):  # the naive formula in 80-bit floats: exp overflows only past 11356
    z = x.astype(np.longdouble)
    return (z * np.tanh(np.log(1 + np.exp(z)))).astype(x.dtype)


def st_longdouble_grad(x):
    z = x.astype(np.longdouble)
    e = np.exp(z)
    t = np.tanh(np.log(1 + e))
    return (t + z * (1 - t * t) * e / (1 + e)).astype(x.dtype)


def st_silenced_by_contextvar(x):  # numpy's private error state, set directly
    token = _ufunc_config_var().set(_QUIET_STATE)
    try:
        s = 1 / (1 + np.exp(-x))
    finally:
        _ufunc_config_var().reset(token)
    return x * s


def _ufunc_config_var():
    from numpy._core import _ufunc_config
    return _ufunc_config._extobj_contextvar


with np.errstate(all="ignore"):
    _QUIET_STATE = _ufunc_config_var().get()


WRONG_STABILITY.update({
    "the naive formula in np.longdouble": ((st_longdouble, st_longdouble_grad),
                                           r"fails at x = \S+ \(float32\): overflow"),
    "numpy's error state set through its context variable":
        ((st_silenced_by_contextvar, silu_grad), r"sets numpy's error state"),
})

RIGHT_STABILITY.update({
    "Mish, the derivative with the course's activations.sigmoid":
        (mish, d_mish_course_sigmoid),
})


# ------------------------------------------------- the confirmation reading's answers, Part 5
def st_guarded_ratio(x):  # f(x) = sin(x) / x with f(0) = 1: np.where computes 0 / 0 anyway
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x == 0, 1.0, np.sin(x) / x).astype(x.dtype)


def st_guarded_ratio_grad(x):
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 0.0, (np.cos(safe) * safe - np.sin(safe)) / (safe * safe)
                    ).astype(x.dtype)


WRONG_STABILITY["np.errstate around the 0 / 0 of a np.where guard"] = (
    (st_guarded_ratio, st_guarded_ratio_grad),
    r"hides the division-by-zero warning and the invalid-value warning")
RIGHT_STABILITY["a costly blend, 0.8 mish + 0.2 x sigma(2x) + 0.05 sin(x) exp(-x^2)"] = (
    blend, blend_grad)


@pytest.mark.parametrize("name", WRONG_STABILITY)
def test_stability_rejects(name):
    answers, message = WRONG_STABILITY[name]
    rejects(ch06.check_stability, answers, message)


@pytest.mark.parametrize("name", RIGHT_STABILITY)
def test_stability_accepts_on_every_draw(name):
    accepts(ch06.check_stability, RIGHT_STABILITY[name], draws())


def test_stability_unfinished_and_no_global_state(capsys):
    with pytest.raises(NotAnsweredYet):
        ch06.check_stability(unfinished, mish_grad)
    ch06.check_stability(mish, mish_grad)
    assert np.geterr()["over"] == "warn"


def test_stability_inputs_include_the_named_ones_and_the_overflow_edges():
    cases = ch06.STABILITY.draw(0)
    x = next(c.args[0] for c in cases if c.args[0].dtype == np.float64)
    assert set(ch06.STABILITY_INPUTS) <= set(x)
    assert {88.5, 89.0, 709.5, 710.0, -710.0} <= set(x)
    assert {c.args[0].dtype for c in cases} == {np.dtype(np.float32), np.dtype(np.float64)}


def test_stability_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch06.STABILITY, (silu, silu_grad), tmp_path / "r", monkeypatch).passed
    wrong = graded(ch06.STABILITY, (st_naive_softplus, mish_grad), tmp_path / "w", monkeypatch)
    assert not wrong.passed and "overflow" in wrong.message
    silenced = graded(ch06.STABILITY, (st_silenced, silu_grad), tmp_path / "s", monkeypatch)
    assert not silenced.passed and "errstate" in silenced.message


# ================================================================ Part 6: gradient flow
# Task: gradient_flow(net, X, y) returns a dict of exactly "ratio" (first layer's gradient norm
# over the last's), "dead" (mean over the hidden layers of dead_fraction) and "flat" (share of
# all hidden (sample, unit) entries with |f'(z)| < 0.01), each one number; the weights left
# alone; written without the check's reference. Networks of several shapes, drawn per check.

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


def gf_dead_as_no_spread(net, X, y):  # "dead" as a unit whose output does not vary
    r = gradient_flow(net, X, y)
    net.forward(X)
    return {**r, "dead": float(np.mean([np.mean(a.std(axis=0) == 0)
                                        for a in net.cache["a"][1:-1]]))}


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


def gf_three_hidden_layers(net, X, y):  # the old check's networks had three hidden layers
    r = gradient_flow(net, X, y)
    return {**r, "dead": float(np.mean(diagnostics.dead_fraction(net, X)[:3]))}


def gf_old_data(net, X, y):  # the old check's batch, whatever X and y are
    X_old, y_old = data.moons(n=64, noise=0.1, seed=3)
    return gradient_flow(net, X_old, y_old)


def gf_changes_X(net, X, y):
    X -= X.mean(axis=0)
    return gradient_flow(net, X, y)


def gf_flat_at_sample_0(net, X, y):  # reads a.grad(z) at the first sample only
    r = gradient_flow(net, X, y)
    return {**r, "flat": float(_flat(net, lambda g: np.abs(g[:1]) < 0.01).mean())}


WRONG_GRADIENT_FLOW = {
    "ratio upside down": (gf_upside_down, r"upside down"),
    "ratio to the last hidden layer": (gf_last_hidden, r"over the last hidden layer's"),
    # (on a draw where no recognisable cause fits, the plain difference is the refusal)
    "dead includes the output layer": (gf_dead_with_output, r"the output layer included|"
                                                            r"\['dead'\] is \S+, expected"),
    "dead pooled over units": (gf_dead_pooled, r"\['dead'\].*all hidden units pooled"),
    "dead per entry": (gf_dead_entries, r"\['dead'\] is .*expected"),
    "dead as a unit that does not vary": (gf_dead_as_no_spread, r"\['dead'\] is .*expected"),
    "flat without abs": (gf_flat_signed, r"without the absolute value"),
    "flat with <=": (gf_flat_le, r"<= 0\.01 instead of < 0\.01"),
    "flat per-layer mean": (gf_flat_per_layer, r"mean of the per-layer fractions"),
    "flat from saturated_fraction": (gf_flat_saturated_fraction, r"\['flat'\] is nan"),
    "flat at the first sample only": (gf_flat_at_sample_0, r"\['flat'\] is .*expected"),
    "trains the network": (gf_trains, r"changed the network's weights"),
    "changes X": (gf_changes_X, r"modified its input `X` in place"),
    "calls the check's reference": (gf_uses_reference, r"reference_gradient_flow.*"
                                                       r"(yourself|a part of the check itself)"),
    "the reference under another name": (ch06.reference_gradient_flow,
                                         r"reference_gradient_flow"),
    "the reference through functools.partial": (functools.partial(ch06.reference_gradient_flow),
                                                 r"reference_gradient_flow"),
    "dead in percent": (gf_percent, r"\['dead'\] is \d+\.?\d*, expected 0\.\d+|expected 0\b"),
    "assumes three hidden layers": (gf_three_hidden_layers, r"\['dead'\] is .*expected"),
    "the old check's batch, whatever X is": (gf_old_data, r"is .*expected"),
    "rounded to 2 decimals": (lambda net, X, y: {k: round(v, 2) for k, v in
                                                 gradient_flow(net, X, y).items()},
                              r"is .*expected"),
    "through float16": (lambda net, X, y: {k: float(np.float16(v)) for k, v in
                                           gradient_flow(net, X, y).items()}, r"is .*expected"),
    "one-element arrays": (lambda net, X, y: {k: np.array([v]) for k, v in
                                              gradient_flow(net, X, y).items()},
                           r"one number, got an array of shape \(1,\)"),
    "a missing key": (lambda net, X, y: {k: v for k, v in gradient_flow(net, X, y).items()
                                         if k != "flat"}, r"missing 'flat'"),
    "an extra key": (lambda net, X, y: {**gradient_flow(net, X, y), "depth": 3},
                     r"unexpected 'depth'"),
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


def gf_own_forward(net, X, y):  # runs the forward pass itself, then the backward one
    net.forward(X)
    zs = list(net.cache["z"])
    acts = list(net.cache["a"])
    flat = np.concatenate([(np.abs(a.grad(z)) < 0.01).ravel()
                           for a, z in zip(net.hidden_activations, zs[:-1])])
    dead = [np.mean(np.all(a == 0, axis=0)) for a in acts[1:-1]]
    norms = diagnostics.gradient_norms(net, X, y)
    return {"ratio": float(norms[0] / norms[-1]), "dead": float(np.mean(dead)),
            "flat": float(np.mean(flat))}


RIGHT_GRADIENT_FLOW = {
    "as in the solution": gradient_flow,
    "counted by hand, numpy floats": gf_pooled_by_hand,
    "layer_stats and count_nonzero": gf_layer_stats,
    "its own forward pass and dead test": gf_own_forward,
    "float32 numbers (7 digits are enough)": lambda net, X, y: {
        k: np.float32(v) for k, v in gradient_flow(net, X, y).items()},
}


@pytest.mark.parametrize("name", WRONG_GRADIENT_FLOW)
def test_gradient_flow_rejects(name):
    answer, message = WRONG_GRADIENT_FLOW[name]
    rejects(ch06.check_gradient_flow, answer, message)


@pytest.mark.parametrize("name", RIGHT_GRADIENT_FLOW)
def test_gradient_flow_accepts_on_every_draw(name):
    accepts(ch06.check_gradient_flow, RIGHT_GRADIENT_FLOW[name], draws())


def test_gradient_flow_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_gradient_flow(unfinished)


def test_gradient_flow_networks_differ_by_draw_and_cover_the_edges():
    cases = ch06.GRADIENT_FLOW.draw(0)
    nets = [c.inputs()[0][0] for c in cases]
    assert all(isinstance(n, nn.MLP) for n in nets)
    assert any(1 in n.sizes[1:-1] for n in nets)
    assert any(c.args[1].shape[0] == 1 for c in cases)
    assert any(n.output == "softmax" for n in nets)
    assert {a.name for n in nets for a in n.hidden_activations} >= {"relu", "tanh", "silu",
                                                                     "leaky_relu", "sigmoid"}
    other = [c.args[0].params for c in ch06.GRADIENT_FLOW.draw(1)]
    assert other != [c.args[0].params for c in cases]


def test_gradient_flow_leaves_the_students_network_alone():
    net = nn.MLP([2, 5, 3, 1], activation="relu", output="sigmoid", seed=0)
    X, y = data.moons(n=20, seed=0)
    before = [w.copy() for w in net.weights]
    ch06._drive_flow((gf_trains,), net, X, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights))


def test_gradient_flow_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch06.GRADIENT_FLOW, gf_layer_stats, tmp_path / "r", monkeypatch).passed
    wrong = graded(ch06.GRADIENT_FLOW, gf_flat_per_layer, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "per-layer fractions" in wrong.message
    course = graded(ch06.GRADIENT_FLOW, gf_uses_reference, tmp_path / "c", monkeypatch)
    assert not course.passed and "reference_gradient_flow" in course.message


# ================================================================ Part 7: comparison table
# Task: comparison_table(train, names, datasets, seeds) calls train(name, dataset, seed) once per
# combination and returns {dataset: {activation: [last epoch's validation accuracy per seed]}},
# keys in the order given, each entry a list (or 1-D array) of numbers in the order of seeds.
# train returns a History (every attribute and method of helpers.nn.History).

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


def ct_epoch_100(train, names, datasets, seeds):  # the notebook's 100 epochs, hard-coded
    return {ds: {n: [float(train(n, ds, s).val_accuracy[100]) for s in seeds] for n in names}
            for ds in datasets}


def ct_fixed_names(train, names, datasets, seeds):  # the old check's names, whatever names is
    return comparison_table(train, ["tanh", "relu", "mine"], datasets, seeds)


def ct_sorts_in_place(train, names, datasets, seeds):
    seeds.sort()
    return comparison_table(train, names, datasets, seeds)


def ct_rounded(train, names, datasets, seeds):
    return {ds: {n: [round(float(train(n, ds, s).val_accuracy[-1]), 3) for s in seeds]
                 for n in names} for ds in datasets}


def ct_float32(train, names, datasets, seeds):
    return {ds: {n: [np.float32(train(n, ds, s).val_accuracy[-1]) for s in seeds]
                 for n in names} for ds in datasets}


def ct_seed_dict(train, names, datasets, seeds):
    return {ds: {n: {s: float(train(n, ds, s).val_accuracy[-1]) for s in seeds} for n in names}
            for ds in datasets}


def ct_nested_lists(train, names, datasets, seeds):
    return {ds: {n: [[float(train(n, ds, s).val_accuracy[-1])] for s in seeds] for n in names}
            for ds in datasets}


WRONG_COMPARISON = {
    "training accuracy": (ct_training_accuracy, r"training accuracy"),
    "best epoch": (ct_best_epoch, r"best epoch"),
    "the epoch before the last (off by one)": (ct_epoch_before_last,
                                               r"one epoch before the last"),
    "the first epoch": (ct_first_epoch, r"before any training"),
    "a History attribute that does not exist": (ct_train_accuracy_name,
                                                r"raised AttributeError.*train_accuracy"),
    "epoch 100 hard-coded": (ct_epoch_100, r"raised IndexError"),
    "dataset and activation swapped in the nesting": (ct_transposed, r"outer keys"),
    "one seed only": (ct_one_seed, r"never called train\(.*combinations missing|has 1 entries"),
    "the mean instead of the list": (ct_mean, r"expected a list of \d+ numbers"),
    "activations sorted": (ct_sorted_names, r"expected the activations \["),
    "range(len(seeds)) instead of the seeds": (ct_range_seeds, r"never called train"),
    "two runs per combination": (ct_twice, r"called train \d+ times for \d+ combinations"),
    "train's arguments swapped": (ct_arguments_swapped, r"called train\('\w+', '\w+', \d+\), "
                                                        r"which is not one of"),
    "a run filed under the wrong activation": (ct_wrong_key, r"differs from the answer"),
    "seeds in reverse order": (ct_seeds_reversed, r"right numbers in another order"),
    # (names drawn as the old ones in another order: the keys' order shows instead)
    "the old check's names, whatever names is": (
        ct_fixed_names, r"never called train|has keys \[.*\], expected the activations"),
    "sorts seeds in place": (ct_sorts_in_place, r"modified its input `seeds` in place"),
    "rounded to 3 decimals": (ct_rounded, r"differs from the answer"),
    "through float32": (ct_float32, r"differs from the answer"),
    "a dict per seed": (ct_seed_dict, r"is a dict of length \d+, expected a list"),
    "one-element lists per seed": (ct_nested_lists, r"one number, got a list of length 1"),
    "returns a list": (lambda train, names, datasets, seeds: [], r"returned a list of length 0"),
    "train(name, dataset, seed, epochs=100), as the notebook's train allows":
        (lambda train, names, datasets, seeds: {ds: {n: [float(train(
            n, ds, s, epochs=100).val_accuracy[-1]) for s in seeds] for n in names}
            for ds in datasets},
         r"raised TypeError.*epochs.*\n.*\nHint: call train\(name, dataset, seed\) with these "
         r"three arguments"),
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


def ct_final(train, names, datasets, seeds):  # History.final, the method for the last value
    return {ds: {n: [train(n, ds, s).final("val_accuracy") for s in seeds] for n in names}
            for ds in datasets}


def ct_epochs(train, names, datasets, seeds):  # History.epochs: the row after the last epoch
    table = {}
    for ds in datasets:
        table[ds] = {}
        for n in names:
            histories = [train(n, ds, s) for s in seeds]
            table[ds][n] = [h.val_accuracy[h.epochs] for h in histories]
    return table


def ct_numpy_seeds(train, names, datasets, seeds):  # seeds as numpy integers
    return {ds: {n: [float(train(n, ds, s).val_accuracy[-1]) for s in np.array(seeds)]
                 for n in names} for ds in datasets}


RIGHT_COMPARISON = {
    "nested comprehensions": comparison_table,
    "three loops, keyword arguments, numpy floats": ct_loops,
    "numpy arrays per seed": ct_arrays,
    "table made first, then filled": ct_setdefault,
    "History.final('val_accuracy')": ct_final,
    "val_accuracy[history.epochs]": ct_epochs,
    "seeds as numpy integers": ct_numpy_seeds,
    "tuples per seed": lambda train, names, datasets, seeds: {
        ds: {n: tuple(float(train(n, ds, s).val_accuracy[-1]) for s in seeds) for n in names}
        for ds in datasets},
}


# ------------------------------------------------- the confirmation reading's answers, Part 7
def ct_cached_by_key():  # runs remembered by (name, dataset, seed) across calls
    runs = {}

    def comparison_table(train, names, datasets, seeds):
        table = {}
        for ds in datasets:
            table[ds] = {}
            for n in names:
                row = []
                for s in seeds:
                    if (n, ds, s) not in runs:
                        runs[n, ds, s] = float(train(n, ds, s).val_accuracy[-1])
                    row.append(runs[n, ds, s])
                table[ds][n] = row
        return table
    return comparison_table


WRONG_COMPARISON["runs remembered by (name, dataset, seed) across calls"] = (
    ct_cached_by_key(), r"never called train|differs from the answer")


@pytest.mark.parametrize("name", WRONG_COMPARISON)
def test_comparison_table_rejects(name):
    answer, message = WRONG_COMPARISON[name]
    rejects(ch06.check_comparison_table, answer, message)


@pytest.mark.parametrize("name", RIGHT_COMPARISON)
def test_comparison_table_accepts_on_every_draw(name):
    accepts(ch06.check_comparison_table, RIGHT_COMPARISON[name], draws())


def test_comparison_table_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_comparison_table(unfinished)


def test_the_fake_history_has_what_a_real_one_has():
    """Part 7's stand-in returns a real History: every attribute a right answer may use."""
    train = ch06._build_fake_train(salt=1, epochs=5)
    history = train("relu", "moons", 3)
    X, y = data.moons(n=40, seed=0)
    real = nn.MLP([2, 4, 1], activation="relu", output="sigmoid").fit(
        X, y, epochs=2, X_val=X, y_val=y, diagnostics=False)
    public = {name for name in dir(real) if not name.startswith("_")}
    assert public <= set(dir(history))
    assert history.epochs == 5 and history.final("val_accuracy") == history.val_accuracy[-1]
    assert history.val_accuracy[-1] < history.val_accuracy.max()
    assert history.val_accuracy[-1] != history.val_accuracy[-2]
    assert train.calls == [["relu", "moons", 3]]


def test_comparison_table_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch06.COMPARISON, ct_final, tmp_path / "r", monkeypatch).passed
    wrong = graded(ch06.COMPARISON, ct_best_epoch, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "best epoch" in wrong.message


# ----------------------------------------------------------------------------- issue 23,
# fourth reading: results kept by shape, dtype and the ends of the input; a checker that
# leaves out the points near 0.


def _kept_by_the_ends(fn):
    kept = {}

    def answer(x):
        x = np.asarray(x)
        key = (x.shape, x.dtype.str, x.size and float(x.flat[0]), x.size and float(x.flat[-1]))
        if key not in kept:
            kept[key] = fn(x)
        return kept[key].copy()
    return answer


def gc_skips_points_near_0(f, df, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    keep = np.abs(x) > h  # a kink guard: no finite difference across 0
    if not keep.any():
        return 0.0
    return max_gradient_error(f, df, x[keep], h)


WRONG_FORWARD.update({
    "results kept by shape, dtype and the first and last points": (
        _kept_by_the_ends(mish), r"differs|other random points|depends on the array"),
})

WRONG_DERIVATIVE.update({
    "a derivative kept by shape, dtype and the first and last points": (
        (mish, _kept_by_the_ends(mish_grad)), r"differs|other points|the same shape|float32 "
                                              r"input gives values"),
})

WRONG_GRADIENT_CHECKER.update({
    "leaves out the points within h of 0": (gc_skips_points_near_0,
                                            r"x = 0 exactly|returns .*gives"),
})


# ----------------------------------------------------------------------------- issue 23,
# fifth round: what the fourth reading still got through (an inline stencil, a lower
# precision on part of the range, a derivative wrong far out, a floor on h, points rounded
# to float32, a formula of another function).


def d_inline_stencil(x):
    """The fourth reading's answer: a 4th-order stencil of Mish written out, no function of
    the student's called, accurate to about 1e-9."""
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(np.float64)
    h = 0.01
    a1, b1, a2, b2 = x + h, x - h, x + 2 * h, x - 2 * h
    s = (8 * (a1 * np.tanh(np.logaddexp(0, a1)) - b1 * np.tanh(np.logaddexp(0, b1)))
         - (a2 * np.tanh(np.logaddexp(0, a2)) - b2 * np.tanh(np.logaddexp(0, b2)))) / (12 * h)
    return s.astype(dt)


def d_inline_stacked(x):
    """The same idea with the four points in one stacked array."""
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(np.float64)
    h = 0.01
    pts = np.stack([x + h, x - h, x + 2 * h, x - 2 * h])
    m = pts * np.tanh(np.logaddexp(0, pts))
    return ((8 * (m[0] - m[1]) - (m[2] - m[3])) / (12 * h)).astype(dt)


def d_mish_with_a_clip_guard(x):
    """Right: Mish's derivative on x clipped at +-99, where it is 1 or 0 to float64 anyway."""
    x = np.asarray(x)
    safe = np.clip(x, -99, 99)
    return mish_grad(safe) if x.dtype.kind == "f" else mish_grad(safe.astype(np.float64))


def _float32_above(threshold):
    def answer(x):
        x = np.asarray(x)
        x = x if x.dtype.kind == "f" else x.astype(np.float64)
        y = mish(x)
        if x.dtype == np.float64:
            y = np.where(x > threshold, mish(x.astype(np.float32)).astype(np.float64), y)
        return y
    return answer


def softsign_grad_twice_beyond_100(x):
    a = np.abs(x)
    return (np.where(a > 100, 2, 1) / (1 + a) ** 2).astype(np.result_type(x, np.float32))


def softsign_grad_zero_beyond_1000(x):
    a = np.abs(x)
    return np.where(a > 1000, 0.0, 1 / (1 + a) ** 2).astype(np.result_type(x, np.float32))


def _gc_with_floor(floor):
    def answer(f, df, x, h=1e-5):
        return max_gradient_error(f, df, x, max(h, floor))
    return answer


def gc_points_in_float32(f, df, x, h=1e-5):
    return max_gradient_error(f, df, np.asarray(x, dtype=np.float32).astype(np.float64), h)


WRONG_DERIVATIVE.update({
    "a 4th-order stencil written inline, named shifted copies": (
        (mish, d_inline_stencil), r"computes on a shifted copy of x \(`a1` in `d_inline_stencil`"),
    "a 4th-order stencil written inline, one stacked array": (
        (mish, d_inline_stacked), r"computes on a shifted copy of x \(`pts` in "),
})
RIGHT_DERIVATIVE["Mish's derivative on x clipped at +-99"] = (mish, d_mish_with_a_clip_guard)

WRONG_FORWARD.update({
    "Mish through float32 for x > 3": (_float32_above(3),
                                       r"moves in jumps|float32 holds exactly"),
    "Mish through float32 for x > 4": (_float32_above(4),
                                       r"moves in jumps|float32 holds exactly at \d+ of 121 "
                                       r"points moved by 1e-6 \(x from 4"),
})

WRONG_STABILITY.update({
    "softsign's derivative twice too large beyond |x| = 100": (
        (softsign, softsign_grad_twice_beyond_100), r"no longer describe the same function"),
    "softsign's derivative 0 beyond |x| = 1000": (
        (softsign, softsign_grad_zero_beyond_1000), r"no longer describe the same function"),
})

WRONG_GRADIENT_CHECKER.update({
    "a floor of 5e-8 on h": (_gc_with_floor(5e-8), r"returns .*gives"),
    "a floor of 1e-7 on h": (_gc_with_floor(1e-7), r"returns .*gives"),
    "the points rounded to float32": (gc_points_in_float32, r"returns .*gives"),
})

WRONG_REGISTRATION.update({
    "Mish with the task's example formula x tanh(x)": (
        (_info(formula=r"f(x) = x \tanh(x)"), mish), r"gives .* but `my_activation` gives"),
    r"Mish as \tanh(x)": ((_info(formula=r"f(x) = \tanh(x)"), mish),
                          r"must describe the function"),
    "Mish as x": ((_info(formula="f(x) = x"), mish), r"must describe the function"),
    "softsign written without the absolute value": (
        (_info(name="softsign", formula=r"\frac{x}{1 + x}", output_range=(-1, 1)), softsign),
        r"must describe the function"),
})

RIGHT_REGISTRATION.update({
    "Mish with a parameter the reader does not know": (
        _info(formula=r"f(x) = x \tanh(\ln(1 + e^{\beta x}) / \beta), \beta = 1"), mish),
    "Mish with sigma and big brackets": (
        _info(formula=r"\mathrm{mish}(x) = x \tanh\big(\mathrm{softplus}(x)\big)"), mish),
    "GELU-like rounded constants are fine (Mish to 3 digits)": (
        _info(formula=r"x \cdot \tanh(\ln(1.000 + 2.718^{x}))"), mish),
})


# Fifth reading (round 5): stencils with an extra axis, a wider step; right answers whose f''
# jumps (ELiSH, a smoothed ReLU) or whose function shifts x itself.


def _mish_of(u):
    return u * np.tanh(np.logaddexp(0, u))


def d_stencil_extra_axis(x):
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(np.float64)
    h = 0.01
    pts = [(x + k * h)[..., None] for k in (1, -1, 2, -2)]
    fp = [_mish_of(p)[..., 0] for p in pts]
    return ((8 * (fp[0] - fp[1]) - (fp[2] - fp[3])) / (12 * h)).astype(dt)


def d_stencil_last_axis(x):
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(np.float64)
    h = 0.01
    grid = x[..., None] + h * np.array([1.0, -1.0, 2.0, -2.0])
    m = _mish_of(grid)
    return ((8 * (m[..., 0] - m[..., 1]) - (m[..., 2] - m[..., 3])) / (12 * h)).astype(dt)


def d_sixth_order_h005(x):
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(np.float64)
    h = 0.05
    up1, dn1, up2, dn2, up3, dn3 = x + h, x - h, x + 2 * h, x - 2 * h, x + 3 * h, x - 3 * h
    s = (45 * (_mish_of(up1) - _mish_of(dn1)) - 9 * (_mish_of(up2) - _mish_of(dn2))
         + (_mish_of(up3) - _mish_of(dn3))) / (60 * h)
    return s.astype(dt)


def _prep(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _sig(u):
    return 0.5 * (1 + np.tanh(0.5 * u))


def elish(x):
    x = _prep(x)
    return np.where(x >= 0, x, np.expm1(np.minimum(x, 0))) * _sig(x)


def elish_grad(x):
    x = _prep(x)
    s = _sig(x)
    g = np.where(x >= 0, x, np.expm1(np.minimum(x, 0)))
    dg = np.where(x >= 0, 1, np.exp(np.minimum(x, 0)))
    return (dg * s + g * s * (1 - s)).astype(x.dtype)


def smooth_relu(x):  # quadratic on [0, 1/4] (f'' = 4 there, 0 elsewhere), then x - 1/8
    x = _prep(x)
    return np.where(x < 0, 0 * x, np.where(x < 0.25, 2 * x * x, x - 0.125)) + 0.1 * np.tanh(x)


def smooth_relu_grad(x):
    x = _prep(x)
    return (np.where(x < 0, 0 * x, np.where(x < 0.25, 4 * x, 1 + 0 * x))
            + 0.1 * (1 - np.tanh(x) ** 2))


def mish_shifted(x):  # Mish moved left by 0.03: a function of its own
    u = _prep(x) + 0.03
    return _mish_of(u)


def mish_shifted_grad(x):
    u = _prep(x) + 0.03
    t = np.tanh(np.logaddexp(0, u))
    return t + u * (1 - t * t) * _sig(u)


WRONG_DERIVATIVE.update({
    "a stencil whose shifted copies carry an extra axis": (
        (mish, d_stencil_extra_axis), r"computes on a shifted copy of x"),
    "a stencil stacked along a new last axis": (
        (mish, d_stencil_last_axis), r"computes on a shifted copy of x|took \d+"),
    "a 6th-order stencil with h = 0.05": ((mish, d_sixth_order_h005),
                                          r"computes on a shifted copy of x"),
})
RIGHT_DERIVATIVE.update({
    "ELiSH (f'' jumps at 0)": (elish, elish_grad),
    "a smoothed ReLU (f'' jumps at 0 and 1/4)": (smooth_relu, smooth_relu_grad),
    "Mish moved left by 0.03 (the function shifts x itself)": (mish_shifted, mish_shifted_grad),
})

WRONG_REGISTRATION.update({
    r"Mish as x \tanh(\ln(1 + x)) (undefined below -1)": (
        (_info(formula=r"f(x) = x \tanh(\ln(1 + x))"), mish), r"must describe the function"),
    "a false second identity": ((_info(formula=r"f(x) = x \tanh(\ln(1 + e^{x})) = x \sigma(x)"),
                                 mish), r"must describe the function"),
    "Mish plus 0.01": ((_info(formula=r"x \tanh(\ln(1 + e^{x})) + 0.01"), mish),
                       r"must describe the function"),
})
RIGHT_REGISTRATION.update({
    r"arcsinh written \sinh^{-1}(x)": (_info(name="my_asinh", formula=r"f(x) = \sinh^{-1}(x)",
                                             output_range=(-np.inf, np.inf)), np.arcsinh),
    "Mish with a true second identity": (
        _info(formula=r"f(x) = x \tanh(\mathrm{softplus}(x)) = x \tanh(\ln(1 + e^{x}))"), mish),
})


# The confirm11 reading: one token the reader cannot read switched the comparison off. A domain
# at the end is left out and the rest compared; any other unreadable formula is refused.
_UNREADABLE = r"cannot read your formula .*: it stops at {}.*\n.*\nHint: write it with numbers"
WRONG_REGISTRATION.update({
    r"3 Mish with a domain, \quad x \in \mathbb{R}": (
        (_info(formula=r"f(x) = 3x \tanh(\mathrm{softplus}(x)), \quad x \in \mathbb{R}"), mish),
        r"gives 1\d(\.\d+)? at x = 4\.\d+, but `my_activation` gives 4\.\d+ there"),
    r"3 Mish + \alpha": ((_info(formula=r"f(x) = 3x \tanh(\mathrm{softplus}(x)) + \alpha"), mish),
                        _UNREADABLE.format(r"'\\alpha', a name it does not know")),
    r"3 Mish with \mathrm{softplus}_{2}": (
        (_info(formula=r"f(x) = 3x \tanh(\mathrm{softplus}_{2}(x))"), mish),
        _UNREADABLE.format("'_'")),
    r"\operatorname{mish}(2x)": ((_info(formula=r"f(x) = \operatorname{mish}(2x)"), mish),
                                 _UNREADABLE.format("'mish', a name it does not know")),
    r"\text{Mish}(x)": ((_info(formula=r"\text{Mish}(x)"), mish), _UNREADABLE.format("'Mish'")),
    r"a parameter with no value, x \sigma(\beta x)": (
        (_info(name="swish_b", formula=r"x \sigma(\beta x)", output_range=(-0.1857, np.inf)),
         lambda x: x / (1 + np.exp(-np.clip(1.5 * x, -500, 500)))),
        _UNREADABLE.format(r"'\\beta'")),
    r"\tanh 2x (sin(2x) or sin(2) x?)": ((_info(name="t2", formula=r"\tanh 2x",
                                                output_range=(-1, 1)),
                                          lambda x: np.tanh(2 * x)),
                                         _UNREADABLE.format("'2'")),
})
RIGHT_REGISTRATION.update({
    r"Mish with a domain, \quad x \in \mathbb{R}": (
        _info(formula=r"f(x) = x \tanh(\mathrm{softplus}(x)), \quad x \in \mathbb{R}"), mish),
    r"Mish for all x, in \text": (
        _info(formula=r"x \tanh(\ln(1 + e^{x})) \quad \text{for all } x."), mish),
    r"a parameter given after \text{with}": (
        _info(formula=r"f(x) = x \tanh(\ln(1 + e^{a x}) / a), \quad \text{with } a = 1"), mish),
    r"\sin x \cos x, no parentheses": (
        _info(name="sincos", formula=r"f(x) = x + \sin x \cos x", output_range=(-np.inf, np.inf)),
        lambda x: x + np.sin(x) * np.cos(x)),
})


def _kept_by_many(fn):
    """A result kept by shape, dtype, the first, middle and last points, sum, max and min."""
    kept = {}

    def answer(x):
        x = np.asarray(x)
        f = x.ravel()
        key = (x.shape, x.dtype.str) + ((float(f[0]), float(f[f.size // 2]), float(f[-1]),
                                         float(f.sum()), float(f.max()), float(f.min()))
                                        if f.size else ())
        if key not in kept:
            kept[key] = fn(x)
        return kept[key].copy()
    return answer


WRONG_FORWARD["results kept by the ends, the middle, sum, max and min"] = (
    _kept_by_many(mish), r"differs|depends on the array")
WRONG_DERIVATIVE["a derivative kept by the ends, the middle, sum, max and min"] = (
    (mish, _kept_by_many(mish_grad)), r"at the same x among|float32 input gives values")


# Sixth reading (round 6): shifted copies held as attributes of an object, a cap on h,
# periodic activations that turn fast (right answers).


def d_stencil_in_a_namespace(x):
    import types as _types
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(np.float64)
    h = 1e-3 * np.maximum(1, np.abs(x))
    n = _types.SimpleNamespace()
    n.a, n.b, n.c, n.d = x + h, x - h, x + 2 * h, x - 2 * h
    m = {k: v * np.tanh(np.logaddexp(0, v)) for k, v in vars(n).items()}
    return ((8 * (m["a"] - m["b"]) - (m["c"] - m["d"])) / (12 * h)).astype(dt)


def gc_h_capped(f, df, x, h=1e-5):
    return max_gradient_error(f, df, x, min(h, 0.05))


def wiggle(x):  # x + 0.05 sin(20 x): a periodic term that turns fast
    x = _prep(x)
    return x + 0.05 * np.sin(20 * x)


def wiggle_grad(x):
    x = _prep(x)
    return 1 + np.cos(20 * x)


def snake(x):  # Snake, x + sin^2(a x) / a with a = 10 (a published periodic activation)
    x = _prep(x)
    return x + np.sin(10 * x) ** 2 / 10


def snake_grad(x):
    x = _prep(x)
    return 1 + np.sin(20 * x)


WRONG_DERIVATIVE["a stencil whose shifted copies are attributes of an object"] = (
    (mish, d_stencil_in_a_namespace), r"computes on a shifted copy of x")
WRONG_GRADIENT_CHECKER["h capped at 0.05"] = (gc_h_capped, r"returns .*gives")
RIGHT_DERIVATIVE.update({
    "x + 0.05 sin(20 x)": (wiggle, wiggle_grad),
    "Snake with a = 10": (snake, snake_grad),
})



# ---------------------------------------------------------------- round 9
def mish_in_memory_order(x):
    """Right for C-ordered input only: the values taken in memory order (a flat view)."""
    x = np.asarray(x)
    return mish(x.ravel(order="K")).reshape(x.shape)


def mish_grad_in_memory_order(x):
    x = np.asarray(x)
    return mish_grad(x.ravel(order="K")).reshape(x.shape)


def mish_grad_doubled_from_13_to_19(x):
    """Wrong on -19 < x < -13 only (beyond the dense band of the old draws)."""
    d = mish_grad(x)
    return np.where((x > -19) & (x < -13), 2 * d, d)


def damped_mish(x):
    """Mish times a wide Gaussian: bounded, with its largest value 12.7978 at x = 21.1."""
    x = np.asarray(x)
    return mish(x) * np.exp(-(x / 21.1) ** 2 / 2)


def gf_one_dict_for_every_call():
    kept = {}

    def answer(net, X, y):
        kept.update(gradient_flow(net, X, y))
        return kept
    return answer


def ct_one_table_for_every_call():
    kept = {}

    def answer(train, names, datasets, seeds):
        kept.clear()
        kept.update(comparison_table(train, names, datasets, seeds))
        return kept
    return answer


WRONG_FORWARD.update({
    "a ring of 4 output buffers": (ring_of(mish, 4), r"keeps the array it returned"),
    "right for C-ordered input only (a flat view in memory order)": (
        mish_in_memory_order, r"Fortran order|depends on the array it is in"),
})
WRONG_DERIVATIVE.update({
    "a ring of 2 output buffers": ((mish, ring_of(mish_grad, 2)),
                                   r"keeps the array it returned|a later call changed"),
    "right for C-ordered input only": ((mish, mish_grad_in_memory_order),
                                       r"Fortran order|at the same x among"),
    "doubled on -19 < x < -13": ((mish, mish_grad_doubled_from_13_to_19),
                                 r"x = -1[3-8]\.\d+|finite difference"),
})
WRONG_GRADIENT_CHECKER["h capped at 0.25"] = (
    lambda f, df, x, h=1e-5: max_gradient_error(f, df, x, min(h, 0.25)),
    r"h = 0\.(2[5-9]|[3-9])|h = 1")
WRONG_REGISTRATION["a largest value beyond |x| = 10 rounded inwards"] = (
    (_info(formula=r"f(x) = x \tanh(\mathrm{softplus}(x)) e^{-x^2 / 890.42}",
           output_range=(-0.3089, 12.79)), damped_mish), r"12\.79")
WRONG_GRADIENT_FLOW["one dict for every call"] = (gf_one_dict_for_every_call(),
                                                   r"a later call changed or handed out again")
WRONG_COMPARISON["one table for every call, cleared and refilled"] = (
    ct_one_table_for_every_call(), r"a later call changed or handed out again")


def d_mish_by_autograd(x):
    """Exact values, but not worked out by hand: PyTorch's autograd does it."""
    import torch
    x = np.asarray(x)
    t = torch.tensor(x if x.dtype.kind == "f" else x.astype(float), requires_grad=True)
    (g,) = torch.autograd.grad((t * torch.tanh(torch.nn.functional.softplus(t))).sum(), t)
    return g.numpy()


WRONG_DERIVATIVE["PyTorch's autograd"] = ((mish, d_mish_by_autograd),
                                         r"PyTorch's autograd.*worked out by hand")


# ------------------------------------------------- the confirm11 reading's answers, Parts 2 and 5
def sine_bump(x):  # x + sin(x) / 2: passes Part 1
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    return x + 0.5 * np.sin(x)


def sine_bump_grad(x):
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    return 1 + 0.5 * np.cos(x)


def sine_bump_grad_sign_from_20_to_30(x):  # the cosine's sign flipped on 20 < x < 30
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    d = 1 + 0.5 * np.cos(x)
    return np.where((x > 20) & (x < 30), 1 - 0.5 * np.cos(x), d)


def sine_bump_grad_other_from_50_to_60(x):  # another formula on 50 < |x| < 60
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    d = 1 + 0.5 * np.cos(x)
    return np.where((np.abs(x) > 50) & (np.abs(x) < 60), 1 + 0.5 * np.sin(x), d)


def clip7(x):  # a kink at +-7
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    return np.clip(x, -7, 7) + 0.1 * x + 0.05 * np.sin(x)


def clip7_grad(x):
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    return ((x > -7) & (x < 7)).astype(x.dtype) + 0.1 + 0.05 * np.cos(x)


def clip7_grad_threshold_typo(x):  # x < 7.005 for the kink at 7
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    return ((x > -7) & (x < 7.005)).astype(x.dtype) + 0.1 + 0.05 * np.cos(x)


def mish_grad_through_f_over_x(x):  # tanh(softplus(x)) recovered as f(x) / x
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    e = np.exp(-np.abs(x))
    sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    xs = np.where(x == 0, 1, x)
    t = np.where(x == 0, np.tanh(np.log(2)).astype(x.dtype), mish(x) / xs)
    return t + x * (1 - t * t) * sigmoid


WRONG_DERIVATIVE.update({
    "a sign flipped on 20 < x < 30": ((sine_bump, sine_bump_grad_sign_from_20_to_30),
                                      r"the worst is x = 2\d\.?\d*: got"),
    "another formula on 50 < |x| < 60": ((sine_bump, sine_bump_grad_other_from_50_to_60),
                                         r"the worst is x = -?5\d\.?\d*: got"),
    "a kink's threshold 0.005 off (x < 7.005)": (
        (clip7, clip7_grad_threshold_typo),
        r"x = 7\.00\d+: got 1\.13.*\n.*\nHint: `my_activation` has a kink near x = 7,"),
    "tanh(softplus(x)) as f(x) / x (wrong at subnormal x)": (
        (mish, mish_grad_through_f_over_x), r"x = -?1\.4013e-45: 1 in float32, 0\.6 in float64"
                                            r"|x = -?[0-9.]+e-3[0-2]\d"),
})
RIGHT_DERIVATIVE.update({
    "x + sin(x) / 2": (sine_bump, sine_bump_grad),
    "a clip at +-7 (kinks)": (clip7, clip7_grad),
})


def test_derivative_points_hold_large_tiny_and_near_kink_ones():
    cases = ch06.DERIVATIVE.draw(7)
    x = next(c.args[0] for c in cases if c.note.get("role") == "d")
    band = np.unique(np.abs(x[(np.abs(x) >= 20) & (np.abs(x) <= 100)]))
    assert np.max(np.diff(band)) <= 0.11  # |x| from 20 to 100, densely
    # and the dense case: a random point in every 1e-4 on [-5, 5], every 2e-4 |x| beyond
    dense = next(c.args[0] for c in cases if c.note.get("role") == "dense")
    assert dense.min() >= -100 and dense.max() <= 100 and np.all(np.diff(dense) > 0)
    inner = dense[np.abs(dense) <= 5]
    assert inner.size >= 99_000 and np.max(np.diff(inner)) < 2e-4
    outer = dense[dense > 5]
    assert np.max(np.diff(outer) / outer[1:]) < 4.1e-4
    for tiny in (float(np.float32(1e-30)), float(np.float32(1e-45)), 1e-200, 5e-324):
        assert tiny in x and -tiny in x
    for kink in (7.0, -2.0, 0.25, 19.75):
        for offset in (1e-3, 1e-6):
            assert np.min(np.abs(x - (kink + offset))) < 2e-6
            assert np.min(np.abs(x - (kink - offset))) < 2e-6
    d32 = next(c.args[0] for c in cases if c.note.get("role") == "d32")
    assert np.float32(1e-45) in d32 and np.float32(-1e-30) in d32


def cosine_gap(x):  # x + (1 - cos x) / x, as x + 2 sin(x/2)^2 / x, guarded at x == 0 alone
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    xs = np.where(x == 0, 1, x)
    return x + np.where(x == 0, 0, 2 * np.sin(x / 2) ** 2 / xs)


def cosine_gap_grad_guarded_at_0(x):  # 0 / 0 at 1e-30 (float32), 1e-200 (float64): x * x is 0
    x = np.asarray(x, dtype=float) if np.asarray(x).dtype.kind != "f" else x
    xs = np.where(x == 0, 1, x)
    return 1 + np.where(x == 0, 0.5, (x * np.sin(x) - 2 * np.sin(x / 2) ** 2) / (xs * xs))


def mish_float32_off_beyond_1e4(x):  # float32 results 1e-4 (relative) off beyond |x| = 1e4
    y = mish(x)
    return np.where(np.abs(x) > 1e4, y * np.float32(1 + 1e-4), y) if y.dtype == np.float32 else y


def mish_float32_for_large_float64(x):  # float32 out for a float64 array of large entries only
    y = mish(x)
    return (y.astype(np.float32) if y.dtype == np.float64 and x.size
            and np.all(np.abs(x) > 1e3) else y)


WRONG_STABILITY.update({
    "0 / 0 at tiny x (guarded at x == 0 alone)": (
        (cosine_gap, cosine_gap_grad_guarded_at_0),
        r"`my_derivative` fails at x = -?[0-9.]+e-(3\d|4\d|[12]\d\d) \(float(32|64)\): invalid"),
    "float32 1e-4 off beyond |x| = 1e4": (
        (mish_float32_off_beyond_1e4, mish_grad),
        # (x: a round number, or one of the points spread out to 1e6 since stop 34)
        r"`my_activation` gives \S+ in float32 but \S+ in float64 at x = "
        r"-?(1e\+0[456]|\d{5,6}|\d(\.\d+)?e\+0[56])\b"),
    "float32 out for a float64 array of large entries": (
        (mish_float32_for_large_float64, mish_grad),
        r"turned a float64 input into float32 output.*\n.*\|x\| >= 1e5 alone"),
    "a sign flipped on 20 < x < 30": ((sine_bump, sine_bump_grad_sign_from_20_to_30),
                                      r"at x = 2\d\.?\d* `my_derivative` gives .* no longer "
                                      r"describe the same function"),
    "another formula on 50 < |x| < 60": ((sine_bump, sine_bump_grad_other_from_50_to_60),
                                         r"at x = -?5\d\.?\d* `my_derivative` gives"),
    "tanh(softplus(x)) as f(x) / x (wrong at subnormal x)": (
        (mish, mish_grad_through_f_over_x), r"gives 1 in float32 but 0\.6 in float64 at "
                                            r"x = -?1\.4013e-45"),
})
RIGHT_STABILITY.update({
    "x + sin(x) / 2": (sine_bump, sine_bump_grad),
})


def test_stability_inputs_hold_tiny_spread_and_large_alone():
    cases = ch06.STABILITY.draw(4)
    x64 = next(c.args[0] for c in cases if c.note.get("role") == "1-float64")
    x32 = next(c.args[0] for c in cases if c.note.get("role") == "1-float32")
    assert {1e-200, -1e-310, 5e-324} <= set(x64)
    assert np.float32(1e-45) in x32 and np.float32(-1e-30) in x32
    assert np.sum((x32 > 20) & (x32 < 30)) >= 2 and np.sum((x32 > 50) & (x32 < 60)) >= 1
    big = next(c.args[0] for c in cases if c.note.get("role") == "0-big")
    assert big.dtype == np.float64 and np.all(np.abs(big) >= 1e5)


# ------------------------------------------------- the confirm11 reading's answers, Part 6
def _gf_dead_by(is_dead):
    def answer(net, X, y):
        result = gradient_flow(net, X, y)
        net.forward(X)
        zs, outs = net.cache["z"][:-1], net.cache["a"][1:-1]
        result["dead"] = float(np.mean([np.mean(is_dead(act, z, a))
                                        for act, z, a in zip(net.hidden_activations, zs, outs)]))
        return result
    return answer


WRONG_GRADIENT_FLOW.update({
    "dead when f'(z) == 0 for every sample (a step or saturated unit is not dead)": (
        _gf_dead_by(lambda act, z, a: np.all(act.grad(z) == 0, axis=0)),
        r"\['dead'\] is \S+, expected 0\. That is units whose derivative f'\(z\) is 0 on every "
        r"sample"),
    "dead when every |a| < 1e-2 (tiny outputs are not dead)": (
        _gf_dead_by(lambda act, z, a: np.all(np.abs(a) < 1e-2, axis=0)),
        r"\['dead'\] is \S+, expected \S+\. That is units whose outputs are all small"),
    "ratio over the largest norm": (
        lambda net, X, y: {**gradient_flow(net, X, y), "ratio": float(
            diagnostics.gradient_norms(net, X, y)[0]
            / np.max(diagnostics.gradient_norms(net, X, y)))},
        r"\['ratio'\] is"),
})
RIGHT_GRADIENT_FLOW.update({
    "dead as no nonzero output, ~np.any(a, axis=0)": _gf_dead_by(
        lambda act, z, a: ~np.any(a, axis=0)),
})


# ------------------------------------------------- the confirm11 reading's answers, Part 7
def ct_epoch_100(train, names, datasets, seeds):  # epoch 100, not the last (runs are longer)
    def last(h):
        return float(h.val_accuracy[min(100, len(h.val_accuracy) - 1)])
    return {ds: {n: [last(train(n, ds, s)) for s in seeds] for n in names} for ds in datasets}


def ct_last_number(train, names, datasets, seeds):  # the last accuracy that is not NaN
    def last(h):
        v = h.val_accuracy
        return float(v[~np.isnan(v)][-1])
    return {ds: {n: [last(train(n, ds, s)) for s in seeds] for n in names} for ds in datasets}


WRONG_COMPARISON.update({
    "val_accuracy[min(100, len - 1)]": (ct_epoch_100, r"Hint: those are the accuracies after "
                                                      r"epoch 100"),
    "the last accuracy that is not NaN (a diverged run)": (
        ct_last_number, r"expected nan\..*\n.*\nHint: that is the last accuracy that is not "
                        r"NaN"),
})
RIGHT_COMPARISON.update({
    "h.final('val_accuracy')": lambda train, names, datasets, seeds: {
        ds: {n: [float(train(n, ds, s).final("val_accuracy")) for s in seeds] for n in names}
        for ds in datasets},
})


# ------------------------------------------------- the confirm11 reading's answers, Part 1
def fwd_int8_square(x):  # integers squared in int8: 12 * 12 wraps around to -112
    square = (x * x if x.dtype.kind == "f"
              else (x.astype(np.int8) * x.astype(np.int8)).astype(float))
    return np.tanh(x) + 0.01 * square


def fwd_float32_beyond_6(x):  # float64 computed in float32 where |x| > 6
    if x.dtype == np.float64:
        low = mish(x.astype(np.float32)).astype(np.float64)
        return np.where(np.abs(x) > 6, low, mish(x))
    return mish(x if x.dtype.kind == "f" else x.astype(float))


def fwd_batch_dependent_when_large(x):  # 1e-3 times the mean of the entries beyond 50 added
    x = x if x.dtype.kind == "f" else x.astype(float)
    y = mish(x)
    big = np.abs(x) > 50
    return y + 1e-3 * np.mean(x[big]) if big.any() else y


def fwd_float32_for_large_float64(x):  # float32 out for a float64 array of large entries only
    x = x if x.dtype.kind == "f" else x.astype(float)
    y = mish(x)
    return (y.astype(np.float32) if y.dtype == np.float64 and x.size
            and np.all(np.abs(x) > 1e3) else y)


WRONG_FORWARD.update({
    "integers squared in int8 (wraps around)": (
        fwd_int8_square, r"for an integer \(int(64|32)\) input, but .*\n.*\nHint: integer "
                         r"arithmetic wraps around"),
    "float64 computed in float32 beyond |x| = 6": (
        fwd_float32_beyond_6, r"float32 holds exactly at \d+ of \d+ points beyond 6"),
    "batch-dependent when the batch holds |x| > 50": (
        fwd_batch_dependent_when_large, r"in one batch, shuffled \(float64\) gives .* the value "
                                        r"at an entry depends on the array it is in"),
    "float32 out for a float64 array of large entries": (
        fwd_float32_for_large_float64, r"turned a float64 input into float32 output.*\n.*"
                                       r"\|x\| >= 1e4 alone"),
})
WRONG_FORWARD.update({
    "a masked array": (lambda x: np.ma.masked_array(mish(x)),
                       r"returned a numpy\.ma\.MaskedArray, an array subclass.*\n.*\nHint: "
                       r"compute with plain numpy"),
    "a Python float for a 0-d array": (
        lambda x: float(mish(x)) if np.ndim(x) == 0 else mish(x if x.dtype.kind == "f"
                                                              else x.astype(float)),
        r"returned a Python float for a 0-d array input.*\n.*\nHint: keep numpy's result"),
})


# ------------------------------------------- the confirm12 reading's answers (fix13, all parts)
def _as_float(x):
    x = np.asarray(x)
    return x.astype(np.float64) if x.dtype.kind in "iu" else x


def _bump_beyond_6(x):  # up to 0.01 beyond |x| = 6, none within
    return np.sign(x) * x.dtype.type(0.01) * np.tanh(np.maximum(np.abs(x) - 6, 0)) ** 3


def _softsign_bumped_when(condition):
    """softsign, plus a bump beyond |x| = 6 on the arrays ``condition`` picks."""
    def my_activation(x):
        x = _as_float(x)
        return softsign(x) + _bump_beyond_6(x) if condition(x) else softsign(x)
    return my_activation


def fwd_one_and_a_half_beyond_6_in_batches(x):
    x = _as_float(x)
    return np.where(np.abs(x) > 6, 1.5 * softsign(x), softsign(x)) if x.size > 1 else softsign(x)


_NOT_ELEMENTWISE_BEYOND_6 = r"gives .* at x = -?\d.*, but .* for the same x in case \d+ .*" \
                            r"depends on the array it is in"
WRONG_FORWARD.update({
    "beyond 6, x 1.5 in arrays of 2+ entries": (fwd_one_and_a_half_beyond_6_in_batches,
                                               _NOT_ELEMENTWISE_BEYOND_6),
    "beyond 6, a bump in arrays of 2+ entries": (_softsign_bumped_when(lambda x: x.size > 1),
                                                _NOT_ELEMENTWISE_BEYOND_6),
    "beyond 6, a bump in arrays of 2+ dimensions": (
        _softsign_bumped_when(lambda x: x.ndim >= 2), _NOT_ELEMENTWISE_BEYOND_6),
    # (when the 1-D batch of the points beyond 6 is the one handed over as a strided view,
    # its float64 values are the odd ones, and float32's differ from them)
    "beyond 6, a bump in non-contiguous arrays": (
        _softsign_bumped_when(lambda x: not x.flags.c_contiguous),
        _NOT_ELEMENTWISE_BEYOND_6 + r"|in float32 but \S+ in float64 \(\d+ of the \d+ points "
                                    r"beyond 6 differ"),
    "beyond 6, a bump in 3-D arrays": (_softsign_bumped_when(lambda x: x.ndim == 3),
                                      _NOT_ELEMENTWISE_BEYOND_6),
    "beyond 6, a bump in 0-d arrays": (_softsign_bumped_when(lambda x: x.ndim == 0),
                                      _NOT_ELEMENTWISE_BEYOND_6),
    "beyond 6, a bump in arrays of 1,000+ entries": (
        _softsign_bumped_when(lambda x: x.size >= 1000), _NOT_ELEMENTWISE_BEYOND_6),
    "beyond 6, a bump in float32 batches only": (
        _softsign_bumped_when(lambda x: x.dtype == np.float32 and x.size > 1),
        r"in float32 but .* in float64 .*points beyond 6|" + _NOT_ELEMENTWISE_BEYOND_6),
    "beyond 6, a bump in float32 only": (
        _softsign_bumped_when(lambda x: x.dtype == np.float32),
        r"at x = \S+ in float32 but \S+ in float64 \(\d+ of the \d+ points beyond 6 differ"),
})
WRONG_FORWARD["mish on small inputs, relu on 200,000 (np.size)"] = (
    fwd_size_switch, r"(200,000 elements|a batch of shape|a \d+ x \d+ input).*depends on the "
                     r"array it is in")
WRONG_FORWARD["batch-dependent when the batch holds |x| > 50"] = (
    fwd_batch_dependent_when_large, r"gives .* for the same x .* the value at an entry depends "
                                    r"on the array it is in")


def _softsign_derivative_wrong_on(lo, hi, how, *, both_sides=False):
    def my_derivative(x):
        x = _as_float(x)
        right = softsign_grad(x)
        where = np.abs(x) if both_sides else x
        band = (where > lo) & (where < hi)
        return np.where(band, how(right, x), right).astype(x.dtype)
    return my_derivative


_KINK = 1.7321  # a kink where kinks do not usually sit (not a multiple of 1/4 or 1/10)


def kinked_softsign(x):  # softsign up to the kink, then a line of slope 0.2
    x = _as_float(x)
    at = _KINK / (1 + _KINK)
    return np.where(x <= _KINK, x / (1 + np.abs(x)), at + 0.2 * (x - _KINK)).astype(x.dtype)


def kinked_softsign_grad(off):
    def my_derivative(x):
        x = _as_float(x)
        return np.where(x <= _KINK - off, 1 / (1 + np.abs(x)) ** 2, 0.2 + 0 * x).astype(x.dtype)
    return my_derivative


WRONG_DERIVATIVE.update({
    "0.5 on 2.3141 < x < 2.3143 (between the old grid's points)": (
        (softsign, _softsign_derivative_wrong_on(2.3141, 2.3143, lambda d, x: 0 * x + 0.5)),
        r"disagrees with finite differences .* x = 2\.314"),
    "0.5 on 2.31255 < x < 2.31475": (
        (softsign, _softsign_derivative_wrong_on(2.31255, 2.31475, lambda d, x: 0 * x + 0.5)),
        r"disagrees with finite differences .* x = 2\.31[2-4]"),
    "0.5 on 2.31255 < x < 2.31355 (a stretch of 1e-3)": (
        (softsign, _softsign_derivative_wrong_on(2.31255, 2.31355, lambda d, x: 0 * x + 0.5)),
        r"disagrees with finite differences .* x = 2\.31[23]"),
    "the sign flipped on 3.71001 < |x| < 3.71049": (
        (softsign, _softsign_derivative_wrong_on(3.71001, 3.71049, lambda d, x: -d,
                                                 both_sides=True)),
        r"disagrees with finite differences .* x = -?3\.710"),
    "3 times too large on 37.001 < |x| < 37.049": (
        (softsign, _softsign_derivative_wrong_on(37.001, 37.049, lambda d, x: 3 * d,
                                                 both_sides=True)),
        r"disagrees with finite differences .* x = -?37\.0[0-4]"),
    "a kink at 1.7321, the derivative's threshold 5e-4 below it": (
        (kinked_softsign, kinked_softsign_grad(5e-4)),
        r"x = 1\.73\d*: got 0\.2.*\n.*\nHint: `my_activation` has a kink near x = 1\.732"),
    "a kink at 1.7321, the derivative's threshold 5e-5 below it": (
        (kinked_softsign, kinked_softsign_grad(5e-5)),
        r"x = 1\.73\d*: got 0\.2.*\n.*\nHint: `my_activation` has a kink near x = 1\.732"),
})
RIGHT_DERIVATIVE.update({
    "a kink at 1.7321, the same threshold in both": (kinked_softsign, kinked_softsign_grad(0.0)),
    "softsign's derivative as (1 - |f(x)|)^2": (softsign,
                                               lambda x: (1 - np.abs(softsign(x))) ** 2),
})


WRONG_REGISTRATION.update({
    r"softsign written \frac{x}{1.01 + |x|}": (
        (_info(name="softsign_c12", formula=r"f(x) = \frac{x}{1.01 + |x|}",
               output_range=(-1.0, 1.0)), softsign),
        r"must describe the function you wrote, at every x, and its rounded constants do not "
        r"allow"),
    r"softsign written \frac{x}{1.001 + |x|}": (
        (_info(name="softsign_c12", formula=r"f(x) = \frac{x}{1.001 + |x|}",
               output_range=(-1.0, 1.0)), softsign),
        r"its rounded constants do not allow"),
    "softsign written with + 0.0001 x (unbounded)": (
        (_info(name="softsign_c12", formula=r"f(x) = \frac{x}{1 + |x|} + 0.0001 x",
               output_range=(-1.0, 1.0)), softsign),
        r"must describe the function you wrote"),
})
RIGHT_REGISTRATION.update({
    "softsign with a domain and a range of +-1.02": (
        _info(name="softsign_c12", formula=r"f(x) = \frac{x}{1 + |x|}, \quad x \in \mathbb{R}",
              output_range=(-1.02, 1.02)), softsign),
    r"softsign as x / (1 + \sqrt{x^2}), the range a list": (
        _info(name="softsign_c12", formula=r"f(x) = \frac{x}{1 + \sqrt{x^2}}",
              output_range=[-1, 1]), softsign),
    "x sigma(1.7 x) for x sigma(1.702 x): a constant rounded to its last digit": (
        _info(name="swish_17", formula=r"f(x) = x \sigma(1.7 x)", output_range=(-0.17, np.inf)),
        lambda x: x * activations.sigmoid(1.702 * x)),
})


def _finite_difference_parts(f, df, x, h):
    x = np.asarray(x, dtype=float)
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))


def gc_nanmax(f, df, x, h=1e-5):
    return float(np.nanmax(_finite_difference_parts(f, df, x, h)))


def gc_finite_errors_only(f, df, x, h=1e-5):
    errors = _finite_difference_parts(f, df, x, h)
    errors = errors[np.isfinite(errors)]
    return float(errors.max()) if errors.size else 0.0


def gc_python_max(f, df, x, h=1e-5):  # keeps a NaN only when it comes first
    return float(max(_finite_difference_parts(f, df, x, h)))


def gc_one_call_of_f(f, df, x, h=1e-5):  # f once, on x + h and x - h side by side
    x = np.asarray(x, dtype=float)
    both = f(np.concatenate([x + h, x - h]))
    fd = (both[:x.size] - both[x.size:]) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1, np.maximum(np.abs(d), np.abs(fd)))))


_HIDES_NAN = r"(?s)gives nan there .*NaN or an infinity in d or fd.*np\.nanmax"
WRONG_GRADIENT_CHECKER.update({
    "np.nanmax": (gc_nanmax, _HIDES_NAN),
    "the finite errors only": (gc_finite_errors_only, _HIDES_NAN),
    "Python's max": (gc_python_max, _HIDES_NAN),
})
RIGHT_GRADIENT_CHECKER["f once on x + h and x - h side by side"] = gc_one_call_of_f


def st_softsign_grad_zero_in_float32_beyond(threshold):
    def my_derivative(x):
        x = _as_float(x)
        d = 1 / (1 + np.abs(x)) ** 2
        if x.dtype == np.float32:
            return np.where(np.abs(x) > threshold, np.float32(0), d).astype(np.float32)
        return d
    return my_derivative


_FLUSHED = (r"`my_derivative` gives 0 in float32 but \S+ in float64 at x = .*\n.*\nHint: "
            r"float32 holds numbers down to about 1e-38")
WRONG_STABILITY.update({
    "float32 derivative 0 beyond |x| = 400": ((softsign, st_softsign_grad_zero_in_float32_beyond(
        400)), _FLUSHED),
    "float32 derivative 0 beyond |x| = 1000": ((softsign, st_softsign_grad_zero_in_float32_beyond(
        1000)), _FLUSHED),
})
RIGHT_STABILITY.update({
    "softsign's derivative as (1 - |f(x)|)^2": (softsign,
                                               lambda x: (1 - np.abs(softsign(x))) ** 2),
    "SiLU's derivative as f + sigma (1 - f) (cancels near its zero)": (
        silu, lambda x: silu(x) + activations.sigmoid(x) * (1 - silu(x))),
})


def _gf_dead_below(tolerance):
    def answer(net, X, y):
        result = gradient_flow(net, X, y)
        outputs = [a(z) for a, z in zip(net.hidden_activations, net.cache["z"][:-1])]
        result["dead"] = float(np.mean([np.mean(np.all(np.abs(a) < tolerance, axis=0))
                                        for a in outputs]))
        return result
    return answer


def gf_flat_at_least_dead(net, X, y):
    result = gradient_flow(net, X, y)
    result["flat"] = max(result["flat"], result["dead"])
    return result


def gf_flat_width_weighted(net, X, y):  # the per-layer fractions weighted by width: pooled
    norms = diagnostics.gradient_norms(net, X, y)
    dead = diagnostics.dead_fraction(net, X)[:-1]
    zs = net.cache["z"][:-1]
    fractions = [np.mean(np.abs(a.grad(z)) < 0.01) for a, z in zip(net.hidden_activations, zs)]
    widths = [z.shape[1] for z in zs]
    return {"ratio": float(norms[0] / norms[-1]), "dead": float(np.mean(dead)),
            "flat": float(np.average(fractions, weights=widths))}


_TINY_ALIVE = r"\['dead'\] is .*(tiny but not 0 counted as dead|outputs are all small)"
WRONG_GRADIENT_FLOW.update({
    "dead: outputs all below 1e-5": (_gf_dead_below(1e-5), _TINY_ALIVE),
    "dead: outputs all below 1e-6": (_gf_dead_below(1e-6), _TINY_ALIVE),
    "dead: outputs all below 1e-12": (_gf_dead_below(1e-12), _TINY_ALIVE),
    "dead: outputs all below 1e-30": (_gf_dead_below(1e-30), _TINY_ALIVE),
    "flat = max(flat, dead)": (gf_flat_at_least_dead, r"\['flat'\] is \S+, expected \S+"),
})
RIGHT_GRADIENT_FLOW["flat as the per-layer fractions weighted by width"] = gf_flat_width_weighted


def ct_seeds_deduplicated(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).val_accuracy[-1]) for s in dict.fromkeys(seeds)]
                 for n in names} for ds in datasets}


def ct_one_run_per_distinct_combination(train, names, datasets, seeds):
    runs = {}
    table = {}
    for ds in datasets:
        table[ds] = {}
        for n in names:
            for s in seeds:
                if (n, ds, s) not in runs:
                    runs[n, ds, s] = float(train(n, ds, s).val_accuracy[-1])
            table[ds][n] = [runs[n, ds, s] for s in seeds]
    return table


WRONG_COMPARISON["seeds de-duplicated"] = (
    ct_seeds_deduplicated, r"(?s)has 3 entries, expected 4 \(one per seed\).*given twice")
RIGHT_COMPARISON["one run per distinct combination, a seed given twice used twice"] = (
    ct_one_run_per_distinct_combination)


def test_the_draws_hold_what_the_confirm12_reading_asked_for():
    forward = ch06.FORWARD.draw(11)
    beyond = [c.args[0] for c in forward if c.args and isinstance(c.args[0], np.ndarray)
              and c.args[0].dtype.kind == "f" and np.any(np.abs(c.args[0]) > 6)
              and c.note.get("role") not in ("far+1", "far+2")]
    # points beyond 6 alone (1-d and 0-d), in 2-, 3- and 4-D batches, float32 too, and in a
    # batch larger than the old largest (some 80 entries), the first and last entries among them
    assert {a.ndim for a in beyond} >= {0, 1, 2, 3, 4}
    assert any(a.dtype == np.float32 and a.ndim == 0 for a in beyond)
    assert any(a.dtype == np.float32 and a.ndim == 2 for a in beyond)
    assert max(a.size for a in beyond) >= 200_000
    assert any(100 <= a.size <= 20_000 and abs(a.flat[0]) > 6 and abs(a.flat[-1]) > 6
               for a in beyond)
    flow = ch06.GRADIENT_FLOW.draw(11)
    biases = [c.args[0].params.get("biases") for c in flow]
    tiny = next(b for b in biases if b and min(min(layer) for layer in b) < -600)
    assert all(max(layer) > -9 and min(layer) < -600 for layer in tiny)
    table = ch06.COMPARISON.draw(11)
    assert any(len(set(c.args[3])) < len(c.args[3]) for c in table)
    checker = ch06.GRADIENT_CHECKER.draw(11)
    assert {c.args[1].params.get("error") for c in checker} >= {"nan", "inf"}
    assert any(c.args[0].params.get("error") == "nan beyond" for c in checker)


# ---------------------------------------------------------------- the thirteenth reading


def _wrong_at_negative_zero(grad, value):
    def my_derivative(x):
        x = _as_float(x)
        d = grad(x)
        return np.where(np.signbit(x) & (x == 0), np.asarray(value, dtype=x.dtype), d)
    return my_derivative


def d_abs_by_signbit(x):  # |x|'s derivative with the sign bit: -1 at -0.0, 1 at 0.0 (a kink)
    x = _as_float(x)
    return np.where(np.signbit(x), -1.0, 1.0).astype(x.dtype)


def _abs_float(x):
    return np.abs(_as_float(x))


_NEGATIVE_ZERO = r"(?s)at x = -0\.0 \(negative zero, float(32|64)\).*ordinary zero"
WRONG_DERIVATIVE.update({
    "softsign's derivative 0 at negative zero": (
        (softsign, _wrong_at_negative_zero(softsign_grad, 0.0)), _NEGATIVE_ZERO),
    "Mish's derivative 0.5 at negative zero": (
        (mish, _wrong_at_negative_zero(mish_grad, 0.5)), _NEGATIVE_ZERO),
})
RIGHT_DERIVATIVE["|x| with np.signbit: -1 at -0.0, 1 at 0.0 (both valid at the kink)"] = (
    _abs_float, d_abs_by_signbit)
_SLOPE_AT_NEGATIVE_ZERO = (r"at x = -0 `my_derivative` gives .*no longer describe the same "
                           r"function \(at negative zero")
WRONG_STABILITY.update({
    "softsign's derivative 0 at negative zero": (
        (softsign, _wrong_at_negative_zero(softsign_grad, 0.0)), _SLOPE_AT_NEGATIVE_ZERO),
    "Mish's derivative 0.5 at negative zero": (
        (mish, _wrong_at_negative_zero(mish_grad, 0.5)), _SLOPE_AT_NEGATIVE_ZERO),
})
RIGHT_STABILITY["|x| with np.signbit: -1 at -0.0, 1 at 0.0"] = (_abs_float, d_abs_by_signbit)


def softsign_leaving_beyond(limit, value=1.2):
    def my_activation(x):  # softsign, then value sign(x) beyond |x| = limit
        x = _as_float(x)
        return np.where(np.abs(x) > limit, value * np.sign(x), x / (1 + np.abs(x)))
    return my_activation


def bent(x):  # sqrt(x^2 + 1) - 1, written without the cancellation near 0
    x = _as_float(x)
    return x * x / (np.sqrt(x * x + 1) + 1)


_FORMULA_FAR = r"your formula .* gives \S+ at x = -?\d\S*, but `my_activation` gives"
_SOFTSIGN_WIDE = _info(name="softsign_me", formula=r"f(x) = \frac{x}{1 + |x|}",
                       output_range=(-1.2, 1.2))
WRONG_REGISTRATION.update({
    "softsign that jumps to 1.2 sign(x) beyond |x| = 2e4": (
        (_SOFTSIGN_WIDE, softsign_leaving_beyond(2e4)), _FORMULA_FAR),
    "softsign that jumps to 1.2 sign(x) beyond |x| = 1e6": (
        (_SOFTSIGN_WIDE, softsign_leaving_beyond(1e6)), _FORMULA_FAR),
    "softsign that jumps to 1.2 sign(x) beyond |x| = 3e11": (
        (_SOFTSIGN_WIDE, softsign_leaving_beyond(3e11)),
        rf"{_FORMULA_FAR}|keeps growing downwards: -1\.2 at x = -1e\+12"),
})
RIGHT_REGISTRATION["sqrt(x^2 + 1) - 1, computed without its cancellation"] = (
    _info(name="bent", formula=r"f(x) = \sqrt{x^2 + 1} - 1", output_range=(0, np.inf)), bent)


# Fourteenth reading: a function that nears its bound like 1/ln|x| still moves 0.83 as much in
# the last decade to 1e12 as in the one before: the floats cannot tell it from slow growth,
# so its bound and an infinite end are both right; ln ln|x| (0.91 as much) grows.
def slow_softsign(x):  # softsign (1 - 1/ln(e + x^2)): bounded by 1, approached slowly
    x = _as_float(x)
    return x / (1 + np.abs(x)) * (1 - 1 / np.log(np.e + x * x))


def log_log(x):  # ln(ln(e + |x|)): unbounded above, slowly
    return np.log(np.log(np.e + np.abs(_as_float(x))))


_SLOW = r"f(x) = \frac{x}{1 + |x|} (1 - \frac{1}{\ln(e + x^{2})})"
_LOG_LOG = r"f(x) = \ln(\ln(e + |x|))"
RIGHT_REGISTRATION.update({
    "a bound neared like 1/ln|x|, with its bound": (
        _info(name="slow_softsign", formula=_SLOW, output_range=(-1, 1)), slow_softsign),
    "a bound neared like 1/ln|x|, claimed unbounded": (
        _info(name="slow_softsign", formula=_SLOW, output_range=(-np.inf, np.inf)),
        slow_softsign),
    "ln ln|x|, unbounded above": (
        _info(name="log_log", formula=_LOG_LOG, output_range=(0, np.inf)), log_log),
})
WRONG_REGISTRATION.update({
    "a bound neared like 1/ln|x|, claimed (-1.5, 1.5)": (
        (_info(name="slow_softsign", formula=_SLOW, output_range=(-1.5, 1.5)), slow_softsign),
        r"lower end -1\.5 .*beyond the smallest value"),
    "ln ln|x| claimed (0, 4)": (
        (_info(name="log_log", formula=_LOG_LOG, output_range=(0, 4)), log_log),
        r"ends at 4.*keeps growing upwards"),
})


def _gf_dead_at_most(tolerance):
    def answer(net, X, y):
        result = gradient_flow(net, X, y)
        outputs = [a(z) for a, z in zip(net.hidden_activations, net.cache["z"][:-1])]
        result["dead"] = float(np.mean([np.mean(np.all(np.abs(a) <= tolerance, axis=0))
                                        for a in outputs]))
        return result
    return answer


def _gf_flat_below(threshold, strict=True):
    def answer(net, X, y):
        result = gradient_flow(net, X, y)
        grads = [np.abs(a.grad(z)) for a, z in zip(net.hidden_activations, net.cache["z"][:-1])]
        flags = [(g < threshold) if strict else (g <= threshold) for g in grads]
        result["flat"] = float(np.mean(np.concatenate([f.ravel() for f in flags])))
        return result
    return answer


def gf_flat_unit_by_unit(net, X, y):  # f' on each unit's column (a strided view) alone
    result = gradient_flow(net, X, y)
    count = total = 0
    for act, z in zip(net.hidden_activations, net.cache["z"][:-1]):
        for j in range(z.shape[1]):
            count += int(np.sum(np.abs(act.grad(z[:, j])) < diagnostics.SATURATION_THRESHOLD))
            total += z.shape[0]
    result["flat"] = count / total
    return result


_FLAT_THRESHOLD = (r"(?s)\['flat'\] is .*(between \S+ and \S+, not 0\.01: entries just "
                   r"(below|above) the flat threshold|<= 0\.01 instead of < 0\.01)")
WRONG_GRADIENT_FLOW.update({
    "dead: outputs all <= 1e-310 (subnormal outputs counted dead)": (
        _gf_dead_at_most(1e-310), _TINY_ALIVE),
    "dead: outputs all <= 5e-324 (the smallest subnormal counted dead)": (
        _gf_dead_at_most(5e-324), _TINY_ALIVE),
    "flat: |f'| < 0.00999": (_gf_flat_below(0.00999), _FLAT_THRESHOLD),
    "flat: |f'| < 0.01 (1 - 1e-9)": (_gf_flat_below(0.01 * (1 - 1e-9)), _FLAT_THRESHOLD),
    "flat: |f'| < 0.01 (1 + 1e-9)": (_gf_flat_below(0.01 * (1 + 1e-9)), _FLAT_THRESHOLD),
    "flat: |f'| <= 0.0100001": (_gf_flat_below(0.0100001, strict=False), _FLAT_THRESHOLD),
})
RIGHT_GRADIENT_FLOW["flat counted unit by unit, on each column alone"] = gf_flat_unit_by_unit
RIGHT_GRADIENT_FLOW["dead as outputs all <= 0, the smallest subnormal alive"] = _gf_dead_at_most(
    0.0)


def ct_steps_back(k):
    def comparison_table(train, names, datasets, seeds):  # a NaN last epoch: k epochs back
        def last(history):
            v = np.asarray(history.val_accuracy, dtype=float)
            return float(v[-1]) if np.isfinite(v[-1]) else float(v[max(0, v.size - 1 - k)])
        return {ds: {n: [last(train(n, ds, s)) for s in seeds] for n in names}
                for ds in datasets}
    return comparison_table


def ct_float32_array(train, names, datasets, seeds):
    return {ds: {n: np.array([train(n, ds, s).val_accuracy[-1] for s in seeds],
                             dtype=np.float32) for n in names} for ds in datasets}


_HIDES_DIVERGED = r"(?s)expected nan\..*(diverged|NaN)"
WRONG_COMPARISON.update({
    "a NaN last epoch replaced by the epoch before": (ct_steps_back(1), _HIDES_DIVERGED),
    "a NaN last epoch replaced by the one 5 epochs back": (ct_steps_back(5), _HIDES_DIVERGED),
    "a NaN last epoch replaced by the one 20 epochs back": (ct_steps_back(20), _HIDES_DIVERGED),
    "accuracies as a float32 array": (ct_float32_array, r"(?s)differs.*float32"),
})


def test_the_draws_hold_what_the_confirm13_reading_asked_for():
    derivative = ch06.DERIVATIVE.draw(13)
    zeros = [c.args[0] for c in derivative if c.note.get("role", "").startswith("negzero")]
    assert {a.dtype for a in zeros} == {np.dtype(np.float32), np.dtype(np.float64)}
    assert all(np.all(np.signbit(a) & (a == 0)) for a in zeros)
    stability = ch06.STABILITY.draw(13)
    assert all(np.any(np.signbit(c.args[0]) & (c.args[0] == 0)) for c in stability
               if c.note.get("role", "").endswith(("float32", "float64")))
    flow = ch06.GRADIENT_FLOW.draw(13)
    tiny = next(c.args[0].params["biases"] for c in flow if "smallest subnormal" in c.label)
    assert min(tiny[-1]) < -744 and any(-744 < b < -709 for b in tiny[-1])
    held = next(c.args[0].params for c in flow if "held" in c.args[0].params)
    table = ch06.COMPARISON.draw(13)
    diverged = [d for c in table for d in c.args[0].params.get("diverged", ())]
    assert sorted(d[3] for d in diverged)[0] == 1 and len(diverged) == 2
    assert sum(len(layer) >= 2 for layer in held["held"]) == 4  # every layer but ReLU's


# ---------------------------------------------------------------- the fourteenth reading (fix15)
# Part 4: a checker that hides a point where f overflows on one side (fd = +-inf, d finite), or
# that leaves out the first, the last or the middle point of arrays beyond some length.
def _gc_fd_masked(fill):
    def max_gradient_error(f, df, x, h=1e-5):
        x = np.asarray(x, dtype=float)
        d = df(x)
        fd = (f(x + h) - f(x - h)) / (2 * h)
        errors = np.abs(d - fd) / np.maximum(1, np.maximum(np.abs(d), np.abs(fd)))
        broken = np.isinf(fd) & np.isfinite(d)
        if fill is None:  # the point skipped
            return float(np.max(errors[~broken])) if np.any(~broken) else 0.0
        return float(np.max(np.where(broken, fill, errors)))
    return max_gradient_error


def _gc_without(cut, beyond):
    def max_gradient_error(f, df, x, h=1e-5):
        x = np.asarray(x, dtype=float)
        return _gc_errors_max(f, df, cut(x) if x.size > beyond else x, h)
    return max_gradient_error


def _gc_errors_max(f, df, x, h):
    return float(np.max(_gc_errors(f, df, x, h)))


_FD_INFINITE = (r"(?s)gives nan there .*Here f is infinite on one side of a point, so fd is "
                r"infinite there while d is finite.*np\.nanmax")
WRONG_GRADIENT_CHECKER.update({
    "points where fd is infinite (f overflows) skipped": (_gc_fd_masked(None), _FD_INFINITE),
    "an infinite fd with a finite d: error inf": (_gc_fd_masked(np.inf), _FD_INFINITE),
    "an infinite fd with a finite d: error 0": (_gc_fd_masked(0.0), _FD_INFINITE),
    "the last point left out beyond 19 points": (_gc_without(lambda x: x[:-1], 19),
                                                 _LONG_ARRAYS),
    "the last point left out beyond 50 points": (_gc_without(lambda x: x[:-1], 50),
                                                 _LONG_ARRAYS),
    "the first point left out beyond 50 points": (_gc_without(lambda x: x[1:], 50),
                                                  _LONG_ARRAYS),
    "the first and last points left out beyond 50 points": (
        _gc_without(lambda x: x[1:-1], 50), _LONG_ARRAYS),
    "the middle point left out beyond 50 points": (
        _gc_without(lambda x: np.delete(x, x.size // 2), 50), _LONG_ARRAYS),
    "the last point left out beyond 1,000 points": (_gc_without(lambda x: x[:-1], 1000),
                                                    _LONG_ARRAYS),
})


# Part 6: "dead" that leaves out a sample of the batch; "flat" from z or f' rounded.
def _gf_dead_on(rows):
    def gradient_flow_(net, X, y):
        result = gradient_flow(net, X, y)
        outputs = [a(z) for a, z in zip(net.hidden_activations, net.cache["z"][:-1])]
        result["dead"] = float(np.mean([np.mean(np.all(rows(a) == 0, axis=0)) if a.shape[0] > 20
                                        else np.mean(np.all(a == 0, axis=0)) for a in outputs]))
        return result
    return gradient_flow_


def _gf_flat_of(grad_of):
    def gradient_flow_(net, X, y):
        result = gradient_flow(net, X, y)
        zs = net.cache["z"][:-1]
        count = sum(int(np.sum(np.abs(grad_of(a, z)) < 0.01))
                    for a, z in zip(net.hidden_activations, zs))
        result["flat"] = count / sum(z.size for z in zs)
        return result
    return gradient_flow_


def gf_dead_from_the_cache(net, X, y):  # the outputs the forward pass of gradient_norms left
    result = gradient_flow(net, X, y)
    result["dead"] = float(np.mean([np.mean(np.all(a == 0, axis=0))
                                    for a in net.cache["a"][1:-1]]))
    return result


def gf_flat_mean_of_unit_fractions(net, X, y):  # each unit's share of flat samples, averaged
    result = gradient_flow(net, X, y)
    shares = np.concatenate([np.mean(np.abs(a.grad(z)) < 0.01, axis=0)
                             for a, z in zip(net.hidden_activations, net.cache["z"][:-1])])
    result["flat"] = float(np.mean(shares))
    return result


_DEAD_SAMPLE = (r"\['dead'\] is .*with (sample \d+( \(the (first|last)\))?|one sample) of the "
                r"\d+ left out.*: a unit alive on that sample alone counted as dead")
WRONG_GRADIENT_FLOW.update({
    "dead: the first sample left out (batches of 20+)": (
        _gf_dead_on(lambda a: a[1:]), _DEAD_SAMPLE),
    "dead: the last sample left out (batches of 20+)": (
        _gf_dead_on(lambda a: a[:-1]), _DEAD_SAMPLE),
    "dead: the middle sample left out (batches of 20+)": (
        _gf_dead_on(lambda a: np.delete(a, a.shape[0] // 2, axis=0)),
        _DEAD_SAMPLE),
    "dead: every other sample (batches of 20+)": (_gf_dead_on(lambda a: a[::2]),
                                                  r"\['dead'\] is .*expected"),
    "flat: z through float32": (_gf_flat_of(lambda a, z: a.grad(z.astype(np.float32))),
                                r"\['flat'\] is \S+, expected \S+"),
    "flat: z rounded to 6 decimals": (_gf_flat_of(lambda a, z: a.grad(np.round(z, 6))),
                                      r"\['flat'\] is \S+, expected \S+"),
    "flat: z rounded to 9 decimals": (_gf_flat_of(lambda a, z: a.grad(np.round(z, 9))),
                                      r"\['flat'\] is \S+, expected \S+"),
    "flat: |f'| through float32": (_gf_flat_of(lambda a, z: a.grad(z).astype(np.float32)),
                                   r"\['flat'\] is \S+, expected \S+"),
})
RIGHT_GRADIENT_FLOW["dead from net.cache['a'][1:-1]"] = gf_dead_from_the_cache
RIGHT_GRADIENT_FLOW["flat as the mean of each unit's share"] = gf_flat_mean_of_unit_fractions


def test_the_draws_hold_what_the_fourteenth_reading_asked_for():
    for seed in (14, 15):
        checker = ch06.GRADIENT_CHECKER.draw(seed)
        overflow = [c for c in checker if c.args[0].params.get("error") == "inf near"]
        assert len(overflow) == 1
        (f, df, x), kwargs = overflow[0].inputs()
        h = kwargs.get("h", 1e-5)
        fd = (f(x + h) - f(x - h)) / (2 * h)
        assert np.sum(np.isinf(fd)) == 1 and np.all(np.isfinite(df(x)))
        worst = []
        for c in checker:
            if c.args[1].params.get("error") == "spikes" and np.size(c.args[2]) >= 150:
                (f, df, x), _ = c.inputs()
                fd = (f(x + 1e-5) - f(x - 1e-5)) / 2e-5
                worst.append((int(np.argmax(np.abs(df(x) - fd) / np.maximum(
                    1, np.maximum(np.abs(df(x)), np.abs(fd))))), x.size))
        assert len(worst) == 4
        assert {0, -1, 1} <= {0 if k == 0 else -1 if k == n - 1 else 1 if k == n // 2 else 2
                              for k, n in worst}
        flow = ch06.GRADIENT_FLOW.draw(seed)
        (net, X, y), _ = flow[0].inputs()
        net.forward(X)
        alive = np.sum(net.cache["a"][1] != 0, axis=0)
        once = [int(np.argmax(net.cache["a"][1][:, u] != 0)) for u in np.flatnonzero(alive == 1)]
        n = X.shape[0]
        assert n >= 50 and {0, n - 1, n // 2} <= set(once) and len(set(once)) >= 4


# ------------------------------------------------- stop 34: the items of the last reading
# (names start with "s34" so `-k s34` runs them alone)

def fwd_ints_via_float32_exact(x):  # integers through float32, then float64: exact to 2^24
    x = np.asarray(x)
    return mish(x.astype(np.float32).astype(np.float64) if x.dtype.kind in "iu" else x)


def fwd_float32_upcast_when_large(x):  # float32 input past 150,000 entries gives float64
    x = np.asarray(x)
    return mish(x.astype(np.float64) if x.dtype == np.float32 and x.size > 150_000 else x)


def fwd_float16_when_large(x):  # float32 input past 150,000 entries through float16
    x = np.asarray(x)
    if x.dtype == np.float32 and x.size > 150_000:
        return mish(x.astype(np.float16)).astype(np.float32)
    return mish(x)


def fwd_ints_as_float64(x):  # integers cast to float64 first: right
    x = np.asarray(x)
    return mish(x.astype(np.float64) if x.dtype.kind in "iu" else x)


WRONG_FORWARD.update({
    "s34 integers through float32 and back to float64": (
        fwd_ints_via_float32_exact,
        r"gives \d+ at x = -?\d+ for an integer \(int64\) input, but -?\d+ for the same number "
        r"in float64.*float32 cannot hold"),
    "s34 float32 input turned into float64 past 150,000 entries": (
        fwd_float32_upcast_when_large,
        r"turned a float32 input into float64 output.\nIn case \d+ of \d+: the timed input's "
        r"200,000 values in float32"),
    "s34 float32 input through float16 past 150,000 entries": (
        fwd_float16_when_large, r"200,000 values in float32, shape .* for the same x in float64: "
                                r"a large float32 array"),
})
RIGHT_FORWARD["s34 integers cast to float64 first"] = fwd_ints_as_float64


def _stencil8(h, f=_mish_helper):  # an 8th-order central difference of a helper, step h
    weights = (4 / 5, -1 / 5, 4 / 105, -1 / 280)

    def d(x):
        x = np.asarray(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(float)
        x = x.astype(np.float64)
        return (sum(w * (f(x + k * h) - f(x - k * h)) for k, w in enumerate(weights, 1))
                / h).astype(dtype)
    return d


def _sign_with(value, at=0.0):  # |x|'s derivative, with ``value`` at x = ``at``
    def d(x):
        x = np.asarray(x)
        g = np.sign(x).astype(x.dtype if x.dtype.kind == "f" else np.float64)
        return np.where(x == at, np.asarray(value, g.dtype), g)
    return d


def _clip_grad_with(value):  # np.clip(x, 0, 2)'s derivative, with ``value`` at x = 2
    def d(x):
        x = np.asarray(x)
        g = ((x > 0) & (x < 2)).astype(x.dtype if x.dtype.kind == "f" else np.float64)
        return np.where(x == 2, np.asarray(value, g.dtype), g)
    return d


def silu_half_tanh(x):  # SiLU as x (1 + tanh(x / 2)) / 2
    return x * (1 + np.tanh(x / 2)) / 2


def silu_half_tanh_grad(x):  # a local holding x / 2: no finite difference's step
    half = x / 2
    t = np.tanh(half)
    return (1 + t) / 2 + half * (1 - t * t) / 2


WRONG_DERIVATIVE.update({
    "s34 an 8th-order stencil of a helper, step 0.105 (just past the old 0.1)": (
        (mish, _stencil8(0.105)), r"computes on a shifted copy of x \(`_mish_helper` at x "
                                  r"\+0\.105\)"),
    "s34 an 8th-order stencil of a helper, step 0.2": (
        (mish, _stencil8(0.2)), r"computes on a shifted copy of x \(`_mish_helper` at x \+0\.2\)"),
    "s34 |x| with f'(0) = 1 + 1e-6, just outside the kink's slopes": (
        (absolute, _sign_with(1 + 1e-6)),
        r"the worst is x = 0: .*a kink: any value from -1 to 1 is accepted there"),
    "s34 |x| with f'(0) = -1.001": (
        (absolute, _sign_with(-1.001)), r"the worst is x = 0: got -1\.001.*a kink"),
    "s34 np.clip(x, 0, 2) with f'(2) = 1.001": (
        (lambda x: np.clip(x, 0, 2), _clip_grad_with(1.001)),
        r"the worst is x = 2: got 1\.001.*a kink: any value from 0 to 1"),
})
RIGHT_DERIVATIVE.update({
    "s34 |x| with f'(0) = 1, the right slope": (absolute, _sign_with(1.0)),
    "s34 |x| with f'(0) = -1, the left slope": (absolute, _sign_with(-1.0)),
    "s34 np.clip(x, 0, 2) with f'(2) = 1, the left slope": (lambda x: np.clip(x, 0, 2),
                                                           _clip_grad_with(1.0)),
    "s34 SiLU via tanh(x / 2), a local x / 2": (silu_half_tanh, silu_half_tanh_grad),
})


def d_wrong_between_the_decades(x):  # slope 1/2 on 1e4 < |x| < 1e6 but at 1e4, 1e5, 1e6
    g = mish_grad(x)
    a = np.abs(x)
    band = (a > 1e4) & (a < 1e6) & ~np.isin(a, [1e4, 1e5, 1e6])
    return np.where(band, np.asarray(0.5, g.dtype), g)


WRONG_STABILITY["s34 a derivative wrong on 1e4 < |x| < 1e6 between the round numbers"] = (
    (mish, d_wrong_between_the_decades), r"no longer describe the same function")


def gf_mean_of_per_sample_ratios(net, X, y):
    r = gradient_flow(net, X, y)
    ratios = []
    for i in range(X.shape[0]):
        norms = diagnostics.gradient_norms(net, X[i:i + 1], y[i:i + 1])
        ratios.append(norms[0] / norms[-1])
    with np.errstate(all="ignore"):
        return {**r, "ratio": float(np.mean(ratios))}


def gf_nanmean_of_per_sample_ratios(net, X, y):
    r = gradient_flow(net, X, y)
    with np.errstate(all="ignore"):
        ratios = [(lambda n: n[0] / n[-1])(diagnostics.gradient_norms(net, X[i:i + 1],
                                                                     y[i:i + 1]))
                  for i in range(X.shape[0])]
        return {**r, "ratio": float(np.nanmean(ratios))}


def gf_first_sample_ratio(net, X, y):
    norms = diagnostics.gradient_norms(net, X[:1], y[:1])
    r = gradient_flow(net, X, y)
    with np.errstate(all="ignore"):
        return {**r, "ratio": float(norms[0] / norms[-1])}


def gf_everything_per_sample(net, X, y):
    parts = [gradient_flow(net, X[i:i + 1], y[i:i + 1]) for i in range(X.shape[0])]
    with np.errstate(all="ignore"):
        return {key: float(np.mean([p[key] for p in parts])) for key in ("ratio", "dead", "flat")}


WRONG_GRADIENT_FLOW.update({
    "s34 the mean of per-sample ratios": (
        gf_mean_of_per_sample_ratios, r"\['ratio'\] is .*(mean over the samples of each "
                                      r"sample's own ratio|a ratio taken per sample)"),
    "s34 the nanmean of per-sample ratios": (
        gf_nanmean_of_per_sample_ratios, r"\['ratio'\] is .*mean over the samples of each "
                                         r"sample's own ratio"),
    "s34 every number averaged over the samples": (
        gf_everything_per_sample, r"\['ratio'\] is .*(mean over the samples of each "
                                  r"sample's own ratio|a ratio taken per sample)"),
    "s34 the first sample's ratio alone": (
        gf_first_sample_ratio, r"\['ratio'\] is .*expected"),
    "s34 dead per (sample, unit) entry": (
        gf_dead_entries, r"\['dead'\] is .*share of (all hidden )?\(sample, unit\) outputs "
                         r"that are 0"),
})
