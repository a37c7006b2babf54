"""Checks for chapter 7, the course's instruments on PyTorch: a dead-unit hook, the weight
layout, update ratios over an optimizer step.

Each check builds its own small float64 torch inputs, designed so that the usual wrong
answers and the right one disagree (mixed signs, exact zeros, a tiny positive output that
float32 rounds to 0, unequal widths, a square layer next to non-square ones), runs the
student's function, and names what differs. Without PyTorch a check says so in one line
and returns, except under nbgrader, where it fails (no points for an unchecked answer).
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np

from ._core import (
    ExerciseError,
    NotAnsweredYet,
    check_array,
    check_vectorised,
    exercise_check,
    grading,
    passed,
    require_callable,
)

__all__ = ["check_dead_hook", "check_course_layout", "check_update_ratios"]

# Names of the course's own implementations, which the exercises ask you to write yourself.
_COURSE_NAMES = {"diagnostics", "torch_bridge", "TorchNet", "dead_units", "dead_fraction_of",
                 "dead_fraction", "update_to_weight_ratio", "layer_stats", "Recorder"}


def _torch(what: str):
    """torch, or None after saying in one line that the check needs it (fails under nbgrader)."""
    try:
        import torch
    except ImportError:
        message = (f"{what} needs PyTorch, which is not installed here: "
                   "`pip install torch==2.13.0` (in the course's folder also "
                   '`pip install -e ".[torch]"`).')
        if grading():
            raise ExerciseError(message, "the autograder must run with the torch extra.") from None
        print(f"\u23ed\ufe0f {message} This check is skipped.")
        return None
    return torch


def _forbid_course_code(fn, what: str) -> None:
    """Refuse an answer that calls the course's own implementation of the same thing."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else (
            node.attr if isinstance(node, ast.Attribute) else None)
        if name in _COURSE_NAMES:
            raise ExerciseError(
                f"{what} uses the course's own `{name}` (line {node.lineno} of the function); "
                "this exercise asks you to write it yourself.",
                "build it from torch (or numpy) operations on the tensors you are given.",
            )


