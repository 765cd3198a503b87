"""The training loop (*addestramento*): epochs of mini-batches, validation, inference.

:func:`fit` trains a model the way the notes describe it: the data in batches, for each batch a
forward pass, the loss, backpropagation and an optimizer step; after each epoch the validation
loss and metrics. It returns a :class:`History`. :func:`evaluate` and :func:`predict` run the
model in eval mode with no graph (*inferenza*).

>>> import numpy as np, sinapsi as sn
>>> from sinapsi import nn
>>> x = np.random.default_rng(0).standard_normal((64, 2))
>>> y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)             # XOR-like labels
>>> model = nn.Sequential(nn.Linear(2, 16, rng=0), nn.Tanh(), nn.Linear(16, 2, rng=1))
>>> history = sn.fit(model, x, y, loss="cross_entropy", optimizer="adam", lr=0.05,
...                  epochs=30, batch_size=16, metrics=["accuracy"], seed=0, verbose=0)
>>> history.history["loss"][-1] < history.history["loss"][0]
True
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend, ops
from ..autograd import no_grad
from ..data import DataLoader
from ..data.dataset import _check_arrays
from ..nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    NLLLoss,
    check_label_range,
    get_loss,
)
from ..nn.module import Module, training_mode
from ..nn.normalization import BatchNorm1d
from ..optim import Optimizer, clip_grad_norm_
from ..optim import get as get_optimizer
from ..tensor import Tensor
from .callbacks import Callback, CallbackList, LearningRateScheduler, ProgressBar
from .metrics import get_metric

__all__ = [
    "fit", "evaluate", "predict", "predict_proba", "predict_classes", "History", "Trainer",
    "DivergenceWarning",
]  # fmt: skip

_CAUSES = (
    "Usual causes: a learning rate too high (try 10x lower), exploding gradients (pass "
    "clip_grad_norm=1.0), or log/division of zero in a custom loss. Training stopped."
)
# A training loss this many times its first-epoch value means the run diverges (losses go
# down; noise or a warmup move them by a few times, not by a hundred).
DIVERGENCE_FACTOR = 100.0


class DivergenceWarning(RuntimeWarning):
    """fit's training loss grew to more than ``DIVERGENCE_FACTOR`` times its first-epoch
    value while staying finite: the run is diverging (issued once per ``fit``)."""


class History:
    """What happened during :func:`fit`, epoch by epoch (like Keras' History).

    ``history``: a dict of lists: ``loss``, ``val_loss``, each metric and ``val_`` metric,
    ``lr`` (the learning rate at the end of the epoch, before an epoch-wise schedule steps),
    ``time`` (seconds per epoch). ``grad_norms``: per layer, the mean gradient norm of
    each epoch. ``epoch``: the epoch numbers (1-based).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.grad_norms: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch.append(epoch + 1)
        for key, value in logs.items():
            if key == "grad_norms":
                for layer, norm in value.items():
                    self.grad_norms.setdefault(layer, []).append(norm)
            else:
                self.history.setdefault(key, []).append(value)

    def best_epoch(self, monitor: str = "val_loss", mode: str = "auto") -> int:
        """The 1-based epoch where ``monitor`` was best (min for losses, max for accuracy)."""
        if monitor not in self.history:
            raise KeyError(
                f"History has no {monitor!r}; available: {', '.join(sorted(self.history))}."
            )
        values = np.asarray(self.history[monitor])
        maximize = mode == "max" or (mode == "auto" and any(k in monitor for k in ("acc", "r2")))
        return self.epoch[int(np.argmax(values) if maximize else np.argmin(values))]

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "history": self.history, "grad_norms": self.grad_norms}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """The History that :meth:`to_dict` (or a saved ``history.json``) describes."""
        history = cls()
        history.epoch = list(data.get("epoch", []))
        history.history = {k: list(v) for k, v in data.get("history", {}).items()}
        history.grad_norms = {k: list(v) for k, v in data.get("grad_norms", {}).items()}
        return history

    def save(self, path: str | Path) -> None:
        """Write the history as JSON (atomically)."""
        from ..io import atomic_write

        text = json.dumps(self.to_dict(), indent=1).encode("utf-8")
        atomic_write(path, lambda f: f.write(text))

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History({len(self.epoch)} epochs, last: {last})"


