"""Checks for chapter 5, inside a network: update ratios, diagnosis, epochs to target, outputs.

One spec per exercise (``_spec``). For the two functions of arrays, the cases are drawn afresh
at every check, edge cases first; the student's function runs on all of them, and only then
are the references computed and the results judged, with a message that says what differs on
which case. Typical mistakes are recognised by name: a difference of norms instead of the norm
of the difference, integer weights cast to a type too small for them, ``np.argmax`` on a mask
that is never true, a tolerance that lets a value just below the target through, softmax for
a multi-label task, a framework loss that applies the output activation a second time.

The two exercises with fixed answers (the diagnosis of the broken runs, the output layers)
keep no answer key in a form an attribute lookup could read: the right labels are stored as
salted hashes, and an answer is judged by comparing hashes. A label that is not one of the
choices gets "Did you mean" only for what the student evidently meant (a spelling slip),
never for another idea (an opposite: "underfitting" is not a slip of "overfitting").
"""

from __future__ import annotations

import ast
import hashlib
import math
import re

import numpy as np

from .. import data, nn
from .._blas import one_blas_thread
from ._contract import expect_float, pair
from ._core import ExerciseError, check_keys, exercise_check
from ._plain import MAX_TEXT, Build, Other, describe
from ._spec import Case, Spec, _laid_out, builder, work_cases
from ._trace import Forbidden

__all__ = [
    "BROKEN_RUNS",
    "DIAGNOSIS",
    "EPOCHS_TO_TARGET",
    "FAULTS",
    "LOSSES",
    "OUTPUTS",
    "OUTPUT_CHOICE",
    "RUNS",
    "TASKS",
    "UPDATE_RATIO",
    "broken_runs",
    "check_diagnosis",
    "check_epochs_to_target",
    "check_output_choice",
    "check_update_ratio",
    "normalise_fault",
]


def _digest(*parts: str) -> str:
    """A salted hash of an answer (``"ch05:" + parts joined by ":"``): what the module keeps
    instead of the answer itself."""
    return hashlib.sha256(("ch05:" + ":".join(parts)).encode()).hexdigest()


# --------------------------------------------------------------------------------------
# Exercise 1: the update-to-weight ratio
# --------------------------------------------------------------------------------------

# The course computes the ratio for every layer during fit: "write it yourself" means not
# calling that code (under any name: the check sees what runs).
COURSE_RATIO = Forbidden(
    ("helpers.diagnostics:*", "helpers.nn:*"),
    why="the task asks you to compute the ratio yourself (the chapter's `fit` does it with "
        "`helpers.diagnostics`)")


def _weights(rng, shape, scale: float = 0.5) -> np.ndarray:
    """Normal weights of ``shape``, none of them zero by accident."""
    return rng.normal(0.0, scale, size=shape)


def _step(rng, W: np.ndarray, fraction: float) -> np.ndarray:
    """W after a random step whose norm is about ``fraction`` of W's."""
    d = rng.normal(size=W.shape)
    return W + fraction * np.linalg.norm(W) / np.linalg.norm(d) * d


def _random_matrix_shape(rng, low: int = 1, high: int = 12) -> tuple[int, int]:
    """A 2-D shape with rows != columns (so a per-row and a per-column mistake both show)."""
    while True:
        shape = (int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1)))
        if shape[0] != shape[1]:
            return shape


@builder("ch05.layout")
def _layout(a, order):
    """``a`` in the memory layout ``order``: "C", or one of the spec layer's ("F", "S": see
    ``_spec._laid_out``); one matrix of a pair in each."""
    return np.ascontiguousarray(a) if order == "C" else _laid_out(a, order)


