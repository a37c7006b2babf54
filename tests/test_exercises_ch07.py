"""Chapter 7's checks: a catalogue of wrong answers, each rejected with a message naming what
differs, and a catalogue of right answers written other ways, each accepted.

The wrong answers are the mistakes students make with torch: the wrong axis, a reduction that
coincides on easy inputs (sparsity vs dead units), ``<=`` for ``==``, ``any`` for ``all``,
float32, a forward hook that returns a value (it replaces the layer's output), in-place
mutation, a "before" copy that is not a copy, an off-by-one number of steps, loops where
forbidden, and calling the course's own implementation.
"""

from __future__ import annotations

import copy
import os
import sys
import warnings

import numpy as np
import pytest

from helpers import diagnostics, torch_bridge  # noqa: F401  (used inside wrong answers)
from helpers.exercises import ExerciseError, NotAnsweredYet, ch07

IN_CI = os.environ.get("CI", "").lower() == "true"
try:
    import torch
except ImportError:  # pragma: no cover
    if IN_CI:
        raise RuntimeError("torch is not installed: CI must install the torch extra") from None
    pytest.skip("needs the torch extra: pip install -e '.[torch]'", allow_module_level=True)


def passes(check, answer, capsys):
    check(answer)
    out = capsys.readouterr().out
    assert "\u2705" in out, out


def rejects(check, answer, words):
    with pytest.raises(ExerciseError) as info:
        check(answer)
    assert not isinstance(info.value, NotAnsweredYet)
    message = str(info.value)
    for word in words if isinstance(words, tuple) else (words,):
        assert word in message, message


# ------------------------------------------------------------------------------------------
# Exercise 1: record_dead, a forward hook
# ------------------------------------------------------------------------------------------

def dead_right_all(module, inputs, output):
    module.dead_log.append((output == 0).all(dim=0).double().mean().item())


def dead_right_any_not(module, inputs, output):
    alive = output.bool().any(dim=0)
    module.dead_log.append(float((~alive).sum()) / output.shape[1])


def dead_right_count_nonzero(module, inputs, output):
    # float32 for the *fraction* is fine (3/7 to 1e-8); casting the activations is not.
    module.dead_log.append((output.count_nonzero(dim=0) == 0).float().mean().item())


def dead_right_numpy(module, inputs, output):
    a = output.detach().cpu().numpy()
    module.dead_log.append(float(np.all(a == 0, axis=0).mean()))


def dead_right_abs_sum(module, inputs, output):
    module.dead_log.append(float(torch.count_nonzero(output.abs().sum(dim=0) == 0))
                           / output.size(1))


@pytest.mark.parametrize("answer", [dead_right_all, dead_right_any_not, dead_right_count_nonzero,
                                    dead_right_numpy, dead_right_abs_sum])
def test_dead_hook_right_answers_pass(answer, capsys):
    passes(ch07.check_dead_hook, answer, capsys)


def dead_wrong_axis(module, inputs, output):
    module.dead_log.append((output == 0).all(dim=1).double().mean().item())


def dead_wrong_sparsity(module, inputs, output):
    module.dead_log.append((output == 0).double().mean().item())


def dead_wrong_le(module, inputs, output):
    module.dead_log.append((output <= 0).all(dim=0).double().mean().item())


def dead_wrong_any(module, inputs, output):
    module.dead_log.append((output == 0).any(dim=0).double().mean().item())


def dead_wrong_count(module, inputs, output):
    module.dead_log.append(float((output == 0).all(dim=0).sum()))


def dead_wrong_float32(module, inputs, output):
    module.dead_log.append((output.float() == 0).all(dim=0).double().mean().item())


def dead_wrong_returns(module, inputs, output):
    frac = (output == 0).all(dim=0).double().mean().item()
    module.dead_log.append(frac)
    return frac


def dead_wrong_in_place(module, inputs, output):
    output[output.abs() < 1e-12] = 0.0  # "clean up" tiny values: changes the activations
    module.dead_log.append((output == 0).all(dim=0).double().mean().item())