# ---------------------------------------------------------------------------- data checks
def _as_array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    arr = backend.to_numpy(value)
    if arr.dtype == object:
        raise TypeError(f"fit: {name} must hold numbers; got an array of Python objects.")
    return arr


def _check_xy(where: str, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    # lengths and emptiness as every data entry point checks them; NaN with fit's own message
    x, y = _check_arrays((_as_array("x", x), _as_array("y", y)), ("x", "y"), where, finite=False)
    for name, a in (("x", x), ("y", y)):
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            raise ValueError(
                f"{where}: {name} holds {int((~np.isfinite(a)).sum())} NaN/Inf values (first at "
                f"index {tuple(int(i) for i in bad)}). Impute or drop those samples first."
            )
    return x, y


def _model_dtype(model: Module) -> Any:
    for p in model.parameters():
        return p.dtype
    return backend.get_default_dtype()


def _input(x: Any, dtype: Any) -> Tensor:
    """Floating inputs in the model's dtype; integer inputs (e.g. Embedding ids) as they are."""
    return Tensor(x, dtype=dtype) if x.dtype.kind == "f" else Tensor(x)


def _layer_names(model: Module) -> list[tuple[str, list[Any]]]:
    """(name, parameters) of every module that owns parameters directly, e.g. '0 Linear'."""
    layers = []
    for name, module in model.named_modules():
        params = [p for p in module._parameters.values() if p is not None]
        if params:
            layers.append((f"{name or 'model'} {type(module).__name__}", params))
    return layers


def _class_outputs(loss_fn: Any, outputs: np.ndarray) -> np.ndarray:
    """Predicted class labels from raw outputs, knowing the loss that trained them.

    Binary cross-entropy: every output is its own yes/no (multi-label), thresholded at 0.5
    for probabilities or 0 for logits. Otherwise: the argmax over classes (C > 1 outputs),
    or a single logit thresholded at 0.
    """
    if isinstance(loss_fn, (BCELoss, BCEWithLogitsLoss)):
        threshold = 0.5 if isinstance(loss_fn, BCELoss) else 0.0  # probabilities vs logits
        return (outputs > threshold).astype(np.int64)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    return (outputs.reshape(len(outputs), -1)[:, 0] > 0.0).astype(np.int64)


def _compute_metrics(
    names: Sequence[str], loss_fn: Any, outputs: np.ndarray, y: np.ndarray
) -> dict[str, float]:
    out = {}
    for name in names:
        kind, fn = get_metric(name)
        if kind == "classes":
            out[name] = fn(y, _class_outputs(loss_fn, outputs))
        elif kind == "scores":
            out[name] = fn(y, outputs)
        else:
            out[name] = fn(y, outputs.reshape(y.shape) if outputs.size == y.size else outputs)
    return out


_CLASS_INDEX_LOSSES = {CrossEntropyLoss: "cross_entropy", NLLLoss: "nll"}


def _class_labels(where: str, loss_fn: Any, y: np.ndarray, out_shape: tuple[int, ...]) -> Any:
    """Labels for a class-index loss, checked on the whole array the user passed.

    Floats that hold whole numbers (labels read from a CSV, say) become int64, as Keras and
    scikit-learn accept them (PyTorch refuses float class indices); other floats, strings and
    labels outside 0..C-1 are refused naming what was given. Targets with the outputs' shape
    (class probabilities) and other losses' targets pass unchanged.
    """
    name = _CLASS_INDEX_LOSSES.get(type(loss_fn))
    if name is None or y.ndim >= len(out_shape):
        return y
    given = f"{where}: the loss {name} needs class labels 0..C-1, but y is {y.dtype} with shape "
    encode = (
        "Encode the classes as 0..C-1, e.g. classes, y = np.unique(y, return_inverse=True), or "
        "use a regression loss (loss='mse')."
    )
    if y.dtype.kind == "f":
        fraction = np.mod(y, 1) != 0
        if fraction.any():
            first = tuple(int(i) for i in np.argwhere(fraction)[0])
            raise TypeError(
                f"{given}{y.shape} and holds non-integer values (first: {y[first]} at index "
                f"{first[0] if len(first) == 1 else first}). {encode}"
            )
        y = y.astype(np.int64)
    elif y.dtype.kind == "b":
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise TypeError(f"{given}{y.shape}. {encode}")
    ignore_index = getattr(loss_fn, "ignore_index", None)
    extra = () if ignore_index is None else (ignore_index,)
    check_label_range(where, y, out_shape[1] if len(out_shape) > 1 else 1, *extra)
    return y


def _check_first_samples(
    loss_fn: Any, model: Module, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, tuple[int, ...]]:
    """Run two samples without a graph so bad labels or shapes fail before training; return
    the labels (as classes where the loss needs them) and the outputs' shape."""
    with training_mode(False), no_grad():
        head = x[: min(len(x), 2)]
        out = model(_input(head, _model_dtype(model)))
        y = _class_labels("fit", loss_fn, y, out.shape)
        loss_fn(out, y[: len(head)])
    return y, out.shape


def _batch_norm_layer(model: Module) -> str | None:
    """The name of the first BatchNorm1d (training needs 2+ samples per batch), if any."""
    for name, module in model.named_modules():
        if isinstance(module, BatchNorm1d):
            return name or "model"
    return None


def _check_batches(model: Module, n: int, batch_size: int, drop_last: bool) -> bool:
    """Refuse batch settings that cannot train before training; return whether a last batch
    of one sample must join the previous batch (a BatchNorm model)."""
    if drop_last and n < batch_size:
        raise ValueError(
            f"fit: drop_last=True with batch_size={batch_size} leaves no batch: the training set "
            f"has {n} samples. Lower batch_size or pass drop_last=False."
        )
    layer = _batch_norm_layer(model)
    if layer is None:
        return False
    needs = (
        f"fit: the model's BatchNorm1d layer '{layer}' needs at least 2 samples per training "
        "batch (batch statistics); got"
    )
    if batch_size == 1:
        raise ValueError(f"{needs} batch_size=1. Pass batch_size >= 2 (or remove the layer).")
    if n == 1:
        raise ValueError(
            f"{needs} 1 training sample. Train on more samples (validation_split takes some "
            "away), or remove the layer."
        )
    return True


def _at_step(error: Exception, epoch: int, batch: int) -> Exception:
    """``error`` with the epoch and batch where fit met it: in the message for the built-in
    types users match on, as a note (shown in the traceback) for the others."""
    where = f"at epoch {epoch + 1}, batch {batch + 1}"
    message = str(error)
    if message.startswith("fit:"):  # fit's own errors already say where
        return error
    if type(error) in (ValueError, TypeError, IndexError, FloatingPointError) and error.args:
        return type(error)(f"fit: {where}: {message}").with_traceback(error.__traceback__)
    error.add_note(f"(fit {where})")
    return error


class Trainer:
    """The loop behind :func:`fit`; callbacks see it as ``callback.trainer``.

    Attributes a callback may use: ``model``, ``optimizer``, ``loss_fn``, ``epochs``,
    ``batches_per_epoch``, ``history``, and ``stop_training`` (set it to end after this epoch).
    """

    def __init__(
        self,
        model: Module,
        loss: Any,
        optimizer: Any,
        lr: float | None = None,
        metrics: Sequence[str] = (),
        clip_grad_norm: float | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"fit: model must be a sinapsi nn.Module; got {type(model).__name__}.")
        self.model = model
        self.loss_fn = get_loss(loss)
        if isinstance(optimizer, Optimizer):
            if lr is not None:
                raise ValueError("fit: pass lr= only with an optimizer name, not an Optimizer.")
            self.optimizer = optimizer
        else:
            kwargs = {} if lr is None else {"lr": lr}
            self.optimizer = get_optimizer(optimizer, list(model.parameters()), **kwargs)
        self.metrics = list(metrics)
        for name in self.metrics:
            get_metric(name)  # unknown names fail now, not after an epoch
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"fit: clip_grad_norm must be positive. Received: {clip_grad_norm!r}")
        self.clip_grad_norm = clip_grad_norm
        self.callbacks = list(callbacks)
        self.stop_training = False
        self.history = History()
        self.epochs = 0
        self.batches_per_epoch = 0
        self.start_epoch = 0
        self.rng: np.random.Generator | None = None
        self.layers: list[tuple[str, list[Any]]] = []
        self._warned_divergence = False
        self._pending_saves: list[tuple[str | Path, int, dict[str, Any]]] = []
        self._callback_states: list[dict[str, Any]] | None = None  # from resume()

    def _scheduler(self) -> Any:
        for cb in self.callbacks:
            if isinstance(cb, LearningRateScheduler):
                return cb.scheduler
        return None

    def save_checkpoint(self, path: str | Path, epoch: int, logs: dict[str, Any]) -> Path:
        """Save everything needed to resume after ``epoch`` (0-based) bit-identically: model,
        optimizer state, the shuffling generator, the modules' generators (Dropout), the LR
        schedule and the history so far."""
        from .. import io

        scheduler = self._scheduler()
        state = {
            "epoch": epoch + 1,
            "fit_rng": None if self.rng is None else self.rng.bit_generator.state,
            "history": self.history.to_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),
            "callbacks": [
                {"class": type(cb).__name__, "state": cb.state_dict()} for cb in self.callbacks
            ],
        }
        metrics = {k: v for k, v in logs.items() if isinstance(v, (int, float))}
        metadata = {"epoch": epoch + 1, "logs": metrics}
        return io.save(
            self.model, path, optimizer=self.optimizer, metadata=metadata, training_state=state
        )

    def save_checkpoint_after_epoch(
        self, path: str | Path, epoch: int, logs: dict[str, Any]
    ) -> None:
        """:meth:`save_checkpoint` once every callback has seen this epoch's end, so the file
        holds all of their states after it (what ModelCheckpoint uses)."""
        self._pending_saves.append((path, epoch, logs))

    def _load_callback_states(self) -> None:
        """Give each callback the state saved for the callback of its class at its position
        among those of its class. A saved state that no callback of this run takes (e.g. the
        ModelCheckpoint that wrote the file, not passed again) is ignored."""
        saved, self._callback_states = self._callback_states or [], None
        by_class: dict[str, list[Callback]] = {}
        for cb in self.callbacks:
            by_class.setdefault(type(cb).__name__, []).append(cb)
        seen: dict[str, int] = {}
        for entry in saved:
            name = entry["class"]
            index = seen[name] = seen.get(name, -1) + 1
            if index < len(by_class.get(name, [])):
                by_class[name][index].load_state_dict(entry["state"])

    def resume(self, path: str | Path) -> None:
        """Restore what :meth:`save_checkpoint` wrote into this trainer's model, optimizer,
        schedule and generator; training continues at the next epoch."""
        from .. import io
        from ..nn.registry import module_spec

        ckpt = io.load_checkpoint(path)
        try:
            same = module_spec(self.model) == module_spec(ckpt.model)
        except TypeError:  # an unregistered custom model: load_state_dict still checks shapes
            same = True
        if not same:
            raise ValueError(
                f"fit(resume_from={str(path)!r}): the checkpoint holds a different architecture "
                "than the model given to fit. Build the same model (or load it with "
                "sinapsi.load) before resuming."
            )
        self.model.load_state_dict(ckpt.model_state)
        io._set_module_rngs(self.model, ckpt.module_rngs)
        if ckpt.optimizer_state is not None:
            if ckpt.optimizer_type != type(self.optimizer).__name__:
                raise ValueError(
                    f"fit(resume_from=...): the checkpoint's optimizer is {ckpt.optimizer_type}, "
                    f"but fit was given {type(self.optimizer).__name__}. Resume with the same "
                    "optimizer."
                )
            self.optimizer.load_state_dict(ckpt.optimizer_state)
        state = ckpt.training_state or {}
        self.start_epoch = int(state.get("epoch", 0))
        self.history = History.from_dict(state.get("history", {}))
        if state.get("fit_rng") is not None and self.rng is not None:
            self.rng.bit_generator.state = state["fit_rng"]
        scheduler = self._scheduler()
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        self._callback_states = state.get("callbacks")  # given back after on_train_begin

    def _train_step(self, xb: np.ndarray, yb: np.ndarray, dtype: Any, epoch: int, batch: int):
        self.optimizer.zero_grad()
        out = self.model(_input(xb, dtype))
        loss = self.loss_fn(out, yb)
        value = float(loss.item())
        if not math.isfinite(value):
            raise FloatingPointError(
                f"fit: the loss became {value} at epoch {epoch + 1}, batch {batch + 1}. {_CAUSES}"
            )
        loss.backward()
        if self.clip_grad_norm is not None:
            clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        self.optimizer.step()
        return value, out.data

    def _train_epoch(
        self, epoch: int, loader: DataLoader, callbacks: CallbackList, dtype: Any
    ) -> dict[str, Any]:
        """One pass over ``loader``: the steps, the sample-weighted loss, the training metrics
        and the mean gradient norm of each layer."""
        total, count, outputs, targets = 0.0, 0, [], []
        norm_sums = {name: 0.0 for name, _ in self.layers}
        for batch, (xb, yb) in enumerate(loader):
            callbacks.call("on_batch_begin", batch, {})
            try:
                value, out = self._train_step(xb, yb, dtype, epoch, batch)
            except Exception as e:
                located = _at_step(e, epoch, batch)
                if located is e:
                    raise
                raise located from e.__cause__  # the original traceback, without repeating it
            for name, params in self.layers:
                norm_sums[name] += math.sqrt(
                    sum(float(np.vdot(p.grad, p.grad)) for p in params if p.grad is not None)
                )
            total += value * len(xb)
            count += len(xb)
            if self.metrics:
                outputs.append(backend.to_numpy(out))
                targets.append(yb)
            callbacks.call("on_batch_end", batch, {"loss": value, "size": len(xb)})
        logs: dict[str, Any] = {"loss": total / count}
        if self.metrics:
            outputs, targets = np.concatenate(outputs), np.concatenate(targets)
            logs.update(_compute_metrics(self.metrics, self.loss_fn, outputs, targets))
        logs["grad_norms"] = {k: v / self.batches_per_epoch for k, v in norm_sums.items()}
        return logs

    def _check_weights(self, epoch: int) -> None:
        """The loss of each step is checked before its update; this catches the epoch's last
        update (or any that left a parameter the loss does not see non-finite)."""
        for name, params in self.layers:
            for p in params:
                xp = backend.get_array_module(p.data)
                if not bool(xp.isfinite(p.data).all()):
                    raise FloatingPointError(
                        f"fit: the weights of layer '{name}' became NaN/Inf during epoch "
                        f"{epoch + 1} (at the latest in its last step, batch "
                        f"{self.batches_per_epoch}). {_CAUSES}"
                    )

    def _check_logs(self, epoch: int, logs: dict[str, Any]) -> None:
        """Refuse a non-finite loss or metric (training or validation) with finite weights;
        warn once when the training loss explodes while staying finite."""
        for key, value in logs.items():
            if isinstance(value, float) and not math.isfinite(value):
                name = key[4:] if key.startswith("val_") else key
                what = "loss" if name == "loss" else f"metric '{name}'"
                if key.startswith("val_"):
                    where = f"the validation {what} ({key})"
                    hint = ("The weights are finite but the outputs on the validation data are "
                            "not: check that x_val is scaled like the training data.")  # fmt: skip
                else:
                    where = f"the training {what}"
                    hint = ("The weights are finite but the outputs or targets overflow the "
                            "model's dtype: scale the targets (e.g. standardize y).")  # fmt: skip
                raise FloatingPointError(
                    f"fit: {where} became {value} at epoch {epoch + 1}. {hint} {_CAUSES}"
                )
        losses = self.history.history.get("loss")
        if losses and losses[0] > 0 and not self._warned_divergence:
            ratio = logs["loss"] / losses[0]
            if ratio > DIVERGENCE_FACTOR:
                self._warned_divergence = True
                warnings.warn(
                    f"fit: at epoch {epoch + 1} the training loss ({logs['loss']:.3g}) is "
                    f"{ratio:.3g} times its first-epoch value ({losses[0]:.3g}): the run is "
                    "diverging. Lower the learning rate (try 10x lower), pass "
                    "clip_grad_norm=1.0, or standardize the inputs and targets.",
                    DivergenceWarning,
                    stacklevel=4,
                )

    def run(
        self,
        x: np.ndarray,
        y: np.ndarray,
        epochs: int,
        batch_size: int,
        validation: tuple[np.ndarray, np.ndarray] | None,
        shuffle: bool,
        rng: np.random.Generator,
        drop_last: bool = False,
        merge_lone_last: bool = False,
    ) -> History:
        """Train from ``start_epoch`` to ``epochs``; the model is left in eval mode.

        The loop runs inside ``training_mode(True)``: in this thread every module trains
        whatever its flag, and a ``predict`` in another thread keeps its eval mode.
        """
        dtype = _model_dtype(self.model)
        loader = DataLoader((x, y), batch_size, shuffle=shuffle, seed=rng, drop_last=drop_last)
        loader._merge_lone_last = merge_lone_last
        self.epochs = epochs
        self.batches_per_epoch = len(loader)
        self.layers = _layer_names(self.model)
        callbacks = CallbackList(self.callbacks, self)
        with training_mode(True):
            callbacks.call("on_train_begin", {})
            self._load_callback_states()
            for epoch in range(self.start_epoch, epochs):
                started = time.perf_counter()
                callbacks.call("on_epoch_begin", epoch, {})
                logs = self._train_epoch(epoch, loader, callbacks, dtype)
                self._check_weights(epoch)
                if validation is not None:
                    val = evaluate(self.model, validation[0], validation[1], self.loss_fn,
                                   self.metrics, batch_size=max(batch_size, 256))  # fmt: skip
                    logs.update({f"val_{k}": v for k, v in val.items()})
                self._check_logs(epoch, logs)
                logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
                logs["time"] = time.perf_counter() - started
                logs["grad_norms"] = logs.pop("grad_norms")  # the numbers first, as before
                self.history.append(epoch, logs)  # first: a checkpoint taken now includes it
                callbacks.call("on_epoch_end", epoch, logs)
                for args in self._pending_saves:
                    self.save_checkpoint(*args)
                self._pending_saves.clear()
                if self.stop_training:
                    break
            callbacks.call("on_train_end", {})
        self.model.eval()
        return self.history


