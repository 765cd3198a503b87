"""Loss functions (the *funzione di costo*): functional forms and Module wrappers.

Every loss takes ``reduction`` = ``"mean"`` (default), ``"sum"`` or ``"none"`` and follows
PyTorch's definitions, so numbers match ``torch.nn.functional``. Predictions and targets are
checked first: a shape mismatch, a label out of range or a float where class labels are
expected is an error that says which, instead of a silently broadcast loss.

Regression: :func:`mse_loss`, :func:`l1_loss`, :func:`huber_loss`.
Classification: :func:`binary_cross_entropy` (probabilities),
:func:`binary_cross_entropy_with_logits` (logits, stable), :func:`cross_entropy` (logits;
integer labels or class probabilities), :func:`nll_loss` (log-probabilities); the squared error
of the softmax, ``softmax_mse_loss``, is in :mod:`sinapsi.nn.probability_losses`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import backend, ops
from .._errors import unknown_choice
from ..autograd import make_result
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


def _derived(
    name: str, compute: Callable[[], Any], check: Callable[[], None] | None = None
) -> Tensor:
    """``compute()``, an array made from arrays held by reference (labels, targets, class
    weights) outside any differentiable op, as a constant op result: its replay computes it
    again in place, so a captured step (:func:`sinapsi.capture`) follows the current labels.
    ``check`` (replay only) raises where the eager call would now take another path."""
    data = compute()
    if isinstance(data, backend.numpy.generic):
        data = backend.numpy.asarray(data)

    def replay() -> None:
        if check is not None:
            check()
        data[...] = compute()

    return make_result(data, name, (), lambda g: (), replay)


def _constant(value: Any, like: Tensor) -> Tensor:
    """``value`` (a target or weights) as a constant in ``like``'s dtype, cast once from the
    caller's own array: never through the default float32 first. An array already in that
    dtype is held itself (a replay reads its values then); a cast copy is an op that a replay
    casts again."""
    raw, dtype = _raw(value, like), like.dtype
    cast = raw.astype(dtype, copy=False)
    if cast is raw:
        return wrap(cast)
    return _derived("astype", lambda: raw.astype(dtype, copy=False))


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
    small = _derived("less", lambda: a.data < delta)  # replayed: the current |d|
    loss = ops.where(small, d * d * 0.5, (a - 0.5 * delta) * delta)
    return _reduce(loss, reduction, "huber_loss")


def _check_unit_interval(name: str, what: str, values: Any) -> None:
    """Raise naming the first value outside [0, 1] (a label or a probability)."""
    if values.size and (float(values.min()) < 0.0 or float(values.max()) > 1.0):
        xp = backend.get_array_module(values)
        k = int(xp.flatnonzero(((values < 0) | (values > 1)).reshape(-1))[0])
        pos = tuple(int(i) for i in backend.numpy.unravel_index(k, values.shape))
        raise ValueError(
            f"{name}: {what} must be in [0, 1]; got {float(values.reshape(-1)[k]):g} at index "
            f"{pos}. Use 0/1 labels or probabilities (scale or clip the targets), not "
            "class indices or signed values."
        )


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
    _check_unit_interval("binary_cross_entropy", "every target", y.data)
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
    _check_unit_interval(name, "every target", y.data)
    if reduction == "mean" and weight is None and pos_weight is None:
        return ops.bce_with_logits_mean(input, y)  # one node, the same bits
    loss = ops.bce_with_logits(input, y, pos_weight)
    return _reduce(_weighted(loss, weight), reduction, name)


def _label_array(name: str, target: Any, logits: Tensor) -> Any:
    """The user's labels as an array, in the dtype they were given (never through float32)."""
    labels = _raw(target, logits)
    if labels.dtype.kind not in "iu":
        values = ", ".join(repr(v) for v in backend.to_numpy(labels).reshape(-1)[:5].tolist())
        more = ", ..." if labels.size > 5 else ""
        raise TypeError(
            f"{name}: class labels must be integers; got {labels.dtype} labels of shape "
            f"{tuple(labels.shape)} (values {values}{more}). Convert them "
            f"(y.astype('int64')), or pass class probabilities with the input's shape "
            f"{logits.shape}."
        )
    return labels


def _check_labels(name: str, logits: Tensor, target: Any, ignore_index: int) -> tuple[Any, bool]:
    """Integer class labels of the right shape and range, as an array, and whether any of
    them is ``ignore_index`` (those are exempt from the range check)."""
    labels = _label_array(name, target, logits)
    expected = logits.shape[:1] + logits.shape[2:]
    if tuple(labels.shape) != expected:
        raise ValueError(
            f"{name}: input of shape {logits.shape} (N, C, ...) needs labels of shape "
            f"{expected}; got {tuple(labels.shape)}."
        )
    return labels, check_label_range(name, labels, logits.shape[1], ignore_index)


