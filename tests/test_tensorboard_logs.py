"""TensorBoard event files from the course's runs, read back with TensorBoard's EventAccumulator.

The expected tags are written out here by hand, and the expected values are the History's own
arrays and the network's activations recomputed independently (a copy of the network trained
for the same epochs), not anything the writer computed.
"""

from __future__ import annotations

import os
import urllib.request

import numpy as np
import pytest

from helpers import data, nn, tensorboard_logs

IN_CI = os.environ.get("CI", "").lower() == "true"
try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
except ImportError:  # pragma: no cover
    if IN_CI:
        raise RuntimeError("tensorboard is not installed: it is in requirements.txt") from None
    pytest.skip("tensorboard not installed: pip install -r requirements.txt",
                allow_module_level=True)

EPOCHS = 12
# EventAccumulator keeps one histogram per tag by default (a reservoir sample); keep them all.
KEEP_ALL = {"histograms": 0, "scalars": 0}
LAYERS = ["1_hidden_1_tanh", "2_hidden_2_relu", "3_output_sigmoid"]


def make_run():
    X, y = data.moons(n=90, noise=0.2, seed=0)
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, val_fraction=0.3, seed=0)
    net = nn.MLP([2, 6, 5, 1], activation=["tanh", "relu"], output="sigmoid", seed=1)
    return net, X_train, y_train, X_val, y_val


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    net, X_train, y_train, X_val, y_val = make_run()
    start = net.copy()
    logdir = tmp_path_factory.mktemp("runs") / "numpy_run"
    history = tensorboard_logs.fit_and_log(net, X_train, y_train, logdir, epochs=EPOCHS, lr=0.5,
                                           X_val=X_val, y_val=y_val, n_snapshots=4)
    events = EventAccumulator(str(logdir), size_guidance=KEEP_ALL).Reload()
    return history, events, logdir, start, X_train, y_train


def test_layer_tags_are_tag_safe():
    assert tensorboard_logs.layer_tag(0, "hidden 1 (tanh)") == "1_hidden_1_tanh"
    assert tensorboard_logs.layer_tag(2, "output (softmax)") == "3_output_softmax"
    assert tensorboard_logs.layer_tag(1, "hidden 2 (leaky_relu(alpha=0.1))") == \
        "2_hidden_2_leaky_relu_alpha_0_1"


