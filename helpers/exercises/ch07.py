"""Checks for chapter 7, the course's instruments on PyTorch: a backward hook that records
dL/dz, a dead-unit forward hook, the weight layout, update ratios over an optimizer step.

One spec per exercise (``_spec``). The inputs are PyTorch models and batches, so a case
carries a *recipe* (plain data: the layers with their weight arrays, the batches, the loss,
the optimizer step) and a *driver* runs the scenario: build the model from the recipe,
register the student's hook (or call the student's function), run forward and backward
passes, and hand back what came out as plain data (the hook's log, the layer's outputs, the
gradients that reached the parameters). The references are computed afterwards from the same
recipes, with autograd, in the checking process (the grader's, under autograding).

The cases are drawn at every check, edge cases first: unequal widths and square layers, one
sample, one unit, float32 and float64, layers built with ``bias=False``, a single Linear
layer, layers without parameters between, exact zeros next to 1e-310, gradients from 1e-150
to 1e150, steps from far below 1e-15 of the weights to far above a million times them
(no hard bound either way), then random models. What an
answer must leave alone is compared before and after: the parameters and their gradients,
every module's mode, hooks and settings, and the session (autograd, the default dtype,
torch's random generator). Without PyTorch a check says so in
one line and returns, except under nbgrader, where it fails (no points for an unchecked
answer).

The optimizer steps are written out here with torch operations, the way ``torch.optim``'s
single-tensor SGD and Adam compute them (the tests compare them with ``torch.optim``): the
first ``torch.optim`` step of a session imports much of PyTorch's compiler stack, which
would cost a check cell seconds.
"""

from __future__ import annotations

import contextlib
import math
import random
import re
import sys
from dataclasses import dataclass, field

import numpy as np

from . import _plain
from ._contract import pair, show
from ._core import ExerciseError, NotAnsweredYet, exercise_check, grading, require_callable
from ._plain import TensorData, describe
from ._spec import SPECS, Case, Spec, _arrays_in, builder, driver
from ._trace import Forbidden

__all__ = [
    "COURSE_LAYOUT",
    "DEAD_HOOK",
    "GRAD_HOOK",
    "UPDATE_RATIOS",
    "build_layer",
    "build_model",
    "case_objects",
    "check_course_layout",
    "check_dead_hook",
    "check_grad_hook",
    "check_update_ratios",
]

# The course's own implementations of these statistics: "write it yourself" means none of them.
COURSE_CODE = Forbidden(("helpers.torch_bridge:*", "helpers.diagnostics:*"),
                        why="the task asks you to write it yourself, with torch (or numpy)",
                        hint="write the statistic out with torch (or numpy) operations; the "
                             "names you import the course's code under do not matter, the "
                             "check sees what runs.")
_FLOATS = {"float32": np.float32, "float64": np.float64}


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


def _import_torch():
    import torch
    return torch


def _check(spec: Spec, answer, seed: int | None) -> None:
    """A check cell: the answer must be a function; without torch, say so in one line (fail
    under nbgrader); then the spec's check."""
    require_callable(answer, f"`{spec.answers[0]}`")
    if _torch(spec.what) is None:
        return
    spec.check(answer, seed=seed)


# --------------------------------------------------------------------------------------
# Drivers: trace the answer, not the scenario around it
# --------------------------------------------------------------------------------------

@contextlib.contextmanager
def _one_thread():
    """torch on one thread for the block: these networks are tiny, and on a busy machine
    several threads make each pass many times slower (the setting is restored after)."""
    torch = _import_torch()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _single_threaded(fn):
    def run(*args, **kwargs):
        with _one_thread():
            return fn(*args, **kwargs)
    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return run


@contextlib.contextmanager
def _traced_answers(answers, kept: list | None = None, *, session: bool = False):
    """Inside a driver: the check's tracer (``_trace``) pauses for the driver's own work
    (building the model, torch's forward and backward machinery, reading what came out) and
    runs while the student's functions do, which this yields wrapped.

    Tracing every call costs microseconds, and torch's Python layers make thousands of calls
    per pass: traced whole, a scenario takes several times as long, and the Python work the
    check compares for loops would be mostly torch's. A tracer that the answer replaced stays
    replaced, so the check still sees it (the trace is then incomplete).

    What the answer did to the session's settings (``_settings``; with ``session``, to the
    session's state too) goes to ``kept`` when the block ends, and the session is put back
    as it was, whatever the scenario raised (here, where the tracer is paused: traced, the
    look would cost more than the scenario).
    """
    profiler, tracer = sys.getprofile(), sys.gettrace()
    intact = [True]
    sys.setprofile(None)
    sys.settrace(None)
    torch = _import_torch()
    settings, state = _snapshot(session)

    def wrap(fn):
        def traced(*args, **kwargs):
            threads = torch.get_num_threads()
            sys.settrace(tracer)
            sys.setprofile(profiler)
            try:
                return fn(*args, **kwargs)
            finally:
                if sys.getprofile() is not profiler or sys.gettrace() is not tracer:
                    intact[0] = False
                sys.setprofile(None)
                sys.settrace(None)
                # torch.set_num_threads changes no result the task asks for, only speed:
                # put back at once (the rest of the scenario runs as the check set it up, and
                # the session gets its own number back when the check ends).
                if torch.get_num_threads() != threads:
                    torch.set_num_threads(threads)
        return traced

    try:
        with _one_thread():
            yield [wrap(fn) for fn in answers]
    finally:
        changes = _settle(settings, state, session)
        if kept is not None:
            kept[:] = changes
        if intact[0]:
            sys.settrace(tracer)
            sys.setprofile(profiler)


def _flushes_denormals() -> bool:
    """Whether this thread flushes subnormal numbers to zero (torch.set_flush_denormal(True),
    which numpy's arithmetic on the thread follows too): torch has no getter, so the
    smallest subnormal times one tells."""
    return float(np.float64(5e-324) * np.float64(1.0)) == 0.0


_NP_STATE: list = []  # [bit generator, a view of its key and position], made once


def _np_rng_state() -> np.ndarray:
    """A copy of where numpy's global (legacy) generator stands, the one np.random.seed resets:
    its Mersenne Twister key and position (624 + 1 numbers), read in place through numpy's
    documented ``BitGenerator.ctypes.state_address`` (np.random.get_state costs some 50
    microseconds a call, twice per scenario)."""
    bits = np.random.mtrand._rand._bit_generator
    if not _NP_STATE or _NP_STATE[0] is not bits:
        import ctypes
        _NP_STATE[:] = [bits, np.ctypeslib.as_array(
            (ctypes.c_uint32 * 625).from_address(bits.ctypes.state_address))]
    return _NP_STATE[1].copy()


def _settings() -> dict:
    """The session's settings that no answer of this chapter has a reason to change, beyond
    those ``_session_state`` keeps: subnormals flushed or not, deterministic algorithms, and
    numpy's and Python's global random generators."""
    torch = _import_torch()
    return {"flush_denormal": _flushes_denormals(),
            "deterministic": (torch.are_deterministic_algorithms_enabled(),
                              torch.is_deterministic_algorithms_warn_only_enabled()),
            "anomaly": (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()),
            "matmul": torch.get_float32_matmul_precision(),
            # (only put back: how later cells print changes no result, and on this CPU a
            # default device set to "cpu" only makes every tensor creation slower)
            "print": (np.get_printoptions(), dict(vars(torch._tensor_str.PRINT_OPTS))),
            "device": getattr(torch._GLOBAL_DEVICE_CONTEXT, "device_context", None),
            "np_rng": _np_rng_state(), "py_rng": random.getstate()}


def _settings_changes(before: dict, after: dict) -> list[list[str]]:
    """How the settings ``after`` differ from ``before``, as [kind, what] pairs."""
    changes = []
    if after["flush_denormal"] != before["flush_denormal"]:
        changes.append(["flush_denormal", "subnormal numbers are "
                        + ("now flushed to zero" if after["flush_denormal"] else
                           "no longer flushed to zero")
                        + " in the whole session (torch.set_flush_denormal("
                        f"{after['flush_denormal']}))"])
    if after["deterministic"] != before["deterministic"]:
        changes.append(["deterministic", "torch.use_deterministic_algorithms went from "
                        f"{before['deterministic'][0]} to {after['deterministic'][0]}"
                        + (" (warn_only)" if after["deterministic"][1] else "")
                        + " for the whole session"])
    if after["anomaly"] != before["anomaly"]:
        changes.append(["anomaly", "autograd's anomaly detection went from "
                        f"{before['anomaly'][0]} to {after['anomaly'][0]} for the whole session "
                        "(torch.autograd.set_detect_anomaly)"])
    if after["matmul"] != before["matmul"]:
        changes.append(["matmul", "torch.set_float32_matmul_precision went from "
                        f"{before['matmul']!r} to {after['matmul']!r} for the whole session"])
    if after["np_rng"].tobytes() != before["np_rng"].tobytes():
        changes.append(["np_rng", "numpy's global random generator is not where it was "
                                  "(reseeded with np.random.seed, or numbers drawn from it)"])
    if after["py_rng"] != before["py_rng"]:
        changes.append(["np_rng", "Python's random generator is not where it was (reseeded "
                                  "with random.seed, or numbers drawn from it)"])
    return changes


def _restore_settings(state: dict, now: dict) -> None:
    """The settings as ``state`` had them (``now``: as they are)."""
    torch = _import_torch()
    if now["flush_denormal"] != state["flush_denormal"]:
        torch.set_flush_denormal(state["flush_denormal"])
    if now["deterministic"] != state["deterministic"]:
        torch.use_deterministic_algorithms(state["deterministic"][0],
                                           warn_only=state["deterministic"][1])
    if now["anomaly"] != state["anomaly"]:
        torch.autograd.set_detect_anomaly(*state["anomaly"])
    if now["matmul"] != state["matmul"]:
        torch.set_float32_matmul_precision(state["matmul"])
    if now["device"] is not state["device"]:
        torch.set_default_device(None if state["device"] is None else state["device"].device)
    if now["print"] != state["print"]:
        np.set_printoptions(**state["print"][0])
        vars(torch._tensor_str.PRINT_OPTS).update(state["print"][1])
    if now["np_rng"].tobytes() != state["np_rng"].tobytes():
        key = state["np_rng"]
        np.random.set_state(("MT19937", key[:624], int(key[624])))  # noqa: NPY002
    if now["py_rng"] != state["py_rng"]:
        random.setstate(state["py_rng"])


def _snapshot(session: bool) -> tuple:
    """The settings, and the session's state (with its global hooks when ``session``)."""
    torch = _import_torch()
    return _settings(), (_session_state() if session else
                         {"grad_enabled": torch.is_grad_enabled(),
                          "default_dtype": torch.get_default_dtype(),
                          "rng": torch.get_rng_state()})


def _settle(settings: dict, state: dict, session: bool) -> list[list[str]]:
    """The changes to the settings since ``_snapshot`` (and to the session's state, when
    ``session``), as [kind, what] pairs; everything put back as it was."""
    torch = _import_torch()
    now = _settings()
    changes = _settings_changes(settings, now)
    if changes or now["print"] != settings["print"] or now["device"] is not settings["device"]:
        _restore_settings(settings, now)
    if session:
        changes += _session_changes(state, _session_state())
    if (torch.is_grad_enabled() != state["grad_enabled"]
            or torch.get_default_dtype() != state["default_dtype"]
            or not _same_bytes(torch.get_rng_state(), state["rng"])):
        _restore_session(state)
    return changes


def _same_bytes(a, b) -> bool:
    """Two random generator states (uint8 tensors) alike, compared as bytes (fast)."""
    return a.numpy().tobytes() == b.numpy().tobytes()


def _untraced(fn, *args):
    """Call the check's own ``fn`` (an optimizer step the answer calls) without tracing it."""
    profiler, tracer = sys.getprofile(), sys.gettrace()
    sys.setprofile(None)
    sys.settrace(None)
    try:
        return fn(*args)
    finally:
        sys.settrace(tracer)
        sys.setprofile(profiler)


# --------------------------------------------------------------------------------------
# Recipes: layers and models as plain data
# --------------------------------------------------------------------------------------

def _linear_recipe(rng, fan_in: int, fan_out: int, dtype: str, *, bias: bool = True,
                   frozen: bool = False, bias_value: float | None = None) -> dict:
    """A Linear layer with weights drawn here (stored as torch keeps them: fan_out x fan_in)."""
    W = rng.normal(0.0, 1.0 / math.sqrt(fan_in), (fan_out, fan_in)).astype(_FLOATS[dtype])
    b = None
    if bias:
        b = (np.full(fan_out, bias_value) if bias_value is not None
             else rng.normal(0.0, 0.5, fan_out)).astype(_FLOATS[dtype])
    return {"type": "linear", "W": W, "b": b, "frozen": frozen}


def build_layer(layer: dict, dtype: str = "float64"):
    """The torch module of one layer recipe (``{"type": "relu"}``, ``{"type": "linear", ...}``)."""
    torch = _import_torch()
    nn, kind = torch.nn, layer["type"]
    if kind == "linear":
        W = np.asarray(layer["W"])
        state = torch.get_rng_state()  # nn.Linear draws initial weights: keep the session's RNG
        try:
            # (a subclass of nn.Linear where the recipe says: torch's own, which
            # nn.MultiheadAttention uses; it computes what nn.Linear does)
            kind_of = (nn.modules.linear.NonDynamicallyQuantizableLinear
                       if layer.get("subclass") else nn.Linear)
            lin = kind_of(W.shape[1], W.shape[0], bias=layer["b"] is not None,
                          dtype=getattr(torch, dtype))
        finally:
            torch.set_rng_state(state)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(W))
            if layer["b"] is not None:
                lin.bias.copy_(torch.as_tensor(np.asarray(layer["b"])))
        if layer.get("frozen"):
            lin.requires_grad_(False)
        return lin
    simple = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}
    if kind in simple:
        return simple[kind]()
    if kind == "leaky_relu":
        return nn.LeakyReLU(float(layer["slope"]))
    if kind == "elu":
        return nn.ELU(float(layer.get("alpha", 1.0)))
    if kind == "gelu":
        return nn.GELU(approximate="tanh")
    if kind == "dropout":
        # p = 0 unless the recipe says: passes its input on, in training mode too (a rate
        # above 0 only where no forward pass runs in training mode)
        return nn.Dropout(float(layer.get("p", 0.0)))
    if kind == "softmax":
        return nn.Softmax(dim=1)
    raise ExerciseError(f"the check cannot build a layer of type {kind!r}.")


@builder("ch07.model")
def build_model(layers, dtype: str = "float64", training: bool = True):
    """A ``torch.nn.Sequential`` from a model recipe (what a failing case names), in training
    mode or (``training=False``) in evaluation mode."""
    torch = _import_torch()
    return torch.nn.Sequential(*[build_layer(layer, dtype) for layer in layers]).train(
        bool(training))


@builder("ch07.layer")
def _build_layer_recipe(**layer):
    return build_layer(layer)


def _linears(model) -> list:
    torch = _import_torch()
    return [m for m in model if isinstance(m, torch.nn.Linear)]


def _describe_model(layers, dtype: str) -> str:
    """'3->5 ReLU 5->5 (no bias) ...' for a case label."""
    parts = []
    for layer in layers:
        if layer["type"] == "linear":
            W = np.asarray(layer["W"])
            extra = (" no bias" if layer["b"] is None else "") + (" frozen" if layer.get(
                "frozen") else "") + (", a subclass of Linear" if layer.get("subclass") else "")
            parts.append(f"Linear({W.shape[1]}, {W.shape[0]}{extra})")
        else:
            parts.append({"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "identity":
                          "Identity", "leaky_relu": "LeakyReLU", "elu": "ELU", "gelu": "GELU",
                          "dropout": "Dropout", "softmax": "Softmax"}[layer["type"]])
    return f"{' '.join(parts)}, {dtype}"


_ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu")


def _activation_recipe(rng, kinds=_ACTIVATIONS) -> dict:
    kind = str(rng.choice(kinds))
    layer = {"type": kind}
    if kind == "leaky_relu":
        layer["slope"] = float(rng.choice([0.01, 0.1, 0.2]))
    return layer


def _random_layers(rng, dtype: str, *, depth: int, max_width: int = 8, bias_off: float = 0.3,
                   fan_in: int | None = None, fan_out: int | None = None,
                   between=("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "identity",
                            "dropout"), frozen: float = 0.0, subclass: float = 0.0) -> list[dict]:
    """Linear layers of random widths (1 to ``max_width``), each followed but the last by a
    layer without parameters; some without bias, some frozen, some (``subclass``) of a
    subclass of nn.Linear."""
    widths = [fan_in or int(rng.integers(1, max_width + 1))]
    widths += [int(rng.integers(1, max_width + 1)) for _ in range(depth - 1)]
    widths.append(fan_out or int(rng.integers(1, max_width + 1)))
    layers = []
    for k in range(depth):
        layers.append(_linear_recipe(rng, widths[k], widths[k + 1], dtype,
                                     bias=bool(rng.random() >= bias_off),
                                     frozen=bool(rng.random() < frozen)))
        if rng.random() < subclass:
            layers[-1]["subclass"] = True
        if k < depth - 1:
            layers.append(_activation_recipe(rng, between))
    if all(la.get("frozen") for la in layers if la["type"] == "linear"):
        layers[-1 if layers[-1]["type"] == "linear" else -2]["frozen"] = False  # one that learns
    return layers


# --------------------------------------------------------------------------------------
# Reading what came back
# --------------------------------------------------------------------------------------

def _record(result, keys, what: str) -> dict:
    """The driver's record of one case; anything else means the grading code was changed."""
    if not isinstance(result, dict) or any(k not in result for k in keys):
        raise ExerciseError(f"the check's record of {what} on this case is incomplete.",
                            "run the check cell unchanged, right after your answer cell.")
    return result


def _as_float_entry(entry, what: str, hint: str) -> float:
    """One logged statistic: a Python float (numpy's float64 is one too); says what came."""
    if type(entry) is float or isinstance(entry, np.float64):
        return float(entry)
    if isinstance(entry, TensorData):
        came = f"a torch tensor of shape {entry.shape}"
    elif isinstance(entry, np.ndarray):
        came = f"a numpy array of shape {entry.shape}"
    elif isinstance(entry, (bool, np.bool_)):
        came = f"the bool {entry!r}"
    elif isinstance(entry, (int, np.integer)):
        came = f"the integer {entry!r}"
    elif isinstance(entry, np.floating):
        came = f"a numpy {entry.dtype} number"
    else:
        came = describe(entry)
    raise ExerciseError(f"{what} appended {came}; it should append a Python float.", hint)


def _tensor_array(got) -> np.ndarray | None:
    return got.array if isinstance(got, TensorData) else None


def _close(got: float, expected: float, rtol: float, atol: float = 0.0) -> bool:
    return math.isfinite(got) and abs(got - expected) <= atol + rtol * abs(expected)


def _same_array(a, b, rtol: float = 0.0) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if rtol == 0:
        return bool(np.array_equal(a, b, equal_nan=True))
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.allclose(a.astype(float), b.astype(float), rtol=rtol, atol=0.0,
                                equal_nan=True))


# --------------------------------------------------------------------------------------
# What an answer must leave as it found it
# --------------------------------------------------------------------------------------

def _model_state(model) -> dict:
    """A model's state that an answer must not change: each parameter (the tensor object, its
    values, dtype and requires_grad, the tensor hooks left on it), each module's training
    mode, hooks and other attributes (Dropout's p, LeakyReLU's negative_slope, ELU's alpha,
    inplace...), and the session's state (``_session_state``)."""
    return {"params": [(name, p, p.detach().clone(), str(p.dtype).replace("torch.", ""),
                        bool(p.requires_grad)) for name, p in model.named_parameters()],
            # Where each parameter's values live: a round trip (.double() then .to(...), or
            # .data swapped and back) leaves an equal tensor in new memory, which an earlier
            # view of the weights no longer follows.
            "storage": [p.data_ptr() for p in model.parameters()],
            "modes": [(name, m.training) for name, m in model.named_modules()],
            "modules": _modules_state(model, buffers := []),
            "param_hooks": _param_hooks(model),
            "grads": [None if p.grad is None else p.grad.detach().clone()
                      for p in model.parameters()],
            "buffers": buffers,
            **_session_state()}


def _buffer_state(model) -> list:
    """Each buffer of each module (by name): the tensor object, its dtype, where its values
    live, and a copy of them (BatchNorm's running statistics, or any ``register_buffer``)."""
    out: list = []
    for m_name, m in model.named_modules():
        _buffers_of(m_name, m, out)
    return out


def _buffers_of(m_name: str, m, out: list) -> None:
    for key, b in (m.__dict__.get("_buffers") or {}).items():
        out.append((f"{m_name}.{key}" if m_name else key, b,
                    None if b is None else (str(b.dtype).replace("torch.", ""), b.data_ptr(),
                                            b.detach().clone())))


def _buffer_changes(before: list, after: list) -> list[list[str]]:
    """Buffers added, removed, replaced, converted or changed, as [kind, what] pairs."""
    torch = _import_torch()
    old, new = {n: (b, d) for n, b, d in before}, {n: (b, d) for n, b, d in after}
    changes = []
    for name in [n for n, *_ in after if n not in old]:
        changes.append(["buffer", f"a buffer `{name}` was registered on the model"])
    for name in [n for n, *_ in before if n not in new]:
        changes.append(["buffer", f"the buffer `{name}` was removed"])
    for name, (b0, d0) in old.items():
        if name not in new:
            continue
        b1, d1 = new[name]
        if b1 is not b0:
            changes.append(["buffer", f"the buffer `{name}` was replaced by another tensor"])
        elif d0 is not None and (d1[:2] != d0[:2] or d1[2].shape != d0[2].shape
                                 or not torch.equal(d1[2], d0[2])):
            changes.append(["buffer", f"the buffer `{name}` changed (values, dtype or memory)"])
    return changes


# A module's own bookkeeping, compared otherwise (parameters, submodules) or not at all.
_MODULE_SKIP = frozenset({"_parameters", "_buffers", "_non_persistent_buffers_set", "_modules",
                          "training"})


