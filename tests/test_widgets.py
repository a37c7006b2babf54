"""helpers.widgets: drive every explorer headlessly and check what it draws."""

import warnings

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import widgets  # noqa: E402


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _frame_changes(explorer, control, value):
    """Set a control; return True when the image bytes changed, with exactly one new render."""
    before, renders = explorer.image.value, explorer.n_renders
    explorer.controls[control].value = value
    assert explorer.n_renders == renders + 1
    return explorer.image.value != before


def test_explorers_are_single_widgets():
    for make in (widgets.activation_explorer, widgets.neuron_explorer,
                 widgets.softmax_explorer):
        e = make()
        assert isinstance(e, ipywidgets.VBox)
        assert e.image.value[:8] == b"\x89PNG\r\n\x1a\n"
        assert e.controls and e.figure is not None


def _assert_derivative(line, expected):
    """``line`` draws ``expected`` wherever it is defined, broken once at the jump at 0: no
    vertical segment joins the two sides."""
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    keep = np.isfinite(y) & (x != 0)
    np.testing.assert_allclose(y[keep], expected(x[keep]))
    assert np.isnan(y).sum() == 1 and np.isnan(x).sum() == 1


def test_activation_explorer():
    e = widgets.activation_explorer(["sigmoid", "elu"])
    assert _frame_changes(e, "elu_alpha", 2.0)
    line = e.artists["f"]["elu"]
    x = line.get_xdata()
    np.testing.assert_allclose(line.get_ydata(), np.where(x > 0, x, 2.0 * np.expm1(x)))
    e.controls["activations"].value = ("leaky_relu",)
    assert _frame_changes(e, "leaky_alpha", 0.3)
    leaky = e.artists["df"]["leaky_relu"]
    _assert_derivative(leaky, lambda x: np.where(x > 0, 1.0, 0.3))
    assert not e.artists["f"]["sigmoid"].get_visible()
    assert _frame_changes(e, "derivative", False)
    assert not e.axes[1].get_visible()
    assert _frame_changes(e, "x_range", (-2.0, 3.0))
    assert e.axes[0].get_xlim() == (-2.0, 3.0)
    assert e.artists["f"]["leaky_relu"].get_xdata()[0] == -2.0
    e.controls["activations"].value = ()
    assert e.artists["empty"].get_visible()
    with pytest.raises(ValueError, match="unknown activation"):
        widgets.activation_explorer(["sigmoidd"])


def test_neuron_explorer():
    e = widgets.neuron_explorer("sigmoid")
    x = e.artists["neuron"].get_xdata()
    with e.hold_updates():
        e.controls["w"].value = 2.0
        e.controls["b"].value = -3.0
    y = e.artists["neuron"].get_ydata()
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-(2 * x - 3))))
    assert e.artists["centre"].get_xdata()[0] == pytest.approx(1.5)
    assert _frame_changes(e, "activation", "tanh")
    np.testing.assert_allclose(e.artists["reference"].get_ydata(), np.tanh(x))
    np.testing.assert_allclose(e.artists["neuron"].get_ydata(), np.tanh(2 * x - 3))
    assert _frame_changes(e, "w", 0.0)
    assert not e.artists["centre"].get_visible()
    with pytest.raises(ValueError, match="unknown activation"):
        widgets.neuron_explorer("reluu")
    with pytest.raises(TypeError, match="w must be a number"):
        widgets.neuron_explorer(w="big")


