"""Does any legend or annotation cover the data? Measured on a drawn figure, in pixels.

The data of a figure are its lines (sampled every 2 pixels along their path, and each
marker), scatter points (with their size), contour and edge lines, and its areas: bars,
histograms, filled bands, images, colour bars. Shaded x- or y-bands that span a whole axis
(``axvspan``, ``axhspan``) and images with a gid starting with "surface" (a decision
surface behind the points) are backgrounds, not data. The boxes are each axes' legend and
texts (annotations included, their arrows not) and the figure's own legends and texts;
titles, axis labels and tick labels sit outside the axes and are not checked. Two boxes
that overlap each other are reported too: a label over a label is unreadable.

:func:`overlaps` lists every (box, data) pair that touch by more than a pixel of tolerance.
:func:`install` turns on the notebook audit: every figure drawn in the kernel is measured
and its overlaps are appended to a JSON-lines file, with the cell that drew it
(``HELPERS_FIGURE_AUDIT=/path/to/log.jsonl``; ``tests/test_figure_overlap.py`` reads it).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass

import numpy as np
from matplotlib import text as mtext
from matplotlib.collections import LineCollection, PathCollection, PolyCollection, QuadMesh
from matplotlib.contour import ContourSet
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

STEP = 2.0        # pixels between samples along a line
TOLERANCE = 1.0   # a box may touch the data by this many pixels


@dataclass
class Overlap:
    """One box (legend or text) over one piece of data."""

    axes: str     # the title of the axes the box belongs to ("figure" for figure-level)
    box: str      # "legend" or "text '...'"
    data: str     # what it covers: "line 'relu'", "scatter", "bars", "image", ...
    amount: int   # samples under the box (line/scatter points, or 2x2-pixel cells of area)


# ------------------------------------------------------------------------- the data


def _describe(artist, kind: str) -> str:
    label = artist.get_label() or ""
    if label.startswith("_"):
        label = artist.get_gid() or ""
    return f"{kind} {label!r}" if label else kind


def _densify(points: np.ndarray) -> np.ndarray:
    """Points every STEP pixels along a polyline (NaN rows break it into pieces)."""
    finite = np.all(np.isfinite(points), axis=1)
    if finite.sum() < 2:
        return points[finite]
    a, b = points[:-1], points[1:]
    ok = finite[:-1] & finite[1:]
    a, b = a[ok], b[ok]
    n = np.maximum(np.ceil(np.hypot(*(b - a).T) / STEP).astype(int), 1)
    n = np.minimum(n, 2000)  # a segment far outside the axes is clipped below anyway
    idx = np.repeat(np.arange(len(a)), n)
    t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n, n)
    return np.vstack([a[idx] + (b - a)[idx] * t[:, None], b[-1:], points[finite]])


def _path_points(path, transform) -> np.ndarray:
    """A path's vertices in pixels, densified, with breaks at each MOVETO."""
    verts = transform.transform(path.vertices)
    codes = path.codes
    if codes is None:
        return _densify(verts)
    starts = np.flatnonzero(codes == path.MOVETO)
    pieces = np.split(verts, starts[1:]) if len(starts) > 1 else [verts]
    return np.vstack([_densify(p) for p in pieces if len(p)]) if pieces else verts[:0]


def _inside(points: np.ndarray, bbox) -> np.ndarray:
    return points[(points[:, 0] >= bbox.x0 - 0.5) & (points[:, 0] <= bbox.x1 + 0.5)
                  & (points[:, 1] >= bbox.y0 - 0.5) & (points[:, 1] <= bbox.y1 + 0.5)]


def _markevery(every, n: int):
    """The indices of the points that carry a marker (the integer forms of ``markevery``)."""
    if isinstance(every, (int, np.integer)) and not isinstance(every, bool):
        return np.arange(0, n, int(every))
    if isinstance(every, tuple) and len(every) == 2 and all(
            isinstance(v, (int, np.integer)) for v in every):
        return np.arange(int(every[0]), n, int(every[1]))
    if isinstance(every, (list, np.ndarray)) and len(every) and np.asarray(every).dtype.kind == "i":
        return np.asarray(every) % max(n, 1)
    return np.arange(n)  # None, or a form given in axes fractions: every point, to be safe


def _is_region(artist, ax) -> bool:
    """A band spanning the whole axis (axvspan/axhspan): its transform is not data-to-pixels."""
    return not artist.get_transform().contains_branch(ax.transData)


