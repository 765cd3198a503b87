"""Learning-rate schedules: change each parameter group's ``group["lr"]`` as training goes on.

A scheduler wraps an optimizer. Call ``scheduler.step()`` after ``optimizer.step()``: once per
epoch, or once per batch for per-step schedules such as warmup; the caller decides what one
step means. ``ReduceLROnPlateau.step(metric)`` takes the monitored value instead.

The values are PyTorch's, float for float (``torch.optim.lr_scheduler``): the chainable
schedulers update the current ``group["lr"]`` recursively, exactly as PyTorch does, so a change
made to the learning rate from outside carries on. Differences from PyTorch: ``step()`` takes no
``epoch`` argument (deprecated there), nothing wraps ``optimizer.step`` to warn about call order,
``state_dict()`` holds only plain JSON-able values, and invalid arguments raise at construction.

Example (halve the learning rate every 2 epochs):

>>> import sinapsi as sn
>>> from sinapsi.optim import SGD
>>> from sinapsi.optim.lr_scheduler import StepLR
>>> optimizer = SGD([sn.Tensor([0.0], requires_grad=True)], lr=0.1)
>>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
>>> for epoch in range(4):
...     optimizer.step()  # ... after the epoch's batches
...     scheduler.step()
...     print(epoch, scheduler.get_last_lr())
0 [0.1]
1 [0.05]
2 [0.05]
3 [0.025]
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any

from .._errors import unknown_choice
from .optimizer import Optimizer

__all__ = [
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
    "LinearWarmup", "ReduceLROnPlateau", "SequentialLR",
]  # fmt: skip


# ------------------------------------------------------------------------ argument checks
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(owner: str, name: str, value: Any, low: int, hint: str = "") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(
            f"{owner}: Invalid {name} value: {value!r}. It must be an integer >= {low}{hint}."
        )
    return value


def _check_float(
    owner: str, name: str, value: Any, low: float, high: float = math.inf, *,
    low_open: bool = False, high_open: bool = False, hint: str = "",
) -> float:  # fmt: skip
    ok = _is_number(value) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low)
    ok = ok and (value < high if high_open else value <= high)
    if not ok:
        if high == math.inf:
            where = f"> {low}" if low_open else f">= {low}"
            where = f"a finite number {where}"
        else:
            where = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{owner}: Invalid {name} value: {value!r}. It must be {where}{hint}.")
    return float(value)


def _check_optimizer(owner: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{owner} expects a sinapsi Optimizer (e.g. sinapsi.optim.SGD(...)) as its first "
            f"argument; got {type(optimizer).__name__}."
        )
    return optimizer


def _plain(value: Any) -> Any:
    """A copy of ``value`` with lists, tuples and dicts copied all the way down."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------ base class
