"""Per-layer statistics for looking inside a network: saturation, dead units, gradient norms.

The functions at the top work on plain arrays (a layer's pre-activations ``z`` and
activations ``a``, of shape (n_samples, n_units)); ``helpers.nn`` records them during
``fit``. The functions at the bottom take a network and a batch, run it, and return
one number per layer (hidden layers first, the output layer last).

Definitions used throughout the course:

* a unit is **dead** on a batch when its output is exactly zero for every sample
  (a ReLU whose pre-activation is never positive): it gets no gradient at all;
* a unit is **saturated** on a sample when the activation's derivative there is
  below ``SATURATION_THRESHOLD`` (0.01): the gradient through it has all but
  vanished. Saturation is only defined for activations bounded on both sides
  (sigmoid, tanh, arctan, step); for the others it is reported as NaN.
"""

from __future__ import annotations

import numpy as np

from . import activations

__all__ = [
    "SATURATION_THRESHOLD",
    "fraction_true",
    "dead_units",
    "dead_fraction_of",
    "saturated_fraction_of",
    "update_to_weight_ratio",
    "layer_stats",
    "dead_fraction",
    "saturated_fraction",
    "gradient_norms",
]

SATURATION_THRESHOLD = 0.01


def dead_units(a: np.ndarray) -> np.ndarray:
    """Boolean mask over units: True where the unit's output is zero for every sample."""
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"expected activations of shape (n_samples, n_units), got {a.shape}")
    return ~np.any(a, axis=0)


def fraction_true(mask: np.ndarray) -> float:
    """The fraction of True entries of a boolean array (NaN if it is empty).

    The same number as ``np.mean(mask)``, counted instead of averaged: np.mean converts the
    booleans to floats first, and ``MLP.fit`` asks for these shares at every epoch.
    """
    mask = np.asarray(mask)
    return np.count_nonzero(mask) / mask.size if mask.size else float("nan")


def dead_fraction_of(a: np.ndarray) -> float:
    """Fraction of units in one layer that are dead on this batch."""
    return fraction_true(dead_units(a))


def saturated_fraction_of(act, z: np.ndarray, threshold: float = SATURATION_THRESHOLD) -> float:
    """Fraction of (sample, unit) entries where the activation's derivative is below ``threshold``.

    NaN for activations that are not bounded on both sides, where saturation is not defined.
    """
    act = activations.get(act)
    if not act.bounded:
        return float("nan")
    return fraction_true(act.grad(z) < threshold)


def update_to_weight_ratio(before: np.ndarray, after: np.ndarray) -> float:
    """||W_after - W_before|| / ||W_before||: how big one step was relative to the weights."""
    before = np.asarray(before)
    after = np.asarray(after)
    if before.shape != after.shape:
        raise ValueError(f"weights before {before.shape} and after {after.shape} differ in shape")
    norm = np.linalg.norm(before)
    return float(np.linalg.norm(after - before) / norm) if norm > 0 else float("nan")


def _layer_activations(net) -> list:
    """The activation object of each weight layer (output layer last; softmax -> None)."""
    acts = list(net.hidden_activations)
    acts.append(None if net.output == "softmax" else activations.get(net.output))
    return acts


def layer_stats(net, X, threshold: float = SATURATION_THRESHOLD) -> dict[str, np.ndarray]:
    """Run ``net`` on ``X`` and return per-layer arrays: mean, std, saturated, dead."""
    net.forward(X)
    zs, acts_out = net.cache["z"], net.cache["a"][1:]
    stats = {key: np.empty(net.n_layers) for key in ("mean", "std", "saturated", "dead")}
    for i, (act, z, a) in enumerate(zip(_layer_activations(net), zs, acts_out)):
        stats["mean"][i] = a.mean()
        stats["std"][i] = a.std()
        stats["dead"][i] = dead_fraction_of(a)
        stats["saturated"][i] = (
            saturated_fraction_of(act, z, threshold) if act is not None else np.nan
        )
    return stats


def dead_fraction(net, X) -> np.ndarray:
    """Fraction of dead units in each layer of ``net`` on the batch ``X``."""
    return layer_stats(net, X)["dead"]


def saturated_fraction(net, X, threshold: float = SATURATION_THRESHOLD) -> np.ndarray:
    """Fraction of saturated (sample, unit) entries in each layer of ``net`` on ``X``."""
    return layer_stats(net, X, threshold)["saturated"]


def gradient_norms(net, X, y, loss: str | None = None) -> np.ndarray:
    """Frobenius norm of dLoss/dW for each layer's weights, first layer first."""
    _, grads = net.loss_and_grads(X, y, loss=loss)
    return np.array([np.linalg.norm(dW) for dW, _ in grads])
