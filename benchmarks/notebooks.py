"""Notebook execution time: every notebook in a fresh kernel, next to the floor.

    python benchmarks/notebooks.py [--repeats N]

The floor is a notebook that only starts a kernel and imports numpy, matplotlib, ipywidgets and
helpers (plots and widgets included): no chapter can be faster. Each notebook is executed with
nbclient, as nbval and JupyterLab's "Run All" do, right after a floor run, in rounds. The
machine this was written on is shared, and its speed drifts by 10-50 % from one minute to the
next: a single run says little, so each ratio is the median over all runs of the notebook
against the median over all floor runs, and the slowest and fastest run are printed with it.

A chapter that needs PyTorch (chapter 7) also pays for `import torch`, which alone costs about
a floor. That import is measured the same way, as a floor that imports torch too, and taken
off the chapter's time: its own content is held to the same target as every other chapter's.

Targets: every chapter within 4x the floor; the whole course within 30 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
FLOOR_SOURCE = """\
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets
import helpers
from helpers import activations, data, nn, diagnostics, plots, widgets
"""
TORCH_FLOOR_SOURCE = FLOOR_SOURCE + "import torch\n"
TARGET_RATIO, TARGET_COURSE = 4.0, 30.0


def run(nb: nbformat.NotebookNode, cwd: Path) -> float:
    """Wall seconds of one execution of ``nb`` in a fresh kernel."""
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return time.perf_counter() - start


def one_cell(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])


def imports_torch(nb: nbformat.NotebookNode) -> bool:
    return any(cell.cell_type == "code" and "import torch" in cell.source for cell in nb.cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds (medians are reported)")
    args = parser.parse_args()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    cwd = ROOT / "notebooks"
    floor_nb, torch_floor_nb = one_cell(FLOOR_SOURCE), one_cell(TORCH_FLOOR_SOURCE)
    needs_torch = {path: imports_torch(nbformat.read(path, as_version=4)) for path in notebooks}
    floors, torch_floors, runs = [], [], {path: [] for path in notebooks}
    for _ in range(args.repeats):
        for path in notebooks:
            floors.append(run(floor_nb, cwd))
            if needs_torch[path]:
                torch_floors.append(run(torch_floor_nb, cwd))
            runs[path].append(run(nbformat.read(path, as_version=4), path.parent))

    floor = statistics.median(floors)
    torch_cost = statistics.median(torch_floors) - floor if torch_floors else 0.0
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {args.repeats} rounds, a fresh kernel per notebook, "
          f"each right after a floor run ({len(floors)} floor runs); medians, and the fastest "
          "and slowest run\n")
    header = (f"{'notebook':<46}{'seconds':>9}{'min-max':>11}{'x floor':>9}  "
              f"target <= {TARGET_RATIO:g}x")
    print(header)
    print("-" * len(header))
    print(f"{'floor (kernel start + imports)':<46}{floor:>9.2f}"
          f"{f'{min(floors):.1f}-{max(floors):.1f}':>11}{1.0:>9.1f}")
    worst, notes = 0.0, []
    for path in notebooks:
        seconds = statistics.median(runs[path])
        less = torch_cost if needs_torch[path] else 0.0
        ratio = (seconds - less) / floor
        worst = max(worst, ratio)
        name = path.name + ("*" if less else "")
        spread = f"{min(runs[path]):.1f}-{max(runs[path]):.1f}"
        print(f"{name:<46}{seconds:>9.2f}{spread:>11}{ratio:>9.1f}  "
              f"{'ok' if ratio <= TARGET_RATIO else 'MISSED'}")
        if less:
            notes.append(f"* without `import torch` ({less:.2f} s); with it "
                         f"{seconds / floor:.1f}x the floor")
    total = sum(statistics.median(times) for times in runs.values())
    print("-" * len(header))
    print(f"{'whole course':<46}{total:>9.2f}  target <= {TARGET_COURSE:g} s: "
          f"{'ok' if total <= TARGET_COURSE else 'MISSED'}")
    for note in notes:
        print(note)
    print(f"worst chapter: {worst:.1f}x the floor")


if __name__ == "__main__":
    main()
