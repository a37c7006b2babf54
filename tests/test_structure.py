"""The package's shape: one-way imports, light maths modules, docstrings on public functions."""

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
# Who may import whom (DESIGN.md's one-way flow; diagnostics holds array-level statistics
# that nn.fit records, so it sits below nn).
ALLOWED = {
    "activations": set(),
    "data": set(),
    "diagnostics": {"activations"},
    "nn": {"activations", "diagnostics"},
    "plots": {"activations", "data", "diagnostics", "nn"},
    # _blas (numpy's BLAS on one thread) imports no helpers module; the exercise checks use it too.
    "_blas": set(),
    "widgets": {"_blas", "activations", "data", "diagnostics", "nn", "plots"},
    "environment": {"plots"},
    # Chapter 7: the torch bridge sits at the level of diagnostics (torch imported lazily),
    # the TensorBoard writer at the level of plots.
    "torch_bridge": {"activations", "diagnostics"},
    "tensorboard_logs": {"activations", "data", "diagnostics", "nn"},
}


def helper_imports(path: Path) -> set[str]:
    """The helpers modules a module imports; for a package (helpers/plots/), all its files'
    imports of other helpers modules (its imports of its own files are its business)."""
    if path.with_suffix("").is_dir():
        package = path.with_suffix("")
        return set().union(*(helper_imports_of_file(f, in_package=True)
                             for f in sorted(package.glob("*.py"))))
    return helper_imports_of_file(path)


def helper_imports_of_file(path: Path, in_package: bool = False) -> set[str]:
    found = set()
    up = 2 if in_package else 1  # "from .. import x" in a package is "from . import x" here
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == up and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == up:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("helpers"):
                parts = node.module.split(".")
                found.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("helpers."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_imports_flow_one_way(module):
    imported = helper_imports(HELPERS / f"{module}.py")
    assert imported <= ALLOWED[module], f"{module} imports {imported - ALLOWED[module]}"


@pytest.mark.parametrize("module", ["helpers", "helpers.activations", "helpers.data",
                                    "helpers.nn", "helpers.diagnostics", "helpers.torch_bridge"])
def test_maths_modules_do_not_import_plotting(module):
    code = (f"import sys, {module}; "
            "print(','.join(m for m in ('matplotlib', 'ipywidgets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"{module} pulled in {out}"


@pytest.mark.parametrize("module", ["activations", "data", "nn", "diagnostics", "plots",
                                    "widgets", "environment", "torch_bridge", "tensorboard_logs"])
def test_public_functions_have_docstrings(module):
    mod = __import__(f"helpers.{module}", fromlist=["_"])
    # A package's public functions live in its files: helpers.plots.palette.colour, ...
    missing = [name for name, obj in vars(mod).items()
               if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
               and (obj.__module__ == mod.__name__
                    or obj.__module__.startswith(mod.__name__ + "."))
               and not inspect.getdoc(obj)]
    assert not missing, f"no docstring: {missing}"


@pytest.mark.parametrize("module", ["helpers.torch_bridge", "helpers.tensorboard_logs"])
def test_optional_heavy_packages_are_imported_lazily(module):
    """Chapters 0-6 never pay for torch or tensorboard: importing the bridge loads neither."""
    code = (f"import sys, {module}; "
            "print(','.join(m for m in ('torch', 'tensorboard') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"{module} pulled in {out}"
