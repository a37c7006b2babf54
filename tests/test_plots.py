"""helpers.plots: every figure has its panels, labels and the right data."""

import os
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import data, nn, plots  # noqa: E402


def _visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def _line(ax, gid):
    return next(line for line in ax.lines if line.get_gid() == gid)


@pytest.fixture(scope="module")
def trained():
    X, y = data.moons(120, seed=0)
    net = nn.MLP([2, 8, 8, 1], activation="relu", output="sigmoid", init="he", seed=0)
    history = net.fit(X, y, epochs=30, lr=0.5, X_val=X[:30], y_val=y[:30])
    return net, history, X, y


def test_activations_data_and_labels():
    fig = plots.plot_activations(["sigmoid", "relu"], x_range=(-4, 4))
    assert isinstance(fig, Figure)
    f_ax, d_ax = fig.axes
    x = np.linspace(-4, 4, 601)
    np.testing.assert_allclose(_line(f_ax, "f:sigmoid").get_ydata(), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(_line(d_ax, "df:relu").get_ydata(), (x > 0).astype(float))
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(_line(d_ax, "df:sigmoid").get_ydata(), s * (1 - s), atol=1e-12)
    # The sigmoid derivative peaks at x = 0 with value 1/4; relu's plateau gets no marker.
    peak = _line(d_ax, "max:sigmoid")
    assert peak.get_xdata()[0] == pytest.approx(0, abs=0.02)
    assert peak.get_ydata()[0] == pytest.approx(0.25)
    assert not any(line.get_gid() == "max:relu" for line in d_ax.lines)
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert f_ax.get_legend() is not None


def test_saturation_spans_match_threshold():
    x = np.linspace(-8, 8, 1601)
    spans = plots.saturation_spans("sigmoid", x)
    # sigmoid'(x) = 0.01 at |x| = ln((1 + sqrt(1 - 0.04)) / (1 - sqrt(1 - 0.04))) / 1 ~ 4.595
    edge = np.log((1 + np.sqrt(0.96)) / (1 - np.sqrt(0.96)))
    assert len(spans) == 2
    assert spans[0][1] == pytest.approx(-edge, abs=0.02)
    assert spans[1][0] == pytest.approx(edge, abs=0.02)
    assert plots.saturation_spans("relu", x) == []
    fig = plots.plot_activations("tanh", derivative=False)
    assert len(fig.axes) == 1
    assert sum(p.get_gid() == "saturated" for p in fig.axes[0].patches) == 2


def test_activations_ax_and_errors():
    fig, axes = plots.subplots(1, 2)
    assert plots.plot_activations("elu", ax=axes) is fig
    with pytest.raises(ValueError, match="2 Axes"):
        plots.plot_activations("elu", ax=axes[0])
    with pytest.raises(ValueError, match="unknown activation"):
        plots.plot_activations(["sigmod"])
    with pytest.raises(ValueError, match="x_range"):
        plots.plot_activations("relu", x_range=(3, -3))


def test_neuron():
    fig = plots.plot_neuron("tanh", w=2.0, b=1.0, x_range=(-3, 3))
    ax = fig.axes[0]
    x = np.linspace(-3, 3, 401)
    np.testing.assert_allclose(_line(ax, "neuron").get_ydata(), np.tanh(2 * x + 1))
    np.testing.assert_allclose(_line(ax, "reference").get_ydata(), np.tanh(x))
    assert _line(ax, "centre").get_xdata()[0] == pytest.approx(-0.5)
    assert "w=2" in ax.get_title() and ax.get_xlabel()
    fig2, ax2 = plots.subplots()
    assert plots.plot_neuron("relu", 1, 0, ax=ax2) is fig2


def test_decision_boundary_binary_and_linear(trained):
    net, _, X, y = trained
    fig = plots.plot_decision_boundary(net, X, y, resolution=50)
    assert len(fig.axes) == 2  # the map and its colourbar
    ax = fig.axes[0]
    surface = next(im for im in ax.images if im.get_gid() == "surface")
    arr = surface.get_array()
    assert arr.shape == (50, 50)
    lo, hi = X.min(0) - 0.5, X.max(0) + 0.5
    corner = np.array([[lo[0], lo[1]], [hi[0], hi[1]]])
    p = net.predict_proba(corner)
    np.testing.assert_allclose([arr[0, 0], arr[-1, -1]], p)
    acc = np.mean(net.predict(X) == y)
    assert f"{acc:.0%}" in ax.get_title()
    assert len(ax.collections) >= 2  # two classes of points + the 0.5 contour
    lin = nn.MLP([2, 1], output="sigmoid")
    assert len(plots.plot_decision_boundary(lin, X, y, resolution=20).axes) == 2


def test_decision_boundary_multiclass_and_predict_only():
    X, y = data.blobs(90, centers=3, seed=1)

    class Nearest:
        def __init__(self):
            self.centres = np.array([X[y == k].mean(0) for k in range(3)])

        def predict(self, P):
            return np.argmin(((P[:, None, :] - self.centres) ** 2).sum(-1), axis=1)

    fig = plots.plot_decision_boundary(Nearest(), X, y, resolution=30, title="nearest centre")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_title() == "nearest centre"
    assert set(np.unique(ax.images[0].get_array())) == {0, 1, 2}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]
    with pytest.raises(ValueError, match="same number of rows"):
        plots.plot_decision_boundary(Nearest(), X, y[:-1])


