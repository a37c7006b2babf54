"""helpers.plots: every figure has its panels, labels and the right data."""

import os
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import activations, data, nn, plots  # noqa: E402


def _visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return FigureCanvasAgg(fig).get_renderer()


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
    # ReLU's derivative: 0 then 1, broken at the jump (no vertical segment at 0).
    df = _line(d_ax, "df:relu")
    xs, ys = df.get_xdata(), df.get_ydata()
    keep = np.isfinite(ys) & (xs != 0)  # at 0: the two one-sided limits, 0 and 1
    np.testing.assert_allclose(ys[keep], (xs[keep] > 0).astype(float))
    assert np.isnan(ys).sum() == 1
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


def _no_vertical_segment(line) -> bool:
    """No two consecutive drawn points of ``line`` at the same x with different y."""
    xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    same_x = np.isclose(np.diff(xs), 0) & np.isfinite(np.diff(ys))
    return not np.any(same_x & ~np.isclose(np.diff(ys), 0))


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_a_jump_in_the_derivative_is_a_dot_and_an_open_circle_not_a_vertical_line(name):
    """Chapter 0: f'(0) = 0 for ReLU is a filled dot, the limit 1 from the right an open
    circle; the line is broken there instead of drawn as a vertical segment."""
    act = activations.get(name)
    fig = plots.plot_activations([name, "tanh"], x_range=(-5, 5))
    d_ax = fig.axes[1]
    assert _no_vertical_segment(_line(d_ax, f"df:{act.label}"))
    assert not _no_vertical_segment(plots.subplots()[1].plot([-1, 0, 0, 1], [0, 0, 1, 1])[0])
    (dot,) = [ln for ln in d_ax.lines if ln.get_gid() == f"jump:{act.label}"]
    (ring,) = [ln for ln in d_ax.lines if ln.get_gid() == f"jump_limit:{act.label}"]
    assert dot.get_xdata()[0] == 0 and dot.get_ydata()[0] == act.grad(np.array([0.0]))[0]
    assert list(ring.get_ydata()) == [1.0] and ring.get_markerfacecolor() == "white"
    # tanh's peak at (0, 1) sits on ReLU's ring: drawn above every curve and ring.
    peak = _line(d_ax, "max:tanh")
    assert peak.get_zorder() > max(ln.get_zorder() for ln in d_ax.lines if ln is not peak)
    # Its "max 1" label has a white ground, readable over the hatched bands.
    (label,) = [t for t in d_ax.texts if t.get_gid() == "max_label"]
    assert label.get_bbox_patch() is not None
    assert label.get_bbox_patch().get_facecolor()[:3] == (1.0, 1.0, 1.0)
    # Smooth derivatives have no jump.
    assert plots.derivative_jumps(activations.get("tanh"), np.linspace(-5, 5, 101)) == []


def test_band_legend_swatches_are_stronger_than_the_bands_and_hatches_are_fixed():
    """Each activation's hatch is its own, whatever else is plotted; a legend swatch is
    drawn stronger than the large faint band it stands for."""
    from matplotlib.colors import to_rgba

    def hatches(names):
        fig = plots.plot_activations(names)
        legend = fig.axes[1].get_legend()
        return {t.get_text(): p.get_hatch() for t, p in zip(legend.get_texts(),
                                                            legend.get_patches())}

    alone, together = hatches(["relu"]), hatches(["sigmoid", "tanh", "relu"])
    assert alone["relu"] == together["relu"]
    assert len(set(together.values())) == 3
    band = plots.band_style(plots.colour("relu"), "relu")
    swatch = plots.band_style(plots.colour("relu"), "relu", legend=True)
    assert to_rgba(swatch["facecolor"])[3] > to_rgba(band["facecolor"])[3]
    assert to_rgba(swatch["hatchcolor"])[3] > to_rgba(band["hatchcolor"])[3]


def test_saturation_spans_match_threshold():
    x = np.linspace(-8, 8, 1601)
    spans = plots.saturation_spans("sigmoid", x)
    # sigmoid'(x) = 0.01 at |x| = ln((1 + sqrt(1 - 0.04)) / (1 - sqrt(1 - 0.04))) / 1 ~ 4.595
    edge = np.log((1 + np.sqrt(0.96)) / (1 - np.sqrt(0.96)))
    assert len(spans) == 2
    assert spans[0][1] == pytest.approx(-edge, abs=0.02)
    assert spans[1][0] == pytest.approx(edge, abs=0.02)
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
    # the black contour can be named in a legend the caller draws (a reader took it for a
    # hand-drawn line beside it); the legend placed inside names the classes only
    assert "boundary, $P = 0.5$" in ax.get_legend_handles_labels()[1]
    assert "boundary, $P = 0.5$" not in [t.get_text() for t in ax.get_legend().get_texts()]
    lin = nn.MLP([2, 1], output="sigmoid")
    assert len(plots.plot_decision_boundary(lin, X, y, resolution=20).axes) == 2


