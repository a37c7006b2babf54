"""Chapter 5 exercise checks: catalogues of wrong answers (each rejected, on several draws, with
a message naming its mistake or saying what differs) and of right answers written other ways
(each passes on hundreds of draws), and the same verdicts through the autograding path."""

import functools
import itertools
import math
import operator
import types

import numpy as np
import pytest
from exercise_support import (
    accepts,
    draws,
    ends_of,
    extremes_of,
    graded,
    kept_by,
    rejects,
    right_draws,
    sum_of,
)

from helpers import data, diagnostics, nn
from helpers.diagnostics import update_to_weight_ratio as course_ratio
from helpers.exercises import ExerciseError, NotAnsweredYet, ch05

norm = np.linalg.norm


def unfinished(*args):
    raise NotImplementedError()


# ---------------------------------------------------------------- exercise 1
# Task: W_before and W_after are 2-D numpy arrays of the same shape (1 x 1 included), float64,
# float32 or integer (up to about 1e5 in size), W_before never all zero, larger than 64 x 64
# too, up to 1,000,000 x 2 and 2 x 1,000,000 (timed); return ||W_after - W_before|| / ||W_before||
# (Frobenius norms) as one number (a float, a numpy scalar or a 0-d array), to float32's
# precision for float32 weights; without helpers.diagnostics and without a Python loop.


def ratio_with_a_loop(W_before, W_after):
    total = base = 0.0
    for change, value in zip((W_after - W_before).ravel(), W_before.ravel()):
        total += change * change
        base += value * value
    return float(np.sqrt(total / base))


def ratio_in_place(W_before, W_after):
    W_after -= W_before  # reuses the caller's array for the difference
    return float(norm(W_after) / norm(W_before))


def ratio_in_float16(W_before, W_after):
    # "Saves memory": half precision cannot resolve a small step of the weights.
    d = W_after.astype(np.float16) - W_before.astype(np.float16)
    return float(norm(d.astype(float)) / norm(W_before))


def ratio_in_float32(W_before, W_after):
    a, b = W_before.astype(np.float32), W_after.astype(np.float32)
    return float(norm(b - a) / norm(a))


def ratio_cast_back(W_before, W_after):
    # "Keeps the weights' dtype", which turns the ratio of integer weights into 0.
    return (norm(W_after - W_before) / norm(W_before)).astype(W_before.dtype)


def ratio_in_int8(W_before, W_after):
    # "Saves memory" on integer weights: int8 holds -128..127, and larger weights wrap around.
    if W_before.dtype.kind == "i":
        W_before, W_after = W_before.astype(np.int8), W_after.astype(np.int8)
    d = W_after.astype(float) - W_before.astype(float)
    return float(norm(d) / norm(W_before.astype(float)))


def ratio_in_int16(W_before, W_after):
    # The same with int16 (-32768..32767): right for weights up to about 1000, not beyond.
    if W_before.dtype.kind == "i":
        W_before, W_after = W_before.astype(np.int16), W_after.astype(np.int16)
    return float(norm(W_after.astype(float) - W_before) / norm(W_before.astype(float)))


def ratio_of_a_64_block(W_before, W_after):
    # Fitted to matrices of at most 64 x 64: only the top-left block counts.
    a, b = W_before[:64, :64], W_after[:64, :64]
    return float(norm(b - a) / norm(a))


def ratio_widened_to_int64(W_before, W_after):
    # Integers widened (never narrowed) before the arithmetic: right.
    if W_before.dtype.kind == "i":
        W_before, W_after = W_before.astype(np.int64), W_after.astype(np.int64)
    return float(np.sqrt(np.sum((W_after - W_before) ** 2) / np.sum(W_before**2)))


def _old_cases():
    """The eight (W_before, W_after) pairs of the old check, which were always the same."""
    rng = np.random.default_rng(505)
    W = np.array([[1.0, -2.0, 0.0], [0.5, 0.0, -1.5]])
    cases = [(W, W + np.array([[0.1, 0.0, -0.2], [0.0, 0.3, 0.0]]))]
    for shape, step in (((3, 4), 1e-3), ((16, 2), 1e-6), ((5, 5), 0.5), ((2, 7), 2.0)):
        W = rng.normal(0, 0.5, size=shape)
        cases.append((W, W + step * rng.normal(size=shape)))
    W = rng.normal(0, 0.5, size=(4, 3)).astype(np.float32)
    cases.append((W, W + np.float32(0.01) * rng.normal(size=(4, 3)).astype(np.float32)))
    W = rng.normal(0, 0.5, size=(3, 2))
    cases.append((W, W.copy()))
    return cases


_OLD_RATIOS = {(W.shape, W.dtype.str): float(norm(W2.astype(float) - W) / norm(W.astype(float)))
               for W, W2 in _old_cases()}


def ratio_fitted_to_the_old_cases(W_before, W_after):
    return _OLD_RATIOS.get((W_before.shape, W_before.dtype.str), 1e-3)


def in_floats(ratio):
    """``ratio`` on the weights as floats (integers as float64): squares of integers can pass
    their own dtype's range."""
    def answer(a, b):
        return ratio(*(x if x.dtype.kind == "f" else x.astype(np.float64) for x in (a, b)))
    return answer


def in_float64(ratio):
    """``ratio`` on the weights as float64, whatever their dtype."""
    def answer(a, b):
        return ratio(a.astype(np.float64), b.astype(np.float64))
    return answer


def cached_ratio():
    cache = {}

    def answer(a, b):
        key = (a.shape, a.dtype.str)
        if key not in cache:
            cache[key] = norm(b - a) / norm(a)
        return cache[key]
    return answer


WRONG_UPDATE_RATIO = {
    "divides by the new weights": (lambda a, b: norm(b - a) / norm(b), r"\*after\* the step"),
    "difference of norms": (lambda a, b: (norm(b) - norm(a)) / norm(a),
                            r"difference of the two norms"),
    "ratio of norms": (lambda a, b: norm(b) / norm(a), r"ratio of the two norms"),
    "upside down": (lambda a, b: norm(a) / norm(b - a), r"upside down"),
    "no division": (lambda a, b: norm(b - a), r"without the division"),
    "not square-rooted": (lambda a, b: np.sum((b - a) ** 2) / np.sum(a**2),
                          r"square of the ratio"),
    "not squared (L1)": (lambda a, b: np.sum(np.abs(b - a)) / np.sum(np.abs(a)),
                         r"absolute values instead of squares"),
    "max norm": (lambda a, b: np.max(np.abs(b - a)) / np.max(np.abs(a)), r"largest entries"),
    "spectral norm": (lambda a, b: norm(b - a, 2) / norm(a, 2), r"spectral norm"),
    "per-column mean of ratios": (lambda a, b: np.mean(norm(b - a, axis=0) / norm(a, axis=0)),
                                  r"per column"),
    "per-row mean of ratios": (lambda a, b: np.mean(norm(b - a, axis=1) / norm(a, axis=1)),
                               r"per row"),
    "elementwise ratio, averaged": (
        lambda a, b: np.mean(np.abs(b - a) / np.where(a == 0, 1, np.abs(a))),
        r"differs|is [-\d.e+]+, expected"),
    "elementwise ratio, not reduced": (lambda a, b: np.abs(b - a) / (np.abs(a) + 1e-12),
                                       r"array of shape \(2, 3\).*one number"),
    "norm per column, not reduced": (lambda a, b: norm(b - a, axis=0) / norm(a, axis=0),
                                     r"array of shape \(3,\)"),
    "keepdims array (shape (1, 1))": (lambda a, b: norm(b - a, keepdims=True)
                                      / norm(a, keepdims=True), r"array of shape \(1, 1\)"),
    "a one-element array": (lambda a, b: np.atleast_1d(norm(b - a) / norm(a)),
                            r"array of shape \(1,\) .*one number"),
    "a one-element list": (lambda a, b: [float(norm(b - a) / norm(a))],
                           r"should be one number, got a list of length 1"),
    "ratio of the means": (lambda a, b: np.abs(np.mean(b - a)) / np.abs(np.mean(a)),
                           r"is [-\d.e+]+, expected"),
    "half precision": (ratio_in_float16, r"is 0\.1\d+, expected 0\.136626"),
    "through float32 (a lower precision)":
        (ratio_in_float32, r"(?s)agrees with the ratio to about \d significant digits.*lower "
                           r"precision|is lost in float32"),
    "rounded to 4 significant digits": (lambda a, b: float(f"{norm(b - a) / norm(a):.4g}"),
                                        r"to about 4 significant digits only: look for rounding"),
    "an epsilon in the denominator": (lambda a, b: norm(b - a) / (norm(a) + 1e-8),
                                      r"(?s)is 0\.13662\d+, expected 0\.136626.*epsilon"),
    "an epsilon of 1e-12 in the denominator (shows on tiny weights)":
        (lambda a, b: norm(b - a) / (norm(a) + 1e-12),
         r"(?s)tiny weights.*anything added to the denominator"),
    "cast back to the weights' dtype (integer weights give 0)":
        (ratio_cast_back, r"(?s)is 0, expected .*integer weights give a ratio that is a fraction"),
    # Confirmation reading: integers squared in their own dtype (int32 squares wrap beyond
    # 46,340); a result kept by shape.
    "int32 weights squared in their own dtype": (
        lambda a, b: np.sqrt(np.sum((b - a) * (b - a))) / np.sqrt(np.sum(a * a)),
        r"(?s)int32, entries up to 100,000"),
    "a ratio kept by shape and dtype": (cached_ratio(), r"(?s)another 2 x 3 float64 matrix"),
    "integer division": (lambda a, b: np.sqrt(np.sum((b - a) ** 2) // np.sum(a * a)),
                         r"is 0, expected 0\.136626"),
    "integer weights through int8 (they wrap around)":
        (ratio_in_int8, r"(?s)cast to int8, which holds only -128\.\.127.*integer weights "
                        r"\(int32, entries up to 1,000\).*compute in the weights' own dtype"),
    "integer weights through int16 (they wrap around beyond 32767)":
        (ratio_in_int16, r"(?s)cast to int16, which holds only -32768\.\.32767.*entries up to "
                         r"100,000"),
    "only the top-left 64 x 64 block (fitted to the old sizes)":
        (ratio_of_a_64_block, r"(?s)float64 \d+ x \d+ matrices of this case .*a wide \d+ x "
                              r"\d+ matrix.*larger than the others, in both axes"),
    "the course's update_to_weight_ratio under another name":
        (course_ratio, r"calls `helpers\.diagnostics\.update_to_weight_ratio`"),
    "the course's ratio through functools.partial":
        (functools.partial(diagnostics.update_to_weight_ratio),
         r"calls `helpers\.diagnostics\.update_to_weight_ratio`"),
    "the course's ratio in a lambda": (lambda a, b: 1.0 * course_ratio(a, b),
                                       r"calls `helpers\.diagnostics\."),
    "fitted to the old check's fixed cases": (ratio_fitted_to_the_old_cases,
                                              r"is 0\.(001|136626), expected"),
    "a Python loop": (ratio_with_a_loop, r"runs a Python loop"),
    # Loops over the rows (or columns) driven from C: no Python line runs, the time shows it
    # on the tall (or wide) timed matrix.
    "builtin sum of builtin sums": (
        lambda a, b: math.sqrt(sum(sum((b - a) ** 2)) / sum(sum(a * a))),
        r"took \d+ ms of CPU on a tall 1,000,000 x 2 matrix"),
    "functools.reduce over the rows": (
        lambda a, b: math.sqrt(functools.reduce(operator.add, (b - a) ** 2).sum()
                               / functools.reduce(operator.add, a * a).sum()),
        r"took \d+ ms of CPU on a tall 1,000,000 x 2 matrix"),
    "builtin sum over the rows, then .sum()": (
        lambda a, b: math.sqrt(sum((b - a) * (b - a)).sum() / sum(a * a).sum()),
        r"took \d+ ms of CPU on a tall 1,000,000 x 2 matrix"),
    "builtin sum over the columns": (
        lambda a, b: math.sqrt(sum(((b - a) ** 2).T).sum() / sum((a * a).T).sum()),
        r"took \d+ ms of CPU on a wide 2 x 1,000,000 matrix"),
    "map(operator.mul) over the entries": (
        lambda a, b: math.sqrt(sum(map(operator.mul, (b - a).ravel(), (b - a).ravel()))
                               / sum(map(operator.mul, a.ravel(), a.ravel()))),
        r"took \d+ ms of CPU on a (tall|wide) \S+ x \S+ matrix"),
    "math.fsum": (lambda a, b: math.sqrt(math.fsum(((b - a) ** 2).ravel())
                                         / math.fsum((a * a).ravel())),
                  r"took \d+ ms of CPU on a (tall|wide) \S+ x \S+ matrix"),
    "math.dist": (lambda a, b: math.dist(a.ravel().astype(float), b.ravel().astype(float))
                  / math.hypot(*a.ravel().astype(float)),
                  r"took \d+ ms of CPU on a (tall|wide)|one Python object per element"),
    "the check's own reference": (lambda W0, W1: ch05._ratio(W0, W1),
                                  r"calls `helpers\.exercises\.ch05\._ratio`, a part of the "
                                  r"check itself"),
    # On the same line as its name, so its source alone does not parse.
    "a generator": (lambda a, b: np.sqrt(sum(x * x for x in (b - a).ravel()) / np.sum(a * a)),
                    r"runs a Python loop"),
    "in place": (ratio_in_place, r"modified its input `W_after` in place"),
    "returns None": (lambda a, b: None, r"returned None"),
    "returns a string": (lambda a, b: f"{norm(b - a) / norm(a):.3g}", r"one number, got str"),
    "returns a complex number": (lambda a, b: complex(norm(b - a) / norm(a)),
                                 r"one number, got complex"),
}

# The loops above square in float64: integers squared in their own dtype are a mistake of
# their own (the int32 weights up to 100,000), and so is a float32 sum added up one term after
# the other (its rounding grows with the matrix), which the loops should not meet first.
for _name in ("a Python loop", "builtin sum of builtin sums", "functools.reduce over the rows",
              "builtin sum over the rows, then .sum()", "builtin sum over the columns",
              "map(operator.mul) over the entries", "math.fsum", "a generator"):
    _answer, _message = WRONG_UPDATE_RATIO[_name]
    WRONG_UPDATE_RATIO[_name] = (in_float64(_answer), _message)


RIGHT_UPDATE_RATIO = {
    "np.linalg.norm, float()": lambda a, b: float(norm(b - a) / norm(a)),
    "np.linalg.norm, numpy scalar": lambda a, b: norm(b - a) / norm(a),
    "'fro' on raveled arrays": lambda a, b: norm((b - a).ravel()) / norm(a.ravel(), 2),
    "sums of squares": in_floats(lambda a, b: np.sqrt(np.sum((b - a) ** 2) / np.sum(a * a))),
    "root mean squares": in_floats(
        lambda a, b: np.sqrt(np.mean((b - a) ** 2)) / np.sqrt(np.mean(a**2))),
    "einsum": in_floats(lambda a, b: np.sqrt(np.einsum("ij,ij->", b - a, b - a)
                                             / np.einsum("ij,ij->", a, a))),
    "vdot": in_floats(lambda a, b: np.sqrt(np.vdot(b - a, b - a) / np.vdot(a, a))),
    "0-d array": lambda a, b: np.asarray(norm(b - a, "fro") / norm(a, "fro")),
    "in float64 first": lambda a, b: (lambda x, y: norm(y - x) / norm(x))(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float)),
    "math.sqrt of numpy sums": in_floats(lambda a, b: (float(np.sum((b - a) ** 2)) ** 0.5
                                                       / float(np.sum(a * a)) ** 0.5)),
    "integers widened to int64 first": ratio_widened_to_int64,
}


