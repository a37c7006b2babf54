"""Figures for the course, built on ``activations``, ``diagnostics`` and a network's history.

Every function returns a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``
unless ``show=True`` is passed. The figures are made with :class:`~matplotlib.figure.Figure`
directly, not through pyplot, so in a notebook a cell that *ends with the call* shows the
figure exactly once (a pyplot figure returned as a cell's value shows twice: once as the
value, once when the inline backend flushes its figures), and figures made in a loop don't
pile up in pyplot's registry.

Functions that draw a single panel take ``ax=``: then they draw into your axes and return
its figure. If you made that figure with ``plt.subplots`` and end the cell with the call,
add ``;`` -- or make the figure with :func:`subplots` from this module instead.

Importing this module applies the course style once (:func:`style`): the Okabe-Ito
colour-blind-safe palette, readable font sizes, and a CJK-capable fallback font so that
titles such as ``"Sigmoid激活函数"`` render as characters, not boxes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib import colors as mcolors
from matplotlib import font_manager
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from . import activations, diagnostics

__all__ = [
    "OKABE_ITO",
    "DIVERGING_CMAP",
    "CJKFontWarning",
    "style",
    "cjk_font",
    "subplots",
    "plot_activations",
    "plot_neuron",
    "plot_decision_boundary",
    "plot_history",
    "plot_layer_histograms",
    "plot_gradient_norms",
    "plot_dead_units",
    "plot_weights",
    "plot_weight_distributions",
    "plot_network",
    "plot_softmax",
]

# Okabe & Ito (2008), ordered so the first colours contrast best on white; yellow last.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
             "#F0E442"]
CLASS_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
DIVERGING_CMAP = "RdBu_r"  # colour-blind safe; red = positive, blue = negative
SATURATION_THRESHOLD = diagnostics.SATURATION_THRESHOLD
WIDE = (8.5, 3.4)  # two panels at a notebook's default width

_CJK_FAMILIES = [
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR",
    "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Droid Sans Fallback", "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB",
    "Heiti SC", "Arial Unicode MS", "Noto Serif CJK SC", "Noto Serif CJK JP", "AR PL UMing CN",
]
_CJK_FILE_HINTS = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy", "droidsansfallback",
                   "uming", "ukai")
_cjk_state: dict = {"checked": False, "family": None, "warned": False}


class CJKFontWarning(UserWarning):
    """No font able to draw Chinese/Japanese/Korean characters was found."""


def cjk_font() -> str | None:
    """The name of an installed CJK-capable font matplotlib can use, or None."""
    if _cjk_state["checked"]:
        return _cjk_state["family"]
    _cjk_state["checked"] = True
    known = {f.name for f in font_manager.fontManager.ttflist}
    family = next((name for name in _CJK_FAMILIES if name in known), None)
    if family is None:
        # matplotlib caches its font list; a font installed after the cache was built is
        # invisible until it is added by hand.
        for path in font_manager.findSystemFonts():
            low = path.lower().replace("-", "").replace("_", "")
            if any(hint in low for hint in _CJK_FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        known = {f.name for f in font_manager.fontManager.ttflist}
        family = next((name for name in _CJK_FAMILIES if name in known), None)
    _cjk_state["family"] = family
    return family


def style() -> None:
    """Apply the course style: Okabe-Ito colours, readable sizes, CJK font fallback."""
    rc = mpl.rcParams
    rc["axes.prop_cycle"] = mpl.cycler(color=OKABE_ITO)
    rc.update({
        "font.size": 10.5,
        "axes.titlesize": 11.5,
        "axes.labelsize": 10.5,
        "legend.fontsize": 9.5,
        "xtick.labelsize": 9.5,
        "ytick.labelsize": 9.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linewidth": 0.6,
        "lines.linewidth": 2.0,
        "legend.frameon": False,
        "image.cmap": "viridis",
        "axes.unicode_minus": True,
        # A fixed title position. By default matplotlib moves each title clear of any tick
        # labels on top of the axes, measuring every tick label at every draw to do so: a
        # third of a large figure's drawing time. No figure here puts labels on top.
        "axes.titley": 1.0,
    })
    family = cjk_font()
    if family is not None:
        # Font fallback (matplotlib >= 3.6): glyphs missing in the first family come from the next.
        rc["font.family"] = ["sans-serif", family]
    elif not _cjk_state["warned"]:
        _cjk_state["warned"] = True
        warnings.warn(
            "No CJK font found, so Chinese/Japanese/Korean labels would show as boxes. "
            "Install one with `apt-get install fonts-noto-cjk` (Debian/Ubuntu; on Binder it is "
            "listed in binder/apt.txt), then restart the kernel.",
            CJKFontWarning,
            stacklevel=2,
        )


# --------------------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------------------


def subplots(nrows: int = 1, ncols: int = 1, figsize=None, **kwargs):
    """Like ``plt.subplots`` but outside pyplot: the figure shows once as a cell's value."""
    if figsize is None:
        figsize = (4.2 * ncols + 0.4, 3.3 * nrows)
    kwargs.setdefault("squeeze", True)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def _finish(fig: Figure, show: bool) -> Figure:
    if show:
        _show(fig)
    return fig


