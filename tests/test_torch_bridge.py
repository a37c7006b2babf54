"""The torch bridge: a PyTorch model and a numpy MLP with the same weights give the same numbers.

The expected values come from ``helpers.nn`` and ``helpers.diagnostics`` (numpy, written out by
hand), the torch models are built here layer by layer with the weights copied in, so the bridge
is checked against an independent implementation, for sigmoid, tanh and ReLU (and the other
activations it maps). Without torch these tests skip, except under CI=true, where they fail.
Also here: chapter 7 executed in a kernel where ``import torch`` fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import data, diagnostics, nn, plots, torch_bridge

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "07_tensorboard_and_pytorch.ipynb"
IN_CI = os.environ.get("CI", "").lower() == "true"

try:
    import torch
except ImportError:  # pragma: no cover - exercised on machines without the extra
    torch = None
    if IN_CI:
        raise RuntimeError("torch is not installed: CI must install the torch extra "
                           '(pip install -e ".[torch]")') from None

needs_torch = pytest.mark.skipif(torch is None,
                                 reason="needs the torch extra: pip install -e '.[torch]'")
TOL = 1e-6  # the bar; the numbers agree far better (float64 on both sides)


@pytest.fixture(autouse=True)
def one_thread():
    if torch is not None:
        torch.set_num_threads(1)  # tiny networks: thread hand-offs only cost time


TORCH_ACT = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU"}


def hand_built(net: nn.MLP, output_module: bool):
    """A float64 nn.Sequential with net's weights, written out here (not by the bridge)."""
    layers = []
    for i, (W, b) in enumerate(zip(net.weights, net.biases)):
        lin = torch.nn.Linear(W.shape[0], W.shape[1], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(W.T))  # torch keeps (fan_out, fan_in)
            lin.bias.copy_(torch.tensor(b))
        layers.append(lin)
        if i < net.n_layers - 1:
            layers.append(getattr(torch.nn, TORCH_ACT[net.hidden_activations[i].name])())
    if output_module and net.output == "sigmoid":
        layers.append(torch.nn.Sigmoid())
    if output_module and net.output == "softmax":
        layers.append(torch.nn.Softmax(dim=1))
    return torch.nn.Sequential(*layers)


def moons():
    return data.moons(n=150, noise=0.2, seed=3)


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


# ------------------------------------------------------------------------------------------
# Statistics and gradients agree with helpers.nn / helpers.diagnostics
# ------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("output_module", [True, False], ids=["Sigmoid-module", "logits"])
def test_layer_stats_and_gradient_norms_match_numpy(activation, output_module):
    X, y = moons()
    # Unequal widths, a deep stack, and init scales that make sigmoid saturate and ReLU die
    # in places, so the saturated and dead fractions are not all zero.
    net = nn.MLP([2, 12, 7, 9, 1], activation=activation, output="sigmoid", init="normal",
                 init_scale=1.5, bias_init=-0.5, seed=5)
    view = torch_bridge.TorchNet(hand_built(net, output_module),
                                 output=None if output_module else "sigmoid")
    expected = diagnostics.layer_stats(net, X)
    got = view.stats(X, y)
    for key in ("mean", "std", "saturated", "dead"):
        np.testing.assert_allclose(got[key], expected[key], rtol=TOL, atol=1e-12, err_msg=key)
    net.forward(X)
    q = np.array([np.quantile(a, [0, .05, .25, .5, .75, .95, 1]) for a in net.cache["a"][1:]])
    np.testing.assert_allclose(got["quantiles"], q, rtol=TOL, atol=1e-12)
    norms = diagnostics.gradient_norms(net, X, y)
    assert rel(got["grad_norm"], norms) < TOL
    if activation == "relu":
        assert np.any(expected["dead"][:-1] > 0), "the test should have a dead ReLU unit"
    else:
        assert np.any(expected["saturated"][:-1] > 0), "the test should have saturated units"


@needs_torch
@pytest.mark.parametrize("output, loss, k", [("softmax", "cross_entropy", 3),
                                             ("identity", "mse", 2),
                                             ("sigmoid", "mse", 1)])
