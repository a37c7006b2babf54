"""The grader's parts that need no sandbox: what comes out of the sandbox is read as untrusted
data (channel, outputs), verdicts replace the check cells' outputs, a submission is compared
with its release (review), and tools/assignments.py reads nbgrader's log and the reports.
"""

from __future__ import annotations

import json
import sys

import nbformat
import pytest
from grader_support import ROOT
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools.grader import channel, outputs, report, review

sys.path.insert(0, str(ROOT / "tools"))
import assignments  # noqa: E402

# ------------------------------------------------------------------ channel

def record(name: str, body: bytes) -> bytes:
    return f"{name} {len(body)}\n".encode() + body


def test_the_channel_reads_what_the_runner_writes():
    data = (record("status.json", b'{"status": "finished"}') + record("notebook.ipynb", b"{}")
            + record("outbox/ch02-a.json", b"[1]") + record("outbox/ch02-a-0.npy", b"\x93N"))
    got = channel.parse(data, max_notebook=100, max_outbox=100)
    assert got.status == b'{"status": "finished"}' and got.notebook == b"{}"
    assert got.outbox == {"ch02-a.json": b"[1]", "ch02-a-0.npy": b"\x93N"}


@pytest.mark.parametrize("data, why", [
    (record("outbox/../gradebook.db", b"x"), "malformed"),
    (record("outbox/a b", b"x"), "malformed"),
    (record("source.ipynb", b"x"), "malformed"),
    (record("notebook.ipynb", b"{}") + record("notebook.ipynb", b"{}"), "twice"),
    (b"notebook.ipynb 10\n{}", "cut short"),
    (b"x" * 500, "missing or too long"),
    (record("outbox/a.npy", b"x" * 200), "larger than"),
    (record("notebook.ipynb", b"x" * 200), "larger than"),
], ids=["traversal", "space", "unknown", "duplicate", "short", "no-header", "outbox-size",
        "notebook-size"])
def test_the_channel_refuses_anything_else(data, why):
    with pytest.raises(channel.ChannelError, match=why):
        channel.parse(data, max_notebook=100, max_outbox=100)


def test_outbox_files_are_written_as_plain_files_inside_the_folder(tmp_path):
    results = channel.Results(outbox={"ch02-a.json": b"[1]", "..": b"x", ".": b"y"})
    channel.save_outbox(results, tmp_path / "outbox")
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["ch02-a.json"]


# ------------------------------------------------------------------ outputs

def graded_notebook():
    cells = [new_code_cell("x = 1", id="a"), new_markdown_cell("text", id="b"),
             new_code_cell("print(x)", id="c")]
    return new_notebook(cells=cells)


def test_only_outputs_are_taken_back_and_only_safe_kinds():
    ours = graded_notebook()
    theirs = json.loads(nbformat.writes(graded_notebook()))
    theirs["cells"][0]["source"] = "import os  # rewritten in the sandbox"
    theirs["cells"][0]["metadata"] = {"nbgrader": {"grade": True, "points": 100}}
    theirs["cells"][0]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": "hello\n"},
        {"output_type": "display_data", "metadata": {"width": '1" onload="x'},
         "data": {"text/html": "<script>steal()</script>", "text/plain": "<HTML>",
                  "application/javascript": "steal()", "image/png": "aGk="}},
        {"output_type": "display_data", "data": {"image/png": '" onerror="steal()'}},
        {"output_type": "display_data", "data": {"image/svg+xml": "<svg onload=x>"}},
        {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["t", 3]},
        {"output_type": "update_display_data", "data": {"text/plain": "x"}},
        "not an output",
    ]
    theirs["cells"][2]["id"] = "someone-else"
    theirs["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    problems = outputs.take_outputs(ours, json.dumps(theirs).encode())
    assert problems == []
    first = ours.cells[0]
    assert first.source == "x = 1" and "nbgrader" not in first.metadata
    assert [o.output_type for o in first.outputs] == ["stream", "display_data", "error"]
    assert first.outputs[1].data == {"text/plain": "<HTML>", "image/png": "aGk="}
    assert first.outputs[1].metadata == {}
    assert first.outputs[2].traceback == ["t"]
    # A cell whose id changed is not the cell that was sent: no outputs from it.
    assert ours.cells[2].outputs == []
    nbformat.validate(ours)


def test_a_notebook_that_does_not_match_or_parse_gives_no_outputs():
    ours = graded_notebook()
    short = json.loads(nbformat.writes(graded_notebook()))
    short["cells"] = short["cells"][:1]
    assert "2 cells" not in " ".join(outputs.take_outputs(ours, json.dumps(short).encode()))
    assert "has 1 cells, 3 were sent" in outputs.take_outputs(ours, json.dumps(short).encode())[0]
    assert "could not be read" in outputs.take_outputs(graded_notebook(), b"\xff{")[0]


def test_a_verdict_is_a_line_or_an_error_that_nbgrader_scores():
    from nbgrader.utils import determine_grade

    cell = new_code_cell("ch02.check(...)", metadata={"nbgrader": {
        "grade": True, "solution": False, "points": 2, "grade_id": "g"}})
    cell.outputs = [outputs.pass_output("\u2705 right")]
    assert determine_grade(cell) == (2, 2)
    cell.outputs = [outputs.error_output("\u274c wrong\nHint: think")]
    assert determine_grade(cell) == (0, 2)
    assert cell.outputs[0].evalue == "\u274c wrong"


# ------------------------------------------------------------------ review

def write_nb(path, cells):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=cells), path)


