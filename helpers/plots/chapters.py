"""Figures the chapters call so a lesson cell keeps the maths and not the layout: chapter 1's
boundaries, folded plane and 1-D fits, chapter 2's weight paths and layer histograms,
chapter 3's one-neuron runs, chapter 6's finite differences and seed comparison."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from .. import diagnostics
from .house import (
    WIDE,
    _finish,
    _fixed_layout_figure,
    _fixed_subplots,
    _percent,
    keep_free,
    log_axis_labels,
    place_legend,
    subplots,
)
from .networks import (
    BOUNDARY_LABEL,
    _layer_activation,
    class_legend_handles,
    plot_decision_boundary,
)
from .palette import CLASS_MARKERS, class_colours, colour, run_colours, styles_for

# --------------------------------------------------------------------------------------
# Chapter 1: boundaries in a grid, the folded plane, the 1-D fits
# --------------------------------------------------------------------------------------


def plot_boundary_grid(models: Mapping, datasets: Mapping, *, accuracy: Mapping | None = None,
                       resolution: int = 100, show: bool = False) -> Figure:
    """Decision boundaries in a grid: one row per activation, one column per data set.

    ``models[activation, name]`` is a binary classifier trained on ``datasets[name] = (X, y)``;
    rows follow the order of the activations in ``models``. ``accuracy[activation][name]``
    (optional; computed on (X, y) when not given) goes in each panel's title. One legend and
    one colour bar, right of the grid; each column shares its axes.
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
                                   title=f"{act} on {name}: {acc:.0%}", legend=None)
            ax.locator_params(nbins=4)
            if i < rows - 1:
                ax.set_xlabel("")            # each column shares its x axis: label the bottom row
                ax.tick_params(labelbottom=False)
    right = axes[0, -1].get_position().x1
    bar = fig.add_axes((right + 0.25 / width, 0.25, 0.18 / width, 0.5))
    fig.colorbar(axes[0, -1].images[0], cax=bar, label="P(class 1)")
    bar.grid(False)
    # The classes' legend above the colour bar, in the margin: it covers no panel.
    k = int(max(np.max(np.asarray(y)) for _, y in datasets.values())) + 1
    fig.legend(handles=class_legend_handles(k), loc="lower left", fontsize=8.5,
               bbox_to_anchor=(right + 0.1 / width, 0.77), handletextpad=0.2, borderpad=0.3)
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
    plot_decision_boundary(net, X, y, ax=ax_in, colorbar=False, legend=None,
                           title="input space: two cuts make a band")
    t = np.linspace(-2.5, 2.5, 2)
    for j, line_colour in enumerate(run_colours(2)):  # units: neither activations nor classes
        (wa, wb), bj = net.weights[0][:, j], net.biases[0][j]
        # Each unit's line lies on the black boundary: drawn wide, dashed, above it and
        # edged in white, so it shows on both the boundary and the shading.
        ax_in.plot(t, -(wa * t + bj) / wb, ls="--", lw=3, color=line_colour, zorder=3,
                   path_effects=[patheffects.withStroke(linewidth=4.5, foreground="white")],
                   label=f"unit {j + 1}: $h_{j + 1} = 0$")
    # The network's boundary (the 0.5 contour) on top of the cuts, and in the legend.
    for contour in ax_in.collections:
        if type(contour).__name__ in ("QuadContourSet", "ContourSet"):
            contour.set_zorder(4)
    pairs = [(h, lab) for h, lab in zip(*ax_in.get_legend_handles_labels())
             if not lab.startswith(BOUNDARY_LABEL)]  # named below, as the network's
    handles, labels = [h for h, _ in pairs], [lab for _, lab in pairs]
    handles.append(Line2D([], [], color="k", lw=1.2))
    labels.append("network boundary, $P = 0.5$")
    place_legend(ax_in, handles, labels, inside=(), ncol=2, fontsize=8.5)
    for k, class_colour in enumerate(class_colours(2)):
        sel = y == k
        ax_h.scatter(H[sel, 0], H[sel, 1], s=18, color=class_colour, edgecolors="k",
                     linewidths=0.4, marker=CLASS_MARKERS[k], label=f"class {k}")
    (v1, v2), c = net.weights[1][:, 0], net.biases[1][0]
    h1 = np.linspace(-1.1, 1.1, 2)
    ax_h.plot(h1, -(v1 * h1 + c) / v2, color="k", lw=1.2, label="output boundary")
    # Saturated units put many points on one corner, where they hide each other: say how
    # many sit there (a reader saw one dense dot for two clusters).
    for cx in (-1, 1):
        for cy in (-1, 1):
            near = int(np.sum(np.max(np.abs(H - (cx, cy)), axis=1) < 0.05))
            if near >= 10:
                ax_h.annotate(f"{near} points", (cx, cy), xytext=(-34 * cx, -22 * cy),
                              textcoords="offset points", fontsize=8, color="0.25",
                              ha="center", va="center", gid="corner_count",
                              arrowprops={"arrowstyle": "-", "color": "0.4", "lw": 0.6})
    ax_h.set(xlim=(-1.1, 1.1), ylim=(-1.1, 1.1), xlabel=r"$h_1 = f(\mathbf{w}_1^\top x + b_1)$",
             ylabel=r"$h_2 = f(\mathbf{w}_2^\top x + b_2)$", title="hidden space: one straight cut")
    place_legend(ax_h, fontsize=8, frameon=True, framealpha=0.85)
    return _finish(fig, show)


