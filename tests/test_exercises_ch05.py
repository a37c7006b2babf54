"""Tests of the chapter 5 checks: catalogues of wrong answers (each rejected with a message
that names its mistake or says what differs) and of right answers written other ways (each
accepted)."""

import numpy as np
import pytest

from helpers import diagnostics
from helpers.exercises import ExerciseError, NotAnsweredYet, ch05

norm = np.linalg.norm

# --------------------------------------------------------------------------------------
# Exercise 1: update_ratio
# --------------------------------------------------------------------------------------


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
    # "Saves memory": half precision cannot resolve a step of 1e-6 of the weights.
    d = W_after.astype(np.float16) - W_before.astype(np.float16)
    return float(norm(d.astype(float)) / norm(W_before))


# Wrong answers a student might write: name -> (answer, regex the feedback must match).
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
    "keepdims array": (lambda a, b: norm(b - a, keepdims=True) / norm(a, keepdims=True),
                       r"array of shape \(1, 1\)"),
    "ratio of the means": (lambda a, b: np.abs(np.mean(b - a)) / np.abs(np.mean(a)),
                           r"is [-\d.e+]+, expected"),
    "half precision": (ratio_in_float16, r"is 0\.1\d+, expected 0\.136626"),
    "a Python loop": (ratio_with_a_loop, r"Python loop \(for"),
    # On the same line as its name, so its source alone does not parse (a fallback path).
    "a generator": (lambda a, b: np.sqrt(sum(x * x for x in (b - a).ravel()) / np.sum(a * a)),
                    r"Python loop \(generator\)"),
    "in place": (ratio_in_place, r"in place"),
    "returns None": (lambda a, b: None, r"None"),
    "returns a string": (lambda a, b: f"{norm(b - a) / norm(a):.3g}", r"single number"),
}

# Right answers written other ways: every one must pass.
RIGHT_UPDATE_RATIO = {
    "np.linalg.norm, float()": lambda a, b: float(norm(b - a) / norm(a)),
    "np.linalg.norm, numpy scalar": lambda a, b: norm(b - a) / norm(a),
    "'fro' on raveled arrays": lambda a, b: norm((b - a).ravel()) / norm(a.ravel(), 2),
    "sums of squares": lambda a, b: np.sqrt(np.sum((b - a) ** 2) / np.sum(a * a)),
    "root mean squares": lambda a, b: np.sqrt(np.mean((b - a) ** 2)) / np.sqrt(np.mean(a**2)),
    "einsum": lambda a, b: np.sqrt(np.einsum("ij,ij->", b - a, b - a)
                                   / np.einsum("ij,ij->", a, a)),
    "vdot": lambda a, b: np.sqrt(np.vdot(b - a, b - a) / np.vdot(a, a)),
    "0-d array": lambda a, b: np.asarray(norm(b - a, "fro") / norm(a, "fro")),
}


@pytest.mark.parametrize("name", WRONG_UPDATE_RATIO)
def test_update_ratio_rejects(name):
    answer, message = WRONG_UPDATE_RATIO[name]
    with pytest.raises(ExerciseError, match=message):
        ch05.check_update_ratio(answer)


@pytest.mark.parametrize("name", RIGHT_UPDATE_RATIO)
def test_update_ratio_accepts(name, capsys):
    ch05.check_update_ratio(RIGHT_UPDATE_RATIO[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_update_ratio_cases_tell_the_mistakes_apart():
    """Each named mistake differs from the right ratio on at least one case, by > 1e-3."""
    cases = ch05.update_ratio_cases()
    assert any(W.dtype == np.float32 for W, _ in cases)
    assert any(np.array_equal(W, W2) for W, W2 in cases)  # a step that changes nothing
    assert any(W.shape[0] != W.shape[1] for W, _ in cases)
    right = [ch05._ratio(W, W2) for W, W2 in cases]
    for name in ch05._ratio_mistakes(*cases[0]):
        wrong = [ch05._ratio_mistakes(W, W2)[name] for W, W2 in cases]
        assert any(np.isfinite(w) and not np.isclose(w, r, rtol=1e-3)
                   for w, r in zip(wrong, right)), name


def test_update_ratio_message_shows_the_small_case():
    shown = r"W_before = \[\[1\.0, -2\.0, 0\.0\], \[0\.5, 0\.0, -1\.5\]\]"
    with pytest.raises(ExerciseError, match=shown) as err:
        ch05.check_update_ratio(lambda a, b: np.sum(np.abs(b - a)) / np.sum(np.abs(a)))
    # The expected ratio by hand: sqrt(0.1² + 0.2² + 0.3²) / sqrt(1 + 4 + 0.25 + 2.25).
    assert "0.136626" in str(err.value)
    assert "np.linalg.norm" not in str(err.value)  # the hint names the idea, not the code


def test_update_ratio_matches_diagnostics():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 3))
    W2 = W + 0.01 * rng.normal(size=(4, 3))
    assert RIGHT_UPDATE_RATIO["np.linalg.norm, float()"](W, W2) == pytest.approx(
        diagnostics.update_to_weight_ratio(W, W2))


