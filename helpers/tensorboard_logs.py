"""A training run's History as TensorBoard event files, and TensorBoard started from the course.

Written with the ``tensorboard`` package's own event writer
(``tensorboard.summary.writer.event_file_writer``, the one PyTorch's ``SummaryWriter`` is
built on): no TensorFlow. One run per folder, so several runs side by side under one log
folder compare in TensorBoard's UI. What a run holds (tags):

* scalars ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` per epoch (NaN rows, e.g. a
  regressor's accuracy or a run without validation, are left out);
* per layer ``grad_norm/<layer>``, ``update_ratio/<layer>``, ``dead/<layer>``,
  ``saturated/<layer>`` per epoch;
* histograms ``weights/<layer>`` at each snapshot epoch, and ``activations/<layer>`` where
  the activations at that epoch are given (:func:`fit_and_log` records them for
  ``helpers.nn``, ``torch_bridge.Recorder`` for a torch run).

``<layer>`` is the layer's name made tag-safe: ``hidden 1 (tanh)`` -> ``1_hidden_1_tanh``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["layer_tag", "write_history", "fit_and_log", "TensorBoard", "start", "stop"]

SCALARS = ("loss", "accuracy", "val_loss", "val_accuracy")
LAYER_SCALARS = ("grad_norm", "update_ratio", "dead", "saturated")
_BINS = 30


def layer_tag(index: int, name: str) -> str:
    """A tag-safe layer name: (0, 'hidden 1 (tanh)') -> '1_hidden_1_tanh'."""
    slug = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_")
    return f"{index + 1}_{slug}"


def _histogram(values: np.ndarray, bins: int = _BINS):
    """A HistogramProto as TensorBoard's histogram plugin reads it (bucket right edges)."""
    from tensorboard.compat.proto.summary_pb2 import HistogramProto

    v = np.asarray(values, dtype=np.float64).ravel()
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < 1e-12:  # a constant layer (e.g. dead): one narrow bucket around it
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
    return HistogramProto(min=float(v.min()), max=float(v.max()), num=float(v.size),
                          sum=float(v.sum()), sum_squares=float(v @ v),
                          bucket_limit=[float(e) for e in edges[1:]],
                          bucket=[float(c) for c in counts])


def write_history(history, logdir, activations: dict | None = None, *,
                  overwrite: bool = True) -> Path:
    """Write ``history`` (a ``helpers.nn.History``) as one TensorBoard run in ``logdir``.

    ``activations`` maps an epoch to a list of per-layer activation arrays (histograms
    ``activations/<layer>``). With ``overwrite`` (the default) earlier event files in
    ``logdir`` are removed first, so running a notebook twice does not double the run.
    Returns the folder.
    """
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    for name in ("epoch", "loss", "layer_names", "grad_norm"):
        if not hasattr(history, name):
            raise TypeError(f"expected a History (from net.fit or torch_bridge.Recorder) with "
                            f"{name!r}, got {type(history).__name__}")
    logdir = Path(logdir)
    if overwrite and logdir.exists():
        for old in logdir.glob("events.out.tfevents.*"):
            old.unlink()
    tags = [layer_tag(j, n) for j, n in enumerate(history.layer_names)]
    writer = EventFileWriter(str(logdir))
    # A fixed clock (epoch e at t0 + e seconds) keeps TensorBoard's "relative time" axis
    # meaningful without making the files depend on how fast this machine trained.
    t0 = time.time()
    try:
        for e in np.asarray(history.epoch, dtype=int):
            values = []
            for key in SCALARS:
                v = float(np.asarray(getattr(history, key, [np.nan] * (e + 1)))[e])
                if np.isfinite(v):
                    values.append(Summary.Value(tag=key, simple_value=v))
            for key in LAYER_SCALARS:
                row = np.asarray(getattr(history, key), dtype=float)[e]
                for tag, v in zip(tags, row):
                    if np.isfinite(v):
                        values.append(Summary.Value(tag=f"{key}/{tag}", simple_value=float(v)))
            if values:
                writer.add_event(Event(wall_time=t0 + e, step=int(e),
                                       summary=Summary(value=values)))
        snaps = list(getattr(history, "weight_snapshots", []))
        for e, weights in zip(getattr(history, "snapshot_epochs", []), snaps):
            values = [Summary.Value(tag=f"weights/{tag}", histo=_histogram(W))
                      for tag, W in zip(tags, weights)]
            writer.add_event(Event(wall_time=t0 + e, step=int(e), summary=Summary(value=values)))
        for e, layers in sorted((activations or {}).items()):
            values = [Summary.Value(tag=f"activations/{tag}", histo=_histogram(a))
                      for tag, a in zip(tags, layers)]
            writer.add_event(Event(wall_time=t0 + e, step=int(e), summary=Summary(value=values)))
    finally:
        writer.close()
    return logdir


