"""The two modes of every exercise check: a student's session and nbgrader's autograder.

A student who runs a chapter top to bottom with nothing answered sees "not answered yet"
and the notebook goes on; nbgrader (autograde, validate) sets NBGRADER_EXECUTION and gets
NotAnsweredYet, a failing cell worth 0 points. A wrong answer raises in both modes.
"""

import builtins
import functools
import importlib
import inspect
import json
import pkgutil
import types
from pathlib import Path

import numpy as np
import pytest

import helpers.exercises as exercises
from helpers.exercises import ExerciseError, NotAnsweredYet, _plain, _spec, needs_answer

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

CHAPTER_MODULES = [importlib.import_module(f"helpers.exercises.{m.name}")
                   for m in pkgutil.iter_modules(exercises.__path__) if m.name.startswith("ch")]
CHECKS = [fn for module in CHAPTER_MODULES for name, fn in vars(module).items()
          if name.startswith("check_") and inspect.isfunction(fn)
          and fn.__module__ == module.__name__]


def unfinished(*args, **kwargs):
    raise NotImplementedError()


def n_answers(check) -> int:
    """How many answers (positional parameters) a check takes."""
    return sum(p.kind is p.POSITIONAL_OR_KEYWORD
               for p in inspect.signature(check).parameters.values())


def all_unfinished(check):
    """Call ``check`` with an unanswered stub for every answer it takes."""
    return check(*([unfinished] * n_answers(check)))


def test_every_chapter_has_checks():
    assert len(CHAPTER_MODULES) >= 6 and len(CHECKS) >= 20, [m.__name__ for m in CHAPTER_MODULES]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.__module__[-4:]}.{c.__name__}")
