"""Every notebook in JupyterLab, in a real (headless) Chromium: what a student sees.

One JupyterLab server and one browser serve the whole module; each notebook gets its own page
and its own kernel (the current venv's ``python3``), shut down after its test. For each
notebook the test checks that the committed file opens without a widget error, runs all
cells through JupyterLab's own command, waits on the page's state (never a fixed sleep), and
asserts: every code cell executed, no error and nothing on stderr, every widget view rendered
(and each explorer's figure image present), no widget/model/comm error on the browser console.
A full-height screenshot of each notebook goes to ``$BROWSER_ARTIFACTS`` (default
``build/browser-screenshots``). One more test moves a slider of an explorer with the keyboard
and with the mouse and asserts the figure's PNG changed.

The browser is Debian's ``/usr/bin/chromium`` driven by the ``playwright`` Python package
(never playwright's own browser download). Without them the tests skip, saying how to install;
under CI (``CI=true``) a missing browser is a failure.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ has no __init__.py
import browser_support as bs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", ROOT / "build" / "browser-screenshots"))
VIEWPORT = {"width": 1400, "height": 900}
# Generous: the machine may be shared and slow. Override with BROWSER_RUN_TIMEOUT (seconds).
RUN_TIMEOUT = float(os.environ.get("BROWSER_RUN_TIMEOUT", "180"))
OPEN_TIMEOUT = 120.0
WIDGET_TIMEOUT = 60.0
MAX_SCREENSHOT_HEIGHT = 16000  # Chromium's limit for one capture is about 16384 px

WIDGET_ERROR_TEXT = re.compile(r"Error displaying widget|model not found", re.I)
# Console errors that point at the widgets machinery fail the test.
WIDGET_CONSOLE = re.compile(r"widget|model|comm\b|comm_|jupyter-widgets|ipywidgets", re.I)
# Console errors that are not about this course, each with why it is ignored:
IGNORED_CONSOLE = [
    # The browser asks for /favicon.ico on some pages; JupyterLab serves its own icon elsewhere.
    (re.compile(r"favicon", re.I), "favicon request: browser noise, not the course"),
]
# A notebook that uses the explorers must show at least one explorer figure.
USES_EXPLORERS = re.compile(r"from helpers import widgets|helpers\.widgets")

pytestmark = pytest.mark.browser


def _skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; under CI a missing prerequisite is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser test must not be skipped)")
    pytest.skip(reason)


@dataclass
class Console:
    """Everything the page said on its console, and its uncaught errors."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)

    def on_console(self, msg) -> None:
        text = f"{msg.text} ({msg.location.get('url', '')})" if msg.location else msg.text
        if msg.type == "error":
            for pattern, why in IGNORED_CONSOLE:
                if pattern.search(text):
                    self.ignored.append((text, why))
                    return
            self.errors.append(text)
        elif msg.type == "warning":
            self.warnings.append(text)

    def on_pageerror(self, err) -> None:
        self.errors.append(f"uncaught: {err}")

    def widget_errors(self) -> list[str]:
        return [e for e in self.errors if WIDGET_CONSOLE.search(e)]


@dataclass
class Timing:
    name: str
    open_s: float = 0.0
    run_s: float = 0.0
    total_s: float = 0.0
    screenshots: list[Path] = field(default_factory=list)


TIMINGS: list[Timing] = []


# ---------------------------------------------------------------------------------------------
# fixtures: one browser, one JupyterLab, one browser context for the module
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with bs.chromium(_skip_or_fail) as b:
        yield b


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory, request):
    home = tmp_path_factory.mktemp("jupyterlab")
    server = bs.start_lab(ROOT, home)
    try:
        spec = server.api("kernelspecs")["kernelspecs"]["python3"]["spec"]
        assert spec["argv"][0] == sys.executable, (
            f"the python3 kernel would run {spec['argv'][0]}, not this venv's {sys.executable}")
        # Trusted, as for the author: a stale widget view would render as its error message.
        server.trust(NOTEBOOKS)
        yield server
    finally:
        try:
            server.shutdown_all_sessions()
        finally:
            server.stop()
        _report_timings(request)


@pytest.fixture(scope="module")
def context(browser, lab):
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