def data_items(ax, renderer) -> tuple[list, list]:
    """The data drawn in ``ax``: (points, areas).

    ``points`` holds (description, pixel coordinates (n, 2), radius in pixels);
    ``areas`` holds (description, path in pixels) for filled shapes.
    """
    points, areas = [], []
    ax.viewLim  # noqa: B018 - settles autoscaled limits before anything is transformed
    clip = ax.bbox
    px = renderer.points_to_pixels(1.0)
    if getattr(ax, "_colorbar", None) is not None:
        return points, [("colour bar", Bbox(clip.get_points()))]
    for line in ax.lines:
        if not line.get_visible() or line.get_alpha() == 0:
            continue
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        style = line.get_linestyle()
        if style not in ("None", "none", "", " "):
            pts = _densify(xy)
            if line.get_clip_on():
                pts = _inside(pts, clip)
            points.append((_describe(line, "line"), pts, line.get_linewidth() * px / 2))
        if line.get_marker() not in (None, "None", "none", "", " "):
            marks = xy[_markevery(line.get_markevery(), len(xy))]
            marks = marks[np.all(np.isfinite(marks), axis=1)]
            if line.get_clip_on():
                marks = _inside(marks, clip)
            points.append((_describe(line, "markers"), marks,
                           line.get_markersize() * px / 2))
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, PathCollection) and len(coll.get_offsets()):
            offsets = coll.get_offset_transform().transform(np.asarray(coll.get_offsets()))
            sizes = coll.get_sizes()
            radius = float(np.sqrt(sizes.max()) / 2 * px) if len(sizes) else 3 * px
            points.append((_describe(coll, "scatter"), _inside(offsets, clip), radius))
        elif isinstance(coll, ContourSet) and getattr(coll, "filled", False):
            areas += [("filled contour", p.transformed(coll.get_transform()))
                      for p in coll.get_paths() if len(p.vertices)]
        elif isinstance(coll, (LineCollection, ContourSet)):
            widths = coll.get_linewidths()
            radius = float(np.max(widths)) * px / 2 if len(widths) else px / 2
            pts = [_path_points(p, coll.get_transform()) for p in coll.get_paths()
                   if len(p.vertices)]
            if pts:
                kind = "contour" if isinstance(coll, ContourSet) else "lines"
                points.append((kind, _inside(np.vstack(pts), clip), radius))
        elif isinstance(coll, PolyCollection) and not _is_region(coll, ax):
            areas += [(_describe(coll, "filled band"), p.transformed(coll.get_transform()))
                      for p in coll.get_paths() if len(p.vertices)]
        elif isinstance(coll, QuadMesh):
            areas.append(("mesh", coll.get_window_extent(renderer)))
    for patch in ax.patches:
        if (not patch.get_visible() or not isinstance(patch, Patch) or _is_region(patch, ax)
                or (patch.get_fill() is False and patch.get_hatch() is None)):
            continue
        path = patch.get_transform().transform_path(patch.get_path())
        areas.append((_describe(patch, "bars" if type(patch).__name__ == "Rectangle"
                                else "histogram" if type(patch).__name__ == "StepPatch"
                                else "patch"), path))
    for image in ax.images:
        if image.get_visible() and not str(image.get_gid() or "").startswith("surface"):
            areas.append((_describe(image, "image"), image.get_window_extent(renderer)))
    return points, areas


# ------------------------------------------------------------------------ the boxes


def _text_box(text, renderer):
    if isinstance(text, mtext.Annotation):
        text.update_positions(renderer)  # where its offset puts it, as a draw would
    patch = text.get_bbox_patch()
    if patch is not None:
        text.update_bbox_position_size(renderer)
        return patch.get_window_extent(renderer)
    # An annotation's own extent includes its arrow, which may (and should) reach the data.
    return mtext.Text.get_window_extent(text, renderer)


def boxes(fig, renderer, but=None) -> list[tuple[str, str, Bbox]]:
    """(axes title, description, pixel box) of every legend and text in ``fig`` (except
    ``but``)."""
    found = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        title = ax.get_title() or ax.get_ylabel() or "axes"
        legend = ax.get_legend()
        if legend is not None and legend.get_visible() and legend is not but:
            found.append((title, "legend", legend.get_window_extent(renderer)))
        for t in ax.texts:
            if t.get_visible() and t.get_text().strip() and t is not but:
                found.append((title, f"text {t.get_text()!r}", _text_box(t, renderer)))
    for legend in fig.legends:
        if legend.get_visible() and legend is not but:
            found.append(("figure", "legend", legend.get_window_extent(renderer)))
    for t in fig.texts:
        if t.get_visible() and t.get_text().strip() and t is not but:
            found.append(("figure", f"text {t.get_text()!r}", _text_box(t, renderer)))
    return found


