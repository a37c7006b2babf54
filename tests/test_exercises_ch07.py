"""Chapter 7 exercise checks: catalogues of wrong answers (each rejected, on several draws, with
a message naming its mistake or saying what differs) and of right answers written other ways
(each passes on many draws), the same verdicts through the autograding path, and the check's
own references against independent ones (the course's torch bridge, the numpy network,
torch.optim).

The wrong answers are the mistakes students make with torch: the wrong gradient (grad_input for
grad_output), the wrong axis, a reduction that coincides on easy inputs (sparsity vs dead units),
``<=`` for ``==``, ``any`` for ``all``, a lower precision, a hook that returns a value (it
replaces what it was given), in-place changes, a "before" copy that is not a copy, an
off-by-one number of steps, the course's own implementation under another name, and answers
fitted to the structures the old checks built (every layer with a bias, three Linear layers at
fixed places).

Seeds: every check call builds and runs a dozen small torch scenarios (tens of milliseconds), so
the first right answer of each exercise runs on ``SEEDS`` draws (200 by default) and the other
ways of writing it on ``FEW_SEEDS`` (40): a random draw that rejected a right answer would show
in the first, and the variants differ from it in their code, not in the draws they meet.
"""

from __future__ import annotations

import copy
import functools
import math
import operator
import os
import random
import re
import sys
import warnings
import weakref

import numpy as np
import pytest
from exercise_support import SEEDS, accepts, draws, graded, rejects

from helpers import diagnostics, nn, torch_bridge
from helpers.exercises import ExerciseError, NotAnsweredYet, ch07

IN_CI = os.environ.get("CI", "").lower() == "true"
try:
    import torch
except ImportError:  # pragma: no cover
    if IN_CI:
        raise RuntimeError("torch is not installed: CI must install the torch extra") from None
    pytest.skip("needs the torch extra: pip install -e '.[torch]'", allow_module_level=True)

FEW_SEEDS = min(SEEDS, 40)


def unfinished(*args):
    raise NotImplementedError()


def linears(model):
    return [m for m in model if isinstance(m, torch.nn.Linear)]


def right_answers_test(check, answers: dict):
    """Parametrised test: the first answer on SEEDS draws, the others on FEW_SEEDS."""
    first = next(iter(answers))

    @pytest.mark.parametrize("name", answers)
    def test(name):
        accepts(check, answers[name], draws(SEEDS if name == first else FEW_SEEDS))
    return test


def wrong_answers_test(check, answers: dict):
    @pytest.mark.parametrize("name", answers)
    def test(name):
        answer, message = answers[name]
        rejects(check, answer, message)
    return test


def without_a_guess(pattern: str) -> str:
    """A message matching ``pattern`` that names no known mistake ("it looks like ..."): for a
    wrong answer that is none of the catalogue's, whose values coincide with one of them on
    some case only."""
    return rf"(?s)\A(?!.*looks like).*{pattern}"


def pass_message_is_constant(check, answer, capsys):
    for seed in (1, 2):
        check(answer, seed=seed)
    first, second = capsys.readouterr().out.splitlines()
    assert first == second and first.startswith("\u2705")


# ---------------------------------------------------------------- exercise 1: backward hook
# Task: a full backward hook for a Linear layer appends ||dL/dz|| (grad_output[0], the whole
# batch, Frobenius norm) to module.grad_log as a Python float, once per backward pass; it
# returns nothing and changes no gradient; models of one or several Linear layers, float32 or
# float64, any loss; grad_input[0] is None on the first layer when the data need no gradient.

def grad_right(module, grad_input, grad_output):
    module.grad_log.append(grad_output[0].norm().item())


def grad_right_linalg(module, grad_input, grad_output):
    module.grad_log.append(float(torch.linalg.norm(grad_output[0])))


def grad_right_sum_of_squares(module, grad_input, grad_output):
    g = grad_output[0]
    module.grad_log.append(float((g * g).sum().sqrt()))


def grad_right_numpy(module, grad_input, grad_output):
    module.grad_log.append(float(np.linalg.norm(grad_output[0].detach().cpu().numpy())))


def grad_right_float64(module, grad_input, grad_output):
    (dz,) = grad_output
    module.grad_log.append(torch.linalg.vector_norm(dz.double()).item())


def grad_right_math(module, grad_input, grad_output):
    module.grad_log.append(math.sqrt(grad_output[0].pow(2).sum().item()))


def grad_right_returns_none(module, grad_input, grad_output):
    log = module.grad_log
    log.append(grad_output[0].flatten().norm().item())
    return None


def grad_right_returns_grad_input(module, grad_input, grad_output):
    module.grad_log.append(grad_output[0].norm().item())
    return tuple(grad_input)  # the same gradients: nothing replaced


def grad_right_cat(module, grad_input, grad_output):
    module.grad_log.append(float(torch.cat(grad_output).abs().pow(2).sum()) ** 0.5)


RIGHT_GRAD = {
    "norm().item()": grad_right,
    "torch.linalg.norm": grad_right_linalg,
    "square root of the sum of squares": grad_right_sum_of_squares,
    "numpy's norm of a detached copy": grad_right_numpy,
    "vector_norm in float64": grad_right_float64,
    "math.sqrt of the sum of squares": grad_right_math,
    "an explicit return None": grad_right_returns_none,
    "returns grad_input unchanged (replaces it with itself)": grad_right_returns_grad_input,
    "torch.cat of the tuple, power 1/2": grad_right_cat,
}


def grad_wrong_input(module, grad_input, grad_output):
    module.grad_log.append(grad_input[0].norm().item())


def grad_wrong_input_guarded(module, grad_input, grad_output):
    g = grad_input[0] if grad_input[0] is not None else grad_output[0]
    module.grad_log.append(g.norm().item())


def stat_hook(fn):
    """A hook that appends ``fn(grad_output[0])``."""
    def hook(module, grad_input, grad_output):
        module.grad_log.append(fn(grad_output[0]))
    return hook


def grad_wrong_returns_grad_output(module, grad_input, grad_output):
    module.grad_log.append(grad_output[0].norm().item())
    return grad_output


def grad_wrong_returns_scaled(module, grad_input, grad_output):
    module.grad_log.append(grad_output[0].norm().item())
    if grad_input[0] is not None:
        return (grad_input[0] * 0.5,)
    return None


def grad_wrong_in_place(module, grad_input, grad_output):
    module.grad_log.append(grad_output[0].norm().item())
    if grad_input[0] is not None:
        grad_input[0].clamp_(-1e-3, 1e-3)  # "clip" the gradient: changes what flows back


def grad_wrong_replaces_log(module, grad_input, grad_output):
    module.grad_log = module.grad_log + [grad_output[0].norm().item()]


def grad_wrong_twice(module, grad_input, grad_output):
    module.grad_log.append(grad_output[0].norm().item())
    module.grad_log.append(grad_output[0].norm().item())


def grad_wrong_weight_grad(module, grad_input, grad_output):
    module.grad_log.append(module.weight.grad.norm().item())


def grad_wrong_course_alias(module, grad_input, grad_output):
    from helpers.torch_bridge import _numpy as as_array
    module.grad_log.append(float(np.linalg.norm(as_array(grad_output[0]))))


def _norm_via(to_numpy, g):
    return float(np.linalg.norm(to_numpy(g)))


def grad_wrong_course_partial(module, grad_input, grad_output):
    norm = functools.partial(_norm_via, torch_bridge._numpy)
    module.grad_log.append(norm(grad_output[0]))


def grad_wrong_tracer_off(module, grad_input, grad_output):
    sys.setprofile(None)
    module.grad_log.append(float(np.linalg.norm(torch_bridge._numpy(grad_output[0]))))


WRONG_GRAD = {
    "grad_input[0], the gradient of the layer's input": (grad_wrong_input,
                                                          r"NoneType.*\n.*\nHint: .*"
                                                          r"grad_input\[0\] on the first layer"),
    "grad_input[0] where it exists": (grad_wrong_input_guarded,
                                      r"looks like the norm of grad_input\[0\]"),
    "the squared norm": (stat_hook(lambda g: g.pow(2).sum().item()), r"squared norm"),
    "the mean": (stat_hook(lambda g: g.mean().item()), r"mean of the entries"),
    "the mean of |g|": (stat_hook(lambda g: g.abs().mean().item()), r"mean of the absolute"),
    "the largest |g|": (stat_hook(lambda g: g.abs().max().item()), r"largest absolute entry"),
    "the L1 norm": (stat_hook(lambda g: g.abs().sum().item()), r"L1 norm"),
    "the first sample's norm": (stat_hook(lambda g: g[0].norm().item()), r"first sample"),
    "the mean per-sample norm": (stat_hook(lambda g: g.norm(dim=1).mean().item()),
                                 r"per-sample norms"),
    "the root mean square": (stat_hook(lambda g: (g.pow(2).mean().sqrt()).item()),
                             r"root mean square"),
    "times the batch size": (stat_hook(lambda g: g.norm().item() * g.shape[0]),
                             r"times the number of samples"),
    # A lower precision or rounding shows as a relative difference, not as a guessed name:
    # float32, float16, 6 significant digits and a 1e-9 error are all close on some case.
    "through float32 (a lower precision)": (stat_hook(lambda g: g.float().norm().item()),
                                            without_a_guess(r"relative difference of")),
    "through float16": (stat_hook(lambda g: g.half().float().norm().item()),
                        without_a_guess(r"relative difference of")),
    "rounded to 6 significant digits": (stat_hook(lambda g: float(f"{g.norm().item():.6g}")),
                                        without_a_guess(r"relative difference of")),
    "a relative error of 2e-9": (stat_hook(lambda g: g.norm().item() * (1 + 2e-9)),
                                 without_a_guess(r"relative difference of 2\.0e-09")),
    "rounded to 4 decimals": (stat_hook(lambda g: round(g.norm().item(), 4)),
                              without_a_guess(r"recorded .* expected")),
    "0 below a threshold of 1e-30": (stat_hook(lambda g: g.norm().item() if g.norm() > 1e-30
                                               else 0.0),
                                     r"recorded 0 .*e-1\d\d: a gradient this small is still "
                                     r"not zero"),
    "a fitted constant": (stat_hook(lambda g: 0.0297), r"recorded 0\.0297"),
    "a tensor, not a float": (stat_hook(lambda g: g.norm()), r"appended a torch tensor"),
    "a one-element array": (stat_hook(lambda g: g.norm().reshape(1).numpy()),
                            r"appended a numpy array of shape \(1,\)"),
    "a (1, 1) array": (stat_hook(lambda g: g.norm().reshape(1, 1).numpy()),
                       r"appended a numpy array of shape \(1, 1\)"),
    "a list of one number": (stat_hook(lambda g: [g.norm().item()]),
                             r"appended a list of length 1"),
    "per-unit norms": (stat_hook(lambda g: g.norm(dim=0).tolist()), r"appended a list"),
    "a numpy float32 number": (stat_hook(lambda g: np.float32(g.norm().item())),
                               r"appended a numpy float32 number"),
    "returns grad_output (replaces grad_input)": (grad_wrong_returns_grad_output,
                                                  r"(?s)raised .*Hint: whatever a backward "
                                                  r"hook returns replaces grad_input"),
    "returns half the gradient": (grad_wrong_returns_scaled,
                                  r"(?s)the hook changed the gradients.*returns a value "
                                  r"replaces grad_input"),
    "clips grad_input in place": (grad_wrong_in_place, r"changed|raised"),
    "replaces the log with a longer list": (grad_wrong_replaces_log,
                                            r"replaced `module\.grad_log`"),
    "appends twice": (grad_wrong_twice, r"holds (2|4) entries; it should hold (1|2)"),
    "the weights' gradient": (grad_wrong_weight_grad, r"(?s)NoneType.*Hint: .*a weight's \.grad"),
    "the course's torch_bridge under another name": (grad_wrong_course_alias,
                                                     r"calls `helpers\.torch_bridge\._numpy`"),
    "the course's code through functools.partial": (grad_wrong_course_partial,
                                                     r"calls `helpers\.torch_bridge\._numpy`"),
    "turns the tracer off, then calls the course": (grad_wrong_tracer_off,
                                                    r"replaced the check's call tracer"),
    "returns nothing, records nothing": (lambda module, gi, go: None,
                                         r"holds 0 entries; it should hold"),
}

test_grad_hook_rejects = wrong_answers_test(ch07.check_grad_hook, WRONG_GRAD)
test_grad_hook_accepts_on_every_draw = right_answers_test(ch07.check_grad_hook, RIGHT_GRAD)


def test_grad_hook_pass_message_is_the_same_for_every_draw(capsys):
    pass_message_is_constant(ch07.check_grad_hook, grad_right, capsys)


def test_grad_hook_edge_cases_come_first():
    labels = [c.label for c in ch07.GRAD_HOOK.draw(0)]
    for needed in ("chapter's network", "float32", "one Linear", "dead", "far below what "
                   "float32 can hold", "one sample",
                   "square layers", "summed", "eval mode", "sequences", "unbatched"):
        assert any(needed in label for label in labels[:14]), needed
    assert any("four axes" in label for label in labels[:14])
    assert all(label.startswith("random") for label in labels[14:])


def test_grad_hook_reference_is_torch_bridges_and_the_numpy_networks():
    """The check's dL/dz per layer equals TorchNet's tensor hooks and the numpy MLP's own
    backward pass (independent code), on the chapter's kind of network."""
    net = nn.MLP([2, 5, 4, 1], activation="tanh", output="sigmoid", seed=3)
    X = np.random.default_rng(0).normal(size=(9, 2))
    y = (X[:, 0] > 0).astype(float)
    model = torch_bridge.from_mlp(net, output_module=True)
    layers = [{"type": "linear", "W": lin.weight.detach().numpy().copy(),
               "b": lin.bias.detach().numpy().copy()} if isinstance(lin, torch.nn.Linear)
              else {"type": type(lin).__name__.lower()} for lin in model]
    case = ch07.Case("by hand", ({"model": {"layers": layers, "dtype": "float64"},
                                  "batches": [{"X": X, "y": y.reshape(-1, 1)}],
                                  "loss": {"kind": "bce", "scale": 1.0}, "x_grad": False},),
                     driver="ch07.backward_hook")
    dz = ch07.GRAD_HOOK.expected(case)["dz"][0]
    view = torch_bridge.TorchNet(torch_bridge.from_mlp(net, output_module=True))
    view.loss_and_grads(X, y)
    for mine, theirs in zip(dz, view.deltas):
        assert np.allclose(mine, theirs, rtol=1e-12, atol=0)
    # The numpy network: delta of the output layer is (y_hat - y) / N, then back by hand.
    y_hat = net.forward(X)
    delta = (y_hat - y.reshape(-1, 1)) / len(X)
    deltas = [delta]
    for layer in range(net.n_layers - 1, 0, -1):
        z = net.cache["z"][layer - 1]
        delta = (delta @ net.weights[layer].T) * (1 - np.tanh(z) ** 2)
        deltas.insert(0, delta)
    for mine, theirs in zip(dz, deltas):
        assert np.allclose(mine, theirs, rtol=1e-10, atol=0)


def test_grad_hook_unfinished_and_not_a_function():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch07.check_grad_hook(unfinished)
    with pytest.raises(ExerciseError, match="should be a function"):
        ch07.check_grad_hook(np.zeros(3))


def test_grad_hook_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch07.GRAD_HOOK, grad_right_numpy, tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch07.GRAD_HOOK, WRONG_GRAD["grad_input[0] where it exists"][0],
                   tmp_path / "w", monkeypatch)
    assert not wrong.passed and "grad_input" in wrong.message
    course = graded(ch07.GRAD_HOOK, grad_wrong_course_alias, tmp_path / "c", monkeypatch)
    assert not course.passed and "helpers.torch_bridge" in course.message


# ---------------------------------------------------------------- exercise 2: dead units
# Task: a forward hook on an activation layer appends the fraction of units whose output is
# exactly zero on every sample of the batch (n_samples, n_units; at least one of each; float32
# or float64) to module.dead_log as a Python float; it returns nothing, changes nothing (the
# output keeps autograd's history), has no Python loop, and does not call diagnostics or
# torch_bridge.

def dead_right_all(module, inputs, output):
    module.dead_log.append((output == 0).all(dim=0).double().mean().item())


def dead_right_any_not(module, inputs, output):
    alive = output.bool().any(dim=0)
    module.dead_log.append(float((~alive).sum()) / output.shape[1])


def dead_right_count_nonzero(module, inputs, output):
    # (a float32 fraction is not: 3/7 to 1e-8 only; see the wrong answers)
    module.dead_log.append((output.count_nonzero(dim=0) == 0).double().mean().item())


def dead_right_numpy(module, inputs, output):
    a = output.detach().cpu().numpy()
    module.dead_log.append(float(np.all(a == 0, axis=0).mean()))


def dead_right_abs_sum(module, inputs, output):
    module.dead_log.append(float(torch.count_nonzero(output.abs().sum(dim=0) == 0))
                           / output.size(1))


def dead_right_numpy_float64(module, inputs, output):
    a = output.detach().numpy()
    module.dead_log.append(np.mean(~np.any(a != 0, axis=0)))  # np.float64 is a float


def dead_right_returns_output(module, inputs, output):
    module.dead_log.append((output == 0).all(dim=0).double().mean().item())
    return output  # the same tensor: nothing replaced


