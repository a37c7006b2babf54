"""How a course figure shows in a notebook: one PNG, laid out and drawn once.

The figures are made without pyplot, so in a kernel their PNG display is registered here
(for the inline backend and the file-only ones); ``_notebook_png`` draws them.
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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
    # (Under the overlap audit, HELPERS_FIGURE_AUDIT, the drawing itself is measured: see
    # helpers.plots.audit.install.)
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