def test_update_ratio_not_answered():
    def unfinished(W_before, W_after):
        raise NotImplementedError()

    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch05.check_update_ratio(unfinished)


def test_update_ratio_not_a_function():
    with pytest.raises(ExerciseError, match="should be a function"):
        ch05.check_update_ratio(0.001)


# --------------------------------------------------------------------------------------
# Exercise 2 (the notebook's exercise 3): epochs_to_target
# --------------------------------------------------------------------------------------


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


WRONG_EPOCHS_TO_TARGET = {
    "argmax of a mask that may be all False": (
        lambda c, t: int(np.argmax(np.asarray(c) >= t)), r"returned 0; expected None"),
    "argmax, `or None`": (epochs_argmax_or_none, r"returned None; expected 0"),
    "off by one (+1)": (lambda c, t: None if first_hit(c >= t) is None else first_hit(c >= t) + 1,
                        r"one epoch too late"),
    "off by one (-1)": (lambda c, t: None if first_hit(c >= t) is None else first_hit(c >= t) - 1,
                        r"one epoch too early"),
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
    "the accuracy, not the epoch": (
        lambda c, t: None if first_hit(c >= t) is None else float(c[first_hit(c >= t)]),
        r"returned 0.97 \(float\)"),
    "unguarded np.where": (epochs_unguarded_where, r"raised IndexError"),
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
    "a for loop": (epochs_with_a_loop, r"Python loop \(for"),
    "a generator": (epochs_with_a_generator, r"Python loop \(generator"),
    "a list comprehension": (lambda c, t: ([e for e in range(len(c)) if c[e] >= t] or [None])[0],
                             r"Python loop \(list comprehension"),
}

RIGHT_EPOCHS_TO_TARGET = {
    "flatnonzero": lambda c, t: first_hit(np.asarray(c) >= t),
    "argmax with any()": lambda c, t: int(np.argmax(c >= t)) if np.any(c >= t) else None,
    "argmax, checking the entry": lambda c, t: (int(np.argmax(c >= t))
                                                if c[np.argmax(c >= t)] >= t else None),
    "~(c < t)": lambda c, t: first_hit(~(c < t)),
    "running maximum, searchsorted": lambda c, t: (
        int(np.searchsorted(np.maximum.accumulate(c), t)) if np.max(c) >= t else None),
    "nonzero, numpy integer": lambda c, t: (np.nonzero(c >= t)[0][0] if (c >= t).any()
                                            else None),
    "int() of np.argmax": lambda c, t: (int(np.argmax(c >= t)) if (c >= t).sum() > 0
                                        else None),
}


@pytest.mark.parametrize("name", WRONG_EPOCHS_TO_TARGET)
def test_epochs_to_target_rejects(name):
    answer, message = WRONG_EPOCHS_TO_TARGET[name]
    with pytest.raises(ExerciseError, match=message):
        ch05.check_epochs_to_target(answer)


