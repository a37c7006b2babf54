"""Course figures show in a real kernel whatever non-interactive backend the server chose.

Some JupyterHub images set MPLBACKEND=Agg for every process; a kernel started with it has
no inline backend, and before the fix a course figure returned by a cell showed as text.
"""

import os

import nbformat
import pytest
from nbclient import NotebookClient

FIGURE_CELL = "from helpers import plots\nplots.plot_activations('relu')"
BACKEND_CELL = (
    "from helpers import environment\n"
    "check = environment._backend_check()\n"
    "print(check.ok, '|', check.detail)"
)


def run_cells(cells: list[str], backend: str | None) -> list:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    saved = os.environ.get("MPLBACKEND")
    try:
        if backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = backend
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved
    return nb.cells


@pytest.mark.parametrize("backend", [None, "Agg", "agg", "svg"])
def test_course_figure_displays_as_png(backend):
    figure, check = run_cells([FIGURE_CELL, BACKEND_CELL], backend)
    kinds = [set(out.get("data", {})) for out in figure.outputs]
    assert any("image/png" in k for k in kinds), f"no PNG under MPLBACKEND={backend}: {kinds}"
    text = "".join(out.get("text", "") for out in check.outputs)
    assert text.startswith("True |"), text


def test_environment_check_names_a_backend_that_hides_figures():
    # An interactive backend (here faked: matplotlib only records the name until a figure
    # window is needed) takes over display, so the start-here check must name it.
    cells = ["import matplotlib\nmatplotlib.rcParams['backend'] = 'QtAgg'", BACKEND_CELL]
    _, check = run_cells(cells, None)
    text = "".join(out.get("text", "") for out in check.outputs)
    assert text.startswith("False |") and "QtAgg" in text, text
