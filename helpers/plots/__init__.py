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

Importing this module applies the course style once (:func:`style`): readable font sizes,
a CJK-capable fallback font so that titles such as ``"Sigmoid激活函数"`` render as
characters, not boxes, and the one palette: :func:`colour` gives each activation (and run)
its colour, the same in every figure and explorer (``color=plots.colour("relu")`` in a
notebook cell), :func:`layer_colour` each layer's, :func:`class_colours` each class's and
:func:`run_colours` other compared quantities' and :func:`count_colours` counts' (none of
them an activation's colour).
Legends and notes go where they cover no data (:func:`place_legend`, measured by
:mod:`helpers.plots.audit`).

The modules, by concern: ``palette`` (the colours), ``house`` (style, figures, margins,
legend placement), ``notebook`` (PNG display), ``audit`` (does anything cover the data),
``activation_plots``, ``networks`` (decision surfaces, diagrams, per-layer outputs),
``training`` (histories and dashboards), ``softmax_figures`` (chapter 4) and ``chapters``
(the other chapters' own figures).
"""

from __future__ import annotations

# The names below were the module's before it became a package; notebooks, widgets and
# tests use them as ``plots.X`` (the imported matplotlib names included), so all stay.
import math  # noqa: F401
import warnings  # noqa: F401
from collections.abc import Mapping, Sequence  # noqa: F401

import matplotlib as mpl  # noqa: F401
import numpy as np  # noqa: F401
from matplotlib import colors as mcolors  # noqa: F401
from matplotlib import font_manager  # noqa: F401
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
from matplotlib.collections import LineCollection  # noqa: F401
from matplotlib.figure import Figure  # noqa: F401
from matplotlib.lines import Line2D  # noqa: F401
from matplotlib.patches import Patch  # noqa: F401
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter  # noqa: F401

from .. import activations, diagnostics  # noqa: F401
from . import audit
from .activation_plots import (  # noqa: F401
    SATURATION_THRESHOLD,
    _derivative_peak,
    band_style,
    centre_places,
    derivative_curve,
    derivative_jumps,
    plot_activations,
    plot_neuron,
    saturation_spans,
)
from .chapters import (
    plot_1d_fits,
    plot_boundary_grid,
    plot_finite_difference_errors,
    plot_folded_plane,
    plot_histogram_stacks,
    plot_one_neuron_runs,
    plot_seed_comparison,
    plot_weight_paths,
)
from .house import (  # noqa: F401
    _CJK_FAMILIES,
    _CJK_FILE_HINTS,
    WIDE,
    CJKFontWarning,
    _as_activation,
    _check_ax_pair,
    _cjk_state,
    _finish,
    _fixed_layout_figure,
    _fixed_subplots,
    _history_array,
    _percent,
    _require_diagnostics,
    _runs,
    _show,
    around,
    cjk_font,
    keep_free,
    log_axis_labels,
    place_legend,
    place_text,
    settle_legend,
    style,
    subplots,
)
from .networks import (  # noqa: F401
    _QUANTILES,
    _grid,
    _grid_shape,
    _layer_activation,
    _layer_names,
    _shown_units,
    decision_surface,
    plot_decision_boundary,
    plot_layer_histograms,
    plot_network,
    plot_unit_activity,
    plot_weight_distributions,
    plot_weights,
)
from .notebook import (  # noqa: F401
    NON_INTERACTIVE_BACKENDS,
    _enable_notebook_display,
    _notebook_png,
    backend_shows_course_figures,
)
from .palette import (  # noqa: F401
    ACTIVATION_COLOURS,
    CLASS_COLOURS,
    CLASS_MARKERS,
    COUNT_RAMP,
    DIVERGING_CMAP,
    LAYER_MARKERS,
    LAYER_RAMP,
    OKABE_ITO,
    RUN_COLOURS,
    _probability_cmap,
    class_colours,
    colour,
    count_colours,
    layer_colour,
    layer_marks,
    run_colours,
    styles_for,
)
from .softmax_figures import (  # noqa: F401
    plot_confident_mistake,
    plot_probability_maps,
    plot_shift_windows,
    plot_softmax,
    plot_tag_counts,
    plot_temperature_sweep,
    tied_top,
)
from .training import (  # noqa: F401
    _grad_norm_source,
    plot_dead_units,
    plot_gradient_norms,
    plot_history,
    plot_training_curves,
    plot_validation_curves,
    training_dashboard,
)

__all__ = [
    "OKABE_ITO",
    "ACTIVATION_COLOURS",
    "DIVERGING_CMAP",
    "CJKFontWarning",
    "style",
    "cjk_font",
    "colour",
    "class_colours",
    "run_colours",
    "count_colours",
    "layer_colour",
    "layer_marks",
    "subplots",
    "place_legend",
    "place_text",
    "settle_legend",
    "keep_free",
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

style()
_enable_notebook_display()
audit.install_from_environment()