def fit(
    model: Module,
    x: Any,
    y: Any,
    *,
    loss: Any = "cross_entropy",
    optimizer: Any = "adam",
    lr: float | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    metrics: Sequence[str] = (),
    clip_grad_norm: float | None = None,
    lr_scheduler: Any = None,
    scheduler_interval: str = "epoch",
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: int = 1,
    resume_from: str | Path | None = None,
    drop_last: bool = False,
) -> History:
    """Train ``model`` on ``(x, y)`` for ``epochs`` passes in mini-batches; return a History.

    Args:
        model: an ``nn.Module``.
        x: inputs of shape (n_samples, n_features) (or any shape the model takes).
        y: targets: class labels (n_samples,) for cross-entropy, values for regression.
        loss: a name (``"cross_entropy"``, ``"mse"``, ``"bce_with_logits"``, ...) or a module.
        optimizer: a name (``"adam"``, ``"sgd"``, ...; built with ``lr`` if given) or an
            Optimizer.
        epochs, batch_size: passes over the data and samples per update.
        validation_data: ``(x_val, y_val)`` evaluated after each epoch; or
        validation_split: the fraction of (x, y) to hold out for it (taken after a seeded
            shuffle).
        metrics: names among accuracy, top_k_accuracy, top5, mae, rmse, r2.
        clip_grad_norm: clip the total gradient norm to this value before each step.
        lr_scheduler: an ``optim.lr_scheduler`` scheduler over the optimizer, or a function
            ``optimizer -> scheduler`` (handy with an optimizer given by name); stepped once per
            epoch, or per batch with ``scheduler_interval="step"``.
        shuffle: reshuffle the training set each epoch (a seeded permutation of indices).
        drop_last: skip each epoch's last batch when it is smaller than ``batch_size`` (as
            PyTorch's DataLoader). With the default False every sample trains every epoch; in a
            model with BatchNorm1d, a last batch of a single sample (33 samples, batch 32),
            whose batch variance does not exist, joins the previous batch (one batch of 33)
            rather than failing mid-epoch or being dropped silently.
        seed: seeds shuffling and the validation split: same seed, same model, same data ->
            bit-identical history (except the timings).
        callbacks: ``sinapsi.train`` callbacks (EarlyStopping, ModelCheckpoint, ...).
        verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
        resume_from: a checkpoint written by ``ModelCheckpoint(save_best_only=False)`` (or
            ``Trainer.save_checkpoint``): restore the weights, optimizer state, schedule,
            random generators, history and the callbacks' state (EarlyStopping's patience and
            best weights, ModelCheckpoint's best value: matched by class and order), and
            continue from the next epoch up to ``epochs`` in all. With the same data,
            arguments and callbacks the result is bit-identical to a run that was never
            interrupted.

    Class labels (cross_entropy, nll): integers 0..C-1; floats that hold whole numbers are
    accepted and converted (as Keras and scikit-learn do), other floats and strings refused.

    Errors before training starts: empty data, x/y length mismatch, NaN/Inf in the data, labels
    out of range for the model's outputs or not whole numbers, batch settings that leave no
    batch or a BatchNorm batch of one sample. During training: any error names the epoch and
    batch; a NaN/Inf loss, weights, validation loss or metric stops training with the usual
    causes. The model is left in eval mode.

    Threads: training runs inside ``nn.module.training_mode(True)``, which holds for this
    thread only, so a ``predict``/``evaluate`` in another thread (which run in eval mode the
    same way) and ``model.eval()`` called elsewhere do not change the mode of the training
    steps; the validation after each epoch runs in eval mode.
    """
    x, y = _check_xy("fit", x, y)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be an integer >= 1. Received: epochs={epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"fit: batch_size must be an integer >= 1. Received: {batch_size!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1 or 2. Received: verbose={verbose!r}")
    if not isinstance(drop_last, (bool, np.bool_)):
        raise TypeError(f"fit: drop_last must be True or False. Received: drop_last={drop_last!r}")
    rng = backend.new_rng(seed)
    if validation_data is not None and validation_split:
        raise ValueError("fit: give validation_data or validation_split, not both.")
    if validation_split:
        if not 0.0 < validation_split < 1.0:
            raise ValueError(
                f"fit: validation_split must be in (0, 1). Received: {validation_split!r}"
            )
        order = rng.permutation(len(x))
        n_val = int(round(len(x) * validation_split))
        if n_val == 0 or n_val == len(x):
            raise ValueError(
                f"fit: validation_split={validation_split} of {len(x)} samples leaves no "
                "training or no validation data."
            )
        validation_data = (x[order[:n_val]], y[order[:n_val]])
        x, y = x[order[n_val:]], y[order[n_val:]]
    validation = None
    if validation_data is not None:
        validation = _check_xy("fit (validation_data)", *validation_data)

    trainer = Trainer(model, loss, optimizer, lr, metrics, clip_grad_norm, callbacks)
    if lr_scheduler is not None:
        scheduler = (
            lr_scheduler if hasattr(lr_scheduler, "step") else lr_scheduler(trainer.optimizer)
        )
        trainer.callbacks.append(LearningRateScheduler(scheduler, scheduler_interval))
    if verbose:
        trainer.callbacks.append(ProgressBar(verbose))
    y, out_shape = _check_first_samples(trainer.loss_fn, model, x, y)
    if validation is not None:
        y_val = _class_labels("fit (validation_data)", trainer.loss_fn, validation[1], out_shape)
        validation = (validation[0], y_val)
    merge_lone_last = _check_batches(model, len(x), batch_size, bool(drop_last))
    trainer.rng = rng
    if resume_from is not None:
        trainer.resume(resume_from)
    return trainer.run(
        x, y, epochs, batch_size, validation, shuffle, rng, bool(drop_last), merge_lone_last
    )


