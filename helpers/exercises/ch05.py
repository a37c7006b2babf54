"""Checks for chapter 5, inside a network: update ratios, epochs to target, diagnosis, outputs.

Each ``check_*`` function takes the student's answer (a function), calls it through
:func:`call_answer` (copies in, "not answered yet" for ``NotImplementedError``),
prints a tick when it is right, and otherwise raises :class:`ExerciseError` naming
what differs, with one hint. Typical mistakes are recognised by name: a difference
of norms instead of the norm of the difference, ``np.argmax`` on a mask that is
never true, softmax for a multi-label task, a loss that does not match its output.
"""

from __future__ import annotations

import difflib
import re

import numpy as np

from .. import data, nn
from ._core import (
    ExerciseError,
    call_answer,
    check_keys,
    check_number,
    check_vectorised,
    exercise_check,
    passed,
    require_callable,
)

__all__ = [
    "BROKEN_RUNS",
    "broken_runs",
    "FAULTS",
    "RUNS",
    "TASKS",
    "OUTPUTS",
    "LOSSES",
    "normalise_fault",
    "update_ratio_cases",
    "EPOCHS_TO_TARGET_CASES",
    "check_update_ratio",
    "check_epochs_to_target",
    "check_diagnosis",
    "check_output_choice",
]


# --------------------------------------------------------------------------------------
# Exercise 1: the update-to-weight ratio
# --------------------------------------------------------------------------------------


def _ratio(before, after) -> float:
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    return float(np.linalg.norm(after - before) / np.linalg.norm(before))


def update_ratio_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """The (W_before, W_after) pairs ``check_update_ratio`` tries, in order (print one to debug)."""
    rng = np.random.default_rng(505)
    # A small matrix to read by eye: mixed signs, exact zeros, entries that do not move, and
    # rows and columns that change by different fractions (so a per-row or per-column mean
    # of ratios, or a max, disagrees with the ratio of the whole matrix).
    W = np.array([[1.0, -2.0, 0.0], [0.5, 0.0, -1.5]])
    cases = [(W, W + np.array([[0.1, 0.0, -0.2], [0.0, 0.3, 0.0]]))]
    # Non-square shapes with a healthy step, a tiny one, a huge one.
    for shape, step in (((3, 4), 1e-3), ((16, 2), 1e-6), ((5, 5), 0.5), ((2, 7), 2.0)):
        W = rng.normal(0, 0.5, size=shape)
        cases.append((W, W + step * rng.normal(size=shape)))
    # float32 weights (as in PyTorch), and a step that changes nothing at all.
    W = rng.normal(0, 0.5, size=(4, 3)).astype(np.float32)
    cases.append((W, W + np.float32(0.01) * rng.normal(size=(4, 3)).astype(np.float32)))
    W = rng.normal(0, 0.5, size=(3, 2))
    cases.append((W, W.copy()))
    return cases


def _show_pair(k: int, W_before: np.ndarray, W_after: np.ndarray) -> str:
    """How a message names case k: the matrices themselves when small, else how to print them."""
    if W_before.size <= 6:
        return f"W_before = {W_before.tolist()}, W_after = {W_after.tolist()}"
    return (f"the {W_before.dtype} {W_before.shape} matrices of "
            f"`ch05.update_ratio_cases()[{k}]`")


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
                norm(d, 2) / norm(b, 2),
            "this averages a ratio per column (per unit) instead of dividing the norms of "
            "the whole matrices":
                np.mean(norm(d, axis=0) / norm(b, axis=0)),
            "this averages a ratio per row instead of dividing the norms of the whole "
            "matrices":
                np.mean(norm(d, axis=1) / norm(b, axis=1)),
        }