def check_label_range(
    owner: str, labels: Any, n_classes: int, ignore_index: int | None = None
) -> bool:
    """Raise IndexError naming the first label outside ``0..n_classes-1`` that is not
    ``ignore_index``; return whether any label is ``ignore_index``."""
    if not labels.size:
        return False
    low, high = int(labels.min()), int(labels.max())
    if 0 <= low and high < n_classes:  # all in range: ignored only if ignore_index is a class
        return (
            ignore_index is not None
            and 0 <= ignore_index < n_classes
            and bool((labels == ignore_index).any())
        )
    ignored = ignore_index is not None and bool((labels == ignore_index).any())
    if ignored:
        kept = labels[labels != ignore_index]
        if not kept.size:
            return True
        low, high = int(kept.min()), int(kept.max())
    if low < 0 or high >= n_classes:
        bad = low if low < 0 else high
        raise IndexError(
            f"{owner}: label {bad} is out of range for {n_classes} classes (valid labels are "
            f"0 to {n_classes - 1}"
            + (f", or ignore_index={ignore_index}" if ignore_index is not None else "")
            + "). Give the last layer one output unit per class, and encode the labels as 0..C-1."
        )
    return ignored


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


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    ignore_index: int = -100,
) -> Tensor:
    """Negative log-likelihood of integer labels given log-probabilities ``(N, C, ...)``.

    With class weights and ``reduction="mean"`` the sum is divided by the total weight of the
    labels, as in PyTorch. Labels equal to ``ignore_index`` (default -100, as PyTorch) add
    nothing and do not count in the mean; if every label is ignored the mean is NaN, as in
    PyTorch.
    """
    name = "nll_loss"
    input = operand(input)
    if input.ndim == 1:  # one unbatched sample (C,), as torch: a batch of one, then back
        out = nll_loss(
            ops.expand_dims(input, 0), _one_more(name, input, target), weight, reduction,
            ignore_index,
        )  # fmt: skip
        return ops.reshape(out, ()) if reduction == "none" else out
    _class_axis_guard(name, input)
    labels, ignored = _check_labels(name, input, target, ignore_index)
    w = _class_weights(name, weight, input.shape[1], input)
    return _nll(input, labels, w, reduction, name, ignore_index if ignored else None, ignore_index)


def _class_axis_guard(name: str, x: Tensor) -> Tensor:
    if x.ndim < 2:
        raise ValueError(
            f"{name}: input must have shape (C,), (N, C) or (N, C, d1, ...); got {x.shape}. "
            "Give the model one output per class."
        )
    return x


def _one_more(name: str, input: Tensor, target: Any) -> Any:
    """The target of one unbatched sample ``(C,)`` as a batch of one (a Tensor keeps its
    graph): one integer label (0-d), or ``C`` class probabilities."""
    raw = _raw(target, input)
    if raw.ndim != 0 and not (raw.dtype.kind == "f" and tuple(raw.shape) == input.shape):
        raise ValueError(
            f"{name}: an input of shape {input.shape} is one sample with {input.shape[0]} class "
            f"scores, which needs one integer label (0-d) or {input.shape[0]} class "
            f"probabilities; got a target of shape {tuple(raw.shape)}. For N samples the "
            "input must have shape (N, C), one score per class."
        )
    return ops.expand_dims(target, 0) if isinstance(target, Tensor) else raw[None]


def _label_weights(labels: Any, w: Any, ignore_index: int | None, like: Tensor) -> Any:
    """Each label's weight (flat): its class weight, 0 where ignored; None if all are 1. A
    constant op that a replay computes from the current labels."""
    if ignore_index is None and w is None:
        return None

    def weights() -> Any:
        flat = labels.reshape(-1)
        if ignore_index is None:
            return w[flat]
        keep = flat != ignore_index
        if w is None:
            return keep.astype(like.dtype)
        return w[backend.get_array_module(flat).where(keep, flat, 0)] * keep

    return _derived("label_weights", weights)


def _mean_scale(w_i: Tensor) -> Tensor:
    """``1 / sum(w_i)``, NaN when nothing counts (every label ignored), as PyTorch's 0 / 0: a
    0-d constant in ``w_i``'s dtype (as the Python float it was is cast), recomputed by a
    replay."""
    scalar = w_i.data.dtype.type

    def scale() -> Any:
        total = float(w_i.data.sum())
        return scalar(1.0 / total if total else float("nan"))

    return _derived("mean_scale", scale)


def _nll(
    log_probs: Tensor,
    labels: Any,
    w: Any,
    reduction: str,
    name: str,
    ignore_index: int | None = None,
    watch: int | None = None,
) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise unknown_choice("reduction", name, _REDUCTIONS, reduction)
    xp = backend.get_array_module(labels)
    flat = _class_last(log_probs)

    def picks() -> Any:  # from the caller's labels: a replay picks by their values then
        flat = labels.reshape(-1)
        return flat if ignore_index is None else xp.where(flat != ignore_index, flat, 0)

    def same_path() -> None:  # whether a label is `watch` chose the eager path: still so?
        if bool((labels == watch).any()) != (ignore_index is not None):
            raise RuntimeError(
                f"{name}: whether a label is ignore_index={watch} changed since the step was "
                "captured, which changes how the loss is computed; run this batch eagerly."
            )

    flat_labels = _derived("labels", picks, None if watch is None else same_path)
    picked = -flat[xp.arange(labels.size), flat_labels]
    w_i = _label_weights(labels, w, ignore_index, log_probs)
    if w_i is not None:
        picked = picked * w_i
        if reduction == "mean":
            return ops.sum(picked) * _mean_scale(w_i)
    if reduction == "none":
        return ops.reshape(picked, labels.shape)
    return _reduce(picked, reduction, name)