def test_gradients_match_for_every_output_and_loss(output, loss, k):
    X, labels = data.spirals(n=60, n_classes=3, noise=0.3, seed=1)
    y = labels if output == "softmax" else np.random.default_rng(0).uniform(0, 1, (len(X), k))
    net = nn.MLP([2, 6, 5, k], activation="tanh", output=output, seed=2)
    view = torch_bridge.TorchNet(hand_built(net, output_module=output != "identity"))
    value, grads = view.loss_and_grads(X, y, loss)
    value_np, grads_np = net.loss_and_grads(X, y, loss)
    assert abs(value - value_np) < TOL * abs(value_np)
    for (dW, db), (dW_np, db_np) in zip(grads, grads_np):
        np.testing.assert_allclose(dW, dW_np, rtol=TOL, atol=1e-14)
        np.testing.assert_allclose(db, db_np, rtol=TOL, atol=1e-14)
    # The tensor hooks on z saw dL/dz; dW = a^T dL/dz is the gradient autograd put in .grad.
    net.forward(X)
    for a, delta, (dW, _) in zip(net.cache["a"][:-1], view.deltas, grads):
        np.testing.assert_allclose(a.T @ delta, dW, rtol=TOL, atol=1e-14)


@needs_torch
def test_update_ratios_over_a_step_match_numpy():
    X, y = moons()
    net = nn.MLP([2, 8, 8, 1], activation="relu", output="sigmoid", init="he", seed=4)
    model = hand_built(net, output_module=False)
    view = torch_bridge.TorchNet(model, output="sigmoid")
    view.loss_and_grads(X, y)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    got = view.update_ratios(optimizer.step)
    _, grads = net.loss_and_grads(X, y)
    expected = [diagnostics.update_to_weight_ratio(W, W - 0.3 * dW)
                for W, (dW, _) in zip(net.weights, grads)]
    assert rel(got, expected) < TOL
    assert np.all(np.array(got) > 0)


@needs_torch
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_recorder_fills_a_history_like_fit(activation):
    X, y = data.moons(n=120, noise=0.25, seed=0)
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, val_fraction=0.3, seed=0)
    epochs, lr = 30, 0.5
    net = nn.MLP([2, 10, 6, 1], activation=activation, output="sigmoid", seed=1)
    model = hand_built(net, output_module=True)
    expected = net.fit(X_train, y_train, epochs=epochs, lr=lr, X_val=X_val, y_val=y_val,
                       n_snapshots=4)
    view = torch_bridge.TorchNet(model)
    history = nn.History(epochs, view.layer_names(), expected.snapshot_epochs)
    recorder = torch_bridge.Recorder(view, history, loss="bce")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs + 1):
        recorder.evaluate(epoch, X_train, y_train, X_val, y_val)
        if epoch < epochs:
            optimizer.step()
    assert history.layer_names == expected.layer_names
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "act_mean", "act_std",
                "saturated", "dead", "grad_norm", "update_ratio", "act_quantiles"):
        np.testing.assert_allclose(getattr(history, key), getattr(expected, key), rtol=TOL,
                                   atol=1e-12, err_msg=key)
    assert np.isnan(history.update_ratio[0]).all() and np.isfinite(history.update_ratio[1:]).all()
    for got_w, exp_w in zip(history.weight_snapshots, expected.weight_snapshots):
        for W, W_exp in zip(got_w, exp_w):
            np.testing.assert_allclose(W, W_exp, rtol=TOL, atol=1e-12)
    assert sorted(recorder.activation_snapshots) == expected.snapshot_epochs


@needs_torch
def test_from_mlp_builds_the_same_model():
    X, _ = moons()
    for act in ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus"):
        net = nn.MLP([2, 5, 4, 1], activation=act, output="sigmoid", seed=0)
        model = torch_bridge.from_mlp(net, output_module=True)
        out = model(torch.tensor(X)).detach().numpy()
        np.testing.assert_allclose(out, net.forward(X), rtol=TOL, atol=1e-12, err_msg=act)
        stats = torch_bridge.TorchNet(model).stats(X)
        np.testing.assert_allclose(stats["mean"], diagnostics.layer_stats(net, X)["mean"],
                                   rtol=TOL, atol=1e-12, err_msg=act)