def plot_1d_fits(X, y, models, widths, *, names=("tanh", "relu"), kinks=None,
                 x_range=(-4.5, 4.5), ylim=(-2.0, 2.0), show: bool = False) -> Figure:
    """One panel per hidden width h: the 1-D data and each fit (activation in ``names``, each
    in its course colour).

    ``models[act, h]`` is a trained 1-input network, labelled with its MSE on (X, y);
    ``kinks[h]`` (optional) holds the inputs where the ReLU fit bends, marked as black dots.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    fig, axes = subplots(1, len(widths), figsize=(3.25 * len(widths), 3.9), sharey=True,
                         squeeze=False)
    xs = np.linspace(*x_range, 901)[:, None]
    for ax, h in zip(axes[0], widths):
        ax.scatter(X[:, 0], y, s=8, color="0.65", label="data")
        for act, (line_colour, dash) in zip(names, styles_for(names)):
            net = models[act, h]
            ax.plot(xs[:, 0], net.predict(xs), color=line_colour, ls=dash, lw=2,
                    gid=f"fit:{act}", label=f"{act} (MSE {net.loss(X, y):.3f})")
        if kinks is not None:
            k = np.asarray(kinks[h], dtype=float)
            k = k[(k >= x_range[0]) & (k <= x_range[1])]
            ax.plot(k, models["relu", h].predict(k[:, None]), "o", ms=4.5, color="k",
                    label="relu kinks", zorder=4, gid="kinks")
        ax.set(title=f"{h} hidden units", xlabel="input $x$", xlim=x_range, ylim=ylim)
        place_legend(ax, inside=("lower right", "upper left", "lower left", "upper right"),
                     fontsize=7.5, ncol=1)
    axes[0, 0].set_ylabel(r"output $\hat y$")
    return _finish(fig, show)


# --------------------------------------------------------------------------------------
# Chapter 2: zero-centring paths, stacked layer histograms
# --------------------------------------------------------------------------------------


def plot_weight_paths(paths: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray],
                      w_start, w_star, *, extent: float = 1.6,
                      show: bool = False) -> Figure:
    """One panel per input kind: a 2-weight SGD path over its loss contours.

    ``paths[name]`` is the (steps, 2) sequence of weights; ``inputs[name]`` the (n, 2) inputs
    a of the linear unit, whose loss is the mean of (w.a - w*.a)^2 / 2 over the inputs.
    """
    # Square panels with margins fixed by hand: under constrained layout the equal aspect
    # pushed the panels up and cut their titles off (chapter 2).
    n, panel = len(paths), 3.7
    fig, axes = _fixed_subplots((0.85 + n * panel + (n - 1) * 0.35, panel + 1.35), 1, n,
                                left=0.7, right=0.15, top=0.35, bottom=1.0, wgap=0.35,
                                sharey=True, squeeze=False)
    g1, g2 = np.meshgrid(np.linspace(-extent, extent, 121), np.linspace(-extent, extent, 121))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    for ax, (name, path) in zip(axes[0], paths.items()):
        a = np.asarray(inputs[name], dtype=float)
        loss = np.mean((grid @ a.T - a @ np.asarray(w_star)) ** 2, axis=1).reshape(g1.shape) / 2
        ax.contour(g1, g2, loss, levels=np.geomspace(0.002, 2, 12), colors="0.75",
                   linewidths=0.8)
        path_colour, start_colour, star_colour = run_colours(3)
        ax.plot(path[:, 0], path[:, 1], "o-", ms=3, lw=1.2, color=path_colour,
                label="SGD path", gid=f"path:{name}")
        ax.plot(*w_start, "s", color=start_colour, ms=8, label="start")
        ax.plot(*w_star, "*", color="k", markerfacecolor=star_colour, ms=14,
                label=r"optimum $w^\star$")
        ax.set(xlabel="$w_1$", title=f"inputs from {name}", aspect="equal")
    axes[0, 0].set_ylabel("$w_2$")
    # The loss contours fill every panel: the legend goes below them, in the layout's room.
    fig.legend(*axes[0, -1].get_legend_handles_labels(), loc="lower center", ncol=3,
               bbox_to_anchor=(0.5, 0.0))
    return _finish(fig, show)


def plot_histogram_stacks(nets: Mapping, X, *, bins: int = 40, title: str | None = None,
                          color=None, show: bool = False) -> Figure:
    """One panel per network: each hidden layer's activation histogram, layer 1 on top.

    The right margin gives each layer's saturated share (the share of its (sample, unit)
    entries with |f'| < 0.01), so the panels compare how far the distribution has moved onto
    the flat ends, layer by layer. ``color`` fills the histograms (default: the course colour
    of the networks' activation, :func:`colour`).
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
                      fill=True, color=color or colour(act), alpha=0.75, gid=f"hist:{j + 1}")
            if np.isfinite(stats["saturated"][j]):
                ax.text(hi + 0.03 * (hi - lo), base + 0.15, _percent(stats["saturated"][j]),
                        fontsize=8.5, color="0.3", gid=f"saturated:{j + 1}")
        ax.set(title=f"{act.label}, {label}", xlabel="activation $a$",
               xlim=(lo - 0.025 * (hi - lo), hi + 0.2 * (hi - lo)),
               yticks=np.arange(n) + 0.3, yticklabels=[f"hidden {n - k}" for k in range(n)])
        ax.text(hi + 0.03 * (hi - lo), n - 0.02, f"saturated\n($|f'|<{0.01:g}$)", fontsize=8,
                color="0.3", va="bottom")
        ax.grid(False)
    fig.suptitle(title or f"Activations of each hidden layer on {len(np.asarray(X))} points")
    return _finish(fig, show)