def test_history(trained):
    _, history, _, _ = trained
    fig = plots.plot_history(history)
    loss_ax, acc_ax = fig.axes
    np.testing.assert_allclose(_line(loss_ax, "loss").get_ydata(), history.loss)
    np.testing.assert_allclose(_line(acc_ax, "val_accuracy").get_ydata(), history.val_accuracy)
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"
    Xr, yr = data.sine(40)
    reg = nn.MLP([1, 4, 1], activation="tanh")
    h = reg.fit(Xr, yr, epochs=3, lr=0.05)
    assert len(plots.plot_history(h).axes) == 1  # no accuracy for regression
    with pytest.raises(TypeError, match="History"):
        plots.plot_history(object())


def test_layer_histograms(trained):
    net, _, X, _ = trained
    fig = plots.plot_layer_histograms(net, X)
    axes = _visible_axes(fig)
    assert len(axes) == 3
    first = axes[0]
    counts = first.patches[0].get_data().values
    assert counts.sum() == X.shape[0] * 8  # every activation of hidden layer 1 counted once
    texts = " ".join(t.get_text() for ax in axes for t in ax.texts)
    assert "dead" in texts and "saturated" in texts  # saturated shown for the sigmoid output
    assert axes[0].get_title().startswith("hidden 1")


def test_gradient_norms_net_dict_and_history(trained):
    net, history, X, y = trained
    fig = plots.plot_gradient_norms(net, X, y)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    _, grads = net.loss_and_grads(X, y)
    expected = [np.sqrt((dW**2).sum()) for dW, _ in grads]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected)
    deep = nn.MLP([2, 8, 8, 8, 1], activation="sigmoid", output="sigmoid", seed=1)
    fig2 = plots.plot_gradient_norms({"relu": net, "sigmoid": deep}, X, y)
    assert [t.get_text() for t in fig2.axes[0].get_legend().get_texts()] == ["relu", "sigmoid"]
    fig3 = plots.plot_gradient_norms({"a": history, "b": history})
    assert len(fig3.axes) == 2
    np.testing.assert_allclose(_line(fig3.axes[0], "layer:0").get_ydata(), history.grad_norm[:, 0])
    with pytest.raises(ValueError, match="X= and y="):
        plots.plot_gradient_norms(net)


def test_dead_units(trained):
    _, history, _, _ = trained
    fig = plots.plot_dead_units(history)
    ax = fig.axes[0]
    assert len(ax.lines) == 2  # hidden layers only
    np.testing.assert_allclose(ax.lines[1].get_ydata(), history.dead[:, 1])
    assert ax.get_ylabel() == "dead units"


