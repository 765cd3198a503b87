"""Binary cross-entropy, kept whole for numerical stability (and, averaged, as one node).

- bce_with_logits: the stable form of binary cross-entropy on logits, one pass each way.
- bce_with_logits_mean: its mean as one graph node, the default reduction of
  ``binary_cross_entropy_with_logits``: a small network pays per op (a replay, a backward
  closure, a filled gradient array), and the mean's backward folds into the logits' gradient.
- binary_cross_entropy: on probabilities, logs clamped at -100 and PyTorch's backward, which
  stays finite at p = 0 or 1 (composed, the backward of log would divide 0 by 0 there).
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import make_result
from ..tensor import Tensor
from ._util import keep, pair, reused, scalar_array
from .nn import _array

__all__ = ["binary_cross_entropy", "bce_with_logits", "bce_with_logits_mean"]


def binary_cross_entropy(probs: Any, target: Any) -> Tensor:
    """Elementwise ``-(y log p + (1 - y) log(1 - p))`` for ``p`` in [0, 1], logs clamped at
    -100 (as ``torch.nn.functional.binary_cross_entropy``).

    The gradient is PyTorch's ``(p - y) / max(p (1 - p), 1e-12)``: finite at p = 0 or 1. A
    target that requires grad gets ``log(1 - p) - log(p)`` (clamped logs), as in PyTorch.
    """
    p, y = pair("binary_cross_entropy", probs, target)
    xp = backend.get_array_module(p.data)
    P, Y = p.data, y.data  # noqa: N806
    with backend.errstate(xp, divide="ignore"):  # log(0) = -inf, then clamped
        log_p = xp.maximum(xp.log(P), -100.0)
        log_1mp = xp.maximum(xp.log1p(-P), -100.0)
    data = -(Y * log_p + (1.0 - Y) * log_1mp)
    if data.ndim == 0:  # NumPy scalars: 0-d arrays, which a replay refills
        log_p, log_1mp, data = _array(xp, log_p), _array(xp, log_1mp), _array(xp, data)

    def replay() -> None:  # target too: the caller's array, read now
        with backend.errstate(xp, divide="ignore"):
            xp.maximum(xp.log(P), -100.0, out=log_p)
            xp.maximum(xp.log1p(-P), -100.0, out=log_1mp)
        xp.negative(Y * log_p + (1.0 - Y) * log_1mp, out=data)

    def backward(g: Any) -> tuple[Any, Any]:
        gp = g * (P - Y) / xp.maximum(P * (1.0 - P), 1e-12) if p.requires_grad else None
        return gp, (g * (log_1mp - log_p) if y.requires_grad else None)

    return make_result(data, "binary_cross_entropy", (p, y), backward, replay)


def bce_with_logits(logits: Any, target: Any, pos_weight: Any = None) -> Tensor:
    """Elementwise binary cross-entropy of ``sigmoid(logits)`` against ``target`` in [0, 1].

    ``max(z, 0) - z*y + log(1 + exp(-|z|))``, with ``pos_weight`` scaling the positive term as in
    ``torch.nn.functional.binary_cross_entropy_with_logits``. Never overflows; the gradient with
    respect to the logits is ``sigmoid(z) - y`` (weighted). A target that requires grad gets
    ``-z`` (plus ``(pos_weight - 1) * softplus(-z)``), as in PyTorch.
    """
    z, y = _logits_and_targets(logits, target)
    xp = backend.get_array_module(z.data)
    Z, Y = z.data, y.data  # noqa: N806
    if pos_weight is None:  # the elements written in place, here and by every replay
        data, softplus_neg_abs = xp.empty_like(Z), xp.empty_like(Z)
        zero = scalar_array(xp, 0.0, Z.dtype)
        _fill_terms(xp, Z, Y, zero, data, softplus_neg_abs)
    else:
        softplus_neg_abs = xp.log1p(xp.exp(-xp.abs(Z)))
        pw = pos_weight.data if isinstance(pos_weight, Tensor) else xp.asarray(pos_weight, Z.dtype)
        weight = _array(xp, 1.0 + (pw - 1.0) * Y)
        data = (1.0 - Y) * Z + weight * (softplus_neg_abs + xp.maximum(-Z, 0.0))
        if data.ndim == 0:  # NumPy scalars: 0-d arrays, which a replay refills
            softplus_neg_abs, data = _array(xp, softplus_neg_abs), _array(xp, data)

    def replay() -> None:  # target and pos_weight too: arrays held by reference, read now
        if pos_weight is None:
            _fill_terms(xp, Z, Y, zero, data, softplus_neg_abs)
        else:
            xp.log1p(xp.exp(-xp.abs(Z)), out=softplus_neg_abs)
            xp.add(1.0, (pw - 1.0) * Y, out=weight)
            xp.add((1.0 - Y) * Z, weight * (softplus_neg_abs + xp.maximum(-Z, 0.0)), out=data)

    def backward(g: Any) -> tuple[Any, Any]:
        gz = gy = None
        if z.requires_grad:
            s = backend.special(xp).expit(Z)
            gz = g * (s - Y) if pos_weight is None else g * ((1.0 - Y) - weight * (1.0 - s))
        if y.requires_grad:
            gy = -g * Z
            if pos_weight is not None:
                gy += g * (pw - 1.0) * (softplus_neg_abs + xp.maximum(-Z, 0.0))
        return gz, gy

    return make_result(data, "bce_with_logits", (z, y), backward, replay)


def bce_with_logits_mean(logits: Any, target: Any) -> Tensor:
    """``mean(bce_with_logits(logits, target))`` as one node, with the same bits: the elements
    ``max(z, 0) - z*y + log(1 + exp(-|z|))`` summed as ``ndarray.sum`` does, times ``1 / n``
    (NaN for no element, as ``mean``). The gradient with respect to the logits is
    ``(sigmoid(z) - y) * (g / n)`` in one new array; a target that requires grad gets
    ``-(g / n) * z``."""
    z, y = _logits_and_targets(logits, target)
    xp = backend.get_array_module(z.data)
    Z, Y = z.data, y.data  # noqa: N806
    n = Z.size
    scale = 1.0 / n if n else float("nan")
    dtype = Z.dtype
    terms, softplus = xp.empty_like(Z), xp.empty_like(Z)  # refilled by every replay
    data = xp.empty((), dtype)
    zero, factor = scalar_array(xp, 0.0, dtype), scalar_array(xp, scale, dtype)
    numpy = xp is backend.numpy

    def replay() -> None:  # target too: the caller's array, read now
        _fill_terms(xp, Z, Y, zero, terms, softplus)
        if numpy:  # ndarray.sum's own reduction, minus its Python wrapper
            xp.add.reduce(terms, axis=None, out=data)
        else:
            terms.sum(out=data)
        xp.multiply(data, factor, out=data)

    replay()

    def backward(g: Any) -> tuple[Any, Any]:
        share = g * scale  # what mean's backward spreads over the elements
        gz = gy = None
        if z.requires_grad:
            gz = _array(xp, backend.special(xp).expit(Z, out=reused()))
            xp.subtract(gz, Y, out=gz)
            keep(xp.multiply(gz, share, out=gz))
        if y.requires_grad:
            gy = -share * Z
        return gz, gy

    return make_result(data, "bce_with_logits_mean", (z, y), backward, replay)


def _logits_and_targets(logits: Any, target: Any) -> tuple[Tensor, Tensor]:
    """The two operands of bce_with_logits, which must have one shape."""
    z, y = pair("bce_with_logits", logits, target)
    if z.data.shape != y.data.shape:
        raise ValueError(
            f"bce_with_logits: logits of shape {z.shape} and target of shape {y.shape} must "
            "have the same shape."
        )
    return z, y


def _fill_terms(xp: Any, Z: Any, Y: Any, zero: Any, terms: Any, softplus: Any) -> None:  # noqa: N803
    """``terms = max(z, 0) - z*y + softplus`` with ``softplus = log(1 + exp(-|z|))``, both in
    place, the operations in the expression's order (so its bits); ``zero``: a 0-d zero."""
    xp.multiply(Z, Y, out=softplus)  # z*y, for now
    xp.maximum(Z, zero, out=terms)
    xp.subtract(terms, softplus, out=terms)
    xp.abs(Z, out=softplus)
    xp.negative(softplus, out=softplus)
    xp.exp(softplus, out=softplus)
    xp.log1p(softplus, out=softplus)
    xp.add(terms, softplus, out=terms)
