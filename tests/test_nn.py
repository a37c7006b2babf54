"""helpers.nn: gradients against finite differences, training, History, and input checks."""

import warnings

import numpy as np
import pytest

from helpers import activations, data, diagnostics, nn
from tests.conftest import BUILTIN_NAMES

SMOOTH_ENOUGH = [n for n in BUILTIN_NAMES if n != "step"]  # step has no useful gradient
LOSS_OUTPUTS = [("mse", "identity"), ("mse", "sigmoid"), ("mse", "softmax"),
                ("bce", "sigmoid"), ("cross_entropy", "softmax")]


def numeric_grads(net, X, y, loss, h=1e-6):
    """Central finite differences of the loss with respect to every weight and bias."""
    result = []
    for W, b in zip(net.weights, net.biases):
        pair = []
        for param in (W, b):
            g = np.zeros_like(param)
            for idx in np.ndindex(param.shape):
                old = param[idx]
                param[idx] = old + h
                up = net.loss(X, y, loss)
                param[idx] = old - h
                down = net.loss(X, y, loss)
                param[idx] = old
                g[idx] = (up - down) / (2 * h)
            pair.append(g)
        result.append(pair)
    return result


def targets_for(loss, output, n, k, rng):
    if loss == "cross_entropy":
        return rng.integers(0, k, size=n)
    if loss == "bce":
        return rng.integers(0, 2, size=(n, k)).astype(float)
    return rng.normal(size=(n, k)) if output == "identity" else rng.uniform(size=(n, k))


@pytest.mark.parametrize("activation", SMOOTH_ENOUGH)
@pytest.mark.parametrize("loss,output", LOSS_OUTPUTS)
def test_backprop_matches_finite_differences(activation, loss, output):
    rng = np.random.default_rng(7)
    k = 1 if output == "sigmoid" and loss == "bce" else 3
    net = nn.MLP([3, 4, 5, k], activation=activation, output=output, seed=3)
    for b in net.biases:  # nonzero biases so every term of the backward pass is exercised
        b += rng.normal(0, 0.3, size=b.shape)
    X = rng.normal(size=(6, 3))
    y = targets_for(loss, output, 6, k, rng)
    value, grads = net.loss_and_grads(X, y, loss=loss)
    assert value == pytest.approx(net.loss(X, y, loss))
    for (dW, db), (nW, nb) in zip(grads, numeric_grads(net, X, y, loss)):
        np.testing.assert_allclose(dW, nW, rtol=1e-4, atol=1e-8)
        np.testing.assert_allclose(db, nb, rtol=1e-4, atol=1e-8)


def test_losses_match_their_definitions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 2))
    reg = nn.MLP([2, 3, 2], output="identity", seed=0)
    Y = rng.normal(size=(8, 2))
    assert reg.loss(X, Y) == pytest.approx(np.mean((reg.forward(X) - Y) ** 2))
    clf = nn.MLP([2, 3, 1], output="sigmoid", seed=0)
    y = rng.integers(0, 2, size=8)
    p = clf.forward(X)[:, 0]
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert clf.loss(X, y) == pytest.approx(bce)
    multi = nn.MLP([2, 3, 4], output="softmax", seed=0)
    labels = rng.integers(0, 4, size=8)
    P = multi.forward(X)
    assert multi.loss(X, labels) == pytest.approx(-np.mean(np.log(P[np.arange(8), labels])))


def test_bce_from_logits_is_finite_for_confident_wrong_predictions():
    net = nn.MLP([1, 1], output="sigmoid")
    net.weights[0][:] = 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = net.loss_and_grads(np.array([[1.0]]), np.array([0]))
    assert value == pytest.approx(1e4)
    assert np.isfinite(grads[0][0]).all()


def test_forward_cache_layout():
    net = nn.MLP([2, 4, 3, 1], activation="relu", output="sigmoid")
    X = np.ones((5, 2))
    out = net.forward(X)
    assert [z.shape for z in net.cache["z"]] == [(5, 4), (5, 3), (5, 1)]
    assert [a.shape for a in net.cache["a"]] == [(5, 2), (5, 4), (5, 3), (5, 1)]
    np.testing.assert_array_equal(net.cache["a"][1], np.maximum(net.cache["z"][0], 0))
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-net.cache["z"][-1])))
    assert net.layer_names() == ["hidden 1 (relu)", "hidden 2 (relu)", "output (sigmoid)"]


