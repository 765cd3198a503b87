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

import math
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend
from .._errors import check_bool
from ..capture import CapturedStep
from ..data import DataLoader
from ..nn.losses import get_loss
from ..nn.module import Module, module_dtype, training_mode
from ..optim import Optimizer, clip_grad_norm_
from ..optim import get as get_optimizer
from ._fit_guards import _only_fit, _penalty, _resume_error
from .callbacks import Callback, CallbackList, LearningRateScheduler, ProgressBar
from .checks import (
    _as_array,
    _at_step,
    _check_batches,
    _check_first_samples,
    _check_xy,
    _compute_metrics,
    _count,
    _input,
    _layer_names,
    _targets,
)
from .history import History
from .inference import evaluate, predict, predict_classes, predict_proba
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


def _check_loss(value: float, epoch: int, batch: int) -> None:
    """Stop at a step whose (global batch's) loss is NaN or Inf, before its update."""
    if not math.isfinite(value):
        raise FloatingPointError(
            f"fit: the loss became {value} at epoch {epoch + 1}, batch {batch + 1}. {_CAUSES}"
        )


class Trainer:
    """The loop behind :func:`fit`; callbacks see it as ``callback.trainer``.

    Attributes a callback may use: ``model``, ``optimizer``, ``loss_fn``, ``epochs``,
    ``batches_per_epoch``, ``history``, ``l1``, ``l2`` (the weight penalties, see :func:`fit`)
    and ``stop_training`` (set it to end after this epoch).
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
        *,
        l1: float = 0.0,
        l2: float = 0.0,
        capture: bool | None = None,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"fit: model must be a sinapsi nn.Module; got {type(model).__name__}.")
        self.model = model
        self.loss_fn = get_loss(loss)
        if isinstance(optimizer, Optimizer):
            if lr is not None:
                raise ValueError("fit: pass lr= only with an optimizer name, not an Optimizer.")
            held = {id(p) for group in optimizer.param_groups for p in group["params"]}
            own = [p for p in model.parameters() if p.requires_grad]
            if own and not any(id(p) in held for p in own):
                raise ValueError(
                    f"fit: the {type(optimizer).__name__} optimizer holds none of the model's "
                    "parameters, so training would change nothing (it was built for another "
                    "model, or before this one was rebuilt). Build it from this model's "
                    "parameters(), or pass optimizer= a name."
                )
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
        self.l1, self.l2 = _penalty("l1", l1), _penalty("l2", l2)
        self._penalized: list[Any] = []  # the weights the penalties apply to, set by run()
        if isinstance(callbacks, Callback):
            raise TypeError(
                f"fit: callbacks must be a list; got one {type(callbacks).__name__}. Pass "
                f"callbacks=[{type(callbacks).__name__}(...)]."
            )
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
        self.dist: Any = None  # fit(distributed=...): the rank's _distributed_fit.DataParallel
        if capture is not None:
            capture = check_bool("fit", "capture", capture)
        # the step recorded once and replayed (bit-identical to the eager step; see
        # sinapsi.capture); the optimizer's update stays in _update, after clipping/penalties
        self._captured = (
            None
            if capture is False
            else CapturedStep(
                model,
                self.loss_fn,
                self.optimizer,
                notice=capture is True,
                own_modules_only=capture is None,
            )  # fmt: skip
        )

    @property
    def is_main(self) -> bool:
        """Whether this process prints and writes files: rank 0, or the only process."""
        return self.dist is None or self.dist.comm.rank == 0

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
                try:
                    by_class[name][index].load_state_dict(entry["state"])
                except (KeyError, TypeError, ValueError, AttributeError) as e:
                    raise _resume_error(self._resumed_from, f"callbacks ({name})", e) from None

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
        if self.start_epoch >= self.epochs:
            warnings.warn(
                f"fit(resume_from=...): the checkpoint is at epoch {self.start_epoch} and "
                f"epochs={self.epochs}: nothing left to train. Pass epochs > {self.start_epoch} "
                "to train further (epochs counts from the start of the run).",
                UserWarning,
                stacklevel=3,
            )
        self.history = History.from_dict(state.get("history", {}))
        if state.get("fit_rng") is not None and self.rng is not None:
            self.rng.bit_generator.state = state["fit_rng"]
        scheduler = self._scheduler()
        if scheduler is not None and state.get("scheduler") is not None:
            try:
                scheduler.load_state_dict(state["scheduler"])
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise _resume_error(path, f"scheduler ({type(scheduler).__name__})", e) from None
        self._callback_states = state.get("callbacks")  # given back after on_train_begin
        self._resumed_from = path

    _resumed_from: str | Path | None = None

    def _train_step(self, xb: np.ndarray, yb: np.ndarray, dtype: Any, epoch: int, batch: int):
        captured = self._captured
        if captured is not None:
            value = float(captured.forward_backward(_input(xb, dtype), yb).data)
            _check_loss(value, epoch, batch)
            self._update()
            out = captured.output  # overwritten by the next step: copied where it is kept
            return value, (out.copy() if self.metrics else out)
        self.optimizer.zero_grad()
        out = self.model(_input(xb, dtype))
        loss = self.loss_fn(out, yb)
        value = float(loss.item())
        _check_loss(value, epoch, batch)
        loss.backward()
        self._update()
        return value, out.data

    def _update(self) -> None:
        """Clipping, the l1/l2 penalties and the optimizer step, on the step's gradients."""
        if self.clip_grad_norm is not None:
            clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        if self._penalized:  # empty without l1/l2: one truth test on the hot path
            self._add_penalties()
        self.optimizer.step()

    def _add_penalties(self) -> None:
        """grad += l1 sign(w) + l2 w on each weight with a gradient this step (the gradient
        of l1 sum|w| + l2/2 sum w^2), in place: leaf gradients are owned by their parameter."""
        l1, l2 = self.l1, self.l2
        for p in self._penalized:
            g, w = p.grad, p.data
            if g is None:  # not reached by the loss (or frozen): left alone, as weight_decay
                continue
            if l1:
                sign = backend.get_array_module(w).sign(w)
                g += l1 * sign + l2 * w if l2 else l1 * sign
            else:
                g += l2 * w

    def _train_epoch(
        self, epoch: int, loader: DataLoader, callbacks: CallbackList, dtype: Any
    ) -> dict[str, Any]:
        """One pass over ``loader``: the steps, the sample-weighted loss, the training metrics
        and the mean gradient norm of each layer."""
        total, count, outputs, targets = 0.0, 0, [], []
        norm_sums = {name: 0.0 for name, _ in self.layers}
        for batch, (xb, yb) in enumerate(loader):
            if self.dist is None:
                callbacks.call("on_batch_begin", batch, {})
            try:
                if self.dist is None:
                    value, out = self._train_step(xb, yb, dtype, epoch, batch)
                else:  # its shard of the batch; on_batch_begin within the step's guard
                    value, out, yb = self.dist.step(self, xb, yb, dtype, epoch, batch, callbacks)
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
                outputs.append(None if out is None else backend.to_numpy(out))
                targets.append(yb)
            callbacks.call("on_batch_end", batch, {"loss": value, "size": len(xb)})
        logs: dict[str, Any] = {"loss": total / count}
        if self.metrics:
            if self.dist is None:
                outputs, targets = np.concatenate(outputs), np.concatenate(targets)
            else:  # every rank's shards, in the batches' order
                outputs, targets = self.dist.gather(outputs, targets)
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
        dtype = module_dtype(self.model)
        loader = DataLoader((x, y), batch_size, shuffle=shuffle, seed=rng, drop_last=drop_last)
        loader._merge_lone_last = merge_lone_last
        self.epochs = epochs
        self.batches_per_epoch = len(loader)
        self.layers = _layer_names(self.model)
        if self.l1 or self.l2:  # weights and kernels; biases and BatchNorm's 1-d are exempt
            self._penalized = [
                p for p in self.model.parameters() if p.requires_grad and p.data.ndim >= 2
            ]
        callbacks = CallbackList(self.callbacks, self)
        if self.dist is not None:
            self.dist.start(self, loader)
        with training_mode(True):
            callbacks.call("on_train_begin", {})
            self._load_callback_states()
            for epoch in range(self.start_epoch, epochs):
                started = time.perf_counter()
                callbacks.call("on_epoch_begin", epoch, {})
                logs = self._train_epoch(epoch, loader, callbacks, dtype)
                if self.dist is not None:
                    self.dist.end_epoch()
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
                for args in self._pending_saves if self.is_main else ():
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
    y: Any = None,
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
    l1: float = 0.0,
    l2: float = 0.0,
    lr_scheduler: Any = None,
    scheduler_interval: str = "epoch",
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: int = 1,
    resume_from: str | Path | None = None,
    drop_last: bool = False,
    distributed: Any = False,
    capture: bool | None = None,
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
        l1, l2: penalties ``l1 * sum|w| + l2 / 2 * sum w^2`` on the weights and kernels (the
            parameters with 2 or more dimensions; biases and BatchNorm's are exempt, as in the
            TF Playground and Keras' ``kernel_regularizer``): after clipping, each step adds
            ``l1 * sign(w) + l2 * w`` to their gradients (also in ``grad_norms``). The logged
            ``loss`` stays the data loss, as the TF Playground shows it. 0 (default): off.
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
        distributed: train data-parallel over MPI (run the script with ``mpirun -n N``):
            True for :func:`sinapsi.distributed.world`, or a ``sinapsi.distributed.Comm``.
            Every rank passes the same data and seed; rank r trains on shard r of every
            global batch and one Allreduce per step sums the gradients, so without BatchNorm
            and Dropout N ranks give one process's weights and history to rounding. Each rank
            evaluates the whole validation set; BatchNorm uses per-rank statistics (running
            ones averaged each epoch); only rank 0 prints and saves checkpoints; a failed step
            on one rank raises on all. Details: :mod:`sinapsi.distributed`.
        capture: record the training step once per batch shape and replay it
            (:func:`sinapsi.capture`): bit-identical results, with less per-step bookkeeping.
            By default only a model built from sinapsi's own modules is captured (a forward of
            your own may have Python side effects that a replay would skip), and a step that
            cannot be captured runs eagerly, said only in the "sinapsi" log. True: any model,
            and a ``CaptureNotice`` warning when it falls back (an op without replay, a forward
            hook, a forward that reads tensor values into Python). False: always eager.

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
    steps; the validation after each epoch runs in eval mode. A second ``fit`` of the same
    model while one runs (another thread, or a callback) raises RuntimeError.
    """
    if y is None:
        _as_array("x", x)  # a DataLoader or Dataset passed as x: say that fit takes arrays
        raise TypeError("fit needs the targets y: fit(model, x, y, ...), one row per sample.")
    x, y = _check_xy("fit", x, y)
    epochs, batch_size = _count("fit", "epochs", epochs), _count("fit", "batch_size", batch_size)
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1 or 2. Received: verbose={verbose!r}")
    drop_last = check_bool("fit", "drop_last", drop_last)
    comm = None
    if distributed is not False:
        from .. import distributed as dist

        comm = dist.resolve(distributed)
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
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            got = len(validation_data) if isinstance(validation_data, (tuple, list)) else None
            raise ValueError(
                "fit: validation_data must be a pair (x_val, y_val); got "
                + (f"{got} items" if got is not None else type(validation_data).__name__)
                + " (sample weights, Keras' third item, are not supported)."
            )
        validation = _check_xy("fit (validation_data)", *validation_data)

    trainer = Trainer(
        model, loss, optimizer, lr, metrics, clip_grad_norm, callbacks, l1=l1, l2=l2,
        capture=capture if distributed is False else False,
    )  # fmt: skip
    if lr_scheduler is not None:
        scheduler = (
            lr_scheduler if hasattr(lr_scheduler, "step") else lr_scheduler(trainer.optimizer)
        )
        trainer.callbacks.append(LearningRateScheduler(scheduler, scheduler_interval))
    if comm is not None:
        from .._distributed_fit import DataParallel

        trainer.dist = DataParallel(comm)
    if verbose and trainer.is_main:
        trainer.callbacks.append(ProgressBar(verbose))
    y, out_shape = _check_first_samples(trainer.loss_fn, model, x, y, trainer.metrics)
    if validation is not None:
        y_val = _targets("fit (validation_data)", trainer.loss_fn, validation[1], out_shape)
        validation = (validation[0], y_val)
    merge_lone_last = _check_batches(model, len(x), batch_size, drop_last)
    trainer.rng = rng
    with _only_fit(model):
        if resume_from is not None:
            trainer.epochs = epochs
            trainer.resume(resume_from)
        return trainer.run(
            x, y, epochs, batch_size, validation, shuffle, rng, drop_last, merge_lone_last
        )