def test_weights(trained):
    net, _, _, _ = trained
    fig = plots.plot_weights(net)
    assert len(fig.axes) == 4  # three matrices + one colourbar
    vmax = max(np.abs(W).max() for W in net.weights)
    for ax, W in zip(fig.axes[:3], net.weights):
        im = ax.images[0]
        np.testing.assert_array_equal(im.get_array(), W)
        assert im.get_clim() == pytest.approx((-vmax, vmax))


def test_weight_distributions(trained):
    _, history, _, _ = trained
    fig = plots.plot_weight_distributions(history)
    axes = _visible_axes(fig)
    assert len(axes) == 3
    median = _line(axes[0], "median")
    np.testing.assert_allclose(median.get_xdata(), history.snapshot_epochs)
    expected = [np.median(s[0]) for s in history.weight_snapshots]
    np.testing.assert_allclose(median.get_ydata(), expected)

    class Empty:
        weight_snapshots = []
        snapshot_epochs = []

    with pytest.raises(ValueError, match="weight_snapshots"):
        plots.plot_weight_distributions(Empty())


def test_network_diagram():
    net = nn.MLP([2, 40, 5, 3], activation="relu", output="softmax", seed=0)
    fig = plots.plot_network(net, max_nodes=12)
    ax = fig.axes[0]
    edges = [c for c in ax.collections if (c.get_gid() or "").startswith("edges")]
    assert len(edges) == 3
    # 12 slots = 11 units + the ellipsis: 2 x 11 edges in, 11 x 5 out, 5 x 3 to the output.
    assert [len(e.get_segments()) for e in edges] == [22, 55, 15]
    texts = [t.get_text() for t in ax.texts]
    assert "⋮" in texts
    assert any("40 · relu" in t for t in texts) and any("softmax" in t for t in texts)
    assert "parameters" in ax.get_title()


def test_softmax_bars():
    z = np.array([2.0, 1.0, 0.1])
    fig = plots.plot_softmax(z, temperature=2.0)
    z_ax, p_ax = fig.axes
    heights = [bar.get_height() for bar in p_ax.containers[0]]
    e = np.exp(z / 2.0)
    np.testing.assert_allclose(heights, e / e.sum())
    np.testing.assert_allclose([b.get_height() for b in z_ax.containers[0]], z)
    assert "T=2" in p_ax.get_title() and "sum = 1.000" in p_ax.get_title()
    with pytest.raises(ValueError, match="1-D"):
        plots.plot_softmax([[1, 2]])


def test_figures_not_registered_with_pyplot():
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    for _ in range(3):
        plots.plot_activations("relu")
    assert len(plt.get_fignums()) == before


def test_style_palette():
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert colours[:3] == ["#0072B2", "#E69F00", "#009E73"]


def test_cjk_title_renders_without_missing_glyphs():
    if plots.cjk_font() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no CJK font found on CI; .ci/run installs fonts-noto-cjk")
        pytest.skip("no CJK font installed: apt-get install fonts-noto-cjk")
    fig = plots.plot_activations("sigmoid", title="Sigmoid激活函数")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    missing = [str(w.message) for w in caught if "missing" in str(w.message).lower()]
    assert missing == []


def test_notebook_png_draws_constrained_figures_once_and_crops_the_rest():
    import base64
    import io

    import PIL.Image
    from matplotlib.figure import Figure

    def size(fig):
        return PIL.Image.open(io.BytesIO(base64.b64decode(plots._notebook_png(fig)))).size

    # Constrained layout already fits the contents: the figure is shown at its own size
    # (no "tight" crop, which would cost a second draw and trim the margins).
    fig, _ = plots.subplots(1, 2, figsize=(6, 3))
    assert size(fig) == (round(6 * fig.dpi), round(3 * fig.dpi))
    # A figure without a layout engine may have text outside itself: it is cropped to
    # its contents, which here reach beyond the right edge.
    free = Figure(figsize=(6, 3))
    ax = free.add_subplot()
    ax.text(1.4, 0.5, "outside the figure", transform=ax.transAxes)
    assert size(free)[0] > round(6 * free.dpi)
