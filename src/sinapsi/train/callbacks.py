"""Callbacks: objects with no-op hooks that the training loop calls (Keras' protocol).

A callback reads the ``logs`` dict (loss, metrics, learning rate, ...) and may set
``trainer.stop_training``. Hooks: ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch,
logs)``, ``on_batch_begin/end(batch, logs)``. Only overridden hooks cost anything.

A callback that keeps state across epochs (a best value, a patience counter) returns it from
``state_dict()`` as JSON-able values: checkpoints store it, and ``fit(resume_from=...)`` gives
it back through ``load_state_dict()`` after ``on_train_begin``, so a resumed run continues
exactly. Callbacks are matched by class and order.
"""

from __future__ import annotations

import base64
import math
import sys
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import unknown_choice

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = [
    "Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
    "GradientMonitor", "ProgressBar",
]  # fmt: skip

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin",
    "on_batch_end",
)  # fmt: skip


class Callback:
    """Base class: override the hooks you need. ``self.trainer`` is set before training."""

    trainer: Trainer

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict[str, Any]) -> None: ...
    def on_train_end(self, logs: dict[str, Any]) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None: ...
    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to continue exactly, as JSON-able values (default: none)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state_dict` returned (``fit`` calls it after
        ``on_train_begin`` when resuming)."""


class CallbackList:
    """Calls each hook on every callback that overrides it (the others cost nothing)."""

    def __init__(self, callbacks: list[Callback], trainer: Trainer) -> None:
        # Schedulers step first, so every other callback (a checkpoint above all) sees the
        # learning rate of the next epoch, as a resumed run will.
        callbacks = sorted(callbacks, key=lambda cb: not isinstance(cb, LearningRateScheduler))
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be sinapsi.train.Callback objects; got {type(cb).__name__}."
                )
            cb.set_trainer(trainer)
        self.hooks = {
            name: [getattr(cb, name) for cb in callbacks
                   if getattr(type(cb), name) is not getattr(Callback, name)]
            for name in _HOOKS
        }  # fmt: skip

    def call(self, hook: str, *args: Any) -> None:
        for fn in self.hooks[hook]:
            try:
                fn(*args)
            except Exception as e:  # the traceback shows the hook; the note says whose it is
                e.add_note(f"(raised by the callback {type(fn.__self__).__name__}.{hook})")
                raise


def _monitor_value(cb: Callback, monitor: str, logs: dict[str, Any], epoch: int) -> float | None:
    """The monitored number, or None when it is missing. Warns when it is missing, and the
    first time it is not finite (a NaN never compares better: it counts as no improvement)."""
    owner = type(cb).__name__
    if monitor not in logs:
        available = ", ".join(sorted(k for k in logs if not isinstance(logs[k], dict)))
        warnings.warn(
            f"{owner}: the monitored value {monitor!r} is not in the logs (available: "
            f"{available}). Pass monitor= one of these, or validation data for 'val_*' keys.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    value = float(logs[monitor])
    if not math.isfinite(value) and not getattr(cb, "_warned_not_finite", False):
        cb._warned_not_finite = True  # type: ignore[attr-defined]
        warnings.warn(
            f"{owner}: the monitored {monitor!r} is {value} at epoch {epoch + 1}; it counts as "
            "no improvement. Check what computes it.",
            RuntimeWarning,
            stacklevel=3,
        )
    return value


def _number(value: float) -> float | None:
    """A best value for JSON: +-inf (nothing seen yet) as None, which strict JSON allows."""
    return value if math.isfinite(value) else None


def _arrays_to_json(arrays: dict[str, np.ndarray] | None) -> dict[str, Any] | None:
    """Arrays as exact, JSON-able records (dtype, shape, base64 of the bytes)."""
    if arrays is None:
        return None
    return {
        key: {"dtype": str(a.dtype), "shape": list(a.shape),
              "data": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")}
        for key, a in arrays.items()
    }  # fmt: skip


def _arrays_from_json(records: dict[str, Any] | None) -> dict[str, np.ndarray] | None:
    if records is None:
        return None
    return {
        key: np.frombuffer(base64.b64decode(r["data"]), dtype=r["dtype"]).reshape(r["shape"])
        for key, r in records.items()
    }


def _mode(owner: str, mode: str, monitor: str) -> str:
    if mode == "auto":
        return "max" if any(k in monitor for k in ("acc", "r2")) else "min"
    if mode not in ("min", "max"):
        raise unknown_choice("mode", owner, ["auto", "min", "max"], mode)
    return mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model gets back the weights of its best epoch.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(
                f"EarlyStopping: patience must be an integer >= 0. Received: {patience!r}"
            )
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.mode = _mode("EarlyStopping", mode, monitor)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch, self.wait, self.stopped_epoch = -1, 0, None
        self.best_state: dict[str, Any] | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        value = _monitor_value(self, self.monitor, logs, epoch)
        if value is None:
            return
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = self.trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best_weights and self.best_state is not None:
            self.trainer.model.load_state_dict(self.best_state)

    def state_dict(self) -> dict[str, Any]:
        """Best value and epoch, patience counter, and (with ``restore_best_weights``) the
        best weights, which checkpoints then hold twice."""
        return {
            "best": _number(self.best), "best_epoch": self.best_epoch, "wait": self.wait,
            "stopped_epoch": self.stopped_epoch, "best_state": _arrays_to_json(self.best_state),
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("best") is not None:
            self.best = float(state["best"])
        self.best_epoch, self.wait = int(state["best_epoch"]), int(state["wait"])
        self.stopped_epoch = state.get("stopped_epoch")
        self.best_state = _arrays_from_json(state.get("best_state"))


class ModelCheckpoint(Callback):
    """Save the model to ``path`` during training, with :func:`sinapsi.save`'s format plus
    the optimizer and training state, so ``sinapsi.load(path)`` gives the model and
    ``fit(..., resume_from=path)`` continues the run exactly.

    ``save_best_only``: save only when ``monitor`` improves; otherwise every
    ``every_n_epochs`` epochs. ``path`` may contain ``{epoch}`` (1-based). Writes are atomic
    (temporary file, then rename): a crash mid-write leaves the previous file intact. The file
    is written after every callback has seen the epoch's end, so it holds their state after
    that epoch (the best value of this very checkpoint included). In a distributed fit only
    rank 0 writes (the others keep the same best value).
    """

    def __init__(
        self,
        path: str | Path,
        monitor: str = "val_loss",
        save_best_only: bool = True,
        every_n_epochs: int = 1,
        mode: str = "auto",
    ) -> None:
        if not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(
                "ModelCheckpoint: every_n_epochs must be an integer >= 1. "
                f"Received: {every_n_epochs!r}"
            )
        self.path, self.monitor = str(path), monitor
        self.save_best_only, self.every_n_epochs = save_best_only, every_n_epochs
        self.mode = _mode("ModelCheckpoint", mode, monitor)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved: list[str] = []

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        """Check the path before training, so a typo or a read-only folder costs no epoch."""
        if not getattr(self.trainer, "is_main", True):
            return  # a distributed fit's rank > 0 writes nothing: rank 0 checks and saves
        try:
            target = Path(self.path.format(epoch=1))
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(
                f"ModelCheckpoint: the path {self.path!r} may contain only the placeholder "
                f"{{epoch}} (e.g. 'ckpt_{{epoch:03d}}.safetensors'); formatting it failed ({e!r})."
            ) from None
        folder = target.parent
        try:
            if target.is_dir():
                raise IsADirectoryError(f"{str(target)!r} is a folder")
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as e:
            raise type(e)(
                f"ModelCheckpoint: cannot write checkpoints to {str(folder)!r} "
                f"({e.strerror or e}). Pass a path in a writable folder (checked before "
                "training, so no epoch is lost)."
            ) from None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.save_best_only:
            value = _monitor_value(self, self.monitor, logs, epoch)
            better = value is not None and (
                value < self.best if self.mode == "min" else value > self.best
            )
            if not better:
                return
            self.best = value  # type: ignore[assignment]
        elif (epoch + 1) % self.every_n_epochs:
            return
        target = self.path.format(epoch=epoch + 1)
        self.trainer.save_checkpoint_after_epoch(target, epoch, logs)
        self.saved.append(target)

    def state_dict(self) -> dict[str, Any]:
        return {"best": _number(self.best), "saved": list(self.saved)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("best") is not None:
            self.best = float(state["best"])
        self.saved = list(state.get("saved", []))


class LearningRateScheduler(Callback):
    """Step an ``optim.lr_scheduler`` scheduler once per epoch (``interval="epoch"``) or once
    per batch (``"step"``, e.g. warmup). ReduceLROnPlateau gets ``monitor`` from the logs."""

    def __init__(self, scheduler: Any, interval: str = "epoch", monitor: str = "val_loss") -> None:
        if interval not in ("epoch", "step"):
            raise unknown_choice("interval", "LearningRateScheduler", ["epoch", "step"], interval)
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor
        self._warned = False

    def _step(self, logs: dict[str, Any]) -> None:
        from ..optim.lr_scheduler import ReduceLROnPlateau

        if isinstance(self.scheduler, ReduceLROnPlateau):
            key = self.monitor if self.monitor in logs else "loss"
            if key != self.monitor and not self._warned:
                self._warned = True
                available = ", ".join(sorted(k for k in logs if not isinstance(logs[k], dict)))
                warnings.warn(
                    f"LearningRateScheduler: the monitored value {self.monitor!r} is not in the "
                    f"logs (available: {available}); ReduceLROnPlateau steps on 'loss' instead. "
                    "Pass validation data, or monitor='loss' to say so.",
                    RuntimeWarning,
                    stacklevel=4,
                )
            self.scheduler.step(logs[key])
        else:
            self.scheduler.step()

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if self.interval == "step":
            self._step(logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.interval == "epoch":
            self._step(logs)


class GradientMonitor(Callback):
    """Warn when a layer's gradient vanishes or explodes, naming the layer and the remedies.

    Vanishing: a layer's gradient norm is below ``vanish`` times the largest layer's norm.
    Exploding: a norm above ``explode`` or not finite. Reads the per-layer norms that
    ``fit`` records each epoch. Warns once per layer and kind.
    """

    def __init__(self, vanish: float = 1e-7, explode: float = 1e3) -> None:
        self.vanish, self.explode = vanish, explode
        self.flagged: set[tuple[str, str]] = set()

    def state_dict(self) -> dict[str, Any]:
        return {"flagged": sorted(list(pair) for pair in self.flagged)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.flagged = {(layer, kind) for layer, kind in state.get("flagged", [])}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        norms: dict[str, float] = logs.get("grad_norms", {})
        if not norms:
            return
        largest = max((n for n in norms.values() if np.isfinite(n)), default=0.0)
        for layer, norm in norms.items():
            if not np.isfinite(norm) or norm > self.explode:
                kind, advice = (
                    "explodes",
                    (
                        "clip the gradients (fit(..., clip_grad_norm=1.0)), lower the learning "
                        "rate, "
                        "or add BatchNorm"
                    ),
                )
            elif largest > 0 and norm < self.vanish * largest:
                kind, advice = (
                    "vanishes",
                    (
                        "use ReLU instead of sigmoid/tanh, He initialization (init='he'), "
                        "BatchNorm, or fewer layers"
                    ),
                )
            else:
                continue
            if (layer, kind) not in self.flagged:
                self.flagged.add((layer, kind))
                warnings.warn(
                    f"Epoch {epoch + 1}: the gradient of layer {layer} {kind} (norm {norm:.3g}, "
                    f"largest layer {largest:.3g}). Remedies: {advice}.",
                    RuntimeWarning,
                    stacklevel=2,
                )


class ProgressBar(Callback):
    """A tqdm progress bar per epoch with the running loss (verbose=1), or one line per epoch
    (verbose=2). In Jupyter, tqdm's notebook widget is used automatically; when output goes to
    a log file or a pipe rather than a terminal, verbose=1 prints one line per epoch too (a
    redrawn bar would repeat itself in a log)."""

    def __init__(self, verbose: int = 1) -> None:
        self.verbose = verbose
        if verbose == 1 and not (_in_notebook() or sys.stderr.isatty()):
            self.verbose = 2
        self.bar: Any = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.verbose == 1:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.trainer.batches_per_epoch,
                desc=f"Epoch {epoch + 1}/{self.trainer.epochs}",
                unit="batch",
                leave=True,
                bar_format="{desc} {bar:16} {n_fmt}/{total_fmt} [{elapsed}]{postfix}",
            )

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if batch % 10 == 0:
                self.bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.bar is not None:  # the bar already shows the time: just the numbers
            self.bar.set_postfix_str(_format_logs(logs, brief=True), refresh=True)
            self.bar.close()
            self.bar = None
        elif self.verbose == 2:
            print(f"Epoch {epoch + 1}/{self.trainer.epochs} - {_format_logs(logs)}", flush=True)


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def _format_logs(logs: dict[str, Any], brief: bool = False) -> str:
    """``loss 0.1234 - accuracy 0.9876 - ...``; ``brief``: shorter names, no lr or time, for
    the end of a progress bar (``loss 0.1234 acc 0.9876 val_loss ...``)."""
    parts = []
    for k, v in logs.items():
        if k == "time" and not brief:
            parts.append(f"{v:.2f}s")
        elif k == "lr" and not brief:
            parts.append(f"lr {v:.3g}")
        elif isinstance(v, float) and k not in ("time", "lr"):
            name = k.replace("accuracy", "acc") if brief else k
            parts.append(f"{name} {v:.4f}")
    return (" " if brief else " - ").join(parts)
