"""The house style: fonts and sizes, figures made outside pyplot, fixed margins, legends that
cover no data, and the small formatting helpers every figure uses."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter
from matplotlib.transforms import Bbox

from .. import activations
from . import audit
from .palette import OKABE_ITO

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
# Figures outside pyplot, and fixed margins
# --------------------------------------------------------------------------------------


def subplots(nrows: int = 1, ncols: int = 1, figsize=None, **kwargs):
    """Like ``plt.subplots`` but outside pyplot: the figure shows once as a cell's value."""
    if figsize is None:
        figsize = (4.2 * ncols + 0.4, 3.3 * nrows)
    kwargs.setdefault("squeeze", True)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


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


# --------------------------------------------------------------------------------------
# Legends that cover no data
# --------------------------------------------------------------------------------------

INSIDE = ("upper right", "upper left", "lower right", "lower left", "center right",
          "center left", "upper center", "lower center")


def _measuring_renderer(fig: Figure):
    """A renderer to measure text with, without drawing the figure or touching its canvas."""
    width, height = fig.get_size_inches() * fig.dpi
    return RendererAgg(max(int(width), 1), max(int(height), 1), fig.dpi)


def _points(size) -> float:
    """A font size (a number or a name such as "small") in points."""
    return font_manager.FontProperties(size=size).get_size_in_points()


def _below_pad(ax, fontsize: float) -> float:
    """The gap, in legend font sizes, from the axes' bottom edge to below its x labels."""
    points = 6.0
    if ax.xaxis.get_visible() and ax.xaxis.get_tick_params().get("labelbottom", True):
        points += 7 + 1.3 * _points(mpl.rcParams["xtick.labelsize"])  # ticks, pad, labels
    if ax.get_xlabel():
        points += 4 + 1.5 * _points(mpl.rcParams["axes.labelsize"])  # room for $x_1$
    return points / fontsize


def settle_legend(legend, places: Sequence[str] = INSIDE, renderer=None) -> bool:
    """Move an existing ``legend`` to the first of ``places`` (``loc`` names) where it covers
    no data; False (and the last place tried) if there is none. For explorers, whose data
    move under a legend drawn once."""
    fig = legend.axes.figure
    renderer = renderer or _measuring_renderer(fig)
    items = [audit.data_items(a, renderer) for a in fig.axes if a.get_visible()]
    points = [p for pts, _ in items for p in pts]
    areas = [a for _, ars in items for a in ars]
    for loc in places:
        legend.set_loc(loc)
        box = legend.get_window_extent(renderer)
        # A few pixels of room, for the antialiased edges of the lines around it.
        grown = Bbox.from_extents(box.x0 - 3, box.y0 - 3, box.x1 + 3, box.y1 + 3)
        if not audit.count_covered(grown, points, areas):
            return True
    return False


def place_legend(ax, handles=None, labels=None, *, inside: Sequence[str] = INSIDE,
                 outside: str = "below", **kwargs):
    """Draw ``ax``'s legend where it covers no data: the first free place of ``inside``,
    or else outside the axes (``outside`` = "below" the x label, or to the "right").

    "Data" is what :mod:`helpers.plots.audit` measures: lines, markers, points, bars,
    images, across every panel of the figure. Use it for a notebook's own figures too:
    ``plots.place_legend(ax)`` instead of ``ax.legend()``. Returns the Legend.
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    elif labels is None:
        labels = [h.get_label() for h in handles]
    if not handles:
        return None
    fig = ax.figure
    legend = ax.legend(handles, labels, loc=inside[0] if inside else "upper right", **kwargs)
    if inside:
        renderer = _measuring_renderer(fig)
        if settle_legend(legend, inside, renderer):
            return legend
        engine = fig.get_layout_engine()
        if engine is not None and type(engine).__name__ == "ConstrainedLayoutEngine":
            # Measured before the layout, the axes are smaller than they will be: lay the
            # figure out (its drawing lays it out again, the same way) and look once more.
            engine.execute(fig)
            if settle_legend(legend, inside, renderer):
                return legend
    legend.remove()
    size = _points(kwargs.pop("fontsize", mpl.rcParams["legend.fontsize"]))
    if outside == "right":
        kwargs.setdefault("borderaxespad", 0.6)
        return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                         fontsize=size, **kwargs)
    kwargs.setdefault("ncol", min(len(handles), 3))
    kwargs.setdefault("borderaxespad", _below_pad(ax, size))
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                     fontsize=size, **kwargs)


# --------------------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------------------


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


def _panels(ax, n: int, what: str):
    """(figure, the ``n`` side-by-side axes to draw into): ``ax`` when given (checked to be
    ``n`` Axes), else a new figure's, at the notebook's width for two panels."""
    axes = _check_ax_pair(ax, n, what)
    if axes is None:
        fig, axes = subplots(1, n, figsize=WIDE if n == 2 else (4.8, 3.4))
        axes = list(np.ravel(axes))
    return axes[0].figure, axes


def log_axis_labels(ax) -> None:
    """Plain-number labels on a log y axis; minor ticks labelled only when it spans < 2 decades."""
    plain = FuncFormatter(lambda v, _: f"{v:.3g}")
    ax.yaxis.set_major_formatter(plain)
    lo, hi = ax.get_ylim()
    few = lo > 0 and hi / lo < 100
    ax.yaxis.set_minor_formatter(
        FuncFormatter(lambda v, _: f"{v:.2g}" if f"{v:.1e}"[0] in "25" else "") if few
        else NullFormatter())


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


def _percent(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.0f}%"


def place_text(text, candidates, renderer=None) -> int:
    """Move the annotation ``text`` to the first of ``candidates`` where it covers no data.

    Each candidate is a dict of annotation settings, e.g. ``{"xyann": (4, 4), "ha": "left",
    "va": "bottom"}`` (``xy`` may be given too). When every place covers something, the one
    covering least is kept. Returns the index of the place chosen.
    """
    ax = text.axes
    renderer = renderer or _measuring_renderer(ax.figure)
    points, areas = audit.data_items(ax, renderer)
    # The other labels of the figure count as data here: two notes must not overlap.
    areas = areas + [(what, box) for _, what, box in audit.boxes(ax.figure, renderer,
                                                                 but=text)]
    best, best_cost = 0, None
    for i, place in enumerate(candidates):
        _apply_place(text, place)
        box = audit._text_box(text, renderer)
        cost = sum(n for _, n in audit.count_covered(box, points, areas))
        if not ax.bbox.contains(box.x0, box.y0) or not ax.bbox.contains(box.x1, box.y1):
            cost += 10_000  # out of the axes, into a title or a neighbour: last resort
        if cost == 0:
            return i
        if best_cost is None or cost < best_cost:
            best, best_cost = i, cost
    _apply_place(text, candidates[best])
    return best


def keep_free(text, places) -> None:
    """Place the annotation ``text`` with :func:`place_text` each time it is drawn: on the
    figure as laid out then, so the place chosen is the one the picture shows."""
    drawn = text.draw

    def draw(renderer):
        if text.get_visible():
            place_text(text, places, renderer)
        return drawn(renderer)

    text.draw = draw


def around(distances=(5, 10, 16, 24)) -> list[dict]:
    """Places for a label next to a marked point, nearest first: above it, the upper
    diagonals, beside it, then below, at each distance in points."""
    places = []
    for r in distances:
        for dx, dy in ((0, 1), (1, 1), (-1, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (0, -1)):
            places.append({"xyann": (r * dx, r * dy),
                           "ha": "left" if dx > 0 else "right" if dx < 0 else "center",
                           "va": "bottom" if dy > 0 else "top" if dy < 0 else "center"})
    return places


def _apply_place(text, place: dict) -> None:
    for key, value in place.items():
        if key == "xy":
            text.xy = value
        elif key == "xyann":
            text.xyann = value
        elif key == "ha":
            text.set_horizontalalignment(value)
        elif key == "va":
            text.set_verticalalignment(value)
        else:
            raise ValueError(f"unknown text setting {key!r}")
