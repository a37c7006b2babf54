"""Checks for chapter 2: sigmoid, tanh and vanishing gradients.

Each check calls the student's function on copies of its inputs (``call_answer``), prints a
line starting with a tick when the answer is right, and otherwise raises ``ExerciseError``
saying what differs, with one hint.
"""

from __future__ import annotations

import math

import numpy as np

from .. import activations, diagnostics, nn
from ._core import (
    ExerciseError,
    call_answer,
    check_array,
    check_number,
    check_vectorised,
    exercise_check,
    passed,
    require_callable,
)

__all__ = [
    "check_sigmoid_prime_from_output",
    "check_sigmoid_shrink_bound",
    "check_tanh_init_std",
]


# --------------------------------------------------------------------------------------
# Exercise 1: sigmoid's derivative written with its output
# --------------------------------------------------------------------------------------

def _sigmoid_inputs() -> tuple[np.ndarray, np.ndarray]:
    """Pre-activations x (2-D, so a flattening answer shows) and s = sigmoid(x)."""
    x = np.linspace(-8.0, 8.0, 36).reshape(4, 9)
    return x, activations.sigmoid(x)


@exercise_check
def check_sigmoid_prime_from_output(answer) -> None:
    """Check ``answer(s)`` returns sigma'(x) = s (1 - s) from s = sigma(x), vectorised."""
    what = "`sigmoid_prime_from_output(s)`"
    require_callable(answer, what)
    x, s = _sigmoid_inputs()
    got = call_answer(answer, s, what=what)
    expected = s * (1 - s)
    if got is not None and np.shape(got) == s.shape:
        got_arr = np.asarray(got, dtype=float)
        wrong = {
            "the sign is flipped: sigma'(x) is never negative, since sigma only increases.":
                -expected,
            "this is sigma'(s), not sigma'(x): you applied the sigmoid to s again.":
                activations.sigmoid(s) * (1 - activations.sigmoid(s)),
            "this is tanh's rule, 1 - t^2; the sigmoid's is different.": 1 - s**2,
        }
        for problem, value in wrong.items():
            if np.allclose(got_arr, value, rtol=1e-6, atol=1e-9):
                raise ExerciseError(
                    f"{what} is not sigma'(x): {problem}",
                    "s = sigma(x) is already the output; sigma'(x) = s * (1 - s).",
                )
    check_array(got, expected, what, inputs=s, rtol=1e-6, atol=1e-12,
                hint="write the derivative with the output only: sigma'(x) = s * (1 - s).")
    check_vectorised(answer, what)
    s32 = s.astype(np.float32)
    got32 = np.asarray(call_answer(answer, s32, what=what))
    if got32.dtype != np.float32:
        raise ExerciseError(
            f"{what} turned a float32 input into {got32.dtype}.",
            "use only arithmetic on s (e.g. `s * (1 - s)`), which keeps float32 as float32.",
        )
    peak = float(expected.max())
    passed(f"{what} is right: sigma'(x) = s (1 - s), at most {peak:.3g} (the maximum 1/4 is "
           "reached at x = 0, where s = 1/2).")


# --------------------------------------------------------------------------------------
# Exercise 2: the upper bound on the gradient after n sigmoid layers
# --------------------------------------------------------------------------------------

_SHRINK_WRONG = {
    "linear": (lambda n: 0.25 * n,
               "the factors multiply, one per layer, so the bound is a power of 1/4, not a "
               "multiple of it."),
    "half": (lambda n: 0.5**n,
             "the largest value of sigma'(x) is 1/4 (at x = 0), not 1/2."),
    "off by one": (lambda n: 0.25 ** (n - 1),
                   "count the factors: n sigmoid layers give n factors of sigma'."),
    "complement": (lambda n: 1 - 0.25**n,
                   "the bound is the product itself, not one minus it."),
}


@exercise_check
def check_sigmoid_shrink_bound(answer) -> None:
    """Check ``answer(n)`` returns (1/4)**n, for an int and for an array of layer counts."""
    what = "`sigmoid_shrink_bound(n_layers)`"
    require_callable(answer, what)
    got8 = call_answer(answer, 8, what=what)
    if got8 is not None and isinstance(got8, (int, float, np.number, np.ndarray)):
        value = float(np.asarray(got8, dtype=float).ravel()[0]) if np.size(got8) == 1 else None
        for fn, hint in _SHRINK_WRONG.values():
            if value is not None and math.isclose(value, fn(8), rel_tol=1e-9):
                raise ExerciseError(f"{what} with n_layers = 8 is {value:.6g}, expected "
                                    f"{0.25**8:.6g}.", hint)
    check_number(got8, 0.25**8, f"{what} with n_layers = 8", rtol=1e-9, atol=0,
                 hint="each sigmoid layer contributes one factor sigma'(z) <= 1/4.")
    n = np.arange(0, 13)
    got = call_answer(answer, n, what=what)
    check_array(got, 0.25**n, f"{what} for n_layers = np.arange(13)", inputs=n, rtol=1e-9,
                atol=0, hint="use operations that work on a whole array, e.g. `0.25 ** n_layers`; "
                "and n_layers = 0 (no layer) leaves the gradient as it is: a bound of 1.")
    passed(f"{what} is right: after 8 sigmoid layers the gradient is at most "
           f"{0.25**8:.1e} of what it was, whatever the weights' signs (with |w| <= 1).")