# --------------------------------------------------------------------------------------
# Chapter 3: one neuron, sigmoid against ReLU
# --------------------------------------------------------------------------------------


def plot_one_neuron_runs(runs: Mapping, target: float, reached: Mapping, *,
                         show: bool = False) -> Figure:
    """Mean output (left) and loss (right) per SGD iteration of one-neuron runs, log-scaled.

    ``runs`` maps a name (an activation's, for its course colour) to (mean output per
    iteration, loss per iteration); ``reached`` maps a name to the iteration at which that run
    is first on target (or None), drawn as a dotted line with an "on target after n" note.
    The target is a dashed line on the output panel.
    """
    fig, axes = subplots(1, 2, figsize=WIDE)
    notes = []
    for (name, (mean_out, loss)), (line_colour, dash) in zip(runs.items(), styles_for(runs)):
        it = np.arange(len(mean_out))  # iteration t at t: the axis is logarithmic from 1
        axes[0].plot(it, mean_out, color=line_colour, ls=dash, label=f"{name} neuron",
                     gid=f"output:{name}")
        axes[1].plot(it, loss, color=line_colour, ls=dash, label=f"{name} neuron", lw=1.2,
                     gid=f"loss:{name}")
        if reached.get(name) is None:
            continue
        at = reached[name]
        for ax in axes:
            ax.axvline(at, color=line_colour, ls=":", lw=1.2, gid=f"reached:{name}")
        notes.append((axes[0].annotate(
            f"on target\nafter {reached[name]}", (at, 0.8), xycoords=("data", "axes fraction"),
            xytext=(4, 0), textcoords="offset points", color=line_colour, fontsize=9,
            va="center"), at))
    axes[0].axhline(target, color="k", ls="--", lw=1, label=f"target {target:g}", gid="target")
    axes[0].set(xlabel="SGD iteration $t$ (log scale from 1)",
                ylabel=r"mean output $\hat y$ on the batch",
                title="Output per iteration")
    axes[1].set_yscale("log")
    log_axis_labels(axes[1])
    axes[1].set(xlabel="SGD iteration $t$ (log scale from 1)",
                ylabel="squared error $L$ on the batch",
                title="Loss per iteration")
    for ax in axes:
        # Linear from 0 to 1, logarithmic beyond: iteration 0 has a place, and iteration t
        # is drawn at t (a plain log axis has no 0, and would need t + 1).
        ax.set_xscale("symlog", linthresh=1, linscale=0.4)
        ax.set_xlim(0, None)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    for note, at in notes:
        keep_free(note, [{"xy": (at, y), "xyann": (dx, 0), "ha": ha}
                          for y in (0.8, 0.6, 0.4, 0.92) for dx, ha in ((4, "left"),
                                                                        (-4, "right"))])
    place_legend(axes[0], inside=("center left", "lower left", "upper left", "center right",
                                  "upper right", "lower right"))
    place_legend(axes[1], inside=("lower left", "upper left", "center left", "upper right",
                                  "lower right", "center right"))
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
    for (label, err), line_colour in zip(errors.items(), run_colours(len(errors))):
        ax.loglog(hs, err, color=line_colour, label=label, gid=f"fd:{label}")
    ax.set(xlabel="step $h$", ylabel=r"max error $|\mathrm{fd} - f'(x)|$",
           title=title or "Finite-difference error")
    if mark_h is not None:
        ax.axvline(mark_h, color="0.4", ls=":", lw=1.2, gid="mark_h")
        power = np.log10(mark_h)
        text = f"$h = 10^{{{power:.0f}}}$" if power == round(power) else f"$h = {mark_h:g}$"
        note = ax.annotate(text, (mark_h, 0.92), xycoords=("data", "axes fraction"),
                           xytext=(6, 0), textcoords="offset points", color="0.3",
                           va="center", gid="mark_h_label")
        keep_free(note, [{"xy": (mark_h, y), "xyann": (dx, 0), "ha": ha}
                          for y in (0.92, 0.08, 0.5) for dx, ha in ((6, "left"),
                                                                    (-6, "right"))])
    if len(errors) > 1:
        place_legend(ax, inside=("upper left", "upper center", "lower left", "lower right",
                                 "upper right", "center left"))
    return _finish(fig, show)