def _call(fn, *args, what: str):
    """Call the answer on the very objects given (torch modules cannot be compared as copies;
    the checks compare the model's state themselves)."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise NotAnsweredYet(what) from None
    except ExerciseError:
        raise
    except Exception as err:
        hint = "run it on a small model in a cell of its own and read the error."
        if isinstance(err, RuntimeError) and "requires grad" in str(err):
            hint = ("a model's parameters are tracked by autograd, and numpy cannot hold that "
                    "history: take the tensor out of the graph (detach it) before converting.")
        raise ExerciseError(f"{what} raised {type(err).__name__}: {err}", hint) from None


def _not_answered(err: BaseException, what: str) -> NotAnsweredYet | None:
    seen = err
    while seen is not None:
        if isinstance(seen, NotImplementedError):
            return NotAnsweredYet(what)
        seen = seen.__cause__ or seen.__context__
    return None


# --------------------------------------------------------------------------------------
# Exercise 1: a forward hook that records the dead fraction
# --------------------------------------------------------------------------------------

def _dead_cases(torch):
    """(module, batch, expected dead fraction, what the case tests) for the hook check."""
    t = lambda rows: torch.tensor(rows, dtype=torch.float64)  # noqa: E731
    # 4 samples x 8 units (unequal on purpose). Units 0 and 4 are dead; unit 1 is zero on
    # all samples but one (alive: a per-sample test or `any` gets it wrong); unit 2 outputs
    # 1e-300 once (alive in float64, exactly 0 in float32); unit 7 outputs 1e-20 once (alive;
    # float32 keeps it, a tolerance "close to zero" does not); units 3, 5, 6 are live with
    # some exact zeros (so the share of zero entries differs from the dead fraction).
    z_relu = t([[-1.0, -2.0, -3.0, 0.5, -1.0, 2.0, 0.0, -1.0],
                [-2.0, -1.0, 1e-300, 0.0, -0.5, 1.0, 3.0, 1e-20],
                [-0.5, 4.0, -1.0, 1.0, -2.0, -1.0, -1.0, -2.0],
                [-3.0, -0.5, -2.0, 2.0, -0.1, 0.5, 1.0, -1.0]])
    # LeakyReLU(0.1): negative outputs are alive (not exactly 0). Only unit 2 (all z = 0) is
    # dead. Units 5 and 7 give mixed signs that add up to exactly 0 (0.1 - 0.1 + 0), so a sum
    # or mean of zero is not "all zero"; unit 6 gives -0.1, 0, 0, whose largest output is 0.
    z_leaky = t([[-1.0, 2.0, 0.0, -3.0, 1.0, 0.1, -1.0, -1.0],
                 [-2.0, -1.0, 0.0, -0.5, 0.0, -1.0, 0.0, 0.1],
                 [-0.5, 0.5, 0.0, -2.0, 2.0, 0.0, 0.0, 0.0]])
    # Every sample has a zero somewhere, but no unit is zero everywhere: dead fraction 0.
    z_all_live = t([[0.0, 1.0, 2.0], [1.0, 0.0, 2.0], [1.0, 2.0, 0.0],
                    [3.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return [
        (torch.nn.ReLU(), z_relu, 2 / 8, "a ReLU layer, 4 samples x 8 units"),
        (torch.nn.LeakyReLU(0.1), z_leaky, 1 / 8, "a LeakyReLU(0.1) layer, 3 samples x 8 "
         "units (negative outputs)"),
        (torch.nn.ReLU(), z_all_live, 0.0, "a ReLU layer where every sample has a zero"),
    ]


def _check_keeps_autograd(record_dead, what: str, torch) -> None:
    """In training the activations carry autograd's history; the hook must leave it there."""
    module, z, _, _ = _dead_cases(torch)[0]
    z = z.clone().requires_grad_(True)
    module.dead_log = []
    handle = module.register_forward_hook(record_dead)
    try:
        out = module(z)
    except Exception as err:
        raise ExerciseError(
            f"{what} raised {type(err).__name__} on a batch that carries gradients, as in "
            f"training: {err}",
            "during training the activations are part of autograd's graph: read them without "
            "changing them, and take them out of the graph before converting to numpy.") from None
    finally:
        handle.remove()
    if not (isinstance(out, torch.Tensor) and out.requires_grad):
        raise ExerciseError(
            f"with {what} attached, the layer's output no longer carries autograd's history: "
            "backward() would give the layers before it no gradient (their .grad stays None).",
            "whatever a forward hook returns replaces the layer's output; a hook that only "
            "records returns nothing.")


