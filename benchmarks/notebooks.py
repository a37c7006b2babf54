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
    parser.add_argument("--repeats", type=int, default=3, help="rounds (medians are reported)")
    args = parser.parse_args()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    floor_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR_SOURCE)])
    # Each round runs the floor and then every notebook, so a slow spell on a shared machine
    # hits a round's floor and its notebooks alike; ratios are taken within a round.
    floors, times = [], {path: [] for path in notebooks}
    for _ in range(args.repeats):
        floors.append(run(floor_nb, ROOT / "notebooks"))
        for path in notebooks:
            times[path].append(run(nbformat.read(path, as_version=4), path.parent))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; median of {args.repeats} rounds, a fresh kernel "
          "per notebook\n")
    header = f"{'notebook':<44}{'seconds':>9}{'x floor':>9}  target <= 4x"
    print(header)
    print("-" * len(header))
    print(f"{'floor (kernel start + imports)':<44}{statistics.median(floors):>9.2f}{1.0:>9.1f}")
    worst = 0.0
    for path in notebooks:
        ratio = statistics.median(t / f for t, f in zip(times[path], floors))
        worst = max(worst, ratio)
        flag = "ok" if ratio <= 4 else "MISSED"
        print(f"{path.name:<44}{statistics.median(times[path]):>9.2f}{ratio:>9.1f}  {flag}")
    total = statistics.median(sum(round_) for round_ in zip(*times.values()))
    print("-" * len(header))
    print(f"{'whole course':<44}{total:>9.2f}{'':>9}  target <= 30 s: "
          f"{'ok' if total <= 30 else 'MISSED'}")
    print(f"worst chapter: {worst:.1f}x the floor")


if __name__ == "__main__":
    main()
