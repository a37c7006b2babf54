"""The instructor workflow: generate student versions, run them, autograde the solutions.

Needs the instructor extra (nbgrader 0.9) and bubblewrap (autograding runs each notebook in
the grader's sandbox, tools/grader); `make test` installs the first, .ci/run the second. Slow
(a few minutes): it runs nbgrader and executes every chapter three times.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from grader_support import require_sandbox

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "assignments.py"
PUBLIC_COPY = "https://github.com/activation-functions-course/activation-functions-course/blob/main/"
CHAPTERS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
                  if not p.name.startswith("00_"))

# Every chapter autograded twice in the sandbox: minutes, more on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

if importlib.util.find_spec("nbgrader") is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("nbgrader is not installed: CI must install the instructor extra")
    pytest.skip("nbgrader not installed: pip install -e '.[instructor]'", allow_module_level=True)


def solution_lines(cell_source: str) -> list[str]:
    block = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell_source, re.S)
    lines = [ln.strip() for ln in block.group(1).splitlines()] if block else []
    return [ln for ln in lines if len(ln) > 12 and not ln.startswith("#")]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The student versions of every notebook, and the solutions autograded (selfcheck)."""
    root = tmp_path_factory.mktemp("nbgrader")
    env = {**os.environ, "NBGRADER_COURSE_DIR": str(root)}
    result = subprocess.run([sys.executable, str(TOOL), "selfcheck"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
    return root, result


def test_solutions_autograde_to_full_marks(course):
    require_sandbox()
    root, result = course
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [ln.split() for ln in result.stdout.splitlines()[1:] if ln.startswith("ch")]
    assert [r[0] for r in rows] == [f"ch{p.name[:2]}" for p in CHAPTERS]
    for name, got, total, _manual in rows:
        assert float(total) > 0, f"{name} has no autograded points"
        assert float(got) == float(total), f"{name}: {got} of {total}"


RELEASED = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def release_path(root: Path, notebook: Path) -> Path:
    return root / "release" / f"ch{notebook.name[:2]}" / notebook.name


@pytest.fixture(scope="module")
def blank_scores(course):
    """Submit every student version exactly as released (nothing answered) and autograde it."""
    require_sandbox()
    root, result = course
    assert result.returncode == 0, result.stdout + result.stderr
    for chapter in CHAPTERS:
        target = root / "submitted" / "blank" / f"ch{chapter.name[:2]}"
        target.mkdir(parents=True, exist_ok=True)
        (target / chapter.name).write_bytes(release_path(root, chapter).read_bytes())
    env = {**os.environ, "NBGRADER_COURSE_DIR": str(root)}
    graded = subprocess.run([sys.executable, str(TOOL), "autograde", "blank"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    return dict(re.findall(r"^(ch\d\d): (\S+) / ", graded.stdout, re.M))


def test_an_unanswered_submission_scores_zero(blank_scores):
    assert sorted(blank_scores) == [f"ch{p.name[:2]}" for p in CHAPTERS]
    assert all(float(score) == 0 for score in blank_scores.values()), blank_scores


def test_start_here_is_released_too(course):
    root, _ = course
    assert release_path(root, RELEASED[0]).exists()
    assert RELEASED[0].name.startswith("00_")


@pytest.mark.parametrize("notebook", RELEASED, ids=[p.stem for p in RELEASED])
def test_links_resolve_in_the_release(course, notebook):
    """Chapter links work in release/ and after `nbgrader fetch` (same chNN/ folders)."""
    root, _ = course
    released = release_path(root, notebook)
    text = "".join(c.source for c in nbformat.read(released, as_version=4).cells
                   if c.cell_type == "markdown")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [ln for ln in links if not re.match(r"[a-z]+:", ln) and not ln.startswith("#")]
    public = [ln for ln in links if ln.startswith(PUBLIC_COPY)]
    assert local, "a released notebook links to the other chapters"
    for link in local:
        target = (released.parent / link.partition("#")[0]).resolve()
        assert target.is_file(), f"{released.name}: broken link {link}"
        assert target.is_relative_to(root / "release"), f"{link} leaves the release folder"
    for link in public:
        assert (ROOT / link[len(PUBLIC_COPY):].partition("#")[0]).is_file(), link
    # Images travel with the notebook (they show offline and on a hub without internet).
    for image in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
        assert image.startswith("images/"), f"{released.name}: image {image} not released"
        shipped = released.parent / image
        assert shipped.read_bytes() == (ROOT / "docs" / shipped.name).read_bytes(), image


def test_validate_reports_an_unanswered_notebook_as_failing(course):
    root, _ = course
    released = release_path(root, CHAPTERS[0])
    result = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(released)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert "VALIDATION FAILED" in out, out[-2000:]
    assert "not answered yet" in out, out[-2000:]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_student_version_has_no_solutions_and_runs_to_the_end(course, chapter):
    root, result = course
    assert result.returncode == 0, result.stderr
    released = release_path(root, chapter)
    assert released.exists()
    original = {c["metadata"]["nbgrader"]["grade_id"]: c
                for c in json.loads(chapter.read_text())["cells"]
                if "nbgrader" in c.get("metadata", {})}
    nb = nbformat.read(released, as_version=4)
    checks = set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
        if meta.get("solution"):
            source = "".join(original[meta["grade_id"]]["source"])
            for line in solution_lines(source):
                assert line not in cell.source, f"solution text left: {line!r}"
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            checks.add(meta["grade_id"])
    # As a student runs it: `jupyter nbconvert --execute` stops at the first error, so this
    # passes only if every cell, every unanswered check included, runs without one.
    executed = root / "executed" / released.name
    executed.parent.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    run = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=300", f"--output={executed}", str(released)],
        cwd=released.parent, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    nb = nbformat.read(executed, as_version=4)
    said = {}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in checks:
            said[gid] = "".join(o.get("text", "") for o in cell.outputs)
    assert set(said) == checks
    for gid, text in said.items():
        assert "not answered yet" in text, f"{gid}: {text[:300]}"