@exercise_check
def check_update_ratio(update_ratio) -> None:
    """Check ``update_ratio(W_before, W_after)`` = ||W_after - W_before|| / ||W_before||."""
    what = "`update_ratio(W_before, W_after)`"
    require_callable(update_ratio, what)
    for k, (W_before, W_after) in enumerate(update_ratio_cases()):
        got = call_answer(update_ratio, W_before, W_after, what=what)
        expected = _ratio(W_before, W_after)
        on = _show_pair(k, W_before, W_after)
        if isinstance(got, np.ndarray) and got.ndim > 0:
            raise ExerciseError(
                f"{what} returned an array of shape {got.shape} for {on}; expected one number "
                "for the whole matrix.",
                "the Frobenius norm takes all entries of a matrix at once, and gives a single "
                "number; so does the ratio of two of them.",
            )
        if isinstance(got, np.ndarray):
            got = got[()]  # a 0-d array is one number: compare it as one
        value = None
        if isinstance(got, (int, float, np.number)) and not isinstance(got, bool):
            value = float(got)
        if value is not None and np.isfinite(value) and not np.isclose(value, expected,
                                                                       rtol=1e-5, atol=1e-12):
            for mistake, wrong in _ratio_mistakes(W_before, W_after).items():
                if (np.isfinite(wrong) and not np.isclose(wrong, expected, rtol=1e-3)
                        and np.isclose(value, wrong, rtol=1e-5, atol=1e-12)):
                    raise ExerciseError(
                        f"{what} gives {value:.6g} for {on}, where the ratio is "
                        f"{expected:.6g}: {mistake}.",
                        "the ratio is the size of the change over the size of the weights "
                        "before it, each size the square root of a sum of squares over all "
                        "entries.",
                    )
        check_number(got, expected, f"{what} for {on}", rtol=1e-5, atol=1e-12,
                     hint="compute ||W_after - W_before|| / ||W_before|| by hand for this "
                     "pair and compare it with each part of your function.")
    check_vectorised(update_ratio, what)
    passed(f"{what} is right: for one step of a healthy training it is about 1e-3.")


# --------------------------------------------------------------------------------------
# Exercise 2: epochs to a target accuracy
# --------------------------------------------------------------------------------------


def _epochs_to(curve, target):
    hits = np.flatnonzero(np.asarray(curve) >= target)
    return int(hits[0]) if hits.size else None


#: The (curve, target) cases ``check_epochs_to_target`` tries, in order.
EPOCHS_TO_TARGET_CASES = (
    # First passes 0.96 at epoch 7; no entry equals 0.96, so > and >= agree and an
    # off-by-one shows alone.
    (np.array([0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.9, 0.97]), 0.96),
    # Reaches 0.9 exactly at epoch 4 (and again later): > and >= disagree, and "the first
    # epoch" differs from the last, from the best one and from a count of epochs below.
    (np.array([0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.9, 0.97]), 0.9),
    # Already there at epoch 0 (before any training): epoch 0 counts.
    (np.array([0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.9, 0.97]), 0.2),
    # Reaches the target early, dips below it, then climbs: a curve is not sorted.
    (np.array([0.5, 0.92, 0.6, 0.7, 0.8, 0.85, 0.88, 0.91, 0.93, 0.99]), 0.9),
    # Reaches the target and then ENDS below it (as the chapter's own tanh network does:
    # 90 % at epoch 50, 87 % at the end): looking only at the last entry says "never".
    (np.array([0.5, 0.95, 0.8]), 0.9),
    (np.array([0.4, 0.7, 0.91, 0.93, 0.88, 0.87]), 0.9),
    # Only the very last entry gets there.
    (np.array([0.2, 0.4, 0.6, 0.8, 1.0]), 1.0),
    # Never gets there: the answer is None.
    (np.array([0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.9, 0.97]), 0.99),
    (np.full(5, 0.5), 0.9),
)


def _show_curve(curve, target) -> str:
    return f"curve = {curve.tolist()}, target = {target}"


def _whole_number(got):
    """``got`` as an int if it is an integer (Python int or numpy integer, not a bool or float)."""
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        return None
    return int(got)


