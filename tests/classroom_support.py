"""Browser steps for tests/test_classroom.py: a person on the class's JupyterHub.

Each function does what a student or the instructor does with the mouse and keyboard (sign up,
log in, authorize, open the Assignments tab, fetch, edit a cell, save, submit, fetch feedback)
and waits on what the page shows (or polls it, bounded), never on a fixed sleep. Timeouts are
generous (the machine is shared) and every wait says what it waited for when it runs out.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

# A single-user server starts in ~20 s on an idle 2-core machine; allow for a busy one.
SPAWN_TIMEOUT_MS = 240_000
UI_TIMEOUT_MS = 90_000
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ UTC")


def sign_up(context, hub_url: str, username: str, password: str) -> str:
    """Fill in the hub's sign-up form; return the message the page shows."""
    page = context.new_page()
    try:
        page.goto(f"{hub_url}/hub/signup")
        page.fill("#username_input", username)
        page.fill("#password_input", password)
        page.fill("#password_confirmation_input", password)
        page.click("#signup_submit")
        alert = page.locator(".alert").last
        alert.wait_for(timeout=UI_TIMEOUT_MS)
        return alert.inner_text()
    finally:
        page.close()


def try_log_in(page, hub_url: str, username: str, password: str) -> None:
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", username)
    page.fill("#password_input", password)
    page.click("#login_submit")


def log_in(page, hub_url: str, username: str, password: str) -> None:
    """Log in and wait until the user's own JupyterLab (spawned by the hub) is on screen."""
    try_log_in(page, hub_url, username, password)
    try:
        page.wait_for_url(re.compile(rf"/user/{re.escape(username)}/lab"),
                          timeout=SPAWN_TIMEOUT_MS)
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(
            timeout=UI_TIMEOUT_MS)
    except Exception as err:
        raise AssertionError(f"{username} did not reach JupyterLab after logging in: {err}; "
                             f"the page at {page.url} says: "
                             f"{page.locator('body').inner_text()[:500]!r}") from err


def authorize(page, hub_url: str, username: str) -> str:
    """As the instructor: press "Authorize" for ``username`` on NativeAuthenticator's page;
    return that user's row afterwards."""
    page.goto(f"{hub_url}/hub/authorize")
    page.click(f'a[href$="/authorize/{username}"]:has-text("Authorize")')
    row = page.locator("tr", has_text=username)
    row.get_by_text("Unauthorize").wait_for(timeout=UI_TIMEOUT_MS)
    return row.inner_text()


def open_menu_item(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def open_assignments_tab(page) -> None:
    """Nbgrader > Assignment List, or bring its tab forward if it is open already."""
    tab = page.locator(".lm-TabBar-tab", has_text="Assignments")
    if tab.count():
        tab.first.click()
    else:
        open_menu_item(page, "Nbgrader", "Assignment List")
    page.locator("#released_assignments_list").wait_for(timeout=UI_TIMEOUT_MS)


def refresh_assignments(page) -> None:
    """The tab's refresh button: it lists the exchange again."""
    page.locator("#refresh_assignments_list").click()


def released(page, assignment: str) -> str:
    """Wait until the Released list has loaded and shows ``assignment``; return its text."""
    listing = page.locator("#released_assignments_list")
    try:
        listing.locator(".list_item", has_text=assignment).first.wait_for(
            timeout=UI_TIMEOUT_MS)
    except Exception as err:
        raise AssertionError(f"{assignment} is not listed as released; the list shows "
                             f"{listing.inner_text()!r}") from err
    return listing.inner_text()


def fetch(page, assignment: str) -> None:
    """Press Fetch on a released assignment; wait until it is listed as downloaded."""
    released(page, assignment)
    row = page.locator("#released_assignments_list .list_item", has_text=assignment)
    row.get_by_role("button", name="Fetch").click()
    page.locator("#fetched_assignments_list .list_item", has_text=assignment).first.wait_for(
        timeout=UI_TIMEOUT_MS)


def open_fetched_notebook(page, assignment: str, notebook: str) -> None:
    """Expand the downloaded assignment and click its notebook: JupyterLab opens it."""
    row = page.locator("#fetched_assignments_list > .list_item", has_text=assignment).first
    row.locator("a.assignment-notebooks-link").click()
    row.locator(".nested_list_item a", has_text=notebook).click()
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first.wait_for(
        timeout=UI_TIMEOUT_MS)
    page.locator(".lm-TabBar-tab.lm-mod-current", has_text=notebook).wait_for(
        timeout=UI_TIMEOUT_MS)


def replace_cell(page, starts_with: str, text: str) -> None:
    """Click into the code cell whose text begins with ``starts_with``, select all of it and
    type ``text`` in its place (inserted as typed text, so the editor's auto-indent and
    bracket closing do not rewrite it)."""
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    cell = notebook.locator(".jp-CodeCell").filter(
        has=page.locator(".cm-content", has_text=starts_with)).first
    cell.scroll_into_view_if_needed()
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    last_line = text.strip().splitlines()[-1].strip()
    deadline = time.monotonic() + 10
    while last_line not in editor.inner_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"the cell {starts_with!r} shows {editor.inner_text()!r} "
                                 f"after typing {text!r}")
        page.wait_for_timeout(100)


def save_and_wait(page, path: Path, expected: list[str], timeout: float = 30.0) -> None:
    """Ctrl+S in the notebook, then wait until the file on disk holds every ``expected``."""
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        missing = [e for e in expected if e not in text]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} lacks {missing} {timeout:.0f} s after Ctrl+S")
        page.wait_for_timeout(250)


def submitted_timestamps(page, assignment: str) -> list[str]:
    """The timestamps the Submitted list shows for ``assignment``, as listed."""
    row = page.locator("#submitted_assignments_list > .list_item", has_text=assignment)
    texts = row.locator(".nested_list_item .item_name").all_inner_texts()
    # Each reads "2026-12-01 08:10:34.904781 UTC", maybe followed by "(view feedback)".
    return [m.group(0) for t in texts if (m := TIMESTAMP.search(t))]


def submit(page, assignment: str) -> str:
    """Press Submit on the downloaded assignment; return the new submission's timestamp as
    the Submitted list shows it."""
    open_assignments_tab(page)
    before = submitted_timestamps(page, assignment)
    row = page.locator("#fetched_assignments_list > .list_item", has_text=assignment).first
    row.get_by_role("button", name="Submit").click()
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while True:
        new = [t for t in submitted_timestamps(page, assignment) if t not in before]
        if new:
            return new[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no new submission of {assignment} listed after Submit; "
                                 f"the tab shows {page.locator('#submitted_assignments_list')}"
                                 f".inner_text()")
        page.wait_for_timeout(250)


def fetch_feedback(page, assignment: str) -> str:
    """Refresh the tab until the submission says "(feedback available to fetch)", press Fetch
    Feedback, wait for "(view feedback)"; return what the Submitted list shows then."""
    open_assignments_tab(page)
    submitted = page.locator("#submitted_assignments_list")
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while "feedback available to fetch" not in submitted.inner_text():
        if time.monotonic() > deadline:
            raise AssertionError("no feedback listed as available to fetch; the Submitted "
                                 f"list shows {submitted.inner_text()!r}")
        refresh_assignments(page)
        page.wait_for_timeout(1000)
    row = page.locator("#submitted_assignments_list > .list_item", has_text=assignment).first
    row.get_by_role("button", name="Fetch Feedback").click()
    page.locator("#submitted_assignments_list", has_text="view feedback").wait_for(
        timeout=UI_TIMEOUT_MS)
    return submitted.inner_text()


