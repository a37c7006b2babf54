"""Install footprint: size and time of a fresh venv from requirements.txt.

    python benchmarks/install.py                # the course's stack
    python benchmarks/install.py --tensorflow   # also the TensorFlow stack, for comparison

Creates throw-away venvs in a temporary folder with the Python running this script.
The pip cache is warmed by a first install, then the timed install runs from the
warm cache, as a student's second `make lab` on a new machine would not, but as CI and
a classroom image build do. The size is measured right after installing (installed
with --no-compile, as the Makefile does: Python compiles each module when it is
first imported) and again after the course's imports have run once. Target: < 400 MB
(TensorBoard, for chapter 7, is part of the runtime; PyTorch is an optional extra, not counted).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_USE = ("import helpers.plots, helpers.widgets, helpers.nn, ipykernel.kernelapp, "
             "jupyterlab.labapp, jupyter_server.serverapp, helpers.tensorboard_logs, "
             "tensorboard.summary.writer.event_file_writer, tensorboard.program")
# The stack the classic Keras tutorials use, next to the same notebook front end.
TENSORFLOW_STACK = ["tensorflow", "numpy==2.4.6", "matplotlib==3.11.2", "ipywidgets==8.1.9",
                    "jupyterlab==4.6.6", "ipykernel==7.4.0"]


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def install(venv: Path, args: list[str]) -> float:
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    start = time.perf_counter()
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile",
                    *args], cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(label: str, args: list[str], tmp: Path, first_use: str | None) -> None:
    venv = tmp / "venv"
    install(venv, args)  # warm the pip cache
    seconds = install(venv, args)
    fresh = size_mb(venv)
    line = f"{label:<34}{seconds:>10.1f}{fresh:>12.0f}"
    if first_use:
        # Python writes its bytecode caches on first import, unless told not to.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([str(venv / "bin" / "python"), "-c", first_use], check=True,
                       capture_output=True, env=env)
        line += f"{size_mb(venv):>16.0f}"
    print(line, flush=True)
    shutil.rmtree(venv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tensorflow", action="store_true",
                        help="also measure the TensorFlow stack (a large download)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; sizes in MB; install time from a warm pip cache\n")
    print(f"{'stack':<34}{'install s':>10}{'fresh MB':>12}{'after first use':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        measure("course (requirements.txt)", ["-r", "requirements.txt"], Path(tmp), FIRST_USE)
        if args.tensorflow:
            measure("TensorFlow + the same notebook stack", TENSORFLOW_STACK, Path(tmp), None)
    print("\ntarget: the course's fresh venv under 400 MB")


if __name__ == "__main__":
    main()