def test_a_weak_boundary_is_dotted_and_its_legend_says_how_weak():
    # A model that says about 1/2 everywhere (a linear one on XOR) has a P = 0.5 line that
    # decides next to nothing: a reader took it for a firm boundary.
    X, y = data.xor(200, seed=0)

    class Flat:
        def predict_proba(self, P):
            return 0.5 + 0.04 * np.tanh(P[:, 0] - P[:, 1])

        def predict(self, P):
            return (self.predict_proba(P) > 0.5).astype(int)

    def boundary(model):
        ax = plots.plot_decision_boundary(model, X, y, resolution=40).axes[0]
        contour = next(c for c in ax.collections if type(c).__name__.endswith("ContourSet"))
        label = next(lab for lab in ax.get_legend_handles_labels()[1]
                     if lab.startswith("boundary"))
        return contour.get_linestyle(), label, ax

    style, label, ax = boundary(Flat())
    assert style[0][1] is not None  # a dash pattern: dotted, not solid
    lo, hi = 0.5 - 0.04 * np.tanh(3.2), 0.5 + 0.04 * np.tanh(3.2)  # over the padded panel
    assert label.startswith("boundary, $P = 0.5$ (weak: ")
    shown = [float(v) for v in label.split("$")[3].split(" < P < ")]
    assert abs(shown[0] - lo) < 0.02 and abs(shown[1] - hi) < 0.02
    assert not any(t.get_text().startswith("boundary") for t in ax.get_legend().get_texts())
    net = nn.MLP([2, 8, 1], activation="tanh", output="sigmoid", seed=0)
    net.fit(X, y, epochs=300, lr=1.0)
    style, label, _ = boundary(net)
    assert style[0][1] is None and label == "boundary, $P = 0.5$"


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
    assert "dead" not in " ".join(t.get_text() for t in axes[-1].texts)  # output units: no "dead"
    assert first.get_ylim()[1] > 1.2 * counts.max()  # head-room: the box covers no bar
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
    # each layer has a marker of its own as well as its shade of the ramp
    markers = [line.get_marker() for line in fig3.axes[0].lines]
    assert len(set(markers)) == len(markers) == history.grad_norm.shape[1]
    with pytest.raises(ValueError, match="X= and y="):
        plots.plot_gradient_norms(net)


def test_dead_units(trained):
    _, history, _, _ = trained
    fig = plots.plot_dead_units(history)
    ax = fig.axes[0]
    assert len(ax.lines) == 2  # hidden layers only
    np.testing.assert_allclose(ax.lines[1].get_ydata(), history.dead[:, 1])
    assert ax.get_ylabel() == "dead units (share of the layer)"


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


def test_shading_follows_the_derivative_rule_for_every_activation():
    # The rule is |f'(x)| < 0.01 whatever the activation: ReLU's zero side is shaded (it was
    # skipped for unbounded activations), Leaky ReLU's slope of exactly 0.01 is not below it.
    from helpers import activations

    x = np.linspace(-4, 4, 801)
    assert plots.saturation_spans("relu", x) == [(-4.0, pytest.approx(0.0, abs=0.01))]
    assert plots.saturation_spans("leaky_relu", x) == []  # registry default alpha = 0.01
    assert plots.saturation_spans(activations.get("leaky_relu", alpha=0.005), x) != []
    # SiLU's derivative dips to about -0.1 near x = -2.4: negative but not flat, so unshaded;
    # its far tail and the thin band where f' crosses 0 (its minimum, x = -1.28) are shaded.
    silu = plots.saturation_spans("silu", np.linspace(-12, 4, 1601))
    assert len(silu) == 2 and silu[0][0] == -12.0 and silu[0][1] < -6
    assert silu[1][0] < -1.278 < silu[1][1] and silu[1][1] - silu[1][0] < 0.2
    assert not any(a <= -2.4 <= b for a, b in silu)
    fig = plots.plot_activations(["relu", "tanh"], x_range=(-4, 4))
    shaded = [p for p in fig.axes[0].patches if p.get_gid() == "saturated"]
    assert len(shaded) == 3  # relu's x < 0, tanh's two tails
    # The bands' legend (on the derivative panel) says what "flat" means.
    bands = fig.axes[1].get_legend()
    assert bands.get_title().get_text() == "flat: $|f'| < 0.01$"
    assert [t.get_text() for t in bands.get_texts()] == ["relu", "tanh"]


def test_training_dashboard_one_row_per_run():
    X, y = data.moons(60, noise=0.1, seed=0)
    relu = nn.MLP([2, 5, 4, 1], activation="relu", output="sigmoid", seed=0)
    runs = {"run a": relu.fit(X, y, epochs=8, lr=0.1, X_val=X, y_val=y),
            "run b": relu.copy().fit(X, y, epochs=5, lr=0.1)}  # no validation set
    fig = plots.training_dashboard(runs)
    assert len(fig.axes) == 8
    loss_a, grad_a, units_a, ratio_a, loss_b = fig.axes[:5]
    ratio_b = fig.axes[7]
    assert loss_a.get_title() == "run a: loss" and len(loss_a.get_lines()) == 2
    assert len(loss_b.get_lines()) == 1
    # One legend per row, right of the row (no legend on a panel): the loss curves, the
    # layers, what dead and saturated count, and what the shaded band is.
    assert [ax.get_legend() is not None for ax in fig.axes] == [False, False, False, True] * 2
    row_a = [t.get_text() for t in ratio_a.get_legend().get_texts()]
    assert row_a[:2] == ["training loss", "validation loss"]
    assert row_a[2:5] == relu.layer_names()
    assert row_a[5].startswith("dead: share of units") and "(sample, unit) entries" in row_a[6]
    assert row_a[7].startswith("SGD rule of thumb ~1e-3")
    assert "validation loss" not in [t.get_text() for t in ratio_b.get_legend().get_texts()]
    renderer = _renderer(fig)
    assert ratio_a.get_legend().get_window_extent(renderer).x0 > ratio_a.bbox.x1
    assert len(units_a.get_lines()) == 2 * 2  # dead and saturated of the 2 hidden layers
    # The axis says "share"; the legend (above) says of what: units, or (sample, unit) entries.
    assert units_a.get_ylabel() == "share"
    markers = [line.get_marker() for line in grad_a.get_lines()]
    assert len(set(markers)) == 3  # one marker per layer: overlapping lines stay apart
    assert ratio_a.get_yscale() == "log" and ratio_a.get_xlim() == (0, 8)
    np.testing.assert_allclose(grad_a.get_lines()[0].get_ydata(), runs["run a"].grad_norm[:, 0])
    renamed = plots.training_dashboard({"a": runs["run a"]}, layer_names=["l1", "l2", "out"])
    assert [t.get_text() for t in renamed.axes[3].get_legend().get_texts()][2:5] == [
        "l1", "l2", "out"]
    with pytest.raises(ValueError, match="2 layer names for a History of 3 layers"):
        plots.training_dashboard(runs, layer_names=["l1", "l2"])


