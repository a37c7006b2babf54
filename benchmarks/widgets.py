"""Control change -> updated widget image, timed inside a real IPython kernel (inline backend).

For each explorer: the median time from ``slider.value = v`` until the explorer's Image
widget holds the new PNG, next to a naive full re-plot in the same kernel (a new
``plt.subplots(1, 2)`` figure, two lines, displayed through the inline backend, closed).
Run from the repository root: ``python benchmarks/widgets.py``.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 7

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

    def timed(explorer, control, values):
        times = []
        for v in values:
            before = explorer.image.value
            t = time.perf_counter()
            explorer.controls[control].value = v
            times.append(time.perf_counter() - t)
            assert explorer.image.value != before, (control, v)
        return statistics.median(times)

    cases = [
        ("activation_explorer", lambda: widgets.activation_explorer(["tanh", "elu"]), "elu_alpha",
         [0.5, 1.5]),
        ("neuron_explorer", widgets.neuron_explorer, "b", [1.0, -2.0]),
        ("softmax_explorer", widgets.softmax_explorer, "z0", [3.0, -1.0]),
        ("gradient_flow_explorer", widgets.gradient_flow_explorer, "init_scale", [0.5, 2.0]),
        ("dead_relu_explorer", widgets.dead_relu_explorer, "bias_init", [-1.0, 0.5]),
        ("playground (reset)", widgets.playground, "width", [4, 6]),
    ]
    naive()  # warm up fonts and the PNG path
    results = []
    for name, make, control, values in cases:
        e = make()
        ms = timed(e, control, values * (REPEATS // 2 + 1)) * 1000
        results.append({"name": name, "ms": ms,
                        "naive": statistics.median(naive() for _ in range(REPEATS)) * 1000})
    p = widgets.playground("circles", epochs=200)
    t = time.perf_counter(); p.train(); train_ms = (time.perf_counter() - t) * 1000
    print("RESULT" + json.dumps({"rows": results, "train_ms": train_ms}))
    """
).replace("REPEATS", str(REPEATS))

# Every explorer at most half a naive re-plot (the plots/widgets issue). The performance
# issue allows 1.0x for the two that compute on each change; they now meet 0.5x as well.
TARGETS = {}


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
        reply = kc.execute_interactive(KERNEL_CODE, timeout=600, output_hook=hook)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    if reply["content"]["status"] != "ok":
        sys.exit("benchmark failed in the kernel:\n" + "".join(err))
    line = next(s for s in "".join(out).splitlines() if s.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def main() -> None:
    result = run()
    print(f"{'explorer':<26} {'median ms':>10} {'naive ms':>9} {'ratio':>6} {'target':>7}  ok")
    failed = False
    for row in result["rows"]:
        target = TARGETS.get(row["name"], 0.5)
        ratio = row["ms"] / row["naive"]
        ok = ratio <= target
        failed |= not ok
        print(f"{row['name']:<26} {row['ms']:>10.1f} {row['naive']:>9.1f} {ratio:>6.2f} "
              f"{'<= ' + format(target, 'g'):>7}  {'yes' if ok else 'NO'}")
    print(f"playground: Train, 200 epochs on circles (progress bar included): "
          f"{result['train_ms']:.0f} ms")
    print("(a playground reset builds a new network and its data, then redraws)")
    if failed:
        print("some explorers missed their target")


if __name__ == "__main__":
    main()
