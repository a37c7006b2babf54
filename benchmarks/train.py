"""Training speed: helpers.nn against PyTorch (CPU) on the notebook-sized networks.

    python benchmarks/train.py

Trains each network full-batch with plain SGD for 300 epochs, once with
``helpers.nn.MLP.fit`` (its per-epoch diagnostics on, as in the notebooks) and,
when PyTorch is installed (`pip install -e ".[bench]"`), with the same network,
the same data and the same loop in PyTorch, in this one process, interleaved.
Prints the median of 7 runs for each, the share of ``fit``'s time spent recording
its diagnostics, and the median of the per-run ratios. There is no speed target any more:
helpers/nn.py is written to read like the chapters' maths, and these figures say what that
costs.
"""

from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np

from helpers import data, nn

EPOCHS = 300
REPEATS = 7
CASES = [
    # (label, sizes, activation, output, dataset, n points): the networks the chapters train
    ("2-16-16-1 tanh, 512 pts", [2, 16, 16, 1], "tanh", "sigmoid", "moons", 512),
    ("2-8-1 relu, 200 pts (xor)", [2, 8, 1], "relu", "sigmoid", "xor", 200),
    ("2-16-16-3 softmax, 300 pts (ch4)", [2, 16, 16, 3], "tanh", "softmax", "spirals", 300),
    ("8 x 16 sigmoid, 200 pts (ch2)", [2] + [16] * 8 + [1], "sigmoid", "sigmoid", "moons", 200),
    # Larger than any chapter's, to show where the advantage fades.
    ("8 x 32 sigmoid, 256 pts (larger)", [2] + [32] * 8 + [1], "sigmoid", "sigmoid", "circles",
     256),
]


def dataset(name: str, n: int):
    return data.load(name, n=n, seed=0)


def time_helpers(sizes, activation, output, X, y) -> tuple[float, float]:
    """Wall time of ``fit``, and the share of it spent recording the diagnostics."""
    net = nn.MLP(sizes, activation=activation, output=output, seed=0)
    spent = [0.0]
    record = net._record

    def timed_record(*args):
        t0 = time.perf_counter()
        record(*args)
        spent[0] += time.perf_counter() - t0

    net._record = timed_record
    start = time.perf_counter()
    net.fit(X, y, epochs=EPOCHS, lr=0.1)
    total = time.perf_counter() - start
    return total, spent[0] / total


def time_torch(torch, sizes, activation, output, X, y) -> float:
    torch.manual_seed(0)
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}[activation]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out, dtype=torch.float64))
        if i < len(sizes) - 2:
            layers.append(act())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.BCEWithLogitsLoss() if output == "sigmoid" else torch.nn.CrossEntropyLoss()
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(float)[:, None]) if output == "sigmoid" else torch.from_numpy(y)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    start = time.perf_counter()
    for _ in range(EPOCHS + 1):  # fit evaluates epochs + 1 times (before training, too)
        opt.zero_grad()
        loss = loss_fn(model(Xt), yt)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def main() -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}"
          + (f", torch {torch.__version__} (1 thread)" if torch else ", torch not installed"))
    print(f"{EPOCHS} full-batch SGD epochs, median of {REPEATS} runs\n")
    header = (f"{'network':<34}{'helpers.nn ms':>15}{'diagnostics':>13}{'torch ms':>11}"
              f"{'speed-up':>10}")
    print(header)
    print("-" * len(header))
    for label, sizes, activation, output, name, n in CASES:
        X, y = dataset(name, n)
        # Interleave the two so a burst of load on a shared machine hits both alike.
        ours, shares, theirs = [], [], []
        for _ in range(REPEATS):
            seconds, share = time_helpers(sizes, activation, output, X, y)
            ours.append(seconds)
            shares.append(share)
            if torch is not None:
                theirs.append(time_torch(torch, sizes, activation, output, X, y))
        line = (f"{label:<34}{statistics.median(ours) * 1e3:>15.1f}"
                f"{statistics.median(shares):>12.0%} ")
        if theirs:
            ratio = statistics.median(t / o for t, o in zip(theirs, ours))
            line += f"{statistics.median(theirs) * 1e3:>11.1f}{ratio:>9.1f}x"
        print(line)

if __name__ == "__main__":
    main()