def fit_and_log(net, X, y, logdir, **fit_kwargs):
    """``net.fit(X, y, **fit_kwargs)``, then the run written to ``logdir``; returns the History.

    The activations on ``X`` are kept at every snapshot epoch (through ``fit``'s callback,
    which sees the network at each epoch boundary) for the ``activations/`` histograms.
    """
    epochs = int(fit_kwargs.get("epochs", 100))
    n_snap = int(fit_kwargs.get("n_snapshots", 11))
    wanted = set(np.unique(np.round(np.linspace(0, epochs, max(2, min(n_snap, epochs + 1)))))
                 .astype(int).tolist())
    kept: dict[int, list[np.ndarray]] = {}
    user_callback = fit_kwargs.pop("callback", None)

    def keep(epoch, model):
        if epoch in wanted and epoch not in kept:
            model.forward(X)
            kept[epoch] = [a.copy() for a in model.cache["a"][1:]]

    keep(0, net)

    def callback(epoch, model, history):
        keep(epoch, model)
        return None if user_callback is None else user_callback(epoch, model, history)

    history = net.fit(X, y, callback=callback, **fit_kwargs)
    write_history(history, logdir, activations=kept)
    return history


# ------------------------------------------------------------------------------------------
# Starting TensorBoard
# ------------------------------------------------------------------------------------------

@dataclass
class TensorBoard:
    """A TensorBoard server this process started; ``stop()`` ends it."""

    proc: subprocess.Popen
    port: int
    logdir: Path
    log: Path

    @property
    def url(self) -> str:
        """Where it answers, on this machine."""
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        """Terminate the server (kill it if it does not go within 10 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(logdir, port: int | None = None, timeout: float = 90.0) -> TensorBoard:
    """Start ``tensorboard --logdir logdir`` on 127.0.0.1; return once it answers HTTP.

    The server runs until :meth:`TensorBoard.stop` (tests, ``make tensorboard`` and the
    notebook's button use this). Raises RuntimeError with TensorBoard's own log if it
    does not come up within ``timeout`` seconds.
    """
    logdir = Path(logdir).resolve()
    if not logdir.is_dir():
        raise FileNotFoundError(f"no log folder {logdir}: write a run there first")
    port = port or _free_port()
    exe = shutil.which("tensorboard", path=str(Path(sys.executable).parent)) or "tensorboard"
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"tensorboard-{port}.log"
    cmd = [exe, "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port),
           # Reads each event file once and does not poll the web for plugins or updates.
           "--reload_interval", "0", "--load_fast", "false"]
    out = log.open("wb")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out.close()
    server = TensorBoard(proc, port, logdir, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{server.url}data/runs", timeout=5) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"TensorBoard did not start within {timeout:.0f} s:\n"
                       f"{log.read_text(errors='replace')[-3000:]}")


def stop(server: TensorBoard) -> None:
    """Stop a server made by :func:`start`."""
    server.stop()


_started: list[TensorBoard] = []


def _stop_started() -> None:
    for server in _started:
        server.stop()


def launcher(logdir, height: int = 640):
    """A button that starts TensorBoard on ``logdir`` and shows it below, in the notebook.

    Nothing starts until the button is pressed (so *Run All*, nbval and CI never start a
    server). The server is stopped when the kernel exits. On Binder the frame goes through
    jupyter-server-proxy: ``binder/start`` sets ``TENSORBOARD_PROXY_URL``, which
    ``tensorboard.notebook.display`` reads.
    """
    import atexit

    import ipywidgets

    button = ipywidgets.Button(description="Open TensorBoard", icon="line-chart",
                               tooltip=f"tensorboard --logdir {logdir}",
                               layout=ipywidgets.Layout(width="auto"))
    out = ipywidgets.Output()

    def on_click(_):
        from tensorboard import notebook

        button.disabled = True
        with out:
            out.clear_output()
            if not _started:
                atexit.register(_stop_started)
            if not _started or _started[-1].proc.poll() is not None:
                print(f"starting TensorBoard on {logdir} ...")
                _started.append(start(logdir))
            server = _started[-1]
            out.clear_output()
            print(f"TensorBoard on {server.logdir}, port {server.port}; it stops with the kernel.")
            notebook.display(port=server.port, height=height)
        button.disabled = False

    button.on_click(on_click)
    return ipywidgets.VBox([button, out])