@exercise_check
def check_epochs_to_target(epochs_to_target) -> None:
    """Check ``epochs_to_target(curve, target)``: first index with curve >= target, else None."""
    what = "`epochs_to_target(curve, target)`"
    require_callable(epochs_to_target, what)
    for curve, target in EPOCHS_TO_TARGET_CASES:
        got = call_answer(epochs_to_target, curve, target, what=what)
        expected = _epochs_to(curve, target)
        on = f"{what} for {_show_curve(curve, target)}"
        if got is None and expected is None:
            continue
        if got is None:
            ends_below = (f" and ends below it (curve[-1] = {curve[-1]}): the epoch of "
                          "reaching the target counts even when the accuracy falls again "
                          "later" if curve[-1] < target else "")
            raise ExerciseError(
                f"{on} returned None; expected {expected}: the curve reaches the target "
                f"there (curve[{expected}] = {curve[expected]}){ends_below}.",
                "compare every entry of the curve with the target at once, then find the "
                "position of the first entry that is high enough.",
            )
        if isinstance(got, np.ndarray):
            raise ExerciseError(
                f"{on} returned an array ({got.tolist()}); "
                f"expected {expected}.",
                "return one whole number: the first epoch, not the list of epochs.",
            )
        e = _whole_number(got)
        if e is None:
            raise ExerciseError(
                f"{on} returned {got!r} ({type(got).__name__}); expected {expected}"
                + (" (an int): an epoch is an index into the curve, and a float cannot index "
                   "an array." if isinstance(got, (float, np.floating)) and expected is not None
                   else "."),
                "return an integer (the epoch), or None when the target is never reached.",
            )
        if expected is None:
            raise ExerciseError(
                f"{on} returned {e}; expected None: no entry reaches {target}.",
                "a mask that is never True still has a position of its 'first maximum' "
                "(0), and -1 or len(curve) are epochs too: check whether the target is "
                "reached at all, and return None when it is not.",
            )
        if e == expected:
            continue
        strict = _epochs_to(curve > target, True)
        if target in curve and e == strict:
            mistake = ("at that epoch the accuracy equals the target, and reaching the target "
                       "counts (>=, not >).")
        elif e == expected + 1:
            mistake = ("one epoch too late: entry e of the curve is already the accuracy "
                       "after e epochs (entry 0 is before training).")
        elif e == expected - 1:
            mistake = "one epoch too early: entry e of the curve is the accuracy after e epochs."
        else:
            mistake = (f"the first entry with curve >= {target} is curve[{expected}] = "
                       f"{curve[expected]}"
                       + (f", while curve[{e}] = {curve[e]}." if 0 <= e < len(curve) else
                          f"; {e} is not an index of this curve."))
        raise ExerciseError(f"{on} returned {e}; expected {expected}: {mistake}",
                            "look for the *first* epoch whose accuracy is at least the target; "
                            "a curve can dip and rise again, so it is not sorted.")
    check_vectorised(epochs_to_target, what)
    passed(f"{what} is right, including a curve that reaches the target and ends below it, "
           "and one that never gets there.")


# --------------------------------------------------------------------------------------
# Exercise 3: diagnose three broken trainings
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
                           "values; the loss becomes inf or NaN",
    "learning_rate_too_small": "the gradients are fine but each step changes the weights by a "
                               "tiny fraction; the loss creeps down",
    "overfitting": "the training loss keeps falling while the validation loss rises",
}

#: The runs of the diagnosis exercise, in order.
RUNS = ("A", "B", "C")
_DIAGNOSIS = {"A": "learning_rate_too_small", "B": "vanishing_gradients", "C": "dead_relus"}

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
    "overfit": "overfitting",
    "ok": "healthy",
    "fine": "healthy",
}

# Where to look, for each true fault, when the answer is wrong.
_LOOK = {
    "learning_rate_too_small": "read its gradient norms (their size, and whether they shrink "
                               "from layer to layer), its dead and saturated fractions, and "
                               "then its update-to-weight ratio against the shaded band "
                               "around 1e-3",
    "vanishing_gradients": "look at the saturated fraction and at how the gradient norm changes "
                           "from the output layer back to the first layer (a log axis)",
    "dead_relus": "look at the dead-unit fraction: how many hidden units output exactly 0 for "
                  "every sample, and what that does to the gradient norms",
}