def _probability_target(name: str, input: Tensor, target: Any) -> Tensor:
    """Class probabilities in the input's dtype, in [0, 1]; a Tensor of that dtype is used as
    is, so a target that requires grad gets one."""
    probs = _float_target(name, input, target)
    _check_unit_interval(name, "class probabilities (soft labels)", probs.data)
    return probs


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    ignore_index: int = -100,
) -> Tensor:
    """Softmax cross-entropy of logits ``(N, C, ...)`` against integer labels ``(N, ...)`` or
    class probabilities (same shape as the input, values in [0, 1]).

    ``label_smoothing`` in [0, 1] mixes the targets with the uniform distribution; ``weight``
    gives each class a weight (for unbalanced data); labels equal to ``ignore_index`` (default
    -100) add nothing and do not count in the mean (NaN if every label is ignored). A
    probability target that requires grad gets its gradient. Definitions are PyTorch's
    ``torch.nn.functional.cross_entropy``.
    """
    name = "cross_entropy"
    input = operand(input)
    if input.ndim == 1:  # one unbatched sample (C,), as torch: a batch of one, then back
        out = cross_entropy(
            ops.expand_dims(input, 0), _one_more(name, input, target), weight, label_smoothing,
            reduction,
            ignore_index,
        )  # fmt: skip
        return ops.reshape(out, ()) if reduction == "none" else out
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
    raw = _raw(target, input)
    probabilities = raw.dtype.kind == "f" and tuple(raw.shape) == input.shape
    if probabilities:
        probs = _probability_target(name, input, target)
    else:
        labels, ignored = _check_labels(name, input, target, ignore_index)
        if not ignored and input.ndim == 2 and w is None and label_smoothing == 0:
            # the common case, one fused node: loss and gradient (softmax - onehot) in one pass
            return ops.softmax_cross_entropy(input, labels, reduction, ignore_index)
    log_probs = ops.log_softmax(input, axis=1)
    shape = (1, n_classes) + (1,) * (input.ndim - 2)

    if probabilities:
        if label_smoothing > 0:
            probs = probs * (1.0 - label_smoothing) + label_smoothing / n_classes
        if w is not None:
            probs = probs * wrap(w.reshape(shape))
        per_sample = -ops.sum(log_probs * probs, axis=1)
        return _reduce(per_sample, reduction, name)

    skip = ignore_index if ignored else None
    nll = _nll(log_probs, labels, w, reduction, name, skip, ignore_index)
    if label_smoothing == 0:
        return nll
    scaled = log_probs if w is None else log_probs * wrap(w.reshape(shape))
    smooth = -ops.sum(scaled, axis=1)
    if skip is not None:
        dtype = input.dtype
        smooth = smooth * _derived("kept", lambda: (labels != skip).astype(dtype))
    if reduction == "mean":
        w_i = _label_weights(labels, w, skip, input)
        smooth = ops.mean(smooth) if w_i is None else ops.sum(smooth) * _mean_scale(w_i)
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
        self,
        weight: Any = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        ignore_index: int = -100,
    ) -> None:
        super().__init__(reduction)
        self.weight, self.label_smoothing = weight, label_smoothing
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Tensor:
        return cross_entropy(
            input, target, self.weight, self.label_smoothing, self.reduction, self.ignore_index
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "label_smoothing": self.label_smoothing,
            "reduction": self.reduction,
            "ignore_index": self.ignore_index,
        }


class NLLLoss(_Loss):
    """Negative log-likelihood on log-probabilities; see :func:`nll_loss`."""

    def __init__(
        self, weight: Any = None, reduction: str = "mean", ignore_index: int = -100
    ) -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input: Any, target: Any) -> Tensor:
        return nll_loss(input, target, self.weight, self.reduction, self.ignore_index)

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "ignore_index": self.ignore_index}


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
    error = unknown_choice("loss", "get_loss", _LOSSES, identifier)
    if isinstance(identifier, str) and identifier in _KERAS_CROSS_ENTROPY:
        raise ValueError(f"{error} {_KERAS_CROSS_ENTROPY[identifier]}")
    raise error


# Keras' spellings are not aliases: their default (from_logits=False) takes probabilities
_KERAS_CROSS_ENTROPY = {
    name: f"Keras' {name} takes probabilities by default; use loss='cross_entropy', which "
    "takes logits as Keras' from_logits=True does: leave the Softmax out of the model."
    for name in ("sparse_categorical_crossentropy", "categorical_crossentropy")
}
_KERAS_CROSS_ENTROPY["binary_crossentropy"] = (
    "Keras' binary_crossentropy is loss='bce' on probabilities (a Sigmoid ends the model), or "
    "loss='bce_with_logits' on logits (Keras' from_logits=True)."
)
