"""Toy datasets, generated (never downloaded) and deterministic by ``seed``.

Classification sets return ``X`` of shape (n, 2), float64, and integer labels ``y``
of shape (n,) with values 0..k-1. Regression sets return ``X`` of shape (n, 1) and
float targets ``y`` of shape (n,). The same arguments always give the same arrays.
"""

from __future__ import annotations

import difflib

import numpy as np

__all__ = [
    "xor",
    "moons",
    "circles",
    "spirals",
    "blobs",
    "sine",
    "normal_samples",
    "load",
    "names",
    "train_val_split",
]


def _check_n(n, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be a whole number of samples, got {type(n).__name__} {n!r}")
    if n < minimum:
        raise ValueError(f"n must be at least {minimum}, got {n}")
    return int(n)


def _check_nonneg(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return float(value)


def _split_counts(n: int, k: int) -> np.ndarray:
    """n samples shared as evenly as possible between k classes."""
    counts = np.full(k, n // k)
    counts[: n % k] += 1
    return counts


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return X[order], y[order]


def xor(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four clusters at the corners of a square; label 1 where x0 and x1 have opposite signs."""
    n = _check_n(n)
    noise = _check_nonneg(noise, "noise")
    rng = np.random.default_rng(seed)
    corners = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    which = np.repeat(np.arange(4), _split_counts(n, 4))
    X = corners[which] * rng.uniform(0.3, 1.0, size=(n, 2)) + rng.normal(0, noise, size=(n, 2))
    y = (which >= 2).astype(np.int64)
    return _shuffled(X, y, rng)


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as in scikit-learn's make_moons)."""
    n = _check_n(n, 2)
    noise = _check_nonneg(noise, "noise")
    rng = np.random.default_rng(seed)
    n0, n1 = _split_counts(n, 2)
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + rng.normal(0, noise, size=(n, 2))
    X -= np.array([0.5, 0.25])  # centre the pair of moons on the origin
    y = np.repeat([0, 1], [n0, n1]).astype(np.int64)
    return _shuffled(X, y, rng)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (label 1) inside a large one (label 0); ``factor`` is the radius ratio."""
    n = _check_n(n, 2)
    noise = _check_nonneg(noise, "noise")
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1 (inner radius / outer), got {factor!r}")
    rng = np.random.default_rng(seed)
    n0, n1 = _split_counts(n, 2)
    t0 = rng.uniform(0, 2 * np.pi, n0)
    t1 = rng.uniform(0, 2 * np.pi, n1)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    X = np.vstack([outer, inner]) + rng.normal(0, noise, size=(n, 2))
    y = np.repeat([0, 1], [n0, n1]).astype(np.int64)
    return _shuffled(X, y, rng)


def spirals(n: int = 300, n_classes: int = 3, noise: float = 0.2,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms (the CS231n example); labels 0..n_classes-1."""
    n_classes = _check_n(n_classes, 2)
    n = _check_n(n, n_classes)
    noise = _check_nonneg(noise, "noise")
    rng = np.random.default_rng(seed)
    Xs, ys = [], []
    for k, count in enumerate(_split_counts(n, n_classes)):
        r = np.linspace(0.05, 1.0, count)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, count) * 3.0 / n_classes
        t = t + rng.normal(0, noise, count)
        Xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        ys.append(np.full(count, k))
    X = np.vstack(Xs)
    y = np.concatenate(ys).astype(np.int64)
    return _shuffled(X, y, rng)


def blobs(n: int = 200, centers: int | np.ndarray = 2, std: float = 0.6,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs; ``centers`` is a count (placed on a circle of radius 2) or a (k, 2) array."""
    n = _check_n(n)
    std = _check_nonneg(std, "std")
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = _check_n(int(centers), 1)
        angles = np.pi / 4 + 2 * np.pi * np.arange(k) / k
        centres = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
        if k == 2:
            centres = np.array([[-1.5, -1.5], [1.5, 1.5]])
    else:
        centres = np.asarray(centers, dtype=float)
        if centres.ndim != 2 or centres.shape[1] != 2:
            raise ValueError(
                f"centers must be a count or an array of shape (k, 2), got shape {centres.shape}"
            )
        k = len(centres)
    rng = np.random.default_rng(seed)
    which = np.repeat(np.arange(k), _split_counts(n, k))
    X = centres[which] + rng.normal(0, std, size=(n, 2))
    return _shuffled(X, which.astype(np.int64), rng)


def sine(n: int = 100, noise: float = 0.1, x_range: tuple[float, float] = (-3.0, 3.0),
         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D regression set: y = sin(x) + noise, x evenly spaced; X has shape (n, 1)."""
    n = _check_n(n, 2)
    noise = _check_nonneg(noise, "noise")
    lo, hi = x_range
    if not lo < hi:
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range!r}")
    rng = np.random.default_rng(seed)
    x = np.linspace(lo, hi, n)
    y = np.sin(x) + rng.normal(0, noise, n)
    return x[:, None], y


def normal_samples(n: int = 1000, mean: float = 2.0, std: float = 0.1, target: float = 0.75,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x drawn from N(mean, std) with a constant target: the classic one-neuron experiment.

    Returns X of shape (n, 1) and y of shape (n,), every entry equal to ``target``.
    """
    n = _check_n(n)
    std = _check_nonneg(std, "std")
    rng = np.random.default_rng(seed)
    X = rng.normal(mean, std, size=(n, 1))
    return X, np.full(n, float(target))


_LOADERS = {
    "xor": xor,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "blobs": blobs,
    "sine": sine,
    "normal_samples": normal_samples,
}


def names() -> list[str]:
    """The dataset names :func:`load` accepts."""
    return list(_LOADERS)


def load(name: str, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Make the dataset called ``name`` (e.g. ``load("moons", n=300, seed=1)``)."""
    if name not in _LOADERS:
        close = difflib.get_close_matches(str(name), list(_LOADERS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown dataset {name!r}.{hint} Known datasets: {', '.join(_LOADERS)}.")
    return _LOADERS[name](**kwargs)


def train_val_split(X, y, val_fraction: float = 0.25, seed: int = 0):
    """Split into (X_train, X_val, y_train, y_val), shuffled deterministically by ``seed``."""
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows: X {X.shape}, y {y.shape}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction!r}")
    n_val = int(round(len(y) * val_fraction))
    if n_val == 0 or n_val == len(y):
        raise ValueError(
            f"val_fraction={val_fraction} leaves an empty split for {len(y)} samples; "
            "use more samples or a fraction nearer 0.25."
        )
    order = np.random.default_rng(seed).permutation(len(y))
    val, train = order[:n_val], order[n_val:]
    return X[train], X[val], y[train], y[val]