def _cells(bbox) -> np.ndarray:
    """Centres of 2x2-pixel cells covering ``bbox`` (for measuring covered area)."""
    xs = np.arange(bbox.x0 + 1, bbox.x1, 2.0)
    ys = np.arange(bbox.y0 + 1, bbox.y1, 2.0)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def count_covered(bbox, points, areas) -> list[tuple[str, int]]:
    """How much of each data item lies under ``bbox`` (shrunk by the tolerance)."""
    inner = Bbox.from_extents(bbox.x0 + TOLERANCE, bbox.y0 + TOLERANCE,
                              bbox.x1 - TOLERANCE, bbox.y1 - TOLERANCE)
    if inner.width <= 0 or inner.height <= 0:
        return []
    hits = []
    for what, pts, radius in points:
        if not len(pts):
            continue
        r = max(radius - TOLERANCE, 0.0)
        n = int(np.sum((pts[:, 0] > inner.x0 - r) & (pts[:, 0] < inner.x1 + r)
                       & (pts[:, 1] > inner.y0 - r) & (pts[:, 1] < inner.y1 + r)))
        if n:
            hits.append((what, n))
    cells = None
    for what, shape in areas:
        if isinstance(shape, Bbox):
            if not inner.overlaps(shape):
                continue
            both = Bbox.intersection(inner, shape)
            n = int(both.width * both.height / 4) if both is not None else 0
        else:
            extent = shape.get_extents()
            if not inner.overlaps(extent):
                continue
            cells = _cells(inner) if cells is None else cells
            n = int(np.sum(shape.contains_points(cells))) if len(cells) else 0
        if n:
            hits.append((what, n))
    return hits


def overlaps(fig, renderer=None) -> list[Overlap]:
    """Every legend or text of the drawn figure ``fig`` that covers data (see the module)."""
    if renderer is None:
        renderer = fig.canvas.get_renderer()
    items = [data_items(ax, renderer) for ax in fig.axes if ax.get_visible()]
    points = [p for pts, _ in items for p in pts]
    areas = [a for _, ars in items for a in ars]
    found = []
    labels = boxes(fig, renderer)
    for i, (title, what, bbox) in enumerate(labels):
        for data, n in count_covered(bbox, points, areas):
            found.append(Overlap(title, what, data, n))
        # A label over another label is unreadable too (each pair reported once).
        for data, n in count_covered(bbox, [], [(w, b) for _, w, b in labels[i + 1:]]):
            found.append(Overlap(title, what, data, n))
    return found


# ------------------------------------------------------------- the notebook audit


def cell_key(source: str) -> str:
    """A short hash of a cell's source, as sent to the kernel (its ends stripped): the audit
    records it, so a reader finds the notebook and the cell that drew each figure."""
    return hashlib.sha1(source.strip().encode("utf-8")).hexdigest()[:16]


def _cell() -> tuple[int | None, str, str]:
    """(execution count, first line, :func:`cell_key`) of the notebook cell running now."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None, "", ""
    shell = get_ipython()
    if shell is None:
        return None, "", ""
    source = shell.user_ns.get("In", [""])[-1] if shell.user_ns.get("In") else ""
    # The code of the request being executed, as the client sent it: nbval executes cells
    # without storing them in the history (In stays empty), so ask the kernel's message.
    parent = getattr(shell, "parent_header", None) or {}
    code = parent.get("content", {}).get("code") if isinstance(parent, dict) else None
    if code is None:
        raw = getattr(shell.history_manager, "input_hist_raw", None)
        code = raw[-1] if raw else source
    source = source or code
    first = next((ln for ln in source.splitlines() if ln.strip()), "")
    return shell.execution_count, first, cell_key(code) if code.strip() else ""


def install(path: str) -> None:
    """Measure every figure drawn from now on and append its overlaps to ``path`` (JSON lines).

    Each drawn figure adds one line, overlaps or not, so a reader can tell "audited and
    clean" from "never drawn". Only for tests: it wraps ``Figure.draw``.
    """
    from matplotlib.figure import Figure

    if getattr(Figure.draw, "_course_audit", False):
        return
    original = Figure.draw

    def draw(self, renderer):
        result = original(self, renderer)
        try:
            found = overlaps(self, renderer)
        except Exception as exc:  # noqa: BLE001 - the audit must never break a figure
            found = [Overlap("figure", "audit failed", repr(exc), 1)]
        count, first, key = _cell()
        # The kernel's process id: one notebook per kernel, when one log collects the
        # figures of several (nbval runs each notebook in a kernel of its own).
        record = {"cell": count, "first_line": first, "cell_key": key, "pid": os.getpid(),
                  "figure": id(self),
                  "title": (self._suptitle.get_text() if self._suptitle else "")
                  or next((ax.get_title() for ax in self.axes if ax.get_title()), ""),
                  "overlaps": [asdict(o) for o in found]}
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return result

    draw._course_audit = True
    Figure.draw = draw


def install_from_environment() -> None:
    """:func:`install` when ``HELPERS_FIGURE_AUDIT`` names a file (the overlap test sets it)."""
    path = os.environ.get("HELPERS_FIGURE_AUDIT")
    if path:
        install(path)