@pytest.mark.parametrize("name", WRONG_UPDATE_RATIO)
def test_update_ratio_rejects(name):
    answer, message = WRONG_UPDATE_RATIO[name]
    rejects(ch05.check_update_ratio, answer, message)


@pytest.mark.parametrize("name", RIGHT_UPDATE_RATIO)
def test_update_ratio_accepts_on_every_draw(name):
    accepts(ch05.check_update_ratio, RIGHT_UPDATE_RATIO[name],
            right_draws(RIGHT_UPDATE_RATIO, name))


def test_update_ratio_pass_message_is_the_same_for_every_draw_and_names_the_optimiser(capsys):
    for seed in (1, 2):
        ch05.check_update_ratio(RIGHT_UPDATE_RATIO["sums of squares"], seed=seed)
    first, second = capsys.readouterr().out.splitlines()
    assert first == second and first.startswith("\u2705")
    assert "CS231n" in first and "SGD" in first and "Adam" in first and "learning rate" in first


def test_update_ratio_cases_cover_the_contract():
    for seed in range(20):
        cases = [c for c in ch05.UPDATE_RATIO.draw(seed) if c.work is None]
        pairs = [ch05._pair(c) for c in cases]
        assert all(W.ndim == 2 and W.shape == W2.shape for W, W2 in pairs)
        assert all(np.any(W != 0) for W, _ in pairs)  # the task: never all zero
        dtypes = {W.dtype for W, _ in pairs}
        assert {np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.int64),
                np.dtype(np.int32)} <= dtypes
        assert any(W.shape == (1, 1) for W, _ in pairs)
        assert any(W.shape[0] == 1 for W, _ in pairs) and any(W.shape[1] == 1 for W, _ in pairs)
        assert any(np.array_equal(W, W2) for W, W2 in pairs)  # a step that changes nothing
        ratios = [ch05._ratio(W, W2) for W, W2 in pairs]
        assert min(r for r in ratios if r > 0) < 1e-8 and max(ratios) > 1
        assert any(np.abs(W).max() < 1e-4 for W, _ in pairs)  # tiny weights
        assert any(min(W.shape) > 64 for W, _ in pairs)  # beyond any 64 x 64 block
        integers = [W for W, _ in pairs if W.dtype.kind == "i"]
        assert any(np.abs(W).max() < 10 for W in integers)
        assert any(np.abs(W).max() > 127 and W.dtype == np.int32 for W in integers)  # > int8
        assert any(np.abs(W).max() > 32767 for W in integers)  # beyond int16
        # ... and int32 ones whose squares pass int32's range
        assert any(W.dtype == np.int32 and np.abs(W).max() > 46_341 for W in integers)


def test_update_ratio_cases_tell_the_mistakes_apart():
    """Each named mistake differs from the right ratio on at least one case, by > 1e-3."""
    for seed in range(10):
        pairs = [ch05._pair(c) for c in ch05.UPDATE_RATIO.draw(seed) if c.work is None]
        right = [ch05._ratio(W, W2) for W, W2 in pairs]
        mistakes = [ch05._ratio_mistakes(W, W2) for W, W2 in pairs]
        for name in mistakes[0]:
            wrong = [m[name] for m in mistakes]
            assert any(np.isfinite(w) and not np.isclose(w, r, rtol=1e-3)
                       for w, r in zip(wrong, right)), (seed, name)


def test_update_ratio_message_shows_the_small_case():
    shown = r"W_before = \[\[1\.0, -2\.0, 0\.0\], \[0\.5, 0\.0, -1\.5\]\]"
    with pytest.raises(ExerciseError, match=shown) as err:
        ch05.check_update_ratio(lambda a, b: np.sum(np.abs(b - a)) / np.sum(np.abs(a)), seed=0)
    # The expected ratio by hand: sqrt(0.1² + 0.2² + 0.3²) / sqrt(1 + 4 + 0.25 + 2.25).
    assert "0.136626" in str(err.value)
    assert "np.linalg.norm" not in str(err.value)  # the hint names the idea, not the code


def test_update_ratio_message_says_how_to_get_a_large_case():
    with pytest.raises(ExerciseError) as err:
        ch05.check_update_ratio(ratio_fitted_to_the_old_cases, seed=3)
    text = str(err.value)
    assert "seed=3" in text
    index = int(text.split("ch05.UPDATE_RATIO.case(seed, ")[1].split(")")[0]) if \
        "UPDATE_RATIO.case" in text else None
    if index is not None:  # the pointer gives the very matrices of the failing case
        (W, W2), _ = ch05.UPDATE_RATIO.case(3, index)
        assert f"{W.shape[0]} x {W.shape[1]}" in text


def test_update_ratio_message_points_at_the_case_it_names():
    """"case(seed, i)" in a message gives the very matrices of the failing case, also for the
    cases after the first ones (the work pair included)."""
    for seed in (0, 5):
        with pytest.raises(ExerciseError) as err:
            ch05.check_update_ratio(ratio_of_a_64_block, seed=seed)
        text = str(err.value)
        index = int(text.split("ch05.UPDATE_RATIO.case(seed, ")[1].split(")")[0])
        (W, _), _ = ch05.UPDATE_RATIO.case(seed, index)
        assert f"{W.shape[0]} x {W.shape[1]} matrices" in text and min(W.shape) > 64
        assert f"In case {index + 1} of" in text
    for seed in range(5):
        cases = ch05.UPDATE_RATIO.draw(seed)
        assert [c.note["index"] for c in cases] == list(range(len(cases)))


def test_update_ratio_matches_diagnostics():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 3))
    W2 = W + 0.01 * rng.normal(size=(4, 3))
    assert RIGHT_UPDATE_RATIO["np.linalg.norm, float()"](W, W2) == pytest.approx(
        diagnostics.update_to_weight_ratio(W, W2))


def test_update_ratio_unfinished_and_not_a_function():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch05.check_update_ratio(unfinished)
    with pytest.raises(ExerciseError, match="should be a function"):
        ch05.check_update_ratio(0.001)


def test_update_ratio_leaves_the_inputs_alone():
    """The student's function gets copies: the draw's arrays are the same after the check."""
    cases = ch05.UPDATE_RATIO.draw(4)
    before = [tuple(a.copy() for a in ch05._pair(c)) for c in cases]
    try:
        ch05.UPDATE_RATIO.check(ratio_in_place, seed=4)
    except ExerciseError:
        pass
    again = ch05.UPDATE_RATIO.draw(4)
    assert all(np.array_equal(x, y) for b, c in zip(before, again)
               for x, y in zip(b, ch05._pair(c)))


def test_update_ratio_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch05.UPDATE_RATIO, RIGHT_UPDATE_RATIO["einsum"], tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch05.UPDATE_RATIO, WRONG_UPDATE_RATIO["difference of norms"][0],
                   tmp_path / "w", monkeypatch)
    assert not wrong.passed and "difference of the two norms" in wrong.message
    course = graded(ch05.UPDATE_RATIO, course_ratio, tmp_path / "c", monkeypatch)
    assert not course.passed and "helpers.diagnostics" in course.message


# ---------------------------------------------------------------- exercise 2: diagnosis
# Task: return {"A": label, "B": label, "C": label} with labels from ch05.FAULTS (a string each;
# case, spaces, hyphens and common synonyms do not matter; exactly the keys A, B and C).

RIGHT = {"A": "learning_rate_too_small", "B": "vanishing_gradients", "C": "dead_relus"}

def diagnosis_read_off_the_digests():
    """Confirmation reading: the labels matched against the check's stored digests."""
    return {r: next(label for label in ch05.FAULTS if ch05._digest(r, label) ==
                    ch05._DIAGNOSIS[r]) for r in "ABC"}


def diagnosis_hashed_by_hand():
    """The same with hashlib called directly (the digests' recipe copied)."""
    import hashlib
    return {r: next(label for label in ch05.FAULTS if hashlib.sha256(
        f"ch05:{r}:{label}".encode()).hexdigest() == ch05._DIAGNOSIS[r]) for r in "ABC"}


WRONG_DIAGNOSIS = {
    "read off the check's digests": (diagnosis_read_off_the_digests,
                                     r"a part of the check itself|calls `"),
    "hashed by hand against the digests": (diagnosis_hashed_by_hand, r"calls `.*sha256"),
    "A and B swapped": (dict(RIGHT, A="vanishing_gradients", B="learning_rate_too_small"),
                        r"(?s)1 of 3.*Run A.*also check run B.*update-to-weight ratio"),
    "C blamed on the huge learning rate": (dict(RIGHT, C="exploding_gradients"),
                                           r"(?s)2 of 3.*Run C.*dead-unit fraction"),
    "B called dead (a sigmoid is never exactly 0)": (dict(RIGHT, B="dead_relus"),
                                                    r"(?s)Run B.*saturated fraction"),
    "A called healthy": (dict(RIGHT, A="healthy"), r"Run A is not 'healthy'"),
    "A called vanishing": (dict(RIGHT, A="vanishing_gradients"), r"Run A"),
    "every run overfitting": ({"A": "overfitting", "B": "overfitting", "C": "overfitting"},
                              r"(?s)0 of 3.*also check run B, C"),
    "C vanishing": (dict(RIGHT, C="vanishing"),
                    r"'vanishing' \(read as 'vanishing_gradients'\) is not run C's fault"),
    "one run missing": ({"A": RIGHT["A"], "B": RIGHT["B"]}, r"missing key\(s\) 'C'"),
    "an extra run": (dict(RIGHT, D="healthy"), r"unexpected key\(s\) 'D'"),
    "two answers for run A": (dict(RIGHT, a="healthy"), r"answers 'A' more than once"),
    "two answers, the right one last": ({"a": "healthy", **RIGHT},
                                        r"answers 'A' more than once"),
    "a hedge: two labels for one run": (dict(RIGHT, C=["dead_relus", "exploding_gradients"]),
                                        r"run C: a fault label is a string"),
    "a label in a dict of its own (a structure the task never asks for)":
        (dict(RIGHT, B={"label": "vanishing_gradients"}), r"run B: a fault label is a string"),
    "a label not in FAULTS": (dict(RIGHT, C="dead relu units"),
                              r"run C: 'dead relu units' is not one of the labels\. Use one of"),
    "a typo": (dict(RIGHT, B="vanishing gradiens"), r"Did you mean 'vanishing_gradients'"),
    "a list, not a dict": (list(RIGHT.values()), r"should return a dict"),
    "runs numbered, not lettered": ({1: RIGHT["A"], 2: RIGHT["B"], 3: RIGHT["C"]},
                                    r"missing key\(s\) 'A', 'B', 'C'"),
    "a number as label": (dict(RIGHT, A=3), r"run A: a fault label is a string"),
    "None as label": (dict(RIGHT, A=None), r"run A: a fault label is a string"),
    # A wrong guess close to the run's right label must not be answered with that label, nor
    # an idea that is not a label with the label of its opposite: no "Did you mean" (checked
    # on its own below), "not one of the labels" and the list.
    "A: learning rate too large": (dict(RIGHT, A="learning_rate_too_large"),
                                   r"run A: 'learning_rate_too_large' is not one of the labels: "
                                   r"the labels name what the dashboard shows.*Use one of"),
    "C: learning rate too large (the cause, not a label)":
        (dict(RIGHT, C="learning_rate_too_large"),
         r"run C: 'learning_rate_too_large' is not one of the labels.*Use one of: healthy"),
    "C: learning rate too high": (dict(RIGHT, C="Learning rate too high"),
                                  r"run C: 'Learning rate too high' is not one of the labels"),
    "A: underfitting (a real idea, not a label)":
        (dict(RIGHT, A="underfitting"),
         r"run A: 'underfitting' is not one of the labels: none of the three runs learns.*"
         r"Use one of"),
    "A: under-fitting": (dict(RIGHT, A="under-fitting"),
                         r"run A: 'under-fitting' is not one of the labels"),
    # ... but a spelling slip in the right label is still corrected ...
    "A: a slip in the right label": (dict(RIGHT, A="learning rate to small"),
                                     r"Did you mean 'learning_rate_too_small'"),
    # ... and a label that is not the run's answer is still suggested.
    "B: exploding (the opposite)": (dict(RIGHT, B="gradients exploding"),
                                    r"'gradients exploding' \(read as 'exploding_gradients'\) "
                                    r"is not run B's fault"),
    # A word changed (dying/exploding, exploding/dead) or a negation is another idea: no
    # suggestion, whichever run it is given for (checked on its own below).
    "B: dying gradients (not a slip of exploding_gradients)":
        (dict(RIGHT, B="dying_gradients"), r"run B: 'dying_gradients' is not one of the labels"),
    "C: exploding ReLUs (not a slip of dead_relus)":
        (dict(RIGHT, C="exploding_relus"), r"run C: 'exploding_relus' is not one of the labels"),
    "A: a negation of the right label":
        (dict(RIGHT, A="not learning_rate_too_small"),
         r"run A: 'not learning_rate_too_small' is not one of the labels"),
    "None": (None, r"returned None"),
}