def test_softmax_explorer():
    e = widgets.softmax_explorer(4)
    assert len([k for k in e.controls if k.startswith("z")]) == 4
    with e.hold_updates():
        for i, v in enumerate([1.0, -2.0, 3.5, 0.0]):
            e.controls[f"z{i}"].value = v
    z = np.array([1.0, -2.0, 3.5, 0.0])
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(e.probabilities, p)
    assert _frame_changes(e, "temperature", 10.0)
    t = e.controls["temperature"].value
    pt = np.exp(z / t) / np.exp(z / t).sum()
    np.testing.assert_allclose(e.probabilities, pt, rtol=1e-9)
    assert "argmax</b> = class 2" in e.readout.value and "sum</b> = 1.000" in e.readout.value
    assert e.artists["prob_bars"][2].get_linewidth() == 2
    assert [b.get_height() for b in e.artists["logit_bars"]] == [1.0, -2.0, 3.5, 0.0]
    with pytest.raises(ValueError, match="n_classes must be from 2 to 10, got 0"):
        widgets.softmax_explorer(n_classes=0)
    with pytest.raises(TypeError, match="whole number"):
        widgets.softmax_explorer(n_classes=2.5)
    with pytest.raises(ValueError, match="temperature"):
        widgets.softmax_explorer(temperature=-1.0)


def test_gradient_flow_explorer():
    e = widgets.gradient_flow_explorer("tanh", depth=3, width=16)
    assert len(e.artists["norms"].get_ydata()) == 4
    assert _frame_changes(e, "depth", 8)
    norms = e.artists["norms"].get_ydata()
    assert len(norms) == 9
    # Recompute the first layer's gradient by hand for the same network and batch.
    net = e.net
    out = net.forward(e.X)
    assert out.shape == (len(e.X), 1)
    _, grads = net.loss_and_grads(e.X, e.y)
    assert norms[0] == pytest.approx(np.linalg.norm(grads[0][0]))
    assert sum(r.get_visible() for r in e.artists["ridges"]) == 8
    assert _frame_changes(e, "activation", "sigmoid")
    with e.hold_updates():
        e.controls["init"].value = "normal"
        e.controls["init_scale"].value = 1.0
    assert e.net.weights[1].std() == pytest.approx(1.0, rel=0.15)
    labels = [t.get_text() for t in e.artists["ridge_labels"] if t.get_visible()]
    assert all(label.startswith("sat ") for label in labels)
    assert _frame_changes(e, "width", 64)
    assert e.net.sizes == [2] + [64] * 8 + [1]
    with pytest.raises(ValueError, match="init"):
        widgets.gradient_flow_explorer(init="glorot")


def test_dead_relu_explorer():
    e = widgets.dead_relu_explorer("relu", lr=0.1, bias_init=0.0)
    calm = e.history.dead[-1, :-1].copy()
    assert _frame_changes(e, "bias_init", -3.0)
    dead = e.artists["dead"][0].get_ydata()
    np.testing.assert_allclose(dead, e.history.dead[:, 0])
    # With every hidden bias at -3, ReLUs of a He-initialised layer start mostly dead.
    assert dead[0] > calm[0]
    assert _frame_changes(e, "activation", "leaky_relu")
    assert np.all(e.history.dead[:, :-1] == 0)  # leaky units never output exactly 0
    assert _frame_changes(e, "lr", 3.0)
    assert "dead after training" in e.readout.value
    with pytest.raises(ValueError, match="expected one of"):
        widgets.dead_relu_explorer("tanh")


def test_playground_train_and_reset():
    e = widgets.playground("xor", epochs=40)
    first = e.image.value
    e.train()
    assert e.epoch == 40 and len(e.losses) == 41
    assert e.progress.value == 40
    assert e.losses[-1] < e.losses[0]
    np.testing.assert_allclose(e.artists["loss"].get_ydata(), e.losses)
    assert e.image.value != first
    e.controls["train"].click()
    assert e.epoch == 80
    e.controls["reset"].click()
    assert e.epoch == 0 and len(e.losses) == 1
    assert _frame_changes(e, "dataset", "spirals")
    assert e.net.sizes[-1] == 3 and e.net.output == "softmax"
    assert _frame_changes(e, "hidden_layers", 3)
    assert len(e.net.sizes) == 5
    e.controls["lr"].value = 0.1  # applies to the next Train; no redraw
    with pytest.raises(ValueError, match="unknown dataset 'sine'"):
        widgets.playground("sine")
    with pytest.raises(ValueError, match="unknown activation"):
        widgets.playground(activation="nope")