def test_scalar_tags(logged):
    _, events, *_ = logged
    expected = {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key in ("grad_norm", "update_ratio", "dead"):
        expected |= {f"{key}/{layer}" for layer in LAYERS}
    # Saturation is defined for bounded activations only: tanh and the sigmoid output, not ReLU.
    expected |= {"saturated/1_hidden_1_tanh", "saturated/3_output_sigmoid"}
    assert set(events.Tags()["scalars"]) == expected


def test_scalar_values_are_the_history(logged):
    history, events, *_ = logged
    for tag, values in (("loss", history.loss), ("val_accuracy", history.val_accuracy),
                        ("grad_norm/2_hidden_2_relu", history.grad_norm[:, 1]),
                        ("dead/2_hidden_2_relu", history.dead[:, 1]),
                        ("saturated/1_hidden_1_tanh", history.saturated[:, 0])):
        points = events.Scalars(tag)
        assert [p.step for p in points] == list(range(EPOCHS + 1)), tag
        np.testing.assert_allclose([p.value for p in points], values, rtol=1e-6, err_msg=tag)
    # The update ratio exists from the first step on (row 0 has no step before it).
    ratio = events.Scalars("update_ratio/1_hidden_1_tanh")
    assert [p.step for p in ratio] == list(range(1, EPOCHS + 1))
    np.testing.assert_allclose([p.value for p in ratio], history.update_ratio[1:, 0], rtol=1e-6)


def test_weight_histograms_at_each_snapshot(logged):
    history, events, *_ = logged
    tags = events.Tags()["histograms"]
    assert set(tags) == {f"{kind}/{layer}" for kind in ("weights", "activations")
                         for layer in LAYERS}
    assert history.snapshot_epochs == [0, 4, 8, 12]
    for j, layer in enumerate(LAYERS):
        points = events.Histograms(f"weights/{layer}")
        assert [p.step for p in points] == history.snapshot_epochs
        for p, weights in zip(points, history.weight_snapshots):
            W = weights[j]
            h = p.histogram_value
            assert h.num == W.size and sum(h.bucket) == W.size
            assert h.min == pytest.approx(W.min()) and h.max == pytest.approx(W.max())
            assert h.sum == pytest.approx(W.sum())


def test_activation_histograms_are_the_network_at_that_epoch(logged):
    _, events, _, start, X_train, y_train = logged
    for epoch in (0, 8, 12):
        twin = start.copy()
        if epoch:
            twin.fit(X_train, y_train, epochs=epoch, lr=0.5)
        twin.forward(X_train)
        for j, layer in enumerate(LAYERS):
            a = twin.cache["a"][j + 1]
            point = next(p for p in events.Histograms(f"activations/{layer}") if p.step == epoch)
            h = point.histogram_value
            assert h.num == a.size
            assert h.min == pytest.approx(a.min(), abs=1e-12)
            assert h.max == pytest.approx(a.max(), abs=1e-12)
            assert h.sum == pytest.approx(a.sum(), rel=1e-9, abs=1e-9)


def test_rewriting_a_run_replaces_it_and_runs_sit_side_by_side(logged, tmp_path):
    history, *_ = logged
    first = tensorboard_logs.write_history(history, tmp_path / "a")
    tensorboard_logs.write_history(history, tmp_path / "a")
    tensorboard_logs.write_history(history, tmp_path / "b")
    assert len(list(first.glob("events.out.tfevents.*"))) == 1
    multiplexer = EventMultiplexer().AddRunsFromDirectory(str(tmp_path)).Reload()
    assert sorted(multiplexer.Runs()) == ["a", "b"]
    assert len(multiplexer.Scalars("a", "loss")) == EPOCHS + 1


def test_a_regressor_without_validation_leaves_nan_rows_out(tmp_path):
    X, _ = data.moons(n=40, noise=0.1, seed=0)
    net = nn.MLP([2, 4, 1], activation="relu", output="identity", seed=0)
    history = net.fit(X, X[:, 0], epochs=3, lr=0.1)
    events = EventAccumulator(str(tensorboard_logs.write_history(history, tmp_path))).Reload()
    scalars = set(events.Tags()["scalars"])
    assert "loss" in scalars
    assert not scalars & {"accuracy", "val_loss", "val_accuracy"}
    assert not any(t.startswith("saturated/") for t in scalars)  # ReLU and identity: undefined


def test_bad_input_is_named(tmp_path):
    with pytest.raises(TypeError, match="expected a History .* got dict"):
        tensorboard_logs.write_history({"loss": [1.0]}, tmp_path)


def test_start_serves_the_runs_and_stops(logged):
    _, _, logdir, *_ = logged
    server = tensorboard_logs.start(logdir.parent)
    try:
        with urllib.request.urlopen(f"{server.url}data/runs", timeout=30) as resp:
            assert resp.read().decode().strip() == '["numpy_run"]'
    finally:
        server.stop()
    assert server.proc.poll() is not None


def test_start_says_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="no log folder"):
        tensorboard_logs.start(tmp_path / "nothing-here")


def test_launcher_starts_nothing_until_pressed(logged, monkeypatch):
    _, _, logdir, *_ = logged
    started = []
    monkeypatch.setattr(tensorboard_logs, "start", lambda d: started.append(d))
    panel = tensorboard_logs.launcher(logdir)
    button = panel.children[0]
    assert button.description == "Open TensorBoard" and started == []


def test_launcher_button_starts_one_server_reuses_it_and_stops_it(logged):
    _, _, logdir, *_ = logged
    panel = tensorboard_logs.launcher(logdir.parent)
    button = panel.children[0]
    try:
        button.click()
        assert len(tensorboard_logs._started) == 1
        server = tensorboard_logs._started[0]
        with urllib.request.urlopen(f"{server.url}data/runs", timeout=30) as resp:
            assert resp.read().decode().strip() == '["numpy_run"]'
        button.click()  # a second press shows the same server
        assert tensorboard_logs._started == [server] and server.proc.poll() is None
    finally:
        tensorboard_logs._stop_started()  # what the kernel's exit does (atexit)
        started = list(tensorboard_logs._started)
        tensorboard_logs._started.clear()
    assert started and all(s.proc.poll() is not None for s in started)