RIGHT_DIAGNOSIS = {
    "canonical": dict(RIGHT),
    "casual spellings": {"a": "Learning rate too small", "B": "saturated sigmoids",
                         "c": "Dead ReLUs"},
    "aliases": {"A": "lr-too-low", "B": "Vanishing gradient", "C": "dying_relu"},
    "padded keys": {" A": "small learning rate", "B ": "saturation", "C": "dead units"},
    "short forms": {"A": "lr too small", "B": "vanish", "C": "dead"},
}


@pytest.mark.parametrize("name", WRONG_DIAGNOSIS)
def test_diagnosis_rejects(name):
    answer, message = WRONG_DIAGNOSIS[name]
    rejects(ch05.check_diagnosis, answer if callable(answer) else lambda: answer, message)


@pytest.mark.parametrize("name", RIGHT_DIAGNOSIS)
def test_diagnosis_accepts(name):
    accepts(ch05.check_diagnosis, lambda: RIGHT_DIAGNOSIS[name], draws(3))


@pytest.mark.parametrize("run, label", [
    ("A", "underfitting"), ("A", "under-fitting"), ("A", "learning_rate_too_large"),
    ("C", "learning_rate_too_large"), ("C", "lr too high"), ("B", "learning rate too big"),
    ("A", "learning rate too high"), ("C", "high learning rate"),
    ("B", "dying_gradients"), ("C", "exploding_relus"), ("A", "not learning_rate_too_small"),
    ("A", "no learning rate too small"), ("C", "not dead relus"), ("B", "dying gradient"),
])
def test_diagnosis_suggests_no_label_the_student_did_not_mean(run, label):
    """No "Did you mean" for an opposite or a real idea that is not a label: "underfitting"
    is not a slip of "overfitting", nor "learning_rate_too_large" of "..._too_small"."""
    with pytest.raises(ExerciseError) as err:
        ch05.check_diagnosis(lambda: dict(RIGHT, **{run: label}))
    text = str(err.value)
    assert "Did you mean" not in text and "not one of the labels" in text
    assert all(f in text for f in ch05.FAULTS)  # ... and the labels are listed


@pytest.mark.parametrize("label", ["dying_gradients", "exploding_relus", "vanishing gradiens",
                                   "learning rate to small", "not dead relus", "overfiting"])
def test_diagnosis_message_is_the_same_whichever_run_it_is_for(label):
    """Whether a suggestion is made depends on the typed label alone: giving the same label
    for run A, B or C gets the same message (but for the run's name), so it tells nothing
    about which label is right for which run."""
    texts = set()
    for run in ch05.RUNS:
        answer = {**RIGHT, run: label}
        with pytest.raises(ExerciseError) as err:
            ch05.check_diagnosis(lambda answer=answer: answer)
        texts.add(str(err.value).split("\n")[0].replace(f"run {run}:", "run ?:"))
    assert len(texts) == 1, texts


def test_diagnosis_still_suggests_what_the_student_meant():
    for label, meant in (("vanishing gradiens", "vanishing_gradients"),
                         ("gradient explodng", "exploding_gradients"),
                         ("overfiting", "overfitting"), ("ded relus", "dead_relus")):
        with pytest.raises(ValueError, match=f"Did you mean '{meant}'"):
            ch05.normalise_fault(label)


def test_diagnosis_hint_does_not_name_the_fault():
    """The hint says where to look, not the label: 'learning rate' never appears for run A."""
    with pytest.raises(ExerciseError) as err:
        ch05.check_diagnosis(lambda: dict(RIGHT, A="healthy"))
    assert "learning rate" not in str(err.value).lower()
    assert "learning_rate" not in str(err.value)


def test_diagnosis_pass_message_names_no_fault(capsys):
    ch05.check_diagnosis(lambda: RIGHT)
    out = capsys.readouterr().out
    assert out.startswith("\u2705")
    assert not any(word in out.lower() for word in ("learning rate", "vanish", "saturat",
                                                    "dead", "relu"))


def test_fault_descriptions_do_not_describe_run_c_as_exploding():
    """Run C's loss jumps then flickers; the exploding label must not read like that."""
    text = ch05.FAULTS["exploding_gradients"]
    assert "jump" not in text and "NaN" in text


def test_diagnosis_not_answered():
    with pytest.raises(NotAnsweredYet):
        ch05.check_diagnosis(unfinished)


def test_diagnosis_matches_the_runs():
    """The broken runs really show the faults the check expects."""
    runs = ch05.broken_runs(epochs=60)
    a, b, c = runs["A"], runs["B"], runs["C"]
    assert np.median(a.update_ratio[1:]) < 1e-4 and np.all(a.dead == 0)
    assert a.grad_norm[0].min() > 1e-2
    assert np.nanmax(b.saturated[-1, :-1]) > 0.8
    assert b.grad_norm[0, 0] < 1e-6 * b.grad_norm[0, -1]
    assert c.dead[-1, :-1].max() == 1.0 and np.all(c.grad_norm[-1] == 0)
    assert all(h.diverged_at is None for h in runs.values())


def test_normalise_fault():
    assert ch05.normalise_fault("  Dead-ReLUs ") == "dead_relus"
    assert ch05.normalise_fault("LR too small") == "learning_rate_too_small"
    with pytest.raises(ValueError, match="Use one of"):
        ch05.normalise_fault("gremlins")
    with pytest.raises(TypeError):
        ch05.normalise_fault(None)


def test_diagnosis_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch05.DIAGNOSIS, lambda: RIGHT_DIAGNOSIS["aliases"], tmp_path / "r",
                  monkeypatch).passed
    wrong = graded(ch05.DIAGNOSIS, lambda: dict(RIGHT, C="exploding_gradients"),
                   tmp_path / "w", monkeypatch)
    assert not wrong.passed and "Run C" in wrong.message


# ---------------------------------------------------------------- exercise 3: epochs_to_target
# Task: curve is a 1-D float64 numpy array with at least one entry (never a list), target a
# number (a float, a numpy float or an int such as 1); return the first epoch e with
# curve[e] >= target as a Python int, compared exactly (no rounding, no tolerance), or None;
# without the course's History.epochs_to, without a Python loop and without turning the curve
# into a Python list (curves of up to 1,850,000 entries, the text says; timed).


def first_hit(mask):
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def epochs_with_a_loop(curve, target):
    for e, value in enumerate(curve):
        if value >= target:
            return e
    return None


def epochs_with_a_generator(curve, target):
    return next((e for e, value in enumerate(curve) if value >= target), None)


def epochs_argmax_or_none(curve, target):
    # `or None` also turns a real epoch 0 into None.
    return int(np.argmax(np.asarray(curve) >= target)) or None


def epochs_searchsorted(curve, target):
    # Assumes the curve is sorted; an accuracy curve can dip.
    e = int(np.searchsorted(curve, target))
    return e if e < len(curve) else None


def epochs_count_below(curve, target):
    # "The number of epochs spent below the target" equals the answer only for a rising curve.
    below = int(np.sum(np.asarray(curve) < target))
    return below if below < len(curve) else None


def epochs_unguarded_where(curve, target):
    return int(np.where(np.asarray(curve) >= target)[0][0])


def epochs_by_the_course(curve, target):
    """The course's History.epochs_to, on a stand-in for a History."""
    return nn.History.epochs_to(types.SimpleNamespace(val_accuracy=curve), target,
                                "val_accuracy")


def epochs_in_percent_for_an_int(curve, target):
    # Reads an int target as a percentage: 1 becomes 1 %.
    target = target / 100 if isinstance(target, int) else target
    return first_hit(curve >= target)


_OLD_CURVES = {  # the old check's nine (curve, target) cases and their answers
    ((0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.9, 0.97), 0.96): 7,
    ((0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.9, 0.97), 0.9): 4,
    ((0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.9, 0.97), 0.2): 0,
    ((0.5, 0.92, 0.6, 0.7, 0.8, 0.85, 0.88, 0.91, 0.93, 0.99), 0.9): 1,
    ((0.5, 0.95, 0.8), 0.9): 1,
    ((0.4, 0.7, 0.91, 0.93, 0.88, 0.87), 0.9): 2,
    ((0.2, 0.4, 0.6, 0.8, 1.0), 1.0): 4,
}


def epochs_fitted_to_the_old_cases(curve, target):
    return _OLD_CURVES.get((tuple(curve.tolist()), float(target)))


def epochs_of_the_first_150(curve, target):
    # Fitted to curves of at most 150 epochs: a longer training is cut short.
    return first_hit(curve[:150] >= target)


def epochs_by_list_index(curve, target):
    # A Python list of the comparison, searched by list.index: element by element, in C.
    mask = list(curve >= target)
    return mask.index(True) if True in mask else None


def epochs_through_tolist(curve, target):
    # A round trip of the curve through a Python list.
    return first_hit(np.array(curve.tolist()) >= target)


def epochs_with_rounded_target(rounding):
    """Honest, except the target is rounded before comparing."""
    def answer(curve, target):
        hits = np.flatnonzero(np.asarray(curve) >= rounding(target))
        return int(hits[0]) if hits.size else None
    return answer


def epochs_with_int_tolerance(curve, target):
    """A tolerance of 1e-9 for int targets only ("100 % means 1")."""
    t = target - 1e-9 if isinstance(target, int) else target
    hits = np.flatnonzero(np.asarray(curve) >= t)
    return int(hits[0]) if hits.size else None


