"""The course's one palette: a colour for each activation, layer, class and run.

Every figure and explorer takes its colours from here, so ReLU is the same green in every
chapter and a notebook cell can match them with :func:`colour`. All colours are colour-blind
safe: Okabe & Ito's eight (2008), grey, and for the rarer activations and for names the
course does not know, colours from Paul Tol's "muted" scheme (2021).
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib import colors as mcolors

from .. import activations

# Okabe & Ito (2008), ordered so the first colours contrast best on white; yellow last.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
             "#F0E442"]

# One colour per built-in activation. The eight that chapter 5 compares in one panel
# (identity, sigmoid, tanh and the ReLU family) get eight different colours; the palette's
# yellow is too pale for a line, so identity, the "no activation", is grey.
ACTIVATION_COLOURS = {
    "identity": "#7F7F7F",
    "step": "#332288",        # Tol indigo
    "sigmoid": OKABE_ITO[0],  # blue
    "tanh": OKABE_ITO[1],     # orange
    "arctan": "#AA4499",      # Tol purple
    "relu": OKABE_ITO[2],     # bluish green
    "leaky_relu": OKABE_ITO[3],  # vermilion
    "elu": OKABE_ITO[4],      # reddish purple
    "softplus": "#999933",    # Tol olive
    "gelu": OKABE_ITO[5],     # sky blue
    "silu": OKABE_ITO[6],     # black
}
# Names the palette does not know (a student's registered activation, a run's label) take
# these in turn, the first time they are asked for, and keep them for the session; the
# first, wine, stands apart from every built-in activation's colour.
FALLBACK_COLOURS = ["#882255", "#44AA99", "#CC6677", "#117733", "#88CCEE", "#DDCC77"]
_assigned: dict[str, str] = {}

CLASS_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LAYER_MARKERS = ("o", "s", "^", "D", "v", "P")  # one per layer, where layers' lines overlap
DIVERGING_CMAP = "RdBu_r"  # colour-blind safe; red = positive, blue = negative
# Hatches for shaded x-bands of several curves: each curve's band keeps its own colour and
# direction, so where two bands overlap both stay visible (blended fills would not).
BAND_HATCHES = ("///", "\\\\\\", "|||", "---", "xx", "++")


def _activation_key(name) -> str | None:
    """The registry name behind ``name`` (an Activation, a name or alias), or None."""
    if isinstance(name, activations.Activation):
        return name.name
    if not isinstance(name, str):
        return None
    try:
        return activations.get(name).name
    except (ValueError, TypeError, KeyError):
        return None


def colour(name) -> str:
    """The course colour of an activation or a run, e.g. ``plots.colour("relu")``.

    ``name`` is an activation (a registry name, an alias such as "linear", or an Activation
    object) or a label that starts with one ("relu, bias 0", "tanh (PyTorch)"): activations
    have fixed colours, the same in every figure and explorer. Any other name (a student's
    registered activation, "run A") gets a colour of its own the first time it is asked
    for and keeps it for the session. Use it in notebook cells as ``color=plots.colour(name)``.
    """
    if isinstance(name, str) and name in ACTIVATION_COLOURS:  # the common case, fast
        return ACTIVATION_COLOURS[name]
    if isinstance(name, str) and name in _assigned:
        return _assigned[name]
    key = _activation_key(name)
    if key is None and isinstance(name, str):
        head = name.strip().split(",")[0].split(" (")[0].split()
        key = _activation_key(head[0]) if head else None
    if key in ACTIVATION_COLOURS:
        return ACTIVATION_COLOURS[key]
    label = key or str(name)
    if label not in _assigned:
        free = [c for c in FALLBACK_COLOURS if c not in _assigned.values()]
        _assigned[label] = free[0] if free else FALLBACK_COLOURS[len(_assigned)
                                                                 % len(FALLBACK_COLOURS)]
    return _assigned[label]


def styles_for(names) -> list[tuple[str, object]]:
    """(colour, line style) for each name: its :func:`colour`, and a new dash pattern for a
    name whose colour an earlier name already has ("sigmoid, N(0, 1)" after "sigmoid")."""
    dashes = ["-", "--", ":", "-."]
    seen: dict[str, int] = {}
    out = []
    for name in names:
        c = colour(name)
        k = seen.get(c, 0)
        seen[c] = k + 1
        out.append((c, dashes[k % len(dashes)]))
    return out


def class_colours(k: int) -> list[str]:
    """The colour of each of ``k`` classes (class 0 blue, class 1 orange, ...)."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(k)]


def layer_colour(j: int, n_layers: int):
    """The colour of layer ``j`` (0 = first hidden layer) of a network of ``n_layers``.

    Layers are ordered, so they take a dark-to-light viridis ramp, the same in every
    per-layer figure and explorer: the first hidden layer darkest, the output layer
    lightest (stopping short of viridis's pale yellow).
    """
    return mpl.colormaps["viridis"](0.85 * j / max(n_layers - 1, 1))


def layer_marks(n_layers: int, epochs: int, markersize: float = 5) -> list[dict]:
    """Line keywords for one curve per layer over ``epochs``: a marker each, at staggered epochs.

    Layers whose curves lie on top of each other (two layers both 0 % dead) stay visible.
    """
    step = max(epochs // 8, 1)
    return [{"marker": LAYER_MARKERS[j % len(LAYER_MARKERS)], "markersize": markersize,
             "markevery": (j * step // n_layers, step)} for j in range(n_layers)]


def _probability_cmap():
    return mcolors.LinearSegmentedColormap.from_list(
        "course_binary", [OKABE_ITO[0], "#f7f7f7", OKABE_ITO[1]])
