"""The committed notebooks, read as files: executed, clean, shaped like a chapter.

nbval (run separately, `pytest --nbval-lax notebooks/`) re-executes them; these
tests check what a reader sees on GitHub or when opening a notebook without
running it, and the conventions in CONTRIBUTING.md.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if not p.name.startswith("00_")]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def ids(paths):
    return [p.name for p in paths]


def test_the_course_has_its_chapters():
    names = [p.name for p in NOTEBOOKS]
    assert names[0] == "00_start_here.ipynb"
    assert len(CHAPTERS) >= 6, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_kernelspec_so_it_opens_without_a_kernel_prompt(path):
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["metadata"]["kernelspec"]["language"] == "python"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_stale_widget_state_or_views(path):
    """A stored widget view shows 'Error displaying widget: model not found' on open."""
    nb = load(path)
    assert "widgets" not in nb["metadata"], "notebook metadata carries widget state"
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            assert WIDGET_VIEW not in data, f"cell {i} stores a widget view"
            assert WIDGET_STATE not in data, f"cell {i} stores widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_committed_executed_in_order_without_errors(path):
    nb = load(path)
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts and None not in counts, "every code cell is executed"
    assert counts == list(range(1, len(counts) + 1)), "executed top to bottom in one run"
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"cell {i} has an error output"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"cell {i} printed to stderr (a warning?): {''.join(out['text'])[:200]}")
    assert any("image/png" in out.get("data", {})
               for cell in nb["cells"] for out in cell.get("outputs", [])), "has figures"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_placeholders_and_no_path_hacks(path):
    nb = load(path)
    for i, cell in enumerate(nb["cells"]):
        text = source(cell)
        assert not re.search(r"\b(TODO|FIXME|XXX|TBD)\b", text), f"cell {i}: placeholder text"
        assert "sys.path" not in text, f"cell {i}: helpers must be imported as installed"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_shape(path):
    nb = load(path)
    markdown = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert markdown.lstrip().startswith("# "), "starts with a title"
    for heading in ("Learning goals", "Prerequisites", "take-aways", "Further reading"):
        assert heading.lower() in markdown.lower(), f"missing section: {heading}"
    assert re.search(r"\(\d{4}\)|\b(19|20)\d\d\b", markdown), "further reading has years"
    links = re.findall(r"\]\(([^)]+\.ipynb)\)", markdown)
    assert len(links) >= 2, "links to the previous and next chapter"
    for link in links:
        assert (path.parent / link).exists(), f"broken link {link}"
    code = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "code")
    assert re.search(r"\b\w+_explorer\(|\bplayground\(", code), "at least one explorer widget"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_exercises_follow_the_nbgrader_pattern(path):
    nb = load(path)
    cells = nb["cells"]
    grade_ids = []
    answers = 0
    for i, cell in enumerate(cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        text = source(cell)
        if "### BEGIN SOLUTION" in text:
            assert "### END SOLUTION" in text, f"cell {i}: unclosed solution"
            assert meta and meta.get("solution") is True, f"cell {i}: needs solution metadata"
            if cell["cell_type"] == "code":
                answers += 1
                check = cells[i + 1]
                check_meta = check.get("metadata", {}).get("nbgrader", {})
                assert check_meta.get("grade") is True and check_meta.get("points", 0) > 0, (
                    f"cell {i + 1}: the check after an answer is an autograded cell")
                assert "exercises" in source(check) or re.search(r"\bch\d\d\.", source(check))
        if meta:
            assert meta.get("schema_version") == 3
            grade_ids.append(meta["grade_id"])
    assert answers >= 3, "at least three exercises"
    assert len(grade_ids) == len(set(grade_ids)), "grade_ids are unique"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_numbers_that_teach_are_checked_by_nbval(path):
    nb = load(path)
    checked = [c for c in nb["cells"]
               if c["cell_type"] == "code" and source(c).startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked, "at least one # NBVAL_CHECK_OUTPUT cell"
    for cell in checked:
        assert cell["outputs"], "an NBVAL_CHECK_OUTPUT cell has committed output to compare"
        for out in cell["outputs"]:
            assert "image/png" not in out.get("data", {}), "checked cells print text only"
    code = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "code")
    assert re.search(r"^\s*assert ", code, re.M), "the notebook asserts the facts it teaches"
