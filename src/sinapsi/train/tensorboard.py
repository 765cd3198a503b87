"""The TensorBoard callback: a run's numbers and weight histograms as TensorBoard event files.

Keras' names and defaults (``log_dir``, ``histogram_freq``, ``write_graph``, ``update_freq``);
the files are written by tensorboardX's ``SummaryWriter`` (``pip install tensorboardX``, or the
``tensorboard`` extra), so ``tensorboard --logdir LOG_DIR`` shows them.
"""

from __future__ import annotations

import math
import os
import re
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend
from .callbacks import Callback

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Write each epoch's logs as scalars, and the weights' and gradients' histograms, to
    TensorBoard event files in ``log_dir`` (and nowhere else).

    Args:
        log_dir: the folder of the event files (created if missing). Runs written to one
            folder overlay in TensorBoard; give each run its own (``runs/<name>``) to compare.
        histogram_freq: every this many epochs, a histogram of each parameter (tag
            ``<layer>/<name>``, e.g. ``0/weight``) and of its gradient (``0/weight_grad``: the
            last batch's, as the optimizer used it). 0 writes none.
        write_graph: also write the model's structure (its repr) to TensorBoard's Text tab at the
            start. sinapsi has no traced graph for the Graphs tab (``sinapsi.export_onnx``
            writes one for Netron).
        update_freq: ``"epoch"``: scalars once per epoch; an int ``N`` (or ``"batch"``, 1):
            also the training loss every ``N`` batches, as ``batch_loss`` against the count of
            batches so far.

    Every numeric log key becomes a scalar per epoch (``loss``, ``val_loss``, each metric and
    ``val_`` metric, ``lr``, ``time``), with the epoch (1-based, as ``History.epoch``) as its
    step; the per-layer gradient norms as ``grad_norm/<layer>`` (``grad_norm/0_Linear``). The
    writer is flushed after each epoch and closed at the end of training. ``fit`` does not tell
    callbacks of an exception, so after a failed run the writer stays open until the next
    ``fit`` with this callback, :meth:`close`, the end of a ``with TensorBoard(...) as tb:``
    block, or the callback's deletion; every finished epoch is on disk already. Only the main
    process writes (rank 0 of a distributed run).

    >>> import sinapsi as sn, tempfile, numpy as np
    >>> from sinapsi import nn
    >>> model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    >>> x, y = np.random.default_rng(0).normal(size=(32, 2)), np.arange(32) % 2
    >>> tb = sn.train.TensorBoard(tempfile.mkdtemp())
    >>> _ = sn.fit(model, x, y, epochs=2, callbacks=[tb], verbose=0)
    >>> len(list(tb.log_dir.glob("events.out.tfevents.*")))
    1
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] = "logs",
        histogram_freq: int = 1,
        write_graph: bool = False,
        update_freq: str | int = "epoch",
    ) -> None:
        if not isinstance(log_dir, (str, os.PathLike)) or not os.fspath(log_dir):
            raise TypeError(f"TensorBoard: log_dir must be a folder's path; got {log_dir!r:.80}.")
        if os.path.exists(log_dir) and not os.path.isdir(log_dir):
            raise NotADirectoryError(
                f"TensorBoard: log_dir {os.fspath(log_dir)!r} is a file; give a folder's path."
            )
        if not _is_count(histogram_freq, 0):
            raise ValueError(
                f"TensorBoard: histogram_freq must be an int >= 0 (0: no histograms); got "
                f"{histogram_freq!r:.80}."
            )
        if not isinstance(write_graph, bool):
            raise TypeError(f"TensorBoard: write_graph must be a bool; got {write_graph!r:.80}.")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not _is_count(update_freq, 1):
            raise ValueError(
                "TensorBoard: update_freq must be 'epoch', 'batch' or an int >= 1 (every that "
                f"many batches); got {update_freq!r:.80}."
            )
        self.log_dir = Path(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.update_freq = update_freq
        self.writer: Any = None
        self._closer: weakref.finalize | None = None
        self._batches = 0

    # ------------------------------------------------------------------ the writer's lifetime
    def _open(self) -> Any:
        try:
            from tensorboardX import SummaryWriter
        except ImportError as e:
            raise ImportError(
                "TensorBoard needs tensorboardX, which is not installed. Install it with: pip "
                "install tensorboardX (or: pip install 'sinapsi[tensorboard]')."
            ) from e
        self.close()  # one left open by a run that failed
        writer = SummaryWriter(logdir=os.fspath(self.log_dir))
        self._closer = weakref.finalize(self, writer.close)
        return writer

    def close(self) -> None:
        """Flush and close the event file (``fit`` does it at the end of training)."""
        if self._closer is not None:
            self._closer()  # calls writer.close() once, whoever asks first
        self.writer, self._closer = None, None

    def __enter__(self) -> TensorBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the hooks
    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if not self.trainer.is_main:  # one writer per run: rank 0's (see sinapsi.distributed)
            return
        self.writer = self._open()
        self._batches = 0
        if self.write_graph:
            self.writer.add_text("model", f"```\n{self.trainer.model!r}\n```", 0)

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if self.writer is None or self.update_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.update_freq == 0 and _finite(logs.get("loss")):
            self.writer.add_scalar("batch_loss", float(logs["loss"]), self._batches)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.writer is None:
            return
        step = epoch + 1
        for key, value in logs.items():
            if key == "grad_norms" and isinstance(value, dict):
                for layer, norm in value.items():
                    if _finite(norm):
                        self.writer.add_scalar(grad_norm_tag(layer), float(norm), step)
            elif _finite(value):
                self.writer.add_scalar(key, float(value), step)
        if self.histogram_freq and step % self.histogram_freq == 0:
            self._histograms(step)
        self.writer.flush()

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.close()

    def _histograms(self, step: int) -> None:
        for name, param in self.trainer.model.named_parameters():
            layer, _, short = name.rpartition(".")
            tag = f"{layer}/{short}" if layer else short
            for suffix, array in (("", param.data), ("_grad", param.grad)):
                if array is None or array.size == 0:
                    continue
                values = backend.to_numpy(array).astype(np.float64).ravel()
                if np.isfinite(values).all():  # numpy cannot bin inf or NaN
                    self.writer.add_histogram(tag + suffix, values, step)


def grad_norm_tag(layer: str) -> str:
    """The tag of a layer's gradient norm: ``'0 Linear'`` -> ``'grad_norm/0_Linear'`` (a
    TensorBoard tag holds letters, digits and ``_./-``)."""
    return "grad_norm/" + (re.sub(r"[^\w./-]", "_", layer) or "model")


def _is_count(value: Any, least: int) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= least


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and (
        math.isfinite(value)
    )