RIGHT_DEAD = {
    "all over samples, mean": dead_right_all,
    "not any nonzero": dead_right_any_not,
    "count_nonzero, float64 fraction": dead_right_count_nonzero,
    "numpy of a detached copy": dead_right_numpy,
    "abs().sum() == 0": dead_right_abs_sum,
    "numpy, np.float64 appended": dead_right_numpy_float64,
    "returns the very output tensor": dead_right_returns_output,
}


def dead_wrong_loop(module, inputs, output):
    dead = 0
    for j in range(output.shape[1]):
        dead += bool((output[:, j] == 0).all())
    module.dead_log.append(dead / output.shape[1])


def dead_wrong_sample_loop(module, inputs, output):
    alive = torch.zeros(output.shape[1], dtype=torch.bool)
    for row in output:
        alive |= row != 0
    module.dead_log.append(float((~alive).double().mean()))


def dead_wrong_tolist(module, inputs, output):
    columns = list(zip(*output.tolist()))
    module.dead_log.append(sum(all(v == 0 for v in c) for c in columns) / len(columns))


def dead_wrong_map_over_units(module, inputs, output):
    # one torch call per unit, driven from C by map: no Python line runs per unit
    n_dead = sum(map(operator.not_, map(torch.count_nonzero, output.detach().T)))
    module.dead_log.append(n_dead / output.shape[1])


def dead_wrong_reduce_over_samples(module, inputs, output):
    # one torch call per sample, driven from C by functools.reduce
    alive = functools.reduce(torch.logical_or, output.detach() != 0)
    module.dead_log.append(float((~alive).double().mean()))


def dead_wrong_numpy_reduce_over_samples(module, inputs, output):
    # one numpy ufunc call per sample, driven from C: neither the profiler nor torch sees it
    alive = functools.reduce(np.logical_or, output.detach().numpy() != 0)
    module.dead_log.append(float((~alive).mean()))


def dead_wrong_numpy_map_over_units(module, inputs, output):
    # one ufunc method call per unit, driven from C
    nz = output.detach().numpy() != 0
    alive = np.fromiter(map(np.logical_or.reduce, nz.T), bool, count=nz.shape[1])
    module.dead_log.append(float((~alive).mean()))


def dead_wrong_torch_chunks(module, inputs, output):
    # a loop over blocks of 64 units: one torch call per block
    alive = torch.cat([c.any(0) for c in torch.split(output.detach() != 0, 64, dim=1)])
    module.dead_log.append(float((~alive).double().mean()))


def dead_wrong_per_sample(module, inputs, output):
    # the number of dead units divided by the number of *samples*
    module.dead_log.append(float((output == 0).all(dim=0).sum()) / output.shape[0])


def dead_wrong_relu_only(module, inputs, output):
    if isinstance(module, torch.nn.ReLU):
        module.dead_log.append((output == 0).all(dim=0).double().mean().item())
    else:
        module.dead_log.append(0.0)


def dead_wrong_in_place(module, inputs, output):
    output[output.abs() < 1e-12] = 0.0  # "clean up" tiny values: changes the activations
    module.dead_log.append((output == 0).all(dim=0).double().mean().item())


def dead_wrong_zeroes_inputs(module, inputs, output):
    module.dead_log.append((output == 0).all(dim=0).double().mean().item())
    with torch.no_grad():
        inputs[0].clamp_(min=0.0)  # "tidy up" the inputs too: changes z for everyone else


def dead_wrong_returns(module, inputs, output):
    frac = (output == 0).all(dim=0).double().mean().item()
    module.dead_log.append(frac)
    return frac


def dead_wrong_returns_detached(module, inputs, output):
    module.dead_log.append(float((output == 0).all(dim=0).double().mean()))
    return output.detach()  # same values, but cut off from autograd


def dead_wrong_overwrites_log(module, inputs, output):
    module.dead_log = [(output == 0).all(dim=0).double().mean().item()]


def dead_wrong_course(module, inputs, output):
    module.dead_log.append(diagnostics.dead_fraction_of(output.detach().numpy()))


def dead_wrong_course_alias(module, inputs, output):
    from helpers.diagnostics import dead_fraction_of as share_dead
    module.dead_log.append(share_dead(output.detach().numpy()))


_course_dead = functools.partial(diagnostics.fraction_true)


def dead_wrong_course_partial(module, inputs, output):
    module.dead_log.append(_course_dead(np.all(output.detach().numpy() == 0, axis=0)))


def dead_wrong_no_detach_numpy(module, inputs, output):
    module.dead_log.append(float(np.all(output.numpy() == 0, axis=0).mean()))


def dead_stat(fn):
    def hook(module, inputs, output):
        module.dead_log.append(fn(output))
    return hook


def dead_wrong_inputs_not_positive(module, inputs, output):
    # Right for a ReLU layer (z <= 0 on every sample is a dead unit), not for a Sigmoid.
    module.dead_log.append(float((inputs[0] <= 0).all(0).double().mean()))


WRONG_DEAD = {
    "the wrong axis": (dead_stat(lambda a: (a == 0).all(dim=1).double().mean().item()),
                       r"wrong axis"),
    "sparsity": (dead_stat(lambda a: (a == 0).double().mean().item()), r"sparsity"),
    "<= 0": (dead_stat(lambda a: (a <= 0).all(dim=0).double().mean().item()), r"<= 0"),
    "any instead of all": (dead_stat(lambda a: (a == 0).any(dim=0).double().mean().item()),
                           r"any instead of all"),
    "a count": (dead_stat(lambda a: float((a == 0).all(dim=0).sum())), r"a count of dead units"),
    "a percentage": (dead_stat(lambda a: 100 * (a == 0).all(dim=0).double().mean().item()),
                     r"percentage"),
    "through float32": (dead_stat(lambda a: (a.float() == 0).all(dim=0).double().mean().item()),
                        r"float32, a lower precision"),
    "through float16": (dead_stat(lambda a: (a.half() == 0).all(dim=0).double().mean().item()),
                        r"float16, a lower precision"),
    "a tolerance of 1e-12": (dead_stat(lambda a: float((a.abs() < 1e-12).all(dim=0)
                                                       .double().mean())), r"\*nearly\* zero"),
    "torch.isclose to 0": (dead_stat(lambda a: float(torch.isclose(a, torch.zeros_like(a))
                                                     .all(dim=0).double().mean())),
                           r"\*nearly\* zero"),
    "a zero mean": (dead_stat(lambda a: float((a.mean(dim=0) == 0).double().mean())),
                    r"zero sum \(or mean\)"),
    "a zero sum": (dead_stat(lambda a: float((a.sum(dim=0) == 0).double().mean())),
                   r"zero sum \(or mean\)"),
    "a zero maximum": (dead_stat(lambda a: float((a.max(dim=0).values == 0).double().mean())),
                       r"largest output of zero"),
    "rounded to 2 decimals": (dead_stat(lambda a: round((a == 0).all(dim=0).double().mean()
                                                        .item(), 2)), r"rounded to 2 decimals"),
    "the smallest normal float64 as a tolerance (a subnormal 1e-310 is alive)": (
        dead_stat(lambda a: float((a.abs() <= torch.finfo(torch.float64).tiny).all(0).double()
                                  .mean())), r"\*nearly\* zero"),
    "the layer's inputs z <= 0 (a ReLU's dead units)": (dead_wrong_inputs_not_positive,
                                                        r"\*inputs\* z are <= 0"),
    "the layer's inputs": (lambda module, inputs, output: module.dead_log.append(
        (inputs[0] == 0).all(dim=0).double().mean().item()), r"\*inputs\* z, not its outputs"),
    "a fitted constant": (dead_stat(lambda a: 0.25), r"recorded 0\.25 .*expected"),
    "a tensor": (dead_stat(lambda a: (a == 0).all(dim=0).double().mean()),
                 r"appended a torch tensor"),
    "a one-element array": (dead_stat(lambda a: np.array([float((a == 0).all(dim=0)
                                                                .double().mean())])),
                            r"appended a numpy array of shape \(1,\)"),
    "a 0-d array": (dead_stat(lambda a: np.asarray((a == 0).all(dim=0).double().mean())),
                    r"appended a numpy array of shape \(\)"),
    "a list of one number": (dead_stat(lambda a: [(a == 0).all(dim=0).double().mean().item()]),
                             r"appended a list of length 1"),
    "an int when nothing is dead": (dead_stat(lambda a: (a == 0).all(dim=0).double().mean()
                                              .item() or 0), r"appended the integer 0"),
    "a bool": (dead_stat(lambda a: bool((a == 0).all(dim=0).any())), r"appended the bool"),
    # torch's functions driven from C: the tracer counts torch calls
    "map over the units (C-driven)": (dead_wrong_map_over_units,
                                      r"runs a Python loop: on a 3 x 4 batch .* on a 60 x 2,000"),
    "functools.reduce over the samples (C-driven)": (dead_wrong_reduce_over_samples,
                                                     r"runs a Python loop: on a 3 x 4 batch .* "
                                                     r"on a 60 x 2,000"),
    "a loop over blocks of 64 units": (dead_wrong_torch_chunks,
                                       r"runs a Python loop: on a 3 x 4 batch .* on a 60 x 2,000"),
    # numpy's ufuncs driven from C: only time shows them
    "numpy's reduce over the samples (C-driven, timed)": (
        dead_wrong_numpy_reduce_over_samples, r"took \d+ ms of CPU on .*50,000 samples"),
    "numpy's map over the units (C-driven, timed)": (
        dead_wrong_numpy_map_over_units, r"took \d+ ms of CPU on .*50,000 units|np\.fromiter|"
                                         r"numpy\.fromiter"),
    # Wrong answers that are none of the known mistakes, though each coincides with one on
    # some case: the message says what differs and names no mistake.
    "dead units divided by the number of samples": (dead_wrong_per_sample,
                                                    r"looks like the number of dead units "
                                                    r"divided by the number of \*samples\*"),
    "the alive fraction": (dead_stat(lambda a: 1.0 - _dead_of(a)),
                           r"looks like the fraction of units that are \*alive\*"),
    "ReLU layers only, 0.0 for the others": (dead_wrong_relu_only,
                                             without_a_guess(r"recorded .* expected")),
    "a zero standard deviation": (dead_stat(lambda a: float((a.std(dim=0) == 0).double()
                                                            .mean())),
                                  without_a_guess(r"recorded .* expected")),
    "a Python loop over units": (dead_wrong_loop, r"Python loop"),
    "a Python loop over samples": (dead_wrong_sample_loop, r"Python loop"),
    "tolist and comprehensions": (dead_wrong_tolist, r"Python loop|one Python object"),
    "changes the output in place": (dead_wrong_in_place, r"changed the layer's output"),
    "changes the inputs in place": (dead_wrong_zeroes_inputs, r"changed the layer's input z"),
    "returns the fraction": (dead_wrong_returns, r"\*replaces\* the layer's output"),
    "returns a detached output": (dead_wrong_returns_detached,
                                  r"no longer carries autograd's history"),
    "overwrites the log": (dead_wrong_overwrites_log, r"replaced `module\.dead_log`"),
    "the course's dead_fraction_of": (dead_wrong_course,
                                      r"calls `helpers\.diagnostics\.dead_fraction_of`"),
    "the course's function under another name": (dead_wrong_course_alias,
                                                 r"calls `helpers\.diagnostics\."),
    "the course's function through functools.partial": (dead_wrong_course_partial,
                                                        r"calls `helpers\.diagnostics\."),
    "numpy() without detach": (dead_wrong_no_detach_numpy,
                               r"(?s)requires grad.*Hint: .*take them out of the graph"),
    "returns nothing, records nothing": (lambda module, inputs, output: None,
                                         r"holds 0 entries; it should hold \d+"),
}

test_dead_hook_rejects = wrong_answers_test(ch07.check_dead_hook, WRONG_DEAD)
test_dead_hook_accepts_on_every_draw = right_answers_test(ch07.check_dead_hook, RIGHT_DEAD)


def test_dead_hook_pass_message_is_the_same_for_every_draw(capsys):
    pass_message_is_constant(ch07.check_dead_hook, dead_right_all, capsys)


def test_dead_hook_edge_cases_come_first():
    cases = ch07.DEAD_HOOK.draw(0)
    labels = [c.label for c in cases]
    for needed in ("ReLU layer, 4 samples", "LeakyReLU", "every sample has a zero",
                   "one sample", "one unit", "float32", "Tanh", "Sigmoid", "carry gradients",
                   "float32 Sigmoid"):
        assert any(needed in label for label in labels[:10]), needed
    batches = [b for c in cases[:10] for b in c.args[0]["batches"]]
    tiny = {float(v) for b in batches for v in np.ravel(b) if 0 < abs(v) < 1e-15}
    assert any(v < np.finfo(np.float64).tiny for v in tiny), tiny  # a float64 subnormal
    assert any(v < 1e-299 for v in tiny) and any(1e-41 < v < 1e-39 for v in tiny), tiny
    assert [c.work for c in cases[-4:]] == ["small", "large", "timed", "timed"]
    # the timed batches: one of many units, one of many samples (a loop over either shows)
    shapes = [c.args[0]["batches"][0].shape for c in cases[-2:]]
    assert min(shapes[0]) == shapes[0][0] and min(shapes[1]) == shapes[1][1], shapes
    assert all(np.prod(s) == c.elements >= 100_000 for s, c in zip(shapes, cases[-2:]))


def test_dead_hook_reference_agrees_with_the_course():
    """The check's expected fractions (from the layer's outputs) are the course's own."""
    for seed in range(20):
        for case in ch07.DEAD_HOOK.draw(seed):
            for a in ch07.DEAD_HOOK.expected(case)["outputs"]:
                mine = float(np.mean(np.all(a == 0, axis=0)))
                assert mine == diagnostics.dead_fraction_of(a)


def test_dead_hook_keeps_gradients_flowing():
    """With the right hook attached, backward() still reaches the first layer."""
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),
                                torch.nn.Linear(3, 1)).double()
    for hook, flows in ((dead_right_all, True), (dead_wrong_returns_detached, False)):
        model.zero_grad(set_to_none=True)
        model[1].dead_log = []
        handle = model[1].register_forward_hook(hook)
        out = model(torch.ones(4, 2, dtype=torch.float64))
        handle.remove()
        out.sum().backward()  # the last layer's weights still need a gradient
        assert (model[0].weight.grad is not None) is flows


def test_dead_hook_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch07.DEAD_HOOK, dead_right_numpy, tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch07.DEAD_HOOK, WRONG_DEAD["<= 0"][0], tmp_path / "w", monkeypatch)
    assert not wrong.passed and "<= 0" in wrong.message
    loop = graded(ch07.DEAD_HOOK, dead_wrong_loop, tmp_path / "l", monkeypatch)
    assert not loop.passed and "Python loop" in loop.message
    timed = graded(ch07.DEAD_HOOK, dead_wrong_numpy_reduce_over_samples, tmp_path / "t",
                   monkeypatch)
    assert not timed.passed and "ms of CPU" in timed.message


# ---------------------------------------------------------------- exercise 3: the layout
# Task: for an nn.Sequential of Linear layers and layers without parameters (float32 or
# float64, one Linear layer or several), return (weights, biases): two lists (or tuples), one
# entry per Linear layer; W a float64 numpy array (fan_in, fan_out), b a float64 numpy vector
# (fan_out,), zeros for a layer built with bias=False; independent copies, new at every call
# (the first call's arrays stay as they were); models in training or evaluation mode, with
# frozen layers; the model (gradients included) and the session (autograd, also inside
# torch.no_grad(), the default dtype) unchanged; no torch_bridge.

def layout_right_copy(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().T.astype(np.float64) for m in ls],
            [np.zeros(m.out_features) if m.bias is None
             else m.bias.detach().numpy().astype(np.float64) for m in ls])


def layout_right_tolist(model):
    ls = linears(model)
    return ([np.array(m.weight.tolist()).T for m in ls],
            [np.array(m.bias.tolist()) if m.bias is not None else np.zeros(m.out_features)
             for m in ls])


def layout_right_clone(model):
    ls = linears(model)
    zeros = [torch.zeros(m.out_features, dtype=torch.float64) for m in ls]
    return ([m.weight.detach().double().clone().T.numpy() for m in ls],
            [(m.bias.detach() if m.bias is not None else z).double().clone().numpy()
             for m, z in zip(ls, zeros)])


def layout_right_state_dict(model):
    sd = model.state_dict()
    keys = [k[:-len(".weight")] for k in sd if k.endswith(".weight")]
    weights = [np.array(sd[k + ".weight"].numpy().T, dtype=np.float64) for k in keys]
    biases = [np.array(sd[k + ".bias"].numpy(), dtype=np.float64) if k + ".bias" in sd
              else np.zeros(w.shape[1]) for k, w in zip(keys, weights)]
    return weights, biases


def layout_right_named_modules(model):
    weights, biases = [], []
    for _, m in model.named_modules():
        if isinstance(m, torch.nn.Linear):
            weights.append(np.array(m.weight.detach().numpy(), dtype=np.float64).T.copy())
            b = m.bias
            biases.append(np.zeros(m.weight.shape[0]) if b is None
                          else np.array(b.detach().numpy(), dtype=np.float64))
    return tuple(weights), tuple(biases)


