"""Import time of the helpers package, and which modules pull in matplotlib.

    python benchmarks/import_time.py

Each measurement runs in a fresh interpreter (median of 5). Targets: `import
helpers` with numpy and matplotlib under 300 ms (issue 25: the plots package must not
make it slower); `helpers.activations` and `helpers.nn` do not import matplotlib or
ipywidgets. The script exits with status 1 when a target is missed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

TARGET_S = 0.3

SNIPPETS = {
    "import numpy": "import numpy",
    "import helpers.activations": "import helpers.activations",
    "import helpers.nn": "import helpers.nn",
    "import helpers (+ numpy, matplotlib)": "import numpy, matplotlib, helpers",
    "from helpers import plots": "from helpers import plots",
    "from helpers import plots, widgets": "from helpers import plots, widgets",
}
PROBE = """
import sys, time
t = time.perf_counter()
{snippet}
elapsed = time.perf_counter() - t
heavy = [m for m in ("matplotlib", "ipywidgets") if m in sys.modules]
print(elapsed, ",".join(heavy))
"""


def measure(snippet: str, repeats: int = 5) -> tuple[float, str]:
    times, heavy = [], ""
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", PROBE.format(snippet=snippet)],
                             capture_output=True, text=True, check=True).stdout.split()
        times.append(float(out[0]))
        heavy = out[1] if len(out) > 1 else "-"
    return statistics.median(times), heavy


def main() -> None:
    print(f"{'statement':<40}{'ms':>8}  also imported")
    failures = []
    for label, snippet in SNIPPETS.items():
        seconds, heavy = measure(snippet)
        print(f"{label:<40}{seconds * 1e3:>8.0f}  {heavy}")
        if label.startswith("import helpers (") and seconds >= TARGET_S:
            failures.append(f"{label} took {seconds * 1e3:.0f} ms (target < "
                            f"{TARGET_S * 1e3:.0f} ms)")
        if label in ("import helpers.activations", "import helpers.nn") and heavy != "-":
            failures.append(f"{label} imported {heavy}")
    print("\n" + ("all targets met" if not failures else "MISSED: " + "; ".join(failures)))
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