@exercise_check
def check_dead_hook(record_dead) -> None:
    """Check the forward hook ``record_dead(module, inputs, output)``: appends the dead fraction."""
    what = "`record_dead(module, inputs, output)`"
    require_callable(record_dead, what)
    torch = _torch(what)
    if torch is None:
        return
    hint_dead = ("a unit is dead when its output is exactly zero for *every* sample: test "
                 "each column (unit) over all rows (samples), then take the share of units.")
    for module, z, expected, label in _dead_cases(torch):
        reference = module(z).clone()
        module.dead_log = []
        handle = module.register_forward_hook(record_dead)
        try:
            out = module(z)
            module(z[:2])  # a second batch: the log must grow, not be replaced
        except Exception as err:
            missing = _not_answered(err, what)
            if missing is not None:
                raise missing from None
            raise ExerciseError(f"{what} raised {type(err).__name__} on {label}: {err}",
                                "run it on a small tensor in a cell of its own.") from None
        finally:
            handle.remove()
        if not isinstance(out, torch.Tensor) or out.shape != reference.shape:
            raise ExerciseError(
                f"{what} returned a value, and a forward hook's return value *replaces* the "
                f"layer's output: the layer gave {type(out).__name__} instead of its activations.",
                "a hook that only records must return nothing (None).")
        if not torch.equal(out, reference):
            raise ExerciseError(
                f"{what} changed the layer's output on {label} (it must only record).",
                "work on the tensor without modifying it: in-place operations (methods ending "
                "in `_`, or assigning into it) change the activations the next layer sees.")
        log = module.dead_log
        if not isinstance(log, list) or len(log) != 2:
            n = len(log) if isinstance(log, list) else type(log).__name__
            raise ExerciseError(
                f"after two batches `module.dead_log` should hold 2 entries, it holds {n}.",
                "append one number per call to the list that is already there; do not "
                "replace the list.")
        for entry in log:
            if isinstance(entry, torch.Tensor) or not isinstance(entry, (int, float)) or \
                    isinstance(entry, bool):
                raise ExerciseError(
                    f"{what} appended a {type(entry).__name__}; it should append a Python float.",
                    "turn a one-element tensor into a plain number before you store it.")
        got = float(log[0])
        if not np.isclose(got, expected, rtol=1e-6, atol=1e-12):
            zeros = float((reference == 0).double().mean())
            per_sample = float((reference == 0).all(dim=1).double().mean())
            any_zero = float((reference == 0).any(dim=0).double().mean())
            non_positive = float((reference <= 0).all(dim=0).double().mean())
            f32 = float((reference.float() == 0).all(dim=0).double().mean())
            tolerance = float((reference.abs() < 1e-12).all(dim=0).double().mean())
            zero_sum = float((reference.sum(dim=0) == 0).double().mean())
            zero_max = float((reference.max(dim=0).values == 0).double().mean())
            n_units = reference.shape[1]
            why = {
                "the share of zero *entries* (sparsity), not of dead units": zeros,
                "the share of *samples* that are all zero (the wrong axis)": per_sample,
                "units that are zero on *some* sample (any instead of all)": any_zero,
                "units whose outputs are <= 0: negative outputs are alive": non_positive,
                "a count of dead units instead of a fraction": expected * n_units,
                "float32: 1e-300 rounds to 0 there, so a live unit looks dead": f32,
                "a test for *nearly* zero: the units that output 1e-300 or 1e-20 once are "
                "alive, since dead means exactly zero": tolerance,
                "a zero sum (or mean) of the column: mixed signs add up to zero too, and "
                "these units output 0.1 and -0.1": zero_sum,
                "a largest output of zero: a unit whose outputs are -0.1, 0, 0 is alive": zero_max,
            }
            for mistake, value in why.items():
                if not np.isclose(value, expected) and np.isclose(got, value):
                    raise ExerciseError(
                        f"{what} recorded {got:.4g} on {label}, expected {expected:.4g}: it "
                        f"looks like {mistake}.", hint_dead)
            raise ExerciseError(f"{what} recorded {got:.4g} on {label}, expected "
                                f"{expected:.4g}.", hint_dead)
        second = float((reference[:2] == 0).all(dim=0).double().mean())
        if not np.isclose(float(log[1]), second, rtol=1e-6, atol=1e-12):
            raise ExerciseError(f"on the second batch (2 samples of {label}) {what} recorded "
                                f"{float(log[1]):.4g}, expected {second:.4g}.", hint_dead)
    _check_keeps_autograd(record_dead, what, torch)
    try:
        check_vectorised(record_dead, what)
    except ExerciseError as err:  # the shared hint speaks of numpy; this exercise is on tensors
        raise ExerciseError(err.problem, "torch's reductions take a `dim` argument: one call "
                            "tests every unit (column) over all samples at once.") from None
    _forbid_course_code(record_dead, what)
    passed(f"{what} records the dead fraction of every batch and leaves the layer's output "
           "alone.")


# --------------------------------------------------------------------------------------
# Exercise 2: a torch model's weights in the course's layout
# --------------------------------------------------------------------------------------