def _one_answer_per_key(got, normalise, what: str, hint: str) -> None:
    """Refuse a dict that answers one key twice under two spellings ("A" and "a")."""
    if not isinstance(got, dict):
        return  # check_keys says what is wrong with it
    seen = {}
    for key in got:
        seen.setdefault(normalise(key), []).append(key)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    if twice:
        key, spellings = next(iter(twice.items()))
        raise ExerciseError(
            f"{what} answers {key!r} more than once (as {', '.join(map(repr, spellings))}); "
            "give one answer per key.", hint)


def normalise_fault(label, *, answer: str | None = None) -> str:
    """The canonical fault label for ``label`` ("Dead ReLUs" -> "dead_relus"), else ValueError.

    An unknown label gets a "Did you mean ...?" for the closest known label. When ``answer``
    (the right label for the run) is given, that suggestion is made only for a spelling slip
    (the two strings nearly identical), so a different guess ("learning_rate_too_large") is
    not answered with the right label.
    """
    if not isinstance(label, str):
        raise TypeError(f"a fault label is a string, got {type(label).__name__} {label!r:.60}")
    key = re.sub(r"[\s\-]+", "_", label.strip().lower()).strip("_")
    key = _FAULT_ALIASES.get(key, key)
    if key in FAULTS:
        return key
    close = difflib.get_close_matches(key, list(FAULTS) + list(_FAULT_ALIASES), n=1, cutoff=0.6)
    hint = ""
    if close:
        suggestion = _FAULT_ALIASES.get(close[0], close[0])
        slip = difflib.SequenceMatcher(None, key, close[0]).ratio() >= 0.9
        if suggestion != answer or slip:
            hint = f" Did you mean {suggestion!r}?"
    raise ValueError(f"unknown fault {label!r}.{hint} Use one of: {', '.join(FAULTS)}.")


@exercise_check
def check_diagnosis(diagnose) -> None:
    """Check ``diagnose()`` returns {"A": fault, "B": fault, "C": fault} with the right faults."""
    what = "`diagnose()`"
    got = call_answer(diagnose, what=what)
    hint = ('return {"A": "...", "B": "...", "C": "..."} with one fault label per run: exactly '
            'the keys "A", "B" and "C", one per dashboard.')
    _one_answer_per_key(got, lambda k: str(k).strip().upper(), what, hint)
    answers = check_keys(got, RUNS, what, hint, normalise=lambda k: str(k).strip().upper())
    labels = {}
    for run in RUNS:
        try:
            labels[run] = normalise_fault(answers[run], answer=_DIAGNOSIS[run])
        except (TypeError, ValueError) as err:
            raise ExerciseError(f"run {run}: {err}",
                                "pick the label from helpers.exercises.ch05.FAULTS.") from None
    wrong = [r for r in RUNS if labels[r] != _DIAGNOSIS[r]]
    if wrong:
        right = len(RUNS) - len(wrong)
        first = wrong[0]
        others = f" (also check run {', '.join(wrong[1:])})" if len(wrong) > 1 else ""
        raise ExerciseError(
            f"{right} of {len(RUNS)} diagnoses are right. Run {first} is not "
            f"{labels[first]!r}{others}.",
            f"run {first}: {_LOOK[_DIAGNOSIS[first]]}.",
        )
    passed("all three diagnoses are right: A is a learning rate too small, B saturated "
           "sigmoids with vanishing gradients, C dead ReLUs.")


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
OUTPUTS = ("identity", "sigmoid", "softmax")
LOSSES = ("mse", "bce", "cross_entropy")
_OUTPUT_CHOICE = {"temperature": ("identity", "mse"), "digit": ("softmax", "cross_entropy"),
                  "tags": ("sigmoid", "bce")}
_OUTPUT_ALIASES = {"linear": "identity", "none": "identity", "logistic": "sigmoid"}
_LOSS_ALIASES = {
    "mean_squared_error": "mse", "squared_error": "mse", "l2": "mse",
    "binary_cross_entropy": "bce", "binary_crossentropy": "bce", "bce_with_logits": "bce",
    "log_loss": "bce",
    "crossentropy": "cross_entropy", "categorical_cross_entropy": "cross_entropy",
    "categorical_crossentropy": "cross_entropy", "ce": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy", "nll": "cross_entropy",
}
_PAIR = {"identity": "mse", "sigmoid": "bce", "softmax": "cross_entropy"}