@needs_torch
def test_hooks_are_removed_and_the_model_is_unchanged():
    X, y = moons()
    net = nn.MLP([2, 6, 1], activation="tanh", output="sigmoid", seed=0)
    model = hand_built(net, output_module=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    reference = model(torch.tensor(X)).detach()
    view = torch_bridge.TorchNet(model)
    view.stats(X, y)
    view.forward(X)
    for module in model:
        assert not module._forward_hooks and not module._backward_hooks, type(module).__name__
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(model(torch.tensor(X)).detach(), reference)


# ------------------------------------------------------------------------------------------
# plots draws a TorchNet directly
# ------------------------------------------------------------------------------------------

@needs_torch
def test_plots_draw_a_torch_model_directly():
    X, y = moons()
    net = nn.MLP([2, 7, 5, 1], activation="sigmoid", output="sigmoid", seed=0)
    view = torch_bridge.TorchNet(hand_built(net, output_module=True))
    fig = plots.plot_gradient_norms(view, X, y)
    line = next(ln for ln in fig.axes[0].lines if ln.get_gid() == "norms:")
    np.testing.assert_allclose(line.get_ydata(), diagnostics.gradient_norms(net, X, y), rtol=TOL)
    fig = plots.plot_network(view)
    assert "2-7-5-1" in fig.axes[0].get_title() and "67 parameters" in fig.axes[0].get_title()
    fig = plots.plot_layer_histograms(view, X)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == net.layer_names()
    fig = plots.plot_weights(view)
    assert len(fig.axes) == 4  # three heatmaps and a colour bar


# ------------------------------------------------------------------------------------------
# Clear errors for models the bridge cannot read
# ------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("build, error, words", [
    (lambda t: t.nn.Linear(2, 3), TypeError, r"expected a torch\.nn\.Sequential.*got Linear"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.Dropout(), t.nn.Linear(3, 1)),
     ValueError, r"layer 1 of the model is Dropout.*Supported: Linear"),
    (lambda t: t.nn.Sequential(t.nn.Conv1d(1, 1, 1)), ValueError, "Conv1d before any Linear"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.ReLU(), t.nn.Tanh(), t.nn.Linear(3, 1)),
     ValueError, r"two activations in a row \(ReLU, Tanh\)"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.ReLU()), ValueError,
     "ends with ReLU after its last Linear"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.GELU(), t.nn.Linear(3, 1)), ValueError,
     "approximate='tanh'"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.Linear(4, 1)), ValueError,
     "layer 2 takes 4 inputs but layer 1 gives 3"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 3), t.nn.Softmax(dim=0)), ValueError, "dim=1"),
])
def test_unsupported_models_get_a_clear_error(build, error, words):
    with pytest.raises(error, match=words):
        torch_bridge.TorchNet(build(torch))


@needs_torch
@pytest.mark.parametrize("kind", ["ReLU", "LeakyReLU", "ELU", "SiLU"])
def test_in_place_activations_are_refused_by_name(kind):
    # An in-place activation writes a over the Linear layer's output tensor, which the forward
    # hook kept as z: the bridge must refuse it rather than record a as z.
    t = torch.nn
    model = t.Sequential(t.Linear(2, 4), t.Tanh(), t.Linear(4, 3),
                         getattr(t, kind)(inplace=True), t.Linear(3, 1))
    with pytest.raises(ValueError, match=rf"layer 3 of the model is {kind}\(inplace=True\)"
                                         rf".*record a in place of z.*inplace=False"):
        torch_bridge.TorchNet(model)


@needs_torch
def test_the_hazard_is_real_and_inplace_false_fixes_it():
    """Why the refusal: with ReLU(inplace=True) the Linear layer's output tensor, as a forward
    hook keeps it, holds max(z, 0) after the forward pass. With inplace=False (the error's
    advice) the bridge accepts the model and records numpy's z."""
    X, _ = moons()
    net = nn.MLP([2, 6, 1], activation="relu", output="sigmoid", init="he", seed=0)
    model = hand_built(net, output_module=True)
    model[1].inplace = True
    kept = {}
    handle = model[0].register_forward_hook(lambda m, i, out: kept.setdefault("z", out))
    model(torch.tensor(X))
    handle.remove()
    net.forward(X)
    z = net.cache["z"][0]
    assert np.any(z < 0), "the test needs negative pre-activations"
    np.testing.assert_allclose(kept["z"].detach().numpy(), np.maximum(z, 0), rtol=TOL, atol=1e-12)
    with pytest.raises(ValueError, match="inplace=False"):
        torch_bridge.TorchNet(model)
    model[1].inplace = False
    view = torch_bridge.TorchNet(model)
    view.forward(X)
    np.testing.assert_allclose(view.cache["z"][0], z, rtol=TOL, atol=1e-12)


