"""TensorBoard over a course run, in headless Chromium: directly, and through JupyterLab's proxy.

A numpy run (``tensorboard_logs.fit_and_log``) and, with the torch extra, a PyTorch run
(``torch_bridge.Recorder``) are written to a temporary log folder; TensorBoard is started on
127.0.0.1 with ``tensorboard_logs.start``; Chromium opens TensorBoard's own UI and must find the
runs' scalar and histogram tags there. The second test serves the same TensorBoard through
``jupyter-server-proxy`` inside a JupyterLab server, at ``/proxy/<port>/``, as Binder does.
Screenshots go to ``$BROWSER_ARTIFACTS`` (default ``build/browser-screenshots``).

The last tests make chapter 7's TensorBoard screenshots again with
``tools/tensorboard_screenshots.py`` (the chapter's two runs, the real TensorBoard) and check
what they show (the tab, both runs ticked, the tags' charts, the runs' colours drawn) and that
the committed ``docs/tensorboard_*.png`` still show the same: the same page contents, read from
the page, and the same picture at a coarse scale (not pixel identity).

The browser is Debian's ``/usr/bin/chromium`` driven by the ``playwright`` package; without it
the tests skip, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ has no __init__.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import browser_support as bs  # noqa: E402
import tensorboard_screenshots as shots  # noqa: E402

from helpers import data, nn, tensorboard_logs, torch_bridge  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "07_tensorboard_and_pytorch.ipynb"
IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", ROOT / "build" / "browser-screenshots"))
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


def _skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the TensorBoard browser test must not be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    """Two course runs side by side: numpy, and PyTorch when the extra is installed."""
    root = tmp_path_factory.mktemp("tb") / "runs"
    X, y = data.moons(n=120, noise=0.2, seed=0)
    net = nn.MLP([2, 8, 8, 1], activation="tanh", output="sigmoid", seed=0)
    start = net.copy()
    tensorboard_logs.fit_and_log(net, X, y, root / "numpy_tanh", epochs=20, lr=0.5)
    if torch_bridge.available():
        import torch

        view = torch_bridge.TorchNet(torch_bridge.from_mlp(start), output="sigmoid")
        history = nn.History(20, view.layer_names(), np.unique(np.round(np.linspace(0, 20, 11))))
        recorder = torch_bridge.Recorder(view, history)
        optimizer = torch.optim.SGD(view.model.parameters(), lr=0.5)
        for epoch in range(21):
            recorder.evaluate(epoch, X, y)
            if epoch < 20:
                optimizer.step()
        tensorboard_logs.write_history(history, root / "torch_tanh",
                                       recorder.activation_snapshots)
    elif IN_CI:
        pytest.fail("torch is not installed: CI installs the torch extra")
    return root


@pytest.fixture(scope="module")
def tensorboard(logdir):
    server = tensorboard_logs.start(logdir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with bs.chromium(_skip_or_fail) as b:
        yield b


def expected_runs(logdir: Path) -> list[str]:
    return sorted(d.name for d in logdir.iterdir() if d.is_dir())


def find_tags(page, base_url: str, name: str) -> None:
    """Open the Scalars and Histograms dashboards and wait for the course's tags in the UI."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{base_url}#scalars", wait_until="domcontentloaded")
    # Tags are grouped by their prefix (grad_norm/..., dead/...); the group names and the
    # run names are on the page once TensorBoard has loaded the runs.
    for text in ("grad_norm", "update_ratio", "dead", "loss", "numpy_tanh"):
        page.get_by_text(text, exact=True).first.wait_for(timeout=TIMEOUT_MS)
    # Groups open by default; the card of each tag shows its full name.
    # Cards are drawn lazily: clicking the group's header brings it into view and draws them.
    page.get_by_text("grad_norm", exact=True).first.click()
    card = page.get_by_text("grad_norm/1_hidden_1_tanh").first
    card.wait_for(timeout=TIMEOUT_MS)
    card.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # let the charts draw before the picture
    page.screenshot(path=str(ARTIFACTS / f"tensorboard-{name}-scalars.png"))
    page.goto(f"{base_url}#histograms", wait_until="domcontentloaded")
    for text in ("weights", "activations"):
        page.get_by_text(text, exact=True).first.wait_for(timeout=TIMEOUT_MS)
    names = page.locator(".heading-label.name")
    names.first.wait_for(state="attached", timeout=TIMEOUT_MS)
    shown = set(names.all_inner_texts()) | {
        n.get_attribute("title") or "" for n in names.element_handles()}
    for tag in ("weights/1_hidden_1_tanh", "weights/2_hidden_2_tanh",
                "activations/2_hidden_2_tanh", "activations/3_output_sigmoid"):
        assert any(tag in t for t in shown) or page.get_by_text(tag).count(), tag
    page.get_by_text("activations", exact=True).first.scroll_into_view_if_needed()
    page.wait_for_timeout(2500)
    page.screenshot(path=str(ARTIFACTS / f"tensorboard-{name}-histograms.png"))