def _report_timings(request) -> None:
    if not TIMINGS:
        return
    lines = [f"browser test: per-notebook times (screenshots in {ARTIFACTS})"]
    for t in TIMINGS:
        lines.append(f"  {t.name:<45} open {t.open_s:5.1f} s  run {t.run_s:5.1f} s  "
                     f"total {t.total_s:5.1f} s  {' '.join(p.name for p in t.screenshots)}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "times.txt").write_text("\n".join(lines) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # fixture teardown runs under capture
            reporter.write_line("")
            for line in lines:
                reporter.write_line(line)


# ---------------------------------------------------------------------------------------------
# page helpers
# ---------------------------------------------------------------------------------------------


def _state(page) -> dict:
    from playwright.sync_api import Error as PlaywrightError

    try:
        return page.evaluate(bs.JS_STATE)
    except PlaywrightError as err:  # e.g. a navigation in progress
        return {"stage": f"evaluate failed: {str(err)[:200]}"}


def _summary(state: dict) -> str:
    if state.get("stage") != "ready":
        return str(state.get("stage"))
    cells = state["cells"]
    prompts = "".join(c["prompt"] or "?" for c in cells)
    return (f"kernel {state['kernelName']} {state['status']}/{state['connection']}, "
            f"{sum(c['count'] is not None for c in cells)}/{len(cells)} code cells executed, "
            f"prompts {prompts}, run-all error {state['runAllError']}")


def _wait_state(page, done, timeout: float, what: str, settle: int = 1) -> dict:
    """Poll the page until ``done(state)`` holds ``settle`` times in a row."""
    deadline = time.monotonic() + timeout
    streak = 0
    while True:
        state = _state(page)
        streak = streak + 1 if done(state) else 0
        if streak >= settle:
            return state
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f} s waiting for {what}; last: {_summary(state)}")
        page.wait_for_timeout(250)


def _opened(state: dict) -> bool:
    return (state.get("stage") == "ready" and state["contextReady"] and state["sessionReady"]
            and state["status"] == "idle" and state["connection"] == "connected")


def _run_finished(state: dict) -> bool:
    if state.get("stage") != "ready" or state["status"] != "idle":
        return False
    cells = state["cells"]
    if any(c["prompt"] == "[*]:" for c in cells):
        return False
    errored = any(o["type"] == "error" for c in cells for o in c["outs"])
    return all(c["count"] is not None for c in cells) or errored or bool(state["runAllError"])


def _widget_views(cell: dict) -> int:
    return sum("application/vnd.jupyter.widget-view+json" in o["mimes"] for o in cell["outs"])


def _widgets_settled(state: dict) -> bool:
    return all(c["widgetOutputs"] >= _widget_views(c) for c in state["cells"])


def _stored_views_settled(state: dict) -> bool:
    """Every stored widget view is either drawn or shows its error."""
    return all(c["widgetOutputs"] + c["widgetErrorViews"] >= _widget_views(c)
               for c in state["cells"])


def _widget_error_cells(state: dict) -> list[str]:
    """Cells whose outputs show a widget error: "Error displaying widget", "model not found",
    or ipywidgets' error view for a view class that failed to load."""
    return [f"cell {c['index']} ({c['source'][:60]!r}): {c['widgetErrorViews']} widget "
            f"error(s) shown: {c['outputText'][:200]!r}"
            for c in state["cells"] if c["widgetErrorViews"]
            or WIDGET_ERROR_TEXT.search(c["outputText"])]


def _open_notebook(context, lab, rel: str, console: Console):
    """A new page on the notebook, its kernel started and idle."""
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_pageerror)
    page.goto(lab.url(f"lab/tree/{rel}", reset=""), wait_until="domcontentloaded")
    state = _wait_state(page, _opened, OPEN_TIMEOUT, f"{rel} to open with an idle kernel")
    assert state["path"] == rel, f"JupyterLab shows {state['path']}, expected {rel}"
    page.evaluate(bs.JS_COLLAPSE_SIDES)
    return page, state


def _run_all(page, rel: str) -> dict:
    page.evaluate(bs.JS_RUN_ALL)
    # The kernel is idle for a moment between cells: require two idle polls in a row.
    return _wait_state(page, _run_finished, RUN_TIMEOUT, f"{rel}: run all cells", settle=2)