def _layout_model(torch):
    torch.manual_seed(7)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.ReLU(),
        torch.nn.Linear(5, 5), torch.nn.Tanh(),  # a square layer: a missing transpose keeps
        torch.nn.Linear(5, 1),                   # its shape but not its values; one output:
    ).double()                                   # its W.T is contiguous, so still a view


def _check_layout_float32(course_layout, what: str, torch) -> None:
    """PyTorch's default precision is float32; the course's arrays are float64 all the same."""
    model = _layout_model(torch).float()
    got = _call(course_layout, model, what=what)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return  # the main check below names this
    for name, values in (("weight", got[0]), ("bias", got[1])):
        for i, value in enumerate(values if isinstance(values, (list, tuple)) else []):
            if isinstance(value, np.ndarray) and value.dtype != np.float64:
                raise ExerciseError(
                    f"{what} on a float32 model (PyTorch's default): the {name} of layer "
                    f"{i + 1} has dtype {value.dtype}; the exercise asks for float64 arrays "
                    "whatever the model's precision.",
                    "the course's networks compute in float64: convert the copy's dtype "
                    "(float32 to float64 is exact).")


@exercise_check
def check_course_layout(course_layout) -> None:
    """Check ``course_layout(model)`` -> (weights, biases) as numpy (fan_in, fan_out) copies."""
    what = "`course_layout(model)`"
    require_callable(course_layout, what)
    torch = _torch(what)
    if torch is None:
        return
    model = _layout_model(torch)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    expected_W = [lin.weight.detach().numpy().T.copy() for lin in linears]
    expected_b = [lin.bias.detach().numpy().copy() for lin in linears]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    got = _call(course_layout, model, what=what)
    if any(not torch.equal(state[k], v) for k, v in model.state_dict().items()):
        raise ExerciseError(f"{what} changed the model's parameters.",
                            "read the parameters; build new arrays instead of transposing or "
                            "converting the model's tensors in place.")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise ExerciseError(f"{what} should return a pair (weights, biases), got "
                            f"{type(got).__name__}.",
                            "return two lists: the weight matrices, then the bias vectors.")
    weights, biases = got
    for name, values in (("weights", weights), ("biases", biases)):
        if not isinstance(values, (list, tuple)) or len(values) != len(linears):
            n = len(values) if isinstance(values, (list, tuple)) else type(values).__name__
            raise ExerciseError(
                f"{what} returned {n} {name}; the model has {len(linears)} Linear layers.",
                "one entry per Linear layer, first layer first, the output layer included; "
                "activation layers have no parameters.")
    for i, (W, b) in enumerate(zip(weights, biases)):
        for name, value in (("weight", W), ("bias", b)):
            if not isinstance(value, np.ndarray):
                raise ExerciseError(
                    f"{what}: the {name} of layer {i + 1} is a {type(value).__name__}, "
                    "expected a numpy array.",
                    "detach the tensor from autograd and convert it to numpy.")
            if value.dtype != np.float64:
                raise ExerciseError(
                    f"{what}: the {name} of layer {i + 1} has dtype {value.dtype}, expected "
                    "float64 (the model's own precision).",
                    "keep the model's precision: converting to float32 rounds every weight.")
    for i, (W, W_ok) in enumerate(zip(weights, expected_W)):
        if W.shape != W_ok.shape:
            hint = "torch keeps (fan_out, fan_in); the course's W maps fan_in to fan_out."
            if W.shape == W_ok.shape[::-1]:
                hint = ("torch stores Linear.weight as (fan_out, fan_in) and computes x W^T; "
                        "the course's W is the other way round.")
            raise ExerciseError(f"{what}: W of layer {i + 1} has shape {W.shape}, expected "
                                f"{W_ok.shape} (fan_in, fan_out).", hint)
        if W_ok.shape[0] == W_ok.shape[1] and np.allclose(W, W_ok.T) and not np.allclose(
                W_ok, W_ok.T):
            raise ExerciseError(
                f"{what}: W of layer {i + 1} (a square layer) has the right shape but is the "
                "transpose of the answer.",
                "torch stores Linear.weight as (fan_out, fan_in): turn it round for every "
                "layer, square or not.")
        check_array(W, W_ok, f"W of layer {i + 1}", rtol=0, atol=0,
                    hint="each entry must be the model's weight from input unit i to output "
                    "unit j: a reshape is not a transpose.")
    for i, (b, b_ok) in enumerate(zip(biases, expected_b)):
        if b.shape != b_ok.shape:
            raise ExerciseError(f"{what}: the bias of layer {i + 1} has shape {b.shape}, "
                                f"expected {b_ok.shape}.",
                                "a bias is a vector with one entry per output unit.")
        check_array(b, b_ok, f"the bias of layer {i + 1}", rtol=0, atol=0)
    # Independent copies: an optimizer step on the model must not change the student's arrays.
    with torch.no_grad():
        for lin in linears:
            lin.weight.add_(1.0)
            lin.bias.add_(1.0)
    changed = [f"W of layer {i + 1}" for i, (W, W_ok) in enumerate(zip(weights, expected_W))
               if not np.array_equal(W, W_ok)]
    changed += [f"the bias of layer {i + 1}" for i, (b, b_ok) in enumerate(zip(biases, expected_b))
                if not np.array_equal(b, b_ok)]
    if changed:
        raise ExerciseError(
            f"{what} returns arrays that share memory with the model ({', '.join(changed)}; "
            "layer 3 has one output unit): after the model's weights changed in place (as an "
            "optimizer step does), these arrays changed too.",
            "a numpy view of a tensor sees every later change, and an operation that may copy "
            "does not copy when the data is already laid out as asked: take a copy always.")
    _forbid_course_code(course_layout, what)
    _check_layout_float32(course_layout, what, torch)
    passed(f"{what} gives the course's layout: W of shape (fan_in, fan_out), float64 copies "
           "that later training cannot change.")