def _pixels(png: bytes) -> np.ndarray:
    import io

    import PIL.Image

    return np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize("make, moves", [
    (lambda: widgets.activation_explorer(["tanh", "elu"]),
     [("elu_alpha", 2.5), ("elu_alpha", 0.5), ("activations", ("sigmoid", "leaky_relu")),
      ("leaky_alpha", 0.3)]),
    # The derivative off and on again, a band that comes and goes: no legend left behind.
    (widgets.activation_explorer,
     [("derivative", False), ("activations", ("relu", "tanh")), ("derivative", True),
      ("leaky_alpha", 0.0), ("activations", ("leaky_relu",)), ("activations", ("sigmoid",)),
      ("derivative", False)]),
    (widgets.softmax_explorer, [("z0", 3.0), ("temperature", 0.3)]),
    (widgets.playground, [("width", 3), ("hidden_layers", 1)]),
    (widgets.dead_relu_explorer, [("bias_init", -1.0), ("activation", "elu"), ("lr", 5.0)]),
    (widgets.gradient_flow_explorer, [("init_scale", 0.5), ("init_scale", 2.0), ("depth", 3),
                                      ("activation", "relu"), ("width", 8)]),
    # Back to a depth and an activation seen before: the panels' kept pictures are pasted.
    (widgets.gradient_flow_explorer, [("depth", 3), ("depth", 6), ("activation", "sigmoid"),
                                      ("depth", 3), ("activation", "tanh"), ("depth", 6)]),
    (widgets.neuron_explorer, [("w", 3.0), ("activation", "relu"), ("b", -4.0)]),
])
def test_blitted_frames_match_a_full_redraw(make, moves):
    # Explorers that redraw only their moving artists over a cached background must show
    # the same picture as drawing the whole figure afresh.
    e = make()
    for control, value in moves:
        e.controls[control].value = value
        blitted = _pixels(e.image.value)
        # Afresh: no cached background and no kept pixels (a legend's pasted picture).
        kept, e._kept = e._kept, {}
        e.invalidate()
        e.render()
        full = _pixels(e.image.value)
        e._kept = kept  # back to the explorer's own state for the next move
        e.invalidate()
        assert blitted.shape == full.shape
        # Antialiased edges may differ by a few levels where layers are composited anew.
        differs = np.abs(blitted - full).max(axis=2) > 24
        assert differs.mean() < 0.002, (control, value, differs.mean())


def test_dead_relu_explorer_reports_divergence_without_warnings():
    # lr = 5 makes this ELU network diverge: the explorer must say so in words, with no
    # overflow warning and no "nan%" in its readout (warnings are errors in this module).
    e = widgets.dead_relu_explorer(activation="elu", lr=5.0)
    assert "diverged at epoch" in e.readout.value
    assert "nan" not in e.readout.value.lower()
    assert e.axes[1].get_title().startswith("Diverged at epoch")
    e.controls["lr"].value = 0.1
    assert "diverged" not in e.readout.value
    assert e.axes[1].get_title().startswith("After 40 epochs")


