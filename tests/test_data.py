"""helpers.data: shapes, labels, determinism, geometry, and argument errors."""

import numpy as np
import pytest

from helpers import data

CLASSIFICATION = ["xor", "moons", "circles", "spirals", "blobs"]


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_shapes_and_labels(name):
    X, y = data.load(name, n=101, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    k = len(np.unique(y))
    assert set(np.unique(y)) == set(range(k)) and k >= 2
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1  # balanced classes


@pytest.mark.parametrize("name", data.names())
def test_deterministic_by_seed(name):
    a = data.load(name, seed=11)
    b = data.load(name, seed=11)
    c = data.load(name, seed=12)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not (np.array_equal(a[0], c[0]) and np.array_equal(a[1], c[1]))


def test_xor_labels_follow_the_quadrants_without_noise():
    X, y = data.xor(400, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


def test_circles_radii_without_noise():
    X, y = data.circles(200, noise=0.0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)


def test_spirals_any_number_of_classes():
    for k in (2, 3, 5):
        X, y = data.spirals(100, n_classes=k)
        assert len(np.unique(y)) == k


def test_blobs_with_explicit_centres():
    centres = np.array([[5.0, 5.0], [-5.0, 0.0], [0.0, -5.0]])
    X, y = data.blobs(300, centers=centres, std=0.1)
    for k, c in enumerate(centres):
        np.testing.assert_allclose(X[y == k].mean(axis=0), c, atol=0.05)


def test_sine_regression_set():
    X, y = data.sine(50, noise=0.0, x_range=(-2, 2))
    assert X.shape == (50, 1) and y.shape == (50,)
    np.testing.assert_allclose(y, np.sin(X[:, 0]))


def test_normal_samples_for_the_one_neuron_experiment():
    X, y = data.normal_samples(5000, seed=0)
    assert X.shape == (5000, 1)
    assert X.mean() == pytest.approx(2.0, abs=0.01) and X.std() == pytest.approx(0.1, rel=0.05)
    assert np.all(y == 0.75)


def test_train_val_split():
    X, y = data.moons(100)
    X_tr, X_val, y_tr, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=1)
    assert len(X_tr) == 80 and len(X_val) == 20
    together = np.vstack([X_tr, X_val])
    assert sorted(map(tuple, together)) == sorted(map(tuple, X))


@pytest.mark.parametrize("call,error,match", [
    (lambda: data.xor(0), ValueError, "n must be at least 1"),
    (lambda: data.moons(-5), ValueError, "n must be at least"),
    (lambda: data.moons(10.5), TypeError, "whole number"),
    (lambda: data.circles(noise=-0.1), ValueError, "noise must be a finite number >= 0"),
    (lambda: data.circles(factor=1.5), ValueError, "factor must be between 0 and 1"),
    (lambda: data.spirals(n_classes=1), ValueError, "n must be at least 2"),
    (lambda: data.blobs(centers=np.ones((3, 3))), ValueError, r"shape \(k, 2\)"),
    (lambda: data.sine(x_range=(2, 1)), ValueError, "low < high"),
    (lambda: data.load("moon"), ValueError, "Did you mean 'moons'"),
    (lambda: data.train_val_split(np.ones((4, 2)), np.ones(3)), ValueError, "same number of rows"),
])
def test_invalid_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
