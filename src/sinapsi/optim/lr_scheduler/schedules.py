"""The closed-form schedules: step, multi-step, exponential, cosine, linear and warmup."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

from ..optimizer import Optimizer
from ._base import LRScheduler, _check_float, _check_int


# ------------------------------------------------------------------------------ schedules
class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps.

    ``lr = base_lr * gamma ** (step // step_size)``.

    Args:
        optimizer: the optimizer.
        step_size: steps between two decays (>= 1).
        gamma: multiplicative factor (> 0, default 0.1).
        last_epoch: see :class:`LRScheduler` (default -1).
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _check_int("StepLR", "step_size", step_size, 1, " (steps between decays)")
        self.gamma = _check_float("StepLR", "gamma", gamma, 0.0, low_open=True, hint=" (e.g. 0.1)")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [lr * self.gamma ** (self.last_epoch // self.step_size) for lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each step listed in ``milestones``.

    Args:
        optimizer: the optimizer.
        milestones: strictly increasing step indices (ints >= 0), e.g. ``[30, 80]``.
        gamma: multiplicative factor (> 0, default 0.1).
        last_epoch: see :class:`LRScheduler` (default -1).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = _check_milestones("MultiStepLR", milestones, low=0)
        self.gamma = _check_float(
            "MultiStepLR", "gamma", gamma, 0.0, low_open=True, hint=" (e.g. 0.1)"
        )
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        n = bisect_right(self.milestones, self.last_epoch)
        return [lr * self.gamma**n for lr in self.base_lrs]


def _check_milestones(owner: str, milestones: Any, low: int) -> list[int]:
    if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
        raise TypeError(
            f"{owner}: milestones must be a list of step indices, e.g. [30, 80]; "
            f"got {type(milestones).__name__}."
        )
    values = list(milestones)
    bad = [m for m in values if not isinstance(m, int) or isinstance(m, bool) or m < low]
    if bad:
        raise ValueError(
            f"{owner}: Invalid milestones value: {values!r}. Every milestone must be an integer "
            f">= {low}; got {bad[0]!r}."
        )
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(
            f"{owner}: Invalid milestones value: {values!r}. Milestones must be strictly "
            f"increasing; sort them and drop repeats: {sorted(set(values))!r}."
        )
    return values


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at every step: ``lr = base_lr * gamma ** step``.

    Args:
        optimizer: the optimizer.
        gamma: multiplicative factor (> 0; e.g. 0.95).
        last_epoch: see :class:`LRScheduler` (default -1).
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _check_float(
            "ExponentialLR", "gamma", gamma, 0.0, low_open=True, hint=" (e.g. 0.95)"
        )
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [lr * self.gamma**self.last_epoch for lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from ``base_lr`` down to ``eta_min`` over ``T_max`` steps.

    Closed form: ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2``.
    Like PyTorch, the learning rate is updated recursively from the current one::

        lr_{t+1} = eta_min + (lr_t - eta_min) * (1 + cos(pi (t+1) / T)) / (1 + cos(pi t / T))

    (``T = T_max``), which agrees with the closed form up to rounding. Past ``T_max`` it rises
    again (a cosine of period ``2 * T_max``), with no restart.

    Args:
        optimizer: the optimizer.
        T_max: steps in the half period (>= 1).
        eta_min: the lowest learning rate (>= 0, default 0).
        last_epoch: see :class:`LRScheduler` (default -1).
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self.T_max = _check_int(
            "CosineAnnealingLR", "T_max", T_max, 1, " (steps from the base lr down to eta_min)"
        )
        self.eta_min = _check_float("CosineAnnealingLR", "eta_min", eta_min, 0.0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:
            return self._current_lrs()
        if (t - 1 - T) % (2 * T) == 0:  # leaving the minimum, where the ratio's divisor is 0
            return [
                g["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base_lr, g in zip(self.base_lrs, groups)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (g["lr"] - eta_min) + eta_min for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        cos = math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (lr - self.eta_min) * (1 + cos) / 2 for lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate by a factor going linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` steps, then keep it.

    ``lr = base_lr * (start_factor + (end_factor - start_factor) * min(step, total_iters) /
    total_iters)``, computed recursively like PyTorch.

    Args:
        optimizer: the optimizer.
        start_factor: factor at step 0, in (0, 1] (default 1/3).
        end_factor: factor from step ``total_iters`` on, in [0, 1] (default 1).
        total_iters: steps to go from one factor to the other (>= 1, default 5).
        last_epoch: see :class:`LRScheduler` (default -1).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        owner = type(self).__name__
        self.start_factor = _check_float(
            owner, "start_factor", start_factor, 0.0, 1.0, low_open=True,
            hint=" (the learning rate at step 0 is start_factor * lr)",
        )  # fmt: skip
        self.end_factor = _check_float(owner, "end_factor", end_factor, 0.0, 1.0)
        self.total_iters = _check_int(owner, "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] * self.start_factor for g in groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        delta, n = self.end_factor - self.start_factor, self.total_iters
        factor = 1.0 + delta / (n * self.start_factor + (self.last_epoch - 1) * delta)
        return [g["lr"] * factor for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        fraction = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * fraction
        return [lr * factor for lr in self.base_lrs]


class LinearWarmup(LinearLR):
    """Warm up linearly from ``start_factor * lr`` to ``lr`` over ``warmup_steps`` steps, then
    keep ``lr``: PyTorch's ``LinearLR(start_factor, end_factor=1.0, total_iters=warmup_steps)``.

    Usually stepped once per batch. To decay afterwards, join it to another schedule with
    :class:`SequentialLR`.

    Args:
        optimizer: the optimizer.
        warmup_steps: steps until the full learning rate (>= 1).
        start_factor: factor at step 0, in (0, 1] (default 1/3, as LinearLR).
        last_epoch: see :class:`LRScheduler` (default -1).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_steps: int,
        start_factor: float = 1.0 / 3,
        last_epoch: int = -1,
    ) -> None:
        _check_int("LinearWarmup", "warmup_steps", warmup_steps, 1)
        super().__init__(optimizer, start_factor, 1.0, warmup_steps, last_epoch)
