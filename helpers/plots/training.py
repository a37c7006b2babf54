"""Training histories and dashboards: loss and accuracy, gradient norms, dead units, the
training dashboard, and runs compared side by side."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from .. import diagnostics
from .house import (
    _check_ax_pair,
    _finish,
    _fixed_layout_figure,
    _fixed_subplots,
    _history_array,
    _panels,
    _require_diagnostics,
    keep_free,
    log_axis_labels,
    place_legend,
    subplots,
)
from .networks import _layer_names
from .palette import colour, layer_colour, layer_marks, run_colours, styles_for

SATURATION_THRESHOLD = diagnostics.SATURATION_THRESHOLD
DEAD_LABEL = "share of dead units ($a = 0$ on every sample)"
# CS231n's heuristic for SGD (Karpathy's notes): an update about 1e-3 of the weights. Under
# Adam the ratio mostly mirrors the learning rate, so the band is a reference, not a verdict.
RULE_OF_THUMB = 1e-3
RULE_OF_THUMB_LABEL = "SGD rule of thumb ~1e-3\n(band: 1e-4 to 1e-2)"
# Training and validation curves: two run colours, never an activation's (sigmoid's blue).
TRAIN_COLOUR, VAL_COLOUR, RULE_COLOUR = run_colours(3)


def plot_history(history, *, ax=None, title: str | None = None, show: bool = False) -> Figure:
    """Loss (left) and accuracy (right) over epochs, train and validation."""
    epoch = _history_array(history, "epoch")
    loss = _history_array(history, "loss")
    val_loss = np.asarray(getattr(history, "val_loss", np.full_like(loss, np.nan)), dtype=float)
    acc = np.asarray(getattr(history, "accuracy", np.full_like(loss, np.nan)), dtype=float)
    val_acc = np.asarray(getattr(history, "val_accuracy", np.full_like(loss, np.nan)), float)
    has_acc = bool(np.isfinite(acc).any())
    fig, axes = _panels(ax, 2 if has_acc else 1, "plot_history")
    axes[0].plot(epoch, loss, color=TRAIN_COLOUR, label="train", gid="loss")
    if np.isfinite(val_loss).any():
        axes[0].plot(epoch, val_loss, color=VAL_COLOUR, label="validation", ls="--",
                     gid="val_loss")
    axes[0].set(xlabel="epoch", ylabel="loss", title=title or "Loss")
    if has_acc:
        axes[1].plot(epoch, acc, color=TRAIN_COLOUR, label="train", gid="accuracy")
        if np.isfinite(val_acc).any():
            axes[1].plot(epoch, val_acc, color=VAL_COLOUR, label="validation", ls="--",
                         gid="val_accuracy")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(-0.02, 1.02))
        axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    if np.isfinite(val_loss).any():
        place_legend(axes[0])
    if has_acc and np.isfinite(val_acc).any():
        place_legend(axes[1], inside=("lower right", "center right", "upper left", "lower left",
                                      "upper right", "center left"))
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
    share one panel (each label in its course colour, :func:`colour`), histories get one
    panel each, side by side with a shared y axis (each layer in its layer colour).
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
        styles = styles_for(parsed) if len(parsed) > 1 else [(TRAIN_COLOUR, "-")]
        for (label, (_, norms, names)), (rgb, dash) in zip(parsed.items(), styles):
            layers = np.arange(1, len(norms) + 1)
            ax.plot(layers, norms, "o", ls=dash, color=rgb, label=label or None,
                    gid=f"norms:{label}")
            if len(names) > len(longest):
                longest = names
        ax.set_yscale("log")
        log_axis_labels(ax)
        ax.set_xticks(np.arange(1, len(longest) + 1))
        ax.set_xticklabels([n.split(" (")[0].replace("hidden ", "h") for n in longest])
        ax.set(xlabel="layer (input side → output side)", ylabel=r"$\|\partial L/\partial W\|$",
               title=title or "Gradient norm per layer")
        if len(parsed) > 1:
            place_legend(ax)
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
        # (a marker each as well as a shade: nine shades of one ramp are hard to tell apart)
        marks = layer_marks(L, len(epochs) - 1, markersize=4)
        for j in range(L):
            axis.plot(epochs, norms[:, j], color=layer_colour(j, L), label=names[j],
                      gid=f"layer:{j}", **marks[j])
        axis.set_yscale("log")
        log_axis_labels(axis)
        axis.set(xlabel="epoch", title=label or title or "Gradient norm per layer")
    axes[0].set_ylabel(r"$\|\partial L/\partial W\|$")
    place_legend(axes[-1], outside="right", fontsize=8)
    return _finish(fig, show)


def plot_dead_units(history, *, ax=None, title: str | None = None, show: bool = False) -> Figure:
    """Share of dead units (output 0 for every sample) in each hidden layer over training."""
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
        ax.plot(epoch, dead[:, j], color=layer_colour(j, dead.shape[1]), label=names[j],
                gid=f"dead:{j}", **marks[j])
    ax.set(xlabel="epoch", ylabel="dead units (share of the layer)", ylim=(-0.03, 1.03),
           title=title or "Dead units per layer")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    place_legend(ax)
    return _finish(fig, show)


# Where a note on an empty panel may go: its middle, then above or below it.
_NOTE_PLACES = tuple({"xy": (0.5, y), "ha": "center", "va": "center"}
                     for y in (0.5, 0.7, 0.3, 0.85, 0.15))


def _row_legend(ax, names, colours, marks, has_val: bool) -> None:
    """One legend per dashboard row, right of its last panel: it can cover no curve."""
    handles = [Line2D([], [], color=TRAIN_COLOUR, lw=2.2, label="training loss")]
    if has_val:
        handles.append(Line2D([], [], color=VAL_COLOUR, ls="--", lw=1.4,
                              label="validation loss"))
    handles += [Line2D([], [], color=c, marker=m["marker"], markersize=4.5, label=name)
                for name, c, m in zip(names, colours, marks)]
    handles += [Line2D([], [], color="0.25", label="dead: share of units\nwith $a = 0$ "
                       "on all samples"),
                Line2D([], [], color="0.25", ls="--", label="saturated: share of\n(sample, "
                       f"unit) entries\nwith $|f'| < {SATURATION_THRESHOLD:g}$"),
                Patch(facecolor=(RULE_COLOUR, 0.3), edgecolor=RULE_COLOUR, ls=":", lw=1.0,
                      label=RULE_OF_THUMB_LABEL)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.04, 1.02),
              borderaxespad=0, fontsize=8, handlelength=1.8, labelspacing=0.45)


def training_dashboard(histories: Mapping, layer_names: Sequence[str] | None = None) -> Figure:
    """One row per training run: loss, gradient norm per layer, dead/saturated units, update ratio.

    ``histories`` maps a run's label to its :class:`helpers.nn.History` (from ``MLP.fit`` or the
    torch bridge). ``layer_names`` overrides the histories' own names in the legends. Read a
    row from left to right: is it learning, does the gradient reach every layer, are units
    dead or saturated, and how far does one step move the weights, against the rule of thumb
    for SGD (about 1e-3; under Adam the ratio mostly follows the learning rate). Each row's
    legend sits right of it.
    """
    rows = len(histories)
    if rows == 0:
        raise ValueError("training_dashboard needs at least one History")
    for label, history in histories.items():
        _require_diagnostics(history, f"training_dashboard (run {label!r})")
    width, height = 12.5, 3.0 * rows + 0.1
    # Fixed margins (in inches) instead of constrained layout: this figure is large. The
    # right margin holds each row's legend.
    fig = _fixed_layout_figure((width, height))
    axes = fig.subplots(rows, 4, squeeze=False, gridspec_kw={
        "left": 0.75 / width, "right": 1 - 2.15 / width, "wspace": 0.45,
        "top": 1 - 0.35 / height, "bottom": 0.55 / height, "hspace": 0.45})
    for col in (1, 3):  # one log scale per column, so the runs compare at a glance
        for ax in axes[1:, col]:
            ax.sharey(axes[0, col])
    # One layer ramp for the whole figure, from the deepest run: hidden layer j has the same
    # colour in every row, and every row's output layer the lightest.
    depth = max(h.grad_norm.shape[1] for h in histories.values())
    for (label, h), (ax_loss, ax_grad, ax_units, ax_ratio) in zip(histories.items(), axes):
        names = list(layer_names) if layer_names is not None else list(h.layer_names)
        n_layers = h.grad_norm.shape[1]
        if len(names) != n_layers:
            raise ValueError(f"{len(names)} layer names for a History of {n_layers} layers")
        colours = [layer_colour(j if j < n_layers - 1 else depth - 1, depth)
                   for j in range(n_layers)]
        # One marker per layer, so lines that lie on top of each other (two layers both 94 %
        # saturated) stay distinguishable.
        marks = layer_marks(n_layers, h.epochs, markersize=4.5)
        # The training loss wide and below, the validation loss thin, dashed and on top:
        # where they coincide both stay visible.
        ax_loss.plot(h.epoch, h.loss, color=TRAIN_COLOUR, lw=2.2, label="train", zorder=2,
                     gid="loss")
        curves = h.loss
        has_val = bool(np.any(np.isfinite(h.val_loss)))
        if has_val:
            ax_loss.plot(h.epoch, h.val_loss, color=VAL_COLOUR, ls="--", lw=1.4,
                         label="validation", zorder=3, gid="val_loss")
            curves = h.val_loss
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
        for j in range(n_layers - 1):
            ax_units.plot(h.epoch, h.dead[:, j], color=colours[j], **marks[j])
            ax_units.plot(h.epoch, h.saturated[:, j], color=colours[j], ls="--", **marks[j])
        ax_units.set(ylim=(-0.03, 1.03), title="dead (—) and saturated (--)")
        # The two shares are defined in the row's legend: a short label leaves the panel room.
        ax_units.set_ylabel("share")
        ax_units.yaxis.set_major_formatter(PercentFormatter(1.0))
        ratio = np.where(h.update_ratio > 0, h.update_ratio, np.nan)
        ax_ratio.axhspan(RULE_OF_THUMB / 10, RULE_OF_THUMB * 10, color=RULE_COLOUR, alpha=0.3,
                         lw=0, gid="rule_of_thumb")
        ax_ratio.axhline(RULE_OF_THUMB, color=RULE_COLOUR, ls=":", lw=1.2)
        for j in range(n_layers):
            ax_ratio.plot(h.epoch, ratio[:, j], color=colours[j], **marks[j])
        ax_ratio.set(yscale="log", ylabel=r"$\|\Delta W_l\| / \|W_l\|$",
                     title="update-to-weight ratio")
        for ax in (ax_loss, ax_grad, ax_units, ax_ratio):
            ax.set(xlabel="epoch", xlim=(0, h.epochs))
        for ax, values in ((ax_grad, h.grad_norm), (ax_ratio, h.update_ratio)):
            if np.any(values[1:] == 0):
                note = ax.annotate("exactly 0:\nno gradient", (0.5, 0.5),
                                   xycoords="axes fraction", xytext=(0, 0),
                                   textcoords="offset points", ha="center", va="center",
                                   color="0.35")
                keep_free(note, _NOTE_PLACES)
        _row_legend(ax_ratio, names, colours, marks, has_val)
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
    the order of first appearance, each activation in its course colour (:func:`colour`),
    with dash patterns that keep overlapping lines apart. ``target`` (optional) is drawn as a
    thin solid grey line (no activation is drawn so). The y axis starts low enough for every
    curve, early dips included; the legend sits right of the panels.
    """
    if not curves:
        raise ValueError("plot_validation_curves needs at least one curve")
    tasks = list(dict.fromkeys(task for task, _ in curves))
    acts = list(dict.fromkeys(act for _, act in curves))
    # Margins fixed by hand (no layout pass); the panels share their y axis; the legend
    # takes the right margin.
    fig, axes = _fixed_subplots((5.0 * len(tasks) + 1.4, 3.8), 1, len(tasks), left=0.72,
                                right=1.45, top=0.32, bottom=0.5, wgap=0.25, sharey=True,
                                squeeze=False)
    styles = ["-", "--", "-.", ":"]
    lowest = min(float(np.nanmin(curve)) for curve in curves.values())
    bottom = math.floor((lowest - 0.02) * 10) / 10
    for ax, task in zip(axes[0], tasks):
        for i, act in enumerate(acts):
            if (task, act) in curves:
                ax.plot(curves[task, act], color=colour(act), lw=1.6, label=act,
                        ls=styles[i % len(styles)])
        if target is not None:
            ax.axhline(target, color="0.55", ls="-", lw=0.8, label=f"target {target:.0%}",
                       zorder=1.5, gid="target")
        ax.set(xlabel="epoch", title=f"{task}: validation accuracy", ylim=(bottom, 1.02))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0, 0].set_ylabel("validation accuracy")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes[0, 1:]:  # an activation missing from the first task still gets its entry
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    axes[0, -1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.03, 1.0),
                       borderaxespad=0, fontsize=8.5)
    return _finish(fig, show)


