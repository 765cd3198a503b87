"""Adam and AdamW: momentum plus per-coordinate scaling, with bias correction."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from . import _numba
from .optimizer import Optimizer, check_range, scratch

__all__ = ["Adam", "AdamW", "adam_step"]


def adam_step(
    grad: Any,
    m: Any,
    v: Any,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    step: int,
    v_max: Any = None,
    out: Any = None,
) -> Any:
    """Adam's update math on arrays: the moments ``m``, ``v`` (and, for AMSGrad, ``v_max``)
    are updated in place, and the step to subtract from the parameter at step ``step``
    (counted from 1) is written into ``out`` (an array shaped like ``grad``: a scratch
    buffer) or a new array. Used by :class:`Adam` (whose optional numba kernel does the same
    operations in the same order) and by word2vec's sparse (lazy) Adam on the rows a batch
    uses."""
    xp = backend.get_array_module(grad)
    tmp = out if out is not None else xp.empty_like(grad)
    xp.subtract(grad, m, out=tmp)  # m += (1 - beta1) * (g - m): torch's lerp form
    tmp *= 1.0 - beta1
    m += tmp
    v *= beta2  # v += (1 - beta2) * g^2
    xp.multiply(grad, grad, out=tmp)
    tmp *= 1.0 - beta2
    v += tmp
    if v_max is not None:
        xp.maximum(v_max, v, out=v_max)
        v = v_max
    step_size = lr / (1.0 - beta1**step)
    xp.sqrt(v, out=tmp)  # denom = sqrt(v) / sqrt(1 - beta2^t) + eps
    tmp /= math.sqrt(1.0 - beta2**step)
    tmp += eps
    xp.divide(m, tmp, out=tmp)  # step = step_size * m / denom
    tmp *= step_size
    return tmp


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), PyTorch's algorithm::

        g = grad + weight_decay * p              (coupled L2; see AdamW for decoupled)
        m = beta1 * m + (1 - beta1) * g          (first moment: momentum)
        v = beta2 * v + (1 - beta2) * g^2        (second moment)
        v_max = max(v_max, v)                    (amsgrad only; then use v_max below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    ``eps`` is added after the bias correction of ``sqrt(v)``: it is the paper's epsilon,
    not Keras' "epsilon hat". Defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        on_nonfinite: str = "raise",
    ) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad)  # fmt: skip
        super().__init__(params, defaults, on_nonfinite)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas!r}. Give two numbers, e.g. (0.9, 0.999).")
        check_range("beta1", betas[0], 0.0, 1.0)
        check_range("beta2", betas[1], 0.0, 1.0)
        group["betas"] = (float(betas[0]), float(betas[1]))
        if not group["eps"] >= 0:
            raise ValueError(f"Invalid eps value: {group['eps']!r}. It must be >= 0.")

    def update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]):
        xp = backend.get_array_module(param.data)
        beta1, beta2 = group["betas"]
        m = state.get("exp_avg")
        if m is None:
            m = state["exp_avg"] = xp.zeros_like(param.data)
            state["exp_avg_sq"] = xp.zeros_like(param.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(param.data)
        v = state["exp_avg_sq"]
        t = state["step"]
        if not group["amsgrad"] and _numba.adam_update(
            param.data, grad, m, v, beta1, beta2, group["lr"], group["eps"], t
        ):
            return  # the same arithmetic, fused into one pass (optional numba; see _numba)
        # the step is written into one scratch buffer reused across steps: no new arrays per
        # step (large fresh arrays cost page faults), same arithmetic as written
        param.data -= adam_step(
            grad, m, v, lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], step=t,
            v_max=state["max_exp_avg_sq"] if group["amsgrad"] else None,
            out=scratch(self, param),
        )  # fmt: skip


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019)::

        p = p * (1 - lr * weight_decay)          (shrink the weights directly...)
        then the Adam update with g = grad       (...not through the gradient)

    Unlike L2 in Adam, the decay is not rescaled by the adaptive denominator. Default
    weight_decay=0.01, as in PyTorch.
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
        on_nonfinite: str = "raise",
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, on_nonfinite)

    def update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]):
        if group["weight_decay"]:
            param.data *= 1.0 - group["lr"] * group["weight_decay"]
        super().update(param, grad, state, group)
