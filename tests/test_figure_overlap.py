"""Nothing covers the data: no legend or annotation over a figure's lines, points, bars or images.

Three parts:

* the measure itself (``helpers.plots.audit``) on figures made to cover, or not to cover;
* every explorer in the states the chapters suggest, drawn here;
* every figure of every notebook, as executed, in a kernel with ``HELPERS_FIGURE_AUDIT`` set,
  so every figure the kernel draws, the helpers' and the notebook's own, is measured with
  the cell that drew it. ``make notebooks`` sets it while nbval executes the notebooks
  (``build/figure-audit.jsonl``) and runs this test after nbval: the test reads that log
  instead of executing the notebooks a second time, and fails if it misses a notebook or a
  figure the notebooks show. Run alone (no log, or one older than a notebook or a helper),
  the test executes each notebook itself (a copy, in a temporary folder), two at a time.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from helpers import plots, widgets  # noqa: E402
from helpers.plots import audit  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


# ------------------------------------------------------------------------- the measure


def test_a_legend_on_a_line_is_found_and_one_beside_it_is_not():
    fig, ax = plots.subplots(1, 1, figsize=(5, 3.5))
    x = np.linspace(0, 1, 200)
    ax.plot(x, np.full_like(x, 0.96), label="high line")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper right")
    found = audit.overlaps(fig, _drawn(fig))
    assert [(o.box, o.data) for o in found] == [("legend", "line 'high line'")]
    assert found[0].amount > 10  # many samples of the line lie under the box
    ax.get_legend().set_loc("lower right")
    assert audit.overlaps(fig, _drawn(fig)) == []


def test_text_over_points_bars_and_images_is_found():
    fig, axes = plots.subplots(1, 3, figsize=(9, 3))
    axes[0].scatter([0.5], [0.5], s=40)
    axes[0].text(0.5, 0.5, "on the point", ha="center", va="center")
    axes[1].bar([0, 1], [1.0, 0.2])
    axes[1].text(0, 0.5, "in a bar", ha="center")
    axes[2].imshow(np.eye(4))
    axes[2].text(1.5, 1.5, "on the image", ha="center")
    kinds = sorted(o.data.split()[0] for o in audit.overlaps(fig, _drawn(fig)))
    assert kinds == ["bars", "image", "scatter"]


def test_backgrounds_are_not_data():
    # A band over the whole height (axvspan) and a decision surface marked gid="surface"
    # are backgrounds: a legend may sit on them.
    fig, axes = plots.subplots(1, 2, figsize=(8, 3))
    axes[0].axvspan(0.5, 1.0, color="0.8")
    axes[0].plot([0, 0.4], [0, 0.1], label="low")
    axes[0].set(xlim=(0, 1), ylim=(0, 1))
    axes[0].legend(loc="upper right")
    axes[1].imshow(np.eye(4), gid="surface", extent=(0, 1, 0, 1))
    axes[1].text(0.5, 0.5, "on the surface")
    assert audit.overlaps(fig, _drawn(fig)) == []


def test_place_legend_moves_below_when_the_data_fill_the_axes():
    fig, ax = plots.subplots(1, 1, figsize=(5, 3.5))
    x = np.linspace(0, 1, 400)
    for k in range(12):  # horizontal lines everywhere: no free corner
        ax.plot(x, np.full_like(x, k / 11), label=f"line {k}" if k < 3 else None)
    ax.set(xlim=(0, 1), xlabel="x")
    legend = plots.place_legend(ax)
    assert legend.get_bbox_to_anchor() is not None
    renderer = _drawn(fig)
    assert legend.get_window_extent(renderer).y1 < ax.bbox.y0  # below the axes
    assert audit.overlaps(fig, renderer) == []


def test_place_text_finds_the_free_corner():
    fig, ax = plots.subplots(1, 1, figsize=(5, 3.5))
    x = np.linspace(0, 1, 200)
    ax.plot(x, x)  # the diagonal: upper left and lower right are free
    ax.set(xlim=(0, 1), ylim=(0, 1))
    note = ax.annotate("a note", (0.5, 0.5), xycoords="axes fraction", ha="center",
                       va="center")
    places = [{"xy": (0.5, 0.5), "ha": "center", "va": "center"},  # on the line
              {"xy": (0.05, 0.95), "ha": "left", "va": "top"}]     # free
    assert plots.place_text(note, places) == 1
    assert audit.overlaps(fig, _drawn(fig)) == []


# ------------------------------------------------- the helpers' figures, on hard cases


def _history(activation="relu", epochs=40, lr=0.5, bias_init=0.0):
    from helpers import data, nn

    X, y = data.moons(120, noise=0.15, seed=0)
    net = nn.MLP([2, 8, 8, 1], activation=activation, output="sigmoid", init="he",
                 bias_init=bias_init, seed=0)
    return net, net.fit(X, y, epochs=epochs, lr=lr, X_val=X[:40], y_val=y[:40]), X, y


def _figures():
    from helpers import data

    net, h, X, y = _history()
    _, dead, _, _ = _history(bias_init=-3.0)
    _, wild, _, _ = _history(lr=6.0)
    yield "seven activations", plots.plot_activations(
        ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu"])
    yield "one neuron, w < 0", plots.plot_neuron("sigmoid", -2.0, 1.0)
    yield "one neuron, relu", plots.plot_neuron("relu", 2.0, 1.0)
    yield "history", plots.plot_history(wild)
    yield "boundary", plots.plot_decision_boundary(net, X, y)
    Xs, ys = data.spirals(150, seed=0)
    yield "boundary, 3 classes", plots.plot_decision_boundary(
        type("Nearest", (), {"predict": lambda self, P: np.argmin(
            ((P[:, None] - np.array([[0, 0], [0.5, 0.5], [-0.5, 0.5]])) ** 2).sum(-1), 1)})(),
        Xs, ys)
    yield "dead units", plots.plot_dead_units(dead)
    yield "gradient norms", plots.plot_gradient_norms({"healthy": h, "wild": wild})
    yield "dashboard", plots.training_dashboard({"relu": h, "bias -3": dead, "lr 6": wild})
    yield "training curves", plots.plot_training_curves({"relu": h, "lr 6": wild},
                                                        reference_loss=np.log(2),
                                                        reference_label="constant")
    yield "layer histograms", plots.plot_layer_histograms(net, X)


def test_helper_figures_cover_no_data():
    found = []
    for name, fig in _figures():
        for o in audit.overlaps(fig, _drawn(fig)):
            found.append(f"{name}, {o.axes!r}: {o.box} covers {o.data} ({o.amount})")
    assert found == []


# --------------------------------------------------------------- the explorers' states

# The states the chapters' "things to try" lists suggest (chapters 0-7).
EXPLORER_STATES = {
    "activation": (widgets.activation_explorer, [
        {"activations": ("tanh", "relu")}, {"derivative": False}, {"derivative": True},
        {"activations": ("leaky_relu",), "leaky_alpha": 0.3},
        {"activations": ("sigmoid", "tanh"), "x_range": (-10.0, 10.0)},
        {"activations": ("relu", "leaky_relu", "elu", "gelu", "silu"), "x_range": (-6.0, 6.0)},
    ]),
    "neuron": (lambda: widgets.neuron_explorer("sigmoid"), [
        {"activation": "identity", "w": 2.0, "b": 3.0},
        {"activation": "sigmoid", "b": 0.0, "w": 5.0}, {"w": -2.0}, {"w": 2.0, "b": 6.0},
        {"activation": "tanh", "b": 1.0}, {"activation": "relu"}, {"w": -3.0, "b": -8.0},
    ]),
    "softmax": (lambda: widgets.softmax_explorer(3, logits=np.array([2.0, 1.0, 0.1])), [
        {"temperature": 0.1}, {"temperature": 10.0}, {"temperature": 1.0, "z1": 2.0},
        {"temperature": 0.1}, {"temperature": 1.0, "z1": 1.0, "z2": -5.0},
    ]),
    "gradient_flow": (lambda: widgets.gradient_flow_explorer("sigmoid", "xavier", 8, 16), [
        {"depth": 4}, {"depth": 10}, {"depth": 8, "activation": "tanh"},
        {"activation": "relu", "init": "he"}, {"activation": "tanh", "init": "normal"},
        {"init": "xavier", "init_scale": 10 ** 0.5}, {"init_scale": 10 ** -0.5},
        {"activation": "sigmoid", "init_scale": 10 ** 0.6},
        {"activation": "tanh", "init": "normal", "init_scale": 1.0, "width": 128},
        {"init": "xavier", "width": 16, "init_scale": 10.0},
    ]),
    "dead_relu": (widgets.dead_relu_explorer, [
        {"lr": 10 ** 0.5}, {"lr": 10.0}, {"lr": 0.5, "bias_init": -3.0},
        {"activation": "leaky_relu"}, {"activation": "elu"}, {"activation": "gelu"},
        {"activation": "silu"},
    ]),
    "playground": (lambda: widgets.playground("xor", "tanh", 1, 4), [
        {"train": 2}, {"dataset": "circles", "activation": "identity", "hidden_layers": 4,
                       "width": 16, "train": 2},
        {"activation": "relu", "train": 2}, {"dataset": "spirals", "hidden_layers": 1,
                                             "width": 4, "train": 3},
        {"activation": "step", "dataset": "xor", "train": 1},
        {"dataset": "spirals", "activation": "relu", "hidden_layers": 2, "width": 8,
         "optimizer": "sgd", "lr": 10 ** 0.5, "train": 1},
    ]),
}


def explorer_states(name):
    """Yield (description, explorer) for the start and each suggested state of one explorer."""
    make, states = EXPLORER_STATES[name]
    e = make()
    yield "start", e
    for state in states:
        changes = {k: v for k, v in state.items() if k != "train"}
        with e.hold_updates():
            for control, value in changes.items():
                e.controls[control].value = value
        for _ in range(state.get("train", 0)):
            e.train()
        yield ", ".join(f"{k}={v}" for k, v in state.items()), e


@pytest.mark.parametrize("name", sorted(EXPLORER_STATES))
def test_explorer_states_cover_no_data(name):
    found = []
    for state, e in explorer_states(name):
        for o in audit.overlaps(e.figure, e.canvas.get_renderer()):
            found.append(f"{state}: {o.box} covers {o.data} ({o.amount})")
    assert found == []


# -------------------------------------------------------------- every notebook's figures


def _run(notebook: Path, folder: Path) -> tuple[Path, nbformat.NotebookNode, list[dict]]:
    log = folder / f"{notebook.stem}.audit.jsonl"
    nb = nbformat.read(notebook, as_version=4)
    env = dict(os.environ, HELPERS_FIGURE_AUDIT=str(log))
    env.pop("MPLBACKEND", None)  # the inline backend, as in JupyterLab and nbval
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return notebook, nb, records


# Written by `make notebooks` while nbval executes every notebook (see the Makefile).
AUDIT_LOG = ROOT / "build" / "figure-audit.jsonl"


def _shown(cell) -> int:
    """How many figures (PNG outputs) a notebook cell shows."""
    if cell.cell_type != "code":
        return 0
    return sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def _fresh(log: Path) -> bool:
    """The log exists and is newer than every notebook and every helper it measured."""
    if not log.exists():
        return False
    sources = [*NOTEBOOKS, *(ROOT / "helpers").rglob("*.py")]
    return log.stat().st_mtime >= max(p.stat().st_mtime for p in sources)


def audit_from_log(log: Path, notebooks=None):
    """(notebook, its cells, its records) for each notebook, from one log of several kernels.

    Each kernel ran one notebook: its records (one process id) belong to the notebook whose
    code cells hold every cell they name. Fails when the log misses a notebook that shows
    figures, when a cell shows more figures than were measured for it, or when a kernel's
    records fit no notebook (or a notebook ran twice: a log left from another run).
    """
    notebooks = NOTEBOOKS if notebooks is None else notebooks
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    by_kernel = defaultdict(list)
    for r in records:
        by_kernel[r.get("pid")].append(r)
    read = {path: nbformat.read(path, as_version=4) for path in notebooks}
    keys = {path: {audit.cell_key(c.source) for c in nb.cells if c.cell_type == "code"}
            for path, nb in read.items()}
    found: dict = {}
    for pid, rs in by_kernel.items():
        named = {r.get("cell_key") for r in rs} - {""}  # "": drawn outside a cell (a widget)
        owners = [path for path in notebooks if named <= keys[path]]
        assert len(owners) == 1, (f"{log}: the figures of kernel {pid} fit "
                                  f"{[p.name for p in owners] or 'no notebook'}")
        assert owners[0] not in found, f"{log}: {owners[0].name} ran twice (an old log?)"
        found[owners[0]] = rs
    missing = [p.name for p, nb in read.items()
               if p not in found and any(_shown(c) for c in nb.cells)]
    assert not missing, f"{log} misses the notebooks {missing}"
    for path, nb in read.items():
        drawn = defaultdict(int)
        for r in found.get(path, []):
            drawn[r["cell_key"]] += 1
        for i, cell in enumerate(nb.cells):
            shown = _shown(cell)
            assert drawn[audit.cell_key(cell.source)] >= shown, (
                f"{log}: {path.name} cell {i} shows {shown} figures, "
                f"{drawn[audit.cell_key(cell.source)]} measured")
    return [(path, read[path], found.get(path, [])) for path in notebooks]


@pytest.fixture(scope="module")
def audited_notebooks(tmp_path_factory):
    if _fresh(AUDIT_LOG):  # nbval has just executed the notebooks under the audit
        return audit_from_log(AUDIT_LOG)
    folder = tmp_path_factory.mktemp("notebooks")
    for nb in NOTEBOOKS:
        shutil.copy(nb, folder / nb.name)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda nb: _run(folder / nb.name, folder), NOTEBOOKS))


def test_an_audit_log_that_misses_a_notebook_or_a_figure_fails(tmp_path):
    """The log nbval leaves is trusted only when complete: every notebook that shows figures
    is in it (one kernel each), and every cell has at least as many measured figures as it
    shows."""
    def notebook(name, sources):
        nb = nbformat.v4.new_notebook()
        for source, figures in sources:
            cell = nbformat.v4.new_code_cell(source)
            cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": ""})
                            for _ in range(figures)]
            nb.cells.append(cell)
        path = tmp_path / name
        nbformat.write(nb, path)
        return path

    a = notebook("01_a.ipynb", [("x = 1", 0), ("plots.plot_activations('relu')", 1)])
    b = notebook("02_b.ipynb", [("fig = plots.plot_history(h)\nfig", 2)])

    def log(*records):
        path = tmp_path / "audit.jsonl"
        path.write_text("".join(json.dumps({"pid": pid, "cell_key": audit.cell_key(src),
                                            "overlaps": []}) + "\n"
                                for pid, src in records))
        return path

    complete = log((1, "plots.plot_activations('relu')"), (2, "fig = plots.plot_history(h)\nfig"),
                   (2, "fig = plots.plot_history(h)\nfig"))
    assert [len(r) for _, _, r in audit_from_log(complete, [a, b])] == [1, 2]
    with pytest.raises(AssertionError, match="misses the notebooks"):
        audit_from_log(log((1, "plots.plot_activations('relu')")), [a, b])
    with pytest.raises(AssertionError, match="shows 2 figures, 1 measured"):
        audit_from_log(log((1, "plots.plot_activations('relu')"),
                           (2, "fig = plots.plot_history(h)\nfig")), [a, b])
    with pytest.raises(AssertionError, match="ran twice"):
        audit_from_log(log((1, "plots.plot_activations('relu')"),
                           (3, "plots.plot_activations('relu')"),
                           (2, "fig = plots.plot_history(h)\nfig"),
                           (2, "fig = plots.plot_history(h)\nfig")), [a, b])
    with pytest.raises(AssertionError, match="fit no notebook"):
        audit_from_log(log((1, "something else"),), [a, b])


def _cell_of(nb, count, first_line):
    """The index of the cell that drew a figure: its first line, and its execution count (the
    kernel's count may already be one ahead when a figure is drawn after the cell ran)."""
    found = None
    for i, cell in enumerate(nb.cells):
        first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
        if cell.cell_type == "code" and first == first_line:
            if cell.get("execution_count") in (count, count - 1 if count else None):
                return i
            found = i if found is None else found
    return found


def test_every_notebook_figure_covers_no_data(audited_notebooks):
    problems, audited = [], 0
    for path, nb, records in audited_notebooks:
        last = {}  # a figure drawn twice (measured, then printed) counts once: its last drawing
        for r in records:
            last[r["cell"], r["figure"]] = r
        audited += len(last)
        shown = sum(_shown(cell) for cell in nb.cells)
        # The hook sees every figure the notebook shows (explorers' first frames come on top).
        assert len(last) >= shown, f"{path.name}: {shown} figures shown, {len(last)} audited"
        for r in last.values():
            for o in r["overlaps"]:
                where = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                              and audit.cell_key(c.source) == r.get("cell_key")), None)
                if where is None:
                    where = _cell_of(nb, r["cell"], r["first_line"])
                problems.append(f"{path.name} cell {where} "
                                f"({r['first_line'][:60]!r}), {o['axes']!r}: {o['box']} covers "
                                f"{o['data']} ({o['amount']})")
    assert audited > 0
    assert problems == [], "\n".join(problems)