def layout_right_list_pair(model):
    weights, biases = layout_right_copy(model)
    return [weights, biases]


def layout_right_no_grad(model):
    with torch.no_grad():  # ends with the block: autograd is on again afterwards
        ls = linears(model)
        return ([m.weight.double().T.clone().numpy() for m in ls],
                [np.zeros(m.out_features) if m.bias is None else m.bias.double().clone().numpy()
                 for m in ls])


def layout_right_deepcopy_double(model):
    twin = copy.deepcopy(model).double().eval()  # a copy may be converted and switched
    ls = linears(twin)
    return ([m.weight.detach().numpy().T.copy() for m in ls],
            [np.zeros(m.out_features) if m.bias is None else m.bias.detach().numpy().copy()
             for m in ls])


RIGHT_LAYOUT = {
    "transposed float64 copies": layout_right_copy,
    "inside torch.no_grad()": layout_right_no_grad,
    "a float64 copy of the model": layout_right_deepcopy_double,
    "tolist round trip": layout_right_tolist,
    "clone in torch, then numpy": layout_right_clone,
    "from the state_dict": layout_right_state_dict,
    "named_modules, tuples": layout_right_named_modules,
    "a list of two lists": layout_right_list_pair,
}


def layout_wrong_no_transpose(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().astype(np.float64) for m in ls],
            layout_right_copy(model)[1])


def layout_wrong_reshape(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().reshape(m.in_features, m.out_features)
             .astype(np.float64) for m in ls], layout_right_copy(model)[1])


def layout_wrong_square_left_alone(model):
    weights, biases = layout_right_copy(model)
    return [W.T.copy() if W.shape[0] == W.shape[1] else W for W in weights], biases


def layout_wrong_view(model):
    ls = linears(model)
    if ls[0].weight.dtype != torch.float64:
        return layout_right_copy(model)
    return ([m.weight.detach().numpy().T for m in ls],
            [m.bias.detach().numpy() if m.bias is not None else np.zeros(m.out_features)
             for m in ls])


def layout_wrong_ascontiguous(model):
    # A copy for most layers, but where W.T is already contiguous (one output unit, or one
    # input), np.ascontiguousarray returns the view itself.
    weights, biases = layout_right_copy(model)
    ls = linears(model)
    if ls[0].weight.dtype == torch.float64:
        weights = [np.ascontiguousarray(m.weight.detach().numpy().T) for m in ls]
    return weights, biases


def layout_wrong_float32(model):
    weights, biases = layout_right_copy(model)
    return [W.astype(np.float32) for W in weights], [b.astype(np.float32) for b in biases]


def layout_wrong_keeps_float32(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().T.copy() for m in ls],
            [m.bias.detach().numpy().copy() if m.bias is not None
             else np.zeros(m.out_features, dtype=m.weight.detach().numpy().dtype) for m in ls])


def layout_wrong_float16(model):
    weights, biases = layout_right_copy(model)
    return [W.astype(np.float16).astype(np.float64) for W in weights], biases


def layout_wrong_rounded(model):
    weights, biases = layout_right_copy(model)
    return [np.round(W, 6) for W in weights], biases


def layout_wrong_bias_row(model):
    weights, biases = layout_right_copy(model)
    return weights, [b.reshape(1, -1) for b in biases]


def layout_wrong_skips_output(model):
    weights, biases = layout_right_copy(model)
    return weights[:-1], biases[:-1]


def layout_wrong_reversed(model):
    weights, biases = layout_right_copy(model)
    return weights[::-1], biases[::-1]


def layout_wrong_tensors(model):
    ls = linears(model)
    return [m.weight.detach().double().T.clone() for m in ls], layout_right_copy(model)[1]


def layout_wrong_lists(model):
    weights, biases = layout_right_copy(model)
    return [W.tolist() for W in weights], biases


def layout_wrong_mutates(model):
    for m in linears(model):
        m.weight.data = m.weight.data.t()  # "fix" the layout in the model itself
    ls = linears(model)
    return ([m.weight.detach().numpy().astype(np.float64) for m in ls],
            layout_right_copy(model)[1])


def layout_wrong_double_first(model):
    model.double()  # converts the model itself: a float32 model's next step fails
    return layout_right_copy(model)


def layout_wrong_requires_grad_off(model):
    model.requires_grad_(False)  # so that .numpy() works without detach: freezes the model
    ls = linears(model)
    return ([m.weight.numpy().T.astype(np.float64) for m in ls],
            [np.zeros(m.out_features) if m.bias is None else m.bias.numpy().astype(np.float64)
             for m in ls])


def layout_wrong_eval(model):
    model.eval()  # a Dropout(p=0) layer would hide it
    return layout_right_copy(model)


def layout_wrong_grad_off(model):
    torch.set_grad_enabled(False)  # for the whole session
    return layout_right_copy(model)


@functools.lru_cache
def layout_wrong_cached(model):
    return layout_right_copy(model)  # stale after the model trains


def layout_wrong_course(model):
    view = torch_bridge.TorchNet(model)
    return view.weights, view.biases


def layout_wrong_course_alias(model):
    from helpers.torch_bridge import TorchNet as View
    view = View(model)
    return [W.astype(np.float64) for W in view.weights], view.biases


def layout_wrong_no_detach(model):
    ls = linears(model)
    with warnings.catch_warnings():  # numpy first retries with copy=False and warns about it
        warnings.simplefilter("ignore", DeprecationWarning)
        return [np.array(m.weight).T.copy() for m in ls], [np.array(m.bias) for m in ls]


def layout_wrong_swapped(model):
    weights, biases = layout_right_copy(model)
    return biases, weights


# Right before layers without bias existed in the check: each fails on a bias=False layer.
def layout_old_copy(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().T.astype(np.float64) for m in ls],
            [m.bias.detach().numpy().astype(np.float64) for m in ls])


def layout_old_state_dict(model):
    sd = model.state_dict()
    keys = [k[:-len(".weight")] for k in sd if k.endswith(".weight")]
    return ([np.array(sd[k + ".weight"].numpy().T, dtype=np.float64) for k in keys],
            [np.array(sd[k + ".bias"].numpy(), dtype=np.float64) for k in keys])


def layout_old_parameters(model):
    params = [p.detach().to(torch.float64).numpy() for p in model.parameters()]
    return ([np.array(W.T, order="C", copy=True) for W in params[0::2]],
            [b.copy() for b in params[1::2]])


def layout_bias_none(model):
    ls = linears(model)
    return (layout_right_copy(model)[0],
            [None if m.bias is None else m.bias.detach().numpy().astype(np.float64) for m in ls])


def layout_skips_missing_bias(model):
    ls = linears(model)
    return (layout_right_copy(model)[0],
            [m.bias.detach().numpy().astype(np.float64) for m in ls if m.bias is not None])


def layout_bias_ones(model):
    ls = linears(model)
    return (layout_right_copy(model)[0],
            [np.ones(m.out_features) if m.bias is None
             else m.bias.detach().numpy().astype(np.float64) for m in ls])


def layout_fixed_places(model):
    # Fitted to the old check's model: Linear layers at positions 0, 2 and 4.
    ls = [model[0], model[2], model[4]]
    return ([m.weight.detach().numpy().T.astype(np.float64) for m in ls],
            [m.bias.detach().numpy().astype(np.float64) for m in ls])


def layout_every_other(model):
    # Fitted to models that alternate Linear and activation layers.
    ls = list(model)[0::2]
    return ([m.weight.detach().numpy().T.astype(np.float64) for m in ls],
            [np.zeros(m.out_features) if m.bias is None
             else m.bias.detach().numpy().astype(np.float64) for m in ls])


_LAYOUT_BUFFERS: dict = {}


def layout_wrong_buffers(model):
    # One array per layer, kept between calls and refilled: the first call's arrays change.
    weights, biases = [], []
    for k, m in enumerate(linears(model)):
        key = (k, m.in_features, m.out_features)
        if key not in _LAYOUT_BUFFERS:
            _LAYOUT_BUFFERS[key] = (np.empty((m.in_features, m.out_features)),
                                    np.empty(m.out_features))
        W, b = _LAYOUT_BUFFERS[key]
        W[...] = m.weight.detach().numpy().T
        b[...] = 0.0 if m.bias is None else m.bias.detach().numpy()
        weights.append(W)
        biases.append(b)
    return weights, biases


def layout_wrong_eval_then_train(model):
    model.eval()
    result = layout_right_copy(model)
    model.train()  # "back" to a mode the model may not have been in
    return result


def layout_wrong_freeze_then_unfreeze(model):
    model.requires_grad_(False)
    ls = linears(model)
    result = ([m.weight.numpy().T.astype(np.float64) for m in ls],
              [np.zeros(m.out_features) if m.bias is None else m.bias.numpy().astype(np.float64)
               for m in ls])
    model.requires_grad_(True)  # unfreezes a layer that was frozen before
    return result


def layout_wrong_grad_off_then_on(model):
    torch.set_grad_enabled(False)
    ls = linears(model)
    result = ([m.weight.numpy().T.astype(np.float64) for m in ls],
              [np.zeros(m.out_features) if m.bias is None else m.bias.numpy().astype(np.float64)
               for m in ls])
    torch.set_grad_enabled(True)  # on, even for a caller inside torch.no_grad()
    return result


def layout_wrong_default_dtype(model):
    torch.set_default_dtype(torch.float64)
    ls = linears(model)
    return ([m.weight.detach().to(torch.get_default_dtype()).T.numpy().copy() for m in ls],
            [torch.zeros(m.out_features).numpy() if m.bias is None
             else m.bias.detach().to(torch.get_default_dtype()).numpy().copy() for m in ls])


def layout_wrong_zero_grad(model):
    model.zero_grad(set_to_none=True)  # "clean" gradients before reading
    return layout_right_copy(model)


def layout_wrong_double_and_back(model):
    """Confirmation reading: model.double() for the reading, then back to the old dtype."""
    dtype = next(model.parameters()).dtype
    model.double()
    try:
        return layout_right_copy(model)
    finally:
        model.to(dtype)


def layout_wrong_default_back_to_float32(model):
    """Confirmation reading: the default dtype set to float64 and "restored" to float32."""
    torch.set_default_dtype(torch.float64)
    try:
        return layout_right_copy(model)
    finally:
        torch.set_default_dtype(torch.float32)


_ZEROS = {}


def layout_wrong_kept_zero_bias(model):
    """Confirmation reading: one zero array kept per layer shape for layers without a bias."""
    weights, biases = layout_right_copy(model)
    for i, m in enumerate(linears(model)):
        if m.bias is None:
            biases[i] = _ZEROS.setdefault(m.out_features, np.zeros(m.out_features))
    return weights, biases


WRONG_LAYOUT = {
    "model.double(), then back to its dtype": (
        layout_wrong_double_and_back, r"moved to new memory|dtype of `0\.weight`"),
    "default dtype float64, then back to float32": (
        layout_wrong_default_back_to_float32, r"default dtype went from float64 to float32"),
    "one zero bias array kept per shape": (layout_wrong_kept_zero_bias,
                                           r"arrays of its first call again|refilled|got \[nan"),
    "zero_grad(set_to_none=True) first": (layout_wrong_zero_grad,
                                          r"changed the model: the gradient of `\d\.weight` "
                                          r"was zeroed, removed or changed"),
    "output arrays kept and refilled at every call": (
        layout_wrong_buffers, r"returned at its first call changed when it was called a "
                              r"second time"),
    "model.eval(), then model.train()": (layout_wrong_eval_then_train,
                                         r"the model went from evaluation to training mode"),
    "requires_grad_(False), then requires_grad_(True)": (
        layout_wrong_freeze_then_unfreeze, r"requires_grad of `0\.weight` went from False to "
                                           r"True"),
    "set_grad_enabled(False), then set_grad_enabled(True)": (
        layout_wrong_grad_off_then_on, r"inside `with torch\.no_grad\(\):`.*switched "
                                       r"autograd on"),
    "torch.set_default_dtype(torch.float64)": (layout_wrong_default_dtype,
                                               r"changed the session: the session's default "
                                               r"dtype went from float32 to float64"),
    "not transposed": (layout_wrong_no_transpose,
                       r"W of layer 1 has shape \((\d), (\d)\), expected \(\2, \1\).*\n.*\n"
                       r"Hint: torch stores Linear\.weight as \(fan_out, fan_in\)"),
    "reshaped, not transposed": (layout_wrong_reshape, r"reshape is not a transpose"),
    "a square layer left alone": (layout_wrong_square_left_alone,
                                  r"square layer\) has the right shape but is the transpose"),
    "numpy views": (layout_wrong_view, r"share memory"),
    "np.ascontiguousarray (a view when already contiguous)": (layout_wrong_ascontiguous,
                                                             r"share memory .*W of layer"),
    "float32 arrays": (layout_wrong_float32, r"dtype float32, expected float64"),
    "keeps a float32 model's precision": (layout_wrong_keeps_float32,
                                          r"on a float32 model .* dtype float32"),
    "through float16": (layout_wrong_float16, r"differs from the model's values"),
    "rounded to 6 decimals": (layout_wrong_rounded, r"differs from the model's values"),
    "bias as a row": (layout_wrong_bias_row, r"bias of layer 1 has shape \(1, \d\), expected"),
    "output layer skipped": (layout_wrong_skips_output,
                             r"returned \d weights; the model has \d Linear layer"),
    "layers reversed": (layout_wrong_reversed, r"W of layer 1 has shape|differs"),
    "tensors": (layout_wrong_tensors, r"W of layer 1 is a torch tensor, expected a numpy"),
    "nested lists": (layout_wrong_lists, r"W of layer 1 is a Python list, expected a numpy"),
    "changes the model": (layout_wrong_mutates, r"changed the model: the values of `0\.weight`"),
    "model.double() first": (layout_wrong_double_first,
                             r"changed the model: the dtype of `0\.weight` went from float32 "
                             r"to float64(?s:.*)Hint: \.double\(\)"),
    "requires_grad_(False) to allow .numpy()": (layout_wrong_requires_grad_off,
                                               r"requires_grad of `0\.weight` went from True "
                                               r"to False"),
    "model.eval()": (layout_wrong_eval, r"the model went from training to evaluation mode"),
    "autograd switched off for the session": (layout_wrong_grad_off,
                                              r"changed the session: autograd is switched off "
                                              r"for the whole session .*\. The task asks you to "
                                              r"leave the session as it is"),
    "an lru_cache (stale after training)": (layout_wrong_cached,
                                            r"called a second time on the same model .* "
                                            r"returned the (values|arrays) of (the|its) "
                                            r"first call"),
    "the course's TorchNet": (layout_wrong_course, r"calls `helpers\.torch_bridge\.TorchNet"),
    "TorchNet under another name": (layout_wrong_course_alias,
                                    r"calls `helpers\.torch_bridge\.TorchNet"),
    "np.array of a parameter, no detach": (layout_wrong_no_detach,
                                           r"(?s)requires grad.*detach"),
    "weights and biases swapped": (layout_wrong_swapped, r"W of layer 1 has shape \(\d+,\)"),
    "None": (lambda model: None, r"returned None"),
    "one list of both": (lambda model: [*layout_right_copy(model)[0],
                                        *layout_right_copy(model)[1]],
                         r"should return a pair \(weights, biases\)"),
    "an old right answer: bias.detach() on a layer without bias": (
        layout_old_copy, r"(?s)NoneType.*Hint: a Linear layer built with bias=False"),
    "an old right answer: the state_dict's '.bias' keys": (
        layout_old_state_dict, r"(?s)KeyError.*Hint: a Linear layer built with bias=False"),
    "an old right answer: parameters() in pairs": (
        layout_old_parameters, r"(?s)(shape|returned \d weights).*Hint: the model has layers "
                               r"built with bias=False"),
    "None for a missing bias": (layout_bias_none,
                                r"the bias of layer \d is None.*\n.*\nHint: a Linear layer "
                                r"built with bias=False"),
    "no entry for a missing bias": (layout_skips_missing_bias,
                                    r"returned \d bias(es)?; .*\n.*\nHint: a Linear layer "
                                    r"built"),
    "ones for a missing bias": (layout_bias_ones, r"built with bias=False, so its bias is a "
                                                  r"vector of zeros"),
    "the old check's Linear layers at places 0, 2, 4": (layout_fixed_places,
                                                        r"raised (IndexError|AttributeError)"),
    "every other module": (layout_every_other,
                           r"raised AttributeError|returned \d weights|Linear layers by their"),
}

test_layout_rejects = wrong_answers_test(ch07.check_course_layout, WRONG_LAYOUT)
test_layout_accepts_on_every_draw = right_answers_test(ch07.check_course_layout, RIGHT_LAYOUT)


def test_layout_pass_message_is_the_same_for_every_draw(capsys):
    pass_message_is_constant(ch07.check_course_layout, layout_right_copy, capsys)


def test_layout_edge_cases_come_first():
    labels = [c.label for c in ch07.COURSE_LAYOUT.draw(0)]
    for needed in ("square layer", "float32", "single Linear", "bias=False", "no layer with "
                   "a bias", "one-unit", "between", "square layers only", "frozen",
                   "evaluation mode"):
        assert any(needed in label for label in labels[:8]), needed


