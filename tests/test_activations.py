"""helpers.activations: values, derivatives, stability, the registry and its errors."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import activations, nn
from tests.conftest import BUILTIN_NAMES

# Points where a function has a kink or a jump; finite differences are meaningless there.
KINKED = {"step", "relu", "leaky_relu", "elu"}

# Independent reference formulas, written the plain textbook way with Python's math module.
REFERENCE = {
    "identity": lambda x: x,
    "step": lambda x: 1.0 if x >= 0 else 0.0,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "tanh": math.tanh,
    "arctan": math.atan,
    "relu": lambda x: max(0.0, x),
    "leaky_relu": lambda x: x if x > 0 else 0.01 * x,
    "elu": lambda x: x if x > 0 else math.exp(x) - 1,
    "softplus": lambda x: math.log(1 + math.exp(x)),
    "gelu": lambda x: 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    "silu": lambda x: x / (1 + math.exp(-x)),
}


def central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_registry_lists_every_required_activation():
    for name in BUILTIN_NAMES:
        assert name in activations.names()
    assert activations.get("linear").name == "identity"
    assert activations.get("swish").name == "silu"


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_forward_matches_textbook_formula(name):
    act = activations.get(name)
    xs = np.array([-7.5, -3.0, -1.0, -0.25, 0.0, 0.3, 1.0, 2.5, 6.0])
    expected = np.array([REFERENCE[name](float(x)) for x in xs])
    np.testing.assert_allclose(act(xs), expected, rtol=1e-12, atol=1e-14)


def test_a_few_exact_values():
    assert activations.sigmoid(0.0) == 0.5
    assert activations.tanh(0.0) == 0.0
    assert activations.relu(-3.0) == 0.0 and activations.relu(3.0) == 3.0
    assert activations.leaky_relu(-2.0, alpha=0.1) == pytest.approx(-0.2)
    assert activations.elu(-1e4) == pytest.approx(-1.0)
    assert activations.step(0.0) == 1.0
    assert activations.get("sigmoid").grad(0.0) == 0.25
    assert activations.get("relu").grad(0.0) == 0.0  # the stated convention


def test_attributes_are_informative(act):
    assert act.formula and "\\" in act.formula or act.name == "identity"
    assert act.description.endswith(".")
    lo, hi = act.output_range
    assert lo < hi


def test_grad_matches_finite_differences_on_a_grid(act):
    x = np.linspace(-6, 6, 241)
    if act.name in KINKED:
        x = x[np.abs(x) > 1e-3]
    numeric = central_difference(act, x)
    np.testing.assert_allclose(act.grad(x), numeric, rtol=1e-5, atol=1e-7)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(BUILTIN_NAMES), x=st.floats(-40, 40))
def test_grad_matches_finite_differences_at_random_points(name, x):
    act = activations.get(name)
    if name in KINKED and abs(x) < 1e-4:
        return
    numeric = central_difference(act, np.array([x]))
    np.testing.assert_allclose(act.grad(np.array([x])), numeric, rtol=1e-4, atol=1e-6)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(BUILTIN_NAMES),
       xs=st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=30))
def test_output_inside_range_and_monotonic_where_claimed(name, xs):
    act = activations.get(name)
    x = np.sort(np.array(xs))
    y = act(x)
    lo, hi = act.output_range
    assert np.all(y >= lo) and np.all(y <= hi)
    if act.monotonic:
        assert np.all(np.diff(y) >= 0)


def test_non_monotonic_ones_really_are_not():
    for name in ("gelu", "silu"):
        act = activations.get(name)
        assert not act.monotonic
        y = act(np.linspace(-4, 0, 401))
        assert np.any(np.diff(y) < 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_are_finite_and_keep_dtype(act, dtype):
    x = np.array([-1e4, -1e3, -88.8, -50.0, -1.0, 0.0, 1.0, 50.0, 88.8, 1e3, 1e4], dtype=dtype)
    original = x.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            y, g = act(x), act.grad(x)
    assert y.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    np.testing.assert_array_equal(x, original)  # input untouched


def test_extreme_values_are_right():
    big = np.array([-1e4, 1e4])
    np.testing.assert_array_equal(activations.sigmoid(big), [0.0, 1.0])
    np.testing.assert_array_equal(activations.softplus(big), [0.0, 1e4])
    np.testing.assert_array_equal(activations.silu(big), [0.0, 1e4])
    np.testing.assert_array_equal(activations.gelu(big), [0.0, 1e4])
    np.testing.assert_array_equal(activations.get("sigmoid").grad(big), [0.0, 0.0])
    # float32 sigmoid of a large negative input stays a tiny positive number, not 0/0
    assert activations.sigmoid(np.float32(-80.0)) > 0


def test_tanh_is_a_rescaled_sigmoid():
    x = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(activations.tanh(x), 2 * activations.sigmoid(2 * x) - 1, atol=1e-15)


def test_parameters():
    leaky = activations.get("leaky_relu", alpha=0.2)
    assert leaky(np.array([-1.0]))[0] == pytest.approx(-0.2)
    assert leaky.grad(np.array([-1.0]))[0] == pytest.approx(0.2)
    assert leaky.label == "leaky_relu(alpha=0.2)"
    elu = activations.get("elu", alpha=2.0)
    assert elu.output_range == (-2.0, math.inf)


def test_integer_and_list_inputs_become_float64():
    y = activations.relu([1, -2, 3])
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [1.0, 0.0, 3.0])


# ------------------------------------------------------------------------------ softmax


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(st.floats(-1e4, 1e4), min_size=3, max_size=3), min_size=1,
                     max_size=8),
       shift=st.floats(-1e3, 1e3), temperature=st.floats(0.05, 20))
def test_softmax_is_a_distribution_and_shift_invariant(rows, shift, temperature):
    z = np.array(rows)
    p = activations.softmax(z, temperature=temperature)
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(activations.softmax(z + shift, temperature=temperature), p,
                               atol=1e-9)


def test_softmax_known_values_and_axis():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(activations.softmax(z)[0], e / e.sum())
    np.testing.assert_allclose(activations.softmax(z)[1], [1 / 3] * 3)
    cols = activations.softmax(z, axis=0)
    np.testing.assert_allclose(cols.sum(axis=0), 1.0)
    # sigmoid is the two-class softmax
    x = np.linspace(-5, 5, 11)
    two = activations.softmax(np.column_stack([x, np.zeros_like(x)]))
    np.testing.assert_allclose(two[:, 0], activations.sigmoid(x), atol=1e-15)


@pytest.mark.parametrize("shape", [(7,), (300, 3), (4, 5, 6), (3, 40), (2, 17)])
def test_softmax_matches_the_textbook_formula_along_every_axis(shape):
    # softmax reduces narrow axes column by column (faster than numpy's row reduction);
    # check it against the plain formula written with numpy's own max and sum.
    z = np.random.default_rng(3).normal(0, 30, shape)
    for axis in range(-len(shape), len(shape)):
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
        expected = e / np.sum(e, axis=axis, keepdims=True)
        np.testing.assert_allclose(activations.softmax(z, axis=axis), expected, rtol=1e-12,
                                   atol=1e-300)
        np.testing.assert_allclose(activations.log_softmax(z, axis=axis),
                                   np.log(np.maximum(expected, 1e-300)), rtol=1e-12, atol=1e-9)


def test_softmax_propagates_nan_to_its_row_only():
    z = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]])
    with np.errstate(invalid="ignore"):
        p = activations.softmax(z)
    assert np.all(np.isnan(p[0]))
    np.testing.assert_allclose(p[1].sum(), 1.0)


def test_softmax_temperature_limits():
    z = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(activations.softmax(z, temperature=1e-3), [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(activations.softmax(z, temperature=1e6), [1 / 3] * 3, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_are_stable(dtype):
    z = np.array([[1e4, 1e4 - 1, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = activations.softmax(z)
        lp = activations.log_softmax(z)
    assert p.dtype == dtype and lp.dtype == dtype
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp))
    expected = 1 / (1 + math.exp(-1))
    assert p[0, 0] == pytest.approx(expected, rel=1e-6)
    assert lp[0, 2] == pytest.approx(-2e4 - math.log(1 + math.exp(-1)), rel=1e-6)
    np.testing.assert_allclose(lp[1], [-math.log(3)] * 3, rtol=1e-6)


def test_softmax_does_not_modify_input():
    z = np.array([3.0, 1.0, 2.0])
    activations.softmax(z, temperature=0.5)
    activations.log_softmax(z)
    np.testing.assert_array_equal(z, [3.0, 1.0, 2.0])


# ------------------------------------------------------------------------------ errors


def test_unknown_name_lists_names_and_closest_match():
    with pytest.raises(ValueError) as info:
        activations.get("sigmod")
    message = str(info.value)
    assert "did you mean 'sigmoid'" in message.lower()
    for name in BUILTIN_NAMES:
        assert name in message


def test_unknown_name_without_close_match_still_lists_names():
    with pytest.raises(ValueError, match="Known activations: identity"):
        activations.get("zzzzzz")


def test_name_of_wrong_type():
    with pytest.raises(TypeError, match="by name"):
        activations.get(42)


@pytest.mark.parametrize("bad", [["a", "b"], np.array(["x"]), np.array([1 + 2j]), {"x": 1}])
def test_non_numeric_input_raises_type_error(bad):
    with pytest.raises(TypeError, match="real numeric array"):
        activations.sigmoid(bad)


@pytest.mark.parametrize("temperature", [0, -1.0, float("nan"), float("inf")])
def test_invalid_temperature(temperature):
    with pytest.raises(ValueError, match="temperature must be a positive"):
        activations.softmax(np.array([1.0, 2.0]), temperature=temperature)


def test_invalid_parameters():
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\)"):
        activations.get("leaky_relu", alpha=-0.5)
    with pytest.raises(ValueError, match="positive"):
        activations.get("elu", alpha=0)
    with pytest.raises(TypeError, match="accepted parameters: alpha"):
        activations.get("leaky_relu", beta=1)
    with pytest.raises(TypeError, match="accepted parameters: none"):
        activations.get("relu", alpha=1)


def test_softmax_axis_out_of_range():
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        activations.softmax(np.ones((2, 2)), axis=2)


# ------------------------------------------------------------------------------ user activations


def test_register_custom_activation_works_everywhere():
    def square_plus(x):
        return 0.5 * (x + np.sqrt(x * x + 4))

    def square_plus_grad(x):
        return 0.5 * (1 + x / np.sqrt(x * x + 4))

    try:
        act = activations.register("squareplus", square_plus, square_plus_grad,
                                   formula=r"\frac{x + \sqrt{x^2 + 4}}{2}",
                                   output_range=(0, math.inf), monotonic=True)
        assert "squareplus" in activations.names()
        assert activations.get("SquarePlus") is not None
        x = np.linspace(-3, 3, 61)
        np.testing.assert_allclose(act.grad(x), central_difference(act, x), rtol=1e-6)
        net = nn.MLP([2, 4, 1], activation="squareplus", output="sigmoid", seed=1)
        X = np.random.default_rng(0).normal(size=(5, 2))
        out = net.forward(X)
        assert out.shape == (5, 1)
        np.testing.assert_allclose(net.cache["a"][1], square_plus(X @ net.weights[0]))
        with pytest.raises(ValueError, match="already registered"):
            activations.register("squareplus", square_plus, square_plus_grad)
    finally:
        activations.unregister("squareplus")
    assert "squareplus" not in activations.names()


def test_register_rejects_bad_functions_and_builtin_names():
    with pytest.raises(ValueError, match="built-in"):
        activations.register("relu", np.abs, np.sign)
    with pytest.raises(TypeError, match="must be functions"):
        activations.register("mine", "not a function", np.sign)
    with pytest.raises(ValueError, match="input's shape"):
        activations.register("scalar_only", lambda x: float(np.sum(x)), lambda x: x)
    with pytest.raises(ValueError, match="cannot be removed"):
        activations.unregister("tanh")


def test_grad_from_output_agrees_with_grad(act):
    z = np.linspace(-8, 8, 161)
    np.testing.assert_allclose(act.grad_from_output(z, act(z)), act.grad(z), atol=1e-15)
