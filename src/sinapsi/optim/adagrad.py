"""Adagrad: per-coordinate learning rates shrinking with the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, scratch

__all__ = ["Adagrad", "adagrad_step"]


def adagrad_step(grad: Any, total: Any, lr: float, eps: float, out: Any = None) -> Any:
    """Adagrad's update math on arrays: ``total += grad**2`` (in place), and the step to
    subtract from the parameter, ``lr * grad / (sqrt(total) + eps)``, written into ``out``
    (an array shaped like ``grad``: a scratch buffer) or a new array. Used by
    :class:`Adagrad` and by word2vec's sparse Adagrad on the rows a batch uses."""
    xp = backend.get_array_module(grad)
    tmp = out if out is not None else xp.empty_like(grad)
    xp.multiply(grad, grad, out=tmp)
    total += tmp
    xp.sqrt(total, out=tmp)
    tmp += eps
    xp.divide(grad, tmp, out=tmp)
    tmp *= lr
    return tmp


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), PyTorch's algorithm::

        g = grad + weight_decay * p
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2                                  (s starts at initial_accumulator_value)
        p = p - lr_t * g / (sqrt(s) + eps)

    Defaults: lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        on_nonfinite: str = "raise",
    ) -> None:
        defaults = dict(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
        )  # fmt: skip
        super().__init__(params, defaults, on_nonfinite)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        for name in ("lr_decay", "initial_accumulator_value", "eps"):
            if not group[name] >= 0:
                raise ValueError(f"Invalid {name} value: {group[name]!r}. It must be >= 0.")

    def update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]):
        xp = backend.get_array_module(param.data)
        total = state.get("sum")
        if total is None:
            total = state["sum"] = xp.full_like(param.data, group["initial_accumulator_value"])
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        # one work array, no new arrays per step
        param.data -= adagrad_step(grad, total, clr, group["eps"], out=scratch(self, param))