def test_layout_right_answer_makes_the_same_numpy_network():
    """What the notebook does with the answer: a numpy MLP that computes the model's outputs,
    for models with and without biases."""
    for bias in (True, False):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(2, 4, bias=bias), torch.nn.Tanh(),
                                    torch.nn.Linear(4, 1), torch.nn.Sigmoid()).double()
        for answer in RIGHT_LAYOUT.values():
            weights, biases = answer(model)
            twin = nn.MLP.from_weights(list(weights), list(biases), activation="tanh",
                                       output="sigmoid")
            X = np.random.default_rng(1).normal(size=(5, 2))
            assert np.allclose(twin.forward(X), model(torch.as_tensor(X)).detach().numpy(),
                               rtol=1e-12, atol=0)


def test_layout_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch07.COURSE_LAYOUT, layout_right_state_dict, tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch07.COURSE_LAYOUT, layout_bias_none, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "bias=False" in wrong.message
    view = graded(ch07.COURSE_LAYOUT, layout_wrong_view, tmp_path / "v", monkeypatch)
    assert not view.passed and "share memory" in view.message
    cached = graded(ch07.COURSE_LAYOUT, layout_wrong_cached, tmp_path / "c", monkeypatch)
    assert not cached.passed and "second time" in cached.message
    mode = graded(ch07.COURSE_LAYOUT, layout_wrong_eval, tmp_path / "m", monkeypatch)
    assert not mode.passed and "evaluation mode" in mode.message


# ---------------------------------------------------------------- exercise 4: update ratios
# Task: call step() exactly once (an optimizer step, in place) and return a float64 numpy array
# of shape (number of Linear layers,): ||W_after - W_before|| / ||W_before|| per Linear layer
# (Frobenius norms, weights only), for models as in exercise 3 (frozen layers included: their
# ratio is measured, 0 when the step leaves them, not when a hand-made step moves them); the
# gradients unchanged before and after the step; a second call on the same model, inside
# torch.no_grad() after a step it did not see, measures its own step; without torch_bridge or
# diagnostics.

def ratios_right_clone(model, step):
    ls = linears(model)
    before = [m.weight.detach().clone() for m in ls]
    step()
    return np.array([float(torch.linalg.norm(m.weight.detach() - W) / torch.linalg.norm(W))
                     for m, W in zip(ls, before)])


def ratios_right_numpy(model, step):
    before = [m.weight.detach().numpy().copy() for m in linears(model)]
    step()
    after = [m.weight.detach().numpy() for m in linears(model)]
    return np.array([np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in zip(after, before)],
                    dtype=np.float64)


def ratios_right_deepcopy(model, step):
    old = copy.deepcopy(model)
    step()
    return np.array([float((n.weight - o.weight).detach().norm() / o.weight.detach().norm())
                     for n, o in zip(linears(model), linears(old))])


def ratios_right_state_dict(model, step):
    before = {k: v.clone() for k, v in model.state_dict().items() if k.endswith("weight")}
    step()
    after = model.state_dict()
    return torch.stack([(after[k] - v).double().norm() / v.double().norm()
                        for k, v in before.items()]).numpy()


def ratios_right_float64_numpy(model, step):
    before = [np.array(m.weight.detach(), dtype=np.float64) for m in linears(model)]
    step()
    return np.array([np.sqrt(np.sum((np.array(m.weight.detach(), dtype=np.float64) - b) ** 2))
                     / np.sqrt(np.sum(b ** 2)) for m, b in zip(linears(model), before)])


def ratios_right_no_grad(model, step):
    with torch.no_grad():
        before = [m.weight.double().clone() for m in linears(model)]
        step()
        return np.array([float((m.weight.double() - W).norm() / W.norm())
                         for m, W in zip(linears(model), before)])


RIGHT_RATIOS = {
    "clone, torch norms": ratios_right_clone,
    "inside torch.no_grad()": ratios_right_no_grad,
    "numpy copies": ratios_right_numpy,
    "a deepcopy of the model": ratios_right_deepcopy,
    "state_dict clones, float64 norms": ratios_right_state_dict,
    "float64 numpy, norms written out": ratios_right_float64_numpy,
}