WRONG_EPOCHS_TO_TARGET = {
    # Confirmation reading: a rounded target; a tolerance for int targets.
    "target rounded to 2 decimals": (epochs_with_rounded_target(lambda t: round(t, 2)),
                                     r"0\.87654"),
    "target rounded to 3 decimals": (epochs_with_rounded_target(lambda t: round(t, 3)),
                                     r"0\.87654"),
    "target rounded to 4 decimals": (epochs_with_rounded_target(lambda t: round(t, 4)),
                                     r"0\.87654"),
    "target rounded up to 2 decimals": (
        epochs_with_rounded_target(lambda t: math.ceil(t * 100) / 100), r"0\.87654"),
    "a tolerance for int targets": (epochs_with_int_tolerance, r"just below target 1"),
    "argmax of a mask that may be all False": (
        lambda c, t: int(np.argmax(np.asarray(c) >= t)), r"returned 0; expected None"),
    "argmax, `or None`": (epochs_argmax_or_none, r"returned None; expected 0"),
    "off by one (+1)": (lambda c, t: None if first_hit(c >= t) is None else first_hit(c >= t) + 1,
                        r"one epoch too late"),
    "off by one (-1)": (lambda c, t: None if first_hit(c >= t) is None else first_hit(c >= t) - 1,
                        r"one epoch too early"),
    "ignores entry 0 (before training)": (lambda c, t: None if first_hit(c[1:] >= t) is None
                                          else first_hit(c[1:] >= t) + 1, r"one epoch too late"),
    "> instead of >=": (lambda c, t: first_hit(c > t), r">=, not >"),
    "== instead of >=": (lambda c, t: first_hit(c == t), r"returned None; expected 7"),
    "-1 when never reached": (lambda c, t: -1 if first_hit(c >= t) is None else first_hit(c >= t),
                              r"returned -1; expected None"),
    "len(curve) when never reached": (
        lambda c, t: len(c) if first_hit(c >= t) is None else first_hit(c >= t),
        r"returned 8; expected None"),
    "False when never reached": (
        lambda c, t: False if first_hit(c >= t) is None else first_hit(c >= t),
        r"returned False \(bool\)"),
    "NaN when never reached": (
        lambda c, t: np.nan if first_hit(c >= t) is None else first_hit(c >= t),
        r"returned nan"),
    "last epoch at or above the target": (
        lambda c, t: None if first_hit(c >= t) is None else int(np.flatnonzero(c >= t)[-1]),
        r"returned 7; expected 4: the first entry"),
    "epoch of the best accuracy": (
        lambda c, t: int(np.argmax(c)) if np.max(c) >= t else None, r"returned 7; expected 4"),
    "assumes a sorted curve (searchsorted)": (epochs_searchsorted, r"returned 7; expected 1"),
    "counts the epochs below the target": (epochs_count_below, r"returned 6; expected 1"),
    "<= instead of >=": (lambda c, t: first_hit(c <= t), r"returned 0; expected 7"),
    "all the epochs, not the first": (lambda c, t: np.flatnonzero(c >= t), r"returned an array"),
    "a one-element array": (lambda c, t: np.flatnonzero(c >= t)[:1] if first_hit(c >= t) is not None
                            else None, r"returned an array \(\[7\]\)"),
    "a one-element list": (lambda c, t: np.flatnonzero(c >= t)[:1].tolist() or None,
                           r"returned a Python list of length 1; expected 7"),
    "the accuracy, not the epoch": (
        lambda c, t: None if first_hit(c >= t) is None else float(c[first_hit(c >= t)]),
        r"returned 0.97 \(float\)"),
    "unguarded np.where": (epochs_unguarded_where,
                           r"raised IndexError.*\n.*\nHint: the target is never reached"),
    "looks only at the last entry": (
        lambda c, t: None if c[-1] < t else int(np.argmax(c >= t)),
        r"returned None; expected 1: .*ends below it \(curve\[-1\] = 0\.8\)"),
    "first epoch at or above the target after the last dip": (
        lambda c, t: (None if c[-1] < t
                      else int(len(c) - np.argmax((c < t)[::-1])) if np.any(c < t) else 0),
        r"returned (None|\d+); expected"),
    "a float epoch": (lambda c, t: float(np.argmax(c >= t)) if np.any(c >= t) else None,
                      r"returned 7\.0 \(float\); expected 7 \(an int\)"),
    "np.float64 epoch": (lambda c, t: (np.flatnonzero(c >= t)[:1].mean() if np.any(c >= t)
                                       else None),
                         r"returned np\.float64\(7\.0\) \(float64\); expected 7 \(an int\)"),
    "a numpy integer (np.nonzero), not a Python int":
        (lambda c, t: np.nonzero(c >= t)[0][0] if (c >= t).any() else None,
         r"returned a numpy int64 \(np\.int64\(7\)\); expected 7 as a Python int"),
    # Rounding or a tolerance near the target: a value just below it counts as reached.
    "rounded to 2 decimals": (lambda c, t: first_hit(np.round(c, 2) >= t),
                              r"is below the target, by 1e-12.*\n.*\nHint: a value just below"),
    "a tolerance of 1e-9": (lambda c, t: first_hit(c >= t - 1e-9), r"below the target, by 1e-12"),
    "np.isclose or above": (lambda c, t: first_hit(np.isclose(c, t) | (c > t)),
                            r"below the target, by 1e-12"),
    "a tolerance of 0.01": (lambda c, t: first_hit(c > t - 0.01),
                            r"below the target, by (0\.005|1e-12|0\.0\d)"),
    "a safety margin above the target": (lambda c, t: first_hit(c >= t + 1e-9),
                                         r"returned \d+; expected \d+|returned None; expected"),
    "through float32 (a lower precision)": (lambda c, t: first_hit(c.astype(np.float32) >= t),
                                            r"below the target, by 1e-12|expected"),
    "through float16": (lambda c, t: first_hit(c.astype(np.float16) >= t), r"expected"),
    "an int target read as a percentage": (epochs_in_percent_for_an_int,
                                           r"target = 1 returned 0; expected 4"),
    "fitted to the old check's fixed cases": (epochs_fitted_to_the_old_cases,
                                              r"returned None; expected \d+"),
    "only the first 150 epochs (fitted to the old lengths)":
        (epochs_of_the_first_150,
         r"(?s)a curve of \d+ entries \(`ch05\.EPOCHS_TO_TARGET\.case\(seed, \d+\)\[0\]` "
         r"gives it\).*returned None; expected \d+.*In case \d+ of"),
    # A Python list of the curve or of the comparison: one hint for both, whichever counter
    # sees it (tolist, or a list method, run on a long curve; the objects alive at once).
    # Timing alone told (c >= t).tolist().index(True) only 4 to 7 times numpy's reference:
    # CI saw it accepted on one draw.
    "list(curve >= target).index(True)":
        (epochs_by_list_index, r"(?s)works element by element .* with `list\.index` on a (random "
                               r"accuracy )?curve of [\d,]+ epochs.*Hint: .*A Python list of the "
                               r"curve or of the comparison \(list\(\.\.\.\), \.tolist\(\)\)"),
    "np.array(curve.tolist())":
        (epochs_through_tolist, r"(?s)(works element by element .* with `numpy\.ndarray\.tolist`"
                                r"|makes one Python object per element).*Hint: .*A Python "
                                r"list of the curve or of the comparison \(list\(\.\.\.\), "
                                r"\.tolist\(\)\)"),
    "(curve >= target).tolist().index(True)": (
        lambda c, t: (c >= t).tolist().index(True) if np.any(c >= t) else None,
        r"(?s)works element by element .* with `numpy\.ndarray\.tolist` on a (random "
        r"accuracy )?curve of [\d,]+ epochs"),
    "itertools.compress over the mask": (
        lambda c, t: next(itertools.compress(itertools.count(), c >= t), None),
        r"(?s)took \d+ ms.* on a curve of [\d,]+ epochs"),
    # Both sides transformed before the comparison: an entry one float step below the target
    # becomes equal to it (fixed targets 0.8, 0.93 and 0.9 in every draw).
    "both sides in percent (x 100)": (
        lambda c, t: first_hit(c * 100 >= t * 100),
        r"for curve = \[0\.5, 0\.7999999999999999, 0\.6, 0\.8, 0\.7\], target = 0\.8 returned "
        r"1; expected 3|target = 0\.\d+ returned \d+; expected \d+: .*below the target"),
    "both sides square-rooted": (
        lambda c, t: first_hit(np.sqrt(c) >= np.sqrt(t)),
        r"returned \d+; expected \d+: .*below the target, by 1e-16|target -0\.5"),
    "the check's own reference": (lambda c, t: ch05._epochs_to(c, t),
                                  r"calls `helpers\.exercises\.ch05\._epochs_to`, a part of "
                                  r"the check itself"),
    "the course's History.epochs_to": (epochs_by_the_course,
                                       r"calls `helpers\.nn\.History\.epochs_to`"),
    "the course's History.epochs_to in a lambda":
        (lambda c, t: nn.History.epochs_to(types.SimpleNamespace(acc=c), t, "acc"),
         r"calls `helpers\.nn\.History\.epochs_to`"),
    "a for loop": (epochs_with_a_loop, r"runs a Python loop"),
    "a generator": (epochs_with_a_generator, r"runs a Python loop"),
    "a list comprehension": (lambda c, t: ([e for e in range(len(c)) if c[e] >= t] or [None])[0],
                             r"runs a Python loop"),
    "modifies the curve in place": (lambda c, t: first_hit(np.greater_equal(c, t, out=c) > 0),
                                    r"modified its input `c` in place"),
    "a string": (lambda c, t: str(first_hit(c >= t)), r"returned str '7'; expected 7"),
}

RIGHT_EPOCHS_TO_TARGET = {
    "flatnonzero": lambda c, t: first_hit(np.asarray(c) >= t),
    "argmax with any()": lambda c, t: int(np.argmax(c >= t)) if np.any(c >= t) else None,
    "argmax, checking the entry": lambda c, t: (int(np.argmax(c >= t))
                                                if c[np.argmax(c >= t)] >= t else None),
    "~(c < t)": lambda c, t: first_hit(~(c < t)),
    "running maximum, searchsorted": lambda c, t: (
        int(np.searchsorted(np.maximum.accumulate(c), t)) if np.max(c) >= t else None),
    "nonzero, int()": lambda c, t: (int(np.nonzero(c >= t)[0][0]) if (c >= t).any()
                                    else None),
    "int() of np.argmax": lambda c, t: (int(np.argmax(c >= t)) if (c >= t).sum() > 0
                                        else None),
    "argwhere": lambda c, t: int(np.argwhere(c >= t)[0, 0]) if np.any(c >= t) else None,
    "int() of a numpy integer, .item()": lambda c, t: (np.flatnonzero(c >= t)[0].item()
                                                       if np.count_nonzero(c >= t) else None),
}


@pytest.mark.parametrize("name", WRONG_EPOCHS_TO_TARGET)
def test_epochs_to_target_rejects(name):
    answer, message = WRONG_EPOCHS_TO_TARGET[name]
    rejects(ch05.check_epochs_to_target, answer, message)


@pytest.mark.parametrize("name", RIGHT_EPOCHS_TO_TARGET)
def test_epochs_to_target_accepts_on_every_draw(name):
    accepts(ch05.check_epochs_to_target, RIGHT_EPOCHS_TO_TARGET[name],
            right_draws(RIGHT_EPOCHS_TO_TARGET, name))


def test_epochs_to_target_message_shows_the_curve():
    with pytest.raises(ExerciseError, match=r"curve = \[0\.3, 0\.5, .*\], target = 0\.9"):
        ch05.check_epochs_to_target(lambda c, t: first_hit(c > t))


def test_epochs_to_target_cases_sit_at_just_below_and_just_above_the_target():
    for seed in range(20):
        cases = [c for c in ch05.EPOCHS_TO_TARGET.draw(seed) if c.work is None]
        gaps = set()
        for case in cases:
            curve, target = case.args
            assert curve.ndim == 1 and curve.size >= 1 and curve.dtype == np.float64
            assert np.all((curve >= 0) & (curve <= 1))
            if curve.size <= 20_000:  # (the short cases hold them; a loop over millions is slow)
                gaps |= {round(float(g), 15) for g in curve - target}
        assert {0.0, -1e-12, 1e-12, -0.005} <= gaps, seed
        targets = [c.args[1] for c in cases]
        assert any(type(t) is int for t in targets)
        assert any(isinstance(t, np.floating) for t in targets)
        expected = [ch05._epochs_to(*c.args) for c in cases]
        assert None in expected and 0 in expected
        assert any(e is not None and c.args[0][-1] < c.args[1] for c, e in zip(cases, expected))


def test_epochs_to_target_message_points_at_the_case_it_names():
    """"case(seed, i)" in a message gives the very curve of the failing case, the work cases
    after the first ones included."""
    with pytest.raises(ExerciseError) as err:
        ch05.check_epochs_to_target(epochs_of_the_first_150, seed=7)
    text = str(err.value)
    index = int(text.split("ch05.EPOCHS_TO_TARGET.case(seed, ")[1].split(")")[0])
    (curve, target), _ = ch05.EPOCHS_TO_TARGET.case(7, index)
    assert curve.size > 150 and f"In case {index + 1} of" in text
    cases = ch05.EPOCHS_TO_TARGET.draw(7)
    assert [c.note["index"] for c in cases] == list(range(len(cases)))
    timed = [c for c in cases if c.work == "timed"]
    assert len(timed) == 1 and timed[0].args[0].size >= 1_600_000
    size = timed[0].args[0].size  # the first hit in the second half, before the last tenth
    hit = ch05._epochs_to(*timed[0].args)  # (or never: see the thirteenth reading's test)
    assert hit is None or size // 2 <= hit < 9 * size // 10


def test_the_tanh_network_reaches_the_target_and_ends_below_it():
    """What the comment on the check's "ends below" cases says of the chapter's tanh network:
    it first reaches 90 % validation accuracy at epoch 50 and ends at 87 %."""
    X, y = data.spirals(n=150, n_classes=3, noise=0.5, seed=0)
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, val_fraction=0.3, seed=0)
    net = nn.MLP([2, 32, 32, 3], activation="tanh", output="softmax", init="xavier", seed=0)
    history = net.fit(X_train, y_train, epochs=300, lr=0.02, optimizer="adam", X_val=X_val,
                      y_val=y_val, seed=0, diagnostics=False)
    assert history.epochs_to(0.9, "val_accuracy") == 50
    assert round(float(history.val_accuracy[-1]), 2) == 0.87


def test_epochs_to_target_not_answered():
    with pytest.raises(NotAnsweredYet):
        ch05.check_epochs_to_target(unfinished)


def test_epochs_to_target_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch05.EPOCHS_TO_TARGET, RIGHT_EPOCHS_TO_TARGET["argwhere"], tmp_path / "r",
                  monkeypatch).passed
    wrong = graded(ch05.EPOCHS_TO_TARGET, WRONG_EPOCHS_TO_TARGET["rounded to 2 decimals"][0],
                   tmp_path / "w", monkeypatch)
    assert not wrong.passed and "below the target" in wrong.message
    course = graded(ch05.EPOCHS_TO_TARGET, epochs_by_the_course, tmp_path / "c", monkeypatch)
    assert not course.passed and "helpers.nn" in course.message


# ---------------------------------------------------------------- exercise 4: output and loss
# Task: return {task: (output, loss)} for the tasks temperature, digit and tags; a pair is a
# tuple, a list or a dict with exactly the keys output and loss; names from ch05.OUTPUTS and
# ch05.LOSSES (case, spaces, hyphens and common synonyms do not matter); each loss takes what
# the output activation gives, so PyTorch's losses on logits (BCEWithLogitsLoss,
# CrossEntropyLoss) and NLLLoss are not among them.

OUTPUTS_RIGHT = {"temperature": ("identity", "mse"), "digit": ("softmax", "cross_entropy"),
                 "tags": ("sigmoid", "bce")}