_WHY = {
    ("temperature", "sigmoid"): "a sigmoid output lies in (0, 1), so 25 °C is out of reach; "
                                "a regression target needs an unbounded output",
    ("temperature", "softmax"): "softmax gives probabilities over classes; a temperature is one "
                                "real number, not a class",
    ("digit", "identity"): "an identity output gives unbounded scores, not probabilities over "
                           "the 10 classes",
    ("digit", "sigmoid"): "10 independent sigmoids do not sum to 1, but exactly one digit is "
                          "right: the classes exclude each other",
    ("tags", "softmax"): "softmax makes the 5 tags compete (their probabilities sum to 1), so a "
                         "photo of a dog on a beach could not get both tags with high "
                         "probability; each tag is its own yes/no question",
    ("tags", "identity"): "an identity output gives unbounded scores, not a probability per tag",
}


def _is_name(value, options, aliases) -> bool:
    if not isinstance(value, str):
        return False
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    return aliases.get(key, key) in options


def _canonical(value, options, aliases, what: str, task: str) -> str:
    if not isinstance(value, str):
        raise ExerciseError(
            f"task {task!r}: the {what} should be a string, got {type(value).__name__} "
            f"{value!r:.40}.", f"choose from {', '.join(map(repr, options))}.")
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    key = aliases.get(key, key)
    if key not in options:
        close = difflib.get_close_matches(key, list(options) + list(aliases), n=1, cutoff=0.6)
        guess = f" Did you mean {aliases.get(close[0], close[0])!r}?" if close else ""
        raise ExerciseError(f"task {task!r}: unknown {what} {value!r}.{guess}",
                            f"choose from {', '.join(map(repr, options))}.")
    return key


@exercise_check
def check_output_choice(choose_output) -> None:
    """Check ``choose_output()`` returns {task: (output activation, loss)} for the three TASKS."""
    what = "`choose_output()`"
    got = call_answer(choose_output, what=what)
    hint = ('return {"temperature": (output, loss), "digit": (...), "tags": (...)} with '
            f"exactly the keys {', '.join(map(repr, TASKS))}.")
    _one_answer_per_key(got, lambda k: str(k).strip().lower(), what, hint)
    answers = check_keys(got, TASKS, what, hint, normalise=lambda k: str(k).strip().lower())
    for task, (want_out, want_loss) in _OUTPUT_CHOICE.items():
        pair = answers[task]
        if isinstance(pair, dict):
            pair = (pair.get("output"), pair.get("loss"))
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ExerciseError(
                f"task {task!r}: expected a pair (output activation, loss), got {pair!r:.60}.",
                'write e.g. ("sigmoid", "bce").',
            )
        if _is_name(pair[0], LOSSES, _LOSS_ALIASES) and _is_name(pair[1], OUTPUTS,
                                                                  _OUTPUT_ALIASES):
            raise ExerciseError(
                f"task {task!r}: {tuple(pair)!r} gives the loss first; expected the pair in "
                "the order (output activation, loss).",
                'write the output activation first, e.g. ("sigmoid", "bce").')
        out = _canonical(pair[0], OUTPUTS, _OUTPUT_ALIASES, "output activation", task)
        loss = _canonical(pair[1], LOSSES, _LOSS_ALIASES, "loss", task)
        if out != want_out:
            why = _WHY.get((task, out), "")
            raise ExerciseError(
                f"task {task!r} ({TASKS[task]}): the output activation {out!r} does not fit"
                + (f": {why}." if why else "."),
                "ask what the output must be: any real number, one class out of k, or an "
                "independent yes/no per label.",
            )
        if loss != want_loss:
            raise ExerciseError(
                f"task {task!r}: the output {out!r} is right, but the loss {loss!r} does not "
                f"go with it.",
                "each output activation has its natural loss (the table above this "
                "exercise): the one for which the gradient at the logits is simply "
                "(prediction - target).",
            )
    passed(f"{what} is right: identity + MSE for a number, softmax + cross-entropy for one of "
           "k classes, sigmoid + BCE for independent yes/no labels.")