# --------------------------------------------------------------------------------------
# Exercise 3: update ratios over one optimizer step
# --------------------------------------------------------------------------------------

# Per-layer step sizes relative to the weights: 1e-7 (float32 cannot resolve it), 1e-3
# (healthy), 0.5 (erratic). The biases move too, by much more, so counting them shows.
_STEP_SCALES = (1e-7, 1e-3, 0.5)


def _ratio_setup(torch):
    torch.manual_seed(3)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 3), torch.nn.Tanh(),
        torch.nn.Linear(3, 6), torch.nn.ReLU(),
        torch.nn.Linear(6, 2),
    ).double()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    gen = torch.Generator().manual_seed(11)
    deltas = [scale * lin.weight.detach().abs().mean() *
              torch.randn(lin.weight.shape, generator=gen, dtype=torch.float64)
              for scale, lin in zip(_STEP_SCALES, linears)]
    bias_deltas = [torch.full_like(lin.bias, 3.0) for lin in linears]
    calls = {"n": 0}

    def step():
        # Like optimizer.step(): updates every parameter in place, and is not plain
        # gradient times learning rate (nothing here has a gradient).
        calls["n"] += 1
        with torch.no_grad():
            for lin, dW, db in zip(linears, deltas, bias_deltas):
                lin.weight.add_(dW)
                lin.bias.add_(db)

    before = [lin.weight.detach().numpy().copy() for lin in linears]
    before_b = [lin.bias.detach().numpy().copy() for lin in linears]
    expected = np.array([np.linalg.norm(d.numpy()) / np.linalg.norm(W)
                         for d, W in zip(deltas, before)])
    return model, linears, step, calls, expected, before, before_b