def test_init_schemes_have_the_documented_scale():
    big = [400, 400, 400]
    for init, std in [("xavier", np.sqrt(2 / 800)), ("he", np.sqrt(2 / 400)), ("normal", 1.0)]:
        W = nn.MLP(big, init=init, seed=0).weights[0]
        assert W.std() == pytest.approx(std, rel=0.02)
    W = nn.MLP(big, init="uniform", seed=0).weights[0]
    assert np.abs(W).max() <= 1 / 20 and W.std() == pytest.approx(1 / 20 / np.sqrt(3), rel=0.02)
    W = nn.MLP(big, init="xavier", init_scale=3.0, seed=0).weights[0]
    assert W.std() == pytest.approx(3 * np.sqrt(2 / 800), rel=0.02)
    net = nn.MLP([2, 3, 3, 1], bias_init=-2.0)
    assert all(np.all(b == -2.0) for b in net.biases[:-1]) and np.all(net.biases[-1] == 0)


def test_same_seed_same_network_and_history():
    X, y = data.moons(100, seed=1)
    h1 = nn.MLP([2, 8, 1], output="sigmoid", seed=5).fit(X, y, epochs=20, batch_size=16, seed=2)
    h2 = nn.MLP([2, 8, 1], output="sigmoid", seed=5).fit(X, y, epochs=20, batch_size=16, seed=2)
    np.testing.assert_array_equal(h1.loss, h2.loss)
    h3 = nn.MLP([2, 8, 1], output="sigmoid", seed=6).fit(X, y, epochs=20, batch_size=16, seed=2)
    assert not np.array_equal(h1.loss, h3.loss)


@pytest.mark.parametrize("name,sizes,activation,output,kwargs,target", [
    ("xor", [2, 8, 1], "tanh", "sigmoid", dict(lr=0.05, optimizer="adam", epochs=300), 0.97),
    ("moons", [2, 16, 1], "relu", "sigmoid", dict(lr=0.02, optimizer="adam", epochs=400), 0.97),
    ("circles", [2, 16, 1], "tanh", "sigmoid", dict(lr=0.02, optimizer="adam", epochs=400), 0.97),
    ("spirals", [2, 64, 3], "tanh", "softmax", dict(lr=0.02, optimizer="adam", epochs=500), 0.9),
    ("blobs", [2, 1], "identity", "sigmoid", dict(lr=0.5, epochs=200), 0.97),
])
def test_training_reaches_stated_accuracy(name, sizes, activation, output, kwargs, target):
    X, y = data.load(name, seed=0)
    net = nn.MLP(sizes, activation=activation, output=output, seed=0)
    history = net.fit(X, y, **kwargs)
    assert history.accuracy[-1] >= target
    assert history.loss[-1] < history.loss[0]
    assert net.accuracy(X, y) == pytest.approx(history.accuracy[-1])


def test_a_linear_model_cannot_solve_xor():
    X, y = data.xor(seed=0)
    history = nn.MLP([2, 1], output="sigmoid").fit(X, y, epochs=300, lr=0.5)
    assert history.accuracy[-1] < 0.65


def test_regression_on_sine():
    X, y = data.sine(100, noise=0.05)
    net = nn.MLP([1, 32, 1], activation="tanh", seed=0)
    history = net.fit(X, y, epochs=800, lr=0.02, optimizer="adam")
    assert history.loss[-1] < 0.01
    assert np.isnan(history.accuracy).all()
    assert net.predict(X).shape == (100,)


def test_y_may_be_flat_or_a_column():
    X, y = data.xor(50)
    a = nn.MLP([2, 4, 1], output="sigmoid").loss_and_grads(X, y)
    b = nn.MLP([2, 4, 1], output="sigmoid").loss_and_grads(X, y[:, None])
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1][0][0], b[1][0][0])


def test_cross_entropy_accepts_one_hot_rows():
    X, y = data.spirals(60, n_classes=3)
    net = nn.MLP([2, 5, 3], output="softmax")
    assert net.loss(X, y) == pytest.approx(net.loss(X, np.eye(3)[y]))


