"""The course's per-layer diagnostics on a PyTorch model, through forward and tensor hooks.

PyTorch is optional (``pip install -e ".[torch]"``): this module imports it only when a
function needs it, so ``import helpers.torch_bridge`` always works and :func:`available`
says whether torch can be used.

:class:`TorchNet` wraps an ``nn.Sequential`` of ``Linear`` and activation layers and
speaks the same protocol as :class:`helpers.nn.MLP` (``forward`` filling ``cache["z"]``
and ``cache["a"]``, ``loss_and_grads``, ``weights``, ``biases``, ``sizes``,
``layer_names()``, ``hidden_activations``, ``output``). So ``helpers.diagnostics``
computes its statistics with *the same code* for both, and every function in
``helpers.plots`` that draws an ``MLP`` draws a ``TorchNet``. The numbers come from hooks:
a forward hook (``Module.register_forward_hook``) on each ``Linear`` records its output
``z``, one on each activation its output ``a``, and a tensor hook (``Tensor.register_hook``)
on each ``z`` records dL/dz as autograd passes it. Activation layers built with
``inplace=True`` are refused: they overwrite ``z`` with ``a`` before it could be read.

:class:`Recorder` fills a :class:`helpers.nn.History` (made by the caller: this module
sits at the level of ``diagnostics`` and does not import ``nn``) from a torch training
loop, row for row as ``MLP.fit`` does, so the chapter 5 dashboards and the TensorBoard
writer take a torch run unchanged.

Layouts: torch's ``Linear.weight`` is (fan_out, fan_in) and computes ``x @ W.T + b``; the
course's ``W`` is (fan_in, fan_out) and computes ``a @ W + b``. ``TorchNet.weights`` are
the course's layout (transposed copies).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from . import activations, diagnostics

__all__ = [
    "INSTALL_HINT",
    "available",
    "require_torch",
    "describe",
    "TorchNet",
    "Recorder",
    "from_mlp",
]

INSTALL_HINT = (
    "PyTorch is not installed: `pip install torch==2.13.0` adds it anywhere (for the smaller "
    "CPU-only build add `--index-url https://download.pytorch.org/whl/cpu`; in the course's "
    'own folder `pip install -e ".[torch]"` does the same); the cells that need it are skipped.'
)
_QUANTILES = np.array([0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])  # as helpers.nn.History
_LOSSES = ("mse", "bce", "cross_entropy")
_DEFAULT_LOSS = {"identity": "mse", "sigmoid": "bce", "softmax": "cross_entropy"}


def available() -> bool:
    """True when ``import torch`` works here."""
    try:
        require_torch()
    except ImportError:
        return False
    return True


def require_torch():
    """The torch module, or an ImportError that says how to install it."""
    try:
        return importlib.import_module("torch")
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err


# ------------------------------------------------------------------------------------------
# Reading the model's structure
# ------------------------------------------------------------------------------------------

def _activation_of(module):
    """The registry Activation equal to this torch module, or None if it is not one we know."""
    name = type(module).__name__
    if name in ("Sigmoid", "Tanh", "ReLU", "SiLU", "Identity"):
        return activations.get({"Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu",
                                "SiLU": "silu", "Identity": "identity"}[name])
    if name == "LeakyReLU":
        return activations.get("leaky_relu", alpha=float(module.negative_slope))
    if name == "ELU":
        return activations.get("elu", alpha=float(module.alpha))
    if name == "GELU":
        # The course's GELU is the tanh approximation; torch's default is the exact erf form.
        if module.approximate != "tanh":
            raise ValueError(
                "nn.GELU() computes the exact (erf) GELU, the course's 'gelu' is the tanh "
                "approximation: use nn.GELU(approximate='tanh')."
            )
        return activations.get("gelu")
    if name == "Softplus":
        if float(module.beta) != 1.0:
            raise ValueError(f"nn.Softplus(beta={module.beta}) is not supported: use beta=1.")
        return activations.get("softplus")
    return None


_SUPPORTED = ("Linear, and between Linear layers one of Sigmoid, Tanh, ReLU, LeakyReLU, ELU, "
              "GELU(approximate='tanh'), SiLU, Softplus, Identity (not in place); after the "
              "last Linear optionally Sigmoid or Softmax(dim=1)")


@dataclass(frozen=True)
class Structure:
    """What :func:`describe` reads from a model: its Linear layers and activations."""

    linears: tuple
    hidden: tuple  # one (registry Activation, torch module or None) per hidden layer
    output: str  # "identity", "sigmoid" or "softmax": what follows the last Linear
    output_module: object  # the torch Sigmoid/Softmax module, or None (the model gives logits)

    @property
    def sizes(self) -> list[int]:
        """[inputs, hidden widths..., outputs], as ``MLP.sizes``."""
        return [self.linears[0].in_features] + [lin.out_features for lin in self.linears]


def describe(model, output: str | None = None) -> Structure:
    """Check ``model`` is an ``nn.Sequential`` of Linear and activation layers; say what it is.

    ``output`` names the output function when the model returns logits and the loss applies
    it (``nn.BCEWithLogitsLoss``: "sigmoid", ``nn.CrossEntropyLoss``: "softmax"); by default
    it is read from the model's last module (none: "identity").
    """
    torch = require_torch()
    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(
            f"expected a torch.nn.Sequential of Linear and activation layers, got "
            f"{type(model).__name__}. Supported layers: {_SUPPORTED}."
        )
    modules = list(model)
    linears, hidden, pending = [], [], None
    output_module = None
    for i, module in enumerate(modules):
        kind = type(module).__name__
        if isinstance(module, torch.nn.Linear):
            if linears:
                hidden.append(pending or (activations.get("identity"), None))
            linears.append(module)
            pending = None
            continue
        is_last = i == len(modules) - 1
        if not linears:
            raise ValueError(f"layer {i} of the model is {kind} before any Linear layer; "
                             f"the model must start with a Linear layer. Supported: {_SUPPORTED}.")
        if pending is not None:
            raise ValueError(f"layers {i - 1} and {i} are two activations in a row "
                             f"({type(pending[1]).__name__}, {kind}); put a Linear between them.")
        if is_last and kind in ("Sigmoid", "Softmax"):
            if kind == "Softmax" and module.dim not in (1, -1):
                raise ValueError(f"the output Softmax must normalise over classes (dim=1), "
                                 f"got dim={module.dim}")
            output_module = module
            break
        act = _activation_of(module)
        if act is None:
            raise ValueError(f"layer {i} of the model is {kind}, which the course's diagnostics "
                             f"do not support. Supported: {_SUPPORTED}.")
        if getattr(module, "inplace", False):
            # The Linear layer's forward hook keeps z by reference; an in-place activation
            # then writes a into that very tensor, and the bridge would record a as z.
            raise ValueError(
                f"layer {i} of the model is {kind}(inplace=True): it writes its output over its "
                f"input, the z of the Linear layer before it, so the hooks would record a in "
                f"place of z. Build it with inplace=False, the default (nn.{kind}() instead of "
                f"nn.{kind}(inplace=True)); the model computes the same outputs.")
        if is_last:
            raise ValueError(f"the model ends with {kind} after its last Linear; the output "
                             "can only be a Linear (logits, or a regression), Sigmoid or "
                             "Softmax(dim=1).")
        pending = (act, module)
    if not linears:
        raise ValueError(f"the model has no Linear layer. Supported: {_SUPPORTED}.")
    from_model = {None: "identity", "Sigmoid": "sigmoid", "Softmax": "softmax"}[
        type(output_module).__name__ if output_module is not None else None]
    if output is None:
        output = from_model
    elif output not in ("identity", "sigmoid", "softmax"):
        raise ValueError(f"output must be 'identity', 'sigmoid' or 'softmax', got {output!r}")
    elif output_module is not None and output != from_model:
        raise ValueError(f"the model ends with {type(output_module).__name__} but output="
                         f"{output!r} was given; leave output out, or drop that last module.")
    for i, lin in enumerate(linears[1:], start=1):
        if lin.in_features != linears[i - 1].out_features:
            raise ValueError(f"Linear layer {i + 1} takes {lin.in_features} inputs but layer {i} "
                             f"gives {linears[i - 1].out_features}")
    return Structure(tuple(linears), tuple(hidden), output, output_module)


# ------------------------------------------------------------------------------------------
# The adapter: an nn.Sequential seen as a course network
# ------------------------------------------------------------------------------------------

def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


class TorchNet:
    """A torch ``nn.Sequential`` seen through the ``helpers.nn.MLP`` protocol (read-only).

    ``forward(X)`` runs the torch model with hooks and fills ``cache["z"]``/``cache["a"]``
    (numpy copies, one array per Linear layer) so ``diagnostics.layer_stats`` and
    ``plots.plot_layer_histograms`` work on it; ``loss_and_grads(X, y)`` runs backward and
    returns the torch gradients in the course's layout. The model itself is never changed,
    except that ``loss_and_grads`` leaves its gradients in ``.grad`` for an optimizer step.
    """

    def __init__(self, model, output: str | None = None):
        self.model = model
        self.structure = describe(model, output)
        self.output = self.structure.output
        self.hidden_activations = [act for act, _ in self.structure.hidden]
        self.cache: dict[str, list[np.ndarray]] = {"z": [], "a": []}
        self.deltas: list[np.ndarray] = []  # dL/dz per layer, from the tensor hooks on z

    # ---- the MLP protocol
    @property
    def sizes(self) -> list[int]:
        """[inputs, hidden widths..., outputs]."""
        return self.structure.sizes

    @property
    def n_layers(self) -> int:
        """Number of Linear layers."""
        return len(self.structure.linears)

    @property
    def weights(self) -> list[np.ndarray]:
        """Each Linear layer's weight as a (fan_in, fan_out) numpy copy: the course's layout."""
        return [_numpy(lin.weight).T.copy() for lin in self.structure.linears]

    @property
    def biases(self) -> list[np.ndarray]:
        """Each Linear layer's bias (zeros for a layer built with bias=False)."""
        return [_numpy(lin.bias) if lin.bias is not None else np.zeros(lin.out_features)
                for lin in self.structure.linears]

    def layer_names(self) -> list[str]:
        """Display names as ``MLP.layer_names()``: ['hidden 1 (tanh)', ..., 'output (sigmoid)']."""
        hidden = [f"hidden {i + 1} ({a.label})" for i, a in enumerate(self.hidden_activations)]
        return hidden + [f"output ({self.output})"]

    def __repr__(self) -> str:
        acts = sorted({a.label for a in self.hidden_activations}) or ["none"]
        return (f"TorchNet({'-'.join(map(str, self.sizes))}, activation={'/'.join(acts)}, "
                f"output={self.output})")

    # ---- hooks
    def _run(self, X, need_grad: bool):
        """Forward with hooks; returns (output tensor, logits tensor) and fills the cache."""
        torch = require_torch()
        linears = self.structure.linears
        z_seen, a_seen = {}, {}
        handles = []
        if need_grad:
            self.deltas = [None] * len(linears)

        def keep(store, key, backward=False):
            def hook(module, inputs, out):
                store[key] = out
                if backward and out.requires_grad:
                    # A tensor hook (Tensor.register_hook) on the layer's output z: autograd
                    # calls it with dL/dz for this layer, whichever path the loss takes
                    # (through a final Sigmoid module or straight from the logits).
                    def keep_delta(grad, key=key):
                        self.deltas[key] = _numpy(grad)
                    out.register_hook(keep_delta)
                # Returning None leaves the module's output untouched.
            return hook

        for i, lin in enumerate(linears):
            handles.append(lin.register_forward_hook(keep(z_seen, i, backward=need_grad)))
        for i, (_, module) in enumerate(self.structure.hidden):
            if module is not None:
                handles.append(module.register_forward_hook(keep(a_seen, i)))
        try:
            param = next(self.model.parameters())
            x = torch.as_tensor(np.asarray(X), dtype=param.dtype, device=param.device)
            if x.ndim == 1 and self.sizes[0] == 1:
                x = x[:, None]
            if x.ndim != 2 or x.shape[1] != self.sizes[0]:
                raise ValueError(f"X has shape {tuple(x.shape)}, but this model expects "
                                 f"(n_samples, {self.sizes[0]}) inputs")
            with torch.set_grad_enabled(need_grad):
                out = self.model(x)
        finally:
            for h in handles:  # the tensor hooks live on this batch's tensors only
                h.remove()
        logits = z_seen[len(linears) - 1]
        if self.structure.output_module is None:
            # The model gives logits; the output function lives in the loss.
            if self.output == "sigmoid":
                out = torch.sigmoid(logits)
            elif self.output == "softmax":
                out = torch.softmax(logits, dim=1)
        zs = [_numpy(z_seen[i]) for i in range(len(linears))]
        outs = [_numpy(a_seen[i]) if i in a_seen else zs[i] for i in range(len(linears) - 1)]
        outs.append(_numpy(out))
        self.cache = {"z": zs, "a": [_numpy(x)] + outs}
        return out, logits, handles

    def forward(self, X) -> np.ndarray:
        """The model's output for ``X`` (after the output function) as numpy; fills the cache."""
        out, _, _ = self._run(X, need_grad=False)
        return _numpy(out)

    __call__ = forward

    def _loss(self, out, logits, y, loss: str | None):
        torch = require_torch()
        loss = _DEFAULT_LOSS[self.output] if loss is None else loss
        if loss not in _LOSSES:
            raise ValueError(f"loss must be one of {', '.join(map(repr, _LOSSES))}, got {loss!r}")
        if loss == "bce" and self.output != "sigmoid":
            raise ValueError(f"loss='bce' needs a sigmoid output, this model's is {self.output!r}")
        if loss == "cross_entropy" and self.output != "softmax":
            raise ValueError("loss='cross_entropy' needs a softmax output, this model's is "
                             f"{self.output!r}")
        y = np.asarray(y)
        if loss == "cross_entropy":
            target = torch.as_tensor(y.astype(np.int64))
            if target.ndim != 1 or len(target) != len(logits):
                raise ValueError(f"cross-entropy needs {len(logits)} integer labels, got shape "
                                 f"{y.shape}")
            # As helpers.nn: the mean over samples of -log softmax(logits)[label].
            return torch.nn.functional.cross_entropy(logits, target), loss
        target = torch.as_tensor(y, dtype=logits.dtype).reshape(logits.shape[0], -1)
        if target.shape != logits.shape:
            raise ValueError(f"y has shape {y.shape}, expected ({len(logits)},) or "
                             f"{tuple(logits.shape)}")
        if loss == "bce":
            # From the logits, as helpers.nn (stable): the mean over all elements.
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, target), loss
        return torch.mean((out - target) ** 2), loss

    def loss_and_grads(self, X, y, loss: str | None = None):
        """``(loss, grads)`` as ``MLP.loss_and_grads``: ``grads[l] = (dW, db)`` in the course's
        layout. Zeroes the model's gradients first and leaves the new ones in ``.grad``."""
        self.model.zero_grad(set_to_none=True)
        out, logits, _ = self._run(X, need_grad=True)
        value, _ = self._loss(out, logits, y, loss)
        value.backward()
        self._last_loss = float(value.detach())
        self._last_output = _numpy(out)
        grads = []
        for lin in self.structure.linears:
            dW = _numpy(lin.weight.grad).T.copy()
            db = (_numpy(lin.bias.grad) if lin.bias is not None and lin.bias.grad is not None
                  else np.zeros(lin.out_features))
            grads.append((dW, db))
        return self._last_loss, grads

    def stats(self, X, y=None, loss: str | None = None) -> dict[str, np.ndarray]:
        """Per-layer statistics on one batch, in ``diagnostics.layer_stats``'s layout.

        Keys: "mean", "std", "saturated", "dead" (computed by ``diagnostics.layer_stats``
        itself), "quantiles" (n_layers, 7) at the levels of ``History.quantile_levels``, and,
        when ``y`` is given, "grad_norm" (||dL/dW|| per layer, from ``loss_and_grads``).
        """
        result = diagnostics.layer_stats(self, X)
        result["quantiles"] = np.array([np.quantile(a, _QUANTILES) for a in self.cache["a"][1:]])
        if y is not None:
            _, grads = self.loss_and_grads(X, y, loss)
            result["grad_norm"] = np.array([np.linalg.norm(dW) for dW, _ in grads])
        return result

    def update_ratios(self, step) -> np.ndarray:
        """Call ``step()`` (e.g. ``optimizer.step``) and return ||ΔW|| / ||W_before|| per layer."""
        before = self.weights  # copies: an in-place optimizer step cannot change them
        step()
        return np.array([diagnostics.update_to_weight_ratio(b, a)
                         for b, a in zip(before, self.weights)])