def _predict_raw(model: Module, x: Any, batch_size: int) -> np.ndarray:
    x = _as_array("x", x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"predict: no samples to predict (x has shape {x.shape}).")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"predict: batch_size must be an integer >= 1. Received: {batch_size!r}")
    dtype = _model_dtype(model)
    with training_mode(False), no_grad():  # per thread: a concurrent fit keeps training
        parts = [
            backend.to_numpy(model(_input(x[i : i + batch_size], dtype)).data)
            for i in range(0, len(x), batch_size)
        ]
    return np.concatenate(parts)


def predict(model: Module, x: Any, batch_size: int = 256) -> np.ndarray:
    """The model's raw outputs for ``x``, in eval mode, with no graph built (inference).

    Eval mode holds for this call's thread only (``nn.module.training_mode(False)``): the
    model's own flag is untouched, so a ``fit`` running in another thread keeps training."""
    return _predict_raw(model, x, batch_size)


def predict_proba(model: Module, x: Any, batch_size: int = 256) -> np.ndarray:
    """Class probabilities of a classifier that outputs logits: softmax over C > 1 outputs,
    sigmoid for a single output (returned as two columns, P(0) and P(1))."""
    out = _predict_raw(model, x, batch_size)
    if out.ndim == 2 and out.shape[1] > 1:
        return ops.softmax(Tensor(out, dtype=out.dtype), axis=1).data
    p = ops.sigmoid(Tensor(out.reshape(len(out)), dtype=out.dtype)).data
    return np.stack([1.0 - p, p], axis=1)


def predict_classes(model: Module, x: Any, batch_size: int = 256) -> np.ndarray:
    """Predicted class labels of a classifier that outputs logits."""
    return predict_proba(model, x, batch_size).argmax(axis=1)


def evaluate(
    model: Module,
    x: Any,
    y: Any,
    loss: Any = "cross_entropy",
    metrics: Sequence[str] = (),
    batch_size: int = 256,
) -> dict[str, float]:
    """Loss (sample-weighted over batches) and metrics on ``(x, y)``, in eval mode (for this
    thread only, as :func:`predict`), with no graph."""
    x, y = _check_xy("evaluate", x, y)
    loss_fn = get_loss(loss)
    outputs = _predict_raw(model, x, batch_size)
    y = _class_labels("evaluate", loss_fn, y, outputs.shape)
    total = 0.0
    with no_grad():
        for i in range(0, len(x), batch_size):
            out = Tensor(outputs[i : i + batch_size], dtype=outputs.dtype)
            total += float(loss_fn(out, y[i : i + batch_size]).item()) * len(out)
    result = {"loss": total / len(x)}
    result.update(_compute_metrics(metrics, loss_fn, outputs, y))
    return result
