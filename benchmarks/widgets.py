"""Control change -> updated widget image, timed inside a real IPython kernel (inline backend).

For each explorer, the session of control changes its chapter's "things to try" list asks for
(a slider dragged step by step, a dropdown switched) is timed, move by move, from
``control.value = v`` until the explorer's Image widget holds the new PNG. Next to each
explorer, in the same kernel and interleaved with it, a naive full re-plot is timed: a new
``plt.subplots(1, 2)`` figure with two lines, displayed through the inline backend, closed.

Targets (issue 25): every explorer's median update at most 50 ms AND at most 0.4x the naive
re-plot's median. Both are printed with a pass/fail; the script exits with status 1 if any
explorer misses one. The slowest control's median is printed too, so a slow control cannot
hide behind fast ones. Run from the repository root: ``python benchmarks/widgets.py``.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 50.0
TARGET_RATIO = 0.4

KERNEL_CODE = textwrap.dedent(
    """
    %matplotlib inline
    import json, statistics, time
    import matplotlib.pyplot as plt
    import numpy as np
    from IPython.display import display
    from helpers import widgets

    def naive():
        t = time.perf_counter()
        fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.3))
        x = np.linspace(-6, 6, 401)
        axes[0].plot(x, np.tanh(x))
        axes[1].plot(x, 1 - np.tanh(x) ** 2)
        display(fig)  # the inline backend's PNG path (bbox_inches="tight")
        plt.close(fig)
        return time.perf_counter() - t

    def steps(control, values):
        return [(control, v) for v in values]

    def scale(k):  # the init-scale slider moves in steps of 10**0.05
        return round(10 ** (0.05 * k), 12)

    # Each explorer as its chapter's "things to try" list moves it, a slider dragged step by
    # step (the explorer's value at each step), from the start its chapter gives it.
    cases = [
        ("activation_explorer", widgets.activation_explorer,  # chapter 0
         [("activations", ("tanh", "relu")), ("derivative", False), ("derivative", True),
          ("activations", ("leaky_relu",))]
         + steps("leaky_alpha", [0.05, 0.1, 0.15, 0.2, 0.25, 0.3])
         + [("activations", ("leaky_relu", "elu"))] + steps("elu_alpha", [0.5, 1.5, 2.0])
         + [("x_range", (-10.0, 10.0)), ("x_range", (-3.0, 3.0))]),
        ("neuron_explorer", lambda: widgets.neuron_explorer("sigmoid", 1.0, 0.0),  # chapter 1
         [("activation", "identity")] + steps("w", [2.0, 3.0, -1.0]) + steps("b", [2.0, -3.0])
         + [("activation", "sigmoid"), ("b", 0.0)] + steps("w", [0.5, 1.0, 2.0, 3.0, 5.0])
         + steps("w", [-1.0, -3.0]) + steps("b", [2.0, 4.0, -2.0])
         + [("activation", "tanh"), ("activation", "relu")]),
        ("softmax_explorer", lambda: widgets.softmax_explorer(3, [2.0, 1.0, 0.1]),  # chapter 4
         [("z0", 3.0), ("z1", 2.0), ("z2", 1.1)] + steps("temperature", [0.5, 0.2, 0.1])
         + steps("temperature", [1.0, 3.0, 10.0]) + [("temperature", 1.0), ("z1", 3.0)]
         + steps("z2", [-2.0, -4.0, -5.0])),
        ("gradient_flow_explorer",                                       # chapters 2 and 7
         lambda: widgets.gradient_flow_explorer("sigmoid", "xavier", 8, 16),
         steps("depth", [7, 6, 5, 4, 6, 8, 10, 8])
         + [("activation", "tanh"), ("activation", "relu"), ("init", "he"),
            ("activation", "tanh"), ("init", "normal"), ("init", "xavier")]
         + steps("init_scale", [scale(k) for k in (3, 6, 9, 10)])
         + steps("init_scale", [scale(k) for k in (0, -5, -10)])
         + [("activation", "sigmoid"), ("init_scale", scale(12)), ("activation", "tanh"),
            ("init", "normal"), ("init_scale", 1.0)] + steps("width", [32, 64, 128])
         + [("width", 16), ("init", "xavier"), ("init_scale", 10.0)]),
        ("dead_relu_explorer", widgets.dead_relu_explorer,                # chapter 3
         steps("lr", [0.71, 1.0, 1.41, 2.0, 2.82, 3.98, 5.62, 7.94, 10.0]) + [("lr", 0.5)]
         + steps("bias_init", [-0.5, -1.0, -1.5, -2.0, -2.5, -3.0])
         + steps("activation", ["leaky_relu", "elu", "gelu", "silu"])),
        ("playground (reset)", widgets.playground,                        # chapters 1, 5, 6
         [("activation", "identity"), ("hidden_layers", 4), ("width", 16),
          ("activation", "tanh"), ("activation", "relu"), ("dataset", "xor"),
          ("dataset", "circles"), ("dataset", "spirals"), ("hidden_layers", 1), ("width", 4),
          ("hidden_layers", 2), ("width", 8), ("activation", "sigmoid"), ("width", 2),
          ("width", 3), ("activation", "step")]),
    ]
    naive()  # warm up fonts and the PNG path
    results = []
    for name, make, moves in cases:
        e = make()
        times, by_control, naive_times = [], {}, []
        for control, value in moves:
            before = e.image.value
            t = time.perf_counter()
            e.controls[control].value = value
            dt = (time.perf_counter() - t) * 1000
            assert e.image.value != before, (name, control, value)
            times.append(dt)
            by_control.setdefault(control, []).append(dt)
            naive_times.append(naive() * 1000)  # interleaved: the same load on both
        results.append({"name": name, "ms": statistics.median(times),
                        "naive": statistics.median(naive_times), "moves": len(times),
                        "slowest": max((statistics.median(v), c) for c, v in by_control.items())})
    p = widgets.playground("circles", epochs=200)
    t = time.perf_counter(); p.train(); train_ms = (time.perf_counter() - t) * 1000
    print("RESULT" + json.dumps({"rows": results, "train_ms": train_ms}))
    """
)


def run() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.pop("MPLBACKEND", None)  # the kernel uses the inline backend, as JupyterLab does
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT), env=env)
    out, err = [], []

    def hook(msg):
        kind = msg["msg_type"]
        if kind == "stream":
            (out if msg["content"]["name"] == "stdout" else err).append(msg["content"]["text"])
        elif kind == "error":
            err.append("\n".join(msg["content"]["traceback"]))

    try:
        reply = kc.execute_interactive(KERNEL_CODE, timeout=900, output_hook=hook)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    if reply["content"]["status"] != "ok":
        sys.exit("benchmark failed in the kernel:\n" + "".join(err))
    line = next(s for s in "".join(out).splitlines() if s.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def main() -> None:
    result = run()
    print(f"{'explorer':<24} {'moves':>5} {'median ms':>9} {'<=50 ms':>7} {'naive ms':>8} "
          f"{'ratio':>5} {'<=0.4x':>6}  {'slowest control (median ms)':<30} result")
    failed = False
    for row in result["rows"]:
        ratio = row["ms"] / row["naive"]
        fast, light = row["ms"] <= TARGET_MS, ratio <= TARGET_RATIO
        failed |= not (fast and light)
        slow_ms, slow_control = row["slowest"]
        print(f"{row['name']:<24} {row['moves']:>5} {row['ms']:>9.1f} {'yes' if fast else 'NO':>7} "
              f"{row['naive']:>8.1f} {ratio:>5.2f} {'yes' if light else 'NO':>6}  "
              f"{f'{slow_control} ({slow_ms:.0f})':<30} {'pass' if fast and light else 'FAIL'}")
    print(f"playground: Train, 200 epochs on circles (progress bar included): "
          f"{result['train_ms']:.0f} ms")
    print("(each move sets one control to a new value; a playground move builds a new network "
          "and, for a new dataset, its data)")
    print("all explorers pass" if not failed else "some explorers missed a target")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
