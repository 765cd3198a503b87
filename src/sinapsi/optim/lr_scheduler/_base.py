"""The scheduler base class and the argument checks the schedules share."""

from __future__ import annotations

import math
from typing import Any

from ..optimizer import Optimizer


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
        """Advance the schedule by one step and write each group's new ``"lr"``.

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
