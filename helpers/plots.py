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
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
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
    "backend_shows_course_figures",
    # Chapter figures: layout code the lessons call, so a lesson cell keeps the maths.
    "training_dashboard",
    "plot_boundary_grid",
    "plot_validation_curves",
    "plot_folded_plane",
    "plot_1d_fits",
    "plot_temperature_sweep",
    "plot_probability_maps",
    "plot_tag_counts",
    "plot_finite_difference_errors",
    "plot_seed_comparison",
    "plot_weight_paths",
    "plot_training_curves",
    "plot_histogram_stacks",
    "plot_one_neuron_runs",
    "plot_shift_windows",
    "plot_confident_mistake",
    "plot_unit_activity",
]

# Okabe & Ito (2008), ordered so the first colours contrast best on white; yellow last.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
             "#F0E442"]
CLASS_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LAYER_MARKERS = ("o", "s", "^", "D", "v", "P")  # one per layer, where layers' lines overlap
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


def _fixed_subplots(figsize, nrows: int = 1, ncols: int = 1, *, left: float = 0.7,
                    right: float = 0.15, bottom: float = 0.5, top: float = 0.35,
                    wgap: float = 0.7, hgap: float = 0.6, **kwargs):
    """``subplots`` with margins and gaps fixed in inches, for the course's own figures.

    Constrained layout measures every label before drawing: half of a small figure's drawing
    time. A figure whose labels are known in advance can leave room for them by hand.
    ``left``/``bottom`` hold tick labels and an axis label, ``top`` a title, ``wgap``/``hgap``
    the labels between panels.
    """
    width, height = figsize
    panel_w = (width - left - right - (ncols - 1) * wgap) / ncols
    panel_h = (height - bottom - top - (nrows - 1) * hgap) / nrows
    kwargs.setdefault("squeeze", True)
    fig = _fixed_layout_figure(figsize)
    axes = fig.subplots(nrows, ncols, gridspec_kw={
        "left": left / width, "right": 1 - right / width,
        "bottom": bottom / height, "top": 1 - top / height,
        "wspace": wgap / panel_w, "hspace": hgap / panel_h}, **kwargs)
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
    """The x-intervals where an activation is flat: |f'(x)| < ``threshold``.

    The rule is the same for every activation: a saturated sigmoid's tails, ReLU's zero side
    and SiLU's far negative tail are all shaded; Leaky ReLU with alpha = 0.01 has
    |f'(x)| = 0.01 there, which is not below the threshold, so it is not.
    """
    act = _as_activation(act)
    mask = np.abs(act.grad(x)) < threshold
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
    for parameters). Shading marks where |f'(x)| < 0.01, the threshold ``diagnostics`` uses.
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
    # One swatch per curve whose band is shaded, in that curve's colour: the bands of several
    # curves differ (tanh flattens sooner than sigmoid) and overlap where both are flat.
    for i, act in enumerate(acts):
        if shaded and saturation_spans(act, x):
            handles.append(Patch(color=OKABE_ITO[i % len(OKABE_ITO)], alpha=0.25, lw=0))
            labels.append(f"{act.label} flat ($|f'| < {SATURATION_THRESHOLD:g}$)")
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