def dead_wrong_overwrites_log(module, inputs, output):
    module.dead_log = [(output == 0).all(dim=0).double().mean().item()]


def dead_wrong_tensor(module, inputs, output):
    module.dead_log.append((output == 0).all(dim=0).double().mean())


def dead_wrong_loop(module, inputs, output):
    dead = 0
    for j in range(output.shape[1]):
        dead += bool((output[:, j] == 0).all())
    module.dead_log.append(dead / output.shape[1])


def dead_wrong_course(module, inputs, output):
    module.dead_log.append(diagnostics.dead_fraction_of(output.detach().numpy()))


def dead_wrong_inputs(module, inputs, output):
    module.dead_log.append((inputs[0] == 0).all(dim=0).double().mean().item())


def dead_wrong_mean_zero(module, inputs, output):
    module.dead_log.append(float((output.mean(dim=0) == 0).double().mean()))


def dead_wrong_sum_zero(module, inputs, output):
    module.dead_log.append(float((output.sum(dim=0) == 0).double().mean()))


def dead_wrong_max_zero(module, inputs, output):
    module.dead_log.append(float((output.max(dim=0).values == 0).double().mean()))


def dead_wrong_returns_detached(module, inputs, output):
    module.dead_log.append(float((output == 0).all(dim=0).double().mean()))
    return output.detach()  # same values, but cut off from autograd


def dead_wrong_tolerance(module, inputs, output):
    module.dead_log.append(float((output.abs() < 1e-12).all(dim=0).double().mean()))


def dead_wrong_no_detach_numpy(module, inputs, output):
    module.dead_log.append(float(np.all(output.numpy() == 0, axis=0).mean()))


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


@pytest.mark.parametrize("answer, words", [
    (dead_wrong_axis, "wrong axis"),
    (dead_wrong_sparsity, "sparsity"),
    (dead_wrong_le, "<= 0"),
    (dead_wrong_any, "any instead of all"),
    (dead_wrong_count, "a count of dead units"),
    (dead_wrong_float32, ("float32", "1e-300 rounds to 0")),
    (dead_wrong_returns, "replaces"),
    (dead_wrong_in_place, "changed the layer's output"),
    (dead_wrong_overwrites_log, ("2 entries", "holds 1")),
    (dead_wrong_tensor, "appended a Tensor"),
    (dead_wrong_loop, ("Python loop", "torch's reductions take a `dim`")),
    (dead_wrong_course, ("course's own", "dead_fraction_of")),
    (dead_wrong_inputs, ("recorded", "expected")),
    (dead_wrong_mean_zero, ("LeakyReLU", "zero sum (or mean)", "mixed signs")),
    (dead_wrong_sum_zero, ("LeakyReLU", "zero sum (or mean)", "mixed signs")),
    (dead_wrong_max_zero, ("LeakyReLU", "largest output of zero")),
    (dead_wrong_returns_detached, ("no longer carries autograd", "no gradient")),
    (dead_wrong_tolerance, ("*nearly* zero", "exactly zero")),
    (dead_wrong_no_detach_numpy, ("carries gradients", "out of the graph")),
], ids=lambda v: getattr(v, "__name__", None))
def test_dead_hook_wrong_answers_are_rejected(answer, words):
    rejects(ch07.check_dead_hook, answer, words)


# ------------------------------------------------------------------------------------------
# Exercise 2: course_layout
# ------------------------------------------------------------------------------------------

def linears(model):
    return [m for m in model if isinstance(m, torch.nn.Linear)]


def layout_right_copy(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().T.astype(np.float64) for m in ls],
            [m.bias.detach().numpy().astype(np.float64) for m in ls])


def layout_right_tolist(model):
    ls = linears(model)
    return [np.array(m.weight.tolist()).T for m in ls], [np.array(m.bias.tolist()) for m in ls]


def layout_right_clone(model):
    ls = linears(model)
    return ([m.weight.detach().double().clone().T.numpy() for m in ls],
            [m.bias.detach().double().clone().numpy() for m in ls])