def _screenshot(page, name: str) -> list[Path]:
    """The whole notebook: one tall picture, or several parts when it is taller than Chromium
    can capture at once (``NAME.png``, ``NAME-part2.png``, ...)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-part*.png"):
        old.unlink()
    height = page.evaluate(bs.JS_NOTEBOOK_HEIGHT)
    chrome = 200  # menu, tab bar, toolbar and status bar around the notebook
    # The notebook scrolls inside its panel: make the window as tall as the notebook.
    tall = max(VIEWPORT["height"], min(height + chrome, MAX_SCREENSHOT_HEIGHT))
    page.set_viewport_size({"width": VIEWPORT["width"], "height": tall})
    paths = []
    try:
        step = tall - chrome - 100  # parts overlap a little
        y = 0
        while True:
            page.evaluate(bs.JS_SCROLL_TO, y)
            path = ARTIFACTS / (f"{name}.png" if not paths else f"{name}-part{len(paths) + 1}.png")
            page.screenshot(path=str(path))
            paths.append(path)
            y += step
            if y + (tall - chrome) >= height + step or len(paths) >= 20:
                break
    finally:
        page.set_viewport_size(VIEWPORT)
    return paths


def _close(page, lab) -> None:
    """Close the page and shut its kernel down, so kernels do not pile up."""
    try:
        page.close()
    finally:
        lab.shutdown_all_sessions()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/*.ipynb found"


def _run_notebook_in_lab(notebook: Path, lab, context) -> dict:
    """Open ``notebook`` (under ROOT) in JupyterLab, run all cells, check what a student sees.

    Asserts: no stale widget view before running; every code cell ran, without an error or
    stderr; every widget view rendered (and an explorer's figure where explorers are used);
    no widget error on the browser console. Returns the page's final state.
    """
    rel = notebook.relative_to(ROOT).as_posix()
    timing = Timing(notebook.stem)
    console = Console()
    t0 = time.monotonic()
    page, state = _open_notebook(context, lab, rel, console)
    try:
        timing.open_s = time.monotonic() - t0
        assert state["kernelName"] == "python3", f"kernel {state['kernelName']}, not python3"

        # The committed notebook, before anything runs: no stale widget view. A stored view
        # shows its error only once the widget manager has given up on its model: wait for that.
        if any(_widget_views(c) for c in state["cells"]):
            try:
                state = _wait_state(page, _stored_views_settled, WIDGET_TIMEOUT,
                                    f"{rel}: stored widget views to render or fail")
            except AssertionError:
                state = _state(page)
        stale = _widget_error_cells(state) + [
            f"cell {c['index']} ({c['source'][:60]!r}) stores {_widget_views(c)} widget view(s) "
            f"(the page shows {c['outputText'][:80]!r}); strip them with tools/execute_notebooks.py"
            for c in state["cells"] if _widget_views(c)]
        assert not stale, f"{rel} before running anything:\n" + "\n".join(stale)

        t1 = time.monotonic()
        state = _run_all(page, rel)
        timing.run_s = time.monotonic() - t1
        cells = state["cells"]
        problems = []
        for c in cells:
            where = f"cell {c['index']} ({c['source'][:60]!r})"
            for o in c["outs"]:
                if o["type"] == "error":
                    problems.append(f"{where} raised {o['text']}")
                elif o["type"] == "stream" and o["name"] == "stderr":
                    problems.append(f"{where} wrote to stderr: {o['text'][:1500]}")
            if c["errorNodes"]:
                problems.append(f"{where} shows an error output")
            if c["count"] is None:
                problems.append(f"{where} did not execute (prompt {c['prompt']})")
        assert not problems, f"{rel}:\n" + "\n".join(problems)
        assert state["runAllError"] is None, f"run-all failed: {state['runAllError']}"

        # Widget views arrive over the comm after the kernel went idle: wait for them.
        try:
            state = _wait_state(page, _widgets_settled, WIDGET_TIMEOUT, f"{rel}: widget views")
        except AssertionError:
            state = _state(page)
        missing = []
        for c in state["cells"]:
            views = _widget_views(c)
            if c["widgetOutputs"] < views:
                missing.append(f"cell {c['index']} ({c['source'][:60]!r}): "
                               f"{c['widgetOutputs']} of {views} widget views rendered")
        missing += _widget_error_cells(state)
        assert not missing, f"{rel}: widgets not rendered:\n" + "\n".join(missing)

        if USES_EXPLORERS.search(notebook.read_text(encoding="utf-8")):
            state = _wait_state(page, lambda s: sum(c["widgetImages"] for c in s["cells"]) > 0,
                                WIDGET_TIMEOUT, f"{rel}: an explorer's figure image")
            assert sum(c["widgetOutputs"] for c in state["cells"]) > 0

        timing.screenshots = _screenshot(page, notebook.stem)
        timing.total_s = time.monotonic() - t0
        print(f"{rel}: open {timing.open_s:.1f} s, run {timing.run_s:.1f} s, "
              f"total {timing.total_s:.1f} s; screenshots {[str(p) for p in timing.screenshots]}")
        if console.ignored:
            print("ignored console errors:", *(f"  {t} [{why}]" for t, why in console.ignored),
                  sep="\n")
        if console.errors:
            print("other console errors:", *console.errors, sep="\n  ")

        widget_console = console.widget_errors()
        assert not widget_console, f"{rel}: widget errors on the browser console:\n" + "\n".join(
            widget_console)
        return state
    finally:
        if not timing.screenshots:  # a failed run: keep what the page showed, for the log
            try:
                timing.screenshots = _screenshot(page, notebook.stem)
            except Exception as err:  # never hide the real failure behind this one
                print(f"no screenshot of {rel}: {err}")
        TIMINGS.append(timing)
        _close(page, lab)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(notebook: Path, lab, context):
    before_file = _digest(notebook)
    _run_notebook_in_lab(notebook, lab, context)
    assert _digest(notebook) == before_file, f"{notebook.name} was modified by running it"


# The student versions: the first chapter, and the capstone, whose later cells use the answers.
RELEASED_IN_LAB = ["ch01", "ch06"]


@pytest.fixture(scope="module")
def student_versions():
    """Student versions made by tools/assignments.py inside the Lab's root (build/, ignored)."""
    import importlib.util
    import subprocess

    if importlib.util.find_spec("nbgrader") is None:
        _skip_or_fail("nbgrader is not installed: pip install -e '.[instructor]'")
    course = ROOT / "build" / "browser-release"
    env = {**os.environ, "NBGRADER_COURSE_DIR": str(course)}
    made = subprocess.run([sys.executable, str(ROOT / "tools" / "assignments.py"), "generate",
                           "--only", *RELEASED_IN_LAB], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert made.returncode == 0, made.stdout + made.stderr
    return course / "release"


@pytest.mark.parametrize("assignment", RELEASED_IN_LAB)
def test_unanswered_student_version_runs_to_the_end_in_jupyterlab(assignment, student_versions,
                                                                   lab, context):
    (notebook,) = (student_versions / assignment).glob("*.ipynb")
    state = _run_notebook_in_lab(notebook, lab, context)  # every cell ran, none raised
    checks = [c for c in state["cells"] if re.match(r"ch\d\d\.check_", c["source"])]
    assert checks, "the student version has its check cells"
    for c in checks:
        assert "not answered yet" in c["outputText"], f"{c['source'][:60]}: {c['outputText']!r}"


def _slider_handle(explorer, label: str):
    """The lower handle of the slider called ``label`` in an explorer (or its first slider)."""
    sliders = explorer.locator(".widget-slider")
    named = sliders.filter(has=explorer.page.locator(".widget-label", has_text=label))
    slider = named.first if named.count() else sliders.first
    return slider, slider.locator(".noUi-handle").first


def _wait_for_new_figure(page, img, old: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        new = img.evaluate(bs.JS_IMAGE_DIGEST)
        if new and new != old:
            return new
        if time.monotonic() > deadline:
            raise AssertionError(f"the explorer's figure did not change within {timeout:.0f} s")
        page.wait_for_timeout(200)


def test_moving_a_slider_redraws_the_explorer(lab, context):
    rel = "notebooks/00_start_here.ipynb"
    if not (ROOT / rel).is_file():
        _skip_or_fail(f"{rel} does not exist")
    console = Console()
    page, _ = _open_notebook(context, lab, rel, console)
    try:
        state = _run_all(page, rel)
        assert all(c["count"] is not None for c in state["cells"]), _summary(state)
        # The activation explorer: the widget output that holds a figure image.
        explorer = page.locator(".jp-OutputArea-output").filter(
            has=page.locator("img.widget-image")).first
        img = explorer.locator("img.widget-image").first
        img.wait_for(state="visible", timeout=WIDGET_TIMEOUT * 1000)
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                               arg=img.element_handle(), timeout=WIDGET_TIMEOUT * 1000)
        # "x range" changes the axes, so the picture must change (the α sliders change only
        # activations that are not shown by default).
        slider, handle = _slider_handle(explorer, "x range")
        handle.scroll_into_view_if_needed()
        start_value = handle.get_attribute("aria-valuenow")
        first = img.evaluate(bs.JS_IMAGE_DIGEST)
        assert first, "the explorer's image has no picture"

        # 1. The keyboard: focus the handle, press the right arrow.
        handle.focus()
        for _ in range(3):
            handle.press("ArrowRight")
        second = _wait_for_new_figure(page, img, first)
        after_keys = handle.get_attribute("aria-valuenow")
        assert float(after_keys) > float(start_value), (start_value, after_keys)

        # 2. The mouse: drag the same handle further right.
        box = handle.bounding_box()
        assert box is not None, "the slider handle is not on screen"
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 30, y, steps=6)
        page.mouse.up()
        _wait_for_new_figure(page, img, second)
        assert float(handle.get_attribute("aria-valuenow")) > float(after_keys)

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        explorer.screenshot(path=str(ARTIFACTS / "00_start_here-explorer-after-slider.png"))
        widget_console = console.widget_errors()
        assert not widget_console, "widget errors on the browser console:\n" + "\n".join(
            widget_console)
    finally:
        _close(page, lab)


def test_missing_browser_message_names_the_install_commands():
    assert "apt-get install chromium" in bs.INSTALL_HINT
    assert "pip install playwright" in bs.INSTALL_HINT
