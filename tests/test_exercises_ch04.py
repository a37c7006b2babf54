"""Tests of the chapter 4 (softmax) exercise checks.

Per exercise, two catalogues: wrong answers a student might write (each must be rejected
with feedback that names its mistake, or says what differs) and right answers written in
other ways (each must pass). Answers that the checks read the code of (a loop, a call to
the course's softmax) are real functions, as a student would write them.
"""

import math

import numpy as np
import pytest

from helpers import activations
from helpers.activations import log_softmax, softmax
from helpers.exercises import ExerciseError, NotAnsweredYet, ch04


def unfinished(*args, **kwargs):
    raise NotImplementedError()


# =========================================================================== Exercise 1
# stable_softmax(z, axis=-1): max-subtracted along the axis, any shape, no loop, does not
# modify z, written without the course's softmax, float32 in gives float32 out.


def ref_softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def naive_softmax(z, axis=-1):
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def global_max_softmax(z, axis=-1):
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


def whole_array_softmax(z, axis=-1):
    e = np.exp(z - z.max())
    return e / e.sum()


def last_axis_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def first_axis_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def no_keepdims_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis))
    return e / e.sum(axis=axis)


def min_shift_softmax(z, axis=-1):
    e = np.exp(z - z.min(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def mean_shift_softmax(z, axis=-1):
    e = np.exp(z - z.mean(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def clipped_softmax(z, axis=-1):
    e = np.exp(np.clip(z, -700, 700))  # "fixes" the overflow by clipping the logits
    return e / e.sum(axis=axis, keepdims=True)


def exp_only_softmax(z, axis=-1):
    return np.exp(z - z.max(axis=axis, keepdims=True))


def max_normalised_softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.max(axis=axis, keepdims=True)


def unshifted_sum_softmax(z, axis=-1):
    return np.exp(z - z.max(axis=axis, keepdims=True)) / np.exp(z).sum(axis=axis, keepdims=True)


def in_place_softmax(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def float64_softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def float32_always_softmax(z, axis=-1):
    z = z.astype(np.float32)  # float64 logits come back as float32 probabilities
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def float16_inside_softmax(z, axis=-1):
    e = np.exp((z - z.max(axis=axis, keepdims=True)).astype(np.float16))
    return (e / e.sum(axis=axis, keepdims=True)).astype(z.dtype)  # right dtype, 3 digits


def loop_softmax(z, axis=-1):
    moved = np.moveaxis(z, axis, -1)
    out = np.empty_like(moved)
    for index in np.ndindex(*moved.shape[:-1]):
        e = np.exp(moved[index] - moved[index].max())
        out[index] = e / e.sum()
    return np.moveaxis(out, -1, axis)


def apply_along_softmax(z, axis=-1):
    return np.apply_along_axis(lambda v: np.exp(v - v.max()) / np.exp(v - v.max()).sum(), axis, z)


def course_softmax(z, axis=-1):
    return softmax(z, axis=axis)


def course_module_softmax(z, axis=-1):
    return activations.softmax(z, axis=axis)


def exp_of_course_log_softmax(z, axis=-1):
    return np.exp(log_softmax(z, axis=axis))


def no_return_softmax(z, axis=-1):
    np.exp(z - z.max(axis=axis, keepdims=True))


# Wrong answers a student might write: name -> (answer, regex the feedback must match).
WRONG_STABLE_SOFTMAX = {
    "no max subtracted: overflows": (naive_softmax, r"overflow.*\n.*constant"),
    "maximum of the whole array, not of each slice": (
        global_max_softmax, r"\[\[nan, nan, nan\].*\n.*differ in scale by 1000.*each slice"),
    "normalised over the whole array": (whole_array_softmax, r"over the whole array"),
    "axis fixed to -1": (last_axis_softmax, r"along axis 1 instead of axis 0"),
    "axis fixed to 0": (first_axis_softmax, r"along axis 0 instead of axis -1"),
    "no keepdims": (no_keepdims_softmax,
                    r"Z, axis=-1\) for Z of shape \(3, 4\).*raised.*broadcast.*\n.*keepdims"),
    "subtracts the minimum": (min_shift_softmax, r"\[10000\.0, 0\.0, -10000\.0\].*overflow"),
    "subtracts the mean": (mean_shift_softmax, r"\[10000\.0, 0\.0, -10000\.0\].*overflow"),
    "clips the logits": (clipped_softmax, r"\[1000\.0, 1001\.0, 1002\.0\].*differs"),
    "exp without the division": (exp_only_softmax, r"sum to \S+, not 1"),
    "divides by the max": (max_normalised_softmax, r"sum to \S+, not 1"),
    "shifted exp over the unshifted sum": (unshifted_sum_softmax, r"sum to \S+, not 1"),
    "x -= max in place": (in_place_softmax, r"modified its input"),
    "float32 in, float64 out": (float64_softmax, r"returned float64; for float32 logits"),
    "float64 in, float32 out": (float32_always_softmax, r"returned float32; for float64 logits"),
    "computed in float16, cast back": (float16_inside_softmax,
                                       r"right to about 3 decimals only.*\n.*precision"),
    "Python loop over slices": (loop_softmax, r"Python loop"),
    "np.apply_along_axis": (apply_along_softmax, r"apply_along_axis.*loop in disguise"),
    "calls the course's softmax": (course_softmax, r"calls `softmax` from a library.*yourself"),
    "calls activations.softmax": (course_module_softmax, r"calls `softmax` from a library"),
    "exp of the course's log_softmax": (exp_of_course_log_softmax,
                                         r"calls `log_softmax` from a library"),
    "no return": (no_return_softmax, r"returned None"),
    "not a function": (np.array([1.0, 0.0]), r"should be a function"),
}


def lse_softmax(z, axis=-1):
    m = z.max(axis=axis, keepdims=True)
    return np.exp(z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True)))


def moveaxis_softmax(z, axis=-1):
    last = np.moveaxis(z, axis, -1)
    e = np.exp(last - last[..., None].max(axis=-2))
    return np.moveaxis(e / e.sum(axis=-1)[..., None], -1, axis)


def expand_dims_softmax(z, axis=-1):
    e = np.exp(np.subtract(z, np.expand_dims(np.amax(z, axis=axis), axis)))
    return np.divide(e, np.expand_dims(np.sum(e, axis=axis), axis))


def reciprocal_softmax(z, axis=-1):
    e = np.exp(z - np.max(z, axis, keepdims=True))
    return e * (1.0 / np.sum(e, axis, keepdims=True))


def float64_inside_softmax(z, axis=-1):
    w = z.astype(np.float64)
    e = np.exp(w - w.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(z.dtype)


# Right answers written other ways: every one must pass.
RIGHT_STABLE_SOFTMAX = {
    "max-subtracted": ref_softmax,
    "exp of log-softmax (log-sum-exp)": lse_softmax,
    "moveaxis to the end and back": moveaxis_softmax,
    "expand_dims instead of keepdims": expand_dims_softmax,
    "times the reciprocal, positional axis": reciprocal_softmax,
    "float64 inside, cast back": float64_inside_softmax,
}


@pytest.mark.parametrize("name", WRONG_STABLE_SOFTMAX)
def test_stable_softmax_rejects(name):
    answer, message = WRONG_STABLE_SOFTMAX[name]
    with pytest.raises(ExerciseError, match=message):
        ch04.check_stable_softmax(answer)


@pytest.mark.parametrize("name", RIGHT_STABLE_SOFTMAX)
def test_stable_softmax_accepts(name, capsys):
    ch04.check_stable_softmax(RIGHT_STABLE_SOFTMAX[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_stable_softmax_leaves_the_check_inputs_untouched():
    before = [a.copy() for a in (ch04._SMALL, ch04._TABLE, ch04._MIXED, *ch04._EXTREMES)]
    with pytest.raises(ExerciseError):
        ch04.check_stable_softmax(in_place_softmax)
    for original, now in zip(before, (ch04._SMALL, ch04._TABLE, ch04._MIXED, *ch04._EXTREMES)):
        np.testing.assert_array_equal(original, now)


def test_stable_softmax_own_function_named_softmax_is_not_the_course_s():
    namespace = {"np": np}
    exec("def softmax(z, axis):\n"
         "    e = np.exp(z - z.max(axis=axis, keepdims=True))\n"
         "    return e / e.sum(axis=axis, keepdims=True)\n"
         "def stable_softmax(z, axis=-1):\n"
         "    return softmax(z, axis)\n", namespace)
    ch04.check_stable_softmax(namespace["stable_softmax"])


def test_stable_softmax_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_stable_softmax(unfinished)


# =========================================================================== Exercise 2
# cross_entropy(logits, y): mean over samples of -log softmax(z_i)[y_i], integer labels,
# log-probabilities by log-sum-exp written out (not log(softmax), not the course's
# log_softmax), finite for logits of +-1000, no loop.


def _lsm(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def ref_cross_entropy(logits, y):
    return -_lsm(logits)[np.arange(len(y)), y].mean()


def summed_cross_entropy(logits, y):
    return -_lsm(logits)[np.arange(len(y)), y].sum()


def per_sample_cross_entropy(logits, y):
    return -_lsm(logits)[np.arange(len(y)), y]


def sign_cross_entropy(logits, y):
    return _lsm(logits)[np.arange(len(y)), y].mean()


def log_of_softmax_cross_entropy(logits, y):
    p = ref_softmax(logits, axis=1)
    return -np.log(p[np.arange(len(y)), y]).mean()


def naive_cross_entropy(logits, y):
    p = naive_softmax(logits, axis=1)
    return -np.log(p[np.arange(len(y)), y]).mean()


def eps_cross_entropy(logits, y):
    p = ref_softmax(logits, axis=1)
    return -np.log(p[np.arange(len(y)), y] + 1e-12).mean()


def unshifted_lse_cross_entropy(logits, y):
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def global_max_cross_entropy(logits, y):
    shifted = logits - logits.max()
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def all_classes_cross_entropy(logits, y):
    return -_lsm(logits).mean()


def column_index_cross_entropy(logits, y):
    return -_lsm(logits)[:, y].mean()


def axis0_cross_entropy(logits, y):
    shifted = logits - logits.max(axis=0, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def onehot_labels_cross_entropy(logits, y):
    return -(y * _lsm(logits)).sum(axis=1).mean()  # treats y as one-hot rows


def no_keepdims_cross_entropy(logits, y):
    shifted = logits - logits.max(axis=1)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1))
    return -log_p[np.arange(len(y)), y].mean()


def whole_batch_lse_cross_entropy(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum())
    return -log_p[np.arange(len(y)), y].mean()


def log10_cross_entropy(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))) / np.log(10)
    return -log_p[np.arange(len(y)), y].mean()


def loop_cross_entropy(logits, y):
    return -np.mean([_lsm(logits)[i, y[i]] for i in range(len(y))])


def in_place_cross_entropy(logits, y):
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def course_log_softmax_cross_entropy(logits, y):
    return -log_softmax(logits, axis=1)[np.arange(len(y)), y].mean()


def m_not_added_back_cross_entropy(logits, y):
    m = logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(axis=1))  # log sum exp(z - m): the + m is missing
    return np.mean(lse - logits[np.arange(len(y)), y])


def scipy_cross_entropy(logits, y):
    from scipy.special import logsumexp  # not installed here, and the task says numpy only

    return np.mean(logsumexp(logits, axis=1) - logits[np.arange(len(y)), y])


def string_cross_entropy(logits, y):
    return f"{ref_cross_entropy(logits, y):.4f}"


WRONG_CROSS_ENTROPY = {
    "sum instead of mean": (summed_cross_entropy, r"the sum over the 4 samples"),
    "per-sample losses, no mean": (per_sample_cross_entropy, r"one loss per sample"),
    "wrong sign": (sign_cross_entropy, r"wrong sign"),
    "log of softmax underflows": (log_of_softmax_cross_entropy,
                                  r"divide by zero.*\n.*round to 0"),
    "naive softmax overflows": (naive_cross_entropy, r"overflow.*\n.*round to 0"),
    "log(p + eps) caps the loss": (eps_cross_entropy,
                                   r"gave 14\.47.*answer is 1000\.6566.*\[2000\.0, 1\.3133\]"),
    "log-sum-exp without the max": (unshifted_lse_cross_entropy, r"overflow"),
    "maximum of the whole batch": (global_max_cross_entropy,
                                   r"logits = \[\[0\.0, 1\.0, 2\.0\], \[1000\.0.*\n.*round to 0"),
    "mean over every class, not the label": (
        all_classes_cross_entropy, r"is 1\.6254, expected 1\.4504 \(the per-sample losses"),
    "log_p[:, y]: an n x n table": (column_index_cross_entropy, r"4 x 4 table"),
    "normalised over the samples (axis 0)": (axis0_cross_entropy, r"down the columns"),
    "y treated as one-hot": (onehot_labels_cross_entropy, r"broadcast.*\n.*integer labels"),
    "no keepdims": (no_keepdims_cross_entropy, r"broadcast.*\n.*keepdims"),
    "log-sum-exp over the whole batch": (whole_batch_lse_cross_entropy,
                                         r"logits = \[\[2\.0, 1\.0, 0\.1\].*per-sample"),
    "log base 10": (log10_cross_entropy, r"is 0\.6299, expected 1\.4504"),
    "Python loop": (loop_cross_entropy, r"Python loop"),
    "logits -= max in place": (in_place_cross_entropy, r"modified its input"),
    "calls the course's log_softmax": (course_log_softmax_cross_entropy,
                                       r"calls `log_softmax` from a library.*log-sum-exp yourself"),
    "returns a string": (string_cross_entropy, r"should return one number"),
    "log-sum-exp without adding m back": (
        m_not_added_back_cross_entropy,
        r"is -0\.6746, expected 1\.4504 \(the per-sample losses .*\[0\.417, 0\.22, 1\.0986"),
    "scipy's logsumexp": (scipy_cross_entropy,
                          r"y = \[0, 1, 2, 0\] raised ModuleNotFoundError.*\n.*numpy only"
                          r"|calls `logsumexp` from a library"),
}


def expanded_cross_entropy(logits, y):
    n = len(y)
    m = logits.max(axis=1)
    lse = m + np.log(np.sum(np.exp(logits - m[:, None]), axis=1))
    return float(np.mean(lse - logits[np.arange(n), y]))


def take_along_cross_entropy(logits, y):
    log_p = _lsm(logits)
    return -np.take_along_axis(log_p, y[:, None], axis=1).mean()


def onehot_sum_cross_entropy(logits, y):
    onehot = np.eye(logits.shape[1])[y]
    return -np.sum(onehot * _lsm(logits)) / len(y)


def own_softmax_then_lse_cross_entropy(logits, y):
    m = np.max(logits, axis=1, keepdims=True)
    log_p = logits - m - np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    return np.mean(-log_p[range(len(y)), y])


RIGHT_CROSS_ENTROPY = {
    "log-sum-exp, fancy index": ref_cross_entropy,
    "expanded: m + log sum exp(z - m) - z_y": expanded_cross_entropy,
    "take_along_axis": take_along_cross_entropy,
    "one-hot matrix and sum": onehot_sum_cross_entropy,
    "range(n) index, np.mean": own_softmax_then_lse_cross_entropy,
}


@pytest.mark.parametrize("name", WRONG_CROSS_ENTROPY)
def test_cross_entropy_rejects(name):
    answer, message = WRONG_CROSS_ENTROPY[name]
    with pytest.raises(ExerciseError, match=message):
        ch04.check_cross_entropy(answer)


@pytest.mark.parametrize("name", RIGHT_CROSS_ENTROPY)
def test_cross_entropy_accepts(name, capsys):
    ch04.check_cross_entropy(RIGHT_CROSS_ENTROPY[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_cross_entropy_messages_show_the_batch_they_quote():
    # The value quoted for the confident batch must come with that batch, written out.
    with pytest.raises(ExerciseError) as info:
        ch04.check_cross_entropy(eps_cross_entropy)
    message = str(info.value)
    assert "1000.6566" in message
    assert "[[1000.0, 0.0, -1000.0], [0.0, 1001.0, 1000.0]]" in message and "y = [2, 2]" in message


def test_cross_entropy_extreme_value_by_hand():
    # Row 1: -log p_2 of (1000, 0, -1000) is 2000 + log(1 + e^-1000 + e^-2000) = 2000.
    # Row 2: the max 1001 taken out, -log p_2 = 1001 + log(e^-1001 + 1 + e^-1) - 1000.
    row2 = 1001.0 + math.log(math.exp(-1001.0) + 1.0 + math.exp(-1.0)) - 1000.0
    assert ch04._cross_entropy(ch04._EXTREME, ch04._EXTREME_LABELS) == pytest.approx(
        (2000.0 + row2) / 2, rel=1e-12)


def test_cross_entropy_inputs_untouched():
    logits, labels = ch04._LOGITS.copy(), ch04._LABELS.copy()
    ch04.check_cross_entropy(ref_cross_entropy)
    np.testing.assert_array_equal(logits, ch04._LOGITS)
    np.testing.assert_array_equal(labels, ch04._LABELS)


def test_cross_entropy_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_cross_entropy(unfinished)


# =========================================================================== Exercise 3
# cross_entropy_grad(logits, y) = (softmax(logits) - onehot(y)) / n, stable, no loop.


def _onehot(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


def ref_grad(logits, y):
    return (softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def summed_grad(logits, y):
    return softmax(logits, axis=1) - _onehot(y, logits.shape[1])


def sign_grad(logits, y):
    return (_onehot(y, logits.shape[1]) - softmax(logits, axis=1)) / len(y)


def by_k_grad(logits, y):
    return (softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / logits.shape[1]


def mse_like_grad(logits, y):
    return 2 * (softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def no_onehot_grad(logits, y):
    return softmax(logits, axis=1) / len(y)


def label_value_grad(logits, y):
    return (softmax(logits, axis=1) - y[:, None]) / len(y)


def column_index_grad(logits, y):
    grad = softmax(logits, axis=1)
    grad[:, y] -= 1.0
    return grad / len(y)


def eye_n_grad(logits, y):
    return (softmax(logits, axis=1) - np.eye(len(y))[y]) / len(y)


def eye_n_cut_grad(logits, y):
    onehot = np.eye(len(y))[y][:, :logits.shape[1]]  # right only while n >= k
    return (softmax(logits, axis=1) - onehot) / len(y)


def axis0_grad(logits, y):
    return (softmax(logits, axis=0) - _onehot(y, logits.shape[1])) / len(y)


def naive_grad(logits, y):
    return (naive_softmax(logits, axis=1) - _onehot(y, logits.shape[1])) / len(y)


def global_max_grad(logits, y):
    e = np.exp(logits - logits.max())
    return (e / e.sum(axis=1, keepdims=True) - _onehot(y, logits.shape[1])) / len(y)


def apply_along_grad(logits, y):
    p = np.apply_along_axis(lambda row: np.exp(row - row.max()) / np.exp(row - row.max()).sum(),
                            1, logits)
    return (p - _onehot(y, logits.shape[1])) / len(y)


def label_only_grad(logits, y):
    n = len(y)
    grad = np.zeros_like(logits)
    grad[np.arange(n), y] = softmax(logits, axis=1)[np.arange(n), y] - 1.0
    return grad / n


def loop_grad(logits, y):
    p = softmax(logits, axis=1)
    for i, label in enumerate(y):
        p[i, label] -= 1.0
    return p / len(y)


def in_place_grad(logits, y):
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True) - _onehot(y, logits.shape[1])) / len(y)


def transposed_grad(logits, y):
    return ref_grad(logits, y).T


WRONG_CROSS_ENTROPY_GRAD = {
    "no division by n": (summed_grad, r"4 times too large"),
    "wrong sign": (sign_grad, r"wrong sign"),
    "divided by k, not n": (by_k_grad, r"divided by k = 3.*n = 4"),
    "factor 2 from a squared error": (mse_like_grad, r"twice the answer"),
    "no one-hot: p / n": (no_onehot_grad, r"no -1 at the labels"),
    "subtracts the label's value": (label_value_grad, r"label's value y_i"),
    "grad[:, y] -= 1": (column_index_grad, r"every column that is some sample's label"),
    "one-hot of width n": (eye_n_grad, r"broadcast.*\n.*integer labels"),
    "softmax down the columns": (axis0_grad, r"normalised down the columns"),
    "one-hot of width n, cut to k columns": (
        eye_n_cut_grad, r"logits = \[\[0\.2, -1\.0.*y = \[4, 0, 2\] raised IndexError"),
    "naive softmax overflows": (naive_grad, r"overflow.*\n.*stable"),
    "maximum of the whole batch": (global_max_grad,
                                   r"logits = \[\[0\.0, 1\.0, 2\.0\], \[1000\.0.*\[\[nan"),
    "np.apply_along_axis over rows": (apply_along_grad, r"apply_along_axis.*loop in disguise"),
    "only the label's entry": (label_only_grad, r"differs from the answer"),
    "Python loop over samples": (loop_grad, r"Python loop"),
    "logits -= max in place": (in_place_grad, r"modified its input"),
    "transposed": (transposed_grad, r"shape \(3, 4\), expected \(4, 3\)"),
    "not a function": (None, r"should be a function"),
}


def comparison_onehot_grad(logits, y):
    k = logits.shape[1]
    return (softmax(logits, axis=1) - (np.arange(k) == y[:, None])) / len(y)


def put_along_grad(logits, y):
    grad = softmax(logits, axis=1)
    np.put_along_axis(grad, y[:, None], np.take_along_axis(grad, y[:, None], 1) - 1.0, axis=1)
    return grad / len(y)


def exp_log_softmax_grad(logits, y):
    return (np.exp(log_softmax(logits, axis=1)) - np.eye(logits.shape[1])[y]) / len(y)


def own_softmax_grad(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


RIGHT_CROSS_ENTROPY_GRAD = {
    "p minus one-hot matrix": ref_grad,
    "one-hot by comparison": comparison_onehot_grad,
    "put_along_axis": put_along_grad,
    "exp of log_softmax, eye(k)[y]": exp_log_softmax_grad,
    "own stable softmax, subtract 1 in place on p": own_softmax_grad,
}


@pytest.mark.parametrize("name", WRONG_CROSS_ENTROPY_GRAD)
def test_cross_entropy_grad_rejects(name):
    answer, message = WRONG_CROSS_ENTROPY_GRAD[name]
    with pytest.raises(ExerciseError, match=message):
        ch04.check_cross_entropy_grad(answer)


@pytest.mark.parametrize("name", RIGHT_CROSS_ENTROPY_GRAD)
def test_cross_entropy_grad_accepts(name, capsys):
    ch04.check_cross_entropy_grad(RIGHT_CROSS_ENTROPY_GRAD[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_grad_reference_matches_finite_differences_of_the_loss():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    eps = 1e-6
    numeric = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        dz = np.zeros_like(z)
        dz[idx] = eps
        numeric[idx] = (ref_cross_entropy(z + dz, y) - ref_cross_entropy(z - dz, y)) / (2 * eps)
    np.testing.assert_allclose(ch04._cross_entropy_grad(z, y), numeric, atol=1e-8)


def test_grad_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_cross_entropy_grad(unfinished)


# =========================================================================== Exercise 4
# temperature_for(logits, target): T > 0 with max softmax(logits / T) = target to 1e-4;
# the answers lie in [1e-3, 1e3]; a loop over bisection steps is allowed.


def _top(z, t):
    return ref_softmax(z / t).max()


def ref_temperature(logits, target):
    lo, hi = math.log(1e-3), math.log(1e3)
    for _ in range(100):
        mid = (lo + hi) / 2
        if _top(logits, math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def inverse_temperature(logits, target):
    return 1.0 / ref_temperature(logits, target)


def log_temperature(logits, target):
    lo, hi = math.log(1e-3), math.log(1e3)
    for _ in range(100):
        mid = (lo + hi) / 2
        if _top(logits, math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2  # forgot the exp


def constant_temperature(logits, target):
    return 1.0


def negative_temperature(logits, target):
    return -ref_temperature(logits, target)


def string_temperature(logits, target):
    return "0.5"


def swapped_bisection(logits, target):
    lo, hi = math.log(1e-3), math.log(1e3)
    for _ in range(100):
        mid = (lo + hi) / 2
        if _top(logits, math.exp(mid)) > target:
            hi = mid  # moves the wrong way
        else:
            lo = mid
    return math.exp((lo + hi) / 2)


def few_steps_temperature(logits, target):
    lo, hi = math.log(1e-3), math.log(1e3)
    for _ in range(8):
        mid = (lo + hi) / 2
        if _top(logits, math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def class0_temperature(logits, target):
    lo, hi = math.log(1e-3), math.log(1e3)
    for _ in range(100):
        mid = (lo + hi) / 2
        if ref_softmax(logits / math.exp(mid))[0] > target:  # class 0, not the top class
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def two_class_formula(logits, target):
    top2 = np.sort(logits)[-2:]
    return float((top2[1] - top2[0]) / math.log(target / (1 - target)))


def narrow_range_temperature(logits, target):
    lo, hi = math.log(0.1), math.log(10.0)
    for _ in range(100):
        mid = (lo + hi) / 2
        if _top(logits, math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def naive_exp_temperature(logits, target):
    lo, hi = math.log(1e-3), math.log(1e3)
    for _ in range(100):
        mid = (lo + hi) / 2
        if naive_softmax(logits / math.exp(mid)).max() > target:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def in_place_temperature(logits, target):
    lo, hi = math.log(1e-3), math.log(1e3)
    for _ in range(100):
        mid = (lo + hi) / 2
        scaled = logits
        scaled /= math.exp(mid)  # divides the caller's array
        if ref_softmax(scaled).max() > target:
            lo = mid
        else:
            hi = mid
        scaled *= math.exp(mid)
    return math.exp((lo + hi) / 2)


def probabilities_temperature(logits, target):
    return ref_softmax(logits / ref_temperature(logits, target))


WRONG_TEMPERATURE_FOR = {
    "inverse temperature": (inverse_temperature, r"looks like 1/T"),
    "log T, the exp forgotten": (log_temperature, r"looks like log T"),
    "constant T = 1": (constant_temperature, r"\[2\.0, 1\.0, 0\.1\].*p = 0\.659001.*\n.*too flat"),
    "negative": (negative_temperature, r"must be > 0"),
    "a string": (string_temperature, r"one number"),
    "bisection moves the wrong way": (swapped_bisection, r"returned T = 1000.*\n.*too flat"),
    "too few bisection steps": (few_steps_temperature, r"not 0\.\d+ \(to within 1e-4\)"),
    "class 0 instead of the top class": (
        class0_temperature, r"\[0\.5, 2\.0, 1\.0, -0\.3\], target=0\.99.*class 1 \(logit 2\)"
        r".*class 0, not the top class here"),
    "two-class closed form": (two_class_formula, r"\[2\.0, 1\.0, 0\.1\], target=0\.9.*not 0\.9"),
    "search only in [0.1, 10]": (narrow_range_temperature, r"\[0\.03, 0\.02, 0\.0\]"),
    "naive exp overflows": (naive_exp_temperature, r"overflow.*\n.*max-subtracted"),
    "divides the logits in place": (in_place_temperature, r"modified its input"),
    "returns the probabilities": (probabilities_temperature, r"one number"),
}


def linear_bisection(logits, target):
    lo, hi = 1e-3, 1e3
    for _ in range(200):
        mid = (lo + hi) / 2
        if _top(logits, mid) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def while_bisection(logits, target):
    lo, hi = 1e-3, 1e3
    while hi / lo > 1 + 1e-12:
        mid = math.sqrt(lo * hi)
        if softmax(logits, temperature=mid).max() > target:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def grid_search(logits, target):
    grid = np.geomspace(1e-3, 1e3, 400_001)
    z = logits[None, :] / grid[:, None]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    top = (e / e.sum(axis=1, keepdims=True)).max(axis=1)
    return float(grid[np.argmin(np.abs(top - target))])


def bracket_then_bisect(logits, target):
    t = 1.0
    while _top(logits, t) < target:  # too flat: sharpen until the target is bracketed
        t /= 2
    while _top(logits, t) > target:
        t *= 2
    lo, hi = t / 2, t
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _top(logits, mid) > target else (lo, mid)
    return mid


RIGHT_TEMPERATURE_FOR = {
    "bisection on log T": ref_temperature,
    "bisection on T": linear_bisection,
    "while loop to a tolerance, course softmax": while_bisection,
    "vectorised grid search": grid_search,
    "bracket by doubling, then bisect": bracket_then_bisect,
}


@pytest.mark.parametrize("name", WRONG_TEMPERATURE_FOR)
def test_temperature_for_rejects(name):
    answer, message = WRONG_TEMPERATURE_FOR[name]
    with pytest.raises(ExerciseError, match=message):
        ch04.check_temperature_for(answer)


@pytest.mark.parametrize("name", RIGHT_TEMPERATURE_FOR)
def test_temperature_for_accepts(name, capsys):
    ch04.check_temperature_for(RIGHT_TEMPERATURE_FOR[name])
    assert capsys.readouterr().out.startswith("\u2705")


def test_temperature_cases_are_reachable_inside_the_stated_interval():
    for z, target in ch04._TEMPERATURE_CASES:
        assert 1 / len(z) < target < 1
        t = ref_temperature(z, target)
        assert 1e-3 < t < 1e3 and abs(_top(z, t) - target) < 1e-9


def test_temperature_unfinished_is_not_answered_yet():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch04.check_temperature_for(unfinished)


# =========================================================================== the catalogues


@pytest.mark.parametrize("catalogue", [WRONG_STABLE_SOFTMAX, WRONG_CROSS_ENTROPY,
                                       WRONG_CROSS_ENTROPY_GRAD, WRONG_TEMPERATURE_FOR])
def test_each_exercise_has_at_least_eight_wrong_answers(catalogue):
    assert len(catalogue) >= 8
