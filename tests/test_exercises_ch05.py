"""Tests of the chapter 5 checks: right answers pass, typical wrong ones fail with a clear hint."""

import numpy as np
import pytest

from helpers import diagnostics
from helpers.exercises import ExerciseError, NotAnsweredYet, ch05

# --------------------------------------------------------------------------------------
# Exercise 1: update_ratio
# --------------------------------------------------------------------------------------


def update_ratio(W_before, W_after):
    return float(np.linalg.norm(W_after - W_before) / np.linalg.norm(W_before))


def test_update_ratio_right_answer_passes(capsys):
    ch05.check_update_ratio(update_ratio)
    assert "\u2705" in capsys.readouterr().out


def test_update_ratio_matches_diagnostics():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 3))
    W2 = W + 0.01 * rng.normal(size=(4, 3))
    assert update_ratio(W, W2) == pytest.approx(diagnostics.update_to_weight_ratio(W, W2))


def test_update_ratio_numpy_scalar_passes(capsys):
    ch05.check_update_ratio(lambda a, b: np.linalg.norm(b - a) / np.linalg.norm(a))
    assert "\u2705" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda a, b: np.linalg.norm(b - a) / np.linalg.norm(b), "after"),
    (lambda a, b: (np.linalg.norm(b) - np.linalg.norm(a)) / np.linalg.norm(a),
     "difference of norms"),
    (lambda a, b: np.linalg.norm(a) / np.linalg.norm(b - a), "flipped"),
    (lambda a, b: np.linalg.norm(b - a), "division"),
    (lambda a, b: np.abs(b - a) / np.abs(a), "array of shape"),
    (lambda a, b: np.mean(np.abs(b - a)) / np.mean(np.abs(a)), "expected"),
    (lambda a, b: None, "None"),
])
def test_update_ratio_wrong_answers(wrong, words):
    with pytest.raises(ExerciseError, match=words):
        ch05.check_update_ratio(wrong)


def test_update_ratio_loop_is_refused():
    def looped(W_before, W_after):
        total = sum((W_after - W_before).ravel() ** 2)
        base = 0.0
        for value in W_before.ravel():
            base += value * value
        return float(np.sqrt(total / base))

    with pytest.raises(ExerciseError, match="loop"):
        ch05.check_update_ratio(looped)


def test_update_ratio_in_place_is_reported():
    def in_place(W_before, W_after):
        W_after -= W_before
        return float(np.linalg.norm(W_after) / np.linalg.norm(W_before))

    with pytest.raises(ExerciseError, match="in place"):
        ch05.check_update_ratio(in_place)


def test_update_ratio_not_answered():
    def unfinished(W_before, W_after):
        raise NotImplementedError()

    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch05.check_update_ratio(unfinished)


def test_update_ratio_not_a_function():
    with pytest.raises(ExerciseError, match="should be a function"):
        ch05.check_update_ratio(0.001)


# --------------------------------------------------------------------------------------
# Exercise 2: epochs_to_target
# --------------------------------------------------------------------------------------


def epochs_to_target(curve, target):
    hits = np.flatnonzero(np.asarray(curve) >= target)
    return int(hits[0]) if hits.size else None


def test_epochs_to_target_right_answer_passes(capsys):
    ch05.check_epochs_to_target(epochs_to_target)
    assert "\u2705" in capsys.readouterr().out


def test_epochs_to_target_argmax_pitfall():
    def argmax_only(curve, target):
        return int(np.argmax(np.asarray(curve) >= target))

    with pytest.raises(ExerciseError, match="argmax of an all-False mask is 0"):
        ch05.check_epochs_to_target(argmax_only)


def test_epochs_to_target_off_by_one():
    def plus_one(curve, target):
        hits = np.flatnonzero(np.asarray(curve) >= target)
        return int(hits[0]) + 1 if hits.size else None

    with pytest.raises(ExerciseError, match="one too many"):
        ch05.check_epochs_to_target(plus_one)


def test_epochs_to_target_strict_comparison():
    def strict(curve, target):
        hits = np.flatnonzero(np.asarray(curve) > target)
        return int(hits[0]) if hits.size else None

    with pytest.raises(ExerciseError, match=">="):
        ch05.check_epochs_to_target(strict)


def test_epochs_to_target_returns_none_when_reached():
    with pytest.raises(ExerciseError, match="returned None"):
        ch05.check_epochs_to_target(lambda curve, target: None)


def test_epochs_to_target_loop_is_refused():
    def looped(curve, target):
        for e, value in enumerate(curve):
            if value >= target:
                return e
        return None

    with pytest.raises(ExerciseError, match="loop"):
        ch05.check_epochs_to_target(looped)


def test_epochs_to_target_not_answered():
    def unfinished(curve, target):
        raise NotImplementedError()

    with pytest.raises(NotAnsweredYet):
        ch05.check_epochs_to_target(unfinished)


# --------------------------------------------------------------------------------------
# Exercise 3: diagnosis
# --------------------------------------------------------------------------------------

