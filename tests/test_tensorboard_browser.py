"""TensorBoard over a course run, in headless Chromium: directly, and through JupyterLab's proxy.

A numpy run (``tensorboard_logs.fit_and_log``) and, with the torch extra, a PyTorch run
(``torch_bridge.Recorder``) are written to a temporary log folder; TensorBoard is started on
127.0.0.1 with ``tensorboard_logs.start``; Chromium opens TensorBoard's own UI and must find the
runs' scalar and histogram tags there. The second test serves the same TensorBoard through
``jupyter-server-proxy`` inside a JupyterLab server, at ``/proxy/<port>/``, as Binder does.
Screenshots go to ``$BROWSER_ARTIFACTS`` (default ``build/browser-screenshots``).

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
import browser_support as bs  # noqa: E402

from helpers import data, nn, tensorboard_logs, torch_bridge  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
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