def _modules_state(model, buffers: list) -> list:
    """Per module (by name): its hooks (each hooks dict's entries, by identity) and its other
    attributes (a shallow copy of each value: numbers, flags, strings, sets); its buffers go
    to ``buffers`` (``_buffer_state``)."""
    out = []
    for name, m in model.named_modules():
        _buffers_of(name, m, buffers)
        hooks, attrs = {}, {}
        for key, value in vars(m).items():
            if key in _MODULE_SKIP:
                continue
            if "hooks" in key and isinstance(value, dict):
                hooks[key] = [(k, id(v)) for k, v in value.items()]
            else:
                attrs[key] = value.copy() if isinstance(value, (set, dict, list)) else value
        out.append((name, type(m).__name__, hooks, attrs))
    return out


def _param_hooks(model) -> list:
    """The tensor hooks on each parameter (``p.register_hook``, post-accumulate hooks)."""
    return [(name, [id(h) for h in (getattr(p, "_backward_hooks", None) or {}).values()],
             [id(h) for h in (getattr(p, "_post_accumulate_grad_hooks", None) or {}).values()])
            for name, p in model.named_parameters()]


def _same_value(a, b) -> bool:
    if a is b:
        return True
    try:
        return bool(type(a) is type(b) and a == b)
    except Exception:  # values whose == is not a bool (arrays, tensors): their identity
        return False


def _module_changes(before: list, after: list) -> list[list[str]]:
    """How the modules' hooks and attributes differ, as [kind, what] pairs."""
    changes = []
    for (name, kind, hooks0, attrs0), (_, _, hooks1, attrs1) in zip(before, after):
        where = f"layer `{name}` ({kind})" if name else "the model"
        for key in sorted(set(hooks0) | set(hooks1)):
            h0, h1 = hooks0.get(key, []), hooks1.get(key, [])
            if h0 != h1:
                what = key.strip("_").replace("_", " ")
                verb = ("has a hook added to its" if len(h1) > len(h0) else
                        "has a hook removed from its" if len(h1) < len(h0) else
                        "has a hook replaced in its")
                changes.append(["hook", f"{where} {verb} {what} (`{key}`)"])
        for key in sorted(set(attrs0) | set(attrs1), key=str):
            if key not in attrs0:
                changes.append(["attribute", f"{where} has a new attribute `{key}`"])
            elif key not in attrs1:
                changes.append(["attribute", f"{where} lost its attribute `{key}`"])
            elif not _same_value(attrs0[key], attrs1[key]):
                changes.append(["setting", f"`{key}` of {where} went from {attrs0[key]!r} to "
                                           f"{attrs1[key]!r}"])
    return changes


def _session_state() -> dict:
    """The session's state an answer must not change: autograd's switch, the default dtype,
    torch's random generator and the hooks registered for every module."""
    torch = _import_torch()
    module = torch.nn.modules.module
    if not _GLOBAL_HOOKS:  # (their names, found once: dir() of the module costs)
        _GLOBAL_HOOKS[:] = [name for name in dir(module) if name.startswith("_global_")
                            and name.endswith("hooks") and isinstance(getattr(module, name), dict)]
    return {"grad_enabled": torch.is_grad_enabled(), "default_dtype": torch.get_default_dtype(),
            "rng": torch.get_rng_state(),
            "global_hooks": {name: list(map(id, getattr(module, name).values()))
                             for name in _GLOBAL_HOOKS}}


_GLOBAL_HOOKS: list = []


def _restore_session(state: dict) -> None:
    """Autograd's switch, the default dtype and the random generator as ``state`` had them."""
    torch = _import_torch()
    torch.set_grad_enabled(state["grad_enabled"])
    torch.set_default_dtype(state["default_dtype"])
    torch.set_rng_state(state["rng"])


def _session_changes(before: dict, after: dict) -> list[list[str]]:
    """How the session state ``after`` differs from ``before``, as [kind, what] pairs."""
    changes = []
    if after["grad_enabled"] != before["grad_enabled"] and before["grad_enabled"]:
        changes.append(["grad_enabled", "autograd is switched off for the whole session "
                                        "(torch.is_grad_enabled() is now False)"])
    elif after["grad_enabled"] != before["grad_enabled"]:
        changes.append(["grad_on", "called inside the caller's `with torch.no_grad():` block, "
                                   "it switched autograd on (torch.is_grad_enabled() is now "
                                   "True)"])
    if after["default_dtype"] != before["default_dtype"]:
        changes.append(["default_dtype", "the session's default dtype went from "
                        f"{str(before['default_dtype']).replace('torch.', '')} to "
                        f"{str(after['default_dtype']).replace('torch.', '')}"])
    if not _same_bytes(after["rng"], before["rng"]):
        changes.append(["rng", "torch's random generator is not where it was (reseeded with "
                               "torch.manual_seed, or numbers drawn from it)"])
    if after["global_hooks"] != before["global_hooks"]:
        changes.append(["global_hook", "the hooks registered for every module of the session "
                                       "(torch.nn.modules.module.register_module_..._hook) "
                                       "changed"])
    return changes


def _state_changes(before: dict, model, *, values: bool = True,
                   grads: bool = False) -> list[list[str]]:
    """How ``model`` differs from the state ``before``, as [kind, what] pairs (plain data for
    the judge); ``values``: compare the parameters' values too (not after a step); ``grads``:
    compare their gradients too."""
    torch = _import_torch()
    after = _model_state(model)
    changes = _session_changes(before, after)
    if [n for n, *_ in after["params"]] != [n for n, *_ in before["params"]]:
        changes.append(["params", "its parameters are not the same ones (added, removed or "
                                  "renamed)"])
    else:
        for i, ((name, p0, v0, d0, r0), (_, p1, v1, d1, r1)) in enumerate(
                zip(before["params"], after["params"])):
            if p1 is not p0:
                changes.append(["replaced", f"the parameter `{name}` was replaced by another "
                                            "tensor"])
            elif d1 != d0:
                changes.append(["dtype", f"the dtype of `{name}` went from {d0} to {d1}"])
            elif r1 != r0:
                changes.append(["requires_grad", f"requires_grad of `{name}` went from {r0} "
                                                 f"to {r1}"])
            elif after["storage"][i] != before["storage"][i]:
                changes.append(["storage", f"the values of `{name}` were moved to new memory "
                                           "(its .data replaced, or converted and back)"])
            elif values and (v1.shape != v0.shape or not torch.equal(v1, v0)):
                changes.append(["values", f"the values of `{name}` changed"])
        for (name, *_), g0, g1 in zip(before["params"], before["grads"], after["grads"]):
            if grads and ((g0 is None) != (g1 is None) or g0 is not None and not (
                    g0.shape == g1.shape and torch.equal(g0, g1))):
                changes.append(["grads", f"the gradient of `{name}` was zeroed, removed or "
                                         "changed"])
                break
    for (name, m0), (_, m1) in zip(before["modes"], after["modes"]):
        if m0 != m1:
            changes.append(["mode", f"{f'layer `{name}`' if name else 'the model'} went from "
                                    f"{'training' if m0 else 'evaluation'} to "
                                    f"{'training' if m1 else 'evaluation'} mode"])
            break
    if [n for n, *_ in after["modules"]] != [n for n, *_ in before["modules"]]:
        changes.append(["modules", "its layers are not the same ones (added, removed or "
                                   "replaced)"])
    else:
        changes += _module_changes(before["modules"], after["modules"])
    changes += _param_hook_changes(before["param_hooks"], after["param_hooks"])
    changes += _buffer_changes(before["buffers"], after["buffers"])
    return changes


def _param_hook_changes(before: list, after: list) -> list[list[str]]:
    """Tensor hooks added to (or removed from) the parameters, as [kind, what] pairs."""
    changes = []
    for (name, b0, p0), (_, b1, p1) in zip(before, after):
        if b0 != b1 or p0 != p1:
            left = len(b1) + len(p1) > len(b0) + len(p0)
            changes.append(["param_hook", f"`{name}` has "
                            + ("a tensor hook left on it" if left else "its tensor hooks "
                               "changed") + " (a tensor hook acts on every later backward "
                            "pass)"])
    return changes


_CHANGE_HINTS = {
    "grad_enabled": "torch.set_grad_enabled(False) changes the whole session: read tensors with "
                    ".detach(), or inside a `with torch.no_grad():` block, which ends.",
    "grad_on": "torch.set_grad_enabled(True) at the end does not restore what the caller had: "
               "a `with torch.no_grad():` block (or .detach()) leaves autograd as it found it.",
    "default_dtype": "torch.set_default_dtype changes every tensor created afterwards, in the "
                     "whole session: convert your copies instead (.double(), .to(...)).",
    "grads": "whoever trains the model reads the gradients its last backward pass left: "
             "reading the weights needs no zero_grad().",
    "params": "read the model's parameters; do not add, remove or rename any.",
    "replaced": "whoever trains the model (its optimizer) holds the parameter tensors "
                "themselves: read them, do not assign new ones to the layers.",
    "dtype": ".double(), .float() and .to() on a module or parameter convert the model itself, "
             "for everyone who uses it afterwards: convert copies of the values instead.",
    "requires_grad": "requires_grad_(False) freezes the parameter for whoever trains the model "
                     "next: to read values, take them out of autograd's graph with .detach().",
    "mode": "model.eval() (or .train()) switches the model's mode for whoever uses it next "
            "(Dropout and BatchNorm layers behave differently): reading parameters needs no "
            "mode.",
    "storage": "an optimizer, and any view of the weights taken earlier, follow the "
               "parameter's memory: .double() then .to(...), or assigning .data, replaces it "
               "even when the values come back equal. Convert copies instead.",
    "values": "read the parameters; build new arrays instead of transposing or converting the "
              "model's tensors in place.",
    "rng": "torch.manual_seed (or any draw from torch's generator) changes the random numbers "
           "of everything after it in the session: initial weights, dropout masks, shuffles. "
           "The task needs no random numbers.",
    "global_hook": "a hook registered for every module acts on every model of the session: "
                   "the task needs none.",
    "flush_denormal": "torch.set_flush_denormal(True) turns every later subnormal number of the "
                      "session (below about 2.2e-308 in float64) into an exact zero, in torch "
                      "and numpy alike: a unit alive by a subnormal output looks dead. The task "
                      "needs no such setting.",
    "deterministic": "torch.use_deterministic_algorithms changes every later operation of the "
                     "session (those without a deterministic version raise an error, or warn). "
                     "These computations are deterministic already: the task needs no such "
                     "setting.",
    "anomaly": "anomaly detection makes every later backward pass of the session slower, and "
               "raise an error where a gradient is NaN: the task needs no such setting "
               "(`with torch.autograd.detect_anomaly():` ends with its block).",
    "matmul": "a float32 matrix product precision other than the caller's changes what every "
              "later float32 model of the session computes: the task needs no such setting.",
    "np_rng": "np.random.seed (or random.seed, or a draw from either generator) changes the "
              "random numbers of every later cell of the session. The task needs no random "
              "numbers.",
    "buffer": "a model's buffers (registered with register_buffer, as BatchNorm's running "
              "statistics are) are part of its state: saved, loaded and moved with it. Keep what "
              "you need in your own variables, and change no buffer.",
    "hook": "a hook left on a layer keeps acting on every later pass, for whoever uses the "
            "model next (a forward hook that returns a value replaces the layer's output): "
            "register none, or remove it (handle.remove()) before you return.",
    "param_hook": "a tensor hook on a parameter (p.register_hook(...)) stays on it and acts on "
                  "every later backward pass: register none, or remove it before you return.",
    "setting": "a layer's settings (Dropout's p, LeakyReLU's negative_slope, ELU's alpha, "
               "inplace) decide what the model computes from then on: read the model, change "
               "nothing of it.",
    "attribute": "whoever uses the model next gets it as you leave it: keep what you need in "
                 "your own variables, not on the model or its layers.",
    "modules": "read the model's layers; do not add, remove or replace any.",
}

_SESSION_KINDS = ("grad_enabled", "grad_on", "default_dtype", "rng", "global_hook",
                  "flush_denormal", "deterministic", "anomaly", "matmul", "np_rng")


def _judge_changes(what: str, changes, leave: str,
                   leave_session: str = "The task asks you to leave the session as it is."
                   ) -> None:
    """Fail with the first change an answer made to what it should have left alone; ``leave``
    says what the task asks of the model, ``leave_session`` of the session."""
    if not isinstance(changes, list) or not changes:
        return
    kind, text = (changes[0] + ["", ""])[:2] if isinstance(changes[0], list) else ("", "")
    more = f" (and {len(changes) - 1} more change{'s' if len(changes) > 2 else ''})" \
        if len(changes) > 1 else ""
    session = kind in _SESSION_KINDS
    raise ExerciseError(f"{what} changed {'the session' if session else 'the model'}: "
                        f"{text}{more}. {leave_session if session else leave}",
                        _CHANGE_HINTS.get(kind, _CHANGE_HINTS["values"]))


# --------------------------------------------------------------------------------------
# The whole draw: which known mistake an answer makes, and a case's objects by hand
# --------------------------------------------------------------------------------------

_WHERE = re.compile(r'helpers\.exercises\.case\("(?P<id>[^"]+)", (?P<seed>\d+), (?P<i>\d+)\)')


class _ChapterSpec(Spec):
    """A Spec with two additions for this chapter's checks (and no memory layouts drawn: a
    driver turns every array of a recipe into a tensor of its own with ``torch.tensor`` or
    copies it into a parameter, so an answer never sees the recipe's arrays, and a strided or
    Fortran-order recipe would only cost copies and mislabel the case).

    - ``survey(cases, observations, expected) -> dict``: runs once per draw, after every
      answer ran and before any case is judged, over the whole draw; the judges read what it
      found from ``spec.context`` (e.g. the one known mistake that gives the answer's values on
      *every* case, which a single case cannot tell from a coincidence).
    - A failure message that names a case also says how to build that case's objects (a
      model, its batches, a step) from its recipe: ``case_objects(...)``.

    The references are computed once per draw (the survey and the judges share them).
    """

    def __init__(self, *args, survey=None, builds: str = "", **kwargs):
        kwargs.setdefault("layouts", False)
        super().__init__(*args, **kwargs)
        self.survey, self.builds = survey, builds
        self.context: dict | None = None
        self._references: dict | None = None

    def expected(self, case: Case):
        if self._references is None:
            return super().expected(case)
        if id(case) not in self._references:
            self._references[id(case)] = super().expected(case)
        return self._references[id(case)]

    def verdict(self, cases, observations, seed: int) -> None:
        self._references, self.context = {}, None
        try:
            if self.survey is not None and all(o.status != "not_answered" for o in observations):
                try:
                    self.context = self.survey(cases, observations,
                                               [self.expected(c) for c in cases])
                except Exception:  # a result the survey cannot read: the judges say what
                    self.context = None
            super().verdict(cases, observations, seed)
        except NotAnsweredYet:
            raise
        except ExerciseError as err:
            found = _WHERE.search(err.where or "")
            if found is None:
                raise
            extra = (f" That is a recipe (plain data); `ch07.case_objects(\"{found['id']}\", "
                     f"{found['seed']}, {found['i']})` builds {self.builds} from it.")
            raise ExerciseError(err.problem, err.hint, err.where + extra) from None
        finally:
            self._references = self.context = None


def _named(spec: _ChapterSpec) -> str | None:
    """The known mistake the survey found behind every value of the draw (or None)."""
    return (spec.context or {}).get("named")


@dataclass
class _Value:
    """One value an answer gave in a draw, the right one, and what each known mistake gives
    there: (name, variant, value, tolerance of a match); the value is NaN where a mistake says
    nothing (grad_input on a layer that has none). Variants share a name (a tolerance of 1e-12
    or of 1e-8 is the same mistake)."""

    got: float
    right: float
    ok: bool           # got is right, to the case's tolerance
    mistakes: list = field(default_factory=list)


def _matches(got: float, wrong: float, right: float, tol: float) -> bool:
    """``got`` is ``wrong``, to ``tol`` of the larger of the two values at stake."""
    return math.isfinite(got) and abs(got - wrong) <= tol * max(abs(wrong), abs(right))


def _explained_by(values: list[_Value], right_too=None,
                  nan_matches: bool = False) -> str | None:
    """The known mistake behind an answer's values: the one name of which a variant gives the
    answer's value everywhere in the draw (where it says anything), and differs from the right
    value somewhere the answer does (by more than 1e-12 of it, or where ``right_too(wrong,
    right)`` is false, for a check that holds its values closer). ``nan_matches``: where the
    mistake gives NaN and the answer NaN too (0 / 0 of weights that float32 rounds to 0), the
    mistake says that value. None when no name, or more than one, fits: the message then says
    what differs rather than guess from a coincidence on one case."""
    if right_too is None:
        def right_too(w, r):
            return _matches(w, r, r, 1e-12)
    if all(v.ok for v in values):
        return None

    def both_nan(v, w):  # (or both the same infinity)
        return nan_matches and not math.isfinite(w) and (w == v.got or (
            math.isnan(w) and math.isnan(v.got)))

    seen: dict[tuple, list] = {}
    for v in values:
        for name, variant, wrong, tol in v.mistakes:
            seen.setdefault((name, variant), []).append((v, wrong, tol))
    wrong = sum(not v.ok for v in values)
    fits = set()
    for (name, _), rows in seen.items():
        said = [(v, w, t) for v, w, t in rows if math.isfinite(w) or both_nan(v, w)]
        # every value the answer gives is this mistake's, every wrong one among them ...
        if not all(both_nan(v, w) or _matches(v.got, w, v.right, t) for v, w, t in said) or sum(
                not v.ok for v, _, _ in said) < wrong:
            continue
        # ... and the mistake is not the right answer in disguise
        if any(not v.ok and not right_too(w, v.right) for v, w, _ in said):
            fits.add(name)
    return fits.pop() if len(fits) == 1 else None


# --------------------------------------------------------------------------------------
# Exercise 1: a backward hook that records ||dL/dz|| of a Linear layer
# --------------------------------------------------------------------------------------

_GRAD_WHAT = "`record_grad_norm(module, grad_input, grad_output)`"
_GRAD_HINT = ("grad_output[0] is dL/dz, the gradient of the loss with respect to the layer's "
              "output z, for the whole batch (n_samples, n_units), or with more axes for a "
              "batch of sequences; record its norm: the square root of the sum of all its "
              "squared entries.")
_LOSSES = ("bce", "bce_logits", "mse", "cross_entropy", "sum_squares")


def _loss(torch, loss: dict, out, target):
    F = torch.nn.functional
    kind, scale = loss["kind"], float(loss.get("scale", 1.0))
    if kind == "bce":            # the model ends with a Sigmoid; the mean over all entries
        value = F.binary_cross_entropy(out, torch.as_tensor(target, dtype=out.dtype))
    elif kind == "bce_logits":   # the model gives logits; the same loss, computed stably
        value = F.binary_cross_entropy_with_logits(out, torch.as_tensor(target, dtype=out.dtype))
    elif kind == "mse":
        value = torch.mean((out - torch.as_tensor(target, dtype=out.dtype)) ** 2)
    elif kind == "cross_entropy":
        value = F.cross_entropy(out, torch.as_tensor(target))
    else:                        # sum_squares: summed, not averaged, over the batch
        value = torch.sum((out - torch.as_tensor(target, dtype=out.dtype)) ** 2)
    return value * scale if scale != 1.0 else value


def _target(rng, kind: str, n: int, n_out: int, dtype: str):
    if kind in ("bce", "bce_logits"):
        return rng.integers(0, 2, (n, n_out)).astype(_FLOATS[dtype])
    if kind == "cross_entropy":
        return rng.integers(0, n_out, n).astype(np.int64)
    return rng.normal(0.0, 1.0, (n, n_out)).astype(_FLOATS[dtype])


def _grad_case(rng, label: str, layers: list, dtype: str, loss: str, sizes: list[int], *,
               scale: float = 1.0, x_grad: bool = False, x_scale: float = 1.0,
               y_scale: float = 1.0, training: bool = True, steps=0, resets=(),
               unbatched: bool = False, fast: bool = False) -> Case:
    """A case of the backward hook; ``steps``: batches of sequences, (n, steps, features),
    or of more axes (a tuple of their lengths), with a float loss (Linear acts on the last
    axis). ``resets``: (pass, k) pairs: before that backward pass (counted from 0) the caller
    puts a new list holding k entries already in every layer's ``grad_log``. ``unbatched``:
    each batch is one sample without the batch axis, X of shape (features,) (a float loss):
    dL/dz then has one axis. ``fast``: a tall batch, X and a float target drawn uniform in
    -1..1 (a tenth of the cost of normal draws)."""
    n_in = np.asarray(layers[0]["W"]).shape[1]
    n_out = np.asarray([la for la in layers if la["type"] == "linear"][-1]["W"]).shape[0]
    axes = tuple(int(a) for a in steps) if isinstance(steps, (tuple, list)) else (
        (steps,) if steps else ())
    batches = [{"X": (x_scale * rng.normal(0.0, 1.0, (n, *axes, n_in))).astype(_FLOATS[dtype]),
                "y": (rng.normal(0.0, 1.0, (n, *axes, n_out)).astype(_FLOATS[dtype]) if steps
                      else _target(rng, loss, n, n_out, dtype))} for n in sizes]
    if fast:
        batches = [{"X": rng.random((n, *axes, n_in)) * 2.0 - 1.0,
                    "y": rng.random((n, *axes, n_out)) * 2.0 - 1.0} for n in sizes]
    if unbatched:
        batches = [{"X": (x_scale * rng.normal(0.0, 1.0, n_in)).astype(_FLOATS[dtype]),
                    "y": rng.normal(0.0, 1.0, n_out).astype(_FLOATS[dtype])} for _ in sizes]
    if y_scale != 1.0:  # targets of a regression (a float loss), larger than the outputs
        for batch in batches:
            batch["y"] = batch["y"] * _FLOATS[dtype](y_scale)
    recipe = {"model": {"layers": layers, "dtype": dtype, "training": training},
              "batches": batches, "loss": {"kind": loss, "scale": scale}, "x_grad": x_grad}
    if resets:
        recipe["resets"] = [[int(b), int(k)] for b, k in resets]
    return Case(label, (recipe,), driver="ch07.backward_hook")


