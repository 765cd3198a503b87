"""Losses on the class probabilities ``softmax(logits)`` rather than on their logarithm.

:func:`softmax_mse_loss` is the squared error between ``softmax(logits)`` and the one-hot
labels: the loss the TensorFlow Playground trains classifiers with, and Keras' ``mse`` on
softmax outputs with one-hot targets. Next to :func:`~sinapsi.nn.cross_entropy` it shows why
cross-entropy is preferred: a confidently wrong softmax saturates, so its squared error gives a
vanishing gradient where cross-entropy's stays ``softmax - onehot``. Registered as
``loss="softmax_mse"`` (a classification loss: the model outputs one logit per class).
"""

from __future__ import annotations

from typing import Any

from .. import backend
from .._errors import unknown_choice
from ..autograd import make_result
from ..ops._util import operand
from ..tensor import Tensor
from .losses import _LOSSES, _REDUCTIONS, _check_labels, _derived, _Loss, _probability_target, _raw

__all__ = ["softmax_mse_loss", "SoftmaxMSELoss"]


def softmax_mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error between ``softmax(input)`` (N, C) and one-hot ``target`` labels (N,).

    The mean runs over all ``N * C`` entries, as ``torch.nn.functional.mse_loss(
    torch.softmax(input, 1), one_hot(target, C).float())``; ``reduction="none"`` returns the
    (N, C) squared errors. Labels are integers 0..C-1 (checked as :func:`cross_entropy` checks
    them); class probabilities with the input's shape are accepted as the target too.
    """
    name = "softmax_mse_loss"
    input = operand(input)
    if input.ndim != 2:
        raise ValueError(
            f"{name}: input must have shape (N, C), one score per class; got {input.shape}. "
            "Give the model one output per class (a batch of one sample is (1, C))."
        )
    if reduction not in _REDUCTIONS:
        raise unknown_choice("reduction", name, _REDUCTIONS, reduction)
    raw = _raw(target, input)
    if raw.dtype.kind == "f" and tuple(raw.shape) == input.shape:
        goal = _probability_target(name, input, target)
    else:
        labels, _ = _check_labels(name, input, target, None)  # type: ignore[arg-type]
        xp = backend.get_array_module(input.data)
        shape, dtype, rows = input.shape, input.dtype, xp.arange(input.shape[0])

        def onehot() -> Any:  # from the caller's labels: a replay reads their values then
            out = xp.zeros(shape, dtype=dtype)
            out[rows, labels] = 1.0
            return out

        goal = _derived("onehot", onehot)
    return _softmax_mse(input, goal, reduction)


def _softmax_mse(z: Tensor, goal: Tensor, reduction: str) -> Tensor:
    """The fused op: one node, one pass each way (composed it is five nodes, twice the time
    of the fused cross-entropy). With ``s = softmax(z)``, ``d = s - t`` and ``G = 2 d g`` (g
    scaled by the reduction): ``dz = s (G - sum(G s))`` row by row, ``dt = -G``."""
    xp = backend.get_array_module(z.data)
    Z, T = z.data, goal.data  # noqa: N806 - T: the target, held by reference
    shifted = Z - (Z.max(axis=1, keepdims=True) if z.size else 0.0)
    e = xp.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    s = e / total
    d = s - T
    sq = d * d
    scale = 1.0 / sq.size if sq.size else float("nan")  # the mean of nothing is 0 / 0, as torch
    if reduction == "mean":
        data = xp.asarray(sq.sum() * scale)
    elif reduction == "sum":
        data = xp.asarray(sq.sum())
    else:
        data = sq

    def replay() -> None:  # the forward's steps into its arrays
        if not sq.size:
            data[...] = sq.sum() * scale if reduction == "mean" else sq.sum()
            return
        xp.subtract(Z, Z.max(axis=1, keepdims=True), out=shifted)
        xp.exp(shifted, out=e)
        xp.sum(e, axis=1, keepdims=True, out=total)
        xp.divide(e, total, out=s)
        xp.subtract(s, T, out=d)
        xp.multiply(d, d, out=sq)
        if reduction == "mean":
            data[...] = sq.sum() * scale
        elif reduction == "sum":
            data[...] = sq.sum()

    def backward(g: Any) -> tuple[Any, Any]:
        grad = d * (2.0 * g * scale if reduction == "mean" else 2.0 * g)
        gz = s * (grad - (grad * s).sum(axis=1, keepdims=True)) if z.requires_grad else None
        return gz, (-grad if goal.requires_grad else None)

    return make_result(data, "softmax_mse", (z, goal), backward, replay)


class SoftmaxMSELoss(_Loss):
    """Squared error of the softmax against one-hot labels; see :func:`softmax_mse_loss`."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return softmax_mse_loss(input, target, self.reduction)


# get_loss("softmax_mse"): sinapsi.nn imports this module, so every get_loss caller sees it
_LOSSES["softmax_mse"] = SoftmaxMSELoss