def plot_seed_comparison(table: dict, *, ylim=(0.0, 1.01), title: str | None = None,
                         show: bool = False) -> Figure:
    """One panel per dataset: each activation's mean (bar, from 0) and every seed's result
    (dots), each activation in its course colour (:func:`colour`).

    ``table`` is ``{dataset: {activation: [value per seed]}}``, as chapter 6's
    ``comparison_table`` returns it. Seed k sits at the same place in every activation's
    group, and a thin grey line joins its results: a gap between two bars that every seed
    shows is a real one. The bars start at 0, so their heights compare honestly.
    """
    fig, axes = subplots(1, len(table), figsize=(8.5, 3.6), sharey=True, squeeze=False)
    # A run that did worse than ylim's lower end would be cut off: lower the axis to show it.
    lowest = min(min(values) for row in table.values() for values in row.values())
    ylim = (min(ylim[0], lowest - 0.02), ylim[1])
    for ax, (dataset, row) in zip(axes[0], table.items()):
        n_seeds = max(len(values) for values in row.values())
        offsets = np.linspace(-0.12, 0.12, n_seeds) if n_seeds > 1 else np.zeros(1)
        for k in range(n_seeds):  # the same seed across the activations: one thin line
            xs = [i + offsets[k] for i, values in enumerate(row.values()) if k < len(values)]
            ys = [values[k] for values in row.values() if k < len(values)]
            ax.plot(xs, ys, color="0.55", lw=0.8, zorder=2.5, gid=f"seed:{k}",
                    label="same seed" if k == 0 else None)
        for i, ((name, values), (bar_colour, _)) in enumerate(zip(row.items(),
                                                                  styles_for(row))):
            ax.bar(i, np.mean(values), color=bar_colour, alpha=0.35, width=0.6,
                   gid=f"mean:{name}")
            ax.plot(i + offsets[:len(values)], values, "o", color=bar_colour, zorder=3,
                    gid=f"seeds:{name}")
        ax.set_xticks(range(len(row)), list(row))
        ax.set(title=dataset, xlabel="activation", ylim=ylim)
    axes[0, 0].set_ylabel("validation accuracy")
    fig.suptitle(title or "Validation accuracy: mean (bar) and each seed (dots)")
    if max(len(v) for row in table.values() for v in row.values()) > 1:
        place_legend(axes[0, -1], inside=(), fontsize=8.5)
    return _finish(fig, show)