def _draw_grad_hook(rng) -> list[Case]:
    f64, f32 = "float64", "float32"
    # Drawn scales near float64's ends: dL/dz entries of about 1e-150 to 1e-140 (smaller
    # ones have squares below the smallest normal float64, and every norm, torch's and
    # numpy's too, loses them) and of 1e140 to 1e150 (larger ones have squares beyond
    # float64's largest): no cut-off or cap in between passes.
    tiny = float(10 ** rng.uniform(-150, -140))
    big = float(10 ** rng.uniform(140, 150))
    # A tall batch of a random size, over 130,000 samples (beyond 65,536, and beyond what
    # earlier checks drew), up to 260,000; one draw in six far larger: 330,000 to 700,000
    # samples through a wider layer, dL/dz of 2 to 4 million entries. A
    # subsample, a cut-off or a lower precision kept for large batches (by samples or by
    # entries, whatever the size it starts at) shows.
    far = bool(rng.random() < 1 / 6)
    n_tall = int(130_001 * 2 ** rng.uniform(0, 1)) if not far else int(
        10 ** rng.uniform(math.log10(330_000), math.log10(700_000)))
    w_tall = 3 if not far else 2_000_000 // n_tall + 1 + int(rng.integers(0, 3))
    # A wide layer (17 to 1,024 units): an answer that reads the first units only shows. A
    # batch of sequences of 4 to 12 steps, and one of four axes.
    wide = int(rng.integers(17, 1025))
    n_steps = int(rng.integers(4, 13))
    axes4 = (int(rng.integers(2, 6)), int(rng.integers(2, 6)))
    # Many backward passes (8 to 14), with the log handed over holding some entries already,
    # and replaced by the caller with a new list (holding 0 to 2 entries) before a pass that
    # leaves 6 or more after it: the hook appends to the list that is there, keeps all its
    # entries and no log of its own.
    n_passes = int(rng.integers(8, 15))
    reset_at = int(rng.integers(2, n_passes - 5))
    resets = [(0, int(rng.integers(1, 8))), (reset_at, int(rng.integers(0, 3)))]
    lin = _linear_recipe
    cases = [
        _grad_case(rng, "the chapter's network: Linear(2, 16) Tanh Linear(16, 16) Tanh "
                   "Linear(16, 1) Sigmoid, mean binary cross-entropy, two batches",
                   [lin(rng, 2, 16, f64), {"type": "tanh"}, lin(rng, 16, 16, f64),
                    {"type": "tanh"}, lin(rng, 16, 1, f64), {"type": "sigmoid"}],
                   f64, "bce", [int(rng.integers(12, 40)), int(rng.integers(2, 9))]),
        _grad_case(rng, "a float32 model (PyTorch's default): Linear(3, 5) ReLU Linear(5, 2), "
                   "mean squared error",
                   [lin(rng, 3, 5, f32), {"type": "relu"}, lin(rng, 5, 2, f32)], f32, "mse",
                   [int(rng.integers(5, 20))]),
        _grad_case(rng, "one Linear(4, 3) layer and nothing else, mean squared error (its "
                   "grad_input[0] is None: the data need no gradient)",
                   [lin(rng, 4, 3, f64)], f64, "mse", [int(rng.integers(3, 12)), 2]),
        _grad_case(rng, "a ReLU network whose second hidden layer is dead (biases -50): dL/dz "
                   "is exactly 0 in the two layers below it",
                   [lin(rng, 3, 6, f64), {"type": "relu"},
                    lin(rng, 6, 5, f64, bias_value=-50.0), {"type": "relu"},
                    lin(rng, 5, 1, f64)], f64, "bce_logits", [int(rng.integers(4, 15))]),
        _grad_case(rng, f"the loss scaled by {tiny:.0e} (float64): every dL/dz is about "
                   f"{tiny:.0e}, far below what float32 can hold",
                   [lin(rng, 3, 4, f64), {"type": "tanh"}, lin(rng, 4, 2, f64)],
                   f64, "mse", [int(rng.integers(4, 12))], scale=tiny),
        _grad_case(rng, "one sample, 3 classes, cross-entropy from the logits, inputs that need "
                   "gradients (grad_input[0] is then not None)",
                   [lin(rng, 4, 5, f64), {"type": "tanh"}, lin(rng, 5, 3, f64)], f64,
                   "cross_entropy", [1, 1], x_grad=True),
        _grad_case(rng, "square layers: Linear(5, 5) three times, inputs that need gradients "
                   "(grad_input and grad_output have the same shape)",
                   [lin(rng, 5, 5, f64), {"type": "tanh"}, lin(rng, 5, 5, f64),
                    {"type": "leaky_relu", "slope": 0.1}, lin(rng, 5, 5, f64)], f64, "mse",
                   [int(rng.integers(3, 10)), int(rng.integers(3, 10))], x_grad=True),
        _grad_case(rng, "a summed squared error over 200 samples with targets of size 100: "
                   "gradients in the thousands",
                   [lin(rng, 2, 8, f64), {"type": "elu"}, lin(rng, 8, 8, f64),
                    {"type": "gelu"}, lin(rng, 8, 1, f64)], f64, "sum_squares", [200],
                   x_scale=3.0, y_scale=100.0),
        # Gradients far larger (entries of 1e140 and more), and a batch of about 50,000
        # samples: a clamp, a NaN guard, a cast or a subsample that never acts on small
        # gradients and small batches acts here.
        _grad_case(rng, f"the loss scaled by {big:.0e} (float64): dL/dz entries of about "
                   f"{big:.0e}", [lin(rng, 3, 5, f64), {"type": "tanh"}, lin(rng, 5, 2, f64)],
                   f64, "mse", [int(rng.integers(4, 12))], scale=big, y_scale=10.0),
        # (one layer: the cost of a pass is the batch's)
        _grad_case(rng, f"a batch of {n_tall:,} samples through one Linear(2, {w_tall}) layer "
                   f"(dL/dz of {n_tall * w_tall:,} entries), mean squared error",
                   [lin(rng, 2, w_tall, f64)], f64, "mse", [n_tall], fast=True),
        # A batch of sequences (three axes): dL/dz has three too, and its norm takes every
        # entry (a matrix norm gives one per sample).
        _grad_case(rng, f"a batch of sequences, X of shape (n, {n_steps}, 4): Linear(4, 5) "
                   "Tanh Linear(5, 2) act on the last axis, so dL/dz has shape (n, "
                   f"{n_steps}, units); mean squared error",
                   [lin(rng, 4, 5, f64), {"type": "tanh"}, lin(rng, 5, 2, f64)],
                   f64, "mse", [int(rng.integers(2, 8))], steps=n_steps),
        _grad_case(rng, f"a batch with four axes, X of shape (n, {axes4[0]}, {axes4[1]}, 3): "
                   "Linear(3, 4) Tanh Linear(4, 2) act on the last axis; mean squared error",
                   [lin(rng, 3, 4, f64), {"type": "tanh"}, lin(rng, 4, 2, f64)],
                   f64, "mse", [int(rng.integers(2, 6))], steps=axes4),
        # Gradients flow in eval mode too (it only changes dropout and batch norm): the hook
        # records every backward pass, whatever the mode, and the log keeps every entry.
        _grad_case(rng, f"a model in eval mode: Linear(3, {wide}) Tanh Linear({wide}, 2), mean "
                   f"squared error, {n_passes} backward passes (the hook records in any mode); "
                   f"each `grad_log` holds {resets[0][1]} entr{'y' if resets[0][1] == 1 else 'ies'}"
                   f" already, and before pass {reset_at + 1} the caller puts a new list "
                   f"holding {resets[1][1]} in its place (as `layer.grad_log = []` does)",
                   [lin(rng, 3, wide, f64), {"type": "tanh"}, lin(rng, wide, 2, f64)], f64,
                   "mse", [int(rng.integers(3, 10)) for _ in range(n_passes)],
                   training=False, resets=resets),
        # One sample without the batch axis (Linear accepts it): dL/dz has a single axis, and
        # its norm takes every entry all the same.
        _grad_case(rng, "an unbatched input: X of shape (4,), one sample without the batch "
                   "axis, so dL/dz has one axis (units,); Linear(4, 6) Tanh Linear(6, 3), mean "
                   "squared error, two backward passes",
                   [lin(rng, 4, 6, f64), {"type": "tanh"}, lin(rng, 6, 3, f64)], f64, "mse",
                   [1, 1], unbatched=True),
    ]
    for j in range(3):
        dtype = str(rng.choice([f64, f32]))
        loss = str(rng.choice(_LOSSES))
        n_out = 1 if loss == "bce" else int(rng.integers(2 if loss == "cross_entropy" else 1,
                                                          5))
        # (the third of random width too: up to 8 units, or 9 to 200)
        layers = _random_layers(rng, dtype, depth=int(rng.integers(1, 5)), fan_out=n_out,
                                between=_ACTIVATIONS + ("identity", "dropout"),
                                max_width=8 if j < 2 else int(rng.integers(9, 201)))
        if loss == "bce":
            layers.append({"type": "sigmoid"})
        sizes = [int(rng.integers(1, 30)) for _ in range(int(rng.integers(1, 3)))]
        x_grad = bool(rng.random() < 0.3)
        cases.append(_grad_case(rng, f"random model {j + 1}: {_describe_model(layers, dtype)}, "
                                f"{loss.replace('_', ' ')} loss, batches of "
                                f"{', '.join(map(str, sizes))}"
                                + (", inputs that need gradients" if x_grad else ""),
                                layers, dtype, loss, sizes, x_grad=x_grad))
    return cases


@driver("ch07.backward_hook")
def _drive_grad_hook(answers, recipe):
    """Register the hook on every Linear layer, run a forward and backward pass per batch, and
    keep each layer's log, the gradients that reached the parameters (every one: weights and
    biases) and the input, and what the hook changed in the session and in the parameters
    (requires_grad, tensor hooks left on them)."""
    kept_settings: list = []
    with _traced_answers(answers, kept_settings) as (hook,):
        torch = _import_torch()
        model = build_model(**recipe["model"])
        linears = _linears(model)
        handles: list = []
        resets = {int(b): int(k) for b, k in recipe.get("resets", ())}
        segments: list = [[] for _ in linears]  # per layer: [log, entries put in, first pass]

        def new_logs(b):
            for lin, segs in zip(linears, segments):
                log = _prefilled(resets.get(b, 0))
                lin.grad_log = log
                segs.append([log, len(log), b])
        new_logs(0)
        param_grads, input_grads = [], []
        session = _session_state()
        flags = [(name, bool(p.requires_grad)) for name, p in model.named_parameters()]
        param_hooks, buffers = _param_hooks(model), _buffer_state(model)
        try:
            for lin in linears:
                handles.append(lin.register_full_backward_hook(hook))
            for b, batch in enumerate(recipe["batches"]):
                if b and b in resets:
                    new_logs(b)
                model.zero_grad(set_to_none=True)
                x = torch.tensor(batch["X"], requires_grad=bool(recipe["x_grad"]))
                _loss(torch, recipe["loss"], model(x), batch["y"]).backward()
                param_grads.append([p.grad for p in model.parameters()])
                input_grads.append(x.grad if recipe["x_grad"] else None)
        finally:
            for h in handles:
                h.remove()
            changes = _session_changes(session, _session_state())
            _restore_session(session)  # the session as it was
        changes += [["requires_grad", f"requires_grad of `{name}` went from {r0} to "
                                      f"{bool(p.requires_grad)}"]
                    for (name, r0), p in zip(flags, model.parameters())
                    if bool(p.requires_grad) != r0]
        changes += _param_hook_changes(param_hooks, _param_hooks(model))
        changes += _buffer_changes(buffers, _buffer_state(model))
        replaced = [lin.__dict__.get("grad_log") is not segs[-1][0]
                    for lin, segs in zip(linears, segments)]
        logs, kept = _log_segments(segments, len(recipe["batches"]))
    return {"logs": logs, "replaced": replaced, "param_grads": param_grads,
            "input_grads": input_grads, "changes": kept_settings + changes, "segments": kept}


def _prefilled(k: int) -> list:
    """A log as a caller may hand it over: holding ``k`` entries already (plain floats)."""
    return [0.125 * (i + 1) for i in range(k)]


def _log_segments(segments: list, n_passes: int) -> tuple[list, list]:
    """Per layer, the entries appended to its logs (each log's new entries, in order), and
    per log what the judge needs: [first pass, passes it saw, entries put in, length, whether
    those entries are still there, unchanged]."""
    logs, kept = [], []
    for segs in segments:
        entries, info = [], []
        for j, (log, k, start) in enumerate(segs):
            end = segs[j + 1][2] if j + 1 < len(segs) else n_passes
            if not isinstance(log, list):
                info.append([start, end - start, k, None, False])
                continue
            intact = log[:k] == _prefilled(k) and all(type(v) is float for v in log[:k])
            info.append([start, end - start, k, len(log), bool(intact)])
            entries.extend(log[k:])
        logs.append(entries)
        kept.append(info)
    return logs, kept


def _param_names(recipe: dict) -> list[tuple[int, str]]:
    """(Linear layer index, "weights" or "bias") of each parameter, in the model's order."""
    names = []
    for k, layer in enumerate(la for la in recipe["model"]["layers"] if la["type"] == "linear"):
        names.append((k, "weights"))
        if layer["b"] is not None:
            names.append((k, "bias"))
    return names


@_single_threaded
def _grad_reference(case: Case) -> dict:
    """dL/dz of every Linear layer (a tensor hook on z, as TorchNet does), dL/d(its input),
    and the gradients of the parameters and of the data, batch by batch, without the
    student."""
    torch = _import_torch()
    recipe = case.args[0]
    model = build_model(**recipe["model"])
    linears = _linears(model)
    dz, dx = {}, {}

    def watch(k):
        def hook(module, inputs, z):
            # (no copy: each pass makes new gradient tensors, and the view keeps its own alive)
            z.register_hook(lambda g: dz.__setitem__(k, g.detach().numpy()))
            if inputs[0].requires_grad:
                inputs[0].register_hook(lambda g: dx.__setitem__(k, g.detach().numpy()))
        return hook

    handles = [lin.register_forward_hook(watch(k)) for k, lin in enumerate(linears)]
    out = {"dz": [], "dx": [], "param_grads": [], "input_grads": []}
    try:
        for batch in recipe["batches"]:
            dz.clear()
            dx.clear()
            model.zero_grad(set_to_none=True)
            x = torch.tensor(batch["X"], requires_grad=bool(recipe["x_grad"]))
            _loss(torch, recipe["loss"], model(x), batch["y"]).backward()
            out["dz"].append([dz[k] for k in range(len(linears))])
            out["dx"].append([dx.get(k) for k in range(len(linears))])
            # (zero_grad(set_to_none=True) above: the next pass makes new .grad tensors)
            out["param_grads"].append([None if p.grad is None else p.grad.numpy()
                                       for p in model.parameters()])
            out["input_grads"].append(x.grad.numpy() if recipe["x_grad"] else None)
    finally:
        for h in handles:
            h.remove()
    return out


def _spectral_norm(g: np.ndarray) -> float:
    """The largest singular value of a 2-D ``g`` (from the small matrix g^T g), else NaN."""
    if g.ndim != 2:
        return math.nan
    with np.errstate(all="ignore"):  # (the smaller of the two: a wide layer has few samples)
        gram = g.T @ g if g.shape[0] >= g.shape[1] else g @ g.T
    if not np.isfinite(gram).all():
        return math.nan
    return math.sqrt(max(float(np.linalg.eigvalsh(gram)[-1]), 0.0))


def _grad_mistakes(g: np.ndarray, gx, right: float) -> dict[str, float]:
    """What the usual wrong statistics of dL/dz (g, and dL/d input gx) give."""
    g64 = g.astype(np.float64)
    with np.errstate(all="ignore"):
        mistakes = {
            # where the layer has no grad_input[0] (the first layer, data without gradients),
            # an answer that reads it would fail, or fall back to grad_output[0]
            "the norm of grad_input[0], the gradient with respect to the layer's *input*, not "
            "of grad_output[0], the one with respect to its output z":
                float(np.linalg.norm(gx)) if gx is not None else right,
            "the squared norm: the sum of squares without the square root": right**2,
            "the mean of the entries, not their norm": float(np.mean(g64)),
            "the mean of the absolute values, not the norm": float(np.mean(np.abs(g64))),
            "the largest absolute entry, not the norm": float(np.max(np.abs(g64))),
            "the sum of the absolute values (an L1 norm), not the Euclidean norm":
                float(np.sum(np.abs(g64))),
            "the norm of the first sample's gradient only, not of the whole batch":
                float(np.linalg.norm(g64[0])),
            # (on a batch of sequences: norms along axis 1, as the same code gives there)
            "the mean of the per-sample norms, not the norm of the whole batch":
                float(np.mean(np.linalg.norm(g64, axis=1))) if g.ndim > 1 else math.nan,
            "the norm of the gradient summed over the samples: that is the bias's gradient, "
            "not dL/dz": float(np.linalg.norm(g64.sum(axis=0))),
            "the spectral norm (ord=2, the largest singular value), not the Euclidean norm of "
            "all the entries": _spectral_norm(g64),
            "the root mean square (the norm divided by the square root of the number of "
            "entries)": right / math.sqrt(g.size),
            "the norm times the number of samples": right * g.shape[0],
            "the norm divided by the number of samples": right / g.shape[0],
        }
    return mistakes


def _grad_rtol(case: Case) -> float:
    return 1e-9 if case.args[0]["model"]["dtype"] == "float64" else 1e-5


def _is_float_entry(entry) -> bool:
    return type(entry) is float or isinstance(entry, np.float64)


def _survey_grad(cases, observations, refs) -> dict:
    """Every norm the hook recorded in the draw, against the right one and the known mistakes
    (computed only where a norm is wrong: a right answer's draw needs none of them)."""
    if _all_grad_norms_right(cases, observations, refs):
        return {"named": None}
    values = []
    for c, o, ref in zip(cases, observations, refs):
        logs = o.result.get("logs") if o.status == "returned" and isinstance(o.result,
                                                                               dict) else None
        rtol = _grad_rtol(c)
        for b, (dz, dx) in enumerate(zip(ref["dz"], ref["dx"])):
            for k, (g, gx) in enumerate(zip(dz, dx)):
                entry = _index(logs, k, b)
                if not _is_float_entry(entry):
                    continue
                got, right = float(entry), float(np.linalg.norm(g.astype(np.float64)))
                values.append(_Value(got, right, _close(got, right, rtol), [
                    (name, "", wrong, max(rtol, 1e-6))
                    for name, wrong in _grad_mistakes(g, gx, right).items()]))
    return {"named": _explained_by(values)}


def _all_grad_norms_right(cases, observations, refs) -> bool:
    for c, o, ref in zip(cases, observations, refs):
        logs = o.result.get("logs") if o.status == "returned" and isinstance(o.result,
                                                                               dict) else None
        rtol = _grad_rtol(c)
        for b, dz in enumerate(ref["dz"]):
            for k, g in enumerate(dz):
                entry = _index(logs, k, b)
                if _is_float_entry(entry) and not _close(
                        float(entry), float(np.linalg.norm(g.astype(np.float64))), rtol):
                    return False
    return True