def test_history_layout_and_diagnostics():
    X, y = data.circles(200, seed=0)
    X_tr, X_val, y_tr, y_val = data.train_val_split(X, y)
    net = nn.MLP([2, 6, 6, 1], activation="tanh", output="sigmoid", seed=0)
    h = net.fit(X_tr, y_tr, epochs=30, lr=0.5, X_val=X_val, y_val=y_val, n_snapshots=4)
    assert h.epochs == 30 and h.loss.shape == (31,)
    for key in ("act_mean", "act_std", "saturated", "dead", "grad_norm", "update_ratio"):
        assert getattr(h, key).shape == (31, 3)
    assert np.isnan(h.update_ratio[0]).all() and np.isfinite(h.update_ratio[1:]).all()
    assert np.isfinite(h.val_loss).all() and np.isfinite(h.val_accuracy).all()
    assert h.snapshot_epochs == [0, 10, 20, 30] and len(h.weight_snapshots) == 4
    assert h.act_quantiles.shape == (4, 3, 7)
    # The last row describes the trained network: compare with diagnostics run afresh.
    stats = diagnostics.layer_stats(net, X_tr)
    np.testing.assert_allclose(h.act_mean[-1], stats["mean"])
    np.testing.assert_allclose(h.act_std[-1], stats["std"], rtol=1e-12)  # fit's own form of std
    np.testing.assert_array_equal(h.dead[-1], stats["dead"])
    np.testing.assert_allclose(h.saturated[-1], stats["saturated"])
    np.testing.assert_allclose(h.grad_norm[-1], diagnostics.gradient_norms(net, X_tr, y_tr))
    np.testing.assert_array_equal(h.weight_snapshots[-1][0], net.weights[0])
    assert h.epochs_to(0.0, "loss") is None and h.epochs_to(h.accuracy.max()) is not None


@pytest.mark.parametrize("kwargs", [dict(optimizer="adam", lr=0.05),
                                    dict(optimizer="sgd", lr=0.5, batch_size=16)])
def test_fit_without_diagnostics_trains_the_same_network(kwargs):
    X, y = data.circles(120, seed=1)
    X_val, y_val = data.circles(40, seed=2)
    full, bare = (nn.MLP([2, 6, 6, 1], activation="tanh", output="sigmoid", seed=3)
                  for _ in range(2))
    h_full = full.fit(X, y, epochs=25, X_val=X_val, y_val=y_val, **kwargs)
    h_bare = bare.fit(X, y, epochs=25, X_val=X_val, y_val=y_val, diagnostics=False, **kwargs)
    for W_full, W_bare in zip(full.weights + full.biases, bare.weights + bare.biases):
        np.testing.assert_array_equal(W_full, W_bare)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_array_equal(getattr(h_bare, key), getattr(h_full, key))
    assert h_full.diagnostics and not h_bare.diagnostics
    for key in ("act_mean", "act_std", "saturated", "dead", "grad_norm", "update_ratio"):
        assert getattr(h_bare, key).shape == (26, 3) and np.isnan(getattr(h_bare, key)).all()
        assert np.isfinite(getattr(h_full, key)[1:, :2]).all()
    assert h_bare.weight_snapshots == [] and h_bare.snapshot_epochs == []
    assert h_bare.act_quantiles.size == 0


def test_fraction_true_is_the_mean_of_a_mask():
    rng = np.random.default_rng(0)
    for shape in [(7,), (50, 3), (1, 1)]:
        mask = rng.random(shape) < 0.3
        assert diagnostics.fraction_true(mask) == np.mean(mask)
    assert diagnostics.fraction_true(np.zeros((4, 2), dtype=bool)) == 0.0
    assert diagnostics.fraction_true(np.ones(3, dtype=bool)) == 1.0
    assert np.isnan(diagnostics.fraction_true(np.zeros(0, dtype=bool)))


def test_update_ratio_is_step_over_weights():
    X, y = data.xor(40)
    net = nn.MLP([2, 3, 1], output="sigmoid", seed=0)
    before = [W.copy() for W in net.weights]
    h = net.fit(X, y, epochs=1, lr=0.1)
    for layer, W0 in enumerate(before):
        expected = np.linalg.norm(net.weights[layer] - W0) / np.linalg.norm(W0)
        assert h.update_ratio[1, layer] == pytest.approx(expected)
        assert diagnostics.update_to_weight_ratio(W0, net.weights[layer]) == pytest.approx(expected)