class LRScheduler:
    """Base class. Subclasses implement :meth:`get_lr` (the next learning rates, computed from
    ``last_epoch``, ``base_lrs`` and the current ``group["lr"]``).

    Args:
        optimizer: the optimizer whose ``param_groups[i]["lr"]`` this scheduler sets.
        last_epoch: index of the last step taken (default -1: a fresh start). Only pass another
            value to resume, when every group already holds ``"initial_lr"``.

    Construction records each group's starting learning rate as ``group["initial_lr"]`` (kept
    if present) into ``base_lrs``, then takes step 0. To resume from a checkpoint, build the
    scheduler, then load the optimizer's state, then the scheduler's.
    """

    _is_initial = False  # True only during the constructor's first step (PyTorch's flag)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        owner = type(self).__name__
        self.optimizer = _check_optimizer(owner, optimizer)
        _check_int(owner, "last_epoch", last_epoch, -1, " (-1 for a fresh start)")
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            missing = [i for i, g in enumerate(optimizer.param_groups) if "initial_lr" not in g]
            if missing:
                raise KeyError(
                    f"{owner}: resuming with last_epoch={last_epoch} needs 'initial_lr' in every "
                    f"parameter group; param_groups {missing} have none. Load the optimizer's "
                    "saved state first, or use last_epoch=-1 for a fresh start."
                )
        self.base_lrs: list[float] = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._is_initial = True
        try:
            self.step()
        finally:
            del self._is_initial  # back to the class default, so it is not part of the state

    def get_lr(self) -> list[float]:
        """The learning rates for step ``last_epoch`` (called by :meth:`step`)."""
        raise NotImplementedError

    def _get_closed_form_lr(self) -> list[float]:
        """The learning rates at ``last_epoch`` from ``base_lrs`` alone (used by SequentialLR)."""
        return self.get_lr()

    def step(self) -> None:
        """Advance the schedule by one step and write the new ``group["lr"]``s.

        Call it once per epoch, or once per batch for per-step schedules such as warmup, after
        ``optimizer.step()``.
        """
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._get_closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group, as set by the last step (a new list)."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer, as plain JSON-able values (copied)."""
        return {k: _plain(v) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved, from a scheduler of the same class."""
        self._check_state(state_dict)
        self.__dict__.update({k: _plain(v) for k, v in state_dict.items()})

    def _check_state(self, state_dict: dict[str, Any]) -> None:
        owner = type(self).__name__
        expected, got = set(self.state_dict()), set(state_dict)
        if expected != got:
            raise ValueError(
                f"{owner}.load_state_dict: the state does not match this scheduler (missing keys: "
                f"{sorted(expected - got)}, unexpected keys: {sorted(got - expected)}). Pass the "
                f"dict returned by state_dict() of a {owner}."
            )
        n_saved, n_groups = len(state_dict["_last_lr"]), len(self.optimizer.param_groups)
        if n_saved != n_groups:
            raise ValueError(
                f"{owner}.load_state_dict: the state is for {n_saved} parameter group(s) but the "
                f"optimizer has {n_groups}. Build the optimizer over the same parameter groups."
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


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


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at the ``milestones`` steps.

    Each scheduler must be built on ``optimizer`` first; at milestone ``m`` the next one starts
    from its own step 0 (its closed form at 0), as in PyTorch.

    Args:
        optimizer: the optimizer all the schedulers share.
        schedulers: two or more schedulers (not ReduceLROnPlateau).
        milestones: strictly increasing steps (>= 1), one fewer than the schedulers.
        last_epoch: see :class:`LRScheduler` (default -1).

    Example::

        warmup = LinearWarmup(optimizer, warmup_steps=5, start_factor=0.1)
        decay = CosineAnnealingLR(optimizer, T_max=95)
        scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[5])
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        owner = "SequentialLR"
        self.optimizer = _check_optimizer(owner, optimizer)
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{owner} needs at least one scheduler; got an empty list.")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or isinstance(s, ReduceLROnPlateau):
                raise TypeError(
                    f"{owner}: schedulers[{i}] is a {type(s).__name__}; it must be a learning-rate "
                    "scheduler other than ReduceLROnPlateau (whose step needs a metric)."
                )
            if s.optimizer is not optimizer:
                raise ValueError(
                    f"{owner}: schedulers[{i}] ({type(s).__name__}) was built on another "
                    "optimizer. Build every scheduler on the optimizer given to SequentialLR."
                )
        self._milestones = _check_milestones(owner, milestones, low=1)
        if len(self._milestones) != len(schedulers) - 1:
            raise ValueError(
                f"{owner}: got {len(schedulers)} schedulers and {len(self._milestones)} "
                "milestones; give one milestone fewer than schedulers (the steps where each "
                "next scheduler takes over)."
            )
        _check_int(owner, "last_epoch", last_epoch, -1, " (-1 for a fresh start)")
        self._schedulers = schedulers
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        _undo_initial_steps(self)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def step(self) -> None:
        """Advance by one step the scheduler in charge of this step."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)  # a new phase starts at its own step 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """Own state plus each wrapped scheduler's, under ``"_schedulers"``."""
        state = {
            k: _plain(v) for k, v in vars(self).items() if k not in ("optimizer", "_schedulers")
        }
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved = state_dict.get("_schedulers")
        if not isinstance(saved, list) or len(saved) != len(self._schedulers):
            raise ValueError(
                f"SequentialLR.load_state_dict: the state holds {len(saved or [])} wrapped "
                f"scheduler states but this SequentialLR has {len(self._schedulers)}. Pass the "
                "dict returned by state_dict() of a SequentialLR built the same way."
            )
        self._check_state(state_dict)
        self.__dict__.update({k: _plain(v) for k, v in state_dict.items() if k != "_schedulers"})
        for scheduler, state in zip(self._schedulers, saved):
            scheduler.load_state_dict(state)


def _undo_initial_steps(scheduler: LRScheduler) -> None:
    """Step back the wrapped schedulers' counters advanced by their constructors (PyTorch's
    ``SequentialLR.recursive_undo``)."""
    if isinstance(scheduler, SequentialLR):
        for s in scheduler._schedulers:
            _undo_initial_steps(s)
    else:
        scheduler.last_epoch -= 1