def _judge_grad_hook(case: Case, obs, expected) -> None:
    what = _GRAD_WHAT
    recipe = case.args[0]
    res = _record(obs.result, ("logs", "replaced", "param_grads", "input_grads", "changes",
                               "segments"), what)
    _judge_changes(what, res["changes"], "A hook only records: whoever trains the model next "
                                         "uses it as the hook leaves it.",
                   "A hook only records: the rest of the notebook runs in the session it "
                   "leaves.")
    dtype = recipe["model"]["dtype"]
    rtol = _grad_rtol(case)
    n_batches, n_layers = len(recipe["batches"]), len(expected["dz"][0])
    passes = f"{n_batches} backward pass{'es' if n_batches > 1 else ''}"
    # The gradients must be those of the model without the hook: it only watches.
    names = _param_names(recipe)
    for b in range(n_batches):
        on = f" on backward pass {b + 1} of {n_batches}" if n_batches > 1 else ""
        for i, (k, kind) in enumerate(names):
            got = _index(res["param_grads"], b, i)
            ref = expected["param_grads"][b][i]
            # (bit for bit: the same passes give the same gradients; a hook that returns a
            # scaled grad_input changes them by as little as it likes)
            if ref is None and got is None:
                continue
            got = _tensor_array(got)
            if ref is not None and got is not None and _same_array(got, ref):
                continue
            state = ("is missing (None)" if got is None else "exists, where the model has "
                     "none" if ref is None else "differs from the model's own")
            if kind == "weights":
                raise ExerciseError(
                    f"with {what} attached, the gradient of Linear layer {k + 1}'s weights "
                    f"{state}{on}: the hook changed the gradients that flow back.",
                    "a backward hook that returns a value replaces grad_input, the gradient "
                    "passed on to the layers before; a hook that only records returns nothing "
                    "(None), and modifies no tensor it is given.")
            raise ExerciseError(
                f"with {what} attached, the gradient of Linear layer {k + 1}'s bias {state}"
                f"{on}: the hook changed it.",
                "a hook that only records leaves every gradient alone, the biases' too: it "
                "registers no tensor hook on a parameter, assigns no .grad and switches no "
                "requires_grad.")
        if expected["input_grads"][b] is not None:
            got = _tensor_array(_index(res["input_grads"], b))
            if got is None or not _same_array(got, expected["input_grads"][b]):
                raise ExerciseError(
                    f"with {what} attached, the gradient that reaches the input data differs "
                    "from the model's own: the hook changed grad_input of the first layer.",
                    "a backward hook that returns a value replaces grad_input; one that only "
                    "records returns nothing (None).")
    logs, replaced = res["logs"], res["replaced"]
    for k in range(n_layers):
        if _index(replaced, k):
            raise ExerciseError(
                f"{what} replaced `module.grad_log` of Linear layer {k + 1} with a new object.",
                "append to the list that is already there (whoever made it holds it and reads "
                "it afterwards).")
        _judge_log_segments(_index(res["segments"], k), "grad_log",
                            f"Linear layer {k + 1} of {n_layers}", "backward pass",
                            "autograd calls the hook once per backward pass: append one number "
                            "per call.")
        log = _index(logs, k)
        if not isinstance(log, list) or len(log) != n_batches:
            n = len(log) if isinstance(log, list) else describe(log)
            raise ExerciseError(
                f"after {passes} `module.grad_log` of Linear layer {k + 1} of {n_layers} "
                f"holds {n} entries; it should hold {n_batches}, one per backward pass.",
                "autograd calls the hook once per backward pass: append one number per call.")
    hint_float = "turn the one-element result into a plain number (a Python float) first."
    for b in range(n_batches):
        for k in range(n_layers):
            got = _as_float_entry(logs[k][b], f"{what} (Linear layer {k + 1})", hint_float)
            right = float(np.linalg.norm(expected["dz"][b][k].astype(np.float64)))
            if _close(got, right, rtol):
                continue
            on = (f"Linear layer {k + 1} of {n_layers}"
                  + (f", backward pass {b + 1} of {n_batches}" if n_batches > 1 else ""))
            shown, wanted = pair(got, right)
            problem = f"{what} recorded {shown} for {on}, expected ||dL/dz|| = {wanted}"
            if got == 0 and 0 < right < 1e-30:
                raise ExerciseError(
                    f"{problem}: a gradient this small is still not zero; a lower precision "
                    "(float32 or float16) or a cut-off turns it into 0.",
                    "compute the norm in the gradient's own precision, with no threshold.")
            if right > 1e30 and 0 < got < right * (1 - 1e-3):
                raise ExerciseError(
                    f"{problem}: a gradient this large is still a number to record as it is; "
                    "a cap (min(...), a clamp, clipping) makes it smaller.",
                    "record the norm itself, with no cap: an exploding gradient is what the "
                    "log is there to show.")
            named = _named(GRAD_HOOK)
            if named is not None:
                raise ExerciseError(f"{problem}: it looks like {named}.", _GRAD_HINT)
            rows = expected["dz"][b][k].shape[0]
            if rows >= 10_000 and right > 0 and not _close(got, right, 1e-5):
                raise ExerciseError(
                    f"{problem}: a relative difference of {abs(got - right) / right:.1e} on a "
                    f"batch of {rows:,} samples, more than any rounding leaves: it looks like the "
                    "norm of part of the batch (a subsample, or the first rows only), scaled up "
                    "or not, or a norm computed in a lower precision (float32 or float16).",
                    "the norm takes every entry of every sample, however large the batch, in "
                    "the gradient's own precision: no subsample, no conversion.")
            if right > 0 and _close(got, right, 1e-3):
                raise ExerciseError(
                    f"{problem}: a relative difference of {abs(got - right) / right:.1e}, more "
                    f"than a {dtype} computation leaves (the check allows {rtol:g}).",
                    "keep the gradient's own precision: no conversion to a lower precision on "
                    "the way, and no rounding.")
            raise ExerciseError(problem + ".", _GRAD_HINT)


def _judge_log_segments(segments, name: str, where: str, event: str, hint: str) -> None:
    """The logs one layer had (see ``_log_segments``): each holds the entries it was handed
    over with, unchanged, then exactly one new entry per call since."""
    if not isinstance(segments, list):
        raise ExerciseError(f"the check's record of `module.{name}` is incomplete.",
                            "run the check cell unchanged, right after your answer cell.")
    several = len(segments) > 1
    for start, seen, k, length, intact in segments:
        plural = "es" if event.endswith(("s", "h")) else "s"
        calls = f"{seen} {event}{plural if seen != 1 else ''}"
        if start == 0 and not k and not several:
            head = f"after {calls} `module.{name}` of {where}"
        elif start == 0:
            head = (f"`module.{name}` of {where} was handed over holding {k} "
                    f"entr{'y' if k == 1 else 'ies'} already; after {calls} it")
        else:
            head = (f"before {event} {start + 1} the caller put a new list holding {k} "
                    f"entr{'y' if k == 1 else 'ies'} in `module.{name}` of {where} (as "
                    f"`layer.{name} = []` does); after the {calls} since, it")
        want = k + seen
        if length is None:
            raise ExerciseError(f"{head} is no longer a list.", hint)
        if length != want or not intact:
            problem = (f"{head} holds {length} entries; it should hold {want}"
                       + (f": the {k} it had, then one per {event}" if k else
                          f", one per {event}"))
            if not intact and length >= k:
                problem += (f"; the {k} entries it had were changed or removed" if k > 1 else
                            "; the entry it had was changed or removed")
            raise ExerciseError(
                problem + ".", hint + f" Append to the list that is in `module.{name}` when "
                "the hook runs, keep what it holds already, and keep no log of your own (the "
                "caller may put a new list there at any time).")


def _index(value, *path):
    """value[path[0]][path[1]]... or None where the record does not have it."""
    for i in path:
        if not isinstance(value, (list, tuple)) or not 0 <= i < len(value):
            return None
        value = value[i]
    return value


def _explain_grad_hook(case: Case, obs) -> str | None:
    error = obs.error
    if "NoneType" in error:
        return ("something the hook read is None: grad_input[0] on the first layer, where the "
                "data need no gradient, or a weight's .grad, which autograd has not filled in "
                "yet while the hook runs. dL/dz is grad_output[0], which every Linear layer "
                "gets.")
    if "hook" in error and ("size" in error or "return" in error or "tuple" in error
                            or "grad_input" in error or "number of" in error):
        return ("whatever a backward hook returns replaces grad_input, the gradient passed on to "
                "the layers before: a hook that only records returns nothing (None).")
    if "inplace" in error or "in-place" in error:
        return ("the gradients a hook receives are used again after it returns: read them "
                "without modifying them.")
    if "only one element tensors" in error:
        return ("the hook records one number for the whole batch, whatever its number of axes: "
                "on a batch of sequences dL/dz has three, and a matrix norm gives one per "
                "sample. Take the norm of all its entries.")
    if "requires grad" in error or "numpy()" in error:
        return ("take the tensor out of autograd's graph (detach it) before converting it to "
                "numpy.")
    return None


GRAD_HOOK = _ChapterSpec(
    "ch07.grad_hook", check="ch07.check_grad_hook", grade_id="ch07-grad-hook-check",
    what=_GRAD_WHAT, answers=("record_grad_norm",), draw=_draw_grad_hook,
    reference_case=_grad_reference, judge=_judge_grad_hook, explain_error=_explain_grad_hook,
    forbidden=COURSE_CODE, survey=_survey_grad, builds="the model, its batches and its loss",
    passed="`record_grad_norm(module, grad_input, grad_output)` records ||dL/dz|| of every "
           "Linear layer on every backward pass tried (one layer or several, narrow and wide, "
           "float32 and float64, several losses, many passes, logs handed over with entries "
           "or replaced between passes, batches of over a hundred thousand samples and of "
           "sequences, dead layers, gradients from 1e-150 to 1e150) and leaves the gradients, the "
           "biases' included, and the parameters alone.")


@exercise_check
def check_grad_hook(record_grad_norm, *, seed: int | None = None) -> None:
    """Check the full backward hook ``record_grad_norm(module, grad_input, grad_output)``: it
    appends ||dL/dz|| (a Python float) to ``module.grad_log`` and changes no gradient."""
    _check(GRAD_HOOK, record_grad_norm, seed)


# --------------------------------------------------------------------------------------
# Exercise 2: a forward hook that records the dead fraction
# --------------------------------------------------------------------------------------

_DEAD_WHAT = "`record_dead(module, inputs, output)`"
_DEAD_HINT = ("a unit is dead when its output is exactly zero for *every* sample: test each "
              "column (unit) over all rows (samples), then take the share of units.")


def _scaled_columns(rng, z: np.ndarray) -> np.ndarray:
    """z with its rows and columns shuffled and each column scaled by a positive factor (signs,
    exact zeros and sums of zero stay; tiny values, below 1e-3, stay as they are)."""
    z = z[rng.permutation(z.shape[0])][:, rng.permutation(z.shape[1])]
    return np.where(np.abs(z) < 1e-3, z, z * rng.uniform(0.5, 2.0, z.shape[1]))


def _dead_case(label: str, layer: dict, batches: list, *, grad: bool = False,
               evaluating: bool = False, resets=(), **kw) -> Case:
    """A case of the dead-unit hook; ``evaluating`` runs the layer as at validation: in eval
    mode and under torch.no_grad() (the hook records those passes too). ``resets``: (batch,
    k) pairs: before that batch (counted from 0) the caller puts a new list holding k entries
    already in ``dead_log``."""
    recipe = {"layer": layer, "batches": batches, "grad": grad, "evaluating": evaluating}
    if resets:
        recipe["resets"] = [[int(b), int(k)] for b, k in resets]
    return Case(label, (recipe,), driver="ch07.forward_hook", **kw)


#: The smallest positive (subnormal) number of each float type: a unit whose only nonzero
#: output is this one is alive, and its mean output rounds to 0.
_SMALLEST = {"float64": float(np.nextafter(np.float64(0), np.float64(1))),
             "float32": float(np.nextafter(np.float32(0), np.float32(1)))}


def _random_dead_batch(rng, kind: str, n: int, units: int, dtype: str) -> np.ndarray:
    z = rng.normal(0.0, 1.0, (n, units)) * rng.uniform(0.3, 3.0)
    z[rng.random((n, units)) < 0.15] = 0.0
    for j in rng.permutation(units)[:int(rng.integers(0, units + 1))]:
        z[:, j] = -np.abs(z[:, j]) if kind == "relu" else 0.0
    return z.astype(_FLOATS[dtype])


