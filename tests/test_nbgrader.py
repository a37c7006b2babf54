"""The instructor workflow: generate student versions, run them, autograde the solutions.

Needs the instructor extra (nbgrader 0.9); `make test` installs it. Slow (about two
minutes): it runs nbgrader and executes every chapter twice.
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
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "assignments.py"
CHAPTERS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
                  if not p.name.startswith("00_"))

pytestmark = pytest.mark.slow

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
    root = tmp_path_factory.mktemp("nbgrader")
    env = {**os.environ, "NBGRADER_COURSE_DIR": str(root)}
    result = subprocess.run([sys.executable, str(TOOL), "selfcheck"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
    return root, result


def test_solutions_autograde_to_full_marks(course):
    root, result = course
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [ln.split() for ln in result.stdout.splitlines()[1:] if ln.startswith("ch")]
    assert [r[0] for r in rows] == [f"ch{p.name[:2]}" for p in CHAPTERS]
    for name, got, total, _manual in rows:
        assert float(total) > 0, f"{name} has no autograded points"
        assert float(got) == float(total), f"{name}: {got} of {total}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_student_version_has_no_solutions_and_fails_only_in_checks(course, chapter):
    root, result = course
    assert result.returncode == 0, result.stderr
    released = root / "release" / f"ch{chapter.name[:2]}" / chapter.name
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
        if meta.get("grade") and not meta.get("solution"):
            checks.add(meta["grade_id"])
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(chapter.parent)}}).execute()
    failed = {}
    for cell in nb.cells:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "<no grade_id>")
            failed[grade_id] = errors[0]
    assert set(failed) <= checks, f"cells other than checks failed: {set(failed) - checks}"
    code_checks = {gid for gid in checks if original[gid]["cell_type"] == "code"}
    assert failed, "an unanswered student version fails its checks"
    for grade_id, error in failed.items():
        text = error.ename + " " + error.evalue
        assert "not answered yet" in text, f"{grade_id}: {text[:200]}"
    assert set(failed) <= code_checks