def layout_right_state_dict(model):
    sd = model.state_dict()
    keys = [k[:-len(".weight")] for k in sd if k.endswith(".weight")]
    return ([np.array(sd[k + ".weight"].numpy().T, dtype=np.float64) for k in keys],
            [np.array(sd[k + ".bias"].numpy(), dtype=np.float64) for k in keys])


def layout_right_parameters(model):
    params = [p.detach().to(torch.float64).numpy() for p in model.parameters()]
    return ([np.array(W.T, order="C", copy=True) for W in params[0::2]],
            [b.copy() for b in params[1::2]])


@pytest.mark.parametrize("answer", [layout_right_copy, layout_right_tolist, layout_right_clone,
                                    layout_right_state_dict, layout_right_parameters])
def test_course_layout_right_answers_pass(answer, capsys):
    passes(ch07.check_course_layout, answer, capsys)


def layout_wrong_no_transpose(model):
    ls = linears(model)
    return [m.weight.detach().numpy().copy() for m in ls], [m.bias.detach().numpy().copy()
                                                            for m in ls]


def layout_wrong_reshape(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().reshape(m.in_features, m.out_features).copy() for m in ls],
            [m.bias.detach().numpy().copy() for m in ls])


def layout_wrong_square_left_alone(model):
    ls = linears(model)
    weights = []
    for m in ls:
        W = m.weight.detach().numpy().copy()
        weights.append(W if W.shape[0] == W.shape[1] else W.T.copy())
    return weights, [m.bias.detach().numpy().copy() for m in ls]


def layout_wrong_view(model):
    ls = linears(model)
    return [m.weight.detach().numpy().T for m in ls], [m.bias.detach().numpy() for m in ls]


def layout_wrong_float32(model):
    ls = linears(model)
    return ([m.weight.detach().float().numpy().T.copy() for m in ls],
            [m.bias.detach().float().numpy().copy() for m in ls])


def layout_wrong_bias_row(model):
    ls = linears(model)
    return ([m.weight.detach().numpy().T.copy() for m in ls],
            [m.bias.detach().numpy().reshape(1, -1).copy() for m in ls])


def layout_wrong_skips_output(model):
    ls = linears(model)[:-1]
    return ([m.weight.detach().numpy().T.copy() for m in ls],
            [m.bias.detach().numpy().copy() for m in ls])


def layout_wrong_reversed(model):
    weights, biases = layout_right_copy(model)
    return weights[::-1], biases[::-1]


def layout_wrong_tensors(model):
    ls = linears(model)
    return [m.weight.detach().T.clone() for m in ls], [m.bias.detach().clone() for m in ls]


def layout_wrong_mutates(model):
    for m in linears(model):
        m.weight.data = m.weight.data.t()  # "fix" the layout in the model itself
    ls = linears(model)
    return ([m.weight.detach().numpy().copy() for m in ls],
            [m.bias.detach().numpy().copy() for m in ls])


def layout_wrong_course(model):
    view = torch_bridge.TorchNet(model)
    return view.weights, view.biases


def layout_wrong_ascontiguous(model):
    # A copy for the 5x3 and 5x5 layers, but the 1x5 output weight's transpose is already
    # contiguous: np.ascontiguousarray then returns the view itself.
    ls = linears(model)
    return ([np.ascontiguousarray(m.weight.detach().numpy().T) for m in ls],
            [m.bias.detach().numpy().copy() for m in ls])


def layout_wrong_keeps_float32(model):
    # Right on the float64 model, float32 on a float32 one.
    ls = linears(model)
    return ([m.weight.detach().numpy().T.copy() for m in ls],
            [m.bias.detach().numpy().copy() for m in ls])


def layout_wrong_no_detach(model):
    ls = linears(model)
    with warnings.catch_warnings():  # numpy first retries with copy=False and warns about it
        warnings.simplefilter("ignore", DeprecationWarning)
        return [np.array(m.weight).T.copy() for m in ls], [np.array(m.bias) for m in ls]