def _pair(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The two matrices of a case (built, for a case that hands them over in two layouts)."""
    if any(isinstance(a, Build) for a in case.args):
        return tuple(case.inputs()[0])
    return case.args


def _log_size(rng, low: int, high: int) -> int:
    """A whole number drawn log-uniformly in [low, high]."""
    return int(min(high, max(low, round(math.exp(rng.uniform(math.log(low),
                                                             math.log(high)))))))


def _spiked(rng, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``after`` (changed in place) with its step made large at a few places: one in the first
    row, one in the last, one in the first column, one in the last, and two to four at
    drawn places (odd and even rows). Together they weigh about as much as the rest of the
    step, each a share of several per cent: a result that leaves out a row or a column
    (the first, the last, every other one, all but the first thousand) is wrong by far more
    than float32's rounding, however large the matrix. (No more than that: a float32 sum
    taken one term after the other, which a right answer may take, would lose the small
    terms beside much larger ones.)"""
    rows, columns = before.shape
    places = [(0, rng.integers(columns)), (rows - 1, rng.integers(columns)),
              (rng.integers(rows), 0), (rng.integers(rows), columns - 1)]
    places += [(rng.integers(rows), rng.integers(columns))
               for _ in range(int(rng.integers(2, 5)))]
    if rows > 2:  # an odd and an even row among the drawn places
        places[-2] = (int(rng.integers(rows // 2)) * 2, places[-2][1])
        places[-1] = (min(rows - 1, int(rng.integers(rows // 2)) * 2 + 1), places[-1][1])
    r, c = (np.array(v, dtype=np.intp) for v in zip(*places))
    step = float(np.linalg.norm(after - before))
    size = step / math.sqrt(len(places)) * rng.uniform(0.7, 1.3, len(places))
    after[r, c] = before[r, c] + (size * rng.choice([-1.0, 1.0], len(places))).astype(
        after.dtype)  # (in place: ``after`` is the caller's new array)
    return after


def _large_pairs(rng, W: np.ndarray, W_after: np.ndarray) -> list[Case]:
    """The large work cases of float32, int64 and int32 weights: their sizes drawn
    log-uniformly from 1,937 entries (beyond the 43 x 44 of earlier checks), one of the three
    (drawn) up to 2,000,000 entries and the others up to 100,000, their shapes drawn too,
    their values cut from the float64 pair (W, W_after)
    at a drawn place (no new draw of millions of numbers). The float32 one has its step
    spiked (see _spiked). The integer ones have their largest entries drawn up to the text's
    100,000 (from 20,000 for int32: its sums of squares never fit in int32), and one to
    three entries beyond 46,340 at drawn places, the first or the last row among them: an
    answer that squares them in int32 (on large matrices only, say) wraps around there, on
    every draw. (A loop driven from C, which no work
    limit stops, runs to the end on each: their rows are drawn log-uniformly, few on most
    draws.)"""
    flat, flat_after = W.ravel(), W_after.ravel()
    big = int(rng.integers(3))
    cases = []
    for j, dtype in enumerate((np.float32, np.int64, np.int32)):
        n = _log_size(rng, 1937, min(flat.size, 2_000_000 if j == big else 100_000))
        rows = _log_size(rng, 1, n)
        columns = -(-n // rows)  # (rounded up: at least n entries, within the pair's)
        shape = (rows, columns if rows * columns <= flat.size else n // rows)
        n = shape[0] * shape[1]
        start = int(rng.integers(0, flat.size - n + 1))
        before = flat[start:start + n].reshape(shape)
        after = flat_after[start:start + n].reshape(shape)
        name = np.dtype(dtype).name
        if dtype == np.float32:
            a = before.astype(dtype)
            pair_ = (a, _spiked(rng, a, after.astype(dtype)))
            size = ""
        else:
            high = _log_size(rng, 20_000 if dtype == np.int32 else 1000, 100_000)
            scale = high / np.abs(before).max()
            a = np.round(before * scale).astype(dtype)
            b = np.round(after * scale).astype(dtype)
            b.flat[int(rng.integers(n))] += 1  # never no step at all
            # One to three entries above 46,340 (whose squares int32 cannot hold), up to the
            # text's 100,000, at drawn places: the first in the first or the last row. Their
            # step stays as it was.
            k = int(rng.integers(1, 4))
            rows_at = rng.integers(shape[0], size=k)
            rows_at[0] = rng.choice([0, shape[0] - 1])
            at = (rows_at, rng.integers(shape[1], size=k))
            step = b[at] - a[at]
            a[at] = rng.integers(46_341, 100_001, size=k) * rng.choice([-1, 1], size=k)
            b[at] = a[at] + step
            pair_ = (a, b)
            size = f", entries up to {int(np.abs(a).max()):,}"
        cases.append(Case(f"{name}: a {shape[0]:,} x {shape[1]:,} matrix{size}", pair_,
                          work="large", size=min(shape), elements=n,
                          note={"integer": dtype != np.float32}))
    return cases


def _long_float32(rng, W: np.ndarray, W_after: np.ndarray) -> list[Case]:
    """Two float32 pairs as long as the text allows, on every draw, one tall and one wide (in
    a drawn order): a long side of 200,000 to a million entries (drawn log-uniformly) and
    one or two short ones; on one draw in four the first has three or four short ones, so
    that it holds more than the 2,000,000 entries of the largest pairs before. An answer
    that changes its ways beyond some number of rows, or of columns, shows on one of them.
    Their rows (or columns) are the tall float64 pair's columns (W, W_after: a million rows
    x 2), as they are and reversed (no new draw of millions of numbers); their steps are
    spiked (see _spiked)."""
    past = rng.integers(4) == 0
    tall_first = bool(rng.integers(2))
    cases = []
    for j in range(2):
        if j == 0 and past:
            k = int(rng.integers(3, 5))
            length = _log_size(rng, 2_000_000 // k + 1, W.shape[0])
        else:
            k = int(rng.integers(1, 3))
            length = _log_size(rng, 200_000, W.shape[0])
        tall = tall_first == (j == 0)
        shape = (length, k) if tall else (k, length)
        before, after = np.empty(shape, np.float32), np.empty(shape, np.float32)
        for i, source in enumerate(rng.permutation(4)[:k]):
            x, y = ((W, W_after) if source < 2 else (W[::-1], W_after[::-1]))
            at = (slice(None), i) if tall else i
            before[at] = x[:length, source % 2]
            after[at] = y[:length, source % 2]
        cases.append(Case(f"float32: a {shape[0]:,} x {shape[1]:,} matrix",
                          (before, _spiked(rng, before, after))))
    return cases


def _running_sum_ratio(before: np.ndarray, after: np.ndarray) -> float:
    """The ratio as a float32 running sum gives it (np.cumsum of the squares, one term
    after the other): a wrong answer's, to draw a case that shows it."""
    d = (after - before).ravel()
    b = before.ravel()
    return float(np.sqrt(np.cumsum(d * d)[-1] / np.cumsum(b * b)[-1]))


def _same_step_float32(rng) -> Case:
    """float32 weights after a step of one size for every weight (as Adam's first step, or
    signSGD's, moves each weight by the learning rate): one row of 30,000 to 60,000 entries,
    handed over in C order (a running sum along the row is one along the whole matrix). A
    float32 sum taken one term after the other (np.cumsum) rounds each addition of these
    equal squares the same way, so its error grows with the number of terms, not with its
    square root as the tolerance does; numpy's np.sum and
    np.linalg.norm add in blocks (BLAS and einsum in 16 or more) and stay within it. Drawn
    until such a running sum is off by 3 times the tolerance at least (most step sizes give
    that at once); a sum in 16 blocks is then off by 0.8 of it at most."""
    for _ in range(40):
        columns = int(rng.integers(30_000, 60_001))
        W = _weights(rng, (1, columns)).astype(np.float32)
        lr = np.float32(10 ** rng.uniform(-4, -2))
        W_after = W + lr * rng.choice(np.array([-1, 1], dtype=np.float32), size=W.shape)
        expected = _ratio(W, W_after)
        off = abs(_running_sum_ratio(W, W_after) - expected) / expected
        if off >= 3 * _float32_rtol(W.size):
            break
    return Case(f"float32 weights, every weight moved by the same amount ({float(lr):.2g}, as "
                f"in Adam's first step): a 1 x {columns:,} matrix",
                tuple(Build("ch05.layout", {"a": a, "order": "C"}) for a in (W, W_after)),
                note={"same_step": True})


def _draw_update_ratio(rng) -> list[Case]:
    cases = []

    def add(label, W_before, W_after, **note):
        cases.append(Case(label, (W_before, W_after), note=note))

    # A small matrix to read by eye: mixed signs, exact zeros, entries that do not move, and
    # rows and columns that change by different fractions (so a per-row or per-column mean of
    # ratios, or a max, disagrees with the ratio of the whole matrix). The ratio is 0.136626.
    W = np.array([[1.0, -2.0, 0.0], [0.5, 0.0, -1.5]])
    add("a 2 x 3 matrix to read by eye", W, W + np.array([[0.1, 0.0, -0.2], [0.0, 0.3, 0.0]]))
    # The same shape and dtype with other values: a result kept from an earlier call shows.
    W = _weights(rng, (2, 3))
    add("another 2 x 3 float64 matrix (the first case's shape and dtype again)", W,
        _step(rng, W, rng.uniform(0.3, 0.6)))
    W = _weights(rng, (1, 1))
    add("a 1 x 1 matrix", W, _step(rng, W, 0.3))
    n = int(rng.integers(2, 6))
    W = _weights(rng, (1, n))
    add(f"one row (1 x {n})", W, _step(rng, W, rng.uniform(0.01, 0.5)))
    n = int(rng.integers(7, 13))
    W = _weights(rng, (n, 1))
    add(f"one column ({n} x 1)", W, _step(rng, W, rng.uniform(0.01, 0.5)))
    W = _weights(rng, _random_matrix_shape(rng))
    add("a step that changes nothing (the ratio is exactly 0)", W, W.copy())
    W = _weights(rng, _random_matrix_shape(rng, 2)).astype(np.float32)
    add("float32 weights (as in PyTorch), a step of about 1e-2 of their size",
        W, _step(rng, W, 1e-2).astype(np.float32))
    W = _weights(rng, _random_matrix_shape(rng, 2)).astype(np.float32)
    add("float32 weights, a tiny step of about 1e-5 of their size",
        W, _step(rng, W, 1e-5).astype(np.float32), lost_in="float16")
    # Integer weights: the ratio is a fraction all the same (sqrt(k) / sqrt(m)). Small ones,
    # then ones beyond int8 (up to about 1000) and beyond int16 (up to about 1e5), so a round
    # trip through a smaller integer type, which wraps them around, shows. int32 ones up to
    # 1e5 too: their squares pass int32's range (from 46,341 on), so an answer that squares
    # the integers in their own dtype wraps around there.
    for dtype, high, step in ((np.int64, 9, 2), (np.int32, 1000, 20), (np.int64, 100_000, 500),
                              (np.int32, 100_000, 500)):
        shape = _random_matrix_shape(rng, 2, 6)
        W = rng.integers(-high, high + 1, size=shape)
        W[0, 0] = high - 2 if high < 100 else high  # never all zero; beyond int8 (int16)
        d = rng.integers(-step, step + 1, size=shape)
        d[-1, -1] = 1  # never no step at all
        size = f", entries up to {high:,}" if high > 100 else ""
        add(f"integer weights ({np.dtype(dtype).name}{size})", W.astype(dtype),
            (W + d).astype(dtype), integer=True)
    W = _weights(rng, _random_matrix_shape(rng, 2))
    add("float64 weights, a step of about 1e-9 of their size (float32 cannot resolve it)",
        W, _step(rng, W, 1e-9), lost_in="float32")
    W = _weights(rng, _random_matrix_shape(rng, 2), scale=1e-6)
    add("tiny weights (entries about 1e-6)", W, _step(rng, W, rng.uniform(0.01, 0.3)),
        tiny=True)
    W = _weights(rng, _random_matrix_shape(rng, 2), scale=1e4)
    add("large weights (entries about 1e4)", W, _step(rng, W, rng.uniform(1e-4, 1e-2)))
    W = _weights(rng, _random_matrix_shape(rng, 2))
    add("a step larger than the weights themselves (ratio above 1)", W,
        _step(rng, W, rng.uniform(1.5, 4.0)))
    # One W_before, two steps (one snapshot of the weights, several updates): a result kept
    # by W_before alone shows.
    W = _weights(rng, _random_matrix_shape(rng, 2))
    for size in (1e-3, 1e-1):
        add(f"the same W_before as the next or last case, a step of about {size:g} of its "
            "size", W, _step(rng, W, size))
    W = _weights(rng, _random_matrix_shape(rng, 3, 8))
    W[1, :] = 0.0
    W[:, 0] = 0.0
    add("a zero row and a zero column in W_before", W, _step(rng, W, rng.uniform(0.05, 0.5)))
    W = _weights(rng, _random_matrix_shape(rng, 20, 64))
    add(f"a larger {W.shape[0]} x {W.shape[1]} matrix", W, _step(rng, W, 10 ** rng.uniform(-4, -1)))
    # Larger than 64 in both axes, with a step that differs from block to block: a part of
    # the matrix (its first rows or columns, a corner) gives another ratio. At most 10,000
    # entries: above that, numpy's norm wakes BLAS threads, slow on a busy machine.
    shape = (int(rng.integers(70, 90)), int(rng.integers(100, 112)))
    W = _weights(rng, shape)
    W_after = _step(rng, W, 10 ** rng.uniform(-3, -1))
    W_after[shape[0] // 2:, shape[1] // 3:] += 0.05 * rng.normal(size=W_after[
        shape[0] // 2:, shape[1] // 3:].shape)
    add(f"a wide {shape[0]} x {shape[1]} matrix", W, W_after, wide=True)
    # A square matrix (as a hidden layer's 32 x 32), its columns moved by different fractions:
    # a per-row or per-column mistake that only shows on non-square shapes shows here.
    n = int(rng.integers(3, 41))
    W = _weights(rng, (n, n))
    add(f"a square {n} x {n} matrix, its columns moved by different fractions", W,
        W + W * rng.uniform(0.0, 0.3, size=n) * rng.normal(size=(n, n)))
    for _ in range(3):
        W = _weights(rng, _random_matrix_shape(rng), scale=10 ** rng.uniform(-2, 1))
        add(f"random {W.shape[0]} x {W.shape[1]} weights", W,
            _step(rng, W, 10 ** rng.uniform(-6, 0.5)))
    # The work cases of the core: a 3 x 4 and a 43 x 44 pair (Python work that grows with the
    # matrix is a loop), then two timed pairs, one tall and one wide, of 2,000,000 entries
    # each: a loop over the rows (or columns) driven from C (builtin sum, functools.reduce,
    # map, math.fsum, math.dist) runs no Python line, and shows in time alone. The reference
    # uses np.linalg.norm, as an honest answer does: above 10,000 entries its BLAS threads
    # cost some 10-40 ms of CPU on a busy machine, so numpy's time must include them, and
    # the matrices must be large enough for a loop (130 ns an entry and up) to stand out.
    def pair_of(shape, large, dtype=np.float64):
        if np.prod(shape) > 100_000:
            # (uniform numbers: a normal draw of millions costs four times as much)
            W = rng.random(shape)
            W -= 0.5
            d = rng.random(shape)
            d -= 0.5
            d *= 10 ** rng.uniform(-4, -2) * np.linalg.norm(W) / np.linalg.norm(d)
            return W, W + d
        W = _weights(rng, shape)
        W_after = _step(rng, W, 10 ** rng.uniform(-4, -2))  # a drawn step: no ratio to fit
        if np.dtype(dtype).kind == "i":
            return np.round(W * 1000).astype(dtype), np.round(W_after * 1000 + 7).astype(dtype)
        return W.astype(dtype), W_after.astype(dtype)

    # One pair whose two matrices come in different memory layouts (W_after, or W_before,
    # in Fortran order as a transpose is; the other in C order, or as a strided view as a
    # slice is, whose elements run in C order too): an answer that reads the raw memory of
    # each, or flattens each in its own memory order, pairs the wrong entries.
    W = _weights(rng, _random_matrix_shape(rng, 2, 9))
    W_after = _step(rng, W, rng.uniform(0.05, 0.5))
    fortran, other = int(rng.integers(2)), str(rng.choice(["C", "S"]))
    how = "in C order" if other == "C" else "as a strided view (in C order)"
    add(f"W_{('before', 'after')[fortran]} in Fortran order (as a transpose is), the other "
        f"{how}", *(Build("ch05.layout", {"a": a, "order": "F" if j == fortran else other})
                    for j, a in enumerate((W, W_after))))
    # Every draw, one pair handed over in Fortran order and one as strided views, besides
    # those the spec layer draws: an answer that assumes C order shows on every draw.
    plain = [c for c in cases[1:] if c.order == "C" and isinstance(c.args[0], np.ndarray)
             and min(c.args[0].shape) >= 2]
    for c, order in zip(rng.choice(len(plain), 2, replace=False), ("F", "S")):
        plain[c].order = order
        plain[c].label += (", its arrays handed over in Fortran order" if order == "F" else
                           ", its arrays handed over as strided views (every other element "
                           "of a larger array)")
    timed = work_cases(pair_of, shapes=((3, 4), (43, 44), (1_000_000, 2)))

    def wide_of(shape, large):
        # The wide pair from the tall one's values (drawing millions of numbers again costs
        # more than the rest of the check): its rows reversed and transposed, its step scaled.
        if shape != (2, 1_000_000):
            return pair_of(shape, large)
        W, W_after = timed[-1].args
        W_wide = np.ascontiguousarray(W[::-1].T)
        return W_wide, W_wide + rng.uniform(0.3, 3.0) * (W_after[::-1].T - W[::-1].T)

    timed += work_cases(wide_of, shapes=((3, 4), (43, 44), (2, 1_000_000)))[-1:]
    # Work pairs in float32 and in integers too, and of one row and one column: a loop kept
    # for some dtypes or shapes only shows. The large pair of each dtype has a drawn size and
    # shape (see _large_pairs): its values are checked like any other case's, and a loop on
    # it is stopped as soon as it shows.
    for dtype, large in zip((np.float32, np.int64, np.int32), _large_pairs(rng, *timed[-2].args)):
        name = np.dtype(dtype).name
        cases += [Case(f"{name}: a 3 x 4 input", pair_of((3, 4), False, dtype), work="small",
                       size=3, elements=12), large]
    cases += _long_float32(rng, *timed[-2].args)
    for name, shapes in (("one row: ", ((1, 4), (1, 2000))),
                         ("one column: ", ((4, 1), (2000, 1)))):
        pair = work_cases(pair_of, shapes=shapes, name=name)
        for c, shape in zip(pair, shapes):
            c.size = max(shape)  # (a loop runs along the long axis: 4, then 2000 times)
        cases += pair
    # (Late in the draw: a mistake that other cases show gets their message first.)
    cases.append(_same_step_float32(rng))
    cases += timed
    # One of the two large matrices, drawn, goes over writeable, the other read-only: an
    # answer that writes into large inputs (to save a temporary) is seen doing it.
    writeable = int(rng.integers(0, 2))
    for j, (c, kind) in enumerate(zip(cases[-2:], ("tall", "wide"))):
        rows, columns = c.args[0].shape
        c.label = f"a {kind} {rows:,} x {columns:,} matrix (timed against numpy's own loops)"
        c.writeable = j == writeable
    for i, c in enumerate(cases):  # every case, the work pair too: a message points at it
        c.note["index"] = i
    return cases


def _ratio(W_before, W_after) -> float:
    before = np.asarray(W_before, dtype=float)
    after = np.asarray(W_after, dtype=float)
    return float(np.linalg.norm(after - before) / np.linalg.norm(before))


def _how_to_get(spec: str, case: Case) -> str:
    """The call that gives a case's inputs again (the seed is named in the failure message)."""
    return f"`ch05.{spec}.case(seed, {case.note.get('index', 0)})[0]`"


def _show_pair(case: Case) -> str:
    """How a message names a case: the matrices themselves when small, else how to get them."""
    W_before, W_after = _pair(case)
    if W_before.size <= 6:
        return f"W_before = {W_before.tolist()}, W_after = {W_after.tolist()}"
    return (f"the {W_before.dtype} {W_before.shape[0]} x {W_before.shape[1]} matrices of this "
            f"case ({_how_to_get('UPDATE_RATIO', case)} gives them)")


# Ratios a student may have computed instead, each with what it is. Checked on every case
# where it differs from the right ratio, so a message names a mistake only when it is sure.
def _ratio_mistakes(before, after) -> dict[str, float]:
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    d = a - b
    norm = np.linalg.norm
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "the division is by the norm of the weights *after* the step, not before":
                norm(d) / norm(a),
            "this is the difference of the two norms, ||W_after|| - ||W_before||, over "
            "||W_before||; the ratio takes the norm of the difference":
                (norm(a) - norm(b)) / norm(b),
            "this is the ratio of the two norms, ||W_after|| / ||W_before||":
                norm(a) / norm(b),
            "the fraction is upside down: ||W_before|| / ||W_after - W_before||":
                norm(b) / norm(d),
            "this is ||W_after - W_before|| without the division by ||W_before||":
                norm(d),
            "this is the square of the ratio: the square root of each sum of squares is "
            "missing":
                np.sum(d * d) / np.sum(b * b),
            "this sums absolute values instead of squares (an L1 norm, not the Frobenius "
            "norm)":
                np.sum(np.abs(d)) / np.sum(np.abs(b)),
            "this compares the largest entries (a max norm), not the Frobenius norm":
                np.max(np.abs(d)) / np.max(np.abs(b)),
            "this is the spectral norm (largest singular value), not the Frobenius norm":
                norm(d, 2) / norm(b, 2) if min(b.shape) <= 200 else np.nan,  # (an SVD: slow)
            "this averages a ratio per column (per unit) instead of dividing the norms of "
            "the whole matrices":
                np.mean(norm(d, axis=0) / norm(b, axis=0)),
            "this averages a ratio per row instead of dividing the norms of the whole "
            "matrices":
                np.mean(norm(d, axis=1) / norm(b, axis=1)),
            **_parts_left_out(b, d),
        }


def _parts_left_out(b: np.ndarray, d: np.ndarray) -> dict[str, float]:
    """The ratio of a part of the matrices only (a row or a column left out, every other
    one taken), with what it leaves out: the check's float32 pairs have their step spiked
    in the first and last rows and columns and at drawn places (see _spiked), so that each
    of these differs from the ratio by far more than float32's rounding."""
    norm = np.linalg.norm
    parts = {}
    for axis, (name, names) in enumerate((("row", "rows"), ("column", "columns"))):
        for what, keep in ((f"the first {name}", slice(1, None)),
                           (f"the last {name}", slice(None, -1)),
                           (f"every other {name} (it takes the even {names} only)",
                            slice(None, None, 2)),
                           (f"every other {name} (it takes the odd {names} only)",
                            slice(1, None, 2))):
            at = (keep, slice(None)) if axis == 0 else (slice(None), keep)
            parts[f"this leaves out {what} of each matrix"] = (
                norm(d[at]) / norm(b[at]) if b.shape[axis] > 1 else np.nan)
    return parts


_RATIO_HINT = ("the ratio is the size of the change over the size of the weights before it, "
               "each size the square root of a sum of squares over all entries.")


_NARROW_HINT = ("integer weights can be larger than a small integer type holds: compute in the "
                "weights' own dtype, or in float64.")


def _narrow_integer_mistake(before, after, value: float) -> tuple[str, str] | None:
    """What wrapped around, and a hint, if the result was computed in an integer type too
    small for these weights (a smaller type than theirs, or their squares in int32)."""
    dtype0 = before.dtype.name
    with np.errstate(all="ignore"):
        for dtype in (np.int8, np.uint8, np.int16, np.uint16):
            if np.can_cast(before.dtype, dtype):
                continue  # a cast that changes nothing
            b = before.astype(dtype).astype(float)
            a = after.astype(dtype).astype(float)
            for num, den in ((a - b, b), (a - b, before.astype(float)),
                             (after.astype(float) - before.astype(float), b)):
                wrong = np.linalg.norm(num) / np.linalg.norm(den)
                if (np.isfinite(wrong) and not np.isclose(wrong, _ratio(before, after),
                                                          rtol=1e-3)
                        and np.isclose(value, wrong, rtol=1e-5, atol=1e-12)):
                    info = np.iinfo(dtype)
                    return (f"this is the ratio of the weights cast to {np.dtype(dtype).name}, "
                            f"which holds only {info.min}..{info.max}: larger weights wrap "
                            "around", _NARROW_HINT)
        if before.dtype.kind in "iu" and np.abs(before).max() < 2**31 \
                and np.abs(after).max() < 2**31:
            # Squares taken in int32 (the weights' own dtype, or int64 weights cast to it):
            # entries above 46,340 have squares it cannot hold.
            own = before.dtype == np.int32
            before, after = before.astype(np.int32), after.astype(np.int32)
            diff = after - before
            for squares in (lambda v: (v * v).astype(np.int64), lambda v: v * v):
                top, bottom = squares(diff).sum(), squares(before).sum()
                # Wrapped squares can sum to a negative number: its square root is NaN.
                wrapped_to_nan = (top < 0 or bottom < 0) and isinstance(value, float) \
                    and math.isnan(value)
                if wrapped_to_nan or top >= 0 and bottom > 0 and np.isclose(
                        value, math.sqrt(top) / math.sqrt(bottom), rtol=1e-5, atol=1e-12):
                    return ("the squares of int32 entries above 46,340 do not fit in int32 "
                            "and wrap around" if own else
                            f"these are {dtype0} weights, squared in int32: the squares of "
                            "entries above 46,340 do not fit in int32 and wrap around",
                            "cast the weights to float64 before you square them "
                            "(np.linalg.norm does that itself).")
            # Squares that fit, added up in int32 (a dot product, or @, of int32 arrays adds
            # up in their dtype): a sum of squares beyond 2,147,483,647 wraps around.
            def wrapped(v) -> int:
                return (int(np.sum(v.astype(np.int64) ** 2)) + 2**31) % 2**32 - 2**31
            top, bottom = wrapped(diff), wrapped(before)
            if (math.isnan(value) and (top < 0 or bottom <= 0)) or top >= 0 and bottom > 0 \
                    and np.isclose(value, math.sqrt(top) / math.sqrt(bottom), rtol=1e-5,
                                   atol=1e-12):
                return ("the sums of squares are added up in int32 (as a dot product, or @, "
                        "of int32 arrays does), and a sum beyond 2,147,483,647 wraps around"
                        + ("" if own else f" (these are {dtype0} weights, cast to int32)"),
                        "cast the weights to float64 before you square and add them up "
                        "(np.linalg.norm does that itself).")
    return None


def _float32_rtol(n: int) -> float:
    """The relative error allowed for float32 weights of n entries: float32's rounding, which
    grows with the number of squares added up (about eps sqrt(n) for a sum taken one term
    after the other). Measured on right answers over drawn sizes up to 2,000,000 entries,
    C and Fortran order, BLAS on one thread: np.linalg.norm (a BLAS dot product), sums,
    einsum and vdot err by at most 0.1 eps sqrt(n), norms per row or per column (numpy adds
    up along a strided axis one term after the other) by 0.5 eps sqrt(n), and by 5e-7 on
    small matrices. A float32 running sum (np.cumsum, one term after the other) exceeds it on
    the case of equal steps that every draw has (see _same_step_float32)."""
    return 1e-6 + float(np.finfo(np.float32).eps) * math.sqrt(n)


def _judge_update_ratio(case: Case, obs, expected: float) -> None:
    what = "`update_ratio(W_before, W_after)`"
    W_before, W_after = _pair(case)
    on = _show_pair(case)
    got = obs.result
    if isinstance(got, np.ndarray) and got.ndim > 0:
        raise ExerciseError(
            f"{what} returned an array of shape {got.shape} for {on}; expected one number "
            "for the whole matrix.",
            "the Frobenius norm takes all entries of a matrix at once, and gives a single "
            "number; so does the ratio of two of them.")
    if isinstance(got, np.ndarray) and got.dtype.kind in "iuf":
        got = got[()]  # a 0-d array is one number: the task allows it
    value = expect_float(got, f"{what} for {on}", finite=False,
                         hint="return the ratio as one number, e.g. float(...) of it.")
    rtol = _float32_rtol(W_before.size) if W_before.dtype == np.float32 else 1e-9
    if math.isfinite(value) and abs(value - expected) <= rtol * abs(expected):
        return
    shown, wanted = pair(value, expected)
    problem = f"{what} for {on} is {shown}, expected {wanted}"
    if math.isfinite(value):
        for mistake, wrong in _ratio_mistakes(W_before, W_after).items():
            # (a ratio of 0 names no mistake: a part of the matrix without a step at all is
            # a coincidence, and 0 is what a result cast to an integer gives)
            if (np.isfinite(wrong) and wrong != 0
                    and not np.isclose(wrong, expected, rtol=1e-3)
                    and np.isclose(value, wrong, rtol=max(1e-5, 2 * rtol), atol=1e-12)):
                raise ExerciseError(f"{problem}: {mistake}.", _RATIO_HINT)
    # (A NaN too: wrapped int32 squares can sum to a negative number.)
    narrow = (_narrow_integer_mistake(W_before, W_after, value)
              if case.note.get("integer") and not math.isinf(value) else None)
    if narrow:
        raise ExerciseError(f"{problem}: {narrow[0]}.", narrow[1])
    hint = ("compute ||W_after - W_before|| / ||W_before|| by hand for this pair and compare "
            "it with each part of your function.")
    if not math.isfinite(value):
        hint = ("W_before is never all zero here, so the division is safe: look for an "
                "overflow, or a square root of a negative number.")
    elif case.note.get("integer") and float(value).is_integer():
        hint = ("integer weights give a ratio that is a fraction like any other: a result "
                "cast back to the weights' dtype, or an integer division, drops it.")
    elif value == 0 and expected > 0 and not case.note.get("lost_in"):
        hint = ("a ratio of 0 although the weights moved: look for an integer division (//), a "
                "cast to an integer, or a step lost in a lower precision.")
    elif case.note.get("wide"):
        hint = ("this matrix is larger than the others, in both axes: each norm takes every "
                "entry of its matrix, whatever its size.")
    elif case.note.get("lost_in"):
        hint = (f"a step this small is lost in {case.note['lost_in']}, which keeps fewer "
                "digits: compute in the precision of the weights given (or higher), without "
                "casting them down.")
    elif case.note.get("tiny") and 0 < value < expected:
        hint = ("with tiny weights, anything added to the denominator (an epsilon against a "
                "division by zero) changes the ratio: W_before is never all zero here, so no "
                "guard is needed.")
    elif case.note.get("same_step"):
        hint = ("every weight moved by the same amount here, so the squares of the step are "
                "all equal: a float32 sum taken one term after the other (np.cumsum, "
                "np.add.accumulate) rounds each addition the same way, and its error grows "
                "past float32's usual rounding. np.sum and np.linalg.norm add in blocks: use "
                "them, or compute in float64.")
    elif W_before.dtype == np.float32:
        hint = ("for float32 weights the check allows float32's rounding (about 6 "
                "significant digits, fewer on very large matrices, where the rounding of each "
                "addition adds up); a larger difference comes from the formula, or from a "
                "float32 sum taken one term after the other (np.cumsum, np.add.accumulate).")
    elif expected > 0 and abs(value - expected) < 1e-3 * expected:
        digits = round(-math.log10(abs(value - expected) / expected))
        hint = (f"your result agrees with the ratio to about {digits} significant digits "
                "only: look for rounding, a computation in a lower precision (float32 or "
                "float16), or a small constant added to the formula (an epsilon against a "
                "division by zero: W_before is never all zero here).")
    raise ExerciseError(problem + ".", hint)


UPDATE_RATIO = Spec(
    "ch05.update_ratio", check="ch05.check_update_ratio", grade_id="ch05-update-ratio-check",
    what="`update_ratio(W_before, W_after)`", answers=("update_ratio",),
    draw=_draw_update_ratio, reference=_ratio, judge=_judge_update_ratio,
    forbidden=COURSE_RATIO, vectorised=True, twins=3,
    loop_hint="numpy's reductions (a sum, a norm) take a whole matrix at once.",
    passed="`update_ratio(W_before, W_after)` is right on every case: any shape, float64, "
           "float32 and integer weights. About 1e-3 per step is CS231n's rule of thumb for "
           "plain SGD; under Adam the ratio mirrors the learning rate instead.")


@exercise_check
def check_update_ratio(update_ratio, *, seed: int | None = None) -> None:
    """Check ``update_ratio(W_before, W_after)`` = ||W_after - W_before|| / ||W_before||
    (Frobenius norms), one number, on matrices of several shapes and dtypes drawn at each
    check, written without the course's code and without a Python loop."""
    # numpy's norm of more than some 10,000 entries wakes BLAS threads, which spin on a busy
    # machine and cost tens of ms of CPU a call: the large float32 and integer pairs run on
    # one BLAS thread, as the timed pairs do.
    with one_blas_thread():
        UPDATE_RATIO.check(update_ratio, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 2: diagnose three broken trainings
# --------------------------------------------------------------------------------------

#: The recipes of the three broken trainings (read them only after you have diagnosed them).
BROKEN_RUNS = {
    "A": {"sizes": [2, 16, 16, 1], "activation": "relu", "init": "he", "bias_init": 0.0,
          "lr": 1e-3},
    "B": {"sizes": [2, 16, 16, 16, 16, 1], "activation": "sigmoid", "init": "xavier",
          "bias_init": 6.0, "lr": 0.1},
    "C": {"sizes": [2, 16, 16, 1], "activation": "relu", "init": "he", "bias_init": 0.0,
          "lr": 10.0},
}


def broken_runs(epochs: int = 100, seed: int = 0) -> dict[str, nn.History]:
    """Train the three BROKEN_RUNS (plain SGD, full batch) on circles; return run -> History."""
    X, y = data.circles(n=200, noise=0.08, seed=seed)
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, val_fraction=0.25, seed=seed)
    runs = {}
    for run, recipe in BROKEN_RUNS.items():
        net = nn.MLP(recipe["sizes"], activation=recipe["activation"], output="sigmoid",
                     init=recipe["init"], bias_init=recipe["bias_init"], seed=seed)
        runs[run] = net.fit(X_train, y_train, epochs=epochs, lr=recipe["lr"], optimizer="sgd",
                            X_val=X_val, y_val=y_val, seed=seed, n_snapshots=2)
    return runs


#: The fault labels a diagnosis may use, each with what it means.
FAULTS = {
    "healthy": "nothing wrong: the loss falls, gradients and update ratios are moderate",
    "vanishing_gradients": "saturated units pass almost no gradient back; the gradient norm "
                           "shrinks layer by layer towards the input",
    "dead_relus": "ReLU units whose input is negative for every sample output 0 and get no "
                  "gradient at all",
    "exploding_gradients": "the gradient norm grows layer by layer towards the input, to huge "
                           "values, and stays huge; the loss becomes inf or NaN",
    "learning_rate_too_small": "the gradients are fine but each step changes the weights by a "
                               "tiny fraction; the loss creeps down",
    "overfitting": "the training loss keeps falling while the validation loss rises",
}

#: The runs of the diagnosis exercise, in order.
RUNS = ("A", "B", "C")
# The answers are stored as digests (below): an answer that hashes labels to match them reads
# the key. The call tracer refuses that by what runs (a hash function, or the check's own
# functions under any name).
_OWN_ANSWER = Forbidden(("hashlib:*", "_hashlib:*", "_sha256:*", "_sha2:*"),
                        why="the exercise asks for your own answer, not one matched against "
                            "the check's stored digests",
                        hint="read the three dashboards and name each fault yourself.")
_OWN_CHOICE = Forbidden(_OWN_ANSWER.patterns, why=_OWN_ANSWER.why,
                        hint="choose each task's output and loss from what its output means.")

# The right label of each run, as _digest(run, label): no answer key to read.
_DIAGNOSIS = {
    "A": "0c28a4cd0765e9b6bc0e6d0e3f0701b80708b5e1bd102b550cf0e6e5ebe7b157",
    "B": "ed4c2bc91345e3fca97fd79753b2f85ff4be139f8fc7db36fb27004ed1261905",
    "C": "d9be605c922baa943976ff02ffb4008d8fbcb60227a108a22049b601de0e23e2",
}

# What a student may write for each label (after lower-casing and turning - and spaces to _).
_FAULT_ALIASES = {
    "vanishing_gradient": "vanishing_gradients",
    "vanishing": "vanishing_gradients",
    "vanish": "vanishing_gradients",
    "vanished_gradients": "vanishing_gradients",
    "saturated_sigmoids": "vanishing_gradients",
    "saturated_sigmoid": "vanishing_gradients",
    "saturation": "vanishing_gradients",
    "saturated_units": "vanishing_gradients",
    "saturated": "vanishing_gradients",
    "dead_relu": "dead_relus",
    "dead_units": "dead_relus",
    "dead_neurons": "dead_relus",
    "dying_relu": "dead_relus",
    "dying_relus": "dead_relus",
    "dead": "dead_relus",
    "exploding_gradient": "exploding_gradients",
    "exploding": "exploding_gradients",
    "lr_too_small": "learning_rate_too_small",
    "learning_rate_too_low": "learning_rate_too_small",
    "lr_too_low": "learning_rate_too_small",
    "small_learning_rate": "learning_rate_too_small",
    "too_small_learning_rate": "learning_rate_too_small",
    "low_learning_rate": "learning_rate_too_small",
    "too_low_learning_rate": "learning_rate_too_small",
    "small_lr": "learning_rate_too_small",
    "low_lr": "learning_rate_too_small",
    "tiny_updates": "learning_rate_too_small",
    "tiny_steps": "learning_rate_too_small",
    "vanishing_gradient_problem": "vanishing_gradients",
    "vanishing_gradients_problem": "vanishing_gradients",
    "gradient_vanishing": "vanishing_gradients",
    "gradients_vanishing": "vanishing_gradients",
    "saturating": "vanishing_gradients",
    "saturating_units": "vanishing_gradients",
    "exploding_gradient_problem": "exploding_gradients",
    "exploding_gradients_problem": "exploding_gradients",
    "gradient_explosion": "exploding_gradients",
    "gradients_exploding": "exploding_gradients",
    "dying_relu_problem": "dead_relus",
    "dead_relu_problem": "dead_relus",
    "over_fitting": "overfitting",
    "overfitted": "overfitting",
    "overfit": "overfitting",
    "ok": "healthy",
    "fine": "healthy",
}

# Where to look in each run's dashboard when its diagnosis is wrong (a pointer, not a label).
_LOOK = {
    "A": "read its gradient norms (their size, and whether they shrink from layer to layer), "
         "its dead and saturated fractions, and then its update-to-weight ratio against the "
         "shaded band around 1e-3 (this run trains with plain SGD)",
    "B": "look at the saturated fraction and at how the gradient norm changes from the output "
         "layer back to the first layer (a log axis)",
    "C": "look at the dead-unit fraction: how many hidden units output exactly 0 for every "
         "sample, and what that does to the gradient norms",
}


def _one_answer_per_key(got, normalise, what: str, hint: str) -> None:
    """Refuse a dict that answers one key twice under two spellings ("A" and "a")."""
    if not isinstance(got, dict):
        return  # check_keys says what is wrong with it
    seen: dict = {}
    for key in got:
        seen.setdefault(normalise(key), []).append(key)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    if twice:
        key, spellings = next(iter(twice.items()))
        raise ExerciseError(
            f"{what} answers {key!r} more than once (as {', '.join(map(repr, spellings))}); "
            "give one answer per key.", hint)


def _text(value):
    """``value`` as the student's string when it is one: a str, or numpy's str (``np.str_``,
    which a label picked from a numpy array is). numpy's str crosses from the student's call
    as its repr (an ``Other``, as any type but the builtins does): read back here, so that it
    counts as the string it is. Anything else comes back as it is (a str subclass of the
    student's own stays refused: its == could say yes to every label)."""
    if isinstance(value, Other) and value.type_name == "numpy.str_":
        quoted = re.fullmatch(r"(?:np\.str_\()?('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\)?",
                              value.text)
        if quoted:
            text = ast.literal_eval(quoted.group(1))
            if isinstance(text, str):
                return text
    return value


def _refuse_cut_text(got, what: str, depth: int = 0) -> None:
    """Refuse a string of MAX_TEXT characters or more anywhere in the answer (keys too): the
    check reads only its first MAX_TEXT, so what follows them (a second label, a "not")
    would go unread."""
    if depth > 3:
        return
    if isinstance(got, str) and len(got) >= MAX_TEXT:
        raise ExerciseError(
            f"{what} returned a string of {MAX_TEXT:,} characters or more "
            f"({got[:40]!r}...): the check reads only the first {MAX_TEXT:,}.",
            "write each key and each name alone, in a few words.")
    items = (got.items() if isinstance(got, dict) else
             enumerate(got) if isinstance(got, (list, tuple)) else ())
    for key, value in items:
        _refuse_cut_text(key, what, depth + 1)
        _refuse_cut_text(value, what, depth + 1)


def _fault_key(label) -> str:
    label = _text(label)
    if not isinstance(label, str):
        raise TypeError(f"a fault label is a string, got {describe(label)}")
    key = re.sub(r"[\s\-]+", "_", label.strip().lower()).strip("_")
    key = _FAULT_ALIASES.get(key, key)
    if key in FAULTS or key in _NOT_LABELS:
        return key
    # Spaces do not matter (the text says): "dead relus", "deadrelus" and "dead_relus" alike.
    spelled = _spelled(key, [*FAULTS, *_FAULT_ALIASES, *_NOT_LABELS])
    return key if spelled is None else _FAULT_ALIASES.get(spelled, spelled)


# Real ideas that are not labels of this exercise, each with why it is not one. A close
# spelling of a label is not suggested for them: "underfitting" is not a slip of
# "overfitting", nor "learning_rate_too_large" of "learning_rate_too_small".
_NOT_LABELS = {
    "under_fitting": "none of the three runs learns, so the loss panel alone cannot tell them "
                     "apart; the labels name what the other panels show",
    "learning_rate_too_large": "the labels name what the dashboard shows, not the cause "
                               "behind it (a learning rate too large would show as one of "
                               "them)",
}
for _spelling, _concept in (("underfitting", "under_fitting"), ("underfit", "under_fitting"),
                            ("under_fit", "under_fitting"),
                            ("learning_rate_too_high", "learning_rate_too_large"),
                            ("learning_rate_too_big", "learning_rate_too_large"),
                            ("lr_too_large", "learning_rate_too_large"),
                            ("lr_too_high", "learning_rate_too_large"),
                            ("lr_too_big", "learning_rate_too_large"),
                            ("large_learning_rate", "learning_rate_too_large"),
                            ("high_learning_rate", "learning_rate_too_large"),
                            ("too_large_learning_rate", "learning_rate_too_large"),
                            ("too_high_learning_rate", "learning_rate_too_large")):
    _NOT_LABELS[_spelling] = _NOT_LABELS[_concept]

# Words whose swap turns one idea into its opposite: a label that differs from what was
# typed by such a swap is another idea, not what the student meant.
_OPPOSITES = (("under", "over"), ("small", "large"), ("small", "big"), ("small", "high"),
              ("low", "high"), ("low", "large"), ("vanish", "explod"), ("slow", "fast"),
              ("healthy", "broken"), ("alive", "dead"))


def _opposite(typed: str, label: str) -> bool:
    """True when ``label`` is ``typed`` with a word turned into its opposite."""
    return any((a in typed and b in label and b not in typed)
               or (b in typed and a in label and a not in typed) for a, b in _OPPOSITES)


# Words that turn a label into its negation: "not_learning_rate_too_small" is no slip.
_NEGATIONS = {"not", "no", "non", "never", "without", "nothing", "isn't", "isnt", "un"}


def _edits(a: str, b: str) -> int:
    """The edit distance (Levenshtein) between two strings."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def _slip_of(key: str) -> str | None:
    """The label ``key`` is a spelling slip of, if any: within 1 edit of a known spelling (2
    for spellings of 8 characters or more), words in the same order or swapped, and never a
    negation or a word turned into its opposite. It depends on the typed text alone, never on
    which label is right for a run."""
    words = key.split("_")
    if len(key) < 4 or _NEGATIONS & set(words):
        return None
    for known in [*FAULTS, *_FAULT_ALIASES]:
        if sorted(words) == sorted(known.split("_")):
            return _FAULT_ALIASES.get(known, known)  # the same words in another order
    best = None
    for known in [*FAULTS, *_FAULT_ALIASES]:
        edits = _edits(key, known)
        if edits <= (2 if len(known) >= 8 else 1) and not _opposite(key, known) and \
                (best is None or edits < best[0]):
            best = (edits, _FAULT_ALIASES.get(known, known))
    return best[1] if best else None


def _normalise_fault(label) -> str:
    """The canonical label, or ValueError: "Did you mean ...?" only for a spelling slip of a
    label (see _slip_of), else "not one of the labels"."""
    label = _text(label)
    key = _fault_key(label)
    if key in FAULTS:
        return key
    known = ", ".join(FAULTS)
    if key in _NOT_LABELS:
        raise ValueError(f"{label!r} is not one of the labels: {_NOT_LABELS[key]}. Use one "
                         f"of: {known}.")
    meant = _slip_of(key)
    if meant is not None:
        raise ValueError(f"unknown fault {label!r}. Did you mean {meant!r}? Use one of: "
                         f"{known}.")
    raise ValueError(f"{label!r} is not one of the labels. Use one of: {known}.")


def normalise_fault(label) -> str:
    """The canonical fault label for ``label`` ("Dead ReLUs" -> "dead_relus"), else ValueError
    (with a "Did you mean ...?" for the closest known label) or TypeError (not a string)."""
    return _normalise_fault(label)


def _judge_diagnosis(case: Case, obs, expected) -> None:
    what = "`diagnose()`"
    got = obs.result
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    _refuse_cut_text(got, what)
    hint = ('return {"A": "...", "B": "...", "C": "..."} with one fault label per run: exactly '
            'the keys "A", "B" and "C", one per dashboard.')

    def run_key(k) -> str:
        return str(_text(k)).strip().upper()

    _one_answer_per_key(got, run_key, what, hint)
    answers = check_keys(got, RUNS, what, hint, normalise=run_key)
    labels = {}
    for run in RUNS:
        try:
            labels[run] = _normalise_fault(answers[run])
        except (TypeError, ValueError) as err:
            raise ExerciseError(f"run {run}: {err}",
                                "pick the label from helpers.exercises.ch05.FAULTS.") from None
    wrong = [r for r in RUNS if _digest(r, labels[r]) != _DIAGNOSIS[r]]
    if wrong:
        first = wrong[0]
        others = f" (also check run {', '.join(wrong[1:])})" if len(wrong) > 1 else ""
        written = _text(answers[first])  # (as the student wrote it, and as the check reads it)
        read_as = "" if _fault_key(written) == written else f" (read as {labels[first]!r})"
        raise ExerciseError(
            f"{len(RUNS) - len(wrong)} of {len(RUNS)} diagnoses are right. Run {first} is not "
            f"{labels[first]!r}{others}." if not read_as else
            f"{len(RUNS) - len(wrong)} of {len(RUNS)} diagnoses are right. {written!r}"
            f"{read_as} is not run {first}'s fault{others}.",
            f"run {first}: {_LOOK[first]}.")


DIAGNOSIS = Spec(
    "ch05.diagnosis", check="ch05.check_diagnosis", grade_id="ch05-diagnosis-check",
    what="`diagnose()`", answers=("diagnose",),
    draw=lambda rng: [Case("the three broken runs A, B and C")], reference=lambda: None,
    judge=_judge_diagnosis, fixed_cases=True, forbidden=_OWN_ANSWER,
    passed="`diagnose()` is right for all three runs. The cells below name each fault, show "
           "how to confirm it, and test a remedy.")


@exercise_check
def check_diagnosis(diagnose, *, seed: int | None = None) -> None:
    """Check ``diagnose()`` returns {"A": fault, "B": fault, "C": fault} with the right faults
    (labels from FAULTS; case, spaces, hyphens and common synonyms do not matter)."""
    DIAGNOSIS.check(diagnose, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 3: epochs to a target accuracy
# --------------------------------------------------------------------------------------

COURSE_EPOCHS = Forbidden(
    ("helpers.nn:*", "helpers.diagnostics:*"),
    why="the task asks you to find the epoch yourself (`History.epochs_to` does the same)")

# The curves of the check's first cases: small enough to read in a message.
_RISING = [0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.9, 0.97]


def _accuracy_curve(rng, length: int, n_val: int) -> np.ndarray:
    """A validation-accuracy curve: rising with noise and dips, in steps of 1 / n_val."""
    progress = 1 - np.exp(-np.arange(length) / rng.uniform(2, max(3.0, length / 3)))
    start, end = rng.uniform(0.3, 0.6), rng.uniform(0.85, 1.0)
    noisy = start + (end - start) * progress + rng.normal(0, 0.03, length)
    return np.round(np.clip(noisy, 0, 1) * n_val) / n_val


def _draw_epochs(rng) -> list[Case]:
    def curve(values) -> np.ndarray:
        return np.array(values, dtype=float)

    cases = [
        # First passes 0.96 at epoch 7; no entry equals 0.96, so > and >= agree and an
        # off-by-one shows alone.
        Case("a rising curve with a dip, target 0.96", (curve(_RISING), 0.96)),
        # Reaches 0.9 exactly at epoch 4 (and again later): > and >= disagree, and "the first
        # epoch" differs from the last, from the best one and from a count of epochs below.
        Case("the same curve, target 0.9 (reached exactly at epoch 4)", (curve(_RISING), 0.9)),
        # Already there at epoch 0 (before any training): epoch 0 counts.
        Case("the same curve, target 0.2 (reached at epoch 0)", (curve(_RISING), 0.2)),
        # Reaches the target early, dips below it, then climbs: a curve is not sorted.
        Case("a curve that reaches the target, dips and climbs again",
             (curve([0.5, 0.92, 0.6, 0.7, 0.8, 0.85, 0.88, 0.91, 0.93, 0.99]), 0.9)),
        # Reaches the target and then ends below it, as the chapter's tanh network of sections
        # 2-4 does (it first reaches 90 % validation accuracy at epoch 50 and ends at 87 %):
        # looking only at the last entry says "never".
        Case("a short curve that reaches the target and ends below it",
             (curve([0.5, 0.95, 0.8]), 0.9)),
        Case("a curve that reaches the target and ends below it",
             (curve([0.4, 0.7, 0.91, 0.93, 0.88, 0.87]), 0.9)),
        # Only the very last entry gets there; the target is the int 1 (100 %).
        Case("a curve reaching target 1 (an int) at its last entry",
             (curve([0.2, 0.4, 0.6, 0.8, 1.0]), 1)),
        # An entry just below the int target 1: a tolerance for "100 %" shows.
        Case("a curve with an entry just below target 1 (an int), later one at it",
             (curve([0.2, 1.0 - 1e-12, 0.8, 1.0]), 1)),
        # A target of five decimals, entries just below and just above it: the target rounded
        # (to 4, 3 or 2 decimals, or up to 2) before comparing moves the first epoch.
        Case("a target of five decimals, 0.87654, entries just below (0.87651) and above "
             "(0.87656) it", (curve([0.5, 0.87651, 0.7, 0.87656, 0.9]), 0.87654)),
        # Never gets there: the answer is None.
        Case("the rising curve, target 0.99 (never reached)", (curve(_RISING), 0.99)),
        Case("a flat curve that never reaches the target", (np.full(5, 0.5), 0.9)),
        # Targets outside an accuracy's range: the text allows any number. 0 (an int) and 0.0
        # are reached at epoch 0 by a curve that starts at 0.0, a negative target at once, and
        # 90 (a percentage, an int above 1) never.
        Case("a curve above 0, target 0 (an int)", (curve([0.2, 0.5, 0.9]), 0)),
        Case("a curve starting at 0.0, target 0.0", (curve([0.0, 0.4, 0.95]), 0.0)),
        Case("a curve, target -0.5 (below every entry)", (curve([0.1, 0.3, 0.2]), -0.5)),
        Case("the rising curve, target 90 (an int above 1: never reached)",
             (curve(_RISING), 90)),
        Case("a curve, target 90.0 (a float above 1: never reached)",
             (curve([0.3, 0.95, 1.0]), 90.0)),
        # One float step below targets of every kind: an int, a numpy float, one of 0.99 and
        # above (a "99 %" target), and a low one, with an entry 5e-4 below it first: a
        # tolerance kept for one kind of target shows on it.
        Case("an entry one float step below target 1 (an int), later one at it",
             (curve([0.5, float(np.nextafter(1.0, 0)), 1.0]), 1)),
    ]
    t_np = float(rng.uniform(0.6, 0.9))
    t_99 = float(rng.uniform(0.99, 1.0))
    t_low = float(rng.uniform(0.05, 0.19))
    cases += [
        Case(f"an entry one float step below the target np.float64({t_np!r}), later one at it",
             (curve([0.3, float(np.nextafter(t_np, 0)), t_np]), np.float64(t_np))),
        Case(f"an entry one float step below the target {t_99!r}, later one at it",
             (curve([0.5, float(np.nextafter(t_99, 0)), 0.7, t_99]), t_99)),
        Case(f"an entry 5e-4 below the low target {t_low!r}, later one at it",
             (curve([0.01, t_low - 5e-4, t_low]), t_low)),
    ]
    # Curves first reached at an end: at entry 0 (before any training), and at the last
    # entry alone; for each, one of 51 to 1,000 epochs and one of 1,001 to 250,000 (drawn
    # log-uniformly). An answer that skips entry 0, or leaves out the last entry or the last
    # few per cent of some curves (longer than 50 or 1,000 entries, say), misses; so does
    # one that leaves out the head or the tail of a curve. (The long curves below are
    # reached late or early, and the hand-made ones are short.)
    for end in ("entry 0", "its last entry"):
        for low, high in ((51, 1000), (1001, 250_000)):
            n_end = _log_size(rng, low, high)
            values, target = _long_curve(rng, n_end, hit=0 if end == "entry 0" else n_end - 1)
            cases.append(Case(f"a curve of {n_end:,} epochs, first reaching the target "
                              f"{target!r} at {end}", (values, target)))
    # Realistic curves: accuracies on a validation set of n_val points, of drawn lengths
    # over the whole range, one length drawn log-uniformly in each band (10-150, 150-3,000,
    # 3,000-30,000, 30,000-200,000 epochs), and one of 301 entries, as the chapter's
    # fit(..., epochs=300) gives. The four kinds of target go to the four bands in a drawn
    # order; the 301-entry curve gets one that it reaches. One of the five curves goes over
    # as a strided view (as h.val_accuracy[::5] or h.dead[:, j] is), besides those the spec
    # layer draws.
    bands = ((10, 150), (150, 3000), (3000, 30_000), (30_000, 200_000))
    plans = [(_log_size(rng, low, high - 1), int(kind))
             for (low, high), kind in zip(bands, rng.permutation(4))]
    plans.append((301, int(rng.choice([0, 1, 3]))))
    # (Before the short cases below: the spec's twins, two inner values swapped, go to the
    # latest cases, and a swap seldom moves the first hit of a long curve, so its tries
    # would be spent in vain.)
    plans.sort(reverse=True)
    strided = int(rng.integers(len(plans)))
    for j, (length, kind_of) in enumerate(plans):
        n_val = int(rng.choice([45, 50, 60, 100]))
        values = _accuracy_curve(rng, length, n_val)
        later = values[len(values) // 3:]
        if kind_of == 0:  # a value of the curve itself: > and >= differ
            target, kind = float(rng.choice(later)), "an accuracy the curve takes"
        elif kind_of == 1:  # between two accuracies
            target, kind = float(rng.uniform(0.7, values.max())), "a random target"
        elif kind_of == 2:  # one float step above the best entry: never reached
            target = float(np.nextafter(values.max(), 2.0))
            kind = "a target one float step above its best entry"
        else:  # reached, then the curve ends below it
            peak = int(rng.integers(1, len(values) - 1))
            values[peak:] = np.minimum(values[peak:], values[peak])
            values[-1] = values[peak] - 1 / n_val
            target, kind = float(values[peak]), "reached, then the curve ends below it"
        # One float step below the target the epoch before the first hit: a tolerance kept
        # for curves of some lengths shows on them.
        hits = np.flatnonzero(values >= target)
        if hits.size and hits[0] > 0:
            values[hits[0] - 1] = np.nextafter(target, 0)
            kind += ", and one float step below it the epoch before"
        case = Case(f"a random accuracy curve of {len(values):,} epochs ({n_val} validation "
                    f"points), {kind}: target {target!r}", (values, target))
        if j == strided:
            case.order = "S"
            case.label += (", handed over as a strided view (every other element of a larger "
                           "array)")
        cases.append(case)
    # Values just below, at and just above a drawn target of two decimals (0.93), the kind
    # that rounding to two decimals would reach from just below. The other entries sit clear
    # of the target (two decimals too, so a message shows them as they are).
    t = int(rng.integers(70, 96)) / 100  # 0.7 to 0.95: every entry stays within [0, 1]
    below, near_below, above = t - 1e-12, t - 0.005, t + 1e-12

    def off(*steps):
        return [round(t + s, 2) for s in steps]

    cases += [
        Case(f"an entry just below the target (by 1e-12), later one exactly at it, target {t!r}",
             (curve([*off(-0.2), below, *off(-0.1), t, *off(0.02)]), t)),
        Case(f"an entry one float step below the target (np.nextafter), later one at it, "
             f"target {t!r}", (curve([*off(-0.1), float(np.nextafter(t, 0)), t]), t)),
        Case(f"an entry just below the target (by 0.005), later one above it, target {t!r}",
             (curve([*off(-0.3), near_below, *off(-0.05, 0.01, 0.03)]), t)),
        Case(f"an entry just above the target (by 1e-12), target {t!r}",
             (curve([*off(-0.25, -0.02), above, *off(-0.01, 0.04)]), t)),
        Case(f"a curve whose best entry is just below the target (by 1e-12), target {t!r}",
             (curve([*off(-0.3, -0.1), below, *off(-0.05)]), t)),
        Case(f"a curve whose best entry is just below the target (by 0.005), target {t!r}",
             (curve([*off(-0.2), near_below, *off(-0.01), near_below]), t)),
        Case(f"one entry, exactly at the target {t!r}", (curve([t]), t)),
        Case(f"one entry, just below the target {t!r}", (curve([below]), t)),
        Case(f"a numpy float64 target np.float64({t!r}), reached at an entry equal to it",
             (curve([*off(-0.1, -0.05), t, *off(-0.02)]), np.float64(t))),
    ]
    # Targets whose float one step below becomes equal to them once both sides are scaled to a
    # percentage (x 100) or square-rooted: such a transform before the comparison lets that
    # entry through. Fixed targets, so every draw has them: 0.8 merges both ways, 0.93 in x
    # 100 only, 0.9 in square roots only.
    for t_merge, how in ((0.8, "x 100 and in square roots"), (0.93, "x 100"),
                         (0.9, "in square roots")):
        step_below = float(np.nextafter(t_merge, 0))
        cases.append(Case(f"an entry one float step below the target {t_merge!r} (equal to it "
                          f"{how}), later one at it",
                          (curve([0.5, step_below, 0.6, t_merge, 0.7]), t_merge)))
    # The same for other monotone rescalings of both sides (per mille, x 10 ... x 1e6, / 0.01,
    # error rates 1 - value, exp, log): each merges a float one step below with the target
    # for a few targets in a hundred, so every draw looks for a fresh target where it does.
    # (Five entries: the spec's twin of such a case swaps the two around the middle one, the
    # step below and the target, and finds its twin at once.)
    for how, rescale in _RESCALINGS:
        t_merge = _merging_target(rng, rescale)
        if t_merge is not None:
            cases.append(Case(
                f"an entry one float step below the target {t_merge!r} (equal to it {how}), "
                "later one at it",
                (curve([0.2, float(np.nextafter(t_merge, 0)), 0.3, t_merge, 0.25]), t_merge)))
    # A curve that reaches 1.0 (every validation point right) and a target just above it: an
    # answer that reads a target above 1 as a percentage (target / 100) finds an epoch. And a
    # target below 0.5 with an entry one float step below it: a tolerance shows there too.
    cases.append(Case("a curve that reaches 1.0, target 1.000000000001 (just above its best "
                      "entry: never reached)", (curve([0.6, 0.9, 1.0, 1.0]), 1.000000000001)))
    low = round(float(rng.uniform(0.2, 0.45)), 2)
    cases.append(Case(f"an entry one float step below a low target {low!r}, later one at it",
                      (curve([0.1, float(np.nextafter(low, 0)), low]), low)))
    small = np.linspace(0.5, 0.8, 6)
    small[-1] = 0.95  # the first hit is the last entry: a loop runs to the end
    n_large = _log_size(rng, 1500, 6000)
    large, large_t = _long_curve(rng, n_large)
    cases += [Case("a curve of 6 epochs", (small, 0.9), work="small", size=6, elements=6),
              Case(f"a curve of {n_large:,} epochs, target {large_t!r}", (large, large_t),
                   work="large", size=n_large, elements=n_large)]
    # A Python list of the mask ((curve >= target).tolist().index(True)), or an iterator over
    # it (itertools.compress), runs no Python line and keeps no object per element alive
    # (numpy's two booleans are shared), so neither counter sees it: a long curve, timed, does.
    # Such a loop costs 10-20 ns an entry, numpy's own 0.3-4 (a running maximum is the
    # slowest): on 2,000,000 entries, first reached after three quarters of them, the one
    # takes 20-40 ms, the other 1-7, on each side of the core's floor of 10 ms. (A first hit
    # anywhere in the second half put an iterator that stops there at 5 times numpy's time,
    # the limit; the timed curve now never reaches its target, so it runs to the end.) A list
    # of the mask is seen as such: tolist and list methods on 10,000+ elements are loops in
    # disguise. Its length is drawn (see below).
    # Three long curves, made of one draw of uniform numbers (the timed one's; the others
    # take theirs from it, reversed or at a drawn place).
    # The longest curves: one reached late and one never reached (the timed one), of one
    # length drawn from the top of what the text allows (1,800,000 to LONGEST_CURVE,
    # 1,850,000 entries), so that an answer that changes its ways beyond some length
    # (returns None, or drops the "never" branch, past 1,000,000 entries, say) shows on both,
    # on every draw. (Before, the reached ones stopped at 2,000,000 entries and the never
    # reached one went on to 3,200,000: "None past 2,000,000" showed on one draw in four
    # only. Two curves of the longest length cost less CPU than the three long ones before.)
    # The late one is reached at its last entry on one draw in three, else at a drawn place
    # in its last tenth, always past entry 200,000: a search of part of a long curve (its
    # head, its first tenth, all but its last entry or its last tenth) misses.
    n_late = _log_size(rng, 1_800_000, LONGEST_CURVE)
    # A curve reached early, at an odd epoch of its first tenth, of 100,001 to 200,000
    # epochs: a search of part of a long curve (its second half, its last tenth, every
    # other entry) misses.
    n_early = _log_size(rng, 100_001, 200_000)
    # The timed curve never reaches its target (its best entry, at a drawn place in its
    # second half, one float step below it): an answer that drops the "never" branch beyond
    # some length shows on every draw, and a loop, which runs to its end, shows in time.
    n_timed = n_late
    uniform = rng.random(max(n_timed, n_late, n_early))
    lowest = max(200_001, -(-9 * n_late // 10))  # (the last tenth, past entry 200,000)
    last = rng.integers(3) == 0 or lowest >= n_late - 1
    at = n_late - 1 if last else int(rng.integers(lowest, n_late - 1))
    late, late_t = _long_curve(rng, n_late, hit=at, base=uniform[::-1][:n_late].copy())
    where = "at its last entry" if last else "in its last tenth"
    cases.append(Case(f"a curve of {n_late:,} epochs, first reaching the target {late_t!r} "
                      f"{where}", (late, late_t)))
    start = int(rng.integers(0, uniform.size - n_early + 1))
    early, early_t = _long_curve(rng, n_early, earliest=0.01, latest=0.1, odd=True,
                                 base=uniform[start:start + n_early].copy())
    cases.append(Case(f"a curve of {n_early:,} epochs, first reaching the target {early_t!r} in "
                      "its first tenth, at an odd epoch", (early, early_t)))
    timed, timed_t = _long_curve(rng, n_timed, earliest=0.5, never=True,
                                 base=uniform[:n_timed])
    cases.append(Case(f"a curve of {n_timed:,} epochs, never reaching the target {timed_t!r} "
                      "(its best entry one float step below it; timed against numpy's own "
                      "loops)", (timed, timed_t), work="timed"))
    for i, c in enumerate(cases):  # every case, the work cases too: a message points at it
        c.note["index"] = i
    return cases


def _long_curve(rng, n: int, earliest: float = 0.5, latest: float = 0.9,
                odd: bool = False, never: bool = False, hit: int | None = None,
                base: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """A long curve and a target it first reaches at a drawn place (after the fraction
    ``earliest`` of it, before ``latest``; at an odd epoch if ``odd``), or at ``hit`` if given:
    below the target until then, many entries within 1e-6 of it and two a float step below
    (one halfway, one just before the hit: a lower precision, or a target rounded to
    float32, reaches it early), then values on both sides. A search of part of the curve, or
    a sample of it, misses. ``base``: n numbers drawn in [0, 1), made into the curve in place
    (shared with another curve of the draw: a draw of millions costs more than the rest of
    the check), else drawn here."""
    t = round(float(rng.uniform(0.85, 0.95)), 2)
    # One draw of n numbers in [0, 1) for both parts: below the target, t - 1e-7 - 0.3 u;
    # after the hit, t - 0.3 + 0.35 u.
    c = rng.random(n) if base is None else base
    if hit is None:
        hit = int(rng.integers(int(earliest * n), int(round(latest * n))))
        hit |= 1 if odd else 0
    after = c[hit + 1:]
    after *= 0.35
    after += t - 0.3
    before = c[:hit]
    before *= -0.3
    before += t - 1e-7
    near = rng.choice(n // 2, max(3, n // 1000), replace=False)
    c[near] = t - rng.uniform(1e-9, 1e-6, near.size)
    c[hit // 2] = np.nextafter(t, 0)
    c[max(hit - 1, 0)] = np.nextafter(t, 0)
    c[hit] = t
    if never:  # never reached: every entry below t, the best one float step below it
        np.minimum(c, np.nextafter(t, 0), out=c)
    return c, t


#: The most entries a curve of the check has (the text says so).
LONGEST_CURVE = 1_850_000

#: Rescalings a student might apply to the curve and the target alike before comparing.
_RESCALINGS = (("x 10", lambda v: v * 10.0), ("x 100", lambda v: v * 100.0),
               ("x 1000", lambda v: v * 1000.0), ("x 10,000", lambda v: v * 1e4),
               ("x 1e6", lambda v: v * 1e6), ("/ 100", lambda v: v / 100.0),
               ("/ 0.01", lambda v: v / 0.01), ("as 1 - value (an error rate)", lambda v: 1 - v),
               ("x 60", lambda v: v * 60.0), ("x 0.1", lambda v: v * 0.1),
               ("in square roots", np.sqrt), ("as exp", np.exp), ("as log", np.log),
               ("x 0.9", lambda v: v * 0.9), ("x 1.1", lambda v: v * 1.1),
               ("x 3", lambda v: v * 3.0), ("x 0.99", lambda v: v * 0.99))


def _merging_target(rng, rescale) -> float | None:
    """A target in [0.3, 0.99) whose float one step below becomes equal to it once both are
    rescaled (None if a few thousand tries find none)."""
    for _ in range(4000):
        t = float(rng.uniform(0.3, 0.99))
        if rescale(np.float64(np.nextafter(t, 0))) == rescale(np.float64(t)):
            return t
    return None


def _epochs_to(curve, target) -> int | None:
    hits = np.flatnonzero(np.asarray(curve, dtype=float) >= target)
    return int(hits[0]) if hits.size else None


def _target_text(target) -> str:
    return repr(target) if type(target) is int else repr(float(target))


def _show_curve(case: Case) -> str:
    """How a message names a case: the curve itself when short, else how to get it."""
    curve, target = case.args
    if curve.size <= 12:
        return f"curve = {curve.tolist()}, target = {_target_text(target)}"
    return (f"a curve of {curve.size} entries ({_how_to_get('EPOCHS_TO_TARGET', case)} gives "
            f"it), target = {_target_text(target)}")


def _at(curve: np.ndarray, e: int) -> str:
    return f"curve[{e}] = {float(curve[e])!r}"


def _judge_epochs(case: Case, obs, expected) -> None:
    what = "`epochs_to_target(curve, target)`"
    curve, target = case.args
    on = f"{what} for {_show_curve(case)}"
    got = obs.result
    if got is None:
        if expected is None:
            return
        ends_below = (f" and ends below it (curve[-1] = {float(curve[-1])!r}): the epoch of "
                      "reaching the target counts even when the accuracy falls again later"
                      if curve[-1] < target else "")
        where = ""
        if curve.size > 10 and expected == curve.size - 1:
            where = ", its last entry, and nowhere before: every entry counts, the last too"
        elif curve.size > 10 and expected >= 0.9 * curve.size:
            where = (", in its last tenth, and nowhere before: every entry counts, to the end "
                     "of the curve")
        raise ExerciseError(
            f"{on} returned None; expected {expected}: the curve reaches the target there "
            f"({_at(curve, expected)}){where}{ends_below}.",
            "compare every entry of the curve with the target at once, then find the position "
            "of the first entry that is high enough.")
    if isinstance(got, np.ndarray):
        shown = got.tolist() if got.size <= 12 else f"shape {got.shape}"
        raise ExerciseError(f"{on} returned an array ({shown}); expected {expected}.",
                            "return one whole number: the first epoch, not the list of epochs.")
    if isinstance(got, (list, tuple)):
        raise ExerciseError(
            f"{on} returned a Python {type(got).__name__} of length {len(got)}; expected "
            f"{expected}.", "return one whole number (an int), or None, not a list.")
    is_integer = isinstance(got, (int, np.integer)) and not isinstance(got, (bool, np.bool_))
    if not is_integer:
        if isinstance(got, (bool, np.bool_)):
            came = f"{got!r} (bool)"
        elif isinstance(got, (float, np.floating)):
            came = f"{got!r} ({type(got).__name__})"
        else:
            came = describe(got)
        note = (" (an int): an epoch is an index into the curve, and a float cannot index an "
                "array." if isinstance(got, (float, np.floating)) and expected is not None
                else ".")
        raise ExerciseError(f"{on} returned {came}; expected {expected}{note}",
                            "return an integer (the epoch), or None when the target is never "
                            "reached.")
    e = int(got)
    if expected is None:
        best = int(np.argmax(curve))
        gap = target - float(curve[best])
        if 0 < gap <= 0.01 and e == best:
            raise ExerciseError(
                f"{on} returned {e}; expected None: {_at(curve, e)} is below the target, by "
                f"{gap:.1g}, and no entry reaches it.",
                "a value just below the target has not reached it: compare the values as they "
                "are, without rounding them and without a tolerance.")
        raise ExerciseError(
            f"{on} returned {e}; expected None: no entry reaches {_target_text(target)}.",
            "a mask that is never True still has a position of its 'first maximum' (0), and "
            "-1 or len(curve) are epochs too: check whether the target is reached at all, and "
            "return None when it is not.")
    if e == expected:
        if isinstance(got, np.integer):
            raise ExerciseError(
                f"{on} returned a numpy {got.dtype} ({got!r}); expected {expected} as a Python "
                "int.", "convert it with int(...): the task asks for a plain Python int.")
        return
    strict = _epochs_to(curve > target, True)
    inside = 0 <= e < curve.size
    if inside and curve[e] < target and target - curve[e] <= 0.01:
        gap = target - float(curve[e])
        mistake = (f"{_at(curve, e)} is below the target, by {gap:.1g}, so it has not reached "
                   f"it; the first entry that has is {_at(curve, expected)}.")
        hint = ("a value just below the target has not reached it: compare the values as they "
                "are, without rounding them and without a tolerance.")
        raise ExerciseError(f"{on} returned {e}; expected {expected}: {mistake}", hint)
    after_0 = _epochs_to(curve[1:], target) if expected == 0 and e >= 1 else None
    if after_0 is not None and e == after_0 + 1:
        mistake = (("one epoch too late: " if e == 1 else "")
                   + f"entry 0 already reaches the target ({_at(curve, 0)}), and {e} is the "
                   "first epoch after it that does. Entry 0 is the accuracy before any "
                   "training, epoch 0, and it counts.")
    elif np.any(curve == target) and e == strict:
        mistake = ("at that epoch the accuracy equals the target, and reaching the target "
                   "counts (>=, not >).")
    elif e == expected + 1:
        mistake = ("one epoch too late: entry e of the curve is already the accuracy after e "
                   "epochs (entry 0 is before training).")
    elif e == expected - 1:
        mistake = "one epoch too early: entry e of the curve is the accuracy after e epochs."
    else:
        mistake = (f"the first entry with curve >= {_target_text(target)} is "
                   f"{_at(curve, expected)}"
                   + (f", while {_at(curve, e)}." if inside else
                      f"; {e} is not an index of this curve."))
    raise ExerciseError(f"{on} returned {e}; expected {expected}: {mistake}",
                        "look for the *first* epoch whose accuracy is at least the target; a "
                        "curve can dip and rise again, so it is not sorted.")


def _explain_epochs_error(case: Case, obs) -> str | None:
    if obs.error.startswith("IndexError") and _epochs_to(*case.args) is None:
        return ("the target is never reached on this curve, so there is no first epoch to "
                "index: check whether it is reached at all, and return None when it is not.")
    return None


EPOCHS_TO_TARGET = Spec(
    "ch05.epochs_to_target", check="ch05.check_epochs_to_target",
    grade_id="ch05-epochs-to-target-check",
    what="`epochs_to_target(curve, target)`", answers=("epochs_to_target",),
    draw=_draw_epochs, reference=_epochs_to, judge=_judge_epochs,
    explain_error=_explain_epochs_error, forbidden=COURSE_EPOCHS, vectorised=True, twins=3,
    loop_hint="compare the whole curve with the target at once, then ask numpy for the "
              "position of the first True. A Python list of the curve or of the comparison "
              "(list(...), .tolist()) handles the elements one at a time, like a loop: stay "
              "with the numpy array.",
    passed="`epochs_to_target(curve, target)` is right on every case: values exactly at, just "
           "below and just above the target, a curve that reaches the target and ends below "
           "it, and one that never gets there.")


@exercise_check
def check_epochs_to_target(epochs_to_target, *, seed: int | None = None) -> None:
    """Check ``epochs_to_target(curve, target)``: the first index e with curve[e] >= target as
    a Python int, else None, on curves drawn at each check (values at, just below and just
    above the target), written without the course's code and without a Python loop."""
    EPOCHS_TO_TARGET.check(epochs_to_target, seed=seed)


# --------------------------------------------------------------------------------------
# Exercise 4: output activation and loss for three tasks
# --------------------------------------------------------------------------------------

#: The tasks of the output exercise, each with its description.
TASKS = {
    "temperature": "predict tomorrow's maximum temperature in °C from today's weather",
    "digit": "read a handwritten digit: exactly one of the 10 classes 0-9",
    "tags": "tag a photo with any of 5 labels (beach, dog, people, night, text); a photo can "
            "have several tags, or none",
}
#: The output activations to choose from, each with what it gives.
OUTPUTS = {
    "identity": "z itself: any real number",
    "sigmoid": "1 / (1 + exp(-z)) of each output on its own: each in (0, 1)",
    "softmax": "exp(z_i) / sum_j exp(z_j) over the k outputs: each in (0, 1), all summing to 1",
}
#: The losses to choose from, each taking the output activation's result (as helpers.nn
#: computes them); each with what it measures.
LOSSES = {
    "mse": "mean squared error between the outputs and the targets",
    "bce": "binary cross-entropy: -log of the probability each output gives its own 0/1 "
           "target",
    "cross_entropy": "cross-entropy: -log of the probability given to the one right class "
                     "of k",
}
# The right output of each task, as _digest("output", task, output): no answer key to read.
_OUTPUT_CHOICE = {
    "temperature": "a20016a19b866e6307e63b51494119e6c1a6d4088c951c9ba26802d60b5dadba",
    "digit": "417ad3a3607fabeb9f7ac98da27116b95b4a98aed4b2651390ca31a93ce95017",
    "tags": "a179d05abd8138ed9630fe1d522f89a0956ae986f8276c51b69b112a25c11e32",
}
_OUTPUT_ALIASES = {"linear": "identity", "none": "identity", "logistic": "sigmoid"}
# Other names of the same losses, each taking probabilities as the course's do (Keras's
# losses by default, PyTorch's BCELoss and MSELoss), written without a framework prefix: a
# name with one (nn., torch., F., tf., keras.) is a framework's loss (see _FRAMEWORK).
_LOSS_ALIASES = {
    "mean_squared_error": "mse", "squared_error": "mse", "l2": "mse", "mseloss": "mse",
    "mse_loss": "mse", "bce_loss": "bce",
    "binary_cross_entropy": "bce", "binary_crossentropy": "bce", "bceloss": "bce",
    "crossentropy": "cross_entropy", "categorical_cross_entropy": "cross_entropy",
    "categorical_crossentropy": "cross_entropy", "ce": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy",
    # Keras's class names, without their module (tf.keras.losses.MeanSquaredError)
    "meansquarederror": "mse", "binarycrossentropy": "bce",
    "categoricalcrossentropy": "cross_entropy", "sparsecategoricalcrossentropy": "cross_entropy",
}
# Framework losses that do not take probabilities: BCEWithLogitsLoss and CrossEntropyLoss
# apply the output activation themselves (they take logits), NLLLoss takes log-probabilities.
# Each: (the activation it applies itself, or None; its name; what it expects).
_LOGITS_LOSSES = {
    "bce_with_logits": ("sigmoid", "BCEWithLogitsLoss", "takes logits and applies a sigmoid "
                        "itself"),
    "crossentropyloss": ("softmax", "CrossEntropyLoss", "takes logits and applies "
                         "log-softmax itself"),
    "nll": (None, "NLLLoss", "takes log-probabilities: it computes -input[y], with no "
            "logarithm of its own"),
}
for _spelling, _loss in (("bcewithlogitsloss", "bce_with_logits"),
                         ("bcewithlogits", "bce_with_logits"),
                         ("bce_logits", "bce_with_logits"),
                         ("binary_cross_entropy_with_logits", "bce_with_logits"),
                         ("sigmoid_cross_entropy_with_logits", "bce_with_logits"),
                         ("softmax_cross_entropy_with_logits", "crossentropyloss"),
                         ("cross_entropy_with_logits", "crossentropyloss"),
                         ("softmax_cross_entropy", "crossentropyloss"),
                         ("cross_entropy_loss", "crossentropyloss"),
                         ("nllloss", "nll"), ("nll_loss", "nll")):
    _LOGITS_LOSSES[_spelling] = _LOGITS_LOSSES[_loss]
# The table above the exercise: each output activation has its natural loss.
_PAIR = {"identity": "mse", "sigmoid": "bce", "softmax": "cross_entropy"}

# Why an output does not fit a task, keyed by _digest("why", task, output).
_WHY = {
    _digest("why", "temperature", "sigmoid"):
        "a sigmoid output lies in (0, 1), so 25 °C is out of reach; a regression target needs "
        "an unbounded output",
    _digest("why", "temperature", "softmax"):
        "softmax gives probabilities over classes; a temperature is one real number, not a "
        "class",
    _digest("why", "digit", "identity"):
        "an identity output gives unbounded scores, not probabilities over the 10 classes",
    _digest("why", "digit", "sigmoid"):
        "10 independent sigmoids do not sum to 1, but exactly one digit is right: the classes "
        "exclude each other",
    _digest("why", "tags", "softmax"):
        "softmax makes the 5 tags compete (their probabilities sum to 1), so a photo of a dog "
        "on a beach could not get both tags with high probability; each tag is its own yes/no "
        "question",
    _digest("why", "tags", "identity"):
        "an identity output gives unbounded scores, not a probability per tag",
}


# A framework's module before a loss's name: "nn.", "torch.nn.functional.", "F.", "tf.keras.".
_FRAMEWORK = re.compile(r"^((torch|nn|functional|f|tf|tensorflow|keras|losses)\.)+")
# PyTorch's modules: its cross-entropy (F.cross_entropy, nn.CrossEntropyLoss) takes logits.
_PYTORCH = re.compile(r"^((torch|nn|functional|f)\.)+")
# PyTorch's own names among _LOGITS_LOSSES (the others are TensorFlow's).
_PYTORCH_NAMES = {"bce_with_logits", "bcewithlogitsloss", "bcewithlogits", "bce_logits",
                  "binary_cross_entropy_with_logits", "crossentropyloss", "cross_entropy_loss",
                  "nll", "nllloss", "nll_loss"}
# Loss names that fit two of the course's losses: the student says which one.
_AMBIGUOUS = {
    "log_loss": "scikit-learn's log_loss is the cross-entropy of probabilities, binary or "
                "over k classes, so it names both 'bce' and 'cross_entropy'",
}
_AMBIGUOUS["logloss"] = _AMBIGUOUS["log_loss"]
_AMBIGUOUS["negative_log_likelihood"] = (
    "the negative log-likelihood -log p[y] of the output's probabilities is 'cross_entropy' "
    "after a softmax and 'bce' after a sigmoid, so it names both (and PyTorch's NLLLoss, by "
    "that name, takes log-probabilities instead)")


def _name_key(value: str) -> str:
    """"BCE with-logits" -> "bce_with_logits"; "nn.CrossEntropyLoss()" -> "crossentropyloss";
    "BinaryCrossentropy(from_logits=True)" -> "binarycrossentropy"; "softmax(dim=0)" keeps its
    setting."""
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    key = _FRAMEWORK.sub("", key)
    # Only an empty call and the settings that name the function ("()", "(from_logits=True)",
    # which says which loss it is) go. Any other setting changes what the function computes
    # (softmax(dim=0) normalises over the batch, bce(weight=0) is 0): the name keeps its
    # brackets, and names no single function of the lists; nor does a formula,
    # "cross_entropy(softmax(p))".
    return re.sub(r"\((_*from_logits_*=_*(true|false)_*)?\)$", "", key)


def _logits_loss(value) -> tuple | None:
    """The framework loss on logits (or log-probabilities) ``value`` names, if any, as an
    entry of _LOGITS_LOSSES: a known name of one; any name with "logit" in it; and any
    cross-entropy with a PyTorch prefix (F.cross_entropy, nn.CrossEntropy: on logits). Never
    the course's loss on probabilities; other framework names are left to _framework_name."""
    if not isinstance(value, str):
        return None
    raw = re.sub(r"[\s\-]+", "_", value.strip().lower())
    raw = re.sub(r"from_logits_*=_*false", "", raw)  # Keras's default: on probabilities
    key = _name_key(value)
    known = _spelled(key, _LOGITS_LOSSES)
    if known is not None:
        return _LOGITS_LOSSES[known]
    binary = any(w in _squashed(key) for w in ("bce", "binary", "sigmoid"))
    if "logit" in raw:
        return _LOGITS_LOSSES["bce_with_logits" if binary else "crossentropyloss"]
    if _PYTORCH.match(raw) and not binary and ("entropy" in key or key == "ce"):
        return _LOGITS_LOSSES["crossentropyloss"]
    return None


def _framework_name(value) -> bool:
    """True for a name with a framework prefix (nn.MSELoss, F.binary_cross_entropy)."""
    return isinstance(value, str) and bool(_FRAMEWORK.match(value.strip().lower()))


def _slip(key: str, names) -> str | None:
    """The name ``key`` is a spelling slip of: within 1 edit (2 for names of 8 characters or
    more) of one of ``names``."""
    if len(key) < 4:
        return None
    best = min(((_edits(key, n), n) for n in names), default=None)
    if best and best[0] <= (2 if len(best[1]) >= 8 else 1):
        return best[1]
    return None


def _squashed(key: str) -> str:
    """A name without its underscores (spaces and hyphens are underscores by then): the
    text says spaces do not matter, so "b c e" is "bce" and "cross entropy" "crossentropy"."""
    return key.replace("_", "")


def _spelled(key: str, names) -> str | None:
    """The one of ``names`` that ``key`` spells, spaces, hyphens and underscores aside."""
    if key in names:
        return key
    return next((n for n in names if _squashed(n) == _squashed(key)), None)


def _known(key: str, options, aliases) -> str | None:
    """The option ``key`` names, directly or by an alias, spaces and underscores aside."""
    spelled = _spelled(key, [*options, *aliases])
    return None if spelled is None else aliases.get(spelled, spelled)


def _is_name(value, options, aliases) -> bool:
    if not isinstance(value, str):
        return False
    return _known(_name_key(value), options, aliases) is not None


def _canonical(value, options, aliases, what: str, task: str) -> str:
    if not isinstance(value, str):
        raise ExerciseError(
            f"task {task!r}: the {what} should be a string, got {describe(value)}.",
            f"choose from {', '.join(map(repr, options))}.")
    key = _name_key(value)
    ambiguous = _spelled(key, _AMBIGUOUS)
    if ambiguous is not None and what == "loss":
        raise ExerciseError(f"task {task!r}: {value!r} is not one of the names: "
                            f"{_AMBIGUOUS[ambiguous]}.",
                            f"choose from {', '.join(map(repr, options))}.")
    key = _known(key, options, aliases) or key
    if key not in options:
        close = _slip(key, list(options) + list(aliases))
        guess = f" Did you mean {aliases.get(close, close)!r}?" if close else ""
        if "=" in key:
            guess = (" That name sets an argument, and a setting changes what the function "
                     "computes (softmax(dim=0) normalises over the batch, not over the "
                     "classes): name each function alone, with its default settings.")
        elif "(" in key:
            guess = (" That is a formula, a function applied to something: each part names "
                     "one function, and a formula can hide a second activation (softmax inside "
                     "the loss as well as in the output, say).")
        raise ExerciseError(f"task {task!r}: unknown {what} {value!r}.{guess}",
                            f"choose from {', '.join(map(repr, options))}.")
    return key


def _as_pair(task: str, pair_):
    """(output, loss) from a tuple, a list, or a dict with exactly the keys output and loss."""
    if isinstance(pair_, dict):
        pair_ = {str(_text(k)): v for k, v in pair_.items()}  # (np.str_ keys too)
        keys = sorted(pair_)
        if keys != ["loss", "output"]:
            raise ExerciseError(
                f"task {task!r}: a dict for the pair must have exactly the keys 'output' and "
                f"'loss', got {keys}.", 'write e.g. ("sigmoid", "bce"), or {"output": '
                '"sigmoid", "loss": "bce"}.')
        return pair_["output"], pair_["loss"]
    if not isinstance(pair_, (tuple, list)) or len(pair_) != 2:
        raise ExerciseError(
            f"task {task!r}: expected a pair (output activation, loss), got {describe(pair_)}.",
            'write e.g. ("sigmoid", "bce").')
    return pair_[0], pair_[1]


def _judge_output_choice(case: Case, obs, expected) -> None:
    what = "`choose_output()`"
    got = obs.result
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    _refuse_cut_text(got, what)
    hint = ('return {"temperature": (output, loss), "digit": (...), "tags": (...)} with '
            f"exactly the keys {', '.join(map(repr, TASKS))}.")

    def task_key(k) -> str:
        return str(_text(k)).strip().lower()

    _one_answer_per_key(got, task_key, what, hint)
    answers = check_keys(got, TASKS, what, hint, normalise=task_key)
    for task in TASKS:
        first, second = map(_text, _as_pair(task, answers[task]))
        if _is_name(first, LOSSES, _LOSS_ALIASES) and _is_name(second, OUTPUTS,
                                                                _OUTPUT_ALIASES):
            raise ExerciseError(
                f"task {task!r}: {(first, second)!r} gives the loss first; expected the pair "
                "in the order (output activation, loss).",
                'write the output activation first, e.g. ("sigmoid", "bce").')
        out = _canonical(first, OUTPUTS, _OUTPUT_ALIASES, "output activation", task)
        logits_loss = _logits_loss(second)
        framework = logits_loss is None and _framework_name(second)
        loss = (second if logits_loss or framework else
                _canonical(second, LOSSES, _LOSS_ALIASES, "loss", task))
        if logits_loss:
            _judge_logits_loss(task, out, second, *logits_loss)
        if _digest("output", task, out) != _OUTPUT_CHOICE[task]:
            why = _WHY.get(_digest("why", task, out), "")
            raise ExerciseError(
                f"task {task!r} ({TASKS[task]}): the output activation {out!r} does not fit"
                + (f": {why}." if why else "."),
                "ask what the output must be: any real number, one class out of k, or an "
                "independent yes/no per label.")
        if framework:
            raise ExerciseError(
                f"task {task!r}: the output {out!r} is right, but {second!r} is a framework's "
                "loss, not one of this exercise's names: a framework's loss may take logits "
                "and apply the output activation itself (PyTorch's cross-entropy does), "
                "while the course's take the output activation's result.", _LOSS_HINT)
        if loss != _PAIR[out]:
            spelled = "" if _name_key(second) == loss else f" (that is {loss!r})"
            raise ExerciseError(
                f"task {task!r}: the output {out!r} is right, but the loss {second!r}{spelled} "
                "does not go with it.",
                "each output activation has its natural loss (the table above this exercise): "
                "the one for which the gradient at the logits is simply (prediction - target).")


_LOSS_HINT = ("name the loss from ch05.LOSSES: each takes what the output activation gives "
              "(bce and cross_entropy take probabilities), as helpers.nn computes it.")


def _judge_logits_loss(task: str, out: str, name: str, inside: str | None, torch_name: str,
                       expects: str) -> None:
    """A framework loss that does not take probabilities: refuse it, saying what goes wrong.
    An output that does not fit the task is left to the output's own message."""
    pytorch = (_name_key(name) in _PYTORCH_NAMES or _PYTORCH.match(name.strip().lower())) \
        and not re.search(r"^(tf|tensorflow|keras)\.|logits=", name.strip().lower())
    said = (f"task {task!r}: {name!r} is PyTorch's {torch_name}, which {expects}" if pytorch
            else f"task {task!r}: {name!r} is a framework's loss on logits, like PyTorch's "
                 f"{torch_name}, which {expects}")
    fits = _digest("output", task, out) == _OUTPUT_CHOICE[task]
    if inside is not None and out == "identity" and \
            _digest("output", task, inside) == _OUTPUT_CHOICE[task]:
        raise ExerciseError(
            f"{said}: with an identity output that is how PyTorch does it, the {inside} "
            "inside the loss. This exercise names the two parts apart: the output activation "
            "the task needs, and the loss on its result.",
            _LOSS_HINT)
    if not fits:
        return
    if inside is not None and out == inside:
        twice = {"sigmoid": "squashed by a second sigmoid: the loss only ever sees values in "
                            "(0.5, 0.73), so it cannot fall to 0",
                 "softmax": "put through a second softmax: the loss only ever sees "
                            "probabilities between 0 and 1, so it cannot fall to 0"}[inside]
        raise ExerciseError(
            f"{said}. After a {inside} output layer the outputs would be {twice}, and its "
            "gradient fades. Nothing raises an error: training just stalls (the classic "
            "silent bug of section 6).",
            f"{_LOSS_HINT} (In PyTorch: no {inside} layer, and {torch_name} on the logits.)")
    if inside is None and out == "softmax":
        raise ExerciseError(
            f"{said}. Fed the softmax's probabilities p, it minimises -p[y] instead of "
            "-log p[y], and its gradient fades on a confident wrong answer. Nothing raises an "
            "error: a silent bug, like the one of section 6.",
            f"{_LOSS_HINT} (In PyTorch, NLLLoss goes after log_softmax.)")
    raise ExerciseError(f"{said}, so it does not go with the output {out!r}.", _LOSS_HINT)


OUTPUT_CHOICE = Spec(
    "ch05.output_choice", check="ch05.check_output_choice", grade_id="ch05-output-choice-check",
    what="`choose_output()`", answers=("choose_output",),
    draw=lambda rng: [Case("the three tasks temperature, digit and tags")],
    reference=lambda: None, judge=_judge_output_choice, fixed_cases=True,
    forbidden=_OWN_CHOICE,
    passed="`choose_output()` is right: for each task the output activation fits what the "
           "output means, and the loss is the one that goes with it.")


@exercise_check
def check_output_choice(choose_output, *, seed: int | None = None) -> None:
    """Check ``choose_output()`` returns {task: (output activation, loss)} for the three TASKS."""
    OUTPUT_CHOICE.check(choose_output, seed=seed)
