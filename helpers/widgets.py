"""Interactive explorers: each function returns one widget to ``display``.

Every explorer is an :class:`Explorer` (an ``ipywidgets.VBox``): controls on the left, a
figure on the right. The figure is one matplotlib :class:`~matplotlib.figure.Figure` built
once by :mod:`helpers.plots`; a control change updates its artists' data in place and
re-renders it to PNG bytes in an ``ipywidgets.Image`` -- one redraw per change, no new
figure, no flicker, and no ipympl needed. Colours come from the course palette
(``plots.colour``, ``plots.layer_colour``), and legends and labels are moved, frame by frame,
to where they cover no data.

For tests and curious students, an explorer exposes ``.controls`` (name -> widget),
``.figure``, ``.image`` (its ``.value`` holds the PNG bytes), ``.artists`` (name -> the
matplotlib artists that change) and ``.n_renders``. ``with explorer.hold_updates(): ...``
changes several controls with a single redraw.

Speed (every explorer updates in a few tens of milliseconds, ``benchmarks/widgets.py``): the
layout is computed once and frozen; a frame redraws only the moving artists over a cached
picture of the rest (blitting), and when one panel's axes change only that panel is redrawn
into the cached picture; explorers that train keep the results of the settings already seen.
"""

from __future__ import annotations

import io
import math
import warnings
from collections import OrderedDict
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.contour import ContourSet
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator
from matplotlib.transforms import Bbox, IdentityTransform

from . import activations, data, diagnostics, nn, plots
from ._blas import _blas_thread_calls, one_blas_thread  # noqa: F401 (public here too)

__all__ = [
    "Explorer",
    "activation_explorer",
    "neuron_explorer",
    "softmax_explorer",
    "gradient_flow_explorer",
    "dead_relu_explorer",
    "playground",
]

DPI = 80  # widget frames: readable at the notebook width, cheap to draw and encode
_LABEL_STYLE = {"description_width": "110px"}
_CONTROL_WIDTH = "330px"
PLAYGROUND_DATASETS = ("circles", "xor", "moons", "spirals", "blobs")
DEAD_RELU_ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu")
INITS = ("xavier", "he", "normal", "uniform")
# The gradient-flow explorer's x label: the axis, then what its "sat"/"dead" labels count.
SATURATION_RULE = ("activation a.  Right: sat = share of (sample, unit)\nentries with "
                   f"|f′| < {diagnostics.SATURATION_THRESHOLD:g}; dead = share of units "
                   "with a = 0")


def _slider(kind, description: str, continuous: bool = True, **kw):
    return kind(description=description, style=_LABEL_STYLE, continuous_update=continuous,
                layout=widgets.Layout(width=_CONTROL_WIDTH), **kw)


def _dropdown(description: str, options, value):
    return widgets.Dropdown(description=description, options=list(options), value=value,
                            style=_LABEL_STYLE, layout=widgets.Layout(width=_CONTROL_WIDTH))


def _check_choice(value, options, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, one of {', '.join(options)}; got "
                        f"{type(value).__name__} {value!r}")
    if value not in options:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(options)}")
    return value


def _steady_limits(current, lines, margin: float = 0.05) -> tuple[float, float]:
    """y-limits that fit ``lines`` and stay put while a slider moves.

    The current limits are kept while the data fits inside them and fills at least half
    of them; otherwise the data range plus a margin is used. Steady axes keep the tick
    labels unchanged, so the explorer can redraw only its curves (blitting).
    """
    ys = [np.asarray(line.get_ydata(), dtype=float) for line in lines]
    ys = [y[np.isfinite(y)] for y in ys]
    ys = [y for y in ys if y.size]
    if not ys:
        return current
    low = min(float(y.min()) for y in ys)
    high = max(float(y.max()) for y in ys)
    return _steady_range(current, low, high, margin)


def _steady_range(current, low: float, high: float, margin: float = 0.05):
    """Limits for data in [low, high]: the current ones while the data fit and fill at least
    half of them, else the data's range plus a margin (see :func:`_steady_limits`)."""
    if high - low < 1e-9:  # a flat line (a constant derivative): give it some room
        low, high = low - 0.5, high + 0.5
    c_low, c_high = current
    if c_low <= low and high <= c_high and (high - low) >= 0.5 * (c_high - c_low):
        return current
    pad = margin * (high - low)
    return low - pad, high + pad


def _steady_log_limits(current, low: float, high: float, slack: float = 6.0,
                       base=None) -> tuple[float, float]:
    """Log-axis limits covering [low, high], in whole decades, that stay put while a slider
    moves (steady axes let an explorer redraw only its data).

    The current limits are kept, or widened to take in the new data, as long as that
    leaves at most ``slack`` decades more than the data needs; otherwise they start afresh,
    from the data's range (joined with ``base``, if given).
    """
    low = 10.0 ** math.floor(math.log10(low))
    high = 10.0 ** math.ceil(math.log10(high))
    c_low, c_high = current
    if c_low > 0:
        union = min(c_low, low), max(c_high, high)
        if math.log10(union[1] / union[0]) - math.log10(high / low) <= slack:
            return union
    if base is not None:
        fresh = min(base[0], low), max(base[1], high)
        if math.log10(fresh[1] / fresh[0]) - math.log10(high / low) <= slack:
            return fresh
    return low, high


def _inside(ax) -> list:
    """Everything drawn inside ``ax`` (images, lines, contours, points, legend, title), in
    drawing order: the artists to blit when a panel's contents change but its axes do not."""
    inside = [a for a in ax.get_children() if a is not ax.patch and a not in (ax.xaxis, ax.yaxis)]
    return sorted(inside, key=lambda a: a.get_zorder())


def _activation_name(name) -> str:
    """Validate through the registry (clear error with the closest match) and return its name."""
    return activations.get(name).name