@exercise_check
def check_update_ratios(update_ratios) -> None:
    """Check ``update_ratios(model, step)``: one ||ΔW|| / ||W_before|| per Linear layer."""
    what = "`update_ratios(model, step)`"
    require_callable(update_ratios, what)
    torch = _torch(what)
    if torch is None:
        return
    model, linears, step, calls, expected, before, before_b = _ratio_setup(torch)
    got = _call(update_ratios, model, step, what=what)
    if calls["n"] != 1:
        raise ExerciseError(
            f"{what} called step() {calls['n']} times; it must call it exactly once.",
            "the ratio is about one optimizer step: record the weights, take the step, "
            "compare.")
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    if not isinstance(got, np.ndarray):
        raise ExerciseError(f"{what} returned a {type(got).__name__}; the exercise asks for a "
                            "numpy array with one number per Linear layer.",
                            "collect the per-layer ratios, then turn them into a numpy array "
                            "of floats before returning.")
    try:
        values = np.asarray([float(v) for v in np.asarray(got, dtype=object).ravel()])
    except (TypeError, ValueError):
        raise ExerciseError(f"{what} should return one number per Linear layer, got "
                            f"{type(got).__name__}.", "return a numpy array of floats.") from None
    if values.shape != expected.shape:
        raise ExerciseError(f"{what} returned {values.size} numbers; the model has "
                            f"{len(linears)} Linear layers (one ratio each, weights only).",
                            "one ratio per Linear layer, first layer first.")
    if np.all(values == 0):
        raise ExerciseError(
            f"{what} gives 0 for every layer: the weights you kept as 'before' changed with "
            "the step.",
            "an optimizer step changes the parameter tensors in place, and a detached tensor "
            "(or a numpy view of it) shares their memory: keep an independent copy.")
    W_after = [lin.weight.detach().numpy() for lin in linears]
    known = {
        "divided by the norm of the weights *after* the step":
            [np.linalg.norm(a - b) / np.linalg.norm(a) for a, b in zip(W_after, before)],
        "computed a difference of norms, not the norm of the difference":
            [abs(np.linalg.norm(a) - np.linalg.norm(b)) / np.linalg.norm(b)
             for a, b in zip(W_after, before)],
        "counted the biases with the weights":
            [np.sqrt(np.sum((a - b) ** 2) + np.sum((lin.bias.detach().numpy() - bb) ** 2))
             / np.sqrt(np.sum(b ** 2) + np.sum(bb ** 2))
             for a, b, bb, lin in zip(W_after, before, before_b, linears)],
        "squared the ratio (norms without the square root)": list(expected ** 2),
        "listed the layers from the output backwards": list(expected[::-1]),
        "averaged the element-wise ratios |ΔW| / |W| instead of a ratio of norms":
            [np.mean(np.abs(a - b) / np.abs(b)) for a, b in zip(W_after, before)],
    }
    for mistake, wrong in known.items():
        wrong = np.asarray(wrong, dtype=float)
        if not np.allclose(wrong, expected, rtol=1e-3) and np.allclose(values, wrong, rtol=1e-6):
            raise ExerciseError(f"{what} gives {np.array2string(values, precision=3)}, expected "
                                f"{np.array2string(expected, precision=3)}: it looks like you "
                                f"{mistake}.",
                                "the ratio is the Frobenius norm of the change of W divided "
                                "by the Frobenius norm of W before the step, per layer.")
    if not np.isclose(values[0], expected[0], rtol=1e-3, atol=0) and np.allclose(
            values[1:], expected[1:], rtol=1e-4, atol=0):
        raise ExerciseError(
            f"{what} gives {values[0]:.4g} for layer 1, whose step is 1e-7 of its weights; "
            f"expected {expected[0]:.4g}. Lost precision: float32 cannot resolve so small a "
            "change.",
            "keep the model's float64 precision when you subtract.")
    check_array(values, expected, f"the array {what} returned", rtol=1e-6, atol=0,
                hint="the ratio is the Frobenius norm of the change of W divided by the "
                "Frobenius norm of W before the step, per Linear layer, weights only.")
    _forbid_course_code(update_ratios, what)
    passed(f"{what} is right: {', '.join(f'{v:.0e}' for v in expected)} for a tiny, a healthy "
           "and an erratic step.")