def test_dead_relus_are_detected():
    X, y = data.moons(100)
    net = nn.MLP([2, 8, 8, 1], activation="relu", output="sigmoid", bias_init=-10.0)
    dead = diagnostics.dead_fraction(net, X)
    np.testing.assert_array_equal(dead, [1.0, 1.0, 0.0])
    grads = diagnostics.gradient_norms(net, X, y)
    assert grads[0] == 0.0 and grads[1] == 0.0
    assert np.isnan(diagnostics.saturated_fraction(net, X)[:2]).all()


def test_saturated_sigmoids_are_detected():
    X = np.random.default_rng(0).normal(size=(200, 2))
    net = nn.MLP([2, 50, 1], activation="sigmoid", output="sigmoid", init="normal",
                 init_scale=20.0)
    sat = diagnostics.saturated_fraction(net, X)[0]
    z = net.cache["z"][0]
    s = 1 / (1 + np.exp(-z))
    assert sat == pytest.approx(np.mean(s * (1 - s) < 0.01))
    assert sat > 0.8


def test_fit_never_modifies_the_data():
    X, y = data.moons(80)
    X0, y0 = X.copy(), y.copy()
    nn.MLP([2, 4, 1], output="sigmoid").fit(X, y, epochs=5, batch_size=10, optimizer="adam")
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_from_weights_copies_the_arrays():
    W = [np.eye(2), np.ones((2, 1))]
    b = [np.zeros(2), np.zeros(1)]
    net = nn.MLP.from_weights(W, b, activation="identity")
    net.fit(np.ones((4, 2)), np.zeros(4), epochs=2)
    np.testing.assert_array_equal(W[0], np.eye(2))
    twin = net.copy()
    twin.weights[0][0, 0] = 99
    assert net.weights[0][0, 0] != 99


def test_divergence_stops_with_a_clear_warning():
    X, y = data.sine(50)
    net = nn.MLP([1, 16, 16, 1], activation="relu", seed=0)
    with pytest.warns(RuntimeWarning, match="diverged .* smaller learning rate"):
        h = net.fit(X, y * 1e3, epochs=50, lr=50.0)
    assert h.diverged_at is not None


def test_momentum_and_adam_train():
    X, y = data.moons(200)
    for opt in ("momentum", "adam"):
        h = nn.MLP([2, 8, 1], output="sigmoid").fit(X, y, epochs=100, lr=0.05, optimizer=opt)
        assert h.loss[-1] < 0.5 * h.loss[0]


def test_callback_can_stop_training():
    X, y = data.xor(40)
    seen = []

    def stop_at_three(epoch, net, history):
        seen.append(epoch)
        return epoch < 3

    h = nn.MLP([2, 3, 1], output="sigmoid").fit(X, y, epochs=10, callback=stop_at_three)
    # The call that stops training is the last one: no further call with the planned epoch.
    assert seen == [1, 2, 3]
    assert np.all(np.isfinite(h.loss[:4])) and np.all(np.isnan(h.loss[4:]))


def test_callback_sees_every_epoch_of_a_full_run():
    X, y = data.xor(40)
    seen = []
    nn.MLP([2, 3, 1], output="sigmoid").fit(
        X, y, epochs=6, callback=lambda epoch, net, history: seen.append(epoch))
    assert seen == [1, 2, 3, 4, 5, 6]


# ------------------------------------------------------------------------------ input checks


def test_shape_mismatch_names_both_shapes():
    net = nn.MLP([2, 3, 1], output="sigmoid")
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\).*\(n_samples, 2\)"):
        net.forward(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"X has 5 rows but y has shape \(4,\)"):
        net.loss_and_grads(np.ones((5, 2)), np.ones(4))
    multi = nn.MLP([2, 3, 3], output="identity")
    with pytest.raises(ValueError, match=r"y has shape \(5,\), expected \(5, 3\)"):
        multi.loss_and_grads(np.ones((5, 2)), np.ones(5))


@pytest.mark.parametrize("kwargs,match", [
    (dict(sizes=[2]), "at least two positive"),
    (dict(sizes=[2, 0, 1]), "at least two positive"),
    (dict(sizes=[2, 3, 1], output="softmax"), "softmax output needs at least 2"),
    (dict(sizes=[2, 3, 1], output="relu"), "output must be one of"),
    (dict(sizes=[2, 3, 1], init="glorot"), "init must be one of"),
    (dict(sizes=[2, 3, 1], activation="sigmod"), "Did you mean 'sigmoid'"),
    (dict(sizes=[2, 3, 3, 1], activation=["relu"]), "1 activations for 2 hidden layers"),
    (dict(sizes=[2, 3, 1], init_scale=-1.0), "init_scale must be a positive"),
])
def test_bad_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.MLP(**kwargs)