def test_activation_explorer_starts_at_the_registry_defaults():
    # One source of truth: the sliders start where activations.get(name) starts (they used
    # to start leaky_relu at alpha 0.1 while the registry's table says 0.01).
    from helpers import activations

    e = widgets.activation_explorer(["leaky_relu", "elu"])
    assert e.controls["leaky_alpha"].value == activations.get("leaky_relu").params["alpha"] == 0.01
    assert e.controls["elu_alpha"].value == activations.get("elu").params["alpha"]
    _assert_derivative(e.artists["df"]["leaky_relu"], lambda x: np.where(x > 0, 1.0, 0.01))
    assert [a.label for a in e.current()] == [activations.get("leaky_relu").label,
                                              activations.get("elu").label]
    # The shading follows |f'| < 0.01: none for leaky_relu at 0.01, ReLU's x < 0 side shaded.
    def shaded():
        return [s for s in e.artists["spans"] if s.get_visible()]

    e.controls["activations"].value = ("leaky_relu",)
    assert shaded() == []
    e.controls["activations"].value = ("relu",)
    assert len(shaded()) == 2  # x < 0, on the f and f' panels
    assert all(s.get_x() == -6.0 and s.get_x() + s.get_width() == pytest.approx(0, abs=0.05)
               for s in shaded())


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_playground_clicks_continue_the_optimizer(optimizer):
    # Two Train clicks of 30 epochs give the loss curve of one 60-epoch run: the optimizer's
    # state (Adam's moments, momentum's velocity) is kept between clicks, so no blip.
    e = widgets.playground("moons", activation="tanh", epochs=30, lr=0.03)
    e.controls["optimizer"].value = optimizer
    reference = e.net.copy()
    e.controls["train"].click()
    e.controls["train"].click()
    h = reference.fit(e.X, e.y, epochs=60, lr=0.03, optimizer=optimizer)
    np.testing.assert_allclose(e.losses, h.loss, rtol=1e-12)
    # Reset starts a new network with a new optimizer: the next click is a first click again.
    e.controls["reset"].click()
    e.controls["train"].click()
    np.testing.assert_allclose(e.losses, h.loss[:31], rtol=1e-12)


def test_playground_prompts_of_chapter_5_hold():
    # Chapter 5's "try it" list, with the playground as its cell creates it.
    def chapter_5(**changes):
        e = widgets.playground(dataset="spirals", activation="relu", hidden_layers=2, width=8,
                               lr=0.03)
        for name, value in changes.items():
            e.controls[name].value = value
        return e

    # "A run C of your own": sgd at the top of the learning-rate slider, 3.16.
    e = chapter_5(optimizer="sgd")
    e.controls["lr"].value = 10 ** e.controls["lr"].max
    assert e.controls["lr"].value == pytest.approx(3.16, abs=0.005)
    e.controls["train"].click()
    assert e.losses[-1] == pytest.approx(np.log(3), abs=0.005)
    e.net.forward(e.X)
    assert np.all(e.net.cache["a"][2] == 0)  # every unit of the second hidden layer is dead
    before = e.losses[-1]
    e.controls["train"].click()
    assert e.losses[-1] == pytest.approx(before, abs=1e-3)  # another click does not move it
    # "Make it under-fit": 1 hidden layer of 2 units, and identity with 2 layers of 8.
    for changes, floor in (({"hidden_layers": 1, "width": 2}, 0.8), ({"activation": "identity"},
                                                                      0.7)):
        e = chapter_5(**changes)
        for _ in range(5):
            e.controls["train"].click()
        assert min(e.losses[-1], e.val_losses[-1]) > floor  # both stay high
        assert abs(e.losses[-1] - e.val_losses[-1]) < 0.05  # and close together
        assert abs(e.losses[-1] - e.losses[-201]) < 0.01  # the last click changed nothing


def test_gradient_flow_pastes_a_panel_seen_before_instead_of_drawing_it():
    e = widgets.gradient_flow_explorer("tanh", depth=6, width=16)
    drawn = []
    for ax in e.axes:
        original = ax.draw
        ax.draw = lambda renderer, ax=ax, original=original: (drawn.append(ax), original(renderer))
    e.controls["depth"].value = 3  # new axes for both panels: both drawn
    assert set(drawn) == set(e.axes)
    drawn.clear()
    e.controls["depth"].value = 6  # the start's axes: pasted
    e.controls["depth"].value = 3  # drawn a moment ago: pasted
    assert drawn == []
    assert len(e.artists["norms"].get_ydata()) == 4  # and the curve is the new network's


def test_softmax_explorer_names_a_tie():
    e = widgets.softmax_explorer(3, logits=[2.0, 1.0, 0.1])
    assert "argmax</b> = class 0" in e.readout.value
    e.controls["z1"].value = 2.0
    assert "a tie between classes 0 and 1" in e.readout.value
    assert "class 0 (" not in e.readout.value
    bars = e.artists["prob_bars"]
    assert [b.get_linewidth() for b in bars] == [2, 2, 0]  # both tied bars outlined
    e.controls["z2"].value = 2.0
    assert "a tie between classes 0, 1 and 2" in e.readout.value


