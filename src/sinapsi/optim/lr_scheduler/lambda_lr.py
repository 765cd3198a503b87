"""Schedules given by the user's functions of the epoch: LambdaLR and MultiplicativeLR.

Saving them (checkpoints are JSON, never pickle): a function cannot be saved, so
``state_dict()`` holds ``None`` in its place under ``"lr_lambdas"``, as PyTorch does; the
function comes back from the user's code, which builds the scheduler again before
``load_state_dict`` (``fit(resume_from=...)`` does exactly this with the scheduler it is given).
A callable *object* (an instance of a class with ``__call__``) has its attributes saved, as in
PyTorch, and restored into the object given at load time; they must be JSON-able values
(numbers, strings, lists, dicts).
"""

from __future__ import annotations

import json
import math
import numbers
import types
from collections.abc import Callable
from typing import Any

from ..optimizer import Optimizer
from ._base import LRScheduler, _check_optimizer, _plain

LrLambda = Callable[[int], float]

_FUNCTIONS = (types.FunctionType, types.MethodType, types.BuiltinFunctionType)


class _LambdaScheduler(LRScheduler):
    """Holds one function per parameter group, and saves them the way the module docstring says."""

    def __init__(
        self, optimizer: Optimizer, lr_lambda: LrLambda | list[LrLambda], last_epoch: int = -1
    ) -> None:
        owner = type(self).__name__
        n_groups = len(_check_optimizer(owner, optimizer).param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(
                    f"{owner}: got {len(lr_lambda)} lr_lambda function(s) but the optimizer has "
                    f"{n_groups} parameter groups. Give one function, or one per group."
                )
            for i, fn in enumerate(lr_lambda):
                if not callable(fn):
                    raise TypeError(
                        f"{owner}: lr_lambda[{i}] must be a function of the epoch (e.g. "
                        f"lambda epoch: 0.95 ** epoch); got {type(fn).__name__}: {fn!r}."
                    )
            self.lr_lambdas: list[LrLambda] = list(lr_lambda)
        elif callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * n_groups
        else:
            raise TypeError(
                f"{owner}: lr_lambda must be a function of the epoch (e.g. lambda epoch: 0.95 ** "
                "epoch) or a list of one per parameter group; got "
                f"{type(lr_lambda).__name__}: {lr_lambda!r}."
            )
        super().__init__(optimizer, last_epoch)

    def _factors(self) -> list[Any]:
        """Each group's ``lr_lambda(last_epoch)``, checked: a finite number >= 0."""
        factors = [fn(self.last_epoch) for fn in self.lr_lambdas]
        for i, f in enumerate(factors):
            real = isinstance(f, numbers.Real) and not isinstance(f, bool)
            if not (real and math.isfinite(f) and f >= 0):
                raise ValueError(
                    f"{type(self).__name__}: lr_lambda[{i}] returned {f!r} at epoch "
                    f"{self.last_epoch}; it must return a finite number >= 0 (the factor "
                    "applied to the learning rate)."
                )
        return factors

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer, as plain JSON-able values; under ``"lr_lambdas"``,
        ``None`` for each function and the attributes of each callable object."""
        skip = ("optimizer", "lr_lambdas")
        state = {k: _plain(v) for k, v in vars(self).items() if k not in skip}
        state["lr_lambdas"] = [self._lambda_state(i, fn) for i, fn in enumerate(self.lr_lambdas)]
        return state

    def _lambda_state(self, index: int, fn: LrLambda) -> dict[str, Any] | None:
        if isinstance(fn, _FUNCTIONS) or not hasattr(fn, "__dict__"):
            return None
        attributes = _plain(vars(fn))
        for name, value in attributes.items():
            try:
                json.dumps(value, allow_nan=True)
            except (TypeError, ValueError):
                raise TypeError(
                    f"{type(self).__name__}.state_dict: lr_lambda[{index}] "
                    f"({type(fn).__name__}) holds {name!r} = {type(value).__name__}, which a JSON "
                    "checkpoint cannot hold. Keep only numbers, strings, lists and dicts in its "
                    "attributes, or use a plain function (not saved; rebuilt by your code)."
                ) from None
        return attributes

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved. The functions stay those given to the
        constructor; the saved attributes of callable objects are set back on them."""
        self._check_state(state_dict)
        saved = state_dict["lr_lambdas"]
        if not isinstance(saved, list) or len(saved) != len(self.lr_lambdas):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state holds "
                f"{len(saved) if isinstance(saved, list) else saved!r} lr_lambdas entries but "
                f"this scheduler has {len(self.lr_lambdas)}. Pass the dict returned by "
                "state_dict() of a scheduler built over the same parameter groups."
            )
        self.__dict__.update({k: _plain(v) for k, v in state_dict.items() if k != "lr_lambdas"})
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(_plain(attributes))


class LambdaLR(_LambdaScheduler):
    """Set the learning rate to ``base_lr * lr_lambda(epoch)``: PyTorch's LambdaLR.

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the step index (0, 1, 2, ...) returning a factor, or a list of
            such functions, one per parameter group.
        last_epoch: see :class:`LRScheduler` (default -1).

    Step 0 (at construction) already sets ``base_lr * lr_lambda(0)``. A factor that is not a
    finite number >= 0 (NaN, negative, None, ...) raises a ValueError naming the function and
    the epoch, instead of a learning rate that would silently ruin the weights. What
    ``state_dict()`` saves of the functions: see :mod:`sinapsi.optim.lr_scheduler.lambda_lr`
    (functions are not saved; build the scheduler with them again before loading).

    >>> import sinapsi as sn
    >>> from sinapsi.optim import SGD
    >>> from sinapsi.optim.lr_scheduler import LambdaLR
    >>> optimizer = SGD([sn.Tensor([0.0], requires_grad=True)], lr=0.1)
    >>> scheduler = LambdaLR(optimizer, lambda epoch: min(1.0, (epoch + 1) / 4))  # warmup
    >>> [round(scheduler.get_last_lr()[0], 4)] + [
    ...     round((scheduler.step(), scheduler.get_last_lr()[0])[1], 4) for _ in range(4)]
    [0.025, 0.05, 0.075, 0.1, 0.1]
    """

    def get_lr(self) -> list[float]:
        return [base * f for f, base in zip(self._factors(), self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """Multiply the learning rate by ``lr_lambda(epoch)`` at every step after step 0:
    PyTorch's MultiplicativeLR.

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the step index returning a factor, or one per parameter group.
        last_epoch: see :class:`LRScheduler` (default -1).

    Saving: as :class:`LambdaLR`.
    """

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [g["lr"] * f for f, g in zip(self._factors(), self.optimizer.param_groups)]