class Explorer(widgets.VBox):
    """Controls next to a figure that is updated in place and shown as a PNG image."""

    # How many pictures of a panel to keep, by the key given to invalidate_if_changed(ax=):
    # for explorers whose panels' static parts depend on that key alone (0: none kept).
    PANELS_KEPT = 0

    def __init__(self, controls: dict, figure, *, extra=(), dpi: int = DPI):
        self.controls = dict(controls)
        self.figure = figure
        self.figure.set_dpi(dpi)
        self.canvas = FigureCanvasAgg(figure)
        self.artists: dict = {}
        self.n_renders = 0
        # Blitting (see use_blitting): the artists redrawn per frame over a cached background.
        self._animated: list = []
        self._background = None
        self._stale_axes: set = set()   # panels to redraw into the cached background
        self._stale_regions: list = []  # (pixel box, artists) to redraw into it
        self._kept: dict = {}  # static artist -> its pixels, pasted instead of drawn again
        self._panels: OrderedDict = OrderedDict()  # (axes, key) -> its panel's pixels
        self._axes_keys: dict = {}
        self._held = 0
        self._pending = False
        self.image = widgets.Image(format="png", layout=widgets.Layout(flex="0 0 auto"))
        panel = widgets.VBox(list(self.controls.values()) + list(extra),
                             layout=widgets.Layout(width="345px", flex="0 0 auto"))
        super().__init__([widgets.HBox([panel, self.image])])
        for w in self.controls.values():
            if isinstance(w, widgets.ValueWidget) and not isinstance(w, widgets.IntProgress):
                w.observe(self._on_change, names="value")

    # ------------------------------------------------------------------ drawing
    def relayout(self) -> None:
        """Run constrained layout once and freeze it (layout per frame would be slow)."""
        self.figure.set_layout_engine("constrained")
        self.figure.get_layout_engine().execute(self.figure)  # places the axes; draws nothing
        self.figure.set_layout_engine("none")
        self.invalidate()

    def use_blitting(self, artists) -> None:
        """Redraw only ``artists`` per frame, over a cached picture of everything else.

        For explorers whose axes, ticks and labels rarely change: drawing tick labels and
        text is most of a full redraw, so a frame then costs a fraction of one. Call
        :meth:`invalidate` after changing anything that is not in ``artists``. Calling it
        again with a new list (artists created since) keeps the cached picture.
        """
        self._animated = list(artists)
        for artist in self._animated:
            artist.set_animated(True)  # left out of full draws: they go on top per frame

    def invalidate_if_changed(self, layout: tuple, ax=None) -> bool:
        """Mark the cached background stale when ``layout`` (a tuple of whatever it shows:
        limits, depth, ...) differs from the last call's for ``ax`` (one panel: only that
        panel is redrawn) or for the whole figure (``ax=None``); True if so."""
        if layout == self._axes_keys.get(ax, object()):
            return False
        self._axes_keys[ax] = layout
        if ax is None:
            self.invalidate()
        else:
            self._stale_axes.add(ax)
        return True

    def invalidate(self) -> None:
        """Forget the cached background: the next frame is a full redraw."""
        self._background = None
        self._stale_axes.clear()
        self._stale_regions.clear()
        self._panels.clear()

    def _slot(self, ax):
        """The strip of the figure that belongs to ``ax`` (panels side by side): from just
        right of the panel on its left to just right of its own right edge."""
        edges = sorted(a.bbox.x1 for a in self.figure.axes if a.get_visible())
        right = ax.bbox.x1
        left = max((x for x in edges if x < right - 1), default=-1.0)
        last = right >= edges[-1] - 1
        return (left + 3 if left >= 0 else 0.0,
                self.figure.bbox.x1 if last else right + 3)

    def _keep_panels(self, axes=None) -> None:
        """Keep the pictures of these panels (default all with a key), as just drawn."""
        if not self.PANELS_KEPT:
            return
        for ax in axes if axes is not None else [a for a in self._axes_keys if a is not None]:
            x0, x1 = self._slot(ax)
            self._panels[id(ax), self._axes_keys.get(ax)] = self.canvas.copy_from_bbox(
                Bbox.from_extents(x0, 0, x1, self.figure.bbox.height))
        while len(self._panels) > self.PANELS_KEPT:
            self._panels.popitem(last=False)

    def redraw_region(self, box, artists) -> None:
        """Redraw ``artists`` into the cached background at the next frame, over a blank
        ``box`` (pixels): for a static artist that changed, such as a legend below a panel."""
        self._stale_regions.append((box, list(artists)))

    def keep_pixels(self, artist) -> None:
        """Draw ``artist`` (static, outside every panel's data: a legend below a panel)
        once and paste its pixels in later redraws: a legend costs as much to draw as a
        panel's curves. Call again after changing it."""
        self._kept[artist] = None

    def _forget_pixels(self, artist) -> None:
        self._kept.pop(artist, None)

    def _box(self, artist, renderer):
        box = artist.get_window_extent(renderer)
        return Bbox.from_extents(box.x0 - 2, box.y0 - 2, box.x1 + 2, box.y1 + 2)

    @contextmanager
    def _pasting(self, artists=None):
        """Hide the kept artists (of ``artists``, default all) while drawing, then paste
        their pixels; an artist kept but not drawn yet is drawn and its pixels taken."""
        kept = [a for a in (self._kept if artists is None else artists) if a in self._kept]
        ready = [a for a in kept if self._kept[a] is not None]
        for a in ready:
            a.set_visible(False)
        try:
            yield
        finally:
            for a in ready:
                a.set_visible(True)
                self.canvas.restore_region(self._kept[a])
        renderer = self.canvas.get_renderer()
        for a in kept:
            if self._kept[a] is None and a.get_visible():
                self._kept[a] = self.canvas.copy_from_bbox(self._box(a, renderer))

    def _blank(self, x0, y0, x1, y1, renderer) -> None:
        blank = Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=self.figure.get_facecolor(),
                          edgecolor="none", transform=IdentityTransform())
        blank.set_figure(self.figure)
        blank.draw(renderer)

    def _redraw_parts(self) -> None:
        """Redraw the stale panels (each in its own strip) and regions into the cached
        background."""
        renderer = self.canvas.get_renderer()
        self.canvas.restore_region(self._background)
        for ax in self._stale_axes:
            x0, x1 = self._slot(ax)
            seen = (id(ax), self._axes_keys.get(ax))
            if seen in self._panels:  # this panel's picture for these axes was drawn before
                self._panels.move_to_end(seen)
                self.canvas.restore_region(self._panels[seen])
                continue
            self._blank(x0, 0, x1, self.figure.bbox.height, renderer)
            with self._pasting(ax.get_children()):
                ax.draw(renderer)  # its animated artists are left out, as in a full draw
            self._keep_panels([ax])
        for box, artists in self._stale_regions:
            self._blank(box.x0 - 2, box.y0 - 2, box.x1 + 2, box.y1 + 2, renderer)
            for artist in artists:
                artist.draw(renderer)
                if artist in self._kept:
                    self._kept[artist] = self.canvas.copy_from_bbox(self._box(artist,
                                                                              renderer))
        self._stale_axes.clear()
        self._stale_regions.clear()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def render(self) -> None:
        """Draw the figure and put its PNG bytes in the image widget."""
        buf = io.BytesIO()
        if self._animated:
            if self._background is None:
                with self._pasting():
                    self.canvas.draw()
                self._background = self.canvas.copy_from_bbox(self.figure.bbox)
                self._keep_panels()
                self._stale_axes.clear()
                self._stale_regions.clear()
            elif self._stale_axes or self._stale_regions:
                self._redraw_parts()
            else:
                self.canvas.restore_region(self._background)
            for artist in self._animated:
                self.figure.draw_artist(artist)
            width, height = self.canvas.get_width_height(physical=True)
            PIL.Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba()).save(
                buf, format="png", compress_level=1)
        else:
            self.canvas.print_png(buf, pil_kwargs={"compress_level": 1})
        self.image.value = buf.getvalue()
        self.n_renders += 1

    def refresh(self) -> None:
        """Update the artists from the controls and re-render (what a control change does)."""
        with one_blas_thread():
            self.update()
            self.render()

    def update(self) -> None:  # pragma: no cover - every explorer overrides it
        raise NotImplementedError

    def _on_change(self, change) -> None:
        if self._held:
            self._pending = True
            return
        self.refresh()

    @contextmanager
    def hold_updates(self):
        """Change several controls with one redraw at the end."""
        self._held += 1
        try:
            yield self
        finally:
            self._held -= 1
            if not self._held and self._pending:
                self._pending = False
                self.refresh()

    def _start(self) -> None:
        self.update()
        self.relayout()
        self.update()  # once more, now that legends and labels can be placed on the layout
        self.render()

    def settle(self, legend, places=plots.house.INSIDE) -> None:
        """Move ``legend`` where it covers no data, measured on this explorer's canvas."""
        if legend is not None:
            plots.settle_legend(legend, places, self.canvas.get_renderer())


# --------------------------------------------------------------------------------------
# 1. Activation functions
# --------------------------------------------------------------------------------------


class ActivationExplorer(Explorer):
    """Activations and their derivatives, with parameters and the flat bands hatched."""

    def __init__(self, names, x_range):
        all_names = activations.names()
        chosen = [_activation_name(n) for n in ([names] if isinstance(names, str) else names)]
        lo, hi = x_range
        if not lo < hi:
            raise ValueError(f"x_range must be (low, high) with low < high, got {x_range!r}")
        controls = {
            "activations": widgets.SelectMultiple(
                options=all_names, value=tuple(chosen), rows=min(len(all_names), 11),
                description="activations", style=_LABEL_STYLE,
                layout=widgets.Layout(width=_CONTROL_WIDTH)),
            # The sliders start at the registry's defaults, so the explorer shows the same
            # leaky_relu and elu as activations.get(name) and the registry's table.
            "leaky_alpha": _slider(widgets.FloatSlider, "leaky_relu α",
                                   value=activations.get("leaky_relu").params["alpha"],
                                   min=0.0, max=0.5, step=0.01),
            "elu_alpha": _slider(widgets.FloatSlider, "elu α",
                                 value=activations.get("elu").params["alpha"], min=0.1, max=3.0,
                                 step=0.1),
            "derivative": widgets.Checkbox(value=True, description="show derivative f′(x)",
                                           style=_LABEL_STYLE),
            "x_range": _slider(widgets.FloatRangeSlider, "x range", value=(lo, hi), min=-20.0,
                               max=20.0, step=0.5, readout_format=".1f"),
        }
        fig, axes = plots.subplots(1, 2, figsize=(7.4, 3.7))
        super().__init__(controls, fig)
        self.axes = list(axes)
        self.x = np.linspace(lo, hi, 401)
        self.artists["f"] = {}
        self.artists["df"] = {}
        for name in all_names:
            # Each activation keeps its course colour, whatever else is selected.
            self.artists["f"][name], = self.axes[0].plot([], [], visible=False,
                                                         color=plots.colour(name))
            self.artists["df"][name], = self.axes[1].plot([], [], visible=False,
                                                          color=plots.colour(name))
        self.artists["spans"] = []
        self._span_pool: dict = {}  # activation -> its band patches, reused frame to frame
        self._legend_key = None
        # Plain text rather than $maths$ in what a frame redraws: a formula costs several
        # times a plain label to draw.
        self.axes[0].set(xlabel="input x", ylabel="f(x)", title="Activation f(x)")
        self.axes[1].set(xlabel="input x", ylabel="f′(x)", title="Derivative f′(x)")
        for ax in self.axes:
            ax.locator_params(nbins=6)  # fewer tick labels: most of a panel's drawing time
        self.artists["empty"] = self.axes[0].text(0.5, 0.5, "select an activation",
                                                  transform=self.axes[0].transAxes,
                                                  ha="center", visible=False)
        self.artists["legends"] = []
        self.update()
        self.relayout()
        self._pos_two = self.axes[0].get_position()
        right = self.axes[1].get_position()
        self._pos_one = type(self._pos_two).from_extents(self._pos_two.x0, self._pos_two.y0,
                                                         right.x1, self._pos_two.y1)
        self.update()
        self.render()

    def current(self) -> list[activations.Activation]:
        """The Activation objects currently shown, with the sliders' parameters."""
        params = {"leaky_relu": {"alpha": self.controls["leaky_alpha"].value},
                  "elu": {"alpha": self.controls["elu_alpha"].value}}
        return [activations.get(n, **params.get(n, {}))
                for n in self.controls["activations"].value]

    def update(self) -> None:
        lo, hi = self.controls["x_range"].value
        if hi <= lo:
            hi = lo + 0.5
        self.x = np.linspace(lo, hi, 401)
        show_d = self.controls["derivative"].value
        for line in (*self.artists["f"].values(), *self.artists["df"].values()):
            line.set_visible(False)
        for span in self.artists["spans"]:
            span.set_visible(False)
        acts = self.current()
        banded = []
        for act in acts:
            f, df = self.artists["f"][act.name], self.artists["df"][act.name]
            f.set_data(self.x, act(self.x))
            df.set_data(*plots.derivative_curve(act, self.x))  # no vertical line at a jump
            f.set_visible(True)
            df.set_visible(show_d)
            spans = plots.saturation_spans(act, self.x)
            if spans:
                self._show_spans(act.name, spans, show_d)
                banded.append(act.name)
        self.artists["empty"].set_visible(not acts)
        for ax, lines in zip(self.axes, (self.artists["f"], self.artists["df"])):
            ax.set_xlim(lo, hi)
            ax.set_ylim(_steady_limits(ax.get_ylim(), [ln for ln in lines.values()
                                                       if ln.get_visible()]))
        self.axes[1].set_visible(show_d)
        if hasattr(self, "_pos_two"):
            self.axes[0].set_position(self._pos_two if show_d else self._pos_one)
        # The legends change only with the selection: they belong to the cached picture,
        # and only their own region of it is redrawn when they change.
        names = tuple(act.name for act in acts)
        if (names, tuple(banded), show_d) != self._legend_key:
            renderer = self.canvas.get_renderer()
            old = [legend.get_window_extent(renderer) for legend in self.artists["legends"]]
            for legend in self.artists["legends"]:
                legend.remove()
                self._forget_pixels(legend)
            self.artists["legends"] = self._legends(names, banded, show_d)
            for legend in self.artists["legends"]:
                self.keep_pixels(legend)
            self._legend_key = (names, tuple(banded), show_d)
            new = [legend.get_window_extent(renderer) for legend in self.artists["legends"]]
            if old or new:
                self.redraw_region(Bbox.union(old + new), self.artists["legends"])
        if self.invalidate_if_changed((lo, hi, show_d)):
            for ax in self.axes:
                self._axes_keys[ax] = ax.get_ylim()
        else:
            for ax in self.axes:
                self.invalidate_if_changed(ax.get_ylim(), ax=ax)
        # Blitting: the curves and shading are redrawn per frame over a cached picture of the
        # axes; a panel's picture is redrawn only when its axes change.
        self.use_blitting([*self.artists["spans"], *self.artists["f"].values(),
                           *self.artists["df"].values(), self.artists["empty"]])

    def _show_spans(self, name: str, spans, show_d: bool) -> None:
        """Show ``name``'s flat bands (in its own colour and hatch, whatever else is shown),
        reusing its band patches: one pair (f panel, f' panel) per band."""
        style = plots.band_style(plots.colour(name), name)
        pool = self._span_pool.setdefault(name, [])
        while len(pool) < len(spans):
            pair = tuple(ax.axvspan(0, 1, gid="saturated") for ax in self.axes)
            self.artists["spans"].extend(pair)
            pool.append(pair)
        for (a, b), pair in zip(spans, pool):
            for span, shown in zip(pair, (True, show_d)):  # no shading on a hidden panel
                span.set_x(a)
                span.set_width(b - a)
                span.set(visible=shown, **style)

    def _legends(self, names, banded, show_d) -> list:
        """The curves' legend under the left panel and the flat bands' under the right one
        (both under the left one when the derivative is hidden): below the axes, where no
        curve can run, whatever the activations and the range."""
        flat = f"flat: |f′| < {diagnostics.SATURATION_THRESHOLD:g}"
        style = {"inside": (), "ncol": 2, "fontsize": 8, "handlelength": 1.6,
                 "columnspacing": 1.0, "title_fontsize": 8}
        handles = [self.artists["f"][n] for n in names]
        swatches = [Patch(**plots.band_style(plots.colour(n), n, legend=True)) for n in banded]
        made = []
        if show_d:
            if handles:
                made.append(plots.place_legend(self.axes[0], handles, list(names), **style))
            if swatches:
                made.append(plots.place_legend(self.axes[1], swatches, list(banded),
                                               title=flat, **style))
        elif handles or swatches:
            made.append(plots.place_legend(self.axes[0], handles + swatches, list(names)
                                           + [f"{n} {flat}" for n in banded], **style))
        return made

    def relayout(self) -> None:
        """Lay out once, with room under the panels for the largest legends (three rows of
        two, and the bands' title)."""
        shown = [ln.get_visible() for ln in self.artists["f"].values()]
        for legend in self.artists["legends"]:
            legend.remove()
            self._forget_pixels(legend)  # or its old pixels are pasted in every full redraw
        handles = [Patch(label="leaky_relu(alpha=0.3)")] * 6
        room = [plots.place_legend(ax, handles, inside=(), ncol=2, fontsize=8, title="flat",
                                   title_fontsize=8) for ax in self.axes]
        # The widest y tick labels a range gives ("−0.75"), so the axis labels keep their room.
        limits = [ax.get_ylim() for ax in self.axes]
        for ax in self.axes:
            ax.set_ylim(-1.05, 1.05)
        super().relayout()
        self._axes_keys.clear()
        self._legend_key = None  # the next update makes the real legends
        for ax, lim in zip(self.axes, limits):
            ax.set_ylim(lim)
        for legend in room:
            legend.remove()
        for line, visible in zip(self.artists["f"].values(), shown):
            line.set_visible(visible)
        self.artists["legends"] = []


def activation_explorer(names=("sigmoid", "tanh", "relu"), x_range=(-6.0, 6.0)) -> Explorer:
    """Pick activations and their parameters; see f(x), f'(x) and where they are flat."""
    return ActivationExplorer(names, x_range)


# --------------------------------------------------------------------------------------
# 2. One neuron
# --------------------------------------------------------------------------------------


class NeuronExplorer(Explorer):
    """a = f(w x + b) for one neuron: w stretches, b shifts."""

    def __init__(self, activation, w, b):
        name = _activation_name(activation)
        controls = {
            "activation": _dropdown("activation f", activations.names(), name),
            "w": _slider(widgets.FloatSlider, "weight w", value=float(w), min=-5.0, max=5.0,
                         step=0.1),
            "b": _slider(widgets.FloatSlider, "bias b", value=float(b), min=-10.0, max=10.0,
                         step=0.1),
        }
        fig, ax = plots.subplots(1, 1, figsize=(5.6, 3.3))
        plots.plot_neuron(name, 1.0, 0.0, ax=ax)  # w=1, b=0: the centre marker exists
        super().__init__(controls, fig)
        self.ax = ax
        by_gid = {a.get_gid(): a for a in ax.get_children() if a.get_gid()}
        self.artists.update(reference=by_gid["reference"], neuron=by_gid["neuron"],
                            centre=by_gid["centre"], centre_label=by_gid["centre_label"],
                            legend=ax.get_legend())
        # The centre label's places follow the centre line: plot_neuron's were for x = 0.
        label = self.artists["centre_label"]
        del label.draw  # plot_neuron's placement, for its own x0
        self._centre_places = plots.centre_places(0.0)
        plots.keep_free(label, self._centre_places)
        self.x = self.artists["neuron"].get_xdata()
        self._laid_out = False
        self._start()

    def relayout(self) -> None:
        super().relayout()
        self._laid_out = True

    def update(self) -> None:
        act = activations.get(self.controls["activation"].value)
        w, b = self.controls["w"].value, self.controls["b"].value
        reference, neuron = self.artists["reference"], self.artists["neuron"]
        reference.set_ydata(act(self.x))
        neuron.set_ydata(act(w * self.x + b))
        neuron.set_color(plots.colour(act))
        lo, hi = self.x[0], self.x[-1]
        visible = w != 0 and lo <= -b / w <= hi
        self.artists["centre"].set_visible(visible)
        self.artists["centre_label"].set_visible(visible)
        # Plain text, not $maths$: a new formula string costs more to parse than a frame.
        legend = self.artists["legend"]
        texts = legend.get_texts()
        texts[0].set_text(f"f(x), {act.name}")
        texts[1].set_text(f"f({w:g}x {b:+g})")
        legend.legend_handles[1].set_color(plots.colour(act))
        self.ax.set_title(f"a = f(wx + b),  w = {w:g},  b = {b:g}")
        self.ax.set_ylim(_steady_limits(self.ax.get_ylim(), [reference, neuron]))
        if visible:
            x0 = -b / w + 0.0  # + 0.0: b = 0 gives 0, not "-0"
            self.artists["centre"].set_xdata([x0, x0])
            label = self.artists["centre_label"]
            label.set_text(f"x = −b/w = {x0:.2g}")
            label.xy = (x0, label.xy[1])
            self._centre_places[:] = plots.centre_places(x0)  # read as the label is drawn
        if self._laid_out:  # the legend goes where the curves are not, on the real layout
            self.settle(legend)  # (the centre label places itself as it is drawn)
        # Blitting: the curves, the centre line and the labels over a cached picture of the
        # axes, redrawn when the y range changes.
        self.invalidate_if_changed(self.ax.get_ylim())
        self.use_blitting([reference, neuron, self.artists["centre"],
                           self.artists["centre_label"], legend, self.ax.title])


