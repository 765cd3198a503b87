"""SequentialLR: run schedulers one after another (e.g. warmup, then cosine decay)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from ..optimizer import Optimizer
from ._base import LRScheduler, _check_int, _check_optimizer, _plain
from .plateau import ReduceLROnPlateau
from .schedules import _check_milestones


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