@pytest.mark.parametrize("name", RIGHT_EPOCHS_TO_TARGET)
def test_epochs_to_target_accepts(name, capsys):
    ch05.check_epochs_to_target(RIGHT_EPOCHS_TO_TARGET[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_epochs_to_target_message_shows_the_curve():
    with pytest.raises(ExerciseError, match=r"curve = \[0\.3, 0\.5, .*\], target = 0\.9"):
        ch05.check_epochs_to_target(lambda c, t: first_hit(c > t))


def test_epochs_to_target_not_answered():
    def unfinished(curve, target):
        raise NotImplementedError()

    with pytest.raises(NotAnsweredYet):
        ch05.check_epochs_to_target(unfinished)


# --------------------------------------------------------------------------------------
# Exercise 3 (the notebook's exercise 2): diagnosis
# --------------------------------------------------------------------------------------

RIGHT = {"A": "learning_rate_too_small", "B": "vanishing_gradients", "C": "dead_relus"}

WRONG_DIAGNOSIS = {
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
    "C vanishing": (dict(RIGHT, C="vanishing"), r"Run C"),
    "one run missing": ({"A": RIGHT["A"], "B": RIGHT["B"]}, r"missing key\(s\) 'C'"),
    "an extra run": (dict(RIGHT, D="healthy"), r"unexpected key\(s\) 'D'"),
    "two answers for run A": (dict(RIGHT, a="healthy"), r"answers 'A' more than once"),
    "two answers, the right one last": ({"a": "healthy", **RIGHT},
                                        r"answers 'A' more than once"),
    "a hedge: two labels for one run": (dict(RIGHT, C=["dead_relus", "exploding_gradients"]),
                                        r"run C: a fault label is a string"),
    "a label not in FAULTS": (dict(RIGHT, C="dead relu units"), r"unknown fault.*Use one of"),
    "a typo": (dict(RIGHT, B="vanishing gradiens"), r"Did you mean 'vanishing_gradients'"),
    "a list, not a dict": (list(RIGHT.values()), r"should return a dict"),
    "a number as label": (dict(RIGHT, A=3), r"run A: a fault label is a string"),
    # A wrong guess close to the run's right label must not be answered with that label.
    "A: learning rate too large": (dict(RIGHT, A="learning_rate_too_large"),
                                   r"run A: unknown fault 'learning_rate_too_large'\. Use one of"),
    # ... but a spelling slip in the right label is still corrected ...
    "A: a slip in the right label": (dict(RIGHT, A="learning rate to small"),
                                     r"Did you mean 'learning_rate_too_small'"),
    # ... and a label that is not the run's answer is still suggested.
    "B: exploding (the opposite)": (dict(RIGHT, B="gradients exploding"),
                                    r"run B: unknown fault .*Did you mean 'exploding_gradients'"),
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
    with pytest.raises(ExerciseError, match=message):
        ch05.check_diagnosis(lambda: answer)


@pytest.mark.parametrize("name", RIGHT_DIAGNOSIS)
def test_diagnosis_accepts(name, capsys):
    ch05.check_diagnosis(lambda: RIGHT_DIAGNOSIS[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_diagnosis_hint_does_not_name_the_fault():
    """The hint says where to look, not the label: 'learning rate' never appears for run A."""
    with pytest.raises(ExerciseError) as err:
        ch05.check_diagnosis(lambda: dict(RIGHT, A="healthy"))
    assert "learning rate" not in str(err.value).lower()
    assert "learning_rate" not in str(err.value)


def test_fault_descriptions_do_not_describe_run_c_as_exploding():
    """Run C's loss jumps then flickers; the exploding label must not read like that."""
    text = ch05.FAULTS["exploding_gradients"]
    assert "jump" not in text and "NaN" in text


def test_diagnosis_not_answered():
    def diagnose():
        raise NotImplementedError()

    with pytest.raises(NotAnsweredYet):
        ch05.check_diagnosis(diagnose)


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


# --------------------------------------------------------------------------------------
# Exercise 4: output activation and loss
# --------------------------------------------------------------------------------------

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
    "a task missing": ({k: OUTPUTS_RIGHT[k] for k in ("temperature", "digit")},
                       r"missing key\(s\) 'tags'"),
    "one task answered twice": ({**OUTPUTS_RIGHT, "Tags": ("softmax", "cross_entropy")},
                                r"answers 'tags' more than once"),
    "a pair, not a dict": (("identity", "mse"), r"should return a dict"),
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
}


@pytest.mark.parametrize("name", WRONG_OUTPUT_CHOICE)
def test_output_choice_rejects(name):
    answer, message = WRONG_OUTPUT_CHOICE[name]
    with pytest.raises(ExerciseError, match=message):
        ch05.check_output_choice(lambda: answer)


@pytest.mark.parametrize("name", RIGHT_OUTPUT_CHOICE)
def test_output_choice_accepts(name, capsys):
    ch05.check_output_choice(lambda: RIGHT_OUTPUT_CHOICE[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_output_choice_not_answered():
    def choose_output():
        raise NotImplementedError()

    with pytest.raises(NotAnsweredYet):
        ch05.check_output_choice(choose_output)