WRONG_OUTPUT_CHOICE = {
    "softmax for multi-label tags": (dict(OUTPUTS_RIGHT, tags=("softmax", "cross_entropy")),
                                     r"'tags'.*compete"),
    "sigmoid per digit": (dict(OUTPUTS_RIGHT, digit=("sigmoid", "bce")), r"do not sum to 1"),
    "sigmoid for a temperature": (dict(OUTPUTS_RIGHT, temperature=("sigmoid", "bce")),
                                  r"out of reach"),
    "softmax for a temperature": (dict(OUTPUTS_RIGHT, temperature=("softmax", "cross_entropy")),
                                  r"not a class"),
    "regression for a digit": (dict(OUTPUTS_RIGHT, digit=("identity", "mse")),
                               r"'digit'.*unbounded scores"),
    "regression for tags": (dict(OUTPUTS_RIGHT, tags=("identity", "mse")),
                            r"'tags'.*unbounded scores"),
    "softmax with bce": (dict(OUTPUTS_RIGHT, digit=("softmax", "bce")), r"does not go with it"),
    "sigmoid with mse": (dict(OUTPUTS_RIGHT, tags=("sigmoid", "mse")), r"does not go with it"),
    "identity with bce": (dict(OUTPUTS_RIGHT, temperature=("identity", "bce")),
                          r"'temperature'.*does not go with it"),
    "pair in the wrong order": (dict(OUTPUTS_RIGHT, tags=("bce", "sigmoid")),
                                r"gives the loss first"),
    "a hidden activation as output": (dict(OUTPUTS_RIGHT, temperature=("relu", "mse")),
                                      r"unknown output activation 'relu'"),
    "a typo": (dict(OUTPUTS_RIGHT, digit=("sofmax", "cross_entropy")), r"Did you mean 'softmax'"),
    "an unknown loss": (dict(OUTPUTS_RIGHT, tags=("sigmoid", "hinge")), r"unknown loss"),
    "only the output": (dict(OUTPUTS_RIGHT, tags="sigmoid"), r"pair"),
    "a triple": (dict(OUTPUTS_RIGHT, tags=("sigmoid", "bce", "adam")), r"expected a pair"),
    "a dict pair with an extra key": (
        dict(OUTPUTS_RIGHT, digit={"output": "softmax", "loss": "cross_entropy", "lr": 0.1}),
        r"exactly the keys 'output' and 'loss'"),
    "a dict pair with other keys": (dict(OUTPUTS_RIGHT, digit={"act": "softmax", "loss": "ce"}),
                                    r"exactly the keys 'output' and 'loss'"),
    "a name that is not a string": (dict(OUTPUTS_RIGHT, tags=(None, "bce")),
                                    r"should be a string"),
    "a task missing": ({k: OUTPUTS_RIGHT[k] for k in ("temperature", "digit")},
                       r"missing key\(s\) 'tags'"),
    "one task answered twice": ({**OUTPUTS_RIGHT, "Tags": ("softmax", "cross_entropy")},
                                r"answers 'tags' more than once"),
    "a pair, not a dict": (("identity", "mse"), r"should return a dict"),
    # Framework losses that apply the output activation themselves, after that activation:
    # the activation twice (the chapter's silent bug), or probabilities where NLLLoss expects
    # log-probabilities.
    "sigmoid, then BCE with logits (a sigmoid twice)":
        (dict(OUTPUTS_RIGHT, tags=("sigmoid", "bce_with_logits")),
         r"(?s)task 'tags': 'bce_with_logits' is PyTorch's BCEWithLogitsLoss, which takes "
         r"logits and applies a sigmoid itself.*second sigmoid.*silent bug.*Hint: name the "
         r"loss from ch05\.LOSSES"),
    "sigmoid, then 'BCE with logits'": (dict(OUTPUTS_RIGHT, tags=("sigmoid", "BCE with logits")),
                                        r"'BCE with logits' is PyTorch's BCEWithLogitsLoss"),
    "sigmoid, then nn.BCEWithLogitsLoss()":
        (dict(OUTPUTS_RIGHT, tags=("Sigmoid", "nn.BCEWithLogitsLoss()")),
         r"BCEWithLogitsLoss.*second sigmoid"),
    "softmax, then CrossEntropyLoss (a softmax twice)":
        (dict(OUTPUTS_RIGHT, digit=("softmax", "CrossEntropyLoss")),
         r"(?s)task 'digit': 'CrossEntropyLoss' is PyTorch's CrossEntropyLoss, which takes "
         r"logits and applies log-softmax itself.*second softmax.*silent bug"),
    "softmax, then nll (probabilities where log-probabilities go)":
        (dict(OUTPUTS_RIGHT, digit=("softmax", "nll")),
         r"(?s)task 'digit': 'nll' is PyTorch's NLLLoss, which takes log-probabilities.*"
         r"-p\[y\] instead of -log p\[y\].*silent bug"),
    "softmax, then NLLLoss": (dict(OUTPUTS_RIGHT, digit=("softmax", "NLLLoss")),
                              r"'NLLLoss' is PyTorch's NLLLoss"),
    "identity, then BCEWithLogitsLoss (PyTorch's way, not this exercise's names)":
        (dict(OUTPUTS_RIGHT, tags=("identity", "BCEWithLogitsLoss")),
         r"(?s)with an identity output that is how PyTorch does it.*names the two parts apart"),
    "identity, then CrossEntropyLoss": (dict(OUTPUTS_RIGHT, digit=("identity", "CrossEntropyLoss")),
                                        r"how PyTorch does it"),
    "softmax for tags, then CrossEntropyLoss (the output first)":
        (dict(OUTPUTS_RIGHT, tags=("softmax", "CrossEntropyLoss")), r"'tags'.*compete"),
    "identity for a temperature, then BCE with logits":
        (dict(OUTPUTS_RIGHT, temperature=("identity", "bce_with_logits")),
         r"applies a sigmoid itself, so it does not go with the output 'identity'"),
    "sigmoid, then nll": (dict(OUTPUTS_RIGHT, tags=("sigmoid", "nll")),
                          r"takes log-probabilities.*does not go with the output 'sigmoid'"),
    # A framework's cross-entropy (a prefix nn., torch., F., or "logits" in the name) takes
    # logits: never read as the course's loss on probabilities, nor suggested as it.
    "softmax, then nn.CrossEntropy": (dict(OUTPUTS_RIGHT, digit=("softmax", "nn.CrossEntropy")),
                                      r"(?s)'nn\.CrossEntropy' is PyTorch's CrossEntropyLoss, "
                                      r"which takes logits.*second softmax.*silent bug"),
    "softmax, then torch.nn.CrossEntropy()":
        (dict(OUTPUTS_RIGHT, digit=("softmax", "torch.nn.CrossEntropy()")),
         r"(?s)'torch\.nn\.CrossEntropy\(\)' is PyTorch's CrossEntropyLoss.*second softmax"),
    "softmax, then F.cross_entropy": (dict(OUTPUTS_RIGHT, digit=("softmax", "F.cross_entropy")),
                                      r"(?s)'F\.cross_entropy' is PyTorch's CrossEntropyLoss.*"
                                      r"second softmax.*silent bug"),
    "softmax, then torch.nn.functional.cross_entropy":
        (dict(OUTPUTS_RIGHT, digit=("softmax", "torch.nn.functional.cross_entropy")),
         r"(?s)is PyTorch's CrossEntropyLoss.*second softmax"),
    "softmax, then softmax_cross_entropy (TensorFlow's, on logits)":
        (dict(OUTPUTS_RIGHT, digit=("softmax", "softmax_cross_entropy")),
         r"(?s)'softmax_cross_entropy' is a framework's loss on logits, like PyTorch's "
         r"CrossEntropyLoss.*second softmax"),
    "sigmoid, then F.binary_cross_entropy_with_logits":
        (dict(OUTPUTS_RIGHT, tags=("sigmoid", "F.binary_cross_entropy_with_logits")),
         r"(?s)is PyTorch's BCEWithLogitsLoss.*second sigmoid.*silent bug"),
    "sigmoid, then BinaryCrossentropy(from_logits=True)":
        (dict(OUTPUTS_RIGHT, tags=("sigmoid", "BinaryCrossentropy(from_logits=True)")),
         r"(?s)is a framework's loss on logits, like PyTorch's BCEWithLogitsLoss.*second "
         r"sigmoid"),
    "a framework's MSE (nn.MSELoss())":
        (dict(OUTPUTS_RIGHT, temperature=("identity", "nn.MSELoss()")),
         r"'nn\.MSELoss\(\)' is a framework's loss, not one of this exercise's names"),
    "Keras's CategoricalCrossentropy by its module path":
        (dict(OUTPUTS_RIGHT, digit=("softmax", "tf.keras.losses.CategoricalCrossentropy()")),
         r"is a framework's loss, not one of this exercise's names"),
    # log_loss names both cross-entropies; the message names no loss the student did not write.
    "softmax, then log_loss": (dict(OUTPUTS_RIGHT, digit=("softmax", "log_loss")),
                               r"'log_loss' is not one of the names: scikit-learn's log_loss.*"
                               r"names both 'bce' and 'cross_entropy'"),
    "softmax, then binary cross-entropy (named as written)":
        (dict(OUTPUTS_RIGHT, digit=("softmax", "binary cross-entropy")),
         r"the loss 'binary cross-entropy' \(that is 'bce'\) does not go with it"),
}

RIGHT_OUTPUT_CHOICE = {
    "canonical": dict(OUTPUTS_RIGHT),
    "aliases, lists and dicts": {
        "Temperature": ["linear", "mean_squared_error"],
        "digit": {"output": "Softmax", "loss": "categorical cross-entropy"},
        "tags": ("sigmoid", "binary_crossentropy"),
    },
    "other spellings": {"temperature": ("Identity", "MSE"), "digit": ("softmax", "CE"),
                        "tags": ("logistic", "binary cross-entropy")},
    # issue 23, fourth reading: a space or an underscore before "loss"
    "'MSE loss' and 'bce_loss'": {"temperature": ("identity", "MSE loss"),
                                  "digit": ("softmax", "cross-entropy"),
                                  "tags": ("sigmoid", "bce_loss")},
    # Framework names of losses that take probabilities, as the course's do.
    "losses on probabilities, by framework names": {
        "temperature": ("linear", "MSELoss"),
        "digit": ("softmax", "sparse_categorical_crossentropy"),
        "tags": ("sigmoid", "BCELoss")},
}


@pytest.mark.parametrize("name", WRONG_OUTPUT_CHOICE)
def test_output_choice_rejects(name):
    answer, message = WRONG_OUTPUT_CHOICE[name]
    rejects(ch05.check_output_choice, lambda: answer, message)


@pytest.mark.parametrize("name", RIGHT_OUTPUT_CHOICE)
def test_output_choice_accepts(name):
    accepts(ch05.check_output_choice, lambda: RIGHT_OUTPUT_CHOICE[name], draws(3))


def test_output_choice_names_are_printable_and_the_course_s():
    """The task points at ch05.OUTPUTS and ch05.LOSSES and the notebook prints them: the
    names of helpers.nn, each with what it gives or measures (no task in the text)."""
    assert tuple(ch05.OUTPUTS) == nn.OUTPUTS and tuple(ch05.LOSSES) == nn.LOSSES
    for text in (*ch05.OUTPUTS.values(), *ch05.LOSSES.values()):
        assert isinstance(text, str) and text
        assert not any(task in text for task in ch05.TASKS)


@pytest.mark.parametrize("loss", ["nn.CrossEntropy", "torch.nn.CrossEntropy()", "F.cross_entropy",
                                  "torch.nn.functional.cross_entropy", "softmax_cross_entropy",
                                  "nn.CrossEntropyLoss", "F.nll_loss", "log_loss",
                                  "tf.keras.losses.CategoricalCrossentropy()"])
def test_output_choice_never_suggests_a_loss_on_probabilities_for_a_framework_loss(loss):
    for task, out in (("digit", "softmax"), ("tags", "sigmoid")):
        with pytest.raises(ExerciseError) as err:
            answer = dict(OUTPUTS_RIGHT, **{task: (out, loss)})
            ch05.check_output_choice(lambda answer=answer: answer)
        assert "Did you mean" not in str(err.value)


def test_output_choice_not_answered():
    with pytest.raises(NotAnsweredYet):
        ch05.check_output_choice(unfinished)


def test_output_choice_autograding_path_agrees(tmp_path, monkeypatch):
    assert graded(ch05.OUTPUT_CHOICE, lambda: RIGHT_OUTPUT_CHOICE["other spellings"],
                  tmp_path / "r", monkeypatch).passed
    wrong = graded(ch05.OUTPUT_CHOICE, lambda: dict(OUTPUTS_RIGHT, tags=("softmax", "ce")),
                   tmp_path / "w", monkeypatch)
    assert not wrong.passed and "compete" in wrong.message


# ---------------------------------------------------------------- no answer key to read