def test_bad_training_arguments():
    X, y = data.xor(20)
    net = nn.MLP([2, 3, 1], output="sigmoid")
    with pytest.raises(ValueError, match="lr must be a positive"):
        net.fit(X, y, lr=0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        net.fit(X, y, optimizer="rmsprop")
    with pytest.raises(ValueError, match="batch_size must be None"):
        net.fit(X, y, batch_size=0)
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        net.fit(X, y, epochs=-1)
    with pytest.raises(ValueError, match="give both X_val and y_val"):
        net.fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="loss must be one of"):
        net.fit(X, y, loss="hinge")
    with pytest.raises(ValueError, match="output='softmax'"):
        net.fit(X, y, loss="cross_entropy")
    with pytest.raises(ValueError, match=r"bce targets must lie in \[0, 1\]"):
        net.fit(X, y * 3)
    with pytest.raises(ValueError, match="NaN or inf"):
        net.forward(np.full((2, 2), np.nan))
    with pytest.raises(TypeError, match="real numeric array"):
        net.forward(np.array([["a", "b"]]))
    multi = nn.MLP([2, 3, 3], output="softmax")
    with pytest.raises(ValueError, match=r"integer class labels in 0..2"):
        multi.fit(X, y + 5)


def test_activation_objects_are_accepted():
    act = activations.get("leaky_relu", alpha=0.2)
    net = nn.MLP([2, 3, 1], activation=act)
    assert net.hidden_activations[0].params == {"alpha": 0.2}
    assert "leaky_relu(alpha=0.2)" in net.layer_names()[0]


def test_recorded_statistics_match_the_layer_outputs():
    X, y = data.circles(60, seed=2)
    net = nn.MLP([2, 7, 3, 1], activation="relu", output="sigmoid", seed=4)
    history = net.fit(X, y, epochs=0)
    net.forward(X)
    for layer, a in enumerate(net.cache["a"][1:]):
        np.testing.assert_allclose(history.act_quantiles[0, layer],
                                   np.quantile(a, [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1]))
        assert history.act_mean[0, layer] == pytest.approx(a.mean())
        assert history.act_std[0, layer] == pytest.approx(a.std())
        assert history.dead[0, layer] == pytest.approx(np.mean(np.all(a == 0, axis=0)))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_fit_continues_from_an_optimizer_state(optimizer):
    X, y = data.moons(80, noise=0.1, seed=3)
    whole = nn.MLP([2, 6, 1], output="sigmoid", seed=1)
    parts = whole.copy()
    h = whole.fit(X, y, epochs=40, lr=0.05, optimizer=optimizer)
    h1 = parts.fit(X, y, epochs=25, lr=0.05, optimizer=optimizer)
    h2 = parts.fit(X, y, epochs=15, lr=0.05, optimizer=optimizer,
                   optimizer_state=h1.optimizer_state)
    np.testing.assert_allclose(np.concatenate([h1.loss, h2.loss[1:]]), h.loss, rtol=1e-12)
    for W, W_parts in zip(whole.weights, parts.weights):
        np.testing.assert_allclose(W_parts, W, rtol=1e-12)
    if optimizer != "sgd":  # a restarted Adam or momentum takes other steps
        restarted = nn.MLP([2, 6, 1], output="sigmoid", seed=1)
        restarted.fit(X, y, epochs=25, lr=0.05, optimizer=optimizer)
        h3 = restarted.fit(X, y, epochs=15, lr=0.05, optimizer=optimizer)
        assert not np.allclose(h3.loss[1:], h2.loss[1:], rtol=1e-6)


def test_fit_refuses_another_optimizers_state():
    X, y = data.moons(40, noise=0.1, seed=3)
    net = nn.MLP([2, 4, 1], output="sigmoid")
    state = net.fit(X, y, epochs=3, optimizer="adam").optimizer_state
    with pytest.raises(ValueError, match="another optimizer than 'momentum'"):
        net.fit(X, y, epochs=3, optimizer="momentum", optimizer_state=state)
