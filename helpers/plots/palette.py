"""The course's one palette: a colour for each activation, layer, class and run.

Every figure and explorer takes its colours from here, so ReLU is the same green in every
chapter and a notebook cell can match them with :func:`colour`. Activations take Okabe &
Ito's eight (2008), grey and three of Paul Tol's colours (2021). Classes, layers, runs and the
other quantities a figure compares (logits and probabilities, two losses, two formulas) take
colours of their own, far from every activation's: a blue point is never "class 0" in one
figure and "sigmoid" in the next. ``tests/test_plots.py`` measures it: every class, layer and
run colour differs from every activation colour by a CIELAB distance of at least 20, and the
colours within each set stay apart for the three colour-vision deficiencies (Machado et al.,
2009).
"""

from __future__ import annotations

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
# Classes: dark wine, sand, light cyan, dark navy, pink, dark red (Tol's muted, light and
# dark schemes), alternately dark and light so neighbouring classes differ in lightness, which
# every colour-vision deficiency keeps. Classes also keep their markers (CLASS_MARKERS).
CLASS_COLOURS = ["#882255", "#DDCC77", "#99DDEE", "#222255", "#FFAABB", "#663333"]
# Runs and other compared quantities (logits and probabilities, two losses, training and
# validation): dark teal, salmon, lavender, dark olive. Names the palette does not know (a
# student's registered activation, "run A") take these in turn, the first time they are asked
# for, and keep them for the session.
RUN_COLOURS = ["#225555", "#EE8866", "#B8A9D9", "#666633"]
FALLBACK_COLOURS = RUN_COLOURS  # the name it had before the run palette was split off
# Layers: a dark-to-light brown ramp (first hidden layer darkest), a hue no activation has.
LAYER_RAMP = ("#3B2205", "#C89B5A")
# Counts (how many tags a sample has: 0, 1, 2, 3): ordered, so one hue from light to dark,
# none first and lightest (a blank), the most last and darkest. Teal, the first run colour.
COUNT_RAMP = ("#E4EFEF", "#163838")
_assigned: dict[str, str] = {}

CLASS_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LAYER_MARKERS = ("o", "s", "^", "D", "v", "P")  # one per layer, where layers' lines overlap
DIVERGING_CMAP = "RdBu_r"  # colour-blind safe; red = positive, blue = negative
# Hatches for shaded x-bands of several curves: each curve's band keeps its own colour and
# direction, so where two bands overlap both stay visible (blended fills would not).
BAND_HATCHES = ("///", "\\\\\\", "|||", "---", "xx", "++")
# Each activation's hatch, fixed like its colour (the same in every figure and explorer,
# whatever else is shown); those whose flat bands meet in the course's figures (sigmoid,
# tanh, ReLU, SiLU, GELU, ELU) differ in direction.
ACTIVATION_HATCHES = {"sigmoid": "///", "tanh": "\\\\\\", "relu": "|||", "silu": "---",
                      "gelu": "++", "elu": "xx", "softplus": "..", "step": "xx",
                      "arctan": "++", "leaky_relu": "---", "identity": ".."}


def hatch(name_or_index) -> str:
    """The hatch of an activation's flat band (by name), or the ``k``-th of BAND_HATCHES."""
    if isinstance(name_or_index, str):
        key = _activation_key(name_or_index) or name_or_index
        if key in ACTIVATION_HATCHES:
            return ACTIVATION_HATCHES[key]
        return BAND_HATCHES[sum(map(ord, key)) % len(BAND_HATCHES)]
    return BAND_HATCHES[int(name_or_index) % len(BAND_HATCHES)]


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
    """The colour of each of ``k`` classes (class 0 wine, class 1 sand, class 2 light cyan,
    ...): none of them an activation's colour."""
    return [CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(k)]


def run_colours(k: int) -> list[str]:
    """Colours for ``k`` compared things that are neither activations nor classes nor layers
    (logits and probabilities, two losses, training and validation), in a fixed order."""
    return [RUN_COLOURS[i % len(RUN_COLOURS)] for i in range(k)]


def count_colours(k: int) -> list[str]:
    """The colours of the counts 0 .. ``k`` - 1, light to dark (:data:`COUNT_RAMP`): an
    ordered quantity reads from its lightness, and 0 reads as nothing."""
    ramp = mcolors.LinearSegmentedColormap.from_list("course_counts", COUNT_RAMP)
    return [mcolors.to_hex(ramp(j / max(k - 1, 1))) for j in range(k)]


_layer_cmap = None


def layer_colour(j: int, n_layers: int) -> str:
    """The colour of layer ``j`` (0 = first hidden layer) of a network of ``n_layers``.

    Layers are ordered, so they take a dark-to-light brown ramp (:data:`LAYER_RAMP`), the
    same in every per-layer figure and explorer: the first hidden layer darkest, the output
    layer lightest. Brown is no activation's colour (viridis's greens were ReLU's).
    """
    global _layer_cmap
    if _layer_cmap is None:
        _layer_cmap = mcolors.LinearSegmentedColormap.from_list("course_layers", LAYER_RAMP)
    return mcolors.to_hex(_layer_cmap(j / max(n_layers - 1, 1)))


def layer_marks(n_layers: int, epochs: int, markersize: float = 5) -> list[dict]:
    """Line keywords for one curve per layer over ``epochs``: a marker each, at staggered epochs.

    Layers whose curves lie on top of each other (two layers both 0 % dead) stay visible.
    """
    step = max(epochs // 8, 1)
    return [{"marker": LAYER_MARKERS[j % len(LAYER_MARKERS)], "markersize": markersize,
             "markevery": (j * step // n_layers, step)} for j in range(n_layers)]


def _lighter(colour_, share: float):
    """``colour_`` mixed with white: ``share`` of white."""
    rgb = mcolors.to_rgb(colour_)
    return tuple(c + (1 - c) * share for c in rgb)


def _probability_cmap():
    """P(class 1) from class 0's colour through white to class 1's (not sigmoid's blue).
    Class 1's end is a little lighter than its points, so the pale sand points stand out on
    their own region (class 0's dark wine points do on theirs)."""
    return mcolors.LinearSegmentedColormap.from_list(
        "course_binary", [CLASS_COLOURS[0], "#f7f7f7", _lighter(CLASS_COLOURS[1], 0.25)])
