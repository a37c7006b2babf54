"""Networks and decision surfaces: class regions, the network diagram, weights, and what each
layer outputs (histograms, weight distributions, unit activity)."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from .. import activations, diagnostics
from .house import (
    _finish,
    _fixed_subplots,
    _percent,
    _require_diagnostics,
    place_legend,
    subplots,
)
from .palette import (
    CLASS_MARKERS,
    DIVERGING_CMAP,
    _probability_cmap,
    class_colours,
    layer_colour,
)


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


# --------------------------------------------------------------------------------------
# Decision surfaces
# --------------------------------------------------------------------------------------


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


def class_legend_handles(k: int) -> list:
    """Legend entries for ``k`` classes, drawn as the data are (colour, marker, black edge)."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], ls="none", marker=CLASS_MARKERS[c % len(CLASS_MARKERS)], ms=5,
                   markerfacecolor=colour_, markeredgecolor="k", markeredgewidth=0.4,
                   label=f"class {c}") for c, colour_ in enumerate(class_colours(k))]


#: The legend's name for the black 0.5 contour of a binary decision map.
BOUNDARY_LABEL = "boundary, $P = 0.5$"
#: A boundary is weak (drawn dotted) where P stays within this of 1/2 over the whole panel.
WEAK_BOUNDARY = 0.1