# ------------------------------------------------------------------------------------------
# Recording a torch training run into a History
# ------------------------------------------------------------------------------------------

class Recorder:
    """Fill a ``helpers.nn.History`` from a torch training loop, as ``MLP.fit`` fills it.

    Make the History yourself (``nn.History(epochs, net.layer_names(), snapshot_epochs)``)
    and call :meth:`evaluate` once per epoch boundary, *before* the optimizer step::

        for epoch in range(epochs + 1):
            recorder.evaluate(epoch, X, y, X_val, y_val)   # forward, backward, record row
            if epoch < epochs:
                optimizer.step()                            # uses the gradients just computed

    Row ``e`` then holds the network after ``e`` steps, its full-batch gradient, and the
    update ratio of step ``e`` (from row 1 on), exactly the layout of ``fit``'s History.
    ``activation_snapshots[epoch]`` keeps each layer's activations at the snapshot epochs
    (for TensorBoard histograms).
    """

    def __init__(self, net: TorchNet, history, loss: str | None = None):
        self.net, self.history, self.loss = net, history, loss
        self._before: list[np.ndarray] | None = None
        self.activation_snapshots: dict[int, list[np.ndarray]] = {}

    def evaluate(self, epoch: int, X, y, X_val=None, y_val=None) -> float:
        """Forward and backward on the full batch; record row ``epoch``; return the loss."""
        h, net = self.history, self.net
        value, grads = net.loss_and_grads(X, y, self.loss)
        h.loss[epoch] = value
        h.accuracy[epoch] = _accuracy(net.output, net._last_output, y)
        stats = diagnostics.layer_stats(net, X)  # its own forward pass, without gradients
        outs = net.cache["a"][1:]
        h.act_mean[epoch] = stats["mean"]
        h.act_std[epoch] = stats["std"]
        h.saturated[epoch] = stats["saturated"]
        h.dead[epoch] = stats["dead"]
        h.grad_norm[epoch] = [np.linalg.norm(dW) for dW, _ in grads]
        weights = net.weights
        if self._before is not None:
            h.update_ratio[epoch] = [diagnostics.update_to_weight_ratio(b, a)
                                     for b, a in zip(self._before, weights)]
        self._before = weights
        if epoch in h.snapshot_epochs:
            k = h.snapshot_epochs.index(epoch)
            if len(h.weight_snapshots) == k:
                h.weight_snapshots.append(weights)
            h.act_quantiles[k] = [np.quantile(a, h.quantile_levels) for a in outs]
            self.activation_snapshots[epoch] = [a.copy() for a in outs]
        if X_val is not None:
            torch = require_torch()
            with torch.no_grad():
                out, logits, _ = net._run(X_val, need_grad=False)
                h.val_loss[epoch] = float(net._loss(out, logits, y_val, self.loss)[0])
            h.val_accuracy[epoch] = _accuracy(net.output, _numpy(out), y_val)
        return value