# ----------------------------------------------------------------------------- chapter 1


def test_folded_plane_shows_both_spaces():
    X, y = data.xor(80, seed=0)
    net = nn.MLP([2, 2, 1], activation="tanh", output="sigmoid", seed=3)
    net.fit(X, y, epochs=50, lr=0.05, optimizer="adam")
    H = np.tanh(X @ net.weights[0] + net.biases[0])
    fig = plots.plot_folded_plane(net, X, y, H)
    ax_in, ax_h = _visible_axes(fig)
    cuts = [line for line in ax_in.lines if line.get_linestyle() == "--"]
    assert [line.get_label() for line in cuts] == ["unit 1: $h_1 = 0$", "unit 2: $h_2 = 0$"]
    # They lie on the black boundary (a contour, zorder 2): drawn wide and above it.
    assert all(line.get_zorder() > 2 and line.get_linewidth() >= 2.5 for line in cuts)
    # The right panel shows the data at H, one scatter per class, and the output's line.
    offsets = np.vstack([c.get_offsets() for c in ax_h.collections])
    np.testing.assert_allclose(np.sort(offsets, axis=0), np.sort(H, axis=0))
    (v1, v2), c = net.weights[1][:, 0], net.biases[1][0]
    (line,) = ax_h.lines
    h1, h2 = line.get_data()
    np.testing.assert_allclose(v1 * h1 + v2 * h2 + c, 0, atol=1e-12)
    with pytest.raises(ValueError, match=r"\[2, 2, 1\] network"):
        plots.plot_folded_plane(net, X, y, H[:, :1])


def test_boundary_grid_one_row_per_activation():
    sets = {"xor": data.xor(60, seed=0), "moons": data.moons(60, seed=0)}
    models = {}
    for act in ("tanh", "relu"):
        for name in sets:
            models[act, name] = nn.MLP([2, 4, 1], activation=act, output="sigmoid", seed=0)
    fig = plots.plot_boundary_grid(models, sets)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title().split(":")[0] for ax in panels] == [
        "tanh on xor", "tanh on moons", "relu on xor", "relu on moons"]
    # The titles' accuracy is the model's own on its data.
    acc = np.mean(models["relu", "moons"].predict(sets["moons"][0]) == sets["moons"][1])
    assert panels[3].get_title().endswith(f"{acc:.0%}")
    # One legend for the classes, in the margin right of the grid: it covers no panel.
    assert all(ax.get_legend() is None for ax in panels) and len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["class 0", "class 1"]
    assert [ax.get_xlabel() for ax in panels] == ["", "", "$x_1$", "$x_1$"]
    assert len(fig.axes) == 5                       # four panels and one colour bar
    given = plots.plot_boundary_grid(models, sets, accuracy={"tanh": {"xor": 0.5, "moons": 1},
                                                              "relu": {"xor": 1, "moons": 1}})
    assert given.axes[0].get_title() == "tanh on xor: 50%"
    del models["relu", "xor"]
    with pytest.raises(ValueError, match=r"missing \[\('relu', 'xor'\)\]"):
        plots.plot_boundary_grid(models, sets)


def test_validation_curves_one_panel_per_task():
    curves = {("circles", "relu"): np.linspace(0.5, 0.95, 11),
              ("circles", "tanh"): np.linspace(0.33, 0.9, 11),
              ("spirals", "relu"): np.linspace(0.4, 1.0, 11)}
    fig = plots.plot_validation_curves(curves, target=0.9)
    left, right = fig.axes
    assert [left.get_title(), right.get_title()] == ["circles: validation accuracy",
                                                    "spirals: validation accuracy"]
    assert [line.get_label() for line in left.lines[:2]] == ["relu", "tanh"]
    np.testing.assert_array_equal(left.lines[1].get_ydata(), curves["circles", "tanh"])
    # Every curve fits: the axis starts at a tenth below the lowest point (0.33 -> 0.3).
    assert left.get_ylim()[0] == pytest.approx(0.3) and right.get_ylim() == left.get_ylim()
    (target,) = [line for line in right.lines if list(line.get_ydata()) == [0.9, 0.9]]
    # Thin, solid and grey: never taken for a dotted or dashed activation's line.
    assert target.get_label() == "target 90%" and target.get_color() == "0.55"
    assert target.get_linestyle() == "-" and target.get_linewidth() < 1
    # Each activation in its course colour, whatever its place in the order.
    assert [line.get_color() for line in left.lines[:2]] == ["#009E73", "#E69F00"]
    assert right.lines[0].get_color() == "#009E73"
    # Chapter 5's eight activations: eight different colours, none of them the pale yellow.
    eight = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu"]
    fig = plots.plot_validation_curves({("t", a): np.full(5, 0.8) for a in eight})
    colours = [line.get_color() for line in fig.axes[0].lines]
    assert len(set(colours)) == 8 and "#F0E442" not in colours
    legend = fig.axes[-1].get_legend()   # right of the panels, not on a curve
    assert legend.get_window_extent(_renderer(fig)).x0 > fig.axes[-1].bbox.x1
    with pytest.raises(ValueError, match="at least one curve"):
        plots.plot_validation_curves({})


def test_1d_fits_one_panel_per_width():
    X, y = data.sine(40, seed=0)
    models = {}
    for act in ("tanh", "relu"):
        for h in (2, 4):
            models[act, h] = nn.MLP([1, h, 1], activation=act, seed=0)
    kinks = {h: np.array([-1.0, 0.5, 9.0]) for h in (2, 4)}    # 9.0 lies outside the view
    fig = plots.plot_1d_fits(X, y, models, [2, 4], kinks=kinks)
    axes = _visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["2 hidden units", "4 hidden units"]
    for ax, h in zip(axes, (2, 4)):
        relu = _line(ax, "fit:relu")
        np.testing.assert_allclose(relu.get_ydata(),
                                   models["relu", h].predict(relu.get_xdata()[:, None]))
        assert _line(ax, "fit:tanh").get_label().startswith("tanh (MSE ")
        np.testing.assert_allclose(_line(ax, "kinks").get_xdata(), [-1.0, 0.5])


