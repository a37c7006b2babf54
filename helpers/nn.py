"""A transparent numpy multi-layer perceptron: forward with a cache, backward written out.

Nothing here is hidden behind autograd. ``forward`` keeps every layer's
pre-activations ``z`` and activations ``a`` in ``net.cache``; ``loss_and_grads``
runs backpropagation one layer at a time with each activation's ``grad``, so you
can read exactly where a gradient shrinks; ``fit`` trains with SGD, momentum or
Adam and records per-layer diagnostics in a :class:`History`.

Shapes: ``X`` is (n_samples, n_inputs); ``W`` of layer l is (fan_in, fan_out) so a
layer computes ``z = a @ W + b``; labels for a softmax output are integers (n,).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import activations, diagnostics

__all__ = ["MLP", "History", "LOSSES", "OUTPUTS", "INITS", "OPTIMIZERS"]

LOSSES = ("mse", "bce", "cross_entropy")
OUTPUTS = ("identity", "sigmoid", "softmax")
INITS = ("xavier", "he", "normal", "uniform")
OPTIMIZERS = ("sgd", "momentum", "adam")
_DEFAULT_LOSS = {"identity": "mse", "sigmoid": "bce", "softmax": "cross_entropy"}
_QUANTILES = np.array([0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])


def _choice(value, options, what: str) -> str:
    if isinstance(value, str):
        key = value.strip().lower()
        if key == "linear" and "identity" in options:
            key = "identity"
        if key in options:
            return key
    raise ValueError(f"{what} must be one of {', '.join(map(repr, options))}, got {value!r}")


def _positive(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{what} must be a positive, finite number, got {value!r}")
    return float(value)


class History:
    """What happened during ``fit``, epoch by epoch.

    Every array has one row per epoch *boundary*: row 0 is the network before any
    training, row e the network after e epochs, so there are ``epochs + 1`` rows.
    Per-layer arrays have shape (epochs + 1, n_layers), hidden layers first and
    the output layer last; ``layer_names`` says which column is which. A History of
    ``fit(..., diagnostics=False)`` has ``diagnostics`` False: its per-layer arrays stay NaN
    and it has no weight snapshots.
    """

    def __init__(self, n_epochs: int, layer_names: list[str], snapshot_epochs: np.ndarray):
        rows, L = n_epochs + 1, len(layer_names)
        self.epoch = np.arange(rows)
        self.layer_names = list(layer_names)
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            setattr(self, key, np.full(rows, np.nan))
        for key in ("act_mean", "act_std", "saturated", "dead", "grad_norm", "update_ratio"):
            setattr(self, key, np.full((rows, L), np.nan))
        self.snapshot_epochs = [int(e) for e in snapshot_epochs]
        self.weight_snapshots: list[list[np.ndarray]] = []
        # Quantiles (0, 5, 25, 50, 75, 95, 100 %) of each layer's activations at each snapshot.
        self.quantile_levels = _QUANTILES.copy()
        self.act_quantiles = np.full((len(self.snapshot_epochs), L, len(_QUANTILES)), np.nan)
        self.diverged_at: int | None = None
        self.diagnostics = True   # False when fit skipped the per-layer statistics
        # The optimizer as fit left it (Adam's moments, momentum's velocity): pass it to the
        # next fit as ``optimizer_state`` to continue this training instead of restarting it.
        self.optimizer_state = None

    @property
    def epochs(self) -> int:
        """Number of training epochs recorded."""
        return len(self.epoch) - 1

    def epochs_to(self, target: float, metric: str = "accuracy") -> int | None:
        """First epoch at which ``metric`` reached ``target`` (None if it never did)."""
        values = np.asarray(getattr(self, metric))
        # Losses go down, everything else (accuracy) goes up.
        reached = values <= target if "loss" in metric else values >= target
        hits = np.flatnonzero(reached)
        return int(hits[0]) if hits.size else None

    def final(self, metric: str = "loss") -> float | np.ndarray:
        """The last recorded value of ``metric`` (a number, or one per layer)."""
        return getattr(self, metric)[-1]

    def __repr__(self) -> str:
        last = f"loss {self.loss[-1]:.4g}"
        if not np.isnan(self.accuracy[-1]):
            last += f", accuracy {self.accuracy[-1]:.3f}"
        return f"History({self.epochs} epochs, {len(self.layer_names)} layers, final {last})"


class _SGD:
    def __init__(self, lr, **_):
        self.lr = lr

    def updates(self, grads):
        return [-self.lr * g for g in grads]


class _Momentum:
    def __init__(self, lr, momentum=0.9, **_):
        self.lr, self.mu, self.velocity = lr, momentum, None

    def updates(self, grads):
        if self.velocity is None:
            self.velocity = [np.zeros_like(g) for g in grads]
        self.velocity = [self.mu * v - self.lr * g for v, g in zip(self.velocity, grads)]
        return self.velocity


class _Adam:
    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, **_):
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.m = self.v = None
        self.t = 0

    def updates(self, grads):
        if self.m is None:
            self.m = [np.zeros_like(g) for g in grads]
            self.v = [np.zeros_like(g) for g in grads]
        self.t += 1
        self.m = [self.b1 * m + (1 - self.b1) * g for m, g in zip(self.m, grads)]
        self.v = [self.b2 * v + (1 - self.b2) * g * g for v, g in zip(self.v, grads)]
        c1, c2 = 1 - self.b1**self.t, 1 - self.b2**self.t
        return [-self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps) for m, v in zip(self.m, self.v)]


_OPTIMIZER_CLASSES = {"sgd": _SGD, "momentum": _Momentum, "adam": _Adam}


class MLP:
    """A multi-layer perceptron: ``sizes=[2, 16, 1]`` is 2 inputs, 16 hidden units, 1 output.

    Hidden layers use ``activation`` (a name, an Activation, or one per hidden layer);
    the output layer applies ``output`` ("identity", "sigmoid" or "softmax").
    ``init`` picks the weight initialisation: "xavier" (Glorot: std sqrt(2/(fan_in+fan_out))),
    "he" (std sqrt(2/fan_in)), "normal" (std ``init_scale``, default 1: the naive N(0, 1)),
    or "uniform" (U(-s, s), s = ``init_scale`` or 1/sqrt(fan_in)). For xavier and he,
    ``init_scale`` multiplies the std. Hidden biases start at ``bias_init``; output biases at 0.
    """

    def __init__(self, sizes, activation="tanh", output: str = "identity", init: str = "xavier",
                 init_scale: float | None = None, bias_init: float = 0.0, seed: int = 0):
        sizes = list(sizes) if not isinstance(sizes, (str, bytes)) else None
        if (
            not sizes
            or len(sizes) < 2
            or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1
                   for s in sizes)
        ):
            raise ValueError(
                "sizes must be a list of at least two positive whole numbers "
                f"(inputs, ..., outputs), e.g. [2, 16, 1]; got {sizes!r}"
            )
        self.sizes = [int(s) for s in sizes]
        self.output = _choice(output, OUTPUTS, "output")
        if self.output == "softmax" and self.sizes[-1] < 2:
            raise ValueError(
                f"a softmax output needs at least 2 units, got sizes[-1] = {self.sizes[-1]}; "
                "for two classes use output='sigmoid' with 1 unit, or sizes[-1] = 2."
            )
        n_hidden = len(self.sizes) - 2
        if isinstance(activation, (list, tuple)):
            if len(activation) != n_hidden:
                raise ValueError(
                    f"got {len(activation)} activations for {n_hidden} hidden layers; "
                    "give one name for all layers or exactly one per hidden layer"
                )
            self.hidden_activations = [activations.get(a) for a in activation]
        else:
            act = activations.get(activation)
            self.hidden_activations = [act] * n_hidden
        self._out_act = None if self.output == "softmax" else activations.get(self.output)
        self.init = _choice(init, INITS, "init")
        if init_scale is not None:
            init_scale = _positive(init_scale, "init_scale")
        self.init_scale = init_scale
        if not isinstance(bias_init, (int, float, np.number)) or not math.isfinite(bias_init):
            raise ValueError(f"bias_init must be a finite number, got {bias_init!r}")
        self.bias_init = float(bias_init)
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.weights = [
            self._init_weight(rng, fan_in, fan_out)
            for fan_in, fan_out in zip(self.sizes, self.sizes[1:])
        ]
        self.biases = [np.full(fo, self.bias_init) for fo in self.sizes[1:-1]]
        self.biases.append(np.zeros(self.sizes[-1]))
        self.cache: dict[str, list[np.ndarray]] = {"z": [], "a": []}

    # ---------------------------------------------------------------- construction
    def _init_weight(self, rng, fan_in: int, fan_out: int) -> np.ndarray:
        scale = 1.0 if self.init_scale is None else self.init_scale
        if self.init == "xavier":
            return rng.normal(0.0, scale * math.sqrt(2.0 / (fan_in + fan_out)), (fan_in, fan_out))
        if self.init == "he":
            return rng.normal(0.0, scale * math.sqrt(2.0 / fan_in), (fan_in, fan_out))
        if self.init == "normal":
            return rng.normal(0.0, scale, (fan_in, fan_out))
        limit = self.init_scale if self.init_scale is not None else 1.0 / math.sqrt(fan_in)
        return rng.uniform(-limit, limit, (fan_in, fan_out))

    @classmethod
    def from_weights(cls, weights, biases, activation="tanh", output: str = "identity") -> MLP:
        """Build a network from given weight matrices and bias vectors (copied, never shared)."""
        weights = [np.array(W, dtype=float) for W in weights]
        biases = [np.array(b, dtype=float).reshape(-1) for b in biases]
        if len(weights) != len(biases) or not weights:
            raise ValueError(f"need one bias per weight matrix: got {len(weights)} weights "
                             f"and {len(biases)} biases")
        for i, (W, b) in enumerate(zip(weights, biases)):
            if W.ndim != 2 or b.shape != (W.shape[1],):
                raise ValueError(f"layer {i + 1}: W must be 2-D (fan_in, fan_out) and b of shape "
                                 f"(fan_out,); got W {W.shape} and b {b.shape}")
            if i and W.shape[0] != weights[i - 1].shape[1]:
                raise ValueError(f"layer {i + 1}: W has {W.shape[0]} inputs but layer {i} has "
                                 f"{weights[i - 1].shape[1]} outputs")
        sizes = [weights[0].shape[0]] + [W.shape[1] for W in weights]
        net = cls(sizes, activation=activation, output=output)
        net.weights, net.biases = weights, biases
        return net

    def copy(self) -> MLP:
        """An independent copy (weights copied)."""
        twin = MLP.from_weights(self.weights, self.biases, self.hidden_activations, self.output)
        twin.init, twin.init_scale, twin.bias_init, twin.seed = (
            self.init, self.init_scale, self.bias_init, self.seed)
        return twin

    @property
    def n_layers(self) -> int:
        """Number of weight layers, the output layer included."""
        return len(self.weights)

    def layer_names(self) -> list[str]:
        """Display names, e.g. ['hidden 1 (tanh)', 'output (sigmoid)']."""
        hidden = [f"hidden {i + 1} ({a.label})" for i, a in enumerate(self.hidden_activations)]
        return hidden + [f"output ({self.output})"]

    def __repr__(self) -> str:
        acts = sorted({a.label for a in self.hidden_activations}) or ["none"]
        return (f"MLP({'-'.join(map(str, self.sizes))}, activation={'/'.join(acts)}, "
                f"output={self.output}, init={self.init})")

    # ---------------------------------------------------------------- input checks
    def _check_X(self, X) -> np.ndarray:
        X = activations.as_float_array(X, "X")
        if X.ndim == 1 and self.sizes[0] == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(
                f"X has shape {X.shape}, but this network expects (n_samples, {self.sizes[0]}) "
                f"inputs (sizes[0] = {self.sizes[0]})."
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or inf; clean or rescale the inputs first.")
        return X

    def _resolve_loss(self, loss: str | None) -> str:
        if loss is None:
            return _DEFAULT_LOSS[self.output]
        loss = _choice(loss, LOSSES, "loss")
        if loss == "bce" and self.output != "sigmoid":
            raise ValueError(
                f"loss='bce' is computed from the logits of a sigmoid output, but this network's "
                f"output is {self.output!r}: build it with output='sigmoid', or use loss='mse'."
            )
        if loss == "cross_entropy" and self.output != "softmax":
            raise ValueError(
                f"loss='cross_entropy' is computed from the logits of a softmax output, but this "
                f"network's output is {self.output!r}: build it with output='softmax' (or use "
                "output='sigmoid' with loss='bce' for two classes)."
            )
        return loss

    def _check_y(self, y, n: int, loss: str) -> np.ndarray:
        """Return targets as an (n, n_outputs) float array, checking shape and values."""
        k = self.sizes[-1]
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise TypeError(f"y must be numeric, got dtype {y.dtype}")
        if y.ndim == 0 or len(y) != n:
            raise ValueError(f"X has {n} rows but y has shape {y.shape}; they must match.")
        if loss == "cross_entropy" and y.ndim == 1:
            labels = y.astype(np.int64)
            if np.any(labels != y) or labels.min() < 0 or labels.max() >= k:
                raise ValueError(
                    f"cross-entropy needs integer class labels in 0..{k - 1} (shape (n,)), got "
                    f"values from {y.min()} to {y.max()}."
                )
            onehot = np.zeros((n, k))
            onehot[np.arange(n), labels] = 1.0
            return onehot
        Y = y.astype(float)
        if Y.ndim == 1 and k == 1:
            Y = Y[:, None]
        if Y.shape != (n, k):
            expected = f"({n},) or ({n}, 1)" if k == 1 else f"({n}, {k})"
            if loss == "cross_entropy":
                expected = f"({n},) integer labels or ({n}, {k}) one-hot rows"
            raise ValueError(f"y has shape {y.shape}, expected {expected} for a network with "
                             f"{k} output(s).")
        if loss == "bce" and (Y.min() < 0 or Y.max() > 1):
            raise ValueError(f"bce targets must lie in [0, 1], got values from {Y.min()} to "
                             f"{Y.max()}.")
        return Y

    # ---------------------------------------------------------------- forward
    def _forward(self, X: np.ndarray) -> np.ndarray:
        zs, outs = [], [X]
        a = X
        last = self.n_layers - 1
        log_p = None
        for layer, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ W + b
            if layer < last:
                a = self.hidden_activations[layer](z)
            elif self.output == "softmax":
                # Log-probabilities once, by log-sum-exp; the probabilities are their exp
                # and the cross-entropy loss reuses them instead of recomputing.
                log_p = activations.log_softmax(z, axis=1)
                a = np.exp(log_p)
            else:
                a = self._out_act(z)
            zs.append(z)
            outs.append(a)
        self.cache = {"z": zs, "a": outs}
        if log_p is not None:
            self.cache["log_p"] = log_p
        return a

    def forward(self, X) -> np.ndarray:
        """The network's output for ``X`` (after the output function); fills ``net.cache``."""
        return self._forward(self._check_X(X))

    __call__ = forward

    def logits(self, X) -> np.ndarray:
        """The output layer's pre-activation z_L (before sigmoid/softmax)."""
        self.forward(X)
        return self.cache["z"][-1]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities: (n,) P(class 1) for one sigmoid output, (n, k) for softmax."""
        if self.output == "identity":
            raise ValueError("predict_proba needs a sigmoid or softmax output; this network "
                             "is a regressor (output='identity'): use predict.")
        out = self.forward(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X) -> np.ndarray:
        """Labels for classifiers (0/1 for sigmoid, argmax for softmax); values for regression."""
        out = self.forward(X)
        if self.output == "softmax":
            return out.argmax(axis=1)
        if self.output == "sigmoid":
            labels = (out > 0.5).astype(np.int64)
            return labels[:, 0] if labels.shape[1] == 1 else labels
        return out[:, 0] if out.shape[1] == 1 else out

    # ---------------------------------------------------------------- loss and backward
    def _loss_and_delta(self, Y: np.ndarray, loss: str) -> tuple[float, np.ndarray]:
        """Loss value and dLoss/dz_L for the last forward pass, as every framework defines them."""
        out, z = self.cache["a"][-1], self.cache["z"][-1]
        if loss == "bce":
            # mean of -[y log p + (1-y) log(1-p)], written with the logits so it never overflows
            value = np.mean(np.maximum(z, 0) - z * Y + np.log1p(np.exp(-np.abs(z))))
            return float(value), (out - Y) / Y.size
        if loss == "cross_entropy":
            n = len(Y)
            value = -np.sum(Y * self.cache["log_p"]) / n
            return float(value), (out - Y) / n
        diff = out - Y
        value = np.mean(diff * diff)
        grad_out = 2 * diff / diff.size
        if self.output == "identity":
            return float(value), grad_out
        if self.output == "sigmoid":
            return float(value), grad_out * out * (1 - out)
        # softmax Jacobian-vector product: p * (g - sum(g p))
        return float(value), out * (grad_out - np.sum(grad_out * out, axis=1, keepdims=True))

    def _backward(self, delta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Backpropagate dLoss/dz_L through every layer; fills cache['fprime'] on the way."""
        a, z = self.cache["a"], self.cache["z"]
        grads = [None] * self.n_layers
        fprimes = [None] * (self.n_layers - 1)
        for layer in range(self.n_layers - 1, -1, -1):
            # z_l = a_{l-1} @ W_l + b_l, so dW_l = a_{l-1}^T delta_l and db_l = sum of delta_l
            # over the samples.
            grads[layer] = (a[layer].T @ delta, delta.sum(axis=0))
            if layer > 0:
                # Through W_l back to a_{l-1}, then through the activation: one factor
                # f'(z_{l-1}) per layer. This product is where gradients vanish or die.
                fprime = self.hidden_activations[layer - 1].grad_from_output(z[layer - 1],
                                                                            a[layer])
                fprimes[layer - 1] = fprime
                delta = (delta @ self.weights[layer].T) * fprime
        self.cache["fprime"] = fprimes
        return grads

    def loss(self, X, y, loss: str | None = None) -> float:
        """The loss on (X, y) without computing gradients."""
        loss = self._resolve_loss(loss)
        X = self._check_X(X)
        Y = self._check_y(y, len(X), loss)
        self._forward(X)
        return self._loss_and_delta(Y, loss)[0]

    def loss_and_grads(self, X, y, loss: str | None = None):
        """Return ``(loss, grads)``, ``grads[l] = (dW, db)`` for each layer in order.

        Losses: "mse" = mean over all elements of (output - y)^2; "bce" = mean binary
        cross-entropy from the logits of a sigmoid output; "cross_entropy" = mean over
        samples of -log softmax(logits)[label]. Default: the natural loss of the output.
        """
        loss = self._resolve_loss(loss)
        X = self._check_X(X)
        Y = self._check_y(y, len(X), loss)
        self._forward(X)
        value, delta = self._loss_and_delta(Y, loss)
        return value, self._backward(delta)

    def _accuracy(self, Y: np.ndarray) -> float:
        out = self.cache["a"][-1]
        if self.output == "softmax":
            return float(np.mean(out.argmax(axis=1) == Y.argmax(axis=1)))
        if self.output == "sigmoid":
            return np.count_nonzero((out > 0.5) == (Y > 0.5)) / out.size
        return float("nan")

    def accuracy(self, X, y) -> float:
        """Fraction of correct predictions (NaN for a regressor)."""
        loss = _DEFAULT_LOSS[self.output]
        X = self._check_X(X)
        Y = self._check_y(y, len(X), loss)
        self._forward(X)
        return self._accuracy(Y)

    # ---------------------------------------------------------------- training
    def fit(self, X, y, loss: str | None = None, epochs: int = 100, lr: float = 0.1,
            optimizer: str = "sgd", batch_size: int | None = None, X_val=None, y_val=None,
            seed: int = 0, momentum: float = 0.9, n_snapshots: int = 11,
            callback=None, optimizer_state=None, diagnostics: bool = True) -> History:
        """Train in place and return a :class:`History` (see its docstring for the layout).

        ``batch_size=None`` trains full-batch (one step per epoch). ``callback(epoch, net,
        history)``, if given, runs after each epoch (the last one included); returning
        ``False`` stops training, and that call is its last.
        If the loss becomes inf or NaN, training stops with a warning and
        ``history.diverged_at`` says when: usually the learning rate is too large.
        ``optimizer_state=history.optimizer_state`` of an earlier fit of this network with the
        same optimizer continues that training (``lr`` may change) instead of restarting it.
        ``diagnostics=False`` records only the loss and accuracy (training and validation),
        not the per-layer statistics that chapters 2-5 look inside a network with: the same
        training, faster, when only the trained network or its loss is needed.
        """
        loss = self._resolve_loss(loss)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}")
        lr = _positive(lr, "lr")
        optimizer = _choice(optimizer, OPTIMIZERS, "optimizer")
        X = self._check_X(X)
        Y = self._check_y(y, len(X), loss)
        n = len(X)
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
            or not 1 <= batch_size <= n
        ):
            raise ValueError(f"batch_size must be None (full batch) or a whole number in 1..{n}, "
                             f"got {batch_size!r}")
        has_val = X_val is not None or y_val is not None
        if has_val:
            if X_val is None or y_val is None:
                raise ValueError("give both X_val and y_val, or neither")
            X_val = self._check_X(X_val)
            Y_val = self._check_y(y_val, len(X_val), loss)

        n_snap = max(2, min(n_snapshots, epochs + 1))
        snapshots = np.unique(np.round(np.linspace(0, epochs, n_snap)))
        # Without diagnostics there are no snapshots either: no weights, no quantiles.
        history = History(epochs, self.layer_names(), snapshots if diagnostics else [])
        history.diagnostics = bool(diagnostics)
        if optimizer_state is None:
            opt = _OPTIMIZER_CLASSES[optimizer](lr, momentum=momentum)
        elif isinstance(optimizer_state, _OPTIMIZER_CLASSES[optimizer]):
            opt = optimizer_state
            opt.lr = lr
        else:
            raise ValueError(f"optimizer_state is the state of another optimizer than "
                             f"{optimizer!r}: {type(optimizer_state).__name__}")
        history.optimizer_state = opt
        rng = np.random.default_rng(seed)
        last_updates = None
        stopped = False

        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(epochs + 1):
                # Evaluate (and get full-batch gradients) at the current parameters.
                self._forward(X)
                value, delta = self._loss_and_delta(Y, loss)
                grads = self._backward(delta)
                history.loss[epoch] = value
                history.accuracy[epoch] = self._accuracy(Y)
                if diagnostics:
                    self._record(history, epoch, Y, grads, last_updates)
                if has_val:
                    self._forward(X_val)
                    history.val_loss[epoch] = self._loss_and_delta(Y_val, loss)[0]
                    history.val_accuracy[epoch] = self._accuracy(Y_val)
                if not math.isfinite(value):
                    history.diverged_at = epoch
                    warnings.warn(
                        f"training diverged at epoch {epoch}: the loss became {value}. "
                        f"Try a smaller learning rate than lr={lr}.", RuntimeWarning, stacklevel=2)
                    break
                if epoch == epochs:
                    break
                if callback is not None and epoch > 0 and callback(epoch, self, history) is False:
                    stopped = True  # the callback has seen this epoch, the last one trained
                    break
                if batch_size is None:
                    last_updates = self._apply(opt, grads)
                else:
                    order = rng.permutation(n)
                    for start in range(0, n, batch_size):
                        idx = order[start:start + batch_size]
                        self._forward(X[idx])
                        grads = self._backward(self._loss_and_delta(Y[idx], loss)[1])
                        last_updates = self._apply(opt, grads)
        if callback is not None and history.diverged_at is None and not stopped:
            callback(history.epochs, self, history)
        return history

    def _apply(self, opt, grads) -> list[np.ndarray]:
        """One optimizer step on the network's own parameters; returns the weight updates."""
        flat = [g for pair in grads for g in pair]
        updates = opt.updates(flat)
        params = [p for pair in zip(self.weights, self.biases) for p in pair]
        for p, u in zip(params, updates):
            p += u
        return updates[0::2]

    def _record(self, history: History, epoch: int, Y, grads, updates) -> None:
        """Store this epoch's per-layer statistics, reusing the forward/backward pass just done."""
        zs, outs, fprimes = self.cache["z"], self.cache["a"][1:], self.cache["fprime"]
        thr, share = diagnostics.SATURATION_THRESHOLD, diagnostics.fraction_true
        last = self.n_layers - 1
        # Speed forms, measured: these statistics, taken every epoch, were half of fit's time;
        # the root-mean-square deviation (a.std() takes the mean again) and counted shares
        # (diagnostics.fraction_true) cut the CPU time of a chapter's fits by 17-20 %.
        for layer in range(self.n_layers):
            a = outs[layer]
            mean = a.mean()
            deviation = (a - mean).ravel()
            history.act_mean[epoch, layer] = mean
            history.act_std[epoch, layer] = np.sqrt(deviation @ deviation / deviation.size)
            history.dead[epoch, layer] = diagnostics.dead_fraction_of(a)
            # Saturated: the derivative f'(z) < 0.01; backward already computed f'(z).
            if layer < last:
                if self.hidden_activations[layer].bounded:
                    history.saturated[epoch, layer] = share(fprimes[layer] < thr)
            elif self._out_act is not None and self._out_act.bounded:
                fprime = self._out_act.grad_from_output(zs[layer], a)
                history.saturated[epoch, layer] = share(fprime < thr)
            history.grad_norm[epoch, layer] = np.linalg.norm(grads[layer][0])
            if updates is not None:
                w_before = self.weights[layer] - updates[layer]
                history.update_ratio[epoch, layer] = diagnostics.update_to_weight_ratio(
                    w_before, self.weights[layer])
        if epoch in history.snapshot_epochs:
            k = history.snapshot_epochs.index(epoch)
            history.weight_snapshots.append([W.copy() for W in self.weights])
            for layer, a in enumerate(outs):
                history.act_quantiles[k, layer] = np.quantile(a, _QUANTILES)
