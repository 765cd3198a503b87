"""Gradient clipping, a remedy for exploding gradients: rescale or cap gradients in place."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .. import backend
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(params: Iterable[Tensor] | Tensor) -> list[Tensor]:
    items = [params] if isinstance(params, Tensor) else list(params)
    return [p for p in items if p.grad is not None]


def clip_grad_norm_(
    params: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so their total norm is at most ``max_norm``.

    The total norm is the norm of all gradients seen as one vector (``norm_type`` 2 by default,
    ``math.inf`` for the largest absolute value). If it exceeds ``max_norm``, every gradient is
    multiplied by ``max_norm / (total + 1e-6)``, as in ``torch.nn.utils.clip_grad_norm_``; the
    direction of the update is kept. Returns the total norm *before* clipping (worth logging:
    a growing norm is the sign of exploding gradients).
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be positive. Received: {max_norm!r}")
    grads = [p.grad for p in _with_grads(params)]
    if not grads:
        return 0.0
    xp = backend.get_array_module(grads[0])
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(xp.abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        if norm_type == 2.0:  # one BLAS dot per gradient, no temporary arrays
            per = [float(xp.vdot(g, g)) for g in grads]
        else:
            per = [float(xp.sum(xp.abs(g) ** norm_type)) for g in grads]
        total = math.fsum(per) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise FloatingPointError(
            f"clip_grad_norm_: the total gradient norm is {total}; some gradient holds NaN or "
            "Inf. Lower the learning rate or find the op with sinapsi.detect_anomaly()."
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return total


def clip_grad_value_(params: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clip every gradient element to ``[-clip_value, clip_value]`` in place."""
    if not clip_value > 0:
        raise ValueError(f"clip_grad_value_: clip_value must be positive. Received: {clip_value!r}")
    for p in _with_grads(params):
        xp = backend.get_array_module(p.grad)
        xp.clip(p.grad, -clip_value, clip_value, out=p.grad)