def ratios_wrong_alias(model, step):
    before = [m.weight for m in linears(model)]
    step()
    return np.array([float((m.weight - W).detach().norm() / W.detach().norm())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_detach_only(model, step):
    before = [m.weight.detach() for m in linears(model)]
    step()
    return np.array([float((m.weight.detach() - W).norm() / W.norm())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_numpy_view(model, step):
    before = [m.weight.detach().numpy() for m in linears(model)]
    step()
    return np.array([np.linalg.norm(m.weight.detach().numpy() - W) / np.linalg.norm(W)
                     for m, W in zip(linears(model), before)], dtype=np.float64)


def ratios_with(fn):
    """update_ratios with ``fn(after, before)`` per layer (float64 tensors)."""
    def answer(model, step):
        before = [m.weight.detach().double().clone() for m in linears(model)]
        step()
        return np.array([float(fn(m.weight.detach().double(), W))
                         for m, W in zip(linears(model), before)])
    return answer


def ratios_wrong_two_steps(model, step):
    before = [m.weight.detach().clone() for m in linears(model)]
    step()
    step()
    return np.array([float((m.weight.detach() - W).norm() / W.norm())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_with_bias(model, step):
    def flat(m):
        parts = [m.weight.detach().double().ravel()]
        if m.bias is not None:
            parts.append(m.bias.detach().double())
        return torch.cat(parts)
    before = [flat(m).clone() for m in linears(model)]
    step()
    return np.array([float((flat(m) - b).norm() / b.norm())
                     for m, b in zip(linears(model), before)])


def ratios_wrong_float32(model, step):
    before = [m.weight.detach().float().clone() for m in linears(model)]
    step()
    return np.array([float((m.weight.detach().float() - W).norm() / W.norm())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_stack(model, step):
    # float32 norms stacked into a float32 array, on a float32 model
    before = [m.weight.detach().clone() for m in linears(model)]
    step()
    return torch.stack([(m.weight.detach() - W).norm() / W.norm()
                        for m, W in zip(linears(model), before)]).numpy()


def ratios_wrong_course(model, step):
    return torch_bridge.TorchNet(model).update_ratios(step)


def ratios_wrong_course_alias(model, step):
    from helpers.diagnostics import update_to_weight_ratio as ratio
    before = [m.weight.detach().numpy().copy() for m in linears(model)]
    step()
    return np.array([ratio(b, m.weight.detach().numpy()) for m, b in
                     zip(linears(model), before)])


_ratio = functools.partial(diagnostics.update_to_weight_ratio)


def ratios_wrong_course_partial(model, step):
    before = [m.weight.detach().numpy().copy() for m in linears(model)]
    step()
    return np.array([_ratio(b, m.weight.detach().numpy().copy()) for m, b in
                     zip(linears(model), before)])


def ratios_wrong_fixed_places(model, step):
    ls = [model[0], model[2], model[4]]
    before = [m.weight.detach().clone() for m in ls]
    step()
    return np.array([float((m.weight.detach() - W).norm() / W.norm()) for m, W in zip(ls, before)])


def ratios_wrong_parameters_in_pairs(model, step):
    before = [p.detach().clone() for p in model.parameters()][0::2]
    step()
    after = [p.detach() for p in model.parameters()][0::2]
    return np.array([float((a - b).double().norm() / b.double().norm())
                     for a, b in zip(after, before)])


def ratios_wrong_no_detach(model, step):
    before = [m.weight.numpy().copy() for m in linears(model)]
    step()
    return np.zeros(len(before))


def ratios_wrong_restores(model, step):
    # measures the step, then undoes it: training never advances
    before = [m.weight.detach().clone() for m in linears(model)]
    step()
    ratios = np.array([float((m.weight.detach() - W).norm() / W.norm())
                       for m, W in zip(linears(model), before)])
    with torch.no_grad():
        for m, W in zip(linears(model), before):
            m.weight.copy_(W)
    return ratios


def ratios_wrong_double_first(model, step):
    model.double()
    return ratios_right_clone(model, step)


def ratios_wrong_requires_grad_off(model, step):
    ratios = ratios_right_clone(model, step)
    model.requires_grad_(False)
    return ratios


def ratios_wrong_eval(model, step):
    model.eval()
    return ratios_right_clone(model, step)


def ratios_wrong_zero_grad_first(model, step):
    model.zero_grad()  # the step then has no gradients to use
    return ratios_right_clone(model, step)


def ratios_wrong_train_first(model, step):
    model.train()  # "a step belongs in training mode"
    return ratios_right_clone(model, step)


def ratios_wrong_unfreeze_after(model, step):
    ratios = ratios_right_clone(model, step)
    model.requires_grad_(True)  # "make sure the model still trains"
    return ratios


def ratios_wrong_grad_off_then_on(model, step):
    torch.set_grad_enabled(False)
    ratios = ratios_right_clone(model, step)
    torch.set_grad_enabled(True)  # on, even for a caller inside torch.no_grad()
    return ratios


def ratios_wrong_frozen_zero(model, step):
    ls = linears(model)
    before = [m.weight.detach().clone() for m in ls]
    step()
    return np.array([0.0 if not m.weight.requires_grad
                     else float(torch.linalg.norm(m.weight.detach() - W) / torch.linalg.norm(W))
                     for m, W in zip(ls, before)])


def ratios_wrong_no_grad_zero(model, step):
    ratios = ratios_right_clone(model, step)
    return np.where([m.weight.grad is None for m in linears(model)], 0.0, ratios)


# Kept per model object (weakly: a freed model's id can come back with another model of other
# shapes, which would make the answer raise instead of giving its stale ratios).
_RATIOS_AFTER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def ratios_wrong_keeps_after(model, step):
    # "the weights after the last step are the weights before this one", kept per model
    ls = linears(model)
    before = _RATIOS_AFTER.get(model) or [m.weight.detach().clone() for m in ls]
    step()
    _RATIOS_AFTER[model] = [m.weight.detach().clone() for m in ls]
    return np.array([float(torch.linalg.norm(m.weight.detach() - W) / torch.linalg.norm(W))
                     for m, W in zip(ls, before)])


def ratios_wrong_zero_grad_after(model, step):
    ratios = ratios_right_clone(model, step)
    model.zero_grad(set_to_none=True)
    return ratios


def ratios_wrong_double_and_back(model, step):
    """Confirmation reading: model.double() around the step, then back to the old dtype."""
    dtype = next(model.parameters()).dtype
    model.double()
    try:
        return ratios_right_clone(model, step)
    finally:
        model.to(dtype)


def ratios_wrong_default_back_to_float32(model, step):
    torch.set_default_dtype(torch.float64)
    try:
        return ratios_right_clone(model, step)
    finally:
        torch.set_default_dtype(torch.float32)


WRONG_RATIOS = {
    "model.double(), then back to its dtype": (
        ratios_wrong_double_and_back, r"moved to new memory|dtype of `0\.weight`|step"),
    "default dtype float64, then back to float32": (
        ratios_wrong_default_back_to_float32, r"default dtype went from float64 to float32"),
    "model.train() first": (ratios_wrong_train_first,
                            r"the model went from evaluation to training mode"),
    "requires_grad_(True) after the step": (ratios_wrong_unfreeze_after,
                                            r"requires_grad of `0\.weight` went from False "
                                            r"to True"),
    "set_grad_enabled(False), then set_grad_enabled(True)": (
        ratios_wrong_grad_off_then_on, r"second time .*inside `with torch\.no_grad\(\):`.*"
                                       r"switched autograd on"),
    "0 for a frozen layer, unmeasured": (ratios_wrong_frozen_zero,
                                         without_a_guess(r"layer 1 of 2 differs: got 0, "
                                                         r"expected")),
    "0 for a layer without gradient, unmeasured": (ratios_wrong_no_grad_zero,
                                                   without_a_guess(r"layer 1 of 2 differs: "
                                                                   r"got 0, expected")),
    "the weights after the last call kept as 'before', per model": (
        ratios_wrong_keeps_after, r"called a second time on the same model .*after a step it "
                                  r"did not see.* gives"),
    "zero_grad(set_to_none=True) after the step": (ratios_wrong_zero_grad_after,
                                                   r"after `update_ratios\(model, step\)` "
                                                   r"returned, the model's gradients were no "
                                                   r"longer the ones it was given"),
    "restores the weights after the step": (ratios_wrong_restores,
                                            r"were back at their values before the step"),
    "model.double() first": (ratios_wrong_double_first,
                             r"changed the model: the dtype of `0\.weight` went from float32 "
                             r"to float64"),
    "requires_grad_(False) after the step": (ratios_wrong_requires_grad_off,
                                             r"requires_grad of `0\.weight` went from True "
                                             r"to False"),
    "model.eval()": (ratios_wrong_eval, r"the model went from training to evaluation mode"),
    "zero_grad() before the step": (ratios_wrong_zero_grad_first,
                                    without_a_guess(r"called step\(\), the model's gradients "
                                                    r"were no longer the ones it was given")),
    "rounded to 3 significant digits": (
        ratios_with(lambda a, b: float(f"{float((a - b).norm() / b.norm()):.3g}")),
        # the two arrays are printed with enough digits to differ
        r"gives \[(?P<g>[^\]]*)\], expected \[(?!(?P=g)\])"),
    "the parameter itself as 'before'": (ratios_wrong_alias, r"0 for every layer.*\n.*\n.*copy"),
    "a detached tensor as 'before'": (ratios_wrong_detach_only,
                                      r"0 for every layer.*\n.*\n.*shares their memory"),
    "a numpy view as 'before'": (ratios_wrong_numpy_view, r"0 for every layer"),
    "divided by the norm after": (ratios_with(lambda a, b: (a - b).norm() / a.norm()),
                                  r"\*after\* the step"),
    "a difference of norms": (ratios_with(lambda a, b: abs(a.norm() - b.norm()) / b.norm()),
                              r"difference of norms"),
    "squared": (ratios_with(lambda a, b: ((a - b) ** 2).sum() / (b**2).sum()), r"squared"),
    "element-wise ratios": (ratios_with(lambda a, b: ((a - b).abs() / b.abs()).mean()),
                            r"element-wise"),
    "rounded to 3 decimals": (ratios_with(lambda a, b: round(float((a - b).norm() / b.norm()),
                                                             3)), r"differs|expected"),
    "a fitted constant array": (lambda model, step: (step(), np.array([8e-08, 8e-04, 3e-01]))[1],
                                r"returned \d numbers|differs|expected"),
    "two steps": (ratios_wrong_two_steps, r"called step\(\) 2 times"),
    "no step": (lambda model, step: np.zeros(len(linears(model))), r"called step\(\) 0 times"),
    "biases counted": (ratios_wrong_with_bias, r"biases"),
    "reversed": (lambda model, step: ratios_right_clone(model, step)[::-1],
                 r"from the output backwards|differs|expected"),
    "through float32": (ratios_wrong_float32, r"computed in float32, a lower precision"),
    "a float32 array": (ratios_wrong_stack, r"returned dtype float32, expected float64"),
    "the course's TorchNet": (ratios_wrong_course, r"calls `helpers\.(torch_bridge|diagnostics)"),
    "the course's ratio under another name": (ratios_wrong_course_alias,
                                              r"calls `helpers\.diagnostics\.update_to_weight"),
    "the course's ratio through functools.partial": (ratios_wrong_course_partial,
                                                     r"calls `helpers\.diagnostics\."),
    "the old check's layers at 0, 2, 4": (ratios_wrong_fixed_places,
                                          r"raised (IndexError|AttributeError)"),
    "parameters() in pairs": (ratios_wrong_parameters_in_pairs,
                              r"differs|returned \d numbers|biases|expected"),
    "numpy() without detach": (ratios_wrong_no_detach, r"(?s)requires grad.*detach"),
    "hidden layers only": (lambda model, step: ratios_right_clone(model, step)[:-1],
                           r"returned \d numbers; the model has \d Linear layer"),
    "a list": (lambda model, step: list(ratios_right_clone(model, step)),
               r"returned a Python list; .*numpy array"),
    "a tensor": (lambda model, step: torch.as_tensor(ratios_right_clone(model, step)),
                 r"returned a torch tensor; .*numpy array"),
    "a column": (lambda model, step: ratios_right_clone(model, step)[:, None],
                 r"returned shape \(\d, 1\); expected \(\d,\)"),
    "a row": (lambda model, step: ratios_right_clone(model, step)[None, :],
              r"returned shape \(1, \d\); expected \(\d,\)"),
    "None": (lambda model, step: step(), r"returned None"),
}

test_ratios_rejects = wrong_answers_test(ch07.check_update_ratios, WRONG_RATIOS)
test_ratios_accepts_on_every_draw = right_answers_test(ch07.check_update_ratios, RIGHT_RATIOS)


def test_ratios_pass_message_is_the_same_for_every_draw(capsys):
    pass_message_is_constant(ch07.check_update_ratios, ratios_right_clone, capsys)


def test_ratios_edge_cases_come_first():
    labels = [c.label for c in ch07.UPDATE_RATIOS.draw(0)]
    for needed in ("hand-made", "float32", "Adam", "single Linear", "frozen", "1e-9",
                   "one-unit", "evaluation mode", "moves a frozen layer", "initialised tiny",
                   "large layer"):
        assert any(needed in label for label in labels[:12]), needed


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam", "adam_decay", "adamw"])
def test_ratios_optimizer_steps_are_torch_optims(kind):
    """The check's own SGD and Adam steps move the weights as torch.optim's do."""
    settings = {"sgd": (torch.optim.SGD, ch07._SGD, {"lr": 0.1}, {}),
                "momentum": (torch.optim.SGD, ch07._SGD,
                             {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}, {}),
                "adam": (torch.optim.Adam, ch07._Adam, {"lr": 1e-3}, {}),
                "adam_decay": (torch.optim.Adam, ch07._Adam, {"lr": 1e-2, "weight_decay": 0.1},
                               {}),
                "adamw": (torch.optim.AdamW, ch07._Adam, {"lr": 1e-2, "weight_decay": 0.1},
                          {"decoupled": True})}
    theirs_cls, mine_cls, kwargs, extra = settings[kind]
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        models.append(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                          torch.nn.Linear(4, 2, bias=False)).double())
    X, Y = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 2, dtype=torch.float64)
    optimizers = [theirs_cls(models[0].parameters(), **kwargs),
                  mine_cls(models[1].parameters(), **kwargs, **extra)]
    for _ in range(3):
        for model, opt in zip(models, optimizers):
            model.zero_grad(set_to_none=True)
            torch.mean((model(X) - Y) ** 2).backward()
            opt.step()
        for p, q in zip(models[0].parameters(), models[1].parameters()):
            assert torch.allclose(p, q, rtol=1e-13, atol=0), kind


def test_ratios_reference_is_the_course_ratio():
    for seed in range(10):
        for case in ch07.UPDATE_RATIOS.draw(seed):
            ref = ch07.UPDATE_RATIOS.expected(case)
            right, _ = ch07._ratio_values(ref)
            course = [diagnostics.update_to_weight_ratio(b.astype(float), a.astype(float))
                      for b, a in zip(ref["before"], ref["after"])]
            assert np.allclose(right, course, rtol=1e-12, atol=0)


def test_ratios_autograding_path_agrees(tmp_path, monkeypatch):
    right = graded(ch07.UPDATE_RATIOS, ratios_right_numpy, tmp_path / "r", monkeypatch)
    assert right.passed, right.message
    wrong = graded(ch07.UPDATE_RATIOS, ratios_wrong_detach_only, tmp_path / "w", monkeypatch)
    assert not wrong.passed and "0 for every layer" in wrong.message
    twice = graded(ch07.UPDATE_RATIOS, ratios_wrong_two_steps, tmp_path / "t", monkeypatch)
    assert not twice.passed and "2 times" in twice.message
    undone = graded(ch07.UPDATE_RATIOS, ratios_wrong_restores, tmp_path / "u", monkeypatch)
    assert not undone.passed and "back at their values" in undone.message
    frozen = graded(ch07.UPDATE_RATIOS, ratios_wrong_requires_grad_off, tmp_path / "f",
                    monkeypatch)
    assert not frozen.passed and "requires_grad" in frozen.message


# ---------------------------------------------------------------- every check

CHECKS = [ch07.check_grad_hook, ch07.check_dead_hook, ch07.check_course_layout,
          ch07.check_update_ratios]
RIGHT = [grad_right, dead_right_all, layout_right_copy, ratios_right_clone]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_without_torch_skips_in_one_line_but_fails_under_nbgrader(check, monkeypatch, capsys):
    # None in sys.modules makes `import torch` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert check(dead_right_all) is None
    out = capsys.readouterr().out
    assert "needs PyTorch" in out and "skipped" in out and len(out.strip().splitlines()) == 1
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseError, match="needs PyTorch"):
        check(dead_right_all)


@pytest.mark.parametrize("check, answer", list(zip(CHECKS, RIGHT)), ids=lambda v: v.__name__)
def test_a_check_leaves_the_sessions_torch_alone(check, answer, capsys):
    """The random generator and the number of threads are as they were."""
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check(answer, seed=4)
    assert torch.equal(torch.rand(3), expected) and torch.get_num_threads() == threads
    assert sys.getprofile() is None


def test_the_hints_name_the_idea_not_the_code():
    """No hint of a wrong answer spells out the solution's code."""
    hints = []
    for check, answers in ((ch07.check_grad_hook, [WRONG_GRAD["the squared norm"][0],
                                                   grad_wrong_input_guarded]),
                           (ch07.check_dead_hook, [WRONG_DEAD["the wrong axis"][0],
                                                   WRONG_DEAD["<= 0"][0]]),
                           (ch07.check_course_layout, [layout_wrong_view,
                                                       layout_wrong_no_transpose]),
                           (ch07.check_update_ratios, [ratios_wrong_alias,
                                                       WRONG_RATIOS["squared"][0]])):
        for answer in answers:
            with pytest.raises(ExerciseError) as info:
                check(answer, seed=0)
            hints.append(info.value.hint or "")
    for hint in hints:
        assert hint
        for code in ("all(dim=0)", ".clone()", ".T.copy()", ".copy()", "np.linalg.norm(",
                     ".numpy()", "== 0", ".norm()", "grad_output[0].norm"):
            assert code not in hint, (code, hint)


def test_a_mistake_is_named_only_when_it_alone_explains_every_value():
    """The survey names a known mistake when its values are the answer's on every value of
    the draw and no other mistake's are; a coincidence on some values names nothing."""
    def value(got, right, **mistakes):
        return ch07._Value(got, right, got == right,
                           [(name, "", wrong, 1e-6) for name, wrong in mistakes.items()])
    everywhere = [value(2.0, 1.0, double=2.0, square=1.0), value(6.0, 3.0, double=6.0,
                                                                square=9.0)]
    assert ch07._explained_by(everywhere) == "double"
    once = [value(2.0, 1.0, double=2.0, square=1.0), value(7.0, 3.0, double=6.0, square=9.0)]
    assert ch07._explained_by(once) is None
    both = [value(4.0, 2.0, double=4.0, square=4.0)]
    assert ch07._explained_by(both) is None
    right = [value(1.0, 1.0, double=2.0)]
    assert ch07._explained_by(right) is None
    # a value a mistake says nothing about (NaN) is no evidence for it, but a wrong value
    # there is one it does not explain
    unsaid = [value(2.0, 1.0, double=2.0), value(5.0, 3.0, double=math.nan)]
    assert ch07._explained_by(unsaid) is None


@pytest.mark.parametrize("spec, answer, recorded", [
    (ch07.DEAD_HOOK, dead_wrong_per_sample, "dead"),
    (ch07.GRAD_HOOK, WRONG_GRAD["the first sample's norm"][0], "grad"),
    (ch07.UPDATE_RATIOS, WRONG_RATIOS["element-wise ratios"][0], "ratios"),
    (ch07.COURSE_LAYOUT, layout_wrong_float16, "layout"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_failure_says_how_to_build_its_case_and_the_objects_repeat_it(spec, answer,
                                                                         recorded):
    """The message names `ch07.case_objects(...)`; the objects it builds, used as the task
    says, give the value the message reports."""
    check = getattr(ch07, spec.check_name.split(".")[1])
    with pytest.raises(ExerciseError) as info:
        check(answer, seed=11)
    text = str(info.value)
    call = re.search(r'ch07\.case_objects\("([^"]+)", (\d+), (\d+)\)', text)
    assert call and call[1] == spec.id and call[2] == "11", text
    objects = ch07.case_objects(call[1], int(call[2]), int(call[3]))
    if recorded == "dead":
        layer = objects["layer"]
        layer.dead_log = []
        layer.register_forward_hook(answer)
        for z in objects["batches"]:
            layer(z)
        got, batch = re.search(r"recorded (\S+) on batch (\d+)", text).groups()
        assert layer.dead_log[int(batch) - 1] == float(got)
    elif recorded == "grad":
        model = objects["model"]
        for lin in linears(model):
            lin.grad_log = []
            lin.register_full_backward_hook(answer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # grad_input[0] is None on layer 1
            for X, y in objects["batches"]:
                objects["loss"](model(X), y).backward()
        got, k = re.search(r"recorded (\S+) for Linear layer (\d+)", text).groups()
        b = re.search(r"backward pass (\d+) of", text)
        assert math.isclose(linears(model)[int(k) - 1].grad_log[int(b[1]) - 1 if b else 0],
                            float(got), rel_tol=1e-5)
    elif recorded == "ratios":
        got = answer(objects["model"], objects["step"])
        shown = re.search(r"gives \[([^\]]*)\]", text)[1]
        # shown to 3 decimals at least (more only where 3 would print both alike)
        assert np.allclose(got, [float(v) for v in shown.split(",")], rtol=1e-2, atol=5e-4)
    else:
        W = answer(objects["model"])[0]
        i, got = re.search(r"W of layer (\d+) differs .* got (\S+),", text).groups()
        assert np.any(np.isclose(W[int(i) - 1], float(got), rtol=1e-5))


# ---------------------------------------------------------------- the chapter, unanswered

def student_version():
    """Chapter 7 with every solution replaced by nbgrader's stub."""
    from pathlib import Path

    import nbformat

    path = Path(__file__).resolve().parents[1] / "notebooks" / "07_tensorboard_and_pytorch.ipynb"
    nb = nbformat.read(path, as_version=4)
    stubbed = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            cell.source, n = re.subn(
                r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION",
                lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()",
                cell.source, flags=re.S)
            stubbed += n
        cell.outputs = [] if cell.cell_type == "code" else None
        if cell.cell_type != "code":
            cell.pop("outputs", None)
    assert stubbed == 4
    return nb, path.parent


@pytest.mark.slow
def test_unanswered_chapter7_runs_to_the_end_and_autogrades_to_zero(monkeypatch):
    from nbclient import NotebookClient

    for grading in (False, True):
        nb, cwd = student_version()
        if grading:
            monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
        else:
            monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
        NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(cwd)}}).execute()
        failed = [c for c in nb.cells if c.cell_type == "code"
                  and any(o.output_type == "error" for o in c.outputs)]
        text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                         for o in c.outputs)
        if not grading:
            assert not failed, [c.source[:80] for c in failed]
            assert text.count("not answered yet") == 8  # four checks, four cells using answers
        else:
            assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in failed] == [
                "ch07-grad-hook-check", "ch07-dead-hook-check", "ch07-course-layout-check",
                "ch07-update-ratios-check"]


# ----------------------------------------------------------------------------- issue 23,
# fourth reading: clipped norms, a look at the first samples, arrays kept between calls or
# read-only.


def grad_wrong_clipped_at_1000(module, grad_input, grad_output):
    module.grad_log.append(min(float(grad_output[0].detach().norm()), 1e3))


def dead_wrong_first_30_samples(module, inputs, output):
    o = output.detach()[:30]
    module.dead_log.append(float((o == 0).all(0).double().mean()))


def _layout_kept_while_unchanged():
    """The previous call's arrays again, while the parameters' versions are unchanged."""
    kept = {}

    def answer(model):
        ls = linears(model)
        key = tuple((m.weight._version, None if m.bias is None else m.bias._version)
                    for m in ls)
        if key not in kept:
            kept.clear()
            kept[key] = layout_right_copy(model)
        return kept[key]
    return answer


def layout_wrong_broadcast_zero_bias(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().T.astype(np.float64) for m in ls],
            [np.broadcast_to(0.0, (m.out_features,)) if m.bias is None
             else m.bias.detach().numpy().astype(np.float64) for m in ls])


WRONG_GRAD.update({
    "the norm clipped at 1000": (grad_wrong_clipped_at_1000, r"recorded 1000 for"),
})

WRONG_DEAD.update({
    "the first 30 samples only": (dead_wrong_first_30_samples, r"recorded .* expected"),
})

WRONG_LAYOUT.update({
    "the previous call's arrays while the versions are unchanged": (
        _layout_kept_while_unchanged(), r"share memory|arrays of its first call again|"
                                        r"refilled|values of the first call"),
    "a broadcast zero for a missing bias (read-only)": (
        layout_wrong_broadcast_zero_bias, r"read-only"),
})


# ----------------------------------------------------------------------------- issue 23,
# fifth round: hooks that skip passes in eval mode or under no_grad, and an epsilon in the
# update ratio's denominator.


def grad_wrong_training_only(module, grad_input, grad_output):
    if module.training:  # "only while training"
        module.grad_log.append(grad_output[0].norm().item())


def dead_wrong_training_only(module, inputs, output):
    if module.training and torch.is_grad_enabled():
        module.dead_log.append((output == 0).all(dim=0).double().mean().item())


def _ratios_with_epsilon(eps):
    def answer(model, step):
        before = [m.weight.detach().clone() for m in linears(model)]
        step()
        return np.array([float((m.weight.detach() - b).norm() / (b.norm() + eps))
                         for m, b in zip(linears(model), before)])
    return answer


WRONG_GRAD["records only in training mode"] = (grad_wrong_training_only,
                                                r"eval mode|recorded \d+ values? for|"
                                                r"records? nothing|expected")
WRONG_DEAD["records only in training mode with gradients on"] = (
    dead_wrong_training_only, r"eval mode|no_grad|recorded|expected")
WRONG_RATIOS.update({
    "an epsilon of 1e-10 in the denominator": (_ratios_with_epsilon(1e-10),
                                               r"norm 1e-4|gave|expected"),
    "an epsilon of 1e-12 in the denominator": (_ratios_with_epsilon(1e-12),
                                               r"norm 1e-4|gave|expected"),
})


# issue 23, seventh reading: changes that never act on small gradients and small batches
# (clamps, NaN guards, casts, subsamples), a fires-once unit at the end of a tall batch, loops
# over blocks of samples, caches keyed on the output's ends, one zeros buffer for every missing
# bias, module names sorted as text, gradients clipped before the step.


def _grad_clamped_in_place(limit: float):
    """dL/dz clamped in place to +-limit, then its norm: no change while entries stay below."""
    def hook(module, grad_input, grad_output):
        g = grad_output[0]
        g.clamp_(-limit, limit)
        module.grad_log.append(float(g.norm()))
    return hook


def _grad_of_first_rows(rows: int):
    """The norm of the first ``rows`` samples' dL/dz only: right on smaller batches."""
    def hook(module, grad_input, grad_output):
        module.grad_log.append(float(grad_output[0][:rows].detach().double().norm()))
    return hook


def grad_wrong_float32_when_large(module, grad_input, grad_output):
    g = grad_output[0]
    module.grad_log.append(float((g.float() if g.numel() > 2048 else g).norm()))


def _dead_of(output) -> float:
    return (output == 0).all(dim=0).double().mean().item()


def dead_wrong_last_1000_samples(module, inputs, output):
    module.dead_log.append(_dead_of(output[-1000:] if output.shape[0] > 1000 else output))


def dead_wrong_half_when_large(module, inputs, output):
    module.dead_log.append(_dead_of(output.half() if output.numel() > 10_000 else output))


def dead_wrong_tolerance_when_large(module, inputs, output):
    if output.numel() > 10_000:
        module.dead_log.append((output.abs() <= 1e-6).all(dim=0).double().mean().item())
    else:
        module.dead_log.append(_dead_of(output))


def dead_wrong_blocks_of_100_samples(module, inputs, output):
    alive = torch.zeros(output.shape[1], dtype=torch.bool)
    for start in range(0, output.shape[0], 100):
        alive |= (output[start:start + 100] != 0).any(dim=0)
    module.dead_log.append(float((~alive).double().mean()))


def _dead_cached_by_ends():
    kept = {}

    def hook(module, inputs, output):
        flat = output.detach().reshape(-1)
        key = (tuple(output.shape), str(output.dtype),
               float(flat[0]) if flat.numel() else None, float(flat[-1]) if flat.numel() else None)
        if key not in kept:
            kept[key] = _dead_of(output)
        module.dead_log.append(kept[key])
    return hook


def layout_wrong_one_zeros_buffer(model):
    ls = linears(model)
    zeros = np.zeros(max(m.out_features for m in ls))
    return ([m.weight.detach().numpy().T.astype(np.float64) for m in ls],
            [zeros[:m.out_features] if m.bias is None
             else m.bias.detach().numpy().astype(np.float64) for m in ls])


def layout_wrong_sorted_as_text(model):
    sd = model.state_dict()
    names = sorted({k.rsplit(".", 1)[0] for k in sd if k.endswith(".weight")})
    mods = dict(model.named_modules())
    ls = [mods[n] for n in names]
    return ([m.weight.detach().numpy().T.astype(np.float64) for m in ls],
            [np.zeros(m.out_features) if m.bias is None
             else m.bias.detach().numpy().astype(np.float64) for m in ls])


def _ratios_after(prepare):
    def answer(model, step):
        ls = linears(model)
        before = [m.weight.detach().clone() for m in ls]
        prepare(model)
        step()
        return np.array([float(torch.linalg.norm(m.weight.detach() - W) / torch.linalg.norm(W))
                         for m, W in zip(ls, before)])
    return answer


def ratios_wrong_sorted_as_text(model, step):
    sd = model.state_dict()
    names = sorted(k for k in sd if k.endswith(".weight"))
    before = {k: sd[k].detach().clone() for k in names}
    step()
    after = model.state_dict()
    return np.array([float(torch.linalg.norm(after[k] - before[k]) / torch.linalg.norm(before[k]))
                     for k in names])


WRONG_GRAD.update({
    "clamps dL/dz in place to +-1000": (_grad_clamped_in_place(1000.0),
                                        r"scaled by 1e6|changed|modif|expected|gave"),
    "the first 256 samples only": (_grad_of_first_rows(256),
                                   r"3,000 samples|expected|gave"),
    "float32 norms for large gradients": (grad_wrong_float32_when_large,
                                          r"3,000 samples|float32|precision|expected|gave"),
})
WRONG_DEAD.update({
    "the last 1,000 samples of a tall batch": (dead_wrong_last_1000_samples,
                                               r"expected|gave|recorded"),
    "half precision for large outputs": (dead_wrong_half_when_large,
                                         r"expected|gave|recorded|float16|precision"),
    "a tolerance of 1e-6 for large outputs": (dead_wrong_tolerance_when_large,
                                              r"expected|gave|recorded"),
    "a loop over blocks of 100 samples": (dead_wrong_blocks_of_100_samples,
                                          r"runs a Python loop|took \d+ ms"),
    "a fraction kept by the output's shape, dtype and ends": (
        _dead_cached_by_ends(), r"two inner values swapped|expected|gave|recorded"),
})
WRONG_LAYOUT.update({
    "one zeros buffer for every missing bias": (layout_wrong_one_zeros_buffer,
                                                r"share memory with each other within one "
                                                r"call"),
    "layers sorted by name as text": (layout_wrong_sorted_as_text,
                                      r"23 modules|differs|order|expected"),
})
WRONG_RATIOS.update({
    "gradients clipped to norm 10 before the step": (
        _ratios_after(lambda m: torch.nn.utils.clip_grad_norm_(m.parameters(), 10.0)),
        r"targets of about 1e5|changed|grad|expected|gave"),
    "gradients clipped to +-1e3 before the step": (
        _ratios_after(lambda m: torch.nn.utils.clip_grad_value_(m.parameters(), 1e3)),
        r"targets of about 1e5|changed|grad|expected|gave"),
    "weights sorted by name as text": (ratios_wrong_sorted_as_text,
                                       r"23 modules|order|expected|gave"),
})


# issue 23, eighth reading: another meaning of "dead" for ELU and tanh, blocks of a thousand
# samples, guards just above the drawn gradients, a frozen layer's bias taken for none.


def dead_wrong_elu_like_relu(module, inputs, output):
    relu_like = isinstance(module, (torch.nn.ReLU, torch.nn.ELU))
    d = (output <= 0).all(dim=0) if relu_like else (output == 0).all(dim=0)
    module.dead_log.append(d.double().mean().item())


def dead_wrong_saturated_tanh(module, inputs, output):
    d = (output == 0).all(dim=0)
    if isinstance(module, torch.nn.Tanh):
        d |= (output.abs() >= 0.999).all(dim=0)
    module.dead_log.append(d.double().mean().item())


def dead_wrong_blocks_of_1024(module, inputs, output):
    alive = torch.stack([c.ne(0).any(0) for c in output.split(1024)]).any(0)
    module.dead_log.append(float((~alive).double().mean()))


def layout_wrong_frozen_bias_as_zeros(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().T.astype(np.float64) for m in ls],
            [np.zeros(m.out_features) if m.bias is None or not m.bias.requires_grad
             else m.bias.detach().numpy().astype(np.float64) for m in ls])


WRONG_DEAD.update({
    "ELU treated like ReLU (<= 0)": (dead_wrong_elu_like_relu, r"ELU|expected|gave|recorded"),
    "saturated tanh counted as dead": (dead_wrong_saturated_tanh,
                                       r"Tanh|saturated|expected|gave|recorded"),
    "blocks of 1,024 samples": (dead_wrong_blocks_of_1024, r"runs a Python loop|took \d+ ms"),
})
WRONG_GRAD.update({
    "clamps dL/dz in place to +-1e7": (_grad_clamped_in_place(1e7),
                                       r"scaled by|changed|modif|expected|gave"),
    "the first 4,096 rows only": (_grad_of_first_rows(4096), r"30,000 samples|expected|gave"),
})
WRONG_LAYOUT["a frozen layer's bias returned as zeros"] = (layout_wrong_frozen_bias_as_zeros,
                                                           r"frozen|bias|differs|expected")
WRONG_RATIOS.update({
    "gradients clipped to norm 1e6 before the step": (
        _ratios_after(lambda m: torch.nn.utils.clip_grad_norm_(m.parameters(), 1e6)),
        r"targets of about|changed|grad|expected|gave"),
    "gradients clipped to +-1e5 before the step": (
        _ratios_after(lambda m: torch.nn.utils.clip_grad_value_(m.parameters(), 1e5)),
        r"targets of about|changed|grad|expected|gave"),
})


# The tenth reading's: a lower precision for large batches or layers only, a hook that leaves
# the session's default dtype changed, one that returns grad_input scaled by 1 + 1e-12.
def _dead_float16_on_large_float32(module, inputs, output):
    a = output.detach()
    if a.dtype == torch.float32 and a.numel() > 100_000:
        a = a.half()
    module.dead_log.append(float((a == 0).all(0).double().mean()))


def _dead_float32_on_large(module, inputs, output):
    a = output.detach()
    if a.numel() > 100_000:
        a = a.float()
    module.dead_log.append(float((a == 0).all(0).double().mean()))


def _layout_float32_rounded_big_layers(model):
    ls = linears(model)
    return ([(m.weight.detach().float().double() if m.weight.numel() > 100
              else m.weight.detach().double()).numpy().T.copy() for m in ls],
            [np.zeros(m.out_features) if m.bias is None
             else m.bias.detach().double().numpy().copy() for m in ls])


def _ratios_float32_big_layers(model, step):
    ls = linears(model)
    before = [m.weight.detach().clone() for m in ls]
    step()
    out = []
    for m, b in zip(ls, before):
        a = m.weight.detach()
        if a.numel() > 100:
            a, b = a.float(), b.float()
        out.append(float((a - b).norm() / b.norm()))
    return np.array(out)


def _grad_leaves_default_dtype(module, grad_input, grad_output):
    module.grad_log.append(float(grad_output[0].norm()))
    torch.set_default_dtype(torch.float64)


def _grad_returns_scaled_grad_input(module, grad_input, grad_output):
    module.grad_log.append(float(grad_output[0].norm()))
    return (grad_input[0] * (1 + 1e-12),) if grad_input[0] is not None else None


WRONG_DEAD.update({
    "float16 for float32 batches over 100,000 entries": (
        _dead_float16_on_large_float32, r"large float32 ReLU layer"),
    "float32 for batches over 100,000 entries": (_dead_float32_on_large,
                                                r"float64, over a million entries"),
})
WRONG_LAYOUT["weights rounded through float32 in layers of 100+ weights"] = (
    _layout_float32_rounded_big_layers, r"with a large layer: Linear\(\d+, \d+\)")
WRONG_RATIOS["float32 arithmetic in layers of 100+ weights"] = (
    _ratios_float32_big_layers, r"with a large layer.*Linear\(\d+, \d+\)")
WRONG_GRAD.update({
    "leaves the session's default dtype float64": (_grad_leaves_default_dtype,
                                                   r"default dtype went from float32 to float64"),
    "returns grad_input scaled by 1 + 1e-12": (_grad_returns_scaled_grad_input,
                                               r"changed the gradients|changed grad_input"),
})


# The eleventh reading's: a hook that changes the biases' gradients, a log that drops old
# entries, cut-offs and caps just outside the drawn ranges, a lower precision or a shortcut for
# batches of a million entries or 100,000 samples, changes to the model other than its
# parameters and mode (a hook left on it, a layer's settings, submodules' modes), a reseeded
# random generator, update ratios cut off or capped.
def _norm64(grad_output) -> float:
    return float(torch.linalg.vector_norm(grad_output[0].detach().double()))


def grad_right_vector_norm_own_dtype(module, grad_input, grad_output):
    # The gradient's own precision (float32 on a float32 model): the task asks for no other.
    module.grad_log.append(torch.linalg.vector_norm(grad_output[0]).item())


def grad_right_removes_its_tensor_hook(module, grad_input, grad_output):
    # A tensor hook on the weights that only reads, removed at once: nothing stays behind.
    handle = module.weight.register_hook(lambda g: None)
    handle.remove()
    module.grad_log.append(_norm64(grad_output))


RIGHT_GRAD.update({
    "vector_norm in the gradient's own dtype": grad_right_vector_norm_own_dtype,
    "a tensor hook registered and removed at once": grad_right_removes_its_tensor_hook,
})


def grad_wrong_bias_tensor_hook(module, grad_input, grad_output):
    module.grad_log.append(_norm64(grad_output))
    if module.bias is not None and not getattr(module, "_zeroed", False):
        module._zeroed = True
        module.bias.register_hook(lambda g: g * 0)


def grad_wrong_bias_frozen(module, grad_input, grad_output):
    module.grad_log.append(_norm64(grad_output))
    if module.bias is not None:
        module.bias.requires_grad_(False)


def grad_wrong_bias_grad_set(module, grad_input, grad_output):
    module.grad_log.append(_norm64(grad_output))
    if module.bias is not None:
        module.bias.grad = torch.full_like(module.bias, 7.0)


def grad_wrong_keeps_last_two(module, grad_input, grad_output):
    module.grad_log.append(_norm64(grad_output))
    if len(module.grad_log) > 2:
        del module.grad_log[0]


WRONG_GRAD.update({
    "a tensor hook left on the bias that zeroes its gradient": (
        grad_wrong_bias_tensor_hook, r"changed the model: `\d\.bias` has a tensor hook left on "
                                     r"it(?s:.*)Hint: a tensor hook on a parameter"),
    "the bias's requires_grad switched off": (
        grad_wrong_bias_frozen, r"changed the model: requires_grad of `\d\.bias` went from "
                                r"True to False"),
    "the bias's .grad overwritten": (
        grad_wrong_bias_grad_set, r"the gradient of Linear layer \d's bias differs from the "
                                  r"model's own(?s:.*)Hint: .*the biases' too"),
    "a log that keeps the last two entries": (
        grad_wrong_keeps_last_two, r"`module\.grad_log` of Linear layer \d of \d was handed "
                                   r"over holding \d entr(y|ies) already; after \d+ backward "
                                   r"passes it holds \d+ entries; it should hold \d+"),
    "norms below 1e-70 recorded as 0": (
        stat_hook(lambda g: (lambda v: v if v > 1e-70 else 0.0)(float(g.double().norm()))),
        r"recorded 0 .*e-1\d\d: a gradient this small is still not zero"),
    "norms capped at 1e25": (stat_hook(lambda g: min(float(g.double().norm()), 1e25)),
                             r"recorded 1e\+25 .* a gradient this large .* a cap"),
    "the first 40,000 rows only": (_grad_of_first_rows(40_000),
                                   r"a batch of \d+,\d\d\d samples"),
})


def dead_wrong_float32_over_a_million(module, inputs, output):
    a = output.detach()
    if a.numel() > 1_000_000:
        a = a.float()
    module.dead_log.append(_dead_of(a))


def dead_wrong_zero_for_tall(module, inputs, output):
    module.dead_log.append(_dead_of(output) if output.shape[0] < 100_000 else 0.0)


def dead_wrong_elu_from_inputs(module, inputs, output):
    # Right for ELU(alpha) with alpha != 0 (its output is 0 only where z is), not for alpha 0.
    a = inputs[0] if isinstance(module, torch.nn.ELU) else output
    module.dead_log.append(_dead_of(a))


def _dead_with_tensor_hook(factor: float):
    def hook(module, inputs, output):
        module.dead_log.append(_dead_of(output))
        if output.requires_grad:
            output.register_hook(lambda g: g * factor)
    return hook


WRONG_DEAD.update({
    "float32 for batches over a million entries": (dead_wrong_float32_over_a_million,
                                                   r"float64, over a million entries"),
    "0.0 for batches of 100,000 samples or more": (dead_wrong_zero_for_tall,
                                                   r"recorded 0 on the batch \(\d{6,} x "
                                                   r"\d+\)"),
    "ELU units from the inputs z == 0 (wrong for alpha 0)": (dead_wrong_elu_from_inputs,
                                                            r"ELU\(alpha=0\)"),
    "a tensor hook on the output that doubles its gradient": (
        _dead_with_tensor_hook(2.0), r"the gradient that reached the layer's input on .* "
                                     r"differs from the layer's own: the hook changed"),
    "a tensor hook on the output that zeroes its gradient": (
        _dead_with_tensor_hook(0.0), r"the hook changed the gradient that flows back"),
})


def _layout_then(change):
    def answer(model):
        change(model)
        return layout_right_copy(model)
    return answer


def _each(kind, change):
    def run(model):
        for m in model.modules():
            if isinstance(m, kind):
                change(m)
    return run


def _left_forward_hook(model):
    if not getattr(model, "_scaled", False):
        model._scaled = True
        model.register_forward_hook(lambda mod, i, o: o * 1.0001)


def layout_right_hook_removed(model):
    # A forward hook registered and removed again: the model is as it was.
    handle = model.register_forward_hook(lambda mod, i, o: None)
    handle.remove()
    return layout_right_copy(model)


RIGHT_LAYOUT["a hook registered and removed again"] = layout_right_hook_removed
WRONG_LAYOUT.update({
    "Dropout layers put in evaluation mode": (
        _layout_then(_each(torch.nn.Dropout, lambda m: m.eval())),
        r"changed the model: layer `\d` went from training to evaluation mode"),
    "a forward hook left on the model": (
        _layout_then(_left_forward_hook),
        r"changed the model: the model has a hook added to its forward hooks(?s:.*)Hint: a hook "
        r"left on a layer"),
    "Dropout's p set to 0": (_layout_then(_each(torch.nn.Dropout,
                                                lambda m: setattr(m, "p", 0.0))),
                             r"`p` of layer `\d` \(Dropout\) went from 0\.25 to 0\.0"),
    "LeakyReLU's negative_slope changed": (
        _layout_then(_each(torch.nn.LeakyReLU, lambda m: setattr(m, "negative_slope", 0.5))),
        r"`negative_slope` of layer `\d` \(LeakyReLU\) went from 0\.\d+ to 0\.5"),
    "ELU's alpha changed": (_layout_then(_each(torch.nn.ELU, lambda m: setattr(m, "alpha",
                                                                               0.0))),
                            r"`alpha` of layer `\d` \(ELU\) went from"),
    "torch.manual_seed(0)": (_layout_then(lambda model: torch.manual_seed(0)),
                             r"changed the session: torch's random generator(?s:.*)The task "
                             r"asks you to leave the session"),
})


def _ratios_then(change):
    def answer(model, step):
        change(model)
        return ratios_right_clone(model, step)
    return answer


def _ratios_cut(fn):
    def answer(model, step):
        return fn(ratios_right_clone(model, step))
    return answer


def ratios_right_deepcopy_eval(model, step):
    # A copy may be switched and converted: the model itself is left alone.
    before = copy.deepcopy(model).double().eval()
    step()
    return np.array([float((m.weight.detach().double() - o.weight.detach()).norm()
                           / o.weight.detach().norm())
                     for m, o in zip(linears(model), linears(before))])


RIGHT_RATIOS["a float64 deepcopy in eval mode as 'before'"] = ratios_right_deepcopy_eval
WRONG_RATIOS.update({
    "a forward hook left on the model": (
        _ratios_then(_left_forward_hook),
        r"changed the model: the model has a hook added to its forward hooks"),
    "LeakyReLU's negative_slope and Dropout's p changed": (
        _ratios_then(lambda model: (
            _each(torch.nn.LeakyReLU, lambda m: setattr(m, "negative_slope", 0.5))(model),
            _each(torch.nn.Dropout, lambda m: setattr(m, "p", 0.0))(model))),
        r"changed the model: `(negative_slope|p)` of layer `\d` \((LeakyReLU|Dropout)\) went "
        r"from"),
    "torch.manual_seed(123)": (_ratios_then(lambda model: torch.manual_seed(123)),
                               r"changed the session: torch's random generator"),
    "ratios below 1e-10 reported as 0": (
        _ratios_cut(lambda r: np.where(r < 1e-10, 0.0, r)),
        r"layer \d's ratio, \S+e-\d+, is tiny but not zero"),
    "ratios below 5e-10 reported as 0": (
        _ratios_cut(lambda r: np.where(r < 5e-10, 0.0, r)), r"is tiny but not zero"),
    "ratios capped at 1e3": (_ratios_cut(lambda r: np.minimum(r, 1e3)),
                             r"layer \d's ratio, \S+, is huge .* a cap"),
    "ratios capped at 10": (_ratios_cut(lambda r: np.minimum(r, 10.0)), r"is huge .* a cap"),
    "autograd switched off, then on (the session, not the model)": (
        ratios_wrong_grad_off_then_on, r"changed the session: .*The task asks you to leave "
                                       r"the model and the session as they are"),
})


def grad_wrong_matrix_norm(module, grad_input, grad_output):
    # The Frobenius norm of a matrix: one per sample on a batch of sequences.
    module.grad_log.append(float(torch.linalg.matrix_norm(grad_output[0].detach().double())))


WRONG_GRAD.update({
    "torch.linalg.matrix_norm (one norm per sample on a batch of sequences)": (
        grad_wrong_matrix_norm, r"(?s)raised .*sequences.*Hint: the hook records one number for "
                                r"the whole batch, whatever its number of axes"),
    "the norm of the batch sum (the bias's gradient)": (
        stat_hook(lambda g: float(g.detach().double().sum(0).norm())),
        r"looks like the norm of the gradient summed over the samples: that is the bias's"),
    "the spectral norm (ord=2)": (
        stat_hook(lambda g: float(torch.linalg.matrix_norm(g.detach().double(), ord=2))
              if g.dim() == 2 else float(g.detach().double().norm())),
        r"looks like the spectral norm"),
})


# Round 12 of the newcomer reading: answers fitted to the sizes the check used to fix (at most
# 16 units, sequences of 3 steps, 2-D and 3-D gradients only, batches below 60,000 rows, at
# most 5 passes or 3 batches, 1,200 weights, 30 units, 12 Linear layers), logs kept by id
# or capped, and a mean that underflows. The check now draws those sizes (one past each old
# bound), hands some logs over pre-filled and replaces them between passes, and has units
# alive through the smallest subnormal only.
_GRAD_BY_ID: dict = {}


def grad_wrong_log_by_id(module, grad_input, grad_output):
    _GRAD_BY_ID.setdefault(id(module), []).append(float(grad_output[0].detach().norm()))
    module.grad_log[:] = _GRAD_BY_ID[id(module)]


def _grad_capped(cap: int, rolling: bool = False):
    def hook(module, grad_input, grad_output):
        if rolling or len(module.grad_log) < cap:
            module.grad_log.append(float(grad_output[0].detach().norm()))
        if rolling and len(module.grad_log) > cap:
            module.grad_log.pop(0)
    return hook


def grad_wrong_first_65536_rescaled(module, grad_input, grad_output):
    g = grad_output[0].detach()
    n = g.shape[0]
    module.grad_log.append(float(g[:65536].norm() * math.sqrt(n / min(65536, n))))


def grad_wrong_stride_two_above_60000(module, grad_input, grad_output):
    g = grad_output[0].detach()
    module.grad_log.append(float(g[::2].norm() * math.sqrt(2)) if g.shape[0] > 60_000
                           else float(g.norm()))


_LOG_KEPT = r"(?s)`module\.grad_log` of Linear layer \d of \d.* holds \d+ entries; it should hold"
_PART_OF_BATCH = r"(?s)batch of \d+,\d\d\d samples.*part of the batch"
WRONG_GRAD.update({
    "a log of its own per id(module), copied into grad_log": (grad_wrong_log_by_id, _LOG_KEPT),
    "a log capped at 5 entries": (_grad_capped(5), _LOG_KEPT),
    "a log capped at 3 entries": (_grad_capped(3), _LOG_KEPT),
    "a log that keeps the last 5 entries": (_grad_capped(5, rolling=True), _LOG_KEPT),
    "the first 65,536 rows, rescaled": (grad_wrong_first_65536_rescaled, _PART_OF_BATCH),
    "every other row above 60,000 rows, rescaled": (grad_wrong_stride_two_above_60000,
                                                    _PART_OF_BATCH),
    "the first 16 units only": (stat_hook(lambda g: float(g[..., :16].detach().norm())),
                                r"(?s)recorded .* expected .*Linear\(\d+, \d+\)"),
    "a 4-D gradient as its first sample only": (
        stat_hook(lambda g: float(g[0].detach().norm() if g.dim() > 3 else g.detach().norm())),
        r"(?s)recorded .* expected .*four axes"),
    "a sequence as its first 3 steps only": (
        stat_hook(lambda g: float(g[:, :3].detach().norm() if g.dim() == 3
                                  else g.detach().norm())),
        r"(?s)recorded .* expected .*a batch of sequences"),
})

_DEAD_BY_ID: dict = {}


def dead_wrong_log_by_id(module, inputs, output):
    _DEAD_BY_ID.setdefault(id(module), []).append(_dead_of(output))
    module.dead_log[:] = _DEAD_BY_ID[id(module)]


def _dead_capped(cap: int):
    def hook(module, inputs, output):
        if len(module.dead_log) < cap:
            module.dead_log.append(_dead_of(output))
    return hook


def _dead_of_part(part):
    def hook(module, inputs, output):
        module.dead_log.append(_dead_of(output[part]))
    return hook


_DEAD_MEAN = r"looks like a mean of \|output\| compared with 0: .*smallest subnormal"
_DEAD_LOG_KEPT = r"(?s)`module\.dead_log` of the layer.* holds \d+ entries; it should hold"
_DEAD_PART = r"(?s)on a batch this large: a look at part of it.*(samples|units)"
WRONG_DEAD.update({
    "the mean of |output| compared with 0": (
        lambda module, inputs, output: module.dead_log.append(
            float((output.abs().mean(0) == 0).float().mean())), _DEAD_MEAN),
    "the float64 mean of |output| compared with 0": (
        lambda module, inputs, output: module.dead_log.append(
            float((output.double().abs().mean(0) == 0).float().mean())), _DEAD_MEAN),
    "the sum of |output| / n compared with 0": (
        lambda module, inputs, output: module.dead_log.append(
            float(((output.abs() / output.shape[0]).sum(0) == 0).float().mean())), _DEAD_MEAN),
    "a log capped at 3 entries": (_dead_capped(3), _DEAD_LOG_KEPT),
    "a log capped at 2 entries": (_dead_capped(2), _DEAD_LOG_KEPT),
    "a log of its own per id(module), copied into dead_log": (dead_wrong_log_by_id,
                                                               _DEAD_LOG_KEPT),
    "the first 100,000 rows only": (_dead_of_part(slice(None, 100_000)), _DEAD_PART),
    "the last 100,000 rows only": (_dead_of_part(slice(-100_000, None)), _DEAD_PART),
    "the first 90,000 rows only": (_dead_of_part(slice(None, 90_000)), _DEAD_PART),
    "the last 90,000 rows only": (_dead_of_part(slice(-90_000, None)), _DEAD_PART),
    "the first 65,536 units only": (_dead_of_part((slice(None), slice(None, 65_536))),
                                    _DEAD_PART),
    "the first 60,000 units only": (_dead_of_part((slice(None), slice(None, 60_000))),
                                    _DEAD_PART),
})


def layout_wrong_view_above_1200_weights(model):
    weights, biases = [], []
    for m in linears(model):
        w = m.weight.detach()
        weights.append(w.T.numpy() if w.numel() > 1200 and w.dtype == torch.float64
                       else w.double().T.numpy().copy())
        biases.append(np.zeros(m.out_features) if m.bias is None
                      else m.bias.detach().double().numpy().copy())
    return weights, biases


def layout_wrong_bias_view_above_30_units(model):
    ls = linears(model)
    return ([m.weight.detach().double().T.numpy().copy() for m in ls],
            [np.zeros(m.out_features) if m.bias is None else
             (m.bias.detach().numpy() if m.bias.dtype == torch.float64 and m.out_features > 30
              else m.bias.detach().double().numpy().copy()) for m in ls])


def layout_wrong_first_12_layers(model):
    ls = linears(model)
    return ([m.weight.detach().double().T.numpy().copy() if i < 12
             else np.zeros((m.in_features, m.out_features)) for i, m in enumerate(ls)],
            [np.zeros(m.out_features) if m.bias is None
             else m.bias.detach().double().numpy().copy() for m in ls])


def layout_wrong_zeros_shared_by_width(model):
    ls = linears(model)
    zeros: dict = {}
    return ([m.weight.detach().double().T.numpy().copy() for m in ls],
            [zeros.setdefault(m.out_features, np.zeros(m.out_features)) if m.bias is None
             else m.bias.detach().double().numpy().copy() for m in ls])


_SHARES_MODEL = r"share memory with the model"
WRONG_LAYOUT.update({
    "a view for float64 layers of more than 1,200 weights": (
        layout_wrong_view_above_1200_weights, _SHARES_MODEL),
    "the bias as a view for float64 layers of more than 30 units": (
        layout_wrong_bias_view_above_30_units, _SHARES_MODEL),
    "the first 12 Linear layers only": (layout_wrong_first_12_layers,
                                        r"W of layer 1\d differs .*\n.*deep model of \d+ "
                                        r"modules"),
    "one zeros array per width for the missing biases": (
        layout_wrong_zeros_shared_by_width, r"share memory with each other within one call"),
})


def _ratios_of_part(part):
    def update_ratios(model, step):
        ls = linears(model)
        before = [part(m.weight.detach()).clone() for m in ls]
        step()
        return np.array([float((part(m.weight.detach()) - b).norm() / b.norm())
                         for m, b in zip(ls, before)])
    return update_ratios


def ratios_wrong_first_12_layers(model, step):
    ls = linears(model)
    before = [m.weight.detach().clone() for m in ls[:12]]
    step()
    r = [float((m.weight.detach() - b).norm() / b.norm()) for m, b in zip(ls, before)]
    return np.array(r + [0.0] * (len(ls) - len(r)))


_RATIOS_PART = (r"(?s)layer 1 of 2 differs.*the ratio of part of them.*a large layer.*"
                r"Linear\(\d+, \d+\)")
WRONG_RATIOS.update({
    "the first 32 rows only": (_ratios_of_part(lambda w: w[:32]), _RATIOS_PART),
    "the first 64 rows only": (_ratios_of_part(lambda w: w[:64]), _RATIOS_PART),
    "the first 4,096 weights only": (_ratios_of_part(lambda w: w.flatten()[:4096]),
                                     _RATIOS_PART),
    "the first 12 Linear layers only": (ratios_wrong_first_12_layers,
                                        r"(?s)layer 1\d(?: of \d\d differs|'s ratio, \S+, is "
                                        r"tiny but not zero).*deep model of \d+ "
                                        r"modules"),
})


# ------------------------------------------- round 14: sizes past the old maxima, new shapes
# The thirteenth reader's accepted answers: shortcuts kept for sizes beyond the largest the
# check drew (samples, units, entries, weights, depth, ratios), an unbatched gradient, a
# float32 Sigmoid that underflows to 0, and subclasses of nn.Linear.

def grad_wrong_subsample_above_130000_rows(module, grad_input, grad_output):
    g = grad_output[0]
    r = g.reshape(-1, g.shape[-1])
    module.grad_log.append(float(r[:1000].norm() * (r.shape[0] / 1000) ** 0.5)
                           if r.shape[0] > 130_000 else float(g.norm()))


def grad_wrong_float32_above_390000_entries(module, grad_input, grad_output):
    # (the reader's gate was 2,000,000 entries, past every draw but one in six; this one is
    # past the largest gradient earlier checks drew, which every draw now exceeds)
    g = grad_output[0]
    module.grad_log.append(float(g.float().norm()) if g.numel() > 390_000 else float(g.norm()))


def grad_wrong_matrix_norm(module, grad_input, grad_output):
    module.grad_log.append(float(torch.linalg.matrix_norm(grad_output[0].flatten(1))))


def grad_wrong_first_entry_if_1d(module, grad_input, grad_output):
    g = grad_output[0]
    module.grad_log.append(float(g.norm(dim=-1).norm()) if g.dim() > 1 else float(g[0].abs()))


WRONG_GRAD.update({
    "a scaled subsample of 1,000 rows above 130,000 samples": (
        grad_wrong_subsample_above_130000_rows, r"(?s)on a batch of [\d,]+ samples, more than "
                                                r"any rounding leaves.*part of the batch"),
    "a float32 norm above 390,000 entries": (
        grad_wrong_float32_above_390000_entries,
        r"(?s)(more than a float64 computation leaves|a lower precision).*batch of [\d,]+ "
        r"samples"),
    "a matrix norm of g.flatten(1) (fails on an unbatched gradient)": (
        grad_wrong_matrix_norm, r"(?s)IndexError.*unbatched"),
    "the first entry of an unbatched gradient": (
        grad_wrong_first_entry_if_1d, r"(?s)expected \|\|dL/dz\|\|.*unbatched input"),
})


def _dead_if(part):
    def record_dead(module, inputs, output):
        o = part(output)
        module.dead_log.append(float((o == 0).all(0).double().mean()))
    return record_dead


_DEAD_LARGE = r"on a batch this large: a look at part of it"
WRONG_DEAD.update({
    "the first 99% of the units above 100,000 units": (
        _dead_if(lambda o: o[:, :int(o.shape[1] * 0.99)] if o.shape[1] > 100_000 else o),
        _DEAD_LARGE),
    "the first half of the units above 100,000 units": (
        _dead_if(lambda o: o[:, :o.shape[1] // 2] if o.shape[1] > 100_000 else o), _DEAD_LARGE),
    "the first half of the samples above 100,000 units": (
        _dead_if(lambda o: o[:o.shape[0] // 2] if o.shape[1] > 100_000 else o), _DEAD_LARGE),
    "the first half of the samples above 130,000 samples": (
        _dead_if(lambda o: o[:o.shape[0] // 2] if o.shape[0] > 130_000 else o), _DEAD_LARGE),
    "float16 for float32 batches of more than 120,000 entries": (
        _dead_if(lambda o: o.half() if o.dtype == torch.float32 and o.numel() > 120_000
                 else o), r"(?s)recorded \S+ on the batch \(\d+ x \d+\), expected .*"
                          r"large float32 ReLU layer"),
    "0.0 for a Sigmoid layer without looking": (
        lambda module, inputs, output: module.dead_log.append(
            0.0 if isinstance(module, torch.nn.Sigmoid)
            else float((output == 0).all(0).double().mean())),
        r"(?s)recorded 0 on the batch.*float32 Sigmoid layer"),
})


def dead_right_relu_not_positive(module, inputs, output):
    # (a ReLU never outputs a negative number: <= 0 is == 0 there)
    dead = (output <= 0) if isinstance(module, torch.nn.ReLU) else (output == 0)
    module.dead_log.append(float(dead.all(0).double().mean()))


RIGHT_DEAD["<= 0 on ReLU layers, == 0 on the others"] = dead_right_relu_not_positive


def _layout_of(select, weight=lambda m: m.weight.detach().double()):
    def course_layout(model):
        ls = select(model)
        return ([weight(m).numpy().T.copy() for m in ls],
                [np.zeros(m.out_features) if m.bias is None
                 else m.bias.detach().double().numpy().copy() for m in ls])
    return course_layout


_LAYOUT_COUNT = r"returned \d+ weights; the model has \d+ Linear layers"
WRONG_LAYOUT.update({
    "W rounded through float32 in layers of more than 61,000 weights": (
        _layout_of(linears, lambda m: (m.weight.detach().float() if m.weight.numel() > 61_000
                                       else m.weight.detach()).double()),
        r"(?s)W of layer 1 differs from the model's values.*large layer"),
    "the first 21 Linear layers only": (_layout_of(lambda model: linears(model)[:21]),
                                        rf"(?s){_LAYOUT_COUNT}.*deep model"),
    "exactly nn.Linear (type(m) is nn.Linear), not its subclasses": (
        _layout_of(lambda model: [m for m in model if type(m) is torch.nn.Linear]),
        rf"(?s){_LAYOUT_COUNT}.*subclass of nn.Linear"),
})


def layout_right_fortran_copy(model):
    # (a Fortran-order copy of torch's (fan_out, fan_in), transposed: a C-order array)
    ls = linears(model)
    return ([np.array(m.weight.detach().double().numpy(), order="F").T for m in ls],
            [np.zeros(m.out_features) if m.bias is None
             else m.bias.detach().double().numpy().copy() for m in ls])


RIGHT_LAYOUT["a Fortran-order copy, transposed"] = layout_right_fortran_copy


def _ratios_with(select=linears, ratio=None, keep=lambda i: True):
    def update_ratios(model, step):
        ls = select(model)
        before = [m.weight.detach().clone() if keep(i) else None for i, m in enumerate(ls)]
        step()
        out = []
        for m, b in zip(ls, before):
            a = m.weight.detach()
            out.append(0.0 if b is None else float(ratio(a, b) if ratio is not None
                                                   else (a - b).norm() / b.norm()))
        return np.array(out)
    return update_ratios


WRONG_RATIOS.update({
    "float32 arithmetic in layers of more than 61,000 weights": (
        _ratios_with(ratio=lambda a, b: ((a - b).float().norm() / b.float().norm())
                     if b.numel() > 61_000 else (a - b).norm() / b.norm()),
        r"(?s)(precision|part of them|lower precision).*large layer"),
    "0 for the Linear layers past the 21st": (
        _ratios_with(keep=lambda i: i < 21),
        r"(?s)layer 2\d(?: of \d\d differs: got 0|'s ratio, \S+, is tiny but not zero).*deep "
        r"model"),
    "ratios capped at 600,000": (
        _ratios_with(ratio=lambda a, b: torch.clamp((a - b).norm() / b.norm(), max=6e5)),
        r"is huge but a number to report as it is; a cap"),
    "ratios capped at a million": (
        _ratios_with(ratio=lambda a, b: torch.clamp((a - b).norm() / b.norm(), max=1e6)),
        r"is huge but a number to report as it is; a cap"),
    "exactly nn.Linear (type(m) is nn.Linear), not its subclasses": (
        _ratios_with(select=lambda model: [m for m in model if type(m) is torch.nn.Linear]),
        r"(?s)returned \d+ numbers; the model has \d+ Linear layers.*subclass of nn.Linear"),
})


def ratios_right_numpy_model_dtype(model, step):
    # (a numpy copy in the model's own dtype as 'before', norms in float64)
    ls = linears(model)
    before = [np.array(m.weight.detach()) for m in ls]
    step()
    return np.array([np.linalg.norm(m.weight.detach().numpy().astype(np.float64)
                                    - b.astype(np.float64)) / np.linalg.norm(
                                        b.astype(np.float64)) for m, b in zip(ls, before)])


RIGHT_RATIOS["a numpy copy in the model's dtype as 'before'"] = ratios_right_numpy_model_dtype


# issue 23, fifteenth reading (round 14): a wide batch's last unit was always alive (an answer
# that leaves it out passed), the fraction was held to 1e-6 only (7 decimals, 6 significant
# digits, a float32 fraction passed), and the update ratios' drawn ranges stopped at 1e8 and
# 1e-15 and the weights' norms at 1e-4 (a cap of 1e8, a cut-off of 5e-16, an epsilon of 1e-20
# in the denominator passed). The wide case now holds two batches whose dead units are each
# other's live ones; the fraction is held to float64's last digits; the ratios' ranges and the
# weights' norms have no hard bound.
def _dead_leaving_out(units, above: int, *, as_dead: bool = False):
    def record_dead(module, inputs, output):
        n = output.shape[1]
        if n <= above:
            module.dead_log.append(float((output == 0).all(0).double().mean()))
            return
        keep = torch.ones(n, dtype=torch.bool)
        keep[units(n)] = False
        dead = (output[:, keep] == 0).all(0).double().sum().item()
        module.dead_log.append((dead + (int((~keep).sum()) if as_dead else 0)) / n)
    return record_dead


def _dead_fraction_as(convert):
    def record_dead(module, inputs, output):
        module.dead_log.append(convert(float((output == 0).all(0).double().mean())))
    return record_dead


def dead_right_one_minus_alive(module, inputs, output):
    # (1 minus the live share: off by a unit of float64's last place at most, which is right)
    module.dead_log.append(float(1 - (output.abs().amax(0) > 0).double().mean()))


def dead_right_one_minus_alive_numpy(module, inputs, output):
    a = output.detach().numpy()
    module.dead_log.append(1.0 - float(np.mean(np.any(a != 0, axis=0))))


def dead_right_float32_count(module, inputs, output):
    # (a count of units summed in float32 is exact: fewer than 2**24 units)
    module.dead_log.append(float((output == 0).all(0).float().sum()) / output.shape[1])


def dead_right_rounded_to_15_decimals(module, inputs, output):
    # (within float64's last digits of the fraction: not a rounding that shows)
    module.dead_log.append(round(float((output == 0).all(0).double().mean()), 15))


RIGHT_DEAD.update({
    "1 minus the live share": dead_right_one_minus_alive,
    "1 minus numpy's live share": dead_right_one_minus_alive_numpy,
    "a count summed in float32, divided in Python": dead_right_float32_count,
    "rounded to 15 decimals": dead_right_rounded_to_15_decimals,
})
_DEAD_ROUNDED = r"looks like the fraction rounded to {} decimals|close, but not to float64's"
_DEAD_F32 = r"looks like the fraction computed in float32|close, but not to float64's"
WRONG_DEAD.update({
    "the last unit left out above 50,000 units": (
        _dead_leaving_out(lambda n: [n - 1], 50_000), _DEAD_LARGE),
    "the last unit left out above 5,000 units": (
        _dead_leaving_out(lambda n: [n - 1], 5_000), _DEAD_LARGE),
    "the first unit left out above 50,000 units": (
        _dead_leaving_out(lambda n: [0], 50_000), _DEAD_LARGE),
    "the middle unit left out above 50,000 units": (
        _dead_leaving_out(lambda n: [n // 2], 50_000), _DEAD_LARGE),
    "the last unit counted as dead above 50,000 units": (
        _dead_leaving_out(lambda n: [n - 1], 50_000, as_dead=True), _DEAD_LARGE),
    "the first and last units left out above 100,000 units": (
        _dead_leaving_out(lambda n: [0, n - 1], 100_000), _DEAD_LARGE),
    "the fraction rounded to 7 decimals": (_dead_fraction_as(lambda f: round(f, 7)),
                                           _DEAD_ROUNDED.format(7)),
    "the fraction rounded to 12 decimals": (_dead_fraction_as(lambda f: round(f, 12)),
                                            _DEAD_ROUNDED.format(12)),
    "the fraction to 6 significant digits": (_dead_fraction_as(lambda f: float(f"{f:.6g}")),
                                             _DEAD_ROUNDED.format(6)),
    "the fraction to 7 significant digits": (_dead_fraction_as(lambda f: float(f"{f:.7g}")),
                                             _DEAD_ROUNDED.format(7)),
    "a float32 fraction (count_nonzero, float mean)": (
        dead_stat(lambda a: (a.count_nonzero(dim=0) == 0).float().mean().item()), _DEAD_F32),
    "a float32 fraction (numpy float32 division)": (
        dead_stat(lambda a: float(np.float32(int((a == 0).all(0).sum()))
                                  / np.float32(a.shape[1]))), _DEAD_F32),
    "a float16 fraction": (dead_stat(lambda a: float((a == 0).all(0).half().mean())),
                           r"looks like the fraction computed in float16"),
})


def _ratios_each(post):
    def update_ratios(model, step):
        before = [m.weight.detach().clone() for m in linears(model)]
        step()
        return np.array([post(float(torch.linalg.norm(m.weight.detach() - b)),
                              float(torch.linalg.norm(b)))
                         for m, b in zip(linears(model), before)], dtype=np.float64)
    return update_ratios


def ratios_right_float64_numpy_sum_of_squares(model, step):
    before = [m.weight.detach().numpy().astype(np.float64) for m in linears(model)]
    step()
    return np.array([np.sqrt(np.sum((m.weight.detach().numpy() - b) ** 2)) / np.sqrt(np.sum(b * b))
                     for m, b in zip(linears(model), before)])


RIGHT_RATIOS["numpy sums of squares in the model's dtype"] = \
    ratios_right_float64_numpy_sum_of_squares
_RATIO_CAP = r"is huge but a number to report as it is; a cap"
_RATIO_CUT = r"is tiny but not zero; a cut-off"
WRONG_RATIOS.update({
    "ratios capped at 1e8": (_ratios_each(lambda d, n: min(d / n, 1e8)), _RATIO_CAP),
    "ratios capped at 1e7": (_ratios_each(lambda d, n: min(d / n, 1e7)), _RATIO_CAP),
    "ratios below 5e-16 cut to 0": (_ratios_each(lambda d, n: d / n if d / n > 5e-16 else 0.0),
                                    _RATIO_CUT),
    "ratios below 1e-15 cut to 0": (_ratios_each(lambda d, n: d / n if d / n >= 1e-15 else 0.0),
                                    _RATIO_CUT),
    "an epsilon of 1e-12 in the denominator (torch norms)": (
        _ratios_each(lambda d, n: d / (n + 1e-12)),
        r"looks like an epsilon added to the denominator"),
})


# Fix round 16: the session's settings and random generators, and the model's buffers. An
# answer that changes a setting no task needs (subnormals flushed to zero, deterministic
# algorithms, numpy's or Python's global random generator) is refused, as torch's generator
# already was: each changes what later cells compute, and flushing changes what a dead-unit
# hook sees. The number of threads changes only the speed: the check puts it back after every
# call (a hook that set 3 threads was refused for a gradient it did not change). Buffers
# (register_buffer) are part of a model's state: one left behind, or changed, is refused.
# Whatever the verdict, the check leaves the session as it found it.
def _flushes():
    return float(torch.tensor(5e-324, dtype=torch.float64).mul(1.0)) == 0.0


def _settings_now():
    return (_flushes(), torch.is_anomaly_enabled(), torch.get_float32_matmul_precision(),
            repr(np.get_printoptions()), repr(vars(torch._tensor_str.PRINT_OPTS)),
            getattr(torch._GLOBAL_DEVICE_CONTEXT, "device_context", None),
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(), torch.get_num_threads(),
            np.random.get_state()[1].tobytes(),  # noqa: NPY002
            random.getstate(), torch.is_grad_enabled(), torch.get_default_dtype(),
            torch.get_rng_state().numpy().tobytes())


def _then(right, side):
    def answer(*args):
        side()
        return right(*args)
    return answer


def _after(right, side):
    def answer(*args):
        out = right(*args)
        side()
        return out
    return answer


def _register_on_first(name):
    def side_of(model):
        linears(model)[0].register_buffer(name, linears(model)[0].weight.detach().clone())
    return side_of


def grad_wrong_buffer(module, grad_input, grad_output):
    module.grad_log.append(grad_output[0].norm().item())
    module.register_buffer("last_dz", grad_output[0].detach().clone())


def dead_wrong_buffer(module, inputs, output):
    dead = (output == 0).all(dim=0)
    module.register_buffer("dead_units", dead.detach().clone())
    module.dead_log.append(dead.double().mean().item())


def ratios_wrong_buffers_as_before(model, step):
    ls = linears(model)
    for m in ls:
        m.register_buffer("w_before", m.weight.detach().clone())
    step()
    return np.array([float(torch.linalg.norm(m.weight.detach() - m.w_before)
                           / torch.linalg.norm(m.w_before)) for m in ls])


def grad_right_sets_threads(module, grad_input, grad_output):
    torch.set_num_threads(3)  # only the speed: the check puts the number back
    module.grad_log.append(grad_output[0].norm().item())


def dead_right_sets_one_thread(module, inputs, output):
    torch.set_num_threads(1)
    module.dead_log.append((output == 0).all(dim=0).double().mean().item())


_FLUSH = r"changed the session: subnormal numbers are now flushed to zero"
_DETERMINISTIC = r"changed the session: torch\.use_deterministic_algorithms went from False to True"
_NP_RNG = r"changed the session: numpy's global random generator is not where it was"
_PY_RNG = r"changed the session: Python's random generator is not where it was"
_ANOMALY = r"changed the session: autograd's anomaly detection went from False to True"
_MATMUL = r"changed the session: torch\.set_float32_matmul_precision went from 'highest'"
_SETTINGS = {  # in every exercise
    "torch.set_flush_denormal(True) left on": (lambda: torch.set_flush_denormal(True), _FLUSH),
    "torch.use_deterministic_algorithms(True) left on": (
        lambda: torch.use_deterministic_algorithms(True), _DETERMINISTIC),
    "np.random.seed(0)": (lambda: np.random.seed(0), _NP_RNG),  # noqa: NPY002
    "random.seed(0)": (lambda: random.seed(0), _PY_RNG),
}
_MORE_SETTINGS = {  # in some
    "torch.use_deterministic_algorithms(True, warn_only=True) left on": (
        (WRONG_GRAD, WRONG_RATIOS),
        lambda: torch.use_deterministic_algorithms(True, warn_only=True), _DETERMINISTIC),
    "a number drawn from np.random": ((WRONG_DEAD, WRONG_LAYOUT),
                                      lambda: np.random.rand(), _NP_RNG),  # noqa: NPY002
    "torch.autograd.set_detect_anomaly(True) left on": (
        (WRONG_GRAD, WRONG_DEAD, WRONG_RATIOS), lambda: torch.autograd.set_detect_anomaly(True),
        _ANOMALY),
    "torch.set_float32_matmul_precision('medium')": (
        (WRONG_LAYOUT, WRONG_RATIOS), lambda: torch.set_float32_matmul_precision("medium"),
        _MATMUL),
}
_RIGHT_OF = {id(WRONG_GRAD): grad_right, id(WRONG_DEAD): dead_right_all,
             id(WRONG_LAYOUT): layout_right_copy, id(WRONG_RATIOS): ratios_right_clone}
for _catalogue in (WRONG_GRAD, WRONG_DEAD, WRONG_LAYOUT, WRONG_RATIOS):
    for _name, (_side, _pattern) in _SETTINGS.items():
        _catalogue[_name] = (_then(_RIGHT_OF[id(_catalogue)], _side), _pattern)
for _name, (_catalogues, _side, _pattern) in _MORE_SETTINGS.items():
    for _catalogue in _catalogues:
        _catalogue[_name] = (_then(_RIGHT_OF[id(_catalogue)], _side), _pattern)
WRONG_LAYOUT["torch.set_flush_denormal(True) after the work"] = (
    _after(layout_right_copy, lambda: torch.set_flush_denormal(True)), _FLUSH)
WRONG_DEAD["torch.set_flush_denormal(True) after the work"] = (
    _after(dead_right_all, lambda: torch.set_flush_denormal(True)), _FLUSH)
WRONG_GRAD["a buffer registered on the layer (the last dL/dz)"] = (
    grad_wrong_buffer, r"changed the model: a buffer `\d+\.last_dz` was registered")
WRONG_DEAD["a buffer registered on the layer (the dead units)"] = (
    dead_wrong_buffer, r"changed the model: a buffer `dead_units` was registered(?s:.*)Hint: a "
                       r"model's buffers")
WRONG_LAYOUT["a buffer registered on the first Linear layer"] = (
    _layout_then(_register_on_first("w_seen")),
    r"changed the model: a buffer `\d+\.w_seen` was registered")
WRONG_LAYOUT["a non-persistent buffer registered on the model"] = (
    _layout_then(lambda model: model.register_buffer("tmp", torch.ones(1), persistent=False)),
    r"changed the model: a buffer `tmp` was registered(?s:.*)Hint: a model's buffers")
WRONG_RATIOS["'before' kept as buffers on the layers"] = (
    ratios_wrong_buffers_as_before, r"changed the model: a buffer `\d+\.w_before` was registered")
RIGHT_GRAD["torch.set_num_threads(3) inside the hook"] = grad_right_sets_threads


def _restoring_print_options(right):
    def answer(*args):
        np.set_printoptions(precision=3)
        torch.set_printoptions(precision=2)
        return right(*args)
    return answer


@pytest.mark.parametrize("check, answer", [
    (ch07.check_grad_hook, _then(grad_right, lambda: torch.set_num_threads(1))),
    (ch07.check_dead_hook, dead_right_sets_one_thread),
    (ch07.check_course_layout, _then(layout_right_copy, lambda: torch.set_num_threads(3))),
    (ch07.check_update_ratios, _restoring_print_options(ratios_right_clone))],
    ids=["grad threads 1", "dead threads 1", "layout threads 3", "ratios print options"])
def test_threads_and_print_options_are_no_mistake_and_are_put_back(check, answer):
    """Only the speed (threads) or how later cells print: accepted, and put back."""
    before = _settings_now()
    accepts(check, answer, draws(3))
    assert _settings_now() == before

_SIDES = {"flush": lambda: torch.set_flush_denormal(True),
          "deterministic": lambda: torch.use_deterministic_algorithms(True),
          "threads": lambda: torch.set_num_threads(3),
          "np.random.seed": lambda: np.random.seed(0),  # noqa: NPY002
          "random.seed": lambda: random.seed(0),
          "torch.manual_seed": lambda: torch.manual_seed(0),
          "autograd off": lambda: torch.set_grad_enabled(False),
          "anomaly": lambda: torch.autograd.set_detect_anomaly(True),
          "default device": lambda: torch.set_default_device("cpu"),
          "matmul": lambda: torch.set_float32_matmul_precision("medium"),
          "print options": lambda: (np.set_printoptions(precision=3),
                                    torch.set_printoptions(precision=2)),
          "default dtype": lambda: torch.set_default_dtype(torch.float64)}


def _raising(side):
    def answer(*args):
        side()
        raise RuntimeError("the answer fails after changing the session")
    return answer


_RAISING = ("flush", "np.random.seed", "torch.manual_seed", "autograd off")


@pytest.mark.parametrize("how, side", [("returns", side) for side in _SIDES]
                         + [("raises", side) for side in _RAISING])
@pytest.mark.parametrize("check, answer", list(zip(CHECKS, RIGHT)), ids=lambda v: v.__name__)
def test_a_check_puts_back_every_setting_the_answer_changed(check, answer, how, side):
    """Refused or not, raising or not, the answer's changes to the session are undone."""
    before = _settings_now()
    wrong = (_then(answer, _SIDES[side]) if how == "returns" else _raising(_SIDES[side]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                check(wrong, seed=3)
            except ExerciseError:
                pass
        assert _settings_now() == before
    finally:
        torch.set_flush_denormal(False)
        torch.use_deterministic_algorithms(False)
        torch.set_grad_enabled(True)
        torch.set_default_dtype(torch.float32)
        torch.autograd.set_detect_anomaly(False)
        torch.set_default_device(None)
        torch.set_float32_matmul_precision("highest")
        np.set_printoptions(precision=8)
        torch.set_printoptions(precision=4)


@pytest.mark.parametrize("check, answer", list(zip(CHECKS, RIGHT)), ids=lambda v: v.__name__)
def test_a_check_keeps_a_setting_the_student_had_before(check, answer, capsys):
    """A session that flushes subnormals (or runs deterministic algorithms) before the check
    still does after it: the check compares with the session's own settings."""
    try:
        torch.set_flush_denormal(True)
        torch.use_deterministic_algorithms(True, warn_only=True)
        before = _settings_now()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                check(answer, seed=5)
            except ExerciseError:
                pass  # flushed subnormals may change a verdict: only the session matters here
        assert _settings_now() == before
    finally:
        torch.set_flush_denormal(False)
        torch.use_deterministic_algorithms(False)