def layout_wrong_swapped(model):
    weights, biases = layout_right_copy(model)
    return biases, weights


@pytest.mark.parametrize("answer, words", [
    (layout_wrong_no_transpose, ("shape (5, 3), expected (3, 5)", "fan_out, fan_in")),
    (layout_wrong_reshape, ("W of layer 1 differs", "reshape is not a transpose")),
    (layout_wrong_square_left_alone, ("square layer", "transpose")),
    (layout_wrong_view, "share memory"),
    (layout_wrong_float32, "dtype float32"),
    (layout_wrong_bias_row, "bias of layer 1 has shape (1, 5), expected (5,)"),
    (layout_wrong_skips_output, "returned 2 weights; the model has 3 Linear layers"),
    (layout_wrong_reversed, "W of layer 1 has shape (5, 1), expected (3, 5)"),
    (layout_wrong_ascontiguous, ("share memory", "W of layer 3")),
    (layout_wrong_keeps_float32, ("float32 model", "dtype float32")),
    (layout_wrong_no_detach, ("requires grad", "detach")),
    (layout_wrong_tensors, "is a Tensor, expected a numpy array"),
    (layout_wrong_mutates, "changed the model's parameters"),
    (layout_wrong_course, ("course's own", "TorchNet")),
    (layout_wrong_swapped, "W of layer 1 has shape (5,)"),
    (lambda model: None, "pair (weights, biases)"),
], ids=lambda v: getattr(v, "__name__", None))
def test_course_layout_wrong_answers_are_rejected(answer, words):
    rejects(ch07.check_course_layout, answer, words)


# ------------------------------------------------------------------------------------------
# Exercise 3: update_ratios
# ------------------------------------------------------------------------------------------

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
    return np.array([np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in zip(after, before)])


def ratios_right_deepcopy(model, step):
    old = copy.deepcopy(model)
    step()
    return np.array([float((n.weight - o.weight).detach().norm() / o.weight.detach().norm())
                     for n, o in zip(linears(model), linears(old))])


def ratios_right_state_dict(model, step):
    before = {k: v.clone() for k, v in model.state_dict().items() if k.endswith("weight")}
    step()
    after = model.state_dict()
    return torch.stack([(after[k] - v).norm() / v.norm() for k, v in before.items()]).numpy()


@pytest.mark.parametrize("answer", [ratios_right_clone, ratios_right_numpy, ratios_right_deepcopy,
                                    ratios_right_state_dict])
def test_update_ratios_right_answers_pass(answer, capsys):
    passes(ch07.check_update_ratios, answer, capsys)


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
                     for m, W in zip(linears(model), before)])