def test_tensorboard_shows_the_course_runs(browser, tensorboard, logdir):
    with urllib.request.urlopen(f"{tensorboard.url}data/runs", timeout=30) as resp:
        assert sorted(json.loads(resp.read())) == expected_runs(logdir)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    try:
        find_tags(page, tensorboard.url, "direct")
        for run in expected_runs(logdir):  # the runs selector lists every run
            assert page.get_by_text(run, exact=True).count() > 0, run
    finally:
        page.close()
    assert not errors, errors


def test_tensorboard_through_jupyter_server_proxy(browser, tensorboard, logdir, tmp_path):
    """What Binder does: TensorBoard reached at <notebook server>/proxy/<port>/."""
    if importlib.util.find_spec("jupyter_server_proxy") is None:
        _skip_or_fail("jupyter-server-proxy is not installed (pip install -e '.[test]')")
    lab = bs.start_lab(ROOT, tmp_path / "home")
    try:
        proxied = f"{lab.base}/proxy/{tensorboard.port}/"
        req = urllib.request.Request(f"{proxied}data/runs",
                                     headers={"Authorization": f"token {lab.token}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert sorted(json.loads(resp.read())) == expected_runs(logdir)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        # Logging in once with the token sets the server's cookie for the proxied requests.
        page.goto(lab.url("lab"), wait_until="domcontentloaded")
        find_tags(page, proxied, "proxy")
        assert page.url.startswith(proxied)
        context.close()
    finally:
        lab.stop()
        bs.cleanup(tmp_path / "home")


# ------------------------------------------------------------------------------------------
# Chapter 7's screenshots (docs/tensorboard_*.png), made by tools/tensorboard_screenshots.py
# ------------------------------------------------------------------------------------------

REGENERATE = "regenerate them: .venv/bin/python tools/tensorboard_screenshots.py"
# What each picture must show: every chart of the chapter's tags, whole, for both runs (the
# Scalars tab draws the runs in one chart, the Histograms tab one card per run).
EXPECTED_CHARTS = {
    "scalars": {(tag, None) for tag in shots.VIEWS["scalars"]["tags"]},
    "histograms": {(tag, run) for tag in shots.VIEWS["histograms"]["tags"] for run in shots.RUNS},
}
THUMB = (120, 72)  # the coarse scale at which a committed picture must match a fresh one


@pytest.fixture(scope="module")
def fresh_shots(browser, tmp_path_factory):
    """The chapter's screenshots made now, by the tool, from the real TensorBoard."""
    if not torch_bridge.available():
        _skip_or_fail("the chapter's PyTorch run needs the torch extra (pip install -e '.[torch]')")
    result = shots.make(tmp_path_factory.mktemp("chapter7-shots"), browser)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for path, _ in result["shots"].values():  # next to the other screenshots, to look at
        (ARTIFACTS / f"fresh-{path.name}").write_bytes(path.read_bytes())
    return result


def colour_pixels(path: Path, colour: str, tolerance: int = 8) -> int:
    """How many pixels right of the sidebar and below the header have this colour (#rrggbb)."""
    from PIL import Image

    rgb = np.array([int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)])
    with Image.open(path) as im:
        pixels = np.asarray(im.convert("RGB"), dtype=int)[70:, 300:]
    return int(np.sum(np.all(np.abs(pixels - rgb) <= tolerance, axis=2)))


def check_shows(name: str, path: Path) -> None:
    """The picture at ``path`` shows tab ``name`` with the chapter's runs and charts."""
    shows = shots.shows_of(path)
    assert shows["tab"] == [name.upper()], (path, shows["tab"])
    assert shows["runs"] == [[run, True] for run in shots.RUNS], (path, shows["runs"])
    charts = {(c["tag"], c["run"]) for c in shows["charts"] if c["whole"]}
    assert charts == EXPECTED_CHARTS[name], (path, charts)
    assert shows["axis"] == ["step"], (path, shows["axis"])
    # the tag filter the chapter names, and no outliers left out of the charts' scales
    assert shows["filter"] == [shots.VIEWS[name]["filter"]], (path, shows["filter"])
    if name == "scalars":
        assert shows["options"].get("Ignore outliers in chart scaling") is False, (path, shows)
    else:  # every snapshot epoch is stacked, for each run and tag in view
        assert shows["served_steps"] == {f"{run} {tag}": list(range(0, 201, 20))
                                         for run in shots.RUNS
                                         for tag in shots.VIEWS[name]["tags"]}, path
    # The pixels too: the runs' colours are drawn in the charts. In Scalars the two runs'
    # curves coincide, so one covers the other; in Histograms each run has its own cards.
    drawn = {run: colour_pixels(path, shows["colours"][run]) for run in shots.RUNS}
    if name == "histograms":
        assert all(n > 1000 for n in drawn.values()), (path, drawn)
    else:
        assert sum(drawn.values()) > 300, (path, drawn)


def test_chapter_screenshots_show_the_runs_and_tags(fresh_shots):
    for name, (path, _) in fresh_shots["shots"].items():
        check_shows(name, path)


def test_chapter_screenshots_use_the_chapters_runs(fresh_shots):
    """The tool trains what the chapter trains: its numpy run prints the chapter's checked
    line, and its PyTorch run is the same run."""
    h, t = fresh_shots["histories"]["numpy_tanh"], fresh_shots["histories"]["torch_tanh"]
    line = (f"numpy run: loss {h.loss[0]:.3f} -> {h.loss[-1]:.3f}, validation loss "
            f"{h.val_loss[0]:.3f} -> {h.val_loss[-1]:.3f}, validation accuracy "
            f"{h.val_accuracy[-1]:.0%}")
    printed = "".join("".join(o.get("text", "")) for c in json.loads(CHAPTER.read_text())["cells"]
                      if c["cell_type"] == "code" for o in c["outputs"])
    assert line in printed, f"the tool's run is not the chapter's: {line!r}"
    assert np.max(np.abs(t.loss - h.loss)) < 1e-12
    assert np.max(np.abs(t.grad_norm - h.grad_norm)) < 1e-12


def test_the_chapter_says_what_the_screenshots_show():
    """The chapter names the Scalars picture's tag filter and its unticked option, and says
    that TensorBoard opens on another tab (its markdown, next to the pictures)."""
    text = " ".join("".join(c["source"]) for c in json.loads(CHAPTER.read_text())["cells"]
                    if c["cell_type"] == "markdown")
    text = " ".join(text.split())
    assert f"`{shots.VIEWS['scalars']['filter']}`" in text
    assert "Ignore outliers in chart scaling" in text and "Time Series" in text
    for view in shots.VIEWS.values():
        assert f"../docs/{view['file']}" in text


def test_committed_chapter_screenshots_are_current(fresh_shots):
    """docs/tensorboard_*.png show what TensorBoard shows today: the same page contents and,
    at a coarse scale, the same picture (fonts and antialiasing may differ by a few pixels)."""
    from PIL import Image

    for name, (path, _) in fresh_shots["shots"].items():
        committed = shots.DOCS / shots.VIEWS[name]["file"]
        assert committed.is_file(), f"{committed} is missing; {REGENERATE}"
        check_shows(name, committed)
        assert shots.shows_of(committed) == shots.shows_of(path), (
            f"{committed.name} shows other page contents than TensorBoard shows now; {REGENERATE}")
        with Image.open(committed) as old, Image.open(path) as new:
            assert old.size == new.size, f"{committed.name}: {old.size} vs {new.size}; {REGENERATE}"
            a, b = (np.asarray(im.convert("L").resize(THUMB, Image.BOX), dtype=float)
                    for im in (old, new))
        changed = float(np.mean(np.abs(a - b) > 8))  # share of coarse cells that differ
        # A fresh run of the tool changes about 0.1 % of them; another learning rate, over 1 %.
        assert changed < 0.005, (f"{committed.name} differs from a fresh screenshot in "
                                 f"{changed:.1%} of its {THUMB[0]}x{THUMB[1]} cells; {REGENERATE}")