def layer_marks(n_layers: int, epochs: int, markersize: float = 5) -> list[dict]:
    """Line keywords for one curve per layer over ``epochs``: a marker each, at staggered epochs.

    Layers whose curves lie on top of each other (two layers both 0 % dead) stay visible.
    """
    step = max(epochs // 8, 1)
    return [{"marker": LAYER_MARKERS[j % len(LAYER_MARKERS)], "markersize": markersize,
             "markevery": (j * step // n_layers, step)} for j in range(n_layers)]


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


def _require_diagnostics(history, what: str) -> None:
    """A clear error for a History whose per-layer statistics were not recorded."""
    if getattr(history, "diagnostics", True) is False:
        raise ValueError(f"{what} draws per-layer statistics, but this History comes from "
                         "fit(..., diagnostics=False), which skips them: train again "
                         "without diagnostics=False.")


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
    # Margins fixed by hand (no layout pass): room for the title above and the labels.
    fig, axes = _fixed_subplots((min(2.3 * cols + 0.5, 12), 2.6 * rows + 0.1), rows, cols,
                                left=0.6, right=0.1, top=0.55, bottom=0.48, wgap=0.55,
                                hgap=0.75, squeeze=False)
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
        if i < len(outs) - 1:  # "dead" is a hidden unit's fault; an output unit is never dead
            lines.append(f"dead {_percent(stats['dead'][i])}")
        # Head-room above the tallest bar, so the box in the top corner covers no bar.
        axis.set_ylim(0, counts.max() * (1.12 + 0.13 * len(lines)))
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
    fig.suptitle(f"Activations per layer on a batch of {len(np.asarray(X))}", fontsize=11.5,
                 y=1 - 0.05 / fig.get_figheight(), va="top")
    return _finish(fig, show)


def _grad_norm_source(obj, X, y, loss):
    """('net', norms over layers, names) or ('history', norms [E+1, L], names)."""
    if hasattr(obj, "grad_norm") and hasattr(obj, "epoch"):
        _require_diagnostics(obj, "plot_gradient_norms")
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
    _require_diagnostics(history, "plot_dead_units")
    dead = _history_array(history, "dead")
    epoch = _history_array(history, "epoch")
    names = list(getattr(history, "layer_names", [f"layer {j + 1}" for j in range(dead.shape[1])]))
    if ax is None:
        fig, ax = subplots(1, 1, figsize=(5.4, 3.5))
    fig = ax.figure
    n_hidden = max(dead.shape[1] - 1, 1)  # the output layer never "dies" in the ReLU sense
    marks = layer_marks(n_hidden, len(epoch) - 1)
    for j in range(n_hidden):
        ax.plot(epoch, dead[:, j], color=OKABE_ITO[j % len(OKABE_ITO)], label=names[j],
                gid=f"dead:{j}", **marks[j])
    ax.set(xlabel="epoch", ylabel="dead units", ylim=(-0.03, 1.03),
           title=title or "Dead units per layer")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="best")
    return _finish(fig, show)


def plot_weights(net, *, title: str | None = None, show: bool = False) -> Figure:
    """A heatmap of every weight matrix on one centred colour scale, with one colourbar.

    ``title`` (optional) goes above the panels.
    """
    weights = [np.asarray(W, dtype=float) for W in net.weights]
    if not weights:
        raise ValueError("the network has no weight matrices")
    vmax = max(float(np.abs(W).max()) for W in weights) or 1.0
    names = _layer_names(net)
    n = len(weights)
    height = 3.4 + (0.25 if title else 0)
    # Margins fixed by hand (no layout pass); the colour bar takes its room from the panels.
    fig, axes = _fixed_subplots((min(2.8 * n + 1.2, 13), height), 1, n, left=0.62,
                                right=0.05, top=0.3 + (0.25 if title else 0), wgap=0.72,
                                squeeze=False)
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
    cb = fig.colorbar(im, ax=axes, shrink=0.9, pad=0.015, fraction=0.08)
    cb.set_label("weight $w$")
    if title:
        fig.suptitle(title, fontsize=11.5, y=1 - 0.08 / height, va="top")
    return _finish(fig, show)


_QUANTILES = np.array([0.0, 0.07, 0.16, 0.31, 0.5, 0.69, 0.84, 0.93, 1.0])


def plot_weight_distributions(history, *, show: bool = False) -> Figure:
    """How each layer's weight distribution moves over training: quantile bands over epochs.

    Bands are (min, max), (7%, 93%), (16%, 84%), (31%, 69%) around the median line, as in
    TensorBoard's distributions view. Uses ``history.weight_snapshots``.
    """
    _require_diagnostics(history, "plot_weight_distributions")
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
    # Margins fixed by hand (no layout pass): room for the title above and the labels.
    fig, axes = _fixed_subplots((min(3.0 * cols + 0.6, 13), 3.0 * rows), rows, cols, left=0.6,
                                right=0.1, top=0.55, bottom=0.48, wgap=0.55, hgap=0.75,
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
                 fontsize=10.5, y=1 - 0.05 / fig.get_figheight(), va="top")
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
        # Margins fixed by hand (no layout pass): the labels lie inside the axes' limits.
        fig, ax = _fixed_subplots((min(1.7 * n_cols + 2.2, 12), 4.2), left=0.05, right=0.0,
                                  bottom=0.05, top=0.3)
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

    The inline backend crops every figure to its contents ("tight"), and matplotlib draws a
    figure with a layout engine twice: once only to run the layout, then for real. The course's
    figures fit inside themselves (constrained layout, or margins fixed by hand), so each is
    laid out and then drawn once: drawing is most of a chapter's run time. A figure without a
    layout (made by hand) is cropped as the inline backend would.
    """
    from IPython.core.pylabtools import print_figure

    # One Agg canvas for the layout and the drawing. A figure made outside pyplot has a bare
    # canvas, and matplotlib would then lay it out with one renderer and draw it with another:
    # every label measured (and every $math$ label parsed) twice, as its caches are kept per
    # renderer. The figure gets its own canvas back afterwards, so no pixel buffer stays alive.
    own_canvas = fig.canvas
    FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    try:
        if engine is None:
            return print_figure(fig, "png", bbox_inches="tight", base64=True)
        engine.execute(fig)           # what the first draw would do, without drawing
        fig.set_layout_engine(None)   # so print_figure draws once, with the axes where they are
        try:
            return print_figure(fig, "png", bbox_inches=None, base64=True)
        finally:
            fig.set_layout_engine(engine)
    finally:
        fig.set_canvas(own_canvas)


def _fixed_layout_figure(figsize) -> Figure:
    """A Figure whose margins are given by hand (``gridspec_kw``), marked as laid out.

    For the largest figures: constrained layout measures every label before drawing; fixed
    margins skip that, and ``_notebook_png`` does not crop such a figure afterwards.
    """
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    fig = Figure(figsize=figsize)
    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True,
                                                  colorbar_gridspec=True))
    return fig


style()
_enable_notebook_display()



def training_dashboard(histories: Mapping, layer_names: Sequence[str] | None = None) -> Figure:
    """One row per training run: loss, gradient norm per layer, dead/saturated units, update ratio.

    ``histories`` maps a run's label to its :class:`helpers.nn.History` (from ``MLP.fit`` or the
    torch bridge). ``layer_names`` overrides the histories' own names in the legends. Read a
    row from left to right: is it learning, does the gradient reach every layer, are units
    dead or saturated, and how far does one step move the weights (healthy band shaded).
    """
    rows = len(histories)
    if rows == 0:
        raise ValueError("training_dashboard needs at least one History")
    for label, history in histories.items():
        _require_diagnostics(history, f"training_dashboard (run {label!r})")
    height = 3.0 * rows + 0.1
    # Fixed margins (in inches) instead of constrained layout: this figure is large.
    fig = _fixed_layout_figure((12, height))
    axes = fig.subplots(rows, 4, squeeze=False, gridspec_kw={
        "left": 0.065, "right": 0.99, "wspace": 0.38, "top": 1 - 0.35 / height,
        "bottom": 0.55 / height, "hspace": 0.45})
    for col in (1, 3):  # one log scale per column, so the runs compare at a glance
        for ax in axes[1:, col]:
            ax.sharey(axes[0, col])
    for (label, h), (ax_loss, ax_grad, ax_units, ax_ratio) in zip(histories.items(), axes):
        names = list(layer_names) if layer_names is not None else list(h.layer_names)
        n_layers = h.grad_norm.shape[1]
        if len(names) != n_layers:
            raise ValueError(f"{len(names)} layer names for a History of {n_layers} layers")
        colours = [mpl.colormaps["viridis"](j / max(n_layers - 1, 1)) for j in range(n_layers)]
        # One marker per layer, so lines that lie on top of each other (two layers both 94 %
        # saturated) stay distinguishable.
        marks = layer_marks(n_layers, h.epochs, markersize=4.5)
        # The training loss on top: a validation curve that zigzags must not hide it.
        ax_loss.plot(h.epoch, h.loss, label="train", zorder=3)
        curves = h.loss
        if np.any(np.isfinite(h.val_loss)):
            ax_loss.plot(h.epoch, h.val_loss, ls="--", lw=1.4, label="validation")
            curves = h.val_loss
            ax_loss.legend()
        ax_loss.set(ylabel="loss", title=f"{label}: loss")
        low, high = np.nanmin(curves), np.nanmax(curves)
        if high - low < 0.5:  # don't magnify a nearly flat curve into a steep one
            ax_loss.set_ylim((low + high) / 2 - 0.25, (low + high) / 2 + 0.25)
        # Exact zeros (no gradient at all) cannot be drawn on a log axis: they show as gaps.
        grad = np.where(h.grad_norm > 0, h.grad_norm, np.nan)
        for j in range(n_layers):
            ax_grad.plot(h.epoch, grad[:, j], color=colours[j], label=names[j], **marks[j])
        ax_grad.set(yscale="log", ylabel=r"$\|\partial L/\partial W_l\|$",
                    title="gradient norm per layer")
        ax_grad.legend(fontsize=8.5, loc="best")
        for j in range(n_layers - 1):
            ax_units.plot(h.epoch, h.dead[:, j], color=colours[j], **marks[j])
            ax_units.plot(h.epoch, h.saturated[:, j], color=colours[j], ls="--", **marks[j])
        ax_units.set(ylabel="share of units", ylim=(-0.03, 1.03),
                     title="dead (—) and saturated (--)")
        # Its own legend for the line styles; the layers' colours and markers are those of
        # the gradient-norm legend next to it.
        ax_units.legend(handles=[Line2D([], [], color="0.25", label="dead"),
                                 Line2D([], [], color="0.25", ls="--", label="saturated")],
                        fontsize=8.5, loc="best")
        ax_units.yaxis.set_major_formatter(PercentFormatter(1.0))
        ratio = np.where(h.update_ratio > 0, h.update_ratio, np.nan)
        ax_ratio.axhspan(1e-4, 1e-2, color=OKABE_ITO[2], alpha=0.12, lw=0)
        ax_ratio.axhline(1e-3, color=OKABE_ITO[2], ls=":", lw=1.2)
        for j in range(n_layers):
            ax_ratio.plot(h.epoch, ratio[:, j], color=colours[j], **marks[j])
        ax_ratio.set(yscale="log", ylabel=r"$\|\Delta W_l\| / \|W_l\|$",
                     title="update-to-weight ratio")
        for ax, values in ((ax_grad, h.grad_norm), (ax_ratio, h.update_ratio)):
            if np.any(values[1:] == 0):
                ax.text(0.5, 0.5, "exactly 0:\nno gradient", transform=ax.transAxes,
                        ha="center", va="center", color="0.35")
        for ax in (ax_loss, ax_grad, ax_units, ax_ratio):
            ax.set(xlabel="epoch", xlim=(0, h.epochs))
    if rows > 1 and len({h.epochs for h in histories.values()}) == 1:
        # Runs of the same length share their epoch axis: only the bottom row labels it
        # (fewer labels to read, and to draw).
        for ax in axes[:-1].ravel():
            ax.set_xlabel("")
            ax.tick_params(labelbottom=False)
    return fig




def plot_validation_curves(curves: Mapping, *, target: float | None = None,
                           show: bool = False) -> Figure:
    """Validation accuracy per epoch: one panel per task, one line per activation.

    ``curves[task, activation]`` is a run's ``History.val_accuracy``; panels and lines follow
    the order of first appearance. ``target`` (optional) is drawn as a dotted horizontal line.
    The y axis starts low enough for every curve, early dips included.
    """
    if not curves:
        raise ValueError("plot_validation_curves needs at least one curve")
    tasks = list(dict.fromkeys(task for task, _ in curves))
    acts = list(dict.fromkeys(act for _, act in curves))
    # Margins fixed by hand (no layout pass); the panels share their y axis.
    fig, axes = _fixed_subplots((5.5 * len(tasks), 3.8), 1, len(tasks), left=0.72, right=0.1,
                                top=0.32, bottom=0.5, wgap=0.25, sharey=True, squeeze=False)
    styles = ["-", "--", "-.", ":"]
    # The palette's eighth colour, yellow, is too pale for a thin line: grey, solid. The
    # fourth line (dotted) takes the purple, the fifth (solid) the vermilion: a dotted
    # vermilion next to the second line's dashed orange would be hard to tell apart.
    colours = [OKABE_ITO[k] for k in (0, 1, 2, 4, 3, 5, 6)] + ["0.45"]
    lowest = min(float(np.nanmin(curve)) for curve in curves.values())
    bottom = math.floor((lowest - 0.02) * 10) / 10
    for ax, task in zip(axes[0], tasks):
        for i, act in enumerate(acts):
            if (task, act) in curves:
                k = i % len(colours)
                ax.plot(curves[task, act], color=colours[k], lw=1.6, label=act,
                        ls="-" if k == len(colours) - 1 else styles[i % len(styles)])
        if target is not None:
            ax.axhline(target, color="k", ls=(0, (1, 3)), lw=1.1, label=f"target {target:.0%}")
        ax.set(xlabel="epoch", title=f"{task}: validation accuracy", ylim=(bottom, 1.02))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0, 0].set_ylabel("validation accuracy")
    axes[0, 0].legend(ncol=2, loc="lower right", fontsize=8.5)
    return _finish(fig, show)


# --------------------------------------------------------------------------------------
# Chapter 1: the folded plane and the 1-D fits
# --------------------------------------------------------------------------------------


def plot_boundary_grid(models: Mapping, datasets: Mapping, *, accuracy: Mapping | None = None,
                       resolution: int = 100, show: bool = False) -> Figure:
    """Decision boundaries in a grid: one row per activation, one column per data set.

    ``models[activation, name]`` is a binary classifier trained on ``datasets[name] = (X, y)``;
    rows follow the order of the activations in ``models``. ``accuracy[activation][name]``
    (optional; computed on (X, y) when not given) goes in each panel's title. One legend,
    one colour bar; each column shares its axes.
    """
    acts = list(dict.fromkeys(act for act, _ in models))
    names = list(datasets)
    missing = [(a, n) for a in acts for n in names if (a, n) not in models]
    if missing:
        raise ValueError(f"models needs a model for every (activation, data set) pair; "
                         f"missing {missing}")
    rows, cols = len(acts), len(names)
    width, height = 3.45 * cols + 0.65, 3.0 * rows + 0.2
    # Fixed margins (in inches) instead of constrained layout: nine panels.
    fig = _fixed_layout_figure((width, height))
    axes = fig.subplots(rows, cols, squeeze=False, sharex="col", sharey="col", gridspec_kw={
        "left": 0.55 / width, "right": 1 - 1.05 / width, "bottom": 0.5 / height,
        "top": 1 - 0.3 / height, "wspace": 0.25, "hspace": 0.17})
    for i, act in enumerate(acts):
        for j, name in enumerate(names):
            ax = axes[i, j]
            X, y = datasets[name]
            model = models[act, name]
            acc = (accuracy[act][name] if accuracy is not None
                   else float(np.mean(np.asarray(model.predict(X)) == np.asarray(y))))
            plot_decision_boundary(model, X, y, ax=ax, colorbar=False, resolution=resolution,
                                   title=f"{act} on {name}: {acc:.0%}")
            ax.locator_params(nbins=4)
            if (i, j) != (0, 0):
                ax.get_legend().remove()     # one legend is enough
            if i < rows - 1:
                ax.set_xlabel("")            # each column shares its x axis: label the bottom row
                ax.tick_params(labelbottom=False)
    right = axes[0, -1].get_position().x1
    bar = fig.add_axes((right + 0.25 / width, 0.25, 0.18 / width, 0.5))
    fig.colorbar(axes[0, -1].images[0], cax=bar, label="P(class 1)")
    bar.grid(False)
    return _finish(fig, show)


def plot_folded_plane(net, X, y, H, *, show: bool = False) -> Figure:
    """A 2-2-1 network seen twice: its boundary with each hidden unit's line in the input
    plane (left), and the data in the hidden features ``H`` with the output's line (right)."""
    from matplotlib import patheffects

    X, y, H = np.asarray(X, dtype=float), np.asarray(y), np.asarray(H, dtype=float)
    if net.sizes[1:] != [2, 1] or H.shape != (len(X), 2):
        raise ValueError(f"expected a [2, 2, 1] network and H of shape ({len(X)}, 2), got "
                         f"sizes {net.sizes} and H of shape {H.shape}")
    fig, (ax_in, ax_h) = subplots(1, 2, figsize=(10, 4.1))
    plot_decision_boundary(net, X, y, ax=ax_in, colorbar=False,
                           title="input space: two cuts make a band")
    t = np.linspace(-2.5, 2.5, 2)
    for j, colour in enumerate([OKABE_ITO[2], OKABE_ITO[4]]):
        (wa, wb), bj = net.weights[0][:, j], net.biases[0][j]
        # Each unit's line lies on the black boundary: drawn wide, dashed, above it and
        # edged in white, so it shows on both the boundary and the shading.
        ax_in.plot(t, -(wa * t + bj) / wb, ls="--", lw=3, color=colour, zorder=3,
                   path_effects=[patheffects.withStroke(linewidth=4.5, foreground="white")],
                   label=f"unit {j + 1}: $h_{j + 1} = 0$")
    ax_in.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8.5)
    for k, colour in enumerate(class_colours(2)):
        sel = y == k
        ax_h.scatter(H[sel, 0], H[sel, 1], s=18, color=colour, edgecolors="k", linewidths=0.4,
                     marker=CLASS_MARKERS[k], label=f"class {k}")
    (v1, v2), c = net.weights[1][:, 0], net.biases[1][0]
    h1 = np.linspace(-1.1, 1.1, 2)
    ax_h.plot(h1, -(v1 * h1 + c) / v2, color="k", lw=1.2, label="output boundary")
    ax_h.set(xlim=(-1.1, 1.1), ylim=(-1.1, 1.1), xlabel=r"$h_1 = f(\mathbf{w}_1^\top x + b_1)$",
             ylabel=r"$h_2 = f(\mathbf{w}_2^\top x + b_2)$", title="hidden space: one straight cut")
    ax_h.legend(loc="upper right", fontsize=8, framealpha=0.85)
    return _finish(fig, show)


def plot_1d_fits(X, y, models, widths, *, names=("tanh", "relu"), kinks=None,
                 x_range=(-4.5, 4.5), ylim=(-2.0, 2.0), show: bool = False) -> Figure:
    """One panel per hidden width h: the 1-D data and each fit (activation in ``names``).

    ``models[act, h]`` is a trained 1-input network, labelled with its MSE on (X, y);
    ``kinks[h]`` (optional) holds the inputs where the ReLU fit bends, marked as black dots.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    fig, axes = subplots(1, len(widths), figsize=(3.25 * len(widths), 3.6), sharey=True,
                         squeeze=False)
    xs = np.linspace(*x_range, 901)[:, None]
    colours = [OKABE_ITO[0], OKABE_ITO[3], OKABE_ITO[2], OKABE_ITO[4]]
    for ax, h in zip(axes[0], widths):
        ax.scatter(X[:, 0], y, s=8, color="0.65", label="data")
        for act, colour in zip(names, colours):
            net = models[act, h]
            ax.plot(xs[:, 0], net.predict(xs), color=colour, lw=2, gid=f"fit:{act}",
                    label=f"{act} (MSE {net.loss(X, y):.3f})")
        if kinks is not None:
            k = np.asarray(kinks[h], dtype=float)
            k = k[(k >= x_range[0]) & (k <= x_range[1])]
            ax.plot(k, models["relu", h].predict(k[:, None]), "o", ms=4.5, color="k",
                    label="relu kinks", zorder=4, gid="kinks")
        ax.set(title=f"{h} hidden units", xlabel="input $x$", xlim=x_range, ylim=ylim)
        ax.legend(loc="lower right", fontsize=7.5)
    axes[0, 0].set_ylabel(r"output $\hat y$")
    return _finish(fig, show)




# --------------------------------------------------------------------------------------
# Chapter 4: temperature sweep, class-probability maps, multi-label tag counts
# --------------------------------------------------------------------------------------


def plot_temperature_sweep(temperatures, P_bars, T_grid, P_curve, *, logits=None,
                           show: bool = False) -> Figure:
    """Softmax probabilities against temperature: bars at a few ``temperatures`` (rows of
    ``P_bars``, left) and one curve per class over ``T_grid`` (rows of ``P_curve``, right,
    log scale), each with the uniform level 1/k dotted."""
    P_bars, P_curve = np.asarray(P_bars, dtype=float), np.asarray(P_curve, dtype=float)
    T_grid = np.asarray(T_grid, dtype=float)
    k = P_bars.shape[1]
    if P_bars.shape != (len(temperatures), k) or P_curve.shape != (len(T_grid), k):
        raise ValueError(f"expected P_bars of shape ({len(temperatures)}, k) and P_curve of shape "
                         f"({len(T_grid)}, k), got {P_bars.shape} and {P_curve.shape}")
    colours = class_colours(k)
    fig, (ax_bars, ax_curve) = subplots(1, 2, figsize=WIDE)
    width = 0.78 / k
    for i in range(k):
        name = f"class {i}" if logits is None else f"class {i} ($z_{i}={logits[i]:g}$)"
        ax_bars.bar(np.arange(len(temperatures)) + (i - (k - 1) / 2) * width, P_bars[:, i],
                    width, color=colours[i], label=name)
        ax_curve.plot(T_grid, P_curve[:, i], color=colours[i], label=f"$p_{i}$", gid=f"p:{i}")
    for ax in (ax_bars, ax_curve):
        ax.axhline(1 / k, color="0.4", ls=":", lw=1.2,
                   label="$1/k$ (uniform)" if ax is ax_curve else None)
    ax_curve.axvline(1.0, color="0.6", lw=1)
    ax_bars.set(xticks=range(len(temperatures)), xticklabels=[f"{T:g}" for T in temperatures],
                xlabel="temperature $T$", ylabel="probability $p_i$", ylim=(0, 1.05),
                title=f"The same logits at {len(temperatures)} temperatures")
    ax_curve.set(xscale="log", xlabel="temperature $T$ (log scale)", ylabel="probability $p_i$",
                 ylim=(0, 1.05), title="From argmax ($T \\to 0$) to uniform ($T \\to \\infty$)")
    ax_bars.legend(loc="upper right")
    ax_curve.legend(loc="upper right")
    return _finish(fig, show)


def plot_probability_maps(P_grid, extent, X, y, *, show: bool = False) -> Figure:
    """One map per class of a softmax classifier's probability ``P_grid[..., k]`` over the
    square ``extent`` = (x0, x1, y0, y1), with that class's samples (white dots) and the
    level p = 0.5 (black line)."""
    P_grid, X, y = np.asarray(P_grid, dtype=float), np.asarray(X, dtype=float), np.asarray(y)
    if P_grid.ndim != 3:
        raise ValueError(f"P_grid must have shape (rows, cols, k), got {P_grid.shape}")
    k = P_grid.shape[2]
    gx, gy = np.meshgrid(np.linspace(extent[0], extent[1], P_grid.shape[1]),
                         np.linspace(extent[2], extent[3], P_grid.shape[0]))
    fig, axes = subplots(1, k, figsize=(3.5 * k, 3.4), squeeze=False)
    for j, (ax, colour) in enumerate(zip(axes[0], class_colours(k))):
        cmap = mcolors.LinearSegmentedColormap.from_list(f"class {j}", ["#ffffff", colour])
        im = ax.imshow(P_grid[..., j], origin="lower", extent=extent, vmin=0, vmax=1, cmap=cmap,
                       interpolation="bilinear")
        ax.contour(gx, gy, P_grid[..., j], levels=[0.5], colors="k", linewidths=1)
        ax.scatter(*X[y == j].T, s=10, color="white", edgecolors="k", linewidths=0.5)
        ax.set(xlabel="$x_1$", ylabel="$x_2$" if j == 0 else None, aspect="equal",
               title=f"$p_{j}(x)$: class {j}")
        ax.grid(False)
        fig.colorbar(im, ax=ax, shrink=0.8, label=f"$p_{j}$")
    return _finish(fig, show)


def plot_tag_counts(X, n_true, predicted: Mapping[str, np.ndarray], centres, radius: float, *,
                    lim: float = 2.0, show: bool = False) -> Figure:
    """Multi-label tags, one per disc: the samples coloured by their number of true tags
    ``n_true`` (left), then one panel per model in ``predicted`` (title -> a square grid of
    predicted tag counts over [-lim, lim]^2, NaN where there is nothing to predict)."""
    X, n_true = np.asarray(X, dtype=float), np.asarray(n_true, dtype=float)
    counts = mcolors.ListedColormap([OKABE_ITO[1], OKABE_ITO[5], OKABE_ITO[2], OKABE_ITO[6]])
    counts = counts.with_extremes(bad="white")  # outside the discs: no data, nothing to predict
    fig, axes = subplots(1, 1 + len(predicted), figsize=(3.5 * (1 + len(predicted)), 3.5))
    axes[0].scatter(*X.T, c=n_true, cmap=counts, vmin=-0.5, vmax=3.5, s=14, edgecolors="k",
                    linewidths=0.3)
    axes[0].set(title="Data: number of true tags", ylabel="$x_2$")
    im = None
    for ax, (title, n_pred) in zip(axes[1:], predicted.items()):
        im = ax.imshow(np.asarray(n_pred, dtype=float), origin="lower",
                       extent=(-lim, lim, -lim, lim), cmap=counts, vmin=-0.5, vmax=3.5,
                       interpolation="nearest")
        ax.set_title(title)
    theta = np.linspace(0, 2 * np.pi, 200)
    for ax in axes:
        for c in np.asarray(centres, dtype=float):
            ax.plot(c[0] + radius * np.cos(theta), c[1] + radius * np.sin(theta), color="k",
                    lw=0.8)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel="$x_1$")
        ax.grid(False)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.8, ticks=[0, 1, 2, 3], label="number of tags")
    return _finish(fig, show)




# --------------------------------------------------------------------------------------
# Chapter 6: the capstone's figures
# --------------------------------------------------------------------------------------


def plot_finite_difference_errors(hs, errors: dict, *, mark_h: float | None = 1e-5,
                                  title: str | None = None, ax=None,
                                  show: bool = False) -> Figure:
    """Error of each difference quotient against the step h, on log-log axes.

    ``errors`` maps a label (e.g. "central (f(x+h) - f(x-h))/2h") to one error per h in ``hs``;
    ``mark_h`` draws a dotted vertical line at that step.
    """
    if ax is None:
        fig, ax = subplots(1, 1, figsize=(5.8, 3.8))
    fig = ax.figure
    for i, (label, err) in enumerate(errors.items()):
        ax.loglog(hs, err, color=OKABE_ITO[i % len(OKABE_ITO)], label=label, gid=f"fd:{label}")
    if mark_h is not None:
        ax.axvline(mark_h, color="0.4", ls=":", lw=1.2, gid="mark_h")
        power = np.log10(mark_h)
        text = f"$h = 10^{{{power:.0f}}}$" if power == round(power) else f"$h = {mark_h:g}$"
        ax.annotate(text, (mark_h, 0.92), xycoords=("data", "axes fraction"), xytext=(6, 0),
                    textcoords="offset points", color="0.3", gid="mark_h_label")
    ax.set(xlabel="step $h$", ylabel=r"max error $|\mathrm{fd} - f'(x)|$",
           title=title or "Finite-difference error")
    if len(errors) > 1:
        ax.legend(loc="upper left")
    return _finish(fig, show)


def plot_seed_comparison(table: dict, *, ylim=(0.75, 1.01), title: str | None = None,
                         show: bool = False) -> Figure:
    """One panel per dataset: each activation's mean (bar) and every seed's result (dots).

    ``table`` is ``{dataset: {activation: [value per seed]}}``, as chapter 6's
    ``comparison_table`` returns it.
    """
    fig, axes = subplots(1, len(table), figsize=(8.5, 3.4), sharey=True, squeeze=False)
    # A run that did worse than ylim's lower end would be cut off: lower the axis to show it.
    lowest = min(min(values) for row in table.values() for values in row.values())
    ylim = (min(ylim[0], lowest - 0.02), ylim[1])
    for ax, (dataset, row) in zip(axes[0], table.items()):
        for i, (name, values) in enumerate(row.items()):
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            ax.bar(i, np.mean(values), color=colour, alpha=0.35, width=0.6, gid=f"mean:{name}")
            offsets = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else [0.0]
            ax.plot(i + np.asarray(offsets), values, "o", color=colour, gid=f"seeds:{name}")
        ax.set_xticks(range(len(row)), list(row))
        ax.set(title=dataset, xlabel="activation", ylim=ylim)
    axes[0, 0].set_ylabel("validation accuracy")
    fig.suptitle(title or "Validation accuracy: mean (bar) and each seed (dots)")
    return _finish(fig, show)




# --------------------------------------------------------------------------------------
# Chapter 2: zero-centring paths, training curves side by side, stacked layer histograms
# --------------------------------------------------------------------------------------


def plot_weight_paths(paths: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray],
                      w_start, w_star, *, extent: float = 1.6,
                      show: bool = False) -> Figure:
    """One panel per input kind: a 2-weight SGD path over its loss contours.

    ``paths[name]`` is the (steps, 2) sequence of weights; ``inputs[name]`` the (n, 2) inputs
    a of the linear unit, whose loss is the mean of (w.a - w*.a)^2 / 2 over the inputs.
    """
    fig, axes = subplots(1, len(paths), figsize=(8.6, 4.2), sharey=True, squeeze=False)
    g1, g2 = np.meshgrid(np.linspace(-extent, extent, 121), np.linspace(-extent, extent, 121))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    for ax, (name, path) in zip(axes[0], paths.items()):
        a = np.asarray(inputs[name], dtype=float)
        loss = np.mean((grid @ a.T - a @ np.asarray(w_star)) ** 2, axis=1).reshape(g1.shape) / 2
        ax.contour(g1, g2, loss, levels=np.geomspace(0.002, 2, 12), colors="0.75",
                   linewidths=0.8)
        ax.plot(path[:, 0], path[:, 1], "o-", ms=3, lw=1.2, color=OKABE_ITO[0],
                label="SGD path", gid=f"path:{name}")
        ax.plot(*w_start, "s", color=OKABE_ITO[3], ms=8, label="start")
        ax.plot(*w_star, "*", color=OKABE_ITO[2], ms=14, label=r"optimum $w^\star$")
        ax.set(xlabel="$w_1$", title=f"inputs from {name}", aspect="equal")
    axes[0, 0].set_ylabel("$w_2$")
    axes[0, -1].legend(loc="upper right")
    return _finish(fig, show)


def plot_training_curves(histories: Mapping, *, reference_loss: float | None = None,
                         reference_label: str | None = None, loss_label: str = "loss",
                         show: bool = False) -> Figure:
    """Training loss (left) and accuracy (right) of several runs, one line per run.

    ``reference_loss`` draws a dotted horizontal line on the loss panel, labelled
    ``reference_label`` (e.g. the loss of a constant prediction).
    """
    fig, axes = subplots(1, 2, figsize=(8.6, 3.3))
    for name, h in histories.items():
        axes[0].plot(h.epoch, h.loss, label=name, gid=f"loss:{name}")
        axes[1].plot(h.epoch, h.accuracy, label=name, gid=f"accuracy:{name}")
    top = max(float(np.nanmax(h.loss)) for h in histories.values())
    if reference_loss is not None:
        axes[0].axhline(reference_loss, color="0.5", ls=":", lw=1.2, gid="reference")
        last = max(float(h.epoch[-1]) for h in histories.values())
        if reference_label:
            axes[0].annotate(reference_label, (last, reference_loss), xytext=(0, 4),
                             textcoords="offset points", ha="right", color="0.35", fontsize=9)
        top = max(top, reference_loss)
    axes[0].set(xlabel="epoch", ylabel=loss_label, title="Training loss", ylim=(0, 1.12 * top))
    axes[1].set(xlabel="epoch", ylabel="accuracy", title="Training accuracy", ylim=(0.4, 1.02))
    axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[1].legend(loc="lower right")
    return _finish(fig, show)


def plot_histogram_stacks(nets: Mapping, X, *, bins: int = 40, title: str | None = None,
                          color=None, show: bool = False) -> Figure:
    """One panel per network: each hidden layer's activation histogram, layer 1 on top.

    The right margin gives each layer's saturated fraction (derivative < 0.01), so the
    panels compare how far the distribution has moved onto the flat ends, layer by layer.
    ``color`` fills the histograms (default the palette's first colour), so a chapter can
    keep one colour per activation across its figures.
    """
    fig, axes = subplots(1, len(nets), figsize=(8.6, 4.2), sharey=True, squeeze=False)
    for ax, (label, net) in zip(axes[0], nets.items()):
        stats = diagnostics.layer_stats(net, X)          # runs the network on X
        hidden = net.cache["a"][1:-1]
        act = _layer_activation(net, 0)
        lo, hi = act.output_range if act.bounded else (
            min(float(a.min()) for a in hidden), max(float(a.max()) for a in hidden))
        edges = np.linspace(lo, hi, bins + 1)
        n = len(hidden)
        for j, a in enumerate(hidden):
            counts, _ = np.histogram(a, bins=edges)
            base = n - 1 - j
            ax.axhline(base, color="0.75", lw=0.6)
            ax.stairs(base + 0.9 * counts / max(counts.max(), 1), edges, baseline=base,
                      fill=True, color=color or OKABE_ITO[0], alpha=0.75, gid=f"hist:{j + 1}")
            if np.isfinite(stats["saturated"][j]):
                ax.text(hi + 0.02 * (hi - lo), base + 0.15, _percent(stats["saturated"][j]),
                        fontsize=8.5, color="0.3", gid=f"saturated:{j + 1}")
        ax.set(title=f"{act.label}, {label}", xlabel="activation $a$",
               xlim=(lo - 0.025 * (hi - lo), hi + 0.15 * (hi - lo)),
               yticks=np.arange(n) + 0.3, yticklabels=[f"hidden {n - k}" for k in range(n)])
        ax.text(hi + 0.02 * (hi - lo), n - 0.1, "saturated", fontsize=8.5, color="0.3")
        ax.grid(False)
    fig.suptitle(title or f"Activations of each hidden layer on {len(np.asarray(X))} points")
    return _finish(fig, show)




def plot_one_neuron_runs(runs: Mapping, target: float, reached: Mapping, *,
                         show: bool = False) -> Figure:
    """Mean output (left) and loss (right) per SGD iteration of one-neuron runs, log-scaled.

    ``runs`` maps a name to (mean output per iteration, loss per iteration); ``reached`` maps
    a name to the iteration at which that run is first on target (or None), drawn as a dotted
    line with an "on target after n" note. The target is a dashed line on the output panel.
    """
    fig, axes = subplots(1, 2, figsize=WIDE)
    for (name, (mean_out, loss)), colour in zip(runs.items(), OKABE_ITO):
        it = np.arange(1, len(mean_out) + 1)
        axes[0].plot(it, mean_out, color=colour, label=f"{name} neuron", gid=f"output:{name}")
        axes[1].plot(it, loss, color=colour, label=f"{name} neuron", lw=1.2, gid=f"loss:{name}")
        if reached.get(name) is None:
            continue
        at = reached[name] + 1  # iterations are drawn from 1, so the log axis can show them
        for ax in axes:
            ax.axvline(at, color=colour, ls=":", lw=1.2, gid=f"reached:{name}")
        axes[0].annotate(f"on target\nafter {reached[name]}", (at, 0.8),
                         xycoords=("data", "axes fraction"), xytext=(4, 0),
                         textcoords="offset points", color=colour, fontsize=9)
    axes[0].axhline(target, color="k", ls="--", lw=1, label=f"target {target:g}", gid="target")
    axes[0].set(xlabel="SGD iteration (log scale)", ylabel=r"mean output $\hat y$ on the batch",
                title="Output per iteration")
    axes[0].legend(loc="center left")
    axes[1].set_yscale("log")
    log_axis_labels(axes[1])
    axes[1].set(xlabel="SGD iteration (log scale)", ylabel="L2 loss on the batch (log scale)",
                title="Loss per iteration")
    axes[1].legend(loc="lower left")
    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    return _finish(fig, show)




def plot_shift_windows(panels, *, ylabel: str, ylim=(0.5, 1.08), show: bool = False) -> Figure:
    """The naive and the stable softmax as every logit is shifted by c, one panel per window.

    ``panels`` holds (title, shifts, naive, stable): the probability each formula gives at
    each shift; where the naive one is NaN is shaded. ``ylim`` is one (bottom, top) pair for
    all panels (they then share the y axis), or one pair per panel.
    """
    ylims = [tuple(ylim)] * len(panels) if np.ndim(ylim) == 1 else [tuple(v) for v in ylim]
    fig, axes = subplots(1, len(panels), figsize=WIDE, sharey=len(set(ylims)) == 1,
                         squeeze=False)
    colours = class_colours(2)
    for ax, (title, shifts, naive, stable), lims in zip(axes[0], panels, ylims):
        shifts, naive, stable = (np.asarray(a, dtype=float) for a in (shifts, naive, stable))
        nan_at = shifts[np.isnan(naive)]
        if nan_at.size:
            ax.axvspan(nan_at.min(), nan_at.max(), color=OKABE_ITO[3], alpha=0.15, lw=0,
                       label="naive gives NaN")
        ax.plot(shifts, stable, color=colours[0], lw=5, alpha=0.5, gid="stable",
                label="stable (max subtracted)")
        ax.plot(shifts, naive, color=colours[1], lw=1.6, gid="naive",
                label="naive $e^{z_i} / \\sum_j e^{z_j}$")
        ax.set(xlim=(shifts[0], shifts[-1]), ylim=lims, title=title,
               xlabel="shift $c$ added to every logit")
    axes[0, 0].set_ylabel(ylabel)
    axes[0, -1].legend(loc="upper left")
    return _finish(fig, show)


def plot_confident_mistake(margins, grad_norms: Mapping, traces: Mapping, *, lr: float,
                           show: bool = False) -> Figure:
    """Losses on a confidently wrong softmax: each loss's gradient norm against the wrong
    class's margin (``grad_norms``, left, log scale) and the true class's probability over
    gradient-descent steps (``traces``, right)."""
    fig, (ax_g, ax_t) = subplots(1, 2, figsize=WIDE)
    colours = class_colours(max(len(grad_norms), len(traces)))
    for (name, norm), colour in zip(grad_norms.items(), colours):
        ax_g.semilogy(margins, norm, color=colour, label=name, gid=f"grad:{name}")
    ax_g.axvline(0, color="0.6", lw=1)
    ax_g.text(0.4, 0.25, "wrong, and sure of it $\\rightarrow$", fontsize=9,
              transform=ax_g.get_xaxis_transform())
    ax_g.set(xlabel="margin $m = z_1 - z_0$ of the wrong class",
             ylabel="$\\|\\nabla_z L\\|$ (log scale)", title="Gradient on the logits, true class 0")
    ax_g.legend(loc="lower left")
    for (name, trace), colour in zip(traces.items(), colours):
        ax_t.plot(np.arange(len(trace)), trace, color=colour, label=name, gid=f"p:{name}")
    ax_t.set(xlabel=f"gradient-descent step ($\\eta = {lr:g}$)", ylabel="$p_0$ (true class)",
             ylim=(-0.02, 1.02), title="Recovering from a confident mistake")
    ax_t.legend(loc="center right")
    return _finish(fig, show)




def plot_unit_activity(layers: Sequence, y, *, show: bool = False) -> Figure:
    """Each hidden layer's activations as an image: one row per unit, one column per input.

    The inputs are sorted by class (class 0 first, a dashed line at the change), so units that
    fire for one class only stand out. Exact zeros are white; every other value is coloured on
    one logarithmic scale shared by all panels (values below 1/1000 of the largest get its
    lowest colour), so a small output such as 0.05 is never mistaken for a zero. Titles give
    each layer's sparsity.
    """
    layers = [np.asarray(a, dtype=float) for a in layers]
    y = np.asarray(y).ravel()
    order = np.argsort(y, kind="stable")
    vmax = max(float(a.max()) for a in layers)
    vmax = vmax if vmax > 0 else 1.0
    positive = [float(a[a > 0].min()) for a in layers if np.any(a > 0)]
    vmin = max(min(positive, default=vmax / 1000), vmax / 1000)
    norm = mcolors.LogNorm(vmin=min(vmin, vmax), vmax=vmax, clip=True)
    cmap = mpl.colormaps["viridis"].with_extremes(bad="white")  # masked = exactly 0
    fig, axes = subplots(1, len(layers), figsize=(8.5, 3.6), squeeze=False)
    axes = list(axes.ravel())
    im = None
    for layer, (ax, a) in enumerate(zip(axes, layers), start=1):
        shown = np.ma.masked_equal(a[order].T, 0.0)
        im = ax.imshow(shown, aspect="auto", cmap=cmap, norm=norm, interpolation="nearest",
                       gid=f"activity:{layer}")
        ax.axvline(np.sum(y == y[order][0]) - 0.5, color="k", lw=1.5, ls="--", gid="classes")
        ax.set(xlabel="input sample (class 0 | class 1)", ylabel="unit $j$",
               title=f"Hidden layer {layer}: sparsity {np.mean(a == 0):.0%}")
        ax.grid(False)
    fig.colorbar(im, ax=axes, label="activation $a$ > 0 (log scale; white = exactly 0)",
                 shrink=0.9)
    return _finish(fig, show)


