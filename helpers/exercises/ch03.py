"""Checks for chapter 3, ReLU and dead neurons: Leaky ReLU, a dead-unit detector,
reviving a dead network, and the born-dead probability of a width-1 network.

Each check calls the student's function on copies of small, fixed inputs, compares
with a reference computed here, and names the typical mistake when it recognises
one (alpha ignored, the derivative of ReLU instead of Leaky ReLU, the wrong axis,
"some zero" instead of "all zero", an off-by-one in the depth).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._core import (
    ExerciseError,
    NotAnsweredYet,
    as_numeric_array,
    call_answer,
    check_array,
    check_keys,
    check_vectorised,
    exercise_check,
    passed,
)

__all__ = [
    "BROKEN_CONFIG",
    "train_config",
    "check_leaky_relu",
    "check_dead_units",
    "check_revive",
    "check_born_dead_width1",
]


# --------------------------------------------------------------------------------------
# Exercise 1: Leaky ReLU forward and derivative
# --------------------------------------------------------------------------------------


def _call(fn, *args, what: str, name: str):
    """call_answer, with a plain "`name` is not answered yet" for an unfinished answer."""
    try:
        return call_answer(fn, *args, what=what)
    except NotAnsweredYet:
        raise NotAnsweredYet(name) from None


def _leaky(x, alpha):
    return np.where(x > 0, x, alpha * x)


def _leaky_grad(x, alpha):
    return np.where(x > 0, 1.0, alpha)


def _as_array(got, what: str) -> np.ndarray:
    return as_numeric_array(got, what, "return a numpy array of the same shape as x.")


@exercise_check
def check_leaky_relu(leaky_relu, leaky_relu_grad) -> None:
    """Check ``leaky_relu(x, alpha)`` and ``leaky_relu_grad(x, alpha)`` (vectorised)."""
    check_vectorised(leaky_relu, "`leaky_relu`")
    check_vectorised(leaky_relu_grad, "`leaky_relu_grad`")
    x = np.array([-1e4, -5.0, -2.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 2.0, 5.0, 1e4])
    for alpha in (0.01, 0.2):
        what = f"`leaky_relu(x, alpha={alpha})`"
        got = _as_array(_call(leaky_relu, x, alpha, what=what, name="`leaky_relu`"), what)
        expected = _leaky(x, alpha)
        if got.shape == x.shape:
            neg, pos = x < 0, x > 0
            if np.allclose(got[neg], 0) and np.allclose(got[pos], x[pos]):
                raise ExerciseError(
                    f"{what} returns 0 for negative inputs: that is plain ReLU.",
                    "for x <= 0 Leaky ReLU returns alpha * x, a small negative number.",
                )
            if alpha != 0.01 and np.allclose(got, _leaky(x, 0.01)):
                raise ExerciseError(
                    f"{what} gives the values for alpha = 0.01: the argument alpha is ignored.",
                    "use the parameter `alpha` in your formula, not a fixed number.",
                )
            if np.allclose(got[pos], alpha * x[pos]) and np.allclose(got[neg], x[neg]):
                raise ExerciseError(
                    f"{what} has the two branches swapped: it returns alpha * x for positive "
                    "inputs and x for negative ones.",
                    "positive inputs pass unchanged; only x <= 0 is multiplied by alpha.",
                )
        check_array(got, expected, what, inputs=x)

        what = f"`leaky_relu_grad(x, alpha={alpha})`"
        got = _as_array(_call(leaky_relu_grad, x, alpha, what=what,
                                  name="`leaky_relu_grad`"), what)
        expected = _leaky_grad(x, alpha)
        if got.shape == x.shape:
            neg = x < 0
            if np.allclose(got[neg], 0):
                raise ExerciseError(
                    f"{what} is 0 for negative inputs: that is ReLU's derivative, the one that "
                    "lets units die.",
                    "for x < 0, Leaky ReLU is alpha * x, so its slope there is alpha.",
                )
            if np.allclose(got, _leaky(x, alpha)):
                raise ExerciseError(
                    f"{what} returns the function's values, not its slope.",
                    "the derivative is 1 where x > 0 and alpha elsewhere.",
                )
            at_zero = x == 0
            if np.allclose(got[~at_zero], expected[~at_zero]) and not np.allclose(
                    got[at_zero], expected[at_zero]):
                raise ExerciseError(
                    f"{what} at x = 0 is {got[at_zero][0]:g}, expected alpha = {alpha:g}.",
                    "use the same convention as relu'(0) = 0 (the left slope): the derivative "
                    "is 1 only where x > 0.",
                )
        check_array(got, expected, what, inputs=x)

    X = np.array([[-3.0, 0.0, 2.0], [1.5, -0.25, 0.0]])
    what = "`leaky_relu` on a 2-D array"
    got = _as_array(_call(leaky_relu, X, 0.1, what=what, name="`leaky_relu`"), what)
    check_array(got, _leaky(X, 0.1), what,
                hint="the answer must work elementwise for arrays of any shape.")
    what = "`leaky_relu_grad` on a 2-D array"
    got = _as_array(_call(leaky_relu_grad, X, 0.1, what=what, name="`leaky_relu_grad`"), what)
    check_array(got, _leaky_grad(X, 0.1), what,
                hint="the answer must work elementwise for arrays of any shape.")
    passed("Leaky ReLU and its derivative are right: slope alpha for x <= 0, 1 for x > 0, "
           "vectorised.")


# --------------------------------------------------------------------------------------
# Exercise 2: a vectorised dead-unit detector
# --------------------------------------------------------------------------------------


def _dead(A):
    return ~np.any(A != 0, axis=0)


@exercise_check
def check_dead_units(dead_units) -> None:
    """Check ``dead_units(A)``: a boolean mask over the columns (units) of ``A``."""
    check_vectorised(dead_units, "`dead_units`")
    # Unit 0 is active on every sample, unit 2 on all but one, unit 3 on a single sample:
    # all three are alive. Units 1 and 4 are zero everywhere: dead.
    A = np.array([
        [0.5, 0.0, 0.0, 0.0, 0.0],
        [1.2, 0.0, 0.3, 0.0, 0.0],
        [0.1, 0.0, 0.3, 0.7, 0.0],
        [2.0, 0.0, 0.3, 0.0, 0.0],
        [0.4, 0.0, 0.3, 0.0, 0.0],
        [0.9, 0.0, 0.3, 0.0, 0.0],
    ])
    cases = [
        ("a (6 samples, 5 units) batch", A),
        ("a batch where one unit outputs 1e-12 on one sample (tiny but not zero)",
         np.array([[0.0, 1e-12, 2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.5]])),
        ("a batch with leaky-ReLU-like negative outputs",
         np.array([[-0.02, 0.0], [-0.01, 0.0]])),
        ("a (3 samples, 3 units) batch", np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0],
                                                   [0.0, 2.0, 0.0]])),
    ]
    for label, batch in cases:
        what = f"`dead_units` on {label}"
        got = _call(dead_units, batch, what=what, name="`dead_units`")
        expected = _dead(batch)
        if got is None:
            raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
        got_arr = np.asarray(got)
        if got_arr.shape == (batch.shape[0],) and batch.shape[0] != batch.shape[1]:
            raise ExerciseError(
                f"{what} has shape {got_arr.shape}: one value per sample, but we want one per "
                f"unit, shape {expected.shape}.",
                "A has shape (n_samples, n_units): reduce over the samples, axis=0.",
            )
        if got_arr.shape == expected.shape and got_arr.dtype != bool:
            raise ExerciseError(
                f"{what} has dtype {got_arr.dtype}; a mask should be boolean (True = dead).",
                "a comparison such as `A == 0` or np.all/np.any already gives booleans.",
            )
        if got_arr.shape == expected.shape:
            if np.array_equal(got_arr, np.any(batch == 0, axis=0)) and not np.array_equal(
                    got_arr, expected):
                raise ExerciseError(
                    f"{what} marks a unit dead when it is zero on *some* sample; a dead unit is "
                    "zero on *every* sample.",
                    "use np.all(...) over the samples, not np.any(...).",
                )
            if np.array_equal(got_arr, np.all(batch <= 0, axis=0)) and not np.array_equal(
                    got_arr, expected):
                raise ExerciseError(
                    f"{what} marks a unit with negative outputs as dead; dead means exactly "
                    "zero on every sample (a leaky unit with negative output still gets a "
                    "gradient).",
                    "test `A == 0`, not `A <= 0`.",
                )
            if np.array_equal(got_arr, np.all(np.abs(batch) < 1e-6, axis=0)) and not \
                    np.array_equal(got_arr, expected):
                raise ExerciseError(
                    f"{what} treats a tiny positive output as zero; a unit that outputs "
                    "1e-12 is active and passes gradient 1.",
                    "test for exact zeros (`A == 0`), with no tolerance.",
                )
        check_array(got_arr, expected, what,
                    hint="a unit (a column) is dead when its output is 0 for every sample "
                         "(every row).")
    passed("`dead_units` finds exactly the units that are zero on every sample, vectorised.")


# --------------------------------------------------------------------------------------
# Exercise 3: revive the broken network by changing one setting
# --------------------------------------------------------------------------------------

#: The network of section 4 that a large negative bias killed.
BROKEN_CONFIG = {"activation": "relu", "init": "he", "bias_init": -3.0, "lr": 1.0,
                 "epochs": 300}
SIZES = (2, 16, 16, 1)
TARGET_ACCURACY = 0.95
MAX_EPOCHS = 300


def train_config(config: dict, seed: int = 0):
    """Train the chapter's moons network with ``config``; return (net, history)."""
    from .. import data, nn  # local import: exercises stay light until a check runs

    X, y = data.moons(n=200, noise=0.15, seed=0)
    net = nn.MLP(list(SIZES), config["activation"], output="sigmoid", init=config["init"],
                 bias_init=config["bias_init"], seed=seed)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        history = net.fit(X, y, epochs=config["epochs"], lr=config["lr"])
    return net, history