def test_plot_finite_difference_errors_and_seed_comparison():
    hs = np.logspace(-8, -1, 8)
    fig = plots.plot_finite_difference_errors(hs, {"one-sided": hs, "central": hs ** 2},
                                              title="errors")
    ax = fig.axes[0]
    assert [ln.get_gid() for ln in ax.lines] == ["fd:one-sided", "fd:central", "mark_h"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), hs ** 2)
    assert ax.get_xscale() == ax.get_yscale() == "log" and ax.get_legend() is not None
    assert [t.get_text() for t in ax.texts] == ["$h = 10^{-5}$"]
    table = {"moons": {"relu": [0.9, 0.8, 1.0], "tanh": [0.85, 0.95, 0.9]},
             "spirals": {"relu": [0.99, 0.97, 0.98], "tanh": [0.8, 0.9, 1.0]}}
    fig = plots.plot_seed_comparison(table)
    assert [a.get_title() for a in fig.axes] == ["moons", "spirals"]
    bars = [p for p in fig.axes[1].patches if p.get_gid() == "mean:tanh"]
    assert len(bars) == 1 and bars[0].get_height() == pytest.approx(0.9)
    dots = [ln for ln in fig.axes[0].lines if ln.get_gid() == "seeds:relu"]
    np.testing.assert_allclose(dots[0].get_ydata(), [0.9, 0.8, 1.0])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["relu", "tanh"]
    # The bars start at 0: their heights compare honestly.
    assert fig.axes[0].get_ylim()[0] == pytest.approx(0.0)
    # Seed k is joined across the activations by one thin line, at the same offset each time.
    seed0 = _line(fig.axes[0], "seed:0")
    np.testing.assert_allclose(seed0.get_ydata(), [0.9, 0.85])
    np.testing.assert_allclose(np.diff(seed0.get_xdata()), [1.0])
    assert {ln.get_gid() for ln in fig.axes[0].lines} >= {"seed:0", "seed:1", "seed:2"}
    assert fig.axes[1].get_legend() is not None


def test_seed_comparison_lowers_the_axis_for_a_run_below_it():
    fig = plots.plot_seed_comparison({"moons": {"relu": [0.9, 0.6], "mine": [0.5, 0.95]}},
                                     ylim=(0.75, 1.01))
    low, high = fig.axes[0].get_ylim()
    assert low == pytest.approx(0.48) and high == pytest.approx(1.01)  # the 0.5 dot is shown


# ---------------------------------------------------------------- chapter 4


def test_temperature_sweep_draws_a_bar_per_class_and_temperature_and_the_curves():
    z, temps = np.array([2.0, 1.0, 0.1]), [0.1, 1.0, 10.0]
    T_grid = np.geomspace(0.1, 10, 7)
    P_bars = np.exp(z / np.array(temps)[:, None])
    P_bars /= P_bars.sum(axis=1, keepdims=True)
    P_curve = np.exp(z / T_grid[:, None])
    P_curve /= P_curve.sum(axis=1, keepdims=True)
    fig = plots.plot_temperature_sweep(temps, P_bars, T_grid, P_curve, logits=z)
    ax_bars, ax_curve = fig.axes
    assert len(ax_bars.patches) == 3 * 3
    np.testing.assert_allclose(sorted(p.get_height() for p in ax_bars.patches),
                               np.sort(P_bars.ravel()))
    for i in range(3):
        np.testing.assert_allclose(_line(ax_curve, f"p:{i}").get_ydata(), P_curve[:, i])
    assert ax_curve.get_xscale() == "log"
    assert [t.get_text() for t in ax_bars.get_legend().get_texts()][0] == "class 0 ($z_0=2$)"
    with pytest.raises(ValueError, match="P_curve of shape"):
        plots.plot_temperature_sweep(temps, P_bars, T_grid, P_curve[:3])


def test_probability_maps_one_map_per_class_with_its_samples():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=(5, 6))
    X, y = rng.uniform(-1, 1, size=(12, 2)), np.arange(12) % 3
    fig = plots.plot_probability_maps(P, (-1, 1, -1, 1), X, y)
    maps = [ax for ax in fig.axes if ax.images]
    assert len(maps) == 3 and len(fig.axes) == 6  # three maps, three colour bars
    for j, ax in enumerate(maps):
        np.testing.assert_allclose(ax.images[0].get_array(), P[..., j])
        np.testing.assert_allclose(ax.collections[-1].get_offsets(), X[y == j])
        assert ax.get_title() == f"$p_{j}(x)$: class {j}"
    with pytest.raises(ValueError, match="rows, cols, k"):
        plots.plot_probability_maps(P[..., 0], (-1, 1, -1, 1), X, y)


def test_tag_counts_data_panel_then_one_panel_per_model():
    X, n_true = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([3, 1])
    grid = np.full((4, 4), 1.0)
    grid[0, 0] = np.nan
    centres = np.array([[0.0, 0.5], [-0.4, -0.3], [0.4, -0.3]])
    fig = plots.plot_tag_counts(X, n_true, {"A": grid, "B": grid * 0}, centres, 1.0)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["Data: number of true tags", "A", "B"]
    assert all(len(ax.lines) == 3 for ax in panels)  # one circle per disc
    np.testing.assert_array_equal(panels[1].images[0].get_array().filled(np.nan), grid)
    assert len(fig.axes) == 4  # and one colour bar for the counts


