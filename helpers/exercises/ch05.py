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


def _ratio_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(505)
    cases = []
    # A healthy-sized step, a tiny one, a huge one; non-square shapes.
    for shape, step in (((3, 4), 1e-3), ((16, 2), 1e-6), ((5, 5), 0.5), ((1, 7), 2.0)):
        W = rng.normal(0, 0.5, size=shape)
        cases.append((W, W + step * rng.normal(size=shape)))
    return cases


@exercise_check
def check_update_ratio(update_ratio) -> None:
    """Check ``update_ratio(W_before, W_after)`` = ||W_after - W_before|| / ||W_before||."""
    what = "`update_ratio(W_before, W_after)`"
    require_callable(update_ratio, what)
    for W_before, W_after in _ratio_cases():
        got = call_answer(update_ratio, W_before, W_after, what=what)
        expected = _ratio(W_before, W_after)
        if isinstance(got, np.ndarray) and got.size > 1:
            raise ExerciseError(
                f"{what} returned an array of shape {got.shape}; expected one number for the "
                "whole matrix.",
                "use np.linalg.norm, which (for a matrix) gives the Frobenius norm "
                "sqrt(sum of squares) of all its entries: one number.",
            )
        if got is not None and not isinstance(got, (bool, str)) and np.size(got) == 1:
            value = float(np.asarray(got, dtype=float).ravel()[0])
            known = {
                "divided by the norm of the weights *after* the step":
                    np.linalg.norm(W_after - W_before) / np.linalg.norm(W_after),
                "computed ||W_after|| - ||W_before|| (a difference of norms), not the norm "
                "of the difference":
                    (np.linalg.norm(W_after) - np.linalg.norm(W_before))
                    / np.linalg.norm(W_before),
                "flipped the fraction (||W_before|| / ||W_after - W_before||)":
                    np.linalg.norm(W_before) / np.linalg.norm(W_after - W_before),
                "left out the division by ||W_before||":
                    np.linalg.norm(W_after - W_before),
            }
            for mistake, wrong in known.items():
                if (not np.isclose(wrong, expected, rtol=1e-3)
                        and np.isclose(value, wrong, rtol=1e-6, atol=1e-15)):
                    raise ExerciseError(
                        f"{what} gives {value:.4g} where the ratio is {expected:.4g}: it looks "
                        f"like you {mistake}.",
                        "ratio = np.linalg.norm(W_after - W_before) / np.linalg.norm(W_before).",
                    )
        check_number(got, expected, f"{what} for a {W_before.shape} matrix", rtol=1e-6,
                     atol=1e-15,
                     hint="take the Frobenius norm of the change, np.linalg.norm(W_after - "
                     "W_before), and divide by np.linalg.norm(W_before).")
    check_vectorised(update_ratio, what)
    passed(f"{what} is right: for one step of a healthy training it is about 1e-3.")


# --------------------------------------------------------------------------------------
# Exercise 2: epochs to a target accuracy
# --------------------------------------------------------------------------------------


def _epochs_to(curve, target):
    hits = np.flatnonzero(np.asarray(curve) >= target)
    return int(hits[0]) if hits.size else None


