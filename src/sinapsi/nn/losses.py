"""Loss functions (the *funzione di costo*): functional forms and Module wrappers.

Every loss takes ``reduction`` = ``"mean"`` (default), ``"sum"`` or ``"none"`` and follows
PyTorch's definitions, so numbers match ``torch.nn.functional``. Predictions and targets are
checked first: a shape mismatch, a label out of range or a float where class labels are
expected is an error that says which, instead of a silently broadcast loss.

Regression: :func:`mse_loss`, :func:`l1_loss`, :func:`huber_loss`.
Classification: :func:`binary_cross_entropy` (probabilities),
:func:`binary_cross_entropy_with_logits` (logits, stable), :func:`cross_entropy` (logits;
integer labels or class probabilities), :func:`nll_loss` (log-probabilities).
"""

from __future__ import annotations

from typing import Any

from .. import backend, ops
from .._errors import unknown_choice
from ..ops._util import operand, wrap
from ..tensor import Tensor
from .module import Module

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "NLLLoss", "get_loss",
]  # fmt: skip

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return ops.mean(loss)
    if reduction == "sum":
        return ops.sum(loss)
    if reduction == "none":
        return loss
    raise unknown_choice("reduction", name, _REDUCTIONS, reduction)


def _raw(value: Any, like: Tensor) -> Any:
    """``value``'s array (a Tensor's data, or the array-like itself) in ``like``'s module."""
    if isinstance(value, Tensor):
        return value.data
    return backend.get_array_module(like.data).asarray(value)


def _constant(value: Any, like: Tensor) -> Tensor:
    """``value`` (a target or weights) as a constant in ``like``'s dtype, cast once from the
    caller's own array: never through the default float32 first."""
    return wrap(_raw(value, like).astype(like.dtype, copy=False))


def _float_target(name: str, input: Tensor, target: Any) -> Tensor:
    """The target in the input's dtype (e.g. integer 0/1 labels become floats), with the
    input's exact shape. A target Tensor of the same dtype is used as is (it may need grad)."""
    shape = tuple(_raw(target, input).shape)
    if shape != input.shape:
        raise ValueError(
            f"{name}: prediction of shape {input.shape} and target of shape {shape} must "
            "have the same shape (no broadcasting, which would silently compare every prediction "
            "with every target). Reshape one, e.g. target.reshape(-1, 1)."
        )
    if isinstance(target, Tensor) and target.dtype == input.dtype:
        return target
    return _constant(target, input)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target)^2`` (regression)."""
    input = operand(input)
    diff = input - _float_target("mse_loss", input, target)
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|`` (regression, robust to outliers)."""
    input = operand(input)
    return _reduce(ops.abs(input - _float_target("l1_loss", input, target)), reduction, "l1_loss")


def huber_loss(input: Any, target: Any, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``: squared near zero,
    linear for outliers."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive. Received: delta={delta!r}")
    input = operand(input)
    d = input - _float_target("huber_loss", input, target)
    a = ops.abs(d)
    small = a.data < delta
    loss = ops.where(small, d * d * 0.5, (a - 0.5 * delta) * delta)
    return _reduce(loss, reduction, "huber_loss")


def _weighted(loss: Tensor, weight: Any) -> Tensor:
    return loss if weight is None else loss * _constant(weight, loss)


