"""The activation-function registry: forward, derivative, formula and range of each.

Every activation is an :class:`Activation` object: call it for the forward pass,
``act.grad(x)`` for the elementwise derivative with respect to its input. Look one
up by name with :func:`get`, list them with :func:`names`, add your own with
:func:`register`. ``softmax`` and ``log_softmax`` live here too.

All formulas are written in numerically stable forms: for inputs up to 1e4 in
magnitude (float32 or float64) they never overflow, never return NaN, and never
return inf where the true value is finite. float32 in gives float32 out, and the
input array is never modified.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Activation",
    "names",
    "builtin_names",
    "aliases",
    "get",
    "register",
    "unregister",
    "softmax",
    "log_softmax",
    "as_float_array",
    "identity",
    "step",
    "sigmoid",
    "tanh",
    "arctan",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "gelu",
    "silu",
]

ArrayFn = Callable[..., np.ndarray]


def as_float_array(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a float32/float64 array without copying or modifying it when possible."""
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    if arr.dtype == np.float16:
        # float16 overflows at 65504 (exp(11.1)); compute in float32 instead.
        return arr.astype(np.float32)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{name} must be a real numeric array (float32 or float64), "
            f"got dtype {arr.dtype!s} ({type(x).__name__}). "
            "Convert it first, e.g. np.asarray(x, dtype=float)."
        )
    return arr


@dataclass(frozen=True)
class Activation:
    """One activation function: call it for f(x), use ``.grad(x)`` for f'(x)."""

    name: str
    forward_fn: ArrayFn = field(repr=False)
    grad_fn: ArrayFn = field(repr=False)
    formula: str = ""
    output_range: tuple[float, float] = (-math.inf, math.inf)
    description: str = ""
    monotonic: bool = False
    params: dict = field(default_factory=dict)
    # Optional f'(z) written from the output a = f(z) (sigmoid: a (1 - a)); saves
    # recomputing f in backpropagation, which already has a.
    grad_from_output_fn: ArrayFn | None = field(default=None, repr=False)

    def __call__(self, x) -> np.ndarray:
        """Forward pass f(x), elementwise."""
        arr = as_float_array(x)
        return np.asarray(self.forward_fn(arr, **self.params), dtype=arr.dtype)

    def grad(self, x) -> np.ndarray:
        """Derivative f'(x) with respect to the input, elementwise."""
        arr = as_float_array(x)
        return np.asarray(self.grad_fn(arr, **self.params), dtype=arr.dtype)

    def grad_from_output(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """f'(z) given both z and a = f(z): cheaper where f' is a function of f (sigmoid, tanh)."""
        if self.grad_from_output_fn is None:
            return self.grad(z)
        return self.grad_from_output_fn(a, **self.params)

    @property
    def bounded(self) -> bool:
        """True when the output is bounded on both sides, so the unit can saturate."""
        lo, hi = self.output_range
        return math.isfinite(lo) and math.isfinite(hi)

    @property
    def label(self) -> str:
        """A short display name with its parameters, e.g. ``leaky_relu(alpha=0.1)``."""
        if not self.params:
            return self.name
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.name}({args})"


# --------------------------------------------------------------------------------------
# The formulas. Each takes a float array and returns an array of the same dtype.
# --------------------------------------------------------------------------------------


def _identity(x):
    return x.copy()


def _identity_grad(x):
    return np.ones_like(x)


def _step(x):
    return (x >= 0).astype(x.dtype)


def _step_grad(x):
    return np.zeros_like(x)


def _sigmoid(x):
    # The overflow-safe pattern of chapter 6: exp only ever sees -|x| <= 0, so it cannot
    # overflow (1 / (1 + e^-x) would, below x = -709, or -88 in float32). Both branches are
    # the same function: 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_grad(x):
    s = _sigmoid(x)
    return s * (1 - s)


def _tanh(x):
    return np.tanh(x)


def _tanh_grad(x):
    t = np.tanh(x)
    return 1 - t * t


def _arctan(x):
    return np.arctan(x)


def _arctan_grad(x):
    return 1 / (1 + x * x)


def _relu(x):
    return np.maximum(x, 0).astype(x.dtype)


def _relu_grad(x):
    # Convention: relu'(0) = 0, as in PyTorch and TensorFlow.
    return (x > 0).astype(x.dtype)


def _leaky_relu(x, alpha):
    return np.where(x > 0, x, alpha * x).astype(x.dtype)


def _leaky_relu_grad(x, alpha):
    return np.where(x > 0, 1.0, alpha).astype(x.dtype)