def neuron_explorer(activation="sigmoid", w: float = 1.0, b: float = 0.0) -> Explorer:
    """Sliders for w and b and a choice of activation: watch a = f(w x + b) move."""
    for what, v in (("w", w), ("b", b)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
            raise TypeError(f"{what} must be a number, got {type(v).__name__} {v!r}")
    if not -5 <= w <= 5 or not -10 <= b <= 10:
        raise ValueError(f"w must be in [-5, 5] and b in [-10, 10] (the sliders' ranges); "
                         f"got w={w!r}, b={b!r}")
    return NeuronExplorer(activation, w, b)


# --------------------------------------------------------------------------------------
# 3. Softmax
# --------------------------------------------------------------------------------------


class SoftmaxExplorer(Explorer):
    """A slider per logit and one for the temperature; probabilities, their sum, the argmax
    (or, when the largest probabilities are equal, the tie)."""

    def __init__(self, n_classes: int, logits, temperature: float):
        controls = {
            f"z{i}": _slider(widgets.FloatSlider, f"logit z{i}", value=float(v), min=-5.0,
                             max=5.0, step=0.1)
            for i, v in enumerate(logits)
        }
        controls["temperature"] = _slider(widgets.FloatLogSlider, "temperature T",
                                          value=temperature, base=10, min=-1, max=1, step=0.02)
        self.readout = widgets.HTML()
        fig = plots.plot_softmax(logits, temperature)
        super().__init__(controls, fig, extra=[self.readout])
        fig.set_size_inches(7.4, 3.2)
        self.axes = fig.axes[:2]
        self.n_classes = n_classes
        self.artists["logit_bars"] = list(self.axes[0].containers[0])
        self.artists["prob_bars"] = list(self.axes[1].containers[0])
        by_gid = {a.get_gid(): a for ax in self.axes for a in ax.get_children() if a.get_gid()}
        self.artists["logit_labels"] = [by_gid[f"zlabel:{i}"] for i in range(n_classes)]
        self.artists["prob_labels"] = [by_gid[f"plabel:{i}"] for i in range(n_classes)]
        self.axes[0].set_ylim(-6, 6)
        # The axes never change (fixed limits, fixed ticks): redraw only the moving parts.
        self.use_blitting([*self.artists["logit_bars"], *self.artists["prob_bars"],
                           *self.artists["logit_labels"], *self.artists["prob_labels"],
                           self.axes[1].title])
        self._start()

    @property
    def logits(self) -> np.ndarray:
        return np.array([self.controls[f"z{i}"].value for i in range(self.n_classes)])

    @property
    def probabilities(self) -> np.ndarray:
        """The probabilities currently drawn (the bar heights)."""
        return np.array([bar.get_height() for bar in self.artists["prob_bars"]])

    def update(self) -> None:
        z = self.logits
        t = self.controls["temperature"].value
        p = activations.softmax(z, temperature=t)
        top = plots.tied_top(p)
        for i, (zb, pb, zl, pl) in enumerate(zip(self.artists["logit_bars"],
                                                 self.artists["prob_bars"],
                                                 self.artists["logit_labels"],
                                                 self.artists["prob_labels"])):
            zb.set_height(z[i])
            pb.set_height(p[i])
            pb.set_edgecolor("k" if i in top else "none")
            pb.set_linewidth(2 if i in top else 0)
            x = zb.get_x() + zb.get_width() / 2
            zl.xy = (x, z[i])
            zl.set_text(f"{z[i]:.2f}")
            zl.set_va("bottom" if z[i] >= 0 else "top")
            zl.xyann = (0, 3 if z[i] >= 0 else -3)
            pl.xy = (x, p[i])
            pl.set_text(f"{p[i]:.1%}")
            pl.set_fontweight("bold" if i in top else "normal")
        self.axes[1].set_title(f"softmax$(z/T)$, $T={t:.3g}$: sum = {p.sum():.3f}")
        if len(top) == 1:
            verdict = f"<b>argmax</b> = class {top[0]} (p = {p[top[0]]:.1%})"
        else:
            tied = ", ".join(map(str, top[:-1])) + f" and {top[-1]}"
            verdict = (f"<b>argmax</b>: a tie between classes {tied} "
                       f"(p = {p[top[0]]:.1%} each)")
        self.readout.value = f"<b>sum</b> = {p.sum():.3f} &nbsp; {verdict}"


def softmax_explorer(n_classes: int = 3, logits=None, temperature: float = 1.0) -> Explorer:
    """A slider per logit and one for temperature: probabilities, their sum and the argmax."""
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise TypeError(f"n_classes must be a whole number from 2 to 10, got "
                        f"{type(n_classes).__name__} {n_classes!r}")
    if not 2 <= n_classes <= 10:
        raise ValueError(f"n_classes must be from 2 to 10, got {n_classes}")
    if logits is None:
        logits = np.linspace(2.0, -1.0, n_classes).round(1)
    logits = np.asarray(logits, dtype=float)
    if logits.shape != (n_classes,):
        raise ValueError(f"logits must have shape ({n_classes},) for n_classes={n_classes}, "
                         f"got {logits.shape}")
    if np.any(np.abs(logits) > 5):
        raise ValueError(f"logits must lie in [-5, 5] (the sliders' range), got {logits.tolist()}")
    activations.softmax(logits, temperature=temperature)  # validates the temperature
    if not 0.1 <= temperature <= 10:
        raise ValueError(f"temperature must be in [0.1, 10] (the slider's range), got "
                         f"{temperature!r}")
    return SoftmaxExplorer(int(n_classes), logits, float(temperature))


# --------------------------------------------------------------------------------------
# 4. Gradient flow at initialisation
# --------------------------------------------------------------------------------------

MAX_DEPTH = 10
NORM_RANGE = (1e-10, 1e3)  # where the gradient-norm axis starts: most settings' norms fit
NORM_DECADES = 14          # how far it may grow before it starts afresh


class GradientFlowExplorer(Explorer):
    """Per-layer gradient norms and activation histograms of a freshly initialised network."""

    # A panel's axes depend on the depth and its range alone: going back to a depth (or a
    # range) seen before pastes that panel's picture instead of drawing it.
    PANELS_KEPT = 24

    def __init__(self, activation, init, depth, width, init_scale, seed):
        controls = {
            "depth": _slider(widgets.IntSlider, "hidden layers", False, value=depth, min=1,
                             max=MAX_DEPTH),
            "width": _slider(widgets.IntSlider, "units / layer", False, value=width, min=4,
                             max=128, step=4),
            "activation": _dropdown("activation", activations.names(), activation),
            "init": _dropdown("initialisation", INITS, init),
            "init_scale": _slider(widgets.FloatLogSlider, "init scale ×", False,
                                  value=init_scale, base=10, min=-1, max=1, step=0.05),
        }
        self.readout = widgets.HTML()
        fig, axes = plots.subplots(1, 2, figsize=(7.6, 3.6))
        super().__init__(controls, fig, extra=[self.readout])
        self.axes = list(axes)
        self.seed = seed
        self.X, self.y = data.moons(256, noise=0.1, seed=seed)
        ax0, ax1 = self.axes
        # Coloured by the activation (set in update): the course colour of what is drawn.
        self.artists["norms"], = ax0.plot([1], [1], "o-", color=plots.colour(activation))
        ax0.set_yscale("log")
        # Decades only: minor ticks on a log axis are most of its drawing time.
        ax0.yaxis.set_minor_locator(NullLocator())
        ax0.yaxis.set_major_locator(LogLocator(numticks=7))
        ax0.set_ylim(NORM_RANGE)
        # Plain text rather than $maths$ in what a frame redraws: a formula costs several
        # times a plain label to draw.
        ax0.set(xlabel="layer (input → output)", ylabel="gradient norm ‖∂L/∂W‖",
                title="Gradient norm per layer")
        self.artists["ridges"] = [ax1.stairs([0], [0, 1], fill=True, alpha=0.8, lw=0.8,
                                             color=plots.layer_colour(0, 2), visible=False)
                                  for _ in range(MAX_DEPTH)]
        # The saturated (or dead) share of each layer, right of the panel: never on a bar.
        self.artists["ridge_labels"] = [ax1.text(1.02, 0, "", transform=ax1.get_yaxis_transform(),
                                                 ha="left", va="center", fontsize=8,
                                                 clip_on=False)
                                        for _ in range(MAX_DEPTH)]
        ax1.set(title="Activations per hidden layer")
        # What the labels right of the histograms count, with the threshold.
        ax1.set_xlabel(SATURATION_RULE, fontsize=8.5)
        ax1.xaxis.set_major_locator(MaxNLocator(5))
        ax1.grid(False)
        self._laid_out = False
        self.update()
        self.relayout()
        self.update()
        self.render()

    def relayout(self) -> None:
        """Lay out once, for every depth: with the widest tick labels the panels can get
        (depth 10, "1e-10" on the log axis) and the widest share labels, so nothing moves
        when a control does."""
        ax0, ax1 = self.axes
        shown = ax0.get_ylim(), [t.get_text() for t in self.artists["ridge_labels"]]
        self._set_depth_ticks(MAX_DEPTH)
        ax0.set_ylim(1e-10, 1.0)
        plots.log_axis_labels(ax0)
        for label in self.artists["ridge_labels"]:
            label.set_text("dead 100%")
        super().relayout()
        ax0.set_ylim(shown[0])
        plots.log_axis_labels(ax0)
        for label, text in zip(self.artists["ridge_labels"], shown[1]):
            label.set_text(text)
        self._set_depth_ticks(self._depth)
        self._laid_out = True

    def _set_depth_ticks(self, depth: int) -> None:
        ax0, ax1 = self.axes
        L = depth + 1
        ax0.set_xlim(0.5, L + 0.5)
        ax0.set_xticks(np.arange(1, L + 1))
        ax0.set_xticklabels([f"h{i + 1}" for i in range(L - 1)] + ["out"],
                            fontsize=8 if L > 7 else 9.5)
        ax1.set_ylim(-0.1, depth)
        ax1.set_yticks(np.arange(depth) + 0.3)
        ax1.set_yticklabels([f"h{depth - k}" for k in range(depth)],
                            fontsize=8 if depth > 7 else 9.5)

    def network(self) -> nn.MLP:
        """The freshly initialised network the controls describe."""
        c = {k: w.value for k, w in self.controls.items()}
        sizes = [2] + [c["width"]] * c["depth"] + [1]
        return nn.MLP(sizes, activation=c["activation"], output="sigmoid", init=c["init"],
                      init_scale=c["init_scale"], seed=self.seed)

    def update(self) -> None:
        net = self.network()
        self.net = net
        norms = diagnostics.gradient_norms(net, self.X, self.y)
        stats = diagnostics.layer_stats(net, self.X)
        hidden = net.cache["a"][1:-1]
        L = len(norms)
        depth = len(hidden)
        ax0, ax1 = self.axes
        shown = np.maximum(norms, 1e-30)
        self.artists["norms"].set_data(np.arange(1, L + 1), shown)
        self.artists["norms"].set_color(plots.colour(net.hidden_activations[0]))
        if depth != getattr(self, "_depth", None):
            self._depth = depth
            self._set_depth_ticks(depth)
        # A wide, steady log range (it only grows, up to NORM_DECADES decades): the norms of
        # most settings fit in it, so most changes redraw the curve alone.
        ax0.set_ylim(_steady_log_limits(ax0.get_ylim(), shown.min() / 3, shown.max() * 3,
                                        slack=NORM_DECADES, base=NORM_RANGE))
        plots.log_axis_labels(ax0)
        act = net.hidden_activations[0]
        if act.bounded:
            a_lo, a_hi = act.output_range
        else:  # steady while the data fit: a new range redraws the panel's ticks
            every = np.concatenate([np.ravel(a) for a in hidden])
            a_lo, a_hi = _steady_range(ax1.get_xlim() if self._laid_out else (0.0, 0.0),
                                       float(every.min()), float(every.max()), margin=0.0)
        edges = np.linspace(a_lo, a_hi, 41)
        for j, (ridge, label) in enumerate(zip(self.artists["ridges"],
                                               self.artists["ridge_labels"])):
            if j >= depth:
                ridge.set_visible(False)
                label.set_visible(False)
                continue
            counts, _ = np.histogram(np.ravel(hidden[j]), bins=edges)
            base = depth - 1 - j
            height = counts / max(counts.max(), 1) * 0.9
            ridge.set_data(base + height, edges, baseline=base)
            # Layer j of a network of depth + 1 weight layers: the dashboard's colour.
            ridge.set_color(plots.layer_colour(j, depth + 1))
            ridge.set_visible(True)
            sat, dead = stats["saturated"][j], stats["dead"][j]
            text = f"sat {sat:.0%}" if np.isfinite(sat) else f"dead {dead:.0%}"
            label.set_text(text)
            label.set_y(base + 0.3)
            label.set_visible(True)
        ax1.set_xlim(a_lo, a_hi)
        ratio = norms[0] / norms[-1] if norms[-1] > 0 else np.nan
        self.readout.value = (f"first / last layer gradient norm: <b>{ratio:.3g}</b><br>"
                              f"(≪ 1: vanishing, ≫ 1: exploding)")
        # Blitting: while the axes' ranges stay, redraw only the curve, the histograms and
        # their labels over a cached picture of the rest; a panel whose range changed is
        # redrawn alone.
        self.invalidate_if_changed((depth, *ax0.get_ylim()), ax=ax0)
        self.invalidate_if_changed((depth, *ax1.get_xlim()), ax=ax1)
        self.use_blitting([self.artists["norms"], *self.artists["ridges"],
                           *self.artists["ridge_labels"]])


def gradient_flow_explorer(activation="tanh", init="xavier", depth: int = 6, width: int = 32,
                           init_scale: float = 1.0, seed: int = 0) -> Explorer:
    """Depth, width, activation and initialisation: gradient norms and activation histograms."""
    activation = _activation_name(activation)
    init = _check_choice(init, INITS, "init")
    if not (isinstance(depth, (int, np.integer)) and 1 <= depth <= MAX_DEPTH):
        raise ValueError(f"depth must be a whole number from 1 to {MAX_DEPTH}, got {depth!r}")
    if not (isinstance(width, (int, np.integer)) and 4 <= width <= 128):
        raise ValueError(f"width must be a whole number from 4 to 128, got {width!r}")
    if not 0.1 <= init_scale <= 10:
        raise ValueError(f"init_scale must be in [0.1, 10], got {init_scale!r}")
    return GradientFlowExplorer(activation, init, int(depth), int(width), float(init_scale),
                                seed)


# --------------------------------------------------------------------------------------
# Decision-boundary panel shared by the training explorers
# --------------------------------------------------------------------------------------


class _BoundaryPanel:
    """A decision-boundary axes whose surface image, points and 0.5 contour are updated in
    place; its class legend sits below it, where no point or boundary can be."""

    def __init__(self, ax, net, X, y, resolution):
        self.ax, self.resolution = ax, resolution
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged network: see update
            plots.plot_decision_boundary(net, X, y, resolution=resolution, ax=ax,
                                         colorbar=False, legend="below")
        self.image = next(im for im in ax.images if im.get_gid() == "surface")
        by_label = {c.get_label(): c for c in ax.collections}
        self.points = [by_label.get(f"class {k}") for k in range(int(np.max(y)) + 1)]
        self.set_data(X, y)

    def set_data(self, X, y) -> None:
        """New samples (same classes): the points move, the axes take their extent."""
        self.X = np.asarray(X, dtype=float)
        for c, points in enumerate(self.points):
            if points is not None:
                points.set_offsets(self.X[np.asarray(y) == c])
        *_, extent = plots.networks._grid(self.X, 2, 0.5)
        self.image.set_extent(extent)
        self.ax.set(xlim=extent[:2], ylim=extent[2:])

    def update(self, net, title: str) -> None:
        # A network whose training diverged has inf/NaN weights: its surface is left blank
        # (the explorer says it diverged) instead of spilling overflow warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            kind, values, _extent, xx, yy = plots.decision_surface(net, self.X, self.resolution)
        self.image.set_data(values)
        for c in list(self.ax.collections):
            if isinstance(c, ContourSet):
                c.remove()
        if kind == "probability" and values.min() < 0.5 < values.max():
            self.ax.contour(xx, yy, values, levels=[0.5], colors="k", linewidths=1.2)
        self.ax.set_title(title)


def _train(net, X, y, **kw):
    """net.fit with divergence reported as a message instead of a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = net.fit(X, y, **kw)
    note = ""
    if history.diverged_at is not None:
        note = (f"⚠ training diverged at epoch {history.diverged_at}: "
                "lower the learning rate")
    return history, note


# --------------------------------------------------------------------------------------
# 5. Dead ReLUs
# --------------------------------------------------------------------------------------


class DeadReluExplorer(Explorer):
    """Train a small network briefly; watch units die (or not) depending on the activation."""

    CACHE_SIZE = 64  # settings whose training is kept, so going back to one is instant

    def __init__(self, activation, lr, bias_init, epochs, seed):
        controls = {
            "activation": _dropdown("activation", DEAD_RELU_ACTIVATIONS, activation),
            "lr": _slider(widgets.FloatLogSlider, "learning rate η", False, value=lr, base=10,
                          min=-2, max=1, step=0.05),
            "bias_init": _slider(widgets.FloatSlider, "bias init b₀", False, value=bias_init,
                                 min=-3.0, max=1.0, step=0.1),
        }
        self.readout = widgets.HTML()
        self.epochs, self.seed = epochs, seed
        self.X, self.y = data.moons(200, noise=0.15, seed=seed)
        self._runs: OrderedDict = OrderedDict()
        fig, axes = plots.subplots(1, 2, figsize=(7.8, 3.6))
        super().__init__(controls, fig, extra=[self.readout])
        self.axes = list(axes)
        net, history, _ = self._run()
        n_hidden = net.n_layers - 1
        # One marker per layer, so two layers at the same share (both 0 %) stay visible.
        marks = plots.layer_marks(n_hidden, epochs)
        # The layers' short names: the activation is the dropdown's.
        self.artists["dead"] = [
            self.axes[0].plot(history.epoch, history.dead[:, j], label=f"hidden {j + 1}",
                              color=plots.layer_colour(j, net.n_layers), **marks[j])[0]
            for j in range(n_hidden)]
        self.axes[0].set(xlabel="epoch", ylabel="dead units (share of the layer)",
                         ylim=(-0.03, 1.03), xlim=(0, epochs), title="Dead units per hidden layer")
        self.axes[0].yaxis.set_major_formatter(plots.PercentFormatter(1.0))
        # Below the panel: the curves may run anywhere from 0 % to 100 %.
        plots.place_legend(self.axes[0], inside=(), ncol=2, fontsize=8.5)
        self.boundary = _BoundaryPanel(self.axes[1], net, self.X, self.y, resolution=70)
        self._start()

    def _run(self):
        """Train for the current settings (or recall the run of settings seen before)."""
        c = {k: w.value for k, w in self.controls.items()}
        key = (c["activation"], round(c["lr"], 12), round(c["bias_init"], 12))
        if key in self._runs:
            self._runs.move_to_end(key)
            return self._runs[key]
        net = nn.MLP([2, 16, 16, 1], activation=c["activation"], output="sigmoid", init="he",
                     bias_init=c["bias_init"], seed=self.seed)
        # The explorer shows one statistic per layer and epoch, the dead share: fit records it
        # through a callback instead of all its per-layer statistics (the same training).
        dead = np.full((self.epochs + 1, net.n_layers), np.nan)

        def record(epoch, net_, _history):
            dead[epoch] = [diagnostics.dead_fraction_of(a) for a in net_.cache["a"][1:]]

        net.forward(self.X)
        record(0, net, None)
        history, note = _train(net, self.X, self.y, epochs=self.epochs, lr=c["lr"],
                               optimizer="sgd", diagnostics=False, callback=record)
        history.dead = dead
        self._runs[key] = net, history, note
        if len(self._runs) > self.CACHE_SIZE:
            self._runs.popitem(last=False)
        return net, history, note

    def update(self) -> None:
        net, history, note = self._run()
        self.net, self.history = net, history
        for j, line in enumerate(self.artists["dead"]):
            line.set_data(history.epoch, history.dead[:, j])
        acc = history.accuracy[np.isfinite(history.accuracy)]
        acc_text = f"{acc[-1]:.0%}" if acc.size else "n/a"
        if history.diverged_at is None:
            title = f"After {history.epochs} epochs: accuracy {acc_text}"
        else:
            title = f"Diverged at epoch {history.diverged_at}"
        self.boundary.update(net, title)
        # The last epoch with numbers (training stops early when it diverges).
        rows = np.flatnonzero(np.isfinite(history.dead[:, :-1]).all(axis=1))
        last = int(rows[-1]) if rows.size else 0
        dead = history.dead[last, :-1]
        when = "after training" if last == history.epochs else f"at epoch {last}"
        self.readout.value = (f"dead {when}: " + ", ".join(
            f"layer {j + 1} <b>{plots._percent(d)}</b>" for j, d in enumerate(dead))
            + (f"<br>{note}" if note else ""))
        # Both panels keep their axes: redraw only the curves and the boundary panel's
        # contents over a cached picture of the rest.
        static = self.axes[1].get_legend()  # below the panel, the same every frame
        self.use_blitting([*self.artists["dead"],
                           *(a for a in _inside(self.axes[1]) if a is not static)])


def dead_relu_explorer(activation="relu", lr: float = 0.5, bias_init: float = 0.0,
                       epochs: int = 40, seed: int = 0) -> Explorer:
    """Activation, learning rate and bias init: the dead fraction per layer while training."""
    activation = _check_choice(_activation_name(activation), DEAD_RELU_ACTIVATIONS, "activation")
    if not 0.01 <= lr <= 10:
        raise ValueError(f"lr must be in [0.01, 10], got {lr!r}")
    if not -3 <= bias_init <= 1:
        raise ValueError(f"bias_init must be in [-3, 1], got {bias_init!r}")
    return DeadReluExplorer(activation, float(lr), float(bias_init), int(epochs), seed)


# --------------------------------------------------------------------------------------
# 6. Playground
# --------------------------------------------------------------------------------------


class Playground(Explorer):
    """A small TensorFlow-Playground: pick data and a network, press Train, watch it learn."""

    def __init__(self, dataset, activation, hidden_layers, width, lr, epochs, seed):
        controls = {
            "dataset": _dropdown("dataset", PLAYGROUND_DATASETS, dataset),
            "activation": _dropdown("activation", activations.names(), activation),
            "hidden_layers": _slider(widgets.IntSlider, "hidden layers", False,
                                     value=hidden_layers, min=1, max=4),
            "width": _slider(widgets.IntSlider, "neurons / layer", False, value=width, min=1,
                             max=16),
            "optimizer": _dropdown("optimizer", ("adam", "momentum", "sgd"), "adam"),
            "lr": _slider(widgets.FloatLogSlider, "learning rate η", False, value=lr, base=10,
                          min=-3, max=0.5, step=0.1),
            "epochs": _slider(widgets.IntSlider, "epochs / click", False, value=epochs, min=10,
                              max=1000, step=10),
        }
        self.train_button = widgets.Button(description="Train", button_style="primary",
                                           icon="play")
        self.reset_button = widgets.Button(description="Reset", icon="refresh")
        self.progress = widgets.IntProgress(value=0, min=0, max=epochs, description="progress",
                                            style=_LABEL_STYLE,
                                            layout=widgets.Layout(width=_CONTROL_WIDTH))
        self.status = widgets.HTML()
        self.seed = seed
        fig, axes = plots.subplots(1, 2, figsize=(7.8, 3.6))
        extra = [widgets.HBox([self.train_button, self.reset_button]), self.progress, self.status]
        super().__init__(controls, fig, extra=extra)
        self.controls.update(train=self.train_button, reset=self.reset_button,
                             progress=self.progress)
        self.axes = list(axes)
        self.train_button.on_click(lambda _b: self.train())
        self.reset_button.on_click(lambda _b: self.reset())
        self._new_network()
        ax1 = self.axes[1]
        # A dot on the latest value: before any training the curves are single points.
        marker = {"marker": "o", "markersize": 4, "markevery": [-1], "clip_on": False}
        self.artists["loss"], = ax1.plot([0], [self.losses[0]], label="training", **marker)
        self.artists["val_loss"], = ax1.plot([0], [self.val_losses[0]], ls="--",
                                             label="validation", **marker)
        ax1.set(xlabel="epoch", ylabel="loss", title="Loss")
        # Below the panel: a loss curve can run through any corner.
        plots.place_legend(ax1, inside=(), ncol=2, fontsize=8.5)
        self.boundary = _BoundaryPanel(self.axes[0], self.net, self.X_all, self.y_all,
                                       resolution=80)
        self._boundary_data = (self.controls["dataset"].value, self.n_classes)
        self._start()

    # the network and its data -------------------------------------------------------
    def _new_network(self) -> None:
        c = {k: w.value for k, w in self.controls.items() if k not in ("train", "reset",
                                                                       "progress")}
        kwargs = {"n": 300, "seed": self.seed}
        X, y = data.load(c["dataset"], **kwargs)
        self.X, self.X_val, self.y, self.y_val = data.train_val_split(X, y, 0.25, seed=self.seed)
        self.X_all, self.y_all = X, y
        k = int(y.max()) + 1
        self.n_classes = k
        out = ("sigmoid", 1) if k == 2 else ("softmax", k)
        sizes = [2] + [c["width"]] * c["hidden_layers"] + [out[1]]
        self.net = nn.MLP(sizes, activation=c["activation"], output=out[0], seed=self.seed)
        self.epoch = 0
        self.losses = [self.net.loss(self.X, self.y)]
        self.val_losses = [self.net.loss(self.X_val, self.y_val)]
        self.note = ""
        # The optimizer's state (Adam's moments, momentum's velocity) carries over from one
        # Train click to the next, so N + N epochs train exactly as 2N epochs in one go.
        self.optimizer_state, self.optimizer_name = None, None

    def _make_boundary(self) -> None:
        """A new boundary panel, for data with another number of classes (its legend, its
        colours and its kind of surface change)."""
        self.axes[0].clear()
        self.boundary = _BoundaryPanel(self.axes[0], self.net, self.X_all, self.y_all,
                                       resolution=80)

    def reset(self) -> None:
        """A new, untrained network for the current controls (the Reset button)."""
        with one_blas_thread():
            self._reset()

    def _reset(self) -> None:
        self._new_network()
        key = (self.controls["dataset"].value, self.n_classes)
        if key != self._boundary_data:
            if self.n_classes != self._boundary_data[1]:
                self._make_boundary()
            else:
                # The same classes on new samples: move the points, keep the panel (rebuilding
                # it costs more than the whole redraw).
                self.boundary.set_data(self.X_all, self.y_all)
            self._boundary_data = key
        self.progress.value = 0
        self.render_state()

    def train(self) -> None:
        """Train for ``epochs`` more epochs, updating the progress bar (the Train button)."""
        c = self.controls
        n = c["epochs"].value
        self.progress.max = n
        self.progress.value = 0
        step = max(1, n // 20)

        def tick(epoch, _net, _history):
            if epoch % step == 0 or epoch == n:
                self.progress.value = epoch

        optimizer = c["optimizer"].value
        # Another optimizer cannot continue this one's state: it starts afresh.
        state = self.optimizer_state if optimizer == self.optimizer_name else None
        self.train_button.disabled = True
        try:
            with one_blas_thread():
                history, self.note = _train(self.net, self.X, self.y, epochs=n,
                                            lr=c["lr"].value, optimizer=optimizer,
                                            X_val=self.X_val, y_val=self.y_val,
                                            seed=self.seed + self.epoch, n_snapshots=2,
                                            callback=tick, optimizer_state=state)
        finally:
            self.train_button.disabled = False
        self.optimizer_state, self.optimizer_name = history.optimizer_state, optimizer
        done = history.epochs if history.diverged_at is None else history.diverged_at
        self.losses.extend(history.loss[1:done + 1])
        self.val_losses.extend(history.val_loss[1:done + 1])
        self.epoch += done
        self.progress.value = n
        self.render_state()

    # drawing -------------------------------------------------------------------------
    def render_state(self) -> None:
        with one_blas_thread():
            self.update()
            self.render()

    def update(self) -> None:
        acc = self.net.accuracy(self.X_val, self.y_val)
        self.boundary.update(self.net, f"epoch {self.epoch}: validation accuracy {acc:.0%}")
        epochs = np.arange(len(self.losses))
        self.artists["loss"].set_data(epochs, self.losses)
        self.artists["val_loss"].set_data(epochs, self.val_losses)
        ax0, ax1 = self.axes
        ax1.set_xlim(0, max(1, epochs[-1]))
        finite = np.concatenate([self.losses, self.val_losses])
        finite = finite[np.isfinite(finite)]
        high = float(finite.max()) if finite.size else 1.0
        bottom, top = ax1.get_ylim()
        if not (bottom == 0 and 0.8 * top <= high <= top):
            ax1.set_ylim(0, high * 1.05)  # otherwise keep it: a steady axis allows blitting
        # Blitting: redraw the boundary panel's contents and the loss curves over a cached
        # picture of the axes, ticks and labels; a panel whose axes change is redrawn alone.
        if not self.invalidate_if_changed(self._boundary_data[1]):
            self.invalidate_if_changed((*ax0.get_xlim(), *ax0.get_ylim()), ax=ax0)
            self.invalidate_if_changed((*ax1.get_xlim(), *ax1.get_ylim()), ax=ax1)
        self.use_blitting(_inside(ax0)
                          + [self.artists["loss"], self.artists["val_loss"]])
        self.status.value = (f"epoch <b>{self.epoch}</b> · train loss {self.losses[-1]:.3f} · "
                             f"validation loss {self.val_losses[-1]:.3f} · accuracy {acc:.0%}"
                             + (f"<br>{self.note}" if self.note else ""))

    def _on_change(self, change) -> None:
        # Data and architecture changes start afresh; optimiser settings apply to the next Train.
        if change["owner"] in (self.controls["dataset"], self.controls["activation"],
                               self.controls["hidden_layers"], self.controls["width"]):
            if self._held:
                self._pending = True
                return
            self.reset()

    def refresh(self) -> None:
        self.reset()


def playground(dataset: str = "circles", activation="tanh", hidden_layers: int = 2,
               width: int = 8, lr: float = 0.03, epochs: int = 200, seed: int = 0) -> Explorer:
    """A TensorFlow-Playground-like panel: data, network, Train and Reset buttons."""
    dataset = _check_choice(dataset, PLAYGROUND_DATASETS, "dataset")
    activation = _activation_name(activation)
    if not (isinstance(hidden_layers, (int, np.integer)) and 1 <= hidden_layers <= 4):
        raise ValueError(f"hidden_layers must be a whole number from 1 to 4, got {hidden_layers!r}")
    if not (isinstance(width, (int, np.integer)) and 1 <= width <= 16):
        raise ValueError(f"width must be a whole number from 1 to 16, got {width!r}")
    if not 0.001 <= lr <= 3.2:
        raise ValueError(f"lr must be in [0.001, 3.2], got {lr!r}")
    if not (isinstance(epochs, (int, np.integer)) and 10 <= epochs <= 1000):
        raise ValueError(f"epochs must be a whole number from 10 to 1000, got {epochs!r}")
    return Playground(dataset, activation, int(hidden_layers), int(width), float(lr),
                      int(epochs), seed)