def plot_decision_boundary(model, X, y, *, resolution: int = 200, padding: float = 0.5,
                           ax=None, title: str | None = None, colorbar: bool = True,
                           legend: str | None = "auto", show: bool = False) -> Figure:
    """Class regions of ``model`` with the data (probability shading and 0.5 contour if binary).

    Works for anything with ``predict`` (and ``predict_proba`` if it has one). With
    ``title=None`` the title reports the accuracy on (X, y). ``legend``: "auto" puts the
    class legend where it covers no point and no boundary, else below the axes; "below"
    always below; None draws none.
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
    colours = class_colours(k)
    if kind == "probability":
        im = ax.imshow(values, origin="lower", extent=extent, aspect="auto",
                       cmap=_probability_cmap(), vmin=0, vmax=1, alpha=0.55, gid="surface",
                       interpolation="bilinear")
        lo, hi = float(values.min()), float(values.max())
        # A model that gives up (P near 1/2 everywhere, a linear one on XOR) still has a
        # P = 0.5 line, but it decides next to nothing: drawn dotted, its legend entry says so.
        weak = max(abs(lo - 0.5), abs(hi - 0.5)) < WEAK_BOUNDARY
        style = {"colors": "k", "linewidths": 1.4 if weak else 1.2,
                 "linestyles": ":" if weak else "-"}
        ax.contour(xx, yy, values, levels=[0.5], **style)
        if lo < 0.5 < hi:  # the boundary is drawn: a legend names it
            label = BOUNDARY_LABEL + (f" (weak: ${lo:.2f} < P < {hi:.2f}$)" if weak
                                      else "")
            ax.plot([], [], color="k", lw=style["linewidths"],
                    ls=style["linestyles"], label=label)
        if colorbar:
            cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.02)
            cb.set_label("P(class 1)")
    else:
        cmap = mcolors.ListedColormap(colours)
        ax.imshow(values, origin="lower", extent=extent, aspect="auto", cmap=cmap,
                  vmin=-0.5, vmax=k - 0.5, alpha=0.3, gid="surface", interpolation="nearest")
    for c in range(k):
        sel = y == c
        if sel.any():
            ax.scatter(X[sel, 0], X[sel, 1], s=18, c=colours[c],
                       marker=CLASS_MARKERS[c % len(CLASS_MARKERS)], edgecolors="k",
                       linewidths=0.4, label=f"class {c}", zorder=3)
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="$x_1$", ylabel="$x_2$")
    ax.grid(False)
    if title is None:
        acc = float(np.mean(np.asarray(model.predict(X)) == y))
        title = f"Decision boundary (accuracy {acc:.0%})"
    ax.set_title(title)
    if legend is not None:
        style = {"fontsize": 8.5, "handletextpad": 0.2, "borderpad": 0.3}
        if legend == "below":
            place_legend(ax, inside=(), ncol=k, **style)
        else:
            # A frame, so the legend reads on the shading; inside only where no point is,
            # for the classes alone (a legend the caller draws below names the boundary too,
            # beside the caller's own lines).
            pairs = [(h, lab) for h, lab in zip(*ax.get_legend_handles_labels())
                     if not lab.startswith(BOUNDARY_LABEL)]
            place_legend(ax, [h for h, _ in pairs], [lab for _, lab in pairs], frameon=True,
                         framealpha=0.85, ncol=1, **style)
    return _finish(fig, show)


# --------------------------------------------------------------------------------------
# What each layer outputs
# --------------------------------------------------------------------------------------


def plot_layer_histograms(net, X, *, bins: int = 40, include_output: bool = True,
                          show: bool = False) -> Figure:
    """The distribution of each layer's activations on the batch ``X``, one small panel each.

    Each panel states the saturated share (bounded activations: the share of (sample, unit)
    entries with |f'| < 0.01) and the dead share (hidden layers: the share of units that
    output 0 for every sample).
    """
    stats = diagnostics.layer_stats(net, X)  # runs net.forward(X)
    outs = net.cache["a"][1:]
    names = _layer_names(net)
    n = len(outs) if include_output else len(outs) - 1
    if n < 1:
        raise ValueError("this network has no hidden layer; pass include_output=True")
    rows, cols = _grid_shape(n)
    # Margins fixed by hand (no layout pass): room for the two title lines and the labels.
    fig, axes = _fixed_subplots((min(2.3 * cols + 0.5, 12), 2.6 * rows + 0.35), rows, cols,
                                left=0.6, right=0.1, top=0.8, bottom=0.48, wgap=0.55,
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
        axis.stairs(counts, edges, fill=True, color=layer_colour(i, len(outs)), alpha=0.8,
                    gid="hist")
        lines = []
        if np.isfinite(stats["saturated"][i]):
            lines.append(f"saturated {_percent(stats['saturated'][i])}")
        if i < len(outs) - 1:  # "dead" is a hidden unit's fault; an output unit is never dead
            lines.append(f"dead {_percent(stats['dead'][i])}")
        # Head-room above the tallest bar, so the box in the top corner covers no bar.
        axis.set_ylim(0, counts.max() * (1.15 + 0.16 * len(lines)))
        if lines:
            axis.text(0.97, 0.97, "\n".join(lines), transform=axis.transAxes, ha="right",
                      va="top", fontsize=8.5, bbox={"boxstyle": "round,pad=0.2", "fc": "white",
                                                    "ec": "0.8", "alpha": 0.85})
        axis.set_title(names[i], fontsize=10)
        axis.set_xlabel("activation $a$")
        axis.tick_params(labelsize=8)
        if i % cols == 0:
            axis.set_ylabel("count of (sample, unit) entries", fontsize=9)
    for axis in flat[n:]:
        axis.set_visible(False)
    height = fig.get_figheight()
    fig.suptitle(f"Activations per layer on a batch of {len(np.asarray(X))}", fontsize=11.5,
                 y=1 - 0.05 / height, va="top")
    fig.text(0.5, 1 - 0.33 / height, "saturated: share of (sample, unit) entries with "
             "$|f'| < 0.01$;  dead: share of units with $a = 0$ on every sample",
             ha="center", va="top", fontsize=8.5, color="0.3")
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
        colour_ = layer_colour(j, n_layers)
        for k in range(4):
            axis.fill_between(epochs, q[j, :, k], q[j, :, -1 - k], color=colour_,
                              alpha=0.15 + 0.12 * k, lw=0)
        axis.plot(epochs, q[j, :, 4], color=colour_, lw=1.5,
                  marker="o" if len(epochs) < 3 else None, gid="median")
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


def plot_unit_activity(layers, y, *, show: bool = False) -> Figure:
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


# --------------------------------------------------------------------------------------
# Weights and the network diagram
# --------------------------------------------------------------------------------------


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
    n_cols = len(sizes)
    colour_bar_room = 0.0
    if ax is None:
        # Margins fixed by hand (no layout pass): the labels lie inside the axes' limits, and
        # the colour bar sits just right of the output column (0.95 inch for bar and label).
        width = min(1.5 * n_cols + 1.3, 12)
        fig, ax = _fixed_subplots((width, 4.2), left=0.05, right=0.95, bottom=0.05, top=0.3)
        colour_bar_room = 0.95 / width
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
    # Room each side for the labels under the first and last columns; the colour bar
    # follows right after the last column (its labels lie below the bar).
    ax.set_xlim(-0.45, len(sizes) - 1 + 0.25)
    ax.set_ylim(-(span - 1) / 2 - 1.9, (span - 1) / 2 + 0.7)
    ax.set_axis_off()
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    if colour_bar_room:
        box = ax.get_position()
        bar = fig.add_axes((box.x1 + 0.12 * colour_bar_room, box.y0 + 0.18 * box.height,
                            0.16 * colour_bar_room, 0.7 * box.height))
        cb = fig.colorbar(sm, cax=bar)
    else:
        cb = fig.colorbar(sm, ax=ax, shrink=0.7, pad=0.01)
    cb.set_label("weight $w$ (edge width ∝ $|w|$)")
    total = sum(W.size for W in weights) + sum(np.size(b) for b in getattr(net, "biases", []))
    ax.set_title(f"Network {'-'.join(map(str, sizes))}: {total} parameters")
    return _finish(fig, show)