def _show(fig: Figure) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with the stack
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(fig)
        return
    import matplotlib.pyplot as plt
    from matplotlib._pylab_helpers import Gcf

    if fig.canvas.manager is None:
        # A stand-alone Figure has no window; register one with pyplot so plt.show() opens it.
        manager = plt._get_backend_mod().new_figure_manager_given_figure(id(fig) % 10**6, fig)
        Gcf._set_new_active_manager(manager)
    plt.show()


def _as_activation(a) -> activations.Activation:
    return activations.get(a)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges [start, stop) of the True runs in a 1-D boolean mask."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2]))


def _check_ax_pair(ax, n: int, what: str):
    if ax is None:
        return None
    axes = [ax] if not isinstance(ax, (Sequence, np.ndarray)) else list(np.ravel(ax))
    if len(axes) != n:
        raise ValueError(f"{what} draws {n} panel(s), so ax= must be {n} Axes; got {len(axes)}")
    return axes


def log_axis_labels(ax) -> None:
    """Plain-number labels on a log y axis; minor ticks labelled only when it spans < 2 decades."""
    plain = FuncFormatter(lambda v, _: f"{v:.3g}")
    ax.yaxis.set_major_formatter(plain)
    lo, hi = ax.get_ylim()
    few = lo > 0 and hi / lo < 100
    ax.yaxis.set_minor_formatter(
        FuncFormatter(lambda v, _: f"{v:.2g}" if f"{v:.1e}"[0] in "25" else "") if few
        else NullFormatter())


def _percent(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.0f}%"


# --------------------------------------------------------------------------------------
# Activation functions
# --------------------------------------------------------------------------------------


def saturation_spans(act, x: np.ndarray, threshold: float = SATURATION_THRESHOLD):
    """The x-intervals where a bounded activation's derivative is below ``threshold``."""
    act = _as_activation(act)
    if not act.bounded:
        return []
    mask = act.grad(x) < threshold
    step = (x[-1] - x[0]) / max(len(x) - 1, 1)
    spans = []
    for i, j in _runs(mask):
        lo = x[0] if i == 0 else x[i] - step / 2
        hi = x[-1] if j == len(x) else x[j - 1] + step / 2
        spans.append((float(lo), float(hi)))
    return spans


def _derivative_peak(act, x: np.ndarray):
    """(x, f'(x)) of an isolated maximum of the derivative, or None for a plateau."""
    g = act.grad(x)
    i = int(np.argmax(g))
    top = g[i]
    if not np.isfinite(top) or top <= 0 or np.sum(np.abs(g - top) <= 1e-6 * max(1, top)) > 2:
        return None
    if i in (0, len(x) - 1):
        return None
    return float(x[i]), float(top)


def plot_activations(names, derivative: bool = True, x_range=(-6, 6), *, mark_max: bool = True,
                     shade_saturation: bool = True, n_points: int = 601, ax=None,
                     title: str | None = None, show: bool = False) -> Figure:
    """Activation functions (left) and their derivatives (right), saturated regions shaded.

    ``names`` is a name, an Activation, or a list of them (``activations.get("elu", alpha=0.5)``
    for parameters). Shading marks where f'(x) < 0.01, the threshold ``diagnostics`` uses.
    """
    if isinstance(names, (str, activations.Activation)):
        names = [names]
    acts = [_as_activation(n) for n in names]
    if not acts:
        raise ValueError("plot_activations needs at least one activation name, got none")
    lo, hi = x_range
    if not lo < hi:
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range!r}")
    n_panels = 2 if derivative else 1
    axes = _check_ax_pair(ax, n_panels, "plot_activations")
    if axes is None:
        fig, axes = subplots(1, n_panels, figsize=WIDE if derivative else (4.8, 3.4))
        axes = list(np.ravel(axes))
    fig = axes[0].figure
    x = np.linspace(lo, hi, n_points)
    shaded = False
    for i, act in enumerate(acts):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        axes[0].plot(x, act(x), color=colour, label=act.label, gid=f"f:{act.label}")
        if derivative:
            axes[1].plot(x, act.grad(x), color=colour, label=act.label, gid=f"df:{act.label}")
            if mark_max:
                peak = _derivative_peak(act, x)
                if peak is not None:
                    axes[1].plot(*peak, "o", color=colour, ms=5, gid=f"max:{act.label}")
                    axes[1].annotate(f"max {peak[1]:.3g}", peak, xytext=(4, 4),
                                     textcoords="offset points", fontsize=8.5, color=colour)
        if shade_saturation:
            for a, b in saturation_spans(act, x):
                for panel in axes:
                    panel.axvspan(a, b, color=colour, alpha=0.10, lw=0, gid="saturated")
                shaded = True
    axes[0].set(xlabel="input $x$", ylabel="$f(x)$", title=title or "Activation $f(x)$",
                xlim=(lo, hi))
    if derivative:
        axes[1].set(xlabel="input $x$", ylabel="$f'(x)$", title="Derivative $f'(x)$",
                    xlim=(lo, hi))
    handles, labels = axes[0].get_legend_handles_labels()
    if shaded:
        handles.append(Patch(color="0.5", alpha=0.25, lw=0))
        labels.append(f"saturated ($f'<{SATURATION_THRESHOLD:g}$)")
    if len(handles) > 1:
        axes[0].legend(handles, labels, loc="best")
    return _finish(fig, show)