def _plain_values(value, depth=0):
    """Every str, tuple and dict reachable from ``value`` through containers and Specs."""
    if depth > 4:
        return
    yield value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _plain_values(k, depth + 1)
            yield from _plain_values(v, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from _plain_values(v, depth + 1)
    elif isinstance(value, ch05.Spec):
        yield from _plain_values(vars(value), depth + 1)


def test_no_right_answers_in_the_module_globals():
    """Neither the diagnosis nor the output choice is readable from the module: no dict maps a
    run to its label or a task to its pair, and no text puts them side by side."""
    found = list(_plain_values(dict(vars(ch05))))
    for value in found:
        if isinstance(value, dict):
            assert not any(value.get(run) == label for run, label in RIGHT.items()
                           if isinstance(value.get(run), str)), value
            assert not any(value.get(task) == pair_ for task, pair_ in OUTPUTS_RIGHT.items()
                           if isinstance(value.get(task), tuple)), value
    texts = [v for v in found if isinstance(v, str)]
    for run, label in RIGHT.items():
        for text in texts:
            assert not (f"{run} is" in text and label.replace("_", " ") in text.lower()), text
    assert all(len(h) == 64 for h in ch05._DIAGNOSIS.values())
    assert ch05._digest("A", RIGHT["A"]) == ch05._DIAGNOSIS["A"]  # what the check compares


# ----------------------------------------------------------------------------- issue 23,
# fourth reading: a result kept by W_before alone; a target read as a percentage; a tolerance
# below 0.5.


def _ratio_kept_by_w_before():
    kept = {}

    def answer(a, b):
        key = (np.asarray(a).tobytes(), np.shape(a), np.asarray(a).dtype.str)
        if key not in kept:
            a64, b64 = np.asarray(a, float), np.asarray(b, float)
            kept[key] = float(np.linalg.norm(b64 - a64) / np.linalg.norm(a64))
        return kept[key]
    return answer


def epochs_target_as_percentage(curve, target):
    if target > 1:
        target = target / 100
    hits = np.flatnonzero(np.asarray(curve) >= target)
    return int(hits[0]) if hits.size else None


def epochs_with_a_tiny_tolerance(curve, target):
    c = np.asarray(curve)
    hits = np.flatnonzero((c >= target) | np.isclose(c, target, rtol=0, atol=1e-16))
    return int(hits[0]) if hits.size else None


WRONG_UPDATE_RATIO.update({
    "a result kept by W_before alone": (_ratio_kept_by_w_before(), r"W_before|is 0\.\d+|"
                                                                    r"expected"),
})

WRONG_EPOCHS_TO_TARGET.update({
    "a target above 1 read as a percentage": (epochs_target_as_percentage,
                                              r"target = 1\.000000000001 returned|"
                                              r"target = 90 returned"),
    "a tolerance of 1e-16": (epochs_with_a_tiny_tolerance, r"one float step below a low "
                                                           r"target|returned (\d+|None); expected"),
    # Other rescalings of both sides: each merges an entry one float step below with the target
    # for a few targets in a hundred, and every draw finds such a target for it.
    "both sides per mille (x 1000)": (lambda c, t: first_hit(c * 1000 >= t * 1000),
                                      r"equal to it x 1000|returned (\d+|None); expected"),
    "both sides x 10": (lambda c, t: first_hit(c * 10 >= t * 10),
                        r"equal to it x 10|returned (\d+|None); expected"),
    "both sides x 1e6": (lambda c, t: first_hit(c * 1e6 >= t * 1e6),
                         r"equal to it x 1e6|returned (\d+|None); expected"),
    "both sides divided by 100": (lambda c, t: first_hit(c / 100 >= t / 100),
                                  r"equal to it / 100|returned (\d+|None); expected"),
    "both sides as exp": (lambda c, t: first_hit(np.exp(c) >= math.exp(t)),
                          r"equal to it as exp|returned (\d+|None); expected"),
    "both sides as log": (lambda c, t: first_hit(np.log(c) >= math.log(t)),
                          r"equal to it as log|returned (\d+|None); expected|"
                          r"target (0 \(an int\)|0\.0|-0\.5)"),
})

WRONG_EPOCHS_TO_TARGET.update({
    "both sides divided by 0.01": (lambda c, t: first_hit(c / 0.01 >= t / 0.01),
                                   r"equal to it / 0\.01|returned (\d+|None); expected"),
    "error rates compared, 1 - c <= 1 - t": (
        lambda c, t: first_hit(1 - c <= 1 - t),
        r"equal to it as 1 - value|returned (\d+|None); expected"),
})


# issue 23, seventh reading: results kept between calls by a summary of the input (sums, ends,
# extremes); every draw now has twins (two inner values swapped) that share any such summary.
WRONG_UPDATE_RATIO.update({
    f"a ratio kept by the weights' {what}": (
        kept_by(summary)(RIGHT_UPDATE_RATIO["np.linalg.norm, float()"]),
        r"two inner values swapped|is \S+, expected")
    for what, summary in (("sums", sum_of), ("ends", ends_of), ("extremes", extremes_of))})
WRONG_EPOCHS_TO_TARGET.update({
    f"an epoch kept by the curve's {what} and the target": (
        kept_by(summary)(RIGHT_EPOCHS_TO_TARGET["flatnonzero"]),
        r"two inner values swapped|returned \S+; expected")
    for what, summary in (("sum", sum_of), ("ends", ends_of), ("extremes", extremes_of))})


def ratio_written_into_large_inputs(W_before, W_after):
    """Writes the step into the caller's W_after when the matrix is large (no temporary)."""
    if W_after.size > 10_000:
        a = np.require(W_after, requirements="W")  # copies only when it is read-only
        a -= W_before
        return float(np.linalg.norm(a) / np.linalg.norm(W_before))
    return RIGHT_UPDATE_RATIO["np.linalg.norm, float()"](W_before, W_after)


WRONG_UPDATE_RATIO["the step written into a large W_after"] = (
    ratio_written_into_large_inputs, r"modified its input")


def epochs_by_where_min(c, t):
    first = int(np.where(c >= t, np.arange(c.size), c.size).min()) if c.size else 0
    return first if first < c.size else None


def epochs_by_cumsum(c, t):
    hits = np.cumsum(c >= t)
    return int(np.searchsorted(hits, 1)) if hits.size and hits[-1] else None


def epochs_by_masked_edges(c, t):
    edges = np.ma.flatnotmasked_edges(np.ma.masked_less(c, t))
    return None if edges is None else int(edges[0])


# issue 23, seventh reading: right answers that read the whole curve several times (a reader
# saw them refused for time on a busy machine; the timing now re-measures numpy alongside).
RIGHT_EPOCHS_TO_TARGET.update({
    "np.where(..., arange, size).min()": epochs_by_where_min,
    "cumsum and searchsorted": epochs_by_cumsum,
})
# Not in the catalogue: `np.ma.flatnotmasked_edges` (epochs_by_masked_edges). On the timed
# curve it takes 3 to 10 times numpy's own time (about 7 ms on a quiet machine), within the
# limit only thanks to its 10 ms floor, which two test processes on two cores push it past
# (refused at 12 ms against 11.5 in 2 of 3 runs of 100 draws): the text's rule, 5 times
# numpy's time, does not promise it a tick, so a test must not either.


# issue 23, eighth reading: loops and caches kept for some dtypes, a ratio fitted to the
# timed pairs' step, shortcuts fitted to the long curves.


def ratio_loop_unless_float64(W_before, W_after):
    if W_before.dtype != np.float64:
        num = sum((float(a) - float(b)) ** 2 for a, b in zip(W_after.ravel().tolist(),
                                                              W_before.ravel().tolist()))
        den = sum(float(b) ** 2 for b in W_before.ravel().tolist())
        return math.sqrt(num / den)
    return RIGHT_UPDATE_RATIO["np.linalg.norm, float()"](W_before, W_after)


def ratio_fitted_to_large_pairs(W_before, W_after):
    if W_before.size > 100_000:
        return 1e-3
    return RIGHT_UPDATE_RATIO["np.linalg.norm, float()"](W_before, W_after)


def epochs_float16_for_long_curves(c, t):
    if c.size > 100_000:
        return first_hit(c.astype(np.float16) >= np.float16(t))
    return first_hit(c >= t)


def epochs_last_tenth_for_long_curves(c, t):
    if c.size > 100_000:
        start = int(c.size * 0.9)
        hit = first_hit(c[start:] >= t)
        return None if hit is None else start + hit
    return first_hit(c >= t)


WRONG_UPDATE_RATIO.update({
    "a Python loop unless the weights are float64": (ratio_loop_unless_float64,
                                                     r"runs a Python loop|works element by "
                                                     r"element"),
    "1e-3 for large matrices": (ratio_fitted_to_large_pairs, r"is \S+, expected|1,000,000"),
})
WRONG_EPOCHS_TO_TARGET.update({
    "float16 for long curves": (epochs_float16_for_long_curves,
                                r"a curve of [\d,]+ (epochs|entries)|returned (\d+|None); "
                                r"expected"),
    "the last tenth of long curves": (epochs_last_tenth_for_long_curves,
                                      r"a curve of [\d,]+ (epochs|entries)|returned \S+; "
                                      r"expected"),
    "both sides x 60": (lambda c, t: first_hit(c * 60 >= t * 60),
                        r"equal to it x 60|returned (\d+|None); expected"),
})


# The tenth reading's: targets outside [0, 1], long curves reached early, and
# names written as formulas (the double activation of section 6 among them).
def _search_from(fraction: float, longer_than: int):
    def epochs(c, t):
        if len(c) > longer_than:
            off = int(len(c) * fraction)
            e = first_hit(c[off:] >= t)
            return None if e is None else e + off
        return first_hit(c >= t)
    return epochs


def _every_other_of_long(c, t):
    if len(c) > 100_000:
        e = first_hit(c[::2] >= t)
        return None if e is None else 2 * e
    return first_hit(c >= t)


WRONG_EPOCHS_TO_TARGET.update({
    "an int target compared with ==": (
        lambda c, t: first_hit(c == t) if isinstance(t, int) else first_hit(c >= t),
        r"target 0 \(an int\)|target 90|returned (\d+|None); expected"),
    "a target above 1.5 read as a percentage": (
        lambda c, t: first_hit(c >= (t / 100 if t > 1.5 else t)), r"target 90"),
    "None for a target of 0 or below": (
        lambda c, t: None if t <= 0 else first_hit(c >= t), r"target (0|0\.0|-0\.5)"),
    "curve / target >= 1": (lambda c, t: first_hit(c / t >= 1),
                            r"target (0|0\.0|-0\.5)|returned (\d+|None); expected"),
    "the second half of long curves": (_search_from(0.5, 1000),
                                       r"a curve of [\d,]+ (epochs|entries)"),
    "the last two thirds of long curves": (_search_from(1 / 3, 1000),
                                           r"a curve of [\d,]+ (epochs|entries)"),
    "every other epoch of long curves": (_every_other_of_long,
                                         r"a curve of [\d,]+ (epochs|entries)"),
})


def _outputs_with(**pairs):
    return dict(OUTPUTS_RIGHT, **pairs)


WRONG_OUTPUT_CHOICE.update({
    "a second softmax inside the loss, as a formula": (
        _outputs_with(digit=("softmax", "cross_entropy(softmax(p))")), r"a formula"),
    "a second sigmoid inside the loss, as a formula": (
        _outputs_with(tags=("sigmoid", "bce(sigmoid(p))")), r"a formula"),
    "sigmoid of a softmax as the output": (
        _outputs_with(tags=("sigmoid(softmax(z))", "bce")), r"a formula"),
    "identity of a sigmoid as the output": (
        _outputs_with(temperature=("identity(sigmoid(z))", "mse")), r"a formula"),
    "cross-entropy of log-softmax": (
        _outputs_with(digit=("softmax", "cross_entropy(log_softmax(z))")), r"a formula"),
})


def _ratio_by_loop_when(condition):
    """The right ratio, by a Python loop over the entries when ``condition(W_before)``."""
    def update_ratio(W_before, W_after):
        if condition(W_before):
            num = den = 0.0
            for x, y in zip(W_before.ravel().tolist(), W_after.ravel().tolist()):
                num += (float(y) - float(x)) ** 2
                den += float(x) ** 2
            return math.sqrt(num) / math.sqrt(den)
        return float(np.linalg.norm(W_after - W_before) / np.linalg.norm(W_before))
    return update_ratio


WRONG_UPDATE_RATIO.update({
    "a loop for int32 matrices only": (_ratio_by_loop_when(lambda W: W.dtype == np.int32),
                                       r"(?s)int32: .*Python loop|(Python loop|element by "
                                       r"element).*int32"),
    "a loop for one row or one column only": (
        _ratio_by_loop_when(lambda W: 1 in W.shape),
        r"one (row|column): .*Python loop|(Python loop|element by element).*(one (row|column)"
        r"|a 1 x [\d,]+ |a [\d,]+ x 1 )"),
})


RIGHT_OUTPUT_CHOICE.update({
    "Keras's class names": {"temperature": ("linear", "MeanSquaredError"),
                            "digit": ("softmax", "CategoricalCrossentropy"),
                            "tags": ("sigmoid", "BinaryCrossentropy")},
})


# Eleventh reading: settings in a name, rescaled comparisons, tolerances on realistic curves,
# square matrices, int32 squares, and the names students use for the faults.
WRONG_OUTPUT_CHOICE.update({
    "softmax over the batch (dim=0)": (_outputs_with(digit=("nn.Softmax(dim=0)",
                                                            "cross_entropy")),
                                       r"sets an argument"),
    "a cross-entropy with label smoothing 1": (
        _outputs_with(digit=("softmax", "cross_entropy(label_smoothing=1.0)")),
        r"sets an argument"),
    "a bce with weight 0": (_outputs_with(tags=("sigmoid", "bce(weight=0)")),
                            r"sets an argument"),
    "'negative log likelihood'": (_outputs_with(digit=("softmax", "negative log likelihood")),
                                  r"names both"),
})

RIGHT_OUTPUT_CHOICE.update({
    "Keras's names with from_logits=False": {
        "temperature": ("identity()", "mse"),
        "digit": ("softmax", "categorical_crossentropy(from_logits=False)"),
        "tags": ("sigmoid", "BinaryCrossentropy(from_logits=False)")},
})

WRONG_EPOCHS_TO_TARGET.update({
    "both sides x 0.9": (lambda c, t: first_hit(np.asarray(c) * 0.9 >= t * 0.9),
                         r"below the target"),
    "a 1e-14 tolerance on curves of 10 to 150 epochs": (
        lambda c, t: first_hit(np.asarray(c) + (1e-14 if 10 <= len(c) <= 150 else 0.0) >= t),
        r"below the target"),
})


def _per_column_mean_when_square(W_before, W_after):
    if W_before.shape[0] == W_before.shape[1] > 1:
        return float(np.mean(norm(W_after - W_before, axis=0) / norm(W_before, axis=0)))
    return float(norm(W_after - W_before) / norm(W_before))


WRONG_UPDATE_RATIO.update({
    "a mean of per-column ratios on square matrices": (_per_column_mean_when_square,
                                                       r"square .*per column|per column"),
    "squares taken in int32": (lambda a, b: float(np.sqrt(np.sum((b - a) * (b - a)))
                                                  / np.sqrt(np.sum(a * a))),
                               r"squares of int32 entries .* wrap around"),
})

RIGHT_DIAGNOSIS.update({
    "more synonyms": {"A": "low learning rate", "B": "vanishing gradient problem",
                      "C": "dying ReLU problem"},
    "symptom names": {"A": "tiny updates", "B": "gradient vanishing", "C": "dead relu"},
})


# Twelfth reading: a tolerance kept for one kind of target, and a float percentage.
WRONG_EPOCHS_TO_TARGET.update({
    "a tolerance for int targets": (
        lambda c, t: first_hit(np.asarray(c) + (1e-14 if type(t) is int else 0.0) >= t),
        r"below the target|returned \d+; expected"),
    "a tolerance for numpy float targets": (
        lambda c, t: first_hit(np.asarray(c) + (1e-9 if isinstance(t, np.floating) else 0.0)
                               >= t), r"below the target|returned \d+; expected"),
    "one float step of tolerance on targets of 0.99 and above": (
        lambda c, t: first_hit((np.nextafter(np.asarray(c), 2.0) if 0.99 <= t < 1
                                else np.asarray(c)) >= t),
        r"below the target|returned \d+; expected"),
    "a 1e-3 tolerance on low targets": (
        lambda c, t: first_hit(np.asarray(c) + (1e-3 if t < 0.2 else 0.0) >= t),
        r"below the (low )?target|returned \d+; expected"),
    "a float target of 2 or more read as a percentage": (
        lambda c, t: first_hit(np.asarray(c) >= (t / 100 if isinstance(t, float) and t >= 2
                                                 else t)),
        r"target = 90\.0 returned \d+; expected None|returned \d+; expected None"),
})


# Twelfth reading, the rest: float32 and integer matrices of every size, memory layouts other
# than C order, and curves of every length.
def _ratio_unless(condition, value=0.5):
    """The right ratio, except ``value`` for the pairs where ``condition(W_before, W_after)``."""
    def update_ratio(W_before, W_after):
        if condition(W_before, W_after):
            return value
        return float(norm(W_after - W_before) / norm(W_before))
    return update_ratio


def ratio_int32_dot(W_before, W_after):
    # A dot product of the flattened int32 matrices: each square fits, their sum need not.
    d, x = (W_after - W_before).ravel(), W_before.ravel()
    if W_before.dtype == np.int32 and W_before.size > 40:
        return float(np.sqrt(d @ d) / np.sqrt(x @ x))
    return float(norm(W_after - W_before) / norm(W_before))


def ratio_frombuffer(W_before, W_after):
    # "Flatten without a copy": the raw buffer, which only a C-contiguous array has.
    x = np.frombuffer(W_before, dtype=W_before.dtype).astype(np.float64)
    y = np.frombuffer(W_after, dtype=W_after.dtype).astype(np.float64)
    return float(np.sqrt(np.sum((y - x) ** 2) / np.sum(x**2)))


def ratio_in_memory_order(W_before, W_after):
    # Each matrix flattened in its own memory order: right while both have the same layout.
    x, y = W_before.ravel(order="K"), W_after.ravel(order="K")
    return float(norm(y.astype(float) - x) / norm(x.astype(float)))


def ratio_scaled_for_float32(factor):
    def update_ratio(W_before, W_after):
        r = float(norm(W_after - W_before) / norm(W_before))
        return r * factor if W_before.dtype == np.float32 else r
    return update_ratio


WRONG_UPDATE_RATIO.update({
    "0.5 for float32 matrices of more than 2,000 entries": (
        _ratio_unless(lambda a, b: a.dtype == np.float32 and a.size > 2000),
        r"(?s)is 0\.5, expected .*float32: a [\d,]+ x [\d,]+ matrix"),
    "0.5 for integer matrices of more than 2,000 entries": (
        _ratio_unless(lambda a, b: a.dtype.kind == "i" and a.size > 2000),
        r"(?s)is 0\.5, expected .*int(32|64): a [\d,]+ x [\d,]+ matrix"),
    "int32 sums of squares by a dot product": (ratio_int32_dot, r"added up in int32"),
    "0.5 unless both matrices are C-contiguous": (
        _ratio_unless(lambda a, b: not (a.flags.c_contiguous and b.flags.c_contiguous)),
        r"(?s)is 0\.5, expected .*(Fortran order|strided views)"),
    "0.5 for Fortran-order matrices": (
        _ratio_unless(lambda a, b: a.flags.f_contiguous and not a.flags.c_contiguous),
        r"(?s)is 0\.5, expected .*Fortran order"),
    "np.frombuffer to flatten": (ratio_frombuffer, r"not C-contiguous"),
    "each matrix flattened in its own memory order": (
        ratio_in_memory_order, r"(?s)W_(before|after) in Fortran order \(as a transpose is\), "
                               r"the other (in C order|as a strided view)"),
    "float32 ratio off by 2.5e-6": (ratio_scaled_for_float32(1 + 2.5e-6),
                                    r"(?s)float32.*float32's rounding"),
    "float32 ratio off by 3e-6": (ratio_scaled_for_float32(1 - 3e-6),
                                  r"(?s)float32.*float32's rounding"),
})

RIGHT_UPDATE_RATIO.update({
    "on the transposes": lambda a, b: float(norm(b.T - a.T) / norm(a.T)),
    "einsum in the weights' own float dtype": lambda a, b: (
        float(np.sqrt(np.einsum("ij,ij->", b - a, b - a) / np.einsum("ij,ij->", a, a)))
        if a.dtype.kind == "f" else float(norm(b - a) / norm(a))),
    "np.ravel in memory order of both (same layout)": lambda a, b: float(
        norm(np.ravel(b - a, order="K")) / norm(np.ravel(a, order="K"))),
})


def test_update_ratio_draws_sizes_and_layouts():
    """Float32, int32 and int64 matrices beyond 43 x 44 on every draw (one of them up to
    2,000,000 entries), integer ones with entries beyond 46,340 (squares beyond int32's
    range) and sums of squares beyond it,
    and pairs in Fortran order, as strided views, and in two layouts at once."""
    largest = {}
    for seed in range(20):
        cases = ch05.UPDATE_RATIO.draw(seed)
        pairs = [ch05._pair(c) for c in cases]
        for dtype in (np.float32, np.int32, np.int64):
            sizes = [W.size for W, _ in pairs if W.dtype == dtype]
            assert max(sizes) > 1936, (seed, dtype)
            largest[dtype] = max(largest.get(dtype, 0), *sizes)
        for dtype in (np.int32, np.int64):  # squares beyond int32's range, large sums too
            large = [W for W, _ in pairs if W.dtype == dtype and W.size > 1936]
            assert all(46_340 < np.abs(W).max() <= 100_000 for W in large), (seed, dtype)
            assert all(np.sum(W.astype(np.int64) ** 2) > 2**31 for W in large), (seed, dtype)
        orders = {c.order for c in cases}
        assert {"F", "S"} <= orders, seed
        built = [ch05._pair(c) for c in cases if any(isinstance(a, ch05.Build) for a in c.args)]
        assert any(W.flags.f_contiguous != W2.flags.f_contiguous for W, W2 in built)
    assert all(v > 100_000 for v in largest.values()), largest


def test_update_ratio_float32_tolerance_holds_for_numpy_s_own_float32_sums():
    """The float32 tolerance covers what numpy's float32 reductions give (its BLAS dot product,
    whose rounding grows with the number of entries), and refuses a result off by a few
    float32 roundings on small matrices."""
    rng = np.random.default_rng(3)
    for n in (12, 1936, 100_000, 2_000_000):
        W = rng.normal(0, 0.5, (n // 2, 2))
        W2 = W + 1e-3 * rng.normal(size=W.shape)
        a, b = W.astype(np.float32), W2.astype(np.float32)
        right = ch05._ratio(a, b)
        for value in (norm(b - a) / norm(a), np.sqrt(np.sum((b - a) ** 2) / np.sum(a * a))):
            assert abs(float(value) / right - 1) <= ch05._float32_rtol(a.size) / 5
    assert 2.5e-6 > ch05._float32_rtol(12) * 1.5


def _epochs_unless(condition):
    """The first hit, except None where ``condition(curve)``."""
    def epochs(c, t):
        return None if condition(c) else first_hit(np.asarray(c) >= t)
    return epochs


def epochs_frombuffer(c, t):
    return first_hit(np.frombuffer(c, dtype=np.float64) >= t)


WRONG_EPOCHS_TO_TARGET.update({
    "None for a curve that is not C-contiguous": (
        _epochs_unless(lambda c: not c.flags.c_contiguous),
        r"(?s)returned None; expected \d+.*strided view"),
    "np.frombuffer of the curve": (epochs_frombuffer, r"not C-contiguous"),
    "None for 151 to 2,999 entries (the chapter's 301 among them)": (
        _epochs_unless(lambda c: 151 <= len(c) < 3000), r"returned None; expected \d+"),
    "None for 3,001 to 199,999 entries": (
        _epochs_unless(lambda c: 3000 < len(c) < 200_000), r"returned None; expected \d+"),
    "None for 200,001 to 1,999,999 entries": (
        _epochs_unless(lambda c: 200_000 < len(c) < 2_000_000),
        r"(?s)a curve of [\d,]+ (entries|epochs).*returned None; expected \d+"),
})


def test_epochs_to_target_draws_lengths_and_layouts():
    """Curve lengths in every band on every draw (301 entries, as the chapter's 300 epochs give,
    among them), the long ones drawn too, and a strided curve."""
    for seed in range(20):
        cases = ch05.EPOCHS_TO_TARGET.draw(seed)
        reached = [c.args[0].size for c in cases if ch05._epochs_to(*c.args) is not None]
        assert 301 in reached
        for low, high in ((10, 150), (151, 2999), (3001, 199_999), (200_001, 1_999_999)):
            assert any(low <= n <= high for n in reached), (seed, low, high)
        assert any(c.order == "S" and c.args[0].size > 12 for c in cases)
    sizes = {c.args[0].size for seed in range(5) for c in ch05.EPOCHS_TO_TARGET.draw(seed)
             if c.work == "timed"}
    assert len(sizes) == 5 and min(sizes) >= 1_600_000


# Thirteenth reading: float32 pairs as long as the text allows on every draw, their step
# spiked in the first and last rows and columns (a row or a column left out shows above
# float32's rounding), and a long curve that never reaches its target on every draw.
def _f32_long(b):
    return b.dtype == np.float32 and b.size > 100_000


def _ratio32(b, a):
    return norm(a - b) / norm(b)


def ratio_without_the_first_row_of_long_float32(b, a):
    # The reader's: float32 with a dimension above 100,000, the first row (or column) left out.
    if b.dtype == np.float32 and b.shape[0] > 100_000:
        return _ratio32(b[1:], a[1:])
    if b.dtype == np.float32 and b.shape[1] > 100_000:
        return _ratio32(b[:, 1:], a[:, 1:])
    return _ratio32(b, a)


def ratio_without_the_last_rows_of_long_float32(b, a):
    if b.dtype == np.float32 and b.shape[0] > 100_000:
        return _ratio32(b[:-10], a[:-10])
    if b.dtype == np.float32 and b.shape[1] > 100_000:
        return _ratio32(b[:, :-10], a[:, :-10])
    return _ratio32(b, a)


def _ratio_of_float32_part(part):
    """The ratio of ``part(W)`` for float32 matrices of more than 100,000 entries."""
    def update_ratio(b, a):
        return _ratio32(part(b), part(a)) if _f32_long(b) else _ratio32(b, a)
    return update_ratio


def _ratio_scaled_for_long_float32(factor):
    def update_ratio(b, a):
        return _ratio32(b, a) * (factor if _f32_long(b) else 1.0)
    return update_ratio


_FLOAT32_CASE = r"(?s)for the float32 [\d]+ x [\d]+ matrices of this case"
WRONG_UPDATE_RATIO.update({
    "float32, a dimension above 100,000: the first row or column left out": (
        ratio_without_the_first_row_of_long_float32,
        _FLOAT32_CASE + r".*this leaves out the first (row|column) of each matrix"),
    "float32, more than 1,000 rows: the first row left out": (
        lambda b, a: (_ratio32(b[1:], a[1:]) if b.dtype == np.float32 and b.shape[0] > 1000
                      else _ratio32(b, a)),
        _FLOAT32_CASE + r".*this leaves out the first row of each matrix"),
    "float32, a dimension above 100,000: the last ten rows or columns left out": (
        ratio_without_the_last_rows_of_long_float32, _FLOAT32_CASE + r".*is \S+, expected"),
    "float32 above 100,000 entries: every other row": (
        _ratio_of_float32_part(lambda W: W[::2]),
        _FLOAT32_CASE + r".*(every other row|is \S+, expected)"),
    "float32 above 100,000 entries: the first 1,000 rows": (
        _ratio_of_float32_part(lambda W: W[:1000]), _FLOAT32_CASE + r".*is \S+, expected"),
    "float32 above 100,000 entries: the first 1,000 entries": (
        _ratio_of_float32_part(lambda W: W.ravel()[:1000]),
        _FLOAT32_CASE + r".*is \S+, expected"),
    "float32 above 100,000 entries: every other entry": (
        _ratio_of_float32_part(lambda W: W.ravel()[::2]),
        _FLOAT32_CASE + r".*is \S+, expected"),
    "float32 above 100,000 entries: x 1.001": (_ratio_scaled_for_long_float32(1.001),
                                               _FLOAT32_CASE + r".*is \S+, expected"),
    "float32 above 100,000 entries: x 1.01": (_ratio_scaled_for_long_float32(1.01),
                                              _FLOAT32_CASE + r".*is \S+, expected"),
    "float32 above 100,000 entries: 0.0": (_ratio_scaled_for_long_float32(0.0),
                                           _FLOAT32_CASE + r".*is 0, expected"),
    "0.5 for float32 above 200,000 entries": (
        _ratio_unless(lambda a, b: a.dtype == np.float32 and a.size > 200_000),
        _FLOAT32_CASE + r".*is 0\.5, expected"),
})

RIGHT_UPDATE_RATIO.update({
    # (for float32 only: numpy's norm along an axis is slow on the timed float64 pair)
    "float32 norms per column, then their norm (a sum along the rows, term by term)": (
        lambda a, b: float(norm(norm(b - a, axis=0)) / norm(norm(a, axis=0)))
        if a.dtype == np.float32 else float(norm(b - a) / norm(a))),
    "root mean squares in float64": in_float64(
        lambda a, b: math.sqrt(np.mean((b - a) ** 2) / np.mean(a * a))),
})


def _epochs_no_none_beyond(length):
    """The reader's: for curves longer than ``length``, argmax of the mask (0 when the
    target is never reached)."""
    def epochs(c, t):
        m = c >= t
        if len(c) > length:
            return int(np.argmax(m))
        return int(np.argmax(m)) if m.any() else None
    return epochs


WRONG_EPOCHS_TO_TARGET.update({
    "no None for curves above 200,000 entries": (_epochs_no_none_beyond(200_000),
                                                 r"returned 0; expected None"),
    "no None for curves above 1,000,000 entries": (_epochs_no_none_beyond(1_000_000),
                                                   r"returned 0; expected None"),
    "even entries only of curves above 100,000 entries": (
        lambda c, t: (None if first_hit(c[::2] >= t) is None else 2 * first_hit(c[::2] >= t))
        if c.size > 100_000 else first_hit(c >= t),
        r"a curve of [\d,]+ entries .*returned (\d+|None); expected"),
})

RIGHT_EPOCHS_TO_TARGET.update({
    "argmax guarded by the maximum": lambda c, t: (int(np.argmax(c >= t)) if c.max() >= t
                                                   else None),
    "sign of the difference": lambda c, t: first_hit(np.sign(c - t) >= 0),
})


def test_update_ratio_draws_long_float32_pairs_with_spiked_steps():
    """Every draw: two float32 pairs of 200,000 to a million rows (or columns), one tall and
    one wide, each with its step large in its first and last rows and columns; on some
    draws the first holds more than 2,000,000 entries."""
    shapes, past = set(), 0
    for seed in range(12):
        long = [c for c in ch05.UPDATE_RATIO.draw(seed) if c.work is None
                and ch05._pair(c)[0].dtype == np.float32 and max(ch05._pair(c)[0].shape) >= 200_000]
        assert len(long) == 2, seed
        past += long[0].args[0].size > 2_000_000
        assert {W.shape[0] > W.shape[1] for W, _ in (c.args for c in long)} == {True, False}
        for W, W2 in (c.args for c in long):
            assert W.dtype == np.float32 and max(W.shape) <= 1_000_000
            shapes.add(W.shape[0] > W.shape[1])
            step = np.abs(W2.astype(float) - W)
            typical = np.median(step)
            for edge in (step[0], step[-1], step[:, 0], step[:, -1]):
                assert edge.max() > 100 * typical, seed
    assert past > 0


def test_epochs_to_target_draws_a_long_curve_that_never_reaches_its_target():
    """Every draw: a curve of 1,800,000 entries or more that never reaches its target (its
    best entry one float step below it), as long as the longest curve of the draw."""
    for seed in range(16):
        cases = ch05.EPOCHS_TO_TARGET.draw(seed)
        longest = max(c.args[0].size for c in cases)
        never = [c.args for c in cases
                 if c.args[0].size > 1_600_000 and ch05._epochs_to(*c.args) is None]
        assert never, seed
        for curve, target in never:
            assert curve.max() == np.nextafter(target, 0)
        assert max(curve.size for curve, _ in never) == longest >= 1_800_000, seed
        assert longest <= ch05.LONGEST_CURVE


# Fourteenth reading: int32 squares taken in int32 on large matrices only (the large int32
# pair kept its entries below 46,340), curves whose first hit is at an end or late in a long
# curve (no case had one), and labels picked from a numpy array (np.str_).
def _ratio_squared_in_int32_when_large(cast_int64: bool):
    """The reader's: for large integer matrices, squares in int32 (wrapping above 46,340),
    sums in int64; right otherwise."""
    def update_ratio(a, b):
        if (a.dtype == np.int32 or cast_int64 and a.dtype.kind == "i") and a.size > 1000:
            a, b = a.astype(np.int32), b.astype(np.int32)
            d = b - a
            return float(np.sqrt(np.sum(d * d, dtype=np.int64) / np.sum(a * a, dtype=np.int64)))
        return float(norm((b - a).astype(float)) / norm(a.astype(float)))
    return update_ratio


WRONG_UPDATE_RATIO.update({
    "int32 squares on large int32 matrices only": (
        _ratio_squared_in_int32_when_large(False),
        r"(?s)squares of int32 entries above 46,340 do not fit.*int32: a [\d,]+ x [\d,]+ "
        r"matrix"),
    "integers cast to int32 and squared there, on large matrices only": (
        _ratio_squared_in_int32_when_large(True),
        r"(?s)(squares of int32 entries|int64 weights, squared in int32: the squares of "
        r"entries) above 46,340.*int(32|64): a [\d,]+ x [\d,]+ matrix"),
})


def _first_hit_of(part):
    """The first hit searched in ``part(curve)`` only (a view from the start of the curve)."""
    def epochs(c, t):
        return first_hit(part(c) >= t)
    return epochs


def _epochs_skipping_entry_0_beyond(length):
    def epochs(c, t):
        if c.size > length:
            e = first_hit(c[1:] >= t)
            return None if e is None else e + 1
        return first_hit(c >= t)
    return epochs


WRONG_EPOCHS_TO_TARGET.update({
    "only the first 200,000 entries": (_first_hit_of(lambda c: c[:200_000]),
                                       r"returned None; expected \d{6,}"),
    "only the first 50,000 entries": (_first_hit_of(lambda c: c[:50_000]),
                                      r"returned None; expected \d{5,}"),
    "only the first tenth of curves above 200,000 entries": (
        _first_hit_of(lambda c: c[:c.size // 10 + 1] if c.size > 200_000 else c),
        r"returned None; expected \d{6,}"),
    "the last entry left out of curves above 50 entries": (
        _first_hit_of(lambda c: c[:-1] if c.size > 50 else c),
        r"returned None; expected \d+: .*its last entry, and nowhere before"),
    "the last tenth left out of curves above 1,000 entries": (
        _first_hit_of(lambda c: c[:c.size - c.size // 10] if c.size > 1000 else c),
        r"returned None; expected \d+: .*(its last entry|in its last tenth), and nowhere "
        r"before"),
    "the last 5 % left out of curves above 1,000 entries": (
        _first_hit_of(lambda c: c[:c.size - c.size // 20] if c.size > 1000 else c),
        r"returned None; expected \d+: .*(its last entry|in its last tenth), and nowhere "
        r"before"),
    "entry 0 skipped on curves above 50 entries": (
        _epochs_skipping_entry_0_beyond(50),
        r"returned \d+; expected 0: .*entry 0 already reaches the target"),
    "entry 0 skipped on curves above 1,000 entries": (
        _epochs_skipping_entry_0_beyond(1000),
        r"returned \d+; expected 0: .*entry 0 already reaches the target"),
    "the last entry left out of curves above 1,000 entries": (
        _first_hit_of(lambda c: c[:-1] if c.size > 1000 else c),
        r"returned None; expected \d+: .*its last entry, and nowhere before"),
})

RIGHT_DIAGNOSIS.update({
    "labels picked from a numpy array (np.str_)": {
        k: v for k, v in zip("ABC", np.array(list(ch05.FAULTS))[[4, 1, 2]])},
    "np.str_ keys and labels": {np.str_(k): np.str_(v) for k, v in RIGHT.items()},
})

RIGHT_OUTPUT_CHOICE.update({
    "pairs of np.str_ (a row of a numpy array)": {
        task: tuple(np.array(pair)) for task, pair in OUTPUTS_RIGHT.items()},
})


def test_epochs_to_target_draws_curves_reached_at_the_ends_and_late():
    """Every draw: curves of 51 to 1,000 and of 1,001 to 250,000 entries first reaching their
    target at entry 0, and others at their last entry alone, and a curve as long as the
    longest of the draw (1,800,000 entries or more) first reaching it in its last tenth, past
    entry 200,000."""
    for seed in range(16):
        cases = ch05.EPOCHS_TO_TARGET.draw(seed)
        longest = max(c.args[0].size for c in cases)
        reached = [(c.args[0].size, ch05._epochs_to(*c.args)) for c in cases]
        reached = [(n, e) for n, e in reached if e is not None]
        for low, high in ((51, 1000), (1001, 250_000)):
            assert any(low <= n <= high and e == 0 for n, e in reached), seed
            assert any(low <= n <= high and e == n - 1 for n, e in reached), seed
        assert any(n == longest >= 1_800_000 and e > max(200_000, 0.9 * n - 1)
                   for n, e in reached), seed


def _epochs_none_past(length):
    """The reader's: None for curves of more than ``length`` entries."""
    def epochs_to_target(c, t):
        return None if c.size > length else first_hit(c >= t)
    return epochs_to_target


def _epochs_argmax_past(length):
    """The "never" branch dropped for curves of more than ``length`` entries."""
    def epochs_to_target(c, t):
        return int(np.argmax(c >= t)) if c.size > length else first_hit(c >= t)
    return epochs_to_target


# Sixteenth round: "None for curves past 2,000,000 entries" showed on one draw in four (the
# reached curves stopped at 2,000,000 entries, the never reached one went on to 3,200,000).
# The text now says how long a curve may be (1,850,000 entries at most), and every draw has a
# reached curve and a never reached one of the longest length: a threshold anywhere below it
# shows, either way.
WRONG_EPOCHS_TO_TARGET.update({
    f"None for curves of more than {n:,} entries": (
        _epochs_none_past(n), r"(?s)a curve of \d{7} entries.*returned None; expected \d+")
    for n in (1_000_000, 1_790_000)})
WRONG_EPOCHS_TO_TARGET.update({
    f"no None for curves of more than {n:,} entries": (
        _epochs_argmax_past(n), r"(?s)a curve of \d{7} entries.*expected None")
    for n in (1_000_000, 1_790_000)})


# Sixteenth round. Exercise 1: a float32 running sum (np.cumsum) of the squares passed on most
# draws (its error grows with the number of terms; the tolerance with their square root); a
# case of equal steps (every weight moved by the learning rate, as in Adam's first step) now
# shows it on every draw.
def ratio_by_a_float32_running_sum(W_before, W_after):
    if W_before.dtype.kind == "i":  # (integers in float64: the running sum is the mistake)
        W_before, W_after = W_before.astype(float), W_after.astype(float)
    d = (W_after - W_before).ravel()
    b = W_before.ravel()
    return float(np.sqrt(np.cumsum(d * d)[-1] / np.cumsum(b * b)[-1]))


def ratio_by_add_accumulate_per_row(W_before, W_after):
    if W_before.dtype.kind == "i":  # (integers in float64: the running sum is the mistake)
        W_before, W_after = W_before.astype(float), W_after.astype(float)
    d = W_after - W_before
    top = np.add.accumulate(d * d, axis=-1)[..., -1].sum()
    return float(np.sqrt(top / np.add.accumulate(W_before * W_before, axis=-1)[..., -1].sum()))


WRONG_UPDATE_RATIO.update({
    "a float32 running sum of the squares (np.cumsum)": (
        ratio_by_a_float32_running_sum, r"(?s)float32.*np\.cumsum"),
    "running sums along each row (np.add.accumulate)": (
        ratio_by_add_accumulate_per_row, r"(?s)float32.*np\.add\.accumulate"),
})


def test_update_ratio_draws_a_case_of_equal_steps_that_a_running_sum_misses():
    """Every draw: a wide float32 case whose steps all have one size, on which a float32 running
    sum errs by 3 times the tolerance at least, handed over in C order."""
    for seed in range(8):
        cases = [c for c in ch05.UPDATE_RATIO.draw(seed) if c.note.get("same_step")]
        assert len(cases) == 1, seed
        W, W2 = cases[0].inputs()[0]
        assert W.dtype == np.float32 and W.flags.c_contiguous and W.shape[0] == 1
        assert len(np.unique(np.abs(W2.astype(float) - W).round(12))) < W.size / 10
        expected = ch05._ratio(W, W2)
        off = abs(ratio_by_a_float32_running_sum(W, W2) - expected) / expected
        assert off >= 3 * ch05._float32_rtol(W.size), seed


# Exercise 2: every run judged on every answer. All 216 answers of labels from FAULTS: the
# right one passes, every other is refused with the count of right runs and the first wrong
# run named (the others after "also check").
def test_diagnosis_judges_every_run_of_every_answer():
    for labels in itertools.product(ch05.FAULTS, repeat=3):
        answer = dict(zip("ABC", labels))
        wrong = [r for r in "ABC" if answer[r] != RIGHT[r]]
        if not wrong:
            ch05.check_diagnosis(lambda answer=answer: answer)
            continue
        with pytest.raises(ExerciseError) as err:
            ch05.check_diagnosis(lambda answer=answer: answer)
        text = str(err.value)
        assert f"{3 - len(wrong)} of 3 diagnoses are right. Run {wrong[0]} is not" in text, text
        if len(wrong) > 1:
            assert f"also check run {', '.join(wrong[1:])}" in text, text


def test_output_choice_judges_every_task_of_every_answer():
    """Every (output, loss) for each of the three tasks: only the right three pass."""
    pairs = list(itertools.product(ch05.OUTPUTS, ch05.LOSSES))
    for chosen in itertools.product(pairs, repeat=3):
        answer = dict(zip(ch05.TASKS, chosen))
        if answer == OUTPUTS_RIGHT:
            ch05.check_output_choice(lambda answer=answer: answer)
            continue
        first = next(t for t in ch05.TASKS if answer[t] != OUTPUTS_RIGHT[t])
        with pytest.raises(ExerciseError, match=f"task '{first}'"):
            ch05.check_output_choice(lambda answer=answer: answer)


# Strings of 4,000 characters or more cross cut to their first 4,000: a second label (or a
# "not") after them went unread. Refused, by length.
WRONG_DIAGNOSIS["a second label past 4,000 characters"] = (
    dict(RIGHT, C="dead_relus" + " " * 4000 + "or exploding_gradients"),
    r"returned a string of 4,000 characters or more")
WRONG_OUTPUT_CHOICE["a loss name that goes on past 4,000 characters"] = (
    dict(OUTPUTS_RIGHT, tags=("sigmoid", "bce" + " " * 4000 + "with logits")),
    r"returned a string of 4,000 characters or more")

# Exercise 4 (and 2): the text says spaces do not matter, so "b c e" is "bce" (it was
# refused: a space was read as an underscore, "b_c_e"); spaces, hyphens and underscores are
# now all left aside when a name is compared.
RIGHT_OUTPUT_CHOICE["spaces inside and between words"] = {
    "temperature": ("Identity", "M S E"), "digit": ("soft max", "crossentropy"),
    "tags": ("sig-moid", "b c e")}
RIGHT_DIAGNOSIS["spaces left out"] = {"A": "learningrate too small",
                                      "B": "vanishinggradients", "C": "deadrelus"}
WRONG_OUTPUT_CHOICE["'b c e' for the digit"] = (
    dict(OUTPUTS_RIGHT, digit=("softmax", "b c e")),
    r"task 'digit': the output 'softmax' is right, but the loss 'b c e' \(that is 'bce'\)")
WRONG_DIAGNOSIS["'notdeadrelus'"] = (dict(RIGHT, C="notdeadrelus"),
                                    r"run C: 'notdeadrelus' is not one of the labels")