def test_unanswered_prints_and_lets_the_notebook_run_on(check, monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert all_unfinished(check) is None
    out = capsys.readouterr().out
    assert "not answered yet" in out and out.startswith("\u270f\ufe0f"), out


@pytest.mark.parametrize("mode", ["autograde", "validate"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.__module__[-4:]}.{c.__name__}")
def test_unanswered_fails_under_nbgrader(check, mode, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", mode)
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        all_unfinished(check)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.__module__[-4:]}.{c.__name__}")
def test_a_wrong_answer_raises_in_a_students_session_too(check, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with pytest.raises(ExerciseError) as info:
        check(*([np.zeros(3)] * n_answers(check)))  # not even a function
    assert not isinstance(info.value, NotAnsweredYet)


def test_needs_answer_says_so_in_one_line(capsys):
    ran = []
    with needs_answer("Exercise 2"):
        ran.append("before")
        unfinished()
        ran.append("after")
    out = capsys.readouterr().out
    assert ran == ["before"]
    assert out.count("\n") == 1 and "Exercise 2" in out and "not answered yet" in out


def test_needs_answer_lets_other_errors_through():
    with pytest.raises(ZeroDivisionError), needs_answer("Exercise 1"):
        _ = 1 / 0


# ---------------------------------------------------------------- the specs behind the checks

SPEC_CHAPTERS = sorted({m.__name__.rsplit(".", 1)[-1] for m in CHAPTER_MODULES})


def _specs():
    for module in CHAPTER_MODULES:
        vars(module)  # imported above: every chapter's specs are registered
    return sorted(_spec.SPECS.values(), key=lambda s: s.id)


SPECS = _specs()


def _grade_cells():
    """(notebook, grade_id, source) of every autograded check cell in the chapters."""
    cells = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution"):
                cells.append((path.name, meta["grade_id"], "".join(cell["source"])))
    return cells


@pytest.mark.parametrize("notebook, grade_id, source", _grade_cells(),
                         ids=lambda v: v if isinstance(v, str) and "-" in v else None)
def test_every_check_cell_has_a_spec_and_calls_its_check(notebook, grade_id, source):
    spec = _spec.spec_for(grade_id)
    assert spec.check_name + "(" in source, (notebook, grade_id, spec.check_name)
    assert spec.grade_id == grade_id


def same_plain(a, b) -> bool:
    """Equal plain data: same types and structure, arrays equal in dtype, shape and values."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(same_plain, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_plain(a[k], b[k]) for k in a)
    if isinstance(a, _plain.Build):
        return a.kind == b.kind and same_plain(a.params, b.params)
    return a == b or (a != a and b != b)


def plain_cases(spec, seed):
    return _plain.to_plain([c.as_plain() for c in spec.draw(seed)])


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_a_draw_is_repeatable_and_fresh_draws_differ(spec):
    first = plain_cases(spec, 7)
    assert same_plain(first, plain_cases(spec, 7))
    if not spec.fixed_cases:
        assert not all(same_plain(first, plain_cases(spec, seed)) for seed in (8, 9, 10))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_cases_cross_to_the_sandbox_as_plain_data(spec, tmp_path):
    cases = spec.draw(3)
    _plain.write(tmp_path, "cases", [c.as_plain() for c in cases])
    back = [_spec.Case.from_plain(c) for c in _plain.read(tmp_path, "cases")]
    assert len(back) == len(cases)
    for before, after in zip(cases, back):
        assert same_plain(_plain.to_plain(after.as_plain()), _plain.to_plain(before.as_plain()))


def _strange(value):
    def answer(*args, **kwargs):
        return value() if callable(value) else value
    return answer


STRANGE_RESULTS = {
    "None": None,
    "an object": lambda: object(),
    "a generator": lambda: (i for i in range(3)),
    "a complex number": 1 + 2j,
    "NaN": float("nan"),
    "text": "0.25",
    "a list": [1.0, 2.0],
    "a dict": {"a": 1},
    "an array of strings": lambda: np.array(["a", "b"]),
    "an object array": lambda: np.array([object()], dtype=object),
    "a function": lambda: (lambda: 1),
}


@pytest.mark.parametrize("result", STRANGE_RESULTS)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_a_strange_result_gets_a_message_not_a_traceback(spec, result):
    answers = [_strange(STRANGE_RESULTS[result])] * len(spec.answers)
    with pytest.raises(ExerciseError) as info:
        spec.check(*answers, seed=5)
    assert not isinstance(info.value, NotAnsweredYet)
    assert "Traceback" not in str(info.value)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_the_grading_path_fails_closed(spec, tmp_path):
    """Nothing in the outbox, or garbage in it, is a failure, never a pass."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    prepared = _spec.prepare_inbox([spec.grade_id], inbox)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not _spec.verdicts(prepared, empty)[spec.grade_id].passed
    (empty / f"{spec.grade_id}.json").write_text('{"tree": {"t": "list", "v": []}, "arrays": 0}')
    assert not _spec.verdicts(prepared, empty)[spec.grade_id].passed
    (empty / f"{spec.grade_id}.json").write_text("not json")
    assert not _spec.verdicts(prepared, empty)[spec.grade_id].passed
    n = len(prepared[spec.grade_id].cases)
    forged = [{"status": "returned", "result": None, "error": "", "mutated": [],
               "trace": {"complete": True}}] * n
    _plain.write(empty, spec.grade_id, forged)
    assert not _spec.verdicts(prepared, empty)[spec.grade_id].passed


# ------------------------------------------------------------------ the check's own code
# An answer that borrows the check's reference (or any of its internals) computes nothing:
# caught by what runs (a call from the answer into the checks' private functions) and, for
# an answer that *is* such a function (directly, in a partial, as a bound method), by what
# was handed in. The tracer cannot see the latter, since the check then calls it itself.
def _borrowing_answers():
    from helpers.exercises import ch02
    reference = ch02.SIGMOID_PRIME.reference
    return {
        "a lambda around the reference": lambda s: reference(s),
        "the reference itself": reference,
        "the reference in a partial": functools.partial(reference),
        "the spec's own method": lambda s: ch02.SIGMOID_PRIME.expected(
            _spec.Case("x", (np.asarray(s),))),
        "the check's private reference by its module name": lambda s: getattr(
            ch02, reference.__name__)(s),
        "the reference re-hosted under other globals": types.FunctionType(
            reference.__code__, {"__name__": "__main__", "np": np,
                                 "__builtins__": builtins}),
    }


@pytest.mark.parametrize("name", list(_borrowing_answers()))
def test_borrowing_the_checks_reference_is_refused(name):
    from helpers.exercises import ch02
    answer = _borrowing_answers()[name]
    for seed in (0, 1, _spec.fresh_seed()):
        with pytest.raises(ExerciseError, match=r"a part of the check itself"):
            ch02.check_sigmoid_prime_from_output(answer, seed=seed)


def test_public_helpers_and_case_objects_stay_allowed():
    from helpers.exercises import _trace
    assert _trace._internal("helpers.exercises.ch05", "_ratio")
    assert _trace._internal("helpers.exercises.ch05", "<lambda>")
    assert _trace._internal("helpers.exercises._spec", "Spec.expected")
    assert not _trace._internal("helpers.exercises.ch01", "xor_width_accuracy")
    assert not _trace._internal("helpers.exercises.ch06", "_draw.<locals>.f")
    assert not _trace._internal("helpers.exercises.ch06", "_FakeHistory.final")
    assert not _trace._internal("helpers.activations", "_stable")


# ---------------------------------------------------------------- the spec layer's traps


def _toy_spec(cases, twins=0, vectorised=False, layouts=False):
    """A spec over the given cases, not registered (its results are not judged)."""
    spec = _spec.Spec("core.toy", grade_id="core-toy", what="`toy(x)`",
                      draw=lambda rng: [c for c in cases], passed="ok", check="core.check_toy",
                      reference=lambda x: np.cumsum(x), twins=twins, vectorised=vectorised,
                      layouts=layouts)
    del _spec.SPECS["core.toy"]  # (the course's specs only: other tests list them)
    return spec


def test_twins_keep_numpy_sums_in_the_memory_order_of_their_case():
    rng = np.random.default_rng(5)
    for order in ("C", "F"):
        cases = [_spec.Case(f"case {i}", (rng.normal(size=(7, 5)),), order=order)
                 for i in range(3)]
        drawn = _toy_spec(cases, twins=3).draw(1)
        twins = [i for i, c in enumerate(drawn) if "one array swapped" in c.label]
        assert len(twins) == 3
        for i in twins:
            (x,), _ = drawn[i - 1].inputs()
            (y,), _ = drawn[i].inputs()
            assert drawn[i].order == order and not np.array_equal(x, y)
            assert np.sum(x) == np.sum(y) and np.sort(x, axis=None).tolist() == \
                np.sort(y, axis=None).tolist()


def test_some_cases_hand_their_arrays_over_strided_or_in_fortran_order(tmp_path):
    rng = np.random.default_rng(3)
    cases = [_spec.Case(f"case {i}", (rng.normal(size=(4, 6)), rng.normal(size=5)))
             for i in range(40)]
    spec = _toy_spec(cases, layouts=True)
    drawn = spec.draw(7)
    orders = [c.order for c in drawn]
    assert 4 < orders.count("S") < 20 and 1 < orders.count("F") < 12   # 1 in 4, 1 in 8
    assert [c.order for c in cases] == ["C"] * 40 and "strided" not in cases[0].label
    assert [c.order for c in spec.draw(7)] == orders   # the seed decides
    for original, case in zip(cases, drawn):
        (x, v), _ = case.inputs()
        assert np.array_equal(x, original.args[0]) and np.array_equal(v, original.args[1])
        if case.order == "S":
            assert "strided views" in case.label
            assert not x.flags.c_contiguous and not x.flags.f_contiguous
            assert not v.flags.c_contiguous and x.base is not None
        # the layout survives the trip to the grader's sandbox and back, as plain data
        _plain.write(tmp_path, "case", case.as_plain())
        again = _spec.Case.from_plain(_plain.read(tmp_path, "case"))
        (y, _), _ = again.inputs()
        assert again.order == case.order and y.strides == x.strides
    # a twin keeps its case's layout (numpy sums in memory order: a cache keyed by a sum
    # would tell a twin from its case by the layout alone)
    singles = [_spec.Case(f"single {i}", (rng.normal(size=(4, 6)),)) for i in range(12)]
    for seed in range(6):
        twinned = _toy_spec(singles, twins=6, layouts=True).draw(seed)
        pairs = [(twinned[i - 1], c) for i, c in enumerate(twinned) if "swapped" in c.label]
        assert len(pairs) == 6 and all(a.order == b.order for a, b in pairs)
        assert {a.order for a, _ in pairs} != {"C"} or seed < 5
    # an answer that reads the raw memory gets the gaps of a strided view
    (x, _), _ = next(c for c in drawn if c.order == "S").inputs()
    raw = np.frombuffer(x.base.tobytes(), dtype=x.dtype)[:x.size].reshape(x.shape)
    assert not np.array_equal(raw, x)


def test_large_inputs_go_over_writeable_on_every_draw():
    small = [_spec.Case(f"small {i}", (np.zeros(10),)) for i in range(40)]
    large = [_spec.Case(f"large {i}", (np.zeros(_spec.WRITEABLE_SIZE),)) for i in range(5)]
    for seed in range(3):
        drawn = _toy_spec(small + large).draw(seed)
        assert all(c.writeable for c in drawn if c.label.startswith("large"))
        flags = [c.writeable for c in drawn if c.label.startswith("small")]
        assert 5 < sum(flags) < 35   # one in two, as the draw says


def test_a_list_of_a_large_array_counts_as_a_loop():
    from helpers.exercises import _trace
    big, short = np.zeros(_trace.PER_ELEMENT_SIZE) > 1, np.zeros(100) > 1

    def run(fn):
        with _trace.tracing(count_work=True) as trace:
            fn()
        return trace.per_element

    assert run(lambda: big.tolist()) == ["numpy.ndarray.tolist"]
    assert run(lambda: list(big).index(False)) == ["list.index"]
    assert run(lambda: short.tolist().index(False)) == []
    assert run(lambda: np.flatnonzero(big)) == []


def _looped_cumsum(steps: list):
    """A running sum by a Python loop, recording how many steps each call ran."""
    def looped(x):
        out, total = np.empty(x.size), 0.0
        steps.append(0)
        for i, v in enumerate(x.ravel()):
            total += v
            out[i] = total
            steps[-1] += 1
        return out
    return looped


def test_a_loop_is_stopped_where_its_work_settles_the_verdict():
    # A loop over a large input runs for seconds under the tracer: it is stopped at the work
    # the judge calls a loop, and the costly cases after it are not run at all.
    cases = _spec.work_cases(lambda shape, big: np.ones(shape).ravel(),
                             shapes=((3,), (43,), (200_000,)))
    spec = _toy_spec(cases, vectorised=True)
    steps: list[int] = []
    with pytest.raises(ExerciseError, match="runs a Python loop.*before the check stopped it"):
        spec.check(_looped_cumsum(steps), seed=0)
    assert steps[0] == 3 and len(steps) == 2 and steps[1] < 43   # the timed case never ran

    # Caught and ignored by the answer, the stop still counts.
    def swallows(x):
        try:
            return _looped_cumsum([])(x)
        except BaseException:
            return np.cumsum(x)
    with pytest.raises(ExerciseError, match="before the check stopped it"):
        spec.check(swallows, seed=0)

    # A vectorised answer is not stopped, and each case runs.
    seen = []
    spec.check(lambda x: seen.append(x.size) or np.cumsum(x), seed=0)
    assert seen[:3] == [3, 43, 200_000]


def test_a_timed_loop_is_stopped_too():
    # Only the timed case runs the loop (a branch for large inputs): stopped there.
    cases = _spec.work_cases(lambda shape, big: np.ones(shape).ravel(),
                             shapes=((3,), (43,), (200_000,)))
    steps: list[int] = []
    looped = _looped_cumsum(steps)
    spec = _toy_spec(cases, vectorised=True)
    with pytest.raises(ExerciseError, match="200,000 elements.*before the check stopped it"):
        spec.check(lambda x: looped(x) if x.size > 1000 else np.cumsum(x), seed=0)
    assert len(steps) == 1 and steps[0] < _spec.TIMED_LOOP_WORK


def test_an_answer_far_over_the_time_limit_is_timed_once():
    # A loop from C (no Python lines to count) far over the limit: another measure cannot
    # bring it under, so the answer is not run again (it was, up to three times: 0.8 s each).
    cases = _spec.work_cases(lambda shape, big: np.ones(shape).ravel(),
                             shapes=((3,), (43,), (200_000,)))
    spec = _toy_spec(cases, vectorised=True)
    timed_calls = []

    def slow(x):
        if x.size == 200_000:
            timed_calls.append(1)
            sum(range(30_000_000))   # about 0.3 s of CPU, in C
        return np.cumsum(x)
    with pytest.raises(ExerciseError, match="ms of CPU on"):
        spec.check(slow, seed=0)
    assert len(timed_calls) == 1


def test_an_input_fingerprint_sees_every_changed_bit():
    # (fingerprints tell whether an answer changed its input: a copy compared bit for bit)
    x = np.array([[1.5, 0.0, np.nan], [2.0, -3.0, 4.0]])
    for a in (x, x.astype(np.float32), np.asfortranarray(x), np.arange(7, dtype=np.uint8),
              np.zeros((0, 3)), np.array(2.5)):
        before = _spec._fingerprint(a)
        assert _spec._fingerprint(a.copy()) == before
        if a.size:
            changed = a.copy()
            flat = changed.reshape(-1) if changed.flags.c_contiguous else changed.T.reshape(-1)
            flat[-1] = flat[-1] + 1 if a.dtype.kind != "f" or np.isfinite(flat[-1]) else 0
            assert _spec._fingerprint(changed) != before
    zero = np.zeros(3)
    assert _spec._fingerprint(-zero) != _spec._fingerprint(zero)     # -0.0 is another bit pattern
    assert _spec._fingerprint(zero.astype(np.float32)) != _spec._fingerprint(zero)  # dtype
    assert _spec._fingerprint(zero.reshape(3, 1)) != _spec._fingerprint(zero)       # shape