def test_weight_paths_one_panel_per_input_kind_with_its_path():
    paths = {"sigmoid": np.array([[-1.0, 1.0], [0.0, 0.0]]),
             "tanh": np.array([[-1.0, 1.0], [0.5, -0.5], [1.0, -1.0]])}
    inputs = {"sigmoid": np.random.default_rng(0).uniform(0, 1, (20, 2)),
              "tanh": np.random.default_rng(1).uniform(-1, 1, (20, 2))}
    fig = plots.plot_weight_paths(paths, inputs, (-1, 1), (1, -1))
    axes = _visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["inputs from sigmoid", "inputs from tanh"]
    assert len(_line(axes[1], "path:tanh").get_xdata()) == 3
    assert axes[0].collections, "loss contours missing"
    # The contours fill the panels: one legend for the figure, below them.
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "SGD path", "start", r"optimum $w^\star$"]
    # Every title, label and the legend inside the figure (chapter 2's titles were cut off).
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for artist in [ax.title for ax in axes] + [ax.xaxis.label for ax in axes] + fig.legends:
        box = artist.get_window_extent(renderer)
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, artist


def test_training_curves_one_line_per_run_and_the_reference(trained):
    _, history, _, _ = trained
    fig = plots.plot_training_curves({"a": history, "b": history}, reference_loss=0.69,
                                     reference_label="constant")
    loss_ax, acc_ax = _visible_axes(fig)
    assert {line.get_gid() for line in loss_ax.lines} == {"loss:a", "loss:b", "reference"}
    assert {line.get_gid() for line in acc_ax.lines} == {"accuracy:a", "accuracy:b"}
    assert np.array_equal(_line(loss_ax, "loss:a").get_ydata(), history.loss)
    assert loss_ax.get_ylim()[1] >= max(history.loss.max(), 0.69)


def test_histogram_stacks_one_histogram_and_label_per_hidden_layer():
    X, _ = data.moons(60, seed=0)
    nets = {"big": nn.MLP([2, 8, 8, 8, 1], activation="tanh", output="sigmoid", init="normal",
                          init_scale=3.0, seed=0),
            "small": nn.MLP([2, 8, 8, 8, 1], activation="tanh", output="sigmoid", seed=0)}
    fig = plots.plot_histogram_stacks(nets, X, title="stacks")
    axes = _visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["tanh, big", "tanh, small"]
    for ax in axes:
        hists = [p for p in ax.patches if (p.get_gid() or "").startswith("hist:")]
        assert len(hists) == 3
    fig.canvas.draw()  # the shared y axis labels its ticks on the first panel only
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["hidden 3", "hidden 2",
                                                                 "hidden 1"]
    big_labels = [t.get_text() for t in axes[0].texts if (t.get_gid() or "").startswith("sat")]
    assert len(big_labels) == 3 and big_labels != ["0%"] * 3   # the large weights saturate
    assert fig.get_suptitle() == "stacks"


def test_one_neuron_runs_one_line_and_marker_per_run():
    it = np.arange(50)
    runs = {"sigmoid": (0.75 + 0.1 * np.exp(-it / 30), 1e-3 * np.exp(-it / 30)),
            "relu": (0.75 + 0.8 * np.exp(-it / 5), 0.5 * np.exp(-it / 5))}
    fig = plots.plot_one_neuron_runs(runs, target=0.75, reached={"sigmoid": 40, "relu": None})
    out_ax, loss_ax = _visible_axes(fig)
    assert np.array_equal(_line(out_ax, "output:relu").get_ydata(), runs["relu"][0])
    # Iteration t is drawn at t (chapter 3 counts from 0): the axis is linear up to 1.
    assert np.array_equal(_line(loss_ax, "loss:sigmoid").get_xdata(), it)
    assert _line(loss_ax, "reached:sigmoid").get_xdata()[0] == 40
    assert loss_ax.get_ylabel() == "squared error $L$ on the batch"
    assert [line.get_gid() for line in loss_ax.lines].count("reached:sigmoid") == 1
    assert "reached:relu" not in {line.get_gid() for line in out_ax.lines}  # never on target
    assert [t.get_text() for t in out_ax.texts] == ["on target\nafter 40"]
    assert _line(out_ax, "target").get_ydata()[0] == 0.75
    assert out_ax.get_xscale() == loss_ax.get_xscale() == "symlog"
    assert loss_ax.get_yscale() == "log" and out_ax.get_xlim()[0] == 0


def test_shift_windows_shades_where_the_naive_formula_is_nan():
    shifts = np.linspace(0.0, 10.0, 11)
    naive = np.where(shifts > 6, np.nan, 0.7)
    stable = np.full_like(shifts, 0.7)
    fig = plots.plot_shift_windows([("A", shifts, naive, stable), ("B", shifts, stable, stable)],
                                   ylabel="$p$")
    ax_a, ax_b = fig.axes
    assert [ax_a.get_title(), ax_b.get_title()] == ["A", "B"]
    np.testing.assert_allclose(_line(ax_a, "stable").get_ydata(), stable)
    (span,) = ax_a.patches  # the NaN region, from the first NaN shift to the last
    assert span.get_x() == pytest.approx(7.0) and span.get_width() == pytest.approx(3.0)
    assert not ax_b.patches  # no NaN, no shading
    assert ax_a.get_ylabel() == "$p$"


def test_confident_mistake_one_curve_per_loss_in_each_panel():
    margins = np.linspace(-2, 6, 9)
    norms = {"cross-entropy": np.linspace(0.8, 1.4, 9), "MSE": np.geomspace(0.2, 1e-3, 9)}
    traces = {"cross-entropy": np.linspace(0, 1, 21), "MSE": np.zeros(21)}
    fig = plots.plot_confident_mistake(margins, norms, traces, lr=0.5)
    ax_g, ax_t = fig.axes
    assert ax_g.get_yscale() == "log"
    np.testing.assert_allclose(_line(ax_g, "grad:MSE").get_ydata(), norms["MSE"])
    np.testing.assert_allclose(_line(ax_t, "p:cross-entropy").get_ydata(), traces["cross-entropy"])
    assert "0.5" in ax_t.get_xlabel()
    assert [t.get_text() for t in ax_t.get_legend().get_texts()] == ["cross-entropy", "MSE"]