# --------------------------------------------------------------------------------------
# Exercise 3: an initialisation that keeps a 10-layer tanh network out of saturation
# --------------------------------------------------------------------------------------

_TANH_NETWORKS = {
    "narrow": [32, 48, 32, 64, 32, 40, 32, 48, 32, 32, 32, 1],
    "wide": [256, 256, 192, 256, 320, 256, 256, 192, 256, 256, 256, 1],
}
MAX_SATURATED = 0.05
MIN_LAST_STD = 0.1


def _tanh_network(std_fn, sizes, seed: int = 1) -> nn.MLP:
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, std_fn(i, o), (i, o)) for i, o in zip(sizes, sizes[1:])]
    biases = [np.zeros(o) for o in sizes[1:]]
    return nn.MLP.from_weights(weights, biases, activation="tanh", output="identity")


def tanh_network_stats(std_fn, sizes) -> dict[str, np.ndarray]:
    """Per-layer stats of a tanh network initialised with N(0, std_fn(fan_in, fan_out)^2)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, sizes[0]))
    return diagnostics.layer_stats(_tanh_network(std_fn, sizes), X)


@exercise_check
def check_tanh_init_std(answer) -> None:
    """Check that N(0, answer(fan_in, fan_out)^2) weights keep 10 tanh layers in a useful range.

    Any standard deviation passes that keeps every hidden layer below 5 % saturated and the
    last hidden layer's activations spread (std >= 0.1), in a narrow and in a wide network:
    Xavier/Glorot sqrt(2 / (fan_in + fan_out)) and LeCun 1 / sqrt(fan_in) both do.
    """
    what = "`tanh_init_std(fan_in, fan_out)`"
    require_callable(answer, what)
    stds = {}
    for sizes in _TANH_NETWORKS.values():
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:-1]):
            key = (fan_in, fan_out)
            if key in stds:
                continue
            value = call_answer(answer, fan_in, fan_out, what=what)
            if isinstance(value, np.ndarray) and value.size == 1:
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise ExerciseError(
                    f"{what} should return one number (a standard deviation), got "
                    f"{type(value).__name__} {value!r:.60}.",
                    "return a float such as `np.sqrt(2 / (fan_in + fan_out))`.",
                )
            if not (math.isfinite(value) and value > 0):
                raise ExerciseError(
                    f"{what} returned {value!r} for fan_in={fan_in}, fan_out={fan_out}; a "
                    "standard deviation must be a positive number.",
                    "a weight std shrinks as the layer gets wider, like 1 / sqrt(fan_in).",
                )
            stds[key] = float(value)
    for label, sizes in _TANH_NETWORKS.items():
        stats = tanh_network_stats(lambda i, o: stds.get((i, o), 1.0), sizes)
        saturated = stats["saturated"][:-1]
        worst = int(np.argmax(saturated))
        width = int(np.median(sizes[1:-1]))
        example = stds[(sizes[worst], sizes[worst + 1])]
        if saturated[worst] > MAX_SATURATED:
            raise ExerciseError(
                f"in the {label} network (about {width} units per layer), hidden layer "
                f"{worst + 1} is {saturated[worst]:.0%} saturated (tanh' < 0.01); at most "
                f"{MAX_SATURATED:.0%} is allowed. Your std for that "
                f"{sizes[worst]}->{sizes[worst + 1]} layer is {example:.3g}: too large.",
                "each layer multiplies the spread of its input by about std * sqrt(fan_in); "
                "keep that near 1, so the std must shrink as fan_in grows.",
            )
        last_std = stats["std"][-2]
        example = stds[(sizes[-3], sizes[-2])]
        if last_std < MIN_LAST_STD:
            hint = ("each layer multiplies the spread of its input by about std * sqrt(fan_in); "
                    "keep that near 1, not below.")
            if math.isclose(example, 2 / (sizes[-3] + sizes[-2]), rel_tol=1e-6):
                hint = ("2 / (fan_in + fan_out) is Xavier's *variance*; the standard deviation "
                        "is its square root.")
            raise ExerciseError(
                f"in the {label} network the activations fade away: the last hidden layer's "
                f"std is {last_std:.2g} (at least {MIN_LAST_STD} is needed). Your std for its "
                f"{sizes[-3]}->{sizes[-2]} layer is {example:.3g}: too small.",
                hint,
            )
    narrow = tanh_network_stats(lambda i, o: stds.get((i, o), 1.0), _TANH_NETWORKS["narrow"])
    passed(f"{what} keeps 10 tanh layers in the useful range: at most "
           f"{narrow['saturated'][:-1].max():.0%} saturated, last hidden layer std "
           f"{narrow['std'][-2]:.2f} (narrow network).")