def _elu(x, alpha):
    # expm1 of min(x, 0) so large positive x never reaches exp.
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)


def _elu_grad(x, alpha):
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


def _softplus(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
    return (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype)


def _softplus_grad(x):
    return _sigmoid(x)


_GELU_C = math.sqrt(2 / math.pi)


def _gelu(x):
    # The tanh approximation (Hendrycks & Gimpel 2016), as used by BERT and GPT-2.
    # x * x * x stays finite in float32 for |x| <= 1e4 (1e12 << 3.4e38), and is far
    # faster than x**3, which numpy computes with pow().
    u = _GELU_C * (x + 0.044715 * (x * x * x))
    return (0.5 * x * (1 + np.tanh(u))).astype(x.dtype)


def _gelu_grad(x):
    u = _GELU_C * (x + 0.044715 * (x * x * x))
    t = np.tanh(u)
    du = _GELU_C * (1 + 3 * 0.044715 * x * x)
    return (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du).astype(x.dtype)


def _silu(x):
    return x * _sigmoid(x)


def _silu_grad(x):
    s = _sigmoid(x)
    return s + x * s * (1 - s)


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    forward: ArrayFn
    grad: ArrayFn
    formula: str
    output_range: Callable[..., tuple[float, float]]
    description: str
    monotonic: bool
    defaults: dict
    validate: Callable[..., None] | None = None
    grad_from_output: ArrayFn | None = None


_REGISTRY: dict[str, _Entry] = {}
_ALIASES: dict[str, str] = {}


def _const_range(lo, hi):
    return lambda **_: (lo, hi)


def _check_alpha_leaky(alpha):
    if not (np.isscalar(alpha) and np.isfinite(alpha) and 0 <= alpha < 1):
        raise ValueError(
            f"leaky_relu's alpha must be a number in [0, 1), got {alpha!r}. "
            "Typical values are 0.01 to 0.3."
        )


def _check_alpha_elu(alpha):
    if not (np.isscalar(alpha) and np.isfinite(alpha) and alpha > 0):
        raise ValueError(
            f"elu's alpha must be a positive number, got {alpha!r}. The usual value is 1.0."
        )


def _builtin(name, forward, grad, formula, output_range, description, monotonic, defaults=None,
             validate=None, grad_from_output=None):
    if not callable(output_range):
        output_range = _const_range(*output_range)
    _REGISTRY[name] = _Entry(forward, grad, formula, output_range, description, monotonic,
                             dict(defaults or {}), validate, grad_from_output)


_builtin("identity", _identity, _identity_grad, r"f(x) = x", (-math.inf, math.inf),
         "No nonlinearity at all: a stack of identity layers is one linear map.", True,
         grad_from_output=np.ones_like)
_builtin("step", _step, _step_grad, r"f(x) = \begin{cases} 1 & x \ge 0 \\ 0 & x < 0 \end{cases}",
         (0.0, 1.0), "The perceptron's Heaviside step: its derivative is 0, so nothing can learn "
         "through it by gradient descent.", True)
_builtin("sigmoid", _sigmoid, _sigmoid_grad, r"\sigma(x) = \frac{1}{1 + e^{-x}}", (0.0, 1.0),
         "Squashes to (0, 1); its derivative is at most 1/4 and vanishes for large |x|.", True,
         grad_from_output=lambda a: a * (1 - a))
_builtin("tanh", _tanh, _tanh_grad, r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
         (-1.0, 1.0),
         "A zero-centred sigmoid: tanh(x) = 2 sigmoid(2x) - 1; derivative at most 1.", True,
         grad_from_output=lambda a: 1 - a * a)
_builtin("arctan", _arctan, _arctan_grad, r"f(x) = \arctan(x)", (-math.pi / 2, math.pi / 2),
         "Bounded like tanh but saturates slowly (polynomially, not exponentially).", True)
_builtin("relu", _relu, _relu_grad, r"\mathrm{ReLU}(x) = \max(0, x)", (0.0, math.inf),
         "Passes positive inputs unchanged (gradient 1) and zeroes the rest (gradient 0).", True,
         grad_from_output=lambda a: (a > 0).astype(a.dtype))
_builtin("leaky_relu", _leaky_relu, _leaky_relu_grad,
         r"f(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}",
         (-math.inf, math.inf), "ReLU with a small slope alpha for negative inputs, so no unit "
         "ever gets an exactly zero gradient.", True, {"alpha": 0.01}, _check_alpha_leaky)
_builtin("elu", _elu, _elu_grad,
         r"f(x) = \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
         lambda alpha: (-alpha, math.inf), "Smooth for negative inputs, saturating at -alpha; "
         "mean activations closer to zero than ReLU's.", True, {"alpha": 1.0}, _check_alpha_elu)
_builtin("softplus", _softplus, _softplus_grad, r"f(x) = \log(1 + e^{x})", (0.0, math.inf),
         "A smooth ReLU; its derivative is the sigmoid.", True)
_builtin("gelu", _gelu, _gelu_grad,
         r"\mathrm{GELU}(x) \approx \tfrac{1}{2} x \left(1 + \tanh\left[\sqrt{2/\pi}"
         r"\,(x + 0.044715 x^{3})\right]\right)",
         (-0.1701, math.inf), "x weighted by how likely it is to be kept (Gaussian CDF), in the "
         "tanh approximation used by BERT and GPT-2; not monotonic.", False)
_builtin("silu", _silu, _silu_grad, r"\mathrm{SiLU}(x) = x \, \sigma(x)", (-0.2785, math.inf),
         "Also called swish: x times its own sigmoid; smooth and not monotonic.", False)

_ALIASES.update({"linear": "identity", "swish": "silu", "heaviside": "step", "lrelu": "leaky_relu"})
_BUILTINS = frozenset(_REGISTRY)


def names() -> list[str]:
    """The names of all registered activations, built-in first, then your own."""
    return list(_REGISTRY)


def builtin_names() -> list[str]:
    """The names of the activations that ship with the course (not user-registered)."""
    return [name for name in _REGISTRY if name in _BUILTINS]


def aliases() -> dict[str, str]:
    """Alternative names and what they stand for, e.g. {'swish': 'silu'}."""
    return dict(_ALIASES)


def _resolve(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(
            f"an activation must be given by name (a str) or as an Activation, got "
            f"{type(name).__name__} {name!r}. Known names: {', '.join(names())}."
        )
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key in _REGISTRY:
        return key
    close = difflib.get_close_matches(key, list(_REGISTRY) + list(_ALIASES), n=1, cutoff=0.5)
    hint = f" Did you mean {_ALIASES.get(close[0], close[0])!r}?" if close else ""
    raise ValueError(
        f"unknown activation {name!r}.{hint} Known activations: {', '.join(names())} "
        f"(aliases: {', '.join(f'{a}->{t}' for a, t in _ALIASES.items())})."
    )


def get(name: str | Activation, **params) -> Activation:
    """Return the activation called ``name``, with optional parameters (e.g. ``alpha=0.1``)."""
    if isinstance(name, Activation):
        if params:
            raise TypeError(
                f"parameters {sorted(params)} were given with an Activation object; "
                f"pass the name instead, e.g. get({name.name!r}, **params)."
            )
        return name
    key = _resolve(name)
    entry = _REGISTRY[key]
    unknown = set(params) - set(entry.defaults)
    if unknown:
        accepted = ", ".join(entry.defaults) or "none"
        raise TypeError(
            f"{key} does not take parameter(s) {', '.join(sorted(unknown))}; "
            f"accepted parameters: {accepted}."
        )
    merged = {**entry.defaults, **params}
    if entry.validate is not None:
        entry.validate(**merged)
    return Activation(
        name=key,
        forward_fn=entry.forward,
        grad_fn=entry.grad,
        formula=entry.formula,
        output_range=tuple(float(v) for v in entry.output_range(**merged)),
        description=entry.description,
        monotonic=entry.monotonic,
        params=merged,
        grad_from_output_fn=entry.grad_from_output,
    )


def register(
    name: str,
    forward: ArrayFn,
    derivative: ArrayFn,
    *,
    formula: str = "",
    output_range: tuple[float, float] = (-math.inf, math.inf),
    description: str = "",
    monotonic: bool = False,
    overwrite: bool = False,
) -> Activation:
    """Register your own activation so every function that takes a name accepts it.

    ``forward(x)`` and ``derivative(x)`` take and return numpy arrays of the same
    shape. They are checked once on a few points before registering.
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    key = name.strip().lower().replace("-", "_")
    if not callable(forward) or not callable(derivative):
        raise TypeError(
            f"forward and derivative must be functions of one array, got "
            f"{type(forward).__name__} and {type(derivative).__name__}"
        )
    if key in _BUILTINS or key in _ALIASES:
        raise ValueError(f"{key!r} is a built-in activation; choose another name.")
    if key in _REGISTRY and not overwrite:
        raise ValueError(f"{key!r} is already registered; pass overwrite=True to replace it.")
    probe = np.linspace(-3.0, 3.0, 7)
    for label, fn in (("forward", forward), ("derivative", derivative)):
        out = np.asarray(fn(probe.copy()))
        if out.shape != probe.shape:
            raise ValueError(
                f"{label}({key}) must return an array of the input's shape: "
                f"input shape {probe.shape}, got {out.shape}. Use numpy operations that work "
                "elementwise (np.exp, np.where, ...) rather than a Python loop."
            )
    _REGISTRY[key] = _Entry(forward, derivative, formula, _const_range(*output_range), description,
                            monotonic, {})
    return get(key)


def unregister(name: str) -> None:
    """Remove an activation you registered (built-ins cannot be removed)."""
    key = _resolve(name)
    if key in _BUILTINS:
        raise ValueError(f"{key!r} is a built-in activation and cannot be removed.")
    del _REGISTRY[key]


# --------------------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------------------


def _check_temperature(temperature) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.number)):
        raise TypeError(f"temperature must be a positive number, got {temperature!r}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(
            f"temperature must be a positive, finite number, got {temperature!r}. "
            "Small values (0.1) sharpen the distribution, large ones (10) flatten it."
        )
    return float(temperature)


def _check_axis(z: np.ndarray, axis: int) -> None:
    if z.ndim == 0:
        raise ValueError("softmax needs at least one axis of scores, got a scalar.")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {z.shape}.")


def _reduce(ufunc, z: np.ndarray, axis: int) -> np.ndarray:
    """``ufunc.reduce(z, axis, keepdims=True)`` (the max or the sum along ``axis``).

    A batch of logits is a tall, narrow array: hundreds of rows, a handful of classes.
    numpy reduces such rows one short row at a time, several times slower than
    combining the few class columns elementwise, which is what this does for up to 16.
    """
    k = z.shape[axis]
    if k > 16:
        return ufunc.reduce(z, axis=axis, keepdims=True)
    before = (slice(None),) * (axis % z.ndim)  # index every axis before ``axis`` fully
    out = z[before + (slice(0, 1),)].copy()
    for j in range(1, k):
        ufunc(out, z[before + (slice(j, j + 1),)], out=out)
    return out


def softmax(z, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Softmax of ``z / temperature`` along ``axis``, computed stably (max subtracted)."""
    z = as_float_array(z, "z")
    _check_axis(z, axis)
    t = _check_temperature(temperature)
    scaled = z / np.asarray(t, dtype=z.dtype)
    shifted = scaled - _reduce(np.maximum, scaled, axis)
    e = np.exp(shifted)
    return e / _reduce(np.add, e, axis)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    """log(softmax(z)) along ``axis`` by the log-sum-exp trick: finite where softmax underflows."""
    z = as_float_array(z, "z")
    _check_axis(z, axis)
    shifted = z - _reduce(np.maximum, z, axis)
    return shifted - np.log(_reduce(np.add, np.exp(shifted), axis))


# --------------------------------------------------------------------------------------
# Module-level functions for prose code: activations.sigmoid(x), ...
# --------------------------------------------------------------------------------------


def identity(x) -> np.ndarray:
    """f(x) = x."""
    return get("identity")(x)


def step(x) -> np.ndarray:
    """Heaviside step: 1 where x >= 0, else 0."""
    return get("step")(x)


def sigmoid(x) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + e^-x), stable for any x."""
    return get("sigmoid")(x)


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent."""
    return get("tanh")(x)


def arctan(x) -> np.ndarray:
    """Inverse tangent."""
    return get("arctan")(x)


def relu(x) -> np.ndarray:
    """max(0, x)."""
    return get("relu")(x)


def leaky_relu(x, alpha: float = 0.01) -> np.ndarray:
    """x where x > 0, alpha * x elsewhere."""
    return get("leaky_relu", alpha=alpha)(x)


def elu(x, alpha: float = 1.0) -> np.ndarray:
    """x where x > 0, alpha * (e^x - 1) elsewhere."""
    return get("elu", alpha=alpha)(x)


def softplus(x) -> np.ndarray:
    """log(1 + e^x), stable for any x."""
    return get("softplus")(x)


def gelu(x) -> np.ndarray:
    """Gaussian error linear unit (tanh approximation)."""
    return get("gelu")(x)


def silu(x) -> np.ndarray:
    """x * sigmoid(x), also called swish."""
    return get("silu")(x)