def test_unit_activity_one_image_per_layer_on_one_scale():
    y = np.array([1, 0, 1, 0, 0])
    layers = [np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.5, 0.0]]),
              np.array([[4.0, 0.0, 0.0], [0.0, 0.0, 1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 2.0],
                        [0.0, 0.0, 0.5]])]
    fig = plots.plot_unit_activity(layers, y)
    axes = [ax for ax in _visible_axes(fig) if ax.images]
    assert [ax.get_title() for ax in axes] == ["Hidden layer 1: sparsity 60%",
                                               "Hidden layer 2: sparsity 67%"]
    first = axes[0].images[0]
    assert first.get_array().shape == (2, 5)                      # units x samples
    row = first.get_array()[0]
    assert np.array_equal(row.filled(-1.0), [2.0, 1.0, 0.5, -1.0, -1.0])  # class 0 first
    assert row.mask.tolist() == [False, False, False, True, True]  # exact zeros: own colour
    assert all(ax.images[0].get_clim() == (0.5, 4.0) for ax in axes)  # one shared log scale
    assert all(isinstance(ax.images[0].norm, LogNorm) for ax in axes)
    assert _line(axes[0], "classes").get_xdata()[0] == 2.5        # three class-0 samples


def test_shift_windows_one_y_range_per_panel():
    shifts = np.linspace(0.0, 10.0, 11)
    naive = np.where(shifts > 6, 0.0, 0.7)
    stable = np.full_like(shifts, 0.7)
    fig = plots.plot_shift_windows([("A", shifts, stable, stable), ("B", shifts, naive, stable)],
                                   ylabel="$p$", ylim=[(0.5, 1.0), (-0.05, 1.0)])
    ax_a, ax_b = fig.axes
    assert ax_a.get_ylim() == pytest.approx((0.5, 1.0))
    assert ax_b.get_ylim() == pytest.approx((-0.05, 1.0))  # the drop to 0 stays in view


def test_overlapping_flat_bands_keep_their_own_colours():
    """Chapter 2: sigmoid's and tanh's flat bands overlap; each is hatched in its own colour
    and direction, so every legend swatch's colour and hatch is one the figure shows."""
    from matplotlib.colors import to_rgba

    fig = plots.plot_activations(["sigmoid", "tanh"], x_range=(-8, 8))
    bands = [p for p in fig.axes[0].patches if p.get_gid() == "saturated"]
    drawn = {(p.get_hatch(), to_rgba(p.get_hatchcolor())) for p in bands}
    assert len({h for h, _ in drawn}) == 2  # two hatch directions
    swatches = fig.axes[1].get_legend().legend_handles
    assert len(swatches) == 2
    for swatch, curve in zip(swatches, ["#0072B2", "#E69F00"]):  # sigmoid blue, tanh orange
        # The swatch is drawn stronger than the large band, in the band's colour and hatch.
        assert (swatch.get_hatch(), to_rgba(swatch.get_hatchcolor(), 0.45)) in drawn
        assert to_rgba(swatch.get_hatchcolor())[:3] == to_rgba(curve)[:3]
    # linear has no flat band: no swatch for it
    fig = plots.plot_activations(["linear", "relu"])
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["relu"]


def test_histogram_stacks_colour():
    X, y = data.moons(40, noise=0.1, seed=0)
    net = nn.MLP([2, 4, 4, 1], activation="tanh", output="sigmoid", seed=0)
    from matplotlib.colors import to_rgb

    fig = plots.plot_histogram_stacks({"a": net}, X, color=plots.OKABE_ITO[1])
    fills = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("hist:")]
    assert len(fills) == 2 and all(to_rgb(p.get_facecolor()) == to_rgb(plots.OKABE_ITO[1])
                                   for p in fills)
    # By default, the networks' activation's colour: tanh's orange.
    fig = plots.plot_histogram_stacks({"a": net}, X)
    fills = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("hist:")]
    assert all(to_rgb(p.get_facecolor()) == to_rgb("#E69F00") for p in fills)


def test_per_layer_figures_refuse_a_history_without_diagnostics():
    X, y = data.moons(60, seed=0)
    bare = nn.MLP([2, 4, 4, 1], activation="relu", output="sigmoid", seed=0).fit(
        X, y, epochs=5, diagnostics=False)
    draws = {
        "training_dashboard": lambda: plots.training_dashboard({"run": bare}),
        "plot_dead_units": lambda: plots.plot_dead_units(bare),
        "plot_weight_distributions": lambda: plots.plot_weight_distributions(bare),
        "plot_gradient_norms": lambda: plots.plot_gradient_norms(bare),
    }
    for name, draw in draws.items():
        with pytest.raises(ValueError, match=rf"{name}.*diagnostics=False.*train again"):
            draw()
    assert isinstance(plots.plot_history(bare), Figure)   # loss and accuracy are recorded


# ---------------------------------------------------------------- one palette (issue 25)


