"""Matplotlib's font cache for the sandbox, built once outside it.

Matplotlib lists every font it can use in a cache file the first time it is imported; with
the CJK font (the course labels figures in Chinese too) a cold build takes many seconds. The
sandbox's home is a fresh tmpfs at every run, so the grader builds the cache once, here, with
the same Python and the same fonts the sandbox sees (``/usr/share/fonts`` and matplotlib's
own; nothing from a home folder), and binds the file read-only into each sandbox. The cache
is kept per matplotlib version and set of font files, so a new font or a matplotlib upgrade
builds a new one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import tempfile
from importlib.metadata import version
from pathlib import Path

__all__ = ["fontlist"]

SYSTEM_FONTS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


def _font_files() -> list[str]:
    spec = importlib.util.find_spec("matplotlib")
    roots = [*SYSTEM_FONTS]
    if spec is not None and spec.submodule_search_locations:
        roots.append(Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts")
    found = []
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                found.append(f"{path}\t{st.st_size}\t{int(st.st_mtime)}")
    return sorted(found)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "activation-functions-grader"


def fontlist(python: Path) -> Path:
    """The font cache file (``fontlist-v*.json``) for ``python``'s matplotlib, built if needed."""
    key = hashlib.sha256("\n".join([version("matplotlib"), *_font_files()]).encode())
    folder = cache_root() / f"matplotlib-{version('matplotlib')}-{key.hexdigest()[:16]}"
    made = sorted(folder.glob("fontlist-v*.json"))
    if made:
        return made[0]
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    with tempfile.TemporaryDirectory(dir=folder) as build:
        home = Path(build) / "home"
        home.mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "MPLCONFIGDIR": build,
               "LANG": "C.UTF-8"}
        subprocess.run([str(python), "-I", "-c", "import matplotlib.font_manager"],
                       env=env, check=True, capture_output=True, timeout=600)
        built = sorted(Path(build).glob("fontlist-v*.json"))
        if not built:
            raise RuntimeError("matplotlib wrote no font cache")
        target = folder / built[0].name
        os.chmod(built[0], 0o644)
        os.replace(built[0], target)
    return target
