"""Execute notebooks in place, the way they are committed.

    python tools/execute_notebooks.py notebooks/01_linear_vs_nonlinear.ipynb [...]
    python tools/execute_notebooks.py --all

Each notebook runs top to bottom in a fresh kernel (cwd = notebooks/), then is
cleaned for commit: the standard kernelspec is set, widget state and widget views
are removed (a stored view of a kernel that no longer exists shows "Error
displaying widget: model not found" when the notebook is opened), timing metadata
is dropped, and the run fails if any cell raised or printed a warning. Plots and
printed numbers stay, so the notebook reads well on GitHub and nbval has its
reference outputs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "Interactive explorer: run this cell in JupyterLab (or on Binder) to use it."


def clean(nb: nbformat.NotebookNode) -> list[str]:
    """Strip widget state/views and timing; return a list of problems found."""
    problems = []
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                if "raises-exception" not in cell.metadata.get("tags", []):
                    problems.append(f"cell {index} raised {out.get('ename')}: {out.get('evalue')}")
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                problems.append(f"cell {index} wrote to stderr: {out.get('text', '')[:200]!r}")
            data = out.get("data")
            if data and WIDGET_VIEW in data:
                data.pop(WIDGET_VIEW)
                data["text/plain"] = WIDGET_NOTE
    return problems


def execute(path: Path, timeout: int = 300) -> float:
    """Run one notebook in place; return its wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            allow_errors=True, store_widget_state=False)
    client.execute()
    elapsed = time.perf_counter() - start
    problems = clean(nb)
    nbformat.write(nb, path)
    if problems:
        raise SystemExit(f"{path.name}:\n  " + "\n  ".join(problems))
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every notebook in notebooks/")
    args = parser.parse_args(argv)
    paths = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")) if args.all else args.notebooks
    if not paths:
        parser.error("give notebook paths or --all")
    for path in paths:
        print(f"{path.name}: {execute(path.resolve()):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