def _draw_dead(rng) -> list[Case]:
    # ReLU, 4 samples x 8 units: two dead (one with z = 0 throughout: the layer's inputs tell
    # it, not the others); four alive through one tiny output each, and zero on the other
    # samples (a per-sample test or `any` gets them wrong): 1e-6 (float16 keeps
    # it, a tolerance of 1e-5 does not), 2e-8 (float16 loses it, a tolerance of 1e-8 does
    # not), 1e-20 (float32 keeps it, float16 and any tolerance lose it), 1e-310 (a float64
    # subnormal: float32 and a tolerance of the smallest normal float64 lose it), and one
    # through the smallest subnormal (5e-324: its mean over the samples rounds to 0); two live
    # with some exact zeros (so the share of zero entries is not the dead fraction).
    least = _SMALLEST["float64"]
    z_relu = _scaled_columns(rng, np.array(
        [[-1.0, -2.0, -3.0, 0.5, 0.0, 2.0, 0.0, -1.0, -1.0],
         [-2.0, -1.0, 1e-310, 0.0, 0.0, 1.0, 2e-8, 1e-20, -0.5],
         [-0.5, 1e-6, -1.0, 1.0, 0.0, -1.0, -1.0, -2.0, least],
         [-3.0, -0.5, -2.0, 2.0, 0.0, 0.5, -1.0, -1.0, -2.0]]))
    # LeakyReLU(s), 3 x 8: only the unit with z = 0 everywhere is dead. Two units output
    # s, -s, 0 (a zero sum and mean), one -s, 0, 0 (a largest output of 0).
    s = float(rng.choice([0.01, 0.1, 0.2, 0.3]))
    z_leaky = _scaled_columns(rng, np.array(
        [[-1.0, 2.0, 0.0, -3.0, 1.0, s, -1.0, -1.0],
         [-2.0, -1.0, 0.0, -0.5, 0.0, -1.0, 0.0, s],
         [-0.5, 0.5, 0.0, -2.0, 2.0, 0.0, 0.0, 0.0]]))
    z_all_live = _scaled_columns(rng, np.array(
        [[0.0, 1.0, 2.0], [1.0, 0.0, 2.0], [1.0, 2.0, 0.0], [3.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    # float32, 5 x 8: two dead; units that output 1e-40 (a float32 subnormal), 1e-30 or the
    # smallest float32 subnormal (1.4e-45) once, all 0 in float16.
    least32 = _SMALLEST["float32"]
    z32 = _scaled_columns(rng, np.array(
        [[-1.0, 0.0, -1.0, -2.0, 1.0, 0.0, -1.0, -1.0],
         [-2.0, -1.0, -0.5, 1e-30, 2.0, 1.0, -2.0, -3.0],
         [-0.5, 0.0, 1e-40, -1.0, 0.5, 0.0, 3.0, -0.5],
         [-1.5, -3.0, -2.0, -0.5, 1.5, 2.0, -1.0, least32],
         [-0.1, 0.0, -1.0, -1.0, 0.1, 0.0, -0.5, -2.0]])).astype(np.float32)
    # Tanh, 4 x 5: dead only where z = 0 on every sample; a unit with only negative outputs,
    # one whose outputs are 0 and negative, and one that outputs 1e-300 once (a normal float64
    # that float32 loses) are alive.
    z_tanh = _scaled_columns(rng, np.array(
        [[0.0, -1.0, 0.0, 1.0, 0.0],
         [0.0, -2.0, -1.0, -1.0, 1e-300],
         [0.0, -0.5, 0.0, 0.5, 0.0],
         [0.0, -1.0, -2.0, 2.0, 0.0]]))
    # Sigmoid, 3 x 4: every output positive; two units with z <= 0 on every sample.
    z_sigmoid = _scaled_columns(rng, np.array(
        [[-1.0, 0.0, 2.0, -0.5],
         [-2.0, -1.0, -1.0, 0.5],
         [-0.5, -3.0, 1.0, 1.0]]))
    # float32 Sigmoid: z of -100 and below gives exactly 0 (the output underflows), so such a
    # unit is dead; one that reaches z = -80 once (an output of about 1e-35) is alive.
    n_sig, u_sig = int(rng.integers(2, 6)), int(rng.integers(5, 9))
    z_sig = rng.uniform(-3.0, 3.0, (n_sig, u_sig))
    sig_cols = rng.permutation(u_sig)
    sig_dead = sig_cols[:int(rng.integers(1, 3))]
    z_sig[:, sig_dead] = rng.uniform(-400.0, -100.0, (n_sig, sig_dead.size))
    z_sig[:, sig_cols[-1]] = rng.uniform(-400.0, -100.0, n_sig)
    z_sig[int(rng.integers(0, n_sig)), sig_cols[-1]] = rng.uniform(-80.0, -60.0)
    z_sig = z_sig.astype(np.float32)
    one_sample = [np.array([rng.permutation([-1.0, 0.0, 2.0, -0.5, 0.0, 3.0])]),
                  np.array([rng.permutation([1.0, 0.5, -2.0, 0.0, 1.5, 2.5])])]
    one_unit = [-np.abs(rng.normal(0, 1, (5, 1))), np.array([[-1.0], [0.0], [2.0], [-0.5]])]
    n_grad = int(rng.integers(4, 9))
    cases = [
        _dead_case("a ReLU layer, 4 samples x 9 units (float64), some alive through one tiny "
                   "output (down to the smallest subnormal, 5e-324), then its first 2 samples",
                   {"type": "relu"}, [z_relu, z_relu[:2].copy()]),
        _dead_case(f"a LeakyReLU({s}) layer, 3 samples x 8 units (negative outputs), then its "
                   "last 2 samples", {"type": "leaky_relu", "slope": s},
                   [z_leaky, z_leaky[1:].copy()]),
        _dead_case("a ReLU layer where every sample has a zero but no unit is zero on all",
                   {"type": "relu"}, [z_all_live]),
        _dead_case("one sample (a batch of shape (1, 6)), twice", {"type": "relu"}, one_sample),
        _dead_case("one unit (batches of shape (5, 1) and (4, 1))", {"type": "relu"}, one_unit),
        _dead_case("a float32 ReLU layer, 5 samples x 8 units, with outputs of 1e-40, 1e-30 "
                   "and 1.4e-45 (the smallest float32 subnormal)",
                   {"type": "relu"}, [z32, z32[2:].copy()]),
        _dead_case("a Tanh layer, 4 samples x 5 units (negative outputs, and z = 0)",
                   {"type": "tanh"}, [z_tanh]),
        _dead_case("a Sigmoid layer, 3 samples x 4 units (outputs between 0 and 1: none dead, "
                   "though z <= 0 throughout in some units)", {"type": "sigmoid"}, [z_sigmoid]),
        _dead_case(f"a float32 Sigmoid layer, {n_sig} samples x {u_sig} units: in "
                   f"{sig_dead.size} unit{'s' if sig_dead.size > 1 else ''} z is -100 or less "
                   "on every sample, and the output underflows to exactly 0 (dead); one unit "
                   "reaches z = -80 or more once (an output of about 1e-35: alive)",
                   {"type": "sigmoid"}, [z_sig]),
        _dead_case(f"a ReLU layer on batches that carry gradients, as in training "
                   f"({n_grad} x 5, then 3 x 5)", {"type": "relu"},
                   [_random_dead_batch(rng, "relu", n_grad, 5, "float64"),
                    _random_dead_batch(rng, "relu", 3, 5, "float64")], grad=True),
    ]
    # ELU and tanh units that never output exactly 0 are alive, however negative or
    # saturated: ELU near its floor (z of -30) or negative on every sample, tanh at +-1.
    z_elu = _scaled_columns(rng, np.array(
        [[-30.0, -1.0, 0.0, 2.0], [-40.0, -2.0, 0.0, -1.0], [-35.0, -0.5, 0.0, 1.0]]))
    z_sat = np.array([[30.0, -30.0, 0.0, 1.0], [25.0, -40.0, 0.0, -1.0],
                      [35.0, -25.0, 0.0, 0.5]])
    cases.append(_dead_case("an ELU layer, 3 samples x 4 units: one unit near ELU's floor of -1 "
                            "(z of -30 and below), one negative on every sample, one dead (z = 0)",
                            {"type": "elu"}, [z_elu]))
    cases.append(_dead_case("a Tanh layer, 3 samples x 4 units: units saturated at +1 and -1, "
                            "one dead (z = 0)", {"type": "tanh"}, [z_sat]))
    # ELU(alpha=0) outputs 0 for every z <= 0, as a ReLU does: a unit negative throughout is
    # dead there (its output, not its input z, is zero on every sample).
    cases.append(_dead_case("an ELU(alpha=0) layer, 3 samples x 4 units (it outputs 0 for every "
                            "z <= 0, like a ReLU): one unit negative on every sample, one z = 0",
                            {"type": "elu", "alpha": 0.0}, [_scaled_columns(rng, np.array(
                                [[-1.0, 0.0, 2.0, -0.5], [-2.0, 0.0, -1.0, 0.5],
                                 [-0.5, 0.0, 1.0, -1.0]]))]))
    # A batch, then its twin: two inner values swapped, so that a dead unit comes alive. The
    # shape, dtype, sum and the ends are the same: an answer that keeps its result by them
    # hands the first batch's fraction back for the second.
    cases.append(_dead_case("a ReLU layer, 6 samples x 5 units, then the same batch with two "
                            "inner values swapped (one dead unit comes alive)", {"type": "relu"},
                            list(_dead_twins(rng))))
    # As at validation: eval mode and torch.no_grad(). The hook records every pass: 6 to 10
    # batches, the log handed over holding some entries already, and replaced by the caller
    # with a new list (holding 0 to 2) before a batch that leaves 4 or more after it: the hook
    # appends to the list that is there, keeps all its entries and no log of its own.
    n_eval = int(rng.integers(6, 11))
    reset_at = int(rng.integers(2, n_eval - 3))
    resets = [(0, int(rng.integers(1, 7))), (reset_at, int(rng.integers(0, 3)))]
    cases.append(_dead_case(
        f"a ReLU layer in eval mode, under torch.no_grad() (as at validation), {n_eval} "
        f"batches; `dead_log` holds {resets[0][1]} entr{'y' if resets[0][1] == 1 else 'ies'} "
        f"already, and before batch {reset_at + 1} the caller puts a new list holding "
        f"{resets[1][1]} in its place (as `layer.dead_log = []` does)", {"type": "relu"},
        [_random_dead_batch(rng, "relu", int(rng.integers(2, 9)), 5, "float64")
         for _ in range(n_eval)], evaluating=True, resets=resets))
    # Large batches with one tiny live output in some units: an answer that rounds a large
    # batch to a lower precision (float16 above some size, float32 for float64) turns them
    # into zeros, and those units into dead ones.
    # (The float64 one is the batch of a million entries below.)
    # (of a random size: 120,001 to 160,000 entries, beyond what earlier checks drew)
    n32, u32 = int(rng.integers(401, 451)), int(rng.integers(301, 356))
    for dtype, n, units, tiny in (("float32", n32, u32, (1e-40, 1e-30, 2e-8)),):
        z = -rng.random((n, units)) - 0.1
        order = rng.permutation(units)
        live, faint = order[: units // 2], order[units // 2: units // 2 + len(tiny)]
        z[rng.integers(0, n, live.size), live] = rng.uniform(0.1, 2.0, live.size)
        z[rng.integers(0, n, faint.size), faint] = tiny
        cases.append(_dead_case(
            f"a large {dtype} ReLU layer, {n} samples x {units} units, where some units output "
            f"{', '.join(f'{v:g}' for v in tiny)} once and 0 otherwise (alive)",
            {"type": "relu"}, [z.astype(_FLOATS[dtype])]))
    # A batch of over a million entries and 130,001 to 260,000 samples (more than earlier
    # checks drew), float64, with dead units and units that output 1e-310, 1e-300 or 5e-324
    # once, on the first sample, the last one and one between: a lower precision, or a
    # shortcut (a look at some rows only), kept for large batches only acts here. One draw
    # in eight, 260,000 to 500,000 samples; in another eighth, 250,000 to 700,000 units in
    # the wide batch below (whatever size a shortcut starts at, it shows on some draws).
    far = int(rng.integers(0, 8))  # 0: a far taller batch, 1: a far wider one
    n_huge = int(130_001 * 2 ** rng.uniform(0, 1)) if far else int(
        10 ** rng.uniform(math.log10(260_000), math.log10(500_000)))
    u_huge = max(4, 1_000_000 // n_huge + 1)
    cases.append(_dead_case(
        f"a ReLU layer on a batch of {n_huge:,} samples x {u_huge} units (float64, over a "
        "million entries): some units dead, three that output 1e-310, 1e-300 or 5e-324 once "
        "(on the first sample, the last one and one between) and 0 otherwise (alive)",
        {"type": "relu"}, [_huge_dead_batch(rng, n_huge, u_huge)]))
    # Two batches of 100,001 to 130,000 units (over the 100,000 the text names) and two
    # samples: a look at some units only shows. The units dead in the first batch are alive
    # in the second and the other way round, so every unit decides one of the two fractions:
    # an answer that leaves out (or counts as dead) any unit of a wide batch, the first or the
    # last one too, shows on every draw.
    n_wide = 2
    u_wide = int(100_001 * 1.3 ** rng.uniform(0, 1)) if far != 1 else int(
        10 ** rng.uniform(math.log10(250_000), math.log10(700_000)))
    cases.append(_dead_case(
        f"a ReLU layer on two batches of {n_wide} samples x {u_wide:,} units (float64): some "
        "units dead, the others alive, some through one output of 1e-310 or 5e-324; the units "
        "dead in one batch are alive in the other", {"type": "relu"},
        list(_wide_dead_pair(rng, n_wide, u_wide))))
    for j in range(3):
        kind = str(rng.choice(["relu", "leaky_relu", "tanh", "elu"]))
        layer = {"type": kind, "slope": 0.1} if kind == "leaky_relu" else {"type": kind}
        dtype = str(rng.choice(["float64", "float32"]))
        units = int(rng.integers(1, 13))
        sizes = [int(rng.integers(1, 26)) for _ in range(int(rng.integers(1, 4)))]
        grad = bool(rng.random() < 0.4)
        cases.append(_dead_case(
            f"random case {j + 1}: {kind} layer ({dtype}), {units} units, batches of "
            f"{', '.join(map(str, sizes))} samples" + (", with gradients" if grad else ""),
            layer, [_random_dead_batch(rng, kind, n, units, dtype) for n in sizes], grad=grad))
    # Python work on a small and a large batch: a loop over units (or samples) shows, in
    # Python or over torch's functions from C (map, functools.reduce: the tracer counts torch
    # calls), and so does one over blocks of up to a few hundred units. Then two timed
    # batches, one with many units and one with many samples: a loop over either that runs
    # no Python line and no torch call (numpy's functions driven from C) shows in time.
    # The second pair grows the samples: a loop over blocks of samples shows.
    for (n, units), (big_n, big_units) in (((3, 4), (60, 2000)), ((4, 3), (20_000, 3))):
        cases.append(_dead_case(f"a {n} x {units} batch", {"type": "relu"},
                                [_random_dead_batch(rng, "relu", n, units, "float64")],
                                work="small", size=n, elements=n * units))
        cases.append(_dead_case(f"a {big_n:,} x {big_units:,} batch", {"type": "relu"},
                                [_big_dead_batch(rng, big_n, big_units)],
                                work="large", size=60, elements=big_n * big_units))
    for n, units in ((4, TIMED_ELEMENTS // 4), (TIMED_ELEMENTS // 4, 4)):
        cases.append(_dead_case(
            f"a ReLU layer on a batch of {n:,} samples x {units:,} units (timed against "
            "numpy's own loops)", {"type": "relu"}, [_big_dead_batch(rng, n, units)],
            work="timed", size=min(n, units), elements=n * units))
    return cases


TIMED_ELEMENTS = 200_000


def _dead_twins(rng, n: int = 6, units: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A ReLU layer's z with unit 0 dead and unit 3 positive on every inner sample, and its
    twin with one inner positive of unit 3 swapped into unit 0 (never at either end of the
    array): one dead unit fewer."""
    z = rng.normal(0.0, 1.0, (n, units))
    z[:, 0] = -np.abs(z[:, 0]) - 0.1
    z[1:-1, 3] = np.abs(z[1:-1, 3]) + 0.1
    twin = z.copy()
    r0, r3 = (int(r) for r in rng.choice(np.arange(1, n - 1), 2, replace=False))
    twin[r0, 0], twin[r3, 3] = z[r3, 3], z[r0, 0]
    return z, twin


def _big_dead_batch(rng, n: int, units: int) -> np.ndarray:
    """A ReLU layer's input z, n x units (float64), built without a loop: some units negative
    on every sample (dead after the ReLU), the others of both signs."""
    z = rng.normal(0.0, 1.0, (n, units))
    dead = rng.permutation(units) < max(1, int(units * rng.uniform(0.1, 0.5)))
    z[:, dead] = -np.abs(z[:, dead])
    # Some live units fire on one sample only, anywhere (the last one too): a look at the
    # first (or last) samples of a tall batch misses them.
    # At least three where there are (a tall batch has few units): one fires on the last
    # sample, one on the first, one in the middle, and two of them only by a tiny amount
    # (1e-310, a float64 subnormal, and 1e-20), which a lower precision or a tolerance loses.
    live = np.flatnonzero(~dead)
    once = rng.permutation(live)[:max(min(3, live.size), live.size // 4)]
    z[:, once] = -np.abs(z[:, once])
    rows = rng.integers(0, n, once.size)
    values = rng.uniform(0.1, 1.0, once.size)
    for k, (row, value) in enumerate(((n - 1, 1e-310), (0, 1e-20),
                                      (int(rng.integers(1, max(2, n - 1))), None))):
        if k < once.size:
            rows[k] = row
            values[k] = value if value is not None else values[k]
    z[rows, once] = values
    return z


def _wide_dead_pair(rng, n: int, units: int) -> tuple[np.ndarray, np.ndarray]:
    """Two ReLU layers' z, n x units each (float64), built cheaply: each unit dead (negative
    on every sample) in the first with a drawn probability, and then alive in the second, and
    the other way round (every unit, the first and the last too, is dead in one of the two)."""
    dead = rng.random(units) < rng.uniform(0.2, 0.6)
    dead[[0, units - 1]] = rng.random(2) < 0.5  # (drawn apart: not tied to the others')
    return _wide_dead_batch(rng, n, dead), _wide_dead_batch(rng, n, ~dead)


def _wide_dead_batch(rng, n: int, dead: np.ndarray) -> np.ndarray:
    """A ReLU layer's z, n x units (float64), with the units ``dead`` negative on every
    sample, the others positive on one sample or more; up to five of those (an end among
    them in half the draws, where it is alive) alive through one tiny output (1e-310, 5e-324)
    only."""
    units = dead.size
    z = rng.random((n, units)) - 0.5
    z[:, dead] = -np.abs(z[:, dead]) - 0.01
    live = np.flatnonzero(~dead)
    z[rng.integers(0, n, live.size), live] += 1.0  # positive on one sample at least
    faint = live[rng.choice(live.size, min(5, live.size), replace=False)]
    ends = [e for e in (0, units - 1) if not dead[e]]
    if ends and rng.random() < 0.5:
        faint[0] = ends[int(rng.integers(0, len(ends)))]
    z[:, faint] = -1.0
    z[rng.integers(0, n, faint.size), faint] = rng.permutation(
        [1e-310, _SMALLEST["float64"], 1e-310, _SMALLEST["float64"], 1e-300])[:faint.size]
    return z


def _huge_dead_batch(rng, n: int, units: int) -> np.ndarray:
    """A ReLU layer's z, n x units (float64; 4 units or more), built cheaply: 2 to 4 units
    (1 of 4) negative throughout (dead), three negative but for one sample (the first, the last, one
    between) of 1e-310, 1e-300 or 5e-324 (alive, by a margin a lower precision, a tolerance
    or a mean loses), the others of both signs."""
    order = rng.permutation(units)
    dead = order[:int(rng.integers(2, min(5, units - 3))) if units >= 6 else units - 3]
    faint = order[-3:]
    shift = np.full(units, 0.5)
    shift[np.concatenate([dead, faint])] = 1.5
    # A block of 1,000 random samples, repeated (a copy costs less than drawing a million
    # numbers): the live units in -0.5..0.5, the others in -1.5..-0.5.
    block = rng.random((1000, units)) - shift
    z = np.tile(block, (-(-n // 1000), 1))[:n]
    z[[0, n - 1, int(rng.integers(1, n - 1))], faint] = rng.permutation(
        [1e-310, 1e-300, _SMALLEST["float64"]])
    return z


@driver("ch07.forward_hook")
def _drive_forward_hook(answers, recipe):
    """Register the hook on the layer, run each batch through it (and backward, when the batch
    carries gradients), and keep the log, the outputs and the gradient that reached z."""
    kept_settings: list = []
    with _traced_answers(answers, kept_settings, session=True) as (hook,):
        torch = _import_torch()
        layer = build_layer(recipe["layer"])
        resets = {int(b): int(k) for b, k in recipe.get("resets", ())}
        segments: list = []  # [log, entries put in, first batch]

        def new_log(b):
            log = _prefilled(resets.get(b, 0))
            layer.dead_log = log
            segments.append([log, len(log), b])
        new_log(0)
        outputs, input_grads, inputs_kept = [], [], []
        buffers = _buffer_state(layer)
        handle = layer.register_forward_hook(hook)
        evaluating = bool(recipe.get("evaluating"))
        if evaluating:
            layer.eval()
        try:
            for b, z in enumerate(recipe["batches"]):
                if b and b in resets:
                    new_log(b)
                x = torch.tensor(z, requires_grad=bool(recipe["grad"]))
                if evaluating:
                    with torch.no_grad():
                        out = layer(x)
                else:
                    out = layer(x)
                outputs.append(out)
                inputs_kept.append(bool(torch.equal(x.detach(), torch.as_tensor(z))))
                if recipe["grad"]:
                    reached = None
                    if isinstance(out, torch.Tensor) and out.requires_grad:
                        out.sum().backward()
                        reached = x.grad
                    input_grads.append(reached)
        finally:
            handle.remove()
        changes = _buffer_changes(buffers, _buffer_state(layer))  # (the session: see above)
        replaced = layer.__dict__.get("dead_log") is not segments[-1][0]
        (log,), (kept,) = _log_segments([segments], len(recipe["batches"]))
        # A batch of a million entries is compared here, with the layer's own output (a
        # twin layer without the hook): handed back, it would be copied and hashed for the
        # check's records several times over.
        twin = build_layer(recipe["layer"]).train(not evaluating)
        for b, (z, out) in enumerate(zip(recipe["batches"], outputs)):
            if isinstance(out, torch.Tensor) and out.numel() > _SURVEYED:
                with torch.no_grad():
                    own = twin(torch.as_tensor(z))
                outputs[b] = {"shape": tuple(out.shape), "requires_grad": out.requires_grad,
                              "dtype": str(out.dtype).replace("torch.", ""),
                              "same": bool(out.dtype == own.dtype and torch.equal(
                                  out.detach(), own))}
    return {"log": log, "replaced": replaced, "outputs": outputs, "input_grads": input_grads,
            "inputs_kept": inputs_kept, "segments": kept, "changes": kept_settings + changes}


@_single_threaded
def _dead_reference(case: Case) -> dict:
    """The layer's outputs (and dL/dz of their sum) without the hook."""
    torch = _import_torch()
    recipe = case.args[0]
    layer = build_layer(recipe["layer"])
    outputs, grads = [], []
    for z in recipe["batches"]:
        # (the recipe's own array where no gradient is needed: the layer does not write
        # into its input)
        x = torch.tensor(z, requires_grad=True) if recipe["grad"] else torch.as_tensor(z)
        out = layer(x)
        if recipe["grad"]:
            out.sum().backward()
            grads.append(x.grad.numpy().copy())
        outputs.append(out.detach().numpy())  # (a tensor of this pass only: no copy)
    return {"outputs": outputs, "input_grads": grads,
            "fractions": [_dead_fraction(a) for a in outputs]}


def _by_unit(a: np.ndarray) -> tuple[np.ndarray, int]:
    """(array, axis) to reduce over the samples of ``a`` (n_samples, n_units) with the
    samples on the inner axis (numpy's reductions are fast along a long inner axis)."""
    return (np.ascontiguousarray(a.T), 1) if a.shape[0] > a.shape[1] else (a, 0)


def _dead_fraction(a: np.ndarray) -> float:
    # (count_nonzero over the samples: fast along either axis, no transposed copy)
    return float(np.mean(np.count_nonzero(a, axis=0) == 0))


def _dead_mistakes(a: np.ndarray, z: np.ndarray, right: float) -> list[tuple]:
    """What the usual wrong statistics give on the layer's output ``a`` (inputs ``z``), as
    (name, variant, value) or (name, variant, value, tolerance of a match; 1e-6 without): the
    variants of a name (tolerances of 1e-12, 1e-8...) are kept apart, and any one of them may
    be the answer's."""
    nearly = ("a test for *nearly* zero (a tolerance): units whose outputs are tiny but not "
              "zero (such as 1e-310, 1e-20 or 1e-40) are alive, since dead means exactly zero")
    lower = ("{}, a lower precision: tiny outputs such as 1e-310 (float64) or 1e-40 (float32) "
             "round to 0 there, so a live unit looks dead")
    means = ("a mean of |output| compared with 0: the mean of a unit whose only nonzero output "
             "is the smallest subnormal (5e-324 in float64) rounds to 0, so a live unit looks "
             "dead; a unit is alive when any output is nonzero")
    u, s = _by_unit(a)    # reductions over the samples: axis s of u
    zu, _ = _by_unit(z)
    dead = round(right * a.shape[1])
    with np.errstate(all="ignore"):
        return [
            ("the share of zero *entries* (sparsity), not of dead units", "",
             float(np.mean(u == 0))),
            ("the share of *samples* that are all zero (the wrong axis)", "",
             float(np.mean(np.all(u == 0, axis=1 - s)))),
            ("units that are zero on *some* sample (any instead of all)", "",
             float(np.mean(np.any(u == 0, axis=s)))),
            ("units whose outputs are <= 0: negative outputs are alive", "",
             float(np.mean(np.all(u <= 0, axis=s)))),
            ("a count of dead units instead of a fraction", "", right * a.shape[1]),
            ("the fraction of units that are *alive* (1 minus the dead fraction)", "",
             1.0 - right),
            ("the number of dead units divided by the number of *samples*, not of units", "",
             right * a.shape[1] / a.shape[0]),
            ("a percentage instead of a fraction", "", 100 * right),
            # float32 keeps what a float32 layer gives: that variant is the right answer there
            *[(lower.format(low), low, float(np.mean(np.all(u.astype(low) == 0, axis=s))))
              for low in ("float32", "float16")],
            *[(nearly, f"{t:g}", float(np.mean(np.all(np.abs(u) <= t, axis=s))))
              for t in (float(np.finfo(np.float64).tiny), 1e-12, 1e-8, 1e-5)],
            ("a zero sum (or mean) of the column: mixed signs add up to zero too, as in a unit "
             "that outputs s, -s and 0", "", float(np.mean(np.sum(u, axis=s) == 0))),
            ("a zero sum (or mean) of the column: mixed signs add up to zero too, as in a unit "
             "that outputs s, -s and 0", "mean", float(np.mean(np.mean(u, axis=s) == 0))),
            (means, "mean", float(np.mean(np.mean(np.abs(u), axis=s) == 0))),
            (means, "sum of |output| / n", float(np.mean(np.sum(np.abs(u) / u.shape[s],
                                                                axis=s) == 0))),
            (means, "float64 mean", float(np.mean(np.mean(np.abs(u).astype(np.float64),
                                                          axis=s) == 0))),
            ("a sum of squares (or a norm) compared with 0: the squares of tiny outputs such as "
             "1e-310 underflow to 0, so a live unit looks dead", "",
             float(np.mean(np.sum(u * u, axis=s) == 0))),
            ("a largest output of zero: a unit whose outputs are negative and zero is alive", "",
             float(np.mean(np.max(u, axis=s) == 0))),
            ("the layer's *inputs* z, not its outputs", "",
             float(np.mean(np.all(zu == 0, axis=s)))),
            ("units whose *inputs* z are <= 0: that makes a ReLU unit dead, but a Sigmoid unit "
             "outputs a positive number unless z is far below 0, and a unit of any other "
             "activation is dead only where its *output* is zero", "",
             float(np.mean(np.all(zu <= 0, axis=s)))),
            # (matched to a few of float64's last digits: a rounding to 7 decimals is not one
            # to 8)
            # (d decimals and d significant digits coincide on fractions from 0.1 to 1: one
            # name for the two)
            *[(_rounded_name(d), "decimals", round(right, d), _ROUNDED_TOL) for d in range(15)],
            *[(_rounded_name(d), "significant digits", float(f"{right:.{d}g}"), _ROUNDED_TOL)
              for d in range(1, 16)],
            *[(f"the fraction computed in {low} (the count or the division): a share of units "
               "is a ratio of two whole numbers, which float64 gives to its last digits",
               variant, value, _ROUNDED_TOL) for low in ("float32", "float16")
              for variant, value in (
                  ("divided", float(np.divide(getattr(np, low)(dead),
                                              getattr(np, low)(a.shape[1])))),
                  ("rounded", float(getattr(np, low)(right))))],
        ]


_SURVEYED = 500_000  # the largest batch (entries) whose known mistakes the survey computes


#: How close a rounded fraction must come to an answer's value to be taken for it.
_ROUNDED_TOL = 1e-15


def _rounded_name(d: int) -> str:
    return (f"the fraction rounded to {d} decimal{'s' if d != 1 else ''} (or {d} significant "
            f"digit{'s' if d != 1 else ''})")


def _dead_ok(got: float, right: float) -> bool:
    """The fraction to float64's last digits: a ratio of two counts is exact there, up to
    a few units of its last place (1 minus the share of live units is right too)."""
    return math.isfinite(got) and abs(got - right) <= 2.0 ** -50


def _survey_dead(cases, observations, refs) -> dict:
    """Every fraction the hook recorded in the draw, against the right one and the mistakes
    (computed only where a fraction is wrong: a right answer's draw needs none of them)."""
    if all(not _is_float_entry(entry) or _dead_ok(float(entry), right)
           for o, ref in zip(observations, refs)
           for entry, right in zip(o.result.get("log") or [] if o.status == "returned"
                                   and isinstance(o.result, dict) else [], ref["fractions"])):
        return {"named": None}
    values = []
    for c, o, ref in zip(cases, observations, refs):
        log = o.result.get("log") if o.status == "returned" and isinstance(o.result,
                                                                            dict) else None
        for b, (a, z) in enumerate(zip(ref["outputs"], c.args[0]["batches"])):
            entry = _index(log, b)
            # (a batch of a million entries is left out: two dozen reductions of it would
            # cost more than the rest of the check)
            if not _is_float_entry(entry) or a.size > _SURVEYED:
                continue
            got, right = float(entry), ref["fractions"][b]
            values.append(_Value(got, right, _dead_ok(got, right), [
                (name, variant, wrong, tol[0] if tol else 1e-6)
                for name, variant, wrong, *tol in _dead_mistakes(a, np.asarray(z), right)]))
    return {"named": _explained_by(values, _dead_ok)}


def _judge_dead(case: Case, obs, expected) -> None:
    what = _DEAD_WHAT
    recipe = case.args[0]
    res = _record(obs.result, ("log", "replaced", "outputs", "input_grads", "inputs_kept",
                               "segments", "changes"), what)
    _judge_changes(what, res["changes"], "A hook only records: whoever uses the layer next "
                                         "gets it as the hook leaves it.",
                   "A hook only records: the rest of the notebook runs in the session it "
                   "leaves.")
    batches, grad = recipe["batches"], bool(recipe["grad"])
    n = len(batches)
    if not all(_index(res["inputs_kept"], b) is True for b in range(n)):
        raise ExerciseError(
            f"{what} changed the layer's input z in place (it must only record).",
            "the layer's input is the output of the layer before, which autograd still needs: "
            "read the tensors a hook is given without modifying them.")
    for b, ref in enumerate(expected["outputs"]):
        on = f"batch {b + 1} of {n}" if n > 1 else "the batch"
        got = _index(res["outputs"], b)
        if isinstance(got, dict) and "same" in got:  # compared by the driver (a large batch)
            if tuple(got.get("shape", ())) != ref.shape or got.get("same") is not True:
                raise ExerciseError(
                    f"{what} changed the layer's output on {on} (it must only record).",
                    "work on the tensor without modifying it: in-place operations (methods "
                    "ending in `_`, or assigning into it) change the activations the next "
                    "layer sees, and a tensor the hook returns replaces them.")
            continue
        if not isinstance(got, TensorData) or got.shape != ref.shape:
            raise ExerciseError(
                f"{what} returned a value, and a forward hook's return value *replaces* the "
                f"layer's output: on {on} the layer gave {describe(got)} instead of its "
                "activations.", "a hook that only records returns nothing (None).")
        if got.dtype != ref.dtype.name or not _same_array(got.array, ref):
            raise ExerciseError(
                f"{what} changed the layer's output on {on} (it must only record).",
                "work on the tensor without modifying it: in-place operations (methods ending "
                "in `_`, or assigning into it) change the activations the next layer sees, and "
                "a tensor the hook returns replaces them.")
        if grad:
            reached = _tensor_array(_index(res["input_grads"], b))
            if not got.requires_grad or reached is None:
                raise ExerciseError(
                    f"with {what} attached, the layer's output no longer carries autograd's "
                    "history: backward() would give the layers before it no gradient (their "
                    ".grad stays None).", "whatever a forward hook returns replaces the layer's "
                    "output; a hook that only records returns nothing.")
            if not _same_array(reached, expected["input_grads"][b]):
                raise ExerciseError(
                    f"with {what} attached, the gradient that reached the layer's input on {on} "
                    "differs from the layer's own: the hook changed the gradient that flows "
                    "back (a tensor hook on the output or the input, or an in-place change).",
                    "a hook that only records registers no tensor hook and modifies no tensor: "
                    "backward() must see the layer as if the hook were not there.")
    if res["replaced"]:
        raise ExerciseError(
            f"{what} replaced `module.dead_log` with a new object.",
            "append one number per call to the list that is already there; do not replace "
            "the list (whoever made it holds it and reads it afterwards).")
    _judge_log_segments(res["segments"], "dead_log", "the layer", "batch",
                        "append one number per call to the list that is already there; do not "
                        "replace the list.")
    log = res["log"]
    if not isinstance(log, list) or len(log) != n:
        count = len(log) if isinstance(log, list) else describe(log)
        raise ExerciseError(
            f"after {n} batch{'es' if n > 1 else ''} `module.dead_log` should hold {n} "
            f"entr{'ies' if n > 1 else 'y'}, it holds {count}.",
            "append one number per call to the list that is already there; do not replace "
            "the list.")
    for b, (entry, a) in enumerate(zip(log, expected["outputs"])):
        got = _as_float_entry(entry, what, "turn the one-element result into a plain number "
                                           "(a Python float) before you store it.")
        right = expected["fractions"][b]
        if _dead_ok(got, right):
            continue
        on = f"batch {b + 1} of {n}" if n > 1 else "the batch"
        shown, wanted = pair(got, right)
        problem = (f"{what} recorded {shown} on {on} ({a.shape[0]} x {a.shape[1]}), "
                   f"expected {wanted}")
        named = _named(DEAD_HOOK)
        if named is not None:
            raise ExerciseError(f"{problem}: it looks like {named}.", _DEAD_HINT)
        count = got * a.shape[1]  # (a whole number of units for any count's fraction)
        if abs(got - right) <= 1e-5 * abs(right) and abs(count - round(count)) > 1e-13 * max(
                1.0, abs(count)):
            raise ExerciseError(
                f"{problem}: close, but not to float64's last digits. A share of units is a "
                "ratio of two whole numbers: it looks rounded, or computed in a lower "
                "precision (such as float32).",
                _DEAD_HINT + " Compute the fraction in float64 and append it as it is.")
        if max(a.shape) >= 10_000:
            raise ExerciseError(
                f"{problem}, on a batch this large: a look at part of it (some samples or some "
                "units only), or a lower precision, gives another fraction.",
                _DEAD_HINT + " Every sample and every unit counts, however large the batch.")
        raise ExerciseError(problem + ".", _DEAD_HINT)


def _explain_dead(case: Case, obs) -> str | None:
    error = obs.error
    if "requires grad" in error:
        return ("during training the activations are part of autograd's graph: read them "
                "without changing them, and take them out of the graph (detach them) before "
                "converting to numpy.")
    if "inplace" in error or "in-place" in error:
        return ("the layer's output is needed again by backward(): read it without modifying "
                "it (no methods ending in `_`, no assignment into it).")
    return None


DEAD_HOOK = _ChapterSpec(
    "ch07.dead_hook", check="ch07.check_dead_hook", grade_id="ch07-dead-hook-check",
    what=_DEAD_WHAT, answers=("record_dead",), draw=_draw_dead, reference_case=_dead_reference,
    judge=_judge_dead, explain_error=_explain_dead, forbidden=COURSE_CODE, vectorised=True,
    survey=_survey_dead, builds="the layer and its batches",
    loop_hint="torch's reductions take a `dim` argument: one call tests every unit (column) "
              "over all samples at once.",
    passed="`record_dead(module, inputs, output)` records the dead fraction of every batch on "
           "every layer tried (ReLU, Leaky ReLU, tanh, Sigmoid, ELU; float32 and float64, "
           "subnormal outputs down to the smallest; one sample, one unit, batches that carry "
           "gradients, batches of many units or many samples, logs handed over with entries "
           "or replaced between batches), "
           "vectorised, and leaves the layer's output alone.")


@exercise_check
def check_dead_hook(record_dead, *, seed: int | None = None) -> None:
    """Check the forward hook ``record_dead(module, inputs, output)``: it appends the dead
    fraction (a Python float) to ``module.dead_log`` and leaves the output alone."""
    _check(DEAD_HOOK, record_dead, seed)


# --------------------------------------------------------------------------------------
# Exercise 3: a torch model's weights in the course's layout
# --------------------------------------------------------------------------------------

_LAYOUT_WHAT = "`course_layout(model)`"
_NO_BIAS_HINT = ("a Linear layer built with bias=False has no bias (its `bias` is None); it "
                 "computes what a layer with a bias of zeros computes, and the task asks for "
                 "that vector of zeros.")
_PAIRS_HINT = ("the model has layers built with bias=False, which have no bias parameter: the "
               "model's parameters then do not alternate weight, bias. Take each Linear layer's "
               "own weight (and bias).")


def _deep_depth(rng) -> int:
    """A deep model's number of Linear layers: 22 to 24 (more than earlier checks drew, with a
    margin), one draw in eight 26 to 80 (whatever depth a shortcut starts at, it shows on
    some draws)."""
    if rng.random() < 1 / 8:
        return int(26 * 10 ** rng.uniform(0, math.log10(80 / 26)))
    return int(rng.integers(22, 25))


def _big_shape(rng) -> tuple[int, int]:
    """(fan_in, fan_out) of a large layer: 61,000 to 75,000 weights (more than earlier checks
    drew), one draw in eight 75,000 to 400,000."""
    low, high = (75_000, 400_000) if rng.random() < 1 / 8 else (61_000, 75_000)
    weights = low * 10 ** rng.uniform(0, math.log10(high / low))
    fan_in = int(rng.integers(100, 600))
    return fan_in, int(weights // fan_in) + 1


def _deep_layers(rng, dtype: str, depth: int = 12) -> list:
    """``depth`` Linear(3, 3) layers with a Tanh after each but the last: more than ten
    modules, so their names ("10", "2") sort differently as text and as numbers. A few of
    them (one at least, anywhere: the last one too) of a subclass of nn.Linear."""
    layers = []
    sub = rng.random(depth) < 0.2
    sub[int(rng.integers(0, depth))] = True
    for k in range(depth):
        layers.append(_linear_recipe(rng, 3, 3, dtype))
        if sub[k]:
            layers[-1]["subclass"] = True
        if k < depth - 1:
            layers.append({"type": "tanh"})
    return layers


def _layout_case(label: str, layers: list, dtype: str, *, training: bool = True) -> Case:
    recipe = {"layers": layers, "dtype": dtype}
    if not training:
        recipe["training"] = False
    return Case(label, (recipe,), driver="ch07.layout")


def _draw_layout(rng) -> list[Case]:
    f64, f32 = "float64", "float32"
    lin = _linear_recipe
    # A deep model of 13 to 20 Linear layers, and a large layer of random size (more than
    # 1,200 weights, more than 30 units): an answer that treats the first layers, or small
    # ones, alone shows.
    depth = _deep_depth(rng)
    fan_in, fan_out = _big_shape(rng)
    cases = [
        _layout_case("Linear(3, 5) ReLU Linear(5, 5) Tanh Linear(5, 1), float64 (a square "
                     "layer; an output layer of one unit, whose W is a single row)",
                     [lin(rng, 3, 5, f64), {"type": "relu"}, lin(rng, 5, 5, f64),
                      {"type": "tanh"}, lin(rng, 5, 1, f64)], f64),
        _layout_case("a float32 model (PyTorch's default): Linear(4, 3) Tanh Linear(3, 2)",
                     [lin(rng, 4, 3, f32), {"type": "tanh"}, lin(rng, 3, 2, f32)], f32),
        _layout_case("a single Linear(3, 2) layer, nothing else", [lin(rng, 3, 2, f64)], f64),
        _layout_case("layers built with bias=False, the first one frozen (requires_grad "
                     "False): Linear(3, 4, no bias, frozen) ReLU Linear(4, 4) ReLU "
                     "Linear(4, 2, no bias)",
                     [lin(rng, 3, 4, f64, bias=False, frozen=True), {"type": "relu"},
                      lin(rng, 4, 4, f64), {"type": "relu"}, lin(rng, 4, 2, f64, bias=False)],
                     f64),
        _layout_case("no layer with a bias, float32: Linear(2, 3, no bias) Tanh "
                     "Linear(3, 3, no bias) (two missing biases of the same length)",
                     [lin(rng, 2, 3, f32, bias=False), {"type": "tanh"},
                      lin(rng, 3, 3, f32, bias=False)], f32),
        _layout_case("one-unit layers: Linear(1, 1) Sigmoid Linear(1, 3) Softmax",
                     [lin(rng, 1, 1, f64), {"type": "sigmoid"}, lin(rng, 1, 3, f64),
                      {"type": "softmax"}], f64),
        _layout_case("a model in evaluation mode (model.eval()), other layers between: "
                     "Linear(2, 4) LeakyReLU Dropout Linear(4, 3) Identity GELU Linear(3, 2) "
                     "Sigmoid",
                     [lin(rng, 2, 4, f64), {"type": "leaky_relu", "slope": 0.1},
                      {"type": "dropout"}, lin(rng, 4, 3, f64), {"type": "identity"},
                      {"type": "gelu"}, lin(rng, 3, 2, f64), {"type": "sigmoid"}], f64,
                     training=False),
        # In training mode, with layers whose settings and mode decide what the model
        # computes: a Dropout(0.25), a LeakyReLU(0.2), an ELU(0.5).
        _layout_case("square layers only, in training mode: Linear(4, 4) LeakyReLU(0.2) "
                     "Dropout(p=0.25) Linear(4, 4) ELU(alpha=0.5) Linear(4, 4)",
                     [lin(rng, 4, 4, f64), {"type": "leaky_relu", "slope": 0.2},
                      {"type": "dropout", "p": 0.25}, lin(rng, 4, 4, f64),
                      {"type": "elu", "alpha": 0.5}, lin(rng, 4, 4, f64)], f64),
        _layout_case("a frozen layer that has a bias (requires_grad False): Linear(3, 4, "
                     "frozen) ReLU Linear(4, 2)",
                     [lin(rng, 3, 4, f64, frozen=True), {"type": "relu"}, lin(rng, 4, 2, f64)],
                     f64),
        _layout_case(f"a deep model of {2 * depth - 1} modules: Linear(3, 3) {depth} times "
                     "(some of them of a subclass of nn.Linear), a Tanh between each (module "
                     f"names 0 to {2 * depth - 2}: \"10\" sorts before \"2\" as text)",
                     _deep_layers(rng, f64, depth), f64),
        # Weights that are float64 through and through (no float32 value converted): a
        # large layer rounded to float32 on the way out shows.
        _layout_case(f"a float64 model with a large layer: Linear({fan_in}, {fan_out}) Tanh "
                     f"Linear({fan_out}, 2)", [lin(rng, fan_in, fan_out, f64), {"type": "tanh"},
                                               lin(rng, fan_out, 2, f64)], f64),
    ]
    for j in range(3):
        dtype = str(rng.choice([f64, f32]))
        layers = _random_layers(rng, dtype, depth=int(rng.integers(1, 5)), frozen=0.2,
                                subclass=0.2)
        training = bool(rng.random() >= 0.25)
        cases.append(_layout_case(f"random model {j + 1}: {_describe_model(layers, dtype)}"
                                  + ("" if training else ", in evaluation mode"),
                                  layers, dtype, training=training))
    return cases


def _moved(first, second) -> list[str]:
    """Which arrays of a (weights, biases) result changed between two readings."""
    names = []
    if isinstance(first, (list, tuple)) and isinstance(second, (list, tuple)):
        for kind, a, b in zip(("W", "the bias"), first, second):
            if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
                for i, (x, y) in enumerate(zip(a, b)):
                    x, y = _tensor_array(x) if isinstance(x, TensorData) else x, \
                        _tensor_array(y) if isinstance(y, TensorData) else y
                    if isinstance(x, np.ndarray) and not (isinstance(y, np.ndarray)
                                                          and _same_array(x, y)):
                        names.append(f"{kind} of layer {i + 1}")
    return names


def _holds_nan(value) -> bool:
    """Whether a plain result (arrays, tensors, nested lists and tuples) holds a NaN."""
    if isinstance(value, TensorData):
        value = _tensor_array(value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f" and bool(np.isnan(value).any())
    if isinstance(value, (list, tuple)):
        return any(_holds_nan(v) for v in value)
    return False


def _poison(result) -> None:
    """Fill every float numpy array in ``result`` (nested tuples and lists) with NaN, in
    place; anything else is left alone."""
    if isinstance(result, np.ndarray):
        if result.dtype.kind == "f" and result.flags.writeable:
            result.fill(np.nan)
    elif isinstance(result, (list, tuple)):
        for item in result:
            _poison(item)


@driver("ch07.layout")
def _drive_layout(answers, recipe):
    """Call the answer on a model built from the recipe and see what it changed; then change
    every parameter in place, as an optimizer step does: do the arrays returned change with
    it, what does a second call return, and are the first call's arrays still as they were
    after it? A third call runs inside ``torch.no_grad()``: is autograd still off after it?"""
    kept_settings: list = []
    with _traced_answers(answers, kept_settings) as (course_layout,):
        torch = _import_torch()
        model = build_model(**recipe)
        with torch.no_grad():  # gradients, as a backward pass leaves them
            for p in model.parameters():
                if p.requires_grad:
                    p.grad = torch.full_like(p, 0.5)
        before = _model_state(model)
        result = course_layout(model)
        changes = _state_changes(before, model, grads=True)
        first = _plain.to_plain(result)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
        moved = _moved(first, _plain.to_plain(result))
        # The caller owns the arrays it was given and may write into them: overwritten with
        # NaN here, a second call that hands back kept arrays shows.
        _poison(result)
        poisoned = _plain.to_plain(result)
        second = course_layout(model)
        refilled = _moved(poisoned, _plain.to_plain(result))
        _restore_session(before)  # the session as it was
        with torch.no_grad():
            # A session whose default dtype is float64 too: it must stay so.
            torch.set_default_dtype(torch.float64)
            inside = _model_state(model)
            third = course_layout(model)
            changes_no_grad = _state_changes(inside, model, grads=True)
        _restore_session(before)
    # Arrays the caller cannot write into, or that two calls share (a cache handing back what
    # it keeps while the model looks unchanged): the caller's own changes fail, or leak.
    # ... or that one call's arrays share among themselves (one zeros buffer for every missing
    # bias): the caller who writes into one bias writes into the others.
    calls = [list(_arrays_in(r)) for r in (result, second, third)]
    shared, within = _overlaps(calls)
    read_only = any(not a.flags.writeable for arrays in calls for a in arrays)
    return {"result": first, "moved": moved, "changes": kept_settings + changes,
            "second": second,
            "refilled": refilled, "third": third, "changes_no_grad": changes_no_grad,
            "shared": bool(shared), "within": bool(within), "read_only": bool(read_only)}


def _overlaps(calls: list) -> tuple[bool, bool]:
    """(whether arrays of two calls, whether two arrays of one call, may share memory), as
    np.may_share_memory says of each pair (their memory bounds overlap), in one sweep over
    the bounds sorted: a deep model's arrays, pair by pair, would cost far more."""
    from numpy.lib.array_utils import byte_bounds
    spans = sorted((*byte_bounds(a), c) for c, arrays in enumerate(calls) for a in arrays
                   if a.size)
    shared = within = False
    active: list = []  # (end, call) of the spans seen that reach past the current start
    for start, end, c in spans:
        active = [(e, c2) for e, c2 in active if e > start]
        for _, c2 in active:
            if c2 == c:
                within = True
            else:
                shared = True
        active.append((end, c))
    return shared, within


def _layout_reference(case: Case) -> dict:
    """The course's layout of the recipe's model, and of the same model after every
    parameter grew by 1 in its own precision (what the second call must give)."""
    dtype = _FLOATS[case.args[0]["dtype"]]
    linears = [la for la in case.args[0]["layers"] if la["type"] == "linear"]
    one = dtype(1.0)
    return {"weights": [np.asarray(la["W"]).T.astype(np.float64) for la in linears],
            "biases": [np.zeros(np.asarray(la["W"]).shape[0]) if la["b"] is None
                       else np.asarray(la["b"]).astype(np.float64) for la in linears],
            "weights2": [(np.asarray(la["W"], dtype=dtype) + one).T.astype(np.float64)
                         for la in linears],
            "biases2": [np.zeros(np.asarray(la["W"]).shape[0]) if la["b"] is None
                        else (np.asarray(la["b"], dtype=dtype) + one).astype(np.float64)
                        for la in linears],
            "has_bias": [la["b"] is not None for la in linears]}


def _judge_layout(case: Case, obs, expected) -> None:
    what = _LAYOUT_WHAT
    dtype = case.args[0]["dtype"]
    res = _record(obs.result, ("result", "moved", "changes", "second", "refilled", "third",
                               "changes_no_grad", "shared", "within", "read_only"), what)
    _judge_changes(what, res["changes"], "The task asks you to leave the model as it is.")
    _judge_layout_result(what, res["result"], expected["weights"], expected["biases"],
                         expected["has_bias"], dtype)
    if res["moved"]:
        raise ExerciseError(
            f"{what} returns arrays that share memory with the model "
            f"({', '.join(res['moved'])}): after the model's parameters changed in place (as an "
            "optimizer step does), these arrays changed too.",
            "a numpy view of a tensor sees every later change, and an operation that may copy "
            "does not copy when the data is already laid out as asked: take a copy always.")
    second = res["second"]
    if _holds_nan(second):  # the model's values are never NaN: the first call's arrays
        raise ExerciseError(
            f"{what}, called a second time on the same model after its parameters changed in "
            "place, returned the arrays of its first call again: the check, as their owner "
            "may, had overwritten them with NaN.",
            "compute the arrays from the model's parameters at every call, and keep nothing "
            "from one call to the next: the arrays you return belong to the caller.")
    if _same_layout(second, expected["weights"], expected["biases"]) and not _same_layout(
            second, expected["weights2"], expected["biases2"]):
        raise ExerciseError(
            f"{what}, called a second time on the same model after its parameters changed in "
            "place (as a training step changes them), returned the values of the first call, "
            "not the model's current ones.",
            "compute the arrays from the model's parameters at every call, and keep nothing "
            "from one call to the next: the model is the same object, its weights are not.")
    _judge_layout_result(f"{what} (called a second time, after every parameter of the model "
                         "grew by 1 in place)", second, expected["weights2"],
                         expected["biases2"], expected["has_bias"], dtype)
    if res["refilled"]:
        raise ExerciseError(
            f"the arrays that {what} returned at its first call changed when it was called a "
            f"second time ({', '.join(res['refilled'])}): the two calls return the same "
            "arrays, refilled.", "whoever called your function first still holds its arrays: "
            "create new arrays at every call, and keep none from one call to the next.")
    _judge_changes(f"{what}, called inside `with torch.no_grad():`,", res["changes_no_grad"],
                   "The task asks you to leave the model and the session as they are.",
                   "The task asks you to leave the model and the session as they are.")
    _judge_layout_result(f"{what} (called inside `with torch.no_grad():`)", res["third"],
                         expected["weights2"], expected["biases2"], expected["has_bias"],
                         dtype)
    if res["shared"] is True:
        raise ExerciseError(
            f"{what} returned, at two of its three calls on the same model, arrays that share "
            "memory: a caller who changes the arrays of one call changes those of the other.",
            "create new arrays at every call, and keep none from one call to the next.")
    if res["within"] is True:
        raise ExerciseError(
            f"{what} returned arrays that share memory with each other within one call (one "
            "buffer behind several weights or biases): a caller who changes one changes the "
            "others.", "create a new array for every weight and every bias, zeros included.")
    if res["read_only"] is True:
        raise ExerciseError(
            f"{what} returned read-only arrays (a broadcast view, or one marked "
            "not writeable): the caller cannot change them, as it may change arrays it owns.",
            "return ordinary arrays of your own: np.zeros(n) for a missing bias, a copy of "
            "each parameter.")


def _same_layout(got, weights, biases) -> bool:
    """``got`` is (weights, biases) with exactly these arrays (float64)."""
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        return False
    for values, refs in zip(got, (weights, biases)):
        if not isinstance(values, (list, tuple)) or len(values) != len(refs):
            return False
        for v, r in zip(values, refs):
            if not isinstance(v, np.ndarray) or v.dtype != np.float64 or not _same_array(v, r):
                return False
    return True


def _judge_layout_result(what: str, got, weights: list, biases: list, has_bias: list,
                         dtype: str) -> None:
    """The pair (weights, biases) a call returned, against the course's layout."""
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise ExerciseError(f"{what} should return a pair (weights, biases), got "
                            f"{describe(got)}.",
                            "return two lists: the weight matrices, then the bias vectors.")
    n = len(weights)
    layers = f"{n} Linear layer{'s' if n != 1 else ''}"
    for name, values in (("weights", got[0]), ("biases", got[1])):
        if not isinstance(values, (list, tuple)):
            raise ExerciseError(f"{what} returned {describe(values)} as the {name}; expected a "
                                "list with one array per Linear layer.",
                                "one entry per Linear layer, first layer first.")
        if len(values) != n:
            hint = ("one entry per Linear layer, first layer first, the output layer included; "
                    "other layers have no parameters.")
            if name == "biases" and len(values) == sum(has_bias) < n:
                hint = _NO_BIAS_HINT
            elif name == "weights" and len(values) == -(-(n + sum(has_bias)) // 2) != n:
                hint = _PAIRS_HINT
            named = name if len(values) != 1 else {"weights": "weight", "biases": "bias"}[name]
            raise ExerciseError(f"{what} returned {len(values)} {named}; the model has {layers}.",
                                hint)
    for kind, values in (("W", got[0]), ("the bias", got[1])):
        for i, value in enumerate(values):
            label = f"{kind} of layer {i + 1}"
            if value is None:
                raise ExerciseError(f"{what}: {label} is None.", _NO_BIAS_HINT if kind != "W"
                                    else "every Linear layer has a weight matrix.")
            if not isinstance(value, np.ndarray):
                if isinstance(value, TensorData):
                    came, hint = "a torch tensor", ("detach the tensor from autograd and "
                                                    "convert it to numpy.")
                elif isinstance(value, (list, tuple)):
                    came, hint = f"a Python {type(value).__name__}", "return numpy arrays."
                else:
                    came, hint = describe(value), "return numpy arrays."
                raise ExerciseError(f"{what}: {label} is {came}, expected a numpy array.", hint)
            if value.dtype != np.float64:
                if dtype == "float32":
                    raise ExerciseError(
                        f"{what} on a float32 model (PyTorch's default): {label} has dtype "
                        f"{value.dtype}; the exercise asks for float64 arrays whatever the "
                        "model's precision.", "the course's networks compute in float64: "
                        "convert the copy's dtype (float32 to float64 is exact).")
                raise ExerciseError(
                    f"{what}: {label} has dtype {value.dtype}, expected float64 (the "
                    "exercise asks for float64 arrays whatever the model's precision).",
                    "keep the model's precision: converting to float32 rounds every weight.")
    for i, (W, ref) in enumerate(zip(got[0], weights)):
        if W.shape != ref.shape:
            hint = "torch keeps (fan_out, fan_in); the course's W maps fan_in to fan_out."
            if W.shape == ref.shape[::-1]:
                hint = ("torch stores Linear.weight as (fan_out, fan_in) and computes x W^T; the "
                        "course's W is the other way round.")
            elif not all(has_bias):
                hint = _PAIRS_HINT
            raise ExerciseError(f"{what}: W of layer {i + 1} has shape {W.shape}, expected "
                                f"{ref.shape} (fan_in, fan_out).", hint)
        if _same_array(W, ref):
            continue
        if ref.shape[0] == ref.shape[1] and _same_array(W, ref.T):
            raise ExerciseError(
                f"{what}: W of layer {i + 1} (a square layer) has the right shape but is the "
                "transpose of the answer.", "torch stores Linear.weight as (fan_out, fan_in): "
                "turn it round for every layer, square or not.")
        if _same_array(W, ref.T.reshape(ref.shape)):
            raise ExerciseError(f"{what}: W of layer {i + 1} differs from the model's weights: "
                                "its entries are in the wrong places.",
                                "each entry must be the model's weight from input unit i to "
                                "output unit j: a reshape is not a transpose.")
        _layout_differs(what, f"W of layer {i + 1}", W, ref)
    for i, (b, ref) in enumerate(zip(got[1], biases)):
        if b.shape != ref.shape:
            raise ExerciseError(f"{what}: the bias of layer {i + 1} has shape {b.shape}, "
                                f"expected {ref.shape}.",
                                "a bias is a vector with one entry per output unit.")
        if not _same_array(b, ref):
            if not has_bias[i]:
                raise ExerciseError(
                    f"{what}: layer {i + 1} is built with bias=False, so its bias is a vector "
                    f"of zeros; got {show(b)}.", _NO_BIAS_HINT)
            _layout_differs(what, f"the bias of layer {i + 1}", b, ref)


def _layout_differs(what: str, label: str, got: np.ndarray, ref: np.ndarray) -> None:
    bad = ~np.isclose(got, ref, rtol=0, atol=0, equal_nan=False)
    index = np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(
        np.abs(got - ref), nan=np.inf), 0.0))), ref.shape)
    shown, wanted = pair(got[index], ref[index])
    hint = "a copy keeps every value exactly: no rounding, no lower precision on the way."
    if np.allclose(got, ref, rtol=1e-2, atol=0):
        hint = ("the values are close but not equal: " + hint)
    raise ExerciseError(f"{what}: {label} differs from the model's values in {int(bad.sum())} "
                        f"of {ref.size} entries; at index {tuple(int(i) for i in index)} got "
                        f"{shown}, expected {wanted}.", hint)


def _explain_layout(case: Case, obs) -> str | None:
    error = obs.error
    if "NoneType" in error or ("KeyError" in error and "bias" in error):
        return _NO_BIAS_HINT
    if "has no attribute 'weight'" in error or "has no attribute 'in_features'" in error:
        return ("not every module of an nn.Sequential is a Linear layer, and their number and "
                "places vary: pick out the Linear layers by their type.")
    if "IndexError" in error:
        return ("the number of layers varies from model to model: go through the model's "
                "modules rather than fixed positions.")
    if "requires grad" in error:
        return ("a model's parameters are tracked by autograd, and numpy cannot hold that "
                "history: take the tensor out of the graph (detach it) before converting.")
    return None


COURSE_LAYOUT = _ChapterSpec(
    "ch07.course_layout", check="ch07.check_course_layout", grade_id="ch07-course-layout-check",
    what=_LAYOUT_WHAT, answers=("course_layout",), draw=_draw_layout,
    reference_case=_layout_reference, judge=_judge_layout, explain_error=_explain_layout,
    forbidden=Forbidden(("helpers.torch_bridge:*",), why="the task asks you to write it "
                        "yourself, without the course's torch_bridge",
                        hint="read the Linear layers' weight and bias yourself; the names you "
                             "import torch_bridge under do not matter, the check sees what "
                             "runs."),
    builds="the model",
    passed="`course_layout(model)` gives the course's layout on every model tried (float32 and "
           "float64, one Linear layer or several, layers built with bias=False, frozen layers, "
           "other layers between, training and evaluation mode): W of shape (fan_in, fan_out) "
           "and b as float64 copies that later training and later calls cannot change, the "
           "model's current values at every call, and the model (its parameters, every "
           "layer's mode and settings, its hooks) and the session (autograd, also inside "
           "torch.no_grad(), the default dtype, torch's random generator) left as they were.")


@exercise_check
def check_course_layout(course_layout, *, seed: int | None = None) -> None:
    """Check ``course_layout(model)`` -> (weights, biases): float64 numpy (fan_in, fan_out)
    copies, zeros for a layer without bias, on models drawn at each check."""
    _check(COURSE_LAYOUT, course_layout, seed)


# --------------------------------------------------------------------------------------
# Exercise 4: update ratios over one optimizer step
# --------------------------------------------------------------------------------------

_RATIOS_WHAT = "`update_ratios(model, step)`"
_RATIOS_HINT = ("the ratio is the Frobenius norm of the change of W divided by the Frobenius "
                "norm of W before the step, per Linear layer, weights only.")


class _SGD:
    """One step of torch.optim.SGD (no dampening, no Nesterov), as its single-tensor code."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.params, self.lr = list(params), lr
        self.momentum, self.weight_decay = momentum, weight_decay
        self.buffers: dict[int, object] = {}

    def step(self) -> None:
        torch = _import_torch()
        with torch.no_grad():
            for i, p in enumerate(self.params):
                if p.grad is None:
                    continue
                d = p.grad
                if self.weight_decay:
                    d = d.add(p, alpha=self.weight_decay)
                if self.momentum:
                    if i not in self.buffers:
                        self.buffers[i] = torch.clone(d).detach()
                    else:
                        self.buffers[i].mul_(self.momentum).add_(d)
                    d = self.buffers[i]
                p.add_(d, alpha=-self.lr)


class _Adam:
    """One step of torch.optim.Adam (``decoupled``: AdamW), as its single-tensor code."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0, decoupled: bool = False,
                 betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.weight_decay, self.decoupled = list(params), lr, \
            weight_decay, decoupled
        self.beta1, self.beta2, self.eps = betas[0], betas[1], eps
        self.state: dict[int, dict] = {}

    def step(self) -> None:
        torch = _import_torch()
        b1, b2, lr = self.beta1, self.beta2, self.lr
        with torch.no_grad():
            for i, p in enumerate(self.params):
                if p.grad is None:
                    continue
                s = self.state.setdefault(i, {"t": 0, "m": torch.zeros_like(p),
                                              "v": torch.zeros_like(p)})
                s["t"] += 1
                g = p.grad
                if self.weight_decay:
                    if self.decoupled:
                        p.mul_(1 - lr * self.weight_decay)
                    else:
                        g = g.add(p, alpha=self.weight_decay)
                s["m"].lerp_(g, 1 - b1)
                s["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
                step_size = lr / (1 - b1 ** s["t"])
                denom = (s["v"].sqrt() / math.sqrt(1 - b2 ** s["t"])).add_(self.eps)
                p.addcdiv_(s["m"], denom, value=-step_size)


def _model_and_step(recipe: dict):
    """The model of a ratio case with its gradients computed, and its optimizer step (after
    the recipe's earlier steps): the same in the student's process and in the judge's."""
    torch = _import_torch()
    model = build_model(**recipe["model"])
    X, Y = torch.tensor(recipe["X"]), torch.tensor(recipe["Y"])

    def gradients():
        model.zero_grad(set_to_none=True)
        torch.mean((model(X) - Y) ** 2).backward()

    spec = recipe["step"]
    gradients()
    if spec["kind"] == "custom":
        pairs = []
        for lin, (dW, db) in zip(_linears(model), spec["deltas"]):
            pairs.append((lin.weight, torch.as_tensor(dW)))
            if db is not None and lin.bias is not None:
                pairs.append((lin.bias, torch.as_tensor(db)))

        def take():
            with torch.no_grad():
                for p, d in pairs:
                    p.add_(d)
        return model, take
    if spec["kind"] == "sgd":
        opt = _SGD(model.parameters(), spec["lr"], spec.get("momentum", 0.0),
                   spec.get("weight_decay", 0.0))
    else:
        opt = _Adam(model.parameters(), spec["lr"], spec.get("weight_decay", 0.0),
                    spec["kind"] == "adamw")
    for _ in range(int(spec.get("warmup", 0))):
        opt.step()
        gradients()
    return model, opt.step


def _ratio_case(rng, label: str, layers: list, dtype: str, step: dict, *,
                training: bool = True, y_scale: float = 1.0) -> Case:
    n_in = np.asarray(layers[0]["W"]).shape[1]
    n_out = np.asarray([la for la in layers if la["type"] == "linear"][-1]["W"]).shape[0]
    n = int(rng.integers(4, 16))
    model = {"layers": layers, "dtype": dtype}
    if not training:
        model["training"] = False
    recipe = {"model": model,
              "X": rng.normal(0.0, 1.0, (n, n_in)).astype(_FLOATS[dtype]),
              "Y": (y_scale * rng.normal(0.0, 1.0, (n, n_out))).astype(_FLOATS[dtype]),
              "step": step}
    return Case(label, (recipe,), driver="ch07.optimizer_step")


def _custom_deltas(rng, layers: list, scales, exact=()) -> list:
    """Per Linear layer a random change of its weights, ``scale`` times their mean size, and
    a change of 3 of its bias (much more: counting the biases shows). In the layers listed in
    ``exact`` the change's norm is ``scale`` times the weights' norm: a ratio of ``scale``."""
    out = []
    for k, (layer, scale) in enumerate(zip([la for la in layers if la["type"] == "linear"],
                                           scales)):
        W = np.asarray(layer["W"])
        noise = rng.normal(0.0, 1.0, W.shape)
        size = (np.linalg.norm(W) / np.linalg.norm(noise) if k in exact
                else np.mean(np.abs(W)))
        dW = (scale * size * noise).astype(W.dtype)
        db = None if layer["b"] is None else np.full_like(np.asarray(layer["b"]), 3.0)
        out.append([dW, db])
    return out


def _huge_ratio(rng, low: float = 6.05) -> float:
    """A huge step's ratio, without a hard maximum: above 10**low (1.1 million; above 1e8 in
    6 draws of 7, above 1e20 in 1 of 3), up to 1e140 (where the squares of the change still
    add up in float64)."""
    return float(10 ** min(low + rng.exponential(12.0), 140.0))


def _one_entry_delta(rng, layer: dict, ratio: float) -> np.ndarray:
    """A change of one weight of ``layer``, at a random place (the first and the last
    included): that weight is set to 0 in the recipe, and the change moves it to ``ratio``
    times the weights' norm, so the ratio is ``ratio`` to float64's last digits, however
    small (no rounding against the weight it is added to)."""
    W = np.array(layer["W"], dtype=np.float64)
    flat = int(rng.choice([0, W.size - 1, int(rng.integers(0, W.size))]))
    W.flat[flat] = 0.0
    layer["W"] = W
    dW = np.zeros_like(W)
    dW.flat[flat] = ratio * np.linalg.norm(W) * rng.choice([-1.0, 1.0])
    return dW


def _draw_ratios(rng) -> list[Case]:
    f64, f32 = "float64", "float32"
    huge = float(10 ** rng.uniform(7, 10))  # targets so large the gradients are too
    lin = _linear_recipe
    three = [lin(rng, 4, 3, f64), {"type": "tanh"}, lin(rng, 3, 6, f64), {"type": "relu"},
             lin(rng, 6, 2, f64)]
    # One layer moved by 1e-15 to 1e-13 of its size (a float64 model resolves it), one by
    # 1e-3, one by a huge ratio (above 1.1 million, without a hard maximum): no cut-off or cap
    # in between passes. (The large layer's case below has a ratio just above or below a
    # million, the frozen layer's case a second huge one, above 1.1e8, and the tiny weights'
    # case a ratio below 5e-16.)
    order = rng.permutation(3)
    scales = [float(s) for s in np.array([10 ** rng.uniform(-15, -13), 1e-3,
                                          _huge_ratio(rng)])[order]]
    near = 1e6 * (1 + float(rng.choice([-1, 1])) * 10 ** rng.uniform(-7, -1))
    frozen_step = [lin(rng, 3, 4, f64, frozen=True), {"type": "relu"}, lin(rng, 4, 2, f64)]
    frozen_first = [lin(rng, 2, 4, f64, frozen=True), {"type": "leaky_relu", "slope": 0.1},
                    {"type": "dropout"}, lin(rng, 4, 3, f64), {"type": "identity"},
                    lin(rng, 3, 1, f64)]
    # Weights of norm 1e-100 to 1e-4 (a layer initialised tiny): a ratio with an epsilon in
    # its denominator (||W|| + 1e-10, 1e-12, 1e-20...) is off by eps / ||W|| there. The other
    # layer has one weight moved by 1e-140 to 1e-15.3 of the weights' norm (a ratio far below
    # 1e-15, without a hard minimum), exactly: a cut-off below 1e-15 shows.
    # A large layer of random size (more than 4,096 weights, more than 64 rows) and a deep
    # model of 13 to 20 Linear layers: an answer that measures part of a layer, or the first
    # layers only, shows.
    fan_in, fan_out = _big_shape(rng)
    depth = _deep_depth(rng)
    big = [lin(rng, fan_in, fan_out, f64), {"type": "tanh"}, lin(rng, fan_out, 2, f64)]
    tiny = [lin(rng, 3, 4, f64), {"type": "tanh"}, lin(rng, 4, 2, f64)]
    small = int(rng.integers(0, 2))  # the layer of tiny weights; the other moves one weight
    small_norm = float(10 ** -rng.uniform(4, 100))
    tiny[2 * small]["W"] = tiny[2 * small]["W"] * (small_norm / np.linalg.norm(
        tiny[2 * small]["W"]))
    tiny_ratio = float(10 ** -rng.uniform(15.3, 140))
    tiny_deltas = _custom_deltas(rng, tiny, [1e-2, 1e-2])
    tiny_deltas[1 - small][0] = _one_entry_delta(rng, tiny[2 * (1 - small)], tiny_ratio)
    huge_frozen = _huge_ratio(rng, 8.05)  # (above 1e8, the largest ratio earlier checks drew)
    cases = [
        _ratio_case(rng, f"layer {small + 1}'s weights of norm {small_norm:.1e} (initialised "
                    "tiny), a hand-made step of 1e-2 of their size; layer "
                    f"{2 - small}'s one weight moved by {tiny_ratio:.1e} of its weights' norm "
                    "(Linear(3, 4) Tanh Linear(4, 2), float64)", tiny, f64,
                    {"kind": "custom", "deltas": tiny_deltas}),
        _ratio_case(rng, "a hand-made step that moves the weights of the three layers by "
                    f"{', '.join(f'{s:g}' for s in scales)} of their size and every bias by 3 "
                    "(Linear(4, 3) Tanh Linear(3, 6) ReLU Linear(6, 2), float64)", three, f64,
                    {"kind": "custom", "deltas": _custom_deltas(
                        rng, three, scales, exact=(int(np.flatnonzero(order == 2)[0]),))}),
        _ratio_case(rng, "SGD (lr 0.1) on a float32 model (PyTorch's default): Linear(3, 4) "
                    "ReLU Linear(4, 2)",
                    [lin(rng, 3, 4, f32), {"type": "relu"}, lin(rng, 4, 2, f32)], f32,
                    {"kind": "sgd", "lr": 0.1}),
        _ratio_case(rng, "Adam (lr 0.001), one step after another, with a layer built with "
                    "bias=False: Linear(3, 5, no bias) Tanh Linear(5, 5) Tanh Linear(5, 1)",
                    [lin(rng, 3, 5, f64, bias=False), {"type": "tanh"}, lin(rng, 5, 5, f64),
                     {"type": "tanh"}, lin(rng, 5, 1, f64)], f64,
                    {"kind": "adam", "lr": 1e-3, "warmup": 1}),
        _ratio_case(rng, "SGD with momentum 0.9 and weight decay, one step after another, on a "
                    "single Linear(3, 2) layer", [lin(rng, 3, 2, f64)], f64,
                    {"kind": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.01,
                     "warmup": 1}),
        _ratio_case(rng, "AdamW with a frozen first layer (the step leaves it alone: its ratio "
                    "is 0) and layers without parameters between", frozen_first, f64,
                    {"kind": "adamw", "lr": 1e-2, "weight_decay": 0.1}),
        _ratio_case(rng, "a tiny Adam step (lr 1e-9) on a float64 model, which float32 cannot "
                    "resolve: Linear(3, 4) Tanh Linear(4, 2)",
                    [lin(rng, 3, 4, f64), {"type": "tanh"}, lin(rng, 4, 2, f64)], f64,
                    {"kind": "adam", "lr": 1e-9}),
        _ratio_case(rng, "one-unit layers in evaluation mode (model.eval()): Linear(1, 1) "
                    "Sigmoid Dropout(p=0.5) Linear(1, 1), SGD (lr 0.5)",
                    [lin(rng, 1, 1, f64), {"type": "sigmoid"}, {"type": "dropout", "p": 0.5},
                     lin(rng, 1, 1, f64)], f64, {"kind": "sgd", "lr": 0.5}, training=False),
        # Targets of 1e5: gradients of norm 1e4 and more, entries above 1e3. A step taken with
        # clipped gradients (clip_grad_norm_, clip_grad_value_) is another step.
        _ratio_case(rng, f"SGD (lr {1e-2 / huge:.1e}) with targets of about {huge:.0e}: "
                    "gradients far larger than any clipping threshold: Linear(3, 4) Tanh "
                    "Linear(4, 2)",
                    [lin(rng, 3, 4, f64), {"type": "tanh"}, lin(rng, 4, 2, f64)], f64,
                    {"kind": "sgd", "lr": 1e-2 / huge}, y_scale=huge),
        _ratio_case(rng, f"SGD (lr 0.01) on a deep model of {2 * depth - 1} modules: Linear(3, "
                    f"3) {depth} times (some of them of a subclass of nn.Linear), a Tanh between "
                    "each", _deep_layers(rng, f64, depth), f64,
                    {"kind": "sgd", "lr": 0.01}),
        _ratio_case(rng, "a hand-made step that moves a frozen layer too (a frozen layer has no "
                    "gradient, but a step other than an optimizer's may still change it), "
                    f"and the next layer by {huge_frozen:.2g} of its size: "
                    "Linear(3, 4, frozen) ReLU Linear(4, 2)", frozen_step, f64,
                    {"kind": "custom", "deltas": _custom_deltas(rng, frozen_step,
                                                                [1e-2, huge_frozen])}),
        _ratio_case(rng, "a hand-made step of 1e-9 of the weights' size on a float64 model "
                    f"with a large layer (float32 cannot resolve it): Linear({fan_in}, "
                    f"{fan_out}) Tanh Linear({fan_out}, 2), then a ratio of {near:.7g} in the "
                    "last layer", big, f64,
                    {"kind": "custom", "deltas": _custom_deltas(rng, big, [1e-9, near],
                                                                exact=(1,))}),
    ]
    for j in range(3):
        dtype = str(rng.choice([f64, f32]))
        layers = _random_layers(rng, dtype, depth=int(rng.integers(1, 5)), frozen=0.15,
                                subclass=0.2)
        kind = str(rng.choice(["sgd", "sgd", "adam", "adamw", "custom"]))
        lr = float(10 ** rng.uniform(-5, 0))
        if kind == "custom":
            n_lin = sum(la["type"] == "linear" for la in layers)
            step = {"kind": kind, "deltas": _custom_deltas(
                rng, layers, 10 ** rng.uniform(-5, 0, n_lin))}
            about = "a hand-made step"
        elif kind == "sgd":
            step = {"kind": kind, "lr": lr, "momentum": float(rng.choice([0.0, 0.9])),
                    "warmup": int(rng.integers(0, 2))}
            about = f"SGD (lr {lr:.2g}, momentum {step['momentum']})"
        else:
            step = {"kind": kind, "lr": lr, "weight_decay": float(rng.choice([0.0, 0.01])),
                    "warmup": int(rng.integers(0, 2))}
            about = f"{'Adam' if kind == 'adam' else 'AdamW'} (lr {lr:.2g})"
        training = bool(rng.random() >= 0.25)
        cases.append(_ratio_case(rng, f"random model {j + 1}: {_describe_model(layers, dtype)}"
                                 f"{'' if training else ' in evaluation mode'}, {about}",
                                 layers, dtype, step, training=training))
    return cases


@driver("ch07.optimizer_step")
def _drive_ratios(answers, recipe):
    """Give the answer a model with its gradients and a ``step`` that counts its calls and
    sees whether the gradients are still the model's when it runs; keep what the answer
    returned and the state it left the model (and its gradients) in. Then take a step the
    answer does not see, and call it again on the same model inside ``torch.no_grad()``."""
    kept_settings: list = []
    with _traced_answers(answers, kept_settings) as (update_ratios,):
        torch = _import_torch()
        model, take = _model_and_step(recipe)
        params = list(model.parameters())
        grads = [None if p.grad is None else p.grad.detach().clone() for p in params]
        before = _model_state(model)
        calls, grads_kept = [0], []

        def step():
            calls[0] += 1
            grads_kept.append(_untraced(_same_grads, params, grads))
            _untraced(take)

        result = update_ratios(model, step)
        changes = _state_changes(before, model, values=False)
        grads_after = _same_grads(params, grads)
        _restore_session(before)  # the session as it was
        linears = _linears(model)
        after = [lin.weight.detach().numpy().copy() for lin in linears]
        after_b = [None if lin.bias is None else lin.bias.detach().numpy().copy()
                   for lin in linears]
        first = {"result": _plain.to_plain(result), "calls": calls[0],
                 "grads_kept": grads_kept[:], "changes": changes, "grads_after": grads_after}
        take()  # a step the answer does not see
        calls[0], grads_kept[:] = 0, []
        with torch.no_grad():
            # A session whose default dtype is float64 too: it must stay so.
            torch.set_default_dtype(torch.float64)
            inside = _model_state(model)
            result2 = update_ratios(model, step)
            changes2 = _state_changes(inside, model, values=False)
        _restore_session(before)
    return {**first, "changes": kept_settings + first["changes"], "after": after,
            "after_b": after_b,
            "second": {"result": result2, "calls": calls[0], "grads_kept": grads_kept,
                       "changes": changes2}}


def _same_grads(params, grads) -> bool:
    """Each parameter's .grad is still the gradient it was given (None where it had none)."""
    torch = _import_torch()
    for p, g in zip(params, grads):
        if (p.grad is None) != (g is None):
            return False
        if g is not None and (p.grad.dtype != g.dtype or p.grad.shape != g.shape
                              or not torch.equal(p.grad, g)):
            return False
    return True


@_single_threaded
def _ratio_reference(case: Case) -> dict:
    """The weights (and biases, gradients) of every Linear layer before and after the step."""
    model, take = _model_and_step(case.args[0])
    linears = _linears(model)

    def read(t):
        return None if t is None else t.detach().numpy().copy()

    before = [read(lin.weight) for lin in linears]
    before_b = [read(lin.bias) for lin in linears]
    grads = [read(lin.weight.grad) for lin in linears]
    take()
    first = {"before": before, "after": [read(lin.weight) for lin in linears],
             "before_b": before_b, "after_b": [read(lin.bias) for lin in linears],
             "grads": grads}
    take()  # the step the answer does not see, then the second measured one
    before2 = [read(lin.weight) for lin in linears]
    before2_b = [read(lin.bias) for lin in linears]
    take()
    return {**first, "second": {"before": before2, "after": [read(lin.weight) for lin in linears],
                                "before_b": before2_b,
                                "after_b": [read(lin.bias) for lin in linears],
                                "grads": grads}}


def _frobenius(x: np.ndarray) -> float:
    """The Frobenius norm of a float64 array, as a plain sum of squares: np.linalg.norm calls
    BLAS, whose threads make it a hundred times slower on a busy machine (these weights and
    their changes, from about 1e-140 to 1e140 at the extremes, keep their squares inside
    float64's range)."""
    return math.sqrt(float(np.sum(x * x)))


def _ratio_values(ref: dict, mistakes: bool = True) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The right ratios, and what the usual mistakes give (none unless ``mistakes``: a right
    answer's draw needs none of them, and on a large layer they cost more than the rest)."""
    b64 = [b.astype(np.float64, copy=False) for b in ref["before"]]
    a64 = [a.astype(np.float64, copy=False) for a in ref["after"]]
    norm = _frobenius
    right = np.array([norm(a - b) / norm(b) for a, b in zip(a64, b64)])
    if not mistakes:
        return right, {}

    def with_bias(a, b, ab, bb):
        if ab is None:
            return norm(a - b) / norm(b)
        ab, bb = ab.astype(np.float64), bb.astype(np.float64)
        return math.sqrt(norm(a - b) ** 2 + norm(ab - bb) ** 2) / math.sqrt(
            norm(b) ** 2 + norm(bb) ** 2)

    with np.errstate(all="ignore"):
        mistakes = {
            "divided by the norm of the weights *after* the step":
                np.array([norm(a - b) / norm(a) for a, b in zip(a64, b64)]),
            "computed a difference of norms, not the norm of the difference":
                np.array([abs(norm(a) - norm(b)) / norm(b) for a, b in zip(a64, b64)]),
            "counted the biases with the weights":
                np.array([with_bias(a, b, ab, bb) for a, b, ab, bb in zip(
                    a64, b64, ref["after_b"], ref["before_b"])]),
            "squared the ratio (norms without the square root)": right**2,
            "listed the layers from the output backwards": right[::-1],
            "averaged the element-wise ratios |ΔW| / |W| instead of a ratio of norms":
                np.array([np.mean(np.abs(a - b) / np.abs(b)) for a, b in zip(a64, b64)]),
            "took the gradient's norm, not the change the step made":
                np.array([np.nan if g is None else norm(g) / norm(b)
                          for g, b in zip(ref["grads"], b64)]),
            _SAME_BEFORE: np.zeros_like(right),
            # float32 of a float32 model is its own precision: that variant is right there
            **{f"computed in {low.__name__}, a lower precision: it cannot resolve so small a "
               "change": np.array([np.float64(low(norm((a.astype(low) - b.astype(low)).astype(
                   np.float64)))) / np.float64(low(norm(b.astype(low).astype(np.float64))))
                   for a, b in zip(ref["after"], ref["before"])])  # (weights of 1e-92: 0 / 0)
               for low in (np.float32, np.float16)},
        }
        # the same mistake with the squares summed in float32 too (a change of 1e-22 has a
        # square below float32's normal range there): "name|variant"
        f32 = np.float32
        name32 = next(k for k in mistakes if k.startswith("computed in float32,"))
        mistakes[f"{name32}|float32 squares"] = np.array([
            np.float64(np.sqrt(np.sum(np.square(a.astype(f32) - b.astype(f32)), dtype=f32)))
            / np.float64(np.sqrt(np.sum(np.square(b.astype(f32)), dtype=f32)))
            for a, b in zip(ref["after"], ref["before"])])
    return right, mistakes


_SAME_BEFORE = "kept as 'before' tensors that the step changed too"
# How close an answer must come to a mistake's values to be taken for it (the answer computes
# them its own way, e.g. float32 norms in torch rather than numpy).
_MISTAKE_TOL = {"float32": 1e-5, "float16": 2e-3}


def _ratio_rtol(case: Case) -> float:
    return 1e-9 if case.args[0]["model"]["dtype"] == "float64" else 1e-5


def _ratios_ok(values: np.ndarray, right: np.ndarray, rtol: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.abs(values - right) <= rtol * np.abs(right)


def _survey_ratios(cases, observations, refs) -> dict:
    """Every ratio the answer returned in the draw, against the right one and the mistakes."""
    def answer(o):
        return o.result.get("result") if o.status == "returned" and isinstance(o.result,
                                                                               dict) else None

    def right_everywhere():
        for c, o, ref in zip(cases, observations, refs):
            got = answer(o)
            right, _ = _ratio_values(ref, mistakes=False)
            if not isinstance(got, np.ndarray) or got.shape != right.shape or not np.all(
                    _ratios_ok(got.astype(np.float64), right, _ratio_rtol(c))):
                return False
        return True

    if right_everywhere():
        return {"named": None}
    values = []
    for c, o, ref in zip(cases, observations, refs):
        got = answer(o)
        right, mistakes = _ratio_values(ref)
        if not isinstance(got, np.ndarray) or got.shape != right.shape or got.dtype.kind != "f":
            continue
        rtol = _ratio_rtol(c)
        got = got.astype(np.float64)
        ok = _ratios_ok(got, right, rtol)
        for k in range(right.size):
            values.append(_Value(float(got[k]), float(right[k]), bool(ok[k]), [
                (name.split("|")[0], name, float(wrong[k]),
                 _mistake_tol(name, float(wrong[k]), float(right[k]), rtol))
                for name, wrong in mistakes.items()]))
    return {"named": _explained_by(values, nan_matches=True)}


def _mistake_tol(name: str, wrong: float, right: float, rtol: float) -> float:
    """How close to a mistake's value an answer's must come to be taken for it: relative, and
    for a difference of norms, also 1e-13 absolute (two norms that differ by 1e-15 of their
    size cancel: computed two ways, their difference agrees only that far)."""
    tol = next((t for low, t in _MISTAKE_TOL.items() if f"in {low}," in name), max(rtol, 1e-6))
    scale = max(abs(wrong), abs(right))
    if name.startswith("computed a difference of norms") and math.isfinite(scale) and scale:
        tol = max(tol, 1e-13 / scale)
    return tol


def _show_pair(got: np.ndarray, right: np.ndarray) -> tuple[str, str]:
    """Two arrays for a message, with enough digits that they do not print the same."""
    for precision in (3, 6, 10, 17):
        a, b = show(got, precision), show(right, precision)
        if a != b:
            return a, b
    return a, b


def _judge_ratios(case: Case, obs, expected) -> None:
    what = _RATIOS_WHAT
    res = _record(obs.result, ("result", "calls", "grads_kept", "changes", "grads_after",
                               "after", "after_b", "second"), what)
    _judge_ratio_call(what, res, "The task asks you to leave the model as the step leaves it.")
    if res["grads_after"] is not True:
        raise ExerciseError(
            f"after {what} returned, the model's gradients were no longer the ones it was "
            "given (zeroed, removed or changed).", "whoever trains the model may still read "
            "the gradients after the step (to log their norms, say): leave them as they are; "
            "zero_grad() is the training loop's business, before its next backward pass.")
    for kind, got_all, refs, befores in (("weights", res["after"], expected["after"],
                                          expected["before"]),
                                         ("bias", res["after_b"], expected["after_b"],
                                          expected["before_b"])):
        for k, (ref, before) in enumerate(zip(refs, befores)):
            got = _index(got_all, k)
            if ref is None or (isinstance(got, np.ndarray) and got.dtype == ref.dtype
                               and _same_array(got, ref)):
                continue
            layer = f"the {kind} of Linear layer {k + 1}"
            were, its = ("were", "their") if kind == "weights" else ("was", "its")
            if isinstance(got, np.ndarray) and _same_array(got, before) and not _same_array(
                    ref, before):
                raise ExerciseError(
                    f"after {what} returned, {layer} {were} back at {its} values before the "
                    "step: the step's change was undone.", "leave the model as the step "
                    "leaves it: whoever trains the model calls your function to measure a step, "
                    "not to cancel it. Compare copies instead of writing them back.")
            raise ExerciseError(f"after {what} returned, {layer} {were} not "
                                f"{'those' if kind == 'weights' else 'the one'} the step "
                                "leaves.", "leave the model as the step leaves it: change "
                                "no parameter yourself.")
    _judge_ratio_result(case, what, res["result"], expected, _named(UPDATE_RATIOS))
    second = _record(res["second"], ("result", "calls", "grads_kept", "changes"), what)
    again = (f"{what}, called a second time on the same model (inside `with torch.no_grad():`, "
             "after a step it did not see),")
    _judge_ratio_call(again, second, "The task asks you to leave the model and the session as "
                                     "they are.", "The task asks you to leave the model and the "
                                                  "session as they are.")
    _judge_ratio_result(case, again, second["result"], expected["second"], None)


def _judge_ratio_call(what: str, res: dict, leave: str,
                      leave_session: str = "The task asks you to leave the session as the "
                                           "caller had it.") -> None:
    """One call: step() once, nothing changed but by the step, the gradients kept for it."""
    calls = res["calls"]
    if calls != 1:
        raise ExerciseError(f"{what} called step() {calls} times; it must call it exactly once.",
                            "the ratio is about one optimizer step: record the weights, take "
                            "the step, compare.")
    _judge_changes(what, res["changes"], leave, leave_session)
    if _index(res["grads_kept"], 0) is not True:
        raise ExerciseError(
            f"when {what} called step(), the model's gradients were no longer the ones it was "
            "given (zeroed, removed or changed), so the step did not move the weights as it "
            "should.", "step() uses the gradients the parameters hold when it runs, as "
            "optimizer.step() does: leave them as they are (zero_grad() belongs before the "
            "next backward pass, not before this step).")


def _judge_ratio_result(case: Case, what: str, got, expected: dict, named: str | None) -> None:
    """The array one call returned, against the right ratios of its step."""
    dtype = case.args[0]["model"]["dtype"]
    right, _ = _ratio_values(expected, mistakes=False)
    n = right.size
    if got is None:
        raise ExerciseError(f"{what} returned None.", "did you forget the `return` statement?")
    if not isinstance(got, np.ndarray):
        if isinstance(got, TensorData):
            came = "a torch tensor"
        elif isinstance(got, (list, tuple)):
            came = f"a Python {type(got).__name__}"
        else:
            came = describe(got)
        raise ExerciseError(f"{what} returned {came}; the exercise asks for a numpy array with "
                            "one number per Linear layer.",
                            "collect the per-layer ratios, then turn them into a numpy array of "
                            "floats before returning.")
    if got.dtype.kind not in "fiu":
        raise ExerciseError(f"{what} returned an array of dtype {got.dtype}; expected float64 "
                            "numbers.", "return a numpy array of floats.")
    if got.shape != (n,):
        if got.size == n:
            problem = (f"{what} returned shape {got.shape}; expected ({n},), a flat array with "
                       "one number per Linear layer.")
        else:
            problem = (f"{what} returned {got.size} numbers; the model has {n} Linear "
                       f"layer{'s' if n != 1 else ''} (one ratio each, weights only).")
        raise ExerciseError(problem, "one ratio per Linear layer, first layer first, in a flat "
                                     "array.")
    if got.dtype != np.float64:
        raise ExerciseError(f"{what} returned dtype {got.dtype}, expected float64.",
                            "return the ratios as float64 numbers, whatever the model's "
                            "precision (np.array of Python floats gives float64).")
    values = got.astype(np.float64)
    rtol = _ratio_rtol(case)
    ok = _ratios_ok(values, right, rtol)
    if np.all(ok):
        return
    shown_all, wanted_all = _show_pair(values, right)
    shown = f"{what} gives {shown_all}, expected {wanted_all}"
    if named == _SAME_BEFORE:
        raise ExerciseError(
            f"{what} gives 0 for every layer, though the step moved the weights: the weights "
            "you kept as 'before' changed with the step.", "an optimizer step changes the "
            "parameter tensors in place, and a detached tensor (or a numpy view of it) shares "
            "their memory: keep an independent copy.")
    if named is not None:
        raise ExerciseError(f"{shown}: it looks like you {named}.", _RATIOS_HINT)
    for k in range(n):
        if not ok[k] and values[k] == 0 and 0 < right[k] < 1e-6:
            raise ExerciseError(
                f"{shown}: layer {k + 1}'s ratio, {pair(values[k], right[k])[1]}, is tiny but "
                "not zero; a cut-off (or a lower precision) turns it into 0.",
                "report every ratio as it comes, with no threshold, in the model's precision.")
        if not ok[k] and right[k] > 10 and 0 < values[k] < right[k] * (1 - 1e-3):
            raise ExerciseError(
                f"{shown}: layer {k + 1}'s ratio, {pair(values[k], right[k])[1]}, is huge but "
                "a number to report as it is; a cap (np.minimum, np.clip) makes it smaller.",
                "report every ratio as it comes, with no cap: an erratic step is what the "
                "ratio is there to show.")
        norm_k = _frobenius(np.asarray(expected["before"][k], dtype=np.float64))
        if not ok[k] and norm_k < 1e-3 and 0 < values[k] < right[k] * (1 - 1e-6):
            raise ExerciseError(
                f"{shown}: layer {k + 1}'s weights have a norm of {norm_k:.3g}, and its ratio "
                f"came out smaller, {pair(values[k], right[k])[0]} for "
                f"{pair(values[k], right[k])[1]}: it looks like an epsilon added to the "
                "denominator (||W|| + eps), which is not small next to weights this small.",
                "divide by the norm of the weights as it is: no layer's weights are all zero, "
                "so no guard is needed.")
    # The layer that differs most (relatively), not merely the first one out of tolerance.
    with np.errstate(all="ignore"):
        off = np.where(ok, -np.inf, np.nan_to_num(np.abs(values - right) / np.abs(right),
                                                  nan=np.inf, posinf=np.inf))
    k = int(np.argmax(off))
    shown_k, wanted_k = pair(values[k], right[k])
    size = np.asarray(expected["before"][k]).size
    if size > 1000 and right[k] > 0 and 1e-6 < abs(values[k] - right[k]) / right[k] < 0.2:
        rows, cols = np.asarray(expected["before"][k]).shape
        raise ExerciseError(
            f"{shown}; layer {k + 1} of {n} differs: got {shown_k}, expected {wanted_k}. That "
            f"layer has {size:,} weights ({rows} rows of {cols}): it looks like the ratio of "
            "part of them (some rows or some weights only).",
            _RATIOS_HINT + " Every weight of every layer counts, however large the layer.")
    if dtype == "float64" and np.allclose(values, right, rtol=1e-4, atol=0):
        raise ExerciseError(
            f"{shown}: close, but not to the precision of a float64 model (layer {k + 1}: "
            f"{shown_k} instead of {wanted_k}).",
            "keep the model's float64 precision when you subtract and take the norms.")
    hint = _RATIOS_HINT
    if "second time" in what:
        hint = ("measure each call's own step: the weights just before the step() you call, "
                "against those just after it. Keep nothing from one call to the next: the "
                "model may have been trained in between.")
    if any(b is None for b in expected["before_b"]):
        hint += (" Layers built with bias=False have no bias parameter, so the model's "
                 "parameters do not alternate weight, bias.")
    raise ExerciseError(f"{shown}; layer {k + 1} of {n} differs: got {shown_k}, expected "
                        f"{wanted_k}.", hint)


def _explain_ratios(case: Case, obs) -> str | None:
    error = obs.error
    if "requires grad" in error:
        return ("a model's parameters are tracked by autograd, and numpy cannot hold that "
                "history: take the tensor out of the graph (detach it) before converting.")
    if "NoneType" in error:
        return ("a Linear layer built with bias=False has no bias (its `bias` is None): the "
                "ratio is about the weights only.")
    if "has no attribute 'weight'" in error or "IndexError" in error:
        return ("not every module of an nn.Sequential is a Linear layer, and their number and "
                "places vary: pick out the Linear layers by their type.")
    return None


UPDATE_RATIOS = _ChapterSpec(
    "ch07.update_ratios", check="ch07.check_update_ratios", grade_id="ch07-update-ratios-check",
    what=_RATIOS_WHAT, answers=("update_ratios",), draw=_draw_ratios,
    reference_case=_ratio_reference, judge=_judge_ratios, explain_error=_explain_ratios,
    forbidden=COURSE_CODE, survey=_survey_ratios, builds="the model (with its gradients) and "
                                                         "its step",
    passed="`update_ratios(model, step)` is right on every model and step tried (SGD with and "
           "without momentum, Adam, AdamW and hand-made steps, from far below 1e-15 of the "
           "weights to far above a million times them; float32 "
           "and float64; frozen layers, moved or not, layers without bias; training and "
           "evaluation mode; a second call inside torch.no_grad()): one step, one ratio "
           "||W_after - W_before|| / ||W_before|| per Linear layer, weights only, and the model, "
           "its gradients and the session left as the step leaves them.")


@exercise_check
def check_update_ratios(update_ratios, *, seed: int | None = None) -> None:
    """Check ``update_ratios(model, step)``: one step() call, one ||ΔW|| / ||W_before|| per
    Linear layer (weights only) as a float64 array, on models and steps drawn at each check."""
    _check(UPDATE_RATIOS, update_ratios, seed)


# --------------------------------------------------------------------------------------
# A case by hand
# --------------------------------------------------------------------------------------

def case_objects(spec_id: str, seed: int, index: int) -> dict:
    """The objects of case ``index`` of the draw ``seed`` of a chapter-7 check, built from its
    recipe (``helpers.exercises.case`` gives the recipe itself): a failure message names the
    three numbers. What comes back, and how the check uses it:

    - ``"ch07.grad_hook"``: ``{"model", "batches": [(X, y)], "loss"}``; the check sets
      ``layer.grad_log = []`` and registers your hook on every Linear layer, then runs
      ``objects["loss"](model(X), y).backward()`` for each batch;
    - ``"ch07.dead_hook"``: ``{"layer", "batches": [z]}``; the check sets
      ``layer.dead_log = []``, registers your hook and runs ``layer(z)`` for each batch (and
      ``.sum().backward()`` on the output when z requires gradients);
    - ``"ch07.course_layout"``: ``{"model"}``;
    - ``"ch07.update_ratios"``: ``{"model", "step"}``, the model with its gradients computed
      and the step to pass: ``update_ratios(objects["model"], objects["step"])``; the check
      then calls ``objects["step"]()`` itself and, inside ``torch.no_grad()``, your function
      a second time.

    For ``"ch07.course_layout"`` the check gives every parameter that requires gradients a
    gradient of 0.5 (as a backward pass leaves one), calls your function, adds 1 to every
    parameter in place, calls it again, then a third time inside ``torch.no_grad()``.
    """
    if not spec_id.startswith("ch07.") or spec_id not in SPECS:
        raise ValueError(f"{spec_id!r} is not a chapter-7 check (ch07.grad_hook, "
                         "ch07.dead_hook, ch07.course_layout, ch07.update_ratios)")
    c = SPECS[spec_id].draw(int(seed))[int(index)]
    (recipe,), _ = c.inputs()
    torch = _import_torch()
    if c.driver == "ch07.backward_hook":
        return {"model": build_model(**recipe["model"]),
                "batches": [(torch.tensor(b["X"], requires_grad=bool(recipe["x_grad"])),
                             b["y"]) for b in recipe["batches"]],
                "loss": lambda out, y: _loss(torch, recipe["loss"], out, y)}
    if c.driver == "ch07.forward_hook":
        return {"layer": build_layer(recipe["layer"]),
                "batches": [torch.tensor(z, requires_grad=bool(recipe["grad"]))
                            for z in recipe["batches"]]}
    if c.driver == "ch07.layout":
        return {"model": build_model(**recipe)}
    model, take = _model_and_step(recipe)
    return {"model": model, "step": take}
