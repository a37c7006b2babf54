"""Notebook execution time: every notebook in a fresh kernel, next to the floor.

    python benchmarks/notebooks.py [--repeats N]

The floor is a notebook that only starts a kernel and imports numpy, matplotlib,
ipywidgets and helpers (plots and widgets included): no chapter can be faster.
Each notebook is executed with nbclient, as nbval and JupyterLab's "Run All" do.
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


def run(nb: nbformat.NotebookNode, cwd: Path) -> float:
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per notebook (median)")
    args = parser.parse_args()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    floor_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR_SOURCE)])
    floor = statistics.median(run(floor_nb, ROOT / "notebooks") for _ in range(args.repeats))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; median of {args.repeats} runs in a fresh kernel each\n")
    header = f"{'notebook':<44}{'seconds':>9}{'x floor':>9}  target <= 4x"
    print(header)
    print("-" * len(header))
    print(f"{'floor (kernel start + imports)':<44}{floor:>9.2f}{1.0:>9.1f}")
    total = 0.0
    worst = 0.0
    for path in notebooks:
        seconds = statistics.median(run(nbformat.read(path, as_version=4), path.parent)
                                    for _ in range(args.repeats))
        total += seconds
        ratio = seconds / floor
        worst = max(worst, ratio)
        flag = "ok" if ratio <= 4 else "MISSED"
        print(f"{path.name:<44}{seconds:>9.2f}{ratio:>9.1f}  {flag}")
    print("-" * len(header))
    print(f"{'whole course':<44}{total:>9.2f}{'':>9}  target <= 30 s: "
          f"{'ok' if total <= 30 else 'MISSED'}")
    print(f"worst chapter: {worst:.1f}x the floor")


if __name__ == "__main__":
    main()
