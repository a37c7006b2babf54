"""Notebook execution time: every notebook in a fresh kernel, next to the floor.

    python benchmarks/notebooks.py [--repeats N]

The floor is a notebook that only starts a kernel and imports numpy, matplotlib, ipywidgets and
helpers (plots and widgets included): no chapter can be faster. Each notebook is executed with
nbclient, as nbval and JupyterLab's "Run All" do, right after a floor run of its own, and its
ratio is taken against that floor: the machine is shared, and its speed drifts by 10-20 % within
a minute, so a floor measured next to the chapter is the fair one.

A chapter that needs PyTorch (chapter 7) also pays for `import torch`, which alone costs about
a floor. That import is measured the same way, as a floor that imports torch too, next to the
chapter; the chapter's ratio is then taken without it (its own content against the same floor
as every other chapter), and the ratio with it is printed as well.

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
    floors, times, ratios, torch_costs, ratios_with_torch = [], {}, {}, {}, {}
    for _ in range(args.repeats):
        for path in notebooks:
            nb = nbformat.read(path, as_version=4)
            floor = run(floor_nb, cwd)
            floors.append(floor)
            torch_cost = run(torch_floor_nb, cwd) - floor if imports_torch(nb) else 0.0
            seconds = run(nb, path.parent)
            times.setdefault(path, []).append(seconds)
            ratios.setdefault(path, []).append((seconds - torch_cost) / floor)
            if torch_cost:
                torch_costs.setdefault(path, []).append(torch_cost)
                ratios_with_torch.setdefault(path, []).append(seconds / floor)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; median of {args.repeats} rounds, a fresh kernel per "
          "notebook, each right after a floor run; 'rounds': the ratio's lowest and highest\n")
    header = (f"{'notebook':<44}{'seconds':>9}{'x floor':>9}{'rounds':>11}  "
              f"target <= {TARGET_RATIO:g}x")
    print(header)
    print("-" * len(header))
    print(f"{'floor (kernel start + imports)':<44}{statistics.median(floors):>9.2f}{1.0:>9.1f}")
    worst = 0.0
    for path in notebooks:
        ratio = statistics.median(ratios[path])
        worst = max(worst, ratio)
        flag = "ok" if ratio <= TARGET_RATIO else "MISSED"
        note = ""
        if path in torch_costs:
            note = (f"  (without `import torch`, {statistics.median(torch_costs[path]):.2f} s; "
                    f"with it {statistics.median(ratios_with_torch[path]):.1f}x)")
        spread = f"{min(ratios[path]):.1f}-{max(ratios[path]):.1f}"
        print(f"{path.name:<44}{statistics.median(times[path]):>9.2f}{ratio:>9.1f}{spread:>11}  "
              f"{flag}{note}")
    total = statistics.median(sum(round_) for round_ in zip(*times.values()))
    print("-" * len(header))
    print(f"{'whole course':<44}{total:>9.2f}{'':>9}  target <= {TARGET_COURSE:g} s: "
          f"{'ok' if total <= TARGET_COURSE else 'MISSED'}")
    print(f"worst chapter: {worst:.1f}x the floor")


if __name__ == "__main__":
    main()