def plot_neuron(activation="sigmoid", w: float = 1.0, b: float = 0.0, x_range=(-6, 6), *,
                n_points: int = 401, ax=None, show: bool = False) -> Figure:
    """One neuron a = f(w x + b) against x, with f(x) faint: w stretches, b shifts."""
    act = _as_activation(activation)
    for name, v in (("w", w), ("b", b)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not np.isfinite(v):
            raise TypeError(f"{name} must be a finite number, got {v!r}")
    lo, hi = x_range
    if ax is None:
        fig, ax = subplots(1, 1, figsize=(5.2, 3.5))
    fig = ax.figure
    x = np.linspace(lo, hi, n_points)
    ax.plot(x, act(x), color="0.6", lw=1.5, ls="--", label=f"$f(x)$, {act.name}", gid="reference")
    ax.plot(x, act(w * x + b), color=OKABE_ITO[0], label=f"$f({w:g}x {b:+g})$", gid="neuron")
    if w != 0 and lo <= -b / w <= hi:
        x0 = -b / w
        ax.axvline(x0, color=OKABE_ITO[3], lw=1.2, ls=":", gid="centre")
        ax.annotate(f"$x=-b/w={x0:.2g}$", (x0, 0.02), xycoords=("data", "axes fraction"),
                    xytext=(4, 0), textcoords="offset points", color=OKABE_ITO[3], fontsize=9,
                    gid="centre_label")
    ax.set(xlabel="input $x$", ylabel="activation $a$", xlim=(lo, hi),
           title=f"$a = f(wx+b)$, $w={w:g}$, $b={b:g}$")
    ax.legend(loc="upper left")
    return _finish(fig, show)


# --------------------------------------------------------------------------------------
# Decision boundaries and training curves
# --------------------------------------------------------------------------------------


def layer_colour(j: int, n_layers: int):
    """Okabe-Ito colours for up to 7 layers, a dark-to-light viridis ramp beyond."""
    if n_layers <= 7:
        return OKABE_ITO[j]
    return mpl.colormaps["viridis"](0.85 * j / max(n_layers - 1, 1))


def class_colours(k: int) -> list[str]:
    """The colour of each of ``k`` classes (class 0 blue, class 1 orange, ...)."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(k)]


def _probability_cmap():
    return mcolors.LinearSegmentedColormap.from_list(
        "course_binary", [OKABE_ITO[0], "#f7f7f7", OKABE_ITO[1]])


def _grid(X: np.ndarray, resolution: int, padding: float):
    lo = X.min(axis=0) - padding
    hi = X.max(axis=0) + padding
    g0 = np.linspace(lo[0], hi[0], resolution)
    g1 = np.linspace(lo[1], hi[1], resolution)
    xx, yy = np.meshgrid(g0, g1)
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()]), (lo[0], hi[0], lo[1], hi[1])


def decision_surface(model, X, resolution: int = 200, padding: float = 0.5):
    """Evaluate ``model`` on a grid around ``X``: (kind, values on the grid, extent, xx, yy).

    ``kind`` is "probability" (P(class 1) for a binary model with ``predict_proba``),
    or "label" (the predicted class).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision boundaries need 2-D inputs X of shape (n, 2), got {X.shape}")
    xx, yy, points, extent = _grid(X, int(resolution), padding)
    proba = getattr(model, "predict_proba", None)
    if proba is not None:
        p = np.asarray(proba(points), dtype=float)
        if p.ndim == 2 and p.shape[1] == 1:
            p = p[:, 0]
        if p.ndim == 2 and p.shape[1] == 2:
            p = p[:, 1]
        if p.ndim == 1:
            return "probability", p.reshape(xx.shape), extent, xx, yy
        return "label", p.argmax(axis=1).reshape(xx.shape), extent, xx, yy
    labels = np.asarray(model.predict(points))
    if labels.ndim != 1:
        raise ValueError(f"model.predict must return one label per point, got {labels.shape}")
    return "label", labels.astype(int).reshape(xx.shape), extent, xx, yy


def plot_decision_boundary(model, X, y, *, resolution: int = 200, padding: float = 0.5,
                           ax=None, title: str | None = None, colorbar: bool = True,
                           show: bool = False) -> Figure:
    """Class regions of ``model`` with the data (probability shading and 0.5 contour if binary).

    Works for anything with ``predict`` (and ``predict_proba`` if it has one). With
    ``title=None`` the title reports the accuracy on (X, y).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows: X {X.shape}, y {y.shape}")
    kind, values, extent, xx, yy = decision_surface(model, X, resolution, padding)
    if ax is None:
        fig, ax = subplots(1, 1, figsize=(5.0, 4.0))
    fig = ax.figure
    k = int(max(y.max(initial=0), values.max() if kind == "label" else 1)) + 1
    if kind == "probability":
        im = ax.imshow(values, origin="lower", extent=extent, aspect="auto",
                       cmap=_probability_cmap(), vmin=0, vmax=1, alpha=0.55, gid="surface",
                       interpolation="bilinear")
        ax.contour(xx, yy, values, levels=[0.5], colors="k", linewidths=1.2)
        if colorbar:
            cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.02)
            cb.set_label("P(class 1)")
    else:
        cmap = mcolors.ListedColormap(class_colours(k))
        ax.imshow(values, origin="lower", extent=extent, aspect="auto", cmap=cmap,
                  vmin=-0.5, vmax=k - 0.5, alpha=0.3, gid="surface", interpolation="nearest")
    for c in range(k):
        sel = y == c
        if sel.any():
            ax.scatter(X[sel, 0], X[sel, 1], s=18, c=OKABE_ITO[c % len(OKABE_ITO)],
                       marker=CLASS_MARKERS[c % len(CLASS_MARKERS)], edgecolors="k",
                       linewidths=0.4, label=f"class {c}", zorder=3)
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="$x_1$", ylabel="$x_2$")
    ax.grid(False)
    if title is None:
        acc = float(np.mean(np.asarray(model.predict(X)) == y))
        title = f"Decision boundary (accuracy {acc:.0%})"
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8.5, framealpha=0.8, frameon=True, handletextpad=0.2,
              borderpad=0.3)
    return _finish(fig, show)


def _history_array(history, name: str) -> np.ndarray:
    value = getattr(history, name, None)
    if value is None:
        raise TypeError(
            f"expected a History from net.fit(...) with a {name!r} array, "
            f"got {type(history).__name__}"
        )
    return np.asarray(value, dtype=float)


def plot_history(history, *, ax=None, title: str | None = None, show: bool = False) -> Figure:
    """Loss (left) and accuracy (right) over epochs, train and validation."""
    epoch = _history_array(history, "epoch")
    loss = _history_array(history, "loss")
    val_loss = np.asarray(getattr(history, "val_loss", np.full_like(loss, np.nan)), dtype=float)
    acc = np.asarray(getattr(history, "accuracy", np.full_like(loss, np.nan)), dtype=float)
    val_acc = np.asarray(getattr(history, "val_accuracy", np.full_like(loss, np.nan)), float)
    has_acc = bool(np.isfinite(acc).any())
    n = 2 if has_acc else 1
    axes = _check_ax_pair(ax, n, "plot_history")
    if axes is None:
        fig, axes = subplots(1, n, figsize=WIDE if has_acc else (4.8, 3.4))
        axes = list(np.ravel(axes))
    fig = axes[0].figure
    axes[0].plot(epoch, loss, label="train", gid="loss")
    if np.isfinite(val_loss).any():
        axes[0].plot(epoch, val_loss, label="validation", ls="--", gid="val_loss")
        axes[0].legend()
    axes[0].set(xlabel="epoch", ylabel="loss", title=title or "Loss")
    if has_acc:
        axes[1].plot(epoch, acc, label="train", gid="accuracy")
        if np.isfinite(val_acc).any():
            axes[1].plot(epoch, val_acc, label="validation", ls="--", gid="val_accuracy")
            axes[1].legend(loc="lower right")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(-0.02, 1.02))
        axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(fig, show)


# --------------------------------------------------------------------------------------
# Looking inside a network
# --------------------------------------------------------------------------------------


def _layer_names(net) -> list[str]:
    names = getattr(net, "layer_names", None)
    if callable(names):
        return list(names())
    if names is not None:
        return list(names)
    return [f"layer {i + 1}" for i in range(net.n_layers)]


def _layer_activation(net, i: int):
    hidden = list(net.hidden_activations)
    if i < len(hidden):
        return hidden[i]
    return None if net.output == "softmax" else activations.get(net.output)


def _grid_shape(n: int, max_cols: int = 5) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def plot_layer_histograms(net, X, *, bins: int = 40, include_output: bool = True,
                          show: bool = False) -> Figure:
    """The distribution of each layer's activations on the batch ``X``, one small panel each.

    Each panel states the saturated fraction (bounded activations) and the dead fraction.
    """
    stats = diagnostics.layer_stats(net, X)  # runs net.forward(X)
    outs = net.cache["a"][1:]
    names = _layer_names(net)
    n = len(outs) if include_output else len(outs) - 1
    if n < 1:
        raise ValueError("this network has no hidden layer; pass include_output=True")
    rows, cols = _grid_shape(n)
    fig, axes = subplots(rows, cols, figsize=(min(2.3 * cols + 0.5, 12), 2.6 * rows),
                         squeeze=False)
    flat = list(axes.ravel())
    for i in range(n):
        axis = flat[i]
        a = np.asarray(outs[i], dtype=float).ravel()
        act = _layer_activation(net, i)
        if act is not None and act.bounded:
            lo, hi = act.output_range
        else:
            lo, hi = float(a.min()), float(a.max())
            if hi - lo < 1e-9:
                lo, hi = lo - 0.5, hi + 0.5
        counts, edges = np.histogram(a, bins=bins, range=(lo, hi))
        colour = OKABE_ITO[3] if i == len(outs) - 1 else OKABE_ITO[0]
        axis.stairs(counts, edges, fill=True, color=colour, alpha=0.75, gid="hist")
        lines = []
        if np.isfinite(stats["saturated"][i]):
            lines.append(f"saturated {_percent(stats['saturated'][i])}")
        lines.append(f"dead {_percent(stats['dead'][i])}")
        axis.text(0.97, 0.95, "\n".join(lines), transform=axis.transAxes, ha="right", va="top",
                  fontsize=8.5, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.8",
                                      "alpha": 0.85})
        axis.set_title(names[i], fontsize=10)
        axis.set_xlabel("activation $a$")
        axis.tick_params(labelsize=8)
        if i % cols == 0:
            axis.set_ylabel("count")
    for axis in flat[n:]:
        axis.set_visible(False)
    fig.suptitle(f"Activations per layer on a batch of {len(np.asarray(X))}", fontsize=11.5)
    return _finish(fig, show)


def _grad_norm_source(obj, X, y, loss):
    """('net', norms over layers, names) or ('history', norms [E+1, L], names)."""
    if hasattr(obj, "grad_norm") and hasattr(obj, "epoch"):
        return "history", np.asarray(obj.grad_norm, dtype=float), list(obj.layer_names)
    if hasattr(obj, "loss_and_grads"):
        if X is None or y is None:
            raise ValueError("plot_gradient_norms(net) needs a batch: pass X= and y=")
        return "net", diagnostics.gradient_norms(obj, X, y, loss=loss), _layer_names(obj)
    raise TypeError(
        "plot_gradient_norms expects a network (with loss_and_grads), a History, or a dict of "
        f"them; got {type(obj).__name__}"
    )


def plot_gradient_norms(source, X=None, y=None, *, loss: str | None = None, ax=None,
                        title: str | None = None, show: bool = False) -> Figure:
    """Per-layer gradient norms ||dL/dW|| on a log axis.

    ``source`` is a network (with a batch ``X, y``: one point per layer), a History (one
    line per layer over epochs), or a dict label -> network / History to compare: networks
    share one panel, histories get one panel each, side by side with a shared y axis.
    """
    items = dict(source) if isinstance(source, Mapping) else {"": source}
    if not items:
        raise ValueError("plot_gradient_norms got an empty dict; pass label -> network or History")
    parsed = {label: _grad_norm_source(obj, X, y, loss) for label, obj in items.items()}
    kinds = {p[0] for p in parsed.values()}
    if len(kinds) > 1:
        raise TypeError("plot_gradient_norms: pass either networks or Histories, not a mixture")
    kind = kinds.pop()
    if kind == "net":
        if ax is None:
            fig, ax = subplots(1, 1, figsize=(5.6, 3.6))
        fig = ax.figure
        longest = []
        for i, (label, (_, norms, names)) in enumerate(parsed.items()):
            layers = np.arange(1, len(norms) + 1)
            ax.plot(layers, norms, "o-", color=OKABE_ITO[i % len(OKABE_ITO)],
                    label=label or None, gid=f"norms:{label}")
            if len(names) > len(longest):
                longest = names
        ax.set_yscale("log")
        log_axis_labels(ax)
        ax.set_xticks(np.arange(1, len(longest) + 1))
        ax.set_xticklabels([n.split(" (")[0].replace("hidden ", "h") for n in longest])
        ax.set(xlabel="layer (input side → output side)", ylabel=r"$\|\partial L/\partial W\|$",
               title=title or "Gradient norm per layer")
        if len(parsed) > 1:
            ax.legend()
        return _finish(fig, show)
    n = len(parsed)
    if ax is not None:
        axes = _check_ax_pair(ax, n, "plot_gradient_norms")
        fig = axes[0].figure
    else:
        fig, axes = subplots(1, n, figsize=(min(4.4 * n + 0.6, 13), 3.5), sharey=True,
                             squeeze=False)
        axes = list(axes.ravel())
    for axis, (label, (_, norms, names)) in zip(axes, parsed.items()):
        epochs = np.arange(norms.shape[0])
        L = norms.shape[1]
        for j in range(L):
            axis.plot(epochs, norms[:, j], color=layer_colour(j, L), label=names[j],
                      gid=f"layer:{j}")
        axis.set_yscale("log")
        log_axis_labels(axis)
        axis.set(xlabel="epoch", title=label or title or "Gradient norm per layer")
    axes[0].set_ylabel(r"$\|\partial L/\partial W\|$")
    axes[-1].legend(fontsize=8, loc="best")
    return _finish(fig, show)


def plot_dead_units(history, *, ax=None, title: str | None = None, show: bool = False) -> Figure:
    """Fraction of dead units in each hidden layer over training."""
    dead = _history_array(history, "dead")
    epoch = _history_array(history, "epoch")
    names = list(getattr(history, "layer_names", [f"layer {j + 1}" for j in range(dead.shape[1])]))
    if ax is None:
        fig, ax = subplots(1, 1, figsize=(5.4, 3.5))
    fig = ax.figure
    n_hidden = max(dead.shape[1] - 1, 1)  # the output layer never "dies" in the ReLU sense
    for j in range(n_hidden):
        ax.plot(epoch, dead[:, j], color=OKABE_ITO[j % len(OKABE_ITO)], label=names[j],
                gid=f"dead:{j}")
    ax.set(xlabel="epoch", ylabel="dead units", ylim=(-0.03, 1.03),
           title=title or "Dead units per layer")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="best")
    return _finish(fig, show)


def plot_weights(net, *, show: bool = False) -> Figure:
    """A heatmap of every weight matrix on one centred colour scale, with one colourbar."""
    weights = [np.asarray(W, dtype=float) for W in net.weights]
    if not weights:
        raise ValueError("the network has no weight matrices")
    vmax = max(float(np.abs(W).max()) for W in weights) or 1.0
    names = _layer_names(net)
    n = len(weights)
    fig, axes = subplots(1, n, figsize=(min(2.8 * n + 1.2, 13), 3.4), squeeze=False)
    axes = list(axes.ravel())
    im = None
    for i, (axis, W) in enumerate(zip(axes, weights)):
        im = axis.imshow(W, cmap=DIVERGING_CMAP, vmin=-vmax, vmax=vmax, aspect="auto",
                         interpolation="nearest")
        axis.grid(False)
        axis.set_title(f"$W_{i + 1}$: {names[i]}", fontsize=9.5)
        axis.set_xlabel(f"to unit ({W.shape[1]})")
        axis.set_ylabel(f"from unit ({W.shape[0]})")
        for which, size in (("x", W.shape[1]), ("y", W.shape[0])):
            step = max(1, int(np.ceil(size / 6)))
            getattr(axis, f"set_{which}ticks")(np.arange(0, size, step))
    cb = fig.colorbar(im, ax=axes, shrink=0.9, pad=0.02)
    cb.set_label("weight $w$")
    return _finish(fig, show)


_QUANTILES = np.array([0.0, 0.07, 0.16, 0.31, 0.5, 0.69, 0.84, 0.93, 1.0])


def plot_weight_distributions(history, *, show: bool = False) -> Figure:
    """How each layer's weight distribution moves over training: quantile bands over epochs.

    Bands are (min, max), (7%, 93%), (16%, 84%), (31%, 69%) around the median line, as in
    TensorBoard's distributions view. Uses ``history.weight_snapshots``.
    """
    snaps = getattr(history, "weight_snapshots", None)
    epochs = getattr(history, "snapshot_epochs", None)
    if not snaps or epochs is None or len(snaps) != len(epochs):
        raise ValueError(
            "plot_weight_distributions needs a History with weight_snapshots and snapshot_epochs "
            "of the same length (recorded by net.fit); got none"
        )
    epochs = np.asarray(epochs, dtype=float)
    n_layers = len(snaps[0])
    names = list(getattr(history, "layer_names", [f"layer {j + 1}" for j in range(n_layers)]))
    q = np.array([[np.quantile(np.ravel(s[j]), _QUANTILES) for s in snaps]
                  for j in range(n_layers)])  # [layer, snapshot, quantile]
    rows, cols = _grid_shape(n_layers, 4)
    fig, axes = subplots(rows, cols, figsize=(min(3.0 * cols + 0.6, 13), 3.0 * rows),
                         squeeze=False, sharex=True)
    flat = list(axes.ravel())
    for j in range(n_layers):
        axis = flat[j]
        colour = OKABE_ITO[j % len(OKABE_ITO)]
        for k in range(4):
            axis.fill_between(epochs, q[j, :, k], q[j, :, -1 - k], color=colour,
                              alpha=0.15 + 0.12 * k, lw=0)
        axis.plot(epochs, q[j, :, 4], color=colour, lw=1.5, marker="o" if len(epochs) < 3 else None,
                  gid="median")
        axis.axhline(0, color="0.3", lw=0.6)
        axis.set_title(names[j], fontsize=10)
        axis.set_xlabel("epoch")
        if j % cols == 0:
            axis.set_ylabel("weight $w$")
    for axis in flat[n_layers:]:
        axis.set_visible(False)
    fig.suptitle("Weight distributions over training (median, 31-69%, 16-84%, 7-93%, min-max)",
                 fontsize=10.5)
    return _finish(fig, show)


def _shown_units(size: int, max_nodes: int) -> tuple[list[int], bool]:
    if size <= max_nodes:
        return list(range(size)), False
    head = (max_nodes - 1) // 2
    tail = max_nodes - 1 - head
    return list(range(head)) + list(range(size - tail, size)), True


def plot_network(net, *, max_nodes: int = 12, ax=None, show: bool = False) -> Figure:
    """The network as columns of nodes; edge colour = sign of the weight, width = |w|."""
    sizes = list(net.sizes)
    weights = [np.asarray(W, dtype=float) for W in net.weights]
    if max_nodes < 3:
        raise ValueError(f"max_nodes must be at least 3, got {max_nodes}")
    if ax is None:
        n_cols = len(sizes)
        fig, ax = subplots(1, 1, figsize=(min(1.7 * n_cols + 2.2, 12), 4.2))
    fig = ax.figure
    shown = [_shown_units(s, max_nodes) for s in sizes]
    span = max(len(u) + (1 if cut else 0) for u, cut in shown)

    def positions(col):
        units, cut = shown[col]
        m = len(units) + (1 if cut else 0)
        ys = np.linspace(-(m - 1) / 2, (m - 1) / 2, m)[::-1] if m > 1 else np.zeros(1)
        if cut:
            head = (max_nodes - 1) // 2
            pos = dict(zip(units[:head], ys[:head]))
            pos.update(zip(units[head:], ys[head + 1:]))
            return pos, ys[head]
        return dict(zip(units, ys)), None

    vmax = max(float(np.abs(W).max()) for W in weights) or 1.0
    cmap = mpl.colormaps[DIVERGING_CMAP]
    norm = mcolors.Normalize(-vmax, vmax)
    cols = [positions(c) for c in range(len(sizes))]
    for layer, W in enumerate(weights):
        (src, _), (dst, _) = cols[layer], cols[layer + 1]
        segs, cols_rgba, widths = [], [], []
        for i, yi in src.items():
            for j, yj in dst.items():
                w = W[i, j]
                segs.append([(layer, yi), (layer + 1, yj)])
                cols_rgba.append(cmap(norm(w)))
                widths.append(0.3 + 2.7 * abs(w) / vmax)
        order = np.argsort(widths)  # thick edges on top
        ax.add_collection(LineCollection([segs[k] for k in order],
                                         colors=[cols_rgba[k] for k in order],
                                         linewidths=[widths[k] for k in order], zorder=1,
                                         gid=f"edges:{layer}"))
    names = _layer_names(net)
    for c, (pos, dots) in enumerate(cols):
        xs = np.full(len(pos), c)
        face = "white" if 0 < c < len(sizes) - 1 else ("0.85" if c == 0 else "#fde0b8")
        ax.scatter(xs, list(pos.values()), s=140, c=face, edgecolors="0.2", linewidths=1.2,
                   zorder=3)
        if dots is not None:
            ax.text(c, dots, "⋮", ha="center", va="center", fontsize=16, zorder=4)
        if c == 0:
            label = f"input\n{sizes[0]}"
        else:
            name = names[c - 1]
            kind = name.split(" (")[0]
            act = name[name.find("(") + 1: -1] if "(" in name else ""
            label = f"{kind}\n{sizes[c]} · {act}" if act else f"{kind}\n{sizes[c]}"
        ax.text(c, -(span - 1) / 2 - 0.7, label, ha="center", va="top", fontsize=9.5)
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-(span - 1) / 2 - 1.9, (span - 1) / 2 + 0.7)
    ax.set_axis_off()
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, shrink=0.7, pad=0.01)
    cb.set_label("weight $w$ (edge width ∝ $|w|$)")
    total = sum(W.size for W in weights) + sum(np.size(b) for b in getattr(net, "biases", []))
    ax.set_title(f"Network {'-'.join(map(str, sizes))}: {total} parameters")
    return _finish(fig, show)


def plot_softmax(logits, temperature: float = 1.0, *, class_names=None, ax=None,
                 show: bool = False) -> Figure:
    """Logits (left) next to softmax probabilities (right); the argmax is highlighted."""
    z = np.asarray(logits, dtype=float)
    if z.ndim != 1 or z.size < 1:
        raise ValueError(f"logits must be a 1-D sequence of scores, got shape {z.shape}")
    p = activations.softmax(z, temperature=temperature)
    k = z.size
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} entries for {k} logits")
    axes = _check_ax_pair(ax, 2, "plot_softmax")
    if axes is None:
        fig, axes = subplots(1, 2, figsize=WIDE)
        axes = list(np.ravel(axes))
    fig = axes[0].figure
    idx = np.arange(k)
    top = int(np.argmax(p))
    zl = axes[0].bar(idx, z, color=OKABE_ITO[0], gid="logits")
    pl = axes[1].bar(idx, p, color=OKABE_ITO[1], gid="probabilities")
    pl[top].set_edgecolor("k")
    pl[top].set_linewidth(2)
    zmax = max(1.0, float(np.abs(z).max()))
    axes[0].set(ylim=(-zmax * 1.2, zmax * 1.2), xlabel="class", ylabel="logit $z_i$",
                title="Logits $z$", xticks=idx, xticklabels=names)
    axes[0].axhline(0, color="0.3", lw=0.8)
    axes[1].set(ylim=(0, 1.12), xlabel="class", ylabel="probability $p_i$", xticks=idx,
                xticklabels=names,
                title=f"softmax$(z/T)$, $T={temperature:g}$: sum = {p.sum():.3f}")
    for i, (bar, value) in enumerate(zip(zl, z)):
        axes[0].annotate(f"{value:.2f}", (bar.get_x() + bar.get_width() / 2, value),
                         xytext=(0, 3 if value >= 0 else -3), textcoords="offset points",
                         ha="center", va="bottom" if value >= 0 else "top", fontsize=8.5,
                         gid=f"zlabel:{i}")
    for i, (bar, value) in enumerate(zip(pl, p)):
        axes[1].annotate(f"{value:.1%}", (bar.get_x() + bar.get_width() / 2, value),
                         xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                         fontsize=8.5, fontweight="bold" if i == top else "normal",
                         gid=f"plabel:{i}")
    return _finish(fig, show)



# Backends that draw to files, never to a screen. Under one of them (some server images set
# MPLBACKEND=Agg) nothing else would show a figure in a notebook, so the course's PNG display
# hook is installed for them as for the inline backend.
NON_INTERACTIVE_BACKENDS = frozenset({"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"})


def backend_shows_course_figures(backend: str | None = None) -> bool:
    """True when figures returned by a cell display as PNGs under ``backend`` (default: current).

    The inline backend and the file-only backends (Agg, ...) do; an interactive backend chosen
    by the user (``%matplotlib widget``, Qt, Tk) takes over display, and the course leaves it be.
    """
    if backend is None:
        backend = mpl.rcParams._get_backend_or_none() or ""
    backend = str(backend).lower()
    return not backend or "inline" in backend or backend in NON_INTERACTIVE_BACKENDS


def _enable_notebook_display() -> None:
    """Make a Figure returned as a cell's value display as a PNG in Jupyter.

    The inline backend registers that display hook only once pyplot is imported; these
    figures are made without pyplot, so register it here (when running in a kernel with
    the inline backend or a file-only one such as Agg, and only if nothing else has claimed
    Figure's PNG display).
    """
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to register
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    if not backend_shows_course_figures():
        return  # the user chose an interactive backend (e.g. %matplotlib widget): leave it be
    png = shell.display_formatter.formatters["image/png"]
    if Figure not in png.type_printers:
        png.for_type(Figure, _notebook_png)


def _notebook_png(fig: Figure) -> str | None:
    """The PNG (base64) a notebook shows for ``fig``.

    The inline backend crops every figure to its contents ("tight"), which costs a second
    full draw. A constrained-layout figure (all of this module's) already fits everything
    inside itself, so it is drawn once: drawing is most of a chapter's run time.
    """
    from IPython.core.pylabtools import print_figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    fitted = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    return print_figure(fig, "png", bbox_inches=None if fitted else "tight", base64=True)


style()
_enable_notebook_display()
