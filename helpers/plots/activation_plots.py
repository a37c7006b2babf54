"""Activation functions: f(x) and f'(x) with the flat bands shaded, and one neuron f(wx + b)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .. import activations, diagnostics
from .house import (
    _as_activation,
    _finish,
    _panels,
    _runs,
    around,
    keep_free,
    place_legend,
    subplots,
)
from .palette import colour, hatch, styles_for

SATURATION_THRESHOLD = diagnostics.SATURATION_THRESHOLD
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


def derivative_jumps(act, x: np.ndarray, tol: float = 0.2):
    """Where f' jumps on the grid ``x``: a list of (x0, f'(x0), left limit, right limit).

    ReLU's derivative jumps from 0 to 1 at 0, with f'(0) = 0 by the course's convention; a
    line through the samples would draw the jump as a vertical segment, a slope that is
    nowhere. The jump is located by bisection and snapped to a round x (0, not 1e-17).
    """
    g = act.grad(x)
    jumps = []
    for i in np.flatnonzero(np.abs(np.diff(g)) > tol):
        lo, hi = float(x[i]), float(x[i + 1])
        g_lo = float(g[i])
        for _ in range(50):  # bisection: the last point with the left side's value
            mid = (lo + hi) / 2
            if abs(float(act.grad(np.array([mid]))[0]) - g_lo) <= tol / 2:
                lo = mid
            else:
                hi = mid
        x0 = round(hi, 6) + 0.0
        eps = 1e-9 * max(1.0, abs(x0))
        at, left, right = (float(v) for v in act.grad(np.array([x0, x0 - eps, x0 + eps])))
        jumps.append((x0, at, left, right))
    return jumps


def derivative_curve(act, x: np.ndarray, jumps=None):
    """(x, f'(x)) to draw as one line: broken at each jump (NaN), each side ending on its
    limit, so no vertical segment joins the two sides."""
    jumps = derivative_jumps(act, x) if jumps is None else jumps
    xs, gs = [np.asarray(x, dtype=float)], [act.grad(x)]
    if not jumps:
        return xs[0], gs[0]
    xs, gs, start = [], [], 0
    for x0, _, left, right in jumps:
        stop = int(np.searchsorted(x, x0))
        piece = x[start:stop][x[start:stop] < x0]
        xs += [piece, [x0, np.nan, x0]]
        gs += [act.grad(piece), [left, np.nan, right]]
        start = stop
    piece = x[start:][x[start:] > jumps[-1][0]]
    xs.append(piece)
    gs.append(act.grad(piece))
    return np.concatenate(xs), np.concatenate(gs)


def band_style(rgb, k, *, legend: bool = False) -> dict:
    """Patch keywords for a curve's shaded band in colour ``rgb``: a faint fill and a hatch
    in the curve's colour, so overlapping bands keep their own colours. ``k`` is the
    activation's name (its fixed hatch, :func:`~helpers.plots.palette.hatch`) or an index. A legend
    swatch (``legend=True``) is a small patch: its fill and hatch are stronger, so it reads as
    the same colour as the large band it stands for."""
    return {"facecolor": (rgb, 0.18 if legend else 0.06),
            "hatch": hatch(k),
            "hatchcolor": (rgb, 0.9 if legend else 0.45),
            "hatch_linewidth": 1.2 if legend else 0.8,
            "edgecolor": (rgb, 0.9) if legend else "none", "lw": 0.8 if legend else 0}


def plot_activations(names, derivative: bool = True, x_range=(-6, 6), *, mark_max: bool = True,
                     shade_saturation: bool = True, n_points: int = 601, ax=None,
                     title: str | None = None, show: bool = False) -> Figure:
    """Activation functions (left) and their derivatives (right), flat regions shaded.

    ``names`` is a name, an Activation, or a list of them (``activations.get("elu", alpha=0.5)``
    for parameters). Each activation has its course colour (:func:`colour`); its flat band,
    where |f'(x)| < 0.01 (the threshold ``diagnostics`` uses), is hatched in that colour.
    """
    if isinstance(names, (str, activations.Activation)):
        names = [names]
    acts = [_as_activation(n) for n in names]
    if not acts:
        raise ValueError("plot_activations needs at least one activation name, got none")
    lo, hi = x_range
    if not lo < hi:
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range!r}")
    fig, axes = _panels(ax, 2 if derivative else 1, "plot_activations")
    x = np.linspace(lo, hi, n_points)
    styles = styles_for([act.name for act in acts])
    bands = []  # (act, its colour, its hatch key) for each curve with a flat band
    peaks = []
    for act, (rgb, dash) in zip(acts, styles):
        axes[0].plot(x, act(x), color=rgb, ls=dash, label=act.label, gid=f"f:{act.label}")
        if derivative:
            jumps = derivative_jumps(act, x)
            axes[1].plot(*derivative_curve(act, x, jumps), color=rgb, ls=dash,
                         label=act.label, gid=f"df:{act.label}")
            for x0, at, left, right in jumps:
                # f'(x0) a filled dot; each one-sided limit it is not, an open circle.
                axes[1].plot(x0, at, "o", color=rgb, ms=5, zorder=3.5, gid=f"jump:{act.label}")
                ends = [v for v in (left, right) if abs(v - at) > 1e-9]
                # A little larger than a peak's dot: a peak on it (tanh's at (0, 1)) shows
                # inside the ring.
                axes[1].plot([x0] * len(ends), ends, "o", markerfacecolor="white",
                             markeredgecolor=rgb, markeredgewidth=1.5, ms=8, zorder=3.5,
                             gid=f"jump_limit:{act.label}")
            peak = _derivative_peak(act, x) if mark_max and not jumps else None
            if peak is not None:
                # Above every curve, edged in white: a peak that lies on another curve (tanh's
                # at (0, 1), on ReLU's line) still shows.
                axes[1].plot(*peak, "o", color=rgb, ms=5, markeredgecolor="white",
                             markeredgewidth=0.8, zorder=4, gid=f"max:{act.label}")
                peaks.append((peak, rgb))
        spans = saturation_spans(act, x) if shade_saturation else []
        # Its own hatch; a second curve of the same activation (another alpha) the next one.
        key = act.name if act.name not in [b[0].name for b in bands] else len(bands)
        for a, b in spans:
            # A narrow band (Mish's, where f' crosses 0) shows no hatch: it gets edges in its
            # colour, above the wide bands, so it is not lost under another curve's.
            narrow = (b - a) < 0.03 * (hi - lo)
            edges = {"edgecolor": (rgb, 0.9), "lw": 1.0, "zorder": 1.5} if narrow else {}
            for panel in axes:
                panel.axvspan(a, b, gid="saturated", **{**band_style(rgb, key), **edges})
        if spans:
            bands.append((act, rgb, key))
    axes[0].set(xlabel="input $x$", ylabel="$f(x)$", title=title or "Activation $f(x)$",
                xlim=(lo, hi))
    if derivative:
        axes[1].set(xlabel="input $x$", ylabel="$f'(x)$", title="Derivative $f'(x)$",
                    xlim=(lo, hi))
        # Labels once every curve is drawn, each where it covers none of them. Peaks at the
        # same point (tanh's and softsign's at (0, 1)) share one label, in a neutral grey.
        shared: dict[tuple, list] = {}
        for (px, py), rgb in peaks:
            shared.setdefault((round(px / (hi - lo), 2), round(py, 2)), []).append(((px, py), rgb))
        peaks = [(group[0][0], group[0][1] if len(group) == 1 else "0.25")
                 for group in shared.values()]
        for (px, py), rgb in peaks:
            # On a white ground: a label over a hatched band must still read.
            note = axes[1].annotate(f"max {py:.3g}", (px, py), textcoords="offset points",
                                    xytext=(5, 5), fontsize=8.5, color=rgb, zorder=4,
                                    bbox={"boxstyle": "round,pad=0.08", "fc": "white",
                                          "ec": "none", "alpha": 0.9},
                                    gid="max_label")
            keep_free(note, around((5, 10, 16, 24, 32)))
    handles, labels = axes[0].get_legend_handles_labels()
    # One swatch per curve whose band is shaded, in that curve's colour and hatch: the bands
    # of several curves differ (tanh flattens sooner than sigmoid) and overlap.
    swatches = [Patch(**band_style(rgb, k, legend=True)) for _, rgb, k in bands]
    flat = f"flat: $|f'| < {SATURATION_THRESHOLD:g}$"
    if derivative and swatches:
        # Two small legends fit between the curves where one large one would not: the
        # curves' on the left, the bands' (titled with the rule) on the right.
        if len(handles) > 1:
            place_legend(axes[0], handles, labels)
        place_legend(axes[1], swatches, [act.label for act, _, _ in bands], title=flat,
                     inside=("upper left", "center left", "lower right", "upper right",
                             "center right", "lower left"))
    elif len(handles) + len(swatches) > 1:
        place_legend(axes[0], handles + swatches,
                     labels + [f"{act.label} {flat}" for act, _, _ in bands])
    return _finish(fig, show)


# Where the centre line's label may go: its foot, right or left, then its top.
_CENTRE_PLACES = tuple(
    {"xy": (0, y), "xyann": (dx, 0), "ha": ha, "va": va}
    for y, va in ((0.02, "bottom"), (0.98, "top"))
    for dx, ha in ((4, "left"), (-4, "right")))


def centre_places(x0: float) -> list[dict]:
    """Places for the label of the centre line at ``x0`` (see :func:`plot_neuron`)."""
    return [{**p, "xy": (x0, p["xy"][1])} for p in _CENTRE_PLACES]


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
    ax.plot(x, act(w * x + b), color=colour(act), label=f"$f({w:g}x {b:+g})$", gid="neuron")
    ax.set(xlabel="input $x$", ylabel="activation $a$", xlim=(lo, hi),
           title=f"$a = f(wx+b)$, $w={w:g}$, $b={b:g}$")
    if w != 0 and lo <= -b / w <= hi:
        x0 = -b / w + 0.0  # + 0.0: b = 0 gives 0, not "-0"
        ax.axvline(x0, color="0.25", lw=1.2, ls=":", gid="centre")
        note = ax.annotate(f"$x=-b/w={x0:.2g}$", (x0, 0.02), xycoords=("data", "axes fraction"),
                           xytext=(4, 0), textcoords="offset points", color="0.25",
                           fontsize=9, gid="centre_label")
        keep_free(note, centre_places(x0))
    place_legend(ax)
    return _finish(fig, show)