RIGHT = {"A": "learning_rate_too_small", "B": "vanishing_gradients", "C": "dead_relus"}


def test_diagnosis_right_answer_passes(capsys):
    ch05.check_diagnosis(lambda: dict(RIGHT))
    assert "\u2705" in capsys.readouterr().out


def test_diagnosis_accepts_casual_spellings(capsys):
    ch05.check_diagnosis(lambda: {"a": "Learning rate too small", "B": "saturated sigmoids",
                                  "c": "Dead ReLUs"})
    assert "\u2705" in capsys.readouterr().out


def test_diagnosis_wrong_labels_name_the_run_and_where_to_look():
    swapped = {"A": "vanishing_gradients", "B": "learning_rate_too_small", "C": "dead_relus"}
    with pytest.raises(ExerciseError, match="1 of 3") as err:
        ch05.check_diagnosis(lambda: swapped)
    assert "Run A" in str(err.value) and "also check run B" in str(err.value)
    assert "update-to-weight ratio" in str(err.value)


def test_diagnosis_c_hint_points_at_dead_units():
    answer = dict(RIGHT, C="exploding_gradients")
    with pytest.raises(ExerciseError, match="dead-unit fraction"):
        ch05.check_diagnosis(lambda: answer)


def test_diagnosis_unknown_label_lists_vocabulary_and_closest():
    answer = dict(RIGHT, C="dead relu units")
    with pytest.raises(ExerciseError, match="unknown fault") as err:
        ch05.check_diagnosis(lambda: answer)
    assert "vanishing_gradients" in str(err.value)
    answer = dict(RIGHT, B="vanishing gradiens")
    with pytest.raises(ExerciseError, match="Did you mean 'vanishing_gradients'"):
        ch05.check_diagnosis(lambda: answer)


def test_diagnosis_missing_and_extra_keys():
    with pytest.raises(ExerciseError, match=r"missing key\(s\) 'C'"):
        ch05.check_diagnosis(lambda: {"A": RIGHT["A"], "B": RIGHT["B"]})
    with pytest.raises(ExerciseError, match="unexpected key"):
        ch05.check_diagnosis(lambda: dict(RIGHT, D="healthy"))


def test_diagnosis_not_a_dict_and_non_string_label():
    with pytest.raises(ExerciseError, match="should return a dict"):
        ch05.check_diagnosis(lambda: ["dead_relus"])
    with pytest.raises(ExerciseError, match="string"):
        ch05.check_diagnosis(lambda: dict(RIGHT, A=3))


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


def test_output_choice_right_answer_passes(capsys):
    ch05.check_output_choice(lambda: dict(OUTPUTS_RIGHT))
    assert "\u2705" in capsys.readouterr().out


def test_output_choice_accepts_aliases_lists_and_dicts(capsys):
    ch05.check_output_choice(lambda: {
        "Temperature": ["linear", "mean_squared_error"],
        "digit": {"output": "Softmax", "loss": "categorical cross-entropy"},
        "tags": ("sigmoid", "binary_crossentropy"),
    })
    assert "\u2705" in capsys.readouterr().out


@pytest.mark.parametrize("task, pair, words", [
    ("tags", ("softmax", "cross_entropy"), "compete"),
    ("digit", ("sigmoid", "bce"), "do not sum to 1"),
    ("temperature", ("sigmoid", "bce"), "out of reach"),
    ("digit", ("identity", "mse"), "unbounded scores"),
])
def test_output_choice_wrong_output_explains(task, pair, words):
    answer = dict(OUTPUTS_RIGHT, **{task: pair})
    with pytest.raises(ExerciseError, match=words):
        ch05.check_output_choice(lambda: answer)


def test_output_choice_mismatched_loss():
    answer = dict(OUTPUTS_RIGHT, digit=("softmax", "bce"))
    with pytest.raises(ExerciseError, match="does not go with it"):
        ch05.check_output_choice(lambda: answer)


def test_output_choice_unknown_names_and_shapes():
    with pytest.raises(ExerciseError, match="Did you mean 'softmax'"):
        ch05.check_output_choice(lambda: dict(OUTPUTS_RIGHT, digit=("sofmax", "cross_entropy")))
    with pytest.raises(ExerciseError, match="unknown loss"):
        ch05.check_output_choice(lambda: dict(OUTPUTS_RIGHT, tags=("sigmoid", "hinge")))
    with pytest.raises(ExerciseError, match="pair"):
        ch05.check_output_choice(lambda: dict(OUTPUTS_RIGHT, tags="sigmoid"))
    with pytest.raises(ExerciseError, match=r"missing key\(s\) 'tags'"):
        ch05.check_output_choice(lambda: {k: OUTPUTS_RIGHT[k] for k in ("temperature", "digit")})
    with pytest.raises(ExerciseError, match="should return a dict"):
        ch05.check_output_choice(lambda: ("identity", "mse"))


def test_output_choice_not_answered():
    def choose_output():
        raise NotImplementedError()

    with pytest.raises(NotAnsweredYet):
        ch05.check_output_choice(choose_output)