def plot_training_curves(histories: Mapping, *, reference_loss: float | None = None,
                         reference_label: str | None = None, loss_label: str = "loss",
                         show: bool = False) -> Figure:
    """Training loss (left) and accuracy (right) of several runs, one line per run.

    Each run is drawn in the course colour of its name (:func:`colour`: "relu" is ReLU's
    green). ``reference_loss`` draws a dotted horizontal line on the loss panel, labelled
    ``reference_label`` (e.g. the loss of a constant prediction).
    """
    fig, axes = subplots(1, 2, figsize=(8.6, 3.3))
    for (name, h), (rgb, dash) in zip(histories.items(), styles_for(histories)):
        axes[0].plot(h.epoch, h.loss, color=rgb, ls=dash, label=name, gid=f"loss:{name}")
        axes[1].plot(h.epoch, h.accuracy, color=rgb, ls=dash, label=name,
                     gid=f"accuracy:{name}")
    top = max(float(np.nanmax(h.loss)) for h in histories.values())
    if reference_loss is not None:
        axes[0].axhline(reference_loss, color="0.5", ls=":", lw=1.2, gid="reference")
        top = max(top, reference_loss)
    axes[0].set(xlabel="epoch", ylabel=loss_label, title="Training loss", ylim=(0, 1.12 * top))
    axes[1].set(xlabel="epoch", ylabel="accuracy", title="Training accuracy", ylim=(0.4, 1.02))
    axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    if reference_loss is not None and reference_label:
        last = max(float(h.epoch[-1]) for h in histories.values())
        note = axes[0].annotate(reference_label, (last, reference_loss), xytext=(0, 4),
                                textcoords="offset points", ha="right", va="bottom",
                                color="0.35", fontsize=9, gid="reference_label")
        first = min(float(h.epoch[0]) for h in histories.values())
        keep_free(note, [{"xy": (x, reference_loss), "xyann": (0, dy), "ha": ha, "va": va}
                          for dy, va in ((4, "bottom"), (-4, "top"))
                          for x, ha in ((last, "right"), (first, "left"))])
    place_legend(axes[1], inside=("lower right", "center right", "lower left", "upper left",
                                  "upper right", "center left"))
    return _finish(fig, show)
