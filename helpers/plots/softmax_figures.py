"""Chapter 4's figures: softmax bars, temperature, class-probability maps, multi-label tags,
the naive formula's overflow windows, and a confident mistake under two losses."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.figure import Figure

from .. import activations
from .house import WIDE, _finish, _panels, keep_free, place_legend, subplots
from .palette import class_colours, count_colours, run_colours


def tied_top(p: np.ndarray) -> np.ndarray:
    """The indices of the largest entries of ``p``: one, or several on a tie."""
    p = np.asarray(p, dtype=float)
    return np.flatnonzero(np.isclose(p, p.max(), rtol=1e-12, atol=0.0))


def plot_softmax(logits, temperature: float = 1.0, *, class_names=None, ax=None,
                 show: bool = False) -> Figure:
    """Logits (left) next to softmax probabilities (right); the argmax is highlighted (every
    tied class, when the largest probabilities are equal)."""
    z = np.asarray(logits, dtype=float)
    if z.ndim != 1 or z.size < 1:
        raise ValueError(f"logits must be a 1-D sequence of scores, got shape {z.shape}")
    p = activations.softmax(z, temperature=temperature)
    k = z.size
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} entries for {k} logits")
    fig, axes = _panels(ax, 2, "plot_softmax")
    idx = np.arange(k)
    top = set(tied_top(p).tolist())
    logit_colour, probability_colour = run_colours(2)  # quantities, not activations or classes
    zl = axes[0].bar(idx, z, color=logit_colour, gid="logits")
    pl = axes[1].bar(idx, p, color=probability_colour, gid="probabilities")
    for i in top:
        pl[i].set_edgecolor("k")
        pl[i].set_linewidth(2)
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
                         fontsize=8.5, fontweight="bold" if i in top else "normal",
                         gid=f"plabel:{i}")
    return _finish(fig, show)


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
    place_legend(ax_bars)
    place_legend(ax_curve)
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
    # Counts are ordered: light (no tag) to dark (three), neither activations nor classes.
    counts = mcolors.ListedColormap(count_colours(4))
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


def _room_below(lims, values, share: float = 0.05):
    """Lower ``lims`` so the smallest finite value sits clearly above the axis floor: a curve
    whose minimum lies on the floor looks cut off."""
    finite = np.concatenate([np.ravel(v)[np.isfinite(np.ravel(v))] for v in values])
    low, high = lims
    if finite.size:
        lowest = float(finite.min())
        if lowest <= low + share * (high - low):
            low = min(low, lowest - share * (high - lowest))
    return low, high


def plot_shift_windows(panels, *, ylabel: str, ylim=(0.5, 1.08), show: bool = False) -> Figure:
    """The naive and the stable softmax as every logit is shifted by c, one panel per window.

    ``panels`` holds (title, shifts, naive, stable): the probability each formula gives at
    each shift; where the naive one is NaN is shaded. ``ylim`` is one (bottom, top) pair for
    all panels (they then share the y axis), or one pair per panel; a bottom that a curve
    reaches is lowered a little, so the curve's lowest point shows.
    """
    ylims = [tuple(ylim)] * len(panels) if np.ndim(ylim) == 1 else [tuple(v) for v in ylim]
    ylims = [_room_below(lims, (np.asarray(naive, dtype=float), np.asarray(stable, dtype=float)))
             for lims, (_, _, naive, stable) in zip(ylims, panels)]
    shared = np.ndim(ylim) == 1
    if shared:
        ylims = [(min(lo for lo, _ in ylims), ylims[0][1])] * len(panels)
    fig, axes = subplots(1, len(panels), figsize=WIDE, sharey=shared, squeeze=False)
    colours = run_colours(3)  # two formulas and the NaN band: no activation's, no class's
    for ax, (title, shifts, naive, stable), lims in zip(axes[0], panels, ylims):
        shifts, naive, stable = (np.asarray(a, dtype=float) for a in (shifts, naive, stable))
        nan_at = shifts[np.isnan(naive)]
        if nan_at.size:
            ax.axvspan(nan_at.min(), nan_at.max(), color=colours[2], alpha=0.3, lw=0,
                       label="naive gives NaN")
        ax.plot(shifts, stable, color=colours[0], lw=5, alpha=0.5, gid="stable",
                label="stable (max subtracted)")
        # (dashed: where the two formulas agree, the stable band shows through the gaps)
        ax.plot(shifts, naive, color=colours[1], lw=1.8, ls=(0, (4, 2)), gid="naive",
                label="naive $e^{z_i} / \\sum_j e^{z_j}$")
        ax.set(xlim=(shifts[0], shifts[-1]), ylim=lims, title=title,
               xlabel="shift $c$ added to every logit")
    axes[0, 0].set_ylabel(ylabel)
    place_legend(axes[0, -1], inside=("upper left", "center left", "lower left", "upper right",
                                      "center right", "lower right", "upper center"))
    return _finish(fig, show)


def plot_confident_mistake(margins, grad_norms: Mapping, traces: Mapping, *, lr: float,
                           show: bool = False) -> Figure:
    """Losses on a confidently wrong softmax: each loss's gradient norm against the wrong
    class's margin (``grad_norms``, left, log scale) and the true class's probability over
    gradient-descent steps (``traces``, right)."""
    fig, (ax_g, ax_t) = subplots(1, 2, figsize=WIDE)
    colours = run_colours(max(len(grad_norms), len(traces)))  # losses: not classes
    for (name, norm), colour in zip(grad_norms.items(), colours):
        ax_g.semilogy(margins, norm, color=colour, label=name, gid=f"grad:{name}")
    ax_g.axvline(0, color="0.6", lw=1)
    ax_g.set(xlabel="margin $m = z_1 - z_0$ of the wrong class",
             ylabel="$\\|\\nabla_z L\\|$ (log scale)", title="Gradient on the logits, true class 0")
    note = ax_g.annotate("wrong, and sure of it $\\rightarrow$", (0, 0.25),
                         xycoords=("data", "axes fraction"), xytext=(6, 0),
                         textcoords="offset points", fontsize=9, ha="left", va="center",
                         gid="wrong_side")
    keep_free(note, [{"xy": (0, y), "xyann": (6, 0), "ha": "left", "va": "center"}
                      for y in (0.25, 0.4, 0.1, 0.55, 0.7, 0.85)])
    for (name, trace), colour in zip(traces.items(), colours):
        ax_t.plot(np.arange(len(trace)), trace, color=colour, label=name, gid=f"p:{name}")
    ax_t.set(xlabel=f"gradient-descent step ($\\eta = {lr:g}$)", ylabel="$p_0$ (true class)",
             ylim=(-0.02, 1.02), title="Recovering from a confident mistake")
    place_legend(ax_g, inside=("lower left", "upper left", "lower right", "upper right",
                               "center left", "center right"))
    place_legend(ax_t, inside=("center right", "lower right", "upper right", "center left",
                               "lower left", "upper left"))
    return _finish(fig, show)
