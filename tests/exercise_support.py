"""Shared pieces of the exercise-check tests (tests/test_exercises_chNN.py).

A check draws fresh cases at every call, so a catalogue entry is tried on several draws:
fixed seeds (repeatable) and one fresh seed (what a student gets), and the seed is named when
a draw disagrees. Right answers are run over many seeds (``EXERCISE_SEEDS``, 200 unless the
environment says otherwise): a random draw must never reject a right answer.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from helpers.exercises import ExerciseError, NotAnsweredYet, _spec

SEEDS = int(os.environ.get("EXERCISE_SEEDS", "200"))
# Each wrong answer is tried on these draws, and on a fresh one (EXERCISE_WRONG_SEEDS draws
# more: a message pattern that holds on three draws may not on the fortieth).
WRONG_SEEDS = tuple(range(int(os.environ.get("EXERCISE_WRONG_SEEDS", "3"))))


# A check whose draw holds large timed cases (a million-row matrix, 200,000 logits) costs
# 0.1-0.7 s of CPU a draw: there the catalogue's first right answer runs on every seed and the
# other ways of writing it on the first VARIANT_SEEDS (and a fresh one), which keeps the whole
# suite inside CI's time while each variant still meets dozens of fresh draws.
VARIANT_SEEDS = min(SEEDS, int(os.environ.get("EXERCISE_VARIANT_SEEDS", "40")))


def right_draws(catalogue: dict, name: str) -> list[int]:
    """Seeds for right answer ``name``: every seed for the catalogue's first entry,
    VARIANT_SEEDS for the others (for checks with costly draws, see above)."""
    return draws(SEEDS if name == next(iter(catalogue)) else VARIANT_SEEDS)


def draws(n: int | None = None) -> list[int]:
    """Seeds for a right answer's run: 0..n-1 and one fresh draw."""
    return [*range(SEEDS if n is None else n), _spec.fresh_seed()]


def rejects(check, answers, pattern: str, seeds=WRONG_SEEDS) -> None:
    """``check(*answers)`` raises an ExerciseError on every draw: one matching ``pattern`` on
    the fixed seeds, any ExerciseError on a fresh one.

    The message is a regression test of repeatable draws. On a fresh draw another of the
    answer's faults may show first (a dtype before a value, a generic hint before a specific
    one), and the property that matters there is that the wrong answer gets no pass. A sweep
    of messages over many draws is EXERCISE_WRONG_SEEDS=40."""
    if not isinstance(answers, tuple):
        answers = (answers,)
    for i, seed in enumerate([*seeds, _spec.fresh_seed()]):
        try:
            check(*answers, seed=seed)
        except NotAnsweredYet as err:
            raise AssertionError(f"seed {seed}: reported as not answered: {err}") from None
        except ExerciseError as err:
            assert i == len(seeds) or re.search(pattern, str(err)), \
                f"seed {seed}: message {str(err)!r} does not match {pattern!r}"
        else:
            raise AssertionError(f"seed {seed}: the check accepted the wrong answer")


def accepts(check, answers, seeds) -> None:
    """``check(*answers)`` passes on every seed (named when one fails)."""
    if not isinstance(answers, tuple):
        answers = (answers,)
    for seed in seeds:
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            try:
                check(*answers, seed=seed)
            except ExerciseError as err:
                raise AssertionError(f"seed {seed}: a right answer was rejected: {err}") \
                    from None


def graded(spec: _spec.Spec, answers, tmp_path: Path, monkeypatch) -> _spec.Verdict:
    """The verdict of the autograding path, in one process: the grader draws and writes the
    cases, the "student" side runs the check in collect mode, the grader judges the outbox."""
    if not isinstance(answers, tuple):
        answers = (answers,)
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir(parents=True)
    outbox.mkdir(parents=True)
    prepared = _spec.prepare_inbox([spec.grade_id], inbox)
    with monkeypatch.context() as m:
        m.setenv(_spec.INBOX_VARIABLE, str(inbox))
        m.setenv(_spec.OUTBOX_VARIABLE, str(outbox))
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            spec.check(*answers)
    return _spec.verdicts(prepared, outbox)[spec.grade_id]


def kept_by(summary):
    """A wrong answer builder: results kept between calls by ``summary`` of each array argument
    (arrays in lists too) and the other arguments as they are, handed back as fresh copies.
    Right until two inputs share the summary, which a case and its twin (two inner values
    swapped) do for any summary of sums, ends or extremes."""
    import copy

    import numpy as np

    def key_of(value):
        if isinstance(value, np.ndarray):
            return (value.shape, value.dtype.str, summary(value))
        if isinstance(value, (list, tuple)):
            return tuple(key_of(v) for v in value)
        return repr(value)

    def wrap(fn):
        kept = {}

        def answer(*args, **kwargs):
            key = (key_of(args), key_of(sorted(kwargs.items())))
            if key not in kept:
                kept[key] = fn(*args, **kwargs)
            return copy.deepcopy(kept[key])
        return answer
    return wrap


def sum_of(a):
    return float(a.sum()) if a.size else 0.0


def ends_of(a):
    return (float(a.flat[0]), float(a.flat[-1])) if a.size else ()


def extremes_of(a):
    return (float(a.max()), float(a.min())) if a.size else ()


def ring_of(fn, slots: int):
    """A wrong answer builder: ``fn``'s results copied into ``slots`` output arrays per shape
    and dtype, handed out in turn (a ring of kept buffers)."""
    import numpy as np

    rings = {}

    def answer(*args, **kwargs):
        out = np.asarray(fn(*args, **kwargs))
        ring = rings.setdefault((out.shape, out.dtype.str), [[], 0])
        if len(ring[0]) < slots:
            ring[0].append(np.empty_like(out))
        buffer = ring[0][ring[1] % slots]
        ring[1] += 1
        buffer[...] = out
        return buffer
    return answer


def only_when(test, wrong, right):
    """A wrong answer builder: ``wrong`` for the calls whose first argument passes ``test``
    (a dtype, a number of axes, a size), ``right`` for the others: a mistake kept for some
    inputs only."""
    def answer(*args, **kwargs):
        return (wrong if test(args[0]) else right)(*args, **kwargs)
    return answer


def element_loop(fn):
    """A wrong answer builder: ``fn`` applied to each element in a Python comprehension, as an
    array of the input's shape (float64 for integer input, else the input's dtype)."""
    import numpy as np

    def answer(a, *args, **kwargs):
        a = np.asarray(a)
        dtype = a.dtype if a.dtype.kind == "f" else np.float64
        return np.array([fn(v, *args, **kwargs) for v in a.ravel()], dtype=dtype).reshape(a.shape)
    return answer