@exercise_check
def check_epochs_to_target(epochs_to_target) -> None:
    """Check ``epochs_to_target(curve, target)``: first index with curve >= target, else None."""
    what = "`epochs_to_target(curve, target)`"
    require_callable(epochs_to_target, what)
    rising = np.array([0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.9, 0.97])
    cases = [
        # No entry equals 0.96, so >= and > agree here and an off-by-one shows up alone.
        (rising, 0.96, "a curve that first passes 0.96 at epoch 7"),
        (rising, 0.9, "a curve that reaches 0.9 exactly at epoch 4"),
        (rising, 0.2, "a curve that starts above the target (epoch 0 counts)"),
        (rising, 0.99, "a curve that never reaches the target"),
        (np.full(5, 0.5), 0.9, "a flat curve at 0.5 (never reaches 0.9)"),
    ]
    for curve, target, label in cases:
        got = call_answer(epochs_to_target, curve, target, what=what)
        expected = _epochs_to(curve, target)
        if expected is None:
            if got is None:
                continue
            hint = ("np.argmax of an all-False mask is 0, so check first whether the target "
                    "is reached at all (e.g. with np.flatnonzero or mask.any()) and return None "
                    "when it is not.")
            if isinstance(got, (int, np.integer)) and not isinstance(got, bool) and got == 0:
                raise ExerciseError(
                    f"{what} returned 0 for {label}; expected None.", hint)
            raise ExerciseError(f"{what} returned {got!r} for {label}; expected None.", hint)
        if got is None:
            raise ExerciseError(
                f"{what} returned None for {label}; expected {expected}.",
                "compare the whole curve with the target (curve >= target) and return the "
                "index of the first True.",
            )
        if isinstance(got, (int, float, np.number)) and not isinstance(got, bool):
            if target in curve and got == _epochs_to(curve > target, True):
                raise ExerciseError(
                    f"{what} returned {got} for {label}; expected {expected}.",
                    "reaching the target counts: use >= rather than >.",
                )
            if got == expected + 1:
                raise ExerciseError(
                    f"{what} returned {got} for {label}; expected {expected} (one too many).",
                    "the curve's index is already the epoch: row 0 is before training, row e "
                    "after e epochs. Don't add 1.",
                )
        check_number(got, expected, f"{what} for {label}", integer=True,
                     hint="return the index of the first entry with curve >= target.")
    check_vectorised(epochs_to_target, what)
    passed(f"{what} is right, including the curve that never gets there.")


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
    "exploding_gradients": "gradients grow layer by layer; the loss jumps around or becomes NaN",
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
    "learning_rate_too_small": "its gradient norms are of ordinary size and alike in every "
                               "layer, no unit is dead or saturated, yet the update-to-weight "
                               "ratio is far below 1e-3: the steps, not the gradients, are "
                               "too small",
    "vanishing_gradients": "look at the saturated fraction and at how the gradient norm changes "
                           "from the output layer back to the first layer (a log axis)",
    "dead_relus": "look at the dead-unit fraction: how many hidden units output exactly 0 for "
                  "every sample, and what that does to the gradient norms",
}


def normalise_fault(label) -> str:
    """The canonical fault label for ``label`` ("Dead ReLUs" -> "dead_relus"), else ValueError."""
    if not isinstance(label, str):
        raise TypeError(f"a fault label is a string, got {type(label).__name__} {label!r:.60}")
    key = re.sub(r"[\s\-]+", "_", label.strip().lower()).strip("_")
    key = _FAULT_ALIASES.get(key, key)
    if key in FAULTS:
        return key
    close = difflib.get_close_matches(key, list(FAULTS) + list(_FAULT_ALIASES), n=1, cutoff=0.6)
    hint = f" Did you mean {_FAULT_ALIASES.get(close[0], close[0])!r}?" if close else ""
    raise ValueError(f"unknown fault {label!r}.{hint} Use one of: {', '.join(FAULTS)}.")


@exercise_check
def check_diagnosis(diagnose) -> None:
    """Check ``diagnose()`` returns {"A": fault, "B": fault, "C": fault} with the right faults."""
    what = "`diagnose()`"
    got = call_answer(diagnose, what=what)
    answers = check_keys(got, RUNS, what,
                         'return {"A": "...", "B": "...", "C": "..."} with one fault label per '
                         'run: exactly the keys "A", "B" and "C", one per dashboard.',
                         normalise=lambda k: str(k).strip().upper())
    labels = {}
    for run in RUNS:
        try:
            labels[run] = normalise_fault(answers[run])
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
    answers = check_keys(got, TASKS, what,
                         'return {"temperature": (output, loss), "digit": (...), "tags": (...)}'
                         f" with exactly the keys {', '.join(map(repr, TASKS))}.",
                         normalise=lambda k: str(k).strip().lower())
    for task, (want_out, want_loss) in _OUTPUT_CHOICE.items():
        pair = answers[task]
        if isinstance(pair, dict):
            pair = (pair.get("output"), pair.get("loss"))
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ExerciseError(
                f"task {task!r}: expected a pair (output activation, loss), got {pair!r:.60}.",
                'write e.g. ("sigmoid", "bce").',
            )
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
                "each output has its natural loss: identity -> mse, sigmoid -> bce, softmax -> "
                "cross_entropy; with the matching pair the gradient at the logits is simply "
                "(prediction - target).",
            )
    passed(f"{what} is right: identity + MSE for a number, softmax + cross-entropy for one of "
           "k classes, sigmoid + BCE for independent yes/no labels.")
