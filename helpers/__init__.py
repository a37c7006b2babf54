"""Helpers for the activation-functions course: maths, data, a numpy MLP, plots and widgets.

Import the parts you need, e.g. ``from helpers import activations, data, nn``.
``plots`` and ``widgets`` import matplotlib/ipywidgets, so they are loaded only when asked for.
"""

from importlib import import_module

__version__ = "0.1.0"

_SUBMODULES = ("activations", "data", "nn", "diagnostics", "plots", "widgets", "exercises",
               "torch_bridge", "tensorboard_logs")

__all__ = list(_SUBMODULES)


def __getattr__(name: str):
    # Lazy submodules: `import helpers; helpers.plots` works without importing
    # matplotlib for code that only needs the maths.
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