def test_explorers_colour_by_activation_not_by_position():
    from matplotlib.colors import to_hex

    e = widgets.activation_explorer(["sigmoid", "tanh", "relu"])
    relu_first = to_hex(e.artists["f"]["relu"].get_color())
    e.controls["activations"].value = ("relu",)  # relu now first in the selection
    assert to_hex(e.artists["f"]["relu"].get_color()) == relu_first == "#009e73"
    n = widgets.neuron_explorer("relu")
    assert to_hex(n.artists["neuron"].get_color()) == "#009e73"
    n.controls["activation"].value = "tanh"
    assert to_hex(n.artists["neuron"].get_color()) == "#e69f00"


def test_gradient_flow_line_takes_the_activation_colour_and_layers_the_layer_ramp():
    """The gradient-norm line is the activation's colour (it was sigmoid's blue for every
    activation); the histograms take the layer ramp, which no activation shares."""
    from matplotlib.colors import to_hex

    from helpers import plots

    e = widgets.gradient_flow_explorer("relu", depth=3, width=8)
    assert to_hex(e.artists["norms"].get_color()) == plots.colour("relu").lower()
    e.controls["activation"].value = "tanh"
    assert to_hex(e.artists["norms"].get_color()) == plots.colour("tanh").lower()
    ridges = [to_hex(r.get_facecolor()) for r in e.artists["ridges"] if r.get_visible()]
    assert ridges == [to_hex(plots.layer_colour(j, 4)) for j in range(3)]
    assert not set(ridges) & {c.lower() for c in plots.ACTIVATION_COLOURS.values()}


def test_activation_explorer_hatches_each_activation_its_own_way():
    """An activation's band keeps its hatch whatever else is selected (it used to take the
    k-th hatch of the selection), and the legend swatch is drawn stronger than the band."""
    from helpers import plots

    e = widgets.activation_explorer(["sigmoid", "tanh", "relu"])

    def hatch_of(name):
        (patch,) = {p.get_hatch() for p in e._span_pool[name][0]}
        return patch

    together = hatch_of("relu")
    e.controls["activations"].value = ("relu",)
    assert hatch_of("relu") == together == plots.palette.hatch("relu")
    legend = e.artists["legends"][-1]
    (swatch,) = legend.get_patches()
    assert swatch.get_hatch() == together and swatch.get_edgecolor()[3] > 0


def test_neuron_explorer_centre_label_follows_its_line():
    """The "x = -b/w" label sat where it was first placed (x = 0) while the dotted line moved."""
    e = widgets.neuron_explorer("sigmoid")
    renderer = e.canvas.get_renderer()
    for w, b in ((2.0, 3.0), (-1.5, 4.0), (0.5, -2.0), (1.0, 5.0)):
        with e.hold_updates():
            e.controls["w"].value = w
            e.controls["b"].value = b
        line_x = e.ax.transData.transform((-b / w, 0))[0]
        box = e.artists["centre_label"].get_window_extent(renderer)
        assert e.artists["centre_label"].xy[0] == pytest.approx(-b / w)
        # beside the line: its near edge a few pixels from it, on either side
        assert min(abs(box.x0 - line_x), abs(box.x1 - line_x)) < 8, (w, b)


def test_explorers_compute_on_one_blas_thread_and_give_the_threads_back():
    calls = widgets._blas_thread_calls()
    if calls is None:
        pytest.skip("numpy's BLAS is not OpenBLAS here: nothing to set")
    get, _ = calls
    before = get()
    seen = []
    e = widgets.gradient_flow_explorer("tanh", depth=3)
    original = e.network
    e.network = lambda: (seen.append(get()), original())[1]
    e.controls["depth"].value = 4
    assert seen == [1]          # the update ran on one thread
    assert get() == before      # and the kernel has its threads back
