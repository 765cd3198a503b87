"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, check_range, scratch

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), PyTorch's algorithm::

        g = grad + weight_decay * p
        s = alpha * s + (1 - alpha) * g^2
        if centered:  m = alpha * m + (1 - alpha) * g;  d = sqrt(s - m^2) + eps
        else:         d = sqrt(s) + eps
        if momentum:  b = momentum * b + g / d;  p = p - lr * b
        else:         p = p - lr * g / d

    Note ``eps`` is added outside the square root (Keras adds it inside). Defaults: lr=0.01,
    alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        on_nonfinite: str = "raise",
    ) -> None:
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
            centered=centered,
        )  # fmt: skip
        super().__init__(params, defaults, on_nonfinite)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_range("alpha", group["alpha"], 0.0, 1.0)
        check_range("momentum", group["momentum"], 0.0, 1.0)
        if not group["eps"] >= 0:
            raise ValueError(f"Invalid eps value: {group['eps']!r}. It must be >= 0.")

    def update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]):
        xp = backend.get_array_module(param.data)
        alpha = group["alpha"]
        square_avg = state.get("square_avg")
        if square_avg is None:
            square_avg = state["square_avg"] = xp.zeros_like(param.data)
        tmp = scratch(self, param)  # one work array, no new arrays per step
        square_avg *= alpha  # s = alpha * s + (1 - alpha) * g^2
        xp.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - alpha
        square_avg += tmp
        if group["centered"]:
            grad_avg = state.get("grad_avg")
            if grad_avg is None:
                grad_avg = state["grad_avg"] = xp.zeros_like(param.data)
            xp.subtract(grad, grad_avg, out=tmp)  # m += (1 - alpha) * (g - m): torch's lerp
            tmp *= 1.0 - alpha
            grad_avg += tmp
            xp.multiply(grad_avg, grad_avg, out=tmp)  # d = sqrt(s - m^2)
            xp.subtract(square_avg, tmp, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(square_avg, out=tmp)
        tmp += group["eps"]
        xp.divide(grad, tmp, out=tmp)  # g / d
        if group["momentum"] > 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = xp.zeros_like(param.data)
            buf *= group["momentum"]
            buf += tmp
            xp.multiply(buf, group["lr"], out=tmp)
        else:
            tmp *= group["lr"]
        param.data -= tmp
