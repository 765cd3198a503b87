"""ReduceLROnPlateau: lower the learning rate when a monitored metric stops improving."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..._errors import unknown_choice
from ..optimizer import Optimizer
from ._base import LRScheduler, _check_float, _check_int, _check_optimizer


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a monitored metric stops improving.

    ``step(metric)`` takes the value (e.g. the validation loss) once per epoch. A value is an
    improvement when it beats the best so far by ``threshold``: ``metric < best * (1 -
    threshold)`` for ``mode="min"``/``"rel"``, ``metric < best - threshold`` for ``"abs"``
    (mirrored for ``"max"``). After more than ``patience`` epochs without one, each group's
    ``lr`` becomes ``max(lr * factor, min_lr)`` (skipped when that changes it by ``eps`` or
    less), then ``cooldown`` epochs pass before bad epochs count again. A NaN metric is never
    an improvement. Unlike the other schedulers it keeps no ``base_lrs`` and leaves the
    learning rates alone at construction (as PyTorch).

    Args:
        optimizer: the optimizer.
        mode: ``"min"`` (lower is better, default) or ``"max"``.
        factor: multiplier applied on a plateau, in (0, 1) (default 0.1).
        patience: bad epochs tolerated before reducing (>= 0, default 10).
        threshold: least change that counts as an improvement (>= 0, default 1e-4).
        threshold_mode: ``"rel"`` (default) or ``"abs"``.
        cooldown: epochs after a reduction during which bad epochs are ignored (default 0).
        min_lr: lower bound, one number or one per parameter group (default 0).
        eps: reductions smaller than this are skipped (default 1e-8).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        owner = "ReduceLROnPlateau"
        self.optimizer = _check_optimizer(owner, optimizer)
        if mode not in ("min", "max"):
            raise unknown_choice("mode", owner, ("min", "max"), mode)
        if threshold_mode not in ("rel", "abs"):
            raise unknown_choice("threshold_mode", owner, ("rel", "abs"), threshold_mode)
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = _check_float(
            owner, "factor", factor, 0.0, 1.0, low_open=True, high_open=True,
            hint=" (new_lr = lr * factor; e.g. 0.1 or 0.5)",
        )  # fmt: skip
        self.patience = _check_int(owner, "patience", patience, 0)
        self.threshold = _check_float(owner, "threshold", threshold, 0.0)
        self.cooldown = _check_int(owner, "cooldown", cooldown, 0)
        self.eps = _check_float(owner, "eps", eps, 0.0)
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(
                    f"{owner}: min_lr has {len(min_lr)} values but the optimizer has {n_groups} "
                    "parameter group(s). Give one min_lr per group, or a single number."
                )
            self.default_min_lr = None
            self.min_lrs = [_check_float(owner, "min_lr", m, 0.0) for m in min_lr]
        else:
            self.default_min_lr = _check_float(owner, "min_lr", min_lr, 0.0)
            self.min_lrs = [self.default_min_lr] * n_groups
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, value: float, best: float) -> bool:
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return value < best * (1.0 - self.threshold)
            return value < best - self.threshold
        if self.threshold_mode == "rel":
            return value > best * (self.threshold + 1.0)
        return value > best + self.threshold

    def step(self, metric: Any) -> None:  # type: ignore[override]
        """Record this epoch's ``metric`` (a number, or a one-element tensor/array) and reduce
        the learning rates if it has not improved for more than ``patience`` epochs."""
        try:
            current = float(metric)
        except (TypeError, ValueError):
            raise TypeError(
                "ReduceLROnPlateau.step(metric) needs the monitored value as one number (e.g. "
                f"the validation loss); got {type(metric).__name__}: {metric!r}."
            ) from None
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer now has {len(groups)} parameter groups "
                    f"but min_lr gave {len(self.min_lrs)} values (a group was added after the "
                    "scheduler was built). Set scheduler.min_lrs to one value per group."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr
