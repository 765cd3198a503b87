"""Activations composed from primitive ops: no backward of their own, autograd derives it.

Each is written so that no intermediate overflows for large ``|x|`` (the exponentials only ever
see non-positive arguments, or arguments below a threshold), and so that the gradient at the
kink matches PyTorch's choice. Every value, masks included, comes from an op (``gt(x, 0)``, not
``x.data > 0``), so a captured step (:func:`sinapsi.capture`) replays them all.
"""

from __future__ import annotations

import math
from typing import Any

from . import ops
from .ops import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    log_softmax,
    max_pool2d,
    pad,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from .ops._util import operand
from .ops.compare import ge, gt
from .tensor import Tensor

# The primitives are re-exported too, so code written for torch.nn.functional
# (``F.relu(self.conv1(x))``, ``F.max_pool2d(x, 2)``) runs with ``import sinapsi.functional as F``.
__all__ = [
    "leaky_relu", "elu", "gelu", "softplus", "relu6", "silu",
    "relu", "sigmoid", "tanh", "softmax", "log_softmax",
    "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "pad",
]  # fmt: skip


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x`` (gradient at 0: ``negative_slope``)."""
    x = operand(x)
    return ops.where(gt(x, 0), x, x * negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``; exp only sees non-positive values."""
    x = operand(x)
    positive = gt(x, 0)
    negative_part = ops.where(positive, 0.0, x)
    return ops.where(positive, x, (ops.exp(negative_part) - 1.0) * alpha)


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)``.

    ``approximate="none"`` uses the exact normal CDF (erf); ``"tanh"`` uses the tanh formula
    of the original paper, as ``torch.nn.functional.gelu`` does for the same argument.
    """
    x = operand(x)
    if approximate == "none":
        return x * 0.5 * (ops.erf(x * (1.0 / math.sqrt(2.0))) + 1.0)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (ops.tanh(inner) + 1.0)
    raise ValueError(
        f"gelu: approximate must be a str among {{'none', 'tanh'}}. Got {approximate!r} instead."
    )


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    Same definition as ``torch.nn.functional.softplus``; exp never sees more than ``threshold``.
    """
    x = operand(x)
    bx = x * beta
    linear = gt(bx, threshold)
    safe = ops.where(linear, 0.0, bx)
    return ops.where(linear, x, ops.log1p(ops.exp(safe)) * (1.0 / beta))


def relu6(x: Any) -> Tensor:
    """``min(max(x, 0), 6)``; the gradient is 0 at both kinks, as in PyTorch."""
    x = operand(x)
    return ops.where(ge(x, 6), 6.0, ops.relu(x))


def silu(x: Any) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    x = operand(x)
    return x * ops.sigmoid(x)