@exercise_check
def check_revive(revive) -> None:
    """Check ``revive(config)``: one setting changed, and the network trains with no dead unit."""
    broken = dict(BROKEN_CONFIG)
    what = "`revive(BROKEN_CONFIG)`"
    got = _call(revive, broken, what=what, name="`revive`")
    if got is None:
        raise ExerciseError(f"{what} returned None.",
                            "return the new settings: a dict like the one you were given.")
    got = check_keys(got, list(broken), what,
                     "copy the dict you were given (`dict(config)`), change one entry, "
                     "return the copy.")
    changed = sorted(k for k in broken if got[k] != broken[k])
    if not changed:
        raise ExerciseError(f"{what} returned the broken settings unchanged.",
                            "change exactly one of them: which setting made the units dead?")
    if len(changed) > 1:
        raise ExerciseError(
            f"{what} changes {len(changed)} settings ({', '.join(changed)}); the exercise asks "
            "for exactly one.",
            "find the single setting that is enough on its own.")
    key = changed[0]
    if key == "epochs":
        if not isinstance(got["epochs"], (int, np.integer)) or not 0 < got["epochs"]:
            raise ExerciseError(f"epochs must be a positive whole number, got {got['epochs']!r}.")
        if got["epochs"] > MAX_EPOCHS:
            raise ExerciseError(
                f"{what} asks for {got['epochs']} epochs; keep at most {MAX_EPOCHS} so the "
                "check runs quickly.",
                "more epochs cannot help a unit whose gradient is exactly zero anyway.")
    try:
        net, history = train_config(got)
    except (TypeError, ValueError) as err:
        raise ExerciseError(f"the network could not be built or trained with {key} = "
                            f"{got[key]!r}: {err}", None) from None
    if history.diverged_at is not None or not np.isfinite(history.loss[-1]):
        raise ExerciseError(
            f"with {key} = {got[key]!r} training diverged (the loss became inf or NaN).",
            "a step that is too large makes things worse, not better.")
    dead = history.dead[-1, :-1]
    acc = float(history.accuracy[-1])
    worst = int(np.argmax(dead))
    if dead[worst] > 0:
        raise ExerciseError(
            f"with {key} = {got[key]!r}, {dead[worst]:.0%} of the units of hidden layer "
            f"{worst + 1} are still dead after training (accuracy {acc:.0%}).",
            "a unit whose pre-activation is negative on every input gets no gradient, whatever "
            "the step size or the number of epochs: change what puts it there, or what the "
            "activation does for negative inputs.")
    if acc < TARGET_ACCURACY:
        extra = ""
        if key == "activation":
            extra = (" Every unit is alive now, but alive is not the same as learning fast: "
                     "how much gradient does your activation pass at z = -3?")
        raise ExerciseError(
            f"with {key} = {got[key]!r} no unit is dead, but the accuracy after "
            f"{got['epochs']} epochs is only {acc:.0%} (target {TARGET_ACCURACY:.0%}).{extra}",
            "try another single change; there is more than one that works.")
    passed(f"Revived by changing {key} from {broken[key]!r} to {got[key]!r}: no dead unit, "
           f"accuracy {acc:.0%}.")