def _accuracy(output: str, out: np.ndarray, y) -> float:
    """As helpers.nn: argmax for softmax, threshold 0.5 for sigmoid, NaN for a regressor."""
    y = np.asarray(y)
    if output == "softmax":
        return float(np.mean(out.argmax(axis=1) == y.astype(np.int64).reshape(-1)))
    if output == "sigmoid":
        return float(np.mean((out > 0.5) == (y.reshape(out.shape) > 0.5)))
    return float("nan")


def from_mlp(net, output_module: bool = False):
    """A float64 torch ``nn.Sequential`` with exactly the weights of a course network.

    Hidden activations become the matching torch modules; the output function becomes a
    final ``Sigmoid``/``Softmax(dim=1)`` if ``output_module`` is True, else the model returns
    logits (use ``TorchNet(model, output=net.output)`` and a loss from logits).
    """
    torch = require_torch()
    tnn = torch.nn
    layers = []
    for i, (W, b) in enumerate(zip(net.weights, net.biases)):
        W = np.asarray(W, dtype=np.float64)
        lin = tnn.Linear(W.shape[0], W.shape[1], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(W.T))
            lin.bias.copy_(torch.as_tensor(np.asarray(b, dtype=np.float64)))
        layers.append(lin)
        if i < len(net.weights) - 1:
            layers.append(_torch_activation(net.hidden_activations[i]))
    if output_module and net.output == "sigmoid":
        layers.append(tnn.Sigmoid())
    elif output_module and net.output == "softmax":
        layers.append(tnn.Softmax(dim=1))
    return tnn.Sequential(*layers)