@needs_torch
def test_wrong_input_shape_names_both():
    view = torch_bridge.TorchNet(torch.nn.Sequential(torch.nn.Linear(2, 3)).double())
    with pytest.raises(ValueError, match=r"X has shape \(4, 3\).*\(n_samples, 2\)"):
        view.forward(np.zeros((4, 3)))


def test_available_and_hint_without_torch(monkeypatch):
    # None in sys.modules makes `import torch` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "torch", None)
    assert torch_bridge.available() is False
    with pytest.raises(ImportError, match=r'pip install -e "\.\[torch\]"'):
        torch_bridge.require_torch()


# ------------------------------------------------------------------------------------------
# Chapter 7 without torch: runs to the end, says how to install it, nbval still passes
# ------------------------------------------------------------------------------------------

SHIM = """\
# Makes `import torch` fail, as on an install without the torch extra.
import sys


class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch' (hidden by the test's shim)")
        return None


sys.meta_path.insert(0, _NoTorch())
"""


@pytest.fixture(scope="module")
def no_torch_env(tmp_path_factory):
    shim = tmp_path_factory.mktemp("no_torch")
    (shim / "sitecustomize.py").write_text(SHIM)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(shim), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("MPLBACKEND", None)
    check = subprocess.run([sys.executable, "-c", "import torch"], env=env, capture_output=True,
                           text=True)
    assert check.returncode != 0 and "hidden by the test's shim" in check.stderr
    return env


def test_chapter7_runs_to_the_end_without_torch(no_torch_env, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(CHAPTER, as_version=4)
    committed = [c for c in json.loads(CHAPTER.read_text())["cells"] if c["cell_type"] == "code"]
    old_env = dict(os.environ)
    os.environ.clear()
    os.environ.update(no_torch_env)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(CHAPTER.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    code = [c for c in nb.cells if c.cell_type == "code"]
    texts = ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
             for c in code]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0]
    assert torch_bridge.INSTALL_HINT in texts[1], texts[1]
    assert sum(torch_bridge.INSTALL_HINT in t for t in texts) == 1, "the install line, once"
    torch_cells = [i for i, c in enumerate(code) if c.source.startswith("%%needs_torch")]
    assert len(torch_cells) >= 8
    for i in torch_cells:
        assert texts[i].strip() == torch_bridge.SKIPPED, (i, texts[i])
    for i, c in enumerate(code):  # every other cell ran, and its checked numbers are unchanged
        if i not in torch_cells:
            assert c.execution_count is not None
        if c.source.startswith("# NBVAL_CHECK_OUTPUT"):
            want = "".join("".join(o.get("text", "")) for o in committed[i]["outputs"]
                           if o["output_type"] == "stream")
            assert texts[i] == want, f"checked cell {i} prints something else without torch"
    # The exercise checks say in one line that they need PyTorch.
    checks = [t for c, t in zip(code, texts) if "ch07.check_" in c.source]
    assert len(checks) == 4 and all("needs PyTorch" in t and "skipped" in t for t in checks)


@pytest.mark.slow
def test_chapter7_passes_nbval_without_torch(no_torch_env):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         "--nbval-current-env", str(CHAPTER)],
        cwd=ROOT, env=no_torch_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_an_error_in_a_needs_torch_cell_fails_it_and_shows_once():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%load_ext helpers.torch_bridge"),
        nbformat.v4.new_code_cell("%%needs_torch\nx = 1\nassert x == 2, 'x is not 2'")])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    errors = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    shown = [o for o in errors if o.traceback]  # what the student sees
    if torch is None:
        assert not errors
    else:
        assert errors, "the cell must fail"
        assert len(shown) == 1 and shown[0].evalue == "x is not 2", shown