def ratios_wrong_after(model, step):
    before = [m.weight.detach().clone() for m in linears(model)]
    step()
    return np.array([float((m.weight.detach() - W).norm() / m.weight.detach().norm())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_norm_difference(model, step):
    before = [m.weight.detach().clone() for m in linears(model)]
    step()
    return np.array([float(abs(m.weight.detach().norm() - W.norm()) / W.norm())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_two_steps(model, step):
    before = [m.weight.detach().clone() for m in linears(model)]
    step()
    step()
    return np.array([float((m.weight.detach() - W).norm() / W.norm())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_no_step(model, step):
    return np.zeros(len(linears(model)))


def ratios_wrong_with_bias(model, step):
    before = [torch.cat([m.weight.detach().ravel(), m.bias.detach()]).clone()
              for m in linears(model)]
    step()
    after = [torch.cat([m.weight.detach().ravel(), m.bias.detach()]) for m in linears(model)]
    return np.array([float((a - b).norm() / b.norm()) for a, b in zip(after, before)])


def ratios_wrong_squared(model, step):
    before = [m.weight.detach().clone() for m in linears(model)]
    step()
    return np.array([float(((m.weight.detach() - W) ** 2).sum() / (W ** 2).sum())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_reversed(model, step):
    return ratios_right_clone(model, step)[::-1]


def ratios_wrong_float32(model, step):
    before = [m.weight.detach().float().clone() for m in linears(model)]
    step()
    return np.array([float((m.weight.detach().float() - W).norm() / W.norm())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_elementwise(model, step):
    before = [m.weight.detach().clone() for m in linears(model)]
    step()
    return np.array([float(((m.weight.detach() - W).abs() / W.abs()).mean())
                     for m, W in zip(linears(model), before)])


def ratios_wrong_course(model, step):
    return torch_bridge.TorchNet(model).update_ratios(step)


def ratios_wrong_list(model, step):
    return list(ratios_right_clone(model, step))


def ratios_wrong_tensor(model, step):
    return torch.as_tensor(ratios_right_clone(model, step))


def ratios_wrong_hidden_only(model, step):
    return ratios_right_clone(model, step)[:-1]


@pytest.mark.parametrize("answer, words", [
    (ratios_wrong_alias, ("0 for every layer", "copy")),
    (ratios_wrong_detach_only, ("0 for every layer", "shares their memory")),
    (ratios_wrong_numpy_view, "0 for every layer"),
    (ratios_wrong_after, "*after* the step"),
    (ratios_wrong_norm_difference, "difference of norms"),
    (ratios_wrong_two_steps, "called step() 2 times"),
    (ratios_wrong_no_step, "called step() 0 times"),
    (ratios_wrong_with_bias, "biases"),
    (ratios_wrong_squared, "squared"),
    (ratios_wrong_reversed, "from the output backwards"),
    (ratios_wrong_float32, "float32"),
    (ratios_wrong_elementwise, "element-wise"),
    (ratios_wrong_course, ("course's own", "TorchNet")),
    (ratios_wrong_hidden_only, "returned 2 numbers; the model has 3 Linear layers"),
    (lambda model, step: step(), "returned None"),
    (ratios_wrong_list, ("returned a list", "numpy array")),
    (ratios_wrong_tensor, ("returned a Tensor", "numpy array")),
], ids=lambda v: getattr(v, "__name__", None))
def test_update_ratios_wrong_answers_are_rejected(answer, words):
    rejects(ch07.check_update_ratios, answer, words)


# ------------------------------------------------------------------------------------------
# Unanswered, not a function, no torch, nbgrader
# ------------------------------------------------------------------------------------------

CHECKS = [ch07.check_dead_hook, ch07.check_course_layout, ch07.check_update_ratios]


def unanswered(*args):
    # YOUR CODE HERE
    raise NotImplementedError()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_unanswered_says_so_and_returns(check, capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert check(unanswered) is None
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_unanswered_fails_under_nbgrader(check, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        check(unanswered)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_not_a_function(check):
    with pytest.raises(ExerciseError, match="should be a function"):
        check(0.5)


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


def test_the_hints_name_the_idea_not_the_code():
    """No hint of a wrong answer spells out the solution's code."""
    hints = []
    for check, answers in ((ch07.check_dead_hook, [dead_wrong_axis, dead_wrong_le]),
                           (ch07.check_course_layout, [layout_wrong_view,
                                                       layout_wrong_no_transpose]),
                           (ch07.check_update_ratios, [ratios_wrong_alias, ratios_wrong_after])):
        for answer in answers:
            with pytest.raises(ExerciseError) as info:
                check(answer)
            hints.append(info.value.hint or "")
    for hint in hints:
        assert hint
        for code in ("all(dim=0)", ".clone()", ".T.copy()", ".copy()", "np.linalg.norm(",
                     ".numpy()", "== 0"):
            assert code not in hint, (code, hint)


# ------------------------------------------------------------------------------------------
# The unanswered student version of chapter 7 runs top to bottom
# ------------------------------------------------------------------------------------------

def student_version():
    """Chapter 7 with every solution replaced by nbgrader's stub."""
    import re
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
    assert stubbed == 3
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
            assert text.count("not answered yet") == 6  # three checks, three cells using answers
        else:
            assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in failed] == [
                "ch07-dead-hook-check", "ch07-course-layout-check", "ch07-update-ratios-check"]