def binary_cross_entropy(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """``-(y log p + (1 - y) log(1 - p))`` for probabilities ``p`` in [0, 1].

    Logs are clamped at -100, as PyTorch does, so p = 0 or 1 gives a large finite loss. Prefer
    :func:`binary_cross_entropy_with_logits` on raw scores: it is exact where this one clamps.
    """
    input = operand(input)
    y = _float_target("binary_cross_entropy", input, target)
    p = input.data
    if p.size and (float(p.min()) < 0.0 or float(p.max()) > 1.0):
        raise ValueError(
            "binary_cross_entropy: every prediction must be a probability in [0, 1]; got values "
            f"from {float(p.min()):.4g} to {float(p.max()):.4g}. Apply a sigmoid first, or use "
            "binary_cross_entropy_with_logits on the raw scores."
        )
    loss = ops.binary_cross_entropy(input, y)
    return _reduce(_weighted(loss, weight), reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    input: Any, target: Any, weight: Any = None, pos_weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the logits.

    ``pos_weight`` multiplies the loss of positive targets (e.g. ``n_negative / n_positive``
    for unbalanced data); ``weight`` multiplies each element's loss.
    """
    name = "binary_cross_entropy_with_logits"
    input = operand(input)
    y = _float_target(name, input, target)
    loss = ops.bce_with_logits(input, y, pos_weight)
    return _reduce(_weighted(loss, weight), reduction, name)


def _check_labels(name: str, logits: Tensor, target: Tensor) -> Any:
    """Integer class labels of the right shape and range, as an array."""
    labels = target.data
    expected = logits.shape[:1] + logits.shape[2:]
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: class labels must be integers; got dtype {labels.dtype} with shape "
            f"{target.shape}. Convert them (y.astype('int64')), or pass class probabilities "
            f"with the input's shape {logits.shape}."
        )
    if tuple(labels.shape) != expected:
        raise ValueError(
            f"{name}: input of shape {logits.shape} (N, C, ...) needs labels of shape "
            f"{expected}; got {target.shape}."
        )
    check_label_range(name, labels, logits.shape[1])
    return labels


def check_label_range(owner: str, labels: Any, n_classes: int) -> None:
    """Raise IndexError naming the first label outside ``0..n_classes-1``."""
    if labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= n_classes:
            bad = low if low < 0 else high
            raise IndexError(
                f"{owner}: label {bad} is out of range for {n_classes} classes (valid labels are "
                f"0 to {n_classes - 1}). Give the last layer one output unit per class, and "
                "encode the labels as 0..C-1."
            )


def _class_last(x: Tensor) -> Tensor:
    """``(N, C, d1, ...)`` -> ``(N * d1 * ..., C)``; ``(N, C)`` unchanged."""
    if x.ndim == 2:
        return x
    axes = (0,) + tuple(range(2, x.ndim)) + (1,)
    return ops.reshape(ops.transpose(x, axes), (-1, x.shape[1]))


def _class_weights(name: str, weight: Any, n_classes: int, like: Tensor) -> Any:
    if weight is None:
        return None
    w = _constant(weight, like).data
    if tuple(w.shape) != (n_classes,):
        raise ValueError(
            f"{name}: weight must have one entry per class, shape ({n_classes},); got "
            f"{tuple(w.shape)}."
        )
    return w


def nll_loss(input: Any, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer labels given log-probabilities ``(N, C, ...)``.

    With class weights and ``reduction="mean"`` the sum is divided by the total weight of the
    labels, as in PyTorch.
    """
    name = "nll_loss"
    input = _class_axis_guard(name, operand(input))
    labels = _check_labels(name, input, operand(target))
    w = _class_weights(name, weight, input.shape[1], input)
    return _nll(input, labels, w, reduction, name)


def _class_axis_guard(name: str, x: Tensor) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{name}: input must have shape (N, C) or (N, C, d1, ...); got {x.shape}.")
    return x


def _nll(log_probs: Tensor, labels: Any, w: Any, reduction: str, name: str) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise unknown_choice("reduction", name, _REDUCTIONS, reduction)
    xp = backend.get_array_module(labels)
    flat = _class_last(log_probs)
    flat_labels = labels.reshape(-1)
    picked = -flat[xp.arange(flat_labels.shape[0]), flat_labels]
    if w is not None:
        w_i = w[flat_labels]
        picked = picked * wrap(w_i)
        if reduction == "mean":
            return ops.sum(picked) * (1.0 / float(w_i.sum()))
    if reduction == "none":
        return ops.reshape(picked, labels.shape)
    return _reduce(picked, reduction, name)


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """Softmax cross-entropy of logits ``(N, C, ...)`` against integer labels ``(N, ...)`` or
    class probabilities (same shape as the input).

    ``label_smoothing`` in [0, 1] mixes the targets with the uniform distribution; ``weight``
    gives each class a weight (for unbalanced data). Definitions are PyTorch's
    ``torch.nn.functional.cross_entropy``.
    """
    name = "cross_entropy"
    input = operand(input)
    target = operand(target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{name}: label_smoothing must be in [0, 1]. "
            f"Received: label_smoothing={label_smoothing!r}"
        )
    if reduction not in _REDUCTIONS:
        raise unknown_choice("reduction", name, _REDUCTIONS, reduction)
    _class_axis_guard(name, input)
    n_classes = input.shape[1]
    w = _class_weights(name, weight, n_classes, input)
    probabilities = target.dtype.kind == "f" and target.shape == input.shape
    if not probabilities and input.ndim == 2 and w is None and label_smoothing == 0:
        # the common case, one fused node: loss and gradient (softmax - onehot) in one pass
        labels = _check_labels(name, input, target)
        return ops.softmax_cross_entropy(input, labels, reduction)
    log_probs = ops.log_softmax(input, axis=1)
    shape = (1, n_classes) + (1,) * (input.ndim - 2)

    if probabilities:
        probs = _constant(target, input).data
        if label_smoothing > 0:
            probs = probs * (1.0 - label_smoothing) + label_smoothing / n_classes
        weighted = probs if w is None else probs * w.reshape(shape)
        per_sample = -ops.sum(log_probs * wrap(weighted), axis=1)
        return _reduce(per_sample, reduction, name)

    labels = _check_labels(name, input, target)
    nll = _nll(log_probs, labels, w, reduction, name)
    if label_smoothing == 0:
        return nll
    scaled = log_probs if w is None else log_probs * wrap(w.reshape(shape))
    smooth = -ops.sum(scaled, axis=1)
    if reduction == "mean":
        smooth = (
            ops.mean(smooth)
            if w is None
            else ops.sum(smooth) * (1.0 / float(w[labels.reshape(-1)].sum()))
        )
    elif reduction == "sum":
        smooth = ops.sum(smooth)
    return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)


class _Loss(Module):
    """Base of the loss modules: holds ``reduction`` and calls the functional form."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise unknown_choice("reduction", type(self).__name__, _REDUCTIONS, reduction)
        self.reduction = reduction

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction}


class MSELoss(_Loss):
    """Mean squared error; see :func:`mse_loss`."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error; see :func:`l1_loss`."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """Huber loss; see :func:`huber_loss`."""

    def __init__(self, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Any, target: Any) -> Tensor:
        return huber_loss(input, target, self.delta, self.reduction)

    def get_config(self) -> dict[str, Any]:
        return {"delta": self.delta, "reduction": self.reduction}


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities; see :func:`binary_cross_entropy`."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input: Any, target: Any) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits; see :func:`binary_cross_entropy_with_logits`."""

    def __init__(self, weight: Any = None, pos_weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input: Any, target: Any) -> Tensor:
        return binary_cross_entropy_with_logits(
            input, target, self.weight, self.pos_weight, self.reduction
        )


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits; see :func:`cross_entropy`."""

    def __init__(
        self, weight: Any = None, label_smoothing: float = 0.0, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self.weight, self.label_smoothing = weight, label_smoothing

    def forward(self, input: Any, target: Any) -> Tensor:
        return cross_entropy(input, target, self.weight, self.label_smoothing, self.reduction)

    def get_config(self) -> dict[str, Any]:
        return {"label_smoothing": self.label_smoothing, "reduction": self.reduction}


class NLLLoss(_Loss):
    """Negative log-likelihood on log-probabilities; see :func:`nll_loss`."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input: Any, target: Any) -> Tensor:
        return nll_loss(input, target, self.weight, self.reduction)


_LOSSES: dict[str, type[_Loss]] = {
    "mse": MSELoss,
    "mean_squared_error": MSELoss,
    "l1": L1Loss,
    "mae": L1Loss,
    "mean_absolute_error": L1Loss,
    "huber": HuberLoss,
    "bce": BCELoss,
    "binary_cross_entropy": BCELoss,
    "bce_with_logits": BCEWithLogitsLoss,
    "binary_cross_entropy_with_logits": BCEWithLogitsLoss,
    "cross_entropy": CrossEntropyLoss,
    "categorical_cross_entropy": CrossEntropyLoss,
    "nll": NLLLoss,
}


def get_loss(identifier: str | Module) -> Module:
    """A loss module from a name (``"mse"``, ``"cross_entropy"``, ...) or a Module/callable."""
    if isinstance(identifier, Module) or (callable(identifier) and not isinstance(identifier, str)):
        return identifier  # type: ignore[return-value]
    if isinstance(identifier, str) and identifier in _LOSSES:
        return _LOSSES[identifier]()
    raise unknown_choice("loss", "get_loss", _LOSSES, identifier)