# --------------------------------------------------------------------------------------
# Exercise 4: born dead, width 1
# --------------------------------------------------------------------------------------


def _born_dead_width1(depth):
    return 1.0 - 0.5 ** (np.asarray(depth, dtype=float) - 1)


@exercise_check
def check_born_dead_width1(born_dead_width1) -> None:
    """Check ``born_dead_width1(depth)`` = 1 - (1/2)^(depth - 1), for an int and an array."""
    what = "`born_dead_width1(1)`"
    got = _call(born_dead_width1, 1, what=what, name="`born_dead_width1`")
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    depths = np.arange(1, 21)
    what = "`born_dead_width1(depths)` for depths = np.arange(1, 21)"
    got_arr = _as_array(_call(born_dead_width1, depths, what=what,
                                  name="`born_dead_width1`"), what)
    expected = _born_dead_width1(depths)
    if got_arr.shape == depths.shape:
        if np.allclose(got_arr, 1 - expected):
            raise ExerciseError(
                f"{what} gives the probability of being *alive*, 2^-(D-1).",
                "born dead is the complement: 1 minus the probability that every layer "
                "after the first has a positive weight.")
        if np.allclose(got_arr, 1 - 0.5 ** depths):
            raise ExerciseError(
                f"{what} is 1 - (1/2)^D: one factor of 1/2 too many (at depth 1 it gives "
                f"{got_arr[0]:g}, expected 0).",
                "the first layer sees inputs of both signs around the origin, so it is never "
                "dead on this batch; only layers 2..D each need a positive weight.")
        if np.allclose(got_arr, 0.5 ** (depths - 1)) or np.allclose(got_arr, 0.5 ** depths):
            raise ExerciseError(f"{what} decreases with depth, but deeper networks are *more* "
                                "likely to be born dead.",
                                "compute the probability of staying alive, then take 1 minus "
                                "it.")
    check_array(got_arr, expected, what, inputs=depths,
                hint="a width-1 network stays alive only if each of the weights of layers 2..D "
                     "is positive (probability 1/2 each).")
    single = _as_array(_call(born_dead_width1, 5, what="`born_dead_width1(5)`",
                         name="`born_dead_width1`"),
                       "`born_dead_width1(5)`")
    check_array(single, _born_dead_width1(5), "`born_dead_width1(5)`")
    passed("born_dead_width1(D) = 1 - (1/2)^(D - 1): depth 2 already kills half the networks, "
           "depth 10 all but 0.2%.")