# Colour distance: CIELAB (D65) Delta E 1976, and colour-vision deficiencies simulated with
# Machado, Oliveira & Fernandes (2009), severity 1, on linear RGB.
_CVD = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def _lab(colour, vision=None):
    from matplotlib.colors import to_rgb

    c = np.asarray(to_rgb(colour))
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    if vision is not None:
        lin = np.clip(_CVD[vision] @ lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _delta_e(a, b, vision=None) -> float:
    return float(np.linalg.norm(_lab(a, vision) - _lab(b, vision)))


def _closest_pair(colours, visions=(None, *_CVD)) -> float:
    """The smallest distance between two of ``colours``, for normal vision and each CVD."""
    return min(_delta_e(a, b, v) for i, a in enumerate(colours) for b in colours[i + 1:]
               for v in visions)


def test_delta_e_matches_known_values():
    assert _delta_e("#000000", "#FFFFFF") == pytest.approx(100, abs=0.1)
    # red and green: far apart for normal vision, close for a deuteranope
    assert _delta_e("#FF0000", "#00AA00") > 100 > 30 > _delta_e("#D55E00", "#999933",
                                                                "deuteranopia")


def test_class_layer_and_run_colours_are_disjoint_from_the_activation_colours():
    """Issue 25: each activation, layer, class and run has one colour everywhere; newcomers
    read the blue class 0 as sigmoid and the green class 2 as ReLU. Every class, layer and
    run colour is now at least Delta E 20 from every activation colour (about the distance of
    two named colours), and each set's own colours stay apart for the three colour-vision
    deficiencies."""
    acts = list(plots.ACTIVATION_COLOURS.values())
    layers = {plots.layer_colour(j, n) for n in range(2, 7) for j in range(n)}
    others = {"class": plots.class_colours(6), "run": plots.run_colours(4),
              "layer": sorted(layers)}
    for what, colours in others.items():
        for c in colours:
            nearest = min(acts, key=lambda a: _delta_e(c, a))
            assert _delta_e(c, nearest) >= 20, (what, c, nearest)
    # Classes from runs, too: a figure may show both (chapter 5's decision boundaries).
    assert min(_delta_e(c, r) for c in plots.class_colours(6) for r in plots.run_colours(4)) >= 20
    # Within each set, for every vision: the four classes a course figure shows at most, all
    # six a little less; the runs; and the layers of any network up to six weight layers.
    assert _closest_pair(plots.class_colours(4)) >= 15
    assert _closest_pair(plots.class_colours(6)) >= 12
    assert _closest_pair(plots.run_colours(4)) >= 20
    for n in range(2, 7):
        assert _closest_pair([plots.layer_colour(j, n) for j in range(n)]) >= 9
    # The activations' own palette: the eight chapter 5 compares in one panel stay apart
    # for normal vision (they also differ in dash pattern, see styles_for).
    assert _closest_pair(acts, visions=(None,)) >= 15


def test_counts_read_from_light_to_dark_for_every_vision():
    """Chapter 4's tag counts are ordered: 0 tags lightest (a blank), 3 darkest, each step a
    visible step in lightness for every colour vision (a reader took the dark "0" of the old
    run colours for the dark "3")."""
    colours = plots.count_colours(4)
    for vision in (None, *_CVD):
        lightness = [float(_lab(c, vision)[0]) for c in colours]
        assert all(a - b >= 15 for a, b in zip(lightness, lightness[1:])), (vision, lightness)
    assert _closest_pair(colours) >= 15
    fig = plots.plot_tag_counts(np.zeros((1, 2)), np.array([0]), {"A": np.zeros((2, 2))},
                                np.zeros((3, 2)), 1.0)
    assert [mcolors.to_hex(c) for c in fig.axes[1].images[0].cmap.colors] == colours


def test_every_class_figure_takes_the_class_palette(trained):
    """Decision surfaces, the folded plane, the classes' legend and the probability shading:
    class colours, none of them an activation's."""
    from matplotlib.colors import to_hex

    act_colours = {c.lower() for c in plots.ACTIVATION_COLOURS.values()}
    net, _, X, y = trained
    fig = plots.plot_decision_boundary(net, X, y)
    ax = fig.axes[0]
    faces = [to_hex(col.get_facecolor()[0]) for col in ax.collections
             if col.get_label().startswith("class")]
    assert faces == [c.lower() for c in plots.class_colours(2)]
    cmap = ax.images[0].get_cmap()  # each end nearer its class's colour than any activation's
    for end, c in ((0.0, plots.class_colours(2)[0]), (1.0, plots.class_colours(2)[1])):
        assert _delta_e(cmap(end), c) < min(_delta_e(cmap(end), a) for a in act_colours) / 2
    assert not set(faces) & act_colours
    # Things that are neither activations nor classes take the run palette.
    fig = plots.plot_softmax([2.0, 1.0, 0.1])
    bars = {to_hex(p.get_facecolor()) for ax in fig.axes for p in ax.patches}
    assert bars == {c.lower() for c in plots.run_colours(2)}
    curves = plots.plot_history(trained[1]).axes[0].lines
    assert not {to_hex(ln.get_color()) for ln in curves} & act_colours


def test_colour_gives_each_activation_one_fixed_colour():
    from helpers import activations

    assert plots.colour("relu") == "#009E73"
    assert plots.colour("sigmoid") == "#0072B2" and plots.colour("tanh") == "#E69F00"
    assert plots.colour("linear") == plots.colour("identity")          # an alias
    assert plots.colour(activations.get("elu", alpha=0.5)) == plots.colour("elu")
    assert plots.colour("relu, bias 0") == plots.colour("relu (PyTorch)") == "#009E73"
    builtins = [plots.colour(n) for n in activations.builtin_names()]
    assert len(set(builtins)) == len(builtins)                         # all different
    assert "#F0E442" not in builtins                                   # no pale yellow line


def test_a_registered_activation_gets_a_colour_of_its_own_that_stays():
    from helpers import activations

    activations.register("wiggle25", lambda x: x * np.tanh(x),
                         lambda x: np.tanh(x) + x * (1 - np.tanh(x) ** 2))
    try:
        first = plots.colour("wiggle25")
        assert plots.colour("wiggle25") == first == plots.colour(activations.get("wiggle25"))
        builtins = {plots.colour(n) for n in activations.builtin_names()}
        assert first not in builtins
        assert plots.colour("another run, not an activation") != first
    finally:
        activations.unregister("wiggle25")


def test_figures_colour_by_activation_not_by_position():
    from matplotlib.colors import to_hex

    for names in (["relu", "sigmoid"], ["sigmoid", "tanh", "relu"]):
        fig = plots.plot_activations(names)
        assert to_hex(_line(fig.axes[0], "f:relu").get_color()) == "#009e73"
    X, y = data.sine(30, seed=0)
    models = {(a, 2): nn.MLP([1, 2, 1], activation=a, seed=0) for a in ("tanh", "relu")}
    fig = plots.plot_1d_fits(X, y, models, [2])
    assert to_hex(_line(fig.axes[0], "fit:relu").get_color()) == "#009e73"
    table = {"moons": {"mine": [0.9, 0.8], "relu": [0.9, 0.95]}}
    fig = plots.plot_seed_comparison(table)
    assert to_hex(_line(fig.axes[0], "seeds:relu").get_color()) == "#009e73"


def test_a_layer_has_one_colour_in_every_per_layer_figure(trained):
    from matplotlib.colors import to_hex

    net, history, X, _ = trained      # 2-8-8-1: hidden 1, hidden 2, output
    first = to_hex(plots.layer_colour(0, 3))
    assert to_hex(_line(plots.plot_dead_units(history).axes[0], "dead:0").get_color()) == first
    assert to_hex(_line(plots.plot_gradient_norms({"a": history}).axes[0], "layer:0")
                  .get_color()) == first
    dashboard = plots.training_dashboard({"run": history})
    assert to_hex(dashboard.axes[1].lines[0].get_color()) == first
    hist = plots.plot_layer_histograms(net, X).axes[0].patches[0]
    assert to_hex(hist.get_facecolor()) == first
    # ordered: the first hidden layer darkest, the output lightest (a brown ramp)
    assert plots.layer_colour(0, 3) != plots.layer_colour(2, 3)


# --------------------------------------------------------------------- exact labels


def test_saturation_labels_say_what_is_counted(trained):
    net, history, X, _ = trained
    fig = plots.plot_layer_histograms(net, X)
    assert fig.axes[0].get_ylabel() == "count of (sample, unit) entries"
    notes = " ".join(t.get_text() for t in fig.texts)
    assert "(sample, unit) entries" in notes and "$|f'| < 0.01$" in notes
    units = plots.training_dashboard({"run": history}).axes[2]
    assert units.get_ylabel() == "share"
    stacks = plots.plot_histogram_stacks({"a": net}, X)
    assert any("|f'|<0.01" in t.get_text() for t in stacks.axes[0].texts)


def test_shift_windows_show_a_minimum_on_the_floor():
    # Chapter 4: the naive curve's lowest value is exactly the axis floor (0.5): lower it,
    # so the curve does not look cut off there.
    shifts = np.linspace(0, 10, 11)
    naive = np.where(shifts < 5, 0.5, 0.7)
    fig = plots.plot_shift_windows([("A", shifts, naive, np.full(11, 0.66))], ylabel="$p$",
                                   ylim=[(0.5, 1.08)])
    low, high = fig.axes[0].get_ylim()
    assert low < 0.5 - 0.02 and high == pytest.approx(1.08)


def test_softmax_bars_mark_every_tied_winner():
    fig = plots.plot_softmax([2.0, 2.0, 0.1])
    bars = fig.axes[1].containers[0]
    assert [bar.get_linewidth() == 2 for bar in bars] == [True, True, False]
    np.testing.assert_array_equal(plots.tied_top([0.4, 0.4, 0.2]), [0, 1])
    np.testing.assert_array_equal(plots.tied_top([0.5, 0.3, 0.2]), [0])


def test_network_colour_bar_sits_next_to_the_output_column():
    net = nn.MLP([2, 16, 16, 1], activation="tanh", output="sigmoid", seed=0)
    fig = plots.plot_network(net)
    ax, bar = fig.axes
    _renderer(fig)
    output_x = ax.transData.transform((3, 0))[0]
    node_radius = np.sqrt(140) / 2 * fig.dpi / 72
    gap = (bar.get_window_extent().x0 - output_x - node_radius) / fig.dpi
    assert 0.1 < gap < 0.5  # inches; 0.95 before the colour bar moved in


def test_the_package_keeps_every_name_of_the_old_module():
    # helpers/plots.py became the package helpers/plots/: everything notebooks, widgets,
    # tools and tests used as plots.X (private names and re-exported matplotlib names too)
    # must still be there. The list is the old module's namespace.
    old = ["CJKFontWarning", "CLASS_MARKERS", "DIVERGING_CMAP", "Figure", "FigureCanvasAgg",
           "FuncFormatter", "LAYER_MARKERS", "Line2D", "LineCollection", "Mapping",
           "NON_INTERACTIVE_BACKENDS", "NullFormatter", "OKABE_ITO", "Patch", "PercentFormatter",
           "SATURATION_THRESHOLD", "Sequence", "WIDE", "_CJK_FAMILIES", "_CJK_FILE_HINTS",
           "_QUANTILES", "_as_activation", "_check_ax_pair", "_cjk_state", "_derivative_peak",
           "_enable_notebook_display", "_finish", "_fixed_layout_figure", "_fixed_subplots",
           "_grad_norm_source", "_grid", "_grid_shape", "_history_array", "_layer_activation",
           "_layer_names", "_notebook_png", "_percent", "_probability_cmap",
           "_require_diagnostics", "_runs", "_show", "_shown_units", "activations",
           "backend_shows_course_figures", "cjk_font", "class_colours", "decision_surface",
           "diagnostics", "font_manager", "layer_colour", "layer_marks", "log_axis_labels",
           "math", "mcolors", "mpl", "np", "plot_1d_fits", "plot_activations",
           "plot_boundary_grid", "plot_confident_mistake", "plot_dead_units",
           "plot_decision_boundary", "plot_finite_difference_errors", "plot_folded_plane",
           "plot_gradient_norms", "plot_histogram_stacks", "plot_history",
           "plot_layer_histograms", "plot_network", "plot_neuron", "plot_one_neuron_runs",
           "plot_probability_maps", "plot_seed_comparison", "plot_shift_windows",
           "plot_softmax", "plot_tag_counts", "plot_temperature_sweep", "plot_training_curves",
           "plot_unit_activity", "plot_validation_curves", "plot_weight_distributions",
           "plot_weight_paths", "plot_weights", "saturation_spans", "style", "subplots",
           "training_dashboard", "warnings"]
    assert [name for name in old if not hasattr(plots, name)] == []
    assert set(plots.__all__) <= set(dir(plots))
    assert plots._cjk_state is plots.house._cjk_state  # one state, not a copy
