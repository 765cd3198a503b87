"""Primitives kept whole for numerical stability: softmax and log_softmax.

Composed from exp/sum/div, softmax overflows for large inputs and its log loses precision;
shifting by the maximum and working in log space (log-sum-exp) avoids both.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import make_result
from ..tensor import Tensor
from ._util import normalize_axes, operand

__all__ = ["softmax", "log_softmax"]


def _shifted(op: str, x: Tensor, axis: int) -> tuple[Any, Any, int]:
    xp = backend.get_array_module(x.data)
    if x.ndim == 0:
        raise ValueError(f"{op}: needs at least 1 dimension; got a 0-d tensor.")
    ax = normalize_axes(op, axis, x.ndim)[0]  # type: ignore[index]
    return xp, x.data - x.data.max(axis=ax, keepdims=True), ax


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``: probabilities that sum to 1."""
    x = operand(x)
    xp, z, ax = _shifted("softmax", x, axis)
    e = xp.exp(z)
    y = e / e.sum(axis=ax, keepdims=True)

    def backward(g: Any) -> tuple[Any]:
        return (y * (g - (g * y).sum(axis=ax, keepdims=True)),)

    return make_result(y, "softmax", (x,), backward)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``: log-probabilities, stable for any input size."""
    x = operand(x)
    xp, z, ax = _shifted("log_softmax", x, axis)
    y = z - xp.log(xp.exp(z).sum(axis=ax, keepdims=True))

    def backward(g: Any) -> tuple[Any]:
        return (g - xp.exp(y) * g.sum(axis=ax, keepdims=True),)

    return make_result(y, "log_softmax", (x,), backward)