def _torch_activation(act):
    tnn = require_torch().nn
    simple = {"sigmoid": tnn.Sigmoid, "tanh": tnn.Tanh, "relu": tnn.ReLU, "silu": tnn.SiLU,
              "identity": tnn.Identity, "softplus": tnn.Softplus}
    if act.name in simple:
        return simple[act.name]()
    if act.name == "leaky_relu":
        return tnn.LeakyReLU(act.params["alpha"])
    if act.name == "elu":
        return tnn.ELU(act.params["alpha"])
    if act.name == "gelu":
        return tnn.GELU(approximate="tanh")
    raise ValueError(f"no torch module for the activation {act.label!r}; supported: "
                     f"{', '.join(sorted([*simple, 'leaky_relu', 'elu', 'gelu']))}")


SKIPPED = "\u23ed\ufe0f skipped: this cell needs PyTorch (see the install line at the top)."


class CellFailed(Exception):
    """Fails a ``%%needs_torch`` cell whose code raised: the inner run has already shown the
    error, so this one shows nothing (no second copy of the traceback)."""

    def _render_traceback_(self) -> list[str]:
        return []


def load_ipython_extension(ipython) -> None:
    """``%load_ext helpers.torch_bridge`` registers the cell magic ``%%needs_torch``.

    A cell that starts with ``%%needs_torch`` runs as usual when torch can be imported;
    without torch it prints one line saying it was skipped, so a notebook runs to the end
    (nbval included) on an install without the optional extra. Errors in the cell still
    fail it.
    """

    def needs_torch(line: str, cell: str):
        if not available():
            print(SKIPPED)
            return None
        result = ipython.run_cell(cell, store_history=False)
        if not result.success:  # an error inside is an error of this cell, shown once
            raise CellFailed("the cell's code raised; its error is shown above") from None
        return None

    ipython.register_magic_function(needs_torch, "cell", "needs_torch")