def release_cells():
    return [new_markdown_cell("# Title", id="m1"),
            new_code_cell("import numpy as np", id="setup"),
            new_code_cell("def f(x):\n    raise NotImplementedError()", id="ans",
                          metadata={"nbgrader": {"solution": True, "grade_id": "f-answer"}}),
            new_code_cell("ch02.check_f(f)", id="chk", metadata={"nbgrader": {
                "grade": True, "locked": True, "grade_id": "f-check"}})]


def test_the_review_lists_extra_files_changed_cells_and_flags(tmp_path):
    write_nb(tmp_path / "release" / "nb.ipynb", release_cells())
    cells = release_cells()
    cells[0].source = "# Title, with my notes"
    cells[1].source = "import numpy as np\nimport os\nos.environ.pop('NBGRADER_EXECUTION')"
    cells[2].source = "def f(x):\n    get_ipython().set_custom_exc((Exception,), print)"
    cells.insert(3, new_code_cell("import socket", id="new"))
    write_nb(tmp_path / "sub" / "nb.ipynb", cells)
    (tmp_path / "sub" / "helpers" / "exercises").mkdir(parents=True)
    (tmp_path / "sub" / "helpers" / "exercises" / "ch02.py").write_text("")
    (tmp_path / "sub" / "timestamp.txt").write_text("now")
    (tmp_path / "sub" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "sub" / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text("{}")
    got = review.review_submission(tmp_path / "sub", tmp_path / "release")
    assert got.extra_files == ["helpers/exercises/ch02.py"]
    assert got.changed_cells == [
        "cell 2 (code) changed: `import numpy as np`",
        "cell 4 (code) added: `import socket`",
        "1 markdown cell(s) edited, added or deleted (text only: they run nothing)"]
    assert any("cell 2 touches the process environment" in f for f in got.flags)
    assert any("cell 3 (f-answer) touches IPython's hooks" in f for f in got.flags)
    assert any("cell 4 touches the network" in f for f in got.flags)
    assert not got.missing_notebooks


def test_the_review_of_an_untouched_release_is_empty_and_sees_a_missing_notebook(tmp_path):
    write_nb(tmp_path / "release" / "nb.ipynb", release_cells())
    (tmp_path / "sub").mkdir()
    assert review.review_submission(tmp_path / "sub", tmp_path / "release").missing_notebooks \
        == ["nb.ipynb"]
    write_nb(tmp_path / "sub" / "nb.ipynb", release_cells())
    assert review.review_submission(tmp_path / "sub", tmp_path / "release") == review.Review()


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: p.stem)
def test_no_solution_raises_a_flag(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    answers = [i for i, c in enumerate(cells)
               if c["metadata"].get("nbgrader", {}).get("solution")]
    assert review._flags(cells, answers) == []


# ------------------------------------------------------------------ reports and nbgrader's log

def test_a_report_round_trips(tmp_path):
    rep = report.NotebookReport("ada", "ch02", "02_x", "timeout", reason="too slow",
                                checks=[report.CheckResult("g", False, "no")])
    rep.write(tmp_path)
    (back,) = report.read_reports(tmp_path, "ch02", "ada")
    assert back == rep and not back.graded
    assert "NOT GRADED: too slow" in back.summary()


LOG = """[AutogradeApp | INFO] Sanitizing /c/submitted/ada/ch02/02_x.ipynb
[AutogradeApp | WARNING] Removing existing assignment: /c/autograded/ada/ch02
[AutogradeApp | WARNING] Checksum for grade cell ch02-shrink-bound-check has changed!
[AutogradeApp | WARNING] [sandboxed grader] ch02/ada/02_x: 3 of 3 checks passed
[AutogradeApp | INFO] Sanitizing /c/submitted/bob/ch02/02_x.ipynb
[AutogradeApp | ERROR] There was an error processing assignment: /c/submitted/bob/ch02
[AutogradeApp | ERROR] Traceback (most recent call last):
  File "x.py", line 1, in <module>
nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{"cells"'
[AutogradeApp | ERROR] There was an error processing assignment 'ch02' for student 'bob'
[AutogradeApp | ERROR] Please see the the above traceback for details.
"""


def test_nbgraders_warnings_and_errors_are_told_per_student():
    notes, failed = assignments.nbgrader_notes(LOG)
    assert failed == {"bob"}
    assert notes["ada"] == ["warning: Checksum for grade cell ch02-shrink-bound-check has "
                            "changed!"]
    assert notes["bob"] == ["error: nbformat.reader.NotJSONError: Notebook does not appear to "
                            "be JSON: '{\"cells\"'"]


# ------------------------------------------------------------------ released links

def test_an_image_is_released_beside_the_notebook_and_a_page_links_to_its_page(tmp_path):
    assert assignments.released_link("../docs/tensorboard_scalars.png", image=True) == (
        "images/tensorboard_scalars.png")
    assert assignments.released_link("../helpers/nn.py").startswith(assignments.PUBLIC_COPY)
    chapter = assignments.released()["ch07"]
    assignments.copy_for_release(chapter, tmp_path / chapter.name)
    shipped = tmp_path / "images" / "tensorboard_scalars.png"
    assert shipped.read_bytes() == (ROOT / "docs" / "tensorboard_scalars.png").read_bytes()
    text = (tmp_path / chapter.name).read_text(encoding="utf-8")
    assert "](images/tensorboard_scalars.png)" in text and "../docs/" not in text
