"""Check that this machine can run the course, and say in plain words what to do if not.

Used by ``notebooks/00_start_here.ipynb``::

    from helpers import environment
    environment.report()
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Check", "check_environment", "report", "MIN_PYTHON"]

MIN_PYTHON = (3, 11)
# The packages the notebooks need at run time, with what to do when one is missing.
REQUIRED = {
    "numpy": "the maths",
    "matplotlib": "the figures",
    "ipywidgets": "the interactive explorers",
    "jupyterlab_widgets": "showing widgets inside JupyterLab",
    "ipykernel": "running notebook cells",
}
CJK_FONT_PACKAGE = "fonts-noto-cjk"


@dataclass(frozen=True)
class Check:
    """One line of the environment report."""

    name: str
    ok: bool
    detail: str
    advice: str = ""


def _python_check() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return Check("Python", True, version)
    return Check(
        "Python", False, version,
        f"the course needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer. Install it (for "
        "example from python.org or with pyenv), then run `make clean && make lab` in the "
        "course folder so the environment is rebuilt with it.",
    )


def _package_check(name: str, purpose: str) -> Check:
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        return Check(
            name, False, "not installed",
            f"{name} is needed for {purpose}. Run `make lab` again from the course folder, "
            "or `pip install -r requirements.txt` in the environment this kernel uses.",
        )
    return Check(name, True, version)


def _helpers_check() -> Check:
    helpers_dir = Path(__file__).resolve().parent
    try:
        dist = metadata.distribution("activation-functions-course")
    except metadata.PackageNotFoundError:
        return Check(
            "helpers package", False, f"imported from {helpers_dir}, but not installed",
            "run `pip install -e .` in the course folder (`make lab` does this for you), so "
            "every notebook finds `helpers` without editing sys.path.",
        )
    return Check("helpers package", True, f"installed ({dist.version}) from {helpers_dir}")


def _font_check() -> Check:
    try:
        from helpers.plots import cjk_font
    except ImportError:  # matplotlib missing: reported by its own check
        return Check("CJK font", False, "unknown: matplotlib is not installed")
    font = cjk_font()
    if font:
        return Check("CJK font", True, font)
    return Check(
        "CJK font", False, "none found: Chinese or Japanese labels would show as boxes",
        f"optional. On Debian/Ubuntu: `sudo apt-get install {CJK_FONT_PACKAGE}`; on macOS and "
        "Windows a CJK font is already there. Then restart the kernel.",
    )


def _kernel_check() -> Check:
    try:
        shell = importlib.import_module("IPython").get_ipython()
    except ImportError:
        shell = None
    if shell is None or not hasattr(shell, "kernel"):
        return Check(
            "Jupyter kernel", False, "not running inside a Jupyter kernel",
            "open the notebooks in JupyterLab (`make lab`) to use the widgets.",
        )
    return Check("Jupyter kernel", True, type(shell).__name__)


def _backend_check() -> Check:
    try:
        import matplotlib

        from helpers.plots import backend_shows_course_figures
    except ImportError:  # matplotlib missing: reported by its own check
        return Check("figure display", False, "unknown: matplotlib is not installed")
    backend = matplotlib.rcParams._get_backend_or_none() or "(not chosen yet)"
    if backend_shows_course_figures():
        return Check("figure display", True, f"matplotlib backend {backend}")
    return Check(
        "figure display", False,
        f"matplotlib backend {backend}: the course's figures would not show in the notebook",
        "run `%matplotlib inline` in a cell (or remove MPLBACKEND from the environment that "
        "starts Jupyter), then restart the kernel.",
    )


def check_environment() -> list[Check]:
    """Every check, in the order they are reported."""
    checks = [_python_check(), _helpers_check()]
    checks += [_package_check(name, purpose) for name, purpose in REQUIRED.items()]
    checks += [_font_check(), _kernel_check(), _backend_check()]
    return checks


def report(checks: list[Check] | None = None) -> bool:
    """Print the environment report; return True when everything required is fine."""
    checks = check_environment() if checks is None else checks
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "\u2705" if c.ok else ("\u2139\ufe0f " if c.name == "CJK font" else "\u274c")
        print(f"{mark} {c.name:<{width}}  {c.detail}")
        if not c.ok and c.advice:
            print(f"   {' ' * width}  what to do: {c.advice}")
    required_ok = all(c.ok for c in checks if c.name != "CJK font")
    print("\nReady: every chapter will run." if required_ok else
          "\nSomething needs attention: see 'what to do' above.")
    return required_ok
