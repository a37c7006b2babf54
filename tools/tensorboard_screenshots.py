"""Screenshots of TensorBoard's Scalars and Histograms tabs with chapter 7's two runs.

    python tools/tensorboard_screenshots.py              # docs/tensorboard_scalars.png and
                                                         # docs/tensorboard_histograms.png
    python tools/tensorboard_screenshots.py --out DIR    # the same pictures in DIR

It writes the chapter's two runs as the notebook does (section 4: ``numpy_tanh`` with
``tensorboard_logs.fit_and_log``, ``torch_tanh`` with ``torch_bridge.Recorder``; same data,
weights, epochs and learning rate) into a temporary ``runs/ch07`` folder, starts the real
TensorBoard on 127.0.0.1 on it, opens each tab in headless Chromium (Debian's /usr/bin/chromium
through playwright, as the browser tests do) and saves a screenshot. Each PNG carries, in a text
chunk (``tensorboard-shows``), what the page showed inside the picture, read from the page
itself: the selected tab, the runs listed and whether they are ticked, the charts in view, the tag
filter and the options ticked (and, for Histograms, the steps the server serves per run and
tag: every one the page stacks).
``tests/test_tensorboard_browser.py`` makes the pictures again and checks the committed ones
still show the same. Needs the torch extra, playwright and Chromium.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `helpers` importable
    sys.path.insert(0, str(ROOT))

from helpers import data, nn, tensorboard_logs, torch_bridge  # noqa: E402

DOCS = ROOT / "docs"
LOGDIR = "runs/ch07"  # as the notebook's RUNS; relative, so the page shows it this way
VIEWPORT = {"width": 1200, "height": 720}
KEY = "tensorboard-shows"  # the PNG text chunk that says what the picture shows
TIMEOUT_MS = 60_000

# The chapter's runs (notebooks/07_tensorboard_and_pytorch.ipynb, section 4).
SEED, EPOCHS, LR = 0, 200, 0.5
RUNS = ("numpy_tanh", "torch_tanh")

# One picture per tab (TensorBoard itself opens on Time Series). A tag filter, a regular
# expression typed in the tab's search box, brings the charts the chapter talks about into
# view (the chapter names it); smoothing 0 draws the recorded values themselves. The option
# "Ignore outliers in chart scaling" (on by default, kept in the browser's local storage) is
# switched off, so that each axis holds the whole curve, the first epochs too.
STORAGE = {"_ignoreYOutliers": "false"}
VIEWS = {
    "scalars": {
        "file": "tensorboard_scalars.png",
        "filter": "^loss$|^grad_norm",
        "options": "&_smoothingWeight=0",
        "tags": ("grad_norm/1_hidden_1_tanh", "grad_norm/2_hidden_2_tanh",
                 "grad_norm/3_output_sigmoid", "loss"),
    },
    "histograms": {
        "file": "tensorboard_histograms.png",
        "filter": "2_hidden_2_tanh",
        "options": "",
        "tags": ("activations/2_hidden_2_tanh", "weights/2_hidden_2_tanh"),
    },
}


def view_hash(name: str) -> str:
    """The address (after #) that opens a tab with its filter and options."""
    view = VIEWS[name]
    return f"#{name}&tagFilter={urllib.parse.quote(view['filter'], safe='')}{view['options']}"

# What the page shows inside the viewport, read from its DOM (TensorBoard's dashboards live in
# shadow roots, so the walk goes through them): the selected tab, the runs selector, the chart
# cards (their tag, their run badge where the tab draws one card per run, whether the whole card
# is in the picture), the selected x-axis, and each run's colour.
JS_SHOWS = r"""
() => {
  const W = window.innerWidth, H = window.innerHeight;
  const all = [];
  (function walk(node) {
    for (const c of node.children || []) {
      all.push(c);
      if (c.shadowRoot) walk(c.shadowRoot);
      walk(c);
    }
  })(document);
  const inView = el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < H && r.left < W
        && el.checkVisibility({visibilityProperty: true, opacityProperty: true});
  };
  // The chart card around a heading: the nearest tf-...-card or tf-...-loader element.
  const cardOf = el => {
    for (let e = el; e; e = e.parentElement || e.getRootNode().host) {
      if (/^TF-.*-(CARD|LOADER)$/.test(e.tagName)) return e;
    }
    return el;
  };
  const text = el => (el.innerText || el.textContent || '').trim();
  const has = (el, ...names) => names.every(n => el.classList && el.classList.contains(n));
  const tabs = all.filter(el => el.getAttribute('role') === 'tab' && inView(el));
  const selected = tabs.filter(el => el.getAttribute('aria-selected') === 'true').map(text);
  const runs = [], colours = {};
  for (const row of all.filter(el => has(el, 'name-row') && inView(el))) {
    const box = [...row.querySelectorAll('paper-checkbox')][0];
    const label = row.querySelector('.item-label-container');
    if (!box || !label) continue;
    runs.push([text(label), box.getAttribute('aria-checked') === 'true']);
    colours[text(label)] = getComputedStyle(box)
        .getPropertyValue('--paper-checkbox-checked-color').trim();
  }
  const charts = [];
  for (const name of all.filter(el => has(el, 'heading-label', 'name') && inView(el))) {
    const root = name.getRootNode();
    const badge = root.querySelector ? root.querySelector('.heading-label.run') : null;
    const card = cardOf(name);
    const r = card.getBoundingClientRect();
    charts.push({tag: text(name), run: badge && inView(badge) ? text(badge) : null,
                 card: card.tagName.toLowerCase(),
                 whole: r.top >= 0 && r.left >= 0 && r.bottom <= H && r.right <= W});
  }
  const axis = all.filter(el => el.tagName === 'PAPER-BUTTON' && has(el, 'selected') && inView(el))
      .map(el => text(el).toLowerCase()).filter(t => ['step', 'relative', 'wall'].includes(t));
  // The options ticked in the sidebar (Scalars: "Ignore outliers in chart scaling"...).
  const options = {};
  for (const box of all.filter(el => el.tagName === 'PAPER-CHECKBOX' && inView(el))) {
    const label = text(box);
    if (label && !box.closest('.name-row')) {
      options[label] = box.getAttribute('aria-checked') === 'true';
    }
  }
  // The tag filter: the text box of the tab's tf-tag-filterer.
  const inFilterer = el => {
    for (let e = el; e; e = e.parentElement || e.getRootNode().host) {
      if (e.tagName === 'TF-TAG-FILTERER') return true;
    }
    return false;
  };
  const filters = all.filter(el => el.tagName === 'INPUT' && inView(el) && inFilterer(el))
      .map(el => el.value);
  return {tab: selected, runs: runs, charts: charts, axis: axis, colours: colours,
          options: options, filter: filters};
}
"""


def write_chapter_runs(logdir: Path) -> dict:
    """Chapter 7's two runs, written as its section 4 writes them; returns their Histories."""
    torch = torch_bridge.require_torch()
    torch.set_num_threads(1)
    Xm, ym = data.moons(n=300, noise=0.25, seed=SEED)
    X_train, X_val, y_train, y_val = data.train_val_split(Xm, ym, val_fraction=0.3, seed=SEED)
    net_np = nn.MLP([2, 16, 16, 1], activation="tanh", output="sigmoid", seed=SEED)
    start_weights = net_np.copy()
    history_np = tensorboard_logs.fit_and_log(net_np, X_train, y_train, logdir / "numpy_tanh",
                                              epochs=EPOCHS, lr=LR, X_val=X_val, y_val=y_val)
    model_t = torch_bridge.from_mlp(start_weights)
    torch_run = torch_bridge.TorchNet(model_t, output="sigmoid")
    history_t = nn.History(EPOCHS, torch_run.layer_names(), history_np.snapshot_epochs)
    recorder = torch_bridge.Recorder(torch_run, history_t, loss="bce")
    for epoch in range(EPOCHS + 1):
        recorder.evaluate(epoch, X_train, y_train, X_val, y_val)
        if epoch < EPOCHS:
            with torch.no_grad():  # the chapter's sgd_step
                for p in model_t.parameters():
                    p -= LR * p.grad
    tensorboard_logs.write_history(history_t, logdir / "torch_tanh",
                                   recorder.activation_snapshots)
    return {"numpy_tanh": history_np, "torch_tanh": history_t}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tensorboard(workdir: Path, timeout: float = 90.0) -> tuple[subprocess.Popen, str]:
    """TensorBoard on ``workdir/runs/ch07`` (given relative, as a student types it), on
    127.0.0.1; returns the process and its address once it answers."""
    exe = Path(sys.executable).parent / "tensorboard"
    port = _free_port()
    log = (workdir / "tensorboard.log").open("wb")
    proc = subprocess.Popen(
        [str(exe) if exe.exists() else "tensorboard", "--logdir", LOGDIR, "--host", "127.0.0.1",
         "--port", str(port), "--reload_interval", "0", "--load_fast", "false"],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}data/runs", timeout=5) as resp:
                if sorted(json.loads(resp.read())) == sorted(RUNS):
                    return proc, url
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError("TensorBoard did not start: "
                       + (workdir / "tensorboard.log").read_text(errors="replace")[-3000:])


def stop(proc: subprocess.Popen) -> None:
    """End the TensorBoard this module started (terminate, then kill after 10 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def served_steps(url: str, view: dict) -> dict:
    """For the Histograms tab: the steps TensorBoard's server serves for each run and tag in
    view (every one the page stacks), as "run tag": [steps]."""
    steps = {}
    for run in RUNS:
        for tag in view["tags"]:
            query = urllib.parse.urlencode({"run": run, "tag": tag})
            with urllib.request.urlopen(f"{url}data/plugin/histograms/histograms?{query}",
                                        timeout=30) as resp:
                steps[f"{run} {tag}"] = [int(row[1]) for row in json.loads(resp.read())]
    return steps


def shoot(browser, url: str, name: str) -> tuple[bytes, dict]:
    """Open one tab with its filter, wait for its charts, return (PNG bytes, what it shows)."""
    view = VIEWS[name]
    page = browser.new_page(viewport=VIEWPORT)
    page.add_init_script("".join(f"window.localStorage.setItem({json.dumps(k)}, "
                                 f"{json.dumps(v)});" for k, v in STORAGE.items()))
    try:
        page.goto(url + view_hash(name), wait_until="domcontentloaded")
        for tag in view["tags"]:
            page.locator(".heading-label.name", has_text=tag).first.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        page.wait_for_timeout(1500)  # the charts draw after their data arrives
        png = page.screenshot()
        shows = page.evaluate(JS_SHOWS)
    finally:
        page.close()
    if name == "histograms":
        shows["served_steps"] = served_steps(url, view)
    return png, shows


def save(png: bytes, shows: dict, path: Path) -> None:
    """Write the screenshot with what it shows in its ``tensorboard-shows`` text chunk."""
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(KEY, json.dumps(shows, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(io.BytesIO(png)).convert("RGB").save(path, pnginfo=info, optimize=True)


def shows_of(path: Path) -> dict:
    """What a saved screenshot shows (its ``tensorboard-shows`` text chunk)."""
    from PIL import Image

    with Image.open(path) as im:
        if KEY not in getattr(im, "text", {}):
            raise ValueError(f"{path} has no {KEY!r} text chunk: it was not made by "
                             "tools/tensorboard_screenshots.py")
        return json.loads(im.text[KEY])


def make(out: Path, browser) -> dict:
    """Write the runs, start TensorBoard, save both screenshots into ``out``.

    Returns ``{"histories": {run: History}, "shots": {tab: (path, shows)}}``.
    """
    result = {"shots": {}}
    with tempfile.TemporaryDirectory(prefix="ch07-tensorboard-") as tmp:
        work = Path(tmp)
        result["histories"] = write_chapter_runs(work / LOGDIR)
        proc, url = start_tensorboard(work)
        try:
            for name, view in VIEWS.items():
                png, shows = shoot(browser, url, name)
                path = Path(out) / view["file"]
                save(png, shows, path)
                result["shots"][name] = (path, shows)
        finally:
            stop(proc)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS, help="folder for the PNGs (docs/)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests"))
    import browser_support  # the course's one Chromium launcher (tests/browser_support.py)

    def cannot(reason: str) -> None:
        raise SystemExit(f"cannot take the screenshots: {reason}")

    os.environ.setdefault("MPLBACKEND", "Agg")
    with browser_support.chromium(cannot) as browser:
        result = make(args.out, browser)
    for path, shows in result["shots"].values():
        print(f"{path}: {json.dumps(shows, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
